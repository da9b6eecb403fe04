/* --jobs N: forked workers on one machine. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "worker.h"
#include "mup/threads.h"

#define MONITOR_NS 250000000L

static _Noreturn void child(mup_sweep *S, int from, int to, bool wait, int threads, pid_t parent) {
    /* a worker dies with the sweep that started it, so a killed sweep leaves no runs going */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    mup_sweep_init_worker(S, -1);
    mup_journal_set_quiet(S->j, true);
    S->progress.silent = true;
    S->threads = threads;
    mup_set_num_threads(threads);
    mup_status s = mup_sweep_work(S, from, to, wait);
    /* a journal that is gone is the parent's to tell, once */
    if (s && mup_journal_check(S->j) == MUP_OK)
        fprintf(stderr, "mup-sweep: worker %s: %s\n", S->worker, mup_error_message());
    _exit(s ? 1 : 0);
}

/* Counts the workers that stopped on an error of their own (they told it on stderr); quiet about the
 * ones this process killed. */
static void reap(pid_t *pids, int n, int *alive, int *failed, bool quiet) {
    for (int k = 0; k < n; k++) {
        int st;
        if (pids[k] <= 0 || waitpid(pids[k], &st, WNOHANG) != pids[k])
            continue;
        if (WIFSIGNALED(st) && !quiet)
            fprintf(stderr, "mup-sweep: worker %ld was killed by signal %d (%s); its run is free again\n",
                    (long)pids[k], WTERMSIG(st), strsignal(WTERMSIG(st)));
        else if (!WIFSIGNALED(st) && WEXITSTATUS(st) != 0)
            (*failed)++;
        pids[k] = 0;
        (*alive)--;
    }
}

int mup_sweep_pool_threads(const mup_sweep *S, int workers, int threads) {
    return threads > 0 ? threads : workers > 0 && S->cores / workers > 0 ? S->cores / workers : 1;
}

mup_status mup_sweep_pool(mup_sweep *S, int from, int to, int jobs, int threads, bool wait) {
    int left = mup_sweep_count_left(S, from, to);
    int workers = jobs < left ? jobs : left;
    if (workers == 0)
        return MUP_OK;
    threads = mup_sweep_pool_threads(S, workers, threads);
    pid_t *pids = mup_tool_xcalloc((size_t)workers, sizeof *pids), parent = getpid();
    int alive = 0, failed = 0;
    fflush(NULL);
    for (int k = 0; k < workers; k++) {
        pid_t p = fork();
        if (p == 0)
            child(S, from, to, wait, threads, parent);
        if (p < 0) {
            mup_log(MUP_LOG_WARN, "cannot start worker %d of %d: %s", k + 1, workers, strerror(errno));
            continue;
        }
        pids[k] = p;
        alive++;
    }
    bool gone = false;
    while (alive > 0) {
        nanosleep(&(struct timespec){0, MONITOR_NS}, NULL);
        reap(pids, workers, &alive, &failed, gone);
        /* a deleted output directory stops the workers here, with one line, before they train on for nothing */
        if (!gone && mup_journal_check(S->j) != MUP_OK) {
            gone = true;
            for (int k = 0; k < workers; k++)
                if (pids[k] > 0)
                    kill(pids[k], SIGKILL);
        }
        if (gone)
            continue;
        mup_journal_lock(S->j);
        mup_journal_refresh(S->j);
        mup_journal_unlock(S->j);
        mup_sweep_progress_poll(S);
    }
    free(pids);
    if (gone)
        return mup_journal_check(S->j);
    if (failed)
        return mup_error(MUP_ERR_IO, "%d worker%s stopped on the error above; the journal keeps every finished run: "
                         "rerun to resume", failed, failed == 1 ? "" : "s");
    return MUP_OK;
}
