/*
** lua_aux.h -- the binding's shared API (lx_ prefix): binding state of a
** host, value conversion, protected entry into the engine, Lua callbacks,
** and the one Lua surface of the builtin table.  See LICENSE for copyright.
** Only csrc/lua/ includes lua.h.
**
** Files.  lua_aux.c (helpers) and lua_surface.c (names, mirrors, methods)
** are the base of the binding; lua_host.c (hosts) and lua_bt.c (trees,
** instances, leaves) build on them only, never on each other; lua_init.c
** opens them in order.  The engine is reached through its C API alone
** (host.h and the subsystem headers), as an embedder would: lispbt_Host
** has no visible fields.
**
** Userdata types (one metatable each, names defined only here):
**   lispbt.host      lx_Host   a host and the binding's state of it;
**                              uservalue 1 = callback table (Lua functions
**                              the engine calls), 2 = the host's mirrored
**                              builtin namespace (host.bt, ...), 3 = the
**                              Lua state of instances (ctx), by id,
**                              4 = the names cached by host:call
**                              (and the status strings of stname)
**   lispbt.value     lx_Value  an opaque Lisp value (closure, primitive,
**                              improper pair, rng, ...): pinned in its host
**   lispbt.tree      lx_Value  a compiled bt_def
**   lispbt.instance  lx_Value  a bt_instance
**   lispbt.symbol    a symbol name: its bytes and a terminating NUL (the
**                    length is the userdata's size - 1); hosts intern it
**                    on conversion
**   lispbt.ctx       the context of a Lua leaf call (lua_bt.c)
**   lispbt.group     lx_Group (lua_bt.c): instances of one tree pinned for
**                    batch ticks; uservalue 1 = the tree userdata,
**                    2 = the instance userdata (a sequence), 3 = the
**                    group's statuses table
** lx_Value userdata keep their host's userdata alive through uservalue 1,
** so the lx_Host (and the lispbt_Host it points to) outlives them, even
** after host:close().
**
** Entering the engine.  lx_run runs a C function under lisp_pcall with
** X->L set to the running lua_State; a Lisp error becomes a Lua error
** after the Lisp side has unwound (never a longjmp across Lua frames).
** Inside a Lisp protected call the binding only uses lua_* functions that
** cannot raise, or runs raising ones under lua_pcall.
*/
#ifndef LISPBT_LUA_AUX_H
#define LISPBT_LUA_AUX_H

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
#define LX_GROUP "lispbt.group"

/* Max nesting of Lua tables converted to Lisp (cycles are reported as this). */
#define LX_MAXDEPTH LISPBT_TOLISP_MAXDEPTH

/* Entries of host:call's name cache (a power of 2). */
#define LX_CALLCACHE 4

/* Lua-leaf cache of the inst:tick running (see calllua in lua_bt.c). */
typedef struct lx_TickCache {
    lua_State *L;
    void *I;           /* its instance (a bt_Inst) */
    int running;       /* X->running inside it: other entries don't match */
    int cbidx, ctxidx; /* stack slots of the callback table and ctx; 0 = none */
    int instidx;       /* stack slot of the instance userdata (1 in inst:tick) */
    /* set with cbidx (calllua), read only while cbidx != 0: */
    void *ctx;         /* the lx_Ctx at ctxidx */
    int roomtop;       /* the Lua stack is ensured up to this slot */
} lx_TickCache;

/* The binding's state of one host: the memory of its lispbt.host
** userdata, registered as the host's user data (host_userdata(H) == X)
** while the host is open.  Its address never changes. */
typedef struct lx_Host {
    lispbt_Host *H;  /* NULL once the userdata is finalized */
    lisp_State *S;   /* host_state(H) cached for fast checks; NULL once closed */
    lua_State *L;    /* the Lua state running this host now, else NULL */
    int running;     /* nesting of entries from Lua (close refused) */
    const char *fname; /* the Lua function running, for messages */
    lx_TickCache *tc; /* Lua leaf cache of the tick running from Lua (in its
                      ** lx_TickEntry), else NULL */
    lua_State *cbL;  /* Lisp->Lua calls (lx_callback): the callback table is */
    int cbidx;       /* at stack slot cbidx of cbL if that slot still holds */
    const void *cbtab; /* the table cbtab (checked before each use); */
    int cbroom;      /* that frame's stack is ensured up to slot cbroom */
    int kind;        /* LX_KHOST, for lx_checkhost's fast type check */
    int64_t cbnext;  /* next key in the callback table */
    int64_t *dead;   /* callback keys of collected primitives and -ids of */
    int ndead, capdead; /* collected instances, cleared at the next safe point */
    int *prims;      /* pins of the builtin primitives, by ordinal (-1: none) */
    int nprims;
    int listening;   /* host.events.on_line set: inst:tick delivers lines */
    void **batch;    /* tick_all's instances (bt_Inst *), kept for the next */
    int capbatch;
    /* host:call's name -> symbol cache (lua_host.c): Lua string objects
    ** (lua_topointer) kept alive in uservalue 4, so an address names one
    ** string, and their symbols, pinned; slot by address, NULL = empty */
    const void *cname[LX_CALLCACHE];
    lisp_Value csym[LX_CALLCACHE];
    int cpin[LX_CALLCACHE];
    /* the bytes of the interned Lua strings "success", "failure",
    ** "running" (by status; kept in uservalue 4): a Lua leaf's result is
    ** one of them when lua_tostring returns the same pointer */
    const char *stname[4];
} lx_Host;

