/*
** obs_evt_fmt.c -- the event stream's JSON lines (mbt.evt.v1): the
** envelope, each event type's payload, and the run-level lines.  See
** obs_evt_int.h and docs/events.md.  See LICENSE for copyright.
*/
#include "conf.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "obs_evt_int.h"

#define FNV_OFFSET 1469598103934665603ull /* the reference's offset basis */
#define FNV_PRIME 1099511628211ull

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

/* Start line of type 'type' in V->line: the envelope up to "data":. */
sbuf *obsF_envelope(obs_Events *V, const char *type, int64_t ts_ns, int64_t tick) {
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

void obsF_finishline(obs_Events *V) {
    sbuf_putc(&V->line, '}');
    obsW_emitline(V, &V->line);
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
    sbuf *b = obsF_envelope(V, g->phase ? "gc_end" : "gc_begin", e->ts_ns, e->tick);
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
    obsF_finishline(V);
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
    b = obsF_envelope(V, "tick_audit", e->ts_ns, e->tick);
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
    obsF_finishline(V);
}

/* One tick record as a line. */
void obsF_recordline(obs_Events *V, const trace_Event *e) {
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
                return; /* obsW_flush() writes notes itself */
            }
            b = obsF_envelope(V, "tick_begin", e->ts_ns, e->tick);
            sbuf_puts(b, "{\"root\":0}");
            break;
        case TRACE_TICK_END:
            b = obsF_envelope(V, "tick_end", e->ts_ns, e->tick);
            PUTLIT(b, "{\"root_status\":\"");
            sbuf_puts(b, statusname(e->status));
            PUTLIT(b, "\",\"tick_ms\":");
            putms(b, msof(V, e->duration_ns));
            sbuf_putc(b, '}');
            break;
        case TRACE_NODE_ENTER:
            b = obsF_envelope(V, "node_enter", e->ts_ns, e->tick);
            PUTLIT(b, "{\"node_id\":");
            putint(b, e->node);
            sbuf_putc(b, '}');
            break;
        case TRACE_NODE_EXIT:
            b = obsF_envelope(V, "node_exit", e->ts_ns, e->tick);
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
                b = obsF_envelope(V, "bb_delete", e->ts_ns, e->tick);
                sbuf_puts(b, "{\"key\":");
                sbuf_json_string(b, key, strlen(key));
                sbuf_printf(b, ",\"node_id\":%d}", (int)e->node);
                break;
            }
            sbuf_init(&pv);
            preview(R, e, &pv);
            b = obsF_envelope(V, "bb_write", e->ts_ns, e->tick);
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
            b = obsF_envelope(V, names[e->kind - TRACE_SCHED_SUBMIT], e->ts_ns, e->tick);
            sbuf_printf(b, "{\"job_id\":%llu,\"status\":\"%s\",\"node_id\":%d}",
                        (unsigned long long)e->job, trace_job_status_name(e->job_status),
                        (int)e->node);
            break;
        }
        case TRACE_WARNING:
        case TRACE_ERROR: {
            const char *msg = trace_msg_text(R, e);
            int overrun = e->kind == TRACE_WARNING && strncmp(msg, "tick budget overrun", 19) == 0;
            b = obsF_envelope(V, overrun ? "budget_warning" : "error", e->ts_ns, e->tick);
            sbuf_printf(b, "{\"level\":\"%s\",\"node_id\":%d,\"message\":",
                        e->kind == TRACE_ERROR ? "error" : "warn", (int)e->node);
            sbuf_json_string(b, msg, strlen(msg));
            sbuf_putc(b, '}');
            break;
        }
        default: return; /* bb_read: not part of the stream */
    }
    obsF_finishline(V);
}

/* Record 'r' of the stream ring at 'seq' as an event (trace_get without
** runs, which the writer expands itself). */
void obsF_decode(const trace_Rec *r, uint64_t seq, trace_Event *out) {
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

static void dslof(obs_Events *V, const bt_Def *D, sbuf *b) {
    lisp_writen(V->S, b, bt_todsl((bt_Def *)D), 0, (size_t)1 << 30);
}

void obsF_runstart(obs_Events *V, bt_Inst *I) {
    sbuf dsl, *b;
    int64_t now = clk_now(V->clock);
    char hz[48];
    sbuf_initm(&dsl, V->M);
    if (I != NULL) { /* else a note opens the run: no tree yet (tree_hash of "") */
        dslof(V, bt_inst_def(I), &dsl); /* may collect: before the lock */
    }
    snprintf(hz, sizeof hz, "%.17g", V->tick_hz);
    obsW_coldbegin(V);
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
    b = obsF_envelope(V, "run_start", now, -1);
    sbuf_puts(b, "{\"git_sha\":\"unknown\",\"host\":{\"name\":\"lispbt\",\"version\":\"0.1.0\","
                 "\"platform\":\"linux\"},\"contract_version\":\"1.0.0\","
                 "\"contract_id\":\"runtime-contract-v1.0.0\",\"tick_hz\":");
    sbuf_puts(b, hz);
    sbuf_puts(b, ",\"tree_hash\":");
    puthash(b, dsl.len ? dsl.p : "", dsl.len);
    sbuf_puts(b, ",\"capabilities\":{\"reset\":true}}");
    obsF_finishline(V);
    obsW_coldend(V);
    sbuf_free(&dsl);
}

void obsF_btdef(obs_Events *V, const bt_Def *D) {
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
    obsW_coldbegin(V);
    b = obsF_envelope(V, "bt_def", clk_now(V->clock), -1);
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
    obsF_finishline(V);
    obsW_coldend(V);
    sbuf_free(&dsl);
    sbuf_free(&src);
}

void obsF_runend(obs_Events *V) {
    sbuf *b;
    if (!V->run_open) {
        return;
    }
    obsW_coldbegin(V);
    b = obsF_envelope(V, "run_end", clk_now(V->clock), -1);
    sbuf_printf(b, "{\"events\":%llu,\"dropped\":%llu}", (unsigned long long)V->seq,
                (unsigned long long)atomic_load_explicit(&V->drops, memory_order_relaxed));
    obsF_finishline(V);
    if (V->f != NULL) {
        fflush(V->f);
    }
    obsW_coldend(V);
    V->run_open = 0;
    V->ndefs = 0;
    V->E->evt_def = NULL;
    V->E->evt_pre = 1; /* the next run's run_start */
}

/* A tick over its budget: deadline_exceeded, after its budget_warning. */
LISPBT_COLD void obsF_deadline(obs_Events *V, bt_Inst *I, const bt_TickStats *ts) {
    sbuf b;
    sbuf_init(&b);
    PUTLIT(&b, "{\"source\":\"tick_end\",\"tick_budget_ms\":");
    putms(&b, ts->budget_ns);
    PUTLIT(&b, ",\"tick_elapsed_ms\":");
    putms(&b, msof(V, ts->last_ns));
    sbuf_putc(&b, '}');
    if (!b.oom) { /* pending at the end of the tick's records (V->E->evt_cur is I) */
        obsE_note(V, "deadline_exceeded", bt_inst_ticks(I), clk_now(V->clock), b.p, b.len, 0);
    }
    sbuf_free(&b);
}

/* The bb_snapshot asked for by events.snapshot-bb: after tick_begin. */
LISPBT_COLD void obsF_snapshot(obs_Events *V, bt_Inst *I) {
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
        obsE_note(V, "bb_snapshot", -1, clk_now(V->clock), b.p, b.len, 1);
    } else {
        atomic_fetch_add_explicit(&V->drops, 1, memory_order_relaxed);
    }
    sbuf_free(&b);
}
