/* Scrambled Sobol points for the sobol sampler.
 *
 * The sequence is Sobol's in base 2 with the direction numbers of Joe and Kuo (new-joe-kuo-6.21201,
 * "Constructing Sobol sequences with better two-dimensional projections", SIAM J. Sci. Comput. 30,
 * 2008) for its first 21 dimensions, 32 bits each; point i is the XOR of the direction numbers of the
 * set bits of i (the points of the Gray-code order, each 2^m-block the same set).
 *
 * Scrambling is Owen's nested uniform scrambling in the hash-based form of Burley ("Practical
 * Hash-based Owen Scrambling", JCGT 9(4), 2020): each coordinate is bit-reversed, put through the
 * Laine-Karras permutation keyed by a per-dimension seed, and reversed back, so every bit is flipped
 * by a hash of the bits above it. That keeps the net structure: the first 2^m points still put one
 * point in each of 2^m equal strata of every dimension, while the points move with the seed. */
#ifndef MUP_SWEEP_SOBOL_H
#define MUP_SWEEP_SOBOL_H

#include <stdint.h>

#define MUP_SOBOL_MAX_DIMS 21

/* Coordinate dim (0-based, < MUP_SOBOL_MAX_DIMS) of point index, unscrambled, as a 32-bit fraction. */
uint32_t mup_sobol_bits(uint32_t index, int dim);
/* Owen scrambling of a 32-bit fraction, keyed by seed. */
uint32_t mup_owen_scramble(uint32_t x, uint32_t seed);
/* The scrambled coordinate in [0, 1). */
double mup_sobol_point(uint32_t index, int dim, uint32_t seed);

#endif
