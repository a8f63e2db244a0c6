/* embed.c -- lispbt from C: a host, Lisp, a tree with a C leaf, counters. */
#include "host.h" /* first: its conf.h sets the POSIX feature macros */
#include "bt.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int count_to_3(bt_Ctx *c, int64_t ud) { /* a C action leaf */
    int *calls = (int *)(intptr_t)ud;
    (void)c;
    return ++*calls < 3 ? BT_RUNNING : BT_SUCCESS;
}

typedef struct Job { const char *src; int *calls; lisp_Value result; } Job;

static void run(lisp_State *S, void *ud) { /* anything that may raise runs under lisp_pcall */
    Job *j = ud;
    if (j->calls) {
        bt_reg_define(S, host_bt(host_of(S)), BT_KACT, lisp_cintern(S, "count-to-3"), BT_IMPL_C,
                      count_to_3, NULL, (int64_t)(intptr_t)j->calls, 0);
    }
    j->result = lisp_evalstring(S, j->src, strlen(j->src), "embed");
}

int main(void) {
    host_Opts o;
    char err[200];
    int calls = 0, st = 0;
    lisp_Value v;
    bt_TickStats ts;
    host_defaults(&o);
    lispbt_Host *H = host_new(&o, err, sizeof err);
    if (H == NULL) { fprintf(stderr, "host_new: %s\n", err); return 1; }
    lisp_State *S = host_state(H);
    Job sq = {.src = "(define (sq x) (* x x)) (sq 12)"};
    Job tree = {.src = "(define inst (bt.new-instance (bt.compile '(seq (cond always-true) (act count-to-3)))))",
                .calls = &calls};
    if (lisp_pcall(S, run, &sq) != LISP_OK || lisp_pcall(S, run, &tree) != LISP_OK) {
        fprintf(stderr, "lisp: %s\n", lisp_errmsg(S)); host_free(H); return 1;
    }
    printf("(sq 12) = %lld\n", (long long)sq.result.u.i);
    lisp_getglobal(S, "inst", &v); /* the global keeps the instance alive */
    while (st != BT_SUCCESS) st = bt_tick(lisp_udata(v));
    bt_tickstats(lisp_udata(v), &ts);
    printf("ticks=%llu leaf calls=%d status=%s\n", (unsigned long long)ts.count, calls, bt_status_name(st));
    host_free(H); /* closes the host: workers joined, heap freed */
    return sq.result.u.i == 144 && ts.count == 3 && calls == 3 ? 0 : 1;
}
