/*
** lua_host.c -- the Lua surface of hosts: lispbt.new, host methods, and the
** mirrored runtime builtins (host.bt.stats, host.heap_stats, ...).
** See LICENSE for copyright.
**
** Mirroring (SPEC §4): every builtin flagged LISP_FRUNTIME in the one
** builtin table becomes a Lua function under its derived name, installed
** once per host (and once on the module for the default host).  Each is one
** generic C closure whose upvalues are the host (or false = the default
** host) and the builtin's ordinal, so no name is looked up per call; it
** calls the primitive the host pinned at creation, so redefining the Lisp
** global does not change the Lua function.  If the first argument is a
** tree, instance or value of another host, that host is used.
*/
#include "conf.h"

#include <stdio.h>
#include <string.h>

#include "host_builtins.h"
#include "lua_aux.h"
#include "sbuf.h"

static const char DEFAULT_KEY = 'd';

/* ---- host lifetime ---- */

static void primfree(lisp_State *S, int64_t ud) {
    host_deadkey(H(S), ud);
}

static void closehost(lispbt_Host *H) {
    if (H->S) {
        lisp_setprimfree(H->S, NULL);
    }
    host_close(H);
}

static int host_gc(lua_State *L) {
    lx_Host *h = luaL_checkudata(L, 1, LX_HOST);
    if (h->H) {
        if (h->H->running) {
            return luaL_error(L, "lispbt: cannot close a host while it is running");
        }
        closehost(h->H);
        /* keep the struct: values of this host may still be alive and
        ** refer to it; it is freed when the last of them is (see below) */
    }
    return 0;
}

static int host_finalize(lua_State *L) {
    lx_Host *h = lua_touserdata(L, 1);
    if (h->H) {
        closehost(h->H);
        host_free(h->H); /* every value referencing this host is dead too */
        h->H = NULL;
    }
    return 0;
}

static int readopt(lua_State *L, const char *name, lua_Integer min, lua_Integer def) {
    lua_Integer v;
    int isnum;
    if (lua_getfield(L, 1, name) == LUA_TNIL) {
        lua_pop(L, 1);
        return (int)def;
    }
    v = lua_tointegerx(L, -1, &isnum);
    if (lua_type(L, -1) != LUA_TNUMBER || !isnum || v < min || v > 1000000000) {
        luaL_error(L, "bad argument #1 to 'new' (option '%s' must be an integer >= %d)", name,
                   (int)min);
    }
    lua_pop(L, 1);
    return (int)v;
}

