/*
** test_mcts.c -- C tests of the planner core (csrc/planner/planner_mcts.*).
** See LICENSE for copyright.
**
** Plain main(); prints "N passed, M failed" last and exits non-zero on any
** failure.  Build by hand:
**   gcc -std=c11 -O2 -Icsrc -Icsrc/planner csrc/base/mem.c csrc/base/rng.c csrc/base/sbuf.c
**       csrc/planner/planner_mcts.c csrc/planner/planner_models.c csrc/planner/planner_record.c
**       spec/c/test_mcts.c -lm
*/
#include "conf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "planner_mcts.h"

#include "ctest.h"

static void toy_request(mcts_Request *r, double x, uint64_t seed) {
    mcts_request_defaults(r);
    r->state[0] = x;
    r->state_len = 1;
    r->seed = seed;
}

static void ptz_request(mcts_Request *r, const double *s, uint64_t seed) {
    mcts_request_defaults(r);
    strcpy(r->model_service, "ptz-track");
    memcpy(r->state, s, sizeof(double) * 6);
    r->state_len = 6;
    r->seed = seed;
}

static int same_result(const mcts_Result *a, const mcts_Result *b) {
    int i;
    if (a->status != b->status || a->action_dim != b->action_dim ||
        a->confidence != b->confidence || a->value_est != b->value_est ||
        a->iters != b->iters || a->root_visits != b->root_visits ||
        a->root_children != b->root_children || a->widen_added != b->widen_added ||
        a->depth_max != b->depth_max || a->depth_mean != b->depth_mean ||
        a->top_n != b->top_n) {
        return 0;
    }
    for (i = 0; i < a->action_dim; i++) {
        if (a->action[i] != b->action[i]) {
            return 0;
        }
    }
    for (i = 0; i < a->top_n; i++) {
        if (memcmp(a->top[i].action, b->top[i].action, sizeof a->top[i].action) != 0 ||
            a->top[i].visits != b->top[i].visits || a->top[i].q != b->top[i].q) {
            return 0;
        }
    }
    return 1;
}

static void test_defaults_and_keys(void) {
    mcts_Request r;
    int i;
    mcts_request_defaults(&r);
    CHECK_STR(r.model_service, "toy-1d");
    CHECK(r.budget_ms == 20.0);
    CHECK(r.iters_max == 2000);
    CHECK(r.gamma == 0.95);
    CHECK(r.max_depth == 25);
    CHECK(r.c_ucb == 1.2);
    CHECK(r.pw_k == 2.0);
    CHECK(r.pw_alpha == 0.5);
    CHECK(r.top_k == 3);
    CHECK(r.rollout_policy == MCTS_ROLLOUT_RANDOM);
    CHECK(r.action_sampler == MCTS_SAMPLER_UNIFORM);
    CHECK(r.fallback_len == 0);
    CHECK(r.state_len == 0);
    CHECK(r.run_id[0] == '\0' && r.node_name[0] == '\0' && r.state_key[0] == '\0');

    for (i = 0; i < MCTS_KEY_COUNT; i++) {
        const mcts_KeyInfo *k = mcts_request_key(i);
        CHECK(k != NULL && mcts_request_key_index(k->name) == i);
    }
    CHECK(mcts_request_key(MCTS_KEY_COUNT) == NULL);
    CHECK(mcts_request_key(-1) == NULL);
    CHECK(mcts_request_key_index("budget_ms") == MCTS_KEY_BUDGET_MS);
    CHECK(mcts_request_key_index("fallback_action") == MCTS_KEY_FALLBACK_ACTION);
    CHECK(mcts_request_key_index("budget") == -1);
    CHECK(mcts_request_key_index("") == -1);
    CHECK(mcts_request_key_index(NULL) == -1);
    CHECK(MCTS_KEY_COUNT == 18);

    CHECK_STR(mcts_status_name(MCTS_OK), "ok");
    CHECK_STR(mcts_status_name(MCTS_TIMEOUT), "timeout");
    CHECK_STR(mcts_status_name(MCTS_NOACTION), "noaction");
    CHECK_STR(mcts_status_name(MCTS_ERROR), "error");
    CHECK_STR(mcts_status_name(42), "unknown");
    CHECK_STR(mcts_rollout_name(MCTS_ROLLOUT_HEURISTIC), "heuristic");
    CHECK_STR(mcts_sampler_name(MCTS_SAMPLER_GAUSSIAN), "gaussian");

    CHECK(mcts_model_find("toy-1d") == mcts_model_at(0));
    CHECK(mcts_model_find("ptz-track") == mcts_model_at(1));
    CHECK(mcts_model_at(2) == NULL);
    CHECK(mcts_model_find("nope") == NULL);
    CHECK(mcts_model_find("ptz-track")->state_dim == 6);
    CHECK(mcts_model_find("ptz-track")->action_dim == 2);
}

