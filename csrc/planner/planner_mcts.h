/*
** planner_mcts.h -- bounded-time MCTS planner core: models, requests, results.
** See LICENSE for copyright.
**
** This is the Lua-free, Lisp-free planner API (SPEC §7).  The bindings
** ('planner.mcts', the 'plan-action' leaf) fill an mcts_Request, call
** mcts_run on a per-owner mcts_Planner, and turn the mcts_Result into a map,
** a blackboard write and a record (planner_record.h).
**
** Ownership in one paragraph: an mcts_Planner owns its search arena and uses
** its mem_Heap only inside mcts_new / mcts_reserve / mcts_run / mcts_free.
** Requests and results are plain fixed-size structs the caller owns (no
** pointers inside, so they can be copied, queued to a worker and back).
** Models are 'static const' data and live forever.
**
** Threading: one planner must not be used by two threads at once.  A planner
** may run on a worker thread if its mem_Heap belongs to that worker (the
** host's heap is for the owner thread only; see mem.h).
**
** Full documentation: docs/planner.md.
*/
#ifndef LISPBT_MCTS_H
#define LISPBT_MCTS_H

#include "conf.h"

#include "mem.h"

/* Fixed limits; all arrays in requests, results and records are this size. */
#define MCTS_MAX_STATE 8        /* state values per model (max state_dim) */
#define MCTS_MAX_ACTION 4       /* action values per model (max action_dim) */
#define MCTS_MAX_TOPK 8         /* top_k alternatives returned at most */
#define MCTS_NAME_MAX 64        /* run_id, node_name, state_key (incl. NUL) */
#define MCTS_MODEL_NAME_MAX 32  /* model_service (incl. NUL) */
#define MCTS_ERR_MAX 160        /* error message (incl. NUL) */
#define MCTS_ITERS_LIMIT 1000000000   /* iters_max upper bound */
#define MCTS_DEPTH_LIMIT 10000        /* max_depth upper bound */
#define MCTS_BUDGET_LIMIT 1e9         /* budget_ms upper bound */
#define MCTS_DEFAULT_NODE_LIMIT (1 << 18)  /* arena nodes; see mcts_set_node_limit */

/* Result status (SPEC §7 record 'status'). */
enum {
    MCTS_OK = 0,        /* search ran to iters_max; an action was chosen */
    MCTS_TIMEOUT = 1,   /* budget_ms ended the search first; an action was still chosen */
    MCTS_NOACTION = 2,  /* no root child was found; 'action' is fallback_action or empty */
    MCTS_ERROR = 3      /* invalid request; 'error' says why; 'action' is empty */
};

/* rollout_policy values. */
enum {
    MCTS_ROLLOUT_RANDOM = 0,     /* uniform random actions within bounds (default) */
    MCTS_ROLLOUT_HEURISTIC = 1,  /* the model's heuristic_action at every step */
    MCTS_ROLLOUT_MODEL = 2       /* "model_default": heuristic when the model has
                                 ** one, else random (planner.plan's default) */
};

/* action_sampler values (how progressive widening draws a new action). */
enum {
    MCTS_SAMPLER_UNIFORM = 0,    /* uniform within bounds (default) */
    MCTS_SAMPLER_GAUSSIAN = 1    /* normal around the heuristic (or best) action */
};

/*
** ---------------------------------------------------------------- models
*/

typedef struct mcts_Model mcts_Model;

/* Advance 'state' by 'action' (already inside the model's bounds) into
** 'next' and store the transition reward in '*reward'.  Returns 1 when 'next'
** is terminal, else 0; -1 when the model failed (a Lua or Lisp model that
** raised: the planner stops and reports 'errmsg').  Must be deterministic;
** C models should not allocate; 'next' never aliases 'state'. */
typedef int (*mcts_StepFn)(const mcts_Model *m, const double *state,
                           const double *action, double *next, double *reward);

/* Check 'n' == state_dim values (the planner checks the count first).
** Returns 0 if usable, else -1 with a message naming 'state' in 'err'. */
typedef int (*mcts_ValidFn)(const mcts_Model *m, const double *state, int n,
                            char *err, size_t errlen);

/* Write a good action for 'state' into 'action' (inside bounds). */
typedef void (*mcts_HeuristicFn)(const mcts_Model *m, const double *state,
                                 double *action);

