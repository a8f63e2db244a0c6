/*
** bt_node.h -- node kinds and the layout of definitions and instances.
** Private to csrc/bt/ (and lua_test.c).  See LICENSE for copyright.
**
** A definition is a flat preorder array: node i's first child is i+1, and
** the next sibling of a child c is c + nodes[c].size (its subtree size).
*/
#ifndef LISPBT_BT_NODE_H
#define LISPBT_BT_NODE_H

#include "bt.h"

/* kind                 operands */
enum {
    BT_NSEQ,    /* nkids                       memoryless sequence */
    BT_NSEL,    /* nkids                       memoryless selector */
    BT_NMEMSEQ, /* nkids                       resumes at running child */
    BT_NMEMSEL, /* nkids                       resumes at running child */
    BT_NPAR,    /* nkids, param = N            success when N succeed */
    BT_NINVERT, /* one child                   swap success/failure */
    BT_NREPEAT, /* one child, param = n        repeat n successes */
    BT_NRETRY,  /* one child, param = n        retry up to n failures */
    BT_NCOND,   /* param = leaf id, args       condition leaf */
    BT_NACT,    /* param = leaf id, args       action leaf (or a leaf form) */
    BT_NSUCCEED,
    BT_NFAIL,
    BT_NRUNNING,
    BT_NASYNCSEQ,  /* nkids                    yields running between children */
    BT_NREACTSEQ,  /* nkids                    seq that halts its stale running child */
    BT_NREACTSEL,  /* nkids                    sel that halts lower-priority running work */
    BT_NKINDS
};

/* The engine's limits (docs/reference/bt.md "Limits"; each has a spec in
** spec/limits_spec.lua).  BT_MAXDEPTH: nesting of a tree (the compiler and
** executor recurse along it); BT_MAXNODES: nodes per tree; BT_MAXKIDS:
** children per composite (bt_Node.nkids); BT_MAXCOUNT: repeat/retry
** counts and running-then-success N (int32 node memory). */
#define BT_MAXDEPTH 200
#define BT_MAXNODES (1 << 20)
#define BT_MAXKIDS 65535
#define BT_MAXCOUNT 1000000000
_Static_assert(BT_MAXNODES - 1 <= TRACE_MAX_NODE, "trace records must hold every node id");

/* bt.save / bt.load tree files (bt_lib.c, docs/reference/bt.md). */
#define BT_FILE_MAGIC "LBT1"
#define BT_FILE_VERSION 1
#define BT_FILE_HEADER 32

typedef struct bt_Node {
    uint8_t kind;
    uint8_t leafy; /* seq/sel whose children are all cond/act: nodes i+1 .. i+nkids */
    uint16_t nkids;
    uint32_t size;  /* nodes in this subtree, itself included */
    int32_t param;  /* see the table above */
    int32_t argidx; /* first argument in bt_Def.args */
    int32_t nargs;
} bt_Node;

struct bt_Def {
    bt_Node *nodes;
    int32_t n, cap;
    int32_t nleaves;
    lisp_Value args;  /* vec: leaf arguments, by argidx */
    lisp_Value *argp; /* its items (the vec no longer grows after compile) */
    int32_t *argkeys; /* blackboard key id of each argument that is a name, else -1 */
    bt_LeafArgs *largs; /* per node (n entries); leaf == NULL but for cond/act */
    int32_t nargkeys, capargkeys;
    lisp_Value names; /* vec: display name of each node ("cond battery-ok") */
    lisp_Value dsl;   /* canonical DSL data */
    lisp_Value src;   /* what it was compiled from: source text (string) or DSL data */
};

/* One row of the opt-in per-tick series. */
typedef struct bt_Sample {
    int64_t tick, ts_ns, duration_ns;
    int64_t objects; /* Lisp objects allocated during the tick */
    int64_t gc_ns;   /* GC pause time inside the tick */
    uint8_t status, overrun;
} bt_Sample;

/* A node ticked at level timing: its start and end cycle counts. */
typedef struct bt_Visit {
    uint64_t t0, t1;
    int32_t node;
} bt_Visit;

/* A blackboard slot of an instance. */
typedef struct bt_BBSlot {
    lisp_Value v;
    int64_t tick, ts_ns;
    int32_t node;       /* writer node, -1 = outside the tree */
    uint8_t set;
    const char *writer; /* static text or a leaf name kept by the registry */
} bt_BBSlot;

