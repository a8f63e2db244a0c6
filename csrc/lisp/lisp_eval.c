/*
** lisp_eval.c -- the evaluator: code-node functions, calls with proper tail
** calls, depth limits, protected calls and error positions.
** See LICENSE for copyright.
**
** Invariants:
** - Every evaluator returns with S->top where it found it.  Values a node
**   needs across an evaluation of another node live on the value stack
**   (call arguments, the left operand of an inlined operator).
** - Non-tail depth is counted in S->depth and limited by max_depth; the C
**   stack is also checked against a limit computed from the thread's real
**   stack bounds, so "stack overflow" is an error, never a crash.  Tail
**   calls do not count: lispE_call loops on LISP_TTAIL.
** - lispE_call saves and restores S->cur (the call site used for error
**   positions), so a callee's nodes, which the collector may free once
**   the callee is unreachable, are never named after it returns.
** - Errors longjmp to the innermost lispE_rawpcall, which restores the
**   stack top, the depth and the call site.  No Lua frame, lock or thread
**   boundary is ever crossed: the bindings wrap every entry.
*/
#include "conf.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "lisp_code.h"
#include "sbuf.h"

/* ---- errors ---- */

LISPBT_NORETURN void lispE_throw(lisp_State *S, int status) {
    if (S->jmp == NULL) {
        /* no handler: a bug in a caller of the API, never a user error */
        fprintf(stderr, "lispbt: unprotected Lisp error: %s\n", S->errmsg);
        abort();
    }
    S->jmp->status = status;
    longjmp(S->jmp->b, 1);
}

static void formatat(lisp_State *S, const lispK_Code *c, const char *fmt, va_list ap) {
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (c && c->line != 0) {
        snprintf(S->errmsg, sizeof S->errmsg, "%s:%u:%u: %s", ((lisp_String *)c->chunk)->data,
                 (unsigned)c->line, (unsigned)c->col, msg);
    } else if (c) {
        snprintf(S->errmsg, sizeof S->errmsg, "%s: %s", ((lisp_String *)c->chunk)->data, msg);
    } else {
        snprintf(S->errmsg, sizeof S->errmsg, "%s", msg);
    }
}

void lispE_errorat(lisp_State *S, const lispK_Code *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    formatat(S, c, fmt, ap);
    va_end(ap);
    lispE_throw(S, LISP_ERRRUN);
}

void lisp_verror(lisp_State *S, int status, const char *fmt, va_list ap) {
    formatat(S, S->cur, fmt, ap);
    lispE_throw(S, status);
}

void lisp_error(lisp_State *S, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    lisp_verror(S, LISP_ERRRUN, fmt, ap);
    va_end(ap);
}

/* lisp_verror through varargs. */
LISPBT_NORETURN static void raisef(lisp_State *S, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    lisp_verror(S, status, fmt, ap);
    va_end(ap); /* not reached */
}

/* ERRMEM is chosen by the caller, never by comparing message text.  The
** message names the function that needed the memory: the builtin running
** ('S->fname', kept by lispE_call), or "eval" for the reader, the compiler
** and procedure frames outside any builtin. */
void lisp_memerror(lisp_State *S) {
    lisp_nomem(S, S->fname);
}

const char *lisp_setfname(lisp_State *S, const char *fname) {
    const char *old = S->fname;
    S->fname = fname;
    return old;
}

void *lisp_realloc(lisp_State *S, void *p, size_t osize, size_t nsize) {
    return lispC_realloc(S, p, osize, nsize);
}

void lisp_nomem(lisp_State *S, const char *fname) {
    raisef(S, LISP_ERRMEM, "%s: out of memory", fname ? fname : "eval");
}

void lisp_memretry(lisp_State *S, const char *fname, int *tried) {
    if (!*tried && S->M->limit != 0 && !S->gc_running) {
        *tried = 1;
        lispC_limitgc(S);
        return;
    }
    lisp_nomem(S, fname);
}

const char *lisp_errmsg(lisp_State *S) {
    return S->errmsg;
}

/* ---- protected calls ---- */

/* Compute the lowest C stack address eval may use on this thread. */
static void setcstacklimit(lisp_State *S, uintptr_t self) {
    pthread_attr_t attr;
    void *addr;
    size_t size;
    S->cstack_thread = self;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
            /* keep 256 KiB for C code below eval (printf, Lua, libc) */
            size_t margin = size / 4 < 256 * 1024 ? size / 4 : 256 * 1024;
            S->cstack_limit = (char *)addr + margin;
        }
        pthread_attr_destroy(&attr);
    }
    if (S->cstack_limit == NULL) {
        uintptr_t here = (uintptr_t)__builtin_frame_address(0);
        S->cstack_limit = (char *)(here - 1024 * 1024); /* unknown: assume 1 MiB */
    }
}

/* At an outermost entry (S->nest == 0): the C stack limit of the thread
** entering (computed once per thread change). */
static LISPBT_INLINE void entrycstack(lisp_State *S) {
    uintptr_t self = (uintptr_t)pthread_self();
    if (lispbt_unlikely(S->cstack_limit == NULL || S->cstack_thread != self)) {
        setcstacklimit(S, self);
    }
}

/* What a protected call saves at entry and restores on the way out (the
** stack top and depth only after an error). */
typedef struct Protect {
    lispE_Jmp j;
    lisp_Value *top;
    int depth;
    const lispK_Code *cur;
    const char *fname;
} Protect;

static LISPBT_INLINE void protenter(lisp_State *S, Protect *p) {
    p->top = S->top;
    p->depth = S->depth;
    p->cur = S->cur;
    p->fname = S->fname;
    p->j.prev = S->jmp;
    p->j.status = LISP_OK;
    if (S->nest == 0) {
        entrycstack(S);
    }
    S->cur = NULL; /* errors inside name their own call sites, not the caller's */
    S->nest++;
    S->jmp = &p->j;
}