/* Optional analytic derivatives for iLQR (planner_plan.h).  The stage
** cost is -reward of 'step'.  Matrices are row-major: A is sdim x sdim,
** B sdim x adim (d next / d state, d next / d action); lxx sdim x sdim,
** luu adim x adim, lxu sdim x adim.  Each returns 0, or -1 (unavailable
** here: iLQR reports an error). */
typedef int (*mcts_LineariseFn)(const mcts_Model *m, const double *x, const double *u,
                                double *A, double *B);
typedef int (*mcts_QuadFn)(const mcts_Model *m, const double *x, const double *u, double *l0,
                           double *lx, double *lu, double *lxx, double *luu, double *lxu);
/* Terminal cost of state 'x' and its derivatives (lxx sdim x sdim). */
typedef int (*mcts_TermFn)(const mcts_Model *m, const double *x, double *l0, double *lx,
                           double *lxx);
/* The message of the last failed step (step returned -1). */
typedef const char *(*mcts_ErrFn)(const mcts_Model *m);

/* Optional batched rollout: the same as calling 'step' for t = 0 .. n-1
** with actions U + t * action_dim (inside the bounds) from state 'x', each
** step doing *ret += *disc * reward; *disc *= gamma, and stopping after a
** terminal step -- bit for bit, so a planner gets the same results with or
** without it.  On return 'x' holds the last state reached, *term the last
** step's flag (1 terminal, 0 not); returns the steps taken (1..n), or -1
** when a step failed (then 'errmsg').  n >= 1.  It saves the planners an
** indirect call per step; NULL: they call 'step'. */
typedef int (*mcts_RolloutFn)(const mcts_Model *m, double *x, const double *U, int n,
                              double gamma, double *ret, double *disc, int *term);

struct mcts_Model {
    const char *name;                       /* model_service name */
    const char *doc;                        /* one line */
    int state_dim;                          /* 1..MCTS_MAX_STATE; 0 = any length
                                            ** (registered models; planner_plan.c
                                            ** fixes it per call) */
    int action_dim;                         /* 1..MCTS_MAX_ACTION */
    const char *state_names[MCTS_MAX_STATE];   /* one per state value */
    double action_lo[MCTS_MAX_ACTION];      /* inclusive bounds per dimension */
    double action_hi[MCTS_MAX_ACTION];
    mcts_StepFn step;
    mcts_ValidFn valid_state;
    mcts_HeuristicFn heuristic_action;      /* may be NULL */
    /* The fields below are optional (zero/NULL in a model that does not
    ** provide them); docs/planner.md "Models in C". */
    int horizon;                            /* MPPI/iLQR default horizon; 0 = 20 */
    mcts_LineariseFn linearise;             /* iLQR analytic dynamics */
    mcts_QuadFn quadratic;                  /* iLQR analytic stage cost */
    mcts_TermFn terminal;                   /* terminal cost (NULL = none) */
    mcts_ErrFn errmsg;                      /* message after step returned -1 */
    void *ud;                               /* the model's own data */
    mcts_RolloutFn rollout;                 /* batched 'step' (may be NULL) */
};

/* The model called 'name', or NULL.  The result is static and immutable. */
const mcts_Model *mcts_model_find(const char *name);
/* 'v' as the Lisp printer writes it ("+nan.0", "-inf.0", "1e+300", "2.5",
** "3.0": the shortest text that reads back), into 'buf' of 'n' >= 32
** bytes; returns 'buf'.  For messages, so a NaN prints the same on every
** platform and as the Lisp side shows it. */
const char *mcts_numtext(char *buf, size_t n, double v);
/* The i-th built-in model (0-based), or NULL past the end; for listings. */
const mcts_Model *mcts_model_at(int i);
/* Copy 'a' into 'out' clamped to the bounds of 'm' (action_dim values;
** NaN becomes the lower bound).  'a' and 'out' may alias. */
void mcts_model_clamp(const mcts_Model *m, const double *a, double *out);

/*
** -------------------------------------------------------------- requests
*/

typedef struct mcts_Request {
    char model_service[MCTS_MODEL_NAME_MAX];   /* model name; "toy-1d" */
    double state[MCTS_MAX_STATE];
    int state_len;                             /* values used in 'state'; 0 */
    uint64_t seed;                             /* per-call RNG seed; 0 */
    char run_id[MCTS_NAME_MAX];                /* for the record; "" */
    char node_name[MCTS_NAME_MAX];             /* for the record; "" */
    char state_key[MCTS_NAME_MAX];             /* for the record; "" = absent */
    int64_t tick_index;                        /* for the record; 0 */
    double budget_ms;                          /* wall-clock budget; 20 */
    int64_t iters_max;                         /* iteration cap; 2000 */
    double gamma;                              /* discount in (0, 1]; 0.95 */
    int max_depth;                             /* horizon in steps; 25 */
    double c_ucb;                              /* UCB exploration; 1.2 */
    double pw_k;                               /* widening: children <= */
    double pw_alpha;                           /*  ceil(pw_k * N^pw_alpha); 2.0, 0.5 */
    int top_k;                                 /* alternatives 0..8; 3 */
    int rollout_policy;                        /* MCTS_ROLLOUT_*; random */
    int action_sampler;                        /* MCTS_SAMPLER_*; uniform */
    double fallback_action[MCTS_MAX_ACTION];
    int fallback_len;                          /* 0 = no fallback */
} mcts_Request;

