/*
** lisp_obj.c -- Lisp object constructors, accessors, equality and hashing,
** and the map (hash table) implementation.  See LICENSE for copyright.
**
** Invariants:
** - Every constructor allocates through lispC_newobj (which may collect
**   before the new object exists), initialises the object completely, and
**   pushes it on the value stack before any further allocation.
** - Vec and map payload arrays are C-heap blocks owned by their object and
**   counted in the Lisp heap ('gcbytes') through lispC_growblock.
** - Map keys compare with eqv semantics, except strings, which compare by
**   content; the hash of a symbol is the hash of its name, so iteration
**   order is the same from run to run.
*/
#include "conf.h"

#include <string.h>

#include "lisp_obj.h"
#include "sbuf.h"

/* Resize a payload block counted in the Lisp heap; collects once when the
** allocator refuses (the host's limit, mem.h), then raises ERRMEM. */
static void *growblock(lisp_State *S, void *p, size_t osize, size_t nsize) {
    void *q = mem_realloc(S->M, p, osize, nsize);
    if (q == NULL) {
        lispC_limitgc(S);
        q = mem_realloc(S->M, p, osize, nsize);
        if (q == NULL) {
            lisp_memerror(S);
        }
    }
    S->gcbytes += nsize - osize;
    return q;
}

size_t lispO_size(const lisp_Object *o) {
    switch (o->type) {
        case LISP_TSTRING: return sizeof(lisp_String) + ((const lisp_String *)o)->len + 1;
        case LISP_TSYMBOL: return sizeof(lisp_Symbol) + ((const lisp_Symbol *)o)->len + 1;
        case LISP_TCONS: return sizeof(lisp_Cons);
        case LISP_TPRIM: return sizeof(lisp_Prim);
        case LISP_TCLOSURE: return sizeof(lisp_Closure);
        case LISP_TVEC: return sizeof(lisp_Vec);
        case LISP_TMAP: return sizeof(lisp_Map);
        case LISP_TRNG: return sizeof(lisp_Rng);
        case LISP_TPQ: return sizeof(lisp_Pq);
        case LISP_TUDATA: return sizeof(lisp_Udata) + ((const lisp_Udata *)o)->size;
        case LISP_TPROTO: return sizeof(lisp_Proto);
        case LISP_TENV: return sizeof(lisp_Env) + sizeof(lisp_Value) * ((const lisp_Env *)o)->n;
        default: return 0;
    }
}

void lispO_free(lisp_State *S, lisp_Object *o) {
    size_t sz = lispO_size(o);
    switch (o->type) {
        case LISP_TVEC: {
            lisp_Vec *v = (lisp_Vec *)o;
            mem_free(S->M, v->items, sizeof(lisp_Value) * (size_t)v->cap);
            S->gcbytes -= sizeof(lisp_Value) * (size_t)v->cap;
            break;
        }
        case LISP_TMAP: {
            lisp_Map *m = (lisp_Map *)o;
            mem_free(S->M, m->e, sizeof(lisp_MapEntry) * (size_t)m->cap);
            S->gcbytes -= sizeof(lisp_MapEntry) * (size_t)m->cap;
            break;
        }
        case LISP_TPQ: {
            lisp_Pq *q = (lisp_Pq *)o;
            mem_free(S->M, q->e, sizeof(lisp_PqEntry) * (size_t)q->cap);
            S->gcbytes -= sizeof(lisp_PqEntry) * (size_t)q->cap;
            break;
        }
        case LISP_TUDATA: {
            lisp_Udata *u = (lisp_Udata *)o;
            if (u->t->free) {
                u->t->free(S, u->data);
            }
            break;
        }
        case LISP_TPROTO: lispK_freecode(S, (lisp_Proto *)o); break;
        case LISP_TPRIM:
            if (((lisp_Prim *)o)->ud > 0 && S->primfree) {
                S->primfree(S, ((lisp_Prim *)o)->ud);
            }
            break;
        default: break;
    }
    lispC_freeblock(S, o, sz);
    S->gcbytes -= sz;
    S->nobjects--;
    S->freed_objects++;
}

