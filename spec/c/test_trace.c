/*
** test_trace.c -- C tests for csrc/bt/bt_trace.c.
** See LICENSE for copyright.
**
** Covers: packing of every kind's fields into 32-byte records and back
** (extremes included, fields outside a kind's set dropped), exact capacity
** and wraparound with a power-of-two slot array, seq across wrap and clear, no
** allocation on push, allocation-failure cleanup, the exact SPEC §8 dump
** format (every optional field and value tag), message truncation, lost
** messages, escaping, and the Chrome JSON export (valid JSON by
** spec/c/ctest_json.h, properly nested B/E per thread even when the ring cut
** spans in half), and runs of leaves (one record for many events) read
** back exactly, against a model, in rings of every shape.
*/
#include "conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "sbuf.h"
#include "bt_trace.h"

#include "ctest.h"
#include "ctest_json.h"

/* Compare, printing both texts on mismatch. */
static int same(const char *got, const char *want) {
    if (strcmp(got ? got : "", want) == 0) {
        return 1;
    }
    printf("--- got:\n%s--- want:\n%s---\n", got ? got : "(null)", want);
    return 0;
}

/* Check that B/E events nest per tid: one event per line, as emitted. */
static int chrome_nested(const char *s, int *nb, int *ne) {
    int depth[8] = {0};
    const char *line = s;
    *nb = *ne = 0;
    while ((line = strstr(line, "\n{")) != NULL) {
        const char *end = strchr(line + 1, '\n');
        const char *ph = strstr(line, "\"ph\":\"");
        const char *tid = strstr(line, "\"tid\":");
        int t;
        line++;
        if (ph == NULL || tid == NULL || (end && (ph > end || tid > end))) {
            return 0;
        }
        t = atoi(tid + 6);
        if (t < 0 || t > 7) {
            return 0;
        }
        if (ph[6] == 'B') {
            depth[t]++;
            (*nb)++;
        } else if (ph[6] == 'E') {
            (*ne)++;
            if (--depth[t] < 0) {
                return 0;
            }
        }
    }
    for (int t = 0; t < 8; t++) {
        if (depth[t] != 0) {
            return 0;
        }
    }
    return 1;
}

/* ---- name callbacks ---- */

static const char *key_name(void *ud, int32_t key) {
    (void)ud;
    switch (key) {
        case 0: return "battery";
        case 1: return "goal x";
        default: return NULL;
    }
}

static const char *node_name(void *ud, int32_t node) {
    static const char *const names[] = {"sel", "seq", "cond \"battery-ok\"", "act approach"};
    (void)ud;
    return node >= 0 && node < 4 ? names[node] : NULL;
}

static const trace_Names NAMES = {NULL, key_name, node_name};

/* ---- tests ---- */

static void test_init(void) {
    mem_Heap M;
    trace_Ring R;
    mem_init(&M);
    CHECK(trace_init(&R, &M, 0) == -1);
    CHECK(trace_init(&R, &M, -3) == -1);
    CHECK(trace_init(&R, &M, TRACE_MAX_CAPACITY + 1) == -1);
    M.fail_after = 1;
    CHECK(trace_init(&R, &M, 100) == -1 && M.bytes == 0);
    M.fail_after = 2;
    CHECK(trace_init(&R, &M, 100) == -1 && M.bytes == 0);
    M.fail_after = 0;
    CHECK(trace_init(&R, &M, 100) == 0);
    CHECK(R.cap == 100 && R.nmsgs == 16 && trace_count(&R) == 0);
    CHECK(sizeof(trace_Event) == 64);
    trace_free(&R);
    trace_free(&R);
    CHECK(M.bytes == 0 && M.nalloc == M.nfree);
    CHECK(trace_init(&R, &M, 4096) == 0 && R.nmsgs == 256);
    trace_free(&R);
    CHECK(M.bytes == 0);
    CHECK(strcmp(trace_kind_name(TRACE_SCHED_SUBMIT), "scheduler_submit") == 0);
    CHECK(strcmp(trace_kind_name(TRACE_ERROR), "error") == 0);
    CHECK(strcmp(trace_kind_name(99), "unknown") == 0);
    CHECK(strcmp(trace_status_name(TRACE_ST_RUNNING), "running") == 0);
    CHECK(strcmp(trace_job_status_name(TRACE_JOB_CANCELLED), "cancelled") == 0);
}

