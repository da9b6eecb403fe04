/* Character-level text: files read as bytes, the vocabulary being the bytes that occur. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data_impl.h"
#include "internal.h"
#include "io/regular.h"

#define MAX_TOKENS ((long)(MUP_DATA_MAX_BYTES / sizeof(int32_t)))
#define DIR_HINT "install the Debian package fortunes or set MUP_TEXT_DIR"

void mup_text_data_free(mup_text_data *d) {
    free(d->tokens);
    *d = (mup_text_data){0};
}

mup_status mup_data_text_alloc(mup_text_data *d, long n, const char *what) {
    *d = (mup_text_data){0};
    if (!mup_data_fits(n, sizeof(int32_t)))
        return mup_error(MUP_ERR_NOMEM, "%s: %ld tokens exceed the %ld-byte data cap", what, n,
                         MUP_DATA_MAX_BYTES);
    d->n = n;
    d->tokens = mup_xmalloc((size_t)n * sizeof(int32_t));
    return MUP_OK;
}

typedef struct {
    unsigned char *b;
    size_t len, cap;
} byte_buf;

static mup_status buf_reserve(byte_buf *buf, size_t extra, const char *path) {
    if (buf->len + extra > (size_t)MAX_TOKENS)
        return mup_error(MUP_ERR_NOMEM, "text: %s takes the corpus past %ld bytes (the data cap)", path,
                         MAX_TOKENS);
    if (buf->len + extra > buf->cap) {
        size_t cap = buf->cap ? buf->cap : 1 << 16;
        while (cap < buf->len + extra)
            cap *= 2;
        buf->b = mup_xrealloc(buf->b, cap);
        buf->cap = cap;
    }
    return MUP_OK;
}

/* Appends the file's bytes; with skip_binary, a file holding a NUL byte is left out and *appended
 * stays false. hint ends the message of an I/O failure. */
