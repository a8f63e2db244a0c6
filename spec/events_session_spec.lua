-- spec/events_session_spec.lua -- a realistic session through the public
-- API (Lua and Lisp leaves, blackboard input and a delete, an async job, an
-- overrun, a planner leaf, collections, a blackboard snapshot, a tree from
-- bt.load-dsl) with the stream written to a file: every line valid against
-- the reference's mbt.evt.v1 schema, every type the session has a cause for
-- present, seq gap-free from 1, hashes as the reference computes them, and
-- events.dump equal to the file's tail.
local js = require "support.jsonschema"
local lispbt = require "lispbt"

local E = require "support.evt"
local schema, fnv, readlines = E.schema, E.fnv, E.readlines

-- make test-gcstress (LISPBT_GC_STRESS: a collector step at every
-- allocation, in every host) makes more GC events in a tick, and between two
-- writes, than the stream keeps (OBS_EVT_GC_MAX): the stream drops those and
-- counts them in run_end's dropped.  Nothing else may be missing.
local STRESS = os.getenv("LISPBT_GC_STRESS") ~= nil

local SRC = [[(seq (act lua-ok) (act lisp-ok) (act bb-put-int k 2) (act forget)
     (plan-action :state_key pos :action_key step :iters_max 50)
     (act slow)
     (sel (cond nope) (act async-sleep-ms 1)))]]
local FILE_SRC = ";; a file tree\n(seq   (act lua-ok)\n  (act lisp-ok))\n"

-- Runs the session; returns the file's lines, the dump, and the collector's
-- pauses from before the stream was on to after it was off.
local function session(host, path, dslpath)
  local pauses0 = host:heap().gc_pauses
  host.events.set_path(path)
  host.events.set_tick_hz(20)
  host.events.enable(true)
  host:register_action("lua-ok", function() return "success" end)
  host:eval("(bt.register-action 'lisp-ok (lambda (inst) 'success))")
  host:eval("(bt.register-action 'forget (lambda (inst) (bt.bb-put inst 'gone nil) 'success))")
  host:eval("(bt.register-action 'slow (lambda (inst) (let loop ((i 0)) (if (< i 300000) (loop (+ i 1)) 'success))))")
  local inst = host:compile(SRC):instance()
  host.bt.set_tick_budget_ms(inst, 1)
  inst:tick { pos = 0.5 }
  host.events.snapshot_bb(true)
  host:gc()
  for _ = 1, 200 do
    inst:tick { pos = 0.25 }
    local types = {}
    for _, l in ipairs(host.events.dump()) do types[js.decode(l).type] = true end
    if types.sched_finish and types.gc_end and types.bb_snapshot then break end
  end
  local f = io.open(dslpath, "w")
  f:write(FILE_SRC)
  f:close()
  host:eval(("(define t2 (bt.new-instance (bt.load-dsl %q)))"):format(dslpath))
  host:eval("(bt.tick t2)")
  local dump = host.events.dump()
  host.events.enable(false)
  return readlines(path), dump, host:heap().gc_pauses - pauses0
end

