/*
** bt_exec.c -- instances and the tick executor: semantics of SPEC §5.2,
** halt and preemption (§5.6), tick budget, counters, histograms, trace.
** See LICENSE for copyright.
**
** Invariants:
** - Everything a tick touches is sized at instance creation (node memory,
**   counters, histograms, trace ring); the only growth is the blackboard
**   slot array when a key id is written for the first time.  A tick takes
**   no lock and makes no system call: time comes from the cycle counter,
**   converted with the env's clk_Rate (refined at most every ~20 ms).
** - A tick never raises.  Leaf errors are caught at their node (the leaf
**   function returns BT_ERROR) and reported as an error trace event and an
**   error log record; the node returns failure.
** - last[i] is the status node i returned the last time it was ticked
**   (BT_IDLE after a halt or reset).  A memoryless composite that stops
**   before a child whose last status was running halts that child's
**   subtree: running leaves get their halt callback (which cancels what the
**   leaf started, such as a scheduler job), and node memory in the subtree
**   is cleared ('gen' bumped so the Lua side drops ctx.memory tables
**   lazily).
** - Recursion follows the tree depth, bounded by the compiler.
** - Profiling "off" costs one branch per node: the profile level and trace
**   switch are read once per node from the instance.
*/
#include "conf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bt_node.h"
#include "rng.h"
#include "sbuf.h"

int64_t bt_now(bt_Inst *I) {
    int64_t ts;
    if (!I->ticking || I->tick_stamps == BT_STAMP_CLOCK) {
        return clk_now(I->E->clock);
    }
    ts = I->tick_ts;
    if (I->tick_stamps == BT_STAMP_CYCLES) {
        ts += clk_ns(I->rate, lispbt_cycles() - I->tick_c0);
    }
    clk_raise(I->E->clock, ts);
    return ts;
}

/* ---- instance object ---- */

/* Release what leaves keep in node memory (jobs): each leaf's drop hook,
** once per node.  The hooks leave the node memory empty, so a second call
** (bt_inst_unhold, then the collector) finds nothing to release. */
static void dropall(bt_Inst *I) {
    int n = I->D ? I->D->n : 0, i;
    if (I->mem && I->D->largs) {
        for (i = 0; i < n; i++) {
            const bt_Leaf *l = I->D->largs[i].leaf;
            if (l && l->drop) {
                l->drop(I, i, l);
            }
        }
    }
}

void bt_inst_hold(bt_Inst *I) {
    I->handles++;
}

void bt_inst_unhold(bt_Inst *I) {
    if (--I->handles == 0 && !I->shared && !I->ticking && !I->halting) {
        dropall(I);
    }
}

void bt_inst_share(bt_Inst *I) {
    I->shared = 1;
}

static void instfree(lisp_State *S, void *p) {
    bt_Inst *I = p;
    mem_Heap *M = lisp_mem(S);
    int n = I->D ? I->D->n : 0;
    size_t nb = hist_nbuckets(HIST_COARSE);
    dropall(I);
    mem_free(M, I->mem, sizeof(bt_NodeMem) * (size_t)n);
    mem_free(M, I->last, (size_t)n);
    mem_free(M, I->visits, sizeof(bt_Visit) * (size_t)n);
    mem_free(M, I->counts, sizeof(uint64_t) * 4 * (size_t)n);
    mem_free(M, I->stats, sizeof(bt_NodeStats) * (size_t)n);
    mem_free(M, I->nhist, sizeof(hist_Hist) * (size_t)n);
    mem_free(M, I->nbuckets, sizeof(uint32_t) * nb * (size_t)n);
    mem_free(M, I->tbuckets, sizeof(uint32_t) * hist_nbuckets(HIST_FINE));
    mem_free(M, I->bb, sizeof(bt_BBSlot) * (size_t)I->nbb);
    mem_free(M, I->series, sizeof(bt_Sample) * (size_t)I->scap);
    trace_free(&I->trace);
    I->mem = NULL;
    if (I->haslua && I->E->deadkey) {
        I->E->deadkey(I->E->deadkey_ud, -I->id);
    }
}

static void instmark(lisp_State *S, void *p) {
    bt_Inst *I = p;
    int i;
    lisp_markvalue(S, I->def);
    for (i = 0; i < I->nbb; i++) {
        lisp_markvalue(S, I->bb[i].v);
    }
}

/* Every store of a Lisp value into an instance (its def, its blackboard
** slots: bt_bb_put) has lisp_udatabarrier, so the atomic step need not
** traverse the instances again: it stays short with thousands of them. */
const lisp_UType bt_insttype = {"bt_instance", instmark, instfree, 1};

/* 'n' zeroed bytes through lisp_realloc (may collect once); NULL on
** failure. */
static void *zalloc(lisp_State *S, size_t n) {
    void *p = lisp_realloc(S, NULL, 0, n);
    if (p) {
        memset(p, 0, n);
    }
    return p;
}

lisp_Value bt_instance(lisp_State *S, lisp_Value def) {
    bt_Env *E = bt_reg_env(bt_reg(S));
    bt_Def *D = lisp_udata(def);
    mem_Heap *M = lisp_mem(S);
    lisp_Value v;
    bt_Inst *I;
    int n = D->n, i;
    size_t nb = hist_nbuckets(HIST_COARSE);
    lisp_push(S, def);
    I = lisp_newudata(S, &bt_insttype, sizeof(bt_Inst), &v);
    I->E = E;
    I->ctx.I = I; /* now: a half-built instance is freed by the collector, */
    I->ctx.S = S; /* and its drop hooks find the state through ctx */
    I->rate = E->rate;
    I->tk = lisp_tickscope(S);
    I->def = def;
    lisp_udatabarrier(S, I, def);
    I->self = v;
    I->D = D;
    I->id = lisp_udataid(v);
    I->profile = BT_PROFILE_TIMING;
    I->flags = BT_FTIMING;
    I->budget_ns = I->budget_lim = 20 * 1000000LL;
    I->min_ns = INT64_MAX;
    /* each may collect once (heap_limit; 'v' is rooted and instmark reads
    ** only 'def' and 'bb'); a failure leaves a half-built udata that the
    ** collector frees (instfree takes NULL arrays) */
    I->mem = zalloc(S, sizeof(bt_NodeMem) * (size_t)n);
    I->last = zalloc(S, (size_t)n);
    I->visits = zalloc(S, sizeof(bt_Visit) * (size_t)n);
    I->counts = zalloc(S, sizeof(uint64_t) * 4 * (size_t)n);
    I->stats = zalloc(S, sizeof(bt_NodeStats) * (size_t)n);
    I->nhist = zalloc(S, sizeof(hist_Hist) * (size_t)n);
    I->nbuckets = zalloc(S, sizeof(uint32_t) * nb * (size_t)n);
    I->tbuckets = zalloc(S, sizeof(uint32_t) * hist_nbuckets(HIST_FINE));
    if (I->tbuckets && trace_init(&I->trace, M, E->trace_capacity) != 0) {
        lisp_gc(S); /* the ring is the biggest block: make room, try again */
        trace_init(&I->trace, M, E->trace_capacity);
    }
    if (!I->mem || !I->last || !I->visits || !I->counts || !I->stats || !I->nhist || !I->nbuckets ||
        !I->tbuckets || I->trace.ev == NULL ||
        bt_bb_reserve(I, bt_key_count(S) > 0 ? bt_key_count(S) - 1 : 0) != 0) {
        lisp_nomem(S, "bt.new-instance");
    }
    for (i = 0; i < n; i++) {
        hist_init(&I->nhist[i], HIST_COARSE, I->nbuckets + nb * (size_t)i);
        I->stats[i].min_ns = INT64_MAX;
    }
    hist_init(&I->thist, HIST_FINE, I->tbuckets);
    lisp_settop(S, lisp_gettop(S) - 2);
    lisp_push(S, v);
    return v;
}

