/*
** test_threads.c -- two Lua states on two threads, each require("lispbt"),
** must never see each other's globals, symbols, heaps or counters.
** See LICENSE for copyright.
**
** This test needs liblua5.4 (the module itself never links it).
** spec/c/threads.cmake adds the Lua include directory, the library and
** LISPBT_MODULE_DIR (where lispbt.so is); a test build without liblua5.4
** fails to configure, so this test always runs for real.  By hand, from the
** top of the tree after building build/lispbt.so:
**
**   gcc -std=c11 -O1 -g -Icsrc spec/c/test_threads.c \
**       $(pkg-config --cflags --libs lua5.4) -lpthread -o /tmp/test_threads
**
** Each thread runs the same Lua program with its own id, in phases
** separated by a barrier shared by both threads (sync()), so the phases
** overlap in time: define globals and symbols; look for the other thread's
** (never visible); allocate heavily while checking that every counter of
** the own host moves exactly as the own work dictates (object counts of a
** fixed form are deterministic, collections grow by exactly one per gc()).
*/
#include "conf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ctest.h"

#ifndef LISPBT_MODULE_DIR
#define LISPBT_MODULE_DIR "./build"
#endif

#define NTHREADS 2
#define NSYNCS 3 /* sync() calls in 'program' */

static pthread_barrier_t barrier; /* test harness only, not engine state */

typedef struct Thread {
    int id;
    int passed, failed;
    int syncs;
    char err[512];
} Thread;

static int l_sync(lua_State *L) {
    Thread *t = lua_touserdata(L, lua_upvalueindex(1));
    t->syncs++;
    pthread_barrier_wait(&barrier);
    return 0;
}

/* After an error, pass the barriers the program did not reach so the
** other thread never waits forever. */
static void finishsyncs(Thread *t) {
    while (t->syncs < NSYNCS) {
        t->syncs++;
        pthread_barrier_wait(&barrier);
    }
}

static int l_check(lua_State *L) {
    Thread *t = lua_touserdata(L, lua_upvalueindex(1));
    if (lua_toboolean(L, 1)) {
        t->passed++;
    } else {
        t->failed++;
        printf("FAIL thread %d: %s\n", t->id, luaL_optstring(L, 2, "?"));
    }
    return 0;
}

