/*
** test_precord.c -- C tests of planner records (csrc/planner/planner_record.*):
** JSON rendering, the ring, the JSON-lines file sink.
** See LICENSE for copyright.
**
** Plain main(); prints "N passed, M failed" last and exits non-zero on any
** failure.  JSON is checked by spec/c/ctest_json.h (RFC 8259 grammar), so
** the test needs nothing outside this repository.
*/
#include "conf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "planner_mcts.h"
#include "planner_record.h"

#include "ctest.h"
#include "ctest_json.h"

/*
** ---------------------------------------------------------------- tests
*/

/* A record from a real search, with every optional field present. */
static void make_record(mcts_Record *rec, int tick, int with_optional) {
    mem_Heap M;
    mcts_Planner *P;
    mcts_Request r;
    mcts_Result res;
    mem_init(&M);
    P = mcts_new(&M);
    mcts_request_defaults(&r);
    r.state[0] = 0.25;
    r.state_len = 1;
    r.iters_max = 200;
    r.budget_ms = 60000;
    r.seed = 1234567;
    r.tick_index = tick;
    strcpy(r.run_id, "run-1");
    strcpy(r.node_name, "plan");
    if (with_optional) {
        strcpy(r.state_key, "x");
    } else {
        r.top_k = 0;
    }
    mcts_run(P, &r, &res);
    precord_from_result(rec, &r, &res, 1700000000123LL + tick);
    mcts_free(P);
}

static const char *const spec_keys =
    "ts_ms,run_id,tick_index,node_name,budget_ms,time_used_ms,iters,root_visits,"
    "root_children,widen_added,action,confidence,value_est,status,depth_max,"
    "depth_mean,seed,";

static void test_json(void) {
    mcts_Record rec;
    sbuf b;
    ctest_Json j;
    char expect[1024];

    make_record(&rec, 7, 1);
    CHECK(rec.tick_index == 7 && rec.ts_ms == 1700000000130LL);
    CHECK(strcmp(rec.run_id, "run-1") == 0 && strcmp(rec.node_name, "plan") == 0);
    CHECK(rec.iters == 200 && rec.root_visits == 200 && rec.status == MCTS_OK);
    CHECK(rec.action_dim == 1 && rec.top_n == 3 && rec.seed == 1234567);
    CHECK(strcmp(rec.model_service, "toy-1d") == 0 && rec.error[0] == '\0');

    sbuf_init(&b);
    precord_json(&rec, &b);
    CHECK(!b.oom && b.len > 0);
    CHECK(strchr(b.p, '\n') == NULL);
    CHECK(json_object_ok(b.p, b.len, &j));
    snprintf(expect, sizeof expect,
             "%sstate_key,top_k,model_service,schema_version,planner,work_done,action_schema,",
             spec_keys);
    CHECK(strcmp(j.keys, expect) == 0);
    if (strcmp(j.keys, expect) != 0) {
        printf("# keys: %s\n", j.keys);
    }
    CHECK(strstr(b.p, "\"status\":\"ok\"") != NULL);
    CHECK(strstr(b.p, "\"seed\":1234567,") != NULL);
    CHECK(strstr(b.p, "\"tick_index\":7,") != NULL);
    CHECK(strstr(b.p, "\"ts_ms\":1700000000130,") != NULL);
    CHECK(strstr(b.p, "\"state_key\":\"x\"") != NULL);
    CHECK(strstr(b.p, "\"top_k\":[{\"action\":[") != NULL);
    CHECK(strstr(b.p, ",\"visits\":") != NULL && strstr(b.p, ",\"q\":") != NULL);
    printf("# %s\n", b.p);

    /* optional fields are omitted when absent */
    make_record(&rec, 8, 0);
    b.len = 0;
    precord_json(&rec, &b);
    CHECK(json_object_ok(b.p, b.len, &j));
    snprintf(expect, sizeof expect, "%smodel_service,schema_version,planner,work_done,action_schema,",
             spec_keys);
    CHECK(strcmp(j.keys, expect) == 0);
    CHECK(strstr(b.p, "state_key") == NULL && strstr(b.p, "top_k") == NULL);

    /* hostile strings and non-finite numbers still give one valid line */
    strcpy(rec.node_name, "a\"b\\c\nd\te\x01");
    strcpy(rec.run_id, "caf\xc3\xa9");
    rec.value_est = NAN;
    rec.confidence = INFINITY;
    rec.action[0] = -INFINITY;
    rec.status = MCTS_ERROR;
    strcpy(rec.error, "gamma: must be in (0, 1], got 1.5");
    rec.seed = UINT64_MAX;
    b.len = 0;
    precord_json(&rec, &b);
    CHECK(json_ok(b.p));
    CHECK(strchr(b.p, '\n') == NULL);
    CHECK(strstr(b.p, "\"node_name\":\"a\\\"b\\\\c\\nd\\te\\u0001\"") != NULL);
    CHECK(strstr(b.p, "\"value_est\":null") != NULL);
    CHECK(strstr(b.p, "\"status\":\"error\"") != NULL);
    CHECK(strstr(b.p, "\"seed\":-1,") != NULL);
    CHECK(strstr(b.p, "\"error\":\"gamma: must be in (0, 1], got 1.5\"}") != NULL);

    /* an empty action renders as [] */
    rec.action_dim = 0;
    rec.top_n = 0;
    b.len = 0;
    precord_json(&rec, &b);
    CHECK(json_ok(b.p) && strstr(b.p, "\"action\":[],") != NULL);

    /* an error result from mcts_run makes a valid record too */
    {
        mem_Heap M;
        mcts_Planner *P;
        mcts_Request r;
        mcts_Result res;
        mem_init(&M);
        P = mcts_new(&M);
        mcts_request_defaults(&r);
        r.state_len = 3;
        CHECK(mcts_run(P, &r, &res) == MCTS_ERROR);
        precord_from_result(&rec, &r, &res, lispbt_wall_ms());
        b.len = 0;
        precord_json(&rec, &b);
        CHECK(json_ok(b.p));
        CHECK(strstr(b.p, "\"error\":\"state: toy-1d expects 1 value, got 3\"") != NULL);
        mcts_free(P);
    }

    /* the checker itself rejects broken JSON */
    CHECK(!json_ok("{\"a\":1,}"));
    CHECK(!json_ok("{\"a\":01}"));
    CHECK(!json_ok("{\"a\":nan}"));
    CHECK(!json_ok("{\"a\":\"x\ny\"}"));
    CHECK(!json_ok("{\"a\":[1,2}"));
    CHECK(json_ok("{\"a\":[1,-2.5e-3,{\"b\":null}],\"c\":\"\\u00e9\"}"));
    sbuf_free(&b);
}

