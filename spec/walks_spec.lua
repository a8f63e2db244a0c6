-- spec/walks_spec.lua -- recursive walks over data are bounded (issue 13).
--
-- Every walk over a value (equal?, the printer behind write-to-string,
-- error messages and tostring, save, bt.save-dsl, conversion to and from
-- Lua, tree:to_dsl) must end cleanly on three kinds of input that used to
-- crash or hang: 200000-deep nesting (C stack overflow), a vec or map that
-- contains itself (endless recursion), and a value doubled 40 times
-- (2^40 leaves through sharing: exponential time and memory).  There are no
-- timing assertions: a walk that does not finish hangs this file.
local lispbt = require("lispbt")

-- Lisp helpers: vec2/map1 build one level, deep* nest N levels, dbl* double.
local PRELUDE = [[
(define (vec2 a b) (let ((v (vec.make 2 0))) (vec.set! v 0 a) (vec.set! v 1 b) v))
(define (map2 a b) (map.make 'a a 'b b))
(define (deepv n) (let loop ((i 0) (x 1)) (if (= i n) x (loop (+ i 1) (vec.make 1 x)))))
(define (deepm n) (let loop ((i 0) (x 1)) (if (= i n) x (loop (+ i 1) (map.make 'k x)))))
(define (deepl n) (let loop ((i 0) (x 1)) (if (= i n) x (loop (+ i 1) (list x)))))
(define (dbl make x n) (if (= n 0) x (dbl make (make x x) (- n 1))))
(define (selfv) (let ((v (vec.make 2 0))) (vec.set! v 0 v) v))
(define (selfm) (let ((m (map.make))) (map.set! m 'me m) m))
]]

-- The inputs, as Lisp expressions (each evaluates to a fresh value).
local INPUTS = {
  { "200000-deep vec", "(deepv 200000)" },
  { "200000-deep map", "(deepm 200000)" },
  { "200000-deep list", "(deepl 200000)" },
  { "self-containing vec", "(selfv)" },
  { "self-containing map", "(selfm)" },
  { "list doubled 40 times", "(dbl cons '(1) 40)" },
  { "vec doubled 40 times", "(dbl vec2 (vec.make 1 1) 40)" },
  { "map doubled 40 times", "(dbl map2 #{x 1} 40)" },
}

-- The walks of the readable printer: print_style "lispbt" (the default,
-- muesli-bt's style, prints a vec or map as <vec:N> / <map:N> and so
-- never walks into one).
local function newhost(opts)
  opts = opts or {}
  if opts.print_style == nil then
    opts.print_style = "lispbt"
  end
  local h = lispbt.new(opts)
  h:eval(PRELUDE)
  return h
end

-- Run f; it must either return or raise a string matching 'pattern' (a
-- Lua pattern; nil = any 'NAME: PROBLEM' message).  The host stays healthy.
local function ends(h, pattern, f, ...)
  local ok, res = pcall(f, ...)
  if not ok then
    assert.is_string(res)
    assert.matches(pattern or "^[%w%.%-_:]+: ", res)
  end
  assert.equals(3, h:eval("(+ 1 2)"))
  return ok, res
end

describe("walks", function()
  local h
  -- a smaller print limit keeps the file fast; the default is checked below
  setup(function() h = newhost({ print_limit = 65536 }) end)
  teardown(function() h:close() end)

  for _, input in ipairs(INPUTS) do
    local name, expr = input[1], input[2]
    describe(name, function()
      setup(function() h:eval("(define x " .. expr .. ") (define y " .. expr .. ") nil") end)

      it("equal? ends (true for the same structure, or the depth error)", function()
        local ok, r = ends(h, "equal%?: structure nested too deeply", h.eval, h, "(equal? x y)")
        if ok then assert.is_true(r) end
        assert.is_true(h:eval("(equal? x x)"))
      end)

      it("write-to-string is bounded by the print limit", function()
        local n = h:eval("(string-length (write-to-string x))")
        assert.is_true(n <= 65536 + 3)
      end)

      it("error messages print at most 100 bytes of the value", function()
        for _, src in ipairs { "(hash64 x)", "(+ 1 x)", "(x)", "(string-length x)" } do
          local ok, err = ends(h, nil, h.eval, h, src)
          assert.is_false(ok)
          assert.is_true(#err < 300, err)
        end
        local ok, err = ends(h, nil, h.eval, h, '(error "boom" x x x)')
        assert.is_false(ok)
        assert.is_true(#err < 450)
      end)

      it("tostring of the value is bounded", function()
        local v = h:eval("(cons x 1)") -- an improper list stays a lispbt.value
        assert.equals("userdata", type(v))
        assert.is_true(#tostring(v) <= 65536 + 3)
      end)

      it("converts to Lua (sharing kept) or raises a clean depth error", function()
        local ok, t = ends(h, "^get: value nested deeper than 1000 levels$", h.get, h, "x")
        if ok and name:find("list doubled") then
          -- x = (cons y y): its elements are y and then y's own elements
          assert.equals(t[1][1], t[2])
        elseif ok and name:find("doubled") then
          local a, b = next(t)
          local _, d = next(t, a)
          assert.equals(b, d) -- both halves are the same Lua table
        elseif ok and name:find("self") then
          local found = false
          for _, v in pairs(t) do found = found or v == t end
          assert.is_true(found) -- the table contains itself
        end
      end)

      it("save ends with a clean error", function()
        local path = os.tmpname()
        local ok = ends(h, "^eval:1:1: save: ", h.eval, h, '(save "' .. path .. '" x)')
        assert.is_false(ok)
        os.remove(path)
      end)

      it("a tree with it as a leaf argument: to_dsl, bt.save-dsl", function()
        local t = h:eval("(bt.compile (list 'act 'walks-leaf x))")
        ends(h, "^bt%.to%-dsl: value nested deeper than 1000 levels$", t.to_dsl, t)
        local n = h:eval("(string-length (write-to-string (bt.to-dsl (bt.compile (list 'act 'walks-leaf x)))))")
        assert.is_true(n <= 65536 + 3)
        local path = os.tmpname()
        local ok = ends(h, "^eval:1:1: bt%.save%-dsl: ", h.eval, h,
          '(bt.save-dsl (bt.compile (list \'act \'walks-leaf x)) "' .. path .. '")')
        assert.is_false(ok)
        os.remove(path)
      end)
    end)
  end

  describe("output bound", function()
    it("cuts at the default print limit with ...", function()
      local h2 <close> = newhost()
      local s = h2:eval("(write-to-string (dbl cons '(1) 40))")
      assert.equals(1048576 + 3, #s)
      assert.equals("...", s:sub(-3))
      assert.equals(1048576, h2:eval("(print-limit)"))
    end)

    it("cuts at a print_limit given to lispbt.new", function()
      local h2 <close> = newhost({ print_limit = 64 })
      local s = h2:eval("(write-to-string (dbl vec2 (vec.make 1 1) 40))")
      assert.equals(64 + 3, #s)
      assert.equals("#(#(#(", s:sub(1, 6))
      assert.equals("...", s:sub(-3))
      assert.equals(64, h2:eval("(print-limit)"))
      assert.equals("(1 2 3)", h2:eval("(write-to-string '(1 2 3))")) -- short values whole
      local v = h2:eval("(cons (deepl 100) 1)")
      assert.equals(64 + 3, #tostring(v))
      local ok, err = pcall(h2.eval, h2, '(save "/tmp/lispbt-walks-none" (dbl cons \'(1) 8))')
      assert.is_false(ok)
      assert.equals("eval:1:1: save: value too large (its written form is over the print limit, 64 bytes)", err)
    end)

    it("print-limit sets the limit at run time", function()
      local h2 <close> = newhost()
      assert.equals(1048576, h2:eval("(print-limit 20)"))
      assert.equals("(1 2 3 4 5 6 7 8 9 1...", h2:eval("(write-to-string '(1 2 3 4 5 6 7 8 9 10 11 12))"))
      assert.equals(20, h2.print_limit())
      local ok, err = pcall(h2.eval, h2, "(print-limit 3)")
      assert.is_false(ok)
      assert.equals("eval:1:1: print-limit: expected an integer in 16..1000000000, got 3", err)
    end)

    it("a bad print_limit option is refused", function()
      local ok, err = pcall(lispbt.new, { print_limit = 3 })
      assert.is_false(ok)
      assert.equals("new: bad argument #1 (option 'print_limit' must be an integer >= 16)", err)
    end)

    it("a long string is cut too", function()
      local h2 <close> = newhost({ print_limit = 16 })
      assert.equals('"aaaaaaaaaaaaaaa...', h2:call("write-to-string", string.rep("a", 100000)))
    end)
  end)

  describe("Lua to Lisp", function()
    it("a table doubled 40 times converts once per table, shared", function()
      local t = { 1 }
      for _ = 1, 40 do t = { t, t } end
      assert.equals(2, h:call("length", t))
      h:set("dt", t)
      assert.is_true(h:eval("(eq? (car dt) (car (cdr dt)))"))
      assert.equals(65536 + 3, h:eval("(string-length (write-to-string dt))"))
    end)

    it("cyclic and too deep tables end in the clean error", function()
      local c = {}
      c.self = c
      local ok, err = pcall(h.set, h, "c", c)
      assert.is_false(ok)
      assert.equals("set: table is cyclic or nested deeper than 100 levels", err)
      local d = {}
      for _ = 1, 200000 do d = { d } end
      ok, err = pcall(h.call, h, "length", d)
      assert.is_false(ok)
      assert.equals("call: table is cyclic or nested deeper than 100 levels", err)
      assert.equals(3, h:eval("(+ 1 2)"))
    end)
  end)

  describe("deep DSL arguments", function()
    it("tree:to_dsl of 130-deep quoted arguments", function()
      local src = "(act foo '" .. string.rep("(", 130) .. "1" .. string.rep(")", 130) .. ")"
      local t = h:compile(src)
      local d = t:to_dsl()
      local x, depth = d[3], 0
      while type(x) == "table" do x, depth = x[#x], depth + 1 end
      assert.is_true(depth >= 130)
    end)

    it("the reader and compiler refuse deeper input cleanly", function()
      local ok, err = pcall(h.eval, h, string.rep("(", 200000) .. string.rep(")", 200000))
      assert.is_false(ok)
      assert.matches("form nested too deeply", err)
      ok, err = pcall(h.eval, h, string.rep("#(", 200000) .. string.rep(")", 200000))
      assert.is_false(ok)
      assert.matches("form nested too deeply", err)
      assert.equals(3, h:eval("(+ 1 2)"))
    end)
  end)
end)
