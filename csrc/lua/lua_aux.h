/*
** lua_aux.h -- binding helpers shared by the Lua-facing files (lx_ prefix).
** See LICENSE for copyright.  Only csrc/lua/ includes lua.h.
**
** Userdata types (one metatable each, names defined only here):
**   lispbt.host      lx_Host   a host; uservalue 1 = callback table (Lua
**                              functions the engine calls), 2 = the host's
**                              mirrored builtin namespace (host.bt, ...)
**   lispbt.value     lx_Value  an opaque Lisp value (closure, primitive,
**                              improper pair, rng, ...): pinned in its host
**   lispbt.tree      lx_Value  a compiled bt_def
**   lispbt.instance  lx_Value  a bt_instance
**   lispbt.symbol    a NUL-terminated name; hosts intern it on conversion
** lx_Value userdata keep their host's userdata alive through uservalue 1,
** so the lispbt_Host struct outlives them even after host:close().
**
** Entering the engine.  lx_run runs a C function under lisp_pcall with
** H->L set to the running lua_State; a Lisp error becomes a Lua error
** after the Lisp side has unwound (never a longjmp across Lua frames).
** Inside a Lisp protected call the binding only uses lua_* functions that
** cannot raise, or runs raising ones under lua_pcall.
*/
#ifndef LISPBT_LAUXBT_H
#define LISPBT_LAUXBT_H

#include "conf.h"

#include <lauxlib.h>
#include <lua.h>

#include "host.h"

#define LX_HOST "lispbt.host"
#define LX_VALUE "lispbt.value"
#define LX_TREE "lispbt.tree"
#define LX_INST "lispbt.instance"
#define LX_SYMBOL "lispbt.symbol"
#define LX_CTX "lispbt.ctx"

/* Max nesting of converted tables/lists (cycles are reported as this). */
#define LX_MAXDEPTH 100

typedef struct lx_Host {
    lispbt_Host *H;
} lx_Host;

/* lx_Value.kind: which metatable the userdata got (for fast checks on hot
** methods; only C code writes userdata memory, so the tag is reliable). */
enum { LX_KVALUE = 0x6c780001, LX_KTREE, LX_KINST };

typedef struct lx_Value {
    lispbt_Host *H;
    int pin;
    int kind;
    void *p; /* payload of a host object (bt_Def, bt_Inst), else NULL */
} lx_Value;

/* Host at 'idx'; raises "lispbt: host is closed" if closed. */
lispbt_Host *lx_checkhost(lua_State *L, int idx);
/* Push the userdata of host 'H' (from the weak registry index); returns 0
** if it is no longer alive (then nothing is pushed). */
int lx_pushhost(lua_State *L, lispbt_Host *H);
/* Record host userdata at 'idx' in the weak registry index. */
void lx_registerhost(lua_State *L, int idx);

/* Lisp value held by lx_Value userdata at 'idx' if it has metatable
** 'tname' (NULL: any of value/tree/instance); NULL if not. */
lx_Value *lx_testvalue(lua_State *L, int idx, const char *tname);
/* Like lx_testvalue, raising the standard bad-argument error. */
lx_Value *lx_checkvalue(lua_State *L, int idx, const char *tname);

/* Run f(S, ud) protected for host 'H'; on error raise it in Lua.  'fname'
** names the Lua function for conversion errors ("set: table is cyclic"). */
void lx_run(lua_State *L, lispbt_Host *H, const char *fname, void (*f)(lisp_State *S, void *ud),
            void *ud);

/* Convert Lua value at 'idx' to Lisp and push it on the Lisp stack.  Call
** only inside lx_run; raises Lisp errors only. */
void lx_tolisp(lua_State *L, lispbt_Host *H, int idx);

/* Push Lisp value 'v' of host 'H' to Lua.  Call outside lx_run (it may
** raise Lua errors); 'v' must be rooted by the caller. */
void lx_pushlisp(lua_State *L, lispbt_Host *H, lisp_Value v);

/* Push a new userdata of type 'tname' (LX_VALUE/TREE/INST) for 'v'. */
void lx_newvalue(lua_State *L, lispbt_Host *H, lisp_Value v, const char *tname);

/* __gc/__close of lx_Value userdata: unpin (idempotent). */
int lx_valuegc(lua_State *L);

/* Lisp primitive calling the Lua function stored under 'ud' in the host's
** callback table. */
lisp_Value lx_luaprim(lisp_State *S, int argc, lisp_Value *argv);

/* Store Lua value at 'idx' in the host's callback table; returns its key.
** Usable inside lx_run (raises a Lisp error when out of memory). */
int64_t lx_storecallback(lua_State *L, lispbt_Host *H, int idx);

/* Call the Lua function stored under 'key' with 'nargs' values from
** 'argv' converted, returning its first result converted to Lisp (pushed).
** Raises a Lisp error "NAME: message" if the Lua function raises.  Use
** inside lx_run only. */
lisp_Value lx_callback(lisp_State *S, int64_t key, const char *name, int nargs, lisp_Value *argv);

/* Drop Lua state of collected primitives and instances (a safe point). */
void lx_flushdead(lua_State *L, lispbt_Host *H);

/* Ordinal of builtin 'name' in the builtin table, or -1. */
int lx_ordinal(const char *name);
/* Push a closure calling builtin 'name' like its mirror; 'dropself'
** drops the method's self (a host) from the arguments. */
void lx_pushbuiltin(lua_State *L, const char *name, int dropself);

/* Open the BT part of the binding (lua_bt.c): tree/instance/ctx metatables,
** and host methods into the table at -1. */
void lx_openbt(lua_State *L);

/* The test-only lispbt.T table (lua_test.c; LISPBT_TESTS builds only). */
void lx_opentest(lua_State *L);

/* Push a SPEC §4 table of heap counters. */
void lx_pushheap(lua_State *L, lisp_State *S);

/* Install the mirrored runtime builtins of host 'H' (or, if H is NULL, of
** the default host resolved at call time) into the table at 'idx'. */
void lx_mirror(lua_State *L, int idx, int hostidx);

/* Open the metatables; called once by luaopen_lispbt. */
void lx_openhost(lua_State *L);
void lx_openvalue(lua_State *L);

#endif
