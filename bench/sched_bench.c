/*
** sched_bench.c -- scheduler benchmark: trivial-job throughput and queue
** delay.  See LICENSE for copyright.
**
** Build (from the repo root):
**   cc -std=c11 -O2 -Icsrc -Icsrc/base -Icsrc/sched csrc/base/mem.c csrc/base/sbuf.c csrc/sched/sched.c \
**      bench/sched_bench.c -lpthread -lm -o sched_bench
** Output: one 'name value unit' line per figure.
** With the argument 'throughput' it runs only the throughput figures.
**
**   throughput      2 workers, trivial jobs, submit -> complete -> release,
**                   with up to 'WINDOW' jobs in flight (target >= 1e6/s);
**                   the median of RUNS runs, because with three busy threads
**                   on a 2-core machine one run can lose most of its time
**                   to the OS scheduler (throughput_min/max show the spread)
**   submit_ns       owner-side cost of one sched_submit in that loop
**   try_result_ns   owner-side cost of one sched_try_result (lock-free)
**   steady_*        a stream of one job every 10 us (100k jobs/s) for 1 s:
**                   queue delay percentiles (the owner busy-waits between
**                   submits, as a tight tick loop would)
**   heavy_*         the same at one job every 2 us (500k jobs/s)
**   sparse_*        one job every millisecond, workers asleep in between:
**                   queue delay includes the futex wake
**   cancel_wake_*   a job sleeping in sched_sleep_ns is cancelled: time
**                   from sched_cancel to the job's end (p50 and max of 101)
**   behind_long_*   2 workers, one inside an hour-long job, the other
**                   asleep: queue delay of a trivial job submitted then
**                   (p50 and max of 101; a sleeper must be woken for it)
**   free_1000_*     sched_free of a 2-worker pool with two sleepers running
**                   and 1000 jobs queued (median and max of RUNS)
**   waits_10000_*   10,000 waits (sched_submit_wait, the async-sleep-ms job)
**                   of 50 ms on 2 workers, polled at 1 kHz until all are
**                   done: wall time (target: about one sleep period, <= 2x)
** The specs only check that a cancel wakes a sleeper and that a free or a
** host close cancels everything (with hour-long sleepers, which would
** otherwise hang them); how fast is measured here.
*/
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "mem.h"
#include "sched.h"

#define WINDOW 4096
#define NJOBS 1000000 /* per run */
#define RUNS 5
#define STEADY_NS INT64_C(1000000000)
#define SPARSE_JOBS 2000

static int job_trivial(void *arg, const sched_Cancel *c) {
    (void)arg;
    (void)c;
    return 0;
}

static void nap_ns(int64_t ns) {
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    nanosleep(&ts, NULL);
}

