/*
** fuzz_eval.c -- libFuzzer harness: the reader and the evaluator.
** See LICENSE for copyright.
**
** The input is Lisp source.  It is read and evaluated, form by form, with
** lisp_evalstring under lisp_pcall on the process's host (reset before
** each input, fuzz_common.h), and the value of the last form is written
** with lisp_write, as a REPL would print it.  Errors are expected; what
** must hold is: no sanitizer report, an empty stack after the call, and a
** consistent heap (lisp_verify) after every input.
*/
#include "fuzz_common.h"

typedef struct Job {
    const uint8_t *data;
    size_t size;
    sbuf *out;
} Job;

static void run(lisp_State *S, void *ud) {
    Job *j = ud;
    lisp_Value v = lisp_evalstring(S, (const char *)j->data, j->size, "fuzz");
    lisp_push(S, v);
    fz_write(S, j->out, v);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fz_init(NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static sbuf out;
    lisp_State *S = fz_reset();
    Job j = {data, size, &out};
    fz_pcall(S, run, &j);
    return 0;
}
