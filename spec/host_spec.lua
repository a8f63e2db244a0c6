-- spec/host_spec.lua -- lispbt.new options, lifetime (close, __close, __gc),
-- isolation between hosts, the default host and module-level functions.
-- Two Lua states on two threads: spec/c/test_threads.c.
local lispbt = require("lispbt")
local C = require("support.cases")

local function errof(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error")
  return (tostring(err):gsub("^[^:]*host_spec%.lua:%d+: ", ""))
end

describe("hosts", function()
  describe("lispbt.new options", function()
    it("accepts no options, nil, an empty table and every known option", function()
      for _, o in ipairs({ {}, { workers = 0 }, { workers = 3, trace_capacity = 1, log_capacity = 1,
                                 planner_capacity = 1, max_depth = 1, heap_limit = 0, gc_stress = false } }) do
        local h = lispbt.new(o)
        assert.are.equal(3, h:eval("(+ 1 2)"))
        h:close()
      end
      lispbt.new():close()
      lispbt.new(nil):close()
    end)

    it("applies max_depth and heap_limit", function()
      local h <close> = lispbt.new{ max_depth = 30, heap_limit = 5000000 }
      assert.are.equal(5000000, h:heap().heap_limit)
      h:eval("(define (deep n) (if (= n 0) 0 (+ 1 (deep (- n 1)))))")
      assert.are.equal(20, h:eval("(deep 20)"))
      assert.are.equal("eval:1:37: stack overflow", errof(h.eval, h, "(deep 40)"))
    end)

    local bad = {
      { { foo = 1 }, "new: bad argument #1 (unknown option 'foo')" },
      { { [1] = 2 }, "new: bad argument #1 (unknown option '1')" },
      { { Workers = 1 }, "new: bad argument #1 (unknown option 'Workers')" },
      { { workers = "x" }, "new: bad argument #1 (option 'workers' must be an integer >= 0)" },
      { { workers = -1 }, "new: bad argument #1 (option 'workers' must be an integer >= 0)" },
      { { workers = 1.5 }, "new: bad argument #1 (option 'workers' must be an integer >= 0)" },
      { { workers = true }, "new: bad argument #1 (option 'workers' must be an integer >= 0)" },
      { { trace_capacity = 0 }, "new: bad argument #1 (option 'trace_capacity' must be an integer >= 1)" },
      { { log_capacity = -5 }, "new: bad argument #1 (option 'log_capacity' must be an integer >= 1)" },
      { { planner_capacity = 0 }, "new: bad argument #1 (option 'planner_capacity' must be an integer >= 1)" },
      { { max_depth = 0 }, "new: bad argument #1 (option 'max_depth' must be an integer >= 1)" },
      { { max_depth = "deep" }, "new: bad argument #1 (option 'max_depth' must be an integer >= 1)" },
      { { heap_limit = -1 }, "new: bad argument #1 (option 'heap_limit' must be an integer >= 0)" },
      { { heap_limit = 1.5 }, "new: bad argument #1 (option 'heap_limit' must be an integer >= 0)" },
      { { heap_limit = "1" .. "k" }, "new: bad argument #1 (option 'heap_limit' must be an integer >= 0)" },
      { { gc_stress = 1 }, "new: bad argument #1 (option 'gc_stress' must be a boolean or \"incremental\")" },
      { { gc_stress = "yes" }, "new: bad argument #1 (option 'gc_stress' must be a boolean or \"incremental\")" },
      { 5, "new: bad argument #1 (table expected, got number)" },
      { "opts", "new: bad argument #1 (table expected, got string)" },
    }
    for i, c in ipairs(bad) do
      it(("rejects bad options %d: %s"):format(i, c[2]), function()
        assert.are.equal(c[2], errof(function() return lispbt.new(c[1]) end))
      end)
    end

    it("integral floats are accepted as integers", function()
      local h <close> = lispbt.new{ max_depth = 50.0 }
      assert.are.equal(1, h:eval("1"))
    end)
  end)

  describe("close", function()
    it("is idempotent and returns nothing", function()
      local h = lispbt.new()
      assert.are.equal(0, select("#", h:close()))
      assert.are.equal(0, select("#", h:close()))
      h:close()
    end)

    it("every method raises 'NAME: host is closed' afterwards", function()
      local h = lispbt.new()
      local heap_stats, gc_stats = h.heap_stats, h.gc_stats
      h:close()
      local calls = {
        { "eval", function() return h:eval("1") end },
        { "eval", function() return h:eval("1", "chunk") end },
        { "load", function() return h:load("/dev/null") end },
        { "call", function() return h:call("car", { 1 }) end },
        { "get", function() return h:get("x") end },
        { "set", function() return h:set("x", 1) end },
        { "register_builtin", function() return h:register_builtin("f", print) end },
        { "heap", function() return h:heap() end },
        { "gc", function() return h:gc() end },
        { "heap-stats", function() return h.heap_stats() end },
        { "gc-stats", function() return h.gc_stats() end },
        { "heap-stats", function() return heap_stats() end },
        { "gc-stats", function() return gc_stats() end },
      }
      for i, c in ipairs(calls) do
        assert.are.equal(c[1] .. ": host is closed", errof(c[2]), "call " .. i)
      end
      assert.truthy(tostring(h):find("^lispbt%.host %(.-%) closed$"), tostring(h))
    end)

    it("values outliving close raise cleanly", function()
      local h = lispbt.new()
      local f = h:eval("(lambda (x) (* x 2))")
      local p = h:eval("'(1 . 2)")
      local prim = h:get("car")
      assert.are.equal(4, f(2))
      h:close()
      assert.are.equal("call: host is closed", errof(f, 2))
      assert.are.equal("call: host is closed", errof(prim, { 1 }))
      assert.are.equal("#<closed>", tostring(f))
      assert.are.equal("#<closed>", tostring(p))
      -- passing them to another host is an error, not a crash
      local other <close> = lispbt.new()
      local err = errof(other.call, other, "list", f)
      assert.are.equal("call: a Lisp value of another host cannot be used here", err)
      f, p, prim = nil, nil, nil
      collectgarbage()
      collectgarbage()
    end)

    it("__close closes a to-be-closed host at scope exit", function()
      local keep
      do
        local h <close> = lispbt.new()
        keep = h
        assert.are.equal(1, h:eval("1"))
      end
      assert.are.equal("eval: host is closed", errof(keep.eval, keep, "1"))
    end)

    it("__close runs on error exit too", function()
      local keep
      pcall(function()
        local h <close> = lispbt.new()
        keep = h
        error("leaving")
      end)
      assert.are.equal("eval: host is closed", errof(keep.eval, keep, "1"))
    end)

    it("hosts dropped without close are collected by Lua's GC", function()
      local weak = setmetatable({}, { __mode = "v" })
      for i = 1, 50 do
        local h = lispbt.new()
        h:eval("(define data (vec.make 1000 1))")
        h:register_builtin("cb", function() return h:eval("1") end) -- captures its host
        weak[i] = h
      end
      collectgarbage()
      collectgarbage()
      assert.is_nil(next(weak))
    end)

    it("a Lisp value keeps its host alive; the host goes when the value goes", function()
      local weak = setmetatable({}, { __mode = "v" })
      local f
      do
        local h = lispbt.new()
        weak[1] = h
        f = h:eval("(lambda (x) (* x 3))")
      end
      collectgarbage()
      collectgarbage()
      assert.is_not_nil(weak[1])
      assert.are.equal(9, f(3))
      f = nil
      collectgarbage()
      collectgarbage()
      assert.is_nil(weak[1])
    end)

    it("close from inside its own callback is refused", function()
      local h <close> = lispbt.new()
      h:register_builtin("closer", function() h:close() end)
      local err = errof(h.eval, h, "(closer)")
      assert.truthy(err:find("close: cannot close a host while it is running", 1, true), err)
      C.usable(h)
    end)
  end)

  describe("isolation", function()
    it("two hosts never see each other's globals", function()
      local a <close> = lispbt.new()
      local b <close> = lispbt.new()
      a:eval("(define only-in-a 1) (define shared 'a)")
      b:eval("(define shared 'b)")
      assert.is_nil(b:get("only-in-a"))
      assert.are.equal("eval:1:1: unbound symbol: only-in-a", errof(b.eval, b, "only-in-a"))
      assert.are.equal(lispbt.symbol("a"), a:get("shared"))
      assert.are.equal(lispbt.symbol("b"), b:get("shared"))
      a:eval("(define (car x) 'redefined)")
      assert.are.equal(1, b:eval("(car '(1))"))
      a:register_builtin("lua-fn", function() return "a" end)
      assert.are.equal("eval:1:1: unbound symbol: lua-fn", errof(b.eval, b, "(lua-fn)"))
    end)

    it("two hosts never see each other's heaps and counters", function()
      local a <close> = lispbt.new()
      local b <close> = lispbt.new()
      local b0 = b:heap()
      -- symbols are interned per host: new symbols in a do not grow b
      a:eval("(define syms (map (lambda (i) (string->symbol (string-append \"s\" (number->string i)))) "
        .. "(let loop ((i 0) (acc nil)) (if (= i 2000) acc (loop (+ i 1) (cons i acc))))))")
      a:eval("(let loop ((i 0)) (if (< i 200000) (begin (list i) (loop (+ i 1)))))")
      a:gc()
      assert.is_true(a:heap().collections > 1)
      assert.are.same(b0, b:heap())
      b:gc()
      assert.are.equal(b0.collections + 1, b:heap().collections)
    end)

    it("a closed host does not affect another", function()
      local a = lispbt.new()
      local b <close> = lispbt.new()
      b:eval("(define x 1)")
      a:close()
      assert.are.equal(1, b:get("x"))
      C.usable(b)
    end)

    it("a value from host A passed to host B gives a clear error", function()
      local a <close> = lispbt.new()
      local b <close> = lispbt.new()
      local f = a:eval("(lambda () 'from-a)")
      assert.are.equal("set: a Lisp value of another host cannot be used here", errof(b.set, b, "f", f))
      assert.are.equal("call: a Lisp value of another host cannot be used here", errof(b.call, b, "list", f))
      local g = b:eval("(lambda (x) x)")
      assert.are.equal("call: a Lisp value of another host cannot be used here", errof(g, f))
      -- symbols and plain data are not host values: they convert anywhere
      assert.are.equal(lispbt.symbol("s"), b:call("list", a:eval("'s"))[1])
      assert.are.same({ 1, 2 }, b:call("list", table.unpack(a:eval("'(1 2)"))))
      C.usable(a)
      C.usable(b)
    end)

    it("many hosts at once", function()
      local hosts = {}
      for i = 1, 20 do
        hosts[i] = lispbt.new()
        hosts[i]:eval(("(define id %d)"):format(i))
      end
      for i = 1, 20 do
        assert.are.equal(i, hosts[i]:get("id"))
        hosts[i]:close()
      end
    end)
  end)

  describe("the default host", function()
    it("lispbt.default() is one host, created on first use", function()
      local d = lispbt.default()
      assert.are.equal(d, lispbt.default())
      assert.are.equal("userdata", type(d))
      assert.are_not.equal(d, lispbt.new())
    end)

    it("module-level functions act on it", function()
      local d = lispbt.default()
      assert.are.equal(3, lispbt.eval("(+ 1 2)"))
      lispbt.set("host-spec-x", 41)
      assert.are.equal(41, d:get("host-spec-x"))
      assert.are.equal(41, lispbt.get("host-spec-x"))
      d:eval("(define (host-spec-inc n) (+ n 1))")
      assert.are.equal(42, lispbt.call("host-spec-inc", 41))
      lispbt.register_builtin("host-spec-lua", function(x) return x * 10 end)
      assert.are.equal(70, d:eval("(host-spec-lua 7)"))
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write("(define host-spec-loaded 'yes) host-spec-loaded")
      f:close()
      assert.are.equal(lispbt.symbol("yes"), lispbt.load(path))
      os.remove(path)
      assert.are.equal(d:heap().collections, lispbt.heap().collections)
      local c = lispbt.gc().collections
      assert.are.equal(c, d:heap().collections)
      assert.are.equal("mychunk:1:1: car: expected a cons, got 1",
        errof(lispbt.eval, "(car 1)", "mychunk"))
    end)

    it("has no module-level close, and the default host is separate from new hosts", function()
      assert.is_nil(lispbt.close)
      local h <close> = lispbt.new()
      lispbt.eval("(define host-spec-default-only 1)")
      assert.is_nil(h:get("host-spec-default-only"))
    end)

    it("once closed, the module functions raise 'NAME: host is closed'", function()
      -- in a subprocess: closing the default host here would affect other specs
      local out, ok = C.subprocess([[
        local lispbt = require("lispbt")
        local d = lispbt.default()
        d:close()
        for _, name in ipairs({ "eval", "get", "heap", "gc", "heap_stats" }) do
          local ok, err = pcall(lispbt[name], "1")
          io.write(name, " ", tostring(ok), " ", tostring(err), "\n")
        end
        local ok, err = pcall(lispbt.default)
        io.write("default ", tostring(ok), " ", tostring(err), "\n")
      ]])
      assert.is_true(ok, out)
      assert.are.equal(table.concat({
        "eval false eval: host is closed",
        "get false get: host is closed",
        "heap false heap: host is closed",
        "gc false gc: host is closed",
        "heap_stats false heap-stats: host is closed",
        "default false default: host is closed",
      }, "\n") .. "\n", out)
    end)
  end)
end)
