/* What a transfer's result may hide, said in report.md and on stderr: a transferred value on the edge
 * of its searched range (the optimum may lie outside it), narrower proxies whose optimum sits more
 * than one grid step (or, for random and Sobol search, the spacing of as many points on a grid) away
 * from the widest proxy's, and a target narrower than the proxies. */
#ifndef MUP_SWEEP_WARNINGS_H
#define MUP_SWEEP_WARNINGS_H

#include "config.h"
#include "transfer.h"

#define MUP_WARNINGS_MAX 16

typedef struct {
    int n;
    char text[MUP_WARNINGS_MAX][320];
} mup_transfer_warnings;

void mup_transfer_warn(const mup_sweep_config *c, const mup_transfer *t, mup_transfer_warnings *w);

#endif
