/*
** sched.h -- per-host worker-thread scheduler: plain C jobs, cooperative
** cancel, run-time timeouts, per-pool counters and latency percentiles.
** See LICENSE for copyright.  Prose documentation: docs/scheduler.md.
**
** Threads.  A pool has one *owner* thread (the thread of the host that made
** it) and 'workers' worker threads.  Every function below is owner-only,
** except the three a running job calls from its worker: sched_cancelled,
** sched_sleep_ns and sched_job_sleep_ms.  The owner-side polls
** (sched_info, sched_try_result) take no lock and make no system call,
** with two rare exceptions: a poll of a queued job wakes a sleeping worker
** (one futex wake, under the pool mutex) if every awake worker is inside
** a job it started at least 5 us before, as a submit would; and sched_info yields
** the CPU if the worker that just claimed the job lost its CPU before
** stamping the start.
**
** Jobs.  A job is 'fn(arg, c)' run once on some worker; it returns 0 for
** success and non-zero for failure, and polls sched_cancelled(c) (or sleeps
** with sched_sleep_ns) to honour cancellation and its timeout.  Jobs never
** touch Lua or Lisp values, and never allocate through the host's mem_Heap.
**
**     submit                pop by a worker              fn returns
**       |                        |                           |
**       v                        v                           v
**   [QUEUED] ---------------> [RUNNING] -----------> [DONE] | [FAILED]
**       |                        |                      | [CANCELLED]
**       | sched_cancel/release   | cancel flag set,     |
**       | sched_free             | fn returns           |
**       v                        v                      |
**   [CANCELLED]             [CANCELLED]                 |
**       \________________________\______________________/
**                                 |  owner observes terminal status
**                                 v
**                           sched_release(P, id)  -> record recycled
*/
/* This header shares its name with the system <sched.h>, which <pthread.h>
** includes.  If csrc/sched is on the -I path, that include lands here, so
** first hand it on to the system header (GCC/Clang '#include_next'; skipped
** once glibc/musl's guard shows it is in).  Prefer '-Icsrc' and
** "sched/sched.h" outside csrc/sched. */
#if defined(__GNUC__) && !defined(_SCHED_H)
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wgnu-include-next"
#if __has_warning("-Winclude-next-absolute-path")
#pragma clang diagnostic ignored "-Winclude-next-absolute-path"
#endif
#endif
#include_next <sched.h>
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
#endif

#ifndef LISPBT_SCHED_H
#define LISPBT_SCHED_H

#include "conf.h"

#include "mem.h"
#include "sbuf.h"

/* Job statuses (sched_JobInfo.status, sched_try_result). */
#define SCHED_QUEUED 0
#define SCHED_RUNNING 1
#define SCHED_DONE 2
#define SCHED_FAILED 3
#define SCHED_CANCELLED 4

/* Error returns (always negative). */
#define SCHED_EUNKNOWN (-1) /* no live job with that id in this pool */
#define SCHED_ENOMEM (-2)   /* allocation through the mem_Heap failed */
#define SCHED_EINVAL (-3)   /* bad argument (worker count, NULL fn) */
#define SCHED_ETHREAD (-4)  /* pthread_create or sync-object init failed */

/* Non-error results of sched_cancel (SCHED_EUNKNOWN otherwise). */
#define SCHED_CANCEL_DEQUEUED 0 /* was queued; now CANCELLED (terminal) */
#define SCHED_CANCEL_PENDING 1  /* running; its cancel flag is now set */
#define SCHED_CANCEL_NOOP 2     /* already terminal; nothing changed */

/* Non-error results of sched_release (SCHED_EUNKNOWN otherwise). */
#define SCHED_RELEASED 0         /* record recycled now */
#define SCHED_RELEASE_DEFERRED 1 /* job still running: cancel requested; */
                                 /* record recycled after 'fn' returns  */

/* Why a job should stop (non-zero values of sched_cancelled). */
#define SCHED_STOP_CANCEL 1  /* sched_cancel, sched_release, sched_free */
#define SCHED_STOP_TIMEOUT 2 /* its run time reached 'timeout_ns' */

/* Upper bound of 'workers' in sched_new. */
#define SCHED_MAX_WORKERS 256

typedef struct sched_Pool sched_Pool;     /* opaque */
typedef struct sched_Cancel sched_Cancel; /* opaque; one per job */

/* A job.  'arg' is the caller's pointer from sched_submit; 'c' is the job's
** cancel token, valid for the duration of the call.  Return 0 = done, any
** other value = failed (that value is kept as the job's result code). */
typedef int (*sched_Fn)(void *arg, const sched_Cancel *c);

