#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "keys.h"
#include "sampler.h"

#define PATH_LEN 4200
/* the byte of journal.lock that every process of a running sweep holds shared (after the claims) */
#define SWEEP_BYTE (2L + MUP_RUNS_MAX)
/* what closes a line cut short before the next record: never the end of a JSON value */
#define CUT_MARK " (cut short)\n"

/* One run's report lines: steps increasing. */
typedef struct {
    int *step;
    double *value;
    int n, cap;
} report_list;

struct mup_journal {
    const mup_sweep_config *c;
    mup_run_list *l;
    bool writable, quiet;
    int fd, fd_lock;          /* fd_lock -1: no lock file (a read-only copy of a sweep) */
    char path[PATH_LEN], lock_path[PATH_LEN];
    long offset;              /* bytes read so far: always the start of a line */
    int line;                 /* lines read so far */
    long warned_tail;         /* the cut-short last line already warned about, or -1 */
    char fingerprint[17];     /* of the latest header */
    mup_run_record *records;
    int n_records, cap_records;
    int *match;               /* per run of the list: its record, or -1 */
    int n_opened;             /* records there when a writer opened it: their environment failures run again */
    report_list *reports;     /* per run of the list: its report lines since the latest header */
};

static void warn(const mup_journal *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const mup_journal *j, const char *fmt, ...) {
    if (j->quiet)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mup_log(MUP_LOG_WARN, "%s", msg);
}

/* ---- locks ---- */

static int lock_range(int fd, short type, long at, bool wait) {
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = at, .l_len = 1};
    int rc;
    while ((rc = fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl)) < 0 && errno == EINTR)
        continue;
    return rc;
}

static mup_status try_lock(mup_journal *j) {
    if (j->fd_lock < 0)
        return MUP_OK;
    if (lock_range(j->fd_lock, j->writable ? F_WRLCK : F_RDLCK, 0, true) == 0)
        return MUP_OK;
    return mup_error(MUP_ERR_IO, "cannot lock %s: %s (the sweep needs fcntl locks; on NFS run the lock "
                     "manager, do not mount with nolock)", j->lock_path, strerror(errno));
}

void mup_journal_lock(mup_journal *j) { MUP_CHECK(try_lock(j)); }

void mup_journal_unlock(mup_journal *j) {
    if (j->fd_lock >= 0)
        MUP_ASSERT(lock_range(j->fd_lock, F_UNLCK, 0, false) == 0, "unlock %s: %s", j->lock_path, strerror(errno));
}

bool mup_journal_claim(mup_journal *j, int i) {
    MUP_ASSERT(j->writable && i >= 0 && i < j->l->n, "claim of run %d in a journal of %d runs%s", i, j->l->n,
               j->writable ? "" : " opened to read");
    if (lock_range(j->fd_lock, F_WRLCK, 1L + i, false) == 0)
        return true;
    MUP_ASSERT(errno == EAGAIN || errno == EACCES, "claim of run %d in %s: %s", i, j->lock_path, strerror(errno));
    return false;
}

/* ---- reading ---- */

static void match_record(mup_journal *j, int r, int line) {
    const mup_run_record *rec = &j->records[r];
    int i = mup_run_list_find(j->l, rec->id);
    if (i < 0 || !j->l->runs[i].has_spec || strcmp(j->l->runs[i].spec_text, rec->spec_text) != 0)
        return;
    if (r < j->n_opened && rec->status == MUP_RUN_FAILED && rec->environment)
        return;
    const mup_sweep_run *run = &j->l->runs[i];
    if (rec->phase != run->phase || rec->width != run->width || rec->depth != run->depth || rec->trial != run->trial ||
        rec->seed_index != run->seed_index || rec->seed != run->seed) {
        if (line > 0)
            warn(j, "%s:%d: run %s: the record's phase, width, depth, trial or seed is not the run's; skipped, the run will "
                 "be done again", j->path, line, rec->id);
        return;
    }
    if (j->match[i] < 0)
        j->match[i] = r;
    else if (line > 0)
        warn(j, "%s:%d: run %s is already in the journal; the first record is kept", j->path, line, rec->id);
}

