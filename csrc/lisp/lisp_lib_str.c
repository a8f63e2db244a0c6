/*
** lisp_lib_str.c -- strings and symbols.  See LICENSE for copyright.
** Strings are immutable byte strings.
*/
#include "conf.h"

#include <string.h>

#include "lisp_obj.h"
#include "sbuf.h"

static lisp_Value cfun_str_stringp(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    return lisp_bool(argv[0].tag == LISP_TSTRING);
}

static lisp_Value cfun_str_symbolp(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    return lisp_bool(argv[0].tag == LISP_TSYMBOL);
}

static lisp_Value cfun_str_append(lisp_State *S, int argc, lisp_Value *argv) {
    size_t total = 0, n;
    int i;
    char *out;
    for (i = 0; i < argc; i++) {
        lisp_checkstring(S, argv, i, &n);
        total += n;
    }
    out = AS(lisp_String, lisp_string(S, NULL, total))->data;
    for (i = 0; i < argc; i++) {
        const char *s = lisp_str(argv[i], &n);
        memcpy(out, s, n);
        out += n;
    }
    return S->top[-1];
}

static lisp_Value cfun_str_length(lisp_State *S, int argc, lisp_Value *argv) {
    size_t n;
    (void)argc;
    lisp_checkstring(S, argv, 0, &n);
    return lisp_int((int64_t)n);
}

static lisp_Value cfun_str_numtostring(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    lisp_checknumber(S, argv, 0);
    lisp_write(S, lisp_scratch(S), argv[0], 1);
    return lisp_scratchstring(S);
}

static lisp_Value cfun_str_symtostring(lisp_State *S, int argc, lisp_Value *argv) {
    size_t n;
    const char *s;
    (void)argc;
    if (argv[0].tag != LISP_TSYMBOL) {
        lisp_argerror(S, argv, 0, "expected a symbol");
    }
    s = lisp_str(argv[0], &n);
    return lisp_string(S, s, n);
}

static lisp_Value cfun_str_stringtosym(lisp_State *S, int argc, lisp_Value *argv) {
    size_t n;
    const char *s = lisp_checkstring(S, argv, 0, &n);
    (void)argc;
    if (n == 0) {
        lisp_argerror(S, argv, 0, "expected a non-empty string");
    }
    return lisp_intern(S, s, n);
}

const lisp_Reg lisp_lib_str[] = {
    {"string?", 1, 1, cfun_str_stringp, 0, "(string? x) -> #t for strings"},
    {"symbol?", 1, 1, cfun_str_symbolp, 0, "(symbol? x) -> #t for symbols"},
    {"string-append", 0, LISP_VARARG, cfun_str_append, 0, "(string-append s ...) -> new string"},
    {"string-length", 1, 1, cfun_str_length, 0, "(string-length s) -> byte count"},
    {"number->string", 1, 1, cfun_str_numtostring, 0, "(number->string n) -> decimal text"},
    {"symbol->string", 1, 1, cfun_str_symtostring, 0, "(symbol->string sym) -> its name"},
    {"string->symbol", 1, 1, cfun_str_stringtosym, 0, "(string->symbol s) -> interned symbol"},
    {NULL, 0, 0, NULL, 0, NULL}};