/* Expect mcts_request_check to fail with exactly 'msg'. */
static void expect_check(const mcts_Request *r, const char *msg) {
    char err[MCTS_ERR_MAX];
    err[0] = '\0';
    CHECK(mcts_request_check(r, err, sizeof err) == -1);
    CHECK_STR(err, msg);
}

static void test_validation(void) {
    mcts_Request r;
    mcts_Result res;
    char err[MCTS_ERR_MAX];
    double v3[3] = {1, 2, 3};
    mem_Heap M;
    mcts_Planner *P;

    toy_request(&r, 0.0, 1);
    CHECK(mcts_request_check(&r, err, sizeof err) == 0);
    CHECK(mcts_request_check(&r, NULL, 0) == 0);

    toy_request(&r, 0.0, 1);
    r.gamma = 1.5;
    expect_check(&r, "gamma: must be in (0, 1], got 1.5");
    r.gamma = 0.0;
    expect_check(&r, "gamma: must be in (0, 1], got 0.0");
    r.gamma = NAN;
    expect_check(&r, "gamma: must be in (0, 1], got +nan.0");

    toy_request(&r, 0.0, 1);
    r.budget_ms = -3;
    expect_check(&r, "budget_ms: must be a positive number, got -3.0");
    r.budget_ms = INFINITY;
    expect_check(&r, "budget_ms: must be at most 1e+09, got +inf.0");

    toy_request(&r, 0.0, 1);
    r.state_len = 3;
    expect_check(&r, "state: toy-1d expects 1 value, got 3");
    r.state_len = 0;
    expect_check(&r, "state: toy-1d expects 1 value, got 0");
    r.state_len = 1;
    r.state[0] = NAN;
    expect_check(&r, "state: toy-1d x must be a finite number in [-1000000, 1000000], got +nan.0");

    toy_request(&r, 0.0, 1);
    strcpy(r.model_service, "foo");
    expect_check(&r, "model_service: unknown model 'foo'");

    toy_request(&r, 0.0, 1);
    memset(r.model_service, 'x', sizeof r.model_service);   /* not terminated */
    expect_check(&r, "model_service: unknown model 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'");

    toy_request(&r, 0.0, 1);
    strcpy(r.model_service, "ptz-track");
    expect_check(&r, "state: ptz-track expects 6 values, got 1");

    {
        static const double bad[6] = {3.5, 0, 0, 0, 0, 0};
        ptz_request(&r, bad, 1);
        expect_check(&r, "state: ptz-track pan must be a finite number in [-3, 3], got 3.5");
    }

    toy_request(&r, 0.0, 1);
    r.iters_max = 0;
    expect_check(&r, "iters_max: must be an integer in [1, 1000000000], got 0");
    toy_request(&r, 0.0, 1);
    r.max_depth = 0;
    expect_check(&r, "max_depth: must be an integer in [1, 10000], got 0");
    toy_request(&r, 0.0, 1);
    r.c_ucb = -1;
    expect_check(&r, "c_ucb: must be a finite non-negative number, got -1.0");
    toy_request(&r, 0.0, 1);
    r.pw_k = 0;
    expect_check(&r, "pw_k: must be a finite positive number, got 0.0");
    toy_request(&r, 0.0, 1);
    r.pw_alpha = 2;
    expect_check(&r, "pw_alpha: must be in [0, 1], got 2.0");
    toy_request(&r, 0.0, 1);
    r.top_k = 9;
    expect_check(&r, "top_k: must be an integer in [0, 8], got 9");
    toy_request(&r, 0.0, 1);
    r.rollout_policy = 7;
    expect_check(&r, "rollout_policy: invalid value 7");
    toy_request(&r, 0.0, 1);
    r.action_sampler = -1;
    expect_check(&r, "action_sampler: invalid value -1");
    toy_request(&r, 0.0, 1);
    r.fallback_len = 2;
    expect_check(&r, "fallback_action: toy-1d expects 1 value, got 2");
    r.fallback_len = 1;
    r.fallback_action[0] = INFINITY;
    expect_check(&r, "fallback_action: value 1 must be a finite number, got +inf.0");

    /* typed setters, as the bindings use them */
    toy_request(&r, 0.0, 1);
    CHECK(mcts_request_set_number(&r, MCTS_KEY_GAMMA, 0.5, err, sizeof err) == 0 && r.gamma == 0.5);
    CHECK(mcts_request_set_number(&r, MCTS_KEY_GAMMA, 1.5, err, sizeof err) == -1);
    CHECK_STR(err, "gamma: must be in (0, 1], got 1.5");
    CHECK(r.gamma == 0.5);
    CHECK(mcts_request_set_integer(&r, MCTS_KEY_BUDGET_MS, 7, err, sizeof err) == 0 &&
          r.budget_ms == 7.0);
    CHECK(mcts_request_set_number(&r, MCTS_KEY_BUDGET_MS, -3, err, sizeof err) == -1);
    CHECK_STR(err, "budget_ms: must be a positive number, got -3.0");
    CHECK(mcts_request_set_string(&r, MCTS_KEY_GAMMA, "x", 1, err, sizeof err) == -1);
    CHECK_STR(err, "gamma: expected a number, got a string");
    CHECK(mcts_request_set_number(&r, MCTS_KEY_ITERS_MAX, 2.5, err, sizeof err) == -1);
    CHECK_STR(err, "iters_max: must be an integer in [1, 1000000000], got 2.5");
    CHECK(mcts_request_set_number(&r, MCTS_KEY_ITERS_MAX, 300.0, err, sizeof err) == 0 &&
          r.iters_max == 300);
    CHECK(mcts_request_set_integer(&r, MCTS_KEY_ITERS_MAX, 0, err, sizeof err) == -1);
    CHECK_STR(err, "iters_max: must be an integer in [1, 1000000000], got 0");
    CHECK(mcts_request_set_integer(&r, MCTS_KEY_MAX_DEPTH, 1LL << 40, err, sizeof err) == -1);
    CHECK_STR(err, "max_depth: must be an integer in [1, 10000], got 1099511627776");
    CHECK(mcts_request_set_integer(&r, MCTS_KEY_SEED, -1, err, sizeof err) == 0 &&
          r.seed == UINT64_MAX);
    CHECK(mcts_request_set_number(&r, MCTS_KEY_SEED, 12345.0, err, sizeof err) == 0 &&
          r.seed == 12345);
    CHECK(mcts_request_set_integer(&r, MCTS_KEY_TICK_INDEX, -5, err, sizeof err) == 0 &&
          r.tick_index == -5);
    CHECK(mcts_request_set_string(&r, MCTS_KEY_MODEL_SERVICE, "foo", 3, err, sizeof err) == -1);
    CHECK_STR(err, "model_service: unknown model 'foo'");
    CHECK(mcts_request_set_string(&r, MCTS_KEY_MODEL_SERVICE, "toy-1dX", 6, err, sizeof err) == 0);
    CHECK_STR(r.model_service, "toy-1d");
    CHECK(mcts_request_set_number(&r, MCTS_KEY_MODEL_SERVICE, 1, err, sizeof err) == -1);
    CHECK_STR(err, "model_service: expected a string, got a number");
    CHECK(mcts_request_set_string(&r, MCTS_KEY_ROLLOUT_POLICY, "heuristic", 9, err, sizeof err) == 0 &&
          r.rollout_policy == MCTS_ROLLOUT_HEURISTIC);
    CHECK(mcts_request_set_string(&r, MCTS_KEY_ROLLOUT_POLICY, "greedy", 6, err, sizeof err) == -1);
    CHECK_STR(err, "rollout_policy: unknown policy 'greedy' (expected random, heuristic or "
              "model_default)");
    CHECK(mcts_request_set_string(&r, MCTS_KEY_ACTION_SAMPLER, "gaussian", 8, err, sizeof err) == 0 &&
          r.action_sampler == MCTS_SAMPLER_GAUSSIAN);
    CHECK(mcts_request_set_string(&r, MCTS_KEY_ACTION_SAMPLER, "sobol", 5, err, sizeof err) == -1);
    CHECK_STR(err, "action_sampler: unknown sampler 'sobol' (expected uniform, gaussian or "
              "model_default)");
    CHECK(mcts_request_set_vector(&r, MCTS_KEY_STATE, v3, 3, err, sizeof err) == 0 &&
          r.state_len == 3);
    CHECK(mcts_request_check(&r, err, sizeof err) == -1);
    CHECK_STR(err, "state: toy-1d expects 1 value, got 3");
    CHECK(mcts_request_set_number(&r, MCTS_KEY_STATE, 0.25, err, sizeof err) == 0 &&
          r.state_len == 1 && r.state[0] == 0.25);
    CHECK(mcts_request_set_vector(&r, MCTS_KEY_GAMMA, v3, 3, err, sizeof err) == -1);
    CHECK_STR(err, "gamma: expected a number, got a list");
    CHECK(mcts_request_set_vector(&r, MCTS_KEY_FALLBACK_ACTION, v3, 1, err, sizeof err) == 0 &&
          r.fallback_len == 1);
    CHECK(mcts_request_set_string(&r, MCTS_KEY_NODE_NAME,
                                  "a-very-long-node-name-that-is-longer-than-sixty-four-bytes-in-total-yes",
                                  71, err, sizeof err) == 0);
    CHECK(strlen(r.node_name) == MCTS_NAME_MAX - 1);
    /* truncation never splits a UTF-8 character: 62 ASCII + "é" (2 bytes) */
    {
        char s[80];
        memset(s, 'a', 62);
        memcpy(s + 62, "\xc3\xa9zz", 4);
        CHECK(mcts_request_set_string(&r, MCTS_KEY_RUN_ID, s, 66, err, sizeof err) == 0);
        CHECK(strlen(r.run_id) == 62);
    }
    CHECK(mcts_request_set_number(&r, 99, 1, err, sizeof err) == -1);
    CHECK(mcts_request_check(&r, err, sizeof err) == 0);

    /* mcts_run reports an invalid request as status error, never raises */
    mem_init(&M);
    P = mcts_new(&M);
    CHECK(P != NULL);
    toy_request(&r, 0.0, 1);
    r.gamma = 1.5;
    CHECK(mcts_run(P, &r, &res) == MCTS_ERROR);
    CHECK(res.status == MCTS_ERROR);
    CHECK_STR(res.error, "gamma: must be in (0, 1], got 1.5");
    CHECK(res.action_dim == 0 && res.iters == 0);
    /* and the planner is still fine afterwards */
    toy_request(&r, 0.0, 1);
    r.budget_ms = 600000; /* iters_max decides, however slow the build or busy the machine */
    r.iters_max = 50;
    CHECK(mcts_run(P, &r, &res) == MCTS_OK && res.error[0] == '\0');
    mcts_free(P);
    CHECK(M.bytes == 0);
}

