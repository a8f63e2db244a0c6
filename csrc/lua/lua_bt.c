/*
** lua_bt.c -- the Lua surface of the BT engine: host:compile, trees,
** instances (tick, blackboard, stats, trace), Lua leaves and their ctx.
** See LICENSE for copyright.
**
** Lua leaves.  host:register_condition/action store the function (and the
** optional halt function) in the host's callback table and define a
** registry entry whose C function calls it.  The leaf runs on the thread
** that ticks, inside whatever called the tick (inst:tick, or (bt.tick) in
** Lisp); X->L is that Lua state.  The call is a lua_pcall, so a raising
** callback fails its node with an error event and log record, and nothing
** it does can unwind the tick.  Leaf arguments that are numbers, booleans
** or nil are pushed directly; others are converted inside a protected
** bridge, since converting may allocate and raise.
**
** ctx.  One userdata per instance (the host's uservalue 3, by instance id)
** is reused for every leaf call; its fields are set before each call and
** it is "active" only during the call.  ctx.memory is a Lua table per node
** kept in the ctx's uservalue next to the node-memory generation it was
** made for, so a halt or reset (which bumps the generation) empties it
** without any Lua work on the tick path.
**
** Results follow the binding's one convention (lua_surface.c): statuses
** are strings and records are tables, whichever spelling reaches them;
** the conversions of bt.tick, bt.stats and bt.scheduler.stats are the
** functions behind inst:tick, inst:stats and host:scheduler_stats.  This
** file builds on lua_aux.h only (never on lua_host.c).
**
** inst:tick without input calls bt_tick directly (no Lisp protected call:
** a tick never raises), which keeps the Lua-to-tick overhead small.
*/
#include "conf.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "bt.h"
#include "hist.h"
#include "lua_aux.h"
#include "sched.h"

/* The ctx of a Lua leaf call: 'c' is the engine's leaf context of the
** call running (node, tick, leaf name are read from it on demand), valid
** while 'active'. */
typedef struct lx_Ctx {
    bt_Inst *I;
    const bt_Ctx *c;
    int halted;
    int active;
} lx_Ctx;

/* ---- checks ---- */

/* The binding state of the host of instance 'I'. */
static lx_Host *instx(bt_Inst *I) {
    return lx_hostof(host_of(bt_inst_state(I)));
}

static bt_Inst *checkinst(lua_State *L, int idx, const char *fname) {
    return lx_checkvalue(L, idx, LX_INST, fname)->p;
}

static lx_Ctx *checkctx(lua_State *L, const char *fname) {
    lx_Ctx *x = luaL_testudata(L, 1, LX_CTX);
    if (x == NULL) {
        lx_typeerror(L, fname, 1, LX_CTX);
    }
    if (!x->active) {
        lx_error(L, fname, "ctx used outside its leaf callback");
    }
    return x;
}

/* A blackboard key at 'idx': a string or symbol, not empty, without NUL
** bytes (a name: docs/reference/lua.md).  Returns its bytes and length;
** raises "FNAME: bad argument #N (...)". */
static const char *checkkey(lua_State *L, int idx, const char *fname, size_t *n) {
    const char *s = lx_tosymbol(L, idx, n);
    if (s == NULL) {
        if (lua_type(L, idx) != LUA_TSTRING) {
            lx_typeerror(L, fname, idx, "string or symbol");
        }
        s = lua_tolstring(L, idx, n);
    }
    if (*n == 0) {
        lx_argerror(L, fname, idx, "blackboard key must not be empty");
    }
    if (memchr(s, '\0', *n) != NULL) {
        lx_argerror(L, fname, idx, "blackboard key contains a NUL byte");
    }
    return s;
}

/* ---- compile and instances ---- */

typedef struct CompArgs {
    const char *src;
    size_t n;
    lisp_Value r;
    lisp_Value def;
} CompArgs;

static void docompile(lisp_State *S, void *ud) {
    CompArgs *a = ud;
    lisp_Value forms = lisp_readall(S, a->src, a->n, "compile");
    if (lisp_listlen(forms) != 1) {
        lisp_error(S, "compile: expected exactly one DSL form, got %lld",
                   (long long)lisp_listlen(forms));
    }
    a->r = bt_compile(S, lisp_car(forms));
    bt_def_setsource(lisp_udata(a->r), lisp_string(S, a->src, a->n));
}

static int host_compile(lua_State *L) {
    lx_Host *X = lx_checkhost(L, 1, "compile");
    CompArgs a;
    int top = lisp_gettop(X->S);
    a.src = lx_checkstring(L, 2, "compile", &a.n);
    lx_run(L, X, "compile", docompile, &a);
    lx_newvalue(L, X, a.r, LX_TREE);
    lisp_settop(X->S, top);
    return 1;
}

static void doinstance(lisp_State *S, void *ud) {
    CompArgs *a = ud;
    a->r = bt_instance(S, a->def);
}

static int tree_instance(lua_State *L) {
    lx_Value *u = lx_checkvalue(L, 1, LX_TREE, "instance");
    lisp_State *S = u->X->S;
    CompArgs a;
    int top = lisp_gettop(S);
    a.def = lisp_pinned(S, u->pin);
    lx_run(L, u->X, "instance", doinstance, &a);
    lx_newvalue(L, u->X, a.r, LX_INST);
    lisp_settop(S, top);
    return 1;
}

/* ---- tick ---- */

typedef struct InputArgs {
    lua_State *L;
    lx_Host *X;
    bt_Inst *I;
    int idx;
    int batch; /* inputs[k] of a batch: the caller names the argument */
} InputArgs;

/* Raise 'why' about the input table: "FNAME: bad argument #1 (WHY)", or
** the bare WHY for a batch, which prefixes "FNAME: inputs[k]: ". */
static LISPBT_NORETURN void inputerror(lisp_State *S, const InputArgs *a, const char *why) {
    if (a->batch) {
        lisp_error(S, "%s", why);
    }
    lisp_error(S, "%s: bad argument #1 (%s)", a->X->fname, why);
}

/* Write every key/value of the table at a->idx to the blackboard. */
static void doinput(lisp_State *S, void *ud) {
    InputArgs *a = ud;
    lua_State *L = a->L;
    int base = lisp_gettop(S);
    if (!lua_checkstack(L, 4)) {
        lisp_error(S, "tick: Lua stack overflow");
    }
    lua_pushnil(L);
    while (lua_next(L, a->idx)) {
        int key;
        size_t n;
        const char *s = lx_tosymbol(L, -2, &n);
        if (s == NULL && lua_type(L, -2) == LUA_TSTRING) {
            s = lua_tolstring(L, -2, &n);
        }
        if (s == NULL) {
            char why[80];
            snprintf(why, sizeof why, "blackboard keys must be strings or symbols, got a %s key",
                     lua_typename(L, lua_type(L, -2)));
            lua_pop(L, 2);
            inputerror(S, a, why);
        }
        if (n == 0 || memchr(s, '\0', n) != NULL) {
            lua_pop(L, 2);
            inputerror(S, a,
                       n == 0 ? "blackboard key must not be empty" : "blackboard key contains a NUL byte");
        }
        key = -1;
        if (lua_type(L, -2) == LUA_TSTRING) { /* known keys: no allocation */
            key = bt_key_find(S, s, n);
        }
        if (key < 0) {
            lx_tolisp(L, a->X, -2);
            key = bt_key(S, *lisp_at(S, lisp_gettop(S) - 1));
        }
        lx_tolisp(L, a->X, -1);
        if (bt_bb_put_input(a->I, key, *lisp_at(S, lisp_gettop(S) - 1)) != 0) {
            lisp_nomem(S, a->X->fname);
        }
        lisp_settop(S, base);
        lua_pop(L, 1);
    }
}

