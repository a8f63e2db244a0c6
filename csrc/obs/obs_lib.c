/*
** obs_lib.c -- metrics.prometheus: every host metric in the Prometheus
** text exposition format (SPEC §9).  See LICENSE for copyright.
**
** (metrics.prometheus [inst ...]) renders the host's Lisp heap and GC
** (pause summary), C heap, log records by level, scheduler counters and
** queue-delay/run-time summaries, planner calls by status and planning
** time, and, for each instance given, its tick counters and tick-duration
** summary labelled bt_instance="ID".  Rendering happens only when called.
**
** The output is meant to pass `promtool check metrics` without a message
** (spec/metrics_spec.lua runs it):
**   - every family has # HELP and # TYPE, and its samples follow it
**     contiguously: the per-instance families loop over the instances
**     inside each family, never the other way round;
**   - names carry their unit: '_seconds' (durations, the base unit; our
**     nanoseconds are divided by 1e9), '_bytes', and counters end in
**     '_total';
**   - quantiles only ever appear in a 'summary', with its _sum and _count;
**   - no label is called 'instance' or 'job': Prometheus attaches those to
**     every scraped series and renames a clash to 'exported_instance', so
**     ours is 'bt_instance';
**   - an instance given twice is rendered once (a duplicate series would
**     fail the scrape).
*/
#include "conf.h"

#include <stdio.h>

#include "bt.h"
#include "planner_lib.h"
#include "obs_prom.h"
#include "sbuf.h"
#include "sched_lib.h"

/* A summary from the scheduler's nanosecond quantiles, count and sum. */
static void schedsummary(sbuf *b, const char *name, const char *help, const int64_t q[4],
                         int64_t sum_ns, uint64_t count) {
    double qs[4];
    int k;
    for (k = 0; k < 4; k++) {
        qs[k] = (double)q[k] / 1e9;
    }
    prom_summary(b, name, help, NULL, qs, (double)sum_ns / 1e9, count);
}

/* The per-instance counter families, in output order. */
enum { IC_TICKS, IC_OVERRUNS, IC_ERRORS, IC_N };
static const char *const icname[IC_N] = {"lispbt_bt_ticks_total", "lispbt_bt_tick_overruns_total",
                                         "lispbt_bt_errors_total"};
static const char *const ichelp[IC_N] = {"ticks run", "ticks over their budget", "leaf errors"};

/* Whether argv[i] repeats an earlier argument (rendered once: a duplicate
** series fails the scrape). */
static int repeated(lisp_Value *argv, int i) {
    int j;
    for (j = 0; j < i; j++) {
        if (lisp_udata(argv[j]) == lisp_udata(argv[i])) {
            return 1;
        }
    }
    return 0;
}

/* Family 'k' of the per-instance families (IC_N: the tick summary) for
** every distinct instance in argv[0..argc-1], labelled bt_instance="ID". */
static void instfamily(sbuf *b, int k, int argc, lisp_Value *argv) {
    int i;
    for (i = 0; i < argc; i++) {
        bt_Inst *I = lisp_udata(argv[i]);
        bt_TickStats t;
        char lab[48];
        if (repeated(argv, i)) {
            continue;
        }
        snprintf(lab, sizeof lab, "bt_instance=\"%lld\"", (long long)bt_inst_id(I));
        if (k == IC_N) {
            prom_summary_scaled(b, "lispbt_bt_tick_seconds", i == 0 ? "tick durations" : NULL, lab,
                                bt_tickhist(I), 1e9);
            continue;
        }
        bt_tickstats(I, &t);
        prom_counter(b, icname[k], i == 0 ? ichelp[k] : NULL, lab,
                     (double)(k == IC_TICKS      ? t.count
                              : k == IC_OVERRUNS ? t.overruns
                                                 : t.errors));
    }
}