static void test_determinism(void) {
    mem_Heap M;
    mcts_Planner *P, *Q;
    mcts_Request r, other;
    mcts_Result a, b, c;
    static const double ptz[6] = {0.1, -0.2, 0.5, 0.1, 0.02, -0.01};
    mem_init(&M);
    P = mcts_new(&M);
    Q = mcts_new(&M);
    CHECK(P != NULL && Q != NULL);

    toy_request(&r, 0.3, 777);
    r.budget_ms = 60000;   /* bounded by iters_max only */
    r.iters_max = 1500;
    CHECK(mcts_run(P, &r, &a) == MCTS_OK);
    /* something different in between must not leak into the next run */
    ptz_request(&other, ptz, 5);
    other.budget_ms = 60000;
    other.iters_max = 3000;
    CHECK(mcts_run(P, &other, &c) == MCTS_OK);
    CHECK(mcts_run(P, &r, &b) == MCTS_OK);
    CHECK(same_result(&a, &b));
    /* a fresh planner gives the same answer too */
    CHECK(mcts_run(Q, &r, &b) == MCTS_OK);
    CHECK(same_result(&a, &b));
    CHECK(a.iters == 1500 && a.seed == 777);

    /* ptz and the non-default policies replay as well */
    ptz_request(&r, ptz, 99);
    r.budget_ms = 60000;
    r.rollout_policy = MCTS_ROLLOUT_HEURISTIC;
    r.action_sampler = MCTS_SAMPLER_GAUSSIAN;
    CHECK(mcts_run(P, &r, &a) == MCTS_OK);
    CHECK(mcts_run(Q, &r, &b) == MCTS_OK);
    CHECK(same_result(&a, &b));

    /* another seed searches differently */
    toy_request(&r, 0.3, 777);
    r.budget_ms = 60000;
    CHECK(mcts_run(P, &r, &a) == MCTS_OK);
    r.seed = 778;
    CHECK(mcts_run(P, &r, &b) == MCTS_OK);
    CHECK(a.action[0] != b.action[0]);

    /* derived seeds: stable, distinct, exact in a double */
    CHECK(mcts_derive_seed(1, "plan", 5) == mcts_derive_seed(1, "plan", 5));
    CHECK(mcts_derive_seed(1, "plan", 5) != mcts_derive_seed(1, "plan", 6));
    CHECK(mcts_derive_seed(1, "plan", 5) != mcts_derive_seed(1, "plan2", 5));
    CHECK(mcts_derive_seed(1, "plan", 5) != mcts_derive_seed(2, "plan", 5));
    CHECK(mcts_derive_seed(1, "plan", 5) < (1ULL << 53));
    CHECK(mcts_derive_seed(0, NULL, 0) == mcts_derive_seed(0, "", 0));
    mcts_free(P);
    mcts_free(Q);
    CHECK(M.bytes == 0);
}

