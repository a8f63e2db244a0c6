/*
** lisp_print.c -- the printer: written (readable) and display forms.
** See LICENSE for copyright.
**
** In the LISP_PRINT_LISPBT style (what 'save' always writes), the written
** form reads back to an equal value for every readable type:
** floats print in the shortest form that round-trips and always carry a
** '.', 'e', 'inf' or 'nan' so they read back as floats; strings are quoted
** with the reader's escapes; vecs print as #(...) and maps as #{k v ...}.
** Unreadable objects print as #<closure NAME>, #<primitive NAME>, #<rng>,
** #<pq len=N>, #<bt_def ID>: 'save' rejects them (lisp_writereadable).
**
** The state's print style LISP_PRINT_MUESLI (lisp.h, the default) prints
** the reference runtime's forms, so that output can be diffed against
** muesli-bt's: floats with 15 significant digits and 'inf'/'nan', quote
** forms in full, symbols without bars, <closure>, <vec:N>, <map:N> ...;
** vecs, maps and non-finite floats are then unreadable parts, which
** 'write' rejects as muesli-bt does (lisp_writechecked).  Its floats do not
** always read back equal, so 'save' (lisp_writereadable) always writes in
** LISP_PRINT_LISPBT, where vecs and maps are #(...) and #{...}.
**
** Bounds (docs/architecture.md, "Walks over data").  Every write stops at
** a byte limit (the state's print_limit, or the caller's): the walk checks
** the output length before each value and gives up once the limit is
** reached, the text is cut there and "..." appended.  So the time and memory
** of printing are O(limit) whatever the value: a list doubled 40 times
** (2^40 leaves through sharing) prints its first megabyte and stops.
** Nesting beyond PRINT_MAXDEPTH prints "..." in place of the list, vec or
** map, so a vec containing itself terminates and the C stack stays small;
** long lists iterate on the cdr, with tortoise-and-hare cycle detection.
** 'save' uses the same walk (lisp_writereadable), which records the first
** unreadable part it writes instead of walking the value a second time.
*/
#include "conf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lisp_obj.h"
#include "sbuf.h"

#define PRINT_MAXDEPTH LISPBT_PRINT_MAXDEPTH

/* One write: the buffer, where its output must stop, and what was seen. */
typedef struct W {
    lisp_State *S;
    sbuf *b;
    size_t end;      /* b->len beyond which nothing more is written */
    int display;     /* display form: no string quotes, no symbol bars */
    int muesli;      /* LISP_PRINT_MUESLI forms */
    int cut;         /* the output reached 'end': something was left out */
    int bad;         /* an unreadable part was written (badv) */
    lisp_Value badv;
} W;

/* Stop here?  Sets 'cut' once the limit is reached. */
static int full(W *w) {
    if (w->b->len >= w->end || w->b->oom) {
        w->cut = 1;
        return 1;
    }
    return 0;
}

static void unreadable(W *w, lisp_Value v) {
    if (!w->bad) {
        w->bad = 1;
        w->badv = v;
    }
}

/* muesli-bt's float form: 'nan', 'inf', '-inf', else C++ stream output at
** precision 15 ('%.15g'), with ".0" added when it has no '.' or 'e'. */
static void writefloat15(sbuf *b, double x) {
    char tmp[40];
    if (isnan(x)) {
        sbuf_puts(b, "nan");
        return;
    }
    if (isinf(x)) {
        sbuf_puts(b, x > 0 ? "inf" : "-inf");
        return;
    }
    snprintf(tmp, sizeof tmp, "%.15g", x);
    sbuf_puts(b, tmp);
    if (strpbrk(tmp, ".eE") == NULL) {
        sbuf_puts(b, ".0");
    }
}

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

