/*
** planner_req.c -- planner.request.v1 as Lisp data in, results as Lisp data
** out: the request field table and its parser (shared with plan-action's
** options, planner_leaf.c), the legacy planner.mcts request keys, and the
** planner.result.v1, planner.mcts result and record maps.  Private
** declarations: planner_int.h.  See LICENSE for copyright.
*/
#include "conf.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "planner_int.h"

/* ---- request parsing ---- */

/* Key name without a leading ':' (keywords). */
const char *lispbt_plan_keyname(lisp_Value k, size_t *n) {
    const char *s = lisp_str(k, n);
    if (s && *n > 1 && s[0] == ':') {
        (*n)--;
        return s + 1;
    }
    return s;
}

/* Numbers of 'v' (number, list or vec of numbers) into 'out'; count or -1. */
static int numbers(lisp_Value v, double *out, int max) {
    int n = 0;
    if (lisp_isnumber(v)) {
        out[0] = v.tag == LISP_TINT ? (double)v.u.i : v.u.f;
        return 1;
    }
    if (v.tag == LISP_TVEC) {
        int64_t i, len = lisp_veclen(v);
        if (len > max) {
            return -1;
        }
        for (i = 0; i < len; i++) {
            lisp_Value x = lisp_vecitems(v)[i];
            if (!lisp_isnumber(x)) {
                return -1;
            }
            out[n++] = x.tag == LISP_TINT ? (double)x.u.i : x.u.f;
        }
        return n;
    }
    if (lisp_listlen(v) >= 0) {
        for (; v.tag == LISP_TCONS; v = lisp_cdr(v)) {
            lisp_Value x = lisp_car(v);
            if (n >= max || !lisp_isnumber(x)) {
                return -1;
            }
            out[n++] = x.tag == LISP_TINT ? (double)x.u.i : x.u.f;
        }
        return n;
    }
    return -1;
}

/* Set request key 'idx' from Lisp value 'v'; 0 or -1 with 'err' set. */
int lispbt_plan_setkey(mcts_Request *r, int idx, lisp_Value v, char *err, size_t errlen) {
    const mcts_KeyInfo *ki = mcts_request_key(idx);
    switch (ki->kind) {
        case MCTS_KT_STRING: {
            size_t n;
            const char *s = lisp_str(v, &n);
            if (s == NULL) {
                snprintf(err, errlen, "%s: expected a string or symbol, got a %s", ki->name,
                         lisp_typename(v));
                return -1;
            }
            return mcts_request_set_string(r, idx, s, n, err, errlen);
        }
        case MCTS_KT_INTEGER: /* integral floats are accepted by the setter */
        case MCTS_KT_NUMBER:
            if (!lisp_isnumber(v)) {
                snprintf(err, errlen, "%s: expected a number, got a %s", ki->name,
                         lisp_typename(v));
                return -1;
            }
            return v.tag == LISP_TINT ? mcts_request_set_integer(r, idx, v.u.i, err, errlen)
                                      : mcts_request_set_number(r, idx, v.u.f, err, errlen);
        default: {
            double xs[MCTS_MAX_STATE];
            int n = numbers(v, xs, MCTS_MAX_STATE);
            if (n < 0) {
                snprintf(err, errlen, "%s: expected a number or a list/vec of at most %d numbers",
                         ki->name, MCTS_MAX_STATE);
                return -1;
            }
            return mcts_request_set_vector(r, idx, xs, n, err, errlen);
        }
    }
}

/* ---- results as Lisp data ---- */

lisp_Value lispbt_plan_numvec(lisp_State *S, const double *x, int n) {
    lisp_Value v = lisp_vec(S, n);
    int i;
    for (i = 0; i < n; i++) {
        lisp_vecpush(S, v, lisp_float(x[i]));
    }
    return v;
}

static lisp_Value alts(lisp_State *S, const mcts_Alt *top, int n, int dim) {
    lisp_Value v = lisp_vec(S, n);
    int base = lisp_gettop(S), i;
    for (i = 0; i < n; i++) {
        lisp_Value m = lisp_map(S, 4);
        lisp_mapsetstr(S, m, "action", lispbt_plan_numvec(S, top[i].action, dim));
        lisp_mapsetstr(S, m, "visits", lisp_int(top[i].visits));
        lisp_mapsetstr(S, m, "q", lisp_float(top[i].q));
        lisp_vecpush(S, v, m);
        lisp_settop(S, base);
    }
    return v;
}

