--[[
bench/lib.lua -- the benchmark framework shared by bench/run.lua and every
bench/*_bench.lua.

A bench file is a Lua chunk that receives this module as `...` (it may also
`require("lib")`) and returns a function `run(B)`; at load time it may register
callgrind kernels with B.kernel.  run.lua loads the files in sorted order,
calls each run(B) under pcall, and ends with B.summary().

  local B = ...
  B.kernel("fib", {...})                    -- for bench/callgrind.sh
  return function(B)
    B.section("Lisp evaluator vs Lua 5.4")
    local lisp = B.timeit(function() h:eval("(fib 25)") end, {ops = 1})
    local lua  = B.timeit(function() fib(25) end, {ops = 1})
    B.row("fib(25)", lisp / 1e6, "ms", lua / 1e6, "Lua")
    B.target{name = "fib(25) lispbt/Lua", value = lisp / lua, op = "<=", limit = 2, unit = "x"}
  end

Timing: B.timeit runs `warmup` untimed runs, then `runs` timed runs (default
7, 3 with --quick) and returns the median ns per operation (or the minimum
with stat = "min"); the machines are shared and noisy, so one run means
nothing.  B.compare interleaves lispbt and reference runs and quotes the
median of the pairwise ratios.  The clock is process CPU time by default
(reason below); --wall switches to CLOCK_MONOTONIC through lispbt's
time.now-ns (about 0.4 us per read, negligible against runs of ms).  Figures never fail anything: targets are
reported with ✓/✗ in the summary, and only `run.lua --strict` turns a miss
into a non-zero exit status.
]]

local B = {}

B.quick = false -- --quick: fewer runs and iterations (smoke test, not figures)
B.runs = 7
B.warmup = 1
B.verbose = false

B.targets = {}
B.kernels = {}
B.kernel_order = {}
B.errors = {}

-- ---------------------------------------------------------------------------
-- clock

local clock_ns
do
    local ok, lispbt = pcall(require, "lispbt")
    if ok and type(lispbt) == "table" and lispbt.new then
        local okh, h = pcall(lispbt.new, {workers = 0})
        if okh then
            local now = h:get("time.now-ns")
            B._clock_host = h -- keep it alive
            clock_ns = function()
                return now()
            end
            B.clock_name = "CLOCK_MONOTONIC (lispbt time.now-ns)"
        end
    end
    if not clock_ns then
        clock_ns = function()
            return os.clock() * 1e9
        end
        B.clock_name = "os.clock() (process CPU time)"
    end
end
B.wall_clock, B.wall_clock_name = clock_ns, B.clock_name

--[[ The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID through lispbt's
time.thread-cpu-ns; a system call, ~0.3 us): the cost of work on the thread
that does it, without the host's other threads (the event stream's writer,
scheduler workers), which process CPU time counts.  opts.clock = "thread".
Nil without the module. ]]
if B._clock_host then
    local tcpu = B._clock_host:get("time.thread-cpu-ns")
    B.thread_clock = function()
        return tcpu()
    end
end

--[[ The default clock is process CPU time (os.clock(), CLOCK_PROCESS_CPUTIME_ID,
1 us resolution): on a shared 2-core machine at load ~4.7 the monotonic clock
put the same fib(25) at 1.63x and 2.67x Lua in one run (preemption lands
inside a timed run), while CPU time gave 1.61x / 1.67x and callgrind 1.60x.
CPU time counts every thread of the process: the Lua benches use
lispbt.new{workers = 0} hosts, and a case that needs worker threads or real
latency passes opts.clock = "wall" (or run.lua --wall switches everything). ]]
B.cpu_clock = function()
    return os.clock() * 1e9
end
B.clock = B.cpu_clock
B.clock_name = "process CPU time (os.clock)"

function B.use_wall_clock()
    B.clock, B.clock_name = B.wall_clock, B.wall_clock_name
end

--- Scale an iteration count down in --quick mode (at least `min`, default 1).
function B.scale(n, min)
    if B.quick then
        n = n // 10
    end
    return math.max(n, min or 1)
end

local function median(t)
    local s = {}
    for i = 1, #t do
        s[i] = t[i]
    end
    table.sort(s)
    local n = #s
    if n % 2 == 1 then
        return s[(n + 1) // 2]
    end
    return (s[n // 2] + s[n // 2 + 1]) / 2
end
B.median = median

--[[ B.timeit(fn, opts) -> ns_per_op, info

fn performs opts.ops operations per call (default 1), or with opts.loop =
true the harness calls fn() opts.ops times in a numeric for loop (the loop's
own cost, a few ns, is included).  opts.runs / opts.warmup override the
defaults; opts.setup() runs untimed before every run; opts.gc = false skips
the full Lua collection before every run; opts.stat = "min" returns the best
run instead of the median.  info = {median, min, max, runs, samples} in ns
per op. ]]
function B.timeit(fn, opts)
    opts = opts or {}
    local ops = opts.ops or 1
    local runs = opts.runs or B.runs
    local warmup = opts.warmup or B.warmup
    local loop = opts.loop
    local setup = opts.setup
    local samples = {}
    local clock = opts.clock == "wall" and B.wall_clock or
                      opts.clock == "cpu" and B.cpu_clock or
                      opts.clock == "thread" and assert(B.thread_clock, "no thread clock") or B.clock
    local function once()
        if setup then
            setup()
        end
        if opts.gc ~= false then
            collectgarbage("collect")
        end
        local t0, t1
        if loop then
            t0 = clock()
            for _ = 1, ops do
                fn()
            end
            t1 = clock()
        else
            t0 = clock()
            fn()
            t1 = clock()
        end
        return (t1 - t0) / ops
    end
    for _ = 1, warmup do
        once()
    end
    for i = 1, runs do
        samples[i] = once()
    end
    local info = {median = median(samples), min = math.min(table.unpack(samples)),
                  max = math.max(table.unpack(samples)), runs = runs, samples = samples}
    local v = opts.stat == "min" and info.min or info.median
    return v, info
end

--[[ B.compare(fa, fb, opts) -> a_ns, b_ns, ratio, info
Time fa (lispbt) and fb (the reference) in interleaved runs -- a b, b a,
a b, ... -- so that a change in machine load hits both alike; a_ns and b_ns
are the medians (ns per op, opts as B.timeit, opts.ops applies to both
unless opts.ops_b is given) and ratio is the median of the per-pair ratios
a/b, the figure to quote on a noisy machine. ]]
function B.compare(fa, fb, opts)
    opts = opts or {}
    local runs = opts.runs or B.runs
    local oa, ob = {}, {}
    for k, v in pairs(opts) do
        oa[k], ob[k] = v, v
    end
    oa.runs, ob.runs, oa.warmup, ob.warmup = 1, 1, 0, 0
    ob.ops = opts.ops_b or opts.ops
    for _ = 1, opts.warmup or B.warmup do
        B.timeit(fa, oa)
        B.timeit(fb, ob)
    end
    local as, bs, rs = {}, {}, {}
    for i = 1, runs do
        local a, b
        if i % 2 == 1 then
            a = B.timeit(fa, oa)
            b = B.timeit(fb, ob)
        else
            b = B.timeit(fb, ob)
            a = B.timeit(fa, oa)
        end
        as[i], bs[i], rs[i] = a, b, a / b
    end
    local a, b, r = median(as), median(bs), median(rs)
    return a, b, r, {a = as, b = bs, ratios = rs}
end

-- ---------------------------------------------------------------------------
-- output

local NAME_W, VAL_W, UNIT_W = 40, 12, 8

local function fmt(v)
    if v == nil then
        return ""
    end
    if math.type(v) == "integer" then
        return tostring(v)
    end
    local a = math.abs(v)
    if a == 0 then
        return "0"
    elseif a >= 1e6 then
        return string.format("%.0f", v)
    elseif a >= 100 then
        return string.format("%.1f", v)
    elseif a >= 1 then
        return string.format("%.2f", v)
    end
    return string.format("%.3g", v)
end
B.fmt = fmt

local function pad(s, w)
    -- utf8-aware left-justify
    local n = utf8.len(s) or #s
    if n >= w then
        return s
    end
    return s .. string.rep(" ", w - n)
end

local function lpad(s, w)
    local n = utf8.len(s) or #s
    if n >= w then
        return s
    end
    return string.rep(" ", w - n) .. s
end

local function out(s)
    io.stdout:write(s, "\n")
    io.stdout:flush()
end
B.out = out

--- Start a section: a title and the column header.
function B.section(title)
    out("")
    out("== " .. title .. " " .. string.rep("=", math.max(3, 76 - #title)))
    out(pad("case", NAME_W) .. lpad("value", VAL_W) .. " " .. pad("unit", UNIT_W) ..
            lpad("reference", VAL_W) .. " " .. lpad("ratio", 8) .. "  reference is")
end

--[[ B.row(name, value, unit, ref_value, ref_name, ratio); the last three
optional.  One aligned line: the figure, the reference figure (same unit)
and the ratio value/ref_value ("x" = how many times the reference; for a
rate such as M/s, above 1 means faster), or `ratio` when given (the
pairwise median from B.compare). ]]
function B.row(name, value, unit, ref_value, ref_name, ratio_value)
    local ratio = ""
    if ratio_value then
        ratio = string.format("%.2fx", ratio_value)
    elseif ref_value and value and ref_value ~= 0 then
        ratio = string.format("%.2fx", value / ref_value)
    end
    out(pad(name, NAME_W) .. lpad(fmt(value), VAL_W) .. " " .. pad(unit or "", UNIT_W) ..
            lpad(fmt(ref_value), VAL_W) .. " " .. lpad(ratio, 8) ..
            (ref_name and ("  " .. ref_name) or ""))
end

--- An indented free-text line under the current section.
function B.note(text)
    out("   " .. text)
end

local ops = {
    ["<="] = function(a, b) return a <= b end,
    ["<"] = function(a, b) return a < b end,
    [">="] = function(a, b) return a >= b end,
    [">"] = function(a, b) return a > b end,
}

--[[ B.target{name=, value=, op="<=", limit=, unit=}
Record a target for the summary; returns whether it is met.  value = nil
records the target as "not measured". ]]
function B.target(t)
    assert(type(t) == "table" and t.name and t.limit, "B.target{name=, value=, op=, limit=}")
    t.op = t.op or "<="
    assert(ops[t.op], "B.target: op must be <=, <, >= or >")
    if t.value ~= nil then
        t.met = ops[t.op](t.value, t.limit)
    end
    B.targets[#B.targets + 1] = t
    return t.met
end

--- Record a failure of a bench file or case (reported in the summary).
function B.error(where, msg)
    B.errors[#B.errors + 1] = {where = where, msg = tostring(msg)}
    out("!! " .. where .. ": " .. tostring(msg))
end

--- Print the targets met / missed; returns the number missed.
function B.summary()
    out("")
    out("== targets " .. string.rep("=", 68))
    local met, missed, unmeasured = 0, 0, 0
    for _, t in ipairs(B.targets) do
        local mark, val
        if t.value == nil then
            mark, val = "?", "not measured"
            unmeasured = unmeasured + 1
        else
            mark = t.met and "✓" or "✗"
            val = fmt(t.value)
            if t.met then
                met = met + 1
            else
                missed = missed + 1
            end
        end
        local u = t.unit and (" " .. t.unit) or ""
        out(string.format("%s %s %s%s  (target %s %s%s)", mark, pad(t.name, 44), val,
                          t.value and u or "", t.op, fmt(t.limit), u))
    end
    out(string.format("%d met, %d missed%s%s", met, missed,
                      unmeasured > 0 and (", " .. unmeasured .. " not measured") or "",
                      #B.errors > 0 and (", " .. #B.errors .. " bench errors") or ""))
    return missed
end

-- ---------------------------------------------------------------------------
-- callgrind kernels

--[[ B.kernel(name, k)
Register a kernel for bench/callgrind.sh.  k = {
  desc  = "fib(20)",               -- what one run computes
  n     = 20,                      -- default size (callgrind.sh may override)
  setup = function(n) -> ctx,      -- everything both sides need; runs in the
                                   -- baseline too, so it is subtracted out
  sides = {lisp = function(ctx, n) ... end, lua = function(ctx, n) ... end},
  order = {"lisp", "lua"},         -- print order (first is compared to the rest)
}
`run.lua --kernel NAME --side SIDE [--n N]` runs setup then that side once;
--side none runs setup only (the baseline callgrind.sh subtracts). ]]
function B.kernel(name, k)
    assert(k.sides and k.setup, "B.kernel: sides and setup required")
    if not B.kernels[name] then
        B.kernel_order[#B.kernel_order + 1] = name
    end
    k.name = name
    B.kernels[name] = k
end

return B
