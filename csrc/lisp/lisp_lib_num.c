/*
** lisp_lib_num.c -- number builtins: + - * / = < > <= >= and the math library.
** See LICENSE for copyright.
**
** Integers are int64 and overflow raises; mixing an integer with a float
** gives a float.  '/' of two integers is an integer when exact, else a
** float; integer division by zero raises.
*/
#include "conf.h"

#include <math.h>

#include "lisp_code.h"

static lisp_Value fold(lisp_State *S, int op, int argc, lisp_Value *argv, lisp_Value id) {
    lisp_Value acc = id;
    int i;
    for (i = 0; i < argc; i++) {
        /* not lisp_fname(argv): '+' passes argv + 1, whose [-1] is an argument */
        acc = lispE_arith(S, op, acc, argv[i], op == OP_ADD ? "+" : "*");
    }
    return acc;
}

static lisp_Value cfun_num_add(lisp_State *S, int argc, lisp_Value *argv) {
    if (argc == 1) {
        return lispE_arith(S, OP_ADD, lisp_int(0), argv[0], "+");
    }
    return argc == 0 ? lisp_int(0) : fold(S, OP_ADD, argc - 1, argv + 1, argv[0]);
}

static lisp_Value cfun_num_mul(lisp_State *S, int argc, lisp_Value *argv) {
    return fold(S, OP_MUL, argc, argv, lisp_int(1));
}

static lisp_Value cfun_num_sub(lisp_State *S, int argc, lisp_Value *argv) {
    if (argc == 1) {
        return lispE_arith(S, OP_SUB, lisp_int(0), argv[0], "-");
    }
    {
        lisp_Value acc = argv[0];
        int i;
        for (i = 1; i < argc; i++) {
            acc = lispE_arith(S, OP_SUB, acc, argv[i], "-");
        }
        return acc;
    }
}

static lisp_Value cfun_num_div(lisp_State *S, int argc, lisp_Value *argv) {
    /* muesli-bt: '/' always answers a float, so '(/ 4 2)' is 2.0 and a
       zero divisor gives an IEEE infinity or nan rather than an error */
    double acc = argc == 1 ? 1.0 : lisp_checknumber(S, argv, 0);
    int i;
    lisp_checknumber(S, argv, 0);
    for (i = argc == 1 ? 0 : 1; i < argc; i++) {
        acc /= lisp_checknumber(S, argv, i);
    }
    return lisp_float(acc);
}

static lisp_Value compare(lisp_State *S, int op, int argc, lisp_Value *argv) {
    int i;
    for (i = 0; i + 1 < argc; i++) {
        if (!lisp_istrue(lispE_arith(S, op, argv[i], argv[i + 1], lisp_fname(argv)))) {
            return lisp_bool(0);
        }
    }
    if (argc == 1) {
        lisp_checknumber(S, argv, 0);
    }
    return lisp_bool(1);
}

static lisp_Value cfun_num_eq(lisp_State *S, int argc, lisp_Value *argv) {
    return compare(S, OP_NUMEQ, argc, argv);
}
static lisp_Value cfun_num_lt(lisp_State *S, int argc, lisp_Value *argv) {
    return compare(S, OP_LT, argc, argv);
}
static lisp_Value cfun_num_gt(lisp_State *S, int argc, lisp_Value *argv) {
    return compare(S, OP_GT, argc, argv);
}
static lisp_Value cfun_num_le(lisp_State *S, int argc, lisp_Value *argv) {
    return compare(S, OP_LE, argc, argv);
}
static lisp_Value cfun_num_ge(lisp_State *S, int argc, lisp_Value *argv) {
    return compare(S, OP_GE, argc, argv);
}

static lisp_Value cfun_num_abs(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    if (argv[0].tag == LISP_TINT) {
        if (argv[0].u.i == INT64_MIN) {
            lisp_error(S, "abs: integer overflow");
        }
        return lisp_int(argv[0].u.i < 0 ? -argv[0].u.i : argv[0].u.i);
    }
    return lisp_float(fabs(lisp_checknumber(S, argv, 0)));
}

