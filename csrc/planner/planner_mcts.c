/*
** planner_mcts.c -- bounded-time MCTS with progressive widening over continuous
** actions, plus request validation.  See planner_mcts.h and docs/planner.md.
** See LICENSE for copyright.
**
** The search
** ----------
** One call of mcts_run builds a fresh tree from the request's state.  Each
** iteration walks down from the root: at a node that may still widen
** (children < ceil(pw_k * max(N,1)^pw_alpha), N = the node's visits) it adds
** one child with a newly sampled action, simulates that transition and runs
** a rollout of at most 'max_depth - depth' steps from the child; otherwise it
** descends into the child with the best UCB score
**     Qn(child) + c_ucb * sqrt(ln N(parent)) / sqrt(N(child))
** where Qn is the child's mean discounted return scaled by the spread of all
** Q values seen in this search (min-max normalisation, so one c_ucb suits
** models whose rewards have different scales).  The return is then backed
** up along the path: G = reward(edge) + gamma * G.
**
** Invariants
** ----------
**   - Nodes live in one index-linked array (the arena); node 0 is the root.
**     A node's children are listed, oldest first, in its slice
**     [koff .. koff + nchildren) of one shared pool of slots, three
**     parallel arrays: knode (the child's index), kq and kisq (a copy of
**     its q and 1/sqrt(visits), written at back-up).  A node gets a slice
**     of KIDS_MIN slots when it is created; a full slice is copied to a
**     slice twice as large at the end of the pool (the old one is
**     abandoned until the next call); free slots score -DBL_MAX.  So UCB
**     selection scans two plain arrays instead of chasing indices.
**     Indices, never pointers, are kept across an allocation, since
**     growing the arena or pool moves it.
**   - Every child has visits >= 1 once its creating iteration has backed
**     up, which is before any later selection looks at it.  The root's
**     visits equal the completed iterations.
**   - Dynamics are deterministic (planner_models.c), so a node's state is
**     computed once, when it is created, and stored beside it.
**   - All randomness comes from one rng_State seeded from the request seed
**     (the uniform actions through the pool of pre-drawn rows, whose four
**     streams it seeds, see pool_draw), and the clock only decides *when*
**     to stop.  Hence a search stopped by
**     iters_max replays bit for bit; one stopped by budget_ms may not.
**   - After warm-up nothing allocates: the arena (nodes + states + actions),
**     the path stack, the sqrt/log table, the widening-threshold cache and
**     the action pool belong to the mcts_Planner and are reused by every call.  The arena
**     only grows (by doubling, up to 'node_limit'); when it cannot grow the
**     search goes on without adding nodes.
**   - No division, log or pow in the common path: sqrt(ln n) and 1/sqrt(n)
**     come from a table, widening thresholds are precomputed per child
**     count, and the clock is read once per batch of iterations sized so a
**     batch lasts at most ~50 us or half the remaining budget.
*/
#include "conf.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
/* The action pool's AVX2 refill, chosen at run time (gcc and clang on
** x86-64; see pool_draw). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(LISPBT_NO_AVX2)
#define LISPBT_POOL_AVX2 1
#include <immintrin.h>
#else
#define LISPBT_POOL_AVX2 0
#endif

#include "planner_mcts.h"
#include "rng.h"

/* Size of the sqrt(ln n) / 1/sqrt(n) table: covers any node with fewer
** visits; beyond it the values are computed directly. */
#define TBL_N 4096
/* Widening thresholds cached per child count. */
#define THR_N 1024
/* Initial arena capacity in nodes. */
#define ARENA_MIN 256
/* First child slice of a node, and initial size of the kids pool. */
#define KIDS_MIN 4
#if KIDS_MIN != 4
#error "kids_first writes a first slice of 4 slots"
#endif
#define KIDS_POOL_MIN 1024
/* Pool slots per node that always suffice: a node's slices 4, 8, ..., C
** add up to < 2C <= 4 * children (or 4 with fewer than 4 children), so
** the pool needs < 8 per node. */
#define KIDS_PER_NODE 8
/* The pool of random actions (uniform sampler, random rollouts): a rollout
** takes at most POOL_SEG rows at once; a refill draws POOL_FIRST rows on
** a call's first refill, twice as many on each next one, up to POOL_FILL. */
#define POOL_SEG 64
#define POOL_FIRST 32
#define POOL_FILL 256
#define POOL_ROWS (POOL_FILL + POOL_SEG)
/* Clock checks: a batch of iterations lasts at most this long. */
#define CHECK_SLICE_NS 50000
#define CHECK_BATCH_MAX 1024

typedef struct Node {
    double q;              /* mean discounted return through this edge */
    double reward;         /* immediate reward of the edge into this node */
    int32_t visits;
    int32_t koff;          /* this node's child list: kids[koff .. koff+nchildren) */
    int32_t kcap;          /* slots reserved at 'koff' */
    int32_t nchildren;
    int32_t widen_at;      /* visits from which one more child is allowed */
    int32_t terminal;      /* the edge into this node ended the episode */
} Node;

/* A slot of a parent's child list is one index into three parallel
** arrays of the kids pool (struct of arrays): the child's index, and a
** cache of what UCB selection reads of the child (its q and
** 1/sqrt(visits), written at back-up), so the scan reads two contiguous
** arrays of doubles (two aligned loads per two children) instead of
** following each index into the arena. */
#define KID_BYTES (2 * sizeof(double) + sizeof(int32_t))

#define NODE_BYTES \
    (sizeof(Node) + sizeof(double) * (MCTS_MAX_STATE + MCTS_MAX_ACTION))

struct mcts_Planner {
    mem_Heap *M;
    void *block;           /* one allocation: nodes | states | actions */
    Node *nodes;
    double *states;        /* node i's state at i * state_dim */
    double *actions;       /* node i's action at i * action_dim */
    int32_t cap;           /* nodes the block can hold */
    int32_t n;             /* nodes in use by the current search */
    int32_t limit;         /* most nodes the arena may hold */
    void *kblock;          /* one allocation: kq | kisq | knode */
    double *kq;            /* kq[slot] = nodes[knode[slot]].q */
    double *kisq;          /* kisq[slot] = 1/sqrt(visits of knode[slot]) */
    int32_t *knode;        /* child lists, one slice per parent */
    int32_t kids_cap;      /* slots in the three arrays */
    int32_t kids_n;        /* slots handed out by the current search */
    int32_t *path;         /* root..leaf of one iteration: path[2d] the node at
                           ** depth d, path[2d+1] its slot in 'kids' */
    int path_cap;
    double *tbl;           /* tbl[2n] = sqrt(ln n), tbl[2n+1] = 1/sqrt(n) */
    int32_t *thr;          /* thr[c] = widen_at for a node with c children */
    int thr_filled;        /* entries of 'thr' valid for (thr_k, thr_alpha) */
    double thr_k, thr_alpha;
    int avx2;              /* pool refills by pool_draw_avx2 */
    double pool[POOL_ROWS * MCTS_MAX_ACTION]; /* random actions, rows of action_dim */
};

/* Per-call search state; lives on the C stack of mcts_run. */
typedef struct Search {
    mcts_Planner *P;
    const mcts_Model *m;
    rng_State R;
    uint64_t lanes[16];             /* the pool's four xoshiro256** states */
    int sdim, adim;
    int max_depth;
    int rollout;
    int batched;                    /* random rollouts through m->rollout */
    int sampler;
    double gamma;
    double c;
    double qmin, qmax;
    double qspread;                 /* qmax - qmin, or 1 while under 1e-12 */
    double lo[MCTS_MAX_ACTION];
    double width[MCTS_MAX_ACTION];
    double sd[MCTS_MAX_ACTION];     /* gaussian sampler spread */
    int pool_pos, pool_n;           /* rows of P->pool used, drawn */
    int pool_fill;                  /* rows the next refill draws */
    int full;                       /* the arena cannot grow any more */
    int failed;                     /* a model step returned -1 */
    int64_t widen_added;
    int64_t depth_sum;
    int64_t depth_max;
} Search;

/*
** ----------------------------------------------------------- small helpers
*/

static int fail_msg(char *err, size_t errlen, const char *fmt, ...)
    LISPBT_PRINTF(3, 4);

