/* The trial API (mup/trial.h): reads the trial file of docs/trial-protocol.md and writes report lines
 * to the sweep's descriptor (or, in a run launched on several ranks, appends them to its report file),
 * each line with one write() so that a line is whole or absent. */
#include "mup/trial.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "mup/dist.h"

#define NAME_MAX_LEN 63
#define READ_MAX 64

struct mup_trial {
    cJSON *root;            /* the trial file; NULL without a sweep */
    const cJSON *params;
    int fd;                 /* the report channel; -1 without a sweep */
    bool own_fd;            /* fd is the report file, opened here */
    mup_dist *dist;         /* the run's ranks (mup_trial_use_dist): rank 0 reports; NULL: this process */
    int answer_fd;          /* the answer channel: one byte per report line; -1 without one */
    int reports, answers;   /* report lines sent, answers read */
    bool stop;              /* an answer said stop */
    char *read[READ_MAX];   /* keys asked for, in order */
    int n_read;
    bool final_sent;
};

static bool safe_name(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '.' || ch == '-') || n >= NAME_MAX_LEN)
            return false;
    }
    return n > 0;
}

/* The trial file, whole: a small regular file the sweep wrote and renamed into place. */
static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    long n = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    char *text = n >= 0 && n < (1L << 24) && fseek(f, 0, SEEK_SET) == 0 ? mup_xmalloc((size_t)n + 1) : NULL;
    if (text && fread(text, 1, (size_t)n, f) != (size_t)n) {
        free(text);
        text = NULL;
    }
    if (text)
        text[n] = '\0';
    if (f)
        fclose(f);
    return text;
}

static bool int_member(const cJSON *root, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && v->valuedouble >= 0;
}

mup_status mup_trial_open(mup_trial **out) {
    mup_trial *t = mup_xcalloc(1, sizeof *t);
    t->fd = t->answer_fd = -1;
    *out = t;
    const char *path = getenv("MUP_TRIAL");
    if (!path || !*path)
        return MUP_OK;
    char *text = read_text(path);
    if (!text) {
        mup_status s = mup_error(MUP_ERR_IO, "trial %s: cannot read: %s", path, strerror(errno));
        mup_trial_close(t);
        *out = NULL;
        return s;
    }
    t->root = cJSON_Parse(text);
    free(text);
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(t->root, "protocol");
    t->params = cJSON_GetObjectItemCaseSensitive(t->root, "params");
    const char *fd = getenv("MUP_TRIAL_FD");
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(t->root, "report_file");
    char *end = NULL;
    long fdn = fd ? strtol(fd, &end, 10) : -1;
    const char *why = !cJSON_IsObject(t->root) ? "not a JSON object"
                    : !cJSON_IsNumber(version) || version->valueint != 1 ? "not protocol version 1"
                    : !cJSON_IsObject(t->params) ? "no params object"
                    : !int_member(t->root, "width") || !int_member(t->root, "seed") ? "no width or seed"
                    : file && !cJSON_IsString(file) ? "report_file is not a path"
                    : !file && (!fd || !*fd || *end || fdn < 0 || fdn > 65535) ? "MUP_TRIAL_FD is not a descriptor"
                                                                              : NULL;
    if (why) {
        mup_status s = mup_error(MUP_ERR_FORMAT, "trial %s: %s", path, why);
        mup_trial_close(t);
        *out = NULL;
        return s;
    }
    t->fd = (int)fdn;
    if (file) { /* a run launched on several ranks: the sweep made the file and reads it as it grows */
        t->fd = open(file->valuestring, O_WRONLY | O_APPEND | O_CLOEXEC);
        t->own_fd = true;
        if (t->fd < 0) {
            mup_status s = mup_error(MUP_ERR_IO, "trial %s: cannot open its report file %s: %s", path,
                                     file->valuestring, strerror(errno));
            mup_trial_close(t);
            *out = NULL;
            return s;
        }
    }
    /* a sweep before pruners gives no answer channel: the run is never asked to stop */
    if (int_member(t->root, "answer_fd") && cJSON_GetObjectItemCaseSensitive(t->root, "answer_fd")->valuedouble <= 65535)
        t->answer_fd = (int)cJSON_GetObjectItemCaseSensitive(t->root, "answer_fd")->valuedouble;
    return MUP_OK;
}

