/*
** lisp_obj.h -- object layouts and internal API of the Lisp core (private to
** csrc/lisp/ and lua_test.c).  See LICENSE for copyright.
**
** Every heap object starts with the common header {next, type, marked,
** col, line}.  'next' links all collectable objects of a state in 'allgc'
** (LISP_GCLISTS lists),
** except symbols, which live in the intern table and are swept from there.
** 'line'/'col' are the source position of a cons read by the reader (zero
** otherwise); they cost nothing because they fill the header's padding.
**
** Prefixes: lispO_ (lisp_obj.c: constructors, equality, hashing), lispS_
** (lisp_sym.c), lispC_ (lisp_gc.c), lispR_ (lisp_read.c), lispP_
** (lisp_print.c), lispK_ (lisp_compile.c), lispE_ (lisp_eval.c).
*/
#ifndef LISPBT_LISP_OBJ_H
#define LISPBT_LISP_OBJ_H

#include "conf.h"

#include <setjmp.h>

#include "lisp.h"
#include "hist.h"
#include "rng.h"
#include "sbuf.h"

struct lisp_Object {
    lisp_Object *next;
    uint8_t type;
    uint8_t marked;
    uint16_t col;
    uint32_t line;
};

typedef struct lisp_String {
    lisp_Object h;
    size_t len;
    char data[]; /* NUL-terminated */
} lisp_String;

typedef struct lisp_Symbol {
    lisp_Object h;
    lisp_Value value; /* global binding; tag LISP_TUNBOUND when unbound */
    struct lisp_Symbol *hnext; /* intern chain */
    uint64_t hash;
    uint8_t fixed; /* never collected (special-form names, keywords) */
    size_t len;
    char name[];
} lisp_Symbol;

typedef struct lisp_Cons {
    lisp_Object h;
    lisp_Value car, cdr;
} lisp_Cons;

typedef struct lisp_Prim {
    lisp_Object h;
    lisp_CFunction fn;
    const char *name;     /* static name, or nameobj's data */
    lisp_Object *nameobj; /* dynamic name (a string), else NULL */
    int16_t min, max;
    int64_t ud;
} lisp_Prim;

typedef struct lisp_Vec {
    lisp_Object h;
    lisp_Value *items;
    int64_t len, cap;
    int64_t gcpos; /* marking: items before this are traversed (lisp_gc.c) */
} lisp_Vec;

typedef struct lisp_MapEntry {
    lisp_Value key, val;
    uint64_t hash; /* 0 = empty slot; 1 = deleted */
} lisp_MapEntry;

typedef struct lisp_Map {
    lisp_Object h;
    lisp_MapEntry *e;
    int64_t cap;   /* power of two, or 0 */
    int64_t count; /* live entries */
    int64_t used;  /* live + deleted */
    int64_t gcpos; /* marking: slots before this are traversed (lisp_gc.c) */
} lisp_Map;

typedef struct lisp_Rng {
    lisp_Object h;
    rng_State st;
} lisp_Rng;

/* A priority queue: a binary min-heap on (prio, seq) in a C-heap array
** counted in the Lisp heap like a vec's items.  'seq' numbers insertions,
** so entries of equal priority leave in insertion order. */
typedef struct lisp_PqEntry {
    double prio;
    uint64_t seq;
    lisp_Value val;
} lisp_PqEntry;

typedef struct lisp_Pq {
    lisp_Object h;
    lisp_PqEntry *e;
    int64_t len, cap;
    uint64_t nextseq;
    int64_t gcpos; /* marking: entries before this are traversed (lisp_gc.c) */
} lisp_Pq;

typedef struct lisp_Udata {
    lisp_Object h;
    const lisp_UType *t;
    int64_t id;
    size_t size;
    union {
        max_align_t align;
        char bytes[1];
    } data[];
} lisp_Udata;

typedef struct lisp_Env {
    lisp_Object h;
    struct lisp_Env *parent;
    int32_t n;
    lisp_Value v[];
} lisp_Env;

typedef struct lispK_Code lispK_Code;

typedef struct lisp_Proto {
    lisp_Object h;
    lispK_Code *body;
    lispK_Code *codes; /* every node of this proto, for freeing */
    lisp_Value *k;     /* constants kept alive for the code */
    int32_t nk, capk;
    int16_t nparams;   /* required parameters */
    uint8_t rest;      /* has a rest parameter (slot nparams) */
    uint8_t heapframe; /* frame lives in a lisp_Env (inner lambdas) */
    int32_t framesize; /* params + rest + locals */
    lisp_Object *name;  /* symbol naming the procedure, or NULL */
    lisp_Object *chunk; /* string: chunk name */
    uint32_t line;
} lisp_Proto;

