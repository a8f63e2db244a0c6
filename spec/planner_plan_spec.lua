-- spec/planner_plan_spec.lua -- planner.plan v1 (docs/planner.md): the
-- planner.request.v1 / planner.result.v1 contract on both surfaces, every
-- field's validation, the three backends (MCTS, MPPI, iLQR) on the built-in
-- models, determinism by seed, the work_max bound, safe actions on non-ok
-- statuses, models written in Lua and Lisp, plan-action with the
-- reference's node options, records, and allocation-free planning ticks.
-- Every request here is bounded by work_max (budget_ms is far out of
-- reach), so results never depend on the machine's speed.
package.path = "./spec/?.lua;" .. package.path
local lispbt = require("lispbt")
local json = { decode = require("support.bt_helpers").json_decode }

local BIG = 600000 -- ms: a budget no request here reaches

local function req(planner, extra)
  local r = { schema_version = "planner.request.v1", planner = planner, model_service = "toy-1d",
              state = { 0.0 }, budget_ms = BIG, work_max = 64, seed = 11 }
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

local function plan(h, planner, extra)
  return h.planner.plan(req(planner, extra))
end

-- toy-1d's motion (the reference's): x' = x + 0.25 * clamp(u, -1, 1)
local function toy_step(x, u)
  return x + 0.25 * math.max(-1, math.min(1, u))
end

