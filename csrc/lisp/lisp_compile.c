/*
** lisp_compile.c -- forms to code trees; names resolved to slots.
** See LICENSE for copyright.
**
** The compiler turns one top-level form into a lisp_Proto whose body is a
** tree of lispK_Code nodes (lisp_code.h).  Every lambda inside becomes its
** own proto, kept alive through the parent's constant table.
**
** Invariants:
** - Everything the compiler allocates is owned by a Lisp object reachable
**   from the value stack: protos (pushed when created) own their code nodes
**   and constants; the table of visible variables of each function is a
**   Lisp vec.  So a compile error (a longjmp) leaks nothing: the collector
**   frees the half-built protos.
** - Variables: a function's visible variables are (symbol, slot) pairs,
**   innermost last; lookup scans backwards, then the enclosing functions.
**   A function whose body contains a lambda has a heap frame (lisp_Env);
**   its slots are never reused, so two closures never share a slot that
**   two different 'let' scopes allocated.
** - Special forms are recognised by their (fixed, interned) head symbol;
**   a local variable does not shadow a special form.
** - Forms from the reader nest at most 1000 deep; data built at run time
**   and compiled through 'load' is checked against COMPILE_MAXDEPTH, so the
**   compiler's recursion is bounded.
*/
#include "conf.h"

#include <string.h>

#include <stdio.h>

#include "lisp_code.h"

#define COMPILE_MAXDEPTH LISPBT_COMPILE_MAXDEPTH
#define MAXSLOTS 30000

typedef struct FuncState {
    struct FuncState *prev;
    lisp_Proto *p;
    lisp_Value vars; /* vec: sym, slot, sym, slot, ... */
    int nslots, maxslots;
    int heap;
    int toplevel; /* the function of a top-level form */
    int scopes;   /* open let/body scopes inside this function */
} FuncState;

typedef struct Compiler {
    lisp_State *S;
    FuncState *fs;
    lisp_Object *chunk;
    uint32_t line; /* position of the innermost form with one */
    uint16_t col;
    int depth;
} Compiler;

static lispK_Code *compile(Compiler *C, lisp_Value form, int tail);

/* ---- helpers ---- */

LISPBT_NORETURN static void cerror(Compiler *C, const char *fmt, ...) LISPBT_PRINTF(2, 3);
static void cerror(Compiler *C, const char *fmt, ...) {
    lisp_State *S = C->S;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(S->errmsg, sizeof S->errmsg, "%s:%u:%u: %s", ((lisp_String *)C->chunk)->data,
             (unsigned)C->line, (unsigned)C->col, msg);
    lispE_throw(S, LISP_ERRSYNTAX);
}

static lispK_Code *newcode(Compiler *C, lispK_Eval ev, int nkids) {
    lisp_State *S = C->S;
    lisp_Proto *p = C->fs->p;
    size_t sz = sizeof(lispK_Code) + sizeof(lispK_Code *) * (size_t)nkids;
    lispK_Code *c = lispC_realloc(S, NULL, 0, sz);
    if (c == NULL) {
        lisp_memerror(S);
    }
    memset(c, 0, sz);
    S->gcbytes += sz;
    c->size = sz;
    c->ev = ev;
    c->link = p->codes;
    p->codes = c;
    c->chunk = C->chunk;
    c->line = C->line;
    c->col = C->col;
    c->n = nkids;
    return c;
}

void lispK_freecode(lisp_State *S, lisp_Proto *p) {
    lispK_Code *c = p->codes;
    while (c) {
        lispK_Code *n = c->link;
        S->gcbytes -= c->size;
        mem_free(S->M, c, c->size);
        c = n;
    }
    p->codes = NULL;
    if (p->k) {
        S->gcbytes -= sizeof(lisp_Value) * (size_t)p->capk;
        mem_free(S->M, p->k, sizeof(lisp_Value) * (size_t)p->capk);
        p->k = NULL;
    }
}

/* Keep 'v' alive as long as the current proto. */
static void addconst(Compiler *C, lisp_Value v) {
    lisp_State *S = C->S;
    lisp_Proto *p = C->fs->p;
    if (!isheap(v)) {
        return;
    }
    if (p->nk == p->capk) {
        int ncap = p->capk ? p->capk * 2 : 8;
        lisp_Value *nk = lispC_realloc(S, p->k, sizeof(lisp_Value) * (size_t)p->capk,
                                     sizeof(lisp_Value) * (size_t)ncap);
        if (nk == NULL) {
            lisp_memerror(S);
        }
        S->gcbytes += sizeof(lisp_Value) * (size_t)(ncap - p->capk);
        p->k = nk;
        p->capk = ncap;
    }
    p->k[p->nk++] = v;
    lispC_barrier(S, &p->h, v);
}

static lispK_Code *constant(Compiler *C, lisp_Value v) {
    lispK_Code *c = newcode(C, lispE_const, 0);
    c->k = v;
    addconst(C, v);
    return c;
}

