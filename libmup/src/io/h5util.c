#include "h5util.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void mup_h5_quiet(void) {
    /* libhdf5 (1.10) crashes in its exit handler (H5F__close_cb) on a file whose close failed, as on a full
     * disk. Without that handler nothing is lost: libmup closes every file where it opened it. The call
     * only counts before HDF5 starts, which the first call here precedes. */
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

mup_status mup_h5_open(const char *path, bool write, hid_t *file) {
    mup_h5_quiet();
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG); /* closing the file closes whatever an error left open */
    *file = H5Fopen(path, write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (*file < 0)
        return mup_error(MUP_ERR_IO, "%s: cannot open as HDF5 (missing, unreadable, truncated or not an HDF5 file)", path);
    return MUP_OK;
}

mup_status mup_h5_open_checked(const char *path, hid_t *file) {
    static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char head[9];
    FILE *f = fopen(path, "rb");
    if (!f)
        return mup_error(MUP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n < sizeof head || memcmp(head, signature, sizeof signature) != 0)
        return mup_error(MUP_ERR_FORMAT, "%s: not an HDF5 file (no HDF5 signature at its start)", path);
    if (head[8] < 2)
        return mup_error(MUP_ERR_FORMAT, "%s: HDF5 superblock version %d has no metadata checksums; libmup writes "
                         "version 2 or later and reads only those", path, head[8]);
    return mup_h5_open(path, false, file);
}

mup_status mup_h5_create(const char *path, hid_t *file) {
    mup_h5_quiet();
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
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

mup_status mup_h5_close_written(hid_t file, const char *path) {
    /* HDF5 caches metadata: most of a small file reaches the disk only now */
    errno = 0;
    bool ok = H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0;
    int err = errno;
    ok = H5Fclose(file) >= 0 && ok;
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

mup_status mup_h5_shape(hid_t loc, const char *name, int max_dims, int *ndim, int64_t *dims) {
    if (!mup_h5_exists(loc, name))
        return mup_error(MUP_ERR_FORMAT, "dataset '%s' is missing", name);
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0)
        return mup_error(MUP_ERR_FORMAT, "'%s' is not a dataset", name);
    hid_t sp = H5Dget_space(d);
    int nd = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    mup_status s = MUP_OK;
    if (nd < 0 || nd > max_dims) {
        s = mup_error(MUP_ERR_FORMAT, "dataset '%s' has %d dimensions (at most %d expected)", name, nd, max_dims);
    } else {
        hsize_t h[32];
        H5Sget_simple_extent_dims(sp, h, NULL);
        for (int i = 0; i < nd; i++)
            dims[i] = (int64_t)h[i];
        *ndim = nd;
    }
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(d);
    return s;
}

static mup_status read_as(hid_t loc, const char *name, hid_t mem_type, void *out, int64_t n) {
    int nd;
    int64_t dims[32];
    mup_status s = mup_h5_shape(loc, name, 32, &nd, dims);
    if (s != MUP_OK)
        return s;
    int64_t count = 1;
    for (int i = 0; i < nd; i++)
        count *= dims[i];
    if (count != n)
        return mup_error(MUP_ERR_FORMAT, "dataset '%s' has %lld elements, expected %lld", name, (long long)count,
                         (long long)n);
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    herr_t r = H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    H5Dclose(d);
    if (r < 0)
        return mup_error(MUP_ERR_FORMAT, "cannot read dataset '%s' (wrong type or damaged file)", name);
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

static mup_status write_as(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, const void *data,
                           int ndim, const int64_t *dims) {
    hsize_t h[32];
    for (int i = 0; i < ndim; i++)
        h[i] = (hsize_t)dims[i];
    if (mup_h5_exists(loc, name))
        H5Ldelete(loc, name, H5P_DEFAULT);
    errno = 0;
    hid_t sp = H5Screate_simple(ndim, h, NULL);
    hid_t d = sp < 0 ? -1 : H5Dcreate2(loc, name, file_type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
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
