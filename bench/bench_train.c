/* Training-step benchmark of libmup's ready models (mup_mlp, mup_gpt) with Adam, the worker that
 * bench/vs-pytorch drives side by side with bench/bench_torch.py (see docs/performance.md).
 *
 *   bench_train --serve                  commands on stdin, one reply line each:
 *       info                             threads and BLAS
 *       case mlp|gpt WIDTH               build the model, warm up; "ok flops=F params=P"
 *       step K T                         K training steps on T threads; "seconds"
 *       sgemm K T                        K rounds of the step's GEMMs on raw cblas_sgemm, OpenBLAS's
 *                                        own pool at T threads; "seconds"
 *       quit
 *   bench_train --memory mlp|gpt WIDTH   a few steps in a fresh process, then the memory figures
 *   bench_train mlp|gpt WIDTH [STEPS]    steps in a loop, for perf/callgrind; prints steps/s
 *
 * The models are the ones in mup/models.h under SP (PyTorch's default init, every multiplier 1), so
 * that the PyTorch twin is plain nn.Linear/nn.LayerNorm/nn.Embedding with the same init scale.
 * Data: one fixed random batch, reused every step (no loader on either side). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "clock.h"
#include "mup/mup.h"

#define MLP_BATCH 128
#define MLP_IN 784
#define MLP_OUT 10
#define GPT_BATCH 8
#define GPT_BLOCK 128
#define GPT_VOCAB 65
#define GPT_LAYERS 2
#define GPT_HEADS 4
#define MAX_GEMMS 64

/* One GEMM shape of a training step, repeated count times. */
typedef struct {
    bool ta, tb;
    int M, N, K, count;
    float beta;
} gemm_shape;

typedef struct {
    bool gpt;
    int width;
    mup_model *M;
    mup_mlp *mlp;
    mup_gpt *net;
    mup_optim *opt;
    float *x;              /* MLP inputs (MLP_BATCH, MLP_IN) */
    int32_t *ids, *y;      /* GPT ids (B*T) and targets (B*T, or MLP_BATCH) */
    gemm_shape gemm[MAX_GEMMS];
    int n_gemm;
    double act_floats;     /* the forward pass's op outputs, each kept once: the "activations" */
} bench_case;

static void add_gemm(bench_case *c, bool ta, bool tb, int M, int N, int K, int count, float beta) {
    if (c->n_gemm == MAX_GEMMS) {
        fprintf(stderr, "bench_train: more than %d GEMM shapes\n", MAX_GEMMS);
        exit(1);
    }
    c->gemm[c->n_gemm++] = (gemm_shape){ta, tb, M, N, K, count, beta};
}

/* The products of a linear layer y (N, out) = x (N, in) wᵀ + b: forward, dx (when x needs one), dw. */
static void add_linear(bench_case *c, int N, int in, int out, bool dx) {
    add_gemm(c, false, true, N, out, in, 1, 1.0f);
    if (dx)
        add_gemm(c, false, false, N, in, out, 1, 1.0f);
    add_gemm(c, true, false, out, in, N, 1, 1.0f);
}

static void build_mlp(bench_case *c, mup_model *M, int width) {
    mup_mlp_config cfg = {.d_in = MLP_IN, .width = width, .n_out = MLP_OUT, .depth = 2, .act = MUP_ACT_RELU};
    c->mlp = mup_mlp_new(M, &cfg);
    int N = MLP_BATCH;
    add_linear(c, N, MLP_IN, width, false);
    add_linear(c, N, width, width, true);
    add_linear(c, N, width, MLP_OUT, true);
    /* fc1, relu, fc2, relu, logits, softmax probabilities */
    c->act_floats = 4.0 * N * width + 2.0 * N * MLP_OUT;
}