static void test_budget_and_caps(void) {
    mem_Heap M;
    mcts_Planner *P;
    mcts_Request r;
    mcts_Result res;
    int i;
    mem_init(&M);
    P = mcts_new(&M);

    /* the deadline ends the search; the answer is still produced */
    toy_request(&r, 0.0, 3);
    r.budget_ms = 20;
    r.iters_max = MCTS_ITERS_LIMIT;
    CHECK(mcts_run(P, &r, &res) == MCTS_TIMEOUT);
    printf("# budget 20 ms: time_used_ms=%.3f iters=%lld\n", res.time_used_ms,
           (long long)res.iters);
    /* the deadline ended the search (without a deadline check it would run
    ** MCTS_ITERS_LIMIT iterations and hit ctest's timeout).  No upper bound
    ** on the time or lower bound on the iterations: a loaded machine may
    ** stall the search past its deadline; the overshoot is a figure of
    ** bench/mcts_bench.c. */
    CHECK(res.time_used_ms >= 19.9);
    CHECK(res.iters >= 1 && res.iters < MCTS_ITERS_LIMIT);
    CHECK(res.action_dim == 1 && res.root_children > 0);
    CHECK(res.root_visits == res.iters);

    /* a budget too small for a single clock check still runs one iteration */
    r.budget_ms = 1e-6;
    CHECK(mcts_run(P, &r, &res) == MCTS_TIMEOUT);
    CHECK(res.iters == 1 && res.action_dim == 1 && res.root_children == 1);
    CHECK(res.confidence == 1.0);

    /* iters_max caps the search exactly */
    toy_request(&r, 0.0, 4);
    r.budget_ms = 60000;
    r.iters_max = 123;
    CHECK(mcts_run(P, &r, &res) == MCTS_OK);
    CHECK(res.iters == 123 && res.root_visits == 123);
    r.iters_max = 1;
    CHECK(mcts_run(P, &r, &res) == MCTS_OK);
    CHECK(res.iters == 1 && res.root_children == 1);

    /* progressive widening bounds the root: ceil(pw_k * N^alpha) */
    toy_request(&r, 0.0, 5);
    r.budget_ms = 60000;
    r.iters_max = 2000;
    CHECK(mcts_run(P, &r, &res) == MCTS_OK);
    CHECK(res.root_children <= (int64_t)ceil(2.0 * sqrt(2000.0)));
    CHECK(res.root_children >= (int64_t)ceil(2.0 * sqrt(2000.0)) - 1);
    CHECK(res.widen_added >= res.root_children);
    CHECK(res.depth_max >= 1 && res.depth_max <= r.max_depth);
    CHECK(res.depth_mean >= 1.0 && res.depth_mean <= (double)res.depth_max);
    r.pw_alpha = 0;
    r.pw_k = 3;
    CHECK(mcts_run(P, &r, &res) == MCTS_OK);
    CHECK(res.root_children == 3);
    r.pw_k = 2.5;
    CHECK(mcts_run(P, &r, &res) == MCTS_OK);
    CHECK(res.root_children == 3);

    /* max_depth 1: a one-step lookahead, no rollouts beyond it */
    toy_request(&r, 0.0, 6);
    r.budget_ms = 60000;
    r.max_depth = 1;
    CHECK(mcts_run(P, &r, &res) == MCTS_OK);
    CHECK(res.depth_max == 1);
    CHECK(res.action[0] > 0.95);   /* greedy step towards the goal */

    /* top_k: most visited first, the best is the action, confidence matches */
    toy_request(&r, 0.2, 8);
    r.budget_ms = 60000;
    r.top_k = 8;
    CHECK(mcts_run(P, &r, &res) == MCTS_OK);
    CHECK(res.top_n == 8);
    CHECK(memcmp(res.top[0].action, res.action, sizeof(double)) == 0);
    CHECK(res.value_est == res.top[0].q);
    CHECK(res.confidence == (double)res.top[0].visits / (double)res.root_visits);
    for (i = 1; i < res.top_n; i++) {
        CHECK(res.top[i - 1].visits >= res.top[i].visits);
    }
    r.top_k = 0;
    CHECK(mcts_run(P, &r, &res) == MCTS_OK);
    CHECK(res.top_n == 0 && res.action_dim == 1);
    r.top_k = 8;
    r.iters_max = 3;
    CHECK(mcts_run(P, &r, &res) == MCTS_OK);
    CHECK(res.top_n == res.root_children && res.top_n <= 3);

    /* the node limit stops tree growth, not the search */
    mcts_set_node_limit(P, 64);
    toy_request(&r, 0.0, 9);
    r.budget_ms = 60000;
    CHECK(mcts_run(P, &r, &res) == MCTS_OK);
    CHECK(res.iters == 2000 && res.widen_added <= 63 && res.action_dim == 1);
    mcts_set_node_limit(P, MCTS_DEFAULT_NODE_LIMIT);
    mcts_free(P);
    CHECK(M.bytes == 0);
}

