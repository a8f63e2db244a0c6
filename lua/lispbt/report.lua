--[[
lispbt.report -- one self-contained HTML page from a canonical event stream
(mbt.evt.v1 JSON lines: lispbt's, or the reference runtime's).

  local report = require("lispbt.report")
  report.file("run.jsonl", "report.html")     -- what bin/lispbt-report runs
  report.html(host, "report.html")            -- from a live host's stream
  local model = report.parse_lines(lines)     -- the aggregated figures

The page has no external reference at all: the styles, the script (plain
SVG drawn by hand-written JS) and the data are inline.  The data is
aggregated here, in Lua, so the page stays small whatever the run's length:
percentiles and histograms use every tick, while the time series are
downsampled to at most MAX_SERIES points (the page says so when it happens).
docs/report.md explains every panel.

Pure Lua 5.4 with no C module: the command works on a saved file without
lispbt.so.
]]

local R = {}

R.VERSION = "0.1.0"
R.SCHEMA = "mbt.evt.v1"
-- Limits on what goes into the page (each documented in docs/report.md).
R.MAX_SERIES = 2000   -- points of a time series (ticks, heap, allocations, queue depth)
R.MAX_SPARK = 120     -- points of a node's time-per-tick sparkline
R.MAX_SPARK_POINTS = 60000 -- sparkline points of all nodes together (a large tree gets fewer each)
R.MAX_GC = 2000       -- collections drawn
R.MAX_JOBS = 2000     -- scheduler jobs drawn
R.MAX_PLANNER = 2000  -- planner calls drawn
R.MAX_BB = 3000       -- blackboard changes drawn
R.MAX_BB_KEYS = 60    -- blackboard keys drawn (the busiest)
R.MAX_ISSUES = 200    -- warnings and errors listed
R.MAX_PREVIEW = 80    -- bytes of a blackboard preview kept
R.HIST_BINS = 40      -- bins of the tick-duration histogram

-- ---------------------------------------------------------------------------
-- JSON

local NULL = setmetatable({}, { __name = "json null", __tostring = function() return "null" end })
R.null = NULL
local OBJ = { __name = "json object" } -- marks a table to encode as {} when empty

