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
    assert.are.equal("bt.export-dot: expected 2 arguments, got 1", H.err(h, "(bt.export-dot (bt (succeed)))"))
  end)
end)
