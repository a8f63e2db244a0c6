/*
** bt_bb.c -- per-instance blackboard: slots indexed by host-wide key ids,
** with write metadata.  See LICENSE for copyright.
**
** A slot records its value (any Lisp value; the instance marks it), the
** tick and time of the last write, the writer node (-1 = outside the
** tree) and the writer's name.  Writes and, with read tracing on, reads
** become trace events carrying the key id and the value.
*/
#include "conf.h"

#include <string.h>

#include "bt_node.h"
#include "sbuf.h"

/* Grow the slot array to hold 'key'; -1 when out of memory. */
int bt_bb_reserve(bt_Inst *I, int key) {
    int ncap = I->nbb ? I->nbb : 8, i;
    bt_BBSlot *nb;
    while (ncap <= key) {
        ncap *= 2;
    }
    nb = mem_realloc(I->E->mem, I->bb, sizeof(bt_BBSlot) * (size_t)I->nbb,
                     sizeof(bt_BBSlot) * (size_t)ncap);
    if (nb == NULL) {
        return -1;
    }
    for (i = I->nbb; i < ncap; i++) {
        memset(&nb[i], 0, sizeof nb[i]);
        nb[i].v = lisp_nil();
    }
    I->bb = nb;
    I->nbb = ncap;
    return 0;
}

/* Fill the value fields of trace event 'e' from 'v'; returns text for
** values the event cannot hold inline (NULL otherwise). */
static const char *tracevalue(lisp_State *S, trace_Event *e, lisp_Value v, sbuf *b) {
    switch (v.tag) {
        case LISP_TNIL: e->vtag = TRACE_V_NIL; return NULL;
        case LISP_TBOOL:
            e->vtag = TRACE_V_BOOL;
            e->v.i = v.u.b;
            return NULL;
        case LISP_TINT:
            e->vtag = TRACE_V_INT;
            e->v.i = v.u.i;
            return NULL;
        case LISP_TFLOAT:
            e->vtag = TRACE_V_FLOAT;
            e->v.f = v.u.f;
            return NULL;
        case LISP_TSTRING: e->vtag = TRACE_V_STR; return lisp_str(v, NULL);
        default:
            e->vtag = TRACE_V_TEXT;
            lisp_writen(S, b, v, 0, 128); /* the side ring's slots hold 128 bytes */
            return b->p ? b->p : "";
    }
}

static void traceaccess(bt_Inst *I, int kind, int key, lisp_Value v, int32_t node, int64_t ts) {
    trace_Event e = trace_event(kind, I->tick, node, ts);
    sbuf b;
    const char *text;
    sbuf_initm(&b, I->E->mem);
    e.key = key;
    text = tracevalue(I->ctx.S, &e, v, &b);
    if (text) {
        trace_push_msg(&I->trace, &e, text);
    } else {
        trace_push(&I->trace, &e);
    }
    sbuf_free(&b);
}

int bt_bb_put(bt_Inst *I, int key, lisp_Value v, int32_t node, const char *writer) {
    bt_BBSlot *s;
    if (lispbt_unlikely(key >= I->nbb) && bt_bb_reserve(I, key) != 0) {
        return -1; /* no Lisp allocation happened: 'v' is still valid */
    }
    s = &I->bb[key];
    s->v = v;
    lisp_udatabarrier(I->ctx.S, I, v); /* bt_insttype has 'barrier' set */
    s->set = 1;
    s->tick = I->tick;
    s->ts_ns = bt_now(I); /* one stamp for the slot and its trace event */
    s->node = node;
    s->writer = writer;
    if (I->trace_on || I->E->evt_on) {
        if (!I->ticking && I->E->evt_on && !I->evt_pending) {
            I->evt_pending = 1; /* between ticks: the next tick's copy starts here */
            I->evt_mark = I->trace.seq;
        }
        traceaccess(I, TRACE_BB_WRITE, key, v, node, s->ts_ns);
    }
    return 0;
}

int bt_bb_put_input(bt_Inst *I, int key, lisp_Value v) {
    if (bt_bb_put(I, key, v, -1, "bt.tick") != 0) {
        return -1;
    }
    I->bb[key].tick = I->tick + 1; /* the tick the input is for, as muesli-bt stamps it */
    return 0;
}

int bt_bb_get(bt_Inst *I, int key, lisp_Value *out, int32_t node) {
    if (key < 0 || key >= I->nbb || !I->bb[key].set) {
        return 0;
    }
    *out = I->bb[key].v;
    if (I->trace_on && I->readtrace_on) {
        traceaccess(I, TRACE_BB_READ, key, *out, node, bt_now(I));
    }
    return 1;
}

int bt_bb_getnum(bt_Inst *I, int key, int32_t node, double *out) {
    lisp_Value v;
    if (!bt_bb_get(I, key, &v, node)) {
        return 0;
    }
    if (v.tag == LISP_TVEC && lisp_veclen(v) >= 1) {
        v = lisp_vecitems(v)[0];
    } else if (v.tag == LISP_TCONS) { /* a list of numbers, as tick input stores them */
        v = lisp_car(v);
    }
    if (v.tag == LISP_TINT) {
        *out = (double)v.u.i;
        return 1;
    }
    if (v.tag == LISP_TFLOAT) {
        *out = v.u.f;
        return 1;
    }
    return 0;
}

