/*
** sbuf.c -- growable text buffer.  See sbuf.h.  See LICENSE for copyright.
*/
#include "conf.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

void sbuf_init(sbuf *b) {
    sbuf_initm(b, NULL);
}

void sbuf_initm(sbuf *b, mem_Heap *M) {
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
    b->M = M;
}

void sbuf_free(sbuf *b) {
    if (b->M) {
        mem_free(b->M, b->p, b->cap);
    } else {
        free(b->p);
    }
    sbuf_initm(b, b->M);
}

/* Make room for 'n' more bytes plus a NUL; 0 on success. */
static int reserve(sbuf *b, size_t n) {
    size_t need, ncap;
    char *np;
    if (b->oom) {
        return -1;
    }
    need = b->len + n + 1;
    if (need <= b->cap) {
        return 0;
    }
    ncap = b->cap ? b->cap * 2 : 64;
    while (ncap < need && ncap <= SIZE_MAX / 2) {
        ncap *= 2;
    }
    if (ncap < need || need < n) { /* would wrap */
        b->oom = 1;
        return -1;
    }
    np = b->M ? mem_realloc(b->M, b->p, b->cap, ncap) : realloc(b->p, ncap);
    if (np == NULL) {
        b->oom = 1;
        return -1;
    }
    b->p = np;
    b->cap = ncap;
    return 0;
}

void sbuf_putn(sbuf *b, const char *s, size_t n) {
    if (reserve(b, n) != 0) {
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sbuf_puts(sbuf *b, const char *s) {
    sbuf_putn(b, s, strlen(s));
}

void sbuf_putc(sbuf *b, char c) {
    sbuf_putn(b, &c, 1);
}

void sbuf_vprintf(sbuf *b, const char *fmt, va_list ap) {
    va_list ap2;
    int n;
    char small[256];
    va_copy(ap2, ap);
    n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof small) {
        sbuf_putn(b, small, (size_t)n);
    } else if (reserve(b, (size_t)n) == 0) {
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void sbuf_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

void sbuf_oneline(sbuf *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\') {
            sbuf_putn(b, "\\\\", 2);
        } else if (c == '\n') {
            sbuf_putn(b, "\\n", 2);
        } else if (c == '\r') {
            sbuf_putn(b, "\\r", 2);
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            char x[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            sbuf_putn(b, x, 4);
        } else {
            sbuf_putc(b, (char)c);
        }
    }
}

void sbuf_json_string(sbuf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t i;
    sbuf_putc(b, '"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
            case '"': sbuf_putn(b, "\\\"", 2); break;
            case '\\': sbuf_putn(b, "\\\\", 2); break;
            case '\n': sbuf_putn(b, "\\n", 2); break;
            case '\r': sbuf_putn(b, "\\r", 2); break;
            case '\t': sbuf_putn(b, "\\t", 2); break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                    sbuf_putn(b, u, 6);
                } else {
                    sbuf_putc(b, (char)c);
                }
        }
    }
    sbuf_putc(b, '"');
}

void sbuf_json_number(sbuf *b, double x) {
    char tmp[40];
    int prec;
    if (!isfinite(x)) {
        sbuf_puts(b, "null");
        return;
    }
    /* shortest precision that reads back to the same double */
    for (prec = 6; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, x);
        if (strtod(tmp, NULL) == x) {
            break;
        }
    }
    sbuf_puts(b, tmp);
}
