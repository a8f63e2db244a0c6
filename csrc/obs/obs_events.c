/*
** obs_events.c -- the host's canonical event stream: mbt.evt.v1 JSON lines
** (docs/events.md) and the events.* builtins.  See LICENSE for copyright.
**
** Tick side (the thread that ticks; no formatting, no allocation, no lock).
** While the stream is on (bt_Env.evt_on) every tick is traced into the
** instance's own trace ring (bt_trace.h: fixed 32-byte records) at the
** instance's profile level: at level timing one record per node event with
** its duration, at level counters the node events of consecutive C leaves
** as one run record.  At the end of the tick (evtick, phase 1) copytick
** copies the tick's records, still binary, into the stream's ring (a
** trace_Ring of 'ring_size' slots from the host's heap): a backward pass
** finds the runs, so only the slots that hold events are copied, and a
** message (an error text, a string value) is copied into the stream ring's
** message slots.  Then the new ring head is published ('pub', release).
** The hook's phase 0 (before the tick's first event) is called only while
** E->evt_pre or for a tree other than E->evt_def: one call per tick in the
** steady state.
**
** Writer.  Records become JSON lines only in flush(), under the writer
** lock 'mu': on the writer thread (started by events.enable #t, it looks
** for published records every OBS_EVT_WRITER_MS and when woken at half a
** ring), and synchronously on the host's thread on events.dump,
** events.set-path, events.set-ring-size, events.enable #f, host close, at
** the end of every tick when set-flush-each-message is on, and on ring
** pressure: when a copy would overwrite a record not yet written, the
** ticking thread takes the lock and writes the pending lines itself (the
** one point where a tick waits for the writer).  So nothing is lost in the
** stream's ring.  A tick that pushes more events than its instance's trace
** ring keeps (bt.set-trace-capacity) loses the oldest of them: they are
** counted in 'drops', reported by an error event and in run_end.  Lines go
** to the file (if events.set-path named one), into a tail of the newest
** 'tail_size' lines (min(ring_size, OBS_EVT_TAIL_MAX)), which events.dump
** returns, and to the listener queue (host.events.on_line), which the
** host's thread drains.
**
** Envelope seq numbers are given when a line is formatted, so the lines
** of the stream (tick records and the run_start / bt_def / run_end lines
** made on the cold path, under the lock after a flush) are numbered 1, 2,
** 3 ... without gaps.  The writer allocates with the C allocator, not the
** host's heap (which is the host thread's only, mem.h); blackboard key
** names are copied into 'knames' on the host's thread when first seen.
*/
#include "conf.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt_trace.h"
#include "obs_events.h"
#include "sbuf.h"

#define FNV_OFFSET 1469598103934665603ull /* the reference's offset basis */
#define FNV_PRIME 1099511628211ull
#define OBS_EVT_FILE_BUF (1 << 16) /* stdio buffer of the stream's file */

/* A tick_audit record (tick_audit.v1).  Its place in the stream is a
** marker record in the ring (kind TRACE_TICK_BEGIN with status AUDIT, a
** status no tick_begin has); its figures live here, in slot seq % ring_size
** (unique among the records the ring keeps). */
#define AUDIT 7
#define GCMARK 6 /* likewise the marker of a gc_begin/gc_end; node = its slot */
#define NOTE 5   /* likewise a preformatted event (obs_Note, its pointer in x) */

/* An event formatted on the host's thread but for its envelope (cold:
** run-level and rare events).  Allocated with the C allocator and freed by
** the writer. */
typedef struct obs_Note {
    const char *type; /* static */
    size_t len;
    char data[];      /* the payload object's JSON text */
} obs_Note;
typedef struct obs_Audit {
    uint64_t nalloc, nbytes;   /* allocations and bytes in the window */
    int64_t live0, live1;      /* Lisp heap bytes before and after */
    uint64_t collections;      /* collections completed in the window */
    int64_t gc_ns;             /* their pause time */
    uint64_t live_objects, freed;
    int64_t tick_ns;
    int32_t path[OBS_EVT_PATH_MAX];
    int npath;
    uint8_t status, dropped;
} obs_Audit;

/* The measurements taken at the start of the window. */
typedef struct AuditStart {
    uint64_t nalloc, nbytes, collections, freed;
    int64_t live, gc_ns;
} AuditStart;

typedef struct obs_Events {
    lisp_State *S;
    bt_Env *E;
    mem_Heap *M;
    clk_Clock *clock;
    trace_Ring ring;   /* copied tick records not yet written */
    int ring_size;     /* slots of 'ring' */
    _Atomic uint64_t pub;  /* ring seq up to which records are published */
    _Atomic uint64_t done; /* ring seq of the first record not yet written */
    uint64_t done_seen;    /* the host thread's last look at 'done' */
    uint64_t nmsg;         /* messages put in the ring's message slots */
    _Atomic uint64_t nmsg_done; /* ... and written */
    pthread_mutex_t mu;    /* the writer lock: flush() and what it reads */
    pthread_cond_t cv;
    pthread_t thread;
    int thread_on;         /* the writer thread runs */
    int quit;              /* under mu: the writer thread ends */
    int hold;              /* under mu: the writer thread leaves the tail alone */
    char **knames;         /* blackboard key names by key id (C allocator) */
    int nknames;
    /* host.events.on_line: lines queued for the host's thread (under mu) */
    int listening;
    char **lq;             /* OBS_EVT_LISTEN_MAX slots, malloc'd lines */
    size_t *lqlen;
    int lqhead, lqcount;
    uint64_t ldrops;       /* lines the full queue refused */
    int on, flush_each;
    int fixed;         /* deterministic mode: fixed stamps, zero durations */
    uint64_t seq;      /* envelope seq of the last line */
    int run_open;
    uint64_t runs;     /* runs started by this host */
    char run_id[64];
    int64_t unix_off;  /* unix ns minus host-clock ns */
    const bt_Def **defs; /* definitions given a bt_def in this run */
    int ndefs, capdefs;
    char *path;
    FILE *f;
    char **tail;       /* the newest lines, a ring of 'tail_size' */
    int tail_size;     /* min(ring_size, OBS_EVT_TAIL_MAX): a slot keeps >= 256 bytes */
    size_t *tlen;      /* length of each slot's line */
    size_t *tcap;      /* bytes allocated for each slot (kept when reused) */
    int thead, tcount;
    _Atomic uint64_t drops;
    sbuf line;         /* the line being formatted (C allocator) */
    /* gc_begin/gc_end: figures by slot (id * 2 + phase) % OBS_EVT_GC_MAX;
    ** during a tick, their markers and notes wait in 'pend' with the
    ** instance's trace seq at the time, and copytick puts them between that
    ** tick's records. */
    lisp_GcEvent gcs[OBS_EVT_GC_MAX];
    atomic_int gclive; /* slots whose line is not written yet */
    struct {
        uint64_t at;   /* goes before the instance's record of this seq */
        trace_Rec rec; /* a GC or note marker */
    } pend[OBS_EVT_GC_MAX];
    int npend, npend_done;
    int snap_req;      /* events.snapshot-bb: 1 = up to OBS_EVT_SNAPSHOT_MAX entries, 2 = all */
    double tick_hz;    /* run_start's tick_hz (events.set-tick-hz) */
    int audit_on;
    obs_Audit *audit;  /* ring_size entries while audit_on, else NULL */
    AuditStart a0;
} obs_Events;

static obs_Events *getev(lisp_State *S) {
    return lisp_slot(S, LISPBT_SLOT_OBS);
}

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = FNV_OFFSET;
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= FNV_PRIME;
    }
    return h;
}

