/*
** lua_surface.c -- the one Lua surface of the builtin table: derived
** names, mirrored builtins, method aliases, Lua result conventions, the
** host method table and the default host.  See LICENSE for copyright.
** Contract: lua_aux.h.
**
** Names (SPEC §4).  Every builtin flagged LISP_FRUNTIME in the one table
** (host_builtins.c) becomes a Lua function under its derived name: split
** the Lisp name at '.', '-' becomes '_'; names holding '?', '!' or '>'
** stay Lisp-only.  No other file spells a Lua name of a builtin: methods
** that are builtins (inst:reset, host:logs, ...) name the builtin by its
** Lisp name through lx_pushbuiltin, resolved when the module is opened,
** so a name missing from the table fails require("lispbt").
**
** Mirrors.  Each is one generic C closure whose upvalues are the host (or
** false = the default host), the builtin's ordinal, the drop-self flag,
** the Lisp name and the Lua conversion (or nil), so no name is looked up
** per call; it calls the primitive the host pinned at creation
** (lx_Host.prims), so redefining the Lisp global does not change the Lua
** function.  If the first argument is a tree, instance or value of some
** host, that host is used.
**
** The Lua convention.  A builtin gives the same Lua result whichever Lua
** spelling reaches it (method, mirror, module form): the result is
** converted by SPEC §3.1, then by the builtin's conversion if it has one
** (lx_setconv): a BT status becomes a string.  A builtin that renders
** text (bt.stats, bt.scheduler.stats: SPEC §8) returns that text on every
** spelling; records as tables come from methods that are not builtins
** (inst:stats(), host:scheduler_stats(), host:heap()).
*/
#include "conf.h"

#include <stdio.h>
#include <string.h>

#include "host_builtins.h"
#include "lua_aux.h"

/* registry keys: addresses of static constants (no mutable globals) */
static const char METHODS_KEY = 'm'; /* host method table */
static const char CONV_KEY = 'c';    /* ordinal -> Lua conversion */
static const char DEFAULT_KEY = 'd'; /* the default host userdata */
static const char MAKER_KEY = 'k';   /* function pushing a new host */
static const char FAST_KEY = 'f';    /* ordinal -> C function replacing the mirror */

/* ---- the builtin table ---- */

int lx_nbuiltins(void) {
    const lisp_Reg *const *lib;
    int n = 0;
    for (lib = lispbt_builtins; *lib; lib++) {
        const lisp_Reg *r;
        for (r = *lib; r->name; r++) {
            n++;
        }
    }
    return n;
}

const lisp_Reg *lx_builtinreg(int ord) {
    const lisp_Reg *const *lib;
    for (lib = lispbt_builtins; *lib; lib++) {
        const lisp_Reg *r;
        for (r = *lib; r->name; r++) {
            if (ord-- == 0) {
                return r;
            }
        }
    }
    return NULL;
}

int lx_luaname(const lisp_Reg *r, char *out, size_t n) {
    size_t i;
    if (!(r->flags & LISP_FRUNTIME) || strpbrk(r->name, "?!>") != NULL || strlen(r->name) >= n) {
        return 0;
    }
    for (i = 0; r->name[i]; i++) {
        out[i] = r->name[i] == '-' ? '_' : r->name[i];
    }
    out[i] = '\0';
    return 1;
}

int lx_builtin(lua_State *L, const char *name) {
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
    return luaL_error(L, "lispbt: no builtin '%s' in the builtin table", name);
}

int lx_pinbuiltins(lx_Host *X) {
    const lisp_Reg *const *lib;
    int n = lx_nbuiltins(), ord = 0;
    X->prims = mem_alloc(host_mem(X->H), sizeof(int) * (size_t)n);
    if (X->prims == NULL) {
        return -1;
    }
    X->nprims = n;
    for (lib = lispbt_builtins; *lib; lib++) {
        const lisp_Reg *r;
        for (r = *lib; r->name; r++, ord++) {
            lisp_Value v;
            X->prims[ord] = -1;
            if (lisp_getglobal(X->S, r->name, &v)) {
                X->prims[ord] = lisp_pin(X->S, v);
            }
            if (X->prims[ord] < 0) {
                return -1;
            }
        }
    }
    return 0;
}

