/* Hostile checkpoints. From fuzzing the loader: files that used to reach HDF5's fragile parsers (an
 * old superblock without checksums; a variable-length string in the unchecksummed global heap) are
 * refused before HDF5 reads them. From an attacker's view: links and storage that HDF5 would follow
 * out of the file, FIFOs, sizes that overflow or that the file does not hold, and flipped bits. Each
 * is a MUP_ERR_FORMAT naming the problem, with the model unchanged. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* ---- what HDF5 would follow out of the file ---- */

/* A valid checkpoint of small_model at path, then reopened with HDF5 itself (no checks) for editing. */
static hid_t saved_for_editing(const char *path, mup_model *M) {
    cr_assert_eq(mup_checkpoint_save(path, M, NULL, NULL), MUP_OK, "%s", mup_error_message());
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    cr_assert(H5Ldelete(f, "params/fc1.weight", H5P_DEFAULT) >= 0);
    return f;
}

static void expect_refused(const char *path, mup_model *M, const char *needle) {
    long nf = mup_model_num_floats(M);
    float *before = test_copy(mup_model_values(M), nf);
    mup_status s = mup_checkpoint_load(path, M, NULL, NULL);
    cr_assert_eq(s, MUP_ERR_FORMAT, "%s: %s", mup_status_str(s), mup_error_message());
    cr_assert(strstr(mup_error_message(), needle), "'%s' lacks '%s'", mup_error_message(), needle);
    cr_assert_eq(memcmp(before, mup_model_values(M), (size_t)nf * sizeof(float)), 0, "the model changed");
    free(before);
}

