-- spec/compat/reference_docs_spec.lua -- every entry of muesli-bt's
-- language reference (docs/language/reference/{builtins,data-types,
-- special-forms}/**, robotics pages left out) checked entry by entry: each
-- documented example, with the value the reference's REPL prints for it
-- (worked out from the reference's implementation, which its pages do not
-- show), and the error cases its "Errors And Edge Cases" section lists.
--
-- A case is { SRC, OUT } (OUT the printed form of SRC's value, as `print`
-- shows it) or { SRC, err = MSG } (MSG the message, without its position).
-- Each runs in a fresh host; a case with `out` (its exact standard output,
-- or HEAPSTATS) in a child interpreter.  Our error texts follow our NAME: PROBLEM scheme
-- (docs/compat.md); the class (a runtime error) and the meaning are the
-- reference's.  The BT pages (bt.*, bt, defbt,
-- bt_def, bt_instance) by the BT compat specs.
local H = require("compat.helpers")
local C = require("support.cases")

-- The standard output of heap-stats / gc-stats: the reference's eight lines
-- in its order, then ours (docs/reference/heap.md).
local HEAPSTATS = "^total allocated objects: %d+\nlive objects after last GC: %d+\nbytes allocated: %d+\n"
  .. "next GC threshold: %d+\ncollection count: %d+\ntotal GC pause ns: %d+\nfreed objects total: %d+\n"
  .. "forced collection count: %d+\n"

-- Run SRC in a child interpreter: its printed value and its standard output.
local function inchild(src)
  local out, ok = C.subprocess(([[
    local h = require("lispbt").new { workers = 1 }
    local ok, e = pcall(h.eval, h, %q)
    io.stdout:write("\n==value==", tostring(e))
  ]]):format('(error "" (begin ' .. src .. "\n))"))
  assert(ok, out)
  local stdout, value = out:match("^(.*)\n==value==eval:%d+:%d+:  (.*)$")
  assert(stdout, out)
  return value, stdout
end

local ENTRIES = {
  -- ---- builtins/core ----
  { "core/car", {
    { "(car (cons 1 2))", "1" },
    { "(car (list \"head\" \"tail\"))", "\"head\"" },
    { "(car 1)", err = "car: expected a cons, got 1" },
    { "(car '())", err = "car: expected a cons, got nil" },
  } },
  { "core/cdr", {
    { "(cdr (cons 1 2))", "2" },
    { "(cdr (list 1 2 3))", "(2 3)" },
    { "(cdr nil)", err = "cdr: expected a cons, got nil" },
  } },
  { "core/cons", {
    { "(cons 1 2)", "(1 . 2)" },
    { "(begin (define p (cons \"a\" \"b\")) (car p))", "\"a\"" },
    { "(cons 1)", err = "cons: expected 2 arguments, got 1" },
  } },
  { "core/eq?", {
    { "(eq? 4 4)", "#t" },
    { "(eq? 'a 'a)", "#t" },
    { "(eq? 2 2.0)", "#t" },
    { "(eq? 1)", err = "eq?: expected 2 arguments, got 1" },
  } },
  { "core/hash64", {
    { "(hash64 \"planner-seed\")", "7926679714006447371" },
    { "(begin (define base (hash64 \"run-a\")) (list base (hash64 \"run-a\")))",
      "(8797948354455892204 8797948354455892204)" },
    { "(hash64 1.5)", err = "hash64: expected a symbol or string, got 1.5" },
  } },
  { "core/list", {
    { "(list 1 2 3)", "(1 2 3)" },
    { "(begin (define xs (list \"a\" \"b\")) xs)", "(\"a\" \"b\")" },
    { "(list)", "nil" },
  } },
  { "core/null?", {
    { "(null? nil)", "#t" },
    { "(null? (cdr (list 1)))", "#t" },
    { "(null?)", err = "null?: expected 1 argument, got 0" },
  } },
  -- ---- builtins/gc ----
  { "gc/gc.policy", {
    { "(gc.policy)", ":default" },
    { "(begin (gc.set-policy! \"between-ticks\") (gc.policy))", ":between-ticks" },
    { "(gc.policy 1)", err = "gc.policy: expected 0 arguments, got 1" },
  } },
  { "gc/gc.set-policy!", {
    { "(gc.set-policy! \"between-ticks\")", ":between-ticks" },
    { "(begin (gc.set-policy! \"manual\") (gc.policy))", ":manual" },
    { "(gc.set-policy! 'bogus)",
      err = "gc.set-policy!: expected :default, :between-ticks, :manual, or :fail-on-tick-gc, got bogus" },
  } },
  { "gc/gc-stats", {
    { "(gc-stats)", "nil", out = HEAPSTATS },
    { "(begin (list 1 2 3) (gc-stats))", "nil", out = HEAPSTATS },
    { "(gc-stats 1)", err = "gc-stats: expected 0 arguments, got 1" },
  } },
  { "gc/heap-stats", {
    { "(heap-stats)", "nil", out = HEAPSTATS },
    { "(begin (list 1 2 3) (heap-stats))", "nil", out = HEAPSTATS },
    { "(heap-stats 1)", err = "heap-stats: expected 0 arguments, got 1" },
  } },
  -- ---- builtins/io ----
  { "io/print", {
    { "(print \"hello\")", "nil", out = "\"hello\"\n" },
    { "(begin (define x 3) (print \"x=\" x) x)", "3", out = "\"x=\" 3\n" },
    { "(print 1.5 'a (vec.make 2 0) car (/ 1 0))", "nil", out = "1.5 a <vec:2> <primitive:car> inf\n" },
  } },
  { "io/save", {
    { "(save \"/tmp/lispbt-compat-refdocs-tmp.lisp\" 42)", "#t" },
    { "(save \"/tmp/lispbt-compat-refdocs-state.lisp\" (list \"mode\" 1 #t))", "#t" },
    { "(save \"/nonexistent-dir/x.lisp\" 1)",
      err = "save: cannot open '/nonexistent-dir/x.lisp': No such file or directory" },
    { "(save \"/tmp/lispbt-compat-refdocs-tmp.lisp\" car)", err = "save: cannot save a primitive (it has no readable form)" },
  } },
  { "io/write-to-string", {
    { "(write-to-string (list 1 2))", "\"(1 2)\"" },
    { "(begin (define s (write-to-string \"hi\")) s)", "\"\\\"hi\\\"\"" },
    { "(write-to-string (vec.make))", err = "write-to-string: cannot serialise vec as readable data" },
    { "(write-to-string (/ 1.0 0))", err = "write-to-string: non-finite floats are not readable" },
  } },
  { "io/write", {
    { "(write (list 1 2 3))", "(1 2 3)", out = "(1 2 3)\n" },
    { "(begin (define payload \"ok\") (write payload))", "\"ok\"", out = "\"ok\"\n" },
    { "(write (lambda (x) x))", err = "write: cannot serialise closure as readable data" },
  } },
  -- ---- builtins/json ----
  { "json/json.decode", {
    { "(json.decode \"[1,2,3]\")", "(1 2 3)" },
    { "(begin (define payload \"{\\\"task\\\":\\\"demo\\\",\\\"ok\\\":true}\") (map.get (json.decode payload) \"task\" \"\"))",
      "\"demo\"" },
    { "(json.decode \"[1,\")", err = "json.decode: unexpected end of input" },
    { "(map.keys (json.decode \"{\\\"k\\\": 1}\"))", "(\"k\")" },
  } },
  { "json/json.encode", {
    { "(json.encode (list 1 2 3))", "\"[1,2,3]\"" },
    { "(begin (define m (map.make)) (map.set! m 'task_id \"demo\") (map.get (json.decode (json.encode m)) \"task_id\"))",
      "\"demo\"" },
    { "(json.encode (/ 1.0 0))", err = "json.encode: non-finite floats are not supported" },
    { "(json.encode car)", err = "json.encode: unsupported value type: primitive_fn" },
  } },
  -- ---- builtins/map ----
  { "map/map.del!", {
    { "(begin (define m (map.make)) (map.del! m \"x\"))", "#f" },
    { "(begin (define m (map.make)) (map.set! m \"x\" 1) (map.del! m \"x\"))", "#t" },
    { "(map.del! (map.make) '(x))", err = "map.del!: expected a symbol, string, integer or float key, got (x)" },
  } },
  { "map/map.get", {
    { "(begin (define m (map.make)) (map.get m \"x\" nil))", "nil" },
    { "(begin (define m (map.make)) (map.set! m \"x\" 10) (map.get m \"x\" 0))", "10" },
    { "(map.get (map.make) (/ 0.0 0) 1)", err = "map.get: float keys must not be NaN" },
  } },
  { "map/map.has?", {
    { "(begin (define m (map.make)) (map.has? m \"x\"))", "#f" },
    { "(begin (define m (map.make)) (map.set! m \"x\" 1) (map.has? m \"x\"))", "#t" },
    { "(map.has? 1 \"x\")", err = "map.has?: expected a map, got 1" },
  } },
  { "map/map.keys", {
    { "(begin (define m (map.make)) (map.keys m))", "nil" },
    { "(begin (define m (map.make)) (map.set! m \"a\" 1) (map.set! m \"b\" 2) (length (map.keys m)))", "2" },
    { "(map.keys)", err = "map.keys: expected 1 argument, got 0" },
  } },
  { "map/map.make", {
    { "(map.make)", "<map:0>" },
    { "(begin (define m (map.make)) (map.set! m \"k\" 1))", "1" },
  } },
  { "map/map.set!", {
    { "(begin (define m (map.make)) (map.set! m \"x\" 1))", "1" },
    { "(begin (define m (map.make)) (map.set! m \"x\" 1) (map.set! m \"x\" 2) (map.get m \"x\" 0))", "2" },
    { "(map.set! (map.make) #t 1)", err = "map.set!: expected a symbol, string, integer or float key, got #t" },
  } },
  -- ---- builtins/math ----
  { "math/abs", {
    { "(abs -7)", "7" },
    { "(abs -2.5)", "2.5" },
    { "(abs -9223372036854775808)", err = "abs: integer overflow" },
  } },
  { "math/atan2", {
    { "(atan2 1 1)", "0.785398163397448" },
    { "(begin (define goal-x 3.0) (define goal-y 4.0) (define pose-x 1) (define pose-y 2) "
        .. "(atan2 (- goal-y pose-y) (- goal-x pose-x)))", "0.785398163397448" },
    { "(atan2 'a 1)", err = "atan2: expected a number, got a" },
    { "(list (atan2 0 0) (atan2 -0.0 -1))", "(0.0 -3.14159265358979)" },
  } },
  { "math/clamp", {
    { "(clamp 10 0 5)", "5" },
    { "(clamp 0.2 0.3 0.9)", "0.3" },
    { "(clamp 1 5 0)", err = "clamp: lower bound is greater than upper bound" },
  } },
  { "math//", {
    { "(/ 20 2 5)", "2.0" },
    { "(/ 4)", "0.25" },
    { "(/ 'a 1)", err = "/: expected a number, got a" },
  } },
  { "math/=", {
    { "(= 3 3.0)", "#t" },
    { "(= 1 1 1)", "#t" },
    { "(= 1 'a)", err = "=: expected a number, got a" },
    { "(= 1)", err = "=: expected at least 2 arguments, got 1" },
  } },
  { "math/exp", {
    { "(exp 0)", "1.0" },
    { "(exp 1)", "2.71828182845905" },
    { "(exp)", err = "exp: expected 1 argument, got 0" },
  } },
  { "math/>", {
    { "(> 3 2)", "#t" },
    { "(> 5 4 3)", "#t" },
    { "(> 1)", err = ">: expected at least 2 arguments, got 1" },
  } },
  { "math/>=", {
    { "(>= 2 2)", "#t" },
    { "(>= 5 5 3 1)", "#t" },
    { "(>= 1 \"a\")", err = ">=: expected a number, got \"a\"" },
  } },
  { "math/log", {
    { "(log 1)", "0.0" },
    { "(log 2.718281828)", "0.999999999831127" },
    { "(log 0)", err = "log: expected a number > 0, got 0" },
  } },
  { "math/<", {
    { "(< 1 2)", "#t" },
    { "(< 1 2 3)", "#t" },
    { "(<)", err = "<: expected at least 2 arguments, got 0" },
  } },
  { "math/<=", {
    { "(<= 2 2)", "#t" },
    { "(<= 1 2 2 3)", "#t" },
    { "(<= 'x 1)", err = "<=: expected a number, got x" },
  } },
  { "math/-", {
    { "(- 9 2 3)", "4" },
    { "(- 7)", "-7" },
    { "(- -9223372036854775808 1)", err = "-: integer overflow" },
  } },
  { "math/*", {
    { "(* 2 3 4)", "24" },
    { "(* 3 0.5)", "1.5" },
    { "(* 9223372036854775807 2)", err = "*: integer overflow" },
  } },
  { "math/+", {
    { "(+ 1 2 3)", "6" },
    { "(+ 1 2.5)", "3.5" },
    { "(+ 9223372036854775807 1)", err = "+: integer overflow" },
  } },
  { "math/sqrt", {
    { "(sqrt 4)", "2.0" },
    { "(sqrt 2.25)", "1.5" },
    { "(sqrt -1)", err = "sqrt: expected a number >= 0, got -1" },
  } },
  -- ---- builtins/pq ----
  { "pq/pq.empty?", {
    { "(begin (define q (pq.make)) (pq.empty? q))", "#t" },
    { "(begin (define q (pq.make)) (pq.push! q 1 'x) (pq.pop! q) (pq.empty? q))", "#t" },
    { "(pq.empty? 1)", err = "pq.empty?: expected a pq, got 1" },
  } },
  { "pq/pq.len", {
    { "(begin (define q (pq.make)) (pq.len q))", "0" },
    { "(begin (define q (pq.make)) (pq.push! q 2 'a) (pq.push! q 1 'b) (pq.len q))", "2" },
  } },
  { "pq/pq.make", {
    { "(pq.make)", "<pq:0>" },
    { "(begin (define q (pq.make 32)) (pq.empty? q))", "#t" },
    { "(pq.make -1)", err = "pq.make: expected a non-negative capacity, got -1" },
  } },
  { "pq/pq.peek", {
    { "(begin (define q (pq.make)) (pq.push! q 1 'x) (pq.peek q))", "(1.0 x)" },
    { "(begin (define q (pq.make)) (pq.push! q 2 'task-a) (pq.push! q 1 'task-b) (list (pq.peek q) (pq.len q)))",
      "((1.0 task-b) 2)" },
    { "(pq.peek (pq.make))", err = "pq.peek: priority queue is empty" },
  } },
  { "pq/pq.pop!", {
    { "(begin (define q (pq.make)) (pq.push! q 1 'x) (pq.pop! q))", "(1.0 x)" },
    { "(begin (define q (pq.make)) (pq.push! q 2 'slow) (pq.push! q 1 'fast) (list (pq.pop! q) (pq.pop! q)))",
      "((1.0 fast) (2.0 slow))" },
    { "(pq.pop! (pq.make))", err = "pq.pop!: priority queue is empty" },
  } },
  { "pq/pq.push!", {
    { "(begin (define q (pq.make)) (pq.push! q 1 'x))", "1" },
    { "(begin (define q (pq.make)) (pq.push! q 3 'slow) (pq.push! q 1 'fast) (pq.peek q))", "(1.0 fast)" },
    { "(pq.push! (pq.make) \"1\" 'x)", err = "pq.push!: expected a number, got \"1\"" },
    { "(pq.push! (pq.make) (/ 1.0 0) 'x)", err = "pq.push!: priority must be finite, got inf" },
  } },
  -- ---- builtins/predicates ----
  { "predicates/float?", {
    { "(float? 3.0)", "#t" }, { "(float? 3)", "#f" },
    { "(float?)", err = "float?: expected 1 argument, got 0" },
  } },
  { "predicates/int?", {
    { "(int? 3)", "#t" }, { "(int? 3.0)", "#f" },
    { "(int? 1 2)", err = "int?: expected 1 argument, got 2" },
  } },
  { "predicates/integer?", {
    { "(integer? 3)", "#t" }, { "(integer? 3.2)", "#f" },
  } },
  { "predicates/number?", {
    { "(number? 3.0)", "#t" }, { "(number? \"3\")", "#f" },
  } },
  { "predicates/zero?", {
    { "(zero? 0)", "#t" }, { "(zero? 0.0)", "#t" }, { "(zero? 'a)", "#f" },
  } },
  -- ---- builtins/rng: the reference's generator, so the same numbers ----
  { "rng/rng.int", {
    { "(begin (define r (rng.make 3)) (rng.int r 10))", "3" },
    { "(begin (define r (rng.make 3)) (list (rng.int r 5) (rng.int r 5)))", "(3 1)" },
    { "(rng.int (rng.make 1) 0)", err = "rng.int: expected a positive integer, got 0" },
  } },
  { "rng/rng.make", {
    { "(rng.make 42)", "<rng>" },
    { "(begin (define r (rng.make 42)) (rng.int r 10))", "3" },
    { "(rng.make 1.5)", err = "rng.make: expected an integer, got 1.5" },
  } },
  { "rng/rng.normal", {
    { "(begin (define r (rng.make 1)) (rng.normal r 0.0 1.0))", "-0.0282497460958547" },
    { "(begin (define r (rng.make 9)) (list (rng.normal r 0.0 0.2) (rng.normal r 0.0 0.2)))",
      "(0.000763454684862605 -0.174856880281502)" },
    { "(rng.normal (rng.make 1) 0.0 -1.0)", err = "rng.normal: expected sigma >= 0" },
  } },
  { "rng/rng.uniform", {
    { "(begin (define r (rng.make 1)) (rng.uniform r 0.0 1.0))", "0.566561575172281" },
    { "(begin (define r (rng.make 5)) (list (rng.uniform r -1.0 1.0) (rng.uniform r -1.0 1.0)))",
      "(-0.226463908032132 0.504614031676448)" },
    { "(rng.uniform (rng.make 1) 1.0 0.0)", err = "rng.uniform: expected lo <= hi" },
  } },
  -- ---- builtins/time ----
  { "time/time.now-ms", {
    { "(int? (time.now-ms))", "#t" },
    { "(begin (define t0 (time.now-ms)) (>= (time.now-ms) t0))", "#t" },
    { "(time.now-ms 1)", err = "time.now-ms: expected 0 arguments, got 1" },
  } },
  { "time/time.sleep-ms", {
    { "(time.sleep-ms 10)", "nil" },
    { "(time.sleep-ms 0)", "nil" },
    { "(time.sleep-ms -1)", err = "time.sleep-ms: expected an integer in 0..86400000, got -1" },
    { "(time.sleep-ms 1.5)", err = "time.sleep-ms: expected an integer in 0..86400000, got 1.5" },
  } },
  -- ---- builtins/vec ----
  { "vec/vec.clear!", {
    { "(begin (define v (vec.make)) (vec.clear! v))", "nil" },
    { "(begin (define v (vec.make)) (vec.push! v 1) (vec.clear! v) (vec.len v))", "0" },
  } },
  { "vec/vec.get", {
    { "(begin (define v (vec.make)) (vec.push! v 7) (vec.get v 0))", "7" },
    { "(begin (define v (vec.make)) (vec.push! v \"a\") (vec.push! v \"b\") (vec.get v 1))", "\"b\"" },
    { "(vec.get (vec.make) 0)", err = "vec.get: INDEX is out of range: the vec is empty, got 0" },
  } },
  { "vec/vec.len", {
    { "(begin (define v (vec.make)) (vec.len v))", "0" },
    { "(begin (define v (vec.make)) (vec.push! v 1) (vec.len v))", "1" },
  } },
  { "vec/vec.make", {
    { "(vec.make)", "<vec:0>" },
    { "(vec.make 8)", "<vec:0>" },
    { "(vec.make -1)", err = "vec.make: N must be an integer in [0, 4294967296], got -1" },
  } },
  { "vec/vec.pop!", {
    { "(begin (define v (vec.make)) (vec.push! v 8) (vec.pop! v))", "8" },
    { "(begin (define v (vec.make)) (vec.push! v \"x\") (vec.push! v \"y\") (vec.pop! v))", "\"y\"" },
    { "(vec.pop! (vec.make))", err = "vec.pop!: expected a non-empty vec, got <vec:0>" },
  } },
  { "vec/vec.push!", {
    { "(begin (define v (vec.make)) (vec.push! v 5))", "0" },
    { "(begin (define v (vec.make 1)) (vec.push! v 10) (vec.push! v 20))", "1" },
  } },
  { "vec/vec.reserve!", {
    { "(begin (define v (vec.make)) (vec.reserve! v 32))", "nil" },
    { "(begin (define v (vec.make 1)) (vec.reserve! v 128) (vec.push! v 1))", "0" },
    { "(vec.reserve! (vec.make) -1)", err = "vec.reserve!: N must be an integer in [0, 4294967296], got -1" },
  } },
  { "vec/vec.set!", {
    { "(begin (define v (vec.make)) (vec.push! v 1) (vec.set! v 0 9))", "9" },
    { "(begin (define v (vec.make)) (vec.push! v \"old\") (vec.set! v 0 \"new\") (vec.get v 0))", "\"new\"" },
    { "(vec.set! (vec.make) 0 1)", err = "vec.set!: INDEX is out of range: the vec is empty, got 0" },
  } },
  -- ---- data-types (the robotics handles left out) ----
  { "data-types/boolean", {
    { "#t", "#t" }, { "(if #f 1 2)", "2" }, { "(list true false)", "(#t #f)" },
  } },
  { "data-types/closure", {
    { "(lambda (x) (+ x 1))", "<closure>" },
    { "(begin (define f (lambda (x) (lambda (y) (+ x y)))) ((f 2) 4))", "6" },
    { "((lambda (x) x) 1 2)", err = "lambda: expected 1 argument, got 2" },
  } },
  { "data-types/cons", {
    { "(cons 1 2)", "(1 . 2)" }, { "(list 1 2 3)", "(1 2 3)" },
    { "(cdr 5)", err = "cdr: expected a cons, got 5" },
  } },
  { "data-types/float", {
    { "3.14", "3.14" }, { "(/ 1 3)", "0.333333333333333" }, { "2.", "2.0" }, { "1e-3", "0.001" },
    { "(write (/ 0.0 0))", err = "write: non-finite floats are not readable" },
  } },
  { "data-types/integer", {
    { "42", "42" }, { "(* 6 7)", "42" }, { "-42", "-42" },
    { "(* 9223372036854775807 9223372036854775807)", err = "*: integer overflow" },
  } },
  { "data-types/map", {
    { "(map.make)", "<map:0>" },
    { "(begin (define m (map.make)) (map.set! m \"k\" 1) (map.get m \"k\" nil))", "1" },
  } },
  { "data-types/nil", {
    { "nil", "nil" }, { "(if nil \"then\" \"else\")", "\"else\"" },
  } },
  { "data-types/pq", {
    { "(pq.make)", "<pq:0>" },
    { "(begin (define q (pq.make)) (pq.push! q 1.2 'task) (pq.pop! q))", "(1.2 task)" },
    { "(write-to-string (pq.make))", err = "write-to-string: cannot serialise pq as readable data" },
  } },
  { "data-types/primitive-fn", {
    { "+", "<primitive:+>" }, { "(begin (define add +) (add 1 2))", "3" },
    { "(write car)", err = "write: cannot serialise primitive_fn as readable data" },
  } },
  { "data-types/rng", {
    { "(rng.make 42)", "<rng>" }, { "(begin (define r (rng.make 42)) (rng.int r 10))", "3" },
  } },
  { "data-types/string", {
    { "\"hello\"", "\"hello\"" }, { "(write-to-string \"ok\")", "\"\\\"ok\\\"\"" },
    { "\"line\\nnext\"", "\"line\\nnext\"" }, { "\"quote: \\\"ok\\\"\"", "\"quote: \\\"ok\\\"\"" },
    { "\"a\\q\"", err = "invalid escape in string" },
  } },
  { "data-types/symbol", {
    { "'foo", "foo" }, { "'bt.compile", "bt.compile" },
    { "foo", err = "unbound symbol: foo" },
  } },
  { "data-types/vec", {
    { "(vec.make)", "<vec:0>" },
    { "(begin (define v (vec.make)) (vec.push! v 1) (vec.get v 0))", "1" },
  } },
  -- ---- special forms (bt, defbt: the BT specs; load: io_spec.lua) ----
  { "special-forms/and", {
    { "(and)", "#t" }, { "(and #t 7)", "7" }, { "(and #f (side-effect))", "#f" }, { "(and 1 2 3)", "3" },
  } },
  { "special-forms/begin", {
    { "(begin (define x 1) (+ x 2))", "3" }, { "(begin (define a 3) (define b 4) (* a b))", "12" },
    { "(begin)", "nil" },
  } },
  { "special-forms/cond", {
    { "(cond ((< 1 0) 'no) (else 'yes))", "yes" },
    { "(begin (define x -1) (cond ((< x 0) \"neg\") ((= x 0) \"zero\") (else \"pos\")))", "\"neg\"" },
    { "(cond (#f 1))", "nil" },
    { "(cond (else 1) (#t 2))", err = "cond: else clause must be last" },
  } },
  { "special-forms/define", {
    { "(define x 42)", "42" },
    { "(begin (define (inc x) (+ x 1)) (inc 7))", "8" },
    { "(define (f) 1)", "<closure>" },
    { "(define x)", err = "define: expected (define name value)" },
    { "(define (1 x) x)", err = "define: procedure name must be a symbol" },
  } },
  { "special-forms/if", {
    { "(if #t 1 2)", "1" }, { "(begin (define x 10) (if (> x 5) x 0))", "10" }, { "(if #f 1)", "nil" },
    { "(if 1 2 3 4)", err = "if: expected 2 or 3 arguments" },
  } },
  { "special-forms/lambda", {
    { "(lambda (x) (+ x 1))", "<closure>" },
    { "(begin (define add5 ((lambda (x) (lambda (y) (+ x y))) 5)) (add5 3))", "8" },
    { "(lambda (1) 1)", err = "lambda: parameter must be a symbol" },
  } },
  { "special-forms/let", {
    { "(let ((x 1) (y 2)) (+ x y))", "3" },
    { "(begin (define x 10) (let ((x 1) (y x)) (+ x y)))", "11" },
    { "(let ((x)) x)", err = "let: each binding must contain exactly name and expression" },
    { "(let ((1 2)) 1)", err = "let: binding name must be a symbol" },
    { "(let 1 2)", err = "let: expected binding list" },
    { "(let (x) x)", err = "let: each binding must be a (name expr) pair" },
  } },
  { "special-forms/or", {
    { "(or)", "nil" }, { "(or #f nil 42)", "42" }, { "(or 1 (side-effect))", "1" }, { "(or #f nil)", "nil" },
  } },
  { "special-forms/quasiquote", {
    { "`(a ,(+ 1 2) b)", "(a 3 b)" },
    { "(begin (define name \"target-visible\") `(seq (cond ,name) (act grasp)))",
      "(seq (cond \"target-visible\") (act grasp))" },
    { "''a", "(quote a)" },
    { "(quasiquote 1 2)", err = "quasiquote: expected (quasiquote datum)" },
  } },
  { "special-forms/quote", {
    { "(quote x)", "x" }, { "(begin (define data '(1 2 3)) (car data))", "1" },
    { "(quote 1 2)", err = "quote: expected (quote datum)" },
  } },
  { "special-forms/unquote-splicing", {
    { "`(a ,@(list 2 3) b)", "(a 2 3 b)" },
    { "(begin (define xs (list \"x\" \"y\")) `(prefix ,@xs suffix))", "(prefix \"x\" \"y\" suffix)" },
    { ",@x", err = "unquote-splicing: only valid inside quasiquote list context" },
  } },
  { "special-forms/unquote", {
    { "`(a ,(+ 1 2))", "(a 3)" }, { "(begin (define x 3) `(value ,x))", "(value 3)" },
    { ",x", err = "unquote: only valid inside quasiquote" },
  } },
}

describe("compat: muesli-bt's language reference, entry by entry", function()
  teardown(function()
    os.remove("/tmp/lispbt-compat-refdocs-tmp.lisp")
    os.remove("/tmp/lispbt-compat-refdocs-state.lisp")
  end)
  for _, e in ipairs(ENTRIES) do
    describe(e[1], function()
      for _, c in ipairs(e[2]) do
        it(c[1], function()
          if c.out then -- it prints: run it in a child and check its output too
            local value, stdout = inchild(c[1])
            assert.are.equal(c[2], value)
            if c.out == HEAPSTATS then
              assert.matches(HEAPSTATS, stdout)
            else
              assert.are.equal(c.out, stdout)
            end
            return
          end
          local h <close> = H.host()
          if c.err then
            assert.are.equal(c.err, H.err(h, c[1]))
          else
            assert.are.equal(c[2], H.printed(h, c[1]))
          end
        end)
      end
    end)
  end
end)
