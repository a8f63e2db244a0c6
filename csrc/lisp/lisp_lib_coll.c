/*
** lisp_lib_coll.c -- vec and map builtins.  See LICENSE for copyright.
**
** vec: a growable array of values; indices are 0-based integers and out of
** range indices raise.  map: a hash table whose keys compare with eqv
** semantics (strings by content); map.keys order is the table order, which
** is the same from run to run for the same insertions.  pq: a min-priority
** queue of (priority, value) entries; priorities are finite numbers kept
** as doubles, and entries of equal priority leave in insertion order (the
** heap orders on (priority, insertion number), so the order is total and
** the same from run to run).
*/
#include "conf.h"

#include <math.h>
#include <stdint.h>

#include "lisp_obj.h"

static lisp_Vec *checkvec(lisp_State *S, lisp_Value *argv, int i) {
    if (argv[i].tag != LISP_TVEC) {
        lisp_argerror(S, argv, i, "expected a vec");
    }
    return AS(lisp_Vec, argv[i]);
}

/* A vec's size or capacity: VEC_MAXLEN items at most. */
#define VEC_MAXLEN ((int64_t)1 << 32)
/* The most slots '(vec.make cap)' reserves up front: cap is a hint. */
#define VEC_MAXHINT ((int64_t)65536)

static int64_t checkindex(lisp_State *S, lisp_Value *argv, int i, int64_t len) {
    if (len == 0) {
        lisp_argerror(S, argv, i, "INDEX is out of range: the vec is empty");
    }
    return lisp_checkintrange(S, argv, i, "INDEX", LISP_INTONLY, 0, len - 1);
}

static lisp_Value cfun_vec_make(lisp_State *S, int argc, lisp_Value *argv) {
    int64_t n = 0, i;
    lisp_Value v, fill = argc > 1 ? argv[1] : lisp_nil();
    if (argc > 0) {
        n = lisp_checkintrange(S, argv, 0, "N", LISP_INTONLY, 0, VEC_MAXLEN);
    }
    if (argc < 2) {
        /* muesli-bt: '(vec.make n)' is an empty vec with capacity 'n', a
           hint only, so a huge one reserves at most VEC_MAXHINT slots. */
        return lisp_vec(S, n < VEC_MAXHINT ? n : VEC_MAXHINT);
    }
    v = lisp_vec(S, n);
    for (i = 0; i < n; i++) {
        lisp_vecitems(v)[i] = fill;
    }
    AS(lisp_Vec, v)->len = n;
    lispC_barrier(S, v.u.o, fill); /* the growth may have run a step */
    return v;
}

static lisp_Value cfun_vec_len(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    return lisp_int(checkvec(S, argv, 0)->len);
}

static lisp_Value cfun_vec_get(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Vec *v = checkvec(S, argv, 0);
    (void)argc;
    return v->items[checkindex(S, argv, 1, v->len)];
}

static lisp_Value cfun_vec_set(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Vec *v = checkvec(S, argv, 0);
    (void)argc;
    v->items[checkindex(S, argv, 1, v->len)] = argv[2];
    lispC_barrier(S, &v->h, argv[2]);
    return argv[2]; /* muesli-bt: the value stored */
}

static lisp_Value cfun_vec_push(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    checkvec(S, argv, 0);
    lisp_vecpush(S, argv[0], argv[1]);
    /* muesli-bt: the new element's 0-based index */
    return lisp_int(AS(lisp_Vec, argv[0])->len - 1);
}

static lisp_Value cfun_vec_pop(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Vec *v = checkvec(S, argv, 0);
    lisp_Value x;
    (void)argc;
    if (v->len == 0) {
        lisp_argerror(S, argv, 0, "expected a non-empty vec");
    }
    x = v->items[--v->len];
    v->items[v->len] = lisp_nil();
    return x;
}

static lisp_Value cfun_vec_clear(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Vec *v = checkvec(S, argv, 0);
    (void)argc;
    v->len = 0; /* capacity kept: refilling does not allocate */
    return lisp_nil();
}

static lisp_Value cfun_vec_reserve(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Vec *v = checkvec(S, argv, 0);
    int64_t n = lisp_checkintrange(S, argv, 1, "N", LISP_INTONLY, 0, VEC_MAXLEN);
    (void)argc;
    lispO_growvec(S, v, n);
    return lisp_nil();
}

static void checkmap(lisp_State *S, lisp_Value *argv, int i) {
    if (argv[i].tag != LISP_TMAP) {
        lisp_argerror(S, argv, i, "expected a map");
    }
}

