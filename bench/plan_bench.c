/*
** plan_bench.c -- planner.plan's backends at fixed work: each of MCTS, MPPI
** and iLQR on each built-in toy model (toy-1d, ptz-track), beside a plain C
** loop doing the same model rollouts.  See LICENSE for copyright.
**
** For every backend x model: ms per call (median of CALLS calls, each with
** its own seed, budget far out of reach, work_max fixed), work units per
** ms, model steps per call (counted once, untimed, through a counting copy
** of the model), ns per model step inside the planner, and the ratio of the
** planner's step rate to the raw rate of the plain loop (the same model
** stepping the same horizon with fixed actions: the most a planner could
** reach).  The targets (bench/run.lua) ask MPPI and MCTS for >= 0.5 of the
** raw rate.  Prints one 'name value unit' line per figure.
**
** `plan_bench BACKEND MODEL` runs only that pair (for callgrind: the
** inclusive Ir of plan_run and of raw_ns_per_step, each divided by its
** model steps, are the two sides of the ratio; see bench/README.md).
*/
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner_plan.h"

enum { CALLS = 200, WORK = 256 };

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A counting copy of a model: 'ud' points at the base model and a counter. */
typedef struct Counted {
    const mcts_Model *base;
    int64_t steps;
} Counted;

static int counted_step(const mcts_Model *m, const double *s, const double *a, double *next,
                        double *reward) {
    Counted *c = m->ud;
    mcts_Model b = *c->base;
    c->steps++;
    b.state_dim = m->state_dim;
    return c->base->step(&b, s, a, next, reward);
}

/* The raw loop: 'steps' model steps as rollouts of 'H' steps from 'x0'
** (state length 'n'), each step one call of m->step through its pointer
** (the C model API, as a plain C loop would call it), or with 'batch' one
** call of m->rollout per rollout; actions from a precomputed table
** sweeping the bounds, so the loop draws no random numbers; terminal flags
** are ignored (every rollout runs H steps).  Returns the ns it took. */
static __attribute__((noinline)) double raw_run(const mcts_Model *m, const double *x0, int n,
                                                int H, int64_t steps, int batch,
                                                double acts[][MCTS_MAX_ACTION]) {
    double xa[MCTS_MAX_STATE], xb[MCTS_MAX_STATE], r;
    static double sink; /* keeps the loop */
    mcts_Model local = *m;
    int64_t done = 0, t0;
    int t, i = 0, term;
    local.state_dim = n;
    t0 = lispbt_now_ns();
    while (done < steps) {
        double *x = xa, *nx = xb, *tmp;
        memcpy(x, x0, sizeof(double) * (size_t)n);
        if (batch) {
            double ret = 0.0, disc = 1.0;
            local.rollout(&local, x, acts[(i & 15) * PLAN_HORIZON_LIMIT], H, 1.0, &ret, &disc,
                          &term);
            sink += ret;
        } else {
            for (t = 0; t < H; t++) {
                local.step(&local, x, acts[(i & 15) * PLAN_HORIZON_LIMIT + t], nx, &r);
                sink += r;
                tmp = x;
                x = nx;
                nx = tmp;
            }
        }
        done += H;
        i++;
    }
    return (double)(lispbt_now_ns() - t0);
}

/* The three timed things as functions of their own, so that callgrind
** separates them (bench/README.md "MPPI sample loop, callgrind"). */
static __attribute__((noinline)) int planner_call(plan_Planner *P, const mcts_Model *m,
                                                  const plan_Request *q, plan_Result *r) {
    return plan_run(P, m, q, r);
}

static __attribute__((noinline)) double raw_steps(const mcts_Model *m, const double *x0, int n,
                                                  int H, int64_t steps,
                                                  double acts[][MCTS_MAX_ACTION]) {
    return raw_run(m, x0, n, H, steps, 0, acts);
}

static __attribute__((noinline)) double raw_batch(const mcts_Model *m, const double *x0, int n,
                                                  int H, int64_t steps,
                                                  double acts[][MCTS_MAX_ACTION]) {
    return raw_run(m, x0, n, H, steps, 1, acts);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return v[n / 2];
}

