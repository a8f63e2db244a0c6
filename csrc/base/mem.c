/*
** mem.c -- the per-host allocator hook and its accounting.
** See LICENSE for copyright.
*/
#include "conf.h"

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
    if (injectfail(M)) {
        return NULL;
    }
    q = M->f(M->ud, p, p ? osize : 0, nsize);
    if (q == NULL) {
        return NULL;
    }
    M->bytes += nsize - (p ? osize : 0);
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
