/*
** test_plan.c -- C tests of planner.plan's core (csrc/planner/planner_plan.*)
** and the C model API: a model written in C (a double integrator with
** analytic derivatives), every backend on it and on the built-in models,
** determinism, the work_max bound, no allocation once warm, model errors.
** See LICENSE for copyright.
*/
#include "conf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bt.h"
#include "host.h"
#include "lisp.h"
#include "planner_lib.h"
#include "planner_plan.h"
#include "planner_record.h"

#include "ctest.h"

/* ---- a C model: double integrator [p v], u = acceleration in [-1, 1],
** dt 0.1; cost (p - 1)^2 + 0.1 v^2 + 0.01 u^2 of the next state ---- */

#define DT 0.1

static int di_step(const mcts_Model *m, const double *s, const double *a, double *next,
                   double *reward) {
    double v = s[1] + DT * a[0], p = s[0] + DT * v;
    int *fail = m->ud;
    if (fail != NULL && *fail) {
        return -1;
    }
    next[0] = p;
    next[1] = v;
    *reward = -((p - 1) * (p - 1) + 0.1 * v * v + 0.01 * a[0] * a[0]);
    return 0;
}

static int di_lin(const mcts_Model *m, const double *x, const double *u, double *A, double *B) {
    (void)m;
    (void)x;
    (void)u;
    A[0] = 1;
    A[1] = DT;
    A[2] = 0;
    A[3] = 1;
    B[0] = DT * DT;
    B[1] = DT;
    return 0;
}

static int di_quad(const mcts_Model *m, const double *x, const double *u, double *l0, double *lx,
                   double *lu, double *lxx, double *luu, double *lxu) {
    double v = x[1] + DT * u[0], p = x[0] + DT * v, ep = p - 1;
    (void)m;
    *l0 = ep * ep + 0.1 * v * v + 0.01 * u[0] * u[0];
    /* p = x0 + DT x1 + DT^2 u, v = x1 + DT u */
    lx[0] = 2 * ep;
    lx[1] = 2 * ep * DT + 0.2 * v;
    lu[0] = 2 * ep * DT * DT + 0.2 * v * DT + 0.02 * u[0];
    lxx[0] = 2;
    lxx[1] = lxx[2] = 2 * DT;
    lxx[3] = 2 * DT * DT + 0.2;
    luu[0] = 2 * DT * DT * DT * DT + 0.2 * DT * DT + 0.02;
    lxu[0] = 2 * DT * DT;
    lxu[1] = 2 * DT * DT * DT + 0.2 * DT;
    return 0;
}

static int di_valid(const mcts_Model *m, const double *s, int n, char *err, size_t errlen) {
    (void)m;
    if (n != 2 || !isfinite(s[0]) || !isfinite(s[1])) {
        snprintf(err, errlen, "state: expected [p v]");
        return -1;
    }
    return 0;
}

static const char *di_err(const mcts_Model *m) {
    (void)m;
    return "double integrator failed";
}

static mcts_Model di = {"double-integrator", "p'' = u", 2, 1, {"p", "v"}, {-1.0}, {1.0},
                        di_step, di_valid, NULL, 30, di_lin, di_quad, NULL, di_err, NULL, NULL};

static void request(plan_Request *r, int backend, double p, double v) {
    plan_request_defaults(r);
    r->backend = backend;
    strcpy(r->model_service, "double-integrator");
    r->state[0] = p;
    r->state[1] = v;
    r->state_len = 2;
    r->budget_ms = 600000;
    r->work_max = 64;
    r->seed = 5;
}

static void test_register(void) {
    mem_Heap M;
    plan_Planner *P;
    mcts_Model bad = di;
    char err[160];
    mem_init(&M);
    P = plan_new(&M);
    CHECK(P != NULL);
    CHECK(plan_model(P, "double-integrator") == NULL);
    CHECK(plan_register(P, &di, err, sizeof err) == 0);
    CHECK(plan_model(P, "double-integrator") == &di);
    CHECK(plan_registered_at(P, 0) == &di && plan_registered_at(P, 1) == NULL);
    bad.name = "toy-1d";
    CHECK(plan_register(P, &bad, err, sizeof err) == -1);
    CHECK_STR(err, "'toy-1d' is a built-in model");
    bad.name = "b";
    bad.action_lo[0] = 2;
    CHECK(plan_register(P, &bad, err, sizeof err) == -1);
    CHECK_STR(err, "model 'b': bounds row 1 must be finite with lo <= hi");
    bad = di;
    bad.name = "c";
    bad.step = NULL;
    CHECK(plan_register(P, &bad, err, sizeof err) == -1);
    CHECK(plan_unregister(P, "double-integrator") == 1);
    CHECK(plan_unregister(P, "double-integrator") == 0);
    CHECK(plan_model(P, "toy-1d") == plan_builtin_find("toy-1d"));
    plan_free(P);
    CHECK(M.bytes == 0);
}

