/*
** planner_lib.h -- the planner's state of a lisp_State (slot
** LISPBT_SLOT_PLANNER), its builtins and its BT leaves (the plan-action
** form, apply-planned-1d).  See LICENSE for copyright.
*/
#ifndef LISPBT_LIB_PLANNER_H
#define LISPBT_LIB_PLANNER_H

#include "conf.h"

#include "hist.h"
#include "lisp.h"
#include "log.h"
#include "mem.h"
#include "planner_mcts.h"

typedef struct planner_Host planner_Host;
struct mcts_Record;

/* Called once per planner call with its record (planner_record.h), after
** it is in the ring: 'tick' and 'node' are the plan-action's tick and node
** (-1 for planner.plan / planner.mcts).  Owner thread; must not raise. */
typedef void (*planner_RecordHook)(void *ud, const struct mcts_Record *r, int64_t tick,
                                   int32_t node);

/* Create the planner state of 'S' (MCTS arena, record ring of 'capacity'
** records, file sink; C memory from 'M'; sink errors go to 'log'), store it
** in S's slot LISPBT_SLOT_PLANNER and register the planner's leaves in the
** BT registry of 'S', which must exist (bt_reg_new).  'M' and 'log' must
** outlive it.  Returns NULL when out of memory, when 'capacity' is outside
** 1..PRECORD_CAPACITY_LIMIT, or when the leaves cannot be registered
** (nothing is left allocated or in the slot).  Never raises.  The caller
** owns the state and frees it with planner_close after lisp_free(S) (or
** after clearing the slot). */
planner_Host *planner_open(lisp_State *S, mem_Heap *M, log_Ring *log, int capacity);
/* Free 'p' (NULL is a no-op): arena, ring, sink (its file is closed).  It
** does not clear the slot of the state 'p' was opened on. */
void planner_close(planner_Host *p);
/* The planner state of 'S' (its slot; owned by whoever opened it), NULL if
** none.  Never raises. */
planner_Host *planner_get(lisp_State *S);

/* Called when a planner.plan or plan-action call starts planning (after
** its request was accepted, before the backend runs): 'planner' is
** "mcts"/"mppi"/"ilqr", 'node_name' the request's, 'tick'/'node' as for
** planner_RecordHook.  Owner thread; must not raise. */
typedef void (*planner_BeginHook)(void *ud, const char *planner, double budget_ms,
                                  const char *node_name, int64_t tick, int32_t node);

/* Install the hooks (NULL: none); one pair, replaced by the next call.
** For the event stream: 'begin' for planner_call_start, 'f' (the record,
** once per call, including calls rejected before planning) for
** planner_call_end and planner_v1. */
void planner_set_record_hook(planner_Host *p, planner_BeginHook begin, planner_RecordHook f,
                             void *ud);

/* The C model API: register 'm' (borrowed; must outlive 'p') for
** planner.plan under m->name (docs/planner.md "Models in C"); replaces a
** Lisp/Lua/C model of that name, not a built-in.  Returns 0, or -1 with a
** message in 'err'.  Owner thread, not from inside a model. */
int planner_register_cmodel(planner_Host *p, const mcts_Model *m, char *err, size_t errlen);

/* The planner.* builtins (listed in csrc/host/host_builtins.c). */
extern const lisp_Reg planner_lib[];

/* Figures for exporters: planning time per call (ns; owned by 'p') and
** calls by status (ok, timeout, noaction, error), plus the sink's line and
** error counts, copied into the caller's 'out' and pointers.  Owner thread
** only; never fail. */
const hist_Hist *planner_timehist(planner_Host *p);
void planner_counts(planner_Host *p, uint64_t out[4], uint64_t *sink_written,
                    uint64_t *sink_errors);

#endif
