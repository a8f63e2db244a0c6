/*
** mem.c -- the per-host allocator hook and its accounting.
** See LICENSE for copyright.
*/
#include "conf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void *mem_default(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}

void mem_init(mem_Heap *M) {
    memset(M, 0, sizeof *M);
    M->f = mem_default;
    M->cap = SIZE_MAX;
}

void mem_setlimit(mem_Heap *M, size_t limit) {
    M->limit = limit;
    M->base = M->bytes;
    M->cap = (limit == 0 || limit > SIZE_MAX - M->bytes) ? SIZE_MAX : M->bytes + limit;
}

size_t mem_charged(const mem_Heap *M) {
    return M->bytes > M->base ? M->bytes - M->base : 0;
}

/* Test hook: the allocation at which 'fail_after' counts down to zero
** fails; with 'fail_sticky' every later one fails too, until a test clears
** 'failing' (so even a retry after a collection fails). */
static int injectfail(mem_Heap *M) {
    if (lispbt_likely(M->fail_after == 0 && !M->failing)) {
        return 0;
    }
    if (M->failing) {
        return 1;
    }
    if (--M->fail_after == 0) {
        M->failing = M->fail_sticky;
        return 1;
    }
    return 0;
}

void *mem_realloc(mem_Heap *M, void *p, size_t osize, size_t nsize) {
    void *q;
    if (nsize == 0) {
        mem_free(M, p, osize);
        return NULL;
    }
    if (p == NULL) {
        osize = 0;
    }
    /* the limit: one compare ('bytes' >= 'osize', so no wrap below zero;
    ** 'nsize' past SIZE_MAX - bytes is refused rather than wrapped) */
    if (lispbt_unlikely(nsize > M->cap - (M->bytes - osize))) {
        M->nrefused++;
        return NULL;
    }
    if (injectfail(M)) {
        return NULL;
    }
    q = M->f(M->ud, p, osize, nsize);
    if (q == NULL) {
        return NULL;
    }
    M->bytes += nsize - osize;
    M->nbytes += nsize > osize ? nsize - osize : 0;
    M->nalloc++;
    return q;
}

void *mem_alloc(mem_Heap *M, size_t n) {
    return mem_realloc(M, NULL, 0, n);
}

void *mem_calloc(mem_Heap *M, size_t n) {
    void *p = mem_alloc(M, n);
    if (p) {
        memset(p, 0, n);
    }
    return p;
}

void mem_free(mem_Heap *M, void *p, size_t n) {
    if (p == NULL) {
        return;
    }
    M->f(M->ud, p, n, 0);
    M->bytes -= n;
    M->nfree++;
}
