/* Base-shape files (.bsh): the reference package's YAML, one key per parameter with a list of base
 * dimensions, null (or ~) for a finite one. PyYAML writes block lists ("- 64" lines under the key);
 * flow lists ("[64, null]") are read too. Only this subset of YAML is accepted, and every value is
 * bounded, because these files come from other tools. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io/regular.h"
#include "model_impl.h"
#include "shapes_impl.h"

#define BSH_LINE_MAX 512
#define BSH_DIM_MAX 1000000000L

typedef struct {
    char name[MUP_NAME_MAX];
    int line;                 /* where the name stands, for messages */
    int ndim;
    int dims[MUP_MAX_DIMS];   /* 0 = null (finite) */
} bsh_entry;

typedef struct {
    bsh_entry *e;
    int n, cap, max;          /* max: the model's parameter count; more entries cannot match it */
    const char *path;
    int line;
} bsh_file;

static char *trim(char *s) {
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static mup_status add_dim(bsh_file *f, const char *tok) {
    if (f->n == 0)
        return mup_error(MUP_ERR_PARSE, "%s:%d: a list item before any parameter name", f->path, f->line);
    bsh_entry *e = &f->e[f->n - 1];
    if (e->ndim == MUP_MAX_DIMS)
        return mup_error(MUP_ERR_PARSE, "%s:%d: %s has more than %d dimensions", f->path, f->line, e->name, MUP_MAX_DIMS);
    if (strcmp(tok, "null") == 0 || strcmp(tok, "~") == 0 || strcmp(tok, "Null") == 0 || strcmp(tok, "NULL") == 0) {
        e->dims[e->ndim++] = 0;
        return MUP_OK;
    }
    char *end;
    errno = 0;
    long v = strtol(tok, &end, 10);
    if (end == tok || *end || errno || v <= 0 || v > BSH_DIM_MAX)
        return mup_error(MUP_ERR_PARSE, "%s:%d: base dimension '%s' of %s is neither a positive integer nor null",
                         f->path, f->line, tok, e->name);
    e->dims[e->ndim++] = (int)v;
    return MUP_OK;
}

static mup_status parse_flow(bsh_file *f, char *s) {
    size_t len = strlen(s);
    if (s[0] != '[' || s[len - 1] != ']')
        return mup_error(MUP_ERR_PARSE, "%s:%d: expected a list like [64, null], got '%s'", f->path, f->line, s);
    s[len - 1] = '\0';
    char *body = trim(s + 1);
    if (!*body)
        return MUP_OK;
    for (char *tok = strtok(body, ","); tok; tok = strtok(NULL, ",")) {
        mup_status st = add_dim(f, trim(tok));
        if (st != MUP_OK)
            return st;
    }
    return MUP_OK;
}

static mup_status parse_line(bsh_file *f, char *raw) {
    char *hash = strchr(raw, '#');
    if (hash)
        *hash = '\0';
    char *s = trim(raw);
    if (!*s || strcmp(s, "---") == 0)
        return MUP_OK;
    if (s[0] == '-')
        return add_dim(f, trim(s + 1));
    char *colon = strrchr(s, ':');
    if (!colon)
        return mup_error(MUP_ERR_PARSE, "%s:%d: expected 'name:' or '- dim', got '%s'", f->path, f->line, s);
    *colon = '\0';
    char *name = trim(s), *rest = trim(colon + 1);
    size_t nlen = strlen(name);
    if (nlen >= 2 && (name[0] == '\'' || name[0] == '"') && name[nlen - 1] == name[0]) {
        name[nlen - 1] = '\0';
        name++;
    }
    if (!*name || strlen(name) >= MUP_NAME_MAX)
        return mup_error(MUP_ERR_PARSE, "%s:%d: parameter name empty or longer than %d characters",
                         f->path, f->line, MUP_NAME_MAX - 1);
    if (f->n == f->max)
        return mup_error(MUP_ERR_SHAPE, "%s:%d: lists more parameters than the model's %d", f->path, f->line,
                         f->max);
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 64;
        f->e = mup_xrealloc(f->e, (size_t)f->cap * sizeof *f->e);
    }
    bsh_entry *e = &f->e[f->n++];
    *e = (bsh_entry){.line = f->line};
    strcpy(e->name, name);
    return *rest ? parse_flow(f, rest) : MUP_OK;
}

static int by_name_only(const void *a, const void *b) {
    return strcmp(((const bsh_entry *)a)->name, ((const bsh_entry *)b)->name);
}

