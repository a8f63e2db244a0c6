# The Lua bindings: the only files that include lua.h.
list(APPEND LISPBT_LUA_SOURCES lauxbt.c lhostlib.c lbtlib.c lispbt.c)
