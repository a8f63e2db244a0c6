/*
** lua_aux.c -- binding helpers: value conversion, protected entry into the
** engine, Lua callbacks, userdata for Lisp values.  See LICENSE for
** copyright.  Contract: lua_aux.h.
**
** Invariants:
** - Inside lx_run (a Lisp protected call) a Lua error must never be
**   raised: it would longjmp over the Lisp handler chain.  Conversion from
**   Lua uses only non-raising lua_* calls; the few raising operations
**   (storing into a table, calling Lua) run under lua_pcall.
** - Conversion to Lua happens outside lx_run, so it may raise freely; it
**   only reads Lisp values and pins them (pinning never collects).
** - Lua functions the engine may call live in the host userdata's
**   callback table (uservalue 1), not in the registry, so a callback that
**   captures its host does not keep the host alive forever.  The registry
**   holds only a weak map from lx_Host* (the userdata's memory) to its
**   userdata.
** - The engine is reached through host.h and the subsystem headers only:
**   the binding's state of a host is the lx_Host (host_userdata), and
**   the engine's dead keys arrive through lx_deadkey.
*/
#include "conf.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "lua_aux.h"
#include "bt.h"
#include "hist.h"
#include "sbuf.h"

/* registry keys: addresses of static constants (no mutable globals) */
static const char HOSTS_KEY = 'h';

/* ---- errors ---- */

int lx_error(lua_State *L, const char *fname, const char *fmt, ...) {
    va_list ap;
    luaL_where(L, 1);
    lua_pushstring(L, fname);
    lua_pushliteral(L, ": ");
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    lua_concat(L, 4);
    return lua_error(L);
}

int lx_argerror(lua_State *L, const char *fname, int idx, const char *msg) {
    if (idx <= 1) {
        return lx_error(L, fname, "bad self (%s)", msg);
    }
    return lx_error(L, fname, "bad argument #%d (%s)", idx - 1, msg);
}

const char *lx_typename(lua_State *L, int idx) {
    const char *t;
    if (lua_isnone(L, idx)) {
        return "no value";
    }
    switch (luaL_getmetafield(L, idx, "__name")) {
        case LUA_TNIL: break; /* no field: nothing was pushed */
        case LUA_TSTRING:
            t = lua_tostring(L, -1); /* kept alive by the metatable */
            lua_pop(L, 1);
            return t;
        default: lua_pop(L, 1); break;
    }
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA ? "light userdata" : luaL_typename(L, idx);
}

int lx_typeerror(lua_State *L, const char *fname, int idx, const char *tname) {
    const char *msg = lua_pushfstring(L, "%s expected, got %s", tname, lx_typename(L, idx));
    return lx_argerror(L, fname, idx, msg);
}

const char *lx_checkstring(lua_State *L, int idx, const char *fname, size_t *n) {
    const char *s = lua_tolstring(L, idx, n);
    if (s == NULL) {
        lx_typeerror(L, fname, idx, "string");
    }
    return s;
}

const char *lx_checkname(lua_State *L, int idx, const char *fname, const char *what, size_t *n) {
    size_t len;
    const char *s = lx_checkstring(L, idx, fname, &len);
    if (len == 0) {
        lx_argerror(L, fname, idx, lua_pushfstring(L, "%s must not be empty", what));
    }
    if (memchr(s, '\0', len) != NULL) {
        lx_argerror(L, fname, idx, lua_pushfstring(L, "%s contains a NUL byte", what));
    }
    if (n) {
        *n = len;
    }
    return s;
}

void lx_checkfunction(lua_State *L, int idx, const char *fname) {
    if (lua_type(L, idx) != LUA_TFUNCTION) {
        lx_typeerror(L, fname, idx, "function");
    }
}

const char *lx_tosymbol(lua_State *L, int idx, size_t *n) {
    const char *s = luaL_testudata(L, idx, LX_SYMBOL);
    if (n) {
        *n = s ? lua_rawlen(L, idx) - 1 : 0;
    }
    return s;
}

/* ---- hosts ---- */

lx_Host *lx_tohost(lua_State *L, int idx) {
    lx_Host *X = lua_touserdata(L, idx);
    /* a full userdata of our size carrying the host tag (only C code
    ** writes userdata memory, and only newhost makes one with this tag);
    ** each host has its own metatable, so there is no one metatable to
    ** compare with */
    if (X == NULL || lua_rawlen(L, idx) != sizeof(lx_Host) || X->kind != LX_KHOST) {
        return NULL;
    }
    return X;
}

lx_Host *lx_checkhost(lua_State *L, int idx, const char *fname) {
    lx_Host *X = lx_tohost(L, idx);
    if (X == NULL) {
        lx_typeerror(L, fname, idx, LX_HOST);
    }
    if (X->S == NULL) {
        lx_error(L, fname, "host is closed");
    }
    return X;
}

