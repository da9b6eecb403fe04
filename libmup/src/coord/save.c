/* Coordinate-check data as files: an HDF5 table (h5py reads it as a structured array) and CSV.
 * The layout is documented in coord.h and docs/coord-check.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io/h5util.h"
#include "mup/coord.h"

#define FORMAT "libmup-coord"
#define VERSION 2
#define PARAM_LEN 8
#define STATUS_LEN 16

typedef struct {
    char parametrization[PARAM_LEN];
    int32_t width;
    uint64_t seed;
    int32_t step;
    char layer[MUP_NAME_MAX];
    double l1, rms, std;
} stat_row;

typedef struct {
    char parametrization[PARAM_LEN];
    char layer[MUP_NAME_MAX];
    int32_t step;
    double slope, se, ratio, lo, hi;
    char status[STATUS_LEN];
} verdict_row;

static hid_t string_type(size_t len) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, len);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    return t;
}

#define FIELD(type, row, field, h5) H5Tinsert(type, #field, HOFFSET(row, field), h5)

static hid_t stat_type(hid_t param_str, hid_t layer_str) {
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(stat_row));
    FIELD(t, stat_row, parametrization, param_str);
    FIELD(t, stat_row, width, H5T_NATIVE_INT32);
    FIELD(t, stat_row, seed, H5T_NATIVE_UINT64);
    FIELD(t, stat_row, step, H5T_NATIVE_INT32);
    FIELD(t, stat_row, layer, layer_str);
    FIELD(t, stat_row, l1, H5T_NATIVE_DOUBLE);
    FIELD(t, stat_row, rms, H5T_NATIVE_DOUBLE);
    FIELD(t, stat_row, std, H5T_NATIVE_DOUBLE);
    return t;
}

static hid_t verdict_type(hid_t param_str, hid_t layer_str, hid_t status_str) {
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(verdict_row));
    FIELD(t, verdict_row, parametrization, param_str);
    FIELD(t, verdict_row, layer, layer_str);
    FIELD(t, verdict_row, step, H5T_NATIVE_INT32);
    FIELD(t, verdict_row, slope, H5T_NATIVE_DOUBLE);
    FIELD(t, verdict_row, se, H5T_NATIVE_DOUBLE);
    FIELD(t, verdict_row, ratio, H5T_NATIVE_DOUBLE);
    FIELD(t, verdict_row, lo, H5T_NATIVE_DOUBLE);
    FIELD(t, verdict_row, hi, H5T_NATIVE_DOUBLE);
    FIELD(t, verdict_row, status, status_str);
    return t;
}

static long count_rows(const mup_coord_result *const *runs, int n_runs, bool stats) {
    long n = 0;
    for (int i = 0; i < n_runs; i++) {
        const mup_coord_result *r = runs[i];
        n += (long)r->steps * r->n_layers * (stats ? r->n_widths * r->n_seeds : 1);
    }
    return n;
}

static stat_row *stat_rows(const mup_coord_result *const *runs, int n_runs, long *n) {
    stat_row *rows = mup_xcalloc((size_t)count_rows(runs, n_runs, true) + 1, sizeof *rows);
    *n = 0;
    for (int i = 0; i < n_runs; i++) {
        const mup_coord_result *r = runs[i];
        for (int w = 0; w < r->n_widths; w++)
            for (int s = 0; s < r->n_seeds; s++)
                for (int t = 0; t < r->steps; t++)
                    for (int l = 0; l < r->n_layers; l++) {
                        const mup_coord_stat *st = mup_coord_stat_at(r, w, s, t, l);
                        stat_row *row = &rows[(*n)++];
                        snprintf(row->parametrization, PARAM_LEN, "%s", mup_parametrization_name(r->parametrization));
                        snprintf(row->layer, MUP_NAME_MAX, "%s", r->layers[l].name);
                        row->width = r->widths[w];
                        row->seed = r->seeds[s];
                        row->step = t + 1;
                        row->l1 = st->l1;
                        row->rms = st->rms;
                        row->std = st->std;
                    }
    }
    return rows;
}

static verdict_row *verdict_rows(const mup_coord_result *const *runs, int n_runs, long *n) {
    verdict_row *rows = mup_xcalloc((size_t)count_rows(runs, n_runs, false) + 1, sizeof *rows);
    *n = 0;
    for (int i = 0; i < n_runs; i++) {
        const mup_coord_result *r = runs[i];
        for (int l = 0; l < r->n_layers; l++)
            for (int t = 0; t < r->steps; t++) {
                const mup_coord_verdict *v = mup_coord_verdict_at(r, t, l);
                verdict_row *row = &rows[(*n)++];
                *row = (verdict_row){.step = t + 1, .slope = v->slope, .se = v->se, .ratio = v->ratio, .lo = v->lo,
                                     .hi = v->hi};
                snprintf(row->status, STATUS_LEN, "%s", mup_coord_status_name(v->status));
                snprintf(row->parametrization, PARAM_LEN, "%s", mup_parametrization_name(r->parametrization));
                snprintf(row->layer, MUP_NAME_MAX, "%s", r->layers[l].name);
            }
    }
    return rows;
}

/* Stored packed, as h5py would write the same structured array. */
static mup_status write_table(hid_t f, const char *name, hid_t mem, const void *rows, long n) {
    hid_t file = H5Tcopy(mem);
    H5Tpack(file);
    mup_status s = mup_h5_write_rows(f, name, file, mem, rows, n);
    H5Tclose(file);
    return s;
}

