/*
** bt_compile.c -- the DSL compiler: DSL data to an immutable node array.
** See LICENSE for copyright.
**
** Invariants:
** - The definition object is created first (pushed) and owns the growing
**   node array, so a compile error (a longjmp) leaks nothing.
** - Leaf names are resolved to registry ids here; an unknown name gets an
**   unresolved entry that a later registration fills in (and that fails at
**   tick time while still unknown).  A known leaf's check hook sees its
**   arguments here.  A head that is no node kind may be a leaf form
**   registered by another layer ((plan-action ...)): it compiles to an
**   action node of that entry, named and printed back as the form.
** - Recursion follows the DSL nesting, bounded by BT_MAXDEPTH.
** - Errors name the form: "bt.compile: repeat: COUNT must be an integer
**   in [0, 1000000000], got -1".
*/
#include "conf.h"

#include <stdio.h>
#include <string.h>

#include "bt_node.h"
#include "sbuf.h"

const char *const bt_kindnames[BT_NKINDS] = {"seq",    "sel",    "mem-seq", "mem-sel", "par",
                                             "invert", "repeat", "retry",   "cond",    "act",
                                             "succeed", "fail",  "running", "async-seq", "reactive-seq",
                                             "reactive-sel"};

static void deffree(lisp_State *S, void *p) {
    bt_Def *D = p;
    mem_free(lisp_mem(S), D->nodes, sizeof(bt_Node) * (size_t)D->cap);
    mem_free(lisp_mem(S), D->argkeys, sizeof(int32_t) * (size_t)D->capargkeys);
    mem_free(lisp_mem(S), D->largs, sizeof(bt_LeafArgs) * (size_t)D->n);
    D->largs = NULL;
    D->nodes = NULL;
    D->argkeys = NULL;
}

/* Append leaf argument 'a' and its key id (names only) to the definition. */
static void addarg(lisp_State *S, bt_Def *D, lisp_Value a) {
    if (D->nargkeys == D->capargkeys) {
        int32_t ncap = D->capargkeys ? D->capargkeys * 2 : 16;
        int32_t *nk = lisp_realloc(S, D->argkeys, sizeof(int32_t) * (size_t)D->capargkeys,
                                   sizeof(int32_t) * (size_t)ncap);
        if (nk == NULL) {
            lisp_nomem(S, "bt.compile");
        }
        D->argkeys = nk;
        D->capargkeys = ncap;
    }
    D->argkeys[D->nargkeys++] =
        (a.tag == LISP_TSYMBOL || (a.tag == LISP_TSTRING && lisp_str(a, NULL)[0])) ? bt_key(S, a) : -1;
    lisp_vecpush(S, D->args, a);
}

static void defmark(lisp_State *S, void *p) {
    bt_Def *D = p;
    lisp_markvalue(S, D->args);
    lisp_markvalue(S, D->names);
    lisp_markvalue(S, D->dsl);
    lisp_markvalue(S, D->src);
}

const lisp_UType bt_deftype = {"bt_def", defmark, deffree, 0}; /* few: traversed again at the end */

typedef struct Comp {
    lisp_State *S;
    bt_Def *D;
    lisp_Value form; /* the whole form, for messages */
} Comp;

LISPBT_NORETURN static void cerr(Comp *C, const char *kind, lisp_Value got, const char *what) {
    char repr[LISPBT_REPR_MAX + 8];
    lisp_repr(C->S, got, repr, sizeof repr);
    if (kind) {
        lisp_error(C->S, "bt.compile: %s: %s, got %s", kind, what, repr);
    }
    lisp_error(C->S, "bt.compile: %s, got %s", what, repr);
}

static int32_t newnode(Comp *C, int kind) {
    bt_Def *D = C->D;
    bt_Node *n;
    if (D->n == D->cap) {
        int32_t ncap = D->cap ? D->cap * 2 : 16;
        bt_Node *nn;
        if (ncap > BT_MAXNODES) {
            lisp_error(C->S, "bt.compile: tree has more than %d nodes", BT_MAXNODES);
        }
        nn = lisp_realloc(C->S, D->nodes, sizeof(bt_Node) * (size_t)D->cap,
                          sizeof(bt_Node) * (size_t)ncap);
        if (nn == NULL) {
            lisp_nomem(C->S, "bt.compile");
        }
        D->nodes = nn;
        D->cap = ncap;
    }
    n = &D->nodes[D->n];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->argidx = -1;
    return D->n++;
}