/* ---- reporting ---- */

LISPBT_COLD void bt_report(bt_Inst *I, int level, int32_t node, const char *fmt, ...) {
    char msg[TRACE_MSG_SLOT * 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (I->trace_on || I->evt_forced) {
        trace_Event e = trace_event(level >= LOG_ERROR ? TRACE_ERROR : TRACE_WARNING, I->tick,
                                    node, bt_now(I));
        trace_push_msg(&I->trace, &e, msg);
    }
    log_write(I->E->log, level, I->tick, node, "bt", "%s", msg);
}

void bt_trace_event(bt_Inst *I, const trace_Event *e) {
    if (I->trace_on || I->evt_forced) {
        trace_push(&I->trace, e);
    }
}

int bt_leaf_error(bt_Ctx *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->I->errmsg, sizeof c->I->errmsg, fmt, ap);
    va_end(ap);
    return BT_ERROR;
}

int bt_leaf_intarg(bt_Ctx *c, int i, const char *arg, int num, int64_t lo, int64_t hi,
                   int64_t def, int64_t *out) {
    if (i >= c->a->nargs) {
        *out = def;
        return 1;
    }
    if (lisp_tointrange(c->a->args[i], num, lo, hi, out)) {
        return 1;
    }
    lisp_rangemsg(c->S, c->I->errmsg, sizeof c->I->errmsg, arg, num, lo, hi, c->a->args[i]);
    return 0;
}

/* ---- halt ---- */

static void clearnode(bt_Inst *I, int32_t j) {
    bt_NodeMem *m = &I->mem[j];
    uint32_t gen = m->gen + 1;
    memset(m, 0, sizeof *m);
    m->gen = gen;
    I->last[j] = BT_IDLE;
}

static void callhalt(bt_Inst *I, int32_t j);

/* Halt nodes [a, b): running actions get their leaf's halt callback,
** memory is cleared. */
LISPBT_COLD static void haltrange(bt_Inst *I, int32_t a, int32_t b) {
    int32_t j;
    for (j = a; j < b; j++) {
        if (I->last[j] == BT_RUNNING && I->D->nodes[j].kind == BT_NACT) {
            callhalt(I, j);
        }
        clearnode(I, j);
    }
}

/* Halt the subtrees of the children of 'i' from child 'c' on whose last
** status was running (preemption by a memoryless composite). */
LISPBT_COLD static void preemptslow(bt_Inst *I, int32_t c, int32_t end) {
    while (c < end) {
        int32_t size = (int32_t)I->D->nodes[c].size;
        if (I->last[c] == BT_RUNNING) {
            haltrange(I, c, c + size);
        }
        c += size;
    }
}

static inline void preempt(bt_Inst *I, int32_t c, int32_t end) {
    /* the common case (the last child stopped the loop) is free */
    if (c < end && I->E->preempt) {
        preemptslow(I, c, end);
    }
}

const char *bt_busy_text(int rc) {
    return rc == BT_EBUSY_HALT ? "the instance is being halted" : "the instance is already ticking";
}

/* BT_EBUSY_* when a tick, halt or reset of 'I' is under way, else 0. */
static int busy(const bt_Inst *I) {
    return I->ticking ? BT_EBUSY_TICK : I->halting ? BT_EBUSY_HALT : 0;
}

int bt_halt(bt_Inst *I) {
    int32_t j;
    int rc = busy(I);
    if (rc != 0) {
        return rc;
    }
    I->halting = 1;
    for (j = 0; j < I->D->n; j++) {
        if (I->last[j] == BT_RUNNING) {
            haltrange(I, 0, I->D->n);
            I->halting = 0;
            return 0;
        }
    }
    for (j = 0; j < I->D->n; j++) {
        clearnode(I, j);
    }
    I->halting = 0;
    return 0;
}

int bt_reset(bt_Inst *I) {
    int i, rc = bt_halt(I);
    if (rc != 0) {
        return rc;
    }
    for (i = 0; i < I->nbb; i++) {
        I->bb[i].set = 0;
        I->bb[i].v = lisp_nil();
    }
    return 0;
}

/* ---- the leaf protocol ----
**
** Every call into a leaf goes through callleaf (tick) or callhalt (halt):
** they point the instance's ctx at the node, call, check what came back,
** and hand a failure to nodeerror, the one place where a node's error is
** counted and reported (error event and log record).  The leaf's registry
** entry and arguments were resolved by the compiler, and registry entries
** never move, so nothing is looked up here even if a callback registers
** leaves. */

/* Node 'j' failed with the message in I->errmsg; 'what' names the phase
** ("" for a tick, "halt: "). */
LISPBT_COLD static void nodeerror(bt_Inst *I, int32_t j, const char *what) {
    I->stats[j].errors++;
    I->errors++;
    bt_report(I, LOG_ERROR, j, "%s: %s%s", bt_def_nodename(I->D, j), what, I->errmsg);
}

/* Point the ctx at leaf node 'j'; returns its arguments. */
static LISPBT_INLINE const bt_LeafArgs *setctx(bt_Inst *I, int32_t j) {
    const bt_LeafArgs *a = &I->D->largs[j];
    I->ctx.node = j;
    I->ctx.a = a;
    return a;
}

LISPBT_COLD static int leaferror(bt_Inst *I, int32_t i, int st) {
    if (st == BT_RUNNING) {
        bt_leaf_error(&I->ctx, "a condition must not return running");
    } else if (st != BT_ERROR) {
        bt_leaf_error(&I->ctx, "invalid status %d returned", st);
    }
    nodeerror(I, i, "");
    return BT_FAILURE;
}