static int issym(lisp_Value v, lisp_Symbol *s) {
    return v.tag == LISP_TSYMBOL && v.u.o == &s->h;
}

static lisp_Value nth(lisp_Value l, int i) {
    while (i-- > 0) {
        l = lisp_cdr(l);
    }
    return lisp_car(l);
}

/* Set the current position from 'form' if the reader recorded one. */
static void setpos(Compiler *C, lisp_Value form) {
    if (form.tag == LISP_TCONS && form.u.o->line != 0) {
        C->line = form.u.o->line;
        C->col = form.u.o->col;
    }
}

/* ---- variables ---- */

static int declare(Compiler *C, lisp_Value sym) {
    FuncState *fs = C->fs;
    int slot = fs->nslots++;
    if (slot >= MAXSLOTS) {
        cerror(C, "too many local variables");
    }
    if (fs->nslots > fs->maxslots) {
        fs->maxslots = fs->nslots;
    }
    lisp_vecpush(C->S, fs->vars, sym);
    lisp_vecpush(C->S, fs->vars, lisp_int(slot));
    return slot;
}

/* Close a scope: forget variables declared since 'nvars'/'nslots'. */
static void closescope(Compiler *C, int64_t nvars, int nslots) {
    FuncState *fs = C->fs;
    AS(lisp_Vec, fs->vars)->len = nvars;
    if (!fs->heap) {
        fs->nslots = nslots; /* stack frames reuse slots */
    }
}

/* Find 'sym' in function 'fs'; returns its slot or -1. */
static int findvar(FuncState *fs, lisp_Value sym) {
    lisp_Vec *v = AS(lisp_Vec, fs->vars);
    int64_t i;
    for (i = v->len - 2; i >= 0; i -= 2) {
        if (v->items[i].u.o == sym.u.o) {
            return (int)v->items[i + 1].u.i;
        }
    }
    return -1;
}

/* Resolve 'sym': kind 0 = local slot, 1 = env (depth in *d), 2 = global. */
static int resolve(Compiler *C, lisp_Value sym, int *slot, int *d) {
    FuncState *fs = C->fs;
    int k;
    *slot = findvar(fs, sym);
    if (*slot >= 0) {
        *d = 0;
        return fs->heap ? 1 : 0;
    }
    for (k = 1, fs = fs->prev; fs; fs = fs->prev, k++) {
        *slot = findvar(fs, sym);
        if (*slot >= 0) {
            *d = k - 1 + (C->fs->heap ? 1 : 0);
            return 1;
        }
    }
    return 2;
}

static lispK_Code *varref(Compiler *C, lisp_Value sym) {
    int slot, d, kind = resolve(C, sym, &slot, &d);
    lispK_Code *c;
    if (kind == 0) {
        c = newcode(C, lispE_local, 0);
    } else if (kind == 1) {
        c = newcode(C, d == 0 ? lispE_env0 : lispE_env, 0);
        c->d = d;
    } else {
        c = newcode(C, lispE_global, 0);
        c->k = sym;
        addconst(C, sym);
        return c;
    }
    c->n = slot;
    return c;
}

/* Assignment node for 'sym' = 'val'. 'define' makes globals at top level. */
static lispK_Code *assign(Compiler *C, lisp_Value sym, lispK_Code *val, int isdefine) {
    int slot, d, kind = resolve(C, sym, &slot, &d);
    lispK_Code *c;
    if (kind == 2 && isdefine && !(C->fs->toplevel && C->fs->scopes == 0)) {
        slot = declare(C, sym); /* a define not predeclared by a body scan */
        kind = C->fs->heap ? 1 : 0;
        d = 0;
    }
    if (kind == 0) {
        c = newcode(C, isdefine ? lispE_deflocal : lispE_setlocal, 1);
        c->n = slot;
    } else if (kind == 1) {
        c = newcode(C, isdefine ? lispE_defenv : lispE_setenv, 1);
        c->n = slot;
        c->d = d;
    } else {
        c = newcode(C, isdefine ? lispE_defglobal : lispE_setglobal, 1);
        c->k = sym;
        addconst(C, sym);
    }
    c->kid[0] = val;
    return c;
}

/* ---- closure analysis ---- */

/* Does 'form' create a closure (lambda, (define (f ...)), named let)? */
static int haslambda(Compiler *C, lisp_Value form, int depth) {
    lisp_State *S = C->S;
    if (depth > COMPILE_MAXDEPTH) {
        cerror(C, "form nested too deeply");
    }
    while (form.tag == LISP_TCONS) {
        lisp_Value h = lisp_car(form);
        if (issym(h, S->s_quote)) {
            return 0;
        }
        if (issym(h, S->s_lambda)) {
            return 1;
        }
        if ((issym(h, S->s_define) && lisp_car(lisp_cdr(form)).tag == LISP_TCONS) ||
            (issym(h, S->s_let) && lisp_car(lisp_cdr(form)).tag == LISP_TSYMBOL)) {
            return 1;
        }
        if (haslambda(C, h, depth + 1)) {
            return 1;
        }
        form = lisp_cdr(form);
    }
    return 0;
}