/* lx_Value.kind: which metatable the userdata got (for fast checks on hot
** methods; only C code writes userdata memory, so the tag is reliable). */
enum { LX_KVALUE = 0x6c780001, LX_KTREE, LX_KINST, LX_KHOST };

typedef struct lx_Value {
    lx_Host *X;
    int pin;  /* -1 once released (<close>) or never pinned */
    int kind;
    void *p;  /* payload of a host object (bt_Def, bt_Inst), else NULL */
} lx_Value;

/* ---- errors (lua_aux.c) ----
**
** One scheme for every error the binding raises: "NAME: PROBLEM", NAME
** being the Lua function (the method name for methods: "put", "eval"; the
** Lisp name for mirrored builtins: "bt.stats"), as Lisp errors read
** ("car: expected a list, got 3").  An argument error reads
** "NAME: bad argument #N (PROBLEM)", N counting the arguments after self
** (a method's self is "bad self"); the names are explicit, never taken
** from Lua's debug information, so they are the same however the function
** is reached (inst:put(...), pcall(inst.put, inst, ...), lispbt.set(...)).
** Raised with luaL_error, so a call from a Lua function gets Lua's usual
** "where:" prefix.  The lx_check* helpers check a method's argument at
** stack index 'idx' (self at 1, so idx 2 is "#1"). */

/* Raise "FNAME: " followed by the formatted message. */
int lx_error(lua_State *L, const char *fname, const char *fmt, ...);
/* Raise "FNAME: bad argument #N (MSG)" for the argument at stack index
** 'idx' of a method (N = idx - 1; idx 1 gives "bad self"). */
int lx_argerror(lua_State *L, const char *fname, int idx, const char *msg);
/* lx_argerror with "TNAME expected, got TYPE" (TYPE: the __name of a
** userdata's metatable, "no value" for a missing argument). */
int lx_typeerror(lua_State *L, const char *fname, int idx, const char *tname);
/* The type name lx_typeerror reports for the value at 'idx'. */
const char *lx_typename(lua_State *L, int idx);
/* The string at 'idx' (numbers are converted, as luaL_checklstring does);
** its length in '*n' if not NULL.  Raises lx_typeerror. */
const char *lx_checkstring(lua_State *L, int idx, const char *fname, size_t *n);
/* A name at 'idx' (names hold no NUL byte: docs/reference/lua.md): a string that is not empty
** and holds no NUL byte; 'what' says what it names ("name", "path").
** Raises "FNAME: bad argument #N (WHAT must not be empty)" or "(WHAT
** contains a NUL byte)". */
const char *lx_checkname(lua_State *L, int idx, const char *fname, const char *what, size_t *n);
/* Check that the value at 'idx' is a function (lx_typeerror). */
void lx_checkfunction(lua_State *L, int idx, const char *fname);
/* The name of a lispbt.symbol userdata at 'idx' (and its length in '*n'
** if 'n' is not NULL), or NULL (and 0) if it is not one.  Never raises. */
const char *lx_tosymbol(lua_State *L, int idx, size_t *n);

/* ---- hosts (lua_aux.c) ---- */

