-- spec/planner_spec.lua -- the planner seen from Lua and Lisp (SPEC §7, §8):
-- planner.mcts requests and results, determinism, budget and iteration caps,
-- validation errors naming the key, the plan-action leaf (toy-1d goal loop,
-- failures, :meta_key, :seed_key, derived seeds), the record ring
-- (planner.logs.dump, planner_capacity, host:planner_records) and the
-- JSON-lines file sink.
package.path = "./spec/?.lua;" .. package.path
local lispbt = require("lispbt")
local json = { decode = require("support.bt_helpers").json_decode }

local INT_FIELDS = {
  "ts_ms", "tick_index", "iters", "root_visits", "root_children", "widen_added", "depth_max",
  "seed",
}
local NUM_FIELDS = { "budget_ms", "time_used_ms", "confidence", "value_est", "depth_mean" }
local STR_FIELDS = { "run_id", "node_name", "status" }

local function lines(text)
  local out = {}
  for l in text:gmatch("([^\n]*)\n") do out[#out + 1] = l end
  return out
end

local function isint(v)
  return type(v) == "number" and v == math.floor(v)
end

-- Check one JSON line against every SPEC §7 field with its JSON type.
local function check_record_json(line)
  assert.is_nil(line:find("\n"), "one line")
  local r = json.decode(line)
  assert.are.equal("table", type(r))
  for _, k in ipairs(INT_FIELDS) do
    assert.is_true(isint(r[k]), k)
    assert.is_truthy(line:find('"' .. k .. '":%-?%d+[,}]'), k .. " is not a JSON integer")
  end
  for _, k in ipairs(NUM_FIELDS) do
    assert.are.equal("number", type(r[k]), k)
  end
  for _, k in ipairs(STR_FIELDS) do
    assert.are.equal("string", type(r[k]), k)
  end
  assert.is_truthy(({ ok = 1, timeout = 1, noaction = 1, error = 1 })[r.status], r.status)
  assert.are.equal("table", type(r.action))
  assert.is_truthy(line:find('"action":%['))
  for _, a in ipairs(r.action) do assert.are.equal("number", type(a)) end
  assert.is_true(r.confidence >= 0 and r.confidence <= 1)
  if r.state_key ~= nil then assert.are.equal("string", type(r.state_key)) end
  if r.top_k ~= nil then
    assert.is_truthy(line:find('"top_k":%[{'))
    assert.is_true(#r.top_k >= 1)
    for _, alt in ipairs(r.top_k) do
      assert.are.equal("table", type(alt.action))
      for _, a in ipairs(alt.action) do assert.are.equal("number", type(a)) end
      assert.is_true(isint(alt.visits))
      assert.are.equal("number", type(alt.q))
    end
  end
  return r
end

local function tmpfile()
  local p = os.tmpname()
  os.remove(p)
  return p
end

local function readlines(path)
  local f = io.open(path, "r")
  if not f then return {} end
  local out = {}
  for l in f:lines() do out[#out + 1] = l end
  f:close()
  return out
end

-- A request bounded by iterations only (replays exactly).
local function fixed(extra)
  local r = { state = { 0.0 }, seed = 1234, iters_max = 300, budget_ms = 60000 }
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

local STAT_KEYS = {
  "status", "confidence", "value_est", "iters", "root_visits", "root_children", "widen_added",
  "depth_max", "depth_mean", "seed",
}

describe("planner", function()
  describe("planner.mcts", function()
    it("is deterministic for a fixed seed when bounded by iters_max", function()
      local h <close> = lispbt.new()
      local h2 <close> = lispbt.new()
      local a = h.planner.mcts(fixed())
      h.planner.mcts(fixed { seed = 99 }) -- something else in between
      local b = h.planner.mcts(fixed())
      local c = h2.planner.mcts(fixed())
      assert.are.equal("ok", a.status)
      for _, other in ipairs { b, c } do
        assert.are.same(a.action, other.action)
        for _, k in ipairs(STAT_KEYS) do assert.are.equal(a[k], other[k], k) end
        assert.are.same(a.top_k, other.top_k)
      end
      local d = h.planner.mcts(fixed { seed = 99 })
      assert.are_not.same(a.action, d.action)
    end)

    it("returns a result map with the action and stats", function()
      local h <close> = lispbt.new()
      local r = h.planner.mcts(fixed())
      assert.are.equal(1, #r.action)
      assert.is_true(r.action[1] >= -1 and r.action[1] <= 1)
      assert.are.equal(300, r.iters)
      assert.are.equal(r.iters, r.root_visits)
      assert.are.equal(1234, r.seed)
      assert.are.equal(3, #r.top_k)
      assert.are.same(r.action, r.top_k[1].action)
      assert.is_true(r.time_used_ms >= 0)
      assert.is_nil(r.error)
    end)

    it("respects budget_ms", function()
      local h <close> = lispbt.new()
      local r = h.planner.mcts { state = { 0.0 }, iters_max = 1000000000, budget_ms = 20 }
      -- a billion iterations cannot finish: only the deadline ends the search.
      -- It ends once the budget is spent; how far past it is a figure of
      -- bench/mcts_bench.c (a loaded machine may stall it for a while).
      assert.are.equal("timeout", r.status)
      assert.is_true(r.time_used_ms >= 19.9, "time " .. r.time_used_ms)
      assert.is_true(r.iters > 0 and r.iters < 1000000000)
      assert.are.equal(1, #r.action)
    end)

    it("honours the iters_max cap when the budget is large", function()
      local h <close> = lispbt.new()
      for _, n in ipairs { 1, 7, 500 } do
        local r = h.planner.mcts { state = { 0.5 }, iters_max = n, budget_ms = 60000 }
        assert.are.equal("ok", r.status)
        assert.are.equal(n, r.iters)
        assert.are.equal(n, r.root_visits)
      end
    end)

    it("unknown keys are errors naming the key, on both surfaces", function()
      local h <close> = lispbt.new()
      assert.has_error(function() h.planner.mcts { state = { 0 }, foo = 1 } end,
        "planner.mcts: unknown key 'foo'")
      local ok, err = pcall(h.eval, h, '(planner.mcts (map.make "state" 0.0 :bogus_key 1))')
      assert.is_false(ok)
      assert.is_truthy(err:find("planner.mcts: unknown key 'bogus_key'", 1, true), err)
      assert.is_equal(4, h:eval("(+ 2 2)")) -- host still usable
    end)

    it("bad values are errors naming the key", function()
      local h <close> = lispbt.new()
      local cases = {
        { { state = { 0 }, gamma = 1.5 }, "planner.mcts: gamma: " },
        { { state = { 0 }, budget_ms = -1 }, "planner.mcts: budget_ms: " },
        { { state = { 0, 1 } }, "planner.mcts: state: toy-1d expects 1 value, got 2" },
        { { state = { 0 }, model_service = "nope" }, "planner.mcts: model_service: unknown model 'nope'" },
        { { state = { 0 }, iters_max = 0 }, "planner.mcts: iters_max: " },
        { { state = { 0 }, iters_max = 2.5 }, "planner.mcts: iters_max: " },
        { { state = { 0 }, gamma = "x" }, "planner.mcts: gamma: " },
        { { state = { 0 }, top_k = 9 }, "planner.mcts: top_k: " },
        { { state = { 0 }, rollout_policy = "greedy" }, "planner.mcts: rollout_policy: " },
        { { state = { 0 / 0 } }, "planner.mcts: state: " },
        { { iters_max = 5 }, "planner.mcts: state: " },
      }
      for _, c in ipairs(cases) do
        local ok, err = pcall(h.planner.mcts, c[1])
        assert.is_false(ok, c[2])
        assert.is_truthy(tostring(err):find(c[2], 1, true), tostring(err))
      end
      assert.has_error(function() h.planner.mcts(42) end)
      assert.are.equal("ok", h.planner.mcts(fixed()).status)
    end)

    it("gives the same action from Lisp and Lua", function()
      local h <close> = lispbt.new()
      local a = h:eval("(planner.mcts (map.make \"state\" '(0.0) \"seed\" 7 \"iters_max\" 200))")
      local b = h.planner.mcts { state = { 0.0 }, seed = 7, iters_max = 200 }
      assert.are.same(a.action, b.action)
      assert.are.equal(a.iters, b.iters)
      -- keyword and symbol keys, scalar state, vec state
      local c = h:eval("(planner.mcts (map.make :state 0.0 :seed 7 :iters_max 200))")
      assert.are.same(a.action, c.action)
      local d = h:eval("(let ((v (vec.make))) (vec.push! v 0.0) "
                       .. "(planner.mcts (map.make 'state v 'seed 7 'iters_max 200)))")
      assert.are.same(a.action, d.action)
    end)
  end)

  describe("plan-action leaf", function()
    -- a budget no search reaches: iters_max decides, so the run replays
    -- exactly however loaded the machine is
    local GOAL_TREE = "(sel (cond goal-reached-1d state 1.0 0.02) "
                      .. "(seq (plan-action :state_key state :action_key action :iters_max 300 "
                      .. ":budget_ms 60000) (act apply-planned-1d state action state)))"

    it("drives toy-1d from 0.0 to the goal within 40 ticks", function()
      local h <close> = lispbt.new()
      local inst = h:compile(GOAL_TREE):instance()
      inst:put("state", 0.0)
      local reached
      for n = 1, 40 do
        assert.are.equal("success", inst:tick())
        if math.abs(inst:get("state") - 1.0) <= 0.02 then
          reached = n
          break
        end
      end
      assert.is_not_nil(reached, "state " .. tostring(inst:get("state")))
      -- at the goal the condition succeeds and no more planning happens
      local before = #h:planner_records()
      assert.are.equal("success", inst:tick())
      assert.are.equal(before, #h:planner_records())
      assert.are.equal(reached, before)
      local rec = h:planner_records(1)[1]
      assert.are.equal("state", rec.state_key)
      assert.is_truthy(rec.node_name:find("^plan%-action%-%d+$"), rec.node_name)
      assert.are.equal(reached, rec.tick_index)
    end)

    it("fails on a missing or non-numeric state with an error log record; stays usable", function()
      local h <close> = lispbt.new()
      local inst = h:compile("(plan-action :iters_max 50)"):instance()
      inst:set_trace_enabled(true)
      assert.are.equal("failure", inst:tick())
      assert.are.equal("failure", inst:tick { state = "abc" })
      local errs = {}
      for _, r in ipairs(h:logs()) do
        if r.level == "error" then errs[#errs + 1] = r end
      end
      assert.are.equal(2, #errs)
      assert.are.equal("bt", errs[1].category)
      assert.is_truthy(errs[1].msg:find("plan-action: missing state key: state", 1, true))
      assert.is_truthy(errs[2].msg:find("plan-action: state at key 'state' is not a number", 1,
        true))
      local nerr = 0
      for _, e in ipairs(inst:trace()) do
        if e.kind == "error" then nerr = nerr + 1 end
      end
      assert.are.equal(2, nerr)
      -- every call appends a record, failed ones with status error
      local recs = h:planner_records()
      assert.are.equal(2, #recs)
      assert.are.equal("error", recs[1].status)
      assert.are.equal("missing state key: state", recs[1].error)
      -- usable
      assert.are.equal("success", inst:tick { state = 0.5 })
      assert.are.equal("number", type(inst:get("action")))
      assert.are.equal(3, #h:planner_records())
    end)

    it("a state the model rejects fails the leaf and records status error", function()
      local h <close> = lispbt.new()
      local inst = h:compile("(plan-action :iters_max 50)"):instance()
      assert.are.equal("failure", inst:tick { state = { 0.1, 0.2 } })
      local rec = h:planner_records(1)[1]
      assert.are.equal("error", rec.status)
      assert.is_truthy(rec.error:find("planner state validation failed: toy-1d expects 1 state value",
        1, true), rec.error)
      assert.is_truthy(h.bt.logs.dump():find(
        "level=error .* category=bt msg=plan%-action: planner status is not :ok: planner state"))
      check_record_json(h.planner.logs.dump(1):sub(1, -2))
      assert.are.equal("success", inst:tick { state = 0.1 })
    end)

    it("rejects bad configuration at compile time, naming the key", function()
      local h <close> = lispbt.new()
      assert.has_error(function() h:compile("(plan-action :bogus 1)") end,
        "bt.compile: plan-action: unknown option: :bogus")
      assert.has_error(function() h:compile("(plan-action :gamma 1.5)") end)
      local ok, err = pcall(h.compile, h, "(plan-action :gamma 1.5)")
      assert.is_truthy(err:find("gamma", 1, true), err)
      -- an unknown model is a planner result (status error), as in the reference
      assert.are.equal("failure", h:compile("(plan-action :model_service nope)"):instance()
        :tick { state = 0.0 })
      assert.is_truthy(h:planner_records(1)[1].error:find("planner model not found: nope", 1, true))
      ok, err = pcall(h.compile, h, "(plan-action :seed 3)")
      assert.is_false(ok)
      assert.is_truthy(err:find(":seed", 1, true), err)
    end)

    it(":meta_key writes the record as valid compact JSON", function()
      local h <close> = lispbt.new()
      local inst = h:compile("(plan-action :iters_max 100 :budget_ms 60000 :meta_key meta "
                             .. ":node_name planner1)"):instance()
      assert.are.equal("success", inst:tick { state = 0.25 })
      local meta = inst:get("meta")
      assert.are.equal("string", type(meta))
      assert.is_nil(meta:find("\n"))
      assert.is_nil(meta:find("[:,{}%[%]]%s"), "not compact: " .. meta)
      assert.is_nil(meta:find("%s[:,{}%[%]]"), "not compact: " .. meta)
      assert.are.equal("{", meta:sub(1, 1))
      assert.are.equal("}", meta:sub(-1))
      local m = check_record_json(meta)
      assert.are.equal("planner1", m.node_name)
      assert.are.equal("state", m.state_key)
      assert.are.equal(100, m.iters)
      assert.are.equal("ok", m.status)
      assert.are.equal(inst:get("action"), m.action[1])
      local ring = json.decode((h.planner.logs.dump(1):gsub("\n$", "")))
      assert.are.equal(ring.seed, m.seed)
      assert.are.same(ring.action, m.action)
    end)

    it(":seed_key is used when present, else the seed is derived", function()
      local h <close> = lispbt.new()
      local inst = h:compile("(plan-action :seed_key sk :iters_max 50 :budget_ms 60000)")
        :instance()
      assert.are.equal("success", inst:tick { state = 0.0, sk = 42 })
      local direct = h.planner.plan { schema_version = "planner.request.v1", planner = "mcts",
        model_service = "toy-1d", state = { 0.0 }, seed = 42, work_max = 50, budget_ms = 60000 }
      assert.are.equal(direct.action.u[1], inst:get("action"))
      local recs = h:planner_records(2)
      assert.are.equal(42, recs[1].seed)
      -- without the key on the blackboard the seed is derived
      inst:reset()
      assert.are.equal("success", inst:tick { state = 0.0 })
      assert.are_not.equal(42, h:planner_records(1)[1].seed)
    end)

    it("derived seeds replay exactly on fresh hosts with the same base seed", function()
      local function run(base)
        local h <close> = lispbt.new()
        h.planner.set_base_seed(base)
        assert.are.equal(base, h.planner.get_base_seed())
        assert.are.equal(base, h:eval("(planner.get-base-seed)"))
        local inst = h:compile("(seq (plan-action :iters_max 200 :budget_ms 60000 "
                               .. ":node_name p) (act apply-planned-1d))"):instance()
        inst:put("state", 0.0)
        local actions, seeds = {}, {}
        for i = 1, 6 do
          assert.are.equal("success", inst:tick())
          actions[i] = inst:get("action")
          seeds[i] = h:planner_records(1)[1].seed
        end
        return actions, seeds
      end
      local a1, s1 = run(2024)
      local a2, s2 = run(2024)
      local a3, s3 = run(2025)
      assert.are.same(a1, a2)
      assert.are.same(s1, s2)
      assert.are_not.same(s1, s3)
      assert.are_not.same(a1, a3)
      -- one seed per tick, all different, all exact integers in [0, 2^53)
      local seen = {}
      for _, s in ipairs(s1) do
        assert.are.equal("integer", math.type(s))
        assert.is_true(s >= 0 and s < 2 ^ 53)
        assert.is_nil(seen[s])
        seen[s] = true
      end
    end)
  end)

  describe("records", function()
    it("planner.logs.dump 3: three JSON lines with every SPEC §7 field", function()
      local h <close> = lispbt.new()
      h.planner.mcts(fixed { run_id = "r1", node_name = "n1", tick_index = 5 })
      h.planner.mcts(fixed { state_key = "x" })
      h.planner.mcts(fixed { top_k = 0 })
      h.planner.mcts { state = { 0.0 }, iters_max = 1000000000, budget_ms = 1 }
      local text = h.planner.logs.dump(3)
      assert.are.equal(text, h:eval("(planner.logs.dump 3)"))
      assert.are.equal("\n", text:sub(-1))
      local ls = lines(text)
      assert.are.equal(3, #ls)
      local recs = {}
      for i, l in ipairs(ls) do recs[i] = check_record_json(l) end
      -- oldest first: the first call is not in the newest three
      assert.are.equal("x", recs[1].state_key)
      assert.are.equal("", recs[1].run_id)
      assert.is_not_nil(recs[1].top_k)
      assert.is_nil(recs[2].top_k)
      assert.is_nil(recs[2].state_key)
      assert.are.equal("timeout", recs[3].status)
      assert.are.equal(1, recs[3].budget_ms)
      local all = lines(h.planner.logs.dump(4))
      local r1 = check_record_json(all[1])
      assert.are.equal("r1", r1.run_id)
      assert.are.equal("n1", r1.node_name)
      assert.are.equal(5, r1.tick_index)
      assert.are.equal(1234, r1.seed)
      assert.are.equal(300, r1.iters)
      assert.are.equal(60000, r1.budget_ms)
    end)

    it("dump defaults to 200 records; n is a non-negative integer", function()
      local h <close> = lispbt.new()
      for i = 1, 205 do
        h.planner.mcts { state = { 0.0 }, iters_max = 1, tick_index = i }
      end
      local ls = lines(h.planner.logs.dump())
      assert.are.equal(200, #ls)
      assert.are.equal(6, json.decode(ls[1]).tick_index)
      assert.are.equal(205, json.decode(ls[200]).tick_index)
      assert.are.equal(200, #lines(h:eval("(planner.logs.dump)")))
      assert.are.equal(205, #lines(h.planner.logs.dump(1000)))
      assert.are.equal("", h.planner.logs.dump(0))
      for _, bad in ipairs { -1, 1.5, "3" } do
        assert.has_error(function() h.planner.logs.dump(bad) end)
        assert.has_error(function() h.planner.logs.snapshot(bad) end)
      end
      assert.has_error(function() h:eval("(planner.logs.dump -1)") end)
      h.planner.clear_logs()
      assert.are.equal("", h.planner.logs.dump())
      assert.are.equal(0, #h:planner_records())
    end)

    it("the ring keeps the newest planner_capacity records", function()
      local h <close> = lispbt.new { planner_capacity = 5 }
      for i = 1, 8 do
        h.planner.mcts { state = { 0.0 }, iters_max = 1, tick_index = i }
      end
      local ls = lines(h.planner.logs.dump(10))
      assert.are.equal(5, #ls)
      for i, l in ipairs(ls) do assert.are.equal(i + 3, json.decode(l).tick_index) end
      local recs = h:planner_records()
      assert.are.equal(5, #recs)
      assert.are.equal(4, recs[1].tick_index)
      assert.are.equal(8, recs[5].tick_index)
    end)

    it("host:planner_records(n) tables carry the same fields as the JSON", function()
      local h <close> = lispbt.new()
      h.planner.mcts(fixed { run_id = "abc", state_key = "s", node_name = "nn" })
      h.planner.mcts(fixed { seed = 77 })
      local recs = h:planner_records(2)
      assert.are.equal(2, #recs)
      assert.are.equal(1, #h:planner_records(1))
      local js = lines(h.planner.logs.dump(2))
      for i = 1, 2 do
        local t, j = recs[i], json.decode(js[i])
        for k, v in pairs(j) do
          assert.is_not_nil(t[k], k)
          if k == "time_used_ms" then
            assert.is_true(math.abs(t[k] - v) < 0.001, k) -- the JSON is rounded to 1 us
          elseif type(v) == "table" then
            assert.are.same(v, t[k], k)
          else
            assert.are.equal(v, t[k], k)
          end
        end
        for k in pairs(t) do assert.is_not_nil(j[k], "extra field " .. k) end
        for _, k in ipairs(INT_FIELDS) do assert.are.equal("integer", math.type(t[k]), k) end
      end
      assert.are.equal("abc", recs[1].run_id)
      assert.are.equal("s", recs[1].state_key)
      assert.are.equal(77, recs[2].seed)
    end)
  end)

  describe("file sink", function()
    it("writes one line per call when enabled, none when disabled", function()
      local h <close> = lispbt.new()
      local path = tmpfile()
      h.planner.set_log_path(path)
      h.planner.mcts(fixed()) -- sink off by default
      assert.are.equal(0, #readlines(path))
      h.planner.set_log_enabled(true)
      h.planner.mcts(fixed())
      h:eval("(planner.mcts (map.make :state 0.5 :iters_max 10))")
      local inst = h:compile("(plan-action :iters_max 10)"):instance()
      inst:tick { state = 0.1 }
      local ls = readlines(path)
      assert.are.equal(3, #ls)
      local ring = lines(h.planner.logs.dump(3))
      for i = 1, 3 do
        check_record_json(ls[i])
        assert.are.equal(ring[i], ls[i])
      end
      h.planner.set_log_enabled(false)
      h.planner.mcts(fixed())
      inst:tick { state = 0.1 }
      assert.are.equal(3, #readlines(path))
      os.remove(path)
    end)

    it("a bad path never fails a call; the error goes to the log", function()
      local h <close> = lispbt.new()
      h.planner.set_log_path("/nonexistent/dir/x.jsonl")
      h.planner.set_log_enabled(true)
      assert.are.equal("ok", h.planner.mcts(fixed()).status)
      local inst = h:compile("(plan-action :iters_max 10)"):instance()
      assert.are.equal("success", inst:tick { state = 0.1 })
      local dump = h.bt.logs.dump()
      assert.is_truthy(dump:find("record sink", 1, true), dump)
      assert.is_truthy(dump:find("level=error .-category=planner msg=record sink: "
                                 .. "/nonexistent/dir/x.jsonl: open:"), dump)
      assert.are.equal(2, #h:planner_records())
      -- fixing the path picks the sink up again
      local path = tmpfile()
      h.planner.set_log_path(path)
      h.planner.mcts(fixed())
      assert.are.equal(1, #readlines(path))
      os.remove(path)
    end)

    it("rejects bad sink arguments", function()
      local h <close> = lispbt.new()
      assert.has_error(function() h.planner.set_log_path("") end)
      assert.has_error(function() h.planner.set_log_path(3) end)
      assert.has_error(function() h.planner.set_log_enabled(1) end)
      assert.has_error(function() h.planner.set_base_seed(1.5) end)
      assert.are.equal("ok", h.planner.mcts(fixed()).status)
    end)
  end)
end)