lx_Host *lx_hostof(lispbt_Host *H) {
    return host_userdata(H);
}

void lx_registerhost(lua_State *L, int idx) {
    lx_Host *X = lua_touserdata(L, idx);
    idx = lua_absindex(L, idx);
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &HOSTS_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "v");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &HOSTS_KEY);
    }
    lua_pushvalue(L, idx);
    lua_rawsetp(L, -2, X);
    lua_pop(L, 1);
}

int lx_pushhost(lua_State *L, lx_Host *X) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &HOSTS_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        return 0;
    }
    if (lua_rawgetp(L, -1, X) != LUA_TUSERDATA) {
        lua_pop(L, 2);
        return 0;
    }
    lua_remove(L, -2);
    return 1;
}

void lx_deadkey(void *ud, int64_t key) {
    lx_Host *X = ud;
    if (X->ndead == X->capdead) {
        int ncap = X->capdead ? X->capdead * 2 : 16;
        int64_t *nd = mem_realloc(host_mem(X->H), X->dead, sizeof(int64_t) * (size_t)X->capdead,
                                  sizeof(int64_t) * (size_t)ncap);
        if (nd == NULL) {
            return;
        }
        X->dead = nd;
        X->capdead = ncap;
    }
    X->dead[X->ndead++] = key;
}

/* Forget the callbacks of collected primitives and the ctx of collected
** instances (a safe point: outside any Lisp protected call, with the host
** userdata reachable).  Positive keys are callbacks, negative ones -id. */
void lx_flushdead(lua_State *L, lx_Host *X) {
    int i;
    if (X->ndead == 0 || !lx_pushhost(L, X)) {
        return;
    }
    lua_getiuservalue(L, -1, 1); /* callbacks */
    lua_getiuservalue(L, -2, 3); /* per-instance Lua state */
    for (i = 0; i < X->ndead; i++) {
        int64_t k = X->dead[i];
        lua_pushnil(L);
        lua_rawseti(L, k > 0 ? -3 : -2, k > 0 ? k : -k);
    }
    X->ndead = 0;
    lua_pop(L, 3);
}

/* lx_leave's rare part: dead keys to flush, or an error to raise. */
void lx_leaveslow(lua_State *L, lx_Host *X, int st) {
    if (X->running == 0 && X->ndead != 0) {
        lx_flushdead(L, X);
    }
    if (st != LISP_OK) {
        lua_pushstring(L, lisp_errmsg(X->S));
        lua_error(L);
    }
}

void lx_run(lua_State *L, lx_Host *X, const char *fname, void (*f)(lisp_State *S, void *ud),
            void *ud) {
    lx_Entry e;
    int st;
    lx_enter(L, X, fname, &e);
    {
        /* allocation failures outside any builtin name the Lua function */
        const char *oldf = lisp_setfname(X->S, fname);
        st = lisp_pcall(X->S, f, ud);
        lisp_setfname(X->S, oldf);
    }
    lx_leave(L, X, &e, st);
}

/* ---- Lisp values as userdata ---- */

lx_Value *lx_testvalue(lua_State *L, int idx, const char *tname) {
    lx_Value *v;
    if (tname) {
        return luaL_testudata(L, idx, tname);
    }
    v = luaL_testudata(L, idx, LX_VALUE);
    if (v == NULL) {
        v = luaL_testudata(L, idx, LX_TREE);
    }
    if (v == NULL) {
        v = luaL_testudata(L, idx, LX_INST);
    }
    return v;
}

lx_Value *lx_checkvalue(lua_State *L, int idx, const char *tname, const char *fname) {
    lx_Value *v = luaL_testudata(L, idx, tname);
    if (v == NULL) {
        lx_typeerror(L, fname, idx, tname);
    }
    if (v->X->S == NULL) {
        lx_error(L, fname, "host is closed");
    }
    if (v->pin < 0) { /* released by <close>: its object may be collected */
        lx_error(L, fname, "%s is closed", tname + 7 /* skip "lispbt." */);
    }
    return v;
}

void lx_newvalue(lua_State *L, lx_Host *X, lisp_Value v, const char *tname) {
    lx_Value *u = lua_newuserdatauv(L, sizeof(lx_Value), 2); /* 2: instances cache their ctx */
    u->X = X;
    u->pin = -1;
    u->p = v.tag == LISP_TUDATA ? lisp_udata(v) : NULL;
    u->kind = strcmp(tname, LX_INST) == 0   ? LX_KINST
              : strcmp(tname, LX_TREE) == 0 ? LX_KTREE
                                            : LX_KVALUE;
    luaL_setmetatable(L, tname);
    if (lx_pushhost(L, X)) {
        lua_setiuservalue(L, -2, 1); /* keeps the lispbt_Host alive */
    }
    u->pin = lisp_pin(X->S, v);
    if (u->pin < 0) {
        luaL_error(L, "%s: out of memory", X->fname ? X->fname : "lispbt");
    }
    if (u->kind == LX_KINST) {
        bt_inst_hold(u->p); /* released by lx_valuegc */
    }
}