/* Every backend drives the double integrator to p = 1 in closed loop. */
static void test_backends(void) {
    mem_Heap M;
    plan_Planner *P;
    char err[160];
    int b;
    mem_init(&M);
    P = plan_new(&M);
    plan_register(P, &di, err, sizeof err);
    for (b = PLAN_MCTS; b <= PLAN_ILQR; b++) {
        double p = 0, v = 0;
        int t;
        for (t = 0; t < 60; t++) {
            plan_Request q;
            plan_Result r;
            request(&q, b, p, v);
            q.work_max = b == PLAN_MCTS ? 400 : 128;
            q.mcts.max_depth = 30;
            q.mppi.lambda = 0.05;
            q.mppi.sigma[0] = 0.8; /* acceleration noise that moves the position */
            q.mppi.nsigma = 1;
            plan_run(P, plan_model(P, "double-integrator"), &q, &r);
            CHECK(r.status == MCTS_OK);
            CHECK(r.adim == 1 && r.u[0] >= -1 && r.u[0] <= 1);
            v += DT * r.u[0];
            p += DT * v;
        }
        printf("# %s: p = %.3f v = %.3f after 60 steps\n", plan_backend_name(b), p, v);
        CHECK(fabs(p - 1) < 0.2);
    }
    plan_free(P);
}

static void test_determinism_and_work(void) {
    mem_Heap M;
    plan_Planner *P;
    char err[160];
    int b;
    mem_init(&M);
    P = plan_new(&M);
    plan_register(P, &di, err, sizeof err);
    for (b = PLAN_MCTS; b <= PLAN_ILQR; b++) {
        plan_Request q;
        plan_Result r1, r2;
        uint64_t n0;
        int i;
        request(&q, b, 0.2, -0.1);
        plan_run(P, plan_model(P, q.model_service), &q, &r1);
        plan_run(P, plan_model(P, q.model_service), &q, &r2);
        CHECK(r1.status == MCTS_OK && r2.status == MCTS_OK);
        CHECK(r1.u[0] == r2.u[0] && r1.confidence == r2.confidence);
        CHECK(r1.work_done == r2.work_done);
        CHECK(b == PLAN_ILQR ? r1.work_done <= 30 : r1.work_done == 64);
        /* warm: repeated calls of the same shape allocate nothing */
        n0 = M.nalloc;
        for (i = 0; i < 10; i++) {
            plan_run(P, plan_model(P, q.model_service), &q, &r2);
        }
        CHECK(M.nalloc == n0);
        /* analytic and finite-difference iLQR agree closely */
        if (b == PLAN_ILQR) {
            q.ilqr.derivatives = PLAN_FINITE_DIFF;
            plan_run(P, plan_model(P, q.model_service), &q, &r2);
            CHECK(r2.status == MCTS_OK);
            CHECK(fabs(r1.u[0] - r2.u[0]) < 0.05);
        }
    }
    plan_free(P);
}

static void test_errors(void) {
    mem_Heap M;
    plan_Planner *P;
    plan_Request q;
    plan_Result r;
    char err[160];
    int fail = 1, b;
    mcts_Model failing = di;
    mem_init(&M);
    P = plan_new(&M);
    failing.name = "failing";
    failing.ud = &fail;
    plan_register(P, &failing, err, sizeof err);
    for (b = PLAN_MCTS; b <= PLAN_ILQR; b++) {
        request(&q, b, 0, 0);
        strcpy(q.model_service, "failing");
        q.safe_u[0] = 0.5;
        q.safe_len = 1;
        plan_run(P, plan_model(P, "failing"), &q, &r);
        CHECK(r.status == MCTS_ERROR);
        CHECK_STR(r.error, "double integrator failed");
        CHECK(r.adim == 1 && r.u[0] == 0.5);
    }
    request(&q, PLAN_MPPI, 0, 0);
    plan_run(P, NULL, &q, &r);
    CHECK(r.status == MCTS_ERROR);
    CHECK_STR(r.error, "planner model not found: double-integrator");
    /* the state check */
    fail = 0;
    request(&q, PLAN_MCTS, 0, 0);
    q.state_len = 1;
    plan_run(P, &failing, &q, &r);
    CHECK(r.status == MCTS_ERROR);
    CHECK_STR(r.error, "planner state validation failed: failing expects 2 state values, got 1");
    plan_free(P);
}

