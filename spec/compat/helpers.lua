-- spec/compat/helpers.lua -- the shared harness of the compat specs: run a
-- reference-style program in a fresh host and read back its written form
-- or its error message, as muesli-bt users see them.
local lispbt = require("lispbt")

local M = {}

function M.host()
  return lispbt.new({ workers = 1 })
end

-- The written form (write-to-string) of the value of SRC (which raises, as
-- in the reference, for a vec, map, procedure or non-finite float), evaluated as one
-- `begin` so that definitions and the result form share one program.
function M.show(h, src)
  return h:eval("(write-to-string (begin " .. src .. "\n))")
end

-- The printed form of the value of SRC, as `print` writes it (the
-- reference's print_value: strings quoted, <vec:N>, <closure> ...).  Taken
-- in-process from `error`, which writes its arguments after the first in
-- the host's print style exactly as `print` does.
function M.printed(h, src)
  local ok, e = pcall(h.eval, h, "(error \"\" (begin " .. src .. "\n))")
  assert(not ok, "error did not raise")
  return (tostring(e):gsub("^eval:%d+:%d+:  ", ""))
end

-- The message SRC raises, without its `eval:LINE:COL: ` position.
function M.err(h, src)
  local ok, e = pcall(h.eval, h, src)
  assert(not ok, "expected an error from " .. src)
  return (tostring(e):gsub("^eval:%d+:%d+: ", ""))
end

return M
