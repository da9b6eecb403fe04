#include "h5.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static const char *reason(int err) { return err ? strerror(err) : "disk full or file not writable?"; }

mup_status mup_tool_h5_create(const char *path, hid_t *file) {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_LATEST);
    errno = 0;
    *file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    return *file < 0 ? mup_error(MUP_ERR_IO, "cannot create %s: %s", path, reason(errno)) : MUP_OK;
}

mup_status mup_tool_h5_close(hid_t file, const char *path) {
    errno = 0;
    bool ok = H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0;
    int err = errno;
    ok = H5Fclose(file) >= 0 && ok;
    return ok ? MUP_OK : mup_error(MUP_ERR_IO, "cannot write %s: %s", path, reason(err ? err : errno));
}

mup_status mup_tool_h5_group(hid_t loc, const char *name, hid_t *group) {
    *group = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    return *group < 0 ? mup_error(MUP_ERR_IO, "cannot make group '%s'", name) : MUP_OK;
}

static mup_status attr(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, const void *v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, file_type, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t r = a < 0 ? -1 : H5Awrite(a, mem_type, v);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    return r < 0 ? mup_error(MUP_ERR_IO, "cannot write attribute '%s'", name) : MUP_OK;
}

mup_status mup_tool_h5_attr_str(hid_t loc, const char *name, const char *v) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v) + 1);
    H5Tset_cset(t, H5T_CSET_UTF8);
    mup_status s = attr(loc, name, t, t, v);
    H5Tclose(t);
    return s;
}

mup_status mup_tool_h5_attr_i64(hid_t loc, const char *name, int64_t v) {
    return attr(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

mup_status mup_tool_h5_attr_f64(hid_t loc, const char *name, double v) {
    return attr(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

static mup_status dataset(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, const void *data, int ndim,
                        const int64_t *dims) {
    hsize_t h[2] = {(hsize_t)dims[0], ndim > 1 ? (hsize_t)dims[1] : 1};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (h[0] * h[1] == 0) {
        H5Pset_layout(dcpl, H5D_COMPACT);
    } else {
        H5Pset_chunk(dcpl, ndim, h);
        H5Pset_fletcher32(dcpl);
    }
    errno = 0;
    hid_t sp = H5Screate_simple(ndim, h, NULL);
    hid_t d = sp < 0 ? -1 : H5Dcreate2(loc, name, file_type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t r = d < 0 ? -1 : H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    int err = errno;
    if (d >= 0)
        H5Dclose(d);
    if (sp >= 0)
        H5Sclose(sp);
    H5Pclose(dcpl);
    return r < 0 ? mup_error(MUP_ERR_IO, "cannot write dataset '%s': %s", name, reason(err)) : MUP_OK;
}

mup_status mup_tool_h5_write_f64(hid_t loc, const char *name, const double *data, int ndim, const int64_t *dims) {
    return dataset(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data, ndim, dims);
}

mup_status mup_tool_h5_write_i32(hid_t loc, const char *name, const int32_t *data, int ndim, const int64_t *dims) {
    return dataset(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, data, ndim, dims);
}
