/*
** fuzz_common.h -- what the libFuzzer harnesses share: one host per
** process, reset between inputs, and a sandbox for the file builtins.
** See LICENSE for copyright.  Included by exactly one fuzz_*.c each.
**
** Host reuse.  host_new costs 1-15 ms under ASan (mostly the value stack,
** max_depth * 24 slots, calloc'ed), while an input typically runs in well
** under a millisecond, so each C harness keeps one host and fz_reset()s it
** before each input: every global the input bound is unbound, every
** builtin global gets its original value back, the log and planner rings
** are cleared, the planner's seed and record sink are restored, and a full
** collection frees what the input made (instances, so their scheduler
** jobs are dropped).  What a reset cannot undo is the BT leaf registry
** (bt.register-condition / bt.register-action add leaves for good): an
** input that registers a leaf gets a FRESH host after it, so the next
** input starts from the same state as on a new host.  Blackboard key ids
** also persist (they only grow), and so do the registry entries that
** compiling a tree with an unknown leaf name creates (unresolved, the same
** whether new or not); the host is renewed when the keys pass
** FZ_MAX_NEW_KEYS and every FZ_RENEW_EVERY inputs, to bound that growth.
** A crash that needs state left by an earlier input therefore cannot
** happen, apart from GC timing (the collection threshold) and key ids,
** which a reset leaves as they are.  (fuzz_lua uses only the sandbox: its
** hosts are made per input, see there.)
**
** Bounds.  max_depth FZ_MAX_DEPTH and heap_limit FZ_HEAP_LIMIT (env
** LISPBT_FUZZ_HEAP_LIMIT overrides it, in bytes) bound recursion and heap.
** The language has no step budget, so a program can loop forever
** ((define (f) (f)) (f)); libFuzzer's -timeout catches that, and `make
** fuzz` runs in fork mode, where a timeout is recorded and skipped
** (docs/building.md, "Fuzzing").
**
** Sandbox.  The builtins that take a path (save, read-file, %load,
** bt.save-dsl, bt.load-dsl, bt.export-dot, bt.series.write,
** planner.set-log-path) are
** wrapped: the wrapper maps the path to a file in a private directory
** (its letters, digits, '.', '-' and '_' only, at most 40 of them) and
** calls the original builtin, so fuzzed programs exercise the file code
** and can save and load back, but cannot write anywhere else.  The 'load'
** special form calls its primitive directly; it only reads.
**
** Sleeping.  time.sleep-ms is wrapped too: a valid duration becomes 0, so
** an input cannot stall the fuzzer for up to a day, while invalid ones
** still reach the original's checks.  A reset puts the GC policy
** (gc.set-policy!) back to default, like every other per-host setting.
*/
#ifndef LISPBT_FUZZ_COMMON_H
#define LISPBT_FUZZ_COMMON_H

#include "host.h" /* first: its conf.h sets the POSIX feature macros */
#include "bt.h"
#include "host_builtins.h"
#include "lisp_obj.h" /* private: the symbol table, for fz_reset (like lua_test.c) */
#include "sbuf.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Not every harness uses every helper. */
#pragma clang diagnostic ignored "-Wunused-function"

#define FZ_MAX_DEPTH 1000
#define FZ_HEAP_LIMIT ((size_t)1 << 20)
#define FZ_MAX_NEW_KEYS 4096
#define FZ_RENEW_EVERY 20000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The path builtins and the index of their path argument. */
static const struct {
    const char *name;
    int patharg;
} fz_pathfns[] = {
    {"save", 0},        {"read-file", 0},       {"%load", 0},
    {"bt.save-dsl", 1}, {"bt.load-dsl", 0},     {"bt.series.write", 1},
    {"planner.set-log-path", 0}, {"bt.export-dot", 1},
};
#define FZ_NPATHFNS ((int)(sizeof fz_pathfns / sizeof fz_pathfns[0]))
/* Builtins that change the leaf registry: a fresh host after them. */
static const char *const fz_regfns[] = {"bt.register-condition", "bt.register-action"};
#define FZ_NREGFNS 2

