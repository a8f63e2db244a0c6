/*
** lua_init.c -- luaopen_lispbt: the module table.  See LICENSE for copyright.
**
** The module holds lispbt.new, lispbt.default, lispbt.symbol, the host
** methods in module form and the mirrored runtime builtins, all acting on
** the default host, which is created on first use and kept in the Lua
** registry (never in a C static).  This is the only exported symbol.
** It opens the binding's files in order (lua_aux.h): the surface, values,
** hosts, the BT part, then the module's mirror of the builtin table; a
** builtin a file names that the table lacks fails here, at require.
*/
#include "conf.h"

#include <errno.h>
#include <time.h>

#include "lua_aux.h"

LISPBT_EXPORT int luaopen_lispbt(lua_State *L);

/* lispbt.clock_ns() -> monotonic nanoseconds (integer), for harnesses. */
static int l_clock_ns(lua_State *L) {
    lua_pushinteger(L, lispbt_now_ns());
    return 1;
}

/* lispbt.sleep_ms(ms): sleep without spawning a process (cadence drivers). */
static int l_sleep_ms(lua_State *L) {
    int isnum;
    lua_Number ms = lua_tonumberx(L, 1, &isnum);
    struct timespec ts;
    if (!isnum) {
        return lx_error(L, "sleep_ms", "bad argument #1 (number expected, got %s)", lx_typename(L, 1));
    }
    if (!(ms >= 0 && ms <= 86400000.0)) { /* NaN too */
        return lx_error(L, "sleep_ms", "bad argument #1 (milliseconds must be in 0..86400000)");
    }
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)((ms - (lua_Number)ts.tv_sec * 1000) * 1e6);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    return 0;
}

int luaopen_lispbt(lua_State *L) {
    lua_newtable(L);
    lx_opensurface(L);
    lx_openvalue(L);
    lx_openhost(L);
    lx_openbt(L);
    lx_mirror(L, -1, 0); /* after every lx_setconv */
    lua_pushliteral(L, "0.1.0");
    lua_setfield(L, -2, "_VERSION");
#if defined(LISPBT_TESTS)
    lx_opentest(L);
#endif
    lua_pushcfunction(L, l_clock_ns);
    lua_setfield(L, -2, "clock_ns");
    lua_pushcfunction(L, l_sleep_ms);
    lua_setfield(L, -2, "sleep_ms");
    return 1;
}
