-- spec/docs_spec.lua -- every example in docs/**/*.md runs and says what it
-- claims.
--
-- Fenced blocks with the info string `lisp example`:
--   Lisp source, ending in exactly one result line:
--     ;; => TEXT        the written form (write-to-string) of the value of the
--                       last form must equal TEXT
--     ;; error: TEXT    evaluating must raise an error whose message contains
--                       TEXT (plain substring)
--   Optional `;; prints: TEXT` lines (before the result line) give the exact
--   standard output, one line each.  Such blocks run in a child lua5.4 so the
--   output can be captured and compared.
--   Each block runs in a fresh host (lispbt.new()).  The source is written to a
--   temporary file and evaluated with `load`, so forms are read and run one at
--   a time exactly as host:eval does.
--
-- Fenced blocks with the info string `lua example`: a self-contained chunk,
-- run with load() in a fresh environment (a table that falls back to _G); it
-- must not raise (examples assert() their results).
--
-- Each block is one it(), named FILE:LINE of its opening fence.

local lfs = require("lfs")

local function script_dir()
    local src = debug.getinfo(1, "S").source
    src = src:sub(1, 1) == "@" and src:sub(2) or src
    return src:match("^(.*)/[^/]*$") or "."
end

local ROOT = script_dir() .. "/.."
local DOCS = ROOT .. "/docs"

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

