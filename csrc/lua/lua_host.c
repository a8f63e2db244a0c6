/*
** lua_host.c -- the Lua surface of hosts: lispbt.new, lispbt.default, the
** host lifetime (close, __gc) and the general host methods (eval, load,
** call, get, set, register_builtin, heap, gc).  See LICENSE for copyright.
**
** A host userdata is the binding's state of its host (lx_Host, lua_aux.h),
** given to the engine as the host's user data and dead-key callback.  The
** mirrored builtins and the method table are lua_surface.c's; the BT
** methods are lua_bt.c's, which this file never calls.
*/
#include "conf.h"

#include <stdio.h>
#include <string.h>

#include "bt.h"
#include "lua_aux.h"
#include "obs_events.h"
#include "sbuf.h"

/* ---- host.events.on_line (docs/events.md#listening) ---- */

static const char LISTENER[] = "events.on_line"; /* key in the callback table */

int lx_deliverlines(lua_State *L, lx_Host *X, int hidx) {
    int n = 0;
    char *line;
    size_t len;
    lua_getiuservalue(L, hidx, 1);
    lua_getfield(L, -1, LISTENER);
    if (!lua_isfunction(L, -1) || X->S == NULL) {
        lua_pop(L, 2);
        return 0;
    }
    while (X->S != NULL && (line = obs_events_nextline(X->S, &len)) != NULL) {
        lua_pushvalue(L, -1);
        lua_pushlstring(L, line, len); /* may raise: the line is freed first */
        free(line);
        lua_call(L, 1, 0);
        n++;
    }
    lua_pop(L, 2);
    return n;
}

/* host.events.on_line(fn | nil): the listener (upvalue 1: the host). */
static int events_online(lua_State *L) {
    lx_Host *X = lx_checkhost(L, lua_upvalueindex(1), "events.on_line");
    if (!lua_isnoneornil(L, 1) && lua_type(L, 1) != LUA_TFUNCTION) {
        return lx_error(L, "events.on_line", "bad argument #1 (function expected, got %s)",
                        luaL_typename(L, 1));
    }
    if (obs_events_listen(X->S, !lua_isnoneornil(L, 1)) != 0) {
        return lx_error(L, "events.on_line", "out of memory");
    }
    lua_getiuservalue(L, lua_upvalueindex(1), 1);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, LISTENER);
    X->listening = !lua_isnoneornil(L, 1);
    return 0;
}

/* host.events.poll(): write what is pending, deliver it; the count. */
static int events_poll(lua_State *L) {
    lx_Host *X = lx_checkhost(L, lua_upvalueindex(1), "events.poll");
    obs_events_sync(X->S);
    lua_pushinteger(L, lx_deliverlines(L, X, lua_upvalueindex(1)));
    return 1;
}

/* host.events.listener_dropped(): lines the full queue refused. */
static int events_ldropped(lua_State *L) {
    lx_Host *X = lx_checkhost(L, lua_upvalueindex(1), "events.listener_dropped");
    lua_pushinteger(L, (lua_Integer)obs_events_listen_drops(X->S));
    return 1;
}

