# csrc/host/ -- one host assembles the layers below; the builtin table.
list(APPEND LISPBT_CORE_SOURCES host.c host_builtins.c)