describe("event stream session", function()
  local path, dslpath = os.tmpname(), os.tmpname()
  local host = lispbt.new()
  local lines, dump, pauses = session(host, path, dslpath)
  local evs = {}
  for i, line in ipairs(lines) do
    local ok, v = pcall(js.decode, line)
    assert(ok, "line " .. i .. " is not JSON: " .. tostring(v))
    evs[i] = v
  end
  local by = {}
  for _, e in ipairs(evs) do
    by[e.type] = by[e.type] or {}
    table.insert(by[e.type], e)
  end

  it("writes only schema-valid lines", function()
    for i, e in ipairs(evs) do
      local valid, why = js.validate(schema, e)
      assert(valid, "line " .. i .. ": " .. tostring(why) .. "\n" .. lines[i])
    end
  end)

  it("has every type the session causes", function()
    for _, t in ipairs { "run_start", "bt_def", "tick_begin", "tick_end", "node_enter", "node_exit",
                         "bb_write", "bb_delete", "bb_snapshot", "sched_submit", "sched_start",
                         "sched_finish", "budget_warning", "deadline_exceeded",
                         "planner_call_start", "planner_call_end", "planner_v1", "gc_begin",
                         "gc_end", "run_end" } do
      assert(by[t], "no " .. t)
    end
    assert.are.equal(1, #by.run_start)
    assert.are.equal(1, #by.run_end)
    assert.are.equal("run_start", evs[1].type)
    assert.are.equal("run_end", evs[#evs].type)
  end)

  it("numbers the lines 1, 2, 3 ... in one run", function()
    for i, e in ipairs(evs) do
      assert.are.equal(i, e.seq)
      assert.are.equal(evs[1].run_id, e.run_id)
    end
    assert.are.equal(#evs, by.run_end[1].data.events)
  end)

  it("drops nothing (under gc_stress: GC events only, each one counted)", function()
    local dropped = by.run_end[1].data.dropped
    if not STRESS then
      assert.are.equal(0, dropped)
      return
    end
    -- pause ids are consecutive: a gc_begin or gc_end missing between the
    -- first and the last pause written was dropped, so it is counted
    local n, lo, hi = 0, math.huge, 0
    for _, t in ipairs { "gc_begin", "gc_end" } do
      for _, e in ipairs(by[t]) do
        n, lo, hi = n + 1, math.min(lo, e.data.collection_id), math.max(hi, e.data.collection_id)
      end
    end
    assert.is_true(2 * (hi - lo + 1) - n <= dropped, "a missing GC event not counted")
    -- and the count holds no more than the session's pauses had: nothing
    -- but GC events was dropped
    assert.is_true(n + dropped <= 2 * pauses, "more dropped than the GC events not written")
  end)

  it("hashes the canonical DSL and the source as the reference does", function()
    assert.are.equal(2, #by.bt_def)
    for _, e in ipairs(by.bt_def) do
      assert.are.equal(fnv(e.data.dsl), e.data.tree_hash)
      assert.are.equal(e.data.tree_hash, e.data.canonical_dsl_hash)
    end
    assert.are.equal(fnv(SRC), by.bt_def[1].data.source_hash)
    assert.are.equal(fnv(FILE_SRC), by.bt_def[2].data.source_hash) -- the raw file text
    assert.are.equal(by.bt_def[1].data.tree_hash, by.run_start[1].data.tree_hash)
    assert.are.equal(20, by.run_start[1].data.tick_hz)
  end)

  it("equals the file's tail in events.dump", function()
    assert.is_true(#dump > 0)
    -- the dump was taken before run_end: its last line is the one before
    -- run_end, but under gc_stress, where the dump's own allocations are
    -- collector steps, whose GC events come after it
    local last = js.decode(dump[#dump]).seq
    for i = 1, #dump do
      assert.are.equal(lines[last - #dump + i], dump[i])
    end
    for i = last + 1, #lines - 1 do
      assert(STRESS, "a line after the dump's last: " .. lines[i])
      assert(evs[i].type == "gc_begin" or evs[i].type == "gc_end", lines[i])
    end
  end)

  it("puts input writes before tick_begin and a snapshot right after it", function()
    local seen = false
    for i, e in ipairs(evs) do
      if e.type == "bb_write" and e.data.key == "pos" then
        seen = true
        assert.are.equal(-1, e.data.node_id)
        local j = i + 1
        while evs[j].type == "bb_write" do j = j + 1 end
        assert.are.equal("tick_begin", evs[j].type)
      end
      if e.type == "bb_snapshot" then
        assert.are.equal("tick_begin", evs[i - 1].type)
        local keys = {}
        for _, kv in ipairs(e.data.entries) do keys[kv[1]] = kv[2] end
        assert.are.equal(2, keys.k)
        assert.are.equal(0.25, keys.pos) -- the input of the tick it precedes
        assert.is_nil(keys.gone)
      end
    end
    assert.is_true(seen)
    assert.are.equal("gone", by.bb_delete[1].data.key)
  end)

  it("reports overruns and planner calls inside their tick", function()
    local d = by.deadline_exceeded[1]
    assert.are.equal("tick_end", d.data.source)
    assert.are.equal(1, d.data.tick_budget_ms)
    assert.is_true(d.data.tick_elapsed_ms > d.data.tick_budget_ms) -- why the event exists
    local s, e, v = by.planner_call_start[1], by.planner_call_end[1], by.planner_v1[1]
    assert.are.equal(s.tick, e.tick)
    assert.is_true(s.seq < e.seq and e.seq < v.seq)
    assert.are.equal(5, s.data.node_id)
    assert.are.equal("planner.v1", v.data.record.schema_version)
    assert.are.equal("ok", e.data.status)
  end)

  it("carries gc.lifecycle.v1 figures", function()
    local g = by.gc_end[1].data
    assert.are.equal("gc.lifecycle.v1", g.schema_version)
    assert.are.equal("integer", js.jtype(g.pause_time_ns))
  end)

  host:close()
  os.remove(path)
  os.remove(dslpath)
end)

describe("host.events.on_line", function()
  it("delivers every line, in order, on the host's thread at inst:tick and poll", function()
    local path = os.tmpname()
    local host = lispbt.new()
    local got, inside = {}, false
    host.events.on_line(function(line)
      assert(inside, "listener called outside inst:tick / poll")
      got[#got + 1] = line
    end)
    host.events.set_path(path)
    host.events.enable(true)
    local inst = host:compile("(seq (act always-success) (act bb-put-int k 1))"):instance()
    for _ = 1, 5 do
      inside = true
      inst:tick()
      inside = false
    end
    host.events.enable(false)
    inside = true
    host.events.poll()
    inside = false
    local lines = readlines(path)
    assert.are.same(lines, got)
    assert.are.equal(0, host.events.listener_dropped())
    host:close()
    os.remove(path)
  end)

  it("counts the lines a full queue refuses, and keeps seq order", function()
    local host = lispbt.new()
    local got = {}
    host.events.on_line(function(line) got[#got + 1] = js.decode(line).seq end)
    host.events.enable(true)
    local inst = host:compile("(act always-success)"):instance()
    host:eval("(define t (bt.new-instance (bt.compile '(seq " .. string.rep("(act always-success)", 100, " ") .. "))))")
    for _ = 1, 10 do host:eval("(bt.tick t)") end -- Lisp ticks: nothing delivered yet
    host.events.enable(false) -- many more lines than the queue holds
    host.events.poll()
    local dropped = host.events.listener_dropped()
    assert.is_true(dropped > 0)
    for i = 2, #got do assert.is_true(got[i] > got[i - 1]) end
    local total = #host.events.dump()
    assert.are.equal(total, #got + dropped)
    host.events.on_line(nil) -- off: nothing more is queued
    host.events.enable(true)
    inst:tick()
    host.events.poll()
    assert.are.equal(total, #got + dropped)
    host:close()
  end)

  it("refuses a listener that is not a function", function()
    local host = lispbt.new()
    local ok, err = pcall(host.events.on_line, 42)
    assert.is_false(ok)
    assert.matches("events.on_line: bad argument #1 (function expected, got number)", err, 1, true)
    host.events.enable(true) -- still usable
    host:compile("(act always-success)"):instance():tick()
    host:close()
  end)

  it("propagates the listener's error and stays usable", function()
    local host = lispbt.new()
    host.events.on_line(function() error("boom") end)
    host.events.enable(true)
    local inst = host:compile("(act always-success)"):instance()
    local ok, err = pcall(inst.tick, inst)
    assert.is_false(ok)
    assert.matches("boom", err)
    host.events.on_line(nil)
    assert.are.equal("success", inst:tick())
    host:close()
  end)
end)
