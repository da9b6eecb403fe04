#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mup/error.h"

void *mup_xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    MUP_ASSERT(p, "out of memory allocating %zu bytes", bytes);
    return p;
}

void *mup_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    MUP_ASSERT(p, "out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *mup_xrealloc(void *p, size_t bytes) {
    void *q = realloc(p, bytes ? bytes : 1);
    MUP_ASSERT(q, "out of memory reallocating to %zu bytes", bytes);
    return q;
}

void *mup_xaligned(size_t bytes) {
    size_t rounded = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    MUP_ASSERT(p, "out of memory allocating %zu bytes", bytes);
    return p;
}

char *mup_xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(mup_xmalloc(n), s, n);
}
