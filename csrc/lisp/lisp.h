/*
** lisp.h -- the Lisp API for the other subsystems (bt, planner, bindings).
** See LICENSE for copyright.
**
** A lisp_State is one Lisp world: heap, interned symbols, global bindings,
** value stack.  It belongs to one host and is used only on the thread that
** owns that host.  Nothing here is a process global.
**
** Values.  A lisp_Value is a small tagged struct.  nil, booleans, integers
** (int64) and floats (double) are immediate; every other value points to a
** heap object managed by a precise, non-moving mark/sweep collector.
**
** Rooting discipline (the rule every C caller must follow).  Any allocation
** may run a collection step or a full collection.  Every constructor
** therefore PUSHES its new object on the value stack, which is a GC root,
** and also returns it.  A value held only in a C local is safe until the
** next allocation; to keep it longer, leave it on the stack.  Callers bound
** their stack use with lisp_gettop()/lisp_settop(): builtins need not do this
** themselves, because the call protocol resets the stack after each call.
**
** Errors.  lisp_error() longjmps to the innermost lisp_pcall() of this state.
** Never let it cross a Lua frame, a held lock or a thread: the bindings run
** every Lisp entry under lisp_pcall and convert the status into a Lua error.
** "Raises" below means such a longjmp, with the status named (ERRRUN unless
** said otherwise).  Every function that may allocate a Lisp object may also
** raise ERRMEM ("out of memory") and run a collection; every function that
** pushes may raise ERRRUN "stack overflow".  The status, never the message
** text, tells an allocation failure apart: raise it with lisp_memerror().
**
** Ownership.  Lisp objects belong to the collector; C code never frees one.
** Strings passed in are copied unless said otherwise; strings returned
** (lisp_str, lisp_errmsg, ...) point into the state and stay valid while the
** object is reachable (or until the next error, for lisp_errmsg).
*/
#ifndef LISPBT_LISP_H
#define LISPBT_LISP_H

#include "conf.h"

#include <stdarg.h>

#include "mem.h"

typedef struct lisp_State lisp_State;
typedef struct lisp_Object lisp_Object;

/* Value tags.  Heap tags equal the object's type byte. */
enum {
    LISP_TNIL,
    LISP_TBOOL,
    LISP_TINT,
    LISP_TFLOAT,
    LISP_TSTRING, /* first heap type */
    LISP_TSYMBOL,
    LISP_TCONS,
    LISP_TPRIM,
    LISP_TCLOSURE,
    LISP_TVEC,
    LISP_TMAP,
    LISP_TRNG,
    LISP_TPQ,    /* priority queue (pq.*) */
    LISP_TUDATA, /* host objects: bt_def, bt_instance, ... */
    LISP_TPROTO, /* internal: compiled code */
    LISP_TENV,   /* internal: captured frame */
    LISP_NTYPES
};

typedef struct lisp_Value {
    union {
        int64_t i;
        double f;
        int b;
        lisp_Object *o;
    } u;
    uint8_t tag;
} lisp_Value;

/* Status codes of lisp_pcall and friends. */
enum { LISP_OK = 0, LISP_ERRRUN, LISP_ERRSYNTAX, LISP_ERRMEM };

/* A builtin: 'argv' points into the value stack, argv[-1] is the callee
** (a primitive object; error messages take its name from there). */
typedef lisp_Value (*lisp_CFunction)(lisp_State *S, int argc, lisp_Value *argv);

#define LISP_VARARG (-1)
/* Reg flags. */
#define LISP_FRUNTIME 1u /* a runtime builtin: also mirrored on the Lua side */

/* One builtin table entry (Janet JanetRegExt, Lua luaL_Reg). */
typedef struct lisp_Reg {
    const char *name; /* Lisp name, e.g. "bt.stats" */
    int min, max;     /* arity; max = LISP_VARARG for any */
    lisp_CFunction fn;
    unsigned flags;
    const char *doc; /* one line: signature and result */
} lisp_Reg;

