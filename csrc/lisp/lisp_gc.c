/*
** lisp_gc.c -- precise, non-moving mark/sweep collector.
** See LICENSE for copyright.
**
** Roots: the value stack (stack..top), bound and fixed symbols, the pin
** table, the well-known primitives cached in the state, and whatever the
** host marks through its mark hook (registered callbacks, instances).
**
** Marking uses an explicit gray stack, never C recursion, so arbitrarily
** deep structures are safe.  If the gray stack cannot grow (out of memory),
** marking records an overflow, and after draining rescans the heap for
** marked objects to traverse again until no overflow remains.
**
** When: lispC_newobj collects before allocating when the Lisp heap passes
** 'threshold' (then set to twice the live size, at least GC_MINTHRESHOLD),
** at every allocation under gc_stress, and when the allocator refuses
** (the host's heap_limit, which the mem_Heap applies to every C allocation
** of the host, or a failed malloc): then ERRMEM if a full collection did not
** make room.  Because
** every allocation may collect, constructors push their results (lisp.h).
**
** Policy (lisp.h, gc.set-policy!).  Only 'autogc' -- the threshold and
** gc_stress trigger -- and the two entries of the other collections
** (lispC_limitgc, lisp_gc) look at the policy; lispC_fullgc itself never
** does, so the collector's own correctness does not depend on it.  Under
** MANUAL and BETWEEN-inside-a-tick the threshold stays passed, so every
** later allocation comes back to 'autogc': one compare and a call, a cost
** only those policies pay.
*/
#include "conf.h"

#include <string.h>

#include "lisp_obj.h"

#define GC_MINTHRESHOLD ((size_t)256 * 1024)

static void graypush(lisp_State *S, lisp_Object *o) {
    if (S->ngray == S->capgray) {
        size_t ncap = S->capgray ? S->capgray * 2 : 256;
        lisp_Object **ng = mem_realloc(S->M, S->gray, sizeof(*ng) * S->capgray, sizeof(*ng) * ncap);
        if (ng == NULL) {
            S->grayoverflow = 1; /* 'o' is marked; the rescan will find it */
            return;
        }
        S->gray = ng;
        S->capgray = ncap;
    }
    S->gray[S->ngray++] = o;
}

void lispC_markobj(lisp_State *S, lisp_Object *o) {
    if (o == NULL || o->marked) {
        return;
    }
    o->marked = 1;
    switch (o->type) {
        case LISP_TSTRING:
        case LISP_TRNG: return; /* no children */
        default: graypush(S, o);
    }
}

void lispC_mark(lisp_State *S, lisp_Value v) {
    if (isheap(v)) {
        lispC_markobj(S, v.u.o);
    }
}

void lisp_markvalue(lisp_State *S, lisp_Value v) {
    lispC_mark(S, v);
}

