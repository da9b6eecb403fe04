#include "cli.h"

#include <limits.h>
#include <string.h>

#include "suggest.h"

int mup_cli_exit_code(mup_status s) {
    switch (s) {
    case MUP_OK: return MUP_EXIT_OK;
    case MUP_ERR_INVALID:
    case MUP_ERR_PARSE:
    case MUP_ERR_STATE: return MUP_EXIT_USAGE;
    case MUP_ERR_IO:
    case MUP_ERR_FORMAT:
    case MUP_ERR_NOMEM:
    case MUP_ERR_MPI: return MUP_EXIT_ENVIRONMENT;
    default: return MUP_EXIT_FAILED;
    }
}

void mup_cli_print_exit_codes(FILE *f, const char *failed) {
    fprintf(f,
            "Exit status (the same in every libmup tool):\n"
            "  %3d  done\n"
            "  %3d  %s\n"
            "  %3d  bad command line or config: nothing ran\n"
            "  %3d  the environment: missing or unreadable data, an output directory that cannot be\n"
            "       written, not enough memory or disk\n"
            "  %3d  inconclusive: a check ran but cannot tell (mup-coord)\n"
            "  %3d  interrupted (Ctrl-C)\n",
            MUP_EXIT_OK, MUP_EXIT_FAILED, failed, MUP_EXIT_USAGE, MUP_EXIT_ENVIRONMENT, MUP_EXIT_INCONCLUSIVE,
            MUP_EXIT_INTERRUPTED);
}

void mup_cli_print_version(const char *tool) { printf("%s (libmup %s)\n", tool, MUP_VERSION); }

mup_cli mup_cli_start(const mup_cli_option *options, int n_options, int argc, char **argv) {
    return (mup_cli){.options = options, .n_options = n_options, .argc = argc, .next = 1, .argv = argv};
}

/* arg as given ("--lrr", "-x", "-out"). */
static mup_status unknown(const mup_cli *p, const char *arg, size_t len) {
    const char *word = arg + strspn(arg, "-");
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(len - (size_t)(word - arg)), word);
    const char *near = NULL;
    int best = INT_MAX;
    for (int i = 0; i < p->n_options; i++) {
        int d = mup_suggest_distance(name, p->options[i].name);
        if (d >= 0 && d < best) {
            best = d;
            near = p->options[i].name;
        }
    }
    if (near)
        return mup_error(MUP_ERR_INVALID, "%.*s: unknown option (did you mean --%s?)", (int)len, arg, near);
    return mup_error(MUP_ERR_INVALID, "%.*s: unknown option (see --help)", (int)len, arg);
}

mup_status mup_cli_next(mup_cli *p, int *opt, const char **value) {
    *opt = -1;
    *value = NULL;
    if (p->next >= p->argc)
        return MUP_OK;
    const char *a = p->argv[p->next++];
    if (p->only_args || a[0] != '-' || a[1] == '\0') {
        *value = a;
        return MUP_OK;
    }
    if (strcmp(a, "--") == 0) {
        p->only_args = true;
        return mup_cli_next(p, opt, value);
    }
    const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
    size_t len = eq ? (size_t)(eq - a) : strlen(a);
    for (int i = 0; i < p->n_options && *opt < 0; i++) {
        const mup_cli_option *o = &p->options[i];
        bool is_long = a[1] == '-' && strlen(o->name) == len - 2 && strncmp(a + 2, o->name, len - 2) == 0;
        if (is_long || (o->letter && a[1] == o->letter && a[2] == '\0'))
            *opt = i;
    }
    if (*opt < 0)
        return unknown(p, a, len);
    const mup_cli_option *o = &p->options[*opt];
    if (!o->takes_value)
        return eq ? mup_error(MUP_ERR_INVALID, "--%s takes no value (got %s)", o->name, a) : MUP_OK;
    if (eq) {
        *value = eq + 1;
        return **value ? MUP_OK : mup_error(MUP_ERR_INVALID, "--%s: missing its value", o->name);
    }
    /* "--out --resume" is a forgotten value, not a directory named --resume */
    if (p->next >= p->argc || strncmp(p->argv[p->next], "--", 2) == 0)
        return mup_error(MUP_ERR_INVALID, "%s: missing its value", a);
    *value = p->argv[p->next++];
    return MUP_OK;
}