static void puthash(sbuf *b, const char *s, size_t n) {
    sbuf_printf(b, "\"fnv1a64:%016llx\"", (unsigned long long)fnv1a(s, n));
}

/* ---- lines ---- */

/* Keep line 'b' in the tail and write it to the file.  A tail slot keeps
** its buffer when its line is replaced, so once the tail is warm a line
** costs a copy, not an allocation. */
static void emitline(obs_Events *V, const sbuf *b) {
    int slot;
    if (b->oom) {
        atomic_fetch_add_explicit(&V->drops, 1, memory_order_relaxed);
        return;
    }
    if (V->listening) {
        char *c = NULL;
        if (V->lqcount < OBS_EVT_LISTEN_MAX && (c = malloc(b->len + 1)) != NULL) {
            int k = (V->lqhead + V->lqcount) % OBS_EVT_LISTEN_MAX;
            memcpy(c, b->p, b->len);
            c[b->len] = '\0';
            V->lq[k] = c;
            V->lqlen[k] = b->len;
            V->lqcount++;
        } else {
            V->ldrops++;
        }
    }
    if (V->f != NULL) {
        fwrite(b->p, 1, b->len, V->f);
        fputc('\n', V->f);
        if (V->flush_each) {
            fflush(V->f);
        }
    }
    if (V->tcount == V->tail_size) { /* the oldest goes */
        V->thead = V->thead + 1 == V->tail_size ? 0 : V->thead + 1;
        V->tcount--;
    }
    slot = V->thead + V->tcount;
    slot -= slot >= V->tail_size ? V->tail_size : 0;
    if (V->tcap[slot] < b->len + 1) {
        size_t ncap = b->len + 1 < 256 ? 256 : b->len + 1;
        char *p = realloc(V->tail[slot], ncap); /* the writer's: not the host's heap */
        if (p == NULL) { /* the file has it; the tail keeps the lines before */
            return;
        }
        V->tail[slot] = p;
        V->tcap[slot] = ncap;
    }
    memcpy(V->tail[slot], b->p, b->len);
    V->tail[slot][b->len] = '\0';
    V->tlen[slot] = b->len;
    V->tcount++;
}

/* Decimal integer, without printf (the writer's hot loop). */
static void putint(sbuf *b, int64_t v) {
    char buf[24], *q = buf + sizeof buf;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        *--q = '-';
    }
    sbuf_putn(b, q, (size_t)(buf + sizeof buf - q));
}

/* 'ns' nanoseconds as exact decimal milliseconds ("4.651032", "0"). */
static void putms(sbuf *b, int64_t ns) {
    char frac[8];
    int k;
    if (ns <= 0) {
        sbuf_putc(b, '0');
        return;
    }
    putint(b, ns / 1000000);
    ns %= 1000000;
    if (ns == 0) {
        return;
    }
    for (k = 6; k > 0; k--) {
        frac[k] = (char)('0' + ns % 10);
        ns /= 10;
    }
    frac[0] = '.';
    for (k = 6; frac[k] == '0'; k--) {
    }
    sbuf_putn(b, frac, (size_t)k + 1);
}

#define PUTLIT(b, s) sbuf_putn((b), (s), sizeof(s) - 1)

/* Start line of type 'type' in V->line: the envelope up to "data":. */
static sbuf *envelope(obs_Events *V, const char *type, int64_t ts_ns, int64_t tick) {
    sbuf *b = &V->line;
    int64_t ms = V->fixed ? OBS_EVT_FIXED_MS + (int64_t)V->seq : (ts_ns + V->unix_off) / 1000000;
    b->len = 0;
    b->oom = 0;
    PUTLIT(b, "{\"schema\":\"mbt.evt.v1\",\"contract_version\":\"1.0.0\",\"type\":\"");
    sbuf_puts(b, type);
    PUTLIT(b, "\",\"run_id\":\"");
    sbuf_puts(b, V->run_id);
    PUTLIT(b, "\",\"unix_ms\":");
    putint(b, ms);
    PUTLIT(b, ",\"seq\":");
    putint(b, (int64_t)++V->seq);
    if (tick >= 0) {
        PUTLIT(b, ",\"tick\":");
        putint(b, tick);
    }
    PUTLIT(b, ",\"data\":");
    return b;
}

static void finishline(obs_Events *V) {
    sbuf_putc(&V->line, '}');
    emitline(V, &V->line);
}

static const char *statusname(int st) {
    switch (st) {
        case TRACE_ST_SUCCESS: return "success";
        case TRACE_ST_FAILURE: return "failure";
        case TRACE_ST_RUNNING: return "running";
        default: return "idle";
    }
}

/* The preview of a bb value (at most one message slot) into 'b'. */
static void preview(const trace_Ring *R, const trace_Event *e, sbuf *b) {
    char num[64];
    switch (e->vtag) {
        case TRACE_V_NIL: sbuf_puts(b, "nil"); break;
        case TRACE_V_BOOL: sbuf_puts(b, e->v.i ? "#t" : "#f"); break;
        case TRACE_V_INT: sbuf_printf(b, "%lld", (long long)e->v.i); break;
        case TRACE_V_FLOAT:
            snprintf(num, sizeof num, "%.17g", e->v.f);
            sbuf_puts(b, num);
            break;
        case TRACE_V_STR:
        case TRACE_V_TEXT: sbuf_puts(b, trace_msg_text(R, e)); break;
        default: break;
    }
}

/* A duration's ns as written (0 in deterministic mode). */
static int64_t msof(const obs_Events *V, int64_t ns) {
    return V->fixed || ns < 0 ? 0 : ns;
}

static void gcline(obs_Events *V, const trace_Event *e) {
    const lisp_GcEvent *g = &V->gcs[e->node];
    sbuf *b = envelope(V, g->phase ? "gc_end" : "gc_begin", e->ts_ns, e->tick);
    PUTLIT(b, "{\"schema_version\":\"gc.lifecycle.v1\",\"collection_id\":");
    putint(b, (int64_t)g->id);
    PUTLIT(b, ",\"phase\":\"");
    sbuf_puts(b, g->phase ? "end" : "begin");
    PUTLIT(b, "\",\"reason\":\"");
    sbuf_puts(b, g->reason);
    PUTLIT(b, "\",\"policy\":\"");
    sbuf_puts(b, g->policy);
    PUTLIT(b, "\",\"forced\":");
    sbuf_puts(b, g->forced ? "true" : "false");
    PUTLIT(b, ",\"in_tick\":");
    sbuf_puts(b, g->in_tick ? "true" : "false");
    PUTLIT(b, ",\"heap_live_bytes_before\":");
    putint(b, g->bytes_before);
    PUTLIT(b, ",\"live_objects_before\":");
    putint(b, g->objects_before);
    /* Extra fields (the schema leaves gc data open): the incremental cycle
    ** this pause works on and the kind of step. */
    PUTLIT(b, ",\"cycle_id\":");
    putint(b, (int64_t)g->cycle);
    PUTLIT(b, ",\"step\":\"");
    sbuf_puts(b, g->step ? g->step : "full");
    sbuf_putc(b, '"');
    if (g->phase) {
        PUTLIT(b, ",\"cycle_end\":");
        sbuf_puts(b, g->cycle_end ? "true" : "false");
        PUTLIT(b, ",\"heap_live_bytes_after\":");
        putint(b, g->bytes_after);
        PUTLIT(b, ",\"live_objects_after\":");
        putint(b, g->objects_after);
        PUTLIT(b, ",\"freed_objects\":");
        putint(b, g->freed);
        PUTLIT(b, ",\"mark_time_ns\":");
        putint(b, V->fixed ? 0 : g->mark_ns);
        PUTLIT(b, ",\"sweep_time_ns\":");
        putint(b, V->fixed ? 0 : g->sweep_ns);
        PUTLIT(b, ",\"pause_time_ns\":");
        putint(b, V->fixed ? 0 : g->pause_ns);
    }
    sbuf_putc(b, '}');
    finishline(V);
    atomic_fetch_sub_explicit(&V->gclive, 1, memory_order_release);
}