/* Tick the leaf of node 'i' (cond or act); returns a valid status (an
** error has been reported and became failure). */
static LISPBT_INLINE int callleaf(bt_Inst *I, int32_t i) {
    const bt_LeafArgs *a = setctx(I, i);
    const bt_Leaf *l = a->leaf;
    int st = l->fn(&I->ctx, l->ud);
    if (lispbt_likely((unsigned)st - 1u < a->nok)) { /* 1..2, or 1..3 for actions */
        return st;
    }
    return leaferror(I, i, st);
}

/* Halt the running action of node 'j' through its leaf's halt callback. */
LISPBT_COLD static void callhalt(bt_Inst *I, int32_t j) {
    const bt_Leaf *l = I->D->largs[j].leaf;
    bt_Ctx *c = &I->ctx;
    if (l->halt == NULL) {
        return;
    }
    setctx(I, j);
    c->tick = I->tick;
    c->halted = 1;
    l->halt(c, l);
    if (c->halted < 0) {
        nodeerror(I, j, "halt: ");
    }
    c->halted = 0;
}

/* ---- executor ----
**
** One executor body, execk, is compiled four times with the flags as a
** constant: exec0 (level counters), exec1 (level timing), and execx0 and
** execx1, the same with tracing on.  bt_tick picks the copy once per tick,
** so a feature that is off costs nothing inside the tree, and a setting
** changed by a leaf takes effect at the next tick.
**
** At level timing '*t' holds the cycle count at which the node starts (the
** previous boundary: its parent's start or its previous sibling's end) and
** is set to the count at which it ends, so each node costs one counter
** read.  At level counters no node reads the clock: trace events of nodes
** then carry the tick's start time (I->tick_ts) and no duration, and the
** events of consecutive C leaves share one ring record (see runleaf). */

LISPBT_NOINLINE static int exec0(bt_Inst *I, int32_t i, uint64_t *t);
LISPBT_NOINLINE static int exec1(bt_Inst *I, int32_t i, uint64_t *t);
LISPBT_NOINLINE static int execx0(bt_Inst *I, int32_t i, uint64_t *t);
LISPBT_NOINLINE static int execx1(bt_Inst *I, int32_t i, uint64_t *t);

static LISPBT_INLINE int64_t nodets(bt_Inst *I, uint64_t t, unsigned fl) {
    return (fl & BT_FTIMING) ? I->tick_ts + clk_ns(I->rate, t - I->tick_c0) : I->tick_ts;
}

/* Node 'i' starts: its node_enter event; returns its start boundary. */
static LISPBT_INLINE uint64_t enter(bt_Inst *I, int32_t i, const uint64_t *t, unsigned fl) {
    if (fl & BT_FTRACE) {
        trace_node(&I->trace, TRACE_NODE_ENTER, I->tick, i, nodets(I, *t, fl), TRACE_ST_NONE, -1);
    }
    return (fl & BT_FTIMING) ? *t : 0;
}

/* Node 'i' returned 'st': its last status and counters. */
static LISPBT_INLINE void count(bt_Inst *I, int32_t i, int st) {
    I->last[i] = (uint8_t)st;
    I->counts[4 * i + st]++;
}

/* Bookkeeping after node 'i' returned 'st': last status, counters, the
** node_exit event, and at level timing one counter read, which ends this
** node and becomes the next boundary '*t'.  The node's start and end go to
** the visit log; nodetimes() turns them into durations, counters and
** histograms at the start of the next tick or when the node counters are
** read, so that no work waits for the counter read on the tick path (a
** read takes ~10 ns on the bench VM, and work that depends on it does not
** overlap with it). */
static LISPBT_INLINE int finish(bt_Inst *I, int32_t i, int st, uint64_t t0, uint64_t *t,
                                unsigned fl) {
    int64_t d = -1;
    count(I, i, st);
    if (fl & BT_FTIMING) {
        uint64_t t1 = lispbt_cycles();
        bt_Visit *v;
        lispbt_assert(I->nvisits < I->D->n); /* a tick visits a node at most once */
        v = &I->visits[I->nvisits++];
        *t = t1;
        v->node = i;
        v->t0 = t0;
        v->t1 = t1;
        if (fl & BT_FTRACE) {
            d = clk_ns(I->rate, t1 - t0);
        }
    }
    if (fl & BT_FTRACE) {
        trace_node(&I->trace, TRACE_NODE_EXIT, I->tick, i, nodets(I, *t, fl), st, d);
    }
    return st;
}

/* nodetimes' rare case: a visit of 2^32 cycles or more ('dc'). */
LISPBT_COLD static int64_t nodetime_long(bt_Inst *I, int32_t node, uint64_t dc) {
    int64_t d = clk_ns(I->rate, dc);
    hist_bump(I->nbuckets + (size_t)node * HIST_NBUCKETS(HIST_COARSE), HIST_COARSE, d);
    return d;
}

/* Level timing: durations of the nodes in the visit log.  Inlined at the
** tick's start (one visit per tick for a 1-leaf tree: the call, its
** register saves and the rare case's registers cost as much as the loop). */
static LISPBT_INLINE void nodetimes(bt_Inst *I) {
    const bt_Visit *v = I->visits, *end = v + I->nvisits;
    uint64_t mul = I->rate->ns_mul;
    for (; v < end; v++) {
        bt_NodeStats *ns = &I->stats[v->node];
        uint64_t dc = v->t1 - v->t0;
        int64_t d;
        if (lispbt_likely(dc < ((uint64_t)1 << 32))) {
            /* d < 2^41 (the histogram's range) while a cycle lasts < 512 ns,
            ** so the bucket needs no clamping */
            d = (int64_t)((dc * mul) >> 32);
            I->nbuckets[(size_t)v->node * HIST_NBUCKETS(HIST_COARSE) + hist_index(HIST_COARSE, (uint64_t)d)]++;
        } else {
            d = nodetime_long(I, v->node, dc);
        }
        ns->last_ns = d;
        ns->total_ns += d;
        ns->max_ns = d > ns->max_ns ? d : ns->max_ns;
        ns->min_ns = d < ns->min_ns ? d : ns->min_ns;
    }
    I->nvisits = 0;
}

/* ---- runs: leaves at level counters with tracing ----
**
** At level counters the node events of a leaf carry the tick's start time
** and no duration, so the node_enter and node_exit of consecutive C leaves
** go into the ring as one run record (trace_run, up to TRACE_RUN_MAX
** leaves) instead of two records per leaf.  An open run (Run) has its
** events counted in the ring's seq but not yet written.  Before each call
** the seq counts the leaf's node_enter too, so any event the call pushes
** (a blackboard write, a job, an error) comes after it; such a leaf ends
** the run, which is written around those events (trace_fill_run).  A C leaf
** never reads the ring, so it cannot tell that the run is not written yet.
** A Lua or Lisp leaf may read the trace during its call and must find its
** node_enter there, so the run is written before it and it gets two
** records of its own. */

