/* The program executor: one run is one process of the user's command, started without a shell in a
 * process group of its own, given its trial in DIR/runs/<id>/trial.json (MUP_TRIAL) and in {name}
 * substitutions of its arguments, and read through its report channel, fd 3 (protocol.c).
 *
 * A target run of a program that trains across MPI ranks (program.mpi, under mpirun) is one process of
 * the launcher instead, which starts the program on every rank (launch.h). A launcher passes no
 * descriptor but 0-2 to the ranks it starts, so such a run reports into a file, RUN_DIR/reports.jsonl,
 * which the sweep reads as it grows (on a file system the nodes share, as DIR is).
 *
 * The process group ends with the run: at its timeout, on a bad report line, once the program has
 * exited (so that children it forked end with it), and when the sweep is interrupted (SIGINT, SIGTERM,
 * SIGHUP). A worker killed with SIGKILL takes its program with it (PR_SET_PDEATHSIG); the run has no
 * record and runs again on resume. */
#include "program.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "executor.h"
#include "launch.h"
#include "protocol.h"
#include "sampler.h"

extern char **environ;

#define REPORT_FD 3
/* The answer channel: one byte per report line, 'c' to go on or 's' to stop (docs/trial-protocol.md). */
#define ANSWER_FD 4
/* How long a program told to stop has to end before its process group is killed (a program that does
 * not ask is killed at its next report line). */
#define STOP_GRACE_S 10.0
/* How long a launcher has, once told to end (SIGTERM), to take its job down on every node before it is
 * killed: a killed mpirun leaves its ranks behind. */
#define LAUNCHER_GRACE_S 10.0
/* The end of a run's stderr kept for its record. */
#define TAIL_BYTES 2048
#define TAIL_LINES 5
/* How often a waiting worker looks whether its program has exited. */
#define POLL_MS 50
/* Paths of a run's files: the sweep's directory (2047 at most), /runs/, the id and a file name. */
#define RUN_PATH 2200

const char *const mup_trial_fields[] = {"run_id", "phase", "width", "base_width", "delta_width", "seed",
                                        "run_dir", "checkpoint", "trial_file", "ranks", NULL};

/* What program.launcher's arguments may name. */
static const char *const launcher_fields[] = {"ranks", "hosts", NULL};

/* ---- {name} substitutions ---- */

static bool in_list(const char *const *list, const char *name) {
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

static bool is_key(const mup_sweep_config *c, const char *name) {
    if (in_list(mup_trial_fields, name))
        return true;
    for (int d = 0; d < c->search.n_dims; d++)
        if (strcmp(c->search.dims[d].key->name, name) == 0)
            return true;
    return false;
}

/* The substitutions of one list, named what: the names in fields (program.launcher's), or with fields
 * NULL a trial field or a searched key (program.command's). */
static mup_status check_list(const mup_sweep_config *c, const char *what, const char *const *fields,
                             char *const *argv, int argc) {
    for (int a = 0; a < argc; a++) {
        const char *s = argv[a];
        for (size_t i = 0; s[i]; i++) {
            if ((s[i] == '{' && s[i + 1] == '{') || (s[i] == '}' && s[i + 1] == '}')) {
                i++;
                continue;
            }
            if (s[i] == '}')
                return mup_error(MUP_ERR_INVALID, "%s[%d]: a lone '}' (write }} for a brace)", what, a);
            if (s[i] != '{')
                continue;
            const char *end = strchr(s + i, '}');
            char name[MUP_SAFE_NAME_MAX + 2];
            size_t n = end ? (size_t)(end - s - i - 1) : 0;
            snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name - 1 ? n : sizeof name - 1), s + i + 1);
            if (!end || n == 0 || n > MUP_SAFE_NAME_MAX || !mup_safe_name(name))
                return mup_error(MUP_ERR_INVALID, "%s[%d]: a '{' without a name and '}' (write {{ for a brace)",
                                 what, a);
            if (a == 0)
                return mup_error(MUP_ERR_INVALID, "%s[0]: the command itself takes no {%s}", what, name);
            if (fields && !in_list(fields, name))
                return mup_error(MUP_ERR_INVALID, "program.launcher[%d]: {%s} is not {ranks} or {hosts}", a, name);
            if (!fields && !is_key(c, name))
                return mup_error(MUP_ERR_INVALID, "program.command[%d]: {%s} is neither a searched key nor a trial "
                                 "field (run_id, phase, width, base_width, delta_width, seed, run_dir, checkpoint, "
                                 "trial_file, ranks)", a, name);
            i += n + 1;
        }
    }
    return MUP_OK;
}