static LISPBT_INLINE int protleave(lisp_State *S, const Protect *p) {
    S->jmp = p->j.prev;
    S->nest--;
    S->cur = p->cur;
    S->fname = p->fname;
    if (p->j.status != LISP_OK) {
        S->top = p->top;
        S->depth = p->depth;
    }
    return p->j.status;
}

int lispE_rawpcall(lisp_State *S, void (*f)(lisp_State *S, void *ud), void *ud) {
    Protect p;
    protenter(S, &p);
    if (setjmp(p.j.b) == 0) {
        f(S, ud);
    }
    return protleave(S, &p);
}

int lisp_pcall(lisp_State *S, void (*f)(lisp_State *S, void *ud), void *ud) {
    return lispE_rawpcall(S, f, ud);
}

void lispE_checkcstack(lisp_State *S) {
    /* the frame address, not a local's: under ASan's
    ** detect_stack_use_after_return locals live on a heap "fake stack" */
    if (lispbt_unlikely((char *)__builtin_frame_address(0) < S->cstack_limit)) {
        lisp_error(S, "stack overflow");
    }
}

/* ---- calls ---- */

static void arityerror(lisp_State *S, const char *name, int min, int max, int got) {
    if (max == min) {
        lisp_error(S, "%s: expected %d argument%s, got %d", name, min, min == 1 ? "" : "s", got);
    } else if (max < 0) {
        lisp_error(S, "%s: expected at least %d argument%s, got %d", name, min,
                   min == 1 ? "" : "s", got);
    } else {
        lisp_error(S, "%s: expected %d to %d arguments, got %d", name, min, max, got);
    }
}

static const char *procname(lisp_Proto *p) {
    return p->name ? ((lisp_Symbol *)p->name)->name : "lambda";
}

LISPBT_NORETURN static void notproc(lisp_State *S, lisp_Value fn) {
    char repr[LISPBT_REPR_MAX + 8];
    lisp_error(S, "not a procedure: %s", lisp_repr(S, fn, repr, sizeof repr));
}

/* The call of fp[0] with arguments fp[1..nargs]: lispE_call's body,
** inlined into the call node too (one C frame per Lisp call). */
static inline __attribute__((always_inline)) lisp_Value docall(lisp_State *S, lisp_Value *fp,
                                                              int nargs) {
    const lispK_Code *cur = S->cur;
    lisp_Value r;
    if (lispbt_unlikely(++S->depth > S->max_depth)) {
        S->depth--;
        lisp_error(S, "stack overflow");
    }
    lispE_checkcstack(S);
    for (;;) {
        lisp_Value fn = fp[0];
        if (lispbt_likely(fn.tag == LISP_TCLOSURE)) {
            lisp_Closure *cl = AS(lisp_Closure, fn);
            lisp_Proto *p = cl->p;
            lispK_Frame F;
            lisp_Value *need = fp + 1 + p->framesize;
            if (lispbt_unlikely(nargs != p->nparams || p->rest)) {
                if (!p->rest || nargs < p->nparams) {
                    arityerror(S, procname(p), p->nparams, p->rest ? -1 : p->nparams, nargs);
                }
                /* collect the extra arguments into a list */
                {
                    lisp_Value list = lisp_nil();
                    int i;
                    for (i = nargs; i > p->nparams; i--) {
                        list = lisp_cons(S, fp[i], list);
                    }
                    fp[p->nparams + 1] = list;
                    S->top = fp + p->nparams + 2;
                }
            }
            F.base = fp + 1;
            if (p->heapframe) {
                int i, nin = p->nparams + p->rest;
                lisp_Env *e = lispO_newenv(S, p->framesize, cl->env);
                for (i = 0; i < nin; i++) {
                    e->v[i] = F.base[i];
                }
                F.env = e;
                r = EVAL(p->body, &F);
            } else {
                if (lispbt_unlikely(need >= S->stack_last)) {
                    lisp_error(S, "stack overflow");
                }
                F.env = cl->env;
                for (;;) {
                    while (S->top < need) {
                        (S->top++)->tag = LISP_TNIL;
                    }
                    r = EVAL(p->body, &F);
                    if (lispbt_likely(r.tag != LISP_TTAIL || r.u.i >= 0)) {
                        break;
                    }
                    /* a self tail call (lispE_selftail): the arguments are
                    ** in place, S->top just above them */
                }
            }
            if (r.tag == LISP_TTAIL) {
                nargs = (int)r.u.i;
                continue;
            }
            break;
        } else if (fn.tag == LISP_TPRIM) {
            lisp_Prim *pr = AS(lisp_Prim, fn);
            if (lispbt_unlikely(nargs < pr->min || (pr->max >= 0 && nargs > pr->max))) {
                arityerror(S, pr->name, pr->min, pr->max, nargs);
            }
            {
                const char *fname = S->fname; /* lisp_memerror names it */
                S->fname = pr->name;
                r = pr->fn(S, nargs, fp + 1);
                S->fname = fname;
            }
            break;
        } else {
            notproc(S, fn);
        }
    }
    S->top = fp;
    S->depth--;
    S->cur = cur;
    return r;
}

lisp_Value lispE_call(lisp_State *S, lisp_Value *fp, int nargs) {
    return docall(S, fp, nargs);
}

lisp_Value lisp_call(lisp_State *S, int fidx, int nargs) {
    return lispE_call(S, S->stack + fidx, nargs);
}

