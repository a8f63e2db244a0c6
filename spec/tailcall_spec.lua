-- spec/tailcall_spec.lua -- proper tail calls and the depth limit.
-- Cases: spec/support/tail_cases.lua (also run under gc_stress).
local lispbt = require("lispbt")
local C = require("support.cases")

describe("tail calls", function()
  describe("cases", function()
    C.define(require("support.tail_cases"))
  end)

  it("a 10,000,000-iteration tail loop completes without heap growth #nostress", function()
    local h <close> = lispbt.new()
    h:eval("(define (loop i acc) (if (= i 0) acc (loop (- i 1) (+ acc 1))))")
    local before = h:heap()
    assert.are.equal(10000000, h:eval("(loop 10000000 0)"))
    local after = h:heap()
    -- nothing proportional to the iterations: a few objects for the form
    assert.is_true(after.total_allocated_objects - before.total_allocated_objects < 50,
      ("allocated %d objects"):format(after.total_allocated_objects - before.total_allocated_objects))
    assert.is_true(after.bytes_allocated - before.bytes_allocated < 16 * 1024)
    assert.are.equal(before.collections, after.collections)
  end)

  it("a 1,000,000-iteration allocating tail loop keeps the heap bounded", function()
    local h <close> = lispbt.new()
    h:eval("(define (churn i) (if (= i 0) 'ok (begin (list i i i) (churn (- i 1)))))")
    assert.are.equal(lispbt.symbol("ok"), h:eval("(churn 1000000)"))
    local s = h:heap()
    assert.is_true(s.collections > 0)
    assert.is_true(s.total_allocated_objects >= 3000000)
    -- garbage is collected as it goes: the heap never holds the 3M cells
    assert.is_true(s.bytes_allocated < 4 * 1024 * 1024, tostring(s.bytes_allocated))
  end)

  it("after a stack overflow the host keeps working, repeatedly", function()
    local h <close> = lispbt.new()
    h:eval("(define (deep n) (if (= n 0) 0 (+ 1 (deep (- n 1)))))")
    for _ = 1, 5 do
      local ok, err = pcall(h.eval, h, "(deep 1000000)")
      assert.is_false(ok)
      assert.truthy(err:find("stack overflow", 1, true))
      assert.are.equal(5000, h:eval("(deep 5000)"))
    end
    C.usable(h)
  end)

  it("the depth limit counts non-tail calls made from Lua callbacks too", function()
    for _, depth in ipairs({ 8, 200 }) do
      local h <close> = lispbt.new{ max_depth = depth }
      h:register_builtin("again", function(n) return h:call("down", n) end)
      h:eval("(define (down n) (if (= n 0) 'bottom (again (- n 1))))")
      assert.are.equal(lispbt.symbol("bottom"), h:eval("(down 2)"))
      local ok, err = pcall(h.eval, h, "(down 100000)")
      assert.is_false(ok)
      assert.are.equal("eval:1:38: again: ", err:sub(1, 18))
      if depth == 8 then -- short enough that the nested message is not truncated
        assert.are.equal("stack overflow", err:sub(-14), err)
      end
      C.usable(h)
    end
  end)
end)
