-- spec/compat/gc_spec.lua -- gc.policy and gc.set-policy! as muesli-bt
-- documents them (docs/language/reference/builtins/gc/gc-policy.md,
-- gc-set-policy.md), mapped onto our collector (docs/reference/heap.md
-- "Collection policy"): the four policies, their spellings, the errors,
-- and what each one does to automatic, explicit and in-tick collections.
local lispbt = require("lispbt")
local H = require("compat.helpers")

-- A program that makes about 30 MB of garbage.
local CHURN = "(define (churn n) (if (> n 0) (begin (list n n n n) (churn (- n 1))) 'done)) (churn 200000)"

describe("compat: gc policy", function()
  local h
  before_each(function() h = H.host() end)
  after_each(function() h:close() end)

  describe("the reference's documented examples", function()
    it("the policy starts as :default", function()
      assert.are.equal(":default", H.show(h, "(gc.policy)"))
    end)

    it("gc.set-policy! returns the policy it selected, and gc.policy reads it back", function()
      assert.are.equal(":between-ticks", H.show(h, '(gc.set-policy! "between-ticks")'))
      assert.are.equal(":between-ticks", H.show(h, "(gc.policy)"))
      assert.are.equal("(:manual :manual)", H.show(h, '(list (gc.set-policy! "manual") (gc.policy))'))
    end)

    it("accepts strings and symbols, with or without the colon", function()
      assert.are.equal("(:manual :fail-on-tick-gc :between-ticks :default :manual)", H.show(h, [[
        (list (gc.set-policy! ":manual") (gc.set-policy! 'fail-on-tick-gc) (gc.set-policy! :between-ticks)
              (gc.set-policy! "default") (gc.set-policy! 'manual))]]))
      assert.are.equal("#t", H.show(h, "(eq? (gc.policy) :manual)"))
    end)
  end)

  describe("errors", function()
    it("rejects an unknown policy and other types", function()
      assert.are.equal(
        'gc.set-policy!: expected :default, :between-ticks, :manual, or :fail-on-tick-gc, got "never"',
        H.err(h, '(gc.set-policy! "never")'))
      assert.are.equal(
        "gc.set-policy!: expected :default, :between-ticks, :manual, or :fail-on-tick-gc, got :Manual",
        H.err(h, "(gc.set-policy! :Manual)"))
      assert.are.equal("gc.set-policy!: expected a symbol or string, got 1", H.err(h, "(gc.set-policy! 1)"))
      assert.are.equal("gc.policy: expected 0 arguments, got 1", H.err(h, "(gc.policy 1)"))
      assert.are.equal("gc.set-policy!: expected 1 argument, got 0", H.err(h, "(gc.set-policy!)"))
      assert.are.equal(":default", H.show(h, "(gc.policy)")) -- unchanged by the failed calls
    end)
  end)

  describe("behaviour", function()
    it(":default collects on its own as the heap grows", function()
      local before = h:heap().collections
      h:eval(CHURN)
      assert.is_true(h:heap().collections > before)
    end)

    it(":manual never collects on its own; explicit collections still run", function()
      h:eval("(gc.set-policy! 'manual)")
      local before = h:heap().collections
      h:eval(CHURN)
      assert.are.equal(before, h:heap().collections)
      assert.are.equal(before + 1, h:gc().collections)
      h:eval("(gc.set-policy! 'default)")
      h:eval(CHURN)
      assert.is_true(h:heap().collections > before + 1)
    end)

    it(":manual still collects before an allocation would pass heap_limit", function()
      local s = lispbt.new({ workers = 1, heap_limit = 4 * 1024 * 1024 })
      s:eval("(gc.set-policy! 'manual)")
      assert.are.equal("done", tostring(s:eval(CHURN)))
      assert.is_true(s:heap().collections > 0)
      s:close()
    end)

    it(":manual also quiets gc_stress", function()
      local s = lispbt.new({ workers = 1, gc_stress = true })
      s:eval("(gc.set-policy! 'manual)")
      local before = s:heap().collections
      s:eval("(list 1 2 3) (vec.make 10) (map.make 'a 1)")
      assert.are.equal(before, s:heap().collections)
      s:close()
    end)

    it(":between-ticks defers collections that fall due in a tick to the tick's end", function()
      local s = lispbt.new({ workers = 1, gc_stress = true })
      local during
      s:register_action("alloc", function()
        local c0 = s:heap().collections
        s:eval("(list 1 2 3) (vec.make 10) (map.make 'a 1)")
        during = s:heap().collections - c0
        return "success"
      end)
      local inst = s:compile("(seq (act alloc) (act alloc))"):instance()
      s:eval("(gc.set-policy! 'between-ticks)")
      local before = s:heap().collections
      assert.are.equal("success", inst:tick())
      assert.are.equal(0, during)
      assert.are.equal(before + 1, s:heap().collections) -- the one deferred collection
      s:eval("(gc.set-policy! 'default)")
      assert.are.equal("success", inst:tick())
      assert.is_true(during > 0)
      s:close()
    end)

    it(":fail-on-tick-gc fails the node whose allocation needs a collection in a tick", function()
      local s = lispbt.new({ workers = 1, gc_stress = true })
      s:register_action("alloc", function()
        s:eval("(list 1 2 3)")
        return "success"
      end)
      local inst = s:compile("(act alloc)"):instance()
      s:eval("(gc.set-policy! 'fail-on-tick-gc)")
      assert.are.equal("failure", inst:tick())
      local logs = s:logs()
      assert.is_truthy(logs[#logs].msg:find("gc: collection requested during tick under fail-on-tick-gc policy",
        1, true), logs[#logs].msg)
      -- outside a tick the same allocation collects as usual
      local before = s:heap().collections
      s:eval("(list 1 2 3)")
      assert.is_true(s:heap().collections > before)
      s:close()
    end)

    it(":fail-on-tick-gc refuses explicit collections in a tick, from Lisp and from Lua", function()
      local lua_err
      h:register_action("luagc", function()
        local ok, e = pcall(h.gc, h)
        lua_err = not ok and e or nil
        return "success"
      end)
      h:eval([[
        (bt.register-action 'lispgc (lambda (node) (gc-stats) 'success))
        (gc.set-policy! 'fail-on-tick-gc)]])
      local inst = h:compile("(seq (act luagc) (act lispgc))"):instance()
      assert.are.equal("failure", inst:tick())
      assert.are.equal("gc: forced collection during tick under fail-on-tick-gc policy", lua_err)
      local logs = h:logs()
      assert.is_truthy(logs[#logs].msg:find("gc-stats: forced collection during tick under fail-on-tick-gc policy",
        1, true), logs[#logs].msg)
      assert.are.equal("table", type(h:gc())) -- outside the tick it collects
    end)

    it("the policy belongs to its host", function()
      local other = H.host()
      h:eval("(gc.set-policy! 'manual)")
      assert.are.equal(":default", H.show(other, "(gc.policy)"))
      other:close()
    end)
  end)
end)
