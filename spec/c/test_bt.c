/*
** test_bt.c -- C tests of the Lua-free BT engine through host.h, lisp.h and
** bt.h.  See LICENSE for copyright.
**
** Covers: hosts with and without workers; trees compiled from DSL by
** lisp_evalstring under lisp_pcall; ticks through bt_tick and (bt.tick);
** exact statuses of every composite/decorator over several ticks; exact
** compile error messages (host usable afterwards); C leaves registered with
** bt_reg_define (ctx fields, arguments, per-node memory, bt_leaf_error,
** halt callbacks on preemption, bt_halt, bt_reset), re-entrant ticks,
** unknown leaves; bt_stats_text, bt_trace_dump and log_dump formats; zero
** mem_Heap allocations over 10,000 ticks of a 255-node tree with tracing off
** and on; and that host_close returns every byte (run under ASan for the
** leak check of host_free).
**
** Plain main(); prints "N passed, M failed" last and exits non-zero on any
** failure.
*/
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "host.h"
#include "lisp.h"
#include "log.h"
#include "mem.h"
#include "sbuf.h"

#include "ctest.h"

static int same(const char *got, const char *want) {
    if (strcmp(got ? got : "", want) == 0) {
        return 1;
    }
    printf("--- got:  %s\n--- want: %s\n", got ? got : "(null)", want);
    return 0;
}

static int startswith(const char *s, const char *prefix) {
    if (s && strncmp(s, prefix, strlen(prefix)) == 0) {
        return 1;
    }
    printf("--- '%s' does not start with '%s'\n", s ? s : "(null)", prefix);
    return 0;
}

static int contains(const char *s, const char *sub) {
    if (s && strstr(s, sub)) {
        return 1;
    }
    printf("--- '%s' does not contain '%s'\n", s ? s : "(null)", sub);
    return 0;
}

static lispbt_Host *newhost(int workers, int trace_capacity) {
    host_Opts o;
    char err[200];
    lispbt_Host *H;
    host_defaults(&o);
    o.workers = workers;
    if (trace_capacity > 0) {
        o.trace_capacity = trace_capacity;
    }
    H = host_new(&o, err, sizeof err);
    if (H == NULL) {
        printf("host_new: %s\n", err);
        exit(1);
    }
    return H;
}

/* ---- protected evaluation ---- */

typedef struct Eval {
    const char *src;
    lisp_Value r;
} Eval;

static void doeval(lisp_State *S, void *ud) {
    Eval *e = ud;
    e->r = lisp_evalstring(S, e->src, strlen(e->src), "t");
}

static int eval(lispbt_Host *H, const char *src, lisp_Value *out) {
    Eval e;
    int st;
    e.src = src;
    e.r = lisp_nil();
    st = lisp_pcall(host_state(H), doeval, &e);
    if (st != LISP_OK) {
        if (out == NULL) {
            printf("error in '%s': %s\n", src, lisp_errmsg(host_state(H)));
        }
    }
    if (out) {
        *out = e.r;
    }
    return st;
}

static int evalok(lispbt_Host *H, const char *src) {
    return eval(H, src, NULL) == LISP_OK;
}

/* Evaluate 'src' expecting a symbol named 'want'. */
static int evalsym(lispbt_Host *H, const char *src, const char *want) {
    lisp_Value v;
    if (eval(H, src, &v) != LISP_OK) {
        printf("error in '%s': %s\n", src, lisp_errmsg(host_state(H)));
        return 0;
    }
    if (v.tag != LISP_TSYMBOL) {
        printf("'%s': not a symbol (tag %d)\n", src, v.tag);
        return 0;
    }
    return same(lisp_str(v, NULL), want);
}

static int evalerr(lispbt_Host *H, const char *src, const char *want) {
    int top = lisp_gettop(host_state(H));
    lisp_Value v;
    int st = eval(H, src, &v);
    if (st == LISP_OK) {
        printf("'%s': no error\n", src);
        return 0;
    }
    return same(lisp_errmsg(host_state(H)), want) && lisp_gettop(host_state(H)) == top;
}

/* The bt_Inst bound to global 'name'. */
static bt_Inst *getinst(lispbt_Host *H, const char *name) {
    lisp_Value v;
    if (!lisp_getglobal(host_state(H), name, &v) || !lisp_isudata(v, &bt_insttype)) {
        printf("global %s is not an instance\n", name);
        exit(1);
    }
    return lisp_udata(v);
}

