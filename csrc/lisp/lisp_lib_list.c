/*
** lisp_lib_list.c -- pairs, lists, predicates and procedure application.
** See LICENSE for copyright.
**
** (car x) and (cdr x) of anything but a pair, nil included, raise
** "expected a cons", as in muesli-bt (docs/compat.md).
*/
#include "conf.h"

#include "lisp_obj.h"

static lisp_Value cfun_list_cons(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    return lisp_cons(S, argv[0], argv[1]);
}

static lisp_Value cfun_list_car(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    if (argv[0].tag != LISP_TCONS) { /* nil too, as muesli-bt */
        lisp_argerror(S, argv, 0, "expected a cons");
    }
    return lisp_car(argv[0]);
}

static lisp_Value cfun_list_cdr(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    if (argv[0].tag != LISP_TCONS) { /* nil too, as muesli-bt */
        lisp_argerror(S, argv, 0, "expected a cons");
    }
    return lisp_cdr(argv[0]);
}

/* Build a list of argv[0..argc) ending in 'tail'. */
static lisp_Value buildlist(lisp_State *S, int argc, lisp_Value *argv, lisp_Value tail) {
    int i;
    for (i = argc - 1; i >= 0; i--) {
        tail = lisp_cons(S, argv[i], tail);
    }
    return tail;
}

static lisp_Value cfun_list_list(lisp_State *S, int argc, lisp_Value *argv) {
    return buildlist(S, argc, argv, lisp_nil());
}

static int64_t checklist(lisp_State *S, lisp_Value *argv, int i) {
    int64_t n = lisp_listlen(argv[i]);
    if (n < 0) {
        lisp_argerror(S, argv, i, "expected a proper list");
    }
    return n;
}

static lisp_Value cfun_list_length(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    if (argv[0].tag == LISP_TSTRING) {
        size_t n;
        lisp_str(argv[0], &n);
        return lisp_int((int64_t)n);
    }
    if (argv[0].tag == LISP_TVEC) {
        return lisp_int(lisp_veclen(argv[0]));
    }
    return lisp_int(checklist(S, argv, 0));
}

/* Copy list 'l' in front of 'tail' (both rooted by the caller). */
static lisp_Value copyonto(lisp_State *S, lisp_Value l, lisp_Value tail) {
    lisp_Value head, last;
    int base = lisp_gettop(S);
    if (l.tag == LISP_TNIL) {
        return tail;
    }
    head = last = lisp_cons(S, lisp_car(l), lisp_nil()); /* stays pushed */
    for (l = lisp_cdr(l); l.tag == LISP_TCONS; l = lisp_cdr(l)) {
        lisp_Value c = lisp_cons(S, lisp_car(l), lisp_nil());
        lisp_setcdr(S, last, c);
        last = c;
        S->top--;
    }
    lisp_setcdr(S, last, tail);
    lisp_settop(S, base);
    return head;
}

static lisp_Value cfun_list_append(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Value acc;
    int i;
    if (argc == 0) {
        return lisp_nil();
    }
    acc = argv[argc - 1];
    for (i = argc - 2; i >= 0; i--) {
        checklist(S, argv, i);
        acc = copyonto(S, argv[i], acc);
        lisp_push(S, acc);
    }
    return acc;
}

static lisp_Value cfun_list_reverse(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Value acc = lisp_nil(), l;
    (void)argc;
    checklist(S, argv, 0);
    for (l = argv[0]; l.tag == LISP_TCONS; l = lisp_cdr(l)) {
        acc = lisp_cons(S, lisp_car(l), acc);
    }
    return acc;
}

static lisp_Value cfun_list_apply(lisp_State *S, int argc, lisp_Value *argv) {
    int fidx = lisp_gettop(S), n = 0, i;
    lisp_Value l;
    checklist(S, argv, argc - 1);
    lisp_push(S, argv[0]);
    for (i = 1; i < argc - 1; i++, n++) {
        lisp_push(S, argv[i]);
    }
    for (l = argv[argc - 1]; l.tag == LISP_TCONS; l = lisp_cdr(l), n++) {
        lisp_push(S, lisp_car(l));
    }
    return lisp_call(S, fidx, n);
}