/* __gc and __close of values, trees and instances.  An instance whose last
** handle this was, and which Lisp never saw (bt_inst_unhold), has its jobs
** cancelled here rather than at the next Lisp collection. */
int lx_valuegc(lua_State *L) {
    lx_Value *u = lua_touserdata(L, 1);
    if (u->pin >= 0 && u->X->S != NULL) {
        if (u->kind == LX_KINST) {
            bt_inst_unhold(u->p);
        }
        lisp_unpin(u->X->S, u->pin);
    }
    u->pin = -1;
    return 0;
}

static int value_tostring(lua_State *L) {
    lx_Value *u = lua_touserdata(L, 1);
    sbuf *b;
    if (u->X->S == NULL || u->pin < 0) {
        lua_pushliteral(L, "#<closed>");
        return 1;
    }
    b = lisp_scratch(u->X->S); /* owned by the state: a Lua error cannot leak it */
    lisp_write(u->X->S, b, lisp_pinned(u->X->S, u->pin), 0);
    lua_pushlstring(L, b->p ? b->p : "", b->len);
    return 1;
}

typedef struct CallArgs {
    lua_State *L;
    lx_Host *X;
    lisp_Value fn;
    int first, nargs;
    lisp_Value r;
} CallArgs;

static void docall(lisp_State *S, void *ud) {
    CallArgs *a = ud;
    int fidx = lisp_gettop(S), i;
    lisp_push(S, a->fn);
    for (i = 0; i < a->nargs; i++) {
        lx_tolisp(a->L, a->X, a->first + i);
    }
    a->r = lisp_call(S, fidx, a->nargs);
    lisp_push(S, a->r);
}

static int value_call(lua_State *L) {
    lx_Value *u = lx_checkvalue(L, 1, LX_VALUE, "call");
    lisp_State *S = u->X->S;
    int top = lisp_gettop(S);
    CallArgs a;
    a.L = L;
    a.X = u->X;
    a.fn = lisp_pinned(S, u->pin);
    a.first = 2;
    a.nargs = lua_gettop(L) - 1;
    lx_run(L, u->X, "call", docall, &a);
    lx_pushlisp(L, u->X, a.r, "call");
    lisp_settop(S, top);
    return 1;
}

/* ---- symbols ---- */

static void newsymbol(lua_State *L, const char *s, size_t n) {
    char *p = lua_newuserdatauv(L, n + 1, 0);
    memcpy(p, s, n);
    p[n] = '\0';
    luaL_setmetatable(L, LX_SYMBOL);
}

/* lispbt.symbol(name): a name, so not empty and free of NUL bytes (a
** symbol Lisp made may hold any byte: conversion carries the length). */
static int symbol_new(lua_State *L) {
    size_t n;
    const char *s = lua_tolstring(L, 1, &n);
    if (s == NULL) {
        lx_error(L, "symbol", "bad argument #1 (string expected, got %s)", lx_typename(L, 1));
    }
    if (n == 0) {
        lx_error(L, "symbol", "bad argument #1 (name must not be empty)");
    }
    if (memchr(s, '\0', n) != NULL) {
        lx_error(L, "symbol", "bad argument #1 (name contains a NUL byte)");
    }
    newsymbol(L, s, n);
    return 1;
}

static int symbol_tostring(lua_State *L) {
    size_t n;
    const char *s = lx_tosymbol(L, 1, &n);
    if (s == NULL) {
        lx_error(L, "tostring", "bad argument #1 (%s expected, got %s)", LX_SYMBOL,
                 lx_typename(L, 1));
    }
    lua_pushlstring(L, s, n);
    return 1;
}

static int symbol_eq(lua_State *L) {
    size_t na, nb;
    const char *a = lx_tosymbol(L, 1, &na), *b = lx_tosymbol(L, 2, &nb);
    lua_pushboolean(L, a && b && na == nb && memcmp(a, b, na) == 0);
    return 1;
}

/* ---- Lua to Lisp ---- */

static int setcallback(lua_State *L) {
    lua_rawset(L, 1); /* t[key] = fn, under lua_pcall */
    return 0;
}

