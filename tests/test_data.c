/* Classification data: Fashion-MNIST IDX files written here with zlib and read back, every kind of
 * bad file, the synthetic teacher set, splits and batching. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "testing.h"

#define DIM 784
#define TRAIN_IMAGES "train-images-idx3-ubyte.gz"
#define TRAIN_LABELS "train-labels-idx1-ubyte.gz"

/* ---- writing IDX files ---- */

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A gzip file holding magic, the ndims dimensions, then len bytes of data. */
static void write_idx(const char *path, uint32_t magic, const uint32_t *dims, int ndims,
                      const unsigned char *data, size_t len) {
    unsigned char h[16];
    put_be32(h, magic);
    for (int i = 0; i < ndims; i++)
        put_be32(h + 4 + 4 * i, dims[i]);
    gzFile gz = gzopen(path, "wb");
    cr_assert(gz, "cannot write %s", path);
    cr_assert_eq(gzwrite(gz, h, 4u * (unsigned)(ndims + 1)), 4 * (ndims + 1));
    if (len)
        cr_assert_eq(gzwrite(gz, data, (unsigned)len), (int)len);
    cr_assert_eq(gzclose(gz), Z_OK);
}

static const char *file_in(const char *dir, const char *name) {
    static char buf[4][600];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

typedef struct {
    int n;
    unsigned char *pix;      /* (n, 784) */
    unsigned char *lab;      /* (n) */
} raw_set;

static raw_set raw_make(int n, uint64_t seed) {
    raw_set r = {n, malloc((size_t)n * DIM), malloc((size_t)n)};
    mup_rng g = mup_rng_new(seed);
    for (long i = 0; i < (long)n * DIM; i++)
        r.pix[i] = (unsigned char)mup_rng_below(&g, 256);
    for (int i = 0; i < n; i++)
        r.lab[i] = (unsigned char)mup_rng_below(&g, 10);
    r.pix[0] = 0;
    r.pix[1] = 255;
    return r;
}

static void raw_free(raw_set *r) {
    free(r->pix);
    free(r->lab);
}

static void write_images(const char *dir, const char *split, const raw_set *r) {
    char name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte.gz", split);
    write_idx(file_in(dir, name), 0x803, (uint32_t[]){(uint32_t)r->n, 28, 28}, 3, r->pix, (size_t)r->n * DIM);
}

static void write_labels(const char *dir, const char *split, const raw_set *r) {
    char name[64];
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte.gz", split);
    write_idx(file_in(dir, name), 0x801, (uint32_t[]){(uint32_t)r->n}, 1, r->lab, (size_t)r->n);
}

static void write_set(const char *dir, const char *split, const raw_set *r) {
    write_images(dir, split, r);
    write_labels(dir, split, r);
}

static void assert_matches(const mup_classif_data *d, const raw_set *r, int n) {
    cr_assert_eq(d->n, n);
    cr_assert_eq(d->dim, DIM);
    cr_assert_eq(d->n_classes, 10);
    for (int i = 0; i < n; i++)
        cr_assert_eq(d->y[i], r->lab[i], "label %d", i);
    for (long i = 0; i < (long)n * DIM; i++) {
        double want = ((double)r->pix[i] / 255.0 - 0.2860) / 0.3530;
        cr_assert(fabs(d->x[i] - want) < 1e-6, "pixel %ld: %g, want %g", i, d->x[i], want);
        /* and the byte comes back exactly */
        cr_assert_eq(lround((d->x[i] * 0.3530 + 0.2860) * 255.0), r->pix[i]);
    }
}

/* The load fails with status want, leaves *out zeroed, and the message holds each of the strings. */
static void expect_failure(const char *dir, bool train, mup_status want, const char *s1, const char *s2) {
    mup_classif_data d;
    mup_status s = mup_fashion_mnist_load(dir, train, 0, &d);
    const char *msg = mup_error_message();
    cr_assert_eq(s, want, "status %s, want %s (%s)", mup_status_str(s), mup_status_str(want), msg);
    cr_assert(!d.x && !d.y && d.n == 0);
    cr_assert(strstr(msg, s1), "message \"%s\" lacks \"%s\"", msg, s1);
    if (s2)
        cr_assert(strstr(msg, s2), "message \"%s\" lacks \"%s\"", msg, s2);
}

/* ---- Fashion-MNIST ---- */

Test(fashion_mnist, reads_back_exactly) {
    const char *dir = test_mkdir("fm");
    raw_set tr = raw_make(37, 1), te = raw_make(5, 2);
    write_set(dir, "train", &tr);
    write_set(dir, "t10k", &te);
    mup_classif_data d;
    cr_assert_eq(mup_fashion_mnist_load(dir, true, 0, &d), MUP_OK, "%s", mup_error_message());
    assert_matches(&d, &tr, 37);
    mup_classif_data_free(&d);
    cr_assert(!d.x && d.n == 0);
    cr_assert_eq(mup_fashion_mnist_load(dir, false, 0, &d), MUP_OK, "%s", mup_error_message());
    assert_matches(&d, &te, 5);
    mup_classif_data_free(&d);
    raw_free(&tr);
    raw_free(&te);
}

Test(fashion_mnist, limit_keeps_prefix) {
    const char *dir = test_mkdir("fm");
    raw_set r = raw_make(130, 3); /* more than one 64-image read */
    write_set(dir, "train", &r);
    mup_classif_data d;
    cr_assert_eq(mup_fashion_mnist_load(dir, true, 70, &d), MUP_OK, "%s", mup_error_message());
    assert_matches(&d, &r, 70);
    mup_classif_data_free(&d);
    cr_assert_eq(mup_fashion_mnist_load(dir, true, 1000, &d), MUP_OK);
    assert_matches(&d, &r, 130);
    mup_classif_data_free(&d);
    raw_free(&r);
}

Test(fashion_mnist, directory_from_environment) {
    const char *dir = test_mkdir("fm");
    raw_set r = raw_make(3, 4);
    write_set(dir, "t10k", &r);
    setenv("MUP_FASHION_MNIST_DIR", dir, 1);
    mup_classif_data d;
    cr_assert_eq(mup_fashion_mnist_load(NULL, false, 0, &d), MUP_OK, "%s", mup_error_message());
    assert_matches(&d, &r, 3);
    mup_classif_data_free(&d);
    raw_free(&r);
}

/* The hint follows where the directory came from: a path given wins over the environment, so it does
 * not suggest the variable. */
Test(fashion_mnist, missing_file_is_io_error_with_hint) {
    const char *dir = test_mkdir("fm");
    expect_failure(dir, true, MUP_ERR_IO, file_in(dir, TRAIN_LABELS), "No such file");
    expect_failure(dir, true, MUP_ERR_IO, "(the directory given; the Debian package dataset-fashion-mnist installs",
                   NULL);
    cr_assert_null(strstr(mup_error_message(), "MUP_FASHION_MNIST_DIR"), "%s", mup_error_message());
    setenv("MUP_FASHION_MNIST_DIR", dir, 1);
    expect_failure(NULL, true, MUP_ERR_IO, file_in(dir, TRAIN_LABELS), "(the directory named by MUP_FASHION_MNIST_DIR)");
    setenv("MUP_FASHION_MNIST_DIR", "", 1);
    mup_classif_data d;
    if (mup_fashion_mnist_load(NULL, false, 0, &d) == MUP_OK) /* the Debian package is installed */
        mup_classif_data_free(&d);
    else
        cr_assert(strstr(mup_error_message(), "install the Debian package dataset-fashion-mnist or set "
                         "MUP_FASHION_MNIST_DIR"), "%s", mup_error_message());
    unsetenv("MUP_FASHION_MNIST_DIR");
    raw_set r = raw_make(2, 5);
    write_labels(dir, "train", &r);
    expect_failure(dir, true, MUP_ERR_IO, file_in(dir, TRAIN_IMAGES), "No such file");
    raw_free(&r);
}

/* Before: open() waited for a writer forever. */
Test(fashion_mnist, a_fifo_is_refused_without_blocking, .timeout = 20) {
    const char *dir = test_mkdir("fm");
    raw_set r = raw_make(2, 5);
    write_labels(dir, "train", &r);
    cr_assert_eq(mkfifo(file_in(dir, TRAIN_IMAGES), 0600), 0);
    expect_failure(dir, true, MUP_ERR_FORMAT, file_in(dir, TRAIN_IMAGES), "is a FIFO, not a regular file");
    raw_free(&r);
}

Test(fashion_mnist, bad_magic) {
    const char *dir = test_mkdir("fm");
    raw_set r = raw_make(4, 6);
    write_set(dir, "train", &r);
    /* a label file where the image file belongs */
    write_idx(file_in(dir, TRAIN_IMAGES), 0x801, (uint32_t[]){4, 28, 28}, 3, r.pix, 4 * DIM);
    expect_failure(dir, true, MUP_ERR_FORMAT, file_in(dir, TRAIN_IMAGES), "magic");
    write_images(dir, "train", &r);
    write_idx(file_in(dir, TRAIN_LABELS), 0x08010000, (uint32_t[]){4}, 1, r.lab, 4);
    expect_failure(dir, true, MUP_ERR_FORMAT, file_in(dir, TRAIN_LABELS), "0x08010000");
    raw_free(&r);
}

Test(fashion_mnist, truncated_images_and_labels) {
    const char *dir = test_mkdir("fm");
    raw_set r = raw_make(6, 7);
    write_labels(dir, "train", &r);
    /* header says 6 images, the data stops in the middle of the fifth */
    write_idx(file_in(dir, TRAIN_IMAGES), 0x803, (uint32_t[]){6, 28, 28}, 3, r.pix, 4 * DIM + 100);
    expect_failure(dir, true, MUP_ERR_FORMAT, file_in(dir, TRAIN_IMAGES), "truncated");
    expect_failure(dir, true, MUP_ERR_FORMAT, "announces 6 images, the file holds 4", NULL);
    write_images(dir, "train", &r);
    write_idx(file_in(dir, TRAIN_LABELS), 0x801, (uint32_t[]){6}, 1, r.lab, 5);
    expect_failure(dir, true, MUP_ERR_FORMAT, file_in(dir, TRAIN_LABELS), "truncated");
    /* a gzip stream cut in the middle */
    const char *path = file_in(dir, TRAIN_LABELS);
    write_labels(dir, "train", &r);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(truncate(path, st.st_size - 10), 0);
    expect_failure(dir, true, MUP_ERR_FORMAT, path, "truncated");
    /* a header cut short */
    gzFile gz = gzopen(file_in(dir, TRAIN_LABELS), "wb");
    gzwrite(gz, "\0\0\x08", 3);
    gzclose(gz);
    expect_failure(dir, true, MUP_ERR_FORMAT, "truncated header", NULL);
    raw_free(&r);
}

Test(fashion_mnist, empty_and_non_gzip_files) {
    const char *dir = test_mkdir("fm");
    raw_set r = raw_make(2, 8);
    write_images(dir, "train", &r);
    FILE *f = fopen(file_in(dir, TRAIN_LABELS), "wb");
    fclose(f);
    expect_failure(dir, true, MUP_ERR_FORMAT, file_in(dir, TRAIN_LABELS), "truncated header");
    raw_free(&r);
}

Test(fashion_mnist, corrupt_gzip_stream) {
    const char *dir = test_mkdir("fm");
    raw_set r = raw_make(20, 9);
    write_set(dir, "train", &r);
    const char *path = file_in(dir, TRAIN_IMAGES);
    FILE *f = fopen(path, "r+b");
    cr_assert(f);
    fseek(f, -6, SEEK_END); /* inside the CRC32 of the gzip trailer */
    int c = fgetc(f);
    fseek(f, -6, SEEK_END);
    fputc(c ^ 0x5a, f);
    fclose(f);
    expect_failure(dir, true, MUP_ERR_FORMAT, path, "corrupt gzip data: incorrect data check");
    raw_free(&r);
}

Test(fashion_mnist, trailing_data) {
    const char *dir = test_mkdir("fm");
    raw_set r = raw_make(4, 10);
    write_images(dir, "train", &r);
    write_idx(file_in(dir, TRAIN_LABELS), 0x801, (uint32_t[]){3}, 1, r.lab, 4);
    write_idx(file_in(dir, TRAIN_IMAGES), 0x803, (uint32_t[]){3, 28, 28}, 3, r.pix, 4 * DIM);
    expect_failure(dir, true, MUP_ERR_FORMAT, file_in(dir, TRAIN_LABELS), "continues past");
    raw_free(&r);
}

Test(fashion_mnist, mismatched_counts) {
    const char *dir = test_mkdir("fm");
    raw_set r = raw_make(5, 11);
    write_images(dir, "train", &r);
    write_idx(file_in(dir, TRAIN_LABELS), 0x801, (uint32_t[]){4}, 1, r.lab, 4);
    expect_failure(dir, true, MUP_ERR_FORMAT, "holds 5 images", "holds 4 labels");
    raw_free(&r);
}

Test(fashion_mnist, wrong_image_size) {
    const char *dir = test_mkdir("fm");
    raw_set r = raw_make(2, 12);
    write_labels(dir, "t10k", &r);
    write_idx(file_in(dir, "t10k-images-idx3-ubyte.gz"), 0x803, (uint32_t[]){2, 27, 28}, 3, r.pix,
              2 * 27 * 28);
    expect_failure(dir, false, MUP_ERR_FORMAT, file_in(dir, "t10k-images-idx3-ubyte.gz"), "27x28");
    raw_free(&r);
}

Test(fashion_mnist, label_out_of_range) {
    const char *dir = test_mkdir("fm");
    raw_set r = raw_make(9, 13);
    r.lab[7] = 10;
    write_set(dir, "train", &r);
    expect_failure(dir, true, MUP_ERR_FORMAT, file_in(dir, TRAIN_LABELS),
                   "label 10 of example 7 is outside 0..9");
    raw_free(&r);
}

Test(fashion_mnist, huge_counts_refused_before_allocating) {
    const char *dir = test_mkdir("fm");
    unsigned char byte = 0;
    write_idx(file_in(dir, TRAIN_LABELS), 0x801, (uint32_t[]){0xffffffffu}, 1, &byte, 1);
    write_idx(file_in(dir, TRAIN_IMAGES), 0x803, (uint32_t[]){0xffffffffu, 28, 28}, 3, &byte, 1);
    expect_failure(dir, true, MUP_ERR_NOMEM, "exceed", "cap");
    write_idx(file_in(dir, TRAIN_IMAGES), 0x803, (uint32_t[]){0xffffffffu, 0xffffffffu, 28}, 3,
              &byte, 1);
    expect_failure(dir, true, MUP_ERR_FORMAT, "4294967295x28", NULL);
    /* under the cap, but more than the file can hold: 78 MB from a file of some 60 bytes */
    write_idx(file_in(dir, TRAIN_LABELS), 0x801, (uint32_t[]){100000}, 1, &byte, 1);
    write_idx(file_in(dir, TRAIN_IMAGES), 0x803, (uint32_t[]){100000, 28, 28}, 3, &byte, 1);
    expect_failure(dir, true, MUP_ERR_FORMAT, "announces 100000 images, more than a gzip file of", NULL);
}

Test(fashion_mnist, real_test_set) {
    const char *dir = MUP_FASHION_MNIST_DEFAULT_DIR;
    if (access(file_in(dir, "t10k-images-idx3-ubyte.gz"), R_OK) != 0)
        cr_skip_test("%s not installed (Debian package dataset-fashion-mnist)", dir);
    mup_classif_data d;
    cr_assert_eq(mup_fashion_mnist_load(dir, false, 0, &d), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(d.n, 10000);
    int hist[10] = {0};
    for (int i = 0; i < d.n; i++)
        hist[d.y[i]]++;
    for (int c = 0; c < 10; c++)
        cr_assert_eq(hist[c], 1000, "class %d has %d examples", c, hist[c]);
    /* the test set's pixel statistics are close to the training set's used for standardising */
    double s = 0, s2 = 0;
    long N = (long)d.n * d.dim;
    for (long i = 0; i < N; i++) {
        s += d.x[i];
        s2 += (double)d.x[i] * d.x[i];
    }
    double mean = s / N, var = s2 / N - mean * mean;
    cr_assert(fabs(mean) < 0.02 && fabs(var - 1.0) < 0.02, "mean %g variance %g", mean, var);
    mup_classif_data head;
    cr_assert_eq(mup_fashion_mnist_load(dir, false, 100, &head), MUP_OK);
    cr_assert_eq(head.n, 100);
    cr_assert_eq(memcmp(head.x, d.x, 100 * DIM * sizeof(float)), 0);
    cr_assert_eq(memcmp(head.y, d.y, 100 * sizeof(int32_t)), 0);
    mup_classif_data_free(&head);
    mup_classif_data_free(&d);
}

/* ---- synthetic classification ---- */

Test(synthetic_classif, deterministic_and_prefix_stable) {
    mup_classif_data a, b, c, big;
    cr_assert_eq(mup_synthetic_classif(50, 7, 4, 99, &a), MUP_OK);
    cr_assert_eq(mup_synthetic_classif(50, 7, 4, 99, &b), MUP_OK);
    cr_assert_eq(mup_synthetic_classif(50, 7, 4, 100, &c), MUP_OK);
    cr_assert_eq(mup_synthetic_classif(200, 7, 4, 99, &big), MUP_OK);
    cr_assert_eq(memcmp(a.x, b.x, 50 * 7 * sizeof(float)), 0);
    cr_assert_eq(memcmp(a.y, b.y, 50 * sizeof(int32_t)), 0);
    cr_assert_neq(memcmp(a.x, c.x, 50 * 7 * sizeof(float)), 0);
    cr_assert_eq(memcmp(a.x, big.x, 50 * 7 * sizeof(float)), 0);
    cr_assert_eq(memcmp(a.y, big.y, 50 * sizeof(int32_t)), 0);
    mup_classif_data_free(&a);
    mup_classif_data_free(&b);
    mup_classif_data_free(&c);
    mup_classif_data_free(&big);
}

Test(synthetic_classif, inputs_standard_and_classes_used) {
    int n = 4000, dim = 16, C = 5;
    mup_classif_data d;
    cr_assert_eq(mup_synthetic_classif(n, dim, C, 3, &d), MUP_OK);
    cr_assert(d.n == n && d.dim == dim && d.n_classes == C);
    double s = 0, s2 = 0;
    for (long i = 0; i < (long)n * dim; i++) {
        s += d.x[i];
        s2 += (double)d.x[i] * d.x[i];
    }
    cr_assert(fabs(s / (n * dim)) < 0.03 && fabs(s2 / (n * dim) - 1.0) < 0.05);
    int hist[5] = {0};
    for (int i = 0; i < n; i++) {
        cr_assert(d.y[i] >= 0 && d.y[i] < C);
        hist[d.y[i]]++;
    }
    for (int k = 0; k < C; k++)
        cr_assert_gt(hist[k], n / (4 * C), "class %d has only %d of %d examples", k, hist[k], n);
    mup_classif_data_free(&d);
}

Test(synthetic_classif, labels_follow_the_inputs) {
    /* a teacher's label is a function of x: a nearest-class-mean rule fit on half the set beats
     * chance (1/4) clearly on the other half */
    int n = 4000, dim = 8, C = 4, half = n / 2;
    mup_classif_data d;
    cr_assert_eq(mup_synthetic_classif(n, dim, C, 5, &d), MUP_OK);
    double mean[4][8] = {{0}};
    int cnt[4] = {0};
    for (int i = 0; i < half; i++) {
        cnt[d.y[i]]++;
        for (int k = 0; k < dim; k++)
            mean[d.y[i]][k] += d.x[i * dim + k];
    }
    int correct = 0;
    for (int i = half; i < n; i++) {
        int best = 0;
        double best_score = -INFINITY;
        for (int c = 0; c < C; c++) {
            double score = 0;
            for (int k = 0; k < dim; k++)
                score += d.x[i * dim + k] * mean[c][k] / (cnt[c] ? cnt[c] : 1);
            if (score > best_score) {
                best_score = score;
                best = c;
            }
        }
        correct += best == d.y[i];
    }
    cr_assert_gt(correct, half / 2, "accuracy %d / %d", correct, half);
    mup_classif_data_free(&d);
}

Test(synthetic_classif, bad_arguments) {
    mup_classif_data d;
    cr_assert_eq(mup_synthetic_classif(0, 4, 3, 1, &d), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "synthetic"));
    cr_assert_eq(mup_synthetic_classif(10, 4, 1, 1, &d), MUP_ERR_INVALID);
    cr_assert_eq(mup_synthetic_classif(1 << 20, 1 << 10, 3, 1, &d), MUP_ERR_NOMEM);
    cr_assert(!d.x);
}

/* ---- split ---- */

Test(classif_split, tail_becomes_validation) {
    mup_classif_data all, tr, va;
    cr_assert_eq(mup_synthetic_classif(30, 3, 4, 8, &all), MUP_OK);
    cr_assert_eq(mup_classif_split(&all, 7, &tr, &va), MUP_OK);
    cr_assert(tr.n == 23 && va.n == 7 && tr.dim == 3 && va.dim == 3 && va.n_classes == 4);
    cr_assert_eq(memcmp(tr.x, all.x, 23 * 3 * sizeof(float)), 0);
    cr_assert_eq(memcmp(va.x, all.x + 23 * 3, 7 * 3 * sizeof(float)), 0);
    cr_assert_eq(memcmp(va.y, all.y + 23, 7 * sizeof(int32_t)), 0);
    mup_classif_data_free(&tr);
    mup_classif_data_free(&va);
    cr_assert_eq(mup_classif_split(&all, 30, &tr, &va), MUP_ERR_INVALID);
    cr_assert_eq(mup_classif_split(&all, 0, &tr, &va), MUP_ERR_INVALID);
    cr_assert(!tr.x && !va.x);
    mup_classif_data_free(&all);
}

/* ---- batching ---- */

/* n examples of dim 2 where x = (i, -i) and y = i */
static mup_classif_data indexed(int n) {
    mup_classif_data d = {.n = n, .dim = 2, .n_classes = n, .x = malloc((size_t)n * 2 * sizeof(float)),
                          .y = malloc((size_t)n * sizeof(int32_t))};
    for (int i = 0; i < n; i++) {
        d.x[2 * i] = (float)i;
        d.x[2 * i + 1] = (float)-i;
        d.y[i] = i;
    }
    return d;
}

/* Draws k batches and returns the y's in order (k * batch), checking x matches y. */
static int32_t *draw(mup_batcher *b, const mup_classif_data *d, int k) {
    int32_t *all = malloc((size_t)k * b->batch * sizeof(int32_t));
    float *x = malloc((size_t)b->batch * 2 * sizeof(float));
    for (int j = 0; j < k; j++) {
        mup_batcher_next(b, d, x, all + j * b->batch);
        for (int i = 0; i < b->batch; i++) {
            int32_t y = all[j * b->batch + i];
            cr_assert(x[2 * i] == (float)y && x[2 * i + 1] == (float)-y);
        }
    }
    free(x);
    return all;
}

static void assert_permutation(const int32_t *ys, int n) {
    int seen[64] = {0};
    for (int i = 0; i < n; i++) {
        cr_assert(ys[i] >= 0 && ys[i] < n);
        cr_assert_eq(seen[ys[i]]++, 0, "example %d twice in one epoch", ys[i]);
    }
}

Test(batcher, every_example_once_per_epoch) {
    for (int batch = 1; batch <= 25; batch += 4) { /* dividing 10, not dividing it, larger than it */
        int n = 10, epochs = 5;
        mup_classif_data d = indexed(n);
        mup_batcher b;
        mup_batcher_init(&b, n, batch, 17);
        int k = (n * epochs + batch - 1) / batch;
        int32_t *ys = draw(&b, &d, k);
        for (int e = 0; e < epochs; e++)
            assert_permutation(ys + e * n, n);
        cr_assert_eq(mup_batcher_get_state(&b).epoch, k * batch / n);
        cr_assert_eq(mup_batcher_get_state(&b).pos, k * batch % n);
        cr_assert_neq(memcmp(ys, ys + n, n * sizeof(int32_t)), 0, "epochs 0 and 1 in the same order");
        free(ys);
        mup_batcher_free(&b);
        mup_classif_data_free(&d);
    }
}

Test(batcher, reproducible_from_seed) {
    mup_classif_data d = indexed(13);
    mup_batcher a, b, c;
    mup_batcher_init(&a, 13, 4, 5);
    mup_batcher_init(&b, 13, 4, 5);
    mup_batcher_init(&c, 13, 4, 6);
    int32_t *ya = draw(&a, &d, 20), *yb = draw(&b, &d, 20), *yc = draw(&c, &d, 20);
    cr_assert_eq(memcmp(ya, yb, 80 * sizeof(int32_t)), 0);
    cr_assert_neq(memcmp(ya, yc, 80 * sizeof(int32_t)), 0);
    free(ya);
    free(yb);
    free(yc);
    mup_batcher_free(&a);
    mup_batcher_free(&b);
    mup_batcher_free(&c);
    mup_classif_data_free(&d);
}

Test(batcher, state_restores_the_sequence) {
    mup_classif_data d = indexed(11);
    mup_batcher a, b;
    mup_batcher_init(&a, 11, 3, 21);
    free(draw(&a, &d, 9)); /* into the third epoch */
    mup_batcher_state s = mup_batcher_get_state(&a);
    cr_assert(s.epoch == 2 && s.pos == 5 && s.seed == 21 && s.n == 11);
    int32_t *want = draw(&a, &d, 10);
    mup_batcher_init(&b, 11, 3, 999); /* the state carries the seed */
    cr_assert_eq(mup_batcher_set_state(&b, s), MUP_OK);
    int32_t *got = draw(&b, &d, 10);
    cr_assert_eq(memcmp(want, got, 30 * sizeof(int32_t)), 0);
    free(want);
    free(got);

    mup_batcher_state bad = s;
    bad.n = 12;
    cr_assert_eq(mup_batcher_set_state(&b, bad), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "12"));
    bad = s;
    bad.pos = 11;
    cr_assert_eq(mup_batcher_set_state(&b, bad), MUP_ERR_INVALID);
    bad = s;
    bad.epoch = -1;
    cr_assert_eq(mup_batcher_set_state(&b, bad), MUP_ERR_INVALID);
    mup_batcher_free(&a);
    mup_batcher_free(&b);
    mup_classif_data_free(&d);
}

Test(batcher, wrong_data_set_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("batcher made for 6 examples, data set has 5");
    mup_classif_data d = indexed(5);
    mup_batcher b;
    mup_batcher_init(&b, 6, 2, 1);
    float x[4];
    int32_t y[2];
    mup_batcher_next(&b, &d, x, y);
}

Test(classif_batch_at, sequential_with_wraparound) {
    mup_classif_data d = indexed(7);
    float x[10 * 2];
    int32_t y[10];
    mup_classif_batch_at(&d, 5, 10, x, y);
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(y[i], (5 + i) % 7);
        cr_assert_eq(x[2 * i], (float)((5 + i) % 7));
    }
    mup_classif_data_free(&d);
}
