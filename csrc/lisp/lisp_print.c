/*
** lisp_print.c -- the printer: written (readable) and display forms.
** See LICENSE for copyright.
**
** 'write' output reads back to an equal value for every readable type:
** floats print in the shortest form that round-trips and always carry a
** '.', 'e', 'inf' or 'nan' so they read back as floats; strings are quoted
** with the reader's escapes; vecs print as #(...) and maps as #{k v ...}.
** Unreadable objects print as #<closure NAME>, #<primitive NAME>, #<rng>,
** #<pq len=N>, #<bt_def ID>: 'save' rejects them (lisp_readable).
**
** Depth: nesting beyond PRINT_MAXDEPTH prints "..." (so a vec containing
** itself terminates); long lists iterate on the cdr with cycle detection.
*/
#include "conf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lisp_obj.h"
#include "sbuf.h"

#define PRINT_MAXDEPTH 1000

static void writefloat(sbuf *b, double x) {
    char tmp[40];
    int prec;
    if (isnan(x)) {
        sbuf_puts(b, "+nan.0");
        return;
    }
    if (isinf(x)) {
        sbuf_puts(b, x > 0 ? "+inf.0" : "-inf.0");
        return;
    }
    /* at least one digit per integer digit below 1e16, so %g stays in
    ** fixed notation there: 100.0 prints "100.0", not "1e+02" */
    prec = fabs(x) >= 1 && fabs(x) < 1e16 ? (int)floor(log10(fabs(x))) + 1 : 1;
    for (; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, x);
        if (strtod(tmp, NULL) == x) {
            break;
        }
    }
    sbuf_puts(b, tmp);
    if (strpbrk(tmp, ".eEn") == NULL) {
        sbuf_puts(b, ".0");
    }
}

static void writestring(sbuf *b, const char *s, size_t n) {
    size_t i;
    sbuf_putc(b, '"');
    for (i = 0; i < n; i++) {
        switch (s[i]) {
            case '"': sbuf_puts(b, "\\\""); break;
            case '\\': sbuf_puts(b, "\\\\"); break;
            case '\n': sbuf_puts(b, "\\n"); break;
            case '\t': sbuf_puts(b, "\\t"); break;
            case '\r': sbuf_puts(b, "\\r"); break;
            default: sbuf_putc(b, s[i]);
        }
    }
    sbuf_putc(b, '"');
}

static void writerec(lisp_State *S, sbuf *b, lisp_Value v, int display, int depth);

/* Does symbol name 's' need |...| to read back as the same symbol? */
static int needsbars(const char *s, size_t n) {
    size_t i;
    char *end;
    if (n == 0 || s[0] == '#' || (n == 3 && memcmp(s, "nil", 3) == 0) || (n == 1 && s[0] == '.')) {
        return 1;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == '(' || c == ')' || c == '"' || c == ';' || c == '\'' || c == '`' ||
            c == ',' || c == '{' || c == '}' || c == '|' || c == 127) {
            return 1;
        }
    }
    /* would it read as a number? */
    if ((s[0] >= '0' && s[0] <= '9') || ((s[0] == '-' || s[0] == '+' || s[0] == '.') && n > 1)) {
        strtod(s, &end);
        if (*end == '\0' || lispR_specialfloat(s, n, NULL)) {
            return 1;
        }
    }
    return 0;
}

static void writesymbol(sbuf *b, const char *s, size_t n, int display) {
    size_t i;
    if (display || !needsbars(s, n)) {
        sbuf_putn(b, s, n);
        return;
    }
    sbuf_putc(b, '|');
    for (i = 0; i < n; i++) {
        if (s[i] == '|' || s[i] == '\\') {
            sbuf_putc(b, '\\');
        }
        sbuf_putc(b, s[i]);
    }
    sbuf_putc(b, '|');
}

static void writelist(lisp_State *S, sbuf *b, lisp_Value v, int display, int depth) {
    lisp_Value slow = v;
    int64_t n = 0;
    lisp_Value head = lisp_car(v);
    /* 'x style for the reader's quote forms */
    if (head.tag == LISP_TSYMBOL && lisp_cdr(v).tag == LISP_TCONS &&
        lisp_cdr(lisp_cdr(v)).tag == LISP_TNIL) {
        const char *pre = NULL;
        if (head.u.o == &S->s_quote->h) {
            pre = "'";
        } else if (head.u.o == &S->s_quasiquote->h) {
            pre = "`";
        } else if (head.u.o == &S->s_unquote->h) {
            pre = ",";
        } else if (head.u.o == &S->s_unquote_splicing->h) {
            pre = ",@";
        }
        if (pre) {
            sbuf_puts(b, pre);
            writerec(S, b, lisp_car(lisp_cdr(v)), display, depth + 1);
            return;
        }
    }
    sbuf_putc(b, '(');
    for (;;) {
        writerec(S, b, lisp_car(v), display, depth + 1);
        v = lisp_cdr(v);
        n++;
        if ((n & 1) == 0) {
            slow = lisp_cdr(slow);
        }
        if (v.tag == LISP_TNIL) {
            break;
        }
        if (v.tag != LISP_TCONS) {
            sbuf_puts(b, " . ");
            writerec(S, b, v, display, depth + 1);
            break;
        }
        if (v.u.o == slow.u.o || b->oom) {
            sbuf_puts(b, " ...");
            break;
        }
        sbuf_putc(b, ' ');
    }
    sbuf_putc(b, ')');
}