static void auditline(obs_Events *V, const trace_Event *e) {
    const obs_Audit *a;
    sbuf *b;
    int k;
    if (V->audit == NULL) {
        return; /* audit switched off before its line was written */
    }
    a = &V->audit[e->seq % (uint64_t)V->ring_size];
    b = envelope(V, "tick_audit", e->ts_ns, e->tick);
    PUTLIT(b, "{\"schema_version\":\"tick_audit.v1\",\"tick_id\":");
    putint(b, e->tick);
    PUTLIT(b, ",\"measurement_window\":\"tick_pre_begin_to_tick_end_pre_audit\""
              ",\"allocation_count\":");
    putint(b, (int64_t)a->nalloc);
    PUTLIT(b, ",\"allocation_bytes\":");
    putint(b, (int64_t)a->nbytes);
    PUTLIT(b, ",\"heap_live_bytes_before\":");
    putint(b, a->live0);
    PUTLIT(b, ",\"heap_live_bytes_after\":");
    putint(b, a->live1);
    PUTLIT(b, ",\"heap_live_bytes_delta\":");
    putint(b, a->live1 - a->live0);
    PUTLIT(b, ",\"gc_collections_delta\":");
    putint(b, (int64_t)a->collections);
    PUTLIT(b, ",\"gc_pause_ns_delta\":");
    putint(b, V->fixed ? 0 : a->gc_ns);
    PUTLIT(b, ",\"gc_live_objects_after\":");
    putint(b, (int64_t)a->live_objects);
    PUTLIT(b, ",\"gc_freed_objects_delta\":");
    putint(b, (int64_t)a->freed);
    PUTLIT(b, ",\"gc_forced\":false,\"root_node_id\":0,\"root_status\":\"");
    sbuf_puts(b, a->status ? statusname(a->status) : "invalid");
    PUTLIT(b, "\",\"node_path\":[");
    for (k = 0; k < a->npath; k++) {
        if (k) {
            sbuf_putc(b, ',');
        }
        putint(b, a->path[k]);
    }
    PUTLIT(b, "],\"logging_mode\":{\"enabled\":true,\"sink\":\"");
    sbuf_puts(b, V->f != NULL ? "file" : "ring");
    PUTLIT(b, "\",\"flush_policy\":\"");
    sbuf_puts(b, V->flush_each ? "each_message" : "manual");
    PUTLIT(b, "\",\"includes_canonical_events_in_window\":true,\"ring_size\":");
    putint(b, V->ring_size);
    PUTLIT(b, ",\"dropped_events_delta\":");
    putint(b, a->dropped);
    PUTLIT(b, "},\"audit_mode\":{\"enabled\":true,\"strict\":false},\"tick_elapsed_ns\":");
    putint(b, V->fixed ? 0 : a->tick_ns);
    PUTLIT(b, ",\"violation\":\"");
    sbuf_puts(b, a->collections ? "tick_gc" : "none");
    PUTLIT(b, "\"}");
    finishline(V);
}

/* One tick record as a line. */
static void recordline(obs_Events *V, const trace_Event *e) {
    const trace_Ring *R = &V->ring;
    sbuf *b;
    switch (e->kind) {
        case TRACE_TICK_BEGIN:
            if (e->status == AUDIT) {
                auditline(V, e);
                return;
            }
            if (e->status == GCMARK) {
                gcline(V, e);
                return;
            }
            if (e->status == NOTE) {
                return; /* flush() writes notes itself */
            }
            b = envelope(V, "tick_begin", e->ts_ns, e->tick);
            sbuf_puts(b, "{\"root\":0}");
            break;
        case TRACE_TICK_END:
            b = envelope(V, "tick_end", e->ts_ns, e->tick);
            PUTLIT(b, "{\"root_status\":\"");
            sbuf_puts(b, statusname(e->status));
            PUTLIT(b, "\",\"tick_ms\":");
            putms(b, msof(V, e->duration_ns));
            sbuf_putc(b, '}');
            break;
        case TRACE_NODE_ENTER:
            b = envelope(V, "node_enter", e->ts_ns, e->tick);
            PUTLIT(b, "{\"node_id\":");
            putint(b, e->node);
            sbuf_putc(b, '}');
            break;
        case TRACE_NODE_EXIT:
            b = envelope(V, "node_exit", e->ts_ns, e->tick);
            PUTLIT(b, "{\"node_id\":");
            putint(b, e->node);
            PUTLIT(b, ",\"status\":\"");
            sbuf_puts(b, statusname(e->status));
            sbuf_putc(b, '"');
            if (e->duration_ns >= 0) { /* timed (level timing), else absent */
                PUTLIT(b, ",\"dur_ms\":");
                putms(b, msof(V, e->duration_ns));
            }
            sbuf_putc(b, '}');
            break;
        case TRACE_BB_WRITE: {
            sbuf pv;
            const char *key = e->key >= 0 && e->key < V->nknames && V->knames[e->key] != NULL
                                  ? V->knames[e->key]
                                  : "?";
            if (e->vtag == TRACE_V_NIL) { /* a write of nil: the reference's delete */
                b = envelope(V, "bb_delete", e->ts_ns, e->tick);
                sbuf_puts(b, "{\"key\":");
                sbuf_json_string(b, key, strlen(key));
                sbuf_printf(b, ",\"node_id\":%d}", (int)e->node);
                break;
            }
            sbuf_init(&pv);
            preview(R, e, &pv);
            b = envelope(V, "bb_write", e->ts_ns, e->tick);
            sbuf_puts(b, "{\"key\":");
            sbuf_json_string(b, key, strlen(key));
            sbuf_puts(b, ",\"value_digest\":");
            puthash(b, pv.len ? pv.p : "", pv.len);
            sbuf_puts(b, ",\"preview\":");
            sbuf_json_string(b, pv.len ? pv.p : "", pv.len);
            sbuf_printf(b, ",\"node_id\":%d}", (int)e->node);
            sbuf_free(&pv);
            break;
        }
        case TRACE_SCHED_SUBMIT:
        case TRACE_SCHED_START:
        case TRACE_SCHED_FINISH:
        case TRACE_SCHED_CANCEL: {
            static const char *const names[] = {"sched_submit", "sched_start", "sched_finish",
                                                "sched_cancel"};
            b = envelope(V, names[e->kind - TRACE_SCHED_SUBMIT], e->ts_ns, e->tick);
            sbuf_printf(b, "{\"job_id\":%llu,\"status\":\"%s\",\"node_id\":%d}",
                        (unsigned long long)e->job, trace_job_status_name(e->job_status),
                        (int)e->node);
            break;
        }
        case TRACE_WARNING:
        case TRACE_ERROR: {
            const char *msg = trace_msg_text(R, e);
            int overrun = e->kind == TRACE_WARNING && strncmp(msg, "tick budget overrun", 19) == 0;
            b = envelope(V, overrun ? "budget_warning" : "error", e->ts_ns, e->tick);
            sbuf_printf(b, "{\"level\":\"%s\",\"node_id\":%d,\"message\":",
                        e->kind == TRACE_ERROR ? "error" : "warn", (int)e->node);
            sbuf_json_string(b, msg, strlen(msg));
            sbuf_putc(b, '}');
            break;
        }
        default: return; /* bb_read: not part of the stream */
    }
    finishline(V);
}