static lisp_Value cfun_metrics_prometheus(lisp_State *S, int argc, lisp_Value *argv) {
    sched_Pool *P = sched_pool(S);
    planner_Host *ph = planner_get(S);
    lisp_HeapStats h;
    uint64_t logs[LOG_NLEVELS], calls[4], written, errors;
    static const char *const statuses[4] = {"ok", "timeout", "noaction", "error"};
    sbuf *b;
    int i, k;
    for (i = 0; i < argc; i++) {
        lisp_checkudata(S, argv, i, &bt_insttype);
    }
    lisp_heapstats(S, &h);
    b = lisp_scratch(S);
    prom_counter(b, "lispbt_lisp_objects_allocated_total", "Lisp objects ever allocated", NULL,
                 (double)h.total_allocated_objects);
    prom_gauge(b, "lispbt_lisp_live_objects", "Lisp objects alive now", NULL,
               (double)h.live_objects);
    prom_gauge(b, "lispbt_lisp_live_objects_after_last_gc", "Lisp objects alive after the last GC",
               NULL, (double)h.live_objects_after_last_gc);
    prom_gauge(b, "lispbt_lisp_heap_bytes", "Lisp heap bytes allocated", NULL,
               (double)h.bytes_allocated);
    prom_gauge(b, "lispbt_lisp_next_gc_threshold_bytes", "heap size that triggers the next GC",
               NULL, (double)h.next_gc_threshold);
    prom_counter(b, "lispbt_gc_collections_total", "full collections", NULL, (double)h.collections);
    prom_summary_scaled(b, "lispbt_gc_pause_seconds", "GC pause durations", NULL, lisp_gchist(S),
                        1e9);
    prom_gauge(b, "lispbt_c_heap_bytes", "C heap bytes held by the host", NULL,
               (double)lisp_mem(S)->bytes);
    prom_counter(b, "lispbt_c_heap_allocations_total", "C heap allocations by the host", NULL,
                 (double)lisp_mem(S)->nalloc);
    prom_gauge(b, "lispbt_charged_bytes", "bytes charged against heap_limit", NULL,
               (double)mem_charged(lisp_mem(S)));
    prom_counter(b, "lispbt_refused_allocations_total", "allocations refused by heap_limit",
                 NULL, (double)lisp_mem(S)->nrefused);
    log_counts(bt_reg_env(bt_reg(S))->log, logs);
    prom_family(b, "lispbt_log_records_total", "counter", "log records written, by level");
    for (i = 0; i < LOG_NLEVELS; i++) {
        char lab[40];
        snprintf(lab, sizeof lab, "level=\"%s\"", log_level_name(i));
        prom_sample(b, "lispbt_log_records_total", lab, (double)logs[i]);
    }
    if (P) {
        sched_Stats s;
        sched_stats(P, &s);
        prom_family(b, "lispbt_scheduler_jobs_total", "counter", "scheduler jobs, by event");
        prom_sample(b, "lispbt_scheduler_jobs_total", "event=\"submitted\"", (double)s.submitted);
        prom_sample(b, "lispbt_scheduler_jobs_total", "event=\"started\"", (double)s.started);
        prom_sample(b, "lispbt_scheduler_jobs_total", "event=\"completed\"", (double)s.completed);
        prom_sample(b, "lispbt_scheduler_jobs_total", "event=\"failed\"", (double)s.failed);
        prom_sample(b, "lispbt_scheduler_jobs_total", "event=\"cancelled\"", (double)s.cancelled);
        prom_sample(b, "lispbt_scheduler_jobs_total", "event=\"timed_out\"", (double)s.timed_out);
        prom_gauge(b, "lispbt_scheduler_queued_jobs", "jobs queued now", NULL, (double)s.queued);
        prom_gauge(b, "lispbt_scheduler_running_jobs", "jobs running now", NULL, (double)s.running);
        prom_gauge(b, "lispbt_scheduler_workers", "worker threads", NULL, (double)s.workers);
        {
            int64_t q[4];
            q[0] = s.queue_delay_p50_ns;
            q[1] = s.queue_delay_p90_ns;
            q[2] = s.queue_delay_p99_ns;
            q[3] = s.queue_delay_p999_ns;
            schedsummary(b, "lispbt_scheduler_queue_delay_seconds",
                         "time jobs waited in the queue before a worker started them", q,
                         s.queue_delay_sum_ns, s.queue_delay_count);
            q[0] = s.run_time_p50_ns;
            q[1] = s.run_time_p90_ns;
            q[2] = s.run_time_p99_ns;
            q[3] = s.run_time_p999_ns;
            schedsummary(b, "lispbt_scheduler_run_time_seconds", "time jobs ran on a worker", q,
                         s.run_time_sum_ns, s.run_time_count);
        }
    }
    planner_counts(ph, calls, &written, &errors);
    prom_family(b, "lispbt_planner_calls_total", "counter", "planner calls, by status");
    for (i = 0; i < 4; i++) {
        char lab[40];
        snprintf(lab, sizeof lab, "status=\"%s\"", statuses[i]);
        prom_sample(b, "lispbt_planner_calls_total", lab, (double)calls[i]);
    }
    prom_summary_scaled(b, "lispbt_planner_time_seconds", "planning time per call", NULL,
                        planner_timehist(ph), 1e9);
    prom_counter(b, "lispbt_planner_sink_lines_total", "record lines written to the sink", NULL,
                 (double)written);
    prom_counter(b, "lispbt_planner_sink_errors_total", "failed sink writes", NULL, (double)errors);
    for (k = 0; k <= IC_N; k++) { /* one family at a time, every instance inside it */
        instfamily(b, k, argc, argv);
    }
    return lisp_scratchstring(S);
}

const lisp_Reg metrics_lib[] = {
    {"metrics.prometheus", 0, LISP_VARARG, cfun_metrics_prometheus, LISP_FRUNTIME,
     "(metrics.prometheus [inst ...]) -> Prometheus text exposition of host metrics"},
    {NULL, 0, 0, NULL, 0, NULL}};
