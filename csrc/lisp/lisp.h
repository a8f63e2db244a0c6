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
** may run a full collection (always, under gc_stress).  Every constructor
** therefore PUSHES its new object on the value stack, which is a GC root,
** and also returns it.  A value held only in a C local is safe until the
** next allocation; to keep it longer, leave it on the stack.  Callers bound
** their stack use with lisp_gettop()/lisp_settop(): builtins need not do this
** themselves, because the call protocol resets the stack after each call.
**
** Errors.  lisp_error() longjmps to the innermost lisp_pcall() of this state.
** Never let it cross a Lua frame, a held lock or a thread: the bindings run
** every Lisp entry under lisp_pcall and convert the status into a Lua error.
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

/* Host object type descriptor, compared by pointer (Janet JanetAbstractType).
** 'mark' marks the Lisp values the object holds (may be NULL); 'free'
** releases its C resources (may be NULL); 'id' names the printed form:
** #<NAME ID>. */
typedef struct lisp_UType {
    const char *name;
    void (*mark)(lisp_State *S, void *p);
    void (*free)(lisp_State *S, void *p);
} lisp_UType;

/* Options of lisp_new. */
typedef struct lisp_Opts {
    int max_depth;     /* non-tail call depth (default 10000) */
    size_t heap_limit; /* bytes, 0 = unlimited */
    int gc_stress;     /* collect at every allocation */
} lisp_Opts;

/* ---- state ---- */

/* Create a state that allocates through 'M' (owned by the caller and kept
** alive until lisp_free).  'host' is an opaque back pointer (lisp_host).
** Returns NULL when out of memory.  Opens every builtin of 'libs' (a
** NULL-terminated list of NULL-name-terminated arrays). */
lisp_State *lisp_new(mem_Heap *M, const lisp_Opts *o, void *host,
                     const lisp_Reg *const *libs);
/* Free every object and the state itself.  'S' is no longer valid. */
void lisp_free(lisp_State *S);
void *lisp_host(lisp_State *S);
/* Slots of the layers above the language (LISPBT_SLOT_* in conf.h): a layer
** that builds on Lisp keeps its per-state object in its slot, so its
** builtins find it from 'S' without knowing who assembled the state.  A
** slot is NULL until set; setting never allocates or raises. */
void *lisp_slot(lisp_State *S, int slot);
void lisp_setslot(lisp_State *S, int slot, void *p);
mem_Heap *lisp_mem(lisp_State *S);
/* Hook called when a primitive made by lisp_newprim with ud > 0 is
** collected (the binding releases the Lua function behind it).  The hook
** must not allocate Lisp objects or raise. */
void lisp_setprimfree(lisp_State *S, void (*f)(lisp_State *S, int64_t ud));
/* Mark 'v' reachable; only inside a lisp_UType mark hook or the host
** mark hook. */
void lisp_markvalue(lisp_State *S, lisp_Value v);
/* Hook called during marking so the host can mark values it holds. */
void lisp_setmarkhook(lisp_State *S, void (*f)(lisp_State *S, void *ud), void *ud);

/* ---- stack ---- */
int lisp_gettop(lisp_State *S);
void lisp_settop(lisp_State *S, int top);
void lisp_push(lisp_State *S, lisp_Value v);
lisp_Value *lisp_at(lisp_State *S, int idx); /* absolute index, 0-based */

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
int lisp_isudata(lisp_Value v, const lisp_UType *t);
const char *lisp_typename(lisp_Value v);

/* ---- constructors: each pushes its result (see the rooting rule) ---- */
lisp_Value lisp_string(lisp_State *S, const char *s, size_t n);
lisp_Value lisp_cstring(lisp_State *S, const char *s);
lisp_Value lisp_intern(lisp_State *S, const char *s, size_t n);
lisp_Value lisp_cintern(lisp_State *S, const char *s);
lisp_Value lisp_cons(lisp_State *S, lisp_Value car, lisp_Value cdr);
lisp_Value lisp_vec(lisp_State *S, int64_t cap);
lisp_Value lisp_map(lisp_State *S, int64_t cap);
/* New host object; returns its zeroed payload (size bytes) and its value in
** '*out'.  The payload lives until the object is collected. */
void *lisp_newudata(lisp_State *S, const lisp_UType *t, size_t size, lisp_Value *out);
/* A primitive implemented by 'fn' with a dynamic name (copied) and an
** integer 'ud' the function can read back with lisp_primud(argv[-1]). */
lisp_Value lisp_newprim(lisp_State *S, const char *name, int min, int max,
                        lisp_CFunction fn, int64_t ud);

