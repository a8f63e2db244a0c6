/*
** planner_record.h -- planner records: the per-host ring, JSON rendering and the
** JSON-lines file sink (SPEC §7, §8 'planner.logs.dump').
** See LICENSE for copyright.
**
** A record is a fixed-size copy of one planner call (no pointers, no
** per-record allocation), so pushing one is a struct copy.  The ring and the
** sink are owned by one host and used on its owner thread only (a planner
** that ran on a worker hands its mcts_Result back first).  Rendering goes to
** an sbuf and happens only when records are read or written to the file.
**
** Full documentation (every JSON field): docs/planner.md.
*/
#ifndef LISPBT_PRECORD_H
#define LISPBT_PRECORD_H

#include "conf.h"

#include <stdio.h>

#include "planner_mcts.h"
#include "planner_plan.h"
#include "mem.h"
#include "sbuf.h"

#define PRECORD_DEFAULT_CAPACITY 1024
#define PRECORD_CAPACITY_LIMIT (1 << 20)
#define PRECORD_DEFAULT_PATH "planner-records.jsonl"
#define PRECORD_PATH_MAX 1024
#define PRECORD_ERR_MAX 256

typedef struct mcts_Record {
    int64_t ts_ms;                     /* wall clock, ms since the epoch */
    char run_id[MCTS_NAME_MAX];
    int64_t tick_index;
    char node_name[MCTS_NAME_MAX];
    double budget_ms;
    double time_used_ms;
    int64_t iters;
    int64_t root_visits;
    int64_t root_children;
    int64_t widen_added;
    int action_dim;                    /* values in 'action' (0 = []) */
    double action[MCTS_MAX_ACTION];
    double confidence;
    double value_est;
    int status;                        /* MCTS_OK ... MCTS_ERROR */
    int64_t depth_max;
    double depth_mean;
    uint64_t seed;
    char state_key[MCTS_NAME_MAX];     /* "" = field omitted */
    int top_n;                         /* 0 = field omitted */
    mcts_Alt top[MCTS_MAX_TOPK];
    char model_service[MCTS_MODEL_NAME_MAX];
    char error[MCTS_ERR_MAX];          /* "" = field omitted */
    /* planner.v1 fields (docs/planner.md "Records"); a planner.mcts record
    ** has planner PLAN_MCTS, work_done = iters and no trace */
    int planner;                       /* PLAN_MCTS, PLAN_MPPI, PLAN_ILQR */
    int64_t work_done;
    char action_schema[PLAN_SCHEMA_MAX];
    int overrun;                       /* 0 = field omitted */
    char note[PLAN_NOTE_MAX];          /* "" = field omitted */
    int has_trace;                     /* 0 = no "trace" object */
    int horizon;                       /* MPPI trace */
    double cost_init, cost_final, reg_final;   /* iLQR trace */
    double top_weight[MCTS_MAX_TOPK], top_cost[MCTS_MAX_TOPK];  /* MPPI top_k */
} mcts_Record;

/* Fill 'out' from a request and its result, stamped 'ts_ms' (normally
** lispbt_wall_ms()).  Copies everything (strings truncated to their
** fields, counts clamped to the arrays); keeps no pointer to either. */
void precord_from_result(mcts_Record *out, const mcts_Request *req,
                         const mcts_Result *res, int64_t ts_ms);

/* The same from a planner.plan request and result (planner_plan.h). */
void precord_from_plan(mcts_Record *out, const plan_Request *req, const plan_Result *res,
                       int64_t ts_ms);

/* Append 'r' to 'b' as one compact JSON object (no newline).  Keys come in
** SPEC §7 order; 'state_key', 'top_k' and 'error' only when present.
** Numbers are always finite JSON numbers (non-finite ones become null). */
void precord_json(const mcts_Record *r, sbuf *b);

/*
** ----------------------------------------------------------------- ring
*/

typedef struct precord_Ring {
    mem_Heap *M;          /* borrowed */
    mcts_Record *rec;     /* 'capacity' slots, owned */
    int capacity;
    int head;             /* slot of the oldest kept record */
    int count;            /* records kept, <= capacity */
    uint64_t total;       /* records ever pushed */
} precord_Ring;

/* Allocate a ring of 'capacity' (1..PRECORD_CAPACITY_LIMIT) records from
** 'M'.  Returns 0, or -1 (bad capacity or out of memory; 'ring' is then
** empty and safe to free). */
int precord_ring_init(precord_Ring *ring, mem_Heap *M, int capacity);
/* Free the ring's storage; the ring is empty afterwards (idempotent). */
void precord_ring_free(precord_Ring *ring);
/* Copy 'r' into the ring, overwriting the oldest record when full (a ring
** whose init failed ignores it).  Never fails. */
void precord_push(precord_Ring *ring, const mcts_Record *r);
/* Forget all records (capacity and 'total' stay). */
void precord_clear(precord_Ring *ring);
/* Records kept. */
int precord_count(const precord_Ring *ring);
/* Record 'i' (0 = oldest kept), or NULL out of range.  The pointer is valid
** until the next push, clear or free. */
const mcts_Record *precord_get(const precord_Ring *ring, int i);
/* Append the newest 'n' records (all if n exceeds the count; none if
** n <= 0), oldest first, one JSON line each ending in "\n".  Returns the
** number of records written, or -1 if 'b' ran out of memory. */
int precord_dump(const precord_Ring *ring, int n, sbuf *b);

/*
** ----------------------------------------------------------------- sink
*/

typedef struct precord_Sink {
    char path[PRECORD_PATH_MAX];   /* PRECORD_DEFAULT_PATH initially */
    int enabled;                   /* 0 initially: nothing is written */
    FILE *fp;                      /* open in append mode, or NULL */
    sbuf line;                     /* reused render buffer */
    uint64_t written;              /* lines written successfully */
    uint64_t errors;               /* failed writes (open, write or flush) */
    char last_error[PRECORD_ERR_MAX];   /* "" until the first failure */
} precord_Sink;

/* Initialise 'S': default path, disabled, no file open. */
void precord_sink_init(precord_Sink *S);
/* Close the file and free the buffer (idempotent; 'S' may be re-inited). */
void precord_sink_free(precord_Sink *S);
/* Use 'path' from the next write on (the current file is closed now).
** 'path' is copied.  Returns 0, or -1 if 'path' is NULL, empty or longer
** than PRECORD_PATH_MAX - 1 (then 'last_error' is "planner log path: empty
** path" / "... path too long", 'errors' is not counted, and the old path
** and file stay). */
int precord_sink_set_path(precord_Sink *S, const char *path);
/* Turn writing on or off; turning it off closes the file. */
void precord_sink_set_enabled(precord_Sink *S, int on);
/* Append 'r' as one JSON line when enabled; returns 0 on success (a
** disabled sink writes nothing and returns 0).  The file is opened on the
** first write and kept open; every line is fwrite + fflush checked.  On
** failure (rendering out of memory, open, write or flush) returns -1,
** counts it in 'errors', sets 'last_error' to "PATH: WHAT: REASON" (WHAT
** is render/open/write/flush, REASON the strerror text) and closes the
** file, so the next write tries to open it again.  Never raises, never
** prints. */
int precord_sink_write(precord_Sink *S, const mcts_Record *r);
/* The last failure message, "" if none (owned by 'S'; overwritten by the
** next failure). */
const char *precord_sink_last_error(const precord_Sink *S);

#endif
