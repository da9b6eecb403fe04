/* mup-coord's verdict as JSON (DIR/verdict.json), for scripts that would otherwise parse the printed
 * table; the fields are listed in docs/coord-check.md. */
#ifndef MUP_SWEEP_COORD_VERDICT_H
#define MUP_SWEEP_COORD_VERDICT_H

#include "mup/coord.h"

/* mup-coord's exit status for a check's overall verdict, from the tools' table (cli.h): PASS
 * MUP_EXIT_OK, FAIL MUP_EXIT_FAILED, INCONCLUSIVE MUP_EXIT_INCONCLUSIVE. */
int mup_coord_exit_status(mup_coord_status s);

/* Writes DIR/verdict.json: the overall verdict (runs[0]'s, the one the exit status follows), and per
 * run (parametrization) the rule's numbers, the counts and every layer-step's slope, standard error,
 * bounds and status. MUP_ERR_IO naming the file when it cannot be written. */
mup_status mup_coord_write_verdict(const char *dir, const mup_coord_result *const *runs, int n_runs);

#endif
