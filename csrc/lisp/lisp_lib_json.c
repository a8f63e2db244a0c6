/*
** lisp_lib_json.c -- json.encode and json.decode.  See LICENSE for copyright.
**
** The mapping (docs/reference/lisp.md "JSON", the muesli-bt contract):
**
**   Lisp                          JSON
**   nil (and so the empty list)   null      (decoding [] gives nil too)
**   #t / #f                       true / false
**   integer                       integer   (decoded when it fits int64)
**   float                         "%.17g"   (decoded when it has . or e, or
**                                            does not fit int64)
**   string, symbol                string    (decoded as a string)
**   proper list, vec              array     (decoded as a proper list)
**   map                           object, keys sorted by their bytes
**                                           (decoded as a map, string keys)
**
** Map keys must be strings, symbols (their name), integers or floats
** (their number text); any other value, a non-finite float, an improper
** list or a host object raises.
**
** Bounds.  Both directions recurse in C, one frame per level of nesting,
** and stop at JSON_MAXDEPTH with a clean error, so a cyclic value or a
** hostile document cannot exhaust the C stack.  Encoding renders into the
** state's scratch buffer and raises once the text passes JSON_MAXBYTES (a
** value that shares one list many times can describe exponentially long
** text).  Decoding allocates as it goes, within heap_limit like any Lisp
** code, and keeps at most two stack slots per level (a list is built by
** its tail), so a long array cannot overflow the value stack.
**
** Every temporary is a Lisp object (the sorted-key index and the copy of
** the entries of a map), so an error anywhere leaks nothing.
*/
#include "conf.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lisp_obj.h"
#include "sbuf.h"

/* Most arrays/objects (lists/vecs/maps) one inside another, either way. */
#define JSON_MAXDEPTH 512
/* Longest text json.encode produces. */
#define JSON_MAXBYTES ((size_t)64 << 20)

/* ---- encoding ---- */

typedef struct Enc {
    lisp_State *S;
    sbuf *b;
} Enc;

static void encvalue(Enc *E, lisp_Value v, int depth);

static void encnumber(Enc *E, double x) {
    if (!isfinite(x)) {
        lisp_error(E->S, "json.encode: non-finite floats are not supported");
    }
    sbuf_printf(E->b, "%.17g", x);
}

/* One map entry's key text and value JSON, as offsets into the copy. */
typedef struct Entry {
    size_t k, klen, v, vlen;
} Entry;

/* The index of a map's entries lives in the bytes of a Lisp string, so it
** is freed with the heap whatever error unwinds past it. */
_Static_assert(offsetof(lisp_String, data) % _Alignof(Entry) == 0,
               "a string's bytes can hold an Entry array");

static int entryless(const char *t, const Entry *a, const Entry *b) {
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int c = memcmp(t + a->k, t + b->k, n);
    if (c == 0 && a->klen != b->klen) {
        c = a->klen < b->klen ? -1 : 1;
    }
    if (c == 0) { /* equal keys ("a" and 'a): order by value text */
        n = a->vlen < b->vlen ? a->vlen : b->vlen;
        c = memcmp(t + a->v, t + b->v, n);
        if (c == 0 && a->vlen != b->vlen) {
            c = a->vlen < b->vlen ? -1 : 1;
        }
    }
    return c < 0;
}

/* Heap sort (no qsort_r in C11): O(n log n) with the text as context. */
static void siftdown(const char *t, Entry *e, size_t i, size_t n) {
    for (;;) {
        size_t c = 2 * i + 1;
        Entry x;
        if (c >= n) {
            return;
        }
        if (c + 1 < n && entryless(t, &e[c], &e[c + 1])) {
            c++;
        }
        if (!entryless(t, &e[i], &e[c])) {
            return;
        }
        x = e[i];
        e[i] = e[c];
        e[c] = x;
        i = c;
    }
}

static void sortentries(const char *t, Entry *e, size_t n) {
    size_t i;
    for (i = n / 2; i-- > 0;) {
        siftdown(t, e, i, n);
    }
    for (i = n; i-- > 1;) {
        Entry x = e[0];
        e[0] = e[i];
        e[i] = x;
        siftdown(t, e, 0, i);
    }
}

static void checklen(Enc *E) {
    if (E->b->oom) {
        lisp_memerror(E->S);
    }
    if (E->b->len > JSON_MAXBYTES) {
        lisp_error(E->S, "json.encode: output longer than %zu bytes", JSON_MAXBYTES);
    }
}

