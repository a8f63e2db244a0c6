/*
** sched_lib.h -- the scheduler's Lisp-facing side: the pool of a
** lisp_State (slot LISPBT_SLOT_SCHED), its leaves and its builtins.
** See LICENSE for copyright.
*/
#ifndef LISPBT_SCHED_LIB_H
#define LISPBT_SCHED_LIB_H

#include "conf.h"

#include "lisp.h"
#include "sched.h"

/* Attach pool 'P' (owned by the caller) to 'S': store it in S's slot
** LISPBT_SLOT_SCHED and register the scheduler's leaves (async-sleep-ms)
** in the BT registry of 'S', which must exist (bt_reg_new); 'P' may be NULL
** (no pool: the leaves fail as below).  Returns the Lisp status of
** bt_reg_open (LISP_OK, or LISP_ERRMEM; never raises); the slot is set
** even when registration fails.  Owner thread of 'S' only.  Before freeing
** 'P' while 'S' lives,
** the caller clears the slot (lisp_setslot(S, LISPBT_SLOT_SCHED, NULL)):
** the leaves then fail with "the scheduler is closed" and instances
** collected later release no job. */
int sched_open(lisp_State *S, sched_Pool *P);

/* The pool of 'S' (its slot; not owned by 'S'), or NULL (none attached, or
** cleared).  Never raises. */
sched_Pool *sched_pool(lisp_State *S);

/* The bt.scheduler.* builtins (listed in csrc/host/host_builtins.c). */
extern const lisp_Reg sched_lib[];

#endif
