-- spec/surfaces_spec.lua -- heap-stats / gc-stats on both surfaces (SPEC
-- §4, §8): the exact first four lines on stdout, nil results, the table
-- forms host:heap()/host:gc(), and the mirrored names.
local lispbt = require("lispbt")
local C = require("support.cases")

local HEAD = {
  "total allocated objects",
  "live objects after last GC",
  "bytes allocated",
  "next GC threshold",
}
-- muesli-bt's other four lines, which follow in this order
local MUESLI = {
  "collection count",
  "total GC pause ns",
  "freed objects total",
  "forced collection count",
}

-- Parse stats output into blocks of { key, value } lines, split at
-- marker lines "==NAME==".
local function blocks(out)
  local res, cur = {}, nil
  for line in out:gmatch("([^\n]*)\n") do
    local name = line:match("^==(.+)==$")
    if name then
      cur = { name = name }
      res[#res + 1] = cur
      res[name] = cur
    elseif cur then
      cur[#cur + 1] = line
    end
  end
  return res
end

-- Check one printed stats block: SPEC first four lines in order, then
-- muesli-bt's four, then at least one extra "key: N" line; returns the values by key.
local function checkblock(b)
  assert(b, "missing block")
  assert(#b > 8, "expected extra lines after the eight required ones:\n" .. table.concat(b, "\n"))
  local vals = {}
  for i, line in ipairs(b) do
    local k, v = line:match("^([%w][%w ]*): (%d+)$")
    assert(k, ("line %d is not 'key: N': %q"):format(i, line))
    if i <= 4 then
      assert.are.equal(HEAD[i], k)
    elseif i <= 8 then
      assert.are.equal(MUESLI[i - 4], k)
    end
    assert(vals[k] == nil, "duplicate key " .. k)
    vals[k] = math.tointeger(tonumber(v))
  end
  return vals
end

describe("surfaces", function()
  describe("heap-stats and gc-stats print to stdout", function()
    local out, ok
    setup(function()
      out, ok = C.subprocess([[
        local lispbt = require("lispbt")
        local h = lispbt.new()
        local function mark(s) io.stdout:write("==", s, "==\n") io.stdout:flush() end
        local r = {}
        mark("lisp-heap") r[1] = h:eval("(heap-stats)")
        h:eval("(define junk (list 1 2 3)) (set! junk nil)")
        mark("lisp-gc") r[2] = h:eval("(gc-stats)")
        mark("lua-heap") r[3] = h.heap_stats()
        mark("lua-gc") r[4] = h.gc_stats()
        mark("module-heap") r[5] = lispbt.heap_stats()
        mark("module-gc") r[6] = lispbt.gc_stats()
        h:eval("(define (heap-stats) 'mine) (define (gc-stats) 'mine)")
        mark("redefined-lisp") r[7] = h:eval("(heap-stats)")
        mark("redefined-lua") r[8] = h.heap_stats()
        mark("redefined-lua-gc") r[9] = h.gc_stats()
        local t = h:heap()
        mark("table")
        print("heap collections: " .. t.collections)
        mark("results")
        for i = 1, 9 do print(i, tostring(r[i])) end
        mark("end")
      ]])
    end)

    it("the subprocess ran", function()
      assert.is_true(ok, out)
    end)

    for _, name in ipairs({ "lisp-heap", "lisp-gc", "lua-heap", "lua-gc", "module-heap", "module-gc",
                            "redefined-lua" }) do
      it(name .. " prints the four SPEC lines first, in order, then extra lines #nostress", function()
        local v = checkblock(blocks(out)[name])
        assert.is_true(v["total allocated objects"] >= v["live objects after last GC"])
        assert.is_true(v["bytes allocated"] > 0)
        assert.is_true(v["next GC threshold"] >= 256 * 1024)
        assert.is_not_nil(v["collection count"])
        assert.is_not_nil(v["forced collection count"])
      end)
    end

    it("gc-stats collects first, heap-stats does not #nostress", function()
      local b = blocks(out)
      local heap1, gc1 = checkblock(b["lisp-heap"]), checkblock(b["lisp-gc"])
      local heap2, gc2 = checkblock(b["lua-heap"]), checkblock(b["lua-gc"])
      assert.are.equal(0, heap1["collection count"])
      assert.are.equal(1, gc1["collection count"])
      assert.are.equal(1, heap2["collection count"])
      assert.are.equal(2, gc2["collection count"])
      -- right after a collection, everything live was live after it
      assert.are.equal(gc1["live objects"], gc1["live objects after last GC"])
    end)

    it("the module-level forms print the default host's counters #nostress", function()
      local b = blocks(out)
      local mheap, mgc = checkblock(b["module-heap"]), checkblock(b["module-gc"])
      assert.are.equal(0, mheap["collection count"])
      assert.are.equal(1, mgc["collection count"])
    end)

    it("all forms return nil", function()
      local res = blocks(out).results
      for i = 1, 6 do
        assert.are.equal(i .. "\tnil", res[i])
      end
    end)

    it("redefining heap-stats in Lisp changes Lisp, not host.heap_stats", function()
      local b = blocks(out)
      assert.are.equal(0, #b["redefined-lisp"]) -- printed nothing
      assert.are.equal("7\tmine", b.results[7])
      checkblock(b["redefined-lua"])
      checkblock(b["redefined-lua-gc"])
      assert.are.equal("8\tnil", b.results[8])
      assert.are.equal("9\tnil", b.results[9])
    end)

    it("text and table forms agree", function()
      local b = blocks(out)
      local gc = checkblock(b["redefined-lua-gc"])
      assert.are.equal("heap collections: " .. gc["collection count"], b.table[1])
    end)
  end)

  describe("table forms", function()
    it("host:heap() and host:gc() use the text keys with spaces as _", function()
      local h <close> = lispbt.new()
      local t = h:heap()
      for _, k in ipairs(HEAD) do
        local key = k:gsub(" ", "_"):lower()
        assert.is_not_nil(t[key], key)
        assert.are.equal("integer", math.type(t[key]))
      end
      assert.is_not_nil(t.live_objects_after_last_gc)
      assert.is_nil(t["live_objects_after_last_GC"])
      local g = h:gc()
      assert.are.equal(t.collections + 1, g.collections)
    end)

    it("host:heap() matches the printed numbers", function()
      local out, ok = C.subprocess([[
        local h = require("lispbt").new()
        h:eval("(define keep (vec.make 1000 1))")
        local t = h:gc()
        io.write("==text==\n")
        h.heap_stats()
        io.write("==table==\n")
        for _, k in ipairs({ "total_allocated_objects", "live_objects_after_last_gc",
                             "bytes_allocated", "next_gc_threshold", "collections" }) do
          io.write(k, ": ", t[k], "\n")
        end
      ]])
      assert.is_true(ok, out)
      local b = blocks(out)
      local v = checkblock(b.text)
      local tv = {}
      for _, line in ipairs(b.table) do
        local k, n = line:match("^(.-): (%d+)$")
        tv[k] = math.tointeger(tonumber(n))
      end
      assert.are.equal(tv.total_allocated_objects, v["total allocated objects"])
      assert.are.equal(tv.live_objects_after_last_gc, v["live objects after last GC"])
      assert.are.equal(tv.bytes_allocated, v["bytes allocated"])
      assert.are.equal(tv.next_gc_threshold, v["next GC threshold"])
      assert.are.equal(tv.collections, v["collection count"])
    end)
  end)

  describe("mirrored names", function()
    it("exist exactly on hosts and on the module", function()
      local h <close> = lispbt.new()
      assert.are.equal("function", type(h.heap_stats))
      assert.are.equal("function", type(h.gc_stats))
      assert.are.equal("function", type(lispbt.heap_stats))
      assert.are.equal("function", type(lispbt.gc_stats))
      assert.is_nil(h["heap-stats"])
      assert.is_nil(h["gc-stats"])
      assert.is_nil(h.heapstats)
      assert.is_nil(lispbt["heap-stats"])
    end)

    it("each host has its own mirror functions", function()
      local a <close> = lispbt.new()
      local b <close> = lispbt.new()
      assert.are_not.equal(a.heap_stats, b.heap_stats)
      assert.are_not.equal(a.heap_stats, lispbt.heap_stats)
    end)

    it("the general Lisp library is not mirrored", function()
      local h <close> = lispbt.new()
      for _, name in ipairs({ "car", "cons", "list", "print", "write", "save", "error", "hash64",
                              "vec", "map", "rng", "time", "sqrt", "string_append", "apply",
                              "write_to_string", "number__string", "not" }) do
        assert.is_nil(h[name], "host." .. name)
        assert.is_nil(lispbt[name], "lispbt." .. name)
      end
    end)

    it("method names do not collide with the mirror", function()
      local h <close> = lispbt.new()
      for _, m in ipairs({ "eval", "load", "call", "get", "set", "register_builtin", "heap", "gc", "close" }) do
        assert.are.equal("function", type(h[m]), m)
      end
      -- host:heap() is the table form, host.heap_stats the printing one
      assert.are.equal("table", type(h:heap()))
    end)
  end)
end)
