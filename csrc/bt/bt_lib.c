/*
** bt_lib.c -- the bt.* builtins (SPEC §5.5, §8), one table for both
** surfaces.  See LICENSE for copyright.
**
** Every entry is flagged LISP_FRUNTIME, so the Lua side mirrors it under
** the derived name (bt.set-tick-budget-ms -> host.bt.set_tick_budget_ms),
** except names holding '?', '!' or '>' (bt.status->symbol).
**
** Lisp procedures as leaves: (bt.register-action 'name proc [halt-proc])
** pins 'proc'; the leaf calls (proc inst arg ...) under its own protected
** call, so an error fails the node and never unwinds the tick.  An action
** returns 'success, 'failure, 'running or a boolean; a condition's value
** is tested for truth.
*/
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bt_node.h"
#include "sbuf.h"

/* ---- helpers ---- */

static bt_Inst *checkinst(lisp_State *S, lisp_Value *argv, int i) {
    return lisp_checkudata(S, argv, i, &bt_insttype);
}

static bt_Def *checkdef(lisp_State *S, lisp_Value *argv, int i) {
    return lisp_checkudata(S, argv, i, &bt_deftype);
}

static lisp_Value statussym(lisp_State *S, int st) {
    return lisp_cintern(S, bt_status_name(st));
}

/* Optional non-negative count argument 'i' (default 'def'). */
static int optcount(lisp_State *S, int argc, lisp_Value *argv, int i, int def) {
    int64_t n;
    if (argc <= i || argv[i].tag == LISP_TNIL) {
        return def;
    }
    n = lisp_checkintrange(S, argv, i, "N", LISP_INTONLY, 0, INT64_MAX);
    return n > 1 << 30 ? 1 << 30 : (int)n; /* more than any ring holds: all */
}

/* ---- Lisp procedures as leaves ---- */

typedef struct LeafCall {
    bt_Ctx *c;
    int pin;
    int kind;
    int st;
} LeafCall;

static void runleaf(lisp_State *S, void *ud) {
    LeafCall *a = ud;
    bt_Ctx *c = a->c;
    int fidx = lisp_gettop(S), i;
    lisp_Value r;
    lisp_push(S, lisp_pinned(S, a->pin));
    bt_inst_share(c->I); /* the procedure may keep its instance */
    lisp_push(S, c->I->self);
    for (i = 0; i < c->a->nargs; i++) {
        lisp_push(S, c->a->args[i]);
    }
    r = lisp_call(S, fidx, c->a->nargs + 1);
    if (a->kind == BT_KCOND || c->halted) {
        a->st = lisp_istrue(r) ? BT_SUCCESS : BT_FAILURE;
        return;
    }
    if (r.tag == LISP_TBOOL) {
        a->st = r.u.b ? BT_SUCCESS : BT_FAILURE;
    } else if (r.tag == LISP_TSYMBOL || r.tag == LISP_TSTRING) {
        size_t len;
        const char *s = lisp_str(r, &len);
        a->st = bt_status_parse(s, len);
    } else {
        a->st = -1;
    }
    if (a->st < 0) {
        char repr[LISPBT_REPR_MAX + 8];
        lisp_error(S, "action returned %s (expected 'success, 'failure, 'running or a boolean)",
                   lisp_repr(S, r, repr, sizeof repr));
    }
}

static int callproc(bt_Ctx *c, int pin, int kind) {
    lisp_State *S = c->S;
    LeafCall a;
    a.c = c;
    a.pin = pin;
    a.kind = kind;
    a.st = BT_FAILURE;
    if (lisp_pcall(S, runleaf, &a) != LISP_OK) {
        return bt_leaf_error(c, "%s", lisp_errmsg(S));
    }
    return a.st;
}

static int lispcond(bt_Ctx *c, int64_t ud) {
    return callproc(c, (int)ud, BT_KCOND);
}

static int lispact(bt_Ctx *c, int64_t ud) {
    return callproc(c, (int)ud, BT_KACT);
}

/* The halt procedure is the entry's ud2. */
static void lisphaltcall(bt_Ctx *c, const bt_Leaf *l) {
    if (l->ud2 >= 0 && callproc(c, (int)l->ud2, BT_KACT) == BT_ERROR) {
        c->halted = -1; /* tells the executor the halt callback failed */
    }
}

static lisp_Value registerproc(lisp_State *S, int argc, lisp_Value *argv, int kind) {
    int pin, hpin = -1;
    lisp_Value name = argv[0];
    size_t n;
    const char *s = lisp_checkname(S, argv, 0, &n);
    if (n == 0) {
        lisp_argerror(S, argv, 0, "expected a non-empty name");
    }
    if (memchr(s, '\0', n) != NULL) { /* a name, as on the Lua surface */
        lisp_argerror(S, argv, 0, "expected a name without NUL bytes");
    }
    if (name.tag == LISP_TSTRING) {
        name = lisp_intern(S, s, n);
    }
    if (argv[1].tag != LISP_TCLOSURE && argv[1].tag != LISP_TPRIM) {
        lisp_argerror(S, argv, 1, "expected a procedure");
    }
    if (argc > 2 && argv[2].tag != LISP_TCLOSURE && argv[2].tag != LISP_TPRIM) {
        lisp_argerror(S, argv, 2, "expected a procedure");
    }
    pin = lisp_pin(S, argv[1]);
    if (argc > 2) {
        hpin = lisp_pin(S, argv[2]);
    }
    if (pin < 0 || (argc > 2 && hpin < 0)) {
        lisp_memerror(S);
    }
    bt_reg_define(S, bt_reg(S), kind, name, BT_IMPL_LISP, kind == BT_KCOND ? lispcond : lispact,
                  kind == BT_KACT && hpin >= 0 ? lisphaltcall : NULL, pin, hpin);
    return lisp_nil();
}

static lisp_Value cfun_bt_regcond(lisp_State *S, int argc, lisp_Value *argv) {
    return registerproc(S, argc, argv, BT_KCOND);
}

static lisp_Value cfun_bt_regact(lisp_State *S, int argc, lisp_Value *argv) {
    return registerproc(S, argc, argv, BT_KACT);
}

/* ---- definitions and instances ---- */

static lisp_Value cfun_bt_compile(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Value form = argv[0], def;
    (void)argc;
    if (form.tag == LISP_TSTRING) { /* DSL source text */
        size_t n;
        const char *src = lisp_str(form, &n);
        lisp_Value forms = lisp_readall(S, src, n, "bt.compile");
        if (lisp_listlen(forms) != 1) {
            lisp_error(S, "bt.compile: expected exactly one DSL form in the source text, got %lld",
                       (long long)lisp_listlen(forms));
        }
        form = lisp_car(forms);
        def = bt_compile(S, form);
        bt_def_setsource(lisp_udata(def), argv[0]);
        return def;
    }
    return bt_compile(S, form);
}

static lisp_Value cfun_bt_newinst(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Value v;
    (void)argc;
    checkdef(S, argv, 0);
    v = bt_instance(S, argv[0]);
    bt_inst_share(lisp_udata(v)); /* Lisp code holds it: only the collector knows when it dies */
    return v;
}

/* The blackboard key argv[i]: a symbol or string, not empty and without
** NUL bytes (keys are names, as on the Lua surface); returns its bytes. */
static const char *checkkey(lisp_State *S, lisp_Value *argv, int i, size_t *n) {
    const char *s = lisp_checkname(S, argv, i, n);
    if (*n == 0) {
        lisp_argerror(S, argv, i, "expected a non-empty key");
    }
    if (memchr(s, '\0', *n) != NULL) {
        lisp_argerror(S, argv, i, "expected a key without NUL bytes");
    }
    return s;
}