static void test_wrap(void) {
    mem_Heap M;
    trace_Ring R;
    uint64_t nalloc;
    int i, ok = 1;
    mem_init(&M);
    CHECK(trace_init(&R, &M, 5) == 0);
    nalloc = M.nalloc;
    for (i = 0; i < 12; i++) {
        trace_Event e = trace_event(TRACE_NODE_ENTER, i, i, 1000 + i);
        trace_push(&R, &e);
    }
    CHECK(trace_count(&R) == 5);
    for (i = 0; i < 5; i++) {
        const trace_Event *e = trace_get(&R, i, &(trace_Event){0});
        ok &= e != NULL && e->seq == (uint64_t)(8 + i) && e->tick == 7 + i;
    }
    CHECK(ok);
    CHECK(trace_get(&R, 5, &(trace_Event){0}) == NULL && trace_get(&R, -1, &(trace_Event){0}) == NULL);
    trace_clear(&R);
    CHECK(trace_count(&R) == 0 && trace_get(&R, 0, &(trace_Event){0}) == NULL);
    trace_node(&R, TRACE_TICK_BEGIN, 1, -1, 5, TRACE_ST_NONE, -1);
    CHECK(trace_count(&R) == 1 && trace_get(&R, 0, &(trace_Event){0})->seq == 13);
    /* a million pushes of every flavour allocate nothing */
    for (i = 0; i < 1000000; i++) {
        trace_node(&R, TRACE_NODE_EXIT, i, 3, i, TRACE_ST_SUCCESS, 10);
        if (i % 1000 == 0) {
            trace_Event w = trace_event(TRACE_WARNING, i, -1, i);
            trace_push_msg(&R, &w, "tick budget overrun");
        }
    }
    CHECK(M.nalloc == nalloc);
    CHECK(trace_get(&R, 4, &(trace_Event){0})->seq == R.seq - 1);
    trace_free(&R);
    CHECK(M.bytes == 0);
}