lisp_Value lispbt_plan_resultmap(lisp_State *S, const mcts_Result *r) {
    lisp_Value m = lisp_map(S, 16);
    lisp_mapsetstr(S, m, "status", lisp_cstring(S, mcts_status_name(r->status)));
    lisp_mapsetstr(S, m, "action",
                   r->action_dim ? lispbt_plan_numvec(S, r->action, r->action_dim) : lisp_nil());
    lisp_mapsetstr(S, m, "confidence", lisp_float(r->confidence));
    lisp_mapsetstr(S, m, "value_est", lisp_float(r->value_est));
    lisp_mapsetstr(S, m, "iters", lisp_int(r->iters));
    lisp_mapsetstr(S, m, "root_visits", lisp_int(r->root_visits));
    lisp_mapsetstr(S, m, "root_children", lisp_int(r->root_children));
    lisp_mapsetstr(S, m, "widen_added", lisp_int(r->widen_added));
    lisp_mapsetstr(S, m, "depth_max", lisp_int(r->depth_max));
    lisp_mapsetstr(S, m, "depth_mean", lisp_float(r->depth_mean));
    lisp_mapsetstr(S, m, "time_used_ms", lisp_float(r->time_used_ms));
    lisp_mapsetstr(S, m, "seed", lisp_int((int64_t)r->seed));
    lisp_mapsetstr(S, m, "top_k", alts(S, r->top, r->top_n, r->action_dim));
    if (r->error[0]) {
        lisp_mapsetstr(S, m, "error", lisp_cstring(S, r->error));
    }
    return m;
}

lisp_Value lispbt_plan_recordmap(lisp_State *S, const mcts_Record *r) {
    lisp_Value m = lisp_map(S, 24);
    lisp_mapsetstr(S, m, "ts_ms", lisp_int(r->ts_ms));
    lisp_mapsetstr(S, m, "run_id", lisp_cstring(S, r->run_id));
    lisp_mapsetstr(S, m, "tick_index", lisp_int(r->tick_index));
    lisp_mapsetstr(S, m, "node_name", lisp_cstring(S, r->node_name));
    lisp_mapsetstr(S, m, "budget_ms", lisp_float(r->budget_ms));
    lisp_mapsetstr(S, m, "time_used_ms", lisp_float(r->time_used_ms));
    lisp_mapsetstr(S, m, "iters", lisp_int(r->iters));
    lisp_mapsetstr(S, m, "root_visits", lisp_int(r->root_visits));
    lisp_mapsetstr(S, m, "root_children", lisp_int(r->root_children));
    lisp_mapsetstr(S, m, "widen_added", lisp_int(r->widen_added));
    lisp_mapsetstr(S, m, "action", lispbt_plan_numvec(S, r->action, r->action_dim));
    lisp_mapsetstr(S, m, "confidence", lisp_float(r->confidence));
    lisp_mapsetstr(S, m, "value_est", lisp_float(r->value_est));
    lisp_mapsetstr(S, m, "status", lisp_cstring(S, mcts_status_name(r->status)));
    lisp_mapsetstr(S, m, "depth_max", lisp_int(r->depth_max));
    lisp_mapsetstr(S, m, "depth_mean", lisp_float(r->depth_mean));
    lisp_mapsetstr(S, m, "seed", lisp_int((int64_t)r->seed));
    lisp_mapsetstr(S, m, "model_service", lisp_cstring(S, r->model_service));
    if (r->state_key[0]) {
        lisp_mapsetstr(S, m, "state_key", lisp_cstring(S, r->state_key));
    }
    if (r->top_n && r->planner == PLAN_MCTS) {
        lisp_mapsetstr(S, m, "top_k", alts(S, r->top, r->top_n, r->action_dim));
    }
    lisp_mapsetstr(S, m, "schema_version", lisp_cstring(S, "planner.v1"));
    lisp_mapsetstr(S, m, "planner", lisp_cstring(S, plan_backend_name(r->planner)));
    lisp_mapsetstr(S, m, "work_done", lisp_int(r->work_done));
    lisp_mapsetstr(S, m, "action_schema", lisp_cstring(S, r->action_schema));
    if (r->overrun) {
        lisp_mapsetstr(S, m, "overrun", lisp_bool(1));
    }
    if (r->note[0]) {
        lisp_mapsetstr(S, m, "note", lisp_cstring(S, r->note));
    }
    if (r->has_trace) {
        lisp_Value t = lisp_map(S, 6);
        int base = lisp_gettop(S), i;
        if (r->planner == PLAN_MCTS) {
            lisp_mapsetstr(S, t, "root_visits", lisp_int(r->root_visits));
            lisp_mapsetstr(S, t, "root_children", lisp_int(r->root_children));
            lisp_mapsetstr(S, t, "widen_added", lisp_int(r->widen_added));
            if (r->top_n) {
                lisp_mapsetstr(S, t, "top_k", alts(S, r->top, r->top_n, r->action_dim));
            }
        } else if (r->planner == PLAN_MPPI) {
            lisp_mapsetstr(S, t, "n_samples", lisp_int(r->work_done));
            lisp_mapsetstr(S, t, "horizon", lisp_int(r->horizon));
            if (r->top_n) {
                lisp_Value v = lisp_vec(S, r->top_n);
                int vb = lisp_gettop(S);
                for (i = 0; i < r->top_n; i++) {
                    lisp_Value e = lisp_map(S, 3);
                    lisp_mapsetstr(S, e, "action",
                                   lispbt_plan_numvec(S, r->top[i].action, r->action_dim));
                    lisp_mapsetstr(S, e, "weight", lisp_float(r->top_weight[i]));
                    lisp_mapsetstr(S, e, "cost", lisp_float(r->top_cost[i]));
                    lisp_vecpush(S, v, e);
                    lisp_settop(S, vb);
                }
                lisp_mapsetstr(S, t, "top_k", v);
            }
        } else {
            lisp_mapsetstr(S, t, "iters", lisp_int(r->work_done));
            lisp_mapsetstr(S, t, "cost_init", lisp_float(r->cost_init));
            lisp_mapsetstr(S, t, "cost_final", lisp_float(r->cost_final));
            lisp_mapsetstr(S, t, "reg_final", lisp_float(r->reg_final));
        }
        lisp_mapsetstr(S, m, "trace", t);
        lisp_settop(S, base);
    }
    if (r->error[0]) {
        lisp_mapsetstr(S, m, "error", lisp_cstring(S, r->error));
    }
    return m;
}