/* Define global 'name' as a new instance of DSL 'dsl'. */
static bt_Inst *mkinst(lispbt_Host *H, const char *name, const char *dsl) {
    char src[8192];
    snprintf(src, sizeof src, "(define %s (bt.new-instance (bt %s)))", name, dsl);
    if (!evalok(H, src)) {
        exit(1);
    }
    return getinst(H, name);
}

/* Tick n times; statuses as text "success running ..." into buf. */
static const char *ticks(bt_Inst *I, int n, char *buf, size_t len) {
    int i;
    buf[0] = '\0';
    for (i = 0; i < n; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, len - l, "%s%s", i ? " " : "", bt_status_name(bt_tick(I)));
    }
    return buf;
}

static char *stats(bt_Inst *I) {
    sbuf b;
    char *s;
    sbuf_init(&b);
    bt_stats_text(I, &b);
    s = malloc(b.len + 1);
    memcpy(s, b.p ? b.p : "", b.len);
    s[b.len] = '\0';
    sbuf_free(&b);
    return s;
}

static char *logs(lispbt_Host *H, int n) {
    sbuf b;
    char *s;
    sbuf_init(&b);
    log_dump(host_log(H), n, &b);
    s = malloc(b.len + 1);
    memcpy(s, b.p ? b.p : "", b.len);
    s[b.len] = '\0';
    sbuf_free(&b);
    return s;
}

/* ---- C leaves ---- */

typedef struct Probe {
    int calls, halts;
    int64_t last_tick;
    int32_t last_node;
    int last_nargs;
    int64_t arg0;
    int status; /* returned by the leaf */
    bt_Inst *reenter;
    int reenter_result;
} Probe;

static int probe_leaf(bt_Ctx *c, int64_t ud) {
    Probe *p = (Probe *)(intptr_t)ud;
    p->calls++;
    p->last_tick = c->tick;
    p->last_node = c->node;
    p->last_nargs = c->a->nargs;
    p->arg0 = c->a->nargs > 0 && c->a->args[0].tag == LISP_TINT ? c->a->args[0].u.i : -1;
    if (p->reenter) {
        p->reenter_result = bt_tick(p->reenter);
    }
    if (p->status == BT_ERROR) {
        return bt_leaf_error(c, "probe failed at tick %lld", (long long)c->tick);
    }
    return p->status;
}

static void probe_halt(bt_Ctx *c, const bt_Leaf *l) {
    Probe *p = (Probe *)(intptr_t)l->ud;
    CHECK(c->halted == 1);
    p->halts++;
}

/* Per-node memory: returns running until the count in node memory reaches
** its argument, then success. */
static int count_leaf(bt_Ctx *c, int64_t ud) {
    bt_NodeMem *m = bt_inst_mem(c->I, c->node);
    (void)ud;
    if (c->a->nargs != 1 || c->a->args[0].tag != LISP_TINT) {
        return bt_leaf_error(c, "count: expected (act count N)");
    }
    if (++m->idx < c->a->args[0].u.i) {
        return BT_RUNNING;
    }
    m->idx = 0;
    return BT_SUCCESS;
}

typedef struct Reg {
    const char *name;
    int kind;
    bt_LeafFn fn;
    bt_HaltFn halt;
    int64_t ud;
} Reg;

static void doregister(lisp_State *S, void *ud) {
    Reg *r = ud;
    int top = lisp_gettop(S);
    lisp_Value name = lisp_cintern(S, r->name);
    bt_reg_define(S, bt_reg(S), r->kind, name, BT_IMPL_C, r->fn, r->halt, r->ud, 0);
    lisp_settop(S, top);
}

static void regleaf(lispbt_Host *H, const char *name, int kind, bt_LeafFn fn, bt_HaltFn halt,
                    void *ud) {
    Reg r;
    r.name = name;
    r.kind = kind;
    r.fn = fn;
    r.halt = halt;
    r.ud = (int64_t)(intptr_t)ud;
    CHECK(lisp_pcall(host_state(H), doregister, &r) == LISP_OK);
}

/* ---- tests ---- */

static void test_basic(int workers) {
    lispbt_Host *H = newhost(workers, 0);
    bt_Inst *I = mkinst(H, "i", "(seq (cond always-true) (act always-success))");
    char buf[256];
    CHECK(bt_tick(I) == BT_SUCCESS);
    CHECK(evalsym(H, "(bt.tick i)", "success"));
    CHECK(evalsym(H, "(bt.tick (bt.new-instance (bt (sel (fail) (running)))))", "running"));
    CHECK(bt_inst_ticks(I) == 2);
    CHECK(same(ticks(I, 3, buf, sizeof buf), "success success success"));
    CHECK(bt_def_nodes(bt_inst_def(I)) == 3);
    CHECK(same(bt_def_nodename(bt_inst_def(I), 1), "cond always-true"));
    {
        char err[100];
        CHECK(bt_verify(bt_inst_def(I), err, sizeof err) == 0);
    }
    host_free(H);
}

