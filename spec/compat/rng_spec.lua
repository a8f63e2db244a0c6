-- spec/compat/rng_spec.lua -- the rng builtins as muesli-bt documents them
-- (docs/language/reference/builtins/rng/*.md).  Our generator is not the
-- reference's, so the draws differ; their ranges, types and determinism
-- for a fixed seed are what the pages promise.
local H = require("compat.helpers")

describe("compat: rng", function()
  local h
  before_each(function() h = H.host() end)
  after_each(function() h:close() end)

  it("rng.make: a deterministic handle", function()
    assert.are.equal("<rng>", H.printed(h, "(rng.make 42)"))
    assert.are.equal("#t", H.show(h,
      "(= (let ((r (rng.make 42))) (rng.int r 10)) (let ((r (rng.make 42))) (rng.int r 10)))"))
  end)

  it("a seed gives the reference's numbers (splitmix64, its documented examples)", function()
    assert.are.equal("3", H.show(h, "(begin (define r (rng.make 3)) (rng.int r 10))"))
    assert.are.equal("(3 1)", H.show(h, "(begin (define r (rng.make 3)) (list (rng.int r 5) (rng.int r 5)))"))
    assert.are.equal("3", H.show(h, "(begin (define r (rng.make 42)) (rng.int r 10))"))
    assert.are.equal("0.566561575172281", H.show(h, "(begin (define r (rng.make 1)) (rng.uniform r 0.0 1.0))"))
    assert.are.equal("(-0.226463908032132 0.504614031676448)",
      H.show(h, "(begin (define r (rng.make 5)) (list (rng.uniform r -1.0 1.0) (rng.uniform r -1.0 1.0)))"))
    assert.are.equal("-0.0282497460958547", H.show(h, "(begin (define r (rng.make 1)) (rng.normal r 0.0 1.0))"))
    assert.are.equal("(0.000763454684862605 -0.174856880281502)",
      H.show(h, "(begin (define r (rng.make 9)) (list (rng.normal r 0.0 0.2) (rng.normal r 0.0 0.2)))"))
  end)

  it("seed 42 gives the reference test suite's rng.int sequence", function()
    assert.are.equal("(413 291 858 764 250 62 925 908)", H.show(h,
      "(begin (define r (rng.make 42)) (list (rng.int r 1000) (rng.int r 1000) (rng.int r 1000) (rng.int r 1000) " ..
      "(rng.int r 1000) (rng.int r 1000) (rng.int r 1000) (rng.int r 1000)))"))
  end)

  it("rng.uniform needs lo <= hi and rng.normal sigma >= 0, as the reference", function()
    assert.are.equal("rng.uniform: expected lo <= hi", H.err(h, "(rng.uniform (rng.make 1) 1.0 0.0)"))
    assert.are.equal("rng.normal: expected sigma >= 0", H.err(h, "(rng.normal (rng.make 1) 0.0 -1.0)"))
  end)

  it("rng.int r n: an integer in [0, n-1]", function()
    assert.are.equal("#t", H.show(h, "(begin (define r (rng.make 3)) (let ((x (rng.int r 10))) (and (int? x) (<= 0 x 9))))"))
    assert.are.equal("#t", H.show(h,
      "(begin (define r (rng.make 3)) (let ((xs (list (rng.int r 5) (rng.int r 5)))) " ..
      "(and (<= 0 (car xs) 4) (<= 0 (car (cdr xs)) 4))))"))
    assert.are.equal("0", H.show(h, "(rng.int (rng.make 1) 1)"))
    assert.are.equal("rng.int: expected a positive integer, got 0", H.err(h, "(rng.int (rng.make 1) 0)"))
  end)

  it("rng.uniform: a float in [lo, hi]; lo = hi gives lo", function()
    assert.are.equal("#t", H.show(h, "(begin (define r (rng.make 1)) (let ((x (rng.uniform r 0.0 1.0))) (and (float? x) (<= 0.0 x 1.0))))"))
    assert.are.equal("2.5", H.show(h, "(rng.uniform (rng.make 5) 2.5 2.5)"))
  end)

  it("rng.normal: a float; sigma 0 gives mu", function()
    assert.are.equal("#t", H.show(h, "(begin (define r (rng.make 1)) (float? (rng.normal r 0.0 1.0)))"))
    assert.are.equal("0.5", H.show(h, "(rng.normal (rng.make 9) 0.5 0.0)"))
  end)
end)