static void writerec(lisp_State *S, sbuf *b, lisp_Value v, int display, int depth) {
    if (depth > PRINT_MAXDEPTH) {
        sbuf_puts(b, "...");
        return;
    }
    switch (v.tag) {
        case LISP_TNIL: sbuf_puts(b, "nil"); break;
        case LISP_TBOOL: sbuf_puts(b, v.u.b ? "#t" : "#f"); break;
        case LISP_TINT: sbuf_printf(b, "%lld", (long long)v.u.i); break;
        case LISP_TFLOAT: writefloat(b, v.u.f); break;
        case LISP_TSTRING:
            if (display) {
                sbuf_putn(b, AS(lisp_String, v)->data, AS(lisp_String, v)->len);
            } else {
                writestring(b, AS(lisp_String, v)->data, AS(lisp_String, v)->len);
            }
            break;
        case LISP_TSYMBOL:
            writesymbol(b, AS(lisp_Symbol, v)->name, AS(lisp_Symbol, v)->len, display);
            break;
        case LISP_TCONS: writelist(S, b, v, display, depth); break;
        case LISP_TPRIM: sbuf_printf(b, "#<primitive %s>", AS(lisp_Prim, v)->name); break;
        case LISP_TCLOSURE: {
            lisp_Proto *p = AS(lisp_Closure, v)->p;
            if (p->name) {
                sbuf_printf(b, "#<closure %s>", ((lisp_Symbol *)p->name)->name);
            } else {
                sbuf_puts(b, "#<closure>");
            }
            break;
        }
        case LISP_TVEC: {
            lisp_Vec *vec = AS(lisp_Vec, v);
            int64_t i;
            sbuf_puts(b, "#(");
            for (i = 0; i < vec->len && !b->oom; i++) {
                if (i) {
                    sbuf_putc(b, ' ');
                }
                writerec(S, b, vec->items[i], display, depth + 1);
            }
            sbuf_putc(b, ')');
            break;
        }
        case LISP_TMAP: {
            int64_t it = 0;
            lisp_Value k, x;
            int first = 1;
            sbuf_puts(b, "#{");
            while (lisp_mapnext(v, &it, &k, &x) && !b->oom) {
                if (!first) {
                    sbuf_putc(b, ' ');
                }
                first = 0;
                writerec(S, b, k, display, depth + 1);
                sbuf_putc(b, ' ');
                writerec(S, b, x, display, depth + 1);
            }
            sbuf_putc(b, '}');
            break;
        }
        case LISP_TRNG: sbuf_puts(b, "#<rng>"); break;
        case LISP_TPQ: sbuf_printf(b, "#<pq len=%lld>", (long long)AS(lisp_Pq, v)->len); break;
        case LISP_TUDATA:
            sbuf_printf(b, "#<%s %lld>", AS(lisp_Udata, v)->t->name,
                        (long long)AS(lisp_Udata, v)->id);
            break;
        default: sbuf_printf(b, "#<%s>", lisp_typename(v)); break;
    }
}

void lisp_write(lisp_State *S, sbuf *b, lisp_Value v, int display) {
    writerec(S, b, v, display, 0);
}

static int readablerec(lisp_Value v, lisp_Value *bad, int depth) {
    if (depth > PRINT_MAXDEPTH) {
        *bad = v;
        return 0;
    }
    for (;;) {
        switch (v.tag) {
            case LISP_TNIL:
            case LISP_TBOOL:
            case LISP_TINT:
            case LISP_TFLOAT:
            case LISP_TSTRING:
            case LISP_TSYMBOL: return 1;
            case LISP_TCONS:
                if (!readablerec(lisp_car(v), bad, depth + 1)) {
                    return 0;
                }
                v = lisp_cdr(v);
                if (++depth > 1000000) {
                    *bad = v; /* cyclic */
                    return 0;
                }
                continue;
            case LISP_TVEC: {
                lisp_Vec *vec = AS(lisp_Vec, v);
                int64_t i;
                for (i = 0; i < vec->len; i++) {
                    if (!readablerec(vec->items[i], bad, depth + 1)) {
                        return 0;
                    }
                }
                return 1;
            }
            case LISP_TMAP: {
                int64_t it = 0;
                lisp_Value k, x;
                while (lisp_mapnext(v, &it, &k, &x)) {
                    if (!readablerec(k, bad, depth + 1) || !readablerec(x, bad, depth + 1)) {
                        return 0;
                    }
                }
                return 1;
            }
            default: *bad = v; return 0;
        }
    }
}

int lisp_readable(lisp_State *S, lisp_Value v, lisp_Value *bad) {
    (void)S;
    return readablerec(v, bad, 0);
}
