--[[
lispbt.perf -- drive an instance at a cadence, summarise, report, assert.

  local perf = require("lispbt.perf")
  local summary = perf.run(inst, { hz = 60, seconds = 2 })   -- or ticks = N
  print(perf.report(inst, summary))
  perf.register(assert)        -- luassert: assert.no_overruns(inst), ...

Timing figures come from the engine's own counters (inst:stats(), the
tick histogram), never from wall-clock arithmetic in Lua, so a report is
the same numbers bt.stats prints.  A cadence run sleeps between ticks with
lispbt.sleep_ms (no process spawn) and keeps a fixed schedule: a late tick
does not shift the ones after it, and missed slots are counted.
]]

local lispbt = require("lispbt")

local perf = {}

-- Module-level mirrored builtins act on their instance argument's own host.
local function check_inst(inst, fname)
  if type(inst) ~= "userdata" or not tostring(inst):match("^lispbt%.instance") then
    error(("%s: bad argument #1 (lispbt.instance expected, got %s)"):format(fname, type(inst)), 3)
  end
end

local function heap_counts(host)
  local h = host:heap()
  return h.c_heap_allocations, h.total_allocated_objects, h.gc_total_pause_ns, h.collections
end

--- Drive 'inst' for opts.ticks ticks or opts.seconds seconds.
-- opts.hz (default 0 = as fast as possible), opts.input: table or
-- function(i) -> table given to inst:tick, opts.host: the host (to report
-- allocation and GC deltas), opts.on_tick: function(i, status).
-- Returns a summary table.
function perf.run(inst, opts)
  check_inst(inst, "run")
  opts = opts or {}
  if type(opts) ~= "table" then
    error(("run: bad argument #2 (table expected, got %s)"):format(type(opts)), 2)
  end
  local hz = opts.hz or 0
  if type(hz) ~= "number" or hz < 0 then
    error("run: bad argument #2 (hz must be a non-negative number)", 2)
  end
  local ticks, seconds = opts.ticks, opts.seconds
  if ticks == nil and seconds == nil then
    error("run: bad argument #2 (give ticks or seconds)", 2)
  end
  if ticks ~= nil and (math.type(ticks) ~= "integer" or ticks < 0) then
    error("run: bad argument #2 (ticks must be a non-negative integer)", 2)
  end
  if seconds ~= nil and (type(seconds) ~= "number" or seconds < 0) then
    error("run: bad argument #2 (seconds must be a non-negative number)", 2)
  end
  local input, on_tick, host = opts.input, opts.on_tick, opts.host
  local period_ns = hz > 0 and math.floor(1e9 / hz) or 0
  local before = inst:stats()
  local a0, o0, g0, c0
  if host then a0, o0, g0, c0 = heap_counts(host) end
  local statuses = { success = 0, failure = 0, running = 0 }
  local start = lispbt.clock_ns()
  local deadline = seconds and start + math.floor(seconds * 1e9) or nil
  local next_at, missed, n = start, 0, 0
  while true do
    if ticks and n >= ticks then break end
    local now = lispbt.clock_ns()
    if deadline and now >= deadline then break end
    if period_ns > 0 then
      if now < next_at then
        lispbt.sleep_ms((next_at - now) / 1e6)
      elseif now - next_at > period_ns then
        missed = missed + (now - next_at) // period_ns  -- slots we could not keep
        next_at = now
      end
      next_at = next_at + period_ns
    end
    n = n + 1
    local arg = input
    if type(input) == "function" then arg = input(n) end
    local st = inst:tick(arg)
    statuses[st] = statuses[st] + 1
    if on_tick then on_tick(n, st) end
  end
  local elapsed = lispbt.clock_ns() - start
  local after = inst:stats()
  local s = {
    ticks = n,
    elapsed_ns = elapsed,
    hz = hz,
    missed_slots = missed,
    success = statuses.success, failure = statuses.failure, running = statuses.running,
    overruns = after.tick_overrun_count - before.tick_overrun_count,
    errors = after.errors - before.errors,
    tick_total_ns = after.tick_total_ns - before.tick_total_ns,
    tick_max_ns = after.tick_max_ns,
    tick_p50_ns = after.tick_p50_ns, tick_p90_ns = after.tick_p90_ns,
    tick_p99_ns = after.tick_p99_ns, tick_p999_ns = after.tick_p999_ns,
  }
  s.tick_mean_ns = n > 0 and s.tick_total_ns // n or 0
  if host then
    local a1, o1, g1, c1 = heap_counts(host)
    s.c_heap_allocations = a1 - a0
    s.lisp_objects_allocated = o1 - o0
    s.gc_pause_ns = g1 - g0
    s.collections = c1 - c0
  end
  return s
end

