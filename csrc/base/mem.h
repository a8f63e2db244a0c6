/*
** mem.h -- the per-host allocator hook and its accounting.
** See LICENSE for copyright.
**
** Every C-heap allocation the engine makes goes through a mem_Heap owned by
** one host, so per-host byte counts and allocation counts are exact (specs
** use 'nalloc' to prove that a steady-state tick allocates nothing).  The hook
** has the shape of lua_Alloc: (ud, ptr, osize, nsize); frees pass the old size.
**
** Threading: a mem_Heap is used only on the thread that owns the host.  Worker
** threads never allocate through it.
*/
#ifndef LISPBT_MEM_H
#define LISPBT_MEM_H

#include "conf.h"

typedef void *(*mem_Alloc)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct mem_Heap {
    mem_Alloc f;        /* the hook; mem_default unless a test installs one */
    void *ud;           /* its user data */
    size_t bytes;       /* bytes currently allocated through this heap */
    uint64_t nalloc;    /* number of successful allocations (incl. growth) */
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

/* Allocate 'n' bytes; returns NULL on failure.  Never raises. */
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