int64_t lx_storecallback(lua_State *L, lx_Host *X, int idx) {
    int64_t key = ++X->cbnext;
    idx = lua_absindex(L, idx);
    if (!lua_checkstack(L, 6) || !lx_pushhost(L, X)) {
        lisp_nomem(X->S, X->fname);
    }
    lua_getiuservalue(L, -1, 1);
    lua_pushcfunction(L, setcallback);
    lua_pushvalue(L, -2);
    lua_pushinteger(L, key);
    lua_pushvalue(L, idx);
    if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
        lua_pop(L, 3);
        lisp_nomem(X->S, X->fname);
    }
    lua_pop(L, 2);
    return key;
}

/* Lua to Lisp.  'memo' is the Lisp stack index of a map from each table
** already converted (its address, lua_topointer, as an integer key) to its
** Lisp value, so a table that appears many times is converted once and
** becomes one shared Lisp object: a table doubled 40 times converts in 40
** steps.  The map lives in the Lisp heap, under the host's limit.  A cycle
** (a table inside itself, not yet converted) still recurses and is reported
** at LX_MAXDEPTH, since a Lisp list cannot be built around itself. */
static void tolisp(lua_State *L, lx_Host *X, int idx, int depth, int memo);

static void tabletolisp(lua_State *L, lx_Host *X, int idx, int depth, int memo) {
    lisp_State *S = X->S;
    lua_Unsigned n = lua_rawlen(L, idx), count = 0;
    int isseq = 1, base;
    lisp_Value key = lisp_int((int64_t)(intptr_t)lua_topointer(L, idx)), done;
    if (lisp_mapget(*lisp_at(S, memo), key, &done)) {
        lisp_push(S, done);
        return;
    }
    if (depth >= LX_MAXDEPTH) {
        lisp_error(S, "%s: table is cyclic or nested deeper than %d levels", X->fname, LX_MAXDEPTH);
    }
    if (!lua_checkstack(L, 4)) {
        lisp_error(S, "stack overflow");
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        if (!lua_isinteger(L, -2) || lua_tointeger(L, -2) < 1 ||
            (lua_Unsigned)lua_tointeger(L, -2) > n) {
            isseq = 0;
        }
        lua_pop(L, 1);
    }
    if (isseq && count == n) { /* keys 1..n: a proper list */
        lua_Unsigned i;
        lisp_push(S, lisp_nil()); /* the list so far, built from the end */
        base = lisp_gettop(S);
        for (i = n; i >= 1; i--) {
            lisp_Value cell;
            lua_rawgeti(L, idx, (lua_Integer)i);
            tolisp(L, X, -1, depth + 1, memo);
            lua_pop(L, 1);
            cell = lisp_cons(S, *lisp_at(S, base), *lisp_at(S, base - 1));
            *lisp_at(S, base - 1) = cell;
            lisp_settop(S, base);
        }
        lisp_mapset(S, *lisp_at(S, memo), key, *lisp_at(S, base - 1));
        return;
    }
    {
        lisp_Value m = lisp_map(S, (int64_t)count);
        base = lisp_gettop(S);
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            tolisp(L, X, -2, depth + 1, memo);
            tolisp(L, X, -1, depth + 1, memo);
            lisp_mapset(S, m, *lisp_at(S, base), *lisp_at(S, base + 1));
            lisp_settop(S, base);
            lua_pop(L, 1);
        }
        lisp_mapset(S, *lisp_at(S, memo), key, m);
    }
}

static void tolisp(lua_State *L, lx_Host *X, int idx, int depth, int memo) {
    lisp_State *S = X->S;
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
        case LUA_TNIL:
        case LUA_TNONE: lisp_push(S, lisp_nil()); break;
        case LUA_TBOOLEAN: lisp_push(S, lisp_bool(lua_toboolean(L, idx))); break;
        case LUA_TNUMBER:
            if (lua_isinteger(L, idx)) {
                lisp_push(S, lisp_int(lua_tointeger(L, idx)));
            } else {
                lisp_push(S, lisp_float(lua_tonumber(L, idx)));
            }
            break;
        case LUA_TSTRING: {
            size_t n;
            const char *s = lua_tolstring(L, idx, &n);
            lisp_string(S, s, n);
            break;
        }
        case LUA_TTABLE: tabletolisp(L, X, idx, depth, memo); break;
        case LUA_TFUNCTION: {
            int64_t key = lx_storecallback(L, X, idx);
            lisp_newprim(S, "lua-function", 0, LISP_VARARG, lx_luaprim, key);
            break;
        }
        case LUA_TUSERDATA: {
            size_t n;
            const char *sym = lx_tosymbol(L, idx, &n);
            lx_Value *v;
            if (sym) {
                lisp_intern(S, sym, n);
                break;
            }
            v = lx_testvalue(L, idx, NULL);
            if (v) {
                if (v->X != X) {
                    lisp_error(S, "%s: a Lisp value of another host cannot be used here", X->fname);
                }
                if (v->pin < 0) {
                    lisp_error(S, "%s: use of a released Lisp value", X->fname);
                }
                if (v->kind == LX_KINST) {
                    bt_inst_share(v->p); /* Lisp code may keep it (bt_inst_unhold) */
                }
                lisp_push(S, lisp_pinned(S, v->pin));
                break;
            }
            lisp_error(S, "%s: cannot convert a userdata to a Lisp value", X->fname);
        }
        default:
            lisp_error(S, "%s: cannot convert a %s to a Lisp value", X->fname,
                       lua_typename(L, lua_type(L, idx)));
    }
}

