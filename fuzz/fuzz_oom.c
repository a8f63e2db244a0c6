/*
** fuzz_oom.c -- libFuzzer harness: allocation failure injection.
** See LICENSE for copyright.
**
** Input: two bytes k (little endian, 1..65536), a flags byte, then Lisp
** source.  The k-th C-heap allocation of the host from the start of the
** program fails (mem.h's failure injection, as lispbt.T.allocfail and
** spec/oom_spec.lua use it); with flag bit 0 every allocation after it
** fails too, until the program has unwound.  With flag bit 1 the program
** also compiles, instantiates and ticks a small tree after its own forms.
** What must hold afterwards (SPEC §10): a clean error (never a crash; an
** "out of memory" error after a sticky failure must have the status
** ERRMEM, not ERRRUN, unless the program itself says it), a consistent
** heap (lisp_verify), and a host that still works: (+ 1 2) is 3 and a
** tree compiles and ticks to success.
**
** The host is reused and reset (fuzz_common.h), so k counts from a state
** that is the same for every input (the reset collects before each one).
*/
#include "fuzz_common.h"

typedef struct Job {
    const char *src;
    size_t n;
    int tree;
} Job;

static const char treesrc[] =
    "(let ((i (bt.new-instance (bt.compile '(sel (seq (cond bb-has x) (act running-then-success 1))"
    "                                          (act bb-put-int x 1))))))"
    "  (bt.set-trace-enabled i #t) (bt.tick i '((y 1.5))) (bt.tick i) (bt.stats i) (bt.trace.dump i))";

static void run(lisp_State *S, void *ud) {
    Job *j = ud;
    lisp_evalstring(S, j->src, j->n, "fuzz");
    if (j->tree) {
        lisp_evalstring(S, treesrc, sizeof treesrc - 1, "fuzz-tree");
    }
}

static void check(lisp_State *S, void *ud) {
    lisp_Value v;
    (void)ud;
    v = lisp_evalstring(S, "(+ 1 2)", 7, "fuzz-check");
    if (v.tag != LISP_TINT || v.u.i != 3) {
        fz_die("after an allocation failure", "(+ 1 2) is not 3");
    }
    v = lisp_evalstring(S, "(bt.tick (bt.new-instance (bt.compile '(seq (act always-success)))))", 68,
                        "fuzz-check");
    if (v.tag != LISP_TSYMBOL || strcmp(lisp_str(v, NULL), "success") != 0) {
        fz_die("after an allocation failure", "a tree does not tick to success");
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fz_init(NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lisp_State *S;
    mem_Heap *M;
    Job j;
    int st, injected;
    if (size < 3) {
        return 0;
    }
    S = fz_reset();
    M = host_mem(fz.H);
    j.src = (const char *)data + 3;
    j.n = size - 3;
    j.tree = data[2] & 2;
    M->fail_after = (int64_t)(data[0] | data[1] << 8) + 1;
    M->fail_sticky = data[2] & 1;
    M->failing = 0;
    st = lisp_pcall(S, run, &j);
    if (st != LISP_OK && lisp_gettop(S) != 0) {
        fz_die("stack not restored after an error", lisp_errmsg(S));
    }
    lisp_settop(S, 0);
    /* the countdown reached the failing allocation, and every later one
    ** failed too: an error the program raised after that is the failure */
    injected = M->fail_after == 0 && M->fail_sticky;
    M->fail_after = 0;
    M->fail_sticky = 0;
    M->failing = 0;
    if (injected && st == LISP_ERRRUN && strstr(lisp_errmsg(S), "out of memory") &&
        memmem(j.src, j.n, "out of memory", 13) == NULL) {
        /* lisp.h: "The status, never the message text, tells an
        ** allocation failure apart: raise it with lisp_memerror()." */
        fz_die("an allocation failure raised as ERRRUN, not ERRMEM", lisp_errmsg(S));
    }
    if (lisp_verify(S) != 0) {
        fz_die("lisp_verify", "heap inconsistent after an allocation failure");
    }
    if (fz_pcall(S, check, NULL) != LISP_OK) {
        fz_die("host unusable after an allocation failure", lisp_errmsg(S));
    }
    return 0;
}