/* ---- constructors ---- */

lisp_Value lisp_string(lisp_State *S, const char *s, size_t n) {
    lisp_String *str = (lisp_String *)lispC_newobj(S, LISP_TSTRING, sizeof(lisp_String) + n + 1);
    lisp_Value v;
    str->len = n;
    if (n) {
        if (s) {
            memcpy(str->data, s, n);
        } else {
            memset(str->data, 0, n); /* caller fills it in */
        }
    }
    str->data[n] = '\0';
    v = lisp_obj(&str->h, LISP_TSTRING);
    lispE_push(S, v);
    return v;
}

lisp_Value lisp_cstring(lisp_State *S, const char *s) {
    return lisp_string(S, s, strlen(s));
}

lisp_Value lisp_intern(lisp_State *S, const char *s, size_t n) {
    lisp_Value v = lisp_obj(&lispS_intern(S, s, n)->h, LISP_TSYMBOL);
    lispE_push(S, v);
    return v;
}

lisp_Value lisp_cintern(lisp_State *S, const char *s) {
    return lisp_intern(S, s, strlen(s));
}

lisp_Value lisp_cons(lisp_State *S, lisp_Value car, lisp_Value cdr) {
    lisp_Cons *c;
    lisp_Value v;
    /* root both halves across the allocation */
    lispE_push(S, car);
    lispE_push(S, cdr);
    c = (lisp_Cons *)lispC_newobj(S, LISP_TCONS, sizeof(lisp_Cons));
    c->car = car;
    c->cdr = cdr;
    S->top -= 2;
    v = lisp_obj(&c->h, LISP_TCONS);
    lispE_push(S, v);
    return v;
}

lisp_Value lisp_vec(lisp_State *S, int64_t cap) {
    lisp_Vec *vec = (lisp_Vec *)lispC_newobj(S, LISP_TVEC, sizeof(lisp_Vec));
    lisp_Value v;
    vec->items = NULL;
    vec->len = vec->cap = 0;
    vec->gcpos = 0;
    v = lisp_obj(&vec->h, LISP_TVEC);
    lispE_push(S, v);
    if (cap > 0) {
        lispO_growvec(S, vec, cap);
    }
    return v;
}

/* Make room for 'need' items; raises ERRMEM. */
int lispO_growvec(lisp_State *S, lisp_Vec *v, int64_t need) {
    int64_t ncap;
    if (need <= v->cap) {
        return 0;
    }
    if (need > ((int64_t)1 << 40)) {
        lisp_memerror(S);
    }
    ncap = v->cap ? v->cap : 4;
    while (ncap < need) {
        ncap *= 2;
    }
    v->items = growblock(S, v->items, sizeof(lisp_Value) * (size_t)v->cap,
                         sizeof(lisp_Value) * (size_t)ncap);
    v->cap = ncap;
    return 0;
}

void lisp_vecpush(lisp_State *S, lisp_Value vec, lisp_Value x) {
    lisp_Vec *v = AS(lisp_Vec, vec);
    if (v->len == v->cap) {
        lispE_push(S, x); /* root across a collection */
        lispO_growvec(S, v, v->len + 1);
        S->top--;
    }
    v->items[v->len++] = x;
    lispC_barrier(S, &v->h, x);
}

lisp_Value lisp_map(lisp_State *S, int64_t cap) {
    lisp_Map *m = (lisp_Map *)lispC_newobj(S, LISP_TMAP, sizeof(lisp_Map));
    lisp_Value v;
    (void)cap;
    m->e = NULL;
    m->cap = m->count = m->used = m->gcpos = 0;
    v = lisp_obj(&m->h, LISP_TMAP);
    lispE_push(S, v);
    return v;
}

