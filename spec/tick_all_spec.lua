-- spec/tick_all_spec.lua -- batch ticks (issue 18 item 4): tree:tick_all,
-- host.bt.tick_all and (bt.tick-all def insts [inputs]): same results as
-- ticking one by one, a reused statuses table, per-instance errors that do
-- not stop the others, checks of every argument before the first tick, and
-- no allocation in the steady state.  What every batch API shares (same
-- results as a loop, inputs, leaf order, per-instance errors) is in
-- batch_spec.lua.
local lispbt = require("lispbt")
package.path = "./spec/?.lua;" .. package.path
local T = require("support.bt_helpers")

local SRC = "(seq (act always-success) (act always-success))"

describe("tree:tick_all", function()
  local host
  before_each(function()
    host = lispbt.new({ workers = 0 })
  end)
  after_each(function()
    host:close()
  end)

  it("ticks every instance once, in order, like inst:tick()", function()
    local tree = host:compile("(seq (cond bb-has ready) (act always-success))")
    local insts = {}
    for i = 1, 5 do
      insts[i] = tree:instance()
      if i % 2 == 0 then
        insts[i]:put("ready", true)
      end
    end
    local st = tree:tick_all(insts)
    assert.are.same({ "failure", "success", "failure", "success", "failure" }, st)
    for i = 1, 5 do
      assert.are.equal(1, insts[i]:stats().tick_count)
    end
  end)

  it("returns the same statuses table every call, cut to the batch", function()
    local tree = host:compile(SRC)
    local insts = { tree:instance(), tree:instance(), tree:instance() }
    local a = tree:tick_all(insts)
    local b = tree:tick_all(insts)
    assert.are.equal(a, b)
    assert.are.same({ "success", "success", "success" }, b)
    local c = tree:tick_all({ insts[1] })
    assert.are.equal(a, c)
    assert.are.same({ "success" }, c)
    assert.are.same({}, tree:tick_all({}))
  end)

  it("host.bt.tick_all is the same function", function()
    local tree = host:compile(SRC)
    local insts = { tree:instance(), tree:instance() }
    local st = host.bt.tick_all(tree, insts)
    assert.are.same({ "success", "success" }, st)
    assert.are.equal(st, tree:tick_all(insts))
  end)

  it("an instance that cannot be ticked gives false and a message; the others tick", function()
    local tree
    local insts = {}
    local inner
    host:register_action("retick", function()
      if inner == nil then
        inner = { tree:tick_all(insts) }
      end
      return true
    end)
    tree = host:compile("(act retick)")
    for i = 1, 3 do
      insts[i] = tree:instance()
    end
    local st = tree:tick_all(insts)
    assert.are.same({ "success", "success", "success" }, st)
    -- the nested batch ran inside instance 1's tick: instance 1 was busy
    local ist, ierr = inner[1], inner[2]
    assert.are.equal(false, ist[1])
    assert.are.equal("success", ist[2])
    assert.are.equal("success", ist[3])
    assert.matches("tick_all: instances%[1%]: the instance is already ticking", ierr[1])
    assert.is_nil(ierr[2])
    assert.are_not.equal(st, ist) -- the nested call got a table of its own
  end)

  describe("checks every argument before the first tick", function()
    local tree, other, insts
    before_each(function()
      tree = host:compile(SRC)
      other = host:compile(SRC)
      insts = { tree:instance(), tree:instance() }
    end)
    local function untouched()
      for _, i in ipairs(insts) do
        assert.are.equal(0, i:stats().tick_count)
      end
    end

    it("instances must be a table", function()
      assert.has_error(function() tree:tick_all(3) end,
        "tick_all: bad argument #1 (table or lispbt.group expected, got number)")
      assert.has_error(function() tree:tick_all() end,
        "tick_all: bad argument #1 (table or lispbt.group expected, got no value)")
    end)

    it("self must be a tree", function()
      assert.has_error(function() tree.tick_all(insts[1], insts) end)
      local ok, err = pcall(tree.tick_all, insts[1], insts)
      assert.is_false(ok)
      assert.matches("tick_all: bad self", err)
    end)

    it("entries must be instances", function()
      insts[3] = "x"
      assert.has_error(function() tree:tick_all(insts) end,
        "tick_all: bad argument #1 (instances[3] is not an instance)")
      insts[3] = tree
      assert.has_error(function() tree:tick_all(insts) end,
        "tick_all: bad argument #1 (instances[3] is not an instance)")
      insts[3] = nil
      untouched()
    end)

    it("entries must be instances of this tree", function()
      insts[3] = other:instance()
      assert.has_error(function() tree:tick_all(insts) end,
        "tick_all: bad argument #1 (instances[3] is an instance of another tree)")
      untouched()
    end)

    it("entries must be instances of this host", function()
      local h2 = lispbt.new({ workers = 0 })
      insts[3] = h2:compile(SRC):instance()
      assert.has_error(function() tree:tick_all(insts) end,
        "tick_all: bad argument #1 (instances[3] is an instance of another host)")
      untouched()
      h2:close()
    end)

    it("entries must not be closed", function()
      local c = tree:instance()
      insts[3] = c
      do local cc <close> = c end
      assert.has_error(function() tree:tick_all(insts) end,
        "tick_all: bad argument #1 (instances[3] is a closed instance)")
      insts[3] = nil
      untouched()
    end)

    it("inputs must match the instances", function()
      assert.has_error(function() tree:tick_all(insts, 1) end,
        "tick_all: bad argument #2 (table expected, got number)")
      assert.has_error(function() tree:tick_all(insts, { {} }) end,
        "tick_all: bad argument #2 (inputs has 1 entries, instances 2)")
      assert.has_error(function() tree:tick_all(insts, { {}, 7 }) end,
        "tick_all: bad argument #2 (inputs[2] is a number, expected a table or false)")
      untouched()
    end)

    it("the host stays usable", function()
      pcall(tree.tick_all, tree, { 1 })
      assert.are.same({ "success", "success" }, tree:tick_all(insts))
    end)

    it("a closed host", function()
      local h2 = lispbt.new({ workers = 0 })
      local t2 = h2:compile(SRC)
      h2:close()
      assert.has_error(function() t2:tick_all({}) end, "tick_all: host is closed")
    end)
  end)

  it("allocates nothing in the steady state", function()
    local tree = host:compile(SRC)
    local insts = {}
    for i = 1, 50 do
      insts[i] = tree:instance()
    end
    tree:tick_all(insts)
    local h0 = host:heap()
    for _ = 1, 100 do
      tree:tick_all(insts)
    end
    local h1 = host:heap()
    assert.are.equal(h0.c_heap_allocations, h1.c_heap_allocations)
    assert.are.equal(h0.total_allocated_objects, h1.total_allocated_objects)
  end)
end)

