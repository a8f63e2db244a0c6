-- spec/compat/pq_spec.lua -- the priority queue as muesli-bt documents it
-- (docs/language/reference/builtins/pq/*.md): a min-queue of
-- (priority value) entries, FIFO among equal priorities, push! returning
-- the new size, pop!/peek raising on an empty queue, priorities finite
-- numbers returned as floats.
local lispbt = require("lispbt")
local H = require("compat.helpers")

describe("compat: pq", function()
  local h
  before_each(function() h = H.host() end)
  after_each(function() h:close() end)

  describe("the reference's documented examples", function()
    it("pq.make", function()
      assert.are.equal("<pq:0>", H.printed(h, "(pq.make)"))
      assert.are.equal("#t", H.show(h, "(define q (pq.make 32)) (pq.empty? q)"))
    end)

    it("pq.push! returns the size after the push", function()
      assert.are.equal("1", H.show(h, "(define q (pq.make)) (pq.push! q 1 'x)"))
      assert.are.equal("(1 2 3)",
        H.show(h, "(define q (pq.make)) (list (pq.push! q 5 'a) (pq.push! q 1 'b) (pq.push! q 3 'c))"))
    end)

    it("pq.peek shows the least entry without removing it", function()
      assert.are.equal("(1.0 fast)",
        H.show(h, "(define q (pq.make)) (pq.push! q 3 'slow) (pq.push! q 1 'fast) (pq.peek q)"))
      assert.are.equal("(1.0 x)", H.show(h, "(define q (pq.make)) (pq.push! q 1 'x) (pq.peek q)"))
      assert.are.equal("((1.0 task-b) 2)",
        H.show(h, "(define q (pq.make)) (pq.push! q 2 'task-a) (pq.push! q 1 'task-b) " ..
          "(list (pq.peek q) (pq.len q))"))
    end)

    it("pq.pop! removes entries least priority first", function()
      assert.are.equal("(1.0 x)", H.show(h, "(define q (pq.make)) (pq.push! q 1 'x) (pq.pop! q)"))
      assert.are.equal("((1.0 fast) (2.0 slow))",
        H.show(h, "(define q (pq.make)) (pq.push! q 2 'slow) (pq.push! q 1 'fast) " ..
          "(list (pq.pop! q) (pq.pop! q))"))
    end)

    it("pq.len and pq.empty?", function()
      assert.are.equal("0", H.show(h, "(define q (pq.make)) (pq.len q)"))
      assert.are.equal("2", H.show(h, "(define q (pq.make)) (pq.push! q 2 'a) (pq.push! q 1 'b) (pq.len q)"))
      assert.are.equal("#t", H.show(h, "(define q (pq.make)) (pq.empty? q)"))
      assert.are.equal("#t",
        H.show(h, "(define q (pq.make)) (pq.push! q 1 'x) (pq.pop! q) (pq.empty? q)"))
      assert.are.equal("#f", H.show(h, "(define q (pq.make)) (pq.push! q 1 'x) (pq.empty? q)"))
    end)
  end)

  describe("ordering", function()
    it("equal priorities leave in insertion order (FIFO)", function()
      assert.are.equal("(a b c d e)", H.show(h, [[
        (define q (pq.make))
        (for-each (lambda (s) (pq.push! q 7 s)) '(a b c))
        (pq.push! q 7.0 'd)
        (pq.push! q 7 'e)
        (define (drain acc) (if (pq.empty? q) (reverse acc) (drain (cons (car (cdr (pq.pop! q))) acc))))
        (drain '())]]))
    end)

    it("integer and float priorities compare as numbers, negatives first", function()
      assert.are.equal("((-2.5 m) (-1.0 n) (0.0 z) (0.5 h) (3.0 t))", H.show(h, [[
        (define q (pq.make))
        (pq.push! q 3 't) (pq.push! q 0.5 'h) (pq.push! q -1 'n) (pq.push! q 0 'z) (pq.push! q -2.5 'm)
        (list (pq.pop! q) (pq.pop! q) (pq.pop! q) (pq.pop! q) (pq.pop! q))]]))
    end)

    it("sorts many entries, with ties in insertion order, under gc_stress", function()
      local s = lispbt.new({ workers = 1, gc_stress = true })
      local out = s:eval([[
        (define q (pq.make 2))
        (define (fill i) (if (< i 300) (begin (pq.push! q (mod (* i 37) 11) (list i "payload")) (fill (+ i 1)))))
        (fill 0)
        (define (drain prev-p prev-i ok n)
          (if (pq.empty? q) (list ok n)
              (let* ((e (pq.pop! q)) (p (car e)) (i (car (car (cdr e)))))
                (drain p i (and ok (or (< prev-p p) (and (= prev-p p) (< prev-i i)))
                               (equal? (car (cdr (car (cdr e)))) "payload"))
                       (+ n 1)))))
        (write-to-string (drain -1 -1 #t 0))]])
      s:close()
      assert.are.equal("(#t 300)", out)
    end)
  end)

  describe("against a model", function()
    -- Random pushes (few distinct priorities, so many ties) and pops, each
    -- checked against a linear scan of a Lua list: least priority, then
    -- earliest push.
    local function run(host, seed, steps)
      math.randomseed(seed)
      local q = host:call("pq.make")
      local model, seq = {}, 0
      for _ = 1, steps do
        if math.random() < 0.55 then
          local p = math.random(0, 5) + (math.random() < 0.3 and 0.5 or 0)
          seq = seq + 1
          assert.are.equal(#model + 1, host:call("pq.push!", q, p, "v" .. seq))
          model[#model + 1] = { p = p, s = seq }
        elseif #model == 0 then
          assert.has_error(function() host:call("pq.pop!", q) end, "pq.pop!: priority queue is empty")
        else
          local best = 1
          for j = 2, #model do
            local a, b = model[j], model[best]
            if a.p < b.p or (a.p == b.p and a.s < b.s) then
              best = j
            end
          end
          local e = table.remove(model, best)
          assert.are.same({ e.p + 0.0, "v" .. e.s }, host:call("pq.pop!", q))
        end
        assert.are.equal(#model, host:call("pq.len", q))
      end
    end

    it("pops in (priority, push order) order", function()
      run(h, 14, 3000)
    end)

    it("and so it does under gc_stress", function()
      local s = lispbt.new({ workers = 1, gc_stress = true })
      run(s, 15, 600)
      s:close()
    end)
  end)

  describe("the value", function()
    it("prints its length, compares by identity, is not savable", function()
      assert.are.equal("(<pq:2> #f #t)", H.printed(h, [[
        (define q (pq.make)) (pq.push! q 1 'a) (pq.push! q 2 'b)
        (list q (equal? (pq.make) (pq.make)) (equal? q q))]]))
      assert.are.equal("save: cannot save a pq (it has no readable form)",
        H.err(h, "(save \"/tmp/lispbt-compat-pq.lisp\" (pq.make))"))
    end)

    it("reaches Lua as an opaque value that goes back as the same queue", function()
      local q = h:eval("(define q (pq.make)) (pq.push! q 1 'x) q")
      assert.are.equal("<pq:1>", tostring(q))
      assert.are.equal(2, h:call("pq.push!", q, 0, "y"))
      assert.are.equal("(0.0 \"y\")", H.show(h, "(pq.peek q)"))
    end)
  end)

  describe("errors", function()
    it("pop! and peek of an empty queue raise", function()
      assert.are.equal("pq.pop!: priority queue is empty", H.err(h, "(pq.pop! (pq.make))"))
      assert.are.equal("pq.peek: priority queue is empty", H.err(h, "(pq.peek (pq.make))"))
      assert.are.equal("pq.pop!: priority queue is empty",
        H.err(h, "(define q (pq.make)) (pq.push! q 1 'x) (pq.pop! q) (pq.pop! q)"))
    end)

    it("priorities must be finite numbers", function()
      assert.are.equal("pq.push!: expected a number, got \"1\"", H.err(h, "(pq.push! (pq.make) \"1\" 'x)"))
      assert.are.equal("pq.push!: expected a number, got p", H.err(h, "(pq.push! (pq.make) 'p 'x)"))
      assert.are.equal("pq.push!: priority must be finite, got nan",
        H.err(h, "(pq.push! (pq.make) (/ 0.0 0) 'x)"))
      assert.are.equal("pq.push!: priority must be finite, got -inf",
        H.err(h, "(pq.push! (pq.make) (/ -1.0 0) 'x)"))
    end)

    it("the capacity is a non-negative integer, a hint only", function()
      assert.are.equal("pq.make: expected a non-negative capacity, got -1", H.err(h, "(pq.make -1)"))
      assert.are.equal("pq.make: expected an integer, got 2.0", H.err(h, "(pq.make 2.0)"))
      assert.are.equal("(0 #t)", H.show(h, "(define q (pq.make 9223372036854775807)) (list (pq.len q) (pq.empty? q))"))
      assert.are.equal("3", H.show(h, "(define q (pq.make 0)) (pq.push! q 1 1) (pq.push! q 1 2) (pq.push! q 1 3)"))
    end)

    it("every pq builtin checks its queue and its arity", function()
      for _, name in ipairs({ "pq.pop!", "pq.peek", "pq.len", "pq.empty?" }) do
        assert.are.equal(name .. ": expected a pq, got <vec:1>", H.err(h, "(" .. name .. " #(1))"))
        assert.are.equal(name .. ": expected 1 argument, got 0", H.err(h, "(" .. name .. ")"))
      end
      assert.are.equal("pq.push!: expected a pq, got nil", H.err(h, "(pq.push! nil 1 'x)"))
      assert.are.equal("pq.push!: expected 3 arguments, got 2", H.err(h, "(pq.push! (pq.make) 1)"))
      assert.are.equal("pq.make: expected 0 to 1 arguments, got 2", H.err(h, "(pq.make 1 2)"))
    end)
  end)
end)
