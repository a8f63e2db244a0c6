-- spec/compat/helpers.lua -- the shared harness of the compat specs: run a
-- reference-style program in a fresh host and read back its written form
-- or its error message, as muesli-bt users see them.
local lispbt = require("lispbt")

local M = {}

function M.host()
  return lispbt.new({ workers = 1 })
end

-- The written form (write-to-string) of the value of SRC, evaluated as one
-- `begin` so that definitions and the result form share one program.
function M.show(h, src)
  return h:eval("(write-to-string (begin " .. src .. "\n))")
end

-- The message SRC raises, without its `eval:LINE:COL: ` position.
function M.err(h, src)
  local ok, e = pcall(h.eval, h, src)
  assert(not ok, "expected an error from " .. src)
  return (tostring(e):gsub("^eval:%d+:%d+: ", ""))
end

return M
