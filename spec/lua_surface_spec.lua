-- spec/lua_surface_spec.lua -- the one Lua surface of the one builtin table
-- (issue #12, docs/reference/lua.md "Mirrored runtime builtins"): every
-- entry of the table, read from the build itself (T.builtins), is reachable
-- from Lua under its derived name, reaches that very builtin, and converts
-- its result by the documented Lua convention, whichever spelling is used.
local lispbt = require("lispbt")
local T = lispbt.T

-- The documented rule: runtime builtins only; names holding ?, ! or > stay
-- Lisp-only; split at '.', '-' becomes '_'.
local function derive(b)
  if not b.runtime or b.name:find("[?!>]") then
    return nil
  end
  return (b.name:gsub("%-", "_"))
end

local function lookup(root, dotted)
  local v = root
  for part in dotted:gmatch("[^.]+") do
    if v == nil or (type(v) ~= "table" and type(v) ~= "userdata") then
      return nil
    end
    v = v[part]
  end
  return v
end

local function err(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(e)
end

-- Arguments that fail the builtin's arity check, or nil when every count
-- of arguments is accepted.
local function badargs(b)
  if b.max >= 0 then
    return b.max + 1
  elseif b.min > 0 then
    return 0
  end
  return nil
end

describe("the Lua surface", function()
  local host, builtins
  setup(function()
    builtins = T.builtins()
  end)
  before_each(function()
    host = lispbt.new({ workers = 1 })
  end)
  after_each(function()
    host:close()
  end)

  it("T.builtins is the whole table, and every Lua name follows the rule", function()
    assert.is_true(#builtins > 100)
    local seen, nlua = {}, 0
    for _, b in ipairs(builtins) do
      assert.is_nil(seen[b.name], "duplicate builtin " .. b.name)
      seen[b.name] = true
      assert.are.equal(derive(b), b.lua, b.name)
      if b.lua then
        nlua = nlua + 1
      end
    end
    assert.is_true(nlua >= 40, "runtime builtins mirrored: " .. nlua)
  end)

  it("every builtin is bound in Lisp to itself", function()
    for _, b in ipairs(builtins) do
      assert.are.equal("<primitive:" .. b.name .. ">", tostring(host:get(b.name)), b.name)
    end
  end)

  it("every mirrored builtin is a function on every host and on the module, and reaches that builtin",
    function()
      for _, b in ipairs(builtins) do
        if b.lua then
          for _, root in ipairs({ host, lispbt }) do
            local f = lookup(root, b.lua)
            assert.are.equal("function", type(f), b.lua)
            local n = badargs(b)
            if n then
              local args = {}
              for i = 1, n do
                args[i] = false
              end
              local e = err(f, table.unpack(args, 1, n))
              assert.are.equal(b.name .. ": expected", e:sub(1, #b.name + 10), b.lua .. ": " .. e)
            end
          end
        end
      end
    end)

  it("Lisp-only builtins have no Lua name, under any spelling", function()
    for _, b in ipairs(builtins) do
      if not b.lua then
        local naive = (b.name:gsub("%-", "_"))
        local methods = { eval = true, load = true, call = true, get = true, set = true, gc = true, heap = true }
        local ok, v = pcall(lookup, host, naive)
        assert.is_true(not ok or v == nil or methods[naive] == true, b.name)
        assert.are.equal("<primitive:" .. b.name .. ">", tostring(host:get(b.name))) -- host:call reaches it
      end
    end
  end)

  it("a BT status is a string on every Lua spelling", function()
    local inst = host:compile("(running)"):instance()
    local lispsym = lispbt.symbol("running")
    assert.are.equal("running", inst:tick())
    assert.are.equal("running", host.bt.tick(inst))
    assert.are.equal("running", lispbt.bt.tick(inst))
    assert.are.equal(lispsym, host:call("bt.tick", inst)) -- a Lisp call returns the Lisp symbol
  end)

  it("method aliases are the builtins they name", function()
    local inst = host:compile("(seq (act bb-put-int k 2) (running))"):instance()
    inst:tick()
    assert.are.equal("bt.set-tick-budget-ms: expected 2 arguments, got 1",
      err(inst.set_tick_budget_ms, inst):match("^(bt%.set%-tick%-budget%-ms: .*)$"))
    assert.is_nil(inst:reset())
    assert.are.equal("table", type(host:logs()))
    assert.are.equal("table", type(host:planner_records()))
  end)
end)
