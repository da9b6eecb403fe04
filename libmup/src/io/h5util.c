#include "h5util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "regular.h"

/* Data chunks of at most this many bytes, each with its own Fletcher32 checksum. */
#define CHUNK_BYTES (1 << 20)

void mup_h5_quiet(void) {
    /* libhdf5 (1.10) crashes in its exit handler (H5F__close_cb) on a file whose close failed, as on a full
     * disk. Without that handler nothing is lost: libmup closes every file where it opened it. The call
     * only counts before HDF5 starts, which the first call here precedes. */
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    /* a filter named in a file would otherwise load a shared library from the plugin path */
    H5PLset_loading_state(0);
}

typedef struct {
    char name[256];
    H5L_type_t type;
} bad_link;

static herr_t find_non_hard(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    (void)g;
    if (info->type == H5L_TYPE_HARD)
        return 0;
    bad_link *b = data;
    snprintf(b->name, sizeof b->name, "%s", name);
    b->type = info->type;
    return 1;
}

/* Every link of the file must be a hard link. libmup writes no others, and the others lead elsewhere:
 * an external link to any file (a FIFO that blocks, an old file that skips the superblock check), a
 * soft link to a path HDF5 resolves at each use. Once this holds, no lookup leaves the file. */
static mup_status check_links(hid_t file, const char *path) {
    bad_link b = {.name = ""};
    herr_t r = H5Lvisit(file, H5_INDEX_NAME, H5_ITER_NATIVE, find_non_hard, &b);
    if (r < 0)
        return mup_error(MUP_ERR_FORMAT, "%s: cannot list the links of the file (damaged?)", path);
    if (r > 0)
        return mup_error(MUP_ERR_FORMAT, "%s: '%s' is %s link; libmup reads only files whose objects are all in "
                         "the file itself", path, b.name, b.type == H5L_TYPE_EXTERNAL ? "an external"
                         : b.type == H5L_TYPE_SOFT ? "a soft" : "a user-defined");
    return MUP_OK;
}

/* A path that passed the regular-file check, opened by HDF5, every link checked. */
static mup_status open_regular_h5(const char *path, bool write, hid_t *file) {
    mup_h5_quiet();
    mup_status s;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG); /* closing the file closes whatever an error left open */
    *file = H5Fopen(path, write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (*file < 0)
        return mup_error(MUP_ERR_IO, "%s: cannot open as HDF5 (missing, unreadable, truncated or not an HDF5 file)", path);
    if ((s = check_links(*file, path)) != MUP_OK) {
        H5Fclose(*file);
        *file = -1;
    }
    return s;
}

mup_status mup_h5_open(const char *path, bool write, hid_t *file) {
    *file = -1;
    /* HDF5 opens the path itself, with a blocking open(): a FIFO is refused here first */
    int fd;
    mup_status s = mup_open_regular(path, "HDF5", "", &fd, NULL);
    if (s != MUP_OK)
        return s;
    close(fd);
    return open_regular_h5(path, write, file);
}

mup_status mup_h5_open_checked(const char *path, hid_t *file) {
    static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char head[9];
    *file = -1;
    FILE *f;
    mup_status s = mup_fopen_regular(path, "HDF5", "", &f);
    if (s != MUP_OK)
        return s;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n < sizeof head || memcmp(head, signature, sizeof signature) != 0)
        return mup_error(MUP_ERR_FORMAT, "%s: not an HDF5 file (no HDF5 signature at its start)", path);
    if (head[8] < 2)
        return mup_error(MUP_ERR_FORMAT, "%s: HDF5 superblock version %d has no metadata checksums; libmup writes "
                         "version 2 or later and reads only those", path, head[8]);
    return open_regular_h5(path, false, file);
}

mup_status mup_h5_create(const char *path, hid_t *file) {
    mup_h5_quiet();
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* 1.10's formats: checksums on all metadata, chunk indexes included (1.8's v1 B-tree has none) */
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_LATEST);
    *file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (*file < 0)
        return mup_error(MUP_ERR_IO, "%s: cannot create HDF5 file", path);
    return MUP_OK;
}