lisp_Value lispO_newpq(lisp_State *S, int64_t cap) {
    lisp_Pq *q = (lisp_Pq *)lispC_newobj(S, LISP_TPQ, sizeof(lisp_Pq));
    lisp_Value v;
    q->e = NULL;
    q->len = q->cap = q->gcpos = 0;
    q->nextseq = 0;
    v = lisp_obj(&q->h, LISP_TPQ);
    lispE_push(S, v);
    if (cap > 0) {
        lispO_growpq(S, q, cap);
    }
    return v;
}

void lispO_growpq(lisp_State *S, lisp_Pq *q, int64_t need) {
    int64_t ncap;
    if (need <= q->cap) {
        return;
    }
    if (need > ((int64_t)1 << 36)) {
        lisp_memerror(S);
    }
    ncap = q->cap ? q->cap : 4;
    while (ncap < need) {
        ncap *= 2;
    }
    q->e = growblock(S, q->e, sizeof(lisp_PqEntry) * (size_t)q->cap,
                     sizeof(lisp_PqEntry) * (size_t)ncap);
    q->cap = ncap;
}

lisp_Value lispO_newrng(lisp_State *S, uint64_t seed) {
    lisp_Rng *r = (lisp_Rng *)lispC_newobj(S, LISP_TRNG, sizeof(lisp_Rng));
    lisp_Value v;
    rng_seed(&r->st, seed);
    v = lisp_obj(&r->h, LISP_TRNG);
    lispE_push(S, v);
    return v;
}

void *lisp_newudata(lisp_State *S, const lisp_UType *t, size_t size, lisp_Value *out) {
    lisp_Udata *u = (lisp_Udata *)lispC_newobj(S, LISP_TUDATA, sizeof(lisp_Udata) + size);
    u->t = t;
    u->id = ++S->nextid;
    u->size = size;
    memset(u->data, 0, size);
    *out = lisp_obj(&u->h, LISP_TUDATA);
    lispE_push(S, *out);
    return u->data;
}

lisp_Value lisp_newprim(lisp_State *S, const char *name, int min, int max, lisp_CFunction fn,
                        int64_t ud) {
    lisp_Value nm = lisp_cstring(S, name);
    lisp_Prim *p = (lisp_Prim *)lispC_newobj(S, LISP_TPRIM, sizeof(lisp_Prim));
    lisp_Value v;
    p->fn = fn;
    p->nameobj = nm.u.o;
    p->name = AS(lisp_String, nm)->data;
    p->min = (int16_t)min;
    p->max = (int16_t)max;
    p->ud = ud;
    v = lisp_obj(&p->h, LISP_TPRIM);
    S->top[-1] = v; /* replaces the name (now held by the prim): push one value */
    return v;
}

lisp_Value lispO_newclosure(lisp_State *S, lisp_Proto *p, lisp_Env *env) {
    lisp_Closure *c;
    lisp_Value v;
    /* 'p' and 'env' are reachable from the running frame */
    c = (lisp_Closure *)lispC_newobj(S, LISP_TCLOSURE, sizeof(lisp_Closure));
    c->p = p;
    c->env = env;
    v = lisp_obj(&c->h, LISP_TCLOSURE);
    lispE_push(S, v);
    return v;
}

lisp_Env *lispO_newenv(lisp_State *S, int n, lisp_Env *parent) {
    lisp_Env *e = (lisp_Env *)lispC_newobj(S, LISP_TENV,
                                           sizeof(lisp_Env) + sizeof(lisp_Value) * (size_t)n);
    int i;
    e->parent = parent;
    e->n = n;
    for (i = 0; i < n; i++) {
        e->v[i] = lisp_nil();
    }
    lispE_push(S, lisp_obj(&e->h, LISP_TENV));
    return e;
}

