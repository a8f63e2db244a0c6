/*
** sched.c -- per-host worker-thread scheduler: records, the queue and its
** wakeups, workers, pool life, the owner API and the job side; the types
** are in sched_int.h, the statistics in sched_stats.c.  See sched.h for
** the API and docs/scheduler.md for the prose.  See LICENSE for copyright.
**
** Invariants, and why the code is shaped the way it is.
**
** 1. Two kinds of thread.  The *owner* thread calls every sched_* API
**    function; it alone allocates (through the host's mem_Heap), issues ids,
**    and edits the id table, the free list and the zombie list, so none of
**    those needs a lock.  *Workers* only pop jobs, run them and publish the
**    outcome; they never call mem_*, never look a job up by id and never
**    recycle a record.
**
** 2. Function jobs queue in a bounded ring of (record, id) entries
**    (SCHED_RING), single producer (the owner) and lock-free consumers:
**    a worker takes the entry at 'rhead' with one CAS on 'rhead', then the
**    job with a CAS of its status word (id, QUEUED) -> (id, STARTING)
**    (invariant 3).  A cancel of a queued ring job is the owner's CAS
**    (id, QUEUED) -> (id, CANCELLED) on the same word, so exactly one side
**    wins: a cancelled job never runs, a claimed one reports "started".
**    The entry stays in the ring; the worker that reaches it fails its CAS
**    and skips it.  The id in the word is what makes that safe: the
**    cancelled record may have been released and reused for a newer job
**    whose word holds another id.  The owner reuses an entry only after
**    an acquire-load of 'rhead' has shown it taken (a worker's CAS on
**    'rhead' is a release, after its reads of the entry).
**    When the ring is full the owner pushes on 'incoming', a lock-free
**    LIFO stack (one CAS; only it pushes, consumers take the whole stack
**    with one exchange: no ABA), and keeps doing so until every job on it
**    has been popped ('novf'), so jobs start in submission order.  One
**    mutex 'mu' guards the FIFO that the stack drains into (doubly linked
**    through 'next' and 'prev', so a cancel unlinks in O(1)), the sleeper
**    bookkeeping and the stop flag; a worker pops the FIFO only when the
**    ring is empty.  (Before the ring, every pop took 'mu'; before the
**    stack, every submit did, and a worker preempted inside its pop made
**    the pool fall into a lock convoy ~10x slower: bench/README.md.)
**    Sleeping and waking: a worker that finds nothing spins first, if it
**    is the last awake worker (SCHED_SPIN_NS with pause instructions when
**    the machine has a spare CPU per worker plus one for the owner, else
**    SCHED_SPIN_SHORT_NS calling sched_yield, so that an owner waiting for
**    this CPU runs), then sleeps on 'work_cv' -- for at most SCHED_NAP_NS
**    while another worker is awake.  The owner wakes a sleeper (maybe_wake)
**    only when every worker sleeps, when jobs overflowed, or when jobs are
**    queued and every awake worker is inside a job it started at least
**    SCHED_STUCK_NS ago, checked at its submits and polls; signals go after
**    unlocking and only while 'nidle' > 'nwake'.  No wakeup is lost: the
**    owner publishes then loads 'nidle', a worker about to sleep raises
**    'nidle' then looks at the ring and the stack (all seq_cst, a Dekker
**    handshake), so either the worker sees the job or the owner sees it
**    idle; a worker that claims a long job just after the owner looked is
**    covered by the owner's next look and by the nap.  So a
**    stream that one worker keeps up with takes no lock and makes no
**    system call per job.
**
** 3. Status lives in one atomic word with the job's id, SW(id, status),
**    the only channel by which a worker publishes a record.  Transitions:
**        QUEUED   -> STARTING           worker, CAS (ring) or under 'mu' (FIFO)
**        QUEUED   -> CANCELLED          owner, CAS (ring) or under 'mu' (FIFO)
**        STARTING -> RUNNING            worker, after stamping 'start_ns'
**        RUNNING  -> DONE|FAILED|CANCELLED   worker, no lock
**        terminal -> FREE               owner (sched_release / zombie reap)
**    STARTING lasts a few stores; users see it as RUNNING (a cancel
**    answers SCHED_CANCEL_PENDING), and sched_info, which must report
**    'start_ns', yields until it is RUNNING.  A worker stores 'start_ns'
**    before the release-store of RUNNING, and 'end_ns', 'result',
**    'timed_out' and its statistics before the release-store of the
**    terminal status, which is the last access it ever makes to the
**    record.  The owner reads those fields only after an acquire-load has
**    shown the matching status.  Hence sched_info and sched_try_result are
**    lock-free, and a record whose terminal status the owner has seen may
**    be recycled: no worker will touch it again (a stale ring entry only
**    leads to a failing CAS on the word).
**
** 4. Release of a job that is still running cannot recycle its record (a
**    worker holds it), so the record goes on the 'zombies' list, marked
**    dead by its absence from the id table, and is reaped at a safe point
**    -- when the free list runs dry in sched_submit -- once its status is
**    terminal (Redis ae's deleted timers, freed on a later loop turn).
**
** 5. Cancellation is cooperative.  Each record embeds a sched_Cancel whose
**    atomic 'flag' is set by the owner (cancel, release, free) or by the
**    job itself when sched_cancelled notices its deadline.  The first
**    reason wins (compare-and-swap from 0).  Sleepers in sched_sleep_ns
**    wait on the pool's 'sleep_cv'; whoever sets a flag broadcasts it after
**    taking 'sleep_mu', and sleepers test the flag under 'sleep_mu', so no
**    wakeup is lost.
**
** 6. Timeouts bound *run time*: deadline = start_ns + timeout_ns, set by the
**    worker when it starts the job.  They are detected on the worker side,
**    with no timer thread and no owner poll: sched_cancelled and
**    sched_sleep_ns compare the clock with the deadline and set the flag to
**    SCHED_STOP_TIMEOUT; and a job that never polls but returns after its
**    deadline is judged timed out when it returns.  A timed-out job ends
**    FAILED with 'timed_out' = 1 and counts in 'failed' and 'timed_out'.
**    A cancel requested before the timeout was noticed wins: CANCELLED.
**
** 8. Waits (sched_submit_wait) are jobs that run no code: the owner keeps
**    them in a binary min-heap by deadline ('heap', owner-only, index in
**    each record), RUNNING from submit.  No worker and no thread ever sees
**    them: whenever the owner looks (sched_info, sched_try_result,
**    sched_stats, a submit), every wait whose deadline has passed is popped
**    and ends DONE with end_ns = its deadline.  A cancel or release takes
**    a wait still in the heap out at once (CANCELLED, even if its deadline
**    passed since the owner last looked), so cancellation is exact and
**    immediate.  Their statistics go to one extra block after the workers',
**    written by the owner only (a queue delay of 0: a wait starts when it
**    is submitted).
**
** 7. Statistics live per worker (a single writer each: relaxed atomic
**    loads and stores, no read-modify-write, no shared cache line), plus
**    owner-only counters ('nsubmitted', 'nwaitsub', 'ncancelq').
**    sched_stats sums them; a worker updates its block before publishing
**    the terminal status, so once the owner has seen every job terminal
**    the sums are exact.  'queued' is computed (function jobs submitted,
**    less those cancelled while queued, less those started), so no counter
**    is shared by the owner and the workers.
**    Latencies go to fixed log-linear histograms (128 sub-buckets per power
**    of two, values 0 .. 2^41 ns), allocated once with the worker blocks.
*/
#include "sched_int.h"

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Job timestamps go through the host's clock (clock.h): the owner's raise
** it, so a worker's later stamp of the same job cannot be lower; a worker's
** only read it (no shared-line write per job). */
static int64_t stamp_now(sched_Pool *P) {
    return P->clk != NULL ? clk_now(P->clk) : lispbt_now_ns();
}