/* What the system said about the last failed write, for a message: ": No space left on device". */
static const char *write_reason(int err) {
    static _Thread_local char buf[128];
    snprintf(buf, sizeof buf, "%s%s", err ? ": " : " (disk full or file not writable?)", err ? strerror(err) : "");
    return buf;
}

mup_status mup_h5_reserve(hid_t file, const char *path, int64_t bytes) {
    int *fd = NULL;
    if (H5Fget_vfd_handle(file, H5P_DEFAULT, (void **)&fd) < 0 || !fd)
        return mup_error(MUP_ERR_IO, "%s: HDF5 gives no file descriptor to reserve its space", path);
    int err = posix_fallocate(*fd, 0, (off_t)bytes);
    if (err != 0)
        return mup_error(MUP_ERR_IO, "cannot write %s%s", path, write_reason(err));
    return MUP_OK;
}

mup_status mup_h5_close_written(hid_t file, const char *path) {
    /* HDF5 caches metadata: most of a small file reaches the disk only now */
    errno = 0;
    bool ok = H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0;
    int err = errno;
    haddr_t used = 0;
    if (ok && H5Fget_eoa(file, &used) < 0)
        used = 0;
    ok = H5Fclose(file) >= 0 && ok;
    /* HDF5 trims only what it wrote past its end, not space reserved ahead (mup_h5_reserve): the file
     * is cut to what HDF5 uses, so that a cut file is still seen as cut */
    if (ok && used > 0 && truncate(path, (off_t)used) != 0) {
        err = errno;
        ok = false;
    }
    if (ok)
        return MUP_OK;
    return mup_error(MUP_ERR_IO, "cannot write %s%s", path, write_reason(err ? err : errno));
}

bool mup_h5_exists(hid_t loc, const char *name) { return H5Lexists(loc, name, H5P_DEFAULT) > 0; }

mup_status mup_h5_group(hid_t loc, const char *name, bool create, hid_t *group) {
    if (mup_h5_exists(loc, name))
        *group = H5Gopen2(loc, name, H5P_DEFAULT);
    else if (create)
        *group = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    else
        return mup_error(MUP_ERR_FORMAT, "group '%s' is missing", name);
    if (*group < 0)
        return mup_error(MUP_ERR_FORMAT, "cannot open group '%s'", name);
    return MUP_OK;
}

/* The dataset's data lies in this file, unfiltered but for Fletcher32, and all of it was written:
 * external raw-data storage would read any file into the result; a virtual dataset maps other files;
 * a filter would be code from the plugin path or a decompression bomb; and data never written would
 * read as fill values, letting a small file announce any size. */
static mup_status check_storage(hid_t d, const char *name, int64_t count) {
    hid_t dcpl = H5Dget_create_plist(d), t = H5Dget_type(d);
    mup_status s = MUP_OK;
    H5D_layout_t layout = dcpl < 0 ? H5D_LAYOUT_ERROR : H5Pget_layout(dcpl);
    int n_ext = dcpl < 0 ? -1 : H5Pget_external_count(dcpl), n_filters = dcpl < 0 ? -1 : H5Pget_nfilters(dcpl);
    size_t elem = t < 0 ? 0 : H5Tget_size(t);
    if (n_ext != 0)
        s = mup_error(MUP_ERR_FORMAT, "dataset '%s' keeps its data in %s", name,
                      n_ext > 0 ? "external files" : "an unreadable layout");
    else if (layout != H5D_COMPACT && layout != H5D_CONTIGUOUS && layout != H5D_CHUNKED)
        s = mup_error(MUP_ERR_FORMAT, "dataset '%s' has a %s layout (libmup writes compact, contiguous or "
                      "chunked ones)", name, layout == H5D_VIRTUAL ? "virtual" : "unknown");
    for (int i = 0; s == MUP_OK && i < n_filters; i++) {
        unsigned flags, cd[8];
        size_t n_cd = 8;
        char fname[64];
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &n_cd, cd, sizeof fname, fname, NULL);
        if (id != H5Z_FILTER_FLETCHER32)
            s = mup_error(MUP_ERR_FORMAT, "dataset '%s' uses HDF5 filter %d (libmup reads only Fletcher32)", name,
                          (int)id);
    }
    int64_t bytes;
    if (s == MUP_OK && (n_filters < 0 || elem == 0 || __builtin_mul_overflow(count, (int64_t)elem, &bytes)))
        s = mup_error(MUP_ERR_FORMAT, "dataset '%s': cannot read its type or filters, or its size overflows", name);
    else if (s == MUP_OK && (hsize_t)bytes > H5Dget_storage_size(d))
        s = mup_error(MUP_ERR_FORMAT, "dataset '%s' announces %lld bytes but the file holds %llu of them", name,
                      (long long)bytes, (unsigned long long)H5Dget_storage_size(d));
    if (t >= 0)
        H5Tclose(t);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return s;
}

