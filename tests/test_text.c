/* Character-level text: loading files and directories, vocabulary, split, entropy, the synthetic
 * Markov chain and text batches. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testing.h"

static const char *write_file(const char *dir, const char *name, const void *bytes, size_t len) {
    static char buf[8][600];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert(f, "cannot write %s", p);
    cr_assert_eq(fwrite(bytes, 1, len, f), len);
    fclose(f);
    return p;
}

/* The tokens decoded through itos. */
static void assert_text(const mup_text_data *d, const char *want) {
    size_t n = strlen(want);
    cr_assert_eq(d->n, (long)n);
    for (size_t i = 0; i < n; i++) {
        cr_assert(d->tokens[i] >= 0 && d->tokens[i] < d->vocab);
        cr_assert_eq(d->itos[d->tokens[i]], (unsigned char)want[i], "byte %zu", i);
    }
}

/* ---- loading ---- */

Test(text_load, files_in_given_order_with_sorted_vocab) {
    const char *dir = test_mkdir("t");
    const char *paths[2] = {write_file(dir, "one", "cab", 3), write_file(dir, "two", "a\nz", 3)};
    mup_text_data d;
    cr_assert_eq(mup_text_load_files(paths, 2, &d), MUP_OK, "%s", mup_error_message());
    assert_text(&d, "caba\nz");
    cr_assert_eq(d.vocab, 5);
    cr_assert_eq(memcmp(d.itos, "\nabcz", 5), 0);
    int32_t want[6] = {3, 1, 2, 1, 0, 4};
    cr_assert_eq(memcmp(d.tokens, want, sizeof want), 0);
    for (int c = 0; c < 256; c++) {
        if (memchr("\nabcz", c, 5))
            cr_assert_eq(d.itos[d.stoi[c]], c);
        else
            cr_assert_eq(d.stoi[c], -1, "byte %d", c);
    }
    mup_text_data_free(&d);
    cr_assert(!d.tokens && d.n == 0);
}

Test(text_load, directory_sorted_skipping_index_and_binary_files) {
    const char *dir = test_mkdir("t");
    write_file(dir, "b", "hello", 5);
    write_file(dir, "a", "world\n", 6);
    write_file(dir, "a.dat", "QQQQ", 4);
    write_file(dir, "a.u8", "XXXX", 4);
    write_file(dir, "bin", "ab\0cd", 5);
    char sub[600];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    write_file(sub, "deep", "YYYY", 4);
    mup_text_data d;
    cr_assert_eq(mup_text_load_dir(dir, &d), MUP_OK, "%s", mup_error_message());
    assert_text(&d, "world\nhello");
    cr_assert_eq(d.vocab, 8); /* \n d e h l o r w */
    mup_text_data_free(&d);
}

Test(text_load, directory_from_environment) {
    const char *dir = test_mkdir("t");
    write_file(dir, "x", "abc", 3);
    setenv("MUP_TEXT_DIR", dir, 1);
    mup_text_data d;
    cr_assert_eq(mup_text_load_dir(NULL, &d), MUP_OK, "%s", mup_error_message());
    assert_text(&d, "abc");
    mup_text_data_free(&d);
}

Test(text_load, missing_directory_and_file) {
    mup_text_data d;
    const char *dir = test_path("no-such-dir");
    cr_assert_eq(mup_text_load_dir(dir, &d), MUP_ERR_IO);
    cr_assert(strstr(mup_error_message(), dir), "%s", mup_error_message());
    cr_assert(strstr(mup_error_message(), "install the Debian package fortunes"), "%s", mup_error_message());
    cr_assert(!d.tokens);
    const char *paths[2] = {write_file(test_mkdir("t"), "ok", "x", 1), test_path("no-such-file")};
    cr_assert_eq(mup_text_load_files(paths, 2, &d), MUP_ERR_IO);
    cr_assert(strstr(mup_error_message(), paths[1]), "%s", mup_error_message());
    cr_assert(strstr(mup_error_message(), "No such file"), "%s", mup_error_message());
    cr_assert(!d.tokens);
}

Test(text_load, a_fifo_is_refused_without_blocking, .timeout = 20) {
    const char *path = test_path("corpus.fifo");
    cr_assert_eq(mkfifo(path, 0600), 0);
    mup_text_data d;
    cr_assert_eq(mup_text_load_files(&path, 1, &d), MUP_ERR_FORMAT);
    cr_assert(strstr(mup_error_message(), "is a FIFO, not a regular file"), "%s", mup_error_message());
    cr_assert(!d.tokens);
}

Test(text_load, empty_corpus_is_format_error) {
    const char *dir = test_mkdir("t");
    mup_text_data d;
    cr_assert_eq(mup_text_load_dir(dir, &d), MUP_ERR_FORMAT);
    cr_assert(strstr(mup_error_message(), dir), "%s", mup_error_message());
    write_file(dir, "only.dat", "x", 1);
    write_file(dir, "empty", "", 0);
    cr_assert_eq(mup_text_load_dir(dir, &d), MUP_ERR_FORMAT);
    const char *paths[1] = {write_file(dir, "nothing", "", 0)};
    cr_assert_eq(mup_text_load_files(paths, 1, &d), MUP_ERR_FORMAT);
    cr_assert(strstr(mup_error_message(), "empty"), "%s", mup_error_message());
    cr_assert(!d.tokens);
}