/* Format a message into 'err' (if any) and return -1. */
static int fail_msg(char *err, size_t errlen, const char *fmt, ...) {
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

const char *mcts_numtext(char *buf, size_t n, double v) {
    int prec;
    if (isnan(v)) {
        snprintf(buf, n, "+nan.0");
        return buf;
    }
    if (isinf(v)) {
        snprintf(buf, n, v > 0 ? "+inf.0" : "-inf.0");
        return buf;
    }
    prec = fabs(v) >= 1 && fabs(v) < 1e16 ? (int)floor(log10(fabs(v))) + 1 : 1;
    for (; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) {
            break;
        }
    }
    if (strpbrk(buf, ".eEn") == NULL && strlen(buf) + 2 < n) {
        strcat(buf, ".0");
    }
    return buf;
}

static const char *const status_names[] = {"ok", "timeout", "noaction", "error"};
static const char *const rollout_names[] = {"random", "heuristic", "model_default"};
static const char *const sampler_names[] = {"uniform", "gaussian"};

const char *mcts_status_name(int status) {
    return (status >= 0 && status <= MCTS_ERROR) ? status_names[status] : "unknown";
}

const char *mcts_rollout_name(int policy) {
    return (policy >= 0 && policy <= 2) ? rollout_names[policy] : "unknown";
}

const char *mcts_sampler_name(int sampler) {
    return (sampler >= 0 && sampler <= 1) ? sampler_names[sampler] : "unknown";
}

/* Does the counted string 's' equal the C string 'name'? */
static int streq(const char *s, size_t len, const char *name) {
    return strlen(name) == len && memcmp(s, name, len) == 0;
}

/* Copy a counted string into a fixed field, truncating on a UTF-8
** character boundary so a record never holds half a character. */
static void copy_field(char *dst, size_t cap, const char *s, size_t len) {
    if (len >= cap) {
        len = cap - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80) {
            len--;
        }
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
}

/*
** ----------------------------------------------------------------- keys
*/

static const mcts_KeyInfo keys[MCTS_KEY_COUNT] = {
    {"model_service", MCTS_KT_STRING, "model name: \"toy-1d\" (default) or \"ptz-track\""},
    {"state", MCTS_KT_VECTOR, "current state, state_dim numbers (required)"},
    {"seed", MCTS_KT_INTEGER, "RNG seed of this call (default 0)"},
    {"run_id", MCTS_KT_STRING, "free text copied into the record (default \"\")"},
    {"tick_index", MCTS_KT_INTEGER, "tick index copied into the record (default 0)"},
    {"node_name", MCTS_KT_STRING, "planning node's name, copied into the record (default \"\")"},
    {"state_key", MCTS_KT_STRING, "blackboard key of the state, for the record (default none)"},
    {"budget_ms", MCTS_KT_NUMBER, "wall-clock budget in ms, > 0 (default 20)"},
    {"iters_max", MCTS_KT_INTEGER, "iteration cap, >= 1 (default 2000)"},
    {"gamma", MCTS_KT_NUMBER, "discount in (0, 1] (default 0.95)"},
    {"max_depth", MCTS_KT_INTEGER, "horizon in steps, tree plus rollout, >= 1 (default 25)"},
    {"c_ucb", MCTS_KT_NUMBER, "UCB exploration constant, >= 0 (default 1.2)"},
    {"pw_k", MCTS_KT_NUMBER, "progressive widening factor, > 0 (default 2.0)"},
    {"pw_alpha", MCTS_KT_NUMBER, "progressive widening exponent in [0, 1] (default 0.5)"},
    {"rollout_policy", MCTS_KT_STRING, "\"random\" (default) or \"heuristic\""},
    {"action_sampler", MCTS_KT_STRING, "\"uniform\" (default) or \"gaussian\""},
    {"fallback_action", MCTS_KT_VECTOR, "action_dim numbers used when no action is found (default none)"},
    {"top_k", MCTS_KT_INTEGER, "root alternatives reported, 0..8 (default 3)"},
};

int mcts_request_key_index(const char *key) {
    int i;
    if (key == NULL) {
        return -1;
    }
    for (i = 0; i < MCTS_KEY_COUNT; i++) {
        if (strcmp(keys[i].name, key) == 0) {
            return i;
        }
    }
    return -1;
}

const mcts_KeyInfo *mcts_request_key(int i) {
    return (i >= 0 && i < MCTS_KEY_COUNT) ? &keys[i] : NULL;
}

void mcts_request_defaults(mcts_Request *r) {
    memset(r, 0, sizeof *r);
    strcpy(r->model_service, "toy-1d");
    r->budget_ms = 20.0;
    r->iters_max = 2000;
    r->gamma = 0.95;
    r->max_depth = 25;
    r->c_ucb = 1.2;
    r->pw_k = 2.0;
    r->pw_alpha = 0.5;
    r->top_k = 3;
    r->rollout_policy = MCTS_ROLLOUT_RANDOM;
    r->action_sampler = MCTS_SAMPLER_UNIFORM;
    r->fallback_len = 0;
}

/*
** Range rules for the scalar keys, shared by the setters (early, precise
** errors) and mcts_request_check (the whole request, however it was filled).
*/

/* A number in a message (mcts_numtext into a buffer of the caller). */
#define NUM(v) mcts_numtext(num, sizeof num, (v))

static int check_real(int key, double v, char *err, size_t errlen) {
    const char *k = keys[key].name;
    char num[40];
    switch (key) {
        case MCTS_KEY_BUDGET_MS:
            if (!(v > 0)) {
                return fail_msg(err, errlen, "%s: must be a positive number, got %s", k, NUM(v));
            }
            if (!(v <= MCTS_BUDGET_LIMIT)) { /* +inf too */
                return fail_msg(err, errlen, "%s: must be at most %g, got %s", k,
                                MCTS_BUDGET_LIMIT, NUM(v));
            }
            return 0;
        case MCTS_KEY_GAMMA:
            if (!(v > 0 && v <= 1)) {
                return fail_msg(err, errlen, "%s: must be in (0, 1], got %s", k, NUM(v));
            }
            return 0;
        case MCTS_KEY_C_UCB:
            if (!(v >= 0) || !isfinite(v)) {
                return fail_msg(err, errlen, "%s: must be a finite non-negative number, got %s", k,
                                NUM(v));
            }
            return 0;
        case MCTS_KEY_PW_K:
            if (!(v > 0) || !isfinite(v)) {
                return fail_msg(err, errlen, "%s: must be a finite positive number, got %s", k,
                                NUM(v));
            }
            return 0;
        case MCTS_KEY_PW_ALPHA:
            if (!(v >= 0 && v <= 1)) {
                return fail_msg(err, errlen, "%s: must be in [0, 1], got %s", k, NUM(v));
            }
            return 0;
        default:
            return 0;
    }
}

/* The range of integer key 'key' in [*lo, *hi]; 0 when it has none (any
** int64; the seed also takes the unsigned upper half as a float). */
static int int_range(int key, int64_t *lo, int64_t *hi) {
    switch (key) {
        case MCTS_KEY_ITERS_MAX: *lo = 1; *hi = MCTS_ITERS_LIMIT; return 1;
        case MCTS_KEY_MAX_DEPTH: *lo = 1; *hi = MCTS_DEPTH_LIMIT; return 1;
        case MCTS_KEY_TOP_K: *lo = 0; *hi = MCTS_MAX_TOPK; return 1;
        default: *lo = INT64_MIN; *hi = INT64_MAX; return 0;
    }
}

static int check_int(int key, int64_t v, char *err, size_t errlen) {
    int64_t lo, hi;
    if (int_range(key, &lo, &hi) && (v < lo || v > hi)) {
        return fail_msg(err, errlen, "%s: must be an integer in [%lld, %lld], got %lld",
                        keys[key].name, (long long)lo, (long long)hi, (long long)v);
    }
    return 0;
}

static const char *kind_noun(int kind) {
    switch (kind) {
        case MCTS_KT_STRING: return "a string";
        case MCTS_KT_NUMBER: return "a number";
        case MCTS_KT_INTEGER: return "an integer";
        default: return "a list of numbers";
    }
}

static int wrong_kind(int key, const char *got, char *err, size_t errlen) {
    return fail_msg(err, errlen, "%s: expected %s, got %s", keys[key].name,
                    kind_noun(keys[key].kind), got);
}