static void test_dump(void) {
    mem_Heap M;
    trace_Ring R;
    trace_Event e;
    sbuf b;
    mem_init(&M);
    sbuf_init(&b);
    CHECK(trace_init(&R, &M, 64) == 0);
    trace_node(&R, TRACE_TICK_BEGIN, 1, -1, 100, TRACE_ST_NONE, -1);
    trace_node(&R, TRACE_NODE_ENTER, 1, 2, 110, TRACE_ST_NONE, -1);
    {
        trace_Event q = trace_event(TRACE_BB_READ, 1, 2, 111);
        q.key = 0;
        q.vtag = TRACE_V_FLOAT;
        q.v.f = 0.9;
        trace_push(&R, &q);
    }
    {
        trace_Event q = trace_event(TRACE_NODE_EXIT, 1, 2, 120);
        q.status = TRACE_ST_SUCCESS;
        q.duration_ns = 10;
        trace_push(&R, &q);
    }
    {
        trace_Event q = trace_event(TRACE_SCHED_SUBMIT, 1, 3, 130);
        q.job = 7;
        q.job_status = TRACE_JOB_QUEUED;
        trace_push(&R, &q);
    }
    e = trace_event(TRACE_BB_WRITE, 1, 3, 131);
    e.key = 1;
    e.vtag = TRACE_V_STR;
    trace_push_msg(&R, &e, "a \"b\"\nc");
    e = trace_event(TRACE_BB_WRITE, 1, 3, 132);
    e.key = 5;
    e.vtag = TRACE_V_TEXT;
    trace_push_msg(&R, &e, "#<closure>");
    e.vtag = TRACE_V_INT;
    e.v.i = -42;
    trace_push(&R, &e);
    e.vtag = TRACE_V_BOOL;
    e.v.i = 1;
    e.key = 0;
    trace_push(&R, &e);
    e.vtag = TRACE_V_BOOL;
    e.v.i = 0;
    trace_push(&R, &e);
    e.vtag = TRACE_V_NIL;
    trace_push(&R, &e);
    e.vtag = TRACE_V_FLOAT;
    e.v.f = 2.0;
    trace_push(&R, &e);
    e.v.f = 1e20;
    trace_push(&R, &e);
    e = trace_event(TRACE_WARNING, 1, -1, 140);
    trace_push_msg(&R, &e, "tick budget overrun: 25000000 ns > 20 ms\nline2 \\ x");
    e = trace_event(TRACE_ERROR, 1, 3, 141);
    e.status = TRACE_ST_FAILURE;
    trace_push_msg(&R, &e, NULL);
    {
        trace_Event q = trace_event(TRACE_TICK_END, 1, -1, 150);
        q.status = TRACE_ST_RUNNING;
        q.duration_ns = 50;
        trace_push(&R, &q);
    }
    trace_dump(&R, -1, &NAMES, &b);
    CHECK(same(b.p, "1 kind=tick_begin tick=1 node=-1 ts_ns=100\n"
                    "2 kind=node_enter tick=1 node=2 ts_ns=110\n"
                    "3 kind=bb_read tick=1 node=2 ts_ns=111 key=battery value=0.9\n"
                    "4 kind=node_exit tick=1 node=2 ts_ns=120 status=success duration_ns=10\n"
                    "5 kind=scheduler_submit tick=1 node=3 ts_ns=130 job=7 job_status=queued\n"
                    "6 kind=bb_write tick=1 node=3 ts_ns=131 key=goal x value=\"a \\\"b\\\"\\nc\"\n"
                    "7 kind=bb_write tick=1 node=3 ts_ns=132 key=5 value=#<closure>\n"
                    "8 kind=bb_write tick=1 node=3 ts_ns=132 key=5 value=-42\n"
                    "9 kind=bb_write tick=1 node=3 ts_ns=132 key=battery value=true\n"
                    "10 kind=bb_write tick=1 node=3 ts_ns=132 key=battery value=false\n"
                    "11 kind=bb_write tick=1 node=3 ts_ns=132 key=battery value=nil\n"
                    "12 kind=bb_write tick=1 node=3 ts_ns=132 key=battery value=2.0\n"
                    "13 kind=bb_write tick=1 node=3 ts_ns=132 key=battery value=1e+20\n"
                    "14 kind=warning tick=1 node=-1 ts_ns=140 msg=tick budget overrun: 25000000 ns "
                    "> 20 ms\\nline2 \\\\ x\n"
                    "15 kind=error tick=1 node=3 ts_ns=141 status=failure msg=\n"
                    "16 kind=tick_end tick=1 node=-1 ts_ns=150 status=running duration_ns=50\n"));
    sbuf_free(&b);
    /* newest n, oldest first; no names -> key ids */
    trace_dump(&R, 2, NULL, &b);
    CHECK(same(b.p, "15 kind=error tick=1 node=3 ts_ns=141 status=failure msg=\n"
                    "16 kind=tick_end tick=1 node=-1 ts_ns=150 status=running duration_ns=50\n"));
    sbuf_free(&b);
    trace_dump(&R, 0, NULL, &b);
    CHECK(b.len == 0);
    trace_dump(&R, 3, NULL, &b);
    CHECK(strncmp(b.p, "14 kind=warning", 15) == 0);
    sbuf_free(&b);
    e = trace_event(TRACE_BB_READ, 2, 1, 1);
    e.key = 0;
    trace_push(&R, &e);
    trace_dump(&R, 1, NULL, &b);
    CHECK(same(b.p, "17 kind=bb_read tick=2 node=1 ts_ns=1 key=0\n"));
    sbuf_free(&b);
    trace_free(&R);
}

