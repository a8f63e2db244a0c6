/*
** test_sched.c -- C tests of the worker-thread scheduler (csrc/sched).
** See LICENSE for copyright.
**
** Plain C, no framework: each CHECK counts a pass or prints the failing
** expression; main prints "N passed, M failed" and exits non-zero on any
** failure.
**
** No check depends on how fast a thread runs: CI runs these on two shared
** cores under sanitizers, beside other work.  A test that needs something
** to happen polls for it with a bound of seconds (WAIT_MS); a job that must
** still be running when the test acts on it waits on a gate or sleeps far
** longer than any bound, so it cannot end early; times are only checked
** from below (a 20 ms sleep lasts at least 20 ms).  Latencies -- how fast a
** cancel wakes a sleeper, how long sched_free takes -- are figures of
** bench/sched_bench.c.
*/
#include "conf.h"

#include <inttypes.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "sbuf.h"
#include "sched.h"

#include "ctest.h"

#define MS (INT64_C(1000000))
#define WAIT_MS 10000 /* bound of every poll: generous, never reached */

static void nap_ns(int64_t ns) {
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    nanosleep(&ts, NULL);
}

/* Poll until job 'id' is terminal (or 'limit_ms' passes); its status. */
static int wait_done(sched_Pool *P, uint64_t id, int64_t limit_ms) {
    int64_t until = lispbt_now_ns() + limit_ms * MS;
    for (;;) {
        int st = sched_try_result(P, id, NULL);
        if (st < 0 || st >= SCHED_DONE || lispbt_now_ns() > until) {
            return st;
        }
        nap_ns(50000);
    }
}

/* Poll until job 'id' has left the queue; its status. */
static int wait_started(sched_Pool *P, uint64_t id, int64_t limit_ms) {
    int64_t until = lispbt_now_ns() + limit_ms * MS;
    for (;;) {
        int st = sched_try_result(P, id, NULL);
        if (st != SCHED_QUEUED || lispbt_now_ns() > until) {
            return st;
        }
        nap_ns(50000);
    }
}

/* Poll until the pool counts 'n' started jobs; the stats.  A worker
** counts a start just after it publishes RUNNING, so wait_started can
** return before the count moves. */
static sched_Stats wait_nstarted(sched_Pool *P, uint64_t n) {
    int64_t until = lispbt_now_ns() + WAIT_MS * MS;
    sched_Stats s;
    for (;;) {
        sched_stats(P, &s);
        if (s.started >= n || lispbt_now_ns() > until) {
            return s;
        }
        nap_ns(50000);
    }
}

/* Poll until every submitted job is counted as terminal (released running
** jobs end on their own time); the stats. */
static sched_Stats wait_books(sched_Pool *P) {
    int64_t until = lispbt_now_ns() + WAIT_MS * MS;
    sched_Stats s;
    for (;;) {
        sched_stats(P, &s);
        if (s.completed + s.failed + s.cancelled == s.submitted ||
            lispbt_now_ns() > until) {
            return s;
        }
        nap_ns(50000);
    }
}

/* --- jobs -------------------------------------------------------------- */

typedef struct Probe {
    _Atomic int runs;    /* times the job body was entered */
    _Atomic int gate;    /* gate jobs wait until this is non-zero */
    _Atomic int saw;     /* what sched_cancelled returned at the end */
} Probe;

static void probe_init(Probe *p) {
    atomic_init(&p->runs, 0);
    atomic_init(&p->gate, 0);
    atomic_init(&p->saw, 0);
}

static int job_ok(void *arg, const sched_Cancel *c) {
    (void)c;
    if (arg != NULL) {
        atomic_fetch_add(&((Probe *)arg)->runs, 1);
    }
    return 0;
}

static int job_fail(void *arg, const sched_Cancel *c) {
    (void)arg;
    (void)c;
    return 7;
}

/* Waits for the gate (polling cancel); returns 0 either way. */
static int job_gate(void *arg, const sched_Cancel *c) {
    Probe *p = arg;
    atomic_fetch_add(&p->runs, 1);
    while (!atomic_load(&p->gate)) {
        int f = sched_cancelled(c);
        if (f) {
            atomic_store(&p->saw, f);
            return 0; /* returns 0 after a cancel: still CANCELLED */
        }
        nap_ns(100000);
    }
    return 0;
}

/* Burns CPU for *(int64_t *)arg ns without ever polling its token. */
static int job_busy_nopoll(void *arg, const sched_Cancel *c) {
    int64_t until = lispbt_now_ns() + *(int64_t *)arg;
    (void)c;
    while (lispbt_now_ns() < until) {
    }
    return 0;
}

/* --- tests ------------------------------------------------------------- */

static void test_names(void) {
    CHECK(strcmp(sched_status_name(SCHED_QUEUED), "queued") == 0);
    CHECK(strcmp(sched_status_name(SCHED_RUNNING), "running") == 0);
    CHECK(strcmp(sched_status_name(SCHED_DONE), "done") == 0);
    CHECK(strcmp(sched_status_name(SCHED_FAILED), "failed") == 0);
    CHECK(strcmp(sched_status_name(SCHED_CANCELLED), "cancelled") == 0);
    CHECK(strcmp(sched_status_name(99), "unknown") == 0);
    CHECK(strcmp(sched_status_name(-1), "unknown") == 0);
}

