/*
** test_lisp.c -- C tests of the Lua-free Lisp API (csrc/lisp/lisp.h).
** See LICENSE for copyright.
**
** Covers: lisp_new/lisp_free (every byte returned to the mem_Heap, also
** after errors and under injected allocation failures), lisp_evalstring
** under lisp_pcall (values, runtime and syntax errors with positions, stack
** restored after errors), the rooting rule under gc_stress (a list built
** from C while collecting at every allocation, checked with lisp_verify),
** a 100k-element list with collections interleaved, heap_limit (ERRMEM,
** then usable), pins (survive collections, slot reuse), globals, lisp_call,
** lisp_readall, max_depth and constant-stack tail calls, and the bounded
** walks (lisp_writen, lisp_repr, lisp_writereadable, equal? on deep and
** doubled values, the print_limit option).
**
** Plain main(); prints "N passed, M failed" last and exits non-zero on any
** failure.
*/
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_builtins.h"
#include "lisp.h"
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

static lisp_State *newstate(mem_Heap *M, int max_depth, size_t heap_limit, int stress) {
    lisp_Opts o;
    memset(&o, 0, sizeof o);
    o.max_depth = max_depth;
    o.heap_limit = heap_limit;
    o.gc_stress = stress;
    mem_init(M);
    return lisp_new(M, &o, NULL, lispbt_builtins);
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

/* Evaluate; returns the status, the value in *out (valid until the next
** allocation). */
static int eval(lisp_State *S, const char *src, lisp_Value *out) {
    Eval e;
    int st;
    e.src = src;
    e.r = lisp_nil();
    st = lisp_pcall(S, doeval, &e);
    if (out) {
        *out = e.r;
    }
    return st;
}

static int evalint(lisp_State *S, const char *src, int64_t want) {
    lisp_Value v;
    int st = eval(S, src, &v);
    if (st != LISP_OK) {
        printf("error in '%s': %s\n", src, lisp_errmsg(S));
        return 0;
    }
    if (v.tag != LISP_TINT || v.u.i != want) {
        printf("'%s': want %lld, got tag %d\n", src, (long long)want, v.tag);
        return 0;
    }
    return 1;
}

static int evalerr(lisp_State *S, const char *src, int wantst, const char *wantmsg) {
    int top = lisp_gettop(S);
    int st = eval(S, src, NULL);
    int ok = st == wantst && same(lisp_errmsg(S), wantmsg);
    if (st != wantst) {
        printf("'%s': status %d, want %d\n", src, st, wantst);
    }
    return ok && lisp_gettop(S) == top;
}

/* ---- tests ---- */

static void test_basic(void) {
    mem_Heap M;
    lisp_State *S = newstate(&M, 0, 0, 0);
    lisp_Value v;
    CHECK(S != NULL);
    CHECK(M.bytes > 0);
    CHECK(lisp_gettop(S) == 0);
    CHECK(evalint(S, "(+ 1 2)", 3));
    CHECK(evalint(S, "(define (sq x) (* x x)) (sq 12)", 144));
    CHECK(evalint(S, "(let loop ((i 0) (acc 0)) (if (> i 100) acc (loop (+ i 1) (+ acc i))))", 5050));
    CHECK(eval(S, "3.5", &v) == LISP_OK && v.tag == LISP_TFLOAT && v.u.f == 3.5);
    CHECK(eval(S, "\"hi\"", &v) == LISP_OK && v.tag == LISP_TSTRING);
    {
        size_t n;
        const char *s = lisp_str(v, &n);
        CHECK(n == 2 && memcmp(s, "hi", 2) == 0);
    }
    CHECK(eval(S, "#f", &v) == LISP_OK && v.tag == LISP_TBOOL && !lisp_istrue(v));
    CHECK(eval(S, "nil", &v) == LISP_OK && lisp_isnil(v) && !lisp_istrue(v));
    CHECK(eval(S, "0", &v) == LISP_OK && lisp_istrue(v)); /* only #f and nil are false */
    CHECK(eval(S, "", &v) == LISP_OK && lisp_isnil(v));
    CHECK(eval(S, "'(1 2 3)", &v) == LISP_OK && lisp_listlen(v) == 3);
    CHECK(eval(S, "'(1 . 2)", &v) == LISP_OK && lisp_listlen(v) == -1);
    CHECK(strcmp(lisp_typename(lisp_int(1)), "integer") == 0);
    CHECK(lisp_gettop(S) == 0);
    CHECK(lisp_verify(S) == 0);
    lisp_free(S);
    CHECK(M.bytes == 0);
    CHECK(M.nalloc == M.nfree);
}

static void test_errors(void) {
    mem_Heap M;
    lisp_State *S = newstate(&M, 0, 0, 0);
    CHECK(evalerr(S, "(car 3)", LISP_ERRRUN, "t:1:1: car: expected a cons, got 3"));
    CHECK(evalerr(S, "\n  (undefined-fn 1)", LISP_ERRRUN, "t:2:3: unbound symbol: undefined-fn"));
    CHECK(evalerr(S, "(define (f a b) a) (f 1 2 3)", LISP_ERRRUN,
                  "t:1:20: f: expected 2 arguments, got 3"));
    CHECK(evalerr(S, "(1 2)", LISP_ERRRUN, "t:1:1: not a procedure: 1"));
    CHECK(evalerr(S, "(error \"boom\" 42)", LISP_ERRRUN, "t:1:1: boom 42"));
    CHECK(evalerr(S, "(+ 1 (", LISP_ERRSYNTAX, "t:1:6: unterminated list"));
    CHECK(evalerr(S, "\"abc", LISP_ERRSYNTAX, "t:1:1: unterminated string"));
    CHECK(evalerr(S, "  )", LISP_ERRSYNTAX, "t:1:3: unexpected closing delimiter"));
    CHECK(evalerr(S, "(+ 9223372036854775807 1)", LISP_ERRRUN, "t:1:1: +: integer overflow"));
    /* forms before the error ran; the state is usable afterwards */
    CHECK(evalerr(S, "(define before 7) (car 'x)", LISP_ERRRUN, "t:1:19: car: expected a cons, got x"));
    CHECK(evalint(S, "before", 7));
    CHECK(lisp_gettop(S) == 0);
    CHECK(lisp_verify(S) == 0);
    lisp_free(S);
    CHECK(M.bytes == 0);
}

/* Build the list (0 1 ... n-1) from C following the rooting rule: the
** head sits in a stack slot, each new cell is rooted through the chain.
** Every 'gcevery' cells (0 = never) force a full collection. */
typedef struct Build {
    int64_t n, gcevery;
    lisp_Value head;
} Build;

static void dobuild(lisp_State *S, void *ud) {
    Build *b = ud;
    int base = lisp_gettop(S), slot;
    lisp_Value tail;
    int64_t i;
    lisp_push(S, lisp_nil());
    slot = base;
    tail = lisp_nil();
    for (i = 0; i < b->n; i++) {
        lisp_Value cell = lisp_cons(S, lisp_int(i), lisp_nil()); /* pushed */
        if (lisp_isnil(tail)) {
            *lisp_at(S, slot) = cell;
        } else {
            lisp_setcdr(S, tail, cell);
        }
        tail = cell;
        lisp_settop(S, base + 1); /* the cell stays reachable from the head */
        if (i % 7 == 0) {
            lisp_string(S, "garbage", 7); /* unreachable once popped */
            lisp_settop(S, base + 1);
        }
        if (b->gcevery && i % b->gcevery == 0) {
            lisp_gc(S);
        }
    }
    b->head = *lisp_at(S, slot); /* left on the stack: rooted */
}

static int checklist(lisp_Value l, int64_t n) {
    int64_t i;
    for (i = 0; i < n; i++, l = lisp_cdr(l)) {
        lisp_Value x = lisp_car(l);
        if (l.tag != LISP_TCONS || x.tag != LISP_TINT || x.u.i != i) {
            printf("list element %lld wrong\n", (long long)i);
            return 0;
        }
    }
    return lisp_isnil(l);
}

static void test_rooting_stress(void) {
    mem_Heap M;
    lisp_State *S = newstate(&M, 0, 0, 1);
    Build b;
    lisp_HeapStats h0, h1;
    CHECK(S != NULL);
    lisp_heapstats(S, &h0);
    /* Collecting at every allocation is quadratic in the live set, so the
    ** stress list is 10k cells; the 100k list below collects every 997. */
    b.n = 10000;
    b.gcevery = 0;
    CHECK(lisp_pcall(S, dobuild, &b) == LISP_OK);
    lisp_heapstats(S, &h1);
    CHECK(h1.collections - h0.collections >= (uint64_t)b.n); /* one per allocation */
    CHECK(lisp_gettop(S) == 1);
    CHECK(lisp_verify(S) == 0);
    CHECK(checklist(b.head, b.n));
    CHECK(lisp_listlen(b.head) == b.n);
    lisp_gc(S);
    CHECK(lisp_verify(S) == 0);
    CHECK(checklist(*lisp_at(S, 0), b.n));
    /* the same list is visible to Lisp code */
    lisp_setglobal(S, "xs", *lisp_at(S, 0));
    lisp_settop(S, 0);
    CHECK(evalint(S, "(length xs)", b.n));
    CHECK(evalint(S, "(apply + xs)", b.n * (b.n - 1) / 2));
    CHECK(evalint(S, "(set! xs nil) 0", 0));
    lisp_gc(S);
    lisp_heapstats(S, &h1);
    CHECK(h1.live_objects < h0.live_objects + 100); /* the list was freed */
    CHECK(lisp_verify(S) == 0);
    lisp_free(S);
    CHECK(M.bytes == 0);
}

static void test_rooting_100k(void) {
    mem_Heap M;
    lisp_State *S = newstate(&M, 0, 0, 0);
    Build b;
    lisp_HeapStats h0, h1;
    lisp_heapstats(S, &h0);
    b.n = 100000;
    b.gcevery = 997;
    CHECK(lisp_pcall(S, dobuild, &b) == LISP_OK);
    lisp_heapstats(S, &h1);
    CHECK(h1.collections - h0.collections >= 100);
    CHECK(lisp_verify(S) == 0);
    CHECK(checklist(b.head, b.n));
    CHECK(h1.live_objects >= h0.live_objects + (uint64_t)b.n);
    lisp_settop(S, 0);
    lisp_gc(S);
    lisp_heapstats(S, &h1);
    CHECK(h1.live_objects == h1.live_objects_after_last_gc);
    CHECK(h1.live_objects < h0.live_objects + 100);
    CHECK(h1.freed_objects >= (uint64_t)b.n);
    CHECK(lisp_verify(S) == 0);
    lisp_free(S);
    CHECK(M.bytes == 0);
}

static void test_stress_eval(void) {
    mem_Heap M;
    lisp_State *S = newstate(&M, 0, 0, 1);
    CHECK(evalint(S, "(define (build n acc) (if (= n 0) acc (build (- n 1) (cons n acc))))"
                     "(length (build 2000 nil))",
                  2000));
    CHECK(evalint(S, "(let ((v (vec.make)) (m (map.make))) "
                     "  (let loop ((i 0)) (if (< i 500) (begin (vec.push! v (list i)) "
                     "     (map.set! m (number->string i) i) (loop (+ i 1))))) "
                     "  (+ (vec.len v) (map.count m) (map.get m \"499\")))",
                  1499));
    CHECK(evalint(S, "(length `(1 ,@(map (lambda (x) (* x x)) '(1 2 3)) ,(+ 1 1)))", 5));
    CHECK(evalerr(S, "(car (string-append \"a\" \"b\"))", LISP_ERRRUN,
                  "t:1:1: car: expected a cons, got \"ab\""));
    CHECK(lisp_verify(S) == 0);
    lisp_free(S);
    CHECK(M.bytes == 0);
}

static void test_heap_limit(void) {
    mem_Heap M;
    lisp_State *S = newstate(&M, 0, 256 * 1024, 0);
    lisp_HeapStats h;
    CHECK(S != NULL);
    lisp_heapstats(S, &h);
    CHECK(h.heap_limit == 256 * 1024);
    CHECK(evalerr(S, "(define keep nil) (let loop ((i 0)) (set! keep (cons i keep)) (loop (+ i 1)))",
                  LISP_ERRMEM, "t:1:48: cons: out of memory"));
    lisp_heapstats(S, &h);
    /* the limit counts everything allocated after lisp_new (mem.h) */
    CHECK(mem_charged(&M) <= 256 * 1024);
    CHECK(M.nrefused > 0);
    /* still usable for small work; freeing the data makes room again */
    CHECK(evalint(S, "(+ 1 2)", 3));
    CHECK(evalint(S, "(set! keep nil) (length (let loop ((i 0) (acc nil)) "
                     "(if (= i 1000) acc (loop (+ i 1) (cons i acc)))))",
                  1000));
    CHECK(lisp_verify(S) == 0);
    lisp_free(S);
    CHECK(M.bytes == 0);
}

/* The status, not the message text, says "out of memory": lisp_memerror
** raises ERRMEM, lisp_error never does, whatever its text. */
static void raise_text(lisp_State *S, void *ud) {
    (void)ud;
    lisp_error(S, "out of memory");
}

static void raise_mem(lisp_State *S, void *ud) {
    (void)ud;
    lisp_memerror(S);
}

static void test_errmem_status(void) {
    mem_Heap M;
    lisp_State *S = newstate(&M, 0, 0, 0);
    int top = lisp_gettop(S);
    CHECK(lisp_pcall(S, raise_text, NULL) == LISP_ERRRUN);
    CHECK_STR(lisp_errmsg(S), "out of memory");
    CHECK(lisp_pcall(S, raise_mem, NULL) == LISP_ERRMEM);
    CHECK_STR(lisp_errmsg(S), "eval: out of memory"); /* no builtin running */
    CHECK(lisp_gettop(S) == top);
    lisp_free(S);
    CHECK(M.bytes == 0);
}

/* A symbol named like a number literal writes with bars (in the readable
** LISP_PRINT_LISPBT style) and reads back as the same symbol; the literals
** themselves read as floats. */
static void test_special_names(void) {
    static const char *const names[] = {"+inf.0", "-inf.0", "+nan.0", "-nan.0", "nil", ".", "12"};
    static const char *const bare[] = {"+x", "inf.0", "-nan.00", "nil?", ".."};
    char src[128];
    lisp_Value v;
    mem_Heap M;
    lisp_State *S = newstate(&M, 0, 0, 0);
    size_t i, n;
    lisp_setprintstyle(S, LISP_PRINT_LISPBT);
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        char want[32];
        snprintf(src, sizeof src, "(write-to-string (string->symbol \"%s\"))", names[i]);
        snprintf(want, sizeof want, "|%s|", names[i]);
        CHECK(eval(S, src, &v) == LISP_OK && v.tag == LISP_TSTRING);
        CHECK_STR(lisp_str(v, &n), want);
        snprintf(src, sizeof src, "(eq? '|%s| (string->symbol \"%s\"))", names[i], names[i]);
        CHECK(eval(S, src, &v) == LISP_OK && v.tag == LISP_TBOOL && v.u.b);
    }
    for (i = 0; i < sizeof bare / sizeof bare[0]; i++) {
        snprintf(src, sizeof src, "(write-to-string (string->symbol \"%s\"))", bare[i]);
        CHECK(eval(S, src, &v) == LISP_OK && v.tag == LISP_TSTRING);
        CHECK_STR(lisp_str(v, &n), bare[i]);
    }
    CHECK(eval(S, "(list +inf.0 -inf.0 +nan.0 -nan.0)", &v) == LISP_OK);
    CHECK(eval(S, "(write-to-string (list +inf.0 -inf.0 -nan.0))", &v) == LISP_OK &&
          v.tag == LISP_TSTRING);
    CHECK_STR(lisp_str(v, &n), "(+inf.0 -inf.0 +nan.0)");
    lisp_free(S);
    CHECK(M.bytes == 0);
}

