/*
** bt_trace.c -- per-instance trace ring: allocation, messages and rendering.
** See bt_trace.h.  See LICENSE for copyright.
**
** Invariants of a trace_Ring (between calls):
**   - the ring has mask + 1 slots, a power of two >= cap, so that a push
**     is an increment and a mask, with no wrap test and no count to keep;
**   - count = min(seq - seq0, cap); the events held are those with seq
**     numbers seq - count .. seq - 1;
**   - event s is in ev[s & mask], unless a run holds it: a run of k leaves
**     holding events x .. j = x + 2k - 1 is in ev[j & mask], and the slots
**     of x .. j - 1 keep what they held.  A slot is rewritten M = mask + 1
**     seqs after it was written and cap <= M, so the run of a held event
**     is still there; and a record found in slot j is the run ending at j
**     only if its own x and k say so, which tells it from a stale one
**     (written M or more seqs earlier; the ring starts zeroed).  A run is
**     counted and written around calls of C leaves, which never clear the
**     ring, so none straddles seq0.
**   - slot msgs[id % nmsgs] holds message 'id' iff msgs[...].id == id; an
**     event with msg == 0 has no text; ids are never 0 (the counter skips
**     0 when it wraps).
**
** The push paths are inline in bt_trace.h.  Everything here is either setup or
** the read side; the read side formats into an sbuf (which uses the C heap)
** and, for the Chrome export, takes one scratch array from the ring's heap
** to match begin and end events.
**
** Chrome nesting.  Perfetto rejects or misdraws an 'E' with no open 'B' on
** its thread.  The ring may have dropped the start of any span, and a BT
** layer that halts nodes may close spans out of strict order, so the export
** keeps a stack of open spans per thread: an end closes the innermost open
** span with the same identity (tick index or node id), first closing any
** spans opened inside it; an end with no such span is dropped.
*/
#include "conf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_trace.h"

static const char *const kind_names[TRACE_NKINDS] = {
    "tick_begin",       "tick_end",         "node_enter",       "node_exit",
    "bb_write",         "bb_read",          "scheduler_submit", "scheduler_start",
    "scheduler_finish", "scheduler_cancel", "warning",          "error"};

static const char *const status_names[] = {"none", "success", "failure", "running"};

static const char *const job_names[] = {"queued", "running", "done", "failed", "cancelled"};

const char *trace_kind_name(int k) {
    return k >= 0 && k < TRACE_NKINDS ? kind_names[k] : "unknown";
}

const char *trace_status_name(int s) {
    return s >= 0 && s < 4 ? status_names[s] : "unknown";
}

const char *trace_job_status_name(int s) {
    return s >= 0 && s < 5 ? job_names[s] : "unknown";
}

int trace_init(trace_Ring *R, mem_Heap *M, int capacity) {
    uint32_t nmsgs, slots = 1;
    memset(R, 0, sizeof *R);
    if (capacity <= 0 || capacity > TRACE_MAX_CAPACITY) {
        return -1;
    }
    while (slots < (uint32_t)capacity) {
        slots <<= 1;
    }
    nmsgs = (uint32_t)capacity / 16;
    nmsgs = nmsgs < 16 ? 16 : nmsgs;
    /* written through now (no stale runs), which also faults every page
    ** in: the tick path never takes a page fault on the ring */
    R->ev = mem_calloc(M, (size_t)slots * sizeof(trace_Rec));
    if (R->ev == NULL) {
        goto fail;
    }
    R->msgs = mem_calloc(M, (size_t)nmsgs * sizeof(trace_MsgSlot));
    if (R->msgs == NULL) {
        goto fail;
    }
    R->M = M;
    R->cap = (uint32_t)capacity;
    R->mask = slots - 1;
    R->nmsgs = nmsgs;
    R->seq = R->seq0 = 1;
    R->msg_next = 1;
    return 0;
fail:
    mem_free(M, R->ev, (size_t)slots * sizeof(trace_Rec));
    memset(R, 0, sizeof *R);
    return -1;
}

