/*
** planner_lib.h -- the planner's host state and its bindings to Lisp and
** to the BT engine (plan-action).  See LICENSE for copyright.
*/
#ifndef LISPBT_LIB_PLANNER_H
#define LISPBT_LIB_PLANNER_H

#include "lisp.h"

struct lispbt_Host;

/* Create / release the planner state of host 'H' (arena, record ring of
** planner_capacity, file sink).  planner_open returns 0 or -1. */
int planner_open(struct lispbt_Host *H);
void planner_close(struct lispbt_Host *H);

/* Validate the ':key value ...' configuration of a plan-action node at
** compile time; raises "bt.compile: plan-action: ..." errors. */
void planner_checkconfig(lisp_State *S, lisp_Value plist);

extern const lisp_Reg planner_lib[];

/* Figures for exporters: planning time per call (ns) and calls by status
** (ok, timeout, noaction, error), plus the sink's line and error counts. */
struct hist_Hist;
const struct hist_Hist *planner_timehist(struct lispbt_Host *H);
void planner_counts(struct lispbt_Host *H, uint64_t out[4], uint64_t *sink_written,
                    uint64_t *sink_errors);

struct bt_Inst;
struct bt_Node;
/* The plan-action leaf, called by the BT executor for BT_NPLAN nodes.
** Never raises: errors fail the node with an error event and log record. */
int bt_plan_leaf(struct bt_Inst *I, int32_t i, const struct bt_Node *n);

#endif
