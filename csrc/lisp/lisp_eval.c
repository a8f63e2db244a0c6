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
static void setcstacklimit(lisp_State *S) {
    pthread_attr_t attr;
    void *addr;
    size_t size;
    uintptr_t self = (uintptr_t)pthread_self();
    if (S->cstack_limit && S->cstack_thread == self) {
        return;
    }
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

int lispE_rawpcall(lisp_State *S, void (*f)(lisp_State *S, void *ud), void *ud) {
    lispE_Jmp j;
    lisp_Value *top = S->top;
    int depth = S->depth;
    const lispK_Code *cur = S->cur;
    const char *fname = S->fname;
    j.prev = S->jmp;
    j.status = LISP_OK;
    if (S->nest == 0) {
        setcstacklimit(S);
    }
    S->cur = NULL; /* errors inside name their own call sites, not the caller's */
    S->nest++;
    S->jmp = &j;
    if (setjmp(j.b) == 0) {
        f(S, ud);
    }
    S->jmp = j.prev;
    S->nest--;
    S->cur = cur;
    S->fname = fname;
    if (j.status != LISP_OK) {
        S->top = top;
        S->depth = depth;
    }
    return j.status;
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

lisp_Value lispE_call(lisp_State *S, lisp_Value *fp, int nargs) {
    const lispK_Code *cur = S->cur;
    lisp_Value r;
    if (lispbt_unlikely(++S->depth > S->max_depth)) {
        S->depth--;
        lisp_error(S, "stack overflow");
    }
    lispE_checkcstack(S);
    for (;;) {
        lisp_Value fn = fp[0];
        if (fn.tag == LISP_TCLOSURE) {
            lisp_Closure *cl = AS(lisp_Closure, fn);
            lisp_Proto *p = cl->p;
            lispK_Frame F;
            if (nargs != p->nparams) {
                if (!p->rest || nargs < p->nparams) {
                    arityerror(S, procname(p), p->nparams, p->rest ? -1 : p->nparams, nargs);
                }
            }
            if (p->rest) { /* collect the extra arguments into a list */
                lisp_Value list = lisp_nil();
                int i;
                for (i = nargs; i > p->nparams; i--) {
                    list = lisp_cons(S, fp[i], list);
                }
                fp[p->nparams + 1] = list;
                S->top = fp + p->nparams + 2;
            }
            F.base = fp + 1;
            if (p->heapframe) {
                int i, nin = p->nparams + p->rest;
                lisp_Env *e = lispO_newenv(S, p->framesize, cl->env);
                for (i = 0; i < nin; i++) {
                    e->v[i] = F.base[i];
                }
                F.env = e;
            } else {
                lisp_Value *need = fp + 1 + p->framesize;
                if (lispbt_unlikely(need >= S->stack_last)) {
                    lisp_error(S, "stack overflow");
                }
                while (S->top < need) {
                    (S->top++)->tag = LISP_TNIL;
                }
                F.env = cl->env;
            }
            r = EVAL(p->body, &F);
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

lisp_Value lisp_call(lisp_State *S, int fidx, int nargs) {
    return lispE_call(S, S->stack + fidx, nargs);
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
    s->value = v;
    return lisp_nil();
}

/* define's nodes return the value bound, as muesli-bt's define does;
** set! and let's slot stores return nil. */
lisp_Value lispE_defglobal(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value v = EVAL(c->kid[0], F);
    AS(lisp_Symbol, c->k)->value = v;
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
    return lisp_istrue(t) ? EVAL(c->kid[1], F) : EVAL(c->kid[2], F);
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

lisp_Value lispE_callnode(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value *fp = S->top;
    int i, n = c->n;
    for (i = 0; i <= n; i++) {
        lisp_Value v = EVAL(c->kid[i], F);
        lispE_push(S, v);
    }
    S->cur = c;
    return lispE_call(S, fp, n);
}

lisp_Value lispE_tailcall(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Value *fp = S->top, *dst = F->base - 1, r;
    int i, n = c->n;
    for (i = 0; i <= n; i++) {
        lisp_Value v = EVAL(c->kid[i], F);
        lispE_push(S, v);
    }
    /* move callee and arguments over the current frame */
    memmove(dst, fp, sizeof(lisp_Value) * (size_t)(n + 1));
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

/* Two-argument builtin inlined behind a guard: if the global still holds
** the builtin seen at compile time, compute here; otherwise call. */
lisp_Value lispE_arith2(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Symbol *s = AS(lisp_Symbol, c->kid[0]->k);
    lisp_Value a, b;
    if (lispbt_unlikely(s->value.u.o != c->k.u.o || s->value.tag != LISP_TPRIM)) {
        return lispE_callnode(S, c, F);
    }
    a = EVAL(c->kid[1], F);
    lispE_push(S, a); /* rooted while 'b' is evaluated */
    b = EVAL(c->kid[2], F);
    S->top--;
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
    if (c->op == OP_EQ) {
        return lisp_bool(lisp_eqp(a, b));
    }
    S->cur = c;
    return lispE_arith(S, c->op, a, b, opnames[c->op]);
}

lisp_Value lispE_unary(lisp_State *S, const lispK_Code *c, lispK_Frame *F) {
    lisp_Symbol *s = AS(lisp_Symbol, c->kid[0]->k);
    lisp_Value a;
    if (lispbt_unlikely(s->value.u.o != c->k.u.o || s->value.tag != LISP_TPRIM)) {
        return lispE_callnode(S, c, F);
    }
    a = EVAL(c->kid[1], F);
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
