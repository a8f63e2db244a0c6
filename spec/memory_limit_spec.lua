-- spec/memory_limit_spec.lua -- heap_limit bounds all the memory a host
-- allocates (docs/reference/heap.md, docs/architecture.md §5): every ring,
-- buffer, tree, instance, blackboard, planner arena, job record and text
-- buffer a script can grow.  Each case tries to make one thing huge on a
-- host with a 1 MiB limit and expects a clean "FUNCTION: out of memory"
-- (status ERRMEM), a host that still evaluates (+ 1 2), and a process whose
-- resident memory grew by less than 200 MB (memory, never time).
local lispbt = require("lispbt")
local T = assert(lispbt.T, "spec/memory_limit_spec.lua needs a LISPBT_TESTS build (lispbt.T)")

local LIMIT = 1024 * 1024
local RSS_SLACK = 200 * 1000 * 1000

-- Resident set size of this process in bytes (Linux /proc).
local function rss()
  local f = assert(io.open("/proc/self/status", "r"), "no /proc/self/status")
  local text = f:read("a")
  f:close()
  local kb = assert(text:match("VmRSS:%s+(%d+)%s+kB"), "no VmRSS line")
  return tonumber(kb) * 1024
end

-- The function an out-of-memory message names, or nil if it names none.
local function oomname(err)
  return tostring(err):match("([%w%._%->]+): out of memory$")
end

-- Assert that 'err' is a named out-of-memory error; when 'names' is given,
-- the name must be one of them.
local function assert_oom(err, names)
  local name = oomname(err)
  assert.is_not_nil(name, "not a named out-of-memory error: " .. tostring(err))
  if names then
    local found = false
    for _, n in ipairs(names) do
      found = found or n == name
    end
    assert.is_true(found, "unexpected function in: " .. tostring(err))
  end
  return name
end

-- The host stays usable and within its budget after the error.
local function assert_healthy(h)
  assert.are.equal(3, h:eval("(+ 1 2)"))
  local s = h:heap()
  assert.is_true(s.charged_bytes <= LIMIT, "charged " .. s.charged_bytes)
  assert.are.equal(0, T.verify(h))
end

local function limited(opts)
  opts = opts or {}
  opts.heap_limit = LIMIT
  opts.workers = opts.workers or 1
  return lispbt.new(opts)
end

local function evalerr(h, src)
  local ok, err = pcall(h.eval, h, src)
  assert.is_false(ok, "expected an error from: " .. src)
  return err
end