/* Host object type descriptor, compared by pointer (Janet JanetAbstractType),
** static and owned by the caller.  'name' names the printed form #<NAME ID>
** (ID is lisp_udataid); 'mark' marks the Lisp values the object holds (may
** be NULL); 'free' releases its C resources when the object is collected or
** the state freed (may be NULL; must not allocate Lisp objects or raise).
** 'barrier' 1 promises that every store of a Lisp value into the object's
** contents is followed by lisp_udatabarrier: the collector then traverses
** the object once per cycle, in a step; with 0 it traverses it again in the
** atomic step at the end of marking (its contents may have changed
** unseen), which makes that step grow with the number of such objects. */
typedef struct lisp_UType {
    const char *name;
    void (*mark)(lisp_State *S, void *p);
    void (*free)(lisp_State *S, void *p);
    int barrier;
} lisp_UType;

/* Options of lisp_new. */
typedef struct lisp_Opts {
    int max_depth;     /* non-tail call depth (default 10000) */
    size_t heap_limit; /* if not 0: mem_setlimit(M, heap_limit) once the state
                       ** is built (a host sets its limit itself, later) */
    int gc_stress;     /* 1: full collection at every allocation; 2: an
                          incremental step at every allocation (lisp_gc.c) */
    size_t print_limit; /* bytes of one printed value (0 = LISPBT_PRINT_LIMIT) */
    int print_style;    /* LISP_PRINT_MUESLI (default) or LISP_PRINT_LISPBT */
} lisp_Opts;

/* Printer styles (lisp_write, option 'print_style', builtin print-style).
** LISP_PRINT_MUESLI (the default): the reference runtime's forms, so
** output diffs against muesli-bt's: floats with 15 significant digits
** ('%.15g', which may not read back equal), 'inf' '-inf' 'nan', (quote x),
** symbols as they are, <closure>, <primitive:NAME>, <vec:N>, <map:N>,
** <rng>, <pq:N>, <bt_def:N>, <bt_instance:N>.  LISP_PRINT_LISPBT: floats in
** the shortest text that reads back equal, '+inf.0' '-inf.0' '+nan.0', 'x
** quote sugar, |odd symbols|, #(vec) #{map}, #<closure NAME>,
** #<primitive NAME>. */
enum { LISP_PRINT_MUESLI = 0, LISP_PRINT_LISPBT = 1 };
int lisp_printstyle(lisp_State *S);
void lisp_setprintstyle(lisp_State *S, int style);

/* ---- state ---- */

/* Create a state that allocates through 'M' (owned by the caller and kept
** alive until lisp_free).  'host' is an opaque back pointer (lisp_host).
** Returns NULL when out of memory.  Opens every builtin of 'libs' (a
** NULL-terminated list of NULL-name-terminated arrays). */
lisp_State *lisp_new(mem_Heap *M, const lisp_Opts *o, void *host,
                     const lisp_Reg *const *libs);
/* Free every object (running each lisp_UType free hook) and the state
** itself.  'S' is no longer valid; the mem_Heap is the caller's again. */
void lisp_free(lisp_State *S);
/* The 'host' pointer given to lisp_new.  Never raises. */
void *lisp_host(lisp_State *S);
/* Slots of the layers above the language (LISPBT_SLOT_* in conf.h): a layer
** that builds on Lisp keeps its per-state object in its slot, so its
** builtins find it from 'S' without knowing who assembled the state.  A
** slot is NULL until set; setting never allocates or raises. */
void *lisp_slot(lisp_State *S, int slot);
void lisp_setslot(lisp_State *S, int slot, void *p);
/* The allocator given to lisp_new (for C data counted with the state's). */
mem_Heap *lisp_mem(lisp_State *S);
/* Hook called when a primitive made by lisp_newprim with ud > 0 is
** collected (the binding releases the Lua function behind it).  The hook
** must not allocate Lisp objects or raise. */
void lisp_setprimfree(lisp_State *S, void (*f)(lisp_State *S, int64_t ud));
/* Mark 'v' reachable; only inside a lisp_UType mark hook or the host
** mark hook. */
void lisp_markvalue(lisp_State *S, lisp_Value v);
/* The write barrier of a udata whose type has 'barrier' set: call after
** storing 'v' into the contents of the object whose data is 'p' (the
** pointer lisp_newudata returned).  Never raises or allocates; outside
** marking it returns at once. */
void lisp_udatabarrier(lisp_State *S, void *p, lisp_Value v);
/* Hook called during marking so the host can mark values it holds (with
** lisp_markvalue); replaces any previous hook.  The hook must not allocate
** Lisp objects or raise. */
void lisp_setmarkhook(lisp_State *S, void (*f)(lisp_State *S, void *ud), void *ud);