static void test_semantics(void) {
    lispbt_Host *H = newhost(0, 0);
    char buf[512];
    bt_Inst *I;
    I = mkinst(H, "a", "(mem-seq (act running-then-success 2) (act running-then-success 1) (fail))");
    /* a failed mem-seq resumes at the failed child (muesli-bt) */
    CHECK(same(ticks(I, 5, buf, sizeof buf), "running running running failure failure"));
    I = mkinst(H, "b", "(seq (act running-then-success 1) (succeed))");
    CHECK(same(ticks(I, 4, buf, sizeof buf), "running success running success"));
    I = mkinst(H, "c", "(mem-sel (fail) (act running-then-success 1) (succeed))");
    CHECK(same(ticks(I, 3, buf, sizeof buf), "running success running"));
    I = mkinst(H, "d", "(par 2 (act running-then-success 2) (act running-then-success 1) (running))");
    CHECK(same(ticks(I, 4, buf, sizeof buf), "running running success running"));
    I = mkinst(H, "e", "(par 2 (fail) (fail) (running))");
    CHECK(same(ticks(I, 2, buf, sizeof buf), "failure failure"));
    I = mkinst(H, "f", "(invert (act running-then-success 1))");
    CHECK(same(ticks(I, 2, buf, sizeof buf), "running failure"));
    I = mkinst(H, "g", "(repeat 2 (succeed))");
    CHECK(same(ticks(I, 4, buf, sizeof buf), "running success success success"));
    bt_reset(I);
    CHECK(same(ticks(I, 2, buf, sizeof buf), "running success"));
    I = mkinst(H, "h", "(repeat 0 (fail))");
    CHECK(same(ticks(I, 2, buf, sizeof buf), "success success"));
    I = mkinst(H, "j", "(retry 2 (fail))");
    /* exhausted: fails at once until the child succeeds (muesli-bt) */
    CHECK(same(ticks(I, 6, buf, sizeof buf), "running running failure failure failure failure"));
    I = mkinst(H, "k", "(repeat 3 (fail))");
    CHECK(same(ticks(I, 2, buf, sizeof buf), "failure failure"));
    host_free(H);
}

static void test_compile_errors(void) {
    lispbt_Host *H = newhost(0, 0);
    CHECK(evalerr(H, "(bt (repeat -1 (succeed)))",
                  "t:1:1: bt.compile: repeat: COUNT must be an integer in [0, 1000000000], got -1"));
    CHECK(evalerr(H, "(bt.compile '(par 4 (succeed) (fail)))",
                  "t:1:1: bt.compile: par: threshold must be in 1..2, got 4"));
    CHECK(evalerr(H, "(bt (invert))", "t:1:1: bt.compile: invert: expected (invert child), got (invert)"));
    CHECK(evalerr(H, "(bt (zap))", "t:1:1: bt.compile: unknown node kind, got zap"));
    CHECK(evalerr(H, "(bt (seq))", "t:1:1: bt.compile: seq: expected at least one child, got nil"));
    CHECK(evalerr(H, "(bt (cond 1))", "t:1:1: bt.compile: cond: leaf name must be a non-empty symbol, got 1"));
    CHECK(evalerr(H, "(bt.compile \"(seq\")", "bt.compile:1:1: unterminated list"));
    CHECK(evalerr(H, "(bt.tick 5)", "t:1:1: bt.tick: expected a bt_instance, got 5"));
    CHECK(evalerr(H, "(bt.set-tick-budget-ms (bt.new-instance (bt (succeed))) -1)",
                  "t:1:1: bt.set-tick-budget-ms: MS must be an integer in [0, 86400000], got -1"));
    CHECK(evalsym(H, "(bt.tick (bt.new-instance (bt (succeed))))", "success"));
    host_free(H);
}