static void test_new_errors(void) {
    mem_Heap M;
    int err = 0;
    mem_init(&M);
    CHECK(sched_new(&M, -1, &err) == NULL && err == SCHED_EINVAL);
    CHECK(sched_new(&M, SCHED_MAX_WORKERS + 1, &err) == NULL &&
          err == SCHED_EINVAL);
    CHECK(sched_new(NULL, 1, &err) == NULL && err == SCHED_EINVAL);
    M.fail_after = 1; /* the pool itself */
    CHECK(sched_new(&M, 2, &err) == NULL && err == SCHED_ENOMEM);
    M.fail_after = 2; /* the worker blocks */
    CHECK(sched_new(&M, 2, &err) == NULL && err == SCHED_ENOMEM);
    CHECK(M.bytes == 0 && M.nalloc == M.nfree);
    sched_free(NULL); /* no-op */
}

static void test_lifecycle(void) {
    mem_Heap M;
    sched_Pool *P;
    sched_JobInfo ji;
    Probe p;
    uint64_t id, id2;
    int err = -99, rc = -1, st;
    static const char name[] = "gate";
    mem_init(&M);
    probe_init(&p);
    P = sched_new(&M, 1, &err);
    CHECK(P != NULL && err == 0);
    id = sched_submit(P, name, job_gate, &p, 0, 42);
    CHECK(id == 1);
    CHECK(sched_info(P, id, &ji) == 0);
    CHECK(ji.id == id && ji.name == name && ji.owner == 42);
    CHECK(ji.submit_ns > 0 && ji.end_ns == 0);
    st = wait_started(P, id, WAIT_MS);
    CHECK(st == SCHED_RUNNING);
    CHECK(sched_info(P, id, &ji) == 0 && ji.status == SCHED_RUNNING);
    CHECK(ji.start_ns >= ji.submit_ns && ji.end_ns == 0);
    CHECK(sched_try_result(P, id, &rc) == SCHED_RUNNING && rc == -1);
    atomic_store(&p.gate, 1);
    CHECK(wait_done(P, id, WAIT_MS) == SCHED_DONE);
    CHECK(sched_try_result(P, id, &rc) == SCHED_DONE && rc == 0);
    CHECK(sched_info(P, id, &ji) == 0 && ji.status == SCHED_DONE);
    CHECK(ji.end_ns >= ji.start_ns && ji.start_ns >= ji.submit_ns);
    CHECK(ji.result == 0 && ji.timed_out == 0);
    CHECK(atomic_load(&p.runs) == 1);
    /* terminal records stay until released; then the id is unknown */
    CHECK(sched_try_result(P, id, NULL) == SCHED_DONE);
    CHECK(sched_cancel(P, id) == SCHED_CANCEL_NOOP);
    CHECK(sched_release(P, id) == SCHED_RELEASED);
    CHECK(sched_info(P, id, &ji) == SCHED_EUNKNOWN);
    CHECK(sched_try_result(P, id, NULL) == SCHED_EUNKNOWN);
    CHECK(sched_release(P, id) == SCHED_EUNKNOWN);
    CHECK(sched_cancel(P, id) == SCHED_EUNKNOWN);
    CHECK(sched_info(P, 0, &ji) == SCHED_EUNKNOWN);
    CHECK(sched_info(P, 12345, &ji) == SCHED_EUNKNOWN);
    /* failure keeps the result code; NULL name becomes "job" */
    id2 = sched_submit(P, NULL, job_fail, NULL, 0, 0);
    CHECK(id2 == 2);
    CHECK(wait_done(P, id2, WAIT_MS) == SCHED_FAILED);
    CHECK(sched_info(P, id2, &ji) == 0 && ji.result == 7 && !ji.timed_out);
    CHECK(strcmp(ji.name, "job") == 0);
    CHECK(sched_release(P, id2) == SCHED_RELEASED);
    /* NULL fn is refused */
    CHECK(sched_submit(P, "x", NULL, NULL, 0, 0) == 0);
    sched_free(P);
    CHECK(M.bytes == 0 && M.nalloc == M.nfree);
}

static void test_cancel_before_start(void) {
    mem_Heap M;
    sched_Pool *P;
    sched_JobInfo ji;
    sched_Stats s;
    Probe blocker, victim;
    uint64_t b, v;
    mem_init(&M);
    probe_init(&blocker);
    probe_init(&victim);
    P = sched_new(&M, 1, NULL);
    b = sched_submit(P, "blocker", job_gate, &blocker, 0, 1);
    CHECK(wait_started(P, b, WAIT_MS) == SCHED_RUNNING);
    v = sched_submit(P, "victim", job_ok, &victim, 0, 2);
    CHECK(sched_try_result(P, v, NULL) == SCHED_QUEUED);
    CHECK(sched_cancel(P, v) == SCHED_CANCEL_DEQUEUED);
    CHECK(sched_try_result(P, v, NULL) == SCHED_CANCELLED);
    CHECK(sched_info(P, v, &ji) == 0 && ji.start_ns == 0 && ji.end_ns > 0);
    CHECK(ji.result == 0 && ji.timed_out == 0);
    CHECK(sched_cancel(P, v) == SCHED_CANCEL_NOOP);
    atomic_store(&blocker.gate, 1);
    CHECK(wait_done(P, b, WAIT_MS) == SCHED_DONE);
    nap_ns(5 * MS);
    CHECK(atomic_load(&victim.runs) == 0); /* it never ran */
    sched_stats(P, &s);
    CHECK(s.submitted == 2 && s.started == 1 && s.completed == 1);
    CHECK(s.cancelled == 1 && s.queued == 0 && s.failed == 0);
    sched_free(P);
    CHECK(M.bytes == 0);
}

