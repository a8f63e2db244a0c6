-- spec/docs_spec.lua -- every example in README.md and docs/**/*.md runs and
-- says what it claims, and every example output shown is real output.
--
-- Fenced blocks are told apart by their info string:
--
--   ```lisp example   Lisp source ending in exactly one result line:
--                       ;; => TEXT       the printed form of the value of the
--                                        last form (as `print` shows it, in
--                                        the default print style) is TEXT
--                       ;; error: TEXT   evaluating raises this error: its
--                                        message, without the chunk name, is
--                                        TEXT, with or without the leading
--                                        `LINE:COL: ` position
--                     Optional `;; prints: TEXT` lines (before the result
--                     line) give the exact standard output, one line each.
--                     The source is written to a temporary file and run with
--                     (load PATH) in a fresh host, so forms are read and run
--                     one at a time exactly as host:eval does.
--   ```lua example    a self-contained chunk, run with load() in a fresh
--                     environment (a table that falls back to _G); it must
--                     not raise (examples assert() their results).
--   ```output [vary=KEY,...|vary=*] [format=NAME]
--                     what the example block just before it printed to
--                     standard output (only prose and other `output` blocks
--                     may stand between them; the outputs of one example are
--                     read as one text, in order).  Anywhere else (after
--                     code that is not run, a long session) an `output`
--                     block is an illustration: it must name a format, and
--                     is checked against it.
--   ```format NAME    a template of an output format (see below); the
--                     blocks of one NAME in one file make one format.
--   ```               (no info string) is an error: every block says what
--                     it is.  Other info strings (sh, c, lua, lisp, text,
--                     json, cmake) are code that is not run.
--
-- Output blocks.  An example with `output` blocks runs in a child lua5.4
-- (chunk name "example"), whose stdout is compared with the blocks, line by
-- line, after trailing blank lines are dropped:
--   - a doc line `...` stands for any number of real lines (an excerpt);
--   - runs of blanks count as one blank;
--   - numbers are compared as values, everything else as text, so keys,
--     their order, names and statuses must be the same;
--   - a number's key is the `KEY` of `KEY=N`, `"KEY":N` (array elements
--     too), `KEY: N` or of its CSV header column.  Times, durations and
--     timestamps -- keys `ts`, `ts_ms`, `time_used_ms`, and keys ending in
--     `_ns` or ` ns` -- and hexadecimal addresses must only have the same
--     shape (integer, float, number with a time unit, percentage), and so
--     must the numbers under the block's `vary=` keys (`_` stands for a
--     blank in a key; `vary=*`: every number).  Every other number must be
--     equal;
--   - histogram bars (`|###   |`) must have the same width.
-- With `format=NAME`, the real output (and the doc's) must also follow
-- format NAME (defined in any file, or several: each is checked).
--
-- Formats.  Each line of a `format` block is a template for one line of
-- output.  Placeholders: `N` is an integer; ID, SEQ, NAME, TEXT, KIND, LEVEL,
-- CAT, KEY, VALUE, TYPE, S, K, V, LO, HI, BARS, COUNT and PERCENT are any
-- non-empty text; `a|b|c` is one of the words; `[...]` is optional (with
-- the blank before it).  A block of one line matches one or more lines of
-- output; a longer block matches as many lines, one to one.  The blocks of
-- a format follow one another and must cover the whole output.  Every
-- format must be checked against the real output of at least one example.
--
-- Each example is one it(), named FILE:LINE of its opening fence.

local lfs = require("lfs")

local function script_dir()
    local src = debug.getinfo(1, "S").source
    src = src:sub(1, 1) == "@" and src:sub(2) or src
    return src:match("^(.*)/[^/]*$") or "."
end

local ROOT = script_dir() .. "/.."
local DOCS = ROOT .. "/docs"

local function write_file(path, text)
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
end

local function read_file(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("a")
    f:close()
    return s
end

local function lines_of(text)
    local out = {}
    for line in (text .. "\n"):gmatch("(.-)\r?\n") do
        out[#out + 1] = line
    end
    while #out > 0 and out[#out]:match("^%s*$") do
        out[#out] = nil
    end
    return out
end

-- ---- collecting blocks ------------------------------------------------------

local function markdown_files(dir, out)
    out = out or {}
    local names = {}
    for name in lfs.dir(dir) do
        if name ~= "." and name ~= ".." then
            names[#names + 1] = name
        end
    end
    table.sort(names)
    for _, name in ipairs(names) do
        local path = dir .. "/" .. name
        local mode = lfs.attributes(path, "mode")
        if mode == "directory" then
            markdown_files(path, out)
        elseif mode == "file" and name:match("%.md$") then
            out[#out + 1] = path
        end
    end
    return out
end

-- Parse the info string of an opening fence.  Returns a block record
-- {kind = "lisp"|"lua"|"output"|"format"|"code"|"bare", ...}, or raises.
local function parse_info(info)
    local kind = info:match("^(%a+)%s+example$")
    if kind == "lisp" or kind == "lua" then
        return { kind = kind }
    end
    if info == "" then
        return { kind = "bare" }
    end
    local word, rest = info:match("^(%S+)%s*(.*)$")
    if word == "format" then
        assert(rest:match("^[%w._-]+$"), "`format` needs one NAME, got: " .. info)
        return { kind = "format", fmt = rest }
    elseif word == "output" then
        local b = { kind = "output", vary = {} }
        for opt in rest:gmatch("%S+") do
            local k, v = opt:match("^(%a+)=(%S+)$")
            if k == "vary" then
                for key in v:gmatch("[^,]+") do
                    b.vary[key] = true
                end
            elseif k == "format" then
                b.format = v
            else
                error("unknown `output` option: " .. opt)
            end
        end
        return b
    end
    return { kind = "code", lang = word }
end

-- Every fenced block of 'text', in order: records of parse_info plus
-- line = N (of the opening fence) and body (the fence's indentation
-- removed from each line).
local function extract_blocks(text)
    local blocks, cur, lineno = {}, nil, 0
    for line in (text .. "\n"):gmatch("(.-)\r?\n") do
        lineno = lineno + 1
        if cur then
            if line:match("^%s*```%s*$") then
                cur.body = table.concat(cur.lines, "\n")
                cur.lines = nil
                blocks[#blocks + 1] = cur
                cur = nil
            else
                local n = #cur.indent
                if line:sub(1, n) == cur.indent then
                    line = line:sub(n + 1)
                end
                cur.lines[#cur.lines + 1] = line
            end
        else
            local indent, info = line:match("^(%s*)```%s*(.-)%s*$")
            if indent then
                local ok, b = pcall(parse_info, info)
                if not ok then
                    b = { kind = "bad", why = b }
                end
                b.line, b.indent, b.lines = lineno, indent, {}
                cur = b
            end
        end
    end
    if cur then
        error("unterminated fenced block at line " .. cur.line)
    end
    return blocks
end

-- ---- output comparison ---------------------------------------------------------

-- Keys whose numbers are times, durations or timestamps.
local function timelike(key)
    return key ~= nil and (key == "ts" or key == "ts_ms" or key == "time_used_ms"
        or key:match("[_ ]ns$") ~= nil)
end

local function shape(s)
    if s:match("^-?0x%x+$") then
        return "address"
    elseif s:match("%a$") then
        return "duration"
    elseif s:match("%%$") then
        return "percentage"
    elseif s:match("[.eE]") then
        return "float"
    end
    return "integer"
end

-- Match a number (with an optional time unit or %) at 'i' of 's'; returns
-- its end + 1, or nil.
local function number_at(s, i)
    local prev = i > 1 and s:sub(i - 1, i - 1) or ""
    if prev:match("[%w_.]") then
        return nil
    end
    local e = s:match("^-?0x%x+()", i)
        or s:match("^-?%d+%.?%d*[eE][-+]?%d+()", i)
        or s:match("^-?%d+%.%d+()", i)
        or s:match("^-?%d+()", i)
    if not e then
        return nil
    end
    local u = s:match("^[num]?s()", e) or s:match("^%%()", e)
    if u and not s:sub(u, u):match("[%w_]") then
        e = u
    end
    if s:sub(e, e):match("[%w_]") then
        return nil
    end
    return e
end

-- Split a line into tokens: {text = s} (blanks collapsed), {num = s, key =
-- k}, {bar = width}.  'header' is the CSV header in effect (a list of
-- column names) or nil.
local function tokenize(line, header)
    local toks, text, i = {}, {}, 1
    local array_key -- key of the JSON array the last number was in
    local function flush()
        if #text > 0 then
            toks[#toks + 1] = { text = (table.concat(text):gsub("%s+", " ")) }
            text = {}
        end
    end
    while i <= #line do
        local bar = line:match("^|[# ]+|()", i)
        local e = not bar and number_at(line, i)
        if bar then
            flush()
            toks[#toks + 1] = { bar = bar - i }
            i = bar
        elseif e then
            local before = table.concat(text)
            local prefix = line:sub(1, i - 1)
            local key = before:match("([%w_]+)=$") or prefix:match('"([%w_]+)":%[?$')
            if not key and before == "," and array_key then
                key = array_key
            end
            array_key = prefix:match('"([%w_]+)":%[$') or (before == "," and array_key) or nil
            key = key or before:match("^(%a[%w ]-): $")
            if not key and header then
                local _, commas = prefix:gsub(",", "")
                key = header[commas + 1]
            end
            flush()
            toks[#toks + 1] = { num = line:sub(i, e - 1), key = key }
            i = e
        else
            text[#text + 1] = line:sub(i, i)
            i = i + 1
        end
    end
    flush()
    return toks
end

local function csv_header(line)
    if line:match("^[%a_][%w_]*,[%a_][%w_,]*$") then
        local cols = {}
        for c in line:gmatch("[^,]+") do
            cols[#cols + 1] = c
        end
        return cols
    end
end

-- Compare one doc line with one real line; returns true, or false and why.
local function compare_line(doc, real, vary, header)
    local d, r = tokenize(doc, header), tokenize(real, header)
    for k = 1, math.max(#d, #r) do
        local a, b = d[k], r[k]
        if not a or not b then
            return false, "the lines differ in length"
        elseif a.text or b.text then
            if a.text ~= b.text then
                return false, ("text %q where the real output has %q"):format(
                    a.text or a.num or "|bar|", b.text or b.num or "|bar|")
            end
        elseif a.bar or b.bar then
            if a.bar ~= b.bar then
                return false, "a histogram bar of another width"
            end
        elseif a.num ~= b.num then
            local free = vary["*"] or (a.key and (vary[a.key] or vary[(a.key:gsub(" ", "_"))]))
                or timelike(a.key)
                or shape(a.num) == "address"
            local what = a.key and ("value of " .. a.key) or "number"
            if not free then
                return false, ("%s is %s, the real output has %s"):format(what, a.num, b.num)
            elseif shape(a.num) ~= shape(b.num) then
                return false, ("%s: %s is a %s, the real output has %s (a %s)"):format(
                    what, a.num, shape(a.num), b.num, shape(b.num))
            end
        end
    end
    return true
end

-- Compare the doc's output text with the real output; true, or false and a
-- report naming the first line that differs.
local function compare_output(doc_text, real_text, vary)
    local D, R = lines_of(doc_text), lines_of(real_text)
    local dh, rh = {}, {}
    for i, line in ipairs(D) do
        dh[i + 1] = csv_header(line) or (line ~= "..." and dh[i]) or nil
    end
    for i, line in ipairs(R) do
        rh[i + 1] = csv_header(line) or rh[i]
    end
    local worst = { di = 0, why = "" }
    local function fail(di, ri, why)
        if di > worst.di then
            worst = { di = di, ri = ri, why = why }
        end
        return false
    end
    local function match(di, ri)
        if di > #D then
            return ri > #R or fail(di, ri, "the real output has more lines: " .. tostring(R[ri]))
        end
        if D[di] == "..." then
            for k = ri, #R + 1 do
                if match(di + 1, k) then
                    return true
                end
            end
            return false
        end
        if ri > #R then
            return fail(di, ri, "the real output ends before this line")
        end
        local ok, why = compare_line(D[di], R[ri], vary, dh[di])
        if not ok then
            return fail(di, ri, why)
        end
        return match(di + 1, ri + 1)
    end
    if match(1, 1) then
        return true
    end
    return false, ("doc line %d: %s\n  doc:  %s\n  real: %s\nreal output:\n%s"):format(
        worst.di, worst.why, tostring(D[worst.di]), tostring(R[worst.ri]), table.concat(R, "\n"))
end

-- ---- formats ---------------------------------------------------------------------

local PLACEHOLDERS = {}
for w in ("ID SEQ NAME TEXT KIND LEVEL CAT KEY VALUE TYPE S K V LO HI BARS COUNT PERCENT"):gmatch("%S+") do
    PLACEHOLDERS[w] = true
end

-- Parse one template line into a token list: {lit = s}, {int = true},
-- {any = true}, {alt = {...}}, {opt = tokens}.
local function parse_template(t)
    local pos = 1
    local function seq(closing)
        local toks, lit = {}, {}
        local function flush()
            if #lit > 0 then
                toks[#toks + 1] = { lit = table.concat(lit) }
                lit = {}
            end
        end
        while pos <= #t do
            local c = t:sub(pos, pos)
            if c == closing then
                pos = pos + 1
                flush()
                return toks
            elseif c == " " and t:sub(pos + 1, pos + 1) == "[" then
                pos = pos + 2
                flush()
                local inner = seq("]")
                table.insert(inner, 1, { lit = " " })
                toks[#toks + 1] = { opt = inner }
            elseif c == "[" then
                pos = pos + 1
                flush()
                toks[#toks + 1] = { opt = seq("]") }
            else
                local prev = pos > 1 and t:sub(pos - 1, pos - 1) or ""
                local word, e = t:match("^([%w_]+)()", pos)
                if word and not prev:match("[%w_]") then
                    local alts = { word }
                    while t:sub(e, e) == "|" and t:match("^[%w_]+", e + 1) do
                        local w2, e2 = t:match("^([%w_]+)()", e + 1)
                        alts[#alts + 1] = w2
                        e = e2
                    end
                    flush()
                    if #alts > 1 then
                        toks[#toks + 1] = { alt = alts }
                    elseif word == "N" then
                        toks[#toks + 1] = { int = true }
                    elseif PLACEHOLDERS[word] then
                        toks[#toks + 1] = { any = true }
                    else
                        toks[#toks + 1] = { lit = word }
                    end
                    pos = e
                else
                    lit[#lit + 1] = c
                    pos = pos + 1
                end
            end
        end
        assert(closing == nil, "unclosed [ in format line: " .. t)
        flush()
        return toks
    end
    return seq(nil)
end

local function tmatch(toks, ti, s, si, k)
    if ti > #toks then
        return k(si)
    end
    local t = toks[ti]
    if t.lit then
        if s:sub(si, si + #t.lit - 1) == t.lit then
            return tmatch(toks, ti + 1, s, si + #t.lit, k)
        end
        return false
    elseif t.int then
        local e = s:match("^-?%d+()", si)
        return e ~= nil and tmatch(toks, ti + 1, s, e, k)
    elseif t.any then
        for e = si + 1, #s + 1 do
            if tmatch(toks, ti + 1, s, e, k) then
                return true
            end
        end
        return false
    elseif t.alt then
        for _, a in ipairs(t.alt) do
            if s:sub(si, si + #a - 1) == a and tmatch(toks, ti + 1, s, si + #a, k) then
                return true
            end
        end
        return false
    else -- opt
        return tmatch(t.opt, 1, s, si, function(e)
            return tmatch(toks, ti + 1, s, e, k)
        end) or tmatch(toks, ti + 1, s, si, k)
    end
end

local function squeeze(line)
    return (line:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

local function template_matches(template, line)
    local toks = parse_template(squeeze(template))
    local s = squeeze(line)
    return tmatch(toks, 1, s, 1, function(e)
        return e == #s + 1
    end)
end

-- Check 'text' against a format: a list of blocks, each a list of template
-- lines.  Lines `...` of the text are skipped.  True, or false and why.
local function check_format(blocks, text)
    local R = {}
    for _, line in ipairs(lines_of(text)) do
        if line ~= "..." then
            R[#R + 1] = line
        end
    end
    local ri = 1
    for _, block in ipairs(blocks) do
        if #block == 1 then
            local start = ri
            while ri <= #R and template_matches(block[1], R[ri]) do
                ri = ri + 1
            end
            if ri == start then
                return false, ("line %d does not match %q:\n  %s"):format(ri, block[1], tostring(R[ri]))
            end
        else
            for _, t in ipairs(block) do
                if ri > #R or not template_matches(t, R[ri]) then
                    return false, ("line %d does not match %q:\n  %s"):format(ri, t, tostring(R[ri]))
                end
                ri = ri + 1
            end
        end
    end
    if ri <= #R then
        return false, ("line %d is not in the format:\n  %s"):format(ri, R[ri])
    end
    return true
end

-- ---- running examples ----------------------------------------------------------

-- Split a Lisp example into source, expectation and expected output lines.
-- Returns src, kind ("value"|"error"), text, prints (list or nil); or raises.
local function parse_lisp_example(body)
    local lines = lines_of(body)
    local last = lines[#lines] or ""
    local kind, text
    local v = last:match("^;; => (.*)$")
    local e = last:match("^;; error: (.*)$")
    if v then
        kind, text = "value", v
    elseif e then
        kind, text = "error", e
    else
        error("the last line must be ';; => VALUE' or ';; error: TEXT', got: " .. last)
    end
    lines[#lines] = nil
    local prints
    for _, line in ipairs(lines) do
        if line:match("^;; => ") or line:match("^;; error: ") then
            error("only the last line may be a result line: " .. line)
        end
        local p = line:match("^;; prints: (.*)$")
        if p then
            prints = prints or {}
            prints[#prints + 1] = p
        end
    end
    return table.concat(lines, "\n") .. "\n", kind, (text:gsub("%s+$", "")), prints
end

local function lisp_string_literal(s)
    return '"' .. s:gsub('[\\"]', "\\%0") .. '"'
end

-- The Lisp expression that runs the file at 'path' as a Lisp example.  Its
-- value comes back in the message of `error`, which writes its arguments
-- after the first exactly as `print` does (vecs, maps and procedures too,
-- which write-to-string rejects in the default style); see unwrap.
local RESULT = "%%docs-result%%"
local function lisp_driver(path)
    return "(error \"" .. RESULT .. "\" (load " .. lisp_string_literal(path) .. "))"
end

-- ok, res of evaluating lisp_driver -> true, printed form; or false, message.
local function unwrap(ok, res)
    local msg = tostring(res)
    local pos = msg:match("^docs:%d+:%d+: ()")
    if not ok and pos and msg:sub(pos, pos + #RESULT) == RESULT .. " " then
        return true, msg:sub(pos + #RESULT + 1)
    end
    return false, res
end

-- Drop the chunk name 'path' from an error message of (load path).
local function strip_chunk(msg, path)
    if msg:sub(1, #path + 1) == path .. ":" then
        return msg:sub(#path + 2)
    end
    return msg
end

-- Evaluate a Lisp example in a fresh host: true, written form; or false,
-- message (without the chunk name).
local function eval_in_fresh_host(src)
    local lispbt = require("lispbt")
    local path = os.tmpname()
    write_file(path, src)
    local host = lispbt.new()
    local ok, res = unwrap(pcall(host.eval, host, lisp_driver(path), "docs"))
    host:close()
    os.remove(path)
    return ok, strip_chunk(tostring(res), path)
end

local function lua_interpreter()
    local i, exe = -1, nil
    while arg and arg[i] do
        exe = arg[i]
        i = i - 1
    end
    if exe and not exe:match("busted") then
        return exe
    end
    return "lua5.4"
end

-- Run an example ('kind' "lisp" or "lua") in a child interpreter.  Returns
-- ok, result (written form, or error message without the chunk name), and
-- the child's stdout.
local function run_in_child(kind, src)
    local srcpath, outpath, driverpath, errpath = os.tmpname(), os.tmpname(), os.tmpname(), os.tmpname()
    write_file(srcpath, src)
    local run
    if kind == "lisp" then
        run = string.format([[
local host = require("lispbt").new()
local ok, res = pcall(host.eval, host, %q, "docs")
host:close()
return ok, res]], lisp_driver(srcpath))
    else
        run = string.format([[
local f = assert(io.open(%q, "rb"))
local chunk, err = load(f:read("a"), "=example", "t", setmetatable({}, { __index = _G }))
f:close()
if not chunk then return false, err end
local ok, res = xpcall(chunk, debug.traceback)
collectgarbage()
return ok, res]], srcpath)
    end
    write_file(driverpath, string.format([[
package.path = %q
package.cpath = %q
local ok, res = (function() %s end)()
io.stdout:flush()
local f = assert(io.open(%q, "wb"))
f:write(ok and "ok\n" or "error\n", tostring(res))
f:close()
]], package.path, package.cpath, run, outpath))
    local p = assert(io.popen(string.format("%s %q 2>%q", lua_interpreter(), driverpath, errpath), "r"))
    local stdout = p:read("a")
    p:close()
    local result, stderr = read_file(outpath), read_file(errpath)
    for _, path in ipairs({ srcpath, outpath, driverpath, errpath }) do
        os.remove(path)
    end
    local status, res = result:match("^(%a+)\n(.*)$")
    assert(status, "child interpreter failed; stdout:\n" .. stdout .. "\nstderr:\n" .. stderr)
    local ok
    if kind == "lisp" then
        ok, res = unwrap(status == "ok", res)
    else
        ok = status == "ok"
    end
    return ok, strip_chunk(res, srcpath), stdout
end

-- Check a Lisp example's result; true, or false and why.
local function check_lisp_result(kind, text, ok, res)
    if kind == "value" then
        if not ok then
            return false, "expected value " .. text .. ", got error: " .. res
        end
        if res ~= text then
            return false, "expected value " .. text .. ", got " .. res
        end
    else
        if ok then
            return false, "expected the error '" .. text .. "', got value " .. res
        end
        if res ~= text and res:gsub("^%d+:%d+: ", "", 1) ~= text then
            return false, "expected the error '" .. text .. "', got: " .. res
        end
    end
    return true
end

-- Run a Lisp example; true, or false and why.  With 'capture', or when it
-- has ;; prints: lines, it runs in a child; returns stdout as a third value.
local function check_lisp_example(body, capture)
    local okparse, src, kind, text, prints = pcall(parse_lisp_example, body)
    if not okparse then
        return false, src
    end
    local ok, res, stdout
    if prints or capture then
        ok, res, stdout = run_in_child("lisp", src)
    else
        ok, res = eval_in_fresh_host(src)
    end
    local good, why = check_lisp_result(kind, text, ok, res)
    if not good then
        return false, why
    end
    if prints then
        local want = table.concat(prints, "\n")
        local got = stdout:gsub("\n$", "")
        if got ~= want then
            return false, "expected output:\n" .. want .. "\ngot:\n" .. got
        end
    end
    return true, nil, stdout
end

-- Run a Lua example; true, or false and why.  With 'capture' it runs in a
-- child and returns its stdout as a third value.
local function check_lua_example(body, name, capture)
    if capture then
        local ok, res, stdout = run_in_child("lua", body)
        if not ok then
            return false, res
        end
        return true, nil, stdout
    end
    local env = setmetatable({}, { __index = _G })
    local chunk, err = load(body, "=" .. name, "t", env)
    if not chunk then
        return false, err
    end
    local ok, rerr = xpcall(chunk, debug.traceback)
    if not ok then
        return false, tostring(rerr)
    end
    collectgarbage() -- close hosts the example left to the collector
    return true
end

-- ---- reading the docs --------------------------------------------------------------

-- Everything the docs hold: examples (with their outputs), illustrations
-- (outputs of code that is not run), formats (by name: a list of
-- definitions, one per file, each a list of blocks of template lines) and
-- problems (bare or misplaced blocks).
local function collect(files)
    local docs = { examples = {}, illustrations = {}, formats = {}, problems = {} }
    for _, path in ipairs(files) do
        local rel = path:sub(#ROOT + 2)
        local prev -- the last block that is not an output
        local defs = {} -- this file's formats by name
        for _, b in ipairs(extract_blocks(read_file(path))) do
            b.file, b.name = rel, rel .. ":" .. b.line
            if b.kind == "bad" then
                docs.problems[#docs.problems + 1] = b.name .. ": " .. b.why
            elseif b.kind == "bare" then
                docs.problems[#docs.problems + 1] = b.name
                    .. ": a fenced block without an info string (say output, format NAME, sh, text, ...)"
            elseif b.kind == "output" then
                if prev and (prev.kind == "lisp" or prev.kind == "lua") then
                    prev.outputs = prev.outputs or {}
                    prev.outputs[#prev.outputs + 1] = b
                    if b.format and #prev.outputs > 1 then
                        docs.problems[#docs.problems + 1] = b.name
                            .. ": only the single output block of an example may name a format"
                    end
                elseif b.format then
                    docs.illustrations[#docs.illustrations + 1] = b
                else
                    docs.problems[#docs.problems + 1] = b.name
                        .. ": an output block must follow an example, or name a format"
                end
            elseif b.kind == "format" then
                local def = defs[b.fmt]
                if not def then
                    def = { name = b.name, blocks = {} }
                    defs[b.fmt] = def
                    docs.formats[b.fmt] = docs.formats[b.fmt] or {}
                    table.insert(docs.formats[b.fmt], def)
                end
                def.blocks[#def.blocks + 1] = lines_of(b.body)
            end
            if b.kind ~= "output" then
                prev = b
            end
            if b.kind == "lisp" or b.kind == "lua" then
                docs.examples[#docs.examples + 1] = b
            end
        end
    end
    return docs
end

-- Check 'text' against every definition of format 'fmt'; true, or false and why.
local function check_against_format(docs, fmt, text, what)
    local defs = docs.formats[fmt]
    if not defs then
        return false, "no `format " .. fmt .. "` block anywhere in the docs"
    end
    for _, def in ipairs(defs) do
        local ok, why = check_format(def.blocks, text)
        if not ok then
            return false, ("%s does not follow `format %s` of %s: %s"):format(what, fmt, def.name, why)
        end
    end
    return true
end

-- Run one example and check its result and outputs; true, or false and why.
local function check_example(docs, b)
    local capture = b.outputs ~= nil
    local ok, why, stdout
    if b.kind == "lisp" then
        ok, why, stdout = check_lisp_example(b.body, capture)
    else
        ok, why, stdout = check_lua_example(b.body, b.name, capture)
    end
    if not ok or not capture then
        return ok, why
    end
    local doc, vary = {}, {}
    for _, o in ipairs(b.outputs) do
        doc[#doc + 1] = o.body
        for k in pairs(o.vary) do
            vary[k] = true
        end
    end
    ok, why = compare_output(table.concat(doc, "\n"), stdout, vary)
    if not ok then
        return false, "the output block(s) after it differ from what it printed: " .. why
    end
    local fmt = b.outputs[1].format
    if fmt then
        ok, why = check_against_format(docs, fmt, stdout, "the real output")
        if ok then
            ok, why = check_against_format(docs, fmt, doc[1], "the output block")
        end
        if not ok then
            return false, why
        end
    end
    return true
end

-- ---- the specs ---------------------------------------------------------------------

describe("docs_spec checker", function()
    -- The checker itself must reject wrong examples, or every doc test
    -- below would pass vacuously.
    it("accepts a right value and rejects a wrong one", function()
        assert.is_true(check_lisp_example("(+ 1 2)\n;; => 3"))
        assert.is_false(check_lisp_example("(+ 1 2)\n;; => 4"))
        assert.is_false(check_lisp_example("(car 1)\n;; => 1"))
    end)
    it("matches error messages exactly, with or without the position", function()
        assert.is_true(check_lisp_example("(car 1)\n;; error: car: expected a cons, got 1"))
        assert.is_true(check_lisp_example("(car 1)\n;; error: 1:1: car: expected a cons, got 1"))
        assert.is_false(check_lisp_example("(car 1)\n;; error: car: expected a cons"))
        assert.is_false(check_lisp_example("(car 1)\n;; error: cdr:"))
        assert.is_false(check_lisp_example("(car nil)\n;; error: car"))
    end)
    it("compares printed forms, not Lua values", function()
        assert.is_true(check_lisp_example("\"a\"\n;; => \"a\""))
        assert.is_true(check_lisp_example("(vec.make 2 0)\n;; => <vec:2>"))
        assert.is_true(check_lisp_example("(print-style 'lispbt) (vec.make 2 0)\n;; => #(0 0)"))
        assert.is_false(check_lisp_example("'a\n;; => \"a\""))
        assert.is_false(check_lisp_example("1.0\n;; => 1"))
    end)
    it("rejects a block without a result line", function()
        assert.is_false(check_lisp_example("(+ 1 2)"))
        assert.is_false(check_lisp_example("1\n;; => 1\n2\n;; => 2"))
    end)
    it("checks printed output", function()
        assert.is_true(check_lisp_example("(print \"hi\" 1)\n;; prints: \"hi\" 1\n;; => nil"))
        assert.is_false(check_lisp_example("(print \"hi\" 1)\n;; prints: hi 1\n;; => nil"))
    end)
    it("fails a Lua example that raises", function()
        assert.is_true(check_lua_example("assert(1 + 1 == 2)", "t"))
        assert.is_false(check_lua_example("assert(1 + 1 == 3)", "t"))
        assert.is_false(check_lua_example("this is not lua", "t"))
    end)
    it("captures what a Lua example prints in a child", function()
        local ok, _, out = check_lua_example('io.write("a=1\\n") print(require("lispbt")._VERSION)', "t", true)
        assert.is_true(ok)
        assert.are.equal('a=1\n' .. require("lispbt")._VERSION .. "\n", out)
    end)

    local real = "tick_count=4\ntick_last_ns=5158\nprofile_level=timing\nnode_count=6\n"
    it("output: accepts real output with other times", function()
        assert.is_true(compare_output("tick_count=4\ntick_last_ns=812\nprofile_level=timing\nnode_count=6", real, {}))
    end)
    it("output: rejects a renamed key, a missing or extra line, another count or name", function()
        assert.is_false(compare_output("tick_count=4\ntick_last_ns=1\nprofile_level=timing\nnodes=6", real, {}))
        assert.is_false(compare_output("tick_count=4\ntick_last_ns=1\nprofile_level=timing", real, {}))
        assert.is_false(compare_output(real .. "x=1", real, {}))
        assert.is_false(compare_output("tick_count=5\ntick_last_ns=1\nprofile_level=timing\nnode_count=6", real, {}))
        assert.is_false(compare_output("tick_count=4\ntick_last_ns=1\nprofile_level=counters\nnode_count=6", real, {}))
    end)
    it("output: vary= frees a count, but not its shape", function()
        local doc = "tick_count=9\ntick_last_ns=1\nprofile_level=timing\nnode_count=6"
        assert.is_true(compare_output(doc, real, { tick_count = true }))
        assert.is_true(compare_output(doc, real, { ["*"] = true }))
        assert.is_false(compare_output(doc:gsub("=9", "=9.5"), real, { tick_count = true }))
        assert.is_false(compare_output("tick_count=4\ntick_last_ns=1.5\nprofile_level=timing\nnode_count=6", real, {}))
    end)
    it("output: `...` skips lines; JSON keys, array elements and CSV columns count", function()
        assert.is_true(compare_output("tick_count=4\n...\nnode_count=6", real, {}))
        assert.is_false(compare_output("tick_count=4\n...\nnodes=6", real, {}))
        local json = '{"ts":12.5,"seq":1,"action":[0.5,0.25],"time_used_ms":0.1}'
        assert.is_true(compare_output('{"ts":99.25,"seq":1,"action":[0.5,0.25],"time_used_ms":0.7}', json, {}))
        assert.is_false(compare_output('{"ts":99.25,"sequence":1,"action":[0.5,0.25],"time_used_ms":0.7}', json, {}))
        assert.is_false(compare_output('{"ts":99.25,"seq":1,"action":[0.5,0.3],"time_used_ms":0.7}', json, {}))
        local csv = "tick,ts_ns,status\n3,2094,success"
        assert.is_true(compare_output("tick,ts_ns,status\n3,7,success", csv, {}))
        assert.is_false(compare_output("tick,ts_ns,status\n4,7,success", csv, {}))
        assert.is_false(compare_output("tick,ts,status\n3,7,success", csv, {}))
    end)
    it("output: histogram rows compare by shape", function()
        local row = "     941ns ..   1.25us |#####                                             |        29  29.0%"
        assert.is_true(compare_output("    1.25us ..   1.65us |###                                               |        18  18.0%",
            row, { ["*"] = true }))
        assert.is_false(compare_output("    1.25us ..   1.65us |###                                            |        18  18.0%",
            row, { ["*"] = true }))
    end)
    it("format: placeholders, alternatives, optional parts, repeated lines", function()
        local fmt = { { "tick_count=N", "profile_level=timing|counters", "nodes=N" },
                      { "node ID (NAME) success=N [errors=N]" } }
        local text = "tick_count=1\nprofile_level=timing\nnodes=2\nnode 0 (seq) success=1\nnode 1 (act x y) success=1 errors=0\n"
        assert.is_true(check_format(fmt, text))
        assert.is_false(check_format(fmt, text:gsub("nodes", "node_count")))
        assert.is_false(check_format(fmt, text:gsub("timing", "fast")))
        assert.is_false(check_format(fmt, text:gsub("success=1\n", "success=x\n", 1)))
        assert.is_false(check_format(fmt, "tick_count=1\nprofile_level=timing\nnodes=2\n"))
        assert.is_false(check_format(fmt, text .. "extra=1\n"))
    end)
    it("finds every kind of block", function()
        local docs = extract_blocks("```lua example\nx\n```\n\n```output vary=a,b format=f\ny\n```\n"
            .. "  ```format f\n  z=N\n  ```\n```\nbare\n```\n```sh\nls\n```\n")
        local kinds = {}
        for _, b in ipairs(docs) do
            kinds[#kinds + 1] = b.kind
        end
        assert.are.equal("lua output format bare code", table.concat(kinds, " "))
        assert.is_true(docs[2].vary.a and docs[2].vary.b and docs[2].format == "f")
        assert.are.equal("z=N", docs[3].body)
    end)
end)

local files = markdown_files(DOCS)
table.insert(files, 1, ROOT .. "/README.md")
local docs = collect(files)

describe("docs examples", function()
    it("exist", function()
        assert.is_true(#docs.examples > 0, "no `lisp example` or `lua example` blocks")
    end)

    it("every fenced block says what it is, and outputs follow what printed them", function()
        assert(#docs.problems == 0, table.concat(docs.problems, "\n"))
    end)

    for _, b in ipairs(docs.examples) do
        -- an example that shows collection or event counts cannot hold
        -- under `make test-gcstress`, which collects at every allocation
        local counts = (b.body or ""):find("heap", 1, true) or b.body:find("gc", 1, true)
            or b.body:find("events", 1, true) or b.body:find("profile", 1, true)
        it(b.kind .. " " .. b.name .. (counts and " #nostress" or ""), function()
            local ok, why = check_example(docs, b)
            assert(ok, b.name .. ": " .. tostring(why))
        end)
    end

    for _, o in ipairs(docs.illustrations) do
        it("output " .. o.name .. " follows format " .. o.format, function()
            local ok, why = check_against_format(docs, o.format, o.body, "the output block")
            assert(ok, o.name .. ": " .. tostring(why))
        end)
    end

    it("every format is checked against the real output of an example", function()
        local used = {}
        for _, b in ipairs(docs.examples) do
            if b.outputs and b.outputs[1].format then
                used[b.outputs[1].format] = true
            end
        end
        local unused = {}
        for fmt, defs in pairs(docs.formats) do
            if not used[fmt] then
                unused[#unused + 1] = fmt .. " (" .. defs[1].name .. ")"
            end
        end
        table.sort(unused)
        assert(#unused == 0, "formats no example output is checked against: " .. table.concat(unused, ", "))
    end)
end)

-- Every builtin of every builtin table has a reference entry.
describe("docs/reference", function()
    it("documents every builtin of the runtime tables (bt, planner, metrics, events)", function()
        local doc = read_file(DOCS .. "/reference/bt.md") .. read_file(DOCS .. "/reference/planner.md")
            .. read_file(DOCS .. "/reference/events.md")
        local missing = {}
        for _, file in ipairs({ "csrc/bt/bt_lib.c", "csrc/sched/sched_lib.c", "csrc/planner/planner_lib.c",
                                "csrc/obs/obs_lib.c", "csrc/obs/obs_events.c" }) do
            local src = read_file(ROOT .. "/" .. file)
            for entry in src:gmatch('\n%s*{"([^"]+)",%s*%-?%d+,') do
                -- a heading line (## or ###) naming it, possibly with aliases
                local found = false
                for line in doc:gmatch("\n(##[^\n]*)") do
                    if line:find("`" .. entry .. "`", 1, true) then
                        found = true
                        break
                    end
                end
                if not found then
                    missing[#missing + 1] = entry .. " (" .. file .. ")"
                end
            end
        end
        assert(#missing == 0, "undocumented builtins: " .. table.concat(missing, ", "))
    end)
end)

-- Every builtin of the general library has an entry in the Lisp reference.
describe("docs/reference/lisp.md", function()
    it("documents every builtin of csrc/lisp/lisp_lib_*.c", function()
        local doc = read_file(DOCS .. "/reference/lisp.md")
        local missing = {}
        for name in lfs.dir(ROOT .. "/csrc/lisp") do
            if name:match("^lisp_lib_.*%.c$") then
                local src = read_file(ROOT .. "/csrc/lisp/" .. name)
                for entry in src:gmatch('\n%s*{"([^"]+)",%s*%-?%d+,') do
                    if not doc:find("\n### `" .. entry .. "`\n", 1, true) then
                        missing[#missing + 1] = entry .. " (" .. name .. ")"
                    end
                end
            end
        end
        assert(#missing == 0, "undocumented builtins: " .. table.concat(missing, ", "))
    end)
end)
