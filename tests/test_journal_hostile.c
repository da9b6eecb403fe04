/* The sweep journal's reader on hostile lines (regressions from fuzz/fuzz_journal.c among them): every
 * line that is not a record of this sweep is skipped with a warning and its run counts as not done;
 * nothing crashes, nothing undefined happens, and the records around it are kept. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "journal.h"
#include "records.h"
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

/* The record line of run i, complete after 4 steps with evaluations at 2 and 4 (val_loss 0.5). */
static char *complete_record(int i) {
    float loss[4] = {2.0f, 1.5f, 1.0f, 0.8f};
    int eval_step[2] = {2, 4};
    double eval_loss[2] = {0.7, 0.5}, eval_acc[2] = {0.6, 0.7};
    mup_train_result r = {.status = MUP_OK, .steps_done = 4, .first_loss = 2.0, .final_train_loss = 1.3,
                          .final_val_loss = 0.5, .final_val_acc = 0.7, .best_val_loss = 0.5, .n_evals = 2,
                          .eval_step = eval_step, .eval_loss = eval_loss, .eval_acc = eval_acc, .train_loss = loss,
                          .seconds = 0.1};
    mup_run_outcome o = {.status = MUP_RUN_COMPLETE, .message = "", .r = &r, .step_flops = 1e6, .threads = 1,
                         .worker = "test:1"};
    return mup_run_record_line(config, &list.runs[i], &o);
}

/* line with "field":value replaced by "field":replacement (line is freed). */
static char *replace_field(char *line, const char *field, const char *replacement) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", field);
    char *at = strstr(line, key);
    cr_assert(at, "no %s in %s", key, line);
    at += strlen(key);
    size_t old = strcspn(at, ",}");
    if (*at == '[' || *at == '{') { /* a list or an object: up to its closing bracket */
        int depth = 0;
        const char *p = at;
        do
            depth += (*p == '[' || *p == '{') - (*p == ']' || *p == '}');
        while (depth > 0 && *++p);
        old = (size_t)(p + 1 - at);
    }
    char *out = malloc(strlen(line) + strlen(replacement) + 1);
    snprintf(out, strlen(line) + strlen(replacement) + 1, "%.*s%s%s", (int)(at - line), line, replacement, at + old);
    free(line);
    return out;
}

/* record(i) with "field":value replaced by "field":replacement. */
static char *record_with(int i, const char *field, const char *replacement) {
    return replace_field(record(i), field, replacement);
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

/* A complete record must carry a finite objective: one without would rank as +inf and change the
 * transferred trial without a word. It is skipped, with a warning naming it, and its run trained again. */
Test(journal_hostile, a_complete_record_without_a_finite_objective_is_skipped) {
    char *good = complete_record(2);
    cJSON *obj = cJSON_Parse(good);
    mup_run_record r;
    cr_assert_eq(mup_run_record_parse(config, obj, &r), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(r.objective, 0.5);
    cr_assert_eq(r.n_evals, 2);
    mup_run_record_free(&r);
    cJSON_Delete(obj);
    static const char *const bad[] = {"null", "1e999", "-1e999", "\"0.5\"", "[0.5]", "{}", "true"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char *line = replace_field(strdup(good), "objective", bad[k]);
        obj = cJSON_Parse(line);
        cr_assert_eq(mup_run_record_parse(config, obj, &r), MUP_ERR_FORMAT, "objective %s", bad[k]);
        cr_assert(strstr(mup_error_message(), "objective") && strstr(mup_error_message(), list.runs[2].id),
                  "the warning names the field and the run: %s", mup_error_message());
        cJSON_Delete(obj);
        assert_skipped(line);
        free(line);
    }
    /* the objective left out: its name changed */
    memcpy(strstr(good, "\"objective\":"), "\"objectivX\":", 12);
    assert_skipped(good);
    free(good);
}

/* Every other field of a record is checked too: a wrong one skips the whole record. */
Test(journal_hostile, a_record_with_any_field_wrong_is_skipped) {
    static const char *const fields[][2] = {
        {"steps_done", "-1"}, {"steps_done", "1e9"}, {"steps", "2.5"}, {"flops", "-3"}, {"flops", "null"},
        {"seconds", "\"x\""}, {"threads", "1e300"}, {"message", "7"}, {"worker", "null"}, {"width", "16.5"},
        {"trial", "-2"}, {"seed_index", "-1"}, {"best_objective", "\"\""}, {"params", "[]"},
        {"train.lr", "\"fast\""}, {"loss", "[1,2]"}, {"step", "[3,2]"}, {"acc", "null"}};
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        char *line = replace_field(complete_record(2), fields[k][0], fields[k][1]);
        assert_skipped(line);
        free(line);
    }
}

/* A record whose spec is its run's but whose own width, seed or trial is not. */
Test(journal_hostile, a_record_that_disagrees_with_its_run_is_skipped) {
    static const char *const fields[][2] = {{"width", "32"}, {"seed", "12345"}, {"trial", "0"}, {"seed_index", "1"},
                                            {"phase", "\"target\""}};
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        char *line = record_with(2, fields[k][0], fields[k][1]);
        assert_skipped(line);
        free(line);
    }
}

