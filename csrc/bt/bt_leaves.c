/*
** bt_leaves.c -- the engine's built-in C leaves of SPEC §5.4.  See LICENSE
** for copyright.
**
** Conditions: always-true, always-false, bb-has KEY,
**   goal-reached-1d [STATE-KEY GOAL TOL]   (defaults: state 1.0 0.05, as muesli-bt)
** Actions: always-success, always-fail, running-then-success [N] (1),
**   bb-put-int KEY N, bb-put-float KEY X.
** Demo leaves of muesli-bt's examples, installed on request
** (bt.install-demo-callbacks): battery-ok, target-visible, bb-truthy KEY,
** approach-target, grasp, search-target, select-action SOURCE BRANCH [OUT],
** ptz-target-centred [STATE TOL], apply-planned-ptz [STATE ACTION OUT].
** The other built-in leaves belong to the layers they need and register
** through bt_reg_open: async-sleep-ms (csrc/sched/sched_leaves.c),
** plan-action and apply-planned-1d (csrc/planner/planner_leaves.c).
**
** Blackboard keys named by arguments come resolved from the compiler
** (c->a->keys); only a default key ("state") is found by name, with
** bt_key_find, which never allocates.  Argument errors are leaf errors: the node
** fails with an error event and log record naming the problem.
*/
#include "conf.h"

#include <math.h>
#include <string.h>

#include "bt_node.h"

static int argkey(bt_Ctx *c, int i, int def) {
    if (i < c->a->nargs) {
        return c->a->keys[i];
    }
    return def;
}

static int argnum(bt_Ctx *c, int i, double def, double *out) {
    if (i >= c->a->nargs) {
        *out = def;
        return 1;
    }
    if (c->a->args[i].tag == LISP_TINT) {
        *out = (double)c->a->args[i].u.i;
        return 1;
    }
    if (c->a->args[i].tag == LISP_TFLOAT) {
        *out = c->a->args[i].u.f;
        return 1;
    }
    return 0;
}

static int leaf_true(bt_Ctx *c, int64_t ud) {
    (void)c;
    (void)ud;
    return BT_SUCCESS;
}

static int leaf_false(bt_Ctx *c, int64_t ud) {
    (void)c;
    (void)ud;
    return BT_FAILURE;
}

static int leaf_bbhas(bt_Ctx *c, int64_t ud) {
    lisp_Value v;
    (void)ud;
    if (c->a->nargs != 1 || c->a->keys[0] < 0) {
        return bt_leaf_error(c, "expected (cond bb-has KEY)");
    }
    return bt_bb_get(c->I, c->a->keys[0], &v, c->node) ? BT_SUCCESS : BT_FAILURE;
}

static int leaf_goal1d(bt_Ctx *c, int64_t ud) {
    lisp_State *S = c->S;
    double x, goal, tol;
    int key;
    (void)ud;
    key = argkey(c, 0, bt_key_find(S, "state", 5));
    if (!argnum(c, 1, 1.0, &goal) || !argnum(c, 2, 0.05, &tol)) {
        return bt_leaf_error(c, "expected (cond goal-reached-1d [KEY GOAL TOL])");
    }
    if (!bt_bb_getnum(c->I, key, c->node, &x)) {
        return BT_FAILURE; /* no state yet */
    }
    return fabs(x - goal) <= tol ? BT_SUCCESS : BT_FAILURE;
}

static int leaf_success(bt_Ctx *c, int64_t ud) {
    (void)c;
    (void)ud;
    return BT_SUCCESS;
}

static int leaf_fail(bt_Ctx *c, int64_t ud) {
    (void)c;
    (void)ud;
    return BT_FAILURE;
}

/* running-then-success [N]: N is a count of ticks, an integer in
** [0, BT_MAXCOUNT] (node memory counts it in an int32_t). */
#define RUNTHEN_USAGE "expected (act running-then-success [N])"