/* The tick of inst:tick([input]) and of inst:ticker()'s function: 'u' is
** the instance's userdata (type-checked), found at index 'uidx' (its stack
** slot, or the ticker's upvalue: a Lua leaf of this tick caches its ctx
** there), the input at stack slot 'inidx'. */
static LISPBT_INLINE int tickon(lua_State *L, lx_Value *u, int uidx, int inidx) {
    lx_Host *X = u->X;
    bt_Inst *I = u->p;
    int st;
    if (X->S == NULL || u->pin < 0) {
        return lx_error(L, "tick", X->S == NULL ? "host is closed" : "instance is closed");
    }
    /* no input: inst:tick() (checked first: lua_gettop is the cheaper
    ** call) or a nil input (LUA_TNONE too) */
    if (lua_gettop(L) >= inidx && lua_type(L, inidx) > LUA_TNIL) {
        InputArgs a;
        if (!lua_istable(L, inidx)) {
            return lx_error(L, "tick", "bad argument #1 (table expected, got %s)",
                            lx_typename(L, inidx));
        }
        a.L = L;
        a.X = X;
        a.I = I;
        a.idx = inidx;
        a.batch = 0;
        lx_run(L, X, "tick", doinput, &a);
        lua_settop(L, inidx - 1);
    }
    X->running++;
    {
        /* Lua leaves of this tick may keep the callback table and ctx in
        ** this frame's stack slots (calllua) */
        lx_TickEntry e;
        lx_tickenter(L, X, I, uidx, &e);
        st = bt_tick(I);
        lx_tickleave(X, &e);
    }
    X->running--;
    if (X->running == 0 && X->ndead) {
        lx_flushdead(L, X);
    }
    if (st < 0) {
        return lx_error(L, "tick", "%s", bt_busy_text(st));
    }
    if (lispbt_unlikely(X->listening) && X->running == 0) {
        int top = lua_gettop(L);
        if (lx_pushhost(L, X)) {
            lx_deliverlines(L, X, top + 1); /* the lines written so far */
            lua_settop(L, top);
        }
    }
    lua_pushvalue(L, lua_upvalueindex(st)); /* cached status strings */
    return 1;
}

/* The fast instance test: a full userdata of our size carrying the
** instance tag at 'idx' (only C code writes userdata memory; lua_rawlen of
** a light userdata is 0); 'u' is lua_touserdata of it.  Not an instance
** here: the caller falls back on the standard check (odd metatables, the
** standard message). */
static LISPBT_INLINE int fastinst(lua_State *L, int idx, const lx_Value *u) {
    return u != NULL && lua_rawlen(L, idx) == sizeof(lx_Value) && u->kind == LX_KINST;
}

static int inst_tick(lua_State *L) {
    lx_Value *u = lua_touserdata(L, 1);
    if (!fastinst(L, 1, u)) {
        u = lx_checkvalue(L, 1, LX_INST, "tick");
    }
    return tickon(L, u, 1, 2);
}

/* The function inst:ticker() returns: tick([input]) = inst:tick([input]),
** the instance bound as upvalue 4 (no method lookup, no type check). */
static int ticker_tick(lua_State *L) {
    return tickon(L, lua_touserdata(L, lua_upvalueindex(4)), lua_upvalueindex(4), 1);
}

/* inst:ticker(): upvalues 1..3 the status strings (pushstatuses). */
static int inst_ticker(lua_State *L) {
    lx_checkvalue(L, 1, LX_INST, "ticker");
    lua_pushvalue(L, lua_upvalueindex(BT_SUCCESS));
    lua_pushvalue(L, lua_upvalueindex(BT_FAILURE));
    lua_pushvalue(L, lua_upvalueindex(BT_RUNNING));
    lua_pushvalue(L, 1);
    lua_pushcclosure(L, ticker_tick, 4);
    return 1;
}

/* ---- batch ticks ---- */

/* The instance userdata at 'idx' if it is a live instance of tree 't' on
** its host, else NULL and the reason in '*why'. */
static lx_Value *batchinst(lua_State *L, int idx, const lx_Value *t, const char **why) {
    lx_Value *u = lua_touserdata(L, idx);
    if (!fastinst(L, idx, u)) {
        u = lx_testvalue(L, idx, LX_INST); /* the standard check, for odd metatables */
        if (u == NULL) {
            *why = "is not an instance";
            return NULL;
        }
    }
    if (u->X != t->X) {
        *why = "is an instance of another host";
        return NULL;
    }
    if (u->pin < 0) {
        *why = "is a closed instance";
        return NULL;
    }
    if (bt_inst_def(u->p) != t->p) {
        *why = "is an instance of another tree";
        return NULL;
    }
    return u;
}

/* Per-instance error of a batch: statuses[k] = false, errors[k] = message
** (the errors table made on the first one, at stack slot 'erridx'). */
static void batcherror(lua_State *L, int residx, int erridx, const char *fname, lua_Integer k,
                       const char *fmt, const char *a) {
    lua_pushboolean(L, 0);
    lua_rawseti(L, residx, k);
    if (lua_isnil(L, erridx)) {
        lua_newtable(L);
        lua_replace(L, erridx);
    }
    lua_pushfstring(L, fmt, fname, (int)k, a);
    lua_rawseti(L, erridx, k);
}

/* A batch's slow path (scripted leaves, inputs, a closed instance of a
** group): one instance at a time, read again before its tick. */
typedef struct Batch {
    lx_Host *X;
    const lx_Value *t;
    const char *fname;
    int tabidx;  /* the instances table */
    int inidx;   /* the inputs table, 0 = none */
    int residx, erridx;
    int base;    /* slots base + 1, base + 2: the instance and its input */
    uint64_t cyc;
} Batch;

/* Tick entry k (from 1) of the instances table: it is read into slot
** base + 1 and checked again (a leaf may have changed the table, or closed
** the instance), inputs[k] is written, then it ticks.  Returns its status,
** or -1 after recording its error (statuses[k] = false, errors[k]). */
static int slowtick(lua_State *L, Batch *b, lua_Integer k) {
    lx_Host *X = b->X;
    const char *fname = b->fname, *why;
    lx_Value *u;
    bt_Inst *I;
    int st;
    lua_settop(L, b->base);
    lua_rawgeti(L, b->tabidx, k); /* slot base + 1; kept while it ticks */
    u = batchinst(L, b->base + 1, b->t, &why);
    if (u == NULL) {
        batcherror(L, b->residx, b->erridx, fname, k, "%s: instances[%d] %s", why);
        b->cyc = 0;
        return -1;
    }
    I = u->p;
    if (b->inidx && lua_rawgeti(L, b->inidx, k) == LUA_TTABLE) { /* slot base + 2 */
        InputArgs a;
        int rc;
        const char *oldname = X->fname;
        lua_State *oldL = X->L;
        a.L = L;
        a.X = X;
        a.I = I;
        a.idx = b->base + 2;
        a.batch = 1;
        X->L = L;
        X->fname = fname;
        rc = lisp_pcall(X->S, doinput, &a);
        X->L = oldL;
        X->fname = oldname;
        lua_settop(L, b->base + 1);
        b->cyc = 0;
        if (rc != LISP_OK) {
            batcherror(L, b->residx, b->erridx, fname, k, "%s: inputs[%d]: %s", lisp_errmsg(X->S));
            return -1;
        }
    }
    {
        lx_TickEntry e;
        lx_tickenter(L, X, I, b->base + 1, &e);
        st = bt_tick_chain(I, &b->cyc);
        lx_tickleave(X, &e);
    }
    if (st < 0) {
        batcherror(L, b->residx, b->erridx, fname, k, "%s: instances[%d]: %s", bt_busy_text(st));
        b->cyc = 0;
        return -1;
    }
    return st;
}

