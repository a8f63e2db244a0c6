/*
** mem.h -- the per-host allocator hook and its accounting.
** See LICENSE for copyright.
**
** Every C-heap allocation the engine makes goes through a mem_Heap owned by
** one host, so per-host byte counts and allocation counts are exact (specs
** use 'nalloc' to prove that a steady-state tick allocates nothing).  The hook
** has the shape of lua_Alloc: (ud, ptr, osize, nsize); frees pass the old size.
**
** The limit.  A heap may have a budget (mem_setlimit: the host's heap_limit
** option).  It covers every byte allocated through the heap after the limit
** was set -- Lisp objects and every other engine structure alike -- so one
** number bounds the host's whole footprint above its fixed startup
** structures ('base').  The check is one compare on the fast path: 'cap' is
** base + limit, or SIZE_MAX when there is none.  An allocation that would
** take 'bytes' past 'cap' fails like a failed malloc (NULL, counted in
** 'nrefused'); the heap itself never collects.  Callers that can free
** memory (the Lisp state: a full collection) do so and retry, and every
** caller reports a failure as "FUNCTION: out of memory" (lisp_memerror).
**
** Threading: a mem_Heap is used only on the thread that owns the host.  Worker
** threads never allocate through it (the scheduler takes its job records on
** the owner thread, at submit).
*/
#ifndef LISPBT_MEM_H
#define LISPBT_MEM_H

#include "conf.h"

typedef void *(*mem_Alloc)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct mem_Heap {
    mem_Alloc f;        /* the hook; mem_default unless a test installs one */
    void *ud;           /* its user data */
    size_t bytes;       /* bytes currently allocated through this heap */
    size_t cap;         /* 'bytes' may not exceed this (SIZE_MAX: no limit) */
    size_t base;        /* 'bytes' when the limit was set (not charged) */
    size_t limit;       /* the budget above 'base' (0: no limit) */
    uint64_t nrefused;  /* allocations refused by the limit */
    uint64_t nalloc;    /* number of successful allocations (incl. growth) */
    uint64_t nbytes;    /* bytes ever allocated (growths counted by their increase) */
    uint64_t nfree;     /* number of frees */
    int64_t fail_after; /* tests: fail the Nth next allocation (0 = never) */
    int fail_sticky;    /* tests: ...and every allocation after it, until */
    int failing;        /* tests clear 'failing' */
} mem_Heap;

/* realloc/free; the default hook.  Safe to call from any thread. */
void *mem_default(void *ud, void *ptr, size_t osize, size_t nsize);

/* Initialise 'M' (the caller's) with the default hook, zero counters and no
** failure injection. */
void mem_init(mem_Heap *M);

/* Set the budget: from now on 'bytes' may grow by at most 'limit' bytes
** above its current value (0 = no limit).  Setting it again re-bases it. */
void mem_setlimit(mem_Heap *M, size_t limit);

/* Bytes charged against the limit now: 'bytes' above 'base' (0 if below). */
size_t mem_charged(const mem_Heap *M);

/* Allocate 'n' bytes; returns NULL on failure (including a refusal by the
** limit).  Never raises. */
void *mem_alloc(mem_Heap *M, size_t n);

/* Allocate 'n' zeroed bytes; returns NULL on failure.  Never raises. */
void *mem_calloc(mem_Heap *M, size_t n);

/* Resize 'p' (of 'osize' bytes; NULL with osize 0 allocates) to 'nsize'.
** 'nsize' 0 frees 'p' and returns NULL.  On failure returns NULL and 'p'
** stays valid and owned by the caller.  Never raises. */
void *mem_realloc(mem_Heap *M, void *p, size_t osize, size_t nsize);

/* Free 'p' of 'n' bytes (NULL is a no-op).  'p' is no longer valid. */
void mem_free(mem_Heap *M, void *p, size_t n);

#endif
