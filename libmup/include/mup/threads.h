/* Threads. OpenMP owns the cores; OpenBLAS runs single-threaded inside OpenMP regions (large GEMMs
 * are split into row blocks, one per OpenMP thread). See docs/architecture.md for the measurements
 * behind this policy. */
#ifndef MUP_THREADS_H
#define MUP_THREADS_H

#include "mup/api.h"

/* Sets the number of threads libmup uses. 0 = the MUP_NUM_THREADS environment variable if set,
 * else OpenMP's default. Safe to call at any time outside a parallel region. */
MUP_API void mup_set_num_threads(int n);
MUP_API int mup_num_threads(void);

/* Called by every entry point that computes; idempotent. Pins OpenBLAS to one thread and reads
 * MUP_NUM_THREADS. Exposed so a program can do it before timing anything. */
MUP_API void mup_threads_init(void);

/* A description of the BLAS in use ("OpenBLAS 0.3.21 pthread, 1 thread inside OpenMP"). */
MUP_API const char *mup_blas_info(void);

#endif
