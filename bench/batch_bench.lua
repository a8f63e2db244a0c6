--[[
bench/batch_bench.lua -- batch ticks (issue 18 item 4): tree:tick_all(insts)
against a Lua loop over inst:tick() for 200 agents of a 3-node tree with
native leaves, (seq (act always-success) (act always-success)), at profile
levels counters and timing.  Figures are agent-ticks per second; the ratio
is tick_all over the loop (above 1: the batch is faster).

Rows: tree:tick_all(insts) (the instances read from the Lua table on every
call), g:tick() of an instance group (local g = tree:group(insts): the
instances checked and pinned once, a status written to the group's table
only when it changed), and g:tick() on a tree whose statuses change every
tick, (seq (act running-then-success 1) (act always-success)), where every
status is written (the group's worst case), and g:tick_counts() on that
tree (four counts, no statuses table written).

Target: the best batch API (g:tick()) >= 2x the loop's agent-ticks/s (level
counters, the level a batch of many agents would run at; level timing
beside it); tick_all(insts) stays beside it.
]]

local B = ...
local lispbt = require("lispbt")

local SRC = "(seq (act always-success) (act always-success))"
local AGENTS = 200

local FLIP = "(seq (act running-then-success 1) (act always-success))"

local function setup(level, src)
    local h = lispbt.new({workers = 0})
    local tree = h:compile(src or SRC)
    local insts = {}
    for i = 1, AGENTS do
        insts[i] = tree:instance()
        insts[i]:set_profile_level(level)
    end
    return {h = h, tree = tree, insts = insts, group = tree:group(insts)}
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

local function group(ctx, rounds)
    local g = ctx.group
    return function()
        for _ = 1, rounds do
            g:tick()
        end
    end
end

B.kernel("bt_group", {
    desc = "n rounds of 200 agents of a 3-node tree, level counters: lisp = g:tick() of "
        .. "tree:group(insts), lua = a Lua loop over inst:tick()",
    n = 500,
    setup = function() return setup("counters") end,
    sides = {
        lisp = function(ctx, n) group(ctx, n)() end,
        lua = function(ctx, n) loop(ctx, n)() end,
    },
})

B.kernel("bt_group_flip", {
    desc = "bt_group with statuses that change every tick (running-then-success 1): "
        .. "every status written",
    n = 500,
    setup = function() return setup("counters", FLIP) end,
    sides = {
        lisp = function(ctx, n) group(ctx, n)() end,
        lua = function(ctx, n) loop(ctx, n)() end,
    },
})

local function counts(ctx, rounds)
    local g = ctx.group
    return function()
        for _ = 1, rounds do
            g:tick_counts()
        end
    end
end

B.kernel("bt_group_flip_counts", {
    desc = "bt_group_flip with g:tick_counts() (four counts, no statuses written)",
    n = 500,
    setup = function() return setup("counters", FLIP) end,
    sides = {
        lisp = function(ctx, n) counts(ctx, n)() end,
        lua = function(ctx, n) loop(ctx, n)() end,
    },
})

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
    B.section("Batch ticks: tree:tick_all / g:tick() vs a Lua loop over inst:tick(), 200 agents, 3 nodes")
    local rounds = B.scale(500, 5)
    local ops = rounds * AGENTS
    for _, level in ipairs({"counters", "timing"}) do
        local ctx = setup(level)
        local a, b, r = B.compare(batch(ctx, rounds), loop(ctx, rounds), {ops = ops})
        B.row("tick_all(insts), level " .. level, 1e3 / a, "M agent-ticks/s", 1e3 / b,
              "Lua loop of inst:tick()", 1 / r)
        a, b, r = B.compare(group(ctx, rounds), loop(ctx, rounds), {ops = ops})
        B.row("g:tick() of tree:group(insts), level " .. level, 1e3 / a, "M agent-ticks/s",
              1e3 / b, "Lua loop of inst:tick()", 1 / r)
        if level == "counters" then
            B.target{name = "g:tick() (best batch API) / Lua loop, agent-ticks/s", value = 1 / r,
                     op = ">=", limit = 2, unit = "x"}
        end
        ctx.h:close()
    end
    local ctx = setup("counters", FLIP)
    local a, b, r = B.compare(group(ctx, rounds), loop(ctx, rounds), {ops = ops})
    B.row("g:tick(), statuses changing every tick", 1e3 / a, "M agent-ticks/s", 1e3 / b,
          "Lua loop of inst:tick()", 1 / r)
    a, b, r = B.compare(counts(ctx, rounds), loop(ctx, rounds), {ops = ops})
    B.row("g:tick_counts(), statuses changing every tick", 1e3 / a, "M agent-ticks/s", 1e3 / b,
          "Lua loop of inst:tick()", 1 / r)
    ctx.h:close()
    B.note("ratio above 1: the batch is faster; each agent's tick is its own (counters, histogram)")
end
