/*
** test_log.c -- C tests for csrc/base/log.c.
** See LICENSE for copyright.
**
** Covers: the exact SPEC §8 dump format (lines parsed back field by field),
** wraparound keeping the newest records, seq across clear, truncation and
** escaping, level filtering, per-level counters, no allocation per write,
** and 4 writer threads racing a reader (run this binary under
** -fsanitize=thread: it must report nothing).
*/
#include "conf.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "sbuf.h"

#include "ctest.h"

/* One dump line parsed back. */
typedef struct Line {
    unsigned long long seq;
    char level[16];
    long long ts, tick;
    long node;
    char cat[32];
    const char *msg; /* into the dump text, up to the newline */
    size_t msglen;
} Line;

/* Parse the line at '*p' strictly; advance '*p' past it.  1 on success. */
static int parse_line(const char **p, Line *L) {
    int used = 0;
    const char *nl;
    if (sscanf(*p, "%llu level=%15s ts_ns=%lld tick=%lld node=%ld category=%31s msg=%n", &L->seq,
               L->level, &L->ts, &L->tick, &L->node, L->cat, &used) != 6 ||
        used == 0) {
        return 0;
    }
    /* %s must not have eaten across fields: re-render the prefix */
    {
        char want[256];
        snprintf(want, sizeof want,
                 "%llu level=%s ts_ns=%lld tick=%lld node=%ld category=%s msg=", L->seq, L->level,
                 L->ts, L->tick, L->node, L->cat);
        if (strncmp(*p, want, strlen(want)) != 0 || (size_t)used != strlen(want)) {
            return 0;
        }
    }
    L->msg = *p + used;
    nl = strchr(L->msg, '\n');
    if (nl == NULL) {
        return 0;
    }
    L->msglen = (size_t)(nl - L->msg);
    *p = nl + 1;
    return 1;
}

static int msg_is(const Line *L, const char *s) {
    return strlen(s) == L->msglen && strncmp(L->msg, s, L->msglen) == 0;
}

