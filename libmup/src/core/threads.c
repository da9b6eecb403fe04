#include "mup/threads.h"

#include <cblas.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "mup/error.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char blas_info[160];

static void init_once(void) {
    /* OpenBLAS's own pool would fight OpenMP's for the same cores; libmup splits large GEMMs
     * across OpenMP threads itself, so BLAS runs one thread per call. */
    openblas_set_num_threads(1);
    const char *env = getenv("MUP_NUM_THREADS");
    if (env && *env) {
        char *end;
        long n = strtol(env, &end, 10);
        if (*end == '\0' && n > 0 && n <= 1024)
            omp_set_num_threads((int)n);
        else
            mup_log(MUP_LOG_WARN, "MUP_NUM_THREADS=%s is not a positive integer; ignored", env);
    }
    static const char *kind[] = {"sequential", "pthread", "openmp"};
    int par = openblas_get_parallel();
    snprintf(blas_info, sizeof blas_info, "%s (%s build), 1 thread per call inside OpenMP",
             openblas_get_config(), par >= 0 && par <= 2 ? kind[par] : "unknown");
}

void mup_threads_init(void) { pthread_once(&once, init_once); }

void mup_set_num_threads(int n) {
    mup_threads_init();
    if (n <= 0) {
        const char *env = getenv("MUP_NUM_THREADS");
        n = env && atoi(env) > 0 ? atoi(env) : omp_get_num_procs();
    }
    omp_set_num_threads(n);
}

int mup_num_threads(void) {
    mup_threads_init();
    return omp_get_max_threads();
}

const char *mup_blas_info(void) {
    mup_threads_init();
    return blas_info;
}

bool mup_parallel_worth(long work) {
    return work > MUP_PARALLEL_MIN && !omp_in_parallel() && omp_get_max_threads() > 1;
}
