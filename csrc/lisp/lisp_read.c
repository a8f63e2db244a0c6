/*
** lisp_read.c -- the reader: text to Lisp data, with line:col errors.
** See LICENSE for copyright.
**
** Syntax: integers (42, -7), floats (3.14, 1e-3, 2., +inf.0, -inf.0,
** +nan.0), #t #f nil, strings with \n \t \r \" \\ escapes, symbols
** (anything else), lists with dotted pairs, 'x `x ,x ,@x, ; comments, and
** two extensions so that 'write' output reads back: #(a b) is a vec and
** #{k v ...} a map.
**
** Invariants: every datum under construction is reachable from the value
** stack (a list's head cell sits in a stack slot while its tail grows).
** Nesting is limited to READ_MAXDEPTH so reading never recurses deeply.
** The first cons of every list records the position of its '(' for the
** compiler's error messages.
*/
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lisp_obj.h"

#define READ_MAXDEPTH LISPBT_READ_MAXDEPTH

typedef struct Reader {
    lisp_State *S;
    const char *src;
    size_t n, pos;
    int line, col;
    const char *chunk;
    int depth;
} Reader;

LISPBT_NORETURN static void rerror(Reader *R, int line, int col, const char *msg) {
    lisp_State *S = R->S;
    snprintf(S->errmsg, sizeof S->errmsg, "%s:%d:%d: %s", R->chunk, line, col, msg);
    lispE_throw(S, LISP_ERRSYNTAX);
}

static int peekc(Reader *R) {
    return R->pos < R->n ? (unsigned char)R->src[R->pos] : -1;
}

static int nextc(Reader *R) {
    int c;
    if (R->pos >= R->n) {
        return -1;
    }
    c = (unsigned char)R->src[R->pos++];
    if (c == '\n') {
        R->line++;
        R->col = 1;
    } else {
        R->col++;
    }
    return c;
}

static void skipspace(Reader *R) {
    for (;;) {
        int c = peekc(R);
        if (c == ';') {
            while (c != -1 && c != '\n') {
                nextc(R);
                c = peekc(R);
            }
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            nextc(R);
        } else {
            return;
        }
    }
}

static int isdelim(int c) {
    return c == -1 || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
           c == '(' || c == ')' || c == '"' || c == ';' || c == '\'' || c == '`' || c == ',' ||
           c == '{' || c == '}' || c == '|' || c == '\0';
}

/* |...| symbol: any characters, with \| and \\ escapes. */
static void readbarsym(Reader *R, int line, int col) {
    size_t start = R->pos, len = 0, i;
    char *out;
    lisp_Value tmp;
    for (;;) {
        int c = nextc(R);
        if (c == -1) {
            rerror(R, line, col, "unterminated |symbol|");
        }
        if (c == '|') {
            break;
        }
        if (c == '\\' && nextc(R) == -1) {
            rerror(R, line, col, "unterminated |symbol|");
        }
        len++;
    }
    if (len == 0) {
        rerror(R, line, col, "empty |symbol|");
    }
    /* unescape into a scratch string object, then intern it */
    tmp = lisp_string(R->S, NULL, len);
    out = AS(lisp_String, tmp)->data;
    for (i = start; i < R->pos - 1; i++) {
        char c = R->src[i];
        if (c == '\\') {
            c = R->src[++i];
        }
        *out++ = c;
    }
    lisp_intern(R->S, AS(lisp_String, tmp)->data, len);
    R->S->top[-2] = R->S->top[-1];
    R->S->top--;
}

static void readform(Reader *R);

/* Read forms up to 'close' into a proper list (or dotted, if 'dot'
** allowed), leaving it pushed. */
static void readseq(Reader *R, int close, int allowdot, int line, int col) {
    lisp_State *S = R->S;
    lisp_Value *headslot, tail = lisp_nil();
    int base;
    lispE_push(S, lisp_nil());
    headslot = S->top - 1;
    base = lisp_gettop(S);
    for (;;) {
        int c;
        skipspace(R);
        c = peekc(R);
        if (c == -1) {
            rerror(R, line, col, "unterminated list");
        }
        if (c == close) {
            nextc(R);
            return;
        }
        if (c == ')' || c == '}') {
            rerror(R, R->line, R->col, "unexpected closing delimiter");
        }
        if (allowdot && c == '.' && R->pos + 1 <= R->n &&
            isdelim(R->pos + 1 < R->n ? (unsigned char)R->src[R->pos + 1] : -1)) {
            int dl = R->line, dc = R->col;
            if (tail.tag != LISP_TCONS) {
                rerror(R, dl, dc, "unexpected '.'");
            }
            nextc(R);
            readform(R);
            lisp_setcdr(S, tail, S->top[-1]);
            lisp_settop(S, base);
            skipspace(R);
            if (peekc(R) != close) {
                rerror(R, dl, dc, "expected ')' after dotted pair tail");
            }
            nextc(R);
            return;
        }
        readform(R);
        {
            lisp_Value cell = lisp_cons(S, S->top[-1], lisp_nil());
            if (tail.tag == LISP_TNIL) {
                *headslot = cell;
                cell.u.o->line = (uint32_t)line;
                cell.u.o->col = (uint16_t)(col > 65535 ? 65535 : col);
            } else {
                lisp_setcdr(S, tail, cell);
            }
            tail = cell;
        }
        lisp_settop(S, base);
    }
}

