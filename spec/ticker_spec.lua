-- spec/ticker_spec.lua -- inst:ticker(): a function that ticks its instance
-- exactly as inst:tick() does (same statuses, input, Lua leaves and ctx,
-- errors named "tick"), with the instance bound instead of looked up.
package.path = "./spec/?.lua;" .. package.path
local T = require("support.bt_helpers")

local function counters(host)
  local h = host:heap()
  return { c = h.c_heap_allocations, objs = h.total_allocated_objects }
end

describe("inst:ticker()", function()
  local host
  before_each(function()
    host = T.host()
  end)
  after_each(function()
    host:close()
  end)

  it("ticks the same instance as inst:tick(), with the same statuses", function()
    local inst = host:compile("(seq (act always-success) (cond bb-has go))"):instance()
    local tick = inst:ticker()
    assert.are.equal("function", type(tick))
    assert.are.equal("failure", tick())
    assert.are.equal("failure", inst:tick())
    assert.are.equal("success", tick({ go = 1 }))
    assert.are.equal(1, inst:get("go"))
    assert.are.equal("success", tick(nil))
    assert.are.equal(4, inst:stats().tick_count)
    local r = host:compile("(running)"):instance():ticker()
    assert.are.equal("running", r())
  end)

  it("runs Lua leaves with their ctx and node memory, as inst:tick() does", function()
    local seen = {}
    host:register_action("count", function(ctx)
      local m = ctx.memory
      m.n = (m.n or 0) + 1
      seen[#seen + 1] = ctx.tick .. ":" .. m.n .. ":" .. tostring(ctx:get("x"))
      return m.n >= 3 and "success" or "running"
    end)
    local inst = host:compile("(seq (act count) (act count))"):instance()
    local tick = inst:ticker()
    assert.are.equal("running", tick({ x = 7 }))
    assert.are.equal("running", inst:tick())
    assert.are.equal("running", tick())
    assert.are.same({ "1:1:7", "2:2:7", "3:3:7", "3:1:7" }, seen)
  end)

  it("allocates nothing per tick", function()
    host:register_action("lmem", function(ctx)
      local m = ctx.memory
      m.n = (m.n or 0) + 1
      return true
    end)
    local tick = host:compile("(seq (act always-success) (act lmem))"):instance():ticker()
    for _ = 1, 100 do
      tick()
    end
    local before = counters(host)
    for _ = 1, 5000 do
      tick()
    end
    assert.are.same(before, counters(host))
  end)

  it("raises inst:tick()'s errors, named tick", function()
    local tree = host:compile("(act always-success)")
    local inst = tree:instance()
    local tick = inst:ticker()
    assert.are.equal("tick: bad argument #1 (table expected, got number)", T.err(tick, 5))
    assert.are.equal("tick: bad argument #1 (blackboard key must not be empty)", T.err(tick, { [""] = 1 }))
    assert.are.equal("ticker: bad self (lispbt.instance expected, got number)", T.err(inst.ticker, 5))
    assert.are.equal("ticker: bad self (lispbt.instance expected, got lispbt.tree)", T.err(inst.ticker, tree))
    -- re-entered from a leaf of its own tick
    local inner, inner_tick
    host:register_action("again", function()
      inner = T.err(inner_tick)
      return true
    end)
    inner_tick = host:compile("(act again)"):instance():ticker()
    assert.are.equal("success", inner_tick())
    assert.are.equal("tick: the instance is already ticking", inner)
    -- released by <close>, closed host
    do
      local closing <close> = inst
    end
    assert.are.equal("tick: instance is closed", T.err(tick))
    assert.are.equal("ticker: instance is closed", T.err(inst.ticker, inst))
    local t2 = tree:instance():ticker()
    host:close()
    assert.are.equal("tick: host is closed", T.err(t2))
  end)
end)
