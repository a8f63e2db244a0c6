/*
** planner_plan.h -- planner.plan v1: one request/result contract over three
** backends (MCTS, MPPI, iLQR) and the C model API.  See LICENSE for
** copyright.
**
** This is the Lisp-free core of 'planner.plan' (docs/planner.md).  The
** binding (planner_lib.c) fills a plan_Request from a planner.request.v1
** map, calls plan_run on the per-host plan_Planner with a model, and turns
** the plan_Result into a planner.result.v1 map and one record.
**
** Models.  A model is an mcts_Model (planner_mcts.h): dimensions, action
** bounds, a deterministic 'step' returning the reward (the cost MPPI and
** iLQR minimise is -reward, as in the reference), and optional heuristic,
** horizon, analytic derivatives and 'ud'.  Built-in models are static; a C
** embedder registers its own with plan_register (the struct must outlive
** the planner), Lua and Lisp models are wrapped by planner_lib.c.
**
** Budgets.  Every backend stops at whichever comes first: 'work_max'
** (MCTS iterations, MPPI samples, iLQR iterations) or 'budget_ms' (checked
** between units of work, so a call can overrun by one unit).  All
** randomness comes from the request seed, so a call bounded by work_max
** gives the same result on every run and every thread.
**
** Memory.  A plan_Planner owns the MCTS arena, the MPPI/iLQR buffers and
** the per-node warm-start slots; they grow to the largest request seen and
** are reused, so repeated calls of the same shape allocate nothing.
** Owner thread only; not re-entrant (a model must not call the planner).
*/
#ifndef LISPBT_PLANNER_PLAN_H
#define LISPBT_PLANNER_PLAN_H

#include "conf.h"

#include "mem.h"
#include "planner_mcts.h"

/* Limits (named in every error message that enforces them). */
#define PLAN_HORIZON_LIMIT 256        /* MPPI/iLQR horizon steps */
#define PLAN_SAMPLES_LIMIT 100000     /* MPPI n_samples */
#define PLAN_ITERS_LIMIT 100000       /* iLQR max_iters */
#define PLAN_WORK_LIMIT 1000000000    /* work_max */
#define PLAN_SEQ_MAX (PLAN_HORIZON_LIMIT * MCTS_MAX_ACTION)  /* u_init values */
#define PLAN_SCHEMA_MAX 48            /* action_schema (incl. NUL) */
#define PLAN_NOTE_MAX 96              /* stats.note (incl. NUL) */
#define PLAN_WARM_SLOTS 64            /* plan-action nodes with an MPPI warm start */
#define PLAN_MODELS_MAX 64            /* registered (non built-in) models */

enum { PLAN_MCTS = 0, PLAN_MPPI = 1, PLAN_ILQR = 2 };
enum { PLAN_ANALYTIC = 0, PLAN_FINITE_DIFF = 1 };

typedef struct plan_Request {
    int backend;                          /* PLAN_MCTS..PLAN_ILQR */
    char model_service[MCTS_MODEL_NAME_MAX];
    double state[MCTS_MAX_STATE];
    int state_len;
    double budget_ms;                     /* > 0 */
    uint64_t seed;
    double safe_u[MCTS_MAX_ACTION];       /* safe_action.u */
    int safe_len;                         /* 0: none given */
    char action_schema[PLAN_SCHEMA_MAX];  /* "" = action.u.v1 */
    char safe_schema[PLAN_SCHEMA_MAX];    /* safe_action.action_schema (parsing only) */
    int64_t work_max;                     /* 0 = the backend's own cap */
    int horizon;                          /* 0 = the model's */
    int64_t dt_ms;                        /* 0 = the model's */
    double lo[MCTS_MAX_ACTION], hi[MCTS_MAX_ACTION];
    int nbounds;                          /* 0 = the model's bounds */
    double max_du[MCTS_MAX_ACTION];       /* constraints.max_du (0 = none) */
    int n_max_du;
    double smoothness_weight, collision_weight, goal_tolerance;
    int top_k;                            /* 0..MCTS_MAX_TOPK; 3 */
    char run_id[MCTS_NAME_MAX];
    int64_t tick_index;
    char node_name[MCTS_NAME_MAX];
    char state_key[MCTS_NAME_MAX];
    uint64_t warm_key;                    /* 0: no warm start (plan-action sets it) */
    struct {
        double c_ucb, pw_k, pw_alpha, gamma;
        int max_depth;
        int rollout_policy, action_sampler;   /* MCTS_ROLLOUT_*, MCTS_SAMPLER_* */
    } mcts;
    struct {
        double lambda;
        double sigma[MCTS_MAX_ACTION];
        int nsigma;                       /* 0: 0.25 per dim; 1: one for all */
        int64_t n_samples, n_elite;
        double u_init[PLAN_SEQ_MAX], u_nominal[PLAN_SEQ_MAX];
        int n_init, n_nominal;
    } mppi;
    struct {
        int64_t max_iters;
        double reg_init, reg_factor, tol_cost, tol_grad, fd_eps;
        int derivatives;                  /* PLAN_ANALYTIC, PLAN_FINITE_DIFF */
        double u_init[PLAN_SEQ_MAX];
        int n_init;
    } ilqr;
} plan_Request;

