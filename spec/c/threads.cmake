# spec/c/threads.cmake -- give spec/c/test_threads.c its Lua.
#
# Include from CMakeLists.txt AFTER the `spec/c/test_*.c` loop (inside
# `if(LISPBT_TESTS)`):   include(${CMAKE_CURRENT_SOURCE_DIR}/spec/c/threads.cmake)
#
# The loop already made test_threads an executable + ctest linked against the
# core only; without this file (or without liblua5.4) it builds as a stub that
# prints "0 passed, 0 failed".  With liblua5.4 found by pkg-config, the test
# links liblua (the test executable only -- never the module), learns where
# lispbt.so is, and is built after the module.
if(TARGET test_threads AND TARGET lispbt)
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(LISPBT_LIBLUA QUIET lua5.4)
  endif()
  if(LISPBT_LIBLUA_FOUND)
    target_compile_definitions(test_threads PRIVATE
      LISPBT_HAVE_LUA "LISPBT_MODULE_DIR=\"$<TARGET_FILE_DIR:lispbt>\"")
    target_include_directories(test_threads PRIVATE ${LISPBT_LIBLUA_INCLUDE_DIRS})
    target_link_libraries(test_threads PRIVATE ${LISPBT_LIBLUA_LINK_LIBRARIES} Threads::Threads)
    add_dependencies(test_threads lispbt)
    message(STATUS "lispbt: test_threads links ${LISPBT_LIBLUA_LINK_LIBRARIES}")
  else()
    message(STATUS "lispbt: liblua5.4 not found; test_threads is a stub")
  endif()
endif()