/* lispE_rawpcall with lispE_call of the global's value inlined. */
int lisp_pcallsym(lisp_State *S, lisp_Value sym, const char *fname, int nargs,
                  const lisp_Value *argv, lisp_Value *out) {
    Protect p;
    protenter(S, &p);
    S->fname = fname;
    if (setjmp(p.j.b) == 0) {
        lisp_Symbol *s = AS(lisp_Symbol, sym);
        lisp_Value *fp = S->top, r;
        int i;
        if (lispbt_unlikely(s->value.tag == LISP_TUNBOUND)) {
            lisp_error(S, "%s: unbound symbol: %s", fname, s->name);
        }
        if (lispbt_unlikely(fp + nargs + 1 >= S->stack_last)) {
            lisp_error(S, "stack overflow");
        }
        fp[0] = s->value;
        for (i = 0; i < nargs; i++) {
            fp[i + 1] = argv[i];
        }
        S->top = fp + nargs + 1;
        r = docall(S, fp, nargs); /* returns with S->top == fp */
        *S->top++ = r;
        *out = r;
    }
    return protleave(S, &p);
}

lisp_Value lispE_runproto(lisp_State *S, lisp_Proto *p) {
    lisp_Value *fp = S->top;
    lispO_newclosure(S, p, NULL); /* pushed: it is the callee slot */
    return lispE_call(S, fp, 0);
}

/* ---- node evaluators ---- */

lisp_Value lispE_const(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    (void)S;
    (void)F;
    return c->k;
}

lisp_Value lispE_local(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    (void)S;
    return F->base[c->n];
}

lisp_Value lispE_env0(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    (void)S;
    return F->env->v[c->n];
}

/* The slot of a captured variable: c->d environments up, index c->n. */
static inline lisp_Value *envslot(const lispK_Code *c, lispK_Frame *F) {
    lisp_Env *e = F->env;
    int d;
    for (d = c->d; d > 0; d--) {
        e = e->parent;
    }
    return &e->v[c->n];
}

lisp_Value lispE_env(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    (void)S;
    return *envslot(c, F);
}

lisp_Value lispE_global(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Symbol *s = AS(lisp_Symbol, c->k);
    (void)F;
    if (lispbt_unlikely(s->value.tag == LISP_TUNBOUND)) {
        lispE_errorat(S, c, "unbound symbol: %s", s->name);
    }
    return s->value;
}

/* An operand of an inlined operator, a branch or a call argument: locals,
** constants and bound globals are read here without the indirect call of
** their node; anything else is evaluated through its node. */
static inline lisp_Value operand(lisp_State *S, const lispK_Code *k, lispK_Frame *F) {
    if (k->ev == lispE_local) {
        return F->base[k->n];
    }
    if (k->ev == lispE_const) {
        return k->k;
    }
    if (k->ev == lispE_global) {
        lisp_Symbol *s = AS(lisp_Symbol, k->k);
        if (lispbt_likely(s->value.tag != LISP_TUNBOUND)) {
            return s->value;
        }
    }
    return EVAL(k, F);
}

/* Does evaluating 'k' run no code (so nothing can move or be collected)? */
static inline int isleaf(const lispK_Code *k) {
    return k->ev == lispE_local || k->ev == lispE_const;
}

lisp_Value lispE_setlocal(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    F->base[c->n] = EVAL(c->kid[0], F);
    return lisp_nil();
}

lisp_Value lispE_setenv(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value v = EVAL(c->kid[0], F);
    lisp_Value *slot = envslot(c, F);
    *slot = v;
    lispC_envbarrier(S, slot, c->n, v);
    return lisp_nil();
}

lisp_Value lispE_setglobal(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Symbol *s = AS(lisp_Symbol, c->k);
    lisp_Value v = EVAL(c->kid[0], F);
    if (s->value.tag == LISP_TUNBOUND) {
        lispE_errorat(S, c, "set!: unbound symbol: %s", s->name);
    }
    lispS_setvalue(S, s, v);
    return lisp_nil();
}

/* define's nodes return the value bound, as muesli-bt's define does;
** set! and let's slot stores return nil. */
lisp_Value lispE_defglobal(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value v = EVAL(c->kid[0], F);
    lispS_setvalue(S, AS(lisp_Symbol, c->k), v);
    return v;
}

lisp_Value lispE_deflocal(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value v = EVAL(c->kid[0], F);
    F->base[c->n] = v;
    return v;
}

lisp_Value lispE_defenv(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value v = EVAL(c->kid[0], F);
    lisp_Value *slot = envslot(c, F);
    *slot = v;
    lispC_envbarrier(S, slot, c->n, v);
    return v;
}

lisp_Value lispE_if(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value t = EVAL(c->kid[0], F);
    return operand(S, c->kid[lisp_istrue(t) ? 1 : 2], F);
}

lisp_Value lispE_begin(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    int i, n = c->n - 1;
    for (i = 0; i < n; i++) {
        EVAL(c->kid[i], F);
    }
    return EVAL(c->kid[n], F);
}

lisp_Value lispE_and(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    int i, n = c->n - 1;
    for (i = 0; i < n; i++) {
        lisp_Value v = EVAL(c->kid[i], F);
        if (!lisp_istrue(v)) {
            return v;
        }
    }
    return EVAL(c->kid[n], F);
}

lisp_Value lispE_or(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    int i, n = c->n - 1;
    for (i = 0; i < n; i++) {
        lisp_Value v = EVAL(c->kid[i], F);
        if (lisp_istrue(v)) {
            return v;
        }
    }
    return EVAL(c->kid[n], F);
}

/* 'or' outside a procedure's tail position: nil when nothing is true */
lisp_Value lispE_ornil(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    int i;
    for (i = 0; i < c->n; i++) {
        lisp_Value v = EVAL(c->kid[i], F);
        if (lisp_istrue(v)) {
            return v;
        }
    }
    return lisp_nil();
}