int mcts_request_set_string(mcts_Request *r, int key, const char *s, size_t len,
                            char *err, size_t errlen) {
    char name[MCTS_MODEL_NAME_MAX];
    if (key < 0 || key >= MCTS_KEY_COUNT) {
        return fail_msg(err, errlen, "planner: unknown request key");
    }
    switch (key) {
        case MCTS_KEY_MODEL_SERVICE:
            copy_field(name, sizeof name, s, len);
            if (len >= sizeof name || mcts_model_find(name) == NULL) {
                return fail_msg(err, errlen, "model_service: unknown model '%.*s'",
                                len > 64 ? 64 : (int)len, s);
            }
            memcpy(r->model_service, name, sizeof name);
            return 0;
        case MCTS_KEY_RUN_ID:
            copy_field(r->run_id, sizeof r->run_id, s, len);
            return 0;
        case MCTS_KEY_NODE_NAME:
            copy_field(r->node_name, sizeof r->node_name, s, len);
            return 0;
        case MCTS_KEY_STATE_KEY:
            copy_field(r->state_key, sizeof r->state_key, s, len);
            return 0;
        case MCTS_KEY_ROLLOUT_POLICY:
            if (streq(s, len, "random")) {
                r->rollout_policy = MCTS_ROLLOUT_RANDOM;
            } else if (streq(s, len, "heuristic")) {
                r->rollout_policy = MCTS_ROLLOUT_HEURISTIC;
            } else if (streq(s, len, "model_default")) {
                r->rollout_policy = MCTS_ROLLOUT_MODEL;
            } else {
                return fail_msg(err, errlen,
                                "rollout_policy: unknown policy '%.*s' (expected random, heuristic or "
                                "model_default)",
                                len > 64 ? 64 : (int)len, s);
            }
            return 0;
        case MCTS_KEY_ACTION_SAMPLER:
            if (streq(s, len, "uniform") || streq(s, len, "model_default")) {
                r->action_sampler = MCTS_SAMPLER_UNIFORM;
            } else if (streq(s, len, "gaussian")) {
                r->action_sampler = MCTS_SAMPLER_GAUSSIAN;
            } else {
                return fail_msg(err, errlen,
                                "action_sampler: unknown sampler '%.*s' (expected uniform, gaussian or "
                                "model_default)",
                                len > 64 ? 64 : (int)len, s);
            }
            return 0;
        default:
            return wrong_kind(key, "a string", err, errlen);
    }
}

int mcts_request_set_integer(mcts_Request *r, int key, int64_t v, char *err,
                             size_t errlen) {
    if (key < 0 || key >= MCTS_KEY_COUNT) {
        return fail_msg(err, errlen, "planner: unknown request key");
    }
    switch (keys[key].kind) {
        case MCTS_KT_NUMBER:
        case MCTS_KT_VECTOR:
            return mcts_request_set_number(r, key, (double)v, err, errlen);
        case MCTS_KT_STRING:
            return wrong_kind(key, "an integer", err, errlen);
        default:
            break;
    }
    if (check_int(key, v, err, errlen) != 0) {
        return -1;
    }
    switch (key) {
        case MCTS_KEY_SEED: r->seed = (uint64_t)v; break;
        case MCTS_KEY_TICK_INDEX: r->tick_index = v; break;
        case MCTS_KEY_ITERS_MAX: r->iters_max = v; break;
        case MCTS_KEY_MAX_DEPTH: r->max_depth = (int)v; break;
        case MCTS_KEY_TOP_K: r->top_k = (int)v; break;
        default: break;
    }
    return 0;
}

int mcts_request_set_number(mcts_Request *r, int key, double v, char *err,
                            size_t errlen) {
    if (key < 0 || key >= MCTS_KEY_COUNT) {
        return fail_msg(err, errlen, "planner: unknown request key");
    }
    switch (keys[key].kind) {
        case MCTS_KT_STRING:
            return wrong_kind(key, "a number", err, errlen);
        case MCTS_KT_VECTOR:
            return mcts_request_set_vector(r, key, &v, 1, err, errlen);
        case MCTS_KT_INTEGER:
            /* integral doubles in int64 range are accepted; a seed may also
            ** be given as an unsigned 64-bit value */
            if (key == MCTS_KEY_SEED && v >= 0x1p63 && v < 0x1p64 && v == floor(v)) {
                r->seed = (uint64_t)v;
                return 0;
            }
            /* the range is tested on the double, before any conversion
            ** (NaN fails every comparison) */
            if (!(v >= -0x1p63 && v < 0x1p63) || v != floor(v)) {
                int64_t lo, hi;
                char num[40];
                if (int_range(key, &lo, &hi)) {
                    return fail_msg(err, errlen, "%s: must be an integer in [%lld, %lld], got %s",
                                    keys[key].name, (long long)lo, (long long)hi, NUM(v));
                }
                return fail_msg(err, errlen, "%s: must be an integer, got %s", keys[key].name,
                                NUM(v));
            }
            return mcts_request_set_integer(r, key, (int64_t)v, err, errlen);
        default:
            break;
    }
    if (check_real(key, v, err, errlen) != 0) {
        return -1;
    }
    switch (key) {
        case MCTS_KEY_BUDGET_MS: r->budget_ms = v; break;
        case MCTS_KEY_GAMMA: r->gamma = v; break;
        case MCTS_KEY_C_UCB: r->c_ucb = v; break;
        case MCTS_KEY_PW_K: r->pw_k = v; break;
        case MCTS_KEY_PW_ALPHA: r->pw_alpha = v; break;
        default: break;
    }
    return 0;
}

int mcts_request_set_vector(mcts_Request *r, int key, const double *v, int n,
                            char *err, size_t errlen) {
    int i;
    if (key < 0 || key >= MCTS_KEY_COUNT) {
        return fail_msg(err, errlen, "planner: unknown request key");
    }
    if (keys[key].kind != MCTS_KT_VECTOR) {
        return wrong_kind(key, "a list", err, errlen);
    }
    if (n < 0) {
        n = 0;
    }
    if (key == MCTS_KEY_STATE) {
        if (n > MCTS_MAX_STATE) {
            return fail_msg(err, errlen, "state: expects at most %d values, got %d",
                            MCTS_MAX_STATE, n);
        }
        for (i = 0; i < n; i++) {
            r->state[i] = v[i];
        }
        r->state_len = n;
    } else {
        if (n > MCTS_MAX_ACTION) {
            return fail_msg(err, errlen, "fallback_action: expects at most %d values, got %d",
                            MCTS_MAX_ACTION, n);
        }
        for (i = 0; i < n; i++) {
            r->fallback_action[i] = v[i];
        }
        r->fallback_len = n;
    }
    return 0;
}

/* The request's model; 'name' receives its (terminated) name.  The field
** need not be NUL-terminated if the caller filled it by hand. */
static const mcts_Model *request_model(const mcts_Request *r, char *name) {
    copy_field(name, MCTS_MODEL_NAME_MAX, r->model_service,
               strnlen(r->model_service, sizeof r->model_service));
    return mcts_model_find(name);
}

static int check_model(const mcts_Request *r, const mcts_Model *m, char *err, size_t errlen);

int mcts_request_check(const mcts_Request *r, char *err, size_t errlen) {
    const mcts_Model *m;
    char name[MCTS_MODEL_NAME_MAX];
    m = request_model(r, name);
    if (m == NULL) {
        return fail_msg(err, errlen, "model_service: unknown model '%s'", name);
    }
    return check_model(r, m, err, errlen);
}