/* An object: render every entry (key text, then value JSON) at the end of
** the buffer, copy that region into a Lisp string, sort an index of it, and
** write the entries back in key order over the region. */
static void encmap(Enc *E, lisp_Value m, int depth) {
    lisp_State *S = E->S;
    int top = lisp_gettop(S);
    int64_t n = lisp_mapcount(m), i = 0, it = 0;
    size_t start = E->b->len;
    lisp_Value k, x, idxobj, copy;
    Entry *ent;
    const char *t;
    if (n == 0) {
        sbuf_puts(E->b, "{}");
        return;
    }
    /* the index and the copy stay on the stack until lisp_settop below */
    idxobj = lisp_string(S, NULL, sizeof(Entry) * (size_t)n);
    ent = (Entry *)(void *)AS(lisp_String, idxobj)->data;
    while (lisp_mapnext(m, &it, &k, &x)) {
        size_t at = E->b->len;
        switch (k.tag) {
            case LISP_TSTRING:
            case LISP_TSYMBOL: {
                size_t len;
                const char *s = lisp_str(k, &len);
                sbuf_putn(E->b, s, len);
                break;
            }
            case LISP_TINT: sbuf_printf(E->b, "%lld", (long long)k.u.i); break;
            case LISP_TFLOAT: encnumber(E, k.u.f); break;
            default:
                lisp_error(S, "json.encode: map key must be a string, symbol or number, got a %s",
                           lisp_typename(k));
        }
        ent[i].k = at - start;
        ent[i].klen = E->b->len - at;
        ent[i].v = E->b->len - start;
        encvalue(E, x, depth + 1);
        ent[i].vlen = E->b->len - start - ent[i].v;
        i++;
    }
    checklen(E);
    copy = lisp_string(S, E->b->p + start, E->b->len - start);
    t = lisp_str(copy, NULL);
    sortentries(t, ent, (size_t)n);
    E->b->len = start;
    sbuf_putc(E->b, '{');
    for (i = 0; i < n; i++) {
        if (i) {
            sbuf_putc(E->b, ',');
        }
        sbuf_json_string(E->b, t + ent[i].k, ent[i].klen);
        sbuf_putc(E->b, ':');
        sbuf_putn(E->b, t + ent[i].v, ent[i].vlen);
    }
    sbuf_putc(E->b, '}');
    lisp_settop(S, top);
}

/* 'depth' counts the arrays and objects around 'v'. */
static void encvalue(Enc *E, lisp_Value v, int depth) {
    lisp_State *S = E->S;
    if (depth >= JSON_MAXDEPTH &&
        (v.tag == LISP_TCONS || v.tag == LISP_TVEC || v.tag == LISP_TMAP)) {
        lisp_error(S, "json.encode: value nested deeper than %d levels (or cyclic)",
                   JSON_MAXDEPTH);
    }
    switch (v.tag) {
        case LISP_TNIL: sbuf_puts(E->b, "null"); break;
        case LISP_TBOOL: sbuf_puts(E->b, v.u.b ? "true" : "false"); break;
        case LISP_TINT: sbuf_printf(E->b, "%lld", (long long)v.u.i); break;
        case LISP_TFLOAT: encnumber(E, v.u.f); break;
        case LISP_TSTRING:
        case LISP_TSYMBOL: {
            size_t n;
            const char *s = lisp_str(v, &n);
            sbuf_json_string(E->b, s, n);
            break;
        }
        case LISP_TCONS: {
            int first = 1;
            if (lisp_listlen(v) < 0) {
                lisp_error(S, "json.encode: expected a proper list");
            }
            sbuf_putc(E->b, '[');
            for (; v.tag == LISP_TCONS; v = lisp_cdr(v)) {
                if (!first) {
                    sbuf_putc(E->b, ',');
                }
                first = 0;
                encvalue(E, lisp_car(v), depth + 1);
            }
            sbuf_putc(E->b, ']');
            break;
        }
        case LISP_TVEC: {
            int64_t i;
            sbuf_putc(E->b, '[');
            for (i = 0; i < lisp_veclen(v); i++) {
                if (i) {
                    sbuf_putc(E->b, ',');
                }
                encvalue(E, lisp_vecitems(v)[i], depth + 1);
            }
            sbuf_putc(E->b, ']');
            break;
        }
        case LISP_TMAP: encmap(E, v, depth); break;
        default: /* muesli-bt's type names: primitive_fn for a builtin */
            lisp_error(S, "json.encode: unsupported value type: %s",
                       v.tag == LISP_TPRIM ? "primitive_fn" : lisp_typename(v));
    }
    checklen(E);
}

static lisp_Value cfun_json_encode(lisp_State *S, int argc, lisp_Value *argv) {
    Enc E;
    (void)argc;
    E.S = S;
    E.b = lisp_scratch(S);
    encvalue(&E, argv[0], 0);
    return lisp_scratchstring(S);
}

/* ---- decoding ---- */