lisp_Value lispE_lambda(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value v = lispO_newclosure(S, AS(lisp_Proto, c->k), F->env);
    S->top--; /* the caller roots the result */
    return v;
}

/* Push callee and arguments of call node 'c' from S->top. */
static inline lisp_Value *pushargs(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value *fp = S->top;
    int i, n = c->n;
    if (lispbt_unlikely(fp + n + 1 > S->stack_last)) {
        lisp_error(S, "stack overflow");
    }
    for (i = 0; i <= n; i++) {
        lisp_Value v = operand(S, c->kid[i], F);
        *S->top++ = v; /* rooted while the next argument is evaluated */
    }
    return fp;
}

lisp_Value lispE_callnode(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value *fp = pushargs(S, c, F);
    S->cur = c;
    return docall(S, fp, c->n);
}

/* lispE_callg of a global holding builtin 'fn' (a Lua function too): the
** arguments are pushed and the builtin called as lispE_call does. */
static lisp_Value __attribute__((noinline)) callprim(lisp_State *S, const lispK_Code *c,
                                                     lispK_Frame *F, lisp_Value fn) {
    lisp_Prim *pr = AS(lisp_Prim, fn);
    const lispK_Code *cur = S->cur;
    const char *fname;
    lisp_Value *fp = S->top, r;
    int i, n = c->n;
    if (lispbt_unlikely(n < pr->min || (pr->max >= 0 && n > pr->max) ||
                        fp + n + 1 > S->stack_last)) {
        return lispE_callnode(S, c, F); /* raises as the general call does */
    }
    *S->top++ = fn;
    for (i = 1; i <= n; i++) {
        lisp_Value v = operand(S, c->kid[i], F);
        *S->top++ = v; /* rooted while the next argument is evaluated */
    }
    S->cur = c;
    if (lispbt_unlikely(++S->depth > S->max_depth)) {
        S->depth--;
        lisp_error(S, "stack overflow");
    }
    lispE_checkcstack(S);
    fname = S->fname; /* lisp_memerror names it */
    S->fname = pr->name;
    r = pr->fn(S, n, fp + 1);
    S->fname = fname;
    S->top = fp;
    S->depth--;
    S->cur = cur;
    return r;
}

/* The entry of a closure's stack frame for lispE_callg and lispE_callself:
** callee and arguments are at fp[0..n], S->top just above them, 'need' is
** the frame's end (checked against the stack's).  A tail call out of the
** body continues in lispE_call. */
static inline __attribute__((always_inline)) lisp_Value runframe(lisp_State *S,
                                                                const lispK_Code *c,
                                                                lisp_Value *fp, lisp_Closure *cl,
                                                                lisp_Value *need) {
    const lispK_Code *cur = S->cur, *body = cl->p->body;
    lispK_Frame NF;
    lisp_Value r;
    S->cur = c;
    if (lispbt_unlikely(++S->depth > S->max_depth)) {
        S->depth--;
        lisp_error(S, "stack overflow");
    }
    lispE_checkcstack(S);
    NF.base = fp + 1;
    NF.env = cl->env;
    for (;;) {
        while (S->top < need) {
            (S->top++)->tag = LISP_TNIL;
        }
        r = EVAL(body, &NF);
        if (lispbt_likely(r.tag != LISP_TTAIL)) {
            break;
        }
        if (r.u.i >= 0) { /* a tail call to another procedure */
            S->depth--;
            r = lispE_call(S, fp, (int)r.u.i);
            S->depth++;
            break;
        }
    }
    S->top = fp;
    S->depth--;
    S->cur = cur;
    return r;
}

/* A call whose callee is a global (kid 0): when it holds a closure with
** a stack frame and exactly c->n parameters, the frame is entered here,
** without the checks of the general call; anything else is lispE_callnode. */
lisp_Value lispE_callg(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value fn = AS(lisp_Symbol, c->kid[0]->k)->value;
    lisp_Closure *cl;
    lisp_Proto *p;
    lisp_Value *fp = S->top, *need;
    int i, n = c->n;
    if (lispbt_unlikely(fn.tag != LISP_TCLOSURE)) {
        return fn.tag == LISP_TPRIM ? callprim(S, c, F, fn) : lispE_callnode(S, c, F);
    }
    cl = AS(lisp_Closure, fn);
    p = cl->p;
    need = fp + 1 + p->framesize;
    if (lispbt_unlikely(n != p->nparams || p->rest || p->heapframe || need >= S->stack_last)) {
        return lispE_callnode(S, c, F);
    }
    *S->top++ = fn;
    for (i = 1; i <= n; i++) {
        lisp_Value v = operand(S, c->kid[i], F);
        *S->top++ = v; /* rooted while the next argument is evaluated */
    }
    return runframe(S, c, fp, cl, need);
}

lisp_Value lispE_tailcall(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value *fp = pushargs(S, c, F), *dst = F->base - 1, r;
    int i, n = c->n;
    /* move callee and arguments over the current frame (dst < fp) */
    for (i = 0; i <= n; i++) {
        dst[i] = fp[i];
    }
    S->top = dst + n + 1;
    S->cur = c;
    r.tag = LISP_TTAIL;
    r.u.i = n;
    return r;
}

/* ---- arithmetic ---- */

LISPBT_NORETURN static void numerror(lisp_State *S, const char *fname, lisp_Value v) {
    char repr[LISPBT_REPR_MAX + 8];
    lisp_error(S, "%s: expected a number, got %s", fname, lisp_repr(S, v, repr, sizeof repr));
}