static void test_cancel_running(void) {
    mem_Heap M;
    sched_Pool *P;
    sched_JobInfo ji;
    sched_Stats s;
    Probe p;
    uint64_t id;
    int64_t ms = 100000;
    int rc = -1;
    mem_init(&M);
    probe_init(&p);
    P = sched_new(&M, 2, NULL);
    /* a polling job that returns 0 after noticing the cancel: CANCELLED */
    id = sched_submit(P, "gate", job_gate, &p, 0, 0);
    CHECK(wait_started(P, id, WAIT_MS) == SCHED_RUNNING);
    CHECK(sched_cancel(P, id) == SCHED_CANCEL_PENDING);
    CHECK(wait_done(P, id, WAIT_MS) == SCHED_CANCELLED);
    CHECK(sched_try_result(P, id, &rc) == SCHED_CANCELLED && rc == 0);
    CHECK(atomic_load(&p.saw) == SCHED_STOP_CANCEL);
    CHECK(sched_info(P, id, &ji) == 0 && ji.start_ns > 0 && !ji.timed_out);
    CHECK(sched_cancel(P, id) == SCHED_CANCEL_NOOP);
    sched_release(P, id);
    /* a sleeping job wakes when cancelled: it sleeps 100 s, far longer than
    ** the wait, so ending within it shows the wake-up (the latency is a
    ** figure of bench/sched_bench.c) */
    id = sched_submit(P, "sleep", sched_job_sleep_ms, &ms, 0, 0);
    CHECK(wait_started(P, id, WAIT_MS) == SCHED_RUNNING);
    nap_ns(2 * MS);
    CHECK(sched_cancel(P, id) == SCHED_CANCEL_PENDING);
    CHECK(wait_done(P, id, WAIT_MS) == SCHED_CANCELLED);
    CHECK(sched_try_result(P, id, &rc) == SCHED_CANCELLED &&
          rc == SCHED_STOP_CANCEL);
    sched_release(P, id);
    sched_stats(P, &s);
    CHECK(s.cancelled == 2 && s.started == 2 && s.completed == 0);
    CHECK(s.failed == 0 && s.running == 0);
    sched_free(P);
}

static void test_timeout(void) {
    mem_Heap M;
    sched_Pool *P;
    sched_JobInfo ji;
    sched_Stats s;
    Probe p, gate;
    uint64_t a, b, c, d, e, blk;
    int64_t long_ms = 100000, busy = 30 * MS, quick_ms = 1;
    mem_init(&M);
    probe_init(&p);
    probe_init(&gate);
    P = sched_new(&M, 2, NULL);
    /* (a) a sleeper is woken by its deadline (a 100 s sleep ending within
    **     the wait) */
    a = sched_submit(P, "sleep", sched_job_sleep_ms, &long_ms, 20 * MS, 0);
    CHECK(wait_done(P, a, WAIT_MS) == SCHED_FAILED);
    CHECK(sched_info(P, a, &ji) == 0 && ji.timed_out == 1);
    CHECK(ji.result == SCHED_STOP_TIMEOUT);
    CHECK(ji.end_ns - ji.start_ns >= 20 * MS);
    /* (b) a poller sees SCHED_STOP_TIMEOUT from sched_cancelled */
    b = sched_submit(P, "poll", job_gate, &p, 10 * MS, 0);
    CHECK(wait_done(P, b, WAIT_MS) == SCHED_FAILED);
    CHECK(sched_info(P, b, &ji) == 0 && ji.timed_out == 1 && ji.result == 0);
    CHECK(atomic_load(&p.saw) == SCHED_STOP_TIMEOUT);
    /* (c) a job that never polls is judged when it returns */
    c = sched_submit(P, "busy", job_busy_nopoll, &busy, 5 * MS, 0);
    CHECK(wait_done(P, c, WAIT_MS) == SCHED_FAILED);
    CHECK(sched_info(P, c, &ji) == 0 && ji.timed_out == 1 && ji.result == 0);
    /* (d) finishing inside the budget is success (a budget of a minute: a
    **     loaded machine may stall the 1 ms sleeper for a while) */
    d = sched_submit(P, "quick", sched_job_sleep_ms, &quick_ms, 60000 * MS, 0);
    CHECK(wait_done(P, d, WAIT_MS) == SCHED_DONE);
    CHECK(sched_info(P, d, &ji) == 0 && ji.timed_out == 0);
    /* (e) the timeout bounds run time, not queue time: a trivial job that
    **     waits in the queue longer than its timeout still succeeds.  The
    **     timeout is a second, so that no stall of the worker while it runs
    **     the job can exceed it; the job is held in the queue for longer. */
    blk = sched_submit(P, "blk", job_gate, &gate, 0, 0);
    CHECK(wait_started(P, blk, WAIT_MS) == SCHED_RUNNING);
    {
        Probe gate2;
        uint64_t blk2;
        probe_init(&gate2);
        blk2 = sched_submit(P, "blk2", job_gate, &gate2, 0, 0);
        CHECK(wait_started(P, blk2, WAIT_MS) == SCHED_RUNNING);
        e = sched_submit(P, "late", job_ok, NULL, 1000 * MS, 0);
        nap_ns(1100 * MS);
        CHECK(sched_try_result(P, e, NULL) == SCHED_QUEUED);
        atomic_store(&gate.gate, 1);
        atomic_store(&gate2.gate, 1);
        CHECK(wait_done(P, e, WAIT_MS) == SCHED_DONE);
        CHECK(wait_done(P, blk2, WAIT_MS) == SCHED_DONE);
    }
    CHECK(wait_done(P, blk, WAIT_MS) == SCHED_DONE);
    sched_stats(P, &s);
    CHECK(s.timed_out == 3 && s.failed == 3 && s.completed == 4);
    CHECK(s.cancelled == 0 && s.started == 7 && s.submitted == 7);
    sched_free(P);
}

