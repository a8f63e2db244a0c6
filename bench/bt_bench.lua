--[[
bench/bt_bench.lua -- the BT engine, the scheduler and the planner as seen
from Lua, against a pure-Lua reference BT (bench/refbt.lua) and a C floor
(bench/bt_floor_bench.c, read from its executable when built).

  native leaves      ns/tick and ns/node of 1 leaf, seq-31, seq-255 and
                     sel-255 (of always-false: every child runs), at profile
                     levels counters and timing, tracing off and on (ring
                     full), vs the refbt closure tree; the marginal cost of a
                     node ((seq-255 - seq-31) / 224); tracing on/off ratio;
                     lispbt seq-255 vs the C floor shapes
  leaf callbacks     (act lua-noop) and a Lisp procedure leaf: ns per call
                     net of the same tree with a native leaf
  inst:tick()        1-leaf tree, no input / a prebuilt input table / a
                     table constructor {x = 1}
  scheduler          ticking (act async-sleep-ms 0) trees until success,
                     jobs/s from Lua (wall clock, 2 workers)
  planner            host.planner.mcts{state = {0.0}, iters_max = 2000, ...}
                     ms per call
  allocation         host:heap() counters over 10,000 ticks of seq-255

Targets: counters <= 4 ns/node, timing <= 15 ns/node, tracing on <= 2x off
(seq-255 and sel-255, the worse of the two), Lua leaf <= 80 ns,
inst:tick() <= 60 ns, 0 allocations per tick.  Every host is
lispbt.new{workers = 0} except the scheduler's.
]]

local B = ...
local lispbt = require("lispbt")
local refbt = require("refbt")

local function rep(s, n)
    return string.rep(s, n, " ")
end

local TREES = {
    {name = "leaf", src = "(act always-success)", nodes = 1, ops = 200000},
    {name = "seq-31", src = "(seq " .. rep("(act always-success)", 31) .. ")", nodes = 32,
     ops = 40000},
    {name = "seq-255", src = "(seq " .. rep("(act always-success)", 255) .. ")", nodes = 256,
     ops = 6000},
    {name = "sel-255", src = "(sel " .. rep("(cond always-false)", 255) .. ")", nodes = 256,
     ops = 6000},
}

local function newhost(opts)
    local h = lispbt.new(opts or {workers = 0})
    h:register_action("lua-noop", function() return true end)
    h:eval("(bt.register-action 'lisp-noop (lambda (i) #t))", "bt_bench")
    return h
end

local function refreg()
    local reg = refbt.registry()
    reg.act["lua-noop"] = refbt.lua_leaf(function() return true end)
    return reg
end

-- A lispbt instance at a profile level, tracing on or off; with tracing on
-- the ring is filled first (trace_capacity events, default 4096).
local function instance(h, src, level, trace)
    local inst = h:compile(src):instance()
    inst:set_profile_level(level or "timing")
    if trace then
        inst:set_trace_enabled(true)
        for _ = 1, 4200 do -- >= 4 events per tick: the ring is full
            inst:tick()
        end
    end
    return inst
end

local function lticks(inst, n)
    return function()
        for _ = 1, n do
            inst:tick()
        end
    end
end

local function rticks(inst, n)
    local tick = inst.tick
    return function()
        for _ = 1, n do
            tick()
        end
    end
end

-- ---------------------------------------------------------------------------
-- callgrind kernels (bench/callgrind.sh bt_counters 10000, ...)

-- Ticks inst:tick() on the lispbt side, or the function of inst:ticker()
-- when 'ticker' is set; refbt's tick on the Lua side.
local function bt_kernel(name, src, level, trace, desc, ticker)
    B.kernel(name, {
        desc = desc, n = 10000,
        setup = function()
            local h = newhost()
            local inst = instance(h, src, level, trace)
            return {h = h, inst = inst, tick = ticker and inst:ticker(),
                    ref = refbt.instance(refbt.compile(src, refreg()))}
        end,
        sides = {
            lisp = ticker and function(ctx, n)
                local tick = ctx.tick
                for _ = 1, n do
                    tick()
                end
                return n
            end or function(ctx, n)
                local inst = ctx.inst
                for _ = 1, n do
                    inst:tick()
                end
                return n
            end,
            lua = function(ctx, n)
                local tick = ctx.ref.tick
                for _ = 1, n do
                    tick()
                end
                return n
            end,
        },
    })
