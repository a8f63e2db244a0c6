# spec/c/threads.cmake -- give spec/c/test_threads.c its Lua.
#
# Included from CMakeLists.txt after the loop over LISPBT_C_TESTS (inside
# `if(LISPBT_TESTS)`), which names test_threads and made it an executable and
# a ctest linked against the core only; this file links it with liblua5.4 (the test
# program only -- never the module), tells it where lispbt.so is, and builds
# it after the module.
#
# Both are hard requirements of a test build: without them the test could
# only pass vacuously, so configuring fails instead, naming what is missing.
# liblua5.4-dev (headers, liblua5.4.so, lua5.4.pc) is installed by .ci/deps.
if(NOT TARGET lispbt)
  message(FATAL_ERROR "lispbt: spec/c/test_threads.c needs the lispbt module, which has no "
                      "Lua binding sources (csrc/lua/sources.cmake); configure without "
                      "-DLISPBT_TESTS=ON to build the core alone")
endif()

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(LISPBT_LIBLUA QUIET lua5.4)
endif()
if(LISPBT_LIBLUA_FOUND)
  set(LISPBT_LIBLUA_INCS ${LISPBT_LIBLUA_INCLUDE_DIRS})
  set(LISPBT_LIBLUA_LIBS ${LISPBT_LIBLUA_LINK_LIBRARIES})
else()
  # No pkg-config: the library next to the headers the module uses.
  find_library(LISPBT_LIBLUA_LIB NAMES lua5.4 lua54)
  if(NOT LISPBT_LIBLUA_LIB OR NOT LUA_INCDIR)
    message(FATAL_ERROR "lispbt: spec/c/test_threads.c needs liblua5.4 (Debian: liblua5.4-dev, "
                        "which .ci/deps installs); configure without -DLISPBT_TESTS=ON to skip "
                        "the C tests")
  endif()
  set(LISPBT_LIBLUA_INCS ${LUA_INCDIR})
  set(LISPBT_LIBLUA_LIBS ${LISPBT_LIBLUA_LIB} m dl)
endif()

target_compile_definitions(test_threads PRIVATE "LISPBT_MODULE_DIR=\"$<TARGET_FILE_DIR:lispbt>\"")
target_include_directories(test_threads PRIVATE ${LISPBT_LIBLUA_INCS})
target_link_libraries(test_threads PRIVATE ${LISPBT_LIBLUA_LIBS} Threads::Threads)
add_dependencies(test_threads lispbt)
message(STATUS "lispbt: test_threads links ${LISPBT_LIBLUA_LIBS}")