/* ---- through a host: planner_register_cmodel, plan-action, the hooks ---- */

typedef struct Hooks {
    int begins, records;
    char planner[8], node_name[64];
    int32_t begin_node, record_node;
    int64_t work;
    int status;
} Hooks;

static void on_begin(void *ud, const char *planner, double budget_ms, const char *node_name,
                     int64_t tick, int32_t node) {
    Hooks *h = ud;
    (void)budget_ms;
    (void)tick;
    h->begins++;
    snprintf(h->planner, sizeof h->planner, "%s", planner);
    snprintf(h->node_name, sizeof h->node_name, "%s", node_name);
    h->begin_node = node;
}

static void on_record(void *ud, const mcts_Record *r, int64_t tick, int32_t node) {
    Hooks *h = ud;
    (void)tick;
    h->records++;
    h->record_node = node;
    h->work = r->work_done;
    h->status = r->status;
}

typedef struct Eval {
    const char *src;
} Eval;

static void doeval(lisp_State *S, void *ud) {
    Eval *e = ud;
    lisp_evalstring(S, e->src, strlen(e->src), "t");
}

static int eval(lispbt_Host *H, const char *src) {
    Eval e;
    int st;
    e.src = src;
    st = lisp_pcall(host_state(H), doeval, &e);
    if (st != LISP_OK) {
        printf("# error in '%s': %s\n", src, lisp_errmsg(host_state(H)));
    }
    return st;
}

static void test_host(void) {
    host_Opts o;
    char err[200];
    lispbt_Host *H;
    planner_Host *ph;
    Hooks hk;
    memset(&hk, 0, sizeof hk);
    host_defaults(&o);
    o.workers = 0;
    H = host_new(&o, err, sizeof err);
    CHECK(H != NULL);
    if (H == NULL) {
        return;
    }
    ph = planner_get(host_state(H));
    CHECK(planner_register_cmodel(ph, &di, err, sizeof err) == 0);
    planner_set_record_hook(ph, on_begin, on_record, &hk);
    CHECK(eval(H, "(define i (bt.new-instance (bt (plan-action :name \"di\" :planner :ilqr "
                  ":model_service double-integrator :work_max 5 :budget_ms 600000))))") == LISP_OK);
    CHECK(eval(H, "(bt.bb-put i 'state '(0.0 0.0))") == LISP_OK);
    CHECK(eval(H, "(bt.tick i)") == LISP_OK);
    CHECK(hk.begins == 1 && hk.records == 1);
    CHECK_STR(hk.planner, "ilqr");
    CHECK_STR(hk.node_name, "di");
    CHECK(hk.begin_node == 0 && hk.record_node == 0);
    CHECK(hk.status == MCTS_OK && hk.work >= 1 && hk.work <= 5);
    /* a malformed planner.plan request: a record without a begin */
    CHECK(eval(H, "(planner.plan (map.make 'schema_version \"planner.request.v1\"))") != LISP_OK);
    CHECK(hk.begins == 1 && hk.records == 2 && hk.record_node == -1 && hk.status == MCTS_ERROR);
    /* a built-in name cannot be taken */
    {
        mcts_Model bad = di;
        bad.name = "ptz-track";
        CHECK(planner_register_cmodel(ph, &bad, err, sizeof err) == -1);
        CHECK_STR(err, "'ptz-track' is a built-in model");
    }
    planner_set_record_hook(ph, NULL, NULL, NULL);
    host_free(H);
}

/* The three built-in models with a start state each, for the tests that
** compare two runs of the same request. */
static const char *const bnames[3] = {"toy-1d", "ptz-track", "toy-unicycle"};
static const int blens[3] = {1, 6, 5};

/* Request defaults for built-in model 'i' from state 'x' (toy-1d's own
** start given apart): backend 'b', random rollouts, 'work' iterations,
** a budget no run reaches, seed 'seed', the top 3. */
static void samereq(plan_Request *q, int i, double toyx, int b, int work, uint64_t seed) {
    static const double ptz[6] = {0.0, 0.0, 0.6, -0.3, 0.03, 0.01};
    static const double uni[5] = {0.0, 0.0, 0.0, 1.0, 0.5};
    plan_request_defaults(q);
    q->backend = b;
    snprintf(q->model_service, sizeof q->model_service, "%s", bnames[i]);
    if (i == 0) {
        q->state[0] = toyx;
    } else {
        memcpy(q->state, i == 1 ? ptz : uni, sizeof(double) * (size_t)blens[i]);
    }
    q->state_len = blens[i];
    q->budget_ms = 600000;
    q->work_max = work;
    q->seed = seed;
    q->top_k = 3;
    q->mcts.rollout_policy = MCTS_ROLLOUT_RANDOM;
}