/* Everything mcts_request_check checks once the model is known. */
static int check_model(const mcts_Request *r, const mcts_Model *m, char *err, size_t errlen) {
    int i;
    if (r->state_len != m->state_dim) {
        return fail_msg(err, errlen, "state: %s expects %d value%s, got %d", m->name,
                        m->state_dim, m->state_dim == 1 ? "" : "s", r->state_len);
    }
    if (m->valid_state(m, r->state, r->state_len, err, errlen) != 0) {
        return -1;
    }
    if (check_real(MCTS_KEY_BUDGET_MS, r->budget_ms, err, errlen) != 0 ||
        check_int(MCTS_KEY_ITERS_MAX, r->iters_max, err, errlen) != 0 ||
        check_real(MCTS_KEY_GAMMA, r->gamma, err, errlen) != 0 ||
        check_int(MCTS_KEY_MAX_DEPTH, r->max_depth, err, errlen) != 0 ||
        check_real(MCTS_KEY_C_UCB, r->c_ucb, err, errlen) != 0 ||
        check_real(MCTS_KEY_PW_K, r->pw_k, err, errlen) != 0 ||
        check_real(MCTS_KEY_PW_ALPHA, r->pw_alpha, err, errlen) != 0) {
        return -1;
    }
    if (r->rollout_policy != MCTS_ROLLOUT_RANDOM &&
        r->rollout_policy != MCTS_ROLLOUT_HEURISTIC && r->rollout_policy != MCTS_ROLLOUT_MODEL) {
        return fail_msg(err, errlen, "rollout_policy: invalid value %d", r->rollout_policy);
    }
    if (r->rollout_policy == MCTS_ROLLOUT_HEURISTIC && m->heuristic_action == NULL) {
        return fail_msg(err, errlen, "rollout_policy: model '%s' has no heuristic policy",
                        m->name);
    }
    if (r->action_sampler != MCTS_SAMPLER_UNIFORM &&
        r->action_sampler != MCTS_SAMPLER_GAUSSIAN) {
        return fail_msg(err, errlen, "action_sampler: invalid value %d", r->action_sampler);
    }
    if (r->fallback_len != 0) {
        if (r->fallback_len != m->action_dim) {
            return fail_msg(err, errlen, "fallback_action: %s expects %d value%s, got %d",
                            m->name, m->action_dim, m->action_dim == 1 ? "" : "s",
                            r->fallback_len);
        }
        for (i = 0; i < r->fallback_len; i++) {
            if (!isfinite(r->fallback_action[i])) {
                char num[40];
                return fail_msg(err, errlen,
                                "fallback_action: value %d must be a finite number, got %s",
                                i + 1, NUM(r->fallback_action[i]));
            }
        }
    }
    if (check_int(MCTS_KEY_TOP_K, r->top_k, err, errlen) != 0) {
        return -1;
    }
    return 0;
}

uint64_t mcts_derive_seed(uint64_t base_seed, const char *node_name,
                          int64_t tick_index) {
    const char *s = node_name ? node_name : "";
    return mcts_derive_seed_hash(base_seed, hash64(s, strlen(s)), tick_index);
}

uint64_t mcts_derive_seed_hash(uint64_t base_seed, uint64_t name_hash, int64_t tick_index) {
    uint64_t h = hash64_mix(base_seed);
    h = hash64_mix(h ^ name_hash);
    h = hash64_mix(h ^ (uint64_t)tick_index);
    return h >> 11;
}

/*
** ---------------------------------------------------------------- arena
*/

mcts_Planner *mcts_new(mem_Heap *M) {
    mcts_Planner *P = mem_calloc(M, sizeof *P);
    int i;
    if (P == NULL) {
        goto fail;
    }
    P->M = M;
    P->limit = MCTS_DEFAULT_NODE_LIMIT;
    P->tbl = mem_alloc(M, sizeof(double) * 2 * TBL_N);
    P->thr = mem_alloc(M, sizeof(int32_t) * THR_N);
    if (P->tbl == NULL || P->thr == NULL) {
        goto fail;
    }
    P->tbl[0] = 0.0;   /* sqrt(ln 0) is never asked for; keep it harmless */
    P->tbl[1] = 1.0;
    for (i = 1; i < TBL_N; i++) {
        P->tbl[2 * i] = sqrt(log((double)i));
        P->tbl[2 * i + 1] = 1.0 / sqrt((double)i);
    }
    P->thr_filled = 0;
    mcts_set_portable(P, 0);
    return P;
fail:
    mcts_free(P);
    return NULL;
}

void mcts_free(mcts_Planner *P) {
    mem_Heap *M;
    if (P == NULL) {
        return;
    }
    M = P->M;
    mem_free(M, P->block, (size_t)P->cap * NODE_BYTES);
    mem_free(M, P->path, sizeof(int32_t) * 2 * (size_t)P->path_cap);
    mem_free(M, P->kblock, KID_BYTES * (size_t)P->kids_cap);
    mem_free(M, P->tbl, sizeof(double) * 2 * TBL_N);
    mem_free(M, P->thr, sizeof(int32_t) * THR_N);
    mem_free(M, P, sizeof *P);
}

/* Grow the arena to hold at least 'want' nodes, or 'limit' if that is
** smaller.  The block moves: the caller re-reads every Node pointer.
** 0, or -1 when out of memory (the old block stays). */
static int arena_grow(mcts_Planner *P, int64_t want) {
    int64_t ncap = P->cap > 0 ? P->cap : ARENA_MIN;
    char *nb;
    if (want > P->limit) {
        want = P->limit;
    }
    if (want <= P->cap) {
        return 0;
    }
    while (ncap < want) {
        ncap *= 2;
    }
    if (ncap > P->limit) {
        ncap = P->limit;
    }
    nb = mem_alloc(P->M, (size_t)ncap * NODE_BYTES);
    if (nb == NULL) {
        return -1;
    }
    if (P->block != NULL) {
        /* copy the three regions; each old region starts where the old
        ** capacity put it */
        memcpy(nb, P->nodes, sizeof(Node) * (size_t)P->cap);
        memcpy(nb + sizeof(Node) * (size_t)ncap, P->states,
               sizeof(double) * MCTS_MAX_STATE * (size_t)P->cap);
        memcpy(nb + (sizeof(Node) + sizeof(double) * MCTS_MAX_STATE) * (size_t)ncap,
               P->actions, sizeof(double) * MCTS_MAX_ACTION * (size_t)P->cap);
        mem_free(P->M, P->block, (size_t)P->cap * NODE_BYTES);
    }
    P->block = nb;
    P->nodes = (Node *)(void *)nb;
    P->states = (double *)(void *)(nb + sizeof(Node) * (size_t)ncap);
    P->actions = (double *)(void *)(nb + (sizeof(Node) + sizeof(double) * MCTS_MAX_STATE) *
                                              (size_t)ncap);
    P->cap = (int32_t)ncap;
    return 0;
}

/* Room for a path of 'depth' steps (depth + 1 nodes, plus one spare). */
static int path_reserve(mcts_Planner *P, int depth) {
    int need = depth + 2;
    int32_t *np;
    if (need <= P->path_cap) {
        return 0;
    }
    np = mem_realloc(P->M, P->path, sizeof(int32_t) * 2 * (size_t)P->path_cap,
                     sizeof(int32_t) * 2 * (size_t)need);
    if (np == NULL) {
        return -1;
    }
    P->path = np;
    P->path_cap = need;
    return 0;
}

/* A fresh node index, growing the arena if needed; -1 when full. */
static int32_t node_new(mcts_Planner *P) {
    if (P->n >= P->limit) {
        return -1;
    }
    if (P->n == P->cap && arena_grow(P, (int64_t)P->cap * 2) != 0) {
        return -1;
    }
    return P->n++;
}

/* Grow the kids pool (by doubling) to at least 'need' slots.  Moves the
** pool.  0, or -1 when out of memory or too large. */
static int kids_grow(mcts_Planner *P, int64_t need) {
    int64_t want = P->kids_cap > 0 ? P->kids_cap : KIDS_POOL_MIN;
    char *nb;
    if (need <= P->kids_cap) {
        return 0;
    }
    while (want < need) {
        want *= 2;
    }
    if (want > INT32_MAX / 2) {
        return -1;
    }
    nb = mem_alloc(P->M, KID_BYTES * (size_t)want);
    if (nb == NULL) {
        return -1;
    }
    if (P->kblock != NULL) {
        /* the slots handed out so far, region by region */
        memcpy(nb, P->kq, sizeof(double) * (size_t)P->kids_n);
        memcpy(nb + sizeof(double) * (size_t)want, P->kisq, sizeof(double) * (size_t)P->kids_n);
        memcpy(nb + 2 * sizeof(double) * (size_t)want, P->knode,
               sizeof(int32_t) * (size_t)P->kids_n);
        mem_free(P->M, P->kblock, KID_BYTES * (size_t)P->kids_cap);
    }
    P->kblock = nb;
    P->kq = (double *)(void *)nb;
    P->kisq = (double *)(void *)(nb + sizeof(double) * (size_t)want);
    P->knode = (int32_t *)(void *)(nb + 2 * sizeof(double) * (size_t)want);
    P->kids_cap = (int32_t)want;
    return 0;
}

/* Set free slots [from, to) of the slice at 'off': they can never win a
** UCB scan (see select_child). */
static void kids_pad(mcts_Planner *P, int32_t off, int32_t from, int32_t to) {
    int32_t i;
    for (i = from; i < to; i++) {
        P->kq[off + i] = -DBL_MAX;
        P->kisq[off + i] = 0.0;
    }
}