Test(text_load, larger_than_one_read) {
    /* 200 kB: more than the first buffer, in files whose sizes are not round */
    const char *dir = test_mkdir("t");
    size_t n1 = 70001, n2 = 130003;
    char *a = malloc(n1), *b = malloc(n2);
    for (size_t i = 0; i < n1; i++)
        a[i] = (char)('a' + i % 26);
    for (size_t i = 0; i < n2; i++)
        b[i] = (char)('A' + i % 7);
    write_file(dir, "1", a, n1);
    write_file(dir, "2", b, n2);
    mup_text_data d;
    cr_assert_eq(mup_text_load_dir(dir, &d), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(d.n, (long)(n1 + n2));
    cr_assert_eq(d.vocab, 33);
    for (size_t i = 0; i < n1 + n2; i++)
        cr_assert_eq(d.itos[d.tokens[i]], (unsigned char)(i < n1 ? a[i] : b[i - n1]));
    mup_text_data_free(&d);
    free(a);
    free(b);
}

Test(text_load, fortunes_if_installed) {
    const char *dir = MUP_TEXT_DEFAULT_DIR;
    if (access(dir, R_OK) != 0)
        cr_skip_test("%s not installed (Debian package fortunes)", dir);
    mup_text_data d;
    cr_assert_eq(mup_text_load_dir(dir, &d), MUP_OK, "%s", mup_error_message());
    cr_assert_gt(d.n, 1000000);
    cr_assert(d.vocab > 60 && d.vocab <= 256, "vocab %d", d.vocab);
    cr_assert_geq(d.stoi['e'], 0);
    double h = mup_text_unigram_entropy(&d);
    cr_assert(h > 2.5 && h < 4.5, "unigram entropy %g nats", h);
    mup_text_data_free(&d);
}

/* ---- split and entropy ---- */

static mup_text_data from_string(const char *s) {
    static int files;
    char name[32];
    snprintf(name, sizeof name, "string%d", files++);
    const char *paths[1] = {write_file(test_tmpdir(), name, s, strlen(s))};
    mup_text_data d;
    cr_assert_eq(mup_text_load_files(paths, 1, &d), MUP_OK, "%s", mup_error_message());
    return d;
}

Test(text_split, tail_is_validation_with_same_vocab) {
    mup_text_data all = from_string("the quick brown fox jumps over the lazy dog!"), tr, va;
    cr_assert_eq(all.n, 44);
    cr_assert_eq(mup_text_split(&all, 0.25, &tr, &va), MUP_OK);
    cr_assert(tr.n == 33 && va.n == 11);
    cr_assert_eq(memcmp(tr.tokens, all.tokens, 33 * sizeof(int32_t)), 0);
    cr_assert_eq(memcmp(va.tokens, all.tokens + 33, 11 * sizeof(int32_t)), 0);
    cr_assert(tr.vocab == all.vocab && va.vocab == all.vocab);
    cr_assert_eq(memcmp(va.itos, all.itos, 256), 0);
    cr_assert_eq(memcmp(va.stoi, all.stoi, sizeof all.stoi), 0);
    mup_text_data_free(&tr);
    mup_text_data_free(&va);
    cr_assert_eq(mup_text_split(&all, 0.0, &tr, &va), MUP_ERR_INVALID);
    cr_assert_eq(mup_text_split(&all, 1.0, &tr, &va), MUP_ERR_INVALID);
    cr_assert_eq(mup_text_split(&all, 0.02, &tr, &va), MUP_ERR_INVALID); /* 0 tokens of validation */
    cr_assert_eq(mup_text_split(&all, NAN, &tr, &va), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "44"), "%s", mup_error_message());
    cr_assert(!tr.tokens && !va.tokens);
    mup_text_data_free(&all);
}

Test(text_entropy, known_values) {
    mup_text_data d = from_string("aabb");
    cr_assert_float_eq(mup_text_unigram_entropy(&d), log(2.0), 1e-12);
    mup_text_data_free(&d);
    d = from_string("aaab");
    cr_assert_float_eq(mup_text_unigram_entropy(&d), -(0.75 * log(0.75) + 0.25 * log(0.25)), 1e-12);
    mup_text_data_free(&d);
    d = from_string("zzzz");
    cr_assert_float_eq(mup_text_unigram_entropy(&d), 0.0, 1e-12);
    mup_text_data_free(&d);
}

/* ---- synthetic text ---- */

