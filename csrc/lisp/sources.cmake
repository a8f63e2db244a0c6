# csrc/lisp/ -- the language: values, collector, reader, printer, compiler,
# evaluator, and the general builtins (lisp_lib_*.c).
list(APPEND LISPBT_CORE_SOURCES
  lisp_obj.c lisp_sym.c lisp_gc.c lisp_read.c lisp_print.c lisp_compile.c lisp_eval.c
  lisp_state.c lisp_lib_list.c lisp_lib_num.c lisp_lib_str.c lisp_lib_coll.c lisp_lib_sys.c lisp_lib_json.c)
