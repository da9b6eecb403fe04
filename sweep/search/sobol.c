#include "sobol.h"

#include "mup/error.h"

/* Joe-Kuo's table for dimensions 2..21: degree s, coefficients a, initial m_1..m_s. */
static const struct {
    int s, a;
    uint32_t m[7];
} joe_kuo[MUP_SOBOL_MAX_DIMS - 1] = {
    {1, 0, {1}},
    {2, 1, {1, 3}},
    {3, 1, {1, 3, 1}},
    {3, 2, {1, 1, 1}},
    {4, 1, {1, 1, 3, 3}},
    {4, 4, {1, 3, 5, 13}},
    {5, 2, {1, 1, 5, 5, 17}},
    {5, 4, {1, 1, 5, 5, 5}},
    {5, 7, {1, 1, 7, 11, 19}},
    {5, 11, {1, 1, 5, 1, 1}},
    {5, 13, {1, 1, 1, 3, 11}},
    {5, 14, {1, 3, 5, 5, 31}},
    {6, 1, {1, 3, 3, 9, 7, 49}},
    {6, 13, {1, 1, 1, 15, 21, 21}},
    {6, 16, {1, 3, 1, 13, 27, 49}},
    {6, 19, {1, 1, 1, 15, 7, 5}},
    {6, 22, {1, 3, 1, 15, 13, 25}},
    {6, 25, {1, 1, 5, 5, 19, 61}},
    {7, 1, {1, 3, 7, 11, 23, 15, 103}},
    {7, 4, {1, 3, 7, 13, 13, 15, 69}},
};

/* v[k] = m_{k+1} << (31 - k): the direction numbers of one dimension, by the recurrence of its
 * primitive polynomial. Recomputed per call (a few dozen operations) to keep no shared state. */
static void directions(int dim, uint32_t v[32]) {
    if (dim == 0) {
        for (int k = 0; k < 32; k++)
            v[k] = 1u << (31 - k);
        return;
    }
    int s = joe_kuo[dim - 1].s;
    uint32_t a = (uint32_t)joe_kuo[dim - 1].a;
    for (int k = 0; k < s; k++)
        v[k] = joe_kuo[dim - 1].m[k] << (31 - k);
    for (int k = s; k < 32; k++) {
        v[k] = v[k - s] ^ (v[k - s] >> s);
        for (int j = 1; j < s; j++)
            if ((a >> (s - 1 - j)) & 1)
                v[k] ^= v[k - j];
    }
}

uint32_t mup_sobol_bits(uint32_t index, int dim) {
    MUP_ASSERT(dim >= 0 && dim < MUP_SOBOL_MAX_DIMS, "sobol: dimension %d outside 0..%d", dim,
               MUP_SOBOL_MAX_DIMS - 1);
    uint32_t v[32], x = 0;
    directions(dim, v);
    for (int k = 0; index; k++, index >>= 1)
        if (index & 1)
            x ^= v[k];
    return x;
}

static uint32_t reverse_bits(uint32_t x) {
    x = ((x & 0x55555555u) << 1) | ((x >> 1) & 0x55555555u);
    x = ((x & 0x33333333u) << 2) | ((x >> 2) & 0x33333333u);
    x = ((x & 0x0f0f0f0fu) << 4) | ((x >> 4) & 0x0f0f0f0fu);
    x = ((x & 0x00ff00ffu) << 8) | ((x >> 8) & 0x00ff00ffu);
    return (x << 16) | (x >> 16);
}

uint32_t mup_owen_scramble(uint32_t x, uint32_t seed) {
    /* Laine-Karras: adding the seed and xoring with multiples by even constants changes each bit as
     * a function of the bits below it only; on reversed bits that is "above it", Owen's rule. */
    x = reverse_bits(x);
    x += seed;
    x ^= x * 0x6c50b47cu;
    x ^= x * 0xb82f1e52u;
    x ^= x * 0xc7afe638u;
    x ^= x * 0x8d22f6e6u;
    return reverse_bits(x);
}

double mup_sobol_point(uint32_t index, int dim, uint32_t seed) {
    return mup_owen_scramble(mup_sobol_bits(index, dim), seed) * 0x1p-32;
}