/* Add the Lua-only functions of host.events to mirrored namespace 'ns'. */
static void addevents(lua_State *L, int hostidx, int ns) {
    static const luaL_Reg fns[] = {{"on_line", events_online},
                                   {"poll", events_poll},
                                   {"listener_dropped", events_ldropped},
                                   {NULL, NULL}};
    const luaL_Reg *f;
    if (lua_getfield(L, ns, "events") != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    for (f = fns; f->name != NULL; f++) {
        lua_pushvalue(L, hostidx);
        lua_pushcclosure(L, f->func, 1);
        lua_setfield(L, -2, f->name);
    }
    lua_pop(L, 1);
}

/* ---- host lifetime ---- */

static void primfree(lisp_State *S, int64_t ud) {
    lx_deadkey(lx_hostof(host_of(S)), ud);
}

/* Close the engine of 'X' (idempotent).  The engine's callbacks into the
** binding are removed first: nothing of the Lua side runs while it is
** freed, and the binding's arrays go with the engine. */
static void closehost(lx_Host *X) {
    if (X->S) {
        lisp_setprimfree(X->S, NULL);
        host_set_deadkey(X->H, NULL, NULL);
        lx_unpinbuiltins(X);
        mem_free(host_mem(X->H), X->dead, sizeof(int64_t) * (size_t)X->capdead);
        X->dead = NULL;
        X->ndead = X->capdead = 0;
        mem_free(host_mem(X->H), X->batch, sizeof(void *) * (size_t)X->capbatch);
        X->batch = NULL;
        X->capbatch = 0;
        memset(X->cname, 0, sizeof X->cname); /* the pins die with the state */
        X->S = NULL;
    }
    host_close(X->H);
}

static int closewith(lua_State *L, const char *fname) {
    lx_Host *X = lx_tohost(L, 1);
    if (X == NULL) {
        return lx_typeerror(L, fname, 1, LX_HOST);
    }
    if (X->H) {
        if (X->running) {
            return lx_error(L, fname, "cannot close a host while it is running");
        }
        closehost(X);
        /* keep the struct: values of this host may still be alive and
        ** refer to it; it is freed when the last of them is (see below) */
    }
    return 0;
}

static int host_finalize(lua_State *L) {
    lx_Host *X = lua_touserdata(L, 1);
    if (X->H) {
        closehost(X);
        host_free(X->H); /* every value referencing this host is dead too */
        X->H = NULL;
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
    if (lua_type(L, -1) != LUA_TNUMBER || !isnum || v < min) {
        lx_error(L, "new", "bad argument #1 (option '%s' must be an integer >= %d)", name, (int)min);
    }
    if (v > 1000000000) {
        lx_error(L, "new", "bad argument #1 (option '%s' must be at most 1000000000)", name);
    }
    lua_pop(L, 1);
    return (int)v;
}

/* Push a new metatable for one host: the fields of the shared LX_HOST
** table (__gc, __close, __tostring, __name) and, as __index, a copy of the
** method table whose own __index is the host's mirrored namespace (set by
** newhost).  With a table __index, h:call(...) finds its method inside the
** Lua VM: no C __index call per method call.  Methods and the namespace
** never share a name (lx_addmethod), so the order of the two does not
** matter. */
static void copyinto(lua_State *L) { /* copy the top table's fields into the one below; pop it */
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -5);
    }
    lua_pop(L, 1);
}

static void newhostmeta(lua_State *L) {
    lua_createtable(L, 0, 6);
    luaL_getmetatable(L, LX_HOST);
    copyinto(L);
    lua_createtable(L, 0, 40);
    lx_pushmethods(L);
    copyinto(L);
    lua_setfield(L, -2, "__index");
}

