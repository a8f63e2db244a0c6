-- LuaRocks build of lispbt.so through the project's CMakeLists.txt.
--   luarocks --lua-version=5.4 make rockspec/lispbt-scm-1.rockspec [--tree DIR]
-- run from the top of the source tree (`luarocks make` builds the current
-- directory and never fetches source.url).  See docs/building.md.
rockspec_format = "3.0"
package = "lispbt"
version = "scm-1"

source = {
   url = "git+file://.",
}

description = {
   summary = "Lisp behaviour-tree engine with a worker scheduler and MCTS planner, as a Lua 5.4 module",
   detailed = [[
      lispbt embeds a small Lisp with a behaviour-tree engine, a worker-thread
      scheduler and a bounded-time MCTS planner in one C module, and makes every
      runtime counter readable from both Lisp and Lua.
   ]],
   license = "MIT",  -- keep in step with LICENSE
   labels = { "behaviour-tree", "lisp", "ai" },
}

dependencies = {
   "lua >= 5.4, < 5.5",
}

build = {
   type = "cmake",
   -- LuaRocks' cmake back-end passes only these variables (plus the
   -- CMAKE_*_PATH environment); it sets no prefix, libdir or include dir itself.
   variables = {
      CMAKE_BUILD_TYPE = "Release",
      CMAKE_INSTALL_PREFIX = "$(PREFIX)",
      LIBDIR = "$(LIBDIR)",
      LUADIR = "$(LUADIR)",
      LUA_INCDIR = "$(LUA_INCDIR)",
   },
   -- the command line of lua/lispbt/report.lua (docs/report.md); LuaRocks
   -- wraps it so that it runs with this tree's Lua 5.4 and modules.
   install = {
      bin = { ["lispbt-report"] = "bin/lispbt-report" },
   },
}

test = {
   -- type "busted" would try to install busted from the network.
   type = "command",
   command = "busted",
}
