/*
** lib_metrics.c -- metrics.prometheus: every host metric in the Prometheus
** text exposition format (SPEC §9).  See LICENSE for copyright.
**
** (metrics.prometheus [inst ...]) renders the host's Lisp heap and GC
** (pause summary), C heap, log records by level, scheduler counters and
** queue-delay/run-time quantiles, planner calls by status and planning
** time, and, for each instance given, its tick counters and tick-duration
** summary labelled instance="ID".  Durations are in seconds, the
** Prometheus base unit.  Rendering happens only when called.
*/
#include "conf.h"

#include <stdio.h>

#include "bt.h"
#include "host.h"
#include "lib_planner.h"
#include "metrics.h"
#include "sbuf.h"
#include "sched.h"

static void schedquantiles(sbuf *b, const char *name, const char *help, int64_t p50, int64_t p90,
                           int64_t p99, int64_t p999) {
    prom_family(b, name, "gauge", help);
    prom_sample(b, name, "quantile=\"0.5\"", (double)p50 / 1e9);
    prom_sample(b, name, "quantile=\"0.9\"", (double)p90 / 1e9);
    prom_sample(b, name, "quantile=\"0.99\"", (double)p99 / 1e9);
    prom_sample(b, name, "quantile=\"0.999\"", (double)p999 / 1e9);
}

static lisp_Value cfun_metrics_prometheus(lisp_State *S, int argc, lisp_Value *argv) {
    lispbt_Host *H = H(S);
    lisp_HeapStats h;
    uint64_t logs[LOG_NLEVELS], calls[4], written, errors;
    static const char *const statuses[4] = {"ok", "timeout", "noaction", "error"};
    sbuf *b;
    int i;
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
    prom_counter(b, "lispbt_gc_collections_total", "full collections", NULL,
                 (double)h.collections);
    prom_summary_scaled(b, "lispbt_gc_pause_seconds", "GC pause durations", NULL, lisp_gchist(S),
                        1e9);
    prom_gauge(b, "lispbt_c_heap_bytes", "C heap bytes held by the host", NULL,
               (double)lisp_mem(S)->bytes);
    prom_counter(b, "lispbt_c_heap_allocations_total", "C heap allocations by the host", NULL,
                 (double)lisp_mem(S)->nalloc);
    log_counts(&H->log, logs);
    prom_family(b, "lispbt_log_records_total", "counter", "log records written, by level");
    for (i = 0; i < LOG_NLEVELS; i++) {
        char lab[40];
        snprintf(lab, sizeof lab, "level=\"%s\"", log_level_name(i));
        prom_sample(b, "lispbt_log_records_total", lab, (double)logs[i]);
    }
    if (H->sched) {
        sched_Stats s;
        sched_stats(H->sched, &s);
        prom_family(b, "lispbt_scheduler_jobs_total", "counter", "scheduler jobs, by event");
        prom_sample(b, "lispbt_scheduler_jobs_total", "event=\"submitted\"", (double)s.submitted);
        prom_sample(b, "lispbt_scheduler_jobs_total", "event=\"started\"", (double)s.started);
        prom_sample(b, "lispbt_scheduler_jobs_total", "event=\"completed\"", (double)s.completed);
        prom_sample(b, "lispbt_scheduler_jobs_total", "event=\"failed\"", (double)s.failed);
        prom_sample(b, "lispbt_scheduler_jobs_total", "event=\"cancelled\"", (double)s.cancelled);
        prom_sample(b, "lispbt_scheduler_jobs_total", "event=\"timed_out\"", (double)s.timed_out);
        prom_gauge(b, "lispbt_scheduler_queued", "jobs queued now", NULL, (double)s.queued);
        prom_gauge(b, "lispbt_scheduler_running", "jobs running now", NULL, (double)s.running);
        prom_gauge(b, "lispbt_scheduler_workers", "worker threads", NULL, (double)s.workers);
        schedquantiles(b, "lispbt_scheduler_queue_delay_seconds", "queue delay quantiles",
                       s.queue_delay_p50_ns, s.queue_delay_p90_ns, s.queue_delay_p99_ns,
                       s.queue_delay_p999_ns);
        schedquantiles(b, "lispbt_scheduler_run_time_seconds", "job run time quantiles",
                       s.run_time_p50_ns, s.run_time_p90_ns, s.run_time_p99_ns,
                       s.run_time_p999_ns);
    }
    planner_counts(H, calls, &written, &errors);
    prom_family(b, "lispbt_planner_calls_total", "counter", "planner calls, by status");
    for (i = 0; i < 4; i++) {
        char lab[40];
        snprintf(lab, sizeof lab, "status=\"%s\"", statuses[i]);
        prom_sample(b, "lispbt_planner_calls_total", lab, (double)calls[i]);
    }
    prom_summary_scaled(b, "lispbt_planner_time_seconds", "planning time per call", NULL,
                        planner_timehist(H), 1e9);
    prom_counter(b, "lispbt_planner_sink_lines_total", "record lines written to the sink", NULL,
                 (double)written);
    prom_counter(b, "lispbt_planner_sink_errors_total", "failed sink writes", NULL,
                 (double)errors);
    for (i = 0; i < argc; i++) {
        bt_Inst *I = lisp_udata(argv[i]);
        bt_TickStats t;
        char lab[40];
        int first = i == 0;
        snprintf(lab, sizeof lab, "instance=\"%lld\"", (long long)bt_inst_id(I));
        bt_tickstats(I, &t);
        prom_counter(b, "lispbt_bt_ticks_total", first ? "ticks" : NULL, lab, (double)t.count);
        prom_counter(b, "lispbt_bt_tick_overruns_total", first ? "ticks over budget" : NULL, lab,
                     (double)t.overruns);
        prom_counter(b, "lispbt_bt_errors_total", first ? "leaf errors" : NULL, lab,
                     (double)t.errors);
        prom_summary_scaled(b, "lispbt_bt_tick_seconds", first ? "tick durations" : NULL, lab,
                            bt_tickhist(I), 1e9);
    }
    return lisp_scratchstring(S);
}

const lisp_Reg metrics_lib[] = {
    {"metrics.prometheus", 0, LISP_VARARG, cfun_metrics_prometheus, LISP_FRUNTIME,
     "(metrics.prometheus [inst ...]) -> Prometheus text exposition of host metrics"},
    {NULL, 0, 0, NULL, 0, NULL}};