lisp_Value lispE_arith(lisp_State *S, int op, lisp_Value a, lisp_Value b, const char *fname) {
    double x, y;
    if (a.tag == LISP_TINT && b.tag == LISP_TINT) {
        int64_t r;
        switch (op) {
            case OP_ADD:
                if (__builtin_add_overflow(a.u.i, b.u.i, &r)) {
                    lisp_error(S, "%s: integer overflow", fname);
                }
                return lisp_int(r);
            case OP_SUB:
                if (__builtin_sub_overflow(a.u.i, b.u.i, &r)) {
                    lisp_error(S, "%s: integer overflow", fname);
                }
                return lisp_int(r);
            case OP_MUL:
                if (__builtin_mul_overflow(a.u.i, b.u.i, &r)) {
                    lisp_error(S, "%s: integer overflow", fname);
                }
                return lisp_int(r);
            case OP_LT: return lisp_bool(a.u.i < b.u.i);
            case OP_GT: return lisp_bool(a.u.i > b.u.i);
            case OP_LE: return lisp_bool(a.u.i <= b.u.i);
            case OP_GE: return lisp_bool(a.u.i >= b.u.i);
            case OP_NUMEQ: return lisp_bool(a.u.i == b.u.i);
            default: break;
        }
    }
    if (a.tag == LISP_TINT) {
        x = (double)a.u.i;
    } else if (a.tag == LISP_TFLOAT) {
        x = a.u.f;
    } else {
        numerror(S, fname, a);
    }
    if (b.tag == LISP_TINT) {
        y = (double)b.u.i;
    } else if (b.tag == LISP_TFLOAT) {
        y = b.u.f;
    } else {
        numerror(S, fname, b);
    }
    switch (op) {
        case OP_ADD: return lisp_float(x + y);
        case OP_SUB: return lisp_float(x - y);
        case OP_MUL: return lisp_float(x * y);
        case OP_LT: return lisp_bool(x < y);
        case OP_GT: return lisp_bool(x > y);
        case OP_LE: return lisp_bool(x <= y);
        case OP_GE: return lisp_bool(x >= y);
        default: return lisp_bool(x == y);
    }
}

static const char *const opnames[] = {"", "+", "-", "*", "<", ">", "<=", ">=", "=",
                                       "car", "cdr", "null?", "not", "eq?"};

/* Is the inlined builtin of node 'c' still the global's value?  If not,
** the node is evaluated as the ordinary call it was compiled from. */
static inline int guardok(const lispK_Code *c) {
    lisp_Symbol *s = AS(lisp_Symbol, c->kid[0]->k);
    return s->value.u.o == c->k.u.o && s->value.tag == LISP_TPRIM;
}

/* The operands of two-argument node 'c' into *a, *b ('a' rooted on the
** stack while 'b' is evaluated, unless 'b' runs no code). */
static inline void operands2(lisp_State *S, const lispK_Code *c, lispK_Frame *F, lisp_Value *a,
                             lisp_Value *b) {
    *a = operand(S, c->kid[1], F);
    if (isleaf(c->kid[2])) {
        *b = operand(S, c->kid[2], F);
    } else {
        lispE_push(S, *a);
        *b = EVAL(c->kid[2], F);
        S->top--;
    }
}

/* Anything but two fixnums, or a fixnum overflow: the generic path. */
static lisp_Value arith2slow(lisp_State *S, const lispK_Code *c, lisp_Value a, lisp_Value b) {
    if (c->op == OP_EQ) {
        return lisp_bool(lisp_eqp(a, b));
    }
    S->cur = c;
    return lispE_arith(S, c->op, a, b, opnames[c->op]);
}

/* Two-argument builtin inlined behind a guard: if the global still holds
** the builtin seen at compile time, compute here; otherwise call. */
lisp_Value lispE_arith2(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value a, b;
    if (lispbt_unlikely(!guardok(c))) {
        return lispE_callnode(S, c, F);
    }
    operands2(S, c, F, &a, &b);
    if (lispbt_likely(a.tag == LISP_TINT && b.tag == LISP_TINT)) {
        int64_t r;
        switch (c->op) {
            case OP_ADD:
                if (!__builtin_add_overflow(a.u.i, b.u.i, &r)) {
                    return lisp_int(r);
                }
                break;
            case OP_SUB:
                if (!__builtin_sub_overflow(a.u.i, b.u.i, &r)) {
                    return lisp_int(r);
                }
                break;
            case OP_LT: return lisp_bool(a.u.i < b.u.i);
            case OP_GT: return lisp_bool(a.u.i > b.u.i);
            case OP_LE: return lisp_bool(a.u.i <= b.u.i);
            case OP_GE: return lisp_bool(a.u.i >= b.u.i);
            case OP_NUMEQ: return lisp_bool(a.u.i == b.u.i);
            default: break;
        }
    }
    return arith2slow(S, c, a, b);
}

/* A leaf operand (isleaf): a local or a constant. */
static inline lisp_Value leafval(const lispK_Code *k, lispK_Frame *F) {
    return k->ev == lispE_local ? F->base[k->n] : k->k;
}

/* Inlined operator 'op' on fixnums x, y into *r; 0 on overflow or an
** operator with no fixnum path here (the generic path decides). */
static inline int fixop(int op, int64_t x, int64_t y, lisp_Value *r) {
    int64_t z;
    switch (op) {
        case OP_ADD:
            if (__builtin_add_overflow(x, y, &z)) {
                return 0;
            }
            *r = lisp_int(z);
            return 1;
        case OP_SUB:
            if (__builtin_sub_overflow(x, y, &z)) {
                return 0;
            }
            *r = lisp_int(z);
            return 1;
        case OP_LT: *r = lisp_bool(x < y); return 1;
        case OP_GT: *r = lisp_bool(x > y); return 1;
        case OP_LE: *r = lisp_bool(x <= y); return 1;
        case OP_GE: *r = lisp_bool(x >= y); return 1;
        case OP_NUMEQ: *r = lisp_bool(x == y); return 1;
        default: return 0;
    }
}

