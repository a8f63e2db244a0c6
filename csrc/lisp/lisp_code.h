/*
** lisp_code.h -- compiled code nodes shared by the compiler (lisp_compile.c)
** and the evaluator (lisp_eval.c).  Private.  See LICENSE for copyright.
**
** A top-level form or lambda body compiles to a tree of lispK_Code nodes,
** each carrying the C function that evaluates it ("closure compilation").
** Names are resolved before execution: a variable is a frame slot
** (LOCAL), a slot of a captured env 'd' links up (ENV), or a global
** symbol's value cell (GLOBAL).
**
** Frames.  A call lays out [callee, arg1..argN, locals...] on the value
** stack; 'base' points at arg1.  A procedure whose body creates closures
** ("heap frame") instead copies its arguments into a lisp_Env allocated per
** call, and all its variables live there.  F->env is the env that depth-0
** ENV references use: the own env for heap frames, the closure's env
** otherwise.
**
** Tail calls.  A call in tail position evaluates callee and arguments,
** moves them over the current frame and returns a value tagged
** LISP_TTAIL; lispE_call loops on it, so tail calls use no C stack.  A
** self tail call (lispE_selftail) writes the arguments over the
** parameters and returns LISP_TTAIL with u.i = -1: the call re-runs the
** body in place.
**
** Specialised nodes.  The compiler picks, by the shape it sees, nodes
** that read their leaf operands (locals, constants) directly: fused
** compare-and-branch ifs (lispE_ifcmp*; the if node's 'op' holds the
** outcome mask of the comparison), fixnum operators on leaves
** (lispE_arith2l/lk/ll), calls of globals (lispE_callg), non-tail calls
** of the procedure's own global (lispE_callself) and loops whose
** whole body is such an if with a self tail call (lispE_ifloop).  Each
** checks its guard (the builtin or procedure the global held at compile
** time) and falls back to the general evaluation of the same node.
*/
#ifndef LISPBT_LISP_CODE_H
#define LISPBT_LISP_CODE_H

#include "lisp_obj.h"

typedef struct lispK_Frame {
    lisp_Value *base;
    lisp_Env *env;
} lispK_Frame;

typedef lisp_Value (*lispK_Eval)(lisp_State *S, const lispK_Code *c, lispK_Frame *F);

struct lispK_Code {
    lispK_Eval ev;
    lispK_Code *link;    /* next node of the same proto (for freeing) */
    lisp_Object *chunk;  /* chunk name (a string), for error positions */
    uint32_t line;
    uint16_t col;
    uint8_t op;          /* arithmetic operator for inlined primitives */
    int32_t n;           /* slot index, or number of children/args */
    int32_t d;           /* env depth */
    lisp_Value k;        /* constant, global symbol, or proto */
    size_t size;         /* allocation size */
    lispK_Code *kid[];
};

#define EVAL(c, F) ((c)->ev(S, (c), (F)))

/* Evaluators (lisp_eval.c) the compiler installs. */
lisp_Value lispE_const(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_local(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_env0(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_env(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_global(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_setlocal(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_setenv(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_setglobal(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_defglobal(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_deflocal(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_defenv(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_if(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_ifcmp(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_ifcmplk(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_ifcmpll(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_begin(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_and(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_or(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_ornil(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_lambda(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_callnode(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_tailcall(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_callg(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_callself(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_callself1(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_arith2(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_arith2l(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_arith2e(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_arith2lk(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_arith2ll(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_selftail(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_ifloop(lisp_State *S, const lispK_Code *c, lispK_Frame *F);
lisp_Value lispE_unary(lisp_State *S, const lispK_Code *c, lispK_Frame *F);

/* Inlined operators (lispK_Code.op). */
enum {
    OP_NONE,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_LT,
    OP_GT,
    OP_LE,
    OP_GE,
    OP_NUMEQ,
    OP_CAR,
    OP_CDR,
    OP_NULLP,
    OP_NOT,
    OP_EQ
};

/* Generic numeric operation on two numbers (int or float); raises on
** non-numbers (naming 'fname') and on integer overflow. */
lisp_Value lispE_arith(lisp_State *S, int op, lisp_Value a, lisp_Value b, const char *fname);

/* Error with an explicit position prefix from node 'c' (NULL: none). */
LISPBT_NORETURN void lispE_errorat(lisp_State *S, const lispK_Code *c, const char *fmt, ...)
    LISPBT_PRINTF(3, 4);

#endif
