/*
** fuzz_load.c -- libFuzzer harness: the builtins that load saved files.
** See LICENSE for copyright.
**
** The input is written to a file in the sandbox, which is then loaded the
** two ways data comes back from disk (docs/reference/bt.md, lisp.md):
**
**   (bt.load-dsl path)  a saved tree: read, exactly one form, compiled.  A
**                       tree that loads is instantiated and ticked, saved
**                       with bt.save-dsl and loaded again: the canonical
**                       DSL (bt.to-dsl) of both must be the same.
**   (bt.load path)      a tree file (bt.save): header, length and checksum
**                       checked, then as bt.load-dsl; a tree that loads is
**                       also saved with bt.save and loaded again.
**   (read-file path)    saved data: every datum.  Each one is saved with
**                       `save` (one form: the datum, quoted when it is a
**                       symbol, list, vec or map), loaded back with `load`
**                       and written again: write -> save -> load -> write
**                       must give the same text (a fixed point), unless
**                       the datum holds a map (maps print in an order that
**                       depends on their insertions).
**
** (load path) evaluates a file; it is the reader and evaluator of
** fuzz_eval behind lisp_readfile, whose file handling read-file shares.
** A broken round trip aborts (fz-fail), so libFuzzer reports it.
*/
#include "fuzz_common.h"

/* (fz-fail what a b): print and abort. */
static lisp_Value cfun_fail(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    fprintf(stderr, "fuzz: round trip broken: %s\n  first:  %s\n  second: %s\n",
            lisp_str(argv[0], NULL), argc > 1 ? lisp_str(argv[1], NULL) : "",
            argc > 2 ? lisp_str(argv[2], NULL) : "");
    abort();
}

/* (fz-has-map? x): maps print in table order, which depends on the order
** of insertions (docs/reference/lisp.md, "map"), so a datum holding one
** need not print the same after a round trip. */
static lisp_Value cfun_hasmap(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    return lisp_bool(fz_hasmap(argv[0], 200));
}

static const char prelude[] =
    "(define (fz-check-dsl d)"
    "  (let ((i (bt.new-instance d)))"
    "    (bt.tick i) (bt.tick i) (bt.halt i) (bt.reset i) (bt.tick i)"
    "    (bt.save-dsl d \"out.lisp\")"
    "    (let ((a (write-to-string (bt.to-dsl d)))"
    "          (b (write-to-string (bt.to-dsl (bt.load-dsl \"out.lisp\")))))"
    "      (if (or (equal? a b) (fz-has-map? (bt.to-dsl d))) #t (fz-fail \"bt.save-dsl/bt.load-dsl\" a b)))))"
    "(define (fz-check-bin d)"
    "  (fz-check-dsl d)"
    "  (bt.save d \"out.lbt\")"
    "  (let ((a (write-to-string (bt.to-dsl d)))"
    "        (b (write-to-string (bt.to-dsl (bt.load \"out.lbt\")))))"
    "    (if (or (equal? a b) (fz-has-map? (bt.to-dsl d))) #t (fz-fail \"bt.save/bt.load\" a b))))"
    "(define (fz-check-datum x)"
    "  (save \"datum.lisp\" x)"
    "  (let ((ys (read-file \"datum.lisp\")) (a (write-to-string x)))"
    "    (if (not (= (length ys) 1)) (fz-fail \"save/read-file: not one datum\" a))"
    "    (let ((b (write-to-string (load \"datum.lisp\"))))"
    "      (if (or (equal? a b) (fz-has-map? x)) #t (fz-fail \"write/save/load/write\" a b)))))";

static void setup(lisp_State *S) {
    lisp_setglobal(S, "fz-fail", lisp_newprim(S, "fz-fail", 1, 3, cfun_fail, 0));
    lisp_setglobal(S, "fz-has-map?", lisp_newprim(S, "fz-has-map?", 1, 1, cfun_hasmap, 0));
    lisp_evalstring(S, prelude, sizeof prelude - 1, "fuzz-setup");
}

static void evalsrc(lisp_State *S, void *ud) {
    const char *src = ud;
    lisp_evalstring(S, src, strlen(src), "fuzz");
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fz_init(setup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lisp_State *S = fz_reset();
    char path[300];
    FILE *f;
    fz_mappath("in.lisp", 7, path, sizeof path);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        fz_die("cannot write the input to", path);
    }
    fz.dirty = 1;
    fz_pcall(S, evalsrc, "(fz-check-dsl (bt.load-dsl \"in.lisp\"))");
    fz_pcall(S, evalsrc, "(fz-check-bin (bt.load \"in.lisp\"))");
    fz_pcall(S, evalsrc, "(for-each fz-check-datum (read-file \"in.lisp\"))");
    return 0;
}
