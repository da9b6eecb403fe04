/* mup-coord's settings: the run spec's sections (model, mup, train, data) and a "coord" section, from a
 * JSON config and from command-line flags (flags win). Every error names the flag or key. */
#ifndef MUP_SWEEP_COORD_CONFIG_H
#define MUP_SWEEP_COORD_CONFIG_H

#include <stdbool.h>

#include "spec.h"

typedef enum { MUP_COORD_PARAM_MUP, MUP_COORD_PARAM_SP, MUP_COORD_PARAM_BOTH } mup_coord_param;

#define MUP_COORD_MAX_WIDTHS 32

typedef struct {
    mup_run_spec spec;          /* width, seed and parametrization are set per run */
    struct {
        int widths[MUP_COORD_MAX_WIDTHS]; /* increasing */
        int n_widths;
        int depths[MUP_COORD_MAX_WIDTHS]; /* increasing; n_depths > 0: the check is across depth */
        int n_depths;
        int width;                  /* of the check across depth; 0: 2 × mup.base_width */
        int steps, seeds, seed;
        mup_coord_param param;
        int batch;
        double factor;
    } coord;
    char out[MUP_SPEC_PATH_MAX];
    bool check_finite;          /* --check-finite: the NaN detector (mup_graph_check_finite) */
    bool help, version;
} mup_coord_config;

/* Defaults (the run spec's, with mup-coord's own for the chosen model family and optimizer), then the
 * config file (--config FILE or a first argument not starting with "--"), then the flags.
 * MUP_ERR_INVALID or _PARSE naming the flag or key; MUP_ERR_IO for an unreadable file. On success the
 * spec has been checked at every width (across depth: at every depth, at coord.width). */
mup_status mup_coord_config_parse(int argc, char **argv, mup_coord_config *c);

/* The width of a check across depth: coord.width, or 2 × mup.base_width. */
int mup_coord_depth_width(const mup_coord_config *c);

/* The --help text. */
void mup_coord_config_usage(FILE *f);

#endif
