-- spec/support/evt.lua -- helpers of the event-stream specs: the vendored
-- mbt.evt.v1 schema, the reference's FNV-1a 64 hash text, and a file's lines.
local js = require "support.jsonschema"

local M = {}

M.schema = js.load("spec/fixtures/mbt_evt_v1/mbt.evt.v1.schema.json")

-- FNV-1a 64 with the reference's offset basis (Lua integers wrap mod 2^64).
function M.fnv(s)
  local h = 1469598103934665603
  for i = 1, #s do
    h = (h ~ s:byte(i)) * 1099511628211
  end
  return ("fnv1a64:%016x"):format(h)
end

function M.readlines(path)
  local out = {}
  for line in io.lines(path) do out[#out + 1] = line end
  return out
end

return M