end

local SEQ255 = TREES[3].src
bt_kernel("bt_counters", SEQ255, "counters", false, "n ticks of seq-255, counters level")
bt_kernel("bt_timing", SEQ255, "timing", false, "n ticks of seq-255, timing level")
bt_kernel("bt_trace", SEQ255, "timing", true, "n ticks of seq-255, timing, trace ring full")
bt_kernel("bt_tick1", "(act always-success)", "timing", false, "n inst:tick() of a 1-leaf tree")
bt_kernel("bt_ticker", "(act always-success)", "timing", false,
          "n calls of inst:ticker()'s function, 1-leaf tree, timing level", true)
bt_kernel("bt_lualeaf", "(act lua-noop)", "timing", false, "n ticks of (act lua-noop)")
bt_kernel("bt_lualeaf255", "(seq " .. rep("(act lua-noop)", 255) .. ")", "timing", false,
          "n ticks of a seq of 255 (act lua-noop)")

-- ---------------------------------------------------------------------------
-- the C floor: bt_floor_bench's output, if it was built

local function script_dir()
    local src = debug.getinfo(1, "S").source
    return src:sub(1, 1) == "@" and (src:sub(2):match("^(.*)/[^/]*$") or ".") or "bench"
end

local function c_floor()
    local root = script_dir() .. "/.."
    local dirs = {}
    local env = os.getenv("LISPBT_BENCH_DIR")
    if env and env ~= "" then
        dirs[#dirs + 1] = env
    end
    dirs[#dirs + 1] = root .. "/build-bench/bench"
    dirs[#dirs + 1] = root .. "/build/bench"
    for _, d in ipairs(dirs) do
        local path = d .. "/bt_floor_bench"
        local f = io.open(path, "r")
        if f then
            f:close()
            local p = io.popen("'" .. path:gsub("'", "'\\''") .. "' 2>/dev/null")
            local t = {}
            for l in p:lines() do
                local k, v = l:match("^(%S+)%s+(%S+)")
                t[k or ""] = tonumber(v)
            end
            p:close()
            return t, path
        end
    end
    return nil
end

-- ---------------------------------------------------------------------------

local function worst(a, b)
    if a == nil then
        return b
    elseif b == nil then
        return a
    end
    return math.max(a, b)
end

local function native_section(B)
    B.section("BT ticks, native leaves: ns/node (reference: refbt pure-Lua closure tree)")
    local h = newhost()
    local res = {} -- res[tree][level][trace] = {ns_tick, ns_node, ref_tick}
    for _, t in ipairs(TREES) do
        res[t.name] = {counters = {}, timing = {}}
        local ops = B.scale(t.ops, 10)
        local ref = refbt.instance(refbt.compile(t.src, refreg()))
        for _, level in ipairs({"counters", "timing"}) do
            for _, trace in ipairs({false, true}) do
                local inst = instance(h, t.src, level, trace)
                local a, b, ratio = B.compare(lticks(inst, ops), rticks(ref, ops), {ops = ops})
                res[t.name][level][trace] = {tick = a, node = a / t.nodes, ref = b}
                local name = string.format("%-7s %-8s %-3s %7s ns/tick", t.name, level,
                                           trace and "on" or "off", B.fmt(a))
                B.row(name, a / t.nodes, "ns/node", b / t.nodes, "refbt", ratio)
            end
        end
    end
    B.note("on/off = tracing; ns/node = ns/tick / nodes (1, 32, 256, 256), the Lua call of")
    B.note("inst:tick() included; refbt has no profiling or tracing, so one refbt figure")
    B.note("per tree, measured again beside each lispbt case")

    -- marginal cost of a node: the fixed per-tick cost cancels
    for _, level in ipairs({"counters", "timing"}) do
        for _, trace in ipairs({false, true}) do
            local a = res["seq-255"][level][trace]
            local b = res["seq-31"][level][trace]
            local m = (a.tick - b.tick) / 224
            local mref = (a.ref - b.ref) / 224
            B.row(string.format("marginal node, %s, trace %s", level, trace and "on" or "off"),
                  m, "ns/node", mref, "refbt")
        end
    end
    B.note("marginal = (seq-255 - seq-31) / 224 ns per tick")

    local c = worst(res["seq-255"].counters[false].node, res["sel-255"].counters[false].node)
    local tm = worst(res["seq-255"].timing[false].node, res["sel-255"].timing[false].node)
    B.target{name = "BT counters level, seq/sel-255 (worse)", value = c, op = "<=", limit = 4,
             unit = "ns/node"}
    B.target{name = "BT timing level, seq/sel-255 (worse)", value = tm, op = "<=", limit = 15,
             unit = "ns/node"}

    -- tracing on / off, interleaved
    B.section("BT tracing on (ring full) / off, same tree and level")
    local wr = {}
    for _, tname in ipairs({"seq-255", "sel-255"}) do
        local t = TREES[tname == "seq-255" and 3 or 4]
        local ops = B.scale(t.ops, 10)
        for _, level in ipairs({"counters", "timing"}) do
            local on = instance(h, t.src, level, true)
            local off = instance(h, t.src, level, false)
            local a, b, ratio = B.compare(lticks(on, ops), lticks(off, ops), {ops = ops})
            B.row(string.format("%s %s trace on", tname, level), a / t.nodes, "ns/node",
                  b / t.nodes, "trace off", ratio)
            wr[level] = worst(wr[level], ratio)
        end
    end
    B.target{name = "BT tracing on/off, timing level, seq/sel-255", value = wr.timing, op = "<=",
             limit = 2, unit = "x"}
    B.target{name = "BT tracing on/off, counters level, seq/sel-255", value = wr.counters,
             op = "<=", limit = 2, unit = "x"}

    -- C floor
    local floor, path = c_floor()
    B.section("BT seq-255 vs the C floor (bt_floor_bench): ns/node")
    if not floor then
        B.note("bt_floor_bench not built (configure with -DLISPBT_BENCH=ON)")
        return
    end
    local s = res["seq-255"]
    local function fr(name, v, key, ref_name)
        B.row(name, v, "ns/node", floor[key], ref_name)
    end
    fr("refbt (pure Lua closures)", s.counters[false].ref / 256, "fnptr_ns_per_node",
       "C fn-pointer loop")
    fr("lispbt counters, trace off", s.counters[false].node, "counters_ns_per_node",
       "C switch + counters")
    fr("lispbt timing, trace off", s.timing[false].node, "timing_ns_per_node",
       "C + 2 rdtsc/node")
    fr("lispbt timing, trace off", s.timing[false].node, "timing1_ns_per_node",
       "C + 1 rdtsc/node")
    fr("lispbt timing, trace off", s.timing[false].node, "rdtsc1_ns_per_node",
       "C counters + bare rdtsc")
    fr("lispbt counters, trace on", s.counters[true].node, "trace_ns_per_node",
       "C + 2 ring records/node")
    B.row("C: fn-pointer loop / switch", floor.fnptr_ns_per_node, "ns/node",
          floor.switch_ns_per_node, "C switch, no counters")
    B.row("C: one rdtsc read", floor.rdtsc_ns, "ns")
    B.note("floor from " .. path)
end

local function leaf_section(B)
    B.section("BT leaf callbacks: ns per call net of a native leaf (timing level)")
    local h = newhost()
    local reg = refreg()
    local function net(src_cb, src_native, ops, per)
        local a, b = B.compare(lticks(instance(h, src_cb), ops), lticks(instance(h, src_native), ops),
                               {ops = ops})
        return (a - b) / per, a
    end
    local function rnet(src_cb, src_native, ops, per)
        local a, b = B.compare(rticks(refbt.instance(refbt.compile(src_cb, reg)), ops),
                               rticks(refbt.instance(refbt.compile(src_native, reg)), ops),
                               {ops = ops})
        return (a - b) / per
    end
    local ops1, ops255 = B.scale(200000, 10), B.scale(2000, 10)
    local ref1 = rnet("(act lua-noop)", "(act always-success)", ops1, 1)
    local ref255 = rnet("(seq " .. rep("(act lua-noop)", 255) .. ")", SEQ255, ops255, 255)
    local lua1, lua1tick = net("(act lua-noop)", "(act always-success)", ops1, 1)
    B.row("(act lua-noop), 1-leaf tree", lua1, "ns", ref1, "refbt Lua leaf")
    B.note(string.format("(act lua-noop) tick: %s ns; lua-noop = function() return true end",
                         B.fmt(lua1tick)))
    local lua255 = net("(seq " .. rep("(act lua-noop)", 255) .. ")", SEQ255, ops255, 255)
    B.row("(act lua-noop) x255 in a seq, per leaf", lua255, "ns", ref255, "refbt Lua leaf")
    B.target{name = "Lua-callback leaf in a seq / refbt Lua leaf", value = lua255 / ref255,
             op = "<=", limit = 1.2, unit = "x"}
    local lisp1 = net("(act lisp-noop)", "(act always-success)", ops1, 1)
    B.row("(act lisp-noop), 1-leaf tree", lisp1, "ns", ref1, "refbt Lua leaf")
    local lisp255 = net("(seq " .. rep("(act lisp-noop)", 255) .. ")", SEQ255, ops255, 255)
    B.row("(act lisp-noop) x255 in a seq, per leaf", lisp255, "ns", ref255, "refbt Lua leaf")
    B.note("lisp-noop = (bt.register-action 'lisp-noop (lambda (i) #t))")
    B.target{name = "Lua-callback leaf, net of tick", value = lua1, op = "<=", limit = 80,
             unit = "ns"}
end

local function tick_section(B)
    B.section("inst:tick() from Lua, 1-leaf tree (reference: refbt inst.tick)")
    local h = newhost()
    local src = "(act always-success)"
    local ops = B.scale(300000, 10)
    local ref = refbt.instance(refbt.compile(src, refreg()))
    local rtick = ref.tick
    local inst = instance(h, src, "timing")
    local a, b, ratio = B.compare(lticks(inst, ops), rticks(ref, ops), {ops = ops})
    B.row("inst:tick() (timing level)", a, "ns/call", b, "refbt", ratio)
    B.target{name = "inst:tick(), 1 leaf", value = a, op = "<=", limit = 60, unit = "ns"}
    B.target{name = "inst:tick(), 1 leaf / refbt tick", value = ratio, op = "<=", limit = 1,
             unit = "x"}
    local ic = instance(h, src, "counters")
    a, b, ratio = B.compare(lticks(ic, ops), rticks(ref, ops), {ops = ops})
    B.row("inst:tick() (counters level)", a, "ns/call", b, "refbt", ratio)
    -- inst:ticker(): the same tick as a function with the instance bound,
    -- called like refbt's inst.tick (a local, no method lookup)
    a, b, ratio = B.compare(rticks({tick = inst:ticker()}, ops), rticks(ref, ops), {ops = ops})
    B.row("tick = inst:ticker(); tick() (timing)", a, "ns/call", b, "refbt", ratio)
    local x, y, req = 1, 2, rawequal
    local cfloor = B.timeit(function()
        for _ = 1, ops do
            req(x, y)
        end
    end, {ops = ops})
    B.row("Lua -> C call floor: rawequal(x, y)", cfloor, "ns/call")
    -- the floor of a method call on a value with a metatable __index table,
    -- which is how inst:tick() is reached: s:len() (string.len does next to
    -- nothing), and the same C function called as a local, without the lookup
    local str, len = "x", string.len
    local mfloor = B.timeit(function()
        for _ = 1, ops do
            str:len()
        end
    end, {ops = ops})
    local lfloor = B.timeit(function()
        for _ = 1, ops do
            len(str)
        end
    end, {ops = ops})
    B.row("Lua -> C method floor: s:len()", mfloor, "ns/call", lfloor, "len(s), a local")
    local input = {x = 1}
    local opsi = B.scale(100000, 10)
    a, b, ratio = B.compare(function()
        for _ = 1, opsi do
            inst:tick(input)
        end
    end, function()
        for _ = 1, opsi do
            rtick(input)
        end
    end, {ops = opsi})
    B.row("inst:tick(t), t = {x = 1} prebuilt", a, "ns/call", b, "refbt", ratio)
    a, b, ratio = B.compare(function()
        for _ = 1, opsi do
            inst:tick{x = 1}
        end
    end, function()
        for _ = 1, opsi do
            rtick{x = 1}
        end
    end, {ops = opsi})
    B.row("inst:tick{x = 1}", a, "ns/call", b, "refbt", ratio)
end

local function sched_section(B)
    B.section("Scheduler end to end from Lua: (act async-sleep-ms 0) ticked until success")
    local h <close> = newhost({workers = 2})
    local tree = h:compile("(act async-sleep-ms 0)")
    local function run(ninst, jobs)
        local insts = {}
        for i = 1, ninst do
            insts[i] = tree:instance()
            insts[i]:set_profile_level("counters")
        end
        local ticks = 0
        local ns = B.timeit(function()
            local done = 0
            while done < jobs do
                for i = 1, ninst do
                    ticks = ticks + 1
                    if insts[i]:tick() == "success" then
                        done = done + 1
                    end
                end
            end
        end, {ops = jobs, clock = "wall"})
        return 1e9 / ns, ticks
    end
    local jobs = B.scale(20000, 100)
    local r1 = run(1, jobs)
    B.row("1 instance (one job in flight)", r1, "jobs/s")
    local r64, ticks = run(64, jobs * 4)
    B.row("64 instances round-robin", r64, "jobs/s")
    B.note(string.format("%.1f ticks per job with 64 instances; wall clock; C figure: sched_bench",
                         ticks / ((B.runs + B.warmup) * jobs * 4)))
end

local function planner_section(B)
    B.section("Planner from Lua: host.planner.mcts, toy-1d, 2000 iterations")
    local h = newhost()
    local calls = B.scale(40, 4)
    local req = {state = {0.0}, iters_max = 2000, budget_ms = 1000, seed = 1}
    local ms, info = B.timeit(function()
        for _ = 1, calls do
            h.planner.mcts(req)
        end
    end, {ops = calls})
    B.row("planner.mcts{...} (median of runs)", ms / 1e6, "ms/call")
    B.row("planner.mcts{...} (best run)", info.min / 1e6, "ms/call")
    local r = h.planner.mcts(req)
    B.note(string.format("iters=%s status=%s; target 0.8 ms is on the C figure (mcts_bench)",
                         tostring(r.iters), tostring(r.status)))
end

local function alloc_section(B)
    B.section("Allocation per tick: host:heap() deltas over 10,000 ticks of seq-255")
    local h = newhost()
    local n = 10000
    local function measure(src, trace)
        local inst = instance(h, src, "timing", trace)
        for _ = 1, 100 do
            inst:tick()
        end
        local h0 = h:heap()
        for _ = 1, n do
            inst:tick()
        end
        local h1 = h:heap()
        return h1.c_heap_allocations - h0.c_heap_allocations,
               h1.total_allocated_objects - h0.total_allocated_objects
    end
    for _, trace in ipairs({false, true}) do
        local c, o = measure(SEQ255, trace)
        local tag = trace and "trace on" or "trace off"
        B.row("seq-255, " .. tag .. ": C heap allocs", c, "allocs")
        B.row("seq-255, " .. tag .. ": Lisp objects", o, "objects")
        B.target{name = "allocations, 10k ticks seq-255 " .. tag, value = c + o, op = "<=",
                 limit = 0, unit = "allocs"}
    end
    local c, o = measure("(seq " .. rep("(act lua-noop)", 255) .. ")", false)
    B.row("lua-noop x255: C heap allocs + objects", c + o, "allocs")
    c, o = measure("(seq " .. rep("(act lisp-noop)", 255) .. ")", false)
    B.row("lisp-noop x255: C heap allocs + objects", c + o, "allocs")
    B.note("c_heap_allocations and total_allocated_objects deltas; 100 ticks warm-up first")
end

return function(B)
    for _, f in ipairs({native_section, leaf_section, tick_section, alloc_section,
                        planner_section, sched_section}) do
        local ok, err = xpcall(f, debug.traceback, B)
        if not ok then
            B.error("bt_bench", err)
        end
    end
end
