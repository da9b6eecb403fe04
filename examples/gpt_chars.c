/* A character-level GPT on Debian's fortunes, in µP, then ~200 characters sampled from it.
 *
 *   build/examples/gpt_chars [--width N] [--steps N] [--lr X] [--temperature X]
 *                            [--checkpoint PATH] [--resume PATH]
 *
 * The defaults train in about a minute on two cores. The number to beat is the corpus's unigram
 * entropy: the loss of a model that knows how often each character occurs but ignores context.
 * --checkpoint writes an HDF5 checkpoint every quarter of the run (h5py reads it); --resume PATH
 * with the same other flags continues such a run to --steps exactly as if it had never stopped
 * (the learning-rate schedule spans --steps, so changing it changes the run). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mup/mup.h"

#define BASE_WIDTH 32
#define DELTA_WIDTH 64

/* One architecture at any width. The head size stays fixed (head_dim) so that widening adds
 * heads, as µP's attention scale 1/d_head expects. */
typedef struct {
    int vocab;
    mup_gpt *net;            /* the target's; the base's and delta's are freed at once */
} gpt_build_ctx;

static mup_status gpt_build(mup_model *M, int width, void *ctx) {
    gpt_build_ctx *c = ctx;
    mup_gpt_config cfg = {.vocab = c->vocab, .block_size = 64, .width = width, .head_dim = 16, .n_layer = 2,
                          .readout_zero_init = true, .zero_query = true};
    mup_gpt *net = mup_gpt_new(M, &cfg);
    if (mup_model_is_shapes_only(M))
        mup_gpt_free(net);
    else
        c->net = net;
    return MUP_OK;
}

/* Picks the next token from the logits of the last position: softmax(logits / temperature), or
 * the most likely token when temperature is 0. */
static int32_t pick(const float *logits, int vocab, double temperature, mup_rng *rng) {
    int best = 0;
    for (int v = 1; v < vocab; v++)
        if (logits[v] > logits[best])
            best = v;
    if (temperature <= 0.0)
        return best;
    double total = 0.0, p[256];
    for (int v = 0; v < vocab; v++)
        total += p[v] = exp((logits[v] - logits[best]) / temperature);
    double u = mup_rng_uniform(rng) * total;
    for (int v = 0; v < vocab; v++)
        if ((u -= p[v]) < 0.0)
            return v;
    return best;
}

/* Writes n characters continuing prompt. Each character is one evaluation pass over the last
 * block_size characters: simple, and fast enough at this size. */
static void sample(mup_model *M, const mup_gpt *net, const mup_text_data *d, const char *prompt, int n,
                   double temperature, uint64_t seed) {
    int block = mup_gpt_config_of(net)->block_size, len = 0;
    int32_t *ctx = malloc((strlen(prompt) + (size_t)n) * sizeof *ctx);
    for (const char *c = prompt; *c; c++)
        if (d->stoi[(unsigned char)*c] >= 0)
            ctx[len++] = d->stoi[(unsigned char)*c];
    mup_rng rng = mup_rng_new(seed);
    fputs(prompt, stdout);
    for (int i = 0; i < n; i++) {
        int T = len < block ? len : block;
        mup_graph *g = mup_graph_begin_eval(M);
        mup_tensor *logits = mup_gpt_forward(g, net, ctx + len - T, 1, T); /* (1, T, vocab) */
        int32_t next = pick(logits->data + (long)(T - 1) * d->vocab, d->vocab, temperature, &rng);
        mup_graph_end(g);
        ctx[len++] = next;
        putchar(d->itos[next]);
    }
    putchar('\n');
    free(ctx);
}

#ifndef MUP_VERSION /* the build defines it from meson's project version */
#define MUP_VERSION "unknown"
#endif

static void usage(FILE *f, const char *prog) {
    fprintf(f, "usage: %s [--width N] [--steps N] [--lr X] [--temperature X] [--checkpoint PATH] "
               "[--resume PATH] [--version]\n(--name=VALUE works too; exit status 2: bad options, 3: no corpus)\n",
            prog);
}

