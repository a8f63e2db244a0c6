/*
** lisp_state.c -- creating and freeing a Lisp state, the stack API,
** globals, evaluation of source text and argument checking.
** See LICENSE for copyright.
**
** The value stack has a fixed capacity chosen from max_depth (so pointers
** into it stay valid for the life of the state; the pages are only touched
** when used).  Overflowing it raises "stack overflow" like the depth limit.
*/
#include "conf.h"

#include <string.h>
#include <stdlib.h>

#include "lisp_code.h"
#include <stdio.h>

#include "sbuf.h"

#define SLOTS_PER_LEVEL 24
#define MIN_STACK 8192

static lisp_Symbol *fixsym(lisp_State *S, const char *name) {
    lisp_Symbol *s = lispS_intern(S, name, strlen(name));
    s->fixed = 1;
    if (S->gcmarking) { /* a root now: its bucket may be scanned already */
        lispC_markobj(S, &s->h);
    }
    return s;
}

typedef struct OpenArgs {
    const lisp_Reg *const *libs;
} OpenArgs;

static lisp_Value getprim(lisp_State *S, const char *name) {
    lisp_Value v;
    if (!lisp_getglobal(S, name, &v) || v.tag != LISP_TPRIM) {
        return lisp_nil();
    }
    return v;
}

/* Lisp names of S->prim[] (lisp_obj.h), looked up after the libraries are
** open; a name no library defines leaves its entry nil. */
static const char *const primnames[LISPP_N] = {
    [LISPP_ADD] = "+",        [LISPP_SUB] = "-",         [LISPP_MUL] = "*",
    [LISPP_LT] = "<",         [LISPP_GT] = ">",          [LISPP_LE] = "<=",
    [LISPP_GE] = ">=",        [LISPP_NUMEQ] = "=",       [LISPP_CAR] = "car",
    [LISPP_CDR] = "cdr",      [LISPP_CONS] = "cons",     [LISPP_APPEND] = "append",
    [LISPP_EQ] = "eq?",       [LISPP_NOT] = "not",       [LISPP_NULLP] = "null?",
    [LISPP_BTCOMPILE] = "bt.compile",                    [LISPP_LOAD] = "%load",
};

static void openlibs(lisp_State *S, void *ud) {
    OpenArgs *a = ud;
    const lisp_Reg *const *lib;
    int i;
    S->s_quote = fixsym(S, "quote");
    S->s_quasiquote = fixsym(S, "quasiquote");
    S->s_unquote = fixsym(S, "unquote");
    S->s_unquote_splicing = fixsym(S, "unquote-splicing");
    S->s_if = fixsym(S, "if");
    S->s_cond = fixsym(S, "cond");
    S->s_else = fixsym(S, "else");
    S->s_and = fixsym(S, "and");
    S->s_or = fixsym(S, "or");
    S->s_define = fixsym(S, "define");
    S->s_set = fixsym(S, "set!");
    S->s_lambda = fixsym(S, "lambda");
    S->s_let = fixsym(S, "let");
    S->s_letstar = fixsym(S, "let*");
    S->s_begin = fixsym(S, "begin");
    S->s_load = fixsym(S, "load");
    S->s_bt = fixsym(S, "bt");
    S->s_defbt = fixsym(S, "defbt");
    S->s_else->fixed = 2; /* fixed, but not a special form head */
    for (lib = a->libs; lib && *lib; lib++) {
        const lisp_Reg *r;
        for (r = *lib; r->name; r++) {
            lisp_Prim *p = (lisp_Prim *)lispC_newobj(S, LISP_TPRIM, sizeof(lisp_Prim));
            lisp_Value v;
            p->fn = r->fn;
            p->name = r->name;
            p->nameobj = NULL;
            p->min = (int16_t)r->min;
            p->max = (int16_t)r->max;
            p->ud = 0;
            v = lisp_obj(&p->h, LISP_TPRIM);
            lispE_push(S, v);
            lispS_setvalue(S, lispS_intern(S, r->name, strlen(r->name)), v);
            S->top--;
        }
    }
    for (i = 0; i < LISPP_N; i++) {
        S->prim[i] = getprim(S, primnames[i]);
    }
    /* as muesli-bt: variables bound to the booleans (#t and #f are the
    ** literals; a program may redefine these names) */
    lispS_setvalue(S, lispS_intern(S, "true", 4), lisp_bool(1));
    lispS_setvalue(S, lispS_intern(S, "false", 5), lisp_bool(0));
}

