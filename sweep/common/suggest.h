/* Nearest names, for "did you mean" hints. */
#ifndef MUP_SWEEP_SUGGEST_H
#define MUP_SWEEP_SUGGEST_H

/* Optimal-string-alignment (restricted Damerau-Levenshtein) distance, ignoring ASCII case:
 * inserting, deleting or substituting a character, or swapping two neighbours, each cost 1. */
int mup_edit_distance(const char *a, const char *b);

/* The distance from word to candidate when it is small enough to suggest the candidate (about one
 * edit per three characters of the candidate, at least one), else -1. A word of three or more
 * characters that begins the candidate counts as one edit. */
int mup_suggest_distance(const char *word, const char *candidate);

#endif
