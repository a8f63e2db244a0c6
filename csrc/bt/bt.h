/*
** bt.h -- behaviour trees: definitions, instances, ticks, leaf interface.
** See LICENSE for copyright.
**
** A bt_Def is an immutable flat preorder node array compiled from the DSL
** (bt_compile.c) and shared by any number of bt_Inst.  An instance owns all
** per-tick state, sized at creation: node memory, counters, histograms,
** trace ring, blackboard slots.  A steady-state tick allocates nothing and
** takes no lock (unless a leaf does).
**
** Leaves are registry entries of the host (bt_Reg), resolved by name at
** compile time; an entry may be registered after the tree was compiled.
** A leaf is a C function; the bindings install C functions that call Lua
** or Lisp procedures, so this file never sees lua.h.
**
** Both definitions and instances are Lisp host objects (lisp_UType
** "bt_def" / "bt_instance"), so they are collected like any Lisp value.
*/
#ifndef LISPBT_BT_H
#define LISPBT_BT_H

#include "conf.h"

#include "lisp.h"
#include "log.h"
#include "hist.h"
#include "bt_trace.h"

struct lispbt_Host;

/* Statuses.  BT_ERROR is returned by a leaf after bt_leaf_error(); the
** node then reports the error and returns failure. */
enum { BT_IDLE = 0, BT_SUCCESS = 1, BT_FAILURE = 2, BT_RUNNING = 3, BT_ERROR = 4 };

/* Leaf kinds and implementations. */
enum { BT_KCOND, BT_KACT };
enum { BT_IMPL_NONE, BT_IMPL_C, BT_IMPL_LISP, BT_IMPL_LUA };

/* Profile levels. */
enum { BT_PROFILE_COUNTERS, BT_PROFILE_TIMING };

typedef struct bt_Def bt_Def;
typedef struct bt_Inst bt_Inst;
typedef struct bt_Reg bt_Reg;

struct bt_Leaf;

/* A leaf node as its callback sees it, precomputed per node by the compiler
** (bt_Def.largs), so that calling a leaf stores two ctx fields and copies
** nothing.  'args' are the DSL arguments after the leaf name (rooted by the
** definition). */
typedef struct bt_LeafArgs {
    const struct bt_Leaf *leaf; /* registry entry (its address never changes) */
    const lisp_Value *args;     /* NULL when none */
    const int32_t *keys; /* keys[i]: blackboard key id of args[i] if a name, else -1 */
    int32_t nargs;
    uint32_t nok; /* statuses 1..nok are valid returns: 2 condition, 3 action */
} bt_LeafArgs;

/* What a leaf callback sees: the leaf and its arguments are c->a. */
typedef struct bt_Ctx {
    bt_Inst *I;
    lisp_State *S;
    int32_t node;
    int halted; /* 1 inside a halt callback; a failing halt callback sets -1 */
    int64_t tick;
    const bt_LeafArgs *a;
} bt_Ctx;
typedef int (*bt_LeafFn)(bt_Ctx *c, int64_t ud);
/* Halt callback of a running action; sets c->halted = -1 if it failed
** (the message in bt_leaf_error's buffer). */
typedef void (*bt_HaltFn)(bt_Ctx *c, const struct bt_Leaf *l);

typedef struct bt_Leaf {
    lisp_Value name;   /* symbol */
    const char *cname; /* its characters (the registry keeps the symbol) */
    uint8_t kind;    /* BT_KCOND / BT_KACT */
    uint8_t impl;    /* BT_IMPL_* ; NONE = still unknown */
    bt_LeafFn fn;
    bt_HaltFn halt; /* may be NULL */
    int64_t ud, ud2;
} bt_Leaf;

