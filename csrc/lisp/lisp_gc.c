/*
** lisp_gc.c -- precise, non-moving, incremental mark/sweep collector.
** See LICENSE for copyright.
**
** Roots: the value stack (stack..top), bound and fixed symbols, the pin
** table, the well-known primitives cached in the state, and whatever the
** host marks through its mark hook (registered callbacks, instances).
** Every object but the symbols is on one of LISP_GCLISTS 'allgc' lists:
** the udata on list 0, newest first, swept and freed before the others (a
** udata's free may read an older object: a BT instance reads its tree),
** every other object dealt round-robin over the rest; the symbols are in
** the intern table (lisp_sym.c).
**
** Colours (lisp_obj.h).  Tri-colour marking with two whites, as in Lua
** 5.4's lgc.c (whose design this follows; the code is our own): white
** objects are not reached yet, gray ones wait on the gray stack, black ones
** are traversed.  New objects get the current white.  When marking ends
** the whites swap, so everything still of the old white is garbage, and
** the sweep frees it while objects made meanwhile (new white) live.
**
** A cycle: GCSpause -> GCSpropagate (roots, then the gray stack) ->
** atomic -> GCSsweep -> GCSpause.  The start marks the value stack, the
** primitives and the host's mark hook; the roots that grow with the
** program, the pins and the bound symbols, are scanned a chunk per step
** (markrootstep, which argues why a root scanned late is safe), and
** marking cannot end before they are.  Propagate and sweep run in steps
** between mutator work.  When the gray stack runs empty, the value stack
** is marked again and propagation goes on (remarkstack, at most
** LISPBT_GC_REMARKS rounds), so what the program built on its stack
** meanwhile is traversed in steps.  The atomic part then runs in one step:
** it marks the value stack, primitives and the host's mark hook again,
** re-traverses the udata traversed while marking whose type has no barrier
** (their C contents change unseen: compiled trees, few), drains and swaps
** the whites; it looks at no symbol, no pin and no BT instance.  So the
** stores that need a barrier are the stores into heap objects: cons
** fields, vec items, map and pq entries, env slots, proto constants
** (lispC_barrier, lisp_obj.h: a forward barrier that marks the stored
** value when the object is not white), global values (lispS_setvalue:
** marks the symbol and the value), pins (lisp_pin marks the value) and
** the contents of udata whose type sets 'barrier' (lisp_udatabarrier: BT
** instances).  A vec, map or
** pq is traversed at most LISPBT_GC_VECCHUNK slots at a time (chunkend);
** it stays gray in between, which is why the barrier tests "not white"
** rather than "black".  Entries that move across the cursor are covered:
** a map rehash restarts its traversal, pq.pop!'s sift has a barrier per
** entry it moves up.  The sweep takes the udata list, then one object of
** each other allgc list in turn (their cache misses overlap), then the
** intern table a few buckets at a time.
**
** Pacing.  lispC_newobj calls the collector when gcbytes passes
** 'threshold'.  In GCSpause the threshold is 'gcpause' (LISPBT_GC_PAUSE %
** of the heap the last cycle left, at least LISPBT_GC_MINTHRESHOLD): a cycle
** starts.  As in Lua 5.4 (pause 200 %), a cycle's work is about the heap
** it sweeps, and the next cycle waits for as much allocation as the live
** heap, so the work per allocated byte stays bounded; the minimum spreads
** a cycle's fixed cost (the roots, the intern table) over at least ~1 MiB
** of allocation when little is live.  During a cycle each step of LISPBT_GC_STEPWORK units of work
** (one value slot traversed, or half an object swept) pays for
** LISPBT_GC_STEPBYTES of allocation ('gcpaid'), and the threshold is
** 'gcpaid': an automatic step does the work the allocation since the last
** one owes (a grown vec payload counts), but at most two steps' worth, so
** a pause stays bounded and a collector behind catches up over the next
** allocations.  gc.step's work counts too.  A step is a
** pause: it is timed, counted and recorded in the pause histogram, and the
** GC hook sees it begin and end.  lispC_fullgc (explicit collections,
** heap_limit, gc_stress) finishes a running sweep, or abandons a running
** mark (whitening every object), then runs a whole cycle in one pause.
**
** Marking uses an explicit gray stack, never C recursion, so arbitrarily
** deep structures are safe.  If the gray stack cannot grow (out of memory),
** marking records an overflow, and the atomic part rescans the heap for
** gray objects to traverse until no overflow remains.
**
** Small blocks.  Freed objects of 8..64 bytes (conses, closures, small
** envs) are kept on per-size free lists, LISPBT_GC_CACHEBYTES at most, and
** reused by lispC_newobj in the order they were freed (FIFO: the next
** sweep then meets them in address order rather than scattered): the mem_Heap still charges them to heap_limit, so
** the collection before a refused allocation returns them (dropcache).
** Builds with AddressSanitizer keep no cache, so a use after free is seen.
**
** Policy (lisp.h, gc.set-policy!).  Only 'autogc' -- the threshold and
** gc_stress trigger -- and the entries of the other collections
** (lispC_limitgc, lisp_gc, lisp_gcstep) look at the policy; the collector
** itself never does, so its correctness does not depend on it.  Under
** MANUAL and BETWEEN-inside-a-tick the threshold stays passed, so every
** later allocation comes back to 'autogc': one compare and a call, a cost
** only those policies pay.
**
** gc_stress (lisp_Opts): 1 runs a full collection at every allocation (a
** value held in C across an allocation without being pushed is freed at
** once); 2 runs a tiny step (LISPBT_GC_STRESSWORK units) at every
** allocation and starts cycles back to back, so marking is almost always
** in progress and every store that misses its barrier loses an object.
*/
#include "conf.h"