/* The host userdata at 'idx' (open or closed), or NULL if it is not one.
** Never raises.  Hosts have one metatable each (a table __index holding
** the methods, then the host's namespace), so this checks the userdata's
** size and tag, not its metatable. */
lx_Host *lx_tohost(lua_State *L, int idx);
/* The open host at 'idx'.  Raises lx_typeerror if it is not a host,
** "FNAME: host is closed" if closed.  The result is owned by the userdata
** (valid while it is on the stack). */
lx_Host *lx_checkhost(lua_State *L, int idx, const char *fname);
/* The binding state of an open host (host_userdata).  Never raises. */
lx_Host *lx_hostof(lispbt_Host *H);
/* Push the userdata of 'X' (from the weak registry index); returns 0 if it
** is no longer alive (then nothing is pushed).  Never raises (uses no
** more than 2 stack slots; the caller checks the stack). */
int lx_pushhost(lua_State *L, lx_Host *X);
/* Record host userdata at 'idx' in the weak registry index.  Raises on
** out of memory. */
void lx_registerhost(lua_State *L, int idx);
/* Queue dead key 'key' of host 'ud' (an lx_Host) for removal from the
** Lua tables at the next safe point; the dead-key callback the binding
** gives host_set_deadkey and lisp_setprimfree.  Never raises; if the queue
** cannot grow the key stays until the host is closed. */
void lx_deadkey(void *ud, int64_t key);
/* Drop the Lua state of dead keys (a safe point: outside any Lisp
** protected call).  Raises only on Lua out of memory. */
void lx_flushdead(lua_State *L, lx_Host *X);
/* Call the host.events.on_line listener with each queued line, oldest
** first (lua_host.c).  Host at stack index 'hidx'.  The listener's error
** propagates (the lines before it are consumed).  Returns the count. */
int lx_deliverlines(lua_State *L, lx_Host *X, int hidx);

/* An entry from Lua into host 'X': lx_enter sets the running Lua state
** 'L', the Lua function's name 'fname' and no callback slot (cbtable),
** saving the caller's in 'e'; lx_leave restores them, flushes dead keys
** once the outermost entry ends, and raises the Lisp error if 'st' (the
** status of the protected call in between) is not LISP_OK.  lx_run is
** lx_enter, lisp_pcall, lx_leave; hot entries inline the pair. */
/* What every entry saves and restores: the running Lua state and the
** callback slot. */
typedef struct lx_Saved {
    lua_State *L, *cbL;
    const void *cbtab;
    int cbidx, cbroom;
} lx_Saved;
static LISPBT_INLINE void lx_save(const lx_Host *X, lx_Saved *v) {
    v->L = X->L;
    v->cbL = X->cbL;
    v->cbtab = X->cbtab;
    v->cbidx = X->cbidx;
    v->cbroom = X->cbroom;
}
static LISPBT_INLINE void lx_restore(lx_Host *X, const lx_Saved *v) {
    X->L = v->L;
    X->cbL = v->cbL;
    X->cbtab = v->cbtab;
    X->cbidx = v->cbidx;
    X->cbroom = v->cbroom;
}

typedef struct lx_Entry {
    lx_Saved v;
    const char *fname;
} lx_Entry;
static LISPBT_INLINE void lx_enter(lua_State *L, lx_Host *X, const char *fname, lx_Entry *e) {
    lx_save(X, &e->v);
    e->fname = X->fname;
    X->L = L;
    X->fname = fname;
    X->running++;
    X->cbidx = 0; /* this frame's callback slot, if any (cbtable) */
}
void lx_leaveslow(lua_State *L, lx_Host *X, int st);
static LISPBT_INLINE void lx_leave(lua_State *L, lx_Host *X, const lx_Entry *e, int st) {
    X->running--;
    lx_restore(X, &e->v);
    X->fname = e->fname;
    if (lispbt_unlikely(st != LISP_OK || (X->running == 0 && X->ndead != 0))) {
        lx_leaveslow(L, X, st);
    }
}

/* A tick run from Lua (inst:tick, a batch's instance) of instance 'I'
** on Lua state 'L', its instance userdata at stack slot 'instidx':
** lx_tickenter sets the running Lua state, a fresh Lua-leaf cache in 'e'
** (X->tc points to it; see calllua in lua_bt.c) and no callback slot,
** saving the caller's in 'e' (a tick may run inside another: a Lua leaf
** that ticks);
** lx_tickleave restores them.  X->running is the caller's business. */
typedef struct lx_TickEntry {
    lx_Saved v;
    lx_TickCache *oldtc;
    lx_TickCache tc; /* this tick's: X->tc points here while it runs */
} lx_TickEntry;
static LISPBT_INLINE void lx_tickenter(lua_State *L, lx_Host *X, void *I, int instidx,
                                       lx_TickEntry *e) {
    lx_save(X, &e->v);
    e->oldtc = X->tc;
    X->L = L;
    X->cbidx = 0; /* Lisp->Lua calls of this tick: their own slot */
    e->tc.L = L;
    e->tc.I = I;
    e->tc.running = X->running;
    e->tc.cbidx = e->tc.ctxidx = 0;
    e->tc.instidx = instidx;
    X->tc = &e->tc;
}
static LISPBT_INLINE void lx_tickleave(lx_Host *X, const lx_TickEntry *e) {
    lx_restore(X, &e->v);
    X->tc = e->oldtc;
}

