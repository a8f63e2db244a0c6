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

/* Like clk_now, without raising the clock (for stamps no later stamp of
** the host needs to be ordered after, such as a worker's job start: the
** owner sees it only through a later clock read of its own). */
static inline int64_t clk_peek(const clk_Clock *k) {
    int64_t t = lispbt_now_ns();
    int64_t h = atomic_load_explicit(&((clk_Clock *)k)->hi, memory_order_acquire);
    return t > h ? t : h;
}

#endif