/* ---- bodies ---- */

/* Declare the names of internal defines of 'body' in the current scope. */
static void scandefines(Compiler *C, lisp_Value body) {
    for (; body.tag == LISP_TCONS; body = lisp_cdr(body)) {
        lisp_Value f = lisp_car(body);
        if (f.tag == LISP_TCONS && issym(lisp_car(f), C->S->s_define)) {
            lisp_Value target = lisp_car(lisp_cdr(f));
            if (target.tag == LISP_TCONS) {
                target = lisp_car(target);
            }
            if (target.tag == LISP_TSYMBOL && findvar(C->fs, target) < 0) {
                declare(C, target);
            }
        }
    }
}

/* Compile a sequence; the last form inherits 'tail'. */
static lispK_Code *sequence(Compiler *C, lisp_Value body, int tail) {
    int64_t n = lisp_listlen(body), i;
    lispK_Code *c;
    if (n < 0) {
        cerror(C, "body must be a proper list");
    }
    if (n == 0) {
        return constant(C, lisp_nil());
    }
    if (n == 1) {
        return compile(C, lisp_car(body), tail);
    }
    c = newcode(C, lispE_begin, (int)n);
    for (i = 0; i < n; i++, body = lisp_cdr(body)) {
        c->kid[i] = compile(C, lisp_car(body), tail && i == n - 1);
    }
    return c;
}

/* A body with its own scope for internal defines. */
static lispK_Code *body(Compiler *C, lisp_Value forms, int tail) {
    FuncState *fs = C->fs;
    int64_t nvars = AS(lisp_Vec, fs->vars)->len;
    int nslots = fs->nslots;
    lispK_Code *c;
    fs->scopes++;
    scandefines(C, forms);
    c = sequence(C, forms, tail);
    fs->scopes--;
    closescope(C, nvars, nslots);
    return c;
}

/* ---- lambda ---- */

/* A body that is a fused if with a self tail call in a branch, in a frame
** of parameters only, runs its loop in one node (lispE_ifloop). */
static void loopbody(lisp_Proto *p) {
    lispK_Code *c = p->body;
    int d;
    if (c->ev == lispE_ifcmpll) {
        d = 1;
    } else if (c->ev == lispE_ifcmplk) {
        d = 2;
    } else {
        return;
    }
    if (p->heapframe || p->rest || p->framesize != p->nparams ||
        (c->kid[1]->ev != lispE_selftail && c->kid[2]->ev != lispE_selftail)) {
        return;
    }
    c->ev = lispE_ifloop;
    c->d = d;
}

static lispK_Code *lambda(Compiler *C, lisp_Value params, lisp_Value forms, lisp_Value name) {
    lisp_State *S = C->S;
    FuncState fs;
    lisp_Proto *p;
    lispK_Code *c;
    int base = lisp_gettop(S);
    memset(&fs, 0, sizeof fs);
    p = lispO_newproto(S);
    p->chunk = C->chunk;
    p->line = C->line;
    p->name = name.tag == LISP_TSYMBOL ? name.u.o : NULL;
    fs.prev = C->fs;
    fs.p = p;
    fs.vars = lisp_vec(S, 16);
    fs.heap = haslambda(C, forms, 0);
    C->fs = &fs;
    for (; params.tag == LISP_TCONS; params = lisp_cdr(params)) {
        lisp_Value s = lisp_car(params);
        if (s.tag != LISP_TSYMBOL) {
            cerror(C, "lambda: parameter must be a symbol");
        }
        declare(C, s);
        p->nparams++;
    }
    if (params.tag == LISP_TSYMBOL) {
        declare(C, params);
        p->rest = 1;
    } else if (params.tag != LISP_TNIL) {
        cerror(C, "lambda: parameter must be a symbol");
    }
    fs.scopes = 0;
    p->body = body(C, forms, 1);
    p->framesize = fs.maxslots;
    p->heapframe = (uint8_t)fs.heap;
    loopbody(p);
    C->fs = fs.prev;
    /* the parent keeps the child proto alive */
    c = newcode(C, lispE_lambda, 0);
    c->k = lisp_obj(&p->h, LISP_TPROTO);
    addconst(C, c->k);
    lisp_settop(S, base);
    return c;
}

/* ---- special forms ---- */

static lispK_Code *call(Compiler *C, lisp_Value fn, lisp_Value args, int tail);

/* Build (fnv arg1 arg2): calls of internal primitives by value. */
static lispK_Code *primcall(Compiler *C, lisp_Value prim, lispK_Code *a, lispK_Code *b) {
    lispK_Code *c = newcode(C, lispE_callnode, 3);
    c->kid[0] = constant(C, prim);
    c->kid[1] = a;
    c->kid[2] = b;
    c->n = 2;
    return c;
}

