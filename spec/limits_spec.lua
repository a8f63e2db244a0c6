-- spec/limits_spec.lua -- the engine's documented limits (issue 13, item 6c).
--
-- Each limit of the table in docs/reference/bt.md "Limits" is exceeded by
-- one and must give its clean error, naming the function; the value at
-- the limit is accepted where that is cheap to build.
local lispbt = require("lispbt")

local function err(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(e)
end

local function seqof(n, leaf)
  return "(seq" .. string.rep(" " .. leaf, n) .. ")"
end

describe("limits", function()
  local host
  setup(function() host = lispbt.new { workers = 1 } end)
  teardown(function() host:close() end)

  it("tree depth: below 200 levels (BT_MAXDEPTH)", function()
    local function nest(d) return string.rep("(invert ", d - 1) .. "(succeed)" .. string.rep(")", d - 1) end
    assert.is_not_nil(host:compile(nest(200)))
    assert.are.equal("bt.compile: tree nested too deeply, got 200", err(host.compile, host, nest(201)))
  end)

  it("children per composite: 65535 (BT_MAXKIDS)", function()
    assert.is_not_nil(host:compile(seqof(65535, "(succeed)")))
    assert.are.equal("bt.compile: seq: too many children, got 65536",
      err(host.compile, host, seqof(65536, "(succeed)")))
  end)

  it("nodes per tree: 2^20 (BT_MAXNODES)", function()
    local part = seqof(65535, "(succeed)")
    local src = "(seq" .. string.rep(" " .. part, 17) .. ")"
    assert.are.equal("bt.compile: tree has more than 1048576 nodes", err(host.compile, host, src))
  end)

  it("repeat/retry counts and running-then-success N: 10^9 (BT_MAXCOUNT)", function()
    assert.is_not_nil(host:compile("(repeat 1000000000 (succeed))"))
    assert.are.equal("bt.compile: repeat: COUNT must be an integer in [0, 1000000000], got 1000000001",
      err(host.compile, host, "(repeat 1000000001 (succeed))"))
    assert.are.equal("bt.compile: retry: COUNT must be an integer in [0, 1000000000], got 1000000001",
      err(host.compile, host, "(retry 1000000001 (fail))"))
    assert.is_not_nil(host:compile("(act running-then-success 1000000000)"))
    assert.are.equal(
      "bt.compile: running-then-success: N must be an integer in [0, 1000000000], got 1000000001",
      err(host.compile, host, "(act running-then-success 1000000001)"))
  end)

  it("async-sleep-ms and tick budgets: one day in ms", function()
    assert.is_not_nil(host:compile("(act async-sleep-ms 86400000)"))
    assert.are.equal("bt.compile: async-sleep-ms: MS must be a number in [0, 86400000], got 86400001",
      err(host.compile, host, "(act async-sleep-ms 86400001)"))
    local inst = host:compile("(succeed)"):instance()
    inst:set_tick_budget_ms(86400000)
    assert.are.equal("bt.set-tick-budget-ms: MS must be an integer in [0, 86400000], got 86400001",
      err(inst.set_tick_budget_ms, inst, 86400001))
  end)

  it("series capacity: 2^24; vec size: 2^32", function()
    local inst = host:compile("(succeed)"):instance()
    assert.are.equal("bt.series.enable: CAPACITY must be an integer in [0, 16777216], got 16777217",
      err(host.bt.series.enable, inst, 16777217))
    assert.are.equal("eval:1:1: vec.make: N must be an integer in [0, 4294967296], got 4294967297",
      err(host.eval, host, "(vec.make 4294967297)"))
  end)

  it("host options: their maxima", function()
    for _, c in ipairs {
      { "workers", 257, "new: bad argument #1 (option 'workers' must be at most 256)" },
      { "trace_capacity", (1 << 26) + 1,
        "new: bad argument #1 (option 'trace_capacity' must be an integer in [1, 67108864], got 67108865)" },
      { "log_capacity", (1 << 24) + 1,
        "new: bad argument #1 (option 'log_capacity' must be an integer in [1, 16777216], got 16777217)" },
      { "planner_capacity", (1 << 20) + 1,
        "new: bad argument #1 (option 'planner_capacity' must be an integer in [1, 1048576], got 1048577)" },
      { "max_depth", 1000001,
        "new: bad argument #1 (option 'max_depth' must be an integer in [1, 1000000], got 1000001)" },
    } do
      assert.are.equal(c[3], err(lispbt.new, { [c[1]] = c[2] }), c[1])
    end
  end)

  it("planner.plan: work_max, horizon, n_samples, max_iters, registered models (PLAN_*)", function()
    local function req(extra)
      local r = { schema_version = "planner.request.v1", planner = "mppi", model_service = "toy-1d",
                  state = { 0 }, budget_ms = 600000, work_max = 1 }
      for k, v in pairs(extra) do r[k] = v end
      return r
    end
    for _, c in ipairs {
      { { work_max = 1000000001 }, "request.work_max must be an integer in [0, 1000000000], got 1000000001" },
      { { horizon = 257 }, "request.horizon must be an integer in [0, 256], got 257" },
      { { mppi = { n_samples = 100001 } }, "request.mppi.n_samples must be an integer in [1, 100000], got 100001" },
      { { ilqr = { max_iters = 100001 } }, "request.ilqr.max_iters must be an integer in [1, 100000], got 100001" },
    } do
      assert.are.equal("planner.plan: " .. c[2], err(host.planner.plan, req(c[1])))
    end
    assert.are.equal("ok", host.planner.plan(req { horizon = 256 }).status)
    local spec = { step = function(s) return s end, cost = function() return 0 end, bounds = { { 0, 1 } } }
    for i = 1, 64 do host:register_model("m" .. i, spec) end
    assert.are.equal("planner.register-model: at most 64 models can be registered",
      err(host.register_model, host, "m65", spec))
    host:register_model("m64", spec) -- replacing one is fine
    for i = 1, 64 do host.planner.unregister_model("m" .. i) end
  end)
end)