/* 1 if 'k' can be a tick input key (see checkkey). */
static int inputkey(lisp_Value k) {
    size_t n;
    const char *s = lisp_str(k, &n);
    return (k.tag == LISP_TSYMBOL || k.tag == LISP_TSTRING) && n > 0 && memchr(s, '\0', n) == NULL;
}

/* A tick input value as muesli-bt stores it: a symbol becomes its name
** (a string), a non-empty proper list of numbers a list of floats; any
** other value is stored as it is. */
static lisp_Value inputval(lisp_State *S, lisp_Value v) {
    lisp_Value x, acc = lisp_nil();
    int64_t n = lisp_listlen(v), k;
    int base;
    if (v.tag == LISP_TSYMBOL) {
        size_t len;
        const char *s = lisp_str(v, &len);
        return lisp_string(S, s, len);
    }
    if (v.tag != LISP_TCONS || n < 1) {
        return v;
    }
    for (x = v; x.tag == LISP_TCONS; x = lisp_cdr(x)) {
        if (!lisp_isnumber(lisp_car(x))) {
            return v;
        }
    }
    base = lisp_gettop(S);
    for (x = v; x.tag == LISP_TCONS; x = lisp_cdr(x)) { /* the floats, reversed */
        lisp_Value e = lisp_car(x);
        acc = lisp_cons(S, lisp_float(e.tag == LISP_TINT ? (double)e.u.i : e.u.f), acc);
        lisp_settop(S, base);
        lisp_push(S, acc);
    }
    for (x = acc, acc = lisp_nil(), k = 0; k < n; k++, x = lisp_cdr(x)) { /* in order */
        acc = lisp_cons(S, lisp_car(x), acc);
        lisp_settop(S, base + 1);
        lisp_push(S, acc);
    }
    lisp_settop(S, base);
    return acc;
}

/* Write tick input: an alist ((k v) ...) or ((k . v) ...), or a map. */
static void writeinput(lisp_State *S, bt_Inst *I, lisp_Value *argv, int i) {
    lisp_Value in = argv[i];
    if (in.tag == LISP_TMAP) {
        int64_t it = 0;
        lisp_Value k, v;
        while (lisp_mapnext(in, &it, &k, &v)) {
            if (!inputkey(k)) {
                lisp_argerror(S, argv, i, "input keys must be non-empty symbols or strings "
                                          "without NUL bytes");
            }
            int key = bt_key(S, k);
            if (bt_bb_put_input(I, key, inputval(S, v)) != 0) {
                lisp_memerror(S);
            }
        }
        return;
    }
    if (lisp_listlen(in) < 0) {
        lisp_argerror(S, argv, i, "expected an alist ((key value) ...) or a map");
    }
    for (; in.tag == LISP_TCONS; in = lisp_cdr(in)) {
        lisp_Value e = lisp_car(in), k, v;
        if (e.tag != LISP_TCONS) {
            lisp_argerror(S, argv, i, "expected an alist ((key value) ...) or a map");
        }
        k = lisp_car(e);
        v = lisp_cdr(e).tag == LISP_TCONS ? lisp_car(lisp_cdr(e)) : lisp_cdr(e);
        if (!inputkey(k)) {
            lisp_argerror(S, argv, i, "input keys must be non-empty symbols or strings without "
                                      "NUL bytes");
        }
        int key = bt_key(S, k);
        if (bt_bb_put_input(I, key, inputval(S, v)) != 0) {
            lisp_memerror(S);
        }
    }
}

static lisp_Value cfun_bt_tick(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Inst *I = checkinst(S, argv, 0);
    int st;
    if (argc > 1 && argv[1].tag != LISP_TNIL) {
        writeinput(S, I, argv, 1);
    }
    st = bt_tick(I);
    if (st < 0) {
        lisp_error(S, "bt.tick: %s", bt_busy_text(st));
    }
    return statussym(S, st);
}

/* ---- batch ticks ---- */

/* 1 if 'in' is a tick input writeinput accepts (nil: none). */
static int inputok(lisp_Value in) {
    if (in.tag == LISP_TMAP) {
        int64_t it = 0;
        lisp_Value k, v;
        while (lisp_mapnext(in, &it, &k, &v)) {
            if (!inputkey(k)) {
                return 0;
            }
        }
        return 1;
    }
    if (lisp_listlen(in) < 0) {
        return 0;
    }
    for (; in.tag == LISP_TCONS; in = lisp_cdr(in)) {
        if (lisp_car(in).tag != LISP_TCONS || !inputkey(lisp_car(lisp_car(in)))) {
            return 0;
        }
    }
    return 1;
}

/* Write input 'in' (inputok) to 'I'. */
static void putinput(lisp_State *S, bt_Inst *I, lisp_Value in) {
    int64_t it = 0;
    lisp_Value k, v;
    if (in.tag == LISP_TMAP) {
        while (lisp_mapnext(in, &it, &k, &v)) {
            if (bt_bb_put(I, bt_key(S, k), v, -1, "input") != 0) {
                lisp_memerror(S);
            }
        }
        return;
    }
    for (; in.tag == LISP_TCONS; in = lisp_cdr(in)) {
        lisp_Value e = lisp_car(in);
        v = lisp_cdr(e).tag == LISP_TCONS ? lisp_car(lisp_cdr(e)) : lisp_cdr(e);
        if (bt_bb_put(I, bt_key(S, lisp_car(e)), v, -1, "input") != 0) {
            lisp_memerror(S);
        }
    }
}

/* Length of list or vector argv[i] ('what' names it), else raise. */
static int64_t seqlen(lisp_State *S, lisp_Value *argv, int i, const char *what) {
    int64_t n = argv[i].tag == LISP_TVEC ? lisp_veclen(argv[i]) : lisp_listlen(argv[i]);
    if (n < 0) {
        char msg[64];
        snprintf(msg, sizeof msg, "expected a list or vector of %s", what);
        lisp_argerror(S, argv, i, msg);
    }
    return n;
}

/* Item 'k' of list or vector 'seq' through cursor '*cur' (the list's
** cell for item k, advanced). */
static lisp_Value seqitem(lisp_Value seq, int64_t k, lisp_Value *cur) {
    lisp_Value x;
    if (seq.tag == LISP_TVEC) {
        return lisp_vecitems(seq)[k];
    }
    x = lisp_car(*cur);
    *cur = lisp_cdr(*cur);
    return x;
}

