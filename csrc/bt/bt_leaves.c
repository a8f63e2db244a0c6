/*
** bt_leaves.c -- the built-in C leaves of SPEC §5.4.  See LICENSE for
** copyright.
**
** Conditions: always-true, always-false, bb-has KEY,
**   goal-reached-1d [STATE-KEY GOAL TOL]   (defaults: state 1.0 0.01)
** Actions: always-success, always-fail, running-then-success [N] (1),
**   bb-put-int KEY N, bb-put-float KEY X,
**   apply-planned-1d [STATE-KEY ACTION-KEY OUT-KEY] (state action state):
**     writes the toy-1d model's next state for the planned action,
**   async-sleep-ms MS: the reference scheduler leaf (SPEC §6).
**
** Blackboard keys come resolved from the compiler (c->a->keys), so no leaf
** looks a name up while ticking.  Argument errors are leaf errors: the node
** fails with an error event and log record naming the problem.
*/
#include "conf.h"

#include <math.h>

#include "bt_node.h"
#include "host.h"
#include "planner_mcts.h"
#include "sched.h"

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

/* Read a number from the blackboard. */
static int bbnum(bt_Ctx *c, int key, double *out) {
    lisp_Value v;
    if (key < 0 || !bt_bb_get(c->I, key, &v, c->node)) {
        return 0;
    }
    if (v.tag == LISP_TINT) {
        *out = (double)v.u.i;
        return 1;
    }
    if (v.tag == LISP_TFLOAT) {
        *out = v.u.f;
        return 1;
    }
    if (v.tag == LISP_TVEC && lisp_veclen(v) >= 1) { /* a 1-element float vector */
        lisp_Value x = lisp_vecitems(v)[0];
        if (lisp_isnumber(x)) {
            *out = x.tag == LISP_TINT ? (double)x.u.i : x.u.f;
            return 1;
        }
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
    if (!bbnum(c, key, &x)) {
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

static int leaf_runthen(bt_Ctx *c, int64_t ud) {
    bt_NodeMem *m = bt_inst_mem(c->I, c->node);
    double n;
    (void)ud;
    if (!argnum(c, 0, 1, &n) || n < 0) {
        return bt_leaf_error(c, "expected a non-negative count");
    }
    if (m->idx < (int32_t)n) {
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
        return bt_leaf_error(c, "out of memory");
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
        return bt_leaf_error(c, "out of memory");
    }
    return BT_SUCCESS;
}

static int leaf_apply1d(bt_Ctx *c, int64_t ud) {
    lisp_State *S = c->S;
    const mcts_Model *m = mcts_model_find("toy-1d");
    int skey = argkey(c, 0, bt_key_find(S, "state", 5));
    int akey = argkey(c, 1, bt_key_find(S, "action", 6));
    int okey = argkey(c, 2, skey);
    double s[1], a[1], next[1], reward;
    (void)ud;
    if (!bbnum(c, skey, &s[0])) {
        return bt_leaf_error(c, "no numeric state on the blackboard");
    }
    if (!bbnum(c, akey, &a[0])) {
        return bt_leaf_error(c, "no numeric action on the blackboard");
    }
    if (okey < 0) {
        return bt_leaf_error(c, "bad output key");
    }
    mcts_model_clamp(m, a, a);
    m->step(m, s, a, next, &reward);
    if (bt_bb_put(c->I, okey, lisp_float(next[0]), c->node, c->a->leaf->cname) != 0) {
        return bt_leaf_error(c, "out of memory");
    }
    return BT_SUCCESS;
}

/* ---- async-sleep-ms: submit, then poll the job each tick ---- */

/* A scheduler event of the node's job, stamped 'ts'.  Start and finish are
** stamped when the instance observes them (the job's own times are in
** sched_info): the trace is in the order the instance saw things, and its
** stamps never go backwards. */
static void jobevent(bt_Ctx *c, int kind, uint64_t job, int jstatus, int64_t ts) {
    bt_Inst *I = c->I;
    trace_Ring *R = bt_inst_trace(I);
    if (I->trace_on) {
        trace_Event e = trace_event(kind, I->tick, c->node, ts);
        e.job = job;
        e.job_status = (uint8_t)jstatus;
        trace_push(R, &e);
    }
}

/* The job of async-sleep-ms.  Its duration travels by value in the
** argument pointer: a job must never read instance memory, which the owner
** may reuse for its next job or free while an old job is starting. */
static int job_sleep(void *arg, const sched_Cancel *c) {
    int64_t ms = (int64_t)(uintptr_t)arg;
    return sched_sleep_ns(c, ms * 1000000);
}

static int leaf_sleep(bt_Ctx *c, int64_t ud) {
    bt_Inst *I = c->I;
    lispbt_Host *H = I->H;
    bt_NodeMem *m = bt_inst_mem(I, c->node);
    sched_JobInfo info;
    double ms;
    int64_t ts;
    (void)ud;
    if (H->sched == NULL) {
        return bt_leaf_error(c, "the scheduler is closed");
    }
    if (m->job == 0) {
        if (c->a->nargs != 1 || !argnum(c, 0, 0, &ms) || ms < 0 || ms > 86400000.0) {
            return bt_leaf_error(c, "expected (act async-sleep-ms MS), MS >= 0");
        }
        m->arg = (int64_t)ms; /* for the log line only */
        m->flags = 0;
        ts = bt_now(I); /* before a worker can see the job: submit <= start */
        m->job = sched_submit(H->sched, "async-sleep-ms", job_sleep, (void *)(uintptr_t)m->arg, 0,
                              (uint64_t)I->id);
        if (m->job == 0) {
            return bt_leaf_error(c, "cannot submit the job (out of memory)");
        }
        jobevent(c, TRACE_SCHED_SUBMIT, m->job, TRACE_JOB_QUEUED, ts);
        log_write(&H->log, LOG_DEBUG, I->tick, c->node, "scheduler", "job %llu submitted (%s %lld ms)",
                  (unsigned long long)m->job, c->a->leaf->cname, (long long)m->arg);
        return BT_RUNNING;
    }
    if (sched_info(H->sched, m->job, &info) != 0) {
        m->job = 0;
        return bt_leaf_error(c, "job vanished");
    }
    if (info.status != SCHED_QUEUED && !(m->flags & 1)) {
        m->flags |= 1;
        jobevent(c, TRACE_SCHED_START, m->job, TRACE_JOB_RUNNING, bt_now(I));
        log_write(&H->log, LOG_DEBUG, I->tick, c->node, "scheduler", "job %llu started",
                  (unsigned long long)m->job);
    }
    if (info.status == SCHED_QUEUED || info.status == SCHED_RUNNING) {
        return BT_RUNNING;
    }
    {
        int ok = info.status == SCHED_DONE;
        int js = ok ? TRACE_JOB_DONE : info.status == SCHED_FAILED ? TRACE_JOB_FAILED
                                                                     : TRACE_JOB_CANCELLED;
        jobevent(c, info.status == SCHED_CANCELLED ? TRACE_SCHED_CANCEL : TRACE_SCHED_FINISH,
                 m->job, js, bt_now(I));
        log_write(&H->log, LOG_DEBUG, I->tick, c->node, "scheduler", "job %llu %s",
                  (unsigned long long)m->job, sched_status_name(info.status));
        sched_release(H->sched, m->job);
        m->job = 0;
        return ok ? BT_SUCCESS : BT_FAILURE;
    }
}

typedef struct Builtin {
    const char *name;
    int kind;
    bt_LeafFn fn;
} Builtin;

static const Builtin builtins[] = {{"always-true", BT_KCOND, leaf_true},
                                   {"always-false", BT_KCOND, leaf_false},
                                   {"bb-has", BT_KCOND, leaf_bbhas},
                                   {"goal-reached-1d", BT_KCOND, leaf_goal1d},
                                   {"always-success", BT_KACT, leaf_success},
                                   {"always-fail", BT_KACT, leaf_fail},
                                   {"running-then-success", BT_KACT, leaf_runthen},
                                   {"bb-put-int", BT_KACT, leaf_putint},
                                   {"bb-put-float", BT_KACT, leaf_putfloat},
                                   {"apply-planned-1d", BT_KACT, leaf_apply1d},
                                   {"async-sleep-ms", BT_KACT, leaf_sleep},
                                   {NULL, 0, NULL}};

static void openleaves(lisp_State *S, void *ud) {
    bt_Reg *R = ud;
    const Builtin *b;
    for (b = builtins; b->name; b++) {
        int base = lisp_gettop(S);
        lisp_Value name = lisp_cintern(S, b->name);
        bt_reg_define(S, R, b->kind, name, BT_IMPL_C, b->fn, NULL, 0, 0);
        lisp_settop(S, base);
    }
    /* the keys the default arguments use */
    bt_key(S, lisp_cintern(S, "state"));
    bt_key(S, lisp_cintern(S, "action"));
}

int bt_leaves_open(lisp_State *S, bt_Reg *R) {
    return lisp_pcall(S, openleaves, R);
}
