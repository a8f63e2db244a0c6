-- spec/compat/bt_nodes_spec.lua -- the node kinds of muesli-bt's
-- docs/bt/intro.md, syntax.md and semantics.md, tick by tick and halt by
-- halt, with the reference's own test cases (tests/test_main.cpp: mem-seq,
-- mem-sel, async-seq, reactive pre-emption, compile checks) re-expressed:
-- the statuses of successive ticks, which leaves ran, and which were halted.
local H = require("compat.helpers")

-- Lisp: (ticks inst n) -> statuses; (script name statuses) registers an
-- action that returns the statuses in turn (the last one forever), logging
-- "name" on each call and "name!" on each halt to `log`.
local PRELUDE = [[
(define (ticks inst n) (if (= n 0) nil (cons (bt.tick inst) (ticks inst (- n 1)))))
(define log nil)
(define (taken) (let ((l (reverse log))) (set! log nil) l))
(define (script name sts)
  (let ((left sts))
    (bt.register-action name
      (lambda (inst)
        (set! log (cons name log))
        (let ((st (car left))) (if (null? (cdr left)) st (begin (set! left (cdr left)) st))))
      (lambda (inst) (set! log (cons (string->symbol (string-append (symbol->string name) "!")) log)) #t))))
]]

describe("compat: BT node kinds", function()
  local h
  before_each(function()
    h = H.host()
    h:eval(PRELUDE)
  end)
  after_each(function() h:close() end)

  local function show(src) return H.show(h, src) end

  it("every composite of the inventory compiles with one child; none with zero", function()
    assert.are.equal("(#t #t #t #t #t #t #t)", show([[
      (map (lambda (k) (not (null? (bt.compile (list k '(succeed))))))
           '(seq sel mem-seq mem-sel async-seq reactive-seq reactive-sel))]]))
    for _, k in ipairs({ "async-seq", "reactive-seq", "reactive-sel" }) do
      assert.are.equal("bt.compile: " .. k .. ": expected at least one child, got nil",
        H.err(h, "(bt.compile '(" .. k .. "))"))
    end
    assert.are.equal("(reactive-sel (reactive-seq (cond always-true) (async-seq (act always-success) " ..
                     "(act always-success))) (mem-seq (act always-success) (mem-sel (act always-fail) (succeed))))",
      show([[(bt.to-dsl (bt (reactive-sel (reactive-seq (cond always-true)
               (async-seq (act always-success) (act always-success)))
               (mem-seq (act always-success) (mem-sel (act always-fail) (succeed))))))]]))
  end)

  it("seq and sel restart from child 0 every tick", function()
    assert.are.equal("((running running) (a b a b))", show([[
      (script 'a '(success)) (script 'b '(running))
      (list (ticks (bt.new-instance (bt (seq (act a) (act b)))) 2) (taken))]]))
    assert.are.equal("((running running) (a b a b))", show([[
      (script 'a '(failure)) (script 'b '(running))
      (list (ticks (bt.new-instance (bt (sel (act a) (act b)))) 2) (taken))]]))
  end)

  it("mem-seq: resumes at the running child; all-success resets (reference test)", function()
    assert.are.equal("((success success) (running success) (setup run run))", show([[
      (script 'setup '(success)) (script 'run '(running success))
      (list (ticks (bt.new-instance (bt (mem-seq (act always-success) (act always-success) (act always-success)))) 2)
            (ticks (bt.new-instance (bt (mem-seq (act setup) (act run) (act always-success)))) 2)
            (taken))]]))
  end)

  it("mem-seq: a failure keeps the index, the next tick resumes at the failed child", function()
    assert.are.equal("((failure success) (setup once once))", show([[
      (script 'setup '(success)) (script 'once '(failure success))
      (list (ticks (bt.new-instance (bt (mem-seq (act setup) (act once) (act always-success)))) 2) (taken))]]))
  end)

  it("mem-seq: finishing halts its children (their memory is cleared)", function()
    -- the repeat counter inside is cleared on success, so it runs again
    assert.are.equal("(running success running success)", show([[
      (ticks (bt.new-instance (bt (mem-seq (repeat 2 (succeed))))) 4)]]))
  end)

  it("mem-sel: skips earlier failed children while a later one runs; all-failure restarts", function()
    assert.are.equal("((running success) (fa fb r r) (failure failure) (fa fb fa fb))", show([[
      (script 'fa '(failure)) (script 'fb '(failure)) (script 'r '(running success))
      (list (ticks (bt.new-instance (bt (mem-sel (act fa) (act fb) (act r)))) 2) (taken)
            (ticks (bt.new-instance (bt (mem-sel (act fa) (act fb)))) 2) (taken))]]))
  end)

  it("async-seq: yields running between children (reference test)", function()
    assert.are.equal("((running success) (first second))", show([[
      (script 'first '(success)) (script 'second '(success))
      (list (ticks (bt.new-instance (bt (async-seq (act first) (act second)))) 2) (taken))]]))
  end)

  it("async-seq: running keeps the child, failure goes back to child 0", function()
    assert.are.equal("((running running running failure running) (a b b b a))", show([[
      (script 'a '(success)) (script 'b '(running running failure))
      (list (ticks (bt.new-instance (bt (async-seq (act a) (act b)))) 5) (taken))]]))
  end)

  it("async-seq: completing resets to child 0 and halts its children", function()
    assert.are.equal("(running running success running running success)", show([[
      (ticks (bt.new-instance (bt (async-seq (succeed) (repeat 1 (succeed)) (succeed)))) 6)]]))
  end)

  it("reactive-seq: re-checks the guard every tick and halts the stale running child", function()
    assert.are.equal("((running running failure) (work work work!))", show([[
      (script 'work '(running))
      (define i (bt.new-instance (bt (reactive-seq (invert (cond bb-has stop)) (act work)))))
      (define a (bt.tick i))
      (define b (bt.tick i))
      (list (list a b (bt.tick i '((stop #t)))) (taken))]]))
  end)

  it("reactive-seq: a different running child pre-empts the one running before", function()
    -- tick 1: a runs; tick 2: a succeeds, b runs: a (no longer running) is halted
    assert.are.equal("((running running) (a a b))", show([[
      (script 'a '(running success)) (script 'b '(running))
      (list (ticks (bt.new-instance (bt (reactive-seq (act a) (act b)))) 2) (taken))]]))
  end)

  it("reactive-sel: a higher-priority child taking over halts the lower running one", function()
    assert.are.equal("((running running success) (low low low!))", show([[
      (script 'low '(running))
      (bt.register-condition 'high (lambda (inst) (bt.bb-get inst 'high)))
      (define i (bt.new-instance (bt (reactive-sel (seq (cond high) (act always-success)) (act low)))))
      (define a (bt.tick i))
      (define b (bt.tick i))
      (list (list a b (bt.tick i '((high #t)))) (taken))]]))
  end)

  it("reactive-sel: all children failing halts the subtree of the one that was running", function()
    -- a just failed, so it gets no halt callback (docs/compat.md: halting a
    -- subtree); the running leaf under it does
    -- with seq preemption off (the default, the reference's seq), only reactive-sel halts b
    assert.are.equal("((running failure) (b b!))", show([[
      (script 'b '(running))
      (bt.register-condition 'go (lambda (inst) (bt.bb-get inst 'go)))
      (define i (bt.new-instance (bt (reactive-sel (act always-fail) (seq (cond go) (act b))))))
      (define a (bt.tick i '((go #t))))
      (list (list a (bt.tick i '((go #f)))) (taken))]]))
    assert.are.equal("((running failure) (a a))", show([[
      (script 'a '(running failure))
      (list (ticks (bt.new-instance (bt (reactive-sel (act always-fail) (act a)))) 2) (taken))]]))
  end)

  it("retry n: after exhaustion, failures fail at once until a success resets the counter", function()
    assert.are.equal("(running running failure failure failure)", show([[
      (ticks (bt.new-instance (bt (retry 2 (act always-fail)))) 5)]]))
    assert.are.equal("((running failure failure success running) (f f f f f))", show([[
      (script 'f '(failure failure failure success failure))
      (list (ticks (bt.new-instance (bt (retry 1 (act f)))) 5) (taken))]]))
  end)

  it("repeat n: counts successes; n = 0 succeeds at once; failure fails", function()
    assert.are.equal("((running running success success) (success) (failure))", show([[
      (list (ticks (bt.new-instance (bt (repeat 3 (succeed)))) 4)
            (ticks (bt.new-instance (bt (repeat 0 (fail)))) 1)
            (ticks (bt.new-instance (bt (repeat 2 (fail)))) 1))]]))
  end)

  it("invert and the utility nodes", function()
    assert.are.equal("(failure success running success failure running)", show([[
      (map (lambda (f) (bt.tick (bt.new-instance (bt.compile f))))
           '((invert (succeed)) (invert (fail)) (invert (running)) (succeed) (fail) (running)))]]))
  end)

  it("by default seq leaves a skipped running child as the reference does; #t halts it", function()
    local dsl = "(bt (seq (act running-then-success 1) (act running-then-success 1)))"
    assert.are.equal("(running running running success)", show(
      "(ticks (bt.new-instance " .. dsl .. ") 4)"))
    assert.are.equal("(running running running running)", show(
      "(bt.set-preempt-enabled #t) (ticks (bt.new-instance " .. dsl .. ") 4)"))
    h:eval("(bt.set-preempt-enabled #f)")
    assert.are.equal("bt.set-preempt-enabled: expected a boolean, got 1", H.err(h, "(bt.set-preempt-enabled 1)"))
  end)
end)
