/*
** host.c -- creating and closing hosts.  See LICENSE for copyright.
**
** Order matters: close stops the subsystems that may still reference Lisp
** values or run jobs (scheduler first: cancel queued jobs, join workers),
** then frees the Lisp heap, then the rest.  The struct itself outlives a
** close so that Lua handles can report "host is closed".
*/
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "host_builtins.h"
#include "host.h"
#include "planner_lib.h"
#include "sched_lib.h"

void host_defaults(host_Opts *o) {
    memset(o, 0, sizeof *o);
    o->workers = 2;
    o->trace_capacity = 4096;
    o->log_capacity = 1024;
    o->planner_capacity = 1024;
    o->max_depth = 10000;
}

/* The engine's dead-key callback until the binding sets its own. */
static void deadkey(void *ud, int64_t key) {
    host_deadkey(ud, key);
}

void host_set_deadkey(lispbt_Host *H, void (*fn)(void *ud, int64_t key), void *ud) {
    bt_Env *E = bt_reg_env(H->bt);
    E->deadkey = fn;
    E->deadkey_ud = ud;
}

static void markhost(lisp_State *S, void *ud) {
    bt_Reg *R = bt_reg(S); /* from its slot: marked while bt_reg_new fills it */
    (void)ud;
    if (R) {
        bt_reg_mark(S, R);
    }
}

lispbt_Host *host_new(const host_Opts *o, char *err, size_t errlen) {
    lispbt_Host *H = calloc(1, sizeof *H);
    lisp_Opts lo;
    const lisp_Reg *const *lib;
    int n = 0;
    if (H == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    mem_init(&H->mem);
    H->opts = *o;
    lo.max_depth = o->max_depth;
    lo.heap_limit = o->heap_limit;
    lo.gc_stress = o->gc_stress;
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
        env.deadkey = deadkey;
        env.deadkey_ud = H;
        H->bt = bt_reg_new(H->S, &env);
        if (H->bt == NULL || sched_open(H->S, H->sched) != LISP_OK ||
            (H->planner = planner_open(H->S, &H->mem, &H->log, o->planner_capacity)) == NULL) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    /* pin every builtin by ordinal: the Lua mirror calls these even if
    ** Lisp code redefines the global of the same name */
    for (lib = lispbt_builtins; *lib; lib++) {
        const lisp_Reg *r;
        for (r = *lib; r->name; r++) {
            n++;
        }
    }
    H->prims = mem_alloc(&H->mem, sizeof(int) * (size_t)n);
    if (H->prims == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (lib = lispbt_builtins; *lib; lib++) {
        const lisp_Reg *r;
        for (r = *lib; r->name; r++) {
            lisp_Value v;
            lisp_getglobal(H->S, r->name, &v);
            H->prims[H->nprims] = lisp_pin(H->S, v);
            if (H->prims[H->nprims] < 0) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            H->nprims++;
        }
    }
    return H;
fail:
    host_free(H);
    return NULL;
}

void host_deadkey(lispbt_Host *H, int64_t key) {
    if (H->ndead == H->capdead) {
        int ncap = H->capdead ? H->capdead * 2 : 16;
        int64_t *nd = mem_realloc(&H->mem, H->dead, sizeof(int64_t) * (size_t)H->capdead,
                                  sizeof(int64_t) * (size_t)ncap);
        if (nd == NULL) {
            return;
        }
        H->dead = nd;
        H->capdead = ncap;
    }
    H->dead[H->ndead++] = key;
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
    if (H->S) {
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
    mem_free(&H->mem, H->prims, sizeof(int) * (size_t)H->nprims);
    H->prims = NULL;
    mem_free(&H->mem, H->dead, sizeof(int64_t) * (size_t)H->capdead);
    H->dead = NULL;
    H->ndead = H->capdead = 0;
}

void host_free(lispbt_Host *H) {
    if (H == NULL) {
        return;
    }
    host_close(H);
    free(H);
}