/* Exact counts after a known mix; then the same numbers in the text. */
static const char *const text_keys[] = {
    "submitted", "started", "completed", "failed", "cancelled",
    "queue_delay_last_ns", "run_time_last_ns", "queued", "running",
    "workers", "timed_out", "queue_delay_max_ns", "run_time_max_ns",
    "queue_delay_p50_ns", "queue_delay_p90_ns", "queue_delay_p99_ns",
    "queue_delay_p999_ns", "run_time_p50_ns", "run_time_p90_ns",
    "run_time_p99_ns", "run_time_p999_ns"};
#define NKEYS (sizeof text_keys / sizeof text_keys[0])

/* Parse 'text' as NKEYS "key=N\n" lines in text_keys order; 0 on success. */
static int parse_text(const char *text, int64_t vals[NKEYS]) {
    const char *s = text;
    size_t k;
    for (k = 0; k < NKEYS; k++) {
        size_t n = strlen(text_keys[k]);
        char *end;
        if (strncmp(s, text_keys[k], n) != 0 || s[n] != '=') {
            return -1;
        }
        s += n + 1;
        if (*s < '0' || *s > '9') {
            return -1;
        }
        vals[k] = strtoll(s, &end, 10);
        if (*end != '\n') {
            return -1;
        }
        s = end + 1;
    }
    return *s == '\0' ? 0 : -1;
}

static void test_stats_exact_and_text(void) {
    mem_Heap M;
    sched_Pool *P;
    sched_Stats s;
    sbuf b;
    Probe g1, g2, spin;
    uint64_t ids[16], run_cancel, tmo;
    int64_t vals[NKEYS], long_ms = 100000;
    int i, n = 0;
    mem_init(&M);
    probe_init(&g1);
    probe_init(&g2);
    probe_init(&spin);
    P = sched_new(&M, 2, NULL);
    sched_stats(P, &s);
    CHECK(s.submitted == 0 && s.workers == 2 && s.queue_delay_p50_ns == 0);
    ids[n++] = sched_submit(P, "g1", job_gate, &g1, 0, 0);
    ids[n++] = sched_submit(P, "g2", job_gate, &g2, 0, 0);
    CHECK(wait_started(P, ids[0], WAIT_MS) == SCHED_RUNNING);
    CHECK(wait_started(P, ids[1], WAIT_MS) == SCHED_RUNNING);
    for (i = 0; i < 3; i++) {
        ids[n++] = sched_submit(P, "ok", job_ok, NULL, 0, 0);
    }
    for (i = 0; i < 2; i++) {
        ids[n++] = sched_submit(P, "fail", job_fail, NULL, 0, 0);
    }
    for (i = 0; i < 3; i++) {
        uint64_t v = sched_submit(P, "victim", job_ok, NULL, 0, 0);
        CHECK(sched_cancel(P, v) == SCHED_CANCEL_DEQUEUED);
        ids[n++] = v;
    }
    /* released while queued: cancelled too, and the id is gone */
    CHECK(sched_release(P, sched_submit(P, "dropped", job_ok, NULL, 0, 0)) ==
          SCHED_RELEASED);
    s = wait_nstarted(P, 2);
    CHECK(s.submitted == 11 && s.started == 2 && s.running == 2);
    CHECK(s.queued == 5 && s.cancelled == 4 && s.completed == 0);
    atomic_store(&g1.gate, 1);
    atomic_store(&g2.gate, 1);
    for (i = 0; i < n; i++) {
        CHECK(wait_done(P, ids[i], WAIT_MS) >= SCHED_DONE);
    }
    run_cancel = sched_submit(P, "spin", job_gate, &spin, 0, 0);
    CHECK(wait_started(P, run_cancel, WAIT_MS) == SCHED_RUNNING);
    CHECK(sched_cancel(P, run_cancel) == SCHED_CANCEL_PENDING);
    CHECK(wait_done(P, run_cancel, WAIT_MS) == SCHED_CANCELLED);
    tmo = sched_submit(P, "tmo", sched_job_sleep_ms, &long_ms, 2 * MS, 0);
    CHECK(wait_done(P, tmo, WAIT_MS) == SCHED_FAILED);
    sched_stats(P, &s);
    CHECK(s.submitted == 13);
    CHECK(s.started == 2 + 3 + 2 + 2);
    CHECK(s.completed == 2 + 3);
    CHECK(s.failed == 2 + 1);
    CHECK(s.timed_out == 1);
    CHECK(s.cancelled == 3 + 1 + 1);
    CHECK(s.queued == 0 && s.running == 0 && s.workers == 2);
    CHECK(s.run_time_last_ns >= 2 * MS); /* the timed-out sleeper was last */
    CHECK(s.run_time_max_ns >= s.run_time_last_ns);
    CHECK(s.queue_delay_max_ns >= s.queue_delay_last_ns);
    CHECK(s.queue_delay_p50_ns <= s.queue_delay_p90_ns);
    CHECK(s.queue_delay_p90_ns <= s.queue_delay_p99_ns);
    CHECK(s.queue_delay_p99_ns <= s.queue_delay_p999_ns);
    CHECK(s.queue_delay_p999_ns <= s.queue_delay_max_ns);
    CHECK(s.run_time_p50_ns <= s.run_time_p90_ns);
    CHECK(s.run_time_p90_ns <= s.run_time_p99_ns);
    CHECK(s.run_time_p99_ns <= s.run_time_p999_ns);
    CHECK(s.run_time_p999_ns <= s.run_time_max_ns);
    CHECK(s.run_time_p999_ns > 0);
    /* the text: exact keys, order, "\n" endings, same numbers */
    sbuf_init(&b);
    CHECK(sched_stats_text(P, &b) == 0);
    CHECK(b.len > 0 && b.p[b.len - 1] == '\n');
    CHECK(parse_text(b.p, vals) == 0);
    CHECK(strncmp(b.p, "submitted=13\nstarted=9\ncompleted=5\nfailed=3\n"
                       "cancelled=5\nqueue_delay_last_ns=",
                  strlen("submitted=13\nstarted=9\ncompleted=5\nfailed=3\n"
                         "cancelled=5\nqueue_delay_last_ns=")) == 0);
    CHECK(vals[5] == s.queue_delay_last_ns && vals[6] == s.run_time_last_ns);
    CHECK(vals[7] == 0 && vals[8] == 0 && vals[9] == 2 && vals[10] == 1);
    CHECK(vals[11] == s.queue_delay_max_ns && vals[12] == s.run_time_max_ns);
    CHECK(vals[13] == s.queue_delay_p50_ns);
    CHECK(vals[16] == s.queue_delay_p999_ns);
    CHECK(vals[17] == s.run_time_p50_ns && vals[20] == s.run_time_p999_ns);
    sbuf_free(&b);
    sched_free(P);
    CHECK(M.bytes == 0);
}

