-- spec/compat/bt_examples_spec.lua -- muesli-bt's example trees, run
-- unmodified (the files under spec/fixtures/muesli-bt/, vendored with their
-- source and MIT licence) in a host with the reference's demo callbacks
-- (bt.install-demo-callbacks).  Each top-level form is evaluated in turn
-- and its printed value (as the reference's REPL prints it) compared with what the reference's examples and
-- docs (docs/examples/*.md, docs/bt/intro.md) say it returns; `print` is
-- captured.  Event-stream values (events.dump) are other specs' business.
local lispbt = require("lispbt")
local json_decode = require("support.bt_helpers").json_decode

local DIR = "spec/fixtures/muesli-bt/"

-- Host with the demo callbacks and a capturing print; returns the host and
-- a function running one fixture: the written values of its forms.
local function setup()
  local h = lispbt.new({ workers = 2 })
  h:eval("(bt.install-demo-callbacks)")
  h:eval("(define printed nil) (define (print . xs) (set! printed (cons xs printed)) nil)")
  -- the printed form of SRC's value, taken from `error`, which writes its
  -- arguments after the first as `print` does (a bt_def prints as
  -- <bt_def:N>; write-to-string would reject it, as the reference's does)
  local function printed(src)
    local ok, e = pcall(h.eval, h, '(error "%%v%%" (begin ' .. src .. "\n))")
    assert(not ok)
    local v = tostring(e):match("^eval:%d+:%d+: %%%%v%%%% (.*)$")
    if not v then
      error(e, 0)
    end
    return v
  end
  local function run(name)
    local forms = h:eval('(map write-to-string (read-file "' .. DIR .. name .. '.lisp"))')
    local out = {}
    for _, src in ipairs(forms) do
      out[#out + 1] = printed(src)
    end
    return out
  end
  return h, run
end

describe("compat: muesli-bt example trees", function()
  local h, run
  before_each(function() h, run = setup() end)
  after_each(function() h:close() end)

  it("hello_bt: running once, then success (docs/bt/intro.md)", function()
    local r = run("hello_bt")
    assert.are.same({ "running", "success" }, { r[3], r[4] })
  end)

  it("recovery-bt: search, approach (running), grasp", function()
    local r = run("recovery-bt")
    assert.are.same({ "success", "running", "success" }, { r[3], r[4], r[5] })
    assert.matches('^"target%-visible=#t type=bool tick=1 ts_ns=%d+ writer_node=%d+ ' ..
                   'writer_name=robot%.search%-target\\n"$', r[6])
  end)

  it("save_load_bt: both persistence paths give the same tree and ticks", function()
    local r = run("save_load_bt")
    assert.are.equal("#t", r[6]) -- bt.save
    assert.are.same({ "success", "running", "success", "running" }, { r[10], r[11], r[12], r[13] })
    assert.are.equal(h:eval("(write-to-string (bt.to-dsl patrol-tree))"),
                     h:eval("(write-to-string (bt.to-dsl patrol-from-bin))"))
    assert.are.equal(h:eval("(write-to-string (bt.to-dsl patrol-tree))"),
                     h:eval("(write-to-string (bt.to-dsl patrol-from-dsl))"))
    os.remove("/tmp/muesli_bt_saved_tree.lisp")
    os.remove("/tmp/muesli_bt_saved_tree.mbt")
  end)

  it("minimal_real_bt: command 1 with the obstacle clear, 0 after reset without", function()
    local r = run("minimal_real_bt")
    assert.are.same({ "success", "1", "success", "0" }, { r[6], r[7], r[9], r[10] })
    h:eval("(events.enable #f)")
    os.remove("/tmp/muesli-bt-minimal-real-bt.mbt.evt.v1.jsonl")
  end)

  -- the written list of print calls so far, each its list of arguments
  local function printed()
    return h:eval("(write-to-string (reverse printed))")
  end

  it("memoryful-sequence-demo: the reference's expected output with its seq semantics", function()
    run("memoryful-sequence-demo")
    local want = "((memoryful-sequence-demo) ((seq-t1 running)) ((seq-t2 running)) ((seq-t3 running)) " ..
                 "((seq-t4 success)) ((mem-t1 running)) ((mem-t2 running)) ((mem-t3 success)) ((seq-events "
    assert.are.equal(want, printed():sub(1, #want))
  end)

  it("memoryful-sequence-demo: with our preemption on, seq-t4 differs (docs/compat.md)", function()
    h:eval("(bt.set-preempt-enabled #t)")
    run("memoryful-sequence-demo")
    h:eval("(bt.set-preempt-enabled #f)")
    assert.truthy(printed():find("((seq-t3 running)) ((seq-t4 running)) ((mem-t1 running))", 1, true))
  end)

  it("reactive-guard-demo: the guard pre-empts the async sequence", function()
    run("reactive-guard-demo")
    local want = "((reactive-guard-demo) ((tick-1 running)) ((tick-2-stop failure)) "
    assert.are.equal(want, printed():sub(1, #want))
    -- the halted async-seq cancelled its running sleep job
    local stats
    for _ = 1, 1000 do -- a cancelled job is counted when its worker lets go of it
      stats = h:eval("(bt.scheduler.stats)")
      if stats:find("\ncancelled=1\n", 1, true) then break end
      lispbt.sleep_ms(5)
    end
    assert.truthy(stats:find("\ncancelled=1\n", 1, true), stats)
  end)

  -- The planner examples (docs/examples/planner-bt-1d.md, planner-bt-ptz.md)
  -- plan with a budget of 8 and 12 ms: a call the machine stalls past it is
  -- a timeout, and its tick fails without applying the action.  What is
  -- checked holds whichever ticks those are; the examples reach their goals
  -- after four ticks when none times out, so a run with every planning tick
  -- timed out is the only one that fails the "moved toward the goal" check.

  -- The ticks' results form "running"/"failure" while planning, then
  -- "success" once the goal condition holds, never planning again.
  local function check_ticks(ticks, records)
    local done = nil
    for i, st in ipairs(ticks) do
      assert.truthy(st == "running" or st == "failure" or st == "success", st)
      if done then
        assert.are.equal("success", st, "tick " .. i .. " after the goal")
      elseif st == "success" then
        done = i
      end
    end
    -- one planner call per tick before the goal
    assert.are.equal(done and done - 1 or #ticks, #records)
    return done
  end

  it("planner-bt-1d: state moves toward the goal, action each tick, plan-meta, records", function()
    local r = run("planner-bt-1d")
    local ticks = { table.unpack(r, 4, 11) }
    local recs = h:planner_records()
    check_ticks(ticks, recs)
    local state = h:eval("(bt.bb-get inst 'state)")
    assert.is_true(state > 0.0 and state <= 1.25, "state " .. state) -- from 0.0 toward 1.0
    for i, rec in ipairs(recs) do
      assert.are.same({ "one-d-planner", "mcts", "toy-1d", 42, i, 8 },
        { rec.node_name, rec.planner, rec.model_service, rec.seed, rec.tick_index, rec.budget_ms })
      assert.truthy(rec.status == "ok" or rec.status == "timeout", rec.status)
      assert.is_true(rec.work_done >= 1 and rec.work_done <= 800)
    end
    -- the blackboard dump: state, action (written by the planner at its
    -- last call), and plan-meta, the last call's planner.v1 record
    local dump = r[12]
    assert.matches("state=[-%d.e]+ type=float64 tick=%d+ ", dump)
    assert.matches("action=[-%d.e]+ type=float64 tick=" .. #recs .. " .- writer_name=one%-d%-planner", dump)
    local meta = json_decode(h:eval("(bt.bb-get inst 'plan-meta)"))
    assert.are.same({ "planner.v1", "one-d-planner", "mcts", 42, #recs },
      { meta.schema_version, meta.node_name, meta.planner, meta.seed, meta.tick_index })
    assert.are.equal(h:eval("(bt.bb-get inst 'action)"), meta.action[1])
  end)

  it("planner-bt-ptz: tracks until the target is centred; ptz-state, ptz-action, ptz-meta", function()
    local r = run("planner-bt-ptz")
    local ticks = { table.unpack(r, 4, 14) }
    local recs = h:planner_records()
    local done = check_ticks(ticks, recs)
    local s = h:eval("(bt.bb-get inst 'ptz-state)") -- (pan tilt ball_x ball_y ball_vx ball_vy)
    assert.are.equal(6, #s)
    -- the target's offset shrank from (0.70, -0.45); centred once the tree succeeded
    assert.is_true(math.abs(s[3]) < 0.70 and math.abs(s[4]) < 0.45, ("offset %g %g"):format(s[3], s[4]))
    if done then
      assert.is_true(math.sqrt(s[3] ^ 2 + s[4] ^ 2) <= 0.05, ("offset %g %g"):format(s[3], s[4]))
    end
    for i, rec in ipairs(recs) do
      assert.are.same({ "ptz-planner", "mcts", "ptz-track", i, 12 },
        { rec.node_name, rec.planner, rec.model_service, rec.tick_index, rec.budget_ms })
      assert.is_true(rec.work_done >= 1 and rec.work_done <= 1200)
    end
    -- (dpan dtilt) within ptz-track's action bounds, [-0.25, 0.25] per axis, whatever
    -- number of iterations the 12 ms budget allowed on this machine
    local a = h:eval("(bt.bb-get inst 'ptz-action)")
    assert.are.equal(2, #a)
    for _, v in ipairs(a) do assert.is_true(math.abs(v) <= 0.25, v) end
    assert.matches('^"ptz%-state=', r[15]) -- the dump form's value, as written
    local dump = h:eval("(bt.blackboard.dump inst)")
    for _, key in ipairs({ "ptz-state", "ptz-action", "ptz-meta" }) do
      assert.truthy(("\n" .. dump):find("\n" .. key .. "=", 1, true), key)
    end
    local meta = json_decode(h:eval("(bt.bb-get inst 'ptz-meta)"))
    assert.are.same({ "planner.v1", "ptz-planner", "ptz-track", #recs },
      { meta.schema_version, meta.node_name, meta.model_service, meta.tick_index })
  end)
end)
