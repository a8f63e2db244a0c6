-- spec/reader_spec.lua -- the reader: literals, errors with line:col.
-- Cases: spec/support/reader_cases.lua (also run under gc_stress).
local lispbt = require("lispbt")
local C = require("support.cases")

describe("lisp reader", function()
  describe("cases", function()
    C.define(require("support.reader_cases"))
  end)

  describe("chunk names and recovery", function()
    local h
    before_each(function() h = lispbt.new() end)
    after_each(function() h:close() end)

    it("reader errors carry the chunk name given to eval", function()
      local ok, err = pcall(h.eval, h, "(1 2", "mychunk")
      assert.is_false(ok)
      assert.are.equal("mychunk:1:1: unterminated list", err)
      ok, err = pcall(h.eval, h, "\n\n  \"abc", "other.lisp")
      assert.are.equal("other.lisp:3:3: unterminated string", err)
    end)

    it("forms before a reader error have run; the host stays usable", function()
      local ok, err = pcall(h.eval, h, "(define before 1) (set! before 2) )")
      assert.is_false(ok)
      assert.are.equal("eval:1:35: unexpected closing delimiter", err)
      assert.are.equal(2, h:get("before"))
      C.usable(h)
    end)

    it("a string with NUL bytes reads (source length is explicit)", function()
      assert.are.equal("a\0b", h:eval('"a\0b"'))
      assert.are.equal(3, h:eval('(string-length "a\0b")'))
    end)

    it("every reader error leaves the heap consistent", function()
      local bad = { "(", ")", '"x', '"\\q"', "'(. 1)", "99999999999999999999", "#{1}",
                    "#q", "'", string.rep("(", 2000) }
      for _ = 1, 20 do
        for _, src in ipairs(bad) do
          assert.is_false((pcall(h.eval, h, src)))
        end
      end
      local g = h:gc()
      assert.are.equal(g.live_objects, g.live_objects_after_last_gc)
      C.usable(h)
    end)
  end)
end)
