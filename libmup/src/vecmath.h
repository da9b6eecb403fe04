/* Float math that loops can vectorise, for the kernels: an inline expf and lane reductions.
 * Without -ffast-math (which this project does not use) the compiler may not reorder a running sum,
 * so a loop that keeps one cannot be vectorised. The reductions here keep MUP_LANES partial sums,
 * added in a fixed order at the end: the loop vectorises, and the result depends on the values and n
 * alone, never on the thread count. */
#ifndef MUP_VECMATH_H
#define MUP_VECMATH_H

#include <stdint.h>
#include <string.h>

#define MUP_LANES 8

/* Compute-bound kernels are compiled twice, for AVX2 and for the baseline x86-64 the project
 * builds for, and the dynamic loader picks one per machine (an ifunc). Both clones do the same
 * operations in the same order, so they give the same bits, eight floats at a time instead of four
 * (the "avx2" target has no FMA, so no a * b + c is fused). Use it on static functions: clang
 * resolves the clones only for callers in the same file. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#define MUP_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MUP_CLONES
#endif

/* e^x in float with libm's accuracy (relative error below 1e-7, Cephes' polynomial after a
 * Cody-Waite reduction by ln 2), written so that loops calling it vectorise: libm's expf is an
 * opaque call. Results below 2^-126 (x < -87.3, subnormals) flush to 0; x above 88.3 is taken as
 * 88.3 (the callers pass x <= 0); NaN stays NaN. */
static inline float mup_expf(float x) {
    x = x < -88.0f ? -88.0f : x;
    x = x > 88.3f ? 88.3f : x;
    float m = x * 1.44269504088896341f + 12582912.0f; /* 1.5·2^23 + n, n = round(x / ln 2) */
    float n = m - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f; /* x - n ln 2, in two parts */
    /* e^r = 1 + r + r² q(r), q of degree 5 evaluated in pairs (Estrin): a shorter dependency chain
     * than Horner's, which is what bounds these loops */
    float r2 = r * r;
    float q = (1.9875691500e-4f * r + 1.3981999507e-3f) * (r2 * r2) +
              (8.3334519073e-3f * r + 4.1665795894e-2f) * r2 + (1.6666665459e-1f * r + 5.0000001201e-1f);
    float p = q * r2 + r + 1.0f;
    uint32_t mbits; /* n sits in m's low bits: 2^n from them, with no float-to-int conversion */
    memcpy(&mbits, &m, sizeof mbits);
    uint32_t bits = (mbits - 0x4B400000u + 127u) << 23; /* n = -127 gives the bits of +0 */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* Σ x[i] y[i] over n floats, or Σ x[i] when y is NULL, in float. */
static inline float mup_sum_lanes(const float *restrict x, const float *restrict y, long n) {
    float lane[MUP_LANES] = {0};
    long i = 0;
    for (; i + MUP_LANES <= n; i += MUP_LANES)
        for (int j = 0; j < MUP_LANES; j++)
            lane[j] += y ? x[i + j] * y[i + j] : x[i + j];
    for (int j = 0; i < n; i++, j++)
        lane[j] += y ? x[i] * y[i] : x[i];
    float s = 0.0f;
    for (int j = 0; j < MUP_LANES; j++)
        s += lane[j];
    return s;
}

/* The same accumulated in double: Σ (double) x[i] y[i], or Σ x[i] when y is NULL. */
static inline double mup_sum_lanes_d(const float *restrict x, const float *restrict y, long n) {
    double lane[MUP_LANES] = {0};
    long i = 0;
    for (; i + MUP_LANES <= n; i += MUP_LANES)
        for (int j = 0; j < MUP_LANES; j++)
            lane[j] += y ? (double)x[i + j] * y[i + j] : (double)x[i + j];
    for (int j = 0; i < n; i++, j++)
        lane[j] += y ? (double)x[i] * y[i] : (double)x[i];
    double s = 0.0;
    for (int j = 0; j < MUP_LANES; j++)
        s += lane[j];
    return s;
}

/* max x[i] over n >= 1 floats */
static inline float mup_max_lanes(const float *x, long n) {
    float lane[MUP_LANES];
    for (int j = 0; j < MUP_LANES; j++)
        lane[j] = x[0];
    long i = 0;
    for (; i + MUP_LANES <= n; i += MUP_LANES)
        for (int j = 0; j < MUP_LANES; j++)
            lane[j] = x[i + j] > lane[j] ? x[i + j] : lane[j];
    for (int j = 0; i < n; i++, j++)
        lane[j] = x[i] > lane[j] ? x[i] : lane[j];
    float m = lane[0];
    for (int j = 1; j < MUP_LANES; j++)
        m = lane[j] > m ? lane[j] : m;
    return m;
}

#endif
