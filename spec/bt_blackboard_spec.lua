-- spec/bt_blackboard_spec.lua -- the per-instance blackboard (SPEC §5.3):
-- tick input, inst:get/put/blackboard, ctx:get/put with writer metadata,
-- bt.bb-get/bt.bb-put from Lisp, alist/map input, symbol/string keys, value
-- types, and the exact bt.blackboard.dump line format.
package.path = "./spec/?.lua;" .. package.path
local T = require("support.bt_helpers")
local lispbt = require("lispbt")

-- KEY=VALUE type=TYPE tick=N ts_ns=N writer_node=N [writer_name=NAME]
local function parsedump(text)
  local out = {}
  for _, l in ipairs(T.lines(text)) do
    local key, value, ty, tick, ts, node, rest =
      l:match("^([^=]+)=(.-) type=(%S+) tick=(%d+) ts_ns=(%d+) writer_node=(%-?%d+)(.*)$")
    assert(key, "bad blackboard dump line: " .. l)
    local name
    if rest ~= "" then
      name = rest:match("^ writer_name=(%S+)$")
      assert(name, "bad writer_name in: " .. l)
    end
    out[key] = { value = value, type = ty, tick = tonumber(tick), ts_ns = tonumber(ts),
      node = tonumber(node), writer = name }
  end
  return out
end