/* Create a host from the options table at index 1 (or none); push it. */
static void newhost(lua_State *L, int hasopts) {
    static const char *const known[] = {"workers",   "trace_capacity", "log_capacity",
                                        "planner_capacity", "max_depth", "heap_limit",
                                        "gc_stress", "print_limit", "print_style", "preempt", NULL};
    host_Opts o;
    lx_Host *X;
    char err[200];
    host_defaults(&o);
    if (hasopts) {
        if (!lua_istable(L, 1)) {
            lx_error(L, "new", "bad argument #1 (table expected, got %s)", lx_typename(L, 1));
        }
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
                lx_error(L, "new", "bad argument #1 (unknown option '%s')",
                         luaL_tolstring(L, -1, NULL));
            }
            lua_pop(L, 1);
        }
        o.workers = readopt(L, "workers", 0, o.workers);
        if (o.workers > 256) {
            lx_error(L, "new", "bad argument #1 (option 'workers' must be at most 256)");
        }
        o.trace_capacity = readopt(L, "trace_capacity", 1, o.trace_capacity);
        o.log_capacity = readopt(L, "log_capacity", 1, o.log_capacity);
        o.planner_capacity = readopt(L, "planner_capacity", 1, o.planner_capacity);
        o.max_depth = readopt(L, "max_depth", 1, o.max_depth);
        o.print_limit = (size_t)readopt(L, "print_limit", LISPBT_PRINT_LIMIT_MIN, (lua_Integer)o.print_limit);
        if (host_check_opts(&o, err, sizeof err) != 0) { /* the per-option maxima */
            lx_error(L, "new", "bad argument #1 (%s)", err);
        }
        if (lua_getfield(L, 1, "heap_limit") != LUA_TNIL) {
            int isnum;
            lua_Integer v = lua_tointegerx(L, -1, &isnum);
            if (lua_type(L, -1) != LUA_TNUMBER || !isnum || v < 0) {
                lx_error(L, "new", "bad argument #1 (option 'heap_limit' must be an integer >= 0)");
            }
            o.heap_limit = (size_t)v;
        }
        lua_pop(L, 1);
        if (lua_getfield(L, 1, "print_style") != LUA_TNIL) {
            const char *st = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
            if (strcmp(st, "lispbt") == 0) {
                o.print_style = 1; /* LISP_PRINT_LISPBT: our readable forms */
            } else if (strcmp(st, "muesli") != 0) { /* the default: the reference's forms */
                lx_error(L, "new", "bad argument #1 (option 'print_style' must be \"lispbt\" or \"muesli\")");
            }
        }
        lua_pop(L, 1);
        if (lua_getfield(L, 1, "preempt") != LUA_TNIL) {
            if (!lua_isboolean(L, -1)) {
                lx_error(L, "new", "bad argument #1 (option 'preempt' must be a boolean)");
            }
            o.preempt = lua_toboolean(L, -1);
        }
        lua_pop(L, 1);
        if (lua_getfield(L, 1, "gc_stress") != LUA_TNIL) {
            if (lua_isboolean(L, -1)) {
                o.gc_stress = lua_toboolean(L, -1); /* full collection at every allocation */
            } else if (lua_type(L, -1) == LUA_TSTRING &&
                       strcmp(lua_tostring(L, -1), "incremental") == 0) {
                o.gc_stress = 2; /* an incremental step at every allocation */
            } else {
                lx_error(L, "new",
                         "bad argument #1 (option 'gc_stress' must be a boolean or \"incremental\")");
            }
        }
        lua_pop(L, 1);
    }
    X = lua_newuserdatauv(L, sizeof(lx_Host), 4);
    memset(X, 0, sizeof *X);
    X->kind = LX_KHOST;
    newhostmeta(L);
    lua_setmetatable(L, -2); /* from here on __gc frees whatever is made */
    X->H = host_new(&o, err, sizeof err);
    if (X->H == NULL) {
        lx_error(L, "new", "%s", err);
    }
    X->S = host_state(X->H);
    host_setuserdata(X->H, X);
    host_set_deadkey(X->H, lx_deadkey, X);
    lisp_setprimfree(X->S, primfree);
    if (lx_pinbuiltins(X) != 0) {
        lx_error(L, "new", "out of memory");
    }
    lua_newtable(L); /* uservalue 1: callbacks */
    lua_setiuservalue(L, -2, 1);
    lua_newtable(L); /* uservalue 2: mirrored namespace */
    lx_mirror(L, lua_gettop(L), lua_gettop(L) - 1);
    addevents(L, lua_gettop(L) - 1, lua_gettop(L));
    /* the method table's fallback: the namespace */
    lua_getmetatable(L, -2);
    lua_getfield(L, -1, "__index");
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, -4);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pop(L, 2);
    lua_setiuservalue(L, -2, 2);
    lua_newtable(L); /* uservalue 4: names of the host:call cache (callcache) */
    {
        int st;
        for (st = BT_SUCCESS; st <= BT_RUNNING; st++) { /* and the status strings */
            lua_pushstring(L, bt_status_name(st));
            X->stname[st] = lua_tostring(L, -1);
            lua_rawsetp(L, -2, &X->stname[st]);
        }
    }
    lua_setiuservalue(L, -2, 4);
    lua_newtable(L); /* uservalue 3: Lua state of instances (ctx), by id */
    lua_setiuservalue(L, -2, 3);
    lx_registerhost(L, -1);
}

static int l_new(lua_State *L) {
    newhost(L, !lua_isnoneornil(L, 1));
    return 1;
}

/* The maker of the default host (lx_setmaker). */
static int l_newdefault(lua_State *L) {
    newhost(L, 0);
    return 1;
}