/* (bt.tick-all def insts [inputs]): every argument is checked before the
** first tick; an instance that cannot be ticked (busy) gives its message
** as a string in its place and the others still tick. */
static lisp_Value cfun_bt_tickall(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Def *D = checkdef(S, argv, 0);
    int64_t n = seqlen(S, argv, 1, "instances"), k;
    int hasin = argc > 2 && argv[2].tag != LISP_TNIL;
    lisp_Value ci = argv[1], cn = hasin ? argv[2] : lisp_nil(), res = lisp_nil(), last = res;
    int top = lisp_gettop(S);
    if (hasin && seqlen(S, argv, 2, "inputs") != n) {
        lisp_error(S, "bt.tick-all: inputs has %lld entries, instances %lld",
                   (long long)seqlen(S, argv, 2, "inputs"), (long long)n);
    }
    for (k = 0; k < n; k++) {
        lisp_Value x = seqitem(argv[1], k, &ci);
        if (!lisp_isudata(x, &bt_insttype)) {
            lisp_error(S, "bt.tick-all: instances[%lld] is a %s, expected a bt_instance",
                       (long long)k, lisp_typename(x));
        }
        if (((bt_Inst *)lisp_udata(x))->D != D) {
            lisp_error(S, "bt.tick-all: instances[%lld] is an instance of another tree",
                       (long long)k);
        }
        if (hasin) {
            lisp_Value in = seqitem(argv[2], k, &cn);
            if (in.tag != LISP_TNIL && !inputok(in)) {
                lisp_error(S, "bt.tick-all: inputs[%lld] is not a tick input (an alist ((key "
                              "value) ...) or a map with non-empty symbol or string keys)",
                           (long long)k);
            }
        }
    }
    /* the cursors stay rooted: a leaf may change the lists while they run */
    lisp_push(S, argv[1]);
    lisp_push(S, hasin ? argv[2] : lisp_nil());
    for (k = 0; k < n; k++) {
        lisp_Value *cur = lisp_at(S, top), x, in = lisp_nil(), r, cell;
        int st = 0;
        if (argv[1].tag == LISP_TVEC ? k < lisp_veclen(argv[1]) : cur[0].tag == LISP_TCONS) {
            x = seqitem(argv[1], k, &cur[0]);
        } else {
            x = lisp_nil();
        }
        if (hasin && (argv[2].tag == LISP_TVEC ? k < lisp_veclen(argv[2]) : cur[1].tag == LISP_TCONS)) {
            in = seqitem(argv[2], k, &cur[1]);
        }
        if (!lisp_isudata(x, &bt_insttype) || ((bt_Inst *)lisp_udata(x))->D != D ||
            (in.tag != LISP_TNIL && !inputok(in))) {
            r = lisp_cstring(S, "bt.tick-all: the arguments changed during the batch");
        } else {
            bt_Inst *I = lisp_udata(x);
            if (in.tag != LISP_TNIL) {
                putinput(S, I, in);
            }
            st = bt_tick(I);
            if (st < 0) {
                char msg[96];
                snprintf(msg, sizeof msg, "bt.tick-all: instances[%lld]: %s", (long long)k,
                         bt_busy_text(st));
                r = lisp_cstring(S, msg);
            } else {
                r = statussym(S, st);
            }
        }
        lisp_push(S, r);
        cell = lisp_cons(S, r, lisp_nil());
        lisp_settop(S, lisp_gettop(S) - 1);
        if (res.tag == LISP_TNIL) {
            res = cell;
            lisp_push(S, res); /* rooted until the builtin returns */
        } else {
            lisp_setcdr(S, last, cell);
        }
        last = cell;
    }
    lisp_settop(S, top);
    return res;
}

static lisp_Value cfun_bt_reset(lisp_State *S, int argc, lisp_Value *argv) {
    int rc = bt_reset(checkinst(S, argv, 0));
    (void)argc;
    if (rc < 0) {
        lisp_error(S, "bt.reset: %s", bt_busy_text(rc));
    }
    return lisp_nil();
}

static lisp_Value cfun_bt_halt(lisp_State *S, int argc, lisp_Value *argv) {
    int rc = bt_halt(checkinst(S, argv, 0));
    (void)argc;
    if (rc < 0) {
        lisp_error(S, "bt.halt: %s", bt_busy_text(rc));
    }
    return lisp_nil();
}

static lisp_Value cfun_bt_statussym(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Value v = argv[0];
    (void)argc;
    if (v.tag == LISP_TINT && v.u.i >= BT_SUCCESS && v.u.i <= BT_RUNNING) {
        return statussym(S, (int)v.u.i);
    }
    if (v.tag == LISP_TSTRING || v.tag == LISP_TSYMBOL) {
        size_t len;
        const char *s = lisp_str(v, &len);
        if (bt_status_parse(s, len) > 0) {
            return lisp_cintern(S, s);
        }
    }
    if (v.tag == LISP_TBOOL) {
        return statussym(S, v.u.b ? BT_SUCCESS : BT_FAILURE);
    }
    lisp_argerror(S, argv, 0, "expected a status (1..3, \"success\", \"failure\", \"running\")");
}

/* ---- blackboard ---- */

static lisp_Value cfun_bt_bbget(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Inst *I = checkinst(S, argv, 0);
    size_t n;
    const char *name = checkkey(S, argv, 1, &n);
    int key = bt_key_find(S, name, n);
    lisp_Value v;
    (void)argc;
    return bt_bb_get(I, key, &v, -1) ? v : lisp_nil();
}

static lisp_Value cfun_bt_bbput(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Inst *I = checkinst(S, argv, 0);
    size_t n;
    (void)argc;
    checkkey(S, argv, 1, &n);
    {
        int tried = 0, key = bt_key(S, argv[1]);
        while (bt_bb_put(I, key, argv[2], -1, "lisp") != 0) {
            lisp_memretry(S, "bt.bb-put", &tried);
        }
    }
    return lisp_nil();
}

/* The text 'render' makes of the instance argv[0], as a Lisp string. */
static lisp_Value insttext(lisp_State *S, lisp_Value *argv, void (*render)(bt_Inst *, sbuf *)) {
    bt_Inst *I = checkinst(S, argv, 0);
    render(I, lisp_scratch(S));
    return lisp_scratchstring(S);
}

static lisp_Value cfun_bt_bbdump(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    return insttext(S, argv, bt_bb_dump);
}

/* ---- settings ---- */

static lisp_Value cfun_bt_budget(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Inst *I = checkinst(S, argv, 0);
    (void)argc;
    bt_set_budget_ms(I, lisp_checkintrange(S, argv, 1, "MS", LISP_INTONLY, 0, 86400000));
    return lisp_nil();
}

static lisp_Value cfun_bt_profile(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Inst *I = checkinst(S, argv, 0);
    const char *s = argv[1].tag == LISP_TSYMBOL || argv[1].tag == LISP_TSTRING
                        ? lisp_str(argv[1], NULL)
                        : "";
    int sampled = strcmp(s, "sampled") == 0;
    if (argc > 2 && argv[2].tag != LISP_TNIL && !sampled) {
        lisp_argerror(S, argv, 1, "a sampling rate N goes with 'sampled only");
    }
    if (strcmp(s, "counters") == 0) {
        bt_set_profile(I, BT_PROFILE_COUNTERS);
    } else if (strcmp(s, "timing") == 0) {
        bt_set_profile(I, BT_PROFILE_TIMING);
    } else if (sampled) {
        int64_t n = LISPBT_SAMPLE_EVERY;
        if (argc > 2 && argv[2].tag != LISP_TNIL) {
            n = lisp_checkintrange(S, argv, 2, "N", LISP_INTONLY, 1, LISPBT_SAMPLE_EVERY_MAX);
        }
        bt_set_sampling(I, (int)n);
    } else {
        lisp_argerror(S, argv, 1, "expected 'counters, 'timing or 'sampled");
    }
    return lisp_nil();
}

static int checkbool(lisp_State *S, lisp_Value *argv, int i) {
    if (argv[i].tag != LISP_TBOOL) {
        lisp_argerror(S, argv, i, "expected a boolean");
    }
    return argv[i].u.b;
}

