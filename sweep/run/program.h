/* Program runs: the user's own training program, started once per run through the trial protocol
 * (docs/trial-protocol.md). The executor is mup_program_executor (executor.h); here are the checks
 * of a config's program section. */
#ifndef MUP_SWEEP_PROGRAM_H
#define MUP_SWEEP_PROGRAM_H

#include "config.h"

/* The names every trial gives a program besides its searched keys, as {name} in its arguments. */
extern const char *const mup_trial_fields[];

/* program.launcher when program.mpi is set and no launcher is given: Open MPI's mpirun, on the ranks and
 * hosts of the sweep's own job (MPICH's mpiexec takes the same arguments). */
#define MUP_DEFAULT_LAUNCHER "mpirun", "-n", "{ranks}", "--host", "{hosts}"

/* Every {name} in program.command must be a trial field or a searched key, and in program.launcher
 * {ranks} or {hosts}; "{{" and "}}" stand for braces. The error names the argument. */
mup_status mup_program_check_args(const mup_sweep_config *c);

/* A command's path: cmd when it holds a '/' (relative to program.cwd when that is set), else the first
 * executable of that name in PATH. Refuses (one line, starting with what: "program.command") a command
 * that is missing, a directory or not executable. malloc'd in *path. */
mup_status mup_program_resolve(const mup_sweep_config *c, const char *what, const char *cmd, char **path);

#endif