static void test_c_leaves(void) {
    lispbt_Host *H = newhost(0, 0);
    Probe cond, act;
    bt_Inst *I;
    char buf[256];
    char *text;
    memset(&cond, 0, sizeof cond);
    memset(&act, 0, sizeof act);
    cond.status = BT_SUCCESS;
    act.status = BT_RUNNING;
    /* compiled before registration: resolved when registered */
    I = mkinst(H, "i", "(seq (cond gate) (act work 42 x))");
    CHECK(bt_tick(I) == BT_FAILURE);
    text = logs(H, 1);
    CHECK(contains(text, " level=error "));
    CHECK(contains(text, " category=bt msg=cond gate: unknown condition 'gate'\n"));
    free(text);
    regleaf(H, "gate", BT_KCOND, probe_leaf, NULL, &cond);
    regleaf(H, "work", BT_KACT, probe_leaf, probe_halt, &act);
    CHECK(same(ticks(I, 2, buf, sizeof buf), "running running"));
    CHECK(cond.calls == 2 && act.calls == 2);
    CHECK(act.last_tick == 3 && act.last_node == 2 && act.last_nargs == 2 && act.arg0 == 42);
    CHECK(cond.last_node == 1 && cond.last_nargs == 0);
    /* the default, as muesli-bt: the condition fails, the running action
    ** is left as it is (no halt) */
    cond.status = BT_FAILURE;
    CHECK(bt_tick(I) == BT_FAILURE);
    CHECK(act.halts == 0 && act.calls == 2);
    /* preemption on: the skipped running action is halted once */
    CHECK(evalok(H, "(bt.set-preempt-enabled #t)"));
    CHECK(bt_tick(I) == BT_FAILURE);
    CHECK(act.halts == 1 && act.calls == 2);
    CHECK(bt_tick(I) == BT_FAILURE);
    CHECK(act.halts == 1);
    /* bt_halt halts a running action; a second halt does nothing */
    cond.status = BT_SUCCESS;
    CHECK(bt_tick(I) == BT_RUNNING);
    bt_halt(I);
    CHECK(act.halts == 2);
    bt_halt(I);
    CHECK(act.halts == 2);
    /* bt_reset halts too */
    CHECK(bt_tick(I) == BT_RUNNING);
    bt_reset(I);
    CHECK(act.halts == 3);
    /* a leaf error: failure, error record, counters */
    act.status = BT_ERROR;
    CHECK(bt_tick(I) == BT_FAILURE);
    text = logs(H, 1);
    CHECK(contains(text, "category=bt msg=act work: probe failed at tick 9\n"));
    free(text);
    text = stats(I);
    CHECK(contains(text, "\nnode 2 (act work) success=0 failure=1 running=4 "));
    free(text);
    /* a condition returning running is an error */
    cond.status = BT_RUNNING;
    CHECK(bt_tick(I) == BT_FAILURE);
    text = logs(H, 1);
    CHECK(contains(text, "msg=cond gate: a condition must not return running\n"));
    free(text);
    /* a status outside 1..3 is an error; the instance stays usable */
    cond.status = BT_SUCCESS;
    act.status = 7;
    CHECK(bt_tick(I) == BT_FAILURE);
    text = logs(H, 1);
    CHECK(contains(text, "msg=act work: invalid status 7 returned\n"));
    free(text);
    act.status = BT_IDLE;
    CHECK(bt_tick(I) == BT_FAILURE);
    text = logs(H, 1);
    CHECK(contains(text, "msg=act work: invalid status 0 returned\n"));
    free(text);
    act.status = BT_SUCCESS;
    CHECK(bt_tick(I) == BT_SUCCESS);
    /* per-node memory across ticks and its reset by bt_halt */
    regleaf(H, "count", BT_KACT, count_leaf, NULL, NULL);
    I = mkinst(H, "k", "(mem-seq (act count 3) (act count 2))");
    CHECK(same(ticks(I, 6, buf, sizeof buf), "running running running success running running"));
    bt_halt(I);
    CHECK(same(ticks(I, 3, buf, sizeof buf), "running running running"));
    host_free(H);
}

static void test_reentry(void) {
    lispbt_Host *H = newhost(0, 0);
    Probe p;
    bt_Inst *I, *J;
    memset(&p, 0, sizeof p);
    p.status = BT_SUCCESS;
    regleaf(H, "re", BT_KACT, probe_leaf, NULL, &p);
    I = mkinst(H, "i", "(act re)");
    J = mkinst(H, "j", "(succeed)");
    p.reenter = I;
    CHECK(bt_tick(I) == BT_SUCCESS);
    CHECK(p.reenter_result == -1); /* already ticking */
    p.reenter = J;
    CHECK(bt_tick(I) == BT_SUCCESS);
    CHECK(p.reenter_result == BT_SUCCESS);
    CHECK(bt_inst_ticks(J) == 1);
    host_free(H);
}

