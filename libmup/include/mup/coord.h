/* The coordinate check: does a model's every layer stay the same size as it gets wider?
 *
 * The model is built at several widths and seeds and trained for a few steps on ONE fixed batch.
 * At every step t = 1..T (t = 1 is the forward pass before the first update) every layer the model
 * taps (mup_graph_tap: the library's modules tap their outputs by name) is summarised by the mean
 * |x| of its output (l1), its root mean square and its standard deviation, accumulated in double.
 * Under µP each layer's l1 is about constant in width at every step; under SP with Adam the hidden
 * layers and the output grow after the first update.
 *
 * The verdict fits, for each layer and step, log(l1) = a_s + b log(width) by least squares over every
 * width and seed, with one intercept a_s per seed and one slope b (with every seed at every width, b is
 * the mean of the per-seed slopes). Its standard error se comes from the residuals, which hold both
 * the spread over seeds and the departure from a straight line, over dof = seeds (widths - 1) - 1
 * degrees of freedom; the span of widths enters through the spread of log(width). The slope is
 * allowed in [lo, hi] = [-tol, tol] with tol = log(factor) / log(4) (factor 1.2 by default: l1 may
 * change by 1.2x per 4x of width). At t = 1 the readout's output and attention logits may shrink like
 * 1/sqrt(width) (the µP readout divides by the width multiplier and the µP attention by d_head, while
 * their inputs are not yet correlated with the weights), so there lo = -0.5 - tol. With Student's t
 * quantiles at dof, and m = steps x layers layer-steps:
 *   FAIL          b - k_fail se > hi or b + k_fail se < lo, k_fail = t(1 - alpha / m)
 *                 (Bonferroni: the chance that any layer-step of a model inside the band fails is at
 *                 most alpha);
 *   PASS          lo <= b - k_pass se and b + k_pass se <= hi, k_pass = t(1 - alpha)
 *                 (the one-sided intervals inside the band: an equivalence test);
 *   INCONCLUSIVE  otherwise, and whenever dof is 0 (two widths and one seed measure no noise).
 * A layer whose l1 is 0 at every width and seed (a zero readout at t = 1) passes; one whose l1 is 0
 * at some widths only, or not finite (a diverged run), fails with a NaN slope. The check fails when
 * any layer-step fails, passes when every one passes, and is inconclusive otherwise.
 *
 * A user's own model works as the library's do: give a builder that returns it at a width, with a
 * function computing its loss on the fixed batch. */
#ifndef MUP_COORD_H
#define MUP_COORD_H

#include "mup/api.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mup/error.h"
#include "mup/model.h"
#include "mup/optim.h"

/* One model built for the check. */
typedef struct mup_coord_model {
    mup_model *model;      /* base shapes set (µP or SP) and initialised */
    void *net;             /* the builder's own data: the network, the batch */
    /* The loss of the fixed batch, built in g (a training graph of model). It must be the same batch
     * at every call. */
    mup_tensor *(*loss)(struct mup_coord_model *m, mup_graph *g);
    /* Frees model and net. */
    void (*release)(struct mup_coord_model *m);
} mup_coord_model;

/* Builds the model at width, initialised from seed, into *out. An error stops the check. */
typedef mup_status (*mup_coord_build_fn)(void *ctx, int width, uint64_t seed, mup_coord_model *out);

typedef struct {
    const int *widths;     /* at least two, distinct and positive */
    int n_widths;
    int steps;             /* T >= 1 */
    int seeds;             /* runs per width, from seeds first_seed, first_seed + 1, ...; 0 means 1 */
    uint64_t first_seed;
    mup_optim_opts optim;  /* checked with mup_optim_opts_check */
    double factor;         /* allowed change of l1 per 4x of width; 0 means 1.2 */
    double alpha;          /* the verdict's error rate, in (0, 0.5); 0 means 0.05 */
    bool check_finite;     /* debug: stop (MUP_ERR_DIVERGED) at the first NaN or inf, naming its op and layer */
    const char *axis;      /* what the widths are, in the verdict's words: NULL "width"; "depth" when the
                            * builder takes them as depths (a check across depth at a fixed width) */
} mup_coord_opts;

#define MUP_COORD_DEFAULT_FACTOR 1.2
#define MUP_COORD_DEFAULT_ALPHA 0.05

typedef struct {
    double l1;             /* mean |x| */
    double rms;            /* sqrt(mean x^2) */
    double std;            /* sqrt(mean (x - mean x)^2) */
} mup_coord_stat;

typedef struct {
    char name[MUP_NAME_MAX];
    /* The readout's output (a layer with a readout weight or bias "<name>.weight"/"<name>.bias") or
     * attention logits ("<name>.logits"): at t = 1 it may shrink like 1/sqrt(width). */
    bool init_shrink;
} mup_coord_layer;

