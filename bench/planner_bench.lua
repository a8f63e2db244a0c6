--[[
bench/planner_bench.lua -- planner.plan from Lua: the per-call overhead of a
model written in Lua or in Lisp against the same model in C.

The model is toy-1d's motion (x' = x + 0.25 u, cost (1 - x')^2), without a
terminal test so every rollout runs its full horizon.  MPPI with 64 samples
x 20 steps (work_max 64, budget far out of reach) makes exactly 1,280 model
steps per call; the figure is ns per model step = call time / 1,280, for the
built-in C toy-1d, the Lua model (host:register_model) and the Lisp model
(planner.register-model with lambdas).  The ratio column is against C.
The C backends' own figures (steps/s against a plain C loop of the same
rollouts) are in the plan_bench section.
]]

local B = ...
local lispbt = require("lispbt")

local STEPS = 64 * 20

local function request(model)
    return {schema_version = "planner.request.v1", planner = "mppi", model_service = model,
            state = {0.0}, budget_ms = 600000, work_max = 64, horizon = 20, seed = 3}
end

-- callgrind kernel: n ticks of one plan-action node whose backend does almost
-- nothing (MPPI, 1 sample x 1 step), so the Ir is the leaf's own per-tick cost:
-- reading the state, building the request, recording, writing the action.
B.kernel("plan_action", {
    desc = "n ticks of a plan-action (MPPI, work_max 1, horizon 1)", n = 2000,
    setup = function()
        local h = lispbt.new({workers = 0})
        local inst = h:compile([[
            (plan-action :name "pa" :planner mppi :model_service "toy-1d" :state_key x
                         :action_key u :budget_ms 600000 :work_max 1 :n_samples 1
                         :horizon 1 :lambda 2.0 :sigma 0.5)]]):instance()
        inst:tick({x = 0.25}) -- the first tick resolves the node's options
        return {h = h, inst = inst}
    end,
    sides = {
        lisp = function(ctx, n)
            local inst = ctx.inst
            for _ = 1, n do
                inst:tick()
            end
            return n
        end,
    },
})

return function(B)
    B.section("planner.plan: models in C, Lua and Lisp (MPPI, 1,280 steps per call)")
    local h = lispbt.new({workers = 0})
    h:register_model("lua-toy", {
        step = function(s, u, _) return {s[1] + 0.25 * u[1]} end,
        cost = function(_, _, n) local e = 1 - n[1] return e * e end,
        bounds = {{-1, 1}},
    })
    h:eval([[(planner.register-model "lisp-toy"
               (map.make 'step (lambda (s u dt) (list (+ (car s) (* 0.25 (car u)))))
                         'cost (lambda (s u n) (let ((e (- 1.0 (car n)))) (* e e)))
                         'bounds (list (list -1 1))))]])
    local reqs = {c = request("toy-1d"), lua = request("lua-toy"), lisp = request("lisp-toy")}
    local function per_step(req)
        return B.timeit(function() h.planner.plan(req) end, {ops = B.scale(20), loop = true}) / STEPS
    end
    local c = per_step(reqs.c)
    B.row("C model (built-in toy-1d)", c, "ns/step")
    local lua = per_step(reqs.lua)
    B.row("Lua model (host:register_model)", lua, "ns/step", c, "C model")
    local lisp = per_step(reqs.lisp)
    B.row("Lisp model (planner.register-model)", lisp, "ns/step", c, "C model")
    B.note("a Lua/Lisp step calls step and cost once each (two calls into the language per step)")
    h:close()
end
