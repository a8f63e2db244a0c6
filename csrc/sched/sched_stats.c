/*
** sched_stats.c -- the scheduler's statistics: the per-worker single-writer
** blocks summed, latency quantiles merged from their histograms
** (invariant 7 in sched.c).  See LICENSE for copyright.
*/
#include "sched_int.h"

#include <stddef.h>

/* ---------------------------------------------------------------------
** Statistics.
** ------------------------------------------------------------------- */

/* The four quantiles (p50, p90, p99, p999) of the histogram at offset
** 'off' in each worker, merged, nearest-rank as hist.h describes: the
** sample of rank ceil(q * n), reported as its bucket's midpoint clamped to
** the exact extremes ['minv', 'maxv'], so that ranks 1 and n are exact.
** Returns n, the samples counted (0: every quantile is 0). */
static uint64_t quantiles(const sched_Pool *P, size_t off, int64_t minv, int64_t maxv,
                          int64_t out[4]) {
    static const uint64_t permille[4] = {500, 900, 990, 999};
    uint64_t total = 0, cum = 0, rank[4];
    int w, i, k = 0;
    for (w = 0; w <= P->nworkers; w++) {
        const Hist *h = (const Hist *)((const char *)&P->workers[w] + off);
        for (i = 0; i < HIST_N; i++) {
            total += LOAD(h->b[i]);
        }
    }
    for (i = 0; i < 4; i++) {
        uint64_t r = (total * permille[i] + 999) / 1000;
        rank[i] = r ? r : 1;
        out[i] = 0;
    }
    if (total == 0) {
        return 0;
    }
    for (i = 0; i < HIST_N && k < 4; i++) {
        for (w = 0; w <= P->nworkers; w++) {
            const Hist *h = (const Hist *)((const char *)&P->workers[w] + off);
            cum += LOAD(h->b[i]);
        }
        while (k < 4 && cum >= rank[k]) {
            int64_t v = rank[k] == 1 ? minv : (rank[k] >= total ? maxv : hist_value(i));
            /* a racing worker may have counted a sample whose extremes are
            ** not visible yet: clamping to 'maxv' last keeps v <= max */
            v = v < minv ? minv : v;
            out[k++] = v > maxv ? maxv : v;
        }
    }
    for (; k < 4; k++) { /* counts moved under us: fall back to the max */
        out[k] = maxv;
    }
    return total;
}

