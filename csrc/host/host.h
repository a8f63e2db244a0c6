/*
** host.h -- lispbt_Host: one independent engine.  See LICENSE for copyright.
**
** A host owns its allocator accounting, Lisp state (heap, globals), and the
** runtime subsystems attached to it (BT registry, scheduler, planner, log).
** Hosts share no mutable state: a process may run any number of them.
** A host is used only on the thread that owns it; its scheduler's worker
** threads run plain C jobs and never touch it.
*/
#ifndef LISPBT_HOST_H
#define LISPBT_HOST_H

#include "conf.h"

#include "clock.h"
#include "lisp.h"
#include "log.h"
#include "mem.h"

struct bt_Reg;
struct sched_Pool;
struct planner_Host;

typedef struct host_Opts {
    int workers;          /* scheduler threads (default 2) */
    int trace_capacity;   /* events per instance (default 4096) */
    int log_capacity;     /* log records (default 1024) */
    int planner_capacity; /* planner records (default 1024) */
    int max_depth;        /* non-tail call depth (default 10000) */
    size_t heap_limit;    /* bytes, 0 = unlimited */
    int gc_stress;        /* collect at every allocation */
} host_Opts;

typedef struct lispbt_Host lispbt_Host;

/* Binding state of the inst:tick running (see calllua in lua_bt.c). */
typedef struct host_TickCache {
    void *L, *I;       /* its Lua state and instance */
    int running;       /* H->running inside it: other entries don't match */
    int cbidx, ctxidx; /* stack slots of the callback table and ctx; 0 = none */
} host_TickCache;

struct lispbt_Host {
    mem_Heap mem;   /* every C-heap allocation of this host */
    lisp_State *S;  /* NULL once closed */
    host_Opts opts;
    int *prims;     /* pins of the builtin primitives, by table ordinal */
    int nprims;
    struct bt_Reg *bt;        /* leaf registry and blackboard keys */
    struct sched_Pool *sched; /* worker pool; NULL once closed */
    struct planner_Host *planner; /* planner arena, record ring, file sink */
    log_Ring log;             /* host log ring (thread-safe) */
    int log_ok;
    clk_Clock clock; /* every timestamp of the host (clock.h) */
    clk_Rate rate;   /* cycle-counter rate, for durations (clock.h) */
    void *L;        /* binding: the lua_State currently running this host */
    int running;    /* binding: nesting of entries from Lua (close refused) */
    const char *fname; /* binding: the Lua function running, for messages */
    host_TickCache tc; /* binding: Lua leaf cache of the inst:tick running */
    int64_t cbnext; /* binding: next key in the Lua callback table */
    int64_t *dead;  /* binding: callback keys of collected primitives, */
    int ndead, capdead; /* cleared from the table at the next safe point */
};

/* Fill 'o' with the defaults of SPEC §2. */
void host_defaults(host_Opts *o);

/* Create a host; returns NULL and a message in 'err' on failure.  The
** caller owns the host and frees it with host_free. */
lispbt_Host *host_new(const host_Opts *o, char *err, size_t errlen);

/* Release the engine (heap, subsystems) but keep the struct, so handles
** that still point at it can see it is closed.  Idempotent. */
void host_close(lispbt_Host *H);

/* host_close, then free the struct.  'H' is no longer valid. */
void host_free(lispbt_Host *H);

/* Queue Lua callback 'key' for removal at the binding's next safe point
** (outside any Lisp call).  Never raises; if the queue cannot grow the
** callback stays until the host is freed.  host_new installs it as the BT
** engine's dead-key callback (bt_Env.deadkey). */
void host_deadkey(lispbt_Host *H, int64_t key);

/* Make 'fn(ud, key)' the BT engine's dead-key callback of open host 'H'
** (bt_Env.deadkey: a collected instance marked by bt_inst_sethaslua, as
** -id, or the callback keys of a replaced Lua leaf); NULL: none.  It is
** called without raising, possibly inside the garbage collector, and
** must neither allocate Lisp values nor call Lisp or Lua.  Replaces
** host_deadkey, which host_new installs. */
void host_set_deadkey(lispbt_Host *H, void (*fn)(void *ud, int64_t key), void *ud);

/* The host of a Lisp state. */
#define H(S) ((lispbt_Host *)lisp_host(S))

#endif
