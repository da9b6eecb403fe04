/* The tools' HDF5 writer, for results.h5: small files of curves and tables, read by h5py. Like every
 * HDF5 file of the project (docs/file-formats.md) the metadata is in HDF5 1.10's checksummed formats
 * and every dataset is checksummed: one chunk per dataset (the tables are small) with Fletcher32, or
 * compact storage when empty. Errors are MUP_ERR_IO naming the object and the system's reason. */
#ifndef MUP_TOOL_H5_H
#define MUP_TOOL_H5_H

#include <hdf5.h>
#include <stdint.h>

#include "mup/error.h"

/* Creates (truncates) path; HDF5's own error printing is off, and its exit handler too (it crashes
 * after a close that failed, see docs/reliability.md "A full disk"). */
mup_status mup_tool_h5_create(const char *path, hid_t *file);
/* Flushes and closes: MUP_ERR_IO naming path and the reason (ENOSPC, EFBIG) when the writes fail. */
mup_status mup_tool_h5_close(hid_t file, const char *path);
mup_status mup_tool_h5_group(hid_t loc, const char *name, hid_t *group);
mup_status mup_tool_h5_attr_str(hid_t loc, const char *name, const char *v);
mup_status mup_tool_h5_attr_i64(hid_t loc, const char *name, int64_t v);
mup_status mup_tool_h5_attr_f64(hid_t loc, const char *name, double v);
/* A dataset of ndim (1 or 2) dimensions. */
mup_status mup_tool_h5_write_f64(hid_t loc, const char *name, const double *data, int ndim, const int64_t *dims);
mup_status mup_tool_h5_write_i32(hid_t loc, const char *name, const int32_t *data, int ndim, const int64_t *dims);

#endif
