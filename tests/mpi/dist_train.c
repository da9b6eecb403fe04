/* Data-parallel training against one process, run under mpirun (suite 'mpi', tests/meson.build).
 *
 *   dist_train no-shm         as curve, where /dev/shm has no room for the sharded step: it says so and
 *                             sums with MPI_Allreduce, to the same curves (tests/mpi/small-shm)
 *   dist_train curve          the MLP and the GPT through mup_train, and hand-written loops through
 *                             mup_dist_backward and through mup_dist_step (sharded, with and without
 *                             clipping): the ranks' loss curves and parameters against rank 0 training
 *                             alone; the model and the handle freed in either order
 *   dist_train resume DIR     a checkpoint written by all ranks, resumed by all ranks and by rank 0 alone;
 *                             one loaded mid-run into the values the ranks share
 *   dist_train die DIR STEP   checkpoints every 2 steps; the last rank kills itself in step STEP
 *   dist_train after DIR      (one process) the checkpoint that run left resumes
 *
 * The criterion (docs/distributed.md): every step's loss and every evaluation within a relative 1e-5
 * of one process's; one rank through mup_dist bit-identical to no mup_dist; the ranks' parameters
 * bit-identical to each other. Prints what it measured; exits 1 on a failed check. */
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mup/mup.h"
#include "runs.h"

#define TOL 1e-5
#define STEPS 30

static int rank, size, failures;
/* The node's shared memory has room for the sharded step's slabs (not in mode no-shm). */
static bool shared_memory = true;

static void check(bool ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "dist_train rank %d: FAILED: %s\n", rank, what);
        failures++;
    }
}

/* Every run's schedule spans STEPS, a run stopped early included. */
static void build(test_run *r, bool gpt) {
    mup_optim_opts o = test_adam_cosine(gpt ? 0.01f : 0.05f, STEPS);
    if (gpt)
        test_run_lm(r, 64, 0.0f, 7, o);
    else
        test_run_classif(r, 64, 7, o);
}

/* One run; r's model is left trained. */
static mup_train_result train(test_run *r, bool gpt, mup_dist *D, const mup_train_opts *extra, int steps) {
    build(r, gpt);
    mup_train_opts o = extra ? *extra : (mup_train_opts){0};
    o.steps = steps;
    o.eval_every = 10;
    o.dist = D;
    mup_train_result res;
    MUP_CHECK(mup_train(r->M, r->opt, r->task, &o, &res));
    return res;
}

static double rel(double a, double b) { return a == b ? 0.0 : fabs(a - b) / fmax(fabs(a), fabs(b)); }

/* The largest relative difference of the losses [from, to) and of the evaluations. */
static double curve_diff(const mup_train_result *a, const mup_train_result *b, int from, int to) {
    double worst = 0;
    for (int i = from; i < to; i++)
        worst = fmax(worst, rel(a->train_loss[i], b->train_loss[i]));
    for (int i = 0; i < a->n_evals; i++) /* a resumed run has only the later evaluations */
        for (int j = 0; j < b->n_evals; j++)
            if (a->eval_step[i] == b->eval_step[j])
                worst = fmax(worst, rel(a->eval_loss[i], b->eval_loss[j]));
    return worst;
}

static bool same_curve(const mup_train_result *a, const mup_train_result *b) {
    return a->steps_done == b->steps_done && a->n_evals == b->n_evals &&
           memcmp(a->train_loss, b->train_loss, (size_t)a->steps_done * sizeof(float)) == 0 &&
           memcmp(a->eval_loss, b->eval_loss, (size_t)a->n_evals * sizeof(double)) == 0;
}

/* Whether every rank holds rank 0's bits in a slab of n floats. */
static bool slab_agrees(const float *x, int n) {
    int same, all;
    float *zero = malloc((size_t)n * sizeof *zero);
    memcpy(zero, x, (size_t)n * sizeof *zero);
    MPI_Bcast(zero, n, MPI_FLOAT, 0, MPI_COMM_WORLD);
    same = memcmp(zero, x, (size_t)n * sizeof *zero) == 0;
    MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    free(zero);
    return all;
}