/* Run f(S, ud) protected for host 'X'; on error raise it in Lua (the Lisp
** message, positioned).  'fname' (static or outliving the call) names the
** Lua function for conversion errors ("set: table is cyclic"). */
void lx_run(lua_State *L, lx_Host *X, const char *fname, void (*f)(lisp_State *S, void *ud),
            void *ud);

/* ---- values (lua_aux.c) ---- */

/* The lx_Value userdata at 'idx' if it has metatable 'tname' (NULL: any
** of value/tree/instance); NULL if not.  Does not check that its host is
** open or that it was not released.  Never raises. */
lx_Value *lx_testvalue(lua_State *L, int idx, const char *tname);
/* The lx_Value of type 'tname' at 'idx'.  Raises lx_typeerror,
** "FNAME: host is closed", or "FNAME: TYPE is closed" (released by
** <close>; TYPE is "tree", "instance" or "value"). */
lx_Value *lx_checkvalue(lua_State *L, int idx, const char *tname, const char *fname);

/* Convert Lua value at 'idx' to Lisp and push it on the Lisp stack.  Call
** only inside lx_run; raises Lisp errors only ("FNAME: table is cyclic
** ...", "cannot convert a T to a Lisp value", out of memory). */
void lx_tolisp(lua_State *L, lx_Host *X, int idx);
/* As lx_tolisp, for the first argument of a bt.* builtin called from Lua
** (inst:stats(), host.bt.halt(inst)): those builtins never keep their
** instance argument, so an instance passed there is not marked shared
** (bt_inst_share), and dropping its last Lua handle still cancels its jobs
** at once.  Any other conversion of an instance marks it shared. */
void lx_tolisp_self(lua_State *L, lx_Host *X, int idx);

/* Push Lisp value 'v' of host 'X' to Lua (SPEC §3.1).  Call outside
** lx_run (it may raise Lua errors); 'v' must be rooted by the caller.
** Userdata pushed pin their Lisp object (released by their __gc). */
void lx_pushlisp(lua_State *L, lx_Host *X, lisp_Value v, const char *fname);

/* Push a new userdata of type 'tname' (LX_VALUE/TREE/INST) that pins 'v'.
** Raises "lispbt: out of memory". */
void lx_newvalue(lua_State *L, lx_Host *X, lisp_Value v, const char *tname);

/* __gc/__close of lx_Value userdata: unpin (idempotent, never raises). */
int lx_valuegc(lua_State *L);

/* Push a table of the heap counters of 'S' (SPEC §4 names).  Raises only
** on Lua out of memory. */
void lx_pushheap(lua_State *L, lisp_State *S);

/* ---- Lua callbacks (lua_aux.c) ---- */

/* Lisp primitive calling the Lua function stored under its ud in the
** host's callback table (lx_callback). */
lisp_Value lx_luaprim(lisp_State *S, int argc, lisp_Value *argv);

/* Store Lua value at 'idx' in the callback table of 'X'; returns its key
** (> 0, owned by the table until it is reported dead).  Use inside lx_run
** only: raises a Lisp error on out of memory. */
int64_t lx_storecallback(lua_State *L, lx_Host *X, int idx);

/* Call the Lua function stored under 'key' with 'nargs' values from
** 'argv' converted, returning its first result converted to Lisp (pushed
** on the Lisp stack).  Raises a Lisp error "NAME: MESSAGE" if the Lua
** function raises (MESSAGE is "(error object is a T value)" for a
** non-string error), "NAME: Lua stack overflow", or a conversion error.
** Use inside lx_run only ('name' is not kept). */
lisp_Value lx_callback(lisp_State *S, int64_t key, const char *name, int nargs, lisp_Value *argv);