static int by_entry_name(const void *a, const void *b) {
    const bsh_entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Sorts the entries by name (n log n, where a pairwise check would be quadratic in a hostile file's
 * names) and refuses a name that appears twice. */
static mup_status sort_unique(bsh_file *f) {
    qsort(f->e, (size_t)f->n, sizeof *f->e, by_entry_name);
    for (int i = 1; i < f->n; i++)
        if (strcmp(f->e[i - 1].name, f->e[i].name) == 0)
            return mup_error(MUP_ERR_PARSE, "%s:%d: parameter %s appears twice (first on line %d)", f->path,
                             f->e[i].line, f->e[i].name, f->e[i - 1].line);
    return MUP_OK;
}

static mup_status read_bsh(const char *path, int max_entries, bsh_file *f) {
    *f = (bsh_file){.path = path, .max = max_entries};
    FILE *fp;
    mup_status s = mup_fopen_regular(path, "base shapes", "", &fp);
    if (s != MUP_OK)
        return s;
    char line[BSH_LINE_MAX];
    while (s == MUP_OK && fgets(line, sizeof line, fp)) {
        f->line++;
        if (!strchr(line, '\n') && !feof(fp))
            s = mup_error(MUP_ERR_PARSE, "%s:%d: line longer than %d characters", path, f->line, BSH_LINE_MAX - 2);
        else
            s = parse_line(f, line);
    }
    if (s == MUP_OK && ferror(fp))
        s = mup_error(MUP_ERR_IO, "base shapes: error reading %s", path);
    if (s == MUP_OK && f->n == 0)
        s = mup_error(MUP_ERR_FORMAT, "%s: no parameters in this base-shapes file", path);
    fclose(fp);
    return s ? s : sort_unique(f);
}

mup_status mup_set_base_shapes_file(mup_model *M, const char *bsh_path) {
    bsh_file f;
    mup_status s = read_bsh(bsh_path, M->n_params, &f);
    mup_infshape_row *rows = mup_xcalloc((size_t)(M->n_params ? M->n_params : 1), sizeof *rows);
    if (s == MUP_OK && f.n != M->n_params)
        s = mup_error(MUP_ERR_SHAPE, "%s lists %d parameters but the model has %d", bsh_path, f.n, M->n_params);
    for (int i = 0; s == MUP_OK && i < M->n_params; i++) {
        const mup_param *p = M->params[i];
        bsh_entry key;
        snprintf(key.name, sizeof key.name, "%s", p->name);
        const bsh_entry *e = bsearch(&key, f.e, (size_t)f.n, sizeof *f.e, by_name_only);
        if (!e)
            s = mup_error(MUP_ERR_SHAPE, "parameter %s is not in %s", p->name, bsh_path);
        else if (e->ndim != p->t.ndim && !(e->ndim == 0 && p->t.size == 1)) /* [] is PyTorch's 0-d: shape (1) */
            s = mup_error(MUP_ERR_SHAPE, "parameter %s has %d dimensions but %d in %s", p->name, p->t.ndim,
                          e->ndim, bsh_path);
        for (int d = 0; s == MUP_OK && d < p->t.ndim; d++) {
            rows[i].width[d] = e->dims[d] != 0;
            rows[i].base[d] = e->dims[d] ? e->dims[d] : p->t.shape[d];
        }
    }
    if (s == MUP_OK)
        s = mup_apply_infshapes(M, rows);
    free(rows);
    free(f.e);
    return s;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(const mup_param *const *)a)->name, (*(const mup_param *const *)b)->name);
}

mup_status mup_save_base_shapes(const mup_model *M, const char *path) {
    if (!M->shapes_set)
        return mup_error(MUP_ERR_STATE, "base shapes: the model has none to save (call mup_set_base_shapes first)");
    FILE *fp = fopen(path, "w");
    if (!fp)
        return mup_error(MUP_ERR_IO, "base shapes: cannot create %s: %s", path, strerror(errno));
    const mup_param **sorted = mup_xcalloc((size_t)(M->n_params ? M->n_params : 1), sizeof *sorted);
    memcpy(sorted, M->params, (size_t)M->n_params * sizeof *sorted);
    qsort(sorted, (size_t)M->n_params, sizeof *sorted, by_name); /* PyYAML sorts keys */
    fputs("# This is a base shape file encoded in yaml\n"
          "# - `null` indicates a dimension is \"finite\", i.e. a non-\"width\" dimension\n"
          "# - a number indicates the base dimension of an \"infinite\" dimension, i.e. some notion of \"width\"\n",
          fp);
    for (int i = 0; i < M->n_params; i++) {
        const mup_param *p = sorted[i];
        fprintf(fp, "%s:\n", p->name);
        for (int d = 0; d < p->t.ndim; d++)
            if (p->width_dim[d])
                fprintf(fp, "- %d\n", p->base_shape[d]);
            else
                fputs("- null\n", fp);
    }
    free(sorted);
    bool failed = ferror(fp) != 0;
    if (fclose(fp) != 0 || failed)
        return mup_error(MUP_ERR_IO, "base shapes: error writing %s: %s", path, strerror(errno));
    return MUP_OK;
}