static struct {
    lispbt_Host *H;
    lisp_State *S;
    char dir[200];           /* the sandbox directory */
    int dirty;               /* a path builtin ran: empty the sandbox */
    int renew;               /* the registry changed: new host before the next input */
    int nkeys0;              /* blackboard keys of a fresh host */
    unsigned long runs;      /* inputs run */
    int orig[FZ_NPATHFNS + FZ_NREGFNS + 1]; /* pins of the wrapped originals (+ sleep) */
    int *snap;               /* pins of (symbol, value) pairs of a fresh host */
    int nsnap;
    int64_t seed0;           /* planner.get-base-seed of a fresh host */
    char resetsrc[200];      /* Lisp run by every reset */
    void (*setup)(lisp_State *S); /* the harness's own definitions, run on every new host */
} fz;

static void fz_die(const char *what, const char *msg) {
    fprintf(stderr, "fuzz: %s: %s\n", what, msg ? msg : "");
    abort();
}

/* Map a Lisp path to a file in the sandbox. */
static void fz_mappath(const char *p, size_t n, char *out, size_t outlen) {
    char name[48];
    size_t i, k = 0;
    for (i = 0; i < n && k < 40; i++) {
        char c = p[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
            c == '-' || c == '_') {
            name[k++] = c;
        }
    }
    name[k] = 0;
    if (k == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        strcpy(name, "f");
    }
    snprintf(out, outlen, "%s/%s", fz.dir, name);
}

/* The wrapper of every path builtin: same arguments, the path mapped. */
static lisp_Value fz_pathwrap(lisp_State *S, int argc, lisp_Value *argv) {
    int w = (int)lisp_primud(argv[-1]) - 1, base = lisp_gettop(S), i;
    lisp_push(S, lisp_pinned(S, fz.orig[w]));
    fz.dirty = 1;
    for (i = 0; i < argc; i++) {
        if (i == fz_pathfns[w].patharg && argv[i].tag == LISP_TSTRING) {
            char path[300];
            size_t n;
            const char *p = lisp_str(argv[i], &n);
            fz_mappath(p, n, path, sizeof path);
            lisp_cstring(S, path); /* pushed: the argument */
        } else {
            lisp_push(S, argv[i]);
        }
    }
    return lisp_call(S, base, argc);
}

/* The wrapper of the registering builtins: a fresh host after this input. */
static lisp_Value fz_regwrap(lisp_State *S, int argc, lisp_Value *argv) {
    int w = (int)lisp_primud(argv[-1]) - 1, base = lisp_gettop(S), i;
    lisp_push(S, lisp_pinned(S, fz.orig[w]));
    fz.renew = 1;
    for (i = 0; i < argc; i++) {
        lisp_push(S, argv[i]);
    }
    return lisp_call(S, base, argc);
}

/* The wrapper of time.sleep-ms: a valid duration sleeps 0 ms. */
static lisp_Value fz_sleepwrap(lisp_State *S, int argc, lisp_Value *argv) {
    int w = (int)lisp_primud(argv[-1]) - 1, base = lisp_gettop(S), i;
    lisp_push(S, lisp_pinned(S, fz.orig[w]));
    for (i = 0; i < argc; i++) {
        int valid = argv[i].tag == LISP_TINT && argv[i].u.i >= 0 && argv[i].u.i <= 86400000;
        lisp_push(S, valid ? lisp_int(0) : argv[i]);
    }
    return lisp_call(S, base, argc);
}

static void fz_wrap1(lisp_State *S, int w, const char *name, lisp_CFunction fn) {
    lisp_Value v;
    int top = lisp_gettop(S);
    if (!lisp_getglobal(S, name, &v) || v.tag != LISP_TPRIM) {
        fz_die("no builtin", name);
    }
    if ((fz.orig[w] = lisp_pin(S, v)) < 0) {
        fz_die("pin", name);
    }
    /* arity is checked by the original */
    lisp_setglobal(S, name, lisp_newprim(S, name, 0, LISP_VARARG, fn, w + 1));
    lisp_settop(S, top);
}

