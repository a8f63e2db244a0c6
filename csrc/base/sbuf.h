/*
** sbuf.h -- a growable text buffer for the read/render side (dumps, printer,
** JSON).  See LICENSE for copyright.
**
** A buffer made with sbuf_initm allocates through a host's mem_Heap, so its
** bytes count against the host's heap_limit (mem.h); one made with sbuf_init
** uses the C heap directly (malloc/realloc: only for text that no script
** can make large).  Rendering happens only when a user asks for text, never
** on a tick path.  An allocation failure (or a refusal by the limit) sets
** 'oom' and turns later appends into no-ops, so callers check once at the
** end.
** The owner frees with sbuf_free; 'p' is NUL-terminated whenever len > 0.
*/
#ifndef LISPBT_SBUF_H
#define LISPBT_SBUF_H

#include "conf.h"

#include <stdarg.h>

#include "mem.h"

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
    mem_Heap *M; /* NULL: the C heap */
} sbuf;

/* None of these raises or aborts: a failed growth sets b->oom and every
** later append to 'b' does nothing (the text so far stays intact). */

/* An empty buffer on the C heap (p == NULL, no allocation); clears 'oom'. */
void sbuf_init(sbuf *b);
/* An empty buffer whose text is allocated through 'M' (charged to it). */
void sbuf_initm(sbuf *b, mem_Heap *M);
/* Release the text and reset 'b' to empty (keeping its heap); 'b' is
** reusable. */
void sbuf_free(sbuf *b);
/* Append the 'n' bytes at 's' (which may contain NULs). */
void sbuf_putn(sbuf *b, const char *s, size_t n);
/* Append the NUL-terminated 's'. */
void sbuf_puts(sbuf *b, const char *s);
void sbuf_putc(sbuf *b, char c);
/* Append printf-formatted text (nothing on an encoding error). */
void sbuf_printf(sbuf *b, const char *fmt, ...) LISPBT_PRINTF(2, 3);
void sbuf_vprintf(sbuf *b, const char *fmt, va_list ap);
/* Append 's' so that it stays on one line: backslash, newline and CR are
** escaped (\\ \n \r), other control bytes as \xHH; tabs stay. */
void sbuf_oneline(sbuf *b, const char *s);
/* Append 's' as a JSON string literal (quotes and escapes included). */
void sbuf_json_string(sbuf *b, const char *s, size_t n);
/* Append a finite double in shortest round-trip form ("%.17g" fallback);
** non-finite values become 'null' so the output stays valid JSON. */
void sbuf_json_number(sbuf *b, double x);

#endif
