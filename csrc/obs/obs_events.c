/*
** obs_events.c -- the host's canonical event stream: the tick and GC
** hooks, notes, open/close and the events.* builtins.  The design is in
** obs_evt_int.h; the lines in obs_evt_fmt.c, the writer in
** obs_evt_write.c; docs/events.md.  See LICENSE for copyright.
*/
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "obs_evt_int.h"

/* ---- notes: events formatted on the host's thread ---- */

/* A marker record for note 'n'. */
static trace_Rec notemarker(obs_Note *n, int64_t tick, int64_t ts) {
    trace_Rec r;
    r.tick = tick;
    r.ts_ns = ts;
    r.x = (uint64_t)(uintptr_t)n;
    r.w = (uint32_t)TRACE_TICK_BEGIN | (uint32_t)NOTE << 4;
    r.aux = 0;
    return r;
}

/* Queue a note of 'type' with payload 'data': in a tick (V->E->evt_cur), between
** its events at the instance's current trace position (+ 'after'), else
** now, with envelope tick 'tick' (-1: none). */
void obsE_note(obs_Events *V, const char *type, int64_t tick, int64_t ts, const char *data,
               size_t len, int after) {
    obs_Note *n;
    if (!V->on) {
        return;
    }
    if (!V->run_open) { /* the first event after events.enable #t opens the run */
        obsF_runstart(V, NULL);
    }
    n = malloc(sizeof *n + len);
    if (n == NULL || (V->E->evt_cur != NULL && V->npend >= OBS_EVT_GC_MAX)) {
        free(n);
        atomic_fetch_add_explicit(&V->drops, 1, memory_order_relaxed);
        return;
    }
    n->type = type;
    n->len = len;
    memcpy(n->data, data, len);
    if (V->E->evt_cur != NULL) {
        V->pend[V->npend].at = bt_inst_trace(V->E->evt_cur)->seq + (uint64_t)after;
        V->pend[V->npend].rec = notemarker(n, bt_inst_ticks(V->E->evt_cur), ts);
        V->npend++;
    } else {
        trace_Rec r = notemarker(n, tick, ts);
        obsW_putrec(V, NULL, &r);
        obsW_publish(V);
    }
}

void obs_events_note(lisp_State *S, const char *type, int64_t ts_ns, const char *data,
                     size_t len) {
    obs_Events *V = obsE_getev(S);
    if (V != NULL) {
        obsE_note(V, type, V->E->evt_cur != NULL ? bt_inst_ticks(V->E->evt_cur) : -1,
             ts_ns < 0 ? clk_now(V->clock) : ts_ns, data, len, 0);
    }
}

int obs_events_fixed(lisp_State *S) {
    obs_Events *V = obsE_getev(S);
    return V != NULL && V->fixed;
}

/* ---- the tick hook (bt_Env.evt_tick) ---- */

/* bt_def for tree 'D' if the run has not had it (at phase 0, before the
** tick's first event); E->evt_def says which tree phase 0 may skip. */
static void seedef(obs_Events *V, const bt_Def *D) {
    int i;
    V->E->evt_def = NULL;
    if (lispbt_likely(V->ndefs > 0 && V->defs[V->ndefs - 1] == D)) {
        V->E->evt_def = D; /* the tree of the last tick */
        return;
    }
    for (i = 0; i < V->ndefs; i++) {
        if (V->defs[i] == D) { /* move it last */
            V->defs[i] = V->defs[V->ndefs - 1];
            V->defs[V->ndefs - 1] = D;
            V->E->evt_def = D;
            return;
        }
    }
    for (i = 0; i < V->ndefs; i++) {
        if (V->defs[i] == D) {
            return;
        }
    }
    if (V->ndefs == V->capdefs) {
        int ncap = V->capdefs ? 2 * V->capdefs : 8;
        const bt_Def **p = mem_realloc(V->M, (void *)V->defs, sizeof *p * (size_t)V->capdefs,
                                       sizeof *p * (size_t)ncap);
        if (p == NULL) {
            return; /* bt_def written again at the next tick */
        }
        V->defs = p;
        V->capdefs = ncap;
    }
    V->defs[V->ndefs++] = D;
    obsF_btdef(V, D);
    V->E->evt_def = D;
}

