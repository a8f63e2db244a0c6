/*
** lua_test.c -- the test-only table lispbt.T (compiled with LISPBT_TESTS),
** in the manner of Lua's ltests.c.  See LICENSE for copyright.
**
**   T.verify(host)          -> 0 when the heap is consistent (lisp_verify)
**   T.gcstep(host, work)   -> ended, state: one collector step of 'work'
**                           units (lisp_gcstepwork); 'state' after it is
**                           "idle", "mark" or "sweep"
**   T.allocfail(host, n)    make the n-th next C allocation of the host and
**                           every one after it fail (0 turns it off)
**   T.allocs(host)          -> C-heap allocations so far
**   T.nodes(tree)           -> { {kind=, size=, nkids=, param=}, ... }
**   T.builtins()            -> the builtin table (see t_builtins)
**   T.evalstatus(host, src) -> status, message: evaluates 'src' under
**                           lisp_pcall; status is "ok", "errrun",
**                           "errsyntax" or "errmem" (the Lisp status, which
**                           a Lua error message cannot show)
** Release builds (no LISPBT_TESTS) have no T.
*/
#include "conf.h"

#if defined(LISPBT_TESTS)

#include "bt_node.h"
#include "lua_aux.h"

static int t_verify(lua_State *L) {
    lua_pushinteger(L, lisp_verify(lx_checkhost(L, 1, "T")->S));
    return 1;
}

static int t_gcstep(lua_State *L) {
    lisp_State *S = lx_checkhost(L, 1, "T")->S;
    lua_Integer work = luaL_checkinteger(L, 2);
    lisp_HeapStats h;
    luaL_argcheck(L, work > 0, 2, "positive work expected");
    lua_pushboolean(L, lisp_gcstepwork(S, work));
    lisp_heapstats(S, &h);
    lua_pushstring(L, h.gc_state);
    return 2;
}

static int t_allocfail(lua_State *L) {
    mem_Heap *M = host_mem(lx_checkhost(L, 1, "T")->H);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= 0, 2, "non-negative count expected");
    M->fail_after = n;
    M->fail_sticky = 1;
    M->failing = 0;
    return 0;
}

typedef struct EvalArgs {
    const char *src;
    size_t n;
} EvalArgs;

static void evalsrc(lisp_State *S, void *ud) {
    EvalArgs *a = ud;
    lisp_evalstring(S, a->src, a->n, "T");
}

static int t_evalstatus(lua_State *L) {
    lx_Host *X = lx_checkhost(L, 1, "T");
    static const char *const names[] = {"ok", "errrun", "errsyntax", "errmem"};
    EvalArgs a;
    int top, st;
    a.src = luaL_checklstring(L, 2, &a.n);
    top = lisp_gettop(X->S);
    st = lisp_pcall(X->S, evalsrc, &a); /* no Lua call inside: nothing raises */
    lisp_settop(X->S, top);
    lua_pushstring(L, st >= 0 && st <= LISP_ERRMEM ? names[st] : "?");
    lua_pushstring(L, st == LISP_OK ? "" : lisp_errmsg(X->S));
    return 2;
}

static int t_allocs(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)host_mem(lx_checkhost(L, 1, "T")->H)->nalloc);
    return 1;
}

/* T.builtins() -> { {name=, min=, max=, runtime=, lua=}, ... }: the one
** builtin table in order; max is -1 for any number of arguments, lua the
** derived Lua name (nil: Lisp-only). */
static int t_builtins(lua_State *L) {
    int ord, n = lx_nbuiltins();
    lua_createtable(L, n, 0);
    for (ord = 0; ord < n; ord++) {
        const lisp_Reg *r = lx_builtinreg(ord);
        char name[128];
        lua_createtable(L, 0, 5);
        lua_pushstring(L, r->name);
        lua_setfield(L, -2, "name");
        lua_pushinteger(L, r->min);
        lua_setfield(L, -2, "min");
        lua_pushinteger(L, r->max);
        lua_setfield(L, -2, "max");
        lua_pushboolean(L, (r->flags & LISP_FRUNTIME) != 0);
        lua_setfield(L, -2, "runtime");
        if (lx_luaname(r, name, sizeof name)) {
            lua_pushstring(L, name);
            lua_setfield(L, -2, "lua");
        }
        lua_rawseti(L, -2, ord + 1);
    }
    return 1;
}

static int t_nodes(lua_State *L) {
    lx_Value *u = lx_checkvalue(L, 1, LX_TREE, "T");
    bt_Def *D = u->p;
    int i;
    lua_createtable(L, D->n, 0);
    for (i = 0; i < D->n; i++) {
        const bt_Node *n = &D->nodes[i];
        lua_createtable(L, 0, 4);
        lua_pushstring(L, bt_kindnames[n->kind]);
        lua_setfield(L, -2, "kind");
        lua_pushinteger(L, n->size);
        lua_setfield(L, -2, "size");
        lua_pushinteger(L, n->nkids);
        lua_setfield(L, -2, "nkids");
        lua_pushinteger(L, n->param);
        lua_setfield(L, -2, "param");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

void lx_opentest(lua_State *L) {
    static const luaL_Reg funcs[] = {{"verify", t_verify},
                                     {"gcstep", t_gcstep},
                                     {"allocfail", t_allocfail},
                                     {"allocs", t_allocs},
                                     {"nodes", t_nodes},
                                     {"builtins", t_builtins},
                                     {"evalstatus", t_evalstatus},
                                     {NULL, NULL}};
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "T");
}

#endif