#define O(f) offsetof(plan_Request, f)
#define INF HUGE_VAL
static const Field fields[] = {
    {"schema_version", G_TOP, F_SCHEMA, 0, 0, 0, 0, 0},
    {"planner", G_TOP, F_BACKEND, O(backend), 0, 0, 0, 0},
    {"model_service", G_TOP, F_MODEL, O(model_service), 0, 0, 0, 0},
    {"state", G_TOP, F_VEC, O(state), O(state_len), 1, MCTS_MAX_STATE, FL_FINITE},
    {"budget_ms", G_TOP, F_NUM, O(budget_ms), 0, 0, MCTS_BUDGET_LIMIT, FL_LOOPEN},
    {"seed", G_TOP, F_SEED, O(seed), 0, 0, 0, 0},
    {"safe_action", G_TOP, F_SAFE, 0, 0, 0, 0, 0},
    {"action_schema", G_TOP, F_STR, O(action_schema), 0, 0, PLAN_SCHEMA_MAX, 0},
    {"work_max", G_TOP, F_INT, O(work_max), 0, 0, PLAN_WORK_LIMIT, 0},
    {"horizon", G_TOP, F_INT, O(horizon), 0, 0, PLAN_HORIZON_LIMIT, FL_I32},
    {"dt_ms", G_TOP, F_INT, O(dt_ms), 0, 0, 86400000, 0},
    {"bounds", G_TOP, F_BOUNDS, 0, 0, 0, 0, 0},
    {"constraints", G_TOP, F_GROUP, 0, G_CONS, 0, 0, 0},
    {"top_k", G_TOP, F_INT, O(top_k), 0, 0, MCTS_MAX_TOPK, FL_I32},
    {"run_id", G_TOP, F_STR, O(run_id), 0, 0, MCTS_NAME_MAX, 0},
    {"tick_index", G_TOP, F_INT, O(tick_index), 0, 0, (double)INT64_MAX, 0},
    {"node_name", G_TOP, F_STR, O(node_name), 0, 0, MCTS_NAME_MAX, 0},
    {"state_key", G_TOP, F_STR, O(state_key), 0, 0, MCTS_NAME_MAX, 0},
    {"mcts", G_TOP, F_GROUP, 0, G_MCTS, 0, 0, 0},
    {"mppi", G_TOP, F_GROUP, 0, G_MPPI, 0, 0, 0},
    {"ilqr", G_TOP, F_GROUP, 0, G_ILQR, 0, 0, 0},
    {"c_ucb", G_MCTS, F_NUM, O(mcts.c_ucb), 0, 0, INF, 0},
    {"pw_k", G_MCTS, F_NUM, O(mcts.pw_k), 0, 0, INF, FL_LOOPEN},
    {"pw_alpha", G_MCTS, F_NUM, O(mcts.pw_alpha), 0, 0, 1, 0},
    {"max_depth", G_MCTS, F_INT, O(mcts.max_depth), 0, 1, MCTS_DEPTH_LIMIT, FL_I32},
    {"gamma", G_MCTS, F_NUM, O(mcts.gamma), 0, 0, 1, FL_LOOPEN},
    {"rollout_policy", G_MCTS, F_ROLLOUT, O(mcts.rollout_policy), 0, 0, 0, 0},
    {"action_sampler", G_MCTS, F_SAMPLER, O(mcts.action_sampler), 0, 0, 0, 0},
    {"lambda", G_MPPI, F_NUM, O(mppi.lambda), 0, 0, INF, FL_LOOPEN},
    {"sigma", G_MPPI, F_VEC, O(mppi.sigma), O(mppi.nsigma), 1, MCTS_MAX_ACTION,
     FL_FINITE | FL_NONNEG},
    {"n_samples", G_MPPI, F_INT, O(mppi.n_samples), 0, 1, PLAN_SAMPLES_LIMIT, 0},
    {"n_elite", G_MPPI, F_INT, O(mppi.n_elite), 0, 0, PLAN_SAMPLES_LIMIT, 0},
    {"u_init", G_MPPI, F_VEC, O(mppi.u_init), O(mppi.n_init), 1, PLAN_SEQ_MAX, FL_FINITE},
    {"u_nominal", G_MPPI, F_VEC, O(mppi.u_nominal), O(mppi.n_nominal), 1, PLAN_SEQ_MAX,
     FL_FINITE},
    {"max_iters", G_ILQR, F_INT, O(ilqr.max_iters), 0, 1, PLAN_ITERS_LIMIT, 0},
    {"reg_init", G_ILQR, F_NUM, O(ilqr.reg_init), 0, 0, 1e8, FL_LOOPEN},
    {"reg_factor", G_ILQR, F_NUM, O(ilqr.reg_factor), 0, 1, 1e8, FL_LOOPEN},
    {"tol_cost", G_ILQR, F_NUM, O(ilqr.tol_cost), 0, 0, INF, 0},
    {"tol_grad", G_ILQR, F_NUM, O(ilqr.tol_grad), 0, 0, INF, 0},
    {"u_init", G_ILQR, F_VEC, O(ilqr.u_init), O(ilqr.n_init), 1, PLAN_SEQ_MAX, FL_FINITE},
    {"derivatives", G_ILQR, F_DERIV, O(ilqr.derivatives), 0, 0, 0, 0},
    {"fd_eps", G_ILQR, F_NUM, O(ilqr.fd_eps), 0, 0, 1, FL_LOOPEN},
    {"max_du", G_CONS, F_VEC, O(max_du), O(n_max_du), 1, MCTS_MAX_ACTION,
     FL_FINITE | FL_NONNEG},
    {"smoothness_weight", G_CONS, F_NUM, O(smoothness_weight), 0, 0, INF, 0},
    {"collision_weight", G_CONS, F_NUM, O(collision_weight), 0, 0, INF, 0},
    {"goal_tolerance", G_CONS, F_NUM, O(goal_tolerance), 0, 0, INF, 0},
    {NULL, 0, 0, 0, 0, 0, 0, 0}};