/* Count newline-terminated lines in [s, s+n), checking each is JSON. */
static int count_json_lines(const char *s, size_t n, int *bad) {
    const char *p = s, *end = s + n, *nl;
    int lines = 0;
    ctest_Json j;
    *bad = 0;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) {
            (*bad)++;   /* unterminated last line */
            break;
        }
        if (!json_object_ok(p, (size_t)(nl - p), &j)) {
            (*bad)++;
        }
        lines++;
        p = nl + 1;
    }
    return lines;
}

static void test_ring(void) {
    mem_Heap M;
    precord_Ring ring;
    mcts_Record rec;
    sbuf b;
    int i, bad;
    mem_init(&M);

    CHECK(precord_ring_init(&ring, &M, 0) == -1);
    precord_ring_free(&ring);
    CHECK(precord_ring_init(&ring, &M, -5) == -1);
    M.fail_after = 1;
    CHECK(precord_ring_init(&ring, &M, 4) == -1);
    precord_push(&ring, &rec);   /* pushing into a failed ring is harmless */
    CHECK(precord_count(&ring) == 0);
    CHECK(M.bytes == 0);

    CHECK(precord_ring_init(&ring, &M, 3) == 0);
    CHECK(precord_count(&ring) == 0 && precord_get(&ring, 0) == NULL);
    make_record(&rec, 0, 1);
    for (i = 0; i < 5; i++) {
        uint64_t nalloc = M.nalloc;
        rec.tick_index = i;
        precord_push(&ring, &rec);
        CHECK(M.nalloc == nalloc);   /* pushing never allocates */
    }
    CHECK(precord_count(&ring) == 3);
    CHECK(ring.total == 5);
    CHECK(precord_get(&ring, 0)->tick_index == 2);
    CHECK(precord_get(&ring, 1)->tick_index == 3);
    CHECK(precord_get(&ring, 2)->tick_index == 4);
    CHECK(precord_get(&ring, 3) == NULL && precord_get(&ring, -1) == NULL);

    sbuf_init(&b);
    CHECK(precord_dump(&ring, 2, &b) == 2);
    CHECK(count_json_lines(b.p, b.len, &bad) == 2 && bad == 0);
    CHECK(strstr(b.p, "\"tick_index\":3,") != NULL);
    CHECK(strstr(b.p, "\"tick_index\":4,") > strstr(b.p, "\"tick_index\":3,"));
    CHECK(strstr(b.p, "\"tick_index\":2,") == NULL);
    b.len = 0;
    CHECK(precord_dump(&ring, 200, &b) == 3);
    CHECK(count_json_lines(b.p, b.len, &bad) == 3 && bad == 0);
    b.len = 0;
    CHECK(precord_dump(&ring, 0, &b) == 0 && b.len == 0);
    CHECK(precord_dump(&ring, -1, &b) == 0 && b.len == 0);

    /* wrap several times; order stays oldest first */
    for (i = 5; i < 1000; i++) {
        rec.tick_index = i;
        precord_push(&ring, &rec);
    }
    CHECK(precord_get(&ring, 0)->tick_index == 997);
    CHECK(precord_get(&ring, 2)->tick_index == 999);
    precord_clear(&ring);
    CHECK(precord_count(&ring) == 0);
    rec.tick_index = 1;
    precord_push(&ring, &rec);
    CHECK(precord_count(&ring) == 1 && precord_get(&ring, 0)->tick_index == 1);
    precord_ring_free(&ring);
    precord_ring_free(&ring);   /* idempotent */
    CHECK(M.bytes == 0);

    /* capacity 1 keeps just the newest */
    CHECK(precord_ring_init(&ring, &M, 1) == 0);
    for (i = 0; i < 3; i++) {
        rec.tick_index = i;
        precord_push(&ring, &rec);
    }
    CHECK(precord_count(&ring) == 1 && precord_get(&ring, 0)->tick_index == 2);
    precord_ring_free(&ring);
    sbuf_free(&b);
    CHECK(M.bytes == 0);
}