/* As muesli-bt, the builtins take keys of four types only: a symbol, a
** string, an integer or a float that is not NaN (-0.0 is the key 0.0).
** (Maps built elsewhere, by the reader or from Lua tables, may hold others.) */
static void checkkey(lisp_State *S, lisp_Value *argv, int i) {
    switch (argv[i].tag) {
        case LISP_TSYMBOL:
        case LISP_TSTRING:
        case LISP_TINT: return;
        case LISP_TFLOAT:
            if (argv[i].u.f != argv[i].u.f) {
                lisp_error(S, "%s: float keys must not be NaN", lisp_fname(argv));
            }
            if (argv[i].u.f == 0.0) {
                argv[i].u.f = 0.0;
            }
            return;
        default: lisp_argerror(S, argv, i, "expected a symbol, string, integer or float key");
    }
}

static lisp_Value cfun_map_make(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Value m;
    int i;
    if (argc % 2 != 0) {
        lisp_error(S, "map.make: expected key/value pairs, got %d arguments", argc);
    }
    for (i = 0; i < argc; i += 2) {
        checkkey(S, argv, i);
    }
    m = lisp_map(S, argc / 2);
    for (i = 0; i < argc; i += 2) {
        lisp_mapset(S, m, argv[i], argv[i + 1]);
    }
    return m;
}

static lisp_Value cfun_map_get(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Value v;
    checkmap(S, argv, 0);
    checkkey(S, argv, 1);
    if (lisp_mapget(argv[0], argv[1], &v)) {
        return v;
    }
    return argc > 2 ? argv[2] : lisp_nil();
}

static lisp_Value cfun_map_has(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Value v;
    (void)argc;
    checkmap(S, argv, 0);
    checkkey(S, argv, 1);
    return lisp_bool(lisp_mapget(argv[0], argv[1], &v));
}

static lisp_Value cfun_map_set(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    checkmap(S, argv, 0);
    checkkey(S, argv, 1);
    lisp_mapset(S, argv[0], argv[1], argv[2]);
    return argv[2]; /* muesli-bt: the value stored */
}

static lisp_Value cfun_map_del(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    checkmap(S, argv, 0);
    checkkey(S, argv, 1);
    return lisp_bool(lispO_mapdel(argv[0], argv[1]));
}

static lisp_Value cfun_map_keys(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Value k, v, acc = lisp_nil();
    int64_t it = 0;
    int base;
    (void)argc;
    checkmap(S, argv, 0);
    lisp_push(S, lisp_nil());
    base = lisp_gettop(S);
    /* collect in table order, then reverse in place by consing backwards */
    while (lisp_mapnext(argv[0], &it, &k, &v)) {
        acc = lisp_cons(S, k, acc);
        *lisp_at(S, base - 1) = acc;
        lisp_settop(S, base);
    }
    {
        lisp_Value prev = lisp_nil(), cur = acc;
        while (cur.tag == LISP_TCONS) {
            lisp_Value next = lisp_cdr(cur);
            lisp_setcdr(S, cur, prev);
            prev = cur;
            cur = next;
        }
        return prev;
    }
}

static lisp_Value cfun_map_count(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    checkmap(S, argv, 0);
    return lisp_int(lisp_mapcount(argv[0]));
}

/* ---- pq ---- */

/* pq.make's capacity is a hint: reserving beyond this is left to growth,
** so a huge hint cannot take the heap on its own. */
#define PQ_MAXRESERVE ((int64_t)1 << 16)

static lisp_Pq *checkpq(lisp_State *S, lisp_Value *argv, int i) {
    if (argv[i].tag != LISP_TPQ) {
        lisp_argerror(S, argv, i, "expected a pq");
    }
    return AS(lisp_Pq, argv[i]);
}

/* Does entry a leave before entry b? */
static int pqless(const lisp_PqEntry *a, const lisp_PqEntry *b) {
    return a->prio < b->prio || (a->prio == b->prio && a->seq < b->seq);
}

static lisp_Value cfun_pq_make(lisp_State *S, int argc, lisp_Value *argv) {
    int64_t cap = 0;
    if (argc > 0) {
        cap = lisp_checkint(S, argv, 0);
        if (cap < 0) {
            lisp_argerror(S, argv, 0, "expected a non-negative capacity");
        }
    }
    return lispO_newpq(S, cap < PQ_MAXRESERVE ? cap : PQ_MAXRESERVE);
}

static lisp_Value cfun_pq_len(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    return lisp_int(checkpq(S, argv, 0)->len);
}

static lisp_Value cfun_pq_emptyp(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    return lisp_bool(checkpq(S, argv, 0)->len == 0);
}