static int64_t stamp_peek(const sched_Pool *P) {
    return P->clk != NULL ? clk_peek(P->clk) : lispbt_now_ns();
}

/* A deadline 'now + ns' (ns >= 0) saturated at INT64_MAX: sleeps and
** timeouts of any length given through the C API never overflow (the
** Lisp-facing leaf bounds its own, async-sleep-ms MS <= 86400000). */
static int64_t deadline(int64_t now, int64_t ns) {
    int64_t r;
    return __builtin_add_overflow(now, ns, &r) ? INT64_MAX : r;
}

/* Status part of the word, with its ordering. */
static int job_st(const sched_Job *j, memory_order mo) {
    return SW_ST(atomic_load_explicit(&((sched_Job *)j)->sw, mo));
}

static int is_terminal(int st) {
    return st >= SCHED_DONE && st <= SCHED_CANCELLED;
}

/* What sched_try_result shows: a job whose start is being stamped has
** started (a cancel of it answers SCHED_CANCEL_PENDING). */
static int st_public(int st) {
    return st == SCHED_STARTING ? SCHED_RUNNING : st;
}

/* ---------------------------------------------------------------------
** Id table (owner-only).
** ------------------------------------------------------------------- */

static size_t tab_home(const sched_Pool *P, uint64_t id) {
    return (size_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - P->tabbits));
}

/* Slot index of 'id', or (size_t)-1. */
static size_t tab_find(const sched_Pool *P, uint64_t id) {
    size_t i, mask;
    if (P->tabcap == 0 || id == 0) {
        return (size_t)-1;
    }
    mask = P->tabcap - 1;
    for (i = tab_home(P, id);; i = (i + 1) & mask) {
        sched_Job *j = P->tab[i];
        if (j == NULL) {
            return (size_t)-1;
        }
        if (j->id == id) {
            return i;
        }
    }
}

static void tab_put(sched_Pool *P, sched_Job *j) {
    size_t mask = P->tabcap - 1, i;
    for (i = tab_home(P, j->id); P->tab[i] != NULL; i = (i + 1) & mask) {
    }
    P->tab[i] = j;
    P->tabcount++;
}

/* Make room for one more entry (load factor <= 1/2); 0 or SCHED_ENOMEM. */
static int tab_reserve(sched_Pool *P) {
    size_t ncap, i, ocap = P->tabcap;
    sched_Job **old = P->tab, **nt;
    if ((P->tabcount + 1) * 2 <= ocap) {
        return 0;
    }
    ncap = ocap ? ocap * 2 : 64;
    nt = mem_calloc(P->M, ncap * sizeof *nt);
    if (nt == NULL) {
        return SCHED_ENOMEM;
    }
    P->tab = nt;
    P->tabcap = ncap;
    P->tabbits = floorlog2(ncap);
    P->tabcount = 0;
    for (i = 0; i < ocap; i++) {
        if (old[i] != NULL) {
            tab_put(P, old[i]);
        }
    }
    mem_free(P->M, old, ocap * sizeof *old);
    return 0;
}

/* Remove slot 'i' with backward-shift deletion (no tombstones, so the
** table never needs a clean-up rehash). */
static void tab_del(sched_Pool *P, size_t i) {
    size_t mask = P->tabcap - 1, j = i, k;
    for (;;) {
        j = (j + 1) & mask;
        if (P->tab[j] == NULL) {
            break;
        }
        k = tab_home(P, P->tab[j]->id);
        /* move tab[j] into the hole unless its home lies in (i, j] */
        if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j)) {
            continue;
        }
        P->tab[i] = P->tab[j];
        i = j;
    }
    P->tab[i] = NULL;
    P->tabcount--;
}

/* ---------------------------------------------------------------------
** Records (owner-only).
** ------------------------------------------------------------------- */

/* Move zombies whose job has returned to the free list. */
static void reap_zombies(sched_Pool *P) {
    sched_Job **pp = &P->zombies;
    while (*pp != NULL) {
        sched_Job *j = *pp;
        if (is_terminal(job_st(j, ACQ))) {
            *pp = j->next;
            atomic_store_explicit(&j->sw, SW(0, SCHED_FREE), RLX);
            j->next = P->freelist;
            P->freelist = j;
        } else {
            pp = &j->next;
        }
    }
}