/* Read a whole file into a malloc'd buffer; NULL if it does not exist. */
static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    char *buf;
    long len;
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)len + 1);
    if (buf != NULL) {
        *n = fread(buf, 1, (size_t)len, f);
        buf[*n] = '\0';
    }
    fclose(f);
    return buf;
}

static void test_sink(void) {
    precord_Sink S;
    mcts_Record rec;
    char dir[] = "/tmp/lispbt_precord_XXXXXX";
    char path1[256], path2[256], longpath[PRECORD_PATH_MAX + 10];
    char *text;
    size_t n = 0;
    int i, bad;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path1, sizeof path1, "%s/a.jsonl", dir);
    snprintf(path2, sizeof path2, "%s/b.jsonl", dir);
    make_record(&rec, 0, 1);

    precord_sink_init(&S);
    CHECK(strcmp(S.path, PRECORD_DEFAULT_PATH) == 0);
    CHECK(S.enabled == 0);
    CHECK(precord_sink_set_path(&S, path1) == 0);
    /* disabled: a no-op that succeeds and creates nothing */
    CHECK(precord_sink_write(&S, &rec) == 0);
    CHECK(access(path1, F_OK) != 0);
    CHECK(S.written == 0);

    precord_sink_set_enabled(&S, 1);
    for (i = 0; i < 5; i++) {
        rec.tick_index = i;
        CHECK(precord_sink_write(&S, &rec) == 0);
    }
    CHECK(S.written == 5 && S.errors == 0 && precord_sink_last_error(&S)[0] == '\0');
    /* flushed after every line: readable while the sink stays open */
    text = slurp(path1, &n);
    CHECK(text != NULL);
    if (text != NULL) {
        CHECK(count_json_lines(text, n, &bad) == 5 && bad == 0);
        CHECK(strstr(text, "\"tick_index\":4,") != NULL);
        free(text);
    }

    /* a new path takes effect from the next write; the old file keeps its lines */
    CHECK(precord_sink_set_path(&S, path2) == 0);
    CHECK(precord_sink_write(&S, &rec) == 0);
    text = slurp(path2, &n);
    CHECK(text != NULL && count_json_lines(text, n, &bad) == 1 && bad == 0);
    free(text);
    /* appending: going back to path1 adds to it */
    CHECK(precord_sink_set_path(&S, path1) == 0);
    CHECK(precord_sink_write(&S, &rec) == 0);
    text = slurp(path1, &n);
    CHECK(text != NULL && count_json_lines(text, n, &bad) == 6 && bad == 0);
    free(text);

    /* disabling closes; re-enabling reopens in append mode */
    precord_sink_set_enabled(&S, 0);
    CHECK(S.fp == NULL);
    CHECK(precord_sink_write(&S, &rec) == 0);
    precord_sink_set_enabled(&S, 1);
    CHECK(precord_sink_write(&S, &rec) == 0);
    text = slurp(path1, &n);
    CHECK(text != NULL && count_json_lines(text, n, &bad) == 7 && bad == 0);
    free(text);

    /* a bad path: error recorded and counted, nothing raised or printed */
    CHECK(precord_sink_set_path(&S, "/nonexistent/dir/x.jsonl") == 0);
    CHECK(precord_sink_write(&S, &rec) == -1);
    CHECK(S.errors == 1 && S.fp == NULL);
    CHECK(strstr(precord_sink_last_error(&S), "/nonexistent/dir/x.jsonl: open: ") ==
          precord_sink_last_error(&S));
    CHECK(strstr(precord_sink_last_error(&S), "No such file or directory") != NULL);
    printf("# sink error: %s\n", precord_sink_last_error(&S));
    CHECK(precord_sink_write(&S, &rec) == -1);
    CHECK(S.errors == 2);
    /* fixing the path recovers */
    CHECK(precord_sink_set_path(&S, path1) == 0);
    CHECK(precord_sink_write(&S, &rec) == 0);
    CHECK(S.written == 9);

    /* a device that accepts the open but fails the flush */
    if (access("/dev/full", W_OK) == 0) {
        CHECK(precord_sink_set_path(&S, "/dev/full") == 0);
        CHECK(precord_sink_write(&S, &rec) == -1);
        CHECK(S.errors == 3 && S.fp == NULL);
        CHECK(strstr(precord_sink_last_error(&S), "/dev/full: ") != NULL);
        printf("# sink error: %s\n", precord_sink_last_error(&S));
    }

    /* path rules */
    CHECK(precord_sink_set_path(&S, "") == -1);
    memset(longpath, 'x', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    CHECK(precord_sink_set_path(&S, longpath) == -1);
    CHECK(strstr(precord_sink_last_error(&S), "path too long") != NULL);
    CHECK(precord_sink_set_path(&S, NULL) == -1);

    precord_sink_free(&S);
    precord_sink_free(&S);   /* idempotent */
    remove(path1);
    remove(path2);
    rmdir(dir);
}