static void build_gpt(bench_case *c, mup_model *M, int width) {
    mup_gpt_config cfg = {.vocab = GPT_VOCAB, .block_size = GPT_BLOCK, .width = width, .n_head = GPT_HEADS,
                          .n_layer = GPT_LAYERS, .ffn_ratio = 4};
    c->net = mup_gpt_new(M, &cfg);
    int N = GPT_BATCH * GPT_BLOCK, T = GPT_BLOCK, d = width / GPT_HEADS, pairs = GPT_BATCH * GPT_HEADS;
    for (int l = 0; l < GPT_LAYERS; l++) {
        add_linear(c, N, width, 3 * width, true);
        add_gemm(c, false, true, T, T, d, pairs, 0.0f);   /* q kᵀ */
        add_gemm(c, false, false, T, d, T, pairs, 0.0f);  /* p v */
        add_gemm(c, false, true, T, T, d, pairs, 0.0f);   /* dp = dy vᵀ */
        add_gemm(c, false, false, T, d, T, pairs, 1.0f);  /* dq = ds k */
        add_gemm(c, true, false, T, d, T, pairs, 0.0f);   /* dk = dsᵀ q */
        add_gemm(c, true, false, T, d, T, pairs, 1.0f);   /* dv = pᵀ dy */
        add_linear(c, N, width, width, true);
        add_linear(c, N, width, 4 * width, true);
        add_linear(c, N, 4 * width, width, true);
    }
    add_linear(c, N, width, GPT_VOCAB, true);
    /* embeddings and their sum; per block ln1, qkv (3), attention output, proj, residual, ln2, fc (4),
     * gelu (4), fc_out, residual, plus the (B, H, T, T) probabilities; lnf, logits, probabilities */
    c->act_floats = 2.0 * N * width + GPT_LAYERS * (18.0 * N * width + (double)pairs * T * T) +
                    (double)N * width + 2.0 * N * GPT_VOCAB;
}

static void case_free(bench_case *c) {
    mup_optim_free(c->opt);
    mup_mlp_free(c->mlp);
    mup_gpt_free(c->net);
    mup_model_free(c->M);
    free(c->x);
    free(c->ids);
    free(c->y);
    *c = (bench_case){0};
}

static void step(bench_case *c) {
    mup_graph *g = mup_graph_begin(c->M);
    mup_tensor *logits;
    if (c->gpt)
        logits = mup_gpt_forward(g, c->net, c->ids, GPT_BATCH, GPT_BLOCK);
    else
        logits = mup_mlp_forward(g, c->mlp, mup_graph_wrap(g, c->x, 2, (int[]){MLP_BATCH, MLP_IN}));
    mup_backward(g, mup_cross_entropy(g, logits, c->y));
    mup_optim_step(c->opt);
    mup_graph_end(g);
}

static void case_new(bench_case *c, const char *model, int width) {
    *c = (bench_case){.gpt = strcmp(model, "gpt") == 0, .width = width};
    if (!c->gpt && strcmp(model, "mlp") != 0) {
        fprintf(stderr, "bench_train: unknown model %s (mlp or gpt)\n", model);
        exit(2);
    }
    if (width <= 0 || (c->gpt && width % GPT_HEADS)) {
        fprintf(stderr, "bench_train: bad width %d\n", width);
        exit(2);
    }
    c->M = mup_model_new();
    if (c->gpt)
        build_gpt(c, c->M, width);
    else
        build_mlp(c, c->M, width);
    MUP_CHECK(mup_set_base_shapes(c->M, NULL, NULL)); /* SP */
    mup_model_init(c->M, 1);
    c->opt = mup_adam_new(c->M, mup_optim_defaults(MUP_OPTIM_ADAM, 1e-3f));
    mup_rng r = mup_rng_new(2);
    long rows = c->gpt ? (long)GPT_BATCH * GPT_BLOCK : MLP_BATCH;
    int classes = c->gpt ? GPT_VOCAB : MLP_OUT;
    c->y = malloc((size_t)rows * sizeof *c->y);
    for (long i = 0; i < rows; i++)
        c->y[i] = (int32_t)mup_rng_below(&r, (uint32_t)classes);
    if (c->gpt) {
        c->ids = malloc((size_t)rows * sizeof *c->ids);
        for (long i = 0; i < rows; i++)
            c->ids[i] = (int32_t)mup_rng_below(&r, GPT_VOCAB);
    } else {
        c->x = malloc((size_t)rows * MLP_IN * sizeof *c->x);
        mup_rng_fill_normal(&r, c->x, rows * MLP_IN, 0.0f, 1.0f);
    }
    for (int i = 0; i < 3; i++) /* the first step sizes the arena; later ones allocate nothing */
        step(c);
}

static double step_flops(const bench_case *c) {
    double f = 0.0;
    for (int i = 0; i < c->n_gemm; i++)
        f += 2.0 * c->gemm[i].M * c->gemm[i].N * c->gemm[i].K * c->gemm[i].count;
    return f;
}

/* ---- the raw sgemm reference: the step's GEMM shapes on contiguous buffers ---- */

typedef struct {
    float *a, *b, *c;
} gemm_bufs;

