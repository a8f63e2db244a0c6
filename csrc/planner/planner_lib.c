/*
** planner_lib.c -- planner.* builtins and the planner's leaves: planner.plan
** (v1), the legacy planner.mcts, model registration from Lisp and Lua, the
** plan-action form and apply-planned-1d.  See LICENSE for copyright.
**
** Per lisp_State (slot LISPBT_SLOT_PLANNER): one plan_Planner (the MCTS
** arena and the MPPI/iLQR buffers, reused across calls), the registered
** Lisp/Lua models, the record ring (planner_capacity) and the JSON-lines
** file sink.  Every planner call -- (planner.plan req), (planner.mcts req)
** or a plan-action tick -- goes through record(), the one place a call is
** recorded: one record in the ring, one line in the sink when enabled, the
** per-status counters and time histogram, and the record hook (events).
**
** planner.plan takes a planner.request.v1 map (keys strings, symbols or
** keywords) and returns a planner.result.v1 map with symbol keys, as the
** reference does; malformed fields raise "planner.plan: request.FIELD ...",
** after recording the call with status error.  Problems that need the
** model (unknown model, bad state, model errors) are results with status
** :error and the safe action.
**
** plan-action takes the reference's node options (docs/planner.md); each
** maps to one request field through the same field table, so a key is
** checked at compile time by the same rule that planner.plan applies.
**
** Lisp and Lua models: (planner.register-model name spec) keeps the spec's
** step/cost/done procedures pinned and wraps them in an mcts_Model whose
** 'step' calls them under lisp_pcall, so an error in a model becomes status
** :error with its message.  A Lua table converts to such a spec (its
** functions become Lisp procedures), so host:register_model is the same
** builtin.
**
** apply-planned-1d [STATE-KEY ACTION-KEY OUT-KEY] (state action state):
** writes the toy-1d model's next state for the planned action.
*/
#include "conf.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bt.h"
#include "planner_lib.h"
#include "planner_mcts.h"
#include "planner_plan.h"
#include "hist.h"
#include "planner_record.h"
#include "rng.h"
#include "sbuf.h"

/* A model registered from Lisp or Lua: its mcts_Model's 'ud' points here. */
typedef struct UModel {
    mcts_Model m;
    lisp_State *S;
    char name[MCTS_MODEL_NAME_MAX];
    int pstep, pcost, pdone;   /* pins of the procedures (-1: none) */
    double dt;                 /* seconds passed to step; set per call */
    double dt_default;         /* from the spec's dt_ms (default 0.1 s) */
    char err[MCTS_ERR_MAX];
} UModel;

struct planner_Host {
    mem_Heap *M;
    log_Ring *log;
    plan_Planner *plan;   /* owns the MCTS planner of planner.mcts too */
    lisp_State *S;
    int busy;             /* inside a planner call (models must not re-enter) */
    UModel *um[PLAN_MODELS_MAX];   /* Lisp/Lua models */
    planner_BeginHook begin;
    planner_RecordHook hook;
    void *hookud;
    precord_Ring ring;
    precord_Sink sink;
    uint64_t base_seed;
    uint64_t calls[4];  /* by status: ok, timeout, noaction, error */
    hist_Hist time;     /* time_used per call, ns, HIST_FINE */
    uint32_t *timebuckets;
    uint32_t mgen;      /* bumped when a model is registered or removed */
    struct PlanNode **pn; /* plan-action node caches (NULL: free slot) */
    int npn;              /* slots in 'pn' */
};

static int openleaves(lisp_State *S);

planner_Host *planner_open(lisp_State *S, mem_Heap *M, log_Ring *log, int capacity) {
    planner_Host *p = mem_calloc(M, sizeof(planner_Host));
    if (p == NULL) {
        return NULL;
    }
    p->M = M;
    p->log = log;
    precord_sink_init(&p->sink);
    p->S = S;
    p->plan = plan_new(M);
    p->timebuckets = mem_calloc(M, sizeof(uint32_t) * hist_nbuckets(HIST_FINE));
    if (p->plan == NULL || p->timebuckets == NULL ||
        precord_ring_init(&p->ring, M, capacity) != 0) {
        planner_close(p);
        return NULL;
    }
    hist_init(&p->time, HIST_FINE, p->timebuckets);
    lisp_setslot(S, LISPBT_SLOT_PLANNER, p);
    if (openleaves(S) != LISP_OK) {
        lisp_setslot(S, LISPBT_SLOT_PLANNER, NULL);
        planner_close(p);
        return NULL;
    }
    return p;
}

planner_Host *planner_get(lisp_State *S) {
    return lisp_slot(S, LISPBT_SLOT_PLANNER);
}

const hist_Hist *planner_timehist(planner_Host *p) {
    return &p->time;
}

void planner_counts(planner_Host *p, uint64_t out[4], uint64_t *sink_written,
                    uint64_t *sink_errors) {
    memcpy(out, p->calls, sizeof p->calls);
    *sink_written = p->sink.written;
    *sink_errors = p->sink.errors;
}

static void umodel_free(planner_Host *p, UModel *u, int unpin);
static void plannodes_free(planner_Host *p);

void planner_set_record_hook(planner_Host *p, planner_BeginHook begin, planner_RecordHook f,
                             void *ud) {
    p->begin = begin;
    p->hook = f;
    p->hookud = ud;
}

int planner_register_cmodel(planner_Host *p, const mcts_Model *m, char *err, size_t errlen) {
    int i;
    if (p->busy) {
        snprintf(err, errlen, "cannot register a model while planning");
        return -1;
    }
    if (plan_register(p->plan, m, err, errlen) != 0) {
        return -1;
    }
    p->mgen++;
    for (i = 0; i < PLAN_MODELS_MAX; i++) { /* it replaced a Lisp/Lua model */
        if (p->um[i] != NULL && strcmp(p->um[i]->name, m->name) == 0) {
            umodel_free(p, p->um[i], 1);
            p->um[i] = NULL;
        }
    }
    return 0;
}

void planner_close(planner_Host *p) {
    int i;
    if (p == NULL) {
        return;
    }
    for (i = 0; i < PLAN_MODELS_MAX; i++) {
        umodel_free(p, p->um[i], 0); /* the state is gone or going: no unpin */
    }
    plannodes_free(p);
    plan_free(p->plan);
    mem_free(p->M, p->timebuckets, sizeof(uint32_t) * hist_nbuckets(HIST_FINE));
    precord_ring_free(&p->ring);
    precord_sink_free(&p->sink);
    mem_free(p->M, p, sizeof(planner_Host));
}

#define PH(S) planner_get(S)

/* ---- request parsing ---- */

/* Key name without a leading ':' (keywords). */
static const char *keyname(lisp_Value k, size_t *n) {
    const char *s = lisp_str(k, n);
    if (s && *n > 1 && s[0] == ':') {
        (*n)--;
        return s + 1;
    }
    return s;
}

/* Numbers of 'v' (number, list or vec of numbers) into 'out'; count or -1. */
static int numbers(lisp_Value v, double *out, int max) {
    int n = 0;
    if (lisp_isnumber(v)) {
        out[0] = v.tag == LISP_TINT ? (double)v.u.i : v.u.f;
        return 1;
    }
    if (v.tag == LISP_TVEC) {
        int64_t i, len = lisp_veclen(v);
        if (len > max) {
            return -1;
        }
        for (i = 0; i < len; i++) {
            lisp_Value x = lisp_vecitems(v)[i];
            if (!lisp_isnumber(x)) {
                return -1;
            }
            out[n++] = x.tag == LISP_TINT ? (double)x.u.i : x.u.f;
        }
        return n;
    }
    if (lisp_listlen(v) >= 0) {
        for (; v.tag == LISP_TCONS; v = lisp_cdr(v)) {
            lisp_Value x = lisp_car(v);
            if (n >= max || !lisp_isnumber(x)) {
                return -1;
            }
            out[n++] = x.tag == LISP_TINT ? (double)x.u.i : x.u.f;
        }
        return n;
    }
    return -1;
}

/* Set request key 'idx' from Lisp value 'v'; 0 or -1 with 'err' set. */
static int setkey(mcts_Request *r, int idx, lisp_Value v, char *err, size_t errlen) {
    const mcts_KeyInfo *ki = mcts_request_key(idx);
    switch (ki->kind) {
        case MCTS_KT_STRING: {
            size_t n;
            const char *s = lisp_str(v, &n);
            if (s == NULL) {
                snprintf(err, errlen, "%s: expected a string or symbol, got a %s", ki->name,
                         lisp_typename(v));
                return -1;
            }
            return mcts_request_set_string(r, idx, s, n, err, errlen);
        }
        case MCTS_KT_INTEGER: /* integral floats are accepted by the setter */
        case MCTS_KT_NUMBER:
            if (!lisp_isnumber(v)) {
                snprintf(err, errlen, "%s: expected a number, got a %s", ki->name,
                         lisp_typename(v));
                return -1;
            }
            return v.tag == LISP_TINT ? mcts_request_set_integer(r, idx, v.u.i, err, errlen)
                                      : mcts_request_set_number(r, idx, v.u.f, err, errlen);
        default: {
            double xs[MCTS_MAX_STATE];
            int n = numbers(v, xs, MCTS_MAX_STATE);
            if (n < 0) {
                snprintf(err, errlen, "%s: expected a number or a list/vec of at most %d numbers",
                         ki->name, MCTS_MAX_STATE);
                return -1;
            }
            return mcts_request_set_vector(r, idx, xs, n, err, errlen);
        }
    }
}

/* ---- records ---- */

/* The one place a planner call is recorded (see the header comment). */
static void putrecord(lisp_State *S, const mcts_Record *rec, int64_t tick, int32_t node) {
    planner_Host *p = PH(S);
    precord_push(&p->ring, rec);
    if (rec->status >= 0 && rec->status < 4) {
        p->calls[rec->status]++;
    }
    hist_record(&p->time, (int64_t)(rec->time_used_ms * 1e6));
    if (p->sink.enabled && precord_sink_write(&p->sink, rec) != 0) {
        log_write(p->log, LOG_ERROR, tick, node, "planner", "record sink: %s",
                  precord_sink_last_error(&p->sink));
    }
    if (p->hook != NULL) {
        p->hook(p->hookud, rec, tick, node);
    }
}

static void record(lisp_State *S, const mcts_Request *req, const mcts_Result *res,
                   int64_t tick, int32_t node) {
    mcts_Record rec;
    precord_from_result(&rec, req, res, lispbt_wall_ms());
    putrecord(S, &rec, tick, node);
}

static void planrecord(lisp_State *S, const plan_Request *req, const plan_Result *res,
                       int64_t tick, int32_t node) {
    mcts_Record rec;
    precord_from_plan(&rec, req, res, lispbt_wall_ms());
    putrecord(S, &rec, tick, node);
}

/* ---- results as Lisp data ---- */

static lisp_Value numvec(lisp_State *S, const double *x, int n) {
    lisp_Value v = lisp_vec(S, n);
    int i;
    for (i = 0; i < n; i++) {
        lisp_vecpush(S, v, lisp_float(x[i]));
    }
    return v;
}

