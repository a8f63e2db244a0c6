# csrc/bt/ -- the behaviour-tree engine: leaf registry, DSL compiler, tick
# executor, blackboard, trace ring, built-in leaves, the bt.* builtins.
list(APPEND LISPBT_CORE_SOURCES bt_reg.c bt_compile.c bt_exec.c bt_bb.c bt_trace.c bt_leaves.c bt_lib.c)