static void test_bounds_and_fallback(void) {
    mem_Heap M;
    mcts_Planner *P;
    mcts_Request r;
    mcts_Result res;
    double a[2] = {5.0, NAN}, out[2];
    const mcts_Model *ptz = mcts_model_find("ptz-track");
    int i;
    mem_init(&M);

    mcts_model_clamp(ptz, a, out);
    CHECK(out[0] == 0.2 && out[1] == -0.2);

    /* every chosen and alternative action is within bounds */
    P = mcts_new(&M);
    for (i = 0; i < 20; i++) {
        int j;
        toy_request(&r, -3.0 + 0.4 * i, (uint64_t)i);
        r.iters_max = 300;
        r.action_sampler = (i & 1) ? MCTS_SAMPLER_GAUSSIAN : MCTS_SAMPLER_UNIFORM;
        r.top_k = 8;
        mcts_run(P, &r, &res);
        CHECK(res.action[0] >= -1.0 && res.action[0] <= 1.0);
        for (j = 0; j < res.top_n; j++) {
            CHECK(res.top[j].action[0] >= -1.0 && res.top[j].action[0] <= 1.0);
        }
    }
    mcts_free(P);

    /* out of memory while planning: no child, so noaction with the
    ** (clamped) fallback, or no action at all without one */
    P = mcts_new(&M);
    CHECK(P != NULL);
    toy_request(&r, 0.0, 1);
    r.budget_ms = 600000; /* iters_max decides (noaction, not a timeout) */
    r.fallback_action[0] = 5.0;
    r.fallback_len = 1;
    M.fail_after = 3;   /* path, arena, then the child pool fails */
    CHECK(mcts_run(P, &r, &res) == MCTS_NOACTION);
    CHECK(res.action_dim == 1 && res.action[0] == 1.0);
    CHECK(res.root_children == 0 && res.confidence == 0.0 && res.iters > 0);
    mcts_free(P);

    P = mcts_new(&M);
    toy_request(&r, 0.0, 1);
    r.budget_ms = 600000; /* iters_max decides, however slow the build or busy the machine */
    M.fail_after = 3;
    CHECK(mcts_run(P, &r, &res) == MCTS_NOACTION);
    CHECK(res.action_dim == 0);
    /* the next call can allocate again and works */
    CHECK(mcts_run(P, &r, &res) == MCTS_OK && res.action_dim == 1);
    mcts_free(P);

    /* the arena itself cannot be had: error, not a crash */
    P = mcts_new(&M);
    M.fail_after = 2;
    CHECK(mcts_run(P, &r, &res) == MCTS_ERROR);
    CHECK_STR(res.error, "planner: out of memory");
    mcts_free(P);

    /* mcts_new itself failing returns NULL without leaking */
    M.fail_after = 2;
    CHECK(mcts_new(&M) == NULL);
    M.fail_after = 0;
    M.failing = 0;
    CHECK(M.bytes == 0);
}