/* Create a host from the options table at index 1 (or none); push it. */
static void newhost(lua_State *L, int hasopts) {
    static const char *const known[] = {"workers",   "trace_capacity", "log_capacity",
                                        "planner_capacity", "max_depth", "heap_limit",
                                        "gc_stress", NULL};
    host_Opts o;
    lx_Host *h;
    char err[200];
    host_defaults(&o);
    if (hasopts) {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            int i, ok = 0;
            if (lua_type(L, -2) == LUA_TSTRING) {
                for (i = 0; known[i]; i++) {
                    ok |= strcmp(lua_tostring(L, -2), known[i]) == 0;
                }
            }
            if (!ok) {
                lua_pushvalue(L, -2);
                luaL_error(L, "bad argument #1 to 'new' (unknown option '%s')",
                           luaL_tolstring(L, -1, NULL));
            }
            lua_pop(L, 1);
        }
        o.workers = readopt(L, "workers", 0, o.workers);
        if (o.workers > 256) {
            luaL_error(L, "bad argument #1 to 'new' (option 'workers' must be at most 256)");
        }
        o.trace_capacity = readopt(L, "trace_capacity", 1, o.trace_capacity);
        o.log_capacity = readopt(L, "log_capacity", 1, o.log_capacity);
        o.planner_capacity = readopt(L, "planner_capacity", 1, o.planner_capacity);
        o.max_depth = readopt(L, "max_depth", 1, o.max_depth);
        if (lua_getfield(L, 1, "heap_limit") != LUA_TNIL) {
            int isnum;
            lua_Integer v = lua_tointegerx(L, -1, &isnum);
            if (lua_type(L, -1) != LUA_TNUMBER || !isnum || v < 0) {
                luaL_error(L, "bad argument #1 to 'new' (option 'heap_limit' must be an integer "
                              ">= 0)");
            }
            o.heap_limit = (size_t)v;
        }
        lua_pop(L, 1);
        if (lua_getfield(L, 1, "gc_stress") != LUA_TNIL) {
            if (!lua_isboolean(L, -1)) {
                luaL_error(L, "bad argument #1 to 'new' (option 'gc_stress' must be a boolean)");
            }
            o.gc_stress = lua_toboolean(L, -1);
        }
        lua_pop(L, 1);
    }
    h = lua_newuserdatauv(L, sizeof(lx_Host), 3);
    h->H = NULL;
    luaL_setmetatable(L, LX_HOST);
    h->H = host_new(&o, err, sizeof err);
    if (h->H == NULL) {
        luaL_error(L, "lispbt.new: %s", err);
    }
    lisp_setprimfree(h->H->S, primfree);
    lua_newtable(L); /* uservalue 1: callbacks */
    lua_setiuservalue(L, -2, 1);
    lua_newtable(L); /* uservalue 2: mirrored namespace */
    lx_mirror(L, lua_gettop(L), lua_gettop(L) - 1);
    lua_setiuservalue(L, -2, 2);
    lua_newtable(L); /* uservalue 3: Lua state of instances (ctx), by id */
    lua_setiuservalue(L, -2, 3);
    lx_registerhost(L, -1);
}

static int l_new(lua_State *L) {
    newhost(L, !lua_isnoneornil(L, 1));
    return 1;
}

/* Push the default host, creating it on first use. */
static lispbt_Host *defaulthost(lua_State *L) {
    lx_Host *h;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &DEFAULT_KEY) != LUA_TUSERDATA) {
        lua_pop(L, 1);
        newhost(L, 0);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &DEFAULT_KEY);
    }
    h = lua_touserdata(L, -1);
    if (h->H == NULL || h->H->S == NULL) {
        luaL_error(L, "lispbt: host is closed");
    }
    return h->H;
}

static int l_default(lua_State *L) {
    defaulthost(L);
    return 1;
}

/* ---- mirrored builtins ---- */

typedef struct MirrorArgs {
    lua_State *L;
    lispbt_Host *H;
    int ord, first, nargs;
    lisp_Value r;
} MirrorArgs;

static void domirror(lisp_State *S, void *ud) {
    MirrorArgs *a = ud;
    int fidx = lisp_gettop(S), i;
    lisp_push(S, lisp_pinned(S, a->H->prims[a->ord]));
    for (i = 0; i < a->nargs; i++) {
        lx_tolisp(a->L, a->H, a->first + i);
    }
    a->r = lisp_call(S, fidx, a->nargs);
    lisp_push(S, a->r);
}

static int mirror_call(lua_State *L) {
    MirrorArgs a;
    lx_Value *v;
    int top, first = 1;
    if (lua_toboolean(L, lua_upvalueindex(3))) { /* a host method: drop self */
        a.H = lx_checkhost(L, 1);
        first = 2;
        goto run;
    }
    v = lx_testvalue(L, 1, NULL);
    if (v == NULL && luaL_testudata(L, 1, LX_HOST)) {
        return luaL_error(L, "%s: called with ':' on a host; call it as a function, e.g. "
                             "host.bt.stats(inst)",
                          lua_tostring(L, lua_upvalueindex(4)));
    }
    if (v) {
        if (v->H->S == NULL) {
            return luaL_error(L, "lispbt: host is closed");
        }
        a.H = v->H;
    } else if (lua_toboolean(L, lua_upvalueindex(1))) {
        a.H = lx_checkhost(L, lua_upvalueindex(1));
    } else {
        a.H = defaulthost(L);
        lua_pop(L, 1);
    }
run:
    a.L = L;
    a.ord = (int)lua_tointeger(L, lua_upvalueindex(2));
    a.first = first;
    a.nargs = lua_gettop(L) - first + 1;
    top = lisp_gettop(a.H->S);
    lx_run(L, a.H, lua_tostring(L, lua_upvalueindex(4)), domirror, &a);
    lx_pushlisp(L, a.H, a.r);
    lisp_settop(a.H->S, top);
    return 1;
}