static void check_runthen(lisp_State *S, const bt_Leaf *l, lisp_Value args) {
    if (lisp_listlen(args) > 1) {
        lisp_error(S, "bt.compile: %s: " RUNTHEN_USAGE, l->cname);
    }
    bt_check_intarg(S, l, args, 0, "N", LISP_INTONLY, 0, BT_MAXCOUNT);
}

static int leaf_runthen(bt_Ctx *c, int64_t ud) {
    bt_NodeMem *m = bt_inst_mem(c->I, c->node);
    int64_t n;
    (void)ud;
    if (c->a->nargs > 1) {
        return bt_leaf_error(c, RUNTHEN_USAGE);
    }
    if (!bt_leaf_intarg(c, 0, "N", LISP_INTONLY, 0, BT_MAXCOUNT, 1, &n)) {
        return BT_ERROR;
    }
    if (m->idx < n) {
        m->idx++;
        return BT_RUNNING;
    }
    m->idx = 0;
    return BT_SUCCESS;
}

static int leaf_putint(bt_Ctx *c, int64_t ud) {
    (void)ud;
    if (c->a->nargs != 2 || c->a->keys[0] < 0 || c->a->args[1].tag != LISP_TINT) {
        return bt_leaf_error(c, "expected (act bb-put-int KEY INTEGER)");
    }
    if (bt_bb_put(c->I, c->a->keys[0], c->a->args[1], c->node, c->a->leaf->cname) != 0) {
        return bt_leaf_error(c, "%s: out of memory", c->a->leaf->cname);
    }
    return BT_SUCCESS;
}

static int leaf_putfloat(bt_Ctx *c, int64_t ud) {
    double x;
    (void)ud;
    if (c->a->nargs != 2 || c->a->keys[0] < 0 || !argnum(c, 1, 0, &x)) {
        return bt_leaf_error(c, "expected (act bb-put-float KEY NUMBER)");
    }
    if (bt_bb_put(c->I, c->a->keys[0], lisp_float(x), c->node, c->a->leaf->cname) != 0) {
        return bt_leaf_error(c, "%s: out of memory", c->a->leaf->cname);
    }
    return BT_SUCCESS;
}

static const bt_CLeaf builtins[] = {
    {"always-true", BT_KCOND, leaf_true, NULL, NULL, NULL, 0},
    {"always-false", BT_KCOND, leaf_false, NULL, NULL, NULL, 0},
    {"bb-has", BT_KCOND, leaf_bbhas, NULL, NULL, NULL, 0},
    {"goal-reached-1d", BT_KCOND, leaf_goal1d, NULL, NULL, NULL, 0},
    {"always-success", BT_KACT, leaf_success, NULL, NULL, NULL, 0},
    {"always-fail", BT_KACT, leaf_fail, NULL, NULL, NULL, 0},
    {"running-then-success", BT_KACT, leaf_runthen, NULL, NULL, check_runthen, 0},
    {"bb-put-int", BT_KACT, leaf_putint, NULL, NULL, NULL, 0},
    {"bb-put-float", BT_KACT, leaf_putfloat, NULL, NULL, NULL, 0},
    {NULL, 0, NULL, NULL, NULL, NULL, 0}};

/* ---- the reference's demo callbacks (bt.install-demo-callbacks) ----
**
** muesli-bt's REPL host installs these for its examples and docs; the
** robot ones stand for a robot service that always has a battery, sees a
** target when the blackboard says so, approaches it in two ticks, grasps
** at once and finds the target by searching.  Opt-in per host. */

/* Truth of a blackboard value as muesli-bt's bb-truthy sees it: nil and
** #f false; numbers non-zero (floats finite and |x| > 1e-9); strings
** non-empty and not "0" or "false"; lists and vecs non-empty; else true. */
static int truthy(lisp_Value v) {
    size_t n;
    const char *s;
    switch (v.tag) {
        case LISP_TNIL: return 0;
        case LISP_TBOOL: return v.u.b != 0;
        case LISP_TINT: return v.u.i != 0;
        case LISP_TFLOAT: return isfinite(v.u.f) && fabs(v.u.f) > 1e-9;
        case LISP_TSTRING:
            s = lisp_str(v, &n);
            return n > 0 && !(n == 1 && s[0] == '0') && !(n == 5 && memcmp(s, "false", 5) == 0);
        case LISP_TVEC: return lisp_veclen(v) > 0;
        default: return 1;
    }
}