/* inputs[k] at the top of the stack must be a table or false (no input):
** else raise "FNAME: bad argument #INIDX (inputs[k] is a T, ...)". */
static void checkinput(lua_State *L, int ty, const char *fname, int inidx, lua_Integer k) {
    if (ty != LUA_TTABLE && !(ty == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
        lx_argerror(L, fname, inidx,
                    lua_pushfstring(L, "inputs[%d] is a %s, expected a table or false", (int)k,
                                    lx_typename(L, -1)));
    }
}

/* ---- instance groups ---- */

/* tree:group(instances): the instances of one tree, checked and pinned
** once (the userdata of uservalue 2 keep them alive; their lx_Value and
** bt_Inst pointers are kept here), ticked by g:tick() or
** tree:tick_all(g) in one crossing without reading the Lua table.  The
** statuses table (uservalue 3) is the group's: an entry is written only
** when that instance's status differs from the one last written there
** (last[k]), so a steady batch writes nothing. */
typedef struct lx_Group {
    lx_Host *X;
    lx_Value *tree;     /* the tree's userdata (uservalue 1) */
    lua_Integer counts[5]; /* of the last tick: [BT_SUCCESS..BT_RUNNING], [4] errors */
    int n;
    int busy;           /* a tick of the group is running */
    lx_Value **u;       /* the instances' userdata, n (memory after the struct) */
    void **inst;        /* their bt_Inst, n */
    signed char *last;  /* the status in statuses[k + 1]; -1: false */
} lx_Group;

/* Tick group 'g' (its userdata at 'gidx'), inputs at 'inidx' (none or
** nil: no inputs); the calling closure has the status strings as upvalues
** BT_SUCCESS..BT_RUNNING.  Returns the statuses table (and the errors),
** or, if not 'write', the four counts (and the errors) with the statuses
** table left as it was (last[] still says what it holds). */
static int tickgroup(lua_State *L, lx_Group *g, int gidx, int inidx, const char *fname,
                     int write) {
    lx_Host *X = g->X;
    const lx_Value *t = g->tree;
    lua_Integer n = g->n, k, m, cnt[5] = {0, 0, 0, 0, 0};
    int hasin, residx, erridx, sidx, tabidx, fast;
    if (X->S == NULL || t->pin < 0) {
        return lx_error(L, fname, X->S == NULL ? "host is closed" : "tree is closed");
    }
    if (g->busy) {
        return lx_error(L, fname, "the group is already ticking");
    }
    hasin = lua_gettop(L) >= inidx && !lua_isnil(L, inidx);
    if (hasin) {
        if (!lua_istable(L, inidx)) {
            return lx_typeerror(L, fname, inidx, "table");
        }
        if ((m = (lua_Integer)lua_rawlen(L, inidx)) != n) {
            return lx_argerror(L, fname, inidx,
                               lua_pushfstring(L, "inputs has %d entries, the group %d", (int)m,
                                               (int)n));
        }
        for (k = 1; k <= n; k++) {
            checkinput(L, lua_rawgeti(L, inidx, k), fname, inidx, k);
            lua_pop(L, 1);
        }
    }
    if (!lua_checkstack(L, 12)) {
        return lx_error(L, fname, "Lua stack overflow");
    }
    lua_settop(L, inidx);
    lua_getiuservalue(L, gidx, 3); /* statuses */
    residx = inidx + 1;
    lua_pushnil(L); /* errors */
    erridx = inidx + 2;
    lua_pushvalue(L, lua_upvalueindex(BT_SUCCESS));
    lua_pushvalue(L, lua_upvalueindex(BT_FAILURE));
    lua_pushvalue(L, lua_upvalueindex(BT_RUNNING));
    sidx = inidx + 3 - BT_SUCCESS; /* status st is at sidx + st */
    lua_getiuservalue(L, gidx, 2); /* the instances */
    tabidx = inidx + 6;
    /* the back-to-back path: native leaves, no inputs, every instance open */
    fast = !hasin && !bt_def_scripted(t->p);
    for (k = 0; fast && k < n; k++) {
        if (g->u[k]->pin < 0) {
            fast = 0;
        }
    }
    g->busy = 1;
    X->running++;
    if (fast) {
        signed char st[64];
        uint64_t cyc;
        lua_Integer j;
        for (k = 0; k < n; k += m) {
            m = n - k < 64 ? n - k : 64;
            cyc = 0; /* as in tick_all: the writes between chunks are in no tick */
            bt_tick_batch(g->inst + k, (int)m, (int)(n - k), &cyc, st);
            for (j = 0; j < m; j++) {
                int s = st[j];
                if (lispbt_unlikely(s < 0)) { /* not reached: nothing re-enters */
                    batcherror(L, residx, erridx, fname, k + j + 1, "%s: instances[%d]: %s",
                               bt_busy_text(s));
                    g->last[k + j] = -1; /* batcherror wrote false */
                    cnt[4]++;
                    continue;
                }
                cnt[s]++;
                if (write && s != g->last[k + j]) {
                    g->last[k + j] = (signed char)s;
                    lua_pushvalue(L, sidx + s);
                    lua_rawseti(L, residx, k + j + 1);
                }
            }
        }
    } else {
        Batch b;
        b.X = X;
        b.t = t;
        b.fname = fname;
        b.tabidx = tabidx;
        b.inidx = hasin ? inidx : 0;
        b.residx = residx;
        b.erridx = erridx;
        b.base = tabidx;
        b.cyc = 0;
        for (k = 0; k < n; k++) {
            int s = slowtick(L, &b, k + 1);
            if (s < 0) {
                g->last[k] = -1;
                cnt[4]++;
                continue;
            }
            cnt[s]++;
            if (write && s != g->last[k]) {
                g->last[k] = (signed char)s;
                lua_pushvalue(L, sidx + s);
                lua_rawseti(L, residx, k + 1);
            }
        }
    }
    X->running--;
    g->busy = 0;
    memcpy(g->counts, cnt, sizeof cnt);
    lua_settop(L, erridx);
    if (X->running == 0 && X->ndead) {
        lx_flushdead(L, X);
    }
    if (!write) {
        lua_pushinteger(L, cnt[BT_SUCCESS]);
        lua_pushinteger(L, cnt[BT_FAILURE]);
        lua_pushinteger(L, cnt[BT_RUNNING]);
        lua_pushinteger(L, cnt[4]);
        if (lua_isnil(L, erridx)) {
            return 4;
        }
        lua_pushvalue(L, erridx);
        return 5;
    }
    if (lua_isnil(L, erridx)) {
        lua_pop(L, 1);
        return 1;
    }
    return 2;
}

/* tree:group(instances) */
static int tree_group(lua_State *L) {
    lx_Value *t = lx_checkvalue(L, 1, LX_TREE, "group");
    lua_Integer n, k;
    lx_Group *g;
    size_t sz;
    const char *why;
    if (!lua_istable(L, 2)) {
        return lx_typeerror(L, "group", 2, "table");
    }
    lua_settop(L, 2);
    n = (lua_Integer)lua_rawlen(L, 2);
    if (n > INT_MAX / 32) {
        return lx_argerror(L, "group", 2, "too many instances");
    }
    lua_createtable(L, (int)n, 0); /* 3: the instances, pinned */
    for (k = 1; k <= n; k++) {
        lua_rawgeti(L, 2, k);
        if (batchinst(L, 4, t, &why) == NULL) {
            return lx_argerror(L, "group", 2, lua_pushfstring(L, "instances[%d] %s", (int)k, why));
        }
        lua_rawseti(L, 3, k);
    }
    lua_createtable(L, (int)n, 0); /* 4: statuses, every entry there from the start */
    for (k = 1; k <= n; k++) {
        lua_pushboolean(L, 0);
        lua_rawseti(L, 4, k);
    }
    sz = sizeof(lx_Group) + (size_t)n * (sizeof(lx_Value *) + sizeof(void *) + 1);
    g = lua_newuserdatauv(L, sz, 3); /* 5 */
    memset(g, 0, sizeof *g);
    g->X = t->X;
    g->tree = t;
    g->n = (int)n;
    g->u = (lx_Value **)(g + 1);
    g->inst = (void **)(g->u + n);
    g->last = (signed char *)(g->inst + n);
    for (k = 0; k < n; k++) {
        lx_Value *u;
        lua_rawgeti(L, 3, k + 1);
        u = lua_touserdata(L, -1);
        lua_pop(L, 1);
        g->u[k] = u;
        g->inst[k] = u->p;
        g->last[k] = -1;
    }
    luaL_setmetatable(L, LX_GROUP);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, 5, 1);
    lua_pushvalue(L, 3);
    lua_setiuservalue(L, 5, 2);
    lua_pushvalue(L, 4);
    lua_setiuservalue(L, 5, 3);
    return 1;
}