static lisp_Value cfun_bt_settrace(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    bt_set_trace(checkinst(S, argv, 0), checkbool(S, argv, 1));
    return lisp_nil();
}

static lisp_Value cfun_bt_setreadtrace(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    bt_set_readtrace(checkinst(S, argv, 0), checkbool(S, argv, 1));
    return lisp_nil();
}

static lisp_Value cfun_bt_cleartrace(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    trace_clear(bt_inst_trace(checkinst(S, argv, 0)));
    return lisp_nil();
}

static lisp_Value cfun_bt_clearlogs(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    (void)argv;
    log_clear(bt_reg_env(bt_reg(S))->log);
    return lisp_nil();
}

/* ---- reports ---- */

int32_t bt_def_postid(const bt_Def *D, int32_t i) {
    /* post(i) = the nodes before i in preorder and in i's subtree, less
    ** its ancestors (which come after it in post-order) */
    int32_t at = 0, depth = 0;
    while (at != i) {
        int32_t c = at + 1;
        while (c + (int32_t)D->nodes[c].size <= i) {
            c += (int32_t)D->nodes[c].size;
        }
        at = c;
        depth++;
    }
    return i + (int32_t)D->nodes[i].size - 1 - depth;
}

/* One "node ..." line of muesli-bt's bt.stats text for node 'i' if it was
** ticked, then its subtree's in post-order (the reference's id order). */
static void muesli_nodes(bt_Inst *I, const bt_Def *D, int32_t i, int32_t *post, sbuf *b) {
    int32_t c, end = i + (int32_t)D->nodes[i].size;
    const bt_NodeStats *s;
    if (D->nodes[i].kind != BT_NCOND && D->nodes[i].kind != BT_NACT) {
        for (c = i + 1; c < end; c += (int32_t)D->nodes[c].size) {
            muesli_nodes(I, D, c, post, b);
        }
    }
    s = bt_nodestats(I, i);
    if (s->count[1] + s->count[2] + s->count[3] > 0) {
        hist_Summary h;
        const char *name = bt_def_nodename(D, i);
        const char *leaf = NULL;
        if (strncmp(name, "cond ", 5) == 0) { /* "cond NAME" / "act NAME": a leaf */
            leaf = name + 5;
        } else if (strncmp(name, "act ", 4) == 0) {
            leaf = name + 4;
        }
        hist_summary(bt_nodehist(I, i), &h);
        if (leaf) {
            sbuf_printf(b, "node %d (%s)", (int)*post, leaf);
        } else {
            sbuf_printf(b, "node %d (node-%d)", (int)*post, (int)*post);
        }
        sbuf_printf(b,
                    " success=%llu failure=%llu running=%llu last_ns=%lld max_ns=%lld"
                    " lispbt_id=%d total_ns=%lld p50_ns=%lld p90_ns=%lld p99_ns=%lld"
                    " p999_ns=%lld errors=%llu",
                    (unsigned long long)s->count[1], (unsigned long long)s->count[2],
                    (unsigned long long)s->count[3], (long long)s->last_ns, (long long)s->max_ns,
                    (int)i, (long long)s->total_ns, (long long)h.p50, (long long)h.p90,
                    (long long)h.p99, (long long)h.p999, (unsigned long long)s->errors);
        if (s->work > 0) {
            sbuf_printf(b, " work=%llu", (unsigned long long)s->work);
        }
        sbuf_putc(b, '\n');
    }
    (*post)++;
}

/* bt.stats text in print style muesli: the reference's lines (its five
** tick lines, then "node ID (NAME) success= failure= running= last_ns=
** max_ns=" per ticked node, ID in its post-order numbering, NAME the leaf
** name or node-ID), our own lines and fields after the reference's; in
** print style lispbt our text (bt_stats_text: preorder ids, "act NAME"
** names).  The tick lines are the same in both: ours are kept and our
** node lines replaced. */
static void stats_text(bt_Inst *I, sbuf *b) {
    size_t start = b->len, k;
    int32_t post = 0;
    bt_stats_text(I, b);
    if (lisp_printstyle(I->ctx.S) != LISP_PRINT_MUESLI || b->oom) {
        return;
    }
    for (k = start; k + 6 <= b->len; k++) {
        if (b->p[k] == '\n' && memcmp(b->p + k + 1, "node ", 5) == 0) {
            b->len = k + 1; /* drop our node lines */
            break;
        }
    }
    if (I->D->n > 0) {
        muesli_nodes(I, I->D, 0, &post, b);
    }
}

static lisp_Value cfun_bt_stats(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    return insttext(S, argv, stats_text);
}

static lisp_Value cfun_bt_histogram(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Inst *I = checkinst(S, argv, 0);
    const hist_Hist *h = bt_tickhist(I);
    if (argc > 1 && argv[1].tag != LISP_TNIL) {
        int64_t node = lisp_checkintrange(S, argv, 1, "NODE", LISP_INTONLY, 0,
                                          bt_def_nodes(bt_inst_def(I)) - 1);
        h = bt_nodehist(I, (int)node);
    }
    hist_render_ascii(h, lisp_scratch(S), 50);
    return lisp_scratchstring(S);
}

static int checkformat(lisp_State *S, int argc, lisp_Value *argv, int i) {
    const char *f;
    if (argc <= i || argv[i].tag == LISP_TNIL) {
        return 0; /* JSON lines */
    }
    f = argv[i].tag == LISP_TSYMBOL || argv[i].tag == LISP_TSTRING ? lisp_str(argv[i], NULL) : "";
    if (strcmp(f, "csv") == 0) {
        return 1;
    }
    if (strcmp(f, "jsonl") != 0) {
        lisp_argerror(S, argv, i, "expected 'jsonl or 'csv");
    }
    return 0;
}

static lisp_Value cfun_bt_seriesenable(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Inst *I = checkinst(S, argv, 0);
    int64_t n = lisp_checkintrange(S, argv, 1, "CAPACITY", LISP_INTONLY, 0, 1 << 24);
    int tried = 0;
    (void)argc;
    while (bt_series_enable(I, (int)n) != 0) {
        lisp_memretry(S, "bt.series.enable", &tried);
    }
    return lisp_nil();
}

static lisp_Value cfun_bt_seriesdump(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Inst *I = checkinst(S, argv, 0);
    int csv = checkformat(S, argc, argv, 1);
    bt_series_render(I, csv, 1, -1, lisp_scratch(S));
    return lisp_scratchstring(S);
}

/* The tick of the last row of series file 'f' (open for reading and
** appending) in format 'csv': -1 if the file is empty or holds only the CSV
** header, -2 if its last line is not a row of that format. */
static int64_t lastrow(FILE *f, int csv) {
    char buf[512], *line, *end;
    long size, n;
    long long tick;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0) {
        return -2;
    }
    if (size == 0) {
        return -1;
    }
    n = size < (long)sizeof buf - 1 ? size : (long)sizeof buf - 1;
    if (fseek(f, size - n, SEEK_SET) != 0 || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        return -2;
    }
    buf[n] = '\0';
    if (buf[n - 1] != '\n') {
        return -2; /* a torn last line */
    }
    buf[n - 1] = '\0';
    line = strrchr(buf, '\n');
    line = line ? line + 1 : (n == size ? buf : NULL);
    if (line == NULL) {
        return -2; /* a last line longer than any row */
    }
    if (csv && strncmp(line, "tick,", 5) == 0) {
        return -1;
    }
    if (!csv && strncmp(line, "{\"tick\":", 8) != 0) {
        return -2;
    }
    tick = strtoll(csv ? line : line + 8, &end, 10);
    return end != (csv ? line : line + 8) && *end == ',' && tick >= 0 ? (int64_t)tick : -2;
}

