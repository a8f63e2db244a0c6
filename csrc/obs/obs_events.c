/*
** obs_events.c -- the host's canonical event stream: mbt.evt.v1 JSON lines
** (docs/events.md) and the events.* builtins.  See LICENSE for copyright.
**
** Write side.  While the stream is on (bt_Env.evt_on) every tick runs with
** tracing at level timing into the instance's own trace ring (bt_trace.h:
** fixed 32-byte records, no allocation, no formatting, no lock).  At the
** end of the tick (evtick, phase 1) the tick's records are copied, still
** binary, into the stream's ring, a trace_Ring of 'ring_size' slots taken
** from the host's heap.  So the trace ring and the stream share one record
** format and one set of push points; the stream is a second reader.
**
** Read side.  Records become JSON lines only in flush(): on events.dump,
** events.set-path, events.set-ring-size, events.enable #f, host close, at
** the end of every tick when set-flush-each-message is on, and on ring
** pressure, i.e. before a copy would overwrite a record not yet written
** (that is the documented point where the tick waits for the writer).  So
** nothing is lost in the stream's ring.  A tick that pushes more events
** than its instance's trace ring keeps (bt.set-trace-capacity) loses the
** oldest of them: they are counted in 'drops', reported by an error event
** and in run_end.  Lines go to the file (if events.set-path named one) and
** into a tail of the newest 'ring_size' lines, which events.dump returns.
**
** Envelope seq numbers are given when a line is formatted, so the lines
** of the stream (tick records and the run_start / bt_def / run_end lines
** made on the cold path) are numbered 1, 2, 3 ... without gaps.
*/
#include "conf.h"

