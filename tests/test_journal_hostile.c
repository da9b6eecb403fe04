/* The sweep journal's reader on hostile lines (regressions from fuzz/fuzz_journal.c among them): every
 * line that is not a record of this sweep is skipped with a warning and its run counts as not done;
 * nothing crashes, nothing undefined happens, and the records around it are kept. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "journal.h"
#include "runs.h"
#include "testing.h"
#include "transfer.h"

/* 2 trials x 1 seed at widths 16 and 32, and a target: 5 runs. */
static const char *CONFIG =
    "{'name': 'hostile', 'data': {'dataset': 'synthetic'}, 'mup': {'base_width': 16, 'delta_width': 32},"
    " 'search': {'sampler': 'grid', 'space': {'lr': {'dist': 'log2uniform', 'low': -8, 'high': -6, 'grid': 2}}},"
    " 'proxy_widths': [16, 32], 'target': {'width': 48, 'seeds': 1}}";

static mup_sweep_config *config;
static mup_run_list list;
static int warnings;

static void count_warnings(mup_log_level level, const char *message, void *ctx) {
    (void)message, (void)ctx;
    warnings += level == MUP_LOG_WARN;
}

static void setup(void) {
    char *text = test_json_quotes(CONFIG);
    cr_assert_eq(mup_sweep_config_parse(text, "hostile.json", &config), MUP_OK, "%s", mup_error_message());
    free(text);
    cr_assert_eq(mup_run_list_make(config, &list), MUP_OK);
    mup_set_log_fn(count_warnings, NULL);
}

static void teardown(void) {
    mup_run_list_free(&list);
    mup_sweep_config_free(config);
}

/* The record line of run i, failed before it trained (no curves). */
static char *record(int i) {
    mup_run_outcome o = {.status = MUP_RUN_FAILED, .message = "test", .threads = 1, .worker = "test:1"};
    return mup_run_record_line(config, &list.runs[i], &o);
}

/* record(i) with "field":value replaced by "field":replacement. */
static char *record_with(int i, const char *field, const char *replacement) {
    char *line = record(i), key[64];
    snprintf(key, sizeof key, "\"%s\":", field);
    char *at = strstr(line, key);
    cr_assert(at, "no %s in %s", key, line);
    at += strlen(key);
    size_t old = strcspn(at, ",}");
    char *out = malloc(strlen(line) + strlen(replacement) + 1);
    snprintf(out, strlen(line) + strlen(replacement) + 1, "%.*s%s%s", (int)(at - line), line, replacement, at + old);
    free(line);
    return out;
}

/* A journal: this config's header, then record 0, the hostile bytes, record 1; read back. Returns the
 * journal opened to read, with the warnings it gave counted. */
static mup_journal *read_with(const char *hostile, size_t len) {
    const char *dir = test_path("sweep");
    char path[600];
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    remove(path);
    mup_journal *j;
    cr_assert_eq(mup_journal_open(dir, config, &list, MUP_JOURNAL_CREATE, false, &j), MUP_OK, "%s",
                 mup_error_message());
    mup_journal_close(j);
    char *a = record(0), *b = record(1);
    FILE *f = fopen(path, "ab");
    cr_assert(f);
    fputs(a, f);
    fwrite(hostile, 1, len, f);
    fputs(b, f);
    fclose(f);
    free(a);
    free(b);
    warnings = 0;
    cr_assert_eq(mup_journal_open(dir, config, &list, MUP_JOURNAL_READ, false, &j), MUP_OK, "%s", mup_error_message());
    mup_transfer t;
    mup_transfer_choose(&t, config, &list, j);
    mup_transfer_free(&t);
    cr_assert(mup_journal_record(j, 0) && mup_journal_record(j, 1), "the records around the hostile line are kept");
    return j;
}

static void assert_skipped(const char *line) {
    mup_journal *j = read_with(line, strlen(line));
    cr_assert_eq(warnings, 1, "one warning for: %s", line);
    cr_assert_null(mup_journal_record(j, 2), "run 2 must stay to do");
    mup_journal_close(j);
}

TestSuite(journal_hostile, .init = setup, .fini = teardown);

