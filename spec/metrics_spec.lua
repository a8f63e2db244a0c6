-- spec/metrics_spec.lua -- what the histograms report and how the host
-- exports it: nearest-rank percentiles (ticks, nodes, GC pauses, scheduler
-- latency) and the Prometheus exposition of metrics.prometheus, checked
-- structurally and, when it is installed, by `promtool check metrics`.
--
-- No assertion compares a duration with a fixed time: only reported values
-- with each other (a percentile with the max, the total, the count).
local lispbt = require("lispbt")

-- Relative error bounds of the histograms (docs/profiling.md, hist.h):
-- per-node durations 2^-5, tick times, GC pauses, scheduler latency 2^-8.
local COARSE, FINE = 2 ^ -5, 2 ^ -8

local QS = { 0.5, 0.9, 0.99, 0.999 }
local QNAMES = { "p50", "p90", "p99", "p999" }

-- Check percentiles 'p' (p[1..4] for QS) of 'n' samples of total 'total'
-- and maximum 'max' against what nearest rank allows, 'e' the relative
-- error bound.  With x_1 <= .. <= x_n the q-percentile is x_r, r =
-- ceil(q * n), reported within 'e'; x_r is unknown, but
--   (total - (n - r) * max) / r  <=  x_r  <=  total / (n - r + 1),
-- and it is exactly max for r = n and exactly total - max for n = 2, r = 1.
local function check_percentiles(what, n, total, max, p, e)
  assert(n >= 1, what .. ": no samples")
  for k = 1, 4 do
    local r = math.ceil(QS[k] * n - 1e-9)
    local lo = (total - (n - r) * max) / r
    local hi = total / (n - r + 1)
    local v = p[k]
    local msg = string.format("%s: %s=%d with n=%d total=%d max=%d (rank %d in [%g, %g])",
      what, QNAMES[k], v, n, total, max, r, lo, hi)
    assert(v >= 0 and v <= max, msg)
    assert(v >= lo * (1 - e) - 1 and v <= hi * (1 + e) + 1, msg)
    if r == n then
      assert(v == max, msg .. ": the largest sample is exact")
    elseif n == 2 then
      assert(v == total - max, msg .. ": the smallest sample is exact")
    end
    if k > 1 then
      assert(v >= p[k - 1], msg .. ": percentiles must not decrease")
    end
  end
end

local function nodep(s)
  return { s.p50_ns, s.p90_ns, s.p99_ns, s.p999_ns }
end

local function tickp(s)
  return { s.tick_p50_ns, s.tick_p90_ns, s.tick_p99_ns, s.tick_p999_ns }
end

-- The key=value pairs of bt.stats text: tick keys, and one table per node
-- line (by id).
local function parsestats(text)
  local t, nodes = {}, {}
  for line in text:gmatch("[^\n]+") do
    local id = line:match("^node (%d+) ")
    if id then
      local n = {}
      for k, v in line:gmatch("(%S+)=(%-?%d+)") do
        n[k] = tonumber(v)
      end
      nodes[tonumber(id)] = n
    else
      local k, v = line:match("^(%S+)=(%-?%d+)$")
      if k then
        t[k] = tonumber(v)
      end
    end
  end
  t.nodes = nodes
  return t
end

-- Node 'id' of inst:stats() (its 'nodes' holds ticked nodes only).
local function node(stats, id)
  for _, s in ipairs(stats.nodes) do
    if s.id == id then
      return s
    end
  end
  error("node " .. id .. " never ticked")
end