/* Write the kept rows to a file: all of them, replacing the file, or (mode
** 'append) those newer than the file's last row.  Returns the rows written. */
static lisp_Value cfun_bt_serieswrite(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Inst *I = checkinst(S, argv, 0);
    const char *path = lisp_checkpath(S, argv, 1), *mode = "replace";
    int csv = checkformat(S, argc, argv, 2), append, ok;
    int64_t rows = 0, after = -1;
    sbuf b;
    FILE *f;
    if (argc > 3 && (argv[3].tag == LISP_TSYMBOL || argv[3].tag == LISP_TSTRING)) {
        mode = lisp_str(argv[3], NULL);
    }
    append = strcmp(mode, "append") == 0;
    if (argc > 3 && !append && strcmp(mode, "replace") != 0) {
        lisp_argerror(S, argv, 3, "expected 'replace or 'append");
    }
    f = fopen(path, append ? "a+" : "w");
    if (f == NULL) {
        lisp_error(S, "bt.series.write: cannot open '%s': %s", path, strerror(errno));
    }
    if (append && (after = lastrow(f, csv)) == -2) {
        fclose(f);
        lisp_error(S, "bt.series.write: '%s' does not end with a %s series row", path,
                   csv ? "CSV" : "JSON lines");
    }
    sbuf_initm(&b, lisp_mem(S));
    bt_series_render(I, csv, after == -1 && !(append && ftell(f) > 0), after, &b);
    {
        const char *p;
        for (p = b.p; p && *p; p++) {
            rows += *p == '\n';
        }
        rows -= csv && b.len > 0 && strncmp(b.p, "tick,", 5) == 0;
    }
    ok = !b.oom && fwrite(b.p ? b.p : "", 1, b.len, f) == b.len;
    ok = fclose(f) == 0 && ok;
    sbuf_free(&b);
    if (!ok) {
        lisp_error(S, "bt.series.write: cannot write '%s'", path);
    }
    return lisp_int(rows);
}

static lisp_Value cfun_bt_tracedump(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Inst *I = checkinst(S, argv, 0);
    int n = optcount(S, argc, argv, 1, -1);
    bt_trace_dump(I, n, lisp_scratch(S));
    return lisp_scratchstring(S);
}

static void chrome(bt_Inst *I, sbuf *b) {
    bt_trace_chrome(I, b); /* an allocation failure shows as b->oom */
}

static lisp_Value cfun_bt_tracechrome(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    return insttext(S, argv, chrome);
}

static lisp_Value cfun_bt_tracesnap(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Inst *I = checkinst(S, argv, 0);
    trace_Ring *R = bt_inst_trace(I);
    int n = optcount(S, argc, argv, 1, -1), count = trace_count(R), i, base;
    lisp_Value list;
    if (n < 0 || n > count) {
        n = count;
    }
    list = lisp_vec(S, n);
    base = lisp_gettop(S);
    for (i = count - n; i < count; i++) {
        trace_Event ev;
        const trace_Event *e = trace_get(R, i, &ev);
        const char *text = trace_msg_text(R, e);
        lisp_Value m = lisp_map(S, 12);
        lisp_mapsetstr(S, m, "seq", lisp_int((int64_t)e->seq));
        lisp_mapsetstr(S, m, "kind", lisp_cstring(S, trace_kind_name(e->kind)));
        lisp_mapsetstr(S, m, "tick", lisp_int(e->tick));
        lisp_mapsetstr(S, m, "node", lisp_int(e->node));
        lisp_mapsetstr(S, m, "ts_ns", lisp_int(e->ts_ns));
        if (e->status) {
            lisp_mapsetstr(S, m, "status", lisp_cstring(S, trace_status_name(e->status)));
        }
        if (e->duration_ns >= 0) {
            lisp_mapsetstr(S, m, "duration_ns", lisp_int(e->duration_ns));
        }
        if (e->job) {
            lisp_mapsetstr(S, m, "job", lisp_int((int64_t)e->job));
            lisp_mapsetstr(S, m, "job_status", lisp_cstring(S, trace_job_status_name(e->job_status)));
        }
        if (e->key >= 0) {
            lisp_mapsetstr(S, m, "key", lisp_cstring(S, bt_key_name(S, e->key)));
        }
        switch (e->vtag) {
            case TRACE_V_BOOL: lisp_mapsetstr(S, m, "value", lisp_bool((int)e->v.i)); break;
            case TRACE_V_INT: lisp_mapsetstr(S, m, "value", lisp_int(e->v.i)); break;
            case TRACE_V_FLOAT: lisp_mapsetstr(S, m, "value", lisp_float(e->v.f)); break;
            case TRACE_V_STR:
            case TRACE_V_TEXT:
                lisp_mapsetstr(S, m, "value", lisp_cstring(S, text ? text : ""));
                break;
            default: break;
        }
        if (e->kind == TRACE_WARNING || e->kind == TRACE_ERROR) {
            lisp_mapsetstr(S, m, "msg", lisp_cstring(S, text ? text : ""));
        }
        lisp_vecpush(S, list, m);
        lisp_settop(S, base);
    }
    return list;
}

static lisp_Value cfun_bt_logsdump(lisp_State *S, int argc, lisp_Value *argv) {
    int n = optcount(S, argc, argv, 0, -1);
    log_dump(bt_reg_env(bt_reg(S))->log, n, lisp_scratch(S));
    return lisp_scratchstring(S);
}

static lisp_Value cfun_bt_logssnap(lisp_State *S, int argc, lisp_Value *argv) {
    log_Ring *R = bt_reg_env(bt_reg(S))->log;
    int n = optcount(S, argc, argv, 0, -1), count = log_count(R), i, base;
    lisp_Value list;
    if (n < 0 || n > count) {
        n = count;
    }
    list = lisp_vec(S, n);
    base = lisp_gettop(S);
    for (i = count - n; i < count; i++) {
        log_Record r;
        lisp_Value m;
        if (log_copy(R, i, &r) != 0) {
            break; /* a concurrent writer moved the window */
        }
        m = lisp_map(S, 8);
        lisp_mapsetstr(S, m, "seq", lisp_int((int64_t)r.seq));
        lisp_mapsetstr(S, m, "level", lisp_cstring(S, log_level_name(r.level)));
        lisp_mapsetstr(S, m, "ts_ns", lisp_int(r.ts_ns));
        lisp_mapsetstr(S, m, "tick", lisp_int(r.tick));
        lisp_mapsetstr(S, m, "node", lisp_int(r.node));
        lisp_mapsetstr(S, m, "category", lisp_cstring(S, r.category));
        lisp_mapsetstr(S, m, "msg", lisp_cstring(S, r.msg));
        lisp_vecpush(S, list, m);
        lisp_settop(S, base);
    }
    return list;
}

/* (bt.blackboard.get inst key [default]): the reference's name for
** bt.bb-get, with a default for a key never written. */
static lisp_Value cfun_bt_blackboardget(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Inst *I = checkinst(S, argv, 0);
    size_t n;
    const char *name = checkkey(S, argv, 1, &n);
    lisp_Value v;
    if (bt_bb_get(I, bt_key_find(S, name, n), &v, -1)) {
        return v;
    }
    return argc > 2 ? argv[2] : lisp_nil();
}

