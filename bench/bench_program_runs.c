/* The sweep's own cost per program run (spawn, trial file, report channel, journal), side by side with
 * the program started alone:
 *
 *   build/bench/bench_program_runs [RUNS]      (default 200; from the build directory's parent)
 *
 * Sweeps build/bench/noop_trial (a program that does nothing but read its trial and report) over RUNS
 * trials at one width with --jobs 1, and starts the same program RUNS times with a trial of its own,
 * spawn and wait only. The difference per run is what the sweep adds. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

extern char **environ;

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
    char dir[] = "/tmp/mup-bench-XXXXXX", cfg[256], out[256], noop[4200], cwd[4096];
    if (runs < 1 || !mkdtemp(dir) || !getcwd(cwd, sizeof cwd))
        return 2;
    snprintf(noop, sizeof noop, "%s/build/bench/noop_trial", cwd);
    snprintf(cfg, sizeof cfg, "%s/sweep.json", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    FILE *f = fopen(cfg, "w");
    fprintf(f, "{\"objective\": \"loss\", \"program\": {\"command\": [\"%s\"]},"
               " \"search\": {\"sampler\": \"random\", \"trials\": %d, \"space\": {\"lr\": {\"dist\": \"loguniform\","
               " \"low\": 1e-4, \"high\": 1}}}, \"proxy_widths\": [64]}", noop, runs);
    fclose(f);
    FILE *null = fopen("/dev/null", "w");
    char *sweep[] = {"build/sweep/mup-sweep", cfg, "--out", out, "--jobs", "1", NULL};
    double t0 = now();
    int rc = spawn_wait(sweep, environ, fileno(null));
    double t_sweep = now() - t0;
    /* the program alone, with a trial file and a report channel that nobody reads */
    char trial[300], env_trial[400];
    snprintf(trial, sizeof trial, "%s/trial.json", dir);
    f = fopen(trial, "w");
    fprintf(f, "{\"protocol\": 1, \"width\": 64, \"seed\": 1, \"params\": {\"lr\": 0.01}}\n");
    fclose(f);
    snprintf(env_trial, sizeof env_trial, "MUP_TRIAL=%s", trial);
    char *env[] = {env_trial, "MUP_TRIAL_FD=1", NULL};
    char *alone[] = {noop, NULL};
    t0 = now();
    for (int i = 0; i < runs; i++)
        rc |= spawn_wait(alone, env, fileno(null));
    double t_alone = now() - t0;
    printf("program runs: %d, sweep exit %d\n", runs, rc);
    printf("  sweep, --jobs 1     %7.2f ms per run (whole command: %.2f s)\n", 1e3 * t_sweep / runs, t_sweep);
    printf("  program alone       %7.2f ms per run\n", 1e3 * t_alone / runs);
    printf("  the sweep's own     %7.2f ms per run\n", 1e3 * (t_sweep - t_alone) / runs);
    char rm[300];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    return system(rm) == 0 && rc == 0 ? 0 : 1;
}