void mup_trial_close(mup_trial *t) {
    if (!t)
        return;
    for (int i = 0; i < t->n_read; i++)
        free(t->read[i]);
    if (t->own_fd && t->fd >= 0)
        close(t->fd);
    cJSON_Delete(t->root);
    free(t);
}

void mup_trial_use_dist(mup_trial *t, mup_dist *d) { t->dist = d; }

bool mup_trial_in_sweep(const mup_trial *t) { return t->root != NULL; }

/* The searched value of name, noting that the program asked for it. */
static const cJSON *param(mup_trial *t, const char *name) {
    MUP_ASSERT(name && safe_name(name), "trial key \"%s\" is not 1 to 63 of A-Z a-z 0-9 _ . -", name ? name : "(null)");
    bool seen = false;
    for (int i = 0; i < t->n_read && !seen; i++)
        seen = strcmp(t->read[i], name) == 0;
    if (!seen && t->n_read < READ_MAX)
        t->read[t->n_read++] = mup_xstrdup(name);
    return t->params ? cJSON_GetObjectItemCaseSensitive(t->params, name) : NULL;
}

double mup_trial_double(mup_trial *t, const char *name, double def) {
    const cJSON *v = param(t, name);
    if (!v)
        return def;
    MUP_ASSERT(cJSON_IsNumber(v), "trial key %s: expected a number", name);
    return v->valuedouble;
}

int mup_trial_int(mup_trial *t, const char *name, int def) {
    const cJSON *v = param(t, name);
    if (!v)
        return def;
    MUP_ASSERT(cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) <= 2147483647.0,
               "trial key %s: expected an integer", name);
    return (int)v->valuedouble;
}

bool mup_trial_bool(mup_trial *t, const char *name, bool def) {
    const cJSON *v = param(t, name);
    if (!v)
        return def;
    MUP_ASSERT(cJSON_IsBool(v), "trial key %s: expected true or false", name);
    return cJSON_IsTrue(v);
}

const char *mup_trial_string(mup_trial *t, const char *name, const char *def) {
    const cJSON *v = param(t, name);
    if (!v)
        return def;
    MUP_ASSERT(cJSON_IsString(v), "trial key %s: expected a string", name);
    return v->valuestring;
}

static double member(const mup_trial *t, const char *name, double def) {
    const cJSON *v = t->root ? cJSON_GetObjectItemCaseSensitive(t->root, name) : NULL;
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

int mup_trial_width(const mup_trial *t, int def) { return (int)member(t, "width", def); }
int mup_trial_ranks(const mup_trial *t, int def) { return (int)member(t, "ranks", def); }
int mup_trial_base_width(const mup_trial *t, int def) { return (int)member(t, "base_width", def); }
int mup_trial_delta_width(const mup_trial *t, int def) { return (int)member(t, "delta_width", def); }
uint64_t mup_trial_seed(const mup_trial *t, uint64_t def) { return (uint64_t)member(t, "seed", (double)def); }

static const char *string_member(const mup_trial *t, const char *name) {
    const cJSON *v = t->root ? cJSON_GetObjectItemCaseSensitive(t->root, name) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *mup_trial_run_dir(const mup_trial *t) { return string_member(t, "run_dir"); }
const char *mup_trial_checkpoint(const mup_trial *t) { return string_member(t, "checkpoint"); }
const char *mup_trial_id(const mup_trial *t) {
    const char *id = string_member(t, "run_id");
    return id ? id : "";
}

/* Appends printf text to buf at *used (growing it); false never: allocation failures abort. */
static void put(char **buf, size_t *cap, size_t *used, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char **buf, size_t *cap, size_t *used, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *used, *cap - *used, fmt, ap);
        va_end(ap);
        if ((size_t)n < *cap - *used) {
            *used += (size_t)n;
            return;
        }
        *buf = mup_xrealloc(*buf, *cap = 2 * (*cap + (size_t)n));
    }
}