void lx_tolisp(lua_State *L, lx_Host *X, int idx) {
    lisp_State *S = X->S;
    int memo;
    if (lua_type(L, idx) != LUA_TTABLE) {
        tolisp(L, X, idx, 0, 0); /* no table, no memo: nothing allocated */
        return;
    }
    idx = lua_absindex(L, idx);
    lisp_map(S, 0);
    memo = lisp_gettop(S) - 1;
    tabletolisp(L, X, idx, 0, memo);
    *lisp_at(S, memo) = *lisp_at(S, memo + 1); /* the value in the memo's slot */
    lisp_settop(S, memo + 1);
}

void lx_tolisp_self(lua_State *L, lx_Host *X, int idx) {
    lx_Value *v = lx_testvalue(L, idx, NULL);
    if (v != NULL && v->kind == LX_KINST && v->X == X && v->pin >= 0) {
        lisp_push(X->S, lisp_pinned(X->S, v->pin)); /* not shared: see lua_aux.h */
        return;
    }
    lx_tolisp(L, X, idx);
}

/* ---- Lisp to Lua ---- */

static const char *udatatname(lisp_Value v) {
    const char *t = lisp_typename(v);
    if (strcmp(t, "bt_def") == 0) {
        return LX_TREE;
    }
    if (strcmp(t, "bt_instance") == 0) {
        return LX_INST;
    }
    return LX_VALUE;
}

/* Lisp to Lua: one conversion.  'memo' is the stack index of a Lua table
** mapping each list, vec and map already converted (light userdata: its
** object) to its table, made when the first one is met (0 = not yet).  So
** the same Lisp object becomes the same Lua table: sharing is preserved, a
** value that contains itself converts to a table that contains itself, and
** a value doubled 40 times converts in 40 steps.  Nesting is bounded by
** LISPBT_TOLUA_MAXDEPTH (C recursion). */
typedef struct ToLua {
    lx_Host *X;
    const char *fname;
    int memo;
} ToLua;

static void pushlisp(lua_State *L, ToLua *T, lisp_Value v, int depth);

/* Push the table already made for 'v' and return 1, or return 0. */
static int memoget(lua_State *L, ToLua *T, lisp_Value v) {
    if (T->memo == 0) {
        lua_newtable(L);
        T->memo = lua_gettop(L);
    }
    if (lua_rawgetp(L, T->memo, v.u.o) != LUA_TNIL) {
        return 1;
    }
    lua_pop(L, 1);
    return 0;
}

/* Record the table on top as the conversion of 'v' (before its contents). */
static void memoset(lua_State *L, ToLua *T, lisp_Value v) {
    lua_pushvalue(L, -1);
    lua_rawsetp(L, T->memo, v.u.o);
}

/* Is 'v' a proper list or a vec whose items are all atoms (nothing a
** memo entry could be shared with or cycle through)?  */
static int flatseq(lisp_Value v) {
    int64_t i, n;
    if (v.tag == LISP_TVEC) {
        const lisp_Value *it = lisp_vecitems(v);
        for (i = 0, n = lisp_veclen(v); i < n; i++) {
            if (it[i].tag == LISP_TCONS || it[i].tag == LISP_TVEC || it[i].tag == LISP_TMAP) {
                return 0;
            }
        }
        return 1;
    }
    if (lisp_listlen(v) < 0) {
        return 0;
    }
    for (; v.tag == LISP_TCONS; v = lisp_cdr(v)) {
        lisp_Value x = lisp_car(v);
        if (x.tag == LISP_TCONS || x.tag == LISP_TVEC || x.tag == LISP_TMAP) {
            return 0;
        }
    }
    return 1;
}