/* Comparison 'op' (OP_LT..OP_NUMEQ) on fixnums. */
static inline int fixcmp(int op, int64_t x, int64_t y) {
    switch (op) {
        case OP_LT: return x < y;
        case OP_GT: return x > y;
        case OP_LE: return x <= y;
        case OP_GE: return x >= y;
        default: return x == y;
    }
}

/* lispE_arith2 whose operands are both neither leaves nor globals (calls,
** as in (+ (fib (- n 1)) (fib (- n 2)))): their nodes are called without
** operand's checks. */
lisp_Value lispE_arith2e(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value a, b, r;
    if (lispbt_unlikely(!guardok(c))) {
        return lispE_callnode(S, c, F);
    }
    a = EVAL(c->kid[1], F);
    lispE_push(S, a); /* rooted while 'b' is evaluated */
    b = EVAL(c->kid[2], F);
    S->top--;
    if (lispbt_likely(a.tag == LISP_TINT && b.tag == LISP_TINT) && fixop(c->op, a.u.i, b.u.i, &r)) {
        return r;
    }
    return arith2slow(S, c, a, b);
}

/* lispE_arith2 whose operands are both leaves: no node is called, so the
** fixnum path is a leaf function. */
lisp_Value lispE_arith2l(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value a, b, r;
    if (lispbt_unlikely(!guardok(c))) {
        return lispE_callnode(S, c, F);
    }
    a = leafval(c->kid[1], F);
    b = leafval(c->kid[2], F);
    if (lispbt_likely(a.tag == LISP_TINT && b.tag == LISP_TINT) && fixop(c->op, a.u.i, b.u.i, &r)) {
        return r;
    }
    return arith2slow(S, c, a, b);
}

/* ... a local and a fixnum constant, as (+ i 1) or (< n 2). */
static inline __attribute__((always_inline)) lisp_Value arith2lk(lisp_State *S, const lispK_Code *c,
                                                                lispK_Frame *F) {
    const lisp_Value *a = &F->base[c->kid[1]->n];
    lisp_Value r;
    if (lispbt_unlikely(!guardok(c))) {
        return lispE_callnode(S, c, F);
    }
    if (lispbt_likely(a->tag == LISP_TINT) && fixop(c->op, a->u.i, c->kid[2]->k.u.i, &r)) {
        return r;
    }
    return arith2slow(S, c, *a, c->kid[2]->k);
}

lisp_Value lispE_arith2lk(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    return arith2lk(S, c, F);
}

/* ... two locals, as (< i n). */
lisp_Value lispE_arith2ll(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    const lisp_Value *a = &F->base[c->kid[1]->n], *b = &F->base[c->kid[2]->n];
    lisp_Value r;
    if (lispbt_unlikely(!guardok(c))) {
        return lispE_callnode(S, c, F);
    }
    if (lispbt_likely(a->tag == LISP_TINT && b->tag == LISP_TINT) &&
        fixop(c->op, a->u.i, b->u.i, &r)) {
        return r;
    }
    return arith2slow(S, c, *a, *b);
}

/* A call, not in tail position, of the global naming the procedure being
** compiled, as (fib (- n 1)) in fib's body: the compiler checks that the
** procedure has a stack frame, no rest parameter and c->n parameters.
** While the global still holds the running closure (base[-1]), that is the
** callee, so its frame is entered without looking at its proto; otherwise
** (the global was redefined) the call is lispE_callg's.  An argument
** (- v K) or (+ v K) is computed here, without calling its node. */
static inline __attribute__((always_inline)) lisp_Value callself(lisp_State *S,
                                                                const lispK_Code *c,
                                                                lispK_Frame *F, int n) {
    lisp_Value fn = F->base[-1], g = AS(lisp_Symbol, c->kid[0]->k)->value;
    lisp_Closure *cl;
    lisp_Value *fp = S->top, *need;
    int i;
    if (lispbt_unlikely(g.tag != LISP_TCLOSURE || g.u.o != fn.u.o)) {
        return lispE_callg(S, c, F);
    }
    cl = AS(lisp_Closure, fn); /* the global's closure: a closure */
    need = fp + 1 + cl->p->framesize;
    if (lispbt_unlikely(need >= S->stack_last)) {
        return lispE_callg(S, c, F); /* raises as the general call does */
    }
    *S->top++ = fn;
    for (i = 1; i <= n; i++) {
        const lispK_Code *k = c->kid[i];
        lisp_Value v = k->ev == lispE_arith2lk ? arith2lk(S, k, F) : operand(S, k, F);
        *S->top++ = v; /* rooted while the next argument is evaluated */
    }
    return runframe(S, c, fp, cl, need);
}

/* callself with c->n arguments. */
lisp_Value lispE_callself(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    return callself(S, c, F, c->n);
}

/* ... with one argument (the loop above unrolled by the C compiler). */
lisp_Value lispE_callself1(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    return callself(S, c, F, 1);
}

/* The branch of an if: a local is read here, anything else evaluated. */
static inline lisp_Value branch(lisp_State *S, const lispK_Code *k, lispK_Frame *F) {
    if (k->ev == lispE_local) {
        return F->base[k->n];
    }
    return EVAL(k, F);
}

/* A test that is not two fixnums, or whose builtin was redefined. */
static int cmpslow(lisp_State *S, const lispK_Code *t, lispK_Frame *F, lisp_Value a, lisp_Value b) {
    lisp_Value v;
    if (lispbt_likely(guardok(t))) {
        v = arith2slow(S, t, a, b);
    } else {
        v = lispE_callnode(S, t, F);
    }
    return lisp_istrue(v);
}

