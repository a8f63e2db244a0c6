-- spec/compat/vec_spec.lua -- the vec builtins as muesli-bt documents them
-- (docs/language/reference/builtins/vec/*.md): vec.make takes a capacity,
-- vec.push! returns the new index, vec.set! the stored value.
local H = require("compat.helpers")

describe("compat: vec", function()
  local h
  before_each(function() h = H.host() end)
  after_each(function() h:close() end)

  it("vec.make: an empty vec; the argument is a capacity, not a length", function()
    assert.are.equal("<vec:0>", H.printed(h, "(vec.make)"))
    assert.are.equal("<vec:0>", H.printed(h, "(vec.make 8)"))
    assert.are.equal("0", H.show(h, "(vec.len (vec.make 8))"))
    assert.are.equal("vec.make: N must be an integer in [0, 4294967296], got -1", H.err(h, "(vec.make -1)"))
  end)

  it("vec.push!: appends and returns the 0-based index", function()
    assert.are.equal("0", H.show(h, "(begin (define v (vec.make)) (vec.push! v 5))"))
    assert.are.equal("1", H.show(h, "(begin (define v (vec.make 1)) (vec.push! v 10) (vec.push! v 20))"))
  end)

  it("vec.get: reads by index; bounds are checked", function()
    assert.are.equal("7", H.show(h, "(begin (define v (vec.make)) (vec.push! v 7) (vec.get v 0))"))
    assert.are.equal("\"b\"",
      H.show(h, "(begin (define v (vec.make)) (vec.push! v \"a\") (vec.push! v \"b\") (vec.get v 1))"))
    assert.are.equal("vec.get: INDEX is out of range: the vec is empty, got 0",
      H.err(h, "(vec.get (vec.make) 0)"))
  end)

  it("vec.set!: returns the value assigned", function()
    assert.are.equal("9", H.show(h, "(begin (define v (vec.make)) (vec.push! v 1) (vec.set! v 0 9))"))
    assert.are.equal("\"new\"",
      H.show(h, "(begin (define v (vec.make)) (vec.push! v \"old\") (vec.set! v 0 \"new\") (vec.get v 0))"))
  end)

  it("vec.len: the element count, not the capacity", function()
    assert.are.equal("0", H.show(h, "(begin (define v (vec.make)) (vec.len v))"))
    assert.are.equal("1", H.show(h, "(begin (define v (vec.make)) (vec.push! v 1) (vec.len v))"))
  end)

  it("vec.pop!: removes and returns the last element; errors when empty", function()
    assert.are.equal("8", H.show(h, "(begin (define v (vec.make)) (vec.push! v 8) (vec.pop! v))"))
    assert.are.equal("\"y\"",
      H.show(h, "(begin (define v (vec.make)) (vec.push! v \"x\") (vec.push! v \"y\") (vec.pop! v))"))
    assert.are.equal("vec.pop!: expected a non-empty vec, got <vec:0>", H.err(h, "(vec.pop! (vec.make))"))
  end)

  it("vec.clear!: nil, and the vec is empty", function()
    assert.are.equal("nil", H.show(h, "(begin (define v (vec.make)) (vec.clear! v))"))
    assert.are.equal("0",
      H.show(h, "(begin (define v (vec.make)) (vec.push! v 1) (vec.clear! v) (vec.len v))"))
  end)

  it("vec.reserve!: nil, and the length is unchanged", function()
    assert.are.equal("nil", H.show(h, "(begin (define v (vec.make)) (vec.reserve! v 32))"))
    assert.are.equal("0", H.show(h, "(begin (define v (vec.make 1)) (vec.reserve! v 128) (vec.push! v 1))"))
  end)
end)
