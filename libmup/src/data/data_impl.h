/* What the data sources share: the memory cap, the default-directory rule and the allocators that
 * enforce the cap. */
#ifndef MUP_DATA_IMPL_H
#define MUP_DATA_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "mup/data.h"

/* count elements of elem_bytes each fit under MUP_DATA_MAX_BYTES (checked before multiplying, so a
 * hostile count cannot overflow). */
static inline bool mup_data_fits(long count, size_t elem_bytes) {
    return count >= 0 && (unsigned long)count <= (unsigned long)MUP_DATA_MAX_BYTES / elem_bytes;
}

/* dir if given, else the environment variable env when set and non-empty, else fallback. */
static inline const char *mup_data_dir(const char *dir, const char *env, const char *fallback) {
    if (dir)
        return dir;
    const char *e = getenv(env);
    return e && *e ? e : fallback;
}

/* Zeroes *d, then allocates x (n, dim) and y (n) under the cap; what names the data set in the
 * MUP_ERR_NOMEM message. */
mup_status mup_data_classif_alloc(mup_classif_data *d, int n, int dim, int n_classes, const char *what);

/* Zeroes *d, then allocates n tokens under the cap. */
mup_status mup_data_text_alloc(mup_text_data *d, long n, const char *what);

#endif