/* ---- stack ---- */
/* Number of values on the stack (the index the next push gets). */
int lisp_gettop(lisp_State *S);
/* Cut the stack back to 'top', or grow it to 'top' with nils.  'top' must
** be at most a height the stack has had (never checked, never raises). */
void lisp_settop(lisp_State *S, int top);
/* Push 'v' (rooting it).  Raises "stack overflow" when the stack is full. */
void lisp_push(lisp_State *S, lisp_Value v);
/* The slot at absolute, 0-based index 'idx' (below lisp_gettop; unchecked).
** The pointer stays valid: the stack never moves. */
lisp_Value *lisp_at(lisp_State *S, int idx);

/* ---- immediates ---- */
static inline lisp_Value lisp_nil(void) {
    lisp_Value v;
    v.u.i = 0;
    v.tag = LISP_TNIL;
    return v;
}
static inline lisp_Value lisp_bool(int b) {
    lisp_Value v;
    v.u.i = 0;
    v.u.b = b != 0;
    v.tag = LISP_TBOOL;
    return v;
}
static inline lisp_Value lisp_int(int64_t i) {
    lisp_Value v;
    v.u.i = i;
    v.tag = LISP_TINT;
    return v;
}
static inline lisp_Value lisp_float(double f) {
    lisp_Value v;
    v.u.f = f;
    v.tag = LISP_TFLOAT;
    return v;
}
static inline lisp_Value lisp_obj(lisp_Object *o, int tag) {
    lisp_Value v;
    v.u.i = 0;
    v.u.o = o;
    v.tag = (uint8_t)tag;
    return v;
}
#define lisp_type(v) ((v).tag)
#define lisp_isnil(v) ((v).tag == LISP_TNIL)
#define lisp_istrue(v) (!((v).tag == LISP_TNIL || ((v).tag == LISP_TBOOL && !(v).u.b)))
#define lisp_isnumber(v) ((v).tag == LISP_TINT || (v).tag == LISP_TFLOAT)
/* 1 if 'v' is a host object of type 't'. */
int lisp_isudata(lisp_Value v, const lisp_UType *t);
/* Static name of v's type ("integer", "list", a lisp_UType's name, ...). */
const char *lisp_typename(lisp_Value v);

/* ---- constructors: each pushes its result (see the rooting rule) ----
** Each may collect, and raises ERRMEM or "stack overflow". */
/* A string copying [s, s+n) (NUL-terminated copy); s == NULL gives n zero
** bytes for the caller to fill in before the next allocation. */
lisp_Value lisp_string(lisp_State *S, const char *s, size_t n);
lisp_Value lisp_cstring(lisp_State *S, const char *s);
/* The symbol named [s, s+n), made on first use (symbols are never freed). */
lisp_Value lisp_intern(lisp_State *S, const char *s, size_t n);
lisp_Value lisp_cintern(lisp_State *S, const char *s);
/* A pair; 'car' and 'cdr' are rooted across the allocation. */
lisp_Value lisp_cons(lisp_State *S, lisp_Value car, lisp_Value cdr);
/* An empty vec with room for 'cap' items. */
lisp_Value lisp_vec(lisp_State *S, int64_t cap);
/* An empty map ('cap' is a hint, currently unused). */
lisp_Value lisp_map(lisp_State *S, int64_t cap);
/* New host object; returns its zeroed payload (size bytes) and its value in
** '*out'.  The payload lives until the object is collected. */
void *lisp_newudata(lisp_State *S, const lisp_UType *t, size_t size, lisp_Value *out);
/* A primitive implemented by 'fn' with a dynamic name (copied) and an
** integer 'ud' the function can read back with lisp_primud(argv[-1]). */
lisp_Value lisp_newprim(lisp_State *S, const char *name, int min, int max,
                        lisp_CFunction fn, int64_t ud);