typedef struct lisp_Closure {
    lisp_Object h;
    lisp_Proto *p;
    lisp_Env *env;
} lisp_Closure;

/* ---- object colours (lisp_gc.c) ----
** 'marked' holds one of two whites, or black; gray is neither (an object
** waiting on the gray stack).  The current white is the colour of new
** objects; the other white is dead once a cycle's marking has ended. */
#define LISP_WHITE0 1
#define LISP_WHITE1 2
#define LISP_BLACK 4
#define LISP_WHITES (LISP_WHITE0 | LISP_WHITE1)
#define iswhite(o) ((o)->marked & LISP_WHITES)
#define LISP_GCCACHE_N 9 /* blocks of 8, 16, ..., 64 bytes */
#define LISP_GCLISTS 9   /* allgc lists: the udata, then 8 swept side by side (lisp_gc.c) */

/* GC states (S->gcstate). */
enum { GCSpause, GCSpropagate, GCSsweep };
/* The root scan of a cycle (S->gcroots, lisp_gc.c's markrootstep): the
** pins, then the intern table, then done. */
enum { GCRPINS, GCRSYMS, GCRDONE };

/* The write barrier: call after storing 'v' into a slot of heap object
** 'o' (a vec item, map entry, pq entry, cons field, env slot, proto
** constant, ...).  While the collector is marking, a non-white 'o' may
** already have been traversed, so a white 'v' is marked now (Dijkstra's
** barrier): the collector never sees a traversed object pointing at an
** unmarked one.  New objects are white, so the stores that initialise
** them need no barrier; udata contents and the value stack are rescanned
** at the end of marking and need none either.  A global's value has its
** own barrier (lispS_setvalue).
** Outside marking the cost is one load and one predictable branch. */
void lispC_barrierslow(lisp_State *S, lisp_Object *o, lisp_Object *v);
#define lispC_barrier(S, obj, val)                                        \
    do {                                                                  \
        if (lispbt_unlikely((S)->gcmarking) && isheap(val)) {             \
            lispC_barrierslow((S), (obj), (val).u.o);                     \
        }                                                                 \
    } while (0)

/* The barrier for a store into env slot 'slot', index 'n' of its env. */
#define lispC_envbarrier(S, slot, n, val)                                               \
    lispC_barrier(S, (lisp_Object *)((char *)((slot) - (n)) - offsetof(lisp_Env, v)), val)

/* Internal tags never seen by users. */
#define LISP_TUNBOUND 250 /* a symbol's value when unbound */
#define LISP_TTAIL 251    /* an eval result meaning "tail call pending" */

#define AS(T, v) ((T *)(v).u.o)
#define isheap(v) ((v).tag >= LISP_TSTRING && (v).tag < LISP_NTYPES)

/* The primitives the compiler inlines or calls directly: S->prim[LISPP_*],
** looked up once by name in lisp_new (lisp_state.c's primnames) and marked
** by the collector as one array. */
enum {
    LISPP_ADD, LISPP_SUB, LISPP_MUL, LISPP_LT, LISPP_GT, LISPP_LE, LISPP_GE, LISPP_NUMEQ,
    LISPP_CAR, LISPP_CDR, LISPP_CONS, LISPP_APPEND, LISPP_EQ, LISPP_NOT, LISPP_NULLP,
    LISPP_BTCOMPILE, LISPP_LOAD,
    LISPP_N
};

/* A protected-call record in the per-state handler chain. */
typedef struct lispE_Jmp {
    struct lispE_Jmp *prev;
    jmp_buf b;
    volatile int status;
} lispE_Jmp;