/* A GC marker record for figures slot 'slot'. */
static trace_Rec gcmarker(int64_t tick, int slot, int64_t ts) {
    trace_Rec r;
    r.tick = tick;
    r.ts_ns = ts;
    r.x = 0;
    r.w = (uint32_t)TRACE_TICK_BEGIN | (uint32_t)GCMARK << 4 | (uint32_t)(slot + 1) << 10;
    r.aux = 0;
    return r;
}

/* The GC hook (lisp_setgchook): figures into a slot, a marker into the
** ring now (outside a tick) or into the tick's pending list. */
static void gchook(void *ud, const lisp_GcEvent *g) {
    obs_Events *V = ud;
    int slot;
    int64_t now;
    if (!V->on || !V->run_open) {
        return;
    }
    if (atomic_load_explicit(&V->gclive, memory_order_acquire) >= OBS_EVT_GC_MAX ||
        (V->E->evt_cur != NULL && V->npend >= OBS_EVT_GC_MAX)) {
        atomic_fetch_add_explicit(&V->drops, 1, memory_order_relaxed);
        return;
    }
    slot = (int)((g->id * 2 + (uint64_t)g->phase) % OBS_EVT_GC_MAX);
    V->gcs[slot] = *g;
    atomic_fetch_add_explicit(&V->gclive, 1, memory_order_relaxed);
    now = clk_now(V->clock);
    if (V->E->evt_cur != NULL) {
        V->pend[V->npend].at = bt_inst_trace(V->E->evt_cur)->seq;
        V->pend[V->npend].rec = gcmarker(bt_inst_ticks(V->E->evt_cur), slot, now);
        V->npend++;
    } else {
        trace_Rec r = gcmarker(-1, slot, now);
        obsW_putrec(V, NULL, &r);
        obsW_publish(V);
    }
}

static void auditstart(obs_Events *V) {
    lisp_HeapStats hs;
    lisp_heapstats(V->S, &hs);
    V->a0.nalloc = V->M->nalloc;
    V->a0.nbytes = V->M->nbytes;
    V->a0.collections = hs.collections;
    V->a0.freed = hs.freed_objects;
    V->a0.live = (int64_t)hs.bytes_allocated;
    V->a0.gc_ns = hs.gc_total_pause_ns;
}

/* The audit figures of the tick that ended. */
static void auditend(obs_Events *V, obs_Audit *a) {
    lisp_HeapStats hs;
    memset(a, 0, sizeof *a);
    a->nalloc = V->M->nalloc - V->a0.nalloc;
    a->nbytes = V->M->nbytes - V->a0.nbytes;
    lisp_heapstats(V->S, &hs);
    a->live0 = V->a0.live;
    a->live1 = (int64_t)hs.bytes_allocated;
    a->collections = hs.collections - V->a0.collections;
    a->gc_ns = hs.gc_total_pause_ns - V->a0.gc_ns;
    a->freed = hs.freed_objects - V->a0.freed;
    a->live_objects = hs.live_objects;
}

