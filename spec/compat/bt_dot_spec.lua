-- spec/compat/bt_dot_spec.lua -- bt.export-dot as muesli-bt documents it
-- (docs/language/reference/builtins/bt/bt-export-dot.md) and writes it: a
-- Graphviz digraph, one box per node labelled "id=N\nNAME\n[KIND]",
-- nodes numbered children first (the reference's compiler emits a node
-- after its children), the root (last id) bold, edges parent -> child in
-- child order; #t back; file and argument errors.
local H = require("compat.helpers")

local HEAD = 'digraph bt {\n  rankdir=TB;\n  node [shape=box, fontname="Helvetica"];\n' ..
             '  edge [fontname="Helvetica"];\n'

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

describe("compat: bt.export-dot", function()
  local h, path
  before_each(function()
    h = H.host()
    path = os.tmpname()
  end)
  after_each(function()
    os.remove(path)
    h:close()
  end)

  local function export(tree)
    h:set("path", path)
    assert.are.equal("#t", H.show(h, "(bt.export-dot (bt " .. tree .. ") path)"))
    return slurp(path)
  end

  it("writes the reference's minimal example", function()
    h:set("path", path)
    assert.are.equal("#t", H.show(h, [[
      (define d (bt (seq (cond always-true) (act always-success))))
      (bt.export-dot d path)]]))
    assert.are.equal(HEAD ..
      '  n0 [label="id=0\\nalways-true\\n[cond]"];\n' ..
      '  n1 [label="id=1\\nalways-success\\n[act]"];\n' ..
      '  n2 [label="id=2\\n[seq]", style="bold"];\n' ..
      '  n2 -> n0;\n' ..
      '  n2 -> n1;\n' ..
      '}\n', slurp(path))
  end)

  it("numbers nested nodes children first and shows repeat/retry counts", function()
    assert.are.equal(HEAD ..
      '  n0 [label="id=0\\nbattery-ok\\n[cond]"];\n' ..
      '  n1 [label="id=1\\nbb-put-int\\n[act]"];\n' ..
      '  n2 [label="id=2\\n[seq]"];\n' ..
      '  n3 [label="id=3\\nalways-fail\\n[act]"];\n' ..
      '  n4 [label="id=4\\n[retry 3]"];\n' ..
      '  n5 [label="id=5\\n[invert]"];\n' ..
      '  n6 [label="id=6\\n[running]"];\n' ..
      '  n7 [label="id=7\\n[repeat 2]"];\n' ..
      '  n8 [label="id=8\\n[sel]", style="bold"];\n' ..
      '  n2 -> n0;\n' ..
      '  n2 -> n1;\n' ..
      '  n4 -> n3;\n' ..
      '  n5 -> n4;\n' ..
      '  n7 -> n6;\n' ..
      '  n8 -> n2;\n' ..
      '  n8 -> n5;\n' ..
      '  n8 -> n7;\n' ..
      '}\n',
      export("(sel (seq (cond battery-ok) (act bb-put-int k 1)) (invert (retry 3 (act always-fail))) " ..
             "(repeat 2 (running)))"))
  end)

  it("labels our own kinds the same way, and a leaf form by its form", function()
    assert.are.equal(HEAD ..
      '  n0 [label="id=0\\n[succeed]"];\n' ..
      '  n1 [label="id=1\\n[fail]"];\n' ..
      '  n2 [label="id=2\\n[par 1]"];\n' ..
      '  n3 [label="id=3\\n[plan-action]"];\n' ..
      '  n4 [label="id=4\\n[mem-seq]"];\n' ..
      '  n5 [label="id=5\\n[mem-sel]", style="bold"];\n' ..
      '  n2 -> n0;\n' ..
      '  n2 -> n1;\n' ..
      '  n4 -> n3;\n' ..
      '  n5 -> n2;\n' ..
      '  n5 -> n4;\n' ..
      '}\n',
      export("(mem-sel (par 1 (succeed) (fail)) " ..
             "(mem-seq (plan-action :model_service toy-1d :state_key x :action_key u)))"))
  end)

  it("a one-node tree is its own bold root", function()
    assert.are.equal(HEAD .. '  n0 [label="id=0\\n[succeed]", style="bold"];\n}\n', export("(succeed)"))
  end)

  it("escapes quotes and backslashes in leaf names", function()
    local dot = export([[(act "say \"hi\"\\now")]])
    assert.is_truthy(dot:find([[  n0 [label="id=0\nsay \"hi\"\\now\n[act]", style="bold"];]], 1, true), dot)
  end)

  it("is mirrored to Lua as host.bt.export_dot", function()
    local tree = h:compile("(seq (cond always-true) (act always-success))")
    assert.is_true(h.bt.export_dot(tree, path))
    assert.are.equal(3, select(2, slurp(path):gsub("%[label=", "")))
  end)

  it("raises on a bad definition, path or file", function()
    assert.are.equal("bt.export-dot: expected a bt_def, got 1", H.err(h, '(bt.export-dot 1 "x.dot")'))
    assert.are.equal("bt.export-dot: expected a string, got x", H.err(h, "(bt.export-dot (bt (succeed)) 'x)"))
    assert.are.equal('bt.export-dot: expected a non-empty path, got ""',
      H.err(h, '(bt.export-dot (bt (succeed)) "")'))
    assert.are.equal("bt.export-dot: cannot open '/nonexistent/dir/t.dot': No such file or directory",
      H.err(h, '(bt.export-dot (bt (succeed)) "/nonexistent/dir/t.dot")'))
    assert.are.equal("bt.export-dot: expected 1 to 3 arguments, got 0", H.err(h, "(bt.export-dot)"))
    assert.are.equal("bt.export-dot: expected a bt_instance, got 3", H.err(h, "(bt.export-dot (bt (succeed)) nil 3)"))
    assert.are.equal("bt.export-dot: the instance is not an instance of this tree",
      H.err(h, "(bt.export-dot (bt (succeed)) nil (bt.new-instance (bt (succeed))))"))
  end)

  it("returns the same text without a path, and as tree:export_dot", function()
    local tree = h:compile("(seq (cond always-true) (act always-success))")
    assert.is_true(tree:export_dot(path))
    local text = slurp(path)
    assert.are.equal(text, tree:export_dot())
    assert.are.equal(text, tree:export_dot(nil))
    h:set("path", path)
    assert.are.equal(text, h:eval("(bt.export-dot (bt (seq (cond always-true) (act always-success))))"))
  end)

  it("colours each node by its share of an instance's tick time", function()
    local tree = h:compile("(sel (seq (cond always-true) (act always-fail)) (act always-success))")
    local inst = tree:instance()
    inst:set_profile_level("timing")
    for _ = 1, 4 do inst:tick() end
    local dot = tree:export_dot(nil, inst)
    assert.are.equal(dot, h.bt.export_dot(inst)) -- an instance stands for its tree and its figures
    -- the plain form is untouched by the instance
    assert.are.equal(0, select(2, tree:export_dot():gsub("fillcolor", "")))
    local n = 0
    for id, label, style, colour in dot:gmatch('  n(%d+) %[label="([^"]*)", style="([^"]*)", fillcolor="(#%x%x%x%x%x%x)"') do
      n = n + 1
      local share = tonumber(label:match("\\n([%d.]+)%% of tick time$"))
      assert.is_truthy(share, label)
      assert.is_true(share >= 0 and share <= 100)
      if id == "4" then -- the root: all of the time, bold, the hottest colour
        assert.are.equal(100, share)
        assert.are.equal("filled,bold", style)
        assert.are.equal("#c80014", colour)
      else
        assert.are.equal("filled", style)
      end
    end
    assert.are.equal(5, n, dot)
    -- always-fail failed on every visit: a red frame, the thickest
    assert.is_truthy(dot:find('always%-fail\\n%[act%][^\n]*tooltip="visits=4 success=0 failure=4 running=0", '
      .. 'color="#c62828", penwidth=4%.0%]'), dot)
    -- from Lisp, with a path: the same colouring lands in the file
    h:set("path", path)
    assert.are.equal("#t", H.show(h, [[
      (define d (bt (seq (act always-success))))
      (define i (bt.new-instance d))
      (bt.tick i)
      (bt.export-dot d path i)]]))
    assert.are.equal(2, select(2, slurp(path):gsub('fillcolor="#', "")))
  end)
end)