/* The group at 1 (its host may be closed: tickgroup checks that). */
static lx_Group *checkgroup(lua_State *L, const char *fname) {
    lx_Group *g = luaL_testudata(L, 1, LX_GROUP);
    if (g == NULL) {
        lx_typeerror(L, fname, 1, LX_GROUP);
    }
    return g;
}

/* The group at 1, of an open host. */
static lx_Group *checkopengroup(lua_State *L, const char *fname) {
    lx_Group *g = checkgroup(L, fname);
    if (g->X->S == NULL) {
        lx_error(L, fname, "host is closed");
    }
    return g;
}

/* g:tick([inputs]) */
static int group_tick(lua_State *L) {
    return tickgroup(L, checkgroup(L, "tick"), 1, 2, "tick", 1);
}

/* g:tick_counts([inputs]): success, failure, running, errors[, errtable] */
static int group_tick_counts(lua_State *L) {
    return tickgroup(L, checkgroup(L, "tick_counts"), 1, 2, "tick_counts", 0);
}

/* g:counts(): success, failure, running, errors of the last tick */
static int group_counts(lua_State *L) {
    lx_Group *g = checkopengroup(L, "counts");
    lua_pushinteger(L, g->counts[BT_SUCCESS]);
    lua_pushinteger(L, g->counts[BT_FAILURE]);
    lua_pushinteger(L, g->counts[BT_RUNNING]);
    lua_pushinteger(L, g->counts[4]);
    return 4;
}

/* g:instances(): a new sequence of the group's instances */
static int group_instances(lua_State *L) {
    lx_Group *g = checkopengroup(L, "instances");
    int k;
    lua_createtable(L, g->n, 0);
    lua_getiuservalue(L, 1, 2);
    for (k = 1; k <= g->n; k++) {
        lua_rawgeti(L, -1, k);
        lua_rawseti(L, -3, k);
    }
    lua_pop(L, 1);
    return 1;
}

static int group_len(lua_State *L) {
    lua_pushinteger(L, ((lx_Group *)lua_touserdata(L, 1))->n);
    return 1;
}

static int group_tostring(lua_State *L) {
    lua_pushfstring(L, "lispbt.group (%d instances)", ((lx_Group *)lua_touserdata(L, 1))->n);
    return 1;
}

/* tree:tick_all(instances[, inputs]) and host.bt.tick_all(tree, ...): tick
** every instance of 'instances' (a sequence of instances of this tree) in
** order, with inputs[k] (a table, or false for none) written first.
** Returns the tree's statuses table, reused by every call on the same tree
** (entries past #instances cleared), and, when some instance could not be
** ticked, a table index -> message (statuses[k] = false there).  Every
** argument is checked before the first tick. */
static int tree_tick_all(lua_State *L) {
    const char *fname = lua_tostring(L, lua_upvalueindex(4));
    lx_Value *t = lx_testvalue(L, 1, LX_TREE);
    lx_Host *X;
    lua_Integer n, k, m;
    int hasin, residx, erridx, base, sidx;
    uint64_t cyc = 0;
    const char *why;
    Batch b;
    if (t == NULL) {
        if (lua_toboolean(L, lua_upvalueindex(5))) { /* host.bt.tick_all: as Lisp says it */
            return lx_error(L, fname, "expected a %s, got %s", LX_TREE, lx_typename(L, 1));
        }
        t = lx_checkvalue(L, 1, LX_TREE, fname);
    }
    X = t->X;
    if (X->S == NULL || t->pin < 0) {
        return lx_error(L, fname, X->S == NULL ? "host is closed" : "tree is closed");
    }
    if (!lua_istable(L, 2)) {
        lx_Group *g;
        if (lua_type(L, 2) == LUA_TUSERDATA && (g = luaL_testudata(L, 2, LX_GROUP)) != NULL) {
            if (g->tree->p != t->p) {
                return lx_argerror(L, fname, 2, "a group of another tree");
            }
            return tickgroup(L, g, 2, 3, fname, 1);
        }
        return lx_typeerror(L, fname, 2, "table or lispbt.group");
    }
    hasin = !lua_isnoneornil(L, 3);
    if (hasin && !lua_istable(L, 3)) {
        return lx_typeerror(L, fname, 3, "table");
    }
    lua_settop(L, 3);
    n = (lua_Integer)lua_rawlen(L, 2);
    if (hasin && (m = (lua_Integer)lua_rawlen(L, 3)) != n) {
        return lx_argerror(L, fname, 3,
                           lua_pushfstring(L, "inputs has %d entries, instances %d", (int)m,
                                           (int)n));
    }
    /* the statuses table: taken from the tree while in use, so a nested
    ** call on the same tree (from a Lua leaf) gets a table of its own; its
    ** array part is grown here, before any instance is looked at, so that
    ** no Lua allocation (and no finalizer) happens during the ticks */
    if (lua_getiuservalue(L, 1, 2) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, (int)n, 0);
    } else {
        lua_pushnil(L);
        lua_setiuservalue(L, 1, 2);
    }
    for (k = (lua_Integer)lua_rawlen(L, 4) + 1; k <= n; k++) {
        lua_pushboolean(L, 0);
        lua_rawseti(L, 4, k);
    }
    if (n > X->capbatch) { /* room for the instances: grows, never shrinks */
        int cap = X->capbatch ? X->capbatch : 16;
        void **nb;
        while (cap < n) {
            if (cap > INT_MAX / 2) {
                return lx_argerror(L, fname, 2, "too many instances");
            }
            cap *= 2;
        }
        nb = mem_alloc(host_mem(X->H), sizeof(void *) * (size_t)cap);
        if (nb == NULL) {
            return lx_error(L, fname, "out of memory");
        }
        mem_free(host_mem(X->H), X->batch, sizeof(void *) * (size_t)X->capbatch);
        X->batch = nb;
        X->capbatch = cap;
    }
    /* every check before the first tick; the entries read stay on the
    ** stack in runs of up to 32 (one lua_settop per run, not per entry) */
    if (!lua_checkstack(L, 40)) {
        return lx_error(L, fname, "Lua stack overflow");
    }
    for (k = 1, m = 0; k <= n; k++) {
        lx_Value *u;
        if (++m > 32) {
            lua_settop(L, 4);
            m = 1;
        }
        lua_rawgeti(L, 2, k);
        u = lua_touserdata(L, -1);
        if (!fastinst(L, -1, u) || u->X != X || u->pin < 0 || bt_inst_def(u->p) != t->p) { /* the slow check */
            if ((u = batchinst(L, lua_gettop(L), t, &why)) == NULL) {
                return lx_argerror(L, fname, 2,
                                   lua_pushfstring(L, "instances[%d] %s", (int)k, why));
            }
        }
        X->batch[k - 1] = u->p;
        if (hasin) {
            checkinput(L, lua_rawgeti(L, 3, k), fname, 3, k);
            lua_pop(L, 1);
        }
    }
    lua_settop(L, 4);
    residx = 4;
    lua_pushnil(L); /* errors */
    erridx = 5;
    /* the status strings at slots 6 .. 8 (BT_SUCCESS .. BT_RUNNING): a
    ** stack slot is a cheaper lua_pushvalue than an upvalue */
    lua_pushvalue(L, lua_upvalueindex(BT_SUCCESS));
    lua_pushvalue(L, lua_upvalueindex(BT_FAILURE));
    lua_pushvalue(L, lua_upvalueindex(BT_RUNNING));
    sidx = 6 - BT_SUCCESS; /* status st is at sidx + st */
    base = 8;
    X->running++;
    k = 1;
    if (!hasin && !bt_def_scripted(t->p)) {
        /* Native leaves only: no Lua or Lisp code runs until the batch
        ** ends, so the instances table cannot change and keeps every
        ** instance alive; the engine ticks them from the array, back to
        ** back, a chunk per call, and the statuses are written after. */
        signed char st[64];
        lua_Integer j;
        for (k = 1; k <= n; k += m) {
            m = n - k + 1 < 64 ? n - k + 1 : 64;
            cyc = 0; /* the chunk's first tick reads the counter: the statuses
                     ** written since the last one are not in its duration */
            bt_tick_batch(X->batch + (k - 1), (int)m, (int)(n - k + 1), &cyc, st);
            for (j = 0; j < m; j++) {
                if (lispbt_unlikely(st[j] < 0)) { /* not reached: nothing re-enters */
                    batcherror(L, residx, erridx, fname, k + j, "%s: instances[%d]: %s",
                               bt_busy_text(st[j]));
                    continue;
                }
                lua_pushvalue(L, sidx + st[j]);
                lua_rawseti(L, residx, k + j);
            }
        }
        k = n + 1;
    }
    b.X = X;
    b.t = t;
    b.fname = fname;
    b.tabidx = 2;
    b.inidx = hasin ? 3 : 0;
    b.residx = residx;
    b.erridx = erridx;
    b.base = base;
    b.cyc = cyc;
    for (; k <= n; k++) {
        int st = slowtick(L, &b, k);
        if (st < 0) {
            continue;
        }
        lua_pushvalue(L, sidx + st);
        lua_rawseti(L, residx, k);
    }
    X->running--;
    lua_settop(L, erridx);
    for (k = n + 1; lua_rawgeti(L, residx, k) != LUA_TNIL; k++) { /* a shorter batch */
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_rawseti(L, residx, k);
    }
    lua_pop(L, 1);
    if (X->running == 0 && X->ndead) {
        lx_flushdead(L, X);
    }
    lua_pushvalue(L, residx);
    lua_setiuservalue(L, 1, 2);
    lua_pushvalue(L, residx);
    if (lua_isnil(L, erridx)) {
        return 1;
    }
    lua_pushvalue(L, erridx);
    return 2;
}

