# csrc/lua/ -- the Lua binding: the only files that include lua.h.
list(APPEND LISPBT_LUA_SOURCES lua_aux.c lua_surface.c lua_host.c lua_bt.c lua_init.c)