typedef struct Dec {
    lisp_State *S;
    const char *s;
    size_t n, pos;
} Dec;

#define DERR(D, msg) lisp_error((D)->S, "json.decode: " msg)

static int isws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void skipws(Dec *D) {
    while (D->pos < D->n && isws(D->s[D->pos])) {
        D->pos++;
    }
}

static int peekc(Dec *D) {
    return D->pos < D->n ? (unsigned char)D->s[D->pos] : -1;
}

static void expect(Dec *D, char c) {
    if (peekc(D) != (unsigned char)c) {
        lisp_error(D->S, "json.decode: expected %c", c);
    }
    D->pos++;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Four hex digits at s[i..]; -1 if not. */
static long hex4(const char *s, size_t n, size_t i) {
    long u = 0;
    int k;
    if (i + 4 > n) {
        return -1;
    }
    for (k = 0; k < 4; k++) {
        int h = hexval((unsigned char)s[i + k]);
        if (h < 0) {
            return -1;
        }
        u = u * 16 + h;
    }
    return u;
}

/* One escape at s[i] (the character after the backslash): its code point
** in *cp and the bytes it spans from s[i] in *span.  Raises on a bad one. */
static void escape(Dec *D, size_t i, long *cp, size_t *span) {
    switch (D->s[i]) {
        case '"':
        case '\\':
        case '/': *cp = (unsigned char)D->s[i]; *span = 1; return;
        case 'b': *cp = '\b'; *span = 1; return;
        case 'f': *cp = '\f'; *span = 1; return;
        case 'n': *cp = '\n'; *span = 1; return;
        case 'r': *cp = '\r'; *span = 1; return;
        case 't': *cp = '\t'; *span = 1; return;
        case 'u': {
            long u = hex4(D->s, D->n, i + 1), lo;
            if (u < 0) {
                DERR(D, "invalid \\u escape");
            }
            *span = 5;
            if (u >= 0xdc00 && u <= 0xdfff) {
                DERR(D, "invalid \\u escape (lone low surrogate)");
            }
            if (u >= 0xd800 && u <= 0xdbff) { /* needs its low half */
                if (i + 6 >= D->n || D->s[i + 5] != '\\' || D->s[i + 6] != 'u' ||
                    (lo = hex4(D->s, D->n, i + 7)) < 0xdc00 || lo > 0xdfff) {
                    DERR(D, "invalid \\u escape (lone high surrogate)");
                }
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                *span = 11;
            }
            *cp = u;
            return;
        }
        default: DERR(D, "unsupported escape sequence");
    }
}

static size_t utf8len(long cp) {
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static char *pututf8(char *o, long cp) {
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* A string at D->pos (the opening quote): two passes, the first finds the
** end and the decoded length, the second fills a Lisp string (pushed). */
static lisp_Value decstring(Dec *D) {
    size_t i, len = 0, start;
    lisp_Value str;
    char *o;
    expect(D, '"');
    start = D->pos;
    for (i = start;; i++) {
        if (i >= D->n) {
            DERR(D, "unterminated string");
        }
        if (D->s[i] == '"') {
            break;
        }
        if (D->s[i] == '\\') {
            long cp;
            size_t span;
            if (i + 1 >= D->n) {
                DERR(D, "invalid escape");
            }
            escape(D, i + 1, &cp, &span);
            len += utf8len(cp);
            i += span;
        } else {
            len++;
        }
    }
    str = lisp_string(D->S, NULL, len);
    o = (char *)lisp_str(str, NULL);
    for (i = start; D->s[i] != '"'; i++) {
        if (D->s[i] == '\\') {
            long cp;
            size_t span;
            escape(D, i + 1, &cp, &span);
            o = pututf8(o, cp);
            i += span;
        } else {
            *o++ = D->s[i];
        }
    }
    D->pos = i + 1;
    return str;
}

static int isdigitc(int c) {
    return c >= '0' && c <= '9';
}

static lisp_Value decnumber(Dec *D) {
    size_t start = D->pos;
    int isfloat = 0;
    char buf[64], *text = buf, *end;
    size_t len;
    double d;
    if (peekc(D) == '-') {
        D->pos++;
    }
    if (!isdigitc(peekc(D))) {
        DERR(D, "invalid number");
    }
    while (isdigitc(peekc(D))) {
        D->pos++;
    }
    if (peekc(D) == '.') {
        isfloat = 1;
        D->pos++;
        while (isdigitc(peekc(D))) {
            D->pos++;
        }
    }
    if (peekc(D) == 'e' || peekc(D) == 'E') {
        isfloat = 1;
        D->pos++;
        if (peekc(D) == '+' || peekc(D) == '-') {
            D->pos++;
        }
        if (!isdigitc(peekc(D))) {
            DERR(D, "invalid exponent");
        }
        while (isdigitc(peekc(D))) {
            D->pos++;
        }
    }
    len = D->pos - start;
    if (len >= sizeof buf) { /* a long literal: a NUL-terminated Lisp copy */
        text = (char *)lisp_str(lisp_string(D->S, D->s + start, len), NULL);
    } else {
        memcpy(buf, D->s + start, len);
        buf[len] = '\0';
    }
    if (!isfloat) {
        long long ll;
        errno = 0;
        ll = strtoll(text, &end, 10);
        if (errno == 0) {
            return lisp_int((int64_t)ll);
        }
        /* out of int64: read as a float, like the reference */
    }
    d = strtod(text, &end);
    if (!isfinite(d)) {
        DERR(D, "non-finite number");
    }
    return lisp_float(d);
}

static lisp_Value decvalue(Dec *D, int depth);

/* [a, b, ...] as a proper list, built by its tail: the head sits in one
** stack slot and each item is consed on at the end. */
static lisp_Value decarray(Dec *D, int depth) {
    lisp_State *S = D->S;
    int top;
    lisp_Value tail = lisp_nil();
    expect(D, '[');
    skipws(D);
    if (peekc(D) == ']') {
        D->pos++;
        return lisp_nil();
    }
    lisp_push(S, lisp_nil()); /* the head */
    top = lisp_gettop(S);
    for (;;) {
        lisp_Value item = decvalue(D, depth + 1);
        lisp_Value cell = lisp_cons(S, item, lisp_nil());
        if (tail.tag == LISP_TNIL) {
            *lisp_at(S, top - 1) = cell;
        } else {
            lisp_setcdr(S, tail, cell);
        }
        tail = cell;
        lisp_settop(S, top);
        skipws(D);
        if (peekc(D) == ']') {
            D->pos++;
            return *lisp_at(S, top - 1);
        }
        expect(D, ',');
    }
}

static lisp_Value decobject(Dec *D, int depth) {
    lisp_State *S = D->S;
    lisp_Value m;
    int top;
    expect(D, '{');
    m = lisp_map(S, 0);
    top = lisp_gettop(S);
    skipws(D);
    if (peekc(D) == '}') {
        D->pos++;
        return m;
    }
    for (;;) {
        lisp_Value key, val;
        skipws(D);
        if (peekc(D) != '"') {
            DERR(D, "expected string key");
        }
        key = decstring(D);
        skipws(D);
        expect(D, ':');
        val = decvalue(D, depth + 1);
        lisp_mapset(S, m, key, val); /* a repeated key: the last one wins */
        lisp_settop(S, top);
        skipws(D);
        if (peekc(D) == '}') {
            D->pos++;
            return m;
        }
        expect(D, ',');
    }
}

/* 'depth' counts the arrays and objects around the value. */
static lisp_Value decvalue(Dec *D, int depth) {
    int c;
    skipws(D);
    c = peekc(D);
    if (depth >= JSON_MAXDEPTH && (c == '[' || c == '{')) {
        lisp_error(D->S, "json.decode: nested deeper than %d levels", JSON_MAXDEPTH);
    }
    switch (c) {
        case -1: DERR(D, "unexpected end of input");
        case 'n':
        case 't':
        case 'f': {
            const char *lit = c == 'n' ? "null" : c == 't' ? "true" : "false";
            size_t n = strlen(lit);
            if (D->n - D->pos < n || memcmp(D->s + D->pos, lit, n) != 0) {
                DERR(D, "invalid literal");
            }
            D->pos += n;
            return c == 'n' ? lisp_nil() : lisp_bool(c == 't');
        }
        case '"': return decstring(D);
        case '[': return decarray(D, depth);
        case '{': return decobject(D, depth);
        default:
            if (c == '-' || isdigitc(c)) {
                return decnumber(D);
            }
            DERR(D, "unexpected token");
    }
}

static lisp_Value cfun_json_decode(lisp_State *S, int argc, lisp_Value *argv) {
    Dec D;
    lisp_Value v;
    (void)argc;
    D.S = S;
    D.s = lisp_checkstring(S, argv, 0, &D.n);
    D.pos = 0;
    v = decvalue(&D, 0);
    skipws(&D);
    if (D.pos < D.n) {
        DERR(&D, "trailing characters");
    }
    return v;
}

const lisp_Reg lisp_lib_json[] = {
    {"json.encode", 1, 1, cfun_json_encode, LISP_FRUNTIME, "(json.encode x) -> JSON text"},
    {"json.decode", 1, 1, cfun_json_decode, LISP_FRUNTIME, "(json.decode text) -> value"},
    {NULL, 0, 0, NULL, 0, NULL}};