/* A report line: {"type": "report", "id": a proxy run of the list, "step": a whole number (from 1 to
 * the run's steps for a built-in run), "value": a finite number}. A step not above the run's last
 * report starts its list again: the run is being trained again (its worker died). */
static void read_report(mup_journal *j, const cJSON *obj, int line) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
    int i = cJSON_IsString(id) ? mup_run_list_find(j->l, id->valuestring) : -1;
    double step = NAN, value = NAN;
    mup_json_get_number(cJSON_GetObjectItemCaseSensitive(obj, "step"), &step);
    mup_json_get_number(cJSON_GetObjectItemCaseSensitive(obj, "value"), &value);
    double max_step = i >= 0 && j->c->kind == MUP_RUN_BUILTIN ? j->l->runs[i].spec.train.steps : INT_MAX;
    if (i < 0 || j->l->runs[i].phase != MUP_PHASE_PROXY || !(step >= (j->c->kind == MUP_RUN_BUILTIN) &&
        step <= max_step) || step != floor(step) || !isfinite(value)) {
        warn(j, "%s:%d: a report line that is not a proxy run's step and finite value; skipped", j->path, line);
        return;
    }
    report_list *r = &j->reports[i];
    if (r->n > 0 && step <= r->step[r->n - 1])
        r->n = 0;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->step = mup_tool_xrealloc(r->step, (size_t)r->cap * sizeof *r->step);
        r->value = mup_tool_xrealloc(r->value, (size_t)r->cap * sizeof *r->value);
    }
    r->step[r->n] = (int)step;
    r->value[r->n++] = value;
}

/* A trial's draw: its runs get their spec, unless an earlier draw gave them one. */
static void read_draw(mup_journal *j, const cJSON *obj, int line) {
    const mup_sweep_config *c = j->c;
    const cJSON *trial = cJSON_GetObjectItemCaseSensitive(obj, "trial");
    int k = cJSON_IsNumber(trial) && trial->valuedouble == (int)trial->valuedouble ? (int)trial->valuedouble : -1;
    if (k < mup_plan_fixed(c) || k >= mup_plan_size(c)) {
        warn(j, "%s:%d: the draw of a trial the config does not draw (%s) skipped", j->path, line,
             mup_sampler_name(c->search.sampler));
        return;
    }
    double *values = mup_tool_xcalloc((size_t)c->search.n_dims + 1, sizeof *values);
    bool fits = mup_params_from_json(c, cJSON_GetObjectItemCaseSensitive(obj, "params"), values);
    for (int d = 0; d < c->search.n_dims && fits; d++)
        fits = mup_search_dim_holds(&c->search.dims[d], values[d]);
    if (!fits)
        warn(j, "%s:%d: the draw of trial %d does not fit the search space; skipped, the trial will be drawn again",
             j->path, line, k);
    else if (!mup_run_list_trial_drawn(j->l, c, k) && mup_run_list_set_trial(j->l, c, k, values))
        warn(j, "%s:%d: the draw of trial %d: %s; skipped, the trial will be drawn again", j->path, line, k,
             mup_error_message());
    free(values);
}

static void read_line(mup_journal *j, char *text, int line) {
    if (strspn(text, " \t\r") == strlen(text))
        return;
    /* the whole line or nothing: a cut line closed by CUT_MARK may hold a whole record before it */
    cJSON *obj = cJSON_ParseWithOpts(text, NULL, true);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
    if (!cJSON_IsString(type)) {
        warn(j, "%s:%d: garbled line skipped (a write cut short by a kill or a full disk?); its run will be done "
             "again", j->path, line);
    } else if (strcmp(type->valuestring, "header") == 0) {
        const cJSON *fp = cJSON_GetObjectItemCaseSensitive(obj, "fingerprint");
        if (cJSON_IsString(fp))
            snprintf(j->fingerprint, sizeof j->fingerprint, "%s", fp->valuestring);
        /* reports before a header (--force) were of another config's runs */
        for (int i = 0; i < j->l->n; i++)
            j->reports[i].n = 0;
    } else if (strcmp(type->valuestring, "report") == 0) {
        read_report(j, obj, line);
    } else if (strcmp(type->valuestring, "run") == 0) {
        if (j->n_records == j->cap_records) {
            j->cap_records = j->cap_records ? 2 * j->cap_records : 64;
            j->records = mup_tool_xrealloc(j->records, (size_t)j->cap_records * sizeof *j->records);
        }
        if (mup_run_record_parse(j->c, obj, &j->records[j->n_records]) == MUP_OK)
            match_record(j, j->n_records++, line);
        else
            warn(j, "%s:%d: %s; skipped", j->path, line, mup_error_message());
    } else if (strcmp(type->valuestring, "trial") == 0) {
        read_draw(j, obj, line);
    } else {
        warn(j, "%s:%d: unknown line type \"%s\" skipped", j->path, line, type->valuestring);
    }
    cJSON_Delete(obj);
}