static void evtick(void *ud, bt_Inst *I, int phase, uint64_t seq0) {
    obs_Events *V = ud;
    bt_TickStats ts;
    if (phase == 0) { /* only while E->evt_pre: something to emit before the tick's events */
        if (!V->run_open) {
            obsF_runstart(V, I);
        }
        seedef(V, bt_inst_def(I));
        V->npend = V->npend_done = 0;
        if (lispbt_unlikely(V->snap_req)) {
            obsF_snapshot(V, I);
        }
        if (V->audit != NULL) {
            auditstart(V);
        }
        V->E->evt_pre = V->audit != NULL || V->snap_req;
        return;
    }
    if (lispbt_unlikely(!V->run_open)) { /* the stream was stopped during the tick */
        while (V->npend > 0) {
            trace_Rec *r = &V->pend[--V->npend].rec;
            if ((r->w & 15) == TRACE_TICK_BEGIN && (r->w >> 4 & 7) == NOTE) {
                free((void *)(uintptr_t)r->x);
            }
        }
        V->npend_done = 0;
        return;
    }
    bt_tickstats(I, &ts);
    if (lispbt_unlikely(ts.budget_ns > 0 && ts.last_ns > ts.budget_ns)) {
        obsF_deadline(V, I, &ts);
    }
    if (V->audit != NULL) {
        obs_Audit a;
        auditend(V, &a);
        obsW_copyrecs(V, I, seq0, &a);
    } else {
        obsW_copyrecs(V, I, seq0, NULL);
    }
    obsW_publish(V);
    if (V->flush_each) {
        obsW_syncflush(V);
    } else if (V->ring.seq - V->done_seen > (uint64_t)V->ring.cap / 2) {
        V->done_seen = atomic_load_explicit(&V->done, memory_order_acquire);
        if (V->ring.seq - V->done_seen > (uint64_t)V->ring.cap / 2) {
            pthread_cond_signal(&V->cv); /* wake the writer */
        }
    }
}

/* ---- open / close ---- */

int obs_events_open(lisp_State *S, bt_Env *E, mem_Heap *M, clk_Clock *clock) {
    obs_Events *V = mem_calloc(M, sizeof *V);
    if (V == NULL) {
        return -1;
    }
    V->S = S;
    V->E = E;
    V->M = M;
    V->clock = clock;
    sbuf_init(&V->line); /* the writer's: the C allocator */
    V->tick_hz = OBS_EVT_TICK_HZ;
    if (pthread_mutex_init(&V->mu, NULL) != 0) {
        mem_free(M, V, sizeof *V);
        return -1;
    }
    if (pthread_cond_init(&V->cv, NULL) != 0 || obsW_alloctail(V, OBS_EVT_RING_DEFAULT) != 0) {
        obsW_freetail(V);
        pthread_mutex_destroy(&V->mu);
        mem_free(M, V, sizeof *V);
        return -1;
    }
    E->evt_tick = evtick;
    E->evt_ud = V;
    E->evt_on = 0;
    E->evt_pre = 1;
    E->evt_cur = NULL;
    E->evt_def = NULL;
    lisp_setslot(S, LISPBT_SLOT_OBS, V);
    lisp_setgchook(S, gchook, V);
    return 0;
}

static void setoff(obs_Events *V, int on) {
    if (on && !V->on) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        pthread_mutex_lock(&V->mu);
        V->unix_off = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - clk_now(V->clock);
        atomic_store_explicit(&V->drops, 0, memory_order_relaxed);
        pthread_mutex_unlock(&V->mu);
        obsW_startwriter(V);
    } else if (!on && V->on) {
        obsF_runend(V);
        obsW_stopwriter(V);
    }
    V->on = on;
    V->E->evt_on = on;
    V->E->evt_pre = 1;
}

void obs_events_close(lisp_State *S) {
    obs_Events *V = obsE_getev(S);
    if (V == NULL) {
        return;
    }
    setoff(V, 0);
    obsW_stopwriter(V);
    obsW_syncflush(V);
    obsW_closefile(V);
    obsW_freetail(V);
    while (V->nknames > 0) {
        free(V->knames[--V->nknames]);
    }
    free(V->knames);
    obsW_lqclear(V);
    free(V->lq);
    free(V->lqlen);
    if (V->defs != NULL) {
        mem_free(V->M, (void *)V->defs, sizeof *V->defs * (size_t)V->capdefs);
    }
    sbuf_free(&V->line);
    V->E->evt_on = 0;
    V->E->evt_ud = NULL;
    lisp_setgchook(S, NULL, NULL);
    lisp_setslot(S, LISPBT_SLOT_OBS, NULL);
    pthread_cond_destroy(&V->cv);
    pthread_mutex_destroy(&V->mu);
    mem_free(V->M, V, sizeof *V);
}