#include <string.h>

#include "lisp_obj.h"

#if defined(__SANITIZE_ADDRESS__)
#define GC_NOCACHE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GC_NOCACHE 1
#endif
#endif
#ifndef GC_NOCACHE
#define GC_NOCACHE 0
#endif

#define otherwhite(S) ((uint8_t)((S)->curwhite ^ LISP_WHITES))

/* The work of one root marked by the root scan (markrootstep): its object
** is a cache miss, like a swept object (two units), and most roots are
** pushed on the gray stack. */
#define GC_ROOTWORK 3

static void graypush(lisp_State *S, lisp_Object *o) {
    if (S->ngray == S->capgray) {
        size_t ncap = S->capgray ? S->capgray * 2 : 256;
        lisp_Object **ng = mem_realloc(S->M, S->gray, sizeof(*ng) * S->capgray, sizeof(*ng) * ncap);
        if (ng == NULL) {
            S->grayoverflow = 1; /* 'o' is gray; the atomic rescan finds it */
            return;
        }
        S->gray = ng;
        S->capgray = ncap;
    }
    S->gray[S->ngray++] = o;
}

void lispC_markobj(lisp_State *S, lisp_Object *o) {
    if (o == NULL || !iswhite(o)) {
        return;
    }
    switch (o->type) {
        case LISP_TSTRING:
        case LISP_TRNG: o->marked = LISP_BLACK; return; /* no children */
        default: o->marked = 0; graypush(S, o);
    }
}

void lispC_mark(lisp_State *S, lisp_Value v) {
    if (isheap(v)) {
        lispC_markobj(S, v.u.o);
    }
}

void lisp_markvalue(lisp_State *S, lisp_Value v) {
    if (lispbt_unlikely(S->gcverify)) { /* lisp_verify asks: does the udata hold a white value? */
        if (isheap(v) && iswhite(v.u.o)) {
            S->gcverify = 2;
        }
        return;
    }
    lispC_mark(S, v);
}

void lispC_barrierslow(lisp_State *S, lisp_Object *o, lisp_Object *v) {
    if (!iswhite(o) && iswhite(v)) {
        lispC_markobj(S, v);
    }
}

void lisp_udatabarrier(lisp_State *S, void *p, lisp_Value v) {
    if (S->gcmarking && isheap(v)) {
        lisp_Udata *u = (lisp_Udata *)(void *)((char *)p - offsetof(lisp_Udata, data));
        lispC_barrierslow(S, &u->h, v.u.o);
    }
}

/* The end of the next chunk of a vec, map or pq 'o' of 'len' slots whose
** traversal is at 'pos': the whole rest in the atomic step; otherwise at
** most LISPBT_GC_VECCHUNK slots, and 'o' goes back on the gray stack when
** slots remain. */
static int64_t chunkend(lisp_State *S, lisp_Object *o, int64_t pos, int64_t len) {
    int64_t to = pos + LISPBT_GC_VECCHUNK;
    if (to >= len) {
        return len;
    }
    if (S->gcstate != GCSpropagate) {
        return len; /* atomic: all at once */
    }
    o->marked = 0; /* gray again: the rest in a later turn */
    graypush(S, o);
    return to;
}

