-- rock_check.lua TREE [helper...] -- prove that `luarocks make --tree TREE`
-- installed a lispbt.so that require()s from TREE alone, and the named Lua
-- helper modules (lispbt.perf, ...) where require() will look for them.
local tree = assert(arg[1], "usage: lua5.4 spec/tools/rock_check.lua TREE [module...]")
package.path = tree .. "/share/lua/5.4/?.lua;" .. tree .. "/share/lua/5.4/?/init.lua"
package.cpath = tree .. "/lib/lua/5.4/?.so"

local so = assert(package.searchpath("lispbt", package.cpath))
local lispbt = require("lispbt")
assert(type(lispbt) == "table", "require('lispbt') returned " .. type(lispbt))
for i = 2, #arg do
    assert(package.searchpath(arg[i], package.path), arg[i] .. " is not installed in " .. tree)
end
print(("rock_check: %s requires from %s (%d helper module(s) installed)"):format("lispbt", so, #arg - 1))