static sched_Job *record_get(sched_Pool *P) {
    sched_Job *j;
    if (P->freelist == NULL && P->zombies != NULL) {
        reap_zombies(P);
    }
    if (P->freelist == NULL) {
        size_t n = P->nrecords < CHUNK_MIN   ? CHUNK_MIN
                   : P->nrecords > CHUNK_MAX ? CHUNK_MAX
                                             : P->nrecords;
        size_t i;
        Chunk *c = mem_alloc(P->M, sizeof *c + n * sizeof(sched_Job));
        if (c == NULL) {
            return NULL;
        }
        memset(c, 0, sizeof *c + n * sizeof(sched_Job));
        c->n = n;
        c->next = P->chunks;
        P->chunks = c;
        P->nrecords += n;
        for (i = n; i-- > 0;) {
            atomic_init(&c->jobs[i].sw, SW(0, SCHED_FREE));
            atomic_init(&c->jobs[i].cancel.flag, 0);
            c->jobs[i].cancel.P = P;
            c->jobs[i].next = P->freelist;
            P->freelist = &c->jobs[i];
        }
    }
    j = P->freelist;
    P->freelist = j->next;
    return j;
}

static void record_put(sched_Pool *P, sched_Job *j) {
    j->id = 0;
    atomic_store_explicit(&j->sw, SW(0, SCHED_FREE), RLX);
    j->next = P->freelist;
    P->freelist = j;
}

/* ---------------------------------------------------------------------
** Waits: the deadline heap (owner-only, invariant 8).
** ------------------------------------------------------------------- */

static void heap_set(sched_Pool *P, size_t i, sched_Job *j) {
    P->heap[i] = j;
    j->heapidx = i;
}

static void heap_up(sched_Pool *P, size_t i) {
    sched_Job *j = P->heap[i];
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (P->heap[up]->wait_until <= j->wait_until) {
            break;
        }
        heap_set(P, i, P->heap[up]);
        i = up;
    }
    heap_set(P, i, j);
}

static void heap_down(sched_Pool *P, size_t i) {
    sched_Job *j = P->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= P->nheap) {
            break;
        }
        if (c + 1 < P->nheap && P->heap[c + 1]->wait_until < P->heap[c]->wait_until) {
            c++;
        }
        if (j->wait_until <= P->heap[c]->wait_until) {
            break;
        }
        heap_set(P, i, P->heap[c]);
        i = c;
    }
    heap_set(P, i, j);
}

/* Take wait 'j' out of the heap. */
static void heap_remove(sched_Pool *P, sched_Job *j) {
    size_t i = j->heapidx;
    sched_Job *last = P->heap[--P->nheap];
    if (i < P->nheap) {
        heap_set(P, i, last);
        heap_down(P, i);
        heap_up(P, last->heapidx);
    }
}

/* The owner's statistics block (after the workers'). */
static Worker *ownblock(sched_Pool *P) {
    return &P->workers[P->nworkers];
}

/* Wait 'j' ends with status 'st' at 'end' (out of the heap already). */
static void wait_end(sched_Pool *P, sched_Job *j, int st, int64_t end) {
    Worker *w = ownblock(P);
    int64_t rt = end - j->start_ns;
    if (st == SCHED_DONE) {
        W_INC(w->ncompleted);
    } else {
        W_INC(w->ncancelled);
    }
    W_LATENCY(w, rt, rt, end);
    j->end_ns = end;
    atomic_store_explicit(&j->sw, SW(j->id, st), REL);
}

/* Every wait due by 'now' ends DONE, at its deadline. */
static void expire_waits(sched_Pool *P, int64_t now) {
    while (P->nheap > 0 && P->heap[0]->wait_until <= now) {
        sched_Job *j = P->heap[0];
        heap_remove(P, j);
        wait_end(P, j, SCHED_DONE, j->wait_until);
    }
}

/* Expire what is due if the earliest wait is due (one clock read while
** waits are pending, none otherwise). */
void sched_pollwaits(sched_Pool *P) {
    if (P->nheap > 0) {
        int64_t now = stamp_peek(P);
        if (P->heap[0]->wait_until <= now) {
            expire_waits(P, now);
        }
    }
}

/* Cancel wait 'j' (RUNNING, in the heap) now.  A wait still in the heap
** has not been seen done by anyone, even if its deadline has passed since
** the owner last looked: the cancel wins, so a halt of a leaf whose job
** was running always ends it CANCELLED, whatever the machine's timing. */
static void cancel_wait(sched_Pool *P, sched_Job *j) {
    heap_remove(P, j);
    wait_end(P, j, SCHED_CANCELLED, stamp_now(P));
}

/* ---------------------------------------------------------------------
** Queue and wakeups (under 'mu').
** ------------------------------------------------------------------- */

static void q_unlink(sched_Pool *P, sched_Job *j) {
    if (j->prev != NULL) {
        j->prev->next = j->next;
    } else {
        P->qhead = j->next;
    }
    if (j->next != NULL) {
        j->next->prev = j->prev;
    } else {
        P->qtail = j->prev;
    }
    j->next = j->prev = NULL;
    atomic_fetch_sub_explicit(&P->novf, 1, RLX);
}

/* Move every submission on the 'incoming' stack to the FIFO's tail, in
** submission order (under 'mu').  The exchange acquires the owner's
** writes to the records (its push is a release). */
static void q_drain(sched_Pool *P) {
    sched_Job *j, *rev = NULL;
    if (atomic_load(&P->incoming) == NULL) { /* seq_cst: see sched_submit */
        return;
    }
    j = atomic_exchange_explicit(&P->incoming, NULL, ACQ);
    while (j != NULL) { /* newest first: reverse */
        sched_Job *n = j->next;
        j->next = rev;
        rev = j;
        j = n;
    }
    for (j = rev; j != NULL; j = rev) {
        rev = j->next;
        j->next = NULL;
        j->prev = P->qtail;
        if (P->qtail != NULL) {
            P->qtail->next = j;
        } else {
            P->qhead = j;
        }
        P->qtail = j;
    }
}

/* Whether a sleeping worker should be signalled for queued work; the
** caller signals 'work_cv' after unlocking 'mu'. */
static int want_wake(sched_Pool *P) {
    if ((P->qhead != NULL || atomic_load_explicit(&P->incoming, RLX) != NULL ||
         LOAD(P->rtail) != LOAD(P->rhead)) &&
        LOAD(P->nidle) > LOAD(P->nwake)) {
        STORE(P->nwake, LOAD(P->nwake) + 1);
        return 1;
    }
    return 0;
}