mup_status mup_program_check_args(const mup_sweep_config *c) {
    mup_status s = check_list(c, "program.command", NULL, c->program.argv, c->program.argc);
    return s ? s : check_list(c, "program.launcher", launcher_fields, c->program.launcher, c->program.launcher_argc);
}

/* A value as its shortest text that reads back the same: what both argv and trial.json get. */
static void format_value(const mup_key *k, double v, char *buf, size_t n) {
    if (k->type != MUP_KEY_FLOAT) {
        mup_key_format(k, v, buf, n);
        return;
    }
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, n, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

typedef struct {
    const mup_sweep_config *c;
    const mup_sweep_run *run;
    const char *run_dir, *checkpoint, *trial_file;
    int ranks;                  /* the ranks the run is launched on; 1: started directly */
    const char *hosts;          /* launched: the sweep's hosts */
    const char *report_file;    /* launched: the report channel; NULL: fd 3 */
} trial;

static void field_value(const trial *t, const char *name, char *buf, size_t n) {
    const mup_run_spec *s = &t->run->spec;
    if (strcmp(name, "run_id") == 0) snprintf(buf, n, "%s", t->run->id);
    else if (strcmp(name, "phase") == 0) snprintf(buf, n, "%s", mup_phase_name(t->run->phase));
    else if (strcmp(name, "width") == 0) snprintf(buf, n, "%d", t->run->width);
    else if (strcmp(name, "base_width") == 0) snprintf(buf, n, "%d", s->mup.base_width);
    else if (strcmp(name, "delta_width") == 0) snprintf(buf, n, "%d", mup_run_spec_delta_width(s));
    else if (strcmp(name, "seed") == 0) snprintf(buf, n, "%llu", (unsigned long long)t->run->seed);
    else if (strcmp(name, "run_dir") == 0) snprintf(buf, n, "%s", t->run_dir);
    else if (strcmp(name, "checkpoint") == 0) snprintf(buf, n, "%s", t->checkpoint ? t->checkpoint : "");
    else if (strcmp(name, "trial_file") == 0) snprintf(buf, n, "%s", t->trial_file);
    else if (strcmp(name, "ranks") == 0) snprintf(buf, n, "%d", t->ranks);
    else if (strcmp(name, "hosts") == 0) snprintf(buf, n, "%s", t->hosts ? t->hosts : "");
    else
        for (int d = 0; d < t->c->search.n_dims; d++)
            if (strcmp(t->c->search.dims[d].key->name, name) == 0)
                format_value(t->c->search.dims[d].key, mup_run_spec_get(s, t->c->search.dims[d].key), buf, n);
}

/* One argument with its substitutions (checked by mup_program_check_args); malloc'd. */
static char *substitute(const trial *t, const char *s) {
    size_t cap = strlen(s) + 1, used = 0;
    char *out = mup_tool_xmalloc(cap);
    for (size_t i = 0; s[i]; i++) {
        char value[RUN_PATH + 64];
        const char *piece = value;
        if ((s[i] == '{' || s[i] == '}') && s[i + 1] == s[i]) {
            snprintf(value, sizeof value, "%c", s[i++]);
        } else if (s[i] == '{') {
            char name[MUP_SAFE_NAME_MAX + 1];
            size_t n = strcspn(s + i + 1, "}");
            snprintf(name, sizeof name, "%.*s", (int)n, s + i + 1);
            value[0] = '\0';
            field_value(t, name, value, sizeof value);
            i += n + 1;
        } else {
            snprintf(value, sizeof value, "%c", s[i]);
        }
        size_t len = strlen(piece);
        if (used + len + 1 > cap) {
            cap = 2 * (used + len + 1);
            out = mup_tool_xrealloc(out, cap);
        }
        memcpy(out + used, piece, len);
        used += len;
    }
    out[used] = '\0';
    return out;
}

/* ---- the command ---- */

static mup_status check_file(const char *what, const char *shown, const char *path) {
    struct stat st;
    if (stat(path, &st) != 0)
        return mup_error(MUP_ERR_INVALID, "%s: %s: %s", what, shown, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return mup_error(MUP_ERR_INVALID, "%s: %s is a directory", what, shown);
    if (access(path, X_OK) != 0)
        return mup_error(MUP_ERR_INVALID, "%s: %s is not executable", what, shown);
    return MUP_OK;
}

mup_status mup_program_resolve(const mup_sweep_config *c, const char *what, const char *cmd, char **path) {
    char buf[PATH_MAX * 2];
    *path = NULL;
    if (strchr(cmd, '/')) {
        if (cmd[0] != '/' && c->program.cwd[0])
            snprintf(buf, sizeof buf, "%s/%s", c->program.cwd, cmd);
        else
            snprintf(buf, sizeof buf, "%s", cmd);
        mup_status s = check_file(what, cmd, buf);
        if (!s)
            *path = mup_tool_xstrdup(buf);
        return s;
    }
    const char *dirs = getenv("PATH");
    for (const char *p = dirs ? dirs : ""; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? p : ".", cmd);
        struct stat st;
        if (stat(buf, &st) == 0 && !S_ISDIR(st.st_mode) && access(buf, X_OK) == 0) {
            *path = mup_tool_xstrdup(buf);
            return MUP_OK;
        }
        p += n + (p[n] == ':');
    }
    return mup_error(MUP_ERR_INVALID, "%s: %s is not found in PATH", what, cmd);
}

/* A command's path, made absolute: the child changes to program.cwd before exec. */
static mup_status resolve_absolute(const mup_sweep_config *c, const char *what, const char *cmd, char **out) {
    mup_status s = mup_program_resolve(c, what, cmd, out);
    if (!s && (*out)[0] != '/') {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return mup_error(MUP_ERR_IO, "cannot read the working directory: %s", strerror(errno));
        size_t n = strlen(cwd) + strlen(*out) + 2;
        char *abs = mup_tool_xmalloc(n);
        snprintf(abs, n, "%s/%s", cwd, *out);
        free(*out);
        *out = abs;
    }
    return s;
}

static mup_status program_prepare(mup_executor *x, const mup_run_list *l) {
    (void)l;
    if (x->dir[0] != '/') {
        char cwd[PATH_MAX], rel[sizeof x->dir];
        if (!getcwd(cwd, sizeof cwd))
            return mup_error(MUP_ERR_IO, "cannot read the working directory: %s", strerror(errno));
        snprintf(rel, sizeof rel, "%s", x->dir);
        if (strlen(cwd) + strlen(rel) + 2 > sizeof x->dir)
            return mup_error(MUP_ERR_INVALID, "%s/%s: the sweep's path is longer than %zu characters", cwd, rel,
                             sizeof x->dir - 1);
        snprintf(x->dir, sizeof x->dir, "%.1024s/%.1022s", cwd, rel);
    }
    mup_status s = resolve_absolute(x->c, "program.command", x->c->program.argv[0], &x->command);
    if (!s && x->c->program.mpi)
        s = resolve_absolute(x->c, "program.launcher", x->c->program.launcher[0], &x->launcher);
    return s;
}

static double program_cost(const mup_executor *x, const mup_sweep_run *run) {
    (void)x;
    return run->has_spec ? 1.0 : 0.0;
}

static void program_close(mup_executor *x) {
    free(x->command);
    free(x->launcher);
}

/* ---- one run ---- */

static mup_status make_dir(const char *path) {
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return mup_error(MUP_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    return MUP_OK;
}

static mup_status write_trial(const trial *t) {
    const mup_sweep_config *c = t->c;
    const mup_sweep_run *run = t->run;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "protocol", MUP_PROTOCOL_VERSION);
    cJSON_AddStringToObject(o, "run_id", run->id);
    cJSON_AddStringToObject(o, "phase", mup_phase_name(run->phase));
    cJSON_AddNumberToObject(o, "width", run->width);
    cJSON_AddNumberToObject(o, "base_width", run->spec.mup.base_width);
    cJSON_AddNumberToObject(o, "delta_width", mup_run_spec_delta_width(&run->spec));
    cJSON_AddItemToObject(o, "seed", mup_json_number((double)run->seed));
    double *values = mup_tool_xcalloc((size_t)c->search.n_dims + 1, sizeof *values);
    for (int d = 0; d < c->search.n_dims; d++)
        values[d] = mup_run_spec_get(&run->spec, c->search.dims[d].key);
    cJSON_AddItemToObject(o, "params", mup_params_to_json(c, values));
    free(values);
    cJSON_AddStringToObject(o, "objective", c->metric);
    cJSON_AddStringToObject(o, "direction", c->maximize ? "maximize" : "minimize");
    cJSON_AddStringToObject(o, "run_dir", t->run_dir);
    if (t->checkpoint)
        cJSON_AddStringToObject(o, "checkpoint", t->checkpoint);
    else
        cJSON_AddNullToObject(o, "checkpoint");
    cJSON_AddNumberToObject(o, "ranks", t->ranks);
    if (t->report_file) { /* launched: no descriptor reaches the ranks, and a target is never pruned */
        cJSON_AddStringToObject(o, "report_file", t->report_file);
        cJSON_AddNullToObject(o, "report_fd");
        cJSON_AddNullToObject(o, "answer_fd");
    } else {
        cJSON_AddNumberToObject(o, "report_fd", REPORT_FD);
        cJSON_AddNumberToObject(o, "answer_fd", ANSWER_FD);
    }
    char *text = mup_json_line(o), tmp[RUN_PATH + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", t->trial_file);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fputs(text, f) >= 0;
    ok = f && fclose(f) == 0 && ok;
    free(text);
    if (!ok || rename(tmp, t->trial_file) != 0)
        return mup_error(MUP_ERR_IO, "cannot write %s: %s", t->trial_file, strerror(errno));
    return MUP_OK;
}

static bool env_sets(const mup_sweep_config *c, const char *entry) {
    size_t len = strcspn(entry, "=") + 1;
    for (int e = 0; e < c->program.n_env; e++)
        if (strncmp(entry, c->program.env[e], len) == 0)
            return true;
    return false;
}

/* The environment: the sweep's, then program.env, then the trial's, and the worker's share of the
 * cores as OMP_NUM_THREADS and MUP_NUM_THREADS unless program.env sets them. A launched run's lacks
 * the sweep's own launcher's job variables and MUP_TRIAL_FD. */
static char **make_env(const mup_sweep_config *c, const trial *t, int threads) {
    static const char *const thread_vars[] = {"OMP_NUM_THREADS=", "MUP_NUM_THREADS="};
    int n = 0;
    while (environ[n])
        n++;
    char **env = mup_tool_xcalloc((size_t)(n + c->program.n_env + 5), sizeof *env);
    int k = 0;
    for (int i = 0; i < n; i++) {
        bool replaced = strncmp(environ[i], "MUP_TRIAL", 9) == 0 || env_sets(c, environ[i]) ||
                        (t->report_file && mup_launch_job_variable(environ[i]));
        for (int v = 0; v < 2; v++)
            replaced |= strncmp(environ[i], thread_vars[v], strlen(thread_vars[v])) == 0;
        if (!replaced)
            env[k++] = mup_tool_xstrdup(environ[i]);
    }
    for (int e = 0; e < c->program.n_env; e++)
        env[k++] = mup_tool_xstrdup(c->program.env[e]);
    for (int v = 0; v < 2; v++)
        if (!env_sets(c, thread_vars[v])) {
            env[k] = mup_tool_xmalloc(32);
            snprintf(env[k++], 32, "%s%d", thread_vars[v], threads);
        }
    size_t len = strlen(t->trial_file) + 16;
    env[k] = mup_tool_xmalloc(len);
    snprintf(env[k++], len, "MUP_TRIAL=%s", t->trial_file);
    if (!t->report_file) {
        env[k] = mup_tool_xmalloc(32);
        snprintf(env[k++], 32, "MUP_TRIAL_FD=%d", REPORT_FD);
    }
    return env;
}

static void free_list(char **list) {
    for (int i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

/* The process group of the program this process is running, and the signal that ends it (SIGTERM for a
 * launcher, which then ends its job), for the signal handler. */
static volatile sig_atomic_t running_group, ending_signal = SIGKILL;

static void on_signal(int sig) {
    if (running_group > 0)
        kill(-(pid_t)running_group, ending_signal);
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP};

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static _Noreturn void child(const char *path, char **argv, char **env, const char *cwd, int report, int answer,
                            int err, int out, pid_t parent) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, (int)ending_signal);
    if (getppid() != parent)
        _exit(127);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        signal(forwarded[i], SIG_DFL);
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(127);
    /* both above ANSWER_FD (program_run), so neither dup2 overwrites the other; none when launched */
    if (report >= 0 && (dup2(report, REPORT_FD) < 0 || dup2(answer, ANSWER_FD) < 0))
        _exit(127);
    if (cwd[0] && chdir(cwd) != 0) {
        static const char msg[] = "mup-sweep: cannot enter program.cwd\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(127);
    }
    execve(path, argv, env);
    static const char msg[] = "mup-sweep: cannot execute the program\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
}

/* Starts the child; its pid. In a function of its own, so that nothing vfork's child shares changes here. */
static pid_t start(const char *path, char **argv, char **env, const char *cwd, int report, int answer, int err,
                   int out) {
    fflush(NULL);
    /* vfork: the child shares the sweep's memory until its exec instead of copying its page tables, a
     * copy that cost most of a run's overhead; child() makes only system calls, then execs or exits */
    pid_t parent = getpid(), pid = vfork();
    if (pid == 0)
        child(path, argv, env, cwd, report, answer, err, out, parent);
    return pid;
}

/* The last TAIL_BYTES of stderr, as a ring. */
typedef struct {
    char buf[TAIL_BYTES];
    size_t total;
} tail;

static void tail_add(tail *t, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        t->buf[t->total++ % TAIL_BYTES] = s[i];
}

/* The last TAIL_LINES lines of the tail, control characters but newlines as '?'; *last: the last one with a
 * letter or digit. */
static void tail_text(const tail *t, char *out, size_t n, char *last, size_t n_last) {
    size_t len = t->total < TAIL_BYTES ? t->total : TAIL_BYTES, start = t->total - len;
    char lin[TAIL_BYTES + 1];
    for (size_t i = 0; i < len; i++) {
        char ch = t->buf[(start + i) % TAIL_BYTES];
        lin[i] = ch == '\n' || ((unsigned char)ch >= 0x20 && ch != 0x7f) ? ch : '?';
    }
    while (len > 0 && lin[len - 1] == '\n')
        len--;
    lin[len] = '\0';
    size_t from = len;
    for (int lines = 0; from > 0; from--)
        if (lin[from - 1] == '\n' && ++lines == TAIL_LINES)
            break;
    snprintf(out, n, "%s", lin + from);
    /* the last line that says something (launchers frame their messages in rules of dashes), else the last */
    size_t say_from = 0, say_to = 0;
    bool said = false;
    for (size_t b = 0, e = 0; b <= len; b = e + 1) {
        e = b + strcspn(lin + b, "\n");
        bool says = false;
        for (size_t i = b; i < e && !says; i++)
            says = isalnum((unsigned char)lin[i]);
        if (says || !said) {
            say_from = b;
            say_to = e;
            said = says;
        }
    }
    snprintf(last, n_last, "%.*s", (int)(say_to - say_from), lin + say_from);
}

/* Reads what fd has now; false at its end (or an error). */
static bool drain(int fd, char *buf, size_t cap, size_t *got) {
    ssize_t n = read(fd, buf, cap);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        *got = 0;
        return true;
    }
    *got = n > 0 ? (size_t)n : 0;
    return n > 0;
}

typedef struct {
    mup_protocol p;
    tail err;
    int status;            /* waitpid's */
    bool timed_out, exited;
    double seconds;
    /* the pruner's side: each report line's objective asked about, each line answered */
    const mup_run_context *ctx;
    int answer;            /* the sweep's end of the answer channel; -1: none */
    int asked, answered;   /* objective points asked about, report lines answered */
    bool pruned;
    int pruned_step, pruned_reports;
    double pruned_at;
} watch;

/* Asks the pruner about each new objective point, then answers each new report line: 's' once the run is
 * stopped, else 'c'. An answer the program does not read (a full channel) is dropped. */
static void answer(watch *w) {
    for (; w->asked < w->p.n_curve; w->asked++)
        if (!w->pruned && w->ctx->report &&
            w->ctx->report(w->ctx->report_arg, w->p.curve_step[w->asked], w->p.sign * w->p.curve_value[w->asked])) {
            w->pruned = true;
            w->pruned_step = w->p.curve_step[w->asked];
            w->pruned_reports = w->p.reports;
            w->pruned_at = mup_tool_now();
        }
    for (; w->answered < w->p.reports; w->answered++)
        if (w->answer >= 0)
            (void)!send(w->answer, w->pruned ? "s" : "c", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* A run told to stop that goes on reporting, or outlives its grace, is ended. */
static bool stop_due(const watch *w) {
    return w->pruned && (w->p.reports > w->pruned_reports || mup_tool_now() - w->pruned_at > STOP_GRACE_S);
}

/* Bytes read from the report channel (k 0) or stderr (k 1). */
static void take(watch *w, int k, const char *buf, size_t got, FILE *err_log) {
    if (k == 0) {
        mup_protocol_feed(&w->p, buf, got);
        if (!w->p.bad)
            answer(w);
        return;
    }
    tail_add(&w->err, buf, got);
    if (err_log)
        fwrite(buf, 1, got, err_log);
}

/* Takes what a report file has gained since the last look (a file's end is not the writer's). */
static void read_file(watch *w, int fd, char *buf, size_t cap) {
    size_t got;
    while (!w->p.bad && drain(fd, buf, cap, &got) && got > 0)
        take(w, 0, buf, got, NULL);
}

/* Ends the program's process group. A launcher is asked first (SIGTERM), so that it ends its ranks on
 * every node, and killed if it has not exited within LAUNCHER_GRACE_S. */
static void end_group(watch *w, pid_t pid, bool launcher) {
    if (launcher && !w->exited) {
        kill(-pid, SIGTERM);
        double t0 = mup_tool_now();
        while (!(w->exited = waitpid(pid, &w->status, WNOHANG) == pid) && mup_tool_now() - t0 < LAUNCHER_GRACE_S)
            nanosleep(&(struct timespec){0, POLL_MS * 1000000L}, NULL);
    }
    kill(-pid, SIGKILL);
    if (!w->exited)
        waitpid(pid, &w->status, 0);
}

/* Reads the program's report channel and stderr until it exits, times out or writes a bad line; then
 * ends its process group. The channel is a pipe, or a file when launched (from_file), which poll
 * cannot wait on: it is read at every turn. */
static void follow(watch *w, pid_t pid, int report, bool from_file, int err, FILE *err_log, double timeout) {
    double t0 = mup_tool_now();
    struct pollfd fds[2] = {{.fd = from_file ? -1 : report, .events = POLLIN}, {.fd = err, .events = POLLIN}};
    char buf[65536];
    while (!w->exited && !w->p.bad && !stop_due(w)) {
        /* once both pipes are closed, the exit is a moment away: look again soon */
        int wait_ms = fds[0].fd < 0 && fds[1].fd < 0 && !from_file ? 1 : POLL_MS;
        if (timeout > 0) {
            double left = timeout - (mup_tool_now() - t0);
            if (left <= 0) {
                w->timed_out = true;
                break;
            }
            if (left * 1000 < wait_ms)
                wait_ms = (int)(left * 1000) + 1;
        }
        poll(fds, 2, wait_ms);
        for (int k = 0; k < 2; k++) {
            size_t got;
            if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            bool open_still = drain(fds[k].fd, buf, sizeof buf, &got);
            take(w, k, buf, got, err_log);
            if (!open_still)
                fds[k].fd = -1;
        }
        if (from_file)
            read_file(w, report, buf, sizeof buf);
        w->exited = waitpid(pid, &w->status, WNOHANG) == pid;
    }
    /* the program's children end with it; what it wrote before is still in the pipes */
    end_group(w, pid, from_file);
    for (int k = 0; k < 2; k++) {
        size_t got;
        while (fds[k].fd >= 0 && !w->p.bad && drain(fds[k].fd, buf, sizeof buf, &got) && got > 0)
            take(w, k, buf, got, err_log);
    }
    if (from_file)
        read_file(w, report, buf, sizeof buf);
    w->seconds = mup_tool_now() - t0;
}

/* How the run ended (docs/trial-protocol.md, "Outcomes"). */
static mup_run_status judge(const mup_sweep_config *c, const watch *w, const char *last, char *msg, size_t n) {
    const mup_protocol *p = &w->p;
    char why[400] = "";
    mup_run_status st = MUP_RUN_FAILED;
    if (w->pruned)
        st = MUP_RUN_PRUNED, snprintf(why, sizeof why, "pruned at step %d", w->pruned_step);
    else if (p->bad)
        snprintf(why, sizeof why, "%s", p->error);
    else if (w->timed_out)
        snprintf(why, sizeof why, "timed out after %g s (program.timeout)", c->program.timeout);
    else if (p->has_final && p->has_objective && !isfinite(p->objective_value))
        st = MUP_RUN_DIVERGED, snprintf(why, sizeof why, "%s is not finite in the final report", c->metric);
    else if (p->nonfinite_step >= 0 && !(p->has_final && p->has_objective))
        st = MUP_RUN_DIVERGED, snprintf(why, sizeof why, "%s is not finite at step %d", c->metric, p->nonfinite_step);
    else if (WIFSIGNALED(w->status))
        snprintf(why, sizeof why, "killed by signal %d (%s)", WTERMSIG(w->status), strsignal(WTERMSIG(w->status)));
    else if (WEXITSTATUS(w->status) == 127 && !p->lines)
        snprintf(why, sizeof why, "exit status 127 (the command could not be started?)");
    else if (WEXITSTATUS(w->status) != 0)
        snprintf(why, sizeof why, "exit status %d", WEXITSTATUS(w->status));
    else if (!p->has_final)
        snprintf(why, sizeof why, "no final report");
    else if (!p->has_objective)
        snprintf(why, sizeof why, "no %s reported", c->metric);
    else
        st = MUP_RUN_COMPLETE;
    if (st == MUP_RUN_COMPLETE)
        snprintf(msg, n, "%s", "");
    else if (st == MUP_RUN_PRUNED)
        snprintf(msg, n, "%s", why);
    else if (*last && st == MUP_RUN_FAILED)
        snprintf(msg, n, "%s; stderr: %.120s", why, last);
    else
        snprintf(msg, n, "%s", why);
    return st;
}

static char *program_run(mup_executor *x, const mup_sweep_run *run, const mup_run_context *ctx) {
    const mup_sweep_config *c = x->c;
    char runs[RUN_PATH], run_dir[RUN_PATH], trial_file[RUN_PATH], checkpoint[RUN_PATH], path[RUN_PATH];
    char report_file[RUN_PATH];
    snprintf(runs, sizeof runs, "%.2047s/runs", x->dir);
    snprintf(run_dir, sizeof run_dir, "%.2047s/runs/%.47s", x->dir, run->id);
    snprintf(trial_file, sizeof trial_file, "%.2047s/runs/%.47s/trial.json", x->dir, run->id);
    snprintf(checkpoint, sizeof checkpoint, "%.2047s/runs/%.47s/checkpoint", x->dir, run->id);
    snprintf(report_file, sizeof report_file, "%.2047s/runs/%.47s/reports.jsonl", x->dir, run->id);
    bool launched = c->program.mpi && run->phase == MUP_PHASE_TARGET && ctx->ranks > 1;
    trial t = {c, run, run_dir, run->phase == MUP_PHASE_TARGET ? checkpoint : NULL, trial_file,
               launched ? ctx->ranks : 1, ctx->hosts, launched ? report_file : NULL};
    watch w = {.status = 0, .ctx = ctx, .answer = -1};
    mup_protocol_init(&w.p, c->metric, c->maximize ? -1.0 : 1.0);
    char message[600] = "", tail_lines[TAIL_BYTES + 1] = "", last[TAIL_BYTES + 1] = "";
    mup_run_status status = MUP_RUN_FAILED;
    int report[2] = {-1, -1}, err[2] = {-1, -1}, answers[2] = {-1, -1}, out = -1;
    FILE *err_log = NULL;
    mup_status s = make_dir(runs);
    if (!s)
        s = make_dir(run_dir);
    if (!s)
        s = write_trial(&t);
    if (!s) {
        snprintf(path, sizeof path, "%.2047s/runs/%.47s/stdout.log", x->dir, run->id);
        out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        snprintf(path, sizeof path, "%.2047s/runs/%.47s/stderr.log", x->dir, run->id);
        err_log = fopen(path, "we");
        /* a launched run's channel is its file, emptied of an earlier attempt's lines */
        if (launched)
            report[0] = open(report_file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
        /* the answers go over a socket: a send to a program that is gone fails instead of raising SIGPIPE */
        if (out < 0 || !err_log || pipe(err) != 0 || (launched && report[0] < 0) ||
            (!launched && (pipe(report) != 0 ||
                           socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, answers) != 0)))
            s = mup_error(MUP_ERR_IO, "cannot set up the run's files and pipes in %s: %s", run_dir, strerror(errno));
    }
    for (int k = 0; k < 2 && !s; k++) {
        if (!launched)
            fcntl(report[k], F_SETFD, FD_CLOEXEC);
        fcntl(err[k], F_SETFD, FD_CLOEXEC);
    }
    /* the child's ends above ANSWER_FD, so that its dup2s onto 3 and 4 cannot overwrite one another */
    int *ends[2] = {&report[1], &answers[1]};
    for (int k = 0; k < 2 && !s; k++)
        if (*ends[k] >= 0 && *ends[k] <= ANSWER_FD) {
            int hi = fcntl(*ends[k], F_DUPFD_CLOEXEC, ANSWER_FD + 1);
            if (hi < 0)
                s = mup_error(MUP_ERR_IO, "cannot set up the run's pipes: %s", strerror(errno));
            else {
                close(*ends[k]);
                *ends[k] = hi;
            }
        }
    if (s) {
        snprintf(message, sizeof message, "%s", mup_error_message());
    } else {
        /* launched: the launcher's arguments, then the program's path and arguments as the launcher's */
        int n_launcher = launched ? c->program.launcher_argc : 0;
        char **argv = mup_tool_xcalloc((size_t)(n_launcher + c->program.argc) + 1, sizeof *argv);
        for (int a = 0; a < n_launcher; a++)
            argv[a] = a == 0 ? mup_tool_xstrdup(c->program.launcher[0]) : substitute(&t, c->program.launcher[a]);
        argv[n_launcher] = mup_tool_xstrdup(launched ? x->command : c->program.argv[0]);
        for (int a = 1; a < c->program.argc; a++)
            argv[n_launcher + a] = substitute(&t, c->program.argv[a]);
        char **env = make_env(c, &t, ctx->threads);
        ending_signal = launched ? SIGTERM : SIGKILL;
        struct sigaction on = {.sa_handler = on_signal}, old[3];
        sigemptyset(&on.sa_mask);
        for (int k = 0; k < 3; k++)
            sigaction(forwarded[k], &on, &old[k]);
        pid_t pid = start(launched ? x->launcher : x->command, argv, env, c->program.cwd, report[1], answers[1],
                          err[1], out);
        close(report[1]);
        close(err[1]);
        close(answers[1]);
        report[1] = err[1] = answers[1] = -1;
        w.answer = answers[0];
        if (pid < 0) {
            snprintf(message, sizeof message, "cannot start the program: %s", strerror(errno));
        } else {
            setpgid(pid, pid); /* also here, so that the group exists before any kill of it */
            running_group = pid;
            fcntl(report[0], F_SETFL, O_NONBLOCK);
            fcntl(err[0], F_SETFL, O_NONBLOCK);
            follow(&w, pid, report[0], launched, err[0], err_log, c->program.timeout);
            running_group = 0;
            tail_text(&w.err, tail_lines, sizeof tail_lines, last, sizeof last);
            status = judge(c, &w, last, message, sizeof message);
        }
        for (int k = 0; k < 3; k++)
            sigaction(forwarded[k], &old[k], NULL);
        free_list(argv);
        free_list(env);
    }
    int fds[] = {report[0], report[1], err[0], err[1], answers[0], answers[1], out};
    for (size_t k = 0; k < sizeof fds / sizeof fds[0]; k++)
        if (fds[k] >= 0)
            close(fds[k]);
    if (err_log)
        fclose(err_log);
    mup_run_outcome o = {.status = status, .message = message, .report = &w.p, .seconds = w.seconds,
                         .stderr_tail = status == MUP_RUN_COMPLETE ? NULL : tail_lines, .threads = ctx->threads,
                         .worker = ctx->worker, .ranks = t.ranks};
    char *line = mup_run_record_line(c, run, &o);
    mup_protocol_free(&w.p);
    return line;
}

const mup_executor_ops mup_program_executor = {program_prepare, program_cost, program_run, program_close};