/* Per-node memory of an instance (cleared by reset and halt). */
typedef struct bt_NodeMem {
    int32_t idx;     /* mem-seq/mem-sel resume child, repeat/retry/par counters */
    int32_t idx2;    /* par failures */
    uint8_t pdone;   /* par: finished in the current activation */
    uint8_t flags;   /* leaf-private flags (async: start event emitted) */
    uint8_t pad[2];
    uint32_t gen;    /* bumped when cleared (Lua ctx.memory tables) */
    uint64_t job;    /* scheduler job owned by this leaf, 0 = none */
    int64_t arg;     /* leaf-private scalar (job argument) */
} bt_NodeMem;

/* Per-node counters.  The durations cover the visits made at the timing
** level; 'min_ns' is INT64_MAX and the others 0 before the first. */
typedef struct bt_NodeStats {
    uint64_t count[4]; /* by status: [1] success, [2] failure, [3] running */
    uint64_t errors;
    int64_t last_ns, max_ns, total_ns;
    int64_t min_ns; /* exact, so that node quantiles clamp to it (bt_nodehist) */
} bt_NodeStats;

/* ---- registry (per host) ---- */

/* Create the registry of host 'H' with the built-in C leaves. */
bt_Reg *bt_reg_new(struct lispbt_Host *H);
void bt_reg_free(bt_Reg *R);
/* Mark the Lisp values the registry holds (host mark hook). */
void bt_reg_mark(lisp_State *S, bt_Reg *R);
/* Id of leaf 'name' of 'kind', creating an unresolved entry if unknown. */
int bt_reg_id(lisp_State *S, bt_Reg *R, int kind, lisp_Value name);
/* Define leaf 'name': replaces any previous implementation.  Returns id. */
int bt_reg_define(lisp_State *S, bt_Reg *R, int kind, lisp_Value name, int impl, bt_LeafFn fn,
                  bt_HaltFn halt, int64_t ud, int64_t ud2);
/* Entry 'id'; entries never move, so the pointer stays valid for the
** registry's life. */
bt_Leaf *bt_reg_leaf(bt_Reg *R, int id);
/* Hook: release 'ud'/'ud2' of an entry being replaced (Lua keys, pins). */
void bt_reg_setrelease(bt_Reg *R, void (*f)(struct lispbt_Host *H, const bt_Leaf *l));

/* Blackboard key id of 'name' (symbol or string), shared by all instances
** of the host; creates the key if new.  Raises on a bad key type. */
int bt_key(lisp_State *S, lisp_Value name);
/* Key id of 'name' if it exists, else -1 (never allocates). */
int bt_key_find(lisp_State *S, const char *name, size_t len);
const char *bt_key_name(struct lispbt_Host *H, int key);
int bt_key_count(struct lispbt_Host *H);

/* ---- definitions ---- */

extern const lisp_UType bt_deftype;
extern const lisp_UType bt_insttype;

/* Compile DSL data 'form' into a bt_def (pushed and returned).  Raises
** "bt.compile: ..." errors naming the offending form. */
lisp_Value bt_compile(lisp_State *S, lisp_Value form);
/* The canonical DSL data of a definition. */
lisp_Value bt_todsl(bt_Def *D);
int bt_def_nodes(const bt_Def *D);
const char *bt_def_nodename(const bt_Def *D, int node);
/* Structural check of a node array; 0 when valid. */
int bt_verify(const bt_Def *D, char *err, size_t errlen);

/* ---- instances ---- */

/* New instance of definition value 'def' (pushed and returned). */
lisp_Value bt_instance(lisp_State *S, lisp_Value def);
/* Tick once; returns BT_SUCCESS/FAILURE/RUNNING.  Never raises: leaf
** errors are caught at their nodes.  Raises only if the instance is
** already ticking (re-entrant tick from a callback). */
int bt_tick(bt_Inst *I);
/* Clear node memory and blackboard (not trace or logs). */
void bt_reset(bt_Inst *I);
/* Halt every running node (halt callbacks, job cancels), clear memory. */
void bt_halt(bt_Inst *I);