describe("bt blackboard", function()
  local host
  before_each(function()
    host = T.host({ print_style = "lispbt" }) -- our dump format (the reference's: spec/compat/bt_spec.lua)
  end)
  after_each(function()
    host:close()
  end)

  it("tick input tables seed keys before the tick; the leaves see them", function()
    local seen
    host:register_condition("battery-ok", function(ctx)
      seen = ctx:get("battery")
      return ctx:get("battery") > 0.2
    end)
    local i = host:compile("(cond battery-ok)"):instance()
    assert.are.equal("success", i:tick({ battery = 0.9 }))
    assert.are.equal(0.9, seen)
    assert.are.equal("failure", i:tick({ battery = 0.1 }))
    assert.are.equal(0.1, i:get("battery"))
    -- no input: the value stays
    assert.are.equal("failure", i:tick())
    assert.are.equal(0.1, seen)
  end)

  it("a tick without input writes nothing", function()
    local i = host:compile("(cond bb-has k)"):instance()
    assert.are.equal("failure", i:tick())
    assert.are.equal("failure", i:tick(nil))
    assert.are.equal("failure", i:tick({}))
    assert.are.same({}, i:blackboard())
    assert.are.equal("", host.bt.blackboard.dump(i))
    assert.are.equal("success", i:tick({ k = 1 }, "extra"))
    assert.are.same({ k = 1 }, i:blackboard())
  end)

  it("inst:get / inst:put / inst:blackboard", function()
    local i = host:compile("(succeed)"):instance()
    assert.is_nil(i:get("never"))
    i:put("a", 1)
    i:put("b", "two")
    i:put(lispbt.symbol("c"), 3.5)
    assert.are.equal(1, i:get("a"))
    assert.are.equal("two", i:get("b"))
    assert.are.equal(3.5, i:get("c"))
    assert.are.equal(3.5, i:get(lispbt.symbol("c")))
    assert.are.same({ a = 1, b = "two", c = 3.5 }, i:blackboard())
    i:put("a", 10)
    assert.are.equal(10, i:get("a"))
  end)

  it("ctx:put records the writer node and name; ctx:get reads", function()
    host:register_action("writer", function(ctx)
      ctx:put("out", (ctx:get("in") or 0) * 2)
      return true
    end)
    local i = host:compile("(seq (succeed) (act writer))"):instance()
    i:tick({ ["in"] = 21 })
    assert.are.equal(42, i:get("out"))
    local d = parsedump(host.bt.blackboard.dump(i))
    assert.are.same({ value = "42", type = "int", tick = 1, ts_ns = d.out.ts_ns, node = 2, writer = "writer" },
      d.out)
    assert.are.equal(-1, d["in"].node)
    assert.are.equal("bt.tick", d["in"].writer)
    -- input is written before the tick starts, stamped with that tick's index (muesli-bt)
    assert.are.equal(1, d["in"].tick)
    assert.is_true(d["in"].ts_ns > 0 and d["in"].ts_ns <= d.out.ts_ns)
  end)

  it("writer names: built-in leaf, Lua put, Lisp bb-put, input", function()
    local i = host:compile("(act bb-put-int n 5)"):instance()
    i:tick()
    i:put("lua-key", true)
    host.bt.bb_put(i, "lisp-key", 1)
    i:tick({ inp = 2 })
    local d = parsedump(host.bt.blackboard.dump(i))
    assert.are.equal("bb-put-int", d.n.writer)
    assert.are.equal(0, d.n.node)
    assert.are.equal(2, d.n.tick)
    assert.are.equal("lua", d["lua-key"].writer)
    assert.are.equal("lisp", d["lisp-key"].writer)
    assert.are.equal("bt.tick", d.inp.writer)
    assert.are.equal(2, d.inp.tick)
    for _, k in ipairs({ "lua-key", "lisp-key", "inp" }) do
      assert.are.equal(-1, d[k].node)
    end
  end)

  it("(bt.bb-get inst 'k) and (bt.bb-put inst 'k v) from Lisp", function()
    host:eval("(define i (bt.new-instance (bt (act bb-put-int k 7))))")
    assert.is_nil(host:eval("(bt.bb-get i 'k)"))
    host:eval("(bt.tick i)")
    assert.are.equal(7, host:eval("(bt.bb-get i 'k)"))
    assert.are.equal(7, host:eval('(bt.bb-get i "k")'))
    assert.is_nil(host:eval("(bt.bb-put i 'name \"bob\")"))
    assert.are.equal("bob", host:eval("(bt.bb-get i 'name)"))
    local i = host:get("i")
    assert.are.equal("bob", i:get("name"))
    assert.are.equal(7, host.bt.bb_get(i, "k"))
    assert.are.equal("eval:1:1: bt.bb-get: expected a bt_instance, got 1", T.err(host.eval, host, "(bt.bb-get 1 'k)"))
  end)

  it("Lisp alist and map input to bt.tick", function()
    host:eval("(define i (bt.new-instance (bt (cond bb-has battery))))")
    assert.are.equal("failure", tostring(host:eval("(bt.tick i)")))
    assert.are.equal("success", tostring(host:eval("(bt.tick i '((battery 0.9)))")))
    assert.are.equal(0.9, host:eval("(bt.bb-get i 'battery)"))
    host:eval("(bt.tick i '((battery . 0.5) (\"mode\" fast)))")
    assert.are.equal(0.5, host:eval("(bt.bb-get i 'battery)"))
    assert.are.equal("fast", tostring(host:eval("(bt.bb-get i 'mode)")))
    host:eval("(define m (map.make)) (map.set! m 'speed 3) (bt.tick i m)")
    assert.are.equal(3, host:eval("(bt.bb-get i 'speed)"))
    assert.are.equal("eval:1:1: bt.tick: expected an alist ((key value) ...) or a map, got 5",
      T.err(host.eval, host, "(bt.tick i 5)"))
    assert.are.equal("eval:1:1: bt.tick: input keys must be non-empty symbols or strings without NUL bytes, got ((1 2))",
      T.err(host.eval, host, "(bt.tick i '((1 2)))"))
  end)

  it("symbols and strings name the same key", function()
    local i = host:compile("(cond bb-has k)"):instance()
    i:put(lispbt.symbol("k"), 1)
    assert.are.equal(1, i:get("k"))
    i:put("k", 2)
    assert.are.equal(2, i:get(lispbt.symbol("k")))
    assert.are.equal(2, host.bt.bb_get(i, lispbt.symbol("k")))
    assert.are.equal("success", i:tick())
    host.bt.bb_put(i, "k", 3)
    assert.are.equal(3, i:get("k"))
    -- a single key line in the dump
    local n = 0
    for _ in host.bt.blackboard.dump(i):gmatch("\n") do
      n = n + 1
    end
    assert.are.equal(1, n)
  end)

  it("value types round-trip and the dump names them", function()
    local i = host:compile("(succeed)"):instance()
    i:put("vnil", nil)
    i:put("vbool", false)
    i:put("vint", 42)
    i:put("vfloat", 0.25)
    i:put("vstr", "hi there")
    i:put("vlist", { 1, "x" })
    i:put("vmap", { a = 1 })
    -- vecs stay vecs only on the Lisp side (Lua converts them to sequences)
    host:set("i", i)
    host:eval("(define fv (vec.make 0)) (vec.push! fv 1.5) (vec.push! fv 2.5) (bt.bb-put i 'vfvec fv)")
    host:eval("(define mv (vec.make 0)) (vec.push! mv 'a) (bt.bb-put i 'vvec mv)")
    assert.is_nil(i:get("vnil"))
    assert.are.equal(false, i:get("vbool"))
    assert.are.equal(42, i:get("vint"))
    assert.is_true(math.type(i:get("vint")) == "integer")
    assert.are.equal(0.25, i:get("vfloat"))
    assert.are.equal("hi there", i:get("vstr"))
    assert.are.same({ 1, "x" }, i:get("vlist"))
    assert.are.same({ a = 1 }, i:get("vmap"))
    assert.are.same({ 1.5, 2.5 }, i:get("vfvec"))
    local d = parsedump(host.bt.blackboard.dump(i))
    local want = {
      vnil = { "nil", "nil" }, vbool = { "#f", "bool" }, vint = { "42", "int" },
      vfloat = { "0.25", "float" }, vstr = { '"hi there"', "string" }, vlist = { '(1 "x")', "list" },
      vfvec = { "#(1.5 2.5)", "floatvec" }, vvec = { "#(a)", "vec" },
    }
    for k, w in pairs(want) do
      assert.are.equal(w[1], d[k].value, k)
      assert.are.equal(w[2], d[k].type, k)
      assert.are.equal("lua", d[k].writer == "lisp" and "lua" or d[k].writer)
    end
    assert.are.equal("map", d.vmap.type)
  end)

  it("every dump line has the exact format and ts_ns increases with writes", function()
    local i = host:compile("(seq (act bb-put-int a 1) (act bb-put-float b 2.5))"):instance()
    i:tick({ c = "s" })
    local text = host.bt.blackboard.dump(i)
    local lines = T.lines(text)
    assert.are.equal(3, #lines)
    for _, l in ipairs(lines) do
      assert.is_truthy(l:match("^[%w%-]+=%S+ type=%a+ tick=%d+ ts_ns=%d+ writer_node=%-?%d+ writer_name=%S+$"), l)
    end
    local d = parsedump(text)
    assert.is_true(d.c.ts_ns <= d.a.ts_ns and d.a.ts_ns <= d.b.ts_ns)
    assert.are.equal("2.5", d.b.value)
    assert.are.equal(2, d.b.node)
    assert.are.equal(1, d.a.node)
    assert.are.equal("bb-put-float", d.b.writer)
  end)

  it("bad keys and values are errors naming the function", function()
    local i = host:compile("(succeed)"):instance()
    -- arguments are numbered after self, however the method is called
    assert.are.equal("put: bad argument #1 (string or symbol expected, got number)", T.err(i.put, i, 5, 1))
    assert.are.equal("put: bad argument #1 (string or symbol expected, got table)", T.err(i.put, i, {}, 1))
    assert.is_truthy(T.err(function() return i:put("", 1) end)
      :find("put: bad argument #1 (blackboard key must not be empty)", 1, true))
    assert.are.equal("tick: bad argument #1 (blackboard key must not be empty)", T.err(function() return i:tick({ [""] = 1 }) end))
    assert.are.equal('bt.bb-put: expected a non-empty key, got ""', T.err(host.bt.bb_put, i, "", 1))
    assert.are.equal("bt.bb-put: expected a symbol or string, got 3", T.err(host.bt.bb_put, i, 3, 1))
    assert.are.equal('bt.bb-get: expected a non-empty key, got ""', T.err(host.bt.bb_get, i, ""))
    assert.are.equal("get: bad argument #1 (blackboard key must not be empty)", T.err(i.get, i, ""))
    local cyc = {}
    cyc.self = cyc
    assert.are.equal("put: table is cyclic or nested deeper than 100 levels",
      T.err(function() return i:put("k", cyc) end))
    assert.are.equal("tick: bad argument #1 (blackboard keys must be strings or symbols, got a number key)",
      T.err(function() return i:tick({ [1.5] = 1 }) end))
    assert.is_truthy(T.err(function() return i:tick(5) end)
      :find("tick: bad argument #1 (table expected, got number)", 1, true))
    -- the instance still works and the failed writes left nothing behind
    assert.are.equal("success", i:tick())
    assert.is_nil(i:get("k"))
  end)

  it("keys named after the instance was created grow its blackboard", function()
    local i = host:compile("(succeed)"):instance()
    for k = 1, 300 do
      i:put("late-key-" .. k, k)
    end
    for k = 1, 300 do
      assert.are.equal(k, i:get("late-key-" .. k))
    end
    assert.are.equal("success", i:tick())
  end)
end)
