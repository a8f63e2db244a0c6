-- spec/compat/core_spec.lua -- the core builtins as muesli-bt documents
-- them (docs/language/reference/builtins/core/*.md): car, cdr, cons, eq?,
-- hash64, list, null?; each page's minimal and realistic examples with
-- their exact written results.
local H = require("compat.helpers")

describe("compat: core", function()
  local h
  before_each(function() h = H.host() end)
  after_each(function() h:close() end)

  it("car: the first slot of a cons", function()
    assert.are.equal("1", H.show(h, "(car (cons 1 2))"))
    assert.are.equal("\"head\"", H.show(h, "(car (list \"head\" \"tail\"))"))
  end)

  it("cdr: the second slot of a cons", function()
    assert.are.equal("2", H.show(h, "(cdr (cons 1 2))"))
    assert.are.equal("(2 3)", H.show(h, "(cdr (list 1 2 3))"))
  end)

  it("cons: a pair cell", function()
    assert.are.equal("(1 . 2)", H.show(h, "(cons 1 2)"))
    assert.are.equal("\"a\"", H.show(h, "(begin (define p (cons \"a\" \"b\")) (car p))"))
  end)

  it("eq?: numbers compare by value, integer against float too", function()
    assert.are.equal("#t", H.show(h, "(eq? 4 4)"))
    assert.are.equal("#t", H.show(h, "(eq? 'a 'a)"))
    assert.are.equal("(#t #f #f)", H.show(h, "(list (eq? 2 2.0) (eq? 2 2.5) (eq? \"a\" \"a\"))"))
    assert.are.equal("eq?: expected 2 arguments, got 1", H.err(h, "(eq? 1)"))
  end)

  it("hash64: muesli-bt's non-negative FNV-1a of a string or symbol", function()
    assert.are.equal("7926679714006447371", H.show(h, "(hash64 \"planner-seed\")"))
    assert.are.equal("(8797948354455892204 8797948354455892204)",
      H.show(h, "(begin (define base (hash64 \"run-a\")) (list base (hash64 \"run-a\")))"))
    assert.are.equal("#t", H.show(h, "(= (hash64 'run-a) (hash64 \"run-a\"))"))
  end)

  it("list: a proper list; (list) is nil", function()
    assert.are.equal("(1 2 3)", H.show(h, "(list 1 2 3)"))
    assert.are.equal("(\"a\" \"b\")", H.show(h, "(begin (define xs (list \"a\" \"b\")) xs)"))
    assert.are.equal("nil", H.show(h, "(list)"))
  end)

  it("null?: is the value nil", function()
    assert.are.equal("#t", H.show(h, "(null? nil)"))
    assert.are.equal("#t", H.show(h, "(null? (cdr (list 1)))"))
    assert.are.equal("null?: expected 1 argument, got 2", H.err(h, "(null? 1 2)"))
  end)
end)
