-- spec/events_spec.lua -- the host's canonical event stream (issue 15,
-- docs/events.md): every line valid against the reference's mbt.evt.v1
-- schema, seq gap-free from 1, hashes as the reference computes them,
-- dump equal to the file's tail, run_start/run_end, bad inputs, and a
-- process killed mid-run leaving only whole lines.
local js = require "support.jsonschema"
local C = require "support.cases"
local lispbt = require "lispbt"

local E = require "support.evt"
local schema, fnv, readlines = E.schema, E.fnv, E.readlines

-- Decode and validate every line; returns the decoded events.
local function check(lines)
  local evs = {}
  for i, line in ipairs(lines) do
    local ok, v = pcall(js.decode, line)
    assert(ok, "line " .. i .. " is not JSON: " .. tostring(v) .. "\n" .. line)
    local valid, why = js.validate(schema, v)
    assert(valid, "line " .. i .. " fails the schema: " .. tostring(why) .. "\n" .. line)
    evs[i] = v
  end
  return evs
end

local function types(evs)
  local t = {}
  for _, e in ipairs(evs) do t[e.type] = (t[e.type] or 0) + 1 end
  return t
end

-- A session: Lisp and Lua leaves, a blackboard write, an async job, an
-- overrun and a leaf error.
local function session(host, path)
  host.events.enable(true)
  if path then host.events.set_path(path) end
  host:register_action("lua-ok", function() return "success" end)
  host:eval("(bt.register-action 'lisp-ok (lambda (inst) 'success))")
  host:eval("(bt.register-action 'slow (lambda (inst) (let loop ((i 0)) (if (< i 200000) (loop (+ i 1)) 'success))))")
  local inst = host:compile([[(seq (act lua-ok) (act lisp-ok) (act bb-put-int k 2) (act slow)
                                    (sel (cond nope) (act async-sleep-ms 1)))]]):instance()
  host.bt.set_tick_budget_ms(inst, 1)
  for _ = 1, 3 do inst:tick() end
  return inst
end

