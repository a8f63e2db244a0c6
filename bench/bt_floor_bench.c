/*
** bt_floor_bench.c -- the C floor for bench/bt_bench.lua: the work shape of
** one tick of seq-255 (a sequence over 255 trivially-returning leaves, 256
** nodes), done by the smallest C loops we can write.  It links nothing from
** the engine.  See LICENSE for copyright.
**
** Build by hand:  cc -std=c11 -O2 -Icsrc bench/bt_floor_bench.c -o bt_floor_bench
** Output: one 'name value unit' line per figure (process CPU time, median of
** 7 runs of ~20 ms each); all ns/node figures divide by 256 nodes.
**
**   fnptr_ns_per_node     for-loop over an array of 255 leaf function
**                         pointers, seq semantics (stop at non-success)
**   switch_ns_per_node    lispbt's shape: flat preorder node array
**                         {kind, size, nkids, leaf}, a recursive exec() that
**                         switches on the kind; leaves are indirect calls
**   counters_ns_per_node  + per node: last status stored, count[status]++
**                         (what lispbt's 'counters level adds)
**   timing_ns_per_node    + per node: two rdtsc reads, cycles->ns, last/
**                         total/max, and a log-linear histogram bucket
**                         (what lispbt's 'timing level adds)
**   timing1_ns_per_node   the same with one counter read per node instead
**                         of two (a node's entry time = the previous
**                         node's exit time)
**   rdtsc1_ns_per_node    counters + one counter read per node and nothing
**                         done with it: what any 'timing level must cost
**   rdtsc_ns              one cycle-counter read, back to back
**   trace_ns_per_node     counters + a 32-byte enter and exit record stamped
**                         with the tick's time into a 4096-event ring
**                         (lispbt's tracing at level counters)
*/
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SUCCESS = 1, FAILURE = 2, RUNNING = 3 };
enum { K_SEQ, K_SEL, K_LEAF };

#define NLEAVES 255
#define NNODES (NLEAVES + 1)
#define RUNS 7

typedef int (*LeafFn)(void *ctx);

typedef struct Node {
    uint8_t kind;
    uint16_t nkids;
    uint32_t size;
    LeafFn fn;
} Node;

typedef struct Stats {
    uint64_t count[4];
    int64_t last_ns, total_ns, max_ns;
} Stats;

typedef struct Event { /* the size of lispbt's stored trace record */
    int64_t tick, ts_ns, x;
    uint32_t w, aux;
} Event;

#define RING 4096
#define HBUCKETS 512

typedef struct Inst {
    const Node *nodes;
    uint8_t last[NNODES];
    Stats stats[NNODES];
    uint32_t hist[NNODES][HBUCKETS];
    Event ring[RING];
    uint32_t head;
    int64_t tick, tick_ts;
    uint64_t stamp;
    double ns_per_cycle;
} Inst;

__attribute__((noinline)) static int leaf_success(void *ctx) {
    (void)ctx;
    return SUCCESS;
}
__attribute__((noinline)) static int leaf_failure(void *ctx) {
    (void)ctx;
    return FAILURE;
}

/* Picked through a volatile so the compiler cannot see which leaf it is. */
static LeafFn volatile pick[2] = {leaf_success, leaf_failure};

static volatile int sink;

static int64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- 1. array of function pointers ---- */

__attribute__((noinline)) static int tick_fnptr(LeafFn *fns, int n, void *ctx) {
    int i;
    for (i = 0; i < n; i++) {
        int st = fns[i](ctx);
        if (st != SUCCESS) {
            return st;
        }
    }
    return SUCCESS;
}

/* ---- 2..7. switch over a flat node array ----
**
** One body, compiled once per mode with the mode as a constant (as lispbt's
** executor is), so each mode's loop carries only its own work. */

enum { M_PLAIN, M_COUNTERS, M_TIMING, M_TIMING1, M_RDTSC1, M_TRACE };

