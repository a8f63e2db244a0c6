-- spec/bt_alloc_spec.lua -- the zero-allocation proof (SPEC §5.2): a
-- steady-state tick allocates nothing on the C heap or the Lisp heap, with
-- tracing off and with tracing on (ring full), for native leaves and for
-- Lua leaves that do not allocate themselves.
package.path = "./spec/?.lua;" .. package.path
local T = require("support.bt_helpers")

-- A 255-node tree in which every node is ticked on every tick: a seq of
-- 63 four-node groups (rotating sel/invert, mem-seq/retry, par) plus two
-- leaves -- 1 + 63 * 4 + 2 = 255 nodes, all finishing with success or
-- failure, the seq succeeding.
local GROUPS = {
  "(sel (cond always-false) (invert (act always-fail)))",
  "(mem-seq (cond always-true) (retry 0 (act always-success)))",
  "(par 2 (succeed) (act always-success) (fail))",
}
local function bigtree()
  local parts = {}
  for k = 1, 63 do
    parts[#parts + 1] = GROUPS[(k - 1) % 3 + 1]
  end
  parts[#parts + 1] = "(cond always-true)"
  parts[#parts + 1] = "(act always-success)"
  return "(seq " .. table.concat(parts, " ") .. ")"
end

local function counters(host)
  local h = host:heap()
  return { c = h.c_heap_allocations, objs = h.total_allocated_objects, bytes = h.c_heap_bytes }
end

local function run(inst, n)
  for _ = 1, n do
    inst:tick()
  end
end

describe("bt allocation-free ticks", function()
  local host
  before_each(function()
    host = T.host({ trace_capacity = 256 })
  end)
  after_each(function()
    host:close()
  end)

  it("the big tree has 255 nodes and ticks every one of them", function()
    local src = bigtree()
    assert.are.equal(255, T.countnodes(src))
    local inst = host:compile(src):instance()
    assert.are.equal("lispbt.tree (255 nodes)", tostring(host:compile(src)))
    run(inst, 3)
    local s = inst:stats()
    assert.are.equal(255, #s.nodes)
    for _, nd in ipairs(s.nodes) do
      assert.are.equal(3, nd.success + nd.failure, nd.name)
    end
    assert.are.equal("success", inst:tick())
  end)

  it("10,000 ticks with tracing off allocate nothing", function()
    local inst = host:compile(bigtree()):instance()
    run(inst, 100)
    local before = counters(host)
    run(inst, 10000)
    local after = counters(host)
    assert.are.same(before, after)
    assert.are.equal(10100, inst:stats().tick_count)
  end)

  it("10,000 ticks with tracing on (ring full) allocate nothing", function()
    local inst = host:compile(bigtree()):instance()
    inst:set_trace_enabled(true)
    run(inst, 100)
    assert.are.equal(256, #inst:trace())
    local before = counters(host)
    run(inst, 10000)
    local after = counters(host)
    assert.are.same(before, after)
  end)

  it("read tracing and 'counters profiling allocate nothing either", function()
    local inst = host:compile("(seq (cond bb-has k) (act bb-put-int n 3) (act bb-put-float x 0.5) (cond goal-reached-1d x 0.5 0.1))")
      :instance()
    inst:put("k", 1)
    inst:set_trace_enabled(true)
    inst:set_read_trace_enabled(true)
    run(inst, 100)
    local before = counters(host)
    run(inst, 5000)
    assert.are.same(before, counters(host))
    inst:set_profile_level("counters") -- the call itself may allocate (argument conversion)
    run(inst, 100)
    before = counters(host)
    run(inst, 5000)
    assert.are.same(before, counters(host))
    assert.are.equal("success", inst:tick())
  end)

  it("Lua leaves that do not allocate keep ticks allocation-free (engine and Lua heap)", function()
    host:register_condition("lc", function()
      return true
    end)
    host:register_action("la", function(ctx, a, b)
      return a == 1 and b == 2.5 and "success" or "failure"
    end)
    host:register_action("lmem", function(ctx)
      local m = ctx.memory
      m.n = (m.n or 0) + 1
      return true
    end)
    local inst = host:compile("(seq (cond lc) (act la 1 2.5) (act lmem) (sel (act always-fail) (act la 1 2.5)))"):instance()
    run(inst, 100)
    assert.are.equal("success", inst:tick())
    collectgarbage("collect")
    collectgarbage("stop")
    local before = counters(host)
    local lua0 = collectgarbage("count")
    run(inst, 10000)
    local lua1 = collectgarbage("count")
    local after = counters(host)
    collectgarbage("restart")
    assert.are.same(before, after)
    -- no Lua allocation per tick either (a few bytes of slack, not per tick)
    assert.is_true(lua1 - lua0 < 1, ("Lua heap grew by %.2f KiB"):format(lua1 - lua0))
    assert.are.equal(0, inst:stats().errors)
  end)

  it("Lisp-procedure leaves that do not allocate keep ticks allocation-free", function()
    host:eval([[
      (bt.register-condition 'lc (lambda (inst) #t))
      (bt.register-action 'la (lambda (inst x) (if (= x 1) 'success 'failure)))
      (bt.register-action 'lr (lambda (inst) 'running) (lambda (inst) #t))]])
    local inst = host:compile("(par 2 (cond lc) (act la 1) (act lr))"):instance()
    run(inst, 100)
    assert.are.equal("success", inst:tick())
    local before = counters(host)
    run(inst, 10000)
    assert.are.same(before, counters(host))
    assert.are.equal(0, inst:stats().errors)
  end)

  it("Lua leaves with tracing on stay allocation-free", function()
    host:register_action("la", function()
      return "running"
    end)
    local inst = host:compile("(par 1 (act la) (act la))"):instance()
    inst:set_trace_enabled(true)
    run(inst, 100)
    local before = counters(host)
    run(inst, 10000)
    assert.are.same(before, counters(host))
  end)

  it("async-seq, reactive-seq and reactive-sel (preempting and halting) allocate nothing", function()
    local flip = false
    host:register_condition("flip", function()
      flip = not flip
      return flip
    end)
    host:register_action("work", function()
      return "running"
    end, function() end)
    -- every tick the guard flips: reactive-seq fails and halts its async-seq,
    -- or runs it; reactive-sel alternates between its higher and lower child
    local src = "(par 2 (reactive-seq (cond flip) (async-seq (succeed) (act work))) " ..
                "(reactive-sel (seq (cond flip) (act work)) (async-seq (act running-then-success 1) (succeed))) " ..
                "(async-seq (cond always-true) (act always-success)))"
    for _, mode in ipairs({ "timing", "counters" }) do
      for _, trace in ipairs({ false, true }) do
        local inst = host:compile(src):instance()
        inst:set_profile_level(mode)
        inst:set_trace_enabled(trace)
        run(inst, 100)
        local before = counters(host)
        run(inst, 10000)
        assert.are.same(before, counters(host), mode .. (trace and " traced" or ""))
        assert.are.equal(0, inst:stats().errors)
      end
    end
  end)

  it("preemption and halts in the steady state allocate nothing", function()
    local flip = false
    host:register_condition("flip", function()
      flip = not flip
      return flip
    end)
    host:register_action("work", function()
      return "running"
    end, function() end)
    local inst = host:compile("(sel (seq (cond flip) (act work)) (act running-then-success 1))"):instance()
    run(inst, 100)
    local before = counters(host)
    run(inst, 10000)
    assert.are.same(before, counters(host))
  end)
end)
