/*
** obs_events.h -- the host's canonical event stream, mbt.evt.v1 JSON lines
** (obs_events_).  See LICENSE for copyright; docs/events.md.
*/
#ifndef LISPBT_OBS_EVENTS_H
#define LISPBT_OBS_EVENTS_H

#include "conf.h"

#include "bt.h"
#include "clock.h"
#include "lisp.h"
#include "mem.h"

#define OBS_EVT_RING_DEFAULT 8192  /* events.set-ring-size default (muesli-bt's runtime host) */
#define OBS_EVT_RING_MAX (1 << 20) /* events.set-ring-size maximum */
#define OBS_EVT_GC_MAX 512  /* GC lines not yet written, and GC/rare events in one tick; more are dropped (512: 256 incremental steps, ~2 MB of allocation in one tick) */
#define OBS_EVT_PATH_MAX 32 /* node ids kept in a tick_audit's node_path */
/* Deterministic mode: unix_ms is this plus the line's seq (2025-01-01). */
#define OBS_EVT_FIXED_MS 1735689600000LL

/* Open the stream of the host whose Lisp state is 'S' (off until
** events.enable): its state goes in LISPBT_SLOT_OBS and its hooks into
** 'E' (bt_reg_env).  Memory comes from 'M'.  Returns 0, or -1 when out of
** memory (nothing left allocated). */
int obs_events_open(lisp_State *S, bt_Env *E, mem_Heap *M, clk_Clock *clock);
/* Flush what is pending, write run_end if a run is open, close the file
** and free the stream.  Call before the Lisp state is freed.  Never raises. */
void obs_events_close(lisp_State *S);

/* An event of 'type' (a static string) with payload 'data', the text of a
** JSON object ('len' bytes), stamped 'ts_ns' on the host clock (-1: now),
** from the host's thread: during a tick it goes between the tick's events
** where it happened, else after what is pending.  Ignored while the stream
** is off or before its run starts; counted in 'dropped' when out of memory
** or when OBS_EVT_GC_MAX events wait in one tick.  Never raises.  For the
** host's wiring (planner records). */
void obs_events_note(lisp_State *S, const char *type, int64_t ts_ns, const char *data,
                     size_t len);
/* 1 in deterministic mode (events.set-deterministic), else 0: callers of
** obs_events_note then write fixed figures for times. */
int obs_events_fixed(lisp_State *S);

/* The listener queue (host.events.on_line; docs/events.md).  While on,
** the writer also queues every line it writes, up to OBS_EVT_LISTEN_MAX;
** lines beyond are counted in obs_events_listen_drops.  Off empties the
** queue.  obs_events_listen returns 0, or -1 when out of memory (then off).
** obs_events_nextline pops the oldest line (NUL-terminated, its length in
** '*len'; the caller frees it with free()), or returns NULL.
** obs_events_sync writes everything pending now.  Host's thread only;
** none raises. */
int obs_events_listen(lisp_State *S, int on);
char *obs_events_nextline(lisp_State *S, size_t *len);
uint64_t obs_events_listen_drops(lisp_State *S);
void obs_events_sync(lisp_State *S);

extern const lisp_Reg events_lib[];

#endif