static gemm_bufs bufs_new(const bench_case *c) {
    size_t n = 0;
    for (int i = 0; i < c->n_gemm; i++) {
        const gemm_shape *s = &c->gemm[i];
        size_t m = (size_t)s->M * s->K;
        if ((size_t)s->K * s->N > m)
            m = (size_t)s->K * s->N;
        if ((size_t)s->M * s->N > m)
            m = (size_t)s->M * s->N;
        n = m > n ? m : n;
    }
    gemm_bufs b = {malloc(n * 4), malloc(n * 4), malloc(n * 4)};
    mup_rng r = mup_rng_new(3);
    mup_rng_fill_normal(&r, b.a, (long)n, 0.0f, 0.1f);
    mup_rng_fill_normal(&r, b.b, (long)n, 0.0f, 0.1f);
    mup_rng_fill_normal(&r, b.c, (long)n, 0.0f, 0.1f);
    return b;
}

static void run_sgemms(const bench_case *c, const gemm_bufs *b) {
    for (int i = 0; i < c->n_gemm; i++) {
        const gemm_shape *s = &c->gemm[i];
        int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
        for (int k = 0; k < s->count; k++)
            cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
                        s->M, s->N, s->K, 1.0f, b->a, lda, b->b, ldb, s->beta, b->c, s->N);
    }
}

/* ---- modes ---- */

static void serve(void) {
    bench_case c = {0};
    gemm_bufs b = {0};
    char line[256], model[16];
    int n, threads;
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        if (sscanf(line, "case %15s %d", model, &n) == 2) {
            case_free(&c);
            free(b.a), free(b.b), free(b.c);
            case_new(&c, model, n);
            b = bufs_new(&c);
            printf("ok flops=%.6g params=%ld\n", step_flops(&c), mup_model_num_elements(c.M));
        } else if (sscanf(line, "step %d %d", &n, &threads) == 2 && c.M && threads > 0) {
            mup_set_num_threads(threads);
            double t0 = now();
            for (int i = 0; i < n; i++)
                step(&c);
            printf("%.9f\n", now() - t0);
        } else if (sscanf(line, "sgemm %d %d", &n, &threads) == 2 && c.M && threads > 0) {
            openblas_set_num_threads(threads);
            double t0 = now();
            for (int i = 0; i < n; i++)
                run_sgemms(&c, &b);
            double t = now() - t0;
            openblas_set_num_threads(1);
            printf("%.9f\n", t);
        } else if (strncmp(line, "info", 4) == 0) {
            printf("%d threads by default, %s\n", mup_num_threads(), mup_blas_info());
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        } else {
            printf("error: bad command %s", line);
        }
    }
    case_free(&c);
    free(b.a), free(b.b), free(b.c);
}

static void memory(const char *model, int width) {
    bench_case c;
    case_new(&c, model, width); /* three steps already taken */
    double mib = 1.0 / (1 << 20);
    long nf = mup_model_num_floats(c.M), ne = mup_model_num_elements(c.M);
    double slabs = 2.0 * nf * 4, state = (double)mup_optim_num_state(c.opt) * nf * 4;
    double arena = (double)mup_graph_bytes_reserved(mup_model_graph(c.M));
    double need_params = 4.0 * ne * 4; /* values, gradients, Adam's two moments */
    double need_act = c.act_floats * 4;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("model=%s width=%d params_grads_adam_mib=%.2f activations_mib=%.2f libmup_slabs_mib=%.2f "
           "arena_mib=%.2f mem_ratio=%.3f maxrss_mib=%.1f\n",
           model, width, need_params * mib, need_act * mib, (slabs + state) * mib, arena * mib,
           (slabs + state + arena) / (need_params + need_act), ru.ru_maxrss / 1024.0);
    case_free(&c);
}

int main(int argc, char **argv) {
    mup_threads_init();
    if (argc == 2 && strcmp(argv[1], "--serve") == 0) {
        serve();
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "--memory") == 0) {
        memory(argv[2], atoi(argv[3]));
        return 0;
    }
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s --serve | --memory mlp|gpt WIDTH | mlp|gpt WIDTH [STEPS]\n", argv[0]);
        return 2;
    }
    bench_case c;
    case_new(&c, argv[1], atoi(argv[2]));
    int steps = argc > 3 ? atoi(argv[3]) : 100;
    double t0 = now();
    for (int i = 0; i < steps; i++)
        step(&c);
    double t = now() - t0;
    printf("model=%s width=%d steps_per_s=%.2f matmul_gflops=%.2f threads=%d\n", argv[1], c.width,
           steps / t, step_flops(&c) * steps / t * 1e-9, mup_num_threads());
    case_free(&c);
    return 0;
}
