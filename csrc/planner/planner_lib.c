/*
** planner_lib.c -- planner.* builtins and the planner's leaves (SPEC §7):
** the plan-action form and apply-planned-1d.  See LICENSE for copyright.
**
** Per lisp_State (slot LISPBT_SLOT_PLANNER): one mcts_Planner (its arena is reused across calls), the record
** ring (planner_capacity) and the JSON-lines file sink.  Every planner call,
** from (planner.mcts req) or from a plan-action leaf, appends one record to
** the ring and, when the sink is enabled, one line to its file; a failing
** sink writes an error log record and never fails the call or the tick.
**
** Request maps take keys as strings, symbols or keywords (:budget_ms);
** unknown keys and bad values are errors naming the key.
**
** plan-action keys: :state_key (default state), :action_key (action),
** :meta_key (optional: compact JSON of the record), :seed_key (optional:
** an integer seed on the blackboard), :node_name (default plan-action-ID),
** and every request key except state, seed and tick_index, which come from
** the blackboard and the tick.  Without :seed_key the seed is derived from
** the base seed, node name and tick index, so runs replay exactly.
** (plan-action ...) is a leaf form of the BT registry (bt_CLeaf.form): an
** action node of the C leaf below, whose check hook validates the keys at
** compile time; it reaches the engine through bt.h only.
**
** apply-planned-1d [STATE-KEY ACTION-KEY OUT-KEY] (state action state):
** writes the toy-1d model's next state for the planned action.
*/
#include "conf.h"

#include <stdio.h>
#include <string.h>

#include "bt.h"
#include "planner_lib.h"
#include "planner_mcts.h"
#include "hist.h"
#include "planner_record.h"
#include "sbuf.h"

