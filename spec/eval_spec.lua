-- spec/eval_spec.lua -- special forms and every library of the Lisp.
-- The bulk lives in spec/support/eval_cases.lua (also run under gc_stress
-- by spec/gc_spec.lua); this file adds what needs files or stdout.
local lispbt = require("lispbt")
local C = require("support.cases")

describe("lisp eval", function()
  describe("cases", function()
    C.define(require("support.eval_cases"))
  end)

  -- the readable printer: print_style "lispbt" (the default prints
  -- muesli-bt's forms, which need not read back; spec/compat/io_spec.lua)
  describe("write / read round trip", function()
    local h
    before_each(function() h = lispbt.new({ print_style = "lispbt" }) end)
    after_each(function() h:close() end)

    local values = {
      "42", "-7", "0", "9223372036854775807", "-9223372036854775808",
      "1.5", "-0.25", "100.0", "1e+300", "1e-300", "0.1", "(/ 1.0 3)", "+inf.0", "-inf.0",
      "#t", "#f", "nil", "\"\"", "\"tab\\tnl\\nquote\\\"back\\\\cr\\r\"",
      "'sym", "':kw", "'bt.compile", "'(1 2 3)", "'(1 . 2)", "'(1 (2 (3 (4))) . 5)",
      "''x", "'`(a ,b ,@c)", "(vec.make 3 1.5)", "#(1 #(2) \"s\")", "(map.make 'a 1 \"b\" '(2 3))",
      "#{1 #{2 #(3)}}", "(list (vec.make) (map.make) '())",
    }
    for _, src in ipairs(values) do
      it("reads back " .. src, function()
        h:eval("(define x " .. src .. ")")
        local text = h:eval("(write-to-string x)")
        assert.is_string(text)
        -- the written text, read back by the reader, is equal? to x
        assert.is_true(h:eval("(equal? x '" .. text .. ")"), text)
        -- and writing it again gives the same text
        assert.are.equal(text, h:eval("(write-to-string '" .. text .. ")"))
      end)
    end

    it("floats stay floats and integers stay integers", function()
      for _, src in ipairs({ "2.0", "1e3", "-0.0", "123456789012.0" }) do
        local text = h:eval("(write-to-string " .. src .. ")")
        assert.is_true(h:eval("(float? " .. text .. ")"), text)
      end
      assert.are.equal("2", h:eval("(write-to-string 2)"))
    end)

    it("NaN writes as +nan.0 and reads back as NaN", function()
      assert.are.equal("+nan.0", h:eval("(write-to-string +nan.0)"))
      local v = h:eval("+nan.0")
      assert.is_true(v ~= v)
    end)

    it("unreadable objects print as #<...>", function()
      assert.are.equal("#<closure>", h:eval("(write-to-string (lambda () 1))"))
      assert.are.equal("#<primitive cons>", h:eval("(write-to-string cons)"))
      assert.are.equal("#<rng>", h:eval("(write-to-string (rng.make 3))"))
    end)
  end)

  describe("save and load", function()
    local h, path
    before_each(function()
      h = lispbt.new()
      path = os.tmpname()
    end)
    after_each(function()
      h:close()
      os.remove(path)
    end)

    it("save then (load path) gives an equal value", function()
      h:set("path", path)
      h:eval("(define data (list 1 2.5 \"s\\n\" 'sym #(1 2) (map.make 'k '(a . b)) #t #f nil))")
      assert.is_true(h:eval("(save path data)"))
      -- the file holds the written form, quoted so that it evaluates back
      -- to the value (muesli-bt's save), and a newline
      local f = assert(io.open(path))
      local text = f:read("a")
      f:close()
      -- save always writes the readable (lispbt) form, whatever the style
      assert.are.equal("(quote " .. h:eval("(print-style 'lispbt) (write-to-string data)") .. ")\n", text)
      h:eval("(print-style 'muesli)")
      h:eval("(define loaded (load path))")
      assert.is_true(h:eval("(equal? loaded data)"))
    end)

    it("save of a symbol loads back as the symbol", function()
      h:set("path", path)
      assert.is_true(h:eval("(save path 'sym)"))
      assert.is_true(h:eval("(eq? (load path) 'sym)"))
    end)

    it("save of a number loads back as itself", function()
      h:set("path", path)
      h:eval("(save path 1.5)")
      assert.are.equal(1.5, h:eval("(load path)"))
      assert.are.equal("float", math.type(h:eval("(load path)")))
      h:eval("(save path 12)")
      assert.are.equal("integer", math.type(h:eval("(load path)")))
    end)

    it("host:load evaluates a file and returns the last value", function()
      local f = assert(io.open(path, "w"))
      f:write("(define (sq x) (* x x))\n; comment\n(sq 12)\n")
      f:close()
      assert.are.equal(144, h:load(path))
      assert.are.equal(9, h:call("sq", 3))
    end)

    it("errors in a loaded file name the file and line", function()
      local f = assert(io.open(path, "w"))
      f:write("(define a 1)\n\n  (car a)\n")
      f:close()
      local ok, err = pcall(h.load, h, path)
      assert.is_false(ok)
      assert.are.equal(path .. ":3:3: car: expected a cons, got 1", err)
      h:set("path", path)
      ok, err = pcall(h.eval, h, "(load path)")
      assert.is_false(ok)
      assert.are.equal(path .. ":3:3: car: expected a cons, got 1", err)
      C.usable(h)
    end)

    it("save rejects a closure and anything holding one", function()
      h:set("path", path)
      local ok, err = pcall(h.eval, h, "(save path (lambda () 1))")
      assert.is_false(ok)
      assert.are.equal("eval:1:1: save: cannot save a closure (it has no readable form)", err)
      ok, err = pcall(h.eval, h, "(save path (list 1 (vec.make 1 car)))")
      assert.is_false(ok)
      assert.are.equal("eval:1:1: save: cannot save a primitive (it has no readable form)", err)
      ok, err = pcall(h.eval, h, "(let ((v (vec.make))) (vec.push! v v) (save path v))")
      assert.is_false(ok)
      assert.are.equal("eval:1:39: save: cannot save a cyclic or too deeply nested value", err)
      ok, err = pcall(h.eval, h, "(save path (map.make 'r (rng.make 1)))")
      assert.is_false(ok)
      assert.are.equal("eval:1:1: save: cannot save an rng (it has no readable form)", err)
      C.usable(h)
    end)

    it("save and load report file errors", function()
      local ok, err = pcall(h.eval, h, "(save \"/nonexistent-dir/x\" 1)")
      assert.is_false(ok)
      assert.are.equal("eval:1:1: save: cannot open '/nonexistent-dir/x': No such file or directory", err)
      ok, err = pcall(h.eval, h, "(load \"/nonexistent-dir/x\")")
      assert.is_false(ok)
      assert.are.equal("eval:1:1: load: cannot open '/nonexistent-dir/x': No such file or directory", err)
      ok, err = pcall(h.eval, h, "(load 1)")
      assert.is_false(ok)
      assert.are.equal("eval:1:1: load: expected a path string", err)
      ok, err = pcall(h.eval, h, "(save 1 2)")
      assert.is_false(ok)
      assert.are.equal("eval:1:1: save: expected a string, got 1", err)
      C.usable(h)
    end)
  end)

  describe("output", function()
    it("print_style lispbt: print displays its arguments separated by spaces, then a newline; write writes one line", function()
      local out, ok = C.subprocess([[
        local h = require("lispbt").new({ print_style = "lispbt" })
        io.stdout:write("[")
        local r1 = h:eval('(print "a" 1 "b\\"q" \'c 1.5 (list "x" 2) #(1 "v"))')
        io.stdout:write("|")
        local r2 = h:eval('(write "s\\n")')
        io.stdout:write("|")
        h:eval('(write (list "x" 2.0 \'y))')
        io.stdout:write("|")
        h:eval('(print)')
        io.stdout:write("]", tostring(r1), tostring(r2), "\n")
      ]])
      assert.is_true(ok, out)
      -- write ends its line and returns its argument, as muesli-bt's does
      assert.are.equal('[a 1 b"q c 1.5 (x 2) #(1 v)\n|"s\\n"\n|("x" 2.0 y)\n|\n]nils\n\n', out)
    end)

    it("by default print writes strings quoted and vecs as <vec:N>, as muesli-bt", function()
      local out, ok = C.subprocess([[
        local h = require("lispbt").new()
        h:eval('(print "a" 1 "b\\"q" \'c 1.5 (list "x" 2) #(1 "v") (/ 1.0 3))')
      ]])
      assert.is_true(ok, out)
      assert.are.equal('"a" 1 "b\\"q" c 1.5 ("x" 2) <vec:2> 0.333333333333333\n', out)
    end)
  end)
end)
