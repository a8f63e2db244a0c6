-- spec/events_schema_spec.lua -- the checker the event-stream specs rely on:
-- spec/support/jsonschema.lua, a strict JSON parser and a validator for the
-- keywords of the reference's mbt.evt.v1 schema (spec/fixtures/mbt_evt_v1/).
-- The reference's own streams must pass; broken lines must fail with the
-- path of what is wrong.
local js = require "support.jsonschema"

local DIR = "spec/fixtures/mbt_evt_v1/"
local schema = js.load(DIR .. "mbt.evt.v1.schema.json")

local function lines(name)
  local out = {}
  for line in io.lines(DIR .. name) do out[#out + 1] = line end
  return out
end

describe("jsonschema.decode", function()
  it("keeps arrays, objects, integers and floats apart", function()
    assert.are.equal("array", js.jtype(js.decode("[]")))
    assert.are.equal("object", js.jtype(js.decode("{}")))
    assert.are.equal("integer", js.jtype(js.decode("7")))
    assert.are.equal("number", js.jtype(js.decode("7.0")))
    assert.are.equal("null", js.jtype(js.decode("null")))
    assert.are.equal("é😀", js.decode([["\u00e9\ud83d\ude00"]]))
    assert.are.equal([=[[1,2.0,{"x":null}]]=], js.encode(js.decode([=[[1, 2.0, {"x": null}]]=])))
  end)

  for _, case in ipairs {
    { "01", "trailing characters at byte 2" },
    { "1.", "trailing characters at byte 2" },
    { ".5", "bad value at byte 1" },
    { "NaN", "bad value at byte 1" },
    { "[1,]", "bad value at byte 4" },
    { '{"a":1,}', "expected a string key at byte 8" },
    { '{"a":1,"a":2}', "duplicate key a at byte 12" },
    { '"\\x"', "bad escape at byte 2" },
    { '"\\udc00"', "lone surrogate at byte 8" },
    { '"a\tb"', "control character in string at byte 3" },
    { '"\255"', "string is not UTF-8 at byte 1" },
    { "[1] x", "trailing characters at byte 5" },
    { "", "bad value at byte 1" },
  } do
    it("refuses " .. string.format("%q", case[1]), function()
      local ok, err = pcall(js.decode, case[1])
      assert.is_false(ok)
      assert.are.equal("json: " .. case[2], err)
    end)
  end
end)

describe("mbt.evt.v1 schema", function()
  for _, name in ipairs { "minimal_run.jsonl", "planner_run.jsonl", "scheduler_run.jsonl",
                          "scheduler_cancel_run.jsonl", "budget_warning_case.jsonl" } do
    it("accepts every line of the reference's " .. name, function()
      local n = 0
      for i, line in ipairs(lines(name)) do
        local ok, err = js.validate(schema, js.decode(line))
        assert(ok, name .. ":" .. i .. ": " .. tostring(err))
        n = n + 1
      end
      assert.is_true(n >= 3)
    end)
  end

  local base = lines("minimal_run.jsonl")
  for _, case in ipairs {
    { 1, '"schema":"mbt.evt.v1"', '"schema":"mbt.evt.v2"', '$.schema: expected the constant "mbt.evt.v1"' },
    { 1, '"seq":1', '"seq":0', "$.seq: 0 < minimum 1" },
    { 1, '"unix_ms":1735689600000', '"unix_ms":1735689600000.5', "$.unix_ms: expected integer, got number" },
    { 1, '"type":"run_start"', '"type":"run_begin"', '$.type: "run_begin" is not one of the enum values' },
    { 1, '"git_sha":"fixture",', "", '$.data: missing required property "git_sha"' },
    { 2, '"tree_hash":"fnv1a64:aaaaaaaaaaaaaaaa",', "", '$.data: missing required property "tree_hash"' },
  } do
    it("refuses line " .. case[1] .. " with " .. case[3], function()
      local line = base[case[1]]
      local s, e = line:find(case[2], 1, true)
      assert(s, "the fixture changed: " .. case[2])
      local broken = line:sub(1, s - 1) .. case[3] .. line:sub(e + 1)
      local ok, err = js.validate(schema, js.decode(broken))
      assert.is_false(ok)
      assert.are.equal(case[4], err)
    end)
  end

  it("refuses an event with a property the envelope does not have", function()
    local v = js.decode(base[3])
    v.extra = 1
    local ok, err = js.validate(schema, v)
    assert.is_false(ok)
    assert.are.equal("$.extra: no value is allowed here", err)
  end)
end)