static void test_basic(void) {
    mem_Heap M;
    log_Ring R;
    sbuf b;
    Line L;
    const char *p;
    uint64_t counts[LOG_NLEVELS], nalloc;
    log_Record rec;
    int i, ok;
    mem_init(&M);
    sbuf_init(&b);
    CHECK(log_init(&R, &M, 0) == -1);
    CHECK(log_init(&R, &M, LOG_MAX_CAPACITY + 1) == -1);
    M.fail_after = 1;
    CHECK(log_init(&R, &M, 8) == -1 && M.bytes == 0);
    M.failing = 0;
    CHECK(log_init(&R, &M, 8) == 0 && log_count(&R) == 0);
    CHECK(strcmp(log_level_name(LOG_WARN), "warn") == 0 &&
          strcmp(log_level_name(9), "unknown") == 0);
    nalloc = M.nalloc;
    log_write(&R, LOG_INFO, 12, 3, "bt", "hello %d", 42);
    log_write(&R, LOG_WARN, -1, -1, "scheduler", "tick budget overrun: %s", "x\ny\\z");
    log_write(&R, LOG_ERROR, 5, 0, NULL, "%s", "");
    log_write(&R, LOG_DEBUG, 7, 1, "a b\tc", "d");
    log_write(&R, 99, 7, 1, "waytoolongcategoryname", "clamped level");
    log_write(&R, -4, 7, 1, "gc", "low level clamped");
    CHECK(M.nalloc == nalloc);
    log_dump(&R, -1, &b);
    p = b.p;
    ok = parse_line(&p, &L);
    CHECK(ok && L.seq == 1 && strcmp(L.level, "info") == 0 && L.tick == 12 && L.node == 3 &&
          strcmp(L.cat, "bt") == 0 && msg_is(&L, "hello 42"));
    CHECK(L.ts > 0);
    ok = parse_line(&p, &L);
    CHECK(ok && L.seq == 2 && strcmp(L.level, "warn") == 0 && L.tick == -1 && L.node == -1 &&
          strcmp(L.cat, "scheduler") == 0 && msg_is(&L, "tick budget overrun: x\\ny\\\\z"));
    ok = parse_line(&p, &L);
    CHECK(ok && L.seq == 3 && strcmp(L.level, "error") == 0 && strcmp(L.cat, "-") == 0 &&
          msg_is(&L, ""));
    ok = parse_line(&p, &L);
    CHECK(ok && strcmp(L.level, "debug") == 0 && strcmp(L.cat, "a_b_c") == 0);
    ok = parse_line(&p, &L);
    CHECK(ok && strcmp(L.level, "error") == 0 && strcmp(L.cat, "waytoolongcateg") == 0);
    ok = parse_line(&p, &L);
    CHECK(ok && L.seq == 6 && strcmp(L.level, "debug") == 0);
    CHECK(*p == '\0');
    sbuf_free(&b);
    /* an exact line, with the timestamp substituted */
    CHECK(log_copy(&R, 0, &rec) == 0);
    log_format(&rec, &b);
    {
        char want[200];
        snprintf(want, sizeof want,
                 "1 level=info ts_ns=%lld tick=12 node=3 category=bt msg=hello 42\n",
                 (long long)rec.ts_ns);
        CHECK(strcmp(b.p, want) == 0);
    }
    sbuf_free(&b);
    log_counts(&R, counts);
    CHECK(counts[LOG_DEBUG] == 2 && counts[LOG_INFO] == 1 && counts[LOG_WARN] == 1 &&
          counts[LOG_ERROR] == 2);
    /* wraparound keeps the newest 8 */
    for (i = 0; i < 20; i++) {
        log_write(&R, LOG_INFO, i, i, "bt", "r%d", i);
    }
    CHECK(log_count(&R) == 8);
    CHECK(log_copy(&R, 0, &rec) == 0 && rec.seq == 19 && strcmp(rec.msg, "r12") == 0);
    CHECK(log_copy(&R, 7, &rec) == 0 && rec.seq == 26 && strcmp(rec.msg, "r19") == 0);
    CHECK(log_copy(&R, 8, &rec) == -1 && log_copy(&R, -1, &rec) == -1);
    log_dump(&R, 3, &b);
    p = b.p;
    ok = parse_line(&p, &L) && L.seq == 24 && msg_is(&L, "r17");
    ok = ok && parse_line(&p, &L) && L.seq == 25;
    ok = ok && parse_line(&p, &L) && L.seq == 26 && *p == '\0';
    CHECK(ok);
    sbuf_free(&b);
    log_dump(&R, 100, &b);
    {
        long long prev_ts = 0;
        unsigned long long prev = 18;
        int n = 0;
        ok = 1;
        p = b.p;
        while (ok && *p) {
            ok = parse_line(&p, &L) && L.seq == prev + 1 && L.ts >= prev_ts;
            prev = L.seq;
            prev_ts = L.ts;
            n++;
        }
        CHECK(ok && n == 8);
    }
    sbuf_free(&b);
    log_dump(&R, 0, &b);
    CHECK(b.len == 0);
    {
        log_Record snap[20];
        int n = log_snapshot(&R, snap, 20);
        CHECK(n == 8 && snap[0].seq == 19 && snap[7].seq == 26);
        n = log_snapshot(&R, snap, 2);
        CHECK(n == 2 && snap[0].seq == 25 && snap[1].seq == 26);
    }
    /* clear: seq and counters continue */
    log_clear(&R);
    CHECK(log_count(&R) == 0);
    log_dump(&R, -1, &b);
    CHECK(b.len == 0);
    log_write(&R, LOG_INFO, 0, 0, "bt", "after clear");
    CHECK(log_copy(&R, 0, &rec) == 0 && rec.seq == 27);
    log_counts(&R, counts);
    CHECK(counts[LOG_INFO] == 22);
    /* level filter */
    log_set_level(&R, LOG_WARN);
    CHECK(log_get_level(&R) == LOG_WARN && !log_enabled(&R, LOG_INFO) &&
          log_enabled(&R, LOG_ERROR));
    log_write(&R, LOG_DEBUG, 0, 0, "bt", "no");
    log_write(&R, LOG_INFO, 0, 0, "bt", "no");
    log_write(&R, LOG_WARN, 0, 0, "bt", "yes");
    CHECK(log_count(&R) == 2 && log_copy(&R, 1, &rec) == 0 && rec.seq == 28 &&
          strcmp(rec.msg, "yes") == 0);
    log_set_level(&R, 42);
    CHECK(log_get_level(&R) == LOG_ERROR);
    log_set_level(&R, LOG_DEBUG);
    /* truncation */
    {
        char big[600];
        memset(big, 'y', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        log_write(&R, LOG_ERROR, 0, 0, "bt", "%s", big);
        CHECK(log_copy(&R, log_count(&R) - 1, &rec) == 0);
        CHECK(strlen(rec.msg) == LOG_MSG_LEN - 1 && strcmp(rec.msg + LOG_MSG_LEN - 4, "...") == 0 &&
              rec.msg[LOG_MSG_LEN - 5] == 'y');
        big[LOG_MSG_LEN - 1] = '\0'; /* exactly fits */
        log_write(&R, LOG_ERROR, 0, 0, "bt", "%s", big);
        CHECK(log_copy(&R, log_count(&R) - 1, &rec) == 0 && strlen(rec.msg) == LOG_MSG_LEN - 1 &&
              rec.msg[LOG_MSG_LEN - 2] == 'y');
        /* 3-byte UTF-8 sequences are not split */
        for (i = 0; i + 3 < (int)sizeof big; i += 3) {
            memcpy(big + i, "\xe2\x82\xac", 3); /* euro sign */
        }
        big[i] = '\0';
        log_write(&R, LOG_ERROR, 0, 0, "bt", "%s", big);
        CHECK(log_copy(&R, log_count(&R) - 1, &rec) == 0);
        {
            size_t k = strlen(rec.msg) - 3;
            CHECK(strcmp(rec.msg + k, "...") == 0 && k % 3 == 0);
        }
        log_dump(&R, 1, &b);
        p = b.p;
        CHECK(parse_line(&p, &L) && L.msglen == strlen(rec.msg));
        sbuf_free(&b);
    }
    log_free(&R);
    log_free(&R);
    CHECK(M.bytes == 0 && M.nalloc == M.nfree);
}

/* ---- concurrency: 4 writers, 1 reader ---- */

#define NWRITERS 4
#define NPER 20000

typedef struct Shared {
    log_Ring R;
    int stop; /* read/written under 'mu' */
    pthread_mutex_t mu;
    int bad; /* reader found an inconsistency; under 'mu' */
    long dumps;
    long lines; /* dump lines the reader checked */
} Shared;

typedef struct Arg {
    Shared *S;
    int id;
} Arg;

static void *writer(void *ud) {
    Arg *a = ud;
    int i;
    for (i = 0; i < NPER; i++) {
        log_write(&a->S->R, i % 3 == 0 ? LOG_DEBUG : LOG_INFO, i, a->id, "scheduler",
                  "t=%d i=%d\nmore", a->id, i);
        if (i % 256 == 255) {
            sched_yield(); /* let the reader interleave on small machines */
        }
    }
    return NULL;
}

/* Every dump must parse, have increasing seq and ts, and per-writer
** increasing i; tick/node must match the message. */
static int check_dump(const char *p, long *nlines) {
    int last_i[NWRITERS];
    unsigned long long prev = 0;
    long long prev_ts = 0;
    Line L;
    int k;
    for (k = 0; k < NWRITERS; k++) {
        last_i[k] = -1;
    }
    while (*p) {
        int t, i;
        if (!parse_line(&p, &L) || L.seq <= prev || L.ts < prev_ts) {
            return 0;
        }
        if (sscanf(L.msg, "t=%d i=%d\\nmore", &t, &i) != 2 || t < 0 || t >= NWRITERS ||
            i <= last_i[t] || L.tick != i || L.node != t || strcmp(L.cat, "scheduler") != 0) {
            return 0;
        }
        last_i[t] = i;
        (*nlines)++;
        prev = L.seq;
        prev_ts = L.ts;
    }
    return 1;
}

static void *reader(void *ud) {
    Shared *S = ud;
    sbuf b;
    log_Record rec;
    uint64_t counts[LOG_NLEVELS];
    int stop = 0, bad = 0;
    long dumps = 0, lines = 0;
    sbuf_init(&b);
    /* run until the writers are done, and in any case until some dumps
    ** raced with them or read a full ring */
    while (!stop || lines < 1000) {
        int n;
        log_dump(&S->R, 50, &b);
        bad |= !check_dump(b.len ? b.p : "", &lines);
        sbuf_free(&b);
        n = log_count(&S->R);
        if (n > 0 && log_copy(&S->R, n - 1, &rec) == 0) {
            bad |= rec.seq == 0 || rec.node < 0 || rec.node >= NWRITERS;
        }
        log_counts(&S->R, counts);
        bad |= log_enabled(&S->R, LOG_DEBUG) == 0;
        dumps++;
        pthread_mutex_lock(&S->mu);
        stop = S->stop;
        pthread_mutex_unlock(&S->mu);
    }
    pthread_mutex_lock(&S->mu);
    S->bad |= bad;
    S->dumps = dumps;
    S->lines = lines;
    pthread_mutex_unlock(&S->mu);
    return NULL;
}

static void test_threads(void) {
    mem_Heap M;
    Shared *S = calloc(1, sizeof *S);
    pthread_t w[NWRITERS], r;
    Arg args[NWRITERS];
    uint64_t counts[LOG_NLEVELS];
    log_Record recs[256];
    clk_Clock clk = {0};
    sbuf b;
    int k;
    mem_init(&M);
    sbuf_init(&b);
    pthread_mutex_init(&S->mu, NULL);
    CHECK(log_init(&S->R, &M, 256) == 0);
    log_set_clock(&S->R, &clk);
    CHECK(pthread_create(&r, NULL, reader, S) == 0);
    for (k = 0; k < NWRITERS; k++) {
        args[k].S = S;
        args[k].id = k;
        CHECK(pthread_create(&w[k], NULL, writer, &args[k]) == 0);
    }
    for (k = 0; k < NWRITERS; k++) {
        pthread_join(w[k], NULL);
    }
    pthread_mutex_lock(&S->mu);
    S->stop = 1;
    pthread_mutex_unlock(&S->mu);
    pthread_join(r, NULL);
    CHECK(S->bad == 0);
    CHECK(S->dumps > 0 && S->lines > 0);
    log_counts(&S->R, counts);
    CHECK(counts[LOG_DEBUG] + counts[LOG_INFO] == (uint64_t)NWRITERS * NPER);
    CHECK(counts[LOG_DEBUG] == (uint64_t)NWRITERS * ((NPER + 2) / 3));
    CHECK(log_count(&S->R) == 256);
    /* stamped under the lock through one clock: never backwards in seq order */
    CHECK(log_snapshot(&S->R, recs, 256) == 256);
    for (k = 1; k < 256; k++) {
        CHECK(recs[k].seq == recs[k - 1].seq + 1 && recs[k].ts_ns >= recs[k - 1].ts_ns);
    }
    CHECK(recs[255].ts_ns <= clk_peek(&clk));
    log_dump(&S->R, -1, &b);
    {
        long nl = 0;
        CHECK(check_dump(b.p, &nl) && nl == 256);
    }
    {
        Line L;
        const char *p = b.p;
        int n = 0;
        while (*p && parse_line(&p, &L)) {
            n++;
        }
        CHECK(n == 256 && L.seq == (unsigned long long)NWRITERS * NPER);
    }
    printf("  threads: %ld reader passes, %ld lines checked\n", S->dumps, S->lines);
    sbuf_free(&b);
    log_free(&S->R);
    pthread_mutex_destroy(&S->mu);
    free(S);
    CHECK(M.bytes == 0);
}

/* The clock: never below a stamp handed out or raised to. */
static void test_clock(void) {
    clk_Clock k = {0};
    int64_t a = clk_now(&k), b, far = a + 3600 * INT64_C(1000000000);
    CHECK(a > 0 && clk_now(&k) >= a);
    CHECK(clk_raise(&k, far) == far);
    CHECK(clk_raise(&k, a) == far); /* lower raise: the high-water mark */
    b = clk_now(&k);
    CHECK(b == far && clk_peek(&k) == far);
}

int main(void) {
    test_clock();
    test_basic();
    test_threads();
    return ctest_done();
}