#include <errno.h>
#include <stdio.h>
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
    int ring_size;     /* slots of 'ring' and lines of the tail */
    uint64_t flushed;  /* ring seq of the first record not yet written */
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
    char **tail;       /* the newest lines, a ring of 'ring_size' */
    size_t *tlen;      /* length of each slot's line */
    size_t *tcap;      /* bytes allocated for each slot (kept when reused) */
    int thead, tcount;
    uint64_t drops;
    sbuf line;
    /* gc_begin/gc_end: figures by slot (id * 2 + phase) % OBS_EVT_GC_MAX;
    ** during a tick, markers wait in 'gcpend' with the instance's trace seq
    ** at the time, and copyrecs puts them between that tick's records. */
    lisp_GcEvent gcs[OBS_EVT_GC_MAX];
    int gclive;        /* slots whose line is not written yet */
    bt_Inst *cur;      /* the instance ticking, between the hook's phases */
    struct {
        uint64_t at;
        int slot;
        int64_t ts;
    } gcpend[OBS_EVT_GC_MAX];
    int ngcpend, npend_done;
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
        V->drops++;
        return;
    }
    if (V->f != NULL) {
        fwrite(b->p, 1, b->len, V->f);
        fputc('\n', V->f);
        if (V->flush_each) {
            fflush(V->f);
        }
    }
    if (V->tcount == V->ring_size) { /* the oldest goes */
        V->thead = V->thead + 1 == V->ring_size ? 0 : V->thead + 1;
        V->tcount--;
    }
    slot = V->thead + V->tcount;
    slot -= slot >= V->ring_size ? V->ring_size : 0;
    if (V->tcap[slot] < b->len + 1) {
        size_t ncap = b->len + 1 < 256 ? 256 : b->len + 1;
        char *p = mem_realloc(V->M, V->tail[slot], V->tcap[slot], ncap);
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
    if (g->phase) {
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
    V->gclive--;
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
            PUTLIT(b, "\",\"dur_ms\":");
            putms(b, msof(V, e->duration_ns));
            sbuf_putc(b, '}');
            break;
        case TRACE_BB_WRITE: {
            sbuf pv;
            sbuf_initm(&pv, V->M);
            preview(R, e, &pv);
            b = envelope(V, "bb_write", e->ts_ns, e->tick);
            sbuf_puts(b, "{\"key\":");
            sbuf_json_string(b, bt_key_name(V->S, e->key), strlen(bt_key_name(V->S, e->key)));
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

/* Write every record not yet written (the writer; see the header). */
static void flush(obs_Events *V) {
    int count = trace_count(&V->ring), i;
    uint64_t first = V->ring.seq - (uint64_t)count;
    trace_Event e;
    if (V->flushed < first) { /* cannot happen: copyrecs flushes first */
        V->drops += first - V->flushed;
        V->flushed = first;
    }
    for (i = (int)(V->flushed - first); i < count; i++) {
        if (trace_get(&V->ring, i, &e) != NULL) {
            recordline(V, &e);
        }
    }
    V->flushed = V->ring.seq;
    if (V->f != NULL) {
        fflush(V->f);
    }
}

/* ---- run_start, bt_def, run_end ---- */

static void dslof(obs_Events *V, const bt_Def *D, sbuf *b) {
    lisp_writen(V->S, b, bt_todsl((bt_Def *)D), 0, (size_t)1 << 30);
}

static void runstart(obs_Events *V, bt_Inst *I) {
    sbuf dsl, *b;
    int64_t now = clk_now(V->clock);
    sbuf_initm(&dsl, V->M);
    dslof(V, bt_inst_def(I), &dsl);
    V->runs++;
    V->seq = 0;
    V->ndefs = 0;
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
                 "\"contract_id\":\"runtime-contract-v1.0.0\",\"tick_hz\":1,\"tree_hash\":");
    puthash(b, dsl.len ? dsl.p : "", dsl.len);
    sbuf_puts(b, ",\"capabilities\":{\"reset\":true}}");
    sbuf_free(&dsl);
    finishline(V);
}

static void btdef(obs_Events *V, const bt_Def *D) {
    sbuf dsl, *b;
    int n = bt_def_nodes(D), i, j, ne = 0;
    sbuf_initm(&dsl, V->M);
    dslof(V, D, &dsl);
    b = envelope(V, "bt_def", clk_now(V->clock), -1);
    sbuf_puts(b, "{\"tree_name\":\"bt\",\"dsl\":");
    sbuf_json_string(b, dsl.len ? dsl.p : "", dsl.len);
    sbuf_puts(b, ",\"tree_hash\":");
    puthash(b, dsl.len ? dsl.p : "", dsl.len);
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
    sbuf_free(&dsl);
    finishline(V);
}

static void runend(obs_Events *V) {
    sbuf *b;
    if (!V->run_open) {
        return;
    }
    flush(V);
    b = envelope(V, "run_end", clk_now(V->clock), -1);
    sbuf_printf(b, "{\"events\":%llu,\"dropped\":%llu}", (unsigned long long)V->seq,
                (unsigned long long)V->drops);
    finishline(V);
    V->run_open = 0;
    V->ndefs = 0;
    if (V->f != NULL) {
        fflush(V->f);
    }
}

/* ---- the tick hook (bt_Env.evt_tick) ---- */

static void seedef(obs_Events *V, const bt_Def *D) {
    int i;
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
    flush(V);
    btdef(V, D);
}

/* Push the marker of pending GC event 'k' into the stream's ring. */
static void gcmarker(obs_Events *V, int k) {
    trace_Event m = trace_event(TRACE_TICK_BEGIN, V->cur ? bt_inst_ticks(V->cur) : -1,
                                V->gcpend[k].slot, V->gcpend[k].ts);
    m.status = GCMARK;
    trace_push(&V->ring, &m);
}

/* Room for one more record in the stream's ring without overwriting one
** not yet written: else the writer runs now (ring pressure). */
static void room(obs_Events *V) {
    if (V->ring.seq - V->flushed >= (uint64_t)V->ring.cap) {
        flush(V);
    }
}

/* Copy the records [seq0, seq) of I's trace ring into the stream's ring;
** with 'a', note the tick's node path (the stack at the last leaf's exit),
** root status and duration in it. */
static void copyrecs(obs_Events *V, bt_Inst *I, uint64_t seq0, obs_Audit *a) {
    trace_Ring *T = bt_inst_trace(I);
    int count = trace_count(T), i, depth = 0, lastenter = -1;
    int32_t stack[OBS_EVT_PATH_MAX];
    uint64_t first = T->seq - (uint64_t)count;
    trace_Event e;
    if (seq0 < first) { /* the tick pushed more than the instance ring keeps */
        trace_Event x = trace_event(TRACE_ERROR, bt_inst_ticks(I), -1, clk_now(V->clock));
        char msg[96];
        V->drops += first - seq0;
        if (a != NULL) {
            a->dropped = 1;
        }
        snprintf(msg, sizeof msg, "events dropped: %llu (instance trace ring too small)",
                 (unsigned long long)(first - seq0));
        seq0 = first;
        room(V);
        trace_push_msg(&V->ring, &x, msg);
    }
    for (i = (int)(seq0 - first); i < count; i++) {
        room(V);
        if (trace_get(T, i, &e) == NULL) {
            continue;
        }
        while (V->npend_done < V->ngcpend && V->gcpend[V->npend_done].at <= e.seq) {
            gcmarker(V, V->npend_done++);
            room(V);
        }
        if (a != NULL) {
            if (e.kind == TRACE_NODE_ENTER) {
                if (depth < OBS_EVT_PATH_MAX) {
                    stack[depth] = e.node;
                }
                depth++;
                lastenter = e.node;
            } else if (e.kind == TRACE_NODE_EXIT) {
                if (e.node == lastenter) { /* a leaf, or a node whose children did not run */
                    a->npath = depth < OBS_EVT_PATH_MAX ? depth : OBS_EVT_PATH_MAX;
                    memcpy(a->path, stack, sizeof stack[0] * (size_t)a->npath);
                }
                depth -= depth > 0;
            } else if (e.kind == TRACE_TICK_END) {
                a->status = e.status;
                a->tick_ns = e.duration_ns;
            }
        }
        if (e.vtag == TRACE_V_STR || e.vtag == TRACE_V_TEXT || e.kind == TRACE_WARNING ||
            e.kind == TRACE_ERROR) {
            trace_push_msg(&V->ring, &e, trace_msg_text(T, &e));
        } else {
            trace_push(&V->ring, &e);
        }
    }
    while (V->npend_done < V->ngcpend) {
        room(V);
        gcmarker(V, V->npend_done++);
    }
    V->ngcpend = V->npend_done = 0;
}

/* The GC hook (lisp_setgchook): figures into a slot, a marker into the
** ring now (outside a tick) or into the tick's pending list. */
static void gchook(void *ud, const lisp_GcEvent *g) {
    obs_Events *V = ud;
    int slot;
    if (!V->on || !V->run_open) {
        return;
    }
    if (V->gclive >= OBS_EVT_GC_MAX || (V->cur != NULL && V->ngcpend >= OBS_EVT_GC_MAX)) {
        V->drops++;
        return;
    }
    slot = (int)((g->id * 2 + (uint64_t)g->phase) % OBS_EVT_GC_MAX);
    V->gcs[slot] = *g;
    V->gclive++;
    if (V->cur != NULL) {
        V->gcpend[V->ngcpend].at = bt_inst_trace(V->cur)->seq;
        V->gcpend[V->ngcpend].slot = slot;
        V->gcpend[V->ngcpend].ts = clk_now(V->clock);
        V->ngcpend++;
    } else {
        V->ngcpend = V->npend_done = 0;
        V->gcpend[0].slot = slot;
        V->gcpend[0].ts = clk_now(V->clock);
        V->ngcpend = 1;
        room(V);
        gcmarker(V, 0);
        V->ngcpend = 0;
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

/* End of an audited tick: its figures, its records, then its marker. */
static void auditend(obs_Events *V, bt_Inst *I, uint64_t seq0) {
    obs_Audit a;
    lisp_HeapStats hs;
    trace_Event m;
    memset(&a, 0, sizeof a);
    a.nalloc = V->M->nalloc - V->a0.nalloc;
    a.nbytes = V->M->nbytes - V->a0.nbytes;
    lisp_heapstats(V->S, &hs);
    a.live0 = V->a0.live;
    a.live1 = (int64_t)hs.bytes_allocated;
    a.collections = hs.collections - V->a0.collections;
    a.gc_ns = hs.gc_total_pause_ns - V->a0.gc_ns;
    a.freed = hs.freed_objects - V->a0.freed;
    a.live_objects = hs.live_objects;
    copyrecs(V, I, seq0, &a);
    room(V);
    V->audit[V->ring.seq % (uint64_t)V->ring_size] = a;
    m = trace_event(TRACE_TICK_BEGIN, bt_inst_ticks(I), -1, clk_now(V->clock));
    m.status = AUDIT;
    trace_push(&V->ring, &m);
}

static void evtick(void *ud, bt_Inst *I, int phase, uint64_t seq0) {
    obs_Events *V = ud;
    if (phase == 0) {
        if (!V->run_open) {
            flush(V);
            runstart(V, I);
        }
        seedef(V, bt_inst_def(I));
        V->cur = I;
        V->ngcpend = V->npend_done = 0;
        if (V->audit != NULL) {
            auditstart(V);
        }
        return;
    }
    if (V->audit != NULL) {
        auditend(V, I, seq0);
    } else {
        copyrecs(V, I, seq0, NULL);
    }
    V->cur = NULL;
    if (V->flush_each || V->ring.seq - V->flushed > (uint64_t)V->ring.cap / 2) {
        flush(V);
    }
}

/* ---- open / close ---- */

static int alloctail(obs_Events *V, int n) {
    V->tail = mem_calloc(V->M, sizeof *V->tail * (size_t)n);
    V->tlen = mem_calloc(V->M, sizeof *V->tlen * (size_t)n);
    V->tcap = mem_calloc(V->M, sizeof *V->tcap * (size_t)n);
    V->ring_size = n;
    if (V->audit_on) {
        V->audit = mem_calloc(V->M, sizeof *V->audit * (size_t)n);
    }
    if (V->tail == NULL || V->tlen == NULL || V->tcap == NULL ||
        (V->audit_on && V->audit == NULL) || trace_init(&V->ring, V->M, n) != 0) {
        return -1;
    }
    V->ring_size = n;
    V->thead = V->tcount = 0;
    V->flushed = V->ring.seq;
    return 0;
}

static void freetail(obs_Events *V) {
    int i;
    if (V->tail != NULL && V->tcap != NULL) {
        for (i = 0; i < V->ring_size; i++) {
            if (V->tcap[i] > 0) {
                mem_free(V->M, V->tail[i], V->tcap[i]);
            }
        }
    }
    if (V->tail != NULL) {
        mem_free(V->M, V->tail, sizeof *V->tail * (size_t)V->ring_size);
    }
    if (V->tlen != NULL) {
        mem_free(V->M, V->tlen, sizeof *V->tlen * (size_t)V->ring_size);
    }
    if (V->tcap != NULL) {
        mem_free(V->M, V->tcap, sizeof *V->tcap * (size_t)V->ring_size);
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
    sbuf_initm(&V->line, M);
    if (alloctail(V, OBS_EVT_RING_DEFAULT) != 0) {
        freetail(V);
        mem_free(M, V, sizeof *V);
        return -1;
    }
    E->evt_tick = evtick;
    E->evt_ud = V;
    E->evt_on = 0;
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
        V->unix_off = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - clk_now(V->clock);
        V->drops = 0;
    } else if (!on && V->on) {
        runend(V);
    }
    V->on = on;
    V->E->evt_on = on;
}

void obs_events_close(lisp_State *S) {
    obs_Events *V = getev(S);
    if (V == NULL) {
        return;
    }
    setoff(V, 0);
    flush(V);
    closefile(V);
    freetail(V);
    if (V->defs != NULL) {
        mem_free(V->M, (void *)V->defs, sizeof *V->defs * (size_t)V->capdefs);
    }
    sbuf_free(&V->line);
    V->E->evt_on = 0;
    V->E->evt_ud = NULL;
    lisp_setgchook(S, NULL, NULL);
    lisp_setslot(S, LISPBT_SLOT_OBS, NULL);
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
    flush(V); /* what is pending belongs to the old file */
    closefile(V);
    V->f = f;
    V->path = copy;
    return lisp_nil();
}

static lisp_Value cfun_events_setflush(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = getev(S);
    (void)argc;
    V->flush_each = checkbool(S, argv, 0);
    flush(V);
    return lisp_nil();
}

static lisp_Value cfun_events_setdeterministic(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    getev(S)->fixed = checkbool(S, argv, 0);
    return lisp_nil();
}

static lisp_Value cfun_events_enableaudit(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = getev(S);
    int on = checkbool(S, argv, 0);
    (void)argc;
    flush(V); /* markers pending refer to the figures of the old array */
    if (on && V->audit == NULL) {
        V->audit = mem_calloc(V->M, sizeof *V->audit * (size_t)V->ring_size);
        if (V->audit == NULL) {
            lisp_memerror(S);
        }
    } else if (!on && V->audit != NULL) {
        mem_free(V->M, V->audit, sizeof *V->audit * (size_t)V->ring_size);
        V->audit = NULL;
    }
    V->audit_on = on;
    return lisp_nil();
}

static lisp_Value cfun_events_setringsize(lisp_State *S, int argc, lisp_Value *argv) {
    obs_Events *V = getev(S);
    int n = (int)lisp_checkintrange(S, argv, 0, "size", LISP_INTONLY, 1, OBS_EVT_RING_MAX);
    (void)argc;
    flush(V);
    freetail(V);
    if (alloctail(V, n) != 0) { /* back to the default, which fitted before */
        freetail(V);
        if (alloctail(V, OBS_EVT_RING_DEFAULT) != 0) {
            freetail(V);
        }
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
    flush(V);
    if (V->tail == NULL) {
        return lisp_nil();
    }
    n = n < V->tcount ? n : V->tcount;
    top = lisp_gettop(S);
    lisp_push(S, list);
    for (i = V->tcount - 1; i >= V->tcount - n; i--) { /* newest first, consed in front */
        int k = (int)((V->thead + i) % V->ring_size);
        lisp_Value s = lisp_string(S, V->tail[k], V->tlen[k]);
        list = lisp_cons(S, s, list);
        lisp_settop(S, top);
        lisp_push(S, list);
    }
    return list;
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
    {NULL, 0, 0, NULL, 0, NULL}};