const char *bt_status_name(int st);
bt_Def *bt_inst_def(bt_Inst *I);
int64_t bt_inst_id(bt_Inst *I);
int64_t bt_inst_ticks(bt_Inst *I);
bt_NodeMem *bt_inst_mem(bt_Inst *I, int node);
trace_Ring *bt_inst_trace(bt_Inst *I);
struct lispbt_Host *bt_inst_host(bt_Inst *I);

/* The binding keeps Lua-side state for the instance: when the instance is
** collected, host_deadkey(H, -id) tells the binding to drop it. */
void bt_inst_sethaslua(bt_Inst *I);

/* Settings. */
void bt_set_budget_ms(bt_Inst *I, int64_t ms);
void bt_set_profile(bt_Inst *I, int level);
void bt_set_trace(bt_Inst *I, int on);
void bt_set_readtrace(bt_Inst *I, int on);

/* ---- blackboard ---- */

/* Write 'v' to 'key' with writer 'node' (-1 = external) and 'writer' name
** (static string or a name the registry keeps).  Never raises: returns -1
** when the slot array cannot grow for a key first written (out of
** memory), 0 otherwise.  Instances are created with a slot for every key
** the host knows, so only keys named after that can need growth. */
int bt_bb_put(bt_Inst *I, int key, lisp_Value v, int32_t node, const char *writer);
/* Read 'key'; returns 0 if unset. */
int bt_bb_get(bt_Inst *I, int key, lisp_Value *out, int32_t node);
void bt_bb_dump(bt_Inst *I, struct sbuf *b);
/* Iterate set keys: start with *it = 0; returns 0 when done. */
int bt_bb_next(bt_Inst *I, int *it, int *key, lisp_Value *v);

/* ---- leaves ---- */

/* Report an error from a leaf; returns BT_ERROR for 'return'. */
int bt_leaf_error(bt_Ctx *c, const char *fmt, ...) LISPBT_PRINTF(2, 3);
/* Install the registry hooks of bt_lib.c (release of replaced leaves). */
void bt_lib_open(struct lispbt_Host *H);
/* Register the built-in C leaves (bt_leaves.c); returns a Lisp status. */
int bt_leaves_open(lisp_State *S, bt_Reg *R);

/* ---- stats and observability ---- */

typedef struct bt_TickStats {
    uint64_t count, overruns, errors;
    int64_t last_ns, max_ns, total_ns;
    int64_t budget_ns;
    int profile, trace, readtrace;
} bt_TickStats;

void bt_tickstats(bt_Inst *I, bt_TickStats *out);
/* Counters of 'node' (valid until the next call for this instance). */
const bt_NodeStats *bt_nodestats(bt_Inst *I, int node);
const hist_Hist *bt_tickhist(bt_Inst *I);
const hist_Hist *bt_nodehist(bt_Inst *I, int node);
/* Opt-in per-tick series: a ring of 'capacity' rows (tick, ts_ns,
** duration_ns, status, overrun, Lisp objects allocated, GC ns inside the
** tick); 0 turns it off.  Returns 0 or -1 (out of memory). */
int bt_series_enable(bt_Inst *I, int capacity);
/* Append rows with tick > 'after' as CSV (with a header line if 'header')
** or JSON lines; returns the highest tick appended, or 'after'. */
int64_t bt_series_render(bt_Inst *I, int csv, int header, int64_t after, struct sbuf *b);
/* SPEC §8 text of (bt.stats inst). */
void bt_stats_text(bt_Inst *I, struct sbuf *b);
void bt_trace_dump(bt_Inst *I, int n, struct sbuf *b);
int bt_trace_chrome(bt_Inst *I, struct sbuf *b);
/* Emit a trace event + log record for an error at 'node'. */
void bt_report(bt_Inst *I, int level, int32_t node, const char *fmt, ...) LISPBT_PRINTF(4, 5);

#endif