local function fmt_ns(ns)
  if ns >= 1e9 then return ("%.2f s"):format(ns / 1e9) end
  if ns >= 1e6 then return ("%.2f ms"):format(ns / 1e6) end
  if ns >= 1e3 then return ("%.2f us"):format(ns / 1e3) end
  return ("%d ns"):format(ns)
end

-- The tree of 'inst' as { {depth, label, id, last-flags}, ... } in preorder
-- (the node ids of inst:stats()), read from the DOT text of
-- lispbt.bt.export_dot(inst): its node ids are post-order, root last.
local function tree_rows(inst)
  local dot = lispbt.bt.export_dot(inst)
  local labels, kids, maxid = {}, {}, -1
  for line in dot:gmatch("[^\n]+") do
    local id, rest = line:match('^  n(%d+) %[label="(.*)$')
    if id then
      id = tonumber(id)
      local parts, cur, i = {}, {}, 1
      while i <= #rest do
        local c = rest:sub(i, i)
        if c == "\\" then
          local e = rest:sub(i + 1, i + 1)
          if e == "n" then parts[#parts + 1] = table.concat(cur); cur = {}
          else cur[#cur + 1] = e end
          i = i + 2
        elseif c == '"' then
          break
        else
          cur[#cur + 1] = c
          i = i + 1
        end
      end
      parts[#parts + 1] = table.concat(cur)
      local name, kind = parts[2], parts[3]
      if name and name:sub(1, 1) == "[" then name, kind = nil, parts[2] end
      kind = kind and kind:match("^%[(.*)%]$") or kind or "?"
      labels[id] = name and (kind .. " " .. name) or kind
      kids[id] = kids[id] or {}
      if id > maxid then maxid = id end
    else
      local a, b = line:match("^  n(%d+) %-> n(%d+);")
      if a then
        a, b = tonumber(a), tonumber(b)
        kids[a] = kids[a] or {}
        table.insert(kids[a], b)
      end
    end
  end
  local rows = {}
  local function walk(id, prefix, last, depth)
    local lead = depth == 0 and "" or prefix .. (last and "`- " or "|- ")
    rows[#rows + 1] = { lead = lead, label = labels[id], pre = #rows }
    local k = kids[id] or {}
    for i, c in ipairs(k) do
      walk(c, depth == 0 and "" or prefix .. (last and "   " or "|  "), i == #k, depth + 1)
    end
  end
  if maxid >= 0 then walk(maxid, "", true, 0) end
  return rows
end

--- The tree of 'inst' as text: one line per node, indented as the tree,
-- with a bar of '*' for the node's share of tick time (its time over the
-- root's, children included; by visits when no tick was timed), the same
-- share the HTML report colours by, then p99, and the node's failure and
-- running rates.  opts.width: characters of a full bar (default 20).
function perf.tree(inst, opts)
  check_inst(inst, "tree")
  opts = opts or {}
  local width = opts.width or 20
  local st = inst:stats()
  local byid = {}
  for _, n in ipairs(st.nodes) do byid[n.id] = n end
  local rows = tree_rows(inst)
  local root = byid[0] or {}
  local timed = (root.total_ns or 0) > 0
  local function weight(n)
    if timed then return n.total_ns or 0 end
    return (n.success or 0) + (n.failure or 0) + (n.running or 0)
  end
  local rootw = weight(root)
  local namew = 0
  for _, r in ipairs(rows) do
    r.text = r.lead .. r.label
    if #r.text > 44 then r.text = r.text:sub(1, 43) .. "~" end
    if #r.text > namew then namew = #r.text end
  end
  local out = { ("tree: share of %s, one * = %g%%; p99; failure and running rates of visits")
    :format(timed and "tick time" or "visits", 100 / width) }
  for _, r in ipairs(rows) do
    local n = byid[r.pre] or {}
    local visits = (n.success or 0) + (n.failure or 0) + (n.running or 0)
    local share = rootw > 0 and weight(n) / rootw or 0
    local stars = math.floor(share * width + 0.5)
    if stars == 0 and share > 0 then stars = 1 end
    local line = ("%-" .. namew .. "s %6.1f%% %-" .. width .. "s"):format(r.text, share * 100,
      ("*"):rep(stars))
    if visits > 0 then
      line = line .. ("  p99=%-9s fail=%3d%% run=%3d%%"):format(
        timed and fmt_ns(n.p99_ns or 0) or "-", math.floor(100 * n.failure / visits + 0.5),
        math.floor(100 * n.running / visits + 0.5))
    else
      line = line .. "  (never ticked)"
    end
    out[#out + 1] = line
  end
  return table.concat(out, "\n")
end

--- A text report: run summary (if given), tick percentiles, the tick
-- histogram, the slowest nodes by p99, the tree with its hot nodes.
function perf.report(inst, summary, opts)
  check_inst(inst, "report")
  opts = opts or {}
  local top = opts.top or 8
  local st = inst:stats()
  local out = {}
  local function line(fmtstr, ...) out[#out + 1] = fmtstr:format(...) end
  line("== lispbt perf report ==")
  if summary then
    line("run: %d ticks in %s%s, success=%d failure=%d running=%d, missed slots=%d",
      summary.ticks, fmt_ns(summary.elapsed_ns),
      summary.hz > 0 and (" at %g Hz"):format(summary.hz) or "",
      summary.success, summary.failure, summary.running, summary.missed_slots)
    if summary.c_heap_allocations then
      line("allocation: %d C-heap allocations, %d Lisp objects, %d collections (%s GC)",
        summary.c_heap_allocations, summary.lisp_objects_allocated, summary.collections,
        fmt_ns(summary.gc_pause_ns))
    end
  end
  line("ticks: count=%d overruns=%d errors=%d budget=%d ms", st.tick_count,
    st.tick_overrun_count, st.errors, st.tick_budget_ms)
  line("tick time: p50=%s p90=%s p99=%s p999=%s max=%s mean=%s",
    fmt_ns(st.tick_p50_ns), fmt_ns(st.tick_p90_ns), fmt_ns(st.tick_p99_ns),
    fmt_ns(st.tick_p999_ns), fmt_ns(st.tick_max_ns),
    fmt_ns(st.tick_count > 0 and st.tick_total_ns // st.tick_count or 0))
  line("tick histogram:")
  out[#out + 1] = lispbt.bt.histogram(inst)
  local nodes = {}
  for _, n in ipairs(st.nodes) do nodes[#nodes + 1] = n end
  table.sort(nodes, function(a, b) return a.p99_ns > b.p99_ns end)
  if st.profile_level == "timing" and #nodes > 0 then
    line("slowest nodes by p99 (profile level timing):")
    for i = 1, math.min(top, #nodes) do
      local n = nodes[i]
      line("  node %-4d %-28s p50=%-10s p99=%-10s max=%-10s s/f/r=%d/%d/%d", n.id, n.name,
        fmt_ns(n.p50_ns), fmt_ns(n.p99_ns), fmt_ns(n.max_ns), n.success, n.failure, n.running)
    end
  end
  out[#out + 1] = perf.tree(inst)
  return table.concat(out, "\n")
end

--- Register luassert assertions on 'assert' (the busted global):
--   assert.tick_p99_below(inst, ms)
--   assert.no_overruns(inst)
--   assert.allocation_free_ticks(inst, host[, n = 1000])   -- ticks n more times
function perf.register(assert)
  local say = require("say")

  local function p99_below(state, args)
    local inst, ms = args[1], args[2]
    local p99 = inst:stats().tick_p99_ns
    args[3] = p99 / 1e6
    args.n = 3
    return p99 < ms * 1e6
  end
  say:set("assertion.tick_p99_below.positive", "Expected tick p99 below %s ms, got %s ms\n%s")
  say:set("assertion.tick_p99_below.negative", "Expected tick p99 not below %s ms, got %s ms")
  assert:register("assertion", "tick_p99_below", function(state, args)
    local inst = args[1]
    local ok = p99_below(state, args)
    -- present the numbers in the message: (inst, ms) -> (ms, actual, tree)
    args[1], args[2] = args[2], args[3]
    args[3] = ok and "" or perf.tree(inst)
    args.n = 3
    return ok
  end, "assertion.tick_p99_below.positive", "assertion.tick_p99_below.negative")

  say:set("assertion.no_overruns.positive", "Expected no tick budget overruns, got %s\n%s")
  say:set("assertion.no_overruns.negative", "Expected tick budget overruns, got %s")
  assert:register("assertion", "no_overruns", function(state, args)
    local inst = args[1]
    local n = inst:stats().tick_overrun_count
    args[1] = n
    args[2] = n == 0 and "" or perf.tree(inst)
    args.n = 2
    return n == 0
  end, "assertion.no_overruns.positive", "assertion.no_overruns.negative")

  say:set("assertion.allocation_free_ticks.positive",
    "Expected allocation-free ticks, got %s C-heap allocations and %s Lisp objects")
  say:set("assertion.allocation_free_ticks.negative",
    "Expected ticks to allocate, got %s C-heap allocations and %s Lisp objects")
  assert:register("assertion", "allocation_free_ticks", function(state, args)
    local inst, host, n = args[1], args[2], args[3] or 1000
    local a0, o0 = heap_counts(host)
    for _ = 1, n do inst:tick() end
    local a1, o1 = heap_counts(host)
    args[1], args[2] = a1 - a0, o1 - o0
    args[3] = nil
    args.n = 2
    return a1 == a0 and o1 == o0
  end, "assertion.allocation_free_ticks.positive", "assertion.allocation_free_ticks.negative")
end

return perf