int main(int argc, char **argv) {
    int width = 128, steps = 600;
    float lr = 0.03f;
    double temperature = 0.8;
    const char *checkpoint = NULL, *resume = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "--help")) {
            if (argv[i][2] == 'v')
                printf("gpt_chars (libmup %s)\n", MUP_VERSION);
            else
                usage(stdout, argv[0]);
            return 0;
        }
        /* --name VALUE or --name=VALUE */
        char flag[32];
        const char *eq = strchr(argv[i], '='), *val = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
        snprintf(flag, sizeof flag, "%.*s", eq ? (int)(eq - argv[i]) : (int)strlen(argv[i]), argv[i]);
        if (!val) {
            usage(stderr, argv[0]);
            return 2;
        }
        if (!strcmp(flag, "--width"))
            width = atoi(val);
        else if (!strcmp(flag, "--steps"))
            steps = atoi(val);
        else if (!strcmp(flag, "--lr"))
            lr = (float)atof(val);
        else if (!strcmp(flag, "--temperature"))
            temperature = atof(val);
        else if (!strcmp(flag, "--checkpoint"))
            checkpoint = val;
        else if (!strcmp(flag, "--resume"))
            resume = val;
        else {
            fprintf(stderr, "gpt_chars: unknown option %s\n", flag);
            usage(stderr, argv[0]);
            return 2;
        }
    }
    if (width <= 0 || width % 16 || steps <= 0 || !(lr > 0) || !(temperature >= 0)) {
        fprintf(stderr, "gpt_chars: width must be a positive multiple of 16, steps and lr positive\n");
        return 2;
    }

    /* the corpus, its last 5% held out */
    mup_text_data all, train, val;
    mup_status s = mup_text_load_dir(NULL, &all);
    if (s == MUP_OK)
        s = mup_text_split(&all, 0.05, &train, &val);
    if (s != MUP_OK) {
        fprintf(stderr, "gpt_chars: %s\n", mup_error_message());
        return 3;
    }
    double unigram = mup_text_unigram_entropy(&val);
    printf("%ld characters, vocabulary %d, validation unigram entropy %.3f nats\n", all.n, all.vocab, unigram);
    mup_text_data_free(&all);

    /* µP: the model at the width you asked for, and two shapes-only builds that say which
     * dimensions are widths. Change --width and the same --lr keeps working. */
    mup_model *M = mup_model_new();
    gpt_build_ctx built = {.vocab = train.vocab};
    MUP_CHECK(mup_build_with_base_shapes(M, gpt_build, &built, width, BASE_WIDTH, DELTA_WIDTH));
    mup_gpt *net = built.net;
    mup_model_init(M, 1);

    mup_optim *opt = mup_adam_new(M, (mup_optim_opts){
        .lr = lr, MUP_ADAM_DEFAULTS,
        .schedule = {.kind = MUP_SCHEDULE_COSINE, .warmup_steps = steps / 20, .total_steps = steps,
                               .min_factor = 0.1f}});
    mup_task *task = mup_lm_task_new(M, mup_gpt_forward_fn, net, &train, &val, 32, 64, 16, 1);
    if (!task) { /* a corpus too short for a block */
        fprintf(stderr, "gpt_chars: %s\n", mup_error_message());
        return 1;
    }
    char config[128];
    snprintf(config, sizeof config, "{\"example\": \"gpt_chars\", \"width\": %d, \"steps\": %d, \"lr\": %g}",
             width, steps, lr);
    mup_train_opts topts = {.steps = steps, .eval_every = steps / 5, .progress = true, .label = "gpt",
                            .checkpoint_path = checkpoint, .checkpoint_every = steps / 4,
                            .resume_path = resume, .config_json = config};
    mup_train_result r;
    s = mup_train(M, opt, task, &topts, &r);
    for (int i = 0; i < r.n_evals; i++)
        printf("step %5d  validation loss %.4f (unigram entropy %.4f)\n", r.eval_step[i], r.eval_loss[i], unigram);
    if (s != MUP_OK) {
        fprintf(stderr, "gpt_chars: %s\n", r.message[0] ? r.message : mup_error_message());
    } else {
        printf("width %d: %d steps in %.1f s, validation loss %.4f vs unigram %.4f\n\n", width, r.steps_done,
               r.seconds, r.final_val_loss, unigram);
        sample(M, net, &train, "The ", 200, temperature, 7);
    }

    mup_train_result_free(&r);
    mup_task_free(task);
    mup_optim_free(opt);
    mup_gpt_free(net);
    mup_model_free(M);
    mup_text_data_free(&train);
    mup_text_data_free(&val);
    return s == MUP_OK ? 0 : 1;
}
