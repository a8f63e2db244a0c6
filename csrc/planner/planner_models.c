/*
** planner_models.c -- the planner's built-in models: toy-1d and ptz-track.
** See LICENSE for copyright.
**
** A model is 'static const' data plus three plain functions (planner_mcts.h).  The
** planner calls 'step' millions of times per second from rollouts, so the
** step functions are branch-light, allocation-free and never divide.
**
** Invariants every model keeps (the planner relies on them):
**   - 'step' is deterministic: the same (state, action) gives the same next
**     state, reward and terminal flag.  All randomness lives in the planner.
**   - 'step' is only given actions inside [action_lo, action_hi] and states
**     that 'valid_state' accepted or that 'step' itself produced, and returns
**     finite rewards for them.
**   - 'heuristic_action' returns actions inside the bounds.
**
** Adding a model: write the three functions, a 'static const mcts_Model',
** add it to 'models' below, and document it in docs/planner.md.
*/
#include "conf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "planner_mcts.h"
#include "planner_plan.h"

static double clampd(double x, double lo, double hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Shared check: every value finite and within [-lim, lim]. */
static int check_finite(const mcts_Model *m, const double *s, int n,
                        double lim, char *err, size_t errlen) {
    int i;
    for (i = 0; i < n; i++) {
        if (!isfinite(s[i]) || fabs(s[i]) > lim) {
            if (err) {
                char num[40];
                snprintf(err, errlen,
                         "state: %s %s must be a finite number in [-%.10g, %.10g], got %s",
                         m->name, m->state_names[i], lim, lim, mcts_numtext(num, sizeof num, s[i]));
            }
            return -1;
        }
    }
    return 0;
}

/*
** ---------------------------------------------------------------- toy-1d
**
** state  [x]                 position on a line
** action [a], a in [-1, 1]   velocity command
** x' = x + TOY_STEP * a
** reward = -|x' - 1| - TOY_COST * a^2, plus TOY_BONUS when terminal
** terminal when |x' - 1| < TOY_TOL
**
** From x = 0 the goal is 4 full steps away; a planner that picks a ~ 1 and
** then the exact remaining fraction arrives in 5-6 plan/apply cycles.
*/

#define TOY_GOAL 1.0
#define TOY_STEP 0.25
#define TOY_TOL 0.01
#define TOY_COST 0.01
#define TOY_BONUS 1.0
#define TOY_LIMIT 1e6

static int toy_step(const mcts_Model *m, const double *s, const double *a,
                    double *next, double *reward) {
    double x = s[0] + TOY_STEP * a[0];
    double d = fabs(x - TOY_GOAL);
    (void)m;
    next[0] = x;
    *reward = -d - TOY_COST * a[0] * a[0];
    if (d < TOY_TOL) {
        *reward += TOY_BONUS;
        return 1;
    }
    return 0;
}

static int toy_valid(const mcts_Model *m, const double *s, int n, char *err,
                     size_t errlen) {
    return check_finite(m, s, n, TOY_LIMIT, err, errlen);
}

/* Proportional controller that lands exactly on the goal when in reach. */
static void toy_heuristic(const mcts_Model *m, const double *s, double *a) {
    (void)m;
    a[0] = clampd((TOY_GOAL - s[0]) * (1.0 / TOY_STEP), -1.0, 1.0);
}

static const mcts_Model toy_1d = {
    "toy-1d",
    "scalar x moves by 0.25*a per step, a in [-1,1]; goal x = 1 (tol 0.01)",
    1,
    1,
    {"x"},
    {-1.0},
    {1.0},
    toy_step,
    toy_valid,
    toy_heuristic,
    0,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
};

/*
** ------------------------------------------------------------- ptz-track
**
** state  [pan, tilt, target_pan, target_tilt, target_vpan, target_vtilt]
**        (radians, radians per step); the camera looks at (pan, tilt), the
**        target sits at (target_pan, target_tilt) and moves at a constant
**        velocity (target_vpan, target_vtilt) per step.
** action [dpan, dtilt], each in [-0.2, 0.2] rad per step (rate command)
** pan'  = clamp(pan + dpan, -PTZ_PAN_MAX, PTZ_PAN_MAX)      (likewise tilt)
** tp'   = tp + vp, tt' = tt + vt; velocities unchanged
** reward = -sqrt((pan' - tp')^2 + (tilt' - tt')^2)
**          - PTZ_COST * ((dpan/0.2)^2 + (dtilt/0.2)^2)
** never terminal (tracking goes on); the error is measured in the pan/tilt
** plane, a small-angle stand-in for the true angular distance.
*/

#define PTZ_RATE 0.2
#define PTZ_PAN_MAX 3.0
#define PTZ_TILT_MAX 1.2
#define PTZ_COST 0.01
#define PTZ_TARGET_LIMIT 1000.0
#define PTZ_VEL_LIMIT 1.0

static int ptz_step(const mcts_Model *m, const double *s, const double *a,
                    double *next, double *reward) {
    double pan = clampd(s[0] + a[0], -PTZ_PAN_MAX, PTZ_PAN_MAX);
    double tilt = clampd(s[1] + a[1], -PTZ_TILT_MAX, PTZ_TILT_MAX);
    double tp = s[2] + s[4];
    double tt = s[3] + s[5];
    double ep = pan - tp, et = tilt - tt;
    double up = a[0] * (1.0 / PTZ_RATE), ut = a[1] * (1.0 / PTZ_RATE);
    (void)m;
    next[0] = pan;
    next[1] = tilt;
    next[2] = tp;
    next[3] = tt;
    next[4] = s[4];
    next[5] = s[5];
    *reward = -sqrt(ep * ep + et * et) - PTZ_COST * (up * up + ut * ut);
    return 0;
}

static int ptz_valid(const mcts_Model *m, const double *s, int n, char *err,
                     size_t errlen) {
    static const double lim[6] = {PTZ_PAN_MAX, PTZ_TILT_MAX, PTZ_TARGET_LIMIT,
                                  PTZ_TARGET_LIMIT, PTZ_VEL_LIMIT, PTZ_VEL_LIMIT};
    int i;
    for (i = 0; i < n && i < 6; i++) {
        if (!isfinite(s[i]) || fabs(s[i]) > lim[i]) {
            if (err) {
                char num[40];
                snprintf(err, errlen,
                         "state: %s %s must be a finite number in [-%.10g, %.10g], got %s",
                         m->name, m->state_names[i], lim[i], lim[i],
                         mcts_numtext(num, sizeof num, s[i]));
            }
            return -1;
        }
    }
    return 0;
}

/* Aim at where the target will be after this step, at the maximum rate. */
static void ptz_heuristic(const mcts_Model *m, const double *s, double *a) {
    (void)m;
    a[0] = clampd(s[2] + s[4] - s[0], -PTZ_RATE, PTZ_RATE);
    a[1] = clampd(s[3] + s[5] - s[1], -PTZ_RATE, PTZ_RATE);
}

static const mcts_Model ptz_track = {
    "ptz-track",
    "pan/tilt camera tracking a constant-velocity target; rates in [-0.2,0.2] rad/step",
    6,
    2,
    {"pan", "tilt", "target_pan", "target_tilt", "target_vpan", "target_vtilt"},
    {-PTZ_RATE, -PTZ_RATE},
    {PTZ_RATE, PTZ_RATE},
    ptz_step,
    ptz_valid,
    ptz_heuristic,
    0,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
};

/*
** ----------------------------------------------------------------- table
*/

static const mcts_Model *const models[] = {&toy_1d, &ptz_track};

#define NMODELS ((int)(sizeof models / sizeof models[0]))

const mcts_Model *mcts_model_find(const char *name) {
    int i;
    if (name == NULL) {
        return NULL;
    }
    for (i = 0; i < NMODELS; i++) {
        if (strcmp(models[i]->name, name) == 0) {
            return models[i];
        }
    }
    return NULL;
}

const mcts_Model *mcts_model_at(int i) {
    return (i >= 0 && i < NMODELS) ? models[i] : NULL;
}

void mcts_model_clamp(const mcts_Model *m, const double *a, double *out) {
    int i;
    for (i = 0; i < m->action_dim; i++) {
        double x = a[i];
        if (!(x >= m->action_lo[i])) {   /* also catches NaN */
            x = m->action_lo[i];
        } else if (x > m->action_hi[i]) {
            x = m->action_hi[i];
        }
        out[i] = x;
    }
}

/*
** ------------------------------------------------- planner.plan v1 models
**
** planner.plan (planner_plan.c) uses the reference runtime's models, with
** its dynamics and costs, so requests written for muesli-bt plan the same
** problem here.  toy-1d has the same motion as the legacy model above
** (x' = x + 0.25 a) but the reference's quadratic cost and analytic
** derivatives (for iLQR).  ptz-track is the reference's image-plane
** tracker without its small process noise (steps are deterministic here:
** docs/compat.md).  toy-unicycle is the reference's goal-reaching
** unicycle.  These have state_dim 0 where the reference accepts several
** state lengths; planner_plan.c fixes state_dim per call.
*/

/* MODEL_ROLLOUT(name, step, SDIM): the model's batched rollout
** (mcts_RolloutFn) as a loop over its own step function, inlined (the
** step functions are LISPBT_INLINE): the same arithmetic in the same order
** as calling 'step' n times, without an indirect call per step.  SDIM is
** the state length, 0 for the per-call m->state_dim.  With a fixed SDIM
** the state lives in two local arrays of constant size, copied after each
** step, which the compiler keeps in registers: no store and reload of the
** state per step (the buffers swapped by pointer otherwise). */
#define MODEL_ROLLOUT(name, stepfn, SDIM)                                                      \
    static int name(const mcts_Model *m, double *x, const double *U, int n, double gamma,      \
                    double *ret, double *disc, int *term) {                                    \
        double buf[MCTS_MAX_STATE], *cur = x, *nxt = buf, *tmp, r, g = *ret, d = *disc;       \
        int t, k = 0, A = m->action_dim, sd = (SDIM) > 0 ? (SDIM) : m->state_dim, i;           \
        if ((SDIM) > 0) {                                                                      \
            double c[(SDIM) > 0 ? (SDIM) : 1], nx[(SDIM) > 0 ? (SDIM) : 1];                    \
            for (i = 0; i < sd; i++) {                                                         \
                c[i] = x[i];                                                                   \
            }                                                                                  \
            for (t = 0; t < n;) {                                                              \
                k = stepfn(m, c, U + t * A, nx, &r);                                           \
                if (k < 0) {                                                                   \
                    return -1;                                                                 \
                }                                                                              \
                g += d * r;                                                                    \
                d *= gamma;                                                                    \
                for (i = 0; i < sd; i++) {                                                     \
                    c[i] = nx[i];                                                              \
                }                                                                              \
                t++;                                                                           \
                if (k) {                                                                       \
                    break;                                                                     \
                }                                                                              \
            }                                                                                  \
            for (i = 0; i < sd; i++) {                                                         \
                x[i] = c[i];                                                                   \
            }                                                                                  \
            *ret = g;                                                                          \
            *disc = d;                                                                         \
            *term = k;                                                                         \
            return t;                                                                          \
        }                                                                                      \
        for (t = 0; t < n;) {                                                                  \
            k = stepfn(m, cur, U + t * A, nxt, &r);                                            \
            if (k < 0) {                                                                       \
                return -1;                                                                     \
            }                                                                                  \
            g += d * r;                                                                        \
            d *= gamma;                                                                        \
            tmp = cur;                                                                         \
            cur = nxt;                                                                         \
            nxt = tmp;                                                                         \
            t++;                                                                               \
            if (k) {                                                                           \
                break;                                                                         \
            }                                                                                  \
        }                                                                                      \
        if (cur != x) {                                                                        \
            for (i = 0; i < sd; i++) {                                                         \
                x[i] = cur[i];                                                                 \
            }                                                                                  \
        }                                                                                      \
        *ret = g;                                                                              \
        *disc = d;                                                                             \
        *term = k;                                                                             \
        return t;                                                                              \
    }

/* toy-1d (reference): reward -(1 - x')^2, terminal when |1 - x'| < 0.05. */
static LISPBT_INLINE int rtoy_step(const mcts_Model *m, const double *s, const double *a,
                                   double *next, double *reward) {
    double x2 = s[0] + 0.25 * clampd(a[0], -1.0, 1.0);
    double err = 1.0 - x2;
    (void)m;
    next[0] = x2;
    *reward = -(err * err);
    return fabs(err) < 0.05;
}

static int rtoy_valid(const mcts_Model *m, const double *s, int n, char *err, size_t errlen) {
    return check_finite(m, s, n, TOY_LIMIT, err, errlen);
}

static void rtoy_heuristic(const mcts_Model *m, const double *s, double *a) {
    (void)m;
    a[0] = clampd((1.0 - s[0]) * 4.0, -1.0, 1.0);
}

static int rtoy_lin(const mcts_Model *m, const double *x, const double *u, double *A,
                    double *B) {
    (void)m;
    (void)x;
    A[0] = 1.0;
    B[0] = (u[0] > -1.0 && u[0] < 1.0) ? 0.25 : 0.0;
    return 0;
}

static int rtoy_quad(const mcts_Model *m, const double *x, const double *u, double *l0,
                     double *lx, double *lu, double *lxx, double *luu, double *lxu) {
    double err = 1.0 - (x[0] + 0.25 * clampd(u[0], -1.0, 1.0));
    (void)m;
    *l0 = err * err;
    lx[0] = -2.0 * err;
    lu[0] = -0.5 * err;
    lxx[0] = 2.0;
    luu[0] = 0.125;
    lxu[0] = 0.5;
    return 0;
}

static int rtoy_term(const mcts_Model *m, const double *x, double *l0, double *lx,
                     double *lxx) {
    double err = 1.0 - x[0];
    (void)m;
    *l0 = err * err;
    lx[0] = -2.0 * err;
    lxx[0] = 2.0;
    return 0;
}

MODEL_ROLLOUT(rtoy_rollout, rtoy_step, 1)

static const mcts_Model rtoy_1d = {
    "toy-1d",
    "x' = x + 0.25*a, a in [-1,1]; cost (1 - x')^2; goal |1 - x'| < 0.05 (reference)",
    1,
    1,
    {"x"},
    {-1.0},
    {1.0},
    rtoy_step,
    rtoy_valid,
    rtoy_heuristic,
    20,
    rtoy_lin,
    rtoy_quad,
    rtoy_term,
    NULL,
    NULL,
    rtoy_rollout,
};

/* ptz-track (reference): state [pan tilt ball_x ball_y (ball_vx ball_vy)],
** the ball's position in the image; action [dpan dtilt] in [-0.25, 0.25].
** pan' = clamp(pan + dpan, +-1.5), tilt' = clamp(tilt + dtilt, +-1)
** b'   = clamp(b + v - 1.15 * d, +-2) per axis; velocities unchanged
** reward = -|b'| - 0.05 (|dpan| + |dtilt|); terminal when |b'| < 0.03. */
static LISPBT_INLINE int rptz_step(const mcts_Model *m, const double *s, const double *a,
                                   double *next, double *reward) {
    int n = m->state_dim;
    double vx = n > 4 ? s[4] : 0.0, vy = n > 5 ? s[5] : 0.0;
    double dp = clampd(a[0], -0.25, 0.25), dt = clampd(a[1], -0.25, 0.25);
    double bx = clampd(s[2] + vx - dp * 1.15, -2.0, 2.0);
    double by = clampd(s[3] + vy - dt * 1.15, -2.0, 2.0);
    double dist = sqrt(bx * bx + by * by);
    int i;
    next[0] = clampd(s[0] + dp, -1.5, 1.5);
    next[1] = clampd(s[1] + dt, -1.0, 1.0);
    next[2] = bx;
    next[3] = by;
    for (i = 4; i < n; i++) {
        next[i] = s[i];
    }
    *reward = -dist - 0.05 * (fabs(dp) + fabs(dt));
    return dist < 0.03;
}

static int rptz_valid(const mcts_Model *m, const double *s, int n, char *err, size_t errlen) {
    if (n < 4 || n > 6) {
        if (err) {
            snprintf(err, errlen,
                     "state: %s expects 4 to 6 values [pan tilt ball_x ball_y ball_vx ball_vy], "
                     "got %d", m->name, n);
        }
        return -1;
    }
    return check_finite(m, s, n, TOY_LIMIT, err, errlen);
}

static void rptz_heuristic(const mcts_Model *m, const double *s, double *a) {
    (void)m;
    a[0] = clampd(0.65 * s[2], -0.25, 0.25);
    a[1] = clampd(0.65 * s[3], -0.25, 0.25);
}

MODEL_ROLLOUT(rptz_rollout, rptz_step, 0)

static const mcts_Model rptz_track = {
    "ptz-track",
    "pan/tilt camera centring a ball in the image; rates in [-0.25,0.25] (reference)",
    0,
    2,
    {"pan", "tilt", "ball_x", "ball_y", "ball_vx", "ball_vy"},
    {-0.25, -0.25},
    {0.25, 0.25},
    rptz_step,
    rptz_valid,
    rptz_heuristic,
    15,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    rptz_rollout,
};

/* toy-unicycle (reference): state [x y yaw gx gy], action [v w] in
** [-1,1] x [-1.5,1.5], dt 0.15: yaw' = wrap(yaw + w dt), x' = x + v cos(yaw') dt,
** y' likewise; reward -(dist + 0.05 (v^2 + w^2)); terminal when dist < 0.1. */
static double wrap_angle(double a) {
    const double pi = 3.141592653589793238462643383279502884;
    if (!isfinite(a)) {
        return a;
    }
    while (a > pi) {
        a -= 2.0 * pi;
    }
    while (a < -pi) {
        a += 2.0 * pi;
    }
    return a;
}

static LISPBT_INLINE int runi_step(const mcts_Model *m, const double *s, const double *a,
                                   double *next, double *reward) {
    const double dt = 0.15;
    double v = clampd(a[0], -1.0, 1.0), w = clampd(a[1], -1.5, 1.5);
    double yaw2 = wrap_angle(s[2] + w * dt);
    double x2 = s[0] + v * cos(yaw2) * dt, y2 = s[1] + v * sin(yaw2) * dt;
    double dx = s[3] - x2, dy = s[4] - y2, dist = sqrt(dx * dx + dy * dy);
    (void)m;
    next[0] = x2;
    next[1] = y2;
    next[2] = yaw2;
    next[3] = s[3];
    next[4] = s[4];
    *reward = -(dist + 0.05 * (v * v + w * w));
    return dist < 0.10;
}

static int runi_valid(const mcts_Model *m, const double *s, int n, char *err, size_t errlen) {
    return check_finite(m, s, n, TOY_LIMIT, err, errlen);
}

static void runi_heuristic(const mcts_Model *m, const double *s, double *a) {
    double heading = atan2(s[4] - s[1], s[3] - s[0]);
    (void)m;
    a[0] = 0.8;
    a[1] = clampd(2.0 * wrap_angle(heading - s[2]), -1.5, 1.5);
}

MODEL_ROLLOUT(runi_rollout, runi_step, 5)

static const mcts_Model runi = {
    "toy-unicycle",
    "unicycle [x y yaw gx gy] driving to the goal (gx, gy); [v w] in [-1,1]x[-1.5,1.5] (reference)",
    5,
    2,
    {"x", "y", "yaw", "gx", "gy"},
    {-1.0, -1.5},
    {1.0, 1.5},
    runi_step,
    runi_valid,
    runi_heuristic,
    20,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    runi_rollout,
};

static const mcts_Model *const plan_models[] = {&rtoy_1d, &rptz_track, &runi};

#define NPLAN ((int)(sizeof plan_models / sizeof plan_models[0]))

const mcts_Model *plan_builtin_find(const char *name) {
    int i;
    for (i = 0; name != NULL && i < NPLAN; i++) {
        if (strcmp(plan_models[i]->name, name) == 0) {
            return plan_models[i];
        }
    }
    return NULL;
}

const mcts_Model *plan_builtin_at(int i) {
    return (i >= 0 && i < NPLAN) ? plan_models[i] : NULL;
}
