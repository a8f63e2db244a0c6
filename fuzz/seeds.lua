-- fuzz/seeds.lua -- (re)generate the seed corpus fuzz/corpus/<harness>/.
--
--   lua5.4 fuzz/seeds.lua          (from the top of the tree)
--
-- Sources: every ```lisp block of docs/ (examples and snippets), the source
-- of every case in spec/support/{eval,reader,tail}_cases.lua, every DSL
-- string passed to compile(...) in spec/ and docs/, and the hand-written
-- seeds below (operation streams for fuzz_bt, injection points for
-- fuzz_oom, API programs for fuzz_lua).  Files are named by a hash of their
-- contents, so regenerating adds what is new and changes nothing else.
-- Inputs over 4 KiB are left out (libFuzzer's -max_len in `make fuzz`).
local MAXLEN = 4096

local function readfile(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function lines(cmd)
  local p = assert(io.popen(cmd))
  local t = {}
  for l in p:lines() do t[#t + 1] = l end
  p:close()
  return t
end

local function hash(s) -- FNV-1a, 64 bits
  local h = 0xcbf29ce484222325
  for i = 1, #s do
    h = (h ~ s:byte(i)) * 0x100000001b3
  end
  return ("%016x"):format(h)
end

local counts = {}
local function seed(harness, data)
  if #data == 0 or #data > MAXLEN then return end
  local dir = "fuzz/corpus/" .. harness
  os.execute("mkdir -p " .. dir)
  local path = dir .. "/" .. hash(data)
  local f = io.open(path, "rb")
  if f then f:close() return end
  f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
  counts[harness] = (counts[harness] or 0) + 1
end

-- ---- Lisp: docs blocks and the spec cases ----
local lisp = {}
for _, md in ipairs(lines("find docs -name '*.md' | sort")) do
  for block in readfile(md):gmatch("```lisp[^\n]*\n(.-)```") do
    lisp[#lisp + 1] = block
  end
end
-- the case files need the module and busted only for helpers: stub them
package.path = "./spec/?.lua;" .. package.path
package.preload["lispbt"] = function()
  return { symbol = function(n) return setmetatable({ n }, { __tostring = function() return n end }) end }
end
package.preload["busted"] = function() return { it = function() end } end
package.preload["luassert"] = function() return setmetatable({}, { __index = function() return function() end end }) end
for _, name in ipairs { "eval_cases", "reader_cases", "tail_cases" } do
  for _, case in ipairs(require("support." .. name)) do
    local src = case[1]
    if case.n then src = src:gsub("%$N", "1000") end
    lisp[#lisp + 1] = src
  end
end
for _, src in ipairs(lisp) do
  seed("eval", src)
  seed("load", src) -- read-file of data, bt.load-dsl of one form
end

-- ---- DSL: compile("...") and compile([[...]]) in spec/ and docs/ ----
local dsl = {}
for _, file in ipairs(lines("find spec docs -name '*.lua' -o -name '*.md' | sort")) do
  local text = readfile(file)
  for s in text:gmatch('compile%(%[%[(.-)%]%]%)') do dsl[#dsl + 1] = s end
  for s in text:gmatch('compile%("(.-)"%)') do
    dsl[#dsl + 1] = s:gsub('\\"', '"'):gsub("\\\\", "\\")
  end
end
local handwritten = {
  "(seq (cond fz-cond) (act fz-act x) (act fz-lact))",
  "(sel (seq (cond fz-lcond) (act fz-act goal)) (mem-seq (act fz-act) (act fz-lact)) (act always-success))",
  "(par 2 (act fz-act) (act running-then-success 2) (act fz-lact) (invert (cond fz-cond)))",
  "(mem-sel (retry 2 (act fz-act)) (repeat 3 (act fz-lact)) (fail))",
  "(seq (act async-sleep-ms 1) (act bb-put-float x 1.5) (cond goal-reached-1d x 1.5 0.1))",
  "(sel (plan-action :state_key pos :action_key step :iters_max 20) (act apply-planned-1d))",
  "(seq (cond bb-has door-open) (act bb-put-int goal 1) (succeed) (running))",
  "(repeat 2 (retry 2 (invert (act fz-act battery))))",
}
for _, s in ipairs(handwritten) do dsl[#dsl + 1] = s end
for i, s in ipairs(dsl) do
  seed("bt", s)
  seed("load", s)
  -- with an operation stream after a NUL: ticks, halts, resets, writes, renders
  local ops = {}
  for k = 1, 24 do ops[k] = string.char((i * 37 + k * 11) % 256) end
  seed("bt", s .. "\0" .. table.concat(ops))
end
seed("bt", handwritten[1] .. "\0" .. "\0\1\2\3\4\5\6\7\8\9\10\11\12\13\14\15\16")

-- ---- fuzz_load: bt.save tree files (LBT1, docs/reference/bt.md#btsave) ----
local function fnv64(data)
  local h = 0xcbf29ce484222325
  for i = 1, #data do
    h = (h ~ data:byte(i)) * 0x100000001b3
  end
  return h
end
local function lbt1(dsl)
  local payload = dsl .. "\n"
  return "LBT1" .. string.pack("<I4I4I4I8i8", 1, 0x01020304, 0, #payload, fnv64(payload)) .. payload
end
for i, s in ipairs(handwritten) do
  local file = lbt1(s)
  seed("load", file)
  if i == 1 then -- a truncated, a corrupted and a muesli-bt file
    seed("load", file:sub(1, #file - 3))
    seed("load", file:sub(1, 40) .. "#" .. file:sub(42))
    seed("load", "MBT1" .. file:sub(5))
  end
end
seed("load", lbt1("(reactive-sel (reactive-seq (cond always-true) (async-seq (act always-success) (running))) " ..
                  "(mem-seq (act always-success) (mem-sel (act always-fail) (succeed))))"))

-- ---- fuzz_oom: k (2 bytes, little endian), flags, Lisp ----
for i, src in ipairs(lisp) do
  if i % 4 == 0 and #src < 600 then
    local k = (i * 7) % 400 + 1
    seed("oom", string.char(k % 256, k // 256, i % 4) .. src)
  end
end
for k = 1, 60, 3 do
  seed("oom", string.char(k, 0, 3) .. "(define (f n acc) (if (= n 0) acc (f (- n 1) (cons n acc)))) (f 50 nil)")
end

for h, n in pairs(counts) do print(("fuzz/corpus/%s: %d new"):format(h, n)) end

-- ---- fuzz_lua: byte-coded API programs (see DRIVER in fuzz/fuzz_lua.c) ----
-- op 0 new host (slot, 3 option bytes), 3 compile (host, fuzz-string?, DSL, slot),
-- 4 instance (tree, slot), 5 tick (inst, input byte), 1 eval snippet
-- (host, snippet, slot), 7 close (host), 8 Lua GC, 16 allocfail around an op.
local function prog(...) return string.char(...) end
local base = prog(0, 0, 1, 100, 3) -- host 1: 1 worker, max_depth 250, heap 1 MiB
for d = 0, 7 do
  local p = base .. prog(3, 0, 1, d, 0, 4, 0, 0)
  for k = 1, 4 do p = p .. prog(5, 0, k, k * 7) end
  seed("lua", p .. prog(6, 0, 0, 5, 0, 0, 7, 0, 5, 0, 0, 8, 0))
end
for e = 0, 15 do
  seed("lua", base .. prog(1, 0, e, 0, e * 5, e * 3, 1, 0, (e + 1) % 16, 1, 7, 0, 8, 0))
end
seed("lua", base .. prog(0, 1, 2, 30, 9, 2, 0, 20) .. "(+ 1 2)(fz-cb 7 8 9)(bt.logs.dump)" .. prog(10, 0, 8, 1, 1))
seed("lua", base .. prog(3, 0, 1, 0, 0, 4, 0, 0, 16, 0, 20, 0, 5, 0, 0, 16, 0, 3, 1, 1, 1, 7, 0, 1))
seed("lua", base .. prog(3, 0, 1, 1, 0, 4, 0, 0, 9, 0, 8, 0, 5, 0, 0, 9, 2, 8, 0, 13, 0, 5, 13, 0, 1))
-- a pseudo-random tail after a host, a tree and an instance
local x = 12345
for n = 1, 24 do
  local t = {}
  for k = 1, 48 do
    x = (x * 1103515245 + 12345) % 2147483648
    t[k] = string.char((x >> 16) % 256)
  end
  seed("lua", base .. prog(3, 0, 1, n % 8, 0, 4, 0, 0) .. table.concat(t))
end