lisp_Proto *lispO_newproto(lisp_State *S) {
    lisp_Proto *p = (lisp_Proto *)lispC_newobj(S, LISP_TPROTO, sizeof(lisp_Proto));
    memset((char *)p + sizeof(lisp_Object), 0, sizeof(lisp_Proto) - sizeof(lisp_Object));
    lispE_push(S, lisp_obj(&p->h, LISP_TPROTO));
    return p;
}

/* ---- accessors ---- */

const char *lisp_str(lisp_Value v, size_t *len) {
    if (v.tag == LISP_TSTRING) {
        if (len) {
            *len = AS(lisp_String, v)->len;
        }
        return AS(lisp_String, v)->data;
    }
    if (v.tag == LISP_TSYMBOL) {
        if (len) {
            *len = AS(lisp_Symbol, v)->len;
        }
        return AS(lisp_Symbol, v)->name;
    }
    return NULL;
}

lisp_Value lisp_car(lisp_Value v) {
    return v.tag == LISP_TCONS ? AS(lisp_Cons, v)->car : lisp_nil();
}

lisp_Value lisp_cdr(lisp_Value v) {
    return v.tag == LISP_TCONS ? AS(lisp_Cons, v)->cdr : lisp_nil();
}

void lisp_setcar(lisp_State *S, lisp_Value c, lisp_Value v) {
    AS(lisp_Cons, c)->car = v;
    lispC_barrier(S, c.u.o, v);
}

void lisp_setcdr(lisp_State *S, lisp_Value c, lisp_Value v) {
    AS(lisp_Cons, c)->cdr = v;
    lispC_barrier(S, c.u.o, v);
}

void lisp_vecset(lisp_State *S, lisp_Value vec, int64_t i, lisp_Value x) {
    AS(lisp_Vec, vec)->items[i] = x;
    lispC_barrier(S, vec.u.o, x);
}

int64_t lisp_veclen(lisp_Value v) {
    return AS(lisp_Vec, v)->len;
}

lisp_Value *lisp_vecitems(lisp_Value v) {
    return AS(lisp_Vec, v)->items;
}

void *lisp_udata(lisp_Value v) {
    return AS(lisp_Udata, v)->data;
}

int64_t lisp_udataid(lisp_Value v) {
    return AS(lisp_Udata, v)->id;
}

int lisp_isudata(lisp_Value v, const lisp_UType *t) {
    return v.tag == LISP_TUDATA && AS(lisp_Udata, v)->t == t;
}

int64_t lisp_primud(lisp_Value prim) {
    return AS(lisp_Prim, prim)->ud;
}

const char *lisp_primname(lisp_Value prim) {
    return AS(lisp_Prim, prim)->name;
}

const char *lisp_typename(lisp_Value v) {
    static const char *const names[] = {"nil",     "boolean", "integer", "float",
                                        "string",  "symbol",  "list",    "primitive",
                                        "closure", "vec",     "map",     "rng",
                                        "pq",      "udata",   "proto",   "env"};
    if (v.tag == LISP_TUDATA) {
        return AS(lisp_Udata, v)->t->name;
    }
    return v.tag < LISP_NTYPES ? names[v.tag] : "?";
}

int64_t lisp_listlen(lisp_Value v) {
    int64_t n = 0;
    lisp_Value slow = v;
    while (v.tag == LISP_TCONS) {
        n++;
        v = AS(lisp_Cons, v)->cdr;
        if ((n & 1) == 0) {
            slow = AS(lisp_Cons, slow)->cdr;
            if (v.tag == LISP_TCONS && v.u.o == slow.u.o) {
                return -1; /* cyclic */
            }
        }
    }
    return v.tag == LISP_TNIL ? n : -1;
}

/* ---- equality and hashing ---- */

int lisp_eq(lisp_Value a, lisp_Value b) {
    if (a.tag != b.tag) {
        return 0;
    }
    switch (a.tag) {
        case LISP_TNIL: return 1;
        case LISP_TBOOL: return a.u.b == b.u.b;
        case LISP_TINT: return a.u.i == b.u.i;
        case LISP_TFLOAT: return a.u.f == b.u.f;
        default: return a.u.o == b.u.o;
    }
}