static inline unsigned hbucket(uint64_t v) {
    unsigned msb = 63u - (unsigned)__builtin_clzll(v | 1u);
    unsigned shift = msb > 4 ? msb - 4 : 0u;
    uint64_t b = ((uint64_t)shift << 4) + (v >> shift);
    return b < HBUCKETS ? (unsigned)b : HBUCKETS - 1;
}

static inline void emit(Inst *I, int kind, int32_t node, int st) {
    Event *e = &I->ring[I->head];
    I->head = (I->head + 1) & (RING - 1);
    e->tick = I->tick;
    e->ts_ns = I->tick_ts;
    e->x = -1;
    e->w = (uint32_t)kind | (uint32_t)st << 4 | (uint32_t)(node + 1) << 10;
    e->aux = 0;
}

#define FLOOR_INLINE static inline __attribute__((always_inline))

FLOOR_INLINE int exec_mode(Inst *I, int32_t i, uint64_t *t, int mode);

/* Tick node 'i'.  M_TIMING reads the counter at a node's start and end;
** M_TIMING1 once per node ('*t' is the boundary: a node's entry time is the
** exit time of the node before it, or its parent's entry). */
FLOOR_INLINE int body(Inst *I, int32_t i, uint64_t *t, int mode) {
    const Node *n = &I->nodes[i];
    int st = SUCCESS;
    uint64_t t0 = mode == M_TIMING ? lispbt_cycles() : mode == M_TIMING1 ? *t : 0;
    if (mode == M_TRACE) {
        emit(I, 2, i, 0);
    }
    switch (n->kind) {
        case K_SEQ:
        case K_SEL: {
            int cont = n->kind == K_SEQ ? SUCCESS : FAILURE;
            int32_t c = i + 1, k;
            for (k = 0; k < n->nkids; k++) {
                st = exec_mode(I, c, t, mode);
                c += (int32_t)I->nodes[c].size;
                if (st != cont) {
                    break;
                }
            }
            break;
        }
        default:
            st = n->fn(I);
            if (mode == M_TIMING1) {
                *t = lispbt_cycles();
            }
            break;
    }
    if (mode == M_PLAIN) {
        return st;
    }
    I->last[i] = (uint8_t)st;
    I->stats[i].count[st]++;
    if (mode == M_TIMING || mode == M_TIMING1) {
        Stats *s = &I->stats[i];
        uint64_t t1 = mode == M_TIMING ? lispbt_cycles() : *t;
        int64_t d = (int64_t)((double)(t1 - t0) * I->ns_per_cycle);
        s->last_ns = d;
        s->total_ns += d;
        s->max_ns = d > s->max_ns ? d : s->max_ns;
        I->hist[i][hbucket((uint64_t)d)]++;
    }
    if (mode == M_RDTSC1) {
        I->stamp = lispbt_cycles();
    }
    if (mode == M_TRACE) {
        emit(I, 3, i, st);
    }
    return st;
}

#define FLOOR_EXEC(name, mode)                                            \
    __attribute__((noinline)) static int name(Inst *I, int32_t i, uint64_t *t) { \
        return body(I, i, t, mode);                                       \
    }
FLOOR_EXEC(exec_plain, M_PLAIN)
FLOOR_EXEC(exec_counters, M_COUNTERS)
FLOOR_EXEC(exec_timing, M_TIMING)
FLOOR_EXEC(exec_timing1, M_TIMING1)
FLOOR_EXEC(exec_rdtsc1, M_RDTSC1)
FLOOR_EXEC(exec_trace, M_TRACE)

FLOOR_INLINE int exec_mode(Inst *I, int32_t i, uint64_t *t, int mode) {
    switch (mode) { /* a constant wherever body() is expanded */
        case M_PLAIN: return exec_plain(I, i, t);
        case M_COUNTERS: return exec_counters(I, i, t);
        case M_TIMING: return exec_timing(I, i, t);
        case M_TIMING1: return exec_timing1(I, i, t);
        case M_RDTSC1: return exec_rdtsc1(I, i, t);
        default: return exec_trace(I, i, t);
    }
}