Test(journal_hostile, a_seed_beyond_2_to_the_53_is_refused_not_cast) {
    /* found by fuzz_journal: (uint64_t)1e300 is undefined behaviour */
    static const char *const seeds[] = {"1e300", "9007199254740994", "-1", "1e999", "\"7\""};
    for (int k = 0; k < 5; k++) {
        char *line = record_with(2, "seed", seeds[k]);
        cJSON *obj = cJSON_Parse(line);
        mup_run_record r;
        cr_assert_eq(mup_run_record_parse(config, obj, &r), MUP_ERR_FORMAT, "seed %s", seeds[k]);
        cr_assert(strstr(mup_error_message(), "seed"), "%s", mup_error_message());
        cJSON_Delete(obj);
        assert_skipped(line);
        free(line);
    }
    char *line = record(2);
    cJSON *obj = cJSON_Parse(line);
    mup_run_record r;
    cr_assert_eq(mup_run_record_parse(config, obj, &r), MUP_OK, "the unmodified record parses");
    mup_run_record_free(&r);
    cJSON_Delete(obj);
    free(line);
}

Test(journal_hostile, lines_that_are_not_records_are_skipped) {
    static const char *const lines[] = {
        "{\"type\": 5}\n", "[1, 2, 3]\n", "\"run\"\n", "{\"type\": \"run\"}\n", "{\"type\": \"kill\"}\n",
        "{\"type\": \"run\", \"id\": \"w16-t000-s0\", \"phase\": \"proxy\", \"status\": \"complete\"}\n",
        "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\n", "\xff\xfe garbage \x01\n",
    };
    for (size_t k = 0; k < sizeof lines / sizeof lines[0]; k++)
        assert_skipped(lines[k]);
    /* a wrong width, trial or status of an otherwise good record */
    static const char *const fields[][2] = {{"status", "\"done\""}, {"phase", "\"both\""}, {"width", "null"},
                                           {"spec", "{\"width\": -1}"}, {"id", "\"w16-t000-s0-and-a-long-tail-"
                                                                        "beyond-the-forty-eight-bytes-of-an-id\""}};
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        char *line = record_with(2, fields[k][0], fields[k][1]);
        assert_skipped(line);
        free(line);
    }
}

Test(journal_hostile, nul_bytes_and_a_huge_line_are_skipped) {
    char nul[64] = {0};
    nul[63] = '\n';
    mup_journal *j = read_with(nul, sizeof nul);
    cr_assert_null(mup_journal_record(j, 2));
    mup_journal_close(j);
    size_t n = 8 << 20;
    char *huge = malloc(n);
    memset(huge, 'x', n - 1);
    huge[n - 1] = '\n';
    j = read_with(huge, n);
    cr_assert_eq(warnings, 1);
    mup_journal_close(j);
    free(huge);
}

Test(journal_hostile, a_record_that_lost_only_its_newline_stays_skipped_once_closed) {
    /* found by tests/fault/inject-sweep: a write cut one byte short (a full disk at that byte) leaves a
     * whole record without its newline; it is skipped as cut short and its run redone, and the newline
     * the next append adds before its own record must not turn it into a second record of the run */
    mup_journal *j = read_with("", 0);
    mup_journal_close(j);
    const char *dir = test_path("sweep");
    char path[600];
    snprintf(path, sizeof path, "%s/journal.jsonl", dir);
    char *line = record(2);
    FILE *f = fopen(path, "ab");
    fwrite(line, 1, strlen(line) - 1, f);
    fclose(f);
    cr_assert_eq(mup_journal_open(dir, config, &list, MUP_JOURNAL_RESUME, false, &j), MUP_OK);
    cr_assert_null(mup_journal_record(j, 2), "a line without its newline is not a record yet");
    cr_assert_eq(mup_journal_append(j, line, -1), MUP_OK);
    mup_journal_close(j);
    warnings = 0;
    cr_assert_eq(mup_journal_open(dir, config, &list, MUP_JOURNAL_READ, false, &j), MUP_OK);
    cr_assert_not_null(mup_journal_record(j, 2));
    cr_assert_eq(warnings, 1, "the closed line is garbled, not a second record of the run");
    mup_journal_close(j);
    char *text = test_read_file(path, NULL);
    cr_assert(strstr(text, "} (cut short)\n"), "the cut line is closed with its mark");
    free(text);
    free(line);
}