/* ---- blackboard from Lua ---- */

/* Key id of the key at 'idx' (checkkey), -1 if never used. */
static int findkey(lua_State *L, lx_Host *X, int idx, const char *fname) {
    size_t n;
    const char *s = checkkey(L, idx, fname, &n);
    return bt_key_find(X->S, s, n);
}

static int inst_get(lua_State *L) {
    bt_Inst *I = checkinst(L, 1, "get");
    lx_Host *X = instx(I);
    lisp_Value v;
    if (!bt_bb_get(I, findkey(L, X, 2, "get"), &v, -1)) {
        lua_pushnil(L);
        return 1;
    }
    lx_pushlisp(L, X, v, "get");
    return 1;
}

typedef struct PutArgs {
    lua_State *L;
    lx_Host *X;
    bt_Inst *I;
    int32_t node;
    const char *writer;
} PutArgs;

/* Protected: write value at stack index 3 to the key at index 2. */
static void doput(lisp_State *S, void *ud) {
    PutArgs *a = ud;
    int key;
    lx_tolisp(a->L, a->X, 2);
    key = bt_key(S, *lisp_at(S, lisp_gettop(S) - 1));
    lx_tolisp(a->L, a->X, 3);
    if (bt_bb_put(a->I, key, *lisp_at(S, lisp_gettop(S) - 1), a->node, a->writer) != 0) {
        lisp_nomem(S, a->X->fname);
    }
}

static int putkv(lua_State *L, bt_Inst *I, int32_t node, const char *writer, const char *fname) {
    PutArgs a;
    int top;
    a.L = L;
    a.X = instx(I);
    a.I = I;
    a.node = node;
    a.writer = writer;
    {
        size_t n;
        checkkey(L, 2, fname, &n);
    }
    lua_settop(L, 3);
    top = lisp_gettop(a.X->S);
    lx_run(L, a.X, fname, doput, &a);
    lisp_settop(a.X->S, top);
    return 0;
}

static int inst_put(lua_State *L) {
    return putkv(L, checkinst(L, 1, "put"), -1, "lua", "put");
}

static int inst_blackboard(lua_State *L) {
    bt_Inst *I = checkinst(L, 1, "blackboard");
    lx_Host *X = instx(I);
    int it = 0, key;
    lisp_Value v;
    lua_newtable(L);
    while (bt_bb_next(I, &it, &key, &v)) {
        lx_pushlisp(L, X, v, "blackboard");
        lua_setfield(L, -2, bt_key_name(X->S, key));
    }
    return 1;
}

/* ---- stats ---- */

#define SETI(name, v)                     \
    lua_pushinteger(L, (lua_Integer)(v)); \
    lua_setfield(L, -2, name)

static int inst_stats(lua_State *L) {
    bt_Inst *I = checkinst(L, 1, "stats");
    bt_Def *D = bt_inst_def(I);
    bt_TickStats t;
    hist_Summary h;
    int i, k = 0;
    bt_tickstats(I, &t);
    hist_summary(bt_tickhist(I), &h);
    lua_createtable(L, 0, 20);
    SETI("tick_count", t.count);
    SETI("tick_overrun_count", t.overruns);
    SETI("tick_last_ns", t.last_ns);
    SETI("tick_max_ns", t.max_ns);
    SETI("tick_total_ns", t.total_ns);
    SETI("tick_budget_ms", t.budget_ns / 1000000);
    SETI("tick_p50_ns", h.p50);
    SETI("tick_p90_ns", h.p90);
    SETI("tick_p99_ns", h.p99);
    SETI("tick_p999_ns", h.p999);
    SETI("errors", t.errors);
    lua_pushstring(L, bt_profile_name(t.profile));
    lua_setfield(L, -2, "profile_level");
    if (t.profile == BT_PROFILE_SAMPLED) {
        SETI("profile_sample_every", t.sample_every);
        SETI("profile_sampled_ticks", t.sampled);
    }
    lua_pushboolean(L, t.trace);
    lua_setfield(L, -2, "trace_enabled");
    SETI("node_count", bt_def_nodes(D));
    lua_newtable(L);
    for (i = 0; i < bt_def_nodes(D); i++) {
        const bt_NodeStats *s = bt_nodestats(I, i);
        const hist_Hist *hh;
        hist_Summary nh;
        if (s->count[1] + s->count[2] + s->count[3] == 0) {
            continue;
        }
        hh = bt_nodehist(I, i);
        hist_summary(hh, &nh);
        lua_createtable(L, 0, 15);
        SETI("timed", hh->count); /* visits behind the durations (sampled: fewer) */
        SETI("id", i);
        lua_pushstring(L, bt_def_nodename(D, i));
        lua_setfield(L, -2, "name");
        SETI("success", s->count[1]);
        SETI("failure", s->count[2]);
        SETI("running", s->count[3]);
        SETI("last_ns", s->last_ns);
        SETI("max_ns", s->max_ns);
        SETI("total_ns", s->total_ns);
        SETI("p50_ns", nh.p50);
        SETI("p90_ns", nh.p90);
        SETI("p99_ns", nh.p99);
        SETI("p999_ns", nh.p999);
        SETI("errors", s->errors);
        if (s->work > 0) {
            SETI("work", s->work);
        }
        lua_rawseti(L, -2, ++k);
    }
    lua_setfield(L, -2, "nodes");
    return 1;
}

