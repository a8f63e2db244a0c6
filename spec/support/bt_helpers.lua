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

-- JSON decoding: lua-cjson when installed, else a small strict decoder
-- (objects, arrays, strings with escapes, numbers, true/false/null).
local function minijson(text)
  local pos = 1
  local function ws()
    pos = text:find("[^ \t\r\n]", pos) or #text + 1
  end
  local value
  local function str()
    local out = {}
    pos = pos + 1
    while true do
      local c = text:sub(pos, pos)
      if c == "" then
        error("unterminated string")
      elseif c == '"' then
        pos = pos + 1
        return table.concat(out)
      elseif c == "\\" then
        local e = text:sub(pos + 1, pos + 1)
        local map = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
        if map[e] then
          out[#out + 1] = map[e]
          pos = pos + 2
        elseif e == "u" and text:sub(pos + 2, pos + 5):match("^%x%x%x%x$") then
          out[#out + 1] = utf8.char(tonumber(text:sub(pos + 2, pos + 5), 16))
          pos = pos + 6
        else
          error("bad escape at " .. pos)
        end
      elseif c:byte() < 32 then
        error("control character in string at " .. pos)
      else
        out[#out + 1] = c
        pos = pos + 1
      end
    end
  end
  function value()
    ws()
    local c = text:sub(pos, pos)
    if c == "{" then
      local t = {}
      pos = pos + 1
      ws()
      if text:sub(pos, pos) == "}" then
        pos = pos + 1
        return t
      end
      while true do
        ws()
        if text:sub(pos, pos) ~= '"' then
          error("expected a key at " .. pos)
        end
        local k = str()
        ws()
        if text:sub(pos, pos) ~= ":" then
          error("expected ':' at " .. pos)
        end
        pos = pos + 1
        t[k] = value()
        ws()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "}" then
          return t
        elseif d ~= "," then
          error("expected ',' or '}' at " .. pos)
        end
      end
    elseif c == "[" then
      local t = {}
      pos = pos + 1
      ws()
      if text:sub(pos, pos) == "]" then
        pos = pos + 1
        return t
      end
      while true do
        t[#t + 1] = value()
        ws()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "]" then
          return t
        elseif d ~= "," then
          error("expected ',' or ']' at " .. pos)
        end
      end
    elseif c == '"' then
      return str()
    else
      for lit, v in pairs({ ["true"] = true, ["false"] = false, null = M.null }) do
        if text:sub(pos, pos + #lit - 1) == lit then
          pos = pos + #lit
          return v
        end
      end
      local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not num or num == "" or not tonumber(num) then
        error("bad value at " .. pos)
      end
      pos = pos + #num
      return tonumber(num)
    end
  end
  local v = value()
  ws()
  if pos <= #text then
    error("trailing text at " .. pos)
  end
  return v
end

M.null = setmetatable({}, { __tostring = function() return "null" end })
local okjson, cjson = pcall(require, "cjson")
M.json_decode = okjson and cjson.decode or minijson
M.minijson = minijson

return M