lisp_State *lisp_new(mem_Heap *M, const lisp_Opts *o, void *host, const lisp_Reg *const *libs) {
    lisp_State *S = mem_calloc(M, sizeof(lisp_State));
    OpenArgs a;
    size_t cap;
    if (S == NULL) {
        return NULL;
    }
    S->M = M;
    S->host = host;
    sbuf_initm(&S->scratch, M); /* rendered text counts against the limit */
    S->max_depth = o && o->max_depth > 0 ? o->max_depth : 10000;
    S->print_limit = o && o->print_limit > 0 ? o->print_limit : LISPBT_PRINT_LIMIT;
    S->print_style = o && o->print_style == LISP_PRINT_LISPBT ? LISP_PRINT_LISPBT : LISP_PRINT_MUESLI;
    S->gc_stress = o ? o->gc_stress : 0;
#if defined(LISPBT_TESTS)
    if (S->gc_stress == 0) { /* make test-gcstress: stress every state of a test build */
        const char *e = getenv("LISPBT_GC_STRESS");
        S->gc_stress = e == NULL ? 0 : strcmp(e, "incremental") == 0 ? 2 : strcmp(e, "full") == 0;
    }
#endif
    S->gcpause = S->threshold = LISPBT_GC_MINTHRESHOLD;
    S->curwhite = LISP_WHITE0;
    S->gcstate = GCSpause;
    S->pinfree = -1;
    cap = (size_t)S->max_depth * SLOTS_PER_LEVEL;
    if (cap < MIN_STACK) {
        cap = MIN_STACK;
    }
    S->stack = mem_calloc(M, sizeof(lisp_Value) * cap);
    if (S->stack == NULL || lispS_init(S) != 0) {
        mem_free(M, S->stack, sizeof(lisp_Value) * cap);
        mem_free(M, S, sizeof(lisp_State));
        return NULL;
    }
    S->stack_cap = cap;
    S->pausebuckets = mem_calloc(M, sizeof(uint32_t) * hist_nbuckets(HIST_FINE));
    if (S->pausebuckets == NULL) {
        lispS_free(S);
        mem_free(M, S->stack, sizeof(lisp_Value) * cap);
        mem_free(M, S, sizeof(lisp_State));
        return NULL;
    }
    hist_init(&S->pauses, HIST_FINE, S->pausebuckets);
    S->top = S->stack;
    S->stack_last = S->stack + cap - 8; /* slack for pushes before checks */
    a.libs = libs;
    if (lispE_rawpcall(S, openlibs, &a) != LISP_OK) {
        lisp_free(S);
        return NULL;
    }
    if (o && o->heap_limit) {
        mem_setlimit(M, o->heap_limit);
    }
    return S;
}

void lisp_free(lisp_State *S) {
    mem_Heap *M;
    if (S == NULL) {
        return;
    }
    M = S->M;
    S->top = S->stack;
    lispC_freeall(S);
    mem_free(M, S->pins, sizeof(lisp_Value) * (size_t)S->cappins);
    mem_free(M, S->stack, sizeof(lisp_Value) * S->stack_cap);
    mem_free(M, S->pausebuckets, sizeof(uint32_t) * hist_nbuckets(HIST_FINE));
    sbuf_free(&S->scratch);
    mem_free(M, S, sizeof(lisp_State));
}

void *lisp_host(lisp_State *S) {
    return S->host;
}

void *lisp_slot(lisp_State *S, int slot) {
    lispbt_assert(slot >= 0 && slot < LISPBT_NSLOTS);
    return S->slots[slot];
}

void lisp_setslot(lisp_State *S, int slot, void *p) {
    lispbt_assert(slot >= 0 && slot < LISPBT_NSLOTS);
    S->slots[slot] = p;
}

mem_Heap *lisp_mem(lisp_State *S) {
    return S->M;
}

void lisp_setprimfree(lisp_State *S, void (*f)(lisp_State *S, int64_t ud)) {
    S->primfree = f;
}

void lisp_setmarkhook(lisp_State *S, void (*f)(lisp_State *S, void *ud), void *ud) {
    S->markhook = f;
    S->markud = ud;
}

/* ---- stack ---- */

int lisp_gettop(lisp_State *S) {
    return (int)(S->top - S->stack);
}

void lisp_settop(lisp_State *S, int top) {
    lisp_Value *t = S->stack + top;
    while (S->top < t) {
        (S->top++)->tag = LISP_TNIL;
    }
    S->top = t;
}

void lisp_push(lisp_State *S, lisp_Value v) {
    lispE_push(S, v);
}

lisp_Value *lisp_at(lisp_State *S, int idx) {
    return S->stack + idx;
}

/* ---- globals ---- */

void lisp_setglobal(lisp_State *S, const char *name, lisp_Value v) {
    lispE_push(S, v); /* interning may collect */
    lispS_setvalue(S, lispS_intern(S, name, strlen(name)), v);
    S->top--;
}

