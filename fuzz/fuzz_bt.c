/*
** fuzz_bt.c -- libFuzzer harness: the BT DSL compiler, instances, ticks.
** See LICENSE for copyright.
**
** Input: DSL text, optionally followed by a NUL byte and a stream of
** operation bytes.  The first form of the text is compiled with bt_compile
** (read with lisp_readall); the definition must pass bt_verify, and its
** canonical DSL (bt.to-dsl) must compile again to the same canonical DSL.
** (Unless it holds a map: maps print in insertion-dependent order.)
** An instance is then driven by the operation bytes: tick, tick after
** blackboard writes, halt, reset, trace/profile switches and every text
** rendering (stats, trace dump, Chrome trace, blackboard dump, series).
** Without operation bytes it ticks three times, halts, resets and ticks.
**
** The leaves fz-cond and fz-act (C) and fz-lcond and fz-lact (Lisp
** procedures) take their status from the same byte stream (success,
** failure, running, an error, ...), so any tree shape can be driven
** through every status.  The engine's own leaves (bb-put-int,
** running-then-success, async-sleep-ms, plan-action, ...) are all there.
*/
#include "fuzz_common.h"

static struct {
    const uint8_t *p;
    size_t n, i;
    unsigned cycle; /* statuses once the stream is used up */
} ops;

static int nextop(void) {
    return ops.i < ops.n ? ops.p[ops.i++] : -1;
}

/* fz-cond / fz-act: the status from the stream; ud is the number of
** statuses (2 for a condition, 3 for an action). */
static int leaf(bt_Ctx *c, int64_t ud) {
    int b = nextop();
    if (b < 0) {
        return (int)(ops.cycle++ % (unsigned)ud) + 1;
    }
    switch (b % 6) {
    case 0: return BT_SUCCESS;
    case 1: return BT_FAILURE;
    case 2: return ud == 3 ? BT_RUNNING : BT_SUCCESS;
    case 3: return bt_leaf_error(c, "fuzz leaf error %d", b);
    case 4: { /* read the first argument as a blackboard number */
        double x = 0;
        if (c->a->nargs > 0 && c->a->keys[0] >= 0) {
            bt_bb_getnum(c->I, c->a->keys[0], c->node, &x);
        }
        return x > 0 ? BT_SUCCESS : BT_FAILURE;
    }
    default: /* write the byte under the first argument's key */
        if (c->a->nargs > 0 && c->a->keys[0] >= 0 &&
            bt_bb_put(c->I, c->a->keys[0], lisp_int(b), c->node, "fuzz") != 0) {
            return bt_leaf_error(c, "fuzz leaf: out of memory");
        }
        return BT_SUCCESS;
    }
}

static void halt(bt_Ctx *c, const bt_Leaf *l) {
    (void)l;
    if (nextop() == 0) {
        c->halted = -1; /* a failing halt callback */
        bt_leaf_error(c, "fuzz halt error");
    }
}

/* (fz-op) -> the next operation byte, or -1 when the stream is used up. */
static lisp_Value cfun_op(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    (void)argv;
    return lisp_int(nextop());
}

static const char lispleaves[] =
    "(define (fz-status inst b)"
    "  (cond ((< b 0) 'success) ((= (mod b 5) 0) 'success) ((= (mod b 5) 1) 'failure)"
    "        ((= (mod b 5) 2) 'running) ((= (mod b 5) 3) (error \"fuzz lisp leaf\" b))"
    "        (else (bt.bb-put inst 'fz b) 'success)))"
    "(bt.register-condition 'fz-lcond"
    "  (lambda (inst . args) (not (eq? (fz-status inst (fz-op)) 'failure))))"
    "(bt.register-action 'fz-lact (lambda (inst . args) (fz-status inst (fz-op))))";