static void pushlisp(lua_State *L, ToLua *T, lisp_Value v, int depth) {
    lx_Host *X = T->X;
    luaL_checkstack(L, 6, "lispbt: value nested too deeply");
    if (depth == 0 && (v.tag == LISP_TCONS || v.tag == LISP_TVEC) && flatseq(v)) {
        /* a flat list or vec on its own (a state, an action): no memo
        ** table, which cost more than the conversion */
        int64_t n = v.tag == LISP_TVEC ? lisp_veclen(v) : lisp_listlen(v), i;
        lua_createtable(L, (int)(n > 1 << 20 ? 1 << 20 : n), 0);
        for (i = 1; i <= n; i++) {
            lisp_Value x;
            if (v.tag == LISP_TVEC) {
                x = lisp_vecitems(v)[i - 1];
            } else {
                x = lisp_car(v);
                v = lisp_cdr(v);
            }
            pushlisp(L, T, x, 1);
            lua_rawseti(L, -2, i);
        }
        return;
    }
    if (v.tag == LISP_TCONS || v.tag == LISP_TVEC || v.tag == LISP_TMAP) {
        if (memoget(L, T, v)) {
            return;
        }
        if (depth > LISPBT_TOLUA_MAXDEPTH) {
            luaL_error(L, "%s: value nested deeper than %d levels", T->fname,
                       LISPBT_TOLUA_MAXDEPTH);
        }
    }
    switch (v.tag) {
        case LISP_TNIL: lua_pushnil(L); break;
        case LISP_TBOOL: lua_pushboolean(L, v.u.b); break;
        case LISP_TINT: lua_pushinteger(L, v.u.i); break;
        case LISP_TFLOAT: lua_pushnumber(L, v.u.f); break;
        case LISP_TSTRING: {
            size_t n;
            const char *s = lisp_str(v, &n);
            lua_pushlstring(L, s, n);
            break;
        }
        case LISP_TSYMBOL: {
            size_t n;
            const char *s = lisp_str(v, &n);
            newsymbol(L, s, n);
            break;
        }
        case LISP_TCONS: {
            int64_t n = lisp_listlen(v), i;
            if (n < 0) {
                lx_newvalue(L, X, v, LX_VALUE); /* improper or cyclic */
                memoset(L, T, v);
                break;
            }
            lua_createtable(L, (int)(n > 1 << 20 ? 1 << 20 : n), 0);
            memoset(L, T, v);
            for (i = 1; i <= n; i++, v = lisp_cdr(v)) {
                pushlisp(L, T, lisp_car(v), depth + 1);
                lua_rawseti(L, -2, i);
            }
            break;
        }
        case LISP_TVEC: {
            int64_t n = lisp_veclen(v), i;
            lua_createtable(L, (int)(n > 1 << 20 ? 1 << 20 : n), 0);
            memoset(L, T, v);
            for (i = 0; i < n; i++) {
                pushlisp(L, T, lisp_vecitems(v)[i], depth + 1);
                lua_rawseti(L, -2, i + 1);
            }
            break;
        }
        case LISP_TMAP: {
            int64_t it = 0;
            lisp_Value k, x;
            lua_createtable(L, 0, (int)lisp_mapcount(v));
            memoset(L, T, v);
            while (lisp_mapnext(v, &it, &k, &x)) {
                if (k.tag == LISP_TNIL || (k.tag == LISP_TFLOAT && isnan(k.u.f))) {
                    continue; /* not a valid Lua key */
                }
                pushlisp(L, T, k, depth + 1);
                pushlisp(L, T, x, depth + 1);
                lua_rawset(L, -3);
            }
            break;
        }
        case LISP_TUDATA: lx_newvalue(L, X, v, udatatname(v)); break;
        default: lx_newvalue(L, X, v, LX_VALUE); break;
    }
}

void lx_pushlisp(lua_State *L, lx_Host *X, lisp_Value v, const char *fname) {
    ToLua T;
    T.X = X;
    T.fname = fname;
    T.memo = 0;
    pushlisp(L, &T, v, 0);
    if (T.memo) {
        lua_remove(L, T.memo);
    }
}

/* ---- Lua callbacks ---- */

typedef struct Bridge {
    lx_Host *X;
    const char *name;
    int64_t key;
    int nargs;
    lisp_Value *argv;
} Bridge;

/* Runs under lua_pcall: push the callback and its converted arguments. */
static int bridge(lua_State *L) {
    Bridge *b = lua_touserdata(L, 1);
    int i;
    if (!lx_pushhost(L, b->X)) {
        return luaL_error(L, "host is gone");
    }
    lua_getiuservalue(L, -1, 1);
    lua_rawgeti(L, -1, b->key);
    luaL_checkstack(L, b->nargs + 4, "too many arguments");
    for (i = 0; i < b->nargs; i++) {
        lx_pushlisp(L, b->X, b->argv[i], b->name);
    }
    lua_call(L, b->nargs, 1);
    return 1;
}

