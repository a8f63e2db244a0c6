-- spec/support/jsonschema.lua -- a JSON Schema (draft 2020-12) validator for
-- the keywords the event-stream schema uses: type, const, enum, required,
-- properties, additionalProperties, items, allOf, if/then/else, minimum,
-- exclusiveMinimum, maximum, minLength, pattern (as a Lua pattern only when
-- it is one; others are refused loudly).  An unknown keyword is an error, so
-- a newer schema cannot pass by being half understood.
--
-- decode() is a strict JSON parser of its own (RFC 8259: no trailing
-- commas, no comments, no NaN, no leading zeros, one value then only
-- space), so that a line it accepts is JSON for every consumer; it keeps
-- arrays and objects apart (metatables ARRAY and OBJECT), integers apart
-- from numbers with a fraction or exponent, and null as M.null.  The Debian
-- lua-cjson cannot tell an empty array from an empty object.

local M = {}

local ARRAY, OBJECT = { __name = "json array" }, { __name = "json object" }
M.null = setmetatable({}, { __name = "json null", __tostring = function() return "null" end })

local function isarray(v)
  return type(v) == "table" and getmetatable(v) == ARRAY
end

-- the JSON type of a decoded value
local function jtype(v)
  local t = type(v)
  if v == M.null then return "null" end
  if t == "table" then return isarray(v) and "array" or "object" end
  if t == "string" then return "string" end
  if t == "boolean" then return "boolean" end
  if t == "number" then return math.type(v) == "integer" and "integer" or "number" end
  return t
end

local function typeok(want, v)
  local have = jtype(v)
  if want == have then return true end
  if want == "number" and have == "integer" then return true end
  -- 2.0 is an integer in JSON Schema (a number with a zero fraction)
  if want == "integer" and have == "number" then return v == math.floor(v) and v == v end
  return false
end

