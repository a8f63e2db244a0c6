# csrc/planner/sources.cmake -- the planner core's sources (mcts_ and precord_).
# Included by the top-level CMakeLists.txt; rng.c, sbuf.c and mem.c are listed
# there.  C tests: spec/c/test_mcts.c, spec/c/test_precord.c; bench:
# bench/mcts_bench.c (see docs/planner.md).
list(APPEND LISPBT_CORE_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/mcts.c
    ${CMAKE_CURRENT_LIST_DIR}/mcts_models.c
    ${CMAKE_CURRENT_LIST_DIR}/precord.c
 ${CMAKE_CURRENT_LIST_DIR}/lib_planner.c)