/* Owner: after a submit, and at a poll of a queued job, wake a sleeping
** worker if queued jobs might otherwise wait for one: when every worker
** sleeps, when jobs overflowed to the FIFO, or when every awake worker is
** inside a job it started at least SCHED_STUCK_NS before 'now' (a stamp,
** or 0 to read one if needed).  A worker that is awake and not inside a
** job reaches the ring before it sleeps (the Dekker handshake: the
** owner's seq_cst publish then load of 'nidle', against the worker's
** seq_cst raise of 'nidle' then look at the ring), so in a steady stream
** that one worker keeps up with, the others sleep and no submit makes a
** system call or takes 'mu'. */
static void maybe_wake(sched_Pool *P, int64_t now) {
    int idle = atomic_load(&P->nidle), wake;
    if (idle == 0 || LOAD(P->nwake) > 0) {
        return; /* every worker awake, or one is being woken and will look */
    }
    if (idle < P->nthreads && LOAD(P->novf) == 0) {
        int k, stuck = 0;
        if (atomic_load_explicit(&P->rhead, RLX) == P->rtail_own) {
            return; /* nothing queued */
        }
        for (k = 0; k < P->nthreads; k++) {
            int64_t since = LOAD(P->workers[k].since);
            if (since != 0) {
                if (now == 0) {
                    now = stamp_peek(P);
                }
                stuck += now - since >= SCHED_STUCK_NS;
            }
        }
        if (stuck < P->nthreads - idle) {
            return; /* an awake worker is free or in a short job: it takes them */
        }
    }
    pthread_mutex_lock(&P->mu);
    wake = want_wake(P);
    pthread_mutex_unlock(&P->mu);
    if (wake) {
        pthread_cond_signal(&P->work_cv);
    }
}

/* Set the cancel flag of a running job (first reason wins) and wake the
** sleepers so that one notices at once. */
static void flag_cancel(sched_Pool *P, sched_Job *j) {
    int zero = 0;
    atomic_compare_exchange_strong(&j->cancel.flag, &zero, SCHED_STOP_CANCEL);
    pthread_mutex_lock(&P->sleep_mu);
    pthread_cond_broadcast(&P->sleep_cv);
    pthread_mutex_unlock(&P->sleep_mu);
}

/* Cancel 'j' if it is still queued: 1 if so (now CANCELLED, counted),
** 0 if a worker got it first (it is then starting, running or terminal).
** A ring job is decided by one CAS on its status word against the
** workers' claim; its ring entry stays, and the worker that reaches it
** fails its own CAS and skips it.  A FIFO job is unlinked under 'mu'. */
static int cancel_queued(sched_Pool *P, sched_Job *j) {
    int done = 0;
    if (j->inring) {
        uint64_t w = SW(j->id, SCHED_QUEUED);
        done = atomic_compare_exchange_strong_explicit(&j->sw, &w, SW(j->id, SCHED_CANCELLED),
                                                       memory_order_acq_rel, ACQ);
        if (done) {
            j->end_ns = stamp_now(P); /* owner-only reader, no worker touches it now */
        }
    } else {
        pthread_mutex_lock(&P->mu);
        q_drain(P); /* a queued job is now in the FIFO */
        if (job_st(j, RLX) == SCHED_QUEUED) {
            q_unlink(P, j);
            j->end_ns = stamp_now(P);
            atomic_store_explicit(&j->sw, SW(j->id, SCHED_CANCELLED), REL);
            done = 1;
        }
        pthread_mutex_unlock(&P->mu);
    }
    if (done) {
        P->ncancelq++;
    }
    return done;
}

/* Shared by sched_cancel, sched_cancel_owner and sched_release. */
static int cancel_job(sched_Pool *P, sched_Job *j) {
    int st = job_st(j, ACQ);
    if (j->fn == NULL) { /* a wait: owner-only, ends at once */
        if (st != SCHED_RUNNING) {
            return SCHED_CANCEL_NOOP;
        }
        cancel_wait(P, j);
        st = job_st(j, RLX);
        return st == SCHED_CANCELLED ? SCHED_CANCEL_DEQUEUED : SCHED_CANCEL_NOOP;
    }
    if (st == SCHED_QUEUED && cancel_queued(P, j)) {
        return SCHED_CANCEL_DEQUEUED;
    }
    st = job_st(j, ACQ);
    if (st == SCHED_RUNNING || st == SCHED_STARTING) {
        flag_cancel(P, j);
        return SCHED_CANCEL_PENDING;
    }
    return SCHED_CANCEL_NOOP;
}

/* ---------------------------------------------------------------------
** Workers.
** ------------------------------------------------------------------- */

/* Spin on the queue length for up to P->spin_ns; 1 if work (or a stop)
** showed up.  The clock is read at every turn when the turns yield the
** CPU (to an owner waiting for it), else every 64 pause instructions. */
static int spin_for_work(sched_Pool *P) {
    int64_t until = 0;
    unsigned i;
    if (P->spin_ns == 0) {
        return 0;
    }
    for (i = 0;; i++) {
        if (LOAD(P->rtail) != LOAD(P->rhead) || LOAD(P->novf) != 0 || LOAD(P->stopping)) {
            return 1;
        }
        if (P->spin_yield || (i & 63) == 0) {
            int64_t now = lispbt_now_ns();
            if (until == 0) {
                until = now + P->spin_ns;
            } else if (now >= until) {
                return 0;
            }
        }
        if (P->spin_yield) {
            sched_yield();
        } else {
            cpu_relax();
        }
    }
}

/* Run 'j' (already RUNNING, started at 'start') and publish its outcome;
** the final status store is the last access to 'j'. */
static void run_job(Worker *w, sched_Job *j, uint64_t id, int64_t start) {
    int rc, flag, st, tout = 0;
    int64_t end, rt;
    rc = j->fn(j->arg, &j->cancel);
    end = stamp_peek(w->P);
    flag = atomic_load_explicit(&j->cancel.flag, ACQ);
    if (flag == SCHED_STOP_CANCEL) {
        st = SCHED_CANCELLED;
        W_INC(w->ncancelled);
    } else if (flag == SCHED_STOP_TIMEOUT ||
               (j->timeout_ns > 0 && end - start > j->timeout_ns)) {
        st = SCHED_FAILED;
        tout = 1;
        W_INC(w->nfailed);
        W_INC(w->ntimedout);
    } else if (rc == 0) {
        st = SCHED_DONE;
        W_INC(w->ncompleted);
    } else {
        st = SCHED_FAILED;
        W_INC(w->nfailed);
    }
    rt = end - start;
    W_LATENCY(w, rt, rt, end);
    STORE(w->busy, 0);
    STORE(w->since, 0);
    j->result = rc;
    j->timed_out = tout;
    j->end_ns = end;
    atomic_store_explicit(&j->sw, SW(id, st), REL);
}