/* One line (without its newline) of len bytes at j->offset; text is NULL for one too long to read. */
static void take_line(mup_journal *j, char *text, size_t len) {
    j->line++;
    if (j->offset == j->warned_tail)
        return;
    if (!text)
        warn(j, "%s:%d: a line longer than %d MiB skipped; its run will be done again", j->path, j->line,
             MUP_JOURNAL_LINE_MAX >> 20);
    else if (memchr(text, '\0', len))
        warn(j, "%s:%d: garbled line skipped (a NUL byte); its run will be done again", j->path, j->line);
    else
        read_line(j, text, j->line);
}

/* Reads up to len bytes at offset at; fewer only at the end of the file. */
static size_t read_at(const mup_journal *j, char *buf, size_t len, off_t at) {
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(j->fd, buf + got, len - got, at + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        MUP_ASSERT(n >= 0, "read %s: %s", j->path, strerror(errno));
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/* The offset of the first newline at or after at, before size, or -1; scans without keeping. */
static off_t find_newline(const mup_journal *j, off_t at, off_t size, char *chunk, size_t chunk_len) {
    while (at < size) {
        size_t n = read_at(j, chunk, size - at < (off_t)chunk_len ? (size_t)(size - at) : chunk_len, at);
        if (n == 0)
            return -1;
        char *nl = memchr(chunk, '\n', n);
        if (nl)
            return at + (nl - chunk);
        at += (off_t)n;
    }
    return -1;
}

/* Reads from j->offset to the end in chunks: lines inside a chunk are taken from it, a longer line is
 * found first and then read whole (or, beyond MUP_JOURNAL_LINE_MAX, skipped unread). Memory is a chunk
 * and the longest line taken, never the file. */
void mup_journal_refresh(mup_journal *j) {
    struct stat st;
    MUP_ASSERT(fstat(j->fd, &st) == 0, "stat %s: %s", j->path, strerror(errno));
    enum { CHUNK = 1 << 16 };
    char *chunk = NULL;
    bool cut = false;
    while (j->offset < st.st_size && !cut) {
        chunk = chunk ? chunk : mup_tool_xmalloc(CHUNK);
        off_t at = j->offset;
        size_t n = read_at(j, chunk, st.st_size - at < CHUNK ? (size_t)(st.st_size - at) : CHUNK, at);
        char *p = chunk, *nl;
        while ((nl = memchr(p, '\n', n - (size_t)(p - chunk)))) {
            *nl = '\0';
            take_line(j, p, (size_t)(nl - p));
            j->offset = at + (nl + 1 - chunk);
            p = nl + 1;
        }
        if (p > chunk)
            continue;
        /* no newline in a whole chunk: a long line, or the last one cut short */
        off_t end = find_newline(j, at + (off_t)n, st.st_size, chunk, CHUNK);
        size_t len = end < 0 ? 0 : (size_t)(end - at);
        char *line = end < 0 || len > MUP_JOURNAL_LINE_MAX ? NULL : mup_tool_xmalloc(len + 1);
        if (line) {
            len = read_at(j, line, len, at);
            line[len] = '\0';
        }
        if (end >= 0) {
            take_line(j, line, len);
            j->offset = end + 1;
        }
        free(line);
        cut = end < 0;
    }
    /* appends happen under the lock we hold: an unfinished last line is a writer killed mid-write */
    if (j->offset < st.st_size && j->warned_tail != j->offset) {
        warn(j, "%s:%d: the last line is cut short (a write interrupted by a kill or a full disk?); skipped, its "
             "run will be done again", j->path, j->line + 1);
        j->warned_tail = j->offset;
    }
    free(chunk);
}

void mup_journal_rematch(mup_journal *j) {
    for (int i = 0; i < j->l->n; i++)
        j->match[i] = -1;
    for (int r = 0; r < j->n_records; r++)
        match_record(j, r, 0);
}

const mup_run_record *mup_journal_record(const mup_journal *j, int i) {
    MUP_ASSERT(i >= 0 && i < j->l->n, "run %d of %d", i, j->l->n);
    return j->match[i] >= 0 ? &j->records[j->match[i]] : NULL;
}

const char *mup_journal_path(const mup_journal *j) { return j->path; }

mup_curve mup_journal_curve(const mup_journal *j, int i) {
    const mup_run_record *rec = mup_journal_record(j, i);
    if (rec)
        return (mup_curve){rec->inter_step, rec->inter_value, rec->n_inter, rec->status == MUP_RUN_COMPLETE};
    return (mup_curve){j->reports[i].step, j->reports[i].value, j->reports[i].n, false};
}

void mup_journal_set_quiet(mup_journal *j, bool quiet) { j->quiet = quiet; }

/* ---- writing ---- */

static mup_status write_all(int fd, const char *buf, size_t len, const char *path) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mup_error(MUP_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        buf += n;
        len -= (size_t)n;
    }
    return MUP_OK;
}

mup_status mup_journal_check(const mup_journal *j) {
    struct stat there, mine;
    if (fstat(j->fd, &mine) == 0 && stat(j->path, &there) == 0 && there.st_dev == mine.st_dev &&
        there.st_ino == mine.st_ino)
        return MUP_OK;
    return mup_error(MUP_ERR_IO, "%s is gone (its directory was deleted or moved during the sweep); stopping, as "
                     "nothing more could be kept", j->path);
}

/* sync: fsync after the write (records and headers; a report lost with the machine is made again) */
static mup_status append_locked(mup_journal *j, const char *line, bool sync) {
    MUP_ASSERT(j->writable, "append to %s opened to read", j->path);
    /* a write to a deleted journal would succeed, and every run after it would be lost */
    mup_status gone = mup_journal_check(j);
    if (gone)
        return gone;
    if (strlen(line) > (size_t)MUP_JOURNAL_LINE_MAX)
        return mup_error(MUP_ERR_INVALID, "cannot journal a record of %zu bytes in %s: a reader takes lines of up "
                         "to %d MiB (fewer evaluations: a larger train.eval_every)", strlen(line), j->path,
                         MUP_JOURNAL_LINE_MAX >> 20);
    struct stat st;
    char last = '\n';
    if (fstat(j->fd, &st) == 0 && st.st_size > 0 && pread(j->fd, &last, 1, st.st_size - 1) != 1)
        last = '\n';
    /* a line cut short by a kill or a full disk is closed first, so that it stays one garbled line of its
     * own; the mark keeps it garbled when only its newline was lost */
    const char *mark = last != '\n' ? CUT_MARK : "";
    size_t len = strlen(mark) + strlen(line);
    char *buf = mup_tool_xmalloc(len + 1);
    snprintf(buf, len + 1, "%s%s", mark, line);
    mup_status s = write_all(j->fd, buf, len, j->path);
    free(buf);
    if (!s && sync && fsync(j->fd) != 0)
        s = mup_error(MUP_ERR_IO, "cannot sync %s: %s", j->path, strerror(errno));
    return s;
}

mup_status mup_journal_draw(mup_journal *j, int trial, const double *values) {
    cJSON *draw = cJSON_CreateObject();
    cJSON_AddStringToObject(draw, "type", "trial");
    cJSON_AddNumberToObject(draw, "trial", trial);
    cJSON_AddItemToObject(draw, "params", mup_params_to_json(j->c, values));
    char *line = mup_json_line(draw);
    mup_status s = append_locked(j, line, true);
    free(line);
    if (s)
        return s;
    /* read back like every other process reads it, so that all take the same values */
    mup_journal_refresh(j);
    if (!mup_run_list_trial_drawn(j->l, j->c, trial))
        return mup_error(MUP_ERR_FORMAT, "the draw of trial %d does not read back from %s", trial, j->path);
    return MUP_OK;
}

mup_status mup_journal_append(mup_journal *j, const char *line, int i) {
    mup_journal_lock(j);
    mup_status s = append_locked(j, line, true);
    if (i >= 0)
        lock_range(j->fd_lock, F_UNLCK, 1L + i, false);
    mup_journal_unlock(j);
    return s;
}

mup_status mup_journal_report(mup_journal *j, int i, int step, double value) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "report");
    cJSON_AddStringToObject(o, "id", j->l->runs[i].id);
    cJSON_AddNumberToObject(o, "step", step);
    cJSON_AddItemToObject(o, "value", mup_json_number(value));
    char *line = mup_json_line(o);
    mup_journal_lock(j);
    mup_status s = append_locked(j, line, false);
    if (!s)
        mup_journal_refresh(j);
    mup_journal_unlock(j);
    free(line);
    return s;
}

