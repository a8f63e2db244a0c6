/*
** bt_leaves.c -- the engine's built-in C leaves of SPEC §5.4.  See LICENSE
** for copyright.
**
** Conditions: always-true, always-false, bb-has KEY,
**   goal-reached-1d [STATE-KEY GOAL TOL]   (defaults: state 1.0 0.01)
** Actions: always-success, always-fail, running-then-success [N] (1),
**   bb-put-int KEY N, bb-put-float KEY X.
** Demo leaves of muesli-bt's examples, installed on request
** (bt.install-demo-callbacks): battery-ok, target-visible, bb-truthy KEY,
** approach-target, grasp, search-target.
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
    if (!argnum(c, 1, 1.0, &goal) || !argnum(c, 2, 0.01, &tol)) {
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

static const bt_CLeaf demos[] = {
    {"battery-ok", BT_KCOND, leaf_true, NULL, NULL, NULL, 0},
    {"target-visible", BT_KCOND, demo_visible, NULL, NULL, NULL, 0},
    {"bb-truthy", BT_KCOND, demo_bbtruthy, NULL, NULL, NULL, 0},
    {"approach-target", BT_KACT, demo_approach, NULL, NULL, NULL, 0},
    {"grasp", BT_KACT, leaf_success, NULL, NULL, NULL, 0},
    {"search-target", BT_KACT, demo_search, NULL, NULL, NULL, 0},
    {NULL, 0, NULL, NULL, NULL, NULL, 0}};

const char *const bt_demo_names[] = {"battery-ok", "target-visible", "bb-truthy",
                                     "approach-target", "grasp", "search-target", NULL};

static void demokeys(lisp_State *S, void *ud) {
    (void)ud;
    bt_key(S, lisp_cintern(S, "target-visible"));
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
