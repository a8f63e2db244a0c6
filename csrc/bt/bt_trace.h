/*
** bt_trace.h -- per-instance trace ring of integer-coded events (trace_).
** See LICENSE for copyright.
**
** The write side is a fixed array of 32-byte trace_Rec records allocated
** once by trace_init, rounded up to a power of two slots.  Pushing an event
** packs it into its slot and bumps the sequence counter: no allocation, no
** formatting, no lock, no system call.
** Text is rendered only when someone reads the ring (trace_dump,
** trace_chrome_json).  A ring belongs to one BT instance and is used on the
** thread that ticks it; it is not thread-safe.
**
** Sequence numbers start at 1 and increase by one per pushed event for the
** life of the ring: neither wraparound nor trace_clear resets them, so a
** reader can tell how many events were dropped between two snapshots.
**
** Runs.  At level counters the node events of a leaf all carry the tick's
** start time, and a C leaf usually pushes nothing of its own, so the BT
** layer writes the enter and exit of up to TRACE_RUN_MAX consecutive leaves
** as one run record (trace_run) instead of two records per leaf.  Readers
** get the same events and seqs either way.
**
** Text (warning/error messages, string values) lives in a side ring of
** fixed 128-byte slots, max(16, capacity / 16) of them.  An event refers to
** its text by a message id (0 = none); slot = id % nslots, and the slot
** remembers which id it holds, so an event whose text was overwritten by
** later messages renders as msg=<lost> instead of someone else's text.
** Ids are 32-bit; an id could only be confused with one 2^32 messages later,
** by which time the event itself has long left any ring smaller than 2^32.
*/
#ifndef LISPBT_TRACE_H
#define LISPBT_TRACE_H

#include "conf.h"

#include "mem.h"
#include "sbuf.h"

/* Event kinds; trace_kind_name gives the dump spelling.  TRACE_RUN is
** internal to the ring: the node events of a run of leaves in one record. */
enum {
    TRACE_TICK_BEGIN,   /* tick_begin */
    TRACE_TICK_END,     /* tick_end: status, duration_ns */
    TRACE_NODE_ENTER,   /* node_enter: node */
    TRACE_NODE_EXIT,    /* node_exit: node, status, duration_ns */
    TRACE_BB_WRITE,     /* bb_write: key, value */
    TRACE_BB_READ,      /* bb_read: key, value */
    TRACE_SCHED_SUBMIT, /* scheduler_submit: job, job_status */
    TRACE_SCHED_START,  /* scheduler_start */
    TRACE_SCHED_FINISH, /* scheduler_finish */
    TRACE_SCHED_CANCEL, /* scheduler_cancel */
    TRACE_WARNING,      /* warning: msg */
    TRACE_ERROR,        /* error: msg */
    TRACE_NKINDS,
    TRACE_RUN = TRACE_NKINDS
};

/* Node statuses as the BT layer codes them (0 = field absent). */
enum { TRACE_ST_NONE = 0, TRACE_ST_SUCCESS = 1, TRACE_ST_FAILURE = 2, TRACE_ST_RUNNING = 3 };

/* Job statuses; printed only when 'job' != 0. */
enum { TRACE_JOB_QUEUED, TRACE_JOB_RUNNING, TRACE_JOB_DONE, TRACE_JOB_FAILED, TRACE_JOB_CANCELLED };

/* Value tags.  STR is a string value (rendered quoted and escaped); TEXT is
** a pre-printed representation (rendered as is, e.g. "#<closure>").  Both
** keep their characters in the message ring, so they are pushed with
** trace_push_msg and such an event carries no separate msg. */
enum {
    TRACE_V_NONE,
    TRACE_V_NIL,
    TRACE_V_BOOL,
    TRACE_V_INT,
    TRACE_V_FLOAT,
    TRACE_V_STR,
    TRACE_V_TEXT
};

