/* Linear layer forward + backward (y = x Wᵀ + b, then dx, dW, db) against the same three GEMMs
 * called straight on OpenBLAS at its own best thread count, side by side in one run.
 * Prints one line per width: GFLOP/s of each and their ratio.
 *
 *   bench_linear [BATCH] [SECONDS_PER_ROUND] [ROUNDS] */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mup/mup.h"

/* Repeats fn until at least min_s seconds have passed; returns seconds per call (best of the rounds:
 * on a machine that other programs share, the best round is the one that ran undisturbed). */
static int rounds = 3;

static double time_it(void (*fn)(void *), void *ctx, double min_s) {
    double best = 1e30;
    for (int round = 0; round < rounds; round++) {
        int reps = 0;
        double t0 = now(), t;
        do {
            fn(ctx);
            reps++;
            t = now() - t0;
        } while (t < min_s);
        if (t / reps < best)
            best = t / reps;
    }
    return best;
}

typedef struct {
    int N, W;
    float *x, *w, *dy, *y, *dx, *dw;
    mup_graph *g;
    mup_tensor *tx, *tw, *tb;
} bench_case;

static void run_libmup(void *p) {
    bench_case *c = p;
    mup_graph_reset(c->g, true);
    mup_tensor *y = mup_affine(c->g, c->tx, c->tw, c->tb, 1.0f);
    memset(c->tw->grad, 0, sizeof(float) * (size_t)c->W * c->W);
    mup_backward_seed(c->g, y, c->dy);
}

static void run_sgemm(void *p) {
    bench_case *c = p;
    int N = c->N, W = c->W;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, W, W, 1.0f, c->x, W, c->w, W, 0.0f, c->y, W);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, W, W, 1.0f, c->dy, W, c->w, W, 0.0f, c->dx, W);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, W, W, N, 1.0f, c->dy, W, c->x, W, 0.0f, c->dw, W);
}

int main(int argc, char **argv) {
    int N = argc > 1 ? atoi(argv[1]) : 128;
    double min_s = argc > 2 ? atof(argv[2]) : 0.3;
    rounds = argc > 3 && atoi(argv[3]) > 0 ? atoi(argv[3]) : 3;
    int threads = mup_num_threads();
    printf("# linear forward+backward, batch %d, %d threads; %s\n", N, threads, mup_blas_info());
    printf("# width  libmup_gflops  sgemm_gflops  ratio\n");
    for (int W = 64; W <= 4096; W *= 2) {
        bench_case c = {.N = N, .W = W};
        size_t nx = (size_t)N * W, nw = (size_t)W * W;
        mup_rng r = mup_rng_new(1);
        c.x = malloc(nx * 4), c.dy = malloc(nx * 4), c.y = malloc(nx * 4), c.dx = calloc(nx, 4);
        c.w = malloc(nw * 4), c.dw = calloc(nw, 4);
        mup_rng_fill_normal(&r, c.x, (long)nx, 0, 1);
        mup_rng_fill_normal(&r, c.dy, (long)nx, 0, 1);
        mup_rng_fill_normal(&r, c.w, (long)nw, 0, 0.02f);
        float *b = calloc((size_t)W, 4), *db = calloc((size_t)W, 4);
        c.g = mup_graph_new();
        static mup_tensor tx, tw, tb;
        mup_tensor_set_shape(&tx, 2, (int[]){N, W});
        mup_tensor_set_shape(&tw, 2, (int[]){W, W});
        mup_tensor_set_shape(&tb, 1, (int[]){W});
        tx.data = c.x, tx.grad = c.dx, tx.requires_grad = true;
        tw.data = c.w, tw.grad = c.dw, tw.requires_grad = true;
        tb.data = b, tb.grad = db, tb.requires_grad = true;
        c.tx = &tx, c.tw = &tw, c.tb = &tb;
        double flops = 3.0 * 2.0 * N * (double)W * W;
        double t_mup = time_it(run_libmup, &c, min_s);
        openblas_set_num_threads(threads); /* OpenBLAS's own pool, as a user would call it */
        double t_blas = time_it(run_sgemm, &c, min_s);
        openblas_set_num_threads(1);
        printf("%6d  %13.2f  %12.2f  %5.3f\n", W, flops / t_mup * 1e-9, flops / t_blas * 1e-9, t_blas / t_mup);
        fflush(stdout);
        mup_graph_free(c.g);
        free(c.x), free(c.dy), free(c.y), free(c.dx), free(c.w), free(c.dw), free(b), free(db);
    }
    return 0;
}