mup_status mup_coord_save_h5(const char *path, const mup_coord_result *const *runs, int n_runs) {
    MUP_ASSERT(n_runs >= 1, "mup_coord_save_h5: no runs");
    hid_t f;
    mup_status s = mup_h5_create(path, &f);
    if (s != MUP_OK)
        return s;
    hid_t pstr = string_type(PARAM_LEN), lstr = string_type(MUP_NAME_MAX), vstr = string_type(STATUS_LEN);
    hid_t st = stat_type(pstr, lstr), vt = verdict_type(pstr, lstr, vstr);
    long n_stats, n_verdicts;
    stat_row *stats = stat_rows(runs, n_runs, &n_stats);
    verdict_row *verdicts = verdict_rows(runs, n_runs, &n_verdicts);
    s = mup_h5_attr_write_str(f, "format", FORMAT);
    s = s ? s : mup_h5_attr_write_i64(f, "version", VERSION);
    s = s ? s : mup_h5_attr_write_f64(f, "factor", runs[0]->factor);
    s = s ? s : mup_h5_attr_write_f64(f, "alpha", runs[0]->alpha);
    /* "depth": the width column holds depths (a check across depth) */
    s = s ? s : mup_h5_attr_write_str(f, "axis", runs[0]->axis[0] ? runs[0]->axis : "width");
    s = s ? s : write_table(f, "coord", st, stats, n_stats);
    s = s ? s : write_table(f, "verdict", vt, verdicts, n_verdicts);
    free(stats);
    free(verdicts);
    H5Tclose(st);
    H5Tclose(vt);
    H5Tclose(pstr);
    H5Tclose(lstr);
    H5Tclose(vstr);
    mup_status closed = mup_h5_close_written(f, path);
    s = s ? s : closed;
    return s ? mup_error_context(s, "%s: ", path) : MUP_OK;
}

mup_status mup_coord_save_csv(const char *path, const mup_coord_result *const *runs, int n_runs) {
    FILE *f = fopen(path, "w");
    if (!f)
        return mup_error(MUP_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    fprintf(f, "parametrization,width,seed,step,layer,l1,rms,std\n");
    long n;
    stat_row *rows = stat_rows(runs, n_runs, &n);
    for (long i = 0; i < n; i++)
        fprintf(f, "%s,%d,%llu,%d,%s,%.17g,%.17g,%.17g\n", rows[i].parametrization, rows[i].width,
                (unsigned long long)rows[i].seed, rows[i].step, rows[i].layer, rows[i].l1, rows[i].rms, rows[i].std);
    free(rows);
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0 || failed)
        return mup_error(MUP_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return MUP_OK;
}