static int host_scheduler_stats(lua_State *L) {
    lx_Host *X = lx_checkhost(L, 1, "scheduler_stats");
    sched_Stats s;
    if (host_sched(X->H) == NULL) {
        return lx_error(L, "scheduler_stats", "host is closed");
    }
    sched_stats(host_sched(X->H), &s);
    lua_createtable(L, 0, 24);
    SETI("submitted", s.submitted);
    SETI("started", s.started);
    SETI("completed", s.completed);
    SETI("failed", s.failed);
    SETI("cancelled", s.cancelled);
    SETI("queue_delay_last_ns", s.queue_delay_last_ns);
    SETI("run_time_last_ns", s.run_time_last_ns);
    SETI("queued", s.queued);
    SETI("running", s.running);
    SETI("workers", s.workers);
    SETI("timed_out", s.timed_out);
    SETI("queue_delay_max_ns", s.queue_delay_max_ns);
    SETI("run_time_max_ns", s.run_time_max_ns);
    SETI("queue_delay_p50_ns", s.queue_delay_p50_ns);
    SETI("queue_delay_p90_ns", s.queue_delay_p90_ns);
    SETI("queue_delay_p99_ns", s.queue_delay_p99_ns);
    SETI("queue_delay_p999_ns", s.queue_delay_p999_ns);
    SETI("run_time_p50_ns", s.run_time_p50_ns);
    SETI("run_time_p90_ns", s.run_time_p90_ns);
    SETI("run_time_p99_ns", s.run_time_p99_ns);
    SETI("run_time_p999_ns", s.run_time_p999_ns);
    return 1;
}

/* ---- the Lua forms of BT results (lx_setconv: conv(result, host, args)) ---- */

/* A status symbol becomes its name, as inst:tick() returns it. */
static int conv_status(lua_State *L) {
    size_t n;
    const char *s = lx_tosymbol(L, 1, &n);
    lispbt_assert(s != NULL); /* bt.tick returns a status symbol */
    lua_pushlstring(L, s, n);
    return 1;
}

/* planner.plan's result: symbol keys become string keys and symbol
** values their names without the keyword ':' (status ":ok" -> "ok"), in
** every nested table, so Lua reads res.status == "ok", res.stats.seed. */
static void symstostrings(lua_State *L, int idx, int depth) {
    luaL_checkstack(L, 6, "planner.plan: result nested too deeply");
    idx = lua_absindex(L, idx);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        size_t n;
        const char *s;
        if (lua_type(L, -1) == LUA_TTABLE && depth < 8) {
            symstostrings(L, -1, depth + 1);
            lua_replace(L, -2);
        } else if ((s = lx_tosymbol(L, -1, &n)) != NULL) {
            if (n > 1 && s[0] == ':') {
                s++;
                n--;
            }
            lua_pushlstring(L, s, n);
            lua_replace(L, -2);
        }
        if ((s = lx_tosymbol(L, -2, &n)) != NULL) {
            lua_pushlstring(L, s, n);
        } else {
            lua_pushvalue(L, -2);
        }
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

static int conv_plan(lua_State *L) {
    if (lua_type(L, 1) != LUA_TTABLE) {
        lua_settop(L, 1);
        return 1;
    }
    symstostrings(L, 1, 0);
    return 1;
}

/* ---- Lua leaves ---- */

/* Protected: create the ctx userdata of instance id 'a2' into table 'a1';
** its uservalue 1 holds ctx.memory tables, 2 the callback table 'a3'. */
static int mkctx(lua_State *L) {
    lx_Ctx *x = lua_newuserdatauv(L, sizeof(lx_Ctx), 2);
    memset(x, 0, sizeof *x);
    luaL_setmetatable(L, LX_CTX);
    lua_newtable(L);
    lua_setiuservalue(L, -2, 1);
    lua_pushvalue(L, 3);
    lua_setiuservalue(L, -2, 2);
    lua_pushvalue(L, -1);
    lua_rawseti(L, 1, lua_tointeger(L, 2));
    return 1;
}

typedef struct LeafArgs {
    const lisp_Value *args;
    int nargs;
    lx_Host *X;
} LeafArgs;

/* Protected bridge for leaves whose arguments need conversion: stack is
** (fn, ctx, lightuserdata LeafArgs). */
static int callconv(lua_State *L) {
    LeafArgs *a = lua_touserdata(L, 3);
    int i;
    lua_settop(L, 2);
    luaL_checkstack(L, a->nargs + 4, "too many leaf arguments");
    for (i = 0; i < a->nargs; i++) {
        lx_pushlisp(L, a->X, a->args[i], "tick");
    }
    lua_call(L, a->nargs + 1, 1);
    return 1;
}

static int simpleargs(const bt_Ctx *c) {
    int i;
    for (i = 0; i < c->a->nargs; i++) {
        int t = c->a->args[i].tag;
        if (t != LISP_TNIL && t != LISP_TBOOL && t != LISP_TINT && t != LISP_TFLOAT) {
            return 0;
        }
    }
    return 1;
}

/* Call Lua function 'key' for leaf context 'c'; returns a BT status.
** A condition (or a halt callback) is tested for truth (SPEC §3: truthy =
** success); an action must return a status string, a boolean or nil. */
static LISPBT_INLINE int calllua(bt_Ctx *c, int64_t key, int halting, int iscond) {
    bt_Inst *I = c->I;
    lx_Host *X = lx_hostof(host_of(c->S));
    lua_State *L = X->L;
    int top, cbidx, ctxidx, st, i, status, rt, room;
    lx_TickCache *tc = X->tc;
    int cached = tc != NULL && tc->L == L && tc->I == I && tc->running == X->running;
    lx_Ctx *x;
    if (L == NULL) {
        return bt_leaf_error(c, "no running Lua state to call the Lua leaf");
    }
    top = lua_gettop(L);
    if (cached && tc->cbidx && top + c->a->nargs + 4 <= tc->roomtop) {
        /* a later Lua leaf of this inst:tick: the slots, the ctx and the
        ** stack room of the first (the stack above our frame's top is
        ** ensured once: Lua never shrinks a frame's reserved room) */
        cbidx = tc->cbidx;
        ctxidx = tc->ctxidx;
        x = tc->ctx;
        goto call;
    }
    if (!lua_checkstack(L, c->a->nargs + 12)) {
        return bt_leaf_error(c, "Lua stack overflow");
    }
    room = top + c->a->nargs + 12; /* the stack is ensured up to here */
    if (cached && tc->cbidx) { /* a later Lua leaf of this inst:tick */
        cbidx = tc->cbidx;
        ctxidx = tc->ctxidx;
        if (room > tc->roomtop) {
            tc->roomtop = room;
        }
    } else if (cached && lua_getiuservalue(L, tc->instidx, 2) == LUA_TUSERDATA) {
        /* inst:tick's instance userdata (tc->instidx) caches its ctx */
        ctxidx = top + 1;
        lua_getiuservalue(L, ctxidx, 2); /* callbacks */
        cbidx = top + 2;
    } else {
        int hostidx;
        if (cached) {
            lua_pop(L, 1);
        }
        hostidx = top + 1;
        if (!lx_pushhost(L, X)) {
            return bt_leaf_error(c, "cannot reach the Lua state of the host");
        }
        lua_getiuservalue(L, hostidx, 3); /* instance states */
        if (lua_rawgeti(L, -1, bt_inst_id(I)) != LUA_TUSERDATA) {
            lua_pop(L, 1);
            lua_pushcfunction(L, mkctx);
            lua_pushvalue(L, -2);
            lua_pushinteger(L, bt_inst_id(I));
            lua_getiuservalue(L, hostidx, 1); /* callbacks */
            if (lua_pcall(L, 3, 1, 0) != LUA_OK) {
                lua_settop(L, top);
                return bt_leaf_error(c, "%s: out of memory", c->a->leaf->cname);
            }
            bt_inst_sethaslua(I);
        }
        ctxidx = lua_gettop(L);
        lua_getiuservalue(L, ctxidx, 2); /* callbacks */
        cbidx = lua_gettop(L);
        if (cached) { /* remember the ctx on the instance userdata */
            lua_pushvalue(L, ctxidx);
            lua_setiuservalue(L, tc->instidx, 2);
        }
    }
    x = lua_touserdata(L, ctxidx);
    if (cached && !tc->cbidx) { /* keep the slots for this tick's later Lua leaves */
        tc->cbidx = cbidx;
        tc->ctxidx = ctxidx;
        tc->ctx = x;
        tc->roomtop = room; /* later leaves need no check up to here */
        top = cbidx;
    }
call:
    x->I = I;
    x->c = c;
    x->halted = halting;
    x->active = 1;
    lua_rawgeti(L, cbidx, key);
    lua_pushvalue(L, ctxidx);
    if (simpleargs(c)) {
        for (i = 0; i < c->a->nargs; i++) {
            lisp_Value v = c->a->args[i];
            switch (v.tag) {
                case LISP_TBOOL: lua_pushboolean(L, v.u.b); break;
                case LISP_TINT: lua_pushinteger(L, v.u.i); break;
                case LISP_TFLOAT: lua_pushnumber(L, v.u.f); break;
                default: lua_pushnil(L); break;
            }
        }
        status = lua_pcall(L, c->a->nargs + 1, 1, 0);
    } else {
        LeafArgs a;
        a.args = c->a->args;
        a.nargs = c->a->nargs;
        a.X = X;
        lua_pushcfunction(L, callconv);
        lua_insert(L, -3);
        lua_pushlightuserdata(L, &a);
        status = lua_pcall(L, 3, 1, 0);
    }
    x->active = 0;
    if (status != LUA_OK) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            st = bt_leaf_error(c, "%s", lua_tostring(L, -1));
        } else {
            st = bt_leaf_error(c, "(error object is a %s value)", luaL_typename(L, -1));
        }
    } else if (iscond || halting) {
        st = lua_toboolean(L, -1) ? BT_SUCCESS : BT_FAILURE;
    } else if ((rt = lua_type(L, -1)) == LUA_TBOOLEAN || rt == LUA_TNIL) {
        st = rt == LUA_TBOOLEAN && lua_toboolean(L, -1) ? BT_SUCCESS : BT_FAILURE;
    } else if (rt == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        /* the interned status strings by address, else by bytes */
        st = s == X->stname[BT_SUCCESS]   ? BT_SUCCESS
             : s == X->stname[BT_RUNNING] ? BT_RUNNING
             : s == X->stname[BT_FAILURE] ? BT_FAILURE
                                          : bt_status_parse(s, len);
        if (st < 0) {
            st = bt_leaf_error(c, "returned \"%.40s\" (expected \"success\", \"failure\", "
                                  "\"running\" or a boolean)",
                               s);
        }
    } else {
        st = bt_leaf_error(c, "returned a %s value (expected \"success\", \"failure\", "
                              "\"running\" or a boolean)",
                           luaL_typename(L, -1));
    }
    lua_settop(L, top);
    return st;
}

