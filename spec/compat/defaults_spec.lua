-- spec/compat/defaults_spec.lua -- every runtime default of a fresh host
-- that docs/compat.md ("Defaults") lists, asserted as lispbt documents it,
-- so that the table cannot drift from the code.  Where a row keeps our
-- default against muesli-bt's, the spec asserts ours; where it matches the
-- reference, it asserts the reference's value.
local lispbt = require("lispbt")

local function fresh(opts)
  return lispbt.new(opts)
end

local function instance(h, dsl)
  return h:eval("(bt.new-instance (bt.compile '" .. dsl .. "))")
end

describe("compat: defaults of a fresh host", function()
  it("starts with the event stream off (kept: see docs/compat.md#defaults)", function()
    local h <close> = fresh()
    local inst = instance(h, "(act always-success)")
    inst:tick()
    assert.is_nil(h:eval("(events.dump)"))
  end)

  it("writes run_start with tick_hz 50 and no tick audit, as the reference", function()
    local h <close> = fresh()
    h:eval("(events.enable #t)")
    local inst = instance(h, "(act always-success)")
    inst:tick()
    h:eval("(events.enable #f)")
    local lines = h:eval("(events.dump)")
    local first = h:call("car", lines)
    assert.truthy(first:find('"type":"run_start"', 1, true))
    assert.truthy(first:find('"tick_hz":50', 1, true))
    -- tick audit is off: no tick_audit line follows the tick
    local all = h:eval("(apply string-append (events.dump))")
    assert.truthy(all:find('"type":"tick_end"', 1, true))
    assert.falsy(all:find('"type":"tick_audit"', 1, true))
  end)

  it("has BT tracing and read tracing off, the profile level timing and a 20 ms budget", function()
    local h <close> = fresh()
    local inst = instance(h, "(seq (act bb-put-int k 2) (cond bb-has k))")
    inst:tick()
    local s = inst:stats()
    assert.are.equal(false, s.trace_enabled)
    assert.are.equal("timing", s.profile_level)
    assert.are.equal(20, s.tick_budget_ms)
    assert.are.same({}, inst:trace())
    -- tracing on: no bb_read events until read tracing is enabled too
    inst:set_trace_enabled(true)
    inst:tick()
    local reads = 0
    for _, e in ipairs(inst:trace()) do
      if e.kind == "bb_read" then reads = reads + 1 end
    end
    assert.are.equal(0, reads)
    local text = h:eval("(bt.stats (bt.new-instance (bt.compile '(succeed))))")
    assert.truthy(text:find("tick_budget_ms=20\n", 1, true))
    assert.truthy(text:find("profile_level=timing\n", 1, true))
    assert.truthy(text:find("trace_enabled=0\n", 1, true))
  end)

  it("keeps 4096 trace events per instance, as the reference", function()
    local h <close> = fresh()
    local inst = instance(h, "(act always-success)")
    inst:set_trace_enabled(true)
    for _ = 1, 2000 do inst:tick() end -- 4 events a tick
    assert.are.equal(4096, #inst:trace())
  end)

  it("keeps 4096 log records, as the reference", function()
    local h <close> = fresh()
    h:register_action("defaults-boom", function() error("boom") end)
    local inst = instance(h, "(act defaults-boom)")
    for _ = 1, 4200 do inst:tick() end
    assert.are.equal(4096, #h:logs())
  end)

  it("has GC policy :default, print style muesli and a 1 MiB print limit", function()
    local h <close> = fresh()
    assert.are.equal(":default", tostring(h:eval("(write-to-string (gc.policy))")))
    assert.are.equal("muesli", tostring(h:eval("(print-style)")))
    assert.are.equal(1048576, h:eval("(print-limit)"))
  end)

  it("starts one scheduler worker per online CPU, as the reference", function()
    local h <close> = fresh()
    local p = assert(io.popen("getconf _NPROCESSORS_ONLN"))
    local ncpu = math.tointeger(tonumber(p:read("l")))
    p:close()
    assert.are.equal(math.min(math.max(ncpu, 1), 256), h:scheduler_stats().workers)
  end)

  it("starts without the reference's demo callbacks (opt-in)", function()
    local h <close> = fresh()
    local ok, err = pcall(h.eval, h, "(bt.compile '(cond battery-ok))")
    if ok then
      -- compiling may accept an unknown leaf name; ticking must then fail
      local inst = instance(h, "(cond battery-ok)")
      assert.are.equal("failure", inst:tick())
    else
      assert.truthy(tostring(err):find("battery-ok", 1, true))
    end
  end)
end)