typedef struct plan_Cand {
    double u[MCTS_MAX_ACTION];
    int64_t visits;        /* MCTS */
    double q;              /* MCTS */
    double weight, cost;   /* MPPI */
} plan_Cand;

typedef struct plan_Result {
    int status;                          /* MCTS_OK..MCTS_ERROR */
    int backend;
    int adim;                            /* values in 'u' (0 only without a model) */
    double u[MCTS_MAX_ACTION];
    char action_schema[PLAN_SCHEMA_MAX];
    double confidence;                   /* [0, 1] */
    double budget_ms, time_used_ms;
    int64_t work_done;
    uint64_t seed;
    int overrun;                         /* time_used_ms > budget_ms */
    char note[PLAN_NOTE_MAX];
    char error[MCTS_ERR_MAX];
    int has_trace;
    /* trace: MCTS */
    int64_t root_visits, root_children, widen_added, depth_max;
    double depth_mean, value_est;
    /* trace: MPPI (n_samples = work_done) and iLQR */
    int horizon;
    double cost_init, cost_final, reg_final;
    int top_n;
    plan_Cand top[MCTS_MAX_TOPK];
    int nomem;                           /* error because memory ran out */
} plan_Result;

typedef struct plan_Planner plan_Planner;

/* A planner allocating from 'M' (borrowed); NULL when out of memory. */
plan_Planner *plan_new(mem_Heap *M);
/* Free 'P' and everything it owns (NULL: no-op). */
void plan_free(plan_Planner *P);
/* P's MCTS planner (owned by 'P'), also used by the legacy planner.mcts. */
mcts_Planner *plan_mcts(plan_Planner *P);
/* Bytes held by P's buffers (heap reports). */
size_t plan_bytes(const plan_Planner *P);

/* Fill 'r' with the planner.request.v1 defaults: mcts, toy-1d, budget 20,
** work_max 0, horizon 0, top_k 3, c_ucb 1.2, pw_k 2, pw_alpha 0.5,
** max_depth 25, gamma 0.95, rollout/sampler model_default, lambda 1,
** n_samples 128, n_elite 0, max_iters 30, reg_init 1, reg_factor 10,
** tol_cost/tol_grad/fd_eps 1e-4, analytic derivatives. */
void plan_request_defaults(plan_Request *r);

/* Register C model 'm' (borrowed; must outlive 'P') under m->name, which
** must not be a built-in model's name; replaces a model registered under
** the same name.  Returns 0, or -1 with a message in 'err' (bad name,
** dimensions or bounds, too many models). */
int plan_register(plan_Planner *P, const mcts_Model *m, char *err, size_t errlen);
/* Remove the registered model 'name' (not a built-in); 1 if it was there. */
int plan_unregister(plan_Planner *P, const char *name);
/* The i-th registered model (0-based), NULL past the end. */
const mcts_Model *plan_registered_at(const plan_Planner *P, int i);
/* The model called 'name': built-in first, then registered; NULL if none. */
const mcts_Model *plan_model(const plan_Planner *P, const char *name);

/* Plan with 'req' on model 'm' (NULL: unknown model) into 'res' (fully
** overwritten).  Never raises, never prints.  An unknown model, a state
** the model rejects, a model error, a failed derivative or a backend that
** found no action give status error/noaction with 'error' set, and the
** action is then the resolved safe action: request safe_action clamped to
** the bounds, else zeros clamped (the reference's rule).  Memory for the
** buffers comes from the planner's heap; when it runs out, res->nomem is
** set (status error). */
int plan_run(plan_Planner *P, const mcts_Model *m, const plan_Request *req, plan_Result *res);

/* The built-in planner.plan models (the reference's toy-1d, ptz-track,
** toy-unicycle; planner_models.c): by name (NULL if none) and by index
** (NULL past the end).  Static and immutable. */
const mcts_Model *plan_builtin_find(const char *name);
const mcts_Model *plan_builtin_at(int i);

/* "mcts", "mppi", "ilqr" ("unknown" otherwise). */
const char *plan_backend_name(int backend);

#endif