typedef struct Run {
    uint64_t first; /* seq of the run's first event */
    int32_t node0;  /* its first leaf; the others follow in node order */
    int k;          /* leaves in the run, 0..TRACE_RUN_MAX - 1 */
} Run;

/* Write the open run, whose last leaf returned 'last' (the others 'cont'),
** and start a new one at the ring's seq. */
static LISPBT_INLINE void endrun(bt_Inst *I, Run *r, int cont, int last) {
    if (r->k > 0) {
        I->trace.seq = r->first + 2 * (uint64_t)r->k;
        trace_run(&I->trace, r->first, I->tick, r->node0, r->k, I->tick_ts, cont, last);
        r->k = 0;
    }
    r->first = I->trace.seq;
}

/* runleaf's other cases: a Lua or Lisp leaf, once the open run is written
** (its own node_enter and node_exit records, through enter and finish),
** and a C leaf whose call pushed events (the open run 'r' and the leaf's
** node_enter are written before them, its node_exit by finish after). */
LISPBT_COLD static int scriptleaf(bt_Inst *I, int32_t c) {
    uint64_t t = 0;
    enter(I, c, &t, BT_FTRACE);
    return finish(I, c, callleaf(I, c), 0, &t, BT_FTRACE);
}
LISPBT_COLD static int pushedleaf(bt_Inst *I, int32_t c, Run r, int cont, int st) {
    uint64_t t = 0;
    trace_fill_run(&I->trace, r.first, I->tick, r.node0, r.k, I->tick_ts, cont);
    return finish(I, c, st, 0, &t, BT_FTRACE);
}

/* Tick leaf 'c' (cond or act), the next one after the open run 'r' if
** that is not empty, at level counters with tracing. */
static LISPBT_INLINE int runleaf(bt_Inst *I, int32_t c, Run *r, int cont) {
    trace_Ring *R = &I->trace;
    uint64_t seq = r->first + 2 * (uint64_t)r->k; /* seq of c's node_enter */
    int st;
    if (r->k == 0) {
        r->node0 = c;
    }
    if (lispbt_unlikely(I->D->largs[c].leaf->impl >= BT_IMPL_LISP)) {
        endrun(I, r, cont, cont);
        st = scriptleaf(I, c);
        r->first = R->seq;
        return st;
    }
    R->seq = seq + 1;
    st = callleaf(I, c);
    if (lispbt_unlikely(R->seq != seq + 1)) {
        st = pushedleaf(I, c, *r, cont, st);
        r->k = 0;
        r->first = R->seq;
        return st;
    }
    if (++r->k == TRACE_RUN_MAX) {
        endrun(I, r, cont, st);
    }
    count(I, c, st);
    return st;
}

/* Tick leaf 'c' (cond or act): the one leaf runner of the executor.  With
** tracing at level counters the leaf joins the open run 'r' (a child of a
** composite whose other children run with 'cont'); otherwise enter and
** finish do the bookkeeping. */
static LISPBT_INLINE int tickleaf(bt_Inst *I, int32_t c, uint64_t *t, unsigned fl, Run *r,
                                  int cont) {
    uint64_t t0;
    if (fl == BT_FTRACE) {
        return runleaf(I, c, r, cont);
    }
    t0 = enter(I, c, t, fl);
    return finish(I, c, callleaf(I, c), t0, t, fl);
}

/* Tick child 'c': leaves inline, composites through the executor copy of
** 'fl'. */
static LISPBT_INLINE int child(bt_Inst *I, const bt_Node *nodes, int32_t c, uint64_t *t,
                               unsigned fl) {
    unsigned kind = nodes[c].kind;
    uint64_t t0;
    int st;
    if (lispbt_likely(kind - BT_NCOND <= BT_NACT - BT_NCOND)) {
        Run r = {I->trace.seq, c, 0};
        st = tickleaf(I, c, t, fl, &r, 0);
        if (fl == BT_FTRACE) {
            endrun(I, &r, 0, st);
        }
        return st;
    }
    if (kind - BT_NSUCCEED <= BT_NRUNNING - BT_NSUCCEED) {
        st = kind == BT_NSUCCEED ? BT_SUCCESS : kind == BT_NFAIL ? BT_FAILURE : BT_RUNNING;
        if (fl == BT_FTRACE) { /* a run of this one leaf */
            Run r = {I->trace.seq, c, 1};
            endrun(I, &r, 0, st);
            count(I, c, st);
            return st;
        }
        t0 = enter(I, c, t, fl);
        return finish(I, c, st, t0, t, fl);
    }
    switch (fl) {
        case 0: return exec0(I, c, t);
        case BT_FTIMING: return exec1(I, c, t);
        case BT_FTRACE: return execx0(I, c, t);
        default: return execx1(I, c, t);
    }
}

/* reactive-seq / reactive-sel node 'i' (muesli-bt's semantics.md): every
** tick from child 0, like seq / sel.  mem.idx is the node of the child
** that returned running at the node's last tick (0: none), mem.idx2 its
** position.  That child's subtree is halted, after the child that decided
** this tick has returned, when the node moves away from it:
**   reactive-seq: all succeeded, a child failed (even that one), or
**                 another child is running;
**   reactive-sel: all failed, or an earlier child succeeded or runs. */
static LISPBT_INLINE int reactive(bt_Inst *I, int32_t i, uint64_t *t, unsigned fl) {
    const bt_Node *nodes = I->D->nodes, *n = &nodes[i];
    bt_NodeMem *m = &I->mem[i];
    int32_t prev = m->idx, prevk = m->idx2, c = i + 1, k;
    int sel = n->kind == BT_NREACTSEL, cont = sel ? BT_FAILURE : BT_SUCCESS, st = cont, stale;
    for (k = 0; k < n->nkids; k++, c += (int32_t)nodes[c].size) {
        st = child(I, nodes, c, t, fl);
        if (st != cont) {
            break;
        }
    }
    if (k == n->nkids) {
        stale = 1; /* all children gave 'cont' */
    } else if (sel) {
        stale = prev != c && prevk > k;
    } else {
        stale = st == BT_FAILURE || prev != c;
    }
    if (prev > 0 && stale) {
        haltrange(I, prev, prev + (int32_t)nodes[prev].size);
    }
    m->idx = st == BT_RUNNING ? c : 0;
    m->idx2 = st == BT_RUNNING ? k : 0;
    return st;
}

