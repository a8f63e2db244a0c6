-- spec/group_spec.lua -- instance groups (issue 18 item 4): tree:group(insts)
-- checks and pins the instances once; g:tick([inputs]), tree:tick_all(g)
-- and host.bt.tick_all(tree, g) tick them in one crossing, with the same
-- results as a loop over inst:tick(), into the group's own statuses table
-- (an entry written only when its status changed), g:tick_counts() and
-- g:counts() giving the four counts, per-instance errors, closed instances
-- and hosts handled, and nothing allocated in the steady state (C heap,
-- Lisp heap, Lua heap).  What every batch API shares (same results as a
-- loop, inputs, leaf order, per-instance errors) is in batch_spec.lua.
local lispbt = require("lispbt")
package.path = "./spec/?.lua;" .. package.path
local T = require("support.bt_helpers")

local SRC = "(seq (act always-success) (act always-success))"
local FLIP = "(seq (act running-then-success 1) (act always-success))"

local function err(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return (tostring(e):gsub("^.-:%d+: ", ""))
end

describe("tree:group", function()
  local host
  before_each(function()
    host = lispbt.new({ workers = 0 })
  end)
  after_each(function()
    host:close()
  end)

  local function make(src, n)
    return T.instances(host, src, n)
  end

  it("is a lispbt.group of the instances, in order", function()
    local tree, insts = make(SRC, 3)
    local g = tree:group(insts)
    assert.are.equal("lispbt.group (3 instances)", tostring(g))
    assert.are.equal(3, #g)
    local again = g:instances()
    assert.are_not.equal(insts, again)
    for i = 1, 3 do
      assert.are.equal(insts[i], again[i])
    end
    assert.are.equal(0, #tree:group({}))
    assert.are.same({}, tree:group({}):tick())
  end)

  it("returns its own table every time, whichever spelling ticks it", function()
    local tree, insts = make(SRC, 2)
    local g, g2 = tree:group(insts), tree:group(insts)
    local st = g:tick()
    assert.are.equal(st, g:tick())
    assert.are.equal(st, tree:tick_all(g))
    assert.are.equal(st, host.bt.tick_all(tree, g))
    assert.are_not.equal(st, g2:tick())
    assert.are_not.equal(st, tree:tick_all(insts))
    assert.are.equal(6, insts[1]:stats().tick_count) -- 4 by g, 1 by g2, 1 by tick_all(insts)
    assert.are.same({ "success", "success" }, st)
  end)

  it("writes a status only when it changed: statuses changing every tick stay right", function()
    local tree, insts = make(FLIP, 5)
    local ref = tree:instance() -- ticked one by one beside the group
    local g = tree:group(insts)
    for round = 1, 6 do
      local want = ref:tick()
      assert.are.equal(round % 2 == 1 and "running" or "success", want)
      local st = g:tick()
      for i = 1, 5 do
        assert.are.equal(want, st[i])
      end
      assert.are.same(round % 2 == 1 and { 0, 0, 5, 0 } or { 5, 0, 0, 0 }, { g:counts() })
    end
  end)

  it("a user's write into the statuses table stays until that status changes", function()
    local tree, insts = make(SRC, 2)
    local g = tree:group(insts)
    local st = g:tick()
    st[1] = "mine"
    assert.are.equal("mine", g:tick()[1]) -- documented: the table is the group's
    assert.are.equal("success", st[2])
  end)

  it("tick_counts ticks without writing the statuses table, which keeps the last g:tick()", function()
    local tree, insts = make(FLIP, 4)
    local g = tree:group(insts)
    local st = g:tick()
    assert.are.same({ "running", "running", "running", "running" }, st)
    assert.are.same({ 4, 0, 0, 0 }, { g:tick_counts() })
    assert.are.same({ 4, 0, 0, 0 }, { g:counts() })
    assert.are.same({ "running", "running", "running", "running" }, st)
    assert.are.same({ 0, 0, 4, 0 }, { g:tick_counts() })
    assert.are.same({ "success", "success", "success", "success" }, g:tick())
    assert.are.equal(4, insts[1]:stats().tick_count)
  end)

  it("writes inputs[k] before instance k's tick; false is no input", function()
    local tree, insts = make("(cond bb-has go)", 3)
    local g = tree:group(insts)
    assert.are.same({ "success", "failure", "success" }, g:tick({ { go = 1 }, false, { go = true } }))
    assert.are.equal(1, insts[1]:get("go"))
    assert.is_nil(insts[2]:get("go"))
    assert.are.same({ 2, 1, 0, 0 }, { g:tick_counts({ false, false, false }) })
  end)

  it("a bad input table fails its instance only", function()
    local tree, insts = make("(cond bb-has go)", 2)
    local g = tree:group(insts)
    local st, errs = g:tick({ { [""] = 1 }, { go = 1 } })
    assert.are.equal(false, st[1])
    assert.are.equal("success", st[2])
    assert.are.equal("tick: inputs[1]: blackboard key must not be empty", errs[1])
    assert.are.equal(0, insts[1]:stats().tick_count)
    assert.are.same({ 1, 0, 0, 1 }, { g:counts() })
    assert.are.same({ "failure", "success" }, g:tick({ false, { go = 1 } }))
  end)

  it("a closed instance gives false and a message; the others tick", function()
    local tree, insts = make(SRC, 3)
    local g = tree:group(insts)
    g:tick()
    do
      local c <close> = insts[2]
    end
    insts[2] = nil
    collectgarbage()
    collectgarbage()
    local st, errs = g:tick()
    assert.are.same({ "success", false, "success" }, st)
    assert.are.equal("tick: instances[2] is a closed instance", errs[2])
    local s, f, r, e, errs2 = g:tick_counts()
    assert.are.same({ 2, 0, 0, 1 }, { s, f, r, e })
    assert.are.equal("tick_counts: instances[2] is a closed instance", errs2[2])
    assert.are.equal(3, insts[1]:stats().tick_count)
  end)

  it("keeps its instances alive", function()
    local tree = host:compile(SRC)
    local g = tree:group({ tree:instance(), tree:instance() })
    collectgarbage()
    collectgarbage()
    assert.are.same({ "success", "success" }, g:tick())
    assert.are.equal(1, g:instances()[1]:stats().tick_count)
  end)

  it("refuses to be ticked from one of its own leaves", function()
    local g, inner
    host:register_action("retick", function()
      if inner == nil then
        inner = { pcall(g.tick, g) }
      end
      return true
    end)
    local tree, insts = make("(act retick)", 2)
    g = tree:group(insts)
    assert.are.same({ "success", "success" }, g:tick())
    assert.is_false(inner[1])
    assert.matches("tick: the group is already ticking", inner[2])
    assert.are.same({ "success", "success" }, g:tick())
  end)

  it("a closed tree or host", function()
    local h2 = lispbt.new({ workers = 0 })
    local t2 = h2:compile(SRC)
    local g = t2:group({ t2:instance() })
    h2:close()
    assert.are.equal("tick: host is closed", err(g.tick, g))
    assert.are.equal("tick_counts: host is closed", err(g.tick_counts, g))
    assert.are.equal("tick_all: host is closed", err(t2.tick_all, t2, g))
    local t3 = host:compile(SRC)
    local g3 = t3:group({ t3:instance() })
    do
      local c <close> = t3
    end
    assert.are.equal("tick: tree is closed", err(g3.tick, g3))
  end)

  describe("bad input", function()
    local tree, other, insts
    before_each(function()
      tree, insts = make(SRC, 2)
      other = host:compile(SRC)
    end)

    it("group checks every entry, naming the function", function()
      assert.are.equal("group: bad argument #1 (table expected, got number)", err(tree.group, tree, 3))
      assert.are.equal("group: bad argument #1 (table expected, got no value)", err(tree.group, tree))
      assert.are.equal("group: bad self (lispbt.tree expected, got lispbt.instance)",
        err(tree.group, insts[1], insts))
      insts[3] = "x"
      assert.are.equal("group: bad argument #1 (instances[3] is not an instance)", err(tree.group, tree, insts))
      insts[3] = other:instance()
      assert.are.equal("group: bad argument #1 (instances[3] is an instance of another tree)",
        err(tree.group, tree, insts))
      local h2 = lispbt.new({ workers = 0 })
      insts[3] = h2:compile(SRC):instance()
      assert.are.equal("group: bad argument #1 (instances[3] is an instance of another host)",
        err(tree.group, tree, insts))
      h2:close()
      insts[3] = tree:instance()
      do
        local c <close> = insts[3]
      end
      assert.are.equal("group: bad argument #1 (instances[3] is a closed instance)", err(tree.group, tree, insts))
      assert.are.equal(0, insts[1]:stats().tick_count)
    end)

    it("tick and tick_all check their arguments before the first tick", function()
      local g = tree:group(insts)
      assert.are.equal("tick: bad self (lispbt.group expected, got lispbt.tree)", err(g.tick, tree))
      assert.are.equal("tick_counts: bad self (lispbt.group expected, got no value)", err(g.tick_counts))
      assert.are.equal("counts: bad self (lispbt.group expected, got number)", err(g.counts, 1))
      assert.are.equal("instances: bad self (lispbt.group expected, got table)", err(g.instances, {}))
      assert.are.equal("tick: bad argument #1 (table expected, got number)", err(g.tick, g, 1))
      assert.are.equal("tick: bad argument #1 (inputs has 1 entries, the group 2)", err(g.tick, g, { {} }))
      assert.are.equal("tick: bad argument #1 (inputs[2] is a number, expected a table or false)",
        err(g.tick, g, { {}, 7 }))
      assert.are.equal("tick_all: bad argument #1 (a group of another tree)", err(other.tick_all, other, g))
      assert.are.equal("bt.tick-all: bad argument #1 (a group of another tree)",
        err(host.bt.tick_all, other, g))
      assert.are.equal("tick_all: bad argument #2 (inputs has 1 entries, the group 2)",
        err(tree.tick_all, tree, g, { {} }))
      assert.are.equal(0, insts[1]:stats().tick_count)
      assert.are.same({ "success", "success" }, g:tick())
    end)
  end)

  it("allocates nothing in the steady state (C, Lisp and Lua heaps)", function()
    for _, src in ipairs({ SRC, FLIP }) do
      local tree, insts = make(src, 150)
      local g = tree:group(insts)
      g:tick()
      g:tick()
      g:tick_counts()
      local h0 = host:heap()
      collectgarbage("stop")
      local lua0 = collectgarbage("count")
      for _ = 1, 100 do
        g:tick()
        g:tick_counts()
        tree:tick_all(g)
      end
      local lua1 = collectgarbage("count")
      collectgarbage("restart")
      local h1 = host:heap()
      assert.are.equal(h0.c_heap_allocations, h1.c_heap_allocations)
      assert.are.equal(h0.total_allocated_objects, h1.total_allocated_objects)
      assert.are.equal(lua0, lua1)
    end
  end)
end)
