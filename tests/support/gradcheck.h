/* Finite-difference gradient checks: the analytic gradient of L = sum(out * R) (R a fixed random
 * tensor) against central differences of L computed in double precision. */
#ifndef MUP_GRADCHECK_H
#define MUP_GRADCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "mup/mup.h"

typedef mup_tensor *(*gc_fn)(mup_graph *g, mup_tensor **in, void *ctx);

typedef struct {
    int ndim;
    int shape[MUP_MAX_DIMS];
    bool no_grad;          /* an input the op does not differentiate */
    float min_abs;         /* keep |x| >= min_abs (away from kinks such as relu's at 0) */
    float scale;           /* N(0, scale²) values; 0 means 1 */
} gc_input;

typedef struct {
    double max_err;        /* max over checked elements of |analytic - numeric| / (atol + rtol * |numeric|) */
    long checked;
    char worst[160];       /* where the worst element was, for the failure message */
} gc_result;

/* Checks every input element (or 300 random ones per input when it is larger). A result with
 * max_err <= 1 passes. */
gc_result gradcheck(gc_fn fn, void *ctx, int n_in, const gc_input *in, uint64_t seed);

#define GC_EXPECT(res) \
    cr_assert((res).max_err <= 1.0, "gradient check failed: %s (error %.3g of tolerance, %ld checked)", \
              (res).worst, (res).max_err, (res).checked)

#endif