/* The equality of 'eq?': lisp_eq, except that an integer and a float are
** compared by value as doubles, as muesli-bt does ('(eq? 2 2.0)' is #t).
** Map keys and equal? keep lisp_eq, where 2 and 2.0 differ. */
int lisp_eqp(lisp_Value a, lisp_Value b) {
    if (a.tag == LISP_TINT && b.tag == LISP_TFLOAT) {
        return (double)a.u.i == b.u.f;
    }
    if (a.tag == LISP_TFLOAT && b.tag == LISP_TINT) {
        return a.u.f == (double)b.u.i;
    }
    return lisp_eq(a, b);
}

/* eqv plus string contents: the key equality of maps */
static int keyeq(lisp_Value a, lisp_Value b) {
    if (a.tag == LISP_TSTRING && b.tag == LISP_TSTRING) {
        lisp_String *x = AS(lisp_String, a), *y = AS(lisp_String, b);
        return x->len == y->len && memcmp(x->data, y->data, x->len) == 0;
    }
    return lisp_eq(a, b);
}

/* equal? walks both values in step.  Two bounds keep it safe on any input:
** - depth: every branch (cons car, vec item, map value) counts one level
**   and the walk raises 'equal?: structure nested too deeply' past
**   LISPBT_EQUAL_MAXDEPTH, so a vec or map that contains itself, or 200000
**   nested vecs, end cleanly instead of overflowing the C stack;
** - sharing: pairs of objects already found equal are remembered in a small
**   direct-mapped cache (EQCACHE entries, on the C stack: no allocation),
**   and a pair found there is equal without a second walk.  Two values
**   built by doubling (x = (cons x x), 40 times) therefore compare in
**   linear time, not 2^40 steps.  The cache only ever skips work whose
**   result is known, so the answer never depends on it. */
#define EQCACHE 256

typedef struct EqCtx {
    lisp_State *S;
    const void *a[EQCACHE], *b[EQCACHE];
} EqCtx;

static unsigned eqslot(const void *a, const void *b) {
    uint64_t h = (uint64_t)(uintptr_t)a * 0x9e3779b97f4a7c15u ^ (uint64_t)(uintptr_t)b;
    return (unsigned)(hash64_mix(h) % EQCACHE);
}

static int eqknown(EqCtx *E, lisp_Value a, lisp_Value b) {
    unsigned i = eqslot(a.u.o, b.u.o);
    return E->a[i] == a.u.o && E->b[i] == b.u.o;
}

static void eqremember(EqCtx *E, lisp_Value a, lisp_Value b) {
    unsigned i = eqslot(a.u.o, b.u.o);
    E->a[i] = a.u.o;
    E->b[i] = b.u.o;
}