/* Run time of 3 ms sleepers: the percentiles are at least 3 ms.  Four
** gate jobs hold the four workers while the 40 sleepers are queued and
** for 3 ms more, so every job runs at least 3 ms and every sleeper waits
** at least 3 ms in the queue, however the OS schedules the threads. */
static void test_percentiles(void) {
    mem_Heap M;
    sched_Pool *P;
    sched_Stats s;
    Probe gate;
    uint64_t ids[40], gates[4];
    int64_t ms = 3;
    int i;
    mem_init(&M);
    probe_init(&gate);
    P = sched_new(&M, 4, NULL);
    for (i = 0; i < 4; i++) {
        gates[i] = sched_submit(P, "gate", job_gate, &gate, 0, 0);
    }
    for (i = 0; i < 4; i++) {
        CHECK(wait_started(P, gates[i], WAIT_MS) == SCHED_RUNNING);
    }
    for (i = 0; i < 40; i++) {
        ids[i] = sched_submit(P, "sleep3", sched_job_sleep_ms, &ms, 0, 0);
    }
    nap_ns(3 * MS);
    atomic_store(&gate.gate, 1);
    for (i = 0; i < 4; i++) {
        CHECK(wait_done(P, gates[i], WAIT_MS) == SCHED_DONE);
        sched_release(P, gates[i]);
    }
    for (i = 0; i < 40; i++) {
        CHECK(wait_done(P, ids[i], WAIT_MS) == SCHED_DONE);
        sched_release(P, ids[i]);
    }
    sched_stats(P, &s);
    CHECK(s.completed == 44);
    CHECK(s.run_time_p50_ns >= 3 * MS);
    CHECK(s.run_time_p999_ns == s.run_time_max_ns ||
          s.run_time_max_ns - s.run_time_p999_ns <= s.run_time_max_ns / 128);
    CHECK(s.queue_delay_max_ns >= 3 * MS);
    CHECK(s.queue_delay_p50_ns <= s.queue_delay_max_ns);
    sched_free(P);
}

static void test_two_pools(void) {
    mem_Heap MA, MB;
    sched_Pool *A, *B;
    sched_Stats sa, sb;
    uint64_t a1, b1, b2;
    mem_init(&MA);
    mem_init(&MB);
    A = sched_new(&MA, 1, NULL);
    B = sched_new(&MB, 0, NULL);
    a1 = sched_submit(A, "a", job_ok, NULL, 0, 0);
    b1 = sched_submit(B, "b", job_ok, NULL, 0, 0);
    b2 = sched_submit(B, "b", job_ok, NULL, 0, 0);
    CHECK(a1 == 1 && b1 == 1 && b2 == 2); /* ids are per pool */
    CHECK(wait_done(A, a1, WAIT_MS) == SCHED_DONE);
    CHECK(sched_try_result(B, b1, NULL) == SCHED_QUEUED);
    CHECK(sched_try_result(A, b2, NULL) == SCHED_EUNKNOWN);
    CHECK(sched_cancel(B, b1) == SCHED_CANCEL_DEQUEUED);
    CHECK(sched_try_result(A, a1, NULL) == SCHED_DONE);
    sched_stats(A, &sa);
    sched_stats(B, &sb);
    CHECK(sa.submitted == 1 && sa.completed == 1 && sa.cancelled == 0);
    CHECK(sa.workers == 1 && sa.queued == 0);
    CHECK(sb.submitted == 2 && sb.completed == 0 && sb.cancelled == 1);
    CHECK(sb.workers == 0 && sb.queued == 1 && sb.started == 0);
    CHECK(MA.nalloc > 0 && MB.nalloc > 0); /* each pool used its own heap */
    sched_free(A);
    CHECK(sched_try_result(B, b2, NULL) == SCHED_QUEUED);
    sched_free(B);
    CHECK(MA.bytes == 0 && MB.bytes == 0);
}