/* A record followed by a NUL byte and junk on its line is not a record. */
Test(journal_hostile, a_record_followed_by_a_nul_and_junk_is_skipped) {
    char *line = complete_record(2);
    size_t len = strlen(line);
    char *bytes = malloc(len + 16);
    memcpy(bytes, line, len - 1);
    memcpy(bytes + len - 1, "\0junk junk\n", 11);
    mup_journal *j = read_with(bytes, len + 10);
    cr_assert_eq(warnings, 1);
    cr_assert_null(mup_journal_record(j, 2), "run 2 must stay to do");
    mup_journal_close(j);
    free(bytes);
    free(line);
}

static long max_rss_kb(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

/* A journal of a gigabyte (a hole: no disk) is read a line at a time: memory stays near the longest
 * line the reader keeps (MUP_JOURNAL_LINE_MAX), never the file. */
Test(journal_hostile, a_huge_journal_is_read_in_bounded_memory) {
    mup_journal *j = read_with("", 0);
    mup_journal_close(j);
    char path[600];
    snprintf(path, sizeof path, "%s/journal.jsonl", test_path("sweep"));
    int fd = open(path, O_WRONLY | O_APPEND);
    cr_assert(fd >= 0);
    struct stat st;
    cr_assert_eq(fstat(fd, &st), 0);
    cr_assert_eq(write(fd, "x", 1), 1);
    cr_assert_eq(ftruncate(fd, st.st_size + (1L << 30)), 0, "no sparse file of 1 GiB here");
    char *line = record(2);
    cr_assert_eq(write(fd, "\n", 1), 1);
    cr_assert_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
    close(fd);
    free(line);
    long before = max_rss_kb();
    warnings = 0;
    cr_assert_eq(mup_journal_open(test_path("sweep"), config, &list, MUP_JOURNAL_READ, false, &j), MUP_OK, "%s",
                 mup_error_message());
    long grown = max_rss_kb() - before;
    cr_assert_eq(warnings, 1, "the gigabyte line is skipped with one warning");
    cr_assert(mup_journal_record(j, 0) && mup_journal_record(j, 1) && mup_journal_record(j, 2),
              "the records around it are kept");
    cr_assert_lt(grown, 3 * (MUP_JOURNAL_LINE_MAX >> 10) / 2, "reading grew the memory by %ld kB", grown);
    mup_journal_close(j);
}

/* A failure of the run's own settings stays; one of its environment (the memory cap, a file) counts in
 * the process that wrote it and is free again for the next writer that opens the journal. A reader
 * (--report-only) sees both. */
Test(journal_hostile, a_failure_of_the_environment_is_retried_by_the_next_writer) {
    mup_journal *j = read_with("", 0);
    mup_journal_close(j);
    cr_assert_eq(mup_journal_open(test_path("sweep"), config, &list, MUP_JOURNAL_RESUME, false, &j), MUP_OK);
    mup_run_outcome own = {.status = MUP_RUN_FAILED, .message = "own", .threads = 1, .worker = "test:1"};
    mup_run_outcome env = own;
    env.environment = true;
    char *a = mup_run_record_line(config, &list.runs[2], &own), *b = mup_run_record_line(config, &list.runs[3], &env);
    cr_assert(strstr(a, "\"cause\":\"run\"") && strstr(b, "\"cause\":\"environment\""), "%s%s", a, b);
    cr_assert_eq(mup_journal_append(j, a, -1), MUP_OK);
    cr_assert_eq(mup_journal_append(j, b, -1), MUP_OK);
    mup_journal_lock(j);
    mup_journal_refresh(j);
    mup_journal_unlock(j);
    cr_assert(mup_journal_record(j, 2) && mup_journal_record(j, 3), "the writer counts both");
    mup_journal_close(j);
    free(a);
    free(b);
    warnings = 0;
    cr_assert_eq(mup_journal_open(test_path("sweep"), config, &list, MUP_JOURNAL_RESUME, false, &j), MUP_OK);
    cr_assert_not_null(mup_journal_record(j, 2), "a failure of the run's own is permanent");
    cr_assert_null(mup_journal_record(j, 3), "a failure of its environment runs again");
    cr_assert_eq(warnings, 1, "one line says so");
    cr_assert(mup_journal_claim(j, 3));
    mup_journal_close(j);
    cr_assert_eq(mup_journal_open(test_path("sweep"), config, &list, MUP_JOURNAL_READ, false, &j), MUP_OK);
    cr_assert(mup_journal_record(j, 2) && mup_journal_record(j, 3), "a reader sees both");
    mup_journal_close(j);
}

/* A record's intermediate values are checked like its curves: steps increasing whole numbers, one
 * finite value or null each. */
Test(journal_hostile, a_record_with_bad_intermediate_values_is_skipped) {
    static const char *const bad[] = {"[]", "{\"step\":[4,2],\"value\":[1,2]}", "{\"step\":[2],\"value\":[1,2]}",
                                      "{\"step\":[2.5],\"value\":[1]}", "{\"step\":[2],\"value\":[\"x\"]}",
                                      "{\"step\":[-1],\"value\":[1]}", "{\"value\":[1]}"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char *line = replace_field(complete_record(2), "intermediate", bad[k]);
        assert_skipped(line);
        free(line);
    }
}

/* Report lines (a pruner's intermediate values of runs in flight) are validated in every field; a bad
 * one is skipped with one warning and counts for nothing. */
Test(journal_hostile, report_lines_that_are_not_a_proxy_runs_step_and_value_are_skipped) {
    static const char *const bad[] = {
        "{\"type\":\"report\",\"id\":\"nope\",\"step\":1,\"value\":1}\n",
        "{\"type\":\"report\",\"step\":1,\"value\":1}\n",
        "{\"type\":\"report\",\"id\":\"target-w48-s0\",\"step\":1,\"value\":1}\n",
        "{\"type\":\"report\",\"id\":\"w16-t001-s0\",\"step\":0,\"value\":1}\n",
        "{\"type\":\"report\",\"id\":\"w16-t001-s0\",\"step\":1e9,\"value\":1}\n",
        "{\"type\":\"report\",\"id\":\"w16-t001-s0\",\"step\":2.5,\"value\":1}\n",
        "{\"type\":\"report\",\"id\":\"w16-t001-s0\",\"step\":1,\"value\":null}\n",
        "{\"type\":\"report\",\"id\":\"w16-t001-s0\",\"step\":1,\"value\":\"1\"}\n",
        "{\"type\":\"report\",\"id\":7,\"step\":1,\"value\":1}\n"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        mup_journal *j = read_with(bad[k], strlen(bad[k]));
        cr_assert_eq(warnings, 1, "one warning for: %s", bad[k]);
        for (int i = 0; i < list.n_proxy; i++)
            cr_assert_eq(mup_journal_curve(j, i).n, mup_journal_record(j, i) ? mup_journal_curve(j, i).n : 0,
                         "%s counted", bad[k]);
        mup_journal_close(j);
    }
    /* good ones count; a step not above the last starts the run's list again (the run trains again) */
    const char *good = "{\"type\":\"report\",\"id\":\"w16-t001-s0\",\"step\":5,\"value\":0.5}\n"
                       "{\"type\":\"report\",\"id\":\"w16-t001-s0\",\"step\":10,\"value\":0.25}\n"
                       "{\"type\":\"report\",\"id\":\"w16-t001-s0\",\"step\":5,\"value\":0.75}\n";
    mup_journal *j = read_with(good, strlen(good));
    cr_assert_eq(warnings, 0);
    int i = mup_run_list_find(&list, "w16-t001-s0");
    mup_curve c = mup_journal_curve(j, i);
    cr_assert_eq(c.n, 1);
    cr_assert_eq(c.step[0], 5);
    cr_assert_eq(c.value[0], 0.75);
    cr_assert_not(c.complete);
    mup_journal_close(j);
}