describe("events", function()
  it("fnv1a64 uses the reference's offset basis", function()
    assert.are.equal("fnv1a64:14650fb0739d0383", fnv(""))
  end)

  it("writes a schema-valid, gap-free stream to dump and file #nostress", function()
    local path = os.tmpname()
    local host = lispbt.new()
    session(host, path)
    local lines = host.events.dump()
    local evs = check(lines)
    for i, e in ipairs(evs) do
      assert.are.equal(i, e.seq)
      assert.are.equal(evs[1].run_id, e.run_id)
      assert.are.equal("integer", js.jtype(e.unix_ms))
    end
    local t = types(evs)
    for _, ty in ipairs { "run_start", "bt_def", "tick_begin", "tick_end", "node_enter", "node_exit",
                          "bb_write", "sched_submit", "error", "budget_warning" } do
      assert(t[ty], "no " .. ty .. " event")
    end
    assert.are.equal(3, t.tick_begin)
    assert.are.equal(t.node_enter, t.node_exit)
    -- dump is the file's tail
    local file = readlines(path)
    assert.are.same(lines, file)
    -- run_end on disable, in both
    host.events.enable(false)
    local after = host.events.dump()
    assert.are.equal("run_end", js.decode(after[#after]).type)
    assert.are.same(after, readlines(path))
    assert.are.equal(#lines + 1, js.decode(after[#after]).seq)
    host:close()
    os.remove(path)
  end)

  it("hashes the canonical DSL text in bt_def and run_start", function()
    local host = lispbt.new()
    session(host)
    local evs = check(host.events.dump())
    local def = evs[2]
    assert.are.equal("bt_def", def.type)
    local dsl = host:eval("(write-to-string (bt.to-dsl (bt.compile '(seq (act lua-ok) (act lisp-ok) (act bb-put-int k 2) (act slow) (sel (cond nope) (act async-sleep-ms 1))))))")
    assert.are.equal(dsl, def.data.dsl)
    assert.are.equal(fnv(dsl), def.data.tree_hash)
    assert.are.equal(fnv(dsl), def.data.canonical_dsl_hash)
    assert.are.equal(fnv(dsl), evs[1].data.tree_hash)
    assert.are.equal(8, #def.data.nodes)
    assert.are.same({ id = 5, kind = "sel", name = "sel" }, def.data.nodes[6])
    assert.are.equal(7, #def.data.edges)
    assert.are.same({ parent = 0, child = 5, index = 4 }, def.data.edges[5])
    assert.are.same({ parent = 5, child = 6, index = 0 }, def.data.edges[6])
    host:close()
  end)

  it("node events carry node_id, status and dur_ms", function()
    local host = lispbt.new()
    session(host)
    for _, e in ipairs(check(host.events.dump())) do
      if e.type == "node_exit" then
        assert.are.equal("integer", js.jtype(e.data.node_id))
        assert.truthy(({ success = 1, failure = 1, running = 1 })[e.data.status])
        assert.are.equal("number", type(e.data.dur_ms))
        assert.are.equal(e.tick, math.floor(e.tick))
      end
    end
    host:close()
  end)

  it("events.dump n returns the newest n lines, from Lisp and Lua alike #nostress", function()
    local host = lispbt.new()
    session(host)
    local all = host.events.dump()
    assert.are.same({ all[#all - 1], all[#all] }, host.events.dump(2))
    assert.are.same({ all[#all - 1], all[#all] }, host:eval("(events.dump 2)"))
    assert.is_nil(host.events.dump(0))
    host:close()
  end)

  it("each host has its own run_id and seq; close writes run_end", function()
    local pa, pb = os.tmpname(), os.tmpname()
    local a, b = lispbt.new(), lispbt.new()
    session(a, pa)
    session(b, pb)
    local ea, eb = check(a.events.dump()), check(b.events.dump())
    assert.are_not.equal(ea[1].run_id, eb[1].run_id)
    assert.are.equal(1, ea[1].seq)
    assert.are.equal(1, eb[1].seq)
    a:close()
    b:close()
    for _, p in ipairs { pa, pb } do
      local lines = readlines(p)
      check(lines)
      assert.are.equal("run_end", js.decode(lines[#lines]).type)
      os.remove(p)
    end
  end)

  it("a small ring loses nothing: the writer drains it under pressure", function()
    local host = lispbt.new()
    host.events.set_ring_size(8)
    local path = os.tmpname()
    session(host, path)
    host.events.enable(false)
    local evs = check(readlines(path))
    for i, e in ipairs(evs) do assert.are.equal(i, e.seq) end
    assert.are.equal(0, evs[#evs].data.dropped)
    assert.are.equal(8, #host.events.dump())
    host:close()
    os.remove(path)
  end)

  it("a new run after re-enabling starts at seq 1 with a new run_id", function()
    local host = lispbt.new()
    local inst = session(host)
    local first = check(host.events.dump())[1].run_id
    host.events.enable(false)
    host.events.enable(true)
    inst:tick()
    local evs = check(host.events.dump(40))
    local start
    for _, e in ipairs(evs) do if e.type == "run_start" then start = e end end
    assert.are.equal(1, start.seq)
    assert.are_not.equal(first, start.run_id)
    host:close()
  end)

  it("tick_audit follows each tick_end with every tick_audit.v1 field", function()
    local host = lispbt.new()
    host.events.enable_tick_audit(true)
    local inst = session(host)
    local evs = check(host.events.dump())
    local n = 0
    for i, e in ipairs(evs) do
      if e.type == "tick_audit" then
        n = n + 1
        local j = i - 1
        while evs[j].type ~= "tick_end" do j = j - 1 end
        assert.are.equal(e.tick, evs[j].tick)
        assert(i == #evs or evs[i + 1].type == "tick_begin", "tick_audit is the tick's last line")
        local d = e.data
        assert.are.equal("tick_audit.v1", d.schema_version)
        assert.are.equal(e.tick, d.tick_id)
        for _, f in ipairs { "allocation_count", "allocation_bytes", "heap_live_bytes_before",
                             "heap_live_bytes_after", "heap_live_bytes_delta", "gc_collections_delta",
                             "gc_pause_ns_delta", "gc_live_objects_after", "gc_freed_objects_delta" } do
          assert.are.equal("integer", js.jtype(d[f]), f)
        end
        assert.are.equal(d.heap_live_bytes_after - d.heap_live_bytes_before, d.heap_live_bytes_delta)
        assert.are.equal("boolean", type(d.gc_forced))
        assert.are.equal(0, d.root_node_id)
        assert.are.equal(evs[j].data.root_status, d.root_status)
        assert.are.equal(0, d.node_path[1])
        assert.are.equal("ring", d.logging_mode.sink)
        assert.are.equal("boolean", type(d.logging_mode.enabled))
        assert.truthy(d.audit_mode)
        assert.are.equal("tick_pre_begin_to_tick_end_pre_audit", d.measurement_window)
      end
    end
    assert.are.equal(3, n)
    host.events.enable_tick_audit(false)
    inst:tick()
    for _, e in ipairs(check(host.events.dump(30))) do
      assert(e.type ~= "tick_audit" or e.tick < 4, "tick_audit after disabling")
    end
    host:close()
  end)

  it("gc_begin/gc_end carry gc.lifecycle.v1, in order inside the tick", function()
    local host = lispbt.new()
    host.events.enable(true)
    host:register_action("collect", function() host:gc() return "success" end)
    local inst = host:compile("(seq (act bb-put-int k 2) (act collect))"):instance()
    inst:tick()
    local evs = check(host.events.dump())
    local b, e
    for i, ev in ipairs(evs) do
      if ev.type == "gc_begin" then b = i end
      if ev.type == "gc_end" then e = i end
    end
    assert(b and e == b + 1, "gc_begin then gc_end")
    assert.are.equal("node_enter", evs[b - 1].type)
    assert.are.equal(2, evs[b - 1].data.node_id)
    local g = evs[e].data
    assert.are.equal("gc.lifecycle.v1", g.schema_version)
    assert.are.equal("end", g.phase)
    assert.are.equal("explicit", g.reason)
    assert.is_true(g.forced)
    assert.is_true(g.in_tick)
    assert.are.equal(evs[b].data.collection_id, g.collection_id)
    for _, f in ipairs { "heap_live_bytes_before", "live_objects_before", "heap_live_bytes_after",
                         "live_objects_after", "freed_objects", "mark_time_ns", "sweep_time_ns",
                         "pause_time_ns" } do
      assert.are.equal("integer", js.jtype(g[f]), f)
    end
    assert.are.equal(evs[b].tick, evs[e].tick)
    assert.are.equal("full", g.step)
    assert.are.equal("full", evs[b].data.step)
    assert.is_true(g.cycle_end)
    assert.is_nil(evs[b].data.cycle_end)
    assert.are.equal("integer", js.jtype(g.cycle_id))
    assert.are.equal(evs[b].data.cycle_id, g.cycle_id)
    host:close()
  end)

  it("gc_begin/gc_end report each incremental step with its cycle", function()
    local host = lispbt.new()
    host:eval("(define keep (vec.make 100000 (list 1 2)))")
    host.events.enable(true)
    host:compile("(seq (act bb-put-int k 1))"):instance():tick()
    local function cycle() -- steps until a cycle ends (no Lisp allocation in between)
      for _ = 1, 100000 do
        local done = host:gc_step(0)
        host.events.dump(0) -- writes the step's lines now (the GC slots are few)
        if done then return true end
      end
      return false
    end
    assert.is_true(cycle()) -- ends whatever cycle runs (gc_stress hosts step on their own)
    assert.is_true(cycle()) -- a whole cycle of gc_step steps
    local evs = check(host.events.dump(100000))
    local last = evs[#evs].data
    assert.are.equal("gc_end", evs[#evs].type)
    assert.is_true(last.cycle_end)
    local steps, ends, n = {}, 0, 0
    for i, ev in ipairs(evs) do
      if ev.type == "gc_end" and ev.data.cycle_id == last.cycle_id then
        local d = ev.data
        assert.are.equal("gc_begin", evs[i - 1].type)
        assert.are.equal(d.collection_id, evs[i - 1].data.collection_id)
        assert.are.equal(d.step, evs[i - 1].data.step)
        assert.are.equal(d.cycle_id, evs[i - 1].data.cycle_id)
        assert.are.equal("step", d.reason)
        if n == 0 then assert.are.equal("start", d.step) end
        n = n + 1
        steps[d.step] = true
        if d.cycle_end then ends = ends + 1 end
      end
    end
    assert.is_true(n >= 2 and steps.start and steps.mark, "a start and a mark step")
    assert.is_nil(steps.full)
    assert.are.equal(1, ends)
    host:close()
  end)

  it("opens the run at the first event of any kind: a planner call before any tick", function()
    local host = lispbt.new { workers = 0 }
    host.events.enable(true)
    host:eval([[(planner.register-model "drift"
      (map.make 'step (lambda (s u dt) (list (+ (car s) (* (car u) dt))))
                'cost (lambda (s u n) (* (car n) (car n)))
                'bounds (list (list -1 1))))]])
    host:eval([[(planner.plan (map.make 'schema_version "planner.request.v1" 'planner "mcts"
                  'model_service "drift" 'state 1.0 'budget_ms 1000 'work_max 20 'seed 1))]])
    host.events.snapshot_bb()
    local inst = host:compile("(act bb-put-int k 2)"):instance()
    inst:tick()
    local evs = check(host.events.dump())
    local t = types(evs)
    assert.are.equal("run_start", evs[1].type)
    assert.are.equal(fnv(""), evs[1].data.tree_hash) -- no tree yet when the run opened
    assert.are.equal("planner_call_start", evs[2].type)
    for _, k in ipairs { "planner_call_end", "planner_v1", "bt_def", "bb_snapshot", "tick_end" } do
      assert.is_true((t[k] or 0) >= 1, k)
    end
    local n = 0
    for i, e in ipairs(evs) do
      assert.are.equal(i, e.seq)
      if e.type == "run_start" then n = n + 1 end
    end
    assert.are.equal(1, n)
    host:close()
  end)

  it("keeps at most OBS_EVT_TAIL_MAX (65536) lines for events.dump, the newest", function()
    local host = lispbt.new { workers = 0 }
    host.events.set_ring_size(1 << 17)
    host.events.enable(true)
    local inst = host:compile("(seq " .. string.rep("(act always-success)", 255, " ") .. ")"):instance()
    inst:set_profile_level("timing") -- 514 lines a tick
    for _ = 1, 140 do inst:tick() end
    local lines = host.events.dump()
    assert.are.equal(65536, #lines)
    local last = js.decode(lines[#lines])
    local first = js.decode(lines[1])
    assert.are.equal("tick_end", last.type)
    assert.are.equal(140, last.tick)
    assert.are.equal(last.seq - 65535, first.seq)
    host:close()
  end)

  it("reuses a tail slot of a long line for short ones, lines intact #nostress", function()
    local host = lispbt.new()
    host.events.set_ring_size(8) -- a tail of 8 slots, each reused every 8 lines
    local path = os.tmpname()
    host.events.set_path(path)
    host.events.enable(true)
    host:eval(("(define long %q)"):format(string.rep("x", 3000)))
    host:eval("(bt.register-action 'put-long (lambda (inst) (bt.bb-put inst 'k long) 'success))")
    local inst = host:compile("(act put-long)"):instance()
    inst:tick()
    local longest = 0
    for _ = 1, 4 do
      host.events.snapshot_bb() -- a ~3 KB bb_snapshot line among 6 short ones a tick
      inst:tick()
      local dump = host.events.dump()
      local file = readlines(path)
      local last = js.decode(dump[8]).seq -- the file's line number (seq is gap-free from 1)
      for i = 1, 8 do
        assert.are.equal(file[last - 8 + i], dump[i])
        longest = math.max(longest, #dump[i])
      end
    end
    assert.is_true(longest > 3000)
    host:close()
    os.remove(path)
  end)

  it("costs nothing when off: no lines", function()
    local host = lispbt.new()
    local inst = host:compile("(seq (act bb-put-int k 1))"):instance()
    inst:tick()
    assert.is_nil(host.events.dump())
    host:close()
  end)

  it("refuses bad input with NAME: PROBLEM", function()
    local host = lispbt.new()
    local function err(f, ...)
      local ok, e = pcall(f, ...)
      assert.is_false(ok)
      return (tostring(e):gsub("^.-:%d+: ", ""))
    end
    assert.are.equal("events.enable: expected a boolean, got 1", err(host.events.enable, 1))
    assert.are.equal("events.enable-tick-audit: expected a boolean, got nil", err(host.events.enable_tick_audit, nil))
    assert.are.equal("events.set-flush-each-message: expected a boolean, got \"x\"",
      err(host.events.set_flush_each_message, "x"))
    assert.matches("^events.set%-ring%-size: size must be an integer in %[1, 1048576%], got 0",
      err(host.events.set_ring_size, 0))
    assert.matches("^events.dump: n must be an integer in %[0, 1048576%], got %-1", err(host.events.dump, -1))
    assert.matches("^events.set%-path: cannot open /nonexistent/dir/x.jsonl: ",
      err(host.events.set_path, "/nonexistent/dir/x.jsonl"))
    assert.matches("^events.set%-path: ", err(host.events.set_path, ""))
    host:close()
  end)

  it("with flush-each-message, a SIGKILLed process leaves whole lines", function()
    if os.getenv("LISPBT_SANITIZER") == "thread" then
      -- under make tsan's LD_PRELOAD of libtsan, any child lua5.4 started
      -- through popen/os.execute dies of SIGSEGV before its first line
      -- (even `lua5.4 -e 'print(1)'`), so there is no child to kill
      pending("no child processes under TSan")
      return
    end
    local path = os.tmpname()
    local out = C.subprocess(([[
      local lispbt = require("lispbt")
      local host = lispbt.new()
      host.events.set_path(%q)
      host.events.set_flush_each_message(true)
      host.events.enable(true)
      local inst = host:compile("(seq (act bb-put-int k 1) (act bb-put-int j 2))"):instance()
      for _ = 1, 50 do inst:tick() end
      local pid = io.open("/proc/self/stat"):read("l"):match("^(%%d+)")
      io.stdout:write("killing\n")
      io.stdout:flush()
      os.execute("kill -KILL " .. pid)
      for _ = 1, 1000000 do inst:tick() end
      print("not killed")
    ]]):format(path))
    assert.matches("killing", out)
    assert.is_nil(out:find("not killed", 1, true))
    local lines = readlines(path)
    local evs = check(lines)
    assert(#evs >= 2 + 50 * 8, "only " .. #evs .. " lines")
    for i, e in ipairs(evs) do assert.are.equal(i, e.seq) end
    assert.are_not.equal("run_end", evs[#evs].type)
    os.remove(path)
  end)
end)
