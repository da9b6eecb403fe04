/* Errors and logging.
 *
 * Two kinds of failure, two mechanisms:
 *  - a programming error (wrong shapes, NULL where a tensor is required, misuse of the API) stops at
 *    MUP_ASSERT, which reports file:line and a message and calls the abort handler;
 *  - a recoverable failure (I/O, parse, bad configuration, NaN loss, out of memory) is returned as a
 *    mup_status; the message that names what went wrong is kept per thread and read with
 *    mup_error_message().
 * The library never calls exit() and never writes to stdout; it logs through a settable callback. */
#ifndef MUP_ERROR_H
#define MUP_ERROR_H

#include "mup/api.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

typedef enum {
    MUP_OK = 0,
    MUP_ERR_IO,        /* a file could not be opened, read or written */
    MUP_ERR_FORMAT,    /* a file was read but its contents are not what they must be */
    MUP_ERR_PARSE,     /* text (JSON, YAML, flags) that does not parse */
    MUP_ERR_INVALID,   /* a value the caller passed or configured is out of range */
    MUP_ERR_SHAPE,     /* models or files whose parameter shapes do not agree */
    MUP_ERR_STATE,     /* a call made at the wrong time (rescaling twice, optimizer before shapes) */
    MUP_ERR_NOMEM,     /* an allocation failed or would exceed the memory cap */
    MUP_ERR_DIVERGED,  /* training produced NaN/inf or an exploding loss */
    MUP_ERR_MPI,       /* the MPI layer failed */
} mup_status;

/* "io error", "format error", ...: the class of a status. */
MUP_API const char *mup_status_str(mup_status s);

/* The message of this thread's most recent failure ("fashion-mnist: cannot open ...: No such file").
 * Valid until the next failing call on the same thread. */
MUP_API const char *mup_error_message(void);

/* Records a failure message for this thread and returns s, so a failing function can write
 * `return mup_error(MUP_ERR_IO, "cannot open %s", path);`. */
MUP_API mup_status mup_error(mup_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the current message with context ("checkpoint run.h5: " + message) and returns s. */
MUP_API mup_status mup_error_context(mup_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- programming errors ---- */

typedef void (*mup_abort_fn)(const char *file, int line, const char *message, void *ctx);

/* Replaces the handler called by a failed MUP_ASSERT (default: print to stderr, then abort()).
 * A handler that returns makes the library abort() anyway: there is no safe way to go on.
 * Tests install one that longjmps out. Passing NULL restores the default. */
MUP_API void mup_set_abort_handler(mup_abort_fn fn, void *ctx);

MUP_API _Noreturn void mup_assert_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define MUP_ASSERT(cond, ...) \
    do { if (!(cond)) mup_assert_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)

/* For user programs and tools: a failed status becomes a MUP_ASSERT-style stop with its message. */
#define MUP_CHECK(expr) \
    do { mup_status mup_check_s_ = (expr); \
         if (mup_check_s_ != MUP_OK) \
             mup_assert_fail(__FILE__, __LINE__, "%s: %s", #expr, mup_error_message()); } while (0)

/* ---- logging ---- */

typedef enum { MUP_LOG_DEBUG, MUP_LOG_INFO, MUP_LOG_WARN, MUP_LOG_ERROR } mup_log_level;

typedef void (*mup_log_fn)(mup_log_level level, const char *message, void *ctx);

/* Default: messages at MUP_LOG_WARN and above go to stderr. NULL silences the library. */
MUP_API void mup_set_log_fn(mup_log_fn fn, void *ctx);
MUP_API void mup_set_log_level(mup_log_level min_level);
MUP_API void mup_log(mup_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
