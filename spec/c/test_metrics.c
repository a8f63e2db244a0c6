/*
** test_metrics.c -- C tests for csrc/base/hist.c (hist_, prom_).
** See LICENSE for copyright.
**
** Checks the bucket layout exhaustively, the relative-error promise of both
** presets against exact nearest-rank quantiles of sorted random data over
** several distributions, nearest rank with few samples (exact for ranks 1
** and n, one of the samples within the bound otherwise, also when only the
** buckets are counted and the extremes are filled in later, as the BT tick
** path does), the edge cases (empty, 0, 1, huge, negative), merge/reset,
** the ASCII renderer's shape and the exact Prometheus text.
*/
#include "conf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs_prom.h"
#include "sbuf.h"

#include "ctest.h"

/* xorshift64*: a private PRNG so the test is reproducible. */
static uint64_t rnd(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static double rnd01(uint64_t *s) {
    return (double)(rnd(s) >> 11) * (1.0 / 9007199254740992.0);
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A histogram with heap storage (the test owns it). */
static hist_Hist *hnew(int sub_bits) {
    hist_Hist *h = malloc(sizeof *h);
    uint32_t *st = calloc(hist_nbuckets(sub_bits), sizeof *st);
    if (h == NULL || st == NULL || hist_init(h, sub_bits, st) != 0) {
        printf("setup failed\n");
        exit(2);
    }
    return h;
}

static void hdel(hist_Hist *h) {
    free(h->b);
    free(h);
}

static void test_layout(void) {
    int sb;
    CHECK(hist_nbuckets(HIST_FINE) == 35u * 128u);
    CHECK(hist_nbuckets(HIST_COARSE) == 38u * 16u);
    CHECK(hist_nbuckets(0) == 0);
    CHECK(hist_nbuckets(HIST_MAX_SUBBITS + 1) == 0);
    {
        hist_Hist h;
        uint32_t st[1];
        CHECK(hist_init(&h, 0, st) == -1);
        CHECK(hist_init(&h, 4, NULL) == -1);
    }
    for (sb = HIST_MIN_SUBBITS; sb <= 8; sb++) {
        size_t n = hist_nbuckets(sb), i;
        int ok_abut = 1, ok_index = 1, ok_err = 1;
        double bound = ldexp(1.0, -(sb + 1));
        CHECK(hist_bucket_lo(sb, 0) == 0);
        for (i = 0; i + 1 < n; i++) {
            int64_t lo = hist_bucket_lo(sb, i), hi = hist_bucket_hi(sb, i);
            int64_t mid = lo + (hi - lo) / 2;
            if (hist_bucket_lo(sb, i + 1) != hi + 1 || hi < lo) {
                ok_abut = 0;
            }
            if (hist_index((unsigned)sb, (uint64_t)lo) != i ||
                hist_index((unsigned)sb, (uint64_t)hi) != i) {
                ok_index = 0;
            }
            if (lo > 0 && ((double)(hi - mid) / (double)lo > bound ||
                           (double)(mid - lo) / (double)lo > bound)) {
                ok_err = 0;
            }
        }
        CHECK(ok_abut);
        CHECK(ok_index);
        CHECK(ok_err);
        /* the last bucket starts at the top of the covered range's last
        ** sub-bucket and the range ends at 2^41 - 1 */
        CHECK(hist_bucket_hi(sb, n - 2) + 1 == hist_bucket_lo(sb, n - 1));
        CHECK(hist_bucket_hi(sb, n - 1) == INT64_MAX);
        CHECK(hist_index((unsigned)sb, ((uint64_t)1 << HIST_RANGE_BITS) - 1) == n - 1);
        CHECK(hist_index((unsigned)sb, (uint64_t)1 << HIST_RANGE_BITS) >= n);
    }
}

/* Fill 'v[0..n-1]' from distribution 'kind'. */
static void gen(int kind, int64_t *v, int n, uint64_t *s) {
    int i;
    for (i = 0; i < n; i++) {
        switch (kind) {
            case 0: /* log-uniform over 1 .. 2^40 */ v[i] = (int64_t)exp2(rnd01(s) * 40.0); break;
            case 1: /* narrow band around 1 ms */
                v[i] = 1000000 + (int64_t)(rnd(s) % 100000);
                break;
            case 2: /* exponential with mean 50 us, long tail */
                v[i] = (int64_t)(-50000.0 * log(1.0 - rnd01(s)));
                break;
            default: /* small integers, exact region */ v[i] = (int64_t)(rnd(s) % 300); break;
        }
    }
}

static double relerr(int64_t got, int64_t want) {
    if (want == 0) {
        return got == 0 ? 0.0 : 1.0;
    }
    return fabs((double)got - (double)want) / (double)want;
}

static void test_accuracy(void) {
    static const double qs[] = {0.0, 0.001, 0.01, 0.1,   0.25,   0.5, 0.75,
                                0.9, 0.95,  0.99, 0.999, 0.9999, 1.0};
    const int n = 200000;
    int64_t *v = malloc((size_t)n * sizeof *v);
    int64_t *sorted = malloc((size_t)n * sizeof *sorted);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int kind, p;
    for (p = 0; p < 2; p++) {
        int sb = p == 0 ? HIST_FINE : HIST_COARSE;
        double limit = p == 0 ? 0.01 : 0.07, worst = 0.0;
        for (kind = 0; kind < 4; kind++) {
            hist_Hist *h = hnew(sb);
            hist_Summary s;
            size_t qi;
            int i, ok = 1;
            int64_t sum = 0;
            gen(kind, v, n, &seed);
            for (i = 0; i < n; i++) {
                hist_record(h, v[i]);
                sum += v[i];
            }
            memcpy(sorted, v, (size_t)n * sizeof *v);
            qsort(sorted, (size_t)n, sizeof *sorted, cmp64);
            for (qi = 0; qi < sizeof qs / sizeof qs[0]; qi++) {
                double r = ceil(qs[qi] * n);
                size_t rank = r < 1 ? 1 : (size_t)r;
                int64_t want = sorted[rank - 1];
                double e = relerr(hist_quantile(h, qs[qi]), want);
                worst = e > worst ? e : worst;
                if (e > limit) {
                    ok = 0;
                    printf("  sb=%d kind=%d q=%g got=%lld want=%lld err=%g\n", sb, kind, qs[qi],
                           (long long)hist_quantile(h, qs[qi]), (long long)want, e);
                }
            }
            CHECK(ok);
            CHECK(h->count == (uint64_t)n);
            CHECK(h->sum == sum);
            CHECK(h->min == sorted[0] && h->max == sorted[n - 1]);
            CHECK(hist_quantile(h, 0.0) == sorted[0]);
            CHECK(hist_quantile(h, 1.0) == sorted[n - 1]);
            hist_summary(h, &s);
            CHECK(s.count == (uint64_t)n && s.min == h->min && s.max == h->max);
            CHECK(s.p50 == hist_quantile(h, 0.5));
            CHECK(s.p90 == hist_quantile(h, 0.9));
            CHECK(s.p99 == hist_quantile(h, 0.99));
            CHECK(s.p999 == hist_quantile(h, 0.999));
            CHECK(fabs(s.mean - (double)sum / n) < 1e-6 * ((double)sum / n) + 1e-9);
            if (kind == 3) { /* values < 2^(S+1) are exact */
                CHECK(s.p50 == sorted[(size_t)ceil(0.5 * n) - 1] || sb == HIST_COARSE);
            }
            hdel(h);
        }
        printf("  sub_bits=%d worst relative error %.4f%% (limit %.0f%%)\n", sb, worst * 100.0,
               limit * 100.0);
        CHECK(worst <= ldexp(1.0, -(sb + 1)) + 1e-12);
    }
    free(v);
    free(sorted);
}

/* Nearest rank with few samples, on exact synthetic data. */
static void test_small_n(void) {
    static const double qs[] = {0.0, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0};
    int sb;
    for (sb = HIST_COARSE; sb <= HIST_FINE; sb += HIST_FINE - HIST_COARSE) {
        hist_Hist *h = hnew(sb);
        hist_Summary s;
        double bound = ldexp(1.0, -(sb + 1));
        uint64_t seed = 99;
        int n, ok = 1;
        /* one sample: every quantile is that sample, whatever its bucket */
        hist_record(h, 123457);
        hist_summary(h, &s);
        CHECK(s.p50 == 123457 && s.p90 == 123457 && s.p99 == 123457 && s.p999 == 123457);
        CHECK(hist_quantile(h, 0.0) == 123457 && hist_quantile(h, 1.0) == 123457);
        /* two: p50 is the smaller, p90 and up the larger, both exact */
        hist_record(h, 7001);
        hist_summary(h, &s);
        CHECK(s.p50 == 7001 && s.p90 == 123457 && s.p99 == 123457 && s.p999 == 123457);
        /* three: p50 is the middle one within the bound, p90 the largest */
        hist_record(h, 50003);
        hist_summary(h, &s);
        CHECK(relerr(s.p50, 50003) <= bound && s.p90 == 123457);
        hdel(h);
        /* n = 1..64 random samples: each quantile is within the bound of the
        ** sample of rank ceil(q * n), exact for ranks 1 and n, in [min, max] */
        for (n = 1; n <= 64; n++) {
            int64_t v[64], sorted[64];
            size_t qi;
            int i;
            h = hnew(sb);
            for (i = 0; i < n; i++) {
                v[i] = 100 + (int64_t)exp2(rnd01(&seed) * 30.0);
                hist_record(h, v[i]);
            }
            memcpy(sorted, v, (size_t)n * sizeof v[0]);
            qsort(sorted, (size_t)n, sizeof sorted[0], cmp64);
            for (qi = 0; qi < sizeof qs / sizeof qs[0]; qi++) {
                double r = ceil(qs[qi] * n);
                int rank = r < 1 ? 1 : (int)r;
                int64_t got = hist_quantile(h, qs[qi]), want = sorted[rank - 1];
                if (got < sorted[0] || got > sorted[n - 1] || relerr(got, want) > bound ||
                    ((rank == 1 || rank == n) && got != want)) {
                    ok = 0;
                    printf("  sb=%d n=%d q=%g got=%lld want=%lld\n", sb, n, qs[qi], (long long)got,
                           (long long)want);
                }
            }
            hdel(h);
        }
        CHECK(ok);
    }
    /* buckets counted alone (hist_bump), count and extremes filled in
    ** before reading, as bt_tickhist / bt_nodehist do */
    {
        hist_Hist *h = hnew(HIST_COARSE);
        hist_bump(h->b, HIST_COARSE, 1999);
        h->count = 1;
        h->min = h->max = h->sum = 1999;
        CHECK(hist_quantile(h, 0.5) == 1999 && hist_quantile(h, 0.99) == 1999);
        hist_bump(h->b, HIST_COARSE, 1001);
        h->count = 2;
        h->min = 1001;
        h->sum += 1001;
        CHECK(hist_quantile(h, 0.5) == 1001 && hist_quantile(h, 0.9) == 1999);
        hdel(h);
    }
}

static void test_edges(void) {
    hist_Hist *h = hnew(HIST_FINE);
    hist_Summary s;
    /* empty */
    CHECK(hist_quantile(h, 0.5) == 0);
    hist_summary(h, &s);
    CHECK(s.count == 0 && s.min == 0 && s.max == 0 && s.p99 == 0 && s.mean == 0.0);
    /* a single 0 */
    hist_record(h, 0);
    CHECK(hist_quantile(h, 0.0) == 0 && hist_quantile(h, 0.5) == 0 && hist_quantile(h, 1.0) == 0);
    CHECK(h->min == 0 && h->max == 0 && h->count == 1);
    /* a single 1 */
    hist_reset(h);
    CHECK(h->count == 0 && hist_quantile(h, 0.5) == 0);
    hist_record(h, 1);
    CHECK(hist_quantile(h, 0.5) == 1 && h->b[1] == 1);
    /* negative samples count as 0 */
    hist_reset(h);
    hist_record(h, -5);
    CHECK(h->min == 0 && h->max == 0 && h->b[0] == 1 && h->sum == 0);
    /* huge: clamped into the last bucket, max exact */
    hist_reset(h);
    hist_record(h, INT64_MAX);
    CHECK(h->b[h->nbuckets - 1] == 1);
    CHECK(h->max == INT64_MAX && hist_quantile(h, 0.5) == INT64_MAX);
    hist_record(h, (int64_t)1 << 50);
    hist_record(h, ((int64_t)1 << 41) + 5);
    CHECK(h->b[h->nbuckets - 1] == 3);
    CHECK(hist_quantile(h, 0.0) == ((int64_t)1 << 41) + 5);
    CHECK(hist_quantile(h, 1.0) == INT64_MAX);
    {
        int64_t m = hist_quantile(h, 0.5);
        CHECK(m >= h->min && m <= h->max);
    }
    /* the top of the covered range is still in its own bucket */
    hist_reset(h);
    hist_record(h, ((int64_t)1 << 40) + 12345);
    CHECK(relerr(hist_quantile(h, 0.5), ((int64_t)1 << 40) + 12345) == 0.0);
    hist_record(h, ((int64_t)1 << 40) + 1000000);
    hist_record(h, ((int64_t)1 << 40) + 2000000000);
    CHECK(relerr(hist_quantile(h, 0.5), ((int64_t)1 << 40) + 1000000) < 0.01);
    /* q outside [0,1] and NaN are clamped */
    CHECK(hist_quantile(h, -1.0) == h->min);
    CHECK(hist_quantile(h, 2.0) == h->max);
    CHECK(hist_quantile(h, NAN) == h->min);
    hdel(h);
}

static void test_merge(void) {
    hist_Hist *a = hnew(HIST_COARSE), *b = hnew(HIST_COARSE);
    hist_Hist *all = hnew(HIST_COARSE), *f = hnew(HIST_FINE);
    uint64_t seed = 42;
    int i;
    for (i = 0; i < 50000; i++) {
        int64_t x = (int64_t)exp2(rnd01(&seed) * 30.0);
        hist_record(i & 1 ? a : b, x);
        hist_record(all, x);
    }
    CHECK(hist_merge(a, b) == 0);
    CHECK(a->count == all->count && a->sum == all->sum);
    CHECK(a->min == all->min && a->max == all->max);
    CHECK(memcmp(a->b, all->b, a->nbuckets * sizeof a->b[0]) == 0);
    CHECK(hist_merge(f, a) == -1 && f->count == 0);
    hist_reset(b);
    CHECK(hist_merge(a, b) == 0 && a->count == all->count && a->min == all->min);
    /* merging into an empty histogram copies extremes */
    CHECK(hist_merge(b, all) == 0 && b->min == all->min && b->max == all->max);
    hdel(a);
    hdel(b);
    hdel(all);
    hdel(f);
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

static void test_render(void) {
    hist_Hist *h = hnew(HIST_FINE);
    sbuf b;
    uint64_t seed = 7;
    int i;
    sbuf_init(&b);
    hist_render_ascii(h, &b, 40);
    CHECK(b.len > 0 && strcmp(b.p, "  (no samples)\n") == 0);
    sbuf_free(&b);
    for (i = 0; i < 10000; i++) {
        hist_record(h, 20000 + (int64_t)(-30000.0 * log(1.0 - rnd01(&seed))));
    }
    hist_render_ascii(h, &b, 40);
    CHECK(b.len > 0 && count_lines(b.p) >= 8 && count_lines(b.p) <= 16);
    CHECK(strstr(b.p, "us") != NULL && strchr(b.p, '#') != NULL);
    printf("%s", b.p);
    sbuf_free(&b);
    /* a single value renders one row */
    hist_reset(h);
    hist_record(h, 1500);
    hist_render_ascii(h, &b, 10);
    CHECK(count_lines(b.p) == 1 && strstr(b.p, "1.50us") != NULL &&
          strstr(b.p, "##########|") != NULL && strstr(b.p, "100.0%") != NULL);
    sbuf_free(&b);
    hdel(h);
}

static void test_prom(void) {
    hist_Hist *h = hnew(HIST_FINE);
    sbuf b, lab;
    int i;
    sbuf_init(&b);
    sbuf_init(&lab);
    prom_counter(&b, "lispbt_ticks_total", "Ticks run.\nAll of them \\ ok", "inst=\"1\"", 42);
    prom_counter(&b, "lispbt_ticks_total", NULL, "inst=\"2\"", 7);
    prom_gauge(&b, "lispbt_heap_bytes", "Heap bytes.", NULL, 1.5);
    prom_gauge(&b, "lispbt_x", "X.", "", -INFINITY);
    CHECK(strcmp(b.p, "# HELP lispbt_ticks_total Ticks run.\\nAll of them \\\\ ok\n"
                      "# TYPE lispbt_ticks_total counter\n"
                      "lispbt_ticks_total{inst=\"1\"} 42\n"
                      "lispbt_ticks_total{inst=\"2\"} 7\n"
                      "# HELP lispbt_heap_bytes Heap bytes.\n"
                      "# TYPE lispbt_heap_bytes gauge\n"
                      "lispbt_heap_bytes 1.5\n"
                      "# HELP lispbt_x X.\n"
                      "# TYPE lispbt_x gauge\n"
                      "lispbt_x -Inf\n") == 0);
    sbuf_free(&b);
    prom_label(&lab, "node", "seq \"a\"\\");
    prom_label(&lab, "kind", "x\ny");
    CHECK(strcmp(lab.p, "node=\"seq \\\"a\\\"\\\\\",kind=\"x\\ny\"") == 0);
    /* summary over 1000 samples of exactly 1000 */
    for (i = 0; i < 1000; i++) {
        hist_record(h, 1000);
    }
    prom_hist_summary(&b, "lispbt_tick_ns", "Tick time.", lab.p, h);
    CHECK(
        strcmp(b.p,
               "# HELP lispbt_tick_ns Tick time.\n"
               "# TYPE lispbt_tick_ns summary\n"
               "lispbt_tick_ns{node=\"seq \\\"a\\\"\\\\\",kind=\"x\\ny\",quantile=\"0.5\"} 1000\n"
               "lispbt_tick_ns{node=\"seq \\\"a\\\"\\\\\",kind=\"x\\ny\",quantile=\"0.9\"} 1000\n"
               "lispbt_tick_ns{node=\"seq \\\"a\\\"\\\\\",kind=\"x\\ny\",quantile=\"0.99\"} 1000\n"
               "lispbt_tick_ns{node=\"seq \\\"a\\\"\\\\\",kind=\"x\\ny\",quantile=\"0.999\"} 1000\n"
               "lispbt_tick_ns_sum{node=\"seq \\\"a\\\"\\\\\",kind=\"x\\ny\"} 1000000\n"
               "lispbt_tick_ns_count{node=\"seq \\\"a\\\"\\\\\",kind=\"x\\ny\"} 1000\n") == 0);
    sbuf_free(&b);
    prom_summary_scaled(&b, "lispbt_tick_seconds", NULL, NULL, h, 1e9);
    CHECK(strcmp(b.p, "lispbt_tick_seconds{quantile=\"0.5\"} 1e-06\n"
                      "lispbt_tick_seconds{quantile=\"0.9\"} 1e-06\n"
                      "lispbt_tick_seconds{quantile=\"0.99\"} 1e-06\n"
                      "lispbt_tick_seconds{quantile=\"0.999\"} 1e-06\n"
                      "lispbt_tick_seconds_sum 0.001\n"
                      "lispbt_tick_seconds_count 1000\n") == 0);
    sbuf_free(&b);
    hist_reset(h);
    prom_hist_summary(&b, "e", NULL, "a=\"b\"", h);
    CHECK(strcmp(b.p, "e{a=\"b\",quantile=\"0.5\"} NaN\n"
                      "e{a=\"b\",quantile=\"0.9\"} NaN\n"
                      "e{a=\"b\",quantile=\"0.99\"} NaN\n"
                      "e{a=\"b\",quantile=\"0.999\"} NaN\n"
                      "e_sum{a=\"b\"} 0\n"
                      "e_count{a=\"b\"} 0\n") == 0);
    sbuf_free(&b);
    /* a summary from precomputed values (the scheduler's) */
    {
        const double q[4] = {0.5, 1.5, 2.5, 3.5};
        prom_summary(&b, "s_seconds", "S.", "l=\"x\"", q, 8.25, 4);
        prom_summary(&b, "s_seconds", NULL, "l=\"y\"", q, 0, 0);
        CHECK(strcmp(b.p, "# HELP s_seconds S.\n"
                          "# TYPE s_seconds summary\n"
                          "s_seconds{l=\"x\",quantile=\"0.5\"} 0.5\n"
                          "s_seconds{l=\"x\",quantile=\"0.9\"} 1.5\n"
                          "s_seconds{l=\"x\",quantile=\"0.99\"} 2.5\n"
                          "s_seconds{l=\"x\",quantile=\"0.999\"} 3.5\n"
                          "s_seconds_sum{l=\"x\"} 8.25\n"
                          "s_seconds_count{l=\"x\"} 4\n"
                          "s_seconds{l=\"y\",quantile=\"0.5\"} NaN\n"
                          "s_seconds{l=\"y\",quantile=\"0.9\"} NaN\n"
                          "s_seconds{l=\"y\",quantile=\"0.99\"} NaN\n"
                          "s_seconds{l=\"y\",quantile=\"0.999\"} NaN\n"
                          "s_seconds_sum{l=\"y\"} 0\n"
                          "s_seconds_count{l=\"y\"} 0\n") == 0);
        sbuf_free(&b);
    }
    prom_sample(&b, "v", NULL, 0.1);
    prom_sample(&b, "v", NULL, 1e300);
    prom_sample(&b, "v", NULL, NAN);
    CHECK(strcmp(b.p, "v 0.1\nv 1e+300\nv NaN\n") == 0);
    sbuf_free(&b);
    sbuf_free(&lab);
    hdel(h);
}

int main(void) {
    test_layout();
    test_accuracy();
    test_small_n();
    test_edges();
    test_merge();
    test_render();
    test_prom();
    return ctest_done();
}
