-- spec/gc_spec.lua -- heap()/gc() counters, collection during long forms,
-- heap_limit, and the whole Lisp case suite (eval, reader, tail calls)
-- re-run on gc_stress hosts, which collect at every allocation.
local lispbt = require("lispbt")
local C = require("support.cases")

local FIELDS = {
  "total_allocated_objects", "live_objects_after_last_gc", "bytes_allocated", "next_gc_threshold",
  "live_objects", "freed_objects", "collections", "gc_last_pause_ns", "gc_max_pause_ns",
  "gc_max_pause_cpu_ns", "gc_total_pause_cpu_ns", "gc_total_pause_ns", "gc_pauses", "gc_pause_p50_ns", "gc_pause_p99_ns", "heap_limit", "gc_state",
}
local STATES = { idle = true, mark = true, sweep = true }

describe("gc", function()
  describe("heap() and gc()", function()
    it("have every field, all of them non-negative integers but the collector's state", function()
      local h <close> = lispbt.new()
      for _, t in ipairs({ h:heap(), h:gc() }) do
        for k, v in pairs(t) do
          assert.are.equal("string", type(k))
          assert.truthy(k:match("^[a-z0-9_]+$"), k)
          if k == "gc_state" then
            assert.is_true(STATES[v], v)
          else
            assert.are.equal("integer", math.type(v), k)
            assert.is_true(v >= 0, k)
          end
        end
        for _, f in ipairs(FIELDS) do
          assert.is_not_nil(t[f], f)
        end
      end
    end)

    it("a fresh host has not collected; heap() never collects #nostress", function()
      local h <close> = lispbt.new()
      local a = h:heap()
      assert.are.equal(0, a.collections)
      assert.are.equal(0, a.freed_objects)
      assert.are.equal(a.total_allocated_objects, a.live_objects)
      assert.is_true(a.bytes_allocated > 0)
      assert.are.equal(0, a.heap_limit)
      assert.is_true(a.bytes_allocated < a.next_gc_threshold)
      for _ = 1, 3 do
        assert.are.same(a, h:heap())
      end
    end)

    it("counters keep their relationships", function()
      local h <close> = lispbt.new()
      h:eval("(define keep (let loop ((i 0) (acc nil)) (if (= i 5000) acc (loop (+ i 1) (cons i acc)))))")
      h:eval("(let loop ((i 0)) (if (< i 50000) (begin (list i i) (loop (+ i 1)))))")
      for _, t in ipairs({ h:heap(), h:gc(), h:heap() }) do
        assert.is_true(t.live_objects_after_last_gc <= t.total_allocated_objects)
        assert.is_true(t.live_objects <= t.total_allocated_objects)
        assert.are.equal(t.total_allocated_objects, t.live_objects + t.freed_objects)
        assert.is_true(t.gc_last_pause_ns <= t.gc_max_pause_ns)
        assert.is_true(t.gc_max_pause_ns <= t.gc_total_pause_ns)
        assert.is_true(t.live_objects >= 5000)
      end
    end)

    it("gc() runs exactly one full collection and reports the state after it #nostress", function()
      local h <close> = lispbt.new()
      h:eval("(list 1 2 3)")
      local before = h:heap()
      local g = h:gc()
      assert.are.equal(before.collections + 1, g.collections)
      assert.are.equal(g.live_objects, g.live_objects_after_last_gc)
      assert.is_true(g.freed_objects >= 3)
      assert.is_true(g.next_gc_threshold >= 256 * 1024)
      assert.are.equal(before.total_allocated_objects, g.total_allocated_objects)
      assert.are.same(g, h:heap())
      local g2 = h:gc()
      assert.are.equal(g.collections + 1, g2.collections)
      assert.are.equal(g.live_objects, g2.live_objects)
    end)

    it("bytes shrink after dropping big data and collecting", function()
      local h <close> = lispbt.new()
      local base = h:gc().bytes_allocated
      h:eval("(define big (vec.make 100000 0)) nil")
      h:eval("(define lst (let loop ((i 0) (acc nil)) (if (= i 100000) acc (loop (+ i 1) (cons i acc)))))")
      local full = h:heap()
      assert.is_true(full.bytes_allocated > base + 100000 * 16, tostring(full.bytes_allocated))
      h:eval("(set! big nil) (set! lst nil)")
      local after = h:gc()
      assert.is_true(after.bytes_allocated < base + 4096,
        ("%d bytes after, %d at start"):format(after.bytes_allocated, base))
      assert.is_true(after.live_objects < full.live_objects - 100000)
    end)

    it("collections happen during one long-running form", function()
      local h <close> = lispbt.new()
      local c0 = h:heap().collections
      h:eval("(let loop ((i 0)) (if (< i 300000) (begin (cons i i) (loop (+ i 1)))))")
      local s = h:heap()
      assert.is_true(s.collections > c0 + 1, tostring(s.collections))
      assert.is_true(s.freed_objects > 200000)
      assert.is_true(s.bytes_allocated < 2 * s.next_gc_threshold)
    end)

    it("values held by Lua survive collections; dropping them frees them", function()
      local h <close> = lispbt.new()
      local f = h:eval("(let ((data (list 1 2 3))) (lambda () data))")
      local p = h:eval("(cons 'a 'b)")
      for _ = 1, 3 do
        h:gc()
        h:eval("(let loop ((i 0)) (if (< i 10000) (begin (list i) (loop (+ i 1)))))")
      end
      assert.are.same({ 1, 2, 3 }, f())
      assert.are.equal("(a . b)", tostring(p))
      local live = h:gc().live_objects
      f, p = nil, nil
      collectgarbage()
      collectgarbage()
      assert.is_true(h:gc().live_objects < live)
    end)

    it("collected Lua callbacks are released from the host", function()
      local h <close> = lispbt.new()
      local weak = setmetatable({}, { __mode = "k" })
      do
        local fn = function() return 1 end
        weak[fn] = true
        h:call("list", fn) -- converted to a primitive, then garbage
      end
      collectgarbage() -- the converted result held the primitive (pinned)
      collectgarbage()
      h:gc() -- the primitive dies here...
      h:eval("1") -- ...and at this safe point the binding forgets its callback
      collectgarbage()
      collectgarbage()
      assert.is_nil(next(weak))
    end)
  end)

  describe("heap_limit", function()
    it("raises out of memory, stays within the limit, and recovers after freeing", function()
      local limit = 1000000
      local h <close> = lispbt.new{ heap_limit = limit }
      assert.are.equal(limit, h:heap().heap_limit)
      local base = h:heap().bytes_allocated -- held at creation: not charged
      h:eval("(define keep nil)")
      local ok, err = pcall(h.eval, h, "(let loop ((i 0)) (set! keep (cons (vec.make 8 i) keep)) (loop (+ i 1)))")
      assert.is_false(ok)
      assert.truthy(err:find("out of memory", 1, true), err)
      assert.truthy(err:match("^eval:1:%d+: [%w%.%-]+: out of memory$"), err)
      assert.is_true(h:heap().charged_bytes <= limit)
      assert.is_true(h:heap().bytes_allocated <= limit + base)
      -- still usable for small work while full...
      assert.are.equal(3, h:eval("(+ 1 2)"))
      -- ...and for big work once the data is dropped
      h:eval("(set! keep nil)")
      assert.are.equal(10000, h:eval("(length (let loop ((i 0) (acc nil)) (if (= i 10000) acc (loop (+ i 1) (cons i acc)))))"))
      C.usable(h)
    end)

    it("one allocation bigger than the limit fails cleanly", function()
      local h <close> = lispbt.new{ heap_limit = 100000 }
      local ok, err = pcall(h.eval, h, "(vec.make 1000000 0)")
      assert.is_false(ok)
      assert.are.equal("eval:1:1: vec.make: out of memory", err)
      ok, err = pcall(h.eval, h, "(define v (vec.make)) (vec.reserve! v 100000)")
      assert.is_false(ok)
      assert.truthy(err:find("out of memory", 1, true), err)
      C.usable(h)
    end)

    it("converting a huge Lua table into a limited host fails cleanly", function()
      local h <close> = lispbt.new{ heap_limit = 200000 }
      local big = {}
      for i = 1, 100000 do big[i] = i end
      local ok, err = pcall(h.set, h, "big", big)
      assert.is_false(ok)
      assert.truthy(err:find("out of memory", 1, true), err)
      assert.is_nil(h:get("big"))
      C.usable(h)
    end)
  end)

  describe("gc_stress", function()
    it("collects at every allocation", function()
      local h <close> = lispbt.new{ gc_stress = true }
      local a = h:heap()
      h:eval("(length (list 1 2 3 4 5 6 7 8 9 10))")
      local b = h:heap()
      local allocated = b.total_allocated_objects - a.total_allocated_objects
      assert.is_true(allocated >= 10)
      assert.is_true(b.collections - a.collections >= allocated)
    end)

    it("Lua-side values and callbacks survive stress", function()
      local h <close> = lispbt.new{ gc_stress = true }
      h:register_builtin("mk", function(n)
        local t = {}
        for i = 1, n do t[i] = { i, tostring(i), { k = i } } end
        return t
      end)
      assert.are.equal(200, h:eval("(length (mk 200))"))
      assert.are.equal("199", h:eval("(car (cdr (car (reverse (mk 199)))))"))
      local m = h:call("map", function(x) return { x, x } end, { 1, 2, 3 })
      assert.are.same({ { 1, 1 }, { 2, 2 }, { 3, 3 } }, m)
    end)

    describe("eval cases", function()
      C.define(require("support.eval_cases"), { stress = true })
    end)
    describe("reader cases", function()
      C.define(require("support.reader_cases"), { stress = true })
    end)
    describe("tail call cases", function()
      C.define(require("support.tail_cases"), { stress = true })
    end)
  end)
end)