local function deepeq(a, b)
  if jtype(a) ~= jtype(b) and not (type(a) == "number" and type(b) == "number") then
    return false
  end
  if type(a) ~= "table" then return a == b end
  for k, x in pairs(a) do
    if not deepeq(x, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local known = {
  ["$schema"] = true, ["$id"] = true, title = true, description = true,
  type = true, const = true, enum = true, required = true, properties = true,
  additionalProperties = true, items = true, allOf = true, ["if"] = true,
  ["then"] = true, ["else"] = true, minimum = true, exclusiveMinimum = true,
  maximum = true, minLength = true, pattern = true, minItems = true,
}

local check

local function fail(path, fmt, ...)
  return false, path .. ": " .. string.format(fmt, ...)
end

-- the regular expressions JSON Schema files use here: ^[0-9a-f]{16}$-style
-- anchors, classes and counted repeats, turned into a Lua pattern
local function luapattern(re)
  local out = re:gsub("(%b[])%{(%d+)%}", function(class, n) return class:rep(tonumber(n)) end)
  if out:find("[{}|()+?*\\]") and not out:find("^%^?[%w%[%]%-%%:]*%$?$") then
    error("jsonschema: pattern not supported: " .. re)
  end
  return out
end

check = function(s, v, path)
  if s == true then return true end
  if s == false then return fail(path, "no value is allowed here") end
  for k in pairs(s) do
    if not known[k] then error("jsonschema: keyword not supported: " .. k) end
  end
  if s.type ~= nil then
    local ok = false
    if type(s.type) == "table" then
      for _, t in ipairs(s.type) do ok = ok or typeok(t, v) end
    else
      ok = typeok(s.type, v)
    end
    if not ok then
      local want = type(s.type) == "table" and table.concat(s.type, "|") or s.type
      return fail(path, "expected %s, got %s", want, jtype(v))
    end
  end
  if s.const ~= nil and not deepeq(s.const, v) then
    return fail(path, "expected the constant %s", M.encode(s.const))
  end
  if s.enum ~= nil then
    local ok = false
    for _, e in ipairs(s.enum) do ok = ok or deepeq(e, v) end
    if not ok then return fail(path, "%s is not one of the enum values", M.encode(v)) end
  end
  if type(v) == "number" then
    if s.minimum and v < s.minimum then return fail(path, "%s < minimum %s", v, s.minimum) end
    if s.maximum and v > s.maximum then return fail(path, "%s > maximum %s", v, s.maximum) end
    if s.exclusiveMinimum and v <= s.exclusiveMinimum then
      return fail(path, "%s <= exclusiveMinimum %s", v, s.exclusiveMinimum)
    end
  end
  if type(v) == "string" then
    if s.minLength and utf8.len(v) < s.minLength then
      return fail(path, "shorter than %d", s.minLength)
    end
    if s.pattern and not v:find(luapattern(s.pattern)) then
      return fail(path, "%q does not match %s", v, s.pattern)
    end
  end
  local jt = jtype(v)
  if jt == "object" then
    for _, k in ipairs(s.required or {}) do
      if v[k] == nil then return fail(path, "missing required property %q", k) end
    end
    for k, x in pairs(v) do
      local sub = s.properties and s.properties[k]
      if sub == nil then sub = s.additionalProperties end
      if sub ~= nil then
        local ok, err = check(sub, x, path .. "." .. tostring(k))
        if not ok then return false, err end
      end
    end
  elseif jt == "array" then
    if s.minItems and #v < s.minItems then return fail(path, "fewer than %d items", s.minItems) end
    if s.items ~= nil then
      for i, x in ipairs(v) do
        local ok, err = check(s.items, x, path .. "[" .. (i - 1) .. "]")
        if not ok then return false, err end
      end
    end
  end
  for _, sub in ipairs(s.allOf or {}) do
    local ok, err = check(sub, v, path)
    if not ok then return false, err end
  end
  if s["if"] ~= nil then
    local branch = check(s["if"], v, path) and s["then"] or s["else"]
    if branch ~= nil then
      local ok, err = check(branch, v, path)
      if not ok then return false, err end
    end
  end
  return true
end

-- decode(text) -> value, or raises "json: PROBLEM at byte N"
function M.decode(text)
  local pos = 1
  local function err(what) error(string.format("json: %s at byte %d", what, pos), 0) end
  local function space() pos = text:find("[^ \t\r\n]", pos) or #text + 1 end
  local value
  local function str()
    local out, i = {}, pos + 1
    while true do
      local c = text:sub(i, i)
      if c == "" then pos = i; err("unterminated string") end
      if c == '"' then break end
      if c:byte() < 32 then pos = i; err("control character in string") end
      if c == "\\" then
        local e = text:sub(i + 1, i + 1)
        local simple = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
        if simple[e] then
          out[#out + 1] = simple[e]; i = i + 2
        elseif e == "u" then
          local hex = text:match("^%x%x%x%x", i + 2)
          if not hex then pos = i; err("bad \\u escape") end
          local cp = tonumber(hex, 16)
          i = i + 6
          if cp >= 0xD800 and cp <= 0xDBFF then
            local lo = text:match("^\\u(%x%x%x%x)", i)
            lo = lo and tonumber(lo, 16)
            if not lo or lo < 0xDC00 or lo > 0xDFFF then pos = i; err("lone surrogate") end
            cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
            i = i + 6
          elseif cp >= 0xDC00 and cp <= 0xDFFF then
            pos = i; err("lone surrogate")
          end
          out[#out + 1] = utf8.char(cp)
        else
          pos = i; err("bad escape")
        end
      else
        out[#out + 1] = c; i = i + 1
      end
    end
    local s = table.concat(out)
    if not utf8.len(s) then err("string is not UTF-8") end
    pos = i + 1
    return s
  end
  value = function()
    space()
    local c = text:sub(pos, pos)
    if c == "{" then
      local o = setmetatable({}, OBJECT)
      pos = pos + 1; space()
      if text:sub(pos, pos) == "}" then pos = pos + 1; return o end
      while true do
        space()
        if text:sub(pos, pos) ~= '"' then err("expected a string key") end
        local k = str()
        space()
        if text:sub(pos, pos) ~= ":" then err("expected ':'") end
        pos = pos + 1
        if o[k] ~= nil then err("duplicate key " .. k) end
        o[k] = value()
        space()
        c = text:sub(pos, pos); pos = pos + 1
        if c == "}" then return o end
        if c ~= "," then pos = pos - 1; err("expected ',' or '}'") end
      end
    elseif c == "[" then
      local a = setmetatable({}, ARRAY)
      pos = pos + 1; space()
      if text:sub(pos, pos) == "]" then pos = pos + 1; return a end
      while true do
        a[#a + 1] = value()
        space()
        c = text:sub(pos, pos); pos = pos + 1
        if c == "]" then return a end
        if c ~= "," then pos = pos - 1; err("expected ',' or ']'") end
      end
    elseif c == '"' then
      return str()
    elseif text:find("^true", pos) then pos = pos + 4; return true
    elseif text:find("^false", pos) then pos = pos + 5; return false
    elseif text:find("^null", pos) then pos = pos + 4; return M.null
    else
      -- -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?
      local int = text:match("^-?0", pos) or text:match("^-?[1-9]%d*", pos)
      if not int then err("bad value") end
      local frac = text:match("^%.%d+", pos + #int) or ""
      local exp = text:match("^[eE][-+]?%d+", pos + #int + #frac) or ""
      local num = int .. frac .. exp
      pos = pos + #num
      if num:find("[.eE]") then return tonumber(num) + 0.0 end
      return math.tointeger(tonumber(num)) or tonumber(num)
    end
  end
  local v = value()
  space()
  if pos <= #text then err("trailing characters") end
  return v
end

-- encode(value) -> compact JSON text (for messages)
function M.encode(v)
  local t = jtype(v)
  if t == "null" then return "null" end
  if t == "string" then return string.format("%q", v) end
  if t == "array" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = M.encode(x) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  if t == "object" then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = string.format("%q", k) .. ":" .. M.encode(x) end
    table.sort(parts)
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return tostring(v)
end

function M.load(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return M.decode(text)
end

-- validate(schema, value) -> true, or false and "PATH: problem"
function M.validate(schema, v)
  return check(schema, v, "$")
end

M.jtype = jtype
M.isarray = isarray

return M