/* Record 'r' of the stream ring at 'seq' as an event (trace_get without
** runs, which the writer expands itself). */
static void decode(const trace_Rec *r, uint64_t seq, trace_Event *out) {
    int kind = (int)(r->w & 15);
    *out = trace_event(kind, r->tick, (int32_t)(r->w >> 10) - 1, r->ts_ns);
    out->seq = seq;
    if (trace_kind_is_sched(kind)) {
        out->job = r->x;
        out->job_status = (uint8_t)(r->w >> 4 & 7);
        return;
    }
    out->status = (uint8_t)(r->w >> 4 & 7);
    if (trace_kind_is_node(kind)) {
        out->duration_ns = trace_kind_has_duration(kind) ? (int64_t)r->x : -1;
    } else if (trace_kind_is_bb(kind)) {
        out->vtag = (uint8_t)(r->w >> 7 & 7);
        out->key = (int32_t)r->aux - 1;
        if (out->vtag == TRACE_V_STR || out->vtag == TRACE_V_TEXT) {
            out->msg = (uint32_t)r->x;
        } else {
            out->v.i = (int64_t)r->x;
        }
    } else {
        out->msg = r->aux;
    }
}

/* Write every published record not yet written (the writer; see the
** header).  Called with 'mu' held, on either thread. */
static void flush(obs_Events *V) {
    uint64_t s = atomic_load_explicit(&V->done, memory_order_relaxed);
    uint64_t end = atomic_load_explicit(&V->pub, memory_order_acquire), nmsg = 0;
    const trace_Rec *ev = V->ring.ev;
    uint32_t mask = V->ring.mask;
    trace_Event e;
    if (s == end) {
        return;
    }
    for (; s < end; s++) {
        const trace_Rec *r = &ev[s & mask];
        if ((r->w & 15) == TRACE_RUN) { /* k leaves: enter and exit each */
            int k = (int)r->aux, l;
            for (l = 0; l < k; l++) {
                e = trace_event(TRACE_NODE_ENTER, r->tick, (int32_t)(r->w >> 10) - 1 + l, r->ts_ns);
                recordline(V, &e);
                e.kind = TRACE_NODE_EXIT;
                e.status = (uint8_t)(r->w >> (l + 1 == k ? 4 : 7) & 7);
                recordline(V, &e);
            }
            continue;
        }
        if ((r->w & 15) == TRACE_TICK_BEGIN && (r->w >> 4 & 7) == NOTE) {
            obs_Note *n = (obs_Note *)(uintptr_t)r->x;
            sbuf *b = envelope(V, n->type, r->ts_ns, r->tick);
            sbuf_putn(b, n->data, n->len);
            finishline(V);
            free(n);
            continue;
        }
        decode(r, s, &e);
        nmsg += e.msg != 0;
        recordline(V, &e);
    }
    atomic_fetch_add_explicit(&V->nmsg_done, nmsg, memory_order_relaxed);
    atomic_store_explicit(&V->done, end, memory_order_release);
    if (V->f != NULL) {
        fflush(V->f);
    }
}

/* Publish what the host's thread has put in the ring. */
static void publish(obs_Events *V) {
    atomic_store_explicit(&V->pub, V->ring.seq, memory_order_release);
}

/* On the host's thread: write everything published, now. */
static void syncflush(obs_Events *V) {
    pthread_mutex_lock(&V->mu);
    V->hold = 0;
    flush(V);
    pthread_mutex_unlock(&V->mu);
}

/* The writer thread: flush whenever records are published. */
static void *writer(void *ud) {
    obs_Events *V = ud;
    pthread_mutex_lock(&V->mu);
    while (!V->quit) {
        struct timespec ts;
        if (!V->hold && atomic_load_explicit(&V->pub, memory_order_acquire) !=
                            atomic_load_explicit(&V->done, memory_order_relaxed)) {
            flush(V);
            continue;
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += OBS_EVT_WRITER_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&V->cv, &V->mu, &ts);
    }
    pthread_mutex_unlock(&V->mu);
    return NULL;
}

static void startwriter(obs_Events *V) {
    if (V->thread_on) {
        return;
    }
    V->quit = 0;
    /* without a thread, the host's thread writes at every sync point */
    V->thread_on = pthread_create(&V->thread, NULL, writer, V) == 0;
}

static void stopwriter(obs_Events *V) {
    if (!V->thread_on) {
        return;
    }
    pthread_mutex_lock(&V->mu);
    V->quit = 1;
    pthread_cond_signal(&V->cv);
    pthread_mutex_unlock(&V->mu);
    pthread_join(V->thread, NULL);
    V->thread_on = 0;
}

/* ---- the host's thread: putting records in the ring ---- */

/* Room for one more record in the stream's ring without overwriting one
** not yet written: else the host's thread writes the pending lines itself
** (ring pressure, the one point where a tick waits for the writer). */
static void room(obs_Events *V) {
    if (lispbt_unlikely(V->ring.seq - V->done_seen >= (uint64_t)V->ring.cap)) {
        V->done_seen = atomic_load_explicit(&V->done, memory_order_acquire);
        if (V->ring.seq - V->done_seen >= (uint64_t)V->ring.cap) {
            publish(V);
            syncflush(V);
            V->done_seen = V->ring.seq;
        }
    }
}

/* Copy message text 't' into the ring's message slots; its id.  When all
** slots hold messages not yet written, the pending lines are written first. */
static uint32_t putmsg(obs_Events *V, const char *t) {
    trace_Ring *R = &V->ring;
    uint32_t id = R->msg_next;
    trace_MsgSlot *slot;
    size_t n = strlen(t != NULL ? t : "");
    if (V->nmsg - atomic_load_explicit(&V->nmsg_done, memory_order_relaxed) >= R->nmsgs - 1) {
        publish(V);
        syncflush(V);
    }
    slot = &R->msgs[id % R->nmsgs];
    R->msg_next = id + 1 == 0 ? 1 : id + 1;
    V->nmsg++;
    slot->id = id;
    n = n < sizeof slot->text - 1 ? n : sizeof slot->text - 1; /* already cut to fit */
    memcpy(slot->text, t != NULL ? t : "", n);
    slot->text[n] = '\0';
    return id;
}

/* Note the name of blackboard key 'key' for the writer (cold: once per key
** and stream; under the lock, which the writer holds while reading them). */
LISPBT_COLD static void knownkey(obs_Events *V, int key) {
    const char *name = bt_key_name(V->S, key);
    char *copy = malloc(strlen(name) + 1);
    pthread_mutex_lock(&V->mu);
    if (key >= V->nknames) {
        int ncap = V->nknames ? V->nknames : 16;
        char **p;
        while (ncap <= key) {
            ncap *= 2;
        }
        p = realloc(V->knames, sizeof *p * (size_t)ncap);
        if (p == NULL) {
            pthread_mutex_unlock(&V->mu);
            free(copy);
            return; /* written as "?" */
        }
        memset(p + V->nknames, 0, sizeof *p * (size_t)(ncap - V->nknames));
        V->knames = p;
        V->nknames = ncap;
    }
    if (copy != NULL) {
        strcpy(copy, name);
        free(V->knames[key]);
        V->knames[key] = copy;
    }
    pthread_mutex_unlock(&V->mu);
}

