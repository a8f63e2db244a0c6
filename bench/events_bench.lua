--[[
bench/events_bench.lua -- the cost of the event stream (docs/events.md#cost):
ns/tick with the host's stream on at full detail (every tick, node and
blackboard event, written as mbt.evt.v1 lines to a file) against the same
tree on a host whose stream is off, for a 1-leaf tree and seq-255, both at
profile level counters.  The reference (muesli-bt) reports 18.5x for its
event log on vs off; our target is <= 2x.  The writer's formatting and file
writes are included: they run inside the timed ticks, whenever the ring
fills (ring pressure).  A third row per tree adds events.enable-tick-audit
and compares with the stream on without it.
]]

local B = ...
local lispbt = require("lispbt")

local TREES = {
    {name = "leaf", src = "(act always-success)", ops = 20000},
    {name = "seq-255", src = "(seq " .. string.rep("(act always-success)", 255, " ") .. ")", ops = 400},
}

local function ticks(inst, n)
    return function()
        for _ = 1, n do
            inst:tick()
        end
    end
end

return function(B)
    B.section("Event stream on (full detail, to a file) / off: ns/tick (reference muesli-bt: 18.5x)")
    local worst = 0
    for _, t in ipairs(TREES) do
        local on_h, off_h = lispbt.new{workers = 0}, lispbt.new{workers = 0}
        local path = os.tmpname()
        on_h.events.set_path(path)
        on_h.events.enable(true)
        local on = on_h:compile(t.src):instance()
        local off = off_h:compile(t.src):instance()
        on:set_profile_level("counters")
        off:set_profile_level("counters")
        local ops = B.scale(t.ops, 10)
        local a, b, ratio = B.compare(ticks(on, ops), ticks(off, ops), {ops = ops})
        B.row(t.name .. " events on", a, "ns/tick", b, "events off", ratio)
        worst = math.max(worst, ratio)
        -- tick audit on top of the stream
        local au_h = lispbt.new{workers = 0}
        local apath = os.tmpname()
        au_h.events.set_path(apath)
        au_h.events.enable_tick_audit(true)
        au_h.events.enable(true)
        local au = au_h:compile(t.src):instance()
        au:set_profile_level("counters")
        local c, d, r2 = B.compare(ticks(au, ops), ticks(on, ops), {ops = ops})
        B.row(t.name .. " events + tick audit", c, "ns/tick", d, "events on", r2)
        au_h:close()
        os.remove(apath)
        on_h:close()
        off_h:close()
        os.remove(path)
    end
    B.note("reference muesli-bt event log on/off: 18.5x")
    B.target{name = "event stream on/off, 1-leaf and seq-255 (worse)", value = worst, op = "<=",
             limit = 2, unit = "x"}
end
