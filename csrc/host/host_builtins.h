/*
** host_builtins.h -- the builtin table (host_builtins.c) and the domain arrays it
** lists.  See LICENSE for copyright.
*/
#ifndef LISPBT_BUILTINS_H
#define LISPBT_BUILTINS_H

#include "lisp.h"

extern const lisp_Reg lisp_lib_list[];
extern const lisp_Reg lisp_lib_num[];
extern const lisp_Reg lisp_lib_str[];
extern const lisp_Reg lisp_lib_coll[];
extern const lisp_Reg lisp_lib_sys[];
extern const lisp_Reg lisp_lib_json[];
extern const lisp_Reg bt_lib[];      /* csrc/bt/bt_lib.c */
extern const lisp_Reg sched_lib[];   /* csrc/sched/sched_lib.c */
extern const lisp_Reg planner_lib[]; /* csrc/planner/planner_lib.c */
extern const lisp_Reg metrics_lib[]; /* csrc/obs/obs_lib.c */
extern const lisp_Reg events_lib[];  /* csrc/obs/obs_events.c */

/* NULL-terminated list of every domain array (each ended by a NULL name).
** Static, read-only data: any thread may read it; nothing to free. */
extern const lisp_Reg *const lispbt_builtins[];

#endif
