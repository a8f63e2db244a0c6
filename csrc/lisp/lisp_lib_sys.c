/*
** lisp_lib_sys.c -- rng, time, hashing, errors, printing, files and heap stats.
** See LICENSE for copyright.
**
** Output builtins write to the process stdout and flush, so their text
** interleaves correctly with Lua's print.
*/
#include "conf.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lisp_obj.h"
#include "sbuf.h"

/* ---- rng ----
**
** A Lisp rng is muesli-bt's generator, so that a seed gives the numbers
** the reference gives: splitmix64 over a 64-bit state that starts as the
** seed (kept in st.s[0]), uniform doubles from the top 53 bits, integers
** in [0, n) by rejection, normals by Box-Muller keeping the second deviate.
** (The planner's own generator, rng.h's xoshiro256**, is separate.) */

static uint64_t rngnext(rng_State *r) {
    uint64_t z = (r->s[0] += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rngunit(rng_State *r) {
    return (double)(rngnext(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [0, bound) (bound > 0), unbiased. */
static uint64_t rngbelow(rng_State *r, uint64_t bound) {
    uint64_t threshold = (0 - bound) % bound, x;
    do {
        x = rngnext(r);
    } while (x < threshold);
    return x % bound;
}

static rng_State *checkrng(lisp_State *S, lisp_Value *argv, int i) {
    if (argv[i].tag != LISP_TRNG) {
        lisp_argerror(S, argv, i, "expected an rng");
    }
    return &AS(lisp_Rng, argv[i])->st;
}

static lisp_Value cfun_rng_make(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Value v;
    rng_State *r;
    (void)argc;
    v = lispO_newrng(S, (uint64_t)lisp_checkint(S, argv, 0));
    r = &AS(lisp_Rng, v)->st;
    r->s[0] = (uint64_t)argv[0].u.i;
    r->has_spare = 0;
    r->spare = 0;
    return v;
}

static lisp_Value cfun_rng_uniform(lisp_State *S, int argc, lisp_Value *argv) {
    rng_State *r = checkrng(S, argv, 0);
    double lo = 0, hi = 1;
    if (argc == 2) {
        lisp_error(S, "rng.uniform: expected (rng.uniform r) or (rng.uniform r lo hi)");
    }
    if (argc == 3) {
        lo = lisp_checknumber(S, argv, 1);
        hi = lisp_checknumber(S, argv, 2);
        if (!(lo <= hi)) {
            lisp_error(S, "rng.uniform: expected lo <= hi");
        }
        if (lo == hi) {
            return lisp_float(lo); /* as muesli-bt: no number drawn */
        }
    }
    return lisp_float(lo + (hi - lo) * rngunit(r));
}

static lisp_Value cfun_rng_normal(lisp_State *S, int argc, lisp_Value *argv) {
    rng_State *r = checkrng(S, argv, 0);
    double mean = 0, sd = 1, u1, u2, rad;
    if (argc == 2) {
        lisp_error(S, "rng.normal: expected (rng.normal r) or (rng.normal r mean sd)");
    }
    if (argc == 3) {
        mean = lisp_checknumber(S, argv, 1);
        sd = lisp_checknumber(S, argv, 2);
        if (!(sd >= 0)) {
            lisp_error(S, "rng.normal: expected sigma >= 0");
        }
        if (sd == 0) {
            return lisp_float(mean); /* as muesli-bt: no number drawn */
        }
    }
    if (r->has_spare) {
        r->has_spare = 0;
        return lisp_float(mean + sd * r->spare);
    }
    u1 = rngunit(r);
    if (u1 <= 0.0) {
        u1 = DBL_MIN;
    }
    u2 = rngunit(r);
    rad = sqrt(-2.0 * log(u1));
    r->spare = rad * sin(6.28318530717958647692 * u2);
    r->has_spare = 1;
    return lisp_float(mean + sd * rad * cos(6.28318530717958647692 * u2));
}

static lisp_Value cfun_rng_int(lisp_State *S, int argc, lisp_Value *argv) {
    rng_State *r = checkrng(S, argv, 0);
    int64_t lo, hi;
    uint64_t span;
    if (argc == 2) {
        /* muesli-bt's form: '(rng.int r n)' is an integer in [0, n-1] */
        hi = lisp_checkint(S, argv, 1);
        if (hi <= 0) {
            lisp_argerror(S, argv, 1, "expected a positive integer");
        }
        return lisp_int((int64_t)rngbelow(r, (uint64_t)hi));
    }
    lo = lisp_checkint(S, argv, 1);
    hi = lisp_checkint(S, argv, 2);
    if (lo > hi) {
        lisp_error(S, "rng.int: lo is greater than hi");
    }
    span = (uint64_t)hi - (uint64_t)lo + 1; /* 0: the whole int64 range */
    return lisp_int((int64_t)((uint64_t)lo + (span ? rngbelow(r, span) : rngnext(r))));
}

/* ---- time, hashing ---- */

static lisp_Value cfun_time_ms(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    (void)argv;
    return lisp_int(lispbt_now_ns() / 1000000); /* whole ms, as muesli-bt */
}

static lisp_Value cfun_time_ns(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    (void)argv;
    return lisp_int(lispbt_now_ns());
}

/* The calling thread's CPU time: what a tick costs the thread that runs it,
** without the host's other threads (the event writer, the workers), which
** process CPU time counts. */
static lisp_Value cfun_time_threadcpu(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    (void)argv;
    return lisp_int(lispbt_thread_cpu_ns());
}

/* The longest time.sleep-ms accepts (one day, as lispbt.sleep_ms): a
** sleep blocks the host's thread with no way to interrupt it, so a
** mistyped huge value must fail rather than hang. */
#define SLEEP_MAX_MS ((int64_t)86400 * 1000)

static lisp_Value cfun_time_sleep(lisp_State *S, int argc, lisp_Value *argv) {
    int64_t ms;
    struct timespec ts;
    (void)argc;
    if (argv[0].tag != LISP_TINT || argv[0].u.i < 0 || argv[0].u.i > SLEEP_MAX_MS) {
        char what[64];
        snprintf(what, sizeof what, "expected an integer in 0..%lld", (long long)SLEEP_MAX_MS);
        lisp_argerror(S, argv, 0, what);
    }
    ms = argv[0].u.i;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        /* a signal woke us early: sleep the rest */
    }
    return lisp_nil();
}

/* As muesli-bt's hash64: 64-bit FNV-1a of the name's bytes, top bit
** cleared so the integer is non-negative; the values match the
** reference's, so seeds derived from names agree.  Integers (our
** extension) go through hash64_mix, also with the top bit cleared. */
static lisp_Value cfun_hash64(lisp_State *S, int argc, lisp_Value *argv) {
    const uint64_t nonneg = 0x7fffffffffffffffULL;
    (void)argc;
    if (argv[0].tag == LISP_TINT) {
        return lisp_int((int64_t)(hash64_mix((uint64_t)argv[0].u.i) & nonneg));
    }
    {
        size_t n, i;
        const unsigned char *s = (const unsigned char *)lisp_checkname(S, argv, 0, &n);
        uint64_t h = 0xcbf29ce484222325ULL;
        for (i = 0; i < n; i++) {
            h ^= s[i];
            h *= 0x100000001b3ULL;
        }
        return lisp_int((int64_t)(h & nonneg));
    }
}

/* ---- errors and output ---- */

/* Render args: with 'displayall' > 0 display them all; with 0 display the
** first if it is a string and write the others; with < 0 write them all.
** Each is bounded by the print limit; with 'total' > 0 the whole text
** stops at about 'total' bytes. */
static void render(lisp_State *S, sbuf *b, int argc, lisp_Value *argv, int displayall,
                   size_t total) {
    int i;
    for (i = 0; i < argc; i++) {
        size_t limit = lisp_printlimit(S);
        if (i) {
            sbuf_putc(b, ' ');
        }
        if (total) {
            if (b->len >= total) {
                break;
            }
            limit = total - b->len;
        }
        lisp_writen(S, b, argv[i],
                    displayall > 0 || (displayall == 0 && i == 0 && argv[0].tag == LISP_TSTRING), limit);
    }
}

static lisp_Value cfun_error(lisp_State *S, int argc, lisp_Value *argv) {
    sbuf b;
    char msg[400];
    sbuf_initm(&b, S->M);
    render(S, &b, argc, argv, 0, sizeof msg - 4);
    snprintf(msg, sizeof msg, "%s", b.p ? b.p : "error");
    sbuf_free(&b);
    lisp_error(S, "%s", msg);
}

static void out(lisp_State *S, sbuf *b) {
    if (b->oom) {
        sbuf_free(b);
        lisp_memerror(S);
    }
    if (b->len) {
        fwrite(b->p, 1, b->len, stdout);
    }
    fflush(stdout);
    sbuf_free(b);
}

static lisp_Value cfun_print(lisp_State *S, int argc, lisp_Value *argv) {
    sbuf b;
    sbuf_initm(&b, S->M);
    /* muesli-bt's print quotes strings; so does ours in its print style */
    render(S, &b, argc, argv, lisp_printstyle(S) == LISP_PRINT_MUESLI ? -1 : 1, 0);
    sbuf_putc(&b, '\n');
    out(S, &b);
    return lisp_nil();
}

/* Write 'v' into 'b' for write and write-to-string ('fname'); in the
** muesli style raise, as muesli-bt, on a part its write rejects. */
static void writechecked(lisp_State *S, sbuf *b, lisp_Value v, const char *fname) {
    lisp_Value bad;
    if (lisp_writechecked(S, b, v, &bad) == LISP_WRITE_OK) {
        return;
    }
    sbuf_free(b);
    if (bad.tag == LISP_TFLOAT) {
        lisp_error(S, "%s: non-finite floats are not readable", fname);
    }
    if (bad.tag == LISP_TCONS) {
        lisp_error(S, "%s: cannot serialise a cyclic or too deeply nested list as readable data", fname);
    }
    /* muesli-bt's type names: primitive_fn for a builtin */
    lisp_error(S, "%s: cannot serialise %s as readable data", fname,
               bad.tag == LISP_TPRIM ? "primitive_fn" : lisp_typename(bad));
}

static lisp_Value cfun_write(lisp_State *S, int argc, lisp_Value *argv) {
    sbuf b;
    (void)argc;
    sbuf_initm(&b, S->M);
    writechecked(S, &b, argv[0], "write");
    sbuf_putc(&b, '\n'); /* as muesli-bt: one line per write */
    out(S, &b);
    return argv[0]; /* muesli-bt: write returns its argument */
}

static lisp_Value cfun_writestr(lisp_State *S, int argc, lisp_Value *argv) {
    sbuf *b = lisp_scratch(S);
    (void)argc;
    writechecked(S, b, argv[0], "write-to-string");
    return lisp_scratchstring(S);
}

/* (print-limit [n]): the print limit before the call; sets it to 'n'. */
static lisp_Value cfun_printlimit(lisp_State *S, int argc, lisp_Value *argv) {
    size_t old = lisp_printlimit(S);
    if (argc > 0) {
        if (argv[0].tag != LISP_TINT || argv[0].u.i < LISPBT_PRINT_LIMIT_MIN ||
            argv[0].u.i > 1000000000) {
            lisp_argerror(S, argv, 0, "expected an integer in 16..1000000000");
        }
        lisp_setprintlimit(S, (size_t)argv[0].u.i);
    }
    return lisp_int((int64_t)old);
}

/* (print-style [style]): the printer style before the call, as the symbol
** lispbt or muesli; sets it to 'style' (a symbol or string, either name,
** a leading ':' allowed). */
static lisp_Value cfun_printstyle(lisp_State *S, int argc, lisp_Value *argv) {
    int old = lisp_printstyle(S);
    if (argc > 0) {
        const char *s = NULL;
        size_t n = 0;
        if (argv[0].tag == LISP_TSYMBOL) {
            s = AS(lisp_Symbol, argv[0])->name;
            n = AS(lisp_Symbol, argv[0])->len;
        } else if (argv[0].tag == LISP_TSTRING) {
            s = AS(lisp_String, argv[0])->data;
            n = AS(lisp_String, argv[0])->len;
        }
        if (s != NULL && n > 0 && s[0] == ':') {
            s++;
            n--;
        }
        if (s != NULL && n == 6 && memcmp(s, "lispbt", 6) == 0) {
            lisp_setprintstyle(S, LISP_PRINT_LISPBT);
        } else if (s != NULL && n == 6 && memcmp(s, "muesli", 6) == 0) {
            lisp_setprintstyle(S, LISP_PRINT_MUESLI);
        } else {
            lisp_argerror(S, argv, 0, "expected lispbt or muesli");
        }
    }
    return old == LISP_PRINT_MUESLI ? lisp_intern(S, "muesli", 6) : lisp_intern(S, "lispbt", 6);
}

static lisp_Value cfun_save(lisp_State *S, int argc, lisp_Value *argv) {
    const char *path = lisp_checkpath(S, argv, 0);
    lisp_Value bad;
    sbuf b;
    FILE *f;
    int ok, st, quote;
    (void)argc;
    sbuf_initm(&b, S->M);
    /* As muesli-bt: a value that does not evaluate to itself (a symbol, a
       list, a vec, a map) is saved as '(quote FORM)', so that '(load path)'
       evaluates the file back to the value. */
    quote = argv[1].tag != LISP_TNIL && argv[1].tag != LISP_TBOOL && argv[1].tag != LISP_TINT &&
            argv[1].tag != LISP_TFLOAT && argv[1].tag != LISP_TSTRING;
    if (quote) {
        sbuf_puts(&b, "(quote ");
    }
    /* one bounded walk writes the text and finds what cannot be read back */
    st = lisp_writereadable(S, &b, argv[1], lisp_printlimit(S), &bad);
    if (quote) {
        sbuf_putc(&b, ')');
    }
    sbuf_putc(&b, '\n');
    if (b.oom) {
        sbuf_free(&b);
        lisp_memerror(S);
    }
    if (st != LISP_WRITE_OK) {
        sbuf_free(&b);
        if (st == LISP_WRITE_TOOLONG) {
            lisp_error(S, "save: value too large (its written form is over the print limit, %llu bytes)",
                       (unsigned long long)lisp_printlimit(S));
        }
        if (bad.tag == LISP_TCONS || bad.tag == LISP_TVEC || bad.tag == LISP_TMAP) {
            lisp_error(S, "save: cannot save a cyclic or too deeply nested value");
        }
        lisp_error(S, "save: cannot save a%s %s (it has no readable form)",
                   lisp_typename(bad)[0] == 'r' ? "n" : "", lisp_typename(bad));
    }
    f = fopen(path, "w");
    if (f == NULL) {
        sbuf_free(&b);
        lisp_error(S, "save: cannot open '%s': %s", path, strerror(errno));
    }
    ok = fwrite(b.p, 1, b.len, f) == b.len;
    ok = (fclose(f) == 0) && ok;
    sbuf_free(&b);
    if (!ok) {
        lisp_error(S, "save: cannot write '%s'", path);
    }
    return lisp_bool(1); /* muesli-bt: #t on success */
}

lisp_Value lisp_readfile(lisp_State *S, const char *path, const char *fname) {
    lisp_Value text;
    long n;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        lisp_error(S, "%s: cannot open '%s': %s", fname, path, strerror(errno));
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        n > (256L << 20)) {
        fclose(f);
        lisp_error(S, "%s: cannot read '%s'", fname, path);
    }
    /* the buffer is a Lisp string, so an error while reading leaks nothing;
    ** only an ERRMEM from lisp_string itself would leave 'f' open */
    text = lisp_string(S, NULL, (size_t)n);
    if ((long)fread((char *)lisp_str(text, NULL), 1, (size_t)n, f) != n) {
        fclose(f);
        lisp_error(S, "%s: cannot read '%s'", fname, path);
    }
    fclose(f);
    return text;
}

/* (load path): the special form 'load' compiles to a call of this. */
static lisp_Value cfun_load(lisp_State *S, int argc, lisp_Value *argv) {
    const char *path, *src;
    size_t n;
    (void)argc;
    if (argv[0].tag != LISP_TSTRING) {
        lisp_error(S, "load: expected a path string");
    }
    path = lisp_str(argv[0], &n);
    if (n == 0 || memchr(path, '\0', n) != NULL) { /* named 'load' (the special form) */
        lisp_error(S, "load: expected a non-empty path without NUL bytes");
    }
    src = lisp_str(lisp_readfile(S, path, "load"), &n);
    return lisp_evalstring(S, src, n, path);
}

/* (read string): the first datum of 'string', unevaluated. */
static lisp_Value cfun_read(lisp_State *S, int argc, lisp_Value *argv) {
    size_t n;
    const char *src = lisp_checkstring(S, argv, 0, &n);
    lisp_Value forms;
    (void)argc;
    forms = lisp_readall(S, src, n, "read");
    if (forms.tag == LISP_TNIL) {
        lisp_error(S, "read: no datum in the string");
    }
    return lisp_car(forms);
}

/* (read-file path): every datum of the file, unevaluated, as a list. */
static lisp_Value cfun_readfile(lisp_State *S, int argc, lisp_Value *argv) {
    const char *path = lisp_checkpath(S, argv, 0);
    size_t n;
    lisp_Value text = lisp_readfile(S, path, "read-file");
    const char *src = lisp_str(text, &n);
    (void)argc;
    return lisp_readall(S, src, n, path);
}

/* ---- heap statistics ---- */

static lisp_Value cfun_heapstats(lisp_State *S, int argc, lisp_Value *argv) {
    sbuf b;
    (void)argc;
    (void)argv;
    sbuf_initm(&b, S->M);
    lisp_heapstats_text(S, &b);
    out(S, &b);
    return lisp_nil();
}

static lisp_Value cfun_gcstats(lisp_State *S, int argc, lisp_Value *argv) {
    if (lisp_gc(S) != 0) {
        lisp_error(S, "gc-stats: forced collection during tick under fail-on-tick-gc policy");
    }
    return cfun_heapstats(S, argc, argv);
}

/* (gc.step us): incremental collection for up to 'us' microseconds. */
static lisp_Value cfun_gcstep(lisp_State *S, int argc, lisp_Value *argv) {
    int64_t us = lisp_checkintrange(S, argv, 0, "US", LISP_INTONLY, 0, LISPBT_GC_STEP_MAX_US);
    int r;
    (void)argc;
    r = lisp_gcstep(S, us * 1000);
    if (r < 0) {
        lisp_error(S, "gc.step: collection requested during tick under fail-on-tick-gc policy");
    }
    return lisp_bool(r == 1);
}

/* ---- collection policy ---- */

static lisp_Value policykeyword(lisp_State *S, int p) {
    char kw[32];
    snprintf(kw, sizeof kw, ":%s", lisp_gcpolicynames[p]);
    return lisp_cintern(S, kw);
}

static lisp_Value cfun_gcpolicy(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    (void)argv;
    return policykeyword(S, lisp_gcpolicy(S));
}

/* (gc.set-policy! p): p a symbol or string, with or without the ':'. */
static lisp_Value cfun_gcsetpolicy(lisp_State *S, int argc, lisp_Value *argv) {
    size_t n;
    const char *s = lisp_checkname(S, argv, 0, &n);
    int p;
    (void)argc;
    if (n > 0 && s[0] == ':') {
        s++;
        n--;
    }
    for (p = 0; p < LISP_GCNPOLICIES; p++) {
        if (strlen(lisp_gcpolicynames[p]) == n && memcmp(lisp_gcpolicynames[p], s, n) == 0) {
            lisp_setgcpolicy(S, p);
            return policykeyword(S, p);
        }
    }
    lisp_argerror(S, argv, 0, "expected :default, :between-ticks, :manual, or :fail-on-tick-gc");
}

const lisp_Reg lisp_lib_sys[] = {
    {"rng.make", 1, 1, cfun_rng_make, 0, "(rng.make seed) -> new generator"},
    {"rng.uniform", 1, 3, cfun_rng_uniform, 0, "(rng.uniform r [lo hi]) -> float in [lo, hi)"},
    {"rng.normal", 1, 3, cfun_rng_normal, 0, "(rng.normal r [mean sd]) -> normal deviate"},
    {"rng.int", 2, 3, cfun_rng_int, 0, "(rng.int r n) -> integer in [0, n-1]; (rng.int r lo hi) -> in [lo, hi]"},
    {"time.now-ms", 0, 0, cfun_time_ms, 0, "(time.now-ms) -> monotonic integer milliseconds"},
    {"time.now-ns", 0, 0, cfun_time_ns, 0, "(time.now-ns) -> monotonic integer nanoseconds"},
    {"time.thread-cpu-ns", 0, 0, cfun_time_threadcpu, 0,
     "(time.thread-cpu-ns) -> CPU time of the calling thread, integer nanoseconds"},
    {"time.sleep-ms", 1, 1, cfun_time_sleep, 0, "(time.sleep-ms ms) -> nil after blocking ms"},
    {"hash64", 1, 1, cfun_hash64, 0, "(hash64 string|symbol|int) -> non-negative 64-bit hash"},
    {"error", 1, LISP_VARARG, cfun_error, 0, "(error msg x ...) -> raises"},
    {"print", 0, LISP_VARARG, cfun_print, 0, "(print x ...) -> nil; displays, newline"},
    {"write", 1, 1, cfun_write, 0, "(write x) -> x; writes readable form"},
    {"write-to-string", 1, 1, cfun_writestr, 0, "(write-to-string x) -> readable form"},
    {"print-limit", 0, 1, cfun_printlimit, LISP_FRUNTIME,
     "(print-limit [n]) -> the print limit in bytes; sets it to n"},
    {"print-style", 0, 1, cfun_printstyle, LISP_FRUNTIME,
     "(print-style [style]) -> the printer style, lispbt or muesli; sets it to style"},
    {"save", 2, 2, cfun_save, 0, "(save path x) -> #t; writes x readably to a file"},
    {"read", 1, 1, cfun_read, 0, "(read string) -> first datum, unevaluated"},
    {"read-file", 1, 1, cfun_readfile, 0, "(read-file path) -> list of every datum in the file"},
    {"%load", 1, 1, cfun_load, 0, "(%load path) -> last value; used by the load form"},
    {"heap-stats", 0, 0, cfun_heapstats, LISP_FRUNTIME, "(heap-stats) -> nil; prints"},
    {"gc-stats", 0, 0, cfun_gcstats, LISP_FRUNTIME, "(gc-stats) -> nil; collects, prints"},
    {"gc.step", 1, 1, cfun_gcstep, 0,
     "(gc.step us) -> #t when a collection cycle ended; collects incrementally for up to us microseconds"},
    {"gc.policy", 0, 0, cfun_gcpolicy, 0, "(gc.policy) -> :default|:between-ticks|..."},
    {"gc.set-policy!", 1, 1, cfun_gcsetpolicy, 0, "(gc.set-policy! p) -> the policy keyword"},
    {NULL, 0, 0, NULL, 0, NULL}};