/* Claim the oldest ring entry whose job is still queued, or NULL if the
** ring is empty.  The head CAS takes the entry (release: our reads of the
** slot come before the owner may reuse it); the status CAS (id, QUEUED)
** -> (id, STARTING) takes the job.  If that fails the job was cancelled
** while queued (its record may even hold a newer job by now): skip it. */
static sched_Job *ring_pop(sched_Pool *P, uint64_t *idp) {
    uint64_t h = atomic_load_explicit(&P->rhead, RLX);
    for (;;) {
        uint64_t t = atomic_load_explicit(&P->rtail, ACQ), id, want;
        RingSlot *s;
        sched_Job *j;
        if (h == t) {
            return NULL;
        }
        s = &P->ring[h & P->ringmask];
        j = atomic_load_explicit(&s->job, RLX);
        id = atomic_load_explicit(&s->id, RLX);
        if (!atomic_compare_exchange_weak_explicit(&P->rhead, &h, h + 1, REL, RLX)) {
            continue; /* another worker took it; 'h' is reloaded */
        }
        h++;
        want = SW(id, SCHED_QUEUED);
        if (atomic_compare_exchange_strong_explicit(&j->sw, &want, SW(id, SCHED_STARTING), ACQ,
                                                    RLX)) {
            *idp = id;
            return j;
        }
    }
}

/* Pop the FIFO's head (under 'mu'), or NULL.  A FIFO job is cancelled
** only under 'mu', by unlinking it, so the head is still queued. */
static sched_Job *fifo_pop(sched_Pool *P, uint64_t *idp) {
    sched_Job *j;
    q_drain(P);
    j = P->qhead;
    if (j == NULL) {
        return NULL;
    }
    q_unlink(P, j);
    *idp = j->id;
    /* release: the unlink's writes to 'next' and 'prev' come before the
    ** owner, seeing STARTING, may put the record on the zombie list */
    atomic_store_explicit(&j->sw, SW(j->id, SCHED_STARTING), REL);
    return j;
}

/* Job 'j' (STARTING, claimed by this worker as 'id'): stamp, publish
** RUNNING, run, publish the outcome. */
static void start_job(Worker *w, sched_Job *j, uint64_t id) {
    int64_t now = stamp_peek(w->P), qd;
    j->start_ns = now;
    j->cancel.deadline_ns = j->timeout_ns > 0 ? deadline(now, j->timeout_ns) : 0;
    STORE(w->since, now != 0 ? now : 1);
    STORE(w->busy, 1);
    atomic_store_explicit(&j->sw, SW(id, SCHED_RUNNING), REL);
    qd = now - j->submit_ns;
    W_INC(w->nstarted);
    W_LATENCY(w, qd, qd, now);
    run_job(w, j, id, now);
}

/* Whether any job may be queued (seq_cst loads: the sleeper's side of the
** Dekker handshake with sched_submit).  Under 'mu'. */
static int has_work(sched_Pool *P) {
    return atomic_load(&P->rtail) != atomic_load(&P->rhead) || atomic_load(&P->incoming) != NULL ||
           P->qhead != NULL;
}

static void *worker_main(void *ud) {
    Worker *w = ud;
    sched_Pool *P = w->P;
    for (;;) {
        uint64_t id = 0;
        sched_Job *j = ring_pop(P, &id);
        if (j == NULL && LOAD(P->novf) != 0) {
            int wake = 0;
            pthread_mutex_lock(&P->mu);
            j = fifo_pop(P, &id);
            if (j != NULL) {
                wake = want_wake(P); /* more queued: pass the wake on */
            }
            pthread_mutex_unlock(&P->mu);
            if (wake) {
                pthread_cond_signal(&P->work_cv);
            }
        }
        if (j != NULL) {
            start_job(w, j, id);
            continue;
        }
        if (LOAD(P->stopping)) {
            break;
        }
        /* Only the last awake worker spins: the others sleep (napping) at
        ** once, so a stream that one worker keeps up with leaves the
        ** other CPU to the owner; the owner wakes them if that one falls
        ** behind (maybe_wake). */
        if (LOAD(P->nidle) >= P->nworkers - 1 && spin_for_work(P)) {
            continue;
        }
        pthread_mutex_lock(&P->mu);
        if (!LOAD(P->stopping)) {
            /* Dekker with sched_submit: we raise 'nidle' then look at the
            ** ring and the stack; it publishes then loads 'nidle' (all
            ** seq_cst), so either we see its job or it sees us idle and
            ** signals under 'mu' (after our wait has begun). */
            int idle = atomic_fetch_add(&P->nidle, 1) + 1;
            if (!has_work(P)) {
                if (idle < P->nworkers) { /* others awake: nap (SCHED_NAP_NS) */
                    int64_t until = deadline(lispbt_now_ns(), SCHED_NAP_NS);
                    struct timespec ts;
                    ts.tv_sec = (time_t)(until / 1000000000);
                    ts.tv_nsec = (long)(until % 1000000000);
                    pthread_cond_timedwait(&P->work_cv, &P->mu, &ts);
                } else {
                    pthread_cond_wait(&P->work_cv, &P->mu);
                }
                if (LOAD(P->nwake) > 0) {
                    STORE(P->nwake, LOAD(P->nwake) - 1);
                }
            }
            idle = atomic_fetch_sub(&P->nidle, 1) - 1;
            if (LOAD(P->nwake) > idle) { /* a signal raced with a nap's timeout */
                STORE(P->nwake, idle);
            }
        }
        pthread_mutex_unlock(&P->mu);
    }
    return NULL;
}

/* ---------------------------------------------------------------------
** Pool life.
** ------------------------------------------------------------------- */

