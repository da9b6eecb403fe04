/* Fashion-MNIST from the gzip IDX files. Every size in a header is checked before it is used, and
 * every byte of both files is read (so zlib verifies the checksum) even when only a prefix is kept:
 * a file that loads with a limit also loads without one. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "data_impl.h"
#include "internal.h"
#include "io/regular.h"

#define SIDE 28
#define DIM (SIDE * SIDE)
#define N_CLASSES 10
#define MAGIC_LABELS 0x00000801u
#define MAGIC_IMAGES 0x00000803u
#define CHUNK 64 /* images per read */
/* What to do about a missing file depends on where the directory came from: a path the caller gave
 * wins over the environment, so naming the variable there would send the user the wrong way. */
#define HINT_DEFAULT " (install the Debian package dataset-fashion-mnist or set MUP_FASHION_MNIST_DIR)"
#define HINT_ENV " (the directory named by MUP_FASHION_MNIST_DIR)"
#define HINT_GIVEN " (the directory given; the Debian package dataset-fashion-mnist installs the files in " \
    MUP_FASHION_MNIST_DEFAULT_DIR ")"
#define DEFLATE_MAX_RATIO 1032 /* deflate's largest expansion: no gzip file holds more than this per byte */

typedef struct {
    gzFile gz;
    char path[4096];
    uint32_t count;          /* items the header announces */
    long long bytes;         /* the compressed file's size */
} idx_file;

static mup_status idx_open(idx_file *f, const char *dir, const char *name, const char *hint) {
    int len = snprintf(f->path, sizeof f->path, "%s/%s", dir, name);
    if (len < 0 || (size_t)len >= sizeof f->path)
        return mup_error(MUP_ERR_INVALID, "fashion-mnist: directory name too long: %.200s...", dir);
    /* opened here rather than by gzopen() so that errno is certain to describe the failure, and a
     * FIFO is refused rather than waited on */
    int fd;
    mup_status s = mup_open_regular(f->path, "fashion-mnist", hint, &fd, &f->bytes);
    if (s != MUP_OK)
        return s;
    f->gz = gzdopen(fd, "rb");
    if (!f->gz) {
        close(fd);
        return mup_error(MUP_ERR_NOMEM, "fashion-mnist: cannot set up zlib to read %s", f->path);
    }
    return MUP_OK;
}

