/*
** clock.h -- a host's timestamp clock (clk_).  See LICENSE for copyright.
**
** Every timestamp a host hands out (blackboard writes, trace events, log
** records, scheduler job times, series rows) is CLOCK_MONOTONIC nanoseconds
** passed through one clk_Clock, which remembers the highest stamp it has
** given or been raised to.  clk_now never returns less than that, on any
** thread, so stamps taken in causal order (a write before a tick, a submit
** before the worker's start, one log record before the next under the log's
** lock) come out in the same order, even where a stamp was derived from the
** cycle counter (the BT layer's in-tick stamps, raised through clk_raise).
**
** clk_now costs one vDSO clock read and, when time has moved on (nearly
** always), one compare-and-swap; clk_peek only loads.  Thread-safe.
**
** A clk_Rate converts cycle-counter differences (lispbt_cycles) to
** nanoseconds, for durations only: it is calibrated against the monotonic
** clock at creation and refined over its whole life.  A clk_Rate belongs to
** one thread (the host's); clk_ns only reads it.
*/
#ifndef LISPBT_CLOCK_H
#define LISPBT_CLOCK_H

#include "conf.h"

#include <stdatomic.h>

typedef struct clk_Clock {
    _Atomic int64_t hi; /* highest stamp handed out or raised to */
} clk_Clock;

/* Raise the clock to at least 't'; returns max(t, every earlier stamp). */
static inline int64_t clk_raise(clk_Clock *k, int64_t t) {
    int64_t h = atomic_load_explicit(&k->hi, memory_order_acquire);
    while (t > h) {
        if (atomic_compare_exchange_weak_explicit(&k->hi, &h, t, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            return t;
        }
    }
    return h;
}

/* A stamp for now: the monotonic clock, never below an earlier stamp. */
static inline int64_t clk_now(clk_Clock *k) {
    return clk_raise(k, lispbt_now_ns());
}

/* Like clk_now, without raising the clock: one load, no compare-and-swap.
** The stamp is not below any earlier one, and no later clk_now or clk_peek
** is below it (a later read of the monotonic clock is not lower and the
** high-water mark only grows), so it suits a worker's job start and a
** traced tick's start; a stamp computed past the clock (from the cycle
** counter) still needs clk_raise. */
static inline int64_t clk_peek(const clk_Clock *k) {
    int64_t t = lispbt_now_ns();
    int64_t h = atomic_load_explicit(&((clk_Clock *)k)->hi, memory_order_acquire);
    return t > h ? t : h;
}

/* The cycle-counter rate.  Kept within (0, 256] ns per cycle: a duration
** under 2^32 cycles then converts to under 2^40 ns with integer math. */
typedef struct clk_Rate {
    double ns_per_cycle;
    uint64_t ns_mul; /* ns_per_cycle * 2^32, for short durations */
    uint64_t cbase;  /* first calibration point: cycles ... */
    int64_t nsbase;  /* ... and monotonic ns */
    uint64_t c0;     /* cycle count of the last refinement */
    uint64_t recal;  /* cycles between refinements (~20 ms) */
} clk_Rate;

static inline void clk_rate_set(clk_Rate *r, double ns_per_cycle) {
    r->ns_per_cycle = ns_per_cycle > 0 && ns_per_cycle <= 256 ? ns_per_cycle : 1.0;
    r->ns_mul = (uint64_t)(r->ns_per_cycle * 4294967296.0);
}

/* Calibrate 'r': measure the cycle counter against the monotonic clock
** for ~200 us (busy wait).  Without a cycle counter the rate is 1 ns per
** "cycle" (lispbt_cycles is then the monotonic clock) and never refined.
** Never fails. */
static inline void clk_rate_init(clk_Rate *r) {
    int64_t n0 = lispbt_now_ns(), n1;
    uint64_t c1;
    r->c0 = r->cbase = lispbt_cycles();
    r->nsbase = n0;
    if (!LISPBT_HAVE_TSC) {
        clk_rate_set(r, 1.0);
        r->recal = UINT64_MAX;
        return;
    }
    do {
        n1 = lispbt_now_ns();
        c1 = lispbt_cycles();
    } while (n1 - n0 < 200000);
    clk_rate_set(r, c1 > r->c0 ? (double)(n1 - n0) / (double)(c1 - r->c0) : 1.0);
    r->recal = (uint64_t)(20e6 / r->ns_per_cycle); /* ~20 ms */
}

/* Refine the rate at cycle count 'c' over the rate's whole life (from its
** first calibration point to now: one vDSO clock read, no system call). */
static inline void clk_rate_refine(clk_Rate *r, uint64_t c) {
    int64_t n = lispbt_now_ns();
    if (LISPBT_HAVE_TSC && c > r->cbase && n > r->nsbase) {
        clk_rate_set(r, (double)(n - r->nsbase) / (double)(c - r->cbase));
    }
    r->c0 = c;
}

/* Refine the rate if 'recal' cycles have passed since the last refinement
** (one compare on the common path). */
static inline void clk_rate_check(clk_Rate *r, uint64_t c) {
    if (lispbt_unlikely(c - r->c0 > r->recal)) {
        clk_rate_refine(r, c);
    }
}

/* 'cycles' in nanoseconds.  Integer math below 2^32 cycles. */
static inline int64_t clk_ns(const clk_Rate *r, uint64_t cycles) {
    if (lispbt_likely(cycles < ((uint64_t)1 << 32))) {
        return (int64_t)((cycles * r->ns_mul) >> 32); /* no float math per node */
    }
    return (int64_t)((double)cycles * r->ns_per_cycle);
}

#endif
