-- spec/compat/arith_spec.lua -- the arithmetic builtins as muesli-bt
-- documents them (docs/language/reference/builtins/math/*.md other than
-- atan2, which math_spec.lua covers): + - * / = < > <= >= abs clamp sqrt
-- log exp, each page's examples with their exact written results.
local H = require("compat.helpers")

describe("compat: arithmetic", function()
  local h
  before_each(function() h = H.host() end)
  after_each(function() h:close() end)

  local function ex(src, want)
    assert.are.equal(want, H.show(h, src), src)
  end

  it("+ - *: integers stay integers, a float makes a float", function()
    ex("(+ 1 2 3)", "6"); ex("(+ 1 2.5)", "3.5"); ex("(+)", "0")
    ex("(- 9 2 3)", "4"); ex("(- 7)", "-7")
    ex("(* 2 3 4)", "24"); ex("(* 3 0.5)", "1.5"); ex("(*)", "1")
  end)

  it("/ always returns a float", function()
    ex("(/ 20 2 5)", "2.0")
    ex("(/ 4)", "0.25")
    ex("(/ 7 2)", "3.5")
  end)

  it("/ by zero follows IEEE rules instead of raising", function()
    assert.are.equal("(inf -inf inf)", H.printed(h, "(list (/ 1 0) (/ -1 0) (/ 1.0 0.0))"))
    ex("(let ((q (/ 0 0))) (= q q))", "#f")
  end)

  it("= < > <= >= compare across integers and floats, in chains", function()
    ex("(= 3 3.0)", "#t"); ex("(= 1 1 1)", "#t")
    ex("(< 1 2)", "#t"); ex("(< 1 2 3)", "#t")
    ex("(> 3 2 1)", "#t"); ex("(<= 1 1 2)", "#t"); ex("(>= 2 2 3)", "#f")
  end)

  it("abs keeps the numeric category", function()
    ex("(abs -7)", "7"); ex("(abs -2.5)", "2.5")
  end)

  it("clamp: integers give an integer, any float a float", function()
    ex("(clamp 10 0 5)", "5"); ex("(clamp 0.2 0.3 0.9)", "0.3")
  end)

  it("sqrt and log: floats, with domain errors", function()
    ex("(sqrt 4)", "2.0"); ex("(sqrt 2.25)", "1.5")
    assert.are.equal("sqrt: expected a number >= 0, got -1", H.err(h, "(sqrt -1)"))
    ex("(log 1)", "0.0")
    ex("(< (abs (- (log 2.718281828) 1.0)) 1e-9)", "#t")
    assert.are.equal("log: expected a number > 0, got 0", H.err(h, "(log 0)"))
    assert.are.equal("log: expected a number > 0, got -1.5", H.err(h, "(log -1.5)"))
  end)

  it("exp: a float", function()
    ex("(exp 0)", "1.0"); ex("(exp 1)", "2.71828182845905")
  end)

  it("eq? compares numbers by value across integer and float", function()
    ex("(list (eq? 2 2.0) (eq? 2 2) (eq? 2.5 2.5) (eq? 2 3.0))", "(#t #t #t #f)")
  end)
end)