/* An event as pushed and as read back (trace_get decodes it).  Which
** optional fields an event keeps depends on its kind (trace_Rec):
**   node_exit, tick_end      status, duration_ns
**   bb_write, bb_read        key, vtag/v (a text value in the message ring)
**   scheduler_*              job, job_status
**   all others               status, msg
**   tick_begin, node_enter   status
** Fields outside its kind's set are dropped on push. */
typedef struct trace_Event {
    uint64_t seq;        /* stamped by the ring; >= 1 */
    int64_t tick;        /* instance tick index */
    int64_t ts_ns;       /* the host clock's stamp of the event (bt_now) */
    int64_t duration_ns; /* -1 = none */
    uint64_t job;        /* scheduler job id; 0 = none */
    union {
        int64_t i; /* INT, BOOL (0/1) */
        double f;  /* FLOAT */
    } v;
    int32_t node;       /* node id, -1 .. TRACE_MAX_NODE; -1 = none */
    int32_t key;        /* blackboard key id; -1 = none */
    uint32_t msg;       /* message id; 0 = none */
    uint8_t kind;       /* TRACE_TICK_BEGIN.. */
    uint8_t status;     /* TRACE_ST_* */
    uint8_t job_status; /* TRACE_JOB_* */
    uint8_t vtag;       /* TRACE_V_* */
} trace_Event;

/* The stored form: 32 bytes, half a cache line, so that the two events a
** traced node writes cost one line.  The sequence number is implied by the
** slot.  w packs kind (bits 0-3), status or job_status (4-6), vtag (7-9)
** and node + 1 (10-31).  A run of k leaves (seqs x .. x + 2k - 1) sits in
** the slot of its last event, the slots before it keep what they held; w
** has the first leaf's node, the last leaf's status and, in the vtag bits,
** the status of the others; aux = k. */
typedef struct trace_Rec {
    int64_t tick;
    int64_t ts_ns;
    uint64_t x; /* duration_ns | job | value bits | msg id of a text value | a run's first seq */
    uint32_t w;
    uint32_t aux; /* key + 1 (bb kinds), else msg id */
} trace_Rec;

#define TRACE_MAX_NODE ((1 << 22) - 2)
#define TRACE_RUN_MAX 32 /* leaves per run: a read looks at most 2x that many slots */

#define TRACE_MSG_SLOT 128
#define TRACE_MSG_LEN (TRACE_MSG_SLOT - 4) /* text bytes incl. the NUL */
#define TRACE_MAX_CAPACITY (1 << 26)

typedef struct trace_MsgSlot {
    uint32_t id;              /* message id held; 0 = never used */
    char text[TRACE_MSG_LEN]; /* NUL-terminated, truncated with "..." */
} trace_MsgSlot;

typedef struct trace_Ring {
    trace_Rec *ev;       /* mask + 1 slots: event 'seq' lives in ev[seq & mask] */
    trace_MsgSlot *msgs; /* 'nmsgs' slots */
    mem_Heap *M;         /* the heap both came from */
    uint64_t seq;        /* seq of the next event */
    uint64_t seq0;       /* seq of the first event since init or clear */
    uint32_t cap;        /* events kept: exactly the requested capacity */
    uint32_t mask;       /* the power of two >= cap, minus 1 */
    uint32_t nmsgs;
    uint32_t msg_next; /* id of the next message */
} trace_Ring;

/* Names used when rendering; any member (or the whole struct) may be NULL.
** Callbacks return a borrowed string or NULL (then the number is printed). */
typedef struct trace_Names {
    void *ud;
    const char *(*key_name)(void *ud, int32_t key);
    const char *(*node_name)(void *ud, int32_t node);
} trace_Names;

/* Allocate a ring keeping the newest 'capacity' (1..TRACE_MAX_CAPACITY)
** events (in the next power of two slots), from 'M', which must outlive
** the ring.  Returns 0, or -1 (nothing allocated, 'R' zeroed so that
** trace_free is safe) on a bad capacity or allocation failure. */
int trace_init(trace_Ring *R, mem_Heap *M, int capacity);