/* Make room for one more child of 'parent' in the kids pool, moving its
** slice to a slice twice as large when full, and for that child's first
** slice (kids_first).  Moves the pool.  0 or -1.  A node gets its first
** slice when it is created, so the test below is rarely false (at 4, 8,
** 16, ... children): it used to be false for every node's first child,
** a mispredicted branch in most iterations. */
static int kids_reserve(mcts_Planner *P, int32_t parent) {
    Node *pn = &P->nodes[parent];
    int32_t ncap;
    if (pn->nchildren < pn->kcap) {
        return P->kids_n + KIDS_MIN <= P->kids_cap
                   ? 0
                   : kids_grow(P, (int64_t)P->kids_n + KIDS_MIN);
    }
    ncap = pn->kcap > 0 ? pn->kcap * 2 : KIDS_MIN;
    if (kids_grow(P, (int64_t)P->kids_n + ncap + KIDS_MIN) != 0) {
        return -1;
    }
    if (pn->nchildren > 0) {
        memcpy(P->kq + P->kids_n, P->kq + pn->koff, sizeof(double) * (size_t)pn->nchildren);
        memcpy(P->kisq + P->kids_n, P->kisq + pn->koff, sizeof(double) * (size_t)pn->nchildren);
        memcpy(P->knode + P->kids_n, P->knode + pn->koff,
               sizeof(int32_t) * (size_t)pn->nchildren);
    }
    pn->koff = P->kids_n;
    pn->kcap = ncap;
    kids_pad(P, pn->koff, pn->nchildren, ncap);
    P->kids_n += ncap;
    return 0;
}

/* Give a new node its first slice (room made by kids_reserve), all free.
** Once per iteration, so the KIDS_MIN (4) free slots are written by four
** stores rather than by kids_pad's loop. */
static void kids_first(mcts_Planner *P, Node *cn) {
    int32_t off = P->kids_n;
#if defined(__SSE2__)
    __m128d lo = _mm_set1_pd(-DBL_MAX), zero = _mm_setzero_pd();
    _mm_storeu_pd(P->kq + off, lo);
    _mm_storeu_pd(P->kq + off + 2, lo);
    _mm_storeu_pd(P->kisq + off, zero);
    _mm_storeu_pd(P->kisq + off + 2, zero);
#else
    kids_pad(P, off, 0, KIDS_MIN);
#endif
    cn->koff = off;
    cn->kcap = KIDS_MIN;
    P->kids_n = off + KIDS_MIN;
}

int mcts_reserve(mcts_Planner *P, int64_t nodes, int depth) {
    if (nodes > P->limit) {
        nodes = P->limit;
    }
    if (depth > MCTS_DEPTH_LIMIT) {
        depth = MCTS_DEPTH_LIMIT;
    }
    if (nodes + 1 > P->cap && arena_grow(P, nodes + 1) != 0) {
        return -1;
    }
    if (nodes > 0 && kids_grow(P, KIDS_PER_NODE * (nodes + 1)) != 0) {
        return -1;
    }
    if (depth > 0 && path_reserve(P, depth) != 0) {
        return -1;
    }
    return 0;
}

void mcts_set_node_limit(mcts_Planner *P, int32_t n) {
    P->limit = n < 16 ? 16 : n;
}

void mcts_set_portable(mcts_Planner *P, int on) {
#if LISPBT_POOL_AVX2
    P->avx2 = !on && __builtin_cpu_supports("avx2");
#else
    (void)on;
    P->avx2 = 0;
#endif
}

size_t mcts_arena_bytes(const mcts_Planner *P) {
    return (size_t)P->cap * NODE_BYTES + sizeof(int32_t) * 2 * (size_t)P->path_cap +
           KID_BYTES * (size_t)P->kids_cap +
           sizeof(double) * 2 * TBL_N + sizeof(int32_t) * THR_N + sizeof *P;
}

/*
** ------------------------------------------------------------ widening
*/

/* Smallest visit count N >= 0 at which a node with 'c' children may add
** one more: ceil(k * max(N,1)^alpha) > c, i.e. k * max(N,1)^alpha > c for
** integer c.  INT32_MAX means never. */
static int32_t widen_threshold(double k, double alpha, int32_t c) {
    double t;
    int64_t n;
    int guard;
    if (k > (double)c) {
        return 0;
    }
    if (alpha <= 0) {
        return INT32_MAX;
    }
    t = pow((double)c / k, 1.0 / alpha);
    if (!(t < 2.0e9)) {
        return INT32_MAX;
    }
    n = (int64_t)t;
    if (n < 1) {
        n = 1;
    }
    for (guard = 0; guard < 64 && n > 1 && k * pow((double)(n - 1), alpha) > c; guard++) {
        n--;
    }
    for (guard = 0; guard < 64 && !(k * pow((double)n, alpha) > c); guard++) {
        n++;
    }
    return n > INT32_MAX ? INT32_MAX : (int32_t)n;
}

/* widen_at for a node with 'c' children, cached per (pw_k, pw_alpha). */
static int32_t widen_at(mcts_Planner *P, int32_t c) {
    if (c >= THR_N) {
        return widen_threshold(P->thr_k, P->thr_alpha, c);
    }
    while (P->thr_filled <= c) {
        P->thr[P->thr_filled] = widen_threshold(P->thr_k, P->thr_alpha, P->thr_filled);
        P->thr_filled++;
    }
    return P->thr[c];
}

/*
** -------------------------------------------------------------- search
*/

static inline double sqrt_log(const mcts_Planner *P, int32_t n) {
    return n < TBL_N ? P->tbl[2 * n] : sqrt(log((double)n));
}

static inline double inv_sqrt(const mcts_Planner *P, int32_t n) {
    return n < TBL_N ? P->tbl[2 * n + 1] : 1.0 / sqrt((double)n);
}

/* Node 'i''s stored state and action (rows of the current model's size). */
static inline double *state_at(const Search *S, int32_t i) {
    return S->P->states + (size_t)i * (size_t)S->sdim;
}

static inline double *action_at(const Search *S, int32_t i) {
    return S->P->actions + (size_t)i * (size_t)S->adim;
}

static inline double clampd(double x, double lo, double hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

/* rng_next of rng.c (xoshiro256**) on a state kept in locals, inlined for
** the pool's refill loop. */
static inline uint64_t next64(uint64_t *s0, uint64_t *s1, uint64_t *s2, uint64_t *s3) {
    uint64_t x = *s1 * 5, result = ((x << 7) | (x >> 57)) * 9, t = *s1 << 17;
    *s2 ^= *s0;
    *s3 ^= *s1;
    *s1 ^= *s2;
    *s0 ^= *s3;
    *s2 ^= t;
    *s3 = (*s3 << 45) | (*s3 >> 19);
    return result;
}

/*
** The random actions of the uniform sampler and of random rollouts come
** from one pool of pre-drawn rows (action_dim values each) in P->pool,
** taken in order.  The rows are drawn from four xoshiro256** streams (the
** lanes), seeded from the search's generator at the start of the call,
** in blocks of eight values: one 64-bit draw of each lane, giving two
** uniforms each, its low then its high 32 bits u (the action value
** lo + width * u / 2^32), in the lane order 0, 2, 1, 3 (the order in which
** an AVX2 register holds them after widening).  Four lanes are four
** independent serial chains, and where the CPU has AVX2 one vector
** instruction steps all four: a value costs about a third of the
** instructions of one stream drawn 64 bits at a time.  Without AVX2
** (or with mcts_set_portable) the same lanes are stepped one by one, and
** the values are the same bits.  The rows drawn depend only on how many
** were taken before, so the stream is fixed by the seed.
** pool_ensure(S, n) is called before taking up to n rows, with the same n
** whichever path takes them (the batched and the step-by-step rollout), so
** a refill falls at the same point of the search on both and the gaussian
** sampler's direct draws (rng_normal, on the search's generator) interleave
** with refills the same way.
*/

/* Values per block of the four lanes. */
#define POOL_BLOCK 8

/* Lane k's state word w is S->lanes[4 * w + k]. */
static void lanes_seed(Search *S) {
    int i;
    for (i = 0; i < 16; i++) {
        S->lanes[i] = rng_next(&S->R);
    }
}

#if LISPBT_POOL_AVX2
/* 'n' (a multiple of 8) values into 'd', action_dim 1 or 2: lo[i], w[i]
** (width / 2^32) are the bounds of the value at d[4k + i]. */
__attribute__((target("avx2"))) static void pool_draw_avx2(uint64_t *lanes, double *d, int n,
                                                           const double *lo, const double *w) {
    __m256i s0 = _mm256_loadu_si256((const __m256i *)(const void *)lanes);
    __m256i s1 = _mm256_loadu_si256((const __m256i *)(const void *)(lanes + 4));
    __m256i s2 = _mm256_loadu_si256((const __m256i *)(const void *)(lanes + 8));
    __m256i s3 = _mm256_loadu_si256((const __m256i *)(const void *)(lanes + 12));
    __m256i magic = _mm256_set1_epi32(0x43300000); /* high word of 2^52 */
    __m256d two52 = _mm256_set1_pd(0x1.0p52), vlo = _mm256_loadu_pd(lo), vw = _mm256_loadu_pd(w);
    int j;
    for (j = 0; j < n; j += POOL_BLOCK) {
        /* xoshiro256** on the four lanes, as next64 */
        __m256i x = _mm256_add_epi64(s1, _mm256_slli_epi64(s1, 2));
        __m256i r = _mm256_or_si256(_mm256_slli_epi64(x, 7), _mm256_srli_epi64(x, 57));
        __m256i t = _mm256_slli_epi64(s1, 17);
        __m256d u0, u1;
        r = _mm256_add_epi64(r, _mm256_slli_epi64(r, 3));
        s2 = _mm256_xor_si256(s2, s0);
        s3 = _mm256_xor_si256(s3, s1);
        s1 = _mm256_xor_si256(s1, s2);
        s0 = _mm256_xor_si256(s0, s3);
        s2 = _mm256_xor_si256(s2, t);
        s3 = _mm256_or_si256(_mm256_slli_epi64(s3, 45), _mm256_srli_epi64(s3, 19));
        /* each 32-bit half as a double, exactly: below the high word of
        ** 2^52 it is the double 2^52 + u; unpacklo takes the halves of
        ** lanes 0 and 2, unpackhi those of lanes 1 and 3 */
        u0 = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_unpacklo_epi32(r, magic)), two52);
        u1 = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_unpackhi_epi32(r, magic)), two52);
        _mm256_storeu_pd(d + j, _mm256_add_pd(vlo, _mm256_mul_pd(vw, u0)));
        _mm256_storeu_pd(d + j + 4, _mm256_add_pd(vlo, _mm256_mul_pd(vw, u1)));
    }
    _mm256_storeu_si256((__m256i *)(void *)lanes, s0);
    _mm256_storeu_si256((__m256i *)(void *)(lanes + 4), s1);
    _mm256_storeu_si256((__m256i *)(void *)(lanes + 8), s2);
    _mm256_storeu_si256((__m256i *)(void *)(lanes + 12), s3);
}
#endif