/* Append record 'r' (a marker, or a record copied from ring 'T' whose
** message it refers to; T is NULL for markers) to the stream's ring. */
static void putrec(obs_Events *V, const trace_Ring *T, const trace_Rec *r) {
    trace_Rec *d;
    int kind = (int)(r->w & 15);
    if (lispbt_unlikely(kind == TRACE_BB_READ)) {
        return; /* not part of the stream */
    }
    room(V);
    d = &V->ring.ev[V->ring.seq & V->ring.mask];
    *d = *r;
    if (lispbt_unlikely(kind >= TRACE_BB_WRITE && kind != TRACE_RUN && T != NULL)) {
        trace_Event e;
        decode(r, 0, &e);
        if (kind == TRACE_BB_WRITE && (e.key >= V->nknames || V->knames[e.key] == NULL)) {
            knownkey(V, e.key);
        }
        if (e.msg != 0) { /* its text, into the stream ring's message slots */
            uint32_t id = putmsg(V, trace_msg_text(T, &e));
            if (kind == TRACE_BB_WRITE) {
                d->x = id;
            } else {
                d->aux = id;
            }
        }
    }
    V->ring.seq++;
}

/* Push the pending markers that go before instance record 'q'. */
static void pendto(obs_Events *V, uint64_t q) {
    while (V->npend_done < V->npend && V->pend[V->npend_done].at <= q) {
        putrec(V, NULL, &V->pend[V->npend_done++].rec);
    }
}

/* Copy the instance records [lo, hi) of 'T' that hold events of their own. */
static void copyrange(obs_Events *V, const trace_Ring *T, uint64_t lo, uint64_t hi) {
    trace_Rec *ev = V->ring.ev;
    uint32_t mask = V->ring.mask;
    if (lispbt_likely(V->npend_done == V->npend &&
                      V->ring.seq + (hi - lo) - V->done_seen <= (uint64_t)V->ring.cap)) {
        /* no marker pending and room for all: plain copies up to the first
        ** record that needs more (a message, a key name, a bb_read) */
        const trace_Rec *src = T->ev;
        uint64_t s = V->ring.seq, tm = T->mask;
        for (; lo < hi; lo++) {
            const trace_Rec *r = &src[lo & tm];
            int kind = (int)(r->w & 15);
            if (lispbt_unlikely(kind >= TRACE_BB_WRITE && kind != TRACE_RUN)) {
                break;
            }
            ev[s++ & mask] = *r;
        }
        V->ring.seq = s;
    }
    for (; lo < hi; lo++) {
        const trace_Rec *r = &T->ev[lo & T->mask];
        int kind = (int)(r->w & 15);
        if (lispbt_likely((kind < TRACE_BB_WRITE || kind == TRACE_RUN) &&
                          V->npend_done == V->npend &&
                          V->ring.seq - V->done_seen < (uint64_t)V->ring.cap)) {
            ev[V->ring.seq++ & mask] = *r; /* node and tick records: a plain copy */
            continue;
        }
        if (V->npend_done < V->npend) {
            pendto(V, lo);
        }
        putrec(V, T, r);
    }
}

/* Is slot 'j' of 'T' the record of a run (that ends there)? */
static int runat(const trace_Ring *T, uint64_t j) {
    const trace_Rec *r = &T->ev[j & T->mask];
    return (r->w & 15) == TRACE_RUN && r->x + 2 * (uint64_t)r->aux - 1 == j;
}

/* Copy instance records [start, end) forward: the fallback of copytick
** for ticks with very many runs.  A run's record comes after the slots of
** its seqs, which hold older records; they are skipped when it is found. */
static void copyforward(obs_Events *V, const trace_Ring *T, uint64_t start, uint64_t end) {
    uint64_t from = start, q;
    for (q = start; q < end; q++) {
        if (runat(T, q)) {
            uint64_t x = T->ev[q & T->mask].x;
            copyrange(V, T, from, x > from ? x : from);
            copyrange(V, T, q, q + 1);
            from = q + 1;
        }
    }
    copyrange(V, T, from, end);
}

/* copytick for a short tick (at most COPY_SMALL slots, no marker pending,
** room for all): the slots of events found backward, then copied forward
** in one loop.  Not a limit: longer ticks take the general path. */
#define COPY_SMALL 32
static void copysmall(obs_Events *V, const trace_Ring *T, uint64_t start, uint64_t end) {
    const trace_Rec *src = T->ev;
    trace_Rec *dst = V->ring.ev;
    uint64_t keep[COPY_SMALL], j = end, tm = T->mask, mask = V->ring.mask, s;
    int n = 0;
    while (j > start) {
        const trace_Rec *r = &src[--j & tm];
        keep[n++] = j;
        if ((r->w & 15) == TRACE_RUN && r->x + 2 * (uint64_t)r->aux - 1 == j) {
            j = r->x > start ? r->x : start; /* the slots [x, j) hold older records */
        }
    }
    s = V->ring.seq;
    while (n > 0) {
        const trace_Rec *r = &src[keep[--n] & tm];
        int kind = (int)(r->w & 15);
        if (lispbt_likely(kind < TRACE_BB_WRITE || kind == TRACE_RUN)) {
            dst[s++ & mask] = *r; /* node and tick records: a plain copy */
        } else {
            V->ring.seq = s;
            putrec(V, T, r);
            s = V->ring.seq;
        }
    }
    V->ring.seq = s;
    V->npend_done = 0;
}

/* Copy the instance records [start, end) into the stream's ring: a pass
** backward finds the runs (a run's record is the last slot of its seqs,
** the slots before it hold older records), so only the slots of events
** are read and copied, in stretches. */
static void copytick(obs_Events *V, const trace_Ring *T, uint64_t start, uint64_t end) {
    uint64_t lo[OBS_EVT_SEGS], hi[OBS_EVT_SEGS], j = end, top = end;
    int n = 0;
    if (lispbt_likely(end - start <= COPY_SMALL && V->npend == 0 &&
                      V->ring.seq + (end - start) - V->done_seen <= (uint64_t)V->ring.cap)) {
        copysmall(V, T, start, end);
        return;
    }
    while (j > start) {
        if (runat(T, j - 1)) {
            uint64_t x = T->ev[(j - 1) & T->mask].x;
            if (x + 1 < j) { /* a gap of older records: [x, j - 1) */
                if (n == OBS_EVT_SEGS) {
                    copyforward(V, T, start, top);
                    break;
                }
                lo[n] = j - 1;
                hi[n++] = top;
                top = j = x > start ? x : start;
                continue;
            }
        }
        j--;
        if (j == start) {
            if (n == OBS_EVT_SEGS) {
                copyforward(V, T, start, top);
                break;
            }
            lo[n] = start;
            hi[n++] = top;
        }
    }
    while (n > 0) {
        n--;
        copyrange(V, T, lo[n], hi[n]);
    }
    pendto(V, UINT64_MAX);
    V->npend = V->npend_done = 0;
}

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
static void runstart(obs_Events *V, bt_Inst *I);

static void note(obs_Events *V, const char *type, int64_t tick, int64_t ts, const char *data,
                 size_t len, int after) {
    obs_Note *n;
    if (!V->on) {
        return;
    }
    if (!V->run_open) { /* the first event after events.enable #t opens the run */
        runstart(V, NULL);
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
        putrec(V, NULL, &r);
        publish(V);
    }
}

