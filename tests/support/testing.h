/* Helpers shared by the test files. */
#ifndef MUP_TESTING_H
#define MUP_TESTING_H

#include <stdint.h>

#include "mup/mup.h"

/* Defined when AddressSanitizer owns malloc (gcc or clang): tests that interpose malloc skip there. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_UNDER_ASAN 1
#endif
#endif

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

/* The whole file, NUL-terminated, in a malloc'd buffer (free it); its length in *len if len is not
 * NULL. Fails the test when the file cannot be read. */
char *test_read_file(const char *path, long *len);

/* The standard deviation of a parameter's values (over all of them, divided by n). */
double test_sample_std(const mup_param *p);

/* Largest |a_i - b_i| over n floats. */
double test_max_abs_diff(const float *a, const float *b, long n);

/* The small MLP the tests build by hand: fc1 (width, 12), fc2 (width, width), readout (5, width), each
 * with a bias pointing at its weight. */
void test_build_mlp(mup_model *M, int width);
/* That MLP at width with base shapes from builds at base_width and base_width + 1 (µP), or with
 * base NULL (SP) when base_width is 0; initialised from seed. */
mup_model *test_mlp_model(int width, int base_width, uint64_t seed);
/* A malloc'd copy of n floats (free it). */
float *test_copy(const float *x, long n);

/* JSON written with ' for ", turned into real JSON (malloc'd). */
char *test_json_quotes(const char *s);
/* json (written with ') with the member at a dotted path replaced by value (JSON written with '), or
 * removed when value is NULL; missing objects on the way are created. malloc'd. */
char *test_json_with(const char *json, const char *path, const char *value);

/* Exit status of an abort test whose MUP_ASSERT failed with the expected message. */
#define TEST_ASSERT_EXIT 86

/* Arms the abort handler for a test declared with .exit_code = TEST_ASSERT_EXIT: the next failed
 * MUP_ASSERT must carry a message containing `needle`, and then the test exits with TEST_ASSERT_EXIT.
 * Any other message fails the test and shows it; an abort that does not come from MUP_ASSERT (a
 * sanitizer report under abort_on_error=1) is a crash, and a test that does not stop is a failure.
 * Not `.signal = SIGABRT`, which passes on any abort. */
void test_expect_assert(const char *needle);

/* Starts argv[0] (a path) with argv, no shell between, its stdout and stderr appended to the file
 * log; returns its pid. test_wait waits for it and returns its exit status (128 + signal if killed). */
int test_spawn(const char *const *argv, const char *log);
int test_wait(int pid);

/* Fills every parameter's gradient N(0, 1) from seed. */
void test_set_grads(mup_model *M, uint64_t seed);

#endif
