/*
** host.h -- lispbt_Host: one independent engine.  See LICENSE for copyright.
**
** A host owns its allocator accounting, Lisp state (heap, globals), and the
** runtime subsystems attached to it (BT registry, scheduler, planner, log).
** Hosts share no mutable state: a process may run any number of them.
** A host is used only on the thread that owns it; its scheduler's worker
** threads run plain C jobs and never touch it.
**
** This is the C API of the engine, and the only one: the Lua binding
** (csrc/lua/) uses exactly these functions, as a C or C++ embedder would
** (docs/embedding.md).  lispbt_Host is opaque; whoever embeds the host
** keeps its own state beside it through host_setuserdata.
**
** Lifetime: host_new -> (use) -> host_close -> host_free.  host_close frees
** the engine but keeps the struct, so handles that outlive the engine (Lua
** userdata) can still ask host_isclosed; host_free releases the struct.
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

typedef struct host_Opts {
    int workers;          /* scheduler threads (default 2) */
    int trace_capacity;   /* events per instance (default 4096) */
    int log_capacity;     /* log records (default 1024) */
    int planner_capacity; /* planner records (default 1024) */
    int max_depth;        /* non-tail call depth (default 10000) */
    size_t heap_limit;    /* bytes, 0 = unlimited */
    int gc_stress;        /* 1: full collection at every allocation; 2: a GC step at every allocation */
    size_t print_limit;   /* bytes of one printed value (default LISPBT_PRINT_LIMIT) */
    int print_style;      /* LISP_PRINT_MUESLI (0, default) or LISP_PRINT_LISPBT (1) */
    int preempt;          /* memoryless seq/sel halt skipped running children
                          ** (default 0: leave them, as muesli-bt does) */
} host_Opts;

/* Opaque: the definition is private to csrc/host/host.c. */
typedef struct lispbt_Host lispbt_Host;

/* ---- lifetime ---- */

/* Fill 'o' with the defaults of SPEC §2.  Never fails. */
void host_defaults(host_Opts *o);

/* Check options 'o' against their ranges (docs/reference/lua.md "Limits"):
** 0, or -1 with "option 'NAME' must be ..." in 'err'.  host_new checks
** them first; the Lua binding calls it to raise an argument error. */
#define HOST_MAX_DEPTH 1000000 /* max_depth: the value stack is 24 slots a level */
int host_check_opts(const host_Opts *o, char *err, size_t errlen);

/* Create a host with options 'o' (copied).  Returns NULL and a message in
** 'err' (at most 'errlen' bytes, NUL-terminated) on failure: out of memory,
** or workers that cannot be started.  The caller owns the host and frees
** it with host_free.  Never raises. */
lispbt_Host *host_new(const host_Opts *o, char *err, size_t errlen);

/* Release the engine: stop the scheduler (cancel queued jobs, join the
** workers), free the Lisp heap and every subsystem.  The struct stays, so
** handles that still point at it can see it is closed; every pointer an
** accessor returned (state, log, registry, scheduler) is no longer valid.
** The user data pointer and the dead-key callback are kept.  Idempotent;
** NULL is a no-op.  Must not be called from inside a Lisp call of 'H'. */
void host_close(lispbt_Host *H);

/* host_close, then free the struct.  'H' is no longer valid.  NULL is a
** no-op.  The user data (host_setuserdata) is not freed: it is its
** owner's. */
void host_free(lispbt_Host *H);

/* ---- accessors (never raise, never allocate) ---- */

/* 1 once host_close ran, else 0. */
int host_isclosed(const lispbt_Host *H);

/* The Lisp state: heap, globals, builtins.  Owned by the host; NULL once
** closed.  Anything that may raise a Lisp error must run under
** lisp_pcall(S, ...) (lisp.h). */
lisp_State *host_state(const lispbt_Host *H);

/* The host of a state created by host_new (the back pointer lisp_host
** keeps).  Undefined for a state made by lisp_new directly. */
lispbt_Host *host_of(lisp_State *S);

/* The allocator accounting of every C-heap allocation of the host
** (mem.h).  Owned by the host and valid until host_free, also after close;
** the caller may allocate through it (sizes must match on free). */
mem_Heap *host_mem(lispbt_Host *H);

/* The host's log ring (log.h, thread-safe): records of ticks, leaves and
** the scheduler.  Owned by the host; NULL once closed. */
log_Ring *host_log(lispbt_Host *H);

/* The clock every timestamp of the host comes from (clock.h).  Owned by
** the host and valid until host_free. */
clk_Clock *host_clock(lispbt_Host *H);

/* The options the host was created with (a copy owned by the host, valid
** until host_free). */
const host_Opts *host_opts(const lispbt_Host *H);

/* The BT leaf registry (bt.h: bt_reg_define registers a C leaf) and the
** worker pool (sched.h: sched_stats).  Owned by the host; NULL once
** closed. */
struct bt_Reg *host_bt(lispbt_Host *H);
struct sched_Pool *host_sched(lispbt_Host *H);

/* ---- the embedder's state ---- */

/* Attach 'p' to the host (NULL clears it); host_userdata returns it.  The
** host never reads, frees or outlives-checks 'p': its owner keeps it valid
** while the host may call back into it (see host_set_deadkey). */
void host_setuserdata(lispbt_Host *H, void *p);
void *host_userdata(const lispbt_Host *H);

/* Make 'fn(ud, key)' the host's dead-key callback (NULL: none, the
** default).  The engine calls it when a key it was handed by the embedder
** is dead: -id of a collected BT instance marked by bt_inst_sethaslua, or
** the ud/ud2 of a BT_IMPL_LUA leaf being replaced.  It is called without
** raising, possibly inside the garbage collector, so 'fn' must neither
** allocate Lisp values nor call Lisp, nor raise; it typically queues the
** key and releases it at its next safe point.  Neither 'ud' nor anything
** else is owned by the host. */
void host_set_deadkey(lispbt_Host *H, void (*fn)(void *ud, int64_t key), void *ud);

/* Report dead key 'key' to the dead-key callback, if any (the engine's
** side of host_set_deadkey).  Never raises. */
void host_deadkey(lispbt_Host *H, int64_t key);

#endif