/* ---- accessors (no allocation) ---- */
const char *lisp_str(lisp_Value v, size_t *len); /* string or symbol */
lisp_Value lisp_car(lisp_Value v);
lisp_Value lisp_cdr(lisp_Value v);
void lisp_setcar(lisp_Value c, lisp_Value v);
void lisp_setcdr(lisp_Value c, lisp_Value v);
int64_t lisp_veclen(lisp_Value v);
lisp_Value *lisp_vecitems(lisp_Value v);
void lisp_vecpush(lisp_State *S, lisp_Value vec, lisp_Value x); /* may raise ERRMEM */
void *lisp_udata(lisp_Value v);
int64_t lisp_udataid(lisp_Value v);
int64_t lisp_primud(lisp_Value prim);
const char *lisp_primname(lisp_Value prim);
/* Map access; lisp_mapget returns 1 and sets *out when found. */
int lisp_mapget(lisp_Value map, lisp_Value key, lisp_Value *out);
void lisp_mapset(lisp_State *S, lisp_Value map, lisp_Value key, lisp_Value val);
/* map[key] = v with a string key made from 'key' ('v' is rooted here). */
void lisp_mapsetstr(lisp_State *S, lisp_Value map, const char *key, lisp_Value v);
/* Look up a string key by its bytes without allocating. */
int lisp_mapgetstr(lisp_Value map, const char *s, size_t n, lisp_Value *out);
/* Iterate: start with *it = 0; returns 0 when done. */
int lisp_mapnext(lisp_Value map, int64_t *it, lisp_Value *key, lisp_Value *val);
int64_t lisp_mapcount(lisp_Value map);
/* Length of a proper list, or -1 if improper or cyclic. */
int64_t lisp_listlen(lisp_Value v);
int lisp_eq(lisp_Value a, lisp_Value b);
int lisp_equal(lisp_State *S, lisp_Value a, lisp_Value b);
uint64_t lisp_hash(lisp_Value v);

/* ---- globals ---- */
/* Define (or redefine) global 'name'. */
void lisp_setglobal(lisp_State *S, const char *name, lisp_Value v);
/* Read global 'name'; returns 0 if unbound. */
int lisp_getglobal(lisp_State *S, const char *name, lisp_Value *out);

/* ---- evaluation ---- */
/* Protected call: runs f(S, ud); returns a status.  On error the stack is
** restored to its height at entry and the message is in lisp_errmsg(S). */
int lisp_pcall(lisp_State *S, void (*f)(lisp_State *S, void *ud), void *ud);
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

/* ---- errors ---- */
LISPBT_NORETURN void lisp_error(lisp_State *S, const char *fmt, ...) LISPBT_PRINTF(2, 3);
LISPBT_NORETURN void lisp_verror(lisp_State *S, int status, const char *fmt, va_list ap);
LISPBT_NORETURN void lisp_memerror(lisp_State *S);
/* "NAME: WHAT, got REPR" where NAME is the builtin being called. */
LISPBT_NORETURN void lisp_argerror(lisp_State *S, lisp_Value *argv, int i, const char *what);
int64_t lisp_checkint(lisp_State *S, lisp_Value *argv, int i);
double lisp_checknumber(lisp_State *S, lisp_Value *argv, int i);
const char *lisp_checkstring(lisp_State *S, lisp_Value *argv, int i, size_t *len);
/* string or symbol */
const char *lisp_checkname(lisp_State *S, lisp_Value *argv, int i, size_t *len);
void *lisp_checkudata(lisp_State *S, lisp_Value *argv, int i, const lisp_UType *t);
/* Name of the builtin being called ('argv[-1]'). */
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
/* Append the written (readable) form of 'v'; 'display' omits string quotes. */
void lisp_write(lisp_State *S, struct sbuf *b, lisp_Value v, int display);
/* 1 if 'v' has a readable written form (no closures, host objects, ...). */
int lisp_readable(lisp_State *S, lisp_Value v, lisp_Value *bad);

/* ---- heap statistics ---- */
typedef struct lisp_HeapStats {
    uint64_t total_allocated_objects; /* ever allocated */
    uint64_t live_objects_after_last_gc;
    uint64_t live_objects; /* now */
    uint64_t bytes_allocated; /* Lisp heap bytes now */
    uint64_t next_gc_threshold;
    uint64_t collections;
    int64_t gc_last_pause_ns, gc_max_pause_ns, gc_total_pause_ns;
    uint64_t freed_objects; /* ever freed */
    uint64_t heap_limit;
    int max_depth;
} lisp_HeapStats;
void lisp_heapstats(lisp_State *S, lisp_HeapStats *out);
/* Full collection now. */
void lisp_gc(lisp_State *S);
/* Render the SPEC §8 heap-stats lines plus extra lines. */
void lisp_heapstats_text(lisp_State *S, struct sbuf *b);
/* GC pause durations (ns), for reports and exporters. */
struct hist_Hist;
const struct hist_Hist *lisp_gchist(lisp_State *S);
/* Objects ever allocated and total GC pause time (cheap, for per-tick
** series). */
uint64_t lisp_objcount(lisp_State *S);
int64_t lisp_gctime(lisp_State *S);

/* ---- pins: keep a value alive while a foreign owner (Lua) holds it ---- */
int lisp_pin(lisp_State *S, lisp_Value v); /* returns handle >= 0, or -1 OOM */
lisp_Value lisp_pinned(lisp_State *S, int h);
void lisp_unpin(lisp_State *S, int h);

/* Test support: check heap invariants; returns 0 when consistent. */
int lisp_verify(lisp_State *S);

#endif
