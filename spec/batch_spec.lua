-- spec/batch_spec.lua -- what every way of ticking a batch (issue 18 item
-- 4) shares: tree:tick_all(insts), host.bt.tick_all(tree, insts),
-- g:tick() of tree:group(insts) and tree:tick_all(g) give what a loop over
-- inst:tick() gives, write inputs[k] before instance k's tick, run Lua
-- leaves in instance order, and keep a leaf error or a bad input table to
-- its own instance.  What only one API does is in tick_all_spec.lua and
-- group_spec.lua.
local lispbt = require("lispbt")
package.path = "./spec/?.lua;" .. package.path
local T = require("support.bt_helpers")

-- name, a pattern of the function name in its messages (host.bt.* is the
-- Lisp builtin's surface), tick(host, tree, insts[, inputs])
local WAYS = {
  { "tree:tick_all(insts)", "tick_all", function(_, tree, insts, inputs)
    return tree:tick_all(insts, inputs)
  end },
  { "host.bt.tick_all(tree, insts)", "bt%.tick%-all", function(host, tree, insts, inputs)
    return host.bt.tick_all(tree, insts, inputs)
  end },
  { "g:tick() of tree:group(insts)", "tick", function(_, tree, insts, inputs)
    return tree:group(insts):tick(inputs)
  end },
  { "tree:tick_all(g)", "tick_all", function(_, tree, insts, inputs)
    return tree:tick_all(tree:group(insts), inputs)
  end },
}

for _, way in ipairs(WAYS) do
  local name, fname, tick = way[1], way[2], way[3]

  describe(name, function()
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

    it("ticks like a loop over inst:tick(), over many chunks, an instance twice", function()
      local tree = host:compile(T.MIXED_SRC)
      local insts, want = T.mixed_batch(tree) -- insts[201] is insts[1]: ticked twice, in order
      for round = 1, 2 do
        assert.are.same(want, tick(host, tree, insts))
        assert.are.equal(2 * round, insts[1]:stats().tick_count)
        assert.are.equal(round, insts[200]:stats().tick_count)
      end
    end)

    it("writes inputs[k] before instance k's tick; false is no input", function()
      local tree, insts = make("(cond bb-has go)", 3)
      local st = tick(host, tree, insts, { { go = 1 }, false, { go = true } })
      assert.are.same({ "success", "failure", "success" }, st)
      assert.are.equal(1, insts[1]:get("go"))
      assert.is_nil(insts[2]:get("go"))
    end)

    it("runs Lua leaves in instance order", function()
      local seen = {}
      host:register_action("who", function(ctx)
        seen[#seen + 1] = ctx:get("id")
        return true
      end)
      local tree, insts = make("(act who)", 4)
      for i = 1, 4 do
        insts[i]:put("id", i)
      end
      assert.are.same({ "success", "success", "success", "success" }, tick(host, tree, insts))
      assert.are.same({ 1, 2, 3, 4 }, seen)
    end)

    it("a leaf error fails its own instance only", function()
      local n = 0
      host:register_action("raise-on-2", function()
        n = n + 1
        if n == 2 then
          error("leaf failed")
        end
        return true
      end)
      local tree, insts = make("(act raise-on-2)", 3)
      local st, errs = tick(host, tree, insts)
      assert.are.same({ "success", "failure", "success" }, st)
      assert.is_nil(errs)
      assert.are.equal(1, insts[2]:stats().errors)
    end)

    it("a bad input table fails its instance only", function()
      local tree, insts = make("(cond bb-has go)", 2)
      local st, errs = tick(host, tree, insts, { { [""] = 1 }, { go = 1 } })
      assert.are.equal(false, st[1])
      assert.are.equal("success", st[2])
      assert.matches("^" .. fname .. ": inputs%[1%]: blackboard key must not be empty$", errs[1])
      assert.are.equal(0, insts[1]:stats().tick_count)
    end)
  end)
end