void obs_events_note(lisp_State *S, const char *type, int64_t ts_ns, const char *data,
                     size_t len) {
    obs_Events *V = getev(S);
    if (V != NULL) {
        note(V, type, V->E->evt_cur != NULL ? bt_inst_ticks(V->E->evt_cur) : -1,
             ts_ns < 0 ? clk_now(V->clock) : ts_ns, data, len, 0);
    }
}

int obs_events_fixed(lisp_State *S) {
    obs_Events *V = getev(S);
    return V != NULL && V->fixed;
}

/* ---- run_start, bt_def, run_end (cold, under the lock after a flush) ---- */

static void dslof(obs_Events *V, const bt_Def *D, sbuf *b) {
    lisp_writen(V->S, b, bt_todsl((bt_Def *)D), 0, (size_t)1 << 30);
}

/* Lines made on the host's thread: after everything published. */
static void coldbegin(obs_Events *V) {
    publish(V);
    pthread_mutex_lock(&V->mu);
    V->hold = 0;
    flush(V);
}

static void coldend(obs_Events *V) {
    pthread_mutex_unlock(&V->mu);
}

static void runstart(obs_Events *V, bt_Inst *I) {
    sbuf dsl, *b;
    int64_t now = clk_now(V->clock);
    char hz[48];
    sbuf_initm(&dsl, V->M);
    if (I != NULL) { /* else a note opens the run: no tree yet (tree_hash of "") */
        dslof(V, bt_inst_def(I), &dsl); /* may collect: before the lock */
    }
    snprintf(hz, sizeof hz, "%.17g", V->tick_hz);
    coldbegin(V);
    V->runs++;
    V->seq = 0;
    V->ndefs = 0;
    V->E->evt_def = NULL;
    if (V->fixed) {
        snprintf(V->run_id, sizeof V->run_id, "lispbt-fixed-%llu", (unsigned long long)V->runs);
    } else {
        snprintf(V->run_id, sizeof V->run_id, "lispbt-%lld-%ld-%llu",
                 (long long)((now + V->unix_off) / 1000000), (long)getpid(),
                 (unsigned long long)V->runs);
    }
    V->run_open = 1;
    b = envelope(V, "run_start", now, -1);
    sbuf_puts(b, "{\"git_sha\":\"unknown\",\"host\":{\"name\":\"lispbt\",\"version\":\"0.1.0\","
                 "\"platform\":\"linux\"},\"contract_version\":\"1.0.0\","
                 "\"contract_id\":\"runtime-contract-v1.0.0\",\"tick_hz\":");
    sbuf_puts(b, hz);
    sbuf_puts(b, ",\"tree_hash\":");
    puthash(b, dsl.len ? dsl.p : "", dsl.len);
    sbuf_puts(b, ",\"capabilities\":{\"reset\":true}}");
    finishline(V);
    coldend(V);
    sbuf_free(&dsl);
}

static void btdef(obs_Events *V, const bt_Def *D) {
    sbuf dsl, src, *b;
    lisp_Value sv = bt_def_source(D);
    int n = bt_def_nodes(D), i, j, ne = 0;
    sbuf_initm(&dsl, V->M);
    sbuf_initm(&src, V->M);
    dslof(V, D, &dsl); /* may collect: before the lock */
    if (sv.tag == LISP_TSTRING) { /* source text (bt.load-dsl: the file's raw text) */
        size_t len;
        const char *p = lisp_str(sv, &len);
        sbuf_putn(&src, p, len);
    } else { /* DSL data: its written form */
        lisp_writen(V->S, &src, sv, 0, (size_t)1 << 30);
    }
    coldbegin(V);
    b = envelope(V, "bt_def", clk_now(V->clock), -1);
    sbuf_puts(b, "{\"tree_name\":\"bt\",\"dsl\":");
    sbuf_json_string(b, dsl.len ? dsl.p : "", dsl.len);
    sbuf_puts(b, ",\"tree_hash\":");
    puthash(b, dsl.len ? dsl.p : "", dsl.len);
    sbuf_puts(b, ",\"source_hash\":");
    puthash(b, src.len ? src.p : "", src.len);
    sbuf_puts(b, ",\"canonical_dsl_hash\":");
    puthash(b, dsl.len ? dsl.p : "", dsl.len);
    sbuf_puts(b, ",\"nodes\":[");
    for (i = 0; i < n; i++) {
        const char *kind = bt_def_kindname(D, i), *name = bt_def_nodename(D, i);
        sbuf_printf(b, "%s{\"id\":%d,\"kind\":", i ? "," : "", i);
        sbuf_json_string(b, kind, strlen(kind));
        sbuf_puts(b, ",\"name\":");
        sbuf_json_string(b, name, strlen(name));
        sbuf_putc(b, '}');
    }
    sbuf_puts(b, "],\"edges\":[");
    for (i = 0; i < n; i++) { /* children of i: i+1, then each next sibling */
        int end = i + bt_def_subtree(D, i), k = 0;
        for (j = i + 1; j < end; j += bt_def_subtree(D, j), k++) {
            sbuf_printf(b, "%s{\"parent\":%d,\"child\":%d,\"index\":%d}", ne++ ? "," : "", i,
                        j, k);
        }
    }
    sbuf_puts(b, "]}");
    finishline(V);
    coldend(V);
    sbuf_free(&dsl);
    sbuf_free(&src);
}