/* A string in written form; stops (leaving the quote open) past 'end'. */
static void writestring(W *w, const char *s, size_t n) {
    sbuf *b = w->b;
    size_t i;
    sbuf_putc(b, '"');
    for (i = 0; i < n; i++) {
        if ((i & 63) == 0 && full(w)) {
            return;
        }
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

/* 'n' bytes of 's', but never more than one byte past 'end'. */
static void putbounded(W *w, const char *s, size_t n) {
    size_t room = w->end > w->b->len ? w->end - w->b->len : 0;
    if (n > room) {
        n = room + 1;
        w->cut = 1;
    }
    sbuf_putn(w->b, s, n);
}

static void writerec(W *w, lisp_Value v, int depth);

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

static void writesymbol(W *w, const char *s, size_t n) {
    size_t i;
    if (w->display || w->muesli || !needsbars(s, n)) {
        putbounded(w, s, n);
        return;
    }
    sbuf_putc(w->b, '|');
    for (i = 0; i < n; i++) {
        if ((i & 63) == 0 && full(w)) {
            return;
        }
        if (s[i] == '|' || s[i] == '\\') {
            sbuf_putc(w->b, '\\');
        }
        sbuf_putc(w->b, s[i]);
    }
    sbuf_putc(w->b, '|');
}

static void writelist(W *w, lisp_Value v, int depth) {
    lisp_State *S = w->S;
    sbuf *b = w->b;
    lisp_Value slow = v;
    int64_t n = 0;
    lisp_Value head = lisp_car(v);
    /* 'x style for the reader's quote forms (muesli-bt: none) */
    if (!w->muesli && head.tag == LISP_TSYMBOL && lisp_cdr(v).tag == LISP_TCONS &&
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
            writerec(w, lisp_car(lisp_cdr(v)), depth + 1);
            return;
        }
    }
    sbuf_putc(b, '(');
    for (;;) {
        writerec(w, lisp_car(v), depth + 1);
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
            writerec(w, v, depth + 1);
            break;
        }
        if (full(w)) {
            break;
        }
        if (v.u.o == slow.u.o) {
            sbuf_puts(b, " ...");
            unreadable(w, v); /* a cyclic list */
            break;
        }
        sbuf_putc(b, ' ');
    }
    sbuf_putc(b, ')');
}

static void writerec(W *w, lisp_Value v, int depth) {
    sbuf *b = w->b;
    if (full(w)) {
        return;
    }
    if (depth > PRINT_MAXDEPTH &&
        (v.tag == LISP_TCONS || v.tag == LISP_TVEC || v.tag == LISP_TMAP)) {
        sbuf_puts(b, "...");
        unreadable(w, v);
        return;
    }
    switch (v.tag) {
        case LISP_TNIL: sbuf_puts(b, "nil"); break;
        case LISP_TBOOL: sbuf_puts(b, v.u.b ? "#t" : "#f"); break;
        case LISP_TINT: sbuf_printf(b, "%lld", (long long)v.u.i); break;
        case LISP_TFLOAT:
            if (w->muesli) {
                writefloat15(b, v.u.f);
                if (!isfinite(v.u.f)) {
                    unreadable(w, v); /* muesli-bt's write rejects them */
                }
            } else {
                writefloat(b, v.u.f);
            }
            break;
        case LISP_TSTRING:
            if (w->display) {
                putbounded(w, AS(lisp_String, v)->data, AS(lisp_String, v)->len);
            } else {
                writestring(w, AS(lisp_String, v)->data, AS(lisp_String, v)->len);
            }
            break;
        case LISP_TSYMBOL:
            writesymbol(w, AS(lisp_Symbol, v)->name, AS(lisp_Symbol, v)->len);
            break;
        case LISP_TCONS: writelist(w, v, depth); break;
        case LISP_TPRIM:
            sbuf_printf(b, w->muesli ? "<primitive:%s>" : "#<primitive %s>", AS(lisp_Prim, v)->name);
            unreadable(w, v);
            break;
        case LISP_TCLOSURE: {
            lisp_Proto *p = AS(lisp_Closure, v)->p;
            if (w->muesli) {
                sbuf_puts(b, "<closure>");
            } else if (p->name) {
                sbuf_printf(b, "#<closure %s>", ((lisp_Symbol *)p->name)->name);
            } else {
                sbuf_puts(b, "#<closure>");
            }
            unreadable(w, v);
            break;
        }
        case LISP_TVEC: {
            lisp_Vec *vec = AS(lisp_Vec, v);
            int64_t i;
            if (w->muesli) {
                sbuf_printf(b, "<vec:%lld>", (long long)vec->len);
                unreadable(w, v);
                break;
            }
            sbuf_puts(b, "#(");
            for (i = 0; i < vec->len && !full(w); i++) {
                if (i) {
                    sbuf_putc(b, ' ');
                }
                writerec(w, vec->items[i], depth + 1);
            }
            sbuf_putc(b, ')');
            break;
        }
        case LISP_TMAP: {
            int64_t it = 0;
            lisp_Value k, x;
            int first = 1;
            if (w->muesli) {
                sbuf_printf(b, "<map:%lld>", (long long)AS(lisp_Map, v)->count);
                unreadable(w, v);
                break;
            }
            sbuf_puts(b, "#{");
            while (!full(w) && lisp_mapnext(v, &it, &k, &x)) {
                if (!first) {
                    sbuf_putc(b, ' ');
                }
                first = 0;
                writerec(w, k, depth + 1);
                sbuf_putc(b, ' ');
                writerec(w, x, depth + 1);
            }
            sbuf_putc(b, '}');
            break;
        }
        case LISP_TRNG:
            sbuf_puts(b, w->muesli ? "<rng>" : "#<rng>");
            unreadable(w, v);
            break;
        case LISP_TPQ:
            sbuf_printf(b, w->muesli ? "<pq:%lld>" : "#<pq len=%lld>", (long long)AS(lisp_Pq, v)->len);
            unreadable(w, v);
            break;
        case LISP_TUDATA:
            sbuf_printf(b, w->muesli ? "<%s:%lld>" : "#<%s %lld>", AS(lisp_Udata, v)->t->name,
                        (long long)AS(lisp_Udata, v)->id);
            unreadable(w, v);
            break;
        default:
            sbuf_printf(b, "#<%s>", lisp_typename(v));
            unreadable(w, v);
            break;
    }
}