Test(synthetic_text, deterministic_in_range_printable) {
    mup_text_data a, b, c;
    cr_assert_eq(mup_synthetic_text(5000, 20, 7, &a), MUP_OK);
    cr_assert_eq(mup_synthetic_text(5000, 20, 7, &b), MUP_OK);
    cr_assert_eq(mup_synthetic_text(5000, 20, 8, &c), MUP_OK);
    cr_assert_eq(memcmp(a.tokens, b.tokens, 5000 * sizeof(int32_t)), 0);
    cr_assert_neq(memcmp(a.tokens, c.tokens, 5000 * sizeof(int32_t)), 0);
    bool seen[20] = {false};
    for (long i = 0; i < a.n; i++) {
        cr_assert(a.tokens[i] >= 0 && a.tokens[i] < 20);
        seen[a.tokens[i]] = true;
    }
    for (int v = 0; v < 20; v++) {
        cr_assert(seen[v], "token %d never appears", v);
        cr_assert_eq(a.itos[v], 32 + v);
        cr_assert_eq(a.stoi[32 + v], v);
    }
    cr_assert_eq(a.stoi['a'], -1);
    mup_text_data_free(&a);
    mup_text_data_free(&b);
    mup_text_data_free(&c);
    cr_assert_eq(mup_synthetic_text(100, 1, 7, &a), MUP_ERR_INVALID);
    cr_assert_eq(mup_synthetic_text(100, 257, 7, &a), MUP_ERR_INVALID);
    cr_assert_eq(mup_synthetic_text(2, 10, 7, &a), MUP_ERR_INVALID);
    cr_assert(!a.tokens);
}

Test(synthetic_text, context_predicts_next_token) {
    /* empirical entropy of the next token given the two before it, against the unigram entropy:
     * an order-2 model can do much better than frequencies alone */
    int V = 8;
    long n = 200000;
    mup_text_data d;
    cr_assert_eq(mup_synthetic_text(n, V, 11, &d), MUP_OK);
    long *count = calloc((size_t)V * V * V, sizeof(long)), *ctx = calloc((size_t)V * V, sizeof(long));
    for (long i = 2; i < n; i++) {
        long c = d.tokens[i - 2] * V + d.tokens[i - 1];
        ctx[c]++;
        count[c * V + d.tokens[i]]++;
    }
    double h = 0;
    for (long c = 0; c < V * V; c++)
        for (int v = 0; v < V; v++)
            if (count[c * V + v]) {
                double k = (double)count[c * V + v];
                h -= k / (double)(n - 2) * log(k / (double)ctx[c]);
            }
    double h1 = mup_text_unigram_entropy(&d);
    cr_assert(h1 > 0.9 * log(V), "unigram entropy %g", h1);
    cr_assert(h < 0.6 * h1, "conditional entropy %g vs unigram %g", h, h1);
    free(count);
    free(ctx);
    mup_text_data_free(&d);
}

/* ---- batches ---- */

/* tokens 0, 1, ..., n-1 */
static mup_text_data counting(long n) {
    mup_text_data d = {.tokens = malloc((size_t)n * sizeof(int32_t)), .n = n, .vocab = (int)n};
    for (long i = 0; i < n; i++)
        d.tokens[i] = (int32_t)i;
    return d;
}

Test(text_batch, windows_inside_text_with_shifted_targets) {
    int B = 5, T = 7;
    long n = 40;
    mup_text_data d = counting(n);
    int32_t x[5 * 7], y[5 * 7];
    mup_rng r = mup_rng_new(3);
    bool first = false, last = false;
    for (int it = 0; it < 200; it++) {
        mup_text_batch(&d, &r, B, T, x, y);
        for (int b = 0; b < B; b++) {
            int32_t o = x[b * T];
            cr_assert(o >= 0 && o + T < n, "window at %d", o);
            first |= o == 0;
            last |= o + T == n - 1;
            for (int t = 0; t < T; t++) {
                cr_assert_eq(x[b * T + t], o + t);
                cr_assert_eq(y[b * T + t], o + t + 1);
            }
        }
    }
    cr_assert(first && last, "the first or last window never drawn");
    mup_rng r2 = mup_rng_new(3);
    int32_t x2[5 * 7], y2[5 * 7];
    r = mup_rng_new(3);
    mup_text_batch(&d, &r, B, T, x, y);
    mup_text_batch(&d, &r2, B, T, x2, y2);
    cr_assert_eq(memcmp(x, x2, sizeof x), 0);
    free(d.tokens);
}

Test(text_batch, at_walks_in_order_and_wraps) {
    int B = 3, T = 4;
    mup_text_data d = counting(15); /* windows start modulo 15 - 4 = 11 */
    int32_t x[3 * 4], y[3 * 4];
    mup_text_batch_at(&d, 0, B, T, x, y);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            cr_assert_eq(x[b * T + t], b * T + t);
            cr_assert_eq(y[b * T + t], b * T + t + 1);
        }
    mup_text_batch_at(&d, 12, B, T, x, y);
    int32_t starts[3] = {1, 5, 9}; /* 12 % 11, 16 % 11, 20 % 11 */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            cr_assert_eq(x[b * T + t], starts[b] + t);
            cr_assert_eq(y[b * T + t], starts[b] + t + 1);
        }
    free(d.tokens);
}

Test(text_batch, window_longer_than_text_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("B 1, T 8 on 8 tokens (need more than T tokens)");
    mup_text_data d = counting(8);
    int32_t x[8], y[8];
    mup_rng r = mup_rng_new(1);
    mup_text_batch(&d, &r, 1, 8, x, y);
}
