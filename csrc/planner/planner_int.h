/*
** planner_int.h -- private to csrc/planner/: the planner state of a
** lisp_State, the planner.request.v1 field table's types, and the helpers
** that planner_lib.c (builtins, models, records), planner_req.c (request
** parsing, result maps) and planner_leaf.c (the plan-action leaf) share.
** Nothing outside this folder includes it.  See LICENSE for copyright.
*/
#ifndef LISPBT_PLANNER_INT_H
#define LISPBT_PLANNER_INT_H

#include "conf.h"

#include <stddef.h>

#include "hist.h"
#include "lisp.h"
#include "planner_lib.h"
#include "planner_mcts.h"
#include "planner_plan.h"
#include "planner_record.h"

/* A model registered from Lisp or Lua: its mcts_Model's 'ud' points here. */
typedef struct UModel {
    mcts_Model m;
    lisp_State *S;
    char name[MCTS_MODEL_NAME_MAX];
    int pstep, pcost, pdone;   /* pins of the procedures (-1: none) */
    double dt;                 /* seconds passed to step; set per call */
    double dt_default;         /* from the spec's dt_ms (default 0.1 s) */
    char err[MCTS_ERR_MAX];
} UModel;

struct planner_Host {
    mem_Heap *M;
    log_Ring *log;
    plan_Planner *plan;   /* owns the MCTS planner of planner.mcts too */
    lisp_State *S;
    int busy;             /* inside a planner call (models must not re-enter) */
    UModel *um[PLAN_MODELS_MAX];   /* Lisp/Lua models */
    planner_BeginHook begin;
    planner_RecordHook hook;
    void *hookud;
    precord_Ring ring;
    precord_Sink sink;
    uint64_t base_seed;
    uint64_t calls[4];  /* by status: ok, timeout, noaction, error */
    hist_Hist time;     /* time_used per call, ns, HIST_FINE */
    uint32_t *timebuckets;
    uint32_t mgen;      /* bumped when a model is registered or removed */
    struct PlanNode **pn; /* plan-action node caches (NULL: free slot) */
    int npn;              /* slots in 'pn' */
};

/* ---- planner.request.v1 fields ----
**
** One table describes every request field: where it lives in plan_Request,
** its kind and range.  planner.plan walks the request map (and the nested
** mcts/mppi/ilqr/constraints maps) through it, plan-action maps each node
** option to one entry, and both get the same check and the same message
** ("request.mppi.lambda must be a number > 0, got -1"). */

enum {
    F_NUM,      /* double; range lo..hi, FL_LOOPEN/FL_HIOPEN */
    F_INT,      /* int64 or int (FL_I32); lo..hi */
    F_STR,      /* char[hi] */
    F_VEC,      /* double[hi] + count at 'aux' (a number is one value) */
    F_SCHEMA,   /* schema_version */
    F_BACKEND,  /* planner */
    F_MODEL,    /* model_service */
    F_SEED,     /* seed: integer >= 0, finite float >= 0, or hashed text */
    F_SAFE,     /* safe_action map {action_schema, u} */
    F_BOUNDS,   /* list of (lo hi) rows */
    F_ROLLOUT,  /* mcts.rollout_policy */
    F_SAMPLER,  /* mcts.action_sampler */
    F_DERIV,    /* ilqr.derivatives */
    F_GROUP     /* a nested map: 'aux' is the group */
};
enum { G_TOP, G_MCTS, G_MPPI, G_ILQR, G_CONS, G_N };
#define FL_LOOPEN 1u
#define FL_HIOPEN 2u
#define FL_I32 4u
#define FL_FINITE 8u   /* F_VEC: every value finite */
#define FL_NONNEG 16u  /* F_VEC: every value >= 0 */

typedef struct Field {
    const char *name;
    int group, kind;
    size_t off, aux;
    double lo, hi;
    unsigned flags;
} Field;

#define PH(S) planner_get(S)

/* ---- planner_req.c: parsing ---- */

/* Key name without a leading ':' (keywords). */
const char *lispbt_plan_keyname(lisp_Value k, size_t *n);
/* Set planner.mcts request key 'idx' from 'v'; 0 or -1 with 'err' set. */
int lispbt_plan_setkey(mcts_Request *r, int idx, lisp_Value v, char *err, size_t errlen);
/* The field 'name' (n bytes) of group 'g', or NULL. */
const Field *lispbt_plan_findfield(int g, const char *name, size_t n);
/* Text of a string, symbol or keyword value without its ':' (NULL if
** neither). */
const char *lispbt_plan_textof(lisp_Value v, size_t *n);
int lispbt_plan_texteq(const char *s, size_t n, const char *lit);
/* "PATH must be WHAT, got REPR" into err; returns -1. */
int lispbt_plan_badfield(lisp_State *S, char *err, size_t errlen, const char *path,
                         const char *what, lisp_Value v);
double lispbt_plan_numval(lisp_Value v);
/* Numbers of 'v' (a number, list or vec) into 'out' (at most 'max');
** count, or -1 if 'v' is none of those or holds a non-number, -2 if too
** many. */
int lispbt_plan_numlist(lisp_Value v, double *out, int max);
uint64_t lispbt_plan_fnv1a(const char *s, size_t n);
/* Store 'v' into field 'f' of 'r'; 0, or -1 with the message in 'err'
** ("PATH must be ..., got ...").  'path' names the field in messages. */
int lispbt_plan_setfield(lisp_State *S, plan_Request *r, const Field *f, const char *path,
                         lisp_Value v, char *err, size_t errlen);
/* Find string/symbol/keyword key 'name' in map 'm'. */
int lispbt_plan_mapfind(lisp_Value m, const char *name, lisp_Value *out);
/* Parse a planner.request.v1 map; 0 or -1 with 'err' (without the
** "planner.plan: " prefix). */
int lispbt_plan_parserequest(lisp_State *S, plan_Request *r, lisp_Value m, char *err,
                             size_t errlen);

/* ---- planner_req.c: results as Lisp data ---- */

lisp_Value lispbt_plan_numvec(lisp_State *S, const double *x, int n);
lisp_Value lispbt_plan_numlistv(lisp_State *S, const double *x, int n);
lisp_Value lispbt_plan_resultmap(lisp_State *S, const mcts_Result *r);
lisp_Value lispbt_plan_recordmap(lisp_State *S, const mcts_Record *r);
lisp_Value lispbt_plan_result(lisp_State *S, const plan_Result *r);

/* ---- planner_lib.c ---- */

/* Record a planner.plan / plan-action call (see planner_lib.c). */
void lispbt_plan_record(lisp_State *S, const plan_Request *req, const plan_Result *res,
                        int64_t tick, int32_t node);
/* The model named 'name' (NULL if none) and, when it was registered from
** Lisp or Lua, its UModel in *um (else NULL). */
const mcts_Model *lispbt_plan_findmodel(planner_Host *p, const char *name, UModel **um);
/* Run a planner.plan / plan-action request (see planner_lib.c). */
void lispbt_plan_run(lisp_State *S, const plan_Request *req, plan_Result *res, const char *fname,
                     int32_t node, const mcts_Model *m, UModel *u);

/* ---- planner_leaf.c ---- */

/* Register plan-action and apply-planned-1d in the BT registry of 'S'. */
int lispbt_plan_openleaves(lisp_State *S);
/* Free the plan-action node caches still held by 'p'. */
void lispbt_plan_nodes_free(planner_Host *p);

#endif
