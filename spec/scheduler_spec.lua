-- spec/scheduler_spec.lua -- the per-host scheduler seen from Lua and Lisp
-- (SPEC §2, §5.4, §5.6, §6, §8): the async-sleep-ms leaf, cancellation by
-- halt, preemption, reset and collection, trace events and log records,
-- bt.scheduler.stats text and host:scheduler_stats() table, host close with
-- queued jobs.  The #stress test (many submits, cancels and host closes) is
-- what `make tsan` / `make sanitize` run against the scheduler.
local lispbt = require("lispbt")

-- No spec here asserts on elapsed time or on how fast a thread runs: CI runs
-- them on two shared cores under sanitizers, beside other jobs.  A spec that
-- needs something to happen waits for it with wait_until (generous bounds,
-- in seconds); a job that must still be running when the spec acts on it
-- sleeps for an hour (FOREVER), so that it can only end early if a cancel
-- wakes it.  Latency figures (how fast a cancel wakes a sleeper, how long a
-- close takes) are measured by bench/sched_bench.c, never asserted here.
local FOREVER = 3600000 -- ms: no spec lives this long

-- Monotonic milliseconds, for loop bounds only.
local function now()
  return lispbt.clock_ns() / 1e6
end

-- Poll until pred() holds or 'seconds' (default 10) pass; returns pred()'s
-- last value.  Sleeps between polls, so the workers get the CPU.
local function wait_until(pred, seconds)
  local t0 = now()
  repeat
    local v = pred()
    if v then return v end
    lispbt.sleep_ms(1)
  until now() - t0 > (seconds or 10) * 1000
  return pred()
end

-- Wait until every job is terminal and the books balance (the counters are
-- exact then; a job being popped is briefly neither queued nor running).
local function settle(host)
  return wait_until(function()
    local s = host:scheduler_stats()
    return s.queued == 0 and s.running == 0
      and s.submitted == s.completed + s.failed + s.cancelled and s
  end)
end

local FIRST = {
  "submitted", "started", "completed", "failed", "cancelled", "queue_delay_last_ns",
  "run_time_last_ns",
}

