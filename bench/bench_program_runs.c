/* The sweep's own cost per program run (spawn, trial file, report channel, journal), side by side with
 * the program started alone:
 *
 *   build/bench/bench_program_runs [RUNS]      (default 200; from the build directory's parent)
 *
 * Sweeps build/bench/noop_trial (a program that does nothing but read its trial and report) over RUNS
 * and over RUNS / 4 trials at one width with --jobs 1 (the difference per run leaves out what a sweep
 * costs once: its start, the report, the plots), and starts the same program RUNS times with a trial
 * of its own, spawn and wait only. The difference per run is what the sweep adds, in wall time and in CPU time
 * (user + system of the processes, which a loaded machine inflates less than the wall time). */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

extern char **environ;

/* CPU seconds of the children reaped so far. */
static double children_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int spawn_wait(char *const argv[], char *const env[], int out_fd) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out_fd >= 0) {
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
    }
    pid_t pid;
    int st = -1;
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, env) == 0)
        waitpid(pid, &st, 0);
    posix_spawn_file_actions_destroy(&fa);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 200;
    char dir[] = "/tmp/mup-bench-XXXXXX", noop[4200], cwd[4096];
    if (runs < 4 || !mkdtemp(dir) || !getcwd(cwd, sizeof cwd))
        return 2;
    snprintf(noop, sizeof noop, "%s/build/bench/noop_trial", cwd);
    FILE *null = fopen("/dev/null", "w");
    double t_sweep = 0, c_sweep = 0;
    int rc = 0;
    for (int k = 0; k < 2; k++) {
        int n = k ? runs : runs / 4;
        char cfg[256], out[256];
        snprintf(cfg, sizeof cfg, "%s/sweep%d.json", dir, k);
        snprintf(out, sizeof out, "%s/out%d", dir, k);
        FILE *f = fopen(cfg, "w");
        fprintf(f, "{\"objective\": \"loss\", \"program\": {\"command\": [\"%s\"]},"
                   " \"search\": {\"sampler\": \"random\", \"trials\": %d, \"space\": {\"lr\": {\"dist\": \"loguniform\","
                   " \"low\": 1e-4, \"high\": 1}}}, \"proxy_widths\": [64]}", noop, n);
        fclose(f);
        char *sweep[] = {"build/sweep/mup-sweep", cfg, "--out", out, "--jobs", "1", NULL};
        double t0 = now(), c0 = children_cpu();
        rc |= spawn_wait(sweep, environ, fileno(null));
        double sign = k ? 1 : -1;
        t_sweep += sign * (now() - t0);
        c_sweep += sign * (children_cpu() - c0);
    }
    /* per run, without what a sweep costs once */
    t_sweep *= (double)runs / (runs - runs / 4);
    c_sweep *= (double)runs / (runs - runs / 4);
    /* the program alone, with a trial file and a report channel that nobody reads */
    char trial[300], env_trial[400];
    snprintf(trial, sizeof trial, "%s/trial.json", dir);
    FILE *f = fopen(trial, "w");
    fprintf(f, "{\"protocol\": 1, \"width\": 64, \"seed\": 1, \"params\": {\"lr\": 0.01}}\n");
    fclose(f);
    snprintf(env_trial, sizeof env_trial, "MUP_TRIAL=%s", trial);
    char *env[] = {env_trial, "MUP_TRIAL_FD=1", NULL};
    char *alone[] = {noop, NULL};
    double t0 = now(), c0 = children_cpu();
    for (int i = 0; i < runs; i++)
        rc |= spawn_wait(alone, env, fileno(null));
    double t_alone = now() - t0, c_alone = children_cpu() - c0;
    printf("program runs: %d, sweep exit %d; ms per run:  wall    CPU\n", runs, rc);
    printf("  sweep, --jobs 1 (per added run)       %7.2f %7.2f\n", 1e3 * t_sweep / runs, 1e3 * c_sweep / runs);
    printf("  program alone                         %7.2f %7.2f\n", 1e3 * t_alone / runs, 1e3 * c_alone / runs);
    printf("  the sweep's own                       %7.2f %7.2f\n", 1e3 * (t_sweep - t_alone) / runs,
           1e3 * (c_sweep - c_alone) / runs);
    char rm[300];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    return system(rm) == 0 && rc == 0 ? 0 : 1;
}
