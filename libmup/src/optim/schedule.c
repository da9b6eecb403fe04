/* Learning-rate schedules: a factor multiplying every parameter's rate. */
#include <math.h>

#include "mup/error.h"
#include "mup/optim.h"

double mup_schedule_factor(const mup_schedule *s, int step) {
    MUP_ASSERT(step >= 0, "mup_schedule_factor: step %d", step);
    MUP_ASSERT(s->kind == MUP_SCHEDULE_CONSTANT || s->kind == MUP_SCHEDULE_COSINE || s->kind == MUP_SCHEDULE_LINEAR,
               "mup_schedule_factor: unknown schedule kind %d", (int)s->kind);
    if (step < s->warmup_steps)
        return (double)(step + 1) / s->warmup_steps;
    if (s->kind == MUP_SCHEDULE_CONSTANT)
        return 1.0;
    MUP_ASSERT(s->total_steps > s->warmup_steps,
               "mup_schedule_factor: a decay needs total_steps (%d) past warmup_steps (%d)",
               s->total_steps, s->warmup_steps);
    double x = fmin(1.0, (double)(step - s->warmup_steps) / (s->total_steps - s->warmup_steps));
    double lo = s->min_factor;
    if (s->kind == MUP_SCHEDULE_COSINE)
        return lo + (1.0 - lo) * 0.5 * (1.0 + cos(M_PI * x));
    return 1.0 - (1.0 - lo) * x;
}