local escapes = { ['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f', n = '\n', r = '\r', t = '\t' }

--- Decode one JSON text.  Returns the value, or nil and "PROBLEM at column N".
function R.decode(s)
  local pos = 1
  local function fail(msg) error({ msg = msg .. " at column " .. pos }, 0) end
  local function skip()
    pos = s:find("[^ \t\r\n]", pos) or #s + 1
  end
  local value
  local function str()
    local i, buf = pos + 1, nil
    while true do
      local j = s:find('["\\%c]', i)
      if not j then fail("unterminated string") end -- at its opening quote
      local c = s:sub(j, j)
      if c == '"' then
        local piece = s:sub(i, j - 1)
        pos = j + 1
        if buf then buf[#buf + 1] = piece; return table.concat(buf) end
        return piece
      elseif c == "\\" then
        buf = buf or {}
        buf[#buf + 1] = s:sub(i, j - 1)
        local e = s:sub(j + 1, j + 1)
        if e == "u" then
          local hex = s:match("^%x%x%x%x", j + 2)
          if not hex then pos = j; fail("bad \\u escape") end
          local cp, nxt = tonumber(hex, 16), j + 6
          if cp >= 0xD800 and cp <= 0xDBFF then
            local lo = s:match("^\\u(%x%x%x%x)", nxt)
            if lo and tonumber(lo, 16) >= 0xDC00 and tonumber(lo, 16) <= 0xDFFF then
              cp = 0x10000 + (cp - 0xD800) * 0x400 + (tonumber(lo, 16) - 0xDC00)
              nxt = nxt + 6
            end
          end
          buf[#buf + 1] = utf8.char(cp)
          i = nxt
        else
          local r = escapes[e]
          if not r then pos = j; fail("bad escape '\\" .. e .. "'") end
          buf[#buf + 1] = r
          i = j + 2
        end
      else
        pos = j
        fail("control character in a string")
      end
    end
  end
  function value()
    skip()
    local c = s:sub(pos, pos)
    if c == "{" then
      local t = setmetatable({}, OBJ)
      pos = pos + 1
      skip()
      if s:sub(pos, pos) == "}" then pos = pos + 1; return t end
      while true do
        skip()
        if s:sub(pos, pos) ~= '"' then fail("expected a string key") end
        local k = str()
        skip()
        if s:sub(pos, pos) ~= ":" then fail("expected ':'") end
        pos = pos + 1
        t[k] = value()
        skip()
        c = s:sub(pos, pos)
        pos = pos + 1
        if c == "}" then return t end
        if c ~= "," then pos = pos - 1; fail("expected ',' or '}'") end
      end
    elseif c == "[" then
      local t, n = {}, 0
      pos = pos + 1
      skip()
      if s:sub(pos, pos) == "]" then pos = pos + 1; return t end
      while true do
        n = n + 1
        t[n] = value()
        skip()
        c = s:sub(pos, pos)
        pos = pos + 1
        if c == "]" then return t end
        if c ~= "," then pos = pos - 1; fail("expected ',' or ']'") end
      end
    elseif c == '"' then
      return str()
    elseif c == "-" or c:match("%d") then
      local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not num or not num:match("^-?%d+%.?%d*$") and not num:match("^-?%d+%.?%d*[eE][-+]?%d+$")
          or num:match("%.$") or num:match("%.[eE]") then
        fail("bad number")
      end
      pos = pos + #num
      return math.tointeger(tonumber(num)) or tonumber(num)
    elseif s:sub(pos, pos + 3) == "true" then
      pos = pos + 4
      return true
    elseif s:sub(pos, pos + 4) == "false" then
      pos = pos + 5
      return false
    elseif s:sub(pos, pos + 3) == "null" then
      pos = pos + 4
      return NULL
    elseif c == "" then
      fail("unexpected end of text")
    end
    fail("unexpected character '" .. c .. "'")
  end
  local ok, v = pcall(function()
    local r = value()
    skip()
    if pos <= #s then fail("text after the value") end
    return r
  end)
  if ok then return v end
  if type(v) == "table" then return nil, v.msg end
  error(v, 0)
end

local function isarray(t)
  if getmetatable(t) == OBJ then return false end
  if next(t) == nil then return true end
  return t[1] ~= nil
end

local function numstr(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  if math.type(x) == "integer" then return tostring(x) end
  if x == math.floor(x) and math.abs(x) < 2 ^ 53 then return ("%d"):format(x) end
  return ("%.6g"):format(x)
end

local function encode_string(s, out)
  out[#out + 1] = '"' .. s:gsub('[%c"\\<>&\226]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    if c == "\n" then return "\\n" end
    if c == "\226" then return c end -- first byte of U+2028/9: harmless in JSON
    return ("\\u%04x"):format(c:byte())
  end) .. '"'
end

local function encode(v, out)
  local t = type(v)
  if v == nil or v == NULL then
    out[#out + 1] = "null"
  elseif t == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif t == "number" then
    out[#out + 1] = numstr(v)
  elseif t == "string" then
    encode_string(v, out)
  elseif t == "table" then
    if isarray(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        encode_string(k, out)
        out[#out + 1] = ":"
        local x = v[k]
        if x == nil then x = v[tonumber(k)] end
        encode(x, out)
      end
      out[#out + 1] = "}"
    end
  else
    error("report: cannot encode a " .. t .. " as JSON", 0)
  end
end

--- JSON text of a Lua value, safe inside an HTML <script> element.
function R.encode(v)
  local out = {}
  encode(v, out)
  return table.concat(out)
end

local function obj(t) return setmetatable(t or {}, OBJ) end

-- ---------------------------------------------------------------------------
-- Aggregation

local function num(x) return type(x) == "number" and x or nil end
local function str(x) return type(x) == "string" and x or nil end
local function tab(x) return type(x) == "table" and x ~= NULL and x or nil end
local function nn(x) if x == nil then return NULL end return x end -- a hole in an array

local function round(x, digits)
  local m = 10 ^ (digits or 4)
  return math.floor(x * m + 0.5) / m
end

-- Nearest-rank percentile of a sorted array.
local function pct(sorted, p)
  local n = #sorted
  if n == 0 then return 0 end
  local k = math.ceil(p / 100 * n)
  if k < 1 then k = 1 end
  if k > n then k = n end
  return sorted[k]
end

local function percentiles(values)
  local s = table.move(values, 1, #values, 1, {})
  table.sort(s)
  return { p50 = pct(s, 50), p90 = pct(s, 90), p99 = pct(s, 99), p999 = pct(s, 99.9),
           max = s[#s] or 0, min = s[1] or 0 }, s
end

-- Keep at most 'max' of the items, evenly spread, always the last one.
local function thin(items, max)
  local n = #items
  if n <= max then return items, false end
  local out = {}
  for i = 1, max do
    out[i] = items[math.floor((i - 1) * (n - 1) / (max - 1)) + 1]
  end
  return out, true
end

local function issue_message(d)
  local m = str(d.message) or str(d.reason) or str(d.detail)
  if m then return m end
  local parts = {}
  for k, v in pairs(d) do
    if type(v) ~= "table" then parts[#parts + 1] = k .. "=" .. tostring(v) end
  end
  table.sort(parts)
  return table.concat(parts, " ")
end

--- A collector: feed it decoded events with :add(ev, where), then :finish().
local function collector(opts)
  local C = {
    opts = opts or {},
    n = 0, types = {}, runs = {}, run_start = nil, run_end = nil, trees = {},
    t0 = nil, tlast = 0, budget = nil,
    ticks = {},        -- { t, tick, dur, status, budget, warned }
    open = {},         -- tick number -> { t, budget, warned }
    nodes = {},        -- node id -> stats
    touched = {},      -- node ids run in the current tick, with their time
    gc = {}, gcopen = {}, heap = {}, audit = {},
    jobs = {}, joborder = {}, qdepth = {}, qcur = 0,
    pstart = {}, pcalls = {}, precords = {},
    bb = {}, bbkeys = {}, snapshots = {},
    issues = {}, nissues = 0,
  }

  local function nodeof(id)
    local s = C.nodes[id]
    if not s then
      s = { id = id, n = 0, success = 0, failure = 0, running = 0, other = 0, total = 0, durs = {},
            per = {}, enters = 0 }
      C.nodes[id] = s
    end
    return s
  end

  local function current_budget(d)
    local b = num(d.tick_budget_ms)
    if not b and tab(d.budget) then b = num(d.budget.tick_budget_ms) end
    return b
  end

  local function issue(ev, t, kind)
    C.nissues = C.nissues + 1
    if #C.issues < R.MAX_ISSUES then
      local d = ev.data
      C.issues[#C.issues + 1] = { t = t, tick = num(ev.tick), type = kind,
                                  level = str(d.level), node = num(d.node_id),
                                  msg = issue_message(d) }
    end
  end

  local handlers = {}

  function handlers.run_start(ev, d)
    C.runs[#C.runs + 1] = ev.run_id
    C.run_start = C.run_start or d
  end

  function handlers.run_end(ev, d)
    C.run_end = d
  end

  function handlers.bt_def(ev, d, where)
    if type(d.nodes) ~= "table" or type(d.edges) ~= "table" then
      error(where .. ": bt_def without its nodes and edges arrays", 0)
    end
    local nodes, edges = {}, {}
    for i, n in ipairs(d.nodes) do
      if type(n) ~= "table" or math.type(n.id) ~= "integer" then
        error(("%s: bt_def node %d has no integer id"):format(where, i), 0)
      end
      nodes[#nodes + 1] = { id = n.id, kind = str(n.kind) or "?", name = str(n.name) or "" }
    end
    for i, e in ipairs(d.edges) do
      if type(e) ~= "table" or math.type(e.parent) ~= "integer" or math.type(e.child) ~= "integer" then
        error(("%s: bt_def edge %d needs integer parent and child"):format(where, i), 0)
      end
      edges[#edges + 1] = { e.parent, e.child, num(e.index) or 0 }
    end
    C.trees[#C.trees + 1] = { name = str(d.tree_name) or "bt", hash = str(d.tree_hash) or "",
                              dsl = str(d.dsl) or "", nodes = nodes, edges = edges }
  end

  function handlers.tick_begin(ev, d, _, t)
    local k = num(ev.tick) or -1
    C.open[k] = { t = t, budget = current_budget(d) }
  end

  function handlers.tick_end(ev, d, _, t)
    local k = num(ev.tick) or -1
    local o = C.open[k]
    C.open[k] = nil
    local dur = num(d.tick_ms) or (tab(d.budget) and num(d.budget.tick_time_ms)) or num(d.tick_elapsed_ms)
    if not dur and o then dur = t - o.t end
    dur = dur or 0
    local budget = current_budget(d) or (o and o.budget) or C.budget or C.opts.budget_ms
    if budget then C.budget = budget end
    local warned = o and o.warned or (C.warnedtick == k)
    C.warnedtick = nil
    local over = (budget and budget > 0 and dur > budget) or warned or false
    local idx = #C.ticks + 1
    C.ticks[idx] = { t = o and o.t or t, tick = k, dur = dur, status = str(d.root_status) or str(d.status) or "?",
                     budget = budget, over = over }
    for id, v in pairs(C.touched) do
      local s = C.nodes[id]
      s.per[#s.per + 1] = idx
      s.per[#s.per + 1] = v
      C.touched[id] = nil
    end
  end

  function handlers.node_enter(ev, d)
    local id = num(d.node_id)
    if id then local s = nodeof(id); s.enters = s.enters + 1 end
  end

  function handlers.node_exit(ev, d, where)
    local id = num(d.node_id)
    if not id then error(where .. ": node_exit without a node_id", 0) end
    local s = nodeof(id)
    local st = str(d.status)
    s.n = s.n + 1
    if st == "success" or st == "failure" or st == "running" then s[st] = s[st] + 1 else s.other = s.other + 1 end
    local dur = num(d.dur_ms)
    if dur then
      s.total = s.total + dur
      s.durs[#s.durs + 1] = dur
      C.touched[id] = (C.touched[id] or 0) + dur
    end
  end

  local function warn_tick(ev, d)
    local k = num(ev.tick)
    if k and C.open[k] then C.open[k].warned = true end
    if k then C.warnedtick = k end
    local b = str(d.message) and tonumber(d.message:match("budget_ms=([%d.]+)"))
    if b then C.budget = b; if k and C.open[k] then C.open[k].budget = C.open[k].budget or b end end
    local tb = num(d.tick_budget_ms)
    if tb then C.budget = tb end
  end

  function handlers.budget_warning(ev, d, _, t)
    warn_tick(ev, d)
    issue(ev, t, "budget_warning")
  end

  function handlers.deadline_exceeded(ev, d, _, t)
    warn_tick(ev, d)
    issue(ev, t, "deadline_exceeded")
  end

  function handlers.error(ev, d, _, t)
    issue(ev, t, "error")
  end

  function handlers.gc_begin(ev, d, _, t)
    C.gcopen[num(d.collection_id) or -1] = t
    local b = num(d.heap_live_bytes_before)
    if b then C.heap[#C.heap + 1] = { t, b } end
  end

  function handlers.gc_end(ev, d, _, t)
    local id = num(d.collection_id) or -1
    C.gc[#C.gc + 1] = { t = C.gcopen[id] or t, id = id, pause = (num(d.pause_time_ns) or 0) / 1e6,
                        before = num(d.heap_live_bytes_before), after = num(d.heap_live_bytes_after),
                        reason = str(d.reason), in_tick = d.in_tick == true, tick = num(ev.tick),
                        freed = num(d.freed_objects) }
    C.gcopen[id] = nil
    local a = num(d.heap_live_bytes_after)
    if a then C.heap[#C.heap + 1] = { t, a } end
  end

  function handlers.tick_audit(ev, d, _, t)
    C.audit[#C.audit + 1] = { t = t, tick = num(d.tick_id) or num(ev.tick),
                              allocs = num(d.allocation_count) or 0, bytes = num(d.allocation_bytes) or 0,
                              gc = num(d.gc_collections_delta) or 0 }
    local a = num(d.heap_live_bytes_after)
    if a then C.heap[#C.heap + 1] = { t, a } end
  end

  local function job(d, where)
    local id = d.job_id
    if id == nil or id == NULL then error(where .. ": scheduler event without a job_id", 0) end
    id = tostring(id)
    local j = C.jobs[id]
    if not j then
      j = { id = id }
      C.jobs[id] = j
      C.joborder[#C.joborder + 1] = j
    end
    j.node = j.node or num(d.node_id)
    return j
  end

  local function depth(t, delta, given)
    C.qcur = given or math.max(0, C.qcur + delta)
    C.qdepth[#C.qdepth + 1] = { t, C.qcur }
  end

  function handlers.sched_submit(ev, d, where, t)
    local j = job(d, where)
    j.submit = t
    j.queued = true
    depth(t, 1, num(d.queue_depth))
  end

  function handlers.sched_start(ev, d, where, t)
    local j = job(d, where)
    j.start = t
    j.worker = j.worker or (d.worker ~= nil and d.worker ~= NULL and tostring(d.worker)) or nil
    if j.queued then j.queued = false; depth(t, -1) end
  end

  local function endjob(ev, d, where, t, status)
    local j = job(d, where)
    j.finish = t
    j.status = str(d.status) or status
    j.worker = j.worker or (d.worker ~= nil and d.worker ~= NULL and tostring(d.worker)) or nil
    j.run_ms = num(d.run_time_ns) and d.run_time_ns / 1e6 or nil
    if j.queued then j.queued = false; depth(t, -1) end
  end

  function handlers.sched_finish(ev, d, where, t) endjob(ev, d, where, t, "done") end
  function handlers.sched_cancel(ev, d, where, t) endjob(ev, d, where, t, "cancelled") end

  function handlers.planner_call_start(ev, d, _, t)
    C.pstart[num(d.node_id) or -1] = { t = t, budget = num(d.budget_ms), planner = str(d.planner) }
  end

  function handlers.planner_call_end(ev, d, _, t)
    local id = num(d.node_id) or -1
    local s = C.pstart[id]
    C.pstart[id] = nil
    C.pcalls[#C.pcalls + 1] = { t = s and s.t or t, tick = num(ev.tick), node = num(d.node_id),
                                planner = str(d.planner) or (s and s.planner), status = str(d.status) or "?",
                                used = num(d.time_used_ms) or num(d.elapsed_ms) or (s and t - s.t) or 0,
                                budget = num(d.budget_ms) or (s and s.budget), work = num(d.work_done) }
  end

  function handlers.planner_v1(ev, d, where, t)
    local r = tab(d.record)
    if not r then error(where .. ": planner_v1 without its record", 0) end
    C.precords[#C.precords + 1] = { t = t, tick = num(ev.tick) or num(r.tick_index), node = num(r.node_id),
                                    name = str(r.node_name), planner = str(r.planner),
                                    status = str(r.status) or "?",
                                    used = num(r.time_used_ms) or num(r.elapsed_ms) or 0,
                                    budget = num(r.budget_ms), work = num(r.work_done) or num(r.iters) }
  end

  local function preview(p)
    if p == nil or p == NULL then return "" end
    if type(p) ~= "string" then p = R.encode(p) end
    if #p > R.MAX_PREVIEW then p = p:sub(1, R.MAX_PREVIEW) .. "..." end
    return p
  end

  local function bbkey(k)
    local s = C.bbkeys[k]
    if not s then
      s = { key = k, writes = 0, deletes = 0, nodes = {} }
      C.bbkeys[k] = s
    end
    return s
  end

  local function bbsource(d)
    local n = num(d.node_id) or num(d.source_node)
    if n then return n end
    return str(d.source)
  end

  function handlers.bb_write(ev, d, where, t)
    local k = str(d.key)
    if not k then error(where .. ": bb_write without a key", 0) end
    local s = bbkey(k)
    local src = bbsource(d)
    s.writes = s.writes + 1
    s.last = preview(d.preview)
    if src ~= nil then s.nodes[tostring(src)] = true end
    C.bb[#C.bb + 1] = { t, k, nn(src), nn(num(ev.tick)), s.last, "w" }
  end

  function handlers.bb_delete(ev, d, where, t)
    local k = str(d.key)
    if not k then error(where .. ": bb_delete without a key", 0) end
    local s = bbkey(k)
    local src = bbsource(d)
    s.deletes = s.deletes + 1
    s.last = "(deleted)"
    if src ~= nil then s.nodes[tostring(src)] = true end
    C.bb[#C.bb + 1] = { t, k, nn(src), nn(num(ev.tick)), "(deleted)", "d" }
  end

  function handlers.bb_snapshot(ev, d, _, t)
    local n = tab(d.entries) and #d.entries or 0
    C.snapshots[#C.snapshots + 1] = { t, nn(num(ev.tick)), n }
  end

  --- Add one decoded event; 'where' names it in errors ("FILE:LINE").
  function C:add(ev, where)
    if getmetatable(ev) ~= OBJ then
      error(where .. ": expected a JSON object (one event per line)", 0)
    end
    if ev.schema ~= R.SCHEMA then
      error(("%s: schema is %s, expected \"%s\" (is this an mbt.evt.v1 event stream?)"):format(
        where, ev.schema == nil and "missing" or R.encode(ev.schema), R.SCHEMA), 0)
    end
    if type(ev.type) ~= "string" or ev.type == "" then
      error(where .. ": event without a \"type\" string", 0)
    end
    if math.type(ev.unix_ms) ~= "integer" and type(ev.unix_ms) ~= "number" then
      error(where .. ": event without a numeric \"unix_ms\"", 0)
    end
    if getmetatable(ev.data) ~= OBJ then
      error(where .. ": event without a \"data\" object", 0)
    end
    C.n = C.n + 1
    C.types[ev.type] = (C.types[ev.type] or 0) + 1
    if not C.t0 then
      C.t0 = ev.unix_ms
      C.first = { type = ev.type, seq = math.type(ev.seq) == "integer" and ev.seq or nil }
    end
    local t = ev.unix_ms - C.t0
    if t > C.tlast then C.tlast = t end
    local h = handlers[ev.type]
    if h then
      h(ev, ev.data, where, t)
    elseif ev.type:match("timeout$") or ev.type:match("fail") or ev.type:match("invalid")
        or ev.type:match("dropped") or ev.type:match("rejected") then
      issue(ev, t, ev.type)
    end
  end

  local function series(points, max, combine)
    -- points: array of {t, v}; buckets by position keeping the max
    local n = #points
    if n <= max then return points, false end
    local out = {}
    for b = 1, max do
      local i0 = math.floor((b - 1) * n / max) + 1
      local i1 = math.floor(b * n / max)
      local best = points[i0]
      for i = i0 + 1, i1 do
        if combine(points[i], best) then best = points[i] end
      end
      out[b] = best
    end
    return out, true
  end

  function C:finish()
    local notes = {}
    if C.first.type ~= "run_start" and C.first.seq and C.first.seq > 1 then
      notes[#notes + 1] = ("the stream starts at seq %d, inside a run: its earlier events are not in it (a "
        .. "live host keeps only the newest lines: events.set-ring-size)"):format(C.first.seq)
    end
    local m = { version = R.VERSION, events = C.n, types = obj(C.types), runs = C.runs,
                duration_ms = C.tlast, t0 = C.t0, notes = notes }
    -- header
    local rs = C.run_start or {}
    local host = tab(rs.host) or {}
    m.header = obj{
      run_id = C.runs[1], runs = #C.runs, tree_hash = str(rs.tree_hash) or (C.trees[1] and C.trees[1].hash),
      host = str(host.name), host_version = str(host.version), platform = str(host.platform),
      git_sha = str(rs.git_sha), tick_hz = num(rs.tick_hz), contract = str(rs.contract_id),
      contract_version = str(rs.contract_version), capabilities = tab(rs.capabilities) and obj(rs.capabilities),
      lispbt_version = str(host.name) == "lispbt" and str(host.version) or nil,
      run_end = C.run_end and obj{ events = num(C.run_end.events), dropped = num(C.run_end.dropped) } or nil,
      budget_ms = C.budget or C.opts.budget_ms,
      budget_given = C.budget == nil and C.opts.budget_ms ~= nil or nil,
    }
    -- ticks
    local ticks = C.ticks
    local nt = #ticks
    local durs, total = {}, 0
    local overruns, status = 0, obj{}
    for i, k in ipairs(ticks) do
      durs[i] = k.dur
      total = total + k.dur
      if k.over then overruns = overruns + 1 end
      status[k.status] = (status[k.status] or 0) + 1
    end
    local tp, sorted = percentiles(durs)
    local tk = obj{ count = nt, total_ms = total, overruns = overruns, status = status,
                    p50 = tp.p50, p90 = tp.p90, p99 = tp.p99, p999 = tp.p999, max = tp.max, min = tp.min,
                    mean = nt > 0 and total / nt or 0, budget = C.budget or C.opts.budget_ms }
    -- time series, downsampled by keeping each bucket's slowest tick
    local pts = {}
    for i, k in ipairs(ticks) do pts[i] = { k.t, k.dur, i } end
    local kept, down = series(pts, R.MAX_SERIES, function(a, b) return a[2] > b[2] end)
    tk.t, tk.d, tk.i, tk.tick, tk.st, tk.ov, tk.b = {}, {}, {}, {}, {}, {}, {}
    for j, p in ipairs(kept) do
      local k = ticks[p[3]]
      tk.t[j], tk.d[j], tk.i[j], tk.tick[j] = p[1], round(p[2]), p[3], k.tick
      tk.st[j] = k.status:sub(1, 1)
      tk.ov[j] = k.over and 1 or 0
      tk.b[j] = k.budget or 0
    end
    tk.downsampled = down
    if down then
      notes[#notes + 1] = ("tick series: %d ticks drawn as %d points, each the slowest tick of its "
        .. "stretch; percentiles and the histogram use all %d ticks"):format(nt, #kept, nt)
    end
    -- histogram of all ticks: log-spaced bins
    local hist = {}
    if nt > 0 then
      local lo, hi = math.huge, sorted[nt]
      for _, v in ipairs(sorted) do if v > 0 then lo = v; break end end
      local zeros = 0
      for _, v in ipairs(sorted) do if v <= 0 then zeros = zeros + 1 else break end end
      if zeros > 0 then hist[#hist + 1] = { 0, 0, zeros } end
      if lo < math.huge then
        local bins = hi > lo and R.HIST_BINS or 1
        local llo, lhi = math.log(lo), math.log(hi)
        local w = (lhi - llo) / bins
        local counts = {}
        for b = 1, bins do counts[b] = 0 end
        for _, v in ipairs(sorted) do
          if v > 0 then
            local b = w > 0 and math.floor((math.log(v) - llo) / w) + 1 or 1
            if b > bins then b = bins end
            counts[b] = counts[b] + 1
          end
        end
        for b = 1, bins do
          hist[#hist + 1] = { round(math.exp(llo + (b - 1) * w), 6), round(math.exp(llo + b * w), 6), counts[b] }
        end
      end
    end
    tk.hist = hist
    -- five worst ticks
    local order = {}
    for i = 1, nt do order[i] = i end
    table.sort(order, function(a, b)
      if ticks[a].dur ~= ticks[b].dur then return ticks[a].dur > ticks[b].dur end
      return a < b
    end)
    local worst = {}
    for j = 1, math.min(5, nt) do
      local k = ticks[order[j]]
      worst[j] = obj{ i = order[j], t = k.t, tick = k.tick, dur = k.dur, status = k.status, over = k.over }
    end
    tk.worst = worst
    m.ticks = tk
    -- the tree (the last bt_def: the one the node ids refer to)
    local tree = C.trees[#C.trees]
    if #C.trees > 1 then
      notes[#notes + 1] = ("%d trees defined in the stream; the tree panel draws the last (%s), and "
        .. "node figures are by node id"):format(#C.trees, C.trees[#C.trees].hash)
    end
    local nodes = {}
    local nids = 0
    for _ in pairs(C.nodes) do nids = nids + 1 end
    local spark = math.min(R.MAX_SPARK, math.max(8, R.MAX_SPARK_POINTS // math.max(1, nids)), math.max(1, nt))
    local sparkdown = false
    local ids = {}
    for id in pairs(C.nodes) do ids[#ids + 1] = id end
    table.sort(ids)
    for _, id in ipairs(ids) do
      local s = C.nodes[id]
      local p = percentiles(s.durs)
      local sp = {}
      if nt > 0 and #s.per > 0 then
        for b = 1, spark do sp[b] = 0 end
        for q = 1, #s.per, 2 do
          local b = math.floor((s.per[q] - 1) * spark / nt) + 1
          if s.per[q + 1] > sp[b] then sp[b] = s.per[q + 1] end
        end
        for b = 1, spark do sp[b] = round(sp[b]) end
        if nt > spark then sparkdown = true end
      end
      nodes[#nodes + 1] = obj{ id = id, n = s.n, enters = s.enters, success = s.success, failure = s.failure,
                               running = s.running, other = s.other, total = s.total,
                               share = total > 0 and s.total / total or 0,
                               ticks = #s.per // 2,
                               p50 = p.p50, p90 = p.p90, p99 = p.p99, p999 = p.p999, max = p.max,
                               mean = #s.durs > 0 and s.total / #s.durs or 0, spark = sp }
    end
    if sparkdown then
      notes[#notes + 1] = ("node sparklines: %d ticks in %d buckets, each the bucket's largest time per tick")
        :format(nt, spark)
    end
    m.tree = tree and obj{ name = tree.name, hash = tree.hash, dsl = tree.dsl, nodes = tree.nodes,
                           edges = tree.edges } or nil
    m.nodes = nodes
    -- GC, heap, allocations
    local gc, gcd = thin(C.gc, R.MAX_GC)
    if gcd then
      notes[#notes + 1] = ("GC: %d collections, %d drawn"):format(#C.gc, #gc)
    end
    local gcp = {}
    local gtot = 0
    for i, g in ipairs(C.gc) do gcp[i] = g.pause; gtot = gtot + g.pause end
    local gpp = percentiles(gcp)
    local gout = {}
    for i, g in ipairs(gc) do
      gout[i] = obj{ t = g.t, id = g.id, pause = round(g.pause, 6), before = g.before, after = g.after,
                     reason = g.reason, in_tick = g.in_tick, tick = g.tick, freed = g.freed }
    end
    local heap, hd = series(C.heap, R.MAX_SERIES, function(a, b) return a[2] > b[2] end)
    if hd then
      notes[#notes + 1] = ("heap live bytes: %d samples drawn as %d, each the largest of its stretch")
        :format(#C.heap, #heap)
    end
    local apts = {}
    local atot, amax = 0, 0
    for i, a in ipairs(C.audit) do
      apts[i] = { a.t, a.allocs, a.bytes, nn(a.tick) }
      atot = atot + a.allocs
      if a.allocs > amax then amax = a.allocs end
    end
    local alloc, ad = series(apts, R.MAX_SERIES, function(a, b) return a[2] > b[2] end)
    if ad then
      notes[#notes + 1] = ("allocations per tick: %d audited ticks drawn as %d points, each the largest of "
        .. "its stretch"):format(#C.audit, #alloc)
    end
    m.gc = obj{ count = #C.gc, total_ms = gtot, p50 = gpp.p50, p99 = gpp.p99, max = gpp.max,
                list = gout, heap = heap, alloc = alloc, audited = #C.audit, alloc_total = atot,
                alloc_max = amax }
    -- scheduler
    local jobs = {}
    for _, j in ipairs(C.joborder) do
      jobs[#jobs + 1] = obj{ id = j.id, node = j.node, submit = j.submit or j.start or j.finish,
                             start = j.start, finish = j.finish, status = j.status or "open",
                             worker = j.worker, run = j.run_ms }
    end
    local njobs = #jobs
    jobs = thin(jobs, R.MAX_JOBS)
    if njobs > #jobs then
      notes[#notes + 1] = ("scheduler: %d jobs, %d drawn"):format(njobs, #jobs)
    end
    local qd, qdd = series(C.qdepth, R.MAX_SERIES, function(a, b) return a[2] > b[2] end)
    if qdd then
      notes[#notes + 1] = ("queue depth: %d changes drawn as %d points"):format(#C.qdepth, #qd)
    end
    local jstat = obj{}
    for _, j in ipairs(C.joborder) do
      local s = j.status or "open"
      jstat[s] = (jstat[s] or 0) + 1
    end
    m.sched = obj{ count = njobs, jobs = jobs, depth = qd, status = jstat }
    -- planner: the call events when there are any, else the planner_v1
    -- records, else (a live host) the host's planner records in the run
    local calls = #C.pcalls > 0 and C.pcalls or C.precords
    local psource = #C.pcalls > 0 and "planner_call_end" or "planner_v1"
    if #calls == 0 and type(C.opts.planner_records) == "table" then
      for _, r in ipairs(C.opts.planner_records) do
        local t = num(r.ts_ms) and C.t0 and r.ts_ms - C.t0
        if t and t >= 0 and t <= C.tlast + 1 then
          -- planner.v1 records name their backend and work; a record
          -- without them is a planner.mcts one (iterations)
          calls[#calls + 1] = { t = t, tick = num(r.tick_index), name = str(r.node_name),
                                planner = str(r.planner) or "mcts",
                                status = str(r.status) or "?", used = num(r.time_used_ms) or 0,
                                budget = num(r.budget_ms), work = num(r.work_done) or num(r.iters) }
        end
      end
      psource = "the host's planner records"
    end
    local pk = {}
    local pstat = obj{}
    for i, c in ipairs(calls) do
      pstat[c.status] = (pstat[c.status] or 0) + 1
      pk[i] = obj{ t = c.t, tick = c.tick, node = c.node, name = c.name, planner = c.planner,
                   status = c.status, used = round(c.used, 6), budget = c.budget, work = c.work }
    end
    local npk = #pk
    pk = thin(pk, R.MAX_PLANNER)
    if npk > #pk then notes[#notes + 1] = ("planner: %d calls, %d drawn"):format(npk, #pk) end
    m.planner = obj{ count = npk, calls = pk, status = pstat,
                     source = psource,
                     records = #C.precords }
    -- blackboard
    local keys = {}
    for _, s in pairs(C.bbkeys) do keys[#keys + 1] = s end
    table.sort(keys, function(a, b)
      if a.writes + a.deletes ~= b.writes + b.deletes then return a.writes + a.deletes > b.writes + b.deletes end
      return a.key < b.key
    end)
    local nkeys = #keys
    local shown = {}
    local kout = {}
    for i = 1, math.min(nkeys, R.MAX_BB_KEYS) do
      local s = keys[i]
      shown[s.key] = true
      local ns = {}
      for n in pairs(s.nodes) do ns[#ns + 1] = n end
      table.sort(ns)
      kout[i] = obj{ key = s.key, writes = s.writes, deletes = s.deletes, last = s.last, nodes = ns }
    end
    if nkeys > #kout then
      notes[#notes + 1] = ("blackboard: %d keys, the %d busiest drawn"):format(nkeys, #kout)
    end
    local changes = {}
    for _, c in ipairs(C.bb) do if shown[c[2]] then changes[#changes + 1] = c end end
    local nch = #C.bb
    changes = thin(changes, R.MAX_BB)
    if nch > #changes then
      notes[#notes + 1] = ("blackboard: %d changes, %d drawn"):format(nch, #changes)
    end
    m.bb = obj{ count = nch, keys = kout, nkeys = nkeys, changes = changes, snapshots = C.snapshots }
    m.issues = obj{ count = C.nissues, list = C.issues }
    if C.nissues > #C.issues then
      notes[#notes + 1] = ("warnings and errors: %d, the first %d listed"):format(C.nissues, #C.issues)
    end
    return m
  end

  return C
end

--- Aggregate an array (or iterator function) of JSON lines.
-- 'name' names the source in errors (default "stream"); errors are
-- "NAME:LINE: PROBLEM".  Empty lines are skipped.  opts.budget_ms: the tick
-- budget to draw when the stream carries none; opts.planner_records: planner
-- records (host:planner_records()) to draw when the stream has no planner
-- events.
function R.parse_lines(lines, name, opts)
  name = name or "stream"
  if opts ~= nil and type(opts) ~= "table" then
    error(("report.parse_lines: bad argument #3 (table of options expected, got %s)"):format(type(opts)), 2)
  end
  local C = collector(opts)
  local iter
  if type(lines) == "table" then
    local i = 0
    iter = function() i = i + 1; return lines[i] end
  elseif type(lines) == "function" then
    iter = lines
  else
    error(("report.parse_lines: expected an array of lines or an iterator, got %s"):format(type(lines)), 2)
  end
  local lineno = 0
  for line in iter do
    lineno = lineno + 1
    if type(line) ~= "string" then
      error(("%s:%d: expected a string line, got %s"):format(name, lineno, type(line)), 0)
    end
    if line:find("%S") then
      local where = ("%s:%d"):format(name, lineno)
      local ev, err = R.decode(line)
      if ev == nil then
        error(("%s: not JSON: %s"):format(where, err), 0)
      end
      C:add(ev, where)
    end
  end
  if C.n == 0 then
    error(("%s: no events (an empty stream)"):format(name), 0)
  end
  return C:finish()
end

--- Aggregate the event stream in file 'path'.
function R.read(path, opts)
  if type(path) ~= "string" or path == "" then
    error(("report.read: expected a file path, got %s"):format(path == "" and '""' or type(path)), 2)
  end
  local f, err = io.open(path, "rb")
  if not f then error(("report.read: cannot open %s"):format(err), 0) end
  local ok, m = pcall(R.parse_lines, f:lines(), path, opts)
  f:close()
  if not ok then error("report.read: " .. tostring(m), 0) end
  return m
end

-- ---------------------------------------------------------------------------
-- The page

local function html_escape(s)
  return (tostring(s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
                                          ['"'] = "&quot;", ["'"] = "&#39;" }))
end

local CSS = [==[
:root{--bg:#fbfbfa;--fg:#1d2327;--mut:#687078;--line:#d9dde1;--card:#fff;--ok:#2e8b57;--bad:#c62828;--run:#1f6fd1;--warn:#e08a00}
*{box-sizing:border-box}
body{margin:0;font:13px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;background:var(--bg);color:var(--fg)}
header{padding:14px 22px;background:#22303c;color:#f2f4f6}
header h1{margin:0 0 6px;font-size:19px;font-weight:600}
header .kv{display:flex;flex-wrap:wrap;gap:4px 18px;font-size:12px;color:#c9d1d9}
header .kv b{color:#fff;font-weight:600}
header a{color:#9cd1ff}
main{padding:12px 22px 40px;max-width:1500px}
section{background:var(--card);border:1px solid var(--line);border-radius:6px;margin:12px 0;padding:10px 14px}
section h2{font-size:15px;margin:0 0 6px;font-weight:600}
.sub{color:var(--mut);font-size:12px;margin:2px 0 6px}
.empty{color:var(--mut);font-style:italic;padding:10px 0}
.notes{background:#fff8e1;border:1px solid #f0d48a;border-radius:6px;padding:6px 12px;margin:12px 0;font-size:12px}
.row{display:flex;gap:14px;flex-wrap:wrap}
.row>div{flex:1 1 420px;min-width:320px}
svg{display:block;font:11px system-ui,Helvetica,Arial,sans-serif}
svg text{fill:#3b434a}
.axis line,.axis path{stroke:#9aa3ab;stroke-width:1}
.grid{stroke:#eceff1}
.scroll{overflow:auto;max-height:620px;border:1px solid #eef0f2;border-radius:4px}
.tree-node rect{stroke:#5b6670;stroke-width:1;cursor:pointer}
.tree-node.sel rect{stroke:#000;stroke-width:2.5}
.tree-node text{pointer-events:none}
#tip{position:fixed;pointer-events:none;background:#1d2327;color:#fff;padding:5px 8px;border-radius:4px;font-size:12px;white-space:pre;display:none;z-index:10;max-width:520px;overflow:hidden}
table{border-collapse:collapse;font-size:12px}
td,th{padding:2px 8px;border-bottom:1px solid #eef0f2;text-align:left;vertical-align:top}
th{color:var(--mut);font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.legend{display:flex;gap:14px;font-size:12px;color:var(--mut);margin:4px 0;flex-wrap:wrap}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
#nodeinfo{min-height:80px}
code,pre{font:12px ui-monospace,Menlo,Consolas,monospace}
pre.dsl{white-space:pre-wrap;background:#f6f8fa;padding:6px 8px;border-radius:4px;max-height:140px;overflow:auto}
#summary{display:none}
a.worst{cursor:pointer}
]==]

-- The page's script: hand-written SVG, no library.  It reads the data from
-- <script id="data">, draws every panel, and writes a JSON summary of what
-- it drew into <pre id="summary"> (spec/tools/browser_check.sh reads it).
local JS = [==[
(function(){
"use strict";
var D=JSON.parse(document.getElementById("data").textContent);
var SVGNS=(function(){var d=document.createElement("div");d.innerHTML="<svg></svg>";return d.firstChild.namespaceURI;})(); /* the parser's SVG namespace: no URL in the page */
var S={tree_nodes:0,expected_nodes:D.tree?D.tree.nodes.length:0,charts:{},empty:[],errors:[]};
var tip=document.getElementById("tip");
function $(id){return document.getElementById(id);}
function el(tag,attrs,parent){var e=document.createElementNS(SVGNS,tag);for(var k in attrs){e.setAttribute(k,attrs[k]);}if(parent){parent.appendChild(e);}return e;}
function txt(parent,x,y,s,attrs){var a={x:x,y:y};for(var k in attrs||{}){a[k]=attrs[k];}var t=el("text",a,parent);t.textContent=s;return t;}
function h(tag,cls,parent,text){var e=document.createElement(tag);if(cls){e.className=cls;}if(text!==undefined){e.textContent=text;}if(parent){parent.appendChild(e);}return e;}
function fms(v){if(v===null||v===undefined){return "-";}if(v>=1000){return (v/1000).toFixed(2)+" s";}if(v>=1){return v.toFixed(2)+" ms";}if(v>=0.001){return (v*1000).toFixed(1)+" \u00b5s";}if(v===0){return "0";}return (v*1e6).toFixed(0)+" ns";}
function fbytes(v){if(v===null||v===undefined){return "-";}if(v>=1048576){return (v/1048576).toFixed(2)+" MiB";}if(v>=1024){return (v/1024).toFixed(1)+" KiB";}return v+" B";}
function ft(t){return "t="+fms(t);}
function pctf(x){return (x*100).toFixed(x<0.1?2:1)+"%";}
function showTip(ev,s){tip.textContent=s;tip.style.display="block";var x=ev.clientX+14,y=ev.clientY+14;if(x+tip.offsetWidth>window.innerWidth){x=ev.clientX-tip.offsetWidth-10;}if(y+tip.offsetHeight>window.innerHeight){y=ev.clientY-tip.offsetHeight-10;}tip.style.left=x+"px";tip.style.top=y+"px";}
function hideTip(){tip.style.display="none";}
document.addEventListener("mouseover",function(ev){var t=ev.target;while(t&&t.getAttribute){var s=t.getAttribute("data-tip");if(s){showTip(ev,s);return;}t=t.parentNode;}hideTip();});
document.addEventListener("mousemove",function(ev){if(tip.style.display==="block"){var t=ev.target;while(t&&t.getAttribute){var s=t.getAttribute("data-tip");if(s){showTip(ev,s);return;}t=t.parentNode;}}});
function empty(id,why){var c=$(id);h("div","empty",c,why);S.empty.push(id);}
function heat(x){x=Math.max(0,Math.min(1,x));var r,g,b;if(x<0.5){var k=x/0.5;r=255;g=Math.round(247-k*(247-170));b=Math.round(236-k*(236-60));}else{var q=(x-0.5)/0.5;r=Math.round(255-q*(255-200));g=Math.round(170-q*170);b=Math.round(60-q*40);}return "rgb("+r+","+g+","+b+")";}
var PAL=["#1f77b4","#ff7f0e","#2ca02c","#d62728","#9467bd","#8c564b","#e377c2","#7f7f7f","#bcbd22","#17becf"];
function nice(max){if(!(max>0)){return 1;}var p=Math.pow(10,Math.floor(Math.log(max)/Math.LN10));var m=max/p;var n=m<=1?1:m<=2?2:m<=5?5:10;return n*p;}
/* a chart frame: returns {svg,g,x(v),y(v),w,h} with axes drawn */
function frame(parent,opt){
  var W=opt.width||Math.max(360,(parent.clientWidth||900)-10),H=opt.height||200,L=opt.left||60,R=12,T=10,B=28;
  var svg=el("svg",{width:W,height:H,viewBox:"0 0 "+W+" "+H},parent);
  var w=W-L-R,hh=H-T-B;
  var x0=opt.x0||0,x1=opt.x1>x0?opt.x1:x0+1,y1=opt.ylog?opt.y1:nice(opt.y1||0);
  function x(v){return L+(v-x0)/(x1-x0)*w;}
  function y(v){return T+hh-(v/y1)*hh;}
  var ax=el("g",{"class":"axis"},svg);
  for(var i=0;i<=4;i++){var yv=y1*i/4,yy=y(yv);el("line",{x1:L,x2:L+w,y1:yy,y2:yy,"class":"grid"},ax);txt(ax,L-4,yy+4,(opt.yfmt||fms)(yv),{"text-anchor":"end"});}
  el("line",{x1:L,x2:L+w,y1:T+hh,y2:T+hh},ax);el("line",{x1:L,x2:L,y1:T,y2:T+hh},ax);
  for(var j=0;j<=5;j++){var xv=x0+(x1-x0)*j/5;txt(ax,x(xv),T+hh+15,(opt.xfmt||fms)(xv),{"text-anchor":j===0?"start":j===5?"end":"middle"});}
  if(opt.ylabel){txt(svg,L+4,T+10,opt.ylabel,{"font-weight":"600"});}
  return {svg:svg,x:x,y:y,w:w,h:hh,L:L,T:T,x0:x0,x1:x1,y1:y1};
}
/* hover over a series: nearest point by x, a guide line, a tooltip */
function hover(f,xs,tipf){
  var guide=el("line",{y1:f.T,y2:f.T+f.h,stroke:"#555","stroke-dasharray":"3,3",visibility:"hidden"},f.svg);
  var r=el("rect",{x:f.L,y:f.T,width:f.w,height:f.h,fill:"transparent"},f.svg);
  r.addEventListener("mousemove",function(ev){var b=f.svg.getBoundingClientRect();var px=ev.clientX-b.left;var lo=0,hi=xs.length-1;var want=f.x0+(px-f.L)/f.w*(f.x1-f.x0);while(lo<hi){var mid=(lo+hi)>>1;if(xs[mid]<want){lo=mid+1;}else{hi=mid;}}if(lo>0&&Math.abs(xs[lo-1]-want)<Math.abs(xs[lo]-want)){lo--;}guide.setAttribute("x1",f.x(xs[lo]));guide.setAttribute("x2",f.x(xs[lo]));guide.setAttribute("visibility","visible");showTip(ev,tipf(lo));});
  r.addEventListener("mouseleave",function(){guide.setAttribute("visibility","hidden");hideTip();});
  return r;
}
var TMAX=Math.max(D.duration_ms||0,1);
var markers=[];
function addMarker(f){var m=el("line",{y1:f.T,y2:f.T+f.h,stroke:"#7b1fa2","stroke-width":2,visibility:"hidden"},f.svg);markers.push({f:f,m:m});}
function mark(t){markers.forEach(function(o){o.m.setAttribute("x1",o.f.x(t));o.m.setAttribute("x2",o.f.x(t));o.m.setAttribute("visibility","visible");});}

/* ---- header ---- */
(function(){
  var H=D.header,kv=$("hdr");
  function add(k,v){if(v===undefined||v===null||v===""){return;}var s=h("span",null,kv);s.appendChild(document.createTextNode(k+": "));h("b",null,s,String(v));}
  add("run",H.run_id);if(H.runs>1){add("runs in file",H.runs);}
  add("tree hash",H.tree_hash);add("host",(H.host||"?")+(H.host_version?" "+H.host_version:""));
  add("platform",H.platform);add("lispbt version",H.lispbt_version||"(not lispbt: "+(H.host||"unknown")+")");
  add("git",H.git_sha);add("tick_hz",H.tick_hz);add("contract",H.contract);
  if(H.capabilities){add("capabilities",JSON.stringify(H.capabilities));}
  add("tick budget",H.budget_ms!==undefined&&H.budget_ms!==null?fms(H.budget_ms)+(H.budget_given?" (given, not in the stream)":""):"none in the stream");
  add("events",D.events);add("duration",fms(D.duration_ms));
  if(H.run_end){add("dropped",H.run_end.dropped);}
  add("report",D.version);
  var w=$("worst");var W=D.ticks.worst;
  if(!W.length){h("span",null,w,"no ticks");return;}
  W.forEach(function(k,i){if(i){w.appendChild(document.createTextNode(" \u00b7 "));}var a=h("a","worst",w,"tick "+k.tick+" ("+fms(k.dur)+(k.over?", over budget":"")+")");a.href="#ticks";a.setAttribute("data-t",k.t);a.setAttribute("data-i",k.i);a.addEventListener("click",function(){mark(k.t);});});
  var notes=$("notes");if(D.notes.length){notes.style.display="block";h("b",null,notes,"Aggregated or downsampled: ");var ul=h("ul",null,notes);D.notes.forEach(function(n){h("li",null,ul,n);});}
})();

/* ---- tree ---- */
var NS={};D.nodes.forEach(function(n){NS[n.id]=n;});
(function(){
  if(!D.tree){empty("tree","No bt_def event in the stream: no tree to draw."+(D.nodes.length?" Node figures: see the table below.":""));nodeTable();return;}
  var T=D.tree,kids={},isChild={},byId={};
  T.nodes.forEach(function(n){byId[n.id]=n;kids[n.id]=[];});
  T.edges.slice().sort(function(a,b){return a[2]-b[2];}).forEach(function(e){if(kids[e[0]]){kids[e[0]].push(e[1]);}isChild[e[1]]=true;});
  var roots=T.nodes.filter(function(n){return !isChild[n.id];});
  var BW=106,BH=40,GX=8,GY=34,pos={},nextX=0,maxD=0;
  function lay(id,d){maxD=Math.max(maxD,d);var k=kids[id]||[];if(!k.length){pos[id]={x:nextX,d:d};nextX+=BW+GX;return;}k.forEach(function(c){lay(c,d+1);});pos[id]={x:(pos[k[0]].x+pos[k[k.length-1]].x)/2,d:d};}
  roots.forEach(function(r){lay(r.id,0);});
  var W=Math.max(nextX,200)+20,H=(maxD+1)*(BH+GY)+20;
  var box=h("div","scroll",$("tree"));
  var svg=el("svg",{width:W,height:H,id:"treesvg"},box);
  var maxShare=0;D.nodes.forEach(function(n){if(byId[n.id]&&n.share>maxShare){maxShare=n.share;}});
  T.edges.forEach(function(e){var a=pos[e[0]],b=pos[e[1]];if(!a||!b){return;}var x1=a.x+BW/2+10,y1=a.d*(BH+GY)+10+BH,x2=b.x+BW/2+10,y2=b.d*(BH+GY)+10;el("path",{d:"M"+x1+","+y1+" C"+x1+","+(y1+GY/2)+" "+x2+","+(y2-GY/2)+" "+x2+","+y2,fill:"none",stroke:"#9aa3ab"},svg);});
  T.nodes.forEach(function(n){
    var p=pos[n.id];if(!p){return;}
    var st=NS[n.id],x=p.x+10,y=p.d*(BH+GY)+10;
    var g=el("g",{"class":"tree-node","data-id":n.id,transform:"translate("+x+","+y+")"},svg);
    var share=st?st.share:0;
    el("rect",{width:BW,height:BH,rx:4,fill:st&&st.n?heat(maxShare>0?share/maxShare:0):"#f1f3f4"},g);
    if(st&&st.n){var fr=st.failure/st.n,rr=st.running/st.n,sr=st.success/st.n,xx=0;
      [[sr,"#2e8b57"],[fr,"#c62828"],[rr,"#1f6fd1"]].forEach(function(q){if(q[0]>0){el("rect",{x:xx,y:BH-5,width:BW*q[0],height:5,fill:q[1],stroke:"none"},g);xx+=BW*q[0];}});
      if(fr>0){el("rect",{x:-2,y:-2,width:BW+4,height:BH+4,rx:5,fill:"none",stroke:"#c62828","stroke-width":1+3*fr,"stroke-dasharray":fr<0.5?"4,2":"none"},g);}}
    var label=n.name&&n.name!==n.kind?n.name:"",tc=st&&st.n&&maxShare>0&&share/maxShare>0.62?"#fff":"#1d2327";
    txt(g,4,13,n.id+" ["+n.kind+"]",{"font-weight":"600",style:"fill:"+tc});
    txt(g,4,26,label.length>17?label.slice(0,16)+"\u2026":label,{style:"fill:"+tc});
    txt(g,BW-4,13,st&&st.n?pctf(share):"",{"text-anchor":"end",style:"fill:"+tc});
    var tipS="node "+n.id+"  "+n.kind+(label?"  "+n.name:"")+"\n";
    if(st&&st.n){tipS+="share of tick time: "+pctf(share)+"\nticked "+st.n+"x  success "+st.success+"  failure "+st.failure+"  running "+st.running+"\np50 "+fms(st.p50)+"  p99 "+fms(st.p99)+"  max "+fms(st.max);}else{tipS+="never ticked";}
    g.setAttribute("data-tip",tipS);
    g.addEventListener("click",function(){select(n.id);});
    S.tree_nodes++;
  });
  h("div","legend",$("tree")).innerHTML='<span><span class="sw" style="background:'+heat(0)+'"></span>cold</span><span><span class="sw" style="background:'+heat(0.5)+'"></span>warm</span><span><span class="sw" style="background:'+heat(1)+'"></span>hottest share of tick time</span><span><span class="sw" style="background:#2e8b57"></span>success</span><span><span class="sw" style="background:#c62828"></span>failure (red frame: fails)</span><span><span class="sw" style="background:#1f6fd1"></span>running</span>';
  var dsl=h("details",null,$("tree"));h("summary",null,dsl,"DSL ("+T.name+", "+T.hash+")");h("pre","dsl",dsl,T.dsl);
  function select(id){
    Array.prototype.forEach.call(svg.querySelectorAll(".tree-node"),function(g){g.setAttribute("class","tree-node"+(g.getAttribute("data-id")==id?" sel":""));});
    var info=$("nodeinfo");info.innerHTML="";var n=byId[id],st=NS[id];
    h("h3",null,info,"node "+id+" \u2014 "+n.kind+(n.name&&n.name!==n.kind?" "+n.name:""));
    if(!st||!st.n){h("div","empty",info,"This node never ran in the stream.");return;}
    var t=h("table",null,info);
    [["ticked",st.n],["success",st.success],["failure",st.failure+" ("+pctf(st.failure/st.n)+")"],["running",st.running+" ("+pctf(st.running/st.n)+")"],["share of tick time",pctf(st.share)],["total",fms(st.total)],["mean",fms(st.mean)],["p50",fms(st.p50)],["p90",fms(st.p90)],["p99",fms(st.p99)],["p99.9",fms(st.p999)],["max",fms(st.max)]].forEach(function(r){var tr=h("tr",null,t);h("th",null,tr,r[0]);h("td","n",tr,String(r[1]));});
    h("div","sub",info,"time per tick (sparkline, "+st.spark.length+" points over the run):");
    spark(info,st.spark);
  }
  function spark(parent,v){var W=300,H=50,m=0;v.forEach(function(x){if(x>m){m=x;}});var s=el("svg",{width:W,height:H,"class":"spark"},parent);if(!v.length){return;}var pts=v.map(function(x,i){return (v.length>1?i/(v.length-1)*(W-4)+2:W/2)+","+(H-3-(m>0?x/m:0)*(H-8));}).join(" ");el("polyline",{points:pts,fill:"none",stroke:"#c0392b","stroke-width":1.5},s);s.setAttribute("data-tip","max "+fms(m)+" per tick");}
  if(T.nodes.length){select(T.nodes[0].id);}
  nodeTable();
})();
function nodeTable(){
  if(!D.nodes.length){return;}
  var d=h("details",null,$("tree"));h("summary",null,d,"All nodes ("+D.nodes.length+")");var t=h("table",null,d);
  var hr=h("tr",null,t);["id","kind","name","ticked","success","failure","running","share","p50","p99","max"].forEach(function(c){h("th",null,hr,c);});
  var byId={};if(D.tree){D.tree.nodes.forEach(function(n){byId[n.id]=n;});}
  D.nodes.forEach(function(n){var tr=h("tr",null,t),m=byId[n.id]||{};[n.id,m.kind||"",m.name||"",n.n,n.success,n.failure,n.running,pctf(n.share),fms(n.p50),fms(n.p99),fms(n.max)].forEach(function(v,i){h("td",i>2?"n":null,tr,String(v));});});
}

/* ---- ticks ---- */
(function(){
  var K=D.ticks;
  if(!K.count){empty("ticks","No tick_end events: no tick durations.");empty("hist","No ticks to histogram.");S.charts.ticks=0;S.charts.hist=0;return;}
  $("tickstats").textContent=K.count+" ticks, "+K.overruns+" over budget; mean "+fms(K.mean)+", p50 "+fms(K.p50)+", p90 "+fms(K.p90)+", p99 "+fms(K.p99)+", p99.9 "+fms(K.p999)+", max "+fms(K.max)+"; status "+JSON.stringify(K.status);
  /* the budget sets the scale unless it is far above every tick: then the
     ticks keep the scale and the budget is named above the chart */
  var bmax=0;K.b.forEach(function(b){if(b>bmax){bmax=b;}});
  var off=bmax>4*K.max&&K.max>0,ymax=off?K.max:Math.max(K.max,bmax);
  if(off){h("div","sub",$("ticks"),"budget "+fms(bmax)+": above the scale, "+(bmax/K.max).toFixed(1)+"\u00d7 the slowest tick");}
  var f=frame($("ticks"),{x0:0,x1:TMAX,y1:ymax||1,height:230,ylabel:"tick duration"});
  var pts=K.t.map(function(t,i){return f.x(t)+","+f.y(K.d[i]);}).join(" ");
  el("polyline",{points:pts,fill:"none",stroke:"#1f6fd1","stroke-width":1.2},f.svg);
  var drawn=0;
  K.t.forEach(function(t,i){drawn++;if(K.ov[i]){el("circle",{cx:f.x(t),cy:f.y(K.d[i]),r:3.5,fill:"#c62828"},f.svg);}else if(K.t.length<=300){el("circle",{cx:f.x(t),cy:f.y(K.d[i]),r:2,fill:K.st[i]==="f"?"#c62828":"#1f6fd1"},f.svg);}});
  var bpts=[];K.t.forEach(function(t,i){if(K.b[i]>0){bpts.push(f.x(t)+","+f.y(K.b[i]));}});
  if(bpts.length&&!off){if(bpts.length===1){var xb=bpts[0].split(",");bpts.push(f.x(TMAX)+","+xb[1]);bpts.unshift(f.x(0)+","+xb[1]);}el("polyline",{points:bpts.join(" "),fill:"none",stroke:"#e08a00","stroke-width":1.5,"stroke-dasharray":"6,4"},f.svg);}
  addMarker(f);
  hover(f,K.t,function(i){return "tick "+K.tick[i]+" (#"+K.i[i]+")  "+ft(K.t[i])+"\nduration "+fms(K.d[i])+(K.b[i]>0?"  budget "+fms(K.b[i]):"")+(K.ov[i]?"  OVER BUDGET":"")+"\nstatus "+({s:"success",f:"failure",r:"running"}[K.st[i]]||K.st[i])+(K.downsampled?"\n(slowest tick of its stretch)":"");});
  S.charts.ticks=drawn;
  h("div","legend",$("ticks")).innerHTML='<span><span class="sw" style="background:#1f6fd1"></span>tick duration</span><span><span class="sw" style="background:#e08a00"></span>budget</span><span><span class="sw" style="background:#c62828"></span>over budget</span>';
  /* histogram */
  var Hs=K.hist,hm=0;Hs.forEach(function(b){if(b[2]>hm){hm=b[2];}});
  var g=frame($("hist"),{x0:0,x1:Hs.length,y1:hm,height:200,yfmt:function(v){return String(Math.round(v));},xfmt:function(v){var b=Hs[Math.min(Hs.length-1,Math.floor(v))];return b?fms(v>=Hs.length?b[1]:b[0]):"";},ylabel:"ticks"});
  var bw=g.w/Hs.length;
  Hs.forEach(function(b,i){if(!b[2]){return;}el("rect",{x:g.x(i)+1,y:g.y(b[2]),width:Math.max(1,bw-2),height:g.T+g.h-g.y(b[2]),fill:"#5c8fd6","data-tip":fms(b[0])+" \u2013 "+fms(b[1])+": "+b[2]+" ticks"},g.svg);});
  function binx(v){for(var i=0;i<Hs.length;i++){if(v<=Hs[i][1]||i===Hs.length-1){var lo=Hs[i][0],hi=Hs[i][1];var fr=hi>lo&&lo>0?Math.log(v/lo)/Math.log(hi/lo):0.5;return g.x(i+Math.max(0,Math.min(1,fr)));}}return g.x(0);}
  [["p50",K.p50,"#2e8b57"],["p90",K.p90,"#e08a00"],["p99",K.p99,"#c62828"],["p99.9",K.p999,"#7b1fa2"]].forEach(function(p,j){var x=binx(p[1]);el("line",{x1:x,x2:x,y1:g.T,y2:g.T+g.h,stroke:p[2],"stroke-width":1.5,"data-tip":p[0]+" = "+fms(p[1])},g.svg);var right=x>g.L+g.w-90;txt(g.svg,right?x-3:x+3,g.T+12+12*j,p[0]+" "+fms(p[1]),{style:"fill:"+p[2],"text-anchor":right?"end":"start"});});
  S.charts.hist=Hs.filter(function(b){return b[2]>0;}).length;
})();

/* ---- GC, heap, allocations ---- */
(function(){
  var G=D.gc;
  if(!G.count){empty("gcp","No gc_begin/gc_end events: no collections in the stream.");S.charts.gc=0;}
  else{
    $("gcstats").textContent=G.count+" collections, "+fms(G.total_ms)+" paused in all; p50 "+fms(G.p50)+", p99 "+fms(G.p99)+", max "+fms(G.max);
    var pm=0;G.list.forEach(function(g){if(g.pause>pm){pm=g.pause;}});
    var f=frame($("gcp"),{x0:0,x1:TMAX,y1:pm||0.001,height:170,ylabel:"GC pause"});
    G.list.forEach(function(g){var x=f.x(g.t);el("line",{x1:x,x2:x,y1:f.y(0),y2:f.y(g.pause),stroke:g.in_tick?"#c62828":"#8e44ad","stroke-width":2},f.svg);el("circle",{cx:x,cy:f.y(g.pause),r:3.5,fill:g.in_tick?"#c62828":"#8e44ad","data-tip":"collection "+g.id+"  "+ft(g.t)+(g.tick!==undefined&&g.tick!==null?"  tick "+g.tick:"")+"\npause "+fms(g.pause)+"  reason "+(g.reason||"?")+(g.in_tick?"  (in a tick)":"")+"\nlive "+fbytes(g.before)+" \u2192 "+fbytes(g.after)+(g.freed!==undefined&&g.freed!==null?"  freed "+g.freed+" objects":"")},f.svg);});
    addMarker(f);S.charts.gc=G.list.length;
  }
  if(!G.heap.length){empty("heap","No heap live bytes (gc events or tick_audit) in the stream.");S.charts.heap=0;}
  else{
    var hm=0;G.heap.forEach(function(p){if(p[1]>hm){hm=p[1];}});
    var f2=frame($("heap"),{x0:0,x1:TMAX,y1:hm,height:170,yfmt:fbytes,left:70,ylabel:"heap live bytes"});
    el("polyline",{points:G.heap.map(function(p){return f2.x(p[0])+","+f2.y(p[1]);}).join(" "),fill:"none",stroke:"#16a085","stroke-width":1.5},f2.svg);
    addMarker(f2);
    hover(f2,G.heap.map(function(p){return p[0];}),function(i){return ft(G.heap[i][0])+"\nheap live "+fbytes(G.heap[i][1]);});
    S.charts.heap=G.heap.length;
  }
  if(!G.alloc.length){empty("alloc","No tick_audit events: turn them on with events.enable-tick-audit to see allocations per tick.");S.charts.alloc=0;}
  else{
    $("allocstats").textContent=G.audited+" audited ticks, "+G.alloc_total+" allocations in all, at most "+G.alloc_max+" in one tick";
    var am=0;G.alloc.forEach(function(p){if(p[1]>am){am=p[1];}});
    var f3=frame($("alloc"),{x0:0,x1:TMAX,y1:am||1,height:170,yfmt:function(v){return String(Math.round(v*10)/10);},ylabel:"allocations per tick"});
    G.alloc.forEach(function(p){var x=f3.x(p[0]);el("line",{x1:x,x2:x,y1:f3.y(0),y2:f3.y(p[1]),stroke:p[1]>0?"#d35400":"#bbb","stroke-width":1.5},f3.svg);});
    el("polyline",{points:G.alloc.map(function(p){return f3.x(p[0])+","+f3.y(p[1]);}).join(" "),fill:"none",stroke:"#d35400","stroke-width":0.8,opacity:0.6},f3.svg);
    addMarker(f3);
    hover(f3,G.alloc.map(function(p){return p[0];}),function(i){var p=G.alloc[i];return "tick "+p[3]+"  "+ft(p[0])+"\n"+p[1]+" allocations, "+fbytes(p[2]);});
    S.charts.alloc=G.alloc.length;
  }
})();

/* ---- scheduler ---- */
(function(){
  var Sc=D.sched;
  if(!Sc.count){empty("lanes","No sched_* events: no scheduler jobs in the stream.");empty("queue","No queue depth without scheduler events.");S.charts.lanes=0;S.charts.queue=0;return;}
  $("schedstats").textContent=Sc.count+" jobs; status "+JSON.stringify(Sc.status);
  var lanes=[],laneOf={},ends=[],named=false;
  Sc.jobs.forEach(function(j){var a=j.submit,b=j.finish!==undefined&&j.finish!==null?j.finish:TMAX;j._b=b;
    if(j.worker){named=true;if(laneOf["w:"+j.worker]===undefined){laneOf["w:"+j.worker]=lanes.length;lanes.push(j.worker);ends.push(0);}j._l=laneOf["w:"+j.worker];return;}
    for(var i=0;i<lanes.length;i++){if(lanes[i].indexOf("lane ")===0&&ends[i]<=a){j._l=i;ends[i]=Math.max(b,a+0.001);return;}}
    lanes.push("lane "+(lanes.length+1));ends.push(Math.max(b,a+0.001));j._l=lanes.length-1;});
  if(!named){$("lanenote").textContent="The stream names no worker for these jobs: lanes pack jobs that overlap in time, one lane per job in flight.";}
  var LH=20,H=lanes.length*LH+40;
  var f=frame($("lanes"),{x0:0,x1:TMAX,y1:1,height:H,yfmt:function(){return "";},left:80});
  lanes.forEach(function(n,i){txt(f.svg,f.L-4,f.T+i*LH+14,String(n),{"text-anchor":"end"});});
  var COL={done:"#2e8b57",ok:"#2e8b57",success:"#2e8b57",cancelled:"#e08a00",canceled:"#e08a00",failed:"#c62828",error:"#c62828",failure:"#c62828",timeout:"#c62828",open:"#1f6fd1"};
  Sc.jobs.forEach(function(j){var y=f.T+j._l*LH+3,xa=f.x(j.submit),xs=f.x(j.start!==undefined&&j.start!==null?j.start:j.submit),xb=f.x(j._b);var c=COL[j.status]||"#7f8c8d";
    var tipS="job "+j.id+(j.node!==undefined&&j.node!==null?"  node "+j.node:"")+(j.worker?"  worker "+j.worker:"")+"\nsubmit "+ft(j.submit)+(j.start!==undefined&&j.start!==null?"  start "+ft(j.start):"")+"  end "+(j.finish!==undefined&&j.finish!==null?ft(j.finish):"(still open)")+"\nstatus "+j.status+(j.run?"  run "+fms(j.run):"");
    var g=el("g",{"data-tip":tipS},f.svg);
    if(xs>xa){el("rect",{x:xa,y:y,width:xs-xa,height:LH-6,fill:c,opacity:0.3},g);}
    el("rect",{x:xs,y:y,width:Math.max(2,xb-xs),height:LH-6,fill:c,opacity:0.85},g);});
  addMarker(f);S.charts.lanes=Sc.jobs.length;
  h("div","legend",$("lanes")).innerHTML='<span><span class="sw" style="background:#2e8b57;opacity:.3"></span>queued (submit \u2192 start)</span><span><span class="sw" style="background:#2e8b57"></span>done</span><span><span class="sw" style="background:#e08a00"></span>cancelled</span><span><span class="sw" style="background:#c62828"></span>failed</span><span><span class="sw" style="background:#1f6fd1"></span>open at the end</span>';
  var Q=Sc.depth;
  if(!Q.length){empty("queue","No queue depth samples.");S.charts.queue=0;return;}
  var qm=0;Q.forEach(function(p){if(p[1]>qm){qm=p[1];}});
  var f2=frame($("queue"),{x0:0,x1:TMAX,y1:qm||1,height:150,yfmt:function(v){return String(Math.round(v*10)/10);},ylabel:"queue depth"});
  var pts=[],prev=f2.y(0);pts.push(f2.x(0)+","+prev);Q.forEach(function(p){var x=f2.x(p[0]);pts.push(x+","+prev);prev=f2.y(p[1]);pts.push(x+","+prev);});pts.push(f2.x(TMAX)+","+prev);
  el("polyline",{points:pts.join(" "),fill:"none",stroke:"#8e44ad","stroke-width":1.5},f2.svg);
  addMarker(f2);
  hover(f2,Q.map(function(p){return p[0];}),function(i){return ft(Q[i][0])+"\nqueue depth "+Q[i][1];});
  S.charts.queue=Q.length;
})();

/* ---- planner ---- */
(function(){
  var P=D.planner;
  if(!P.count){empty("planner","No planner_call_end or planner_v1 events: no planner calls in the stream.");S.charts.planner=0;return;}
  $("plannerstats").textContent=P.count+" calls (from "+P.source+"); status "+JSON.stringify(P.status);
  var C=P.calls,um=0,wm=0;C.forEach(function(c){um=Math.max(um,c.used,c.budget||0);wm=Math.max(wm,c.work||0);});
  var cl=function(v){return Math.abs(v-Math.round(v))<0.05?"call "+Math.round(v):"";};
  var f=frame($("planner"),{x0:0,x1:C.length,y1:um||1,height:200,xfmt:cl,ylabel:"time used vs budget"});
  var bw=f.w/C.length,SC={ok:"#2e8b57",success:"#2e8b57",timeout:"#e08a00",noaction:"#7f8c8d",error:"#c62828",failure:"#c62828"};
  C.forEach(function(c,i){var x=f.x(i),tipS="call "+(i+1)+"  "+ft(c.t)+(c.tick!==undefined&&c.tick!==null?"  tick "+c.tick:"")+"\n"+(c.planner||"planner")+(c.name?" "+c.name:"")+(c.node!==undefined&&c.node!==null?"  node "+c.node:"")+"\nused "+fms(c.used)+(c.budget!==undefined&&c.budget!==null?" of "+fms(c.budget):"")+(c.work!==undefined&&c.work!==null?"\nwork done "+c.work:"")+"\nstatus "+c.status;
    var g=el("g",{"data-tip":tipS},f.svg);
    el("rect",{x:x+bw*0.15,y:f.y(c.used),width:Math.max(1,bw*0.7),height:f.T+f.h-f.y(c.used),fill:SC[c.status]||"#5c8fd6"},g);
    if(c.budget){el("line",{x1:x,x2:x+bw,y1:f.y(c.budget),y2:f.y(c.budget),stroke:"#222","stroke-width":2},g);}
    el("rect",{x:x,y:f.T,width:bw,height:f.h,fill:"transparent"},g);});
  S.charts.planner=C.length;
  h("div","legend",$("planner")).innerHTML='<span><span class="sw" style="background:#2e8b57"></span>ok</span><span><span class="sw" style="background:#e08a00"></span>timeout</span><span><span class="sw" style="background:#c62828"></span>error</span><span><span class="sw" style="background:#222"></span>budget</span>';
  if(wm>0){var f2=frame($("planner"),{x0:0,x1:C.length,y1:wm,height:150,xfmt:cl,yfmt:function(v){return String(Math.round(v));},ylabel:"work done (iterations or samples)"});
    el("polyline",{points:C.map(function(c,i){return f2.x(i+0.5)+","+f2.y(c.work||0);}).join(" "),fill:"none",stroke:"#16a085","stroke-width":1.5},f2.svg);
    hover(f2,C.map(function(c,i){return i+0.5;}),function(i){return "call "+(i+1)+"\nwork done "+(C[i].work||0);});}
})();

/* ---- blackboard ---- */
(function(){
  var B=D.bb;
  if(!B.count&&!B.snapshots.length){empty("bb","No bb_write, bb_delete or bb_snapshot events: no blackboard changes in the stream.");S.charts.bb=0;return;}
  $("bbstats").textContent=B.count+" changes to "+B.nkeys+" keys"+(B.snapshots.length?", "+B.snapshots.length+" snapshots":"");
  var keys=B.keys,row={};keys.forEach(function(k,i){row[k.key]=i;});
  var LH=18,H=Math.max(1,keys.length)*LH+40;
  var f=frame($("bb"),{x0:0,x1:TMAX,y1:1,height:H,yfmt:function(){return "";},left:140});
  keys.forEach(function(k,i){var t=txt(f.svg,f.L-4,f.T+i*LH+13,k.key.length>20?k.key.slice(0,19)+"\u2026":k.key,{"text-anchor":"end"});t.setAttribute("data-tip",k.key+"\n"+k.writes+" writes, "+k.deletes+" deletes\nby nodes "+(k.nodes.join(", ")||"?")+"\nlast "+k.last);if(i%2){el("rect",{x:f.L,y:f.T+i*LH,width:f.w,height:LH,fill:"#f7f8f9"},f.svg);}});
  B.snapshots.forEach(function(s){var x=f.x(s[0]);el("line",{x1:x,x2:x,y1:f.T,y2:f.T+f.h,stroke:"#16a085","stroke-dasharray":"2,3","data-tip":"bb_snapshot  "+ft(s[0])+"  tick "+s[1]+"  "+s[2]+" entries"},f.svg);});
  var colors={},nc=0;
  B.changes.forEach(function(c){var i=row[c[1]];if(i===undefined){return;}var src=c[2]===undefined||c[2]===null?"?":String(c[2]);if(colors[src]===undefined){colors[src]=PAL[nc++%PAL.length];}
    var x=f.x(c[0]),y=f.T+i*LH+LH/2;var tipS=c[1]+(c[5]==="d"?" deleted":" = "+c[4])+"\n"+ft(c[0])+(c[3]!==undefined&&c[3]!==null?"  tick "+c[3]:"")+"  by node "+src;
    if(c[5]==="d"){el("rect",{x:x-3,y:y-3,width:6,height:6,fill:"none",stroke:colors[src],"stroke-width":1.5,"data-tip":tipS},f.svg);}else{el("circle",{cx:x,cy:y,r:3.5,fill:colors[src],"data-tip":tipS},f.svg);}});
  addMarker(f);
  S.charts.bb=B.changes.length;
  var lg=h("div","legend",$("bb"));h("span",null,lg,"writer node:");Object.keys(colors).forEach(function(k){var s=h("span",null,lg);var sw=h("span","sw",s);sw.style.background=colors[k];s.appendChild(document.createTextNode(k==="?"?"unknown":"node "+k));});
})();

/* ---- warnings and errors ---- */
(function(){
  var I=D.issues;
  if(!I.count){empty("issues","No errors, budget warnings or deadline events in the stream.");return;}
  var t=h("table",null,$("issues"));var hr=h("tr",null,t);["time","tick","type","node","message"].forEach(function(c){h("th",null,hr,c);});
  I.list.forEach(function(x){var tr=h("tr",null,t);[fms(x.t),x.tick===undefined||x.tick===null?"":x.tick,x.type,x.node===undefined||x.node===null?"":x.node,x.msg].forEach(function(v){h("td",null,tr,String(v));});});
})();

/* every panel drawn: the summary the browser check reads */
(function(){var a=location.hash.match(/^#t=([0-9.]+)$/);if(a){mark(+a[1]);}})();
Array.prototype.forEach.call(document.querySelectorAll("a.worst"),function(a){a.addEventListener("click",function(){mark(+a.getAttribute("data-t"));});});
S.resources=window.performance&&performance.getEntriesByType?performance.getEntriesByType("resource").length:-1;
S.ok=true;
$("summary").textContent=JSON.stringify(S);
})();
]==]

local PAGE = [==[
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lispbt report: @TITLE@</title>
<style>@CSS@</style>
</head>
<body>
<header>
<h1>lispbt report &mdash; @TITLE@</h1>
<div class="kv" id="hdr"></div>
<div class="kv" style="margin-top:6px"><span>five worst ticks:</span><span id="worst"></span></div>
</header>
<main>
<div class="notes" id="notes" style="display:none"></div>
<section><h2>Tree</h2><div class="sub">Each node coloured by its share of all tick time (inclusive of its children); the bar under a node splits its results into success, failure and running; a red frame marks a node that failed (thicker: more often). Click a node for its figures and a sparkline of its time per tick.</div>
<div class="row"><div id="tree"></div><div id="nodeinfo" style="flex:0 1 340px"></div></div></section>
<section id="ticks-sec"><h2 id="ticks-h">Tick duration</h2><div class="sub" id="tickstats"></div><div id="ticks"></div>
<h2 style="margin-top:10px">Tick duration histogram</h2><div class="sub">Log-spaced bins over every tick, with p50, p90, p99 and p99.9.</div><div id="hist"></div></section>
<section><h2>GC and heap</h2><div class="sub" id="gcstats"></div><div id="gcp"></div><div id="heap"></div>
<div class="sub" id="allocstats"></div><div id="alloc"></div></section>
<section><h2>Scheduler</h2><div class="sub" id="schedstats"></div><div class="sub" id="lanenote"></div><div id="lanes"></div><div id="queue"></div></section>
<section><h2>Planner calls</h2><div class="sub" id="plannerstats"></div><div id="planner"></div></section>
<section><h2>Blackboard</h2><div class="sub" id="bbstats"></div><div id="bb"></div></section>
<section><h2>Warnings and errors</h2><div id="issues"></div></section>
</main>
<div id="tip"></div>
<pre id="summary"></pre>
<script type="application/json" id="data">@DATA@</script>
<script>@JS@</script>
</body>
</html>
]==]

--- The HTML text of the page for an aggregated model (from parse_lines / read).
function R.render(model)
  if type(model) ~= "table" or type(model.ticks) ~= "table" then
    error("report.render: expected a model from report.read or report.parse_lines", 2)
  end
  local title = model.header.run_id or "event stream"
  local subs = {
    ["@TITLE@"] = html_escape(title),
    ["@CSS@"] = CSS,
    ["@DATA@"] = R.encode(model),
    ["@JS@"] = JS,
  }
  -- one pass, so nothing substituted is scanned again
  return (PAGE:gsub("@[A-Z]+@", function(k) return subs[k] end))
end

local function writefile(fname, path, text)
  if type(path) ~= "string" or path == "" then
    error(("%s: expected an output path, got %s"):format(fname, path == "" and '""' or type(path)), 3)
  end
  local f, err = io.open(path, "wb")
  if not f then error(("%s: cannot open %s"):format(fname, err), 0) end
  local ok, werr = f:write(text)
  local cok, cerr = f:close()
  if not ok or not cok then
    error(("%s: cannot write %s: %s"):format(fname, path, tostring(werr or cerr)), 0)
  end
end

--- Read the stream in file 'input' and write the page to 'output'.
-- Returns the model.  opts: as for parse_lines.
function R.file(input, output, opts)
  if type(input) ~= "string" or input == "" then
    error(("report.file: expected an input path, got %s"):format(input == "" and '""' or type(input)), 2)
  end
  local ok, m = pcall(R.read, input, opts)
  if not ok then error((tostring(m):gsub("^report%.read:", "report.file:")), 0) end
  writefile("report.file", output, R.render(m))
  return m
end

--- The page from a live host: its event stream as host.events.dump() returns
-- it (the lines the host keeps: events.set-ring-size bounds them), and,
-- when the stream has no planner events, the host's planner records made
-- during the run (host:planner_records()).  opts.instance: an instance
-- whose tick budget to draw when the stream carries none (opts.budget_ms
-- gives it directly).  With 'path' writes the file and returns the model;
-- without, returns the HTML text and the model.
function R.html(host, path, opts)
  if type(host) ~= "userdata" and type(host) ~= "table" or type(host.events) ~= "table"
      and type(host.events) ~= "userdata" then
    error(("report.html: bad argument #1 (lispbt host expected, got %s)"):format(type(host)), 2)
  end
  if path ~= nil and (type(path) ~= "string" or path == "") then
    error(("report.html: expected an output path, got %s"):format(path == "" and '""' or type(path)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(("report.html: bad argument #3 (table of options expected, got %s)"):format(type(opts)), 2)
  end
  opts = opts or {}
  local popts = { budget_ms = opts.budget_ms }
  if opts.instance ~= nil then
    local ok, st = pcall(function() return opts.instance:stats() end)
    if not ok or type(st) ~= "table" then
      error("report.html: opts.instance must be a lispbt instance", 2)
    end
    popts.budget_ms = popts.budget_ms or (st.tick_budget_ms > 0 and st.tick_budget_ms or nil)
  end
  if type(host.planner_records) == "function" then
    local ok, recs = pcall(host.planner_records, host, 1 << 20)
    if ok and type(recs) == "table" then popts.planner_records = recs end
  end
  local lines = host.events.dump()
  if lines == nil or #lines == 0 then
    error("report.html: the host's event stream is empty (turn it on with host.events.enable(true) "
      .. "before ticking)", 2)
  end
  local ok, m = pcall(R.parse_lines, lines, "host.events.dump()", popts)
  if not ok then error("report.html: " .. tostring(m), 0) end
  local text = R.render(m)
  if path then
    writefile("report.html", path, text)
    return m
  end
  return text, m
end

local USAGE = [[
usage: lispbt-report RUN.jsonl [-o REPORT.html] [--budget-ms MS]

Reads a canonical event stream (mbt.evt.v1 JSON lines, from lispbt's
events.set-path or from the reference runtime) and writes one
self-contained HTML page (default: RUN.html beside the input).
--budget-ms MS: the tick budget to draw when the stream carries none.]]

--- The command line: returns an exit status; messages go to 'out'/'err'
-- (default io.stdout/io.stderr).
function R.main(argv, out, err)
  out, err = out or io.stdout, err or io.stderr
  local input, output, budget
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "-h" or a == "--help" then
      out:write(USAGE, "\n")
      return 0
    elseif a == "--version" then
      out:write("lispbt-report ", R.VERSION, "\n")
      return 0
    elseif a == "-o" or a == "--output" then
      if not argv[i + 1] or argv[i + 1] == "" then
        err:write("lispbt-report: -o needs an output path\n", USAGE, "\n")
        return 2
      end
      output = argv[i + 1]
      i = i + 1
    elseif a == "--budget-ms" then
      budget = tonumber(argv[i + 1] or "")
      if not budget or budget <= 0 then
        err:write("lispbt-report: --budget-ms needs a positive number of milliseconds\n", USAGE, "\n")
        return 2
      end
      i = i + 1
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      err:write(("lispbt-report: unknown option '%s'\n"):format(a), USAGE, "\n")
      return 2
    elseif input then
      err:write(("lispbt-report: more than one input ('%s' and '%s')\n"):format(input, a), USAGE, "\n")
      return 2
    else
      input = a
    end
    i = i + 1
  end
  if not input then
    err:write("lispbt-report: no input file\n", USAGE, "\n")
    return 2
  end
  output = output or (input:gsub("%.jsonl?$", "") .. ".html")
  local ok, m = pcall(R.file, input, output, { budget_ms = budget })
  if not ok then
    err:write("lispbt-report: ", (tostring(m):gsub("^report%.file: ", "")), "\n")
    return 1
  end
  local f = io.open(output, "rb")
  local size = f and f:seek("end") or 0
  if f then f:close() end
  out:write(("lispbt-report: %s: %d events, %d ticks -> %s (%d bytes)\n"):format(
    input, m.events, m.ticks.count, output, size))
  return 0
end

return R
