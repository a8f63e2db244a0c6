-- spec/support/bt_helpers.lua -- shared helpers of the spec/bt_*_spec.lua files.
--
-- Scripted leaves: script(host, name, statuses) registers an action whose
-- k-th call returns statuses[k] (the last one repeats) and appends the leaf
-- name to the shared call log; its halt callback appends "halt:NAME".
local lispbt = require("lispbt")

local M = {}

function M.host(opts)
  opts = opts or {}
  if opts.workers == nil then
    opts.workers = 0
  end
  return lispbt.new(opts)
end

-- A recorder of leaf calls shared by the scripted leaves of one test.
function M.recorder()
  local rec = { calls = {} }
  function rec.log(s)
    rec.calls[#rec.calls + 1] = s
  end
  function rec.take()
    local c = rec.calls
    rec.calls = {}
    return c
  end
  return rec
end

-- Register action 'name' returning statuses in order (last repeats).
-- opts.cond = true registers a condition instead; opts.nohalt = true gives
-- no halt function (the action itself is then called with ctx.halted).
function M.script(host, rec, name, statuses, opts)
  opts = opts or {}
  local k = 0
  local function fn(ctx)
    if ctx.halted then
      rec.log("halted:" .. name)
      return
    end
    k = k + 1
    rec.log(name)
    local s = statuses[math.min(k, #statuses)]
    return s
  end
  if opts.cond then
    host:register_condition(name, fn)
  elseif opts.nohalt then
    host:register_action(name, fn)
  else
    host:register_action(name, fn, function(ctx)
      assert(ctx.halted == true)
      rec.log("halt:" .. name)
    end)
  end
end

-- Tick 'inst' n times, returning the statuses joined by spaces.
function M.ticks(inst, n, input)
  local out = {}
  for i = 1, n do
    out[i] = inst:tick(input)
  end
  return table.concat(out, " ")
end

function M.lines(text)
  local t = {}
  for l in text:gmatch("([^\n]*)\n") do
    t[#t + 1] = l
  end
  return t
end

-- Node lines of a bt.stats text, by node id.
function M.nodelines(text)
  local t = {}
  for _, l in ipairs(M.lines(text)) do
    local id = l:match("^node (%d+) ")
    if id then
      t[tonumber(id)] = l
    end
  end
  return t
end

-- Parse one node line into a table {id, name, success, failure, ...}.
function M.parsenode(l)
  local id, name, rest = l:match("^node (%d+) %((.-)%) (.*)$")
  if not id then
    return nil
  end
  local r = { id = tonumber(id), name = name }
  for k, v in rest:gmatch("(%S+)=(%S+)") do
    r[k] = tonumber(v) or v
  end
  return r
end

-- Count the nodes of a DSL source string (one per opening parenthesis).
function M.countnodes(src)
  local _, n = src:gsub("%(", "")
  return n
end

-- Plain-text "contains".
function M.has(s, sub)
  return s:find(sub, 1, true) ~= nil
end

-- The error message of f(...) (which must fail).
function M.err(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(e)
end

-- A batch of 201 instances of 'tree' (whose source must be MIXED_SRC) with
-- mixed outcomes, the first instance repeated at the end (ticked twice, in
-- order), and the statuses a tick of each gives.
M.MIXED_SRC = "(sel (seq (cond bb-has run) (running)) (cond bb-has ok))"
-- A tree compiled from 'src' on 'host' and 'n' instances of it.
function M.instances(host, src, n)
  local tree = host:compile(src)
  local insts = {}
  for i = 1, n do
    insts[i] = tree:instance()
  end
  return tree, insts
end

function M.mixed_batch(tree)
  local insts, want = {}, {}
  for i = 1, 200 do
    insts[i] = tree:instance()
    if i % 3 == 0 then
      insts[i]:put("ok", true)
    elseif i % 7 == 0 then
      insts[i]:put("run", true)
    end
    want[i] = i % 3 == 0 and "success" or i % 7 == 0 and "running" or "failure"
  end
  insts[201] = insts[1]
  want[201] = "failure"
  return insts, want
end

-- JSON decoding: lua-cjson, the one JSON decoder of the specs (the C tests
-- validate with spec/c/ctest_json.h).  .ci/deps installs it; without it
-- every spec that reads JSON fails at require instead of passing on a
-- fallback nobody else runs.
M.json_decode = require("cjson").decode

return M
