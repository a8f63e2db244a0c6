--[[
bench/refbt.lua -- the reference pure-Lua behaviour tree for bench/bt_bench.lua.

The fastest plain-Lua design we know: every node is compiled once to a Lua
closure that returns a status code (1 success, 2 failure, 3 running, the
codes lispbt uses); a composite keeps its children's closures in an upvalue
array and loops over them; a leaf is a closure.  No profiling, no tracing,
no preemption bookkeeping: this is the floor a Lua user gets by writing the
tree by hand.

  local refbt = require("refbt")
  local reg = refbt.registry()               -- always-true, always-success, ...
  reg.act["lua-noop"] = refbt.lua_leaf(function(ctx) return true end)
  local tree = refbt.compile("(seq (cond always-true) (act always-success))", reg)
  local inst = refbt.instance(tree)
  inst.tick()        --> 1
  inst.tick{x = 1}   -- input table written to the blackboard first

DSL subset with lispbt's semantics (SPEC §5.2): seq, sel, mem-seq, mem-sel,
invert, succeed, fail, running, (cond NAME), (act NAME).  Leaf arguments are
not supported (the bench trees have none).
]]

local SUCCESS, FAILURE, RUNNING = 1, 2, 3
local M = {SUCCESS = SUCCESS, FAILURE = FAILURE, RUNNING = RUNNING}

-- ---------------------------------------------------------------------------
-- reader: a minimal s-expression parser (symbols and lists only)

local function parse(src)
    local pos = 1
    local function skip()
        while true do
            local s, e = src:find("^[%s]+", pos)
            if s then
                pos = e + 1
            elseif src:sub(pos, pos) == ";" then
                local nl = src:find("\n", pos, true)
                pos = nl and nl + 1 or #src + 1
            else
                return
            end
        end
    end
    local function read()
        skip()
        local c = src:sub(pos, pos)
        if c == "(" then
            pos = pos + 1
            local list = {}
            while true do
                skip()
                local d = src:sub(pos, pos)
                if d == ")" then
                    pos = pos + 1
                    return list
                elseif d == "" then
                    error("refbt: unbalanced parentheses")
                end
                list[#list + 1] = read()
            end
        elseif c == "" or c == ")" then
            error("refbt: unexpected " .. (c == "" and "end of input" or "')'"))
        end
        local s, e = src:find("^[^%s()]+", pos)
        pos = e + 1
        return src:sub(s, e)
    end
    local form = read()
    skip()
    if pos <= #src then
        error("refbt: expected exactly one form")
    end
    return form
end
M.parse = parse

-- ---------------------------------------------------------------------------
-- leaves

local function always(st)
    return function()
        return st
    end
end

--- Wrap a Lua callback fn(ctx) -> true/false/"success"/"failure"/"running"
--- as a leaf closure, with the conversion lispbt's calllua does.
function M.lua_leaf(fn)
    return function(ctx)
        local r = fn(ctx)
        if r == true then
            return SUCCESS
        elseif r == "success" then
            return SUCCESS
        elseif r == "running" then
            return RUNNING
        end
        return FAILURE
    end
end

--- A registry with the native-equivalent built-in leaves.
function M.registry()
    return {
        cond = {["always-true"] = always(SUCCESS), ["always-false"] = always(FAILURE)},
        act = {["always-success"] = always(SUCCESS), ["always-fail"] = always(FAILURE)},
    }
end

-- ---------------------------------------------------------------------------
-- composites: one closure each, children in an upvalue array

local function seq(kids)
    local n = #kids
    if n == 1 then
        return kids[1]
    end
    return function(ctx)
        for i = 1, n do
            local st = kids[i](ctx)
            if st ~= SUCCESS then
                return st
            end
        end
        return SUCCESS
    end
end

local function sel(kids)
    local n = #kids
    if n == 1 then
        return kids[1]
    end
    return function(ctx)
        for i = 1, n do
            local st = kids[i](ctx)
            if st ~= FAILURE then
                return st
            end
        end
        return FAILURE
    end
end

local function memcomp(kids, cont)
    local n, idx = #kids, 1 -- idx is per tree, so each instance compiles its own
    return function(ctx)
        for i = idx, n do
            local st = kids[i](ctx)
            if st ~= cont then -- a failed mem-seq resumes at the failed child
                idx = (st == RUNNING or (st == FAILURE and cont == SUCCESS)) and i or 1
                return st
            end
        end
        idx = 1
        return cont
    end
end

local function invert(kid)
    return function(ctx)
        local st = kid(ctx)
        if st == SUCCESS then
            return FAILURE
        elseif st == FAILURE then
            return SUCCESS
        end
        return st
    end
end

local function build(form, reg)
    if type(form) ~= "table" or type(form[1]) ~= "string" then
        error("refbt: expected a node form")
    end
    local op = form[1]
    if op == "cond" or op == "act" then
        local leaf = reg[op][form[2]]
        if not leaf then
            error("refbt: unknown " .. op .. " '" .. tostring(form[2]) .. "'")
        end
        return leaf
    elseif op == "succeed" then
        return always(SUCCESS)
    elseif op == "fail" then
        return always(FAILURE)
    elseif op == "running" then
        return always(RUNNING)
    end
    local kids = {}
    for i = 2, #form do
        kids[i - 1] = build(form[i], reg)
    end
    if op == "seq" then
        return seq(kids)
    elseif op == "sel" then
        return sel(kids)
    elseif op == "mem-seq" then
        return memcomp(kids, SUCCESS)
    elseif op == "mem-sel" then
        return memcomp(kids, FAILURE)
    elseif op == "invert" then
        return invert(kids[1])
    end
    error("refbt: unknown node '" .. op .. "'")
end

--- Compile DSL text to a tree: {src =, reg =, root = closure}.  Trees with
--- mem-* nodes keep state in the closures: make one tree per instance.
function M.compile(src, reg)
    reg = reg or M.registry()
    return {src = src, reg = reg, root = build(parse(src), reg)}
end

--- Count the nodes of a DSL text (for ns/node).
function M.count_nodes(src)
    local function count(f)
        local n = 1
        if f[1] ~= "cond" and f[1] ~= "act" then
            for i = 2, #f do
                n = n + count(f[i])
            end
        end
        return n
    end
    return count(parse(src))
end

--- An instance: inst.tick([input]) -> status code; inst.bb is the
--- blackboard, inst.ctx the context leaves receive.
function M.instance(tree)
    local root = tree.root
    local bb = {}
    local ctx = {bb = bb, tick = 0}
    local inst = {bb = bb, ctx = ctx}
    function inst.tick(input)
        if input then
            for k, v in next, input do
                bb[k] = v
            end
        end
        ctx.tick = ctx.tick + 1
        return root(ctx)
    end
    return inst
end

return M