-- Blocks of 'text': list of {kind = "lisp"|"lua", line = N, body = "..."}.
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
                cur.lines[#cur.lines + 1] = line
            end
        else
            local kind = line:match("^%s*```%s*(%a+)%s+example%s*$")
            if kind == "lisp" or kind == "lua" then
                cur = { kind = kind, line = lineno, lines = {} }
            end
        end
    end
    if cur then
        error("unterminated `" .. cur.kind .. " example` block at line " .. cur.line)
    end
    return blocks
end

-- Split a Lisp example into source, expectation and expected output lines.
-- Returns src, kind ("value"|"error"), text, prints (list or nil); or raises.
local function parse_lisp_example(body)
    local lines = {}
    for line in (body .. "\n"):gmatch("(.-)\n") do
        lines[#lines + 1] = line
    end
    while #lines > 0 and lines[#lines]:match("^%s*$") do
        lines[#lines] = nil
    end
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

-- ---- running Lisp examples ----------------------------------------------------

local function lisp_string_literal(s)
    return '"' .. s:gsub('[\\"]', "\\%0") .. '"'
end

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

-- Evaluate 'src' in a fresh host: returns true, written form; or false, message.
local function eval_in_fresh_host(src)
    local lispbt = require("lispbt")
    local path = os.tmpname()
    write_file(path, src)
    local host = lispbt.new()
    local ok, res = pcall(host.eval, host,
        "(write-to-string (load " .. lisp_string_literal(path) .. "))", "docs")
    host:close()
    os.remove(path)
    return ok, tostring(res)
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

-- Like eval_in_fresh_host, in a child interpreter; also returns its stdout.
local function eval_in_child(src)
    local srcpath, outpath, driverpath = os.tmpname(), os.tmpname(), os.tmpname()
    write_file(srcpath, src)
    write_file(driverpath, string.format([[
package.cpath = %q
local lispbt = require("lispbt")
local host = lispbt.new()
local ok, res = pcall(host.eval, host, %q, "docs")
host:close()
local f = assert(io.open(%q, "wb"))
f:write(ok and "ok\n" or "error\n", tostring(res))
f:close()
]], package.cpath, "(write-to-string (load " .. lisp_string_literal(srcpath) .. "))", outpath))
    local p = assert(io.popen(string.format("%s %q 2>&1", lua_interpreter(), driverpath), "r"))
    local stdout = p:read("a")
    p:close()
    local result = read_file(outpath)
    for _, path in ipairs({ srcpath, outpath, driverpath }) do
        os.remove(path)
    end
    local status, res = result:match("^(%a+)\n(.*)$")
    assert(status, "child interpreter failed; stdout was:\n" .. stdout)
    return status == "ok", res, stdout
end

-- Check one Lisp example body; returns true, or false and a reason.
local function check_lisp_example(body)
    local okparse, src, kind, text, prints = pcall(parse_lisp_example, body)
    if not okparse then
        return false, src
    end
    local ok, res, stdout
    if prints then
        ok, res, stdout = eval_in_child(src)
    else
        ok, res = eval_in_fresh_host(src)
    end
    if kind == "value" then
        if not ok then
            return false, "expected value " .. text .. ", got error: " .. res
        end
        if res ~= text then
            return false, "expected value " .. text .. ", got " .. res
        end
    else
        if ok then
            return false, "expected an error containing '" .. text .. "', got value " .. res
        end
        if not res:find(text, 1, true) then
            return false, "expected an error containing '" .. text .. "', got: " .. res
        end
    end
    if prints then
        local want = table.concat(prints, "\n")
        local got = stdout:gsub("\n$", "")
        if got ~= want then
            return false, "expected output:\n" .. want .. "\ngot:\n" .. got
        end
    end
    return true
end

-- ---- running Lua examples ------------------------------------------------------

local function check_lua_example(body, name)
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

-- ---- the specs ---------------------------------------------------------------------

describe("docs_spec checker", function()
    -- The checker itself must reject wrong examples, or every doc test
    -- below would pass vacuously.
    it("accepts a right value and rejects a wrong one", function()
        assert.is_true(check_lisp_example("(+ 1 2)\n;; => 3"))
        assert.is_false(check_lisp_example("(+ 1 2)\n;; => 4"))
        assert.is_false(check_lisp_example("(car 1)\n;; => 1"))
    end)
    it("matches error substrings", function()
        assert.is_true(check_lisp_example("(car 1)\n;; error: car: expected a list"))
        assert.is_false(check_lisp_example("(car 1)\n;; error: cdr:"))
        assert.is_false(check_lisp_example("(car nil)\n;; error: car"))
    end)
    it("compares written forms, not Lua values", function()
        assert.is_true(check_lisp_example("\"a\"\n;; => \"a\""))
        assert.is_false(check_lisp_example("'a\n;; => \"a\""))
        assert.is_false(check_lisp_example("1.0\n;; => 1"))
    end)
    it("rejects a block without a result line", function()
        assert.is_false(check_lisp_example("(+ 1 2)"))
        assert.is_false(check_lisp_example("1\n;; => 1\n2\n;; => 2"))
    end)
    it("checks printed output", function()
        assert.is_true(check_lisp_example("(print \"hi\" 1)\n;; prints: hi 1\n;; => nil"))
        assert.is_false(check_lisp_example("(print \"hi\" 1)\n;; prints: hi 2\n;; => nil"))
    end)
    it("fails a Lua example that raises", function()
        assert.is_true(check_lua_example("assert(1 + 1 == 2)", "t"))
        assert.is_false(check_lua_example("assert(1 + 1 == 3)", "t"))
        assert.is_false(check_lua_example("this is not lua", "t"))
    end)
end)

local files = markdown_files(DOCS)

describe("docs examples", function()
    it("exist", function()
        local n = 0
        for _, path in ipairs(files) do
            n = n + #extract_blocks(read_file(path))
        end
        assert.is_true(n > 0, "no `lisp example` or `lua example` blocks under docs/")
    end)

    for _, path in ipairs(files) do
        local rel = path:sub(#ROOT + 2)
        for _, block in ipairs(extract_blocks(read_file(path))) do
            local name = rel .. ":" .. block.line
            it(block.kind .. " " .. name, function()
                local ok, why
                if block.kind == "lisp" then
                    ok, why = check_lisp_example(block.body)
                else
                    ok, why = check_lua_example(block.body, name)
                end
                assert(ok, name .. ": " .. tostring(why))
            end)
        end
    end
end)

-- Every builtin of every builtin table has a reference entry.
describe("docs/reference", function()
    it("documents every builtin of the runtime tables (bt, planner, metrics)", function()
        local doc = read_file(DOCS .. "/reference/bt.md") .. read_file(DOCS .. "/reference/planner.md")
        local missing = {}
        for _, file in ipairs({ "csrc/bt/lib_bt.c", "csrc/planner/lib_planner.c",
                                "csrc/lib_metrics.c" }) do
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
    it("documents every builtin of csrc/lisp/lib_*.c", function()
        local doc = read_file(DOCS .. "/reference/lisp.md")
        local missing = {}
        for name in lfs.dir(ROOT .. "/csrc/lisp") do
            if name:match("^lib_.*%.c$") then
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