/* ---- accessors ----
** None allocates or raises unless it takes 'S'.  Functions named for a type
** (lisp_veclen, lisp_udata, lisp_primud, lisp_setcar, ...) require a value
** of that type: the type is not checked. */
/* The bytes of a string or symbol (NUL-terminated; length in *len if
** 'len' is not NULL), owned by the object; NULL for any other value. */
const char *lisp_str(lisp_Value v, size_t *len);
/* car/cdr of a pair; nil for any other value. */
lisp_Value lisp_car(lisp_Value v);
lisp_Value lisp_cdr(lisp_Value v);
/* Store into a pair; they take 'S' for the collector's write barrier. */
void lisp_setcar(lisp_State *S, lisp_Value c, lisp_Value v);
void lisp_setcdr(lisp_State *S, lisp_Value c, lisp_Value v);
int64_t lisp_veclen(lisp_Value v);
/* The items of a vec; valid until the vec grows.  For reading: a store
** goes through lisp_vecset (the collector's write barrier). */
lisp_Value *lisp_vecitems(lisp_Value v);
/* Store 'x' at index 'i' (0 <= i < length; not checked). */
void lisp_vecset(lisp_State *S, lisp_Value vec, int64_t i, lisp_Value x);
/* Append 'x' (rooted across the growth).  Raises ERRMEM. */
void lisp_vecpush(lisp_State *S, lisp_Value vec, lisp_Value x);
/* The payload of a host object, owned by the object. */
void *lisp_udata(lisp_Value v);
/* The per-state serial number of a host object (its printed ID). */
int64_t lisp_udataid(lisp_Value v);
/* The 'ud' and name given to lisp_newprim (or the lisp_Reg name). */
int64_t lisp_primud(lisp_Value prim);
const char *lisp_primname(lisp_Value prim);
/* Map access.  Keys compare as eq? (immediates by tag and value, objects by
** identity), except strings, which compare by contents.  lisp_mapget
** returns 1 and sets *out when found, else 0. */
int lisp_mapget(lisp_Value map, lisp_Value key, lisp_Value *out);
/* map[key] = val; 'key' and 'val' are rooted across the growth.  Raises
** ERRMEM. */
void lisp_mapset(lisp_State *S, lisp_Value map, lisp_Value key, lisp_Value val);
/* map[key] = v with a string key made from 'key' ('v' is rooted here). */
void lisp_mapsetstr(lisp_State *S, lisp_Value map, const char *key, lisp_Value v);
/* Look up a string key by its bytes without allocating. */
int lisp_mapgetstr(lisp_Value map, const char *s, size_t n, lisp_Value *out);
/* Iterate: start with *it = 0; returns 1 with the next entry, 0 when done.
** The map must not be changed during the iteration. */
int lisp_mapnext(lisp_Value map, int64_t *it, lisp_Value *key, lisp_Value *val);
int64_t lisp_mapcount(lisp_Value map);
/* Length of a proper list, or -1 if improper or cyclic. */
int64_t lisp_listlen(lisp_Value v);
/* Identity for objects, value for immediates of one type (map keys). */
int lisp_eq(lisp_Value a, lisp_Value b);
/* eq?: lisp_eq, but an integer and a float compare by value (2 = 2.0). */
int lisp_eqp(lisp_Value a, lisp_Value b);
/* equal?: structural.  Raises "equal?: structure nested too deeply". */
int lisp_equal(lisp_State *S, lisp_Value a, lisp_Value b);
/* A hash consistent with map keys (never 0 or 1). */
uint64_t lisp_hash(lisp_Value v);

/* ---- globals ---- */
/* Define (or redefine) global 'name' (copied).  Interns: raises ERRMEM. */
void lisp_setglobal(lisp_State *S, const char *name, lisp_Value v);
/* Read global 'name'; returns 1 and sets *out, or 0 if unbound.  Interns
** the name, so it may collect and raise ERRMEM like a constructor. */
int lisp_getglobal(lisp_State *S, const char *name, lisp_Value *out);
/* Read the global binding of symbol 'sym' (a value of lisp_intern); returns
** 1 and sets *out, or 0 if unbound.  Never allocates or raises: an
** embedder that interns a name once (and pins the symbol) reads it here. */
int lisp_symget(lisp_Value sym, lisp_Value *out);