static mup_status send(mup_trial *t, const char *type, int step, const mup_metric *m, int n) {
    for (int i = 0; i < n; i++)
        if (!m[i].name || !safe_name(m[i].name))
            return mup_error(MUP_ERR_INVALID, "trial report: metric name \"%s\" is not 1 to 63 of A-Z a-z 0-9 _ . -",
                             m[i].name ? m[i].name : "(null)");
    size_t cap = 256, used = 0;
    char *line = mup_xmalloc(cap);
    put(&line, &cap, &used, "{\"type\":\"%s\"", type);
    if (step >= 0)
        put(&line, &cap, &used, ",\"step\":%d", step);
    put(&line, &cap, &used, ",\"metrics\":{");
    for (int i = 0; i < n; i++) {
        if (isfinite(m[i].value))
            put(&line, &cap, &used, "%s\"%s\":%.17g", i ? "," : "", m[i].name, m[i].value);
        else
            put(&line, &cap, &used, "%s\"%s\":null", i ? "," : "", m[i].name);
    }
    put(&line, &cap, &used, "}");
    if (step < 0) {
        put(&line, &cap, &used, ",\"read\":[");
        for (int i = 0; i < t->n_read; i++)
            put(&line, &cap, &used, "%s\"%s\"", i ? "," : "", t->read[i]);
        put(&line, &cap, &used, "]");
    }
    put(&line, &cap, &used, "}\n");
    mup_status s = MUP_OK;
    if (t->dist && mup_dist_rank(t->dist) != 0) {
        /* rank 0 reports for the run */
    } else if (t->fd < 0) {
        mup_log(MUP_LOG_INFO, "trial %s: %.*s", type, (int)used - 1, line);
    } else {
        ssize_t w;
        do
            w = write(t->fd, line, used);
        while (w < 0 && errno == EINTR);
        if (w != (ssize_t)used)
            s = mup_error(MUP_ERR_IO, "trial report: cannot write to descriptor %d: %s", t->fd,
                          w < 0 ? strerror(errno) : "short write");
    }
    free(line);
    return s;
}

mup_status mup_trial_report(mup_trial *t, int step, const mup_metric *metrics, int n) {
    if (step < 0)
        return mup_error(MUP_ERR_INVALID, "trial report: step %d is negative", step);
    if (t->final_sent)
        return mup_error(MUP_ERR_STATE, "trial report: the final report was sent already");
    mup_status s = send(t, "report", step, metrics, n);
    t->reports += s == MUP_OK && t->fd >= 0;
    return s;
}

mup_status mup_trial_final(mup_trial *t, const mup_metric *metrics, int n) {
    if (t->final_sent)
        return mup_error(MUP_ERR_STATE, "trial report: the final report was sent already");
    t->final_sent = true;
    return send(t, "final", -1, metrics, n);
}

/* The sweep answers every report line, in order, once its pruner has judged it: waiting for the answers
 * to the lines sent so far makes the verdict the one on the latest report. */
bool mup_trial_should_stop(mup_trial *t, int step) {
    (void)step;
    bool lead = !t->dist || mup_dist_rank(t->dist) == 0;
    while (lead && t->answer_fd >= 0 && t->answers < t->reports && !t->stop) {
        char buf[64];
        size_t want = (size_t)(t->reports - t->answers) < sizeof buf ? (size_t)(t->reports - t->answers) : sizeof buf;
        ssize_t n = read(t->answer_fd, buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) { /* the sweep is gone: nobody to stop the run */
            t->answer_fd = -1;
            break;
        }
        t->answers += (int)n;
        t->stop = memchr(buf, 's', (size_t)n) != NULL;
    }
    if (t->dist) { /* every rank stops at the same step */
        double stop = t->stop;
        mup_dist_broadcast(t->dist, &stop, 1);
        t->stop = stop != 0;
    }
    return t->stop;
}