/* The one entry of the walk: write 'v' into 'w->b' within 'limit' bytes,
** cut the text at the limit and append "..." when something was left out.
** Returns w->cut. */
static int writeto(lisp_State *S, W *w, sbuf *b, lisp_Value v, int display, size_t limit) {
    size_t start = b->len;
    w->S = S;
    w->b = b;
    w->end = limit > SIZE_MAX - start ? SIZE_MAX : start + limit;
    w->display = display;
    w->muesli = S->print_style == LISP_PRINT_MUESLI;
    w->cut = 0;
    w->bad = 0;
    w->badv = lisp_nil();
    writerec(w, v, 0);
    if (b->oom) {
        return w->cut;
    }
    if (b->len > w->end) {
        w->cut = 1;
        b->len = w->end;
        b->p[b->len] = '\0';
    }
    if (w->cut) {
        sbuf_puts(b, "...");
    }
    return w->cut;
}

int lisp_writen(lisp_State *S, sbuf *b, lisp_Value v, int display, size_t limit) {
    W w;
    return writeto(S, &w, b, v, display, limit ? limit : 1);
}

int lisp_write(lisp_State *S, sbuf *b, lisp_Value v, int display) {
    return lisp_writen(S, b, v, display, S->print_limit);
}

const char *lisp_repr(lisp_State *S, lisp_Value v, char *out, size_t size) {
    sbuf b;
    sbuf_init(&b);
    lisp_writen(S, &b, v, 0, LISPBT_REPR_MAX);
    snprintf(out, size, "%s", b.oom || b.p == NULL ? "?" : b.p);
    sbuf_free(&b);
    return out;
}

int lisp_writereadable(lisp_State *S, sbuf *b, lisp_Value v, size_t limit, lisp_Value *bad) {
    W w;
    int style = S->print_style, cut;
    S->print_style = LISP_PRINT_LISPBT; /* what save writes must read back */
    cut = writeto(S, &w, b, v, 0, limit ? limit : 1);
    S->print_style = style;
    if (cut) {
        return LISP_WRITE_TOOLONG;
    }
    if (w.bad) {
        *bad = w.badv;
        return LISP_WRITE_UNREADABLE;
    }
    return LISP_WRITE_OK;
}

int lisp_writechecked(lisp_State *S, sbuf *b, lisp_Value v, lisp_Value *bad) {
    W w;
    writeto(S, &w, b, v, 0, S->print_limit);
    if (w.bad && S->print_style == LISP_PRINT_MUESLI) {
        *bad = w.badv;
        return LISP_WRITE_UNREADABLE;
    }
    return LISP_WRITE_OK;
}

size_t lisp_printlimit(lisp_State *S) {
    return S->print_limit;
}

int lisp_printstyle(lisp_State *S) {
    return S->print_style;
}

void lisp_setprintstyle(lisp_State *S, int style) {
    S->print_style = style == LISP_PRINT_MUESLI ? LISP_PRINT_MUESLI : LISP_PRINT_LISPBT;
}

void lisp_setprintlimit(lisp_State *S, size_t n) {
    S->print_limit = n ? n : 1;
}