/* Opens a dataset and checks its shape (ndim at most max_dims, an element count that fits in 64 bits)
 * and its storage. */
static mup_status open_dataset(hid_t loc, const char *name, int max_dims, int *ndim, int64_t *dims,
                               int64_t *count, hid_t *dset) {
    *dset = -1;
    if (!mup_h5_exists(loc, name))
        return mup_error(MUP_ERR_FORMAT, "dataset '%s' is missing", name);
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0)
        return mup_error(MUP_ERR_FORMAT, "'%s' is not a dataset", name);
    hid_t sp = H5Dget_space(d);
    int nd = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    mup_status s = MUP_OK;
    hsize_t h[H5S_MAX_RANK];
    if (nd < 0 || nd > max_dims || nd > H5S_MAX_RANK || H5Sget_simple_extent_dims(sp, h, NULL) < 0)
        s = mup_error(MUP_ERR_FORMAT, "dataset '%s' has %d dimensions (at most %d expected)", name, nd, max_dims);
    int64_t n = 1;
    for (int i = 0; s == MUP_OK && i < nd; i++) {
        if (h[i] > (hsize_t)INT64_MAX || __builtin_mul_overflow(n, (int64_t)h[i], &n))
            s = mup_error(MUP_ERR_FORMAT, "dataset '%s': its dimensions' product overflows 64 bits", name);
        dims[i] = (int64_t)h[i];
    }
    if (sp >= 0)
        H5Sclose(sp);
    s = s ? s : check_storage(d, name, n);
    if (s != MUP_OK) {
        H5Dclose(d);
        return s;
    }
    *ndim = nd;
    *count = n;
    *dset = d;
    return MUP_OK;
}

mup_status mup_h5_shape(hid_t loc, const char *name, int max_dims, int *ndim, int64_t *dims) {
    int64_t count;
    hid_t d;
    mup_status s = open_dataset(loc, name, max_dims, ndim, dims, &count, &d);
    if (s == MUP_OK)
        H5Dclose(d);
    return s;
}

mup_status mup_h5_checksummed(hid_t loc, const char *name) {
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t dcpl = d < 0 ? -1 : H5Dget_create_plist(d);
    unsigned flags, cd[8], config;
    size_t n_cd = 8;
    char fname[64];
    H5D_chunk_index_t index;
    /* chunked: the filter on the data, and an index of the chunks with checksums of its own (any but
     * the v1 B-tree) */
    bool ok = dcpl >= 0 && (H5Pget_layout(dcpl) == H5D_COMPACT ||
                            (H5Pget_filter_by_id2(dcpl, H5Z_FILTER_FLETCHER32, &flags, &n_cd, cd, sizeof fname, fname,
                                                  &config) >= 0 &&
                             H5Dget_chunk_index_type(d, &index) >= 0 && index != H5D_CHUNK_IDX_BTREE));
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (d >= 0)
        H5Dclose(d);
    return ok ? MUP_OK : mup_error(MUP_ERR_FORMAT, "dataset '%s' has no checksum (Fletcher32) on its data", name);
}

