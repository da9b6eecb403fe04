/* libmup's trial API (mup/trial.h): a trial file and a report pipe, as mup-sweep gives them, and a run
 * without a sweep. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mup/trial.h"
#include "testing.h"

static int pipe_fds[2];

/* Writes a trial file and points MUP_TRIAL and MUP_TRIAL_FD at it and at a pipe. */
static void sweep_env(const char *json) {
    const char *path = test_path("trial.json");
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(json, f);
    fclose(f);
    cr_assert_eq(pipe(pipe_fds), 0);
    char fd[16];
    snprintf(fd, sizeof fd, "%d", pipe_fds[1]);
    setenv("MUP_TRIAL", path, 1);
    setenv("MUP_TRIAL_FD", fd, 1);
}

static char *reported(void) {
    close(pipe_fds[1]);
    static char buf[8192];
    ssize_t n = read(pipe_fds[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(pipe_fds[0]);
    return buf;
}

static const char *TRIAL =
    "{\"protocol\": 1, \"run_id\": \"target-w256-s0\", \"phase\": \"target\", \"width\": 256, \"base_width\": 32,"
    " \"delta_width\": 64, \"seed\": 2611542155393254, \"params\": {\"lr\": 0.0039, \"layers\": 3, \"bias\": false,"
    " \"act\": \"gelu\", \"unused\": 1}, \"objective\": \"val_loss\", \"run_dir\": \"/tmp/r\", \"checkpoint\":"
    " \"/tmp/r/checkpoint\", \"report_fd\": 3}";

Test(trial, getters_read_the_trial_and_reports_reach_the_channel) {
    sweep_env(TRIAL);
    mup_trial *T;
    cr_assert_eq(mup_trial_open(&T), MUP_OK, "%s", mup_error_message());
    cr_assert(mup_trial_in_sweep(T));
    cr_assert_eq(mup_trial_double(T, "lr", 1), 0.0039);
    cr_assert_eq(mup_trial_int(T, "layers", 1), 3);
    cr_assert_eq(mup_trial_bool(T, "bias", true), false);
    cr_assert_str_eq(mup_trial_string(T, "act", "relu"), "gelu");
    cr_assert_eq(mup_trial_double(T, "missing", 0.5), 0.5);
    cr_assert_eq(mup_trial_width(T, 1), 256);
    cr_assert_eq(mup_trial_base_width(T, 1), 32);
    cr_assert_eq(mup_trial_delta_width(T, 1), 64);
    cr_assert_eq(mup_trial_seed(T, 1), 2611542155393254ULL);
    cr_assert_str_eq(mup_trial_run_dir(T), "/tmp/r");
    cr_assert_str_eq(mup_trial_checkpoint(T), "/tmp/r/checkpoint");
    cr_assert_str_eq(mup_trial_id(T), "target-w256-s0");
    cr_assert_not(mup_trial_should_stop(T, 10));
    cr_assert_eq(mup_trial_report(T, 10, (mup_metric[]){{"train_loss", 1.5}}, 1), MUP_OK);
    cr_assert_eq(mup_trial_final(T, (mup_metric[]){{"val_loss", 0.25}, {"val_acc", NAN}}, 2), MUP_OK);
    cr_assert_eq(mup_trial_final(T, (mup_metric[]){{"val_loss", 0.25}}, 1), MUP_ERR_STATE);
    mup_trial_close(T);
    const char *out = reported();
    cr_assert_str_eq(out, "{\"type\":\"report\",\"step\":10,\"metrics\":{\"train_loss\":1.5}}\n"
                          "{\"type\":\"final\",\"metrics\":{\"val_loss\":0.25,\"val_acc\":null},"
                          "\"read\":[\"lr\",\"layers\",\"bias\",\"act\",\"missing\"]}\n");
}

/* A trial with an answer channel: a pipe whose write end the test keeps, as the sweep would. */
static void answer_env(int answers[2]) {
    cr_assert_eq(pipe(answers), 0);
    char trial[1024];
    snprintf(trial, sizeof trial,
             "{\"protocol\": 1, \"width\": 64, \"seed\": 1, \"params\": {}, \"report_fd\": 3, \"answer_fd\": %d}",
             answers[0]);
    sweep_env(trial);
}

/* The sweep answers each report line in order; should_stop waits for the answer to the latest. */
Test(trial, should_stop_waits_for_the_answer_to_the_latest_report) {
    int answers[2];
    answer_env(answers);
    mup_trial *T;
    cr_assert_eq(mup_trial_open(&T), MUP_OK, "%s", mup_error_message());
    cr_assert_not(mup_trial_should_stop(T, 0), "no report yet: nothing to answer");
    cr_assert_eq(write(answers[1], "cc", 2), 2);
    cr_assert_eq(mup_trial_report(T, 1, (mup_metric[]){{"loss", 2.0}}, 1), MUP_OK);
    cr_assert_eq(mup_trial_report(T, 2, (mup_metric[]){{"loss", 1.9}}, 1), MUP_OK);
    cr_assert_not(mup_trial_should_stop(T, 2));
    cr_assert_eq(write(answers[1], "s", 1), 1);
    cr_assert_eq(mup_trial_report(T, 3, (mup_metric[]){{"loss", 1.8}}, 1), MUP_OK);
    cr_assert(mup_trial_should_stop(T, 3));
    cr_assert(mup_trial_should_stop(T, 3), "a stop stays");
    mup_trial_close(T);
    close(answers[1]);
    close(answers[0]);
    reported();
}

Test(trial, without_an_answer_channel_or_after_the_sweep_is_gone_nothing_stops) {
    sweep_env(TRIAL);
    mup_trial *T;
    cr_assert_eq(mup_trial_open(&T), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_trial_report(T, 1, (mup_metric[]){{"loss", 2.0}}, 1), MUP_OK);
    cr_assert_not(mup_trial_should_stop(T, 1));
    mup_trial_close(T);
    reported();
    int answers[2];
    answer_env(answers);
    cr_assert_eq(mup_trial_open(&T), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_trial_report(T, 1, (mup_metric[]){{"loss", 2.0}}, 1), MUP_OK);
    close(answers[1]);
    cr_assert_not(mup_trial_should_stop(T, 1), "the channel's end is no stop");
    mup_trial_close(T);
    close(answers[0]);
    reported();
}

Test(trial, without_a_sweep_every_getter_gives_its_default) {
    unsetenv("MUP_TRIAL");
    unsetenv("MUP_TRIAL_FD");
    mup_trial *T;
    cr_assert_eq(mup_trial_open(&T), MUP_OK);
    cr_assert_not(mup_trial_in_sweep(T));
    cr_assert_eq(mup_trial_double(T, "lr", 0.125), 0.125);
    cr_assert_eq(mup_trial_int(T, "layers", 4), 4);
    cr_assert_str_eq(mup_trial_string(T, "act", "relu"), "relu");
    cr_assert_eq(mup_trial_width(T, 512), 512);
    cr_assert_eq(mup_trial_seed(T, 7), 7);
    cr_assert_null(mup_trial_run_dir(T));
    cr_assert_null(mup_trial_checkpoint(T));
    cr_assert_str_eq(mup_trial_id(T), "");
    cr_assert_eq(mup_trial_final(T, (mup_metric[]){{"val_loss", 0.25}}, 1), MUP_OK);
    mup_trial_close(T);
}

Test(trial, a_bad_metric_name_is_refused_naming_it) {
    unsetenv("MUP_TRIAL");
    mup_trial *T;
    cr_assert_eq(mup_trial_open(&T), MUP_OK);
    cr_assert_eq(mup_trial_report(T, 1, (mup_metric[]){{"val loss", 1}}, 1), MUP_ERR_INVALID);
    cr_assert(strstr(mup_error_message(), "\"val loss\""), "%s", mup_error_message());
    mup_trial_close(T);
}

static void expect_open_fails(const char *json, mup_status want, const char *needle) {
    sweep_env(json);
    mup_trial *T;
    cr_assert_eq(mup_trial_open(&T), want, "%s", json);
    cr_assert(strstr(mup_error_message(), needle), "\"%s\" not in: %s", needle, mup_error_message());
    cr_assert_null(T);
    reported();
}

Test(trial, a_trial_file_that_is_not_one_is_refused) {
    expect_open_fails("not json", MUP_ERR_FORMAT, "not a JSON object");
    expect_open_fails("{\"protocol\": 2, \"params\": {}, \"width\": 1, \"seed\": 1}", MUP_ERR_FORMAT, "version 1");
    expect_open_fails("{\"protocol\": 1, \"width\": 1, \"seed\": 1}", MUP_ERR_FORMAT, "params");
    expect_open_fails("{\"protocol\": 1, \"params\": {}, \"seed\": 1}", MUP_ERR_FORMAT, "width");
    setenv("MUP_TRIAL", test_path("no-such-file.json"), 1);
    mup_trial *T;
    cr_assert_eq(mup_trial_open(&T), MUP_ERR_IO);
    cr_assert(strstr(mup_error_message(), "no-such-file.json"), "%s", mup_error_message());
}

static void on_abort(const char *file, int line, const char *message, void *ctx) {
    (void)file;
    (void)line;
    (void)ctx;
    fprintf(stderr, "%s\n", message);
    exit(strstr(message, "trial key lr: expected an integer") ? 0 : 1);
}

Test(trial, a_value_of_another_type_stops_naming_the_key, .exit_code = 0) {
    sweep_env(TRIAL);
    mup_trial *T;
    cr_assert_eq(mup_trial_open(&T), MUP_OK);
    mup_set_abort_handler(on_abort, NULL);
    mup_trial_int(T, "lr", 1);
    cr_assert_fail("a fraction was read as an integer");
}

/* A target launched on several ranks (program.mpi): no descriptor, the report file the sweep made. */
/* (That only rank 0 of mup_trial_use_dist's ranks writes is tests/mpi/sweep-program-ranks': a second rank's
 * lines would fail the run.) */
Test(trial, a_launched_run_appends_its_reports_to_the_report_file) {
    const char *trial = test_path("trial.json"), *file = test_path("reports.jsonl");
    FILE *f = fopen(file, "w");
    cr_assert(f);
    fclose(f);
    f = fopen(trial, "w");
    cr_assert(f);
    fprintf(f, "{\"protocol\": 1, \"run_id\": \"target-w256-s0\", \"phase\": \"target\", \"width\": 256, \"seed\": 5,"
               " \"params\": {}, \"ranks\": 4, \"report_file\": \"%s\", \"report_fd\": null, \"answer_fd\": null}",
            file);
    fclose(f);
    setenv("MUP_TRIAL", trial, 1);
    unsetenv("MUP_TRIAL_FD");
    mup_trial *T;
    cr_assert_eq(mup_trial_open(&T), MUP_OK, "%s", mup_error_message());
    cr_assert_eq(mup_trial_ranks(T, 1), 4);
    cr_assert_eq(mup_trial_report(T, 5, (mup_metric[]){{"val_loss", 2.5}}, 1), MUP_OK);
    cr_assert_not(mup_trial_should_stop(T, 5));
    cr_assert_eq(mup_trial_final(T, (mup_metric[]){{"val_loss", 2.0}}, 1), MUP_OK);
    mup_trial_close(T);
    char text[512] = "";
    f = fopen(file, "r");
    cr_assert(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    cr_assert_str_eq(text, "{\"type\":\"report\",\"step\":5,\"metrics\":{\"val_loss\":2.5}}\n"
                           "{\"type\":\"final\",\"metrics\":{\"val_loss\":2},\"read\":[]}\n");
    /* a report file that is not there is refused, naming it */
    cr_assert_eq(unlink(file), 0);
    cr_assert_eq(mup_trial_open(&T), MUP_ERR_IO);
    cr_assert(strstr(mup_error_message(), "cannot open its report file"), "%s", mup_error_message());
    unsetenv("MUP_TRIAL");
}