/* Two results of the same request are the same to the bit. */
static void sameresult(const plan_Result *r1, const plan_Result *r2) {
    int d;
    CHECK(r1->status == MCTS_OK && r2->status == MCTS_OK);
    CHECK(r1->adim == r2->adim && r1->work_done == r2->work_done);
    for (d = 0; d < r1->adim; d++) {
        CHECK(r1->u[d] == r2->u[d]);
    }
    CHECK(r1->confidence == r2->confidence && r1->value_est == r2->value_est);
    CHECK(r1->cost_final == r2->cost_final);
    CHECK(r1->top_n == r2->top_n && r1->top_n > 0);
    for (d = 0; d < r1->top_n; d++) {
        CHECK(r1->top[d].cost == r2->top[d].cost && r1->top[d].weight == r2->top[d].weight);
        CHECK(r1->top[d].visits == r2->top[d].visits && r1->top[d].q == r2->top[d].q);
    }
}

/* A model's batched rollout (mcts_Model.rollout) changes no result: each
** built-in model with it and a copy without it (every step through 'step')
** give the same bits on every backend, including a rollout that ends at
** a terminal step (toy-1d from 0.5: the goal within reach).  MCTS also
** with the gaussian sampler (its draws interleave with the refills of the
** random-action pool) and rollouts longer than one pool segment. */
static void test_rollout_hook(void) {
    mem_Heap M;
    plan_Planner *P;
    int i, b, v;
    mem_init(&M);
    P = plan_new(&M);
    CHECK(P != NULL);
    for (i = 0; i < 3; i++) {
        const mcts_Model *m = plan_builtin_find(bnames[i]);
        mcts_Model plain = *m;
        CHECK(m != NULL && m->rollout != NULL);
        plain.rollout = NULL;
        for (v = 0; v < 3; v++) {
            plan_Request q;
            plan_Result r1, r2;
            int d;
            b = v < 2 ? PLAN_MCTS : PLAN_MPPI;
            samereq(&q, i, 0.5, b, 64, 7);
            if (v == 1) {
                q.mcts.action_sampler = MCTS_SAMPLER_GAUSSIAN;
                q.mcts.max_depth = 150;
                q.horizon = 150;
            }
            q.smoothness_weight = 0.1;
            plan_run(P, m, &q, &r1);
            plan_run(P, &plain, &q, &r2);
            sameresult(&r1, &r2);
            if (b == PLAN_MPPI) { /* the cheapest samples, cheapest first */
                CHECK(r1.cost_final == r1.top[0].cost);
                for (d = 1; d < r1.top_n; d++) {
                    CHECK(r1.top[d - 1].cost <= r1.top[d].cost);
                    CHECK(r1.top[d - 1].weight >= r1.top[d].weight);
                }
            }
        }
    }
    plan_free(P);
}

/* The action pool's refill gives the same bits with and without its
** AVX2 code (mcts_set_portable; where the CPU has no AVX2 both runs take
** the portable code): MCTS on every built-in model, both samplers, short
** and long rollouts. */
static void test_pool_portable(void) {
    mem_Heap M;
    plan_Planner *P;
    int i, v;
    mem_init(&M);
    P = plan_new(&M);
    CHECK(P != NULL);
    for (i = 0; i < 3; i++) {
        const mcts_Model *m = plan_builtin_find(bnames[i]);
        for (v = 0; v < 4; v++) {
            plan_Request q;
            plan_Result r1, r2;
            samereq(&q, i, 0.0, PLAN_MCTS, 200, (uint64_t)(11 + v));
            q.mcts.action_sampler = (v & 1) ? MCTS_SAMPLER_GAUSSIAN : MCTS_SAMPLER_UNIFORM;
            q.mcts.max_depth = (v & 2) ? 150 : 20;
            mcts_set_portable(plan_mcts(P), 0);
            plan_run(P, m, &q, &r1);
            mcts_set_portable(plan_mcts(P), 1);
            plan_run(P, m, &q, &r2);
            sameresult(&r1, &r2);
        }
    }
    mcts_set_portable(plan_mcts(P), 0);
    plan_free(P);
}

int main(void) {
    test_host();
    test_register();
    test_backends();
    test_determinism_and_work();
    test_rollout_hook();
    test_pool_portable();
    test_errors();
    return ctest_done();
}