static void test_zero_workers(void) {
    mem_Heap M;
    sched_Pool *P;
    sched_Stats s;
    uint64_t ids[5];
    int i;
    mem_init(&M);
    P = sched_new(&M, 0, NULL);
    CHECK(P != NULL);
    for (i = 0; i < 5; i++) {
        ids[i] = sched_submit(P, "q", job_ok, NULL, 0, (uint64_t)(i % 2));
        CHECK(ids[i] == (uint64_t)(i + 1));
    }
    nap_ns(2 * MS);
    for (i = 0; i < 5; i++) {
        CHECK(sched_try_result(P, ids[i], NULL) == SCHED_QUEUED);
    }
    sched_stats(P, &s);
    CHECK(s.queued == 5 && s.started == 0 && s.workers == 0);
    CHECK(s.running == 0 && s.queue_delay_p50_ns == 0);
    CHECK(sched_cancel_owner(P, 1) == 2); /* ids 2 and 4 */
    CHECK(sched_try_result(P, ids[1], NULL) == SCHED_CANCELLED);
    CHECK(sched_try_result(P, ids[3], NULL) == SCHED_CANCELLED);
    CHECK(sched_cancel_owner(P, 1) == 0);
    CHECK(sched_release(P, ids[0]) == SCHED_RELEASED);
    sched_stats(P, &s);
    CHECK(s.queued == 2 && s.cancelled == 3);
    sched_free(P); /* the two still queued are cancelled */
    CHECK(M.bytes == 0 && M.nalloc == M.nfree);
}

/* Waits (sched_submit_wait): RUNNING at once with no worker, DONE at their
** deadline in deadline order whatever the submit order, cancel and release
** exact and immediate, counted in the stats, cancelled by sched_free,
** nothing leaked.  Deadlines are an hour or 1..5 ms; only "done after"
** (never "done by") is checked. */
static void test_waits(void) {
    mem_Heap M;
    sched_Pool *P;
    sched_Stats s;
    sched_JobInfo info;
    uint64_t ids[200], hour;
    int i, res = -1;
    mem_init(&M);
    P = sched_new(&M, 0, NULL); /* no worker: waits need none */
    CHECK(P != NULL);
    for (i = 0; i < 200; i++) { /* deadlines 5, 4, 3, 2, 1 ms, repeated */
        ids[i] = sched_submit_wait(P, "w", (int64_t)(5 - i % 5) * MS, 7);
        CHECK(ids[i] != 0);
        CHECK(sched_try_result(P, ids[i], NULL) >= SCHED_RUNNING);
    }
    hour = sched_submit_wait(P, NULL, 3600 * INT64_C(1000000000), 8);
    CHECK(sched_info(P, hour, &info) == 0 && info.status == SCHED_RUNNING);
    CHECK(strcmp(info.name, "wait") == 0 && info.start_ns == info.submit_ns);
    sched_stats(P, &s);
    CHECK(s.submitted == 201 && s.started == 201 && s.queued == 0);
    CHECK(s.running + s.completed == 201);
    for (i = 0; i < 200; i++) {
        CHECK(wait_done(P, ids[i], WAIT_MS));
        CHECK(sched_try_result(P, ids[i], &res) == SCHED_DONE && res == 0);
        CHECK(sched_info(P, ids[i], &info) == 0);
        CHECK(info.end_ns - info.start_ns == (int64_t)(5 - i % 5) * MS);
    }
    CHECK(sched_try_result(P, hour, NULL) == SCHED_RUNNING);
    CHECK(sched_cancel(P, hour) == SCHED_CANCEL_DEQUEUED);
    CHECK(sched_try_result(P, hour, NULL) == SCHED_CANCELLED); /* at once */
    CHECK(sched_cancel(P, hour) == SCHED_CANCEL_NOOP);
    sched_stats(P, &s);
    CHECK(s.completed == 200 && s.cancelled == 1 && s.running == 0);
    CHECK(s.queue_delay_max_ns == 0 && s.run_time_max_ns >= 5 * MS);
    for (i = 0; i < 200; i++) {
        CHECK(sched_release(P, ids[i]) == SCHED_RELEASED);
    }
    CHECK(sched_release(P, hour) == SCHED_RELEASED);
    /* release and cancel_owner of pending waits; free cancels the rest */
    ids[0] = sched_submit_wait(P, "w", 3600 * INT64_C(1000000000), 9);
    ids[1] = sched_submit_wait(P, "w", 3600 * INT64_C(1000000000), 9);
    ids[2] = sched_submit_wait(P, "w", 3600 * INT64_C(1000000000), 10);
    ids[3] = sched_submit_wait(P, "w", 3600 * INT64_C(1000000000), 11);
    CHECK(sched_release(P, ids[0]) == SCHED_RELEASED);
    CHECK(sched_try_result(P, ids[0], NULL) == SCHED_EUNKNOWN);
    CHECK(sched_cancel_owner(P, 9) == 1 && sched_cancel_owner(P, 10) == 1);
    sched_stats(P, &s);
    CHECK(s.cancelled == 4 && s.running == 1);
    sched_free(P);
    CHECK(M.bytes == 0 && M.nalloc == M.nfree);
}

