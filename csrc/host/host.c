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

#include "bt.h"
#include "host_builtins.h"
#include "host.h"
#include "host_impl.h"
#include "planner_lib.h"
#include "sched.h"

void host_defaults(host_Opts *o) {
    memset(o, 0, sizeof *o);
    o->workers = 2;
    o->trace_capacity = 4096;
    o->log_capacity = 1024;
    o->planner_capacity = 1024;
    o->max_depth = 10000;
}

/* Set the cycle length.  Kept within (0, 256] ns: the BT tick path relies on
** a duration under 2^32 cycles converting to under 2^41 ns. */
static void setrate(lispbt_Host *H, double ns_per_cycle) {
    H->ns_per_cycle = ns_per_cycle > 0 && ns_per_cycle <= 256 ? ns_per_cycle : 1.0;
    H->ns_mul = (uint64_t)(H->ns_per_cycle * 4294967296.0);
}

/* Measure the cycle counter against the monotonic clock for ~200 us. */
static void calibrate(lispbt_Host *H) {
    int64_t n0 = lispbt_now_ns(), n1;
    uint64_t c1;
    H->c0 = H->cbase = lispbt_cycles();
    H->nsbase = n0;
    if (!LISPBT_HAVE_TSC) {
        setrate(H, 1.0);
        H->recal = UINT64_MAX;
        return;
    }
    do {
        n1 = lispbt_now_ns();
        c1 = lispbt_cycles();
    } while (n1 - n0 < 200000);
    setrate(H, c1 > H->c0 ? (double)(n1 - n0) / (double)(c1 - H->c0) : 1.0);
    H->recal = (uint64_t)(20e6 / H->ns_per_cycle); /* ~20 ms */
}

void host_recalibrate(lispbt_Host *H, uint64_t c) {
    int64_t n = lispbt_now_ns();
    if (LISPBT_HAVE_TSC && c > H->cbase && n > H->nsbase) {
        setrate(H, (double)(n - H->nsbase) / (double)(c - H->cbase));
    }
    H->c0 = c;
}

static void markhost(lisp_State *S, void *ud) {
    lispbt_Host *H = ud;
    if (H->bt) {
        bt_reg_mark(S, H->bt);
    }
}

lispbt_Host *host_new(const host_Opts *o, char *err, size_t errlen) {
    lispbt_Host *H = calloc(1, sizeof *H);
    lisp_Opts lo;
    if (H == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    mem_init(&H->mem);
    H->opts = *o;
    lo.max_depth = o->max_depth;
    lo.heap_limit = o->heap_limit;
    lo.gc_stress = o->gc_stress;
    calibrate(H);
    if (log_init(&H->log, &H->mem, o->log_capacity) != 0) {
        snprintf(err, errlen, "cannot create the log ring (out of memory)");
        goto fail;
    }
    H->log_ok = 1;
    log_set_clock(&H->log, &H->clock);
    H->bt = bt_reg_new(H);
    if (H->bt == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
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
    bt_lib_open(H);
    if (bt_leaves_open(H->S, H->bt) != 0 || planner_open(H) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
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
        sched_free(H->sched);
        H->sched = NULL;
    }
    if (H->S) {
        lisp_free(H->S);
        H->S = NULL;
    }
    planner_close(H);
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
