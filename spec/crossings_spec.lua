-- spec/crossings_spec.lua -- the fast paths of Lua<->Lisp calls: host:call
-- with immediate arguments and results, Lisp calls of Lua functions with
-- immediate arguments (called without a bridge, the callback table kept on
-- the Lua stack between calls), and everything around them that must keep
-- working: errors as values, nested hosts and coroutines, other types.
local lispbt = require("lispbt")

local function host()
  return lispbt.new({workers = 0})
end

describe("Lua<->Lisp crossings", function()
  it("host:call converts immediates both ways and other values as before", function()
    local h <close> = host()
    h:eval("(define (id x) x) (define (add a b) (+ a b))")
    assert.are.equal(3, h:call("add", 1, 2))
    assert.are.equal(3.5, h:call("add", 1, 2.5))
    assert.are.equal(true, h:call("id", true))
    assert.are.equal(false, h:call("id", false))
    assert.is_nil(h:call("id", nil))
    assert.are.equal("s", h:call("id", "s"))
    assert.are.same({1, 2}, h:call("id", {1, 2}))
    assert.are.equal(math.maxinteger, h:call("id", math.maxinteger))
    assert.are.equal(math.type(h:call("id", 2.0)), "float")
    local ok, err = pcall(h.call, h, "add", 1, "x")
    assert.is_false(ok)
    assert.matches("%+: expected a number", err)
    assert.are.equal(5, h:call("add", 2, 3))
  end)

  it("host methods still reject what is not a host", function()
    local h <close> = host()
    local call = h.call
    local ok, err = pcall(call, {}, "x")
    assert.is_false(ok)
    assert.matches("call: bad self %(lispbt.host expected, got table%)", err)
    ok, err = pcall(call, io.stdout, "x")
    assert.is_false(ok)
    assert.matches("call: bad self %(lispbt.host expected", err)
    local inst = h:compile("(act always-success)"):instance()
    ok, err = pcall(call, inst, "x")
    assert.is_false(ok)
    assert.matches("call: bad self %(lispbt.host expected", err)
  end)

  it("host:call's name cache follows redefinition, unbinding, collection and many names", function()
    local h <close> = host()
    h:eval("(define (f) 1)")
    assert.are.equal(1, h:call("f"))
    assert.are.equal(1, h:call("f"))            -- cached
    h:eval("(define (f) 2)")
    assert.are.equal(2, h:call("f"))            -- the binding is read at each call
    h:eval("(define f 3)")
    local ok, err = pcall(h.call, h, "f")
    assert.is_false(ok)
    assert.matches("not a procedure: 3", err)
    ok, err = pcall(h.call, h, "never-bound")
    assert.is_false(ok)
    assert.matches("call: unbound symbol: never%-bound", err)
    ok, err = pcall(h.call, h, "never-bound")   -- again: a failed call caches nothing
    assert.is_false(ok)
    assert.matches("call: unbound symbol: never%-bound", err)
    -- a name first called unbound, collections, then defined: the call finds
    -- the definition (no stale symbol is kept for it)
    ok = pcall(h.call, h, "late-bound")
    assert.is_false(ok)
    collectgarbage()
    h:gc()
    h:eval("(define (late-bound) 'now)")
    assert.are.equal("now", tostring(h:call("late-bound")))
    -- many names through the few slots, each call answered by its own name,
    -- with collections (Lua and Lisp) in between
    local names = {}
    for i = 1, 40 do
      names[i] = "g" .. i
      h:eval("(define (" .. names[i] .. " x) (+ x " .. i .. "))")
    end
    for round = 1, 3 do
      for i = 1, 40 do
        assert.are.equal(100 * round + i, h:call(names[i], 100 * round))
        assert.are.equal(100 * round + i, h:call("g" .. i, 100 * round))
      end
      collectgarbage()
      h:gc()
    end
    -- a long (not interned by Lua) name and a number converted to a name
    local long = string.rep("x", 60)
    h:eval("(define (" .. long .. ") 'long)")
    assert.are.equal("long", tostring(h:call(long)))
    assert.are.equal("long", tostring(h:call(string.rep("x", 60))))
    ok, err = pcall(h.call, h, 5)
    assert.is_false(ok)
    assert.matches("call: unbound symbol: 5", err)
    ok, err = pcall(h.call, h, "")
    assert.is_false(ok)
    assert.matches("call: bad argument #1 %(name must not be empty%)", err)
    ok, err = pcall(h.call, h, "a\0b")
    assert.is_false(ok)
    assert.matches("call: bad argument #1 %(name contains a NUL byte%)", err)
  end)

  it("a host's methods and namespace, by dot and colon, and each host its own", function()
    local h <close> = host()
    local g <close> = host()
    h:eval("(define (who) 'h)")
    g:eval("(define (who) 'g)")
    assert.are.equal("h", tostring(h.call(h, "who")))
    assert.are.equal("g", tostring(g:call("who")))
    assert.are.equal(h.call, g.call)                 -- the same methods
    assert.are_not.equal(h.bt, g.bt)                 -- each its own namespace
    assert.are.equal("table", type(h.bt))
    assert.is_nil(h.no_such_method)
    assert.are.equal("lispbt.host", getmetatable(h).__name)
    assert.matches("^lispbt.host %(", tostring(h))
    local ok, err = pcall(h.call, g.bt, "who")
    assert.is_false(ok)
    assert.matches("call: bad self %(lispbt.host expected, got table%)", err)
    h:close()
    assert.matches("closed$", tostring(h))
    ok, err = pcall(h.call, h, "who")
    assert.is_false(ok)
    assert.matches("call: host is closed", err)
  end)

  it("Lua functions called from Lisp get and return immediates directly", function()
    local h <close> = host()
    local seen = {}
    h:register_builtin("lua-f", function(...)
      seen[#seen + 1] = table.pack(...)
      return ...
    end)
    assert.are.equal(7, h:eval("(lua-f 7)"))
    assert.are.equal(1.5, h:eval("(lua-f 1.5)"))
    assert.are.equal(true, h:eval("(lua-f #t)"))
    assert.is_nil(h:eval("(lua-f nil)"))
    assert.are.equal("str", h:eval("(lua-f \"str\")"))   -- through the bridge
    assert.are.same({1, 2}, h:eval("(lua-f '(1 2))"))
    assert.are.equal(1, h:eval("(lua-f 1 2 3)"))
    assert.are.same({1, 2, 3}, {seen[#seen][1], seen[#seen][2], seen[#seen][3]})
    assert.are.equal(1, seen[1].n)
    h:register_builtin("lua-t", function() return {a = 1} end)
    assert.are.same({a = 1}, h:eval("(lua-t)"))
  end)

  it("errors in Lua callbacks become Lisp errors, many times over", function()
    local h <close> = host()
    h:register_builtin("boom", function(x) error("bad " .. tostring(x), 0) end)
    h:register_builtin("twice", function(x) return x * 2 end)
    for i = 1, 50 do
      local ok, err = pcall(h.eval, h, "(boom " .. i .. ")")
      assert.is_false(ok)
      assert.matches("boom: bad " .. i, err)
      assert.are.equal(2 * i, h:eval("(twice " .. i .. ")"))
    end
  end)

  it("callbacks nested in callbacks, other hosts and coroutines find their own table", function()
    local h <close> = host()
    local g <close> = host()
    g:register_builtin("gf", function(x) return x + 1000 end)
    h:register_builtin("inner", function(x) return x + 1 end)
    h:register_builtin("outer", function(x)
      -- a nested evaluation on the same host, one on another host, and one
      -- from a coroutine, each calling Lua back
      local a = h:eval("(inner " .. x .. ")")
      local b = g:eval("(gf " .. x .. ")")
      local co = coroutine.wrap(function() return h:eval("(inner 100)") end)
      return a + b + co()
    end)
    h:eval("(define (loop i acc) (if (< i 20) (loop (+ i 1) (+ acc (outer i) (inner i))) acc))")
    local expect = 0
    for i = 0, 19 do
      expect = expect + (i + 1) + (i + 1000) + 101 + (i + 1)
    end
    assert.are.equal(expect, h:eval("(loop 0 0)"))
    assert.are.equal(expect, h:eval("(loop 0 0)"))
  end)

  it("a callback table slot survives Lua stack changes between calls", function()
    local h <close> = host()
    local n = 0
    h:register_builtin("count", function() n = n + 1; return n end)
    -- many calls per evaluation and many evaluations, with Lua stacks of
    -- different depths around them
    local function deep(d)
      if d == 0 then
        return h:eval("(begin (count) (count) (count))")
      end
      return deep(d - 1)
    end
    for d = 0, 30 do
      deep(d)
    end
    assert.are.equal(93, n)
  end)
end)

describe("Lua<->Lisp crossings, long alternations", function()
  it("a loop alternating outer and nested callbacks keeps the Lua stack bounded", function()
    local h <close> = lispbt.new({workers = 0})
    h:register_builtin("inner", function(x) return x end)
    h:eval("(define (in x a b c d e f) (inner x))")
    -- each outer callback runs a nested host:call whose Lisp code calls Lua
    -- back; over a million alternations a slot leaked per call would
    -- overflow the Lua stack (LUAI_MAXSTACK is 1,000,000 slots)
    h:register_builtin("outer", function(x) return h:call("in", x, 1, 2, 3, 4, 5, 6) end)
    h:eval("(define (loop i n) (if (< i n) (begin (outer i) (loop (+ i 1) n)) i))")
    assert.are.equal(1100000, h:eval("(loop 0 1100000)"))
  end)
end)

describe("Lua leaves within one tick", function()
  it("leaves of few and many arguments, results of every type, in one seq, tick after tick", function()
    local h <close> = lispbt.new({workers = 0})
    local seen = {}
    h:register_action("few", function(ctx, a)
      seen[#seen + 1] = a
      return true
    end)
    h:register_action("many", function(ctx, ...)
      seen[#seen + 1] = select("#", ...) .. ":" .. (select(40, ...))
      return "success"
    end)
    h:register_condition("yes", function(ctx) return 1 end)
    h:register_action("nilres", function(ctx) return nil end)
    local args = {}
    for i = 1, 40 do args[i] = tostring(i) end
    local src = "(seq (act few 1) (act many " .. table.concat(args, " ") .. ") (cond yes) (act few 2.5)"
        .. " (act many " .. table.concat(args, " ") .. ") (act few #t) (sel (act nilres) (act few 3)))"
    local inst = h:compile(src):instance()
    for t = 1, 3 do
      seen = {}
      assert.are.equal("success", inst:tick())
      assert.are.same({1, "40:40", 2.5, "40:40", true, 3}, seen)
    end
    h:register_action("bad", function() return 42 end)
    local inst2 = h:compile("(seq (act few 1) (act bad) (act few 2))"):instance()
    assert.are.equal("failure", inst2:tick())
  end)
end)

describe("host:call's immediate-argument path (lisp_pcallsym)", function()
  it("takes 0 to 6 immediate arguments, and 7 or any other value on the general path", function()
    local h <close> = lispbt.new({workers = 0})
    h:eval("(define (args . xs) xs) (define (n . xs) (length xs))")
    assert.is_nil(h:call("args"))                            -- the empty list is nil
    assert.is_nil(h:call("args"))                            -- cached name, no argument
    for k = 1, 8 do
      local xs = {}
      for i = 1, k do xs[i] = i end
      assert.are.equal(k, h:call("n", table.unpack(xs)))
      assert.are.same(xs, h:call("args", table.unpack(xs)))  -- a heap result, converted
    end
    assert.are.same({1, 2.5, true, false}, h:call("args", 1, 2.5, true, false))
    assert.are.equal(3, h:call("n", nil, 1, nil))
    assert.are.equal(math.type(h:call("n", 1.0)), "integer")
    assert.are.same({"s", 1}, h:call("args", "s", 1))       -- a string: the general path
  end)

  it("keeps a heap result rooted until it is converted, under gc_stress", function()
    local h <close> = lispbt.new({workers = 0, gc_stress = true})
    h:eval("(define (mk a b) (list a (list b b) (vec.make 2 a)))")
    for i = 1, 20 do
      local r = h:call("mk", i, i + 0.5)
      assert.are.equal(i, r[1])
      assert.are.same({i + 0.5, i + 0.5}, r[2])
    end
  end)

  it("raises Lisp errors as Lua errors and leaves the host usable, at every nesting", function()
    local h <close> = lispbt.new({workers = 0})
    h:eval("(define (add a b) (+ a b)) (define (bad x . more) (car x)) (define (deep n) (if (= n 0) (bad 1) (+ 1 (deep (- n 1)))))")
    h:register_builtin("viacall", function(name, x) return h:call(name, x, 1) end)
    h:register_builtin("guarded", function(x)
      local ok, err = pcall(h.call, h, "bad", x)      -- a Lisp error inside, caught in Lua
      assert(not ok and err:match("car: expected a cons"))
      return h:call("add", x, 1)
    end)
    h:eval("(define (outer x) (+ (viacall \"add\" x) (guarded x)))")
    for i = 1, 200 do
      local ok, err = pcall(h.call, h, "deep", 50)
      assert.is_false(ok)
      assert.matches("car: expected a cons", err)
      ok, err = pcall(h.call, h, "outer", "x")        -- the general path, a conversion
      assert.is_false(ok)
      assert.are.equal(2 * (i + 1), h:call("outer", i))
      ok, err = pcall(h.call, h, "viacall", "bad", i) -- Lisp -> Lua -> Lisp error -> Lisp error
      assert.is_false(ok)
      assert.matches("viacall: .*car: expected a cons", err)
    end
    assert.are.equal(3, h:call("add", 1, 2))
  end)

  it("a raising Lua builtin inside a Lisp leaf fails the node, the tick and the call go on", function()
    local h <close> = lispbt.new({workers = 0})
    h:register_builtin("boom", function(x) error("boom " .. x, 0) end)
    h:eval([[
      (bt.register-action 'lisp-boom (lambda (i) (boom 7)))
      (define t (bt.compile '(sel (act lisp-boom) (act always-success))))
      (define inst (bt.new-instance t))
      (define (tickit n) (if (= n 0) (bt.tick inst) (begin (bt.tick inst) (tickit (- n 1)))))
    ]])
    for _ = 1, 3 do
      assert.are.equal("success", tostring(h:call("tickit", 5)))
    end
    assert.matches("boom 7", h:logs(1)[1].msg)
  end)
end)

describe("Lua leaves: status strings and ctx fields", function()
  it("matches status strings made at run time and reads ctx fields of the running leaf", function()
    local h <close> = lispbt.new({workers = 0})
    local got = {}
    h:register_action("st", function(ctx, s)
      got[#got + 1] = ctx.name .. "@" .. ctx.node .. "#" .. ctx.tick
      return (s == 1 and "succ" or s == 2 and "runn" or "fail") .. (s == 1 and "ess" or s == 2 and "ing" or "ure")
    end)
    h:register_action("long", function() return ("success"):rep(2):sub(1, 7) end)
    h:register_action("nope", function() return "Success" end)
    local inst = h:compile("(seq (act st 1) (act long) (sel (act nope) (act st 3) (act st 2)))"):instance()
    assert.are.equal("running", inst:tick())
    assert.are.same({"st@1#1", "st@5#1", "st@6#1"}, got)
    assert.matches("returned \"Success\"", h:logs(1)[1].msg)
  end)
end)