/* (if (CMP x y) then else) with CMP an inlined comparison: the test is
** computed as a C truth value, never boxed.  The variants read the
** operands of the test as lispE_arith2lk and lispE_arith2ll do. */
lisp_Value lispE_ifcmp(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    const lispK_Code *t = c->kid[0];
    lisp_Value a, b;
    int yes;
    if (lispbt_likely(guardok(t))) {
        operands2(S, t, F, &a, &b);
        if (lispbt_likely(a.tag == LISP_TINT && b.tag == LISP_TINT)) {
            yes = fixcmp(t->op, a.u.i, b.u.i);
        } else {
            yes = lisp_istrue(arith2slow(S, t, a, b));
        }
    } else {
        yes = lisp_istrue(lispE_callnode(S, t, F));
    }
    return branch(S, c->kid[yes ? 1 : 2], F);
}

/* Outcome of a fixnum comparison from the mask the compiler stores in the
** if node's 'op' (bit 0: true when x < y, bit 1: when x == y, bit 2: when
** x > y): branchless. */
static inline int maskcmp(int mask, int64_t x, int64_t y) {
    return (mask >> ((x > y) - (x < y) + 1)) & 1;
}

/* The test of a fused if with anything but fixnums, or a redefined
** builtin: evaluated as lispE_ifcmp does. */
static lisp_Value __attribute__((noinline)) ifcmpslow(lisp_State *S, const lispK_Code *c,
                                                      lispK_Frame *F) {
    const lispK_Code *t = c->kid[0];
    lisp_Value a = leafval(t->kid[1], F), b = leafval(t->kid[2], F);
    return branch(S, c->kid[cmpslow(S, t, F, a, b) ? 1 : 2], F);
}

lisp_Value lispE_ifcmplk(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    const lispK_Code *t = c->kid[0];
    const lisp_Value *a = &F->base[t->kid[1]->n];
    if (lispbt_unlikely(a->tag != LISP_TINT || !guardok(t))) {
        return ifcmpslow(S, c, F);
    }
    return branch(S, c->kid[maskcmp(c->op, a->u.i, t->kid[2]->k.u.i) ? 1 : 2], F);
}

lisp_Value lispE_ifcmpll(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    const lispK_Code *t = c->kid[0];
    const lisp_Value *a = &F->base[t->kid[1]->n], *b = &F->base[t->kid[2]->n];
    if (lispbt_unlikely(a->tag != LISP_TINT || b->tag != LISP_TINT || !guardok(t))) {
        return ifcmpslow(S, c, F);
    }
    return branch(S, c->kid[maskcmp(c->op, a->u.i, b->u.i) ? 1 : 2], F);
}

lisp_Value lispE_unary(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value a;
    if (lispbt_unlikely(!guardok(c))) {
        return lispE_callnode(S, c, F);
    }
    a = operand(S, c->kid[1], F);
    switch (c->op) {
        case OP_CAR:
        case OP_CDR:
            if (lispbt_unlikely(a.tag != LISP_TCONS)) {
                /* let the builtin raise its own message */
                {
                    lisp_Value *fp = S->top;
                    lispE_push(S, c->k);
                    lispE_push(S, a);
                    S->cur = c;
                    return lispE_call(S, fp, 1);
                }
            }
            return c->op == OP_CAR ? AS(lisp_Cons, a)->car : AS(lisp_Cons, a)->cdr;
        case OP_NULLP: return lisp_bool(a.tag == LISP_TNIL);
        default: return lisp_bool(!lisp_istrue(a));
    }
}

/* A tail call of the global naming the procedure being compiled, with as
** many arguments as it has parameters, in a procedure with a stack frame
** (the compiler checks those).  If the global still holds the running
** closure (base[-1]), the arguments overwrite the parameters and the
** call loops in docall without leaving it; otherwise an ordinary tail
** call.  An argument that is the parameter of its own position is left
** alone; c->d is the position of the only other argument, if just one
** is (it is then stored straight into its parameter), else 0. */
/* The arguments of self tail call node 'c' into the parameters; 0 (and
** nothing done) if the global no longer holds the running closure. */
static inline __attribute__((always_inline)) int selfargs(lisp_State *S, const lispK_Code *c,
                                                          lispK_Frame *F) {
    lisp_Symbol *s = AS(lisp_Symbol, c->kid[0]->k);
    int i, n = c->n;
    if (lispbt_unlikely(s->value.tag != LISP_TCLOSURE || s->value.u.o != F->base[-1].u.o)) {
        return 0;
    }
    if (c->d > 0) {
        const lispK_Code *k = c->kid[c->d];
        F->base[c->d - 1] = k->ev == lispE_arith2lk ? arith2lk(S, k, F) : operand(S, k, F);
    } else {
        lisp_Value *tmp = S->top;
        if (lispbt_unlikely(tmp + n > S->stack_last)) {
            lisp_error(S, "stack overflow");
        }
        for (i = 1; i <= n; i++) {
            lisp_Value v = operand(S, c->kid[i], F);
            *S->top++ = v; /* rooted while the next argument is evaluated */
        }
        for (i = 0; i < n; i++) {
            F->base[i] = tmp[i];
        }
        S->top = tmp;
    }
    S->cur = c;
    return 1;
}

lisp_Value lispE_selftail(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value r;
    if (lispbt_unlikely(!selfargs(S, c, F))) {
        return lispE_tailcall(S, c, F);
    }
    S->top = F->base + c->n;
    r.tag = LISP_TTAIL;
    r.u.i = -1;
    return r;
}

/* Arguments of a self tail call fixloop handles (more: the general path). */
#define FIXLOOP_ARGS 8

/* One changing argument of a fixloop: parameter 'dst' gets base[a] + k
** (ll = 0) or base[a] +/- base[b] (ll = 1, sub says which). */
typedef struct FixArg {
    int dst, a, b, ll, sub;
    int64_t k;
} FixArg;