static mup_status append_file(byte_buf *buf, const char *path, bool skip_binary, const char *hint,
                              bool *appended) {
    *appended = false;
    int fd;
    long long size;
    mup_status s = mup_open_regular(path, "text", hint, &fd, &size);
    if (s != MUP_OK)
        return s;
    size_t start = buf->len;
    /* one byte beyond the size, so that the read which finds the end needs no growth */
    s = size > 0 ? buf_reserve(buf, (size_t)size + 1, path) : MUP_OK;
    while (s == MUP_OK) {
        if (buf->len == buf->cap && (s = buf_reserve(buf, 1, path)) != MUP_OK)
            break;
        ssize_t r = read(fd, buf->b + buf->len, buf->cap - buf->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            s = mup_error(MUP_ERR_IO, "text: cannot read %s: %s%s", path, strerror(errno), hint);
        else if (r == 0)
            break;
        else
            buf->len += (size_t)r;
    }
    close(fd);
    if (s != MUP_OK || (skip_binary && memchr(buf->b + start, 0, buf->len - start))) {
        if (s == MUP_OK)
            mup_log(MUP_LOG_DEBUG, "text: skipping %s: not a text file (it holds a NUL byte)", path);
        buf->len = start;
        return s;
    }
    *appended = true;
    return MUP_OK;
}

static mup_status text_from_bytes(const byte_buf *buf, const char *what, mup_text_data *out) {
    if (buf->len == 0)
        return mup_error(MUP_ERR_FORMAT, "text: %s: the corpus is empty", what);
    mup_status s = mup_data_text_alloc(out, (long)buf->len, "text");
    if (s != MUP_OK)
        return s;
    bool present[256] = {false};
    for (size_t i = 0; i < buf->len; i++)
        present[buf->b[i]] = true;
    for (int c = 0; c < 256; c++) {
        out->stoi[c] = present[c] ? (int16_t)out->vocab : -1;
        if (present[c])
            out->itos[out->vocab++] = (unsigned char)c;
    }
    for (size_t i = 0; i < buf->len; i++)
        out->tokens[i] = out->stoi[buf->b[i]];
    return MUP_OK;
}

mup_status mup_text_load_files(const char *const *paths, int n_paths, mup_text_data *out) {
    MUP_ASSERT(n_paths >= 0 && (paths || n_paths == 0), "mup_text_load_files: %d paths, paths %p",
               n_paths, (const void *)paths);
    *out = (mup_text_data){0};
    byte_buf buf = {0};
    bool appended;
    mup_status s = MUP_OK;
    for (int i = 0; i < n_paths && s == MUP_OK; i++)
        s = append_file(&buf, paths[i], false, "", &appended);
    if (s == MUP_OK)
        s = text_from_bytes(&buf, n_paths == 1 ? paths[0] : "the given files", out);
    free(buf.b);
    return s;
}

static bool has_suffix(const char *name, const char *suffix) {
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && strcmp(name + n - k, suffix) == 0;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The entries of dir other than . and .., sorted; *names is NULL when it cannot be opened. */
static mup_status list_dir(const char *dir, char ***names, int *count) {
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return mup_error(MUP_ERR_IO, "text: cannot open directory %s: %s (" DIR_HINT ")", dir,
                         strerror(errno));
    int cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (*count == cap) {
            cap = cap ? 2 * cap : 64;
            *names = mup_xrealloc(*names, (size_t)cap * sizeof **names);
        }
        (*names)[(*count)++] = mup_xstrdup(e->d_name);
    }
    closedir(d);
    if (*count)
        qsort(*names, (size_t)*count, sizeof **names, cmp_names);
    return MUP_OK;
}

mup_status mup_text_load_dir(const char *dir, mup_text_data *out) {
    *out = (mup_text_data){0};
    dir = mup_data_dir(dir, "MUP_TEXT_DIR", MUP_TEXT_DEFAULT_DIR);
    char **names;
    int count;
    mup_status s = list_dir(dir, &names, &count);
    byte_buf buf = {0};
    int used = 0;
    for (int i = 0; i < count && s == MUP_OK; i++) {
        if (has_suffix(names[i], ".dat") || has_suffix(names[i], ".u8"))
            continue;
        char path[4096];
        struct stat st;
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (len < 0 || (size_t)len >= sizeof path)
            s = mup_error(MUP_ERR_INVALID, "text: path too long: %.200s/%.200s...", dir, names[i]);
        else if (stat(path, &st) != 0)
            s = mup_error(MUP_ERR_IO, "text: cannot open %s: %s (" DIR_HINT ")", path, strerror(errno));
        else if (S_ISREG(st.st_mode)) {
            bool appended;
            s = append_file(&buf, path, true, " (" DIR_HINT ")", &appended);
            used += appended;
        }
    }
    if (s == MUP_OK && !used)
        s = mup_error(MUP_ERR_FORMAT, "text: %s holds no text files (" DIR_HINT ")", dir);
    if (s == MUP_OK)
        s = text_from_bytes(&buf, dir, out);
    for (int i = 0; i < count; i++)
        free(names[i]);
    free(names);
    free(buf.b);
    return s;
}

static void copy_part(mup_text_data *dst, const mup_text_data *src, long first, long n) {
    mup_data_text_alloc(dst, n, "text split"); /* no larger than src, so under the cap */
    memcpy(dst->tokens, src->tokens + first, (size_t)n * sizeof(int32_t));
    dst->vocab = src->vocab;
    memcpy(dst->itos, src->itos, sizeof dst->itos);
    memcpy(dst->stoi, src->stoi, sizeof dst->stoi);
}

mup_status mup_text_split(const mup_text_data *all, double val_fraction, mup_text_data *train,
                          mup_text_data *val) {
    *train = (mup_text_data){0};
    *val = (mup_text_data){0};
    long n_val = val_fraction > 0.0 && val_fraction < 1.0 ? (long)floor((double)all->n * val_fraction) : 0;
    if (n_val < 2 || all->n - n_val < 2)
        return mup_error(MUP_ERR_INVALID, "text split: validation fraction %g of %ld tokens leaves %ld "
                         "for validation and %ld for training (need at least 2 in each)",
                         val_fraction, all->n, n_val, all->n - n_val);
    copy_part(train, all, 0, all->n - n_val);
    copy_part(val, all, all->n - n_val, n_val);
    return MUP_OK;
}

double mup_text_unigram_entropy(const mup_text_data *d) {
    long count[256] = {0};
    for (long i = 0; i < d->n; i++)
        count[d->tokens[i]]++;
    double h = 0.0;
    for (int v = 0; v < d->vocab; v++)
        if (count[v]) {
            double p = (double)count[v] / (double)d->n;
            h -= p * log(p);
        }
    return h;
}
