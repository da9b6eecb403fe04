/* reshape (a view), transpose and slice (copies). Letters: N rows, C columns (the last dimension). */
#include <string.h>

#include "internal.h"
#include "mup/error.h"
#include "mup/ops.h"

/* ---- reshape: the output shares the input's data; only the gradient is a separate buffer ---- */

static void reshape_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *a = n->in[0];
    float *da = mup_grad(g, a);
    const float *dy = n->out->grad;
    MUP_PARALLEL_FOR(a->size, i, a->size, {
        da[i] += dy[i];
    });
}

static const mup_op op_reshape = {"reshape", reshape_backward};

mup_tensor *mup_reshape(mup_graph *g, mup_tensor *a, int ndim, const int *shape) {
    char as[64], ys[64];
    mup_tensor *y = mup_graph_alloc(g, sizeof *y);
    *y = (mup_tensor){.data = a->data};
    mup_tensor_set_shape(y, ndim, shape);
    MUP_ASSERT(y->size == a->size, "reshape: %s%s%s has %ld elements, the new shape %s has %ld",
               a->name ? a->name : "", a->name ? " " : "", mup_shape_str(a, as, sizeof as), a->size,
               mup_shape_str(y, ys, sizeof ys), y->size);
    mup_graph_record(g, &op_reshape, y, a, NULL, NULL);
    return y;
}

/* ---- transpose ---- */

/* dst += src (s0,s1,s2,s3) with axes d0 and d1 swapped; lower ranks are padded with leading 1s */
static void swap_axes_add(float *dst, const float *src, const int s[MUP_MAX_DIMS], int d0, int d1) {
    int ds[MUP_MAX_DIMS] = {s[0], s[1], s[2], s[3]};
    ds[d0] = s[d1];
    ds[d1] = s[d0];
    long st[MUP_MAX_DIMS]; /* st[k]: dst stride of src axis k */
    st[3] = 1;
    for (int k = 2; k >= 0; k--)
        st[k] = st[k + 1] * ds[k + 1];
    long t = st[d0];
    st[d0] = st[d1];
    st[d1] = t;
    long total = (long)s[0] * s[1] * s[2] * s[3];
    MUP_PARALLEL_FOR(total, i01, (long)s[0] * s[1], {
        long i0 = i01 / s[1], i1 = i01 % s[1];
        const float *in = src + i01 * s[2] * s[3];
        for (int i2 = 0; i2 < s[2]; i2++)
            for (int i3 = 0; i3 < s[3]; i3++)
                dst[i0 * st[0] + i1 * st[1] + i2 * st[2] + i3 * st[3]] += *in++;
    });
}

/* t's shape padded with leading 1s to four dimensions */
static void padded_shape(int s[MUP_MAX_DIMS], const mup_tensor *t) {
    int pad = MUP_MAX_DIMS - t->ndim;
    for (int k = 0; k < MUP_MAX_DIMS; k++)
        s[k] = k < pad ? 1 : t->shape[k - pad];
}

static void transpose_backward(mup_graph *g, const mup_node *n) {
    int s[MUP_MAX_DIMS], pad = MUP_MAX_DIMS - n->out->ndim;
    padded_shape(s, n->out);
    swap_axes_add(mup_grad(g, n->in[0]), n->out->grad, s, n->i[0] + pad, n->i[1] + pad);
}

static const mup_op op_transpose = {"transpose", transpose_backward};

mup_tensor *mup_transpose(mup_graph *g, mup_tensor *a, int d0, int d1) {
    char as[64];
    MUP_ASSERT(d0 >= 0 && d0 < a->ndim && d1 >= 0 && d1 < a->ndim,
               "transpose: dimensions %d and %d are not both dimensions of %s", d0, d1,
               mup_shape_str(a, as, sizeof as));
    int shape[MUP_MAX_DIMS], s[MUP_MAX_DIMS], pad = MUP_MAX_DIMS - a->ndim;
    memcpy(shape, a->shape, sizeof shape);
    shape[d0] = a->shape[d1];
    shape[d1] = a->shape[d0];
    mup_tensor *y = mup_graph_zeros(g, a->ndim, shape);
    padded_shape(s, a);
    swap_axes_add(y->data, a->data, s, d0 + pad, d1 + pad);
    mup_node *n = mup_graph_record(g, &op_transpose, y, a, NULL, NULL);
    if (n) {
        n->i[0] = d0;
        n->i[1] = d1;
    }
    return y;
}

/* ---- slice of the last dimension ---- */

static void slice_backward(mup_graph *g, const mup_node *n) {
    mup_tensor *a = n->in[0];
    int C = mup_tensor_cols(a), L = mup_tensor_cols(n->out), start = n->i[0];
    long N = mup_tensor_rows(a);
    float *da = mup_grad(g, a); /* da (N,C), dy (N,L) */
    const float *dy = n->out->grad;
    MUP_PARALLEL_FOR(N * L, r, N, {
        for (int j = 0; j < L; j++)
            da[r * C + start + j] += dy[r * L + j];
    });
}

static const mup_op op_slice = {"slice", slice_backward};

mup_tensor *mup_slice(mup_graph *g, mup_tensor *a, int start, int len) {
    char as[64];
    int C = mup_tensor_cols(a);
    MUP_ASSERT(start >= 0 && len > 0 && start + len <= C,
               "slice: columns [%d, %d) are not inside the last dimension of %s", start, start + len,
               mup_shape_str(a, as, sizeof as));
    int shape[MUP_MAX_DIMS];
    memcpy(shape, a->shape, sizeof shape);
    shape[a->ndim - 1] = len;
    mup_tensor *y = mup_graph_tensor(g, a->ndim, shape);
    long N = mup_tensor_rows(a);
    /* y (N,len), a (N,C) */
    MUP_PARALLEL_FOR(N * len, r, N, {
        memcpy(y->data + r * len, a->data + r * C + start, (size_t)len * sizeof(float));
    });
    mup_node *n = mup_graph_record(g, &op_slice, y, a, NULL, NULL);
    if (n)
        n->i[0] = start;
    return y;
}
