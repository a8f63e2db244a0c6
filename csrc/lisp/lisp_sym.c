/*
** lisp_sym.c -- the per-state symbol intern table.  See LICENSE for copyright.
**
** Symbols are interned per state and compared by pointer.  The table is
** weak: a symbol that is unmarked, unbound and not 'fixed' is freed by
** lispS_sweep.  Symbols are not on the 'allgc' list; the table is their
** only index.  The symbols bound when a cycle starts are its roots, marked
** a few buckets at a time in the cycle's first steps (lispS_markbound,
** lisp_gc.c's root scan); a global is stored with a barrier
** (lispS_setvalue, lisp_obj.h) that marks the symbol and the value while
** marking, so a global bound or set in a bucket already scanned is marked
** too, and the end of marking looks at no symbol again.  The table is swept in steps
** after the end of marking (lispS_sweep); a dead symbol interned again
** before its bucket is swept is revived (nothing points at it).
*/
#include "conf.h"

#include <string.h>

#include "lisp_obj.h"

int lispS_init(lisp_State *S) {
    S->symcap = 512;
    S->symcount = 0;
    S->symtab = mem_calloc(S->M, sizeof(lisp_Symbol *) * S->symcap);
    return S->symtab ? 0 : -1;
}

void lispS_free(lisp_State *S) {
    size_t i;
    for (i = 0; i < S->symcap && S->symtab; i++) {
        lisp_Symbol *s = S->symtab[i];
        while (s) {
            lisp_Symbol *n = s->hnext;
            size_t sz = sizeof(lisp_Symbol) + s->len + 1;
            mem_free(S->M, s, sz);
            S->gcbytes -= sz;
            s = n;
        }
    }
    mem_free(S->M, S->symtab, sizeof(lisp_Symbol *) * S->symcap);
    S->symtab = NULL;
}

static void resize(lisp_State *S) {
    size_t ncap = S->symcap * 2, i;
    lisp_Symbol **nt = mem_calloc(S->M, sizeof(lisp_Symbol *) * ncap);
    if (nt == NULL) {
        return; /* keep the old table: chains just get longer */
    }
    for (i = 0; i < S->symcap; i++) {
        lisp_Symbol *s = S->symtab[i];
        while (s) {
            lisp_Symbol *n = s->hnext;
            size_t j = (size_t)(s->hash & (ncap - 1));
            s->hnext = nt[j];
            nt[j] = s;
            s = n;
        }
    }
    mem_free(S->M, S->symtab, sizeof(lisp_Symbol *) * S->symcap);
    S->symtab = nt;
    S->symcap = ncap;
    if (S->gcstate == GCSsweep) {
        S->sweepsym = 0; /* the buckets moved: again from the first (swept ones stay) */
    }
    /* the root scan's cursor (lispS_markbound) stays: the table only
    ** doubles, and a symbol of bucket i moves to i or i + the old size, so
    ** every symbol of a bucket not scanned yet is still at or past it */
}

lisp_Symbol *lispS_intern(lisp_State *S, const char *str, size_t n) {
    uint64_t h = hash64(str, n);
    size_t i = (size_t)(h & (S->symcap - 1));
    lisp_Symbol *s;
    for (s = S->symtab[i]; s; s = s->hnext) {
        if (s->hash == h && s->len == n && memcmp(s->name, str, n) == 0) {
            if (S->gcstate == GCSsweep && (s->h.marked & (S->curwhite ^ LISP_WHITES))) {
                s->h.marked = S->curwhite; /* dead, not swept yet: alive again */
            }
            return s;
        }
    }
    /* may collect, which may sweep symbols: no pointer into the table is
    ** held across this call */
    s = (lisp_Symbol *)lispC_newobj(S, LISP_TSYMBOL, sizeof(lisp_Symbol) + n + 1);
    s->value.tag = LISP_TUNBOUND;
    s->value.u.i = 0;
    s->hash = h;
    s->fixed = 0;
    s->len = n;
    memcpy(s->name, str, n);
    s->name[n] = '\0';
    if (S->symcount >= S->symcap) {
        resize(S);
    }
    i = (size_t)(h & (S->symcap - 1));
    s->hnext = S->symtab[i];
    S->symtab[i] = s;
    S->symcount++;
    return s;
}

int64_t lispS_markbound(lisp_State *S, int64_t work) {
    size_t i;
    for (i = S->gcrootpos; i < S->symcap && work > 0; i++) {
        lisp_Symbol *s;
        work -= 1;
        for (s = S->symtab[i]; s; s = s->hnext) {
            if (s->fixed || s->value.tag != LISP_TUNBOUND) {
                lispC_markobj(S, &s->h);
            }
            work -= 3; /* lisp_gc.c's GC_ROOTWORK */
        }
    }
    S->gcrootpos = i;
    return work;
}

int64_t lispS_sweep(lisp_State *S, int64_t work) {
    size_t i;
    uint8_t dead = S->curwhite ^ LISP_WHITES; /* called after the whites swap */
    for (i = S->sweepsym; i < S->symcap && work > 0; i++) {
        lisp_Symbol **p = &S->symtab[i];
        work -= 1;
        while (*p) {
            lisp_Symbol *s = *p;
            if (s->h.marked & dead) {
                size_t sz = sizeof(lisp_Symbol) + s->len + 1;
                *p = s->hnext;
                mem_free(S->M, s, sz);
                S->gcbytes -= sz;
                S->nobjects--;
                S->freed_objects++;
                S->symcount--;
            } else {
                s->h.marked = S->curwhite;
                p = &s->hnext;
            }
            work -= 2;
        }
    }
    S->sweepsym = i;
    return work;
}