int lx_ordinal(const char *name) {
    const lisp_Reg *const *lib;
    int ord = 0;
    for (lib = lispbt_builtins; *lib; lib++) {
        const lisp_Reg *r;
        for (r = *lib; r->name; r++, ord++) {
            if (strcmp(r->name, name) == 0) {
                return ord;
            }
        }
    }
    return -1;
}

void lx_pushbuiltin(lua_State *L, const char *name, int dropself) {
    lua_pushboolean(L, 0);
    lua_pushinteger(L, lx_ordinal(name));
    lua_pushboolean(L, dropself);
    lua_pushstring(L, name);
    lua_pushcclosure(L, mirror_call, 4);
}

/* Lua name of Lisp builtin 'name' into 'out'; returns 0 if Lisp-only. */
static int luaname(const char *name, char *out, size_t n) {
    size_t i;
    if (strpbrk(name, "?!>") != NULL || strlen(name) >= n) {
        return 0;
    }
    for (i = 0; name[i]; i++) {
        out[i] = name[i] == '-' ? '_' : name[i];
    }
    out[i] = '\0';
    return 1;
}

void lx_mirror(lua_State *L, int idx, int hostidx) {
    const lisp_Reg *const *lib;
    int ord = 0;
    for (lib = lispbt_builtins; *lib; lib++) {
        const lisp_Reg *r;
        for (r = *lib; r->name; r++, ord++) {
            char name[128], *part, *dot;
            if (!(r->flags & LISP_FRUNTIME) || !luaname(r->name, name, sizeof name)) {
                continue;
            }
            lua_pushvalue(L, idx);
            for (part = name; (dot = strchr(part, '.')) != NULL; part = dot + 1) {
                *dot = '\0';
                if (lua_getfield(L, -1, part) != LUA_TTABLE) {
                    lua_pop(L, 1);
                    lua_newtable(L);
                    lua_pushvalue(L, -1);
                    lua_setfield(L, -3, part);
                }
                lua_remove(L, -2);
            }
            if (hostidx) {
                lua_pushvalue(L, hostidx);
            } else {
                lua_pushboolean(L, 0);
            }
            lua_pushinteger(L, ord);
            lua_pushboolean(L, 0);
            lua_pushstring(L, r->name);
            lua_pushcclosure(L, mirror_call, 4);
            lua_setfield(L, -2, part);
            lua_pop(L, 1);
        }
    }
}

/* ---- host methods ---- */

typedef struct EvalArgs {
    const char *src;
    size_t n;
    const char *chunk;
    lisp_Value r;
} EvalArgs;

static void doeval(lisp_State *S, void *ud) {
    EvalArgs *a = ud;
    a->r = lisp_evalstring(S, a->src, a->n, a->chunk);
    lisp_push(S, a->r);
}

static int evalsrc(lua_State *L, lispbt_Host *H, const char *src, size_t n, const char *chunk) {
    EvalArgs a;
    int top = lisp_gettop(H->S);
    a.src = src;
    a.n = n;
    a.chunk = chunk;
    lx_run(L, H, "eval", doeval, &a);
    lx_pushlisp(L, H, a.r);
    lisp_settop(H->S, top);
    return 1;
}