-- Parse the text of bt.scheduler.stats into an ordered key list and a map.
local function parse_stats(text)
  local keys, map = {}, {}
  for line in text:gmatch("([^\n]*)\n") do
    local k, v = line:match("^([%w_]+)=(%d+)$")
    assert.is_not_nil(k, "bad stats line: " .. line)
    keys[#keys + 1] = k
    map[k] = math.tointeger(tonumber(v))
  end
  return keys, map
end

local function kinds(inst, prefix)
  local out = {}
  for _, e in ipairs(inst:trace()) do
    if e.kind:sub(1, #prefix) == prefix then out[#out + 1] = e end
  end
  return out
end

describe("scheduler", function()
  describe("async-sleep-ms", function()
    it("returns running, then success; stats count one completed job", function()
      local host <close> = lispbt.new { workers = 2 }
      local inst = host:compile("(seq (act async-sleep-ms 20) (act always-success))"):instance()
      local seen = { inst:tick() } -- submits: running
      wait_until(function()
        seen[#seen + 1] = inst:tick()
        return seen[#seen] ~= "running"
      end)
      assert.is_true(#seen >= 2, "expected running ticks first")
      for i = 1, #seen - 1 do assert.are.equal("running", seen[i]) end
      assert.are.equal("success", seen[#seen])

      local _, s = parse_stats(host.bt.scheduler.stats())
      assert.are.equal(1, s.submitted)
      assert.are.equal(1, s.started)
      assert.are.equal(1, s.completed)
      assert.are.equal(0, s.failed)
      assert.are.equal(0, s.cancelled)
      -- a sleep is a wait (sched_submit_wait): it never queues, and it ends at
      -- its deadline, 20 ms after the submit
      assert.are.equal(0, s.queue_delay_last_ns)
      assert.are.equal(20e6, s.run_time_last_ns)
      -- the leaf restarts on the next activation
      assert.are.equal("running", inst:tick())
      assert.are.equal(2, host:scheduler_stats().submitted)
    end)

    it("works from a Lisp-driven instance too", function()
      local host <close> = lispbt.new { workers = 1 }
      host:eval("(define i (bt.new-instance (bt (act async-sleep-ms 1))))")
      assert.are.equal("running", tostring(host:eval("(bt.status->symbol (bt.tick i))")))
      local st = wait_until(function()
        local r = tostring(host:eval("(bt.status->symbol (bt.tick i))"))
        return r ~= "running" and r
      end)
      assert.are.equal("success", st)
      assert.are.equal(host.bt.scheduler.stats(), host:eval("(bt.scheduler.stats)"))
    end)

    it("rejects bad arguments when the tree compiles, naming MS and its range", function()
      local host <close> = lispbt.new { workers = 1 }
      local usage = "bt.compile: async-sleep-ms: expected (act async-sleep-ms MS)"
      for _, c in ipairs {
        { "(act async-sleep-ms)", usage },
        { "(act async-sleep-ms 1 2)", usage },
        { "(act async-sleep-ms -1)",
          "bt.compile: async-sleep-ms: MS must be a number in [0, 86400000], got -1" },
        { "(act async-sleep-ms \"x\")",
          "bt.compile: async-sleep-ms: MS must be a number in [0, 86400000], got \"x\"" },
      } do
        local ok, err = pcall(host.compile, host, c[1])
        assert.is_false(ok, c[1])
        assert.are.equal(c[2], err, c[1])
      end
      assert.are.equal(0, host:scheduler_stats().submitted)
      assert.are.equal("success", host:compile("(act always-success)"):instance():tick())
    end)
  end)

  describe("cancellation", function()
    it("halt mid-job cancels it", function()
      local host <close> = lispbt.new { workers = 2 }
      local inst = host:compile("(seq (act async-sleep-ms " .. FOREVER .. ") (act always-success))")
        :instance()
      assert.are.equal("running", inst:tick())
      assert.is_truthy(wait_until(function() return host:scheduler_stats().started == 1 end))
      inst:halt()
      -- an hour-long sleeper settles within the bound only if the cancel woke it
      local s = settle(host)
      assert.is_truthy(s, "the cancelled sleeper did not wake")
      assert.are.equal(1, s.submitted)
      assert.are.equal(1, s.cancelled)
      assert.are.equal(0, s.completed)
      assert.are.equal(0, s.failed)
      -- a fresh activation submits a new job
      assert.are.equal("running", inst:tick())
      assert.are.equal(2, host:scheduler_stats().submitted)
    end)

    it("preemption by a memoryless seq cancels the running job", function()
      local host <close> = lispbt.new { workers = 2, preempt = true } -- our halting (the reference keeps the job: cancellation spec below)
      local flag = true
      host:register_condition("flag", function() return flag end)
      local inst = host:compile("(seq (cond flag) (act async-sleep-ms " .. FOREVER .. "))"):instance()
      inst:set_trace_enabled(true)
      assert.are.equal("running", inst:tick())
      flag = false
      assert.are.equal("failure", inst:tick())
      local s = settle(host)
      assert.are.equal(1, s.cancelled)
      assert.are.equal(0, s.completed)
      local c = kinds(inst, "scheduler_cancel")
      assert.are.equal(1, #c)
      assert.are.equal(2, c[1].tick)
    end)

    it("preemption by a sel whose earlier child succeeds cancels too", function()
      local host <close> = lispbt.new { workers = 1, preempt = true }
      local inst = host:compile("(sel (cond bb-has go) (act async-sleep-ms " .. FOREVER .. "))"):instance()
      assert.are.equal("running", inst:tick())
      assert.are.equal("success", inst:tick { go = true })
      assert.are.equal(1, settle(host).cancelled)
    end)

    -- The default, as muesli-bt: a memoryless seq/sel that stops before a
    -- running async leaf leaves it as it is, its job running.  The job is
    -- still cancelled by halt, reset and the instance's collection.
    describe("a skipped running async leaf (preemption off, the default)", function()
      local function skipped(host)
        local flag = { on = true }
        host:register_condition("flag", function() return flag.on end)
        local inst = host:compile("(seq (cond flag) (act async-sleep-ms " .. FOREVER .. "))"):instance()
        inst:set_trace_enabled(true)
        assert.are.equal("running", inst:tick())
        flag.on = false
        assert.are.equal("failure", inst:tick())
        assert.are.equal("failure", inst:tick())
        return inst, flag
      end

      it("keeps its job: nothing is cancelled, no halt event", function()
        local host <close> = lispbt.new { workers = 2 }
        local inst = skipped(host)
        wait_until(function() return host:scheduler_stats().started == 1 end)
        local s = host:scheduler_stats()
        assert.are.equal(1, s.submitted)
        assert.are.equal(0, s.cancelled)
        assert.are.equal(1, s.running)
        assert.are.equal(0, #kinds(inst, "scheduler_cancel"))
        inst:halt()
        s = settle(host)
        assert.are.equal(1, s.cancelled)
        assert.are.equal(1, #kinds(inst, "scheduler_cancel"))
      end)

      it("resumes the same job when reached again, and takes its result", function()
        local host <close> = lispbt.new { workers = 1 }
        local flag = { on = true }
        host:register_condition("flag", function() return flag.on end)
        local inst = host:compile("(seq (cond flag) (act async-sleep-ms 20))"):instance()
        assert.are.equal("running", inst:tick())
        flag.on = false
        assert.are.equal("failure", inst:tick())
        flag.on = true
        assert.are.equal("success", wait_until(function()
          local x = inst:tick()
          return x ~= "running" and x
        end))
        local s = settle(host)
        assert.are.equal(1, s.submitted) -- the one job, not a second
        assert.are.equal(1, s.completed)
        assert.are.equal(0, s.cancelled)
      end)

      it("reset cancels its job", function()
        local host <close> = lispbt.new { workers = 2 }
        local inst = skipped(host)
        inst:reset()
        local s = settle(host)
        assert.are.equal(1, s.cancelled)
        assert.are.equal(0, s.completed)
      end)

      it("the instance's collection cancels its job, no crash", function()
        local host <close> = lispbt.new { workers = 2 }
        do
          skipped(host)
          wait_until(function() return host:scheduler_stats().started == 1 end)
        end
        collectgarbage()
        collectgarbage()
        host:gc()
        local s = settle(host)
        assert.are.equal(1, s.cancelled)
        local short = host:compile("(act async-sleep-ms 1)"):instance()
        assert.are.equal("running", short:tick())
        assert.are.equal("success", wait_until(function()
          local x = short:tick()
          return x ~= "running" and x
        end))
      end)
    end)

    it("reset cancels the job", function()
      local host <close> = lispbt.new { workers = 2 }
      local inst = host:compile("(act async-sleep-ms " .. FOREVER .. ")"):instance()
      assert.are.equal("running", inst:tick())
      inst:reset()
      local s = settle(host)
      assert.are.equal(1, s.cancelled)
      assert.are.equal(0, s.completed)
      assert.are.equal("running", inst:tick())
    end)

    it("a sleep cancelled by a halt ends cancelled at once, even with no workers", function()
      local host <close> = lispbt.new { workers = 0 }
      local inst = host:compile("(act async-sleep-ms " .. FOREVER .. ")"):instance()
      inst:set_trace_enabled(true)
      assert.are.equal("running", inst:tick())
      assert.are.equal("running", inst:tick())
      local s = host:scheduler_stats()
      assert.are.equal(0, s.queued) -- a wait never queues and holds no worker
      assert.are.equal(1, s.started)
      assert.are.equal(1, s.running)
      inst:halt()
      s = host:scheduler_stats() -- no settling: the cancel is immediate
      assert.are.equal(1, s.submitted)
      assert.are.equal(1, s.cancelled)
      assert.are.equal(0, s.running)
      assert.are.equal(0, s.completed)
      assert.are.equal(0, s.queue_delay_last_ns)
      local c = kinds(inst, "scheduler_cancel")
      assert.are.equal(1, #c)
      assert.are.equal("cancelled", c[1].job_status)
    end)

    it("a job still running when its instance is collected is cancelled, no crash", function()
      local host <close> = lispbt.new { workers = 2 }
      local tree = host:compile("(act async-sleep-ms " .. FOREVER .. ")")
      do
        local inst = tree:instance()
        assert.are.equal("running", inst:tick())
        wait_until(function() return host:scheduler_stats().started == 1 end)
      end
      collectgarbage()
      collectgarbage()
      host:gc()
      local s = settle(host)
      assert.are.equal(1, s.cancelled)
      -- the host is fine: a new job runs to completion
      local short = host:compile("(act async-sleep-ms 1)"):instance()
      assert.are.equal("running", short:tick())
      assert.are.equal("success", wait_until(function()
        local x = short:tick()
        return x ~= "running" and x
      end))
    end)

    -- Issue 13, item 6a: an instance dropped by Lua used to keep its jobs
    -- until the next Lisp collection freed it.  Its userdata's __gc now
    -- runs the drop hooks when Lisp never saw the instance (lx_valuegc ->
    -- bt_inst_unhold), so no Lisp collection is needed, and none may run:
    -- the Lisp collection count must not move.
    it("jobs of 100 instances dropped by Lua are cancelled by Lua's collector alone #nostress", function()
      local host <close> = lispbt.new { workers = 1 }
      local tree = host:compile("(act async-sleep-ms 5000)")
      local function start(n)
        for _ = 1, n do
          local inst = tree:instance()
          assert.are.equal("running", inst:tick())
          inst:stats() -- a bt.* method (a mirrored builtin) leaves it Lua's own
        end
      end
      host:gc() -- a fresh threshold: no Lisp collection is due during the test
      local collections = host:heap().collections
      start(100)
      assert.are.equal(100, host:scheduler_stats().submitted)
      collectgarbage()
      collectgarbage()
      local s = wait_until(function()
        local st = host:scheduler_stats()
        return st.cancelled == 100 and st.queued == 0 and st.running == 0 and st
      end, 30)
      assert.is_table(s, "the dropped instances' jobs were not all cancelled")
      assert.are.equal(0, s.completed)
      assert.are.equal(collections, host:heap().collections)
    end)

    it("an instance Lisp can still reach keeps its job when Lua drops it", function()
      local host <close> = lispbt.new { workers = 1 }
      do
        local inst = host:compile("(act async-sleep-ms " .. FOREVER .. ")"):instance()
        assert.are.equal("running", inst:tick())
        host:set("kept", inst)
      end
      collectgarbage()
      collectgarbage()
      -- still the same job: a released one would make this tick submit a second
      assert.are.equal("running", tostring(host:eval("(bt.tick kept)")))
      assert.are.equal(1, host:scheduler_stats().submitted)
      host:eval("(bt.halt kept)")
      assert.is_table(settle(host))
      assert.are.equal(1, host:scheduler_stats().cancelled)
    end)

    it("a job queued or running when its instance is reset or collected after close, no crash",
      function()
        local host = lispbt.new { workers = 1 }
        local tree = host:compile("(act async-sleep-ms " .. FOREVER .. ")")
        local a, b = tree:instance(), tree:instance()
        assert.are.equal("running", a:tick()) -- running
        assert.are.equal("running", b:tick()) -- queued behind a
        wait_until(function() return host:scheduler_stats().started == 1 end)
        b:reset()
        assert.are.equal(1, host:scheduler_stats().cancelled)
        host:close()
        assert.has_error(function() a:halt() end, "bt.halt: host is closed")
        assert.has_error(function() a:reset() end, "bt.reset: host is closed")
        a, b, tree = nil, nil, nil
        collectgarbage()
        collectgarbage()
      end)
  end)

  describe("observability", function()
    it("emits the four scheduler trace kinds with job ids and statuses", function()
      local host <close> = lispbt.new { workers = 2 }
      local inst = host:compile("(seq (act async-sleep-ms 5) (act always-success))"):instance()
      inst:set_trace_enabled(true)
      assert.are.equal("running", inst:tick())
      assert.are.equal("success", wait_until(function()
        local x = inst:tick()
        return x ~= "running" and x
      end))
      assert.are.equal("running", inst:tick()) -- job 2
      inst:halt()

      local ev = kinds(inst, "scheduler_")
      local want = {
        { "scheduler_submit", 1, "queued" }, { "scheduler_start", 1, "running" },
        { "scheduler_finish", 1, "done" }, { "scheduler_submit", 2, "queued" },
        { "scheduler_cancel", 2, "cancelled" },
      }
      assert.are.equal(#want, #ev)
      for i, w in ipairs(want) do
        assert.are.equal(w[1], ev[i].kind)
        assert.are.equal(w[2], ev[i].job)
        assert.are.equal(w[3], ev[i].job_status)
        assert.are.equal(1, ev[i].node) -- the async leaf
      end

      local text = host.bt.trace.dump(inst)
      for _, w in ipairs(want) do
        local pat = "\n%d+ kind=" .. w[1] .. " tick=%d+ node=1 ts_ns=%d+ job=" .. w[2]
                    .. " job_status=" .. w[3] .. "\n"
        assert.is_truthy(("\n" .. text):find(pat), pat)
      end
    end)

    it("writes debug log records in category scheduler", function()
      local host <close> = lispbt.new { workers = 1 }
      local inst = host:compile("(act async-sleep-ms 1)"):instance()
      inst:tick()
      wait_until(function() return inst:tick() ~= "running" end)
      inst:tick()
      inst:halt()
      local msgs = {}
      for _, r in ipairs(host:logs()) do
        if r.category == "scheduler" then
          assert.are.equal("debug", r.level)
          msgs[#msgs + 1] = r.msg
        end
      end
      assert.is_true(#msgs >= 4, table.concat(msgs, " | "))
      assert.is_truthy(msgs[1]:find("^job 1 submitted"))
      assert.is_truthy(msgs[#msgs]:find("^job 2 cancelled"))
      local joined = table.concat(msgs, "\n")
      assert.is_truthy(joined:find("job 1 done", 1, true))
      assert.is_truthy(host.bt.logs.dump():find("level=debug ts_ns=%d+ tick=%d+ node=0 "
                                                .. "category=scheduler msg=job 1 submitted"))
    end)

    it("bt.scheduler.stats text: the SPEC lines first, in order, then key=N lines", function()
      local host <close> = lispbt.new { workers = 3 }
      local text = host.bt.scheduler.stats()
      assert.are.equal("string", type(text))
      assert.are.equal("\n", text:sub(-1))
      assert.are.equal(text, host:eval("(bt.scheduler.stats)"))
      local keys, s = parse_stats(text)
      for i, k in ipairs(FIRST) do assert.are.equal(k, keys[i]) end
      assert.is_true(#keys > #FIRST)
      local seen = {}
      for _, k in ipairs(keys) do
        assert.is_nil(seen[k], "duplicate " .. k)
        seen[k] = true
      end
      for _, k in ipairs(FIRST) do assert.are.equal(0, s[k]) end
      assert.are.equal(3, s.workers)
      assert.is_truthy(text:find("^submitted=0\nstarted=0\ncompleted=0\nfailed=0\ncancelled=0\n"
                                 .. "queue_delay_last_ns=0\nrun_time_last_ns=0\n"))
    end)

    it("host:scheduler_stats() has exactly the keys and values of the text", function()
      local host <close> = lispbt.new { workers = 2 }
      local inst = host:compile("(act async-sleep-ms 2)"):instance()
      inst:tick()
      wait_until(function() return inst:tick() ~= "running" end)
      inst:tick()
      inst:halt()
      local t = settle(host)
      local keys, s = parse_stats(host.bt.scheduler.stats())
      local n = 0
      for k, v in pairs(t) do
        n = n + 1
        assert.are.equal("integer", math.type(v), k)
        assert.are.equal(s[k], v, k)
      end
      assert.are.equal(#keys, n)
      assert.are.equal(2, t.submitted)
      assert.are.equal(1, t.completed)
      assert.are.equal(1, t.cancelled)
      assert.are.equal(t.submitted, t.completed + t.failed + t.cancelled + t.queued + t.running)
    end)

    it("two hosts have independent counters", function()
      local a <close> = lispbt.new { workers = 1 }
      local b <close> = lispbt.new { workers = 1 }
      local ia = a:compile("(act async-sleep-ms 1)"):instance()
      local tb = b:compile("(act async-sleep-ms " .. FOREVER .. ")")
      local ib1, ib2 = tb:instance(), tb:instance()
      ia:tick()
      ib1:tick()
      ib2:tick()
      ib1:halt()
      ib2:halt()
      settle(a)
      local sa, sb = settle(a), settle(b)
      assert.are.equal(1, sa.submitted)
      assert.are.equal(0, sa.cancelled)
      assert.are.equal(2, sb.submitted)
      assert.are.equal(2, sb.cancelled)
      local _, ta = parse_stats(a.bt.scheduler.stats())
      local _, tbx = parse_stats(b.bt.scheduler.stats())
      assert.are.equal(1, ta.submitted)
      assert.are.equal(2, tbx.submitted)
    end)
  end)

  describe("workers option", function()
    it("workers=0: async-sleep-ms still ends (a wait holds no worker)", function()
      local host <close> = lispbt.new { workers = 0 }
      local inst = host:compile("(act async-sleep-ms 2)"):instance()
      assert.are.equal("running", inst:tick())
      assert.are.equal("success", wait_until(function()
        local st = inst:tick()
        return st ~= "running" and st
      end))
      local s = host:scheduler_stats()
      assert.are.equal(0, s.workers)
      assert.are.equal(1, s.submitted)
      assert.are.equal(1, s.completed)
      assert.are.equal(0, s.queued)
    end)

    it("10,000 sleeping instances on 2 workers all finish; cancellation stays exact", function()
      local host <close> = lispbt.new { workers = 2 }
      local short = host:compile("(act async-sleep-ms 30)")
      local long = host:compile("(act async-sleep-ms " .. FOREVER .. ")")
      local a, b = {}, {}
      for i = 1, 5000 do
        a[i] = short:instance()
        b[i] = long:instance()
      end
      assert.are.same({ "running" }, { short:tick_all(a)[1] })
      long:tick_all(b)
      local s = host:scheduler_stats()
      assert.are.equal(10000, s.submitted)
      assert.are.equal(10000, s.running + s.completed) -- short ones may be done already
      assert.are.equal(0, s.queued)
      for i = 1, 5000 do b[i]:halt() end -- every hour-long sleep: cancelled now
      s = host:scheduler_stats()
      assert.are.equal(5000, s.cancelled)
      assert.are.equal(5000, s.running + s.completed)
      -- tick only the instances still sleeping: an instance ticked again
      -- after its success would start a new sleep
      local pending = a
      local done = wait_until(function()
        local st, left = short:tick_all(pending), {}
        for i = 1, #pending do
          if st[i] ~= "success" then left[#left + 1] = pending[i] end
        end
        pending = left
        return #pending == 0
      end, 60)
      assert.is_true(done, "not every short sleep finished")
      s = host:scheduler_stats()
      assert.are.equal(5000, s.completed)
      assert.are.equal(5000, s.cancelled)
      assert.are.equal(0, s.running)
      assert.are.equal(0, s.failed)
    end)

    it("workers=4 runs four jobs at once", function()
      local host <close> = lispbt.new { workers = 4 }
      assert.are.equal(4, host:scheduler_stats().workers)
      -- hour-long jobs: none can end before the spec halts it, so "all four
      -- running" is a state that lasts, not a moment to catch
      local tree = host:compile("(act async-sleep-ms " .. FOREVER .. ")")
      local insts = {}
      for i = 1, 4 do
        insts[i] = tree:instance()
        assert.are.equal("running", insts[i]:tick())
      end
      local s = wait_until(function()
        local x = host:scheduler_stats()
        return x.started == 4 and x
      end)
      assert.is_truthy(s, "four workers did not start four jobs")
      assert.are.equal(4, s.running)
      assert.are.equal(0, s.queued)
      for _, i in ipairs(insts) do
        assert.are.equal("running", i:tick())
        i:halt()
      end
      s = settle(host)
      assert.is_truthy(s, "the cancelled sleepers did not wake")
      assert.are.equal(4, s.started)
      assert.are.equal(4, s.cancelled)
      assert.are.equal(0, s.completed)
    end)

    it("rejects bad worker counts", function()
      assert.has_error(function() lispbt.new { workers = -1 } end)
      assert.has_error(function() lispbt.new { workers = "x" } end)
    end)
  end)

  describe("host close", function()
    for _, workers in ipairs { 0, 1 } do
      it("with 1,000 sleeps pending (workers=" .. workers .. "): every job is accounted for, "
         .. "close cancels the rest", function()
        local host = lispbt.new { workers = workers }
        -- hour-long sleeps: waits, which hold no worker and never queue, so
        -- the counts below hold at any moment
        local tree = host:compile("(act async-sleep-ms " .. FOREVER .. ")")
        local insts = {}
        for i = 1, 1000 do
          insts[i] = tree:instance()
          assert.are.equal("running", insts[i]:tick())
        end
        local function check(running, cancelled)
          local x = host:scheduler_stats()
          assert.are.equal(1000, x.submitted)
          assert.are.equal(1000, x.started)
          assert.are.equal(x.submitted, x.queued + x.running + x.completed + x.failed + x.cancelled)
          assert.are.equal(running, x.running)
          assert.are.equal(0, x.queued)
          assert.are.equal(cancelled, x.cancelled)
          assert.are.equal(0, x.completed + x.failed)
        end
        for _ = 1, 5 do
          check(1000, 0)
          lispbt.sleep_ms(1)
        end
        -- halting a sleeping instance cancels its wait at once
        for i = 991, 1000 do insts[i]:halt() end
        check(990, 10)
        -- close cancels the 990 waits still pending: with hour-long sleeps,
        -- returning at all shows it (a close that waited would hang until
        -- CI's timeout)
        host:close()
        assert.has_error(function() host:eval("1") end, "eval: host is closed")
        assert.has_error(function() host:scheduler_stats() end, "scheduler_stats: host is closed")
        assert.has_error(function() host.bt.scheduler.stats() end, "bt.scheduler.stats: host is closed")
        assert.has_error(function() insts[1]:tick() end, "tick: host is closed")
        assert.has_error(function() tree:instance() end, "instance: host is closed")
        host:close() -- idempotent
        insts = nil
        collectgarbage()
      end)
    end
  end)

  describe("#stress", function()
    it("submits, cancels, ticks and closes hosts in a loop", function()
      local t0 = now()
      local rounds, submitted = 0, 0
      local rng = 12345
      local function rand(n)
        rng = (rng * 1103515245 + 12345) % 2147483648
        return rng % n
      end
      -- a time budget for the loop, not an assertion: a slow machine runs fewer rounds
      while now() - t0 < 3000 and rounds < 60 do
        rounds = rounds + 1
        local host = lispbt.new { workers = 1 + rand(4), trace_capacity = 64 }
        local trees = {
          host:compile("(act async-sleep-ms 0)"),
          host:compile("(act async-sleep-ms 1)"),
          host:compile("(seq (act async-sleep-ms 2) (act always-success))"),
          host:compile("(par 1 (act async-sleep-ms 3) (act async-sleep-ms 1))"),
          host:compile("(act async-sleep-ms 50)"),
        }
        local insts = {}
        for i = 1, 40 do
          insts[i] = trees[1 + rand(#trees)]:instance()
          if rand(3) == 0 then insts[i]:set_trace_enabled(true) end
        end
        for _ = 1, 15 do
          for i, inst in ipairs(insts) do
            local op = rand(10)
            if op < 6 then
              inst:tick()
            elseif op == 6 then
              inst:halt()
            elseif op == 7 then
              inst:reset()
            elseif op == 8 then
              insts[i] = trees[1 + rand(#trees)]:instance() -- old one becomes garbage
            end
          end
          if rand(4) == 0 then collectgarbage("step") end
        end
        local s = host:scheduler_stats()
        submitted = submitted + s.submitted
        if rand(2) == 0 then
          -- drain: cancel everything, wait, and check the books balance
          for _, inst in ipairs(insts) do inst:halt() end
          s = settle(host)
          assert.is_truthy(s, "the scheduler books do not balance")
          assert.is_true(s.started <= s.submitted)
        end
        host:close() -- with jobs queued and running half of the time
        assert.has_error(function() host:eval("1") end, "eval: host is closed")
        insts, trees = nil, nil
        if rounds % 5 == 0 then collectgarbage() end
      end
      collectgarbage()
      assert.is_true(rounds >= 1)
      assert.is_true(submitted > 0)
    end)
  end)
end)