/* Stop and join the started workers, then free everything.  The queue
** must already be empty and every running job flagged. */
static void pool_destroy(sched_Pool *P) {
    mem_Heap *M = P->M;
    int i;
    for (i = 0; i < P->nthreads; i++) {
        pthread_join(P->workers[i].thread, NULL);
    }
    while (P->chunks != NULL) {
        Chunk *c = P->chunks;
        P->chunks = c->next;
        mem_free(M, c, sizeof *c + c->n * sizeof(sched_Job));
    }
    mem_free(M, P->tab, P->tabcap * sizeof *P->tab);
    mem_free(M, P->heap, P->capheap * sizeof *P->heap);
    if (P->ring != NULL) {
        mem_free(M, P->ring, (size_t)(P->ringmask + 1) * sizeof *P->ring);
    }
    if (P->workers != NULL) {
        mem_free(M, P->workers, (size_t)(P->nworkers + 1) * sizeof(Worker));
    }
    if (P->sleep_cv_ok) {
        pthread_cond_destroy(&P->sleep_cv);
    }
    if (P->sleep_mu_ok) {
        pthread_mutex_destroy(&P->sleep_mu);
    }
    if (P->work_cv_ok) {
        pthread_cond_destroy(&P->work_cv);
    }
    if (P->mu_ok) {
        pthread_mutex_destroy(&P->mu);
    }
    mem_free(M, P, sizeof *P);
}

static int init_sync(sched_Pool *P) {
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    int rc;
    if (pthread_mutexattr_init(&ma) != 0) {
        return SCHED_ETHREAD;
    }
#if defined(PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP)
    /* spin briefly before sleeping: our critical sections are tiny */
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    P->mu_ok = pthread_mutex_init(&P->mu, &ma) == 0;
    pthread_mutexattr_destroy(&ma);
    P->sleep_mu_ok = pthread_mutex_init(&P->sleep_mu, NULL) == 0;
    if (pthread_condattr_init(&ca) != 0) {
        return SCHED_ETHREAD;
    }
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    P->work_cv_ok = rc == 0 && pthread_cond_init(&P->work_cv, &ca) == 0;
    P->sleep_cv_ok = rc == 0 && pthread_cond_init(&P->sleep_cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!P->mu_ok || !P->work_cv_ok || !P->sleep_mu_ok || !P->sleep_cv_ok) {
        return SCHED_ETHREAD;
    }
    return 0;
}

/* Contract in sched.h.  Allocates the pool and the worker blocks (with
** their histograms) through 'M'; workers start with every signal blocked. */
sched_Pool *sched_new(mem_Heap *M, int workers, int *err) {
    sched_Pool *P = NULL;
    sigset_t all, old;
    int rc, i;
    if (M == NULL || workers < 0 || workers > SCHED_MAX_WORKERS) {
        rc = SCHED_EINVAL;
        goto fail;
    }
    P = mem_calloc(M, sizeof *P);
    if (P == NULL) {
        rc = SCHED_ENOMEM;
        goto fail;
    }
    P->M = M;
    P->next_id = 1;
    P->nworkers = workers;
    if (sysconf(_SC_NPROCESSORS_ONLN) >= workers + 2) {
        P->spin_ns = SCHED_SPIN_NS;
    } else {
        P->spin_ns = SCHED_SPIN_SHORT_NS;
        P->spin_yield = 1;
    }
    atomic_init(&P->novf, 0);
    atomic_init(&P->rtail, 0);
    atomic_init(&P->rhead, 0);
    atomic_init(&P->nidle, 0);
    atomic_init(&P->nwake, 0);
    atomic_init(&P->incoming, NULL);
    atomic_init(&P->stopping, 0);
    rc = init_sync(P);
    if (rc != 0) {
        goto fail;
    }
    P->ring = mem_alloc(M, SCHED_RING * sizeof *P->ring);
    if (P->ring == NULL) {
        rc = SCHED_ENOMEM;
        goto fail;
    }
    P->ringmask = SCHED_RING - 1;
    for (i = 0; i < SCHED_RING; i++) {
        atomic_init(&P->ring[i].job, NULL);
        atomic_init(&P->ring[i].id, 0);
    }
    P->workers = mem_calloc(M, (size_t)(workers + 1) * sizeof(Worker));
    if (P->workers == NULL) {
        rc = SCHED_ENOMEM;
        goto fail;
    }
    atomic_init(&P->workers[workers].qd_min, INT64_MAX);
    atomic_init(&P->workers[workers].rt_min, INT64_MAX);
    /* Workers block every signal: the host's signals go to its threads. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (i = 0; i < workers; i++) {
        P->workers[i].P = P;
        atomic_init(&P->workers[i].qd_min, INT64_MAX);
        atomic_init(&P->workers[i].rt_min, INT64_MAX);
        if (pthread_create(&P->workers[i].thread, NULL, worker_main,
                           &P->workers[i]) != 0) {
            break;
        }
        P->nthreads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (P->nthreads < workers) {
        rc = SCHED_ETHREAD;
        goto fail;
    }
    if (err != NULL) {
        *err = 0;
    }
    return P;
fail:
    if (P != NULL) {
        if (P->nthreads > 0) { /* sync objects are valid: stop them */
            pthread_mutex_lock(&P->mu);
            STORE(P->stopping, 1);
            pthread_cond_broadcast(&P->work_cv);
            pthread_mutex_unlock(&P->mu);
        }
        pool_destroy(P);
    }
    if (err != NULL) {
        *err = rc;
    }
    return NULL;
}

void sched_set_clock(sched_Pool *P, clk_Clock *k) {
    P->clk = k;
}

