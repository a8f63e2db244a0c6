/*
** mcts_bench.c -- planner core throughput: toy-1d and ptz-track searches of
** 2,000 iterations each with a budget too large to matter.
** See LICENSE for copyright.
**
** Also the deadline: searches with budget_ms = 20 and no iteration cap,
** the time they used and the overshoot past the budget (median and max of
** 20), which the specs check only from below (time_used_ms >= budget).
**
** Prints one 'name value unit' line per figure.  Build by hand:
**   gcc -std=c11 -O2 -Icsrc -Icsrc/planner csrc/base/mem.c csrc/base/rng.c csrc/base/sbuf.c \
**       csrc/planner/planner_mcts.c csrc/planner/planner_models.c \
**       csrc/planner/planner_record.c bench/mcts_bench.c -lm -o mcts_bench
** Target (SPEC §7, docs/planner.md): toy-1d <= 0.8 ms per call.
*/
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner_mcts.h"
#include "planner_record.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Run 'calls' searches of 'model' from 'state' and print the figures under
** 'tag'.  Each call gets its own seed, as a BT would give it. */
static int bench_model(mcts_Planner *P, mem_Heap *M, const char *tag, const char *model,
                       const double *state, int n, int rollout, int calls) {
    mcts_Request req;
    mcts_Result res;
    double *ms = malloc(sizeof(double) * (size_t)calls);
    double total = 0.0;
    int64_t iters = 0;
    uint64_t nalloc0;
    int i;
    if (ms == NULL) {
        return -1;
    }
    mcts_request_defaults(&req);
    strcpy(req.model_service, model);
    memcpy(req.state, state, sizeof(double) * (size_t)n);
    req.state_len = n;
    req.budget_ms = 10000.0;
    req.iters_max = 2000;
    req.rollout_policy = rollout;
    for (i = 0; i < 20; i++) {   /* warm-up: arena, caches, branch predictors */
        req.seed = (uint64_t)i;
        mcts_run(P, &req, &res);
    }
    nalloc0 = M->nalloc;
    for (i = 0; i < calls; i++) {
        int64_t t0;
        req.seed = mcts_derive_seed(7, "bench", i);
        t0 = lispbt_now_ns();
        if (mcts_run(P, &req, &res) != MCTS_OK) {
            fprintf(stderr, "%s: unexpected status %s\n", tag, mcts_status_name(res.status));
            free(ms);
            return -1;
        }
        ms[i] = (double)(lispbt_now_ns() - t0) * 1e-6;
        total += ms[i];
        iters += res.iters;
    }
    qsort(ms, (size_t)calls, sizeof(double), cmp_double);
    printf("%s_ms_per_call %.4f ms\n", tag, total / calls);
    printf("%s_ms_min %.4f ms\n", tag, ms[0]);
    printf("%s_ms_p50 %.4f ms\n", tag, ms[calls / 2]);
    printf("%s_ms_p99 %.4f ms\n", tag, ms[(calls * 99) / 100]);
    printf("%s_iters_per_s %.0f iter/s\n", tag, (double)iters / (total * 1e-3));
    printf("%s_allocs_per_call %.3f allocs\n", tag, (double)(M->nalloc - nalloc0) / calls);
    free(ms);
    return 0;
}

/* Cost of rendering one record as JSON (the read side, not the tick). */
static void bench_json(void) {
    mcts_Request req;
    mcts_Result res;
    mcts_Record rec;
    sbuf b;
    int i, n = 20000;
    int64_t t0;
    mem_Heap M;
    mcts_Planner *P;
    mem_init(&M);
    P = mcts_new(&M);
    if (P == NULL) {
        return;
    }
    mcts_request_defaults(&req);
    req.state_len = 1;
    mcts_run(P, &req, &res);
    precord_from_result(&rec, &req, &res, lispbt_wall_ms());
    sbuf_init(&b);
    t0 = lispbt_now_ns();
    for (i = 0; i < n; i++) {
        b.len = 0;
        precord_json(&rec, &b);
    }
    printf("record_json_us %.3f us\n", (double)(lispbt_now_ns() - t0) * 1e-3 / n);
    sbuf_free(&b);
    mcts_free(P);
}

/* budget_ms = 20 with no iteration cap: how far past its deadline a search
** ends (one clock check per batch of at most ~50 us, plus the collection
** of the answer). */
static void bench_budget(mcts_Planner *P) {
    enum { RUNS = 20 };
    static const double toy[1] = {0.0};
    mcts_Request req;
    mcts_Result res;
    double used[RUNS];
    int i;
    mcts_request_defaults(&req);
    strcpy(req.model_service, "toy-1d");
    memcpy(req.state, toy, sizeof toy);
    req.state_len = 1;
    req.budget_ms = 20.0;
    req.iters_max = MCTS_ITERS_LIMIT;
    for (i = 0; i < RUNS; i++) {
        req.seed = (uint64_t)i;
        mcts_run(P, &req, &res);
        used[i] = res.time_used_ms;
    }
    qsort(used, RUNS, sizeof used[0], cmp_double);
    printf("budget20_time_used_p50 %.3f ms\n", used[RUNS / 2]);
    printf("budget20_overshoot_p50 %.3f ms\n", used[RUNS / 2] - req.budget_ms);
    printf("budget20_overshoot_max %.3f ms\n", used[RUNS - 1] - req.budget_ms);
}

int main(int argc, char **argv) {
    static const double toy[1] = {0.0};
    static const double ptz[6] = {0.0, 0.0, 0.6, -0.3, 0.03, 0.01};
    int calls = argc > 1 ? atoi(argv[1]) : 500;
    mem_Heap M;
    mcts_Planner *P;
    int rc = 0;
    if (calls < 1) {
        calls = 1;
    }
    mem_init(&M);
    P = mcts_new(&M);
    if (P == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    printf("calls %d calls\n", calls);
    printf("iters_per_call 2000 iters\n");
    rc |= bench_model(P, &M, "toy1d", "toy-1d", toy, 1, MCTS_ROLLOUT_RANDOM, calls);
    rc |= bench_model(P, &M, "toy1d_heuristic", "toy-1d", toy, 1, MCTS_ROLLOUT_HEURISTIC, calls);
    rc |= bench_model(P, &M, "ptz", "ptz-track", ptz, 6, MCTS_ROLLOUT_RANDOM, calls);
    printf("arena_bytes %zu bytes\n", mcts_arena_bytes(P));
    bench_budget(P);
    bench_json();
    mcts_free(P);
    return rc != 0;
}