/* ---- builtins ---- */

static int checkbool(lisp_State *S, lisp_Value *argv, int i) {
    if (argv[i].tag != LISP_TBOOL) {
        lisp_argerror(S, argv, i, "expected a boolean");
    }
    return argv[i].u.b != 0;
}

static lisp_Value cfun_events_enable(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    setoff(obsE_getev(S), checkbool(S, argv, 0));
    return lisp_nil();
}

static lisp_Value cfun_events_setpath(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = obsE_getev(S);
    const char *path = NULL;
    FILE *f = NULL;
    char *copy = NULL;
    (void)argc;
    if (argv[0].tag != LISP_TNIL) {
        path = lisp_checkpath(S, argv, 0);
        copy = mem_alloc(V->M, strlen(path) + 1);
        if (copy == NULL) {
            lisp_memerror(S);
        }
        f = fopen(path, "w");
        if (f == NULL) {
            int err = errno;
            mem_free(V->M, copy, strlen(path) + 1);
            lisp_error(S, "events.set-path: cannot open %s: %s", path, strerror(err));
        }
        strcpy(copy, path);
        setvbuf(f, NULL, _IOFBF, OBS_EVT_FILE_BUF); /* fewer write calls per flush */
    }
    obsW_coldbegin(V); /* what is pending belongs to the old file */
    obsW_closefile(V);
    V->f = f;
    V->path = copy;
    obsW_coldend(V);
    return lisp_nil();
}

static lisp_Value cfun_events_setflush(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = obsE_getev(S);
    (void)argc;
    int on = checkbool(S, argv, 0);
    obsW_coldbegin(V);
    V->flush_each = on;
    obsW_coldend(V);
    return lisp_nil();
}

static lisp_Value cfun_events_setdeterministic(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = obsE_getev(S);
    int on = checkbool(S, argv, 0);
    (void)argc;
    obsW_coldbegin(V);
    V->fixed = on;
    obsW_coldend(V);
    return lisp_nil();
}

static lisp_Value cfun_events_enableaudit(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = obsE_getev(S);
    int on = checkbool(S, argv, 0);
    (void)argc;
    int fail = 0;
    obsW_coldbegin(V); /* markers pending refer to the figures of the old array */
    if (on && V->audit == NULL) {
        V->audit = mem_calloc(V->M, sizeof *V->audit * (size_t)V->ring_size);
        fail = V->audit == NULL;
    } else if (!on && V->audit != NULL) {
        mem_free(V->M, V->audit, sizeof *V->audit * (size_t)V->ring_size);
        V->audit = NULL;
    }
    V->audit_on = on && !fail;
    V->E->evt_pre = 1; /* recomputed at the next tick's phase 0 */
    obsW_coldend(V);
    if (fail) {
        lisp_memerror(S);
    }
    return lisp_nil();
}

static lisp_Value cfun_events_setringsize(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = obsE_getev(S);
    int n = (int)lisp_checkintrange(S, argv, 0, "size", LISP_INTONLY, 1, OBS_EVT_RING_MAX);
    int fail = 0;
    (void)argc;
    obsW_coldbegin(V);
    obsW_freetail(V);
    if (obsW_alloctail(V, n) != 0) { /* back to the default, which fitted before */
        fail = 1;
        obsW_freetail(V);
        if (obsW_alloctail(V, OBS_EVT_RING_DEFAULT) != 0) {
            obsW_freetail(V);
        }
    }
    obsW_coldend(V);
    if (fail) {
        lisp_memerror(S);
    }
    return lisp_nil();
}