static void test_pins(void) {
    mem_Heap M;
    lisp_State *S = newstate(&M, 0, 0, 1);
    lisp_Value v;
    lisp_HeapStats h0, h1;
    int p1, p2, p3;
    size_t n;
    const char *s;
    lisp_gc(S);
    lisp_heapstats(S, &h0);
    lisp_cstring(S, "pinned string");
    p1 = lisp_pin(S, *lisp_at(S, lisp_gettop(S) - 1));
    CHECK(p1 >= 0);
    v = lisp_cons(S, lisp_int(1), lisp_int(2));
    p2 = lisp_pin(S, v);
    CHECK(p2 >= 0 && p2 != p1);
    lisp_settop(S, 0); /* only the pins keep them alive */
    lisp_gc(S);
    CHECK(eval(S, "(list 1 2 3 4 5 6 7 8 9)", NULL) == LISP_OK); /* churn */
    lisp_gc(S);
    s = lisp_str(lisp_pinned(S, p1), &n);
    CHECK(n == 13 && memcmp(s, "pinned string", 13) == 0);
    v = lisp_pinned(S, p2);
    CHECK(v.tag == LISP_TCONS && lisp_car(v).u.i == 1 && lisp_cdr(v).u.i == 2);
    lisp_heapstats(S, &h1);
    CHECK(h1.live_objects == h0.live_objects + 2);
    CHECK(lisp_verify(S) == 0);
    lisp_unpin(S, p1);
    lisp_unpin(S, p2);
    lisp_gc(S);
    lisp_heapstats(S, &h1);
    CHECK(h1.live_objects == h0.live_objects);
    p3 = lisp_pin(S, lisp_int(5)); /* a freed slot is reused */
    CHECK(p3 == p1 || p3 == p2);
    CHECK(lisp_pinned(S, p3).tag == LISP_TINT && lisp_pinned(S, p3).u.i == 5);
    lisp_unpin(S, p3);
    CHECK(lisp_verify(S) == 0);
    lisp_free(S);
    CHECK(M.bytes == 0);
}