static void traverse(lisp_State *S, lisp_Object *o) {
    int64_t i;
    switch (o->type) {
        case LISP_TSYMBOL: {
            lisp_Symbol *s = (lisp_Symbol *)o;
            if (s->value.tag != LISP_TUNBOUND) {
                lispC_mark(S, s->value);
            }
            break;
        }
        case LISP_TCONS:
            lispC_mark(S, ((lisp_Cons *)o)->car);
            lispC_mark(S, ((lisp_Cons *)o)->cdr);
            break;
        case LISP_TPRIM: lispC_markobj(S, ((lisp_Prim *)o)->nameobj); break;
        case LISP_TCLOSURE:
            lispC_markobj(S, &((lisp_Closure *)o)->p->h);
            if (((lisp_Closure *)o)->env) {
                lispC_markobj(S, &((lisp_Closure *)o)->env->h);
            }
            break;
        case LISP_TVEC: {
            lisp_Vec *v = (lisp_Vec *)o;
            for (i = 0; i < v->len; i++) {
                lispC_mark(S, v->items[i]);
            }
            break;
        }
        case LISP_TMAP: {
            lisp_Map *m = (lisp_Map *)o;
            for (i = 0; i < m->cap; i++) {
                if (m->e[i].hash >= 2) {
                    lispC_mark(S, m->e[i].key);
                    lispC_mark(S, m->e[i].val);
                }
            }
            break;
        }
        case LISP_TPQ: {
            lisp_Pq *q = (lisp_Pq *)o;
            for (i = 0; i < q->len; i++) {
                lispC_mark(S, q->e[i].val);
            }
            break;
        }
        case LISP_TUDATA: {
            lisp_Udata *u = (lisp_Udata *)o;
            if (u->t->mark) {
                u->t->mark(S, u->data);
            }
            break;
        }
        case LISP_TPROTO: {
            lisp_Proto *p = (lisp_Proto *)o;
            for (i = 0; i < p->nk; i++) {
                lispC_mark(S, p->k[i]);
            }
            lispC_markobj(S, p->name);
            lispC_markobj(S, p->chunk);
            break;
        }
        case LISP_TENV: {
            lisp_Env *e = (lisp_Env *)o;
            if (e->parent) {
                lispC_markobj(S, &e->parent->h);
            }
            for (i = 0; i < e->n; i++) {
                lispC_mark(S, e->v[i]);
            }
            break;
        }
        default: break;
    }
}

static void drain(lisp_State *S) {
    while (S->ngray > 0) {
        traverse(S, S->gray[--S->ngray]);
    }
}

static void markroots(lisp_State *S) {
    lisp_Value *v;
    int i;
    for (v = S->stack; v < S->top; v++) {
        lispC_mark(S, *v);
    }
    for (i = 0; i < S->npins; i++) {
        lispC_mark(S, S->pins[i]);
    }
    lispS_markbound(S);
    for (i = 0; i < LISPP_N; i++) {
        lispC_mark(S, S->prim[i]);
    }
    if (S->markhook) {
        S->markhook(S, S->markud);
    }
}

static void sweep(lisp_State *S) {
    lisp_Object **p = &S->allgc;
    while (*p) {
        lisp_Object *o = *p;
        if (!o->marked) {
            *p = o->next;
            lispO_free(S, o);
        } else {
            o->marked = 0;
            p = &o->next;
        }
    }
    lispS_sweep(S);
}

void lisp_setgchook(lisp_State *S, void (*f)(void *ud, const lisp_GcEvent *e), void *ud) {
    S->gchook = f;
    S->gchookud = ud;
}

void lispC_fullgc(lisp_State *S) {
    int64_t t0, t1 = 0;
    lisp_GcEvent ev;
    if (S->gc_running) {
        return;
    }
    S->gc_running = 1;
    t0 = lispbt_now_ns();
    if (S->gchook) {
        memset(&ev, 0, sizeof ev);
        ev.id = S->collections + 1;
        ev.reason = S->gcreason ? S->gcreason : "threshold";
        ev.policy = lisp_gcpolicynames[S->gcpolicy];
        ev.forced = S->gcreason != NULL && strcmp(S->gcreason, "explicit") == 0;
        ev.in_tick = S->ticks > 0;
        ev.bytes_before = (int64_t)S->gcbytes;
        ev.objects_before = (int64_t)S->nobjects;
        S->gchook(S->gchookud, &ev);
    }
    S->grayoverflow = 0;
    markroots(S);
    drain(S);
    while (S->grayoverflow) { /* recover: traverse every marked object again */
        lisp_Object *o;
        size_t i;
        S->grayoverflow = 0;
        for (o = S->allgc; o; o = o->next) {
            if (o->marked) {
                traverse(S, o);
                drain(S);
            }
        }
        for (i = 0; i < S->symcap; i++) {
            lisp_Symbol *s;
            for (s = S->symtab[i]; s; s = s->hnext) {
                if (s->h.marked) {
                    traverse(S, &s->h);
                    drain(S);
                }
            }
        }
    }
    t1 = lispbt_now_ns();
    sweep(S);
    S->live_after_gc = S->nobjects;
    S->threshold = S->gcbytes * 2;
    if (S->threshold < GC_MINTHRESHOLD) {
        S->threshold = GC_MINTHRESHOLD;
    }
    S->collections++;
    S->pause_last = lispbt_now_ns() - t0;
    S->pause_total += S->pause_last;
    if (S->pause_last > S->pause_max) {
        S->pause_max = S->pause_last;
    }
    hist_record(&S->pauses, S->pause_last);
    if (S->gchook) {
        ev.phase = 1;
        ev.bytes_after = (int64_t)S->gcbytes;
        ev.objects_after = (int64_t)S->nobjects;
        ev.freed = ev.objects_before - ev.objects_after;
        ev.mark_ns = t1 - t0;
        ev.sweep_ns = S->pause_last - ev.mark_ns;
        ev.pause_ns = S->pause_last;
        S->gchook(S->gchookud, &ev);
    }
    S->gcreason = NULL;
    S->gc_running = 0;
}

