/*
** sched_int.h -- private to csrc/sched/: the scheduler's records, workers
** and pool, its tuning constants, histograms and single-writer atomics,
** shared by sched.c (the pool, queue, workers and owner API) and
** sched_stats.c (statistics).  The invariants are in sched.c's header.
** See LICENSE for copyright.
*/
#ifndef LISPBT_SCHED_INT_H
#define LISPBT_SCHED_INT_H

#include "conf.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "sched.h"

/* Status of a record on the free or zombie list (never seen by users). */
#define SCHED_FREE 5
/* Claimed by a worker that is stamping its start: shown as RUNNING by
** sched_try_result; sched_info waits the few instructions until it is. */
#define SCHED_STARTING 6

/* The status word: job id and status in one atomic, so that a worker
** holding a stale ring entry cannot claim a recycled record (invariant 2). */
#define SW(id, st) (((uint64_t)(id) << 3) | (uint64_t)(st))
#define SW_ST(w) ((int)((w)&7))

/* Ring entries (a power of two); more queued jobs overflow to the FIFO. */
#if !defined(SCHED_RING)
#define SCHED_RING 4096
#endif

/* Workers spin this long on an empty queue before sleeping, when the
** machine has a spare CPU for each of them and for the owner (otherwise a
** spinner would steal the CPU the owner needs to submit: measured slower). */
#if !defined(SCHED_SPIN_NS)
#define SCHED_SPIN_NS 20000
#endif
/* Without spare CPUs a worker still spins this long (about what a futex
** sleep plus the wake on the next submit cost on these VMs, so at most
** twice the cost of sleeping at once): sleeping at once let a fast worker
** sleep after every job, so every submit paid a futex wake, which made the
** owner slow enough that the workers always drained the queue: a stable
** state ~10x slower than the one where the queue never empties.  This
** spin calls sched_yield between looks: with the owner runnable on the
** same CPU (3 threads on 2 CPUs) it runs at once and submits, instead of
** waiting out the spin or paying a futex wake after it; with nothing else
** runnable the yield returns at once.  Measured 2x the throughput of a
** pause loop on the 2-CPU VM (bench/README.md, item 6). */
#if !defined(SCHED_SPIN_SHORT_NS)
#define SCHED_SPIN_SHORT_NS 4000
#endif

/* With some workers awake, the owner wakes a sleeper for queued jobs only
** when every awake worker is inside a job it started at least this long
** ago (as seen at the owner's submits and polls): a worker in a short job
** takes the next one itself.  Waking on every submit while a worker slept
** cost a futex wake and a spin of the woken worker per few jobs on a
** 2-CPU machine. */
#if !defined(SCHED_STUCK_NS)
#define SCHED_STUCK_NS 5000
#endif

/* A worker that goes to sleep while another is awake wakes up after this
** long to look at the ring: a job queued behind the awake workers' jobs
** then starts even if the owner never looks again (maybe_wake). */
#if !defined(SCHED_NAP_NS)
#define SCHED_NAP_NS 1000000
#endif

/* First chunk of job records, and the cap of the doubling. */
#define CHUNK_MIN 32
#define CHUNK_MAX 1024

/* ---------------------------------------------------------------------
** Histograms.  Values below 2^HIST_SUB_BITS have one bucket each; above,
** each power of two 2^e (e = 7..HIST_MAX_EXP) is split into HIST_SUB equal
** buckets, so a bucket's width is at most 1/128 of its lower bound and the
** reported midpoint is within 0.4% of any value in it.
** ------------------------------------------------------------------- */

#define HIST_SUB_BITS 7
#define HIST_SUB (1 << HIST_SUB_BITS)
#define HIST_MAX_EXP 40
#define HIST_N ((HIST_MAX_EXP - HIST_SUB_BITS + 2) * HIST_SUB)

typedef struct Hist {
    _Atomic uint64_t b[HIST_N];
} Hist;

static inline int floorlog2(uint64_t u) {
#if defined(__GNUC__)
    return 63 - __builtin_clzll(u);
#else
    int e = 0;
    while (u >>= 1) {
        e++;
    }
    return e;
#endif
}