static void test_stats_text(void) {
    lispbt_Host *H = newhost(0, 0);
    bt_Inst *I = mkinst(H, "i", "(sel (fail) (seq (cond always-true) (act always-success)) (act never))");
    char *text, *p;
    int i;
    lisp_Value v;
    for (i = 0; i < 10; i++) {
        bt_tick(I);
    }
    text = stats(I);
    CHECK(startswith(text, "tick_count=10\ntick_overrun_count=0\ntick_last_ns="));
    p = strstr(text, "\ntick_max_ns=");
    CHECK(p != NULL && strstr(p, "\ntick_total_ns=") != NULL);
    CHECK(contains(text, "\nnode 0 (sel) success=10 failure=0 running=0 last_ns="));
    CHECK(contains(text, "\nnode 1 (fail) success=0 failure=10 running=0 last_ns="));
    CHECK(contains(text, "\nnode 2 (seq) success=10 failure=0 running=0 last_ns="));
    CHECK(contains(text, "\nnode 3 (cond always-true) success=10 failure=0 running=0 last_ns="));
    CHECK(contains(text, "\nnode 4 (act always-success) success=10 failure=0 running=0 last_ns="));
    CHECK(strstr(text, "\nnode 5 ") == NULL);
    /* the Lisp builtin returns the same text in print style lispbt */
    CHECK(evalok(H, "(print-style 'lispbt)"));
    CHECK(eval(H, "(bt.stats i)", &v) == LISP_OK && v.tag == LISP_TSTRING &&
          same(lisp_str(v, NULL), text));
    CHECK(evalok(H, "(print-style 'muesli)"));
    free(text);
    /* by default muesli-bt's node lines: post-order ids, leaf names or
    ** node-ID, then our fields */
    CHECK(eval(H, "(bt.stats i)", &v) == LISP_OK && v.tag == LISP_TSTRING);
    {
        const char *mt = lisp_str(v, NULL);
        CHECK(startswith(mt, "tick_count=10\ntick_overrun_count=0\ntick_last_ns="));
        CHECK(contains(mt, "\nnode 0 (node-0) success=0 failure=10 running=0 last_ns="));
        CHECK(contains(mt, "\nnode 1 (always-true) success=10 failure=0 running=0 last_ns="));
        CHECK(contains(mt, "\nnode 2 (always-success) success=10 failure=0 running=0 last_ns="));
        CHECK(contains(mt, "\nnode 3 (node-3) success=10 failure=0 running=0 last_ns="));
        CHECK(contains(mt, " lispbt_id=2 total_ns="));
        CHECK(contains(mt, "\nnode 5 (node-5) success=10 failure=0 running=0 last_ns="));
        CHECK(strstr(mt, "\nnode 4 ") == NULL); /* (act never) was never ticked */
    }
    /* counters level: node durations stay 0 */
    I = mkinst(H, "j", "(seq (succeed) (succeed))");
    CHECK(evalok(H, "(bt.set-profile-level j 'counters)"));
    bt_tick(I);
    text = stats(I);
    CHECK(contains(text, "\nnode 1 (succeed) success=1 failure=0 running=0 last_ns=0 max_ns=0 "));
    free(text);
    host_free(H);
}

static void test_trace(void) {
    lispbt_Host *H = newhost(0, 8);
    bt_Inst *I = mkinst(H, "i", "(seq (act bb-put-int k 5) (succeed))");
    sbuf b;
    int i;
    bt_tick(I);
    sbuf_init(&b);
    bt_trace_dump(I, -1, &b);
    CHECK(b.len == 0); /* off by default */
    sbuf_free(&b);
    bt_set_trace(I, 1);
    bt_tick(I);
    sbuf_init(&b);
    bt_trace_dump(I, -1, &b);
    /* 9 events, the ring keeps 8: node_enter 0 .. tick_end */
    CHECK(startswith(b.p, "2 kind=node_enter tick=2 node=0 ts_ns="));
    CHECK(contains(b.p, " kind=bb_write tick=2 node=1 ts_ns="));
    CHECK(contains(b.p, " key=k value=5\n"));
    CHECK(contains(b.p, "\n9 kind=tick_end tick=2 node=-1 ts_ns="));
    CHECK(contains(b.p, " status=success duration_ns="));
    sbuf_free(&b);
    for (i = 0; i < 100; i++) {
        bt_tick(I);
    }
    CHECK(trace_count(bt_inst_trace(I)) == 8);
    host_free(H);
}

