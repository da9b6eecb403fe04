/* The benchmarks' one clock: monotonic seconds, immune to wall-clock steps. */
#ifndef MUP_BENCH_CLOCK_H
#define MUP_BENCH_CLOCK_H

#include <time.h>

static inline double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#endif
