/*
** host.c -- creating and closing hosts.  See LICENSE for copyright.
**
** Order matters: close stops the subsystems that may still reference Lisp
** values or run jobs (scheduler first: cancel queued jobs, join workers),
** then frees the Lisp heap, then the rest.  The struct itself outlives a
** close so that Lua handles can report "host is closed".
**
** The host knows nothing of its embedder (the Lua binding is one): the
** embedder's state hangs off host_setuserdata, and the engine reports dead
** keys through the callback of host_set_deadkey.
*/
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "host_builtins.h"
#include "host.h"
#include "bt_trace.h"
#include "obs_events.h"
#include "planner_lib.h"
#include "planner_plan.h"
#include "planner_record.h"
#include "sched_lib.h"

struct lispbt_Host {
    mem_Heap mem;  /* every C-heap allocation of this host */
    lisp_State *S; /* NULL once closed */
    host_Opts opts;
    bt_Reg *bt;                   /* leaf registry and blackboard keys */
    sched_Pool *sched;            /* worker pool; NULL once closed */
    struct planner_Host *planner; /* planner arena, record ring, file sink */
    log_Ring log;                 /* host log ring (thread-safe) */
    int log_ok;
    clk_Clock clock; /* every timestamp of the host (clock.h) */
    clk_Rate rate;   /* cycle-counter rate, for durations (clock.h) */
    void *ud;        /* the embedder's state (host_setuserdata) */
    void (*deadkey)(void *ud, int64_t key); /* host_set_deadkey */
    void *deadkey_ud;
};

/* The default worker count: one per online CPU, as muesli-bt's runtime
** host (docs/compat.md#defaults), at least 1 and at most SCHED_MAX_WORKERS. */
static int host_default_workers(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > SCHED_MAX_WORKERS ? SCHED_MAX_WORKERS : (int)n;
}

void host_defaults(host_Opts *o) {
    memset(o, 0, sizeof *o);
    o->workers = host_default_workers();
    o->trace_capacity = 4096;
    o->log_capacity = 4096;     /* muesli-bt's runtime host keeps 4096 log records */
    o->planner_capacity = 4096; /* and 4096 planner records */
    o->max_depth = 10000;
    o->print_limit = LISPBT_PRINT_LIMIT;
}

/* The engine's dead-key callback: forwards to the embedder's. */
static void deadkey(void *ud, int64_t key) {
    host_deadkey(ud, key);
}

/* The planner's hooks (planner_set_record_hook): each call as
** planner_call_start (when its backend starts), planner_call_end and
** planner_v1 (from its one record) in the event stream (docs/events.md). */
static void plannerbegin(void *ud, const char *planner, double budget_ms, const char *node_name,
                         int64_t tick, int32_t node) {
    lispbt_Host *H = ud;
    sbuf b;
    (void)node_name;
    (void)tick;
    sbuf_init(&b);
    sbuf_putc(&b, '{');
    if (node >= 0) {
        sbuf_printf(&b, "\"node_id\":%d,", (int)node);
    }
    sbuf_printf(&b, "\"planner\":\"%s\",\"budget_ms\":", planner);
    sbuf_json_number(&b, budget_ms);
    sbuf_putc(&b, '}');
    if (!b.oom) {
        obs_events_note(H->S, "planner_call_start", clk_now(&H->clock), b.p, b.len);
    }
    sbuf_free(&b);
}

static void plannerevents(void *ud, const struct mcts_Record *r0, int64_t tick, int32_t node) {
    lispbt_Host *H = ud;
    int64_t now = clk_now(&H->clock);
    sbuf b, rec;
    char nid[32] = "";
    mcts_Record fixed;
    const mcts_Record *r = r0;
    (void)tick;
    if (obs_events_fixed(H->S)) { /* deterministic mode: no wall clock, no durations */
        fixed = *r0;
        fixed.ts_ms = OBS_EVT_FIXED_MS;
        fixed.time_used_ms = 0;
        r = &fixed;
    }
    if (node >= 0) {
        snprintf(nid, sizeof nid, "\"node_id\":%d,", (int)node);
    }
    sbuf_init(&b);
    sbuf_init(&rec);
    sbuf_printf(&b, "{%s\"planner\":\"%s\",\"status\":\"%s\",\"time_used_ms\":", nid,
                plan_backend_name(r->planner), mcts_status_name(r->status));
    sbuf_json_number(&b, r->time_used_ms);
    sbuf_printf(&b, ",\"work_done\":%lld}", (long long)r->work_done);
    if (!b.oom) {
        obs_events_note(H->S, "planner_call_end", now, b.p, b.len);
    }
    precord_json(r, &rec); /* the record; it carries schema_version planner.v1 */
    b.len = 0;
    sbuf_puts(&b, "{\"record\":");
    sbuf_putn(&b, rec.p, rec.len);
    sbuf_putc(&b, '}');
    if (!b.oom && !rec.oom && rec.len > 2) {
        obs_events_note(H->S, "planner_v1", now, b.p, b.len);
    }
    sbuf_free(&b);
    sbuf_free(&rec);
}

static void markhost(lisp_State *S, void *ud) {
    bt_Reg *R = bt_reg(S); /* from its slot: marked while bt_reg_new fills it */
    (void)ud;
    if (R) {
        bt_reg_mark(S, R);
    }
}