/* Reads up to len bytes into buf; *got short of len means the data ended. */
static mup_status idx_read(idx_file *f, void *buf, unsigned len, unsigned *got) {
    int r = gzread(f->gz, buf, len);
    *got = r > 0 ? (unsigned)r : 0;
    if (*got == len)
        return MUP_OK;
    /* a short read is the end of the data, unless zlib met an error on the way (a gzip stream cut
     * short, Z_BUF_ERROR, is reported as the truncation it is) */
    int err;
    const char *msg = gzerror(f->gz, &err);
    if (err == Z_ERRNO)
        return mup_error(MUP_ERR_IO, "fashion-mnist: cannot read %s: %s", f->path, strerror(errno));
    if (err == Z_OK || err == Z_BUF_ERROR)
        return MUP_OK;
    /* zlib prefixes the only name it knows, "<fd:N>: ", which says less than the path */
    const char *after = strncmp(msg, "<fd:", 4) == 0 ? strstr(msg, ">: ") : NULL;
    return mup_error(MUP_ERR_FORMAT, "fashion-mnist: %s: corrupt gzip data: %s", f->path,
                     after ? after + 3 : msg);
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Checks the magic number and reads the ndims big-endian dimensions, the first being the count. */
static mup_status idx_header(idx_file *f, uint32_t magic, const char *kind, uint32_t *dims, int ndims) {
    unsigned char h[16];
    unsigned want = 4u * (unsigned)(ndims + 1), got;
    mup_status s = idx_read(f, h, want, &got);
    if (s != MUP_OK)
        return s;
    if (got < want)
        return mup_error(MUP_ERR_FORMAT, "fashion-mnist: %s: truncated header (%u of %u bytes)",
                         f->path, got, want);
    if (be32(h) != magic)
        return mup_error(MUP_ERR_FORMAT, "fashion-mnist: %s: magic number 0x%08x, expected 0x%08x for "
                         "an IDX %s file", f->path, be32(h), magic, kind);
    for (int i = 0; i < ndims; i++)
        dims[i] = be32(h + 4 + 4 * i);
    f->count = dims[0];
    return MUP_OK;
}

static mup_status idx_truncated(const idx_file *f, const char *items, uint32_t read) {
    return mup_error(MUP_ERR_FORMAT, "fashion-mnist: %s: truncated: the header announces %u %s, "
                     "the file holds %u", f->path, f->count, items, read);
}

/* After the announced items, the data must end (reading on also makes zlib check the CRC). */
static mup_status idx_expect_end(idx_file *f, const char *items) {
    unsigned char extra;
    unsigned got;
    mup_status s = idx_read(f, &extra, 1, &got);
    if (s == MUP_OK && got)
        s = mup_error(MUP_ERR_FORMAT, "fashion-mnist: %s: data continues past the %u %s the header "
                      "announces", f->path, f->count, items);
    return s;
}

static mup_status read_labels(idx_file *f, mup_classif_data *d) {
    unsigned char buf[4096];
    uint32_t done = 0;
    while (done < f->count) {
        unsigned want = f->count - done < sizeof buf ? f->count - done : (unsigned)sizeof buf, got;
        mup_status s = idx_read(f, buf, want, &got);
        if (s != MUP_OK)
            return s;
        for (unsigned i = 0; i < got; i++) {
            if (buf[i] >= N_CLASSES)
                return mup_error(MUP_ERR_FORMAT, "fashion-mnist: %s: label %u of example %u is outside 0..%d",
                                 f->path, (unsigned)buf[i], done + i, N_CLASSES - 1);
            if (done + i < (uint32_t)d->n)
                d->y[done + i] = buf[i];
        }
        done += got;
        if (got < want)
            return idx_truncated(f, "labels", done);
    }
    return idx_expect_end(f, "labels");
}

static mup_status read_images(idx_file *f, mup_classif_data *d) {
    float value[256];
    for (int p = 0; p < 256; p++)
        value[p] = ((float)p / 255.0f - MUP_FASHION_MNIST_MEAN) / MUP_FASHION_MNIST_STD;
    unsigned char buf[CHUNK * DIM];
    uint32_t done = 0; /* whole images read */
    while (done < f->count) {
        uint32_t k = f->count - done < CHUNK ? f->count - done : CHUNK;
        unsigned got;
        mup_status s = idx_read(f, buf, k * DIM, &got);
        if (s != MUP_OK)
            return s;
        for (uint32_t i = 0; i < got / DIM && done + i < (uint32_t)d->n; i++) {
            float *x = d->x + (size_t)(done + i) * DIM;
            for (int j = 0; j < DIM; j++)
                x[j] = value[buf[i * DIM + j]];
        }
        done += got / DIM;
        if (got < k * DIM)
            return idx_truncated(f, "images", done);
    }
    return idx_expect_end(f, "images");
}

static mup_status load(idx_file *lab, idx_file *img, int limit, mup_classif_data *out) {
    uint32_t ldims[1], idims[3];
    mup_status s = idx_header(lab, MAGIC_LABELS, "label", ldims, 1);
    if (s == MUP_OK)
        s = idx_header(img, MAGIC_IMAGES, "image", idims, 3);
    if (s != MUP_OK)
        return s;
    if (idims[1] != SIDE || idims[2] != SIDE)
        return mup_error(MUP_ERR_FORMAT, "fashion-mnist: %s: images of %ux%u pixels, expected %dx%d",
                         img->path, idims[1], idims[2], SIDE, SIDE);
    if (img->count != lab->count)
        return mup_error(MUP_ERR_FORMAT, "fashion-mnist: %s holds %u images but %s holds %u labels",
                         img->path, img->count, lab->path, lab->count);
    if (!mup_data_fits(img->count, DIM * sizeof(float)))
        return mup_error(MUP_ERR_NOMEM, "fashion-mnist: %s: %u images exceed the %ld-byte data cap",
                         img->path, img->count, MUP_DATA_MAX_BYTES);
    /* the memory asked for follows from what the file can really hold, not from the header alone */
    if ((long long)img->count * DIM > img->bytes * DEFLATE_MAX_RATIO)
        return mup_error(MUP_ERR_FORMAT, "fashion-mnist: %s: the header announces %u images, more than a "
                         "gzip file of %lld bytes can hold", img->path, img->count, img->bytes);
    int keep = limit > 0 && (uint32_t)limit < img->count ? limit : (int)img->count;
    s = mup_data_classif_alloc(out, keep, DIM, N_CLASSES, "fashion-mnist");
    if (s == MUP_OK)
        s = read_labels(lab, out);
    if (s == MUP_OK)
        s = read_images(img, out);
    return s;
}

mup_status mup_fashion_mnist_load(const char *dir, bool train, int limit, mup_classif_data *out) {
    *out = (mup_classif_data){0};
    const char *env = getenv("MUP_FASHION_MNIST_DIR");
    const char *hint = dir ? HINT_GIVEN : env && *env ? HINT_ENV : HINT_DEFAULT;
    dir = mup_data_dir(dir, "MUP_FASHION_MNIST_DIR", MUP_FASHION_MNIST_DEFAULT_DIR);
    const char *split = train ? "train" : "t10k";
    char name[64];
    idx_file lab = {0}, img = {0};
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte.gz", split);
    mup_status s = idx_open(&lab, dir, name, hint);
    if (s == MUP_OK) {
        snprintf(name, sizeof name, "%s-images-idx3-ubyte.gz", split);
        s = idx_open(&img, dir, name, hint);
    }
    if (s == MUP_OK)
        s = load(&lab, &img, limit, out);
    if (lab.gz)
        gzclose_r(lab.gz);
    if (img.gz)
        gzclose_r(img.gz);
    if (s != MUP_OK)
        mup_classif_data_free(out);
    return s;
}