/* Contract in sched.h.  Sums the per-worker single-writer blocks; 'last'
** values come from the worker that recorded most recently. */
void sched_stats(sched_Pool *P, sched_Stats *out) {
    int64_t qd_at = -1, rt_at = -1, q[4], qd_min = INT64_MAX, rt_min = INT64_MAX;
    int w;
    sched_pollwaits(P);
    memset(out, 0, sizeof *out);
    out->submitted = P->nsubmitted;
    out->cancelled = P->ncancelq;
    {
        /* queued = function jobs submitted - cancelled while queued - started */
        uint64_t left = P->nsubmitted - P->nwaitsub - P->ncancelq;
        for (w = 0; w < P->nworkers; w++) {
            left -= LOAD(P->workers[w].nstarted);
        }
        out->queued = left; /* each start counted was a submit not cancelled */
    }
    out->workers = (uint64_t)P->nworkers;
    out->running = P->nheap;
    for (w = 0; w <= P->nworkers; w++) { /* the workers, then the waits' block */
        Worker *k = &P->workers[w];
        int64_t at;
        out->started += LOAD(k->nstarted);
        out->completed += LOAD(k->ncompleted);
        out->failed += LOAD(k->nfailed);
        out->cancelled += LOAD(k->ncancelled);
        out->timed_out += LOAD(k->ntimedout);
        out->running += (uint64_t)LOAD(k->busy);
        at = LOAD(k->qd_last_at);
        if (at > qd_at && LOAD(k->nstarted) > 0) {
            qd_at = at;
            out->queue_delay_last_ns = LOAD(k->qd_last);
        }
        at = LOAD(k->rt_last_at);
        if (at > rt_at && at > 0) {
            rt_at = at;
            out->run_time_last_ns = LOAD(k->rt_last);
        }
        if (LOAD(k->qd_max) > out->queue_delay_max_ns) {
            out->queue_delay_max_ns = LOAD(k->qd_max);
        }
        if (LOAD(k->rt_max) > out->run_time_max_ns) {
            out->run_time_max_ns = LOAD(k->rt_max);
        }
        qd_min = LOAD(k->qd_min) < qd_min ? LOAD(k->qd_min) : qd_min;
        rt_min = LOAD(k->rt_min) < rt_min ? LOAD(k->rt_min) : rt_min;
        out->queue_delay_sum_ns += LOAD(k->qd_sum);
        out->run_time_sum_ns += LOAD(k->rt_sum);
    }
    out->queue_delay_min_ns = qd_min == INT64_MAX ? 0 : qd_min;
    out->run_time_min_ns = rt_min == INT64_MAX ? 0 : rt_min;
    {
        out->queue_delay_count =
            quantiles(P, offsetof(Worker, qd), qd_min, out->queue_delay_max_ns, q);
        out->queue_delay_p50_ns = q[0];
        out->queue_delay_p90_ns = q[1];
        out->queue_delay_p99_ns = q[2];
        out->queue_delay_p999_ns = q[3];
        out->run_time_count = quantiles(P, offsetof(Worker, rt), rt_min, out->run_time_max_ns, q);
        out->run_time_p50_ns = q[0];
        out->run_time_p90_ns = q[1];
        out->run_time_p99_ns = q[2];
        out->run_time_p999_ns = q[3];
    }
}

/* Contract in sched.h; the key order is SPEC section 8, then extras. */
int sched_stats_text(sched_Pool *P, sbuf *b) {
    sched_Stats s;
    sched_stats(P, &s);
    sbuf_printf(b,
                "submitted=%" PRIu64 "\nstarted=%" PRIu64
                "\ncompleted=%" PRIu64 "\nfailed=%" PRIu64
                "\ncancelled=%" PRIu64 "\nqueue_delay_last_ns=%" PRId64
                "\nrun_time_last_ns=%" PRId64 "\n",
                s.submitted, s.started, s.completed, s.failed, s.cancelled,
                s.queue_delay_last_ns, s.run_time_last_ns);
    sbuf_printf(b,
                "queued=%" PRIu64 "\nrunning=%" PRIu64 "\nworkers=%" PRIu64
                "\ntimed_out=%" PRIu64 "\nqueue_delay_max_ns=%" PRId64
                "\nrun_time_max_ns=%" PRId64 "\n",
                s.queued, s.running, s.workers, s.timed_out,
                s.queue_delay_max_ns, s.run_time_max_ns);
    sbuf_printf(b,
                "queue_delay_p50_ns=%" PRId64 "\nqueue_delay_p90_ns=%" PRId64
                "\nqueue_delay_p99_ns=%" PRId64
                "\nqueue_delay_p999_ns=%" PRId64 "\n",
                s.queue_delay_p50_ns, s.queue_delay_p90_ns,
                s.queue_delay_p99_ns, s.queue_delay_p999_ns);
    sbuf_printf(b,
                "run_time_p50_ns=%" PRId64 "\nrun_time_p90_ns=%" PRId64
                "\nrun_time_p99_ns=%" PRId64 "\nrun_time_p999_ns=%" PRId64
                "\n",
                s.run_time_p50_ns, s.run_time_p90_ns, s.run_time_p99_ns,
                s.run_time_p999_ns);
    return b->oom ? SCHED_ENOMEM : 0;
}

/* Contract in sched.h. */
const char *sched_status_name(int status) {
    static const char *const names[] = {"queued", "running", "done", "failed",
                                        "cancelled"};
    if (status < SCHED_QUEUED || status > SCHED_CANCELLED) {
        return "unknown";
    }
    return names[status];
}