static int equalrec(EqCtx *E, lisp_Value a, lisp_Value b, int depth) {
    lisp_Value a0 = a, b0 = b;
    if (depth > LISPBT_EQUAL_MAXDEPTH) {
        lisp_error(E->S, "equal?: structure nested too deeply");
    }
    for (;;) {
        if (a.tag != b.tag) {
            return 0;
        }
        switch (a.tag) {
            case LISP_TSTRING:
                if (!keyeq(a, b)) {
                    return 0;
                }
                goto equal;
            case LISP_TCONS:
                if (a.u.o == b.u.o || eqknown(E, a, b)) {
                    goto equal;
                }
                if (!equalrec(E, AS(lisp_Cons, a)->car, AS(lisp_Cons, b)->car, depth + 1)) {
                    return 0;
                }
                a = AS(lisp_Cons, a)->cdr;
                b = AS(lisp_Cons, b)->cdr;
                continue;
            case LISP_TVEC: {
                lisp_Vec *x = AS(lisp_Vec, a), *y = AS(lisp_Vec, b);
                int64_t i;
                if (x == y || eqknown(E, a, b)) {
                    goto equal;
                }
                if (x->len != y->len) {
                    return 0;
                }
                for (i = 0; i < x->len; i++) {
                    if (!equalrec(E, x->items[i], y->items[i], depth + 1)) {
                        return 0;
                    }
                }
                goto equal;
            }
            case LISP_TMAP: {
                lisp_Map *x = AS(lisp_Map, a);
                int64_t it = 0;
                lisp_Value k, v, w;
                if (a.u.o == b.u.o || eqknown(E, a, b)) {
                    goto equal;
                }
                if (x->count != AS(lisp_Map, b)->count) {
                    return 0;
                }
                while (lisp_mapnext(a, &it, &k, &v)) {
                    if (!lisp_mapget(b, k, &w) || !equalrec(E, v, w, depth + 1)) {
                        return 0;
                    }
                }
                goto equal;
            }
            default:
                if (!lisp_eq(a, b)) {
                    return 0;
                }
                goto equal; /* also the end of a list: remember its head */
        }
    }
equal:
    if ((a0.tag == LISP_TCONS || a0.tag == LISP_TVEC || a0.tag == LISP_TMAP) && a0.u.o != b0.u.o) {
        eqremember(E, a0, b0);
    }
    return 1;
}

int lisp_equal(lisp_State *S, lisp_Value a, lisp_Value b) {
    EqCtx E;
    memset(&E, 0, sizeof E);
    E.S = S;
    return equalrec(&E, a, b, 0);
}

uint64_t lisp_hash(lisp_Value v) {
    uint64_t h;
    switch (v.tag) {
        case LISP_TNIL: h = 0x51; break;
        case LISP_TBOOL: h = 0x77 + (uint64_t)v.u.b; break;
        case LISP_TINT: h = hash64_mix((uint64_t)v.u.i); break;
        case LISP_TFLOAT: {
            uint64_t bits;
            double f = v.u.f == 0.0 ? 0.0 : v.u.f; /* -0.0 == 0.0 */
            memcpy(&bits, &f, sizeof bits);
            h = hash64_mix(bits ^ 0xf10a7);
            break;
        }
        case LISP_TSTRING: h = hash64(AS(lisp_String, v)->data, AS(lisp_String, v)->len); break;
        case LISP_TSYMBOL: h = AS(lisp_Symbol, v)->hash ^ 0x5e; break;
        default: h = hash64_mix((uint64_t)(uintptr_t)v.u.o); break;
    }
    return h < 2 ? h + 2 : h; /* 0 and 1 mark empty/deleted slots */
}

/* ---- maps: open addressing, linear probing ---- */

static lisp_MapEntry *findslot(lisp_Map *m, lisp_Value key, uint64_t h) {
    uint64_t mask = (uint64_t)m->cap - 1, i = h & mask;
    lisp_MapEntry *tomb = NULL;
    for (;;) {
        lisp_MapEntry *e = &m->e[i];
        if (e->hash == 0) {
            return tomb ? tomb : e;
        }
        if (e->hash == 1) {
            if (!tomb) {
                tomb = e;
            }
        } else if (e->hash == h && keyeq(e->key, key)) {
            return e;
        }
        i = (i + 1) & mask;
    }
}

int lisp_mapget(lisp_Value map, lisp_Value key, lisp_Value *out) {
    lisp_Map *m = AS(lisp_Map, map);
    lisp_MapEntry *e;
    uint64_t h;
    if (m->count == 0) {
        return 0;
    }
    h = lisp_hash(key);
    e = findslot(m, key, h);
    if (e->hash == h && keyeq(e->key, key)) {
        *out = e->val;
        return 1;
    }
    return 0;
}