/* 'level' counts enclosing quasiquotes beyond the outermost (R7RS 4.2.8):
** unquote and unquote-splicing evaluate only at level 0; a nested
** quasiquote raises the level and an unquote inside it lowers it again. */
static lispK_Code *quasi(Compiler *C, lisp_Value x, int depth, int level) {
    lisp_State *S = C->S;
    lisp_Value h;
    if (depth > COMPILE_MAXDEPTH) {
        cerror(C, "quasiquote: form nested too deeply");
    }
    if (x.tag != LISP_TCONS) {
        return constant(C, x);
    }
    h = lisp_car(x);
    if (issym(h, S->s_unquote) || issym(h, S->s_unquote_splicing)) {
        if (level == 0 && issym(h, S->s_unquote)) {
            return compile(C, nth(x, 1), 0);
        }
        if (level > 0) {
            return primcall(C, S->prim[LISPP_CONS], constant(C, h),
                            quasi(C, lisp_cdr(x), depth + 1, level - 1));
        }
        /* ,@x not as an element of a list: `,@x or `(a . ,@x) (muesli-bt's words) */
        cerror(C, "unquote-splicing: only valid in list context");
    }
    if (issym(h, S->s_quasiquote)) {
        return primcall(C, S->prim[LISPP_CONS], constant(C, h), quasi(C, lisp_cdr(x), depth + 1, level + 1));
    }
    if (level == 0 && h.tag == LISP_TCONS && issym(lisp_car(h), S->s_unquote_splicing)) {
        return primcall(C, S->prim[LISPP_APPEND], compile(C, nth(h, 1), 0),
                        quasi(C, lisp_cdr(x), depth + 1, level));
    }
    return primcall(C, S->prim[LISPP_CONS], quasi(C, h, depth + 1, level),
                    quasi(C, lisp_cdr(x), depth + 1, level));
}

static void checklen(Compiler *C, lisp_Value form, int64_t min, int64_t max, const char *usage) {
    int64_t n = lisp_listlen(form);
    if (n < min || (max >= 0 && n > max)) {
        cerror(C, "%s", usage);
    }
}

/* Make 'sym' visible at a slot reserved earlier. */
static void bindslot(Compiler *C, lisp_Value sym, int slot) {
    lisp_vecpush(C->S, C->fs->vars, sym);
    lisp_vecpush(C->S, C->fs->vars, lisp_int(slot));
}

static lispK_Code *setslot(Compiler *C, int slot, lispK_Code *val) {
    lispK_Code *set = newcode(C, C->fs->heap ? lispE_setenv : lispE_setlocal, 1);
    set->n = slot;
    set->kid[0] = val;
    return set;
}

/* (let ((name init) ...) body...) and let*.  For 'let' the slots are
** reserved before the initialisers are compiled (so temporaries of nested
** forms in an initialiser cannot reuse them) and made visible after. */
static lispK_Code *letform(Compiler *C, lisp_Value form, int tail, int sequential) {
    FuncState *fs = C->fs;
    lisp_Value binds = nth(form, 1), b;
    int64_t nb = lisp_listlen(binds), nvars = AS(lisp_Vec, fs->vars)->len, i;
    int nslots = fs->nslots, first;
    lispK_Code *c;
    const char *what = sequential ? "let*" : "let";
    if (nb < 0) {
        cerror(C, "%s: expected binding list", what); /* muesli-bt's words */
    }
    c = newcode(C, lispE_begin, (int)nb + 1);
    first = fs->nslots;
    if (!sequential) {
        fs->nslots += (int)nb;
        if (fs->nslots > MAXSLOTS) {
            cerror(C, "too many local variables");
        }
        if (fs->nslots > fs->maxslots) {
            fs->maxslots = fs->nslots;
        }
    }
    for (i = 0, b = binds; i < nb; i++, b = lisp_cdr(b)) {
        lisp_Value bind = lisp_car(b), name, init = lisp_nil();
        lispK_Code *val;
        /* exactly (name value), as muesli-bt: a bare name or (name) is an
           error rather than a silent nil */
        if (bind.tag == LISP_TCONS && lisp_car(bind).tag == LISP_TSYMBOL && lisp_listlen(bind) == 2) {
            name = lisp_car(bind);
            init = nth(bind, 1);
        } else if (bind.tag != LISP_TCONS || lisp_listlen(bind) < 0) { /* muesli-bt's words */
            cerror(C, "%s: each binding must be a (name expr) pair", what);
        } else if (lisp_listlen(bind) != 2) {
            cerror(C, "%s: each binding must contain exactly name and expression", what);
        } else {
            cerror(C, "%s: binding name must be a symbol", what);
        }
        val = compile(C, init, 0);
        c->kid[i] = setslot(C, sequential ? declare(C, name) : first + (int)i, val);
    }
    if (!sequential) {
        for (i = 0, b = binds; i < nb; i++, b = lisp_cdr(b)) {
            bindslot(C, lisp_car(lisp_car(b)), first + (int)i);
        }
    }
    fs->scopes++;
    scandefines(C, lisp_cdr(lisp_cdr(form)));
    c->kid[nb] = sequence(C, lisp_cdr(lisp_cdr(form)), tail);
    fs->scopes--;
    closescope(C, nvars, nslots);
    return c;
}

