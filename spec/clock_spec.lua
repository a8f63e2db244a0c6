-- spec/clock_spec.lua -- one monotonic clock for every timestamp of a host
-- (docs/profiling.md, "Clocks"): trace events, blackboard stamps, log
-- records, series rows and scheduler events never go backwards, and tick
-- input is stamped before its tick.  Order only: no assertion on durations.
package.path = "./spec/?.lua;" .. package.path
local T = require("support.bt_helpers")
local lispbt = require("lispbt")

-- KEY=VALUE type=TYPE tick=N ts_ns=N writer_node=N ...
local function bbstamps(dump)
  local out = {}
  for _, l in ipairs(T.lines(dump)) do
    local key, ts = l:match("^([^=]+)=.- type=%S+ tick=%d+ ts_ns=(%d+) ")
    assert(key, "bad blackboard dump line: " .. l)
    out[key] = tonumber(ts)
  end
  return out
end

-- Check every event of 'inst:trace()' newer than 'st.seq' comes after the
-- events seen before; returns this tick's tick_begin and tick_end stamps.
local function checktrace(inst, st, where)
  local begin_ts, end_ts, writes = nil, nil, {}
  for _, e in ipairs(inst:trace()) do
    if e.seq > st.seq then
      assert(e.seq == st.seq + 1 or st.seq == 0, where .. ": seq gap before " .. e.seq)
      if e.ts_ns < st.ts then
        error(string.format("%s: %s (seq %d) at %d, after an event at %d", where, e.kind,
          e.seq, e.ts_ns, st.ts))
      end
      st.seq, st.ts = e.seq, e.ts_ns
      if e.kind == "tick_begin" then begin_ts = e.ts_ns end
      if e.kind == "tick_end" then end_ts = e.ts_ns end
      if e.kind == "bb_write" then writes[e.key] = e.ts_ns end
    end
  end
  return begin_ts, end_ts, writes
end

describe("timestamps", function()
  local host
  before_each(function()
    host = T.host({ trace_capacity = 64 })
  end)
  after_each(function()
    host:close()
  end)

  for _, level in ipairs({ "timing", "counters" }) do
    it("20,000 ticks with input and a Lua writer never go backwards (level " .. level .. ")", function()
      host:register_action("writer", function(ctx)
        ctx:put("out", (ctx:get("in") or 0) + 1)
        return true
      end)
      local inst = host:compile("(seq (cond always-true) (act writer) (act bb-put-int n 1))"):instance()
      inst:set_profile_level(level)
      inst:set_trace_enabled(true)
      host.bt.series.enable(inst, 64)
      local st = { seq = 0, ts = 0 }
      local last_bb, last_row = 0, 0
      for k = 1, 20000 do
        local where = "tick " .. k
        inst:tick({ ["in"] = k })
        local b, e, w = checktrace(inst, st, where)
        assert(b and e, where .. ": tick_begin/tick_end not in the ring")
        local bb = bbstamps(host.bt.blackboard.dump(inst))
        -- input before the tick; in-tick writes inside it; one stamp per write
        if not (bb["in"] <= b and b <= bb.out and bb.out <= bb.n and bb.n <= e) then
          error(string.format("%s: in=%d tick_begin=%d out=%d n=%d tick_end=%d", where,
            bb["in"], b, bb.out, bb.n, e))
        end
        assert(w.out == bb.out and w.n == bb.n and w["in"] == bb["in"], where .. ": trace and dump disagree")
        assert(bb["in"] >= last_bb, where .. ": input stamped before the last tick's writes")
        last_bb = bb.n
        if k % 64 == 0 then
          -- series rows: one per tick, stamped at the tick's start, in order
          local prev = last_row
          for line in host.bt.series.dump(inst, "csv"):gmatch("[^\n]+") do
            local tick, ts = line:match("^(%d+),(%d+),")
            if tick then
              assert(tonumber(ts) >= prev, where .. ": series row " .. tick .. " goes backwards")
              prev = tonumber(ts)
            end
          end
          last_row = prev
        end
      end
      assert.are.equal(20000, inst:stats().tick_count)
    end)
  end

  it("host log records and blackboard writes of several instances share one clock", function()
    host:register_action("boom", function() error("boom") end)
    local a = host:compile("(seq (act bb-put-int x 1) (act boom))")
    local insts = {}
    for i = 1, 4 do
      insts[i] = a:instance()
      insts[i]:set_trace_enabled(i % 2 == 0)
    end
    host.bt.clear_logs()
    local stamps = {}
    for round = 1, 50 do
      for i = 1, 4 do
        insts[i]:put("before", round)
        stamps[#stamps + 1] = bbstamps(host.bt.blackboard.dump(insts[i])).before
        pcall(insts[i].tick, insts[i])
        stamps[#stamps + 1] = bbstamps(host.bt.blackboard.dump(insts[i])).x
      end
    end
    for k = 2, #stamps do
      assert(stamps[k] >= stamps[k - 1], "blackboard stamp " .. k .. " goes backwards")
    end
    local logs = host:logs()
    assert.is_true(#logs > 0)
    for k = 2, #logs do
      assert(logs[k].seq == logs[k - 1].seq + 1 and logs[k].ts_ns >= logs[k - 1].ts_ns,
        "log record " .. logs[k].seq .. " goes backwards")
    end
  end)
end)

describe("Chrome trace scheduler events", function()
  it("every job's submit <= start <= finish, for 80 jobs on 2 workers", function()
    local host = T.host({ workers = 2 })
    local tree = host:compile("(act async-sleep-ms 1)")
    local insts = {}
    for i = 1, 80 do
      insts[i] = tree:instance()
      insts[i]:set_trace_enabled(true)
    end
    -- submit, look once while jobs run, wait for all, then observe the ends
    -- (the bounded wait is generous: nothing depends on how fast jobs run)
    -- Each instance is ticked until its job is done, and not once more (a
    -- tick after success would submit another job); on a loaded machine
    -- some finish before the second look.  (A worker counts a job completed
    -- just before it publishes the job's final status, so the wait is on
    -- each instance's own status, not on the counter.)
    for _, inst in ipairs(insts) do inst:tick() end
    local last = {}
    for i, inst in ipairs(insts) do last[i] = inst:tick() end
    local deadline = os.time() + 60
    for i, inst in ipairs(insts) do
      while last[i] == "running" do
        assert(os.time() < deadline, "jobs did not finish within 60 s")
        lispbt.sleep_ms(1)
        last[i] = inst:tick()
      end
      assert.are.equal("success", last[i])
    end
    local jobs, njobs = {}, 0
    for _, inst in ipairs(insts) do
      local doc = T.json_decode(host.bt.trace.chrome(inst))
      for _, ev in ipairs(doc.traceEvents) do
        if ev.cat == "scheduler" then
          local j = jobs[ev.args.job]
          if not j then
            j = {}
            jobs[ev.args.job] = j
            njobs = njobs + 1
          end
          j[ev.name] = ev.ts
        end
      end
    end
    assert.are.equal(80, njobs)
    for id, j in pairs(jobs) do
      assert(j.scheduler_submit and j.scheduler_start and j.scheduler_finish, "job " .. id .. " incomplete")
      assert(j.scheduler_submit <= j.scheduler_start and j.scheduler_start <= j.scheduler_finish,
        string.format("job %d: submit %s start %s finish %s", id, j.scheduler_submit,
          j.scheduler_start, j.scheduler_finish))
    end
    host:close()
  end)
end)