static inline int hist_index(int64_t v) {
    int e;
    if (v < HIST_SUB) {
        return v < 0 ? 0 : (int)v;
    }
    e = floorlog2((uint64_t)v);
    if (e > HIST_MAX_EXP) {
        return HIST_N - 1;
    }
    return (e - HIST_SUB_BITS + 1) * HIST_SUB +
           (int)(((uint64_t)v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* Representative value of bucket 'i': its midpoint (rounded down). */
static inline int64_t hist_value(int i) {
    int shift;
    int64_t lo;
    if (i < HIST_SUB) {
        return i;
    }
    shift = i / HIST_SUB - 1;
    lo = (int64_t)(HIST_SUB + i % HIST_SUB) << shift;
    return lo + (((int64_t)1 << shift) - 1) / 2;
}

/* ---------------------------------------------------------------------
** Records, workers, pool.
** ------------------------------------------------------------------- */

struct sched_Cancel {
    _Atomic int flag;    /* 0, SCHED_STOP_CANCEL or SCHED_STOP_TIMEOUT */
    int64_t deadline_ns; /* start + timeout, or 0; worker-private */
    sched_Pool *P;       /* for the sleepers' condition variable */
};

typedef struct sched_Job {
    struct sched_Job *next, *prev; /* queue (under 'mu'); free/zombie list */
    /* written by the owner at submit, read by the worker after the pop */
    uint64_t id; /* 0 while free */
    const char *name;
    sched_Fn fn;
    void *arg;
    uint64_t owner;
    int64_t timeout_ns;
    int64_t submit_ns;
    /* written by the worker (or by the owner for a queued cancel) before
    ** the status store that publishes them */
    int64_t start_ns, end_ns;
    int result, timed_out;
    _Atomic uint64_t sw; /* SW(id, status) */
    int inring;          /* owner-only: queued through the ring */
    sched_Cancel cancel;
    /* waits only (fn == NULL), owner-only: deadline and heap slot */
    int64_t wait_until;
    size_t heapidx;
} sched_Job;

/* A ring entry: the record and the id it held when it was queued. */
typedef struct RingSlot {
    _Atomic(sched_Job *) job;
    _Atomic uint64_t id;
} RingSlot;

typedef struct Chunk {
    struct Chunk *next;
    size_t n;
    sched_Job jobs[];
} Chunk;

/* One per worker thread.  Every statistic has a single writer (this
** worker); the owner reads them with relaxed loads. */
typedef struct Worker {
    sched_Pool *P;
    pthread_t thread;
    _Atomic uint64_t nstarted, ncompleted, nfailed, ncancelled, ntimedout;
    _Atomic int busy;
    _Atomic int64_t qd_last, qd_last_at, qd_max;
    _Atomic int64_t rt_last, rt_last_at, rt_max;
    _Atomic int64_t qd_min, qd_sum, rt_min, rt_sum; /* of the samples clamped to >= 0 */
    char pad[64]; /* keep the hot counters off the neighbour's lines */
    /* the start stamp of the job it runs, 0 between jobs: the owner reads
    ** it at submits (maybe_wake), so it has a line of its own */
    _Atomic int64_t since;
    char pad3[64 - sizeof(int64_t)];
    Hist qd, rt;
} Worker;

struct sched_Pool {
    mem_Heap *M;
    clk_Clock *clk; /* job timestamps; NULL = the raw monotonic clock */
    /* --- owner-only ------------------------------------------------- */
    uint64_t next_id;
    uint64_t nsubmitted; /* successful submits */
    uint64_t ncancelq;   /* queued jobs the owner cancelled */
    sched_Job *freelist; /* recyclable records (linked through 'next') */
    sched_Job *zombies;  /* released while running (through 'next') */
    Chunk *chunks;
    size_t nrecords;
    sched_Job **tab; /* open addressing, linear probing, id -> record */
    size_t tabcap;   /* power of two, or 0 */
    size_t tabcount;
    int tabbits;
    int nworkers;     /* requested */
    int64_t spin_ns;  /* SCHED_SPIN_NS, or SCHED_SPIN_SHORT_NS without spare CPUs */
    int spin_yield;   /* no spare CPUs: spin with sched_yield, not pause */
    int nthreads;     /* actually started */
    Worker *workers;  /* nworkers blocks, then the owner's block for waits */
    sched_Job **heap; /* waits by deadline (invariant 8) */
    size_t nheap, capheap;
    int mu_ok, work_cv_ok, sleep_mu_ok, sleep_cv_ok;
    char pad1[64];
    /* --- shared, under 'mu' ----------------------------------------- */
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    sched_Job *qhead, *qtail;
    _Atomic int nwake;    /* signals sent and not yet consumed (written under 'mu') */
    _Atomic int stopping; /* written under 'mu' */
    char pad3[64];
    /* read by the owner at every submit, written only when a worker goes
    ** to sleep or wakes: on a line of its own, so the owner's reads do not
    ** pull the mutex's line away from the workers */
    _Atomic int nidle; /* workers waiting on 'work_cv' (written under 'mu') */
    char pad4[64];
    /* --- submissions: a lock-free LIFO stack the owner pushes on and a
    ** worker (or the owner, under 'mu') empties at once into the FIFO;
    ** with the count, which the owner raises at each submit (RMW by owner
    ** and workers) --- */
    _Atomic(sched_Job *) incoming;
    _Atomic size_t novf; /* jobs on the stack or in the FIFO */
    char pad2[64];
    /* --- the ring (invariant 2): entries [rhead, rtail) ------------- */
    RingSlot *ring;
    uint64_t ringmask;
    uint64_t rtail_own; /* owner-only copy of 'rtail' */
    uint64_t head_room; /* owner-only: an older 'rhead', for the full test */
    uint64_t nwaitsub;  /* owner-only: waits submitted */
    int ovf;            /* owner-only: submits go to the stack until it drains */
    char pad5[64];
    _Atomic uint64_t rtail; /* written by the owner only */
    char pad6[64];
    _Atomic uint64_t rhead; /* advanced by the workers (CAS) */
    char pad7[64];
    /* --- sleepers --------------------------------------------------- */
    pthread_mutex_t sleep_mu;
    pthread_cond_t sleep_cv; /* monotonic clock */
};

#define RLX memory_order_relaxed
#define ACQ memory_order_acquire
#define REL memory_order_release
#define LOAD(x) atomic_load_explicit(&(x), RLX)
#define STORE(x, v) atomic_store_explicit(&(x), (v), RLX)
/* increment / raise-to of a single-writer counter: no locked instruction */
#define W_INC(x) STORE(x, LOAD(x) + 1)
#define W_MAX(x, v)             \
    do {                        \
        if ((v) > LOAD(x)) {    \
            STORE(x, (v));      \
        }                       \
    } while (0)
#define W_MIN(x, v)             \
    do {                        \
        if ((v) < LOAD(x)) {    \
            STORE(x, (v));      \
        }                       \
    } while (0)
#define W_ADD(x, v) STORE(x, LOAD(x) + (v))
/* Record latency sample 'v' taken at 'at' in worker block 'w''s set
** 'pre' (qd: queue delay, rt: run time): its histogram, last value and
** time, max, and min and sum of the samples clamped to >= 0. */
#define W_LATENCY(w, pre, v, at)                            \
    do {                                                    \
        int64_t v_ = (v);                                   \
        W_INC((w)->pre.b[hist_index(v_)]);                  \
        STORE((w)->pre##_last, v_);                         \
        STORE((w)->pre##_last_at, (at));                    \
        W_MAX((w)->pre##_max, v_);                          \
        W_MIN((w)->pre##_min, v_ < 0 ? 0 : v_);             \
        W_ADD((w)->pre##_sum, v_ < 0 ? 0 : v_);             \
    } while (0)

/* Run the waits whose deadline has passed (owner-only; sched.c). */
void sched_pollwaits(sched_Pool *P);

#endif