static bool params_agree(mup_model *M) { return slab_agrees(mup_model_values(M), (int)mup_model_num_floats(M)); }

typedef enum { ALONE, SUM, SHARDED } loop_kind;

/* The hand-written loop of mup/dist.h's comment (a user's own), in pieces: its run, batches and step. */
typedef struct {
    test_run r;
    mup_batcher b;
    float *x;
    int32_t *y;
    int B, step;
} hand;

/* clip_norm 0: no clipping. */
static void hand_begin(hand *h, float clip_norm) {
    mup_optim_opts o = test_adam_cosine(0.05f, STEPS);
    o.clip_norm = clip_norm;
    test_run_classif(&h->r, 64, 7, o);
    h->B = 16;
    h->step = 0;
    mup_batcher_init(&h->b, h->r.train.n, h->B, 11);
    h->x = malloc((size_t)h->B * h->r.train.dim * sizeof *h->x);
    h->y = malloc((size_t)h->B * sizeof *h->y);
}

/* Steps up to step `to`: on one process (D NULL), or on the ranks through mup_dist_backward and
 * mup_optim_step (SUM) or through mup_dist_step (SHARDED). Each step's loss and gradient norm go to
 * losses[step] and norms[step]. */
static void hand_steps(hand *h, mup_dist *D, loop_kind kind, int to, float *losses, double *norms) {
    int lo = 0, hi = h->B, dim = h->r.train.dim;
    if (D)
        mup_dist_share(D, h->B, &lo, &hi);
    for (; h->step < to; h->step++) {
        mup_batcher_next(&h->b, &h->r.train, h->x, h->y); /* the global batch; this rank's rows lo..hi-1 */
        mup_graph *g = mup_graph_begin(h->r.M);
        mup_tensor *in = mup_graph_wrap(g, h->x + (size_t)lo * dim, 2, (int[]){hi - lo, dim});
        mup_tensor *loss = mup_cross_entropy(g, mup_mlp_forward(g, h->r.mlp, in), h->y + lo);
        if (kind == SHARDED) {
            MUP_CHECK(mup_dist_step(D, h->r.opt, loss, h->B));
        } else {
            if (kind == SUM)
                MUP_CHECK(mup_dist_backward(D, h->r.M, loss, h->B));
            else
                mup_backward(g, loss);
            mup_optim_step(h->r.opt);
        }
        losses[h->step] = (float)(D ? mup_dist_mean(D, loss->data[0], h->B) : loss->data[0]);
        norms[h->step] = mup_optim_last_grad_norm(h->r.opt);
        mup_graph_end(g);
    }
}

static void hand_end(hand *h) {
    mup_batcher_free(&h->b);
    free(h->x);
    free(h->y);
    test_run_free(&h->r);
}

/* The largest difference of two slabs of n floats relative to the largest magnitude in a's, within TOL:
 * a slab that would be stale on some floats is off by far more. */
static bool slab_close(const float *a, const float *b, long n) {
    double top = 0, worst = 0;
    for (long i = 0; i < n; i++) {
        top = fmax(top, fabs(a[i]));
        worst = fmax(worst, fabs(a[i] - b[i]));
    }
    return worst <= TOL * top;
}

/* Whether every rank holds rank 0's optimizer state, and rank 0's is within TOL of one's (slab_close). */
static bool state_agrees(mup_optim *many, mup_optim *one, long n) {
    bool ok = true;
    for (int k = 0; k < mup_optim_num_state(many); k++) {
        ok = slab_agrees(mup_optim_state(many, k), (int)n) && ok;
        ok = ok && (rank != 0 || slab_close(mup_optim_state(one, k), mup_optim_state(many, k), n));
    }
    return ok;
}

