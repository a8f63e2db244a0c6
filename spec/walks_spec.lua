-- spec/walks_spec.lua -- recursive walks over data are bounded (issue 13).
-- Only equal? is covered so far; printing, hashing, conversion to Lua and
-- the blackboard copy are still open (see issue 13 items 1 and 2).
local lispbt = require("lispbt")

describe("walks", function()
  it("equal? on self-containing vectors ends in a clean error", function()
    local h = lispbt.new()
    local ok, err = pcall(h.eval, h, [[
      (let ((v (vec.make 1 0)) (w (vec.make 1 0)))
        (vec.set! v 0 v) (vec.set! w 0 w) (equal? v w))]])
    assert.is_false(ok)
    assert.matches("equal%?: structure nested too deeply", err)
    assert.equals(3, h:eval("(+ 1 2)"))
  end)
end)
