# The behaviour-tree engine (Lua-free).
list(APPEND LISPBT_CORE_SOURCES bt_reg.c bt_compile.c bt_exec.c bt_bb.c bt_leaves.c lib_bt.c)