/* A hand-written loop on the ranks against one process: both ways of stepping, with and without
 * clipping (at a norm most steps' gradients exceed; far below all of them, the run reaches a ReLU whose
 * input is within rounding of 0, and the two runs' gradients part there). */
static void hand_loops(mup_dist *world) {
    static const char *name[] = {"", "mup_dist_backward", "mup_dist_step"};
    for (int clip = 0; clip < 2; clip++)
        for (loop_kind kind = SUM; kind <= SHARDED; kind++) {
            float one[STEPS], many[STEPS], clip_norm = clip ? 0.3f : 0.0f;
            double one_norm[STEPS], many_norm[STEPS];
            hand a = {0}, b;
            if (rank == 0) {
                hand_begin(&a, clip_norm);
                hand_steps(&a, NULL, ALONE, STEPS, one, one_norm);
            }
            hand_begin(&b, clip_norm);
            hand_steps(&b, world, kind, STEPS, many, many_norm);
            check(params_agree(b.r.M), "the hand loop's parameters differ between ranks");
            long n = mup_model_num_floats(b.r.M);
            check(rank != 0 || slab_close(mup_model_values(a.r.M), mup_model_values(b.r.M), n),
                  "the hand loop's parameters are not within 1e-5 of one process's");
            if (kind == SHARDED && shared_memory) {
                check(mup_checkpoint_save("/nonexistent/sharded.h5", b.r.M, b.r.opt, NULL) == MUP_ERR_STATE &&
                      strstr(mup_error_message(), "mup_dist_gather_state"),
                      "a checkpoint of a sharded optimizer state was not refused by name");
                MUP_CHECK(mup_dist_gather_state(world, b.r.opt));
            }
            check(state_agrees(b.r.opt, a.r.opt, n), "after the hand loop the optimizer state is not the same on "
                  "every rank and within 1e-5 of one process's");
            if (rank == 0) {
                double d = 0, dn = 0;
                int clipped = 0;
                for (int i = 0; i < STEPS; i++) {
                    d = fmax(d, rel(one[i], many[i]));
                    dn = fmax(dn, rel(one_norm[i], many_norm[i]));
                    clipped += one_norm[i] > clip_norm;
                }
                printf("MLP, hand-written loop through %s%s: %d ranks against one process: largest relative "
                       "difference %.3g (gradient norms %.3g)\n", name[kind], clip ? ", clipped" : "", size, d, dn);
                check(d <= TOL, "the hand-written loop's curve is not within 1e-5 of one process's");
                check(dn <= TOL, "the hand-written loop's gradient norms are not within 1e-5 of one process's");
                check(!clip || clipped >= STEPS / 2, "the clipped loop did not clip most steps");
            }
            if (rank == 0)
                hand_end(&a);
            hand_end(&b);
        }
}

/* The losses of the hand loop's STEPS sharded steps through D, unclipped. */
static void sharded_curve(mup_dist *D, float *losses) {
    double norms[STEPS];
    hand h;
    hand_begin(&h, 0.0f);
    hand_steps(&h, D, SHARDED, STEPS, losses, norms);
    hand_end(&h);
}

/* A model's slabs live in the node's shared memory while sharded steps run, and the model owns that
 * memory: the model and the handle freed in either order, without the other ranks. First the handle:
 * STEPS / 2 sharded steps through a handle of their own, freed then, and the rest through world give
 * the bits of a run through world throughout. Then the model: one that stepped through a handle of its
 * own freed first, the handle then trains another model to those bits again. */
