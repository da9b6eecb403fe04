/* A one-line progress bar with ETA on stderr, drawn only when stderr is a terminal and at most ten
 * times a second. */
#ifndef MUP_PROGRESS_H
#define MUP_PROGRESS_H

#include <stdbool.h>

typedef struct {
    bool on;
    const char *label;
    int total;
    double t_start, t_last;
} mup_progress;

void mup_progress_start(mup_progress *p, bool wanted, const char *label, int total);
/* Redraws if enough time has passed (or force). val_loss NAN: not shown. */
void mup_progress_update(mup_progress *p, int done, double loss, double val_loss, bool force);
void mup_progress_finish(mup_progress *p);

double mup_now(void);

#endif
