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
** The engine knows nothing above the language: the services it needs come
** from its host as a bt_Env when the registry is opened (bt_reg_new), and
** the registry is found from a lisp_State through its slot
** (LISPBT_SLOT_BT).  Leaves are registry entries resolved by name at
** compile time (an entry may be registered after the tree was compiled);
** the compiled tree keeps pointers to them, so a tick looks nothing up.  A
** leaf is a C function with optional hooks (halt, drop, compile-time
** argument check); other layers (the scheduler's async-sleep-ms, the
** planner's plan-action) and the bindings (Lua and Lisp procedures)
** register theirs through this interface, so this file never sees lua.h,
** sched.h or the planner.
**
** Both definitions and instances are Lisp host objects (lisp_UType
** "bt_def" / "bt_instance"), so they are collected like any Lisp value.
*/
#ifndef LISPBT_BT_H
#define LISPBT_BT_H

#include "conf.h"

#include "clock.h"
#include "lisp.h"
#include "log.h"
#include "hist.h"
#include "mem.h"
#include "bt_trace.h"

/* Statuses.  BT_ERROR is returned by a leaf after bt_leaf_error(); the
** node then reports the error and returns failure. */
enum { BT_IDLE = 0, BT_SUCCESS = 1, BT_FAILURE = 2, BT_RUNNING = 3, BT_ERROR = 4 };

/* Leaf kinds and implementations. */
enum { BT_KCOND, BT_KACT };
enum { BT_IMPL_NONE, BT_IMPL_C, BT_IMPL_LISP, BT_IMPL_LUA };

/* Profile levels. */
enum { BT_PROFILE_COUNTERS, BT_PROFILE_TIMING, BT_PROFILE_SAMPLED };

typedef struct bt_Def bt_Def;
typedef struct bt_Inst bt_Inst;
typedef struct bt_Reg bt_Reg;

struct bt_Leaf;

/* What the engine needs from its host, given to bt_reg_new and kept (by
** value) in the registry.  The pointed-to services must outlive the
** registry and every instance. */
typedef struct bt_Env {
    mem_Heap *mem;      /* C heap of the registry and of every instance */
    clk_Clock *clock;   /* every timestamp (blackboard, trace, series) */
    clk_Rate *rate;     /* cycles to ns for durations; refined by bt_tick */
    log_Ring *log;      /* error/warning/debug records of ticks and leaves */
    int trace_capacity; /* trace events per instance */
    /* Called (never raising, possibly inside the garbage collector) when a
    ** key the binding handed out is dead: -id of a collected instance
    ** marked by bt_inst_sethaslua, or the ud/ud2 of a replaced BT_IMPL_LUA
    ** leaf.  NULL: nobody to tell. */
    void (*deadkey)(void *ud, int64_t key);
    void *deadkey_ud;
    /* The host's event stream (docs/events.md), set by the obs layer after
    ** bt_reg_new through bt_reg_env.  While 'evt_on', every tick runs
    ** with tracing at level timing into the instance's trace ring, and
    ** 'evt_tick' is called on the ticking thread: phase 0 (see evt_pre)
    ** before the tick's first event (the stream may emit run_start and
    ** bt_def), phase 1 after its last, with 'seq0' the trace seq of the
    ** tick's first event (the stream copies the records [seq0, seq) into
    ** its own ring).  Never raises. */
    int evt_on;
    /* 0 (the default): memoryless seq/sel leave a running child they stop
    ** before unhalted, as muesli-bt does; 1 (bt.set-preempt-enabled #t,
    ** host option preempt): they halt it (SPEC §5.6). */
    int preempt;
    void (*evt_tick)(void *ud, bt_Inst *I, int phase, uint64_t seq0);
    void *evt_ud;
    /* Phase 0 is called only while 'evt_pre' (the stream sets it when it
    ** has something to emit there: run_start, bb_snapshot, the audit's
    ** start) or when the instance's tree is not 'evt_def' (the tree whose
    ** bt_def the stream wrote last): one call per tick in the steady
    ** state.  'evt_cur' is the instance ticking from before phase 0 to
    ** after phase 1 (else NULL). */
    int evt_pre;
    bt_Inst *evt_cur;
    const struct bt_Def *evt_def;
} bt_Env;

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

/* Tick callback: returns a status 1..c->a->nok, or bt_leaf_error(c, ...).
** Must not raise (a leaf that calls Lisp does so under lisp_pcall). */
typedef int (*bt_LeafFn)(bt_Ctx *c, int64_t ud);
/* Halt callback of an action: called when a node of the leaf whose last
** status was running is halted (preempted, bt_halt, bt_reset), before its
** node memory is cleared.  Sets c->halted = -1 if it failed (the message
** in bt_leaf_error's buffer); must not raise. */
typedef void (*bt_HaltFn)(bt_Ctx *c, const struct bt_Leaf *l);
/* Drop callback: called for every node of the leaf when its instance is
** collected, to release what the leaf keeps in the node's bt_NodeMem (a
** job).  Runs inside the garbage collector: must not allocate Lisp
** values, call Lisp or Lua, or report. */
typedef void (*bt_DropFn)(bt_Inst *I, int32_t node, const struct bt_Leaf *l);
/* Compile-time argument check: called by bt_compile with the node's
** argument list (the DSL data after the leaf name); raises
** "bt.compile: NAME: ..." errors through lisp_error. */
typedef void (*bt_CheckFn)(lisp_State *S, const struct bt_Leaf *l, lisp_Value args);

typedef struct bt_Leaf {
    lisp_Value name;   /* symbol */
    const char *cname; /* its characters (the registry keeps the symbol) */
    uint8_t kind;    /* BT_KCOND / BT_KACT */
    uint8_t impl;    /* BT_IMPL_* ; NONE = still unknown */
    uint8_t form;    /* 1: a DSL form (bt_reg_open), not reachable as (act name) */
    bt_LeafFn fn;
    bt_HaltFn halt;   /* may be NULL */
    bt_DropFn drop;   /* may be NULL */
    bt_CheckFn check; /* may be NULL */
    int64_t ud, ud2;
} bt_Leaf;

/* A C leaf as a layer registers it with bt_reg_open. */
typedef struct bt_CLeaf {
    const char *name;
    int kind;         /* BT_KCOND / BT_KACT */
    bt_LeafFn fn;     /* called with ud 0 */
    bt_HaltFn halt;   /* NULL: nothing to do on halt */
    bt_DropFn drop;   /* NULL: nothing kept in node memory */
    bt_CheckFn check; /* NULL: any arguments compile */
    /* 1: register 'name' as a DSL form instead of a named leaf: (name arg
    ** ...) compiles to a node of this leaf (kind BT_KACT) whose display
    ** name is 'name' and whose canonical DSL is (name arg ...) again.  The
    ** entry is not in the action names, so (act name) stays an unknown
    ** action and bt.register-action cannot replace it. */
    int form;
} bt_CLeaf;

/* Per-node memory of an instance (cleared by reset and halt).  'flags',
** 'job' and 'arg' belong to the node's leaf; the engine only clears them. */
typedef struct bt_NodeMem {
    int32_t idx;     /* mem-seq/mem-sel resume child, repeat/retry/par counters */
    int32_t idx2;    /* par failures */
    uint8_t pdone;   /* par: finished in the current activation */
    uint8_t flags;   /* leaf-private flags (async: start event emitted) */
    uint8_t pad[2];
    uint32_t gen;    /* bumped when cleared (Lua ctx.memory tables) */
    uint64_t job;    /* leaf-private: a scheduler job handle, 0 = none */
    int64_t arg;     /* leaf-private scalar (job argument) */
} bt_NodeMem;

/* Per-node counters.  The durations cover the visits made at the timing
** level; 'min_ns' is INT64_MAX and the others 0 before the first. */
typedef struct bt_NodeStats {
    uint64_t count[4]; /* by status: [1] success, [2] failure, [3] running */
    uint64_t errors;
    int64_t last_ns, max_ns, total_ns;
    int64_t min_ns; /* exact, so that node quantiles clamp to it (bt_nodehist) */
    uint64_t work;  /* units of work the leaf reported (bt_node_addwork): planner
                    ** iterations, samples or optimiser steps; 0 for other leaves */
} bt_NodeStats;

/* ---- registry (one per lisp_State) ---- */

/* Create the registry of 'S' with services 'env' (copied), store it in
** S's slot LISPBT_SLOT_BT and register the engine's built-in C leaves
** (bt_leaves.c).  Returns NULL when out of memory (nothing is left in the
** slot then).  The caller owns the registry: it marks it from S's mark hook
** (bt_reg_mark) and frees it with bt_reg_free after lisp_free(S). */
bt_Reg *bt_reg_new(lisp_State *S, const bt_Env *env);
/* Free the registry and its entries (not the Lisp values: they die with
** the state).  NULL is a no-op. */
void bt_reg_free(bt_Reg *R);
/* Mark the Lisp values the registry holds (host mark hook). */
void bt_reg_mark(lisp_State *S, bt_Reg *R);
/* The registry of 'S' (its slot); NULL before bt_reg_new. */
bt_Reg *bt_reg(lisp_State *S);
/* The services of registry 'R'.  The binding may set 'deadkey' and
** 'deadkey_ud' through it; the rest is the host's. */
bt_Env *bt_reg_env(bt_Reg *R);
/* Id of named leaf 'name' of 'kind', creating an unresolved entry if
** unknown (it fails at tick time until defined).  Raises on out of
** memory. */
int bt_reg_id(lisp_State *S, bt_Reg *R, int kind, lisp_Value name);
/* Define named leaf 'name' (a symbol): replaces any previous implementation
** (releasing it: Lisp pins are unpinned, the keys of a Lua leaf go to
** env.deadkey) and keeps the entry, so trees compiled earlier call the new
** one.  Returns its id.  Raises on out of memory. */
int bt_reg_define(lisp_State *S, bt_Reg *R, int kind, lisp_Value name, int impl, bt_LeafFn fn,
                  bt_HaltFn halt, int64_t ud, int64_t ud2);
/* Register the C leaves 'l' (an array ended by a NULL name) as BT_IMPL_C
** entries with their hooks; form entries become DSL forms (see bt_CLeaf).
** Returns a Lisp status (LISP_OK, or an error: out of memory, a form name
** that is a node kind or already a form). */
int bt_reg_open(lisp_State *S, bt_Reg *R, const bt_CLeaf *l);
/* Entry 'id'; entries never move, so the pointer stays valid for the
** registry's life. */
bt_Leaf *bt_reg_leaf(bt_Reg *R, int id);

/* Blackboard key id of 'name' (symbol or string), shared by all instances
** of the state; creates the key if new.  Raises on a bad key type or out
** of memory. */
int bt_key(lisp_State *S, lisp_Value name);
/* Key id of 'name' if it exists, else -1 (never allocates or raises). */
int bt_key_find(lisp_State *S, const char *name, size_t len);
/* Name of key 'key' (owned by the registry), "?" if there is none. */
const char *bt_key_name(lisp_State *S, int key);
/* Number of keys created so far. */
int bt_key_count(lisp_State *S);

/* ---- definitions ---- */

extern const lisp_UType bt_deftype;
extern const lisp_UType bt_insttype;

/* Compile DSL data 'form' into a bt_def (pushed and returned; a Lisp value
** the collector owns).  Raises "bt.compile: KIND: WHAT, got FORM" /
** "bt.compile: WHAT, got FORM" naming the offending form, "bt.compile:
** tree has more than N nodes", or the out-of-memory error; leaf check
** hooks raise their own.  Leaf names resolve to registry entries here (an
** unknown name gets an unresolved entry: bt_reg_id), and leaf arguments
** that are symbols or non-empty strings get blackboard key ids (bt_key,
** which creates new keys).  Nothing leaks on an error. */
lisp_Value bt_compile(lisp_State *S, lisp_Value form);
/* The canonical DSL data of a definition (rooted by it; never allocates). */
lisp_Value bt_todsl(bt_Def *D);
/* What a definition was compiled from, for the event stream's source_hash:
** bt_compile keeps the DSL data it was given; the callers that compiled
** source text (bt.compile of a string, bt.load-dsl: the file's raw text,
** host:compile) replace it with that string.  Never allocates. */
void bt_def_setsource(bt_Def *D, lisp_Value text);
lisp_Value bt_def_source(const bt_Def *D);
/* Number of nodes (>= 1); node ids are 0 .. n-1 in preorder. */
int bt_def_nodes(const bt_Def *D);
/* Display name of 'node' ("cond battery-ok"), owned by the definition and
** valid while it lives.  'node' is not range-checked. */
const char *bt_def_nodename(const bt_Def *D, int node);
/* Kind name of 'node' ("seq", "cond", ...) and the number of nodes in its
** subtree (itself included: its children follow it in preorder).  'node'
** is not range-checked.  For exporters (the event stream's bt_def). */
const char *bt_def_kindname(const bt_Def *D, int node);
int bt_def_subtree(const bt_Def *D, int node);
/* Structural check of a node array (sizes, children, decorator arity, par
** threshold, argument ranges); 0 when valid, else -1 and a message in
** 'err' (at most 'errlen' bytes).  Never raises; bt_compile runs it. */
int bt_verify(const bt_Def *D, char *err, size_t errlen);

/* ---- instances ---- */

/* New instance of definition value 'def' (a bt_def: not checked; pushed
** and returned, a Lisp value the collector owns; it keeps 'def' alive).
** All per-tick memory is allocated here from env.mem, with a blackboard
** slot for every key the state knows.  Defaults: profile level timing,
** tick budget 20 ms, tracing off, no series.  Raises "bt.new-instance: out
** of memory" (or the Lisp out-of-memory error for the object itself). */
lisp_Value bt_instance(lisp_State *S, lisp_Value def);
/* Re-entrancy.  A leaf or halt callback may call back into its own
** instance; bt_tick, bt_halt and bt_reset refuse that (and do nothing)
** while the instance is ticking or being halted, returning BT_EBUSY_TICK
** or BT_EBUSY_HALT; bt_busy_text gives the message ("the instance is
** already ticking", "the instance is being halted").  A halt that halted
** itself would recurse until the C stack ran out. */
enum { BT_EBUSY_TICK = -1, BT_EBUSY_HALT = -2 };
const char *bt_busy_text(int rc);
/* Tick once; returns BT_SUCCESS/FAILURE/RUNNING.  Never raises: leaf
** errors are caught at their nodes, reported (bt_report) and become
** failure; a tick over budget logs a warning.  Returns BT_EBUSY_* (and
** does nothing) when re-entered.  Owner thread of the state only. */
int bt_tick(bt_Inst *I);
/* bt_tick for a batch of instances (tree:tick_all, bt.tick-all): the tick
** starts at cycle count '*cyc' (0: read the counter, as bt_tick does) and
** '*cyc' gets the count at which it ended, which the caller passes to the
** next instance's tick.  One counter read per instance boundary instead of
** two; what the caller does between two ticks counts in the second's
** duration.  Same results and errors as bt_tick (a busy instance leaves
** '*cyc' unchanged). */
int bt_tick_chain(bt_Inst *I, uint64_t *cyc);
/* 1 if a leaf of 'D' is now implemented in Lisp or Lua (its tick may run
** script code, which may change what the caller iterates), else 0. */
int bt_def_scripted(const bt_Def *D);
/* Tick the instances b[0 .. n-1] (bt_Inst pointers) in order, back to
** back, as bt_tick_chain from '*cyc', with one call per batch instead of
** per instance: st[k] gets each result (a status, or BT_EBUSY_* and then
** the next tick reads the counter afresh).  Prefetches ahead up to
** b[avail - 1] (avail >= n: the caller's next chunk).  Only for trees
** whose leaves are all native (!bt_def_scripted): no script runs, so
** nothing can change 'b' or re-enter while it runs. */
void bt_tick_batch(void *const *b, int n, int avail, uint64_t *cyc, signed char *st);
/* Halt (as bt_halt), then clear the blackboard (not counters, trace or
** logs).  Never raises; 0, or BT_EBUSY_* (nothing done) when re-entered. */
int bt_reset(bt_Inst *I);
/* Halt every running action (its leaf's halt callback; a failing one is
** reported as a node error) and clear all node memory ('gen' bumped, last
** statuses idle).  The blackboard stays.  Never raises; 0, or BT_EBUSY_*
** (nothing done) when re-entered. */
int bt_halt(bt_Inst *I);

/* "counters", "timing" or "sampled" for a BT_PROFILE_* (static strings). */
const char *bt_profile_name(int level);
/* "success", "failure", "running", else "idle" (static strings). */
const char *bt_status_name(int st);
/* BT_SUCCESS, BT_FAILURE or BT_RUNNING for the 'len' characters "success",
** "failure" or "running" at 's', else -1.  One length test and one memcmp:
** leaves that return their status as text call it on every tick. */
int bt_status_parse(const char *s, size_t len);
/* Accessors (never raise, never allocate).  The definition (kept alive by
** the instance); the instance's id (its Lisp object's serial number,
** lisp_udataid); ticks started so far; the memory of 'node' (not
** range-checked; valid while the instance lives); its trace ring (owned
** by the instance). */
bt_Def *bt_inst_def(bt_Inst *I);
int64_t bt_inst_id(bt_Inst *I);
int64_t bt_inst_ticks(bt_Inst *I);
bt_NodeMem *bt_inst_mem(bt_Inst *I, int node);
trace_Ring *bt_inst_trace(bt_Inst *I);
/* The Lisp state the instance belongs to. */
lisp_State *bt_inst_state(bt_Inst *I);

/* The binding keeps Lua-side state for the instance: when the instance is
** collected, env.deadkey(ud, -id) tells the binding to drop it (if a
** callback is set then).  Never fails. */
void bt_inst_sethaslua(bt_Inst *I);

/* Foreign handles.  An embedder that holds instances through handles of
** its own (the Lua binding's userdata) counts them: bt_inst_hold when a
** handle is made, bt_inst_unhold when it is finalized.  When the last one
** goes and the instance was never shared with Lisp (bt_inst_share: made by
** bt.new-instance, passed to a Lisp leaf, or handed to Lisp code that may
** keep it), nothing can tick it again, so bt_inst_unhold runs its leaves'
** drop hooks at once: its scheduler jobs are cancelled then, not at the
** next Lisp collection that frees it.  Never raise; bt_inst_unhold may run
** inside the embedder's finalizer (it calls no Lisp and no Lua). */
void bt_inst_hold(bt_Inst *I);
void bt_inst_unhold(bt_Inst *I);
void bt_inst_share(bt_Inst *I);

/* A timestamp for an event of 'I' now, on the env's clock (clock.h).
** Inside a tick with tracing or the series on it derives from the tick's
** start (and the cycle counter at level timing), like the node events; the
** clock is raised to it, so an instance's stamps never go backwards and
** later stamps of the host are not lower. */
int64_t bt_now(bt_Inst *I);

/* Settings (never fail; a change made by a leaf takes effect at the next
** tick).  Tick budget in ms (<= 0: none; a tick over it counts an overrun
** and logs a warning); profile level BT_PROFILE_COUNTERS / _TIMING
** (durations only at timing); tracing of node, tick, blackboard and
** scheduler events into the trace ring; tracing of blackboard reads too
** (only while tracing is on). */
void bt_set_budget_ms(bt_Inst *I, int64_t ms);
void bt_set_profile(bt_Inst *I, int level);
/* Profile level sampled: counters on every tick, node durations (as at
** level timing) on a random 1 tick in 'every' on average (the gap between
** two timed ticks is uniform in 1 .. 2*every-1, so a tree whose ticks
** repeat with some period is not always timed at the same phase).  'every'
** is 1 .. LISPBT_SAMPLE_EVERY_MAX (not checked here); 1 times every tick. */
void bt_set_sampling(bt_Inst *I, int every);
void bt_set_trace(bt_Inst *I, int on);
void bt_set_readtrace(bt_Inst *I, int on);

/* ---- blackboard ---- */

/* Write 'v' to 'key' (a key id >= 0) with writer 'node' (-1 = external)
** and 'writer' name (not copied: a static string or a name the registry
** keeps; NULL: none); the instance then keeps 'v' alive, and a bb_write
** trace event is pushed when tracing.  Never raises: returns -1
** when the slot array cannot grow for a key first written (out of
** memory), 0 otherwise.  Instances are created with a slot for every key
** the state knows, so only keys named after that can need growth. */
int bt_bb_put(bt_Inst *I, int key, lisp_Value v, int32_t node, const char *writer);
/* Tick input: bt_bb_put of 'v' as written by bt.tick / inst:tick before
** the tick, stamped with the index of that tick (ticks so far + 1),
** writer node -1 and writer "bt.tick". */
int bt_bb_put_input(bt_Inst *I, int key, lisp_Value v);
/* Read 'key' into *out (rooted by the instance until overwritten or
** reset); returns 1, or 0 (out untouched) if unset or not a key id.
** Pushes a bb_read event (reader 'node') when tracing reads.  Never
** raises. */
int bt_bb_get(bt_Inst *I, int key, lisp_Value *out, int32_t node);
/* Read 'key' as a number into '*out': an integer, a float, or the first
** item of a vec if that is a number.  Returns 0 (and leaves '*out') when
** the key is unset, negative or holds anything else.  Reader 'node' as for
** bt_bb_get.  Never raises or allocates. */
int bt_bb_getnum(bt_Inst *I, int key, int32_t node, double *out);
/* Append one line per set key, in key order, to 'b':
** "KEY=VALUE type=T tick=N ts_ns=N writer_node=N[ writer_name=W]\n".
** Never raises (sbuf.h: an allocation failure sets b->oom). */
void bt_bb_dump(bt_Inst *I, struct sbuf *b);
/* Iterate set keys in key order: start with *it = 0; returns 1 with
** '*key' and '*v' filled, 0 when done.  Never raises. */
int bt_bb_next(bt_Inst *I, int *it, int *key, lisp_Value *v);

/* ---- leaves ---- */

/* Report an error from a leaf (or a halt callback); returns BT_ERROR for
** 'return'.  The message (truncated to the instance's buffer) is kept in
** the instance until the next error; the engine reports it when the leaf
** returns.  Never raises. */
int bt_leaf_error(bt_Ctx *c, const char *fmt, ...) LISPBT_PRINTF(2, 3);
/* Numeric leaf arguments, both times with the one conversion and message
** of lisp_tointrange / lisp_rangemsg ("MS must be a number in [0,
** 86400000], got +nan.0").  bt_leaf_intarg, at tick time: argument 'i' of
** the node in '*out' ('def' when the node has fewer arguments) and 1, or
** 0 after bt_leaf_error.  bt_check_intarg, in a check hook: the same test
** on argument 'i' of the DSL list 'args' (absent passes), raising
** "bt.compile: LEAF: MESSAGE". */
int bt_leaf_intarg(bt_Ctx *c, int i, const char *arg, int num, int64_t lo, int64_t hi,
                   int64_t def, int64_t *out);
void bt_check_intarg(lisp_State *S, const struct bt_Leaf *l, lisp_Value args, int i,
                     const char *arg, int num, int64_t lo, int64_t hi);
/* Append a copy of event 'e' to the trace of 'I' if its tracing is on (a
** leaf's own events: blackboard and scheduler).  Never fails. */
void bt_trace_event(bt_Inst *I, const trace_Event *e);

/* ---- stats and observability ---- */

typedef struct bt_TickStats {
    uint64_t count, overruns, errors;
    int64_t last_ns, max_ns, total_ns;
    int64_t budget_ns;
    int profile, trace, readtrace;
    int sample_every; /* level sampled: N (1 tick in N timed); else 0 */
    uint64_t sampled; /* ticks timed at level sampled since it was set */
} bt_TickStats;

/* Copy the tick counters and settings of 'I' into '*out'.  Never fails. */
void bt_tickstats(bt_Inst *I, bt_TickStats *out);
/* Counters of 'node' (not range-checked), brought up to date by this
** call; the struct is owned by the instance and valid while it lives, but
** read it before the next tick or call. */
const bt_NodeStats *bt_nodestats(bt_Inst *I, int node);
/* Add 'n' units of work to the counter of 'node' (a leaf's own measure,
** shown as work= in bt.stats and inst:stats()).  Never fails. */
void bt_node_addwork(bt_Inst *I, int32_t node, int64_t n);
/* Tick / node duration histograms (owned by the instance and valid while
** it lives; count, extremes and sum are refreshed by each call). */
const hist_Hist *bt_tickhist(bt_Inst *I);
const hist_Hist *bt_nodehist(bt_Inst *I, int node);
/* Opt-in per-tick series: a ring of 'capacity' rows (tick, ts_ns,
** duration_ns, status, overrun, Lisp objects allocated, GC ns inside the
** tick), from env.mem; <= 0 turns it off.  Any earlier rows are dropped.
** Returns 0, or -1 (out of memory; the old series stays). */
int bt_series_enable(bt_Inst *I, int capacity);
/* Append rows with tick > 'after' (-1: all) as CSV (with a header line if
** 'header') or JSON lines, oldest first; returns the highest tick
** appended, or 'after'.  Never raises (b->oom on allocation failure). */
int64_t bt_series_render(bt_Inst *I, int csv, int header, int64_t after, struct sbuf *b);
/* Append the SPEC §8 text of (bt.stats inst) to 'b': tick_* lines, errors,
** profile_level, trace_enabled, node_count, then one "node N (NAME) ..."
** line per node ticked at least once.  Never raises (b->oom). */
void bt_stats_text(bt_Inst *I, struct sbuf *b);
/* The newest 'n' (< 0: all) trace events as text (trace_dump) / the trace
** as Chrome trace JSON (trace_chrome_json: returns 0, or -1 when its
** scratch allocation failed), with key and node names from the registry
** and definition.  Never raise; sbuf failures show in b->oom. */
void bt_trace_dump(bt_Inst *I, int n, struct sbuf *b);
int bt_trace_chrome(bt_Inst *I, struct sbuf *b);
/* Emit a trace event (if tracing) and a log record (category "bt") for an
** error or warning ('level', log.h) at 'node' (-1 = the tick); the
** formatted message is cut to 2 * TRACE_MSG_SLOT - 1 bytes.  Never raises,
** never allocates. */
void bt_report(bt_Inst *I, int level, int32_t node, const char *fmt, ...) LISPBT_PRINTF(4, 5);

#endif