static void test_arena_reuse(void) {
    mem_Heap M;
    mcts_Planner *P;
    mcts_Request r;
    mcts_Result res;
    uint64_t nalloc;
    size_t bytes;
    int i;
    mem_init(&M);
    P = mcts_new(&M);
    toy_request(&r, 0.0, 1);
    r.budget_ms = 60000;
    for (i = 0; i < 3; i++) {   /* warm-up */
        r.seed = (uint64_t)i;
        mcts_run(P, &r, &res);
    }
    nalloc = M.nalloc;
    bytes = M.bytes;
    for (i = 0; i < 100; i++) {
        r.seed = mcts_derive_seed(42, "reuse", i);
        r.state[0] = -1.0 + 0.03 * i;
        CHECK(mcts_run(P, &r, &res) == MCTS_OK);
    }
    CHECK(M.nalloc == nalloc);
    CHECK(M.bytes == bytes);
    CHECK(mcts_arena_bytes(P) > 0);

    /* mcts_reserve pre-sizes for a bigger search: no allocation inside it */
    CHECK(mcts_reserve(P, 8000, 60) == 0);
    nalloc = M.nalloc;
    r.iters_max = 8000;
    r.max_depth = 60;
    CHECK(mcts_run(P, &r, &res) == MCTS_OK);
    CHECK(M.nalloc == nalloc);
    nalloc = M.nalloc;
    CHECK(mcts_run(P, &r, &res) == MCTS_OK);
    CHECK(M.nalloc == nalloc);
    mcts_free(P);
    CHECK(M.bytes == 0);
}