static lisp_Value cfun_pq_push(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Pq *q = checkpq(S, argv, 0);
    double prio = lisp_checknumber(S, argv, 1);
    lisp_PqEntry x;
    int64_t i;
    (void)argc;
    if (!isfinite(prio)) {
        lisp_argerror(S, argv, 1, "priority must be finite");
    }
    if (q->nextseq == UINT64_MAX) {
        lisp_error(S, "pq.push!: insertion sequence overflow");
    }
    lispO_growpq(S, q, q->len + 1); /* argv[2] is rooted by the call */
    x.prio = prio;
    x.seq = q->nextseq++;
    x.val = argv[2];
    for (i = q->len++; i > 0; ) { /* sift up */
        int64_t parent = (i - 1) / 2;
        if (!pqless(&x, &q->e[parent])) {
            break;
        }
        q->e[i] = q->e[parent];
        i = parent;
    }
    q->e[i] = x;
    /* the sift moved entries to higher places only: one the collector has
    ** not reached (at or past its cursor, gcpos) stays past it */
    lispC_barrier(S, &q->h, x.val);
    return lisp_int(q->len);
}

/* (priority value) of the first entry, as a new list (pushed). */
static lisp_Value pqtop(lisp_State *S, lisp_Value *argv) {
    lisp_Pq *q = checkpq(S, argv, 0);
    lisp_Value tail;
    if (q->len == 0) {
        lisp_error(S, "%s: priority queue is empty", lisp_fname(argv));
    }
    tail = lisp_cons(S, q->e[0].val, lisp_nil());
    return lisp_cons(S, lisp_float(q->e[0].prio), tail);
}

static lisp_Value cfun_pq_peek(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    return pqtop(S, argv);
}

static lisp_Value cfun_pq_pop(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Value top = pqtop(S, argv); /* built first: the entry stays rooted by the queue */
    lisp_Pq *q = AS(lisp_Pq, argv[0]);
    lisp_PqEntry x = q->e[--q->len];
    int64_t i = 0;
    (void)argc;
    for (;;) { /* sift the last entry down from the root */
        int64_t c = 2 * i + 1;
        if (c >= q->len) {
            break;
        }
        if (c + 1 < q->len && pqless(&q->e[c + 1], &q->e[c])) {
            c++;
        }
        if (!pqless(&q->e[c], &x)) {
            break;
        }
        q->e[i] = q->e[c];
        /* moved up, maybe before the collector's cursor (gcpos) */
        lispC_barrier(S, &q->h, q->e[i].val);
        i = c;
    }
    if (q->len > 0) {
        q->e[i] = x;
        lispC_barrier(S, &q->h, x.val);
    }
    q->e[q->len].val = lisp_nil(); /* no stale reference past the end */
    return top;
}

const lisp_Reg lisp_lib_coll[] = {
    {"vec.make", 0, 2, cfun_vec_make, 0, "(vec.make [cap]) -> empty vec; (vec.make n fill) -> vec of n fills"},
    {"vec.len", 1, 1, cfun_vec_len, 0, "(vec.len v) -> element count"},
    {"vec.get", 2, 2, cfun_vec_get, 0, "(vec.get v i) -> element i"},
    {"vec.set!", 3, 3, cfun_vec_set, 0, "(vec.set! v i x) -> x"},
    {"vec.push!", 2, 2, cfun_vec_push, 0, "(vec.push! v x) -> index of x; appends"},
    {"vec.pop!", 1, 1, cfun_vec_pop, 0, "(vec.pop! v) -> removed last element"},
    {"vec.clear!", 1, 1, cfun_vec_clear, 0, "(vec.clear! v) -> nil; keeps capacity"},
    {"vec.reserve!", 2, 2, cfun_vec_reserve, 0, "(vec.reserve! v n) -> nil; capacity >= n"},
    {"map.make", 0, LISP_VARARG, cfun_map_make, 0, "(map.make [k v ...]) -> new map"},
    {"map.get", 2, 3, cfun_map_get, 0, "(map.get m k [default]) -> value or default/nil"},
    {"map.has?", 2, 2, cfun_map_has, 0, "(map.has? m k) -> #t if k is present"},
    {"map.set!", 3, 3, cfun_map_set, 0, "(map.set! m k v) -> v"},
    {"map.del!", 2, 2, cfun_map_del, 0, "(map.del! m k) -> #t if k was present"},
    {"map.keys", 1, 1, cfun_map_keys, 0, "(map.keys m) -> list of keys"},
    {"map.count", 1, 1, cfun_map_count, 0, "(map.count m) -> number of entries"},
    {"pq.make", 0, 1, cfun_pq_make, 0, "(pq.make [capacity]) -> new empty min-priority queue"},
    {"pq.push!", 3, 3, cfun_pq_push, 0, "(pq.push! q priority x) -> size after the push"},
    {"pq.pop!", 1, 1, cfun_pq_pop, 0, "(pq.pop! q) -> (priority x) of the least entry, removed"},
    {"pq.peek", 1, 1, cfun_pq_peek, 0, "(pq.peek q) -> (priority x) of the least entry"},
    {"pq.len", 1, 1, cfun_pq_len, 0, "(pq.len q) -> number of entries"},
    {"pq.empty?", 1, 1, cfun_pq_emptyp, 0, "(pq.empty? q) -> #t when q has no entries"},
    {NULL, 0, 0, NULL, 0, NULL}};