int bt_bb_next(bt_Inst *I, int *it, int *key, lisp_Value *v) {
    while (*it < I->nbb) {
        int k = (*it)++;
        if (I->bb[k].set) {
            *key = k;
            *v = I->bb[k].v;
            return 1;
        }
    }
    return 0;
}

static const char *typename_of(lisp_Value v) {
    switch (v.tag) {
        case LISP_TNIL: return "nil";
        case LISP_TBOOL: return "bool";
        case LISP_TINT: return "int";
        case LISP_TFLOAT: return "float";
        case LISP_TSTRING: return "string";
        case LISP_TVEC: {
            int64_t i, n = lisp_veclen(v);
            for (i = 0; i < n; i++) {
                if (!lisp_isnumber(lisp_vecitems(v)[i])) {
                    return "vec";
                }
            }
            return "floatvec";
        }
        default: return lisp_typename(v);
    }
}

/* 1 if 'v' is what muesli-bt stores as a float64[]: a vec or a proper
** non-empty list whose elements are all numbers. */
static int numseq(lisp_Value v) {
    if (v.tag == LISP_TVEC) {
        int64_t i, n = lisp_veclen(v);
        for (i = 0; i < n; i++) {
            if (!lisp_isnumber(lisp_vecitems(v)[i])) {
                return 0;
            }
        }
        return 1;
    }
    if (v.tag != LISP_TCONS || lisp_listlen(v) < 0) {
        return 0;
    }
    for (; v.tag == LISP_TCONS; v = lisp_cdr(v)) {
        if (!lisp_isnumber(lisp_car(v))) {
            return 0;
        }
    }
    return 1;
}

static double numof(lisp_Value v) {
    return v.tag == LISP_TINT ? (double)v.u.i : v.u.f;
}

/* VALUE and TYPE as muesli-bt's blackboard dump prints them: its value
** types nil, bool, int64, float64, string (a symbol too: it stores the
** name), float64[]; floats as C++ streams print a double (6 significant
** digits, '%g'), strings raw, a float vector as [a,b].  A value it cannot
** store (a map, a vec of other values, a closure) keeps our printed form
** and Lisp type name. */
static const char *muesli_value(lisp_State *S, sbuf *b, lisp_Value v) {
    switch (v.tag) {
        case LISP_TNIL: sbuf_puts(b, "nil"); return "nil";
        case LISP_TBOOL: sbuf_puts(b, v.u.b ? "#t" : "#f"); return "bool";
        case LISP_TINT: sbuf_printf(b, "%lld", (long long)v.u.i); return "int64";
        case LISP_TFLOAT: sbuf_printf(b, "%g", v.u.f); return "float64";
        case LISP_TSTRING:
        case LISP_TSYMBOL: {
            size_t n;
            const char *s = lisp_str(v, &n);
            sbuf_putn(b, s, n);
            return "string";
        }
        default: break;
    }
    if (numseq(v)) {
        int first = 1;
        sbuf_putc(b, '[');
        if (v.tag == LISP_TVEC) {
            int64_t i, n = lisp_veclen(v);
            for (i = 0; i < n; i++) {
                sbuf_printf(b, i ? ",%g" : "%g", numof(lisp_vecitems(v)[i]));
            }
        } else {
            for (; v.tag == LISP_TCONS; v = lisp_cdr(v), first = 0) {
                sbuf_printf(b, first ? "%g" : ",%g", numof(lisp_car(v)));
            }
        }
        sbuf_putc(b, ']');
        return "float64[]";
    }
    lisp_write(S, b, v, 0);
    return typename_of(v);
}

void bt_bb_dump(bt_Inst *I, sbuf *b) {
    lisp_State *S = I->ctx.S;
    int muesli = lisp_printstyle(S) == LISP_PRINT_MUESLI;
    int i;
    for (i = 0; i < I->nbb; i++) {
        bt_BBSlot *s = &I->bb[i];
        const char *type;
        int node = (int)s->node;
        if (!s->set) {
            continue;
        }
        sbuf_printf(b, "%s=", bt_key_name(S, i));
        if (muesli) {
            /* the reference's node numbering; a write from outside the
            ** tree is writer_node=0 there */
            type = muesli_value(S, b, s->v);
            node = node < 0 ? 0 : (int)bt_def_postid(I->D, node);
        } else {
            lisp_write(S, b, s->v, 0);
            type = typename_of(s->v);
        }
        sbuf_printf(b, " type=%s tick=%lld ts_ns=%lld writer_node=%d", type, (long long)s->tick,
                    (long long)s->ts_ns, node);
        if (s->writer) {
            sbuf_printf(b, " writer_name=%s", s->writer);
        }
        sbuf_putc(b, '\n');
    }
}
