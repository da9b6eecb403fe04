/* Writes the seed corpora of the fuzz harnesses: small valid inputs of every reader, made by the
 * library itself. Usage: fuzz-seeds DIR (creates DIR/<harness>/ and DIR/idx-valid/). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "mup/mup.h"

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

static void mlp_models(mup_model **M, mup_model **B, mup_mlp **net) {
    mup_mlp_config cfg = {.d_in = 6, .width = 8, .n_out = 3, .depth = 2};
    *M = mup_model_new();
    *B = mup_model_new_shapes_only();
    *net = mup_mlp_new(*M, &cfg);
    cfg.width = 4;
    mup_mlp_free(mup_mlp_new(*B, &cfg));
    MUP_CHECK(mup_set_base_shapes(*M, *B, NULL));
    mup_model_init(*M, 1);
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

    mup_model *M, *B;
    mup_mlp *net;
    mlp_models(&M, &B, &net);
    MUP_CHECK(mup_save_base_shapes(M, path_of("bsh", "mlp.bsh")));
    write_text("bsh", "flow.bsh", "fc1.weight: [4, null]\nfc1.bias: [4]\nfc2.weight: [4, 4]\nfc2.bias: [4]\n"
                                  "readout.weight: [null, 4]\nreadout.bias: [null]\n");
    mup_optim *opt = mup_adam_new(M, (mup_optim_opts){.lr = 1e-3f});
    MUP_CHECK(mup_checkpoint_save(path_of("checkpoint", "with-adam.h5"), M, opt,
                                  &(mup_checkpoint_meta){.step = 0, .config_json = "{\"seed\": 1}"}));
    MUP_CHECK(mup_checkpoint_save(path_of("checkpoint", "params-only.h5"), M, NULL, NULL));
    mup_optim_free(opt);
    mup_mlp_free(net);
    mup_model_free(M);
    mup_model_free(B);
    printf("seed corpora written under %s\n", root);
    return 0;
}