/* Contract in sched.h.  Cancel the queue, flag running jobs (released ones
** too: they are found by walking the chunks), wake, join, free. */
void sched_free(sched_Pool *P) {
    Chunk *c;
    size_t i;
    int64_t now;
    if (P == NULL) {
        return;
    }
    now = stamp_now(P);
    /* 0. waits end now: due ones DONE, the others CANCELLED */
    expire_waits(P, now);
    while (P->nheap > 0) {
        sched_Job *j = P->heap[0];
        heap_remove(P, j);
        wait_end(P, j, SCHED_CANCELLED, now);
    }
    /* 1. stop: cancel the FIFO, forbid further pops, wake the sleepers,
    **    then cancel the ring's queued jobs (a worker may still win the
    **    CAS for some: those are then running, and step 2 flags them) */
    pthread_mutex_lock(&P->mu);
    STORE(P->stopping, 1);
    q_drain(P);
    while (P->qhead != NULL) {
        sched_Job *j = P->qhead;
        q_unlink(P, j);
        j->end_ns = now;
        atomic_store_explicit(&j->sw, SW(j->id, SCHED_CANCELLED), REL);
        P->ncancelq++;
    }
    pthread_mutex_unlock(&P->mu);
    pthread_cond_broadcast(&P->work_cv);
    for (c = P->chunks; c != NULL; c = c->next) {
        for (i = 0; i < c->n; i++) {
            sched_Job *j = &c->jobs[i];
            uint64_t w = atomic_load_explicit(&j->sw, ACQ);
            if (SW_ST(w) == SCHED_QUEUED && j->inring &&
                atomic_compare_exchange_strong(&j->sw, &w, SW(w >> 3, SCHED_CANCELLED))) {
                j->end_ns = now;
                P->ncancelq++;
            }
        }
    }
    /* 2. flag every running job (released ones included), then one
    **    broadcast wakes all of them out of sched_sleep_ns */
    for (c = P->chunks; c != NULL; c = c->next) {
        for (i = 0; i < c->n; i++) {
            sched_Job *j = &c->jobs[i];
            int st = job_st(j, ACQ);
            if (st == SCHED_RUNNING || st == SCHED_STARTING) {
                int zero = 0;
                atomic_compare_exchange_strong(&j->cancel.flag, &zero,
                                               SCHED_STOP_CANCEL);
            }
        }
    }
    pthread_mutex_lock(&P->sleep_mu);
    pthread_cond_broadcast(&P->sleep_cv);
    pthread_mutex_unlock(&P->sleep_mu);
    /* 3. join (each returns once its current job has returned), free */
    pool_destroy(P);
}

/* ---------------------------------------------------------------------
** Owner API.
** ------------------------------------------------------------------- */

/* Contract in sched.h.  Allocation happens only in tab_reserve and
** record_get, and only while the pool grows to a new peak. */
uint64_t sched_submit(sched_Pool *P, const char *name, sched_Fn fn, void *arg,
                      int64_t timeout_ns, uint64_t owner) {
    sched_Job *j;
    if (fn == NULL || tab_reserve(P) != 0) {
        return 0;
    }
    j = record_get(P);
    if (j == NULL) {
        return 0;
    }
    j->id = P->next_id++;
    j->name = name != NULL ? name : "job";
    j->fn = fn;
    j->arg = arg;
    j->owner = owner;
    j->timeout_ns = timeout_ns > 0 ? timeout_ns : 0;
    j->start_ns = j->end_ns = 0;
    j->result = j->timed_out = 0;
    j->cancel.deadline_ns = 0;
    atomic_store_explicit(&j->cancel.flag, 0, RLX);
    atomic_store_explicit(&j->sw, SW(j->id, SCHED_QUEUED), RLX);
    tab_put(P, j);
    P->nsubmitted++;
    j->submit_ns = stamp_now(P); /* before the job is visible: submit <= start */
    /* publish without 'mu' (every store seq_cst: it orders the writes
    ** above before a worker's acquire, and takes part in the Dekker
    ** handshake with an idling worker).  The ring unless it is full; then
    ** the stack, until every job on it has been popped, so that jobs still
    ** start in submission order. */
    if (P->ovf && LOAD(P->novf) == 0) {
        P->ovf = 0;
    }
    if (!P->ovf && P->rtail_own - P->head_room > P->ringmask) {
        /* looks full: read the real head (acquire: the workers' reads of
        ** the entries we are about to reuse came before) */
        P->head_room = atomic_load_explicit(&P->rhead, ACQ);
    }
    j->inring = !P->ovf && P->rtail_own - P->head_room <= P->ringmask;
    if (j->inring) {
        RingSlot *s = &P->ring[P->rtail_own & P->ringmask];
        atomic_store_explicit(&s->job, j, RLX);
        atomic_store_explicit(&s->id, j->id, RLX);
        atomic_store(&P->rtail, ++P->rtail_own);
    } else {
        P->ovf = 1;
        atomic_fetch_add_explicit(&P->novf, 1, RLX); /* before a worker can pop it */
        j->prev = NULL;
        j->next = atomic_load_explicit(&P->incoming, RLX);
        while (!atomic_compare_exchange_weak(&P->incoming, &j->next, j)) {
        }
    }
    maybe_wake(P, j->submit_ns);
    return j->id;
}

/* Contract in sched.h.  Owner-only: the record goes into the id table and
** the deadline heap, never into the queue (invariant 8). */
uint64_t sched_submit_wait(sched_Pool *P, const char *name, int64_t delay_ns, uint64_t owner) {
    sched_Job *j;
    Worker *w = ownblock(P);
    int64_t now;
    if (tab_reserve(P) != 0) {
        return 0;
    }
    if (P->nheap == P->capheap) {
        size_t ncap = P->capheap ? P->capheap * 2 : 64;
        sched_Job **nh = mem_alloc(P->M, ncap * sizeof *nh);
        if (nh == NULL) {
            return 0;
        }
        if (P->nheap > 0) {
            memcpy(nh, P->heap, P->nheap * sizeof *nh);
        }
        mem_free(P->M, P->heap, P->capheap * sizeof *P->heap);
        P->heap = nh;
        P->capheap = ncap;
    }
    j = record_get(P);
    if (j == NULL) {
        return 0;
    }
    now = stamp_now(P);
    j->id = P->next_id++;
    j->name = name != NULL ? name : "wait";
    j->fn = NULL;
    j->arg = NULL;
    j->owner = owner;
    j->timeout_ns = 0;
    j->submit_ns = j->start_ns = now;
    j->end_ns = 0;
    j->result = j->timed_out = 0;
    j->cancel.deadline_ns = 0;
    j->wait_until = deadline(now, delay_ns > 0 ? delay_ns : 0);
    atomic_store_explicit(&j->cancel.flag, 0, RLX);
    atomic_store_explicit(&j->sw, SW(j->id, SCHED_RUNNING), RLX);
    j->inring = 0;
    tab_put(P, j);
    P->nsubmitted++;
    P->nwaitsub++;
    W_INC(w->nstarted); /* it starts now: a queue delay of 0 */
    W_INC(w->qd.b[0]);
    STORE(w->qd_last, 0);
    STORE(w->qd_last_at, now);
    W_MIN(w->qd_min, 0);
    P->heap[P->nheap] = j;
    j->heapidx = P->nheap++;
    heap_up(P, j->heapidx);
    return j->id;
}