static void setname(Comp *C, const char *kind, lisp_Value leafname) {
    lisp_State *S = C->S;
    int base = lisp_gettop(S);
    if (leafname.tag == LISP_TNIL) {
        lisp_vecpush(S, C->D->names, lisp_cstring(S, kind));
    } else {
        size_t n;
        const char *s = lisp_str(leafname, &n);
        char buf[160];
        snprintf(buf, sizeof buf, "%s %.*s", kind, (int)(n > 140 ? 140 : n), s);
        lisp_vecpush(S, C->D->names, lisp_cstring(S, buf));
    }
    lisp_settop(S, base);
}

int bt_kindof(lisp_Value h) {
    size_t n;
    const char *s;
    int k;
    if (h.tag != LISP_TSYMBOL) {
        return -1;
    }
    s = lisp_str(h, &n);
    for (k = 0; k < BT_NKINDS; k++) {
        if (strlen(bt_kindnames[k]) == n && memcmp(bt_kindnames[k], s, n) == 0) {
            return k;
        }
    }
    return -1;
}

static int32_t node(Comp *C, lisp_Value form, int depth);

void bt_check_intarg(lisp_State *S, const bt_Leaf *l, lisp_Value args, int i, const char *arg,
                     int num, int64_t lo, int64_t hi) {
    int64_t k;
    char msg[300];
    for (; i > 0 && args.tag == LISP_TCONS; i--) {
        args = lisp_cdr(args);
    }
    if (args.tag != LISP_TCONS || lisp_tointrange(lisp_car(args), num, lo, hi, &k)) {
        return;
    }
    lisp_rangemsg(S, msg, sizeof msg, arg, num, lo, hi, lisp_car(args));
    lisp_error(S, "bt.compile: %s: %s", l->cname, msg);
}

/* Leaf node 'i' of registry entry 'id' with the 'nargs' arguments 'args'
** (the entry's check hook, if it is known, sees them first). */
static void leafnode(Comp *C, int32_t i, int id, lisp_Value args, int64_t nargs) {
    lisp_State *S = C->S;
    bt_Def *D = C->D;
    const bt_Leaf *l = bt_reg_leaf(bt_reg(S), id);
    if (l->check) {
        l->check(S, l, args);
    }
    D->nodes[i].param = id;
    D->nodes[i].argidx = (int32_t)lisp_veclen(D->args);
    D->nodes[i].nargs = (int32_t)nargs;
    for (; args.tag == LISP_TCONS; args = lisp_cdr(args)) {
        addarg(S, D, lisp_car(args));
    }
    D->nleaves++;
}

static void children(Comp *C, const char *kind, lisp_Value kids, int32_t i, int depth) {
    int64_t nk = lisp_listlen(kids);
    if (nk < 1) {
        cerr(C, kind, kids, "expected at least one child");
    }
    if (nk > 65535) {
        cerr(C, kind, lisp_int(nk), "too many children");
    }
    C->D->nodes[i].nkids = (uint16_t)nk;
    for (; kids.tag == LISP_TCONS; kids = lisp_cdr(kids)) {
        node(C, lisp_car(kids), depth + 1);
    }
}

/* The count of a repeat or retry: an integer in [0, BT_MAXCOUNT]. */
static int64_t count(Comp *C, const char *kind, lisp_Value v) {
    int64_t k;
    if (!lisp_tointrange(v, LISP_INTONLY, 0, BT_MAXCOUNT, &k)) {
        char msg[300];
        lisp_rangemsg(C->S, msg, sizeof msg, "COUNT", LISP_INTONLY, 0, BT_MAXCOUNT, v);
        lisp_error(C->S, "bt.compile: %s: %s", kind, msg);
    }
    return k;
}

