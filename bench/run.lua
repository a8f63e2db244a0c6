--[[
bench/run.lua -- lispbt benchmark harness (see bench/README.md).

  lua5.4 bench/run.lua [options] [filter ...]

Loads bench/lib.lua, then every bench/*_bench.lua in sorted order, runs each
under pcall, then runs the compiled C benches (bench/*_bench.c, built with
-DLISPBT_BENCH=ON into <build>/bench/) and prints their `name value unit`
lines under a section each, and ends with the targets met / missed.

  filter ...      run only the Lua bench files and C benches whose name
                  contains one of the filters (e.g. `lisp`, `sched`)
  --quick         3 runs, iterations / 10: a smoke test, not figures
  --runs N        timed runs per case (median of N; default 7)
  --wall          time with the monotonic clock instead of process CPU time
                  (CPU time is the default: steadier on a loaded machine;
                  see bench/lib.lua)
  --no-c          skip the compiled C benches
  --no-lua        skip the Lua bench files
  --c-dir DIR     look for the C bench executables in DIR only
  --strict        exit 1 if a target is missed (figures never fail otherwise)
  --list          list bench files, C benches and callgrind kernels
  --kernel K --side S [--n N]
                  callgrind driver (bench/callgrind.sh): set up kernel K and
                  run side S once (S = none runs the setup only)

Module lookup: LUA_CPATH as given (the Makefile points it at build-bench/),
then build-bench/?.so and build/?.so next to this folder.  The .so in use and
whether it came from an assert-enabled (LISPBT_TESTS) build are printed.
]]

local function dirname(p)
    return p:match("^(.*)/[^/]*$") or "."
end

local script = arg and arg[0] or "bench/run.lua"
local BENCH_DIR = dirname(script)
local ROOT = BENCH_DIR .. "/.."

package.path = BENCH_DIR .. "/?.lua;" .. ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;" ..
                   package.path
package.cpath = package.cpath .. ";" .. ROOT .. "/build-bench/?.so;" .. ROOT .. "/build/?.so"

-- ---------------------------------------------------------------------------
-- arguments

local opt = {filters = {}, c = true, lua = true}
do
    local i = 1
    while arg and i <= #arg do
        local a = arg[i]
        if a == "--quick" then
            opt.quick = true
        elseif a == "--runs" then
            i = i + 1
            opt.runs = assert(tonumber(arg[i]), "--runs N")
        elseif a == "--wall" then
            opt.wall = true
        elseif a == "--no-c" then
            opt.c = false
        elseif a == "--no-lua" then
            opt.lua = false
        elseif a == "--c-dir" then
            i = i + 1
            opt.c_dir = assert(arg[i], "--c-dir DIR")
        elseif a == "--strict" then
            opt.strict = true
        elseif a == "--list" then
            opt.list = true
        elseif a == "--kernel" then
            i = i + 1
            opt.kernel = assert(arg[i], "--kernel NAME")
        elseif a == "--side" then
            i = i + 1
            opt.side = assert(arg[i], "--side SIDE")
        elseif a == "--n" then
            i = i + 1
            opt.n = assert(math.tointeger(tonumber(arg[i])), "--n N")
        elseif a == "-h" or a == "--help" then
            print("usage: lua5.4 bench/run.lua [--quick] [--runs N] [--no-c] [--no-lua] " ..
                      "[--wall] [--c-dir DIR] [--strict] [--list] [filter ...]\n" ..
                      "       lua5.4 bench/run.lua --kernel NAME --side SIDE [--n N]")
            os.exit(0)
        elseif a:sub(1, 2) == "--" then
            io.stderr:write("run.lua: unknown option " .. a .. "\n")
            os.exit(2)
        else
            opt.filters[#opt.filters + 1] = a
        end
        i = i + 1
    end
end

local B = require("lib")
B.quick = opt.quick or false
if opt.quick then
    B.runs = 3
end
if opt.runs then
    B.runs = opt.runs
end
if opt.wall then
    B.use_wall_clock()
end

local function selected(name)
    if #opt.filters == 0 then
        return true
    end
    for _, f in ipairs(opt.filters) do
        if name:find(f, 1, true) then
            return true
        end
    end
    return false
end

local function sh_lines(cmd)
    local p = io.popen(cmd)
    local t = {}
    if p then
        for l in p:lines() do
            t[#t + 1] = l
        end
        p:close()
    end
    return t
end

local function shq(s)
    return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- ---------------------------------------------------------------------------
-- load the Lua bench files (each registers kernels and returns run(B))

local files = sh_lines("ls -1 " .. shq(BENCH_DIR) .. " 2>/dev/null")
local benches = {}
for _, f in ipairs(files) do
    if f:match("_bench%.lua$") then
        benches[#benches + 1] = {name = f:gsub("%.lua$", ""), path = BENCH_DIR .. "/" .. f}
    end
end
table.sort(benches, function(a, b) return a.name < b.name end)

local function load_bench(b)
    local chunk, err = loadfile(b.path)
    if not chunk then
        return nil, err
    end
    local ok, run = pcall(chunk, B)
    if not ok then
        return nil, run
    end
    if type(run) ~= "function" then
        return nil, "must return a function run(B)"
    end
    return run
end

local loaded = {}
for _, b in ipairs(benches) do
    if opt.kernel or opt.list or (opt.lua and selected(b.name)) then
        local run, err = load_bench(b)
        if run then
            loaded[#loaded + 1] = {name = b.name, run = run}
        elseif opt.kernel then
            io.stderr:write(b.path .. ": " .. tostring(err) .. "\n")
        else
            B.error(b.name, err)
        end
    end
end

-- ---------------------------------------------------------------------------
-- callgrind driver mode

if opt.kernel then
    local k = B.kernels[opt.kernel]
    if not k then
        io.stderr:write("run.lua: no kernel '" .. opt.kernel .. "' (see --list)\n")
        os.exit(2)
    end
    local side = opt.side or "none"
    local n = opt.n or k.n
    if side ~= "none" and not k.sides[side] then
        io.stderr:write("run.lua: kernel '" .. opt.kernel .. "' has no side '" .. side .. "'\n")
        os.exit(2)
    end
    local ctx = k.setup(n)
    local r
    if side ~= "none" then
        r = k.sides[side](ctx, n)
    end
    io.stdout:write(string.format("kernel %s side %s n %d result %s\n", opt.kernel, side, n,
                                  tostring(r)))
    os.exit(0)
end

-- ---------------------------------------------------------------------------
-- compiled C benches

local function c_bench_dirs()
    if opt.c_dir then
        return {opt.c_dir}
    end
    local env = os.getenv("LISPBT_BENCH_DIR")
    local t = {}
    if env and env ~= "" then
        t[#t + 1] = env
    end
    for _, d in ipairs({"build-bench/bench", "build/bench", "build-bench", "build"}) do
        t[#t + 1] = ROOT .. "/" .. d
    end
    return t
end

local function find_c_benches()
    for _, d in ipairs(c_bench_dirs()) do
        local found = sh_lines("find " .. shq(d) ..
                                   " -maxdepth 1 -type f -perm -u+x -name '*_bench' 2>/dev/null | sort")
        if #found > 0 then
            return found, d
        end
    end
    return {}, nil
end

-- Targets read from the C benches' output: bench -> line name -> target.
local C_TARGETS = {
    sched_bench = {
        throughput = {name = "scheduler throughput (2 workers)", op = ">=", limit = 2e6,
                      unit = "jobs/s"},
        waits_10000_periods = {name = "10,000 sleeps on 2 workers, in sleep periods", op = "<=",
                               limit = 2, unit = "x"},
    },
    tail_bench = {
        excess_over_floor_us = {name = "traced seq-255 tick p99.9-p50, over the jitter floor's",
                                op = "<=", limit = 5, unit = "us"},
        tick_allocs = {name = "allocations in 1 M traced ticks", op = "<=", limit = 0,
                       unit = "allocs"},
    },
    plan_bench = {
        mcts_toy1d_vs_raw = {name = "planner.plan MCTS toy-1d step rate vs plain C rollouts",
                             op = ">=", limit = 0.5, unit = "x"},
        mppi_toy1d_vs_raw = {name = "planner.plan MPPI toy-1d step rate vs plain C rollouts",
                             op = ">=", limit = 0.5, unit = "x"},
        mppi_ptz_vs_raw = {name = "planner.plan MPPI ptz-track step rate vs plain C rollouts",
                           op = ">=", limit = 0.5, unit = "x"},
        mcts_ptz_vs_raw = {name = "planner.plan MCTS ptz-track step rate vs plain C rollouts",
                           op = ">=", limit = 0.5, unit = "x"},
    },
    mcts_bench = {
        toy1d_ms_p50 = {name = "planner toy-1d, 2000-iter call (p50)", op = "<=", limit = 0.8,
                        unit = "ms"},
    },
}

local function run_c_bench(path)
    local name = path:match("([^/]+)$")
    B.section("C: " .. name .. " (" .. path .. ")")
    local t0 = B.wall_clock()
    local p = io.popen(shq(path) .. " 2>&1")
    local seen = {}
    for l in p:lines() do
        local k, v, u = l:match("^(%S+)%s+(%S+)%s*(%S*)%s*$")
        local num = v and tonumber(v)
        if num then
            B.row(k, num, u)
            seen[k] = num
        else
            B.note(l)
        end
    end
    local ok, how, code = p:close()
    if not ok then
        B.error(name, "exited with " .. tostring(how) .. " " .. tostring(code))
    end
    B.note(string.format("(%s ran %.1f s)", name, (B.wall_clock() - t0) / 1e9))
    for line, t in pairs(C_TARGETS[name] or {}) do
        B.target{name = t.name, value = seen[line], op = t.op, limit = t.limit, unit = t.unit}
    end
end

-- ---------------------------------------------------------------------------
-- list mode

local c_list, c_dir = find_c_benches()

if opt.list then
    print("Lua bench files (" .. BENCH_DIR .. "):")
    for _, b in ipairs(benches) do
        print("  " .. b.name)
    end
    print("C benches (" .. tostring(c_dir) .. "):")
    for _, c in ipairs(c_list) do
        print("  " .. c)
    end
    print("callgrind kernels:")
    for _, name in ipairs(B.kernel_order) do
        local k = B.kernels[name]
        local sides = {}
        for s in pairs(k.sides) do
            sides[#sides + 1] = s
        end
        table.sort(sides)
        print(string.format("  %-16s n=%-10s sides: %s  %s", name, tostring(k.n),
                            table.concat(sides, ","), k.desc or ""))
    end
    os.exit(0)
end

-- ---------------------------------------------------------------------------
-- the run

local function module_info()
    local so = package.searchpath("lispbt", package.cpath)
    if not so then
        return "lispbt.so: not found (build first; Lua bench files will report errors)"
    end
    local cache = io.open(dirname(so) .. "/CMakeCache.txt")
    local kind = ""
    if cache then
        local txt = cache:read("a")
        cache:close()
        local bt = txt:match("CMAKE_BUILD_TYPE:STRING=(%S*)") or "?"
        local tests = txt:match("LISPBT_TESTS:BOOL=(%S+)") == "ON"
        local san = txt:match("LISPBT_SANITIZE:BOOL=ON") or txt:match("LISPBT_TSAN:BOOL=ON")
        kind = " [" .. bt .. (tests and ", LISPBT_TESTS: asserts on" or "") ..
                   (san and ", SANITIZER BUILD: figures meaningless" or "") .. "]"
    end
    return "lispbt.so: " .. so .. kind
end

B.out("lispbt benchmarks -- " .. _VERSION .. ", " .. os.date("!%Y-%m-%dT%H:%M:%SZ"))
B.out(module_info())
B.out(string.format("timing: median of %d runs after %d warm-up, clock %s%s", B.runs, B.warmup,
                    B.clock_name, B.quick and ", QUICK MODE (smoke test)" or ""))

if opt.lua then
    for _, b in ipairs(loaded) do
        local ok, err = xpcall(b.run, debug.traceback, B)
        if not ok then
            B.error(b.name, err)
        end
    end
end

if opt.c then
    local any = false
    for _, c in ipairs(c_list) do
        if selected(c:match("([^/]+)$")) then
            any = true
            run_c_bench(c)
        end
    end
    if not any and #c_list == 0 then
        B.out("")
        B.out("(no compiled C benches found in build-bench/bench or build/bench: " ..
                  "configure with -DLISPBT_BENCH=ON, or run `make bench`)")
    end
end

local missed = B.summary()
if opt.strict and (missed > 0 or #B.errors > 0) then
    os.exit(1)
end