struct lisp_State {
    mem_Heap *M;
    void *host;
    void *slots[LISPBT_NSLOTS]; /* lisp_slot: per-layer objects */
    /* value stack: fixed capacity, never moves (pointers into it are stable) */
    lisp_Value *stack;
    lisp_Value *top;
    lisp_Value *stack_last; /* one past the last usable slot */
    size_t stack_cap;
    /* eval */
    int depth, max_depth;
    char *cstack_limit; /* lowest C stack address eval may reach */
    uintptr_t cstack_thread;
    const lispK_Code *cur; /* call site being evaluated, for error positions */
    const char *fname;     /* builtin running (lisp_memerror), or NULL */
    int nest;              /* nesting of lisp_pcall */
    lispE_Jmp *jmp;
    char errmsg[512];
    /* symbols */
    lisp_Symbol **symtab;
    size_t symcap, symcount;
    /* gc (lisp_gc.c's header comment: states, colours, pacing) */
    lisp_Object *allgc[LISP_GCLISTS]; /* [0] the udata, the others every other object but symbols, in turn */
    unsigned allgcnext;                /* the list of the next new object */
    size_t gcbytes;   /* Lisp heap bytes, objects and their payloads */
    size_t threshold; /* lispC_newobj calls the collector past this */
    size_t gcpause;   /* GCSpause: the next cycle starts at this size */
    size_t gcpaid;    /* during a cycle: allocation up to here is paid by steps */
    uint8_t gcstate;  /* GCS* */
    uint8_t curwhite; /* LISP_WHITE0 or LISP_WHITE1 */
    uint8_t gcmarking; /* gcstate == GCSpropagate: barriers are on */
    uint8_t gcremarks; /* GCSpropagate: rounds of remarkstack this cycle */
    uint8_t gcroots;   /* GCSpropagate: the root set being scanned (GCR*, lisp_gc.c) */
    size_t gcrootpos;  /* GCSpropagate: the next pin or symtab bucket to scan */
    uint8_t gcverify;  /* lisp_verify: lisp_markvalue reports a white value (2) instead of marking */
    lisp_Object **sweepgc[LISP_GCLISTS]; /* GCSsweep: the next link to sweep in each list */
    size_t sweepsym;                      /* GCSsweep: the next symtab bucket to sweep */
    uint64_t cycle_objects0; /* nobjects when the cycle started */
    int64_t cycle_mark_ns, cycle_sweep_ns;
    int gc_stress, gc_running;
    void (*gchook)(void *ud, const lisp_GcEvent *e); /* lisp_setgchook */
    void *gchookud;
    const char *gcreason; /* of the next collection (NULL: "threshold") */
    int gcpolicy;  /* LISP_GC* */
    lisp_TickScope tk; /* tick nesting and BETWEEN's pending collection */
    uint64_t nobjects, total_objects, freed_objects, live_after_gc, collections;
    uint64_t forced_collections; /* lisp_gc calls that collected (muesli-bt's count) */
    int64_t pause_last, pause_max, pause_total; /* of every step (pause) */
    int64_t pause_cpu0, pause_cpu_max, pause_cpu_total; /* thread CPU time: at the pause's start, longest, sum */
    uint64_t steps;   /* pauses: steps and full collections */
    hist_Hist pauses; /* GC pause durations, HIST_FINE */
    uint32_t *pausebuckets;
    lisp_Object **gray;
    size_t ngray, capgray;
    lisp_Object **grayagain; /* udata traversed while marking: again at atomic */
    size_t ngrayagain, capgrayagain;
    int grayoverflow;
    void *cache[LISP_GCCACHE_N];     /* freed small blocks by size/8, a FIFO queue (lisp_gc.c) */
    void *cachetail[LISP_GCCACHE_N]; /* the last block of each queue */
    size_t cachebytes;
    void (*markhook)(lisp_State *S, void *ud);
    void (*primfree)(lisp_State *S, int64_t ud);
    void *markud;
    /* pins */
    lisp_Value *pins;
    int npins, cappins, pinfree;
    int64_t nextid;
    sbuf scratch; /* lisp_scratch */
    size_t print_limit; /* bytes of one printed value (lisp_write) */
    int print_style;    /* LISP_PRINT_MUESLI (default) or LISP_PRINT_LISPBT */
    /* well-known symbols, fixed */
    lisp_Symbol *s_quote, *s_quasiquote, *s_unquote, *s_unquote_splicing, *s_if, *s_cond,
        *s_else, *s_and, *s_or, *s_define, *s_set, *s_lambda, *s_let, *s_letstar, *s_begin,
        *s_load, *s_bt, *s_defbt;
    /* primitives the compiler inlines or calls directly (GC roots) */
    lisp_Value prim[LISPP_N];
};

/* lisp_obj.c */
lisp_Object *lispC_newobj(lisp_State *S, int type, size_t size);
size_t lispO_size(const lisp_Object *o);
void lispO_free(lisp_State *S, lisp_Object *o);
lisp_Value lispO_newclosure(lisp_State *S, lisp_Proto *p, lisp_Env *env);
lisp_Env *lispO_newenv(lisp_State *S, int n, lisp_Env *parent);
lisp_Proto *lispO_newproto(lisp_State *S);
int lispO_growvec(lisp_State *S, lisp_Vec *v, int64_t need);
int lispO_mapdel(lisp_Value map, lisp_Value key);
lisp_Value lispO_newrng(lisp_State *S, uint64_t seed);
/* A new empty priority queue with room for 'cap' entries (pushed). */
lisp_Value lispO_newpq(lisp_State *S, int64_t cap);
/* Make room for 'need' entries; raises ERRMEM. */
void lispO_growpq(lisp_State *S, lisp_Pq *q, int64_t need);