/* Tick composite node 'i'; reached only through child(). */
static LISPBT_INLINE int execk(bt_Inst *I, int32_t i, uint64_t *t, unsigned fl) {
    const bt_Node *nodes = I->D->nodes, *n = &nodes[i];
    bt_NodeMem *m = &I->mem[i];
    uint64_t t0 = enter(I, i, t, fl);
    int32_t c, k, end = i + (int32_t)n->size;
    int st = BT_SUCCESS;
    switch (n->kind) {
        case BT_NSEQ:
        case BT_NSEL: {
            int cont = n->kind == BT_NSEQ ? BT_SUCCESS : BT_FAILURE;
            if (n->leafy) { /* the children are leaves i+1 .. end-1: no kind tests */
                Run run = {I->trace.seq, i + 1, 0};
                for (c = i + 1; c < end; c++) {
                    st = tickleaf(I, c, t, fl, &run, cont);
                    if (st != cont) {
                        break;
                    }
                }
                if (fl == BT_FTRACE) {
                    endrun(I, &run, cont, st);
                }
                if (c < end) {
                    preempt(I, c + 1, end);
                }
                break;
            }
            for (c = i + 1; c < end;) {
                st = child(I, nodes, c, t, fl);
                c += (int32_t)nodes[c].size;
                if (st != cont) {
                    preempt(I, c, end);
                    break;
                }
            }
            break;
        }
        case BT_NMEMSEQ:
        case BT_NMEMSEL: {
            int cont = n->kind == BT_NMEMSEQ ? BT_SUCCESS : BT_FAILURE;
            for (k = 0, c = i + 1; k < m->idx; k++) {
                c += (int32_t)nodes[c].size; /* skip children finished earlier */
            }
            for (; k < n->nkids; k++) {
                st = child(I, nodes, c, t, fl);
                c += (int32_t)nodes[c].size;
                if (st != cont) {
                    break;
                }
            }
            /* mem-seq stays at a failed child too; finishing (mem-seq
            ** success, mem-sel success) halts all children afresh */
            m->idx = st == BT_RUNNING || (st == BT_FAILURE && cont == BT_SUCCESS) ? k : 0;
            if (st == BT_SUCCESS) {
                haltrange(I, i + 1, end);
            }
            break;
        }
        case BT_NASYNCSEQ: /* one child per tick: running between children */
            for (k = 0, c = i + 1; k < m->idx; k++) {
                c += (int32_t)nodes[c].size;
            }
            st = child(I, nodes, c, t, fl);
            if (st == BT_FAILURE) {
                m->idx = 0;
            } else if (st == BT_SUCCESS && k + 1 < n->nkids) {
                m->idx = k + 1;
                st = BT_RUNNING;
            } else if (st == BT_SUCCESS) {
                m->idx = 0;
                haltrange(I, i + 1, end);
            }
            break;
        case BT_NREACTSEQ:
        case BT_NREACTSEL:
            st = reactive(I, i, t, fl);
            break;
        case BT_NPAR: {
            int32_t need = n->param, kids = n->nkids;
            for (k = 0, c = i + 1; k < kids; k++, c += (int32_t)nodes[c].size) {
                int cs;
                if (I->mem[c].pdone) {
                    continue;
                }
                cs = child(I, nodes, c, t, fl);
                if (cs != BT_RUNNING) {
                    I->mem[c].pdone = 1;
                    if (cs == BT_SUCCESS) {
                        m->idx++;
                    } else {
                        m->idx2++;
                    }
                }
            }
            if (m->idx >= need) {
                st = BT_SUCCESS;
            } else if (m->idx2 > kids - need) {
                st = BT_FAILURE;
            } else {
                st = BT_RUNNING;
            }
            if (st != BT_RUNNING) { /* finished: halt the rest, start afresh */
                for (k = 0, c = i + 1; k < kids; k++, c += (int32_t)nodes[c].size) {
                    if (I->last[c] == BT_RUNNING && !I->mem[c].pdone) {
                        haltrange(I, c, c + (int32_t)nodes[c].size);
                    }
                    I->mem[c].pdone = 0;
                }
                m->idx = m->idx2 = 0;
            }
            break;
        }
        case BT_NINVERT:
            st = child(I, nodes, i + 1, t, fl);
            st = st == BT_SUCCESS ? BT_FAILURE : st == BT_FAILURE ? BT_SUCCESS : st;
            break;
        case BT_NREPEAT:
            if (m->idx >= n->param) {
                st = BT_SUCCESS; /* also n = 0: the child is not ticked */
                break;
            }
            st = child(I, nodes, i + 1, t, fl);
            if (st == BT_SUCCESS) {
                st = ++m->idx >= n->param ? BT_SUCCESS : BT_RUNNING;
            }
            break;
        case BT_NRETRY:
            st = child(I, nodes, i + 1, t, fl);
            if (st == BT_SUCCESS) {
                m->idx = 0;
            } else if (st == BT_FAILURE) {
                if (m->idx < n->param + 1) { /* exhausted: the count stays until a success */
                    m->idx++;
                }
                if (m->idx <= n->param) {
                    st = BT_RUNNING;
                }
            }
            break;
        default: /* leaf kinds never get here: child() ticks them inline */
            lispbt_assert(0);
            st = BT_FAILURE;
            break;
    }
    return finish(I, i, st, t0, t, fl);
}

LISPBT_NOINLINE static int exec0(bt_Inst *I, int32_t i, uint64_t *t) {
    return execk(I, i, t, 0);
}
LISPBT_NOINLINE static int exec1(bt_Inst *I, int32_t i, uint64_t *t) {
    return execk(I, i, t, BT_FTIMING);
}
LISPBT_NOINLINE static int execx0(bt_Inst *I, int32_t i, uint64_t *t) {
    return execk(I, i, t, BT_FTRACE);
}
LISPBT_NOINLINE static int execx1(bt_Inst *I, int32_t i, uint64_t *t) {
    return execk(I, i, t, BT_FTRACE | BT_FTIMING);
}

