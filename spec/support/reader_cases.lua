-- spec/support/reader_cases.lua -- every literal kind and reader error.
-- Run by spec/reader_spec.lua and, under gc_stress, by spec/gc_spec.lua.
-- Format: spec/support/cases.lua.  Data that would nest deeper than the
-- Lua conversion limit is checked through write-to-string.
local C = require("support.cases")
local NIL, sym = C.NIL, C.sym

local function isfloat(want)
  return function(v)
    assert(math.type(v) == "float", "not a float: " .. tostring(v))
    assert(v == want, ("%s ~= %s"):format(tostring(v), tostring(want)))
  end
end

local function nest(n)
  return string.rep("(", n) .. string.rep(")", n)
end

return {
  -- ---- integers ----
  { "42", 42 },
  { "-7", -7 },
  { "+5", 5 },
  { "0", 0 },
  { "-0", 0 },
  { "007", 7 },
  { "9223372036854775807", math.maxinteger },
  { "-9223372036854775808", math.mininteger },
  { "9223372036854775808", err = "eval:1:1: integer literal out of range" },
  { "-9223372036854775809", err = "eval:1:1: integer literal out of range" },
  { "(list 1\n  99999999999999999999)", err = "eval:2:3: integer literal out of range" },

  -- ---- floats ----
  { "3.14", check = isfloat(3.14) },
  { "1e-3", check = isfloat(0.001) },
  { "1E3", check = isfloat(1000.0) },
  { "2.", check = isfloat(2.0) },
  { ".5", check = isfloat(0.5) },
  { "-.5", check = isfloat(-0.5) },
  { "-2.5e+2", check = isfloat(-250.0) },
  { "1e400", check = isfloat(math.huge) },
  { "+inf.0", check = isfloat(math.huge) },
  { "-inf.0", check = isfloat(-math.huge) },
  { "+nan.0", check = function(v) assert(math.type(v) == "float" and v ~= v) end },
  { "-nan.0", check = function(v) assert(math.type(v) == "float" and v ~= v) end },

  -- ---- booleans, nil ----
  { "#t", true },
  { "#f", false },
  { "nil", NIL },
  { "'(nil #t #f)", { NIL, true, false }, check = function(v)
      assert(v[1] == nil and v[2] == true and v[3] == false)
    end },
  { "#x", err = "eval:1:1: unknown '#' syntax" },
  { "#true", err = "eval:1:1: unknown '#' syntax" },

  -- ---- strings ----
  { '"abc"', "abc" },
  { '""', "" },
  { '"a\\nb"', "a\nb" },
  { '"\\t\\r\\"\\\\"', "\t\r\"\\" },
  { '"two\nlines"', "two\nlines" },
  { '"semi ; not a comment"', "semi ; not a comment" },
  { '"paren ( ) \' `"', "paren ( ) ' `" },
  { '"héllo"', "héllo" },
  { '"abc', err = "eval:1:1: unterminated string" },
  { '(list 1\n   "abc', err = "eval:2:4: unterminated string" },
  { '"a\\qb"', err = "eval:1:4: invalid escape in string" },
  { '"a\\0"', err = "eval:1:4: invalid escape in string" },
  { '\n  "x\\', err = "eval:2:5: invalid escape in string" },

  -- ---- symbols ----
  { "'abc", sym("abc") },
  { "'bt.compile", sym("bt.compile") },
  { "'goal-x", sym("goal-x") },
  { "':budget_ms", sym(":budget_ms") },
  { "'...", sym("...") },
  { "'1+", sym("1+"), name = "1+ is a symbol" },
  { "'1e", sym("1e") },
  { "'1.5.5", sym("1.5.5") },
  { "'-", sym("-") },
  { "'+", sym("+") },
  { "'a.b", sym("a.b") },
  { "'set!", sym("set!") },
  { "'->x", sym("->x") },
  { "'a'b", sym("b"), name = "a quote ends a symbol" },
  { "(eq? 'abc 'abc)", true },

  -- ---- lists and dotted pairs ----
  { "'()", NIL },
  { "'(1 2 3)", { 1, 2, 3 } },
  { "'(1 (2 (3)) () 4)", { 1, { 2, { 3 } }, NIL, 4 } },
  { "'( 1\t2\n3 )", { 1, 2, 3 } },
  { "(write-to-string '(1 . 2))", "(1 . 2)" },
  { "(write-to-string '(1 2 . 3))", "(1 2 . 3)" },
  { "(write-to-string '(1 . (2 . (3 . ()))))", "(1 2 3)" },
  { "(write-to-string '(a . b))", "(a . b)" },
  { "'(1 .2)", { 1, 0.2 }, name = ".2 after a space is a float, not a dot" },
  { "'(a.b c)", { sym("a.b"), sym("c") } },
  { "(cdr '(1 . 2))", 2 },
  { "'(. 1)", err = "eval:1:3: unexpected '.'" },
  { "'( . )", err = "eval:1:4: unexpected '.'" },
  { "'(1 . 2 3)", err = "eval:1:5: expected ')' after dotted pair tail" },
  { "'(1 . 2 . 3)", err = "eval:1:5: expected ')' after dotted pair tail" },
  { "'(1 .)", err = "eval:1:6: unexpected closing delimiter" },
  { "(", err = "eval:1:1: unterminated list" },
  { "(1 2", err = "eval:1:1: unterminated list" },
  { "(define x 1)\n\n  (list 1 (list 2", err = "eval:3:11: unterminated list" },
  { ")", err = "eval:1:1: unexpected closing delimiter" },
  { "(+ 1 2))", err = "eval:1:8: unexpected closing delimiter" },
  { "(1 }", err = "eval:1:4: unexpected closing delimiter" },
  { "\n\n    }", err = "eval:3:5: unexpected closing delimiter" },
  -- a bare '{' used to loop forever (fuzz/crashes-found/eval-reader-brace-loop.lisp)
  { "(a {", err = "eval:1:4: unexpected '{' (a map literal is #{...})" },
  { "{", err = "eval:1:1: unexpected '{' (a map literal is #{...})" },
  { "\0", err = "eval:1:1: unexpected NUL byte (allowed only in strings)" },
  { "(list ab\0c)", err = "eval:1:9: unexpected NUL byte (allowed only in strings)" },
  { "(string-length \"a\0b\")", 3 },
  { "'", err = "eval:1:2: unexpected end of input" },
  { "(list ,@", err = "eval:1:9: unexpected end of input" },

  -- ---- quote forms ----
  { "''a", { sym("quote"), sym("a") } },
  { "'`a", { sym("quasiquote"), sym("a") } },
  { "',a", { sym("unquote"), sym("a") } },
  { "',@a", { sym("unquote-splicing"), sym("a") } },
  { "'(quote a)", { sym("quote"), sym("a") } },
  { "(write-to-string '(a 'b `(c ,d ,@e)))", "(a 'b `(c ,d ,@e))", opts = { print_style = "lispbt" } },
  { "(write-to-string '(a 'b `(c ,d ,@e)))", "(a (quote b) (quasiquote (c (unquote d) (unquote-splicing e))))" },
  { "(car ''x)", sym("quote") },

  -- ---- comments ----
  { "; only a comment", NIL },
  { "; comment\n42", 42 },
  { "42 ; trailing", 42 },
  { "'(1 2 ; comment )\n 3)", { 1, 2, 3 } },
  { "(+ 1 ; one\n   2) ; two\n", 3 },
  { ";;; many\n;;; lines\n\n7\n;", 7 },
  { "", NIL, name = "empty source is nil" },
  { "  \n\t ", NIL, name = "blank source is nil" },

  -- ---- vec and map literals ----
  { "'#(1 2 3)", { 1, 2, 3 } },
  { "#(1 (+ 1 1))", { 1, { sym("+"), 1, 1 } }, name = "vec literal elements are not evaluated" },
  { "(vec.len #())", 0 },
  { "(vec.get #(a #(b)) 1)", { sym("b") } },
  { "(write-to-string '#(#(1) #{a #(2)}))", "#(#(1) #{a #(2)})", opts = { print_style = "lispbt" } },
  { "(map.get #{\"k\" 1 :b 2} \"k\")", 1 },
  { "(map.get #{\"k\" 1 :b 2} :b)", 2 },
  { "(map.count #{})", 0 },
  { "#{\"a\" 1 \"b\" #(2)}", { a = 1, b = { 2 } } },
  { "#{1 2 3}", err = "eval:1:1: map literal needs an even number of forms" },
  { "#(1 2", err = "eval:1:1: unterminated list" },
  { "#{1 2", err = "eval:1:1: unterminated list" },
  { "#(1 2}", err = "eval:1:6: unexpected closing delimiter" },

  -- ---- nesting limits ----
  { "(write-to-string '" .. nest(997) .. ")", check = function(v)
      -- the innermost () is nil
      assert(v == string.rep("(", 996) .. "nil" .. string.rep(")", 996), "997 levels read back")
    end, name = "1000 levels of nesting read" },
  { "'" .. nest(1001), err = "eval:1:1001: form nested too deeply" },
  { "(list\n" .. nest(1200) .. ")", err = "eval:2:1000: form nested too deeply" },
  { string.rep("'", 1001) .. "x", err = "eval:1:1001: form nested too deeply" },
  { "'" .. string.rep("#(", 1001) .. string.rep(")", 1001), err = "eval:1:2000: form nested too deeply" },
  { "'" .. string.rep("(", 100000), err = "eval:1:1001: form nested too deeply",
    name = "100000 open parens fail fast" },

  -- ---- positions of runtime errors across lines ----
  { "(define x 1)\n\n   (car x)", err = "eval:3:4: car: expected a cons, got 1" },
  { '"line1\nline2" (car 1)', err = "eval:2:8: car: expected a cons, got 1" },
  { "(car\t3)", err = "eval:1:1: car: expected a cons, got 3" },
  { "\t(car 3)", err = "eval:1:2: car: expected a cons, got 3", name = "a tab is one column" },
  { "(list 1\n      (undefined-y))", err = "eval:2:7: unbound symbol: undefined-y" },
}