void lx_unpinbuiltins(lx_Host *X) {
    mem_free(host_mem(X->H), X->prims, sizeof(int) * (size_t)X->nprims);
    X->prims = NULL;
    X->nprims = 0;
}

void lx_setconv(lua_State *L, const char *name, lua_CFunction conv) {
    int ord = lx_builtin(L, name);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &CONV_KEY);
    lua_pushcfunction(L, conv);
    lua_rawseti(L, -2, ord);
    lua_pop(L, 1);
}

void lx_setfast(lua_State *L, const char *name) {
    int ord = lx_builtin(L, name);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &FAST_KEY);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, ord);
    lua_pop(L, 2);
}

/* ---- the default host ---- */

void lx_setmaker(lua_State *L, lua_CFunction maker) {
    lua_pushcfunction(L, maker);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &MAKER_KEY);
}

lx_Host *lx_defaulthost(lua_State *L, const char *fname) {
    lx_Host *X;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &DEFAULT_KEY) != LUA_TUSERDATA) {
        lua_pop(L, 1);
        lua_rawgetp(L, LUA_REGISTRYINDEX, &MAKER_KEY);
        lua_call(L, 0, 1);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &DEFAULT_KEY);
    }
    X = lua_touserdata(L, -1);
    if (X->S == NULL) {
        lx_error(L, fname, "host is closed");
    }
    return X;
}

/* ---- mirrored builtins ---- */

typedef struct MirrorArgs {
    lua_State *L;
    lx_Host *X;
    int ord, first, nargs;
    lisp_Value r;
} MirrorArgs;

static void domirror(lisp_State *S, void *ud) {
    MirrorArgs *a = ud;
    int fidx = lisp_gettop(S), i;
    lisp_push(S, lisp_pinned(S, a->X->prims[a->ord]));
    for (i = 0; i < a->nargs; i++) {
        if (i == 0 && a->first == 1 && strncmp(lx_builtinreg(a->ord)->name, "bt.", 3) == 0) {
            lx_tolisp_self(a->L, a->X, a->first); /* self of an instance method */
        } else {
            lx_tolisp(a->L, a->X, a->first + i);
        }
    }
    a->r = lisp_call(S, fidx, a->nargs);
    lisp_push(S, a->r);
}

/* upvalues: 1 host userdata or false, 2 ordinal, 3 drop self, 4 Lisp
** name, 5 Lua conversion or nil */
static int mirror_call(lua_State *L) {
    MirrorArgs a;
    lx_Value *v;
    const char *fname = lua_tostring(L, lua_upvalueindex(4));
    int top, first = 1, hostidx = 0;
    if (lua_toboolean(L, lua_upvalueindex(3))) { /* a host method: drop self */
        a.X = lx_checkhost(L, 1, fname);
        first = 2;
        hostidx = 1;
        goto run;
    }
    v = lx_testvalue(L, 1, NULL);
    if (v == NULL && lx_tohost(L, 1) != NULL) {
        return lx_error(L, fname, "called with ':' on a host; call it as a function, e.g. "
                                  "host.bt.stats(inst)");
    }
    if (v) {
        if (v->X->S == NULL) {
            return lx_error(L, fname, "host is closed");
        }
        a.X = v->X;
    } else if (lua_toboolean(L, lua_upvalueindex(1))) {
        a.X = lx_checkhost(L, lua_upvalueindex(1), fname);
        hostidx = lua_upvalueindex(1);
    } else {
        a.X = lx_defaulthost(L, fname);
        lua_pop(L, 1);
    }
run:
    a.L = L;
    a.ord = (int)lua_tointeger(L, lua_upvalueindex(2));
    a.first = first;
    a.nargs = lua_gettop(L) - first + 1;
    top = lisp_gettop(a.X->S);
    lx_run(L, a.X, fname, domirror, &a);
    if (lua_isnil(L, lua_upvalueindex(5))) {
        lx_pushlisp(L, a.X, a.r, fname);
        lisp_settop(a.X->S, top);
        return 1;
    }
    /* conv(result, host, args...) */
    luaL_checkstack(L, a.nargs + 4, "too many arguments");
    lua_pushvalue(L, lua_upvalueindex(5));
    lx_pushlisp(L, a.X, a.r, fname);
    lisp_settop(a.X->S, top);
    if (hostidx) {
        lua_pushvalue(L, hostidx);
    } else if (!lx_pushhost(L, a.X)) {
        return lx_error(L, fname, "host is closed");
    }
    for (int i = 0; i < a.nargs; i++) {
        lua_pushvalue(L, first + i);
    }
    lua_call(L, a.nargs + 2, 1);
    return 1;
}