/* ---- evaluation ---- */
/* Protected call: runs f(S, ud); returns LISP_OK or the status of the
** error f raised.  On error the stack is restored to its height at entry
** and the message is in lisp_errmsg(S).  Never raises; nests. */
int lisp_pcall(lisp_State *S, void (*f)(lisp_State *S, void *ud), void *ud);
/* Protected call of the procedure bound to symbol 'sym' (a value of
** lisp_intern) with the 'nargs' values 'argv': lisp_pcall of lisp_call
** in one step, for an embedder's hot entry (no callback, no pushes by
** the caller).  The values of 'argv' must be reachable otherwise or be
** immediates (nil, booleans, numbers): they are not rooted before the
** call.  Allocation failures outside any builtin name 'fname', as does
** an unbound symbol ("FNAME: unbound symbol: NAME").  Returns LISP_OK with
** the result in '*out' and pushed (the caller restores the stack top), or
** the error's status with the stack restored, as lisp_pcall. */
int lisp_pcallsym(lisp_State *S, lisp_Value sym, const char *fname, int nargs,
                  const lisp_Value *argv, lisp_Value *out);
/* The message of the last error, owned by the state (overwritten by the
** next error). */
const char *lisp_errmsg(lisp_State *S);
/* Call the procedure at stack index 'fidx' with the 'nargs' values above
** it; the stack is cut back to 'fidx' and the result returned (not pushed).
** Raises on error. */
lisp_Value lisp_call(lisp_State *S, int fidx, int nargs);
/* Read and evaluate every form of 'src' (chunk name 'chunk' for messages);
** returns the last value.  Raises on error. */
lisp_Value lisp_evalstring(lisp_State *S, const char *src, size_t n, const char *chunk);
/* The contents of file 'path' as a Lisp string (pushed).  Raises
** "FNAME: cannot open 'PATH': REASON" or "FNAME: cannot read 'PATH'". */
lisp_Value lisp_readfile(lisp_State *S, const char *path, const char *fname);
/* Read all forms of 'src' into a proper list (pushed).  Raises ERRSYNTAX. */
lisp_Value lisp_readall(lisp_State *S, const char *src, size_t n, const char *chunk);

/* ---- errors ----
** Messages are formatted into the state's buffer (truncated at 511 bytes)
** and prefixed with "chunk:line:col: " of the call being evaluated. */
/* Raise ERRRUN with a printf-formatted message, whatever its text. */
LISPBT_NORETURN void lisp_error(lisp_State *S, const char *fmt, ...) LISPBT_PRINTF(2, 3);
/* Raise 'status' (a LISP_ERR* code) with a formatted message. */
LISPBT_NORETURN void lisp_verror(lisp_State *S, int status, const char *fmt, va_list ap);
/* Raise ERRMEM, message "NAME: out of memory" where NAME is the builtin
** running (or "eval" outside any builtin: reader, compiler, procedure
** frames).  Every allocation failure, in any layer, raises it this way or
** with lisp_nomem (never lisp_error with that text). */
LISPBT_NORETURN void lisp_memerror(lisp_State *S);
/* Set the name lisp_memerror reports outside any builtin (an embedder's
** entry point, e.g. the Lua method running); returns the previous one.
** 'fname' must stay valid until it is replaced. */
const char *lisp_setfname(lisp_State *S, const char *fname);
/* Resize a C block (lisp_mem(S) accounting: 'p' of 'osize' bytes, NULL
** allocates) for a builtin: if the allocator refuses (heap_limit), runs a
** full collection and tries once more.  NULL if that fails too ('p' stays
** valid).  Only where a collection may run (values rooted). */
void *lisp_realloc(lisp_State *S, void *p, size_t osize, size_t nsize);
/* Raise ERRMEM, message "FNAME: out of memory" (FNAME NULL: "eval"). */
LISPBT_NORETURN void lisp_nomem(lisp_State *S, const char *fname);
/* For a C allocation outside the Lisp heap that failed and left nothing
** half-done, so that it can be retried: the first time ('*tried' 0) on a
** host with a heap limit, runs a full collection (Lisp garbage counts
** against the same limit), sets '*tried' and returns, and the caller tries
** once more; otherwise raises lisp_nomem(S, FNAME).  The idiom:
**     int tried = 0;
**     while (alloc_something(...) != 0) lisp_memretry(S, "NAME", &tried);
** Call it only where a collection may run (values rooted, lisp.h). */
void lisp_memretry(lisp_State *S, const char *fname, int *tried);
/* Raise "NAME: WHAT, got REPR" where NAME is the builtin being called and
** REPR the written form of argv[i] (cut at 100 bytes). */
LISPBT_NORETURN void lisp_argerror(lisp_State *S, lisp_Value *argv, int i, const char *what);
/* Argument checks for builtins: argv[i] as the type named, or raise
** lisp_argerror ("expected an integer", "expected a number", "expected a
** string", "expected a symbol or string", "expected a NAME").  Returned
** strings and payloads are owned by the argument's object. */
int64_t lisp_checkint(lisp_State *S, lisp_Value *argv, int i);
double lisp_checknumber(lisp_State *S, lisp_Value *argv, int i); /* int or float */
const char *lisp_checkstring(lisp_State *S, lisp_Value *argv, int i, size_t *len);
const char *lisp_checkname(lisp_State *S, lisp_Value *argv, int i, size_t *len);
/* A file path: a string, not empty and without NUL bytes (a C path cannot
** hold one: docs/reference/lua.md "Strings and names"). */
const char *lisp_checkpath(lisp_State *S, lisp_Value *argv, int i);
void *lisp_checkudata(lisp_State *S, lisp_Value *argv, int i, const lisp_UType *t);
/* ---- numbers to C integers ----
** The one conversion of a Lisp number to a C integer (docs/architecture.md
** §7 "Numbers"): a C cast of a NaN, infinite or out-of-range double is
** undefined behaviour, so nothing else converts a float to an integer.
** 'num' 0 takes integers only; 'num' 1 any number, a float being
** truncated toward zero.  The range [lo, hi] is checked on the value
** before any conversion, so -0.5 is outside [0, hi] and NaN outside any. */
enum { LISP_INTONLY = 0, LISP_ANYNUM = 1 };
/* 1 and '*out' set when 'v' is a number of the kind 'num' in [lo, hi]; else
** 0.  Never raises, never allocates (leaves call it at tick time). */
int lisp_tointrange(lisp_Value v, int num, int64_t lo, int64_t hi, int64_t *out);
/* The one message for a number outside its range, into 'buf' (cut at
** 'size'): "ARG must be an integer in [LO, HI], got REPR" ("a number" when
** 'num' is 1; ">= LO" instead of the range when 'hi' is INT64_MAX).  Allocates no Lisp value (leaves format it at tick time). */
void lisp_rangemsg(lisp_State *S, char *buf, size_t size, const char *arg, int num, int64_t lo,
                   int64_t hi, lisp_Value got);
