--[[
The lispbt demo (make demo): a patrol robot ticked at 50 Hz for 3 seconds.

  * Lua leaves: the battery check and the waypoint driver (with ctx.memory)
  * Lisp leaves: an obstacle check and a charge action written in Lisp
  * an async job: a 20 ms "scan" on the host's worker threads
  * a planner leaf: MCTS plans a 1-D approach to the dock (toy-1d model)
then prints the profiling report: bt.stats, the perf summary and tick
histogram, scheduler and planner figures, log and trace excerpts, and the
heap statistics from both surfaces; and writes
  * demo-report.html: the HTML report of the run's event stream
    (lispbt.report, docs/report.md), and
  * demo-tree.dot: the tree as Graphviz DOT, coloured by each node's share
    of tick time (bt.export-dot).
The output paths can be changed with DEMO_REPORT and DEMO_DOT.
]]
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./build/?.so;" .. package.cpath

local lispbt = require("lispbt")
local perf = require("lispbt.perf")
local report = require("lispbt.report")

local host <close> = lispbt.new{ workers = 2 }

-- Lua leaves -----------------------------------------------------------
host:register_condition("battery-ok", function(ctx)
  return ctx:get("battery") > 0.25
end)

host:register_action("drive-to-waypoint", function(ctx, speed)
  local m = ctx.memory
  m.progress = (m.progress or 0) + speed
  if m.progress < 1.0 then return "running" end
  ctx:put("waypoint", (ctx:get("waypoint") or 0) + 1)
  return "success"
end)

-- Lisp leaves ----------------------------------------------------------
host:eval([[
  (define obstacles 0)
  (bt.register-condition 'path-clear
    (lambda (inst) (< (or (bt.bb-get inst 'obstacle) 0.0) 0.5)))
  (bt.register-action 'charge
    (lambda (inst rate)
      (let ((b (+ (bt.bb-get inst 'battery) rate)))
        (bt.bb-put inst 'battery (min b 1.0))
        (if (>= b 1.0) 'success 'running))))
  (planner.set-base-seed 42)
]], "demo-leaves")

-- The tree -------------------------------------------------------------
local tree = host:compile([[
  (sel
    (seq (cond battery-ok)
         (cond path-clear)
         (act drive-to-waypoint 0.25)
         (act async-sleep-ms 20))
    (seq (invert (cond goal-reached-1d dock 1.0 0.05))
         (plan-action :state_key dock :action_key dock-step :iters_max 400 :budget_ms 5)
         (act apply-planned-1d dock dock-step dock))
    (act charge 0.2))
]])
local inst = tree:instance()
inst:set_tick_budget_ms(5)
inst:set_trace_enabled(true)
inst:put("dock", 0.0)

-- The event stream, with tick audits, kept whole for the HTML report ------
host.events.set_ring_size(1 << 14)
host.events.enable_tick_audit(true)
host.events.enable(true)

-- Tick at a realistic cadence: 50 Hz for 3 s ---------------------------
local battery = 1.0
local summary = perf.run(inst, {
  hz = 50, seconds = 3, host = host,
  input = function(i)
    -- once a second, collect in the idle time between ticks (the report's
    -- GC panel shows these pauses; a collection inside a tick shows red)
    if i % 50 == 0 then host:gc() end
    battery = math.max(0, battery - 0.004)
    if inst:get("battery") and inst:get("battery") > battery then battery = inst:get("battery") end
    return { battery = battery, obstacle = (i % 40 < 3) and 0.9 or 0.0 }
  end,
})

host.events.enable(false)   -- closes the run (run_end)

-- The report -----------------------------------------------------------
print(("waypoints reached: %d, dock position: %.3f, battery: %.2f"):format(
  inst:get("waypoint") or 0, inst:get("dock"), inst:get("battery")))
print()
print("-- (bt.stats inst) --")
print(host.bt.stats(inst))
print(perf.report(inst, summary))
print()
print("-- (bt.scheduler.stats) --")
print(host.bt.scheduler.stats())
print("-- (planner.logs.dump 2) --")
print(host.planner.logs.dump(2))
print("-- (bt.logs.dump 6) --")
print(host.bt.logs.dump(6))
print("-- (bt.trace.dump inst 8) --")
print(host.bt.trace.dump(inst, 8))
print("-- (heap-stats) from Lisp --")
host:eval("(heap-stats)")
print("-- host.gc_stats() from Lua --")
host.gc_stats()

-- The pictures ---------------------------------------------------------
local html_path = os.getenv("DEMO_REPORT") or "demo-report.html"
local dot_path = os.getenv("DEMO_DOT") or "demo-tree.dot"
local model = report.html(host, html_path, { instance = inst })
tree:export_dot(dot_path, inst)
print(("-- wrote %s (%d events, %d ticks) and %s --"):format(html_path, model.events,
  model.ticks.count, dot_path))
