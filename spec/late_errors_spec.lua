-- Error paths of later builtins and options: exact messages, host usable.
local lispbt = require("lispbt")

local function err(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok)
  return tostring(e)
end

describe("late error paths", function()
  it("lispbt.new rejects more than 256 workers", function()
    assert.are.equal("new: bad argument #1 (option 'workers' must be at most 256)",
      err(lispbt.new, { workers = 300 }))
    local h <close> = lispbt.new{ workers = 256 }
    assert.are.equal(3, h:eval("(+ 1 2)"))
  end)

  it("a mirrored builtin called with ':' on a host explains itself", function()
    local h <close> = lispbt.new()
    assert.are.equal("heap-stats: called with ':' on a host; call it as a function, " ..
      "e.g. host.bt.stats(inst)", err(h.heap_stats, h))
    assert.matches("bt.stats: called with ':'", err(h.bt.stats, h))
    assert.are.equal(3, h:eval("(+ 1 2)"))
  end)

  it("series, histogram and prometheus reject bad arguments; the instance keeps working", function()
    local h <close> = lispbt.new()
    local inst = h:compile("(seq (act always-success))"):instance()
    assert.matches("bt.series.enable: CAPACITY must be an integer in %[0, 16777216%], got %-1",
      err(h.bt.series.enable, inst, -1))
    assert.matches("bt.series.dump: expected 'jsonl or 'csv, got \"xml\"",
      err(h.bt.series.dump, inst, "xml"))
    assert.matches("bt.series.write: cannot open '/nonexistent/dir/s.csv'",
      err(h.bt.series.write, inst, "/nonexistent/dir/s.csv", "csv"))
    assert.matches("bt.histogram: NODE must be an integer in %[0, 1%], got 99", err(h.bt.histogram, inst, 99))
    assert.matches("metrics.prometheus: expected a bt_instance, got 42",
      err(h.metrics.prometheus, 42))
    assert.matches("read: no datum in the string", err(h.eval, h, '(read "  ")'))
    h.bt.series.enable(inst, 8)
    assert.are.equal("success", inst:tick())
    assert.matches("^tick,ts_ns", h.bt.series.dump(inst, "csv"))
    assert.matches("lispbt_bt_ticks_total", h.metrics.prometheus(inst))
  end)
end)
