--[[
bench/batch_bench.lua -- batch ticks (issue 18 item 4): tree:tick_all(insts)
against a Lua loop over inst:tick() for 200 agents of a 3-node tree with
native leaves, (seq (act always-success) (act always-success)), at profile
levels counters and timing.  Figures are agent-ticks per second; the ratio
is tick_all over the loop (above 1: the batch is faster).

Target: tick_all >= 2x the loop's agent-ticks/s (level counters, the level
a batch of many agents would run at; level timing beside it).
]]

local B = ...
local lispbt = require("lispbt")

local SRC = "(seq (act always-success) (act always-success))"
local AGENTS = 200

local function setup(level)
    local h = lispbt.new({workers = 0})
    local tree = h:compile(SRC)
    local insts = {}
    for i = 1, AGENTS do
        insts[i] = tree:instance()
        insts[i]:set_profile_level(level)
    end
    return {h = h, tree = tree, insts = insts}
end

local function loop(ctx, rounds)
    local insts = ctx.insts
    return function()
        for _ = 1, rounds do
            for i = 1, #insts do
                insts[i]:tick()
            end
        end
    end
end

local function batch(ctx, rounds)
    local tree, insts = ctx.tree, ctx.insts
    return function()
        for _ = 1, rounds do
            tree:tick_all(insts)
        end
    end
end

B.kernel("bt_tick_all", {
    desc = "n rounds of 200 agents of a 3-node tree, level counters: lisp = tree:tick_all, "
        .. "lua = a Lua loop over inst:tick()",
    n = 500,
    setup = function() return setup("counters") end,
    sides = {
        lisp = function(ctx, n) batch(ctx, n)() end,
        lua = function(ctx, n) loop(ctx, n)() end,
    },
})

return function(B)
    B.section("Batch ticks: tree:tick_all vs a Lua loop over inst:tick(), 200 agents, 3 nodes")
    local rounds = B.scale(500, 5)
    local ops = rounds * AGENTS
    for _, level in ipairs({"counters", "timing"}) do
        local ctx = setup(level)
        local a, b, r = B.compare(batch(ctx, rounds), loop(ctx, rounds), {ops = ops})
        B.row("tick_all, level " .. level, 1e3 / a, "M agent-ticks/s", 1e3 / b,
              "Lua loop of inst:tick()", 1 / r)
        if level == "counters" then
            B.target{name = "tick_all / Lua loop, agent-ticks/s", value = 1 / r, op = ">=",
                     limit = 2, unit = "x"}
        end
        ctx.h:close()
    end
    B.note("ratio above 1: tick_all is faster; each agent's tick is its own (counters, histogram)")
end
