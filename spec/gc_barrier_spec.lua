-- spec/gc_barrier_spec.lua -- the incremental collector's write barrier
-- (csrc/lisp/lisp_gc.c, lisp_obj.h lispC_barrier).  Each case keeps an old
-- object alive, then, while a cycle marks in small steps (T.gcstep), stores
-- freshly made objects into it and drops every other reference to them.
-- After each store T.verify checks the tri-colour invariant (no traversed
-- object points at an unmarked one: a store that misses its barrier fails
-- here at once, whatever happens to be freed later); after the cycles the
-- stored values must still read back whole.  The C side (lisp_setcar /
-- lisp_setcdr, which no builtin reaches) is in spec/c/test_lisp.c.
local lispbt = require("lispbt")
local T = assert(lispbt.T, "spec/gc_barrier_spec.lua needs a LISPBT_TESTS build (lispbt.T)")

-- Run 'mutate(i)' 'n' times between small collector steps; verify the heap
-- after every step and every store.  Returns how many stores ran while the
-- collector was marking (the spec needs some, or it tested nothing).
local function interleave(h, n, work, mutate)
  local marking = 0
  for i = 1, n do
    local _, state = T.gcstep(h, work)
    assert.are.equal(0, T.verify(h), "after step " .. i)
    if state == "mark" then
      marking = marking + 1
    end
    mutate(i)
    assert.are.equal(0, T.verify(h), "after store " .. i)
  end
  return marking
end

local function newhost()
  -- 'manual': only the steps of this spec (and none of the threshold) run
  local h = lispbt.new({ workers = 0 })
  h:eval("(gc.set-policy! 'manual)")
  h:eval("(define (fresh i) (list i (vec.make 2 i) (map.make) (string-append \"s\" (number->string i))))")
  return h
end

-- The value a fresh i reads back as (see 'fresh').
local function checkfresh(h, expr, i)
  assert.are.equal(i, h:eval("(car " .. expr .. ")"))
  assert.are.equal(i, h:eval("(vec.get (car (cdr " .. expr .. ")) 1)"))
  assert.are.equal("s" .. i, h:eval("(car (cdr (cdr (cdr " .. expr .. "))))"))
end

local N, WORK = 300, 40

