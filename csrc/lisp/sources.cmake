# The Lisp core (Lua-free).
list(APPEND LISPBT_CORE_SOURCES
  lisp_obj.c lisp_sym.c lisp_gc.c lisp_read.c lisp_print.c lisp_compile.c lisp_eval.c
  lisp_state.c lib_list.c lib_num.c lib_str.c lib_coll.c lib_sys.c)