static int32_t node(Comp *C, lisp_Value form, int depth) {
    lisp_State *S = C->S;
    int kind;
    int32_t i;
    lisp_Value h, rest;
    int64_t len;
    if (depth >= BT_MAXDEPTH) {
        cerr(C, NULL, lisp_int(depth), "tree nested too deeply");
    }
    len = lisp_listlen(form);
    if (form.tag != LISP_TCONS || len < 1) {
        cerr(C, NULL, form, "expected a node form like (seq ...), (cond name) or (act name)");
    }
    h = lisp_car(form);
    rest = lisp_cdr(form);
    kind = bt_kindof(h);
    if (kind < 0) {
        int id = h.tag == LISP_TSYMBOL ? bt_reg_form(bt_reg(S), h) : -1;
        if (id < 0) {
            cerr(C, NULL, h, "unknown node kind");
        }
        i = newnode(C, BT_NACT);
        setname(C, lisp_str(h, NULL), lisp_nil());
        leafnode(C, i, id, rest, len - 1);
        C->D->nodes[i].size = 1;
        return i;
    }
    i = newnode(C, kind);
    switch (kind) {
        case BT_NSEQ:
        case BT_NSEL:
        case BT_NMEMSEQ:
        case BT_NMEMSEL:
        case BT_NASYNCSEQ:
        case BT_NREACTSEQ:
        case BT_NREACTSEL:
            setname(C, bt_kindnames[kind], lisp_nil());
            children(C, bt_kindnames[kind], rest, i, depth);
            break;
        case BT_NPAR: {
            lisp_Value nv = lisp_car(rest);
            int64_t k = len - 2;
            setname(C, "par", lisp_nil());
            if (nv.tag != LISP_TINT) {
                cerr(C, "par", nv, "threshold must be an integer");
            }
            if (k < 1) {
                cerr(C, "par", form, "expected (par N child ...)");
            }
            if (nv.u.i < 1 || nv.u.i > k) {
                char what[80];
                snprintf(what, sizeof what, "threshold must be in 1..%lld", (long long)k);
                cerr(C, "par", nv, what);
            }
            C->D->nodes[i].param = (int32_t)nv.u.i;
            children(C, "par", lisp_cdr(rest), i, depth);
            break;
        }
        case BT_NINVERT:
            setname(C, "invert", lisp_nil());
            if (len != 2) {
                cerr(C, "invert", form, "expected (invert child)");
            }
            children(C, "invert", rest, i, depth);
            break;
        case BT_NREPEAT:
        case BT_NRETRY: {
            const char *kn = bt_kindnames[kind];
            char usage[60];
            setname(C, kn, lisp_nil());
            snprintf(usage, sizeof usage, "expected (%s n child)", kn);
            if (len != 3) {
                cerr(C, kn, form, usage);
            }
            C->D->nodes[i].param =
                (int32_t)count(C, kn, lisp_car(rest));
            children(C, kn, lisp_cdr(rest), i, depth);
            break;
        }
        case BT_NCOND:
        case BT_NACT: {
            const char *kn = bt_kindnames[kind];
            lisp_Value name = lisp_car(rest);
            if (len < 2 || (name.tag != LISP_TSYMBOL && name.tag != LISP_TSTRING) ||
                lisp_str(name, NULL)[0] == '\0') {
                cerr(C, kn, len < 2 ? form : name, "leaf name must be a non-empty symbol");
            }
            if (name.tag == LISP_TSTRING) {
                size_t n;
                const char *s = lisp_str(name, &n);
                name = lisp_intern(S, s, n);
            }
            setname(C, kn, name);
            leafnode(C, i, bt_reg_id(S, bt_reg(S), kind == BT_NCOND ? BT_KCOND : BT_KACT, name),
                     lisp_cdr(rest), len - 2);
            break;
        }
        default:
            setname(C, bt_kindnames[kind], lisp_nil());
            if (len != 1) {
                char usage[40];
                snprintf(usage, sizeof usage, "expected (%s)", bt_kindnames[kind]);
                cerr(C, bt_kindnames[kind], form, usage);
            }
            C->D->nleaves++;
            break;
    }
    C->D->nodes[i].size = (uint32_t)(C->D->n - i);
    return i;
}

/* Canonical DSL of the subtree at node 'i' (pushed). */
static lisp_Value canon(lisp_State *S, bt_Def *D, int32_t i) {
    const bt_Node *n = &D->nodes[i];
    int base = lisp_gettop(S);
    lisp_Value acc = lisp_nil();
    /* children are collected in order and consed from the end */
    if (n->nkids > 0 && n->kind != BT_NCOND && n->kind != BT_NACT) {
        int32_t c = i + 1, k;
        lisp_Value v = lisp_vec(S, n->nkids);
        for (k = 0; k < n->nkids; k++, c += D->nodes[c].size) {
            lisp_vecpush(S, v, canon(S, D, c));
            lisp_settop(S, base + 1);
        }
        for (k = n->nkids - 1; k >= 0; k--) {
            acc = lisp_cons(S, lisp_vecitems(v)[k], acc);
        }
    }
    if (n->kind == BT_NCOND || n->kind == BT_NACT) {
        const bt_Leaf *l = bt_reg_leaf(bt_reg(S), n->param);
        int32_t k;
        for (k = n->nargs - 1; k >= 0; k--) {
            acc = lisp_cons(S, lisp_vecitems(D->args)[n->argidx + k], acc);
        }
        acc = lisp_cons(S, l->name, acc);
        if (l->form) { /* (plan-action ...), not (act plan-action ...) */
            lisp_settop(S, base);
            lisp_push(S, acc);
            return acc;
        }
    }
    if (n->kind == BT_NPAR || n->kind == BT_NREPEAT || n->kind == BT_NRETRY) {
        acc = lisp_cons(S, lisp_int(n->param), acc);
    }
    acc = lisp_cons(S, lisp_cintern(S, bt_kindnames[n->kind]), acc);
    lisp_settop(S, base);
    lisp_push(S, acc);
    return acc;
}

