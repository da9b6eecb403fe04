#include "mup/error.h"

#include <stdlib.h>
#include <string.h>

#define MUP_MSG_MAX 1024

static _Thread_local char tls_message[MUP_MSG_MAX];

static mup_abort_fn abort_fn;
static void *abort_ctx;

static void default_log(mup_log_level level, const char *message, void *ctx) {
    (void)ctx;
    static const char *tag[] = {"debug", "info", "warning", "error"};
    fprintf(stderr, "libmup %s: %s\n", tag[level], message);
}

static mup_log_fn log_fn = default_log;
static void *log_ctx;
static mup_log_level log_min = MUP_LOG_WARN;

const char *mup_status_str(mup_status s) {
    switch (s) {
    case MUP_OK: return "ok";
    case MUP_ERR_IO: return "io error";
    case MUP_ERR_FORMAT: return "format error";
    case MUP_ERR_PARSE: return "parse error";
    case MUP_ERR_INVALID: return "invalid argument";
    case MUP_ERR_SHAPE: return "shape mismatch";
    case MUP_ERR_STATE: return "invalid state";
    case MUP_ERR_NOMEM: return "out of memory";
    case MUP_ERR_DIVERGED: return "diverged";
    case MUP_ERR_MPI: return "mpi error";
    }
    return "unknown status";
}

const char *mup_error_message(void) {
    return tls_message[0] ? tls_message : "no error recorded";
}

mup_status mup_error(mup_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tls_message, sizeof tls_message, fmt, ap);
    va_end(ap);
    return s;
}

mup_status mup_error_context(mup_status s, const char *fmt, ...) {
    char old[MUP_MSG_MAX];
    memcpy(old, tls_message, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tls_message, sizeof tls_message, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof tls_message)
        memcpy(tls_message + n, old, strnlen(old, sizeof tls_message - (size_t)n - 1) + 1);
    tls_message[sizeof tls_message - 1] = '\0';
    return s;
}

void mup_set_abort_handler(mup_abort_fn fn, void *ctx) {
    abort_fn = fn;
    abort_ctx = ctx;
}

void mup_assert_fail(const char *file, int line, const char *fmt, ...) {
    char msg[MUP_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (abort_fn)
        abort_fn(file, line, msg, abort_ctx);
    else
        fprintf(stderr, "libmup: %s:%d: %s\n", file, line, msg);
    abort();
}

void mup_set_log_fn(mup_log_fn fn, void *ctx) {
    log_fn = fn;
    log_ctx = ctx;
}

void mup_set_log_level(mup_log_level min_level) { log_min = min_level; }

void mup_log(mup_log_level level, const char *fmt, ...) {
    if (!log_fn || level < log_min)
        return;
    char msg[MUP_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_fn(level, msg, log_ctx);
}
