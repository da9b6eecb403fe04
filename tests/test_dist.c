/* mup/dist.h in the process it runs in, with or without MPI built in: without MPI a handle is one rank
 * and mup_train with it is mup_train without it, bit for bit; with MPI, a handle needs MPI_Init first.
 * The ranks themselves are the suite 'mpi' (tests/mpi/, under mpirun). */
#include <criterion/criterion.h>
#include <string.h>

#include "runs.h"

Test(dist, without_mpi_a_handle_is_one_rank_and_changes_nothing) {
    if (mup_dist_built_with_mpi())
        cr_skip("built with MPI: the ranks are tested under mpirun (suite 'mpi')");
    int comm = 0;
    mup_dist *D;
    cr_assert_eq(mup_dist_new(&comm, &D), MUP_ERR_MPI);
    cr_assert(strstr(mup_error_message(), "built without MPI"), "%s", mup_error_message());
    cr_assert_eq(mup_dist_new(NULL, &D), MUP_OK);
    int lo, hi;
    mup_dist_share(D, 16, &lo, &hi);
    cr_assert(mup_dist_rank(D) == 0 && mup_dist_size(D) == 1 && lo == 0 && hi == 16);
    cr_assert(mup_dist_all(D, true) && !mup_dist_all(D, false));
    cr_assert_eq(mup_dist_same(D, "version", "x"), MUP_OK);
    test_run a, b;
    mup_train_result ra, rb;
    test_run_classif(&a, 32, 3, test_adam_cosine(1e-2f, 10));
    test_run_classif(&b, 32, 3, test_adam_cosine(1e-2f, 10));
    cr_assert_eq(mup_train(a.M, a.opt, a.task, &(mup_train_opts){.steps = 10, .eval_every = 5}, &ra), MUP_OK);
    cr_assert_eq(mup_train(b.M, b.opt, b.task, &(mup_train_opts){.steps = 10, .eval_every = 5, .dist = D}, &rb),
                 MUP_OK);
    cr_assert_eq(memcmp(ra.train_loss, rb.train_loss, 10 * sizeof(float)), 0);
    cr_assert_eq(memcmp(mup_model_values(a.M), mup_model_values(b.M), mup_model_num_floats(a.M) * sizeof(float)), 0);
    mup_train_result_free(&ra);
    mup_train_result_free(&rb);
    test_run_free(&a);
    test_run_free(&b);
    mup_dist_free(D);
}

Test(dist, with_mpi_a_handle_needs_mpi_initialised) {
    if (!mup_dist_built_with_mpi())
        cr_skip("built without MPI");
    mup_dist *D = (mup_dist *)&D;
    cr_assert_eq(mup_dist_new(NULL, &D), MUP_ERR_STATE);
    cr_assert_null(D);
    cr_assert(strstr(mup_error_message(), "call MPI_Init first"), "%s", mup_error_message());
}

Test(dist, a_task_without_share_is_refused_by_name) {
    if (mup_dist_built_with_mpi())
        cr_skip("a handle needs MPI_Init in this build (suite 'mpi' checks the refusals)");
    mup_dist *D;
    cr_assert_eq(mup_dist_new(NULL, &D), MUP_OK);
    test_run r;
    test_run_classif(&r, 32, 3, test_adam_cosine(1e-2f, 10));
    r.task->share = NULL;
    mup_train_result res;
    cr_assert_eq(mup_train(r.M, r.opt, r.task, &(mup_train_opts){.steps = 2, .dist = D}, &res), MUP_ERR_INVALID);
    cr_assert(strstr(res.message, "mup_task.share is NULL"), "%s", res.message);
    mup_train_result_free(&res);
    test_run_free(&r);
    mup_dist_free(D);
}