/* Draw 'rows' rows (rows * action_dim a multiple of POOL_BLOCK) into 'd'. */
static void pool_draw(Search *S, double *d, int rows) {
    int A = S->adim, n = rows * A, j, i, k;
    uint64_t *L = S->lanes;
    double lo[MCTS_MAX_ACTION], w[MCTS_MAX_ACTION];
    for (i = 0; i < A; i++) {
        lo[i] = S->lo[i];
        w[i] = S->width[i] * 0x1.0p-32;
    }
#if LISPBT_POOL_AVX2
    if (A <= 2 && S->P->avx2) {
        double lo4[4], w4[4];
        for (i = 0; i < 4; i++) {
            lo4[i] = lo[i % A];
            w4[i] = w[i % A];
        }
        pool_draw_avx2(L, d, n, lo4, w4);
        return;
    }
#endif
    /* lane by lane, its state in locals: lane k's draw of block b is the
    ** pair d[8b + 2 pos[k]], d[8b + 2 pos[k] + 1] */
    for (k = 0; k < 4; k++) {
        static const int pos[4] = {0, 2, 1, 3};
        uint64_t s0 = L[k], s1 = L[4 + k], s2 = L[8 + k], s3 = L[12 + k];
        double *o = d + 2 * pos[k];
        if (A <= 2) {
            /* the pair's dimensions are 0 and A - 1 (even offsets) */
#if defined(__SSE2__)
            __m128d vlo = _mm_set_pd(lo[A - 1], lo[0]), vw = _mm_set_pd(w[A - 1], w[0]);
            __m128d two52 = _mm_set1_pd(0x1.0p52);
            __m128i magic = _mm_set1_epi32(0x43300000); /* high word of 2^52 */
            for (j = 0; j < n; j += POOL_BLOCK) {
                uint64_t r = next64(&s0, &s1, &s2, &s3);
                /* both 32-bit halves as doubles, exactly, as pool_draw_avx2 */
                __m128i h = _mm_unpacklo_epi32(
                    _mm_loadl_epi64((const __m128i *)(const void *)&r), magic);
                __m128d u = _mm_sub_pd(_mm_castsi128_pd(h), two52);
                _mm_storeu_pd(o + j, _mm_add_pd(vlo, _mm_mul_pd(vw, u)));
            }
#else
            for (j = 0; j < n; j += POOL_BLOCK) {
                uint64_t r = next64(&s0, &s1, &s2, &s3);
                o[j] = lo[0] + w[0] * (double)(uint32_t)r;
                o[j + 1] = lo[A - 1] + w[A - 1] * (double)(uint32_t)(r >> 32);
            }
#endif
        } else {
            i = 2 * pos[k] % A; /* the dimension of o[j] */
            for (j = 0; j < n; j += POOL_BLOCK) {
                uint64_t r = next64(&s0, &s1, &s2, &s3);
                int i1 = i + 1 == A ? 0 : i + 1;
                o[j] = lo[i] + w[i] * (double)(uint32_t)r;
                o[j + 1] = lo[i1] + w[i1] * (double)(uint32_t)(r >> 32);
                for (i += POOL_BLOCK; i >= A;) {
                    i -= A;
                }
            }
        }
        L[k] = s0;
        L[4 + k] = s1;
        L[8 + k] = s2;
        L[12 + k] = s3;
    }
}

/* Make at least 'n' (<= POOL_SEG) untaken rows available. */
static inline void pool_ensure(Search *S, int n) {
    if (S->pool_n - S->pool_pos < n) {
        double *pool = S->P->pool;
        int A = S->adim, keep = (S->pool_n - S->pool_pos) * A, i, fill = S->pool_fill;
        if (fill < n) {
            fill = (n + POOL_BLOCK - 1) & ~(POOL_BLOCK - 1); /* a whole block, any action_dim */
        }
        for (i = 0; i < keep; i++) {
            pool[i] = pool[S->pool_pos * A + i];
        }
        pool_draw(S, pool + keep, fill);
        S->pool_n = keep / A + fill;
        S->pool_pos = 0;
        if (fill < POOL_FILL) {
            S->pool_fill = fill * 2;
        }
    }
}

/* The next untaken row (after pool_ensure). */
static inline const double *pool_take(Search *S) {
    return S->P->pool + (size_t)(S->pool_pos++) * (size_t)S->adim;
}

/* Draw a new action for widening node 'parent' into 'a'. */
static void sample_action(Search *S, int32_t parent, double *a) {
    int i;
    if (S->sampler == MCTS_SAMPLER_GAUSSIAN) {
        const mcts_Model *m = S->m;
        mcts_Planner *P = S->P;
        double center[MCTS_MAX_ACTION];
        if (m->heuristic_action != NULL) {
            m->heuristic_action(m, state_at(S, parent), center);
        } else {
            /* no heuristic: around the most visited child, else mid-range */
            const Node *pn = &P->nodes[parent];
            const int32_t *kid = P->knode + pn->koff;
            int32_t best = -1, j;
            for (j = 0; j < pn->nchildren; j++) {
                if (best < 0 || P->nodes[kid[j]].visits > P->nodes[best].visits) {
                    best = kid[j];
                }
            }
            for (i = 0; i < S->adim; i++) {
                center[i] = best >= 0 ? action_at(S, best)[i]
                                      : S->lo[i] + 0.5 * S->width[i];
            }
        }
        for (i = 0; i < S->adim; i++) {
            a[i] = clampd(rng_normal(&S->R, center[i], S->sd[i]), S->lo[i],
                          S->lo[i] + S->width[i]);
        }
        return;
    }
    pool_ensure(S, 1);
    {
        const double *u = pool_take(S);
        for (i = 0; i < S->adim; i++) {
            a[i] = u[i];
        }
    }
}

