/*
** test_sched_stress.c -- randomized stress of the scheduler, meant to run
** under -fsanitize=thread and -fsanitize=address,undefined.
** See LICENSE for copyright.
**
** One owner thread drives several pools at once with a random mix of
** submit (quick, failing, sleeping, polling, non-polling, with and without
** timeouts), try_result, info, cancel, cancel_owner, release (of queued,
** running and finished jobs) and stats; pools are freed and recreated with
** jobs in flight.  Every API answer is checked against the job life cycle,
** and a drained pool must account for every job exactly once:
** submitted == completed + failed + cancelled.
*/
#include "conf.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "sbuf.h"
#include "sched.h"

#include "ctest.h"

#define MS (INT64_C(1000000))
#define NPOOLS 3
#define MAXLIVE 512

static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

/* xorshift64*: deterministic, local to the test */
static uint64_t rnd(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static int rndn(int n) {
    return (int)(rnd() % (uint64_t)n);
}

static void nap_ns(int64_t ns) {
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    nanosleep(&ts, NULL);
}

/* --- jobs; their args are static or live in the Slot below -------------- */

static const int64_t sleep_ms[3] = {0, 1, 2};

static int job_ok(void *arg, const sched_Cancel *c) {
    (void)arg;
    (void)c;
    return 0;
}

static int job_fail(void *arg, const sched_Cancel *c) {
    (void)arg;
    (void)c;
    return 3;
}

static int job_spin_nopoll(void *arg, const sched_Cancel *c) {
    int64_t until = lispbt_now_ns() + 20000;
    (void)arg;
    (void)c;
    while (lispbt_now_ns() < until) {
    }
    return 0;
}

/* Polls until cancelled, timed out, or its pool's gate opens. */
static int job_poll(void *arg, const sched_Cancel *c) {
    _Atomic int *gate = arg;
    while (!atomic_load_explicit(gate, memory_order_relaxed)) {
        if (sched_cancelled(c)) {
            return 1;
        }
        nap_ns(20000);
    }
    return 0;
}

typedef struct Slot {
    mem_Heap M;
    sched_Pool *P;
    int workers;
    _Atomic int gate;
    uint64_t live[MAXLIVE];
    int nlive;
} Slot;

static void slot_open(Slot *s) {
    static const int choices[4] = {0, 1, 2, 3};
    int err = 1;
    mem_init(&s->M);
    s->workers = choices[rndn(4)];
    atomic_store(&s->gate, 1);
    s->P = sched_new(&s->M, s->workers, &err);
    CHECK(s->P != NULL && err == 0);
    s->nlive = 0;
}

static void slot_close(Slot *s) {
    sched_free(s->P);
    s->P = NULL;
    CHECK(s->M.bytes == 0 && s->M.nalloc == s->M.nfree);
}

static void drop_live(Slot *s, int k) {
    s->live[k] = s->live[--s->nlive];
}

static void op_submit(Slot *s) {
    uint64_t id;
    int64_t tmo = rndn(4) == 0 ? 500000 : 0;
    uint64_t owner = (uint64_t)rndn(4);
    if (s->nlive == MAXLIVE) {
        return;
    }
    switch (rndn(8)) {
    case 0:
        id = sched_submit(s->P, "ok", job_ok, NULL, tmo, owner);
        break;
    case 1:
        id = sched_submit(s->P, "fail", job_fail, NULL, tmo, owner);
        break;
    case 2:
        id = sched_submit(s->P, "sleep", sched_job_sleep_ms,
                          (void *)&sleep_ms[rndn(3)], tmo, owner);
        break;
    case 3:
        id = sched_submit(s->P, "spin", job_spin_nopoll, NULL, tmo, owner);
        break;
    case 4:
    case 5:
    case 6:
        id = sched_submit(s->P, "ok", job_ok, NULL, 0, owner);
        break;
    default:
        id = sched_submit(s->P, "poll", job_poll, &s->gate, tmo, owner);
        break;
    }
    CHECK(id != 0);
    s->live[s->nlive++] = id;
}

static void op_poll(Slot *s) {
    int k, st, rc = -77;
    if (s->nlive == 0) {
        return;
    }
    k = rndn(s->nlive);
    st = sched_try_result(s->P, s->live[k], &rc);
    CHECK(st >= SCHED_QUEUED && st <= SCHED_CANCELLED);
    if (st >= SCHED_DONE) {
        CHECK(rc != -77);
        CHECK(st != SCHED_DONE || rc == 0);
        CHECK(sched_release(s->P, s->live[k]) == SCHED_RELEASED);
        CHECK(sched_try_result(s->P, s->live[k], NULL) == SCHED_EUNKNOWN);
        drop_live(s, k);
    } else {
        CHECK(rc == -77);
    }
}

static void op_info(Slot *s) {
    sched_JobInfo ji;
    int k;
    if (s->nlive == 0) {
        return;
    }
    k = rndn(s->nlive);
    CHECK(sched_info(s->P, s->live[k], &ji) == 0);
    CHECK(ji.id == s->live[k] && ji.submit_ns > 0);
    if (ji.status == SCHED_QUEUED) {
        CHECK(ji.start_ns == 0 && ji.end_ns == 0);
    } else if (ji.status == SCHED_RUNNING) {
        CHECK(ji.start_ns >= ji.submit_ns && ji.end_ns == 0);
    } else {
        CHECK(ji.end_ns >= ji.start_ns);
        CHECK(ji.start_ns == 0 || ji.start_ns >= ji.submit_ns);
        CHECK(!ji.timed_out || ji.status == SCHED_FAILED);
        CHECK(!ji.timed_out || ji.timeout_ns > 0);
    }
}

static void op_cancel(Slot *s) {
    int k, r, st;
    if (s->nlive == 0) {
        return;
    }
    k = rndn(s->nlive);
    r = sched_cancel(s->P, s->live[k]);
    st = sched_try_result(s->P, s->live[k], NULL);
    if (r == SCHED_CANCEL_DEQUEUED) {
        CHECK(st == SCHED_CANCELLED);
    } else if (r == SCHED_CANCEL_PENDING) {
        CHECK(st >= SCHED_RUNNING); /* running, or already ended */
    } else {
        CHECK(r == SCHED_CANCEL_NOOP && st >= SCHED_DONE);
    }
}

static void op_release(Slot *s) {
    int k, r;
    if (s->nlive == 0) {
        return;
    }
    k = rndn(s->nlive);
    r = sched_release(s->P, s->live[k]);
    CHECK(r == SCHED_RELEASED || r == SCHED_RELEASE_DEFERRED);
    CHECK(sched_info(s->P, s->live[k], &(sched_JobInfo){0}) ==
          SCHED_EUNKNOWN);
    drop_live(s, k);
}

static void op_stats(Slot *s) {
    sched_Stats st;
    sbuf b;
    sched_stats(s->P, &st);
    CHECK(st.workers == (uint64_t)s->workers);
    CHECK(st.running <= st.workers);
    CHECK(st.completed + st.failed + st.cancelled <= st.submitted);
    CHECK(st.timed_out <= st.failed);
    sbuf_init(&b);
    CHECK(sched_stats_text(s->P, &b) == 0);
    CHECK(b.len > 0 && strncmp(b.p, "submitted=", 10) == 0);
    sbuf_free(&b);
}

/* Cancel everything, wait for every job to end, release, and check that
** each submitted job was counted exactly once. */
static void drain_and_check(Slot *s) {
    sched_Stats st;
    int k;
    int64_t until = lispbt_now_ns() + 5000 * MS;
    if (s->workers == 0) {
        return; /* nothing would ever run; sched_free cancels the queue */
    }
    /* let the queue run down for a while, then cancel what is left */
    atomic_store(&s->gate, 1);
    for (k = 0; k < 200; k++) {
        sched_stats(s->P, &st);
        if (st.queued == 0) {
            break;
        }
        nap_ns(100000);
    }
    for (k = 0; k < 4; k++) {
        sched_cancel_owner(s->P, (uint64_t)k);
    }
    while (s->nlive > 0 && lispbt_now_ns() < until) {
        int st2 = sched_try_result(s->P, s->live[s->nlive - 1], NULL);
        if (st2 >= SCHED_DONE) {
            CHECK(sched_release(s->P, s->live[s->nlive - 1]) == SCHED_RELEASED);
            s->nlive--;
        } else {
            nap_ns(20000);
        }
    }
    CHECK(s->nlive == 0);
    /* released-while-running jobs may still be finishing */
    for (;;) {
        sched_stats(s->P, &st);
        if (st.completed + st.failed + st.cancelled == st.submitted ||
            lispbt_now_ns() > until) {
            break;
        }
        nap_ns(20000);
    }
    CHECK(st.completed + st.failed + st.cancelled == st.submitted);
    CHECK(st.queued == 0 && st.running == 0);
    CHECK(st.started + st.cancelled >= st.submitted);
}

int main(void) {
    Slot slots[NPOOLS];
    int round, i, p;
    int64_t t0 = lispbt_now_ns();
    for (p = 0; p < NPOOLS; p++) {
        slot_open(&slots[p]);
    }
    for (round = 0; round < 30; round++) {
        for (i = 0; i < 10000; i++) {
            Slot *s = &slots[rndn(NPOOLS)];
            int r = rndn(100);
            if ((i & 63) == 0) {
                nap_ns(20000); /* let the workers catch up a little */
            }
            if (r < 40) {
                op_submit(s);
            } else if (r < 72) {
                op_poll(s);
            } else if (r < 78) {
                op_cancel(s);
            } else if (r < 83) {
                op_release(s);
            } else if (r < 90) {
                op_info(s);
            } else if (r < 92) {
                op_stats(s);
            } else if (r < 93) {
                sched_cancel_owner(s->P, (uint64_t)rndn(4));
            } else if (r < 94) {
                atomic_store(&s->gate, !atomic_load(&s->gate));
            } else if (r < 95 && rndn(50) == 0) {
                slot_close(s); /* jobs in flight */
                slot_open(s);
            }
        }
        p = rndn(NPOOLS);
        if (round % 3 == 0) {
            drain_and_check(&slots[p]);
        }
        slot_close(&slots[p]);
        slot_open(&slots[p]);
    }
    for (p = 0; p < NPOOLS; p++) {
        drain_and_check(&slots[p]);
        slot_close(&slots[p]);
    }
    printf("stress: %.2f s\n", (double)(lispbt_now_ns() - t0) / 1e9);
    return ctest_done();
}