static char *header_line(const mup_sweep_config *c) {
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "type", "header");
    cJSON_AddNumberToObject(h, "version", 1);
    cJSON_AddStringToObject(h, "fingerprint", c->fingerprint);
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    cJSON_AddStringToObject(h, "created", when);
    cJSON_AddItemToObject(h, "config", mup_sweep_config_to_json(c));
    return mup_json_line(h);
}

/* A new journal appears whole or not at all: written aside, then renamed into place. */
static mup_status create_journal(mup_journal *j) {
    char tmp[PATH_LEN + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", j->path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return mup_error(MUP_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    char *line = header_line(j->c);
    mup_status s = write_all(fd, line, strlen(line), tmp);
    free(line);
    if (!s && fsync(fd) != 0)
        s = mup_error(MUP_ERR_IO, "cannot sync %s: %s", tmp, strerror(errno));
    close(fd);
    if (!s && rename(tmp, j->path) != 0)
        s = mup_error(MUP_ERR_IO, "cannot rename %s to %s: %s", tmp, j->path, strerror(errno));
    if (s)
        unlink(tmp);
    return s;
}

static mup_status make_dirs(const char *dir) {
    char buf[PATH_LEN];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char keep = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return mup_error(MUP_ERR_IO, "cannot create the output directory %s: %s", buf, strerror(errno));
        struct stat st;
        if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
            return mup_error(MUP_ERR_IO, "cannot create the output directory %s: it is a file", buf);
        *p = keep;
        if (!keep)
            return MUP_OK;
    }
}