/* Push the callback table of 'X' and return its slot; 0 if the host
** userdata is unreachable.  The slot is remembered: a later call on the
** same Lua state whose slot still holds the same table (an index below
** the stack top of the C function running the host) reuses it.  lx_run
** and inst:tick start each entry with no slot and restore the caller's,
** so nested entries never leave the outer one pushing again. */
static int cbtable(lua_State *L, lx_Host *X) {
    int idx;
    if (X->cbL == L && X->cbidx > 0 && X->cbidx <= lua_gettop(L) &&
        lua_topointer(L, X->cbidx) == X->cbtab) {
        return X->cbidx;
    }
    if (!lx_pushhost(L, X)) {
        return 0;
    }
    lua_getiuservalue(L, -1, 1);
    lua_remove(L, -2);
    idx = lua_gettop(L);
    X->cbL = L;
    X->cbidx = idx;
    X->cbtab = lua_topointer(L, idx);
    X->cbroom = idx + 5; /* callback() ensured nargs + 6 slots above idx - 1 */
    return idx;
}

/* Lua's value at the top as a Lisp value: numbers, booleans and nil
** directly, anything else converted (and pushed on the Lisp stack). */
static lisp_Value resultslow(lua_State *L, lx_Host *X) {
    lisp_State *S = X->S;
    switch (lua_type(L, -1)) {
        case LUA_TNIL: return lisp_nil();
        case LUA_TBOOLEAN: return lisp_bool(lua_toboolean(L, -1));
        case LUA_TNUMBER:
            return lua_isinteger(L, -1) ? lisp_int(lua_tointeger(L, -1))
                                        : lisp_float(lua_tonumber(L, -1));
        default:
            lx_tolisp(L, X, -1);
            return *lisp_at(S, lisp_gettop(S) - 1);
    }
}

/* resultslow with an integer, the commonest result, first and inline. */
static LISPBT_INLINE lisp_Value resultvalue(lua_State *L, lx_Host *X) {
    if (lua_isinteger(L, -1)) { /* the commonest result first */
        return lisp_int(lua_tointegerx(L, -1, NULL));
    }
    return resultslow(L, X);
}

/* The Lua function's error (at the top of L) as a Lisp error naming the
** primitive; the Lua stack is cut back to 'top' first. */
LISPBT_NORETURN static void callerror(lisp_State *S, lua_State *L, int top, const char *name) {
    char msg[300];
    if (lua_type(L, -1) == LUA_TSTRING) {
        snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1));
    } else {
        snprintf(msg, sizeof msg, "(error object is a %s value)", luaL_typename(L, -1));
    }
    lua_settop(L, top);
    lisp_error(S, "%s: %s", name, msg);
}

/* The call of Lua function 'key' of host 'X' (its Lua state X->L) with
** 'nargs' values from 'argv'.  'name' is only read on an error. */
static inline lisp_Value callback(lisp_State *S, lx_Host *X, int64_t key, const char *name,
                                  int nargs, lisp_Value *argv) {
    lua_State *L = X->L;
    lisp_Value r;
    int top, status, i, simple = 1;
    if (lispbt_unlikely(!lua_checkstack(L, nargs + 6))) {
        lisp_error(S, "%s: Lua stack overflow", name);
    }
    for (i = 0; i < nargs; i++) {
        int t = argv[i].tag;
        if (t != LISP_TNIL && t != LISP_TBOOL && t != LISP_TINT && t != LISP_TFLOAT) {
            simple = 0;
            break;
        }
    }
    if (simple) {
        /* nothing here can raise: push the function and the arguments and
        ** call it protected, without a bridge */
        int cb = cbtable(L, X);
        if (cb == 0) {
            lisp_error(S, "%s: host is gone", name);
        }
        top = lua_gettop(L);
        lua_rawgeti(L, cb, key);
        for (i = 0; i < nargs; i++) {
            lisp_Value v = argv[i];
            switch (v.tag) {
                case LISP_TBOOL: lua_pushboolean(L, v.u.b); break;
                case LISP_TINT: lua_pushinteger(L, v.u.i); break;
                case LISP_TFLOAT: lua_pushnumber(L, v.u.f); break;
                default: lua_pushnil(L); break;
            }
        }
        status = lua_pcall(L, nargs, 1, 0);
    } else {
        Bridge b;
        top = lua_gettop(L);
        b.X = X;
        b.name = name;
        b.key = key;
        b.nargs = nargs;
        b.argv = argv;
        lua_pushcfunction(L, bridge);
        lua_pushlightuserdata(L, &b);
        status = lua_pcall(L, 1, 1, 0);
    }
    if (lispbt_unlikely(status != LUA_OK)) {
        callerror(S, L, top, name);
    }
    r = resultvalue(L, X);
    lua_settop(L, top);
    return r;
}

lisp_Value lx_callback(lisp_State *S, int64_t key, const char *name, int nargs, lisp_Value *argv) {
    return callback(S, lx_hostof(host_of(S)), key, name, nargs, argv);
}