static int host_eval(lua_State *L) {
    lispbt_Host *H = lx_checkhost(L, 1);
    size_t n;
    const char *src = luaL_checklstring(L, 2, &n);
    const char *chunk = luaL_optstring(L, 3, "eval");
    return evalsrc(L, H, src, n, chunk);
}

static int host_load(lua_State *L) {
    lispbt_Host *H = lx_checkhost(L, 1);
    const char *path = luaL_checkstring(L, 2);
    luaL_Buffer b;
    FILE *f = fopen(path, "rb");
    char buf[4096];
    size_t n;
    if (f == NULL) {
        return luaL_error(L, "load: cannot open '%s'", path);
    }
    luaL_buffinit(L, &b);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        luaL_addlstring(&b, buf, n); /* may raise: 'f' then leaks until exit */
    }
    if (ferror(f)) {
        fclose(f);
        return luaL_error(L, "load: cannot read '%s'", path);
    }
    fclose(f);
    luaL_pushresult(&b);
    {
        size_t len;
        const char *src = lua_tolstring(L, -1, &len);
        return evalsrc(L, H, src, len, path);
    }
}

typedef struct GlobalArgs {
    lua_State *L;
    lispbt_Host *H;
    const char *name;
    int validx, first, nargs, found;
    lisp_Value r;
} GlobalArgs;

static void dogetglobal(lisp_State *S, void *ud) {
    GlobalArgs *a = ud;
    a->found = lisp_getglobal(S, a->name, &a->r);
}

static void dosetglobal(lisp_State *S, void *ud) {
    GlobalArgs *a = ud;
    lx_tolisp(a->L, a->H, a->validx);
    lisp_setglobal(S, a->name, *lisp_at(S, lisp_gettop(S) - 1));
}

static void docallglobal(lisp_State *S, void *ud) {
    GlobalArgs *a = ud;
    int fidx = lisp_gettop(S), i;
    lisp_Value fn;
    if (!lisp_getglobal(S, a->name, &fn)) {
        lisp_error(S, "call: unbound variable: %s", a->name);
    }
    lisp_push(S, fn);
    for (i = 0; i < a->nargs; i++) {
        lx_tolisp(a->L, a->H, a->first + i);
    }
    a->r = lisp_call(S, fidx, a->nargs);
    lisp_push(S, a->r);
}

static int host_get(lua_State *L) {
    GlobalArgs a;
    a.H = lx_checkhost(L, 1);
    a.name = luaL_checkstring(L, 2);
    lx_run(L, a.H, "get", dogetglobal, &a);
    if (!a.found) {
        lua_pushnil(L);
        return 1;
    }
    lx_pushlisp(L, a.H, a.r);
    return 1;
}

static int host_set(lua_State *L) {
    GlobalArgs a;
    int top;
    a.H = lx_checkhost(L, 1);
    a.L = L;
    a.name = luaL_checkstring(L, 2);
    luaL_argcheck(L, a.name[0] != '\0', 2, "name must not be empty");
    a.validx = 3;
    top = lisp_gettop(a.H->S);
    lx_run(L, a.H, "set", dosetglobal, &a);
    lisp_settop(a.H->S, top);
    return 0;
}

static int host_call(lua_State *L) {
    GlobalArgs a;
    int top;
    a.H = lx_checkhost(L, 1);
    a.L = L;
    a.name = luaL_checkstring(L, 2);
    a.first = 3;
    a.nargs = lua_gettop(L) - 2;
    top = lisp_gettop(a.H->S);
    lx_run(L, a.H, "call", docallglobal, &a);
    lx_pushlisp(L, a.H, a.r);
    lisp_settop(a.H->S, top);
    return 1;
}

typedef struct RegArgs {
    lua_State *L;
    lispbt_Host *H;
    const char *name;
} RegArgs;

static void doregbuiltin(lisp_State *S, void *ud) {
    RegArgs *a = ud;
    int64_t key = lx_storecallback(a->L, a->H, 3);
    lisp_Value p = lisp_newprim(S, a->name, 0, LISP_VARARG, lx_luaprim, key);
    lisp_setglobal(S, a->name, p);
}