static lisp_Value cfun_events_dump(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = obsE_getev(S);
    int64_t n = OBS_EVT_RING_MAX, i;
    int top;
    lisp_Value list = lisp_nil();
    if (argc > 0) {
        n = lisp_checkintrange(S, argv, 0, "n", LISP_INTONLY, 0, OBS_EVT_RING_MAX);
    }
    obsW_coldbegin(V);
    V->hold = 1; /* the writer thread leaves the tail alone while it is read */
    obsW_coldend(V);
    if (V->tail == NULL) {
        obsW_syncflush(V);
        return lisp_nil();
    }
    n = n < V->tcount ? n : V->tcount;
    top = lisp_gettop(S);
    lisp_push(S, list);
    for (i = V->tcount - 1; i >= V->tcount - n; i--) { /* newest first, consed in front */
        int k = (int)((V->thead + i) % V->tail_size);
        lisp_Value s = lisp_string(S, V->tail[k], V->tlen[k]);
        list = lisp_cons(S, s, list);
        lisp_settop(S, top);
        lisp_push(S, list);
    }
    pthread_mutex_lock(&V->mu);
    V->hold = 0; /* (an error above leaves it to the next sync point) */
    pthread_mutex_unlock(&V->mu);
    return list;
}

static lisp_Value cfun_events_snapshotbb(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = obsE_getev(S);
    V->snap_req = argc > 0 && checkbool(S, argv, 0) ? 2 : 1;
    V->E->evt_pre = 1;
    return lisp_nil();
}

static lisp_Value cfun_events_settickhz(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = obsE_getev(S);
    double hz;
    (void)argc;
    if (argv[0].tag == LISP_TINT) {
        hz = (double)argv[0].u.i;
    } else if (argv[0].tag == LISP_TFLOAT) {
        hz = argv[0].u.f;
    } else {
        lisp_argerror(S, argv, 0, "expected a number");
    }
    if (!(hz > 0 && hz <= 1e9)) {
        lisp_error(S, "events.set-tick-hz: rate must be > 0 and <= 1e9, got %g", hz);
    }
    V->tick_hz = hz;
    return lisp_nil();
}

#define RT LISP_FRUNTIME
const lisp_Reg events_lib[] = {
    {"events.enable", 1, 1, cfun_events_enable, RT,
     "(events.enable on) -> nil; start or stop the host's event stream"},
    {"events.enable-tick-audit", 1, 1, cfun_events_enableaudit, RT,
     "(events.enable-tick-audit on) -> nil; one tick_audit record after every tick_end"},
    {"events.set-path", 1, 1, cfun_events_setpath, RT,
     "(events.set-path path-or-nil) -> nil; write the stream's JSON lines to a file"},
    {"events.set-flush-each-message", 1, 1, cfun_events_setflush, RT,
     "(events.set-flush-each-message on) -> nil; write and flush the lines at every tick"},
    {"events.set-ring-size", 1, 1, cfun_events_setringsize, RT,
     "(events.set-ring-size n) -> nil; records pending and lines kept for events.dump"},
    {"events.set-deterministic", 1, 1, cfun_events_setdeterministic, RT,
     "(events.set-deterministic on) -> nil; fixed stamps and run ids, zero durations"},
    {"events.dump", 0, 1, cfun_events_dump, RT,
     "(events.dump [n]) -> list of the newest n JSON lines of the stream"},
    {"events.snapshot-bb", 0, 1, cfun_events_snapshotbb, RT,
     "(events.snapshot-bb [all]) -> nil; a bb_snapshot of the blackboard at the next tick"},
    {"events.set-tick-hz", 1, 1, cfun_events_settickhz, RT,
     "(events.set-tick-hz hz) -> nil; the tick rate run_start declares"},
    {NULL, 0, 0, NULL, 0, NULL}};