describe("gc write barrier", function()
  it("vec.set! and vec.push! into a traversed vec", function()
    local h <close> = newhost()
    h:eval("(define v (vec.make 8 0)) (define w (vec.make 0))")
    local m = interleave(h, N, WORK, function(i)
      h:eval(string.format("(vec.set! v %d (fresh %d)) (vec.push! w (fresh %d))", i % 8, i, i))
    end)
    assert.is_true(m > 0)
    h:gc()
    assert.are.equal(0, T.verify(h))
    for i = N - 7, N do
      checkfresh(h, string.format("(vec.get v %d)", i % 8), i)
    end
    for i = 1, N, 37 do
      checkfresh(h, string.format("(vec.get w %d)", i - 1), i)
    end
  end)

  it("a long vec traversed in chunks, stored into on both sides of the cursor", function()
    local h <close> = newhost()
    h:eval("(define big (vec.make 20000 nil))")
    local m = interleave(h, N, 2000, function(i)
      h:eval(string.format("(vec.set! big %d (fresh %d)) (vec.set! big %d (fresh %d))",
        i, i, 19999 - i, i))
    end)
    assert.is_true(m > 0)
    h:gc()
    for i = 1, N, 29 do
      checkfresh(h, string.format("(vec.get big %d)", i), i)
      checkfresh(h, string.format("(vec.get big %d)", 19999 - i), i)
    end
  end)

  it("vec.make's fill after its growth ran a step", function()
    local h <close> = newhost()
    h:eval("(define keep (vec.make 0))")
    local m = interleave(h, N, WORK, function(i)
      h:eval(string.format("(vec.push! keep (vec.make 3 (fresh %d)))", i))
    end)
    assert.is_true(m > 0)
    h:gc()
    checkfresh(h, "(vec.get (vec.get keep 5) 2)", 6)
  end)

  it("map.set! of new keys and values into a traversed map", function()
    local h <close> = newhost()
    h:eval("(define m (map.make))")
    local m = interleave(h, N, WORK, function(i)
      h:eval(string.format("(map.set! m (string-append \"k\" (number->string %d)) (fresh %d))", i, i))
      h:eval(string.format("(map.set! m 'same (fresh %d))", i))
    end)
    assert.is_true(m > 0)
    h:gc()
    assert.are.equal(0, T.verify(h))
    for i = 1, N, 17 do
      checkfresh(h, string.format("(map.get m \"k%d\")", i), i)
    end
    checkfresh(h, "(map.get m 'same)", N)
    assert.are.equal(N + 1, h:eval("(map.count m)"))
  end)

  it("pq.push! into a traversed queue, with sifts moving entries", function()
    local h <close> = newhost()
    h:eval("(define q (pq.make))")
    local m = interleave(h, N, WORK, function(i)
      h:eval(string.format("(pq.push! q %d (fresh %d))", (i * 7919) % 101, i))
      if i % 3 == 0 then
        h:eval("(pq.pop! q)")
      end
    end)
    assert.is_true(m > 0)
    h:gc()
    local n = h:eval("(pq.len q)")
    assert.are.equal(N - N // 3, n)
    for _ = 1, n do
      local i = h:eval("(car (car (cdr (pq.pop! q))))")
      assert.are.equal("integer", math.type(i))
    end
  end)

  it("set! and define of captured variables (env slots)", function()
    local h <close> = newhost()
    h:eval([[
      (define cell
        (let ((x nil))
          (lambda (op v) (if (eq? op 'set) (set! x v) x))))
      (define (inner v) (define y v) (lambda () y))
      (define keep (vec.make 0))]])
    local m = interleave(h, N, WORK, function(i)
      h:eval(string.format("(cell 'set (fresh %d))", i))
      h:eval(string.format("(vec.push! keep (inner (fresh %d)))", i))
    end)
    assert.is_true(m > 0)
    h:gc()
    checkfresh(h, "(cell 'get nil)", N)
    checkfresh(h, "((vec.get keep 41))", 42)
  end)

  it("define and set! of globals, and closures stored anywhere", function()
    local h <close> = newhost()
    h:eval("(define g nil) (define fs (vec.make 0))")
    local m = interleave(h, N, WORK, function(i)
      h:eval(string.format("(set! g (fresh %d)) (define g2 (fresh %d))", i, i))
      h:eval(string.format("(vec.push! fs (let ((v (fresh %d))) (lambda () v)))", i))
    end)
    assert.is_true(m > 0)
    h:gc()
    checkfresh(h, "g", N)
    checkfresh(h, "g2", N)
    checkfresh(h, "((vec.get fs 99))", 100)
  end)

  it("globals bound for the first time while marking, from Lisp and from Lua", function()
    -- the end of marking looks at no symbol: a symbol first bound after the
    -- cycle's start must be marked by the store's barrier, or it is swept
    -- bound (and its value with it)
    local h <close> = newhost()
    local m = interleave(h, N, WORK, function(i)
      h:eval(string.format("(define new-g%d (fresh %d))", i, i))
      h:set("new-l" .. i, { i, { i } })
    end)
    assert.is_true(m > 0)
    repeat until T.gcstep(h, WORK) -- end the cycle in steps: its sweep frees what it lost
    assert.are.equal(0, T.verify(h))
    for i = 1, N, 13 do
      checkfresh(h, "new-g" .. i, i)
      assert.are.same({ i, { i } }, h:get("new-l" .. i))
    end
  end)

  it("a big map traversed in chunks, rehashed while it is", function()
    -- 6100 entries in 8192 slots (two chunks); each store deletes a key and
    -- adds one, so a rehash (every entry moves) comes every few stores and
    -- some land between a map's two chunks
    local h <close> = newhost()
    h:eval([[
      (define bigm (map.make))
      (let loop ((i 0)) (if (< i 6100) (begin (map.set! bigm i (list i)) (loop (+ i 1))) #t))
      (define (churn-map i)
        (let loop ((j 0))
          (if (< j 20)
              (let ((k (+ (* i 20) j)))
                (map.del! bigm k)
                (map.set! bigm (+ k 6100) (list (+ k 6100)))
                (loop (+ j 1)))
              #t)))]])
    local m = interleave(h, N, 2000, function(i)
      h:eval(string.format("(churn-map %d)", i - 1))
    end)
    assert.is_true(m > 0)
    repeat until T.gcstep(h, 2000)
    assert.are.equal(0, T.verify(h))
    assert.are.equal(6100, h:eval("(map.count bigm)"))
    -- every value still reads back as the list of its key
    assert.is_true(h:eval([[
      (let loop ((k (* 20 ]] .. N .. [[)) (n 0))
        (if (= n 6100) #t
            (if (= (car (map.get bigm k)) k) (loop (+ k 1) (+ n 1)) k)))]]))
  end)

  it("a big priority queue traversed in chunks, popped while it is", function()
    -- a pop moves the last entry to the root and sifts it down, past the
    -- collector's cursor in a queue of two chunks
    local h <close> = newhost()
    h:eval([[
      (define bigq (pq.make))
      (let loop ((i 0)) (if (< i 6000) (begin (pq.push! bigq i (list i)) (loop (+ i 1))) #t))
      (define (churn-pq i)
        (let loop ((j 0))
          (if (< j 10)
              (begin (pq.pop! bigq) (pq.push! bigq (+ 6000 (* i 10) j) (list (+ 6000 (* i 10) j)))
                     (loop (+ j 1)))
              #t)))]])
    local m = interleave(h, N, 2000, function(i)
      h:eval(string.format("(churn-pq %d)", i - 1))
    end)
    assert.is_true(m > 0)
    repeat until T.gcstep(h, 2000)
    assert.are.equal(0, T.verify(h))
    assert.are.equal(6000, h:eval("(pq.len bigq)"))
    assert.is_true(h:eval([[
      (let loop ((n 0))
        (if (= n 6000) #t
            (let ((e (pq.pop! bigq)))
              (if (= (car e) (car (car (cdr e)))) (loop (+ n 1)) n))))]]))
  end)

  it("code compiled while marking keeps its quoted constants", function()
    local h <close> = newhost()
    h:eval("(define fns (vec.make 0))")
    local m = interleave(h, N, WORK, function(i)
      h:eval(string.format("(vec.push! fns (lambda () '(%d (%d) \"c%d\")))", i, i, i))
    end)
    assert.is_true(m > 0)
    h:gc()
    for i = 1, N, 23 do
      assert.are.equal("c" .. i, h:eval(string.format("(car (cdr (cdr ((vec.get fns %d)))))", i - 1)))
    end
  end)

  it("blackboard values, written from Lisp and from Lua", function()
    local h <close> = newhost()
    h:eval("(define i (bt.new-instance (bt (succeed))))")
    local inst = h:compile("(succeed)"):instance()
    local m = interleave(h, N, WORK, function(i)
      h:eval(string.format("(bt.bb-put i 'k (fresh %d))", i))
      inst:put("k", { i, { i } })
    end)
    assert.is_true(m > 0)
    h:gc()
    checkfresh(h, "(bt.bb-get i 'k)", N)
    assert.are.same({ N, { N } }, inst:get("k"))
  end)

  it("values made from Lua and held by Lua (pins) or stored into a global", function()
    local h <close> = newhost()
    local held = {}
    local m = interleave(h, N, WORK, function(i)
      h:set("fromlua", { i, "x" .. i, { i } })
      held[#held + 1] = h:eval(string.format("(fresh %d)", i))
    end)
    assert.is_true(m > 0)
    h:gc()
    assert.are.equal("x" .. N, h:eval("(car (cdr fromlua))"))
    assert.are.equal(7, h:call("car", held[7]))
  end)

  -- The roots that grow with the program (pins, bound symbols) are scanned
  -- a chunk per step at the start of a cycle (lisp_gc.c markrootstep), and
  -- the atomic step scans neither again, nor the BT instances (bt_insttype
  -- has a barrier).  A lost object may not show until its block is reused:
  -- 'reuse' churns small blocks before the values are read back.
  local function reuse(h)
    h:gc()
    h:eval("(define (junk n) (if (> n 0) (begin (list 1 2 3) (lambda () n) (junk (- n 1))) #t)) (junk 50000)")
  end

  it("values pinned while a cycle runs, after the pins were scanned", function()
    local h <close> = newhost()
    local held = {}
    local m = interleave(h, 1500, WORK, function(i)
      -- a closure reaches Lua as a pinned handle (a list would be copied)
      held[i] = h:eval(string.format("(let ((v (list %d))) (lambda () v))", i))
    end)
    assert.is_true(m > 0)
    assert.is_true(h:heap().collections >= 2)
    reuse(h)
    for i = 1, #held do
      assert.are.same({ i }, held[i]())
    end
  end)

  it("blackboard stores into instances traversed already", function()
    local h <close> = newhost()
    h:eval([[(define tree (bt (succeed))) (define insts (vec.make 0))
      (define (mk j) (if (< j 40) (begin (vec.push! insts (bt.new-instance tree)) (mk (+ j 1))) #t))
      (mk 0)]])
    local exp = {}
    local m = interleave(h, 1500, WORK, function(i)
      h:eval(string.format("(bt.bb-put (vec.get insts %d) 'k (fresh %d))", i % 40, i))
      exp[i % 40] = i
    end)
    assert.is_true(m > 0)
    reuse(h)
    for j, i in pairs(exp) do
      checkfresh(h, string.format("(bt.bb-get (vec.get insts %d) 'k)", j), i)
    end
  end)

  it("globals moved and bound while the intern table is scanned, and its resize", function()
    local h <close> = newhost()
    local NG, exp, seed = 300, {}, 12345
    for k = 1, NG do
      h:eval(string.format("(define rg%d (list %d))", k, k))
      exp["rg" .. k] = k
    end
    local m = interleave(h, 1500, WORK, function(i)
      seed = (seed * 1103515245 + 12345) % 2147483648
      local a, b = "rg" .. (seed % NG + 1), "rg" .. (seed // NG % NG + 1)
      if a ~= b then -- b's value into a, then a new one into b
        h:eval(string.format("(set! %s %s) (set! %s (list %d))", a, b, b, NG + i))
        exp[a], exp[b] = exp[b], NG + i
      end
      h:eval(string.format("(define new-rg%d (list %d))", i, i)) -- the table grows
      exp["new-rg" .. i] = i
    end)
    assert.is_true(m > 0)
    reuse(h)
    for name, v in pairs(exp) do
      assert.are.same({ v }, h:get(name))
    end
  end)

  it("a whole program under gc_stress 'incremental' stays consistent", function()
    local h <close> = lispbt.new({ workers = 0, gc_stress = "incremental" })
    h:eval([[
      (define v (vec.make 0)) (define m (map.make)) (define q (pq.make))
      (define (fill i)
        (if (< i 400)
            (begin
              (vec.push! v (list i (vec.make 2 i)))
              (map.set! m i (list i))
              (pq.push! q (- 400 i) (list i))
              (fill (+ i 1)))
            #t))
      (fill 0)]])
    assert.are.equal(0, T.verify(h))
    assert.is_true(h:heap().collections > 0)
    assert.are.equal(399, h:eval("(car (vec.get v 399))"))
    assert.are.equal(123, h:eval("(vec.get (car (cdr (vec.get v 123))) 1)"))
    assert.are.equal(77, h:eval("(car (map.get m 77))"))
    assert.are.equal(399, h:eval("(car (car (cdr (pq.pop! q))))"))
  end)
end)
