/*
** obs_evt_int.h -- internals of the event stream shared by obs_events.c
** (the tick hook, open/close, the events.* builtins), obs_evt_fmt.c (the
** JSON lines) and obs_evt_write.c (the stream's ring, the writer thread,
** the tail and the listener queue).  Private to obs/.  See LICENSE for
** copyright; docs/events.md.
**
** Tick side (the thread that ticks; no formatting, no allocation, no lock).
** While the stream is on (bt_Env.evt_on) every tick is traced into the
** instance's own trace ring (bt_trace.h: fixed 32-byte records) at the
** instance's profile level: at level timing one record per node event with
** its duration, at level counters the node events of consecutive C leaves
** as one run record.  At the end of the tick (evtick, phase 1) copytick
** (obs_evt_write.c) copies the tick's records, still binary, into the
** stream's ring (a trace_Ring of 'ring_size' slots from the host's heap): a
** backward pass finds the runs, so only the slots that hold events are
** copied, and a message (an error text, a string value) is copied into the
** stream ring's message slots.  Then the new ring head is published ('pub',
** release).  The hook's phase 0 (before the tick's first event) is called
** only while E->evt_pre or for a tree other than E->evt_def: one call per
** tick in the steady state.
**
** Writer.  Records become JSON lines only in obsW_flush, under the writer
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
#ifndef LISPBT_OBS_EVT_INT_H
#define LISPBT_OBS_EVT_INT_H

#include "conf.h"

#include <pthread.h>
#include <stdatomic.h>

#include "bt_trace.h"
#include "obs_events.h"
#include "sbuf.h"

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
    pthread_mutex_t mu;    /* the writer lock: obsW_flush and what it reads */
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

static inline obs_Events *obsE_getev(lisp_State *S) {
    return lisp_slot(S, LISPBT_SLOT_OBS);
}

/* Publish what the host's thread has put in the ring. */
static inline void obsW_publish(obs_Events *V) {
    atomic_store_explicit(&V->pub, V->ring.seq, memory_order_release);
}

#define PUTLIT(b, s) sbuf_putn((b), (s), sizeof(s) - 1)

/* obs_events.c: queue a note of 'type' with payload 'data' (host's thread). */
void obsE_note(obs_Events *V, const char *type, int64_t tick, int64_t ts, const char *data,
               size_t len, int after);

/* obs_evt_fmt.c: the lines.  obsF_envelope starts a line of 'type' in
** V->line (the envelope up to "data":), obsF_finishline closes it and
** hands it to obsW_emitline; obsF_recordline writes a decoded tick record
** (obsF_decode: a stream ring record as an event, runs not expanded).
** run_start, bt_def and run_end are made on the host's thread, under the
** lock after a flush; deadline_exceeded and bb_snapshot become notes. */
sbuf *obsF_envelope(obs_Events *V, const char *type, int64_t ts_ns, int64_t tick);
void obsF_finishline(obs_Events *V);
void obsF_recordline(obs_Events *V, const trace_Event *e);
void obsF_decode(const trace_Rec *r, uint64_t seq, trace_Event *out);
void obsF_runstart(obs_Events *V, bt_Inst *I);
void obsF_btdef(obs_Events *V, const bt_Def *D);
void obsF_runend(obs_Events *V);
void obsF_deadline(obs_Events *V, bt_Inst *I, const bt_TickStats *ts);
void obsF_snapshot(obs_Events *V, bt_Inst *I);

/* obs_evt_write.c: the writer side (under 'mu': obsW_emitline, obsW_flush)
** and the stream's ring on the host's thread. */
void obsW_emitline(obs_Events *V, const sbuf *b);
void obsW_flush(obs_Events *V);
void obsW_syncflush(obs_Events *V);
void obsW_startwriter(obs_Events *V);
void obsW_stopwriter(obs_Events *V);
void obsW_putrec(obs_Events *V, const trace_Ring *T, const trace_Rec *r);
void obsW_copyrecs(obs_Events *V, bt_Inst *I, uint64_t seq0, obs_Audit *a);
void obsW_coldbegin(obs_Events *V);
void obsW_coldend(obs_Events *V);
void obsW_lqclear(obs_Events *V);
int obsW_alloctail(obs_Events *V, int n);
void obsW_freetail(obs_Events *V);
void obsW_closefile(obs_Events *V);

#endif
