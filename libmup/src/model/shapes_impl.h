/* Between the two sources of base shapes (models, .bsh files) and the code that applies them. */
#ifndef MUP_SHAPES_IMPL_H
#define MUP_SHAPES_IMPL_H

#include "mup/model.h"

typedef struct {
    int base[MUP_MAX_DIMS];
    bool width[MUP_MAX_DIMS];
} mup_infshape_row;

/* rows[i] describes M's i-th parameter. rows == NULL only reports a second call. */
mup_status mup_apply_infshapes(mup_model *M, const mup_infshape_row *rows);

#endif