/* Snapshot of one job (sched_info).  Timestamps are the pool's clock (sched_set_clock) values;
** a stage not reached yet reads 0.  'result' and 'timed_out' are meaningful
** once the status is terminal (DONE, FAILED, CANCELLED); 'result' is 0 for a
** job cancelled before it started. */
typedef struct sched_JobInfo {
    uint64_t id;
    const char *name; /* the static string given to sched_submit */
    uint64_t owner;   /* the opaque tag given to sched_submit */
    int status;       /* SCHED_QUEUED .. SCHED_CANCELLED */
    int result;       /* return value of 'fn' (0 if it never ran) */
    int timed_out;    /* 1 if it ended FAILED because of its timeout */
    int64_t timeout_ns;
    int64_t submit_ns, start_ns, end_ns;
} sched_JobInfo;

/* Per-pool counters and latency summary (sched_stats).  Queue delay is
** start_ns - submit_ns of each started job; run time is end_ns - start_ns.
** Percentiles are nearest-rank (hist.h) from log-linear histograms
** (relative error <= 0.4%, ranks 1 and n exact) and are 0 while nothing has
** been recorded, as are the minima; counts and sums (of the samples, negative
** ones counted as 0) are what a Prometheus summary needs. */
typedef struct sched_Stats {
    uint64_t submitted; /* successful sched_submit calls */
    uint64_t started;   /* jobs a worker began running */
    uint64_t completed; /* ended DONE */
    uint64_t failed;    /* ended FAILED (includes timed_out) */
    uint64_t cancelled; /* ended CANCELLED (queued or running) */
    uint64_t timed_out; /* ended FAILED because of their timeout */
    uint64_t queued;    /* QUEUED now */
    uint64_t running;   /* RUNNING now */
    uint64_t workers;   /* worker threads of the pool */
    int64_t queue_delay_last_ns, run_time_last_ns;
    int64_t queue_delay_max_ns, run_time_max_ns;
    int64_t queue_delay_p50_ns, queue_delay_p90_ns;
    int64_t queue_delay_p99_ns, queue_delay_p999_ns;
    int64_t run_time_p50_ns, run_time_p90_ns;
    int64_t run_time_p99_ns, run_time_p999_ns;
    uint64_t queue_delay_count, run_time_count; /* samples in the histograms */
    int64_t queue_delay_sum_ns, run_time_sum_ns;
    int64_t queue_delay_min_ns, run_time_min_ns;
} sched_Stats;

/* Create a pool with 'workers' threads (0..SCHED_MAX_WORKERS; with 0, jobs
** only queue).  Every allocation of the pool goes through 'M', which must
** outlive the pool and is used on the owner thread only.  Returns the pool,
** owned by the caller (free with sched_free), with '*err' (if 'err' is not
** NULL) set to 0; or NULL with '*err' set to SCHED_EINVAL ('M' NULL or
** 'workers' out of range), SCHED_ENOMEM or SCHED_ETHREAD; on
** failure nothing is left allocated and no thread is left running. */
sched_Pool *sched_new(mem_Heap *M, int workers, int *err);

/* Stamp job times (sched_JobInfo) with clock 'k' (clock.h), which must
** outlive the pool, instead of the raw monotonic clock (NULL: back to it).
** Call before the first sched_submit.  Never fails. */
struct clk_Clock;
void sched_set_clock(sched_Pool *P, struct clk_Clock *k);

/* Destroy 'P' (NULL is a no-op): every queued job becomes CANCELLED without
** running, every running job gets its cancel flag set, then the workers are
** woken and joined -- this waits for each running job only until it returns,
** so a job that never polls sched_cancelled delays it.  Afterwards 'P', every
** job id of it and every sched_Cancel it handed out are no longer valid.
** Job 'arg' pointers are not touched (the caller owns them). */
void sched_free(sched_Pool *P);

/* Queue a job; returns its id (> 0, unique within 'P', increasing), or 0 on
** failure (out of memory, or 'fn' is NULL).
** - 'name' is not copied: it must be a static string (or outlive the pool);
**   NULL becomes "job".
** - 'arg' stays owned by the caller and must stay valid while the job can
**   run: until its status is terminal, or -- if it was released while still
**   running -- until 'fn' returns (see sched_release).  The scheduler never
**   frees or reads it; only 'fn' does.
** - 'timeout_ns' > 0 bounds the job's *run time* (from start, not from
**   submit): see SCHED_STOP_TIMEOUT and docs/scheduler.md.  <= 0 = none.
** - 'owner' is an opaque tag (instance or node id), reported by sched_info
**   and used by sched_cancel_owner.
** After warm-up (records and id table grown to the peak number of live
** jobs) this performs no allocation. */
uint64_t sched_submit(sched_Pool *P, const char *name, sched_Fn fn, void *arg,
                      int64_t timeout_ns, uint64_t owner);

