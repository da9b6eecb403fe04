#include <string.h>

#include "data_impl.h"
#include "internal.h"

void mup_classif_data_free(mup_classif_data *d) {
    free(d->x);
    free(d->y);
    *d = (mup_classif_data){0};
}

mup_status mup_data_classif_alloc(mup_classif_data *d, int n, int dim, int n_classes, const char *what) {
    *d = (mup_classif_data){0};
    if (dim <= 0 || !mup_data_fits(n, (size_t)dim * sizeof(float)))
        return mup_error(MUP_ERR_NOMEM, "%s: %d examples of dimension %d exceed the %ld-byte data cap",
                         what, n, dim, MUP_DATA_MAX_BYTES);
    d->n = n;
    d->dim = dim;
    d->n_classes = n_classes;
    d->x = mup_xmalloc((size_t)n * (size_t)dim * sizeof(float));
    d->y = mup_xmalloc((size_t)n * sizeof(int32_t));
    return MUP_OK;
}

static void copy_rows(mup_classif_data *dst, const mup_classif_data *src, int first) {
    size_t row = (size_t)src->dim;
    memcpy(dst->x, src->x + (size_t)first * row, (size_t)dst->n * row * sizeof(float));
    memcpy(dst->y, src->y + first, (size_t)dst->n * sizeof(int32_t));
}

mup_status mup_classif_split(const mup_classif_data *all, int n_val, mup_classif_data *train,
                             mup_classif_data *val) {
    *train = (mup_classif_data){0};
    *val = (mup_classif_data){0};
    if (n_val <= 0 || n_val >= all->n)
        return mup_error(MUP_ERR_INVALID, "classification split: %d validation examples out of %d "
                         "(need at least one in each part)", n_val, all->n);
    /* the parts are no larger than all, which already fits under the cap */
    mup_data_classif_alloc(train, all->n - n_val, all->dim, all->n_classes, "classification split");
    mup_data_classif_alloc(val, n_val, all->dim, all->n_classes, "classification split");
    copy_rows(train, all, 0);
    copy_rows(val, all, all->n - n_val);
    return MUP_OK;
}