/* 255-node DSL: a seq of 63 four-node groups and two leaves. */
static void bigdsl(char *buf, size_t len) {
    static const char *const groups[] = {
        "(sel (cond always-false) (invert (act always-fail)))",
        "(mem-seq (cond always-true) (retry 0 (act always-success)))",
        "(par 2 (succeed) (act always-success) (fail))"};
    int k;
    snprintf(buf, len, "(seq");
    for (k = 0; k < 63; k++) {
        size_t l = strlen(buf);
        snprintf(buf + l, len - l, " %s", groups[k % 3]);
    }
    strncat(buf, " (cond always-true) (act always-success))", len - strlen(buf) - 1);
}

static void test_noalloc(int workers) {
    lispbt_Host *H = newhost(workers, 512);
    char dsl[8192];
    bt_Inst *I;
    uint64_t n0, b0;
    int i, ok = 1;
    bigdsl(dsl, sizeof dsl);
    I = mkinst(H, "big", dsl);
    CHECK(bt_def_nodes(bt_inst_def(I)) == 255);
    for (i = 0; i < 100; i++) {
        ok &= bt_tick(I) == BT_SUCCESS;
    }
    n0 = host_mem(H)->nalloc;
    b0 = host_mem(H)->bytes;
    for (i = 0; i < 10000; i++) {
        ok &= bt_tick(I) == BT_SUCCESS;
    }
    CHECK(ok);
    CHECK(host_mem(H)->nalloc == n0);
    CHECK(host_mem(H)->bytes == b0);
    /* tracing on, ring full */
    bt_set_trace(I, 1);
    bt_set_readtrace(I, 1);
    for (i = 0; i < 100; i++) {
        bt_tick(I);
    }
    CHECK(trace_count(bt_inst_trace(I)) == 512);
    n0 = host_mem(H)->nalloc;
    for (i = 0; i < 10000; i++) {
        bt_tick(I);
    }
    CHECK(host_mem(H)->nalloc == n0);
    /* every node ticked on every tick */
    for (i = 0; i < 255; i++) {
        const bt_NodeStats *s = bt_nodestats(I, i);
        ok &= s->count[BT_SUCCESS] + s->count[BT_FAILURE] == 20200 && s->count[BT_RUNNING] == 0;
    }
    CHECK(ok);
    host_free(H);
}

static void test_close_frees(void) {
    lispbt_Host *H = newhost(2, 0);
    Probe p;
    int i;
    memset(&p, 0, sizeof p);
    p.status = BT_RUNNING;
    regleaf(H, "hold", BT_KACT, probe_leaf, probe_halt, &p);
    for (i = 0; i < 20; i++) {
        mkinst(H, "x", "(par 1 (act hold) (act async-sleep-ms 50) (act bb-put-float f 1.5))");
        bt_tick(getinst(H, "x"));
    }
    CHECK(evalok(H, "(define d (bt (seq (succeed))))"));
    CHECK(host_mem(H)->bytes > 0);
    host_close(H);
    CHECK(host_isclosed(H));
    if (host_mem(H)->bytes != 0) {
        printf("host_close left %llu bytes in %llu allocations\n", (unsigned long long)host_mem(H)->bytes,
               (unsigned long long)(host_mem(H)->nalloc - host_mem(H)->nfree));
    }
    CHECK(host_mem(H)->bytes == 0);
    host_close(H); /* idempotent */
    host_free(H);
}

/* bt_status_parse: the three names exactly, by length and contents. */
static void test_status_parse(void) {
    CHECK(bt_status_parse("success", 7) == BT_SUCCESS);
    CHECK(bt_status_parse("failure", 7) == BT_FAILURE);
    CHECK(bt_status_parse("running", 7) == BT_RUNNING);
    CHECK(bt_status_parse("success!", 8) == -1);
    CHECK(bt_status_parse("succes", 6) == -1);
    CHECK(bt_status_parse("successs", 7) == BT_SUCCESS); /* only 'len' characters count */
    CHECK(bt_status_parse("runnin\0", 7) == -1);
    CHECK(bt_status_parse("sailure", 7) == -1);
    CHECK(bt_status_parse("", 0) == -1);
}

int main(void) {
    test_status_parse();
    test_basic(0);
    test_basic(2);
    test_semantics();
    test_compile_errors();
    test_c_leaves();
    test_reentry();
    test_stats_text();
    test_trace();
    test_noalloc(0);
    test_noalloc(2);
    test_close_frees();
    return ctest_done();
}