/* (map f list) and (for-each f list) */
static lisp_Value mapping(lisp_State *S, lisp_Value *argv, int collect) {
    lisp_Value l, head = lisp_nil(), last = lisp_nil();
    int base;
    checklist(S, argv, 1);
    lisp_push(S, lisp_nil()); /* slot rooting the result's head */
    base = lisp_gettop(S);
    for (l = argv[1]; l.tag == LISP_TCONS; l = lisp_cdr(l)) {
        int fidx = lisp_gettop(S);
        lisp_Value v;
        lisp_push(S, argv[0]);
        lisp_push(S, lisp_car(l));
        v = lisp_call(S, fidx, 1);
        if (collect) {
            lisp_Value c = lisp_cons(S, v, lisp_nil());
            if (head.tag == LISP_TNIL) {
                head = c;
                *lisp_at(S, base - 1) = c;
            } else {
                lisp_setcdr(S, last, c);
            }
            last = c;
        }
        lisp_settop(S, base);
    }
    return head;
}

static lisp_Value cfun_list_map(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    return mapping(S, argv, 1);
}

static lisp_Value cfun_list_foreach(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    mapping(S, argv, 0);
    return lisp_nil();
}

static lisp_Value cfun_list_nullp(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    return lisp_bool(argv[0].tag == LISP_TNIL);
}

static lisp_Value cfun_list_pairp(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    return lisp_bool(argv[0].tag == LISP_TCONS);
}

static lisp_Value cfun_list_listp(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    return lisp_bool(lisp_listlen(argv[0]) >= 0);
}

static lisp_Value cfun_list_eqp(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    return lisp_bool(lisp_eqp(argv[0], argv[1]));
}

static lisp_Value cfun_list_equalp(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    return lisp_bool(lisp_equal(S, argv[0], argv[1]));
}

static lisp_Value cfun_list_not(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    return lisp_bool(!lisp_istrue(argv[0]));
}

static lisp_Value cfun_list_procedurep(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    return lisp_bool(argv[0].tag == LISP_TPRIM || argv[0].tag == LISP_TCLOSURE);
}

const lisp_Reg lisp_lib_list[] = {
    {"cons", 2, 2, cfun_list_cons, 0, "(cons a b) -> new pair"},
    {"car", 1, 1, cfun_list_car, 0, "(car pair) -> first element"},
    {"cdr", 1, 1, cfun_list_cdr, 0, "(cdr pair) -> rest"},
    {"list", 0, LISP_VARARG, cfun_list_list, 0, "(list x ...) -> new list"},
    {"length", 1, 1, cfun_list_length, 0, "(length list|string|vec) -> element count"},
    {"append", 0, LISP_VARARG, cfun_list_append, 0, "(append list ... tail) -> concatenation"},
    {"reverse", 1, 1, cfun_list_reverse, 0, "(reverse list) -> new reversed list"},
    {"apply", 2, LISP_VARARG, cfun_list_apply, 0, "(apply f x ... list) -> (f x ... elements)"},
    {"map", 2, 2, cfun_list_map, 0, "(map f list) -> list of (f x)"},
    {"for-each", 2, 2, cfun_list_foreach, 0, "(for-each f list) -> nil; calls (f x) in order"},
    {"null?", 1, 1, cfun_list_nullp, 0, "(null? x) -> #t for nil"},
    {"pair?", 1, 1, cfun_list_pairp, 0, "(pair? x) -> #t for a cons"},
    {"list?", 1, 1, cfun_list_listp, 0, "(list? x) -> #t for a proper list (incl. nil)"},
    {"eq?", 2, 2, cfun_list_eqp, 0, "(eq? a b) -> identity (numbers by value)"},
    {"equal?", 2, 2, cfun_list_equalp, 0, "(equal? a b) -> structural equality"},
    {"not", 1, 1, cfun_list_not, 0, "(not x) -> #t when x is #f or nil"},
    {"procedure?", 1, 1, cfun_list_procedurep, 0, "(procedure? x) -> #t for callables"},
    {NULL, 0, 0, NULL, 0, NULL}};