typedef struct CallArgs {
    int64_t a, b;
    lisp_Value r;
} CallArgs;

static void docall(lisp_State *S, void *ud) {
    CallArgs *c = ud;
    int fidx = lisp_gettop(S);
    lisp_Value f;
    if (!lisp_getglobal(S, "add3", &f)) {
        lisp_error(S, "add3 missing");
    }
    lisp_push(S, f);
    lisp_push(S, lisp_int(c->a));
    lisp_push(S, lisp_int(c->b));
    c->r = lisp_call(S, fidx, 2);
    if (lisp_gettop(S) != fidx) {
        lisp_error(S, "lisp_call did not cut the stack back");
    }
}

static void doreadall(lisp_State *S, void *ud) {
    lisp_Value *out = ud;
    static const char src[] = "1 \"two\" (three 4.0) ; comment\n";
    *out = lisp_readall(S, src, sizeof src - 1, "r");
}

static void test_api(void) {
    mem_Heap M;
    lisp_State *S = newstate(&M, 0, 0, 0);
    CallArgs c;
    lisp_Value v;
    /* define returns the procedure it binds (muesli-bt) */
    CHECK(eval(S, "(define (add3 a b) (+ a b 3))", &v) == LISP_OK && v.tag == LISP_TCLOSURE);
    c.a = 10;
    c.b = 20;
    CHECK(lisp_pcall(S, docall, &c) == LISP_OK);
    CHECK(c.r.tag == LISP_TINT && c.r.u.i == 33);
    c.a = 1;
    c.b = 0;
    CHECK(evalint(S, "(set! add3 (lambda (a) a)) 0", 0));
    CHECK(lisp_pcall(S, docall, &c) == LISP_ERRRUN);
    CHECK(same(lisp_errmsg(S), "lambda: expected 1 argument, got 2"));
    CHECK(lisp_gettop(S) == 0);
    /* globals */
    lisp_setglobal(S, "answer", lisp_int(42));
    CHECK(lisp_getglobal(S, "answer", &v) && v.tag == LISP_TINT && v.u.i == 42);
    CHECK(!lisp_getglobal(S, "no-such-global", &v));
    CHECK(evalint(S, "(+ answer 1)", 43));
    /* readall */
    CHECK(lisp_pcall(S, doreadall, &v) == LISP_OK);
    CHECK(lisp_listlen(v) == 3);
    CHECK(lisp_car(v).tag == LISP_TINT && lisp_car(v).u.i == 1);
    CHECK(lisp_car(lisp_cdr(v)).tag == LISP_TSTRING);
    CHECK(lisp_listlen(lisp_car(lisp_cdr(lisp_cdr(v)))) == 2);
    CHECK(lisp_verify(S) == 0);
    lisp_free(S);
    CHECK(M.bytes == 0);
}