describe("planner.plan", function()
  local h
  before_each(function() h = lispbt.new() end)
  after_each(function() h:close() end)

  describe("result shape", function()
    for _, pl in ipairs({ "mcts", "mppi", "ilqr" }) do
      it("planner.result.v1 from " .. pl, function()
        local r = plan(h, pl)
        assert.are.equal("planner.result.v1", r.schema_version)
        assert.are.equal(pl, r.planner)
        assert.are.equal("ok", r.status)
        assert.are.equal("action.u.v1", r.action.action_schema)
        assert.are.equal(1, #r.action.u)
        assert.is_true(r.action.u[1] >= -1 and r.action.u[1] <= 1)
        assert.is_true(r.confidence >= 0 and r.confidence <= 1)
        assert.are.equal(BIG, r.stats.budget_ms)
        assert.are.equal("integer", math.type(r.stats.work_done))
        assert.are.equal(11, r.stats.seed)
        assert.are.equal("number", type(r.stats.time_used_ms))
        assert.is_nil(r.error)
        assert.are.equal("table", type(r.trace))
        if pl == "mcts" then
          assert.are.equal(64, r.trace.root_visits)
          assert.are.equal(3, #r.trace.top_k)
          assert.are.equal("integer", math.type(r.trace.top_k[1].visits))
        elseif pl == "mppi" then
          assert.are.equal(64, r.trace.n_samples)
          assert.are.equal(20, r.trace.horizon) -- toy-1d's default horizon
          assert.are.equal(3, #r.trace.top_k)
          assert.is_true(r.trace.top_k[1].cost <= r.trace.top_k[2].cost)
        else
          assert.are.equal(r.stats.work_done, r.trace.iters)
          assert.is_true(r.trace.cost_final < r.trace.cost_init)
        end
      end)
    end

    it("is a map with symbol keys and a keyword status in Lisp", function()
      local v = h:eval([[
        (let ((r (planner.plan (map.make 'schema_version "planner.request.v1" 'planner :ilqr
                                         'model_service 'toy-1d 'state 0.0 'budget_ms 600000
                                         'seed 3))))
          (list (eq? (map.get r 'status) :ok)
                (map.get (map.get r 'action) 'action_schema)
                (map.get (map.get r 'stats) 'seed)
                (list? (map.get (map.get r 'action) 'u))))]])
      assert.are.same({ true, "action.u.v1", 3, true }, v)
    end)

    it("top_k is bounded by the request and may be 0", function()
      assert.is_nil(plan(h, "mppi", { top_k = 0 }).trace.top_k) -- the empty list, nil in Lua
      assert.are.equal(5, #plan(h, "mcts", { top_k = 5 }).trace.top_k)
    end)

    it("action_schema and safe_action's schema name the result action", function()
      assert.are.equal("my.u", plan(h, "mcts", { action_schema = "my.u" }).action.action_schema)
      assert.are.equal("s.u", plan(h, "mcts", { safe_action = { action_schema = "s.u", u = { 0 } } })
        .action.action_schema)
    end)
  end)

  describe("validation", function()
    local cases = {
      { { schema_version = "planner.request.v2" },
        'request.schema_version must be "planner.request.v1", got "planner.request.v2"' },
      { { planner = "astar" }, 'request.planner must be one of mcts, mppi, ilqr, got "astar"' },
      { { model_service = 3 }, "request.model_service must be a model name" },
      { { state = "x" }, 'request.state must be a number or a list of 1 to 8 numbers, got "x"' },
      { { state = {} }, "request.state must be a number or a list of 1 to 8 numbers" },
      { { state = { 0 / 0 } }, "request.state must be finite numbers" },
      { { budget_ms = 0 }, "request.budget_ms must be a number in (0, 1e+09], got 0" },
      { { budget_ms = "x" }, "request.budget_ms must be a number in (0, 1e+09]" },
      { { seed = -1 }, "request.seed must be a non-negative integer" },
      { { seed = {} }, "request.seed must be a non-negative integer" },
      { { safe_action = 1 }, "request.safe_action must be a map {action_schema, u}, got 1" },
      { { safe_action = { action_schema = "a" } }, "request.safe_action.u is missing (required)" },
      { { safe_action = { u = { "a" } } }, "request.safe_action.u must be a number or a list" },
      { { action_schema = "" }, "request.action_schema must be a non-empty string or symbol" },
      { { work_max = -1 }, "request.work_max must be an integer in [0, 1000000000], got -1" },
      { { work_max = 1.5 }, "request.work_max must be an integer in [0, 1000000000], got 1.5" },
      { { horizon = 257 }, "request.horizon must be an integer in [0, 256], got 257" },
      { { dt_ms = -5 }, "request.dt_ms must be an integer in [0, 86400000], got -5" },
      { { bounds = 1 }, "request.bounds must be a list of (lo hi) rows, got 1" },
      { { bounds = { { 1, 0 } } }, "request.bounds must be rows (lo hi) of finite numbers with lo <= hi (row 1)" },
      { { constraints = 1 }, "request.constraints must be a map, got 1" },
      { { constraints = { max_du = -1 } }, "request.constraints.max_du must be finite numbers >= 0" },
      { { constraints = { smoothness_weight = -1 } },
        "request.constraints.smoothness_weight must be a number >= 0, got -1" },
      { { constraints = { collision_weight = "a" } }, "request.constraints.collision_weight must be a number >= 0" },
      { { constraints = { goal_tolerance = -0.5 } }, "request.constraints.goal_tolerance must be a number >= 0" },
      { { constraints = { bogus = 1 } }, "request.constraints.bogus is not a planner.request.v1 field" },
      { { top_k = 9 }, "request.top_k must be an integer in [0, 8], got 9" },
      { { run_id = 1 }, "request.run_id must be a non-empty string or symbol, got 1" },
      { { tick_index = -1 }, "request.tick_index must be an integer >= 0, got -1" },
      { { node_name = false }, "request.node_name must be a non-empty string or symbol, got #f" },
      { { state_key = string.rep("k", 64) }, "request.state_key must be at most 63 bytes" },
      { { bogus = 1 }, "request.bogus is not a planner.request.v1 field" },
      { { mcts = 1 }, "request.mcts must be a map, got 1" },
      { { mcts = { c_ucb = -1 } }, "request.mcts.c_ucb must be a number >= 0, got -1" },
      { { mcts = { pw_k = 0 } }, "request.mcts.pw_k must be a number > 0, got 0" },
      { { mcts = { pw_alpha = 2 } }, "request.mcts.pw_alpha must be a number in [0, 1], got 2" },
      { { mcts = { max_depth = 0 } }, "request.mcts.max_depth must be an integer in [1, 10000], got 0" },
      { { mcts = { gamma = 0 } }, "request.mcts.gamma must be a number in (0, 1], got 0" },
      { { mcts = { rollout_policy = "x" } },
        'request.mcts.rollout_policy must be one of model_default, random, heuristic, got "x"' },
      { { mcts = { action_sampler = "x" } },
        'request.mcts.action_sampler must be one of model_default, uniform, gaussian, got "x"' },
      { { mppi = { lambda = -1 } }, "request.mppi.lambda must be a number > 0, got -1" },
      { { mppi = { sigma = { -0.1 } } }, "request.mppi.sigma must be finite numbers >= 0" },
      { { mppi = { n_samples = 0 } }, "request.mppi.n_samples must be an integer in [1, 100000], got 0" },
      { { mppi = { n_elite = -1 } }, "request.mppi.n_elite must be an integer in [0, 100000], got -1" },
      { { mppi = { u_init = { 1 / 0 } } }, "request.mppi.u_init must be finite numbers" },
      { { mppi = { u_nominal = "a" } }, "request.mppi.u_nominal must be a number or a list" },
      { { mppi = { c_ucb = 1 } }, "request.mppi.c_ucb is not a planner.request.v1 field" },
      { { ilqr = { max_iters = 0 } }, "request.ilqr.max_iters must be an integer in [1, 100000], got 0" },
      { { ilqr = { reg_init = 0 } }, "request.ilqr.reg_init must be a number in (0, 1e+08], got 0" },
      { { ilqr = { reg_factor = 1 } }, "request.ilqr.reg_factor must be a number in (1, 1e+08], got 1" },
      { { ilqr = { tol_cost = -1 } }, "request.ilqr.tol_cost must be a number >= 0, got -1" },
      { { ilqr = { tol_grad = -1 } }, "request.ilqr.tol_grad must be a number >= 0, got -1" },
      { { ilqr = { u_init = { "a" } } }, "request.ilqr.u_init must be a number or a list" },
      { { ilqr = { derivatives = "exact" } },
        'request.ilqr.derivatives must be analytic or finite_diff, got "exact"' },
      { { ilqr = { fd_eps = 0 } }, "request.ilqr.fd_eps must be a number in (0, 1], got 0" },
    }
    for _, c in ipairs(cases) do
      it("rejects " .. c[2]:match("request%.[%w_.]+"), function()
        local ok, err = pcall(h.planner.plan, req("mcts", c[1]))
        assert.is_false(ok)
        assert.is_truthy(err:find("planner.plan: " .. c[2], 1, true), err)
        -- the call is recorded with status error; the host stays usable
        local rec = json.decode((h.planner.logs.dump(1):gsub("\n$", "")))
        assert.are.equal("error", rec.status)
        assert.are.equal("ok", plan(h, "mcts").status)
      end)
    end

    it("names each missing required field, as the reference does", function()
      for _, f in ipairs({ "schema_version", "planner", "model_service", "state", "budget_ms" }) do
        local r = req("mcts")
        r[f] = nil
        local ok, err = pcall(h.planner.plan, r)
        assert.is_false(ok)
        assert.is_truthy(err:find("planner.plan: missing required " .. f, 1, true), err)
      end
      local ok, err = pcall(h.planner.plan, 5)
      assert.is_false(ok)
      assert.is_truthy(err:find("request must be a map, got 5", 1, true), err)
    end)

    it("gives the same message from Lisp", function()
      local ok, err = pcall(h.eval, h, [[(planner.plan (map.make 'schema_version "planner.request.v1"
        'planner "mppi" 'model_service "toy-1d" 'state 0.0 'budget_ms 10
        'mppi (map.make 'lambda -1)))]])
      assert.is_false(ok)
      assert.is_truthy(err:find("planner.plan: request.mppi.lambda must be a number > 0, got -1", 1,
        true), err)
    end)
  end)

  describe("non-ok statuses return the resolved safe action", function()
    it("an unknown model is status error with the request's safe action", function()
      local r = plan(h, "mppi", { model_service = "nope", safe_action = { action_schema = "a.v1", u = { 0.5 } } })
      assert.are.equal("error", r.status)
      assert.are.equal("planner model not found: nope", r.error)
      assert.are.same({ 0.5 }, r.action.u)
      assert.are.equal("a.v1", r.action.action_schema)
      assert.are.equal(0, r.confidence)
    end)

    it("a state the model rejects, clamped safe action", function()
      local r = plan(h, "mcts", { state = { 0, 1 }, safe_action = { action_schema = "x", u = { 3 } } })
      assert.are.equal("error", r.status)
      assert.is_truthy(r.error:find("planner state validation failed", 1, true))
      assert.are.same({ 1.0 }, r.action.u) -- clamped to toy-1d's bounds
    end)

    it("iLQR without analytic derivatives is an error; finite_diff works", function()
      local s = { 0, 0, 0.5, -0.3, 0, 0 }
      local r = plan(h, "ilqr", { model_service = "ptz-track", state = s })
      assert.are.equal("error", r.status)
      assert.is_truthy(r.error:find("analytic derivatives unavailable", 1, true))
      assert.are.same({ 0.0, 0.0 }, r.action.u)
      r = plan(h, "ilqr", { model_service = "ptz-track", state = s, ilqr = { derivatives = "finite_diff" } })
      assert.are.equal("ok", r.status)
    end)

    it("bounds and safe actions of the wrong dimension are errors naming the field", function()
      local r = plan(h, "mcts", { bounds = { { -1, 1 }, { -1, 1 } } })
      assert.are.equal("error", r.status)
      assert.is_truthy(r.error:find("request.bounds: model 'toy-1d' has 1 action dimension, got 2 rows", 1, true))
      r = plan(h, "mcts", { safe_action = { action_schema = "a", u = { 0, 0 } } })
      assert.are.equal("error", r.status)
      assert.is_truthy(r.error:find("request.safe_action.u", 1, true))
      r = plan(h, "mppi", { mppi = { u_init = { 0, 0, 0 } } })
      assert.are.equal("error", r.status)
      assert.is_truthy(r.error:find("request.mppi.u_init: expected 1 or 20 values", 1, true), r.error)
    end)

    it("request bounds narrow the model's", function()
      for _, pl in ipairs({ "mcts", "mppi", "ilqr" }) do
        local r = plan(h, pl, { bounds = { { -0.1, 0.2 } } })
        assert.is_true(r.action.u[1] >= -0.1 and r.action.u[1] <= 0.2, pl)
      end
    end)
  end)

  describe("budgets and determinism", function()
    it("work_max bounds the work exactly", function()
      assert.are.equal(37, plan(h, "mcts", { work_max = 37 }).stats.work_done)
      assert.are.equal(37, plan(h, "mppi", { work_max = 37 }).stats.work_done)
      -- n_samples caps MPPI when smaller
      assert.are.equal(10, plan(h, "mppi", { work_max = 37, mppi = { n_samples = 10 } }).stats.work_done)
      local r = plan(h, "ilqr", { work_max = 1, state = { -3 } })
      assert.are.equal(1, r.stats.work_done)
      assert.is_true(plan(h, "ilqr", { work_max = 0, ilqr = { max_iters = 3 } }).stats.work_done <= 3)
    end)

    it("a budget the work cannot fit in ends the call with status timeout", function()
      local r = plan(h, "mcts", { budget_ms = 1, work_max = 1000000000 })
      assert.are.equal("timeout", r.status)
      assert.is_true(r.stats.work_done < 1000000000)
      assert.are.equal(1, #r.action.u)
      r = plan(h, "mppi", { budget_ms = 0.001, work_max = 100000, mppi = { n_samples = 100000 } })
      assert.is_true(r.status == "timeout" or r.stats.work_done == 100000)
    end)

    for _, pl in ipairs({ "mcts", "mppi", "ilqr" }) do
      it(pl .. " replays exactly for a seed, across hosts and worker counts", function()
        local extra = { state = { 0.3 }, seed = 99 }
        local a = plan(h, pl, extra)
        local b = plan(h, pl, extra)
        local h2 <close> = lispbt.new({ workers = 4 })
        local c = h2.planner.plan(req(pl, extra))
        for _, r in ipairs({ b, c }) do
          assert.are.same(a.action, r.action)
          assert.are.equal(a.confidence, r.confidence)
          assert.are.equal(a.stats.work_done, r.stats.work_done)
          assert.are.same(a.trace.top_k, r.trace.top_k)
        end
        if pl ~= "ilqr" then -- iLQR is deterministic and does not use the seed
          assert.are_not.same(a.action, plan(h, pl, { state = { 0.3 }, seed = 100 }).action)
        end
      end)
    end

    it("a missing seed is derived from the request, strings are hashed", function()
      local r = req("mcts")
      r.seed = nil
      local a, b = h.planner.plan(r), h.planner.plan(r)
      assert.are.equal(a.stats.seed, b.stats.seed)
      assert.are.same(a.action, b.action)
      local s1 = plan(h, "mcts", { seed = "alpha" }).stats.seed
      assert.are.equal(s1, plan(h, "mcts", { seed = "alpha" }).stats.seed)
      assert.are_not.equal(s1, plan(h, "mcts", { seed = "beta" }).stats.seed)
    end)
  end)

  describe("backends on the built-in models", function()
    for _, pl in ipairs({ "mcts", "ilqr" }) do
      it(pl .. " drives toy-1d to the goal", function()
        local x, reached = 0.0, nil
        for i = 1, 20 do
          local r = plan(h, pl, { state = { x }, work_max = 200 })
          assert.are.equal("ok", r.status)
          x = toy_step(x, r.action.u[1])
          if math.abs(1 - x) < 0.05 then reached = i break end
        end
        assert.is_not_nil(reached, pl .. " ended at " .. x)
      end)
    end

    it("mppi drives toy-1d to the goal with a sharp temperature", function()
      local x, reached = 0.0, nil
      for i = 1, 30 do
        -- a seed per step, as plan-action derives one per tick: with one
        -- seed for every step, each step draws the same 128 noise sequences
        -- and their one bias repeats
        local r = plan(h, "mppi", { state = { x }, work_max = 128, mppi = { lambda = 0.02 },
                                    seed = i })
        x = toy_step(x, r.action.u[1])
        if math.abs(1 - x) < 0.05 then reached = i break end
      end
      assert.is_not_nil(reached, "mppi ended at " .. x)
    end)

    for _, pl in ipairs({ "mcts", "mppi", "ilqr" }) do
      it(pl .. " tracks the ball on ptz-track", function()
        local s = { 0, 0, 0.8, -0.5, 0.02, 0.01 }
        local d0 = math.sqrt(s[3] ^ 2 + s[4] ^ 2)
        local extra = { model_service = "ptz-track", work_max = 128 }
        if pl == "ilqr" then extra.ilqr = { derivatives = "finite_diff" } end
        for _ = 1, 12 do
          extra.state = s
          local r = plan(h, pl, extra)
          assert.are.equal("ok", r.status)
          local u = r.action.u
          assert.is_true(math.abs(u[1]) <= 0.25 and math.abs(u[2]) <= 0.25)
          s = { s[1] + u[1], s[2] + u[2],
                math.max(-2, math.min(2, s[3] + s[5] - 1.15 * u[1])),
                math.max(-2, math.min(2, s[4] + s[6] - 1.15 * u[2])), s[5], s[6] }
        end
        local d = math.sqrt(s[3] ^ 2 + s[4] ^ 2)
        assert.is_true(d < 0.5 * d0, pl .. ": ball at " .. d .. " from " .. d0)
      end)
    end

    it("toy-unicycle is built in", function()
      local r = plan(h, "mppi", { model_service = "toy-unicycle", state = { 0, 0, 0, 1, 1 } })
      assert.are.equal("ok", r.status)
      assert.are.equal(2, #r.action.u)
      assert.are.same({ "toy-1d", "ptz-track", "toy-unicycle" }, h.planner.models())
    end)
  end)

  describe("models written in Lua and Lisp", function()
    local function lin_model()
      return {
        step = function(s, u, dt) return { s[1] + u[1] * dt } end,
        cost = function(_, u, n) return (n[1] - 2) ^ 2 + 0.01 * u[1] ^ 2 end,
        bounds = { { -1, 1 } },
        dt_ms = 500,
      }
    end

    it("host:register_model plans with every backend", function()
      assert.are.equal("lin", h:register_model("lin", lin_model()))
      for _, pl in ipairs({ "mcts", "mppi", "ilqr" }) do
        -- towards 2 on average over seeds: one MPPI call from a zero
        -- nominal is one draw of 100 samples, and a few seeds go the other
        -- way (2 of seeds 1..40)
        local sum = 0
        for seed = 1, 8 do
          local extra = { model_service = "lin", work_max = 100, seed = seed }
          if pl == "ilqr" then extra.ilqr = { derivatives = "finite_diff" } end
          local r = plan(h, pl, extra)
          assert.are.equal("ok", r.status, tostring(r.error))
          sum = sum + r.action.u[1]
        end
        assert.is_true(sum > 0, pl)
      end
      assert.are.same({ "toy-1d", "ptz-track", "toy-unicycle", "lin" }, h.planner.models())
    end)

    it("a done function ends rollouts; dt comes from the request's dt_ms", function()
      local dts = {}
      local m = lin_model()
      m.step = function(s, u, dt) dts[dt] = true return { s[1] + u[1] * dt } end
      m.done = function(s) return s[1] > 1.9 end
      h:register_model("lin", m)
      assert.are.equal("ok", plan(h, "mppi", { model_service = "lin", dt_ms = 250, work_max = 4 }).status)
      assert.are.same({ [0.25] = true }, dts)
    end)

    it("an error inside a model is status error with its message, never a crash", function()
      h:register_model("bad", { step = function() error("boom") end, cost = function() return 0 end,
                                bounds = { { -2, 2 } } })
      for _, pl in ipairs({ "mcts", "mppi", "ilqr" }) do
        local extra = { model_service = "bad", safe_action = { action_schema = "a", u = { 1.5 } } }
        if pl == "ilqr" then extra.ilqr = { derivatives = "finite_diff" } end
        local r = plan(h, pl, extra)
        assert.are.equal("error", r.status, pl)
        assert.is_truthy(r.error:find("model 'bad': .*boom"), r.error)
        assert.are.same({ 1.5 }, r.action.u)
      end
      h:register_model("badret", { step = function() return "x" end, cost = function() return 0 end,
                                   bounds = { { -1, 1 } } })
      local r = plan(h, "mppi", { model_service = "badret" })
      assert.are.equal("error", r.status)
      assert.is_truthy(r.error:find("step must return 1 state value", 1, true), r.error)
      h:register_model("badcost", { step = function(s) return s end, cost = function() return "c" end,
                                    bounds = { { -1, 1 } } })
      r = plan(h, "mcts", { model_service = "badcost" })
      assert.is_truthy(r.error:find("cost must return a number", 1, true), r.error)
      assert.are.equal("ok", plan(h, "mcts").status)
    end)

    it("a model may not call the planner", function()
      h:register_model("reenter", {
        step = function(s) h.planner.plan(req("mcts")) return s end,
        cost = function() return 0 end, bounds = { { -1, 1 } } })
      local r = plan(h, "mppi", { model_service = "reenter" })
      assert.are.equal("error", r.status)
      assert.is_truthy(r.error:find("planner.plan: called from inside a planner model", 1, true), r.error)
    end)

    it("registers from Lisp, and replaces or removes by name", function()
      h:eval([[(planner.register-model "lispm"
                 (map.make 'step (lambda (s u dt) (list (+ (car s) (* (car u) dt))))
                           'cost (lambda (s u n) (* (- (car n) 1) (- (car n) 1)))
                           'bounds (list (list -1 1)) 'horizon 5 'state_dim 1))]])
      local r = plan(h, "mppi", { model_service = "lispm" })
      assert.are.equal("ok", r.status)
      assert.are.equal(5, r.trace.horizon)
      assert.are.equal("error", plan(h, "mppi", { model_service = "lispm", state = { 0, 0 } }).status)
      h:register_model("lispm", lin_model()) -- replaced by a Lua model
      assert.are.equal(20, plan(h, "mppi", { model_service = "lispm" }).trace.horizon)
      assert.is_true(h.planner.unregister_model("lispm"))
      assert.is_false(h.planner.unregister_model("lispm"))
      assert.are.equal("error", plan(h, "mppi", { model_service = "lispm" }).status)
    end)

    it("rejects bad model specs with clear errors", function()
      local bad = {
        { "toy-1d", lin_model(), "planner.register-model: 'toy-1d' is a built-in model" },
        { "m", 1, "planner.register-model: expected a model spec map" },
        { "m", { cost = function() end, bounds = { { 0, 1 } } }, "spec.step must be a function" },
        { "m", { step = function() end, bounds = { { 0, 1 } } }, "spec.cost must be a function" },
        { "m", { step = function() end, cost = function() end }, "spec.bounds must be a list of 1..4" },
        { "m", { step = function() end, cost = function() end, bounds = { { 1, 0 } } }, "(row 1)" },
        { "m", { step = function() end, cost = function() end, bounds = { { 0, 1 } }, done = 3 },
          "spec.done must be a function" },
        { "m", { step = function() end, cost = function() end, bounds = { { 0, 1 } }, horizon = -1 },
          "spec.horizon must be an integer in [0, 256], got -1" },
        { "m", { step = function() end, cost = function() end, bounds = { { 0, 1 } }, x = 1 },
          "spec.x is not a model field" },
        { string.rep("n", 40), lin_model(), "expected a model name of at most 31 bytes" },
      }
      for _, c in ipairs(bad) do
        local ok, err = pcall(h.register_model, h, c[1], c[2])
        assert.is_false(ok)
        assert.is_truthy(err:find(c[3], 1, true), err)
      end
    end)
  end)

  describe("plan-action", function()
    local ALL = "(plan-action :name \"p\" :planner :mppi :budget_ms 600000 :work_max 64 :horizon 10 "
      .. ":dt_ms 0 :model_service \"toy-1d\" :state_key st :action_key act :meta_key meta "
      .. ":seed_key sk :safe_action 0.1 :safe_action_key safe :action_schema \"my.u\" :top_k 2 "
      .. ":gamma 0.9 :max_depth 10 :c_ucb 1.0 :pw_k 2.0 :pw_alpha 0.5 :rollout_policy model_default "
      .. ":action_sampler model_default :lambda 0.5 :sigma 0.3 :sigma_key sg :n_samples 64 "
      .. ":n_elite 0 :max_iters 10 :reg_init 1.0 :reg_factor 10.0 :tol_cost 0.0001 "
      .. ":tol_grad 0.0001 :fd_eps 0.0001 :derivatives :analytic :max_du 0.5 :max_du_key mdu "
      .. ":smoothness_weight 0.0 :collision_weight 0.0 :goal_tolerance 0.05)"

    it("accepts every reference option key, writes action and meta", function()
      local inst = h:compile(ALL):instance()
      assert.are.equal("success", inst:tick { st = 0.0, sk = 5 })
      assert.are.equal("number", math.type(inst:get("act")) and "number")
      local m = json.decode(inst:get("meta"))
      assert.are.equal("planner.v1", m.schema_version)
      assert.are.equal("mppi", m.planner)
      assert.are.equal("p", m.node_name)
      assert.are.equal(5, m.seed)
      assert.are.equal(64, m.work_done)
      assert.are.equal("my.u", m.action_schema)
      assert.are.equal(10, m.trace.horizon)
      assert.are.equal(2, #m.trace.top_k)
      assert.are.equal(inst:get("act"), m.action[1])
    end)

    it("returns failure on a non-ok status but still writes the safe action", function()
      local inst = h:compile("(plan-action :model_service nope :safe_action 0.25)"):instance()
      assert.are.equal("failure", inst:tick { state = 0.0 })
      assert.are.equal(0.25, inst:get("action"))
      local inst2 = h:compile("(plan-action :planner ilqr :model_service ptz-track "
        .. ":safe_action_key safe)"):instance()
      assert.are.equal("failure", inst2:tick { state = { 0, 0, 1, 1 }, safe = { 0.1, -0.1 } })
      assert.are.same({ 0.1, -0.1 }, inst2:get("action"))
      local inst3 = h:compile("(plan-action :planner mcts :work_max 10 :budget_ms 0.000001)"):instance()
      assert.are.equal("failure", inst3:tick { state = 0.0 }) -- timeout
      assert.are.equal("timeout", h:planner_records(1)[1].status)
    end)

    it("each backend reaches toy-1d's goal through a tree; mppi warm-starts per node", function()
      for _, pl in ipairs({ "mcts", "mppi", "ilqr" }) do
        local inst = h:compile("(sel (cond goal-reached-1d state 1.0 0.05) (seq (plan-action :planner "
          .. pl .. " :budget_ms 600000 :work_max 128 :name n1) (act apply-planned-1d)))"):instance()
        inst:put("state", 0.0)
        local reached
        for i = 1, 20 do
          assert.are.equal("success", inst:tick())
          if math.abs(inst:get("state") - 1) <= 0.05 then reached = i break end
        end
        assert.is_not_nil(reached, pl)
      end
    end)

    it("bt.stats and inst:stats() show each plan-action node's time and work done", function()
      local inst = h:compile("(seq (plan-action :planner mppi :work_max 50 :budget_ms 600000) "
        .. "(act apply-planned-1d))"):instance()
      inst:put("state", 0.0)
      for _ = 1, 3 do inst:tick() end
      local nodes = inst:stats().nodes
      assert.are.equal("plan-action", nodes[2].name)
      assert.are.equal(150, nodes[2].work)
      assert.is_true(nodes[2].total_ns > 0)
      assert.is_nil(nodes[3].work)
      -- the reference's numbering (post-order) and name (node-ID for a non-leaf form)
      assert.is_truthy(h.bt.stats(inst):find("node 0 %(node%-0%) .* lispbt_id=1 .* errors=0 work=150\n"))
    end)

    it("rejects bad options at compile time with the reference's wording", function()
      local cases = {
        { "(plan-action :bogus 1)", "bt.compile: plan-action: unknown option: :bogus" },
        { "(plan-action :lambda 0)", "bt.compile: plan-action: :lambda must be a number > 0, got 0" },
        { "(plan-action :planner :astar)", "bt.compile: plan-action: :planner must be one of mcts, mppi, ilqr" },
        { "(plan-action :derivatives :exact)", "bt.compile: plan-action: :derivatives must be analytic or finite_diff" },
        { "(plan-action :state_key 3)", "bt.compile: plan-action: :state_key must be a blackboard key" },
        { "(plan-action :work_max -1)", "bt.compile: plan-action: :work_max must be an integer in [0, 1000000000]" },
        { "(plan-action :name)", "bt.compile: plan-action: expected :key value pairs" },
      }
      for _, c in ipairs(cases) do
        local ok, err = pcall(h.compile, h, c[1])
        assert.is_false(ok)
        assert.is_truthy(err:find(c[2], 1, true), err)
      end
    end)

    it("resolves its options once per node: reset, halt and other instances plan the same", function()
      local src = "(plan-action :name \"c\" :planner mppi :budget_ms 600000 :work_max 16 "
        .. ":state_key x :action_key u :sigma 0.4 :sigma_key sg :safe_action 0.1 :safe_action_key sa)"
      local tree = h:compile(src)
      local a, b = tree:instance(), tree:instance()
      local ua, ub = {}, {}
      for t = 1, 4 do
        if t == 3 then a:reset() end -- clears the node memory that finds the cache
        assert.are.equal("success", a:tick { x = 0.1 * t })
        assert.are.equal("success", b:tick { x = 0.1 * t })
        ua[t], ub[t] = a:get("u"), b:get("u")
      end
      assert.are.same(ua, ub)
      -- a blackboard sigma overrides the node's :sigma for that tick only
      assert.are.equal("success", a:tick { x = 0.5, sg = 0.9 })
      local r1 = h.planner.logs.snapshot(1)[1]
      a:put("sg", nil)
      assert.are.equal("success", a:tick { x = 0.5 })
      local r2 = h.planner.logs.snapshot(1)[1]
      assert.are.equal(r1.tick_index + 1, r2.tick_index)
      assert.are.equal("c", r2.node_name)
    end)

    it("frees each node's cache with its instance", function()
      local tree = h:compile("(plan-action :planner mcts :budget_ms 600000 :work_max 8)")
      local function churn(n)
        for _ = 1, n do
          local i = tree:instance()
          i:tick { state = 0.0 }
        end
        collectgarbage()
        collectgarbage()
        h:gc()
        h:gc()
      end
      churn(40) -- as many live at once as below: the table of caches has grown
      local before = h:heap().c_heap_bytes
      churn(40)
      local after = h:heap().c_heap_bytes
      assert.is_true(after <= before, ("c heap %d -> %d bytes"):format(before, after))
    end)

    it("finds a model registered after its first tick", function()
      local inst = h:compile("(plan-action :planner mppi :model_service \"late\" :budget_ms 600000 "
        .. ":work_max 8 :safe_action 0.0)"):instance()
      assert.are.equal("failure", inst:tick { state = 0.0 })
      h:register_model("late", { step = function(s, u) return { s[1] + u[1] } end,
        cost = function(_, _, n) return (1 - n[1]) ^ 2 end, bounds = { { -1, 1 } } })
      assert.are.equal("success", inst:tick { state = 0.0 })
      local r = h.planner.logs.snapshot(1)[1]
      assert.are.equal("ok", r.status)
      assert.are.equal("late", r.model_service)
      h.planner.unregister_model("late")
      assert.are.equal("failure", inst:tick { state = 0.0 })
    end)

    for _, pl in ipairs({ "mcts", "mppi", "ilqr" }) do
      it("a steady-state " .. pl .. " planning tick allocates nothing", function()
        local inst = h:compile("(seq (plan-action :planner " .. pl .. " :budget_ms 600000 :work_max 32) "
          .. "(act apply-planned-1d state action state))"):instance()
        inst:put("state", -2.0)
        for _ = 1, 3 do inst:tick() end
        local before = h:heap()
        for _ = 1, 20 do inst:tick() end -- (inst:put would box its number)
        local after = h:heap()
        assert.are.equal(before.c_heap_allocations, after.c_heap_allocations)
        assert.are.equal(before.total_allocated_objects, after.total_allocated_objects)
      end)
    end
  end)

  describe("plan-action with a multi-dimensional action", function()
    local tree = "(plan-action :planner mppi :model_service ptz-track :budget_ms 600000 "
      .. ":work_max 16 :state_key s :action_key a)"

    it("writes the node's own vec, refilled each tick with the tick's action", function()
      local inst = h:compile(tree):instance()
      local seen = {}
      for i = 1, 4 do
        assert.are.equal("success", inst:tick { s = { 0, 0, 0.5 + 0.1 * i, -0.3, 0.02, 0.01 } })
        local a = inst:get("a")
        local r = h.planner.logs.snapshot(1)[1]
        assert.are.equal(2, #a)
        assert.are.same(r.action, a) -- the record's action, this tick's
        seen[#seen + 1] = a[1]
      end
      assert.are_not.equal(seen[1], seen[4])
    end)

    it("a steady-state tick allocates nothing (the action vec is reused)", function()
      local inst = h:compile(tree):instance()
      inst:put("s", { 0, 0, 0.6, -0.3, 0.02, 0.01 })
      for _ = 1, 3 do inst:tick() end
      local before = h:heap()
      for _ = 1, 20 do inst:tick() end
      local after = h:heap()
      assert.are.equal(before.c_heap_allocations, after.c_heap_allocations)
      assert.are.equal(before.total_allocated_objects, after.total_allocated_objects)
    end)

    it("refills the same vec, and makes a new one when its length changed", function()
      local r = h:eval([[
        (begin
          (define i (bt.new-instance (bt (plan-action :planner mppi :model_service ptz-track
                      :budget_ms 600000 :work_max 8 :state_key s :action_key a))))
          (bt.bb-put i 's (list 0 0 0.6 -0.3 0.02 0.01))
          (bt.tick i)
          (define v1 (bt.bb-get i 'a))
          (bt.tick i)
          (define v2 (bt.bb-get i 'a))
          (vec.push! v2 9)
          (bt.tick i)
          (define v3 (bt.bb-get i 'a))
          (list (eq? v1 v2) (eq? v2 v3) (vec.len v2) (vec.len v3)))]])
      assert.are.same({ true, false, 3, 2 }, r)
    end)
  end)

  describe("records", function()
    it("one JSON line per call with the planner.v1 fields", function()
      plan(h, "mcts")
      plan(h, "mppi")
      plan(h, "ilqr")
      pcall(h.planner.plan, req("mppi", { mppi = { lambda = 0 } }))
      local lines = {}
      for l in h.planner.logs.dump():gmatch("([^\n]*)\n") do lines[#lines + 1] = json.decode(l) end
      assert.are.equal(4, #lines)
      for i, pl in ipairs({ "mcts", "mppi", "ilqr" }) do
        local r = lines[i]
        assert.are.equal("planner.v1", r.schema_version)
        assert.are.equal(pl, r.planner)
        assert.are.equal("planner.plan", r.node_name)
        assert.are.equal("lisp", r.run_id)
        assert.are.equal("toy-1d", r.model_service)
        assert.are.equal("action.u.v1", r.action_schema)
        assert.are.equal(11, r.seed)
      end
      assert.are.equal(64, lines[1].trace.root_visits)
      assert.are.equal(64, lines[2].trace.n_samples)
      assert.is_number(lines[3].trace.cost_final)
      assert.are.equal("error", lines[4].status)
      assert.is_truthy(lines[4].error:find("request.mppi.lambda", 1, true))
      local snap = h:planner_records(3)
      assert.are.equal("mppi", snap[1].planner)
      assert.are.equal(64, snap[1].trace.n_samples)
    end)
  end)
end)
