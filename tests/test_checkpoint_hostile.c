/* Regression tests from fuzzing the checkpoint loader: files that used to reach HDF5's fragile parsers
 * (an old superblock without checksums; a variable-length string in the unchecksummed global heap)
 * are refused before HDF5 reads them. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <string.h>

#include "io/h5util.h"
#include "testing.h"

static mup_model *small_model(void) {
    mup_model *M = mup_model_new();
    test_build_mlp(M, 8);
    cr_assert_eq(mup_set_base_shapes(M, NULL, NULL), MUP_OK);
    mup_model_init(M, 1);
    return M;
}

Test(checkpoint_hostile, an_old_superblock_is_refused_before_parsing) {
    const char *path = test_path("v0.h5");
    mup_h5_quiet();
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT); /* default: superblock 0 */
    cr_assert_geq(f, 0);
    cr_assert_eq(mup_h5_attr_write_str(f, "format", "libmup-checkpoint"), MUP_OK);
    H5Fclose(f);
    mup_model *M = small_model();
    cr_assert_eq(mup_checkpoint_load(path, M, NULL, NULL), MUP_ERR_FORMAT);
    cr_assert(strstr(mup_error_message(), "superblock version 0"), "%s", mup_error_message());
    mup_model_free(M);
}

Test(checkpoint_hostile, a_variable_length_string_is_refused) {
    const char *path = test_path("vlen.h5");
    hid_t f;
    cr_assert_eq(mup_h5_create(path, &f), MUP_OK);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "format", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    const char *v = "libmup-checkpoint";
    H5Awrite(a, t, &v);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    H5Fclose(f);
    mup_model *M = small_model();
    cr_assert_eq(mup_checkpoint_load(path, M, NULL, NULL), MUP_ERR_FORMAT);
    cr_assert(strstr(mup_error_message(), "not a libmup checkpoint"), "%s", mup_error_message());
    mup_model_free(M);
}

Test(checkpoint_hostile, checkpoints_are_written_with_checksummed_metadata) {
    mup_model *M = small_model();
    const char *path = test_path("ok.h5");
    cr_assert_eq(mup_checkpoint_save(path, M, NULL, NULL), MUP_OK, "%s", mup_error_message());
    FILE *fp = fopen(path, "rb");
    unsigned char head[9];
    cr_assert_eq(fread(head, 1, 9, fp), 9u);
    fclose(fp);
    cr_assert_geq(head[8], 2, "superblock version %d", head[8]);
    cr_assert_eq(mup_checkpoint_load(path, M, NULL, NULL), MUP_OK, "%s", mup_error_message());
    mup_model_free(M);
}