/* Request keys, in SPEC §7 order; mcts_request_key_index maps names to
** these.  Any other key is an error for the bindings. */
enum {
    MCTS_KEY_MODEL_SERVICE, MCTS_KEY_STATE, MCTS_KEY_SEED, MCTS_KEY_RUN_ID,
    MCTS_KEY_TICK_INDEX, MCTS_KEY_NODE_NAME, MCTS_KEY_STATE_KEY,
    MCTS_KEY_BUDGET_MS, MCTS_KEY_ITERS_MAX, MCTS_KEY_GAMMA, MCTS_KEY_MAX_DEPTH,
    MCTS_KEY_C_UCB, MCTS_KEY_PW_K, MCTS_KEY_PW_ALPHA, MCTS_KEY_ROLLOUT_POLICY,
    MCTS_KEY_ACTION_SAMPLER, MCTS_KEY_FALLBACK_ACTION, MCTS_KEY_TOP_K,
    MCTS_KEY_COUNT
};

/* What kind of value a key takes (for the bindings' conversions). */
enum {
    MCTS_KT_STRING,     /* string or symbol name -> mcts_request_set_string */
    MCTS_KT_NUMBER,     /* real number -> set_number (set_integer also ok) */
    MCTS_KT_INTEGER,    /* integer -> set_integer (integral set_number ok) */
    MCTS_KT_VECTOR      /* numbers -> set_vector (one number: set_number ok) */
};

typedef struct mcts_KeyInfo {
    const char *name;   /* e.g. "budget_ms" */
    int kind;           /* MCTS_KT_* */
    const char *doc;    /* one line, with the default */
} mcts_KeyInfo;

/* Fill 'r' with the SPEC §7 defaults (see the field comments above). */
void mcts_request_defaults(mcts_Request *r);

/* Index (MCTS_KEY_*) of request key 'key', or -1 if it is not a key. */
int mcts_request_key_index(const char *key);
/* Static description of key 'i', or NULL if 'i' is out of range. */
const mcts_KeyInfo *mcts_request_key(int i);

/* Typed setters for the bindings.  Each stores one value into 'r' or
** returns -1 with a message naming the key in 'err' (e.g. "gamma: expected a
** number, got a string"; "iters_max: must be an integer, got 2.5";
** "model_service: unknown model 'foo'"; a 'key' that is no MCTS_KEY_* gives
** "planner: unknown request key").  Range checks that need the whole
** request (model dimension, bounds) are done by mcts_request_check.  's'
** (not NUL-terminated, 'len' bytes) is copied: strings longer than their
** field are truncated on a UTF-8 boundary, except a model_service name,
** which must fit (else it is an unknown model).  'err' may be NULL. */
int mcts_request_set_string(mcts_Request *r, int key, const char *s, size_t len,
                            char *err, size_t errlen);
int mcts_request_set_number(mcts_Request *r, int key, double v,
                            char *err, size_t errlen);
int mcts_request_set_integer(mcts_Request *r, int key, int64_t v,
                             char *err, size_t errlen);
int mcts_request_set_vector(mcts_Request *r, int key, const double *v, int n,
                            char *err, size_t errlen);

/* Validate the whole request.  Returns 0 when mcts_run would accept it,
** else -1 with the first problem in 'err', always naming the key:
** "gamma: must be in (0, 1], got 1.5", "state: toy-1d expects 1 value,
** got 3", "model_service: unknown model 'foo'".  'err' may be NULL. */
int mcts_request_check(const mcts_Request *r, char *err, size_t errlen);

/* SPEC §7 seed derivation for calls without an explicit seed: mixes
** 'base_seed', the node name and the tick index.  Result is in [0, 2^53) so
** it is exact as a Lua integer, a Lisp integer, a double and in JSON. */
uint64_t mcts_derive_seed(uint64_t base_seed, const char *node_name,
                          int64_t tick_index);