static void readstring(Reader *R, int line, int col) {
    size_t start = R->pos, len = 0, i;
    char *out;
    /* first pass: find the end, validate escapes, count the final length */
    for (;;) {
        int c = nextc(R);
        if (c == -1) {
            rerror(R, line, col, "unterminated string");
        }
        if (c == '"') {
            break;
        }
        if (c == '\\') {
            int e = nextc(R);
            if (e != 'n' && e != 't' && e != 'r' && e != '"' && e != '\\') {
                rerror(R, R->line, R->col - 1, "invalid escape in string");
            }
        }
        len++;
    }
    /* second pass: unescape into a string object of exactly that length */
    out = AS(lisp_String, lisp_string(R->S, NULL, len))->data;
    for (i = start; i < R->pos - 1; i++) {
        char c = R->src[i];
        if (c == '\\') {
            char e = R->src[++i];
            c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        }
        *out++ = c;
    }
}

int lispR_specialfloat(const char *s, size_t n, double *out) {
    double v;
    if (n != 6 || (s[0] != '+' && s[0] != '-')) {
        return 0;
    }
    if (memcmp(s + 1, "inf.0", 5) == 0) {
        v = s[0] == '-' ? -HUGE_VAL : HUGE_VAL;
    } else if (memcmp(s + 1, "nan.0", 5) == 0) {
        v = NAN;
    } else {
        return 0;
    }
    if (out) {
        *out = v;
    }
    return 1;
}

/* Parse a number token; returns 1 and pushes it, or 0 if not a number. */
static int readnumber(Reader *R, const char *tok, size_t n, int line, int col) {
    char buf[128];
    char *end;
    double special;
    size_t i = 0;
    int digits = 0, isfloat = 0;
    if (n >= sizeof buf) {
        return 0;
    }
    memcpy(buf, tok, n);
    buf[n] = '\0';
    if (lispR_specialfloat(buf, n, &special)) {
        lispE_push(R->S, lisp_float(special));
        return 1;
    }
    if (buf[i] == '+' || buf[i] == '-') {
        i++;
    }
    for (; i < n; i++) {
        if (buf[i] >= '0' && buf[i] <= '9') {
            digits++;
        } else if (buf[i] == '.' || buf[i] == 'e' || buf[i] == 'E') {
            isfloat = 1;
            if ((buf[i] == 'e' || buf[i] == 'E') && i + 1 < n && (buf[i + 1] == '+' || buf[i + 1] == '-')) {
                i++;
            }
        } else {
            return 0;
        }
    }
    if (digits == 0) {
        return 0;
    }
    errno = 0;
    if (!isfloat) {
        long long v = strtoll(buf, &end, 10);
        if (*end != '\0') {
            return 0;
        }
        if (errno == ERANGE) {
            rerror(R, line, col, "integer literal out of range");
        }
        lispE_push(R->S, lisp_int(v));
        return 1;
    }
    {
        double d = strtod(buf, &end);
        if (*end != '\0') {
            return 0;
        }
        lispE_push(R->S, lisp_float(d));
        return 1;
    }
}

static void readquote(Reader *R, lisp_Symbol *sym, int line, int col) {
    lisp_State *S = R->S;
    lisp_Value form, v;
    readform(R);
    form = S->top[-1];
    v = lisp_cons(S, form, lisp_nil());
    v = lisp_cons(S, lisp_obj(&sym->h, LISP_TSYMBOL), v);
    v.u.o->line = (uint32_t)line;
    v.u.o->col = (uint16_t)col;
    S->top -= 3;
    lispE_push(S, v);
}