/* Add one child to 'parent'; returns its index (and its slot in 'kids'
** in *slot) or -1 when the arena is full (then S->full is set).  Moves
** the arena. */
static int32_t expand(Search *S, int32_t parent, int32_t *slot) {
    mcts_Planner *P = S->P;
    const mcts_Model *m = S->m;
    int32_t c;
    Node *pn, *cn;
    double *a;
    double r;
    int term;
    if (kids_reserve(P, parent) != 0 || (c = node_new(P)) < 0) {
        S->full = 1;
        return -1;
    }
    a = action_at(S, c);
    sample_action(S, parent, a);
    term = m->step(m, state_at(S, parent), a,
                   state_at(S, c), &r);
    if (term < 0) {
        S->failed = 1;
        term = 1;
        r = 0.0;
    }
    pn = &P->nodes[parent];
    cn = &P->nodes[c];
    cn->q = 0.0;
    cn->reward = r;
    cn->visits = 0;
    kids_first(P, cn);
    cn->nchildren = 0;
    cn->widen_at = 0;
    cn->terminal = term;
    /* the slot's kq and kisq are written by this iteration's back-up,
    ** before any scan of this parent reads them */
    *slot = pn->koff + pn->nchildren;
    P->knode[*slot] = c;
    pn->nchildren++;
    pn->widen_at = widen_at(P, pn->nchildren);
    S->widen_added++;
    return c;
}

/* Random rollout of at most 'steps' (>= 1) steps from 's0' with a model
** that has a batched rollout: segments of up to POOL_SEG actions straight
** from the pool, one call each. */
static LISPBT_INLINE double rollout_batched(Search *S, const double *s0, int steps) {
    const mcts_Model *m = S->m;
    double x[MCTS_MAX_STATE], g = 0.0, disc = 1.0;
    int t = 0, term = 0, k, i;
    for (i = 0; i < S->sdim; i++) {
        x[i] = s0[i];
    }
    while (t < steps && !term) {
        int n = steps - t < POOL_SEG ? steps - t : POOL_SEG;
        pool_ensure(S, n);
        k = m->rollout(m, x, S->P->pool + (size_t)S->pool_pos * (size_t)S->adim, n, S->gamma,
                       &g, &disc, &term);
        if (k < 0) {
            S->failed = 1;
            break;
        }
        S->pool_pos += k;
        t += k;
    }
    return g;
}