static void free_orders(mup_dist *world) {
    float ref[STEPS], got[STEPS];
    double norms[STEPS];
    hand h;
    sharded_curve(world, ref);
    mup_dist *own;
    MUP_CHECK(mup_dist_new(NULL, &own));
    hand_begin(&h, 0.0f);
    hand_steps(&h, own, SHARDED, STEPS / 2, got, norms);
    mup_dist_free(own);
    check(params_agree(h.r.M), "after its handle was freed, the model's parameters differ between ranks");
    hand_steps(&h, world, SHARDED, STEPS, got, norms);
    hand_end(&h);
    check(memcmp(ref, got, sizeof ref) == 0, "sharded steps through a handle freed midway, then through "
          "another, are not the bits of one handle throughout");
    MUP_CHECK(mup_dist_new(NULL, &own));
    hand_begin(&h, 0.0f);
    hand_steps(&h, own, SHARDED, STEPS / 2, got, norms);
    hand_end(&h);
    hand_begin(&h, 0.0f);
    hand_steps(&h, own, SHARDED, STEPS, got, norms);
    hand_end(&h);
    mup_dist_free(own);
    check(memcmp(ref, got, sizeof ref) == 0, "a handle whose first model was freed before it does not train "
          "another to the same bits");
    if (rank == 0)
        printf("the model and its handle freed in either order: the curves are the bits of one handle's\n");
}

/* What the library logged that says the sharded step went without shared memory. */
static int fell_back;

static void on_log(mup_log_level level, const char *message, void *ctx) {
    (void)ctx;
    fell_back += level == MUP_LOG_WARN && strstr(message, "cannot share") &&
                 strstr(message, "the ranks sum their gradients with MPI_Allreduce instead");
}

static void curves(mup_dist *world) {
    for (int gpt = 0; gpt < 2; gpt++) {
        const char *name = gpt ? "GPT" : "MLP";
        test_run alone = {0}, self = {0}, all;
        mup_train_result ra = {0}, rs = {0};
        if (rank == 0) { /* one process, then one rank through mup_dist, while the others wait */
            ra = train(&alone, gpt, NULL, NULL, STEPS);
            mup_dist *one;
            MPI_Comm comm = MPI_COMM_SELF;
            MUP_CHECK(mup_dist_new(&comm, &one));
            rs = train(&self, gpt, one, NULL, STEPS);
            mup_dist_free(one);
            check(same_curve(&ra, &rs), "one rank through mup_dist is not bit-identical to one process");
        }
        MPI_Barrier(MPI_COMM_WORLD);
        mup_train_result rw = train(&all, gpt, world, NULL, STEPS);
        check(params_agree(all.M), "the ranks' parameters differ");
        if (rank == 0) {
            double d = curve_diff(&ra, &rw, 0, STEPS);
            printf("%s, mup_train: %d ranks against one process: largest relative difference %.3g (losses %.6f "
                   "and %.6f at the end)\n", name, size, d, ra.final_train_loss, rw.final_train_loss);
            check(d <= TOL, "mup_train's curve on the ranks is not within 1e-5 of one process's");
            check(ra.final_train_loss < 0.9 * ra.first_loss, "the reference run did not learn");
        }
        mup_train_result_free(&ra);
        mup_train_result_free(&rs);
        mup_train_result_free(&rw);
        test_run_free(&alone);
        test_run_free(&self);
        test_run_free(&all);
    }
    hand_loops(world);
}

/* What is refused, and the shares of an uneven batch. */
static void bad_input(mup_dist *world) {
    int lo, hi;
    mup_dist_share(world, 2 * size + 1, &lo, &hi); /* the first rank takes the extra row */
    check(lo == (rank ? 2 * rank + 1 : 0) && hi == 2 * rank + 3, "the shares of an uneven batch");
    test_run r;
    build(&r, false);
    mup_task *one = mup_classif_task_new(r.M, mup_mlp_forward_fn, r.mlp, &r.train, &r.val, size - 1, 5);
    mup_train_result res;
    mup_status s = mup_train(r.M, r.opt, one, &(mup_train_opts){.steps = 2, .dist = world}, &res);
    check(s == MUP_ERR_INVALID && strstr(res.message, "cannot be shared by"),
          "a batch of fewer rows than ranks was not refused by name");
    mup_train_result_free(&res);
    mup_task_free(one);
    r.task->share = NULL;
    s = mup_train(r.M, r.opt, r.task, &(mup_train_opts){.steps = 2, .dist = world}, &res);
    check(s == MUP_ERR_INVALID && strstr(res.message, "mup_task.share is NULL"),
          "a task without share was not refused by name");
    mup_train_result_free(&res);
    test_run_free(&r);
    char mine[16];
    snprintf(mine, sizeof mine, "v%d", rank);
    s = mup_dist_same(world, "version", mine);
    check(s == MUP_ERR_INVALID && strstr(mup_error_message(), "rank 1's version (v1) differs from rank 0's (v0)"),
          "ranks with different texts were not refused by name");
    check(mup_dist_same(world, "version", "same") == MUP_OK, "ranks with the same text were refused");
    printf("rank %d: refused: %s\n", rank, mup_error_message());
}