/* The pid of a process holding a lock that keeps us from taking type at byte at, or 0. */
static long lock_holder(int fd, short type, long at) {
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = at, .l_len = 1};
    return fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK ? (long)fl.l_pid : 0;
}

/* A writer joins the sweep of the journal's config: it holds the sweep byte shared until it closes the
 * journal (every process of one sweep does), and trains again the runs that failed because of their
 * environment (the memory cap, a file, the machine), which may have changed since. */
static mup_status join(mup_journal *j) {
    if (!j->writable)
        return MUP_OK;
    if (lock_range(j->fd_lock, F_RDLCK, SWEEP_BYTE, false) != 0)
        return mup_error(MUP_ERR_IO, "cannot lock %s: %s", j->lock_path, strerror(errno));
    j->n_opened = j->n_records;
    int n = 0;
    for (int i = 0; i < j->l->n; i++)
        n += j->match[i] >= 0 && j->records[j->match[i]].status == MUP_RUN_FAILED &&
             j->records[j->match[i]].environment;
    mup_journal_rematch(j);
    if (n > 0)
        warn(j, "%d run%s failed because of their environment (the memory cap, a file, the machine); they run again",
             n, n == 1 ? "" : "s");
    return MUP_OK;
}

/* Everything of open after the lock file: under the journal lock. */
static mup_status open_locked(mup_journal *j, mup_journal_mode mode, bool force) {
    struct stat st;
    bool exists = stat(j->path, &st) == 0 && st.st_size > 0;
    if (!exists && mode != MUP_JOURNAL_CREATE)
        return mup_error(MUP_ERR_IO, "%s: no journal to %s", j->path, mode == MUP_JOURNAL_READ ? "read" : "resume");
    mup_status s = exists ? MUP_OK : create_journal(j);
    if (s)
        return s;
    j->fd = open(j->path, (j->writable ? O_RDWR | O_APPEND : O_RDONLY) | O_CLOEXEC);
    if (j->fd < 0)
        return mup_error(MUP_ERR_IO, "cannot open %s: %s", j->path, strerror(errno));
    mup_journal_refresh(j);
    if (!j->fingerprint[0])
        return mup_error(MUP_ERR_FORMAT, "%s: no header line: not a sweep journal", j->path);
    if (strcmp(j->fingerprint, j->c->fingerprint) == 0)
        return join(j);
    if (!force)
        return mup_error(MUP_ERR_INVALID, "%s was written for another config (fingerprint %s; this config is %s): "
                         "pass --force to continue it with this config (runs whose settings did not change are "
                         "kept), or choose another --out", j->path, j->fingerprint, j->c->fingerprint);
    warn(j, "%s: the config changed (fingerprint %s, now %s); --force: runs whose settings did not change are kept",
         j->path, j->fingerprint, j->c->fingerprint);
    if (!j->writable)
        return MUP_OK;
    /* the config changes under no running sweep: every process of one holds the sweep byte shared */
    if (lock_range(j->fd_lock, F_WRLCK, SWEEP_BYTE, false) != 0) {
        long pid = lock_holder(j->fd_lock, F_WRLCK, SWEEP_BYTE);
        return mup_error(MUP_ERR_INVALID, "%s is in use by a running sweep of another config (process %ld): --force "
                         "cannot change the config under it; wait for it to end, or choose another --out",
                         j->path, pid);
    }
    char *line = header_line(j->c);
    s = append_locked(j, line, true);
    free(line);
    mup_journal_refresh(j);
    return s ? s : join(j);
}

