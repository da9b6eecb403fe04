/* mup-coord's verdict as JSON (DIR/verdict.json), for scripts that would otherwise parse the printed
 * table; the fields are listed in docs/coord-check.md. */
#ifndef MUP_SWEEP_COORD_VERDICT_H
#define MUP_SWEEP_COORD_VERDICT_H

#include "mup/coord.h"

/* mup-coord's exit status for a check's overall verdict: 0 PASS, 1 FAIL, 3 INCONCLUSIVE (2 is bad
 * input). */
enum {
    MUP_COORD_EXIT_PASS = 0,
    MUP_COORD_EXIT_FAIL = 1,
    MUP_COORD_EXIT_BAD_INPUT = 2,
    MUP_COORD_EXIT_INCONCLUSIVE = 3,
};
int mup_coord_exit_status(mup_coord_status s);

/* Writes DIR/verdict.json: the overall verdict (runs[0]'s, the one the exit status follows), and per
 * run (parametrization) the rule's numbers, the counts and every layer-step's slope, standard error,
 * bounds and status. MUP_ERR_IO naming the file when it cannot be written. */
mup_status mup_coord_write_verdict(const char *dir, const mup_coord_result *const *runs, int n_runs);

#endif
