/* Learning-rate schedule factors at known steps. */
#include <criterion/criterion.h>
#include <math.h>

#include "testing.h"

Test(schedule, zeroed_is_constant_one) {
    mup_schedule s = {0};
    for (int step = 0; step < 100; step += 7)
        cr_assert_eq(mup_schedule_factor(&s, step), 1.0);
}

Test(schedule, warmup_ramp) {
    mup_schedule s = {.kind = MUP_SCHEDULE_CONSTANT, .warmup_steps = 4};
    const double want[] = {0.25, 0.5, 0.75, 1.0, 1.0, 1.0};
    for (int step = 0; step < 6; step++)
        cr_assert_float_eq(mup_schedule_factor(&s, step), want[step], 1e-15, "step %d", step);
}

Test(schedule, cosine_after_warmup) {
    mup_schedule s = {.kind = MUP_SCHEDULE_COSINE, .warmup_steps = 10, .total_steps = 110, .min_factor = 0.1f};
    double lo = 0.1f;
    cr_assert_float_eq(mup_schedule_factor(&s, 0), 0.1, 1e-15);
    cr_assert_float_eq(mup_schedule_factor(&s, 9), 1.0, 1e-15);
    cr_assert_float_eq(mup_schedule_factor(&s, 10), 1.0, 1e-15);
    cr_assert_float_eq(mup_schedule_factor(&s, 35), lo + (1 - lo) * (1 + sqrt(0.5)) / 2, 1e-12); /* x = 1/4 */
    cr_assert_float_eq(mup_schedule_factor(&s, 60), (1 + lo) / 2, 1e-12);
    cr_assert_float_eq(mup_schedule_factor(&s, 110), lo, 1e-12);
    cr_assert_float_eq(mup_schedule_factor(&s, 500), lo, 1e-12);
    for (int step = 10; step < 120; step++)
        cr_assert_leq(mup_schedule_factor(&s, step + 1), mup_schedule_factor(&s, step), "step %d", step);
}

Test(schedule, linear_after_warmup) {
    mup_schedule s = {.kind = MUP_SCHEDULE_LINEAR, .warmup_steps = 2, .total_steps = 12, .min_factor = 0.0f};
    cr_assert_float_eq(mup_schedule_factor(&s, 0), 0.5, 1e-15);
    cr_assert_float_eq(mup_schedule_factor(&s, 2), 1.0, 1e-15);
    cr_assert_float_eq(mup_schedule_factor(&s, 4), 0.8, 1e-12);
    cr_assert_float_eq(mup_schedule_factor(&s, 7), 0.5, 1e-12);
    cr_assert_float_eq(mup_schedule_factor(&s, 12), 0.0, 1e-15);
    cr_assert_float_eq(mup_schedule_factor(&s, 13), 0.0, 1e-15);
}

Test(schedule, decay_without_length_aborts, .exit_code = TEST_ASSERT_EXIT) {
    test_expect_assert("a decay needs total_steps (0) past warmup_steps (3)");
    mup_schedule s = {.kind = MUP_SCHEDULE_COSINE, .warmup_steps = 3};
    mup_schedule_factor(&s, 5);
}