struct bt_Inst {
    /* What every tick reads or writes comes first, packed into the first
    ** four cache lines (a batch of many instances is bound by the lines
    ** each tick touches; tick_all prefetches these); the rest follows. */
    bt_Env *E;       /* the registry's services (bt_reg_env) */
    lisp_TickScope *tk; /* lisp_tickscope of the state, for the inline tick bracket */
    const clk_Rate *rate; /* E->rate, one load nearer the tick path */
    bt_Def *D;
    int64_t tick; /* ticks started */
    int ticking;  /* inside bt_tick */
    int halting;  /* inside bt_halt / bt_reset (their halt callbacks may run Lua) */
    unsigned flags; /* BT_FTIMING | BT_FTRACE | BT_FSERIES, from the settings (setflags) */
    int tick_stamps;  /* this tick's stamps (bt_now): BT_STAMP_* */
    int sample_every, sample_left; /* level sampled: N, ticks to the next timed one */
    int evt_forced; /* 1 during a tick traced for the event stream (bt_Env.evt_on) */
    int32_t nvisits;
    bt_NodeMem *mem;
    /* Per node, split by how hot: 'last' and 'counts' are all a tick at level
    ** counters touches, so they are dense; 'stats' keeps the errors and the
    ** durations and gets its counts from 'counts' in bt_nodestats. */
    uint8_t *last;    /* status returned by the node's last tick; BT_IDLE after halt/reset */
    uint64_t *counts; /* counts[4 * i + status] */
    bt_Visit *visits; /* level timing: nodes ticked but not yet accounted (a tick
                         visits each node at most once; the log is emptied at the
                         start of the next tick and whenever node counters are read) */
    uint32_t *tbuckets;
    bt_Sample *series; /* ring of 'scap' rows; NULL = off */
    uint64_t count;
    int64_t last_ns, max_ns, min_ns, total_ns, budget_ns;
    int64_t budget_lim; /* budget_ns, or INT64_MAX when there is none: one compare */
    bt_Ctx ctx;
    trace_Ring trace;
    /* the rest */
    lisp_Value def;  /* keeps the definition alive */
    lisp_Value self; /* this instance's own value (not marked: it is alive) */
    int64_t id;
    int handles;  /* foreign handles (bt_inst_hold); see bt_inst_unhold */
    int shared;   /* may be referenced from Lisp data (bt_inst_share) */
    int64_t tick_ts;  /* ts_ns of the tick's start (tracing or series on only) */
    uint64_t tick_c0; /* its cycle count */
    int haslua; /* the binding keeps Lua-side state (ctx) for this instance */
    int profile, trace_on, readtrace_on;
    uint32_t sample_rng;           /* xorshift32 state for the gaps */
    uint64_t sampled;              /* ticks timed at level sampled */
    int evt_pending; /* blackboard writes between ticks wait in the trace for the stream */
    uint64_t evt_mark; /* ... from this trace seq on */
    bt_NodeStats *stats;
    hist_Hist *nhist;   /* per node, HIST_COARSE; buckets only (bt_nodehist) */
    uint32_t *nbuckets; /* storage of all node histograms */
    hist_Hist thist;    /* tick durations, HIST_FINE; buckets only (bt_tickhist) */
    uint64_t overruns, errors;
    int scap, shead, scount;
    bt_BBSlot *bb;
    int nbb;
    char errmsg[256]; /* text of the last leaf error */
};

int bt_bb_reserve(bt_Inst *I, int key);

#define BT_FTIMING 1u
#define BT_FTRACE 2u
#define BT_FSERIES 4u /* in bt_Inst.flags only: the series is on (never passed to exec) */

/* How bt_now stamps inside the tick running: with no tick_ts (tracing and
** series off) from the host's clock; at level counters the tick's start,
** like its node events; at level timing tick_ts plus the cycles since the
** tick began, the conversion its node events use. */
enum { BT_STAMP_CLOCK, BT_STAMP_TICK, BT_STAMP_CYCLES };

/* Node kind named by symbol 'h' (bt_kindnames), or -1. */
int bt_kindof(lisp_Value h);
/* Id of the leaf form whose head is symbol 'name', or -1 (bt_reg.c). */
int bt_reg_form(bt_Reg *R, lisp_Value name);

/* Register the engine's built-in C leaves (bt_leaves.c) in 'R'; returns
** a Lisp status. */
int bt_leaves_open(lisp_State *S, bt_Reg *R);

/* Register muesli-bt's demo leaves (bt_leaves.c), named by bt_demo_names
** (NULL-ended); returns a Lisp status. */
int bt_leaves_demo(lisp_State *S, bt_Reg *R);
extern const char *const bt_demo_names[];

extern const char *const bt_kindnames[BT_NKINDS];

/* The id muesli-bt gives node 'i' (our preorder id): it numbers the nodes
** in post-order (children before their parent), so the root is n-1.
** Used only in the texts that mirror its output (bt.stats and
** bt.blackboard.dump in print style muesli).  O(depth * fan-out). */
int32_t bt_def_postid(const bt_Def *D, int32_t i);

#endif