int lisp_mapgetstr(lisp_Value map, const char *s, size_t n, lisp_Value *out) {
    lisp_Map *m = AS(lisp_Map, map);
    uint64_t h, mask, i;
    if (m->count == 0) {
        return 0;
    }
    h = hash64(s, n);
    h = h < 2 ? h + 2 : h; /* as lisp_hash */
    mask = (uint64_t)m->cap - 1;
    for (i = h & mask;; i = (i + 1) & mask) {
        lisp_MapEntry *e = &m->e[i];
        if (e->hash == 0) {
            return 0;
        }
        if (e->hash == h && e->key.tag == LISP_TSTRING && AS(lisp_String, e->key)->len == n &&
            memcmp(AS(lisp_String, e->key)->data, s, n) == 0) {
            *out = e->val;
            return 1;
        }
    }
}

static void rehash(lisp_State *S, lisp_Map *m, int64_t ncap) {
    lisp_MapEntry *old = m->e;
    int64_t ocap = m->cap, i;
    lisp_MapEntry *ne = growblock(S, NULL, 0, sizeof(lisp_MapEntry) * (size_t)ncap);
    memset(ne, 0, sizeof(lisp_MapEntry) * (size_t)ncap);
    m->e = ne;
    m->cap = ncap;
    m->used = m->count;
    m->gcpos = 0; /* entries move: a traversal in progress starts again */
    for (i = 0; i < ocap; i++) {
        if (old[i].hash >= 2) {
            *findslot(m, old[i].key, old[i].hash) = old[i];
        }
    }
    if (old) {
        mem_free(S->M, old, sizeof(lisp_MapEntry) * (size_t)ocap);
        S->gcbytes -= sizeof(lisp_MapEntry) * (size_t)ocap;
    }
}

void lisp_mapset(lisp_State *S, lisp_Value map, lisp_Value key, lisp_Value val) {
    lisp_Map *m = AS(lisp_Map, map);
    lisp_MapEntry *e;
    uint64_t h = lisp_hash(key);
    if ((m->used + 1) * 4 > m->cap * 3) {
        int64_t ncap = m->cap ? m->cap : 8;
        while ((m->count + 1) * 4 > ncap * 3 / 2) {
            ncap *= 2;
        }
        lispE_push(S, key); /* root key and value across the collection */
        lispE_push(S, val);
        rehash(S, m, ncap);
        S->top -= 2;
    }
    e = findslot(m, key, h);
    lispC_barrier(S, &m->h, val);
    if (e->hash >= 2) {
        e->val = val;
        return;
    }
    if (e->hash == 0) {
        m->used++;
    }
    e->hash = h;
    e->key = key;
    e->val = val;
    lispC_barrier(S, &m->h, key);
    m->count++;
}

void lisp_mapsetstr(lisp_State *S, lisp_Value map, const char *key, lisp_Value v) {
    lisp_Value *top = S->top;
    lispE_push(S, v); /* rooted while the key string is made */
    lisp_mapset(S, map, lisp_cstring(S, key), v);
    S->top = top;
}

int lispO_mapdel(lisp_Value map, lisp_Value key) {
    lisp_Map *m = AS(lisp_Map, map);
    lisp_MapEntry *e;
    uint64_t h;
    if (m->count == 0) {
        return 0;
    }
    h = lisp_hash(key);
    e = findslot(m, key, h);
    if (e->hash == h && keyeq(e->key, key)) {
        e->hash = 1;
        e->key = e->val = lisp_nil();
        m->count--;
        return 1;
    }
    return 0;
}

int lisp_mapnext(lisp_Value map, int64_t *it, lisp_Value *key, lisp_Value *val) {
    lisp_Map *m = AS(lisp_Map, map);
    while (*it < m->cap) {
        lisp_MapEntry *e = &m->e[(*it)++];
        if (e->hash >= 2) {
            *key = e->key;
            *val = e->val;
            return 1;
        }
    }
    return 0;
}

int64_t lisp_mapcount(lisp_Value map) {
    return AS(lisp_Map, map)->count;
}