static void fz_wrapall(lisp_State *S, void *ud) {
    int i;
    (void)ud;
    for (i = 0; i < FZ_NPATHFNS; i++) {
        fz_wrap1(S, i, fz_pathfns[i].name, fz_pathwrap);
    }
    for (i = 0; i < FZ_NREGFNS; i++) {
        fz_wrap1(S, FZ_NPATHFNS + i, fz_regfns[i], fz_regwrap);
    }
    fz_wrap1(S, FZ_NPATHFNS + FZ_NREGFNS, "time.sleep-ms", fz_sleepwrap);
    if (fz.setup) {
        fz.setup(S);
    }
}

/* Pin every bound global of the fresh host as (symbol, value). */
static void fz_snapshot(lisp_State *S) {
    size_t i, n = 0;
    lisp_Symbol *y;
    for (i = 0; i < S->symcap; i++) {
        for (y = S->symtab[i]; y; y = y->hnext) {
            n += y->value.tag != LISP_TUNBOUND;
        }
    }
    fz.snap = malloc(2 * n * sizeof(int));
    fz.nsnap = 0;
    for (i = 0; i < S->symcap; i++) {
        for (y = S->symtab[i]; y; y = y->hnext) {
            if (y->value.tag != LISP_TUNBOUND) {
                int a = lisp_pin(S, lisp_obj((lisp_Object *)y, LISP_TSYMBOL));
                int b = lisp_pin(S, y->value);
                if (a < 0 || b < 0) {
                    fz_die("pin", "snapshot");
                }
                fz.snap[2 * fz.nsnap] = a;
                fz.snap[2 * fz.nsnap + 1] = b;
                fz.nsnap++;
            }
        }
    }
}

/* Run 'src' on the host; it must succeed. */
static void fz_evalok_f(lisp_State *S, void *ud) {
    const char *src = ud;
    lisp_evalstring(S, src, strlen(src), "fuzz-reset");
}
static void fz_evalok(const char *src) {
    if (lisp_pcall(fz.S, fz_evalok_f, (void *)src) != LISP_OK) {
        fz_die(src, lisp_errmsg(fz.S));
    }
}

static void fz_getseed(lisp_State *S, void *ud) {
    lisp_Value v = lisp_evalstring(S, "(planner.get-base-seed)", 23, "fuzz");
    *(int64_t *)ud = v.u.i;
}

static void fz_cleandir(void);

static void fz_newhost(void) {
    host_Opts o;
    char err[200];
    const char *hl = getenv("LISPBT_FUZZ_HEAP_LIMIT");
    if (fz.H) {
        free(fz.snap);
        fz.snap = NULL;
        host_free(fz.H); /* unpins everything with the heap */
    }
    host_defaults(&o);
    o.workers = 1;
    o.trace_capacity = 64;
    o.log_capacity = 64;
    o.planner_capacity = 16;
    o.max_depth = FZ_MAX_DEPTH;
    o.heap_limit = hl ? (size_t)strtoull(hl, NULL, 10) : FZ_HEAP_LIMIT;
    fz.H = host_new(&o, err, sizeof err);
    if (fz.H == NULL) {
        fz_die("host_new", err);
    }
    fz.S = host_state(fz.H);
    if (lisp_pcall(fz.S, fz_wrapall, NULL) != LISP_OK) {
        fz_die("setup", lisp_errmsg(fz.S));
    }
    if (lisp_pcall(fz.S, fz_getseed, &fz.seed0) != LISP_OK) {
        fz_die("seed", lisp_errmsg(fz.S));
    }
    /* the planner's record sink defaults to a file in the working
    ** directory: point it into the sandbox (the wrapper maps the path) */
    snprintf(fz.resetsrc, sizeof fz.resetsrc,
             "(bt.clear-logs) (planner.clear-logs) (planner.set-log-enabled #f) "
             "(planner.set-log-path \"planner-records.jsonl\") (planner.set-base-seed %lld)",
             (long long)fz.seed0);
    fz_evalok(fz.resetsrc);
    fz_snapshot(fz.S);
    fz.nkeys0 = bt_key_count(fz.S);
    fz.renew = 0;
    lisp_settop(fz.S, 0); /* lisp_pcall leaves a successful call's values */
    lisp_gc(fz.S);
    fz_cleandir();
}

