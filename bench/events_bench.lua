--[[
bench/events_bench.lua -- the cost of the event stream (docs/events.md#cost):
ns/tick with the host's stream on at full detail (every tick, node and
blackboard event, written as mbt.evt.v1 lines to a file) against the same
tree on a host whose stream is off, for a 1-leaf tree and seq-255.  The
reference (muesli-bt) reports 18.5x for its event log on vs off; our target
is <= 2x on the ticking thread.

Rows per tree:
  on, counters      the ticking thread's cost at profile level counters (the
                    stream's records are the instance's own trace records,
                    leaves in runs, copied in bulk).  The ring is sized to
                    hold the burst, so the formatting runs on the writer
                    thread, beside the ticks.
  on, timing        the same at level timing: every node timed (a counter
                    read per node event) and recorded on its own.
  incl. writing     ticks at level counters plus the time to write every line
                    (events.dump(0) drains the ring), per tick: what a host
                    that ticks flat out pays when the writer must keep up.
  tick audit        events.enable-tick-audit on top, against the stream on.

Clocks.  All rows use process CPU time (the bench's default), so the
ticking thread's rows also count whatever the writer thread formats while
they run (it wakes every 10 ms): an upper bound of the tick's cost.  The
wall clock is no better on the shared 2-core VM (load ~13 when measured:
the writer and the ticks then share a core).  For decisions use callgrind
with --separate-threads=yes, main thread only (docs/events.md#cost).
]]

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

local function stream(src, level, audit)
    local h = lispbt.new{workers = 0}
    local path = os.tmpname()
    h.events.set_ring_size(1 << 20) -- the burst fits: the writer thread drains beside it
    h.events.set_path(path)
    if audit then h.events.enable_tick_audit(true) end
    h.events.enable(true)
    local inst = h:compile(src):instance()
    inst:set_profile_level(level)
    return h, inst, path
end

return function(B)
    B.section("Event stream on (full detail, to a file) / off: ns/tick (reference muesli-bt: 18.5x)")
    local worst = 0
    for _, t in ipairs(TREES) do
        local ops = B.scale(t.ops, 10)
        local off_h = lispbt.new{workers = 0}
        local off = off_h:compile(t.src):instance()
        off:set_profile_level("counters")
        local on_h, on, path = stream(t.src, "counters")
        local a, b, ratio = B.compare(ticks(on, ops), ticks(off, ops), {ops = ops})
        B.row(t.name .. " events on, counters", a, "ns/tick", b, "events off", ratio)
        worst = math.max(worst, ratio)

        local offt = off_h:compile(t.src):instance()
        local ti_h, ti, tpath = stream(t.src, "timing")
        local c, d, r2 = B.compare(ticks(ti, ops), ticks(offt, ops), {ops = ops})
        B.row(t.name .. " events on, timing", c, "ns/tick", d, "events off (timing)", r2)
        ti_h:close()
        os.remove(tpath)

        local run = ticks(on, ops)
        local e, f, r3 = B.compare(function() run(); on_h.events.dump(0) end, ticks(off, ops),
                                   {ops = ops, clock = "cpu"})
        B.row(t.name .. " events on, incl. writing", e, "ns/tick", f, "events off", r3)

        local au_h, au, apath = stream(t.src, "counters", true)
        local g, h, r4 = B.compare(ticks(au, ops), ticks(on, ops), {ops = ops})
        B.row(t.name .. " events + tick audit", g, "ns/tick", h, "events on", r4)
        au_h:close()
        os.remove(apath)
        on_h:close()
        off_h:close()
        os.remove(path)
    end
    B.note("reference muesli-bt event log on/off: 18.5x")
    B.target{name = "event stream on/off at counters, 1-leaf and seq-255 (worse)", value = worst,
             op = "<=", limit = 2, unit = "x"}
end
