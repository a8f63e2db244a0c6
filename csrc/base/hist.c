/*
** hist.c -- log-linear histograms.
** See hist.h.  See LICENSE for copyright.
**
** Bucket layout.  With S = sub_bits and a sample v >= 0, let e be the index
** of v's highest set bit and shift = max(0, e - S).  The bucket index is
**
**     i = (shift << S) + (v >> shift)
**
** For v < 2^(S+1) the shift is 0 and i == v: one bucket per value.  Above
** that, v >> shift always lies in [2^S, 2^(S+1)), so every power-of-two range
** [2^e, 2^(e+1)) occupies exactly 2^S consecutive indices, each 2^shift wide,
** and the indices of consecutive ranges abut.  Inverting: for i >= 2^S,
** shift = (i >> S) - 1 and the bucket starts at (2^S + (i & (2^S-1))) << shift.
** A bucket starting at lo >= 2^(S+shift) is 2^shift wide, so its middle is
** within 2^-(S+1) of any value in it: the whole error budget.
**
** Invariants of a hist_Hist:
**   - sum over b[] == count (until a single bucket wraps; see hist.h);
**   - count == 0  <=>  min == INT64_MAX and max == INT64_MIN;
**   - min and max are exact, so quantiles are clamped into [min, max] and
**     ranks 1 and 'count' return them exactly.
**
** Quantiles use the nearest-rank definition: the q-quantile of n samples is
** the sample of rank ceil(q * n) (at least 1) in sorted order.  The test
** compares against exactly that on sorted data.
*/
#include "conf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

size_t hist_nbuckets(int sub_bits) {
    if (sub_bits < HIST_MIN_SUBBITS || sub_bits > HIST_MAX_SUBBITS) {
        return 0;
    }
    return (size_t)(HIST_RANGE_BITS + 1 - sub_bits) << sub_bits;
}

int hist_init(hist_Hist *h, int sub_bits, uint32_t *storage) {
    size_t n = hist_nbuckets(sub_bits);
    if (n == 0 || storage == NULL) {
        return -1;
    }
    h->count = 0;
    h->min = INT64_MAX;
    h->max = INT64_MIN;
    h->sum = 0;
    h->nbuckets = (uint32_t)n;
    h->sub_bits = (uint8_t)sub_bits;
    h->b = storage;
    return 0;
}

void hist_reset(hist_Hist *h) {
    memset(h->b, 0, (size_t)h->nbuckets * sizeof h->b[0]);
    h->count = 0;
    h->min = INT64_MAX;
    h->max = INT64_MIN;
    h->sum = 0;
}

int hist_merge(hist_Hist *dst, const hist_Hist *src) {
    uint32_t i;
    if (dst->sub_bits != src->sub_bits || dst->nbuckets != src->nbuckets) {
        return -1;
    }
    if (src->count == 0) {
        return 0;
    }
    for (i = 0; i < src->nbuckets; i++) {
        dst->b[i] += src->b[i];
    }
    dst->count += src->count;
    dst->sum = (int64_t)((uint64_t)dst->sum + (uint64_t)src->sum);
    dst->min = src->min < dst->min ? src->min : dst->min;
    dst->max = src->max > dst->max ? src->max : dst->max;
    return 0;
}

int64_t hist_bucket_lo(int sub_bits, size_t i) {
    size_t one = (size_t)1 << sub_bits;
    unsigned shift;
    if (i < one) {
        return (int64_t)i;
    }
    shift = (unsigned)(i >> sub_bits) - 1u;
    return (int64_t)((uint64_t)(one + (i & (one - 1))) << shift);
}

int64_t hist_bucket_hi(int sub_bits, size_t i) {
    size_t one = (size_t)1 << sub_bits;
    unsigned shift;
    if (i + 1 >= hist_nbuckets(sub_bits)) {
        return INT64_MAX; /* the last bucket also takes clamped values */
    }
    shift = i < one ? 0u : (unsigned)(i >> sub_bits) - 1u;
    return hist_bucket_lo(sub_bits, i) + ((int64_t)1 << shift) - 1;
}

/* Representative value of bucket 'i': its middle, clamped to [min, max].
** The last bucket is open-ended, so its middle is computed over its nominal
** width and the clamp to 'max' does the rest. */
static int64_t bucket_value(const hist_Hist *h, size_t i) {
    size_t one = (size_t)1 << h->sub_bits;
    unsigned shift = i < one ? 0u : (unsigned)(i >> h->sub_bits) - 1u;
    int64_t lo = hist_bucket_lo(h->sub_bits, i);
    int64_t v = lo + (((int64_t)1 << shift) - 1) / 2;
    v = v < h->min ? h->min : v;
    v = v > h->max ? h->max : v;
    return v;
}

/* Nearest rank (1-based) of quantile 'q' among 'n' samples. */
static uint64_t quantile_rank(uint64_t n, double q) {
    double r;
    if (!(q > 0.0)) { /* also catches NaN */
        return 1;
    }
    if (q >= 1.0) {
        return n;
    }
    r = ceil(q * (double)n);
    if (r < 1.0) {
        return 1;
    }
    if (r > (double)n) {
        return n;
    }
    return (uint64_t)r;
}

/* Resolve the ascending 'ranks[0..k-1]' to values in one pass. */
static void quantiles(const hist_Hist *h, const uint64_t *ranks, int k, int64_t *out) {
    uint64_t cum = 0;
    uint32_t i = 0;
    int j = 0;
    while (j < k) {
        if (ranks[j] <= 1) {
            out[j++] = h->min;
            continue;
        }
        if (ranks[j] >= h->count) {
            out[j++] = h->max;
            continue;
        }
        while (i < h->nbuckets && cum + h->b[i] < ranks[j]) {
            cum += h->b[i++];
        }
        /* a bucket wrapped (see hist.h): fall back to the maximum */
        out[j++] = i < h->nbuckets ? bucket_value(h, i) : h->max;
    }
}