/* Tick-level bookkeeping after the root returned 'st' (cold parts out of
** line: budget overrun, trace, series). */
LISPBT_COLD static void tickextra(bt_Inst *I, unsigned fl, int st, int64_t d, int64_t objs0,
                                  int64_t gc0) {
    lisp_State *S = I->ctx.S;
    int overrun = I->budget_ns > 0 && d > I->budget_ns;
    int64_t start = I->tick_ts;
    if (I->tick_stamps != BT_STAMP_CLOCK) { /* the tick has a tick_ts */
        if (fl & BT_FTRACE) {
            trace_node(&I->trace, TRACE_TICK_END, I->tick, -1, start + d, st, d);
        }
        clk_raise(I->E->clock, start + d); /* later stamps come after this tick */
        if (I->tick_stamps == BT_STAMP_TICK) {
            I->tick_ts = start + d; /* the overrun warning is not before tick_end */
        }
    }
    if (overrun) { /* after tick_end: its warning is stamped later than the tick's end */
        I->overruns++;
        bt_report(I, LOG_WARN, -1, "tick budget overrun: duration_ns=%lld budget_ms=%lld",
                  (long long)d, (long long)(I->budget_ns / 1000000));
    }
    if (I->series) {
        bt_Sample *x = &I->series[I->shead];
        x->tick = I->tick;
        x->ts_ns = start;
        x->duration_ns = d;
        x->status = (uint8_t)st;
        x->overrun = (uint8_t)overrun;
        x->objects = (int64_t)lisp_objcount(S) - objs0;
        x->gc_ns = lisp_gctime(S) - gc0;
        I->shead = I->shead + 1 == I->scap ? 0 : I->shead + 1;
        I->scount += I->scount < I->scap;
    }
}

/* The event stream's part of a tick (cold): 'phase' as bt_Env.evt_tick.
** Phase 0 is called only when the stream has something to emit before the
** tick (tickat tests E->evt_pre and E->evt_def inline). */
LISPBT_COLD LISPBT_NOINLINE static void evtick(bt_Inst *I, int phase, uint64_t seq0) {
    if (phase == 1) {
        I->evt_forced = 0;
    }
    I->E->evt_tick(I->E->evt_ud, I, phase, seq0);
    if (phase == 1) {
        I->E->evt_cur = NULL;
    }
    if (phase == 1 && !I->trace_on) { /* the user did not ask for these: out of */
        I->trace.seq0 = I->trace.seq; /* reach (trace_clear's message wipe not needed) */
    }
}

/* Level sampled: this tick is timed; draw the gap to the next timed tick,
** uniform in 1 .. 2N-1 (mean N). */
LISPBT_COLD static void nextsample(bt_Inst *I) {
    uint32_t x = I->sample_rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    I->sample_rng = x;
    I->sample_left = 1 + (int)(x % (uint32_t)(2 * I->sample_every - 1));
    I->sampled++;
}

/* bt_tick and bt_tick_chain: '*cyc' is the cycle count the tick starts
** at (0: read it here) and gets the count at its end. */
static LISPBT_INLINE int tickat(bt_Inst *I, uint64_t *cyc) {
    const bt_Node *nodes = I->D->nodes;
    unsigned fl = I->flags, extra;
    uint64_t c0, t, eseq0 = 0;
    int64_t d, objs0 = 0, gc0 = 0;
    int st;
    if (lispbt_unlikely(I->ticking | I->halting)) {
        return busy(I);
    }
    I->ticking = 1;
    if (lispbt_unlikely(I->sample_every != 0) && --I->sample_left <= 0) { /* level sampled */
        fl |= BT_FTIMING;
        nextsample(I);
    }
    if (lispbt_unlikely(I->E->evt_on)) { /* the one branch of the event stream when off */
        fl |= BT_FTRACE; /* at the instance's profile level: timing or runs */
        eseq0 = I->evt_pending ? I->evt_mark : I->trace.seq;
        I->evt_pending = 0;
        I->evt_forced = 1;
        I->E->evt_cur = I;
        if (I->E->evt_pre || I->E->evt_def != I->D) { /* something to emit before the tick */
            evtick(I, 0, eseq0);
        }
    }
    lisp_tickin(I->tk); /* the GC policy's tick scope (gc.set-policy!) */
    if (I->nvisits) { /* the previous tick's, before this tick's clock starts */
        nodetimes(I);
    }
    I->tick++;
    I->ctx.tick = I->tick;
    /* tracing or the series: their stamps and counts (one test when off) */
    extra = fl & (BT_FTRACE | BT_FSERIES);
    fl &= BT_FTIMING | BT_FTRACE;
    if (lispbt_unlikely(extra & BT_FSERIES)) {
        objs0 = (int64_t)lisp_objcount(I->ctx.S);
        gc0 = lisp_gctime(I->ctx.S);
    }
    t = c0 = *cyc ? *cyc : lispbt_cycles();
    clk_rate_check(I->E->rate, c0);
    I->tick_stamps = BT_STAMP_CLOCK;
    if (lispbt_unlikely(extra)) {
        /* not below any earlier stamp of the host (clk_peek: max of the
        ** clock and its high-water mark); no raise: a later stamp is a later
        ** clock read or the high-water mark, neither lower, and the end of
        ** the tick raises the clock to the tick's end, which the cycle
        ** counter gives (an atomic less per traced tick) */
        I->tick_ts = clk_peek(I->E->clock);
        I->tick_c0 = c0;
        I->tick_stamps = (fl & BT_FTIMING) ? BT_STAMP_CYCLES : BT_STAMP_TICK;
    }
    if (lispbt_likely(fl == 0)) {
        st = child(I, nodes, 0, &t, 0);
        t = lispbt_cycles();
    } else if (fl == BT_FTIMING) {
        st = child(I, nodes, 0, &t, BT_FTIMING);
    } else {
        trace_node(&I->trace, TRACE_TICK_BEGIN, I->tick, -1, I->tick_ts, TRACE_ST_NONE, -1);
        if (fl & BT_FTIMING) {
            st = child(I, nodes, 0, &t, BT_FTRACE | BT_FTIMING);
        } else {
            st = child(I, nodes, 0, &t, BT_FTRACE);
            t = lispbt_cycles();
        }
    }
    *cyc = t;
    if (lispbt_likely(t - c0 < ((uint64_t)1 << 32))) {
        /* clk_ns's integer case: d < 2^41, the histogram's range (see
        ** nodetimes), so the bucket needs no clamping */
        d = (int64_t)(((t - c0) * I->rate->ns_mul) >> 32);
        I->tbuckets[hist_index(HIST_FINE, (uint64_t)d)]++;
    } else {
        d = clk_ns(I->rate, t - c0);
        hist_bump(I->tbuckets, HIST_FINE, d);
    }
    I->count++;
    I->last_ns = d;
    I->total_ns += d;
    I->max_ns = d > I->max_ns ? d : I->max_ns;
    I->min_ns = d < I->min_ns ? d : I->min_ns;
    /* (a leaf may have turned the series on: I->flags again) */
    if (lispbt_unlikely(d > I->budget_lim || ((fl | I->flags) & (BT_FTRACE | BT_FSERIES)))) {
        tickextra(I, fl, st, d, objs0, gc0);
    }
    if (lispbt_unlikely(I->evt_forced)) {
        evtick(I, 1, eseq0);
    }
    I->ticking = 0;
    lisp_tickout(I->ctx.S, I->tk); /* may run a collection deferred by 'between-ticks' */
    return st;
}

