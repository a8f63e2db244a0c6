-- spec/bad_input_spec.lua -- a catalogue of bad inputs (issue 13, item 8).
--
-- Every Lua function and every builtin, given wrong types, wrong arity,
-- NaN / infinities / huge / negative numbers, NUL bytes, empty names,
-- cyclic or too deep Lua tables, closed hosts, trees and instances, objects
-- of another host, and re-entrant calls from inside leaves.  Each case
-- asserts the exact error text, which names the function and the problem
-- ("NAME: PROBLEM", docs/reference/lua.md#errors), and that the host still
-- evaluates (+ 1 2) afterwards.
--
-- The cases are data: per function a list of { args, message }, expanded
-- into one `it` each.  Lisp cases are source text evaluated at 1:1, so
-- their message is "eval:1:1: MESSAGE"; arity cases are generated from the
-- builtin arities below and run both in Lisp and, for the runtime builtins,
-- through their Lua mirror.  A message ending in "..." is a prefix: a
-- Lisp message that prints a value holding a NUL byte is cut there today
-- (the printer writes the byte raw).
--
-- Left out on purpose (see the report of issue 13): Lisp values nested
-- deeper than the conversion limit or cyclic, on the way to Lua (their
-- message is the walks' work), and numeric range checks of builtins that do
-- not exist yet ((sqrt -1), (log 0), (rng.uniform r 2 1), ...).
local lispbt = require("lispbt")
local C = require("support.cases")

local A = table.pack

local function errof(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error, got a result: " .. tostring(err))
  return tostring(err)
end

local function matches(expected, got)
  if expected:sub(-3) == "..." then
    return got:sub(1, #expected - 3) == expected:sub(1, -4)
  end
  return got == expected
end

local function check(expected, got, label)
  got = got:gsub("^[^\n]-bad_input_spec%.lua:%d+: ", "") -- Lua's where: of a direct call
  assert(matches(expected, got),
    ("%s\nexpected: %s\n     got: %s"):format(label or "", expected, got))
end

-- The shared environment of the cases: a host with a tree, an instance, a
-- vec, a map and an rng bound in Lisp, plus objects of another host.
local env = {}

local function setup()
  env.h = lispbt.new { workers = 1 }
  local h = env.h
  env.tree = h:compile("(seq (succeed))")
  env.inst = env.tree:instance()
  env.group = env.tree:group({ env.inst })
  h:set("i", env.inst)
  h:eval("(define v (vec.make 2 0)) (define m (map.make)) (define r (rng.make 1))")
  h:set("nulkey", "a\0b")
  h:set("nan", 0 / 0)
  h:set("inf", 1 / 0)
  env.other = lispbt.new { workers = 0 }
  env.otherval = env.other:eval("(cons 1 2)")
  env.otherinst = env.other:compile("(succeed)"):instance()
  env.cyclic = {}
  env.cyclic[1] = env.cyclic
  local deep = {}
  for _ = 1, 150 do
    deep = { deep }
  end
  env.deep = deep
  env.thread = coroutine.create(print)
  env.fn = function() return true end
end

local function healthy()
  assert.are.equal(3, env.h:eval("(+ 1 2)"))
end

---------------------------------------------------------------------------
-- Lisp: builtins given bad arguments (source, message without position)
---------------------------------------------------------------------------

local lisp_cases = {
  lists = {
    { "(car 1)", "car: expected a cons, got 1" },
    { '(cdr "x")', 'cdr: expected a cons, got "x"' },
    { "(length 5)", "length: expected a proper list, got 5" },
    { "(length '(1 . 2))", "length: expected a proper list, got (1 . 2)" },
    { "(reverse 3)", "reverse: expected a proper list, got 3" },
    { "(append 1 '(2))", "append: expected a proper list, got 1" },
    { "(apply + 1)", "apply: expected a proper list, got 1" },
    { "(map car 5)", "map: expected a proper list, got 5" },
    { "(for-each car 5)", "for-each: expected a proper list, got 5" },
  },
  numbers = {
    { '(+ 1 "a")', '+: expected a number, got "a"' },
    { '(- "a")', '-: expected a number, got "a"' },
    { "(* 'x 2)", "*: expected a number, got x" },
    { '(/ 1 "x")', '/: expected a number, got "x"' },
    { '(= 1 "a")', '=: expected a number, got "a"' },
    { "(< 1 'a)", "<: expected a number, got a" },
    { '(> "a" 1)', '>: expected a number, got "a"' },
    { "(<= 1 nil)", "<=: expected a number, got nil" },
    { "(>= #t 1)", ">=: expected a number, got #t" },
    { '(abs "x")', 'abs: expected a number, got "x"' },
    { "(sqrt 'x)", "sqrt: expected a number, got x" },
    { '(log "x")', 'log: expected a number, got "x"' },
    { "(exp #t)", "exp: expected a number, got #t" },
    { '(clamp 1 2 "x")', 'clamp: expected a number, got "x"' },
    { "(clamp 5 3 1)", "clamp: lower bound is greater than upper bound" },
    { '(min "a")', 'min: expected a number, got "a"' },
    { "(max 1 'b)", "max: expected a number, got b" },
    { '(floor "x")', 'floor: expected a number, got "x"' },
    { "(round nil)", "round: expected a number, got nil" },
    { "(floor nan)", "floor: result does not fit an integer, got nan" },
    { "(floor inf)", "floor: result does not fit an integer, got inf" },
    { "(round inf)", "round: result does not fit an integer, got inf" },
    { "(round (- inf))", "round: result does not fit an integer, got -inf" },
    { "(floor 1e300)", "floor: result does not fit an integer, got 1e+300" },
    { "(mod 1 0)", "mod: division by zero" },
    { "(mod 1.5 2)", "mod: expected an integer, got 1.5" },
    { '(mod "a" 1)', 'mod: expected an integer, got "a"' },
    { "(mod 1 nan)", "mod: expected an integer, got nan" },
  },
  strings = {
    { "(string-append 1)", "string-append: expected a string, got 1" },
    { "(string-length 'a)", "string-length: expected a string, got a" },
    { '(number->string "x")', 'number->string: expected a number, got "x"' },
    { '(symbol->string "x")', 'symbol->string: expected a symbol, got "x"' },
    { "(string->symbol 5)", "string->symbol: expected a string, got 5" },
    { '(string->symbol "")', 'string->symbol: expected a non-empty string, got ""' },
  },
  collections = {
    { '(vec.make "x")', 'vec.make: N must be an integer in [0, 4294967296], got "x"' },
    { "(vec.make -1)", "vec.make: N must be an integer in [0, 4294967296], got -1" },
    { "(vec.make 2.5)", "vec.make: N must be an integer in [0, 4294967296], got 2.5" },
    { "(vec.make nan)", "vec.make: N must be an integer in [0, 4294967296], got nan" },
    { "(vec.make inf)", "vec.make: N must be an integer in [0, 4294967296], got inf" },
    { "(vec.get v 5)", "vec.get: INDEX must be an integer in [0, 1], got 5" },
    { "(vec.get v -1)", "vec.get: INDEX must be an integer in [0, 1], got -1" },
    { '(vec.get v "x")', 'vec.get: INDEX must be an integer in [0, 1], got "x"' },
    { "(vec.get 5 0)", "vec.get: expected a vec, got 5" },
    { "(vec.set! v 9 1)", "vec.set!: INDEX must be an integer in [0, 1], got 9" },
    { "(vec.set! 5 0 1)", "vec.set!: expected a vec, got 5" },
    { "(vec.push! 5 1)", "vec.push!: expected a vec, got 5" },
    { "(vec.pop! (vec.make))", "vec.pop!: expected a non-empty vec, got <vec:0>" },
    { "(vec.pop! 5)", "vec.pop!: expected a vec, got 5" },
    { "(vec.clear! 5)", "vec.clear!: expected a vec, got 5" },
    { "(vec.reserve! v -1)", "vec.reserve!: N must be an integer in [0, 4294967296], got -1" },
    { '(vec.reserve! v "x")', 'vec.reserve!: N must be an integer in [0, 4294967296], got "x"' },
    { "(vec.len 5)", "vec.len: expected a vec, got 5" },
    { "(map.get 5 1)", "map.get: expected a map, got 5" },
    { "(map.set! 5 1 2)", "map.set!: expected a map, got 5" },
    { "(map.del! 5 1)", "map.del!: expected a map, got 5" },
    { "(map.has? 5 1)", "map.has?: expected a map, got 5" },
    { "(map.keys 5)", "map.keys: expected a map, got 5" },
    { "(map.count '(1))", "map.count: expected a map, got (1)" },
    { "(map.make 1)", "map.make: expected key/value pairs, got 1 arguments" },
  },
  system = {
    { "(save 5 1)", "save: expected a string, got 5" },
    { '(save "" 1)', 'save: expected a non-empty path, got ""' },
    { "(save nulkey 1)", 'save: expected a path without NUL bytes, got "a...' },
    { "(read 5)", "read: expected a string, got 5" },
    { "(read-file 5)", "read-file: expected a string, got 5" },
    { '(read-file "")', 'read-file: expected a non-empty path, got ""' },
    { "(read-file nulkey)", 'read-file: expected a path without NUL bytes, got "a...' },
    { '(read-file "/nonexistent/x")', "read-file: cannot open '/nonexistent/x': No such file or directory" },
    { "(load 5)", "load: expected a path string" },
    { '(load "")', "load: expected a non-empty path without NUL bytes" },
    { "(load nulkey)", "load: expected a non-empty path without NUL bytes" },
    { '(load "/nonexistent/x")', "load: cannot open '/nonexistent/x': No such file or directory" },
    { '(rng.make "x")', 'rng.make: expected an integer, got "x"' },
    { "(rng.uniform 5)", "rng.uniform: expected an rng, got 5" },
    { '(rng.uniform r "a")', "rng.uniform: expected (rng.uniform r) or (rng.uniform r lo hi)" },
    { '(rng.normal r "x")', "rng.normal: expected (rng.normal r) or (rng.normal r mean sd)" },
    { "(rng.int r 5 1)", "rng.int: lo is greater than hi" },
    { '(rng.int r "a" 1)', 'rng.int: expected an integer, got "a"' },
    { "(rng.int 5 1 2)", "rng.int: expected an rng, got 5" },
  },
  bt = {
    { "(bt.compile 5)", "bt.compile: expected a node form like (seq ...), (cond name) or (act name), got 5" },
    { '(bt.compile "(succeed) (succeed)")',
      "bt.compile: expected exactly one DSL form in the source text, got 2" },
    { "(bt.compile '(nope))", "bt.compile: unknown node kind, got nope" },
    { "(bt.new-instance 5)", "bt.new-instance: expected a bt_def, got 5" },
    { "(bt.new-instance i)", "bt.new-instance: expected a bt_def, got <bt_instance:..." },
    { "(bt.tick 5)", "bt.tick: expected a bt_instance, got 5" },
    { "(bt.tick i 5)", "bt.tick: expected an alist ((key value) ...) or a map, got 5" },
    { "(bt.tick i '(5))", "bt.tick: expected an alist ((key value) ...) or a map, got (5)" },
    { "(bt.tick i '((\"\" 1)))",
      'bt.tick: input keys must be non-empty symbols or strings without NUL bytes, got (("" 1))' },
    { "(bt.tick i (list (list nulkey 1)))",
      'bt.tick: input keys must be non-empty symbols or strings without NUL bytes, got (("a...' },
    { "(bt.tick i (map.make 1 2))",
      "bt.tick: input keys must be non-empty symbols or strings without NUL bytes, got <map:1>" },
    { '(bt.reset "x")', 'bt.reset: expected a bt_instance, got "x"' },
    { "(bt.halt nil)", "bt.halt: expected a bt_instance, got nil" },
    { "(bt.status->symbol 7)",
      'bt.status->symbol: expected a status (1..3, "success", "failure", "running"), got 7' },
    { '(bt.status->symbol "nope")',
      'bt.status->symbol: expected a status (1..3, "success", "failure", "running"), got "nope"' },
    { "(bt.register-condition 5 car)", "bt.register-condition: expected a symbol or string, got 5" },
    { '(bt.register-condition "" car)', 'bt.register-condition: expected a non-empty name, got ""' },
    { "(bt.register-condition nulkey car)",
      'bt.register-condition: expected a name without NUL bytes, got "a...' },
    { "(bt.register-action 'x 5)", "bt.register-action: expected a procedure, got 5" },
    { "(bt.register-action 'x car 5)", "bt.register-action: expected a procedure, got 5" },
    { "(bt.register-action nulkey car)", 'bt.register-action: expected a name without NUL bytes, got "a...' },
    { "(bt.bb-get i 5)", "bt.bb-get: expected a symbol or string, got 5" },
    { '(bt.bb-get i "")', 'bt.bb-get: expected a non-empty key, got ""' },
    { "(bt.bb-get i nulkey)", 'bt.bb-get: expected a key without NUL bytes, got "a...' },
    { '(bt.bb-get 5 "k")', "bt.bb-get: expected a bt_instance, got 5" },
    { '(bt.bb-put i "" 1)', 'bt.bb-put: expected a non-empty key, got ""' },
    { "(bt.bb-put i nulkey 1)", 'bt.bb-put: expected a key without NUL bytes, got "a...' },
    { "(bt.bb-put i 5 1)", "bt.bb-put: expected a symbol or string, got 5" },
    { "(bt.blackboard.dump 5)", "bt.blackboard.dump: expected a bt_instance, got 5" },
    { '(bt.set-tick-budget-ms i "x")',
      'bt.set-tick-budget-ms: MS must be an integer in [0, 86400000], got "x"' },
    { "(bt.set-tick-budget-ms i -5)",
      "bt.set-tick-budget-ms: MS must be an integer in [0, 86400000], got -5" },
    { "(bt.set-tick-budget-ms i nan)",
      "bt.set-tick-budget-ms: MS must be an integer in [0, 86400000], got nan" },
    { "(bt.set-tick-budget-ms i inf)",
      "bt.set-tick-budget-ms: MS must be an integer in [0, 86400000], got inf" },
    { "(bt.set-tick-budget-ms i 1.5)",
      "bt.set-tick-budget-ms: MS must be an integer in [0, 86400000], got 1.5" },
    { "(bt.set-profile-level i 'fast)", "bt.set-profile-level: expected 'counters, 'timing or 'sampled, got fast" },
    { "(bt.set-profile-level i 5)", "bt.set-profile-level: expected 'counters, 'timing or 'sampled, got 5" },
    { "(bt.set-trace-enabled i 5)", "bt.set-trace-enabled: expected a boolean, got 5" },
    { '(bt.set-read-trace-enabled i "x")', 'bt.set-read-trace-enabled: expected a boolean, got "x"' },
    { "(bt.clear-trace 5)", "bt.clear-trace: expected a bt_instance, got 5" },
    { "(bt.stats 5)", "bt.stats: expected a bt_instance, got 5" },
    { "(bt.histogram 5)", "bt.histogram: expected a bt_instance, got 5" },
    { "(bt.histogram i 'x)", "bt.histogram: NODE must be an integer in [0, 1], got x" },
    { "(bt.series.enable i 'x)", "bt.series.enable: CAPACITY must be an integer in [0, 16777216], got x" },
    { "(bt.series.enable 5 #t)", "bt.series.enable: expected a bt_instance, got 5" },
    { "(bt.series.dump 5)", "bt.series.dump: expected a bt_instance, got 5" },
    { "(bt.series.write i 5)", "bt.series.write: expected a string, got 5" },
    { '(bt.series.write i "")', 'bt.series.write: expected a non-empty path, got ""' },
    { "(bt.series.write i nulkey)", 'bt.series.write: expected a path without NUL bytes, got "a...' },
    { "(bt.trace.dump 5)", "bt.trace.dump: expected a bt_instance, got 5" },
    { "(bt.trace.dump i -1)", "bt.trace.dump: N must be an integer >= 0, got -1" },
    { "(bt.trace.snapshot i -1)", "bt.trace.snapshot: N must be an integer >= 0, got -1" },
    { '(bt.trace.snapshot i "x")', 'bt.trace.snapshot: N must be an integer >= 0, got "x"' },
    { "(bt.trace.snapshot i nan)", "bt.trace.snapshot: N must be an integer >= 0, got nan" },
    { "(bt.trace.chrome 5)", "bt.trace.chrome: expected a bt_instance, got 5" },
    { "(bt.logs.dump -1)", "bt.logs.dump: N must be an integer >= 0, got -1" },
    { '(bt.logs.dump "x")', 'bt.logs.dump: N must be an integer >= 0, got "x"' },
    { "(bt.logs.snapshot -1)", "bt.logs.snapshot: N must be an integer >= 0, got -1" },
    { "(bt.logs.snapshot inf)", "bt.logs.snapshot: N must be an integer >= 0, got inf" },
    { '(bt.log.dump "x")', 'bt.log.dump: N must be an integer >= 0, got "x"' },
    { "(bt.log.snapshot -1)", "bt.log.snapshot: N must be an integer >= 0, got -1" },
    { "(bt.to-dsl 5)", "bt.to-dsl: expected a bt_def, got 5" },
    { '(bt.save-dsl 5 "/tmp/x")', "bt.save-dsl: expected a bt_def, got 5" },
    { "(bt.load-dsl 5)", "bt.load-dsl: expected a string, got 5" },
    { '(bt.load-dsl "")', 'bt.load-dsl: expected a non-empty path, got ""' },
    { "(bt.load-dsl nulkey)", 'bt.load-dsl: expected a path without NUL bytes, got "a...' },
    { '(bt.load-dsl "/nonexistent/x")', "bt.load-dsl: cannot open '/nonexistent/x': No such file or directory" },
    { "(metrics.prometheus 5)", "metrics.prometheus: expected a bt_instance, got 5" },
  },
  planner = {
    { "(planner.mcts 5)", "planner.mcts: expected a request map, got 5" },
    { "(planner.mcts (map.make))", "planner.mcts: state: toy-1d expects 1 value, got 0" },
    { '(planner.set-base-seed "x")', 'planner.set-base-seed: expected an integer, got "x"' },
    { "(planner.set-log-path 5)", "planner.set-log-path: expected a string, got 5" },
    { '(planner.set-log-path "")', 'planner.set-log-path: expected a non-empty path, got ""' },
    { "(planner.set-log-path nulkey)", 'planner.set-log-path: expected a path without NUL bytes, got "a...' },
    { "(planner.set-log-enabled 5)", "planner.set-log-enabled: expected a boolean, got 5" },
    { "(planner.logs.dump -1)", "planner.logs.dump: N must be an integer >= 0, got -1" },
    { '(planner.logs.snapshot "x")', 'planner.logs.snapshot: N must be an integer >= 0, got "x"' },
  },
  reader = {
    -- reader errors carry the reader's own chunk name
    { '(read "(")', "read:1:1: unterminated list", raw = true },
    { '(bt.compile "(")', "bt.compile:1:1: unterminated list", raw = true },
    { "\0", "eval:1:1: unexpected NUL byte (allowed only in strings)", raw = true },
    { "(list a\0b)", "eval:1:8: unexpected NUL byte (allowed only in strings)", raw = true },
    { "(+ 1", "eval:1:1: unterminated list", raw = true },
  },
}

---------------------------------------------------------------------------
-- Arity: every builtin, one call below its minimum and one above its
-- maximum (-1: any number).  name, min, max as in the builtin table.
---------------------------------------------------------------------------

local arities = {
  { "bt.compile", 1, 1 }, { "bt.new-instance", 1, 1 }, { "bt.tick", 1, 2 }, { "bt.reset", 1, 1 },
  { "bt.halt", 1, 1 }, { "bt.status->symbol", 1, 1 }, { "bt.register-condition", 2, 2 },
  { "bt.register-action", 2, 3 }, { "bt.bb-get", 2, 2 }, { "bt.bb-put", 3, 3 },
  { "bt.blackboard.dump", 1, 1 }, { "bt.set-tick-budget-ms", 2, 2 }, { "bt.set-profile-level", 2, 3 },
  { "bt.set-trace-enabled", 2, 2 }, { "bt.set-read-trace-enabled", 2, 2 }, { "bt.clear-trace", 1, 1 },
  { "bt.clear-logs", 0, 0 }, { "bt.stats", 1, 1 }, { "bt.histogram", 1, 2 }, { "bt.series.enable", 2, 2 },
  { "bt.series.dump", 1, 2 }, { "bt.series.write", 2, 4 }, { "bt.trace.dump", 1, 2 },
  { "bt.trace.snapshot", 1, 2 }, { "bt.trace.chrome", 1, 1 }, { "bt.logs.dump", 0, 1 },
  { "bt.logs.snapshot", 0, 1 }, { "bt.log.dump", 0, 1 }, { "bt.log.snapshot", 0, 1 }, { "bt.to-dsl", 1, 1 },
  { "bt.save-dsl", 2, 2 }, { "bt.load-dsl", 1, 1 }, { "vec.make", 0, 2 }, { "vec.len", 1, 1 },
  { "vec.get", 2, 2 }, { "vec.set!", 3, 3 }, { "vec.push!", 2, 2 }, { "vec.pop!", 1, 1 },
  { "vec.clear!", 1, 1 }, { "vec.reserve!", 2, 2 }, { "map.make", 0, -1 }, { "map.get", 2, 3 },
  { "map.has?", 2, 2 }, { "map.set!", 3, 3 }, { "map.del!", 2, 2 }, { "map.keys", 1, 1 },
  { "map.count", 1, 1 }, { "cons", 2, 2 }, { "car", 1, 1 }, { "cdr", 1, 1 }, { "list", 0, -1 },
  { "length", 1, 1 }, { "append", 0, -1 }, { "reverse", 1, 1 }, { "apply", 2, -1 }, { "map", 2, 2 },
  { "for-each", 2, 2 }, { "null?", 1, 1 }, { "pair?", 1, 1 }, { "list?", 1, 1 }, { "eq?", 2, 2 },
  { "equal?", 2, 2 }, { "not", 1, 1 }, { "procedure?", 1, 1 }, { "+", 0, -1 }, { "-", 1, -1 },
  { "*", 0, -1 }, { "/", 1, -1 }, { "=", 2, -1 }, { "<", 2, -1 }, { ">", 2, -1 }, { "<=", 2, -1 },
  { ">=", 2, -1 }, { "abs", 1, 1 }, { "sqrt", 1, 1 }, { "log", 1, 1 }, { "exp", 1, 1 }, { "clamp", 3, 3 },
  { "min", 1, -1 }, { "max", 1, -1 }, { "floor", 1, 1 }, { "round", 1, 1 }, { "mod", 2, 2 },
  { "number?", 1, 1 }, { "int?", 1, 1 }, { "integer?", 1, 1 }, { "float?", 1, 1 }, { "zero?", 1, 1 },
  { "string?", 1, 1 }, { "symbol?", 1, 1 }, { "string-append", 0, -1 }, { "string-length", 1, 1 },
  { "number->string", 1, 1 }, { "symbol->string", 1, 1 }, { "string->symbol", 1, 1 },
  { "rng.make", 1, 1 }, { "rng.uniform", 1, 3 }, { "rng.normal", 1, 3 }, { "rng.int", 2, 3 },
  { "time.now-ms", 0, 0 }, { "time.now-ns", 0, 0 }, { "time.thread-cpu-ns", 0, 0 },
  { "hash64", 1, 1 }, { "error", 1, -1 },
  { "print", 0, -1 }, { "write", 1, 1 }, { "write-to-string", 1, 1 }, { "save", 2, 2 }, { "read", 1, 1 },
  { "read-file", 1, 1 }, { "%load", 1, 1 }, { "heap-stats", 0, 0 }, { "gc-stats", 0, 0 },
  { "metrics.prometheus", 0, -1 }, { "planner.mcts", 1, 1 }, { "planner.set-base-seed", 1, 1 },
  { "planner.get-base-seed", 0, 0 }, { "planner.set-log-path", 1, 1 }, { "planner.set-log-enabled", 1, 1 },
  { "planner.logs.dump", 0, 1 }, { "planner.logs.snapshot", 0, 1 }, { "planner.clear-logs", 0, 0 },
  { "bt.scheduler.stats", 0, 0 }, { "bt.export-dot", 1, 3 }, { "atan2", 2, 2 }, { "time.sleep-ms", 1, 1 },
  { "pq.make", 0, 1 }, { "pq.push!", 3, 3 }, { "pq.pop!", 1, 1 }, { "pq.peek", 1, 1 }, { "pq.len", 1, 1 },
  { "pq.empty?", 1, 1 }, { "json.encode", 1, 1 }, { "json.decode", 1, 1 }, { "gc.policy", 0, 0 },
  { "gc.set-policy!", 1, 1 }, { "bt.save", 2, 2 }, { "bt.load", 1, 1 }, { "bt.blackboard.get", 2, 3 },
  { "bt.install-demo-callbacks", 0, 0 }, { "bt.set-preempt-enabled", 1, 1 },
}

local function aritymsg(name, min, max, got)
  if min == max then
    return ("%s: expected %d argument%s, got %d"):format(name, min, min == 1 and "" or "s", got)
  elseif max < 0 then
    return ("%s: expected at least %d argument%s, got %d"):format(name, min, min == 1 and "" or "s", got)
  end
  return ("%s: expected %d to %d arguments, got %d"):format(name, min, max, got)
end

-- The Lua mirror of builtin 'name' on host 'h', or nil if it has none.
local function mirror(h, name)
  if name:find("[?!>]") then
    return nil
  end
  local f = h
  for part in name:gsub("%-", "_"):gmatch("[^.]+") do
    local ok, v = pcall(function() return f[part] end)
    if not ok or v == nil then
      return nil
    end
    f = v
  end
  return type(f) == "function" and f or nil
end

---------------------------------------------------------------------------
-- Lua functions: { name, function(env) returning f, { { args, message } } }.
-- 'args' is a table.pack or a function(env) returning one.
---------------------------------------------------------------------------

local function H(e) return e.h end

local lua_cases = {
  { "lispbt.new", function() return lispbt.new end, {
    { A(5), "new: bad argument #1 (table expected, got number)" },
    { A("opts"), "new: bad argument #1 (table expected, got string)" },
    { A(true), "new: bad argument #1 (table expected, got boolean)" },
    { A({ foo = 1 }), "new: bad argument #1 (unknown option 'foo')" },
    { A({ [1] = 2 }), "new: bad argument #1 (unknown option '1')" },
    { A({ [true] = 1 }), "new: bad argument #1 (unknown option 'true')" },
    { A({ preempt = 1 }), "new: bad argument #1 (option 'preempt' must be a boolean)" },
    { A({ preempt = "yes" }), "new: bad argument #1 (option 'preempt' must be a boolean)" },
    { A({ workers = -1 }), "new: bad argument #1 (option 'workers' must be an integer >= 0)" },
    { A({ workers = 0 / 0 }), "new: bad argument #1 (option 'workers' must be an integer >= 0)" },
    { A({ workers = 1 / 0 }), "new: bad argument #1 (option 'workers' must be an integer >= 0)" },
    { A({ workers = 1.5 }), "new: bad argument #1 (option 'workers' must be an integer >= 0)" },
    { A({ workers = "2" }), "new: bad argument #1 (option 'workers' must be an integer >= 0)" },
    { A({ workers = 257 }), "new: bad argument #1 (option 'workers' must be at most 256)" },
    { A({ workers = 2 ^ 40 }), "new: bad argument #1 (option 'workers' must be at most 1000000000)" },
    { A({ trace_capacity = 0 }), "new: bad argument #1 (option 'trace_capacity' must be an integer >= 1)" },
    { A({ trace_capacity = math.maxinteger }),
      "new: bad argument #1 (option 'trace_capacity' must be at most 1000000000)" },
    { A({ log_capacity = -5 }), "new: bad argument #1 (option 'log_capacity' must be an integer >= 1)" },
    { A({ planner_capacity = 0 / 0 }),
      "new: bad argument #1 (option 'planner_capacity' must be an integer >= 1)" },
    { A({ max_depth = "deep" }), "new: bad argument #1 (option 'max_depth' must be an integer >= 1)" },
    { A({ max_depth = math.mininteger }), "new: bad argument #1 (option 'max_depth' must be an integer >= 1)" },
    { A({ heap_limit = -1 }), "new: bad argument #1 (option 'heap_limit' must be an integer >= 0)" },
    { A({ heap_limit = 0 / 0 }), "new: bad argument #1 (option 'heap_limit' must be an integer >= 0)" },
    { A({ heap_limit = 1 / 0 }), "new: bad argument #1 (option 'heap_limit' must be an integer >= 0)" },
    { A({ gc_stress = 1 }), "new: bad argument #1 (option 'gc_stress' must be a boolean or \"incremental\")" },
    { A({ gc_stress = "yes" }), "new: bad argument #1 (option 'gc_stress' must be a boolean or \"incremental\")" },
  } },
  { "lispbt.symbol", function() return lispbt.symbol end, {
    { A(), "symbol: bad argument #1 (string expected, got no value)" },
    { A(nil), "symbol: bad argument #1 (string expected, got nil)" },
    { A({}), "symbol: bad argument #1 (string expected, got table)" },
    { A(true), "symbol: bad argument #1 (string expected, got boolean)" },
    { A(""), "symbol: bad argument #1 (name must not be empty)" },
    { A("a\0b"), "symbol: bad argument #1 (name contains a NUL byte)" },
    { A("\0"), "symbol: bad argument #1 (name contains a NUL byte)" },
  } },
  { "lispbt.sleep_ms", function() return lispbt.sleep_ms end, {
    { A(), "sleep_ms: bad argument #1 (number expected, got no value)" },
    { A("x"), "sleep_ms: bad argument #1 (number expected, got string)" },
    { A(-1), "sleep_ms: bad argument #1 (milliseconds must be in 0..86400000)" },
    { A(0 / 0), "sleep_ms: bad argument #1 (milliseconds must be in 0..86400000)" },
    { A(1 / 0), "sleep_ms: bad argument #1 (milliseconds must be in 0..86400000)" },
    { A(1e12), "sleep_ms: bad argument #1 (milliseconds must be in 0..86400000)" },
  } },
  { "host:eval", function(e) return e.h.eval end, {
    { function(e) return A(e.h, nil) end, "eval: bad argument #1 (string expected, got nil)" },
    { function(e) return A(e.h, {}) end, "eval: bad argument #1 (string expected, got table)" },
    { function(e) return A(e.h) end, "eval: bad argument #1 (string expected, got no value)" },
    { function(e) return A(e.h, "1", {}) end, "eval: bad argument #2 (string expected, got table)" },
    { function(e) return A(e.h, "1", "") end, "eval: bad argument #2 (chunk name must not be empty)" },
    { function(e) return A(e.h, "1", "a\0b") end, "eval: bad argument #2 (chunk name contains a NUL byte)" },
    { A(nil, "1"), "eval: bad self (lispbt.host expected, got nil)" },
    { A(5, "1"), "eval: bad self (lispbt.host expected, got number)" },
    { function(e) return A(e.inst, "1") end, "eval: bad self (lispbt.host expected, got lispbt.instance)" },
    { function(e) return A(e.h, "(car 1)") end, "eval:1:1: car: expected a cons, got 1" },
    { function(e) return A(e.h, "\n  (car 1)", "robot.lisp") end, "robot.lisp:2:3: car: expected a cons, got 1" },
  } },
  { "host:load", function(e) return e.h.load end, {
    { function(e) return A(e.h) end, "load: bad argument #1 (string expected, got no value)" },
    { function(e) return A(e.h, {}) end, "load: bad argument #1 (string expected, got table)" },
    { function(e) return A(e.h, "") end, "load: bad argument #1 (path must not be empty)" },
    { function(e) return A(e.h, "/dev/null\0x") end, "load: bad argument #1 (path contains a NUL byte)" },
    { function(e) return A(e.h, "/nonexistent/x.lisp") end, "load: cannot open '/nonexistent/x.lisp'" },
    { A(true, "/dev/null"), "load: bad self (lispbt.host expected, got boolean)" },
  } },
  { "host:call", function(e) return e.h.call end, {
    { function(e) return A(e.h) end, "call: bad argument #1 (string expected, got no value)" },
    { function(e) return A(e.h, nil) end, "call: bad argument #1 (string expected, got nil)" },
    { function(e) return A(e.h, "") end, "call: bad argument #1 (name must not be empty)" },
    { function(e) return A(e.h, "car\0x", { 1 }) end, "call: bad argument #1 (name contains a NUL byte)" },
    { function(e) return A(e.h, "no-such-proc") end, "call: unbound symbol: no-such-proc" },
    { function(e) return A(e.h, "car", 3) end, "car: expected a cons, got 3" },
    { function(e) return A(e.h, "+", 1, "a") end, '+: expected a number, got "a"' },
    { function(e) return A(e.h, "length", e.cyclic) end,
      "call: table is cyclic or nested deeper than 100 levels" },
    { function(e) return A(e.h, "length", e.deep) end,
      "call: table is cyclic or nested deeper than 100 levels" },
    { function(e) return A(e.h, "list", e.thread) end, "call: cannot convert a thread to a Lisp value" },
    { function(e) return A(e.h, "list", io.stdout) end, "call: cannot convert a userdata to a Lisp value" },
    { function(e) return A(e.h, "car", e.otherval) end, "call: a Lisp value of another host cannot be used here" },
    { function(e) return A(e.h, "bt.stats", e.otherinst) end,
      "call: a Lisp value of another host cannot be used here" },
    { A({}, "car"), "call: bad self (lispbt.host expected, got table)" },
  } },
  { "host:get", function(e) return e.h.get end, {
    { function(e) return A(e.h) end, "get: bad argument #1 (string expected, got no value)" },
    { function(e) return A(e.h, {}) end, "get: bad argument #1 (string expected, got table)" },
    { function(e) return A(e.h, true) end, "get: bad argument #1 (string expected, got boolean)" },
    { function(e) return A(e.h, "") end, "get: bad argument #1 (name must not be empty)" },
    { function(e) return A(e.h, "a\0b") end, "get: bad argument #1 (name contains a NUL byte)" },
    { A(nil, "x"), "get: bad self (lispbt.host expected, got nil)" },
  } },
  { "host:set", function(e) return e.h.set end, {
    { function(e) return A(e.h) end, "set: bad argument #1 (string expected, got no value)" },
    { function(e) return A(e.h, {}, 1) end, "set: bad argument #1 (string expected, got table)" },
    { function(e) return A(e.h, "", 1) end, "set: bad argument #1 (name must not be empty)" },
    { function(e) return A(e.h, "a\0b", 1) end, "set: bad argument #1 (name contains a NUL byte)" },
    { function(e) return A(e.h, "x", e.cyclic) end, "set: table is cyclic or nested deeper than 100 levels" },
    { function(e) return A(e.h, "x", e.deep) end, "set: table is cyclic or nested deeper than 100 levels" },
    { function(e) return A(e.h, "x", e.thread) end, "set: cannot convert a thread to a Lisp value" },
    { function(e) return A(e.h, "x", io.stdout) end, "set: cannot convert a userdata to a Lisp value" },
    { function(e) return A(e.h, "x", e.otherval) end, "set: a Lisp value of another host cannot be used here" },
    { function(e) return A(e.h, "x", { e.otherinst }) end,
      "set: a Lisp value of another host cannot be used here" },
    { A(5, "x", 1), "set: bad self (lispbt.host expected, got number)" },
  } },
  { "host:register_builtin", function(e) return e.h.register_builtin end, {
    { function(e) return A(e.h, "f", 1) end, "register_builtin: bad argument #2 (function expected, got number)" },
    { function(e) return A(e.h, "f") end, "register_builtin: bad argument #2 (function expected, got no value)" },
    { function(e) return A(e.h, "", print) end, "register_builtin: bad argument #1 (name must not be empty)" },
    { function(e) return A(e.h, "a\0b", print) end, "register_builtin: bad argument #1 (name contains a NUL byte)" },
    { function(e) return A(e.h, nil, print) end, "register_builtin: bad argument #1 (string expected, got nil)" },
    { A(nil, "f", print), "register_builtin: bad self (lispbt.host expected, got nil)" },
  } },
  { "host:heap", function(e) return e.h.heap end, {
    { A(nil), "heap: bad self (lispbt.host expected, got nil)" },
    { A("h"), "heap: bad self (lispbt.host expected, got string)" },
  } },
  { "host:gc", function(e) return e.h.gc end, {
    { A({}), "gc: bad self (lispbt.host expected, got table)" },
  } },
  { "host:close", function(e) return e.h.close end, {
    { A(1), "close: bad self (lispbt.host expected, got number)" },
    { function(e) return A(e.inst) end, "close: bad self (lispbt.host expected, got lispbt.instance)" },
  } },
  { "host:compile", function(e) return e.h.compile end, {
    { function(e) return A(e.h) end, "compile: bad argument #1 (string expected, got no value)" },
    { function(e) return A(e.h, {}) end, "compile: bad argument #1 (string expected, got table)" },
    { function(e) return A(e.h, "") end, "compile: expected exactly one DSL form, got 0" },
    { function(e) return A(e.h, "(succeed) (succeed)") end, "compile: expected exactly one DSL form, got 2" },
    { function(e) return A(e.h, "(") end, "compile:1:1: unterminated list" },
    { function(e) return A(e.h, "(nope)") end, "bt.compile: unknown node kind, got nope" },
    { function(e) return A(e.h, "(seq\0)") end, "compile:1:5: unexpected NUL byte (allowed only in strings)" },
    { A(nil, "(succeed)"), "compile: bad self (lispbt.host expected, got nil)" },
  } },
  { "host:register_condition", function(e) return e.h.register_condition end, {
    { function(e) return A(e.h, true, e.fn) end, "register_condition: bad argument #1 (string expected, got boolean)" },
    { function(e) return A(e.h, "", e.fn) end, "register_condition: bad argument #1 (name must not be empty)" },
    { function(e) return A(e.h, "a\0b", e.fn) end, "register_condition: bad argument #1 (name contains a NUL byte)" },
    { function(e) return A(e.h, "x") end, "register_condition: bad argument #2 (function expected, got no value)" },
    { function(e) return A(e.h, "x", "f") end, "register_condition: bad argument #2 (function expected, got string)" },
    { A(5, "x", print), "register_condition: bad self (lispbt.host expected, got number)" },
  } },
  { "host:register_action", function(e) return e.h.register_action end, {
    { function(e) return A(e.h, true, e.fn) end, "register_action: bad argument #1 (string expected, got boolean)" },
    { function(e) return A(e.h, "", e.fn) end, "register_action: bad argument #1 (name must not be empty)" },
    { function(e) return A(e.h, "a\0b", e.fn) end, "register_action: bad argument #1 (name contains a NUL byte)" },
    { function(e) return A(e.h, "x", 5) end, "register_action: bad argument #2 (function expected, got number)" },
    { function(e) return A(e.h, "x", e.fn, "h") end, "register_action: bad argument #3 (function expected, got string)" },
    { A(nil, "x", print), "register_action: bad self (lispbt.host expected, got nil)" },
  } },
  { "host:scheduler_stats", function(e) return e.h.scheduler_stats end, {
    { A(5), "scheduler_stats: bad self (lispbt.host expected, got number)" },
  } },
  { "host:logs", function(e) return e.h.logs end, {
    { function(e) return A(e.h, -1) end, "bt.logs.snapshot: N must be an integer >= 0, got -1" },
    { function(e) return A(e.h, "x") end, 'bt.logs.snapshot: N must be an integer >= 0, got "x"' },
    { function(e) return A(e.h, 0 / 0) end, "bt.logs.snapshot: N must be an integer >= 0, got nan" },
    { function(e) return A(e.h, 1 / 0) end, "bt.logs.snapshot: N must be an integer >= 0, got inf" },
    { function(e) return A(e.h, 1.5) end, "bt.logs.snapshot: N must be an integer >= 0, got 1.5" },
    { function(e) return A(e.h, 1, 2) end, "bt.logs.snapshot: expected 0 to 1 arguments, got 2" },
    { A(5), "bt.logs.snapshot: bad self (lispbt.host expected, got number)" },
  } },
  { "host:planner_records", function(e) return e.h.planner_records end, {
    { function(e) return A(e.h, -1) end, "planner.logs.snapshot: N must be an integer >= 0, got -1" },
    { function(e) return A(e.h, "x") end, 'planner.logs.snapshot: N must be an integer >= 0, got "x"' },
  } },
  { "host:heap_stats (a mirror called with ':')", function(e) return e.h.heap_stats end, {
    { function(e) return A(e.h) end,
      "heap-stats: called with ':' on a host; call it as a function, e.g. host.bt.stats(inst)" },
    { A(1), "heap-stats: expected 0 arguments, got 1" },
  } },
  { "tree:instance", function(e) return e.tree.instance end, {
    { A(5), "instance: bad self (lispbt.tree expected, got number)" },
    { A(nil), "instance: bad self (lispbt.tree expected, got nil)" },
    { function(e) return A(e.inst) end, "instance: bad self (lispbt.tree expected, got lispbt.instance)" },
  } },
  { "tree:to_dsl", function(e) return e.tree.to_dsl end, {
    { A(5), "bt.to-dsl: expected a bt_def, got 5" },
    { function(e) return A(e.tree, 1) end, "bt.to-dsl: expected 1 argument, got 2" },
  } },
  { "tree:group", function(e) return e.tree.group end, {
    { A(5, {}), "group: bad self (lispbt.tree expected, got number)" },
    { function(e) return A(e.inst, {}) end, "group: bad self (lispbt.tree expected, got lispbt.instance)" },
    { function(e) return A(e.tree) end, "group: bad argument #1 (table expected, got no value)" },
    { function(e) return A(e.tree, e.group) end, "group: bad argument #1 (table expected, got lispbt.group)" },
    { function(e) return A(e.tree, { e.inst, 5 }) end, "group: bad argument #1 (instances[2] is not an instance)" },
    { function(e) return A(e.tree, { e.tree }) end, "group: bad argument #1 (instances[1] is not an instance)" },
    { function(e) return A(e.tree, { e.otherinst }) end,
      "group: bad argument #1 (instances[1] is an instance of another host)" },
    { function(e) return A(e.tree, { e.h:compile("(succeed)"):instance() }) end,
      "group: bad argument #1 (instances[1] is an instance of another tree)" },
  } },
  { "tree:tick_all (group)", function(e) return e.tree.tick_all end, {
    { function(e) return A(e.tree, e.group, 5) end, "tick_all: bad argument #2 (table expected, got number)" },
    { function(e) return A(e.tree, e.group, {}) end,
      "tick_all: bad argument #2 (inputs has 0 entries, the group 1)" },
    { function(e) return A(e.tree, e.group, { "x" }) end,
      "tick_all: bad argument #2 (inputs[1] is a string, expected a table or false)" },
    { function(e) return A(e.h:compile("(succeed)"), e.group) end, "tick_all: bad argument #1 (a group of another tree)" },
    { function(e) return A(e.group, e.group) end, "tick_all: bad self (lispbt.tree expected, got lispbt.group)" },
  } },
  { "group:tick", function(e) return e.group.tick end, {
    { function(e) return A(e.group, 5) end, "tick: bad argument #1 (table expected, got number)" },
    { function(e) return A(e.group, { {}, {} }) end, "tick: bad argument #1 (inputs has 2 entries, the group 1)" },
    { function(e) return A(e.group, { true }) end,
      "tick: bad argument #1 (inputs[1] is a boolean, expected a table or false)" },
    { A(nil), "tick: bad self (lispbt.group expected, got nil)" },
    { function(e) return A(e.inst) end, "tick: bad self (lispbt.group expected, got lispbt.instance)" },
  } },
  { "group:tick_counts", function(e) return e.group.tick_counts end, {
    { function(e) return A(e.group, "x") end, "tick_counts: bad argument #1 (table expected, got string)" },
    { function(e) return A(e.tree) end, "tick_counts: bad self (lispbt.group expected, got lispbt.tree)" },
  } },
  { "group:counts", function(e) return e.group.counts end, {
    { A(5), "counts: bad self (lispbt.group expected, got number)" },
  } },
  { "group:instances", function(e) return e.group.instances end, {
    { A({}), "instances: bad self (lispbt.group expected, got table)" },
  } },
  { "inst:tick", function(e) return e.inst.tick end, {
    { function(e) return A(e.inst, 5) end, "tick: bad argument #1 (table expected, got number)" },
    { function(e) return A(e.inst, "k") end, "tick: bad argument #1 (table expected, got string)" },
    { function(e) return A(e.inst, { [""] = 1 }) end, "tick: bad argument #1 (blackboard key must not be empty)" },
    { function(e) return A(e.inst, { ["a\0b"] = 1 }) end,
      "tick: bad argument #1 (blackboard key contains a NUL byte)" },
    { function(e) return A(e.inst, { [1.5] = 1 }) end,
      "tick: bad argument #1 (blackboard keys must be strings or symbols, got a number key)" },
    { function(e) return A(e.inst, { [true] = 1 }) end,
      "tick: bad argument #1 (blackboard keys must be strings or symbols, got a boolean key)" },
    { function(e) return A(e.inst, { k = e.cyclic }) end, "tick: table is cyclic or nested deeper than 100 levels" },
    { function(e) return A(e.inst, { k = e.thread }) end, "tick: cannot convert a thread to a Lisp value" },
    { function(e) return A(e.inst, { k = e.otherval }) end, "tick: a Lisp value of another host cannot be used here" },
    { A(5), "tick: bad self (lispbt.instance expected, got number)" },
    { A(nil), "tick: bad self (lispbt.instance expected, got nil)" },
    { function(e) return A(e.tree) end, "tick: bad self (lispbt.instance expected, got lispbt.tree)" },
  } },
  { "inst:get", function(e) return e.inst.get end, {
    { function(e) return A(e.inst) end, "get: bad argument #1 (string or symbol expected, got no value)" },
    { function(e) return A(e.inst, {}) end, "get: bad argument #1 (string or symbol expected, got table)" },
    { function(e) return A(e.inst, 5) end, "get: bad argument #1 (string or symbol expected, got number)" },
    { function(e) return A(e.inst, "") end, "get: bad argument #1 (blackboard key must not be empty)" },
    { function(e) return A(e.inst, "a\0b") end, "get: bad argument #1 (blackboard key contains a NUL byte)" },
    { A(nil, "k"), "get: bad self (lispbt.instance expected, got nil)" },
    { function(e) return A(e.h, "k") end, "get: bad self (lispbt.instance expected, got lispbt.host)" },
  } },
  { "inst:put", function(e) return e.inst.put end, {
    { function(e) return A(e.inst, true, 1) end, "put: bad argument #1 (string or symbol expected, got boolean)" },
    { function(e) return A(e.inst, "", 1) end, "put: bad argument #1 (blackboard key must not be empty)" },
    { function(e) return A(e.inst, "a\0b", 1) end, "put: bad argument #1 (blackboard key contains a NUL byte)" },
    { function(e) return A(e.inst, "k", e.cyclic) end, "put: table is cyclic or nested deeper than 100 levels" },
    { function(e) return A(e.inst, "k", e.deep) end, "put: table is cyclic or nested deeper than 100 levels" },
    { function(e) return A(e.inst, "k", e.thread) end, "put: cannot convert a thread to a Lisp value" },
    { function(e) return A(e.inst, "k", e.otherval) end, "put: a Lisp value of another host cannot be used here" },
    { A(5, "k", 1), "put: bad self (lispbt.instance expected, got number)" },
  } },
  { "inst:blackboard", function(e) return e.inst.blackboard end, {
    { A(5), "blackboard: bad self (lispbt.instance expected, got number)" },
  } },
  { "inst:stats", function(e) return e.inst.stats end, {
    { A("x"), "stats: bad self (lispbt.instance expected, got string)" },
  } },
  { "inst:trace", function(e) return e.inst.trace end, {
    { function(e) return A(e.inst, -1) end, "bt.trace.snapshot: N must be an integer >= 0, got -1" },
    { function(e) return A(e.inst, "x") end, 'bt.trace.snapshot: N must be an integer >= 0, got "x"' },
    { function(e) return A(e.inst, 0 / 0) end, "bt.trace.snapshot: N must be an integer >= 0, got nan" },
    { A(nil), "bt.trace.snapshot: expected a bt_instance, got nil" },
  } },
  { "inst:reset", function(e) return e.inst.reset end, {
    { A(nil), "bt.reset: expected a bt_instance, got nil" },
    { function(e) return A(e.inst, 1) end, "bt.reset: expected 1 argument, got 2" },
  } },
  { "inst:halt", function(e) return e.inst.halt end, {
    { A(3), "bt.halt: expected a bt_instance, got 3" },
  } },
  { "inst:clear_trace", function(e) return e.inst.clear_trace end, {
    { A("i"), 'bt.clear-trace: expected a bt_instance, got "i"' },
  } },
  { "inst:set_tick_budget_ms", function(e) return e.inst.set_tick_budget_ms end, {
    { function(e) return A(e.inst) end, "bt.set-tick-budget-ms: expected 2 arguments, got 1" },
    { function(e) return A(e.inst, "x") end,
      'bt.set-tick-budget-ms: MS must be an integer in [0, 86400000], got "x"' },
    { function(e) return A(e.inst, -5) end,
      "bt.set-tick-budget-ms: MS must be an integer in [0, 86400000], got -5" },
    { function(e) return A(e.inst, 0 / 0) end,
      "bt.set-tick-budget-ms: MS must be an integer in [0, 86400000], got nan" },
    { function(e) return A(e.inst, 1 / 0) end,
      "bt.set-tick-budget-ms: MS must be an integer in [0, 86400000], got inf" },
    { function(e) return A(e.inst, math.maxinteger) end,
      "bt.set-tick-budget-ms: MS must be an integer in [0, 86400000], got 9223372036854775807" },
  } },
  { "inst:set_trace_enabled", function(e) return e.inst.set_trace_enabled end, {
    { function(e) return A(e.inst, 5) end, "bt.set-trace-enabled: expected a boolean, got 5" },
    { function(e) return A(e.inst) end, "bt.set-trace-enabled: expected 2 arguments, got 1" },
  } },
  { "inst:set_read_trace_enabled", function(e) return e.inst.set_read_trace_enabled end, {
    { function(e) return A(e.inst, "x") end, 'bt.set-read-trace-enabled: expected a boolean, got "x"' },
  } },
  { "inst:set_profile_level", function(e) return e.inst.set_profile_level end, {
    { function(e) return A(e.inst, "fast") end, "bt.set-profile-level: expected 'counters, 'timing or 'sampled, got \"fast\"" },
    { function(e) return A(e.inst, 5) end, "bt.set-profile-level: expected 'counters, 'timing or 'sampled, got 5" },
  } },
  { "module forms (default host)", function() return nil end, {
    { function() return A(lispbt.eval, nil) end, "eval: bad argument #1 (string expected, got nil)" },
    { function() return A(lispbt.set, "", 1) end, "set: bad argument #1 (name must not be empty)" },
    { function() return A(lispbt.get, "a\0b") end, "get: bad argument #1 (name contains a NUL byte)" },
    { function() return A(lispbt.call, "") end, "call: bad argument #1 (name must not be empty)" },
    { function() return A(lispbt.load, "a\0b") end, "load: bad argument #1 (path contains a NUL byte)" },
    { function() return A(lispbt.register_action, "x", 5) end,
      "register_action: bad argument #2 (function expected, got number)" },
    { function() return A(lispbt.register_condition, "", print) end,
      "register_condition: bad argument #1 (name must not be empty)" },
    { function() return A(lispbt.register_builtin, "a\0", print) end,
      "register_builtin: bad argument #1 (name contains a NUL byte)" },
    { function() return A(lispbt.compile, {}) end, "compile: bad argument #1 (string expected, got table)" },
    { function() return A(lispbt.logs, -1) end, "bt.logs.snapshot: N must be an integer >= 0, got -1" },
    { function() return A(lispbt.heap_stats, 1) end, "heap-stats: expected 0 arguments, got 1" },
  } },
  { "mirrored builtins", function() return nil end, {
    { function(e) return A(e.h.bt.bb_get, e.inst, "") end, 'bt.bb-get: expected a non-empty key, got ""' },
    { function(e) return A(e.h.bt.bb_put, e.inst, "", 1) end, 'bt.bb-put: expected a non-empty key, got ""' },
    { function(e) return A(e.h.bt.bb_put, e.inst, "a\0b", 1) end,
      'bt.bb-put: expected a key without NUL bytes, got "a...' },
    { function(e) return A(e.h.bt.bb_put, e.inst, "k", e.cyclic) end,
      "bt.bb-put: table is cyclic or nested deeper than 100 levels" },
    { function(e) return A(e.h.bt.tick, e.inst, 5) end,
      "bt.tick: expected an alist ((key value) ...) or a map, got 5" },
    { function(e) return A(e.h.bt.stats, 5) end, "bt.stats: expected a bt_instance, got 5" },
    { function(e) return A(e.h.bt.register_action, "a\0b", e.fn) end,
      'bt.register-action: expected a name without NUL bytes, got "a...' },
    { function(e) return A(e.h.planner.set_log_path, "a\0b") end,
      'planner.set-log-path: expected a path without NUL bytes, got "a...' },
    { function(e) return A(e.h.bt.compile, e.thread) end, "bt.compile: cannot convert a thread to a Lisp value" },
    { function(e) return A(e.h.bt.stats, e.h) end,
      "bt.stats: called with ':' on a host; call it as a function, e.g. host.bt.stats(inst)" },
  } },
}

---------------------------------------------------------------------------
-- Closed objects: every method of a closed host / instance / tree.
---------------------------------------------------------------------------

-- method -> the name its message uses, and arguments after self
local host_methods = {
  { "eval", "eval", A("1") }, { "load", "load", A("/dev/null") }, { "call", "call", A("car", { 1 }) },
  { "get", "get", A("x") }, { "set", "set", A("x", 1) }, { "register_builtin", "register_builtin", A("f", print) },
  { "heap", "heap", A() }, { "gc", "gc", A() }, { "compile", "compile", A("(succeed)") },
  { "register_condition", "register_condition", A("c", print) },
  { "register_action", "register_action", A("a", print) }, { "scheduler_stats", "scheduler_stats", A() },
  { "logs", "bt.logs.snapshot", A() }, { "planner_records", "planner.logs.snapshot", A() },
}
local inst_methods = {
  { "tick", "tick", A() }, { "ticker", "ticker", A() }, { "get", "get", A("k") }, { "put", "put", A("k", 1) },
  { "blackboard", "blackboard", A() }, { "stats", "stats", A() }, { "trace", "bt.trace.snapshot", A() },
  { "reset", "bt.reset", A() }, { "halt", "bt.halt", A() }, { "clear_trace", "bt.clear-trace", A() },
  { "set_tick_budget_ms", "bt.set-tick-budget-ms", A(5) },
  { "set_trace_enabled", "bt.set-trace-enabled", A(true) },
  { "set_read_trace_enabled", "bt.set-read-trace-enabled", A(true) },
  { "set_profile_level", "bt.set-profile-level", A("timing") },
}
local tree_methods = { { "instance", "instance", A() }, { "to_dsl", "bt.to-dsl", A() } }

---------------------------------------------------------------------------
-- Re-entrant calls from inside a leaf: { label, function(e, ctx, inst) }
-- run inside a Lua action on instance 'inst'; the error is caught there.
---------------------------------------------------------------------------

local reentrant = {
  { function(e, _, inst) return A(inst.tick, inst) end, "tick: the instance is already ticking" },
  { function(e, _, inst) return A(e.h.bt.tick, inst) end, "bt.tick: the instance is already ticking" },
  { function(e) return A(e.h.eval, e.h, "(bt.tick self)") end, "eval:1:1: bt.tick: the instance is already ticking" },
  { function(e) return A(e.h.close, e.h) end, "close: cannot close a host while it is running" },
  { function(_, ctx) return A(ctx.get, ctx, "") end, "get: bad argument #1 (blackboard key must not be empty)" },
  { function(_, ctx) return A(ctx.get, ctx, "a\0b") end, "get: bad argument #1 (blackboard key contains a NUL byte)" },
  { function(_, ctx) return A(ctx.get, ctx, {}) end, "get: bad argument #1 (string or symbol expected, got table)" },
  { function(_, ctx) return A(ctx.put, ctx, "", 1) end, "put: bad argument #1 (blackboard key must not be empty)" },
  { function(_, ctx) return A(ctx.put, ctx, "a\0b", 1) end, "put: bad argument #1 (blackboard key contains a NUL byte)" },
  { function(e, ctx) return A(ctx.put, ctx, "k", e.cyclic) end, "put: table is cyclic or nested deeper than 100 levels" },
  { function(_, ctx) return A(ctx.get, 5, "k") end, "get: bad self (lispbt.ctx expected, got number)" },
  { function(_, ctx) return A(function() return ctx[5] end) end, "ctx: field name must be a string, got number" },
}

---------------------------------------------------------------------------

describe("bad input catalogue", function()
  setup()
  local total = 0

  describe("Lisp builtins", function()
    for group, cases in pairs(lisp_cases) do
      for _, c in ipairs(cases) do
        total = total + 1
        local expected = c.raw and c[2] or "eval:1:1: " .. c[2]
        it(group .. ": " .. c[1]:gsub("%z", "\\0"), function()
          check(expected, errof(env.h.eval, env.h, c[1]), c[1])
          healthy()
        end)
      end
    end
  end)

  describe("arity", function()
    for _, a in ipairs(arities) do
      local name, min, max = a[1], a[2], a[3]
      local counts = {}
      if min > 0 then counts[#counts + 1] = min - 1 end
      if max >= 0 then counts[#counts + 1] = max + 1 end
      for _, n in ipairs(counts) do
        local msg = aritymsg(name, min, max, n)
        total = total + 1
        it("Lisp " .. msg, function()
          check("eval:1:1: " .. msg, errof(env.h.eval, env.h, "(" .. name .. (" nil"):rep(n) .. ")"))
          healthy()
        end)
        local f = mirror(env.h, name)
        if f then
          total = total + 1
          it("Lua mirror " .. msg, function()
            local args = {}
            for k = 1, n do args[k] = false end
            check(msg, errof(f, table.unpack(args, 1, n)))
            healthy()
          end)
        end
      end
    end
  end)

  describe("Lua functions", function()
    for _, group in ipairs(lua_cases) do
      for k, c in ipairs(group[3]) do
        total = total + 1
        it(("%s #%d: %s"):format(group[1], k, c[2]), function()
          local args = type(c[1]) == "function" and c[1](env) or c[1]
          local f = group[2](env)
          if f == nil then -- the args carry the function
            f = args[1]
            args = table.pack(table.unpack(args, 2, args.n))
          end
          check(c[2], errof(f, table.unpack(args, 1, args.n)))
          healthy()
        end)
      end
    end
  end)

  describe("closed objects", function()
    local closed = {}
    local function make()
      local h = lispbt.new { workers = 0 }
      local tree = h:compile("(succeed)")
      closed.inst = tree:instance()
      closed.tree = tree
      closed.group = tree:group({ closed.inst })
      closed.bt = h.bt
      h:close()
      closed.h = h
      local h2 = lispbt.new { workers = 0 }
      closed.h2 = h2
      local t2 = h2:compile("(succeed)")
      closed.rinst = t2:instance()
      closed.rtree = h2:compile("(succeed)")
      do local c <close> = closed.rinst end
      closed.rgroup = closed.rtree:group({ closed.rtree:instance() })
      closed.igroup = t2:group({ t2:instance() })
      do local c <close> = closed.rtree end
      do local c <close> = closed.igroup:instances()[1] end
    end
    make()
    for _, m in ipairs(host_methods) do
      total = total + 1
      it("closed host: host:" .. m[1], function()
        check(m[2] .. ": host is closed", errof(closed.h[m[1]], closed.h, table.unpack(m[3], 1, m[3].n)))
        healthy()
      end)
    end
    for _, m in ipairs(inst_methods) do
      total = total + 1
      it("instance of a closed host: inst:" .. m[1], function()
        check(m[2] .. ": host is closed", errof(closed.inst[m[1]], closed.inst, table.unpack(m[3], 1, m[3].n)))
      end)
      total = total + 1
      -- released by <close>: the Lua methods say so; the builtin methods
      -- refuse the released value when converting it
      local rmsg = m[2]:find("^bt%.") and m[2] .. ": use of a released Lisp value" or m[2] .. ": instance is closed"
      it("closed instance: inst:" .. m[1], function()
        check(rmsg, errof(closed.rinst[m[1]], closed.rinst, table.unpack(m[3], 1, m[3].n)))
        assert.are.equal(3, closed.h2:eval("(+ 1 2)"))
      end)
    end
    for _, m in ipairs(tree_methods) do
      total = total + 1
      it("tree of a closed host: tree:" .. m[1], function()
        check(m[2] .. ": host is closed", errof(closed.tree[m[1]], closed.tree))
      end)
      total = total + 1
      local rmsg = m[2]:find("^bt%.") and m[2] .. ": use of a released Lisp value" or m[2] .. ": tree is closed"
      it("closed tree: tree:" .. m[1], function()
        check(rmsg, errof(closed.rtree[m[1]], closed.rtree))
      end)
    end
    for _, m in ipairs({ "tick", "tick_counts" }) do
      total = total + 1
      it("group of a closed host: g:" .. m, function()
        check(m .. ": host is closed", errof(closed.group[m], closed.group))
      end)
      total = total + 1
      it("group of a closed tree: g:" .. m, function()
        check(m .. ": tree is closed", errof(closed.rgroup[m], closed.rgroup))
      end)
      total = total + 1
      it("group with a closed instance: g:" .. m .. " reports it in its place", function()
        local r = table.pack(closed.igroup[m](closed.igroup))
        check(m .. ": instances[1] is a closed instance", r[r.n][1])
        assert.are.equal(3, closed.h2:eval("(+ 1 2)"))
      end)
    end
    total = total + 2
    it("group of a closed host: tree:tick_all(g), g:counts(), g:instances()", function()
      check("tick_all: host is closed", errof(closed.tree.tick_all, closed.tree, closed.group))
      check("counts: host is closed", errof(closed.group.counts, closed.group))
      check("instances: host is closed", errof(closed.group.instances, closed.group))
    end)
    it("a closed tree cannot make a group", function()
      check("group: tree is closed", errof(closed.rtree.group, closed.rtree, {}))
      check("group: host is closed", errof(closed.tree.group, closed.tree, {}))
    end)
    for name, f in pairs({ ["bt.stats"] = "stats", ["bt.tick"] = "tick", ["bt.reset"] = "reset" }) do
      total = total + 1
      it("mirror of a closed host: " .. name, function()
        check(name .. ": host is closed", errof(closed.bt[f], closed.inst))
      end)
    end
    total = total + 2
    it("a Lisp value of a closed host", function()
      local h = lispbt.new { workers = 0 }
      local f, car = h:eval("(lambda (x) x)"), h:get("car")
      h:close()
      check("call: host is closed", errof(f, 1))
      check("call: host is closed", errof(car, { 1 }))
      check("call: a Lisp value of another host cannot be used here", errof(env.h.call, env.h, "list", f))
      healthy()
    end)
    it("the closed default host, in a subprocess", function()
      local out, ok = C.subprocess([[
        local l = require("lispbt"); l.default():close()
        for _, n in ipairs({"eval", "get", "set", "call", "compile", "heap"}) do
          io.write(select(2, pcall(l[n], "x")), "\n") end
        io.write(select(2, pcall(l.default)), "\n")
      ]])
      assert.is_true(ok, out)
      assert.are.equal("eval: host is closed\nget: host is closed\nset: host is closed\ncall: host is closed\n" ..
        "compile: host is closed\nheap: host is closed\ndefault: host is closed\n", out)
    end)
  end)

  describe("re-entrant calls from inside a leaf", function()
    for k, c in ipairs(reentrant) do
      total = total + 1
      it(("#%d: %s"):format(k, c[2]), function()
        local got
        local name = "reenter" .. k
        local inst = env.h:compile("(act " .. name .. ")"):instance()
        env.h:set("self", inst)
        env.h:register_action(name, function(ctx)
          local args = c[1](env, ctx, inst)
          got = errof(args[1], table.unpack(args, 2, args.n))
          return true
        end)
        assert.are.equal("success", inst:tick())
        check(c[2], got)
        assert.are.equal("success", inst:tick()) -- the instance still works
        healthy()
      end)
    end
  end)

  it("holds at least 300 cases", function()
    assert.is_true(total >= 300, "only " .. total .. " cases")
  end)
end)
