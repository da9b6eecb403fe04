/* What libmup exports. The library is compiled with -fvisibility=hidden, so a function is visible to
 * programs that link libmup.so only when its declaration in a public header starts with MUP_API;
 * everything else (arenas, kernels, file helpers) stays inside the library. Every public header
 * includes this one first. */
#ifndef MUP_API_H
#define MUP_API_H

#if defined(__GNUC__) || defined(__clang__)
#define MUP_API __attribute__((visibility("default")))
#else
#define MUP_API
#endif

#endif
