#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mup/error.h"

static void *checked(void *p, size_t bytes) {
    if (!p && bytes) {
        mup_log(MUP_LOG_ERROR, "out of memory (%zu bytes)", bytes);
        exit(MUP_EXIT_ENVIRONMENT);
    }
    return p;
}

void *mup_tool_xmalloc(size_t bytes) { return checked(malloc(bytes), bytes); }

void *mup_tool_xcalloc(size_t n, size_t size) {
    if (size && n > (size_t)-1 / size)
        return checked(NULL, (size_t)-1);
    return checked(calloc(n, size), n * size);
}

void *mup_tool_xrealloc(void *p, size_t bytes) { return checked(realloc(p, bytes), bytes); }

char *mup_tool_xstrdup(const char *s) { return checked(strdup(s), strlen(s) + 1); }