static lisp_Value alts(lisp_State *S, const mcts_Alt *top, int n, int dim) {
    lisp_Value v = lisp_vec(S, n);
    int base = lisp_gettop(S), i;
    for (i = 0; i < n; i++) {
        lisp_Value m = lisp_map(S, 4);
        lisp_mapsetstr(S, m, "action", numvec(S, top[i].action, dim));
        lisp_mapsetstr(S, m, "visits", lisp_int(top[i].visits));
        lisp_mapsetstr(S, m, "q", lisp_float(top[i].q));
        lisp_vecpush(S, v, m);
        lisp_settop(S, base);
    }
    return v;
}

static lisp_Value resultmap(lisp_State *S, const mcts_Result *r) {
    lisp_Value m = lisp_map(S, 16);
    lisp_mapsetstr(S, m, "status", lisp_cstring(S, mcts_status_name(r->status)));
    lisp_mapsetstr(S, m, "action", r->action_dim ? numvec(S, r->action, r->action_dim) : lisp_nil());
    lisp_mapsetstr(S, m, "confidence", lisp_float(r->confidence));
    lisp_mapsetstr(S, m, "value_est", lisp_float(r->value_est));
    lisp_mapsetstr(S, m, "iters", lisp_int(r->iters));
    lisp_mapsetstr(S, m, "root_visits", lisp_int(r->root_visits));
    lisp_mapsetstr(S, m, "root_children", lisp_int(r->root_children));
    lisp_mapsetstr(S, m, "widen_added", lisp_int(r->widen_added));
    lisp_mapsetstr(S, m, "depth_max", lisp_int(r->depth_max));
    lisp_mapsetstr(S, m, "depth_mean", lisp_float(r->depth_mean));
    lisp_mapsetstr(S, m, "time_used_ms", lisp_float(r->time_used_ms));
    lisp_mapsetstr(S, m, "seed", lisp_int((int64_t)r->seed));
    lisp_mapsetstr(S, m, "top_k", alts(S, r->top, r->top_n, r->action_dim));
    if (r->error[0]) {
        lisp_mapsetstr(S, m, "error", lisp_cstring(S, r->error));
    }
    return m;
}

static lisp_Value recordmap(lisp_State *S, const mcts_Record *r) {
    lisp_Value m = lisp_map(S, 24);
    lisp_mapsetstr(S, m, "ts_ms", lisp_int(r->ts_ms));
    lisp_mapsetstr(S, m, "run_id", lisp_cstring(S, r->run_id));
    lisp_mapsetstr(S, m, "tick_index", lisp_int(r->tick_index));
    lisp_mapsetstr(S, m, "node_name", lisp_cstring(S, r->node_name));
    lisp_mapsetstr(S, m, "budget_ms", lisp_float(r->budget_ms));
    lisp_mapsetstr(S, m, "time_used_ms", lisp_float(r->time_used_ms));
    lisp_mapsetstr(S, m, "iters", lisp_int(r->iters));
    lisp_mapsetstr(S, m, "root_visits", lisp_int(r->root_visits));
    lisp_mapsetstr(S, m, "root_children", lisp_int(r->root_children));
    lisp_mapsetstr(S, m, "widen_added", lisp_int(r->widen_added));
    lisp_mapsetstr(S, m, "action", numvec(S, r->action, r->action_dim));
    lisp_mapsetstr(S, m, "confidence", lisp_float(r->confidence));
    lisp_mapsetstr(S, m, "value_est", lisp_float(r->value_est));
    lisp_mapsetstr(S, m, "status", lisp_cstring(S, mcts_status_name(r->status)));
    lisp_mapsetstr(S, m, "depth_max", lisp_int(r->depth_max));
    lisp_mapsetstr(S, m, "depth_mean", lisp_float(r->depth_mean));
    lisp_mapsetstr(S, m, "seed", lisp_int((int64_t)r->seed));
    lisp_mapsetstr(S, m, "model_service", lisp_cstring(S, r->model_service));
    if (r->state_key[0]) {
        lisp_mapsetstr(S, m, "state_key", lisp_cstring(S, r->state_key));
    }
    if (r->top_n && r->planner == PLAN_MCTS) {
        lisp_mapsetstr(S, m, "top_k", alts(S, r->top, r->top_n, r->action_dim));
    }
    lisp_mapsetstr(S, m, "schema_version", lisp_cstring(S, "planner.v1"));
    lisp_mapsetstr(S, m, "planner", lisp_cstring(S, plan_backend_name(r->planner)));
    lisp_mapsetstr(S, m, "work_done", lisp_int(r->work_done));
    lisp_mapsetstr(S, m, "action_schema", lisp_cstring(S, r->action_schema));
    if (r->overrun) {
        lisp_mapsetstr(S, m, "overrun", lisp_bool(1));
    }
    if (r->note[0]) {
        lisp_mapsetstr(S, m, "note", lisp_cstring(S, r->note));
    }
    if (r->has_trace) {
        lisp_Value t = lisp_map(S, 6);
        int base = lisp_gettop(S), i;
        if (r->planner == PLAN_MCTS) {
            lisp_mapsetstr(S, t, "root_visits", lisp_int(r->root_visits));
            lisp_mapsetstr(S, t, "root_children", lisp_int(r->root_children));
            lisp_mapsetstr(S, t, "widen_added", lisp_int(r->widen_added));
            if (r->top_n) {
                lisp_mapsetstr(S, t, "top_k", alts(S, r->top, r->top_n, r->action_dim));
            }
        } else if (r->planner == PLAN_MPPI) {
            lisp_mapsetstr(S, t, "n_samples", lisp_int(r->work_done));
            lisp_mapsetstr(S, t, "horizon", lisp_int(r->horizon));
            if (r->top_n) {
                lisp_Value v = lisp_vec(S, r->top_n);
                int vb = lisp_gettop(S);
                for (i = 0; i < r->top_n; i++) {
                    lisp_Value e = lisp_map(S, 3);
                    lisp_mapsetstr(S, e, "action", numvec(S, r->top[i].action, r->action_dim));
                    lisp_mapsetstr(S, e, "weight", lisp_float(r->top_weight[i]));
                    lisp_mapsetstr(S, e, "cost", lisp_float(r->top_cost[i]));
                    lisp_vecpush(S, v, e);
                    lisp_settop(S, vb);
                }
                lisp_mapsetstr(S, t, "top_k", v);
            }
        } else {
            lisp_mapsetstr(S, t, "iters", lisp_int(r->work_done));
            lisp_mapsetstr(S, t, "cost_init", lisp_float(r->cost_init));
            lisp_mapsetstr(S, t, "cost_final", lisp_float(r->cost_final));
            lisp_mapsetstr(S, t, "reg_final", lisp_float(r->reg_final));
        }
        lisp_mapsetstr(S, m, "trace", t);
        lisp_settop(S, base);
    }
    if (r->error[0]) {
        lisp_mapsetstr(S, m, "error", lisp_cstring(S, r->error));
    }
    return m;
}

/* ---- planner.request.v1 fields ----
**
** One table describes every request field: where it lives in plan_Request,
** its kind and range.  planner.plan walks the request map (and the nested
** mcts/mppi/ilqr/constraints maps) through it, plan-action maps each node
** option to one entry, and both get the same check and the same message
** ("request.mppi.lambda must be a number > 0, got -1"). */

enum {
    F_NUM,      /* double; range lo..hi, FL_LOOPEN/FL_HIOPEN */
    F_INT,      /* int64 or int (FL_I32); lo..hi */
    F_STR,      /* char[hi] */
    F_VEC,      /* double[hi] + count at 'aux' (a number is one value) */
    F_SCHEMA,   /* schema_version */
    F_BACKEND,  /* planner */
    F_MODEL,    /* model_service */
    F_SEED,     /* seed: integer >= 0, finite float >= 0, or hashed text */
    F_SAFE,     /* safe_action map {action_schema, u} */
    F_BOUNDS,   /* list of (lo hi) rows */
    F_ROLLOUT,  /* mcts.rollout_policy */
    F_SAMPLER,  /* mcts.action_sampler */
    F_DERIV,    /* ilqr.derivatives */
    F_GROUP     /* a nested map: 'aux' is the group */
};
enum { G_TOP, G_MCTS, G_MPPI, G_ILQR, G_CONS, G_N };
#define FL_LOOPEN 1u
#define FL_HIOPEN 2u
#define FL_I32 4u
#define FL_FINITE 8u   /* F_VEC: every value finite */
#define FL_NONNEG 16u  /* F_VEC: every value >= 0 */

typedef struct Field {
    const char *name;
    int group, kind;
    size_t off, aux;
    double lo, hi;
    unsigned flags;
} Field;