static void runend(obs_Events *V) {
    sbuf *b;
    if (!V->run_open) {
        return;
    }
    coldbegin(V);
    b = envelope(V, "run_end", clk_now(V->clock), -1);
    sbuf_printf(b, "{\"events\":%llu,\"dropped\":%llu}", (unsigned long long)V->seq,
                (unsigned long long)atomic_load_explicit(&V->drops, memory_order_relaxed));
    finishline(V);
    if (V->f != NULL) {
        fflush(V->f);
    }
    coldend(V);
    V->run_open = 0;
    V->ndefs = 0;
    V->E->evt_def = NULL;
    V->E->evt_pre = 1; /* the next run's run_start */
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
    btdef(V, D);
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
        putrec(V, NULL, &r);
        publish(V);
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

/* The tick's node path (the stack at the last leaf's exit), root status
** and duration, from its records as copied: stream ring [p0, ring.seq),
** where a run of leaves is one record (audit mode). */
static void auditscan(const obs_Events *V, uint64_t p0, obs_Audit *a) {
    const trace_Ring *R = &V->ring;
    int depth = 0, lastenter = -1;
    int32_t stack[OBS_EVT_PATH_MAX];
    for (; p0 < R->seq; p0++) {
        const trace_Rec *r = &R->ev[p0 & R->mask];
        int kind = (int)(r->w & 15), node = (int)(r->w >> 10) - 1;
        if (kind == TRACE_RUN) { /* its last leaf is the deepest node so far */
            int n = depth < OBS_EVT_PATH_MAX ? depth : OBS_EVT_PATH_MAX;
            memcpy(a->path, stack, sizeof stack[0] * (size_t)n);
            if (n < OBS_EVT_PATH_MAX) {
                a->path[n++] = node + (int)r->aux - 1;
            }
            a->npath = n;
            lastenter = -1;
        } else if (kind == TRACE_NODE_ENTER) {
            if (depth < OBS_EVT_PATH_MAX) {
                stack[depth] = node;
            }
            depth++;
            lastenter = node;
        } else if (kind == TRACE_NODE_EXIT) {
            if (node == lastenter) { /* a leaf, or a node whose children did not run */
                a->npath = depth < OBS_EVT_PATH_MAX ? depth : OBS_EVT_PATH_MAX;
                memcpy(a->path, stack, sizeof stack[0] * (size_t)a->npath);
            }
            depth -= depth > 0;
        } else if (kind == TRACE_TICK_END) {
            a->status = (uint8_t)(r->w >> 4 & 7);
            a->tick_ns = (int64_t)r->x;
        }
    }
}

/* Copy the tick's records [seq0, ...) of I's trace ring into the stream's
** ring; with 'a', the tick's audit figures and marker after them. */
static void copyrecs(obs_Events *V, bt_Inst *I, uint64_t seq0, obs_Audit *a) {
    const trace_Ring *T = bt_inst_trace(I);
    uint64_t first = T->seq - (uint64_t)trace_count(T), p0;
    if (lispbt_unlikely(seq0 < first)) { /* more than the instance ring keeps */
        char msg[96];
        trace_Rec r;
        uint32_t id;
        uint64_t lost = first - seq0, j;
        for (j = first; j < T->seq && j < first + 2 * TRACE_RUN_MAX; j++) {
            if (runat(T, j)) { /* the first run: if it began before 'first', the */
                if (T->ev[j & T->mask].x < first) { /* slots up to it hold older */
                    lost += j + 1 - first;            /* records, and it is lost too */
                    first = j + 1;
                }
                break;
            }
        }
        snprintf(msg, sizeof msg, "events dropped: %llu (instance trace ring too small)",
                 (unsigned long long)lost);
        atomic_fetch_add_explicit(&V->drops, lost, memory_order_relaxed);
        if (a != NULL) {
            a->dropped = 1;
        }
        r.tick = bt_inst_ticks(I);
        r.ts_ns = clk_now(V->clock);
        r.x = 0;
        r.w = (uint32_t)TRACE_ERROR;
        id = putmsg(V, msg);
        r.aux = id;
        putrec(V, NULL, &r);
        seq0 = first;
    }
    p0 = V->ring.seq;
    copytick(V, T, seq0, T->seq);
    if (a != NULL) {
        trace_Event m;
        auditscan(V, p0, a);
        room(V);
        V->audit[V->ring.seq % (uint64_t)V->ring_size] = *a;
        m = trace_event(TRACE_TICK_BEGIN, bt_inst_ticks(I), -1, clk_now(V->clock));
        m.status = AUDIT;
        trace_push(&V->ring, &m);
    }
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

/* A tick over its budget: deadline_exceeded, after its budget_warning. */
LISPBT_COLD static void deadline(obs_Events *V, bt_Inst *I, const bt_TickStats *ts) {
    sbuf b;
    sbuf_init(&b);
    PUTLIT(&b, "{\"source\":\"tick_end\",\"tick_budget_ms\":");
    putms(&b, ts->budget_ns);
    PUTLIT(&b, ",\"tick_elapsed_ms\":");
    putms(&b, msof(V, ts->last_ns));
    sbuf_putc(&b, '}');
    if (!b.oom) { /* pending at the end of the tick's records (V->E->evt_cur is I) */
        note(V, "deadline_exceeded", bt_inst_ticks(I), clk_now(V->clock), b.p, b.len, 0);
    }
    sbuf_free(&b);
}

/* The bb_snapshot asked for by events.snapshot-bb: after tick_begin. */
LISPBT_COLD static void snapshot(obs_Events *V, bt_Inst *I) {
    sbuf b;
    int it = 0, key, count = 0;
    lisp_Value v;
    sbuf_initm(&b, V->M);
    PUTLIT(&b, "{\"entries\":[");
    while (bt_bb_next(I, &it, &key, &v)) {
        const char *name = bt_key_name(V->S, key);
        if (v.tag == LISP_TNIL) {
            continue; /* deleted (bb_delete) */
        }
        if (V->snap_req == 1 && count == OBS_EVT_SNAPSHOT_MAX) {
            break;
        }
        sbuf_puts(&b, count++ ? ",[" : "[");
        sbuf_json_string(&b, name, strlen(name));
        sbuf_putc(&b, ',');
        switch (v.tag) {
            case LISP_TNIL: PUTLIT(&b, "null"); break;
            case LISP_TBOOL: sbuf_puts(&b, v.u.b ? "true" : "false"); break;
            case LISP_TINT: putint(&b, v.u.i); break;
            case LISP_TFLOAT:
                if (v.u.f == v.u.f && v.u.f - v.u.f == 0) { /* finite */
                    sbuf_printf(&b, "%.17g", v.u.f);
                } else {
                    PUTLIT(&b, "null");
                }
                break;
            case LISP_TSTRING: {
                size_t len;
                const char *s = lisp_str(v, &len);
                sbuf_json_string(&b, s, len < OBS_EVT_PREVIEW_MAX ? len : OBS_EVT_PREVIEW_MAX);
                break;
            }
            default: { /* its written form, as a string */
                sbuf w;
                sbuf_initm(&w, V->M);
                lisp_writen(V->S, &w, v, 0, OBS_EVT_PREVIEW_MAX);
                sbuf_json_string(&b, w.len ? w.p : "", w.len);
                sbuf_free(&w);
                break;
            }
        }
        sbuf_putc(&b, ']');
    }
    PUTLIT(&b, "]}");
    V->snap_req = 0;
    if (!b.oom) {
        note(V, "bb_snapshot", -1, clk_now(V->clock), b.p, b.len, 1);
    } else {
        atomic_fetch_add_explicit(&V->drops, 1, memory_order_relaxed);
    }
    sbuf_free(&b);
}

static void evtick(void *ud, bt_Inst *I, int phase, uint64_t seq0) {
    obs_Events *V = ud;
    bt_TickStats ts;
    if (phase == 0) { /* only while E->evt_pre: something to emit before the tick's events */
        if (!V->run_open) {
            runstart(V, I);
        }
        seedef(V, bt_inst_def(I));
        V->npend = V->npend_done = 0;
        if (lispbt_unlikely(V->snap_req)) {
            snapshot(V, I);
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
        deadline(V, I, &ts);
    }
    if (V->audit != NULL) {
        obs_Audit a;
        auditend(V, &a);
        copyrecs(V, I, seq0, &a);
    } else {
        copyrecs(V, I, seq0, NULL);
    }
    publish(V);
    if (V->flush_each) {
        syncflush(V);
    } else if (V->ring.seq - V->done_seen > (uint64_t)V->ring.cap / 2) {
        V->done_seen = atomic_load_explicit(&V->done, memory_order_acquire);
        if (V->ring.seq - V->done_seen > (uint64_t)V->ring.cap / 2) {
            pthread_cond_signal(&V->cv); /* wake the writer */
        }
    }
}

/* ---- open / close ---- */

static void lqclear(obs_Events *V) {
    while (V->lqcount > 0) {
        free(V->lq[V->lqhead]);
        V->lqhead = (V->lqhead + 1) % OBS_EVT_LISTEN_MAX;
        V->lqcount--;
    }
}


static int alloctail(obs_Events *V, int n) {
    int nt = n < OBS_EVT_TAIL_MAX ? n : OBS_EVT_TAIL_MAX;
    V->tail = mem_calloc(V->M, sizeof *V->tail * (size_t)nt);
    V->tlen = mem_calloc(V->M, sizeof *V->tlen * (size_t)nt);
    V->tcap = mem_calloc(V->M, sizeof *V->tcap * (size_t)nt);
    V->ring_size = n;
    V->tail_size = nt;
    if (V->audit_on) {
        V->audit = mem_calloc(V->M, sizeof *V->audit * (size_t)n);
    }
    if (V->tail == NULL || V->tlen == NULL || V->tcap == NULL ||
        (V->audit_on && V->audit == NULL) || trace_init(&V->ring, V->M, n) != 0) {
        return -1;
    }
    V->ring_size = n;
    V->thead = V->tcount = 0;
    atomic_store_explicit(&V->pub, V->ring.seq, memory_order_relaxed);
    atomic_store_explicit(&V->done, V->ring.seq, memory_order_relaxed);
    V->done_seen = V->ring.seq;
    V->nmsg = 0;
    atomic_store_explicit(&V->nmsg_done, 0, memory_order_relaxed);
    return 0;
}

static void freetail(obs_Events *V) {
    int i;
    if (V->tail != NULL && V->tcap != NULL) {
        for (i = 0; i < V->tail_size; i++) {
            free(V->tail[i]); /* the writer's */
        }
    }
    if (V->tail != NULL) {
        mem_free(V->M, V->tail, sizeof *V->tail * (size_t)V->tail_size);
    }
    if (V->tlen != NULL) {
        mem_free(V->M, V->tlen, sizeof *V->tlen * (size_t)V->tail_size);
    }
    if (V->tcap != NULL) {
        mem_free(V->M, V->tcap, sizeof *V->tcap * (size_t)V->tail_size);
    }
    if (V->audit != NULL) {
        mem_free(V->M, V->audit, sizeof *V->audit * (size_t)V->ring_size);
    }
    V->audit = NULL;
    V->tail = NULL;
    V->tlen = NULL;
    V->tcap = NULL;
    V->tcount = 0;
    trace_free(&V->ring);
}

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
    if (pthread_cond_init(&V->cv, NULL) != 0 || alloctail(V, OBS_EVT_RING_DEFAULT) != 0) {
        freetail(V);
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

static void closefile(obs_Events *V) {
    if (V->f != NULL) {
        fclose(V->f);
        V->f = NULL;
    }
    if (V->path != NULL) {
        mem_free(V->M, V->path, strlen(V->path) + 1);
        V->path = NULL;
    }
}

static void setoff(obs_Events *V, int on) {
    if (on && !V->on) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        pthread_mutex_lock(&V->mu);
        V->unix_off = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - clk_now(V->clock);
        atomic_store_explicit(&V->drops, 0, memory_order_relaxed);
        pthread_mutex_unlock(&V->mu);
        startwriter(V);
    } else if (!on && V->on) {
        runend(V);
        stopwriter(V);
    }
    V->on = on;
    V->E->evt_on = on;
    V->E->evt_pre = 1;
}

void obs_events_close(lisp_State *S) {
    obs_Events *V = getev(S);
    if (V == NULL) {
        return;
    }
    setoff(V, 0);
    stopwriter(V);
    syncflush(V);
    closefile(V);
    freetail(V);
    while (V->nknames > 0) {
        free(V->knames[--V->nknames]);
    }
    free(V->knames);
    lqclear(V);
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

/* ---- the listener queue (host.events.on_line) ---- */

int obs_events_listen(lisp_State *S, int on) {
    obs_Events *V = getev(S);
    int ok = 1;
    pthread_mutex_lock(&V->mu);
    if (on && V->lq == NULL) {
        V->lq = calloc(OBS_EVT_LISTEN_MAX, sizeof *V->lq);
        V->lqlen = calloc(OBS_EVT_LISTEN_MAX, sizeof *V->lqlen);
        if (V->lq == NULL || V->lqlen == NULL) {
            free(V->lq);
            free(V->lqlen);
            V->lq = NULL;
            V->lqlen = NULL;
            ok = 0;
        }
    }
    if (!on && V->lq != NULL) {
        lqclear(V);
    }
    V->listening = on && ok;
    pthread_mutex_unlock(&V->mu);
    return ok ? 0 : -1;
}

char *obs_events_nextline(lisp_State *S, size_t *len) {
    obs_Events *V = getev(S);
    char *line = NULL;
    pthread_mutex_lock(&V->mu);
    if (V->lqcount > 0) {
        line = V->lq[V->lqhead];
        *len = V->lqlen[V->lqhead];
        V->lqhead = (V->lqhead + 1) % OBS_EVT_LISTEN_MAX;
        V->lqcount--;
    }
    pthread_mutex_unlock(&V->mu);
    return line;
}

uint64_t obs_events_listen_drops(lisp_State *S) {
    obs_Events *V = getev(S);
    uint64_t n;
    pthread_mutex_lock(&V->mu);
    n = V->ldrops;
    pthread_mutex_unlock(&V->mu);
    return n;
}

void obs_events_sync(lisp_State *S) {
    obs_Events *V = getev(S);
    publish(V);
    syncflush(V);
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
    setoff(getev(S), checkbool(S, argv, 0));
    return lisp_nil();
}

static lisp_Value cfun_events_setpath(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = getev(S);
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
    coldbegin(V); /* what is pending belongs to the old file */
    closefile(V);
    V->f = f;
    V->path = copy;
    coldend(V);
    return lisp_nil();
}

static lisp_Value cfun_events_setflush(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = getev(S);
    (void)argc;
    int on = checkbool(S, argv, 0);
    coldbegin(V);
    V->flush_each = on;
    coldend(V);
    return lisp_nil();
}

static lisp_Value cfun_events_setdeterministic(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = getev(S);
    int on = checkbool(S, argv, 0);
    (void)argc;
    coldbegin(V);
    V->fixed = on;
    coldend(V);
    return lisp_nil();
}

static lisp_Value cfun_events_enableaudit(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = getev(S);
    int on = checkbool(S, argv, 0);
    (void)argc;
    int fail = 0;
    coldbegin(V); /* markers pending refer to the figures of the old array */
    if (on && V->audit == NULL) {
        V->audit = mem_calloc(V->M, sizeof *V->audit * (size_t)V->ring_size);
        fail = V->audit == NULL;
    } else if (!on && V->audit != NULL) {
        mem_free(V->M, V->audit, sizeof *V->audit * (size_t)V->ring_size);
        V->audit = NULL;
    }
    V->audit_on = on && !fail;
    V->E->evt_pre = 1; /* recomputed at the next tick's phase 0 */
    coldend(V);
    if (fail) {
        lisp_memerror(S);
    }
    return lisp_nil();
}

static lisp_Value cfun_events_setringsize(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = getev(S);
    int n = (int)lisp_checkintrange(S, argv, 0, "size", LISP_INTONLY, 1, OBS_EVT_RING_MAX);
    int fail = 0;
    (void)argc;
    coldbegin(V);
    freetail(V);
    if (alloctail(V, n) != 0) { /* back to the default, which fitted before */
        fail = 1;
        freetail(V);
        if (alloctail(V, OBS_EVT_RING_DEFAULT) != 0) {
            freetail(V);
        }
    }
    coldend(V);
    if (fail) {
        lisp_memerror(S);
    }
    return lisp_nil();
}

static lisp_Value cfun_events_dump(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = getev(S);
    int64_t n = OBS_EVT_RING_MAX, i;
    int top;
    lisp_Value list = lisp_nil();
    if (argc > 0) {
        n = lisp_checkintrange(S, argv, 0, "n", LISP_INTONLY, 0, OBS_EVT_RING_MAX);
    }
    coldbegin(V);
    V->hold = 1; /* the writer thread leaves the tail alone while it is read */
    coldend(V);
    if (V->tail == NULL) {
        syncflush(V);
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
    obs_Events *V = getev(S);
    V->snap_req = argc > 0 && checkbool(S, argv, 0) ? 2 : 1;
    V->E->evt_pre = 1;
    return lisp_nil();
}

static lisp_Value cfun_events_settickhz(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = getev(S);
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
