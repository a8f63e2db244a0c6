-- spec/bt_compile_spec.lua -- the BT DSL compiler (SPEC §5.1, §5.5):
-- every node kind, every compile error message, bt/defbt, shared
-- definitions, canonical to-dsl output, save-dsl/load-dsl.
package.path = "./spec/?.lua;" .. package.path
local T = require("support.bt_helpers")

describe("bt compile", function()
  local host
  before_each(function()
    host = T.host()
  end)
  after_each(function()
    host:close()
  end)

  local function dsl(src)
    return host:eval("(write-to-string (bt.to-dsl (bt.compile '" .. src .. ")))")
  end

  describe("every node kind compiles", function()
    local cases = {
      { "(seq (succeed) (fail))", 3 },
      { "(sel (succeed) (fail))", 3 },
      { "(mem-seq (succeed) (running))", 3 },
      { "(mem-sel (fail) (running))", 3 },
      { "(par 1 (succeed) (fail) (running))", 4 },
      { "(par 3 (succeed) (fail) (running))", 4 },
      { "(invert (fail))", 2 },
      { "(repeat 0 (succeed))", 2 },
      { "(repeat 5 (succeed))", 2 },
      { "(retry 0 (fail))", 2 },
      { "(retry 3 (fail))", 2 },
      { "(cond always-true)", 1 },
      { "(cond bb-has battery)", 1 },
      { "(act always-success)", 1 },
      { "(act bb-put-int k 3)", 1 },
      { "(act not-yet-registered 1 2.5 \"s\" sym)", 1 },
      { "(succeed)", 1 },
      { "(fail)", 1 },
      { "(running)", 1 },
      { "(plan-action :state_key \"state\" :action_key \"action\")", 1 },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        local tree = host:compile(c[1])
        assert.are.equal("lispbt.tree (" .. c[2] .. " nodes)", tostring(tree))
        assert.are.equal(c[1], dsl(c[1]))
      end)
    end

    it("a nested tree of every kind has the canonical DSL it was written in", function()
      local src = "(sel (seq (cond always-true) (act always-success)) (mem-seq (succeed) (running)) "
        .. "(mem-sel (fail) (succeed)) (par 2 (succeed) (fail) (running)) (invert (fail)) "
        .. "(repeat 2 (succeed)) (retry 1 (fail)) (succeed) (fail) (running))"
      local tree = host:compile(src)
      assert.are.equal("lispbt.tree (" .. T.countnodes(src) .. " nodes)", tostring(tree))
      assert.are.equal(src, dsl(src))
    end)

    it("a leaf name given as a string becomes a symbol in the canonical DSL", function()
      assert.are.equal('(seq (cond foo 1 2.5 "s" k) (act bar #t))',
        dsl('(seq (cond "foo" 1 2.5 "s" k) (act "bar" #t))'))
    end)

    it("host:compile and (bt.compile \"source\") take source text", function()
      assert.are.equal("lispbt.tree (2 nodes)", tostring(host:compile("  (invert (fail)) ; c\n")))
      assert.are.equal("lispbt.tree (3 nodes)",
        tostring(host:eval('(bt.compile "(seq (succeed) (fail))")')))
    end)
  end)

  describe("compile errors are exact", function()
    local cases = {
      { "(repeat -1 (succeed))", "bt.compile: repeat: COUNT must be an integer in [0, 1000000000], got -1" },
      { "(repeat 1.5 (succeed))", "bt.compile: repeat: COUNT must be an integer in [0, 1000000000], got 1.5" },
      { "(repeat x (succeed))", "bt.compile: repeat: COUNT must be an integer in [0, 1000000000], got x" },
      { "(retry -2 (fail))", "bt.compile: retry: COUNT must be an integer in [0, 1000000000], got -2" },
      { "(par 0 (succeed) (fail))", "bt.compile: par: threshold must be in 1..2, got 0" },
      { "(par 3 (succeed) (fail))", "bt.compile: par: threshold must be in 1..2, got 3" },
      { "(par -1 (succeed))", "bt.compile: par: threshold must be in 1..1, got -1" },
      { "(par x (succeed))", "bt.compile: par: threshold must be an integer, got x" },
      { "(par 1)", "bt.compile: par: expected (par N child ...), got (par 1)" },
      { "(invert)", "bt.compile: invert: expected (invert child), got (invert)" },
      { "(invert (succeed) (fail))",
        "bt.compile: invert: expected (invert child), got (invert (succeed) (fail))" },
      { "(repeat 2)", "bt.compile: repeat: expected (repeat n child), got (repeat 2)" },
      { "(repeat 2 (succeed) (fail))",
        "bt.compile: repeat: expected (repeat n child), got (repeat 2 (succeed) (fail))" },
      { "(retry 2)", "bt.compile: retry: expected (retry n child), got (retry 2)" },
      { "(retry)", "bt.compile: retry: expected (retry n child), got (retry)" },
      { "(foo (succeed))", "bt.compile: unknown node kind, got foo" },
      { "(\"seq\" (succeed))", 'bt.compile: unknown node kind, got "seq"' },
      { "seq", "bt.compile: expected a node form like (seq ...), (cond name) or (act name), got seq" },
      { "42", "bt.compile: expected a node form like (seq ...), (cond name) or (act name), got 42" },
      { "()", "bt.compile: expected a node form like (seq ...), (cond name) or (act name), got nil" },
      { "(seq (succeed) 7)",
        "bt.compile: expected a node form like (seq ...), (cond name) or (act name), got 7" },
      { "(cond 42)", "bt.compile: cond: leaf name must be a non-empty symbol, got 42" },
      { "(act (x))", "bt.compile: act: leaf name must be a non-empty symbol, got (x)" },
      { "(act)", "bt.compile: act: leaf name must be a non-empty symbol, got (act)" },
      { '(act "")', 'bt.compile: act: leaf name must be a non-empty symbol, got ""' },
      { "(seq)", "bt.compile: seq: expected at least one child, got nil" },
      { "(sel)", "bt.compile: sel: expected at least one child, got nil" },
      { "(mem-seq)", "bt.compile: mem-seq: expected at least one child, got nil" },
      { "(mem-sel)", "bt.compile: mem-sel: expected at least one child, got nil" },
      { "(succeed 1)", "bt.compile: succeed: expected (succeed), got (succeed 1)" },
      { "(fail x)", "bt.compile: fail: expected (fail), got (fail x)" },
      { "(running 1 2)", "bt.compile: running: expected (running), got (running 1 2)" },
      { "(plan-action :bogus 1)", "bt.compile: plan-action: unknown key :bogus" },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        assert.are.equal(c[2], T.err(host.compile, host, c[1]))
        -- the Lisp primitive raises the same message (with the eval position)
        assert.are.equal("eval:1:1: " .. c[2], T.err(host.eval, host, "(bt.compile '" .. c[1] .. ")"))
      end)
    end

    it("nesting deeper than 200 levels is refused; 200 levels compile", function()
      local ok = "(succeed)"
      for _ = 1, 199 do
        ok = "(invert " .. ok .. ")"
      end
      assert.are.equal("lispbt.tree (200 nodes)", tostring(host:compile(ok)))
      local deep = "(invert " .. ok .. ")"
      assert.are.equal("bt.compile: tree nested too deeply, got 200", T.err(host.compile, host, deep))
      local deeper = deep
      for _ = 1, 300 do
        deeper = "(seq " .. deeper .. ")"
      end
      assert.are.equal("bt.compile: tree nested too deeply, got 200", T.err(host.compile, host, deeper))
    end)

    it("source text must hold exactly one form", function()
      assert.are.equal("compile: expected exactly one DSL form, got 2",
        T.err(host.compile, host, "(succeed) (fail)"))
      assert.are.equal("compile: expected exactly one DSL form, got 0", T.err(host.compile, host, "  "))
      assert.are.equal("compile:1:1: unterminated list", T.err(host.compile, host, "(seq (succeed)"))
      assert.are.equal("eval:1:1: bt.compile: expected exactly one DSL form in the source text, got 2",
        T.err(host.eval, host, '(bt.compile "(succeed) (fail)")'))
      assert.are.equal("eval:1:1: bt.compile: expected exactly one DSL form in the source text, got 0",
        T.err(host.eval, host, '(bt.compile "")'))
    end)

    it("the host stays usable after compile errors", function()
      for _ = 1, 50 do
        pcall(host.compile, host, "(repeat -1 (succeed))")
        pcall(host.compile, host, "(seq")
      end
      assert.are.equal("success", host:compile("(succeed)"):instance():tick())
    end)
  end)

  describe("bt and defbt special forms", function()
    it("(bt FORM) compiles an unquoted form", function()
      assert.are.equal("lispbt.tree (3 nodes)", tostring(host:eval("(bt (seq (succeed) (fail)))")))
      assert.are.equal("failure", tostring(host:eval("(bt.tick (bt.new-instance (bt (seq (succeed) (fail)))))")))
    end)

    it("(defbt name FORM) defines a global tree", function()
      host:eval("(defbt patrol (sel (fail) (succeed)))")
      assert.are.equal("lispbt.tree (3 nodes)", tostring(host:get("patrol")))
      assert.are.equal("(sel (fail) (succeed))", host:eval("(write-to-string (bt.to-dsl patrol))"))
      assert.are.equal("success", tostring(host:eval("(bt.tick (bt.new-instance patrol))")))
      local inst = host:get("patrol"):instance()
      assert.are.equal("success", inst:tick())
    end)

    it("bt/defbt syntax errors and compile errors", function()
      assert.are.equal("eval:1:1: bt: expected (bt FORM)", T.err(host.eval, host, "(bt)"))
      assert.are.equal("eval:1:1: bt: expected (bt FORM)", T.err(host.eval, host, "(bt (succeed) (fail))"))
      assert.are.equal("eval:1:1: defbt: expected (defbt name FORM)", T.err(host.eval, host, "(defbt x)"))
      assert.are.equal("eval:1:1: defbt: name must be a symbol",
        T.err(host.eval, host, '(defbt "x" (succeed))'))
      assert.are.equal("eval:1:1: bt.compile: repeat: COUNT must be an integer in [0, 1000000000], got -1",
        T.err(host.eval, host, "(bt (repeat -1 (succeed)))"))
    end)
  end)

  describe("one definition, many instances", function()
    it("instances share the definition and keep separate state", function()
      local tree = host:compile("(mem-seq (act running-then-success 2) (act bb-put-int n 1))")
      local a, b = tree:instance(), tree:instance()
      assert.are.equal("running running", T.ticks(a, 2))
      assert.are.equal("running", b:tick())
      assert.are.equal("success", a:tick())
      assert.are.equal(1, a:get("n"))
      assert.is_nil(b:get("n"))
      assert.are.equal("running success", T.ticks(b, 2))
      assert.are.equal(3, a:stats().tick_count)
      assert.are.equal(3, b:stats().tick_count)
    end)

    it("100 instances of one tree from Lisp and Lua", function()
      host:eval("(defbt shared (seq (cond always-true) (act always-success)))")
      assert.are.equal(100, host:eval([[
        (begin
          (define (loop i n)
            (if (= i 100) n
                (loop (+ i 1) (if (eq? (bt.tick (bt.new-instance shared)) 'success) (+ n 1) n))))
          (loop 0 0))]]))
      local tree = host:get("shared")
      local insts = {}
      for k = 1, 100 do
        insts[k] = tree:instance()
      end
      for k = 1, 100 do
        assert.are.equal("success", insts[k]:tick())
      end
    end)
  end)

  describe("to-dsl", function()
    it("tree:to_dsl and host.bt.to_dsl return the canonical data as Lua lists", function()
      local tree = host:compile('(seq (cond "battery-ok") (repeat 2 (act bb-put-int k 1)))')
      local d = tree:to_dsl()
      assert.are.equal("seq", tostring(d[1]))
      assert.are.equal("cond", tostring(d[2][1]))
      assert.are.equal("battery-ok", tostring(d[2][2]))
      assert.are.equal("repeat", tostring(d[3][1]))
      assert.are.equal(2, d[3][2])
      assert.are.equal("act", tostring(d[3][3][1]))
      assert.are.equal(1, d[3][3][4])
      local d2 = host.bt.to_dsl(tree)
      assert.are.equal("bb-put-int", tostring(d2[3][3][2]))
    end)

    it("to-dsl of a compiled to-dsl is a fixed point", function()
      local src = "(sel (seq (cond bb-has \"k\") (act bb-put-float x 1.5)) (par 1 (retry 2 (fail)) (running)))"
      local once = host:eval("(write-to-string (bt.to-dsl (bt.compile '" .. src .. ")))")
      local twice = host:eval("(write-to-string (bt.to-dsl (bt.compile (bt.to-dsl (bt.compile '" .. src .. ")))))")
      assert.are.equal(once, twice)
      assert.are.equal(src, once)
    end)
  end)

  describe("save-dsl / load-dsl", function()
    local tmp
    before_each(function()
      tmp = os.tmpname()
    end)
    after_each(function()
      os.remove(tmp)
    end)

    it("round-trips through a file", function()
      local src = "(sel (seq (cond always-true) (act bb-put-int k 7)) (mem-sel (fail) (succeed)) (par 1 (running) (succeed)))"
      host:set("path", tmp)
      host:eval("(defbt orig " .. src .. ")")
      assert.is_true(host:eval("(bt.save-dsl orig path)"))
      local f = assert(io.open(tmp, "r"))
      local text = f:read("a")
      f:close()
      assert.are.equal(src .. "\n", text)
      assert.are.equal(src, host:eval("(write-to-string (bt.to-dsl (bt.load-dsl path)))"))
      local loaded = host.bt.load_dsl(tmp)
      assert.are.equal("lispbt.tree (" .. T.countnodes(src) .. " nodes)", tostring(loaded))
      local inst = loaded:instance()
      assert.are.equal("success", inst:tick())
      assert.are.equal(7, inst:get("k"))
    end)

    it("save-dsl into an unwritable path errors", function()
      local tree = host:compile("(succeed)")
      assert.are.equal("bt.save-dsl: cannot open '/nonexistent-dir/x.dsl': No such file or directory",
        T.err(host.bt.save_dsl, tree, "/nonexistent-dir/x.dsl"))
      assert.are.equal("bt.save-dsl: expected a bt_def, got 1", T.err(host.bt.save_dsl, 1, tmp))
    end)

    local function write(text)
      local f = assert(io.open(tmp, "w"))
      f:write(text)
      f:close()
    end

    it("load-dsl errors: missing file, two forms, no form, bad DSL, unreadable text", function()
      os.remove(tmp)
      assert.are.equal("bt.load-dsl: cannot open '" .. tmp .. "': No such file or directory",
        T.err(host.bt.load_dsl, tmp))
      write("(succeed) (fail)")
      assert.are.equal("bt.load-dsl: '" .. tmp .. "' must hold exactly one DSL form, got 2",
        T.err(host.bt.load_dsl, tmp))
      write("; only a comment\n")
      assert.are.equal("bt.load-dsl: '" .. tmp .. "' must hold exactly one DSL form, got 0",
        T.err(host.bt.load_dsl, tmp))
      write("(bogus (succeed))")
      assert.are.equal("bt.compile: unknown node kind, got bogus", T.err(host.bt.load_dsl, tmp))
      write("(repeat -1 (succeed))")
      assert.are.equal("bt.compile: repeat: COUNT must be an integer in [0, 1000000000], got -1",
        T.err(host.bt.load_dsl, tmp))
      write("(seq (succeed)")
      assert.are.equal(tmp .. ":1:1: unterminated list", T.err(host.bt.load_dsl, tmp))
      assert.are.equal("bt.load-dsl: expected a string, got 5", T.err(host.bt.load_dsl, 5))
      -- the host is still fine
      write("(invert (fail))")
      assert.are.equal("success", host.bt.load_dsl(tmp):instance():tick())
    end)
  end)
end)
