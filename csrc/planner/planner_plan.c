/*
** planner_plan.c -- planner.plan v1: the dispatcher, the MCTS adapter, MPPI
** and iLQR.  See planner_plan.h and docs/planner.md.  See LICENSE for
** copyright.
**
** One call
** --------
** plan_run resolves the action schema, the bounds (the request's rows
** intersected with the model's), the safe action (the request's clamped,
** else zeros clamped) and the state check, then runs one backend.
** Whatever happens, the result carries an action: the backend's (clamped
** to the bounds) when it found one, else the safe action, and a status
** ok / timeout / noaction / error.
**
** MPPI (sampling)
** ---------------
** A nominal action sequence U (horizon x adim) starts from u_nominal,
** else u_init, else the node's warm start (the previous call's U shifted by
** one step, for plan-action nodes), else zeros.  Each of K samples
** (K = n_samples, capped by work_max) perturbs U by Gaussian noise of
** 'sigma' per dimension, clamps, applies the max_du rate limit and rolls the
** model out; its cost is the sum of -reward until a terminal step, plus
** smoothness_weight * sum |u_t - u_t-1|^2.  The n_elite cheapest (all when
** 0) are weighted exp(-(c - c_min) / lambda) and U moves by the weighted
** mean noise.  The action is U[0]; confidence is the effective sample
** size over K.
**
** iLQR (local optimisation)
** -------------------------
** From U (u_init or zeros): roll out, linearise the dynamics (model's
** analytic derivatives, or central finite differences with fd_eps) and
** quadraticise the stage cost (-reward) and terminal cost, run the
** backward pass with Levenberg regularisation 'reg' on Q_uu, and try the
** line search steps 1, 0.5, 0.25, 0.1, 0.05, 0.01.  An accepted step
** divides reg by reg_factor, a rejected one multiplies it (gives up at
** 1e8).  Stops at max_iters (capped by work_max), budget_ms, or when the
** cost improves by <= tol_cost or the gradient's max norm is <= tol_grad.
** Confidence is the relative cost reduction, +0.2 when converged.
**
** Invariants
** ----------
**   - All randomness comes from one rng_State seeded from the request seed;
**     the clock only decides when to stop.  With work_max binding, results
**     are identical on every run and thread.
**   - Buffers ('buf', the MCTS arena, warm slots) only grow and are reused;
**     a request no larger than an earlier one allocates nothing.
**   - Model steps that return -1 (a Lua or Lisp model raised) stop the
**     backend at once with status error and the model's message.
*/
#include "conf.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "planner_plan.h"
#include "rng.h"

typedef struct Warm {
    uint64_t key;          /* 0 = free */
    int adim, horizon;
    double *seq;           /* PLAN_SEQ_MAX doubles, allocated on first use */
} Warm;

/* MPPI noise: inverse-CDF table of the standard normal (NTAB cells, linear
** interpolation), a few ns per draw where Box-Muller costs a log and a
** sqrt.  Cell edges k/NTAB for k = 1..NTAB-1 are exact quantiles; the two
** end cells stop at the quantiles of 0.25/NTAB and 1 - 0.25/NTAB
** (|z| <= 3.49), so the tails beyond that are cut (variance 0.9987). */
#define NTAB_BITS 10
#define NTAB (1 << NTAB_BITS)
/* MPPI clock checks: the samples between two checks last at most this
** long (estimated from the samples so far), and at most half the time left;
** a check costs a clock read, a sample of a cheap model not much more. */
#define CHECK_SLICE_NS 50000
#define CHECK_BATCH_MAX 1024

struct plan_Planner {
    mem_Heap *M;
    double ntab[NTAB + 1];
    double nslope[NTAB];   /* ntab[k + 1] - ntab[k] */
    mcts_Planner *mcts;
    double *buf;           /* MPPI/iLQR scratch */
    size_t bufn;           /* doubles in 'buf' */
    int32_t *ibuf;         /* MPPI sample order + merge-sort scratch */
    size_t ibufn;
    const mcts_Model *reg[PLAN_MODELS_MAX];
    int nreg;
    Warm warm[PLAN_WARM_SLOTS];
};

/* Per-call context shared by the backends. */
typedef struct Call {
    plan_Planner *P;
    const mcts_Model *m;   /* the per-call copy (state_dim fixed) */
    const plan_Request *q;
    plan_Result *res;
    int sdim, adim, H;
    double lo[MCTS_MAX_ACTION], hi[MCTS_MAX_ACTION];
    int64_t t0, deadline;
    const char *failmsg;   /* set when a model step failed */
} Call;

static const char *const backend_names[] = {"mcts", "mppi", "ilqr"};

const char *plan_backend_name(int backend) {
    return (backend >= 0 && backend <= 2) ? backend_names[backend] : "unknown";
}

static double clampd(double x, double lo, double hi) {
    return !(x >= lo) ? lo : (x > hi ? hi : x); /* NaN -> lo */
}

/*
** ------------------------------------------------------------ lifecycle
*/

/* The standard normal quantile at 'p' in (0, 1) (Acklam's rational
** approximation, relative error < 1.2e-9). */
static double normal_quantile(double p) {
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                -2.759285104469687e+02, 1.383577518672690e+02,
                                -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                -2.400758277161838e+00, -2.549732539343734e+00,
                                4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01,
                                2.445134137142996e+00, 3.754408661907416e+00};
    double q, r;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    if (p > 1 - 0.02425) {
        return -normal_quantile(1 - p);
    }
    q = p - 0.5;
    r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* rng_next of rng.c, inlined for the sampling loop (same sequence). */