/* ---- the Lua surface (lua_surface.c) ----
**
** Every Lua name of a builtin is derived from the one builtin table
** (host_builtins.c) by one rule, and every builtin a file refers to by name
** is resolved when the module is opened: a name missing from the table is
** an error of require("lispbt"), never a bad index at call time. */

/* Number of builtins in the table (the ordinals are 0 .. n-1). */
int lx_nbuiltins(void);
/* Entry of ordinal 'ord' (0 <= ord < lx_nbuiltins()). */
const lisp_Reg *lx_builtinreg(int ord);
/* Lua name of entry 'r' into 'out' ('n' bytes): split at '.', '-' becomes
** '_'.  Returns 0 (out unspecified) if 'r' is not runtime or its name holds
** '?', '!' or '>' (Lisp-only). */
int lx_luaname(const lisp_Reg *r, char *out, size_t n);
/* Ordinal of builtin 'name'.  Raises "lispbt: no builtin 'NAME' in the
** builtin table" if there is none (call at load time). */
int lx_builtin(lua_State *L, const char *name);

/* Pin the primitive of every builtin of open host 'X' into X->prims, by
** ordinal (the mirror calls these even if Lisp code redefines the global).
** Returns 0, or -1 when out of memory (X->prims is then partly filled;
** lx_unpinbuiltins frees it).  Never raises. */
int lx_pinbuiltins(lx_Host *X);
/* Free X->prims (the pins die with the Lisp state).  Never raises. */
void lx_unpinbuiltins(lx_Host *X);

/* Make 'conv' the Lua conversion of builtin 'name' (checked as
** lx_builtin): every mirror of it calls conv(result, arg1, ..., argn) with
** the result converted by SPEC §3.1 and the Lua arguments, and returns
** conv's one result.  Register before lx_mirror / lx_pushbuiltin (load
** time).  Raises on a missing name. */
void lx_setconv(lua_State *L, const char *name, lua_CFunction conv);
/* Pop a Lua function and make it the Lua function of builtin 'name' on
** every spelling that would mirror it (host.bt.tick_all, lispbt.bt....):
** for a builtin whose Lua form needs no conversion through Lisp values.
** It takes the builtin's Lisp arguments as Lua values, with the Lua
** conventions. */
void lx_setfast(lua_State *L, const char *name);

/* Push a closure calling builtin 'name' like its mirror (checked as
** lx_builtin); 'dropself' drops the method's self (a host) from the
** arguments.  Raises on a missing name. */
void lx_pushbuiltin(lua_State *L, const char *name, int dropself);

/* Install the mirrored runtime builtins into the table at 'idx': of the
** host userdata at 'hostidx', or, if hostidx is 0, of the default host
** resolved at call time. */
void lx_mirror(lua_State *L, int idx, int hostidx);

/* Pop the function at -1 and make it host method 'name': of every host,
** and (except "close") of the module table at 'modidx', acting on the
** default host.  Raises "lispbt: host method 'NAME' is defined twice or
** shadows a builtin" on a name already taken (a method, or the first part
** of a mirrored name), so methods never collide with the mirror. */
void lx_addmethod(lua_State *L, const char *name, int modidx);
/* lx_addmethod for each entry of 'l' (NULL-terminated). */
void lx_addmethods(lua_State *L, const luaL_Reg *l, int modidx);
/* Push the host method table (the __index of hosts looks here first). */
void lx_pushmethods(lua_State *L);

/* Push the default host of this Lua state, creating it on first use with
** the maker lx_setmaker registered; returns its binding state.  Raises
** "FNAME: host is closed" if it was closed. */
lx_Host *lx_defaulthost(lua_State *L, const char *fname);
/* Register 'maker' (pushes a new host with default options) for
** lx_defaulthost. */
void lx_setmaker(lua_State *L, lua_CFunction maker);

/* ---- opening (called once, in this order, by luaopen_lispbt; each
** expects the module table at -1 and leaves the stack as it found it) ---- */

void lx_opensurface(lua_State *L); /* lua_surface.c: method table, conventions */
void lx_openvalue(lua_State *L);   /* lua_aux.c: value/symbol metatables, lispbt.symbol */
void lx_openhost(lua_State *L);    /* lua_host.c: lispbt.new/default, host methods */
void lx_openbt(lua_State *L);      /* lua_bt.c: trees, instances, ctx, BT host methods */
/* The test-only lispbt.T table (lua_test.c; LISPBT_TESTS builds only). */
void lx_opentest(lua_State *L);

#endif