/* Checkpoint at step 12 by every rank; the rest on every rank and on rank 0 alone. */
static void resume(mup_dist *world, const char *dir) {
    char ckpt[4096];
    snprintf(ckpt, sizeof ckpt, "%s/dist.h5", dir);
    test_run full, part, again, alone = {0};
    mup_train_result rf = train(&full, false, world, NULL, STEPS);
    mup_train_opts o = {.checkpoint_path = ckpt};
    mup_train_result rp = train(&part, false, world, &o, 12); /* its schedule still spans STEPS */
    (void)rp;
    mup_train_opts r = {.resume_path = ckpt};
    mup_train_result rr = train(&again, false, world, &r, STEPS);
    check(memcmp(rr.train_loss, rf.train_loss, STEPS * sizeof(float)) == 0,
          "resumed on the same ranks, the curve is not the uninterrupted run's");
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        mup_train_result ra = train(&alone, false, NULL, &r, STEPS);
        double d = curve_diff(&ra, &rf, 12, STEPS);
        printf("resumed at step 12 on one process against %d ranks throughout: largest relative difference %.3g\n",
               size, d);
        check(d <= TOL, "resumed on one process, the continuation is not within 1e-5");
        mup_train_result_free(&ra);
    }
    mup_train_result_free(&rf);
    mup_train_result_free(&rp);
    mup_train_result_free(&rr);
    test_run_free(&full);
    test_run_free(&part);
    test_run_free(&again);
    test_run_free(&alone);
}

/* A checkpoint loaded into a model whose values the ranks share (mid-run, after sharded steps): the
 * hand loop saves at STEPS / 2, goes on, loads it on every rank and goes on from there again, to the
 * bits of the run that went on from STEPS / 2 at once. */
static void reload_shared(mup_dist *world, const char *dir) {
    char ckpt[4096];
    snprintf(ckpt, sizeof ckpt, "%s/shared.h5", dir);
    float ref[STEPS], got[STEPS];
    double norms[STEPS];
    hand h;
    sharded_curve(world, ref);
    hand_begin(&h, 0.0f);
    hand_steps(&h, world, SHARDED, STEPS / 2, got, norms);
    MUP_CHECK(mup_dist_gather_state(world, h.r.opt));
    if (rank == 0)
        MUP_CHECK(mup_checkpoint_save(ckpt, h.r.M, h.r.opt, NULL));
    MPI_Barrier(MPI_COMM_WORLD);
    mup_batcher_state at = mup_batcher_get_state(&h.b);
    hand_steps(&h, world, SHARDED, STEPS / 2 + 5, got, norms);
    MUP_CHECK(mup_checkpoint_load(ckpt, h.r.M, h.r.opt, NULL));
    MUP_CHECK(mup_batcher_set_state(&h.b, at));
    h.step = STEPS / 2;
    hand_steps(&h, world, SHARDED, STEPS, got, norms);
    check(params_agree(h.r.M), "after a checkpoint loaded into shared values, the parameters differ between ranks");
    check(memcmp(ref + STEPS / 2, got + STEPS / 2, sizeof ref / 2) == 0, "a checkpoint loaded into shared values "
          "does not go on to the bits of the run it was saved from");
    if (rank == 0)
        printf("a checkpoint loaded into the values the ranks share, at step %d: the run goes on to the same bits\n",
               STEPS / 2);
    hand_end(&h);
}

