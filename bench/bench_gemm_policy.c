/* How to spread one GEMM over the cores: the experiment behind mup_gemm's policy
 * (docs/performance.md). For the shapes of the benchmark models' training steps it times, side by
 * side in one run (policies interleaved, median of rounds):
 *   one     single-threaded sgemm in the calling thread
 *   rows    rows of C split across OpenMP threads, single-threaded sgemm in each
 *   cols    columns of C split likewise
 *   blas    one sgemm on OpenBLAS's own thread pool
 *   mup     mup_gemm as the library calls it
 * and prints GFLOP/s of each, from the median turn and from the fastest. Turns are short (a couple of
 * milliseconds) and many, so that load from other programs, which comes and goes over longer spans,
 * falls on every policy alike; on a machine that other programs keep busy the fastest turn is the
 * one that ran undisturbed, which is what decides the policy.
 *
 *   bench_gemm_policy [ROUNDS] [SECONDS_PER_TURN] */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "clock.h"
#include "mup/mup.h"

typedef struct {
    const char *what;
    bool ta, tb;
    int M, N, K;
} shape;

static const shape shapes[] = {
    {"small", false, true, 128, 32, 32},
    {"small", false, true, 128, 64, 32},
    {"mlp256 readout dx", false, false, 128, 256, 10},
    {"mlp64 fc1 fwd", false, true, 128, 64, 784},
    {"mlp64 fc1 dw", true, false, 64, 784, 128},
    {"mlp64 fc2 fwd", false, true, 128, 64, 64},
    {"mlp64 fc2 dw", true, false, 64, 64, 128},
    {"mlp256 fc1 fwd", false, true, 128, 256, 784},
    {"mlp256 fc1 dw", true, false, 256, 784, 128},
    {"mlp256 fc2 fwd", false, true, 128, 256, 256},
    {"mlp256 fc2 dx", false, false, 128, 256, 256},
    {"mlp256 fc2 dw", true, false, 256, 256, 128},
    {"mlp1024 fc2 fwd", false, true, 128, 1024, 1024},
    {"mlp1024 fc2 dx", false, false, 128, 1024, 1024},
    {"mlp1024 fc2 dw", true, false, 1024, 1024, 128},
    {"mlp4096 fc1 fwd", false, true, 128, 4096, 784},
    {"mlp4096 fc2 fwd", false, true, 128, 4096, 4096},
    {"mlp4096 fc2 dx", false, false, 128, 4096, 4096},
    {"mlp4096 fc2 dw", true, false, 4096, 4096, 128},
    {"gpt128 fc fwd", false, true, 1024, 512, 128},
    {"gpt128 fc dx", false, false, 1024, 128, 512},
    {"gpt128 fc dw", true, false, 512, 128, 1024},
    {"gpt512 fc fwd", false, true, 1024, 2048, 512},
    {"gpt512 fc_out dx", false, false, 1024, 2048, 512},
    {"gpt512 fc dw", true, false, 2048, 512, 1024},
};
#define N_SHAPES (int)(sizeof shapes / sizeof *shapes)
#define N_POL 5
#define MAX_ROUNDS 1001
static const char *pol_name[N_POL] = {"one", "rows", "cols", "blas", "mup"};

static void sgemm(const shape *s, int M, int N, const float *A, const float *B, float *C, int lda, int ldb, int ldc) {
    cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans, M, N, s->K,
                1.0f, A, lda, B, ldb, 0.0f, C, ldc);
}

static void run(int pol, const shape *s, const float *A, const float *B, float *C) {
    int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N, ldc = s->N;
    switch (pol) {
    case 0:
    case 3:
        sgemm(s, s->M, s->N, A, B, C, lda, ldb, ldc);
        break;
    case 1:
    case 2:
#pragma omp parallel
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads(), len = pol == 1 ? s->M : s->N;
        int lo = (int)((long)len * t / n), hi = (int)((long)len * (t + 1) / n);
        if (pol == 1)
            sgemm(s, hi - lo, s->N, s->ta ? A + lo : A + (long)lo * lda, B, C + (long)lo * ldc, lda, ldb, ldc);
        else
            sgemm(s, s->M, hi - lo, A, s->tb ? B + (long)lo * ldb : B + lo, C + lo, lda, ldb, ldc);
    }
        break;
    case 4:
        mup_gemm(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
        break;
    }
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 101;
    double turn = argc > 2 ? atof(argv[2]) : 0.002;
    if (rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "bench_gemm_policy: rounds must be in 1..%d\n", MAX_ROUNDS);
        return 2;
    }
    int threads = mup_num_threads();
    printf("# %d threads; %s; GFLOP/s of the median and of the fastest of %d rounds\n", threads,
           mup_blas_info(), rounds);
    printf("# %-18s %5s %5s %5s", "shape", "M", "N", "K");
    for (int p = 0; p < N_POL; p++)
        printf(" %7s", pol_name[p]);
    printf(" |");
    for (int p = 0; p < N_POL; p++)
        printf(" %7s", pol_name[p]);
    printf("\n");
    for (int i = 0; i < N_SHAPES; i++) {
        const shape *s = &shapes[i];
        size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
        float *A = malloc(na * 4), *B = malloc(nb * 4), *C = malloc(nc * 4);
        mup_rng r = mup_rng_new(1);
        mup_rng_fill_normal(&r, A, (long)na, 0, 1);
        mup_rng_fill_normal(&r, B, (long)nb, 0, 1);
        double flops = 2.0 * s->M * s->N * s->K, t[N_POL][MAX_ROUNDS];
        int reps = 0;
        double t0 = now();
        while (now() - t0 < turn) { /* calibrate on the single-threaded call */
            run(0, s, A, B, C);
            reps++;
        }
        for (int k = 0; k < rounds; k++)
            for (int j = 0; j < N_POL; j++) {
                int p = (j + k) % N_POL;
                openblas_set_num_threads(p == 3 ? threads : 1);
                double a = now();
                for (int q = 0; q < reps; q++)
                    run(p, s, A, B, C);
                t[p][k] = (now() - a) / reps;
            }
        openblas_set_num_threads(1);
        printf("%-20s %5d %5d %5d", s->what, s->M, s->N, s->K);
        for (int p = 0; p < N_POL; p++) {
            qsort(t[p], (size_t)rounds, sizeof(double), cmp);
            printf(" %7.1f", flops / t[p][rounds / 2] * 1e-9);
        }
        printf(" |");
        for (int p = 0; p < N_POL; p++)
            printf(" %7.1f", flops / t[p][0] * 1e-9);
        printf("\n");
        fflush(stdout);
        free(A), free(B), free(C);
    }
    return 0;
}