/* Push the mirror closure of ordinal 'ord' (host upvalue already pushed,
** replaced by the builtin's own Lua function if it has one: lx_setfast). */
static void pushmirror(lua_State *L, int ord, int dropself) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &FAST_KEY);
    if (lua_rawgeti(L, -1, ord) != LUA_TNIL) {
        lua_replace(L, -3);
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 2);
    lua_pushinteger(L, ord);
    lua_pushboolean(L, dropself);
    lua_pushstring(L, lx_builtinreg(ord)->name);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &CONV_KEY);
    lua_rawgeti(L, -1, ord);
    lua_remove(L, -2);
    lua_pushcclosure(L, mirror_call, 5);
}

void lx_pushbuiltin(lua_State *L, const char *name, int dropself) {
    int ord = lx_builtin(L, name);
    lua_pushboolean(L, 0);
    pushmirror(L, ord, dropself);
}

void lx_mirror(lua_State *L, int idx, int hostidx) {
    const lisp_Reg *const *lib;
    int ord = -1;
    idx = lua_absindex(L, idx);
    for (lib = lispbt_builtins; *lib; lib++) {
      const lisp_Reg *r;
      for (r = *lib; r->name; r++) {
        char name[128], *part, *dot;
        ord++;
        if (!lx_luaname(r, name, sizeof name)) {
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
        pushmirror(L, ord, 0);
        lua_setfield(L, -2, part);
        lua_pop(L, 1);
      }
    }
}

/* ---- host methods ---- */

/* Module-level form of a host method: acts on the default host, inserted
** as self (upvalue 1: the method, 2: its name).  The method's messages
** already name it and number the arguments after self (lx_argerror). */
static int module_method(lua_State *L) {
    int n = lua_gettop(L);
    lx_defaulthost(L, lua_tostring(L, lua_upvalueindex(2)));
    lua_insert(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n + 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* 1 if 'name' is the first part of a mirrored name (host.bt, heap_stats). */
static int ismirrored(const char *name) {
    int ord, n = lx_nbuiltins();
    size_t len = strlen(name);
    for (ord = 0; ord < n; ord++) {
        char ln[128];
        if (lx_luaname(lx_builtinreg(ord), ln, sizeof ln) && strncmp(ln, name, len) == 0 &&
            (ln[len] == '\0' || ln[len] == '.')) {
            return 1;
        }
    }
    return 0;
}

void lx_pushmethods(lua_State *L) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &METHODS_KEY);
}

void lx_addmethod(lua_State *L, const char *name, int modidx) {
    modidx = lua_absindex(L, modidx);
    lx_pushmethods(L);
    if (lua_getfield(L, -1, name) != LUA_TNIL || ismirrored(name)) {
        luaL_error(L, "lispbt: host method '%s' is defined twice or shadows a builtin", name);
    }
    lua_pop(L, 1);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
    if (strcmp(name, "close") != 0) {
        lua_pushstring(L, name);
        lua_pushcclosure(L, module_method, 2); /* pops the method */
        lua_setfield(L, modidx, name);
    } else {
        lua_pop(L, 1);
    }
}

void lx_addmethods(lua_State *L, const luaL_Reg *l, int modidx) {
    modidx = lua_absindex(L, modidx);
    for (; l->name; l++) {
        lua_pushcfunction(L, l->func);
        lx_addmethod(L, l->name, modidx);
    }
}

void lx_opensurface(lua_State *L) {
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &METHODS_KEY);
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &CONV_KEY);
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &FAST_KEY);
}
