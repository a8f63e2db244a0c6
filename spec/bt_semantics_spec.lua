-- spec/bt_semantics_spec.lua -- per-tick semantics of every node kind over
-- several ticks (SPEC §5.2), halt and preemption (§5.6), Lua ctx.memory,
-- Lisp procedures as leaves.  Leaves are scripted: each returns a given
-- status sequence and logs its calls, so the exact order of leaf calls and
-- halts is asserted.
package.path = "./spec/?.lua;" .. package.path
local T = require("support.bt_helpers")

describe("bt semantics", function()
  local host, rec
  before_each(function()
    host = T.host({ preempt = true, print_style = "lispbt" }) -- SPEC §5.6 halting; our stats text
    rec = T.recorder()
  end)
  after_each(function()
    host:close()
  end)

  local function script(name, statuses, opts)
    T.script(host, rec, name, statuses, opts)
  end
  local function inst(src)
    return host:compile(src):instance()
  end
  local function calls()
    return table.concat(rec.take(), " ")
  end

  describe("seq / sel (memoryless)", function()
    it("seq restarts from child 0 every tick", function()
      script("a", { "success" })
      script("b", { "running", "running", "success", "failure" })
      local i = inst("(seq (act a) (act b))")
      assert.are.equal("running", i:tick())
      assert.are.equal("a b", calls())
      assert.are.equal("running", i:tick())
      assert.are.equal("a b", calls())
      assert.are.equal("success", i:tick())
      assert.are.equal("a b", calls())
      assert.are.equal("failure", i:tick())
      assert.are.equal("a b", calls())
    end)

    it("seq stops at the first failure or running", function()
      script("a", { "failure", "running", "success" })
      script("b", { "success" })
      local i = inst("(seq (act a) (act b))")
      assert.are.equal("failure running success", T.ticks(i, 3))
      assert.are.equal("a a a b", calls())
    end)

    it("sel is the dual: first success or running stops, all failures fail", function()
      script("a", { "failure", "failure", "success", "running", "failure" })
      script("b", { "running", "success", "failure" })
      local i = inst("(sel (act a) (act b))")
      assert.are.equal("running", i:tick())
      assert.are.equal("a b", calls())
      assert.are.equal("success", i:tick())
      assert.are.equal("a b", calls())
      assert.are.equal("success", i:tick())
      assert.are.equal("a", calls())
      assert.are.equal("running", i:tick())
      assert.are.equal("a", calls())
      assert.are.equal("failure", i:tick())
      assert.are.equal("a b", calls())
    end)
  end)

  describe("async-seq / reactive-seq / reactive-sel", function()
    -- the same tree, scripted alike, under each executor copy: counters or
    -- timing, tracing off or on; statuses, leaf calls, halts and node
    -- counters must not depend on the copy
    local SRC = "(reactive-sel (seq (cond g) (act hi)) (reactive-seq (cond ok) (async-seq (act a) (act b))))"
    local function runmode(level, trace)
      local h = T.host()
      local r = T.recorder()
      T.script(h, r, "g", { false, false, false, true, false }, { cond = true })
      T.script(h, r, "hi", { "success" })
      T.script(h, r, "ok", { true, true, false, true, true, true }, { cond = true })
      T.script(h, r, "a", { "success" })
      T.script(h, r, "b", { "running", "running", "running", "success" })
      local i = h:compile(SRC):instance()
      i:set_profile_level(level)
      i:set_trace_enabled(trace)
      local st = T.ticks(i, 6)
      local log = table.concat(r.take(), " ")
      local counts = {}
      for _, nd in ipairs(i:stats().nodes) do
        counts[#counts + 1] = ("%s %d/%d/%d"):format(nd.name, nd.success, nd.failure, nd.running)
      end
      local names = {}
      if trace then
        for _, e in ipairs(i:trace()) do
          if e.kind == "node_exit" then names[e.node] = true end
        end
      end
      h:close()
      return st, log, table.concat(counts, ", "), names
    end

    it("tick, halt and count the same in every executor mode", function()
      local st, log, counts = runmode("timing", false)
      -- t1: ok, a (async-seq running); t2: b running; t3: ok fails -> the
      -- async-seq is halted (b's halt); t4: g -> hi succeeds; t5, t6: a, b
      assert.are.equal("running running failure success running running", st)
      assert.are.equal("g ok a g ok b g ok halt:b g hi g ok a g ok b", log)
      assert.are.equal("reactive-sel 1/1/4, seq 1/5/0, cond g 1/5/0, act hi 1/0/0, reactive-seq 0/1/4, " ..
                       "cond ok 4/1/0, async-seq 0/0/4, act a 2/0/0, act b 0/0/2", counts)
      for _, mode in ipairs({ { "counters", false }, { "timing", true }, { "counters", true } }) do
        local st2, log2, counts2, names = runmode(mode[1], mode[2])
        assert.are.equal(st, st2)
        assert.are.equal(log, log2)
        assert.are.equal(counts, counts2)
        if mode[2] then
          assert.is_true(names[0] and names[4] and names[6], "node_exit events of the new kinds")
        end
      end
    end)

    it("the node names in stats and the DSL round trip", function()
      local t = host:compile("(reactive-seq (async-seq (succeed)) (reactive-sel (fail) (succeed)))")
      assert.are.equal("(reactive-seq (async-seq (succeed)) (reactive-sel (fail) (succeed)))",
        host:eval("(write-to-string (bt.to-dsl (bt.compile (bt.to-dsl (bt.compile \"" ..
                  "(reactive-seq (async-seq (succeed)) (reactive-sel (fail) (succeed)))\")))))"))
      local i = t:instance()
      assert.are.equal("success", i:tick())
      assert.matches("\nnode 1 %(async%-seq%) success=1 ", host.bt.stats(i))
      assert.matches("\nnode 3 %(reactive%-sel%) success=1 ", host.bt.stats(i))
    end)
  end)

  describe("mem-seq / mem-sel", function()
    it("mem-seq resumes at the running child and restarts after finishing", function()
      script("a", { "success" })
      script("b", { "running", "running", "success", "running", "success" })
      script("c", { "success", "failure" })
      local i = inst("(mem-seq (act a) (act b) (act c))")
      assert.are.equal("running", i:tick())
      assert.are.equal("a b", calls())
      assert.are.equal("running", i:tick())
      assert.are.equal("b", calls())
      assert.are.equal("success", i:tick())
      assert.are.equal("b c", calls())
      -- finished: the next activation starts at child 0
      assert.are.equal("running", i:tick())
      assert.are.equal("a b", calls())
      assert.are.equal("failure", i:tick())
      assert.are.equal("b c", calls())
      -- failed: the next tick resumes at the failed child (muesli-bt)
      assert.are.equal("failure", i:tick())
      assert.are.equal("c", calls())
    end)

    it("mem-sel resumes at the running child and restarts after finishing", function()
      script("a", { "failure" })
      script("b", { "running", "failure", "running", "success" })
      script("c", { "success" })
      local i = inst("(mem-sel (act a) (act b) (act c))")
      assert.are.equal("running", i:tick())
      assert.are.equal("a b", calls())
      assert.are.equal("success", i:tick())
      assert.are.equal("b c", calls())
      assert.are.equal("running", i:tick())
      assert.are.equal("a b", calls())
      assert.are.equal("success", i:tick())
      assert.are.equal("b", calls())
      assert.are.equal("success", i:tick())
      assert.are.equal("a b", calls())
    end)

    it("reset sends a mem-seq back to child 0", function()
      script("a", { "success" })
      script("b", { "running" })
      local i = inst("(mem-seq (act a) (act b))")
      assert.are.equal("running running", T.ticks(i, 2))
      assert.are.equal("a b b", calls())
      i:reset()
      assert.are.equal("halt:b", calls())
      assert.are.equal("running", i:tick())
      assert.are.equal("a b", calls())
    end)
  end)

  describe("par", function()
    it("par 2 of 3: success when 2 succeed; finished children are not re-ticked; the rest is halted", function()
      script("a", { "success" })
      script("b", { "running", "running", "success" })
      script("c", { "running" })
      local i = inst("(par 2 (act a) (act b) (act c))")
      assert.are.equal("running", i:tick())
      assert.are.equal("a b c", calls())
      assert.are.equal("running", i:tick())
      assert.are.equal("b c", calls())
      assert.are.equal("success", i:tick())
      assert.are.equal("b c halt:c", calls())
      -- fresh activation: every child is ticked again (a and b now succeed at once)
      assert.are.equal("success", i:tick())
      assert.are.equal("a b c halt:c", calls())
    end)

    it("par 2 of 3: failure as soon as more than k-N = 1 failed", function()
      script("a", { "failure", "running" })
      script("b", { "running", "failure" })
      script("c", { "running" })
      local i = inst("(par 2 (act a) (act b) (act c))")
      assert.are.equal("running", i:tick())
      assert.are.equal("a b c", calls())
      assert.are.equal("failure", i:tick())
      assert.are.equal("b c halt:c", calls())
      assert.are.equal("running", i:tick())
      assert.are.equal("a b c", calls())
    end)

    it("par 1 succeeds with the first success, par k needs all", function()
      script("a", { "running", "success" })
      script("b", { "success" })
      local one = inst("(par 1 (act a) (act b))")
      assert.are.equal("success", one:tick())
      assert.are.equal("a b halt:a", calls())
      local all = inst("(par 2 (act a) (act b))")
      assert.are.equal("success", all:tick())
      assert.are.equal("a b", calls())
      local fail = inst("(par 2 (fail) (act b))")
      assert.are.equal("failure", fail:tick())
      assert.are.equal("b", calls())
    end)

    it("par counts per node in the stats exactly", function()
      local i = inst("(par 2 (succeed) (running) (fail))")
      assert.are.equal("running running", T.ticks(i, 2))
      local n = T.nodelines(host.bt.stats(i))
      -- (succeed) and (fail) finish in tick 1 and are not ticked in tick 2
      assert.is_truthy(n[1]:find("^node 1 %(succeed%) success=1 failure=0 running=0 "))
      assert.is_truthy(n[2]:find("^node 2 %(running%) success=0 failure=0 running=2 "))
      assert.is_truthy(n[3]:find("^node 3 %(fail%) success=0 failure=1 running=0 "))
      assert.is_truthy(n[0]:find("^node 0 %(par%) success=0 failure=0 running=2 "))
    end)
  end)

  describe("decorators", function()
    it("invert swaps success/failure and keeps running", function()
      script("a", { "success", "failure", "running" })
      local i = inst("(invert (act a))")
      assert.are.equal("failure success running running", T.ticks(i, 4))
    end)

    it("repeat n counts successes, keeps its counter after finishing until reset", function()
      script("a", { "success" })
      local i = inst("(repeat 3 (act a))")
      assert.are.equal("running running success", T.ticks(i, 3))
      assert.are.equal("a a a", calls())
      -- counter >= n: success without ticking the child
      assert.are.equal("success success", T.ticks(i, 2))
      assert.are.equal("", calls())
      i:reset()
      assert.are.equal("running", i:tick())
      assert.are.equal("a", calls())
      i:halt()
      assert.are.equal("running", i:tick())
      assert.are.equal("a", calls())
    end)

    it("repeat: running keeps the count, failure fails", function()
      script("a", { "success", "running", "running", "success", "failure" })
      local i = inst("(repeat 3 (act a))")
      assert.are.equal("running running running running failure", T.ticks(i, 5))
      local j = inst("(repeat 2 (act b))")
      script("b", { "success", "running", "success" })
      assert.are.equal("running running success", T.ticks(j, 3))
    end)

    it("repeat 0 succeeds without ticking the child", function()
      script("a", { "failure" })
      local i = inst("(repeat 0 (act a))")
      assert.are.equal("success success", T.ticks(i, 2))
      assert.are.equal("", calls())
      assert.is_nil(T.nodelines(host.bt.stats(i))[1])
    end)

    it("retry n: failures become running up to n, then failure and a fresh counter", function()
      script("a", { "failure", "failure", "failure", "success", "failure", "running", "success" })
      local i = inst("(retry 2 (act a))")
      assert.are.equal("running running failure", T.ticks(i, 3))
      assert.are.equal("success", i:tick()) -- success resets the counter
      assert.are.equal("running running success", T.ticks(i, 3))
      assert.are.equal("a a a a a a a", calls())
    end)

    it("retry n after exhaustion: failures fail at once until the child succeeds (muesli-bt)", function()
      script("a", { "failure", "failure", "failure", "failure", "success", "failure" })
      local i = inst("(retry 1 (act a))")
      assert.are.equal("running failure failure failure", T.ticks(i, 4))
      assert.are.equal("success running", T.ticks(i, 2))
      assert.are.equal("a a a a a a", calls())
    end)

    it("retry 0 is the child itself for failures", function()
      local i = inst("(retry 0 (fail))")
      assert.are.equal("failure failure", T.ticks(i, 2))
    end)

    it("retry counter is cleared by reset", function()
      script("a", { "failure" })
      local i = inst("(retry 1 (act a))")
      assert.are.equal("running", i:tick())
      i:reset()
      assert.are.equal("running failure", T.ticks(i, 2))
    end)
  end)

  describe("constant leaves and built-in leaves", function()
    it("succeed / fail / running", function()
      assert.are.equal("success success", T.ticks(inst("(succeed)"), 2))
      assert.are.equal("failure failure", T.ticks(inst("(fail)"), 2))
      assert.are.equal("running running", T.ticks(inst("(running)"), 2))
    end)

    it("built-in leaves", function()
      assert.are.equal("success", inst("(cond always-true)"):tick())
      assert.are.equal("failure", inst("(cond always-false)"):tick())
      assert.are.equal("success", inst("(act always-success)"):tick())
      assert.are.equal("failure", inst("(act always-fail)"):tick())
      assert.are.equal("running running success running",
        T.ticks(inst("(act running-then-success 2)"), 4))
      assert.are.equal("running success", T.ticks(inst("(act running-then-success)"), 2))
      local i = inst("(seq (act bb-put-int n 4) (act bb-put-float x 2) (cond bb-has n))")
      assert.are.equal("success", i:tick())
      assert.are.equal(4, i:get("n"))
      assert.are.equal(2.0, i:get("x"))
      assert.is_true(math.type(i:get("x")) == "float")
      assert.are.equal("failure", inst("(cond bb-has nothing-here)"):tick())
      local g = inst("(cond goal-reached-1d pos 1.0 0.1)")
      assert.are.equal("failure", g:tick())
      assert.are.equal("success", g:tick({ pos = 0.95 }))
      assert.are.equal("failure", g:tick({ pos = 0.5 }))
    end)
  end)

  describe("halt and preemption", function()
    it("a seq whose condition flips halts the running action (halt_fn)", function()
      local gate = true
      host:register_condition("gate", function()
        return gate
      end)
      script("work", { "running" })
      local i = inst("(seq (cond gate) (act work))")
      assert.are.equal("running running", T.ticks(i, 2))
      assert.are.equal("work work", calls())
      gate = false
      assert.are.equal("failure", i:tick())
      assert.are.equal("halt:work", calls())
      assert.are.equal("failure", i:tick()) -- nothing running: no second halt
      assert.are.equal("", calls())
      gate = true
      assert.are.equal("running", i:tick())
      assert.are.equal("work", calls())
    end)

    it("without a halt_fn the action is called with ctx.halted == true, then memory is cleared", function()
      local gate = true
      local seen = {}
      host:register_condition("gate", function()
        return gate
      end)
      host:register_action("work", function(ctx)
        seen[#seen + 1] = ("%s:%s:%s"):format(ctx.tick, tostring(ctx.halted), tostring(ctx.memory.n))
        ctx.memory.n = (ctx.memory.n or 0) + 1
        return "running"
      end)
      local i = inst("(seq (cond gate) (act work))")
      T.ticks(i, 2)
      gate = false
      i:tick()
      gate = true
      i:tick()
      assert.are.same({ "1:false:nil", "2:false:1", "3:true:2", "4:false:nil" }, seen)
    end)

    it("a sel whose earlier child now succeeds halts the later running action", function()
      local first = "failure"
      host:register_action("first", function()
        return first
      end)
      script("later", { "running" })
      local i = inst("(sel (act first) (act later))")
      assert.are.equal("running", i:tick())
      assert.are.equal("later", calls())
      first = "success"
      assert.are.equal("success", i:tick())
      assert.are.equal("halt:later", calls())
      first = "running" -- an earlier running child preempts too
      i = inst("(sel (act first) (act later))")
      first = "failure"
      i:tick()
      first = "running"
      assert.are.equal("running", i:tick())
      assert.are.equal("later halt:later", calls())
    end)

    it("preemption halts a whole running subtree (nested composites, every running leaf)", function()
      local gate = true
      host:register_condition("gate", function()
        return gate
      end)
      script("x", { "running" })
      script("y", { "running" })
      script("z", { "success" })
      local i = inst("(seq (cond gate) (par 2 (act x) (mem-seq (act z) (act y))))")
      assert.are.equal("running", i:tick())
      assert.are.equal("x z y", calls())
      gate = false
      assert.are.equal("failure", i:tick())
      assert.are.equal("halt:x halt:y", calls())
      gate = true
      assert.are.equal("running", i:tick())
      assert.are.equal("x z y", calls()) -- the mem-seq was reset by the halt
    end)

    it("inst:halt() halts running nodes and clears ctx.memory", function()
      local mem = {}
      host:register_action("m", function(ctx)
        mem[#mem + 1] = ctx.memory.v or "nil"
        ctx.memory.v = "set"
        return "running"
      end, function(ctx)
        rec.log("halt:m:" .. tostring(ctx.halted) .. ":" .. tostring(ctx.memory.v))
      end)
      local i = inst("(seq (succeed) (act m))")
      assert.are.equal("running running", T.ticks(i, 2))
      i:halt()
      assert.are.equal("halt:m:true:set", calls())
      i:halt() -- nothing running any more
      assert.are.equal("", calls())
      i:tick()
      assert.are.same({ "nil", "set", "nil" }, mem)
      host.bt.halt(i)
      assert.are.equal("halt:m:true:set", calls())
    end)

    it("ctx.memory persists across ticks of a finished leaf and is cleared by reset", function()
      local seen = {}
      host:register_action("count", function(ctx)
        ctx.memory.n = (ctx.memory.n or 0) + 1
        seen[#seen + 1] = ctx.memory.n
        return true
      end)
      local i = inst("(seq (act count) (act count))")
      T.ticks(i, 3)
      assert.are.same({ 1, 1, 2, 2, 3, 3 }, seen)
      i:reset()
      i:tick()
      assert.are.same({ 1, 1, 2, 2, 3, 3, 1, 1 }, seen)
    end)

    it("reset halts running nodes and clears the blackboard", function()
      script("r", { "running" })
      local i = inst("(seq (act bb-put-int k 1) (act r))")
      i:tick({ input = 5 })
      assert.are.equal(1, i:get("k"))
      assert.are.equal(5, i:get("input"))
      i:reset()
      assert.are.equal("r halt:r", calls())
      assert.is_nil(i:get("k"))
      assert.is_nil(i:get("input"))
      assert.are.same({}, i:blackboard())
      assert.are.equal("", host.bt.blackboard.dump(i))
    end)

    it("a raising halt callback is reported, the halt still completes", function()
      host:register_action("w", function()
        return "running"
      end, function()
        error("halt broke", 0)
      end)
      local i = inst("(act w)")
      i:tick()
      i:halt()
      local logs = host:logs()
      assert.are.equal("act w: halt: halt broke", logs[#logs].msg)
      assert.are.equal("error", logs[#logs].level)
      assert.are.equal("running", i:tick())
    end)
  end)

  describe("Lua leaf results", function()
    it("conditions are tested for truth", function()
      local v
      host:register_condition("c", function()
        return v
      end)
      local i = inst("(cond c)")
      local cases = {
        { true, "success" }, { false, "failure" }, { nil, "failure" }, { 0, "success" },
        { "yes", "success" }, { "running", "success" }, { {}, "success" },
      }
      for _, c in ipairs(cases) do
        v = c[1]
        assert.are.equal(c[2], i:tick(), tostring(c[1]))
      end
      assert.are.equal(0, i:stats().errors)
    end)

    it("actions return a status string or a boolean; anything else is an error", function()
      local v
      host:register_action("a", function()
        return v
      end)
      local i = inst("(act a)")
      for _, c in ipairs({ { "success", "success" }, { "failure", "failure" }, { "running", "running" },
        { true, "success" }, { false, "failure" }, { nil, "failure" } }) do
        v = c[1]
        assert.are.equal(c[2], i:tick())
      end
      assert.are.equal(0, i:stats().errors)
      v = "maybe"
      assert.are.equal("failure", i:tick())
      v = 42
      assert.are.equal("failure", i:tick())
      v = {}
      assert.are.equal("failure", i:tick())
      assert.are.equal(3, i:stats().errors)
      local logs = host:logs(3)
      assert.are.equal('act a: returned "maybe" (expected "success", "failure", "running" or a boolean)',
        logs[1].msg)
      assert.are.equal('act a: returned a number value (expected "success", "failure", "running" or a boolean)',
        logs[2].msg)
      assert.are.equal('act a: returned a table value (expected "success", "failure", "running" or a boolean)',
        logs[3].msg)
    end)

    it("leaf arguments and ctx fields reach the callback", function()
      local got
      host:register_action("args", function(ctx, ...)
        got = { n = select("#", ...), ctx.name, ctx.node, ctx.tick, ... }
        return true
      end)
      local i = inst('(seq (succeed) (act args 1 2.5 #t "s" sym (1 2)))')
      i:tick()
      i:tick()
      assert.are.equal(6, got.n)
      assert.are.equal("args", got[1])
      assert.are.equal(2, got[2])
      assert.are.equal(2, got[3])
      assert.are.equal(1, got[4])
      assert.are.equal(2.5, got[5])
      assert.are.equal(true, got[6])
      assert.are.equal("s", got[7])
      assert.are.equal("sym", tostring(got[8]))
      assert.are.same({ 1, 2 }, got[9])
    end)
  end)

  describe("Lisp procedures as leaves", function()
    it("conditions and actions get (proc inst arg ...) and return statuses or booleans", function()
      host:eval([[
        (define calls '())
        (bt.register-condition 'lc (lambda (inst limit) (< (bt.bb-get inst 'x) limit)))
        (bt.register-action 'la (lambda (inst k v) (bt.bb-put inst k v) 'running))
        (bt.register-action 'lb (lambda (inst) #t))
        (bt.register-action 'lf (lambda (inst) "failure"))
      ]])
      local i = inst("(seq (cond lc 10) (act lb) (act la y 3))")
      assert.are.equal("running", i:tick({ x = 1 }))
      assert.are.equal(3, i:get("y"))
      assert.are.equal("failure", i:tick({ x = 11 }))
      assert.are.equal("failure", inst("(act lf)"):tick())
      assert.are.equal("failure", tostring(host:eval("(bt.tick (bt.new-instance (bt (seq (act lb) (act lf)))))")))
    end)

    it("a Lisp action returning a bad value fails with an error record", function()
      host:eval("(bt.register-action 'bad (lambda (inst) 42))")
      host:eval("(bt.register-action 'badsym (lambda (inst) 'maybe))")
      host:eval("(bt.register-action 'nil-act (lambda (inst) nil))")
      local i = inst("(sel (act bad) (act badsym) (act nil-act))")
      assert.are.equal("failure", i:tick())
      local logs = host:logs(3)
      assert.are.equal("act bad: action returned 42 (expected 'success, 'failure, 'running or a boolean)",
        logs[1].msg)
      assert.are.equal("act badsym: action returned maybe (expected 'success, 'failure, 'running or a boolean)",
        logs[2].msg)
      assert.are.equal("act nil-act: action returned nil (expected 'success, 'failure, 'running or a boolean)",
        logs[3].msg)
      assert.are.equal(3, i:stats().errors)
    end)

    it("a Lisp condition is tested for truth", function()
      host:eval("(define v #f) (bt.register-condition 'lc (lambda (inst) v))")
      local i = inst("(cond lc)")
      for _, c in ipairs({ { "#f", "failure" }, { "nil", "failure" }, { "0", "success" },
        { "'running", "success" }, { "'failure", "success" }, { "#t", "success" } }) do
        host:eval("(set! v " .. c[1] .. ")")
        assert.are.equal(c[2], i:tick(), c[1])
      end
    end)

    it("a running Lisp action is halted through its halt-proc", function()
      host:eval([[
        (define halts 0)
        (define gate #t)
        (bt.register-condition 'g (lambda (inst) gate))
        (bt.register-action 'lr (lambda (inst) 'running) (lambda (inst) (set! halts (+ halts 1))))
      ]])
      local i = inst("(seq (cond g) (act lr))")
      assert.are.equal("running running", T.ticks(i, 2))
      host:eval("(set! gate #f)")
      assert.are.equal("failure", i:tick())
      assert.are.equal(1, host:get("halts"))
      host:eval("(set! gate #t)")
      i:tick()
      i:halt()
      assert.are.equal(2, host:get("halts"))
    end)

    it("re-registering a name replaces the implementation for compiled trees", function()
      host:eval("(bt.register-action 'flip (lambda (inst) 'success))")
      local i = inst("(act flip)")
      assert.are.equal("success", i:tick())
      host:register_action("flip", function()
        return "failure"
      end)
      assert.are.equal("failure", i:tick())
      host:eval("(bt.register-action 'flip (lambda (inst) 'running))")
      assert.are.equal("running", i:tick())
    end)
  end)
end)

describe("bt under gc_stress", function()
  it("compiles, ticks with input, Lua/Lisp leaves, halts and resets while collecting at every allocation", function()
    local host = T.host({ gc_stress = true, trace_capacity = 64 })
    host:register_action("la", function(ctx, s, t)
      ctx:put("out", { s, t, ctx:get("in") })
      ctx.memory.x = { 1, 2 }
      return "running"
    end, function() end)
    host:eval("(bt.register-action 'lisp (lambda (inst k) (bt.bb-put inst k (list 1 2 \"x\")) 'success))")
    local tree = host:compile('(par 2 (seq (act lisp k1) (act la "str" (1 2))) '
      .. "(mem-seq (act bb-put-float f 2.5) (act running-then-success 2)) (repeat 3 (retry 1 (act lisp k2))))")
    local inst = tree:instance()
    inst:set_trace_enabled(true)
    inst:set_read_trace_enabled(true)
    local st = {}
    for k = 1, 30 do
      st[k] = inst:tick({ ["in"] = { k, "v" .. k } })
      if k % 7 == 0 then
        inst:halt()
      end
      if k % 11 == 0 then
        inst:reset()
      end
    end
    assert.are.same({ "running", "running", "success" }, { st[1], st[2], st[3] })
    assert.are.same({ "str", { 1, 2 }, { 30, "v30" } }, inst:get("out"))
    assert.are.same({ 1, 2, "x" }, inst:get("k2"))
    assert.are.equal(30, inst:stats().tick_count)
    assert.are.equal(64, #inst:trace())
    assert.are.equal(0, inst:stats().errors)
    host:close()
  end)
end)
