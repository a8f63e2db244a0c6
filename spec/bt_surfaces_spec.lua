-- spec/bt_surfaces_spec.lua -- the two surfaces of the bt.* builtins
-- (SPEC §4): every bt.* builtin is a Lisp global and is mirrored in Lua
-- under its derived name (split at '.', '-' -> '_'), names with ?, ! or >
-- stay Lisp-only; method forms equal the mirrored forms; the module-level
-- forms act on the default host.
package.path = "./spec/?.lua;" .. package.path
local T = require("support.bt_helpers")
local lispbt = require("lispbt")

-- The bt.* entries of the one builtin table, read from the C source so a
-- new builtin is covered without editing this spec.
local function btbuiltins()
  local names = {}
  for _, path in ipairs({ "csrc/bt/bt_lib.c", "csrc/sched/sched_lib.c" }) do
    local f = assert(io.open(path, "r"))
    local src = f:read("a")
    f:close()
    for name, flags in src:gmatch('{%s*"(bt%.[^"]+)"%s*,%s*%-?%d+%s*,%s*%-?%d+%s*,%s*[%w_]+%s*,%s*([%w_|%s]+),') do
      names[#names + 1] = { name = name, runtime = flags:find("RT") ~= nil or flags:find("RUNTIME") ~= nil }
    end
  end
  return names
end

local function derived(name)
  if name:find("[?!>]") then
    return nil
  end
  local path = {}
  for part in name:gmatch("[^.]+") do
    path[#path + 1] = (part:gsub("%-", "_"))
  end
  return path
end

local function lookup(root, path)
  local v = root
  for k, p in ipairs(path) do
    if k > 1 and type(v) ~= "table" then
      return nil
    end
    v = v[p] -- the first step may index a host userdata
  end
  return v
end

describe("bt surfaces", function()
  local host
  before_each(function()
    host = T.host()
  end)
  after_each(function()
    host:close()
  end)

  it("the builtin table lists the SPEC §5.5 / §8 bt.* names", function()
    local have = {}
    for _, b in ipairs(btbuiltins()) do
      have[b.name] = true
      assert.is_true(b.runtime, b.name .. " is not flagged runtime")
    end
    for _, name in ipairs({ "bt.compile", "bt.new-instance", "bt.tick", "bt.reset", "bt.halt", "bt.status->symbol",
      "bt.register-condition", "bt.register-action", "bt.bb-get", "bt.bb-put", "bt.set-profile-level", "bt.to-dsl",
      "bt.save-dsl", "bt.load-dsl", "bt.blackboard.dump", "bt.trace.dump", "bt.trace.snapshot", "bt.logs.dump",
      "bt.logs.snapshot", "bt.log.dump", "bt.log.snapshot", "bt.set-trace-enabled", "bt.set-read-trace-enabled",
      "bt.clear-trace", "bt.clear-logs", "bt.set-tick-budget-ms", "bt.stats", "bt.scheduler.stats",
      "bt.trace.chrome" }) do
      assert.is_true(have[name], name .. " missing")
    end
  end)

  it("every bt.* builtin is a Lisp procedure and is mirrored on hosts and the module", function()
    local n = 0
    for _, b in ipairs(btbuiltins()) do
      assert.is_true(host:eval("(procedure? " .. b.name .. ")"), b.name)
      local path = derived(b.name)
      if path then
        n = n + 1
        assert.are.equal("function", type(lookup(host, path)), "host." .. table.concat(path, "."))
        assert.are.equal("function", type(lookup(lispbt, path)), "lispbt." .. table.concat(path, "."))
      end
    end
    assert.is_true(n >= 28)
  end)

  it("bt.status->symbol stays Lisp-only", function()
    assert.is_nil(host.bt.status_to_symbol)
    assert.is_nil(host.bt["status->symbol"])
    assert.is_nil(host.bt["status_>symbol"])
    assert.is_nil(lispbt.bt["status_>symbol"])
    assert.are.equal("success", tostring(host:eval("(bt.status->symbol 1)")))
    assert.are.equal("running", tostring(host:eval('(bt.status->symbol "running")')))
    assert.are.equal("failure", tostring(host:eval("(bt.status->symbol #f)")))
    assert.is_truthy(T.err(host.eval, host, "(bt.status->symbol 9)"):find("bt.status->symbol: expected a status", 1, true))
  end)

  it("mirrored functions return exactly what the Lisp builtins return", function()
    local inst = host:compile("(seq (act bb-put-int k 2) (act nope))"):instance()
    inst:set_trace_enabled(true)
    inst:tick()
    host:set("inst", inst)
    for _, name in ipairs({ "bt.stats", "bt.blackboard.dump", "bt.trace.dump", "bt.trace.chrome" }) do
      assert.are.equal(host:eval("(" .. name .. " inst)"), lookup(host, derived(name))(inst), name)
    end
    assert.are.equal(host:eval("(bt.logs.dump)"), host.bt.logs.dump())
    assert.are.equal(host:eval("(bt.scheduler.stats)"), host.bt.scheduler.stats())
    assert.are.equal(2, host.bt.bb_get(inst, "k"))
    assert.is_nil(host.bt.bb_put(inst, "k", 3))
    assert.are.equal(3, host:eval("(bt.bb-get inst 'k)"))
    -- the Lua convention: a status is a string, whichever spelling ticks
    assert.are.equal("failure", host.bt.tick(inst))
    assert.are.equal("failure", inst:tick())
    assert.are.equal("failure", lispbt.bt.tick(inst))
    assert.are.equal("failure", tostring(host:eval("(bt.tick inst)"))) -- Lisp: a symbol
    for _, name in ipairs({ "bt.reset", "bt.halt", "bt.clear-trace" }) do
      assert.is_nil(lookup(host, derived(name))(inst), name)
    end
    assert.is_nil(host.bt.clear_logs())
  end)

  it("method forms equal the mirrored forms", function()
    local tree = host:compile("(seq (act bb-put-int k 2) (running))")
    local a, b = tree:instance(), tree:instance()
    for _, x in ipairs({ a, b }) do
      x:set_trace_enabled(true)
    end
    a:tick()
    host.bt.tick(b)
    -- trace snapshots differ only by timestamps: compare their shapes
    local function shape(evs)
      local out = {}
      for k, e in ipairs(evs) do
        out[k] = ("%d %s %d %d %s"):format(e.seq, e.kind, e.tick, e.node, tostring(e.status))
      end
      return out
    end
    assert.are.same(shape(a:trace()), shape(host.bt.trace.snapshot(b)))
    assert.are.same(shape(a:trace(3)), shape(host.bt.trace.snapshot(b, 3)))
    assert.are.same(host:logs(), host.bt.logs.snapshot())
    assert.are.same(host:logs(2), host.bt.logs.snapshot(2))
    local da, db = tree:to_dsl(), host.bt.to_dsl(tree)
    assert.are.equal(tostring(da[1]), tostring(db[1]))
    assert.are.equal(#da, #db)
    a:set_tick_budget_ms(5)
    host.bt.set_tick_budget_ms(b, 5)
    a:set_profile_level("counters")
    host.bt.set_profile_level(b, "counters")
    a:set_read_trace_enabled(true)
    host.bt.set_read_trace_enabled(b, true)
    local sa, sb = a:stats(), b:stats()
    for _, k in ipairs({ "tick_budget_ms", "profile_level", "trace_enabled", "tick_count" }) do
      assert.are.equal(sa[k], sb[k], k)
    end
    a:halt()
    host.bt.halt(b)
    a:reset()
    host.bt.reset(b)
    assert.are.same(a:blackboard(), b:blackboard())
    a:clear_trace()
    host.bt.clear_trace(b)
    assert.are.same(a:trace(), b:trace())
    assert.are.same({}, a:trace())
  end)

  it("method names never collide with the mirrored namespace", function()
    assert.are.equal("table", type(host.bt))
    assert.are.equal("function", type(host.compile))
    assert.are.equal("function", type(host.bt.compile))
    assert.are_not.equal(host.compile, host.bt.compile)
    -- host.bt.compile is the Lisp primitive (takes DSL data or source text)
    assert.are.equal("lispbt.tree (1 nodes)", tostring(host.bt.compile("(succeed)")))
  end)

  describe("module-level forms act on the default host", function()
    it("lispbt.compile, lispbt.bt.stats, lispbt.default", function()
      local d = lispbt.default()
      assert.are.equal(d, lispbt.default())
      local tree = lispbt.compile("(seq (succeed) (act always-success))")
      local inst = tree:instance()
      assert.are.equal("success", inst:tick())
      local text = lispbt.bt.stats(inst)
      assert.is_truthy(text:find("^tick_count=1\n"))
      assert.are.equal(text, d.bt.stats(inst))
      d:set("default-inst", inst)
      assert.are.equal(text, lispbt.eval("(bt.stats default-inst)"))
      assert.are.equal(text, d:eval("(bt.stats default-inst)"))
      -- an instance from a private host: module functions follow it
      local mine = host:compile("(fail)"):instance()
      mine:tick()
      assert.are.equal(host.bt.stats(mine), lispbt.bt.stats(mine))
      -- the module-level Lisp builtins without an instance use the default host
      assert.are.equal(d.bt.logs.dump(), lispbt.bt.logs.dump())
      local t2 = lispbt.bt.compile("(invert (fail))")
      assert.are.equal("success", t2:instance():tick())
    end)

    it("module-level register_action / register_condition / logs", function()
      lispbt.register_condition("module-cond", function()
        return true
      end)
      lispbt.register_action("module-act", function(ctx)
        ctx:put("seen", ctx.name)
        return "success"
      end)
      local inst = lispbt.compile("(seq (cond module-cond) (act module-act))"):instance()
      assert.are.equal("success", inst:tick())
      assert.are.equal("module-act", inst:get("seen"))
      -- the private host does not know them
      assert.are.equal("failure", host:compile("(cond module-cond)"):instance():tick())
      assert.are.equal("table", type(lispbt.logs()))
      assert.are.same(lispbt.default():logs(), lispbt.logs())
    end)
  end)
end)