static void readform(Reader *R) {
    lisp_State *S = R->S;
    int c, line, col;
    skipspace(R);
    line = R->line;
    col = R->col;
    c = peekc(R);
    if (c == -1) {
        rerror(R, line, col, "unexpected end of input");
    }
    if (++R->depth > READ_MAXDEPTH) {
        rerror(R, line, col, "form nested too deeply");
    }
    switch (c) {
        case '(':
            nextc(R);
            readseq(R, ')', 1, line, col);
            break;
        case ')':
        case '}': rerror(R, line, col, "unexpected closing delimiter");
        case '\0': rerror(R, line, col, "unexpected NUL byte (allowed only in strings)");
        case '{': rerror(R, line, col, "unexpected '{' (a map literal is #{...})");
        case '\'':
            nextc(R);
            readquote(R, S->s_quote, line, col);
            break;
        case '`':
            nextc(R);
            readquote(R, S->s_quasiquote, line, col);
            break;
        case ',':
            nextc(R);
            if (peekc(R) == '@') {
                nextc(R);
                readquote(R, S->s_unquote_splicing, line, col);
            } else {
                readquote(R, S->s_unquote, line, col);
            }
            break;
        case '"':
            nextc(R);
            readstring(R, line, col);
            break;
        case '|':
            nextc(R);
            readbarsym(R, line, col);
            break;
        default: {
            size_t start = R->pos, n;
            const char *tok;
            if (c == '#' && R->pos + 1 < R->n && (R->src[R->pos + 1] == '(' || R->src[R->pos + 1] == '{')) {
                int open = R->src[R->pos + 1];
                int base;
                lisp_Value list, coll;
                nextc(R);
                nextc(R);
                readseq(R, open == '(' ? ')' : '}', 0, line, col);
                list = S->top[-1];
                base = lisp_gettop(S);
                if (open == '(') {
                    coll = lisp_vec(S, lisp_listlen(list));
                    for (; list.tag == LISP_TCONS; list = lisp_cdr(list)) {
                        lisp_vecpush(S, coll, lisp_car(list));
                    }
                } else {
                    if (lisp_listlen(list) % 2 != 0) {
                        rerror(R, line, col, "map literal needs an even number of forms");
                    }
                    coll = lisp_map(S, 0);
                    for (; list.tag == LISP_TCONS; list = lisp_cdr(lisp_cdr(list))) {
                        lisp_mapset(S, coll, lisp_car(list), lisp_car(lisp_cdr(list)));
                    }
                }
                lisp_settop(S, base - 1);
                lispE_push(S, coll);
                break;
            }
            while (!isdelim(peekc(R))) {
                nextc(R);
            }
            n = R->pos - start;
            tok = R->src + start;
            lispbt_assert(n > 0); /* every delimiter has a case above: the reader always advances */
            if (n == 2 && tok[0] == '#' && (tok[1] == 't' || tok[1] == 'f')) {
                lispE_push(S, lisp_bool(tok[1] == 't'));
            } else if (n == 3 && memcmp(tok, "nil", 3) == 0) {
                lispE_push(S, lisp_nil());
            } else if (tok[0] == '#') {
                rerror(R, line, col, "unknown '#' syntax");
            } else if (!readnumber(R, tok, n, line, col)) {
                lisp_intern(S, tok, n);
            }
        }
    }
    R->depth--;
}

int lispR_read(lisp_State *S, const char *src, size_t n, size_t *pos, int *line, int *col,
               const char *chunk, int *fline, int *fcol) {
    Reader R;
    R.S = S;
    R.src = src;
    R.n = n;
    R.pos = *pos;
    R.line = *line;
    R.col = *col;
    R.chunk = chunk;
    R.depth = 0;
    skipspace(&R);
    if (R.pos >= R.n) {
        *pos = R.pos;
        return 0;
    }
    if (fline) {
        *fline = R.line;
        *fcol = R.col;
    }
    readform(&R);
    *pos = R.pos;
    *line = R.line;
    *col = R.col;
    return 1;
}

lisp_Value lisp_readall(lisp_State *S, const char *src, size_t n, const char *chunk) {
    size_t pos = 0;
    int line = 1, col = 1;
    lisp_Value *headslot, tail = lisp_nil();
    int base;
    lispE_push(S, lisp_nil());
    headslot = S->top - 1;
    base = lisp_gettop(S);
    while (lispR_read(S, src, n, &pos, &line, &col, chunk, NULL, NULL)) {
        lisp_Value cell = lisp_cons(S, S->top[-1], lisp_nil());
        if (tail.tag == LISP_TNIL) {
            *headslot = cell;
        } else {
            lisp_setcdr(S, tail, cell);
        }
        tail = cell;
        lisp_settop(S, base);
    }
    return *headslot;
}