static void test_messages(void) {
    mem_Heap M;
    trace_Ring R;
    trace_Event e;
    sbuf b;
    char big[400];
    const char *t;
    int i;
    mem_init(&M);
    sbuf_init(&b);
    CHECK(trace_init(&R, &M, 64) == 0 && R.nmsgs == 16);
    /* truncation */
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    e = trace_event(TRACE_ERROR, 0, -1, 0);
    trace_push_msg(&R, &e, big);
    t = trace_msg_text(&R, trace_get(&R, 0, &(trace_Event){0}));
    CHECK(t && strlen(t) == TRACE_MSG_LEN - 1);
    CHECK(t && strcmp(t + strlen(t) - 3, "...") == 0 && t[strlen(t) - 4] == 'x');
    /* exactly fitting text is kept whole */
    big[TRACE_MSG_LEN - 1] = '\0';
    trace_push_msg(&R, &e, big);
    t = trace_msg_text(&R, trace_get(&R, 1, &(trace_Event){0}));
    CHECK(t && strlen(t) == TRACE_MSG_LEN - 1 && t[strlen(t) - 1] == 'x');
    /* UTF-8: 2-byte sequences never split */
    {
        char u[300];
        size_t k;
        for (k = 0; k + 2 < sizeof u; k += 2) {
            u[k] = (char)0xC3;
            u[k + 1] = (char)0xA9; /* é */
        }
        u[k] = '\0';
        trace_push_msg(&R, &e, u);
        t = trace_msg_text(&R, trace_get(&R, 2, &(trace_Event){0}));
        k = strlen(t) - 3;
        CHECK(strcmp(t + k, "...") == 0 && k % 2 == 0 && (unsigned char)t[k - 1] == 0xA9);
    }
    /* lost messages: 16 slots; 20 more messages overwrite the first ones */
    trace_clear(&R);
    for (i = 0; i < 20; i++) {
        char m[32];
        snprintf(m, sizeof m, "m%d", i);
        e = trace_event(TRACE_WARNING, i, -1, i);
        trace_push_msg(&R, &e, m);
    }
    CHECK(trace_count(&R) == 20);
    CHECK(strcmp(trace_msg_text(&R, trace_get(&R, 0, &(trace_Event){0})), "<lost>") == 0);
    CHECK(strcmp(trace_msg_text(&R, trace_get(&R, 3, &(trace_Event){0})), "<lost>") == 0);
    CHECK(strcmp(trace_msg_text(&R, trace_get(&R, 4, &(trace_Event){0})), "m4") == 0);
    CHECK(strcmp(trace_msg_text(&R, trace_get(&R, 19, &(trace_Event){0})), "m19") == 0);
    trace_dump(&R, 17, NULL, &b);
    CHECK(strstr(b.p, "msg=m2\n") == NULL && strstr(b.p, "msg=<lost>\n") != NULL);
    CHECK(strstr(b.p, "kind=warning tick=3 node=-1 ts_ns=3 msg=<lost>\n") != NULL);
    CHECK(strstr(b.p, "kind=warning tick=4 node=-1 ts_ns=4 msg=m4\n") != NULL);
    sbuf_free(&b);
    /* a lost string value */
    trace_clear(&R);
    e = trace_event(TRACE_BB_WRITE, 0, 0, 0);
    e.vtag = TRACE_V_STR;
    e.key = 9;
    trace_push_msg(&R, &e, "hello");
    for (i = 0; i < 16; i++) {
        trace_Event w = trace_event(TRACE_WARNING, 0, -1, 0);
        trace_push_msg(&R, &w, "w");
    }
    trace_dump(&R, -1, NULL, &b);
    CHECK(strncmp(b.p, "24 kind=bb_write tick=0 node=0 ts_ns=0 key=9 value=<lost>\n", 58) ==
          0); /* seq continues after 23 events and a clear */
    sbuf_free(&b);
    /* control bytes */
    e = trace_event(TRACE_ERROR, 0, -1, 0);
    trace_push_msg(&R, &e, "a\rb\x01\tc");
    trace_dump(&R, 1, NULL, &b);
    CHECK(strstr(b.p, " msg=a\\rb\\x01\tc\n") != NULL);
    sbuf_free(&b);
    trace_free(&R);
}

