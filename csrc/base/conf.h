/*
** conf.h -- build configuration shared by every lispbt C file.
** See LICENSE for copyright.
**
** This is the first include of every .c file in csrc/.  It holds the few
** macros that describe the compiler and the build mode, never engine state:
** nothing in lispbt is a process global (one engine = one host value).
*/
#ifndef LISPBT_CONF_H
#define LISPBT_CONF_H

#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif

#include <stddef.h>
#include <stdint.h>

/* The only symbol the shared object exports is 'luaopen_lispbt'; everything
** else is hidden by -fvisibility=hidden, so internal functions need no mark. */
#if defined(__GNUC__)
#define LISPBT_EXPORT __attribute__((visibility("default")))
#define lispbt_likely(x) __builtin_expect(!!(x), 1)
#define lispbt_unlikely(x) __builtin_expect(!!(x), 0)
#define LISPBT_NORETURN __attribute__((noreturn))
#define LISPBT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define LISPBT_COLD __attribute__((noinline, cold))
#define LISPBT_INLINE inline __attribute__((always_inline))
#define LISPBT_NOINLINE __attribute__((noinline))
#else
#define LISPBT_COLD
#define LISPBT_INLINE inline
#define LISPBT_NOINLINE
#define LISPBT_EXPORT
#define lispbt_likely(x) (x)
#define lispbt_unlikely(x) (x)
#define LISPBT_NORETURN
#define LISPBT_PRINTF(f, a)
#endif

/* Internal consistency checks: compiled only into test builds (LISPBT_TESTS),
** in the manner of Lua's lua_assert. Never used for user errors. */
#if defined(LISPBT_TESTS)
#include <assert.h>
#define lispbt_assert(c) assert(c)
#else
#define lispbt_assert(c) ((void)0)
#endif

/* Slots of a Lisp state (lisp_slot): the object each layer above the
** language keeps per state, set by whoever assembles the layers (host.c). */
enum {
    LISPBT_SLOT_BT,      /* bt_Reg: leaf registry, keys, the engine's services */
    LISPBT_SLOT_SCHED,   /* sched_Pool */
    LISPBT_SLOT_PLANNER, /* planner_Host */
    LISPBT_SLOT_OBS,     /* obs_Events: the event stream */
    LISPBT_NSLOTS
};

/* Walk limits (docs/architecture.md, "Walks over data").  Every recursive
** walk over Lisp or Lua data is bounded by one of these, so no input can
** overflow the C stack; each walk raises a clean 'NAME: PROBLEM' error (or,
** for printing, writes "...") when it reaches its limit.  Output is bounded
** in bytes as well, so a value that shares structure (a doubling built 40
** times) cannot make printing exponential. */
#define LISPBT_READ_MAXDEPTH 1000     /* reader: nested lists, vecs, maps, quotes */
#define LISPBT_COMPILE_MAXDEPTH 2000  /* compiler: nested forms */
#define LISPBT_EQUAL_MAXDEPTH 10000   /* equal?: nested lists, vecs, maps */
#define LISPBT_PRINT_MAXDEPTH 1000    /* printer: deeper nesting prints "..." */
#define LISPBT_PRINT_LIMIT 1048576    /* default bytes of one printed value */
#define LISPBT_PRINT_LIMIT_MIN 16     /* smallest print_limit a host accepts */
#define LISPBT_REPR_MAX 100           /* bytes of a value inside an error message */
#define LISPBT_TOLUA_MAXDEPTH 1000    /* Lisp -> Lua conversion nesting */
#define LISPBT_TOLISP_MAXDEPTH 100    /* Lua -> Lisp conversion nesting */

/* The event stream (csrc/obs/obs_events.c, docs/events.md). */
#define OBS_EVT_WRITER_MS 10    /* the writer thread looks for new records this often */
#define OBS_EVT_SEGS 32         /* stretches of a tick's records found per backward pass */
#define OBS_EVT_LISTEN_MAX 1024 /* lines queued for host.events.on_line before drops */
#define OBS_EVT_TAIL_MAX 65536  /* lines events.dump keeps: min(ring size, this) */
#define OBS_EVT_SNAPSHOT_MAX 256 /* bb_snapshot entries without (events.snapshot-bb #t) */
#define OBS_EVT_TICK_HZ 50.0   /* run_start's tick_hz until events.set-tick-hz (the reference's) */
#define OBS_EVT_PREVIEW_MAX 4096 /* bytes of a bb_snapshot entry's value (as the reference) */

/* Profile level 'sampled (docs/profiling.md): node durations on 1 tick in N
** on average.  The default N keeps the level under 4 ns/node on seq-255
** (bench/README.md); the largest N a user may ask for. */
#define LISPBT_SAMPLE_EVERY 16
#define LISPBT_SAMPLE_EVERY_MAX 1048576

/* Lisp collector pacing (csrc/lisp/lisp_gc.c).  The work unit is one value
** slot traversed (an object swept counts two): about 5-50 ns, more in a
** large heap that misses the caches. */
#define LISPBT_GC_MINTHRESHOLD ((size_t)1024 * 1024) /* smallest heap that starts a cycle (bench/README.md) */
#define LISPBT_GC_PAUSE 200        /* next cycle at this % of the heap a cycle leaves */
#define LISPBT_GC_STEPBYTES 8192   /* bytes allocated between two automatic steps */
#define LISPBT_GC_STEPWORK 4096    /* work units of one automatic step (at most 2 steps in one pause) */
#define LISPBT_GC_VECCHUNK 4096    /* items of a vec traversed in one piece */
#define LISPBT_GC_REMARKS 8        /* value-stack remarks before the atomic step, per cycle */
#define LISPBT_GC_STRESSWORK 64    /* work units of a gc_stress "incremental" step */
#define LISPBT_GC_CACHEBYTES ((size_t)1024 * 1024) /* freed small blocks kept for reuse */
#define LISPBT_GC_STEP_MAX_US 1000000 /* largest budget of gc.step / host:gc_step */

/* Monotonic clock in nanoseconds (vDSO, no system call on Linux). */
#include <time.h>
static inline int64_t lispbt_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The calling thread's CPU time in nanoseconds (a system call on Linux:
** for coarse spans such as a GC pause, not for hot paths). */
static inline int64_t lispbt_thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A cheap monotonic cycle counter for profiling (rdtsc on x86-64; the
** nanosecond clock elsewhere).  Hosts calibrate it against lispbt_now_ns. */
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t lispbt_cycles(void) {
    return __rdtsc();
}
#define LISPBT_HAVE_TSC 1
#else
static inline uint64_t lispbt_cycles(void) {
    return (uint64_t)lispbt_now_ns();
}
#define LISPBT_HAVE_TSC 0
#endif

/* Wall clock in milliseconds since the epoch (for planner records). */
static inline int64_t lispbt_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
