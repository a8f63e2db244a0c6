-- spec/compat/predicates_spec.lua -- the type predicates as muesli-bt
-- documents them (docs/language/reference/builtins/predicates/*.md):
-- float?, int?, integer?, number?, zero?.
local H = require("compat.helpers")

describe("compat: predicates", function()
  local h
  before_each(function() h = H.host() end)
  after_each(function() h:close() end)

  it("float? tells floats from integers", function()
    assert.are.equal("#t", H.show(h, "(float? 3.0)"))
    assert.are.equal("#f", H.show(h, "(float? 3)"))
  end)

  it("int? and integer? are the same test", function()
    assert.are.equal("#t", H.show(h, "(int? 3)"))
    assert.are.equal("#f", H.show(h, "(int? 3.0)"))
    assert.are.equal("#t", H.show(h, "(integer? 3)"))
    assert.are.equal("#f", H.show(h, "(integer? 3.2)"))
  end)

  it("number? accepts integers and floats only", function()
    assert.are.equal("#t", H.show(h, "(number? 3.0)"))
    assert.are.equal("#f", H.show(h, "(number? \"3\")"))
  end)

  it("zero? is #t for 0 and 0.0 and #f for any non-number", function()
    assert.are.equal("#t", H.show(h, "(zero? 0)"))
    assert.are.equal("#t", H.show(h, "(zero? 0.0)"))
    assert.are.equal("(#f #f #f #f)", H.show(h, "(list (zero? 1) (zero? \"0\") (zero? 'a) (zero? nil))"))
  end)

  it("check their arity", function()
    for _, name in ipairs { "float?", "int?", "integer?", "number?", "zero?" } do
      assert.are.equal(name .. ": expected 1 argument, got 0", H.err(h, "(" .. name .. ")"))
    end
  end)
end)