/* Closed loop: plan, apply the action to the model, repeat. */
static void test_toy_closed_loop(void) {
    mem_Heap M;
    mcts_Planner *P;
    mcts_Request r;
    mcts_Result res;
    const mcts_Model *m = mcts_model_find("toy-1d");
    int policy, seed;
    mem_init(&M);
    P = mcts_new(&M);
    for (policy = 0; policy < 3; policy++) {
        for (seed = 0; seed < 5; seed++) {
            double x = 0.0, nx, rew;
            int step, reached = 0;
            for (step = 0; step < 20 && !reached; step++) {
                toy_request(&r, x, mcts_derive_seed((uint64_t)seed, "toy", step));
                r.budget_ms = 60000;
                if (policy == 1) {
                    r.rollout_policy = MCTS_ROLLOUT_HEURISTIC;
                } else if (policy == 2) {
                    r.action_sampler = MCTS_SAMPLER_GAUSSIAN;
                }
                if (mcts_run(P, &r, &res) != MCTS_OK) {
                    break;
                }
                reached = m->step(m, &x, res.action, &nx, &rew);
                x = nx;
            }
            CHECK(reached);
            CHECK(fabs(x - 1.0) < 0.01);
            if (seed == 0) {
                printf("# toy-1d policy %d: goal in %d steps\n", policy, step);
            }
        }
    }
    mcts_free(P);
}

