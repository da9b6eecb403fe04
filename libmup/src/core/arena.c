/* The step arena. One main block serves a whole step; when a step needs more, overflow blocks are
 * chained for the rest of that step and the main block is regrown to the total at the next rewind,
 * so only the first step (or a step larger than any before) touches the heap. Buffers handed back
 * during a step (dead gradients) are linked through their own first bytes and reused by size, so
 * the free list costs no memory of its own. */
#include <stdlib.h>

#include "internal.h"

#define ARENA_ALIGN 64
#define ARENA_MIN_BLOCK ((size_t)1 << 20)

struct mup_arena_block {
    mup_arena_block *next;
    size_t cap, used;
    char *data;
};

struct mup_arena_free {
    mup_arena_free *next;
    size_t bytes;
};

static size_t align_up(size_t n) { return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1); }

void *mup_arena_alloc(mup_arena *a, size_t bytes) {
    bytes = align_up(bytes ? bytes : 1);
    if (a->used + bytes <= a->cap) {
        void *p = a->base + a->used;
        a->used += bytes;
        return p;
    }
    mup_arena_block *b = a->extra;
    if (!b || b->used + bytes > b->cap) {
        size_t cap = bytes > ARENA_MIN_BLOCK ? bytes : ARENA_MIN_BLOCK;
        if (a->extra_used > cap)
            cap = a->extra_used;
        b = mup_xmalloc(sizeof *b);
        b->data = mup_xaligned(cap);
        b->cap = cap;
        b->used = 0;
        b->next = a->extra;
        a->extra = b;
    }
    void *p = b->data + b->used;
    b->used += bytes;
    a->extra_used += bytes;
    return p;
}

void mup_arena_give_back(mup_arena *a, void *p, size_t bytes) {
    mup_arena_free *f = p; /* every buffer is 64-byte aligned and at least 64 bytes */
    f->bytes = align_up(bytes ? bytes : 1);
    f->next = a->free;
    a->free = f;
}

void *mup_arena_reuse(mup_arena *a, size_t bytes) {
    bytes = align_up(bytes ? bytes : 1);
    for (mup_arena_free **link = &a->free; *link; link = &(*link)->next)
        if ((*link)->bytes == bytes) {
            void *p = *link;
            *link = (*link)->next;
            return p;
        }
    return mup_arena_alloc(a, bytes);
}

static void free_extra(mup_arena *a) {
    while (a->extra) {
        mup_arena_block *next = a->extra->next;
        free(a->extra->data);
        free(a->extra);
        a->extra = next;
    }
}

void mup_arena_rewind(mup_arena *a) {
    size_t total = a->used + a->extra_used;
    if (total > a->high_water)
        a->high_water = total;
    if (a->extra) {
        free_extra(a);
        free(a->base);
        a->cap = align_up(total + total / 8);
        a->base = mup_xaligned(a->cap);
    }
    a->used = 0;
    a->extra_used = 0;
    a->free = NULL;
}

void mup_arena_release(mup_arena *a) {
    free_extra(a);
    free(a->base);
    *a = (mup_arena){0};
}