static void test_depth(void) {
    mem_Heap M;
    lisp_State *S = newstate(&M, 50, 0, 0);
    lisp_HeapStats h;
    lisp_heapstats(S, &h);
    CHECK(h.max_depth == 50);
    CHECK(evalint(S, "(define (deep n) (if (= n 0) 0 (+ 1 (deep (- n 1))))) (deep 40)", 40));
    CHECK(evalerr(S, "(deep 100)", LISP_ERRRUN, "t:1:37: stack overflow"));
    CHECK(evalint(S, "(deep 10)", 10));
    /* tail calls do not count against max_depth */
    CHECK(evalint(S, "(define (count n) (if (= n 0) 'done (count (- n 1)))) "
                     "(let loop ((i 0)) (if (< i 1000000) (loop (+ i 1)) i))",
                  1000000));
    lisp_free(S);
    CHECK(M.bytes == 0);
}

/* Fail the k-th allocation of lisp_new and of an evaluation: never a
** crash, never a leak, and the state stays usable after ERRMEM. */
static void test_allocfail(void) {
    int k, created = 0, memerrs = 0;
    for (k = 1; k <= 400; k += 3) {
        mem_Heap M;
        lisp_Opts o;
        lisp_State *S;
        mem_init(&M);
        memset(&o, 0, sizeof o);
        M.fail_after = k;
        S = lisp_new(&M, &o, NULL, lispbt_builtins);
        if (S == NULL) {
            CHECK(M.bytes == 0);
            continue;
        }
        created++;
        M.fail_after = 0;
        M.failing = 0;
        lisp_free(S);
        CHECK(M.bytes == 0);
    }
    CHECK(created > 0);
    for (k = 1; k <= 60; k++) {
        mem_Heap M;
        lisp_State *S = newstate(&M, 0, 0, 0);
        int st;
        M.fail_after = k;
        M.fail_sticky = 1; /* one failure alone is retried after a collection */
        st = eval(S, "(define v (vec.make)) (define m (map.make)) "
                     "(let loop ((i 0)) (if (< i 50) (begin (vec.push! v (list i \"s\")) "
                     "(map.set! m i (string-append \"k\" (number->string i))) (loop (+ i 1)))))",
                  NULL);
        M.fail_after = 0;
        M.failing = 0;
        CHECK(st == LISP_OK || st == LISP_ERRMEM);
        if (st == LISP_ERRMEM) {
            memerrs++;
        }
        CHECK(lisp_gettop(S) == 0);
        CHECK(evalint(S, "(+ 40 2)", 42));
        CHECK(lisp_verify(S) == 0);
        lisp_free(S);
        CHECK(M.bytes == 0);
    }
    CHECK(memerrs > 0);
}