static mup_status read_as(hid_t loc, const char *name, hid_t mem_type, void *out, int64_t n) {
    int nd;
    int64_t dims[H5S_MAX_RANK], count;
    hid_t d;
    mup_status s = open_dataset(loc, name, H5S_MAX_RANK, &nd, dims, &count, &d);
    if (s != MUP_OK)
        return s;
    if (count != n) {
        H5Dclose(d);
        return mup_error(MUP_ERR_FORMAT, "dataset '%s' has %lld elements, expected %lld", name, (long long)count,
                         (long long)n);
    }
    herr_t r = H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    H5Dclose(d);
    if (r < 0)
        return mup_error(MUP_ERR_FORMAT, "cannot read dataset '%s' (wrong type, or damaged: a checksum that "
                         "does not match)", name);
    return MUP_OK;
}

mup_status mup_h5_read_f32(hid_t loc, const char *name, float *out, int64_t n) {
    return read_as(loc, name, H5T_NATIVE_FLOAT, out, n);
}
mup_status mup_h5_read_f64(hid_t loc, const char *name, double *out, int64_t n) {
    return read_as(loc, name, H5T_NATIVE_DOUBLE, out, n);
}
mup_status mup_h5_read_i32(hid_t loc, const char *name, int32_t *out, int64_t n) {
    return read_as(loc, name, H5T_NATIVE_INT32, out, n);
}

/* Every dataset's data is checksummed: chunks of at most CHUNK_BYTES with the Fletcher32 filter, or,
 * for a scalar or an empty one (which cannot be chunked), compact storage inside the object header,
 * which HDF5 checksums with the rest of the metadata. */
static hid_t data_layout(int ndim, const hsize_t *dims, size_t elem) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t count = 1, chunk[H5S_MAX_RANK];
    for (int i = 0; i < ndim; i++)
        count *= dims[i];
    if (ndim == 0 || count == 0) {
        H5Pset_layout(dcpl, H5D_COMPACT);
        return dcpl;
    }
    /* whole trailing dimensions, and as many rows of the first one cut as fit in a chunk */
    hsize_t budget = elem ? CHUNK_BYTES / elem : 1;
    budget = budget ? budget : 1;
    for (int i = 0; i < ndim; i++) {
        hsize_t rest = 1;
        for (int j = i + 1; j < ndim; j++)
            rest *= dims[j];
        if (rest <= budget) {
            hsize_t rows = budget / rest;
            chunk[i] = rows < dims[i] ? rows : dims[i];
            for (int j = i + 1; j < ndim; j++)
                chunk[j] = dims[j];
            break;
        }
        chunk[i] = 1;
    }
    if (H5Pset_chunk(dcpl, ndim, chunk) < 0 || H5Pset_fletcher32(dcpl) < 0) {
        H5Pclose(dcpl);
        return -1;
    }
    return dcpl;
}