static void test_ptz_closed_loop(void) {
    mem_Heap M;
    mcts_Planner *P;
    mcts_Request r;
    mcts_Result res;
    const mcts_Model *m = mcts_model_find("ptz-track");
    int policy;
    mem_init(&M);
    P = mcts_new(&M);
    for (policy = 0; policy < 2; policy++) {
        double s[6] = {0.0, 0.0, 0.6, -0.3, 0.03, 0.01}, ns[6], rew;
        double e0 = hypot(s[0] - s[2], s[1] - s[3]), e = e0, esum = 0.0;
        int step;
        for (step = 0; step < 30; step++) {
            ptz_request(&r, s, mcts_derive_seed(11, "ptz", step));
            r.budget_ms = 60000;
            r.rollout_policy = policy;
            CHECK(mcts_run(P, &r, &res) == MCTS_OK);
            CHECK(res.action_dim == 2);
            CHECK(fabs(res.action[0]) <= 0.2 && fabs(res.action[1]) <= 0.2);
            m->step(m, s, res.action, ns, &rew);
            memcpy(s, ns, sizeof s);
            e = hypot(s[0] - s[2], s[1] - s[3]);
            if (step >= 10) {
                esum += e;
            }
        }
        printf("# ptz-track rollout %s: error %.3f -> %.3f (mean after step 10: %.3f)\n",
               mcts_rollout_name(policy), e0, e, esum / 20);
        CHECK(e < 0.5 * e0);
        CHECK(esum / 20 < (policy == 0 ? 0.3 : 0.08));
    }
    mcts_free(P);
}

int main(void) {
    test_defaults_and_keys();
    test_validation();
    test_determinism();
    test_budget_and_caps();
    test_bounds_and_fallback();
    test_arena_reuse();
    test_toy_closed_loop();
    test_ptz_closed_loop();
    return ctest_done();
}
