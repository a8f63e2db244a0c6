-- spec/compat/io_spec.lua -- print, write, write-to-string and save as
-- muesli-bt documents them (docs/language/reference/builtins/io/*.md), and
-- the printed forms of its printer under print_style = "muesli".
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
    -- print displays strings without quotes (see docs/compat.md); write
    -- ends its line and returns its argument
    assert.are.equal('hello\nx= 3\n(1 2 3)\n"ok"\nnil|3|(1 2 3)|"ok"\n', out)
  end)

  it("write-to-string: the readable form", function()
    assert.are.equal("(1 2)", h:eval("(write-to-string (list 1 2))"))
    assert.are.equal("\"hi\"", h:eval("(begin (define s (write-to-string \"hi\")) s)"))
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

  describe("print_style = \"muesli\"", function()
    local m
    before_each(function() m = lispbt.new { workers = 1, print_style = "muesli" } end)
    after_each(function() m:close() end)

    it("prints floats with 15 significant digits, as the reference", function()
      assert.are.equal("(0.785398163397448 0.333333333333333 2.0 1e+21 0.1)",
        H.show(m, "(list (atan2 1 1) (/ 1 3) (/ 4 2) 1e21 0.1)"))
    end)

    it("prints infinities and NaN as inf, -inf, nan", function()
      assert.are.equal("(inf -inf nan)", H.show(m, "(list (/ 1 0) (/ -1 0) (/ 0 0))"))
    end)

    it("prints quote forms in full and procedures as the reference", function()
      assert.are.equal("((quote a) <primitive:car> <closure> <rng> <pq:0>)",
        H.show(m, "(list ''a car (lambda (x) x) (rng.make 1) (pq.make))"))
    end)

    it("save still writes forms that read back equal", function()
      m:set("path", path)
      m:eval("(save path (atan2 1 1))")
      assert.are.equal(math.atan(1, 1), m:eval("(load path)"))
    end)

    it("is switched per host by print-style", function()
      assert.are.equal("muesli", m:eval("(symbol->string (print-style 'lispbt))"))
      assert.are.equal("(0.7853981633974483 +inf.0 'a)", H.show(m, "(list (atan2 1 1) (/ 1 0) ''a)"))
      assert.are.equal("(0.785398163397448)", H.show(h, "(print-style 'muesli) (list (atan2 1 1))"))
    end)

    it("print quotes strings, as the reference's printer does", function()
      local out, ok = C.subprocess([[
        local h = require("lispbt").new { workers = 1, print_style = "muesli" }
        h:eval('(print "x=" 3 (/ 1 3) \'(quote a))')
      ]])
      assert.is_true(ok, out)
      assert.are.equal('"x=" 3 0.333333333333333 (quote a)\n', out)
    end)

    it("refuses other styles", function()
      local ok, e = pcall(lispbt.new, { print_style = "scheme" })
      assert.is_false(ok)
      assert.matches("print_style", tostring(e))
    end)
  end)
end)