int64_t hist_quantile(const hist_Hist *h, double q) {
    uint64_t rank;
    int64_t v;
    if (h->count == 0) {
        return 0;
    }
    rank = quantile_rank(h->count, q);
    quantiles(h, &rank, 1, &v);
    return v;
}

void hist_summary(const hist_Hist *h, hist_Summary *out) {
    uint64_t ranks[4];
    int64_t v[4];
    memset(out, 0, sizeof *out);
    if (h->count == 0) {
        return;
    }
    ranks[0] = quantile_rank(h->count, 0.5);
    ranks[1] = quantile_rank(h->count, 0.9);
    ranks[2] = quantile_rank(h->count, 0.99);
    ranks[3] = quantile_rank(h->count, 0.999);
    quantiles(h, ranks, 4, v);
    out->count = h->count;
    out->min = h->min;
    out->max = h->max;
    out->sum = h->sum;
    out->mean = (double)h->sum / (double)h->count;
    out->p50 = v[0];
    out->p90 = v[1];
    out->p99 = v[2];
    out->p999 = v[3];
}

/* ---- terminal rendering ---- */

/* Append 'x' with about three significant digits and 'unit'. */
static void fmt3(char *buf, size_t n, double x, const char *unit) {
    if (x < 9.995) {
        snprintf(buf, n, "%.2f%s", x, unit);
    } else if (x < 99.95) {
        snprintf(buf, n, "%.1f%s", x, unit);
    } else {
        snprintf(buf, n, "%.0f%s", x, unit);
    }
}

/* Format nanoseconds 'ns' compactly into 'buf': "950ns", "1.02us", "12.5ms". */
static void fmt_duration(char *buf, size_t n, int64_t ns) {
    double v = (double)ns;
    if (ns < 1000) {
        snprintf(buf, n, "%lldns", (long long)ns);
    } else if (ns < 1000000) {
        fmt3(buf, n, v / 1e3, "us");
    } else if (ns < 1000000000) {
        fmt3(buf, n, v / 1e6, "ms");
    } else {
        fmt3(buf, n, v / 1e9, "s");
    }
}

#define RENDER_ROWS 16

/* Row of bucket 'i' when the occupied value range [lo0, hi0] is cut into
** RENDER_ROWS rows of equal value ratio; monotone in 'i'. */
static int render_row(const hist_Hist *h, uint32_t i, double llo, double lspan) {
    double mid = (double)bucket_value(h, i);
    int r;
    if (lspan <= 0.0) {
        return 0;
    }
    r = (int)((log(mid < 1.0 ? 1.0 : mid) - llo) / lspan * RENDER_ROWS);
    return r < 0 ? 0 : (r >= RENDER_ROWS ? RENDER_ROWS - 1 : r);
}

void hist_render_ascii(const hist_Hist *h, sbuf *b, int width) {
    uint32_t first = 0, last, i;
    uint32_t rb0[RENDER_ROWS], rb1[RENDER_ROWS]; /* bucket span of each row */
    uint64_t rows[RENDER_ROWS], peak = 0;
    double llo, lspan;
    int r;
    if (h->count == 0) {
        sbuf_puts(b, "  (no samples)\n");
        return;
    }
    width = width < 8 ? 8 : (width > 200 ? 200 : width);
    while (first < h->nbuckets && h->b[first] == 0) {
        first++;
    }
    if (first == h->nbuckets) { /* only wrapped buckets: nothing to draw */
        sbuf_puts(b, "  (no samples)\n");
        return;
    }
    last = h->nbuckets - 1;
    while (h->b[last] == 0) {
        last--;
    }
    /* Rows are log-spaced in value, so that equal bar lengths mean equal
    ** density per octave whichever power-of-two ranges a row straddles. */
    llo = log((double)(h->min < 1 ? 1 : h->min));
    lspan = log((double)(h->max < 1 ? 1 : h->max)) - llo;
    memset(rows, 0, sizeof rows);
    for (r = 0; r < RENDER_ROWS; r++) {
        rb0[r] = UINT32_MAX;
        rb1[r] = 0;
    }
    for (i = first; i <= last; i++) {
        r = render_row(h, i, llo, lspan);
        rows[r] += h->b[i];
        rb0[r] = rb0[r] == UINT32_MAX ? i : rb0[r];
        rb1[r] = i;
    }
    for (r = 0; r < RENDER_ROWS; r++) {
        peak = rows[r] > peak ? rows[r] : peak;
    }
    for (r = 0; r < RENDER_ROWS; r++) {
        int64_t lo, hi;
        char slo[32], shi[32];
        int bar, k;
        if (rb0[r] == UINT32_MAX) {
            continue; /* no bucket falls in this row */
        }
        /* clamp the row's ends to what was actually seen */
        lo = hist_bucket_lo(h->sub_bits, rb0[r]);
        hi = hist_bucket_hi(h->sub_bits, rb1[r]);
        lo = lo < h->min ? h->min : lo;
        hi = hi > h->max ? h->max : hi;
        fmt_duration(slo, sizeof slo, lo);
        fmt_duration(shi, sizeof shi, hi);
        bar = (int)((rows[r] * (uint64_t)width + peak - 1) / peak);
        sbuf_printf(b, "  %8s .. %8s |", slo, shi);
        for (k = 0; k < width; k++) {
            sbuf_putc(b, k < bar ? '#' : ' ');
        }
        sbuf_printf(b, "| %9llu %5.1f%%\n", (unsigned long long)rows[r],
                    100.0 * (double)rows[r] / (double)h->count);
    }
}