static void emit_tick(trace_Ring *R, int64_t tick, int64_t *ts) {
    trace_node(R, TRACE_TICK_BEGIN, tick, -1, (*ts)++, TRACE_ST_NONE, -1);
    trace_node(R, TRACE_NODE_ENTER, tick, 0, (*ts)++, TRACE_ST_NONE, -1);
    trace_node(R, TRACE_NODE_ENTER, tick, 1, (*ts)++, TRACE_ST_NONE, -1);
    trace_node(R, TRACE_NODE_ENTER, tick, 2, (*ts)++, TRACE_ST_NONE, -1);
    {
        trace_Event q = trace_event(TRACE_NODE_EXIT, tick, 2, (*ts)++);
        q.status = TRACE_ST_SUCCESS;
        q.duration_ns = 1;
        trace_push(R, &q);
    }
    trace_node(R, TRACE_NODE_ENTER, tick, 3, (*ts)++, TRACE_ST_NONE, -1);
    {
        trace_Event q = trace_event(TRACE_SCHED_SUBMIT, tick, 3, (*ts)++);
        q.job = (uint64_t)tick + 1;
        trace_push(R, &q);
    }
    {
        trace_Event q = trace_event(TRACE_BB_WRITE, tick, 3, (*ts)++);
        q.key = 1;
        q.vtag = TRACE_V_FLOAT;
        q.v.f = 0.5;
        trace_push(R, &q);
    }
    {
        trace_Event q = trace_event(TRACE_NODE_EXIT, tick, 3, (*ts)++);
        q.status = TRACE_ST_RUNNING;
        trace_push(R, &q);
    }
    {
        trace_Event q = trace_event(TRACE_NODE_EXIT, tick, 1, (*ts)++);
        q.status = TRACE_ST_RUNNING;
        trace_push(R, &q);
    }
    {
        trace_Event q = trace_event(TRACE_NODE_EXIT, tick, 0, (*ts)++);
        q.status = TRACE_ST_RUNNING;
        trace_push(R, &q);
    }
    {
        trace_Event q = trace_event(TRACE_TICK_END, tick, -1, (*ts)++);
        q.status = TRACE_ST_RUNNING;
        q.duration_ns = 11;
        trace_push(R, &q);
    }
}

static void test_chrome(void) {
    mem_Heap M;
    trace_Ring R;
    trace_Event e;
    sbuf b;
    int64_t ts = 1234567891;
    int nb, ne, cap;
    mem_init(&M);
    sbuf_init(&b);
    CHECK(trace_init(&R, &M, 64) == 0);
    /* empty ring */
    CHECK(trace_chrome_json(&R, &NAMES, &b) == 0);
    CHECK(json_valid(b.p) && chrome_nested(b.p, &nb, &ne) && nb == 0);
    sbuf_free(&b);
    emit_tick(&R, 0, &ts);
    e = trace_event(TRACE_ERROR, 0, 3, ts++);
    trace_push_msg(&R, &e, "boom \"quoted\"\n\x01");
    CHECK(trace_chrome_json(&R, &NAMES, &b) == 0);
    CHECK(json_valid(b.p));
    CHECK(chrome_nested(b.p, &nb, &ne) && nb == 5 && ne == 5);
    CHECK(strncmp(b.p, "{\"traceEvents\":[", 16) == 0);
    CHECK(strstr(b.p, "],\"displayTimeUnit\":\"ns\"}\n") != NULL);
    CHECK(strstr(b.p, "\"name\":\"cond \\\"battery-ok\\\"\"") != NULL);
    CHECK(strstr(b.p, "\"ts\":1234567.891,") != NULL);
    CHECK(strstr(b.p, "\"name\":\"tick 0\",\"cat\":\"tick\",\"ph\":\"B\"") != NULL);
    CHECK(strstr(b.p, "\"ph\":\"i\",\"ts\":1234567.897,\"pid\":1,\"tid\":3,\"s\":\"t\"") != NULL);
    CHECK(strstr(b.p, "\"key\":\"goal x\",\"value\":0.5") != NULL);
    CHECK(strstr(b.p, "\"msg\":\"boom \\\"quoted\\\"\\n\\u0001\"") != NULL);
    sbuf_free(&b);
    /* a ring that cut spans on both ends, for several capacities */
    for (cap = 1; cap <= 40; cap++) {
        trace_Ring r2;
        int64_t t2 = 0, k;
        int ok;
        CHECK(trace_init(&r2, &M, cap) == 0);
        for (k = 0; k < 3; k++) {
            emit_tick(&r2, k, &t2);
        }
        trace_node(&r2, TRACE_TICK_BEGIN, 3, -1, t2++, TRACE_ST_NONE, -1);
        trace_node(&r2, TRACE_NODE_ENTER, 3, 0, t2++, TRACE_ST_NONE, -1);
        /* an exit with no enter at all, out of order */
        trace_node(&r2, TRACE_NODE_EXIT, 3, 2, t2++, TRACE_ST_NONE, -1);
        trace_node(&r2, TRACE_NODE_ENTER, 3, 1, t2++, TRACE_ST_NONE, -1);
        ok = trace_chrome_json(&r2, NULL, &b) == 0 && json_valid(b.p) &&
             chrome_nested(b.p, &nb, &ne);
        if (!ok) {
            printf("cap %d:\n%s\n", cap, b.p);
        }
        CHECK(ok);
        sbuf_free(&b);
        trace_free(&r2);
    }
    /* out-of-order exits (halt of an outer node first) still nest */
    trace_clear(&R);
    trace_node(&R, TRACE_TICK_BEGIN, 9, -1, 1, TRACE_ST_NONE, -1);
    trace_node(&R, TRACE_NODE_ENTER, 9, 0, 2, TRACE_ST_NONE, -1);
    trace_node(&R, TRACE_NODE_ENTER, 9, 1, 3, TRACE_ST_NONE, -1);
    trace_node(&R, TRACE_NODE_EXIT, 9, 0, 4, TRACE_ST_NONE, -1);
    trace_node(&R, TRACE_NODE_EXIT, 9, 1, 5, TRACE_ST_NONE, -1);
    trace_node(&R, TRACE_TICK_END, 9, -1, 6, TRACE_ST_NONE, -1);
    CHECK(trace_chrome_json(&R, &NAMES, &b) == 0 && json_valid(b.p) &&
          chrome_nested(b.p, &nb, &ne) && nb == 3 && ne == 3);
    CHECK(strstr(b.p, "\"truncated\":true") != NULL);
    sbuf_free(&b);
    /* scratch allocation failure reports -1 and appends nothing */
    M.fail_after = 1;
    CHECK(trace_chrome_json(&R, &NAMES, &b) == -1 && b.len == 0);
    M.fail_after = 2;
    CHECK(trace_chrome_json(&R, &NAMES, &b) == -1 && b.len == 0);
    M.fail_after = 0;
    trace_free(&R);
    CHECK(trace_chrome_json(&R, &NAMES, &b) == 0 && json_valid(b.p));
    sbuf_free(&b);
    CHECK(M.bytes == 0);
}

