-- spec/compat/io_spec.lua -- print, write, write-to-string and save as
-- muesli-bt documents them (docs/language/reference/builtins/io/*.md), and
-- the reference's printed forms (the default print_style, "muesli"), and
-- our readable forms under print_style = "lispbt".
local H = require("compat.helpers")
local lispbt = require("lispbt")
local C = require("support.cases")

describe("compat: io", function()
  local h, path
  before_each(function() h = H.host(); path = os.tmpname() end)
  after_each(function() h:close(); os.remove(path) end)

  it("print and write: the reference's examples, their output and results", function()
    local out, ok = C.subprocess([[
      local h = require("lispbt").new { workers = 1 }
      local r = {}
      r[1] = h:eval('(write-to-string (print "hello"))')
      r[2] = h:eval('(write-to-string (begin (define x 3) (print "x=" x) x))')
      r[3] = h:eval('(write-to-string (write (list 1 2 3)))')
      r[4] = h:eval('(write-to-string (begin (define payload "ok") (write payload)))')
      io.stdout:write(table.concat(r, "|"), "\n")
    ]])
    assert.is_true(ok, out)
    -- print writes strings quoted, as the reference's printer does; write
    -- ends its line and returns its argument
    assert.are.equal('"hello"\n"x=" 3\n(1 2 3)\n"ok"\nnil|3|(1 2 3)|"ok"\n', out)
  end)

  it("write-to-string: the readable form", function()
    assert.are.equal("(1 2)", h:eval("(write-to-string (list 1 2))"))
    assert.are.equal("\"hi\"", h:eval("(begin (define s (write-to-string \"hi\")) s)"))
    assert.are.equal("(a (quote b) \"c\" 1.5 #t nil)", h:eval("(write-to-string '(a 'b \"c\" 1.5 #t nil))"))
  end)

  it("write and write-to-string reject what has no readable form, as the reference", function()
    for src, what in pairs({
      ["(vec.make)"] = "vec", ["(map.make)"] = "map", ["(lambda (x) x)"] = "closure",
      ["car"] = "primitive_fn", ["(rng.make 1)"] = "rng", ["(pq.make)"] = "pq",
      ["(list 1 (vec.make))"] = "vec",
    }) do
      assert.are.equal("write-to-string: cannot serialise " .. what .. " as readable data",
        H.err(h, "(write-to-string " .. src .. ")"))
      assert.are.equal("write: cannot serialise " .. what .. " as readable data",
        H.err(h, "(write " .. src .. ")"))
    end
    assert.are.equal("write-to-string: non-finite floats are not readable", H.err(h, "(write-to-string (/ 1 0))"))
    assert.are.equal("write: non-finite floats are not readable", H.err(h, "(write (list (/ 0.0 0)))"))
    C.usable(h)
  end)

  it("save returns #t and (load path) gives the value back", function()
    h:set("path", path)
    assert.are.equal("#t", H.show(h, "(save path 42)"))
    assert.are.equal("42", H.show(h, "(load path)"))
    assert.are.equal("#t", H.show(h, "(save path (list \"mode\" 1 #t))"))
    assert.are.equal("(\"mode\" 1 #t)", H.show(h, "(load path)"))
    assert.are.equal("#t", H.show(h, "(save path 'sym)"))
    assert.are.equal("sym", H.show(h, "(load path)"))
  end)

  it("save refuses unreadable values", function()
    h:set("path", path)
    assert.are.equal("save: cannot save a closure (it has no readable form)",
      H.err(h, "(save path (lambda (x) x))"))
  end)

  describe("the printed forms (print_style \"muesli\", the default)", function()
    it("prints floats with 15 significant digits, as the reference", function()
      assert.are.equal("(0.785398163397448 0.333333333333333 2.0 1e+21 0.1)",
        H.show(h, "(list (atan2 1 1) (/ 1 3) (/ 4 2) 1e21 0.1)"))
    end)

    it("prints infinities and NaN as inf, -inf, nan", function()
      assert.are.equal("(inf -inf nan)", H.printed(h, "(list (/ 1 0) (/ -1 0) (/ 0 0))"))
    end)

    it("prints quote forms in full and procedures, vecs and maps as the reference", function()
      assert.are.equal("((quote a) <primitive:car> <closure> <rng> <pq:0> <vec:2> <map:1>)",
        H.printed(h, "(list ''a car (lambda (x) x) (rng.make 1) (pq.make) (vec.make 2 0) (map.make 'k 1))"))
      assert.are.equal("(quasiquote (a (unquote b) (unquote-splicing c)))", H.show(h, "'`(a ,b ,@c)"))
    end)

    it("save still writes forms that read back equal", function()
      h:set("path", path)
      h:eval("(save path (atan2 1 1))")
      assert.are.equal(math.atan(1, 1), h:eval("(load path)"))
      h:eval("(save path (list (vec.make 2 1.5) (map.make 'k (/ 1 0))))")
      assert.is_true(h:eval("(let ((x (load path))) (and (= (vec.get (car x) 1) 1.5) (= (map.get (car (cdr x)) 'k) (/ 1 0))))"))
    end)

    it("print quotes strings, as the reference's printer does", function()
      local out, ok = C.subprocess([[
        local h = require("lispbt").new { workers = 1 }
        h:eval('(print "x=" 3 (/ 1 3) \'(quote a) (vec.make 1 0))')
      ]])
      assert.is_true(ok, out)
      assert.are.equal('"x=" 3 0.333333333333333 (quote a) <vec:1>\n', out)
    end)
  end)

  describe("print_style = \"lispbt\"", function()
    local m
    before_each(function() m = lispbt.new { workers = 1, print_style = "lispbt" } end)
    after_each(function() m:close() end)

    it("writes floats that read back, quote sugar, vecs, maps and procedures readably or as #<...>", function()
      assert.are.equal("(0.7853981633974483 +inf.0 -inf.0 'a #(1 2) #{k 1} #<primitive car> #<closure f>)",
        H.show(m, "(define (f) 1) (list (atan2 1 1) (/ 1 0) (/ -1 0) ''a #(1 2) (map.make 'k 1) car f)"))
    end)

    it("is switched per host by print-style", function()
      assert.are.equal("lispbt", m:eval("(symbol->string (print-style 'muesli))"))
      assert.are.equal("(0.785398163397448 (quote a))", H.show(m, "(list (atan2 1 1) ''a)"))
      assert.are.equal("muesli", h:eval("(symbol->string (print-style 'lispbt))"))
      assert.are.equal("(0.7853981633974483 +inf.0 'a)", H.show(h, "(list (atan2 1 1) (/ 1 0) ''a)"))
    end)

    it("print displays strings without quotes", function()
      local out, ok = C.subprocess([[
        local h = require("lispbt").new { workers = 1, print_style = "lispbt" }
        h:eval('(print "x=" 3 (/ 1 3) \'(quote a) (vec.make 1 0))')
      ]])
      assert.is_true(ok, out)
      assert.are.equal("x= 3 0.3333333333333333 'a #(0)\n", out)
    end)

    it("refuses other styles", function()
      local ok, e = pcall(lispbt.new, { print_style = "scheme" })
      assert.is_false(ok)
      assert.matches("print_style", tostring(e))
    end)
  end)
end)