static int demo_bbtruthy(bt_Ctx *c, int64_t ud) {
    lisp_Value v;
    (void)ud;
    if (c->a->nargs < 1 || c->a->keys[0] < 0) {
        return bt_leaf_error(c, "expected (cond bb-truthy KEY)");
    }
    return bt_bb_get(c->I, c->a->keys[0], &v, c->node) && truthy(v) ? BT_SUCCESS : BT_FAILURE;
}

/* target-visible: the blackboard key target-visible is #t or a non-zero
** integer. */
static int demo_visible(bt_Ctx *c, int64_t ud) {
    lisp_Value v;
    int key = bt_key_find(c->S, "target-visible", 14);
    (void)ud;
    if (!bt_bb_get(c->I, key, &v, c->node)) {
        return BT_FAILURE;
    }
    return (v.tag == LISP_TBOOL && v.u.b) || (v.tag == LISP_TINT && v.u.i != 0) ? BT_SUCCESS
                                                                                 : BT_FAILURE;
}

/* approach-target: running on the first tick, success on the next. */
static int demo_approach(bt_Ctx *c, int64_t ud) {
    bt_NodeMem *m = bt_inst_mem(c->I, c->node);
    (void)ud;
    m->idx = !m->idx;
    return m->idx ? BT_RUNNING : BT_SUCCESS;
}

/* search-target: the target is found (target-visible := #t). */
static int demo_search(bt_Ctx *c, int64_t ud) {
    (void)ud;
    if (bt_bb_put(c->I, bt_key_find(c->S, "target-visible", 14), lisp_bool(1), c->node,
                  "robot.search-target") != 0) {
        return bt_leaf_error(c, "%s: out of memory", c->a->leaf->cname);
    }
    return BT_SUCCESS;
}

/* Numbers of 'v' (a number, or a vec or list of numbers) into 'out' (at
** most 'max'); their count, or -1. */
static int nums(lisp_Value v, double *out, int max) {
    int n = 0;
    if (v.tag == LISP_TINT || v.tag == LISP_TFLOAT) {
        out[0] = v.tag == LISP_TINT ? (double)v.u.i : v.u.f;
        return 1;
    }
    if (v.tag == LISP_TVEC) {
        int64_t i, len = lisp_veclen(v);
        for (i = 0; i < len && n < max; i++) {
            lisp_Value x = lisp_vecitems(v)[i];
            if (x.tag != LISP_TINT && x.tag != LISP_TFLOAT) {
                return -1;
            }
            out[n++] = x.tag == LISP_TINT ? (double)x.u.i : x.u.f;
        }
        return n;
    }
    for (; v.tag == LISP_TCONS && n < max; v = lisp_cdr(v)) {
        lisp_Value x = lisp_car(v);
        if (x.tag != LISP_TINT && x.tag != LISP_TFLOAT) {
            return -1;
        }
        out[n++] = x.tag == LISP_TINT ? (double)x.u.i : x.u.f;
    }
    return v.tag == LISP_TNIL || v.tag == LISP_TCONS ? n : -1;
}

/* The numbers at blackboard key 'key' (see nums); -1 when unset. */
static int bbnums(bt_Ctx *c, int key, double *out, int max) {
    lisp_Value v;
    if (!bt_bb_get(c->I, key, &v, c->node)) {
        return -1;
    }
    return nums(v, out, max);
}

/* The blackboard key of argument 'i', or the key named 'def' when the
** argument is left out (the demo keys exist: demokeys). */
static int demokey(bt_Ctx *c, int i, const char *def) {
    return i < c->a->nargs ? c->a->keys[i] : bt_key_find(c->S, def, strlen(def));
}

