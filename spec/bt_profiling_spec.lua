-- spec/bt_profiling_spec.lua -- SPEC §8 profiling surfaces of instances:
-- bt.stats text and inst:stats(), profile levels, tick budget overruns,
-- the trace ring (dump format, read tracing, capacity, clear, snapshot,
-- Chrome JSON), and the host log ring (dump format, capacity, clear,
-- aliases, host:logs).
package.path = "./spec/?.lua;" .. package.path
local T = require("support.bt_helpers")
local lispbt = require("lispbt")

local HEAD = { "tick_count", "tick_overrun_count", "tick_last_ns", "tick_max_ns", "tick_total_ns" }

-- Busy-wait 'ms' milliseconds on the monotonic clock, so that the node
-- doing it lasts at least that long whatever else runs.  (Not os.clock():
-- process CPU time runs faster than the wall clock while other threads of
-- the process work.)  Specs check durations only from below.
local function busy(ms)
  local t = lispbt.clock_ns()
  while lispbt.clock_ns() - t < ms * 1e6 do
  end
end

-- SEQ kind=KIND tick=N node=N ts_ns=N [status=S] [duration_ns=N]
-- [job=N job_status=S] [key=K] [value=V] [msg=TEXT], fields in that order.
local function parsetrace(line)
  local seq, kind, tick, node, ts, rest =
    line:match("^(%d+) kind=([%w_]+) tick=(%-?%d+) node=(%-?%d+) ts_ns=(%d+)(.*)$")
  assert(seq, "bad trace line: " .. line)
  local e = { seq = tonumber(seq), kind = kind, tick = tonumber(tick), node = tonumber(node), ts_ns = tonumber(ts) }
  local function take(pat)
    local v, r = rest:match("^ " .. pat .. "(.*)$")
    if v then
      rest = r
    end
    return v
  end
  e.status = take("status=(%a+)")
  e.duration_ns = tonumber(take("duration_ns=(%d+)"))
  e.job = tonumber(take("job=(%d+)"))
  if e.job then
    e.job_status = take("job_status=(%a+)")
    assert(e.job_status, "job without job_status: " .. line)
  end
  e.key = take("key=(%S+)")
  e.value = take("value=(%S+)")
  e.msg = rest:match("^ msg=(.*)$")
  if e.msg then
    rest = ""
  end
  assert(rest == "", "unparsed trace fields '" .. rest .. "' in: " .. line)
  return e
end

-- SEQ level=LEVEL ts_ns=N tick=N node=N category=CAT msg=TEXT
local function parselog(line)
  local seq, level, ts, tick, node, cat, msg =
    line:match("^(%d+) level=(%a+) ts_ns=(%d+) tick=(%-?%d+) node=(%-?%d+) category=(%S+) msg=(.*)$")
  assert(seq, "bad log line: " .. line)
  return { seq = tonumber(seq), level = level, ts_ns = tonumber(ts), tick = tonumber(tick),
    node = tonumber(node), category = cat, msg = msg }
end

