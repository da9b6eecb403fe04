/* Thin HDF5 helpers shared by checkpoints, coordinate-check data and sweep results: every call
 * checks its HDF5 status and turns a failure into a mup_status naming the object. HDF5's own error
 * printing is switched off (mup_h5_quiet) so that a bad file gives one clear message, not a stack. */
#ifndef MUP_H5UTIL_H
#define MUP_H5UTIL_H

#include <hdf5.h>
#include <stdbool.h>
#include <stdint.h>

#include "mup/error.h"

void mup_h5_quiet(void);

mup_status mup_h5_open(const char *path, bool write, hid_t *file);
/* For files libmup wrote itself and reads back from untrusted places (checkpoints): refuses, before
 * HDF5 parses anything, a file whose superblock is older than version 2 — libmup writes version 3
 * (version 2 before), where HDF5 checksums its metadata, so a damaged file fails a checksum instead
 * of reaching HDF5's parsers (which are not hardened against hostile bytes). */
mup_status mup_h5_open_checked(const char *path, hid_t *file);
/* Creates (truncates) a file with checksummed metadata (HDF5 1.10's formats: superblock version 3). */
mup_status mup_h5_create(const char *path, hid_t *file);
/* Reserves bytes of disk for a file just made by mup_h5_create, so that a disk without room (or a file
 * size limit) fails here, naming path and the reason, rather than inside HDF5's close: a close whose
 * flush fails leaves HDF5's copy of the file in memory for good. bytes may overshoot:
 * mup_h5_close_written cuts the file to what HDF5 used. */
mup_status mup_h5_reserve(hid_t file, const char *path, int64_t bytes);
/* Flushes and closes a file written through mup_h5_create: MUP_ERR_IO naming path and the system's
 * reason (ENOSPC: disk full, EFBIG: file size limit) when the last writes fail. */
mup_status mup_h5_close_written(hid_t file, const char *path);
/* Opens a group, or creates it when create is true and it is missing. */
mup_status mup_h5_group(hid_t loc, const char *name, bool create, hid_t *group);
bool mup_h5_exists(hid_t loc, const char *name);

/* Every read open (mup_h5_open, mup_h5_open_checked) refuses a path that is not a regular file and a
 * file holding any link but a hard one (external and soft links lead out of the file). Every dataset
 * read (mup_h5_shape and the readers) refuses external storage, virtual layouts, filters other than
 * Fletcher32, sizes that overflow 64 bits and data the file announces but does not hold. Writes
 * checksum every dataset's data (Fletcher32 on chunks, or compact storage in the checksummed
 * metadata). */

/* Shape of a dataset; ndim at most max_dims. */
mup_status mup_h5_shape(hid_t loc, const char *name, int max_dims, int *ndim, int64_t *dims);
/* MUP_OK when the dataset's data is checksummed (Fletcher32 chunks under a checksummed index, or
 * compact in checksummed metadata). */
mup_status mup_h5_checksummed(hid_t loc, const char *name);
/* Reads a whole dataset converted to float / int32 / double; n must equal its element count. */
mup_status mup_h5_read_f32(hid_t loc, const char *name, float *out, int64_t n);
mup_status mup_h5_read_f64(hid_t loc, const char *name, double *out, int64_t n);
mup_status mup_h5_read_i32(hid_t loc, const char *name, int32_t *out, int64_t n);

mup_status mup_h5_write_f32(hid_t loc, const char *name, const float *data, int ndim, const int64_t *dims);
mup_status mup_h5_write_f64(hid_t loc, const char *name, const double *data, int ndim, const int64_t *dims);
mup_status mup_h5_write_i32(hid_t loc, const char *name, const int32_t *data, int ndim, const int64_t *dims);
/* A 1-D dataset of n rows of any type (a compound table), stored as file_type. */
mup_status mup_h5_write_rows(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, const void *rows,
                             int64_t n);
mup_status mup_h5_write_u64(hid_t loc, const char *name, const uint64_t *data, int64_t n);
mup_status mup_h5_read_u64(hid_t loc, const char *name, uint64_t *out, int64_t n);

mup_status mup_h5_attr_read_f64(hid_t loc, const char *name, double *out);
mup_status mup_h5_attr_read_i64(hid_t loc, const char *name, int64_t *out);
/* A string attribute (fixed or variable length, as h5py writes them) into buf. */
mup_status mup_h5_attr_read_str(hid_t loc, const char *name, char *buf, size_t len);
/* The same, refusing variable-length strings: they live in HDF5's global heap, which has no checksum. */
mup_status mup_h5_attr_read_fixed_str(hid_t loc, const char *name, char *buf, size_t len);
mup_status mup_h5_attr_write_f64(hid_t loc, const char *name, double v);
mup_status mup_h5_attr_write_i64(hid_t loc, const char *name, int64_t v);
/* Written as fixed-length UTF-8 (h5py reads it as bytes: .decode()). */
mup_status mup_h5_attr_write_str(hid_t loc, const char *name, const char *v);

#endif