describe("percentiles", function()
  local host
  before_each(function()
    host = lispbt.new{ workers = 1, print_style = "lispbt" }
    -- a Lua leaf: its call takes measurable time, so its duration is > 0
    host:register_action("work", function() return "success" end)
  end)
  after_each(function()
    host:close()
  end)

  -- Both surfaces agree, node by node.
  local function both(inst)
    local lua, text = inst:stats(), parsestats(host.bt.stats(inst))
    for _, s in ipairs(lua.nodes) do
      local t = text.nodes[s.id]
      for _, k in ipairs({ "max_ns", "total_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns" }) do
        assert.are.equal(s[k], t[k], "node " .. s.id .. " " .. k)
      end
    end
    assert.are.equal(lua.tick_p50_ns, text.tick_p50_ns)
    return lua
  end

  it("a node ticked once reports its one duration as every percentile", function()
    local inst = host:compile("(seq (act work))"):instance()
    assert.are.equal("success", inst:tick())
    local s = both(inst)
    for id = 0, 1 do
      local n = node(s, id)
      assert.is_true(n.max_ns > 0, "the Lua leaf's node took some time")
      for _, v in ipairs(nodep(n)) do
        assert.are.equal(n.max_ns, v)
      end
      assert.are.equal(n.max_ns, n.last_ns)
      assert.are.equal(n.max_ns, n.total_ns)
    end
    assert.is_true(s.tick_max_ns > 0)
    for _, v in ipairs(tickp(s)) do
      assert.are.equal(s.tick_max_ns, v)
    end
    assert.are.equal(s.tick_max_ns, s.tick_total_ns)
  end)

  it("ticked twice: p50 is the smaller duration, p90 and above the larger", function()
    local inst = host:compile("(seq (act work))"):instance()
    inst:tick()
    inst:tick()
    local s = both(inst)
    for id = 0, 1 do
      local n = node(s, id)
      assert.are.equal(n.total_ns - n.max_ns, n.p50_ns)
      assert.is_true(n.p50_ns > 0 and n.p50_ns <= n.max_ns)
      assert.are.same({ n.max_ns, n.max_ns, n.max_ns }, { n.p90_ns, n.p99_ns, n.p999_ns })
    end
    assert.are.equal(s.tick_total_ns - s.tick_max_ns, s.tick_p50_ns)
    assert.are.equal(s.tick_max_ns, s.tick_p99_ns)
  end)

  it("with n samples each percentile is within the bound of the sample of rank ceil(q*n)", function()
    local inst = host:compile("(seq (act work) (act always-success))"):instance()
    for n = 1, 60 do
      inst:tick()
      local s = both(inst)
      assert.are.equal(n, s.tick_count)
      check_percentiles("tick", n, s.tick_total_ns, s.tick_max_ns, tickp(s), FINE)
      for _, x in ipairs(s.nodes) do
        check_percentiles("node " .. x.id, n, x.total_ns, x.max_ns, nodep(x), COARSE)
      end
    end
  end)

  it("at the counters level nodes have no durations, so no percentiles", function()
    local inst = host:compile("(seq (act work))"):instance()
    inst:set_profile_level("counters")
    inst:tick()
    local n = node(inst:stats(), 0)
    assert.are.equal(1, n.success)
    assert.are.same({ 0, 0, 0, 0, 0 }, { n.max_ns, n.p50_ns, n.p90_ns, n.p99_ns, n.p999_ns })
    -- the first timed visit is then the only sample
    inst:set_profile_level("timing")
    inst:tick()
    n = node(inst:stats(), 0)
    assert.are.equal(2, n.success)
    assert.are.equal(n.max_ns, n.total_ns)
    assert.are.same({ n.max_ns, n.max_ns }, { n.p50_ns, n.p999_ns })
  end)

  it("GC pauses use the same method #nostress", function()
    for _ = 1, 3 do
      host:gc()
      local h = host:heap()
      check_percentiles("gc pause", h.collections, h.gc_total_pause_ns, h.gc_max_pause_ns,
        { h.gc_pause_p50_ns, h.gc_pause_p90_ns, h.gc_pause_p99_ns, h.gc_pause_p999_ns }, FINE)
    end
  end)

  it("scheduler latency: one job reports its queue delay and run time exactly", function()
    local inst = host:compile("(act async-sleep-ms 0)"):instance()
    local deadline = lispbt.clock_ns() + 30e9
    while inst:tick() == "running" do
      assert(lispbt.clock_ns() < deadline, "the job did not finish within 30 s")
      lispbt.sleep_ms(1)
    end
    local s = host:scheduler_stats()
    assert.are.equal(1, s.started)
    assert.are.equal(1, s.completed)
    for _, k in ipairs({ "p50", "p90", "p99", "p999" }) do
      assert.are.equal(s.queue_delay_max_ns, s["queue_delay_" .. k .. "_ns"], k)
      assert.are.equal(s.run_time_max_ns, s["run_time_" .. k .. "_ns"], k)
    end
    assert.are.equal(s.queue_delay_max_ns, s.queue_delay_last_ns)
    assert.are.equal(s.run_time_max_ns, s.run_time_last_ns)
  end)
end)