static inline uint64_t xnext(rng_State *R) {
    uint64_t *s = R->s;
    uint64_t x = s[1] * 5, result = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Two standard normal deviates from the table (see NTAB) out of one 64-bit
** draw: each 32-bit half gives one, its top NTAB_BITS picking the cell and
** the other 32 - NTAB_BITS its fraction (2^-22 steps inside a cell of
** probability 2^-10), so the generator runs once per two values.  The
** high half is the first value. */
#define NFRAC_BITS (32 - NTAB_BITS)
static inline void fastnormal2(const double *tab, const double *slope, rng_State *R, double *z0,
                               double *z1) {
    uint64_t x = xnext(R);
    uint32_t h = (uint32_t)(x >> 32), l = (uint32_t)x;
    int i = (int)(h >> NFRAC_BITS), j = (int)(l >> NFRAC_BITS);
    const double s = 1.0 / (double)(UINT32_C(1) << NFRAC_BITS);
    *z0 = tab[i] + slope[i] * ((double)(h & ((UINT32_C(1) << NFRAC_BITS) - 1)) * s);
    *z1 = tab[j] + slope[j] * ((double)(l & ((UINT32_C(1) << NFRAC_BITS) - 1)) * s);
}

plan_Planner *plan_new(mem_Heap *M) {
    plan_Planner *P = mem_calloc(M, sizeof(plan_Planner));
    int k;
    if (P == NULL) {
        return NULL;
    }
    P->M = M;
    for (k = 0; k <= NTAB; k++) {
        double p = k == 0 ? 0.25 / NTAB : (k == NTAB ? 1 - 0.25 / NTAB : (double)k / NTAB);
        P->ntab[k] = normal_quantile(p);
    }
    for (k = 0; k < NTAB; k++) {
        P->nslope[k] = P->ntab[k + 1] - P->ntab[k];
    }
    P->mcts = mcts_new(M);
    if (P->mcts == NULL) {
        mem_free(M, P, sizeof(plan_Planner));
        return NULL;
    }
    return P;
}

void plan_free(plan_Planner *P) {
    int i;
    if (P == NULL) {
        return;
    }
    mcts_free(P->mcts);
    mem_free(P->M, P->buf, P->bufn * sizeof(double));
    mem_free(P->M, P->ibuf, P->ibufn * sizeof(int32_t));
    for (i = 0; i < PLAN_WARM_SLOTS; i++) {
        mem_free(P->M, P->warm[i].seq, P->warm[i].seq ? PLAN_SEQ_MAX * sizeof(double) : 0);
    }
    mem_free(P->M, P, sizeof(plan_Planner));
}

mcts_Planner *plan_mcts(plan_Planner *P) {
    return P->mcts;
}

size_t plan_bytes(const plan_Planner *P) {
    size_t n = sizeof(plan_Planner) + P->bufn * sizeof(double) + P->ibufn * sizeof(int32_t) +
               mcts_arena_bytes(P->mcts);
    int i;
    for (i = 0; i < PLAN_WARM_SLOTS; i++) {
        n += P->warm[i].seq ? PLAN_SEQ_MAX * sizeof(double) : 0;
    }
    return n;
}

/* Make 'buf' hold 'n' doubles and 'ibuf' 'ni' ints; 0 or -1 (out of memory). */
static int reserve(plan_Planner *P, size_t n, size_t ni) {
    if (n > P->bufn) {
        double *b = mem_realloc(P->M, P->buf, P->bufn * sizeof(double), n * sizeof(double));
        if (b == NULL) {
            return -1;
        }
        P->buf = b;
        P->bufn = n;
    }
    if (ni > P->ibufn) {
        int32_t *b = mem_realloc(P->M, P->ibuf, P->ibufn * sizeof(int32_t), ni * sizeof(int32_t));
        if (b == NULL) {
            return -1;
        }
        P->ibuf = b;
        P->ibufn = ni;
    }
    return 0;
}

/*
** --------------------------------------------------------------- models
*/

const mcts_Model *plan_model(const plan_Planner *P, const char *name) {
    const mcts_Model *m = plan_builtin_find(name);
    int i;
    for (i = 0; m == NULL && i < P->nreg; i++) {
        if (strcmp(P->reg[i]->name, name) == 0) {
            m = P->reg[i];
        }
    }
    return m;
}

int plan_register(plan_Planner *P, const mcts_Model *m, char *err, size_t errlen) {
    int i;
    if (m->name == NULL || m->name[0] == '\0' || strlen(m->name) >= MCTS_MODEL_NAME_MAX) {
        snprintf(err, errlen, "model name must be 1..%d bytes", MCTS_MODEL_NAME_MAX - 1);
        return -1;
    }
    if (plan_builtin_find(m->name) != NULL) {
        snprintf(err, errlen, "'%s' is a built-in model", m->name);
        return -1;
    }
    if (m->action_dim < 1 || m->action_dim > MCTS_MAX_ACTION || m->state_dim < 0 ||
        m->state_dim > MCTS_MAX_STATE || m->step == NULL) {
        snprintf(err, errlen, "model '%s' needs a step function, 1..%d action and 0..%d state "
                 "dimensions", m->name, MCTS_MAX_ACTION, MCTS_MAX_STATE);
        return -1;
    }
    for (i = 0; i < m->action_dim; i++) {
        if (!isfinite(m->action_lo[i]) || !isfinite(m->action_hi[i]) ||
            !(m->action_lo[i] <= m->action_hi[i])) {
            snprintf(err, errlen, "model '%s': bounds row %d must be finite with lo <= hi",
                     m->name, i + 1);
            return -1;
        }
    }
    for (i = 0; i < P->nreg; i++) {
        if (strcmp(P->reg[i]->name, m->name) == 0) {
            P->reg[i] = m;
            return 0;
        }
    }
    if (P->nreg >= PLAN_MODELS_MAX) {
        snprintf(err, errlen, "at most %d models can be registered", PLAN_MODELS_MAX);
        return -1;
    }
    P->reg[P->nreg++] = m;
    return 0;
}

const mcts_Model *plan_registered_at(const plan_Planner *P, int i) {
    return i >= 0 && i < P->nreg ? P->reg[i] : NULL;
}

int plan_unregister(plan_Planner *P, const char *name) {
    int i;
    for (i = 0; i < P->nreg; i++) {
        if (strcmp(P->reg[i]->name, name) == 0) {
            memmove(&P->reg[i], &P->reg[i + 1], sizeof(P->reg[0]) * (size_t)(P->nreg - i - 1));
            P->nreg--;
            return 1;
        }
    }
    return 0;
}

/*
** ------------------------------------------------------------- requests
*/

void plan_request_defaults(plan_Request *r) {
    memset(r, 0, sizeof *r);
    r->backend = PLAN_MCTS;
    strcpy(r->model_service, "toy-1d");
    r->budget_ms = 20.0;
    r->top_k = 3;
    strcpy(r->run_id, "default");
    strcpy(r->node_name, "planner");
    r->mcts.c_ucb = 1.2;
    r->mcts.pw_k = 2.0;
    r->mcts.pw_alpha = 0.5;
    r->mcts.max_depth = 25;
    r->mcts.gamma = 0.95;
    r->mcts.rollout_policy = MCTS_ROLLOUT_MODEL;
    r->mcts.action_sampler = MCTS_SAMPLER_UNIFORM;
    r->mppi.lambda = 1.0;
    r->mppi.n_samples = 128;
    r->ilqr.max_iters = 30;
    r->ilqr.reg_init = 1.0;
    r->ilqr.reg_factor = 10.0;
    r->ilqr.tol_cost = 1e-4;
    r->ilqr.tol_grad = 1e-4;
    r->ilqr.fd_eps = 1e-4;
    r->ilqr.derivatives = PLAN_ANALYTIC;
}

/*
** -------------------------------------------------------------- helpers
*/

static void clampu(const Call *C, double *u) {
    int d;
    for (d = 0; d < C->adim; d++) {
        u[d] = clampd(u[d], C->lo[d], C->hi[d]);
    }
}

/* The max_du rate limit along a sequence of 'H' actions. */
static void ratelimit(const Call *C, double *U, int H) {
    const plan_Request *q = C->q;
    int t, d;
    if (q->n_max_du == 0) {
        return;
    }
    for (t = 1; t < H; t++) {
        for (d = 0; d < C->adim && d < q->n_max_du; d++) {
            double lim = fabs(q->max_du[d]), prev = U[(t - 1) * C->adim + d];
            double *cur = &U[t * C->adim + d];
            if (!(lim > 0) || !isfinite(lim)) {
                continue;
            }
            if (*cur - prev > lim) {
                *cur = prev + lim;
            } else if (*cur - prev < -lim) {
                *cur = prev - lim;
            }
        }
    }
}

/* Unpack a flat 'n'-value sequence into U (H x adim): n == H*adim as is,
** n >= adim repeats the first action; 0 when done, -1 if 'n' fits neither. */
static int unpack(const Call *C, const double *flat, int n, double *U) {
    int t, d, A = C->adim;
    if (n == C->H * A) {
        memcpy(U, flat, sizeof(double) * (size_t)n);
        return 0;
    }
    if (n != A) {
        return -1;
    }
    for (t = 0; t < C->H; t++) {
        for (d = 0; d < A; d++) {
            U[t * A + d] = flat[d];
        }
    }
    return 0;
}

/* One model step; returns the terminal flag, or -1 with C->failmsg set. */
static int step(Call *C, const double *x, const double *u, double *next, double *reward) {
    int r = C->m->step(C->m, x, u, next, reward);
    if (r < 0) {
        C->failmsg = C->m->errmsg ? C->m->errmsg(C->m) : "model step failed";
    }
    return r;
}

/* Roll the model out from 'x' (updated in place) through the 'n' actions
** of U: the model's batched rollout when it has one, else a loop over
** 'step' (the same arithmetic, mcts_RolloutFn).  Returns the steps taken,
** or -1 with C->failmsg set. */
static int rolln(Call *C, double *x, const double *U, int n, double gamma, double *ret,
                 double *disc, int *term) {
    const mcts_Model *m = C->m;
    double buf[MCTS_MAX_STATE], *cur = x, *nxt = buf, *tmp, r, g = *ret, dd = *disc;
    int t, k = 0, d, A = C->adim;
    if (m->rollout != NULL) {
        k = m->rollout(m, x, U, n, gamma, ret, disc, term);
        if (k < 0) {
            C->failmsg = m->errmsg ? m->errmsg(m) : "model step failed";
        }
        return k;
    }
    for (t = 0; t < n;) {
        k = step(C, cur, &U[t * A], nxt, &r);
        if (k < 0) {
            return -1;
        }
        g += dd * r;
        dd *= gamma;
        tmp = cur;
        cur = nxt;
        nxt = tmp;
        t++;
        if (k) {
            break;
        }
    }
    for (d = 0; cur != x && d < C->sdim; d++) {
        x[d] = cur[d];
    }
    *ret = g;
    *disc = dd;
    *term = k;
    return t;
}

/* Cost (-reward sum, stopping at a terminal step, plus smoothness) of
** action sequence U from the request state.  Returns 0, 1 when the cost
** is not finite (the sample is skipped) or -1 when the model failed. */
static int rollout_cost(Call *C, const double *U, double *cost) {
    double x[MCTS_MAX_STATE], ret = 0.0, disc = 1.0, c;
    int t, d, A = C->adim, term;
    for (d = 0; d < C->sdim; d++) { /* a loop: a library memcpy per sample costs more */
        x[d] = C->q->state[d];
    }
    if (rolln(C, x, U, C->H, 1.0, &ret, &disc, &term) < 0) {
        return -1;
    }
    c = 0.0 - ret; /* the sum of -reward, the same bits as subtracting each (never -0) */
    if (C->q->smoothness_weight > 0) {
        double p = 0.0;
        for (t = 1; t < C->H; t++) {
            for (d = 0; d < A; d++) {
                double du = U[t * A + d] - U[(t - 1) * A + d];
                p += du * du;
            }
        }
        c += C->q->smoothness_weight * p;
    }
    *cost = c;
    return isfinite(c) ? 0 : 1;
}

/* Has the budget run out? */
static int expired(const Call *C) {
    return lispbt_now_ns() >= C->deadline;
}

/*
** ----------------------------------------------------------------- MCTS
*/

static void run_mcts(Call *C) {
    const plan_Request *q = C->q;
    plan_Result *res = C->res;
    mcts_Request mr;
    mcts_Result out;
    int i, d;
    mcts_request_defaults(&mr);
    memcpy(mr.state, q->state, sizeof mr.state);
    mr.state_len = q->state_len;
    mr.seed = q->seed;
    mr.budget_ms = q->budget_ms;
    mr.iters_max = q->work_max > 0 ? q->work_max : 2000;
    mr.gamma = q->mcts.gamma;
    mr.max_depth = q->mcts.max_depth;
    mr.c_ucb = q->mcts.c_ucb;
    mr.pw_k = q->mcts.pw_k;
    mr.pw_alpha = q->mcts.pw_alpha;
    mr.top_k = q->top_k;
    mr.rollout_policy = q->mcts.rollout_policy;
    mr.action_sampler = q->mcts.action_sampler;
    mcts_run_model(C->P->mcts, C->m, C->lo, C->hi, &mr, &out);
    res->status = out.status;
    res->nomem = out.nomem;
    res->work_done = out.iters;
    res->has_trace = out.status != MCTS_ERROR;
    res->root_visits = out.root_visits;
    res->root_children = out.root_children;
    res->widen_added = out.widen_added;
    res->depth_max = out.depth_max;
    res->depth_mean = out.depth_mean;
    res->value_est = out.value_est;
    res->confidence = out.confidence;
    if (out.status == MCTS_ERROR) {
        snprintf(res->error, sizeof res->error, "%s", out.error);
    }
    if (out.action_dim > 0 && (out.status == MCTS_OK || out.status == MCTS_TIMEOUT)) {
        memcpy(res->u, out.action, sizeof(double) * (size_t)C->adim);
        res->adim = C->adim;
    }
    res->top_n = out.top_n;
    for (i = 0; i < out.top_n; i++) {
        for (d = 0; d < C->adim; d++) {
            res->top[i].u[d] = out.top[i].action[d];
        }
        res->top[i].visits = out.top[i].visits;
        res->top[i].q = out.top[i].q;
    }
}

/*
** ----------------------------------------------------------------- MPPI
*/

/* Sort 'n' sample indices by cost (then index: a stable merge sort, so
** the order is the same on every platform). */
static void sortidx(int32_t *ix, int32_t *tmp, const double *cost, int n) {
    int w, i;
    for (w = 1; w < n; w *= 2) {
        for (i = 0; i < n; i += 2 * w) {
            int a = i, am = i + w < n ? i + w : n, b = am, bm = i + 2 * w < n ? i + 2 * w : n;
            int k = i;
            while (a < am && b < bm) {
                tmp[k++] = cost[ix[b]] < cost[ix[a]] ? ix[b++] : ix[a++];
            }
            while (a < am) {
                tmp[k++] = ix[a++];
            }
            while (b < bm) {
                tmp[k++] = ix[b++];
            }
        }
        memcpy(ix, tmp, sizeof(int32_t) * (size_t)n);
    }
}

/* The 'k' cheapest of 'n' samples, by cost then index (the order sortidx
** gives), into ix[0 .. min(k, n)): one pass with insertion into the short
** sorted prefix, where a full sort would mispredict a branch per
** comparison on random costs. */
static void topidx(int32_t *ix, const double *cost, int n, int k) {
    int m = 0, i, j;
    for (i = 0; i < n; i++) {
        if (m == k && !(cost[i] < cost[ix[m - 1]])) {
            continue;
        }
        j = m < k ? m++ : m - 1;
        while (j > 0 && cost[i] < cost[ix[j - 1]]) {
            ix[j] = ix[j - 1];
            j--;
        }
        ix[j] = i;
    }
}

/* The warm-start slot of key 'key' (found or claimed); NULL if its
** sequence cannot be allocated. */
static Warm *warmslot(plan_Planner *P, uint64_t key) {
    Warm *w = NULL;
    int i;
    for (i = 0; i < PLAN_WARM_SLOTS; i++) {
        if (P->warm[i].key == key) {
            return &P->warm[i];
        }
        if (w == NULL && P->warm[i].key == 0) {
            w = &P->warm[i];
        }
    }
    if (w == NULL) {
        w = &P->warm[key % PLAN_WARM_SLOTS]; /* full: deterministic eviction */
    }
    if (w->seq == NULL && (w->seq = mem_alloc(P->M, PLAN_SEQ_MAX * sizeof(double))) == NULL) {
        return NULL;
    }
    w->key = key;
    w->adim = 0;
    w->horizon = 0;
    return w;
}

/* The clamp of the sampling loop: a max then a min, which compile to
** maxsd/minsd, so random noise near a bound costs no mispredicted branch.
** NaN -> lo, as clampd; the two differ only in the sign of a zero result
** at a zero bound. */
static inline double clampnb(double x, double lo, double hi) {
    double y = x > lo ? x : lo;
    return y < hi ? y : hi;
}

/* One sample's actions: act = clamp(U + e) with e[k] = sigma[d] * N(0, 1)
** for the flat index k = t * A + d, drawn two at a time in order
** k = 0 .. HA - 1 (the random stream of a seed; an odd HA leaves the last
** draw's second value unused). */
static inline void perturb(plan_Planner *P, rng_State *R, const double *U, double *e, double *act,
                           int HA, int A, const double *sigma, const double *lo, const double *hi) {
    const double *tab = P->ntab, *slope = P->nslope;
    double z0, z1;
    int k, d;
    if (A <= 2) { /* literal 1 or 2: sigma and the bounds stay in registers */
        double s0 = sigma[0], lo0 = lo[0], hi0 = hi[0];
        double s1 = sigma[A - 1], lo1 = lo[A - 1], hi1 = hi[A - 1];
        for (k = 0; k + 1 < HA; k += 2) {
            fastnormal2(tab, slope, R, &z0, &z1);
            e[k] = s0 * z0;
            act[k] = clampnb(U[k] + e[k], lo0, hi0);
            e[k + 1] = s1 * z1;
            act[k + 1] = clampnb(U[k + 1] + e[k + 1], lo1, hi1);
        }
        if (k < HA) { /* A == 1, odd horizon */
            fastnormal2(tab, slope, R, &z0, &z1);
            e[k] = s0 * z0;
            act[k] = clampnb(U[k] + e[k], lo0, hi0);
        }
        return;
    }
    for (k = 0, d = 0; k < HA; k += 2) {
        fastnormal2(tab, slope, R, &z0, &z1);
        e[k] = sigma[d] * z0;
        act[k] = clampnb(U[k] + e[k], lo[d], hi[d]);
        d = d + 1 == A ? 0 : d + 1;
        if (k + 1 < HA) {
            e[k + 1] = sigma[d] * z1;
            act[k + 1] = clampnb(U[k + 1] + e[k + 1], lo[d], hi[d]);
            d = d + 1 == A ? 0 : d + 1;
        }
    }
}

static void run_mppi(Call *C) {
    const plan_Request *q = C->q;
    plan_Result *res = C->res;
    plan_Planner *P = C->P;
    int A = C->adim, H = C->H, HA = H * A, t, d, j;
    int64_t K = q->mppi.n_samples, i, n = 0;
    double sigma[MCTS_MAX_ACTION], lo[MCTS_MAX_ACTION], hi[MCTS_MAX_ACTION], *U, *eps, *cost;
    double *first, *act, *w, cmin, wsum, ws2;
    int32_t *ix;
    rng_State R;
    Warm *warm = NULL;
    int timed_out = 0, sel;
    int64_t next_check = 1, now, per, slack, batch;
    if (q->work_max > 0 && q->work_max < K) {
        K = q->work_max;
    }
    if (K < 1) {
        K = 1;
    }
    for (d = 0; d < A; d++) {
        sigma[d] = q->mppi.nsigma == 0 ? 0.25 : q->mppi.sigma[q->mppi.nsigma == 1 ? 0 : d];
    }
    memcpy(lo, C->lo, sizeof lo); /* local copies: not aliased by the sample buffers */
    memcpy(hi, C->hi, sizeof hi);
    if (q->mppi.nsigma > 1 && q->mppi.nsigma != A) {
        snprintf(res->error, sizeof res->error,
                 "request.mppi.sigma: %s has %d action dimension%s, got %d values", C->m->name, A,
                 A == 1 ? "" : "s", q->mppi.nsigma);
        res->status = MCTS_ERROR;
        return;
    }
    /* U | act | eps (K*HA) | cost (K) | first (K*A) | w (K) */
    if (reserve(P, (size_t)(2 * HA) + (size_t)K * (size_t)(HA + A + 2), (size_t)(2 * K)) != 0) {
        res->status = MCTS_ERROR;
        res->nomem = 1;
        snprintf(res->error, sizeof res->error, "planner: out of memory");
        return;
    }
    U = P->buf;
    act = U + HA;
    eps = act + HA;
    cost = eps + (size_t)K * HA;
    first = cost + K;
    w = first + (size_t)K * A;
    ix = P->ibuf;
    /* the nominal sequence */
    memset(U, 0, sizeof(double) * (size_t)HA);
    if (q->mppi.n_nominal > 0 || q->mppi.n_init > 0) {
        const char *which = q->mppi.n_nominal > 0 ? "u_nominal" : "u_init";
        if (unpack(C, q->mppi.n_nominal > 0 ? q->mppi.u_nominal : q->mppi.u_init,
                   q->mppi.n_nominal > 0 ? q->mppi.n_nominal : q->mppi.n_init, U) != 0) {
            snprintf(res->error, sizeof res->error,
                     "request.mppi.%s: expected %d or %d values (action_dim or horizon x "
                     "action_dim), got %d", which, A, HA,
                     q->mppi.n_nominal > 0 ? q->mppi.n_nominal : q->mppi.n_init);
            res->status = MCTS_ERROR;
            return;
        }
    } else if (q->warm_key != 0) {
        warm = warmslot(P, q->warm_key);
        if (warm != NULL && warm->adim == A && warm->horizon == H) {
            /* shift by one step: the previous plan's second action first */
            memcpy(U, warm->seq + A, sizeof(double) * (size_t)(HA - A));
            memcpy(U + HA - A, warm->seq + HA - A, sizeof(double) * (size_t)A);
        }
    }
    for (t = 0; t < H; t++) {
        clampu(C, &U[t * A]);
    }
    ratelimit(C, U, H);
    rng_seed(&R, q->seed);
    for (i = 0; i < K; i++) {
        double *e = eps + (size_t)n * HA;
        int st;
        if (i >= next_check) {
            now = lispbt_now_ns();
            if (now >= C->deadline) {
                timed_out = 1;
                break;
            }
            per = (now - C->t0) / i;
            per = per < 1 ? 1 : per;
            slack = (C->deadline - now) / 2;
            slack = slack > CHECK_SLICE_NS ? CHECK_SLICE_NS : slack;
            batch = slack / per;
            next_check = i + (batch < 1 ? 1 : (batch > CHECK_BATCH_MAX ? CHECK_BATCH_MAX : batch));
        }
        /* literal action dimensions 1 and 2 let the compiler keep sigma
        ** and the bounds in registers and drop the inner loop */
        if (A == 1) {
            perturb(P, &R, U, e, act, HA, 1, sigma, lo, hi);
        } else if (A == 2) {
            perturb(P, &R, U, e, act, HA, 2, sigma, lo, hi);
        } else {
            perturb(P, &R, U, e, act, HA, A, sigma, lo, hi);
        }
        ratelimit(C, act, H);
        st = rollout_cost(C, act, &cost[n]);
        if (st < 0) {
            res->status = MCTS_ERROR;
            snprintf(res->error, sizeof res->error, "%s", C->failmsg);
            res->work_done = n;
            return;
        }
        if (st == 0) {
            for (d = 0; d < A; d++) {
                first[(size_t)n * A + d] = act[d];
            }
            n++;
        }
    }
    res->work_done = n;
    res->has_trace = 1;
    if (n == 0) {
        res->status = MCTS_NOACTION;
        snprintf(res->note, sizeof res->note, "no sample had a finite cost");
        return;
    }
    sel = q->mppi.n_elite > 0 && q->mppi.n_elite < n ? (int)q->mppi.n_elite : (int)n;
    if (sel < n) { /* the n_elite cheapest: the full order */
        for (j = 0; j < n; j++) {
            ix[j] = j;
        }
        sortidx(ix, ix + K, cost, (int)n);
    } else { /* all weighted: only the cheapest top_k (at least 1) in order */
        topidx(ix, cost, (int)n, q->top_k > 1 ? q->top_k : 1);
    }
    cmin = cost[ix[0]];
    memset(w, 0, sizeof(double) * (size_t)n);
    wsum = 0.0;
    for (j = 0; j < sel; j++) { /* sel < n: the elite; else every sample in order */
        int32_t k = sel < n ? ix[j] : (int32_t)j;
        double ex = -(cost[k] - cmin) / q->mppi.lambda;
        double wj = exp(ex < -80 ? -80 : (ex > 80 ? 80 : ex));
        w[k] = isfinite(wj) ? wj : 0.0;
        wsum += w[k];
    }
    if (!(wsum > 0) || !isfinite(wsum)) {
        memset(w, 0, sizeof(double) * (size_t)n);
        w[ix[0]] = 1.0;
        wsum = 1.0;
    }
    ws2 = 0.0;
    for (j = 0; j < n; j++) {
        double wj = w[j] / wsum;
        const double *e = eps + (size_t)j * HA;
        w[j] = wj;
        ws2 += wj * wj;
        if (wj == 0.0) {
            continue;
        }
        for (t = 0; t < HA; t++) {
            U[t] += wj * e[t];
        }
    }
    for (t = 0; t < H; t++) {
        clampu(C, &U[t * A]);
    }
    ratelimit(C, U, H);
    memcpy(res->u, U, sizeof(double) * (size_t)A);
    res->adim = A;
    res->status = timed_out ? MCTS_TIMEOUT : MCTS_OK;
    res->confidence = ws2 > 0 ? (1.0 / ws2) / (double)n : 0.0;
    res->cost_final = cmin;
    res->value_est = -cmin;
    res->top_n = q->top_k < n ? q->top_k : (int)n;
    for (j = 0; j < res->top_n; j++) {
        memcpy(res->top[j].u, first + (size_t)ix[j] * A, sizeof(double) * (size_t)A);
        res->top[j].weight = w[ix[j]];
        res->top[j].cost = cost[ix[j]];
    }
    if (q->warm_key != 0 && (warm != NULL || (warm = warmslot(P, q->warm_key)) != NULL)) {
        memcpy(warm->seq, U, sizeof(double) * (size_t)HA);
        warm->adim = A;
        warm->horizon = H;
    }
}

/*
** ----------------------------------------------------------------- iLQR
*/

/* Solve a (n x n, row-major) * X = b (n x cols) in place by Gauss-Jordan
** with partial pivoting; 0, or -1 when singular or not finite. */
static int solve(double *a, double *b, int n, int cols) {
    int col, r, c;
    for (col = 0; col < n; col++) {
        int piv = col;
        double pa = fabs(a[col * n + col]), diag;
        for (r = col + 1; r < n; r++) {
            if (fabs(a[r * n + col]) > pa) {
                piv = r;
                pa = fabs(a[r * n + col]);
            }
        }
        if (!(pa >= 1e-12) || !isfinite(pa)) {
            return -1;
        }
        if (piv != col) {
            for (c = 0; c < n; c++) {
                double tmp = a[piv * n + c];
                a[piv * n + c] = a[col * n + c];
                a[col * n + c] = tmp;
            }
            for (c = 0; c < cols; c++) {
                double tmp = b[piv * cols + c];
                b[piv * cols + c] = b[col * cols + c];
                b[col * cols + c] = tmp;
            }
        }
        diag = a[col * n + col];
        for (c = 0; c < n; c++) {
            a[col * n + c] /= diag;
        }
        for (c = 0; c < cols; c++) {
            b[col * cols + c] /= diag;
        }
        for (r = 0; r < n; r++) {
            double f = a[r * n + col];
            if (r == col || f == 0.0) {
                continue;
            }
            for (c = 0; c < n; c++) {
                a[r * n + c] -= f * a[col * n + c];
            }
            for (c = 0; c < cols; c++) {
                b[r * cols + c] -= f * b[col * cols + c];
            }
        }
    }
    for (c = 0; c < n * cols; c++) {
        if (!isfinite(b[c])) {
            return -1;
        }
    }
    return 0;
}

/* Stage cost -reward of (x, u) and the next state; 0, 1 if not finite, -1
** when the model failed. */
static int stage(Call *C, const double *x, const double *u, double *next, double *c) {
    double r, tmp[MCTS_MAX_STATE];
    int i;
    if (step(C, x, u, next ? next : tmp, &r) < 0) {
        return -1;
    }
    *c = -r;
    if (!isfinite(*c)) {
        return 1;
    }
    for (i = 0; next && i < C->sdim; i++) {
        if (!isfinite(next[i])) {
            return 1;
        }
    }
    return 0;
}

/* Roll U out from the request state into X ((H+1) x N); total cost in *c.
** 0, 1 (not finite), -1 (model failed). */
static int ilqr_rollout(Call *C, const double *U, double *X, double *c) {
    int t, N = C->sdim, A = C->adim, st;
    double total = 0.0, sc;
    memcpy(X, C->q->state, sizeof(double) * (size_t)N);
    for (t = 0; t < C->H; t++) {
        if ((st = stage(C, &X[t * N], &U[t * A], &X[(t + 1) * N], &sc)) != 0) {
            return st;
        }
        total += sc;
    }
    if (C->m->terminal != NULL) {
        double l0, lx[MCTS_MAX_STATE], lxx[MCTS_MAX_STATE * MCTS_MAX_STATE];
        if (C->m->terminal(C->m, &X[C->H * N], &l0, lx, lxx) == 0) {
            total += l0;
        }
    }
    *c = total;
    return isfinite(total) ? 0 : 1;
}

/* Central finite differences of dynamics and stage cost at (x, u). */
static int fdiff(Call *C, const double *x, const double *u, double eps, double *Am, double *Bm,
                 double *lx, double *lu, double *lxx, double *luu, double *lxu) {
    int N = C->sdim, A = C->adim, i, j, r;
    double xp[MCTS_MAX_STATE], xm[MCTS_MAX_STATE], up[MCTS_MAX_ACTION], um[MCTS_MAX_ACTION];
    double np[MCTS_MAX_STATE], nm[MCTS_MAX_STATE], c0, cp, cm, cpp, cpm, cmp, cmm;
    if (stage(C, x, u, NULL, &c0) != 0) {
        return -1;
    }
    memset(lxx, 0, sizeof(double) * (size_t)(N * N));
    memset(luu, 0, sizeof(double) * (size_t)(A * A));
    for (i = 0; i < N; i++) {
        memcpy(xp, x, sizeof(double) * (size_t)N);
        memcpy(xm, x, sizeof(double) * (size_t)N);
        xp[i] += eps;
        xm[i] -= eps;
        if (stage(C, xp, u, np, &cp) != 0 || stage(C, xm, u, nm, &cm) != 0) {
            return -1;
        }
        for (r = 0; r < N; r++) {
            Am[r * N + i] = (np[r] - nm[r]) / (2 * eps);
        }
        lx[i] = (cp - cm) / (2 * eps);
        lxx[i * N + i] = (cp - 2 * c0 + cm) / (eps * eps);
    }
    for (j = 0; j < A; j++) {
        memcpy(up, u, sizeof(double) * (size_t)A);
        memcpy(um, u, sizeof(double) * (size_t)A);
        up[j] += eps;
        um[j] -= eps;
        clampu(C, up);
        clampu(C, um);
        if (stage(C, x, up, np, &cp) != 0 || stage(C, x, um, nm, &cm) != 0) {
            return -1;
        }
        for (r = 0; r < N; r++) {
            Bm[r * A + j] = (np[r] - nm[r]) / (2 * eps);
        }
        lu[j] = (cp - cm) / (2 * eps);
        luu[j * A + j] = (cp - 2 * c0 + cm) / (eps * eps);
    }
    for (i = 0; i < N; i++) {
        for (j = 0; j < A; j++) {
            memcpy(xp, x, sizeof(double) * (size_t)N);
            memcpy(xm, x, sizeof(double) * (size_t)N);
            memcpy(up, u, sizeof(double) * (size_t)A);
            memcpy(um, u, sizeof(double) * (size_t)A);
            xp[i] += eps;
            xm[i] -= eps;
            up[j] += eps;
            um[j] -= eps;
            clampu(C, up);
            clampu(C, um);
            if (stage(C, xp, up, NULL, &cpp) != 0 || stage(C, xp, um, NULL, &cpm) != 0 ||
                stage(C, xm, up, NULL, &cmp) != 0 || stage(C, xm, um, NULL, &cmm) != 0) {
                return -1;
            }
            lxu[i * A + j] = (cpp - cpm - cmp + cmm) / (4 * eps * eps);
        }
    }
    return 0;
}

static void ilqr_fail(Call *C, const char *msg) {
    plan_Result *res = C->res;
    res->status = MCTS_ERROR;
    snprintf(res->error, sizeof res->error, "%s", C->failmsg ? C->failmsg : msg);
}

static void run_ilqr(Call *C) {
    static const double alphas[6] = {1.0, 0.5, 0.25, 0.1, 0.05, 0.01};
    const plan_Request *q = C->q;
    plan_Result *res = C->res;
    int N = C->sdim, A = C->adim, H = C->H, NN = N * N, NA = N * A, AA = A * A, t, i, j, r, c;
    int64_t iters = q->ilqr.max_iters, it, done = 0;
    double *U, *X, *Uc, *Xc, *Am, *Bm, *lx, *lu, *lxx, *luu, *lxu, *kff, *Kfb;
    double cost, cost_init, reg = q->ilqr.reg_init, eps = q->ilqr.fd_eps;
    int converged = 0, timed_out = 0, st;
    size_t need;
    if (q->work_max > 0 && q->work_max < iters) {
        iters = q->work_max;
    }
    if (q->ilqr.derivatives == PLAN_ANALYTIC && (C->m->linearise == NULL || C->m->quadratic == NULL)) {
        snprintf(res->error, sizeof res->error,
                 "ilqr: analytic derivatives unavailable for model '%s' (use derivatives "
                 "finite_diff)", C->m->name);
        res->status = MCTS_ERROR;
        return;
    }
    need = (size_t)H * (size_t)(2 * A + NN + NA + N + A + NN + AA + NA + A + A * N) +
           (size_t)(2 * (H + 1) * N);
    if (reserve(C->P, need, 0) != 0) {
        res->status = MCTS_ERROR;
        res->nomem = 1;
        snprintf(res->error, sizeof res->error, "planner: out of memory");
        return;
    }
    U = C->P->buf;
    Uc = U + H * A;
    X = Uc + H * A;
    Xc = X + (H + 1) * N;
    Am = Xc + (H + 1) * N;
    Bm = Am + (size_t)H * NN;
    lx = Bm + (size_t)H * NA;
    lu = lx + (size_t)H * N;
    lxx = lu + (size_t)H * A;
    luu = lxx + (size_t)H * NN;
    lxu = luu + (size_t)H * AA;
    kff = lxu + (size_t)H * NA;
    Kfb = kff + (size_t)H * A;
    memset(U, 0, sizeof(double) * (size_t)(H * A));
    if (q->ilqr.n_init > 0 && unpack(C, q->ilqr.u_init, q->ilqr.n_init, U) != 0) {
        snprintf(res->error, sizeof res->error,
                 "request.ilqr.u_init: expected %d or %d values (action_dim or horizon x "
                 "action_dim), got %d", A, H * A, q->ilqr.n_init);
        res->status = MCTS_ERROR;
        return;
    }
    for (t = 0; t < H; t++) {
        clampu(C, &U[t * A]);
    }
    ratelimit(C, U, H);
    if ((st = ilqr_rollout(C, U, X, &cost)) != 0) {
        ilqr_fail(C, "ilqr: initial rollout failed");
        return;
    }
    cost_init = cost;
    res->has_trace = 1;
    for (it = 0; it < iters; it++) {
        double vx[MCTS_MAX_STATE], vxx[MCTS_MAX_STATE * MCTS_MAX_STATE], gmax = 0.0, best;
        int ok = 1, accepted = 0;
        if (it > 0 && expired(C)) {
            timed_out = 1;
            break;
        }
        /* derivatives along the trajectory */
        for (t = 0; t < H; t++) {
            const double *x = &X[t * N], *u = &U[t * A];
            int bad;
            if (q->ilqr.derivatives == PLAN_ANALYTIC) {
                double l0;
                bad = C->m->linearise(C->m, x, u, &Am[t * NN], &Bm[t * NA]) != 0 ||
                      C->m->quadratic(C->m, x, u, &l0, &lx[t * N], &lu[t * A], &lxx[t * NN],
                                      &luu[t * AA], &lxu[t * NA]) != 0;
            } else {
                bad = fdiff(C, x, u, eps, &Am[t * NN], &Bm[t * NA], &lx[t * N], &lu[t * A],
                            &lxx[t * NN], &luu[t * AA], &lxu[t * NA]) != 0;
            }
            if (bad) {
                res->work_done = done;
                res->cost_init = cost_init;
                res->cost_final = cost;
                res->reg_final = reg;
                ilqr_fail(C, q->ilqr.derivatives == PLAN_ANALYTIC
                                 ? "ilqr: analytic derivatives failed"
                                 : "ilqr: finite-difference derivatives failed");
                return;
            }
        }
        memset(vx, 0, sizeof vx);
        memset(vxx, 0, sizeof vxx);
        if (C->m->terminal != NULL) {
            double l0;
            if (C->m->terminal(C->m, &X[H * N], &l0, vx, vxx) != 0) {
                memset(vx, 0, sizeof vx);
                memset(vxx, 0, sizeof vxx);
            }
        }
        /* backward pass */
        for (t = H - 1; t >= 0 && ok; t--) {
            const double *a = &Am[t * NN], *b = &Bm[t * NA];
            double qx[MCTS_MAX_STATE], qu[MCTS_MAX_ACTION];
            double qxx[MCTS_MAX_STATE * MCTS_MAX_STATE], quu[MCTS_MAX_ACTION * MCTS_MAX_ACTION];
            double qux[MCTS_MAX_ACTION * MCTS_MAX_STATE], sys[MCTS_MAX_ACTION * MCTS_MAX_ACTION];
            double rhs[MCTS_MAX_ACTION * (1 + MCTS_MAX_STATE)], vb[MCTS_MAX_STATE * MCTS_MAX_ACTION];
            double va[MCTS_MAX_STATE * MCTS_MAX_STATE], *k = &kff[t * A], *K = &Kfb[t * A * N];
            double nvx[MCTS_MAX_STATE], nvxx[MCTS_MAX_STATE * MCTS_MAX_STATE];
            for (i = 0; i < N; i++) {
                qx[i] = lx[t * N + i];
                for (r = 0; r < N; r++) {
                    qx[i] += a[r * N + i] * vx[r];
                }
            }
            for (j = 0; j < A; j++) {
                qu[j] = lu[t * A + j];
                for (r = 0; r < N; r++) {
                    qu[j] += b[r * A + j] * vx[r];
                }
                if (fabs(qu[j]) > gmax) {
                    gmax = fabs(qu[j]);
                }
            }
            /* va = Vxx A (N x N), vb = Vxx B (N x A) */
            for (r = 0; r < N; r++) {
                for (c = 0; c < N; c++) {
                    double s = 0.0;
                    for (i = 0; i < N; i++) {
                        s += vxx[r * N + i] * a[i * N + c];
                    }
                    va[r * N + c] = s;
                }
                for (c = 0; c < A; c++) {
                    double s = 0.0;
                    for (i = 0; i < N; i++) {
                        s += vxx[r * N + i] * b[i * A + c];
                    }
                    vb[r * A + c] = s;
                }
            }
            for (i = 0; i < N; i++) {
                for (j = 0; j < N; j++) {
                    double s = lxx[t * NN + i * N + j];
                    for (r = 0; r < N; r++) {
                        s += a[r * N + i] * va[r * N + j];
                    }
                    qxx[i * N + j] = s;
                }
            }
            for (i = 0; i < A; i++) {
                for (j = 0; j < A; j++) {
                    double s = luu[t * AA + i * A + j];
                    for (r = 0; r < N; r++) {
                        s += b[r * A + i] * vb[r * A + j];
                    }
                    quu[i * A + j] = s;
                    sys[i * A + j] = s + (i == j ? reg : 0.0);
                }
                for (j = 0; j < N; j++) {
                    double s = lxu[t * NA + j * A + i];
                    for (r = 0; r < N; r++) {
                        s += b[r * A + i] * va[r * N + j];
                    }
                    qux[i * N + j] = s;
                }
            }
            for (i = 0; i < A; i++) {
                rhs[i * (1 + N)] = -qu[i];
                for (j = 0; j < N; j++) {
                    rhs[i * (1 + N) + 1 + j] = -qux[i * N + j];
                }
            }
            if (solve(sys, rhs, A, 1 + N) != 0) {
                ok = 0;
                break;
            }
            for (i = 0; i < A; i++) {
                k[i] = rhs[i * (1 + N)];
                for (j = 0; j < N; j++) {
                    K[i * N + j] = rhs[i * (1 + N) + 1 + j];
                }
            }
            /* Vx = Qx + K'Quu k + K'Qu + Qux'k;  Vxx = Qxx + K'Quu K + K'Qux + Qux'K */
            for (i = 0; i < N; i++) {
                double s = qx[i];
                for (r = 0; r < A; r++) {
                    s += K[r * N + i] * qu[r] + qux[r * N + i] * k[r];
                    for (c = 0; c < A; c++) {
                        s += K[r * N + i] * quu[r * A + c] * k[c];
                    }
                }
                nvx[i] = s;
                for (j = 0; j < N; j++) {
                    double v = qxx[i * N + j];
                    for (r = 0; r < A; r++) {
                        v += K[r * N + i] * qux[r * N + j] + qux[r * N + i] * K[r * N + j];
                        for (c = 0; c < A; c++) {
                            v += K[r * N + i] * quu[r * A + c] * K[c * N + j];
                        }
                    }
                    nvxx[i * N + j] = v;
                }
            }
            for (i = 0; i < N; i++) {
                vx[i] = nvx[i];
                for (j = 0; j < N; j++) {
                    vxx[i * N + j] = 0.5 * (nvxx[i * N + j] + nvxx[j * N + i]);
                }
            }
        }
        done++;
        if (!ok) {
            reg *= q->ilqr.reg_factor;
            if (reg >= 1e8) {
                res->work_done = done;
                res->cost_init = cost_init;
                res->cost_final = cost;
                res->reg_final = reg;
                ilqr_fail(C, "ilqr: backward pass failed (ill-conditioned Q_uu)");
                return;
            }
            continue;
        }
        /* line search */
        best = cost;
        for (i = 0; i < 6 && !accepted; i++) {
            double cc = 0.0, sc;
            int bad = 0;
            memcpy(Xc, q->state, sizeof(double) * (size_t)N);
            for (t = 0; t < H; t++) {
                for (j = 0; j < A; j++) {
                    double du = alphas[i] * kff[t * A + j];
                    for (c = 0; c < N; c++) {
                        du += Kfb[t * A * N + j * N + c] * (Xc[t * N + c] - X[t * N + c]);
                    }
                    Uc[t * A + j] = U[t * A + j] + du;
                }
                clampu(C, &Uc[t * A]);
                if (t > 0 && q->n_max_du > 0) {
                    for (j = 0; j < A && j < q->n_max_du; j++) {
                        double lim = fabs(q->max_du[j]), prev = Uc[(t - 1) * A + j];
                        if (lim > 0 && isfinite(lim)) {
                            Uc[t * A + j] = clampd(Uc[t * A + j], prev - lim, prev + lim);
                        }
                    }
                }
                st = stage(C, &Xc[t * N], &Uc[t * A], &Xc[(t + 1) * N], &sc);
                if (st < 0) {
                    res->work_done = done;
                    ilqr_fail(C, "ilqr: model failed");
                    return;
                }
                if (st > 0) {
                    bad = 1;
                    break;
                }
                cc += sc;
            }
            if (!bad && C->m->terminal != NULL) {
                double l0, tx[MCTS_MAX_STATE], txx[MCTS_MAX_STATE * MCTS_MAX_STATE];
                if (C->m->terminal(C->m, &Xc[H * N], &l0, tx, txx) == 0) {
                    cc += l0;
                }
            }
            if (!bad && isfinite(cc) && cc < best) {
                double improvement = cost - cc;
                accepted = 1;
                memcpy(U, Uc, sizeof(double) * (size_t)(H * A));
                memcpy(X, Xc, sizeof(double) * (size_t)((H + 1) * N));
                cost = cc;
                reg /= q->ilqr.reg_factor;
                if (reg < 1e-8) {
                    reg = 1e-8;
                }
                if (improvement <= q->ilqr.tol_cost || gmax <= q->ilqr.tol_grad) {
                    converged = 1;
                }
            }
        }
        if (!accepted) {
            if (gmax <= q->ilqr.tol_grad) {
                converged = 1; /* already at a stationary point */
                break;
            }
            reg *= q->ilqr.reg_factor;
            if (reg >= 1e8) {
                break;
            }
        }
        if (converged) {
            break;
        }
    }
    memcpy(res->u, U, sizeof(double) * (size_t)A);
    res->adim = A;
    res->status = timed_out ? MCTS_TIMEOUT : MCTS_OK;
    res->work_done = done;
    res->cost_init = cost_init;
    res->cost_final = cost;
    res->reg_final = reg;
    res->value_est = -cost;
    res->confidence = (cost_init - cost) / (fabs(cost_init) > 1.0 ? fabs(cost_init) : 1.0) +
                      (converged ? 0.2 : 0.0);
    if (converged) {
        snprintf(res->note, sizeof res->note, "converged");
    }
}

/*
** ------------------------------------------------------------- dispatch
*/

int plan_run(plan_Planner *P, const mcts_Model *m0, const plan_Request *q, plan_Result *res) {
    Call C;
    mcts_Model m;
    double safe[MCTS_MAX_ACTION];
    int d, A;
    memset(res, 0, sizeof *res);
    memset(&C, 0, sizeof C);
    C.t0 = lispbt_now_ns();
    C.deadline = C.t0 + (int64_t)(q->budget_ms * 1e6);
    C.P = P;
    C.q = q;
    C.res = res;
    res->backend = q->backend;
    res->seed = q->seed;
    res->budget_ms = q->budget_ms;
    snprintf(res->action_schema, sizeof res->action_schema, "%s",
             q->action_schema[0] ? q->action_schema : "action.u.v1");
    if (m0 == NULL) {
        res->status = MCTS_ERROR;
        snprintf(res->error, sizeof res->error, "planner model not found: %s", q->model_service);
        res->adim = q->safe_len;
        memcpy(res->u, q->safe_u, sizeof res->u);
        goto done;
    }
    m = *m0;
    if (m.state_dim == 0) {
        m.state_dim = q->state_len;
    }
    C.m = &m;
    A = C.adim = m.action_dim;
    C.sdim = q->state_len;
    C.H = q->horizon > 0 ? q->horizon : (m.horizon > 0 ? m.horizon : 20);
    res->horizon = C.H;
    for (d = 0; d < A; d++) {
        C.lo[d] = m.action_lo[d];
        C.hi[d] = m.action_hi[d];
        if (q->nbounds == A) {
            C.lo[d] = clampd(q->lo[d], m.action_lo[d], m.action_hi[d]);
            C.hi[d] = clampd(q->hi[d], C.lo[d], m.action_hi[d]);
        }
        safe[d] = q->safe_len == A ? q->safe_u[d] : 0.0;
    }
    clampu(&C, safe);
    res->adim = A;
    memcpy(res->u, safe, sizeof safe);
    if (q->nbounds != 0 && q->nbounds != A) {
        res->status = MCTS_ERROR;
        snprintf(res->error, sizeof res->error,
                 "request.bounds: model '%s' has %d action dimension%s, got %d rows", m.name, A,
                 A == 1 ? "" : "s", q->nbounds);
        goto done;
    }
    if (q->safe_len != 0 && q->safe_len != A) {
        res->status = MCTS_ERROR;
        snprintf(res->error, sizeof res->error,
                 "request.safe_action.u: model '%s' has %d action dimension%s, got %d values",
                 m.name, A, A == 1 ? "" : "s", q->safe_len);
        goto done;
    }
    if (q->state_len < 1 || (m0->state_dim != 0 && q->state_len != m0->state_dim)) {
        res->status = MCTS_ERROR;
        snprintf(res->error, sizeof res->error, "planner state validation failed: %s expects %d "
                 "state value%s, got %d", m.name, m0->state_dim, m0->state_dim == 1 ? "" : "s",
                 q->state_len);
        goto done;
    }
    if (m.valid_state != NULL) {
        char why[MCTS_ERR_MAX - 40];
        if (m.valid_state(&m, q->state, q->state_len, why, sizeof why) != 0) {
            res->status = MCTS_ERROR;
            snprintf(res->error, sizeof res->error, "planner state validation failed: %s", why);
            goto done;
        }
    }
    switch (q->backend) {
        case PLAN_MPPI: run_mppi(&C); break;
        case PLAN_ILQR: run_ilqr(&C); break;
        default: run_mcts(&C); break;
    }
    if (res->status == MCTS_OK || res->status == MCTS_TIMEOUT) {
        for (d = 0; d < A; d++) {
            if (!isfinite(res->u[d])) {
                res->status = MCTS_ERROR;
                snprintf(res->error, sizeof res->error,
                         "planner action dimensionality/finite mismatch");
                break;
            }
        }
    }
    if (res->status == MCTS_OK || res->status == MCTS_TIMEOUT) {
        clampu(&C, res->u);
    } else {
        res->adim = A;
        memcpy(res->u, safe, sizeof safe);
        res->confidence = 0.0;
    }
done:
    if (!(res->confidence >= 0)) {
        res->confidence = 0.0;
    } else if (res->confidence > 1) {
        res->confidence = 1.0;
    }
    res->time_used_ms = (double)(lispbt_now_ns() - C.t0) * 1e-6;
    res->overrun = res->time_used_ms > q->budget_ms;
    return res->status;
}
