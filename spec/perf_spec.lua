-- lispbt.perf: cadence driver, summary, report and luassert assertions.
--
-- No assertion here depends on how fast the machine is: times are checked
-- only from below (a run that sleeps between ticks lasts at least its
-- periods), and overrun checks use a budget no stall reaches.
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
local lispbt = require("lispbt")
local perf = require("lispbt.perf")

perf.register(assert)

local function errof(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  return tostring(err)
end

describe("lispbt.perf", function()
  local host, inst
  before_each(function()
    host = lispbt.new{ workers = 1 }
    inst = host:compile("(seq (cond always-true) (act running-then-success 2))"):instance()
  end)
  after_each(function() host:close() end)

  describe("run", function()
    it("ticks exactly 'ticks' times and counts statuses", function()
      local s = perf.run(inst, { ticks = 30, host = host })
      assert.are.equal(30, s.ticks)
      -- running-then-success 2: running, running, success, repeated
      assert.are.equal(10, s.success)
      assert.are.equal(20, s.running)
      assert.are.equal(0, s.failure)
      assert.are.equal(30, inst:stats().tick_count)
      -- the summary's overruns are the engine's counter (0 unless the OS
      -- stalled a tick past the 20 ms default budget)
      assert.are.equal(inst:stats().tick_overrun_count, s.overruns)
      assert.are.equal(0, s.c_heap_allocations)
      assert.are.equal(0, s.lisp_objects_allocated)
      assert.is_true(s.tick_p99_ns > 0 and s.tick_p50_ns <= s.tick_p99_ns)
    end)

    it("keeps a cadence: 20 ticks at 200 Hz take at least 95 ms", function()
      -- a lower bound: the 19 periods are slept, and load only adds to them
      local s = perf.run(inst, { ticks = 20, hz = 200 })
      assert.are.equal(20, s.ticks)
      assert.is_true(s.elapsed_ns >= 95e6, "elapsed " .. s.elapsed_ns)
      assert.is_true(s.missed_slots >= 0)
    end)

    it("stops after 'seconds'", function()
      -- it ends only once the time is up, and a 100 Hz cadence fits at most
      -- 6 ticks in 50 ms (a loaded machine fits fewer, possibly none)
      local s = perf.run(inst, { seconds = 0.05, hz = 100 })
      assert.is_true(s.elapsed_ns >= 50e6, "elapsed " .. s.elapsed_ns)
      assert.is_true(s.ticks <= 7, "ticks " .. s.ticks)
      assert.are.equal(s.ticks, inst:stats().tick_count)
    end)

    it("passes input tables or functions to tick", function()
      perf.run(inst, { ticks = 3, input = function(i) return { step = i } end })
      assert.are.equal(3, inst:get("step"))
      perf.run(inst, { ticks = 1, input = { mode = "fast" } })
      assert.are.equal("fast", inst:get("mode"))
    end)

    it("calls on_tick with the index and status", function()
      local seen = {}
      perf.run(inst, { ticks = 3, on_tick = function(i, st) seen[#seen + 1] = i .. st end })
      assert.are.same({ "1running", "2running", "3success" }, seen)
    end)

    it("rejects bad arguments with the function named", function()
      assert.matches("run: bad argument #1 %(lispbt.instance expected", errof(perf.run, 5, {}))
      assert.matches("run: bad argument #2 %(give ticks or seconds%)", errof(perf.run, inst, {}))
      assert.matches("ticks must be a non%-negative integer", errof(perf.run, inst, { ticks = 1.5 }))
      assert.matches("hz must be a non%-negative number", errof(perf.run, inst, { ticks = 1, hz = -1 }))
      assert.matches("seconds must be a non%-negative number",
        errof(perf.run, inst, { seconds = "x" }))
      -- the instance is still usable
      assert.are.equal("running", inst:tick())
    end)
  end)

  describe("report", function()
    it("renders the run, percentiles, the histogram and the slowest nodes", function()
      local s = perf.run(inst, { ticks = 50, host = host })
      local text = perf.report(inst, s)
      assert.matches("== lispbt perf report ==", text, 1, true)
      assert.matches("run: 50 ticks", text, 1, true)
      assert.matches("allocation: 0 C%-heap allocations, 0 Lisp objects", text)
      assert.matches("ticks: count=50 overruns=%d+ errors=0 budget=20 ms", text)
      assert.matches("tick time: p50=", text, 1, true)
      assert.matches("|#", text, 1, true) -- histogram bars
      assert.matches("act running%-then%-success", text)
    end)

    it("draws the tree with its hot nodes as * bars", function()
      local t = host:compile("(sel (seq (cond always-true) (act always-fail)) (act always-success))")
      local i = t:instance()
      i:set_profile_level("counters") -- shares by visits: exact figures
      for _ = 1, 4 do i:tick() end
      local text = perf.tree(i)
      local lines = {}
      for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.are.equal(6, #lines, text) -- a heading and one line per node, in preorder
      assert.matches("^tree: share of visits, one %* = 5%%", lines[1])
      assert.matches("^sel +100%.0%% %*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%* ", lines[2])
      assert.matches("^|%- seq +100%.0%% %*+ .*fail=100%% run=  0%%", lines[3])
      assert.matches("^|  |%- cond always%-true +100%.0%%", lines[4])
      assert.matches("^|  `%- act always%-fail +100%.0%% %*+ .*fail=100%%", lines[5])
      assert.matches("^`%- act always%-success +100%.0%% .*fail=  0%%", lines[6])
      assert.matches("tree: share of", perf.report(i), 1, true)
      -- a node that never ran
      local j = host:compile("(sel (act always-success) (act always-fail))"):instance()
      j:tick()
      assert.matches("act always%-fail +0%.0%% +%(never ticked%)", perf.tree(j))
      assert.matches("tree: bad argument #1", errof(perf.tree, 5))
    end)

    it("omits node timing at profile level counters", function()
      inst:set_profile_level("counters")
      perf.run(inst, { ticks = 5 })
      assert.is_nil(perf.report(inst):find("slowest nodes", 1, true))
    end)
  end)

  describe("assertions", function()
    it("no_overruns passes and fails on the overrun counter", function()
      inst:set_tick_budget_ms(60000) -- no stall of the OS reaches a minute
      perf.run(inst, { ticks = 5 })
      assert.no_overruns(inst)
      host:register_action("slow", function() -- 3 ms of wall-clock time: over a 1 ms budget
        local t = lispbt.clock_ns()
        while lispbt.clock_ns() - t < 3e6 do end
        return true
      end)
      local slow = host:compile("(act slow)"):instance()
      slow:set_tick_budget_ms(1)
      slow:tick()
      local ok, err = pcall(function() assert.no_overruns(slow) end)
      assert.is_false(ok)
      assert.matches("overruns, got %(number%) 1\n%(string%) 'tree: share of", tostring(err)) -- the tree, for the log
      assert.matches("act slow +100%.0%%", tostring(err))
      assert.is_not.no_overruns(slow)
    end)

    it("tick_p99_below compares the engine's p99 in milliseconds", function()
      perf.run(inst, { ticks = 100 })
      assert.tick_p99_below(inst, 60000)
      local ok, err = pcall(function() assert.tick_p99_below(inst, 0) end)
      assert.is_false(ok)
      assert.matches("Expected tick p99 below %(number%) 0 ms, got %(number%) [%d.e-]+ ms\n%(string%) 'tree: share of",
        tostring(err))
    end)

    it("allocation_free_ticks holds for native leaves and fails when a leaf allocates", function()
      assert.allocation_free_ticks(inst, host, 200)
      host:eval("(bt.register-action 'alloc (lambda (i) (list 1 2 3) #t))")
      local a = host:compile("(act alloc)"):instance()
      local ok, err = pcall(function() assert.allocation_free_ticks(a, host, 10) end)
      assert.is_false(ok)
      assert.matches("Lisp objects", tostring(err))
    end)
  end)
end)