/* Every kind's fields survive the 32-byte record; others are dropped. */
static void test_pack(void) {
    mem_Heap M;
    trace_Ring R;
    trace_Event e, g;
    const trace_Event *p;
    mem_init(&M);
    CHECK(trace_init(&R, &M, 3) == 0); /* 4 slots, 3 kept */
    CHECK(R.mask == 3);
    trace_node(&R, TRACE_NODE_EXIT, INT64_MAX, TRACE_MAX_NODE, INT64_MIN, TRACE_ST_RUNNING,
               INT64_MAX);
    p = trace_get(&R, 0, &g);
    CHECK(p == &g && g.seq == 1 && g.kind == TRACE_NODE_EXIT && g.tick == INT64_MAX);
    CHECK(g.node == TRACE_MAX_NODE && g.ts_ns == INT64_MIN && g.status == TRACE_ST_RUNNING);
    CHECK(g.duration_ns == INT64_MAX && g.job == 0 && g.key == -1 && g.msg == 0);
    CHECK(g.vtag == TRACE_V_NONE && g.job_status == 0);
    /* scheduler kinds keep job and job_status, drop status and duration */
    e = trace_event(TRACE_SCHED_FINISH, 5, -1, 7);
    e.job = UINT64_MAX;
    e.job_status = TRACE_JOB_CANCELLED;
    e.status = TRACE_ST_FAILURE;
    e.duration_ns = 99;
    trace_push(&R, &e);
    trace_get(&R, 1, &g);
    CHECK(g.kind == TRACE_SCHED_FINISH && g.node == -1 && g.job == UINT64_MAX);
    CHECK(g.job_status == TRACE_JOB_CANCELLED && g.status == TRACE_ST_NONE && g.duration_ns == -1);
    /* bb kinds keep key and value; a float's bits and a text value's id */
    e = trace_event(TRACE_BB_READ, 6, 0, 8);
    e.key = 2147483646;
    e.vtag = TRACE_V_FLOAT;
    e.v.f = -0.1;
    e.duration_ns = 5;
    trace_push(&R, &e);
    trace_get(&R, 2, &g);
    CHECK(g.key == 2147483646 && g.vtag == TRACE_V_FLOAT && g.v.f == -0.1 && g.duration_ns == -1);
    e.vtag = TRACE_V_STR;
    trace_push_msg(&R, &e, "text");
    CHECK(trace_count(&R) == 3 && trace_get(&R, 0, &g)->kind == TRACE_SCHED_FINISH);
    trace_get(&R, 2, &g);
    CHECK(g.seq == 4 && g.vtag == TRACE_V_STR && strcmp(trace_msg_text(&R, &g), "text") == 0);
    /* other kinds keep status and msg; enters and begins have no duration */
    e = trace_event(TRACE_ERROR, 9, 3, 10);
    e.status = TRACE_ST_FAILURE;
    e.key = 4;
    e.job = 8;
    trace_push_msg(&R, &e, "boom");
    trace_get(&R, 2, &g);
    CHECK(g.kind == TRACE_ERROR && g.status == TRACE_ST_FAILURE && g.key == -1 && g.job == 0);
    CHECK(strcmp(trace_msg_text(&R, &g), "boom") == 0);
    trace_node(&R, TRACE_TICK_BEGIN, 1, -1, 2, TRACE_ST_NONE, 123);
    trace_get(&R, 2, &g);
    CHECK(g.kind == TRACE_TICK_BEGIN && g.duration_ns == -1 && g.msg == 0 && g.node == -1);
    trace_free(&R);
    CHECK(M.bytes == 0);
}

