/* Writes the seed corpora of the fuzz harnesses: small valid inputs of every reader, made by the
 * library itself (the journal by a real tiny sweep). Usage: fuzz-seeds DIR (creates DIR/<harness>/,
 * DIR/idx-valid/ and DIR/journal-sweep/). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "fuzz_common.h"
#include "journal.h"
#include "mup/mup.h"
#include "transfer.h"
#include "worker.h"

static char root[1024];

static const char *path_of(const char *sub, const char *name) {
    static char p[2048];
    char dir[1536];
    snprintf(dir, sizeof dir, "%s/%s", root, sub);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        perror(dir);
        exit(1);
    }
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void write_text(const char *sub, const char *name, const char *text) {
    FILE *f = fopen(path_of(sub, name), "w");
    if (!f)
        exit(1);
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0 || (*len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        exit(1);
    char *s = calloc(1, (size_t)*len + 1);
    if (fread(s, 1, (size_t)*len, f) != (size_t)*len)
        exit(1);
    fclose(f);
    return s;
}

static void write_bytes(const char *sub, const char *name, const char *a, long na, const char *b, long nb) {
    FILE *f = fopen(path_of(sub, name), "wb");
    if (!f || fwrite(a, 1, (size_t)na, f) != (size_t)na || fwrite(b, 1, (size_t)nb, f) != (size_t)nb)
        exit(1);
    fclose(f);
}

/* fuzz_sweep_config swept for real: complete and diverged proxies, and a target that fails (memory cap);
 * then the same journal cut short, with a garbled line, and continued under another config's header. */
static void journal_seeds(void) {
    mup_sweep_config *c;
    mup_run_list l;
    MUP_CHECK(mup_sweep_config_parse(fuzz_sweep_config, "fuzz", &c));
    MUP_CHECK(mup_run_list_make(c, &l));
    const char *dir = path_of("journal-sweep", "");
    char journal[1100];
    snprintf(journal, sizeof journal, "%s/journal.jsonl", dir);
    remove(journal);
    mup_sweep S = {.c = c, .list = &l, .threads = 1, .cores = 1};
    S.progress.silent = true;
    mup_sweep_init_worker(&S, -1);
    MUP_CHECK(mup_journal_open(dir, c, &l, MUP_JOURNAL_CREATE, false, &S.j));
    MUP_CHECK(mup_executor_open(&S.x, c, dir, &l));
    mup_journal_set_quiet(S.j, true);
    MUP_CHECK(mup_sweep_work(&S, 0, l.n_proxy, false));
    mup_transfer t;
    mup_transfer_choose(&t, c, &l, S.j);
    setenv("MUP_MAX_MEMORY", "1", 1);
    MUP_CHECK(mup_sweep_work(&S, l.n_proxy, l.n, false));
    unsetenv("MUP_MAX_MEMORY");
    mup_transfer_free(&t);
    mup_journal_close(S.j);
    mup_executor_close(&S.x);
    mup_run_list_free(&l);
    mup_sweep_config_free(c);

    long n;
    char *text = slurp(journal, &n);
    char *header_end = strchr(text, '\n') + 1, *last = text + n - 2;
    while (last > text && last[-1] != '\n')
        last--;
    write_bytes("journal", "sweep.jsonl", text, n, "", 0);
    write_bytes("journal", "cut-short.jsonl", text, n - 40, "", 0);
    write_bytes("journal", "garbled.jsonl", text, header_end - text + 25, header_end, text + n - header_end);
    char *other = strdup(text);
    memcpy(strstr(other, "\"fingerprint\":\"") + 15, "0123456789abcdef", 16);
    write_bytes("journal", "new-header.jsonl", text, last - text, other, header_end - text);
    FILE *f = fopen(path_of("journal", "new-header.jsonl"), "ab");
    fputs(last, f);
    fclose(f);
    free(other);
    free(text);
}

