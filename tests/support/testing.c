/* nftw */
#define _XOPEN_SOURCE 700

#include "testing.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

mup_tensor *test_leaf(int ndim, const int *shape, uint64_t seed, bool no_grad) {
    mup_tensor *t = calloc(1, sizeof *t);
    mup_tensor_set_shape(t, ndim, shape);
    t->data = malloc((size_t)t->size * sizeof(float));
    mup_rng r = mup_rng_new(seed);
    mup_rng_fill_normal(&r, t->data, t->size, 0.0f, 1.0f);
    if (!no_grad) {
        t->grad = calloc((size_t)t->size, sizeof(float));
        t->requires_grad = true;
    }
    return t;
}

void test_leaf_free(mup_tensor *t) {
    if (!t)
        return;
    free(t->data);
    free(t->grad);
    free(t);
}

static char tmpdir[256];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    if ((flag == FTW_DP ? rmdir(path) : unlink(path)) != 0)
        fprintf(stderr, "could not remove %s: %s\n", path, strerror(errno));
    return 0;
}

/* No shell: $TMPDIR is a path, never code. */
static void remove_tmpdir(void) { nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

const char *test_tmpdir(void) {
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/mup-test-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

const char *test_path(const char *name) {
    static char slots[8][512];
    static int next;
    char *p = slots[next++ % 8];
    snprintf(p, sizeof slots[0], "%s/%s", test_tmpdir(), name);
    return p;
}

const char *test_mkdir(const char *name) {
    const char *dir = test_path(name);
    cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s: %s", dir, strerror(errno));
    return dir;
}

char *test_read_file(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = calloc(1, (size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n, "cannot read %s", path);
    fclose(f);
    if (len)
        *len = n;
    return s;
}

double test_sample_std(const mup_param *p) {
    double s = 0, s2 = 0;
    for (long i = 0; i < p->t.size; i++) {
        s += p->t.data[i];
        s2 += (double)p->t.data[i] * p->t.data[i];
    }
    double m = s / p->t.size;
    return sqrt(s2 / p->t.size - m * m);
}

double test_max_abs_diff(const float *a, const float *b, long n) {
    double m = 0.0;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || isnan(d))
            m = isnan(d) ? INFINITY : d;
    }
    return m;
}

void test_build_mlp(mup_model *M, int width) {
    mup_param *w1 = mup_model_add_param(M, "fc1.weight", MUP_KIND_WEIGHT, 2, (int[]){width, 12});
    mup_param *b1 = mup_model_add_param(M, "fc1.bias", MUP_KIND_BIAS, 1, (int[]){width});
    b1->layer_weight = w1;
    mup_param *w2 = mup_model_add_param(M, "fc2.weight", MUP_KIND_WEIGHT, 2, (int[]){width, width});
    mup_param *b2 = mup_model_add_param(M, "fc2.bias", MUP_KIND_BIAS, 1, (int[]){width});
    b2->layer_weight = w2;
    mup_param *wo = mup_model_add_param(M, "readout.weight", MUP_KIND_READOUT_WEIGHT, 2, (int[]){5, width});
    mup_param *bo = mup_model_add_param(M, "readout.bias", MUP_KIND_READOUT_BIAS, 1, (int[]){5});
    bo->layer_weight = wo;
}

static mup_status build_mlp(mup_model *M, int width, void *unused) {
    (void)unused;
    test_build_mlp(M, width);
    return MUP_OK;
}

mup_model *test_mlp_model(int width, int base_width, uint64_t seed) {
    mup_model *M = mup_model_new();
    MUP_CHECK(mup_build_with_base_shapes(M, build_mlp, NULL, width, base_width, base_width + 1));
    MUP_CHECK(mup_model_init(M, seed));
    return M;
}

void test_set_grads(mup_model *M, uint64_t seed) {
    mup_rng r = mup_rng_new(seed);
    for (int i = 0; i < mup_model_num_params(M); i++) {
        mup_param *p = mup_model_param(M, i);
        mup_rng_fill_normal(&r, p->t.grad, p->t.size, 0.0f, 1.0f);
    }
}

float *test_copy(const float *x, long n) {
    float *c = malloc((size_t)n * sizeof(float));
    return memcpy(c, x, (size_t)n * sizeof(float));
}

char *test_json_quotes(const char *s) {
    char *t = strdup(s);
    for (char *p = t; *p; p++)
        if (*p == '\'')
            *p = '"';
    return t;
}

char *test_json_with(const char *json, const char *path, const char *value) {
    char *base = test_json_quotes(json);
    cJSON *root = cJSON_Parse(base);
    cr_assert(root, "test JSON does not parse: %s", base);
    free(base);
    cJSON *obj = root;
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    char *tok = strtok_r(buf, ".", &save), *next;
    while ((next = strtok_r(NULL, ".", &save))) {
        cJSON *child = cJSON_GetObjectItemCaseSensitive(obj, tok);
        obj = child ? child : cJSON_AddObjectToObject(obj, tok);
        tok = next;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, tok);
    if (value) {
        char *v = test_json_quotes(value);
        cJSON *item = cJSON_Parse(v);
        cr_assert(item, "test value does not parse: %s", v);
        free(v);
        cJSON_AddItemToObject(obj, tok, item);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

static void expected_assert(const char *file, int line, const char *message, void *ctx) {
    const char *needle = ctx;
    if (!strstr(message, needle))
        cr_assert_fail("MUP_ASSERT at %s:%d said \"%s\", expected a message containing \"%s\"", file, line,
                       message, needle);
    fflush(NULL);
    _exit(TEST_ASSERT_EXIT);
}

void test_expect_assert(const char *needle) { mup_set_abort_handler(expected_assert, (void *)needle); }

extern char **environ;

int test_spawn(const char *const *argv, const char *log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "cannot start %s: %s", argv[0], strerror(rc));
    return pid;
}

int test_wait(int pid) {
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