describe("(bt.tick-all def insts [inputs])", function()
  local host
  before_each(function()
    host = lispbt.new({ workers = 0 })
  end)
  after_each(function()
    host:close()
  end)

  it("ticks a list or a vector of instances and returns their statuses", function()
    host:eval([[
      (define t (bt.compile '(cond bb-has go)))
      (define a (bt.new-instance t))
      (define b (bt.new-instance t))]])
    assert.are.equal("(failure failure)", host:eval("(write-to-string (bt.tick-all t (list a b)))"))
    assert.are.equal("(success failure)",
      host:eval("(write-to-string (let ((v (vec.make))) (vec.push! v a) (vec.push! v b) (bt.tick-all t v (list '((go 1)) nil))))"))
    assert.are.equal("nil", host:eval("(write-to-string (bt.tick-all t '()))"))
  end)

  it("a busy instance gives its message in its place", function()
    host:eval([[
      (define t nil)
      (define insts nil)
      (define inner nil)
      (bt.register-action 'nest (lambda (i) (if (null? inner) (set! inner (bt.tick-all t insts))) #t))
      (set! t (bt.compile '(act nest)))
      (set! insts (list (bt.new-instance t) (bt.new-instance t)))]])
    assert.are.equal("(success success)", host:eval("(write-to-string (bt.tick-all t insts))"))
    assert.are.equal(
      '("bt.tick-all: instances[0]: the instance is already ticking" success)',
      host:eval("(write-to-string inner)"))
  end)

  it("checks its arguments before the first tick", function()
    host:eval([[
      (define t (bt.compile '(act always-success)))
      (define u (bt.compile '(act always-success)))
      (define a (bt.new-instance t))]])
    local function err(src)
      local ok, e = pcall(host.eval, host, src)
      assert.is_false(ok)
      return e
    end
    assert.matches("bt.tick%-all: expected a bt_def", err("(bt.tick-all 1 (list a))"))
    assert.matches("bt.tick%-all: expected a list or vector of instances",
      err("(bt.tick-all t 5)"))
    assert.matches("bt.tick%-all: instances%[1%] is a integer, expected a bt_instance",
      err("(bt.tick-all t (list a 3))"))
    assert.matches("bt.tick%-all: instances%[0%] is an instance of another tree",
      err("(bt.tick-all u (list a))"))
    assert.matches("bt.tick%-all: inputs has 2 entries, instances 1",
      err("(bt.tick-all t (list a) (list nil nil))"))
    assert.matches("bt.tick%-all: inputs%[0%] is not a tick input",
      err("(bt.tick-all t (list a) (list 5))"))
    assert.are.equal("(success)", host:eval("(write-to-string (bt.tick-all t (list a)))"))
  end)
end)