mup_status mup_journal_open(const char *dir, const mup_sweep_config *c, mup_run_list *l,
                            mup_journal_mode mode, bool force, mup_journal **out) {
    *out = NULL;
    mup_journal *j = mup_tool_xcalloc(1, sizeof *j);
    *j = (mup_journal){.c = c, .l = l, .writable = mode != MUP_JOURNAL_READ, .fd = -1, .fd_lock = -1,
                       .warned_tail = -1};
    j->match = mup_tool_xmalloc((size_t)(l->n + 1) * sizeof *j->match);
    j->reports = mup_tool_xcalloc((size_t)l->n + 1, sizeof *j->reports);
    for (int i = 0; i < l->n; i++)
        j->match[i] = -1;
    snprintf(j->path, sizeof j->path, "%s/journal.jsonl", dir);
    snprintf(j->lock_path, sizeof j->lock_path, "%s/journal.lock", dir);
    mup_status s = MUP_OK;
    if (j->writable) {
        s = make_dirs(dir);
        /* a directory whose files can be appended to but where no new file can be made (the report's)
         * is refused now, not after the training; access() also sees a read-only mount, even as root */
        if (!s && access(dir, W_OK | X_OK) != 0)
            s = mup_error(MUP_ERR_IO, "cannot write to the output directory %s: %s", dir, strerror(errno));
        j->fd_lock = s ? -1 : open(j->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (!s && j->fd_lock < 0)
            s = mup_error(MUP_ERR_IO, "cannot write to the output directory %s: %s", dir, strerror(errno));
    } else {
        j->fd_lock = open(j->lock_path, O_RDONLY | O_CLOEXEC);
    }
    if (!s)
        s = try_lock(j);
    if (!s) {
        s = open_locked(j, mode, force);
        mup_journal_unlock(j);
    }
    if (s) {
        mup_journal_close(j);
        return s;
    }
    *out = j;
    return MUP_OK;
}

void mup_journal_close(mup_journal *j) {
    if (!j)
        return;
    if (j->fd >= 0)
        close(j->fd);
    if (j->fd_lock >= 0)
        close(j->fd_lock);
    for (int r = 0; r < j->n_records; r++)
        mup_run_record_free(&j->records[r]);
    free(j->records);
    free(j->match);
    for (int i = 0; i < j->l->n; i++) {
        free(j->reports[i].step);
        free(j->reports[i].value);
    }
    free(j->reports);
    free(j);
}