/* argv[i] as lisp_tointrange, or raise "NAME: " + lisp_rangemsg. */
int64_t lisp_checkintrange(lisp_State *S, lisp_Value *argv, int i, const char *arg, int num,
                           int64_t lo, int64_t hi);
/* Name of the builtin being called ('argv[-1]'); "?" if not a primitive. */
const char *lisp_fname(lisp_Value *argv);

/* ---- printing ---- */
struct sbuf;
/* The state's scratch text buffer, emptied.  Builtins that return text
** render into it and finish with lisp_scratchstring: the buffer belongs to
** the state, so an error between the two can never leak it.  Valid until
** the next lisp_scratch call; not for use across calls into Lisp code. */
struct sbuf *lisp_scratch(lisp_State *S);
/* The scratch text as a new Lisp string (pushed); raises ERRMEM if the
** rendering ran out of memory. */
lisp_Value lisp_scratchstring(lisp_State *S);
/* Append the written form of 'v' to 'b' (the caller's buffer), in the
** state's print style (readable in LISP_PRINT_LISPBT; muesli-bt's printed
** form, <vec:N> and the like included, in LISP_PRINT_MUESLI);
** 'display' omits string quotes and symbol bars.  At most the state's
** print limit (lisp_printlimit) of bytes is written: a longer form is cut
** there and "..." appended, and the walk stops, so a value that shares
** structure costs no more than the limit.  Nesting deeper than
** LISPBT_PRINT_MAXDEPTH prints "..." (a vec that contains itself ends).
** Returns 1 if the form was cut, else 0.  Never raises: a failed append
** sets b->oom. */
int lisp_write(lisp_State *S, struct sbuf *b, lisp_Value v, int display);
/* lisp_write with an explicit byte limit 'limit' (>= 1). */
int lisp_writen(lisp_State *S, struct sbuf *b, lisp_Value v, int display, size_t limit);
/* The written form of 'v' for an error message: at most LISPBT_REPR_MAX
** bytes then "...", into 'out' (of 'size' bytes, NUL-terminated; "?" if
** out of memory).  Returns 'out'.  Never raises. */
const char *lisp_repr(lisp_State *S, lisp_Value v, char *out, size_t size);
/* Outcomes of lisp_writereadable. */
enum { LISP_WRITE_OK, LISP_WRITE_TOOLONG, LISP_WRITE_UNREADABLE };
/* Write 'v' for 'save': LISP_WRITE_OK when the whole form was written
** within 'limit' bytes and reads back as an equal value;
** LISP_WRITE_TOOLONG when it is longer than 'limit'; LISP_WRITE_UNREADABLE
** with the first offending value in *bad when it holds an unreadable object
** (closure, host object, ...) or a cycle or nesting the printer cuts (then
** *bad is that list, vec or map).  Never raises. */
int lisp_writereadable(lisp_State *S, struct sbuf *b, lisp_Value v, size_t limit, lisp_Value *bad);
/* Write 'v' for 'write' and 'write-to-string' in the state's style,
** within its print limit.  In LISP_PRINT_MUESLI, LISP_WRITE_UNREADABLE
** with the first part muesli-bt's write rejects in *bad (a closure,
** primitive, vec, map, rng, pq, host object, non-finite float, or a cyclic
** or too deeply nested list); else LISP_WRITE_OK (the lispbt style writes
** #<...> for them).  Never raises. */
int lisp_writechecked(lisp_State *S, struct sbuf *b, lisp_Value v, lisp_Value *bad);
/* The state's print limit in bytes (see lisp_write). */
size_t lisp_printlimit(lisp_State *S);
/* Set it ('n' >= 1).  Never raises. */
void lisp_setprintlimit(lisp_State *S, size_t n);

