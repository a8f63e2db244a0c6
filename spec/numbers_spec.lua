-- spec/numbers_spec.lua -- numbers where C needs integers (issue 13, item 3).
--
-- Every numeric argument of a builtin or leaf that C turns into an integer
-- (a count, an index, a size, a duration, a seed, a planner option) is fed
-- the values below, and each case asserts the exact outcome: accepted, or
-- the one message "NAME: ARG must be an integer in [LO, HI], got VALUE"
-- ("a number" where floats are truncated; ">= LO" when there is no upper
-- bound), from lisp_tointrange / lisp_rangemsg (csrc/lisp/lisp.h).  Leaf
-- arguments are checked when the tree compiles ("bt.compile: LEAF: ...").
-- `make sanitize` runs this file under UBSan, which proves that none of
-- these values reaches a float-to-integer conversion or an overflow.
--
-- The cases are data: per argument, the Lisp source with X for the value
-- (X is a global set from Lua, so NaN and infinities need no literal), the
-- argument's name, kind and range, and optionally the Lua call that
-- reaches the same check; `expect` overrides the generated message for
-- arguments with their own wording (the planner's keys, floor, mod ...);
-- it gets the value, its Lisp text and the Lisp text of the value as a
-- float (the planner's number keys see a C double).
local lispbt = require("lispbt")

local I64MAX = math.maxinteger

-- The values, named for the test titles.
local VALUES = {
  { "NaN", 0 / 0 },
  { "+inf", 1 / 0 },
  { "-inf", -1 / 0 },
  { "1e300", 1e300 },
  { "-1", -1 },
  { "2^31", 1 << 31 },
  { "2^63 (float)", 2 ^ 63 },
  { "-2^63", math.mininteger },
}

-- Whether 'v' is accepted by an argument of kind 'int' (integers only) or
-- 'num' (any number, truncated) in [lo, hi].
local function accepted(c, v)
  if c.kind == "int" and math.type(v) ~= "integer" then
    return false
  end
  return v == v and v >= c.lo and v <= (c.hi or I64MAX)
end

local function rangemsg(c, repr)
  local range = c.hi and ("in [%d, %d]"):format(c.lo, c.hi) or (">= %d"):format(c.lo)
  return ("%s: %s must be %s %s, got %s"):format(c.name, c.arg,
    c.kind == "int" and "an integer" or "a number", range, repr)
end

local function lisp(src) return "eval:1:1: " .. src end

-- Planner keys: budget_ms is a number in (0, 1e9]; the integer keys take
-- integral floats too, so 2^63 is out of range for them (not a type error).
local function budget(prefix)
  return function(v, repr)
    if v ~= v or v <= 0 then
      return prefix .. "budget_ms: must be a positive number, got " .. repr
    elseif v > 1e9 then
      return prefix .. "budget_ms: must be at most 1e+09, got " .. repr
    end
  end
end

local function intkey(prefix, key, lo, hi)
  return function(v, repr)
    if v ~= v or v < lo or v > hi then
      return ("%s%s: must be an integer in [%d, %d], got %s"):format(prefix, key, lo, hi, repr)
    end
  end
end


local CASES = {
  -- leaves, at compile time
  { name = "bt.compile: async-sleep-ms", arg = "MS", kind = "num", lo = 0, hi = 86400000,
    src = "(bt.compile (list 'act 'async-sleep-ms X))" },
  { name = "bt.compile: running-then-success", arg = "N", kind = "int", lo = 0, hi = 1000000000,
    src = "(bt.compile (list 'act 'running-then-success X))" },
  { name = "bt.compile: repeat", arg = "COUNT", kind = "int", lo = 0, hi = 1000000000,
    src = "(bt.compile (list 'repeat X '(succeed)))" },
  { name = "bt.compile: retry", arg = "COUNT", kind = "int", lo = 0, hi = 1000000000,
    src = "(bt.compile (list 'retry X '(fail)))" },
  { name = "bt.compile: par", src = "(bt.compile (list 'par X '(succeed)))",
    expect = function(v, repr, reprf)
      if math.type(v) ~= "integer" then
        return "bt.compile: par: threshold must be an integer, got " .. repr
      elseif v ~= 1 then
        return "bt.compile: par: threshold must be in 1..1, got " .. repr
      end
    end },
  -- plan-action options use planner.request.v1's field rules (docs/planner.md)
  { name = "plan-action :budget_ms", src = "(bt.compile (list 'plan-action ':budget_ms X))",
    expect = function(v, repr)
      if not (v > 0 and v <= 1e9) then
        return "bt.compile: plan-action: :budget_ms must be a number in (0, 1e+09], got " .. repr
      end
    end },
  { name = "plan-action :iters_max", src = "(bt.compile (list 'plan-action ':iters_max X))",
    expect = function(v, repr)
      if math.type(v) ~= "integer" or v < 0 or v > 1000000000 then
        return "bt.compile: plan-action: :iters_max must be an integer in [0, 1000000000], got "
          .. repr
      end
    end },
  -- builtins
  { name = "vec.make", arg = "N", kind = "int", lo = 0, hi = 1 << 32, src = "(vec.make X)",
    run_ok = false },
  { name = "vec.reserve!", arg = "N", kind = "int", lo = 0, hi = 1 << 32,
    src = "(vec.reserve! v X)", run_ok = false },
  { name = "vec.get", arg = "INDEX", kind = "int", lo = 0, hi = 1, src = "(vec.get v X)" },
  { name = "vec.set!", arg = "INDEX", kind = "int", lo = 0, hi = 1, src = "(vec.set! v X 0)" },
  { name = "bt.set-tick-budget-ms", arg = "MS", kind = "int", lo = 0, hi = 86400000,
    src = "(bt.set-tick-budget-ms i X)",
    lua = function(e, x) return e.inst:set_tick_budget_ms(x) end },
  { name = "bt.histogram", arg = "NODE", kind = "int", lo = 0, hi = 1, src = "(bt.histogram i X)",
    lua = function(e, x) return e.h.bt.histogram(e.inst, x) end },
  { name = "bt.series.enable", arg = "CAPACITY", kind = "int", lo = 0, hi = 1 << 24,
    src = "(bt.series.enable i X)", lua = function(e, x) return e.h.bt.series.enable(e.inst, x) end },
  { name = "bt.trace.dump", arg = "N", kind = "int", lo = 0, src = "(bt.trace.dump i X)" },
  { name = "bt.trace.snapshot", arg = "N", kind = "int", lo = 0, src = "(bt.trace.snapshot i X)",
    lua = function(e, x) return e.inst:trace(x) end },
  { name = "bt.logs.dump", arg = "N", kind = "int", lo = 0, src = "(bt.logs.dump X)" },
  { name = "bt.logs.snapshot", arg = "N", kind = "int", lo = 0, src = "(bt.logs.snapshot X)",
    lua = function(e, x) return e.h:logs(x) end },
  { name = "bt.log.dump", arg = "N", kind = "int", lo = 0, src = "(bt.log.dump X)" },
  { name = "bt.log.snapshot", arg = "N", kind = "int", lo = 0, src = "(bt.log.snapshot X)" },
  { name = "planner.logs.dump", arg = "N", kind = "int", lo = 0, src = "(planner.logs.dump X)" },
  { name = "planner.logs.snapshot", arg = "N", kind = "int", lo = 0,
    src = "(planner.logs.snapshot X)", lua = function(e, x) return e.h:planner_records(x) end },
  { name = "planner.set-base-seed", src = "(planner.set-base-seed X)",
    expect = function(v, repr, reprf)
      if math.type(v) ~= "integer" then
        return "planner.set-base-seed: expected an integer, got " .. repr
      end
    end },
  { name = "rng.make", src = "(rng.make X)",
    expect = function(v, repr, reprf)
      if math.type(v) ~= "integer" then return "rng.make: expected an integer, got " .. repr end
    end },
  { name = "rng.int LO", src = "(rng.int r X 10)",
    expect = function(v, repr, reprf)
      if math.type(v) ~= "integer" then return "rng.int: expected an integer, got " .. repr end
      if v > 10 then return "rng.int: lo is greater than hi" end
    end },
  { name = "rng.int HI", src = "(rng.int r (- 0 9223372036854775807 1) X)",
    expect = function(v, repr, reprf)
      if math.type(v) ~= "integer" then return "rng.int: expected an integer, got " .. repr end
    end },
  { name = "floor", src = "(floor X)",
    expect = function(v, repr, reprf)
      if v ~= v or v >= 2 ^ 63 or v < -2 ^ 63 then
        return "floor: result does not fit an integer, got " .. repr
      end
    end },
  { name = "round", src = "(round X)",
    expect = function(v, repr, reprf)
      if v ~= v or v >= 2 ^ 63 or v < -2 ^ 63 then
        return "round: result does not fit an integer, got " .. repr
      end
    end },
  { name = "mod", src = "(mod X 7)",
    expect = function(v, repr, reprf)
      if math.type(v) ~= "integer" then return "mod: expected an integer, got " .. repr end
    end },
  { name = "planner.mcts budget_ms", src = "(planner.mcts (map.make 'state '(0.0) 'iters_max 1 'budget_ms X))",
    expect = function(v, repr, reprf) return budget("planner.mcts: ")(v, reprf) end },
  { name = "planner.mcts iters_max", src = "(planner.mcts (map.make 'state '(0.0) 'iters_max X))",
    run_ok = false,
    expect = function(v, repr, reprf, reprl) return intkey("planner.mcts: ", "iters_max", 1, 1000000000)(v, reprl) end },
  { name = "planner.mcts max_depth", src = "(planner.mcts (map.make 'state '(0.0) 'iters_max 1 'max_depth X))",
    expect = function(v, repr, reprf, reprl) return intkey("planner.mcts: ", "max_depth", 1, 10000)(v, reprl) end },
  { name = "planner.mcts top_k", src = "(planner.mcts (map.make 'state '(0.0) 'iters_max 1 'top_k X))",
    expect = function(v, repr, reprf, reprl) return intkey("planner.mcts: ", "top_k", 0, 8)(v, reprl) end },
  { name = "planner.mcts seed", src = "(planner.mcts (map.make 'state '(0.0) 'iters_max 1 'seed X))",
    expect = function(v, repr, reprf, reprl)
      if v ~= v or v == math.huge or v == -math.huge or v == 1e300 then
        return "planner.mcts: seed: must be an integer, got " .. reprl
      end
    end },
  { name = "planner.mcts gamma", src = "(planner.mcts (map.make 'state '(0.0) 'iters_max 1 'gamma X))",
    expect = function(v, repr, reprf)
      if not (v > 0 and v <= 1) then
        return "planner.mcts: gamma: must be in (0, 1], got " .. reprf
      end
    end },
  { name = "planner.mcts pw_alpha", src = "(planner.mcts (map.make 'state '(0.0) 'iters_max 1 'pw_alpha X))",
    expect = function(v, repr, reprf)
      if not (v >= 0 and v <= 1) then
        return "planner.mcts: pw_alpha: must be in [0, 1], got " .. reprf
      end
    end },
  { name = "planner.mcts pw_k", src = "(planner.mcts (map.make 'state '(0.0) 'iters_max 1 'pw_k X))",
    expect = function(v, repr, reprf)
      if not (v > 0) or v == math.huge then
        return "planner.mcts: pw_k: must be a finite positive number, got " .. reprf
      end
    end },
  { name = "planner.mcts c_ucb", src = "(planner.mcts (map.make 'state '(0.0) 'iters_max 1 'c_ucb X))",
    expect = function(v, repr, reprf)
      if not (v >= 0) or v == math.huge then
        return "planner.mcts: c_ucb: must be a finite non-negative number, got " .. reprf
      end
    end },
  { name = "planner.mcts state", src = "(planner.mcts (map.make 'state (list X) 'iters_max 1))",
    expect = function(v, repr, reprf)
      if v ~= v or v < -1e6 or v > 1e6 then
        return "planner.mcts: state: toy-1d x must be a finite number in [-1000000, 1000000], got "
          .. reprf
      end
    end },
}

local function errof(f, ...)
  local ok, err = pcall(f, ...)
  if ok then
    return nil
  end
  return tostring(err)
end

describe("numbers where C needs integers", function()
  local e = {}

  setup(function()
    e.h = lispbt.new { workers = 1 }
    e.hl = lispbt.new { workers = 1, print_style = "lispbt" }
    e.tree = e.h:compile("(seq (succeed))")
    e.inst = e.tree:instance()
    e.h:set("i", e.inst)
    e.h:eval("(define v (vec.make 2 0)) (define r (rng.make 1))")
  end)

  teardown(function()
    e.h:close()
    e.hl:close()
  end)

  for _, c in ipairs(CASES) do
    for _, val in ipairs(VALUES) do
      local vname, v = val[1], val[2]
      it(("%s gets %s"):format(c.name .. (c.arg and " " .. c.arg or ""), vname), function()
        local h = e.h
        h:set("X", v)
        local repr = h:eval("(number->string X)") -- the printed form, in the host's style
        -- the planner checks its options in C and prints numbers in the
        -- readable (print_style "lispbt") form whatever the host's style
        e.hl:set("X", v)
        local reprl = e.hl:eval("(write-to-string X)")
        local reprf = e.hl:eval("(write-to-string (+ 0.0 X))")
        local want
        if c.expect then
          want = c.expect(v, repr, reprf, reprl)
        elseif not accepted(c, v) then
          want = rangemsg(c, repr)
        end
        local src = c.src
        if want == nil and c.run_ok == false then
          return -- accepted; running it would allocate 2^31 slots or plan for long
        end
        local got = errof(h.eval, h, src)
        if want == nil then
          assert.is_nil(got, src)
        else
          assert.are.equal(lisp(want), got, src)
          if c.lua then
            assert.are.equal(want, errof(c.lua, e, v), "Lua: " .. src)
          end
        end
        assert.are.equal(3, h:eval("(+ 1 2)"))
      end)
    end
  end

  it("no value reached a job: the scheduler submitted nothing", function()
    assert.are.equal(0, e.h:scheduler_stats().submitted)
  end)

  describe("Lua-side numbers", function()
    for _, val in ipairs(VALUES) do
      local vname, v = val[1], val[2]
      it("lispbt.sleep_ms gets " .. vname, function()
        assert(not (v >= 0 and v <= 86400000), "a value in range: nothing to check")
        assert.are.equal("sleep_ms: bad argument #1 (milliseconds must be in 0..86400000)",
          errof(lispbt.sleep_ms, v))
      end)
    end
  end)
end)