static int l_default(lua_State *L) {
    lx_defaulthost(L, "default");
    return 1;
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

static int evalsrc(lua_State *L, lx_Host *X, const char *src, size_t n, const char *chunk) {
    EvalArgs a;
    int top = lisp_gettop(X->S);
    a.src = src;
    a.n = n;
    a.chunk = chunk;
    lx_run(L, X, "eval", doeval, &a);
    lx_pushlisp(L, X, a.r, "eval");
    lisp_settop(X->S, top);
    return 1;
}

static int host_eval(lua_State *L) {
    lx_Host *X = lx_checkhost(L, 1, "eval");
    size_t n;
    const char *src = lx_checkstring(L, 2, "eval", &n);
    const char *chunk = lua_isnoneornil(L, 3) ? "eval" : lx_checkname(L, 3, "eval", "chunk name", NULL);
    return evalsrc(L, X, src, n, chunk);
}

static int host_load(lua_State *L) {
    lx_Host *X = lx_checkhost(L, 1, "load");
    const char *path = lx_checkname(L, 2, "load", "path", NULL);
    luaL_Buffer b;
    FILE *f = fopen(path, "rb");
    char buf[4096];
    size_t n;
    if (f == NULL) {
        return lx_error(L, "load", "cannot open '%s'", path);
    }
    luaL_buffinit(L, &b);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        luaL_addlstring(&b, buf, n); /* may raise: 'f' then leaks until exit */
    }
    if (ferror(f)) {
        fclose(f);
        return lx_error(L, "load", "cannot read '%s'", path);
    }
    fclose(f);
    luaL_pushresult(&b);
    {
        size_t len;
        const char *src = lua_tolstring(L, -1, &len);
        return evalsrc(L, X, src, len, path);
    }
}

typedef struct GlobalArgs {
    lua_State *L;
    lx_Host *X;
    const char *name;
    int validx, first, nargs, found;
    lisp_Value r;
    lisp_Value sym; /* host:call: the name's symbol if cached, else nil */
} GlobalArgs;

static void dogetglobal(lisp_State *S, void *ud) {
    GlobalArgs *a = ud;
    a->found = lisp_getglobal(S, a->name, &a->r);
}

static void dosetglobal(lisp_State *S, void *ud) {
    GlobalArgs *a = ud;
    lx_tolisp(a->L, a->X, a->validx);
    lisp_setglobal(S, a->name, *lisp_at(S, lisp_gettop(S) - 1));
}

static void docallglobal(lisp_State *S, void *ud) {
    GlobalArgs *a = ud;
    lua_State *L = a->L;
    int fidx, i;
    lisp_Value fn;
    if (a->sym.tag == LISP_TNIL) { /* not cached: intern (rooted on the stack) */
        a->sym = lisp_intern(S, a->name, strlen(a->name));
    }
    if (!lisp_symget(a->sym, &fn)) {
        lisp_error(S, "call: unbound symbol: %s", lisp_str(a->sym, NULL));
    }
    fidx = lisp_gettop(S);
    lisp_push(S, fn);
    for (i = 0; i < a->nargs; i++) {
        int idx = a->first + i;
        if (lua_isinteger(L, idx)) { /* the commonest argument first */
            lisp_push(S, lisp_int(lua_tointeger(L, idx)));
            continue;
        }
        switch (lua_type(L, idx)) { /* numbers and booleans directly */
            case LUA_TNUMBER: lisp_push(S, lisp_float(lua_tonumber(L, idx))); break;
            case LUA_TBOOLEAN: lisp_push(S, lisp_bool(lua_toboolean(L, idx))); break;
            default: lx_tolisp(L, a->X, idx); break;
        }
    }
    a->r = lisp_call(S, fidx, a->nargs);
    lisp_push(S, a->r);
}

/* The cache slot of Lua string object 's' (by its address). */
static int callslot(const void *s) {
    return (int)(((uintptr_t)s >> 4) & (LX_CALLCACHE - 1));
}

