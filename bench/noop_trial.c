/* A program run that does nothing: opens its trial, reads lr and reports it as the final loss. What
 * bench_program_runs sweeps to measure the sweep's own cost per run. */
#include "mup/mup.h"

int main(void) {
    mup_trial *T;
    if (mup_trial_open(&T) != MUP_OK)
        return 1;
    double lr = mup_trial_double(T, "lr", 1e-3);
    mup_status s = mup_trial_final(T, (mup_metric[]){{"loss", lr}}, 1);
    mup_trial_close(T);
    return s == MUP_OK ? 0 : 1;
}
