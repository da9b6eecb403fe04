/* The tools' command line, written once for mup-sweep and mup-coord: an option is given as
 * --name VALUE or --name=VALUE, a mistyped one gets a suggestion, --version prints the library's
 * version, and every tool exits with the same code for the same kind of error. */
#ifndef MUP_SWEEP_CLI_H
#define MUP_SWEEP_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "mup/error.h"

/* Exit codes, the same in every tool; mup_cli_print_exit_codes lists them for --help. */
enum {
    MUP_EXIT_OK = 0,
    MUP_EXIT_FAILED = 1,       /* the tool ran and the outcome is a failure */
    MUP_EXIT_USAGE = 2,        /* the command line or the config is wrong: nothing ran */
    MUP_EXIT_ENVIRONMENT = 3,  /* data, files, directories, memory or disk: nothing wrong with the config */
    MUP_EXIT_INCONCLUSIVE = 4, /* a check ran but cannot tell (mup-coord: noise could explain the slopes) */
    MUP_EXIT_INTERRUPTED = 130 /* stopped by Ctrl-C (SIGINT) or SIGTERM */
};

/* The exit code of a status that stops a tool: a config or command-line error (invalid, parse, state)
 * is MUP_EXIT_USAGE; I/O, a malformed data file, memory and MPI are MUP_EXIT_ENVIRONMENT; anything
 * else MUP_EXIT_FAILED. */
int mup_cli_exit_code(mup_status s);

/* The exit-code table of --help; failed says what MUP_EXIT_FAILED means for this tool. */
void mup_cli_print_exit_codes(FILE *f, const char *failed);

/* "mup-sweep (libmup 0.1.0)" on stdout. */
void mup_cli_print_version(const char *tool);

typedef struct {
    const char *name;   /* without the dashes: "out" */
    char letter;        /* a short form (-j), or 0 */
    bool takes_value;
    const char *key;    /* for the tool's own use: the config key the option sets (mup-coord), or NULL */
} mup_cli_option;

typedef struct {
    const mup_cli_option *options;
    int n_options;
    int argc, next;
    char **argv;
    bool only_args;     /* after "--" */
} mup_cli;

mup_cli mup_cli_start(const mup_cli_option *options, int n_options, int argc, char **argv);

/* The next argument. MUP_OK with *opt the index of the option and *value its value (NULL for a
 * switch), or with *opt -1 and *value a plain argument; *value NULL and *opt -1 at the end.
 * MUP_ERR_INVALID naming the argument for an unknown option (with the nearest one as a suggestion),
 * a missing or empty value (a value that starts with "--" is taken for a forgotten one), or a value
 * given to a switch. After "--" every argument is plain. */
mup_status mup_cli_next(mup_cli *p, int *opt, const char **value);

#endif