/* Remember the string at stack index 2 (the name of a host:call that
** just ran; 's' is its lua_topointer) with its symbol 'sym' (still rooted
** by the caller).  The
** string is kept in uservalue 4, so its address cannot name another
** string while it is cached.  Outside lx_run: may raise (out of memory),
** after which the slot is simply empty. */
static void callcache(lua_State *L, lx_Host *X, const void *s, lisp_Value sym) {
    int slot = callslot(s), pin;
    if (X->cname[slot] != NULL) {
        X->cname[slot] = NULL;
        lisp_unpin(X->S, X->cpin[slot]);
    }
    lua_getiuservalue(L, 1, 4);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, slot + 1);
    lua_pop(L, 1);
    pin = lisp_pin(X->S, sym);
    if (pin >= 0) {
        X->cname[slot] = s;
        X->csym[slot] = sym;
        X->cpin[slot] = pin;
    }
}

static int host_get(lua_State *L) {
    GlobalArgs a;
    a.X = lx_checkhost(L, 1, "get");
    a.name = lx_checkname(L, 2, "get", "name", NULL);
    lx_run(L, a.X, "get", dogetglobal, &a);
    if (!a.found) {
        lua_pushnil(L);
        return 1;
    }
    lx_pushlisp(L, a.X, a.r, "get");
    return 1;
}

static int host_set(lua_State *L) {
    GlobalArgs a;
    int top;
    a.X = lx_checkhost(L, 1, "set");
    a.L = L;
    a.name = lx_checkname(L, 2, "set", "name", NULL);
    a.validx = 3;
    top = lisp_gettop(a.X->S);
    lx_run(L, a.X, "set", dosetglobal, &a);
    lisp_settop(a.X->S, top);
    return 0;
}

/* Pushes Lisp immediate 'r' (nil, boolean or number) as a Lua value;
** returns 0 (nothing pushed) for any other value. */
static LISPBT_INLINE int pushimmediate(lua_State *L, lisp_Value r) {
    switch (r.tag) {
        case LISP_TNIL: lua_pushnil(L); return 1;
        case LISP_TBOOL: lua_pushboolean(L, r.u.b); return 1;
        case LISP_TINT: lua_pushinteger(L, r.u.i); return 1;
        case LISP_TFLOAT: lua_pushnumber(L, r.u.f); return 1;
        default: return 0;
    }
}

/* Most arguments of host:call's fast path. */
#define FASTARGS 6

/* host:call's common shape: a cached name and up to FASTARGS arguments,
** each nil, a boolean or a number: the arguments are read into a C array
** before the engine is entered (nothing here can raise), then one
** lisp_pcallsym, without the general path's conversions on the Lisp
** stack.  Returns -1 if the call has another shape (nothing done). */
static LISPBT_INLINE int fastcall(lua_State *L, lx_Host *X, lisp_Value sym) {
    lisp_Value argv[FASTARGS], r;
    lisp_State *S = X->S;
    int nargs = lua_gettop(L) - 2, i, st, top;
    lx_Entry e;
    if (nargs > FASTARGS) {
        return -1;
    }
    for (i = 0; i < nargs; i++) {
        int idx = i + 3;
        if (lua_isinteger(L, idx)) { /* the commonest argument first */
            argv[i] = lisp_int(lua_tointegerx(L, idx, NULL));
            continue;
        }
        switch (lua_type(L, idx)) {
            case LUA_TNUMBER: argv[i] = lisp_float(lua_tonumberx(L, idx, NULL)); break;
            case LUA_TBOOLEAN: argv[i] = lisp_bool(lua_toboolean(L, idx)); break;
            case LUA_TNIL: argv[i] = lisp_nil(); break;
            default: return -1;
        }
    }
    top = lisp_gettop(S);
    lx_enter(L, X, "call", &e);
    st = lisp_pcallsym(S, sym, "call", nargs, argv, &r);
    lx_leave(L, X, &e, st); /* raises the Lisp error */
    if (!pushimmediate(L, r)) {
        lx_pushlisp(L, X, r, "call"); /* r is on the Lisp stack until settop */
    }
    lisp_settop(S, top);
    return 1;
}

