-- Allocation failure anywhere gives a clean error and leaves the host usable
-- (SPEC §10).  Uses the test-only lispbt.T table (LISPBT_TESTS builds).
local lispbt = require("lispbt")
-- A build without it fails here rather than leaving the spec pending.
local T = assert(lispbt.T, "spec/oom_spec.lua needs a LISPBT_TESTS build (lispbt.T); `make build` makes one")

local function workload(h)
  h:eval([[
    (define (build n acc) (if (= n 0) acc (build (- n 1) (cons (list n "s" 1.5) acc))))
    (define big (build 200 nil))
    (define m (map.make "a" 1 'b (vec.make 10 0)))
    (map.set! m "c" (write-to-string big))
  ]])
  local tree = h:compile([[(sel (seq (cond bb-has battery) (act bb-put-int x 1)
                                     (act running-then-success 1))
                                (plan-action :state_key pos :action_key step :iters_max 50))]])
  local inst = tree:instance()
  inst:set_trace_enabled(true)
  for i = 1, 5 do inst:tick{ battery = i, pos = 0.0, label = "tick" .. i } end
  h.bt.stats(inst)
  h.bt.trace.dump(inst)
  h.planner.mcts{ state = { 0.0 }, iters_max = 30 }
  h.bt.logs.dump()
  return inst
end

describe("allocation failure", function()
  it("at every point of a workload: clean error, consistent heap, usable host", function()
    -- count the allocations of one clean run to bound the injection points
    local probe = lispbt.new{ workers = 1 }
    local a0 = T.allocs(probe)
    workload(probe)
    local total = T.allocs(probe) - a0
    probe:close()
    assert.is_true(total > 10)
    local step = math.max(1, total // 150) -- about 150 injection points
    local failures = 0
    for n = 1, total, step do
      local h = lispbt.new{ workers = 1 }
      T.allocfail(h, n)
      local ok, err = pcall(workload, h)
      T.allocfail(h, 0)
      if not ok then
        failures = failures + 1
        assert.matches("out of memory", tostring(err), 1, true)
        -- and it names the function that needed the memory
        assert.truthy(tostring(err):match("[%w%._%->]+: out of memory"), err)
        assert.falsy(tostring(err):match("^out of memory") or tostring(err):match(": : out of memory"), err)
      end
      assert.are.equal(0, T.verify(h))
      -- still usable: Lisp, compile, tick
      assert.are.equal(3, h:eval("(+ 1 2)"))
      local inst = h:compile("(seq (act always-success))"):instance()
      assert.are.equal("success", inst:tick())
      h:close()
    end
    assert.is_true(failures > 0, "no injected failure surfaced")
  end)
end)