#define DEMO_MAXNUMS 16

typedef struct VecPut {
    bt_Ctx *c;
    int key;
    const double *x;
    int n;
} VecPut;

static void putvec(lisp_State *S, void *ud) {
    VecPut *p = ud;
    lisp_Value v = lisp_nil();
    int i, base = lisp_gettop(S);
    for (i = p->n - 1; i >= 0; i--) {
        v = lisp_cons(S, lisp_float(p->x[i]), v);
        lisp_settop(S, base);
        lisp_push(S, v);
    }
    if (bt_bb_put(p->c->I, p->key, v, p->c->node, p->c->a->leaf->cname) != 0) {
        lisp_nomem(S, p->c->a->leaf->cname);
    }
    lisp_settop(S, base);
}

/* Write the floats x[0..n) to 'key' as a list, the form muesli-bt's
** float64[] values read back as (a protected call: the tick never raises);
** returns BT_SUCCESS or a leaf error. */
static int writevec(bt_Ctx *c, int key, const double *x, int n) {
    VecPut p;
    p.c = c;
    p.key = key;
    p.x = x;
    p.n = n;
    if (lisp_pcall(c->S, putvec, &p) != LISP_OK) {
        return bt_leaf_error(c, "%s", lisp_errmsg(c->S));
    }
    return BT_SUCCESS;
}

/* select-action SOURCE BRANCH [OUT]: copy the numbers at SOURCE (at least
** two) to OUT (default action_vec) as a list of floats, and BRANCH to
** active_branch; failure when SOURCE holds fewer numbers. */
static int demo_select(bt_Ctx *c, int64_t ud) {
    double x[DEMO_MAXNUMS];
    int n, out;
    (void)ud;
    if (c->a->nargs < 2 || c->a->nargs > 3 || c->a->keys[0] < 0 || c->a->args[1].tag != LISP_TINT ||
        (c->a->nargs == 3 && c->a->keys[2] < 0)) {
        return bt_leaf_error(c, "expected (act select-action SOURCE BRANCH [OUT])");
    }
    n = bbnums(c, c->a->keys[0], x, DEMO_MAXNUMS);
    if (n < 2) {
        return BT_FAILURE;
    }
    out = demokey(c, 2, "action_vec");
    if (writevec(c, out, x, n) != BT_SUCCESS) {
        return BT_ERROR;
    }
    if (bt_bb_put(c->I, bt_key_find(c->S, "active_branch", 13), c->a->args[1], c->node,
                  c->a->leaf->cname) != 0) {
        return bt_leaf_error(c, "%s: out of memory", c->a->leaf->cname);
    }
    return BT_SUCCESS;
}

/* ptz-target-centred [STATE TOL]: the ball offset (state[2], state[3]) is
** within TOL (default 0.05) of the image centre. */
static int demo_centred(bt_Ctx *c, int64_t ud) {
    double s[DEMO_MAXNUMS], tol;
    (void)ud;
    if (c->a->nargs > 2 || (c->a->nargs >= 1 && c->a->keys[0] < 0) || !argnum(c, 1, 0.05, &tol)) {
        return bt_leaf_error(c, "expected (cond ptz-target-centred [STATE TOL])");
    }
    if (bbnums(c, demokey(c, 0, "ptz-state"), s, DEMO_MAXNUMS) < 4) {
        return BT_FAILURE;
    }
    return sqrt(s[2] * s[2] + s[3] * s[3]) <= tol ? BT_SUCCESS : BT_FAILURE;
}

static double clampd(double x, double lo, double hi) {
    return x < lo ? lo : x > hi ? hi : x;
}