describe("heap_limit covers all host memory", function()
  local rss0
  setup(function()
    collectgarbage()
    rss0 = rss()
  end)
  after_each(function()
    collectgarbage()
    assert.is_true(rss() - rss0 < RSS_SLACK, "RSS grew by " .. (rss() - rss0) .. " bytes")
  end)

  it("trace rings: a huge trace_capacity fails bt.new-instance", function()
    local h <close> = limited{ trace_capacity = 1 << 24 }
    h:eval("(define d (bt.compile '(seq (act always-success))))")
    assert_oom(evalerr(h, "(bt.new-instance d)"), { "bt.new-instance" })
    assert.are.equal("errmem", (T.evalstatus(h, "(bt.new-instance d)")))
    assert_oom(select(2, pcall(function() return h:compile("(seq (act always-success))"):instance() end)))
    assert_healthy(h)
  end)

  it("series buffers: bt.series.enable", function()
    local h <close> = limited()
    h:eval("(define i (bt.new-instance (bt.compile '(seq (act always-success)))))")
    assert.are.equal("bt.series.enable: out of memory",
      evalerr(h, "(bt.series.enable i 16777216)"):match("[^ ]+ out of memory$"))
    assert.are.equal("errmem", (T.evalstatus(h, "(bt.series.enable i 16777216)")))
    h:eval("(bt.series.enable i 100)") -- a small one still fits
    assert.is_true(h:eval("(eq? (bt.tick i) 'success)"))
    assert_healthy(h)
  end)

  it("blackboards: many keys and large values", function()
    local h <close> = limited()
    h:eval("(define i (bt.new-instance (bt.compile '(seq (act always-success)))))")
    assert_oom(evalerr(h, [[
      (let loop ((k 0))
        (bt.bb-put i (string->symbol (string-append "key" (number->string k))) k)
        (loop (+ k 1)))]]))
    h:eval("(bt.reset i)")
    assert_oom(evalerr(h, [[
      (let loop ((k 0))
        (bt.bb-put i (string-append "v" (number->string k)) (vec.make 20000 k))
        (loop (+ k 1)))]]))
    assert_healthy(h)
  end)

  it("instances: many of them", function()
    local h <close> = limited{ trace_capacity = 64 }
    h:eval("(define d (bt.compile '(seq (act always-success) (act always-success))))")
    h:eval("(define keep nil)")
    assert_oom(evalerr(h, "(let loop () (set! keep (cons (bt.new-instance d) keep)) (loop))"))
    h:eval("(set! keep nil)")
    assert.is_not_nil(h:eval("(bt.new-instance d)")) -- room again once they are garbage
    assert_healthy(h)
  end)

  it("trees: a huge tree fails to read or compile", function()
    local h <close> = limited()
    local src = "(seq " .. ("(act always-success) "):rep(100000) .. ")"
    local ok, err = pcall(h.compile, h, src)
    assert.is_false(ok)
    assert_oom(err)
    -- built in Lisp: the list fits, the compiled tree does not
    assert_oom(evalerr(h, [[
      (define (acts n acc) (if (= n 0) acc (acts (- n 1) (cons '(act always-success) acc))))
      (bt.compile (cons 'seq (acts 20000 nil)))]]))
    assert_healthy(h)
  end)

  it("planner: a large search stays within the limit", function()
    local h <close> = limited()
    local ok, r = pcall(h.planner.mcts, { state = { 0.0 }, iters_max = 2000000, budget_ms = 300, seed = 1 })
    if ok then
      assert.is_true(r.iterations == nil or r.iterations >= 0)
    else
      assert_oom(r, { "planner.mcts" })
    end
    local s = h:heap()
    assert.is_true(s.charged_bytes <= LIMIT)
    assert_healthy(h)
  end)

  it("scheduler: many jobs", function()
    local h <close> = limited{ trace_capacity = 16 }
    h:eval("(define d (bt.compile '(seq (act async-sleep-ms 100000))))")
    h:eval("(define keep nil)")
    local err = evalerr(h, [[
      (let loop ()
        (define i (bt.new-instance d))
        (set! keep (cons i keep))
        (bt.tick i)
        (loop))]])
    assert_oom(err)
    h:eval("(set! keep nil)")
    assert_healthy(h)
  end)

  it("strings: doubling a string", function()
    local h <close> = limited()
    h:eval('(define s "0123456789abcdef")')
    assert_oom(evalerr(h, "(let loop () (set! s (string-append s s)) (loop))"), { "string-append" })
    assert_healthy(h)
  end)

  it("printing: a small structure with a huge written form", function()
    local h <close> = limited()
    h:eval('(define s "0123456789abcdef") (let loop ((k 0)) (if (< k 12) (begin (set! s (string-append s s)) (loop (+ k 1)))))')
    -- 5000 references to one 64 KiB string ('nil': define returns the
    -- value, which must not be converted to a Lua table here)
    h:eval("(define v (vec.make 5000 s)) nil")
    -- the readable style writes every element (the default prints <vec:5000>)
    h:eval("(print-style 'lispbt)")
    assert_oom(evalerr(h, "(write-to-string v)"), { "write-to-string" })
    assert_oom(evalerr(h, "(print v)"), { "print" })
    assert_oom(evalerr(h, "(write v)"), { "write" })
    assert.are.equal("errmem", (T.evalstatus(h, "(write-to-string v)")))
    assert_healthy(h)
  end)

  it("the log ring and the trace ring stay fixed however much is written", function()
    local h <close> = limited()
    h:eval("(define i (bt.new-instance (bt.compile '(seq (act no-such-action)))))")
    h:eval("(bt.set-trace-enabled i #t)")
    local before = h:heap().charged_bytes
    h:eval("(let loop ((k 0)) (if (< k 3000) (begin (bt.tick i) (loop (+ k 1)))))")
    h:gc()
    assert.is_true(h:heap().charged_bytes - before < 64 * 1024)
    assert_healthy(h)
  end)

  it("Lua values converted into the host", function()
    local h <close> = limited()
    local big = {}
    for k = 1, 200000 do big[k] = k end
    local ok, err = pcall(h.set, h, "big", big)
    assert.is_false(ok)
    assert_oom(err)
    assert_healthy(h)
  end)

  it("the counters report the charged bytes", function()
    local h <close> = limited()
    local a = h:heap()
    assert.are.equal(LIMIT, a.heap_limit)
    assert.is_true(a.charged_bytes >= 0 and a.charged_bytes <= LIMIT)
    h:eval("(define i (bt.new-instance (bt.compile '(seq (act always-success)))))")
    h:eval("(bt.series.enable i 1000)")
    local b = h:heap()
    assert.is_true(b.charged_bytes > a.charged_bytes)
    assert.is_true(b.c_heap_bytes - a.c_heap_bytes == b.charged_bytes - a.charged_bytes)
    local refused = b.refused_allocations
    evalerr(h, "(bt.series.enable i 16777216)")
    assert.is_true(h:heap().refused_allocations > refused)
    local text = h.metrics.prometheus()
    assert.truthy(text:find("lispbt_charged_bytes " , 1, true), text)
    assert.truthy(text:find("lispbt_refused_allocations_total ", 1, true))
    -- an unlimited host charges too (from lispbt.new), but never refuses
    local u <close> = lispbt.new{ workers = 1 }
    u:eval("(define v (vec.make 100000 0)) nil")
    assert.is_true(u:heap().charged_bytes >= 100000 * 16)
    assert.are.equal(0, u:heap().refused_allocations)
  end)
end)

describe("allocation failures are ERRMEM (fuzz finding oom-errrun-new-instance)", function()
  -- Fail the n-th next allocation (and every later one) at each point of
  -- one builtin call; an error must always be ERRMEM and name the builtin.
  local cases = {
    { "(bt.new-instance d)", "bt.new-instance" },
    { "(bt.bb-put i (string->symbol \"fresh-key\") 1)", "bt.bb-put" },
    { "(bt.series.enable i 5000)", "bt.series.enable" },
    { "(bt.save-dsl d \"/tmp/lispbt-memory-limit-spec.dsl\")", "bt.save-dsl" },
  }
  for _, c in ipairs(cases) do
    it(c[2], function()
      local seen = 0
      for n = 1, 12 do
        local h <close> = lispbt.new{ workers = 1 }
        h:eval("(define d (bt.compile '(seq (act always-success)))) (define i (bt.new-instance d))")
        T.allocfail(h, n)
        local st, msg = T.evalstatus(h, c[1])
        T.allocfail(h, 0)
        assert.is_true(st == "ok" or st == "errmem", st .. ": " .. msg)
        if st == "errmem" then
          seen = seen + 1
          assert.truthy(msg:find(": out of memory$"), msg)
          assert.is_not_nil(oomname(msg), msg)
        end
        assert.are.equal(0, T.verify(h))
        assert.are.equal(3, h:eval("(+ 1 2)"))
      end
      assert.is_true(seen > 0, "no injected failure surfaced")
    end)
  end
  os.remove("/tmp/lispbt-memory-limit-spec.dsl")
end)
