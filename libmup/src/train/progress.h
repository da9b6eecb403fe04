/* Progress with ETA on stderr: on a terminal a one-line bar redrawn at most ten times a second; in a
 * log file (stderr not a terminal: Slurm, a pipe) a line at each tenth of the run and at least once
 * a minute, so that a long run shows it is alive without filling the log. */
#ifndef MUP_PROGRESS_H
#define MUP_PROGRESS_H

#include <stdbool.h>

typedef struct {
    bool on, tty;
    const char *label;
    int total, done_last;
    double t_start, t_last;
} mup_progress;

void mup_progress_start(mup_progress *p, bool wanted, const char *label, int total);
/* Redraws if enough time has passed (or force). val_loss NAN: not shown. */
void mup_progress_update(mup_progress *p, int done, double loss, double val_loss, bool force);
void mup_progress_finish(mup_progress *p);

double mup_now(void);

#endif