/* sched_free with 1000 queued jobs and two running ones (a sleeper and a
** poller) cancels them all.  The jobs sleep for an hour, longer than
** ctest's timeout, so a free that ran a queued job or waited for a
** sleeper would fail the test by hanging; how long it takes is a figure
** of bench/sched_bench.c. */
static void test_free_cancels(void) {
    mem_Heap M;
    sched_Pool *P;
    sched_Stats s;
    Probe spin;
    int64_t long_ms = 3600000;
    uint64_t a, b;
    int i;
    mem_init(&M);
    probe_init(&spin);
    P = sched_new(&M, 2, NULL);
    a = sched_submit(P, "sleep", sched_job_sleep_ms, &long_ms, 0, 0);
    b = sched_submit(P, "spin", job_gate, &spin, 0, 0);
    for (i = 0; i < 1000; i++) {
        CHECK(sched_submit(P, "sleep", sched_job_sleep_ms, &long_ms, 0, 0) !=
              0);
    }
    CHECK(wait_started(P, a, WAIT_MS) == SCHED_RUNNING);
    CHECK(wait_started(P, b, WAIT_MS) == SCHED_RUNNING);
    sched_stats(P, &s);
    CHECK(s.queued == 1000 && s.running == 2);
    sched_free(P);
    CHECK(M.bytes == 0 && M.nalloc == M.nfree);
}

/* After warm-up, submit/complete/release cycles allocate nothing, and so
** do release-while-running cycles (zombies are reaped and reused). */
static void test_no_alloc_steady(void) {
    mem_Heap M;
    sched_Pool *P;
    sched_Stats s;
    Probe spin;
    uint64_t ids[8], n0;
    int i, k, bad = 0;
    mem_init(&M);
    probe_init(&spin);
    P = sched_new(&M, 2, NULL);
    for (i = 0; i < 300; i++) { /* warm-up: grow records and id table */
        for (k = 0; k < 8; k++) {
            ids[k] = sched_submit(P, "w", job_ok, NULL, 0, 0);
        }
        for (k = 0; k < 8; k++) {
            wait_done(P, ids[k], WAIT_MS);
            sched_release(P, ids[k]);
        }
    }
    n0 = M.nalloc;
    for (i = 0; i < 10000; i++) {
        uint64_t id = sched_submit(P, "steady", job_ok, NULL, 0, 0);
        int st;
        while ((st = sched_try_result(P, id, NULL)) < SCHED_DONE) {
            sched_yield(); /* a loaded machine may have no spare CPU */
        }
        bad += st != SCHED_DONE;
        bad += sched_release(P, id) != SCHED_RELEASED;
    }
    CHECK(bad == 0);
    CHECK(M.nalloc == n0);
    /* zombies: release running jobs, let them end, repeat */
    for (i = 0; i < 200; i++) {
        uint64_t id = sched_submit(P, "z", job_gate, &spin, 0, 0);
        if (wait_started(P, id, WAIT_MS) != SCHED_RUNNING) {
            bad++;
        }
        bad += sched_release(P, id) != SCHED_RELEASE_DEFERRED;
    }
    wait_books(P); /* let them end */
    n0 = M.nalloc;
    for (i = 0; i < 2000; i++) {
        uint64_t id = sched_submit(P, "z", job_gate, &spin, 0, 0);
        if (wait_started(P, id, WAIT_MS) != SCHED_RUNNING) {
            bad++;
        }
        bad += sched_release(P, id) != SCHED_RELEASE_DEFERRED;
    }
    CHECK(bad == 0);
    CHECK(M.nalloc == n0);
    s = wait_books(P);
    CHECK(s.submitted == 2400 + 10000 + 2200);
    CHECK(s.completed == 2400 + 10000 && s.cancelled == 2200);
    sched_free(P);
    CHECK(M.bytes == 0);
}

/* Allocation failure in submit returns 0 and leaves the pool usable. */
static void test_submit_oom(void) {
    mem_Heap M;
    sched_Pool *P;
    uint64_t id;
    mem_init(&M);
    P = sched_new(&M, 1, NULL);
    M.fail_after = 1; /* the id table */
    CHECK(sched_submit(P, "x", job_ok, NULL, 0, 0) == 0);
    M.fail_after = 2; /* the first record chunk */
    CHECK(sched_submit(P, "x", job_ok, NULL, 0, 0) == 0);
    M.fail_after = 0;
    id = sched_submit(P, "x", job_ok, NULL, 0, 0);
    CHECK(id == 1);
    CHECK(wait_done(P, id, WAIT_MS) == SCHED_DONE);
    sched_free(P);
    CHECK(M.bytes == 0 && M.nalloc == M.nfree);
}

static int job_sleep_ns_direct(void *arg, const sched_Cancel *c) {
    (void)arg;
    if (sched_sleep_ns(c, 0) != 0 || sched_sleep_ns(c, -5) != 0) {
        return 1;
    }
    return sched_sleep_ns(c, 4 * MS);
}

static void test_sleep_accuracy(void) {
    mem_Heap M;
    sched_Pool *P;
    sched_JobInfo ji;
    uint64_t id;
    mem_init(&M);
    P = sched_new(&M, 1, NULL);
    id = sched_submit(P, "sleep", job_sleep_ns_direct, NULL, 0, 0);
    CHECK(wait_done(P, id, WAIT_MS) == SCHED_DONE);
    CHECK(sched_info(P, id, &ji) == 0);
    CHECK(ji.end_ns - ji.start_ns >= 4 * MS);
    sched_free(P);
}

