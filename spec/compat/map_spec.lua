-- spec/compat/map_spec.lua -- the map builtins as muesli-bt documents them
-- (docs/language/reference/builtins/map/*.md): map.set! returns the value.
local H = require("compat.helpers")

describe("compat: map", function()
  local h
  before_each(function() h = H.host() end)
  after_each(function() h:close() end)

  it("map.make: an empty map", function()
    assert.are.equal("<map:0>", H.printed(h, "(map.make)"))
    assert.are.equal("1", H.show(h, "(begin (define m (map.make)) (map.set! m \"k\" 1))"))
  end)

  it("map.set!: returns the value assigned, and overwrites", function()
    assert.are.equal("1", H.show(h, "(begin (define m (map.make)) (map.set! m \"x\" 1))"))
    assert.are.equal("2",
      H.show(h, "(begin (define m (map.make)) (map.set! m \"x\" 1) (map.set! m \"x\" 2) (map.get m \"x\" 0))"))
  end)

  it("map.get: the value, or the default", function()
    assert.are.equal("nil", H.show(h, "(begin (define m (map.make)) (map.get m \"x\" nil))"))
    assert.are.equal("10", H.show(h, "(begin (define m (map.make)) (map.set! m \"x\" 10) (map.get m \"x\" 0))"))
  end)

  it("map.has?: presence only", function()
    assert.are.equal("#f", H.show(h, "(begin (define m (map.make)) (map.has? m \"x\"))"))
    assert.are.equal("#t", H.show(h, "(begin (define m (map.make)) (map.set! m \"x\" 1) (map.has? m \"x\"))"))
  end)

  it("map.del!: #t when deleted, #f when absent", function()
    assert.are.equal("#f", H.show(h, "(begin (define m (map.make)) (map.del! m \"x\"))"))
    assert.are.equal("#t", H.show(h, "(begin (define m (map.make)) (map.set! m \"x\" 1) (map.del! m \"x\"))"))
  end)

  it("map.keys: every key, in no promised order", function()
    assert.are.equal("nil", H.show(h, "(begin (define m (map.make)) (map.keys m))"))
    local ks = H.show(h, "(begin (define m (map.make)) (map.set! m \"a\" 1) (map.set! m \"b\" 2) (map.keys m))")
    assert.is_true(ks == "(\"a\" \"b\")" or ks == "(\"b\" \"a\")", ks)
  end)

  it("keys of the reference's types: symbol, string, integer, float", function()
    assert.are.equal("(1 2 3 4)", H.show(h,
      "(define m (map.make)) (map.set! m 'k 1) (map.set! m \"k\" 2) (map.set! m 3 3) (map.set! m 3.5 4) " ..
      "(list (map.get m 'k) (map.get m \"k\") (map.get m 3) (map.get m 3.5))"))
  end)

  it("keys of other types raise, NaN too; -0.0 is the key 0.0, as the reference", function()
    for _, f in ipairs({ "(map.set! m KEY 1)", "(map.get m KEY 0)", "(map.has? m KEY)", "(map.del! m KEY)" }) do
      local name = f:match("^%((%S+)")
      for key, shown in pairs({ ["'(1)"] = "(1)", ["#t"] = "#t", ["nil"] = "nil", ["(vec.make)"] = "<vec:0>" }) do
        assert.are.equal(name .. ": expected a symbol, string, integer or float key, got " .. shown,
          H.err(h, "(define m (map.make)) " .. f:gsub("KEY", key)))
      end
      assert.are.equal(name .. ": float keys must not be NaN", H.err(h, "(define m (map.make)) " .. f:gsub("KEY", "(/ 0.0 0)")))
    end
    assert.are.equal("map.make: expected a symbol, string, integer or float key, got #f", H.err(h, "(map.make #f 1)"))
    assert.are.equal("(1 #t)", H.show(h, "(define m (map.make)) (map.set! m -0.0 1) (list (map.get m 0.0) (map.has? m -0.0))"))
  end)
end)