/* User + system CPU time of the whole process, in ns. */
static int64_t cpu_ns(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static sched_Pool *make_pool(mem_Heap *M, int workers) {
    int err = 0;
    sched_Pool *P = sched_new(M, workers, &err);
    if (P == NULL) {
        fprintf(stderr, "sched_new failed: %d\n", err);
        exit(1);
    }
    return P;
}

static int cmpdouble(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One run: NJOBS jobs through pool 'P'; returns the wall time in ns and
** adds to the counters. */
static int64_t throughput_run(sched_Pool *P, int64_t *sub_ns, int64_t *nsub, uint64_t *polls) {
    static uint64_t ring[WINDOW];
    uint64_t head = 0, tail = 0, done = 0;
    int64_t t0 = lispbt_now_ns();
    while (done < NJOBS) {
        /* fill the window */
        while (head - tail < WINDOW && head < NJOBS) {
            int64_t a = 0;
            if ((head & 255) == 0) {
                a = lispbt_now_ns();
            }
            ring[head % WINDOW] =
                sched_submit(P, "trivial", job_trivial, NULL, 0, 0);
            if ((head & 255) == 0) {
                *sub_ns += lispbt_now_ns() - a;
                (*nsub)++;
            }
            head++;
        }
        /* retire finished jobs, oldest first */
        while (tail < head) {
            uint64_t id = ring[tail % WINDOW];
            (*polls)++;
            if (sched_try_result(P, id, NULL) < SCHED_DONE) {
                break;
            }
            sched_release(P, id);
            tail++;
            done++;
        }
    }
    return lispbt_now_ns() - t0;
}

static void bench_throughput(void) {
    mem_Heap M;
    sched_Pool *P;
    uint64_t polls = 0;
    int64_t c0, c1, sub_ns = 0, nsub = 0, wall = 0;
    double rate[RUNS];
    int r;
    mem_init(&M);
    P = make_pool(&M, 2);
    c0 = cpu_ns();
    for (r = 0; r < RUNS; r++) {
        int64_t ns = throughput_run(P, &sub_ns, &nsub, &polls);
        wall += ns;
        rate[r] = (double)NJOBS * 1e9 / (double)ns;
    }
    c1 = cpu_ns();
    qsort(rate, RUNS, sizeof rate[0], cmpdouble);
    printf("throughput_jobs %d jobs\n", NJOBS * RUNS);
    printf("throughput %.0f jobs/s\n", rate[RUNS / 2]);
    printf("throughput_min %.0f jobs/s\n", rate[0]);
    printf("throughput_max %.0f jobs/s\n", rate[RUNS - 1]);
    printf("throughput_per_job %.1f ns\n", (double)wall / ((double)NJOBS * RUNS));
    printf("throughput_cpu_per_job %.1f ns\n", (double)(c1 - c0) / ((double)NJOBS * RUNS));
    printf("submit_ns %.1f ns\n", (double)sub_ns / (double)nsub);
    printf("throughput_polls_per_job %.2f polls\n", (double)polls / ((double)NJOBS * RUNS));
    printf("throughput_allocs %llu allocs\n", (unsigned long long)M.nalloc);
    sched_free(P);
}

static void bench_try_result(void) {
    mem_Heap M;
    sched_Pool *P;
    uint64_t ids[64];
    int64_t t0, t1;
    int i, k, sink = 0;
    const int n = 10000000;
    mem_init(&M);
    P = make_pool(&M, 2);
    for (i = 0; i < 64; i++) {
        ids[i] = sched_submit(P, "t", job_trivial, NULL, 0, 0);
    }
    nap_ns(10000000);
    t0 = lispbt_now_ns();
    for (i = 0, k = 0; i < n; i++, k = (k + 1) & 63) {
        sink += sched_try_result(P, ids[k], NULL);
    }
    t1 = lispbt_now_ns();
    printf("try_result_ns %.2f ns\n", (double)(t1 - t0) / n + (sink & 0) * 0.0);
    sched_free(P);
}

static void print_delay(const char *prefix, sched_Pool *P) {
    sched_Stats s;
    sched_stats(P, &s);
    printf("%s_jobs %llu jobs\n", prefix, (unsigned long long)s.completed);
    printf("%s_queue_delay_p50 %lld ns\n", prefix,
           (long long)s.queue_delay_p50_ns);
    printf("%s_queue_delay_p90 %lld ns\n", prefix,
           (long long)s.queue_delay_p90_ns);
    printf("%s_queue_delay_p99 %lld ns\n", prefix,
           (long long)s.queue_delay_p99_ns);
    printf("%s_queue_delay_p999 %lld ns\n", prefix,
           (long long)s.queue_delay_p999_ns);
    printf("%s_queue_delay_max %lld ns\n", prefix,
           (long long)s.queue_delay_max_ns);
}

/* Submit one job every 'gap' ns for 'dur' ns (busy-waiting between
** submits), retiring finished ones as we go. */
static void stream(sched_Pool *P, int64_t gap, int64_t dur, int64_t maxjobs) {
    static uint64_t ring[WINDOW];
    uint64_t head = 0, tail = 0;
    int64_t start = lispbt_now_ns(), next = start;
    while ((dur == 0 || lispbt_now_ns() - start < dur) &&
           (maxjobs == 0 || (int64_t)head < maxjobs)) {
        if (lispbt_now_ns() >= next && head - tail < WINDOW) {
            ring[head++ % WINDOW] =
                sched_submit(P, "stream", job_trivial, NULL, 0, 0);
            next += gap;
        }
        while (tail < head &&
               sched_try_result(P, ring[tail % WINDOW], NULL) >= SCHED_DONE) {
            sched_release(P, ring[tail++ % WINDOW]);
        }
        if (gap >= 100000) {
            int64_t left = next - lispbt_now_ns();
            if (left > 50000) {
                nap_ns(left - 50000);
            }
        }
    }
    while (tail < head) {
        if (sched_try_result(P, ring[tail % WINDOW], NULL) >= SCHED_DONE) {
            sched_release(P, ring[tail++ % WINDOW]);
        }
    }
}

/* A stream of one job every 'gap' ns on a fresh 2-worker pool. */
static void bench_stream(const char *prefix, int64_t gap, int64_t dur,
                         int64_t maxjobs) {
    mem_Heap M;
    sched_Pool *P;
    mem_init(&M);
    P = make_pool(&M, 2);
    stream(P, gap, dur, maxjobs);
    printf("%s_rate %.0f jobs/s\n", prefix, 1e9 / (double)gap);
    print_delay(prefix, P);
    sched_free(P);
}

/* Sleeps for an hour unless cancelled. */
static int job_sleep_hour(void *arg, const sched_Cancel *c) {
    (void)arg;
    return sched_sleep_ns(c, INT64_C(3600) * 1000000000);
}

/* Wait until job 'id' has left the queue. */
static void wait_running(sched_Pool *P, uint64_t id) {
    while (sched_try_result(P, id, NULL) == SCHED_QUEUED) {
        nap_ns(10000);
    }
}

static void bench_cancel_wake(void) {
    enum { N = 101 };
    mem_Heap M;
    sched_Pool *P;
    double us[N];
    int i;
    mem_init(&M);
    P = make_pool(&M, 1);
    for (i = 0; i < N; i++) {
        sched_JobInfo ji;
        uint64_t id = sched_submit(P, "sleep", job_sleep_hour, NULL, 0, 0);
        int64_t t0;
        wait_running(P, id);
        nap_ns(100000); /* let it reach its wait */
        t0 = lispbt_now_ns();
        sched_cancel(P, id);
        while (sched_try_result(P, id, NULL) < SCHED_DONE) {
            nap_ns(10000);
        }
        sched_info(P, id, &ji);
        us[i] = (double)(ji.end_ns - t0) * 1e-3;
        sched_release(P, id);
    }
    qsort(us, N, sizeof us[0], cmpdouble);
    printf("cancel_wake_p50 %.1f us\n", us[N / 2]);
    printf("cancel_wake_max %.1f us\n", us[N - 1]);
    sched_free(P);
}

static void bench_behind_long(void) {
    enum { N = 101 };
    mem_Heap M;
    sched_Pool *P;
    double us[N];
    uint64_t longid;
    int i;
    mem_init(&M);
    P = make_pool(&M, 2);
    longid = sched_submit(P, "sleep", job_sleep_hour, NULL, 0, 0);
    wait_running(P, longid);
    for (i = 0; i < N; i++) {
        sched_JobInfo ji;
        uint64_t id;
        nap_ns(3000000); /* the free worker goes to sleep (its nap is 1 ms) */
        id = sched_submit(P, "trivial", job_trivial, NULL, 0, 0);
        while (sched_try_result(P, id, NULL) < SCHED_DONE) {
            nap_ns(10000);
        }
        sched_info(P, id, &ji);
        us[i] = (double)(ji.start_ns - ji.submit_ns) * 1e-3;
        sched_release(P, id);
    }
    qsort(us, N, sizeof us[0], cmpdouble);
    printf("behind_long_delay_p50 %.1f us\n", us[N / 2]);
    printf("behind_long_delay_max %.1f us\n", us[N - 1]);
    sched_free(P);
}

static void bench_free(void) {
    double ms[RUNS];
    int r, i;
    for (r = 0; r < RUNS; r++) {
        mem_Heap M;
        sched_Pool *P;
        uint64_t a, b;
        int64_t t0;
        mem_init(&M);
        P = make_pool(&M, 2);
        a = sched_submit(P, "sleep", job_sleep_hour, NULL, 0, 0);
        b = sched_submit(P, "sleep", job_sleep_hour, NULL, 0, 0);
        wait_running(P, a);
        wait_running(P, b);
        for (i = 0; i < 1000; i++) {
            sched_submit(P, "sleep", job_sleep_hour, NULL, 0, 0);
        }
        t0 = lispbt_now_ns();
        sched_free(P);
        ms[r] = (double)(lispbt_now_ns() - t0) * 1e-6;
    }
    qsort(ms, RUNS, sizeof ms[0], cmpdouble);
    printf("free_1000_queued_ms %.3f ms\n", ms[RUNS / 2]);
    printf("free_1000_queued_max %.3f ms\n", ms[RUNS - 1]);
}

/* 10,000 waits of WAITS_MS on a 2-worker pool, submitted at once, polled
** until every one is done: the wall time from the first submit (about one
** sleep period: waits hold no worker), and the owner's CPU per wait. */
#define NWAITS 10000
#define WAITS_MS 50
static void bench_waits(void) {
    static uint64_t ids[NWAITS];
    double ms[RUNS];
    int64_t cpu = 0;
    int r, i;
    for (r = 0; r < RUNS; r++) {
        mem_Heap M;
        sched_Pool *P;
        int64_t t0, c0;
        int left = NWAITS;
        mem_init(&M);
        P = make_pool(&M, 2);
        t0 = lispbt_now_ns();
        c0 = cpu_ns();
        for (i = 0; i < NWAITS; i++) {
            ids[i] = sched_submit_wait(P, "sleep", WAITS_MS * INT64_C(1000000), 0);
        }
        while (left > 0) { /* a tick loop polling every sleeper */
            left = 0;
            for (i = 0; i < NWAITS; i++) {
                if (ids[i] != 0) {
                    if (sched_try_result(P, ids[i], NULL) < SCHED_DONE) {
                        left++;
                    } else {
                        sched_release(P, ids[i]);
                        ids[i] = 0;
                    }
                }
            }
            if (left > 0) {
                nap_ns(1000000); /* a 1 kHz tick */
            }
        }
        ms[r] = (double)(lispbt_now_ns() - t0) * 1e-6;
        cpu += cpu_ns() - c0;
        sched_free(P);
    }
    qsort(ms, RUNS, sizeof ms[0], cmpdouble);
    printf("waits_10000_sleep %d ms\n", WAITS_MS);
    printf("waits_10000_wall_ms %.1f ms\n", ms[RUNS / 2]);
    printf("waits_10000_wall_max %.1f ms\n", ms[RUNS - 1]);
    printf("waits_10000_periods %.2f x\n", ms[RUNS / 2] / WAITS_MS);
    printf("waits_cpu_per_wait %.1f ns\n", (double)cpu / ((double)NWAITS * RUNS));
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "throughput") == 0) {
        /* only the throughput figures (for reproducing its variance) */
        bench_throughput();
        return 0;
    }
    bench_waits();
    bench_throughput();
    bench_try_result();
    bench_stream("steady", 10000, STEADY_NS, 0);
    bench_stream("heavy", 2000, STEADY_NS, 0);
    bench_stream("sparse", 1000000, 0, SPARSE_JOBS);
    bench_cancel_wake();
    bench_behind_long();
    bench_free();
    return 0;
}