/* lisp_sym.c */
int lispS_init(lisp_State *S);
void lispS_free(lisp_State *S);
lisp_Symbol *lispS_intern(lisp_State *S, const char *s, size_t n);
/* Sweep the intern table from bucket S->sweepsym for up to 'work' units
** (two per symbol): free the symbols of the dead white (the whites swapped
** at the end of marking), give the others the current white.  Returns the
** work left; S->sweepsym == S->symcap when the table is done. */
int64_t lispS_sweep(lisp_State *S, int64_t work);
/* Mark the bound and fixed symbols of the buckets from S->gcrootpos on
** for up to 'work' units (one per bucket, three per symbol); returns the
** work left, and S->gcrootpos == S->symcap when the table is done. */
int64_t lispS_markbound(lisp_State *S, int64_t work);
/* Store 'v' as global 's''s value, with the barrier: while marking, 's' is
** marked (a symbol bound after the cycle's start was no root of it) and so
** is 'v' (a traversed symbol never points at an unmarked value). */
#define lispS_setvalue(S, s, v)                              \
    do {                                                     \
        lisp_Symbol *s_ = (s);                               \
        s_->value = (v);                                     \
        if (lispbt_unlikely((S)->gcmarking)) {               \
            lispC_markobj((S), &s_->h);                      \
            lispC_mark((S), s_->value);                      \
        }                                                    \
    } while (0)

/* lisp_gc.c */
void lispC_mark(lisp_State *S, lisp_Value v);
void lispC_markobj(lisp_State *S, lisp_Object *o);
void lispC_fullgc(lisp_State *S);
/* One incremental step of at most 'work' units (the collector's work
** unit: one value slot traversed, or half an object swept); a cycle is started
** when none runs.  Returns 1 when the step ended a cycle. */
int lispC_step(lisp_State *S, int64_t work);
/* The collection before an allocation that would pass heap_limit or that
** the allocator refused: lispC_fullgc, except that under FAILTICK inside a
** tick it raises the policy error instead. */
void lispC_limitgc(lisp_State *S);
/* mem_realloc for C blocks of the Lisp state; when it fails, collects once
** (unless collecting) and retries.  NULL if that fails too ('p' stays
** valid).  Only where a collection may run (lisp.h). */
void *lispC_realloc(lisp_State *S, void *p, size_t osize, size_t nsize);
void lispC_freeall(lisp_State *S);
/* Free an object's block of 'sz' bytes (lispO_free): small blocks go to
** the collector's cache for reuse. */
void lispC_freeblock(lisp_State *S, void *b, size_t sz);

/* lisp_read.c */
/* Read the next form starting at *pos; returns 0 at end of input, 1 with
** the form pushed.  Raises ERRSYNTAX with chunk:line:col. */
int lispR_read(lisp_State *S, const char *src, size_t n, size_t *pos, int *line, int *col,
               const char *chunk, int *fline, int *fcol);
/* Is [s, s+n) one of the float literals +inf.0 -inf.0 +nan.0 -nan.0?  If
** so and 'out' is not NULL, its value goes to *out.  The reader and the
** printer (which must bar a symbol of that name) share this one test. */
int lispR_specialfloat(const char *s, size_t n, double *out);

/* lisp_compile.c */
/* Compile one top-level form into a proto, pushed on the stack.  'line'
** and 'col' locate the form (0 if unknown) for error messages. */
lisp_Proto *lispK_compile(lisp_State *S, lisp_Value form, const char *chunk, int line, int col);
void lispK_freecode(lisp_State *S, lisp_Proto *p);

/* lisp_eval.c */
LISPBT_NORETURN void lispE_throw(lisp_State *S, int status);
lisp_Value lispE_call(lisp_State *S, lisp_Value *fp, int nargs);
lisp_Value lispE_runproto(lisp_State *S, lisp_Proto *p);
void lispE_checkcstack(lisp_State *S);
int lispE_rawpcall(lisp_State *S, void (*f)(lisp_State *S, void *ud), void *ud);

/* stack push with overflow check */
static inline void lispE_push(lisp_State *S, lisp_Value v) {
    if (lispbt_unlikely(S->top >= S->stack_last)) {
        lisp_error(S, "stack overflow");
    }
    *S->top++ = v;
}

#endif