/* The same with the node name given as hash64(node_name, strlen(node_name))
** (a caller that derives a seed every tick hashes the name once). */
uint64_t mcts_derive_seed_hash(uint64_t base_seed, uint64_t name_hash, int64_t tick_index);

/*
** --------------------------------------------------------------- results
*/

typedef struct mcts_Alt {
    double action[MCTS_MAX_ACTION];   /* action_dim values */
    int64_t visits;
    double q;                         /* mean discounted return */
} mcts_Alt;

typedef struct mcts_Result {
    int status;                       /* MCTS_OK ... MCTS_ERROR */
    int action_dim;                   /* values in 'action' (0 = none) */
    double action[MCTS_MAX_ACTION];   /* chosen action, clamped to bounds */
    double confidence;                /* visits(best) / root_visits, 0 if none */
    double value_est;                 /* Q of the best root child */
    int64_t iters;                    /* completed iterations */
    int64_t root_visits;
    int64_t root_children;
    int64_t widen_added;              /* nodes added anywhere in the tree */
    int64_t depth_max;                /* deepest tree leaf reached */
    double depth_mean;                /* mean tree depth of iteration leaves */
    double time_used_ms;              /* wall time inside mcts_run */
    uint64_t seed;                    /* the request seed, echoed */
    int top_n;                        /* entries used in 'top' */
    mcts_Alt top[MCTS_MAX_TOPK];      /* most visited root children first */
    char error[MCTS_ERR_MAX];         /* "" unless status == MCTS_ERROR */
    int nomem;                        /* MCTS_ERROR because the arena or path
                                      ** could not be allocated (the host's
                                      ** heap_limit, or malloc) */
} mcts_Result;

/* "ok", "timeout", "noaction", "error"; "unknown" for anything else. */
const char *mcts_status_name(int status);
/* Names of the enum values, as accepted by mcts_request_set_string. */
const char *mcts_rollout_name(int policy);
const char *mcts_sampler_name(int sampler);

/*
** --------------------------------------------------------------- planner
*/

typedef struct mcts_Planner mcts_Planner;

/* A new planner allocating from 'M' (borrowed; must outlive the planner).
** Returns NULL when out of memory.  Free with mcts_free. */
mcts_Planner *mcts_new(mem_Heap *M);

/* Free 'P' and its arena (NULL is a no-op).  'P' is no longer valid. */
void mcts_free(mcts_Planner *P);

/* Grow the arena now so that later searches of up to 'nodes' iterations
** and 'depth' max_depth allocate nothing ('nodes' is capped at the node
** limit, 'depth' at MCTS_DEPTH_LIMIT).  Returns 0, or -1 when out of
** memory (the planner stays usable). */
int mcts_reserve(mcts_Planner *P, int64_t nodes, int depth);

/* With 'on', draw random actions without the CPU-specific (AVX2) code
** even where the CPU has it; the results are the same bits either way
** (for tests, spec/c/test_plan.c).  Off by default. */
void mcts_set_portable(mcts_Planner *P, int on);

/* Cap the arena at 'n' nodes (values below 16 become 16; default
** MCTS_DEFAULT_NODE_LIMIT).  Does not shrink an arena already grown.
** A search that fills the arena keeps iterating without growing the tree. */
void mcts_set_node_limit(mcts_Planner *P, int32_t n);

/* Arena size in bytes currently held by 'P' (for heap reports). */
size_t mcts_arena_bytes(const mcts_Planner *P);

/* Plan one action for 'req' into 'res' (overwritten entirely).  Returns the
** status (>= 0): MCTS_ERROR when the request is invalid (res->error as
** mcts_request_check) or the arena cannot hold the root ("planner: out of
** memory").  May grow the arena through the planner's heap.  Never
** raises, never prints.  With the same seed and a
** search bounded by iters_max (not by budget_ms) the result is identical
** on every call, apart from time_used_ms. */
int mcts_run(mcts_Planner *P, const mcts_Request *req, mcts_Result *res);

/* mcts_run with model 'm' (its 'model_service' name is not looked up, and
** m->state_dim must equal req->state_len) and action bounds 'lo'/'hi'
** (m->action_dim values inside the model's own bounds; NULL: the model's).
** A step that returns -1 ends the search with MCTS_ERROR and the model's
** message in res->error.  For planner.plan (planner_plan.c). */
int mcts_run_model(mcts_Planner *P, const mcts_Model *m, const double *lo, const double *hi,
                   const mcts_Request *req, mcts_Result *res);

#endif