/* A task that kills the last rank in its given step, mid-step (before the gradient sum). */
typedef struct {
    mup_task base;
    mup_task *inner;
    int step, die;
} dying_task;

static mup_tensor *dying_loss(mup_task *t, mup_graph *g) {
    dying_task *d = (dying_task *)t;
    if (++d->step == d->die && rank == size - 1)
        raise(SIGKILL);
    return d->inner->train_loss(d->inner, g);
}
static mup_task *inner(mup_task *t) { return ((dying_task *)t)->inner; }
static void dying_eval(mup_task *t, mup_model *M, double *loss, double *acc) {
    inner(t)->evaluate(inner(t), M, loss, acc);
}
static int dying_get(const mup_task *t, uint64_t *w) {
    const mup_task *in = ((const dying_task *)t)->inner;
    return in->get_state(in, w);
}
static mup_status dying_set(mup_task *t, const uint64_t *w, int n) { return inner(t)->set_state(inner(t), w, n); }
static int dying_share(mup_task *t, const mup_dist *d) { return inner(t)->share(inner(t), d); }

static void die(mup_dist *world, const char *dir, int step) {
    char ckpt[4096];
    snprintf(ckpt, sizeof ckpt, "%s/dies.h5", dir);
    test_run r;
    build(&r, false);
    dying_task t = {.base = {.train_loss = dying_loss, .evaluate = dying_eval, .get_state = dying_get,
                             .set_state = dying_set, .share = dying_share},
                    .inner = r.task, .die = step};
    mup_train_opts o = {.steps = STEPS, .dist = world, .checkpoint_path = ckpt, .checkpoint_every = 2};
    mup_train_result res;
    mup_train(r.M, r.opt, &t.base, &o, &res);
    fprintf(stderr, "dist_train rank %d: FAILED: the run ended although rank %d died\n", rank, size - 1);
    failures++;
    mup_train_result_free(&res);
    test_run_free(&r);
}

static void after(const char *dir) {
    char ckpt[4096];
    snprintf(ckpt, sizeof ckpt, "%s/dies.h5", dir);
    test_run r;
    mup_train_opts o = {.resume_path = ckpt};
    mup_train_result res = train(&r, false, NULL, &o, STEPS);
    printf("resumed from the checkpoint the dead job left: %d steps, final loss %.6f\n", res.steps_done,
           res.final_train_loss);
    check(res.steps_done == STEPS, "the resumed run did not finish");
    mup_train_result_free(&res);
    test_run_free(&r);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "after") == 0 && argc == 3) {
        after(argv[2]);
        return failures ? 1 : 0;
    }
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    mup_set_num_threads(1);
    mup_dist *world;
    MUP_CHECK(mup_dist_new(NULL, &world));
    if (strcmp(mode, "curve") == 0 && argc == 2) {
        bad_input(world);
        curves(world);
        free_orders(world);
    }
    else if (strcmp(mode, "no-shm") == 0 && argc == 2) {
        shared_memory = false;
        mup_set_log_fn(on_log, NULL);
        curves(world);
        check(fell_back > 0, "no warning that the sharded step went without the node's shared memory");
        if (rank == 0)
            printf("without room in /dev/shm: %d warning%s, the curves within 1e-5 of one process's\n", fell_back,
                   fell_back == 1 ? "" : "s");
    }
    else if (strcmp(mode, "resume") == 0 && argc == 3) {
        resume(world, argv[2]);
        reload_shared(world, argv[2]);
    }
    else if (strcmp(mode, "die") == 0 && argc == 4)
        die(world, argv[2], atoi(argv[3]));
    else {
        fprintf(stderr, "usage: dist_train curve | no-shm | resume DIR | die DIR STEP | after DIR\n");
        failures++;
    }
    int all = 0;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    mup_dist_free(world);
    MPI_Finalize();
    return all ? 1 : 0;
}
