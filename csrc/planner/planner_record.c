/*
** planner_record.c -- planner record ring, JSON rendering and JSON-lines sink.
** See planner_record.h and docs/planner.md.  See LICENSE for copyright.
**
** Invariants
** ----------
**   - The ring holds 'count' records in slots head, head+1, ... (mod
**     capacity); 'count' <= 'capacity'; a push into a full ring overwrites
**     the slot at 'head' and advances it.  No push allocates.
**   - precord_json emits exactly one line: strings go through
**     sbuf_json_string (which escapes control characters, so no newline can
**     appear) and doubles through sbuf_json_number (never inf/nan).
**   - The sink holds its FILE only between a successful open and the first
**     failure (or a path change / disable / free).  After a failure the file
**     is closed so that a fixed problem (directory created, disk freed) is
**     picked up by the next write.  Errors are recorded, never raised.
*/
#include "conf.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "planner_record.h"

/*
** --------------------------------------------------------------- records
*/

static void copy_str(char *dst, size_t cap, const char *src) {
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The request half of a record: mcts_Request and plan_Request name these
** fields alike. */
#define FROMREQ(out, req, ts)                                                     \
    do {                                                                          \
        memset((out), 0, sizeof *(out));                                         \
        (out)->ts_ms = (ts);                                                      \
        copy_str((out)->run_id, sizeof (out)->run_id, (req)->run_id);             \
        (out)->tick_index = (req)->tick_index;                                    \
        copy_str((out)->node_name, sizeof (out)->node_name, (req)->node_name);    \
        (out)->budget_ms = (req)->budget_ms;                                      \
        (out)->seed = (req)->seed;                                                \
        copy_str((out)->state_key, sizeof (out)->state_key, (req)->state_key);    \
        copy_str((out)->model_service, sizeof (out)->model_service,               \
                 (req)->model_service);                                           \
    } while (0)

static int clampn(int n, int hi) {
    return n < 0 ? 0 : n > hi ? hi : n;
}

void precord_from_result(mcts_Record *out, const mcts_Request *req,
                         const mcts_Result *res, int64_t ts_ms) {
    int i;
    FROMREQ(out, req, ts_ms);
    out->time_used_ms = res->time_used_ms;
    out->iters = res->iters;
    out->root_visits = res->root_visits;
    out->root_children = res->root_children;
    out->widen_added = res->widen_added;
    out->action_dim = clampn(res->action_dim, MCTS_MAX_ACTION);
    for (i = 0; i < out->action_dim; i++) {
        out->action[i] = res->action[i];
    }
    out->confidence = res->confidence;
    out->value_est = res->value_est;
    out->status = res->status;
    out->depth_max = res->depth_max;
    out->depth_mean = res->depth_mean;
    out->top_n = clampn(res->top_n, MCTS_MAX_TOPK);
    for (i = 0; i < out->top_n; i++) {
        out->top[i] = res->top[i];
    }
    copy_str(out->error, sizeof out->error, res->error);
    out->planner = PLAN_MCTS;
    out->work_done = res->iters;
    copy_str(out->action_schema, sizeof out->action_schema, "action.u.v1");
    out->overrun = res->time_used_ms > req->budget_ms;
}

void precord_from_plan(mcts_Record *out, const plan_Request *req, const plan_Result *res,
                       int64_t ts_ms) {
    int i, n;
    FROMREQ(out, req, ts_ms);
    out->time_used_ms = res->time_used_ms;
    out->iters = res->work_done;
    out->root_visits = res->root_visits;
    out->root_children = res->root_children;
    out->widen_added = res->widen_added;
    out->action_dim = clampn(res->adim, MCTS_MAX_ACTION);
    for (i = 0; i < out->action_dim; i++) {
        out->action[i] = res->u[i];
    }
    out->confidence = res->confidence;
    out->value_est = res->value_est;
    out->status = res->status;
    out->depth_max = res->backend == PLAN_MCTS ? res->depth_max : res->horizon;
    out->depth_mean = res->backend == PLAN_MCTS ? res->depth_mean : (double)res->horizon;
    n = clampn(res->top_n, MCTS_MAX_TOPK);
    out->top_n = n;
    for (i = 0; i < n; i++) {
        memcpy(out->top[i].action, res->top[i].u, sizeof out->top[i].action);
        out->top[i].visits = res->top[i].visits;
        out->top[i].q = res->top[i].q;
        out->top_weight[i] = res->top[i].weight;
        out->top_cost[i] = res->top[i].cost;
    }
    copy_str(out->error, sizeof out->error, res->error);
    out->planner = res->backend;
    out->work_done = res->work_done;
    copy_str(out->action_schema, sizeof out->action_schema, res->action_schema);
    out->overrun = res->overrun;
    copy_str(out->note, sizeof out->note, res->note);
    out->has_trace = res->has_trace;
    out->horizon = res->horizon;
    out->cost_init = res->cost_init;
    out->cost_final = res->cost_final;
    out->reg_final = res->reg_final;
}

/* "key": with the separating comma. */
static void key(sbuf *b, const char *k, int first) {
    if (!first) {
        sbuf_putc(b, ',');
    }
    sbuf_putc(b, '"');
    sbuf_puts(b, k);
    sbuf_puts(b, "\":");
}

static void json_str(sbuf *b, const char *s, size_t cap) {
    sbuf_json_string(b, s, strnlen(s, cap));
}

static void json_int(sbuf *b, int64_t v) {
    sbuf_printf(b, "%" PRId64, v);
}

/* Times are reported to the microsecond: "0.731", not 0.73112399999999995. */
static void json_ms(sbuf *b, double ms) {
    sbuf_json_number(b, isfinite(ms) ? round(ms * 1000.0) / 1000.0 : ms);
}

static void json_vec(sbuf *b, const double *v, int n) {
    int i;
    sbuf_putc(b, '[');
    for (i = 0; i < n; i++) {
        if (i > 0) {
            sbuf_putc(b, ',');
        }
        sbuf_json_number(b, v[i]);
    }
    sbuf_putc(b, ']');
}

/* "trace": the backend's diagnostics, as the reference's planner.v1. */
static void trace_json(const mcts_Record *r, int adim, sbuf *b) {
    int i, n = r->top_n > MCTS_MAX_TOPK ? MCTS_MAX_TOPK : r->top_n;
    key(b, "trace", 0);
    sbuf_putc(b, '{');
    if (r->planner == PLAN_MCTS) {
        key(b, "root_visits", 1);
        json_int(b, r->root_visits);
        key(b, "root_children", 0);
        json_int(b, r->root_children);
        key(b, "widen_added", 0);
        json_int(b, r->widen_added);
    } else if (r->planner == PLAN_MPPI) {
        key(b, "n_samples", 1);
        json_int(b, r->work_done);
        key(b, "horizon", 0);
        json_int(b, r->horizon);
    } else {
        key(b, "iters", 1);
        json_int(b, r->work_done);
        key(b, "cost_init", 0);
        sbuf_json_number(b, r->cost_init);
        key(b, "cost_final", 0);
        sbuf_json_number(b, r->cost_final);
        key(b, "reg_final", 0);
        sbuf_json_number(b, r->reg_final);
        n = 0;
    }
    if (n > 0) {
        key(b, "top_k", 0);
        sbuf_putc(b, '[');
        for (i = 0; i < n; i++) {
            if (i > 0) {
                sbuf_putc(b, ',');
            }
            sbuf_puts(b, "{\"action\":");
            json_vec(b, r->top[i].action, adim);
            if (r->planner == PLAN_MCTS) {
                sbuf_puts(b, ",\"visits\":");
                json_int(b, r->top[i].visits);
                sbuf_puts(b, ",\"q\":");
                sbuf_json_number(b, r->top[i].q);
            } else {
                sbuf_puts(b, ",\"weight\":");
                sbuf_json_number(b, r->top_weight[i]);
                sbuf_puts(b, ",\"cost\":");
                sbuf_json_number(b, r->top_cost[i]);
            }
            sbuf_putc(b, '}');
        }
        sbuf_putc(b, ']');
    }
    sbuf_putc(b, '}');
}

void precord_json(const mcts_Record *r, sbuf *b) {
    int i, adim = r->action_dim;
    if (adim < 0) {
        adim = 0;
    } else if (adim > MCTS_MAX_ACTION) {
        adim = MCTS_MAX_ACTION;
    }
    sbuf_putc(b, '{');
    key(b, "ts_ms", 1);
    json_int(b, r->ts_ms);
    key(b, "run_id", 0);
    json_str(b, r->run_id, sizeof r->run_id);
    key(b, "tick_index", 0);
    json_int(b, r->tick_index);
    key(b, "node_name", 0);
    json_str(b, r->node_name, sizeof r->node_name);
    key(b, "budget_ms", 0);
    sbuf_json_number(b, r->budget_ms);
    key(b, "time_used_ms", 0);
    json_ms(b, r->time_used_ms);
    key(b, "iters", 0);
    json_int(b, r->iters);
    key(b, "root_visits", 0);
    json_int(b, r->root_visits);
    key(b, "root_children", 0);
    json_int(b, r->root_children);
    key(b, "widen_added", 0);
    json_int(b, r->widen_added);
    key(b, "action", 0);
    json_vec(b, r->action, adim);
    key(b, "confidence", 0);
    sbuf_json_number(b, r->confidence);
    key(b, "value_est", 0);
    sbuf_json_number(b, r->value_est);
    key(b, "status", 0);
    sbuf_json_string(b, mcts_status_name(r->status), strlen(mcts_status_name(r->status)));
    key(b, "depth_max", 0);
    json_int(b, r->depth_max);
    key(b, "depth_mean", 0);
    sbuf_json_number(b, r->depth_mean);
    key(b, "seed", 0);
    /* as the signed 64-bit integer Lua and Lisp see */
    json_int(b, (int64_t)r->seed);
    if (r->state_key[0] != '\0') {
        key(b, "state_key", 0);
        json_str(b, r->state_key, sizeof r->state_key);
    }
    if (r->top_n > 0 && r->planner == PLAN_MCTS) {
        int n = r->top_n > MCTS_MAX_TOPK ? MCTS_MAX_TOPK : r->top_n;
        key(b, "top_k", 0);
        sbuf_putc(b, '[');
        for (i = 0; i < n; i++) {
            if (i > 0) {
                sbuf_putc(b, ',');
            }
            sbuf_puts(b, "{\"action\":");
            json_vec(b, r->top[i].action, adim);
            sbuf_puts(b, ",\"visits\":");
            json_int(b, r->top[i].visits);
            sbuf_puts(b, ",\"q\":");
            sbuf_json_number(b, r->top[i].q);
            sbuf_putc(b, '}');
        }
        sbuf_putc(b, ']');
    }
    if (r->model_service[0] != '\0') {
        key(b, "model_service", 0);
        json_str(b, r->model_service, sizeof r->model_service);
    }
    key(b, "schema_version", 0);
    sbuf_puts(b, "\"planner.v1\"");
    key(b, "planner", 0);
    json_str(b, plan_backend_name(r->planner), 8);
    key(b, "work_done", 0);
    json_int(b, r->work_done);
    key(b, "action_schema", 0);
    json_str(b, r->action_schema, sizeof r->action_schema);
    if (r->overrun) {
        key(b, "overrun", 0);
        sbuf_puts(b, "true");
    }
    if (r->note[0] != '\0') {
        key(b, "note", 0);
        json_str(b, r->note, sizeof r->note);
    }
    if (r->has_trace) {
        trace_json(r, adim, b);
    }
    if (r->error[0] != '\0') {
        key(b, "error", 0);
        json_str(b, r->error, sizeof r->error);
    }
    sbuf_putc(b, '}');
}

/*
** ------------------------------------------------------------------ ring
*/

int precord_ring_init(precord_Ring *ring, mem_Heap *M, int capacity) {
    memset(ring, 0, sizeof *ring);
    ring->M = M;
    if (capacity < 1 || capacity > PRECORD_CAPACITY_LIMIT) {
        goto fail;
    }
    ring->rec = mem_alloc(M, sizeof(mcts_Record) * (size_t)capacity);
    if (ring->rec == NULL) {
        goto fail;
    }
    ring->capacity = capacity;
    return 0;
fail:
    ring->capacity = 0;
    return -1;
}

void precord_ring_free(precord_Ring *ring) {
    if (ring->rec != NULL) {
        mem_free(ring->M, ring->rec, sizeof(mcts_Record) * (size_t)ring->capacity);
    }
    ring->rec = NULL;
    ring->capacity = ring->count = ring->head = 0;
}

void precord_push(precord_Ring *ring, const mcts_Record *r) {
    int slot;
    if (ring->capacity == 0) {
        return;
    }
    if (ring->count < ring->capacity) {
        slot = ring->head + ring->count;
        if (slot >= ring->capacity) {
            slot -= ring->capacity;
        }
        ring->count++;
    } else {
        slot = ring->head;
        ring->head = ring->head + 1 == ring->capacity ? 0 : ring->head + 1;
    }
    ring->rec[slot] = *r;
    ring->total++;
}

void precord_clear(precord_Ring *ring) {
    ring->head = ring->count = 0;
}

int precord_count(const precord_Ring *ring) {
    return ring->count;
}

const mcts_Record *precord_get(const precord_Ring *ring, int i) {
    int slot;
    if (i < 0 || i >= ring->count) {
        return NULL;
    }
    slot = ring->head + i;
    if (slot >= ring->capacity) {
        slot -= ring->capacity;
    }
    return &ring->rec[slot];
}

int precord_dump(const precord_Ring *ring, int n, sbuf *b) {
    int i, first;
    if (n <= 0) {
        return 0;
    }
    if (n > ring->count) {
        n = ring->count;
    }
    first = ring->count - n;
    for (i = first; i < ring->count; i++) {
        precord_json(precord_get(ring, i), b);
        sbuf_putc(b, '\n');
    }
    return b->oom ? -1 : n;
}

/*
** ------------------------------------------------------------------ sink
*/

/* Portable strerror into a caller buffer (GNU and XSI strerror_r differ). */
static void errtext(int e, char *buf, size_t n) {
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    const char *s = strerror_r(e, buf, n);
    if (s != buf) {
        copy_str(buf, n, s);
    }
#else
    if (strerror_r(e, buf, n) != 0) {
        snprintf(buf, n, "error %d", e);
    }
#endif
}

static void sink_close(precord_Sink *S) {
    if (S->fp != NULL) {
        fclose(S->fp);
        S->fp = NULL;
    }
}

/* Record a failure of 'what' with errno 'e'; close the file; return -1. */
static int sink_fail(precord_Sink *S, const char *what, int e) {
    char reason[128];
    if (e != 0) {
        errtext(e, reason, sizeof reason);
    } else {
        copy_str(reason, sizeof reason, "unknown error");
    }
    snprintf(S->last_error, sizeof S->last_error, "%.120s: %s: %s", S->path, what, reason);
    S->errors++;
    sink_close(S);
    return -1;
}

void precord_sink_init(precord_Sink *S) {
    memset(S, 0, sizeof *S);
    copy_str(S->path, sizeof S->path, PRECORD_DEFAULT_PATH);
    sbuf_init(&S->line);
}

void precord_sink_free(precord_Sink *S) {
    sink_close(S);
    sbuf_free(&S->line);
}

int precord_sink_set_path(precord_Sink *S, const char *path) {
    size_t n = path ? strlen(path) : 0;
    if (n == 0 || n >= sizeof S->path) {
        snprintf(S->last_error, sizeof S->last_error, "planner log path: %s",
                 n == 0 ? "empty path" : "path too long");
        return -1;
    }
    sink_close(S);
    memcpy(S->path, path, n + 1);
    return 0;
}

void precord_sink_set_enabled(precord_Sink *S, int on) {
    S->enabled = on != 0;
    if (!S->enabled) {
        sink_close(S);
    }
}

int precord_sink_write(precord_Sink *S, const mcts_Record *r) {
    int e;
    if (!S->enabled) {
        return 0;
    }
    S->line.len = 0;
    S->line.oom = 0;
    precord_json(r, &S->line);
    sbuf_putc(&S->line, '\n');
    if (S->line.oom) {
        return sink_fail(S, "render", ENOMEM);
    }
    if (S->fp == NULL) {
        errno = 0;
        S->fp = fopen(S->path, "a");
        if (S->fp == NULL) {
            return sink_fail(S, "open", errno);
        }
    }
    errno = 0;
    if (fwrite(S->line.p, 1, S->line.len, S->fp) != S->line.len) {
        e = errno;
        clearerr(S->fp);
        return sink_fail(S, "write", e);
    }
    errno = 0;
    if (fflush(S->fp) != 0) {
        e = errno;
        clearerr(S->fp);
        return sink_fail(S, "flush", e);
    }
    S->written++;
    return 0;
}

const char *precord_sink_last_error(const precord_Sink *S) {
    return S->last_error;
}
