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

typedef struct planner_Host planner_Host;

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

/* Called with every planner call's record (planner_record.h) after it is
** kept (the record is the caller's: copy what is needed), with the tick and
** node of the call (-1 when outside a tree).  Owner thread; it must not
** raise.  NULL (the default): none.  For the host's wiring (the event
** stream's planner events). */
struct mcts_Record;
typedef void (*planner_RecordHook)(void *ud, const struct mcts_Record *rec, int64_t tick,
                                   int32_t node);
void planner_set_hook(planner_Host *p, planner_RecordHook fn, void *ud);

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