int bt_tick(bt_Inst *I) {
    uint64_t c = 0;
    return tickat(I, &c);
}

int bt_tick_chain(bt_Inst *I, uint64_t *cyc) {
    return tickat(I, cyc);
}

/* Prefetch what a tick of 'I' touches: stage 0 the instance itself (no
** load from it), stage 1 (after stage 0 had time to land) the arrays it
** points to and the tick-time bucket of the last duration (the likeliest). */
static LISPBT_INLINE void prefetch(const bt_Inst *I, int stage) {
    if (stage == 0) { /* the lines of the fields a tick uses: bt_Inst up to its ctx */
        const char *p = (const char *)I;
        __builtin_prefetch(p, 1);
        __builtin_prefetch(p + 64, 1);
        __builtin_prefetch(p + 128, 1);
        __builtin_prefetch((const char *)(&I->ctx + 1) - 1, 1);
        return;
    }
    __builtin_prefetch(I->last, 1);
    __builtin_prefetch(I->counts, 1);
    __builtin_prefetch(I->mem, 1);
    __builtin_prefetch(I->D->nodes, 0);
    __builtin_prefetch(I->D->largs, 0);
    if (I->count > 0) {
        __builtin_prefetch(I->tbuckets + hist_index(HIST_FINE, (uint64_t)I->last_ns), 1);
    }
}

void bt_tick_batch(void *const *b, int n, int avail, uint64_t *cyc, signed char *st) {
    int k;
    if (n > 0) {
        prefetch(b[0], 1);
    }
    if (avail > 1) {
        prefetch(b[1], 0);
    }
    for (k = 0; k < n; k++) {
        int r;
        if (k + 2 < avail) { /* two ahead: the instance; one ahead: its arrays */
            prefetch(b[k + 2], 0);
        }
        if (k + 1 < avail) {
            prefetch(b[k + 1], 1);
        }
        r = tickat(b[k], cyc);
        if (lispbt_unlikely(r < 0)) {
            *cyc = 0; /* the next tick reads the counter itself */
        }
        st[k] = (signed char)r;
    }
}

int bt_def_scripted(const bt_Def *D) {
    int32_t i;
    for (i = 0; D->largs && i < D->n; i++) {
        const bt_Leaf *l = D->largs[i].leaf;
        if (l && l->impl >= BT_IMPL_LISP) {
            return 1;
        }
    }
    return 0;
}

/* ---- accessors and settings ---- */

int bt_status_parse(const char *s, size_t len) {
    if (len != 7) { /* all three names are 7 characters */
        return -1;
    }
    switch (s[0]) {
        case 's': return memcmp(s, "success", 7) == 0 ? BT_SUCCESS : -1;
        case 'f': return memcmp(s, "failure", 7) == 0 ? BT_FAILURE : -1;
        case 'r': return memcmp(s, "running", 7) == 0 ? BT_RUNNING : -1;
        default: return -1;
    }
}

const char *bt_profile_name(int level) {
    return level == BT_PROFILE_TIMING ? "timing" : level == BT_PROFILE_SAMPLED ? "sampled" : "counters";
}

const char *bt_status_name(int st) {
    switch (st) {
        case BT_SUCCESS: return "success";
        case BT_FAILURE: return "failure";
        case BT_RUNNING: return "running";
        default: return "idle";
    }
}

const char *bt_def_kindname(const bt_Def *D, int node) {
    return bt_kindnames[D->nodes[node].kind];
}
int bt_def_subtree(const bt_Def *D, int node) {
    return (int)D->nodes[node].size;
}

bt_Def *bt_inst_def(bt_Inst *I) {
    return I->D;
}
int64_t bt_inst_id(bt_Inst *I) {
    return I->id;
}
int64_t bt_inst_ticks(bt_Inst *I) {
    return I->tick;
}
bt_NodeMem *bt_inst_mem(bt_Inst *I, int node) {
    return &I->mem[node];
}
trace_Ring *bt_inst_trace(bt_Inst *I) {
    return &I->trace;
}
lisp_State *bt_inst_state(bt_Inst *I) {
    return I->ctx.S;
}
void bt_inst_sethaslua(bt_Inst *I) {
    I->haslua = 1;
}
void bt_set_budget_ms(bt_Inst *I, int64_t ms) {
    I->budget_ns = ms * 1000000;
    I->budget_lim = I->budget_ns > 0 ? I->budget_ns : INT64_MAX;
}
static void setflags(bt_Inst *I) {
    I->flags = (I->profile == BT_PROFILE_TIMING ? BT_FTIMING : 0u) | (I->trace_on ? BT_FTRACE : 0u) |
               (I->series != NULL ? BT_FSERIES : 0u);
}
void bt_set_profile(bt_Inst *I, int level) {
    I->profile = level;
    I->sample_every = 0;
    setflags(I);
}
void bt_set_sampling(bt_Inst *I, int every) {
    I->profile = BT_PROFILE_SAMPLED;
    I->sample_every = every;
    I->sampled = 0;
    I->sample_rng = (uint32_t)hash64_mix((uint64_t)I->id) | 1u; /* never 0 */
    I->sample_left = 1; /* the next tick is timed: a first figure at once */
    setflags(I);
}
void bt_set_trace(bt_Inst *I, int on) {
    I->trace_on = on != 0;
    setflags(I);
}
void bt_set_readtrace(bt_Inst *I, int on) {
    I->readtrace_on = on != 0;
}

void bt_tickstats(bt_Inst *I, bt_TickStats *out) {
    out->count = I->count;
    out->overruns = I->overruns;
    out->errors = I->errors;
    out->last_ns = I->last_ns;
    out->max_ns = I->max_ns;
    out->total_ns = I->total_ns;
    out->budget_ns = I->budget_ns;
    out->profile = I->profile;
    out->sample_every = I->sample_every;
    out->sampled = I->sampled;
    out->trace = I->trace_on;
    out->readtrace = I->readtrace_on;
}

void bt_node_addwork(bt_Inst *I, int32_t node, int64_t n) {
    if (node >= 0 && node < I->D->n && n > 0) {
        I->stats[node].work += (uint64_t)n;
    }
}

const bt_NodeStats *bt_nodestats(bt_Inst *I, int node) {
    bt_NodeStats *s = &I->stats[node];
    nodetimes(I);
    memcpy(s->count, &I->counts[4 * node], sizeof s->count);
    return s;
}