const char *const lisp_gcpolicynames[LISP_GCNPOLICIES] = {"default", "between-ticks", "manual",
                                                          "fail-on-tick-gc"};

/* The threshold (or gc_stress) says collect: ask the policy. */
static void autogc(lisp_State *S) {
    switch (S->gcpolicy) {
        case LISP_GCMANUAL: return;
        case LISP_GCBETWEEN:
            if (S->ticks > 0) {
                S->gcpending = 1;
                return;
            }
            break;
        case LISP_GCFAILTICK:
            if (S->ticks > 0) {
                lisp_error(S, "gc: collection requested during tick under fail-on-tick-gc policy");
            }
            break;
        default: break;
    }
    lispC_fullgc(S);
}

void lispC_limitgc(lisp_State *S) {
    if (S->gcpolicy == LISP_GCFAILTICK && S->ticks > 0 && !S->gc_running) {
        lisp_error(S, "gc: collection requested during tick under fail-on-tick-gc policy");
    }
    if (!S->gc_running) {
        S->gcreason = "heap_limit";
    }
    lispC_fullgc(S);
}

int lisp_gcpolicy(lisp_State *S) {
    return S->gcpolicy;
}

void lisp_setgcpolicy(lisp_State *S, int p) {
    S->gcpolicy = p;
    if (p != LISP_GCBETWEEN) {
        S->gcpending = 0;
    }
}

void lisp_tickbegin(lisp_State *S) {
    S->ticks++;
}

void lisp_tickend(lisp_State *S) {
    if (S->ticks > 0 && --S->ticks == 0 && S->gcpending) {
        S->gcpending = 0;
        if (S->gcpolicy == LISP_GCBETWEEN) {
            S->gcreason = "between_ticks";
            lispC_fullgc(S);
        }
    }
}

lisp_Object *lispC_newobj(lisp_State *S, int type, size_t size) {
    lisp_Object *o;
    if (lispbt_unlikely(S->gc_stress || S->gcbytes + size > S->threshold)) {
        autogc(S);
    }
    o = mem_alloc(S->M, size); /* refused past the host's limit (mem.h) */
    if (lispbt_unlikely(o == NULL)) {
        lispC_limitgc(S);
        o = mem_alloc(S->M, size);
        if (o == NULL) {
            lisp_memerror(S);
        }
    }
    o->type = (uint8_t)type;
    o->marked = 0;
    o->col = 0;
    o->line = 0;
    if (type != LISP_TSYMBOL) {
        o->next = S->allgc;
        S->allgc = o;
    } else {
        o->next = NULL;
    }
    S->gcbytes += size;
    S->nobjects++;
    S->total_objects++;
    return o;
}