/* ---- heap statistics ---- */
typedef struct lisp_HeapStats {
    uint64_t total_allocated_objects; /* ever allocated */
    uint64_t live_objects_after_last_gc;
    uint64_t live_objects; /* now */
    uint64_t bytes_allocated; /* Lisp heap bytes now */
    uint64_t next_gc_threshold;
    uint64_t collections;
    uint64_t forced_collections; /* explicit ones: lisp_gc, gc-stats, host:gc() */
    int64_t gc_last_pause_ns, gc_max_pause_ns, gc_total_pause_ns; /* of every pause */
    int64_t gc_max_pause_cpu_ns;   /* longest pause in the thread's CPU time */
    int64_t gc_total_pause_cpu_ns; /* sum of every pause in the thread's CPU time */
    uint64_t gc_pauses;     /* pauses: incremental steps and full collections */
    const char *gc_state;   /* "idle", "mark" or "sweep" (static) */
    uint64_t freed_objects; /* ever freed */
    uint64_t heap_limit;
    int max_depth;
} lisp_HeapStats;
/* Fill *out from the state's counters.  Never raises. */
void lisp_heapstats(lisp_State *S, lisp_HeapStats *out);
/* A collection as the GC hook sees it (the gc.lifecycle.v1 figures of
** docs/events.md).  'reason': "explicit" (lisp_gc), "threshold" (the heap
** grew), "heap_limit" (an allocation over the limit), "between_ticks" (a
** collection deferred by that policy). */
typedef struct lisp_GcEvent {
    uint64_t id; /* the pause's number, from 1: each step is one pause */
    int phase;   /* 0 begin, 1 end (the *_after and time fields) */
    uint64_t cycle;   /* the collection (cycle) the pause works on, from 1 */
    const char *step; /* "full", or a step: "start", "mark", "sweep" (static) */
    int cycle_end;    /* end event: this pause finished its cycle */
    const char *reason, *policy;
    int forced, in_tick;
    int64_t bytes_before, objects_before, bytes_after, objects_after, freed;
    int64_t mark_ns, sweep_ns, pause_ns;
} lisp_GcEvent;
/* Call 'f' at the begin and end of every pause (NULL: none): every
** incremental step and every full collection.  'f'
** runs inside the collector: it must not allocate Lisp objects or raise. */
void lisp_setgchook(lisp_State *S, void (*f)(void *ud, const lisp_GcEvent *e), void *ud);
/* Full collection now; returns 0.  Never raises (a mark stack that cannot
** grow makes the collector rescan, not fail).  Under the FAILTICK policy
** inside a tick it collects nothing and returns -1. */
int lisp_gc(lisp_State *S);
/* Incremental collection for up to 'budget_ns' (gc.step): steps of
** LISPBT_GC_STEPWORK units, starting a cycle if none runs, until the
** budget is spent or a cycle ends (at least one step).  Returns 1 when a
** cycle ended, 0 if not; under FAILTICK inside a tick it does nothing and
** returns -1.  Never raises. */
int lisp_gcstep(lisp_State *S, int64_t budget_ns);
/* Append the SPEC §8 heap-stats lines plus extra lines to 'b'.  Never
** raises (b->oom on a failed append). */
void lisp_heapstats_text(lisp_State *S, struct sbuf *b);
/* GC pause durations (ns), owned by the state, for reports and exporters. */
struct hist_Hist;
const struct hist_Hist *lisp_gchist(lisp_State *S);
/* Objects ever allocated and total GC pause time (cheap, for per-tick
** series). */
uint64_t lisp_objcount(lisp_State *S);
int64_t lisp_gctime(lisp_State *S);