static void fz_cleandir(void) {
    DIR *d = opendir(fz.dir);
    struct dirent *e;
    char path[400];
    if (d == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", fz.dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    fz.dirty = 0;
}

static void fz_rmdir(void) {
    fz_cleandir();
    rmdir(fz.dir);
}

/* Make the sandbox directory (fz.dir), removed at exit. */
static void fz_sandbox(void) {
    const char *base = getenv("LISPBT_FUZZ_SANDBOX");
    snprintf(fz.dir, sizeof fz.dir, "%s/lispbt-fuzz.%ld", base && *base ? base : "/tmp",
             (long)getpid());
    if (mkdir(fz.dir, 0700) != 0 && access(fz.dir, W_OK) != 0) {
        fz_die("cannot make the sandbox", fz.dir);
    }
    atexit(fz_rmdir);
}

/* Make the sandbox and the host; 'setup' (may be NULL) runs under
** lisp_pcall on every new host, after the wrappers, before the snapshot. */
static void fz_init(void (*setup)(lisp_State *S)) {
    fz_sandbox();
    fz.setup = setup;
    fz_newhost();
}

/* Bring the host back to the state of a fresh one (see the top). */
static lisp_State *fz_reset(void) {
    lisp_State *S = fz.S;
    size_t i;
    int k;
    lisp_Symbol *y;
    if (fz.renew || bt_key_count(S) > fz.nkeys0 + FZ_MAX_NEW_KEYS || ++fz.runs % FZ_RENEW_EVERY == 0) {
        fz_newhost();
        return fz.S;
    }
    lisp_settop(S, 0);
    for (i = 0; i < S->symcap; i++) {
        for (y = S->symtab[i]; y; y = y->hnext) {
            y->value.tag = LISP_TUNBOUND;
        }
    }
    for (k = 0; k < fz.nsnap; k++) {
        lisp_Value s = lisp_pinned(S, fz.snap[2 * k]);
        ((lisp_Symbol *)s.u.o)->value = lisp_pinned(S, fz.snap[2 * k + 1]);
    }
    fz_evalok(fz.resetsrc);
    lisp_setgcpolicy(S, LISP_GCDEFAULT);
    lisp_gc(S);
    fz_cleandir();
    return S;
}

/* ---- helpers for the harnesses ---- */

/* lisp_pcall, then the checks every input must pass: after an error the
** stack is back at its height (lisp.h), and the heap is consistent
** (lisp_verify).  The stack is then cut back.  Returns the status. */
static int fz_pcall(lisp_State *S, void (*f)(lisp_State *S, void *ud), void *ud) {
    int top = lisp_gettop(S), st = lisp_pcall(S, f, ud);
    if (st != LISP_OK && lisp_gettop(S) != top) {
        fz_die("stack not restored after an error", lisp_errmsg(S));
    }
    lisp_settop(S, top);
    if (lisp_verify(S) != 0) {
        fz_die("lisp_verify", "heap inconsistent after a call");
    }
    return st;
}

/* 1 if 'v' holds a map (or nests deeper than 'depth', to stay bounded).
** Maps print in table order, which depends on the order of their
** insertions (docs/reference/lisp.md, "map"), so the written form of
** such a value need not survive a round trip unchanged. */
static int fz_hasmap(lisp_Value v, int depth) {
    int64_t i;
    if (depth == 0) {
        return 1;
    }
    switch (v.tag) {
    case LISP_TMAP: return 1;
    case LISP_TCONS:
        for (i = 0; v.tag == LISP_TCONS && i < 100000; i++, v = lisp_cdr(v)) {
            if (fz_hasmap(lisp_car(v), depth - 1)) {
                return 1;
            }
        }
        return v.tag == LISP_TCONS || fz_hasmap(v, depth - 1);
    case LISP_TVEC:
        for (i = 0; i < lisp_veclen(v); i++) {
            if (fz_hasmap(lisp_vecitems(v)[i], depth - 1)) {
                return 1;
            }
        }
        return 0;
    default: return 0;
    }
}

/* The written form of 'v' into 'b' (emptied first); aborts if it ran out of
** memory (the printer must not fail on a value that fit in the heap). */
static inline void fz_write(lisp_State *S, sbuf *b, lisp_Value v) {
    b->len = 0;
    b->oom = 0;
    lisp_write(S, b, v, 0);
    sbuf_putc(b, 0);
    if (b->oom) {
        lisp_memerror(S);
    }
}

#endif
