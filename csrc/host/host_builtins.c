/*
** host_builtins.c -- the one table of builtins, in the manner of Lua's linit.c.
** See LICENSE for copyright.
**
** Each domain file exports one lisp_Reg array; this file only lists them.
** The Lisp side binds every entry as a global (lisp_new); the Lua side
** walks the same list and mirrors every entry flagged LISP_FRUNTIME under
** its derived name (split at '.', '-' becomes '_'), so the two surfaces
** cannot drift.
*/
#include "conf.h"

#include "host_builtins.h"

const lisp_Reg *const lispbt_builtins[] = {
    lisp_lib_list, lisp_lib_num, lisp_lib_str, lisp_lib_coll, lisp_lib_sys, lisp_lib_json,
    bt_lib,        sched_lib,   planner_lib, metrics_lib,   events_lib, NULL};