static void put_be32(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* A gzip IDX file; with prefix >= 0, one byte (the harness's file selector) goes before it, uncompressed. */
static void write_idx(const char *sub, const char *name, int prefix, bool images, int n) {
    unsigned char hdr[16], body[3 * 28 * 28];
    put_be32(hdr, images ? 0x803 : 0x801);
    put_be32(hdr + 4, (unsigned)n);
    put_be32(hdr + 8, 28);
    put_be32(hdr + 12, 28);
    for (int i = 0; i < n * (images ? 784 : 1); i++)
        body[i] = (unsigned char)(images ? i * 7 : i % 10);
    const char *path = path_of(sub, name);
    if (prefix >= 0) {
        FILE *f = fopen(path, "wb");
        fputc(prefix, f);
        fclose(f);
    }
    gzFile gz = gzopen(path, prefix >= 0 ? "ab" : "wb");
    gzwrite(gz, hdr, images ? 16 : 8);
    gzwrite(gz, body, (unsigned)(n * (images ? 784 : 1)));
    gzclose(gz);
}

/* Checkpoints that mup_train writes for fuzz_resume's run (the same model, data and task) at a step
 * short of its end, with the data-order and dropout state a real run saves. */
static void resume_seeds(void) {
    mup_classif_data all, train, val;
    MUP_CHECK(mup_synthetic_classif(48, 6, 3, 1, &all));
    MUP_CHECK(mup_classif_split(&all, 8, &train, &val));
    for (int steps = 1; steps < FUZZ_RESUME_STEPS; steps += 2) {
        mup_mlp *net;
        mup_model *M = fuzz_mlp_model(&net);
        char name[32];
        snprintf(name, sizeof name, "step%d.h5", steps);
        MUP_CHECK(fuzz_train(M, mup_classif_task_new(M, mup_mlp_forward_fn, net, &train, &val, 4, 1),
                             (mup_train_opts){.steps = steps, .checkpoint_path = path_of("resume", name)}));
        mup_mlp_free(net);
        mup_model_free(M);
    }
    mup_classif_data_free(&all);
    mup_classif_data_free(&train);
    mup_classif_data_free(&val);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz-seeds DIR\n");
        return 2;
    }
    snprintf(root, sizeof root, "%s", argv[1]);
    mkdir(root, 0755);
    write_text("config", "tiny.json",
               "{\"name\": \"t\", \"model\": {\"arch\": \"mlp\"}, \"data\": {\"dataset\": \"synthetic\"},"
               " \"mup\": {\"base_width\": 16, \"delta_width\": 32}, \"train\": {\"steps\": 10},"
               " \"search\": {\"sampler\": \"grid\", \"space\": {\"lr\": {\"dist\": \"log2uniform\", \"low\": -10,"
               " \"high\": -4, \"grid\": 3}, \"activation\": {\"dist\": \"choice\", \"values\": [\"relu\", \"tanh\"]}}},"
               " \"proxy_widths\": [16, 32], \"target\": {\"width\": 64, \"seeds\": 1}, \"objective\": \"val_loss\"}\n");
    write_text("text", "a.txt", "The quick brown fox\njumps over the lazy dog.\n%\nAnother fortune.\n");
    write_idx("idx", "images", 0, true, 3);
    write_idx("idx", "labels", 1, false, 3);
    write_idx("idx-valid", "t10k-images-idx3-ubyte.gz", -1, true, 3);
    write_idx("idx-valid", "t10k-labels-idx1-ubyte.gz", -1, false, 3);

    mup_mlp *net;
    mup_model *M = fuzz_mlp_model(&net);
    MUP_CHECK(mup_save_base_shapes(M, path_of("bsh", "mlp.bsh")));
    write_text("bsh", "flow.bsh", "fc1.weight: [4, null]\nfc1.bias: [4]\nfc2.weight: [4, 4]\nfc2.bias: [4]\n"
                                  "readout.weight: [null, 4]\nreadout.bias: [null]\n");
    mup_optim *opt = mup_adam_new(M, mup_optim_defaults(MUP_OPTIM_ADAM, 1e-3f));
    MUP_CHECK(mup_checkpoint_save(path_of("checkpoint", "with-adam.h5"), M, opt,
                                  &(mup_checkpoint_meta){.step = 0, .config_json = "{\"seed\": 1}"}));
    MUP_CHECK(mup_checkpoint_save(path_of("checkpoint", "params-only.h5"), M, NULL, NULL));
    mup_optim_free(opt);
    mup_mlp_free(net);
    mup_model_free(M);
    resume_seeds();
    journal_seeds();
    printf("seed corpora written under %s\n", root);
    return 0;
}