#define O(f) offsetof(plan_Request, f)
#define INF HUGE_VAL
static const Field fields[] = {
    {"schema_version", G_TOP, F_SCHEMA, 0, 0, 0, 0, 0},
    {"planner", G_TOP, F_BACKEND, O(backend), 0, 0, 0, 0},
    {"model_service", G_TOP, F_MODEL, O(model_service), 0, 0, 0, 0},
    {"state", G_TOP, F_VEC, O(state), O(state_len), 1, MCTS_MAX_STATE, FL_FINITE},
    {"budget_ms", G_TOP, F_NUM, O(budget_ms), 0, 0, MCTS_BUDGET_LIMIT, FL_LOOPEN},
    {"seed", G_TOP, F_SEED, O(seed), 0, 0, 0, 0},
    {"safe_action", G_TOP, F_SAFE, 0, 0, 0, 0, 0},
    {"action_schema", G_TOP, F_STR, O(action_schema), 0, 0, PLAN_SCHEMA_MAX, 0},
    {"work_max", G_TOP, F_INT, O(work_max), 0, 0, PLAN_WORK_LIMIT, 0},
    {"horizon", G_TOP, F_INT, O(horizon), 0, 0, PLAN_HORIZON_LIMIT, FL_I32},
    {"dt_ms", G_TOP, F_INT, O(dt_ms), 0, 0, 86400000, 0},
    {"bounds", G_TOP, F_BOUNDS, 0, 0, 0, 0, 0},
    {"constraints", G_TOP, F_GROUP, 0, G_CONS, 0, 0, 0},
    {"top_k", G_TOP, F_INT, O(top_k), 0, 0, MCTS_MAX_TOPK, FL_I32},
    {"run_id", G_TOP, F_STR, O(run_id), 0, 0, MCTS_NAME_MAX, 0},
    {"tick_index", G_TOP, F_INT, O(tick_index), 0, 0, (double)INT64_MAX, 0},
    {"node_name", G_TOP, F_STR, O(node_name), 0, 0, MCTS_NAME_MAX, 0},
    {"state_key", G_TOP, F_STR, O(state_key), 0, 0, MCTS_NAME_MAX, 0},
    {"mcts", G_TOP, F_GROUP, 0, G_MCTS, 0, 0, 0},
    {"mppi", G_TOP, F_GROUP, 0, G_MPPI, 0, 0, 0},
    {"ilqr", G_TOP, F_GROUP, 0, G_ILQR, 0, 0, 0},
    {"c_ucb", G_MCTS, F_NUM, O(mcts.c_ucb), 0, 0, INF, 0},
    {"pw_k", G_MCTS, F_NUM, O(mcts.pw_k), 0, 0, INF, FL_LOOPEN},
    {"pw_alpha", G_MCTS, F_NUM, O(mcts.pw_alpha), 0, 0, 1, 0},
    {"max_depth", G_MCTS, F_INT, O(mcts.max_depth), 0, 1, MCTS_DEPTH_LIMIT, FL_I32},
    {"gamma", G_MCTS, F_NUM, O(mcts.gamma), 0, 0, 1, FL_LOOPEN},
    {"rollout_policy", G_MCTS, F_ROLLOUT, O(mcts.rollout_policy), 0, 0, 0, 0},
    {"action_sampler", G_MCTS, F_SAMPLER, O(mcts.action_sampler), 0, 0, 0, 0},
    {"lambda", G_MPPI, F_NUM, O(mppi.lambda), 0, 0, INF, FL_LOOPEN},
    {"sigma", G_MPPI, F_VEC, O(mppi.sigma), O(mppi.nsigma), 1, MCTS_MAX_ACTION,
     FL_FINITE | FL_NONNEG},
    {"n_samples", G_MPPI, F_INT, O(mppi.n_samples), 0, 1, PLAN_SAMPLES_LIMIT, 0},
    {"n_elite", G_MPPI, F_INT, O(mppi.n_elite), 0, 0, PLAN_SAMPLES_LIMIT, 0},
    {"u_init", G_MPPI, F_VEC, O(mppi.u_init), O(mppi.n_init), 1, PLAN_SEQ_MAX, FL_FINITE},
    {"u_nominal", G_MPPI, F_VEC, O(mppi.u_nominal), O(mppi.n_nominal), 1, PLAN_SEQ_MAX,
     FL_FINITE},
    {"max_iters", G_ILQR, F_INT, O(ilqr.max_iters), 0, 1, PLAN_ITERS_LIMIT, 0},
    {"reg_init", G_ILQR, F_NUM, O(ilqr.reg_init), 0, 0, 1e8, FL_LOOPEN},
    {"reg_factor", G_ILQR, F_NUM, O(ilqr.reg_factor), 0, 1, 1e8, FL_LOOPEN},
    {"tol_cost", G_ILQR, F_NUM, O(ilqr.tol_cost), 0, 0, INF, 0},
    {"tol_grad", G_ILQR, F_NUM, O(ilqr.tol_grad), 0, 0, INF, 0},
    {"u_init", G_ILQR, F_VEC, O(ilqr.u_init), O(ilqr.n_init), 1, PLAN_SEQ_MAX, FL_FINITE},
    {"derivatives", G_ILQR, F_DERIV, O(ilqr.derivatives), 0, 0, 0, 0},
    {"fd_eps", G_ILQR, F_NUM, O(ilqr.fd_eps), 0, 0, 1, FL_LOOPEN},
    {"max_du", G_CONS, F_VEC, O(max_du), O(n_max_du), 1, MCTS_MAX_ACTION,
     FL_FINITE | FL_NONNEG},
    {"smoothness_weight", G_CONS, F_NUM, O(smoothness_weight), 0, 0, INF, 0},
    {"collision_weight", G_CONS, F_NUM, O(collision_weight), 0, 0, INF, 0},
    {"goal_tolerance", G_CONS, F_NUM, O(goal_tolerance), 0, 0, INF, 0},
    {NULL, 0, 0, 0, 0, 0, 0, 0}};
#undef O

static const char *const groupnames[G_N] = {"request.", "request.mcts.", "request.mppi.",
                                            "request.ilqr.", "request.constraints."};

/* The field 'name' (n bytes) of group 'g', or NULL. */
static const Field *findfield(int g, const char *name, size_t n) {
    const Field *f;
    for (f = fields; f->name; f++) {
        if (f->group == g && strlen(f->name) == n && memcmp(f->name, name, n) == 0) {
            return f;
        }
    }
    return NULL;
}

/* Text of a string, symbol or keyword value without its ':' (NULL if
** neither). */
static const char *textof(lisp_Value v, size_t *n) {
    size_t len;
    return (v.tag == LISP_TSTRING || v.tag == LISP_TSYMBOL) ? keyname(v, n ? n : &len) : NULL;
}

