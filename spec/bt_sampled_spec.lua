-- spec/bt_sampled_spec.lua -- profile level 'sampled (issue 18 item 5):
-- counters on every tick, node durations on a random 1 tick in N; the
-- settings, what inst:stats() and bt.stats report, bad rates, and no
-- allocation per tick.
local lispbt = require("lispbt")

local SRC = "(seq (act always-success) (cond always-true) (act always-success))"

describe("profile level 'sampled", function()
  local host
  before_each(function()
    host = lispbt.new({ workers = 0 })
  end)
  after_each(function()
    host:close()
  end)

  local function ticks(inst, n)
    for _ = 1, n do
      inst:tick()
    end
  end

  it("counts every tick and times about 1 tick in N (default 16)", function()
    local inst = host:compile(SRC):instance()
    inst:set_profile_level("sampled")
    ticks(inst, 3200)
    local s = inst:stats()
    assert.are.equal("sampled", s.profile_level)
    assert.are.equal(16, s.profile_sample_every)
    assert.are.equal(3200, s.tick_count)
    assert.are.equal(3200, s.nodes[1].success)
    assert.are.equal(3200, s.nodes[4].success)
    -- 200 expected; the gaps are uniform in 1..31, so this is many sigma wide
    local k = s.profile_sampled_ticks
    assert.is_true(k >= 100 and k <= 400, "sampled ticks " .. k)
    for _, n in ipairs(s.nodes) do
      assert.are.equal(k, n.timed) -- every node runs on every tick
      assert.is_true(n.max_ns >= n.p50_ns)
    end
  end)

  it("the first tick after the level is set is timed", function()
    local inst = host:compile(SRC):instance()
    inst:set_profile_level("sampled", 1000)
    inst:tick()
    local s = inst:stats()
    assert.are.equal(1, s.profile_sampled_ticks)
    assert.are.equal(1, s.nodes[1].timed)
  end)

  it("N = 1 times every tick, like 'timing", function()
    local inst = host:compile(SRC):instance()
    inst:set_profile_level("sampled", 1)
    ticks(inst, 50)
    local s = inst:stats()
    assert.are.equal(50, s.profile_sampled_ticks)
    assert.are.equal(50, s.nodes[2].timed)
  end)

  it("bt.stats says so; other levels drop the sampling lines and time as before", function()
    local inst = host:compile(SRC):instance()
    host:set("inst", inst)
    host:eval("(bt.set-profile-level inst 'sampled 4)")
    ticks(inst, 40)
    local text = host.bt.stats(inst)
    assert.is_truthy(text:find("\nprofile_level=sampled\nprofile_sample_every=4\nprofile_sampled_ticks=%d+\n"))
    host:eval("(bt.set-profile-level inst 'timing)")
    local before = inst:stats().nodes[1].timed
    ticks(inst, 10)
    local s = inst:stats()
    assert.are.equal("timing", s.profile_level)
    assert.is_nil(s.profile_sample_every)
    assert.are.equal(before + 10, s.nodes[1].timed)
    assert.is_nil(host.bt.stats(inst):find("profile_sample_every", 1, true))
    host:eval("(bt.set-profile-level inst 'counters)")
    ticks(inst, 10)
    assert.are.equal(before + 10, inst:stats().nodes[1].timed)
  end)

  it("rejects bad rates with a clear error and keeps the level", function()
    local inst = host:compile(SRC):instance()
    local function err(...)
      local ok, e = pcall(inst.set_profile_level, inst, ...)
      assert.is_false(ok)
      return e
    end
    assert.matches("bt.set%-profile%-level: N must be an integer in %[1, 1048576%], got 0",
      err("sampled", 0))
    assert.matches("bt.set%-profile%-level: N must be an integer in %[1, 1048576%], got 1048577",
      err("sampled", 1048577))
    assert.matches("bt.set%-profile%-level: N must be an integer in %[1, 1048576%], got 2.5",
      err("sampled", 2.5))
    assert.matches("bt.set%-profile%-level: a sampling rate N goes with 'sampled only, got \"timing\"",
      err("timing", 8))
    assert.are.equal("timing", inst:stats().profile_level)
    inst:tick()
    assert.are.equal(1, inst:stats().tick_count)
  end)

  it("allocates nothing per tick", function()
    local inst = host:compile(SRC):instance()
    inst:set_profile_level("sampled", 4)
    ticks(inst, 100)
    local h0 = host:heap()
    ticks(inst, 1000)
    local h1 = host:heap()
    assert.are.equal(h0.c_heap_allocations, h1.c_heap_allocations)
    assert.are.equal(h0.total_allocated_objects, h1.total_allocated_objects)
  end)
end)