/* With the host's clock (clock.h): job times are on it, and a job's submit
** is stamped before a worker can see it, even when another thread of the
** host has raised the clock ahead of the raw monotonic clock. */
static void test_clock(void) {
    mem_Heap M;
    sched_Pool *P;
    sched_JobInfo ji;
    clk_Clock k = {0};
    uint64_t ids[200];
    int64_t ahead = 0;
    int i;
    mem_init(&M);
    P = sched_new(&M, 2, NULL);
    CHECK(P != NULL);
    sched_set_clock(P, &k);
    for (i = 0; i < 200; i++) {
        if (i == 100) { /* like an in-tick stamp that runs ahead */
            ahead = clk_raise(&k, lispbt_now_ns() + 50 * MS);
        }
        ids[i] = sched_submit(P, "clock", job_ok, NULL, 0, 0);
        CHECK(ids[i] != 0);
    }
    for (i = 0; i < 200; i++) {
        CHECK(wait_done(P, ids[i], 10000) == SCHED_DONE);
        CHECK(sched_info(P, ids[i], &ji) == 0);
        CHECK(ji.submit_ns <= ji.start_ns && ji.start_ns <= ji.end_ns);
        CHECK(i < 100 || ji.submit_ns >= ahead);
        CHECK(sched_release(P, ids[i]) == SCHED_RELEASED);
    }
    sched_free(P);
    CHECK(M.bytes == 0);
}

/* More jobs than the ring holds (SCHED_RING, 4096) queued behind a blocked
** worker: the rest overflow to the FIFO.  Cancels hit both parts; the
** cancelled jobs' records are released and reused by new jobs while their
** stale ring entries are still queued.  Every job not cancelled runs once,
** in submission order; no cancelled job runs; the books balance. */
#define NORDER 6000
#define NEXTRA 500
typedef struct Order {
    _Atomic int *seq;
    _Atomic int at; /* start rank + 1, 0 = never ran */
} Order;

static int job_order(void *arg, const sched_Cancel *c) {
    Order *o = arg;
    (void)c;
    atomic_store(&o->at, atomic_fetch_add(o->seq, 1) + 1);
    return 0;
}

static void test_ring_overflow(void) {
    static Order ord[NORDER + NEXTRA];
    static uint64_t ids[NORDER + NEXTRA];
    mem_Heap M;
    sched_Pool *P;
    sched_Stats s;
    Probe blocker;
    _Atomic int seq;
    uint64_t b;
    int i, last, ncancel = 0, inorder = 1, cancelled_ran = 0, ran_twice = 0;
    mem_init(&M);
    probe_init(&blocker);
    atomic_init(&seq, 0);
    P = sched_new(&M, 1, NULL);
    b = sched_submit(P, "blocker", job_gate, &blocker, 0, 1);
    CHECK(wait_started(P, b, WAIT_MS) == SCHED_RUNNING);
    for (i = 0; i < NORDER + NEXTRA; i++) {
        ord[i].seq = &seq;
        atomic_init(&ord[i].at, 0);
    }
    for (i = 0; i < NORDER; i++) {
        ids[i] = sched_submit(P, "order", job_order, &ord[i], 0, 2);
    }
    for (i = 3; i < NORDER; i += 7) { /* in the ring and in the FIFO */
        CHECK(sched_cancel(P, ids[i]) == SCHED_CANCEL_DEQUEUED);
        CHECK(sched_release(P, ids[i]) == SCHED_RELEASED);
        ncancel++;
    }
    for (i = NORDER; i < NORDER + NEXTRA; i++) { /* reuse those records */
        ids[i] = sched_submit(P, "order", job_order, &ord[i], 0, 2);
    }
    atomic_store(&blocker.gate, 1);
    CHECK(wait_done(P, ids[NORDER + NEXTRA - 1], WAIT_MS) == SCHED_DONE);
    s = wait_books(P);
    CHECK(s.submitted == (uint64_t)(NORDER + NEXTRA + 1));
    CHECK(s.cancelled == (uint64_t)ncancel);
    CHECK(s.completed == (uint64_t)(NORDER + NEXTRA + 1 - ncancel));
    CHECK(s.queued == 0);
    last = 0;
    for (i = 0; i < NORDER + NEXTRA; i++) {
        int at = atomic_load(&ord[i].at);
        if (i < NORDER && i % 7 == 3) {
            cancelled_ran += at != 0;
            continue;
        }
        if (at <= last) {
            inorder = 0;
        }
        last = at;
    }
    ran_twice = atomic_load(&seq) != NORDER + NEXTRA - ncancel;
    CHECK(cancelled_ran == 0);
    CHECK(inorder);
    CHECK(!ran_twice);
    sched_free(P);
    CHECK(M.bytes == 0);
}

int main(void) {
    test_names();
    test_clock();
    test_new_errors();
    test_lifecycle();
    test_cancel_before_start();
    test_ring_overflow();
    test_cancel_running();
    test_timeout();
    test_stats_exact_and_text();
    test_percentiles();
    test_two_pools();
    test_zero_workers();
    test_waits();
    test_free_cancels();
    test_no_alloc_steady();
    test_submit_oom();
    test_sleep_accuracy();
    return ctest_done();
}
