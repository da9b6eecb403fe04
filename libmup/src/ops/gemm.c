/* The one GEMM entry point: picks between a single sgemm and row/column blocks across threads. */
#include <cblas.h>
#include <omp.h>

#include "internal.h"

void mup_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
    /* Split the longer side of C so every block stays wide enough for the BLAS kernel. */
    bool by_rows = M >= N;
    int len = by_rows ? M : N;
    int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (nt > len)
        nt = len;
    double work = (double)M * N * K;
    /* one thread: no region at all (libgomp allocates a team for a region of one thread) */
    if (nt == 1 || work < 4.0 * MUP_PARALLEL_MIN * 8) {
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        int lo = (int)((long)len * t / n), hi = (int)((long)len * (t + 1) / n);
        if (hi > lo) {
            if (by_rows) {
                const float *a = trans_a ? A + lo : A + (long)lo * lda;
                cblas_sgemm(CblasRowMajor, ta, tb, hi - lo, N, K, alpha, a, lda, B, ldb, beta,
                            C + (long)lo * ldc, ldc);
            } else {
                const float *b = trans_b ? B + (long)lo * ldb : B + lo;
                cblas_sgemm(CblasRowMajor, ta, tb, M, hi - lo, K, alpha, A, lda, b, ldb, beta,
                            C + lo, ldc);
            }
        }
    }
}
