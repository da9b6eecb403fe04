#include "mup/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

mup_rng mup_rng_new(uint64_t seed) {
    mup_rng r;
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r.s[i] = splitmix64(&x);
    return r;
}

mup_rng mup_rng_stream(uint64_t seed, uint64_t stream) {
    uint64_t x = stream;
    return mup_rng_new(seed ^ splitmix64(&x));
}

bool mup_rng_valid(const mup_rng *r) { return (r->s[0] | r->s[1] | r->s[2] | r->s[3]) != 0; }

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t mup_rng_u64(mup_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* The zero state draws 0 forever, which a rejection loop would reject forever. No valid state reaches
 * it, so replacing it changes no valid stream (callers refuse it where it is loaded). */
static void unstick(mup_rng *r) {
    if (!mup_rng_valid(r))
        *r = mup_rng_new(0);
}

uint32_t mup_rng_below(mup_rng *r, uint32_t n) {
    /* Lemire's multiply-shift with rejection of the biased low range */
    uint64_t m = (uint64_t)(uint32_t)(mup_rng_u64(r) >> 32) * n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        unstick(r);
        uint32_t threshold = (uint32_t)(-n) % n;
        while (lo < threshold) {
            m = (uint64_t)(uint32_t)(mup_rng_u64(r) >> 32) * n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double mup_rng_uniform(mup_rng *r) { return (double)(mup_rng_u64(r) >> 11) * 0x1.0p-53; }

double mup_rng_normal(mup_rng *r) {
    /* Box-Muller without caching the second value, so the stream position is one state per draw
     * and a checkpoint needs nothing beyond the four words. */
    double u1 = 1.0 - mup_rng_uniform(r); /* (0, 1] so log is finite */
    double u2 = mup_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double mup_rng_trunc_normal(mup_rng *r, double a, double b) {
    unstick(r);
    for (;;) {
        double z = mup_rng_normal(r);
        if (z >= a && z <= b)
            return z;
    }
}

void mup_rng_fill_uniform(mup_rng *r, float *x, long n, float lo, float hi) {
    double span = (double)hi - (double)lo;
    for (long i = 0; i < n; i++)
        x[i] = (float)(lo + span * mup_rng_uniform(r));
}

void mup_rng_fill_normal(mup_rng *r, float *x, long n, float mean, float std) {
    for (long i = 0; i < n; i++)
        x[i] = (float)(mean + std * mup_rng_normal(r));
}

void mup_rng_shuffle(mup_rng *r, int32_t *idx, long n) {
    for (long i = n - 1; i > 0; i--) {
        long j = (long)mup_rng_below(r, (uint32_t)(i + 1));
        int32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