/* (bt.install-demo-callbacks): register muesli-bt's demo leaves in this
** host; returns their names. */
static lisp_Value cfun_bt_installdemo(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Value acc = lisp_nil();
    int k = 0, base = lisp_gettop(S);
    (void)argc;
    (void)argv;
    if (bt_leaves_demo(S, bt_reg(S)) != LISP_OK) {
        lisp_nomem(S, "bt.install-demo-callbacks");
    }
    while (bt_demo_names[k]) {
        k++;
    }
    while (k-- > 0) {
        acc = lisp_cons(S, lisp_cintern(S, bt_demo_names[k]), acc);
        lisp_settop(S, base);
        lisp_push(S, acc);
    }
    return acc;
}

/* (bt.set-preempt-enabled b): whether memoryless seq and sel of this
** host's trees halt a running child they stop before (#t, host option
** preempt) or leave it as muesli-bt does (#f, the default). */
static lisp_Value cfun_bt_setpreempt(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    if (argv[0].tag != LISP_TBOOL) {
        lisp_argerror(S, argv, 0, "expected a boolean");
    }
    bt_reg_env(bt_reg(S))->preempt = argv[0].u.b;
    return lisp_nil();
}

/* ---- persistence ---- */

static lisp_Value cfun_bt_todsl(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    return bt_todsl(checkdef(S, argv, 0));
}

/* The canonical DSL text of 'D' (and a newline) into 'b' (initialised
** here; the caller frees it unless this raises). */
static void dsltext(lisp_State *S, bt_Def *D, sbuf *b, const char *fname) {
    int st;
    lisp_Value bad;
    sbuf_initm(b, lisp_mem(S));
    /* bounded like every write: a tree whose quoted arguments share
    ** structure cannot make the file (or the time) explode */
    st = lisp_writereadable(S, b, bt_todsl(D), lisp_printlimit(S), &bad);
    sbuf_putc(b, '\n');
    if (b->oom) {
        sbuf_free(b);
        lisp_nomem(S, fname);
    }
    if (st != LISP_WRITE_OK) {
        sbuf_free(b);
        if (st == LISP_WRITE_TOOLONG) {
            lisp_error(S, "%s: tree too large (its written form is over the print limit, %llu bytes)",
                       fname, (unsigned long long)lisp_printlimit(S));
        }
        lisp_error(S, "%s: the tree holds a %s value that cannot be read back", fname,
                   bad.tag == LISP_TCONS || bad.tag == LISP_TVEC || bad.tag == LISP_TMAP
                       ? "cyclic or too deeply nested" : lisp_typename(bad));
    }
}

/* Write 'b' (then freed) to 'path', or raise "FNAME: cannot ...". */
static void writefile(lisp_State *S, const char *path, sbuf *b, const char *fname) {
    FILE *f = fopen(path, "wb");
    int ok;
    if (f == NULL) {
        int e = errno;
        sbuf_free(b);
        lisp_error(S, "%s: cannot open '%s': %s", fname, path, strerror(e));
    }
    ok = fwrite(b->p, 1, b->len, f) == b->len;
    ok = fclose(f) == 0 && ok;
    sbuf_free(b);
    if (!ok) {
        lisp_error(S, "%s: cannot write '%s'", fname, path);
    }
}

static lisp_Value cfun_bt_savedsl(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Def *D = checkdef(S, argv, 0);
    const char *path = lisp_checkpath(S, argv, 1);
    sbuf b;
    (void)argc;
    dsltext(S, D, &b, "bt.save-dsl");
    writefile(S, path, &b, "bt.save-dsl");
    return lisp_bool(1);
}

/* ---- bt.save / bt.load: lispbt's tree file (docs/reference/bt.md#btsave) ----
**
** A 32-byte header, then the payload, the tree's canonical DSL text:
**   0  magic "LBT1"            16  payload length, u64 little-endian
**   4  format version, u32 LE  24  FNV-1a 64 of the payload, u64 LE
**   8  byte-order mark 0x01020304 as u32 LE (bytes 04 03 02 01)
**  12  flags, u32 LE, 0
** bt.load checks every field and the exact file length before it reads
** the payload, so a truncated or corrupt file is refused with a message
** naming the problem. */

static uint64_t fnv1a64(const unsigned char *p, size_t n) {
    uint64_t h = 14695981039346656037ULL;
    size_t i;
    for (i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211ULL;
    }
    return h;
}

