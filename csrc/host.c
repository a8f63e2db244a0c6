/*
** host.c -- creating and closing hosts.  See LICENSE for copyright.
**
** Order matters: close stops the subsystems that may still reference Lisp
** values or run jobs (scheduler first: cancel queued jobs, join workers),
** then frees the Lisp heap, then the rest.  The struct itself outlives a
** close so that Lua handles can report "host is closed".
*/
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "host.h"

void host_defaults(host_Opts *o) {
    memset(o, 0, sizeof *o);
    o->workers = 2;
    o->trace_capacity = 4096;
    o->log_capacity = 1024;
    o->planner_capacity = 1024;
    o->max_depth = 10000;
}

lispbt_Host *host_new(const host_Opts *o, char *err, size_t errlen) {
    lispbt_Host *H = calloc(1, sizeof *H);
    lisp_Opts lo;
    const lisp_Reg *const *lib;
    int n = 0;
    if (H == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    mem_init(&H->mem);
    H->opts = *o;
    lo.max_depth = o->max_depth;
    lo.heap_limit = o->heap_limit;
    lo.gc_stress = o->gc_stress;
    H->S = lisp_new(&H->mem, &lo, H, lispbt_builtins);
    if (H->S == NULL) {
        snprintf(err, errlen, "cannot create the Lisp state (out of memory)");
        goto fail;
    }
    /* pin every builtin by ordinal: the Lua mirror calls these even if
    ** Lisp code redefines the global of the same name */
    for (lib = lispbt_builtins; *lib; lib++) {
        const lisp_Reg *r;
        for (r = *lib; r->name; r++) {
            n++;
        }
    }
    H->prims = mem_alloc(&H->mem, sizeof(int) * (size_t)n);
    if (H->prims == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (lib = lispbt_builtins; *lib; lib++) {
        const lisp_Reg *r;
        for (r = *lib; r->name; r++) {
            lisp_Value v;
            lisp_getglobal(H->S, r->name, &v);
            H->prims[H->nprims] = lisp_pin(H->S, v);
            if (H->prims[H->nprims] < 0) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            H->nprims++;
        }
    }
    return H;
fail:
    host_free(H);
    return NULL;
}

void host_close(lispbt_Host *H) {
    if (H == NULL || H->S == NULL) {
        return;
    }
    lisp_free(H->S);
    H->S = NULL;
    mem_free(&H->mem, H->prims, sizeof(int) * (size_t)H->nprims);
    H->prims = NULL;
}

void host_free(lispbt_Host *H) {
    if (H == NULL) {
        return;
    }
    host_close(H);
    free(H);
}
