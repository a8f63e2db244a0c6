-- spec/compat/bt_builtins_spec.lua -- the bt.* builtins as muesli-bt
-- documents them (docs/language/reference/builtins/bt/*.md, docs/bt/
-- syntax.md "BT Save/Load APIs"): each page's minimal and realistic
-- examples with their exact written results, plus the file checks of
-- bt.save / bt.load (truncated, corrupt, foreign files are refused).
local H = require("compat.helpers")

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function spit(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

describe("compat: bt builtins", function()
  local h, path
  before_each(function()
    h = H.host()
    path = os.tmpname()
    h:set("path", path)
  end)
  after_each(function()
    os.remove(path)
    h:close()
  end)

  it("bt.compile, bt / defbt: a bt_def; unknown forms raise", function()
    assert.are.equal("(succeed)", H.show(h, "(bt.to-dsl (bt.compile '(succeed)))"))
    assert.are.equal("(seq (cond battery-ok) (act approach-target))",
      H.show(h, "(bt.to-dsl (bt.compile '(seq (cond battery-ok) (act approach-target))))"))
    assert.are.equal("(sel (seq (cond target-visible) (act approach-target) (act grasp)) (act search-target))",
      H.show(h, [[(defbt patrol (sel (seq (cond target-visible) (act approach-target) (act grasp))
                                     (act search-target)))
                  (bt.to-dsl patrol)]]))
    assert.matches("^bt.compile: unknown node kind", H.err(h, "(bt.compile '(unknown foo))"))
    assert.matches("^bt.compile: invert", H.err(h, "(bt.compile '(invert (succeed) (fail)))"))
    assert.matches("^bt.compile: repeat", H.err(h, "(bt.compile '(repeat -1 (succeed)))"))
  end)

  it("bt.new-instance, bt.tick: status symbols; input pairs go to the blackboard", function()
    assert.are.equal("success", H.show(h, "(define d (bt (succeed))) (define i (bt.new-instance d)) (bt.tick i)"))
    assert.are.equal("success", H.show(h,
      "(define d (bt (cond bb-has foo))) (define i (bt.new-instance d)) (bt.tick i '((foo 1)))"))
    assert.are.equal("failure", H.show(h, "(define i (bt.new-instance (bt (cond bb-has foo)))) (bt.tick i)"))
  end)

  it("tick input is stamped with the tick it is for, writer bt.tick", function()
    local dump = H.show(h, [[(define i (bt.new-instance (bt (succeed))))
      (bt.tick i) (bt.tick i '((foo 1))) (bt.blackboard.dump i)]])
    -- the reference stamps a write from outside the tree writer_node=0
    assert.matches('^"foo=1 type=int64 tick=2 ts_ns=%d+ writer_node=0 writer_name=bt%.tick\\n"$', dump)
  end)

  it("tick input values: symbols as strings, numeric lists as lists of floats", function()
    assert.are.equal('((1.0 2.5 3.0) "search" "s" 2 #t nil)', H.show(h, [[
      (define i (bt.new-instance (bt (succeed))))
      (bt.tick i '((pose (1 2.5 3)) (mode search) (label "s") (n 2) (ok #t) (none nil)))
      (map (lambda (k) (bt.blackboard.get i k)) '(pose mode label n ok none))]]))
  end)

  it("bt.reset: nil; clears node memory and the blackboard", function()
    assert.are.equal("nil", H.show(h, "(define i (bt.new-instance (bt (succeed)))) (bt.reset i)"))
    assert.are.equal("(running nil running)", H.show(h, [[
      (define i (bt.new-instance (bt (seq (act bb-put-int k 1) (act running-then-success 1)))))
      (define a (bt.tick i))
      (bt.reset i)
      (list a (bt.blackboard.get i 'k) (bt.tick i))]]))
  end)

  it("bt.status->symbol: the status symbols back; others raise", function()
    assert.are.equal("success", H.show(h, "(bt.status->symbol 'success)"))
    assert.are.equal("running", H.show(h, "(define s 'running) (bt.status->symbol s)"))
    assert.are.equal("failure", H.show(h, "(bt.status->symbol 'failure)"))
    assert.matches("^bt.status%->symbol: expected a status", H.err(h, "(bt.status->symbol 'idle)"))
  end)

  it("bt.to-dsl: canonical DSL data", function()
    assert.are.equal("(succeed)", H.show(h, "(define d (bt (succeed))) (bt.to-dsl d)"))
    assert.are.equal('"(seq (cond always-true) (act always-success))"', H.show(h,
      "(define d (bt (seq (cond always-true) (act always-success)))) (write-to-string (bt.to-dsl d))"))
  end)

  it("bt.save-dsl / bt.load-dsl: #t, then the same tree", function()
    assert.are.equal("#t", H.show(h, "(define d (bt (succeed))) (bt.save-dsl d path)"))
    assert.are.equal("(succeed)\n", slurp(path))
    assert.are.equal("(seq (cond always-true) (act always-success))", H.show(h, [[
      (bt.save-dsl (bt (seq (cond always-true) (act always-success))) path)
      (bt.to-dsl (bt.load-dsl path))]]))
  end)

  it("bt.save / bt.load: #t, then a definition that ticks the same", function()
    assert.are.equal("#t", H.show(h, "(define d (bt (succeed))) (bt.save d path)"))
    assert.are.equal("(#t (act always-success) success)", H.show(h, [[
      (define d (bt (act always-success)))
      (list (bt.save d path) (bt.to-dsl (bt.load path)) (bt.tick (bt.new-instance (bt.load path))))]]))
    local file = slurp(path)
    assert.are.equal("LBT1", file:sub(1, 4))
    assert.are.equal("\1\0\0\0\4\3\2\1\0\0\0\0", file:sub(5, 16))
    assert.are.equal("(act always-success)\n", file:sub(33))
    assert.are.equal(string.pack("<I8", #file - 32), file:sub(17, 24))
  end)

  it("bt.load refuses truncated, corrupt and foreign files", function()
    H.show(h, "(bt.save (bt (seq (cond always-true) (act always-success))) path)")
    local good = slurp(path)
    local function load_err(bytes)
      spit(path, bytes)
      return (H.err(h, "(bt.load path)"):gsub(path:gsub("%p", "%%%0"), "PATH"))
    end
    assert.are.equal("bt.load: 'PATH' is truncated (the header promises 46 payload bytes, the file has 20)",
      load_err(good:sub(1, 52)))
    assert.are.equal("bt.load: 'PATH' is truncated (20 bytes, the header alone has 32)", load_err(good:sub(1, 20)))
    assert.are.equal("bt.load: 'PATH' is corrupt (the header promises 46 payload bytes, the file has 47)",
      load_err(good .. "x"))
    assert.are.equal("bt.load: 'PATH' is corrupt (payload checksum mismatch)",
      load_err(good:sub(1, 40) .. "X" .. good:sub(42)))
    assert.are.equal("bt.load: 'PATH' has unsupported format version 2 (this lispbt reads 1)",
      load_err(good:sub(1, 4) .. "\2" .. good:sub(6)))
    assert.are.equal("bt.load: 'PATH' is corrupt (bad byte-order mark or flags)",
      load_err(good:sub(1, 8) .. "\1\2\3\4" .. good:sub(13)))
    assert.are.equal("bt.load: 'PATH' is not a lispbt tree file (no \"LBT1\" header)", load_err("(succeed)\n"))
    assert.are.equal("bt.load: 'PATH' is a muesli-bt compiled tree (MBT1), which lispbt cannot read; " ..
                     "save the tree with bt.save-dsl and load it with bt.load-dsl", load_err("MBT1\1\0\0\0"))
    assert.are.equal("bt.load: cannot open '/nonexistent/tree.mbt': No such file or directory",
      H.err(h, '(bt.load "/nonexistent/tree.mbt")'))
    assert.are.equal("bt.save: expected a bt_def, got 5", H.err(h, "(bt.save 5 path)"))
    -- the host is still usable
    assert.are.equal("success", H.show(h, "(bt.tick (bt.new-instance (bt (succeed))))"))
  end)

  it("bt.load of damaged files: a tree or a clean error, never a crash", function()
    H.show(h, "(bt.save (bt (sel (seq (cond bb-has k) (act bb-put-int x 3)) (retry 2 (act always-fail)))) path)")
    local good = slurp(path)
    local seedv = 12345
    local function rnd(n) -- a fixed sequence: the same cases every run
      seedv = (seedv * 1103515245 + 12345) % 2147483648
      return seedv % n
    end
    local loaded, refused = 0, 0
    for k = 1, 600 do
      local bytes
      if k % 3 == 0 then
        bytes = good:sub(1, rnd(#good))
      else
        local at = rnd(#good) + 1
        bytes = good:sub(1, at - 1) .. string.char(rnd(256)) .. good:sub(at + 1)
      end
      spit(path, bytes)
      local ok, e = pcall(h.eval, h, "(bt.to-dsl (bt.load path))")
      if ok then
        loaded = loaded + 1
      else
        refused = refused + 1
        assert.matches("bt%.load: ", tostring(e))
      end
    end
    assert.is_true(refused > 500, "most damaged files are refused")
    assert.are.equal(600, loaded + refused)
    assert.are.equal("success", H.show(h, "(bt.tick (bt.new-instance (bt (succeed))))"))
  end)

  it("bt.blackboard.dump: key, value, type and writer", function()
    assert.are.equal('""', H.show(h, "(define i (bt.new-instance (bt (cond bb-has foo)))) (bt.blackboard.dump i)"))
    assert.matches('^"foo=42 type=int64 tick=1 ts_ns=%d+ writer_node=0 writer_name=bb%-put%-int\\n"$', H.show(h,
      "(define i (bt.new-instance (bt (act bb-put-int foo 42)))) (bt.tick i) (bt.blackboard.dump i)"))
  end)

  it("bt.blackboard.dump: the reference's value types and value forms", function()
    -- int64, float64 (6 significant digits), raw strings (a symbol stores its
    -- name), float64[] as [a,b], bool #t/#f, nil
    local dump = h:eval([[(define i (bt.new-instance (bt (succeed))))
      (bt.tick i '((a 7) (b 3.14159265) (c 0.1) (d "two words") (e search) (f (1 2.5 -3))
                   (g #t) (k #f) (l ()) (m 1e20) (n 100000000.0)))
      (bt.blackboard.dump i)]])
    local want = {
      "a=7 type=int64", "b=3.14159 type=float64", "c=0.1 type=float64", "d=two words type=string",
      "e=search type=string", "f=[1,2.5,-3] type=float64[]", "g=#t type=bool", "k=#f type=bool",
      "l=nil type=nil", "m=1e+20 type=float64", "n=1e+08 type=float64",
    }
    local lines = {}
    for line in dump:gmatch("[^\n]+") do
      lines[#lines + 1] = line:match("^(.- type=%S+) tick=1 ts_ns=%d+ writer_node=0 writer_name=bt%.tick$")
    end
    assert.are.same(want, lines)
    -- a leaf's write names the writer by the reference's node id (post-order)
    assert.matches("^x=1 type=int64 tick=1 ts_ns=%d+ writer_node=1 writer_name=bb%-put%-int\n$", h:eval([[
      (define i (bt.new-instance (bt (seq (succeed) (act bb-put-int x 1)))))
      (bt.tick i) (bt.blackboard.dump i)]]))
    -- print style lispbt: our printed forms and type names, our node ids
    h:eval("(print-style 'lispbt)")
    assert.matches('^f=%(1%.0 2%.5 %-3%.0%) type=list tick=1 ts_ns=%d+ writer_node=%-1 writer_name=bt%.tick\n$', h:eval([[
      (define i (bt.new-instance (bt (succeed)))) (bt.tick i '((f (1 2.5 -3)))) (bt.blackboard.dump i)]]))
    h:eval("(print-style 'muesli)")
  end)

  it("bt.blackboard.get: the value, the default or nil", function()
    assert.are.equal("(1 -1 nil)", H.show(h, [[
      (define i (bt.new-instance (bt (act bb-put-int command 1))))
      (bt.tick i)
      (list (bt.blackboard.get i 'command -1) (bt.blackboard.get i 'other -1) (bt.blackboard.get i "other"))]]))
    assert.matches("^bt.blackboard.get: expected a bt_instance", H.err(h, "(bt.blackboard.get 1 'k)"))
  end)

  it("bt.stats: tick and node counters text; bt.set-tick-budget-ms: nil", function()
    local s = H.show(h, "(define i (bt.new-instance (bt (succeed)))) (bt.stats i)")
    assert.matches('^"tick_count=0\\ntick_overrun_count=0\\ntick_last_ns=0\\ntick_max_ns=0\\ntick_total_ns=0\\n', s)
    s = H.show(h, "(defbt t (act running-then-success 1)) (define i (bt.new-instance t)) (bt.tick i) (bt.stats i)")
    assert.matches("\\nnode 0 %(running%-then%-success%) success=0 failure=0 running=1 last_ns=%d+ max_ns=%d+ ", s)
    assert.are.equal("nil", H.show(h, "(define i (bt.new-instance (bt (succeed)))) (bt.set-tick-budget-ms i 20)"))
  end)

  it("bt.stats node lines: the reference's ids (post-order) and names (leaf name or node-ID)", function()
    local s = h:eval([[(define i (bt.new-instance
        (bt (sel (fail) (seq (cond always-true) (act always-success)) (act never)))))
      (bt.tick i) (bt.stats i)]])
    local got = {}
    for id, name, rest in s:gmatch("\nnode (%d+) %(([^)]*)%) (success=%d+ failure=%d+ running=%d+) last_ns=%d+ max_ns=%d+ ") do
      got[#got + 1] = id .. " " .. name .. " " .. rest
    end
    -- (act never) is not ticked, so it has no line, as in the reference
    assert.are.same({ "0 node-0 success=0 failure=1 running=0", "1 always-true success=1 failure=0 running=0",
                      "2 always-success success=1 failure=0 running=0", "3 node-3 success=1 failure=0 running=0",
                      "5 node-5 success=1 failure=0 running=0" }, got)
    -- our preorder id follows the reference's fields
    assert.truthy(s:find("\nnode 3 %(node%-3%) success=1 failure=0 running=0 last_ns=%d+ max_ns=%d+ lispbt_id=2 total_ns="))
    -- print style lispbt: our text, preorder ids and kind names
    h:eval("(print-style 'lispbt)")
    s = h:eval("(bt.stats i)")
    h:eval("(print-style 'muesli)")
    assert.truthy(s:find("\nnode 2 %(seq%) success=1 failure=0 running=0 last_ns="))
    assert.truthy(s:find("\nnode 3 %(cond always%-true%) success=1 "))
  end)

  it("bt.scheduler.stats: the reference's counter lines", function()
    assert.matches('^"submitted=0\\nstarted=0\\ncompleted=0\\nfailed=0\\ncancelled=0\\n' ..
                   'queue_delay_last_ns=0\\nrun_time_last_ns=0\\n', H.show(h, "(bt.scheduler.stats)"))
  end)

  it("bt.install-demo-callbacks: the demo leaves of syntax.md's trees", function()
    assert.are.equal("(battery-ok target-visible bb-truthy approach-target grasp search-target " ..
                     "select-action ptz-target-centred apply-planned-ptz)",
      H.show(h, "(bt.install-demo-callbacks)"))
    assert.are.equal("(running success running)", H.show(h, [[
      (define i (bt.new-instance (bt (seq (cond battery-ok) (act approach-target)))))
      (list (bt.tick i) (bt.tick i) (bt.tick i))]]))
    assert.are.equal("(failure success success failure failure success)", H.show(h, [[
      (define i (bt.new-instance (bt (cond bb-truthy k))))
      (map (lambda (v) (bt.tick i (list (list 'k v)))) (list 0 1 "yes" "false" 0.0 (list 1.0)))]]))
    assert.are.equal("(failure success (0.5 0.25) 2)", H.show(h, [[
      (define i (bt.new-instance (bt (act select-action src 2))))
      (list (bt.tick i '((src (1.0)))) (bt.tick i '((src (0.5 0.25))))
            (bt.blackboard.get i 'action_vec) (bt.blackboard.get i 'active_branch))]]))
    -- the pan-tilt step: 0.1 - 0.1 * 1.15 = -0.015 (to within rounding)
    assert.are.equal("(failure success 6 0.1 -0.1 #t #t 0.0 failure)", H.show(h, [[
      (define i (bt.new-instance (bt (seq (act apply-planned-ptz) (cond ptz-target-centred ptz-state 0.03)))))
      (define a (bt.tick i))
      (define b (bt.tick i '((ptz-state (0.0 0.0 0.1 -0.1 0.0 0.0)) (ptz-action (0.1 -0.1)))))
      (define s (bt.blackboard.get i 'ptz-state))
      (define (near x y) (< (abs (- x y)) 1e-12))
      (define (nth l k) (if (= k 0) (car l) (nth (cdr l) (- k 1))))
      (list a b (length s) (nth s 0) (nth s 1) (near (nth s 2) -0.015) (near (nth s 3) 0.015)
            (nth s 4) (bt.tick i '((ptz-state (0 0 0.1 0.1)))))]]))
    assert.are.equal("(failure success)", H.show(h, [[
      (define i (bt.new-instance (bt (cond target-visible))))
      (list (bt.tick i '((target-visible 0))) (bt.tick i '((target-visible 1))))]]))
  end)
end)