/* Traverse gray 'o': mark its children and blacken it (a long vec, map or
** pq only advances by one chunk and goes back on the gray stack).  Returns
** the work done. */
static int64_t traverse(lisp_State *S, lisp_Object *o) {
    int64_t i, work = 1;
    o->marked = LISP_BLACK;
    switch (o->type) {
        case LISP_TSYMBOL: {
            lisp_Symbol *s = (lisp_Symbol *)o;
            if (s->value.tag != LISP_TUNBOUND) {
                lispC_mark(S, s->value);
                work++; /* one slot, as a cons's two */
            }
            break;
        }
        case LISP_TCONS:
            lispC_mark(S, ((lisp_Cons *)o)->car);
            lispC_mark(S, ((lisp_Cons *)o)->cdr);
            work += 2;
            break;
        case LISP_TPRIM: lispC_markobj(S, ((lisp_Prim *)o)->nameobj); break;
        case LISP_TCLOSURE:
            lispC_markobj(S, &((lisp_Closure *)o)->p->h);
            if (((lisp_Closure *)o)->env) {
                lispC_markobj(S, &((lisp_Closure *)o)->env->h);
            }
            work += 2;
            break;
        case LISP_TVEC: {
            lisp_Vec *v = (lisp_Vec *)o;
            int64_t to = chunkend(S, o, v->gcpos, v->len);
            for (i = v->gcpos; i < to; i++) {
                lispC_mark(S, v->items[i]);
            }
            work += to > v->gcpos ? to - v->gcpos : 0;
            v->gcpos = to < v->len ? to : 0;
            break;
        }
        case LISP_TMAP: { /* a rehash sets gcpos back to 0 (lisp_obj.c) */
            lisp_Map *m = (lisp_Map *)o;
            int64_t to = chunkend(S, o, m->gcpos, m->cap);
            for (i = m->gcpos; i < to; i++) {
                if (m->e[i].hash >= 2) {
                    lispC_mark(S, m->e[i].key);
                    lispC_mark(S, m->e[i].val);
                }
            }
            work += to > m->gcpos ? to - m->gcpos : 0;
            m->gcpos = to < m->cap ? to : 0;
            break;
        }
        case LISP_TPQ: { /* pq.pop!'s sift has a barrier per moved entry */
            lisp_Pq *q = (lisp_Pq *)o;
            int64_t to = chunkend(S, o, q->gcpos, q->len);
            for (i = q->gcpos; i < to; i++) {
                lispC_mark(S, q->e[i].val);
            }
            work += to > q->gcpos ? to - q->gcpos : 0;
            q->gcpos = to < q->len ? to : 0;
            break;
        }
        case LISP_TUDATA: {
            lisp_Udata *u = (lisp_Udata *)o;
            if (u->t->mark) {
                u->t->mark(S, u->data);
                work += 16;
            }
            if (S->gcstate == GCSpropagate && !u->t->barrier) { /* its C contents have no barrier */
                if (S->ngrayagain == S->capgrayagain) {
                    size_t ncap = S->capgrayagain ? S->capgrayagain * 2 : 64;
                    lisp_Object **ng = mem_realloc(S->M, S->grayagain,
                                                   sizeof(*ng) * S->capgrayagain,
                                                   sizeof(*ng) * ncap);
                    if (ng == NULL) {
                        o->marked = 0; /* the atomic rescan finds it */
                        S->grayoverflow = 1;
                        break;
                    }
                    S->grayagain = ng;
                    S->capgrayagain = ncap;
                }
                S->grayagain[S->ngrayagain++] = o;
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
            work += p->nk;
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
            work += e->n;
            break;
        }
        default: break;
    }
    return work;
}

/* Traverse gray objects until the stack is empty or 'work' is spent;
** returns the work left (<= 0 when spent). */
static int64_t propagate(lisp_State *S, int64_t work) {
    while (S->ngray > 0 && work > 0) {
        work -= traverse(S, S->gray[--S->ngray]);
    }
    return work;
}

static void drain(lisp_State *S) {
    while (S->ngray > 0) {
        traverse(S, S->gray[--S->ngray]);
    }
}

/* Mark the roots that are marked whole, at the start of a cycle and again
** in the atomic step: the value stack, the primitives, and the host's mark
** hook (its roots -- the BT registry's maps and leaf names -- are few and
** held in C without a barrier).  The pins and the bound symbols, which
** grow with the program, are scanned in steps instead (markrootstep). */
static void markroots(lisp_State *S) {
    lisp_Value *v;
    int i;
    for (v = S->stack; v < S->top; v++) {
        lispC_mark(S, *v);
    }
    for (i = 0; i < LISPP_N; i++) {
        lispC_mark(S, S->prim[i]);
    }
    if (S->markhook) {
        S->markhook(S, S->markud);
    }
}

/* Scan the roots that grow with the program, from the cursor
** (S->gcroots, S->gcrootpos) for up to 'work' units: the pins, then the
** intern table's bound and fixed symbols, a bucket at a time (a root
** costs GC_ROOTWORK units, a bucket one).  Returns
** the work left; S->gcroots == GCRDONE when the scan is over, and only
** then may marking end (lispC_step).
**
** Why a root scanned late is safe: the collector is incremental-update
** (Dijkstra), not snapshot-at-the-beginning.  A root not scanned yet is
** as good as gray: it will be scanned before marking ends, and whatever
** it holds then is marked.  A value the mutator takes out of it meanwhile
** and stores somewhere else is covered where it lands: a traversed heap
** object's barrier (lispC_barrier), a global's (lispS_setvalue, which
** marks the symbol and the value whichever bucket it is in), a pin's
** (lisp_pin marks the value), a barrier-typed udata's (lisp_udatabarrier),
** or the value stack, the host's roots and the other udata, which the
** atomic step scans again.  A root scanned already that gets a new value
** is covered by the same barriers.  So nothing reachable from the roots
** at the end of marking can stay white, and, unlike a snapshot barrier,
** the old value overwritten in a global is not kept alive for the cycle.
** A resize of the intern table (it only doubles) moves no symbol of a
** bucket not scanned yet behind the cursor (lisp_sym.c resize). */
static int64_t markrootstep(lisp_State *S, int64_t work) {
    if (S->gcroots == GCRPINS) {
        size_t n = (size_t)S->npins;
        while (S->gcrootpos < n && work > 0) {
            lispC_mark(S, S->pins[S->gcrootpos++]);
            work -= GC_ROOTWORK;
        }
        if (S->gcrootpos < n) {
            return work;
        }
        S->gcroots = GCRSYMS;
        S->gcrootpos = 0;
    }
    if (S->gcroots == GCRSYMS) {
        work = lispS_markbound(S, work);
        if (S->gcrootpos < S->symcap) {
            return work;
        }
        S->gcroots = GCRDONE;
    }
    return work;
}

/* The gray stack could not grow: traverse every gray object again until
** none is left. */
static void recoveroverflow(lisp_State *S) {
    while (S->grayoverflow) {
        lisp_Object *o;
        size_t i;
        int k;
        S->grayoverflow = 0;
        for (k = 0; k < LISP_GCLISTS; k++) {
            for (o = S->allgc[k]; o; o = o->next) {
                if (o->marked == 0) {
                    traverse(S, o);
                    drain(S);
                }
            }
        }
        for (i = 0; i < S->symcap; i++) {
            lisp_Symbol *s;
            for (s = S->symtab[i]; s; s = s->hnext) {
                if (s->h.marked == 0) {
                    traverse(S, &s->h);
                    drain(S);
                }
            }
        }
    }
}

/* The gray stack ran empty while marking: mark the value stack again
** (the pins have a barrier), so what the mutator built on it since the
** cycle began is traversed in steps now rather than all in the atomic step
** (a list of a million conses built while marking would otherwise be one
** long pause).
** Returns the work done; the caller propagates again if this grayed
** anything.  Each round has less to do (the steps outpace allocation), and
** after LISPBT_GC_REMARKS rounds the atomic step takes what is left. */
static int64_t remarkstack(lisp_State *S) {
    lisp_Value *v;
    S->gcremarks++;
    for (v = S->stack; v < S->top; v++) {
        lispC_mark(S, *v);
    }
    return 1 + (int64_t)(S->top - S->stack);
}

static void startcycle(lisp_State *S) {
    S->gcremarks = 0;
    S->ngray = 0;
    S->ngrayagain = 0;
    S->grayoverflow = 0;
    S->cycle_objects0 = S->nobjects;
    S->cycle_mark_ns = S->cycle_sweep_ns = 0;
    S->gcstate = GCSpropagate;
    S->gcmarking = 1;
    S->gcroots = GCRPINS;
    S->gcrootpos = 0;
    markroots(S);
}

/* The end of marking, in one piece.  Returns the work done. */
static int64_t atomic(lisp_State *S) {
    size_t i, n;
    S->gcstate = GCSsweep; /* traverse: no more grayagain, vecs whole */
    S->gcmarking = 0;
    markroots(S);
    drain(S);
    n = S->ngrayagain;
    for (i = 0; i < n; i++) {
        traverse(S, S->grayagain[i]);
        drain(S);
    }
    S->ngrayagain = 0;
    recoveroverflow(S);
    S->curwhite = otherwhite(S); /* the old white is dead from here on */
    for (i = 0; i < LISP_GCLISTS; i++) {
        S->sweepgc[i] = &S->allgc[i];
    }
    S->sweepsym = 0; /* the intern table after the lists (sweepstep) */
    return (int64_t)(S->top - S->stack) + (int64_t)n * 16;
}

static void endcycle(lisp_State *S, int count) {
    S->gcstate = GCSpause;
    S->live_after_gc = S->nobjects;
    S->collections += (uint64_t)count;
    S->gcpause = S->gcbytes / 100 * LISPBT_GC_PAUSE;
    if (S->gcpause < LISPBT_GC_MINTHRESHOLD) {
        S->gcpause = LISPBT_GC_MINTHRESHOLD;
    }
}

/* Drop the small-block cache back to the allocator. */
static void dropcache(lisp_State *S) {
    int i;
    for (i = 0; i < LISP_GCCACHE_N; i++) {
        while (S->cache[i]) {
            void *b = S->cache[i];
            S->cache[i] = *(void **)b;
            mem_free(S->M, b, (size_t)i * 8);
        }
    }
    S->cachebytes = 0;
}

static LISPBT_INLINE void freeblock(lisp_State *S, void *b, size_t sz) {
    if (!GC_NOCACHE && sz <= 64 && (sz & 7) == 0 && sz >= sizeof(void *) &&
        S->cachebytes + sz <= LISPBT_GC_CACHEBYTES) {
        *(void **)b = NULL; /* FIFO: reused in the order freed (see lispC_newobj) */
        if (S->cache[sz >> 3] == NULL) {
            S->cache[sz >> 3] = b;
        } else {
            *(void **)S->cachetail[sz >> 3] = b;
        }
        S->cachetail[sz >> 3] = b;
        S->cachebytes += sz;
        return;
    }
    mem_free(S->M, b, sz);
}

void lispC_freeblock(lisp_State *S, void *b, size_t sz) {
    freeblock(S, b, sz);
}

/* Sweep objects for up to 'work' units (two per object); returns the work
** left, and sets *done when the sweep reached the end of 'allgc'. */
static int64_t sweepstep(lisp_State *S, int64_t work, int *done) {
    lisp_Object **p[LISP_GCLISTS];
    uint8_t dead = otherwhite(S), white = S->curwhite;
    int k, left = 1;
    memcpy(p, S->sweepgc, sizeof p);
    /* the udata first, newest first, every other object still there: a
    ** udata's free may read an older object (a BT instance its tree) */
    while (*p[0] && work > 0) {
        lisp_Object *o = *p[0];
        if (o->marked & dead) {
            *p[0] = o->next;
            lispO_free(S, o);
        } else {
            o->marked = white;
            p[0] = &o->next;
        }
        work -= 2;
    }
    if (*p[0]) { /* the work is spent before the udata are done */
        S->sweepgc[0] = p[0];
        *done = 0;
        return work;
    }
    /* then one object of each other list in turn: the lists' next objects
    ** are independent loads, so their cache misses overlap */
    while (left && work > 0) {
        left = 0;
        for (k = 1; k < LISP_GCLISTS; k++) {
            lisp_Object *o = *p[k];
            if (o == NULL) {
                continue;
            }
            left = 1;
            if (o->marked & dead) {
                *p[k] = o->next;
                if (o->type == LISP_TCONS) { /* the common case, inline */
                    freeblock(S, o, sizeof(lisp_Cons));
                    S->gcbytes -= sizeof(lisp_Cons);
                    S->nobjects--;
                    S->freed_objects++;
                } else {
                    lispO_free(S, o);
                }
            } else {
                o->marked = white;
                p[k] = &o->next;
            }
            work -= 2; /* a swept object costs about two traversed slots (a cache miss) */
        }
    }
    memcpy(S->sweepgc, p, sizeof p);
    if (!left) { /* the lists are done: the intern table */
        work = lispS_sweep(S, work);
    }
    *done = !left && S->sweepsym >= S->symcap;
    return work;
}


/* Abandon a running mark: every object white again, nothing freed. */
static void abandonmark(lisp_State *S) {
    lisp_Object *o;
    size_t i;
    int k;
    for (k = 0; k < LISP_GCLISTS; k++) {
        for (o = S->allgc[k]; o; o = o->next) {
            o->marked = S->curwhite;
            if (o->type == LISP_TVEC) {
                ((lisp_Vec *)o)->gcpos = 0;
            } else if (o->type == LISP_TMAP) {
                ((lisp_Map *)o)->gcpos = 0;
            } else if (o->type == LISP_TPQ) {
                ((lisp_Pq *)o)->gcpos = 0;
            }
        }
    }
    for (i = 0; i < S->symcap; i++) {
        lisp_Symbol *s;
        for (s = S->symtab[i]; s; s = s->hnext) {
            s->h.marked = S->curwhite;
        }
    }
    S->ngray = S->ngrayagain = 0;
    S->grayoverflow = 0;
    S->gcmarking = 0;
    S->gcstate = GCSpause;
}

void lisp_setgchook(lisp_State *S, void (*f)(void *ud, const lisp_GcEvent *e), void *ud) {
    S->gchook = f;
    S->gchookud = ud;
}

static const char *const stepnames[] = {"start", "mark", "sweep"};

/* Begin a pause: timing and the hook's begin event. */
static int64_t pausebegin(lisp_State *S, lisp_GcEvent *ev, const char *kind) {
    if (S->gchook) {
        memset(ev, 0, sizeof *ev);
        ev->id = S->steps + 1;
        ev->cycle = S->collections + 1;
        ev->step = kind;
        ev->reason = S->gcreason ? S->gcreason : "threshold";
        ev->policy = lisp_gcpolicynames[S->gcpolicy];
        ev->forced = S->gcreason != NULL && strcmp(S->gcreason, "explicit") == 0;
        ev->in_tick = S->tk.ticks > 0;
        ev->bytes_before = (int64_t)S->gcbytes;
        ev->objects_before = (int64_t)S->nobjects;
        S->gchook(S->gchookud, ev);
    }
    S->pause_cpu0 = lispbt_thread_cpu_ns();
    return lispbt_now_ns();
}

static void pauseend(lisp_State *S, lisp_GcEvent *ev, int64_t t0, int64_t mark_ns, int ended) {
    int64_t d = lispbt_now_ns() - t0, dc = lispbt_thread_cpu_ns() - S->pause_cpu0;
    S->steps++;
    S->pause_cpu_total += dc;
    if (dc > S->pause_cpu_max) {
        S->pause_cpu_max = dc;
    }
    S->pause_last = d;
    S->pause_total += d;
    if (d > S->pause_max) {
        S->pause_max = d;
    }
    hist_record(&S->pauses, d);
    if (S->gchook) {
        ev->phase = 1;
        ev->cycle_end = ended;
        ev->bytes_after = (int64_t)S->gcbytes;
        ev->objects_after = (int64_t)S->nobjects;
        ev->freed = ev->objects_before - ev->objects_after;
        ev->mark_ns = mark_ns;
        ev->sweep_ns = d - mark_ns;
        ev->pause_ns = d;
        S->gchook(S->gchookud, ev);
    }
    S->gcreason = NULL;
}

/* Set the threshold for the next automatic step or cycle, once a step
** did 'work' units: during a cycle they pay for LISPBT_GC_STEPBYTES per
** LISPBT_GC_STEPWORK of allocation from 'gcpaid' on. */
static void setthreshold(lisp_State *S, int64_t work, size_t freed) {
    if (S->gcstate == GCSpause) {
        S->threshold = S->gcpause;
        return;
    }
    /* what the sweep freed lowers the heap and the mark alike */
    S->gcpaid = S->gcpaid > freed ? S->gcpaid - freed : 0;
    S->gcpaid += (size_t)(work / LISPBT_GC_STEPWORK) * LISPBT_GC_STEPBYTES +
                 (size_t)(work % LISPBT_GC_STEPWORK) * LISPBT_GC_STEPBYTES / LISPBT_GC_STEPWORK;
    S->threshold = S->gcpaid; /* below gcbytes: still in debt, step again */
}

int lispC_step(lisp_State *S, int64_t work) {
    lisp_GcEvent ev;
    int64_t t0, tm, mark_ns = 0, budget;
    size_t bytes0 = S->gcbytes;
    int ended = 0;
    if (S->gc_running) {
        return 0;
    }
    S->gc_running = 1;
    t0 = pausebegin(S, &ev, stepnames[S->gcstate == GCSpause ? 0 : S->gcstate == GCSsweep ? 2 : 1]);
    tm = t0;
    if (S->gcstate == GCSpause) {
        startcycle(S);
        S->gcpaid = S->gcbytes;
    }
    budget = work;
    while (work > 0 && !ended) {
        if (S->gcstate == GCSpropagate) {
            if (S->gcroots != GCRDONE) { /* the roots first, a chunk at a time */
                work = markrootstep(S, work);
            }
            work = propagate(S, work);
            if (S->gcroots != GCRDONE) {
                continue; /* the work is spent (or more roots to scan) */
            }
            if (S->ngray == 0 && S->gcremarks < LISPBT_GC_REMARKS) {
                work -= remarkstack(S);
            }
            if (S->ngray == 0) {
                work -= atomic(S);
            }
            if (S->gcstate == GCSsweep) {
                int64_t t = lispbt_now_ns();
                mark_ns = t - t0;
                S->cycle_mark_ns += mark_ns;
                tm = t;
            }
        } else {
            work = sweepstep(S, work, &ended);
            if (ended) {
                endcycle(S, 1);
            }
        }
    }
    if (S->gcstate == GCSpropagate) {
        mark_ns = lispbt_now_ns() - t0;
        S->cycle_mark_ns += mark_ns;
    } else {
        S->cycle_sweep_ns += lispbt_now_ns() - tm;
    }
    setthreshold(S, budget, bytes0 > S->gcbytes ? bytes0 - S->gcbytes : 0);
    pauseend(S, &ev, t0, mark_ns, ended);
    S->gc_running = 0;
    return ended;
}

void lispC_fullgc(lisp_State *S) {
    int64_t t0, t1;
    lisp_GcEvent ev;
    int done;
    if (S->gc_running) {
        return;
    }
    S->gc_running = 1;
    t0 = pausebegin(S, &ev, "full");
    if (S->gcstate == GCSpropagate) {
        abandonmark(S);
    } else if (S->gcstate == GCSsweep) { /* counted with the full cycle below */
        sweepstep(S, INT64_MAX, &done);
        endcycle(S, 0);
    }
    startcycle(S);
    markrootstep(S, INT64_MAX);
    drain(S);
    atomic(S);
    t1 = lispbt_now_ns();
    S->cycle_mark_ns += t1 - t0;
    sweepstep(S, INT64_MAX, &done);
    S->cycle_sweep_ns += lispbt_now_ns() - t1;
    endcycle(S, 1);
    setthreshold(S, 0, 0);
    pauseend(S, &ev, t0, t1 - t0, 1);
    S->gc_running = 0;
}

const char *const lisp_gcpolicynames[LISP_GCNPOLICIES] = {"default", "between-ticks", "manual",
                                                          "fail-on-tick-gc"};

/* The collector's own work when the threshold (or gc_stress) says so. */
static void autowork(lisp_State *S) {
    if (S->gc_stress == 1) {
        lispC_fullgc(S);
    } else if (S->gc_stress == 2) {
        lispC_step(S, LISPBT_GC_STRESSWORK);
    } else { /* the debt since the last step, at most 2 steps' worth */
        size_t debt = S->gcstate == GCSpause || S->gcbytes <= S->gcpaid ? 0 : S->gcbytes - S->gcpaid;
        int64_t work = (int64_t)(debt / LISPBT_GC_STEPBYTES) * LISPBT_GC_STEPWORK;
        lispC_step(S, work < LISPBT_GC_STEPWORK ? LISPBT_GC_STEPWORK
                      : work > 2 * LISPBT_GC_STEPWORK ? 2 * LISPBT_GC_STEPWORK : work);
    }
}

/* The threshold (or gc_stress) says collect: ask the policy. */
static void autogc(lisp_State *S) {
    switch (S->gcpolicy) {
        case LISP_GCMANUAL: return;
        case LISP_GCBETWEEN:
            if (S->tk.ticks > 0) {
                S->tk.gcpending = 1;
                return;
            }
            break;
        case LISP_GCFAILTICK:
            if (S->tk.ticks > 0) {
                lisp_error(S, "gc: collection requested during tick under fail-on-tick-gc policy");
            }
            break;
        default: break;
    }
    autowork(S);
}

void lispC_limitgc(lisp_State *S) {
    if (S->gcpolicy == LISP_GCFAILTICK && S->tk.ticks > 0 && !S->gc_running) {
        lisp_error(S, "gc: collection requested during tick under fail-on-tick-gc policy");
    }
    if (!S->gc_running) {
        S->gcreason = "heap_limit";
    }
    lispC_fullgc(S);
    dropcache(S); /* the cached blocks count against the limit too */
}

int lisp_gcpolicy(lisp_State *S) {
    return S->gcpolicy;
}

void lisp_setgcpolicy(lisp_State *S, int p) {
    S->gcpolicy = p;
    if (p != LISP_GCBETWEEN) {
        S->tk.gcpending = 0;
    }
}

void lisp_tickbegin(lisp_State *S) {
    lisp_tickin(&S->tk);
}

void lisp_tickend(lisp_State *S) {
    lisp_tickout(S, &S->tk);
}

lisp_TickScope *lisp_tickscope(lisp_State *S) {
    return &S->tk;
}

void lisp_tickdue(lisp_State *S) {
    S->tk.gcpending = 0;
    if (S->gcpolicy == LISP_GCBETWEEN) {
        do { /* the steps that fell due in the tick */
            S->gcreason = "between_ticks";
            autowork(S);
        } while (S->gcbytes > S->threshold && S->gc_stress != 1 && !S->gc_running);
    }
}

lisp_Object *lispC_newobj(lisp_State *S, int type, size_t size) {
    lisp_Object *o;
    if (lispbt_unlikely(S->gc_stress || S->gcbytes + size > S->threshold)) {
        autogc(S);
    }
    if (size <= 64 && (size & 7) == 0 && S->cache[size >> 3] != NULL) {
        o = S->cache[size >> 3];
        S->cache[size >> 3] = *(void **)o;
        S->cachebytes -= size;
    } else {
        o = mem_alloc(S->M, size); /* refused past the host's limit (mem.h) */
    }
    if (lispbt_unlikely(o == NULL)) {
        lispC_limitgc(S);
        o = mem_alloc(S->M, size);
        if (o == NULL) {
            lisp_memerror(S);
        }
    }
    o->type = (uint8_t)type;
    o->marked = S->curwhite;
    o->col = 0;
    o->line = 0;
    if (type != LISP_TSYMBOL) {
        /* udata on list 0, freed newest first (instfree reads its tree) */
        unsigned k = type == LISP_TUDATA ? 0 : 1 + (S->allgcnext++ & (LISP_GCLISTS - 2));
        o->next = S->allgc[k];
        S->allgc[k] = o;
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
    int k;
    for (k = 0; k < LISP_GCLISTS; k++) {
        lisp_Object *o = S->allgc[k];
        while (o) {
            lisp_Object *n = o->next;
            lispO_free(S, o);
            o = n;
        }
        S->allgc[k] = NULL;
    }
    lispS_free(S);
    dropcache(S);
    mem_free(S->M, S->gray, sizeof(lisp_Object *) * S->capgray);
    S->gray = NULL;
    mem_free(S->M, S->grayagain, sizeof(lisp_Object *) * S->capgrayagain);
    S->grayagain = NULL;
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
    if (S->gcpolicy == LISP_GCFAILTICK && S->tk.ticks > 0) {
        return -1;
    }
    S->tk.gcpending = 0;
    if (!S->gc_running) {
        S->gcreason = "explicit";
        S->forced_collections++;
    }
    lispC_fullgc(S);
    return 0;
}

int lisp_gcstep(lisp_State *S, int64_t budget_ns) {
    int64_t t0 = lispbt_now_ns();
    int ended = 0;
    if (S->gcpolicy == LISP_GCFAILTICK && S->tk.ticks > 0) {
        return -1;
    }
    do {
        if (!S->gc_running) {
            S->gcreason = "step";
        }
        ended = lispC_step(S, LISPBT_GC_STEPWORK);
    } while (!ended && !S->gc_running && lispbt_now_ns() - t0 < budget_ns);
    return ended;
}

int lisp_gcstepwork(lisp_State *S, int64_t work) {
    if (!S->gc_running) {
        S->gcreason = "step";
    }
    return lispC_step(S, work);
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
    out->gc_max_pause_cpu_ns = S->pause_cpu_max;
    out->gc_total_pause_cpu_ns = S->pause_cpu_total;
    out->gc_total_pause_ns = S->pause_total;
    out->gc_pauses = S->steps;
    out->gc_state = S->gcstate == GCSpause ? "idle" : S->gcstate == GCSsweep ? "sweep" : "mark";
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
    if (S->gcmarking) { /* the barrier: the slot may be scanned already (markrootstep) */
        lispC_mark(S, v);
    }
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

/* Does traversed object 'o' point at a white object?  (Symbols are
** checked by lisp_verify; udata without a barrier are traversed again at
** the end of marking, so they may.) */
static int whitechild(lisp_State *S, const lisp_Object *o) {
    int64_t i;
#define W(v) (isheap(v) && iswhite((v).u.o))
#define WO(p) ((p) != NULL && iswhite(p))
    switch (o->type) {
        case LISP_TUDATA: {
            lisp_Udata *u = (lisp_Udata *)(uintptr_t)o;
            int white;
            if (!u->t->barrier || !u->t->mark) {
                return 0;
            }
            S->gcverify = 1; /* lisp_markvalue only looks */
            u->t->mark(S, u->data);
            white = S->gcverify == 2;
            S->gcverify = 0;
            return white;
        }
        case LISP_TCONS: return W(((const lisp_Cons *)o)->car) || W(((const lisp_Cons *)o)->cdr);
        case LISP_TPRIM: return WO(((const lisp_Prim *)o)->nameobj);
        case LISP_TCLOSURE: {
            const lisp_Closure *c = (const lisp_Closure *)o;
            return WO(&c->p->h) || (c->env != NULL && WO(&c->env->h));
        }
        case LISP_TVEC: {
            const lisp_Vec *v = (const lisp_Vec *)o;
            for (i = 0; i < v->len; i++) {
                if (W(v->items[i])) {
                    return 1;
                }
            }
            return 0;
        }
        case LISP_TMAP: {
            const lisp_Map *m = (const lisp_Map *)o;
            for (i = 0; i < m->cap; i++) {
                if (m->e[i].hash >= 2 && (W(m->e[i].key) || W(m->e[i].val))) {
                    return 1;
                }
            }
            return 0;
        }
        case LISP_TPQ: {
            const lisp_Pq *q = (const lisp_Pq *)o;
            for (i = 0; i < q->len; i++) {
                if (W(q->e[i].val)) {
                    return 1;
                }
            }
            return 0;
        }
        case LISP_TPROTO: {
            const lisp_Proto *p = (const lisp_Proto *)o;
            for (i = 0; i < p->nk; i++) {
                if (W(p->k[i])) {
                    return 1;
                }
            }
            return WO(p->name) || WO(p->chunk);
        }
        case LISP_TENV: {
            const lisp_Env *e = (const lisp_Env *)o;
            for (i = 0; i < e->n; i++) {
                if (W(e->v[i])) {
                    return 1;
                }
            }
            return e->parent != NULL && WO(&e->parent->h);
        }
        default: return 0;
    }
#undef W
#undef WO
}

/* A colour valid in the current state: when idle every object has the
** current white; while marking, white, gray or black, and the tri-colour
** invariant holds (no black object points at a white one); while
** sweeping, either white or black. */
static int badcolour(lisp_State *S, const lisp_Object *o) {
    uint8_t m = o->marked;
    switch (S->gcstate) {
        case GCSpause: return m != S->curwhite;
        case GCSpropagate:
            if (m == LISP_BLACK) {
                return o->type != LISP_TSYMBOL && whitechild(S, o);
            }
            return m != S->curwhite && m != 0;
        default: return m != S->curwhite && m != otherwhite(S) && m != LISP_BLACK;
    }
}

int lisp_verify(lisp_State *S) {
    lisp_Object *o;
    uint64_t n = 0;
    size_t i;
    int k;
    for (k = 0; k < LISP_GCLISTS; k++) {
        for (o = S->allgc[k]; o; o = o->next) {
            if (o->type < LISP_TSTRING || o->type >= LISP_NTYPES || o->type == LISP_TSYMBOL) {
                return -1;
            }
            if (badcolour(S, o)) {
                return -4;
            }
            n++;
        }
    }
    for (i = 0; i < S->symcap; i++) {
        lisp_Symbol *s;
        for (s = S->symtab[i]; s; s = s->hnext) {
            if (s->h.type != LISP_TSYMBOL) {
                return -2;
            }
            if (S->gcstate == GCSpause && s->h.marked != S->curwhite) {
                return -4;
            }
            if (S->gcstate == GCSpropagate && s->h.marked == LISP_BLACK &&
                s->value.tag != LISP_TUNBOUND && isheap(s->value) && iswhite(s->value.u.o)) {
                return -4; /* a traversed global holds an unmarked value */
            }
            n++;
        }
    }
    return n == S->nobjects ? 0 : -3;
}