static mup_status write_as(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, const void *data,
                           int ndim, const int64_t *dims) {
    hsize_t h[32];
    for (int i = 0; i < ndim; i++)
        h[i] = (hsize_t)dims[i];
    if (mup_h5_exists(loc, name))
        H5Ldelete(loc, name, H5P_DEFAULT);
    errno = 0;
    hid_t sp = H5Screate_simple(ndim, h, NULL);
    hid_t dcpl = data_layout(ndim, h, H5Tget_size(file_type));
    hid_t d = sp < 0 || dcpl < 0 ? -1 : H5Dcreate2(loc, name, file_type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    herr_t r = d < 0 ? -1 : H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    int err = errno;
    if (d >= 0)
        H5Dclose(d);
    if (sp >= 0)
        H5Sclose(sp);
    if (r < 0)
        return mup_error(MUP_ERR_IO, "cannot write dataset '%s'%s", name, write_reason(err));
    return MUP_OK;
}

mup_status mup_h5_write_f32(hid_t loc, const char *name, const float *data, int ndim, const int64_t *dims) {
    return write_as(loc, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data, ndim, dims);
}
mup_status mup_h5_write_f64(hid_t loc, const char *name, const double *data, int ndim, const int64_t *dims) {
    return write_as(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data, ndim, dims);
}
mup_status mup_h5_write_i32(hid_t loc, const char *name, const int32_t *data, int ndim, const int64_t *dims) {
    return write_as(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, data, ndim, dims);
}

mup_status mup_h5_write_rows(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, const void *rows,
                             int64_t n) {
    return write_as(loc, name, file_type, mem_type, rows, 1, &n);
}

mup_status mup_h5_write_u64(hid_t loc, const char *name, const uint64_t *data, int64_t n) {
    return write_as(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, data, 1, &n);
}
mup_status mup_h5_read_u64(hid_t loc, const char *name, uint64_t *out, int64_t n) {
    return read_as(loc, name, H5T_NATIVE_UINT64, out, n);
}

static mup_status attr_read(hid_t loc, const char *name, hid_t mem_type, void *out) {
    if (H5Aexists(loc, name) <= 0)
        return mup_error(MUP_ERR_FORMAT, "attribute '%s' is missing", name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t sp = a < 0 ? -1 : H5Aget_space(a);
    hssize_t n = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    herr_t r = n == 1 ? H5Aread(a, mem_type, out) : -1;
    if (sp >= 0)
        H5Sclose(sp);
    if (a >= 0)
        H5Aclose(a);
    if (r < 0)
        return mup_error(MUP_ERR_FORMAT, "attribute '%s' is not a single number", name);
    return MUP_OK;
}

mup_status mup_h5_attr_read_f64(hid_t loc, const char *name, double *out) {
    return attr_read(loc, name, H5T_NATIVE_DOUBLE, out);
}
mup_status mup_h5_attr_read_i64(hid_t loc, const char *name, int64_t *out) {
    return attr_read(loc, name, H5T_NATIVE_INT64, out);
}

static mup_status attr_read_str(hid_t loc, const char *name, char *buf, size_t len, bool allow_vlen) {
    if (H5Aexists(loc, name) <= 0)
        return mup_error(MUP_ERR_FORMAT, "attribute '%s' is missing", name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t t = a < 0 ? -1 : H5Aget_type(a);
    mup_status s = MUP_OK;
    if (t < 0 || H5Tget_class(t) != H5T_STRING) {
        s = mup_error(MUP_ERR_FORMAT, "attribute '%s' is not a string", name);
    } else if (H5Tis_variable_str(t) > 0 && !allow_vlen) {
        s = mup_error(MUP_ERR_FORMAT, "attribute '%s' is a variable-length string (libmup writes fixed ones)", name);
    } else if (H5Tis_variable_str(t) > 0) {
        char *v = NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(t));
        if (H5Aread(a, mt, &v) < 0 || !v) {
            s = mup_error(MUP_ERR_FORMAT, "cannot read string attribute '%s'", name);
        } else {
            snprintf(buf, len, "%s", v);
            H5free_memory(v);
        }
        H5Tclose(mt);
    } else {
        size_t sz = H5Tget_size(t);
        char *v = sz < (1u << 24) ? calloc(1, sz + 1) : NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, sz);
        H5Tset_cset(mt, H5Tget_cset(t));
        if (!v || H5Aread(a, mt, v) < 0)
            s = mup_error(MUP_ERR_FORMAT, "cannot read string attribute '%s'", name);
        else
            snprintf(buf, len, "%s", v);
        free(v);
        H5Tclose(mt);
    }
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return s;
}

mup_status mup_h5_attr_read_str(hid_t loc, const char *name, char *buf, size_t len) {
    return attr_read_str(loc, name, buf, len, true);
}

mup_status mup_h5_attr_read_fixed_str(hid_t loc, const char *name, char *buf, size_t len) {
    return attr_read_str(loc, name, buf, len, false);
}

static mup_status attr_write(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, const void *v) {
    if (H5Aexists(loc, name) > 0)
        H5Adelete(loc, name);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, file_type, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t r = a < 0 ? -1 : H5Awrite(a, mem_type, v);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    if (r < 0)
        return mup_error(MUP_ERR_IO, "cannot write attribute '%s'", name);
    return MUP_OK;
}

mup_status mup_h5_attr_write_f64(hid_t loc, const char *name, double v) {
    return attr_write(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}
mup_status mup_h5_attr_write_i64(hid_t loc, const char *name, int64_t v) {
    return attr_write(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}
mup_status mup_h5_attr_write_str(hid_t loc, const char *name, const char *v) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v) + 1);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    H5Tset_cset(t, H5T_CSET_UTF8);
    mup_status s = attr_write(loc, name, t, t, v);
    H5Tclose(t);
    return s;
}