/* ---- runs against a model ----
** A model keeps every event ever pushed, by seq.  Leaves are ticked as the
** BT layer does at level counters (see runleaf in bt_exec.c): a run counts
** its events first and is written when it ends; a leaf pushing events ends
** it through trace_fill_run.  After every step, every event the ring holds
** must decode to the model's. */

#define NMODEL 200000
static trace_Event model[NMODEL];
static uint64_t rngstate = 88172645463325252ull;

static unsigned rnd(unsigned n) {
    rngstate ^= rngstate << 13;
    rngstate ^= rngstate >> 7;
    rngstate ^= rngstate << 17;
    return (unsigned)(rngstate % n);
}

static trace_Event nodeev(int kind, int64_t tick, int32_t node, int status) {
    trace_Event e = trace_event(kind, tick, node, 1000 * tick);
    e.status = (uint8_t)status;
    return e;
}

/* Tick 'n' leaves from node 'node0' like runleaf: the first n - 1 return
** success; leaf i pushes pushes[i] bb_write events during its call. */
static void leaves(trace_Ring *R, int64_t tick, int32_t node0, int n, int last, const int *pushes) {
    uint64_t first = R->seq;
    int32_t rn0 = node0;
    int i, j, k = 0, st = TRACE_ST_SUCCESS;
    for (i = 0; i < n; i++) {
        int32_t c = node0 + i;
        uint64_t enter = first + 2 * (uint64_t)k;
        st = i == n - 1 ? last : TRACE_ST_SUCCESS;
        if (k == 0) {
            rn0 = c;
        }
        R->seq = enter + 1;
        model[enter] = nodeev(TRACE_NODE_ENTER, tick, c, TRACE_ST_NONE);
        for (j = 0; j < pushes[i]; j++) {
            trace_Event e = trace_event(TRACE_BB_WRITE, tick, c, 1000 * tick + 1);
            e.key = j;
            e.vtag = TRACE_V_INT;
            e.v.i = (int64_t)R->seq;
            model[R->seq] = e;
            trace_push(R, &e);
        }
        if (R->seq != enter + 1) {
            trace_fill_run(R, first, tick, rn0, k, 1000 * tick, TRACE_ST_SUCCESS);
            model[R->seq] = nodeev(TRACE_NODE_EXIT, tick, c, st);
            trace_node(R, TRACE_NODE_EXIT, tick, c, 1000 * tick, st, -1);
            k = 0;
            first = R->seq;
            continue;
        }
        model[enter + 1] = nodeev(TRACE_NODE_EXIT, tick, c, st);
        if (++k == TRACE_RUN_MAX) {
            R->seq = first + 2 * (uint64_t)k;
            trace_run(R, first, tick, rn0, k, 1000 * tick, TRACE_ST_SUCCESS, st);
            k = 0;
            first = R->seq;
        }
    }
    if (k > 0) {
        R->seq = first + 2 * (uint64_t)k;
        trace_run(R, first, tick, rn0, k, 1000 * tick, TRACE_ST_SUCCESS, st);
    }
}