/* apply-planned-ptz [STATE ACTION OUT]: one step of the pan-tilt camera
** (state pan tilt ball-x ball-y [ball-vx ball-vy], action dpan dtilt
** clamped to 0.25) written to OUT (default STATE) as a list of six floats. */
static int demo_applyptz(bt_Ctx *c, int64_t ud) {
    double s[DEMO_MAXNUMS], a[DEMO_MAXNUMS], next[6], dpan, dtilt, vx, vy;
    int ns, skey, akey, okey;
    (void)ud;
    if (c->a->nargs > 3 || (c->a->nargs >= 1 && c->a->keys[0] < 0) ||
        (c->a->nargs >= 2 && c->a->keys[1] < 0) || (c->a->nargs >= 3 && c->a->keys[2] < 0)) {
        return bt_leaf_error(c, "expected (act apply-planned-ptz [STATE ACTION OUT])");
    }
    skey = demokey(c, 0, "ptz-state");
    akey = demokey(c, 1, "ptz-action");
    okey = c->a->nargs >= 3 ? c->a->keys[2] : skey;
    ns = bbnums(c, skey, s, DEMO_MAXNUMS);
    if (ns < 4 || bbnums(c, akey, a, DEMO_MAXNUMS) < 2) {
        return BT_FAILURE;
    }
    vx = ns > 4 ? s[4] : 0.0;
    vy = ns > 5 ? s[5] : 0.0;
    dpan = clampd(a[0], -0.25, 0.25);
    dtilt = clampd(a[1], -0.25, 0.25);
    next[0] = clampd(s[0] + dpan, -1.5, 1.5);
    next[1] = clampd(s[1] + dtilt, -1.0, 1.0);
    next[2] = clampd(s[2] + vx - dpan * 1.15, -2.0, 2.0);
    next[3] = clampd(s[3] + vy - dtilt * 1.15, -2.0, 2.0);
    next[4] = vx;
    next[5] = vy;
    return writevec(c, okey, next, 6) == BT_SUCCESS ? BT_SUCCESS : BT_ERROR;
}

static const bt_CLeaf demos[] = {
    {"battery-ok", BT_KCOND, leaf_true, NULL, NULL, NULL, 0},
    {"target-visible", BT_KCOND, demo_visible, NULL, NULL, NULL, 0},
    {"bb-truthy", BT_KCOND, demo_bbtruthy, NULL, NULL, NULL, 0},
    {"approach-target", BT_KACT, demo_approach, NULL, NULL, NULL, 0},
    {"grasp", BT_KACT, leaf_success, NULL, NULL, NULL, 0},
    {"search-target", BT_KACT, demo_search, NULL, NULL, NULL, 0},
    {"select-action", BT_KACT, demo_select, NULL, NULL, NULL, 0},
    {"ptz-target-centred", BT_KCOND, demo_centred, NULL, NULL, NULL, 0},
    {"apply-planned-ptz", BT_KACT, demo_applyptz, NULL, NULL, NULL, 0},
    {NULL, 0, NULL, NULL, NULL, NULL, 0}};

const char *const bt_demo_names[] = {"battery-ok", "target-visible", "bb-truthy", "approach-target",
                                     "grasp", "search-target", "select-action",
                                     "ptz-target-centred", "apply-planned-ptz", NULL};

static void demokeys(lisp_State *S, void *ud) {
    static const char *const keys[] = {"target-visible", "action_vec", "active_branch", "ptz-state",
                                       "ptz-action", NULL};
    int i;
    (void)ud;
    for (i = 0; keys[i]; i++) {
        bt_key(S, lisp_cintern(S, keys[i]));
    }
}

int bt_leaves_demo(lisp_State *S, bt_Reg *R) {
    int st = lisp_pcall(S, demokeys, NULL);
    return st != LISP_OK ? st : bt_reg_open(S, R, demos);
}

/* The keys the default arguments use (here and in the planner's leaves). */
static void defaultkeys(lisp_State *S, void *ud) {
    (void)ud;
    bt_key(S, lisp_cintern(S, "state"));
    bt_key(S, lisp_cintern(S, "action"));
}

int bt_leaves_open(lisp_State *S, bt_Reg *R) {
    int st = bt_reg_open(S, R, builtins);
    return st != LISP_OK ? st : lisp_pcall(S, defaultkeys, NULL);
}