/* Before: HDF5 opened the FIFO and waited for a writer forever. */
Test(checkpoint_hostile, an_external_link_to_a_fifo_is_refused, .timeout = 20) {
    const char *fifo = test_path("link.fifo"), *path = test_path("elink-fifo.h5");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    mup_model *M = small_model();
    hid_t f = saved_for_editing(path, M);
    cr_assert(H5Lcreate_external(fifo, "/w", f, "params/fc1.weight", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    H5Fclose(f);
    expect_refused(path, M, "'params/fc1.weight' is an external link");
    mup_model_free(M);
}

/* Before: the version-0 file the link names was read, past the superblock check. */
Test(checkpoint_hostile, an_external_link_to_another_file_is_refused) {
    const char *other = test_path("v0-target.h5"), *path = test_path("elink.h5");
    mup_h5_quiet();
    hid_t o = H5Fcreate(other, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT); /* superblock 0 */
    float w[8 * 12] = {0};
    cr_assert_eq(mup_h5_write_f32(o, "w", w, 2, (int64_t[]){8, 12}), MUP_OK);
    H5Fclose(o);
    mup_model *M = small_model();
    hid_t f = saved_for_editing(path, M);
    cr_assert(H5Lcreate_external(other, "/w", f, "params/fc1.weight", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    H5Fclose(f);
    expect_refused(path, M, "is an external link");
    mup_model_free(M);
}

Test(checkpoint_hostile, a_soft_link_is_refused) {
    const char *path = test_path("soft.h5");
    mup_model *M = small_model();
    hid_t f = saved_for_editing(path, M);
    cr_assert(H5Lcreate_soft("/params/fc2.weight", f, "params/fc1.weight", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    H5Fclose(f);
    expect_refused(path, M, "is a soft link");
    mup_model_free(M);
}

/* Before: the dataset's bytes came from any readable file, and the load returned MUP_OK. */
Test(checkpoint_hostile, external_storage_is_refused) {
    const char *raw = test_path("secret.bin"), *path = test_path("extstore.h5");
    FILE *r = fopen(raw, "wb");
    float junk[8 * 12];
    for (int i = 0; i < 8 * 12; i++)
        junk[i] = 1234.5f;
    cr_assert_eq(fwrite(junk, sizeof junk, 1, r), 1u);
    fclose(r);
    mup_model *M = small_model();
    hid_t f = saved_for_editing(path, M);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    cr_assert(H5Pset_external(dcpl, raw, 0, sizeof junk) >= 0);
    hid_t sp = H5Screate_simple(2, (hsize_t[]){8, 12}, NULL);
    hid_t d = H5Dcreate2(f, "params/fc1.weight", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    cr_assert_geq(d, 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Pclose(dcpl);
    H5Fclose(f);
    expect_refused(path, M, "'params/fc1.weight' keeps its data in external files");
    mup_model_free(M);
}

Test(checkpoint_hostile, a_fifo_as_the_checkpoint_is_refused, .timeout = 20) {
    const char *path = test_path("ck.fifo");
    cr_assert_eq(mkfifo(path, 0600), 0);
    mup_model *M = small_model();
    expect_refused(path, M, "is a FIFO, not a regular file");
    mup_model_free(M);
}

/* ---- sizes ---- */

/* A chunked dataset of the given dims whose chunks were never written (HDF5 would read fill values). */
static void unwritten_dataset(hid_t loc, const char *name, int nd, const hsize_t *dims) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t chunk[4] = {1, 1, 1, 1};
    cr_assert(H5Pset_chunk(dcpl, nd, chunk) >= 0);
    hid_t sp = H5Screate_simple(nd, dims, NULL);
    hid_t d = H5Dcreate2(loc, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    cr_assert_geq(d, 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Pclose(dcpl);
}

Test(checkpoint_hostile, dimensions_whose_product_overflows_are_refused) {
    const char *path = test_path("huge.h5");
    mup_model *M = small_model();
    hid_t f = saved_for_editing(path, M);
    unwritten_dataset(f, "params/fc1.weight", 2, (hsize_t[]){1ULL << 40, 1ULL << 40});
    H5Fclose(f);
    expect_refused(path, M, "'params/fc1.weight': its dimensions' product overflows 64 bits");
    mup_model_free(M);
}

/* A step of 10^9 asked for a 4 GB loss curve before the dataset's size was looked at; and data that
 * a file announces without holding it is refused before anything is allocated for it. */
Test(checkpoint_hostile, memory_is_bounded_by_what_the_file_holds) {
    const char *path = test_path("long.h5");
    mup_model *M = small_model();
    cr_assert_eq(mup_checkpoint_save(path, M, NULL, &(mup_checkpoint_meta){.step = 3, .train_loss =
                                                                            (float[]){3, 2, 1}}),
                 MUP_OK, "%s", mup_error_message());
    hid_t f;
    cr_assert_eq(mup_h5_open(path, true, &f), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_h5_attr_write_i64(f, "step", 1000000000), MUP_OK);
    H5Fclose(f);
    mup_checkpoint_meta meta;
    cr_assert_eq(mup_checkpoint_load(path, M, NULL, &meta), MUP_ERR_FORMAT);
    cr_assert(strstr(mup_error_message(), "train_loss has 3 entries for step 1000000000"), "%s",
              mup_error_message());

    cr_assert_eq(mup_h5_open(path, true, &f), MUP_OK, "%s", mup_error_message());
    cr_assert(H5Ldelete(f, "train_loss", H5P_DEFAULT) >= 0);
    unwritten_dataset(f, "train_loss", 1, (hsize_t[]){1000000000});
    H5Fclose(f);
    cr_assert_eq(mup_checkpoint_load(path, M, NULL, &meta), MUP_ERR_FORMAT);
    cr_assert(strstr(mup_error_message(), "'train_loss' announces 4000000000 bytes but the file holds 0"), "%s",
              mup_error_message());
    mup_model_free(M);
}

/* ---- checksums ---- */

/* The file offset of the first data chunk of a dataset. */
static haddr_t chunk_address(const char *path, const char *name) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hsize_t offset[4], size;
    unsigned mask;
    haddr_t addr = HADDR_UNDEF;
    cr_assert(H5Dget_chunk_info(d, sp, 0, offset, &mask, &addr, &size) >= 0, "%s is not chunked", name);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
    return addr;
}

Test(checkpoint_hostile, a_flipped_bit_in_the_data_is_refused) {
    const char *path = test_path("flip.h5");
    mup_model *M = small_model();
    cr_assert_eq(mup_checkpoint_save(path, M, NULL, NULL), MUP_OK, "%s", mup_error_message());
    haddr_t at = chunk_address(path, "params/fc2.weight") + 17;
    FILE *fp = fopen(path, "r+b");
    cr_assert(fp && fseek(fp, (long)at, SEEK_SET) == 0);
    int c = fgetc(fp);
    cr_assert(fseek(fp, (long)at, SEEK_SET) == 0 && fputc(c ^ 0x10, fp) != EOF);
    fclose(fp);
    expect_refused(path, M, "cannot read dataset 'params/fc2.weight' (wrong type, or damaged: a checksum");
    mup_model_free(M);
}

/* A version-2 checkpoint must carry the checksums; one rewritten without them is refused, while a
 * version-1 file (from before checksums) still loads, with a warning. */
static int warnings;
static void count_warnings(mup_log_level level, const char *msg, void *ctx) {
    (void)msg;
    (void)ctx;
    warnings += level == MUP_LOG_WARN;
}

Test(checkpoint_hostile, data_without_checksums_only_in_version_1) {
    const char *path = test_path("nosum.h5");
    mup_model *M = small_model();
    const mup_param *p = mup_model_find_param(M, "fc1.weight");
    hid_t f = saved_for_editing(path, M);
    hid_t sp = H5Screate_simple(2, (hsize_t[]){8, 12}, NULL);
    hid_t d = H5Dcreate2(f, "params/fc1.weight", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->t.data) >= 0); /* contiguous */
    H5Dclose(d);
    H5Sclose(sp);
    H5Fclose(f);
    expect_refused(path, M, "'params/fc1.weight' has no checksum");

    /* Fletcher32 on the chunks, but indexed by HDF5 1.8's v1 B-tree, which has no checksum: the
     * checkpoint copied into a file of 1.8's formats (superblock 2, which passes the first check) */
    const char *old18 = test_path("v18.h5");
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
    hid_t src = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    f = H5Fcreate(old18, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    cr_assert(H5Ocopy(src, "params", f, "params", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    cr_assert(H5Ocopy(src, "base_shapes", f, "base_shapes", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    H5Fclose(src);
    mup_h5_attr_write_str(f, "format", "libmup-checkpoint");
    mup_h5_attr_write_i64(f, "version", 2);
    mup_h5_attr_write_str(f, "parametrization", "sp");
    mup_h5_attr_write_str(f, "optimizer", "none");
    mup_h5_attr_write_i64(f, "step", 0);
    mup_h5_attr_write_f64(f, "first_loss", 0);
    mup_h5_attr_write_str(f, "config", "{}");
    cr_assert(H5Ldelete(f, "params/fc1.weight", H5P_DEFAULT) >= 0);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, (hsize_t[]){4, 12});
    H5Pset_fletcher32(dcpl);
    sp = H5Screate_simple(2, (hsize_t[]){8, 12}, NULL);
    d = H5Dcreate2(f, "params/fc1.weight", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5D_chunk_index_t index;
    cr_assert(H5Dget_chunk_index_type(d, &index) >= 0 && index == H5D_CHUNK_IDX_BTREE, "index %d", (int)index);
    cr_assert(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->t.data) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Pclose(dcpl);
    H5Fclose(f);
    expect_refused(old18, M, "'params/fc1.weight' has no checksum");

    cr_assert_eq(mup_h5_open(path, true, &f), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_h5_attr_write_i64(f, "version", 1), MUP_OK);
    H5Fclose(f);
    warnings = 0;
    mup_set_log_fn(count_warnings, NULL);
    mup_status s = mup_checkpoint_load(path, M, NULL, NULL);
    mup_set_log_fn(NULL, NULL);
    cr_assert_eq(s, MUP_OK, "%s", mup_error_message());
    cr_assert_eq(warnings, 1);
    mup_model_free(M);
}