/* Whether the events held are the model's newest ones since 'seq0'. */
static int matches(const trace_Ring *R, uint64_t seq0) {
    uint64_t want = R->seq - seq0 < R->cap ? R->seq - seq0 : R->cap;
    int i, n = trace_count(R);
    if ((uint64_t)n != want) {
        printf("count %d, want %llu\n", n, (unsigned long long)want);
        return 0;
    }
    for (i = 0; i < n; i++) {
        trace_Event g;
        const trace_Event *m = &model[R->seq - (uint64_t)n + (uint64_t)i];
        trace_get(R, i, &g);
        if (g.seq != R->seq - (uint64_t)n + (uint64_t)i || g.kind != m->kind || g.tick != m->tick ||
            g.node != m->node || g.ts_ns != m->ts_ns || g.status != m->status ||
            g.duration_ns != m->duration_ns || g.key != m->key || g.v.i != m->v.i) {
            printf("seq %llu: got %s node %d status %d, want %s node %d status %d\n",
                   (unsigned long long)g.seq, trace_kind_name(g.kind), g.node, g.status,
                   trace_kind_name(m->kind), m->node, m->status);
            return 0;
        }
    }
    return 1;
}

static void test_runs(void) {
    static const int caps[] = {1, 2, 3, 5, 8, 32, 33, 100, 4096};
    mem_Heap M;
    trace_Ring R;
    size_t ci;
    int pushes[3 * TRACE_RUN_MAX];
    mem_init(&M);
    for (ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
        uint64_t seq0 = 1;
        int64_t tick;
        int ok = 1;
        CHECK(trace_init(&R, &M, caps[ci]) == 0);
        for (tick = 1; ok && tick <= 400 && R.seq < NMODEL - 4096; tick++) {
            int n = 1 + (int)rnd(3 * TRACE_RUN_MAX), i;
            for (i = 0; i < n; i++) { /* mostly quiet leaves, some pushing, a few past the ring */
                unsigned r = rnd(100);
                pushes[i] = r < 85 ? 0 : r < 98 ? 1 + (int)rnd(3) : caps[ci] + (int)rnd(3);
            }
            model[R.seq] = nodeev(TRACE_TICK_BEGIN, tick, -1, TRACE_ST_NONE);
            trace_node(&R, TRACE_TICK_BEGIN, tick, -1, 1000 * tick, TRACE_ST_NONE, -1);
            leaves(&R, tick, 1 + (int32_t)rnd(50), n, 1 + (int)rnd(3), pushes);
            if (rnd(20) == 0) {
                trace_clear(&R);
                seq0 = R.seq;
            }
            ok = matches(&R, seq0);
        }
        CHECK(ok);
        trace_free(&R);
    }
    /* a run reads back in the dump format */
    {
        static const int none[2] = {0, 0};
        sbuf b;
        sbuf_init(&b);
        CHECK(trace_init(&R, &M, 8) == 0);
        leaves(&R, 3, 4, 2, TRACE_ST_FAILURE, none);
        trace_dump(&R, -1, NULL, &b);
        CHECK(same(b.p, "1 kind=node_enter tick=3 node=4 ts_ns=3000\n"
                        "2 kind=node_exit tick=3 node=4 ts_ns=3000 status=success\n"
                        "3 kind=node_enter tick=3 node=5 ts_ns=3000\n"
                        "4 kind=node_exit tick=3 node=5 ts_ns=3000 status=failure\n"));
        sbuf_free(&b);
        trace_free(&R);
    }
    CHECK(M.bytes == 0);
}

int main(void) {
    test_pack();
    test_runs();
    test_init();
    test_wrap();
    test_dump();
    test_messages();
    test_chrome();
    return ctest_done();
}