typedef enum { MUP_COORD_PASS, MUP_COORD_FAIL, MUP_COORD_INCONCLUSIVE } mup_coord_status;

typedef struct {
    double slope;          /* d log l1 / d log width; NAN when l1 is 0 or not finite somewhere */
    double se;             /* its standard error; INFINITY when dof is 0, NAN with the slope */
    double ratio;          /* 4^slope: the factor l1 changes by per 4x of width */
    double lo, hi;         /* the slopes allowed */
    bool zero;             /* l1 is 0 at every width and seed */
    mup_coord_status status;
} mup_coord_verdict;

typedef struct {
    mup_parametrization parametrization;  /* of the models built */
    char axis[16];             /* opts->axis: "width" or what the widths stand for ("depth") */
    int n_widths, n_seeds, steps, n_layers;
    int *widths;
    uint64_t *seeds;
    mup_coord_layer *layers;   /* in the order of their first tap */
    mup_coord_stat *stats;     /* (n_widths, n_seeds, steps, n_layers) */
    double factor, alpha;
    int dof;                   /* of each slope's standard error: n_seeds (n_widths - 1) - 1 */
    double k_pass, k_fail;     /* the Student t quantiles the verdict uses (NAN when dof is 0) */
    mup_coord_verdict *verdict; /* (steps, n_layers) */
    int n_failed, n_inconclusive; /* (step, layer) pairs that fail; that are inconclusive */
    mup_coord_status status;   /* FAIL if any pair fails, else INCONCLUSIVE if any is, else PASS */
} mup_coord_result;

/* Runs the check: for each width and seed, builds the model, then for t = 1..T computes the loss of
 * the fixed batch with the layers tapped, and (for t < T) backpropagates and takes an optimizer step
 * with opts->optim. Then judges with opts->factor and opts->alpha. The layers are found during the
 * first step of the first model; after that the steps allocate nothing. Free *out with mup_coord_result_free (also
 * after an error). Errors: MUP_ERR_INVALID for options out of range or a model that taps no layer;
 * the builder's error, with the width and seed; MUP_ERR_SHAPE when a step taps other layers than the
 * first step of the first model did; with check_finite, MUP_ERR_DIVERGED naming the width, seed, step,
 * op and layer of the first NaN or inf. */
MUP_API mup_status mup_coord_run(mup_coord_build_fn build, void *ctx, const mup_coord_opts *opts, mup_coord_result *out);
MUP_API void mup_coord_result_free(mup_coord_result *r);

/* The stats of width index w, seed index s, step index t (0-based: t = 0 is step 1), layer l. */
MUP_API const mup_coord_stat *mup_coord_stat_at(const mup_coord_result *r, int w, int s, int t, int l);
MUP_API const mup_coord_verdict *mup_coord_verdict_at(const mup_coord_result *r, int t, int l);
/* The index of a layer by name, or -1. */
MUP_API int mup_coord_find_layer(const mup_coord_result *r, const char *name);

/* Judges r again with another factor (0 means 1.2) and alpha (0 means 0.05): sets factor, alpha, dof,
 * k_pass, k_fail, verdict, n_failed, n_inconclusive and status. */
MUP_API void mup_coord_judge(mup_coord_result *r, double factor, double alpha);

/* "PASS", "FAIL" or "INCONCLUSIVE". */
MUP_API const char *mup_coord_status_name(mup_coord_status s);

/* The verdict as a table (layer, step, slope, ratio per 4x, standard error, PASS/FAIL/INCONCLUSIVE)
 * and a summary line. */
MUP_API void mup_coord_print_verdict(const mup_coord_result *r, FILE *f);

/* One row per (parametrization, width, seed, step, layer), runs in order, written as:
 * HDF5: dataset "coord", a 1-D table of the compound type
 *   {parametrization: string[8], width: int32, seed: uint64, step: int32, layer: string[96],
 *    l1, rms, std: float64} (fixed-length null-terminated strings), and dataset "verdict",
 *   {parametrization: string[8], layer: string[96], step: int32, slope, se, ratio, lo, hi: float64,
 *    status: string[16] (PASS, FAIL or INCONCLUSIVE)}; root attributes format = "libmup-coord",
 *   version = 2, factor, alpha.
 * CSV: a header line "parametrization,width,seed,step,layer,l1,rms,std", then the rows with %.17g. */
MUP_API mup_status mup_coord_save_h5(const char *path, const mup_coord_result *const *runs, int n_runs);
MUP_API mup_status mup_coord_save_csv(const char *path, const mup_coord_result *const *runs, int n_runs);

#endif