static int bench(plan_Planner *P, int backend, const char *model, const double *state, int n) {
    static double acts[16 * PLAN_HORIZON_LIMIT][MCTS_MAX_ACTION];
    const mcts_Model *m = plan_builtin_find(model);
    double ms[CALLS], ns[CALLS], rawns[CALLS], batchns[CALLS], ratio[CALLS], bratio[CALLS];
    plan_Request q;
    plan_Result r;
    Counted c;
    mcts_Model counting;
    int64_t work = 0, steps = 0;
    int i, t, d, H;
    char tag[64];
    snprintf(tag, sizeof tag, "%s_%s", plan_backend_name(backend),
             strcmp(model, "toy-1d") == 0 ? "toy1d" : "ptz");
    plan_request_defaults(&q);
    q.backend = backend;
    snprintf(q.model_service, sizeof q.model_service, "%s", model);
    memcpy(q.state, state, sizeof(double) * (size_t)n);
    q.state_len = n;
    q.budget_ms = 600000;
    q.work_max = backend == PLAN_ILQR ? 10 : WORK;
    q.horizon = H = 20;
    q.mcts.max_depth = 20;
    q.mcts.rollout_policy = MCTS_ROLLOUT_RANDOM; /* full-length rollouts: the rollout rate */
    q.ilqr.derivatives = m->linearise != NULL ? PLAN_ANALYTIC : PLAN_FINITE_DIFF;
    q.ilqr.tol_cost = 0; /* run every iteration: fixed work */
    q.ilqr.tol_grad = 0;
    for (i = 0; i < 16; i++) { /* 16 action sequences of H steps sweeping the bounds */
        for (t = 0; t < H; t++) {
            for (d = 0; d < m->action_dim; d++) {
                acts[i * PLAN_HORIZON_LIMIT + t][d] =
                    m->action_lo[d] +
                    (m->action_hi[d] - m->action_lo[d]) * (double)((i + t) & 15) / 15.0;
            }
        }
    }
    c.base = m;
    counting = *m;
    counting.step = counted_step;
    counting.rollout = NULL; /* every step through counted_step */
    counting.ud = &c;
    for (i = 0; i < 20; i++) { /* warm-up */
        q.seed = (uint64_t)i;
        plan_run(P, m, &q, &r);
    }
    /* Each round: one planner call (timed), its model steps (the same call
    ** again through the counting model, untimed: same seed, same path),
    ** then the raw loop for as many steps right after it (timed), so load
    ** on the machine falls on both sides alike.  The ratio is the median
    ** of the per-round ratios. */
    for (i = 0; i < CALLS; i++) {
        int64_t t0, s;
        q.seed = (uint64_t)(1000 + i);
        t0 = lispbt_now_ns();
        if (planner_call(P, m, &q, &r) != MCTS_OK) {
            fprintf(stderr, "%s: status %d: %s\n", tag, r.status, r.error);
            return -1;
        }
        ms[i] = (double)(lispbt_now_ns() - t0) * 1e-6;
        work += r.work_done;
        c.steps = 0;
        plan_run(P, &counting, &q, &r);
        s = c.steps;
        steps += s;
        ns[i] = ms[i] * 1e6 / (double)s;
        rawns[i] = raw_steps(m, state, n, H, s, acts) / (double)(((s + H - 1) / H) * H);
        ratio[i] = rawns[i] / ns[i];
        if (m->rollout != NULL) {
            batchns[i] = raw_batch(m, state, n, H, s, acts) / (double)(((s + H - 1) / H) * H);
            bratio[i] = batchns[i] / ns[i];
        }
    }
    printf("%s_ms_p50 %.4f ms\n", tag, median(ms, CALLS));
    printf("%s_work_per_ms %.1f work/ms\n", tag, (double)work / CALLS / median(ms, CALLS));
    printf("%s_steps_per_call %.0f steps\n", tag, (double)steps / CALLS);
    printf("%s_ns_per_step %.2f ns\n", tag, median(ns, CALLS));
    printf("%s_raw_ns_per_step %.2f ns\n", tag, median(rawns, CALLS));
    printf("%s_vs_raw %.3f x\n", tag, median(ratio, CALLS));
    if (m->rollout != NULL) {
        printf("%s_raw_batch_ns_per_step %.2f ns\n", tag, median(batchns, CALLS));
        printf("%s_vs_raw_batch %.3f x\n", tag, median(bratio, CALLS));
    }
    return 0;
}

int main(int argc, char **argv) {
    static const double toy[1] = {0.0};
    static const double ptz[6] = {0.0, 0.0, 0.6, -0.3, 0.03, 0.01};
    mem_Heap M;
    plan_Planner *P;
    int rc = 0, b;
    mem_init(&M);
    P = plan_new(&M);
    if (P == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    printf("work_max %d work\n", WORK);
    for (b = PLAN_MCTS; b <= PLAN_ILQR; b++) {
        if (argc > 1 && strcmp(argv[1], plan_backend_name(b)) != 0) {
            continue;
        }
        if (argc <= 2 || strcmp(argv[2], "toy-1d") == 0) {
            rc |= bench(P, b, "toy-1d", toy, 1);
        }
        if (argc <= 2 || strcmp(argv[2], "ptz-track") == 0) {
            rc |= bench(P, b, "ptz-track", ptz, 6);
        }
    }
    plan_free(P);
    return rc != 0;
}
