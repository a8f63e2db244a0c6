-- spec/bt_errors_spec.lua -- BT error handling (SPEC §3 errors, §5.2,
-- §10): raising leaves, unknown leaves registered later, bad arguments to
-- every method, closed hosts, re-entrant ticks, values of another host,
-- ctx used outside its callback.
package.path = "./spec/?.lua;" .. package.path
local T = require("support.bt_helpers")
local lispbt = require("lispbt")

-- Method table of a userdata (its metatable's __index: a table, or a C function
-- keeping it as upvalue 1).
local function methods(u)
  local idx = getmetatable(u).__index
  if type(idx) == "function" then
    local _, t = debug.getupvalue(idx, 1)
    return t
  end
  return idx
end

local function sorted(t)
  local names = {}
  for k in pairs(t) do
    names[#names + 1] = k
  end
  table.sort(names)
  return names
end

describe("bt errors", function()
  local host
  before_each(function()
    host = T.host({ preempt = true }) -- SPEC §5.6 halting
  end)
  after_each(function()
    host:close()
  end)

  describe("raising leaves", function()
    it("a raising Lua leaf fails its node with an error record; the instance stays usable", function()
      local boom = true
      host:register_action("boom", function()
        if boom then
          error("kaboom", 0)
        end
        return "success"
      end)
      host:register_condition("tablerr", function()
        error({ code = 1 })
      end)
      local inst = host:compile("(sel (cond tablerr) (act boom) (succeed))"):instance()
      inst:set_trace_enabled(true)
      assert.are.equal("success", inst:tick())
      local logs = host:logs()
      assert.are.equal(2, #logs)
      assert.are.same({ "error", "bt", 1, 1, "cond tablerr: (error object is a table value)" },
        { logs[1].level, logs[1].category, logs[1].tick, logs[1].node, logs[1].msg })
      assert.are.same({ "error", "bt", 1, 2, "act boom: kaboom" },
        { logs[2].level, logs[2].category, logs[2].tick, logs[2].node, logs[2].msg })
      local errs = {}
      for _, e in ipairs(inst:trace()) do
        if e.kind == "error" then
          errs[#errs + 1] = e.node .. ":" .. e.msg
        end
      end
      assert.are.same({ "1:cond tablerr: (error object is a table value)", "2:act boom: kaboom" }, errs)
      local n = T.nodelines(host.bt.stats(inst))
      -- act boom: node 1 in the reference's post-order numbering (lispbt_id 2)
      assert.are.equal(1, T.parsenode(n[1]).failure)
      assert.are.equal(1, T.parsenode(n[1]).errors)
      assert.truthy(n[1]:find("^node 1 %(boom%) .* lispbt_id=2 "))
      assert.are.equal(2, inst:stats().errors)
      boom = false
      assert.are.equal("success", inst:tick())
      assert.are.equal(1, T.parsenode(T.nodelines(host.bt.stats(inst))[2]).success)
      assert.are.equal(3, #host:logs())
    end)

    it("a Lua error message keeps its position", function()
      host:register_action("pos", function()
        error("with position")
      end)
      local inst = host:compile("(act pos)"):instance()
      assert.are.equal("failure", inst:tick())
      assert.is_truthy(host:logs(1)[1].msg:find("^act pos: .-bt_errors_spec%.lua:%d+: with position$"))
    end)

    it("a raising Lisp leaf fails its node with an error record", function()
      host:eval("(bt.register-action 'le (lambda (inst) (car 3)))")
      host:eval("(bt.register-condition 'lc (lambda (inst) (error \"lisp cond broke\")))")
      local inst = host:compile("(sel (act le) (cond lc))"):instance()
      assert.are.equal("failure", inst:tick())
      local logs = host:logs()
      assert.are.equal("act le: eval:1:40: car: expected a cons, got 3", logs[1].msg)
      assert.is_truthy(logs[2].msg:find("^cond lc: .*lisp cond broke"), logs[2].msg)
      assert.are.equal("error", logs[2].level)
      assert.are.equal(2, inst:stats().errors)
      -- usable afterwards, from Lisp too
      host:set("inst", inst)
      assert.are.equal("failure", tostring(host:eval("(bt.tick inst)")))
      assert.are.equal(2, host:eval("(+ 1 1)"))
    end)

    it("a raising Lua leaf under a Lisp-driven tick fails its node too", function()
      host:register_action("boom", function()
        error("from lua", 0)
      end)
      host:eval("(define inst (bt.new-instance (bt (sel (act boom) (succeed)))))")
      assert.are.equal("success", tostring(host:eval("(bt.tick inst)")))
      assert.are.equal("act boom: from lua", host:logs(1)[1].msg)
    end)
  end)

  describe("unknown leaves", function()
    it("fail at tick with an error event and record; registering later makes the same tree work", function()
      local tree = host:compile("(seq (cond later-cond) (act later-act))")
      local inst = tree:instance()
      inst:set_trace_enabled(true)
      assert.are.equal("failure", inst:tick())
      assert.are.equal("cond later-cond: unknown condition 'later-cond'", host:logs(1)[1].msg)
      assert.are.equal(0 + 1, host:logs(1)[1].node)
      local kinds = {}
      for _, e in ipairs(inst:trace()) do
        kinds[#kinds + 1] = e.kind
      end
      assert.is_truthy(table.concat(kinds, " "):find("node_enter error node_exit", 1, true))
      host:register_condition("later-cond", function()
        return true
      end)
      assert.are.equal("failure", inst:tick())
      assert.are.equal("act later-act: unknown action 'later-act'", host:logs(1)[1].msg)
      host:eval("(bt.register-action 'later-act (lambda (inst) 'success))")
      assert.are.equal("success", inst:tick())
      assert.are.equal("success", tree:instance():tick())
      assert.are.equal(2, inst:stats().errors)
    end)

    it("a condition name is not an action name", function()
      host:register_condition("only-cond", function()
        return true
      end)
      local inst = host:compile("(act only-cond)"):instance()
      assert.are.equal("failure", inst:tick())
      assert.are.equal("act only-cond: unknown action 'only-cond'", host:logs(1)[1].msg)
    end)
  end)

  describe("bad arguments name the function", function()
    it("instance methods with a bad self", function()
      local inst = host:compile("(succeed)"):instance()
      local m = methods(inst)
      assert.is_true(#sorted(m) >= 13)
      for _, name in ipairs(sorted(m)) do
        local msg = T.err(m[name], 5)
        assert.is_truthy(msg == name .. ": bad self (lispbt.instance expected, got number)"
          or msg:find("^bt%.[%w%.%-]+: expected a bt_instance, got 5$")
          or msg:find("^bt%.[%w%.%-]+: expected %d arguments, got 1$")
          or msg:find("^bt%.[%w%.%-]+: expected %d to %d arguments, got 1$"), name .. ": " .. msg)
      end
      assert.are.equal("tick: bad self (lispbt.instance expected, got nil)",
        T.err(function() return inst.tick(nil) end):gsub("^.-:%d+: ", ""))
      assert.are.equal("tick: bad self (lispbt.instance expected, got lispbt.tree)",
        T.err(function() return inst.tick(host:compile("(succeed)")) end):gsub("^.-:%d+: ", ""))
      assert.are.equal("get: bad self (lispbt.instance expected, got nil)",
        T.err(function() return inst.get(nil, "k") end):gsub("^.-:%d+: ", ""))
      assert.are.equal("stats: bad self (lispbt.instance expected, got string)",
        T.err(function() return inst.stats("x") end):gsub("^.-:%d+: ", ""))
      assert.are.equal("bt.reset: expected a bt_instance, got nil", T.err(inst.reset, nil))
      assert.are.equal("bt.halt: expected a bt_instance, got 3", T.err(inst.halt, 3))
      assert.are.equal("bt.trace.snapshot: expected a bt_instance, got nil", T.err(inst.trace, nil))
    end)

    it("instance methods with bad arguments", function()
      local inst = host:compile("(succeed)"):instance()
      local function e(f)
        return (T.err(f):gsub("^.-:%d+: ", ""))
      end
      assert.are.equal("tick: bad argument #1 (table expected, got number)", e(function() return inst:tick(5) end))
      assert.are.equal("get: bad argument #1 (string or symbol expected, got no value)", e(function() return inst:get() end))
      assert.are.equal("get: bad argument #1 (string or symbol expected, got table)", e(function() return inst:get({}) end))
      assert.are.equal("put: bad argument #1 (string or symbol expected, got boolean)", e(function() return inst:put(true, 1) end))
      assert.are.equal("bt.trace.snapshot: N must be an integer >= 0, got -1", e(function() return inst:trace(-1) end))
      assert.are.equal('bt.trace.snapshot: N must be an integer >= 0, got "x"', e(function() return inst:trace("x") end))
      assert.are.equal("bt.set-trace-enabled: expected 2 arguments, got 1", e(function() return inst:set_trace_enabled() end))
      assert.are.equal("success", inst:tick())
    end)

    it("tree methods", function()
      local tree = host:compile("(succeed)")
      local inst = tree:instance()
      assert.are.same({ "export_dot", "group", "instance", "tick_all", "to_dsl" }, sorted(methods(tree)))
      assert.are.equal("bt.export-dot: expected a bt_def, got 5", T.err(tree.export_dot, 5))
      assert.are.equal("bt.export-dot: expected a bt_instance, got 5", T.err(tree.export_dot, tree, nil, 5))
      assert.are.equal("tick_all: bad self (lispbt.tree expected, got lispbt.instance)",
        T.err(function() return tree.tick_all(inst, {}) end):gsub("^.-:%d+: ", ""))
      assert.are.equal("instance: bad self (lispbt.tree expected, got nil)",
        T.err(function() return tree.instance(nil) end):gsub("^.-:%d+: ", ""))
      assert.are.equal("instance: bad self (lispbt.tree expected, got lispbt.instance)",
        T.err(function() return tree.instance(inst) end):gsub("^.-:%d+: ", ""))
      assert.is_truthy(T.err(tree.to_dsl, inst):find("^bt.to%-dsl: expected a bt_def, got <bt_instance:%d+>$"))
      assert.are.equal("bt.to-dsl: expected a bt_def, got nil", T.err(tree.to_dsl, nil))
    end)

    it("host methods", function()
      local m = methods(host)
      for _, name in ipairs(sorted(m)) do
        local msg = T.err(m[name], 5)
        assert.is_truthy(msg == name .. ": bad self (lispbt.host expected, got number)"
          or msg:find("^[%w%.%-]+: bad self %(lispbt.host expected, got number%)$"),
          name .. ": " .. msg)
      end
      local function e(f)
        return (T.err(f):gsub("^.-:%d+: ", ""))
      end
      assert.are.equal("compile: bad self (lispbt.host expected, got nil)",
        e(function() return host.compile(nil, "(succeed)") end))
      assert.are.equal("compile: bad argument #1 (string expected, got no value)", e(function() return host:compile() end))
      assert.are.equal("register_action: bad argument #1 (string expected, got boolean)",
        e(function() return host:register_action(true, function() end) end))
      assert.are.equal("register_action: bad argument #1 (name must not be empty)",
        e(function() return host:register_action("", function() end) end))
      assert.are.equal("register_action: bad argument #2 (function expected, got number)",
        e(function() return host:register_action("x", 5) end))
      assert.are.equal("register_action: bad argument #3 (function expected, got string)",
        e(function() return host:register_action("x", function() end, "h") end))
      assert.are.equal("register_condition: bad argument #2 (function expected, got no value)",
        e(function() return host:register_condition("x") end))
      assert.are.equal("bt.logs.snapshot: N must be an integer >= 0, got -1", e(function() return host:logs(-1) end))
      assert.are.equal("bt.compile: expected a node form like (seq ...), (cond name) or (act name), got 5",
        e(function() return host.bt.compile(5) end))
      assert.are.equal("bt.new-instance: expected a bt_def, got 5", e(function() return host.bt.new_instance(5) end))
      assert.are.equal("bt.tick: expected a bt_instance, got nil", e(function() return host.bt.tick(nil) end))
      assert.are.equal("eval:1:1: bt.register-action: expected a procedure, got 5",
        T.err(function() return host:eval("(bt.register-action 'x 5)") end))
      assert.are.equal("eval:1:1: bt.register-condition: expected a symbol or string, got 5",
        T.err(function() return host:eval("(bt.register-condition 5 (lambda (i) #t))") end))
      assert.are.equal('eval:1:1: bt.register-action: expected a non-empty name, got ""',
        T.err(function() return host:eval("(bt.register-action \"\" (lambda (i) #t))") end))
      -- the host is unharmed
      assert.are.equal("success", host:compile("(succeed)"):instance():tick())
    end)
  end)

  describe("closed hosts", function()
    it("trees and instances of a closed host raise 'NAME: host is closed'", function()
      local h = T.host()
      local tree = h:compile("(seq (succeed))")
      local inst = tree:instance()
      inst:tick()
      local g = tree:group({ inst })
      local bt = h.bt
      h:close()
      for _, name in ipairs(sorted(methods(inst))) do
        local msg = T.err(function() return methods(inst)[name](inst, "k", 1) end):gsub("^.-:%d+: ", "")
        assert.is_truthy(msg == name .. ": host is closed" or msg:find("^bt%.[%w%.%-]+: host is closed$"), msg)
      end
      for _, name in ipairs(sorted(methods(tree))) do
        local msg = T.err(function() return methods(tree)[name](tree) end):gsub("^.-:%d+: ", "")
        assert.is_truthy(msg == name .. ": host is closed" or msg:find("^bt%.[%w%.%-]+: host is closed$"), msg)
      end
      for _, name in ipairs(sorted(methods(g))) do
        assert.are.equal(name .. ": host is closed",
          (T.err(function() return methods(g)[name](g) end):gsub("^.-:%d+: ", "")), name)
      end
      for name, fname in pairs({ compile = "compile", eval = "eval", logs = "bt.logs.snapshot", heap = "heap",
                                 register_action = "register_action" }) do
        assert.are.equal(fname .. ": host is closed", T.err(function() return h[name](h, "x", function() end) end)
          :gsub("^.-:%d+: ", ""), name)
      end
      assert.are.equal("bt.stats: host is closed", T.err(bt.stats, inst))
      assert.are.equal("bt.stats: host is closed", T.err(lispbt.bt.stats, inst))
      assert.are.equal("bt.tick: host is closed", T.err(bt.tick, inst))
      assert.are.equal("lispbt.instance (closed)", tostring(inst))
      assert.are.equal("lispbt.tree (closed)", tostring(tree))
      h:close() -- idempotent
    end)

    it("a host cannot be closed from inside its own tick", function()
      local h = T.host()
      local msg
      h:register_action("closer", function()
        local ok, e = pcall(h.close, h)
        msg = e
        return ok
      end)
      local inst = h:compile("(act closer)"):instance()
      assert.are.equal("failure", inst:tick())
      assert.is_truthy(tostring(msg):find("close: cannot close a host while it is running", 1, true))
      assert.are.equal("failure", inst:tick())
      h:close()
    end)
  end)

  describe("re-entrancy", function()
    it("a leaf ticking its own instance gets an error; the node fails cleanly", function()
      local inst
      local inner
      host:register_action("self-tick", function()
        local ok, e = pcall(inst.tick, inst)
        inner = e
        if not ok then
          error(e, 0)
        end
        return true
      end)
      inst = host:compile("(seq (succeed) (act self-tick))"):instance()
      assert.are.equal("failure", inst:tick())
      assert.are.equal("tick: the instance is already ticking", inner)
      assert.are.equal("act self-tick: tick: the instance is already ticking", host:logs(1)[1].msg)
      assert.are.equal(1, inst:stats().tick_count)
      assert.are.equal("failure", inst:tick())
      assert.are.equal(2, inst:stats().tick_count)
    end)

    it("a Lisp leaf ticking its own instance gets an error too", function()
      host:eval("(bt.register-action 'selfl (lambda (inst) (bt.tick inst)))")
      assert.are.equal("failure", tostring(host:eval("(bt.tick (bt.new-instance (bt (act selfl))))")))
      assert.is_truthy(host:logs(1)[1].msg:find("^act selfl: .*bt%.tick: the instance is already ticking$"),
        host:logs(1)[1].msg)
    end)

    -- A halt callback that halted its own instance recursed until "C stack
    -- overflow"; tick, halt and reset now refuse their own instance while
    -- it is ticking or being halted (bt_busy_text).
    for _, c in ipairs {
      { "halt", "bt.halt: the instance is being halted" },
      { "reset", "bt.reset: the instance is being halted" },
      { "tick", "tick: the instance is being halted" },
    } do
      for _, outer in ipairs { "halt", "reset" } do
        it(("a halt callback calling inst:%s() during inst:%s() gets an error"):format(c[1], outer),
          function()
            local inst, inner
            host:register_action("selfhalt", function(ctx)
              if ctx.halted then
                local ok, e = pcall(inst[c[1]], inst)
                inner = ok and "no error" or e
              end
              return "running"
            end)
            inst = host:compile("(seq (act selfhalt))"):instance()
            assert.are.equal("running", inst:tick())
            inst[outer](inst)
            assert.are.equal(c[2], inner)
            assert.are.equal("running", inst:tick())
            inst:halt()
            assert.are.equal("running", inst:tick())
          end)
      end
    end

    for _, c in ipairs {
      { "halt", "bt.halt: the instance is already ticking" },
      { "reset", "bt.reset: the instance is already ticking" },
    } do
      it(("a leaf calling inst:%s() on its own instance gets an error"):format(c[1]), function()
        local inst, inner
        host:register_action("selfh", function()
          local ok, e = pcall(inst[c[1]], inst)
          inner = ok and "no error" or e
          return "running"
        end)
        inst = host:compile("(seq (act selfh))"):instance()
        assert.are.equal("running", inst:tick())
        assert.are.equal(c[2], inner)
      end)
    end

    it("a preempted action's halt callback halting its instance gets an error", function()
      local gate, inst, inner = true, nil, nil
      host:register_condition("gate2", function() return gate end)
      host:register_action("w2", function(ctx)
        if ctx.halted then
          local ok, e = pcall(inst.halt, inst)
          inner = ok and "no error" or e
        end
        return "running"
      end)
      inst = host:compile("(seq (cond gate2) (act w2))"):instance()
      assert.are.equal("running", inst:tick())
      gate = false
      assert.are.equal("failure", inst:tick())
      assert.are.equal("bt.halt: the instance is already ticking", inner)
    end)

    it("a Lisp halt procedure halting its own instance fails its node, once", function()
      host:eval([[
        (bt.register-action 'lhalt (lambda (inst) 'running) (lambda (inst) (bt.halt inst)))
        (define li (bt.new-instance (bt (act lhalt))))
        (bt.tick li)
        (bt.halt li)]])
      local msg = host:logs(1)[1].msg
      assert.is_truthy(msg:find("bt%.halt: the instance is being halted$"), msg)
      assert.are.equal("running", tostring(host:eval("(bt.tick li)")))
    end)

    it("a leaf may tick another instance", function()
      local other = host:compile("(act bb-put-int k 1)"):instance()
      host:register_action("tick-other", function()
        return other:tick()
      end)
      local inst = host:compile("(act tick-other)"):instance()
      assert.are.equal("success", inst:tick())
      assert.are.equal(1, other:get("k"))
      assert.are.equal(1, other:stats().tick_count)
    end)

    it("reset from inside a leaf of the same instance fails that leaf; the tick goes on", function()
      local inst
      host:register_action("resetter", function()
        inst:reset()
        return true
      end)
      inst = host:compile("(seq (act bb-put-int k 1) (act resetter) (act bb-put-int j 2))"):instance()
      assert.are.equal("failure", inst:tick())
      assert.are.equal(1, inst:get("k"))
      assert.is_nil(inst:get("j"))
      assert.are.equal("act resetter: bt.reset: the instance is already ticking", host:logs(1)[1].msg)
      assert.are.equal("failure", inst:tick())
    end)
  end)

  describe("values of another host", function()
    it("are refused by conversions; mirrored functions follow the instance's host", function()
      local other = T.host()
      local tree2 = other:compile("(succeed)")
      local inst2 = tree2:instance()
      local inst = host:compile("(succeed)"):instance()
      assert.are.equal("set: a Lisp value of another host cannot be used here", T.err(host.set, host, "x", inst2))
      assert.are.equal("call: a Lisp value of another host cannot be used here", T.err(host.call, host, "bt.tick", inst2))
      assert.are.equal("put: a Lisp value of another host cannot be used here", T.err(inst.put, inst, "k", tree2))
      assert.are.equal("tick: a Lisp value of another host cannot be used here", T.err(inst.tick, inst, { k = tree2 }))
      assert.are.equal("bt.bb-put: a Lisp value of another host cannot be used here",
        T.err(host.bt.bb_put, inst, "k", tree2))
      assert.are.equal(0, inst:stats().tick_count)
      -- host.bt.* with another host's instance acts on that host
      assert.are.equal("success", host.bt.tick(inst2) and tostring(host.bt.tick(inst2)))
      assert.are.equal(2, inst2:stats().tick_count)
      assert.are.equal(other.bt.stats(inst2), host.bt.stats(inst2))
      other:close()
      assert.are.equal("bt.stats: host is closed", T.err(host.bt.stats, inst2))
      assert.are.equal("success", inst:tick())
    end)
  end)

  describe("ctx outside its callback", function()
    it("raises on every use", function()
      local saved
      host:register_action("save", function(ctx)
        saved = ctx
        return true
      end)
      local inst = host:compile("(act save)"):instance()
      assert.are.equal("success", inst:tick())
      local msg = "ctx: used outside its leaf callback"
      assert.are.equal("get: ctx used outside its leaf callback", T.err(function() return saved:get("x") end):gsub("^.-:%d+: ", ""))
      assert.are.equal("put: ctx used outside its leaf callback", T.err(function() return saved:put("x", 1) end):gsub("^.-:%d+: ", ""))
      assert.are.equal(msg, T.err(function() return saved.memory end):gsub("^.-:%d+: ", ""))
      assert.are.equal(msg, T.err(function() return saved.tick end):gsub("^.-:%d+: ", ""))
      assert.are.equal(msg, T.err(function() return saved.node end):gsub("^.-:%d+: ", ""))
      assert.are.equal(msg, T.err(function() return saved.name end):gsub("^.-:%d+: ", ""))
      assert.are.equal(msg, T.err(function() return saved.halted end):gsub("^.-:%d+: ", ""))
      -- nothing was written; the next callback gets a working ctx again
      assert.is_nil(inst:get("x"))
      host:register_action("save", function(ctx)
        ctx:put("x", ctx.tick)
        return true
      end)
      inst:tick()
      assert.are.equal(2, inst:get("x"))
    end)

    it("a ctx of one instance used inside another instance's callback is refused", function()
      local saved
      host:register_action("save", function(ctx)
        saved = ctx
        return true
      end)
      local a = host:compile("(act save)"):instance()
      a:tick()
      local sa = saved
      local got
      host:register_action("use-other", function()
        got = select(2, pcall(sa.get, sa, "k"))
        return true
      end)
      host:compile("(act use-other)"):instance():tick()
      assert.is_truthy(tostring(got):find("ctx used outside its leaf callback", 1, true))
    end)
  end)

  it("an instance or tree used after <close> raises cleanly, even after collection", function()
    local h = lispbt.new()
    local tree = h:compile("(seq (act always-success))")
    local inst = tree:instance()
    do
      local closing <close> = inst
    end
    do
      local closing <close> = tree
    end
    collectgarbage(); collectgarbage()
    h:gc() -- a full Lisp collection, without printing (gc-stats) to stdout
    local ok, err = pcall(inst.tick, inst)
    assert.is_false(ok)
    assert.are.equal("tick: instance is closed", err)
    ok, err = pcall(inst.stats, inst)
    assert.is_false(ok)
    assert.are.equal("stats: instance is closed", err)
    ok, err = pcall(h.bt.stats, inst)
    assert.is_false(ok)
    assert.matches("released Lisp value", err)
    ok, err = pcall(tree.instance, tree)
    assert.is_false(ok)
    assert.are.equal("instance: tree is closed", err)
    assert.are.equal("lispbt.instance (closed)", tostring(inst))
    -- the host is fine
    assert.are.equal("success", h:compile("(succeed)"):instance():tick())
  end)
end)