describe("bt profiling", function()
  local host
  before_each(function()
    host = T.host({ trace_capacity = 16, log_capacity = 8, print_style = "lispbt" }) -- our bt.stats text
  end)
  after_each(function()
    host:close()
  end)

  describe("bt.stats text", function()
    it("has the five head lines in order, then key=value lines, then node lines by id", function()
      local inst = host:compile("(sel (fail) (seq (cond always-true) (act always-success)) (act never-ticked))"):instance()
      inst:set_tick_budget_ms(0) -- no overrun however long the OS stalls a tick
      for _ = 1, 7 do
        inst:tick()
      end
      local lines = T.lines(host.bt.stats(inst))
      for k, name in ipairs(HEAD) do
        assert.is_truthy(lines[k]:match("^" .. name .. "=%d+$"), lines[k])
      end
      assert.are.equal("tick_count=7", lines[1])
      assert.are.equal("tick_overrun_count=0", lines[2])
      local k = 6
      while lines[k] and not lines[k]:match("^node ") do
        assert.is_truthy(lines[k]:match("^[%w_]+=%S*$"), lines[k])
        k = k + 1
      end
      local ids = {}
      while lines[k] do
        local n = T.parsenode(lines[k])
        assert.is_truthy(n, lines[k])
        assert.is_truthy(lines[k]:match("^node %d+ %([^)]+%) success=%d+ failure=%d+ running=%d+ last_ns=%d+ max_ns=%d+"),
          lines[k])
        ids[#ids + 1] = n.id
        k = k + 1
      end
      -- node 5 (act never-ticked) never ran: no line
      assert.are.same({ 0, 1, 2, 3, 4 }, ids)
      local n = T.nodelines(host.bt.stats(inst))
      assert.is_truthy(n[0]:find("^node 0 %(sel%) success=7 failure=0 running=0 "))
      assert.is_truthy(n[1]:find("^node 1 %(fail%) success=0 failure=7 running=0 "))
      assert.is_truthy(n[2]:find("^node 2 %(seq%) success=7 failure=0 running=0 "))
      assert.is_truthy(n[3]:find("^node 3 %(cond always%-true%) success=7 failure=0 running=0 "))
      assert.is_truthy(n[4]:find("^node 4 %(act always%-success%) success=7 failure=0 running=0 "))
      assert.is_nil(n[5])
    end)

    it("counts match exactly: a seq of 30 always-success ticked 10 times", function()
      local kids = {}
      for k = 1, 30 do
        kids[k] = "(act always-success)"
      end
      local inst = host:compile("(seq " .. table.concat(kids, " ") .. ")"):instance()
      for _ = 1, 10 do
        assert.are.equal("success", inst:tick())
      end
      local text = host.bt.stats(inst)
      local n = T.nodelines(text)
      for id = 0, 30 do
        local p = T.parsenode(n[id])
        assert.are.equal(id == 0 and "seq" or "act always-success", p.name)
        assert.are.equal(10, p.success)
        assert.are.equal(0, p.failure)
        assert.are.equal(0, p.running)
        assert.is_true(p.max_ns >= p.last_ns)
      end
      local s = inst:stats()
      assert.are.equal(31, #s.nodes)
      assert.are.equal(10, s.tick_count)
      assert.are.equal(10, s.nodes[31].success)
      assert.are.equal(30, s.nodes[31].id)
      assert.are.equal("act always-success", s.nodes[31].name)
    end)

    it("running and failure counts, and leaf errors per node", function()
      local inst = host:compile("(sel (act running-then-success 2) (act unknown-leaf))"):instance()
      for _ = 1, 6 do
        inst:tick()
      end
      local n = T.nodelines(host.bt.stats(inst))
      assert.are.equal(2, T.parsenode(n[1]).success)
      assert.are.equal(4, T.parsenode(n[1]).running)
      assert.is_nil(n[2]) -- never reached
      inst = host:compile("(seq (act unknown-leaf))"):instance()
      inst:tick()
      inst:tick()
      local p = T.parsenode(T.nodelines(host.bt.stats(inst))[1])
      assert.are.equal(2, p.failure)
      assert.are.equal(2, p.errors)
      assert.are.equal(2, inst:stats().errors)
    end)

    it("host.bt.stats(inst) equals (bt.stats inst) from Lisp and the module form for that instance", function()
      local inst = host:compile("(seq (succeed) (fail))"):instance()
      inst:tick()
      host:set("inst", inst)
      local lisp = host:eval("(bt.stats inst)")
      assert.are.equal(lisp, host.bt.stats(inst))
      assert.are.equal(lisp, host:call("bt.stats", inst))
      -- the module-level mirror acts on the instance's own host
      assert.are.equal(lisp, require("lispbt").bt.stats(inst))
    end)

    it("inst:stats() has the text keys (nodes = the node array) with the same values", function()
      local inst = host:compile("(seq (succeed) (act always-fail))"):instance()
      for _ = 1, 3 do
        inst:tick()
      end
      local s = inst:stats()
      local text = host.bt.stats(inst)
      local nkeys = 0
      for _, l in ipairs(T.lines(text)) do
        local k, v = l:match("^([%w_]+)=(%S*)$")
        if k then
          nkeys = nkeys + 1
          assert.is_not_nil(s[k], "inst:stats() lacks " .. k)
          if type(s[k]) == "boolean" then
            assert.are.equal(v == "1" or v == "true", s[k], k)
          elseif type(s[k]) == "number" then
            assert.are.equal(tonumber(v), s[k], k)
          else
            assert.are.equal(v, s[k], k)
          end
        end
      end
      assert.is_true(nkeys >= 5)
      assert.are.equal("table", type(s.nodes))
      assert.are.equal(3, #s.nodes)
      for i, nd in ipairs(s.nodes) do
        local p = T.parsenode(T.nodelines(text)[i - 1])
        for k, v in pairs(p) do
          assert.are.equal(v, nd[k], "node " .. (i - 1) .. " " .. k)
        end
      end
      assert.are.equal(3, s.nodes[3].failure)
    end)
  end)

  describe("profile levels", function()
    it("'counters keeps counts and tick times, node durations stay 0", function()
      host:register_action("slowish", function()
        busy(0.05)
        return true
      end)
      local inst = host:compile("(seq (act slowish) (succeed))"):instance()
      inst:set_profile_level("counters")
      for _ = 1, 4 do
        inst:tick()
      end
      local s = inst:stats()
      assert.are.equal("counters", s.profile_level)
      assert.are.equal(4, s.tick_count)
      assert.is_true(s.tick_total_ns > 0)
      for _, nd in ipairs(s.nodes) do
        assert.are.equal(4, nd.success)
        assert.are.equal(0, nd.last_ns)
        assert.are.equal(0, nd.max_ns)
      end
      host.bt.set_profile_level(inst, "timing")
      inst:tick()
      s = inst:stats()
      assert.are.equal("timing", s.profile_level)
      assert.are.equal(5, s.nodes[2].success)
      assert.is_true(s.nodes[2].last_ns > 0)
      assert.is_true(s.nodes[2].max_ns >= s.nodes[2].last_ns)
      assert.is_true(s.nodes[1].max_ns >= s.nodes[2].max_ns)
    end)

    it("a new instance profiles at 'timing; Lisp symbols set levels; bad levels error", function()
      local inst = host:compile("(succeed)"):instance()
      assert.are.equal("timing", inst:stats().profile_level)
      host:set("inst", inst)
      host:eval("(bt.set-profile-level inst 'counters)")
      assert.are.equal("counters", inst:stats().profile_level)
      assert.is_truthy(T.has(host.bt.stats(inst), "\nprofile_level=counters\n"))
      assert.are.equal("bt.set-profile-level: expected 'counters, 'timing or 'sampled, got \"fast\"",
        T.err(inst.set_profile_level, inst, "fast"))
      assert.are.equal("bt.set-profile-level: expected 'counters, 'timing or 'sampled, got 3",
        T.err(host.bt.set_profile_level, inst, 3))
      assert.are.equal("eval:1:1: bt.set-profile-level: expected 'counters, 'timing or 'sampled, got off",
        T.err(host.eval, host, "(bt.set-profile-level inst 'off)"))
      assert.are.equal("counters", inst:stats().profile_level)
    end)

    it("'timing: durations nest, sum up and land in the node histograms", function()
      host:register_action("slow2", function()
        busy(2)
        return true
      end)
      local inst = host:compile("(seq (act slow2) (sel (cond always-false) (act slow2)))"):instance()
      for _ = 1, 3 do
        assert.are.equal("success", inst:tick())
      end
      local s = inst:stats()
      local root, a, sel, f, b = s.nodes[1], s.nodes[2], s.nodes[3], s.nodes[4], s.nodes[5]
      for _, nd in ipairs({ a, b }) do
        assert.is_true(nd.last_ns >= 2e6 and nd.max_ns >= nd.last_ns and nd.total_ns >= 6e6)
      end
      -- one counter read per boundary: a parent spans exactly its children
      -- plus its own bookkeeping, so the sums cannot exceed the parent
      assert.is_true(sel.last_ns >= f.last_ns + b.last_ns)
      assert.is_true(root.last_ns >= a.last_ns + sel.last_ns)
      assert.is_true(s.tick_last_ns >= root.last_ns)
      assert.is_true(root.total_ns >= a.total_ns + sel.total_ns)
      assert.is_true(b.p50_ns >= 1.9e6 and b.p50_ns <= b.max_ns)
    end)

    it("'timing: a leaf reading the counters mid-tick sees every node finished so far", function()
      local inst
      local seen = {}
      local function node(id)
        for _, nd in ipairs(inst:stats().nodes) do
          if nd.id == id then
            return nd
          end
        end
      end
      host:register_action("slow2", function()
        busy(2)
        return true
      end)
      host:register_action("peek", function()
        local nd = node(1)
        seen[#seen + 1] = { nd.success, nd.total_ns }
        return true
      end)
      inst = host:compile("(seq (act slow2) (act peek))"):instance()
      inst:tick()
      local after1 = node(1).total_ns
      inst:tick()
      assert.are.equal(1, seen[1][1])
      assert.are.equal(after1, seen[1][2])
      assert.is_true(after1 >= 2e6)
      assert.are.equal(2, seen[2][1])
      assert.is_true(seen[2][2] >= after1 + 2e6)
      assert.are.equal(seen[2][2], node(1).total_ns)
      assert.are.equal(2, node(2).success)
    end)

    it("a level set by a leaf takes effect at the next tick", function()
      local inst
      host:register_action("to-counters", function()
        inst:set_profile_level("counters")
        return true
      end)
      inst = host:compile("(seq (act to-counters) (act always-success))"):instance()
      inst:set_trace_enabled(true)
      inst:tick() -- started at 'timing: every node of this tick is timed
      local ev = inst:trace()
      local exits = 0
      for _, e in ipairs(ev) do
        if e.kind == "node_exit" then
          exits = exits + 1
          assert.is_not_nil(e.duration_ns)
        end
      end
      assert.are.equal(3, exits)
      assert.is_true(inst:stats().nodes[3].last_ns >= 0 and inst:stats().nodes[3].success == 1)
      inst:clear_trace()
      inst:tick() -- now at 'counters: no durations, node events at the tick's time
      local begin_ts
      for _, e in ipairs(inst:trace()) do
        if e.kind == "tick_begin" then
          begin_ts = e.ts_ns
        elseif e.kind == "node_enter" or e.kind == "node_exit" then
          assert.are.equal(begin_ts, e.ts_ns)
          assert.is_nil(e.duration_ns)
        end
      end
      assert.is_not_nil(begin_ts)
    end)
  end)

  describe("tick budget", function()
    it("a 2 ms leaf over a 1 ms budget counts overruns, logs warn records and warning events", function()
      host:register_action("slow", function()
        busy(2)
        return true
      end)
      local inst = host:compile("(act slow)"):instance()
      assert.are.equal(20, inst:stats().tick_budget_ms)
      inst:set_tick_budget_ms(1)
      inst:set_trace_enabled(true)
      host.bt.clear_logs()
      for _ = 1, 3 do
        inst:tick()
      end
      local s = inst:stats()
      assert.are.equal(3, s.tick_overrun_count)
      assert.are.equal(1, s.tick_budget_ms)
      assert.is_true(s.tick_max_ns >= 2000000)
      assert.is_truthy(T.has(host.bt.stats(inst), "\ntick_overrun_count=3\n"))
      local logs = host:logs()
      assert.are.equal(3, #logs)
      for k, r in ipairs(logs) do
        assert.are.equal("warn", r.level)
        assert.are.equal("bt", r.category)
        assert.are.equal(k, r.tick)
        assert.are.equal(-1, r.node)
        assert.is_truthy(r.msg:find("^tick budget overrun"), r.msg)
        assert.is_truthy(r.msg:find("budget_ms=1"), r.msg)
        assert.is_truthy(r.msg:find("duration_ns=%d+"), r.msg)
      end
      local d = parselog(T.lines(host.bt.logs.dump(1))[1])
      assert.are.equal("warn", d.level)
      assert.are.equal("bt", d.category)
      assert.is_truthy(d.msg:find("^tick budget overrun"))
      local warnings = 0
      for _, l in ipairs(T.lines(host.bt.trace.dump(inst))) do
        local e = parsetrace(l)
        if e.kind == "warning" then
          warnings = warnings + 1
          assert.is_truthy(e.msg:find("^tick budget overrun"), e.msg)
        end
      end
      assert.is_true(warnings >= 1) -- the ring (16) may have dropped older ones
      -- budget 0 disables
      inst:set_tick_budget_ms(0)
      inst:tick()
      assert.are.equal(3, inst:stats().tick_overrun_count)
      assert.are.equal(3, #host:logs())
      -- a generous budget: no overrun
      host.bt.set_tick_budget_ms(inst, 10000)
      inst:tick()
      assert.are.equal(3, inst:stats().tick_overrun_count)
    end)

    it("bad budgets error naming the function; nil result on success", function()
      local inst = host:compile("(succeed)"):instance()
      local msg = "bt.set-tick-budget-ms: MS must be an integer in [0, 86400000], got "
      assert.are.equal(msg .. "-1", T.err(inst.set_tick_budget_ms, inst, -1))
      assert.are.equal(msg .. "1.5", T.err(inst.set_tick_budget_ms, inst, 1.5))
      assert.are.equal(msg .. '"x"', T.err(inst.set_tick_budget_ms, inst, "x"))
      assert.are.equal(msg .. "-1", T.err(host.bt.set_tick_budget_ms, inst, -1))
      assert.are.equal("bt.set-tick-budget-ms: expected 2 arguments, got 1", T.err(host.bt.set_tick_budget_ms, inst))
      host:set("inst", inst)
      assert.are.equal("eval:1:1: " .. msg .. "#t", T.err(host.eval, host, "(bt.set-tick-budget-ms inst #t)"))
      assert.is_nil(host:eval("(bt.set-tick-budget-ms inst 5)"))
      assert.are.equal(5, inst:stats().tick_budget_ms)
      assert.is_nil(inst:set_tick_budget_ms(7))
      assert.are.equal(7, inst:stats().tick_budget_ms)
    end)
  end)

  describe("trace", function()
    it("is off by default", function()
      local inst = host:compile("(seq (act bb-put-int k 1) (succeed))"):instance()
      inst:tick({ x = 1 })
      assert.are.equal("", host.bt.trace.dump(inst))
      assert.are.same({}, inst:trace())
      assert.are.equal(0, inst:stats().trace_enabled and 1 or 0)
    end)

    it("records tick/node/bb_write events with the exact line format", function()
      local inst = host:compile("(seq (act bb-put-int k 7) (cond always-true))"):instance()
      inst:set_trace_enabled(true)
      assert.are.equal("success", inst:tick())
      local lines = T.lines(host.bt.trace.dump(inst))
      local kinds = {}
      local ev = {}
      for k, l in ipairs(lines) do
        ev[k] = parsetrace(l)
        kinds[k] = ev[k].kind .. ":" .. ev[k].node
        assert.are.equal(1, ev[k].tick)
        if k > 1 then
          assert.are.equal(ev[k - 1].seq + 1, ev[k].seq)
        end
      end
      assert.are.same({ "tick_begin:-1", "node_enter:0", "node_enter:1", "bb_write:1", "node_exit:1",
        "node_enter:2", "node_exit:2", "node_exit:0", "tick_end:-1" }, kinds)
      assert.are.equal("k", ev[4].key)
      assert.are.equal("7", ev[4].value)
      for _, k in ipairs({ 5, 7, 8, 9 }) do
        assert.are.equal("success", ev[k].status)
        assert.is_not_nil(ev[k].duration_ns)
      end
      assert.is_nil(ev[1].status)
      assert.is_nil(ev[2].duration_ns)
      assert.is_true(ev[9].duration_ns >= ev[8].duration_ns)
      assert.is_true(ev[1].ts_ns <= ev[2].ts_ns and ev[2].ts_ns <= ev[3].ts_ns)
      -- Lisp form and dump of the newest n
      host:set("inst", inst)
      assert.are.equal(host.bt.trace.dump(inst), host:eval("(bt.trace.dump inst)"))
      local last2 = T.lines(host.bt.trace.dump(inst, 2))
      assert.are.same({ lines[8], lines[9] }, last2)
      assert.are.equal("", host.bt.trace.dump(inst, 0))
    end)

    it("error events carry the message; input writes are bb_write events of node -1", function()
      local inst = host:compile("(act missing-leaf)"):instance()
      inst:set_trace_enabled(true)
      inst:tick({ speed = 2.5 })
      local ev = {}
      for _, l in ipairs(T.lines(host.bt.trace.dump(inst))) do
        ev[#ev + 1] = parsetrace(l)
      end
      assert.are.equal("bb_write", ev[1].kind)
      assert.are.equal(-1, ev[1].node)
      assert.are.equal("speed", ev[1].key)
      assert.are.equal("2.5", ev[1].value)
      local err
      for _, e in ipairs(ev) do
        if e.kind == "error" then
          err = e
        end
      end
      assert.are.equal("act missing-leaf: unknown action 'missing-leaf'", err.msg)
      assert.are.equal(0, err.node)
    end)

    it("read tracing adds bb_read events", function()
      local inst = host:compile("(seq (cond bb-has k) (cond bb-has k))"):instance()
      inst:set_trace_enabled(true)
      inst:tick({ k = 3 })
      assert.is_falsy(T.has(host.bt.trace.dump(inst), "kind=bb_read"))
      inst:set_read_trace_enabled(true)
      inst:clear_trace()
      inst:tick()
      local reads = {}
      for _, l in ipairs(T.lines(host.bt.trace.dump(inst))) do
        local e = parsetrace(l)
        if e.kind == "bb_read" then
          reads[#reads + 1] = e.node .. ":" .. e.key .. "=" .. e.value
        end
      end
      assert.are.same({ "1:k=3", "2:k=3" }, reads)
      -- read tracing needs tracing on
      inst:set_trace_enabled(false)
      inst:clear_trace()
      inst:tick()
      assert.are.equal("", host.bt.trace.dump(inst))
    end)

    it("the ring keeps the newest trace_capacity events", function()
      local inst = host:compile("(seq (succeed) (succeed))"):instance()
      inst:set_trace_enabled(true)
      for _ = 1, 10 do
        inst:tick() -- 8 events per tick
      end
      local lines = T.lines(host.bt.trace.dump(inst))
      assert.are.equal(16, #lines)
      local first, last = parsetrace(lines[1]), parsetrace(lines[16])
      assert.are.equal(80, last.seq)
      assert.are.equal(65, first.seq)
      assert.are.equal(10, last.tick)
      assert.are.equal("tick_end", last.kind)
      local snap = inst:trace()
      assert.are.equal(16, #snap)
      assert.are.equal(65, snap[1].seq)
      assert.are.equal(80, snap[16].seq)
      assert.are.equal("tick_end", snap[16].kind)
      assert.are.equal("success", snap[16].status)
      assert.are.equal(-1, snap[16].node)
      assert.are.equal(10, snap[16].tick)
      local three = inst:trace(3)
      assert.are.equal(3, #three)
      assert.are.equal(78, three[1].seq)
      assert.are.same(inst:trace(3), host.bt.trace.snapshot(inst, 3))
    end)

    describe("at level 'counters", function()
      -- The dump without times: what both levels must record alike.
      local function untimed(inst)
        local t = {}
        for _, l in ipairs(T.lines(host.bt.trace.dump(inst))) do
          t[#t + 1] = (l:gsub(" ts_ns=%d+", ""):gsub(" duration_ns=%d+", ""))
        end
        return t
      end
      -- 'n' leaves: at[k] where given, else 'other' (default always-success).
      local function leaves(n, at, other)
        local t = {}
        for k = 1, n do
          t[k] = at[k] or other or "(act always-success)"
        end
        return table.concat(t, " ")
      end
      -- Trees whose leaves push events of their own (blackboard writes,
      -- errors) at and around the boundaries of the ring's 32-leaf runs.
      local put = "(act bb-put-int k 1)"
      local trees = {
        "(seq " .. leaves(70, { [1] = put, [32] = put, [33] = put, [64] = put, [70] = "(cond always-true)" }) .. ")",
        "(sel " .. leaves(45, { [41] = "(act always-success)" }, "(cond always-false)") .. ")",
        "(seq " .. leaves(40, { [35] = "(act running-then-success 2)" }) .. ")",
        "(sel " .. leaves(40, { [11] = "(act bb-put-int k)", [17] = "(act missing-leaf)",
          [40] = "(act always-success)" }, "(cond always-false)") .. ")",
        "(seq (invert (cond always-false)) (succeed) (sel (fail) (cond always-true)) (repeat 2 (act always-success)) "
          .. put .. " (par 1 (act running-then-success 1) (fail)) (act always-success))",
      }

      it("records the same events and seqs as 'timing, ring full or not", function()
        for _, cap in ipairs({ 4096, 37, 32, 1 }) do
          local h = T.host({ trace_capacity = cap })
          for _, src in ipairs(trees) do
            local got = {}
            for _, level in ipairs({ "timing", "counters" }) do
              local inst = h:compile(src):instance()
              inst:set_profile_level(level)
              inst:set_trace_enabled(true)
              for _ = 1, 4 do
                inst:tick()
              end
              got[level] = untimed(inst)
              if cap < 4096 then -- every tree makes more events than that in 4 ticks
                assert.are.equal(cap, #got[level])
              end
            end
            assert.are.same(got.timing, got.counters, src .. " capacity " .. cap)
          end
          h:close()
        end
      end)

      it("a Lua leaf reading the trace finds its own node_enter newest", function()
        local inst
        local seen = {}
        host:register_condition("peek", function(ctx)
          local e = inst:trace(1)[1]
          seen[#seen + 1] = e.kind .. ":" .. e.node .. "/" .. ctx.node
          return true
        end)
        inst = host:compile("(seq " .. leaves(40, { [3] = "(cond peek)", [36] = "(cond peek)" }) .. ")"):instance()
        inst:set_profile_level("counters")
        inst:set_trace_enabled(true)
        assert.are.equal("success", inst:tick())
        assert.are.same({ "node_enter:3/3", "node_enter:36/36" }, seen)
      end)
    end)

    it("clear-trace empties the ring, not the logs", function()
      local inst = host:compile("(act missing)"):instance()
      inst:set_trace_enabled(true)
      inst:tick()
      assert.is_true(#inst:trace() > 0)
      local nlogs = #host:logs()
      host.bt.clear_trace(inst)
      assert.are.equal("", host.bt.trace.dump(inst))
      assert.are.same({}, inst:trace())
      assert.are.equal(nlogs, #host:logs())
      inst:tick()
      assert.is_true(#inst:trace() > 0)
    end)

    it("bt.trace.chrome is JSON a decoder parses, with balanced B/E per thread", function()
      local inst = host:compile('(seq (act bb-put-int k 1) (act missing "quote\\"d"))'):instance()
      inst:set_trace_enabled(true)
      for _ = 1, 3 do
        inst:tick()
      end
      local json = host.bt.trace.chrome(inst)
      local doc = T.json_decode(json)
      assert.are.equal("table", type(doc.traceEvents))
      local depth, phases = {}, {}
      for _, e in ipairs(doc.traceEvents) do
        phases[e.ph] = (phases[e.ph] or 0) + 1
        if e.ph == "B" then
          depth[e.tid] = (depth[e.tid] or 0) + 1
        elseif e.ph == "E" then
          depth[e.tid] = (depth[e.tid] or 0) - 1
        end
      end
      assert.is_true(phases.B > 0 and phases.E > 0 and phases.M > 0)
      for tid, d in pairs(depth) do
        assert.are.equal(0, d, "unbalanced B/E on tid " .. tostring(tid))
      end
      -- an empty ring is valid JSON too
      inst:clear_trace()
      local empty = T.json_decode(host.bt.trace.chrome(inst))
      assert.are.equal("table", type(empty.traceEvents))
      host:set("inst", inst)
      assert.are.equal(host.bt.trace.chrome(inst), host:eval("(bt.trace.chrome inst)"))
    end)

    it("set-trace-enabled takes booleans only", function()
      local inst = host:compile("(succeed)"):instance()
      assert.are.equal("bt.set-trace-enabled: expected a boolean, got 1", T.err(inst.set_trace_enabled, inst, 1))
      assert.are.equal("bt.set-read-trace-enabled: expected a boolean, got nil",
        T.err(inst.set_read_trace_enabled, inst, nil))
    end)
  end)

  describe("logs", function()
    it("bt.logs.dump has the exact line format and the ring keeps log_capacity records", function()
      local inst = host:compile("(act nope)"):instance()
      inst:set_tick_budget_ms(0) -- only the leaf's error records, even if the OS stalls a tick
      host.bt.clear_logs()
      for _ = 1, 12 do
        inst:tick()
      end
      local lines = T.lines(host.bt.logs.dump())
      assert.are.equal(8, #lines)
      local prev
      for k, l in ipairs(lines) do
        local r = parselog(l)
        assert.are.equal("error", r.level)
        assert.are.equal("bt", r.category)
        assert.are.equal(0, r.node)
        assert.are.equal(k + 4, r.tick)
        assert.are.equal("act nope: unknown action 'nope'", r.msg)
        if prev then
          assert.are.equal(prev.seq + 1, r.seq)
          assert.is_true(r.ts_ns >= prev.ts_ns)
        end
        prev = r
      end
      assert.are.same({ lines[7], lines[8] }, T.lines(host.bt.logs.dump(2)))
      assert.are.equal(host.bt.logs.dump(), host:eval("(bt.logs.dump)"))
      assert.are.equal(host.bt.logs.dump(3), host:eval("(bt.logs.dump 3)"))
    end)

    it("aliases bt.log.dump / bt.log.snapshot, host:logs(n), clear-logs", function()
      local inst = host:compile("(act nope)"):instance()
      inst:set_tick_budget_ms(0) -- only the leaf's error records, even if the OS stalls a tick
      host.bt.clear_logs()
      inst:tick()
      inst:tick()
      assert.are.equal(host.bt.logs.dump(), host.bt.log.dump())
      assert.are.same(host.bt.logs.snapshot(), host.bt.log.snapshot())
      assert.are.equal(host:eval("(bt.logs.dump)"), host:eval("(bt.log.dump)"))
      local logs = host:logs()
      assert.are.equal(2, #logs)
      local one = host:logs(1)
      assert.are.equal(1, #one)
      assert.are.same(logs[2], one[1])
      local r = one[1]
      assert.are.equal("error", r.level)
      assert.are.equal("bt", r.category)
      assert.are.equal(2, r.tick)
      assert.are.equal(0, r.node)
      assert.are.equal("act nope: unknown action 'nope'", r.msg)
      assert.are.equal("number", math.type(r.seq) and "number")
      assert.is_true(r.ts_ns > 0)
      host.bt.clear_logs()
      assert.are.equal("", host.bt.logs.dump())
      assert.are.same({}, host:logs())
      host:eval("(bt.clear-logs)")
      inst:tick()
      assert.are.equal(1, #host:logs())
      assert.are.equal("bt.logs.snapshot: N must be an integer >= 0, got -1", T.err(host.logs, host, -1))
    end)
  end)
end)
