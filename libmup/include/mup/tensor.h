/* Tensors: float32, up to four dimensions, contiguous row-major.
 * A tensor never owns its memory. Parameters point into their model's slabs; activations and their
 * gradients live in a graph's step arena. Weights are stored (fan_out, fan_in). */
#ifndef MUP_TENSOR_H
#define MUP_TENSOR_H

#include "mup/api.h"

#include <stdbool.h>
#include <stddef.h>

#define MUP_MAX_DIMS 4

typedef struct mup_tensor {
    float *data;
    float *grad;             /* same shape as data; NULL until something needs it */
    int ndim;
    int shape[MUP_MAX_DIMS];
    long size;               /* product of shape */
    bool requires_grad;      /* a parameter, or computed from one */
    const char *name;        /* the parameter's or layer's name, for messages; may be NULL */
} mup_tensor;

/* Number of rows when the last dimension is the row length: size / shape[ndim-1]. */
static inline long mup_tensor_rows(const mup_tensor *t) { return t->size / t->shape[t->ndim - 1]; }
static inline int mup_tensor_cols(const mup_tensor *t) { return t->shape[t->ndim - 1]; }

MUP_API bool mup_tensor_same_shape(const mup_tensor *a, const mup_tensor *b);
/* "(3, 8, 13)" into buf; returns buf. */
MUP_API const char *mup_shape_str(const mup_tensor *t, char *buf, size_t len);
/* Sets ndim, shape and size from a shape array, asserting each dimension is positive. */
MUP_API void mup_tensor_set_shape(mup_tensor *t, int ndim, const int *shape);

#endif