static int luacond(bt_Ctx *c, int64_t key) {
    return calllua(c, key, 0, 1); /* a cond's value is tested for truth */
}

static int luaact(bt_Ctx *c, int64_t key) {
    return calllua(c, key, 0, 0);
}

/* Halt: the halt function if one was given, else the action itself with
** ctx.halted = true. */
static void luahalt(bt_Ctx *c, const bt_Leaf *l) {
    if (calllua(c, l->ud2 ? l->ud2 : l->ud, 1, 0) == BT_ERROR) {
        c->halted = -1;
    }
}

typedef struct RegArgs {
    lua_State *L;
    lx_Host *X;
    int kind;
    int64_t key, hkey;
} RegArgs;

static void doregister(lisp_State *S, void *ud) {
    RegArgs *a = ud;
    size_t n;
    const char *name = lua_tolstring(a->L, 2, &n);
    lisp_Value sym = lisp_intern(S, name, n);
    bt_reg_define(S, host_bt(a->X->H), a->kind, sym, BT_IMPL_LUA, a->kind == BT_KCOND ? luacond : luaact,
                  a->kind == BT_KACT ? luahalt : NULL, a->key, a->hkey);
}

/* Store the function at 'idx' in the callback table; returns its key. */
static int64_t storefn(lua_State *L, lx_Host *X, int idx) {
    int64_t key = ++X->cbnext;
    lua_getiuservalue(L, 1, 1);
    lua_pushvalue(L, idx);
    lua_rawseti(L, -2, key);
    lua_pop(L, 1);
    return key;
}

static int registerleaf(lua_State *L, int kind) {
    const char *fname = kind == BT_KCOND ? "register_condition" : "register_action";
    lx_Host *X = lx_checkhost(L, 1, fname);
    RegArgs a;
    lx_checkname(L, 2, fname, "name", NULL);
    lx_checkfunction(L, 3, fname);
    if (kind == BT_KACT && !lua_isnoneornil(L, 4)) {
        lx_checkfunction(L, 4, fname);
    }
    a.L = L;
    a.X = X;
    a.kind = kind;
    a.key = storefn(L, X, 3);
    /* the halt callback: the given function, else the action itself */
    a.hkey = kind == BT_KACT && !lua_isnoneornil(L, 4) ? storefn(L, X, 4) : 0;
    lx_run(L, X, fname, doregister, &a);
    return 0;
}

static int host_register_condition(lua_State *L) {
    return registerleaf(L, BT_KCOND);
}

static int host_register_action(lua_State *L) {
    return registerleaf(L, BT_KACT);
}

/* ---- ctx ---- */

static int ctx_get(lua_State *L) {
    lx_Ctx *x = checkctx(L, "get");
    lx_Host *X = instx(x->I);
    lisp_Value v;
    if (!bt_bb_get(x->I, findkey(L, X, 2, "get"), &v, x->c->node)) {
        lua_pushnil(L);
        return 1;
    }
    lx_pushlisp(L, X, v, "get");
    return 1;
}

static int ctx_put(lua_State *L) {
    lx_Ctx *x = checkctx(L, "put");
    return putkv(L, x->I, x->c->node, x->c->a->leaf->cname, "put");
}

/* ctx.memory: the table of this node, renewed when its memory generation
** changed (halt or reset cleared the node). */
static void pushmemory(lua_State *L, lx_Ctx *x) {
    int32_t node = x->c->node;
    uint32_t gen = bt_inst_mem(x->I, node)->gen;
    lua_getiuservalue(L, 1, 1);
    if (lua_rawgeti(L, -1, 2 * (lua_Integer)node + 2) == LUA_TNUMBER &&
        (uint32_t)lua_tointeger(L, -1) == gen &&
        lua_rawgeti(L, -2, 2 * (lua_Integer)node + 1) == LUA_TTABLE) {
        return;
    }
    lua_settop(L, 3);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawseti(L, 3, 2 * (lua_Integer)node + 1);
    lua_pushinteger(L, gen);
    lua_rawseti(L, 3, 2 * (lua_Integer)node + 2);
}

/* ctx fields, by id: ctx_index finds the id of a key in the table of
** upvalue 1 (field name -> id), one hash lookup of an interned string
** instead of comparing strings one by one. */
enum { CTX_GET = 1, CTX_PUT, CTX_MEMORY, CTX_TICK, CTX_NODE, CTX_NAME, CTX_HALTED };
static const char *const ctxfields[] = {NULL,   "get",  "put",   "memory",
                                        "tick", "node", "name", "halted"};

