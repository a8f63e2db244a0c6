/*
** host_impl.h -- TEMPORARY: the lispbt_Host struct, for the engine code
** that still reads its fields on this branch.  See LICENSE for copyright.
**
** Issue #12 makes lispbt_Host opaque (host.h).  The engine branch removes
** every use of these fields from csrc/bt, sched, planner and obs; once it
** is merged, move this struct into host.c and delete this file, the
** include at the end of host.h, H(S) and host_recalibrate.  Nothing in
** csrc/lua/ or examples/ may include this file (they are compiled with
** LISPBT_HOST_OPAQUE, which keeps host.h from including it).
*/
#ifndef LISPBT_HOST_IMPL_H
#define LISPBT_HOST_IMPL_H

#include "host.h"

struct planner_Host;

struct lispbt_Host {
    mem_Heap mem;   /* every C-heap allocation of this host */
    lisp_State *S;  /* NULL once closed */
    host_Opts opts;
    struct bt_Reg *bt;        /* leaf registry and blackboard keys */
    struct sched_Pool *sched; /* worker pool; NULL once closed */
    struct planner_Host *planner; /* planner arena, record ring, file sink */
    log_Ring log;             /* host log ring (thread-safe) */
    int log_ok;
    clk_Clock clock; /* every timestamp of the host (clock.h) */
    /* cycle-counter rate, for durations: refined at most every 'recal'
    ** cycles over the host's whole life (from cbase/nsbase to c0) */
    double ns_per_cycle;
    uint64_t ns_mul; /* ns_per_cycle * 2^32, for short durations */
    uint64_t cbase;  /* first calibration point */
    int64_t nsbase;
    uint64_t c0;     /* cycle count of the last refinement */
    uint64_t recal;  /* cycles between refinements */
    void *ud;        /* the embedder's state (host_setuserdata) */
    void (*deadkey)(void *ud, int64_t key); /* host_set_deadkey */
    void *deadkey_ud;
};

/* Refine the cycle rate at cycle count 'c' over the host's whole life (one
** vDSO clock read, no system call).  Only durations use the rate: every
** timestamp comes from H->clock. */
void host_recalibrate(lispbt_Host *H, uint64_t c);

/* The host of a Lisp state. */
#define H(S) ((lispbt_Host *)lisp_host(S))

#endif