void trace_free(trace_Ring *R) {
    if (R->M != NULL) {
        mem_free(R->M, R->ev, ((size_t)R->mask + 1) * sizeof(trace_Rec));
        mem_free(R->M, R->msgs, (size_t)R->nmsgs * sizeof(trace_MsgSlot));
    }
    memset(R, 0, sizeof *R);
}

void trace_clear(trace_Ring *R) {
    uint32_t i;
    R->seq0 = R->seq;
    for (i = 0; i < R->nmsgs; i++) {
        R->msgs[i].id = 0;
    }
}

/* Copy 's' into 'dst' of 'size' bytes, NUL-terminated; when it does not
** fit, end with "..." without splitting a UTF-8 sequence. */
static void copy_trunc(char *dst, size_t size, const char *s) {
    size_t n = strlen(s), cut;
    if (n < size) {
        memmove(dst, s, n + 1); /* s may be an older message of this ring */
        return;
    }
    cut = size - 4; /* room for "..." and the NUL */
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) {
        cut--; /* s[cut] continues a sequence: cut before its lead byte */
    }
    memmove(dst, s, cut);
    memcpy(dst + cut, "...", 4);
}

void trace_push_id(trace_Ring *R, const trace_Event *ev, uint32_t msg) {
    int kind = ev->kind, sched = trace_kind_is_sched(kind), bb = trace_kind_is_bb(kind);
    int text = ev->vtag == TRACE_V_STR || ev->vtag == TRACE_V_TEXT;
    uint64_t seq = R->seq;
    trace_Rec *r = &R->ev[seq & R->mask];
    R->seq = seq + 1;
    r->tick = ev->tick;
    r->ts_ns = ev->ts_ns;
    r->x = trace_kind_has_duration(kind) ? (uint64_t)ev->duration_ns
           : sched                       ? ev->job
           : bb                          ? (text ? msg : (uint64_t)ev->v.i)
                                         : 0; /* node and tick kinds: msg dropped */
    r->w = (uint32_t)kind | (uint32_t)((sched ? ev->job_status : ev->status) & 7) << 4 |
           (uint32_t)(bb ? ev->vtag & 7 : 0) << 7 | (uint32_t)(ev->node + 1) << 10;
    r->aux = bb ? (uint32_t)(ev->key + 1) : msg;
}

void trace_push_msg(trace_Ring *R, const trace_Event *ev, const char *msg) {
    uint32_t id = R->msg_next;
    trace_MsgSlot *slot = &R->msgs[id % R->nmsgs];
    R->msg_next = id + 1 == 0 ? 1 : id + 1;
    slot->id = id;
    copy_trunc(slot->text, sizeof slot->text, msg ? msg : "");
    trace_push_id(R, ev, id);
}

void trace_fill_run(trace_Ring *R, uint64_t first, int64_t tick, int32_t node0, int k,
                    int64_t ts_ns, int cont) {
    /* the slot of seq q was overwritten if q + m < seq (m = mask + 1) */
    uint64_t end = first + 2 * (uint64_t)k, seq = R->seq, m = (uint64_t)R->mask + 1;
    trace_Rec *r = &R->ev[end & R->mask];
    lispbt_assert(k >= 0 && k <= TRACE_RUN_MAX && end < seq);
    if (k > 0 && end - 1 + m >= seq) { /* the run's record: slot of seq end - 1 */
        trace_run(R, first, tick, node0, k, ts_ns, cont, cont);
    }
    if (end + m < seq) {
        return;
    }
    r->tick = tick;
    r->ts_ns = ts_ns;
    r->x = (uint64_t)-1;
    r->w = (uint32_t)TRACE_NODE_ENTER | (uint32_t)(node0 + k + 1) << 10;
    r->aux = 0;
}

/* The run holding event 'e', or NULL when e has a record of its own.  A
** run ends within 2 * TRACE_RUN_MAX seqs of each of its events, and runs
** cover disjoint seqs, so the first run found ending at or after e either
** holds e or starts after it. */
static const trace_Rec *run_of(const trace_Ring *R, uint64_t e) {
    uint64_t j;
    for (j = e; j < e + 2 * TRACE_RUN_MAX; j++) {
        const trace_Rec *r = &R->ev[j & R->mask];
        if ((r->w & 15) == TRACE_RUN && r->x + 2 * (uint64_t)r->aux - 1 == j) {
            return r->x <= e ? r : NULL;
        }
    }
    return NULL;
}

