/*
** lisp_sym.c -- the per-state symbol intern table.  See LICENSE for copyright.
**
** Symbols are interned per state and compared by pointer.  The table is
** weak: a symbol that is unmarked, unbound and not 'fixed' is freed by
** lispS_sweep.  Symbols are not on the 'allgc' list; the table is their
** only index.  Bound symbols (globals) are roots (lispS_markbound); a
** global's value is stored without a write barrier, because the end of
** every marking marks every bound symbol's value again.
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
}

lisp_Symbol *lispS_intern(lisp_State *S, const char *str, size_t n) {
    uint64_t h = hash64(str, n);
    size_t i = (size_t)(h & (S->symcap - 1));
    lisp_Symbol *s;
    for (s = S->symtab[i]; s; s = s->hnext) {
        if (s->hash == h && s->len == n && memcmp(s->name, str, n) == 0) {
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

void lispS_markbound(lisp_State *S, int values) {
    size_t i;
    for (i = 0; i < S->symcap; i++) {
        lisp_Symbol *s;
        for (s = S->symtab[i]; s; s = s->hnext) {
            if (s->fixed || s->value.tag != LISP_TUNBOUND) {
                lispC_markobj(S, &s->h);
                if (values && s->value.tag != LISP_TUNBOUND) {
                    lispC_mark(S, s->value);
                }
            }
        }
    }
}

void lispS_sweep(lisp_State *S) {
    size_t i;
    uint8_t dead = S->curwhite ^ LISP_WHITES; /* called after the whites swap */
    for (i = 0; i < S->symcap; i++) {
        lisp_Symbol **p = &S->symtab[i];
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
        }
    }
}
