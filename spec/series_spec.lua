-- spec/series_spec.lua -- bt.series.write: each file gets every row of the
-- series (no write position shared across files or formats); 'append adds
-- only the rows newer than the file's own last row.
package.path = "./spec/?.lua;" .. package.path
local T = require("support.bt_helpers")

local function read(path)
  local f = assert(io.open(path))
  local text = f:read("a")
  f:close()
  return text
end

local function ticks(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do
    local t = line:match("^(%d+),") or line:match('^{"tick":(%d+),')
    if t then out[#out + 1] = tonumber(t) end
  end
  return out
end

describe("bt.series.write", function()
  local host, inst, paths
  before_each(function()
    host = T.host()
    inst = host:compile("(act running-then-success 1)"):instance()
    host.bt.series.enable(inst, 100)
    for _ = 1, 4 do inst:tick() end
    paths = {}
  end)
  after_each(function()
    for _, p in ipairs(paths) do os.remove(p) end
    host:close()
  end)
  local function tmp()
    local p = os.tmpname()
    paths[#paths + 1] = p
    return p
  end

  it("CSV then JSON lines: both files get every row", function()
    local csv, jsonl = tmp(), tmp()
    assert.are.equal(4, host.bt.series.write(inst, csv, "csv"))
    assert.are.equal(4, host.bt.series.write(inst, jsonl, "jsonl"))
    assert.are.same({ 1, 2, 3, 4 }, ticks(read(csv)))
    assert.are.same({ 1, 2, 3, 4 }, ticks(read(jsonl)))
    assert.is_truthy(read(csv):match("^tick,ts_ns,"))
  end)

  it("a second whole write replaces the file with all the rows", function()
    local p = tmp()
    host.bt.series.write(inst, p, "csv")
    inst:tick()
    assert.are.equal(5, host.bt.series.write(inst, p, "csv"))
    assert.are.same({ 1, 2, 3, 4, 5 }, ticks(read(p)))
    local _, headers = read(p):gsub("tick,ts_ns", "")
    assert.are.equal(1, headers)
  end)

  it("'append adds only rows newer than the file's last row, per file", function()
    local a, b = tmp(), tmp()
    os.remove(a)
    assert.are.equal(4, host.bt.series.write(inst, a, "csv", "append"))   -- new file: header + all
    assert.are.equal(0, host.bt.series.write(inst, a, "csv", "append"))
    inst:tick()
    inst:tick()
    assert.are.equal(2, host.bt.series.write(inst, a, "csv", "append"))
    assert.are.same({ 1, 2, 3, 4, 5, 6 }, ticks(read(a)))
    -- another file, other format: its own last row decides
    assert.are.equal(6, host.bt.series.write(inst, b, "jsonl", "append"))
    inst:tick()
    assert.are.equal(1, host.bt.series.write(inst, b, nil, "append"))
    assert.are.same({ 1, 2, 3, 4, 5, 6, 7 }, ticks(read(b)))
  end)

  it("bad modes and foreign files are errors naming the function", function()
    local p = tmp()
    local ok, err = pcall(host.bt.series.write, inst, p, "csv", "sideways")
    assert.is_false(ok)
    assert.matches("bt.series.write: expected 'replace or 'append", err, 1, true)
    local f = assert(io.open(p, "w"))
    f:write("not a series\n")
    f:close()
    ok, err = pcall(host.bt.series.write, inst, p, "csv", "append")
    assert.is_false(ok)
    assert.matches("bt.series.write: '" .. p .. "' does not end with a CSV series row", err, 1, true)
    -- a CSV file is not a JSON lines series
    host.bt.series.write(inst, p, "csv")
    ok, err = pcall(host.bt.series.write, inst, p, "jsonl", "append")
    assert.is_false(ok)
    assert.matches("does not end with a JSON lines series row", err, 1, true)
    assert.are.equal(3, host:eval("(+ 1 2)"))
  end)
end)
