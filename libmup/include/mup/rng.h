/* The library's own random numbers: xoshiro256** seeded through splitmix64.
 * The same seed gives the same numbers on every machine and compiler (no rand(), no libc state);
 * normals use Box-Muller in double precision. The state is a plain value, so checkpoints save it. */
#ifndef MUP_RNG_H
#define MUP_RNG_H

#include "mup/api.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct { uint64_t s[4]; } mup_rng;

MUP_API mup_rng mup_rng_new(uint64_t seed);
/* An independent stream derived from (seed, stream): for a run's data order, dropout, init, ... */
MUP_API mup_rng mup_rng_stream(uint64_t seed, uint64_t stream);

/* False for the all-zero state, the one state xoshiro never reaches or leaves (it draws 0 forever):
 * a state read from a file must pass this before use. */
MUP_API bool mup_rng_valid(const mup_rng *r);

MUP_API uint64_t mup_rng_u64(mup_rng *r);
MUP_API uint32_t mup_rng_below(mup_rng *r, uint32_t n);           /* uniform in [0, n), unbiased */
MUP_API double mup_rng_uniform(mup_rng *r);                       /* uniform in [0, 1) with 53 bits */
MUP_API double mup_rng_normal(mup_rng *r);                        /* standard normal */
/* standard normal conditioned on [a, b] (in standard deviations), by rejection */
MUP_API double mup_rng_trunc_normal(mup_rng *r, double a, double b);

MUP_API void mup_rng_fill_uniform(mup_rng *r, float *x, long n, float lo, float hi);
MUP_API void mup_rng_fill_normal(mup_rng *r, float *x, long n, float mean, float std);
/* Fisher-Yates shuffle of an index array */
MUP_API void mup_rng_shuffle(mup_rng *r, int32_t *idx, long n);

#endif