/* Free the ring's memory; 'R' may be freed again but not pushed to. */
void trace_free(trace_Ring *R);

/* Drop all events and messages.  Sequence numbers keep increasing. */
void trace_clear(trace_Ring *R);

/* Name of event kind 'k' ("tick_begin" ...), or "unknown". */
const char *trace_kind_name(int k);

/* Name of node status 's': "none", "success", "failure", "running", or
** "unknown". */
const char *trace_status_name(int s);

/* Name of job status 's': "queued", "running", "done", "failed",
** "cancelled", or "unknown". */
const char *trace_job_status_name(int s);

/* An event of 'kind' with every optional field absent. */
static inline trace_Event trace_event(int kind, int64_t tick, int32_t node, int64_t ts_ns) {
    trace_Event e;
    e.seq = 0;
    e.tick = tick;
    e.ts_ns = ts_ns;
    e.duration_ns = -1;
    e.job = 0;
    e.v.i = 0;
    e.node = node;
    e.key = -1;
    e.msg = 0;
    e.kind = (uint8_t)kind;
    e.status = TRACE_ST_NONE;
    e.job_status = 0;
    e.vtag = TRACE_V_NONE;
    return e;
}

static inline int trace_kind_has_duration(int kind) {
    return kind == TRACE_NODE_EXIT || kind == TRACE_TICK_END;
}
static inline int trace_kind_is_bb(int kind) {
    return kind == TRACE_BB_WRITE || kind == TRACE_BB_READ;
}
static inline int trace_kind_is_sched(int kind) {
    return kind >= TRACE_SCHED_SUBMIT && kind <= TRACE_SCHED_CANCEL;
}

static inline int trace_kind_is_node(int kind) {
    return kind <= TRACE_NODE_EXIT;
}

/* Push a node or tick event (tick_begin/end, node_enter/exit): status
** TRACE_ST_*, duration_ns -1 when none (ignored for begin and enter).
** O(1), four stores: the tick path's push. */
static inline void trace_node(trace_Ring *R, int kind, int64_t tick, int32_t node, int64_t ts_ns,
                              int status, int64_t duration_ns) {
    uint64_t seq = R->seq;
    trace_Rec *r = &R->ev[seq & R->mask];
    R->seq = seq + 1;
    r->tick = tick;
    r->ts_ns = ts_ns;
    r->x = (uint64_t)duration_ns;
    r->w = (uint32_t)kind | (uint32_t)status << 4 | (uint32_t)(node + 1) << 10;
    r->aux = 0; /* whole records: cheaper than leaving holes */
}

/* Runs are pushed in two steps.  The BT layer first counts their events
** in R->seq (before a leaf's call: events the call pushes get later
** seqs), then writes them: with trace_run when nothing was pushed since,
** else with trace_fill_run.  Until then the ring must not be read. */

/* Write the node_enter and node_exit (no duration), all at 'tick' and
** 'ts_ns', of each of the 'k' (1..TRACE_RUN_MAX) leaves node0 ..
** node0 + k - 1, in that order, as seqs first .. first + 2k - 1: one
** record.  The last leaf returned status 'last', the others 'cont'
** (TRACE_ST_*).  O(1), four stores. */
static inline void trace_run(trace_Ring *R, uint64_t first, int64_t tick, int32_t node0, int k,
                             int64_t ts_ns, int cont, int last) {
    trace_Rec *r = &R->ev[(first + 2 * (uint64_t)k - 1) & R->mask];
    r->tick = tick;
    r->ts_ns = ts_ns;
    r->x = first;
    r->w = (uint32_t)TRACE_RUN | (uint32_t)last << 4 | (uint32_t)cont << 7 |
           (uint32_t)(node0 + 1) << 10;
    r->aux = (uint32_t)k;
}

