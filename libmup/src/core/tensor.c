#include "mup/tensor.h"

#include <stdio.h>

#include "mup/error.h"

bool mup_tensor_same_shape(const mup_tensor *a, const mup_tensor *b) {
    if (a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return false;
    return true;
}

const char *mup_shape_str(const mup_tensor *t, char *buf, size_t len) {
    size_t used = (size_t)snprintf(buf, len, "(");
    for (int i = 0; i < t->ndim && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, i ? ", %d" : "%d", t->shape[i]);
    if (used < len)
        snprintf(buf + used, len - used, ")");
    return buf;
}

void mup_tensor_set_shape(mup_tensor *t, int ndim, const int *shape) {
    MUP_ASSERT(ndim >= 1 && ndim <= MUP_MAX_DIMS, "tensor rank %d is outside 1..%d", ndim, MUP_MAX_DIMS);
    t->ndim = ndim;
    t->size = 1;
    for (int i = 0; i < ndim; i++) {
        MUP_ASSERT(shape[i] > 0, "dimension %d of a tensor is %d; dimensions must be positive", i, shape[i]);
        t->shape[i] = shape[i];
        t->size *= shape[i];
    }
    for (int i = ndim; i < MUP_MAX_DIMS; i++)
        t->shape[i] = 1;
}
