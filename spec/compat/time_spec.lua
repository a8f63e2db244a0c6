-- spec/compat/time_spec.lua -- time.sleep-ms and time.now-ms as muesli-bt
-- documents them (docs/language/reference/builtins/time/*.md): sleep takes
-- one non-negative integer of milliseconds, gives nil back, bad durations
-- raise; now-ms is integer milliseconds.
-- Asserts on results and types only, never on how long a call took
-- (spec/README rule); now-ms is a monotonic clock, so t0 <= now holds.
local H = require("compat.helpers")

describe("compat: time.sleep-ms", function()
  local h
  before_each(function() h = H.host() end)
  after_each(function() h:close() end)

  it("returns nil (the reference's minimal example)", function()
    assert.are.equal("nil", H.show(h, "(time.sleep-ms 10)"))
  end)

  it("0 is a no-op that returns nil", function()
    assert.are.equal("nil", H.show(h, "(time.sleep-ms 0)"))
  end)

  it("can sit between two steps of a script", function()
    assert.are.equal("(1 nil 2)",
      H.show(h, "(define n 1) (list n (time.sleep-ms 1) (+ n 1))"))
  end)

  it("rejects negative, non-integer, NaN and huge durations cleanly", function()
    local range = "time.sleep-ms: expected an integer in 0..86400000, got "
    assert.are.equal(range .. "-1", H.err(h, "(time.sleep-ms -1)"))
    assert.are.equal(range .. "1.5", H.err(h, "(time.sleep-ms 1.5)"))
    assert.are.equal(range .. "10.0", H.err(h, "(time.sleep-ms 10.0)"))
    assert.are.equal(range .. "nan", H.err(h, "(time.sleep-ms (/ 0.0 0))"))
    assert.are.equal(range .. "inf", H.err(h, "(time.sleep-ms (/ 1.0 0))"))
    assert.are.equal(range .. "86400001", H.err(h, "(time.sleep-ms 86400001)"))
    assert.are.equal(range .. "9223372036854775807", H.err(h, "(time.sleep-ms 9223372036854775807)"))
    assert.are.equal(range .. "\"10\"", H.err(h, "(time.sleep-ms \"10\")"))
  end)

  it("checks its arity", function()
    assert.are.equal("time.sleep-ms: expected 1 argument, got 0", H.err(h, "(time.sleep-ms)"))
    assert.are.equal("time.sleep-ms: expected 1 argument, got 2", H.err(h, "(time.sleep-ms 1 2)"))
  end)
end)

describe("compat: time.now-ms", function()
  local h
  before_each(function() h = H.host() end)
  after_each(function() h:close() end)

  it("returns integer milliseconds (the reference's examples)", function()
    assert.are.equal("#t", H.show(h, "(integer? (time.now-ms))"))
    assert.are.equal("#t", H.show(h, "(begin (define t0 (time.now-ms)) (integer? (time.now-ms)))"))
    assert.are.equal("#t", H.show(h, "(define t0 (time.now-ms)) (<= t0 (time.now-ms))"))
  end)

  it("checks its arity", function()
    assert.are.equal("time.now-ms: expected 0 arguments, got 1", H.err(h, "(time.now-ms 1)"))
  end)
end)
