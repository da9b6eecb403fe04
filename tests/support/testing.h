/* Helpers shared by the test files. */
#ifndef MUP_TESTING_H
#define MUP_TESTING_H

#include <stdint.h>

#include "mup/mup.h"

/* A tensor the test owns (malloc'd data and gradient), filled N(0, 1) from seed; a leaf that
 * requires a gradient unless no_grad. Free with test_leaf_free. */
mup_tensor *test_leaf(int ndim, const int *shape, uint64_t seed, bool no_grad);
void test_leaf_free(mup_tensor *t);

/* A fresh temporary directory (removed at exit); returns its path. */
const char *test_tmpdir(void);
/* Path of a file name inside test_tmpdir(), in a static buffer rotated over 8 slots. */
const char *test_path(const char *name);
/* Creates the directory test_path(name) (failing the test if it exists) and returns its path. */
const char *test_mkdir(const char *name);

/* Largest |a_i - b_i| over n floats. */
double test_max_abs_diff(const float *a, const float *b, long n);

#endif