static int ctx_index(lua_State *L) {
    lx_Ctx *x = luaL_checkudata(L, 1, LX_CTX);
    int id;
    lua_pushvalue(L, 2);
    id = lua_rawget(L, lua_upvalueindex(1)) == LUA_TNUMBER ? (int)lua_tointeger(L, -1) : 0;
    lua_pop(L, 1);
    if (id == 0 && lua_type(L, 2) != LUA_TSTRING) {
        return lx_error(L, "ctx", "field name must be a string, got %s", lx_typename(L, 2));
    }
    if (id != CTX_GET && id != CTX_PUT && !x->active) {
        return lx_error(L, "ctx", "used outside its leaf callback");
    }
    switch (id) {
        case CTX_GET: lua_pushcfunction(L, ctx_get); break;
        case CTX_PUT: lua_pushcfunction(L, ctx_put); break;
        case CTX_MEMORY: pushmemory(L, x); break;
        case CTX_TICK: lua_pushinteger(L, x->c->tick); break;
        case CTX_NODE: lua_pushinteger(L, x->c->node); break;
        case CTX_NAME: lua_pushstring(L, x->c->a->leaf->cname); break;
        case CTX_HALTED: lua_pushboolean(L, x->halted); break;
        default: lua_pushnil(L); break;
    }
    return 1;
}

/* ---- trees ---- */

static int tree_tostring(lua_State *L) {
    lx_Value *u = lua_touserdata(L, 1);
    if (u->X->S == NULL || u->pin < 0) {
        lua_pushliteral(L, "lispbt.tree (closed)");
    } else {
        lua_pushfstring(L, "lispbt.tree (%d nodes)", bt_def_nodes(u->p));
    }
    return 1;
}

static int inst_tostring(lua_State *L) {
    lx_Value *u = lua_touserdata(L, 1);
    if (u->X->S == NULL || u->pin < 0) {
        lua_pushliteral(L, "lispbt.instance (closed)");
    } else {
        lua_pushfstring(L, "lispbt.instance %d (tick %d)", (int)bt_inst_id(u->p),
                        (int)bt_inst_ticks(u->p));
    }
    return 1;
}

/* Methods that are builtins with self as their first argument: named by
** the builtin's Lisp name, resolved (and checked) when the module opens. */
typedef struct Alias {
    const char *method, *builtin;
} Alias;

static void setaliases(lua_State *L, const Alias *al) {
    for (; al->method; al++) {
        lx_pushbuiltin(L, al->builtin, 0);
        lua_setfield(L, -2, al->method);
    }
}

/* Push a new metatable 'name' for closable host values (trees, instances):
** __gc and __close release the value, __tostring is 'tostr', and an empty
** method table is left on top for the caller to fill and set as __index. */
static void valuemeta(lua_State *L, const char *name, lua_CFunction tostr) {
    luaL_newmetatable(L, name);
    lua_pushcfunction(L, lx_valuegc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, lx_valuegc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, tostr);
    lua_setfield(L, -2, "__tostring");
    lua_newtable(L);
}

/* Push C function 'f' with upvalues 1..3 = the names of BT_SUCCESS..
** BT_RUNNING, 4 = its name in messages, 5 = 'mirror' (called as the
** builtin's Lua mirror, not as a method). */
static void pushstatuses(lua_State *L, lua_CFunction f, const char *name, int mirror) {
    lua_pushstring(L, bt_status_name(BT_SUCCESS));
    lua_pushstring(L, bt_status_name(BT_FAILURE));
    lua_pushstring(L, bt_status_name(BT_RUNNING));
    lua_pushstring(L, name);
    lua_pushboolean(L, mirror);
    lua_pushcclosure(L, f, 5);
}

void lx_openbt(lua_State *L) {
    static const luaL_Reg hostm[] = {{"compile", host_compile},
                                     {"register_condition", host_register_condition},
                                     {"register_action", host_register_action},
                                     {"scheduler_stats", host_scheduler_stats},
                                     {NULL, NULL}};
    static const Alias hostal[] = {{"logs", "bt.logs.snapshot"},
                                   {"planner_records", "planner.logs.snapshot"},
                                   {"register_model", "planner.register-model"},
                                   {NULL, NULL}};
    static const Alias instal[] = {{"reset", "bt.reset"},
                                   {"halt", "bt.halt"},
                                   {"trace", "bt.trace.snapshot"},
                                   {"clear_trace", "bt.clear-trace"},
                                   {"set_tick_budget_ms", "bt.set-tick-budget-ms"},
                                   {"set_trace_enabled", "bt.set-trace-enabled"},
                                   {"set_read_trace_enabled", "bt.set-read-trace-enabled"},
                                   {"set_profile_level", "bt.set-profile-level"},
                                   {NULL, NULL}};
    static const luaL_Reg instm[] = {{"get", inst_get},
                                     {"put", inst_put},
                                     {"blackboard", inst_blackboard},
                                     {"stats", inst_stats},
                                     {NULL, NULL}};
    static const Alias treeal[] = {{"to_dsl", "bt.to-dsl"}, {"export_dot", "bt.export-dot"}, {NULL, NULL}};
    int mod = lua_gettop(L), i;
    const Alias *al;
    /* the Lua convention first: the mirrors and aliases made below use it */
    lx_setconv(L, "bt.tick", conv_status);
    lx_setconv(L, "planner.plan", conv_plan);
    /* host methods */
    lx_addmethods(L, hostm, mod);
    for (al = hostal; al->method; al++) {
        lx_pushbuiltin(L, al->builtin, 1);
        lx_addmethod(L, al->method, mod);
    }
    /* trees */
    valuemeta(L, LX_TREE, tree_tostring);
    lua_pushcfunction(L, tree_instance);
    lua_setfield(L, -2, "instance");
    pushstatuses(L, tree_tick_all, "tick_all", 0);
    lua_setfield(L, -2, "tick_all");
    lua_pushcfunction(L, tree_group);
    lua_setfield(L, -2, "group");
    pushstatuses(L, tree_tick_all, "bt.tick-all", 1);
    lx_setfast(L, "bt.tick-all"); /* host.bt.tick_all: the same, by its Lisp name */
    setaliases(L, treeal);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    /* instances */
    valuemeta(L, LX_INST, inst_tostring);
    luaL_setfuncs(L, instm, 0);
    pushstatuses(L, inst_tick, "tick", 0);
    lua_setfield(L, -2, "tick");
    pushstatuses(L, inst_ticker, "ticker", 0);
    lua_setfield(L, -2, "ticker");
    setaliases(L, instal);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    /* groups */
    luaL_newmetatable(L, LX_GROUP);
    lua_pushcfunction(L, group_len);
    lua_setfield(L, -2, "__len");
    lua_pushcfunction(L, group_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_newtable(L);
    pushstatuses(L, group_tick, "tick", 0);
    lua_setfield(L, -2, "tick");
    pushstatuses(L, group_tick_counts, "tick_counts", 0);
    lua_setfield(L, -2, "tick_counts");
    lua_pushcfunction(L, group_counts);
    lua_setfield(L, -2, "counts");
    lua_pushcfunction(L, group_instances);
    lua_setfield(L, -2, "instances");
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    /* ctx */
    luaL_newmetatable(L, LX_CTX);
    lua_createtable(L, 0, (int)(sizeof ctxfields / sizeof *ctxfields));
    for (i = 1; i < (int)(sizeof ctxfields / sizeof *ctxfields); i++) {
        lua_pushinteger(L, i);
        lua_setfield(L, -2, ctxfields[i]);
    }
    lua_pushcclosure(L, ctx_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}