/* (let name ((v init) ...) body...) => ((lambda () (define (name v...) body...) (name init...))) */
static lispK_Code *namedlet(Compiler *C, lisp_Value form, int tail) {
    lisp_State *S = C->S;
    int base = lisp_gettop(S);
    lisp_Value name = nth(form, 1), binds = nth(form, 2), b;
    lisp_Value vars = lisp_nil(), inits = lisp_nil(), def, callf, outer;
    lisp_Value *vslot, *islot;
    lispK_Code *c;
    if (lisp_listlen(binds) < 0) {
        cerror(C, "let: expected binding list");
    }
    lispE_push(S, lisp_nil());
    vslot = S->top - 1;
    lispE_push(S, lisp_nil());
    islot = S->top - 1;
    /* build reversed, then reverse */
    for (b = binds; b.tag == LISP_TCONS; b = lisp_cdr(b)) {
        lisp_Value bind = lisp_car(b);
        if (bind.tag != LISP_TCONS || lisp_listlen(bind) < 0) {
            cerror(C, "let: each binding must be a (name expr) pair");
        } else if (lisp_listlen(bind) != 2) {
            cerror(C, "let: each binding must contain exactly name and expression");
        } else if (lisp_car(bind).tag != LISP_TSYMBOL) {
            cerror(C, "let: binding name must be a symbol");
        }
        *vslot = lisp_cons(S, lisp_car(bind), *vslot);
        *islot = lisp_cons(S, nth(bind, 1), *islot);
    }
    for (b = *vslot; b.tag == LISP_TCONS; b = lisp_cdr(b)) {
        vars = lisp_cons(S, lisp_car(b), vars);
    }
    for (b = *islot; b.tag == LISP_TCONS; b = lisp_cdr(b)) {
        inits = lisp_cons(S, lisp_car(b), inits);
    }
    /* (define (name . vars) . body) */
    def = lisp_cons(S, lisp_cons(S, name, vars), lisp_cdr(lisp_cdr(lisp_cdr(form))));
    def = lisp_cons(S, lisp_obj(&S->s_define->h, LISP_TSYMBOL), def);
    callf = lisp_cons(S, name, inits);
    outer = lisp_cons(S, def, lisp_cons(S, callf, lisp_nil()));
    outer = lisp_cons(S, lisp_nil(), outer);
    outer = lisp_cons(S, lisp_obj(&S->s_lambda->h, LISP_TSYMBOL), outer);
    outer = lisp_cons(S, outer, lisp_nil());
    c = compile(C, outer, tail);
    lisp_settop(S, base);
    return c;
}

/* An if whose test is an inlined comparison becomes the fused
** compare-and-branch node. */
static lispK_Code *ifnode(lispK_Code *c) {
    const lispK_Code *t = c->kid[0];
    /* fixnum outcome by sign of x - y (bit 0 <, bit 1 =, bit 2 >), for
    ** the variants' branchless test */
    static const uint8_t masks[] = {[OP_LT] = 1, [OP_GT] = 4, [OP_LE] = 3, [OP_GE] = 6,
                                    [OP_NUMEQ] = 2};
    if (t->op >= OP_LT && t->op <= OP_NUMEQ) {
        c->op = masks[t->op];
        if (t->ev == lispE_arith2lk) {
            c->ev = lispE_ifcmplk;
        } else if (t->ev == lispE_arith2ll) {
            c->ev = lispE_ifcmpll;
        } else if (t->ev == lispE_arith2 || t->ev == lispE_arith2l || t->ev == lispE_arith2e) {
            c->ev = lispE_ifcmp;
        }
    }
    return c;
}