static lisp_Value cfun_num_sqrt(lisp_State *S, int argc, lisp_Value *argv) {
    double x = lisp_checknumber(S, argv, 0);
    (void)argc;
    if (x < 0.0) { /* muesli-bt raises rather than answer nan */
        lisp_argerror(S, argv, 0, "expected a number >= 0");
    }
    return lisp_float(sqrt(x));
}

static lisp_Value cfun_num_log(lisp_State *S, int argc, lisp_Value *argv) {
    double x = lisp_checknumber(S, argv, 0);
    (void)argc;
    if (x <= 0.0) { /* muesli-bt raises rather than answer -inf or nan */
        lisp_argerror(S, argv, 0, "expected a number > 0");
    }
    return lisp_float(log(x));
}

static lisp_Value cfun_num_exp(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    return lisp_float(exp(lisp_checknumber(S, argv, 0)));
}

static lisp_Value minmax(lisp_State *S, int argc, lisp_Value *argv, int op) {
    lisp_Value best = argv[0];
    int i, anyfloat = argv[0].tag == LISP_TFLOAT;
    lisp_checknumber(S, argv, 0);
    for (i = 1; i < argc; i++) {
        lisp_checknumber(S, argv, i);
        anyfloat |= argv[i].tag == LISP_TFLOAT;
        if (lisp_istrue(lispE_arith(S, op, argv[i], best, lisp_fname(argv)))) {
            best = argv[i];
        }
    }
    if (anyfloat && best.tag == LISP_TINT) {
        best = lisp_float((double)best.u.i);
    }
    return best;
}

static lisp_Value cfun_num_min(lisp_State *S, int argc, lisp_Value *argv) {
    return minmax(S, argc, argv, OP_LT);
}

static lisp_Value cfun_num_max(lisp_State *S, int argc, lisp_Value *argv) {
    return minmax(S, argc, argv, OP_GT);
}

static lisp_Value cfun_num_clamp(lisp_State *S, int argc, lisp_Value *argv) {
    lisp_Value x = argv[0];
    (void)argc;
    lisp_checknumber(S, argv, 0);
    if (lisp_istrue(lispE_arith(S, OP_GT, argv[1], argv[2], "clamp"))) {
        lisp_error(S, "clamp: lower bound is greater than upper bound");
    }
    if (lisp_istrue(lispE_arith(S, OP_LT, x, argv[1], "clamp"))) {
        x = argv[1];
    } else if (lisp_istrue(lispE_arith(S, OP_GT, x, argv[2], "clamp"))) {
        x = argv[2];
    }
    return x;
}

/* floor/round of a float give an integer when it fits, else raise */
static lisp_Value toint(lisp_State *S, lisp_Value *argv, double (*f)(double)) {
    double d;
    if (argv[0].tag == LISP_TINT) {
        return argv[0];
    }
    d = f(lisp_checknumber(S, argv, 0));
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
        lisp_argerror(S, argv, 0, "result does not fit an integer");
    }
    return lisp_int((int64_t)d);
}

static lisp_Value cfun_num_floor(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    return toint(S, argv, floor);
}

static lisp_Value cfun_num_round(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    return toint(S, argv, round);
}

static lisp_Value cfun_num_mod(lisp_State *S, int argc, lisp_Value *argv) {
    int64_t a = lisp_checkint(S, argv, 0), b = lisp_checkint(S, argv, 1), r;
    (void)argc;
    if (b == 0) {
        lisp_error(S, "mod: division by zero");
    }
    if (b == -1) {
        return lisp_int(0);
    }
    r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) {
        r += b;
    }
    return lisp_int(r);
}

static lisp_Value cfun_num_numberp(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    return lisp_bool(lisp_isnumber(argv[0]));
}

