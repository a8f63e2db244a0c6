/*
** lispbt.c -- luaopen_lispbt: the module table.  See LICENSE for copyright.
**
** The module holds lispbt.new, lispbt.default, lispbt.symbol, the host
** methods in module form and the mirrored runtime builtins, all acting on
** the default host, which is created on first use and kept in the Lua
** registry (never in a C static).  This is the only exported symbol.
*/
#include "conf.h"

#include "lauxbt.h"

LISPBT_EXPORT int luaopen_lispbt(lua_State *L);

int luaopen_lispbt(lua_State *L) {
    lua_newtable(L);
    lx_openvalue(L);
    lx_openhost(L);
    lua_pushliteral(L, "0.1.0");
    lua_setfield(L, -2, "_VERSION");
    return 1;
}
