/*
** sched_lib.c -- the scheduler's Lisp-facing side: the async-sleep-ms leaf
** (SPEC §6, the reference scheduler leaf) and the bt.scheduler.* builtins.
** See LICENSE for copyright.
**
** async-sleep-ms MS submits a wait of MS ms (sched_submit_wait: it holds
** no worker; the pool's deadline heap ends it), keeps its
** handle in the node's bt_NodeMem (job, arg, flags: leaf-private), returns
** running while the job is queued or running, and success or failure when it
** ends.  Its halt hook cancels and releases the job (a halted node leaves no
** job behind); its drop hook releases the job of an instance being
** collected, since jobs must not outlive their owner.  Scheduler events go
** to the instance's trace and debug records to the log, as before the leaf
** moved here from the engine.
*/
#include "conf.h"

#include "bt.h"
#include "sched_lib.h"

sched_Pool *sched_pool(lisp_State *S) {
    return lisp_slot(S, LISPBT_SLOT_SCHED);
}

static log_Ring *logof(lisp_State *S) {
    return bt_reg_env(bt_reg(S))->log;
}

/* A scheduler event of the node's job, stamped 'ts'.  Start and finish are
** stamped when the instance observes them (the job's own times are in
** sched_info): the trace is in the order the instance saw things, and its
** stamps never go backwards. */
static void jobevent(bt_Ctx *c, int kind, uint64_t job, int jstatus, int64_t ts) {
    trace_Event e = trace_event(kind, c->tick, c->node, ts);
    e.job = job;
    e.job_status = (uint8_t)jstatus;
    bt_trace_event(c->I, &e);
}

/* MS: a number of milliseconds in [0, SLEEP_MAX_MS] (a float is
** truncated), checked when the tree compiles and again at tick time. */
#define SLEEP_MAX_MS 86400000
#define SLEEP_USAGE "expected (act async-sleep-ms MS)"

static void check_sleep(lisp_State *S, const bt_Leaf *l, lisp_Value args) {
    if (lisp_listlen(args) != 1) {
        lisp_error(S, "bt.compile: %s: " SLEEP_USAGE, l->cname);
    }
    bt_check_intarg(S, l, args, 0, "MS", LISP_ANYNUM, 0, SLEEP_MAX_MS);
}

static int leaf_sleep(bt_Ctx *c, int64_t ud) {
    bt_Inst *I = c->I;
    sched_Pool *P = sched_pool(c->S);
    log_Ring *log = logof(c->S);
    bt_NodeMem *m = bt_inst_mem(I, c->node);
    sched_JobInfo info;
    int64_t ts;
    (void)ud;
    if (P == NULL) {
        return bt_leaf_error(c, "the scheduler is closed");
    }
    if (m->job == 0) {
        if (c->a->nargs != 1) {
            return bt_leaf_error(c, SLEEP_USAGE);
        }
        if (!bt_leaf_intarg(c, 0, "MS", LISP_ANYNUM, 0, SLEEP_MAX_MS, 0, &m->arg)) {
            return BT_ERROR;
        }
        m->flags = 0;
        ts = bt_now(I); /* before a worker can see the job: submit <= start */
        m->job = sched_submit_wait(P, "async-sleep-ms", m->arg * 1000000,
                                   (uint64_t)bt_inst_id(I));
        if (m->job == 0) {
            return bt_leaf_error(c, "async-sleep-ms: cannot submit the job (out of memory)");
        }
        jobevent(c, TRACE_SCHED_SUBMIT, m->job, TRACE_JOB_QUEUED, ts);
        log_write(log, LOG_DEBUG, c->tick, c->node, "scheduler", "job %llu submitted (%s %lld ms)",
                  (unsigned long long)m->job, c->a->leaf->cname, (long long)m->arg);
        return BT_RUNNING;
    }
    if (sched_info(P, m->job, &info) != 0) {
        m->job = 0;
        return bt_leaf_error(c, "job vanished");
    }
    if (info.status != SCHED_QUEUED && !(m->flags & 1)) {
        m->flags |= 1;
        jobevent(c, TRACE_SCHED_START, m->job, TRACE_JOB_RUNNING, bt_now(I));
        log_write(log, LOG_DEBUG, c->tick, c->node, "scheduler", "job %llu started",
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
        log_write(log, LOG_DEBUG, c->tick, c->node, "scheduler", "job %llu %s",
                  (unsigned long long)m->job, sched_status_name(info.status));
        sched_release(P, m->job);
        m->job = 0;
        return ok ? BT_SUCCESS : BT_FAILURE;
    }
}

/* Halt: cancel and release the node's job, with its trace event. */
static void halt_sleep(bt_Ctx *c, const bt_Leaf *l) {
    bt_Inst *I = c->I;
    sched_Pool *P = sched_pool(c->S);
    bt_NodeMem *m = bt_inst_mem(I, c->node);
    (void)l;
    if (m->job == 0 || P == NULL) {
        return;
    }
    jobevent(c, TRACE_SCHED_CANCEL, m->job, TRACE_JOB_CANCELLED, bt_now(I));
    log_write(logof(c->S), LOG_DEBUG, c->tick, c->node, "scheduler", "job %llu cancelled (%s)",
              (unsigned long long)m->job, bt_def_nodename(bt_inst_def(I), c->node));
    sched_release(P, m->job); /* cancels if still queued or running */
    m->job = 0;
}

/* Drop: the instance is being collected; release its job silently. */
static void drop_sleep(bt_Inst *I, int32_t node, const bt_Leaf *l) {
    sched_Pool *P = sched_pool(bt_inst_state(I));
    bt_NodeMem *m = bt_inst_mem(I, node);
    (void)l;
    if (m->job && P) {
        sched_release(P, m->job);
        m->job = 0;
    }
}

static const bt_CLeaf leaves[] = {
    {"async-sleep-ms", BT_KACT, leaf_sleep, halt_sleep, drop_sleep, check_sleep, 0},
    {NULL, 0, NULL, NULL, NULL, NULL, 0}};

int sched_open(lisp_State *S, sched_Pool *P) {
    lisp_setslot(S, LISPBT_SLOT_SCHED, P);
    return bt_reg_open(S, bt_reg(S), leaves);
}

/* ---- builtins ---- */

static lisp_Value cfun_sched_stats(lisp_State *S, int argc, lisp_Value *argv) {
    sched_Pool *P = sched_pool(S);
    (void)argc;
    (void)argv;
    if (P == NULL) {
        lisp_error(S, "bt.scheduler.stats: the scheduler is closed");
    }
    sched_stats_text(P, lisp_scratch(S));
    return lisp_scratchstring(S);
}

const lisp_Reg sched_lib[] = {
    {"bt.scheduler.stats", 0, 0, cfun_sched_stats, LISP_FRUNTIME, "(bt.scheduler.stats) -> text"},
    {NULL, 0, 0, NULL, 0, NULL}};