static void setup(lisp_State *S) {
    bt_Reg *R = bt_reg(S);
    bt_reg_define(S, R, BT_KCOND, lisp_cintern(S, "fz-cond"), BT_IMPL_C, leaf, NULL, 2, 0);
    bt_reg_define(S, R, BT_KACT, lisp_cintern(S, "fz-act"), BT_IMPL_C, leaf, halt, 3, 0);
    lisp_setglobal(S, "fz-op", lisp_newprim(S, "fz-op", 0, 0, cfun_op, 0));
    lisp_evalstring(S, lispleaves, sizeof lispleaves - 1, "fuzz-setup");
}

typedef struct Job {
    const uint8_t *src;
    size_t n;
    sbuf *b, *b2;
} Job;

static const char *const keys[] = {"fz", "x", "goal", "battery", "pos", "door-open"};

static void render(lisp_State *S, bt_Inst *I, int b, sbuf *out) {
    out->len = 0;
    out->oom = 0;
    switch (b % 8) {
    case 0: bt_stats_text(I, out); break;
    case 1: bt_trace_dump(I, b & 64 ? 5 : 0, out); break;
    case 2: bt_trace_chrome(I, out); break;
    case 3: bt_bb_dump(I, out); break;
    case 4: bt_set_trace(I, b & 16); bt_set_readtrace(I, b & 32); break;
    case 5: bt_set_profile(I, (b >> 3) % 3); break;
    case 6:
        if (bt_series_enable(I, (b >> 3) % 9) != 0) {
            lisp_memerror(S);
        }
        break;
    default: bt_series_render(I, b & 8, b & 16, -1, out); break;
    }
}

static void run(lisp_State *S, void *ud) {
    Job *j = ud;
    char err[200];
    lisp_Value forms = lisp_readall(S, (const char *)j->src, j->n, "fuzz");
    lisp_Value def, def2, inst;
    bt_Inst *I;
    int k, b;
    if (forms.tag != LISP_TCONS) {
        return;
    }
    def = bt_compile(S, lisp_car(forms));
    if (bt_verify(lisp_udata(def), err, sizeof err) != 0) {
        fz_die("bt_verify", err);
    }
    /* the canonical DSL compiles to itself */
    fz_write(S, j->b, bt_todsl(lisp_udata(def)));
    def2 = bt_compile(S, bt_todsl(lisp_udata(def)));
    fz_write(S, j->b2, bt_todsl(lisp_udata(def2)));
    if (strcmp(j->b->p, j->b2->p) != 0 && !fz_hasmap(bt_todsl(lisp_udata(def)), 200)) {
        fprintf(stderr, "to-dsl:       %s\nrecompiled:   %s\n", j->b->p, j->b2->p);
        fz_die("bt.to-dsl", "the canonical DSL does not compile to itself");
    }
    inst = bt_instance(S, def);
    I = lisp_udata(inst);
    if (ops.n == 0) {
        bt_tick(I);
        bt_tick(I);
        bt_tick(I);
        bt_halt(I);
        bt_reset(I);
        bt_tick(I);
        return;
    }
    for (k = 0; k < 64 && (b = nextop()) >= 0; k++) {
        switch (b % 8) {
        case 0: case 1: case 2: bt_tick(I); break;
        case 3: bt_halt(I); break;
        case 4: bt_reset(I); break;
        case 5: { /* blackboard writes, then a tick */
            int key = bt_key(S, lisp_cintern(S, keys[(b >> 3) % 6]));
            lisp_Value v = b & 64 ? lisp_float((double)(b >> 3) - 4.5) : lisp_int(b >> 3);
            if (bt_bb_put(I, key, v, -1, "fuzz") != 0) {
                lisp_memerror(S);
            }
            bt_tick(I);
            break;
        }
        case 6: render(S, I, b >> 3, j->b); break;
        default: bt_set_budget_ms(I, b >> 3); bt_tick(I); break;
        }
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fz_init(setup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static sbuf b, b2;
    lisp_State *S = fz_reset();
    const uint8_t *nul = memchr(data, 0, size);
    Job j = {data, nul ? (size_t)(nul - data) : size, &b, &b2};
    ops.p = nul ? nul + 1 : NULL;
    ops.n = nul ? size - j.n - 1 : 0;
    ops.i = 0;
    ops.cycle = 0;
    fz_pcall(S, run, &j);
    return 0;
}