/* Write seqs first .. first + 2k, counted before events were pushed: a run
** of 'k' (0..TRACE_RUN_MAX) leaves as trace_run (all returned 'cont'),
** then the node_enter of node0 + k; what the pushes have overwritten
** since is left out. */
void trace_fill_run(trace_Ring *R, uint64_t first, int64_t tick, int32_t node0, int k,
                    int64_t ts_ns, int cont);

/* Push '*ev' with message id 'msg' (0 = none); trace_push and
** trace_push_msg are the public forms.  O(1). */
void trace_push_id(trace_Ring *R, const trace_Event *ev, uint32_t msg);

/* Push a copy of '*ev' (its 'seq' and 'msg' are ignored: the ring stamps
** the seq, and an event pushed this way has no message).  O(1). */
static inline void trace_push(trace_Ring *R, const trace_Event *ev) {
    trace_push_id(R, ev, 0);
}

/* Push a copy of '*ev' carrying text 'msg' (NULL is treated as "").  The
** text is copied into the message ring, truncated to TRACE_MSG_LEN - 1
** bytes with a trailing "..." (never splitting a UTF-8 sequence).  When
** ev->vtag is TRACE_V_STR or TRACE_V_TEXT the text is the event's value;
** otherwise it is its msg (node and tick kinds keep no text: it is
** dropped).  No allocation; not for per-tick hot paths. */
void trace_push_msg(trace_Ring *R, const trace_Event *ev, const char *msg);

/* Number of events held (<= capacity). */
static inline int trace_count(const trace_Ring *R) {
    uint64_t n = R->seq - R->seq0;
    return (int)(n < R->cap ? n : R->cap);
}

/* Decode the 'i'-th event held (0 = oldest) into '*out' and return 'out';
** NULL when out of range. */
const trace_Event *trace_get(const trace_Ring *R, int i, trace_Event *out);

/* The text of 'ev' (its msg or string value), NULL when it has none, or
** the string "<lost>" when its slot was reused by a later message.  The
** text lives in the ring: valid until its slot is reused (later pushes
** with text), trace_clear or trace_free. */
const char *trace_msg_text(const trace_Ring *R, const trace_Event *ev);

/* Append the newest 'n' events (all when n < 0 or n > count), oldest
** first, one line each, to 'b':
**   SEQ kind=KIND tick=N node=N ts_ns=N [status=S] [duration_ns=N]
**   [job=N job_status=S] [key=K] [value=V] [msg=TEXT]
** Optional fields appear only when present.  K is names->key_name's answer
** or the key id.  V is nil, true, false, an integer, a float (always with a
** '.' or exponent: 2.0, 1e+20, inf, nan), a string in double quotes with
** \" \\ \n \r \t escapes, or TEXT as stored.  TEXT of msg= (and of V, K)
** escapes '\' as \\, newline as \n, CR as \r and other control bytes as
** \xHH, so one event is always one line; a lost message prints <lost>. */
void trace_dump(const trace_Ring *R, int n, const trace_Names *names, sbuf *b);

/* Append the whole ring as Chrome Trace Event Format JSON to 'b':
**   {"traceEvents":[...],"displayTimeUnit":"ns"}
** pid 1; tid 1 "ticks": tick_begin/tick_end as B/E; tid 2 "nodes":
** node_enter/node_exit as B/E named by names->node_name (else "node N");
** tid 3 "scheduler": the scheduler kinds as instant events
** ("ph":"i","s":"t"); other kinds are instant events on tid 2; process and
** thread names come first as "M" events.  Each event's fields go in "args"
** (a key named by names->key_name when it answers).  'ts' is
** microseconds with ns precision ("12.345").  The output always nests: an
** end whose begin fell off the ring is skipped, and spans still open at the
** end are closed at the last timestamp with "args":{"truncated":true}.
** A freed ring renders as an empty trace.  Returns 0, or -1 when a scratch
** allocation from the ring's heap failed (then 'b' holds nothing new); an
** sbuf allocation failure shows in b->oom only. */
int trace_chrome_json(const trace_Ring *R, const trace_Names *names, sbuf *b);

#endif