int host_check_opts(const host_Opts *o, char *err, size_t errlen) {
    static const struct {
        const char *name;
        int lo, hi;
    } lim[] = {{"workers", 0, SCHED_MAX_WORKERS},
               {"trace_capacity", 1, TRACE_MAX_CAPACITY},
               {"log_capacity", 1, LOG_MAX_CAPACITY},
               {"planner_capacity", 1, PRECORD_CAPACITY_LIMIT},
               {"max_depth", 1, HOST_MAX_DEPTH}};
    const int v[] = {o->workers, o->trace_capacity, o->log_capacity, o->planner_capacity,
                     o->max_depth};
    size_t i;
    for (i = 0; i < sizeof lim / sizeof lim[0]; i++) {
        if (v[i] < lim[i].lo || v[i] > lim[i].hi) {
            snprintf(err, errlen, "option '%s' must be an integer in [%d, %d], got %d", lim[i].name,
                     lim[i].lo, lim[i].hi, v[i]);
            return -1;
        }
    }
    return 0;
}

lispbt_Host *host_new(const host_Opts *o, char *err, size_t errlen) {
    lispbt_Host *H;
    lisp_Opts lo;
    if (host_check_opts(o, err, errlen) != 0) {
        return NULL;
    }
    H = calloc(1, sizeof *H);
    if (H == NULL) {
        snprintf(err, errlen, "cannot allocate the host (out of memory)");
        return NULL;
    }
    mem_init(&H->mem);
    H->opts = *o;
    lo.max_depth = o->max_depth;
    lo.heap_limit = 0; /* applied to the whole heap below, once built */
    lo.gc_stress = o->gc_stress;
    lo.print_limit = o->print_limit;
    lo.print_style = o->print_style;
    clk_rate_init(&H->rate);
    if (log_init(&H->log, &H->mem, o->log_capacity) != 0) {
        snprintf(err, errlen, "cannot create the log ring (out of memory)");
        goto fail;
    }
    H->log_ok = 1;
    log_set_clock(&H->log, &H->clock);
    {
        int serr = 0;
        H->sched = sched_new(&H->mem, o->workers, &serr);
        if (H->sched == NULL) {
            snprintf(err, errlen, "cannot start %d scheduler workers (error %d)", o->workers, serr);
            goto fail;
        }
        sched_set_clock(H->sched, &H->clock);
    }
    H->S = lisp_new(&H->mem, &lo, H, lispbt_builtins);
    if (H->S == NULL) {
        snprintf(err, errlen, "cannot create the Lisp state (out of memory)");
        goto fail;
    }
    lisp_setmarkhook(H->S, markhost, H);
    {
        /* the engine's services; each layer finds its object in a slot */
        bt_Env env;
        memset(&env, 0, sizeof env);
        env.mem = &H->mem;
        env.clock = &H->clock;
        env.rate = &H->rate;
        env.log = &H->log;
        env.trace_capacity = o->trace_capacity;
        env.preempt = o->preempt != 0;
        env.deadkey = deadkey;
        env.deadkey_ud = H;
        H->bt = bt_reg_new(H->S, &env);
        if (H->bt == NULL || sched_open(H->S, H->sched) != LISP_OK ||
            (H->planner = planner_open(H->S, &H->mem, &H->log, o->planner_capacity)) == NULL ||
            obs_events_open(H->S, bt_reg_env(H->bt), &H->mem, &H->clock) != 0) {
            snprintf(err, errlen, "cannot open the engine (out of memory)");
            goto fail;
        }
        planner_set_record_hook(H->planner, plannerbegin, plannerevents, H);
    }
    /* heap_limit: every byte allocated from now on, by any layer, counts
    ** (mem.h); the startup structures above are the base */
    mem_setlimit(&H->mem, o->heap_limit);
    return H;
fail:
    host_free(H);
    return NULL;
}

void host_deadkey(lispbt_Host *H, int64_t key) {
    if (H->deadkey) {
        H->deadkey(H->deadkey_ud, key);
    }
}

void host_set_deadkey(lispbt_Host *H, void (*fn)(void *ud, int64_t key), void *ud) {
    H->deadkey = fn;
    H->deadkey_ud = ud;
}

void host_close(lispbt_Host *H) {
    if (H == NULL) {
        return;
    }
    /* workers first: cancel queued jobs and join, so nothing runs while
    ** the instances that own jobs are freed with the heap */
    if (H->sched) {
        if (H->S) { /* instances collected from now on own no job */
            lisp_setslot(H->S, LISPBT_SLOT_SCHED, NULL);
        }
        sched_free(H->sched);
        H->sched = NULL;
    }
    if (H->S) { /* run_end and the last lines, while key names can be read */
        obs_events_close(H->S);
        lisp_free(H->S);
        H->S = NULL;
    }
    planner_close(H->planner);
    H->planner = NULL;
    bt_reg_free(H->bt);
    H->bt = NULL;
    if (H->log_ok) {
        log_free(&H->log);
        H->log_ok = 0;
    }
}

void host_free(lispbt_Host *H) {
    if (H == NULL) {
        return;
    }
    host_close(H);
    free(H);
}

/* ---- accessors ---- */

int host_isclosed(const lispbt_Host *H) {
    return H->S == NULL;
}

lisp_State *host_state(const lispbt_Host *H) {
    return H->S;
}

lispbt_Host *host_of(lisp_State *S) {
    return lisp_host(S);
}

mem_Heap *host_mem(lispbt_Host *H) {
    return &H->mem;
}

log_Ring *host_log(lispbt_Host *H) {
    return H->log_ok ? &H->log : NULL;
}

clk_Clock *host_clock(lispbt_Host *H) {
    return &H->clock;
}

const host_Opts *host_opts(const lispbt_Host *H) {
    return &H->opts;
}

struct bt_Reg *host_bt(lispbt_Host *H) {
    return H->S ? H->bt : NULL;
}

struct sched_Pool *host_sched(lispbt_Host *H) {
    return H->sched;
}

void host_setuserdata(lispbt_Host *H, void *p) {
    H->ud = p;
}

void *host_userdata(const lispbt_Host *H) {
    return H->ud;
}