int lisp_getglobal(lisp_State *S, const char *name, lisp_Value *out) {
    lisp_Symbol *s = lispS_intern(S, name, strlen(name));
    if (s->value.tag == LISP_TUNBOUND) {
        return 0;
    }
    *out = s->value;
    return 1;
}

int lisp_symget(lisp_Value sym, lisp_Value *out) {
    const lisp_Symbol *s = (const lisp_Symbol *)sym.u.o;
    if (s->value.tag == LISP_TUNBOUND) {
        return 0;
    }
    *out = s->value;
    return 1;
}

/* ---- evaluation ---- */

lisp_Value lisp_evalstring(lisp_State *S, const char *src, size_t n, const char *chunk) {
    size_t pos = 0;
    int line = 1, col = 1;
    int base = lisp_gettop(S);
    lisp_Value *last;
    lispE_push(S, lisp_nil());
    last = S->top - 1;
    int fline, fcol;
    while (lispR_read(S, src, n, &pos, &line, &col, chunk, &fline, &fcol)) {
        lisp_Proto *p = lispK_compile(S, S->top[-1], chunk, fline, fcol);
        *last = lispE_runproto(S, p);
        lisp_settop(S, base + 1);
    }
    S->top = S->stack + base;
    return *last; /* no allocation until the caller roots it */
}

/* ---- scratch text ---- */

sbuf *lisp_scratch(lisp_State *S) {
    if (S->scratch.cap > ((size_t)64 << 10)) {
        sbuf_free(&S->scratch); /* don't keep (and charge) a big buffer */
    }
    S->scratch.len = 0;
    S->scratch.oom = 0;
    if (S->scratch.p) {
        S->scratch.p[0] = '\0';
    }
    return &S->scratch;
}

lisp_Value lisp_scratchstring(lisp_State *S) {
    if (S->scratch.oom) {
        sbuf_free(&S->scratch);
        lisp_memerror(S);
    }
    return lisp_string(S, S->scratch.p ? S->scratch.p : "", S->scratch.len);
}

/* ---- argument checking ---- */

const char *lisp_fname(lisp_Value *argv) {
    lisp_Value f = argv[-1];
    return f.tag == LISP_TPRIM ? AS(lisp_Prim, f)->name : "?";
}

void lisp_argerror(lisp_State *S, lisp_Value *argv, int i, const char *what) {
    char repr[LISPBT_REPR_MAX + 8];
    lisp_error(S, "%s: %s, got %s", lisp_fname(argv), what, lisp_repr(S, argv[i], repr, sizeof repr));
}

int64_t lisp_checkint(lisp_State *S, lisp_Value *argv, int i) {
    if (argv[i].tag != LISP_TINT) {
        lisp_argerror(S, argv, i, "expected an integer");
    }
    return argv[i].u.i;
}

int lisp_tointrange(lisp_Value v, int num, int64_t lo, int64_t hi, int64_t *out) {
    if (v.tag == LISP_TINT) {
        if (v.u.i < lo || v.u.i > hi) {
            return 0;
        }
        *out = v.u.i;
        return 1;
    }
    if (num && v.tag == LISP_TFLOAT) {
        double d = v.u.f;
        /* NaN fails every comparison.  (double)lo and (double)hi may round
        ** outward (hi = INT64_MAX becomes 2^63), so the cast is guarded by
        ** the exact int64 bounds too, then the result checked again. */
        if (!(d >= (double)lo && d <= (double)hi && d >= -9223372036854775808.0 &&
              d < 9223372036854775808.0)) {
            return 0;
        }
        *out = (int64_t)d;
        return *out >= lo && *out <= hi;
    }
    return 0;
}

void lisp_rangemsg(lisp_State *S, char *buf, size_t size, const char *arg, int num, int64_t lo,
                   int64_t hi, lisp_Value got) {
    sbuf b;
    sbuf_init(&b);
    lisp_write(S, &b, got, 0);
    char range[64];
    if (hi == INT64_MAX) {
        snprintf(range, sizeof range, ">= %lld", (long long)lo);
    } else {
        snprintf(range, sizeof range, "in [%lld, %lld]", (long long)lo, (long long)hi);
    }
    snprintf(buf, size, b.len > 100 ? "%s must be %s %s, got %.100s..." : "%s must be %s %s, got %s",
             arg, num ? "a number" : "an integer", range, b.p ? b.p : "?");
    sbuf_free(&b);
}

int64_t lisp_checkintrange(lisp_State *S, lisp_Value *argv, int i, const char *arg, int num,
                           int64_t lo, int64_t hi) {
    int64_t k;
    if (!lisp_tointrange(argv[i], num, lo, hi, &k)) {
        char msg[300];
        lisp_rangemsg(S, msg, sizeof msg, arg, num, lo, hi, argv[i]);
        lisp_error(S, "%s: %s", lisp_fname(argv), msg);
    }
    return k;
}