const trace_Event *trace_get(const trace_Ring *R, int i, trace_Event *out) {
    int count = trace_count(R), kind, bb, text;
    uint64_t seq;
    const trace_Rec *r;
    if (i < 0 || i >= count) {
        return NULL;
    }
    seq = R->seq - (uint64_t)count + (uint64_t)i;
    r = run_of(R, seq);
    if (r != NULL) { /* leaf (seq - x) / 2 of the run; no durations */
        uint32_t leaf = (uint32_t)((seq - r->x) / 2);
        kind = (seq - r->x) & 1 ? TRACE_NODE_EXIT : TRACE_NODE_ENTER;
        *out = trace_event(kind, r->tick, (int32_t)(r->w >> 10) - 1 + (int32_t)leaf, r->ts_ns);
        out->seq = seq;
        if (kind == TRACE_NODE_EXIT) {
            out->status = (uint8_t)(r->w >> (leaf + 1 == r->aux ? 4 : 7) & 7);
        }
        return out;
    }
    r = &R->ev[seq & R->mask];
    kind = (int)(r->w & 15);
    *out = trace_event(kind, r->tick, (int32_t)(r->w >> 10) - 1, r->ts_ns);
    out->seq = seq;
    bb = trace_kind_is_bb(kind);
    if (trace_kind_is_sched(kind)) {
        out->job = r->x;
        out->job_status = (uint8_t)(r->w >> 4 & 7);
        return out;
    }
    out->status = (uint8_t)(r->w >> 4 & 7);
    if (trace_kind_is_node(kind)) {
        out->duration_ns = trace_kind_has_duration(kind) ? (int64_t)r->x : -1;
        return out;
    }
    if (bb) {
        out->vtag = (uint8_t)(r->w >> 7 & 7);
        out->key = (int32_t)r->aux - 1;
        text = out->vtag == TRACE_V_STR || out->vtag == TRACE_V_TEXT;
        if (text) {
            out->msg = (uint32_t)r->x;
        } else {
            out->v.i = (int64_t)r->x;
        }
        return out;
    }
    out->msg = r->aux;
    return out;
}

const char *trace_msg_text(const trace_Ring *R, const trace_Event *ev) {
    const trace_MsgSlot *slot;
    if (ev->msg == 0 || R->nmsgs == 0) {
        return NULL;
    }
    slot = &R->msgs[ev->msg % R->nmsgs];
    return slot->id == ev->msg ? slot->text : "<lost>";
}

/* ---- text dump ---- */


/* Append a string value in double quotes with Lisp-readable escapes. */
static void put_quoted(sbuf *b, const char *s) {
    sbuf_putc(b, '"');
    for (; *s; s++) {
        switch (*s) {
            case '"': sbuf_putn(b, "\\\"", 2); break;
            case '\\': sbuf_putn(b, "\\\\", 2); break;
            case '\n': sbuf_putn(b, "\\n", 2); break;
            case '\r': sbuf_putn(b, "\\r", 2); break;
            case '\t': sbuf_putn(b, "\\t", 2); break;
            default: sbuf_putc(b, *s);
        }
    }
    sbuf_putc(b, '"');
}

/* Append float 'x' in shortest round-trip form, always visibly a float. */
static void put_float(sbuf *b, double x) {
    char tmp[48];
    int prec;
    if (isnan(x)) {
        sbuf_puts(b, "nan");
        return;
    }
    if (isinf(x)) {
        sbuf_puts(b, x > 0 ? "inf" : "-inf");
        return;
    }
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, x);
        if (strtod(tmp, NULL) == x) {
            break;
        }
    }
    if (strpbrk(tmp, ".e") == NULL) {
        strcat(tmp, ".0");
    }
    sbuf_puts(b, tmp);
}

static const char *key_name(const trace_Names *names, int32_t key) {
    if (names && names->key_name) {
        return names->key_name(names->ud, key);
    }
    return NULL;
}

static const char *node_name(const trace_Names *names, int32_t node) {
    if (names && names->node_name && node >= 0) {
        return names->node_name(names->ud, node);
    }
    return NULL;
}