static void test_two_states(void) {
    mem_Heap M1, M2;
    lisp_State *a = newstate(&M1, 0, 0, 0), *b = newstate(&M2, 0, 0, 0);
    lisp_Value v;
    lisp_HeapStats ha0, ha, hb0, hb;
    CHECK(evalint(a, "(define only-in-a 1) only-in-a", 1));
    CHECK(!lisp_getglobal(b, "only-in-a", &v));
    CHECK(evalerr(b, "only-in-a", LISP_ERRRUN, "t:1:1: unbound symbol: only-in-a"));
    lisp_heapstats(a, &ha0); /* not 0 under make test-gcstress */
    lisp_heapstats(b, &hb0);
    lisp_gc(a);
    lisp_heapstats(a, &ha);
    lisp_heapstats(b, &hb);
    CHECK(ha.collections == ha0.collections + 1 && hb.collections == hb0.collections);
    lisp_free(a);
    CHECK(M1.bytes == 0 && M2.bytes > 0);
    CHECK(evalint(b, "(+ 1 1)", 2));
    lisp_free(b);
    CHECK(M2.bytes == 0);
}

/* The walks of issue 13 through the C API: each ends, bounded. */
static const char *const WALKS_PRELUDE =
    "(define (vec2 a b) (let ((v (vec.make 2 0))) (vec.set! v 0 a) (vec.set! v 1 b) v))"
    "(define (dbl make x n) (if (= n 0) x (dbl make (make x x) (- n 1))))"
    "(define (deepv n) (let loop ((i 0) (x 1)) (if (= i n) x (loop (+ i 1) (vec.make 1 x)))))"
    "(define selfv (vec.make 1 0)) (vec.set! selfv 0 selfv)"
    "(define bigl (dbl cons '(1) 40)) (define bigv (dbl vec2 (vec.make 1 1) 40))"
    "(define deep (deepv 200000))";