/* ---- pins: keep a value alive while a foreign owner (Lua) holds it ----
** None of these raises. */
/* Pin 'v'; returns a handle >= 0 for lisp_pinned/lisp_unpin, or -1 when out
** of memory (nothing pinned). */
int lisp_pin(lisp_State *S, lisp_Value v);
/* The value pinned under live handle 'h'. */
lisp_Value lisp_pinned(lisp_State *S, int h);
/* Release live handle 'h' (it may be reused by the next lisp_pin). */
void lisp_unpin(lisp_State *S, int h);

/* ---- collection policy (gc.policy, gc.set-policy!) ----
** The policy decides what happens when the collector would collect on its
** own (threshold or gc_stress) and while a BT tick runs (between
** lisp_tickbegin and lisp_tickend, which the engine calls around every
** tick; ticks nest).
**   DEFAULT   collect whenever the threshold says so;
**   BETWEEN   inside a tick, only note that a collection is due; the
**             outermost lisp_tickend runs it;
**   MANUAL    never collect on its own: only lisp_gc (gc-stats, host:gc)
**             and the heap_limit / allocator-failure collections, which
**             run before an allocation would otherwise fail;
**   FAILTICK  as DEFAULT outside ticks; inside a tick every collection,
**             automatic, heap_limit or explicit, raises (or, for lisp_gc,
**             is refused) instead of running. */
enum { LISP_GCDEFAULT, LISP_GCBETWEEN, LISP_GCMANUAL, LISP_GCFAILTICK, LISP_GCNPOLICIES };
/* Static names "default", "between-ticks", "manual", "fail-on-tick-gc". */
extern const char *const lisp_gcpolicynames[LISP_GCNPOLICIES];
int lisp_gcpolicy(lisp_State *S);
/* Set the policy ('p' one of LISP_GC*).  Never raises or collects. */
void lisp_setgcpolicy(lisp_State *S, int p);
/* Bracket one BT tick.  Neither raises; lisp_tickend runs the collection
** deferred by BETWEEN when the outermost tick ends (never raises). */
void lisp_tickbegin(lisp_State *S);
void lisp_tickend(lisp_State *S);
/* The same bracket inline, for the engine's tick path (a call into the
** collector's file cost more than the bracket itself): 'k' is
** lisp_tickscope(S), fixed for the state's life.  The fields are the
** collector's; only these two functions and lisp_gc.c touch them. */
typedef struct lisp_TickScope {
    int ticks;     /* nesting of lisp_tickbegin */
    int gcpending; /* BETWEEN: a collection fell due inside a tick */
} lisp_TickScope;
lisp_TickScope *lisp_tickscope(lisp_State *S);
/* The outermost tick ended with a collection pending: run it. */
void lisp_tickdue(lisp_State *S);
static inline void lisp_tickin(lisp_TickScope *k) {
    k->ticks++;
}
static inline void lisp_tickout(lisp_State *S, lisp_TickScope *k) {
    if (k->ticks > 0 && --k->ticks == 0 && lispbt_unlikely(k->gcpending)) {
        lisp_tickdue(S);
    }
}
/* Test support: check heap invariants; returns 0 when consistent, -1 on
** the first violation.  Never raises. */
int lisp_verify(lisp_State *S);
/* Test support: one incremental collector step of 'work' (> 0) units,
** ignoring the policy; returns 1 when it ended a cycle.  Never raises. */
int lisp_gcstepwork(lisp_State *S, int64_t work);

#endif