/* The commonest loops, (if (CMP x y) (self ARG...) ...) where each ARG is
** its own parameter passed on, or (+ v K), (- v K), (+ v w), (- v w) of
** locals, as a C loop over the fixnums in the frame.  Inside it no Lisp
** code runs, so the guards (the builtins, the global holding this
** closure) are checked once.  It stops before the first iteration that is
** not all fixnums, would overflow, or leaves the loop; the caller then
** evaluates from there as usual. */
static inline void fixloop(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    const lispK_Code *t = c->kid[0], *k;
    lisp_Symbol *s;
    lisp_Value *base = F->base;
    const lisp_Value *a, *b;
    FixArg fa[FIXLOOP_ARGS];
    int64_t nv[FIXLOOP_ARGS];
    int want = c->kid[1]->ev == lispE_selftail, mask = c->op, i, m = 0, iterated = 0;
    k = c->kid[want ? 1 : 2];
    if (k->ev != lispE_selftail || k->n > FIXLOOP_ARGS) {
        return;
    }
    s = AS(lisp_Symbol, k->kid[0]->k);
    if (!guardok(t) || s->value.tag != LISP_TCLOSURE || s->value.u.o != base[-1].u.o) {
        return;
    }
    for (i = 1; i <= k->n; i++) {
        const lispK_Code *u = k->kid[i];
        FixArg *f = &fa[m];
        if (u->ev == lispE_local && u->n == i - 1) {
            continue; /* passed on */
        }
        if ((u->ev != lispE_arith2lk && u->ev != lispE_arith2ll) || !guardok(u) ||
            (u->op != OP_ADD && u->op != OP_SUB)) {
            return;
        }
        f->dst = i - 1;
        f->a = u->kid[1]->n;
        f->sub = u->op == OP_SUB;
        f->ll = u->ev == lispE_arith2ll;
        if (f->ll) {
            f->b = u->kid[2]->n;
        } else {
            f->k = u->kid[2]->k.u.i;
            if (f->sub) {
                if (f->k == INT64_MIN) {
                    return;
                }
                f->k = -f->k;
            }
        }
        m++;
    }
    a = &base[t->kid[1]->n];
    b = c->d == 1 ? &base[t->kid[2]->n] : &t->kid[2]->k;
    if (m == 1 && !fa[0].ll) { /* one counter, as (loop (+ i 1) n) */
        lisp_Value *dst = &base[fa[0].dst];
        const lisp_Value *x = &base[fa[0].a];
        int64_t y, inc = fa[0].k;
        while (a->tag == LISP_TINT && b->tag == LISP_TINT &&
               maskcmp(mask, a->u.i, b->u.i) == want && x->tag == LISP_TINT &&
               !__builtin_add_overflow(x->u.i, inc, &y)) {
            dst->u.i = y;
            dst->tag = LISP_TINT;
            iterated = 1;
        }
        goto out;
    }
    while (a->tag == LISP_TINT && b->tag == LISP_TINT && maskcmp(mask, a->u.i, b->u.i) == want) {
        for (i = 0; i < m; i++) {
            const FixArg *f = &fa[i];
            const lisp_Value *x = &base[f->a];
            int64_t y;
            if (x->tag != LISP_TINT) {
                goto out;
            }
            if (f->ll) {
                const lisp_Value *w = &base[f->b];
                if (w->tag != LISP_TINT) {
                    goto out;
                }
                if (f->sub ? __builtin_sub_overflow(x->u.i, w->u.i, &y)
                           : __builtin_add_overflow(x->u.i, w->u.i, &y)) {
                    goto out;
                }
            } else if (__builtin_add_overflow(x->u.i, f->k, &y)) {
                goto out;
            }
            nv[i] = y;
        }
        for (i = 0; i < m; i++) {
            base[fa[i].dst].u.i = nv[i];
            base[fa[i].dst].tag = LISP_TINT;
        }
        iterated = 1;
    }
out:
    if (iterated) {
        S->cur = k;
    }
}

/* A procedure whose whole body is a fused if (lispE_ifcmp*) with a self
** tail call in a branch, whose frame holds only its parameters (the
** compiler checks those): the loop runs here, the arguments written over
** the parameters, without returning to docall per iteration.  c->d says
** how the test reads its operands (0 as lispE_ifcmp, 1 as lispE_ifcmpll,
** 2 as lispE_ifcmplk).  Anything unusual (non-fixnums, a redefined
** builtin or procedure) leaves through the node's ordinary evaluation. */
lisp_Value lispE_ifloop(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    const lispK_Code *t = c->kid[0], *k;
    fixloop(S, c, F);
    for (;;) {
        int64_t x, y;
        if (c->d == 1) {
            const lisp_Value *a = &F->base[t->kid[1]->n], *b = &F->base[t->kid[2]->n];
            if (lispbt_unlikely(a->tag != LISP_TINT || b->tag != LISP_TINT)) {
                break;
            }
            x = a->u.i;
            y = b->u.i;
        } else if (c->d == 2) {
            const lisp_Value *a = &F->base[t->kid[1]->n];
            if (lispbt_unlikely(a->tag != LISP_TINT)) {
                break;
            }
            x = a->u.i;
            y = t->kid[2]->k.u.i;
        } else {
            break;
        }
        if (lispbt_unlikely(!guardok(t))) {
            break;
        }
        k = c->kid[maskcmp(c->op, x, y) ? 1 : 2];
        if (k->ev != lispE_selftail) {
            return branch(S, k, F);
        }
        if (lispbt_unlikely(!selfargs(S, k, F))) {
            return lispE_tailcall(S, k, F);
        }
    }
    return c->d == 1 ? lispE_ifcmpll(S, c, F) : c->d == 2 ? lispE_ifcmplk(S, c, F)
                                                         : lispE_ifcmp(S, c, F);
}