/* Queue a *wait*: a job that runs no code and holds no worker, for leaves
** that only wait (async-sleep-ms).  It is RUNNING from submit (start_ns =
** submit_ns; it never queues) and ends DONE 'delay_ns' (<= 0: none) after
** submit, with end_ns = that deadline: the pool keeps waits in a deadline
** heap that the owner expires whenever it looks (sched_info,
** sched_try_result, sched_stats), so no thread wakes for them and any
** number of waits costs no worker.  sched_cancel ends a pending wait (one
** not yet seen DONE, even if its deadline has passed since the owner last
** looked) CANCELLED at once (SCHED_CANCEL_DEQUEUED); sched_release recycles it at
** once; sched_free cancels the pending ones.  Waits count in 'submitted',
** 'started', 'running' (while pending), 'completed' / 'cancelled' and the
** run-time figures, with a queue delay of 0.  Returns its id, or 0 when out
** of memory.  After warm-up (heap, records and id table grown to the peak
** of live jobs) this performs no allocation. */
uint64_t sched_submit_wait(sched_Pool *P, const char *name, int64_t delay_ns, uint64_t owner);

/* Fill '*out' with a snapshot of job 'id'.  Returns 0, or SCHED_EUNKNOWN if
** 'id' was never issued by 'P' or has been released.  Lock-free. */
int sched_info(sched_Pool *P, uint64_t id, sched_JobInfo *out);

/* Status of job 'id' (SCHED_QUEUED..SCHED_CANCELLED) or SCHED_EUNKNOWN.
** When the status is terminal and 'result' is not NULL, '*result' receives
** the job's result code.  The record stays until sched_release.
** Lock-free: this is the per-tick poll of async leaves. */
int sched_try_result(sched_Pool *P, uint64_t id, int *result);

/* Cancel job 'id'.  Queued: it becomes CANCELLED now and never runs
** (SCHED_CANCEL_DEQUEUED).  Running: its cancel flag is set and sleepers in
** sched_sleep_ns wake at once (SCHED_CANCEL_PENDING); it ends CANCELLED when
** 'fn' returns, whatever 'fn' returns -- unless the job had already noticed
** its timeout (the first reason wins): then it ends FAILED, timed out.
** Terminal: SCHED_CANCEL_NOOP.
** Unknown id: SCHED_EUNKNOWN.  Every job that ends CANCELLED is counted
** once in 'cancelled'. */
int sched_cancel(sched_Pool *P, uint64_t id);

/* Cancel every unreleased, non-terminal job whose tag is 'owner' (as by
** sched_cancel); returns how many were queued or running.  O(live jobs). */
int sched_cancel_owner(sched_Pool *P, uint64_t owner);

/* Give job 'id' back; its id becomes unknown at once.  Terminal: the record
** is recycled now (SCHED_RELEASED).  Queued: cancelled (counted), recycled
** (SCHED_RELEASED).  Running: cancel flag set; the record is recycled at a
** later safe point, after 'fn' has returned (SCHED_RELEASE_DEFERRED) -- the
** caller must keep 'arg' valid until then, or until sched_free.
** Unknown id: SCHED_EUNKNOWN. */
int sched_release(sched_Pool *P, uint64_t id);

/* Fill '*out' with the pool's counters and percentiles.  Lock-free; the
** counters are each exact once the jobs they count have been observed
** terminal by the owner, and may lag by in-flight jobs otherwise. */
void sched_stats(sched_Pool *P, sched_Stats *out);

/* Append the SPEC section 8 text of sched_stats to 'b': lines 'submitted=N',
** 'started=N', 'completed=N', 'failed=N', 'cancelled=N',
** 'queue_delay_last_ns=N', 'run_time_last_ns=N', then 'queued', 'running',
** 'workers', 'timed_out', 'queue_delay_max_ns', 'run_time_max_ns' and the
** p50/p90/p99/p999 of queue delay then run time ('queue_delay_p50_ns=N' ..
** 'run_time_p999_ns=N'); each line ends with "\n".  Returns 0, or
** SCHED_ENOMEM if 'b' ran out of memory. */
int sched_stats_text(sched_Pool *P, sbuf *b);

/* Name of a status: "queued", "running", "done", "failed", "cancelled";
** "unknown" for any other value.  Static strings. */
const char *sched_status_name(int status);

/* --- called by jobs, on their worker ----------------------------------- */

/* 0 while job 'c' may go on; otherwise SCHED_STOP_CANCEL or
** SCHED_STOP_TIMEOUT.  One atomic load, plus one clock read when the job
** has a timeout (which is how timeouts are detected: see docs). */
int sched_cancelled(const sched_Cancel *c);

/* Sleep 'ns' nanoseconds, waking early when job 'c' is cancelled or reaches
** its timeout.  A condition-variable wait on the monotonic clock: a cancel
** wakes it at once.  Returns 0 after a full sleep, else what
** sched_cancelled(c) returns. */
int sched_sleep_ns(const sched_Cancel *c, int64_t ns);

/* A ready-made sleeping job (the tests and docs/scheduler.md use it; the
** async-sleep-ms leaf of sched_lib.c submits its own job, which carries
** the duration by value): 'arg' points to an int64_t number of
** milliseconds (<= 0: no sleep), owned by the caller and read once when
** the job starts.  Sleeps cooperatively with sched_sleep_ns; returns 0, or
** SCHED_STOP_CANCEL / SCHED_STOP_TIMEOUT. */
int sched_job_sleep_ms(void *arg, const sched_Cancel *c);

#endif