static lispK_Code *special(Compiler *C, lisp_Value form, lisp_Value h, int tail) {
    lisp_State *S = C->S;
    lispK_Code *c;
    if (issym(h, S->s_quote)) {
        checklen(C, form, 2, 2, "quote: expected (quote datum)");
        return constant(C, nth(form, 1));
    }
    if (issym(h, S->s_quasiquote)) {
        checklen(C, form, 2, 2, "quasiquote: expected (quasiquote datum)");
        return quasi(C, nth(form, 1), 0, 0);
    }
    if (issym(h, S->s_unquote)) {
        cerror(C, "unquote: only valid inside quasiquote"); /* muesli-bt's words */
    }
    if (issym(h, S->s_unquote_splicing)) {
        cerror(C, "unquote-splicing: only valid inside quasiquote list context");
    }
    if (issym(h, S->s_if)) {
        checklen(C, form, 3, 4, "if: expected 2 or 3 arguments"); /* muesli-bt's words */
        c = newcode(C, lispE_if, 3);
        c->kid[0] = compile(C, nth(form, 1), 0);
        c->kid[1] = compile(C, nth(form, 2), tail);
        c->kid[2] = lisp_listlen(form) == 4 ? compile(C, nth(form, 3), tail) : constant(C, lisp_nil());
        return ifnode(c);
    }
    if (issym(h, S->s_cond)) {
        /* nested ifs, built from the last clause backwards */
        lisp_Value clauses = lisp_cdr(form);
        int64_t n = lisp_listlen(clauses), i;
        lispK_Code *acc = NULL;
        if (n < 0) {
            cerror(C, "cond: clauses must be a list");
        }
        for (i = n - 1; i >= 0; i--) {
            lisp_Value cl = nth(clauses, (int)i), test;
            if (cl.tag != LISP_TCONS || lisp_listlen(cl) < 1) {
                cerror(C, "cond: clause must be (test body...)");
            }
            test = lisp_car(cl);
            if (issym(test, S->s_else)) {
                if (i != n - 1) {
                    cerror(C, "cond: else clause must be last"); /* muesli-bt's words */
                }
                acc = sequence(C, lisp_cdr(cl), tail);
            } else if (lisp_cdr(cl).tag == LISP_TNIL) {
                c = newcode(C, lispE_or, 2); /* (test) yields the test value */
                c->kid[0] = compile(C, test, 0);
                c->kid[1] = acc ? acc : constant(C, lisp_nil());
                acc = c;
            } else {
                c = newcode(C, lispE_if, 3);
                c->kid[0] = compile(C, test, 0);
                c->kid[1] = sequence(C, lisp_cdr(cl), tail);
                c->kid[2] = acc ? acc : constant(C, lisp_nil());
                acc = ifnode(c);
            }
        }
        return acc ? acc : constant(C, lisp_nil());
    }
    if (issym(h, S->s_and) || issym(h, S->s_or)) {
        int isand = issym(h, S->s_and);
        int64_t n = lisp_listlen(form) - 1, i;
        lisp_Value a = lisp_cdr(form);
        if (n < 0) {
            cerror(C, "%s: arguments must be a list", isand ? "and" : "or");
        }
        if (n == 0) {
            return constant(C, isand ? lisp_bool(1) : lisp_nil()); /* (and) #t, (or) nil */
        }
        /* As muesli-bt: 'or' answers nil when nothing is true, except that the
        ** last form of an 'or' in a procedure's tail position is a tail call
        ** whose value is the answer (docs/compat.md) */
        if (!isand && !(tail && !C->fs->toplevel)) {
            tail = 0;
            c = newcode(C, lispE_ornil, (int)n);
        } else {
            c = newcode(C, isand ? lispE_and : lispE_or, (int)n);
        }
        for (i = 0; i < n; i++, a = lisp_cdr(a)) {
            c->kid[i] = compile(C, lisp_car(a), tail && i == n - 1);
        }
        return c;
    }
    if (issym(h, S->s_define)) {
        lisp_Value target = nth(form, 1);
        if (target.tag == LISP_TCONS) {
            lisp_Value name = lisp_car(target);
            if (name.tag != LISP_TSYMBOL) {
                cerror(C, "define: procedure name must be a symbol");
            }
            checklen(C, form, 3, -1, "define: expected (define (name params...) body...)");
            return assign(C, name, lambda(C, lisp_cdr(target), lisp_cdr(lisp_cdr(form)), name), 1);
        }
        if (target.tag != LISP_TSYMBOL) {
            cerror(C, "define: expected (define name value) or (define (name params...) body...)");
        }
        checklen(C, form, 3, 3, "define: expected (define name value)");
        {
            lisp_Value v = nth(form, 2);
            lispK_Code *val;
            if (v.tag == LISP_TCONS && issym(lisp_car(v), S->s_lambda) && lisp_listlen(v) >= 3) {
                val = lambda(C, nth(v, 1), lisp_cdr(lisp_cdr(v)), target);
            } else {
                val = compile(C, v, 0);
            }
            return assign(C, target, val, 1);
        }
    }
    if (issym(h, S->s_set)) {
        checklen(C, form, 3, 3, "set!: expected (set! name value)");
        if (nth(form, 1).tag != LISP_TSYMBOL) {
            cerror(C, "set!: target must be a symbol");
        }
        return assign(C, nth(form, 1), compile(C, nth(form, 2), 0), 0);
    }
    if (issym(h, S->s_lambda)) {
        checklen(C, form, 3, -1, "lambda: expected (lambda params body...)");
        return lambda(C, nth(form, 1), lisp_cdr(lisp_cdr(form)), lisp_nil());
    }
    if (issym(h, S->s_let)) {
        if (nth(form, 1).tag == LISP_TSYMBOL) {
            checklen(C, form, 4, -1, "let: expected (let name ((var init) ...) body...)");
            return namedlet(C, form, tail);
        }
        checklen(C, form, 3, -1, "let: expected (let ((name value) ...) body...)");
        return letform(C, form, tail, 0);
    }
    if (issym(h, S->s_letstar)) {
        checklen(C, form, 3, -1, "let*: expected (let* ((name value) ...) body...)");
        return letform(C, form, tail, 1);
    }
    if (issym(h, S->s_begin)) {
        if (lisp_listlen(form) < 0) {
            cerror(C, "begin: forms must be a list");
        }
        return sequence(C, lisp_cdr(form), tail);
    }
    if (issym(h, S->s_load)) {
        checklen(C, form, 2, 2, "load: expected (load path)");
        c = newcode(C, lispE_callnode, 2);
        c->kid[0] = constant(C, S->prim[LISPP_LOAD]);
        c->kid[1] = compile(C, nth(form, 1), 0);
        c->n = 1;
        return c;
    }
    if (issym(h, S->s_bt) || issym(h, S->s_defbt)) {
        int isdef = issym(h, S->s_defbt);
        lispK_Code *comp;
        if (isdef) {
            checklen(C, form, 3, 3, "defbt: expected (defbt name FORM)");
            if (nth(form, 1).tag != LISP_TSYMBOL) {
                cerror(C, "defbt: name must be a symbol");
            }
        } else {
            checklen(C, form, 2, 2, "bt: expected (bt FORM)");
        }
        if (S->prim[LISPP_BTCOMPILE].tag != LISP_TPRIM) {
            cerror(C, "%s: the behaviour-tree engine is not available", isdef ? "defbt" : "bt");
        }
        comp = newcode(C, lispE_callnode, 2);
        comp->kid[0] = constant(C, S->prim[LISPP_BTCOMPILE]);
        comp->kid[1] = constant(C, nth(form, isdef ? 2 : 1));
        comp->n = 1;
        return isdef ? assign(C, nth(form, 1), comp, 1) : comp;
    }
    return NULL;
}