/* Contract in sched.h.  Lock-free: reads only the fields that the status
** just acquire-loaded has published (invariant 3). */
int sched_info(sched_Pool *P, uint64_t id, sched_JobInfo *out) {
    size_t i = tab_find(P, id);
    const sched_Job *j;
    int st, spins;
    if (i == (size_t)-1) {
        return SCHED_EUNKNOWN;
    }
    j = P->tab[i];
    if (j->fn == NULL) {
        sched_pollwaits(P);
    }
    st = job_st(j, ACQ);
    for (spins = 0; st == SCHED_STARTING; spins++) { /* its worker is between two stores */
        if (spins < 1000) {
            cpu_relax();
        } else {
            sched_yield(); /* that worker lost its CPU in the window */
        }
        st = job_st(j, ACQ);
    }
    out->id = j->id;
    out->name = j->name;
    out->owner = j->owner;
    out->status = st;
    out->timeout_ns = j->timeout_ns;
    out->submit_ns = j->submit_ns;
    out->start_ns = st >= SCHED_RUNNING ? j->start_ns : 0;
    if (st >= SCHED_DONE) {
        out->end_ns = j->end_ns;
        out->result = j->result;
        out->timed_out = j->timed_out;
    } else {
        out->end_ns = 0;
        out->result = 0;
        out->timed_out = 0;
    }
    return 0;
}

/* Contract in sched.h.  The per-tick poll: one table probe, one acquire;
** for a queued job also maybe_wake (no lock or system call unless a
** sleeping worker must be woken). */
int sched_try_result(sched_Pool *P, uint64_t id, int *result) {
    size_t i = tab_find(P, id);
    const sched_Job *j;
    int st;
    if (i == (size_t)-1) {
        return SCHED_EUNKNOWN;
    }
    j = P->tab[i];
    if (j->fn == NULL) {
        sched_pollwaits(P);
    }
    st = st_public(job_st(j, ACQ));
    if (st >= SCHED_DONE && result != NULL) {
        *result = j->result;
    } else if (st == SCHED_QUEUED) {
        maybe_wake(P, 0);
    }
    return st;
}

/* Contract in sched.h. */
int sched_cancel(sched_Pool *P, uint64_t id) {
    size_t i = tab_find(P, id);
    if (i == (size_t)-1) {
        return SCHED_EUNKNOWN;
    }
    return cancel_job(P, P->tab[i]);
}

/* Contract in sched.h.  Walks the id table; cancel_job never edits it. */
int sched_cancel_owner(sched_Pool *P, uint64_t owner) {
    size_t i;
    int n = 0;
    for (i = 0; i < P->tabcap; i++) {
        sched_Job *j = P->tab[i];
        if (j != NULL && j->owner == owner &&
            cancel_job(P, j) != SCHED_CANCEL_NOOP) {
            n++;
        }
    }
    return n;
}

/* Contract in sched.h.  The id leaves the table first, so it is unknown
** from here on whatever happens to the record (invariant 4). */
int sched_release(sched_Pool *P, uint64_t id) {
    size_t i = tab_find(P, id);
    sched_Job *j;
    if (i == (size_t)-1) {
        return SCHED_EUNKNOWN;
    }
    j = P->tab[i];
    tab_del(P, i);
    if (cancel_job(P, j) == SCHED_CANCEL_PENDING) {
        /* a worker still holds it: reap once its status is terminal */
        j->id = 0;
        j->next = P->zombies;
        P->zombies = j;
        return SCHED_RELEASE_DEFERRED;
    }
    record_put(P, j);
    return SCHED_RELEASED;
}

/* ---------------------------------------------------------------------
** Job side (worker threads).
** ------------------------------------------------------------------- */

/* The flag is shared mutable state even though the job sees the token as
** const: a job may only *set* it, and only to record its own timeout. */
static int note_timeout(const sched_Cancel *c) {
    sched_Cancel *m = (sched_Cancel *)c;
    int zero = 0;
    atomic_compare_exchange_strong(&m->flag, &zero, SCHED_STOP_TIMEOUT);
    return atomic_load_explicit(&m->flag, RLX);
}

/* Contract in sched.h.  Worker side; the clock is read only for jobs with
** a deadline (invariant 6). */
int sched_cancelled(const sched_Cancel *c) {
    int f = atomic_load_explicit(&((sched_Cancel *)c)->flag, RLX);
    if (lispbt_likely(f != 0 || c->deadline_ns == 0)) {
        return f;
    }
    if (lispbt_now_ns() >= c->deadline_ns) {
        return note_timeout(c);
    }
    return 0;
}

/* Contract in sched.h.  Waits on 'sleep_cv' until min(end, deadline); the
** flag is tested under 'sleep_mu', so a cancel cannot be missed. */
int sched_sleep_ns(const sched_Cancel *c, int64_t ns) {
    sched_Pool *P = c->P;
    int64_t end, limit;
    int f;
    if (ns <= 0) {
        return sched_cancelled(c);
    }
    end = deadline(lispbt_now_ns(), ns);
    limit = end;
    if (c->deadline_ns != 0 && c->deadline_ns < end) {
        limit = c->deadline_ns;
    }
    pthread_mutex_lock(&P->sleep_mu);
    for (;;) {
        struct timespec ts;
        f = atomic_load_explicit(&((sched_Cancel *)c)->flag, RLX);
        if (f != 0 || lispbt_now_ns() >= limit) {
            break;
        }
        ts.tv_sec = (time_t)(limit / 1000000000);
        ts.tv_nsec = (long)(limit % 1000000000);
        pthread_cond_timedwait(&P->sleep_cv, &P->sleep_mu, &ts);
    }
    pthread_mutex_unlock(&P->sleep_mu);
    if (f != 0) {
        return f;
    }
    return limit < end ? note_timeout(c) : 0;
}

/* Contract in sched.h.  Reads '*arg' once, at start. */
int sched_job_sleep_ms(void *arg, const sched_Cancel *c) {
    int64_t ms = *(const int64_t *)arg;
    if (ms > INT64_MAX / 1000000) {
        ms = INT64_MAX / 1000000;
    }
    return sched_sleep_ns(c, ms * 1000000);
}