/* Whether the text 'e' refers to is still in the message ring. */
static int msg_alive(const trace_Ring *R, const trace_Event *e) {
    return e->msg != 0 && R->nmsgs != 0 && R->msgs[e->msg % R->nmsgs].id == e->msg;
}

/* Append the 'value=' field of 'e' (nothing when it has none). */
static void dump_value(const trace_Ring *R, const trace_Event *e, sbuf *b) {
    const char *text;
    switch (e->vtag) {
        case TRACE_V_NIL: sbuf_puts(b, " value=nil"); break;
        case TRACE_V_BOOL: sbuf_puts(b, e->v.i ? " value=true" : " value=false"); break;
        case TRACE_V_INT: sbuf_printf(b, " value=%lld", (long long)e->v.i); break;
        case TRACE_V_FLOAT:
            sbuf_puts(b, " value=");
            put_float(b, e->v.f);
            break;
        case TRACE_V_STR:
        case TRACE_V_TEXT:
            text = trace_msg_text(R, e);
            sbuf_puts(b, " value=");
            if (text == NULL || !msg_alive(R, e)) {
                sbuf_puts(b, "<lost>");
            } else if (e->vtag == TRACE_V_STR) {
                put_quoted(b, text);
            } else {
                sbuf_oneline(b, text);
            }
            break;
        default: break;
    }
}

static void dump_event(const trace_Ring *R, const trace_Event *e, const trace_Names *names,
                       sbuf *b) {
    sbuf_printf(b, "%llu kind=%s tick=%lld node=%ld ts_ns=%lld", (unsigned long long)e->seq,
                trace_kind_name(e->kind), (long long)e->tick, (long)e->node, (long long)e->ts_ns);
    if (e->status != TRACE_ST_NONE) {
        sbuf_printf(b, " status=%s", trace_status_name(e->status));
    }
    if (e->duration_ns >= 0) {
        sbuf_printf(b, " duration_ns=%lld", (long long)e->duration_ns);
    }
    if (e->job != 0) {
        sbuf_printf(b, " job=%llu job_status=%s", (unsigned long long)e->job,
                    trace_job_status_name(e->job_status));
    }
    if (e->key >= 0) {
        const char *k = key_name(names, e->key);
        sbuf_puts(b, " key=");
        if (k) {
            sbuf_oneline(b, k);
        } else {
            sbuf_printf(b, "%ld", (long)e->key);
        }
    }
    dump_value(R, e, b);
    if (e->msg != 0 && e->vtag != TRACE_V_STR && e->vtag != TRACE_V_TEXT) {
        sbuf_puts(b, " msg=");
        sbuf_oneline(b, trace_msg_text(R, e));
    }
    sbuf_putc(b, '\n');
}

void trace_dump(const trace_Ring *R, int n, const trace_Names *names, sbuf *b) {
    int count = trace_count(R), i;
    if (n < 0 || n > count) {
        n = count;
    }
    for (i = count - n; i < count; i++) {
        trace_Event e;
        dump_event(R, trace_get(R, i, &e), names, b);
    }
}

/* ---- Chrome Trace Event Format ---- */

enum { TID_TICKS = 1, TID_NODES = 2, TID_SCHED = 3 };

/* One open span: identity (tick index or node id) and its begin event. */
typedef struct Span {
    int64_t id;
    trace_Event begin;
} Span;

typedef struct Stack {
    Span *s;
    uint32_t n;
} Stack;

/* Append microseconds with ns precision: "-12.345". */
static void put_us(sbuf *b, int64_t ns) {
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    sbuf_printf(b, "%s%llu.%03u", ns < 0 ? "-" : "", (unsigned long long)(a / 1000),
                (unsigned)(a % 1000));
}

static void put_name(sbuf *b, const char *s) {
    sbuf_json_string(b, s, strlen(s));
}

/* The JSON "name" of a begin/end event. */
static void span_name(const trace_Event *e, const trace_Names *names, sbuf *b) {
    char tmp[48];
    const char *nm;
    if (e->kind == TRACE_TICK_BEGIN || e->kind == TRACE_TICK_END) {
        snprintf(tmp, sizeof tmp, "tick %lld", (long long)e->tick);
        put_name(b, tmp);
        return;
    }
    nm = node_name(names, e->node);
    if (nm == NULL) {
        snprintf(tmp, sizeof tmp, "node %ld", (long)e->node);
        nm = tmp;
    }
    put_name(b, nm);
}

