/* The tools' allocation. A tool that runs out of memory has nothing to hand the failure back to: it
 * says so, naming the size, and exits with the exit table's environment code (cli.h), which a
 * rerun with more memory cures. Every record already journaled stays. */
#ifndef MUP_TOOL_ALLOC_H
#define MUP_TOOL_ALLOC_H

#include <stddef.h>

void *mup_tool_xmalloc(size_t bytes);
void *mup_tool_xcalloc(size_t n, size_t size);
void *mup_tool_xrealloc(void *p, size_t bytes);
char *mup_tool_xstrdup(const char *s);

#endif