static const char program[] =
    "local id, other, dir = ...\n"
    "package.cpath = dir .. '/?.so'\n"
    "local lispbt = require('lispbt')\n"
    "local h = lispbt.new{ workers = 1 }\n"
    "local d = lispbt.default()\n"
    "-- phase 1: globals, symbols, Lua-side globals of this state\n"
    "h:eval(('(define mine-%d %d) (define shared-name %d)'):format(id, id, id * 100))\n"
    "d:eval(('(define default-%d #t) (define dshared %d)'):format(id, id))\n"
    "h:set('sym', lispbt.symbol('only-' .. id))\n"
    "h:register_builtin('who', function() return id end)\n"
    "THREAD_ID = id\n"
    "sync()\n"
    "-- phase 2: the other thread's definitions are never visible\n"
    "for round = 1, 50 do\n"
    "  check(h:get(('mine-%d'):format(other)) == nil, 'saw the other global')\n"
    "  check(d:get(('default-%d'):format(other)) == nil, 'saw the other default global')\n"
    "  check(h:get('shared-name') == id * 100, 'shared-name changed')\n"
    "  check(d:get('dshared') == id, 'dshared changed')\n"
    "  check(tostring(h:get('sym')) == 'only-' .. id, 'symbol changed')\n"
    "  check(h:eval('(who)') == id, 'builtin changed')\n"
    "  check(THREAD_ID == id, 'Lua global changed')\n"
    "  local ok, err = pcall(h.eval, h, ('mine-%d'):format(other))\n"
    "  check(not ok and err == ('eval:1:1: unbound symbol: mine-%d'):format(other), tostring(err))\n"
    "  -- churn: thousands of objects, a collection now and then\n"
    "  h:eval('(length (let loop ((i 0) (acc nil)) (if (= i 2000) acc (loop (+ i 1) (cons i acc)))))')\n"
    "end\n"
    "sync()\n"
    "-- phase 3: counters move only with this thread's own work\n"
    "local form = '(list 1 2 3 (vec.make 4) \"s\")'\n"
    "h:eval(form)\n"
    "local a = h:heap()\n"
    "h:eval(form)\n"
    "local b = h:heap()\n"
    "local per = b.total_allocated_objects - a.total_allocated_objects\n"
    "check(per > 0, 'form allocated nothing')\n"
    "for round = 1, 300 do\n"
    "  local before = h:heap()\n"
    "  h:eval(form)\n"
    "  local after = h:heap()\n"
    "  check(after.total_allocated_objects - before.total_allocated_objects == per,\n"
    "        'allocation count of a fixed form changed')\n"
    "  if round % 30 == 0 then\n"
    "    local c0 = h:heap().collections\n"
    "    local g = h:gc()\n"
    "    check(g.collections == c0 + 1, 'collections moved by more than one gc()')\n"
    "    check(g.live_objects == g.live_objects_after_last_gc, 'live after gc')\n"
    "  end\n"
    "  if round % 3 == 0 then\n"
    "    d:eval('(length (map (lambda (x) (* x x)) (list 1 2 3 4 5 6 7 8 9 10)))')\n"
    "  end\n"
    "end\n"
    "sync()\n"
    "h:close()\n"
    "check(not pcall(h.eval, h, '1'), 'closed host still evaluates')\n"
    "check(d:eval('(+ dshared 0)') == id, 'default host after close')\n"
    "return true\n";

static void *run(void *ud) {
    Thread *t = ud;
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        snprintf(t->err, sizeof t->err, "cannot create a Lua state");
        t->failed++;
        finishsyncs(t);
        return NULL;
    }
    luaL_openlibs(L);
    lua_pushlightuserdata(L, t);
    lua_pushcclosure(L, l_sync, 1);
    lua_setglobal(L, "sync");
    lua_pushlightuserdata(L, t);
    lua_pushcclosure(L, l_check, 1);
    lua_setglobal(L, "check");
    if (luaL_loadbuffer(L, program, sizeof program - 1, "=threads") != LUA_OK) {
        snprintf(t->err, sizeof t->err, "%s", lua_tostring(L, -1));
        t->failed++;
    } else {
        lua_pushinteger(L, t->id);
        lua_pushinteger(L, NTHREADS + 1 - t->id);
        lua_pushstring(L, getenv("LISPBT_MODULE_DIR") ? getenv("LISPBT_MODULE_DIR")
                                                      : LISPBT_MODULE_DIR);
        if (lua_pcall(L, 3, 1, 0) != LUA_OK) {
            snprintf(t->err, sizeof t->err, "%s", lua_tostring(L, -1));
            t->failed++;
        } else {
            t->passed += lua_toboolean(L, -1);
        }
    }
    finishsyncs(t);
    lua_close(L);
    return NULL;
}

int main(void) {
    pthread_t th[NTHREADS];
    Thread t[NTHREADS];
    int i;
    pthread_barrier_init(&barrier, NULL, NTHREADS);
    for (i = 0; i < NTHREADS; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].id = i + 1;
        if (pthread_create(&th[i], NULL, run, &t[i]) != 0) {
            printf("cannot create thread %d\n", i + 1);
            return 1;
        }
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        if (t[i].err[0]) {
            printf("FAIL thread %d: %s\n", t[i].id, t[i].err);
            nfail++;
        }
        /* each thread counts its own checks (l_check); the totals are the
        ** harness's, so ctest_done() also fails a run where none ran */
        npass += t[i].passed;
        nfail += t[i].failed;
    }
    pthread_barrier_destroy(&barrier);
    return ctest_done();
}
