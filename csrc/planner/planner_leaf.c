/*
** planner_leaf.c -- the planner's BT leaves: the plan-action form and
** apply-planned-1d.  Private declarations: planner_int.h.  See LICENSE for
** copyright.
**
** plan-action takes the reference's node options (docs/planner.md); each
** maps to one request field through the field table of planner_req.c, so a
** key is checked at compile time by the same rule that planner.plan
** applies.  A node's options are resolved once into a per-node cache
** (PlanNode), so a tick reads the blackboard, runs the backend and writes
** the result.
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
#include "planner_int.h"
#include "rng.h"
#include "sbuf.h"

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
    const char *s = lispbt_plan_textof(k, &n);
    const LeafOpt *o;
    for (o = leafopts; s != NULL && o->key; o++) {
        if (lispbt_plan_texteq(s, n, o->key)) {
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
        return lispbt_plan_setfield(S, r,
                                    lispbt_plan_findfield(o->group, o->field, strlen(o->field)),
                                    path, v, err, errlen);
    }
    if (o->pk == PK_SAFE) {
        return lispbt_plan_setfield(S, r, &safefield, path, v, err, errlen);
    }
    if (o->pk == PK_NAME) {
        Field nf = {"node_name", G_TOP, F_STR, offsetof(plan_Request, node_name), 0, 0,
                    MCTS_NAME_MAX, 0};
        return lispbt_plan_setfield(S, r, &nf, path, v, err, errlen);
    }
    if (lispbt_plan_textof(v, NULL) == NULL) { /* a blackboard key */
        return lispbt_plan_badfield(S, err, errlen, path, "a blackboard key (a symbol or string)",
                                    v);
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
    lispbt_plan_record(S, req, &bad, tick, node);
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
    int apin;                 /* pin of the node's action vec (-1: none yet) */
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
    r->warm_key = (lispbt_plan_fnv1a(r->node_name, strlen(r->node_name)) ^
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
    n->apin = -1;
    p->pn[free] = n;
    nm->arg = free + 1;
    resolvenode(S, c, n);
    return n;
}

/* The caches of instances still alive when the planner state closes. */
void lispbt_plan_nodes_free(planner_Host *p) {
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
            if (n->apin >= 0) {
                lisp_unpin(p->S, n->apin);
            }
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
    return lispbt_plan_numlist(v, out, max);
}

/* The value plan-action writes at its action key: a number for one action
** dimension, else the node's own vec of the action's numbers.  That vec is
** made once (and pinned by the node) and refilled in place on later ticks
** while its length still matches, so a steady-state tick allocates
** nothing: a vec read from the action key at an earlier tick shows the
** later action (docs/compat.md); copy it to keep it. */
static lisp_Value actionvalue(lisp_State *S, PlanNode *n, const plan_Result *res) {
    lisp_Value v;
    int d;
    if (res->adim == 1) {
        return lisp_float(res->u[0]);
    }
    if (n->apin >= 0) {
        v = lisp_pinned(S, n->apin);
        if (v.tag == LISP_TVEC && lisp_veclen(v) == res->adim) {
            lisp_Value *items = lisp_vecitems(v);
            for (d = 0; d < res->adim; d++) {
                items[d] = lisp_float(res->u[d]); /* immediates: no write barrier */
            }
            return v;
        }
        lisp_unpin(S, n->apin);
        n->apin = -1;
    }
    v = lispbt_plan_numvec(S, res->u, res->adim);
    n->apin = lisp_pin(S, v); /* -1 when out of memory: a new vec next tick */
    return v;
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
    ns = lispbt_plan_numlist(v, xs, MCTS_MAX_STATE);
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
        seeded = lispbt_plan_setfield(S, req, &seedfield, "plan-action: :seed_key", v, err,
                                      sizeof err) == 0;
    }
    if (!seeded) {
        req->seed = mcts_derive_seed_hash(p->base_seed, n->name_hash, req->tick_index);
    }
    if (n->mgen != p->mgen) {
        n->m = lispbt_plan_findmodel(p, req->model_service, &n->um);
        n->mgen = p->mgen;
    }
    lispbt_plan_run(S, req, &res, "plan-action", node, n->m, n->um);
    lispbt_plan_record(S, req, &res, tick, node);
    bt_node_addwork(I, node, res.work_done);
    if (res.adim == 0) {
        lisp_error(S, "planner returned empty action%s%s", res.error[0] ? ": " : "",
                   res.error);
    }
    if (bt_bb_put(I, n->akey, actionvalue(S, n, &res), node, req->node_name) != 0) {
        lisp_memerror(S);
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

int lispbt_plan_openleaves(lisp_State *S) {
    return bt_reg_open(S, bt_reg(S), leaves);
}
