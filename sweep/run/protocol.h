/* The report channel of the trial protocol (docs/trial-protocol.md): what a program run writes on
 * MUP_TRIAL_FD, read line by line.
 *
 * Each line is one JSON object: {"type": "report", "step": S, "metrics": {...}} while training, and
 * one {"type": "final", "metrics": {...}, "read": [...]} at the end. Metric values are numbers, or
 * null, NaN, Infinity and -Infinity (what Python's json writes) for non-finite ones. Names are safe
 * names (mup_safe_name). A line that breaks these rules makes the whole run failed, and the reader
 * keeps it (shortened) for the message; a last line without its newline was cut short by the
 * program's end and never counts. */
#ifndef MUP_SWEEP_PROTOCOL_H
#define MUP_SWEEP_PROTOCOL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define MUP_PROTOCOL_VERSION 1
/* Longest line the channel accepts, newline excluded. */
#define MUP_PROTOCOL_LINE_MAX 65536
/* Longest name of a key or metric. */
#define MUP_SAFE_NAME_MAX 63

typedef struct mup_protocol {
    const char *objective;    /* the metric the sweep ranks by (borrowed) */
    /* what the lines said */
    int lines;                /* complete lines read */
    int last_step;            /* of the last report; -1: none */
    int reports;              /* report lines read (each gets an answer on the answer channel) */
    bool has_final;
    cJSON *final_metrics;     /* the final report's metrics, or NULL */
    cJSON *read;              /* the final report's "read" list, or NULL when it gave none */
    double objective_value;   /* in the final report; NAN when it has none */
    bool has_objective;
    double best;              /* the best (lowest, after sign) objective of any report; NAN: none */
    double sign;              /* +1 minimise, -1 maximise: how best is chosen */
    int nonfinite_step;       /* the first report whose objective was not finite; -1: none */
    int n_curve, cap_curve;   /* the objective of every report, by step */
    int *curve_step;
    double *curve_value;
    /* the first bad line: the run fails */
    bool bad;
    char error[320];
    /* the line being assembled */
    char *buf;
    size_t len, cap;
    bool overlong;
} mup_protocol;

/* A name made of 1 to MUP_SAFE_NAME_MAX characters of [A-Za-z0-9_.-]: safe in a file name, an argv
 * element, a JSON key, a gnuplot label and markdown. */
bool mup_safe_name(const char *s);

void mup_protocol_init(mup_protocol *p, const char *objective, double sign);
void mup_protocol_free(mup_protocol *p);
/* Feeds bytes read from the channel; returns false once a line was bad (p->error says which and why;
 * later bytes are ignored). */
bool mup_protocol_feed(mup_protocol *p, const char *bytes, size_t n);
/* One whole line, without its newline (what feed calls). */
bool mup_protocol_line(mup_protocol *p, const char *line, size_t len);

#endif
