# fuzz/fuzz.cmake -- the libFuzzer harnesses (included by CMakeLists.txt when
# LISPBT_FUZZ is ON; `make fuzz` configures build-fuzz/ with clang).
#
# Each fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput and becomes
# <build>/fuzz/fuzz_<name>, linked with -fsanitize=fuzzer (libFuzzer's main).
# The list is explicit, like the C tests: the Makefile runs every entry and
# needs fuzz/corpus/<name>/ for each.  The core is built with
# -fsanitize=fuzzer-no-link (coverage only) by the top-level CMakeLists.txt.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "lispbt: LISPBT_FUZZ needs clang (libFuzzer); configure with -DCMAKE_C_COMPILER=clang")
endif()

set(LISPBT_FUZZERS
  fuzz_eval   # reader + evaluator: the input is Lisp source
  fuzz_bt     # the BT DSL compiler, instances, ticks, halt, reset
  fuzz_load   # bt.load-dsl, bt.load, load and read-file of a file holding the input; save round trips
  fuzz_oom    # allocation failure injection: the k-th allocation of a program fails
  fuzz_lua)   # the Lua surface: a byte-coded sequence of API calls (links liblua5.4)

add_custom_target(lispbt_fuzzers)
foreach(name IN LISTS LISPBT_FUZZERS)
  add_executable(${name} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/${name}.c)
  target_link_libraries(${name} PRIVATE lispbt_core)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  add_dependencies(lispbt_fuzzers ${name})
endforeach()

# fuzz_lua embeds Lua: the binding's sources are compiled into it (no
# dlopen of lispbt.so) and it links liblua5.4 like spec/c/test_threads.c.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(LISPBT_FUZZ_LUA QUIET lua5.4)
endif()
if(NOT LISPBT_FUZZ_LUA_FOUND)
  message(FATAL_ERROR "lispbt: fuzz/fuzz_lua.c needs liblua5.4 (Debian: liblua5.4-dev, which .ci/deps installs)")
endif()
target_sources(fuzz_lua PRIVATE ${LISPBT_LUA_SOURCES})
target_include_directories(fuzz_lua PRIVATE ${LISPBT_FUZZ_LUA_INCLUDE_DIRS})
target_link_libraries(fuzz_lua PRIVATE ${LISPBT_FUZZ_LUA_LINK_LIBRARIES})