-- ---- Prometheus ----------------------------------------------------------

-- Parse a label list "a=\"x\",b=\"y\"" into { {name, value}, ... }; nil and
-- a message when it is malformed.
local function parselabels(s)
  local out, i = {}, 1
  while i <= #s do
    local name, j = s:match("^([^=]*)=\"()", i)
    if not name then
      return nil, "bad label list '" .. s .. "'"
    end
    local buf = {}
    while true do
      local c = s:sub(j, j)
      if c == "" then
        return nil, "unterminated label value in '" .. s .. "'"
      elseif c == "\\" then
        local d = s:sub(j + 1, j + 1)
        local map = { ["\\"] = "\\", ['"'] = '"', n = "\n" }
        if not map[d] then
          return nil, "bad escape \\" .. d .. " in '" .. s .. "'"
        end
        buf[#buf + 1] = map[d]
        j = j + 2
      elseif c == '"' then
        j = j + 1
        break
      else
        buf[#buf + 1] = c
        j = j + 1
      end
    end
    out[#out + 1] = { name, table.concat(buf) }
    if s:sub(j, j) == "," then
      j = j + 1
    elseif j <= #s then
      return nil, "expected ',' after a label in '" .. s .. "'"
    end
    i = j
  end
  return out
end

local METRIC = "^[a-zA-Z_:][a-zA-Z0-9_:]*$"
local LABEL = "^[a-zA-Z_][a-zA-Z0-9_]*$"

-- Check 'text' against the text exposition format and our naming rules.
-- Returns the families by name: { type, help, series = { [key] = value },
-- sets = { [labels without quantile] = { quantiles, sum, count } } }, or
-- raises with the first problem.
local function lint(text)
  assert(text:sub(-1) == "\n", "the exposition must end with a newline")
  local fams, cur, seen = {}, nil, {}
  for line in text:gmatch("([^\n]*)\n") do
    local hname, help = line:match("^# HELP (%S+) (.*)$")
    local tname, ty = line:match("^# TYPE (%S+) (%S+)$")
    if hname then
      assert(not fams[hname], "family " .. hname .. " announced twice (or not contiguous)")
      assert(hname:match(METRIC), "bad metric name " .. hname)
      assert(hname:match("^lispbt_"), "not in our namespace: " .. hname)
      assert(help ~= "", "empty HELP for " .. hname)
      cur = { name = hname, help = help, series = {}, sets = {} }
      fams[hname] = cur
    elseif tname then
      assert(cur and cur.name == tname and not cur.type, "TYPE of " .. tname .. " without its HELP first")
      assert(ty == "counter" or ty == "gauge" or ty == "summary", "unexpected type " .. ty)
      cur.type = ty
    else
      assert(not line:match("^#"), "unexpected comment: " .. line)
      assert(line ~= "", "empty line in the exposition")
      local name, labels, value = line:match("^([^{ ]+){(.*)} (%S+)$")
      if not name then
        name, value = line:match("^([^{ ]+) (%S+)$")
        labels = ""
      end
      assert(name, "bad sample line: " .. line)
      assert(cur and cur.type, "sample before any HELP and TYPE: " .. line)
      local v = tonumber(value) or ({ NaN = 0 / 0, ["+Inf"] = math.huge, ["-Inf"] = -math.huge })[value]
      assert(v, "bad value in: " .. line)
      local ls = assert(parselabels(labels))
      local rest, q = {}, nil
      for _, l in ipairs(ls) do
        assert(l[1]:match(LABEL) and not l[1]:match("^__"), "bad label name '" .. l[1] .. "'")
        assert(l[1] ~= "instance" and l[1] ~= "job",
          "label '" .. l[1] .. "' clashes with the one Prometheus attaches: " .. line)
        if l[1] == "quantile" then
          q = l[2]
        else
          rest[#rest + 1] = l[1] .. "=" .. l[2]
        end
      end
      table.sort(rest)
      local set = table.concat(rest, ",")
      local key = name .. "{" .. set .. (q and ",quantile=" .. q or "") .. "}"
      assert(not seen[key], "duplicate series " .. key)
      seen[key] = true
      if cur.type == "summary" then
        local s = cur.sets[set] or { q = {} }
        cur.sets[set] = s
        if name == cur.name then
          assert(q, "summary sample without a quantile: " .. line)
          s.q[q] = v
        elseif name == cur.name .. "_sum" then
          s.sum = v
        elseif name == cur.name .. "_count" then
          s.count = v
        else
          error("sample " .. name .. " outside its family " .. cur.name .. " (families must be contiguous)")
        end
      else
        assert(name == cur.name,
          "sample " .. name .. " outside its family " .. cur.name .. " (families must be contiguous)")
        assert(not q, "quantile label outside a summary: " .. line)
        if cur.type == "counter" then
          assert(v >= 0, "negative counter: " .. line)
        end
      end
      cur.series[key] = v
    end
  end
  for name, f in pairs(fams) do
    assert(f.type, "family " .. name .. " has HELP but no TYPE")
    assert(next(f.series), "family " .. name .. " has no samples")
    assert(not name:match("_ns$") and not name:match("_ms$"), "durations are in seconds: " .. name)
    if f.type == "counter" then
      assert(name:match("_total$"), "counter " .. name .. " must end in _total")
    else
      assert(not name:match("_total$"), "only counters end in _total: " .. name)
    end
    if f.type == "summary" then
      assert(name:match("_seconds$"), "summary " .. name .. " must carry its unit")
      for set, s in pairs(f.sets) do
        local what = name .. "{" .. set .. "}"
        assert(s.sum and s.count, what .. " lacks _sum or _count")
        assert(s.count >= 0 and math.type(s.count) == "integer", what .. "_count must be a whole number")
        for _, q in ipairs({ "0.5", "0.9", "0.99", "0.999" }) do
          local v = s.q[q]
          assert(v, what .. " lacks quantile " .. q)
          if s.count == 0 then
            assert(v ~= v, what .. ": an empty summary's quantiles are NaN")
          else
            assert(v >= 0, what .. " quantile " .. q)
          end
        end
        assert(s.q["0.5"] <= s.q["0.9"] and s.q["0.9"] <= s.q["0.99"] and s.q["0.99"] <= s.q["0.999"]
          or s.count == 0, what .. ": quantiles must not decrease")
      end
    end
  end
  return fams
end

-- Busy-wait until the monotonic clock has advanced 'ms' milliseconds.
local function spin(ms)
  local t = lispbt.clock_ns()
  while lispbt.clock_ns() - t < ms * 1e6 do
  end
end

-- The id an instance is labelled with (bt_instance="ID").
local function instid(inst)
  return assert(tostring(inst):match("^lispbt%.instance (%d+) "))
end

-- A host with several trees and instances, ticks, finished scheduler jobs,
-- a leaf error, a budget overrun, planner calls and collections.
local function busyhost()
  local host = lispbt.new{ workers = 2 }
  host:register_action("work", function() return "success" end)
  host:register_action("boom", function() error("boom", 0) end)
  host:register_action("slow", function() spin(2) return "success" end)
  local jobs = host:compile("(seq (act work) (act async-sleep-ms 1))")
  local flaky = host:compile("(sel (act boom) (act always-success))")
  local over = host:compile("(seq (act slow))")
  local insts = { jobs:instance(), jobs:instance(), flaky:instance(), over:instance(),
    flaky:instance() } -- the last is never ticked
  insts[4]:set_tick_budget_ms(1)
  local deadline = lispbt.clock_ns() + 30e9
  local pending = { insts[1], insts[2] }
  while #pending > 0 do
    assert(lispbt.clock_ns() < deadline, "scheduler jobs did not finish within 30 s")
    for k = #pending, 1, -1 do
      if pending[k]:tick() ~= "running" then
        table.remove(pending, k)
      end
    end
    lispbt.sleep_ms(1)
  end
  for _ = 1, 5 do
    insts[1]:tick()
    insts[3]:tick()
  end
  -- those ticks may leave a job in flight, whose figures would then race the
  -- reads below: tick until it is done (a worker publishes a job's counts and
  -- histogram samples before its final status, which the leaf waits for)
  while insts[1]:tick() == "running" do
    assert(lispbt.clock_ns() < deadline, "scheduler jobs did not finish within 30 s")
    lispbt.sleep_ms(1)
  end
  insts[4]:tick()
  host.planner.mcts{ state = { 0.0 }, seed = 1, iters_max = 20, budget_ms = 10000 }
  host:eval("(define mk (lambda (n acc) (if (= n 0) acc (mk (- n 1) (cons (list n n) acc)))))")
  host:eval("(define junk (mk 2000 nil))")
  host:gc()
  host:gc()
  return host, insts
end

describe("metrics.prometheus", function()
  it("the format checker itself rejects what it must", function()
    local good = "# HELP lispbt_a_total a\n# TYPE lispbt_a_total counter\nlispbt_a_total 1\n"
    lint(good)
    local bad = {
      interleaved = good .. "# HELP lispbt_b_total b\n# TYPE lispbt_b_total counter\n" ..
        "lispbt_b_total 1\nlispbt_a_total{x=\"1\"} 2\n",
      no_total = "# HELP lispbt_a a\n# TYPE lispbt_a counter\nlispbt_a 1\n",
      no_help = "# TYPE lispbt_a gauge\nlispbt_a 1\n",
      instance = "# HELP lispbt_a a\n# TYPE lispbt_a gauge\nlispbt_a{instance=\"1\"} 1\n",
      quantile_gauge = "# HELP lispbt_a_seconds a\n# TYPE lispbt_a_seconds gauge\n" ..
        "lispbt_a_seconds{quantile=\"0.5\"} 1\n",
      no_sum = "# HELP lispbt_a_seconds a\n# TYPE lispbt_a_seconds summary\n" ..
        "lispbt_a_seconds{quantile=\"0.5\"} 1\nlispbt_a_seconds{quantile=\"0.9\"} 1\n" ..
        "lispbt_a_seconds{quantile=\"0.99\"} 1\nlispbt_a_seconds{quantile=\"0.999\"} 1\n" ..
        "lispbt_a_seconds_count 1\n",
      bad_escape = "# HELP lispbt_a a\n# TYPE lispbt_a gauge\nlispbt_a{x=\"\\t\"} 1\n",
      duplicate = "# HELP lispbt_a a\n# TYPE lispbt_a gauge\nlispbt_a{x=\"1\"} 1\nlispbt_a{x=\"1\"} 2\n",
    }
    for what, text in pairs(bad) do
      assert.is_false(pcall(lint, text), what)
    end
  end)

  it("renders a busy host as one contiguous, typed, documented family per metric #nostress", function()
    local host, insts = busyhost()
    local text = host.metrics.prometheus(table.unpack(insts))
    local fams = lint(text)
    for _, name in ipairs({ "lispbt_gc_pause_seconds", "lispbt_scheduler_queue_delay_seconds",
      "lispbt_scheduler_run_time_seconds", "lispbt_planner_time_seconds", "lispbt_bt_tick_seconds" }) do
      assert.are.equal("summary", fams[name] and fams[name].type, name)
    end
    for _, name in ipairs({ "lispbt_bt_ticks_total", "lispbt_bt_tick_overruns_total",
      "lispbt_bt_errors_total", "lispbt_scheduler_jobs_total", "lispbt_log_records_total",
      "lispbt_gc_collections_total", "lispbt_planner_calls_total" }) do
      assert.are.equal("counter", fams[name] and fams[name].type, name)
    end
    -- every instance, under bt_instance, with its own figures
    local ticks = fams.lispbt_bt_tick_seconds.sets
    for _, inst in ipairs(insts) do
      local s, id = inst:stats(), instid(inst)
      assert.are.equal(s.tick_count, fams.lispbt_bt_ticks_total.series["lispbt_bt_ticks_total{bt_instance=" .. id .. "}"])
      assert.are.equal(s.errors, fams.lispbt_bt_errors_total.series["lispbt_bt_errors_total{bt_instance=" .. id .. "}"])
      assert.are.equal(s.tick_overrun_count,
        fams.lispbt_bt_tick_overruns_total.series["lispbt_bt_tick_overruns_total{bt_instance=" .. id .. "}"])
      assert.are.equal(s.tick_count, ticks["bt_instance=" .. id].count)
    end
    assert.are.equal(0, ticks["bt_instance=" .. instid(insts[5])].count)
    assert.is_true(fams.lispbt_bt_errors_total.series["lispbt_bt_errors_total{bt_instance=" .. instid(insts[3]) .. "}"] > 0)
    assert.are.equal(1, fams.lispbt_bt_tick_overruns_total.series["lispbt_bt_tick_overruns_total{bt_instance=" .. instid(insts[4]) .. "}"])
    -- the scheduler's summaries count what it ran
    local sched = host:scheduler_stats()
    assert.is_true(sched.started >= 2)
    assert.are.equal(sched.started, fams.lispbt_scheduler_queue_delay_seconds.sets[""].count)
    assert.are.equal(sched.completed + sched.failed + sched.cancelled,
      fams.lispbt_scheduler_run_time_seconds.sets[""].count)
    assert.are.equal(sched.run_time_max_ns / 1e9, fams.lispbt_scheduler_run_time_seconds.sets[""].q["0.999"])
    local heap = host:heap()
    local gc = fams.lispbt_gc_pause_seconds.sets[""]
    assert.are.equal(heap.gc_pauses, gc.count) -- a pause: each incremental step or full collection
    assert.are.equal(heap.gc_total_pause_ns / 1e9, gc.sum)
    assert.are.equal(1, fams.lispbt_planner_time_seconds.sets[""].count)
    host:close()
  end)

  it("passes `promtool check metrics` without a message", function()
    -- a hard requirement (.ci/deps installs it), never a pending spec
    assert(os.execute("command -v promtool >/dev/null 2>&1"),
      "promtool is not installed (Debian package prometheus; `make deps` installs it)")
    local host, insts = busyhost()
    local text = host.metrics.prometheus(table.unpack(insts))
    host:close()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
    -- not under a sanitizer runtime that `make sanitize` preloads for lua5.4
    local p = assert(io.popen("env -u LD_PRELOAD promtool check metrics < '" .. path .. "' 2>&1"))
    local out = p:read("a")
    local ok, how, code = p:close()
    os.remove(path)
    assert.are.equal("", out)
    assert.are.same({ true, "exit", 0 }, { ok, how, code })
  end)

  it("renders an instance given twice once, and with no instance only the host", function()
    local host <close> = lispbt.new()
    local inst = host:compile("(act always-success)"):instance()
    inst:tick()
    local fams = lint(host.metrics.prometheus(inst, inst))
    local n = 0
    for _ in pairs(fams.lispbt_bt_ticks_total.series) do
      n = n + 1
    end
    assert.are.equal(1, n)
    fams = lint(host.metrics.prometheus())
    assert.is_nil(fams.lispbt_bt_ticks_total)
    assert.is_not_nil(fams.lispbt_gc_pause_seconds)
  end)
end)