static lisp_Value cfun_num_intp(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    return lisp_bool(argv[0].tag == LISP_TINT);
}

static lisp_Value cfun_num_floatp(lisp_State *S, int argc, lisp_Value *argv) {
    (void)S;
    (void)argc;
    return lisp_bool(argv[0].tag == LISP_TFLOAT);
}

static lisp_Value cfun_num_zerop(lisp_State *S, int argc, lisp_Value *argv) {
    (void)argc;
    /* muesli-bt: a value that is not a number is not zero */
    if (argv[0].tag != LISP_TINT && argv[0].tag != LISP_TFLOAT) {
        return lisp_bool(0);
    }
    return lisp_bool(lisp_checknumber(S, argv, 0) == 0.0);
}

static lisp_Value cfun_num_atan2(lisp_State *S, int argc, lisp_Value *argv) {
    double y = lisp_checknumber(S, argv, 0), x = lisp_checknumber(S, argv, 1);
    (void)argc;
    return lisp_float(atan2(y, x));
}

const lisp_Reg lisp_lib_num[] = {
    {"+", 0, LISP_VARARG, cfun_num_add, 0, "(+ n ...) -> sum"},
    {"-", 1, LISP_VARARG, cfun_num_sub, 0, "(- n ...) -> difference, or negation"},
    {"*", 0, LISP_VARARG, cfun_num_mul, 0, "(* n ...) -> product"},
    {"/", 1, LISP_VARARG, cfun_num_div, 0, "(/ n ...) -> float quotient"},
    {"=", 2, LISP_VARARG, cfun_num_eq, 0, "(= n ...) -> numeric equality"},
    {"<", 2, LISP_VARARG, cfun_num_lt, 0, "(< n ...) -> strictly increasing"},
    {">", 2, LISP_VARARG, cfun_num_gt, 0, "(> n ...) -> strictly decreasing"},
    {"<=", 2, LISP_VARARG, cfun_num_le, 0, "(<= n ...) -> non-decreasing"},
    {">=", 2, LISP_VARARG, cfun_num_ge, 0, "(>= n ...) -> non-increasing"},
    {"abs", 1, 1, cfun_num_abs, 0, "(abs n) -> absolute value"},
    {"sqrt", 1, 1, cfun_num_sqrt, 0, "(sqrt x) -> float square root"},
    {"log", 1, 1, cfun_num_log, 0, "(log x) -> natural logarithm"},
    {"exp", 1, 1, cfun_num_exp, 0, "(exp x) -> e to the x"},
    {"atan2", 2, 2, cfun_num_atan2, 0, "(atan2 y x) -> angle of (x, y) in radians, [-pi, pi]"},
    {"clamp", 3, 3, cfun_num_clamp, 0, "(clamp x lo hi) -> x limited to [lo, hi]"},
    {"min", 1, LISP_VARARG, cfun_num_min, 0, "(min n ...) -> smallest"},
    {"max", 1, LISP_VARARG, cfun_num_max, 0, "(max n ...) -> largest"},
    {"floor", 1, 1, cfun_num_floor, 0, "(floor x) -> largest integer <= x"},
    {"round", 1, 1, cfun_num_round, 0, "(round x) -> nearest integer, halves away from 0"},
    {"mod", 2, 2, cfun_num_mod, 0, "(mod a b) -> remainder with the sign of b"},
    {"number?", 1, 1, cfun_num_numberp, 0, "(number? x) -> #t for integers and floats"},
    {"int?", 1, 1, cfun_num_intp, 0, "(int? x) -> #t for integers"},
    {"integer?", 1, 1, cfun_num_intp, 0, "(integer? x) -> #t for integers"},
    {"float?", 1, 1, cfun_num_floatp, 0, "(float? x) -> #t for floats"},
    {"zero?", 1, 1, cfun_num_zerop, 0, "(zero? x) -> #t when x is 0 or 0.0; #f for non-numbers"},
    {NULL, 0, 0, NULL, 0, NULL}};
