-- spec/report_spec.lua -- lispbt.report and bin/lispbt-report: the HTML report
-- of an mbt.evt.v1 stream (docs/report.md).  The parser on the reference's
-- streams and on ours (from a file and from a live host), the events other
-- runtimes add (bb_delete, bb_snapshot, planner calls, deadlines), a page
-- that references nothing outside itself, the size bound on a 100,000-event
-- run, and every bad input.  What a browser draws: make browser-check.
local lispbt = require("lispbt")
local report = require("lispbt.report")

local REF = {
  "spec/fixtures/mbt_evt_v1/minimal_run.jsonl",
  "spec/fixtures/mbt_evt_v1/planner_run.jsonl",
  "spec/fixtures/mbt_evt_v1/scheduler_run.jsonl",
  "spec/fixtures/mbt_evt_v1/scheduler_cancel_run.jsonl",
  "spec/fixtures/mbt_evt_v1/budget_warning_case.jsonl",
  "spec/fixtures/report/deadline-cancel-case.jsonl",
  "spec/fixtures/report/determinism-replay-case.jsonl",
  "spec/fixtures/report/async-cancel-after-timeout-case.jsonl",
}

local function lines_of(path)
  local t = {}
  for l in io.lines(path) do
    if l:find("%S") then t[#t + 1] = l end
  end
  return t
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function spit(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function errof(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

-- The page's data, as the page's script reads it.
local function data_of(html)
  local json = html:match('<script type="application/json" id="data">(.-)</script>')
  assert.is_truthy(json, "no data element")
  return assert(report.decode(json))
end

-- Nothing outside the file: no src/href/url() that leaves the page, no
-- element that loads anything, and no URL scheme anywhere in the text.
local function assert_self_contained(html)
  local refs = 0
  for attr, q, val in html:gmatch("%f[%w](%a+)%s*=%s*([\"']?)([^\"'%s>]*)%2") do
    attr = attr:lower()
    if attr == "src" or attr == "href" or attr == "xlink:href" then
      refs = refs + 1
      assert.is_nil(val:match("^%a[%w+.-]*:"), attr .. "=" .. val)
      assert.is_nil(val:match("^//"), attr .. "=" .. val)
    end
  end
  assert.is_nil(html:find("https?://"), "a URL in the page")
  assert.is_nil(html:find("[^%w:]//[%w.-]+%.%a%a+/"), "a scheme-relative URL in the page")
  -- the script sets no src, and only in-page links
  assert.is_nil(html:find("%.src%s*="))
  for v in html:gmatch('%.href%s*=%s*"([^"]*)"') do assert.are.equal("#", v:sub(1, 1)) end
  assert.is_nil(html:lower():find("<link", 1, true))
  assert.is_nil(html:lower():find("<img", 1, true))
  assert.is_nil(html:lower():find("<iframe", 1, true))
  assert.is_nil(html:lower():find("@import", 1, true))
  assert.is_nil(html:lower():find("url%("))
  assert.is_nil(html:find("<script[^>]*src"))
  -- the page's own script and its data: one of each
  assert.are.equal(2, select(2, html:gsub("<script", "")))
  return refs
end

describe("lispbt.report", function()
  local tmp
  before_each(function() tmp = os.tmpname() end)
  after_each(function() os.remove(tmp); os.remove(tmp .. ".html") end)

  describe("on the reference's streams", function()
    it("reads every one and writes a self-contained page", function()
      for _, path in ipairs(REF) do
        local m = report.file(path, tmp .. ".html")
        assert.are.equal(#lines_of(path), m.events, path)
        local html = slurp(tmp .. ".html")
        assert_self_contained(html)
        local d = data_of(html)
        assert.are.equal(m.events, d.events)
        assert.are.equal(m.header.run_id, d.header.run_id)
        assert.are.equal("muesli-bt", d.header.host)
        assert.is_nil(d.header.lispbt_version) -- not our host
      end
    end)

    it("draws the minimal run's tree and reads its tick_end budget form", function()
      local m = report.read(REF[1])
      assert.are.equal("fixture-minimal", m.header.run_id)
      assert.are.equal("fnv1a64:aaaaaaaaaaaaaaaa", m.header.tree_hash)
      assert.are.equal(3, #m.tree.nodes)
      assert.are.same({ id = 1, kind = "seq", name = "root" }, m.tree.nodes[1])
      assert.are.same({ { 1, 2, 0 }, { 1, 3, 1 } }, m.tree.edges)
      assert.are.equal(2, m.ticks.count)
      assert.are.same({ 2.1, 1.3 }, m.ticks.d)            -- data.budget.tick_time_ms
      assert.are.same({ 20, 20 }, m.ticks.b)              -- data.budget.tick_budget_ms
      assert.are.equal(0, m.ticks.overruns)
      assert.are.same({ running = 1, success = 1 }, m.ticks.status)
      assert.are.equal(2.1, m.ticks.p99)
      assert.are.equal(2, m.bb.count)
      local keys = {}
      for _, k in ipairs(m.bb.keys) do keys[k.key] = k end
      assert.are.equal("[0.0,0.0]", keys.state.last)
      assert.are.same({ "fixture" }, keys.action.nodes) -- "source" when there is no node id
    end)

    it("reads scheduler jobs with their worker, queue depth and cancellation", function()
      local m = report.read(REF[3])
      assert.are.equal(1, m.sched.count)
      local j = m.sched.jobs[1]
      assert.are.equal("101", j.id)
      assert.are.equal("pool-0", j.worker)
      assert.are.equal("ok", j.status)
      assert.are.equal(12, j.node)
      assert.are.equal(1.2, j.run)
      assert.are.same({ { 1, 1 }, { 2, 0 } }, m.sched.depth) -- queue_depth given, then the start
      m = report.read(REF[4])
      assert.are.equal("cancelled", m.sched.jobs[1].status)
      assert.are.same({ cancelled = 1 }, m.sched.status)
    end)

    it("reads planner_v1 records and planner_call_start/end", function()
      local m = report.read(REF[2])
      assert.are.equal(1, m.planner.count)
      assert.are.equal("planner_v1", m.planner.source)
      local c = m.planner.calls[1]
      assert.are.same({ 3.2, 10, "ok", "plan-action", "mcts" }, { c.used, c.budget, c.status, c.name, c.planner })
      m = report.read(REF[7])
      assert.are.equal("planner_call_end", m.planner.source)
      assert.are.equal(2, m.planner.count)
      c = m.planner.calls[2]
      assert.are.same({ 2.0, 12, 64, "ok", 2 }, { c.used, c.budget, c.work, c.status, c.node })
      -- node_exit without a bt_def: node figures, no tree
      assert.is_nil(m.tree)
      assert.are.equal(1, #m.nodes)
      assert.are.same({ 2, 0, 1 }, { m.nodes[1].n, m.nodes[1].failure, m.nodes[1].running })
      assert.is_true(math.abs(m.nodes[1].total - 4.3) < 1e-9)
    end)

    it("marks overruns from the budget, budget_warning and deadline_exceeded", function()
      local m = report.read(REF[5])
      assert.are.equal(1, m.ticks.overruns)
      assert.are.equal(5.0, m.ticks.worst[1].dur)
      assert.is_true(m.ticks.worst[1].over)
      assert.are.equal(1, m.issues.count)
      assert.are.equal("budget_warning", m.issues.list[1].type)
      assert.are.equal("insufficient_budget", m.issues.list[1].msg)
      m = report.read(REF[6])
      assert.are.equal(1, m.ticks.overruns)
      assert.are.equal("deadline_exceeded", m.issues.list[1].type)
      assert.are.equal(2, m.ticks.tick[1])
      m = report.read(REF[8])
      assert.are.same({ 1, 0 }, m.ticks.ov) -- 20.2 ms of 20, then 0.4 ms
    end)
  end)

  it("reads bb_delete, bb_snapshot and planner calls as the reference writes them", function()
    local function ev(seq, typ, tick, data)
      return ('{"schema":"mbt.evt.v1","contract_version":"1.0.0","type":"%s","run_id":"r","unix_ms":%d,'
        .. '"seq":%d,%s"data":%s}'):format(typ, 1000 + seq, seq, tick and ('"tick":%d,'):format(tick) or "", data)
    end
    local m = report.parse_lines({
      ev(1, "tick_begin", 1, '{"tick_budget_ms":4}'),
      ev(2, "bb_write", 1, '{"key":"goal","value_digest":"fnv1a64:0","preview":{"x":1},"source_node":3}'),
      ev(3, "planner_call_start", 1, '{"node_id":5,"planner":"mcts","budget_ms":3}'),
      ev(4, "planner_call_end", 1, '{"node_id":5,"planner":"mcts","status":"timeout","time_used_ms":3.4,"work_done":17}'),
      ev(5, "bb_delete", 1, '{"key":"goal","source_node":4}'),
      ev(6, "tick_end", 1, '{"root_status":"failure","tick_ms":3.9,"tick_budget_ms":4.0}'),
      ev(7, "bb_snapshot", 2, '{"entries":[["a",1],["b",null]]}'),
      "",
    }, "synthetic")
    assert.are.equal(7, m.events)
    assert.are.equal(2, m.bb.count)
    local k = m.bb.keys[1]
    assert.are.same({ "goal", 1, 1, "(deleted)", { "3", "4" } }, { k.key, k.writes, k.deletes, k.last, k.nodes })
    assert.are.equal('{"x":1}', m.bb.changes[1][5]) -- a JSON preview kept as its text
    assert.are.equal("d", m.bb.changes[2][6])
    assert.are.same({ { 6, 2, 2 } }, m.bb.snapshots)
    local c = m.planner.calls[1]
    assert.are.same({ 3.4, 3, 17, "timeout", 2 }, { c.used, c.budget, c.work, c.status, c.t })
    assert.are.equal(0, m.ticks.overruns) -- 3.9 ms of 4
  end)

  it("draws the host's planner records when the stream has no planner events", function()
    local function ev(seq, typ, tick, data)
      return ('{"schema":"mbt.evt.v1","contract_version":"1.0.0","type":"%s","run_id":"r","unix_ms":%d,'
        .. '"seq":%d,"tick":%d,"data":%s}'):format(typ, 1000 + seq, seq, tick, data)
    end
    local recs = {
      { ts_ms = 1002, tick_index = 1, node_name = "m", planner = "mppi", status = "ok",
        time_used_ms = 0.5, budget_ms = 5, work_done = 64, iters = 64 },
      { ts_ms = 1003, tick_index = 1, node_name = "i", planner = "ilqr", status = "timeout",
        time_used_ms = 5.2, budget_ms = 5, work_done = 3, iters = 3 },
      -- planner.mcts's records: no planner, no work_done
      { ts_ms = 1004, tick_index = 1, node_name = "x", status = "ok", time_used_ms = 0.2,
        budget_ms = 20, iters = 200 },
    }
    local m = report.parse_lines({
      ev(1, "tick_begin", 1, '{"tick_budget_ms":10}'),
      ev(6, "tick_end", 1, '{"root_status":"success","tick_ms":6.0,"tick_budget_ms":10}'),
    }, "synthetic", { planner_records = recs })
    assert.are.equal("the host's planner records", m.planner.source)
    assert.are.equal(3, m.planner.count)
    local got = {}
    for i, c in ipairs(m.planner.calls) do
      got[i] = { c.planner, c.work, c.status, c.name }
    end
    assert.are.same({ { "mppi", 64, "ok", "m" }, { "ilqr", 3, "timeout", "i" }, { "mcts", 200, "ok", "x" } },
      got)
  end)

  it("draws a live host's plan-action records with their backend", function()
    local lispbt = require("lispbt")
    local h <close> = lispbt.new()
    local recs = {}
    local inst = h:compile("(plan-action :name \"pm\" :planner mppi :budget_ms 600000 :work_max 16)"):instance()
    assert.are.equal("success", inst:tick { state = 0.0 })
    for _, r in ipairs(h:planner_records()) do recs[#recs + 1] = r end
    assert.are.equal("mppi", recs[1].planner)
    local t0 = recs[1].ts_ms - 1
    local m = report.parse_lines({
      ('{"schema":"mbt.evt.v1","contract_version":"1.0.0","type":"tick_begin","run_id":"r","unix_ms":%d,'
        .. '"seq":1,"tick":1,"data":{}}'):format(t0),
      ('{"schema":"mbt.evt.v1","contract_version":"1.0.0","type":"tick_end","run_id":"r","unix_ms":%d,'
        .. '"seq":2,"tick":1,"data":{"root_status":"success"}}'):format(t0 + 10),
    }, "live", { planner_records = recs })
    local c = m.planner.calls[1]
    assert.are.same({ "mppi", 16, "pm" }, { c.planner, c.work, c.name })
  end)

  describe("on lispbt's own stream", function()
    local host
    before_each(function() host = lispbt.new{ workers = 1 } end)
    after_each(function() host:close() end)

    it("agrees with the engine's counters, from a file and from the live host", function()
      host.events.set_path(tmp)
      host.events.enable_tick_audit(true)
      host.events.enable(true)
      local tree = host:compile([[
        (sel (seq (act always-fail))
             (seq (act bb-put-int k 2) (act async-sleep-ms 1) (cond always-true)))]])
      local inst = tree:instance()
      local n = 0
      repeat
        n = n + 1
        local st = inst:tick()
        if st == "running" then lispbt.sleep_ms(1) end
      until st == "success" or n >= 5000
      host:gc()
      inst:tick()
      host.events.enable(false)
      local st = inst:stats()
      local m = report.read(tmp)
      local text, live = report.html(host)
      assert.are.equal(#host.events.dump(), live.events)
      assert.are.equal(m.events, live.events)
      assert_self_contained(text)
      assert.are.equal("lispbt", m.header.host)
      assert.are.equal(m.header.host_version, m.header.lispbt_version)
      assert.is_truthy(m.header.run_id:match("^lispbt%-"))
      assert.are.equal(st.tick_count, m.ticks.count)
      assert.are.equal(st.node_count, #m.tree.nodes)
      assert.are.equal(st.node_count - 1, #m.tree.edges)
      local byid = {}
      for _, x in ipairs(m.nodes) do byid[x.id] = x end
      for _, sn in ipairs(st.nodes) do
        local x = byid[sn.id] or { success = 0, failure = 0, running = 0 }
        assert.are.same({ sn.success, sn.failure, sn.running }, { x.success, x.failure, x.running },
          "node " .. sn.id)
      end
      assert.are.equal(1, byid[0].share) -- the root holds all tick time
      assert.are.equal(st.tick_count, m.gc.audited)
      assert.is_true(m.gc.count >= 1)
      assert.is_true(m.sched.count >= 1)
      assert.are.equal("k", m.bb.keys[1].key)
      assert.are.same({ "4" }, m.bb.keys[1].nodes) -- bb-put-int is node 4
      assert.are.equal(0, m.ticks.overruns)
      assert.are.equal(st.tick_budget_ms, report.html(host, nil, { instance = inst }) and
        select(2, report.html(host, nil, { instance = inst })).header.budget_ms)
      -- the file form writes the same page
      report.html(host, tmp .. ".html")
      assert.are.equal(text, slurp(tmp .. ".html"))
    end)

    it("raises on a host without events, and the host stays usable", function()
      assert.matches("report.html: the host's event stream is empty", errof(report.html, host))
      assert.matches("report.html: bad argument #1 %(lispbt host expected, got number%)",
        errof(report.html, 5))
      assert.matches('report.html: expected an output path, got ""', errof(report.html, host, ""))
      assert.matches("report.html: bad argument #3", errof(report.html, host, nil, 5))
      assert.are.equal("success", host:compile("(succeed)"):instance():tick())
    end)
  end)

  it("stays under 2 MB for a 100,000-event run, and says it downsampled", function()
    local nodes, edges = {}, {}
    for i = 0, 30 do
      nodes[#nodes + 1] = ('{"id":%d,"kind":"%s","name":"n%d"}'):format(i, i == 0 and "seq" or "act", i)
      if i > 0 then edges[#edges + 1] = ('{"parent":0,"child":%d,"index":%d}'):format(i, i - 1) end
    end
    local head = '{"schema":"mbt.evt.v1","contract_version":"1.0.0","type":"%s","run_id":"big","unix_ms":%d,"seq":%d,'
    local lines, seq = {}, 0
    local function add(typ, tick, data)
      seq = seq + 1
      lines[seq] = (head):format(typ, 1700000000000 + seq // 4, seq)
        .. (tick and ('"tick":%d,'):format(tick) or "") .. '"data":' .. data .. "}"
    end
    add("bt_def", nil, ('{"tree_name":"bt","dsl":"(seq)","tree_hash":"fnv1a64:1","nodes":[%s],"edges":[%s]}')
      :format(table.concat(nodes, ","), table.concat(edges, ",")))
    local tick = 0
    while seq < 100000 - 12 do
      tick = tick + 1
      add("tick_begin", tick, '{"root":0}')
      local leaf = 1 + tick % 30
      add("node_enter", tick, '{"node_id":0}')
      add("node_enter", tick, ('{"node_id":%d}'):format(leaf))
      add("node_exit", tick, ('{"node_id":%d,"status":"%s","dur_ms":%.4f}'):format(leaf,
        tick % 7 == 0 and "failure" or "success", 0.01 + (tick % 13) * 0.001))
      add("bb_write", tick, ('{"key":"key%d","value_digest":"fnv1a64:0","preview":"%d","node_id":%d}')
        :format(tick % 100, tick, leaf))
      if tick % 50 == 0 then
        add("sched_submit", tick, ('{"job_id":%d,"status":"queued","node_id":%d}'):format(tick, leaf))
        add("sched_finish", tick, ('{"job_id":%d,"status":"done","node_id":%d}'):format(tick, leaf))
        add("gc_end", tick, ('{"collection_id":%d,"pause_time_ns":%d,"heap_live_bytes_after":%d}')
          :format(tick, 20000 + tick, 100000 + tick))
        add("error", tick, ('{"level":"error","node_id":%d,"message":"leaf failed"}'):format(leaf))
      end
      add("node_exit", tick, '{"node_id":0,"status":"success","dur_ms":0.02}')
      add("tick_end", tick, ('{"root_status":"success","tick_ms":%.4f}'):format(0.03 + (tick % 17) * 0.001))
    end
    while seq < 100000 do add("error", nil, '{"level":"warn","node_id":-1,"message":"padding"}') end
    spit(tmp, table.concat(lines, "\n") .. "\n")
    local m = report.file(tmp, tmp .. ".html")
    assert.are.equal(100000, m.events)
    assert.are.equal(tick, m.ticks.count)
    local html = slurp(tmp .. ".html")
    assert.is_true(#html < 2 * 1024 * 1024, ("%d bytes"):format(#html))
    assert_self_contained(html)
    assert.are.equal(report.MAX_SERIES, #m.ticks.t)
    assert.is_true(m.ticks.downsampled)
    local notes = table.concat(m.notes, "\n")
    assert.matches(("tick series: %d ticks drawn as %d points"):format(tick, report.MAX_SERIES), notes)
    assert.matches("warnings and errors: " .. m.issues.count .. ", the first 200 listed", notes)
    assert.is_true(m.issues.count > report.MAX_ISSUES)
    assert.are.equal(report.MAX_ISSUES, #m.issues.list)
    -- the slowest tick survives the downsampling: 0.03 + 16 * 0.001
    assert.are.equal(0.046, m.ticks.max)
    local maxd = 0
    for _, d in ipairs(m.ticks.d) do if d > maxd then maxd = d end end
    assert.are.equal(0.046, maxd)
    -- every tick counted in the node figures
    local root
    for _, x in ipairs(m.nodes) do if x.id == 0 then root = x end end
    assert.are.equal(tick, root.n)
  end)

  describe("bad input", function()
    local function read_err(text)
      spit(tmp, text)
      return errof(report.read, tmp)
    end
    local ok = '{"schema":"mbt.evt.v1","contract_version":"1.0.0","type":"tick_begin","run_id":"r",'
      .. '"unix_ms":1,"seq":1,"tick":1,"data":{"root":0}}'

    it("names the file and line of what is wrong", function()
      assert.are.equal("report.read: " .. tmp .. ":2: not JSON: expected ',' or '}' at column 13",
        read_err(ok .. '\n{"schema":1 "x"}\n'))
      assert.are.equal("report.read: " .. tmp .. ":1: not JSON: unexpected character 'h' at column 1",
        read_err("hello\n"))
      assert.are.equal("report.read: " .. tmp .. ":3: not JSON: unterminated string at column 11",
        read_err(ok .. "\n\n" .. '{"schema":"mbt'))
      assert.are.equal("report.read: " .. tmp .. ':1: schema is "mbt.evt.v0", expected "mbt.evt.v1" '
        .. "(is this an mbt.evt.v1 event stream?)", read_err((ok:gsub("v1", "v0", 1))))
      assert.are.equal("report.read: " .. tmp .. ':1: schema is missing, expected "mbt.evt.v1" '
        .. "(is this an mbt.evt.v1 event stream?)", read_err('{"type":"x"}'))
      assert.are.equal("report.read: " .. tmp .. ":1: expected a JSON object (one event per line)",
        read_err("[1,2]"))
      assert.are.equal("report.read: " .. tmp .. ':1: event without a "data" object',
        read_err((ok:gsub('"data":{"root":0}', '"data":3'))))
      assert.are.equal("report.read: " .. tmp .. ':1: event without a "type" string',
        read_err((ok:gsub('"type":"tick_begin"', '"type":7'))))
      assert.are.equal("report.read: " .. tmp .. ':1: event without a numeric "unix_ms"',
        read_err((ok:gsub('"unix_ms":1', '"unix_ms":"1"'))))
      assert.are.equal("report.read: " .. tmp .. ":1: bt_def without its nodes and edges arrays",
        read_err((ok:gsub('"tick_begin"', '"bt_def"'))))
      assert.are.equal("report.read: " .. tmp .. ":1: node_exit without a node_id",
        read_err((ok:gsub('"tick_begin"', '"node_exit"'))))
      assert.are.equal("report.read: " .. tmp .. ": no events (an empty stream)", read_err("\n\n"))
    end)

    it("rejects a missing file and bad arguments", function()
      assert.are.equal("report.read: cannot open /nonexistent/run.jsonl: No such file or directory",
        errof(report.read, "/nonexistent/run.jsonl"))
      assert.are.equal("report.file: cannot open /nonexistent/run.jsonl: No such file or directory",
        errof(report.file, "/nonexistent/run.jsonl", tmp))
      assert.matches("report.read: expected a file path, got nil", errof(report.read))
      assert.matches("report.file: expected an input path, got number", errof(report.file, 1, tmp))
      assert.matches("report.file: expected an output path, got nil", errof(report.file, REF[1]))
      assert.matches("report.file: cannot open /nonexistent/dir/r.html: No such file or directory",
        errof(report.file, REF[1], "/nonexistent/dir/r.html"))
      assert.matches("report.parse_lines: expected an array of lines or an iterator, got number",
        errof(report.parse_lines, 5))
      assert.matches("report.render: expected a model", errof(report.render, {}))
    end)

    it("decodes JSON strictly", function()
      assert.are.same({ a = { 1, 2.5, "\u{e9}\u{1F600}" } }, report.decode('{"a":[1,2.5,"\\u00e9\\ud83d\\ude00"]}'))
      assert.are.equal(report.null, report.decode("null"))
      for _, bad in ipairs({ "", "{", "[1,]", '{"a" 1}', "1.", "01x", '"\1"', "tru", '"\\q"', "1 2" }) do
        assert.is_nil((report.decode(bad)), bad)
      end
      assert.are.equal('{"a":[1,0.5,"\\u003c/script\\u003e"]}', report.encode({ a = { 1, 0.5, "</script>" } }))
    end)
  end)

  describe("the command", function()
    local function run(args)
      local p = io.popen("lua5.4 bin/lispbt-report " .. args .. " 2>&1; echo \"rc=$?\"")
      local out = p:read("a")
      p:close()
      return out
    end

    it("writes the page of a reference stream", function()
      local out = run(REF[1] .. " -o " .. tmp .. ".html")
      assert.matches("rc=0", out)
      assert.matches("lispbt%-report: " .. REF[1]:gsub("%p", "%%%0") .. ": 8 events, 2 ticks %-> ", out)
      assert_self_contained(slurp(tmp .. ".html"))
    end)

    it("reports bad input on stderr with a non-zero status", function()
      assert.matches("lispbt%-report: cannot open /nonexistent/x.jsonl: No such file or directory\nrc=1",
        run("/nonexistent/x.jsonl -o " .. tmp .. ".html"))
      spit(tmp, "not json\n")
      assert.matches("lispbt%-report: " .. tmp:gsub("%p", "%%%0") .. ":1: not JSON: .*\nrc=1",
        run(tmp .. " -o " .. tmp .. ".html"))
      assert.matches("lispbt%-report: no input file\nusage: .*rc=2", run(""))
      assert.matches("lispbt%-report: unknown option '%-x'.*rc=2", run("-x"))
      assert.matches("lispbt%-report: %-o needs an output path.*rc=2", run(REF[1] .. " -o"))
      assert.matches("%-%-budget%-ms needs a positive number.*rc=2", run(REF[1] .. " --budget-ms x"))
      assert.matches("^usage: lispbt%-report RUN.jsonl", run("--help"))
    end)

    it("draws a given budget when the stream has none", function()
      local m = report.read(REF[3], { budget_ms = 7 })
      assert.are.equal(7, m.header.budget_ms)
      assert.is_true(m.header.budget_given)
      assert.matches("rc=0", run(REF[3] .. " --budget-ms 7 -o " .. tmp .. ".html"))
      assert.are.equal(7, data_of(slurp(tmp .. ".html")).header.budget_ms)
    end)
  end)
end)