#undef O

static const char *const groupnames[G_N] = {"request.", "request.mcts.", "request.mppi.",
                                            "request.ilqr.", "request.constraints."};

/* The field 'name' (n bytes) of group 'g', or NULL. */
const Field *lispbt_plan_findfield(int g, const char *name, size_t n) {
    const Field *f;
    for (f = fields; f->name; f++) {
        if (f->group == g && strlen(f->name) == n && memcmp(f->name, name, n) == 0) {
            return f;
        }
    }
    return NULL;
}

/* Text of a string, symbol or keyword value without its ':' (NULL if
** neither). */
const char *lispbt_plan_textof(lisp_Value v, size_t *n) {
    size_t len;
    return (v.tag == LISP_TSTRING || v.tag == LISP_TSYMBOL) ? lispbt_plan_keyname(v, n ? n : &len)
                                                            : NULL;
}

int lispbt_plan_texteq(const char *s, size_t n, const char *lit) {
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* "PATH must be WHAT, got REPR" into err; returns -1. */
int lispbt_plan_badfield(lisp_State *S, char *err, size_t errlen, const char *path,
                         const char *what, lisp_Value v) {
    char repr[128];
    snprintf(err, errlen, "%s must be %s, got %s", path, what, lisp_repr(S, v, repr, sizeof repr));
    return -1;
}

double lispbt_plan_numval(lisp_Value v) {
    return v.tag == LISP_TINT ? (double)v.u.i : v.u.f;
}

/* The range words of an F_NUM field: "> 0", "in (0, 1]", ">= 0". */
static void rangetext(const Field *f, char *buf, size_t n) {
    if (f->hi == INF) {
        snprintf(buf, n, "a number %s %g", (f->flags & FL_LOOPEN) ? ">" : ">=", f->lo);
    } else {
        snprintf(buf, n, "a number in %c%g, %g%c", (f->flags & FL_LOOPEN) ? '(' : '[', f->lo,
                 f->hi, (f->flags & FL_HIOPEN) ? ')' : ']');
    }
}

/* Numbers of 'v' (a number, list or vec) into 'out' (at most 'max');
** count, or -1 if 'v' is none of those or holds a non-number, -2 if too
** many. */
int lispbt_plan_numlist(lisp_Value v, double *out, int max) {
    int n = 0;
    if (lisp_isnumber(v)) {
        out[0] = lispbt_plan_numval(v);
        return 1;
    }
    if (v.tag == LISP_TVEC) {
        int64_t i, len = lisp_veclen(v);
        if (len > max) {
            return -2;
        }
        for (i = 0; i < len; i++) {
            lisp_Value x = lisp_vecitems(v)[i];
            if (!lisp_isnumber(x)) {
                return -1;
            }
            out[n++] = lispbt_plan_numval(x);
        }
        return n;
    }
    if (v.tag == LISP_TCONS && lisp_listlen(v) >= 0) {
        for (; v.tag == LISP_TCONS; v = lisp_cdr(v)) {
            if (n >= max) {
                return -2;
            }
            if (!lisp_isnumber(lisp_car(v))) {
                return -1;
            }
            out[n++] = lispbt_plan_numval(lisp_car(v));
        }
        return n;
    }
    return -1;
}

uint64_t lispbt_plan_fnv1a(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

#define SEED_MASK ((UINT64_C(1) << 53) - 1) /* exact as a double, a Lua and a JSON number */

/* Store 'v' into field 'f' of 'r'; 0, or -1 with the message in 'err'
** ("PATH must be ..., got ...").  'path' names the field in messages. */
int lispbt_plan_setfield(lisp_State *S, plan_Request *r, const Field *f, const char *path,
                    lisp_Value v, char *err, size_t errlen) {
    char *base = (char *)r;
    char what[96];
    size_t n;
    const char *s;
    switch (f->kind) {
        case F_NUM: {
            double x;
            rangetext(f, what, sizeof what);
            if (!lisp_isnumber(v)) {
                return lispbt_plan_badfield(S, err, errlen, path, what, v);
            }
            x = lispbt_plan_numval(v);
            if (!((f->flags & FL_LOOPEN) ? x > f->lo : x >= f->lo) ||
                !((f->flags & FL_HIOPEN) ? x < f->hi : x <= f->hi) || !isfinite(x)) {
                return lispbt_plan_badfield(S, err, errlen, path, what, v);
            }
            *(double *)(base + f->off) = x;
            return 0;
        }
        case F_INT: {
            int64_t x;
            snprintf(what, sizeof what, "an integer in [%.0f, %.0f]", f->lo, f->hi);
            if (!lisp_tointrange(v, LISP_INTONLY, (int64_t)f->lo,
                                 f->hi >= 9.2e18 ? INT64_MAX : (int64_t)f->hi, &x)) {
                if (f->hi >= 9.2e18) {
                    snprintf(what, sizeof what, "an integer >= %.0f", f->lo);
                }
                return lispbt_plan_badfield(S, err, errlen, path, what, v);
            }
            if (f->flags & FL_I32) {
                *(int *)(base + f->off) = (int)x;
            } else {
                *(int64_t *)(base + f->off) = x;
            }
            return 0;
        }
        case F_STR:
            if ((s = lispbt_plan_textof(v, &n)) == NULL || n == 0 || memchr(s, '\0', n) != NULL) {
                return lispbt_plan_badfield(S, err, errlen, path, "a non-empty string or symbol",
                                            v);
            }
            if (n >= (size_t)f->hi) {
                snprintf(what, sizeof what, "at most %d bytes", (int)f->hi - 1);
                return lispbt_plan_badfield(S, err, errlen, path, what, v);
            }
            memcpy(base + f->off, s, n);
            (base + f->off)[n] = '\0';
            return 0;
        case F_VEC: {
            double xs[PLAN_SEQ_MAX];
            int k = lispbt_plan_numlist(v, xs, (int)f->hi), i;
            snprintf(what, sizeof what, "a number or a list of %g to %g numbers", f->lo, f->hi);
            if (k < (int)f->lo) {
                return lispbt_plan_badfield(S, err, errlen, path, what, v);
            }
            for (i = 0; i < k; i++) {
                if (((f->flags & FL_FINITE) && !isfinite(xs[i])) ||
                    ((f->flags & FL_NONNEG) && !(xs[i] >= 0))) {
                    return lispbt_plan_badfield(S, err, errlen, path,
                                    (f->flags & FL_NONNEG) ? "finite numbers >= 0"
                                                           : "finite numbers", v);
                }
            }
            memcpy(base + f->off, xs, sizeof(double) * (size_t)k);
            *(int *)(base + f->aux) = k;
            return 0;
        }
        case F_SCHEMA:
            if ((s = lispbt_plan_textof(v, &n)) == NULL ||
                !lispbt_plan_texteq(s, n, "planner.request.v1")) {
                return lispbt_plan_badfield(S, err, errlen, path, "\"planner.request.v1\"", v);
            }
            return 0;
        case F_BACKEND:
            s = lispbt_plan_textof(v, &n);
            if (s != NULL && lispbt_plan_texteq(s, n, "mcts")) {
                r->backend = PLAN_MCTS;
            } else if (s != NULL && lispbt_plan_texteq(s, n, "mppi")) {
                r->backend = PLAN_MPPI;
            } else if (s != NULL && lispbt_plan_texteq(s, n, "ilqr")) {
                r->backend = PLAN_ILQR;
            } else {
                return lispbt_plan_badfield(S, err, errlen, path, "one of mcts, mppi, ilqr", v);
            }
            return 0;
        case F_MODEL:
            if ((s = lispbt_plan_textof(v, &n)) == NULL || n == 0 || n >= MCTS_MODEL_NAME_MAX ||
                memchr(s, '\0', n) != NULL) {
                return lispbt_plan_badfield(S, err, errlen, path,
                                            "a model name (a string or symbol of 1..31 bytes)", v);
            }
            memcpy(r->model_service, s, n);
            r->model_service[n] = '\0';
            return 0;
        case F_SEED:
            if (v.tag == LISP_TINT && v.u.i >= 0) {
                r->seed = (uint64_t)v.u.i;
            } else if (v.tag == LISP_TFLOAT && v.u.f >= 0 && v.u.f < 9.2e18) {
                r->seed = (uint64_t)v.u.f;
            } else if ((s = lispbt_plan_textof(v, &n)) != NULL) {
                r->seed = lispbt_plan_fnv1a(s, n) & SEED_MASK;
            } else {
                return lispbt_plan_badfield(S, err, errlen, path,
                                "a non-negative integer, a finite number >= 0, or a string/symbol",
                                v);
            }
            return 0;
        case F_SAFE: {
            lisp_Value sch, u;
            char sub[64];
            Field uf = {"u", G_TOP, F_VEC, offsetof(plan_Request, safe_u),
                        offsetof(plan_Request, safe_len), 1, MCTS_MAX_ACTION, FL_FINITE};
            if (v.tag != LISP_TMAP) {
                return lispbt_plan_badfield(S, err, errlen, path, "a map {action_schema, u}", v);
            }
            snprintf(sub, sizeof sub, "%s.u", path);
            if (!lispbt_plan_mapfind(v, "u", &u)) {
                snprintf(err, errlen, "%s is missing (required)", sub);
                return -1;
            }
            if (lispbt_plan_setfield(S, r, &uf, sub, u, err, errlen) != 0) {
                return -1;
            }
            if (lispbt_plan_mapfind(v, "action_schema", &sch)) {
                Field sf = {"action_schema", G_TOP, F_STR, offsetof(plan_Request, safe_schema), 0,
                            0, PLAN_SCHEMA_MAX, 0};
                snprintf(sub, sizeof sub, "%s.action_schema", path);
                return lispbt_plan_setfield(S, r, &sf, sub, sch, err, errlen);
            }
            return 0;
        }
        case F_BOUNDS: {
            int rows = 0;
            lisp_Value row;
            if (v.tag != LISP_TCONS && v.tag != LISP_TVEC) {
                return lispbt_plan_badfield(S, err, errlen, path, "a list of (lo hi) rows", v);
            }
            for (;;) {
                double lh[2];
                if (v.tag == LISP_TVEC) {
                    if (rows >= lisp_veclen(v)) {
                        break;
                    }
                    row = lisp_vecitems(v)[rows];
                } else {
                    if (v.tag != LISP_TCONS) {
                        break;
                    }
                    row = lisp_car(v);
                    v = lisp_cdr(v);
                }
                if (rows >= MCTS_MAX_ACTION) {
                    snprintf(what, sizeof what, "at most %d rows", MCTS_MAX_ACTION);
                    return lispbt_plan_badfield(S, err, errlen, path, what, row);
                }
                if (lispbt_plan_numlist(row, lh, 2) != 2 || !isfinite(lh[0]) || !isfinite(lh[1]) ||
                    lh[0] > lh[1]) {
                    snprintf(what, sizeof what, "rows (lo hi) of finite numbers with lo <= hi "
                             "(row %d)", rows + 1);
                    return lispbt_plan_badfield(S, err, errlen, path, what, row);
                }
                r->lo[rows] = lh[0];
                r->hi[rows] = lh[1];
                rows++;
            }
            r->nbounds = rows;
            return 0;
        }
        case F_ROLLOUT:
            s = lispbt_plan_textof(v, &n);
            if (s != NULL && lispbt_plan_texteq(s, n, "random")) {
                r->mcts.rollout_policy = MCTS_ROLLOUT_RANDOM;
            } else if (s != NULL && lispbt_plan_texteq(s, n, "heuristic")) {
                r->mcts.rollout_policy = MCTS_ROLLOUT_HEURISTIC;
            } else if (s != NULL && lispbt_plan_texteq(s, n, "model_default")) {
                r->mcts.rollout_policy = MCTS_ROLLOUT_MODEL;
            } else {
                return lispbt_plan_badfield(S, err, errlen, path,
                                            "one of model_default, random, heuristic", v);
            }
            return 0;
        case F_SAMPLER:
            s = lispbt_plan_textof(v, &n);
            if (s != NULL && (lispbt_plan_texteq(s, n, "uniform") ||
                              lispbt_plan_texteq(s, n, "model_default"))) {
                r->mcts.action_sampler = MCTS_SAMPLER_UNIFORM;
            } else if (s != NULL && lispbt_plan_texteq(s, n, "gaussian")) {
                r->mcts.action_sampler = MCTS_SAMPLER_GAUSSIAN;
            } else {
                return lispbt_plan_badfield(S, err, errlen, path,
                                            "one of model_default, uniform, gaussian", v);
            }
            return 0;
        case F_DERIV:
            s = lispbt_plan_textof(v, &n);
            if (s != NULL && lispbt_plan_texteq(s, n, "analytic")) {
                r->ilqr.derivatives = PLAN_ANALYTIC;
            } else if (s != NULL && lispbt_plan_texteq(s, n, "finite_diff")) {
                r->ilqr.derivatives = PLAN_FINITE_DIFF;
            } else {
                return lispbt_plan_badfield(S, err, errlen, path, "analytic or finite_diff", v);
            }
            return 0;
        default:
            return lispbt_plan_badfield(S, err, errlen, path, "a map", v);
    }
}

/* Find string/symbol/keyword key 'name' in map 'm'. */
int lispbt_plan_mapfind(lisp_Value m, const char *name, lisp_Value *out) {
    int64_t it = 0;
    lisp_Value k, v;
    while (lisp_mapnext(m, &it, &k, &v)) {
        size_t n;
        const char *s = lispbt_plan_textof(k, &n);
        if (s != NULL && lispbt_plan_texteq(s, n, name)) {
            *out = v;
            return 1;
        }
    }
    return 0;
}

/* Fill 'r' from map 'm' of group 'g'; 0 or -1 with 'err'.  'seen' gets a
** bit per top-level field found (index in 'fields'). */
static int parsegroup(lisp_State *S, plan_Request *r, lisp_Value m, int g, uint64_t *seen,
                      char *err, size_t errlen) {
    int64_t it = 0;
    lisp_Value k, v;
    while (lisp_mapnext(m, &it, &k, &v)) {
        size_t n;
        const char *s = lispbt_plan_textof(k, &n);
        const Field *f;
        char path[96];
        if (s == NULL) {
            return lispbt_plan_badfield(S, err, errlen, groupnames[g],
                                        "keyed by strings or symbols", k);
        }
        f = lispbt_plan_findfield(g, s, n);
        snprintf(path, sizeof path, "%s%.*s", groupnames[g], n > 40 ? 40 : (int)n, s);
        if (f == NULL) {
            snprintf(err, errlen, "%s is not a planner.request.v1 field", path);
            return -1;
        }
        if (g == G_TOP) {
            *seen |= UINT64_C(1) << (f - fields);
        }
        if (f->kind == F_GROUP) {
            if (v.tag != LISP_TMAP) {
                return lispbt_plan_badfield(S, err, errlen, path, "a map", v);
            }
            if (parsegroup(S, r, v, (int)f->aux, seen, err, errlen) != 0) {
                return -1;
            }
            continue;
        }
        if (lispbt_plan_setfield(S, r, f, path, v, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

/* The default seed of a request without one (the reference's rule: a hash
** of model, planner, budget and state), so equal requests replay. */
static uint64_t defaultseed(const plan_Request *r) {
    char buf[512];
    int n, i;
    n = snprintf(buf, sizeof buf, "%s|%s|%.17g", r->model_service, plan_backend_name(r->backend),
                 r->budget_ms);
    for (i = 0; i < r->state_len && n < (int)sizeof buf - 32; i++) {
        n += snprintf(buf + n, sizeof buf - (size_t)n, "|%.17g", r->state[i]);
    }
    return lispbt_plan_fnv1a(buf, (size_t)n) & SEED_MASK;
}

/* Parse a planner.request.v1 map; 0 or -1 with 'err' (without the
** "planner.plan: " prefix). */
int lispbt_plan_parserequest(lisp_State *S, plan_Request *r, lisp_Value m, char *err,
                             size_t errlen) {
    static const char *const required[] = {"schema_version", "planner", "model_service", "state",
                                           "budget_ms"};
    uint64_t seen = 0;
    size_t i;
    plan_request_defaults(r);
    strcpy(r->run_id, "lisp");
    strcpy(r->node_name, "planner.plan");
    if (m.tag != LISP_TMAP) {
        return lispbt_plan_badfield(S, err, errlen, "request", "a map", m);
    }
    if (parsegroup(S, r, m, G_TOP, &seen, err, errlen) != 0) {
        return -1;
    }
    for (i = 0; i < sizeof required / sizeof required[0]; i++) {
        const Field *f = lispbt_plan_findfield(G_TOP, required[i], strlen(required[i]));
        if (!(seen & (UINT64_C(1) << (f - fields)))) {
            snprintf(err, errlen, "missing required %s", required[i]);
            return -1;
        }
    }
    if (!(seen & (UINT64_C(1) << (lispbt_plan_findfield(G_TOP, "seed", 4) - fields)))) {
        r->seed = defaultseed(r);
    }
    if (r->action_schema[0] == '\0' && r->safe_schema[0] != '\0') {
        memcpy(r->action_schema, r->safe_schema, sizeof r->action_schema);
    }
    return 0;
}

/* ---- planner.result.v1 as Lisp data ---- */

/* m[sym] = v ('v' already pushed by its constructor, or an immediate). */
static void symset(lisp_State *S, lisp_Value m, const char *key, lisp_Value v) {
    int top = lisp_gettop(S);
    lisp_push(S, v);
    lisp_mapset(S, m, lisp_cintern(S, key), v);
    lisp_settop(S, top);
}

lisp_Value lispbt_plan_numlistv(lisp_State *S, const double *x, int n) {
    lisp_Value l;
    int i, base;
    lisp_push(S, lisp_nil());
    base = lisp_gettop(S) - 1;
    for (i = n - 1; i >= 0; i--) {
        l = lisp_cons(S, lisp_float(x[i]), *lisp_at(S, base));
        *lisp_at(S, base) = l;
        lisp_settop(S, base + 1);
    }
    return *lisp_at(S, base);
}

static lisp_Value actionmap(lisp_State *S, const char *schema, const double *u, int n) {
    lisp_Value m = lisp_map(S, 2);
    symset(S, m, "action_schema", lisp_cstring(S, schema));
    symset(S, m, "u", lispbt_plan_numlistv(S, u, n));
    return m;
}

static const char *const statussyms[] = {":ok", ":timeout", ":noaction", ":error"};

/* A budget as the reference prints it: an integer when integral. */
static lisp_Value msval(double ms) {
    return ms == floor(ms) && fabs(ms) < 9e15 ? lisp_int((int64_t)ms) : lisp_float(ms);
}

lisp_Value lispbt_plan_result(lisp_State *S, const plan_Result *r) {
    lisp_Value m = lisp_map(S, 10), st, tr;
    int base = lisp_gettop(S), i;
    symset(S, m, "schema_version", lisp_cstring(S, "planner.result.v1"));
    symset(S, m, "planner", lisp_cstring(S, plan_backend_name(r->backend)));
    symset(S, m, "status", lisp_cintern(S, statussyms[r->status & 3]));
    symset(S, m, "action", actionmap(S, r->action_schema, r->u, r->adim));
    symset(S, m, "confidence", lisp_float(r->confidence));
    st = lisp_map(S, 6);
    symset(S, st, "budget_ms", msval(r->budget_ms));
    symset(S, st, "time_used_ms", lisp_float(r->time_used_ms));
    symset(S, st, "work_done", lisp_int(r->work_done));
    symset(S, st, "seed", lisp_int((int64_t)(r->seed & INT64_MAX)));
    if (r->overrun) {
        symset(S, st, "overrun", lisp_bool(1));
    }
    if (r->note[0]) {
        symset(S, st, "note", lisp_cstring(S, r->note));
    }
    symset(S, m, "stats", st);
    lisp_settop(S, base);
    if (r->has_trace) {
        lisp_Value top;
        tr = lisp_map(S, 6);
        if (r->backend == PLAN_MCTS) {
            symset(S, tr, "root_visits", lisp_int(r->root_visits));
            symset(S, tr, "root_children", lisp_int(r->root_children));
            symset(S, tr, "widen_added", lisp_int(r->widen_added));
        } else if (r->backend == PLAN_MPPI) {
            symset(S, tr, "n_samples", lisp_int(r->work_done));
            symset(S, tr, "horizon", lisp_int(r->horizon));
        } else {
            symset(S, tr, "iters", lisp_int(r->work_done));
            symset(S, tr, "cost_init", lisp_float(r->cost_init));
            symset(S, tr, "cost_final", lisp_float(r->cost_final));
            symset(S, tr, "reg_final", lisp_float(r->reg_final));
        }
        if (r->backend != PLAN_ILQR) {
            int tb;
            lisp_push(S, lisp_nil()); /* a list, as the reference's, built from its end */
            tb = lisp_gettop(S);
            for (i = r->top_n - 1; i >= 0; i--) {
                lisp_Value e = lisp_map(S, 3);
                symset(S, e, "action", actionmap(S, r->action_schema, r->top[i].u, r->adim));
                if (r->backend == PLAN_MCTS) {
                    symset(S, e, "visits", lisp_int(r->top[i].visits));
                    symset(S, e, "q", lisp_float(r->top[i].q));
                } else {
                    symset(S, e, "weight", lisp_float(r->top[i].weight));
                    symset(S, e, "cost", lisp_float(r->top[i].cost));
                }
                top = lisp_cons(S, e, *lisp_at(S, tb - 1));
                *lisp_at(S, tb - 1) = top;
                lisp_settop(S, tb);
            }
            symset(S, tr, "top_k", *lisp_at(S, tb - 1));
        }
        symset(S, m, "trace", tr);
        lisp_settop(S, base);
    }
    if (r->error[0]) {
        symset(S, m, "error", lisp_cstring(S, r->error));
    }
    lisp_settop(S, base);
    return m;
}