/* ---- calls ---- */

static int inlineop(lisp_State *S, lisp_Value fn, int nargs) {
    lisp_Value v;
    if (fn.tag != LISP_TSYMBOL) {
        return OP_NONE;
    }
    v = AS(lisp_Symbol, fn)->value;
    if (v.tag != LISP_TPRIM) {
        return OP_NONE;
    }
    if (nargs == 2) {
        if (v.u.o == S->prim[LISPP_ADD].u.o) return OP_ADD;
        if (v.u.o == S->prim[LISPP_SUB].u.o) return OP_SUB;
        if (v.u.o == S->prim[LISPP_MUL].u.o) return OP_MUL;
        if (v.u.o == S->prim[LISPP_LT].u.o) return OP_LT;
        if (v.u.o == S->prim[LISPP_GT].u.o) return OP_GT;
        if (v.u.o == S->prim[LISPP_LE].u.o) return OP_LE;
        if (v.u.o == S->prim[LISPP_GE].u.o) return OP_GE;
        if (v.u.o == S->prim[LISPP_NUMEQ].u.o) return OP_NUMEQ;
        if (v.u.o == S->prim[LISPP_EQ].u.o) return OP_EQ;
    } else if (nargs == 1) {
        if (v.u.o == S->prim[LISPP_CAR].u.o) return OP_CAR;
        if (v.u.o == S->prim[LISPP_CDR].u.o) return OP_CDR;
        if (v.u.o == S->prim[LISPP_NULLP].u.o) return OP_NULLP;
        if (v.u.o == S->prim[LISPP_NOT].u.o) return OP_NOT;
    }
    return OP_NONE;
}

/* A local or a constant (read without running code). */
static int isleaf(const lispK_Code *k) {
    return k->ev == lispE_local || k->ev == lispE_const;
}

/* Is (fn arg...) with 'nargs' arguments a call of the global naming the
** function being compiled, with a stack frame and no rest parameter?
** (lispE_selftail; the evaluator checks the global still holds it.) */
static int isself(Compiler *C, lisp_Value fn, int nargs) {
    FuncState *fs = C->fs;
    int slot, d;
    return fn.tag == LISP_TSYMBOL && fs->p->name == fn.u.o && !fs->heap && !fs->p->rest &&
           nargs == fs->p->nparams && resolve(C, fn, &slot, &d) == 2;
}