/* One tick from the root: the boundary and the tick's timestamp start here. */
static int tick_mode(Inst *I, int mode) {
    uint64_t t = lispbt_cycles();
    if (mode == M_TRACE) {
        I->tick_ts = (int64_t)((double)t * I->ns_per_cycle);
    }
    return exec_mode(I, 0, &t, mode);
}

/* Median ns per tick of 'mode' (or of the fn-pointer loop when 'fns' is
** set); each run takes ~20 ms. */
static double median_ns_per_tick(Inst *I, int mode, LeafFn *fns) {
    double v[RUNS];
    int r, j, k;
    long ticks = 2000;
    /* size the run: ~20 ms */
    for (;;) {
        int64_t t0 = cpu_ns();
        for (k = 0; k < ticks; k++) {
            sink = fns ? tick_fnptr(fns, NLEAVES, I) : tick_mode(I, mode);
        }
        if (cpu_ns() - t0 > 10000000 || ticks > (1L << 28)) {
            ticks *= 2;
            break;
        }
        ticks *= 2;
    }
    for (r = 0; r < RUNS; r++) {
        int64_t t0 = cpu_ns();
        for (k = 0; k < ticks; k++) {
            I->tick++;
            sink = fns ? tick_fnptr(fns, NLEAVES, I) : tick_mode(I, mode);
        }
        v[r] = (double)(cpu_ns() - t0) / (double)ticks;
    }
    for (r = 1; r < RUNS; r++) { /* insertion sort */
        double x = v[r];
        for (j = r - 1; j >= 0 && v[j] > x; j--) {
            v[j + 1] = v[j];
        }
        v[j + 1] = x;
    }
    return v[RUNS / 2];
}

static double calibrate(void) {
    int64_t t0 = lispbt_now_ns(), t1;
    uint64_t c0 = lispbt_cycles(), c1;
    do {
        t1 = lispbt_now_ns();
    } while (t1 - t0 < 20000000);
    c1 = lispbt_cycles();
    return (double)(t1 - t0) / (double)(c1 - c0);
}

int main(void) {
    static Node nodes[NNODES];
    static LeafFn fns[NLEAVES];
    Inst *I = calloc(1, sizeof(Inst));
    int i;
    if (I == NULL) {
        return 1;
    }
    nodes[0].kind = K_SEQ;
    nodes[0].nkids = NLEAVES;
    nodes[0].size = NNODES;
    for (i = 1; i < NNODES; i++) {
        nodes[i].kind = K_LEAF;
        nodes[i].size = 1;
        nodes[i].fn = pick[0];
        fns[i - 1] = pick[0];
    }
    I->nodes = nodes;
    I->ns_per_cycle = calibrate();
    printf("nodes %d nodes\n", NNODES);
    printf("fnptr_ns_per_node %.3f ns\n", median_ns_per_tick(I, 0, fns) / NNODES);
    printf("switch_ns_per_node %.3f ns\n", median_ns_per_tick(I, M_PLAIN, NULL) / NNODES);
    printf("counters_ns_per_node %.3f ns\n", median_ns_per_tick(I, M_COUNTERS, NULL) / NNODES);
    printf("timing_ns_per_node %.3f ns\n", median_ns_per_tick(I, M_TIMING, NULL) / NNODES);
    printf("timing1_ns_per_node %.3f ns\n", median_ns_per_tick(I, M_TIMING1, NULL) / NNODES);
    printf("rdtsc1_ns_per_node %.3f ns\n", median_ns_per_tick(I, M_RDTSC1, NULL) / NNODES);
    printf("trace_ns_per_node %.3f ns\n", median_ns_per_tick(I, M_TRACE, NULL) / NNODES);
    {
        uint64_t acc = 0;
        int64_t t0 = cpu_ns();
        for (i = 0; i < 10000000; i++) {
            acc += lispbt_cycles();
        }
        printf("rdtsc_ns %.3f ns\n", (double)(cpu_ns() - t0) / 1e7);
        sink = (int)(acc & 1);
    }
    free(I);
    return 0;
}