/* Open a JSON event object: name, cat, ph, ts, pid, tid. */
static void ev_head(sbuf *b, int *first, const trace_Event *e, const trace_Names *names,
                    const char *ph, int tid, int64_t ts) {
    sbuf_puts(b, *first ? "\n" : ",\n");
    *first = 0;
    sbuf_puts(b, "{\"name\":");
    if (ph[0] == 'B' || ph[0] == 'E') {
        span_name(e, names, b);
    } else {
        put_name(b, trace_kind_name(e->kind));
    }
    sbuf_printf(b, ",\"cat\":\"%s\",\"ph\":\"%s\",\"ts\":",
                tid == TID_TICKS ? "tick" : (tid == TID_SCHED ? "scheduler" : "bt"), ph);
    put_us(b, ts);
    sbuf_printf(b, ",\"pid\":1,\"tid\":%d", tid);
    if (ph[0] == 'i') {
        sbuf_puts(b, ",\"s\":\"t\"");
    }
}

/* Append "args":{...} with every present field of 'e', then close. */
static void ev_args(sbuf *b, const trace_Ring *R, const trace_Event *e, const trace_Names *names) {
    const char *text;
    sbuf_printf(b, ",\"args\":{\"seq\":%llu,\"kind\":\"%s\",\"tick\":%lld",
                (unsigned long long)e->seq, trace_kind_name(e->kind), (long long)e->tick);
    if (e->node >= 0) {
        sbuf_printf(b, ",\"node\":%ld", (long)e->node);
    }
    if (e->status != TRACE_ST_NONE) {
        sbuf_printf(b, ",\"status\":\"%s\"", trace_status_name(e->status));
    }
    if (e->duration_ns >= 0) {
        sbuf_printf(b, ",\"duration_ns\":%lld", (long long)e->duration_ns);
    }
    if (e->job != 0) {
        sbuf_printf(b, ",\"job\":%llu,\"job_status\":\"%s\"", (unsigned long long)e->job,
                    trace_job_status_name(e->job_status));
    }
    if (e->key >= 0) {
        const char *k = key_name(names, e->key);
        sbuf_puts(b, ",\"key\":");
        if (k) {
            put_name(b, k);
        } else {
            sbuf_printf(b, "%ld", (long)e->key);
        }
    }
    text = trace_msg_text(R, e);
    switch (e->vtag) {
        case TRACE_V_NIL: sbuf_puts(b, ",\"value\":null"); break;
        case TRACE_V_BOOL: sbuf_puts(b, e->v.i ? ",\"value\":true" : ",\"value\":false"); break;
        case TRACE_V_INT: sbuf_printf(b, ",\"value\":%lld", (long long)e->v.i); break;
        case TRACE_V_FLOAT:
            sbuf_puts(b, ",\"value\":");
            sbuf_json_number(b, e->v.f);
            break;
        case TRACE_V_STR:
        case TRACE_V_TEXT:
            sbuf_puts(b, ",\"value\":");
            put_name(b, text ? text : "<lost>");
            text = NULL;
            break;
        default: break;
    }
    if (text) {
        sbuf_puts(b, ",\"msg\":");
        put_name(b, text);
    }
    sbuf_puts(b, "}}");
}

/* Close the innermost span of 'st' with synthetic or real end 'e'. */
static void span_end(sbuf *b, int *first, const trace_Ring *R, Stack *st, const trace_Event *e,
                     const trace_Names *names, int tid, int64_t ts) {
    const trace_Event *bg = &st->s[--st->n].begin;
    ev_head(b, first, bg, names, "E", tid, ts);
    if (e) {
        ev_args(b, R, e, names);
    } else {
        sbuf_puts(b, ",\"args\":{\"truncated\":true}}");
    }
}

