/*
** planner_lib.c -- the planner's state of a lisp_State and the planner.*
** builtins: planner.plan (v1), the legacy planner.mcts, model registration
** from Lisp and Lua, the record builtins.  Request parsing and the result
** maps are in planner_req.c, the plan-action and apply-planned-1d leaves in
** planner_leaf.c (shared declarations: planner_int.h).  See LICENSE for
** copyright.
**
** Per lisp_State (slot LISPBT_SLOT_PLANNER): one plan_Planner (the MCTS
** arena and the MPPI/iLQR buffers, reused across calls), the registered
** Lisp/Lua models, the record ring (planner_capacity) and the JSON-lines
** file sink.  Every planner call -- (planner.plan req), (planner.mcts req)
** or a plan-action tick -- goes through putrecord(), the one place a call is
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
** Lisp and Lua models: (planner.register-model name spec) keeps the spec's
** step/cost/done procedures pinned and wraps them in an mcts_Model whose
** 'step' calls them under lisp_pcall, so an error in a model becomes status
** :error with its message.  A Lua table converts to such a spec (its
** functions become Lisp procedures), so host:register_model is the same
** builtin.
*/
#include "conf.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "planner_int.h"

static void umodel_free(planner_Host *p, UModel *u, int unpin);

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
    if (lispbt_plan_openleaves(S) != LISP_OK) {
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
    lispbt_plan_nodes_free(p);
    plan_free(p->plan);
    mem_free(p->M, p->timebuckets, sizeof(uint32_t) * hist_nbuckets(HIST_FINE));
    precord_ring_free(&p->ring);
    precord_sink_free(&p->sink);
    mem_free(p->M, p, sizeof(planner_Host));
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

void lispbt_plan_record(lisp_State *S, const plan_Request *req, const plan_Result *res,
                       int64_t tick, int32_t node) {
    mcts_Record rec;
    precord_from_plan(&rec, req, res, lispbt_wall_ms());
    putrecord(S, &rec, tick, node);
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
    lispbt_plan_numlistv(S, c->s, c->sdim);
    lispbt_plan_numlistv(S, c->a, u->m.action_dim);
    lisp_push(S, lisp_float(u->dt));
    v = lisp_call(S, fidx, 3);
    lisp_push(S, v);
    k = lispbt_plan_numlist(v, xs, MCTS_MAX_STATE);
    if (k != c->sdim) {
        char repr[128];
        lisp_error(S, "step must return %d state value%s (a number or a list), got %s", c->sdim,
                   c->sdim == 1 ? "" : "s", lisp_repr(S, v, repr, sizeof repr));
    }
    memcpy(c->next, xs, sizeof(double) * (size_t)k);
    lisp_settop(S, fidx);
    lisp_push(S, lisp_pinned(S, u->pcost));
    lispbt_plan_numlistv(S, c->s, c->sdim);
    lispbt_plan_numlistv(S, c->a, u->m.action_dim);
    lispbt_plan_numlistv(S, c->next, c->sdim);
    v = lisp_call(S, fidx, 3);
    if (!lisp_isnumber(v)) {
        char repr[128];
        lisp_error(S, "cost must return a number, got %s", lisp_repr(S, v, repr, sizeof repr));
    }
    *c->reward = -lispbt_plan_numval(v);
    c->term = 0;
    if (u->pdone >= 0) {
        lisp_push(S, lisp_pinned(S, u->pdone));
        lispbt_plan_numlistv(S, c->next, c->sdim);
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
const mcts_Model *lispbt_plan_findmodel(planner_Host *p, const char *name, UModel **um) {
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
void lispbt_plan_run(lisp_State *S, const plan_Request *req, plan_Result *res, const char *fname,
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
    if (lispbt_plan_parserequest(S, &req, argv[0], err, sizeof err) != 0) {
        memset(&res, 0, sizeof res);
        res.status = MCTS_ERROR;
        res.backend = req.backend;
        res.seed = req.seed;
        res.budget_ms = req.budget_ms;
        snprintf(res.action_schema, sizeof res.action_schema, "action.u.v1");
        snprintf(res.error, sizeof res.error, "%s", err);
        lispbt_plan_record(S, &req, &res, -1, -1);
        lisp_error(S, "planner.plan: %s", err);
    }
    {
        UModel *u;
        const mcts_Model *m = lispbt_plan_findmodel(PH(S), req.model_service, &u);
        lispbt_plan_run(S, &req, &res, "planner.plan", -1, m, u);
    }
    lispbt_plan_record(S, &req, &res, req.tick_index, -1);
    return lispbt_plan_result(S, &res);
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
            const char *ks = lispbt_plan_textof(k, &kn);
            int ok = 0;
            for (i = 0; ks != NULL && i < 7; i++) {
                ok |= lispbt_plan_texteq(ks, kn, known[i]);
            }
            if (!ok) {
                char repr[128];
                lisp_error(S, "planner.register-model: spec.%s is not a model field (step, cost, "
                           "done, bounds, state_dim, horizon, dt_ms)",
                           ks ? ks : lisp_repr(S, k, repr, sizeof repr));
            }
        }
    }
    if (!lispbt_plan_mapfind(spec, "step", &v) || !isproc(v)) {
        lisp_error(S, "planner.register-model: spec.step must be a function (state, u, dt) -> "
                   "next state");
    }
    if (!lispbt_plan_mapfind(spec, "cost", &v) || !isproc(v)) {
        lisp_error(S, "planner.register-model: spec.cost must be a function (state, u, next) -> "
                   "number");
    }
    if (lispbt_plan_mapfind(spec, "done", &v) && !isproc(v)) {
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
    if (!lispbt_plan_mapfind(spec, "bounds", &v) || (v.tag != LISP_TCONS && v.tag != LISP_TVEC)) {
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
        if (i >= MCTS_MAX_ACTION || lispbt_plan_numlist(row, rows, 2) != 2 || !isfinite(rows[0]) ||
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
            if (lispbt_plan_mapfind(spec, ints[i], &v)) {
                if (!lisp_tointrange(v, LISP_INTONLY, 0, his[i], &x)) {
                    char repr[128];
                    mem_free(p->M, u, sizeof(UModel));
                    lisp_error(S,
                               "planner.register-model: spec.%s must be an integer in [0, %lld], "
                               "got %s",
                               ints[i], (long long)his[i], lisp_repr(S, v, repr, sizeof repr));
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
    lispbt_plan_mapfind(spec, "step", &v);
    u->pstep = lisp_pin(S, v);
    lispbt_plan_mapfind(spec, "cost", &v);
    u->pcost = lisp_pin(S, v);
    if (lispbt_plan_mapfind(spec, "done", &v)) {
        u->pdone = lisp_pin(S, v);
    }
    if (u->pstep < 0 || u->pcost < 0 || (u->pdone < 0 && lispbt_plan_mapfind(spec, "done", &v))) {
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
        const char *name = lispbt_plan_keyname(k, &n);
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
        if (lispbt_plan_setkey(&req, idx, v, err, sizeof err) != 0) {
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
    return lispbt_plan_resultmap(S, &res);
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
        lisp_vecpush(S, v, lispbt_plan_recordmap(S, precord_get(R, i)));
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