static lispK_Code *call(Compiler *C, lisp_Value fn, lisp_Value args, int tail) {
    lisp_State *S = C->S;
    int64_t n = lisp_listlen(args), i;
    lispK_Code *c;
    int op = OP_NONE, slot, d;
    if (n < 0) {
        cerror(C, "call: arguments must be a proper list");
    }
    if (n > 250) {
        cerror(C, "call: too many arguments (max 250)");
    }
    /* a global bound to a builtin at compile time: inline with a guard
    ** (the evaluator falls back to a call if the global changes).  Also in
    ** tail position: a builtin never grows the frame, and the fallback path
    ** is an ordinary call, which is bounded by max_depth like any. */
    if (fn.tag == LISP_TSYMBOL && resolve(C, fn, &slot, &d) == 2) {
        op = inlineop(S, fn, (int)n);
    }
    c = newcode(C, op == OP_NONE ? (tail ? lispE_tailcall : lispE_callnode)
                   : (n == 2 ? lispE_arith2 : lispE_unary),
                (int)n + 1);
    c->op = (uint8_t)op;
    if (op != OP_NONE) {
        c->k = AS(lisp_Symbol, fn)->value; /* the expected primitive */
        addconst(C, c->k);
    }
    c->kid[0] = compile(C, fn, 0);
    for (i = 1; i <= n; i++, args = lisp_cdr(args)) {
        c->kid[i] = compile(C, lisp_car(args), 0);
    }
    c->n = (int32_t)n;
    if (op != OP_NONE && n == 2 && isleaf(c->kid[1]) && isleaf(c->kid[2])) {
        /* operands read without running code: variants by operand kind */
        if (c->kid[1]->ev == lispE_local && c->kid[2]->ev == lispE_local) {
            c->ev = lispE_arith2ll;
        } else if (c->kid[1]->ev == lispE_local && c->kid[2]->k.tag == LISP_TINT) {
            c->ev = lispE_arith2lk;
        } else {
            c->ev = lispE_arith2l;
        }
    } else if (op != OP_NONE && n == 2 && !isleaf(c->kid[1]) && c->kid[1]->ev != lispE_global &&
               !isleaf(c->kid[2]) && c->kid[2]->ev != lispE_global) {
        c->ev = lispE_arith2e; /* both operands run code: no operand kind checks */
    } else if (op == OP_NONE && !tail && c->kid[0]->ev == lispE_global) {
        c->ev = !isself(C, fn, (int)n) ? lispE_callg : n == 1 ? lispE_callself1 : lispE_callself;
    } else if (op == OP_NONE && tail && isself(C, fn, (int)n)) {
        int changed = 0;
        c->ev = lispE_selftail;
        for (i = 1; i <= n; i++) {
            if (!(c->kid[i]->ev == lispE_local && c->kid[i]->n == i - 1)) {
                changed++;
                c->d = (int32_t)i;
            }
        }
        if (changed != 1) {
            c->d = 0;
        }
    }
    return c;
}

static lispK_Code *compile(Compiler *C, lisp_Value form, int tail) {
    lisp_State *S = C->S;
    uint32_t line = C->line;
    uint16_t col = C->col;
    lispK_Code *c;
    if (++C->depth > COMPILE_MAXDEPTH) {
        cerror(C, "form nested too deeply");
    }
    switch (form.tag) {
        case LISP_TSYMBOL: {
            const char *name = AS(lisp_Symbol, form)->name;
            if (name[0] == ':' && name[1] != '\0') {
                c = constant(C, form); /* keywords evaluate to themselves */
            } else {
                c = varref(C, form);
            }
            break;
        }
        case LISP_TCONS: {
            lisp_Value h = lisp_car(form);
            setpos(C, form);
            c = NULL;
            if (h.tag == LISP_TSYMBOL && AS(lisp_Symbol, h)->fixed) {
                c = special(C, form, h, tail);
            }
            if (c == NULL) {
                c = call(C, h, lisp_cdr(form), tail);
            }
            break;
        }
        default: c = constant(C, form); break;
    }
    C->line = line;
    C->col = col;
    C->depth--;
    (void)S;
    return c;
}

lisp_Proto *lispK_compile(lisp_State *S, lisp_Value form, const char *chunk, int line, int col) {
    Compiler C;
    FuncState fs;
    lisp_Proto *p;
    lisp_Value chunkstr;
    int base = lisp_gettop(S);
    lispE_push(S, form); /* root the form */
    chunkstr = lisp_cstring(S, chunk);
    p = lispO_newproto(S);
    memset(&C, 0, sizeof C);
    memset(&fs, 0, sizeof fs);
    C.S = S;
    C.chunk = chunkstr.u.o;
    C.line = (uint32_t)line;
    C.col = (uint16_t)(col > 65535 ? 65535 : col);
    p->chunk = chunkstr.u.o;
    fs.p = p;
    fs.toplevel = 1;
    fs.vars = lisp_vec(S, 8);
    fs.heap = haslambda(&C, form, 0);
    C.fs = &fs;
    p->body = compile(&C, form, 1);
    p->framesize = fs.maxslots;
    p->heapframe = (uint8_t)fs.heap;
    lisp_settop(S, base);
    lispE_push(S, lisp_obj(&p->h, LISP_TPROTO));
    return p;
}