void *lispC_realloc(lisp_State *S, void *p, size_t osize, size_t nsize) {
    void *q = mem_realloc(S->M, p, osize, nsize);
    if (lispbt_unlikely(q == NULL) && nsize > 0 && !S->gc_running) {
        lispC_limitgc(S); /* the limit counts Lisp garbage too */
        q = mem_realloc(S->M, p, osize, nsize);
    }
    return q;
}

void lispC_freeall(lisp_State *S) {
    lisp_Object *o = S->allgc;
    while (o) {
        lisp_Object *n = o->next;
        lispO_free(S, o);
        o = n;
    }
    S->allgc = NULL;
    lispS_free(S);
    mem_free(S->M, S->gray, sizeof(lisp_Object *) * S->capgray);
    S->gray = NULL;
}

const hist_Hist *lisp_gchist(lisp_State *S) {
    return &S->pauses;
}

uint64_t lisp_objcount(lisp_State *S) {
    return S->total_objects;
}

int64_t lisp_gctime(lisp_State *S) {
    return S->pause_total;
}

int lisp_gc(lisp_State *S) {
    if (S->gcpolicy == LISP_GCFAILTICK && S->ticks > 0) {
        return -1;
    }
    S->gcpending = 0;
    if (!S->gc_running) {
        S->gcreason = "explicit";
        S->forced_collections++;
    }
    lispC_fullgc(S);
    return 0;
}

void lisp_heapstats(lisp_State *S, lisp_HeapStats *out) {
    memset(out, 0, sizeof *out);
    out->total_allocated_objects = S->total_objects;
    out->live_objects_after_last_gc = S->live_after_gc;
    out->live_objects = S->nobjects;
    out->bytes_allocated = S->gcbytes;
    out->next_gc_threshold = S->threshold;
    out->collections = S->collections;
    out->forced_collections = S->forced_collections;
    out->gc_last_pause_ns = S->pause_last;
    out->gc_max_pause_ns = S->pause_max;
    out->gc_total_pause_ns = S->pause_total;
    out->freed_objects = S->freed_objects;
    out->heap_limit = S->M->limit;
    out->max_depth = S->max_depth;
}

/* ---- pins ---- */

int lisp_pin(lisp_State *S, lisp_Value v) {
    int h;
    if (S->pinfree >= 0) {
        h = S->pinfree;
        S->pinfree = (int)S->pins[h].u.i;
    } else {
        if (S->npins == S->cappins) {
            int ncap = S->cappins ? S->cappins * 2 : 64;
            lisp_Value *np = mem_realloc(S->M, S->pins, sizeof(lisp_Value) * (size_t)S->cappins,
                                         sizeof(lisp_Value) * (size_t)ncap);
            if (np == NULL) {
                return -1;
            }
            S->pins = np;
            S->cappins = ncap;
        }
        h = S->npins++;
    }
    S->pins[h] = v;
    return h;
}

lisp_Value lisp_pinned(lisp_State *S, int h) {
    return S->pins[h];
}

void lisp_unpin(lisp_State *S, int h) {
    /* a free slot holds nil-tagged link so marking skips it */
    S->pins[h].tag = LISP_TNIL;
    S->pins[h].u.i = S->pinfree;
    S->pinfree = h;
}

/* ---- verification (tests) ---- */

int lisp_verify(lisp_State *S) {
    lisp_Object *o;
    uint64_t n = 0;
    size_t i;
    for (o = S->allgc; o; o = o->next) {
        if (o->marked || o->type < LISP_TSTRING || o->type >= LISP_NTYPES ||
            o->type == LISP_TSYMBOL) {
            return -1;
        }
        n++;
    }
    for (i = 0; i < S->symcap; i++) {
        lisp_Symbol *s;
        for (s = S->symtab[i]; s; s = s->hnext) {
            if (s->h.marked || s->h.type != LISP_TSYMBOL) {
                return -2;
            }
            n++;
        }
    }
    return n == S->nobjects ? 0 : -3;
}