lisp_Value lx_luaprim(lisp_State *S, int argc, lisp_Value *argv) {
    lx_Host *X = lx_hostof(host_of(S));
    int64_t key = lisp_primud(argv[-1]);
    if (lispbt_likely(argc == 1 && (argv[0].tag == LISP_TINT || argv[0].tag == LISP_TFLOAT) &&
                      X->cbL == X->L && X->cbidx > 0)) {
        /* the commonest call, one number argument, with the callback table
        ** already on the stack: as callback() without the loops */
        lua_State *L = X->L;
        int top = lua_gettop(L), status;
        /* the function and the argument: room below X->cbroom was ensured
        ** in this frame (entries reset the slot, so it is this frame's) */
        if (top + 2 > X->cbroom && lua_checkstack(L, 7)) {
            X->cbroom = top + 7;
        }
        if (X->cbidx <= top && top + 2 <= X->cbroom && lua_topointer(L, X->cbidx) == X->cbtab) {
            lisp_Value r;
            lua_rawgeti(L, X->cbidx, key);
            if (argv[0].tag == LISP_TINT) {
                lua_pushinteger(L, argv[0].u.i);
            } else {
                lua_pushnumber(L, argv[0].u.f);
            }
            status = lua_pcall(L, 1, 1, 0);
            if (lispbt_unlikely(status != LUA_OK)) {
                callerror(S, L, top, lisp_primname(argv[-1]));
            }
            r = resultvalue(L, X);
            lua_settop(L, top);
            return r;
        }
    }
    return callback(S, X, key, lisp_primname(argv[-1]), argc, argv);
}

/* ---- heap table ---- */

void lx_pushheap(lua_State *L, lisp_State *S) {
    lisp_HeapStats h;
    lisp_heapstats(S, &h);
    lua_createtable(L, 0, 25);
#define F(name, v)                    \
    lua_pushinteger(L, (lua_Integer)(v)); \
    lua_setfield(L, -2, name)
    F("total_allocated_objects", h.total_allocated_objects);
    F("live_objects_after_last_gc", h.live_objects_after_last_gc);
    F("bytes_allocated", h.bytes_allocated);
    F("next_gc_threshold", h.next_gc_threshold);
    /* the text's muesli-bt lines; collections, gc_total_pause_ns and
    ** freed_objects below are the same counts under their older keys */
    F("collection_count", h.collections);
    F("total_gc_pause_ns", h.gc_total_pause_ns);
    F("freed_objects_total", h.freed_objects);
    F("forced_collection_count", h.forced_collections);
    F("live_objects", h.live_objects);
    F("freed_objects", h.freed_objects);
    F("collections", h.collections);
    F("gc_last_pause_ns", h.gc_last_pause_ns);
    F("gc_max_pause_ns", h.gc_max_pause_ns);
    F("gc_max_pause_cpu_ns", h.gc_max_pause_cpu_ns);
    F("gc_total_pause_cpu_ns", h.gc_total_pause_cpu_ns);
    F("gc_total_pause_ns", h.gc_total_pause_ns);
    F("gc_pauses", h.gc_pauses);
    lua_pushstring(L, h.gc_state);
    lua_setfield(L, -2, "gc_state");
    F("heap_limit", h.heap_limit);
    {
        hist_Summary p;
        hist_summary(lisp_gchist(S), &p);
        F("gc_pause_p50_ns", p.p50);
        F("gc_pause_p90_ns", p.p90);
        F("gc_pause_p99_ns", p.p99);
        F("gc_pause_p999_ns", p.p999);
    }
    F("c_heap_bytes", lisp_mem(S)->bytes);
    F("c_heap_allocations", lisp_mem(S)->nalloc);
    F("charged_bytes", mem_charged(lisp_mem(S)));
    F("refused_allocations", lisp_mem(S)->nrefused);
#undef F
}

/* ---- metatables ---- */

void lx_openvalue(lua_State *L) {
    static const luaL_Reg valuemeta[] = {{"__gc", lx_valuegc},
                                         {"__close", lx_valuegc},
                                         {"__tostring", value_tostring},
                                         {"__call", value_call},
                                         {NULL, NULL}};
    static const luaL_Reg symmeta[] = {
        {"__tostring", symbol_tostring}, {"__eq", symbol_eq}, {NULL, NULL}};
    luaL_newmetatable(L, LX_VALUE);
    luaL_setfuncs(L, valuemeta, 0);
    lua_pop(L, 1);
    luaL_newmetatable(L, LX_SYMBOL);
    luaL_setfuncs(L, symmeta, 0);
    lua_pop(L, 1);
    lua_pushcfunction(L, symbol_new);
    lua_setfield(L, -2, "symbol"); /* module.symbol(name) */
}
