/*
** obs_bench.c -- cost of the observability write paths.
** See LICENSE for copyright.
**
** Build: gcc -std=c11 -O2 -Icsrc -Icsrc/obs csrc/base/mem.c csrc/base/sbuf.c
**        csrc/base/hist.c csrc/bt/bt_trace.c csrc/base/log.c
**        bench/obs_bench.c -lpthread -lm -o obs_bench
**
** Reports ns per operation for: trace_node / trace_push into a full ring
** against a plain store loop writing the same 32-byte records into an
** array with the same wraparound (the floor any ring can reach);
** hist_record (fine and coarse) against a plain counter increment; and
** log_write, enabled and filtered out.  Numbers are targets to watch, not
** assertions.
*/
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "hist.h"
#include "bt_trace.h"

#define CLOBBER() __asm__ volatile("" ::: "memory")

static double per_op(int64_t t0, int64_t t1, long n) {
    return (double)(t1 - t0) / (double)n;
}

static uint64_t rnd(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Best of 'reps' runs of each loop, to drop scheduler noise. */
#define REPS 5

static void bench_trace(long n) {
    mem_Heap M;
    trace_Ring R;
    trace_Rec *plain = calloc(4096, sizeof *plain);
    double best_emit = 1e9, best_push = 1e9, best_plain = 1e9;
    long i;
    int r;
    mem_init(&M);
    if (trace_init(&R, &M, 4096) != 0 || plain == NULL) {
        printf("setup failed\n");
        exit(1);
    }
    for (i = 0; i < 8192; i++) { /* full ring */
        trace_node(&R, TRACE_NODE_ENTER, i, 1, i, TRACE_ST_NONE, -1);
    }
    for (r = 0; r < REPS; r++) {
        int64_t t0 = lispbt_now_ns(), t1;
        uint32_t head = 0;
        uint64_t seq = 1;
        double d;
        for (i = 0; i < n; i++) {
            trace_node(&R, TRACE_NODE_EXIT, i, (int32_t)(i & 63), i, TRACE_ST_SUCCESS, 100);
            CLOBBER();
        }
        t1 = lispbt_now_ns();
        d = per_op(t0, t1, n);
        best_emit = d < best_emit ? d : best_emit;

        t0 = lispbt_now_ns();
        for (i = 0; i < n; i++) {
            trace_Event ev = trace_event(TRACE_NODE_EXIT, i, (int32_t)(i & 63), i);
            ev.status = TRACE_ST_SUCCESS;
            ev.duration_ns = 100;
            trace_push(&R, &ev);
            CLOBBER();
        }
        t1 = lispbt_now_ns();
        d = per_op(t0, t1, n);
        best_push = d < best_push ? d : best_push;

        t0 = lispbt_now_ns();
        for (i = 0; i < n; i++) { /* the same stores, no ring logic */
            trace_Rec *e = &plain[head];
            head = head + 1 == 4096 ? 0 : head + 1;
            e->tick = i;
            e->ts_ns = i;
            e->x = 100;
            e->w = (uint32_t)seq++;
            e->aux = 0;
            CLOBBER();
        }
        t1 = lispbt_now_ns();
        d = per_op(t0, t1, n);
        best_plain = d < best_plain ? d : best_plain;
    }
    printf("trace_node (ring full, 4096)   %6.2f ns/event\n", best_emit);
    printf("trace_push (copy, ring full)   %6.2f ns/event\n", best_push);
    printf("plain 32-byte store loop       %6.2f ns/event\n", best_plain);
    {
        trace_Event w = trace_event(TRACE_WARNING, 0, -1, 0);
        int64_t t0 = lispbt_now_ns(), t1;
        long m = n / 10;
        for (i = 0; i < m; i++) {
            trace_push_msg(&R, &w, "tick budget overrun: 25.1 ms > 20 ms");
            CLOBBER();
        }
        t1 = lispbt_now_ns();
        printf("trace_push_msg (36-byte text)  %6.2f ns/event\n", per_op(t0, t1, m));
    }
    trace_free(&R);
    free(plain);
}

static void bench_hist(long n) {
    enum { NV = 4096 };
    int64_t *v = malloc(NV * sizeof *v);
    uint32_t *plain = calloc(4096, sizeof *plain);
    uint64_t seed = 12345;
    int p, r;
    long i;
    for (i = 0; i < NV; i++) { /* 100 ns .. 10 ms, log-spread */
        v[i] = 100 + (int64_t)(rnd(&seed) % 100) * (int64_t)(1 << (rnd(&seed) % 17));
    }
    for (p = 0; p < 2; p++) {
        int sb = p == 0 ? HIST_FINE : HIST_COARSE;
        hist_Hist h;
        uint32_t *st = calloc(hist_nbuckets(sb), sizeof *st);
        double best = 1e9;
        hist_init(&h, sb, st);
        for (r = 0; r < REPS; r++) {
            int64_t t0 = lispbt_now_ns(), t1;
            double d;
            for (i = 0; i < n; i++) {
                hist_record(&h, v[i & (NV - 1)]);
                CLOBBER();
            }
            t1 = lispbt_now_ns();
            d = per_op(t0, t1, n);
            best = d < best ? d : best;
        }
        printf("hist_record (%s, %4zu buckets) %5.2f ns/sample\n", p == 0 ? "fine  " : "coarse",
               hist_nbuckets(sb), best);
        free(st);
    }
    {
        double best = 1e9;
        for (r = 0; r < REPS; r++) {
            int64_t t0 = lispbt_now_ns(), t1;
            double d;
            for (i = 0; i < n; i++) {
                plain[(uint64_t)v[i & (NV - 1)] & 4095]++;
                CLOBBER();
            }
            t1 = lispbt_now_ns();
            d = per_op(t0, t1, n);
            best = d < best ? d : best;
        }
        printf("plain counter increment        %6.2f ns/sample\n", best);
    }
    free(v);
    free(plain);
}

static void bench_log(long n) {
    mem_Heap M;
    log_Ring R;
    long i;
    int64_t t0, t1;
    mem_init(&M);
    if (log_init(&R, &M, 1024) != 0) {
        exit(1);
    }
    t0 = lispbt_now_ns();
    for (i = 0; i < n; i++) {
        log_write(&R, LOG_DEBUG, i, 3, "scheduler", "job %ld done in %d ns", i, 1234);
    }
    t1 = lispbt_now_ns();
    printf("log_write (enabled, 1 thread)  %6.2f ns/record\n", per_op(t0, t1, n));
    log_set_level(&R, LOG_WARN);
    t0 = lispbt_now_ns();
    for (i = 0; i < n; i++) {
        log_write(&R, LOG_DEBUG, i, 3, "scheduler", "job %ld done in %d ns", i, 1234);
        CLOBBER();
    }
    t1 = lispbt_now_ns();
    printf("log_write (filtered out)       %6.2f ns/record\n", per_op(t0, t1, n));
    log_free(&R);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 20000000;
    bench_trace(n);
    bench_hist(n);
    bench_log(n / 20);
    return 0;
}
