/* The report channel of the trial protocol (sweep/run/protocol.c), fed hostile bytes. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "protocol.h"

static mup_protocol p;

static void start(void) { mup_protocol_init(&p, "loss", 1.0); }
static void stop(void) { mup_protocol_free(&p); }

TestSuite(protocol, .init = start, .fini = stop);

static bool feed(const char *s) { return mup_protocol_feed(&p, s, strlen(s)); }

Test(protocol, reports_and_a_final_line_are_read) {
    cr_assert(feed("{\"type\": \"report\", \"step\": 1, \"metrics\": {\"loss\": 2.5}}\n"
                   "\n"
                   "{\"type\": \"report\", \"step\": 2, \"metrics\": {\"loss\": 1.5, \"acc\": 0.4}}\n"
                   "{\"type\": \"final\", \"metrics\": {\"loss\": 1.25, \"acc\": 0.5}, \"read\": [\"lr\"]}\n"));
    cr_assert(p.has_final && p.has_objective);
    cr_assert_eq(p.objective_value, 1.25);
    cr_assert_eq(p.best, 1.25);
    cr_assert_eq(p.n_curve, 2);
    cr_assert_eq(p.curve_step[1], 2);
    cr_assert_eq(p.last_step, 2);
    cr_assert_str_eq(cJSON_GetArrayItem(p.read, 0)->valuestring, "lr");
    cr_assert_eq(p.nonfinite_step, -1);
}

Test(protocol, bytes_may_come_in_any_pieces_and_a_last_line_without_newline_never_counts) {
    const char *line = "{\"type\": \"final\", \"metrics\": {\"loss\": 3}}";
    for (size_t i = 0; line[i]; i++)
        cr_assert(mup_protocol_feed(&p, line + i, 1));
    cr_assert_not(p.has_final, "a half-written line counted");
    cr_assert(feed("\n"));
    cr_assert(p.has_final);
    cr_assert_eq(p.objective_value, 3);
}

Test(protocol, python_nan_and_infinity_are_non_finite_values) {
    cr_assert(feed("{\"type\": \"report\", \"step\": 3, \"metrics\": {\"loss\": NaN}}\n"));
    cr_assert(feed("{\"type\": \"final\", \"metrics\": {\"loss\": Infinity, \"x\": -Infinity, \"s\": null}}\n"));
    cr_assert_eq(p.nonfinite_step, 3);
    cr_assert(p.has_objective && isnan(p.objective_value));
}

Test(protocol, the_word_nan_inside_a_string_is_left_alone) {
    cr_assert_not(feed("{\"type\": \"NaN\", \"metrics\": {}}\n"));
    cr_assert(strstr(p.error, "neither"), "%s", p.error);
}

static void assert_bad(const char *line, const char *why) {
    mup_protocol_free(&p);
    mup_protocol_init(&p, "loss", 1.0);
    cr_assert_not(feed(line), "accepted: %s", line);
    cr_assert(p.bad);
    cr_assert(strstr(p.error, why), "\"%s\" not in: %s", why, p.error);
    cr_assert(strstr(p.error, "bad report line 1"), "%s", p.error);
    /* nothing after a bad line is read */
    cr_assert_not(feed("{\"type\": \"final\", \"metrics\": {\"loss\": 1}}\n"));
    cr_assert_not(p.has_final);
}

Test(protocol, hostile_lines_fail_the_run_naming_the_line) {
    assert_bad("hello\n", "not JSON");
    assert_bad("[1, 2]\n", "not a JSON object");
    assert_bad("{\"type\": \"final\", \"metrics\": {\"loss\": 1}} trailing\n", "not JSON");
    assert_bad("{\"type\": \"report\", \"metrics\": {\"loss\": 1}}\n", "step");
    assert_bad("{\"type\": \"report\", \"step\": -1, \"metrics\": {}}\n", "step");
    assert_bad("{\"type\": \"report\", \"step\": 1.5, \"metrics\": {}}\n", "step");
    assert_bad("{\"type\": \"report\", \"step\": 1e300, \"metrics\": {}}\n", "step");
    assert_bad("{\"type\": \"final\"}\n", "metrics");
    assert_bad("{\"type\": \"final\", \"metrics\": {\"loss\": \"low\"}}\n", "not a number");
    assert_bad("{\"type\": \"final\", \"metrics\": {\"$(rm -rf ~)\": 1}}\n", "metric name");
    assert_bad("{\"type\": \"final\", \"metrics\": {\"\": 1}}\n", "metric name");
    assert_bad("{\"type\": \"final\", \"metrics\": {\"loss\": 1, \"loss\": 2}}\n", "twice");
    assert_bad("{\"type\": \"final\", \"metrics\": {}, \"read\": [\"a b\"]}\n", "read");
    assert_bad("{\"type\": \"final\", \"metrics\": {}, \"read\": \"lr\"}\n", "read");
}

Test(protocol, a_line_after_the_final_one_fails) {
    cr_assert(feed("{\"type\": \"final\", \"metrics\": {\"loss\": 1}}\n"));
    cr_assert_not(feed("{\"type\": \"report\", \"step\": 9, \"metrics\": {}}\n"));
    cr_assert(strstr(p.error, "after the final"), "%s", p.error);
}

Test(protocol, a_nul_byte_and_control_characters_are_quoted_harmlessly) {
    const char line[] = "{\"type\":\x01\x1b[31m\0 evil}\n";
    cr_assert_not(mup_protocol_feed(&p, line, sizeof line - 1));
    cr_assert(strstr(p.error, "NUL"), "%s", p.error);
    for (const char *c = p.error; *c; c++)
        cr_assert((unsigned char)*c >= 0x20, "control character in the message: %s", p.error);
}

Test(protocol, an_overlong_line_fails_and_is_shortened_in_the_message) {
    size_t n = MUP_PROTOCOL_LINE_MAX + 100;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n - 1] = '\n';
    big[n] = '\0';
    cr_assert_not(feed(big));
    cr_assert(strstr(p.error, "64 KiB"), "%s", p.error);
    cr_assert_lt(strlen(p.error), 200);
    free(big);
}

Test(protocol, a_maximised_objective_keeps_its_highest_value_as_best) {
    mup_protocol_free(&p);
    mup_protocol_init(&p, "acc", -1.0);
    cr_assert(feed("{\"type\": \"report\", \"step\": 1, \"metrics\": {\"acc\": 0.5}}\n"
                   "{\"type\": \"report\", \"step\": 2, \"metrics\": {\"acc\": 0.9}}\n"
                   "{\"type\": \"final\", \"metrics\": {\"acc\": 0.8}}\n"));
    cr_assert_eq(p.best, 0.9);
}

Test(protocol, safe_names) {
    cr_assert(mup_safe_name("lr"));
    cr_assert(mup_safe_name("model.n_layer-2"));
    cr_assert_not(mup_safe_name(""));
    cr_assert_not(mup_safe_name("a b"));
    cr_assert_not(mup_safe_name("x;y"));
    cr_assert_not(mup_safe_name("\"q\""));
    char long_name[70];
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    cr_assert_not(mup_safe_name(long_name));
    long_name[63] = '\0';
    cr_assert(mup_safe_name(long_name));
}