static int host_register_builtin(lua_State *L) {
    RegArgs a;
    int top;
    a.H = lx_checkhost(L, 1);
    a.L = L;
    a.name = luaL_checkstring(L, 2);
    luaL_argcheck(L, a.name[0] != '\0', 2, "name must not be empty");
    luaL_checktype(L, 3, LUA_TFUNCTION);
    top = lisp_gettop(a.H->S);
    lx_run(L, a.H, "register_builtin", doregbuiltin, &a);
    lisp_settop(a.H->S, top);
    return 0;
}

static int host_heap(lua_State *L) {
    lx_pushheap(L, lx_checkhost(L, 1)->S);
    return 1;
}

static int host_gcmethod(lua_State *L) {
    lispbt_Host *H = lx_checkhost(L, 1);
    lisp_gc(H->S);
    lx_pushheap(L, H->S);
    return 1;
}

static int host_closemethod(lua_State *L) {
    luaL_checkudata(L, 1, LX_HOST);
    return host_gc(L);
}

static int host_tostring(lua_State *L) {
    lx_Host *h = luaL_checkudata(L, 1, LX_HOST);
    lua_pushfstring(L, "lispbt.host (%p)%s", (void *)h, h->H && h->H->S ? "" : " closed");
    return 1;
}

static const luaL_Reg hostmethods[] = {{"eval", host_eval},
                                       {"load", host_load},
                                       {"call", host_call},
                                       {"get", host_get},
                                       {"set", host_set},
                                       {"register_builtin", host_register_builtin},
                                       {"heap", host_heap},
                                       {"gc", host_gcmethod},
                                       {"close", host_closemethod},
                                       {NULL, NULL}};

/* __index(host, key): methods first, then the host's mirrored namespace */
static int host_index(lua_State *L) {
    luaL_checkudata(L, 1, LX_HOST);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) {
        return 1;
    }
    lua_pop(L, 1);
    lua_getiuservalue(L, 1, 2);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

/* Module-level form of a host method: acts on the default host. */
/* Module-level form of a host method: acts on the default host.  The
** method sees the host as argument 1, so its "bad argument #N to '?'"
** errors are renumbered and named for the caller (upvalue 2: the name). */
static int module_method(lua_State *L) {
    int n = lua_gettop(L);
    defaulthost(L);
    lua_insert(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    if (lua_pcall(L, n + 1, LUA_MULTRET, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        int argn;
        char rest[400];
        if (msg && sscanf(msg, "bad argument #%d to '?' %399[^\n]", &argn, rest) == 2) {
            lua_pushfstring(L, "bad argument #%d to '%s' %s", argn - 1,
                            lua_tostring(L, lua_upvalueindex(2)), rest);
        }
        return lua_error(L);
    }
    return lua_gettop(L);
}

void lx_openhost(lua_State *L) {
    luaL_newmetatable(L, LX_HOST);
    lua_pushcfunction(L, host_gc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, host_finalize);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, host_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_newtable(L);
    luaL_setfuncs(L, hostmethods, 0);
    lx_openbt(L); /* compile, register_condition, register_action, logs, ... */
    /* module.eval etc. for the default host (not close) */
    lua_pushnil(L); /* stack: module, metatable, methods, key */
    while (lua_next(L, -2)) {
        const char *name = lua_tostring(L, -2);
        if (strcmp(name, "close") != 0) {
            lua_pushstring(L, name);
            lua_pushcclosure(L, module_method, 2);
            lua_setfield(L, -5, name);
        } else {
            lua_pop(L, 1);
        }
    }
    lua_pushcclosure(L, host_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_new);
    lua_setfield(L, -2, "new");
    lua_pushcfunction(L, l_default);
    lua_setfield(L, -2, "default");
    lx_mirror(L, lua_gettop(L), 0);
}