struct planner_Host {
    mem_Heap *M;
    log_Ring *log;
    mcts_Planner *P;
    precord_Ring ring;
    precord_Sink sink;
    uint64_t base_seed;
    uint64_t calls[4];  /* by status: ok, timeout, noaction, error */
    hist_Hist time;     /* time_used per call, ns, HIST_FINE */
    uint32_t *timebuckets;
    planner_RecordHook hook; /* planner_set_hook */
    void *hook_ud;
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
    p->P = mcts_new(M);
    p->timebuckets = mem_calloc(M, sizeof(uint32_t) * hist_nbuckets(HIST_FINE));
    if (p->P == NULL || p->timebuckets == NULL ||
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

void planner_set_hook(planner_Host *p, planner_RecordHook fn, void *ud) {
    p->hook = fn;
    p->hook_ud = ud;
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

void planner_close(planner_Host *p) {
    if (p == NULL) {
        return;
    }
    mcts_free(p->P);
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

/* The plan-action keys that are not request keys. */
enum { PK_STATE_KEY, PK_ACTION_KEY, PK_META_KEY, PK_SEED_KEY, PK_NODE_NAME, PK_N };
static const char *const leafkeys[PK_N] = {"state_key", "action_key", "meta_key", "seed_key",
                                           "node_name"};

static int leafkey(const char *s, size_t n) {
    int i;
    for (i = 0; i < PK_N; i++) {
        if (strlen(leafkeys[i]) == n && memcmp(leafkeys[i], s, n) == 0) {
            return i;
        }
    }
    return -1;
}

/* Check hook of plan-action: validate its ':key value ...' arguments. */
static void checkplan(lisp_State *S, const bt_Leaf *l, lisp_Value plist) {
    mcts_Request r;
    char err[200];
    int64_t len = lisp_listlen(plist);
    (void)l;
    if (len < 0 || len % 2 != 0) {
        lisp_error(S, "bt.compile: plan-action: expected :key value pairs");
    }
    mcts_request_defaults(&r);
    for (; plist.tag == LISP_TCONS; plist = lisp_cdr(lisp_cdr(plist))) {
        lisp_Value k = lisp_car(plist), v = lisp_car(lisp_cdr(plist));
        size_t n;
        const char *name = keyname(k, &n);
        char key[64];
        int idx;
        if (name == NULL || n >= sizeof key) {
            lisp_error(S, "bt.compile: plan-action: keys must be keywords like :state_key");
        }
        memcpy(key, name, n);
        key[n] = '\0';
        if (leafkey(key, n) >= 0) {
            if (lisp_str(v, NULL) == NULL) {
                lisp_error(S, "bt.compile: plan-action: %s: expected a symbol or string", key);
            }
            continue;
        }
        idx = mcts_request_key_index(key);
        if (idx < 0 || idx == MCTS_KEY_STATE || idx == MCTS_KEY_SEED || idx == MCTS_KEY_TICK_INDEX) {
            lisp_error(S, "bt.compile: plan-action: unknown key :%s", key);
        }
        if (setkey(&r, idx, v, err, sizeof err) != 0) {
            lisp_error(S, "bt.compile: plan-action: %s", err);
        }
    }
}

/* ---- records ---- */

static void record(lisp_State *S, const mcts_Request *req, const mcts_Result *res,
                   int64_t tick, int32_t node) {
    planner_Host *p = PH(S);
    mcts_Record rec;
    precord_from_result(&rec, req, res, lispbt_wall_ms());
    precord_push(&p->ring, &rec);
    if (res->status >= 0 && res->status < 4) {
        p->calls[res->status]++;
    }
    hist_record(&p->time, (int64_t)(res->time_used_ms * 1e6));
    if (p->hook != NULL) {
        p->hook(p->hook_ud, &rec, tick, node);
    }
    if (p->sink.enabled && precord_sink_write(&p->sink, &rec) != 0) {
        log_write(p->log, LOG_ERROR, tick, node, "planner", "record sink: %s",
                  precord_sink_last_error(&p->sink));
    }
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
    if (r->top_n) {
        lisp_mapsetstr(S, m, "top_k", alts(S, r->top, r->top_n, r->action_dim));
    }
    if (r->error[0]) {
        lisp_mapsetstr(S, m, "error", lisp_cstring(S, r->error));
    }
    return m;
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
        while (mcts_run(PH(S)->P, &req, &res), res.nomem) {
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

/* A plan-action call that cannot plan still appends a record (status
** error), then fails the node with 'err'. */
LISPBT_NORETURN static void planfail(lisp_State *S, const mcts_Request *req, const char *err,
                                     int64_t tick, int32_t node) {
    mcts_Result bad;
    memset(&bad, 0, sizeof bad);
    bad.status = MCTS_ERROR;
    bad.seed = req->seed;
    snprintf(bad.error, sizeof bad.error, "%s", err);
    record(S, req, &bad, tick, node);
    lisp_error(S, "%s", err);
}

typedef struct PlanCall {
    bt_Ctx *c;
    int st;
} PlanCall;

static void runplan(lisp_State *S, void *ud) {
    PlanCall *a = ud;
    bt_Ctx *c = a->c;
    bt_Inst *I = c->I;
    int32_t node = c->node;
    int64_t tick = c->tick;
    planner_Host *p = PH(S);
    const lisp_Value *args = c->a->args;
    const int32_t *keys = c->a->keys;
    int leaf[PK_N] = {-1, -1, -1, -1, -1}, i;
    mcts_Request req;
    mcts_Result res;
    char err[MCTS_ERR_MAX];
    lisp_Value v;
    double xs[MCTS_MAX_STATE];
    int ns;
    mcts_request_defaults(&req);
    snprintf(req.node_name, sizeof req.node_name, "plan-action-%d", (int)node);
    for (i = 0; i + 1 < c->a->nargs; i += 2) {
        size_t n;
        const char *name = keyname(args[i], &n);
        char key[64];
        int lk, idx;
        snprintf(key, sizeof key, "%.*s", (int)n, name);
        lk = leafkey(key, n);
        if (lk >= 0) {
            leaf[lk] = i + 1;
            continue;
        }
        idx = mcts_request_key_index(key);
        setkey(&req, idx, args[i + 1], err, sizeof err); /* checked at compile time */
    }
    if (leaf[PK_NODE_NAME] >= 0) {
        snprintf(req.node_name, sizeof req.node_name, "%s", lisp_str(args[leaf[PK_NODE_NAME]], NULL));
    }
    req.tick_index = tick;
    if (leaf[PK_SEED_KEY] >= 0 && bt_bb_get(I, keys[leaf[PK_SEED_KEY]], &v, node) &&
        v.tag == LISP_TINT) {
        req.seed = (uint64_t)v.u.i;
    } else {
        req.seed = mcts_derive_seed(p->base_seed, req.node_name, req.tick_index);
    }
    {
        int skey = leaf[PK_STATE_KEY] >= 0 ? keys[leaf[PK_STATE_KEY]] : bt_key_find(S, "state", 5);
        snprintf(req.state_key, sizeof req.state_key, "%s", bt_key_name(S, skey));
        if (!bt_bb_get(I, skey, &v, node)) {
            snprintf(err, sizeof err, "no state at key '%s'", bt_key_name(S, skey));
            planfail(S, &req, err, tick, node);
        }
        ns = numbers(v, xs, MCTS_MAX_STATE);
        if (ns < 1) {
            snprintf(err, sizeof err, "state at key '%s' is not a number or numeric vector",
                     bt_key_name(S, skey));
            planfail(S, &req, err, tick, node);
        }
        mcts_request_set_vector(&req, MCTS_KEY_STATE, xs, ns, err, sizeof err);
    }
    if (mcts_request_check(&req, err, sizeof err) != 0) {
        planfail(S, &req, err, tick, node);
    }
    mcts_run(p->P, &req, &res);
    if (res.nomem) {
        lisp_nomem(S, "plan-action"); /* a tick does not collect */
    }
    record(S, &req, &res, tick, node);
    if (res.action_dim == 0) {
        lisp_error(S, "no action (%s%s%s)", mcts_status_name(res.status),
                   res.error[0] ? ": " : "", res.error);
    }
    {
        int akey = leaf[PK_ACTION_KEY] >= 0 ? keys[leaf[PK_ACTION_KEY]] : bt_key_find(S, "action", 6);
        lisp_Value act = res.action_dim == 1 ? lisp_float(res.action[0])
                                             : numvec(S, res.action, res.action_dim);
        if (bt_bb_put(I, akey, act, node, "plan-action") != 0) {
            lisp_memerror(S);
        }
    }
    if (leaf[PK_META_KEY] >= 0) {
        mcts_Record rec;
        lisp_Value meta;
        precord_from_result(&rec, &req, &res, lispbt_wall_ms());
        precord_json(&rec, lisp_scratch(S));
        meta = lisp_scratchstring(S);
        if (bt_bb_put(I, keys[leaf[PK_META_KEY]], meta, node, "plan-action") != 0) {
            lisp_memerror(S);
        }
    }
    a->st = BT_SUCCESS;
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
    {"plan-action", BT_KACT, leaf_plan, NULL, NULL, checkplan, 1},
    {"apply-planned-1d", BT_KACT, leaf_apply1d, NULL, NULL, NULL, 0},
    {NULL, 0, NULL, NULL, NULL, NULL, 0}};

static int openleaves(lisp_State *S) {
    return bt_reg_open(S, bt_reg(S), leaves);
}