/* lisp_setcar / lisp_setcdr, which no builtin reaches: while a cycle marks
** in small steps, new cells are stored into an old pair and dropped from
** the stack; lisp_verify checks the tri-colour invariant after each store,
** and the cells must survive the cycles. */
typedef struct Setcxr {
    int bad, marking;
} Setcxr;

static void dosetcxr(lisp_State *S, void *ud) {
    Setcxr *c = ud;
    int base = lisp_gettop(S), i;
    lisp_Value old = lisp_cons(S, lisp_nil(), lisp_nil()); /* stays at 'base' */
    lisp_HeapStats h;
    for (i = 0; i < 2000; i++) {
        lisp_gcstepwork(S, 5);
        lisp_heapstats(S, &h);
        c->marking += strcmp(h.gc_state, "mark") == 0;
        lisp_setcar(S, old, lisp_cons(S, lisp_int(i), lisp_nil()));
        lisp_setcdr(S, old, lisp_cons(S, lisp_int(-i), lisp_nil()));
        lisp_settop(S, base + 1); /* the new cells only reachable through 'old' */
        c->bad += lisp_verify(S) != 0;
    }
}

static void test_barrier_setcxr(void) {
    mem_Heap M;
    lisp_State *S = newstate(&M, 0, 0, 0);
    Setcxr c = {0, 0};
    lisp_Value old;
    CHECK(S != NULL);
    lisp_setgcpolicy(S, LISP_GCMANUAL); /* only the spec's steps */
    CHECK(lisp_pcall(S, dosetcxr, &c) == LISP_OK);
    CHECK(c.bad == 0);
    CHECK(c.marking > 100);
    lisp_gc(S);
    CHECK(lisp_verify(S) == 0);
    old = *lisp_at(S, 0);
    CHECK(lisp_car(lisp_car(old)).u.i == 1999 && lisp_car(lisp_cdr(old)).u.i == -1999);
    lisp_free(S);
    CHECK(M.bytes == 0);
}