static int texteq(const char *s, size_t n, const char *lit) {
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* "PATH must be WHAT, got REPR" into err; returns -1. */
static int badfield(lisp_State *S, char *err, size_t errlen, const char *path, const char *what,
                    lisp_Value v) {
    char repr[128];
    snprintf(err, errlen, "%s must be %s, got %s", path, what, lisp_repr(S, v, repr, sizeof repr));
    return -1;
}

static double numval(lisp_Value v) {
    return v.tag == LISP_TINT ? (double)v.u.i : v.u.f;
}

/* The range words of an F_NUM field: "> 0", "in (0, 1]", ">= 0". */
static void rangetext(const Field *f, char *buf, size_t n) {
    if (f->hi == INF) {
        snprintf(buf, n, "a number %s %g", (f->flags & FL_LOOPEN) ? ">" : ">=", f->lo);
    } else {
        snprintf(buf, n, "a number in %c%g, %g%c", (f->flags & FL_LOOPEN) ? '(' : '[', f->lo,
                 f->hi, (f->flags & FL_HIOPEN) ? ')' : ']');
    }
}

/* Numbers of 'v' (a number, list or vec) into 'out' (at most 'max');
** count, or -1 if 'v' is none of those or holds a non-number, -2 if too
** many. */
static int numlist(lisp_Value v, double *out, int max) {
    int n = 0;
    if (lisp_isnumber(v)) {
        out[0] = numval(v);
        return 1;
    }
    if (v.tag == LISP_TVEC) {
        int64_t i, len = lisp_veclen(v);
        if (len > max) {
            return -2;
        }
        for (i = 0; i < len; i++) {
            lisp_Value x = lisp_vecitems(v)[i];
            if (!lisp_isnumber(x)) {
                return -1;
            }
            out[n++] = numval(x);
        }
        return n;
    }
    if (v.tag == LISP_TCONS && lisp_listlen(v) >= 0) {
        for (; v.tag == LISP_TCONS; v = lisp_cdr(v)) {
            if (n >= max) {
                return -2;
            }
            if (!lisp_isnumber(lisp_car(v))) {
                return -1;
            }
            out[n++] = numval(lisp_car(v));
        }
        return n;
    }
    return -1;
}

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

#define SEED_MASK ((UINT64_C(1) << 53) - 1) /* exact as a double, a Lua and a JSON number */

static int mapfind(lisp_Value m, const char *name, lisp_Value *out);

/* Store 'v' into field 'f' of 'r'; 0, or -1 with the message in 'err'
** ("PATH must be ..., got ...").  'path' names the field in messages. */
static int setfield(lisp_State *S, plan_Request *r, const Field *f, const char *path,
                    lisp_Value v, char *err, size_t errlen) {
    char *base = (char *)r;
    char what[96];
    size_t n;
    const char *s;
    switch (f->kind) {
        case F_NUM: {
            double x;
            rangetext(f, what, sizeof what);
            if (!lisp_isnumber(v)) {
                return badfield(S, err, errlen, path, what, v);
            }
            x = numval(v);
            if (!((f->flags & FL_LOOPEN) ? x > f->lo : x >= f->lo) ||
                !((f->flags & FL_HIOPEN) ? x < f->hi : x <= f->hi) || !isfinite(x)) {
                return badfield(S, err, errlen, path, what, v);
            }
            *(double *)(base + f->off) = x;
            return 0;
        }
        case F_INT: {
            int64_t x;
            snprintf(what, sizeof what, "an integer in [%.0f, %.0f]", f->lo, f->hi);
            if (!lisp_tointrange(v, LISP_INTONLY, (int64_t)f->lo,
                                 f->hi >= 9.2e18 ? INT64_MAX : (int64_t)f->hi, &x)) {
                if (f->hi >= 9.2e18) {
                    snprintf(what, sizeof what, "an integer >= %.0f", f->lo);
                }
                return badfield(S, err, errlen, path, what, v);
            }
            if (f->flags & FL_I32) {
                *(int *)(base + f->off) = (int)x;
            } else {
                *(int64_t *)(base + f->off) = x;
            }
            return 0;
        }
        case F_STR:
            if ((s = textof(v, &n)) == NULL || n == 0 || memchr(s, '\0', n) != NULL) {
                return badfield(S, err, errlen, path, "a non-empty string or symbol", v);
            }
            if (n >= (size_t)f->hi) {
                snprintf(what, sizeof what, "at most %d bytes", (int)f->hi - 1);
                return badfield(S, err, errlen, path, what, v);
            }
            memcpy(base + f->off, s, n);
            (base + f->off)[n] = '\0';
            return 0;
        case F_VEC: {
            double xs[PLAN_SEQ_MAX];
            int k = numlist(v, xs, (int)f->hi), i;
            snprintf(what, sizeof what, "a number or a list of %g to %g numbers", f->lo, f->hi);
            if (k < (int)f->lo) {
                return badfield(S, err, errlen, path, what, v);
            }
            for (i = 0; i < k; i++) {
                if (((f->flags & FL_FINITE) && !isfinite(xs[i])) ||
                    ((f->flags & FL_NONNEG) && !(xs[i] >= 0))) {
                    return badfield(S, err, errlen, path,
                                    (f->flags & FL_NONNEG) ? "finite numbers >= 0"
                                                           : "finite numbers", v);
                }
            }
            memcpy(base + f->off, xs, sizeof(double) * (size_t)k);
            *(int *)(base + f->aux) = k;
            return 0;
        }
        case F_SCHEMA:
            if ((s = textof(v, &n)) == NULL || !texteq(s, n, "planner.request.v1")) {
                return badfield(S, err, errlen, path, "\"planner.request.v1\"", v);
            }
            return 0;
        case F_BACKEND:
            s = textof(v, &n);
            if (s != NULL && texteq(s, n, "mcts")) {
                r->backend = PLAN_MCTS;
            } else if (s != NULL && texteq(s, n, "mppi")) {
                r->backend = PLAN_MPPI;
            } else if (s != NULL && texteq(s, n, "ilqr")) {
                r->backend = PLAN_ILQR;
            } else {
                return badfield(S, err, errlen, path, "one of mcts, mppi, ilqr", v);
            }
            return 0;
        case F_MODEL:
            if ((s = textof(v, &n)) == NULL || n == 0 || n >= MCTS_MODEL_NAME_MAX ||
                memchr(s, '\0', n) != NULL) {
                return badfield(S, err, errlen, path, "a model name (a string or symbol of 1..31 bytes)",
                                v);
            }
            memcpy(r->model_service, s, n);
            r->model_service[n] = '\0';
            return 0;
        case F_SEED:
            if (v.tag == LISP_TINT && v.u.i >= 0) {
                r->seed = (uint64_t)v.u.i;
            } else if (v.tag == LISP_TFLOAT && v.u.f >= 0 && v.u.f < 9.2e18) {
                r->seed = (uint64_t)v.u.f;
            } else if ((s = textof(v, &n)) != NULL) {
                r->seed = fnv1a(s, n) & SEED_MASK;
            } else {
                return badfield(S, err, errlen, path,
                                "a non-negative integer, a finite number >= 0, or a string/symbol",
                                v);
            }
            return 0;
        case F_SAFE: {
            lisp_Value sch, u;
            char sub[64];
            Field uf = {"u", G_TOP, F_VEC, offsetof(plan_Request, safe_u),
                        offsetof(plan_Request, safe_len), 1, MCTS_MAX_ACTION, FL_FINITE};
            if (v.tag != LISP_TMAP) {
                return badfield(S, err, errlen, path, "a map {action_schema, u}", v);
            }
            snprintf(sub, sizeof sub, "%s.u", path);
            if (!mapfind(v, "u", &u)) {
                snprintf(err, errlen, "%s is missing (required)", sub);
                return -1;
            }
            if (setfield(S, r, &uf, sub, u, err, errlen) != 0) {
                return -1;
            }
            if (mapfind(v, "action_schema", &sch)) {
                Field sf = {"action_schema", G_TOP, F_STR, offsetof(plan_Request, safe_schema), 0,
                            0, PLAN_SCHEMA_MAX, 0};
                snprintf(sub, sizeof sub, "%s.action_schema", path);
                return setfield(S, r, &sf, sub, sch, err, errlen);
            }
            return 0;
        }
        case F_BOUNDS: {
            int rows = 0;
            lisp_Value row;
            if (v.tag != LISP_TCONS && v.tag != LISP_TVEC) {
                return badfield(S, err, errlen, path, "a list of (lo hi) rows", v);
            }
            for (;;) {
                double lh[2];
                if (v.tag == LISP_TVEC) {
                    if (rows >= lisp_veclen(v)) {
                        break;
                    }
                    row = lisp_vecitems(v)[rows];
                } else {
                    if (v.tag != LISP_TCONS) {
                        break;
                    }
                    row = lisp_car(v);
                    v = lisp_cdr(v);
                }
                if (rows >= MCTS_MAX_ACTION) {
                    snprintf(what, sizeof what, "at most %d rows", MCTS_MAX_ACTION);
                    return badfield(S, err, errlen, path, what, row);
                }
                if (numlist(row, lh, 2) != 2 || !isfinite(lh[0]) || !isfinite(lh[1]) ||
                    lh[0] > lh[1]) {
                    snprintf(what, sizeof what, "rows (lo hi) of finite numbers with lo <= hi "
                             "(row %d)", rows + 1);
                    return badfield(S, err, errlen, path, what, row);
                }
                r->lo[rows] = lh[0];
                r->hi[rows] = lh[1];
                rows++;
            }
            r->nbounds = rows;
            return 0;
        }
        case F_ROLLOUT:
            s = textof(v, &n);
            if (s != NULL && texteq(s, n, "random")) {
                r->mcts.rollout_policy = MCTS_ROLLOUT_RANDOM;
            } else if (s != NULL && texteq(s, n, "heuristic")) {
                r->mcts.rollout_policy = MCTS_ROLLOUT_HEURISTIC;
            } else if (s != NULL && texteq(s, n, "model_default")) {
                r->mcts.rollout_policy = MCTS_ROLLOUT_MODEL;
            } else {
                return badfield(S, err, errlen, path, "one of model_default, random, heuristic", v);
            }
            return 0;
        case F_SAMPLER:
            s = textof(v, &n);
            if (s != NULL && (texteq(s, n, "uniform") || texteq(s, n, "model_default"))) {
                r->mcts.action_sampler = MCTS_SAMPLER_UNIFORM;
            } else if (s != NULL && texteq(s, n, "gaussian")) {
                r->mcts.action_sampler = MCTS_SAMPLER_GAUSSIAN;
            } else {
                return badfield(S, err, errlen, path, "one of model_default, uniform, gaussian", v);
            }
            return 0;
        case F_DERIV:
            s = textof(v, &n);
            if (s != NULL && texteq(s, n, "analytic")) {
                r->ilqr.derivatives = PLAN_ANALYTIC;
            } else if (s != NULL && texteq(s, n, "finite_diff")) {
                r->ilqr.derivatives = PLAN_FINITE_DIFF;
            } else {
                return badfield(S, err, errlen, path, "analytic or finite_diff", v);
            }
            return 0;
        default:
            return badfield(S, err, errlen, path, "a map", v);
    }
}

/* Find string/symbol/keyword key 'name' in map 'm'. */
static int mapfind(lisp_Value m, const char *name, lisp_Value *out) {
    int64_t it = 0;
    lisp_Value k, v;
    while (lisp_mapnext(m, &it, &k, &v)) {
        size_t n;
        const char *s = textof(k, &n);
        if (s != NULL && texteq(s, n, name)) {
            *out = v;
            return 1;
        }
    }
    return 0;
}

/* Fill 'r' from map 'm' of group 'g'; 0 or -1 with 'err'.  'seen' gets a
** bit per top-level field found (index in 'fields'). */
static int parsegroup(lisp_State *S, plan_Request *r, lisp_Value m, int g, uint64_t *seen,
                      char *err, size_t errlen) {
    int64_t it = 0;
    lisp_Value k, v;
    while (lisp_mapnext(m, &it, &k, &v)) {
        size_t n;
        const char *s = textof(k, &n);
        const Field *f;
        char path[96];
        if (s == NULL) {
            return badfield(S, err, errlen, groupnames[g], "keyed by strings or symbols", k);
        }
        f = findfield(g, s, n);
        snprintf(path, sizeof path, "%s%.*s", groupnames[g], n > 40 ? 40 : (int)n, s);
        if (f == NULL) {
            snprintf(err, errlen, "%s is not a planner.request.v1 field", path);
            return -1;
        }
        if (g == G_TOP) {
            *seen |= UINT64_C(1) << (f - fields);
        }
        if (f->kind == F_GROUP) {
            if (v.tag != LISP_TMAP) {
                return badfield(S, err, errlen, path, "a map", v);
            }
            if (parsegroup(S, r, v, (int)f->aux, seen, err, errlen) != 0) {
                return -1;
            }
            continue;
        }
        if (setfield(S, r, f, path, v, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

/* The default seed of a request without one (the reference's rule: a hash
** of model, planner, budget and state), so equal requests replay. */
static uint64_t defaultseed(const plan_Request *r) {
    char buf[512];
    int n, i;
    n = snprintf(buf, sizeof buf, "%s|%s|%.17g", r->model_service, plan_backend_name(r->backend),
                 r->budget_ms);
    for (i = 0; i < r->state_len && n < (int)sizeof buf - 32; i++) {
        n += snprintf(buf + n, sizeof buf - (size_t)n, "|%.17g", r->state[i]);
    }
    return fnv1a(buf, (size_t)n) & SEED_MASK;
}

/* Parse a planner.request.v1 map; 0 or -1 with 'err' (without the
** "planner.plan: " prefix). */
static int parserequest(lisp_State *S, plan_Request *r, lisp_Value m, char *err, size_t errlen) {
    static const char *const required[] = {"schema_version", "planner", "model_service", "state",
                                           "budget_ms"};
    uint64_t seen = 0;
    size_t i;
    plan_request_defaults(r);
    strcpy(r->run_id, "lisp");
    strcpy(r->node_name, "planner.plan");
    if (m.tag != LISP_TMAP) {
        return badfield(S, err, errlen, "request", "a map", m);
    }
    if (parsegroup(S, r, m, G_TOP, &seen, err, errlen) != 0) {
        return -1;
    }
    for (i = 0; i < sizeof required / sizeof required[0]; i++) {
        const Field *f = findfield(G_TOP, required[i], strlen(required[i]));
        if (!(seen & (UINT64_C(1) << (f - fields)))) {
            snprintf(err, errlen, "missing required %s", required[i]);
            return -1;
        }
    }
    if (!(seen & (UINT64_C(1) << (findfield(G_TOP, "seed", 4) - fields)))) {
        r->seed = defaultseed(r);
    }
    if (r->action_schema[0] == '\0' && r->safe_schema[0] != '\0') {
        memcpy(r->action_schema, r->safe_schema, sizeof r->action_schema);
    }
    return 0;
}

/* ---- planner.result.v1 as Lisp data ---- */

/* m[sym] = v ('v' already pushed by its constructor, or an immediate). */
static void symset(lisp_State *S, lisp_Value m, const char *key, lisp_Value v) {
    int top = lisp_gettop(S);
    lisp_push(S, v);
    lisp_mapset(S, m, lisp_cintern(S, key), v);
    lisp_settop(S, top);
}

static lisp_Value numlistv(lisp_State *S, const double *x, int n) {
    lisp_Value l;
    int i, base;
    lisp_push(S, lisp_nil());
    base = lisp_gettop(S) - 1;
    for (i = n - 1; i >= 0; i--) {
        l = lisp_cons(S, lisp_float(x[i]), *lisp_at(S, base));
        *lisp_at(S, base) = l;
        lisp_settop(S, base + 1);
    }
    return *lisp_at(S, base);
}

static lisp_Value actionmap(lisp_State *S, const char *schema, const double *u, int n) {
    lisp_Value m = lisp_map(S, 2);
    symset(S, m, "action_schema", lisp_cstring(S, schema));
    symset(S, m, "u", numlistv(S, u, n));
    return m;
}

static const char *const statussyms[] = {":ok", ":timeout", ":noaction", ":error"};

/* A budget as the reference prints it: an integer when integral. */
static lisp_Value msval(double ms) {
    return ms == floor(ms) && fabs(ms) < 9e15 ? lisp_int((int64_t)ms) : lisp_float(ms);
}

static lisp_Value planresult(lisp_State *S, const plan_Result *r) {
    lisp_Value m = lisp_map(S, 10), st, tr;
    int base = lisp_gettop(S), i;
    symset(S, m, "schema_version", lisp_cstring(S, "planner.result.v1"));
    symset(S, m, "planner", lisp_cstring(S, plan_backend_name(r->backend)));
    symset(S, m, "status", lisp_cintern(S, statussyms[r->status & 3]));
    symset(S, m, "action", actionmap(S, r->action_schema, r->u, r->adim));
    symset(S, m, "confidence", lisp_float(r->confidence));
    st = lisp_map(S, 6);
    symset(S, st, "budget_ms", msval(r->budget_ms));
    symset(S, st, "time_used_ms", lisp_float(r->time_used_ms));
    symset(S, st, "work_done", lisp_int(r->work_done));
    symset(S, st, "seed", lisp_int((int64_t)(r->seed & INT64_MAX)));
    if (r->overrun) {
        symset(S, st, "overrun", lisp_bool(1));
    }
    if (r->note[0]) {
        symset(S, st, "note", lisp_cstring(S, r->note));
    }
    symset(S, m, "stats", st);
    lisp_settop(S, base);
    if (r->has_trace) {
        lisp_Value top;
        tr = lisp_map(S, 6);
        if (r->backend == PLAN_MCTS) {
            symset(S, tr, "root_visits", lisp_int(r->root_visits));
            symset(S, tr, "root_children", lisp_int(r->root_children));
            symset(S, tr, "widen_added", lisp_int(r->widen_added));
        } else if (r->backend == PLAN_MPPI) {
            symset(S, tr, "n_samples", lisp_int(r->work_done));
            symset(S, tr, "horizon", lisp_int(r->horizon));
        } else {
            symset(S, tr, "iters", lisp_int(r->work_done));
            symset(S, tr, "cost_init", lisp_float(r->cost_init));
            symset(S, tr, "cost_final", lisp_float(r->cost_final));
            symset(S, tr, "reg_final", lisp_float(r->reg_final));
        }
        if (r->backend != PLAN_ILQR) {
            int tb;
            lisp_push(S, lisp_nil()); /* a list, as the reference's, built from its end */
            tb = lisp_gettop(S);
            for (i = r->top_n - 1; i >= 0; i--) {
                lisp_Value e = lisp_map(S, 3);
                symset(S, e, "action", actionmap(S, r->action_schema, r->top[i].u, r->adim));
                if (r->backend == PLAN_MCTS) {
                    symset(S, e, "visits", lisp_int(r->top[i].visits));
                    symset(S, e, "q", lisp_float(r->top[i].q));
                } else {
                    symset(S, e, "weight", lisp_float(r->top[i].weight));
                    symset(S, e, "cost", lisp_float(r->top[i].cost));
                }
                top = lisp_cons(S, e, *lisp_at(S, tb - 1));
                *lisp_at(S, tb - 1) = top;
                lisp_settop(S, tb);
            }
            symset(S, tr, "top_k", *lisp_at(S, tb - 1));
        }
        symset(S, m, "trace", tr);
        lisp_settop(S, base);
    }
    if (r->error[0]) {
        symset(S, m, "error", lisp_cstring(S, r->error));
    }
    lisp_settop(S, base);
    return m;
}

/* ---- Lisp and Lua models ---- */

typedef struct UCall {
    UModel *u;
    const double *s, *a;
    double *next, *reward;
    int sdim, term;
} UCall;

/* Call the pinned procedure 'pin' with the pushed arguments above 'fidx'. */
static void ucall(lisp_State *S, void *ud) {
    UCall *c = ud;
    UModel *u = c->u;
    int fidx = lisp_gettop(S), k;
    lisp_Value v;
    double xs[MCTS_MAX_STATE];
    lisp_push(S, lisp_pinned(S, u->pstep));
    numlistv(S, c->s, c->sdim);
    numlistv(S, c->a, u->m.action_dim);
    lisp_push(S, lisp_float(u->dt));
    v = lisp_call(S, fidx, 3);
    lisp_push(S, v);
    k = numlist(v, xs, MCTS_MAX_STATE);
    if (k != c->sdim) {
        char repr[128];
        lisp_error(S, "step must return %d state value%s (a number or a list), got %s", c->sdim,
                   c->sdim == 1 ? "" : "s", lisp_repr(S, v, repr, sizeof repr));
    }
    memcpy(c->next, xs, sizeof(double) * (size_t)k);
    lisp_settop(S, fidx);
    lisp_push(S, lisp_pinned(S, u->pcost));
    numlistv(S, c->s, c->sdim);
    numlistv(S, c->a, u->m.action_dim);
    numlistv(S, c->next, c->sdim);
    v = lisp_call(S, fidx, 3);
    if (!lisp_isnumber(v)) {
        char repr[128];
        lisp_error(S, "cost must return a number, got %s", lisp_repr(S, v, repr, sizeof repr));
    }
    *c->reward = -numval(v);
    c->term = 0;
    if (u->pdone >= 0) {
        lisp_push(S, lisp_pinned(S, u->pdone));
        numlistv(S, c->next, c->sdim);
        v = lisp_call(S, fidx, 1);
        c->term = lisp_istrue(v);
    }
    lisp_settop(S, fidx);
}

static int ustep(const mcts_Model *m, const double *s, const double *a, double *next,
                 double *reward) {
    UModel *u = m->ud;
    UCall c;
    c.u = u;
    c.s = s;
    c.a = a;
    c.next = next;
    c.reward = reward;
    c.sdim = m->state_dim;
    c.term = 0;
    if (lisp_pcall(u->S, ucall, &c) != LISP_OK) {
        snprintf(u->err, sizeof u->err, "model '%s': %s", u->name, lisp_errmsg(u->S));
        return -1;
    }
    return c.term;
}

static int uvalid(const mcts_Model *m, const double *s, int n, char *err, size_t errlen) {
    int i;
    for (i = 0; i < n; i++) {
        if (!isfinite(s[i])) {
            snprintf(err, errlen, "state: %s value %d must be finite", m->name, i + 1);
            return -1;
        }
    }
    return 0;
}

static const char *uerr(const mcts_Model *m) {
    return ((UModel *)m->ud)->err;
}

static void umodel_free(planner_Host *p, UModel *u, int unpin) {
    if (u == NULL) {
        return;
    }
    if (unpin) {
        lisp_unpin(u->S, u->pstep);
        lisp_unpin(u->S, u->pcost);
        if (u->pdone >= 0) {
            lisp_unpin(u->S, u->pdone);
        }
    }
    mem_free(p->M, u, sizeof(UModel));
}

static int isproc(lisp_Value v) {
    const char *t = lisp_typename(v);
    return strcmp(t, "closure") == 0 || strcmp(t, "primitive") == 0;
}

/* ---- planner.plan and model registration ---- */

/* The model named 'name' (NULL if none) and, when it was registered from
** Lisp or Lua, its UModel in *um (else NULL).  Name comparisons: callers
** on a tick path cache the answer until p->mgen changes. */
static const mcts_Model *findmodel(planner_Host *p, const char *name, UModel **um) {
    const mcts_Model *m = plan_model(p->plan, name);
    int i;
    *um = NULL;
    for (i = 0; m != NULL && i < PLAN_MODELS_MAX; i++) {
        if (p->um[i] != NULL && &p->um[i]->m == m) {
            *um = p->um[i];
        }
    }
    return m;
}

/* The planner call of planner.plan and plan-action with model 'm' (NULL:
** unknown, the backend reports it) and its UModel 'u' (NULL for C
** models): the busy guard around plan_run (a model may not call the
** planner), one retry after a collection when the buffers could not
** grow. */
static void runplan_v1(lisp_State *S, const plan_Request *req, plan_Result *res, const char *fname,
                       int32_t node, const mcts_Model *m, UModel *u) {
    planner_Host *p = PH(S);
    int tried = 0;
    if (u != NULL) { /* the dt a Lisp/Lua model is given */
        u->dt = req->dt_ms > 0 ? (double)req->dt_ms / 1000.0 : u->dt_default;
    }
    if (p->begin != NULL) {
        p->begin(p->hookud, plan_backend_name(req->backend), req->budget_ms, req->node_name,
                 req->tick_index, node);
    }
    p->busy = 1;
    while (plan_run(p->plan, m, req, res), res->nomem) {
        p->busy = 0;
        lisp_memretry(S, fname, &tried); /* raises the second time */
        p->busy = 1;
    }
    p->busy = 0;
}

static void checknotbusy(lisp_State *S, const char *fname) {
    if (PH(S)->busy) {
        lisp_error(S, "%s: called from inside a planner model", fname);
    }
}

static lisp_Value cfun_planner_plan(lisp_State *S, int argc, lisp_Value *argv) {
    plan_Request req;
    plan_Result res;
    char err[MCTS_ERR_MAX];
    (void)argc;
    checknotbusy(S, "planner.plan");
    if (parserequest(S, &req, argv[0], err, sizeof err) != 0) {
        memset(&res, 0, sizeof res);
        res.status = MCTS_ERROR;
        res.backend = req.backend;
        res.seed = req.seed;
        res.budget_ms = req.budget_ms;
        snprintf(res.action_schema, sizeof res.action_schema, "action.u.v1");
        snprintf(res.error, sizeof res.error, "%s", err);
        planrecord(S, &req, &res, -1, -1);
        lisp_error(S, "planner.plan: %s", err);
    }
    {
        UModel *u;
        const mcts_Model *m = findmodel(PH(S), req.model_service, &u);
        runplan_v1(S, &req, &res, "planner.plan", -1, m, u);
    }
    planrecord(S, &req, &res, req.tick_index, -1);
    return planresult(S, &res);
}

/* (planner.register-model name spec): spec keys step, cost (required),
** done, bounds (required), state_dim, horizon, dt_ms. */
static lisp_Value cfun_planner_register(lisp_State *S, int argc, lisp_Value *argv) {
    planner_Host *p = PH(S);
    size_t n;
    const char *name = lisp_checkname(S, argv, 0, &n);
    lisp_Value spec = argv[1], v;
    UModel *u;
    double rows[2];
    int i, slot = -1;
    char err[MCTS_ERR_MAX];
    (void)argc;
    checknotbusy(S, "planner.register-model");
    if (n >= MCTS_MODEL_NAME_MAX) {
        lisp_argerror(S, argv, 0, "expected a model name of at most 31 bytes");
    }
    if (plan_builtin_find(name) != NULL) {
        lisp_error(S, "planner.register-model: '%s' is a built-in model", name);
    }
    if (spec.tag != LISP_TMAP) {
        lisp_argerror(S, argv, 1, "expected a model spec map {step, cost, bounds, ...}");
    }
    {   /* every key known */
        int64_t it = 0;
        lisp_Value k, x;
        static const char *const known[] = {"step", "cost", "done", "bounds", "state_dim",
                                            "horizon", "dt_ms"};
        while (lisp_mapnext(spec, &it, &k, &x)) {
            size_t kn;
            const char *ks = textof(k, &kn);
            int ok = 0;
            for (i = 0; ks != NULL && i < 7; i++) {
                ok |= texteq(ks, kn, known[i]);
            }
            if (!ok) {
                char repr[128];
                lisp_error(S, "planner.register-model: spec.%s is not a model field (step, cost, "
                           "done, bounds, state_dim, horizon, dt_ms)",
                           ks ? ks : lisp_repr(S, k, repr, sizeof repr));
            }
        }
    }
    if (!mapfind(spec, "step", &v) || !isproc(v)) {
        lisp_error(S, "planner.register-model: spec.step must be a function (state, u, dt) -> "
                   "next state");
    }
    if (!mapfind(spec, "cost", &v) || !isproc(v)) {
        lisp_error(S, "planner.register-model: spec.cost must be a function (state, u, next) -> "
                   "number");
    }
    if (mapfind(spec, "done", &v) && !isproc(v)) {
        lisp_error(S, "planner.register-model: spec.done must be a function (state) -> boolean");
    }
    u = mem_calloc(p->M, sizeof(UModel));
    if (u == NULL) {
        lisp_nomem(S, "planner.register-model");
    }
    memcpy(u->name, name, n);
    u->S = S;
    u->pstep = u->pcost = u->pdone = -1;
    u->dt_default = 0.1;
    u->m.name = u->name;
    u->m.doc = "registered model";
    u->m.step = ustep;
    u->m.valid_state = uvalid;
    u->m.errmsg = uerr;
    u->m.ud = u;
    /* bounds: required, one row per action dimension */
    if (!mapfind(spec, "bounds", &v) || (v.tag != LISP_TCONS && v.tag != LISP_TVEC)) {
        mem_free(p->M, u, sizeof(UModel));
        lisp_error(S, "planner.register-model: spec.bounds must be a list of 1..%d (lo hi) rows",
                   MCTS_MAX_ACTION);
    }
    for (i = 0;; i++) {
        lisp_Value row;
        if (v.tag == LISP_TVEC ? i >= lisp_veclen(v) : v.tag != LISP_TCONS) {
            break;
        }
        row = v.tag == LISP_TVEC ? lisp_vecitems(v)[i] : lisp_car(v);
        if (v.tag == LISP_TCONS) {
            v = lisp_cdr(v);
        }
        if (i >= MCTS_MAX_ACTION || numlist(row, rows, 2) != 2 || !isfinite(rows[0]) ||
            !isfinite(rows[1]) || rows[0] > rows[1]) {
            mem_free(p->M, u, sizeof(UModel));
            lisp_error(S, "planner.register-model: spec.bounds must be a list of 1..%d (lo hi) "
                       "rows of finite numbers with lo <= hi (row %d)", MCTS_MAX_ACTION, i + 1);
        }
        u->m.action_lo[i] = rows[0];
        u->m.action_hi[i] = rows[1];
    }
    u->m.action_dim = i;
    if (i == 0) {
        mem_free(p->M, u, sizeof(UModel));
        lisp_error(S, "planner.register-model: spec.bounds must be a list of 1..%d (lo hi) rows",
                   MCTS_MAX_ACTION);
    }
    {
        static const char *const ints[3] = {"state_dim", "horizon", "dt_ms"};
        static const int64_t his[3] = {MCTS_MAX_STATE, PLAN_HORIZON_LIMIT, 86400000};
        for (i = 0; i < 3; i++) {
            int64_t x;
            if (mapfind(spec, ints[i], &v)) {
                if (!lisp_tointrange(v, LISP_INTONLY, 0, his[i], &x)) {
                    char repr[128];
                    mem_free(p->M, u, sizeof(UModel));
                    lisp_error(S, "planner.register-model: spec.%s must be an integer in [0, %lld], "
                               "got %s", ints[i], (long long)his[i],
                               lisp_repr(S, v, repr, sizeof repr));
                }
                if (i == 0) {
                    u->m.state_dim = (int)x;
                } else if (i == 1) {
                    u->m.horizon = (int)x;
                } else if (x > 0) {
                    u->dt_default = (double)x / 1000.0;
                }
            }
        }
    }
    mapfind(spec, "step", &v);
    u->pstep = lisp_pin(S, v);
    mapfind(spec, "cost", &v);
    u->pcost = lisp_pin(S, v);
    if (mapfind(spec, "done", &v)) {
        u->pdone = lisp_pin(S, v);
    }
    if (u->pstep < 0 || u->pcost < 0 || (u->pdone < 0 && mapfind(spec, "done", &v))) {
        umodel_free(p, u, 0);
        lisp_nomem(S, "planner.register-model");
    }
    if (plan_register(p->plan, &u->m, err, sizeof err) != 0) {
        umodel_free(p, u, 1);
        lisp_error(S, "planner.register-model: %s", err);
    }
    for (i = 0; i < PLAN_MODELS_MAX; i++) {
        if (p->um[i] != NULL && strcmp(p->um[i]->name, name) == 0) {
            umodel_free(p, p->um[i], 1); /* replaced */
            p->um[i] = NULL;
        }
        if (slot < 0 && p->um[i] == NULL) {
            slot = i;
        }
    }
    p->um[slot] = u; /* plan_register capped the count at PLAN_MODELS_MAX */
    p->mgen++;
    return lisp_cstring(S, u->name);
}

static lisp_Value cfun_planner_unregister(lisp_State *S, int argc, lisp_Value *argv) {
    planner_Host *p = PH(S);
    size_t n;
    const char *name = lisp_checkname(S, argv, 0, &n);
    int i, found;
    (void)argc;
    checknotbusy(S, "planner.unregister-model");
    found = plan_unregister(p->plan, name);
    p->mgen++;
    for (i = 0; i < PLAN_MODELS_MAX; i++) {
        if (p->um[i] != NULL && strcmp(p->um[i]->name, name) == 0) {
            umodel_free(p, p->um[i], 1);
            p->um[i] = NULL;
        }
    }
    return lisp_bool(found);
}

static lisp_Value cfun_planner_models(lisp_State *S, int argc, lisp_Value *argv) {
    planner_Host *p = PH(S);
    lisp_Value v = lisp_vec(S, 8);
    int base = lisp_gettop(S), i;
    const mcts_Model *m;
    (void)argc;
    (void)argv;
    for (i = 0; (m = plan_builtin_at(i)) != NULL; i++) {
        lisp_vecpush(S, v, lisp_cstring(S, m->name));
        lisp_settop(S, base);
    }
    for (i = 0; (m = plan_registered_at(p->plan, i)) != NULL; i++) {
        lisp_vecpush(S, v, lisp_cstring(S, m->name));
        lisp_settop(S, base);
    }
    return v;
}

/* ---- builtins ---- */

/* A call that fails validation still appends a record (status error). */
LISPBT_NORETURN static void badrequest(lisp_State *S, const mcts_Request *req, const char *err) {
    mcts_Result bad;
    memset(&bad, 0, sizeof bad);
    bad.status = MCTS_ERROR;
    bad.seed = req->seed;
    snprintf(bad.error, sizeof bad.error, "%s", err);
    record(S, req, &bad, -1, -1);
    lisp_error(S, "planner.mcts: %s", err);
}

static lisp_Value cfun_planner_mcts(lisp_State *S, int argc, lisp_Value *argv) {
    mcts_Request req;
    mcts_Result res;
    char err[MCTS_ERR_MAX];
    int64_t it = 0;
    lisp_Value k, v;
    (void)argc;
    checknotbusy(S, "planner.mcts");
    if (argv[0].tag != LISP_TMAP && argv[0].tag != LISP_TNIL) { /* nil: {} from Lua */
        lisp_argerror(S, argv, 0, "expected a request map");
    }
    mcts_request_defaults(&req);
    while (argv[0].tag == LISP_TMAP && lisp_mapnext(argv[0], &it, &k, &v)) {
        size_t n;
        const char *name = keyname(k, &n);
        char key[64];
        int idx;
        if (name == NULL || n >= sizeof key) {
            badrequest(S, &req, "request keys must be strings or symbols");
        }
        memcpy(key, name, n);
        key[n] = '\0';
        idx = mcts_request_key_index(key);
        if (idx < 0) {
            snprintf(err, sizeof err, "unknown key '%s'", key);
            badrequest(S, &req, err);
        }
        if (setkey(&req, idx, v, err, sizeof err) != 0) {
            badrequest(S, &req, err);
        }
    }
    if (mcts_request_check(&req, err, sizeof err) != 0) {
        badrequest(S, &req, err);
    }
    {
        int tried = 0;
        while (mcts_run(plan_mcts(PH(S)->plan), &req, &res), res.nomem) {
            lisp_memretry(S, "planner.mcts", &tried); /* raises the second time */
        }
    }
    record(S, &req, &res, -1, -1);
    return resultmap(S, &res);
}

static lisp_Value cfun_planner_setseed(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    PH(S)->base_seed = (uint64_t)lisp_checkint(S, argv, 0); /* any int64: no range */
    return lisp_nil();
}

static lisp_Value cfun_planner_getseed(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    (void)argv;
    return lisp_int((int64_t)PH(S)->base_seed);
}

static lisp_Value cfun_planner_setpath(lisp_State *S, int argc, lisp_Value *argv) {
    const char *path = lisp_checkpath(S, argv, 0);
    (void)argc;
    if (strlen(path) >= PRECORD_PATH_MAX) {
        lisp_argerror(S, argv, 0, "expected a shorter path");
    }
    if (precord_sink_set_path(&PH(S)->sink, path) != 0) {
        lisp_error(S, "planner.set-log-path: %s", precord_sink_last_error(&PH(S)->sink));
    }
    return lisp_nil();
}

static lisp_Value cfun_planner_setenabled(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    if (argv[0].tag != LISP_TBOOL) {
        lisp_argerror(S, argv, 0, "expected a boolean");
    }
    precord_sink_set_enabled(&PH(S)->sink, argv[0].u.b);
    return lisp_nil();
}

static int countarg(lisp_State *S, int argc, lisp_Value *argv, int def) {
    if (argc == 0 || argv[0].tag == LISP_TNIL) {
        return def;
    }
    {
        int64_t n = lisp_checkintrange(S, argv, 0, "N", LISP_INTONLY, 0, INT64_MAX);
        return n > 1 << 30 ? 1 << 30 : (int)n; /* more than the ring holds: all */
    }
}

static lisp_Value cfun_planner_dump(lisp_State *S, int argc, lisp_Value *argv) {
    int n = countarg(S, argc, argv, 200);
    precord_dump(&PH(S)->ring, n, lisp_scratch(S)); /* out of memory: raised below */
    return lisp_scratchstring(S);
}

static lisp_Value cfun_planner_snapshot(lisp_State *S, int argc, lisp_Value *argv) {
    precord_Ring *R = &PH(S)->ring;
    int count = precord_count(R), n = countarg(S, argc, argv, 200), i, base;
    lisp_Value v;
    if (n > count) {
        n = count;
    }
    v = lisp_vec(S, n);
    base = lisp_gettop(S);
    for (i = count - n; i < count; i++) {
        lisp_vecpush(S, v, recordmap(S, precord_get(R, i)));
        lisp_settop(S, base);
    }
    return v;
}

static lisp_Value cfun_planner_clear(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    (void)argv;
    precord_clear(&PH(S)->ring);
    return lisp_nil();
}

#define RT LISP_FRUNTIME
const lisp_Reg planner_lib[] = {
    {"planner.plan", 1, 1, cfun_planner_plan, RT,
     "(planner.plan request-map) -> planner.result.v1 map"},
    {"planner.register-model", 2, 2, cfun_planner_register, RT,
     "(planner.register-model name spec) -> name"},
    {"planner.unregister-model", 1, 1, cfun_planner_unregister, RT,
     "(planner.unregister-model name) -> bool"},
    {"planner.models", 0, 0, cfun_planner_models, RT, "(planner.models) -> vec of model names"},
    {"planner.mcts", 1, 1, cfun_planner_mcts, RT, "(planner.mcts request-map) -> result map"},
    {"planner.set-base-seed", 1, 1, cfun_planner_setseed, RT, "(planner.set-base-seed n) -> nil"},
    {"planner.get-base-seed", 0, 0, cfun_planner_getseed, RT, "(planner.get-base-seed) -> n"},
    {"planner.set-log-path", 1, 1, cfun_planner_setpath, RT, "(planner.set-log-path path) -> nil"},
    {"planner.set-log-enabled", 1, 1, cfun_planner_setenabled, RT,
     "(planner.set-log-enabled b) -> nil"},
    {"planner.logs.dump", 0, 1, cfun_planner_dump, RT, "(planner.logs.dump [n]) -> JSON lines"},
    {"planner.logs.snapshot", 0, 1, cfun_planner_snapshot, RT,
     "(planner.logs.snapshot [n]) -> vec of record maps"},
    {"planner.clear-logs", 0, 0, cfun_planner_clear, RT, "(planner.clear-logs) -> nil"},
    {NULL, 0, 0, NULL, 0, NULL}};

/* ---- the plan-action leaf ---- */

/* plan-action options: blackboard keys (PK_*) or one request field. */
enum { PK_STATE_KEY, PK_ACTION_KEY, PK_META_KEY, PK_SEED_KEY, PK_SAFE_KEY, PK_SIGMA_KEY,
       PK_MAXDU_KEY, PK_NAME, PK_SAFE, PK_N, PK_FIELD = -1 };

typedef struct LeafOpt {
    const char *key;     /* without the ':' */
    int pk;              /* PK_* or PK_FIELD */
    int group;           /* G_* of 'field' */
    const char *field;   /* the request field it sets */
} LeafOpt;

static const LeafOpt leafopts[] = {
    {"name", PK_NAME, 0, NULL}, {"node_name", PK_NAME, 0, NULL},
    {"state_key", PK_STATE_KEY, 0, NULL}, {"action_key", PK_ACTION_KEY, 0, NULL},
    {"meta_key", PK_META_KEY, 0, NULL}, {"seed_key", PK_SEED_KEY, 0, NULL},
    {"safe_action_key", PK_SAFE_KEY, 0, NULL}, {"sigma_key", PK_SIGMA_KEY, 0, NULL},
    {"max_du_key", PK_MAXDU_KEY, 0, NULL}, {"safe_action", PK_SAFE, 0, NULL},
    {"fallback_action", PK_SAFE, 0, NULL},
    {"planner", PK_FIELD, G_TOP, "planner"}, {"budget_ms", PK_FIELD, G_TOP, "budget_ms"},
    {"work_max", PK_FIELD, G_TOP, "work_max"}, {"iters_max", PK_FIELD, G_TOP, "work_max"},
    {"horizon", PK_FIELD, G_TOP, "horizon"}, {"dt_ms", PK_FIELD, G_TOP, "dt_ms"},
    {"model_service", PK_FIELD, G_TOP, "model_service"},
    {"action_schema", PK_FIELD, G_TOP, "action_schema"}, {"top_k", PK_FIELD, G_TOP, "top_k"},
    {"run_id", PK_FIELD, G_TOP, "run_id"},
    {"gamma", PK_FIELD, G_MCTS, "gamma"}, {"max_depth", PK_FIELD, G_MCTS, "max_depth"},
    {"c_ucb", PK_FIELD, G_MCTS, "c_ucb"}, {"pw_k", PK_FIELD, G_MCTS, "pw_k"},
    {"pw_alpha", PK_FIELD, G_MCTS, "pw_alpha"},
    {"rollout_policy", PK_FIELD, G_MCTS, "rollout_policy"},
    {"action_sampler", PK_FIELD, G_MCTS, "action_sampler"},
    {"lambda", PK_FIELD, G_MPPI, "lambda"}, {"sigma", PK_FIELD, G_MPPI, "sigma"},
    {"n_samples", PK_FIELD, G_MPPI, "n_samples"}, {"n_elite", PK_FIELD, G_MPPI, "n_elite"},
    {"max_iters", PK_FIELD, G_ILQR, "max_iters"}, {"reg_init", PK_FIELD, G_ILQR, "reg_init"},
    {"reg_factor", PK_FIELD, G_ILQR, "reg_factor"}, {"tol_cost", PK_FIELD, G_ILQR, "tol_cost"},
    {"tol_grad", PK_FIELD, G_ILQR, "tol_grad"}, {"fd_eps", PK_FIELD, G_ILQR, "fd_eps"},
    {"derivatives", PK_FIELD, G_ILQR, "derivatives"},
    {"max_du", PK_FIELD, G_CONS, "max_du"},
    {"smoothness_weight", PK_FIELD, G_CONS, "smoothness_weight"},
    {"collision_weight", PK_FIELD, G_CONS, "collision_weight"},
    {"goal_tolerance", PK_FIELD, G_CONS, "goal_tolerance"},
    {NULL, 0, 0, NULL}};

/* The seed field (:seed_key's value), as in 'fields'. */
static const Field seedfield = {"seed", G_TOP, F_SEED, offsetof(plan_Request, seed), 0, 0, 0, 0};

static const Field safefield = {"safe_action", G_TOP, F_VEC, offsetof(plan_Request, safe_u),
                                offsetof(plan_Request, safe_len), 1, MCTS_MAX_ACTION, FL_FINITE};

static const LeafOpt *leafopt(lisp_Value k) {
    size_t n;
    const char *s = textof(k, &n);
    const LeafOpt *o;
    for (o = leafopts; s != NULL && o->key; o++) {
        if (texteq(s, n, o->key)) {
            return o;
        }
    }
    return NULL;
}

/* Apply option 'o' = 'v' to 'r' (a name or a request field); 0 or -1 with
** 'err' ("plan-action: :lambda must be ..."). */
static int applyopt(lisp_State *S, plan_Request *r, const LeafOpt *o, lisp_Value v, char *err,
                    size_t errlen) {
    char path[64];
    snprintf(path, sizeof path, "plan-action: :%s", o->key);
    if (o->pk == PK_FIELD) {
        return setfield(S, r, findfield(o->group, o->field, strlen(o->field)), path, v, err,
                        errlen);
    }
    if (o->pk == PK_SAFE) {
        return setfield(S, r, &safefield, path, v, err, errlen);
    }
    if (o->pk == PK_NAME) {
        Field nf = {"node_name", G_TOP, F_STR, offsetof(plan_Request, node_name), 0, 0,
                    MCTS_NAME_MAX, 0};
        return setfield(S, r, &nf, path, v, err, errlen);
    }
    if (textof(v, NULL) == NULL) { /* a blackboard key */
        return badfield(S, err, errlen, path, "a blackboard key (a symbol or string)", v);
    }
    return 0;
}

/* Check hook of plan-action: validate its ':key value ...' arguments. */
static void checkplan(lisp_State *S, const bt_Leaf *l, lisp_Value plist) {
    plan_Request r;
    char err[MCTS_ERR_MAX];
    int64_t len = lisp_listlen(plist);
    (void)l;
    if (len < 0 || len % 2 != 0) {
        lisp_error(S, "bt.compile: plan-action: expected :key value pairs");
    }
    plan_request_defaults(&r);
    for (; plist.tag == LISP_TCONS; plist = lisp_cdr(lisp_cdr(plist))) {
        lisp_Value k = lisp_car(plist), v = lisp_car(lisp_cdr(plist));
        const LeafOpt *o = leafopt(k);
        if (o == NULL) {
            char repr[128];
            lisp_error(S, "bt.compile: plan-action: unknown option: %s",
                       lisp_repr(S, k, repr, sizeof repr));
        }
        if (applyopt(S, &r, o, v, err, sizeof err) != 0) {
            lisp_error(S, "bt.compile: %s", err);
        }
    }
}

/* A plan-action call that cannot plan still appends a record (status
** error), then fails the node with 'err'. */
LISPBT_NORETURN static void planfail(lisp_State *S, const plan_Request *req, const char *err,
                                     int64_t tick, int32_t node) {
    plan_Result bad;
    memset(&bad, 0, sizeof bad);
    bad.status = MCTS_ERROR;
    bad.backend = req->backend;
    bad.seed = req->seed;
    bad.budget_ms = req->budget_ms;
    bad.adim = req->safe_len;
    memcpy(bad.u, req->safe_u, sizeof bad.u);
    snprintf(bad.action_schema, sizeof bad.action_schema, "%s",
             req->action_schema[0] ? req->action_schema : "action.u.v1");
    snprintf(bad.error, sizeof bad.error, "%s", err);
    planrecord(S, req, &bad, tick, node);
    lisp_error(S, "%s", err);
}

/* The per-node cache of plan-action: made at a node's first tick (per
** instance, found again through the node memory's 'arg'), it holds the
** node's options resolved once -- a request with every option applied,
** the blackboard keys of the key options, the model -- so that a tick
** reads the blackboard, runs the backend and writes the result, with no
** option parsing, name lookup or allocation of its own.  The drop hook
** frees it with the instance; planner_close frees what is left. */
typedef struct PlanNode {
    bt_Inst *I;               /* owner */
    int32_t node;
    int32_t key[PK_N];        /* blackboard key of each key option, -1: none */
    int32_t skey, akey;       /* state key (-1: "state" not a key yet), action key */
    uint64_t name_hash;       /* hash64 of req.node_name (the derived seed) */
    uint32_t mgen;            /* p->mgen when 'm' and 'um' were found */
    int resolved;             /* 0 until resolvenode finished (it may raise) */
    const mcts_Model *m;
    UModel *um;
    double safe_u[MCTS_MAX_ACTION], sigma[MCTS_MAX_ACTION], max_du[MCTS_MAX_ACTION];
    int safe_len, nsigma, n_max_du; /* the node's own values, restored each tick */
    plan_Request req;         /* per tick: state, seed, tick_index, blackboard values */
} PlanNode;

/* Resolve the options of node 'c' into 'n' (checked at compile time, so
** applyopt cannot fail here). */
static void resolvenode(lisp_State *S, bt_Ctx *c, PlanNode *n) {
    const lisp_Value *args = c->a->args;
    const int32_t *keys = c->a->keys;
    plan_Request *r = &n->req;
    char err[MCTS_ERR_MAX];
    int i;
    for (i = 0; i < PK_N; i++) {
        n->key[i] = -1;
    }
    plan_request_defaults(r);
    r->run_id[0] = '\0';
    snprintf(r->node_name, sizeof r->node_name, "plan-action-%d", (int)c->node);
    for (i = 0; i + 1 < c->a->nargs; i += 2) {
        const LeafOpt *o = leafopt(args[i]);
        if (o->pk >= 0 && o->pk != PK_NAME && o->pk != PK_SAFE) {
            n->key[o->pk] = keys[i + 1];
            continue;
        }
        applyopt(S, r, o, args[i + 1], err, sizeof err);
    }
    n->skey = n->key[PK_STATE_KEY] >= 0 ? n->key[PK_STATE_KEY] : bt_key_find(S, "state", 5);
    n->akey = n->key[PK_ACTION_KEY];
    if (n->akey < 0 && (n->akey = bt_key_find(S, "action", 6)) < 0) {
        n->akey = bt_key(S, lisp_cstring(S, "action"));
    }
    snprintf(r->state_key, sizeof r->state_key, "%s",
             n->skey >= 0 ? bt_key_name(S, n->skey) : "state");
    memcpy(n->safe_u, r->safe_u, sizeof n->safe_u);
    memcpy(n->sigma, r->mppi.sigma, sizeof n->sigma);
    memcpy(n->max_du, r->max_du, sizeof n->max_du);
    n->safe_len = r->safe_len;
    n->nsigma = r->mppi.nsigma;
    n->n_max_du = r->n_max_du;
    n->name_hash = hash64(r->node_name, strlen(r->node_name));
    r->warm_key = (fnv1a(r->node_name, strlen(r->node_name)) ^
                   ((uint64_t)(uintptr_t)c->I * UINT64_C(0x9e3779b97f4a7c15)) ^
                   (uint64_t)c->node) | 1u;
    n->mgen = PH(S)->mgen - 1u; /* the model is looked up at the first call */
    n->resolved = 1;
}

/* The cache of node 'c': through the node memory's 'arg' (slot + 1), else
** a search (after a reset or halt cleared it), else a new one. */
static PlanNode *plannode(lisp_State *S, bt_Ctx *c) {
    planner_Host *p = PH(S);
    bt_NodeMem *nm = bt_inst_mem(c->I, c->node);
    PlanNode *n;
    int64_t h = nm->arg - 1;
    int i, free = -1;
    if (h >= 0 && h < p->npn && (n = p->pn[h]) != NULL && n->I == c->I && n->node == c->node &&
        n->resolved) {
        return n;
    }
    for (i = 0; i < p->npn; i++) {
        n = p->pn[i];
        if (n != NULL && n->I == c->I && n->node == c->node) {
            nm->arg = i + 1;
            if (!n->resolved) {
                resolvenode(S, c, n);
            }
            return n;
        }
        if (n == NULL && free < 0) {
            free = i;
        }
    }
    if (free < 0) {
        int cap = p->npn > 0 ? 2 * p->npn : 4;
        PlanNode **v = mem_realloc(p->M, p->pn, sizeof(PlanNode *) * (size_t)p->npn,
                                   sizeof(PlanNode *) * (size_t)cap);
        if (v == NULL) {
            lisp_memerror(S);
        }
        memset(v + p->npn, 0, sizeof(PlanNode *) * (size_t)(cap - p->npn));
        free = p->npn;
        p->pn = v;
        p->npn = cap;
    }
    if ((n = mem_calloc(p->M, sizeof(PlanNode))) == NULL) {
        lisp_memerror(S);
    }
    n->I = c->I;
    n->node = c->node;
    p->pn[free] = n;
    nm->arg = free + 1;
    resolvenode(S, c, n);
    return n;
}

/* The caches of instances still alive when the planner state closes. */
static void plannodes_free(planner_Host *p) {
    int i;
    for (i = 0; i < p->npn; i++) {
        mem_free(p->M, p->pn[i], sizeof(PlanNode));
    }
    mem_free(p->M, p->pn, sizeof(PlanNode *) * (size_t)p->npn);
    p->pn = NULL;
    p->npn = 0;
}

/* Drop hook of plan-action: free the node's cache with its instance. */
static void dropplan(bt_Inst *I, int32_t node, const bt_Leaf *l) {
    planner_Host *p = planner_get(bt_inst_state(I));
    int i;
    (void)l;
    bt_inst_mem(I, node)->arg = 0;
    for (i = 0; p != NULL && i < p->npn; i++) {
        PlanNode *n = p->pn[i];
        if (n != NULL && n->I == I && n->node == node) {
            mem_free(p->M, n, sizeof(PlanNode));
            p->pn[i] = NULL;
        }
    }
}

typedef struct PlanCall {
    bt_Ctx *c;
    int st;
} PlanCall;

/* Numbers on the blackboard at key 'k' into 'out'; count, 0 when unset or
** no key, -1 when not numbers. */
static int bbnumbers(bt_Ctx *c, int k, double *out, int max) {
    lisp_Value v;
    if (k < 0 || !bt_bb_get(c->I, k, &v, c->node)) {
        return 0;
    }
    return numlist(v, out, max);
}

static void runplan(lisp_State *S, void *ud) {
    PlanCall *a = ud;
    bt_Ctx *c = a->c;
    bt_Inst *I = c->I;
    int32_t node = c->node;
    int64_t tick = c->tick;
    planner_Host *p = PH(S);
    PlanNode *n = plannode(S, c);
    plan_Request *req = &n->req;
    int ns, seeded = 0;
    plan_Result res;
    char err[MCTS_ERR_MAX];
    lisp_Value v;
    double xs[MCTS_MAX_STATE];
    req->tick_index = tick;
    /* the node's own safe action, sigma and max_du, unless the blackboard
    ** supplies them (below) */
    memcpy(req->safe_u, n->safe_u, sizeof n->safe_u);
    memcpy(req->mppi.sigma, n->sigma, sizeof n->sigma);
    memcpy(req->max_du, n->max_du, sizeof n->max_du);
    req->safe_len = n->safe_len;
    req->mppi.nsigma = n->nsigma;
    req->n_max_du = n->n_max_du;
    /* the state */
    if (n->skey < 0 && n->key[PK_STATE_KEY] < 0) { /* "state" may be a key by now */
        n->skey = bt_key_find(S, "state", 5);
    }
    if (n->skey < 0 || !bt_bb_get(I, n->skey, &v, node)) {
        snprintf(err, sizeof err, "missing state key: %s", req->state_key);
        planfail(S, req, err, tick, node);
    }
    ns = numlist(v, xs, MCTS_MAX_STATE);
    if (ns < 1) {
        snprintf(err, sizeof err, "state at key '%s' is not a number or a list "
                 "of 1..%d numbers", req->state_key, MCTS_MAX_STATE);
        planfail(S, req, err, tick, node);
    }
    memcpy(req->state, xs, sizeof(double) * (size_t)ns);
    req->state_len = ns;
    /* blackboard-supplied safe action, sigma, max_du (ignored when unset) */
    if ((ns = bbnumbers(c, n->key[PK_SAFE_KEY], xs, MCTS_MAX_ACTION)) > 0) {
        memcpy(req->safe_u, xs, sizeof(double) * (size_t)ns);
        req->safe_len = ns;
    }
    if ((ns = bbnumbers(c, n->key[PK_SIGMA_KEY], xs, MCTS_MAX_ACTION)) > 0) {
        memcpy(req->mppi.sigma, xs, sizeof(double) * (size_t)ns);
        req->mppi.nsigma = ns;
    }
    if ((ns = bbnumbers(c, n->key[PK_MAXDU_KEY], xs, MCTS_MAX_ACTION)) > 0) {
        memcpy(req->max_du, xs, sizeof(double) * (size_t)ns);
        req->n_max_du = ns;
    }
    /* the seed: from :seed_key if it holds one, else derived */
    if (n->key[PK_SEED_KEY] >= 0 && bt_bb_get(I, n->key[PK_SEED_KEY], &v, node)) {
        seeded = setfield(S, req, &seedfield, "plan-action: :seed_key", v, err, sizeof err) == 0;
    }
    if (!seeded) {
        req->seed = mcts_derive_seed_hash(p->base_seed, n->name_hash, req->tick_index);
    }
    if (n->mgen != p->mgen) {
        n->m = findmodel(p, req->model_service, &n->um);
        n->mgen = p->mgen;
    }
    runplan_v1(S, req, &res, "plan-action", node, n->m, n->um);
    planrecord(S, req, &res, tick, node);
    bt_node_addwork(I, node, res.work_done);
    if (res.adim == 0) {
        lisp_error(S, "planner returned empty action%s%s", res.error[0] ? ": " : "",
                   res.error);
    }
    {
        lisp_Value act = res.adim == 1 ? lisp_float(res.u[0]) : numvec(S, res.u, res.adim);
        if (bt_bb_put(I, n->akey, act, node, req->node_name) != 0) {
            lisp_memerror(S);
        }
    }
    if (n->key[PK_META_KEY] >= 0) {
        mcts_Record rec;
        lisp_Value meta;
        precord_from_plan(&rec, req, &res, lispbt_wall_ms());
        precord_json(&rec, lisp_scratch(S));
        meta = lisp_scratchstring(S);
        if (bt_bb_put(I, n->key[PK_META_KEY], meta, node, req->node_name) != 0) {
            lisp_memerror(S);
        }
    }
    if (res.status == MCTS_ERROR) {
        lisp_error(S, "planner status is not :ok: %s", res.error);
    }
    a->st = res.status == MCTS_OK ? BT_SUCCESS : BT_FAILURE;
}

/* The plan-action leaf.  Runs under its own protected call (it allocates
** Lisp values), so it never raises into the tick: an error fails the node
** through bt_leaf_error ("plan-action: ..." in the error event and log). */
static int leaf_plan(bt_Ctx *c, int64_t ud) {
    lisp_State *S = c->S;
    PlanCall a;
    int base = lisp_gettop(S), st;
    (void)ud;
    a.c = c;
    a.st = BT_FAILURE;
    st = lisp_pcall(S, runplan, &a) != LISP_OK ? bt_leaf_error(c, "%s", lisp_errmsg(S)) : a.st;
    lisp_settop(S, base);
    return st;
}

/* ---- apply-planned-1d ---- */

static int argkey(bt_Ctx *c, int i, int def) {
    return i < c->a->nargs ? c->a->keys[i] : def;
}

static int leaf_apply1d(bt_Ctx *c, int64_t ud) {
    lisp_State *S = c->S;
    const mcts_Model *m = mcts_model_find("toy-1d");
    int skey = argkey(c, 0, bt_key_find(S, "state", 5));
    int akey = argkey(c, 1, bt_key_find(S, "action", 6));
    int okey = argkey(c, 2, skey);
    double s[1], a[1], next[1], reward;
    (void)ud;
    if (!bt_bb_getnum(c->I, skey, c->node, &s[0])) {
        return bt_leaf_error(c, "no numeric state on the blackboard");
    }
    if (!bt_bb_getnum(c->I, akey, c->node, &a[0])) {
        return bt_leaf_error(c, "no numeric action on the blackboard");
    }
    if (okey < 0) {
        return bt_leaf_error(c, "bad output key");
    }
    mcts_model_clamp(m, a, a);
    m->step(m, s, a, next, &reward);
    if (bt_bb_put(c->I, okey, lisp_float(next[0]), c->node, c->a->leaf->cname) != 0) {
        return bt_leaf_error(c, "apply-planned-1d: out of memory");
    }
    return BT_SUCCESS;
}

static const bt_CLeaf leaves[] = {
    {"plan-action", BT_KACT, leaf_plan, NULL, dropplan, checkplan, 1},
    {"apply-planned-1d", BT_KACT, leaf_apply1d, NULL, NULL, NULL, 0},
    {NULL, 0, NULL, NULL, NULL, NULL, 0}};

static int openleaves(lisp_State *S) {
    return bt_reg_open(S, bt_reg(S), leaves);
}