double lisp_checknumber(lisp_State *S, lisp_Value *argv, int i) {
    if (argv[i].tag == LISP_TINT) {
        return (double)argv[i].u.i;
    }
    if (argv[i].tag != LISP_TFLOAT) {
        lisp_argerror(S, argv, i, "expected a number");
    }
    return argv[i].u.f;
}

const char *lisp_checkstring(lisp_State *S, lisp_Value *argv, int i, size_t *len) {
    if (argv[i].tag != LISP_TSTRING) {
        lisp_argerror(S, argv, i, "expected a string");
    }
    return lisp_str(argv[i], len);
}

const char *lisp_checkname(lisp_State *S, lisp_Value *argv, int i, size_t *len) {
    if (argv[i].tag != LISP_TSTRING && argv[i].tag != LISP_TSYMBOL) {
        lisp_argerror(S, argv, i, "expected a symbol or string");
    }
    return lisp_str(argv[i], len);
}

const char *lisp_checkpath(lisp_State *S, lisp_Value *argv, int i) {
    size_t n;
    const char *s = lisp_checkstring(S, argv, i, &n);
    if (n == 0) {
        lisp_argerror(S, argv, i, "expected a non-empty path");
    }
    if (memchr(s, '\0', n) != NULL) {
        lisp_argerror(S, argv, i, "expected a path without NUL bytes");
    }
    return s;
}

void *lisp_checkudata(lisp_State *S, lisp_Value *argv, int i, const lisp_UType *t) {
    if (!lisp_isudata(argv[i], t)) {
        char what[64];
        snprintf(what, sizeof what, "expected a %s", t->name);
        lisp_argerror(S, argv, i, what);
    }
    return lisp_udata(argv[i]);
}

/* ---- heap statistics text (SPEC §8) ---- */

void lisp_heapstats_text(lisp_State *S, sbuf *b) {
    lisp_HeapStats h;
    lisp_heapstats(S, &h);
    sbuf_printf(b, "total allocated objects: %llu\n", (unsigned long long)h.total_allocated_objects);
    sbuf_printf(b, "live objects after last GC: %llu\n",
                (unsigned long long)h.live_objects_after_last_gc);
    sbuf_printf(b, "bytes allocated: %llu\n", (unsigned long long)h.bytes_allocated);
    sbuf_printf(b, "next GC threshold: %llu\n", (unsigned long long)h.next_gc_threshold);
    /* muesli-bt's other four lines, in its order and words */
    sbuf_printf(b, "collection count: %llu\n", (unsigned long long)h.collections);
    sbuf_printf(b, "total GC pause ns: %lld\n", (long long)h.gc_total_pause_ns);
    sbuf_printf(b, "freed objects total: %llu\n", (unsigned long long)h.freed_objects);
    sbuf_printf(b, "forced collection count: %llu\n", (unsigned long long)h.forced_collections);
    /* ours */
    sbuf_printf(b, "live objects: %llu\n", (unsigned long long)h.live_objects);
    sbuf_printf(b, "gc last pause ns: %lld\n", (long long)h.gc_last_pause_ns);
    sbuf_printf(b, "gc max pause ns: %lld\n", (long long)h.gc_max_pause_ns);
    sbuf_printf(b, "gc max pause cpu ns: %lld\n", (long long)h.gc_max_pause_cpu_ns);
    sbuf_printf(b, "gc total pause cpu ns: %lld\n", (long long)h.gc_total_pause_cpu_ns);
    sbuf_printf(b, "gc pauses: %llu\n", (unsigned long long)h.gc_pauses);
    {
        hist_Summary p;
        hist_summary(&S->pauses, &p);
        sbuf_printf(b, "gc pause p50 ns: %lld\n", (long long)p.p50);
        sbuf_printf(b, "gc pause p90 ns: %lld\n", (long long)p.p90);
        sbuf_printf(b, "gc pause p99 ns: %lld\n", (long long)p.p99);
        sbuf_printf(b, "gc pause p999 ns: %lld\n", (long long)p.p999);
    }
    sbuf_printf(b, "heap limit: %llu\n", (unsigned long long)h.heap_limit);
    sbuf_printf(b, "c heap bytes: %llu\n", (unsigned long long)S->M->bytes);
    sbuf_printf(b, "c heap allocations: %llu\n", (unsigned long long)S->M->nalloc);
    sbuf_printf(b, "charged bytes: %llu\n", (unsigned long long)mem_charged(S->M));
    sbuf_printf(b, "refused allocations: %llu\n", (unsigned long long)S->M->nrefused);
}