static int host_call(lua_State *L) {
    GlobalArgs a;
    int top, slot;
    /* the name's string object (NULL if not collectable): one API call */
    const void *s = lua_topointer(L, 2);
    lx_Host *X = lua_touserdata(L, 1);
    /* lx_checkhost's test inline; the call for the message */
    if (X == NULL || lua_rawlen(L, 1) != sizeof(lx_Host) || X->kind != LX_KHOST || X->S == NULL) {
        X = lx_checkhost(L, 1, "call");
    }
    slot = callslot(s);
    if (s != NULL && X->cname[slot] == s) { /* the same string: its symbol */
        int n = fastcall(L, X, X->csym[slot]);
        if (n >= 0) {
            return n;
        }
    }
    a.X = X;
    a.L = L;
    a.sym = lisp_nil();
    if (s != NULL && X->cname[slot] == s) {
        a.sym = X->csym[slot];
    } else {
        a.name = lx_checkname(L, 2, "call", "name", NULL); /* converts a number in place */
        s = lua_topointer(L, 2);
        slot = callslot(s);
    }
    a.first = 3;
    a.nargs = lua_gettop(L) - 2;
    top = lisp_gettop(a.X->S);
    lx_run(L, a.X, "call", docallglobal, &a);
    if (!pushimmediate(L, a.r)) {
        lx_pushlisp(L, a.X, a.r, "call");
    }
    if (a.X->cname[slot] != s) {
        callcache(L, a.X, s, a.sym); /* a.sym is on the Lisp stack until settop */
    }
    lisp_settop(a.X->S, top);
    return 1;
}

typedef struct RegArgs {
    lua_State *L;
    lx_Host *X;
    const char *name;
} RegArgs;

static void doregbuiltin(lisp_State *S, void *ud) {
    RegArgs *a = ud;
    int64_t key = lx_storecallback(a->L, a->X, 3);
    lisp_Value p = lisp_newprim(S, a->name, 0, LISP_VARARG, lx_luaprim, key);
    lisp_setglobal(S, a->name, p);
}

static int host_register_builtin(lua_State *L) {
    RegArgs a;
    int top;
    a.X = lx_checkhost(L, 1, "register_builtin");
    a.L = L;
    a.name = lx_checkname(L, 2, "register_builtin", "name", NULL);
    lx_checkfunction(L, 3, "register_builtin");
    top = lisp_gettop(a.X->S);
    lx_run(L, a.X, "register_builtin", doregbuiltin, &a);
    lisp_settop(a.X->S, top);
    return 0;
}

static int host_heap(lua_State *L) {
    lx_pushheap(L, lx_checkhost(L, 1, "heap")->S);
    return 1;
}

static int host_gcmethod(lua_State *L) {
    lx_Host *X = lx_checkhost(L, 1, "gc");
    if (lisp_gc(X->S) != 0) {
        return lx_error(L, "gc", "forced collection during tick under fail-on-tick-gc policy");
    }
    lx_pushheap(L, X->S);
    return 1;
}

/* host:close(), and __close (a <close> variable going out of scope). */
static int host_closemethod(lua_State *L) {
    return closewith(L, "close");
}

static int host_tostring(lua_State *L) {
    lx_Host *X = lx_tohost(L, 1);
    if (X == NULL) {
        return lx_typeerror(L, "tostring", 1, LX_HOST);
    }
    lua_pushfstring(L, "lispbt.host (%p)%s", (void *)X, X->S ? "" : " closed");
    return 1;
}

void lx_openhost(lua_State *L) {
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
    int mod = lua_gettop(L);
    lx_addmethods(L, hostmethods, mod);
    lx_pushbuiltin(L, "gc.step", 1); /* host:gc_step(us) */
    lx_addmethod(L, "gc_step", mod);
    luaL_newmetatable(L, LX_HOST);
    lua_pushcfunction(L, host_closemethod);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, host_finalize);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, host_tostring);
    lua_setfield(L, -2, "__tostring");
    /* no __index here: each host's own metatable (newhostmeta) copies
    ** these fields and the method table, which lua_bt.c fills further
    ** before any host is made */
    lua_pop(L, 1);
    lx_setmaker(L, l_newdefault);
    lua_pushcfunction(L, l_new);
    lua_setfield(L, mod, "new");
    lua_pushcfunction(L, l_default);
    lua_setfield(L, mod, "default");
}