static void putle(unsigned char *p, uint64_t v, int n) {
    int i;
    for (i = 0; i < n; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

static uint64_t getle(const unsigned char *p, int n) {
    uint64_t v = 0;
    int i;
    for (i = n - 1; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static lisp_Value cfun_bt_save(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Def *D = checkdef(S, argv, 0);
    const char *path = lisp_checkpath(S, argv, 1);
    unsigned char h[BT_FILE_HEADER];
    sbuf b, out;
    (void)argc;
    dsltext(S, D, &b, "bt.save");
    memcpy(h, BT_FILE_MAGIC, 4);
    putle(h + 4, BT_FILE_VERSION, 4);
    putle(h + 8, 0x01020304u, 4);
    putle(h + 12, 0, 4);
    putle(h + 16, b.len, 8);
    putle(h + 24, fnv1a64((const unsigned char *)b.p, b.len), 8);
    sbuf_initm(&out, lisp_mem(S));
    sbuf_putn(&out, (const char *)h, sizeof h);
    sbuf_putn(&out, b.p, b.len);
    sbuf_free(&b);
    if (out.oom) {
        sbuf_free(&out);
        lisp_nomem(S, "bt.save");
    }
    writefile(S, path, &out, "bt.save");
    return lisp_bool(1);
}

static lisp_Value cfun_bt_load(lisp_State *S, int argc, lisp_Value *argv) {
    const char *path = lisp_checkpath(S, argv, 0);
    size_t n;
    lisp_Value text = lisp_readfile(S, path, "bt.load"), forms;
    const unsigned char *p = (const unsigned char *)lisp_str(text, &n);
    uint64_t len, v;
    (void)argc;
    if (n >= 4 && memcmp(p, "MBT1", 4) == 0) {
        lisp_error(S, "bt.load: '%s' is a muesli-bt compiled tree (MBT1), which lispbt cannot "
                      "read; save the tree with bt.save-dsl and load it with bt.load-dsl", path);
    }
    if (n < 4 || memcmp(p, BT_FILE_MAGIC, 4) != 0) {
        lisp_error(S, "bt.load: '%s' is not a lispbt tree file (no \"" BT_FILE_MAGIC "\" header)",
                   path);
    }
    if (n < BT_FILE_HEADER) {
        lisp_error(S, "bt.load: '%s' is truncated (%llu bytes, the header alone has %d)", path,
                   (unsigned long long)n, BT_FILE_HEADER);
    }
    if ((v = getle(p + 4, 4)) != BT_FILE_VERSION) {
        lisp_error(S, "bt.load: '%s' has unsupported format version %llu (this lispbt reads %d)",
                   path, (unsigned long long)v, BT_FILE_VERSION);
    }
    if (getle(p + 8, 4) != 0x01020304u || getle(p + 12, 4) != 0) {
        lisp_error(S, "bt.load: '%s' is corrupt (bad byte-order mark or flags)", path);
    }
    len = getle(p + 16, 8);
    if (len != n - BT_FILE_HEADER) {
        lisp_error(S, "bt.load: '%s' is %s (the header promises %llu payload bytes, the file has %llu)",
                   path, len > n - BT_FILE_HEADER ? "truncated" : "corrupt", (unsigned long long)len,
                   (unsigned long long)(n - BT_FILE_HEADER));
    }
    if (getle(p + 24, 8) != fnv1a64(p + BT_FILE_HEADER, (size_t)len)) {
        lisp_error(S, "bt.load: '%s' is corrupt (payload checksum mismatch)", path);
    }
    forms = lisp_readall(S, (const char *)p + BT_FILE_HEADER, (size_t)len, path);
    if (lisp_listlen(forms) != 1) {
        lisp_error(S, "bt.load: '%s' is corrupt (the payload must hold exactly one DSL form, got %lld)",
                   path, (long long)lisp_listlen(forms));
    }
    return bt_compile(S, lisp_car(forms));
}

/* Append 's' to a DOT label: quote, backslash and the control characters
** that would break the quoted string are escaped. */
static void dotescape(sbuf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
            case '\\': sbuf_puts(b, "\\\\"); break;
            case '"': sbuf_puts(b, "\\\""); break;
            case '\n': sbuf_puts(b, "\\n"); break;
            case '\r': sbuf_puts(b, "\\r"); break;
            case '\t': sbuf_puts(b, "\\t"); break;
            default: sbuf_putc(b, *s);
        }
    }
}

/* Graphviz DOT text of 'D' into 'b', in the reference's layout: nodes are
** numbered as muesli-bt numbers them, children before their parent (post
** order), so node ids and the root (the last id, drawn bold) match its
** files.  Our array is preorder; a node's post-order id is
** pre + size - 1 - depth.  'post' and 'pre' are scratch arrays of D->n
** entries owned by the caller. */
/* The heat colour of share 'x' in [0, 1] as #rrggbb into 'b': white, then
** orange, then dark red, as the HTML report (lua/lispbt/report.lua) draws it. */
static void dotheat(sbuf *b, double x) {
    int r, g, bl;
    x = x < 0 ? 0 : x > 1 ? 1 : x;
    if (x < 0.5) {
        double k = x / 0.5;
        r = 255;
        g = (int)(247 - k * (247 - 170) + 0.5);
        bl = (int)(236 - k * (236 - 60) + 0.5);
    } else {
        double q = (x - 0.5) / 0.5;
        r = (int)(255 - q * (255 - 200) + 0.5);
        g = (int)(170 - q * 170 + 0.5);
        bl = (int)(60 - q * 40 + 0.5);
    }
    sbuf_printf(b, "#%02x%02x%02x", r, g, bl);
}

/* A node's weight for the heat colouring: its total time at the timing
** level, or, when the instance never timed a tick, its visit count. */
static double dotweight(bt_Inst *I, int32_t node, int timed) {
    const bt_NodeStats *s = bt_nodestats(I, node);
    if (timed) {
        return (double)s->total_ns;
    }
    return (double)(s->count[1] + s->count[2] + s->count[3]);
}

static void dotrender(bt_Def *D, sbuf *b, int32_t *post, int32_t *pre, bt_Inst *I) {
    int32_t i, c, k, n = D->n;
    int timed = I != NULL && bt_nodestats(I, 0)->total_ns > 0;
    double rootw = I != NULL ? dotweight(I, 0, timed) : 0;
    for (i = 0; i < n; i++) {
        post[i] = 0; /* depth, for now */
    }
    for (i = 0; i < n; i++) {
        for (c = i + 1, k = 0; k < D->nodes[i].nkids; k++, c += (int32_t)D->nodes[c].size) {
            post[c] = post[i] + 1;
        }
    }
    for (i = 0; i < n; i++) {
        post[i] = i + (int32_t)D->nodes[i].size - 1 - post[i];
        pre[post[i]] = i;
    }
    sbuf_puts(b, "digraph bt {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n"
                 "  edge [fontname=\"Helvetica\"];\n");
    for (k = 0; k < n; k++) {
        const bt_Node *x = &D->nodes[pre[k]];
        const char *kind = bt_kindnames[x->kind];
        sbuf_printf(b, "  n%d [label=\"id=%d\\n", (int)k, (int)k);
        if (x->kind == BT_NCOND || x->kind == BT_NACT) {
            const bt_Leaf *l = D->largs[pre[k]].leaf;
            if (l->form) { /* (plan-action ...): the form is the kind */
                kind = l->cname;
            } else {
                dotescape(b, l->cname);
                sbuf_puts(b, "\\n");
            }
        }
        sbuf_putc(b, '[');
        dotescape(b, kind);
        if (x->kind == BT_NPAR || x->kind == BT_NREPEAT || x->kind == BT_NRETRY) {
            sbuf_printf(b, " %d", (int)x->param);
        }
        if (I == NULL) {
            sbuf_printf(b, "]\"%s];\n", k == n - 1 ? ", style=\"bold\"" : "");
            continue;
        }
        { /* heat: the node's share of the root's time (or visits) */
            const bt_NodeStats *s = bt_nodestats(I, pre[k]);
            uint64_t visits = s->count[1] + s->count[2] + s->count[3];
            double share = rootw > 0 ? dotweight(I, pre[k], timed) / rootw : 0;
            sbuf_printf(b, "]\\n%.1f%% %s\", style=\"filled%s\", fillcolor=\"", share * 100,
                        timed ? "of tick time" : "of visits", k == n - 1 ? ",bold" : "");
            dotheat(b, share);
            sbuf_printf(b, "\", tooltip=\"visits=%llu success=%llu failure=%llu running=%llu\"",
                        (unsigned long long)visits, (unsigned long long)s->count[1],
                        (unsigned long long)s->count[2], (unsigned long long)s->count[3]);
            if (s->count[2] > 0) {
                sbuf_printf(b, ", color=\"#c62828\", penwidth=%.1f",
                            1.0 + 3.0 * (double)s->count[2] / (double)visits);
            }
            sbuf_puts(b, "];\n");
        }
    }
    for (k = 0; k < n; k++) {
        i = pre[k];
        for (c = i + 1; c < i + (int32_t)D->nodes[i].size; c += (int32_t)D->nodes[c].size) {
            sbuf_printf(b, "  n%d -> n%d;\n", (int)k, (int)post[c]);
        }
    }
    sbuf_puts(b, "}\n");
}

/* (bt.export-dot def [path [inst]]) -> #t when 'path' is given (the DOT
** text written there), else the DOT text.  'inst', an instance of 'def',
** colours each node by its share of the instance's tick time; an instance
** in place of 'def' stands for its tree and its own figures. */
static lisp_Value cfun_bt_exportdot(lisp_State *S, int argc, lisp_Value *argv) {
    bt_Inst *self = lisp_isudata(argv[0], &bt_insttype) ? lisp_udata(argv[0]) : NULL;
    bt_Def *D = self != NULL ? bt_inst_def(self) : checkdef(S, argv, 0);
    const char *path = argc > 1 && !lisp_isnil(argv[1]) ? lisp_checkpath(S, argv, 1) : NULL;
    bt_Inst *I = argc > 2 && !lisp_isnil(argv[2]) ? checkinst(S, argv, 2) : self;
    lisp_Value tmp;
    int32_t *post;
    sbuf *b;
    FILE *f;
    int ok;
    if (I != NULL && bt_inst_def(I) != D) {
        lisp_error(S, "bt.export-dot: the instance is not an instance of this tree");
    }
    /* the scratch arrays are a Lisp string's bytes: freed whatever raises */
    tmp = lisp_string(S, NULL, sizeof(int32_t) * 2 * (size_t)D->n);
    post = (int32_t *)(void *)lisp_str(tmp, NULL);
    b = lisp_scratch(S);
    dotrender(D, b, post, post + D->n, I);
    if (path == NULL) {
        return lisp_scratchstring(S);
    }
    if (b->oom) {
        lisp_memerror(S);
    }
    f = fopen(path, "w");
    if (f == NULL) {
        int e = errno;
        lisp_error(S, "bt.export-dot: cannot open '%s': %s", path, strerror(e));
    }
    ok = fwrite(b->p, 1, b->len, f) == b->len;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        lisp_error(S, "bt.export-dot: cannot write '%s'", path);
    }
    return lisp_bool(1);
}

static lisp_Value cfun_bt_loaddsl(lisp_State *S, int argc, lisp_Value *argv) {
    const char *path = lisp_checkpath(S, argv, 0);
    size_t n;
    lisp_Value text = lisp_readfile(S, path, "bt.load-dsl");
    const char *src = lisp_str(text, &n);
    lisp_Value forms = lisp_readall(S, src, n, path), def;
    (void)argc;
    if (lisp_listlen(forms) != 1) {
        lisp_error(S, "bt.load-dsl: '%s' must hold exactly one DSL form, got %lld", path,
                   (long long)lisp_listlen(forms));
    }
    def = bt_compile(S, lisp_car(forms));
    bt_def_setsource(lisp_udata(def), text); /* the file's raw text */
    return def;
}

#define RT LISP_FRUNTIME
const lisp_Reg bt_lib[] = {
    {"bt.compile", 1, 1, cfun_bt_compile, RT, "(bt.compile form|source) -> bt_def"},
    {"bt.new-instance", 1, 1, cfun_bt_newinst, RT, "(bt.new-instance def) -> bt_instance"},
    {"bt.tick", 1, 2, cfun_bt_tick, RT, "(bt.tick inst [input]) -> 'success|'failure|'running"},
    {"bt.tick-all", 2, 3, cfun_bt_tickall, RT,
     "(bt.tick-all def insts [inputs]) -> list of statuses, in the order of insts"},
    {"bt.reset", 1, 1, cfun_bt_reset, RT, "(bt.reset inst) -> nil; clears memory and blackboard"},
    {"bt.halt", 1, 1, cfun_bt_halt, RT, "(bt.halt inst) -> nil; halts running nodes"},
    {"bt.status->symbol", 1, 1, cfun_bt_statussym, RT, "(bt.status->symbol s) -> status symbol"},
    {"bt.register-condition", 2, 2, cfun_bt_regcond, RT,
     "(bt.register-condition name proc) -> nil"},
    {"bt.register-action", 2, 3, cfun_bt_regact, RT,
     "(bt.register-action name proc [halt-proc]) -> nil"},
    {"bt.bb-get", 2, 2, cfun_bt_bbget, RT, "(bt.bb-get inst key) -> value or nil"},
    {"bt.bb-put", 3, 3, cfun_bt_bbput, RT, "(bt.bb-put inst key value) -> nil"},
    {"bt.blackboard.get", 2, 3, cfun_bt_blackboardget, RT,
     "(bt.blackboard.get inst key [default]) -> value, default or nil"},
    {"bt.set-preempt-enabled", 1, 1, cfun_bt_setpreempt, RT,
     "(bt.set-preempt-enabled b) -> nil; #t: seq/sel halt skipped running children"},
    {"bt.install-demo-callbacks", 0, 0, cfun_bt_installdemo, RT,
     "(bt.install-demo-callbacks) -> names of muesli-bt's demo leaves, now registered"},
    {"bt.blackboard.dump", 1, 1, cfun_bt_bbdump, RT, "(bt.blackboard.dump inst) -> text"},
    {"bt.set-tick-budget-ms", 2, 2, cfun_bt_budget, RT, "(bt.set-tick-budget-ms inst ms) -> nil"},
    {"bt.set-profile-level", 2, 3, cfun_bt_profile, RT,
     "(bt.set-profile-level inst 'counters|'timing|'sampled [n]) -> nil"},
    {"bt.set-trace-enabled", 2, 2, cfun_bt_settrace, RT, "(bt.set-trace-enabled inst b) -> nil"},
    {"bt.set-read-trace-enabled", 2, 2, cfun_bt_setreadtrace, RT,
     "(bt.set-read-trace-enabled inst b) -> nil"},
    {"bt.clear-trace", 1, 1, cfun_bt_cleartrace, RT, "(bt.clear-trace inst) -> nil"},
    {"bt.clear-logs", 0, 0, cfun_bt_clearlogs, RT, "(bt.clear-logs) -> nil"},
    {"bt.stats", 1, 1, cfun_bt_stats, RT, "(bt.stats inst) -> text"},
    {"bt.histogram", 1, 2, cfun_bt_histogram, RT,
     "(bt.histogram inst [node]) -> text bar chart of tick (or node) durations"},
    {"bt.series.enable", 2, 2, cfun_bt_seriesenable, RT,
     "(bt.series.enable inst capacity) -> nil; 0 turns the per-tick series off"},
    {"bt.series.dump", 1, 2, cfun_bt_seriesdump, RT,
     "(bt.series.dump inst ['jsonl|'csv]) -> text of the kept rows"},
    {"bt.series.write", 2, 4, cfun_bt_serieswrite, RT,
     "(bt.series.write inst path ['jsonl|'csv ['replace|'append]]) -> rows written"},
    {"bt.trace.dump", 1, 2, cfun_bt_tracedump, RT, "(bt.trace.dump inst [n]) -> text"},
    {"bt.trace.snapshot", 1, 2, cfun_bt_tracesnap, RT, "(bt.trace.snapshot inst [n]) -> vec"},
    {"bt.trace.chrome", 1, 1, cfun_bt_tracechrome, RT, "(bt.trace.chrome inst) -> JSON text"},
    {"bt.logs.dump", 0, 1, cfun_bt_logsdump, RT, "(bt.logs.dump [n]) -> text"},
    {"bt.logs.snapshot", 0, 1, cfun_bt_logssnap, RT, "(bt.logs.snapshot [n]) -> vec"},
    {"bt.log.dump", 0, 1, cfun_bt_logsdump, RT, "(bt.log.dump [n]) -> text; alias"},
    {"bt.log.snapshot", 0, 1, cfun_bt_logssnap, RT, "(bt.log.snapshot [n]) -> vec; alias"},
    {"bt.to-dsl", 1, 1, cfun_bt_todsl, RT, "(bt.to-dsl def) -> canonical DSL data"},
    {"bt.save-dsl", 2, 2, cfun_bt_savedsl, RT, "(bt.save-dsl def path) -> #t"},
    {"bt.load-dsl", 1, 1, cfun_bt_loaddsl, RT, "(bt.load-dsl path) -> bt_def"},
    {"bt.save", 2, 2, cfun_bt_save, RT, "(bt.save def path) -> #t; writes a tree file"},
    {"bt.load", 1, 1, cfun_bt_load, RT, "(bt.load path) -> bt_def"},
    {"bt.export-dot", 1, 3, cfun_bt_exportdot, RT,
     "(bt.export-dot def|inst [path [inst]]) -> #t, or the DOT text without a path"},
    {NULL, 0, 0, NULL, 0, NULL}};