/* The tick path counts into the buckets only (hist_bump); the histogram
** readers get count, min, max and sum from the counters kept beside them. */
const hist_Hist *bt_tickhist(bt_Inst *I) {
    hist_Hist *h = &I->thist;
    h->count = I->count;
    h->min = I->count ? I->min_ns : INT64_MAX;
    h->max = I->count ? I->max_ns : INT64_MIN;
    h->sum = I->total_ns;
    return h;
}

const hist_Hist *bt_nodehist(bt_Inst *I, int node) {
    hist_Hist *h = &I->nhist[node];
    const bt_NodeStats *s = &I->stats[node];
    uint64_t count = 0;
    uint32_t k;
    nodetimes(I);
    for (k = 0; k < h->nbuckets; k++) {
        count += h->b[k];
    }
    h->count = count;
    h->min = count ? s->min_ns : INT64_MAX; /* exact extremes: ranks 1 and n are exact */
    h->max = count ? s->max_ns : INT64_MIN;
    h->sum = s->total_ns;
    return h;
}

int bt_series_enable(bt_Inst *I, int capacity) {
    mem_Heap *M = I->E->mem;
    bt_Sample *ns = NULL;
    if (capacity > 0) {
        ns = mem_calloc(M, sizeof(bt_Sample) * (size_t)capacity);
        if (ns == NULL) {
            return -1;
        }
    }
    mem_free(M, I->series, sizeof(bt_Sample) * (size_t)I->scap);
    I->series = ns;
    I->scap = capacity;
    I->shead = I->scount = 0;
    setflags(I);
    return 0;
}

/* Render rows with tick > 'after' (all: after = -1); returns the highest
** tick rendered (or 'after'). */
int64_t bt_series_render(bt_Inst *I, int csv, int header, int64_t after, sbuf *b) {
    int i;
    int64_t last = after;
    if (csv && header) {
        sbuf_puts(b, "tick,ts_ns,duration_ns,status,overrun,objects,gc_ns\n");
    }
    for (i = 0; i < I->scount; i++) {
        int k = (I->shead - I->scount + i + I->scap) % I->scap;
        const bt_Sample *x = &I->series[k];
        if (x->tick <= after) {
            continue;
        }
        if (csv) {
            sbuf_printf(b, "%lld,%lld,%lld,%s,%d,%lld,%lld\n", (long long)x->tick,
                        (long long)x->ts_ns, (long long)x->duration_ns, bt_status_name(x->status),
                        x->overrun, (long long)x->objects, (long long)x->gc_ns);
        } else {
            sbuf_printf(b,
                        "{\"tick\":%lld,\"ts_ns\":%lld,\"duration_ns\":%lld,\"status\":\"%s\","
                        "\"overrun\":%s,\"objects\":%lld,\"gc_ns\":%lld}\n",
                        (long long)x->tick, (long long)x->ts_ns, (long long)x->duration_ns,
                        bt_status_name(x->status), x->overrun ? "true" : "false",
                        (long long)x->objects, (long long)x->gc_ns);
        }
        last = x->tick;
    }
    return last;
}

void bt_stats_text(bt_Inst *I, sbuf *b) {
    hist_Summary t;
    int i;
    hist_summary(bt_tickhist(I), &t);
    sbuf_printf(b, "tick_count=%llu\n", (unsigned long long)I->count);
    sbuf_printf(b, "tick_overrun_count=%llu\n", (unsigned long long)I->overruns);
    sbuf_printf(b, "tick_last_ns=%lld\n", (long long)I->last_ns);
    sbuf_printf(b, "tick_max_ns=%lld\n", (long long)I->max_ns);
    sbuf_printf(b, "tick_total_ns=%lld\n", (long long)I->total_ns);
    sbuf_printf(b, "tick_budget_ms=%lld\n", (long long)(I->budget_ns / 1000000));
    sbuf_printf(b, "tick_p50_ns=%lld\n", (long long)t.p50);
    sbuf_printf(b, "tick_p90_ns=%lld\n", (long long)t.p90);
    sbuf_printf(b, "tick_p99_ns=%lld\n", (long long)t.p99);
    sbuf_printf(b, "tick_p999_ns=%lld\n", (long long)t.p999);
    sbuf_printf(b, "errors=%llu\n", (unsigned long long)I->errors);
    sbuf_printf(b, "profile_level=%s\n", bt_profile_name(I->profile));
    if (I->profile == BT_PROFILE_SAMPLED) {
        sbuf_printf(b, "profile_sample_every=%d\n", I->sample_every);
        sbuf_printf(b, "profile_sampled_ticks=%llu\n", (unsigned long long)I->sampled);
    }
    sbuf_printf(b, "trace_enabled=%d\n", I->trace_on);
    sbuf_printf(b, "node_count=%d\n", I->D->n); /* inst:stats().nodes is the node array */
    for (i = 0; i < I->D->n; i++) {
        const bt_NodeStats *s = bt_nodestats(I, i);
        hist_Summary h;
        if (s->count[1] + s->count[2] + s->count[3] == 0) {
            continue; /* never ticked */
        }
        hist_summary(bt_nodehist(I, i), &h);
        sbuf_printf(b,
                    "node %d (%s) success=%llu failure=%llu running=%llu last_ns=%lld max_ns=%lld "
                    "total_ns=%lld p50_ns=%lld p90_ns=%lld p99_ns=%lld p999_ns=%lld errors=%llu\n",
                    i, bt_def_nodename(I->D, i), (unsigned long long)s->count[1],
                    (unsigned long long)s->count[2], (unsigned long long)s->count[3],
                    (long long)s->last_ns, (long long)s->max_ns, (long long)s->total_ns,
                    (long long)h.p50, (long long)h.p90, (long long)h.p99, (long long)h.p999,
                    (unsigned long long)s->errors);
        if (s->work > 0 && !b->oom && b->len > 0 && b->p[b->len - 1] == '\n') {
            b->len--; /* "node ... errors=N work=N": leaves that report work */
            sbuf_printf(b, " work=%llu\n", (unsigned long long)s->work);
        }
    }
}

static const char *keyname(void *ud, int32_t key) {
    return bt_key_name(((bt_Inst *)ud)->ctx.S, key);
}

static const char *nodename(void *ud, int32_t node) {
    bt_Inst *I = ud;
    return node >= 0 && node < I->D->n ? bt_def_nodename(I->D, node) : "tick";
}

void bt_trace_dump(bt_Inst *I, int n, sbuf *b) {
    trace_Names names;
    names.ud = I;
    names.key_name = keyname;
    names.node_name = nodename;
    trace_dump(&I->trace, n, &names, b);
}

int bt_trace_chrome(bt_Inst *I, sbuf *b) {
    trace_Names names;
    names.ud = I;
    names.key_name = keyname;
    names.node_name = nodename;
    return trace_chrome_json(&I->trace, &names, b);
}
