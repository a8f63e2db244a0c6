-- spec/compat/math_spec.lua -- atan2 as muesli-bt documents it
-- (docs/language/reference/builtins/math/atan2.md): (atan2 y x), a float in
-- radians in [-pi, pi], C's atan2 for zeros, numeric arguments only.
local H = require("compat.helpers")

describe("compat: atan2", function()
  local h
  before_each(function() h = H.host() end)
  after_each(function() h:close() end)

  it("(atan2 1 1) is pi/4, a float", function()
    assert.are.equal("0.785398163397448", H.show(h, "(atan2 1 1)"))
    assert.are.equal("#t", H.show(h, "(float? (atan2 1 1))"))
  end)

  it("takes y first, then x, integers or floats", function()
    assert.are.equal("(1.5707963267949 0.0 3.14159265358979 -1.5707963267949)",
      H.show(h, "(list (atan2 1 0) (atan2 0 1) (atan2 0 -1.0) (atan2 -2.5 0))"))
  end)

  it("computes a bearing (the reference's realistic example)", function()
    assert.are.equal("0.785398163397448",
      H.show(h, "(define goal-x 3.0) (define goal-y 4.0) (define pose-x 1) (define pose-y 2) " ..
        "(atan2 (- goal-y pose-y) (- goal-x pose-x))"))
  end)

  it("follows C's atan2 for signed zeros", function()
    assert.are.equal("(0.0 -0.0 3.14159265358979 -3.14159265358979)",
      H.show(h, "(list (atan2 0 0) (atan2 -0.0 0) (atan2 0.0 -0.0) (atan2 -0.0 -0.0))"))
  end)

  it("raises on non-numeric arguments and checks its arity", function()
    assert.are.equal("atan2: expected a number, got \"a\"", H.err(h, "(atan2 \"a\" 1)"))
    assert.are.equal("atan2: expected a number, got x", H.err(h, "(atan2 1 'x)"))
    assert.are.equal("atan2: expected 2 arguments, got 1", H.err(h, "(atan2 1)"))
  end)
end)