/* Handle an end event on 'st': close up to the matching span, or drop. */
static void span_close(sbuf *b, int *first, const trace_Ring *R, Stack *st, int64_t id,
                       const trace_Event *e, const trace_Names *names, int tid) {
    uint32_t k = st->n;
    while (k > 0 && st->s[k - 1].id != id) {
        k--;
    }
    if (k == 0) {
        return; /* its begin fell off the ring (or never was) */
    }
    while (st->n > k) { /* spans opened inside and never closed */
        span_end(b, first, R, st, NULL, names, tid, e->ts_ns);
    }
    span_end(b, first, R, st, e, names, tid, e->ts_ns);
}

int trace_chrome_json(const trace_Ring *R, const trace_Names *names, sbuf *b) {
    Stack ticks, nodes;
    size_t bytes = (size_t)(trace_count(R) ? trace_count(R) : 1) * sizeof(Span);
    int count = trace_count(R), i, first = 1;
    int64_t last_ts = 0;
    ticks.n = nodes.n = 0;
    if (R->M == NULL) { /* a freed ring: an empty, still valid trace */
        sbuf_puts(b, "{\"traceEvents\":[],\"displayTimeUnit\":\"ns\"}\n");
        return 0;
    }
    ticks.s = mem_alloc(R->M, bytes);
    nodes.s = mem_alloc(R->M, bytes);
    if (ticks.s == NULL || nodes.s == NULL) {
        mem_free(R->M, ticks.s, ticks.s ? bytes : 0);
        mem_free(R->M, nodes.s, nodes.s ? bytes : 0);
        return -1;
    }
    sbuf_puts(b, "{\"traceEvents\":[");
    sbuf_puts(b, "\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,"
                 "\"args\":{\"name\":\"lispbt\"}}");
    sbuf_printf(b,
                ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,"
                "\"tid\":%d,\"args\":{\"name\":\"ticks\"}}",
                TID_TICKS);
    sbuf_printf(b,
                ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,"
                "\"tid\":%d,\"args\":{\"name\":\"nodes\"}}",
                TID_NODES);
    sbuf_printf(b,
                ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,"
                "\"tid\":%d,\"args\":{\"name\":\"scheduler\"}}",
                TID_SCHED);
    first = 0;
    for (i = 0; i < count; i++) {
        trace_Event ev;
        const trace_Event *e = trace_get(R, i, &ev);
        last_ts = e->ts_ns > last_ts || i == 0 ? e->ts_ns : last_ts;
        switch (e->kind) {
            case TRACE_TICK_BEGIN:
                ticks.s[ticks.n].id = e->tick;
                ticks.s[ticks.n++].begin = *e;
                ev_head(b, &first, e, names, "B", TID_TICKS, e->ts_ns);
                ev_args(b, R, e, names);
                break;
            case TRACE_TICK_END:
                span_close(b, &first, R, &ticks, e->tick, e, names, TID_TICKS);
                break;
            case TRACE_NODE_ENTER:
                nodes.s[nodes.n].id = e->node;
                nodes.s[nodes.n++].begin = *e;
                ev_head(b, &first, e, names, "B", TID_NODES, e->ts_ns);
                ev_args(b, R, e, names);
                break;
            case TRACE_NODE_EXIT:
                span_close(b, &first, R, &nodes, e->node, e, names, TID_NODES);
                break;
            case TRACE_SCHED_SUBMIT:
            case TRACE_SCHED_START:
            case TRACE_SCHED_FINISH:
            case TRACE_SCHED_CANCEL:
                ev_head(b, &first, e, names, "i", TID_SCHED, e->ts_ns);
                ev_args(b, R, e, names);
                break;
            default:
                ev_head(b, &first, e, names, "i", TID_NODES, e->ts_ns);
                ev_args(b, R, e, names);
                break;
        }
    }
    while (nodes.n > 0) {
        span_end(b, &first, R, &nodes, NULL, names, TID_NODES, last_ts);
    }
    while (ticks.n > 0) {
        span_end(b, &first, R, &ticks, NULL, names, TID_TICKS, last_ts);
    }
    sbuf_puts(b, "\n],\"displayTimeUnit\":\"ns\"}\n");
    mem_free(R->M, ticks.s, bytes);
    mem_free(R->M, nodes.s, bytes);
    return 0;
}