static void test_walks(void) {
    mem_Heap M;
    lisp_Opts o;
    lisp_State *S;
    lisp_Value v, bad;
    sbuf b;
    char repr[LISPBT_REPR_MAX + 8];
    memset(&o, 0, sizeof o);
    o.print_limit = 32;
    o.print_style = LISP_PRINT_LISPBT; /* the readable printer's walks */
    mem_init(&M);
    S = lisp_new(&M, &o, NULL, lispbt_builtins);
    CHECK(S != NULL && lisp_printlimit(S) == 32);
    CHECK(eval(S, WALKS_PRELUDE, NULL) == LISP_OK);
    /* the state's limit, an explicit one, and short values left whole */
    CHECK(eval(S, "bigl", &v) == LISP_OK);
    sbuf_init(&b);
    CHECK(lisp_write(S, &b, v, 0) == 1);
    CHECK(b.len == 35 && strcmp(b.p + 32, "...") == 0);
    sbuf_free(&b);
    CHECK(lisp_writen(S, &b, v, 0, 5) == 1);
    CHECK_STR(b.p, "(((((...");
    sbuf_free(&b);
    CHECK(lisp_writen(S, &b, lisp_int(12345), 0, 5) == 0);
    CHECK_STR(b.p, "12345");
    sbuf_free(&b);
    CHECK(strlen(lisp_repr(S, v, repr, sizeof repr)) == LISPBT_REPR_MAX + 3);
    /* save's walk: too long, cyclic, too deep, unreadable, fine */
    CHECK(lisp_writereadable(S, &b, v, 1000, &bad) == LISP_WRITE_TOOLONG);
    sbuf_free(&b);
    CHECK(eval(S, "selfv", &v) == LISP_OK);
    CHECK(lisp_writereadable(S, &b, v, 100000, &bad) == LISP_WRITE_UNREADABLE && bad.tag == LISP_TVEC);
    sbuf_free(&b);
    CHECK(eval(S, "deep", &v) == LISP_OK);
    CHECK(lisp_writereadable(S, &b, v, 100000, &bad) == LISP_WRITE_UNREADABLE && bad.tag == LISP_TVEC);
    sbuf_free(&b);
    CHECK(eval(S, "(list 1 car)", &v) == LISP_OK);
    CHECK(lisp_writereadable(S, &b, v, 100000, &bad) == LISP_WRITE_UNREADABLE && bad.tag == LISP_TPRIM);
    sbuf_free(&b);
    CHECK(eval(S, "'(1 #(2) \"x\")", &v) == LISP_OK);
    CHECK(lisp_writereadable(S, &b, v, 100000, &bad) == LISP_WRITE_OK);
    CHECK_STR(b.p, "(1 #(2) \"x\")");
    sbuf_free(&b);
    /* equal?: doubled values in linear time, deep and cyclic ones end */
    CHECK(evalint(S, "(if (equal? bigl (dbl cons '(1) 40)) 1 0)", 1));
    CHECK(evalint(S, "(if (equal? bigv (dbl vec2 (vec.make 1 1) 40)) 1 0)", 1));
    CHECK(evalint(S, "(if (equal? bigv (dbl vec2 (vec.make 1 2) 40)) 1 0)", 0));
    CHECK(evalerr(S, "(equal? deep (deepv 200000))", LISP_ERRRUN, "t:1:1: equal?: structure nested too deeply"));
    CHECK(evalerr(S, "(equal? selfv (let ((w (vec.make 1 0))) (vec.set! w 0 w) w))", LISP_ERRRUN,
                  "t:1:1: equal?: structure nested too deeply"));
    CHECK(evalint(S, "(string-length (write-to-string bigv))", 35));
    CHECK(evalint(S, "(+ 1 2)", 3));
    CHECK(lisp_verify(S) == 0);
    lisp_free(S);
    CHECK(M.bytes == 0);
}

#define RUN(t)                                                          \
    do {                                                                \
        int64_t t0_ = lispbt_now_ns();                                  \
        t();                                                            \
        if (getenv("TEST_LISP_TIMES")) {                                \
            printf("%s %.3f s\n", #t, (double)(lispbt_now_ns() - t0_) / 1e9); \
        }                                                               \
    } while (0)

int main(void) {
    RUN(test_basic);
    RUN(test_errors);
    RUN(test_rooting_stress);
    RUN(test_rooting_100k);
    RUN(test_stress_eval);
    RUN(test_heap_limit);
    RUN(test_errmem_status);
    RUN(test_special_names);
    RUN(test_pins);
    RUN(test_api);
    RUN(test_depth);
    RUN(test_allocfail);
    RUN(test_two_states);
    RUN(test_barrier_setcxr);
    RUN(test_walks);
    return ctest_done();
}
