-- spec/errors_spec.lua -- every error path: Lisp errors as Lua errors with
-- positions and function names, Lua errors raised inside Lisp, misuse of
-- the Lua API, and a usable host after each of them.
local lispbt = require("lispbt")
local C = require("support.cases")

-- pcall that returns only the message (and asserts there was an error)
local function errof(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error")
  return err
end

describe("errors", function()
  local h
  before_each(function() h = lispbt.new() end)
  after_each(function()
    C.usable(h) -- every test leaves a working host
    h:close()
  end)

  describe("Lisp errors", function()
    local cases = {
      -- arity, closures and builtins
      { "(define (f a b) a) (f 1 2 3)", "eval:1:20: f: expected 2 arguments, got 3" },
      { "(define (f a) a) (f)", "eval:1:18: f: expected 1 argument, got 0" },
      { "(define (f a . r) a) (f)", "eval:1:22: f: expected at least 1 argument, got 0" },
      { "((lambda () 1) 1)", "eval:1:1: lambda: expected 0 arguments, got 1" },
      { "(car)", "eval:1:1: car: expected 1 argument, got 0" },
      { "(cons 1)", "eval:1:1: cons: expected 2 arguments, got 1" },
      { "(cons 1 2 3)", "eval:1:1: cons: expected 2 arguments, got 3" },
      { "(apply car)", "eval:1:1: apply: expected at least 2 arguments, got 1" },
      { "(map.get (map.make))", "eval:1:1: map.get: expected 2 to 3 arguments, got 1" },
      -- callee errors
      { "(1 2)", "eval:1:1: not a procedure: 1" },
      { "('sym)", "eval:1:1: not a procedure: sym" },
      { "(#f)", "eval:1:1: not a procedure: #f" },
      { "(nil)", "eval:1:1: not a procedure: nil" },
      { "(\"str\" 1)", "eval:1:1: not a procedure: \"str\"" },
      { "(#(1) 0)", "eval:1:1: not a procedure: <vec:1>" },
      { "x", "eval:1:1: unbound symbol: x" },
      { "(x 1 2)", "eval:1:1: unbound symbol: x" },
      { "(list 1 (+ 2 no-such))", "eval:1:9: unbound symbol: no-such" }, -- innermost list,
      { "(set! no-such 1)", "eval:1:1: set!: unbound symbol: no-such" },
      -- type errors name the builtin
      { "(car 3)", "eval:1:1: car: expected a cons, got 3" },
      { "(+ 1 \"2\")", "eval:1:1: +: expected a number, got \"2\"" },
      { "(vec.get '(1) 0)", "eval:1:1: vec.get: expected a vec, got (1)" },
      { "(map.set! #(1) 1 2)", "eval:1:1: map.set!: expected a map, got <vec:1>" },
      { "(string-append \"a\" 'b)", "eval:1:1: string-append: expected a string, got b" },
      { "(rng.int 1 2 3)", "eval:1:1: rng.int: expected an rng, got 1" },
      { "(length 1.5)", "eval:1:1: length: expected a proper list, got 1.5" },
      { "(sqrt \"x\")", "eval:1:1: sqrt: expected a number, got \"x\"" },
      -- long values are shortened in messages
      { "(car (make-string))", "eval:1:6: unbound symbol: make-string" },
      -- the error builtin
      { "(error \"boom\")", "eval:1:1: boom" },
      { "(error \"bad value:\" '(1 2) \"str\" 3.5)", "eval:1:1: bad value: (1 2) \"str\" 3.5" },
      { "(define (check x) (if (< x 0) (error \"negative:\" x) x)) (check -5)",
        "eval:1:31: negative: -5" },
      -- special form syntax errors
      { "(if)", "eval:1:1: if: expected 2 or 3 arguments" },
      { "(define 1 2)", "eval:1:1: define: expected (define name value) or (define (name params...) body...)" },
      { "(lambda (x 1) x)", "eval:1:1: lambda: parameter must be a symbol" },
      { "(f . 1)", "eval:1:1: call: arguments must be a proper list" },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        assert.are.equal(c[2], errof(h.eval, h, c[1]))
      end)
    end

    it("long values in messages are cut at 100 characters", function()
      local err = errof(h.eval, h, "(define (ml n) (if (= n 0) nil (cons 123456 (ml (- n 1))))) (vec.len (ml 100))")
      assert.are.equal("eval:1:61: vec.len: expected a vec, got (123456 123456 ", err:sub(1, 55))
      assert.are.equal("...", err:sub(-3))
      assert.is_true(#err < 150)
    end)

    it("the error builtin text is cut to a bounded length, not overflowing", function()
      local err = errof(h.eval, h, "(error (string-append \"" .. string.rep("x", 5000) .. "\"))")
      assert.are.equal("eval:1:1: xxx", err:sub(1, 13))
      assert.is_true(#err < 1000)
    end)

    it("the chunk name given to eval prefixes messages", function()
      assert.are.equal("mychunk:1:1: car: expected a cons, got 3", errof(h.eval, h, "(car 3)", "mychunk"))
      assert.are.equal("mychunk:3:3: car: expected a cons, got 3",
        errof(h.eval, h, "\n\n  (car 3)", "mychunk"))
      assert.are.equal("a/b.lisp:1:2: unbound symbol: q", errof(h.eval, h, " q", "a/b.lisp"))
    end)

    it("an error inside a procedure reports the innermost call site", function()
      h:eval("(define (inner x) (car x))\n(define (outer x) (inner x))", "defs")
      assert.are.equal("defs:1:19: car: expected a cons, got 5", errof(h.eval, h, "(outer 5)", "use"))
    end)

    it("forms evaluated before the error keep their effects", function()
      errof(h.eval, h, "(define kept 1) (car 1) (define lost 2)")
      assert.are.equal(1, h:get("kept"))
      assert.is_nil(h:get("lost"))
    end)

    it("errors from host:call and from calling Lisp values from Lua", function()
      assert.are.equal("car: expected a cons, got 3", errof(h.call, h, "car", 3))
      assert.are.equal("call: unbound symbol: no-such", errof(h.call, h, "no-such", 1))
      h:eval("(define notfn 5)")
      assert.are.equal("not a procedure: 5", errof(h.call, h, "notfn"))
      local f = h:eval("(lambda (a b) (+ a b))")
      assert.are.equal("lambda: expected 2 arguments, got 1", errof(f, 1))
      assert.are.equal("eval:1:15: +: expected a number, got \"x\"", errof(f, 1, "x"))
      local g = h:eval("(define (named a) (car a)) named")
      assert.are.equal("eval:1:19: car: expected a cons, got 1", errof(g, 1))
    end)

    it("a mirrored builtin reports arity errors with its Lisp name", function()
      assert.are.equal("heap-stats: expected 0 arguments, got 1", errof(h.heap_stats, 5))
      assert.are.equal("gc-stats: expected 0 arguments, got 2", errof(h.gc_stats, 1, 2))
    end)

    it("out of memory under heap_limit", function()
      local small <close> = lispbt.new{ heap_limit = 1000000 }
      local err = errof(small.eval, small,
        "(define keep nil) (let loop ((i 0)) (set! keep (cons i keep)) (loop (+ i 1)))")
      assert.are.equal("eval:1:48: cons: out of memory", err)
      small:eval("(set! keep nil)")
      C.usable(small)
    end)
  end)

  describe("Lua errors inside Lisp", function()
    it("a Lua builtin raising becomes 'name: msg'", function()
      h:register_builtin("boom", function() error("kaboom", 0) end)
      assert.are.equal("eval:1:1: boom: kaboom", errof(h.eval, h, "(boom 1)"))
      assert.are.equal("eval:2:3: boom: kaboom", errof(h.eval, h, "1\n  (boom)"))
    end)

    it("keeps the Lua position of the raise", function()
      h:register_builtin("boom2", function() error("kaboom") end)
      local err = errof(h.eval, h, "(boom2)")
      assert.are.equal("eval:1:1: boom2: ", err:sub(1, 17))
      assert.truthy(err:find("errors_spec.lua:%d+: kaboom$"), err)
    end)

    it("non-string error objects are described", function()
      h:register_builtin("boom3", function() error({ code = 1 }) end)
      assert.are.equal("eval:1:1: boom3: (error object is a table value)", errof(h.eval, h, "(boom3)"))
      h:register_builtin("boom4", function() error(42) end)
      assert.are.equal("eval:1:1: boom4: (error object is a number value)", errof(h.eval, h, "(boom4)"))
      h:register_builtin("boom5", function() error() end)
      assert.are.equal("eval:1:1: boom5: (error object is a nil value)", errof(h.eval, h, "(boom5)"))
    end)

    it("Lua runtime errors in callbacks (bad arithmetic on a symbol)", function()
      h:register_builtin("add", function(a, b) return a + b end)
      assert.are.equal(3, h:eval("(add 1 2)"))
      local err = errof(h.eval, h, "(add 1 'x)")
      assert.are.equal("eval:1:1: add: ", err:sub(1, 15))
      assert.truthy(err:find("attempt to perform arithmetic on a lispbt.symbol value", 1, true), err)
    end)

    it("a Lisp error in Lisp called from a Lua callback called from Lisp", function()
      h:eval("(define (cb) (car 1))")
      h:register_builtin("lua-calls-lisp", function() return h:eval("(cb)") end)
      assert.are.equal("eval:1:1: lua-calls-lisp: eval:1:14: car: expected a cons, got 1",
        errof(h.eval, h, "(lua-calls-lisp)"))
      h:register_builtin("reenter", function(n) return h:eval("(+ 1 " .. n .. ")") end)
      assert.are.equal(42, h:eval("(reenter 41)"))
    end)

    it("a Lua function passed as a value raises with its generic name", function()
      h:set("lf", function() error("inner", 0) end)
      assert.are.equal("eval:1:1: lua-function: inner", errof(h.eval, h, "(lf)"))
    end)

    it("closing the host from inside its own callback is refused", function()
      h:register_builtin("closer", function() h:close() return 1 end)
      local err = errof(h.eval, h, "(closer)")
      assert.are.equal("eval:1:1: closer: ", err:sub(1, 18))
      assert.truthy(err:find("close: cannot close a host while it is running", 1, true), err)
    end)

    it("errors in a callback's return value conversion", function()
      h:register_builtin("retco", function() return coroutine.create(print) end)
      assert.are.equal("eval:1:1: eval: cannot convert a thread to a Lisp value", errof(h.eval, h, "(retco)"))
      local cyc = {}
      cyc[1] = cyc
      h:register_builtin("retcyc", function() return cyc end)
      assert.are.equal("eval:1:1: eval: table is cyclic or nested deeper than 100 levels",
        errof(h.eval, h, "(retcyc)"))
    end)
  end)

  describe("bad Lua arguments", function()
    -- the names are explicit: the same from a Lua function or a pcall
    local cases = {
      { function() return h:eval(nil) end, "eval: bad argument #1 (string expected, got nil)" },
      { function() return h:eval({}) end, "eval: bad argument #1 (string expected, got table)" },
      { function() return h:eval("1", {}) end, "eval: bad argument #2 (string expected, got table)" },
      { function() return h.eval(nil, "1") end, "eval: bad self (lispbt.host expected, got nil)" },
      { function() return h.eval(5, "1") end, "eval: bad self (lispbt.host expected, got number)" },
      { function() return h:load() end, "load: bad argument #1 (string expected, got no value)" },
      { function() return h:call(nil) end, "call: bad argument #1 (string expected, got nil)" },
      { function() return h:get() end, "get: bad argument #1 (string expected, got no value)" },
      { function() return h:set() end, "set: bad argument #1 (string expected, got no value)" },
      { function() return h:set("", 1) end, "set: bad argument #1 (name must not be empty)" },
      { function() return h:register_builtin("x", 1) end,
        "register_builtin: bad argument #2 (function expected, got number)" },
      { function() return h:register_builtin("", print) end,
        "register_builtin: bad argument #1 (name must not be empty)" },
      { function() return h:register_builtin(nil, print) end,
        "register_builtin: bad argument #1 (string expected, got nil)" },
      { function() return h.heap(nil) end, "heap: bad self (lispbt.host expected, got nil)" },
      { function() return h.gc({}) end, "gc: bad self (lispbt.host expected, got table)" },
      { function() return h.close(1) end, "close: bad self (lispbt.host expected, got number)" },
      { function() return lispbt.new(5) end, "new: bad argument #1 (table expected, got number)" },
      { function() return lispbt.symbol() end, "symbol: bad argument #1 (string expected, got no value)" },
      { function() return lispbt.symbol("") end, "symbol: bad argument #1 (name must not be empty)" },
    }
    for i, c in ipairs(cases) do
      it(("case %d: %s"):format(i, c[2]), function()
        local err = errof(c[1])
        -- luaL_error adds the caller's position
        assert.are.equal(c[2], (err:gsub("^[^:]*errors_spec%.lua:%d+: ", "")))
      end)
    end

    it("load of a missing file", function()
      assert.are.equal("load: cannot open '/nonexistent/x.lisp'", (errof(h.load, h, "/nonexistent/x.lisp")
        :gsub("^[^:]*errors_spec%.lua:%d+: ", "")))
    end)

    it("conversion errors name the function", function()
      local cyc = {}
      cyc.self = cyc
      assert.are.equal("set: table is cyclic or nested deeper than 100 levels", errof(h.set, h, "c", cyc))
      assert.are.equal("call: table is cyclic or nested deeper than 100 levels",
        errof(h.call, h, "list", cyc))
      assert.are.equal("set: cannot convert a thread to a Lisp value",
        errof(h.set, h, "x", coroutine.create(print)))
      assert.are.equal("set: cannot convert a userdata to a Lisp value", errof(h.set, h, "x", io.stdout))
    end)

    it("module-level functions report their own argument numbers and names", function()
      local err = errof(function() return lispbt.eval(nil) end)
      assert.are.equal("eval: bad argument #1 (string expected, got nil)",
        (err:gsub("^[^:]*errors_spec%.lua:%d+: ", "")))
      err = errof(function() return lispbt.register_action("x", 5) end)
      assert.are.equal("register_action: bad argument #2 (function expected, got number)",
        (err:gsub("^[^:]*errors_spec%.lua:%d+: ", "")))
      -- a host still works after the errors
      assert.are.equal(3, lispbt.eval("(+ 1 2)"))
    end)
  end)
end)
