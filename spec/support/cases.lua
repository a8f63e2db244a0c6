-- spec/support/cases.lua -- shared helpers for the Lisp specs.
--
-- Case tables (spec/support/*_cases.lua) are lists of plain records that a
-- helper runs against a given host, so the same cases run on a normal host
-- and under gc_stress (spec/gc_spec.lua).  A case is
--
--   { "src", want }                      value of the last form (NIL for nil)
--   { "src", err = "exact message" }     Lua error, compared exactly
--   { "src", errp = "message prefix" }   Lua error starting with this text
--   { "src", check = function(v, host) ... end }   custom assertions
--   name = "..."                          test title (default: the source)
--   n = { normal, stress }                "$N" in src becomes n[1] or n[2]
--   opts = { ... }                        lispbt.new options for this case
--
-- Values are compared through canon(): numbers keep their subtype (3 is
-- not 3.0), symbols compare by name, tables structurally (keys sorted).
local lispbt = require("lispbt")
-- spec files get busted's globals; a required module reaches them here
local busted = require("busted")
local assert = require("luassert")
local it = busted.it

local M = {}

M.NIL = setmetatable({}, { __tostring = function() return "NIL" end })
M.sym = lispbt.symbol

local SYMMETA = getmetatable(lispbt.symbol("probe"))

function M.issymbol(v)
  return type(v) == "userdata" and getmetatable(v) == SYMMETA
end

-- Canonical text of a converted Lisp value.
function M.canon(v, depth)
  depth = depth or 0
  assert(depth < 200, "canon: nested too deeply")
  local t = type(v)
  if v == nil or v == M.NIL then
    return "nil"
  elseif t == "boolean" then
    return tostring(v)
  elseif t == "number" then
    if v ~= v then
      return "float:nan"
    end
    return math.type(v) .. ":" .. string.format(math.type(v) == "float" and "%.17g" or "%d", v)
  elseif t == "string" then
    return string.format("%q", v)
  elseif M.issymbol(v) then
    return "sym:" .. tostring(v)
  elseif t == "table" then
    local parts = {}
    for k, x in pairs(v) do
      if x == M.NIL then
        goto continue -- NIL in an expected table stands for an absent entry
      end
      parts[#parts + 1] = M.canon(k, depth + 1) .. "=" .. M.canon(x, depth + 1)
      ::continue::
    end
    table.sort(parts)
    return "{" .. table.concat(parts, ",") .. "}"
  else
    return t .. ":" .. tostring(v)
  end
end

function M.same(a, b)
  return M.canon(a) == M.canon(b)
end

local function subst(c, stress)
  local src = c[1]
  if c.n then
    src = src:gsub("%$N", tostring(stress and c.n[2] or c.n[1]))
  end
  return src
end

-- Run one case on host 'h'; returns true, or false and a description.
function M.run(h, c, stress)
  local src = subst(c, stress)
  local ok, v = pcall(h.eval, h, src)
  if c.err or c.errp then
    if ok then
      return false, ("expected an error, got value %s"):format(M.canon(v))
    end
    if c.err and v ~= c.err then
      return false, ("error\n  got:  %s\n  want: %s"):format(tostring(v), c.err)
    end
    if c.errp and (type(v) ~= "string" or v:sub(1, #c.errp) ~= c.errp) then
      return false, ("error\n  got:  %s\n  want prefix: %s"):format(tostring(v), c.errp)
    end
    -- the host stays usable after every error
    local ok2, v2 = pcall(h.eval, h, "(+ 40 2)")
    if not ok2 or v2 ~= 42 then
      return false, "host unusable after the error: " .. tostring(v2)
    end
    return true
  end
  if not ok then
    return false, "unexpected error: " .. tostring(v)
  end
  if c.check then
    local cok, cerr = pcall(c.check, v, h)
    if not cok then
      return false, tostring(cerr)
    end
    return true
  end
  local want = c[2]
  if want == nil then
    error("case has no expectation: " .. c[1])
  end
  if not M.same(v, want) then
    return false, ("value\n  got:  %s\n  want: %s"):format(M.canon(v), M.canon(want))
  end
  return true
end

local function title(c)
  local s = c.name or c[1]:gsub("%s+", " ")
  if #s > 100 then
    s = s:sub(1, 97) .. "..."
  end
  return s
end

-- Define one busted `it` per case (call inside a describe block).
-- opts.stress: run with gc_stress and the stress loop counts.
-- opts.shared: one host for the whole table instead of one per case.
function M.define(cases, opts)
  opts = opts or {}
  local shared
  for _, c in ipairs(cases) do
    if not (opts.stress and c.nostress) then
      it(title(c), function()
        local hopts = {}
        for k, v in pairs(c.opts or {}) do
          hopts[k] = v
        end
        if opts.stress then
          hopts.gc_stress = true
        end
        local h
        if opts.shared and not c.opts then
          shared = shared or lispbt.new(hopts)
          h = shared
        else
          h = lispbt.new(hopts)
        end
        local ok, msg = M.run(h, c, opts.stress)
        if h ~= shared then
          h:close()
        end
        assert(ok, msg)
      end)
    end
  end
end

-- Path of the lispbt module this process loaded (so subprocesses use the
-- same build, e.g. build-asan under `make sanitize`).
function M.modpath()
  return assert(package.searchpath("lispbt", package.cpath))
end

-- Run Lua code in a fresh lua5.4 process with the same module; returns
-- stdout, and true/false for the exit status.
function M.subprocess(code)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(("package.cpath = %q\n"):format(M.modpath()))
  f:write(code)
  f:close()
  local p = assert(io.popen("lua5.4 " .. path .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  os.remove(path)
  return out, ok == true
end

-- Assert that host 'h' still evaluates correctly.
function M.usable(h)
  assert.are.equal(42, h:eval("(+ 40 2)"))
  h:eval("(define usable-check '(1 2 3))")
  assert.are.equal(3, h:eval("(length usable-check)"))
end

return M