/* The full pipeline a binding runs: plan, record, ring, sink, dump. */
static void test_pipeline(void) {
    mem_Heap M;
    mcts_Planner *P;
    precord_Ring ring;
    mcts_Request r;
    mcts_Result res;
    mcts_Record rec;
    sbuf b;
    int i, bad;
    mem_init(&M);
    P = mcts_new(&M);
    CHECK(precord_ring_init(&ring, &M, PRECORD_DEFAULT_CAPACITY) == 0);
    for (i = 0; i < 10; i++) {
        mcts_request_defaults(&r);
        strcpy(r.model_service, i & 1 ? "ptz-track" : "toy-1d");
        r.state_len = i & 1 ? 6 : 1;
        r.iters_max = 100;
        r.tick_index = i;
        r.seed = mcts_derive_seed(3, "pipe", i);
        snprintf(r.node_name, sizeof r.node_name, "plan-%d", i);
        mcts_run(P, &r, &res);
        precord_from_result(&rec, &r, &res, lispbt_wall_ms());
        precord_push(&ring, &rec);
    }
    sbuf_init(&b);
    CHECK(precord_dump(&ring, 200, &b) == 10);
    CHECK(count_json_lines(b.p, b.len, &bad) == 10 && bad == 0);
    CHECK(strstr(b.p, "\"action\":[") != NULL);
    sbuf_free(&b);
    precord_ring_free(&ring);
    mcts_free(P);
    CHECK(M.bytes == 0);
}

int main(void) {
    test_json();
    test_ring();
    test_sink();
    test_pipeline();
    return ctest_done();
}
