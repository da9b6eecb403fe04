#include "suggest.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"

int mup_edit_distance(const char *a, const char *b) {
    size_t n = strlen(a), m = strlen(b);
    /* three rows of the (n+1) x (m+1) table: the swap looks two rows back */
    int *rows = mup_tool_xmalloc(3 * (m + 1) * sizeof *rows);
    int *r2 = rows, *r1 = rows + (m + 1), *r0 = rows + 2 * (m + 1);
    for (size_t j = 0; j <= m; j++)
        r1[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        r0[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int best = r1[j - 1] + (ca != cb);
            if (r1[j] + 1 < best)
                best = r1[j] + 1;
            if (r0[j - 1] + 1 < best)
                best = r0[j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && r2[j - 2] + 1 < best)
                best = r2[j - 2] + 1;
            r0[j] = best;
        }
        int *t = r2;
        r2 = r1;
        r1 = r0;
        r0 = t;
    }
    int d = r1[m];
    free(rows);
    return d;
}

int mup_suggest_distance(const char *word, const char *candidate) {
    /* a word cut short ("warmup" for "warmup_steps") is one edit away */
    size_t nw = strlen(word), nc = strlen(candidate);
    if (nw >= 3 && nw < nc && strncasecmp(word, candidate, nw) == 0)
        return 1;
    int d = mup_edit_distance(word, candidate);
    int limit = ((int)strlen(candidate) + 1) / 3;
    return d <= (limit > 1 ? limit : 1) ? d : -1;
}