/* Discounted return of a rollout of at most 'steps' steps from 's0'. */
static double rollout(Search *S, const double *s0, int steps) {
    const mcts_Model *m = S->m;
    double buf[2][MCTS_MAX_STATE];
    double a[MCTS_MAX_ACTION];
    double g = 0.0, disc = 1.0, r;
    double *cur = buf[0], *nxt = buf[1], *tmp;
    int t, term, heur = S->rollout == MCTS_ROLLOUT_HEURISTIC;
    if (steps <= 0) {
        return 0.0;
    }
    if (S->batched) {
        return rollout_batched(S, s0, steps);
    }
    memcpy(cur, s0, sizeof(double) * (size_t)S->sdim);
    for (t = 0; t < steps; t++) {
        const double *u;
        if (heur) {
            m->heuristic_action(m, cur, a);
            u = a;
        } else {
            if (t % POOL_SEG == 0) { /* as rollout_batched does per segment */
                pool_ensure(S, steps - t < POOL_SEG ? steps - t : POOL_SEG);
            }
            u = pool_take(S);
        }
        term = m->step(m, cur, u, nxt, &r);
        if (term < 0) {
            S->failed = 1;
            break;
        }
        g += disc * r;
        disc *= S->gamma;
        if (term) {
            break;
        }
        tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    return g;
}

/* The rollout of iterate: a model's batched rollout is called from here
** (inlined into the search loop: no call of rollout() per iteration). */
static LISPBT_INLINE double rollout_from(Search *S, const double *s0, int steps) {
    if (S->batched && steps > 0) {
        return rollout_batched(S, s0, steps);
    }
    return rollout(S, s0, steps);
}

/* The slot (in 'kids') of the child of 'parent' with the best UCB score
** (first wins ties).  Reads only the parent's slice of cached q and
** 1/sqrt(visits).  Where there is SSE2, two maxima are kept, of the even
** and of the odd slots (the two lanes of one register: branch-free, as the
** best child changes at random points of the scan), then merged so ties
** still go to the earliest slot; elsewhere a scalar loop computes the same
** scores and picks the same slot. */
static int32_t select_child(const Search *S, int32_t parent) {
    const mcts_Planner *P = S->P;
    const Node *pn = &P->nodes[parent];
    /* Qn + c sqrt(ln N) / sqrt(n) with Qn = (q - qmin) / spread is largest
    ** for the child with the largest q + c sqrt(ln N) spread / sqrt(n) */
    double cs = S->c * sqrt_log(P, pn->visits) * S->qspread;
    const double *kq = P->kq + pn->koff, *kisq = P->kisq + pn->koff;
    int32_t j0, j, n = pn->nchildren;
#if defined(__SSE2__)
    __m128d vb = _mm_set1_pd(-DBL_MAX), vcs = _mm_set1_pd(cs);
    __m128d vj = _mm_set_pd(1.0, 0.0), vbest = vj, two = _mm_set1_pd(2.0);
    double b0, b1;
    int32_t j1;
    /* a slice's capacity is even and its free slots score -DBL_MAX (never
    ** above vb), so an odd count scans its free slot in the last pair */
    for (j = 0; j < n; j += 2) {
        /* unaligned loads: the heap's allocator need not align to 16 */
        __m128d sc = _mm_add_pd(_mm_loadu_pd(kq + j), _mm_mul_pd(vcs, _mm_loadu_pd(kisq + j)));
        __m128d gt = _mm_cmpgt_pd(sc, vb);
        /* vb > sc ? vb : sc, the same value as sc > vb ? sc : vb (scores
        ** are never NaN), with vb in place: no register copy */
        vb = _mm_max_pd(vb, sc);
        /* gt ? vj : vbest: this pair's slots are above any kept before,
        ** so the larger of vbest and (gt & vj) (0 where gt is not set) */
        vbest = _mm_max_pd(vbest, _mm_and_pd(gt, vj));
        vj = _mm_add_pd(vj, two);
    }
    b0 = _mm_cvtsd_f64(vb);
    b1 = _mm_cvtsd_f64(_mm_unpackhi_pd(vb, vb));
    j0 = (int32_t)_mm_cvtsd_f64(vbest);
    j1 = (int32_t)_mm_cvtsd_f64(_mm_unpackhi_pd(vbest, vbest));
    /* the odd slots' best wins if higher, or equal and earlier; without
    ** a branch (which lane wins is random) */
    {
        int32_t take = (int32_t)((b1 > b0) | ((b1 == b0) & (j1 < j0)));
        j0 ^= (j0 ^ j1) & -take;
    }
#else
    {
        double b = -DBL_MAX;
        j0 = 0;
        for (j = 0; j < n; j++) {
            double sc = kq[j] + cs * kisq[j];
            if (sc > b) {
                b = sc;
                j0 = j;
            }
        }
    }
#endif
    return pn->koff + j0;
}

/* One iteration: select, maybe widen, roll out, back up. */
static void iterate(Search *S) {
    mcts_Planner *P = S->P;
    int32_t *path = P->path;
    int32_t cur = 0;
    int depth = 0, i;
    double g = 0.0;
    Node *nodes;
    path[0] = 0;
    path[1] = -1;
    for (;;) {
        const Node *n = &P->nodes[cur];
        if (n->terminal || depth >= S->max_depth) {
            break;
        }
        if (n->visits >= n->widen_at && !S->full) {
            int32_t slot, c = expand(S, cur, &slot);   /* may move the arena */
            if (c >= 0) {
                ++depth;
                path[2 * depth] = c;
                path[2 * depth + 1] = slot;
                if (!P->nodes[c].terminal) {
                    g = rollout_from(S, state_at(S, c), S->max_depth - depth);
                }
                break;
            }
            n = &P->nodes[cur];
        }
        if (n->nchildren == 0) {
            g = rollout_from(S, state_at(S, cur), S->max_depth - depth);
            break;
        }
        {
            int32_t slot = select_child(S, cur);
            cur = P->knode[slot];
            ++depth;
            path[2 * depth] = cur;
            path[2 * depth + 1] = slot;
        }
    }
    /* back up; the root (path[0]) only counts the visit.  gamma and the q
    ** range in locals: the stores into the nodes could alias S's fields */
    nodes = P->nodes;
    {
        double gamma = S->gamma, qmin = S->qmin, qmax = S->qmax;
        double *kq = P->kq, *kisq = P->kisq;
        for (i = depth; i >= 1; i--) {
            Node *n = &nodes[path[2 * i]];
            int32_t k = path[2 * i + 1], v = n->visits + 1;
            double q = n->q;
            g = n->reward + gamma * g;
            q += (g - q) / v;
            n->visits = v;
            n->q = q;
            kq[k] = q;
            kisq[k] = inv_sqrt(P, v);
            if (q < qmin || q > qmax) {
                qmin = q < qmin ? q : qmin;
                qmax = q > qmax ? q : qmax;
                S->qmin = qmin;
                S->qmax = qmax;
                S->qspread = qmax - qmin > 1e-12 ? qmax - qmin : 1.0;
            }
        }
    }
    nodes[0].visits++;
    S->depth_sum += depth;
    if (depth > S->depth_max) {
        S->depth_max = depth;
    }
}

/* Is child 'a' a better answer than child 'b' (more visits, then higher q)? */
static int better(const Node *nodes, int32_t a, int32_t b) {
    if (nodes[a].visits != nodes[b].visits) {
        return nodes[a].visits > nodes[b].visits;
    }
    return nodes[a].q > nodes[b].q;
}

/* Fill 'res' from the finished tree: best action, top_k, confidence. */
static void collect(Search *S, const mcts_Request *req, mcts_Result *res) {
    mcts_Planner *P = S->P;
    const Node *nodes = P->nodes;
    int32_t top[MCTS_MAX_TOPK];
    int want = req->top_k > 0 ? req->top_k : 1;
    int nt = 0, j, d;
    int32_t i, k;
    for (k = 0; k < nodes[0].nchildren; k++) {
        i = P->knode[nodes[0].koff + k];
        /* insertion into the sorted 'top' array of at most 'want' */
        if (nt == want && !better(nodes, i, top[nt - 1])) {
            continue;
        }
        j = nt < want ? nt++ : nt - 1;
        while (j > 0 && better(nodes, i, top[j - 1])) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = i;
    }
    res->root_visits = nodes[0].visits;
    res->root_children = nodes[0].nchildren;
    res->action_dim = 0;
    if (nt == 0) {
        res->status = MCTS_NOACTION;
        if (req->fallback_len > 0) {
            mcts_model_clamp(S->m, req->fallback_action, res->action);
            res->action_dim = S->adim;
        }
        return;
    }
    mcts_model_clamp(S->m, action_at(S, top[0]), res->action);
    res->action_dim = S->adim;
    res->confidence = nodes[0].visits > 0
                          ? (double)nodes[top[0]].visits / (double)nodes[0].visits
                          : 0.0;
    res->value_est = nodes[top[0]].q;
    res->top_n = req->top_k < nt ? req->top_k : nt;
    for (j = 0; j < res->top_n; j++) {
        mcts_Alt *alt = &res->top[j];
        for (d = 0; d < S->adim; d++) {
            alt->action[d] = action_at(S, top[j])[d];
        }
        alt->visits = nodes[top[j]].visits;
        alt->q = nodes[top[j]].q;
    }
}

static int run(mcts_Planner *P, const mcts_Model *m, const double *lo, const double *hi,
               const mcts_Request *req, mcts_Result *res, int64_t t0);

int mcts_run(mcts_Planner *P, const mcts_Request *req, mcts_Result *res) {
    int64_t t0 = lispbt_now_ns();
    char name[MCTS_MODEL_NAME_MAX];
    memset(res, 0, sizeof *res);
    res->seed = req->seed;
    if (mcts_request_check(req, res->error, sizeof res->error) != 0) {
        res->status = MCTS_ERROR;
        res->time_used_ms = (double)(lispbt_now_ns() - t0) * 1e-6;
        return MCTS_ERROR;
    }
    return run(P, request_model(req, name), NULL, NULL, req, res, t0);
}

int mcts_run_model(mcts_Planner *P, const mcts_Model *m, const double *lo, const double *hi,
                   const mcts_Request *req, mcts_Result *res) {
    int64_t t0 = lispbt_now_ns();
    memset(res, 0, sizeof *res);
    res->seed = req->seed;
    if (check_model(req, m, res->error, sizeof res->error) != 0) {
        res->status = MCTS_ERROR;
        res->time_used_ms = (double)(lispbt_now_ns() - t0) * 1e-6;
        return MCTS_ERROR;
    }
    return run(P, m, lo, hi, req, res, t0);
}

/* The search of a checked request (mcts_run, mcts_run_model). */
static int run(mcts_Planner *P, const mcts_Model *m, const double *lo, const double *hi,
               const mcts_Request *req, mcts_Result *res, int64_t t0) {
    int64_t now, deadline, next_check, it, batch, per, slack;
    Search S;
    Node *root;
    int i, timed_out = 0;
    S.P = P;
    S.m = m;
    S.sdim = S.m->state_dim;
    S.adim = S.m->action_dim;
    S.max_depth = req->max_depth;
    S.rollout = req->rollout_policy;
    if (S.rollout == MCTS_ROLLOUT_MODEL) {
        S.rollout = m->heuristic_action != NULL ? MCTS_ROLLOUT_HEURISTIC : MCTS_ROLLOUT_RANDOM;
    }
    S.batched = m->rollout != NULL && S.rollout != MCTS_ROLLOUT_HEURISTIC;
    S.sampler = req->action_sampler;
    S.gamma = req->gamma;
    S.c = req->c_ucb;
    S.qmin = DBL_MAX;
    S.qmax = -DBL_MAX;
    S.qspread = 1.0;
    for (i = 0; i < S.adim; i++) {
        S.lo[i] = lo ? lo[i] : S.m->action_lo[i];
        S.width[i] = (hi ? hi[i] : S.m->action_hi[i]) - S.lo[i];
        S.sd[i] = 0.15 * S.width[i];
    }
    S.full = 0;
    S.failed = 0;
    S.widen_added = 0;
    S.depth_sum = 0;
    S.depth_max = 0;
    rng_seed(&S.R, req->seed);
    lanes_seed(&S);
    S.pool_pos = 0;
    S.pool_n = 0;
    S.pool_fill = POOL_FIRST;
    if (P->thr_k != req->pw_k || P->thr_alpha != req->pw_alpha) {
        P->thr_k = req->pw_k;
        P->thr_alpha = req->pw_alpha;
        P->thr_filled = 0;
    }
    /* the root needs one node and the path max_depth + 1 slots */
    if (path_reserve(P, req->max_depth) != 0 || (P->cap == 0 && arena_grow(P, ARENA_MIN) != 0)) {
        snprintf(res->error, sizeof res->error, "planner: out of memory");
        res->nomem = 1;
        goto fail;
    }
    P->n = 1;
    P->kids_n = 0;
    root = &P->nodes[0];
    memset(root, 0, sizeof *root);
    root->widen_at = 0;
    memcpy(P->states, req->state, sizeof(double) * (size_t)S.sdim);

    /* Iterate until iters_max, reading the clock once per batch.  The first
    ** check follows the first iteration, so every call does at least one. */
    deadline = t0 + (int64_t)(req->budget_ms * 1e6);
    next_check = 1;
    for (it = 0; it < req->iters_max;) {
        iterate(&S);
        it++;
        if (S.failed) {
            snprintf(res->error, sizeof res->error, "%s",
                     m->errmsg != NULL ? m->errmsg(m) : "model step failed");
            goto fail;
        }
        if (it >= next_check && it < req->iters_max) {
            now = lispbt_now_ns();
            if (now >= deadline) {
                timed_out = 1;
                break;
            }
            per = (now - t0) / it;
            if (per < 1) {
                per = 1;
            }
            slack = (deadline - now) / 2;
            if (slack > CHECK_SLICE_NS) {
                slack = CHECK_SLICE_NS;
            }
            batch = slack / per;
            batch = batch < 1 ? 1 : (batch > CHECK_BATCH_MAX ? CHECK_BATCH_MAX : batch);
            next_check = it + batch;
        }
    }
    res->status = timed_out ? MCTS_TIMEOUT : MCTS_OK;
    res->iters = it;
    res->widen_added = S.widen_added;
    res->depth_max = S.depth_max;
    res->depth_mean = it > 0 ? (double)S.depth_sum / (double)it : 0.0;
    collect(&S, req, res);
    res->time_used_ms = (double)(lispbt_now_ns() - t0) * 1e-6;
    return res->status;
fail:
    res->status = MCTS_ERROR;
    res->action_dim = 0;
    res->time_used_ms = (double)(lispbt_now_ns() - t0) * 1e-6;
    return MCTS_ERROR;
}