lisp_Value bt_compile(lisp_State *S, lisp_Value form) {
    Comp C;
    lisp_Value def;
    bt_Def *D;
    int base = lisp_gettop(S);
    char err[160];
    lisp_push(S, form);
    D = lisp_newudata(S, &bt_deftype, sizeof(bt_Def), &def);
    D->args = lisp_nil();
    D->names = lisp_nil();
    D->dsl = lisp_nil();
    D->src = form;
    D->args = lisp_vec(S, 8);
    D->names = lisp_vec(S, 16);
    C.S = S;
    C.D = D;
    C.form = form;
    node(&C, form, 0);
    if (bt_verify(D, err, sizeof err) != 0) {
        lisp_error(S, "bt.compile: internal error: %s", err);
    }
    D->argp = lisp_vecitems(D->args); /* the arrays no longer move */
    D->largs = lisp_realloc(S, NULL, 0, sizeof(bt_LeafArgs) * (size_t)D->n);
    if (D->largs == NULL) {
        lisp_nomem(S, "bt.compile");
    }
    memset(D->largs, 0, sizeof(bt_LeafArgs) * (size_t)D->n);
    {
        int32_t i;
        for (i = 0; i < D->n; i++) {
            const bt_Node *n = &D->nodes[i];
            bt_LeafArgs *a = &D->largs[i];
            if (n->nargs > 0) {
                a->args = D->argp + n->argidx;
                a->keys = D->argkeys + n->argidx;
                a->nargs = n->nargs;
            }
            if (n->kind == BT_NCOND || n->kind == BT_NACT) {
                a->leaf = bt_reg_leaf(bt_reg(S), n->param);
                a->nok = n->kind == BT_NCOND ? BT_FAILURE : BT_RUNNING;
            }
            if ((n->kind == BT_NSEQ || n->kind == BT_NSEL) && n->size == (uint32_t)n->nkids + 1) {
                int32_t c = i + 1;
                while (c < i + (int32_t)n->size &&
                       (D->nodes[c].kind == BT_NCOND || D->nodes[c].kind == BT_NACT)) {
                    c++;
                }
                D->nodes[i].leafy = c == i + (int32_t)n->size;
            }
        }
    }
    D->dsl = canon(S, D, 0);
    lisp_settop(S, base);
    lisp_push(S, def);
    return def;
}

int bt_verify(const bt_Def *D, char *err, size_t errlen) {
    int32_t i;
    if (D->n < 1 || D->nodes[0].size != (uint32_t)D->n) {
        snprintf(err, errlen, "root size %u does not cover %d nodes", D->n ? D->nodes[0].size : 0,
                 D->n);
        return -1;
    }
    for (i = 0; i < D->n; i++) {
        const bt_Node *n = &D->nodes[i];
        uint32_t sum = 1;
        int32_t c = i + 1, k;
        if (n->kind >= BT_NKINDS || n->size < 1 || i + (int32_t)n->size > D->n) {
            snprintf(err, errlen, "node %d: bad kind or size", i);
            return -1;
        }
        for (k = 0; k < n->nkids; k++) {
            if (c >= i + (int32_t)n->size) {
                snprintf(err, errlen, "node %d: children overrun the subtree", i);
                return -1;
            }
            sum += D->nodes[c].size;
            c += D->nodes[c].size;
        }
        if (sum != n->size) {
            snprintf(err, errlen, "node %d: size %u but children cover %u", i, n->size, sum);
            return -1;
        }
        if ((n->kind == BT_NINVERT || n->kind == BT_NREPEAT || n->kind == BT_NRETRY) &&
            n->nkids != 1) {
            snprintf(err, errlen, "node %d: decorator must have one child", i);
            return -1;
        }
        if ((n->kind <= BT_NPAR || n->kind >= BT_NASYNCSEQ) && n->nkids < 1) {
            snprintf(err, errlen, "node %d: composite without children", i);
            return -1;
        }
        if (n->kind == BT_NPAR && (n->param < 1 || n->param > n->nkids)) {
            snprintf(err, errlen, "node %d: par threshold out of range", i);
            return -1;
        }
        if (n->nargs > 0 && (n->argidx < 0 || n->argidx + n->nargs > lisp_veclen(D->args))) {
            snprintf(err, errlen, "node %d: arguments out of range", i);
            return -1;
        }
    }
    return 0;
}

lisp_Value bt_todsl(bt_Def *D) {
    return D->dsl;
}

void bt_def_setsource(bt_Def *D, lisp_Value text) {
    D->src = text;
}

lisp_Value bt_def_source(const bt_Def *D) {
    return D->src;
}

int bt_def_nodes(const bt_Def *D) {
    return D->n;
}

const char *bt_def_nodename(const bt_Def *D, int node) {
    return lisp_str(lisp_vecitems(D->names)[node], NULL);
}
