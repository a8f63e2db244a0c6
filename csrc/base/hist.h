/*
** hist.h -- log-linear histograms (hist_).
** See LICENSE for copyright.
**
** A hist_Hist counts non-negative int64 samples (nanoseconds, usually) in
** buckets whose width grows with the value: values below 2^S (S = sub_bits)
** each get their own bucket, and every power-of-two range [2^e, 2^(e+1))
** above that is split into 2^S equal buckets.  Reporting the middle of a
** bucket is then off by at most 2^-(S+1) of the true value:
**
**     HIST_FINE   (S = 7)   <= 0.39 %   tick times, GC pauses, planner time
**     HIST_COARSE (S = 4)   <= 3.2 %    per-node durations
**
** Quantiles are nearest-rank: with n samples the q-quantile is the sample of
** rank ceil(q * n) (at least 1), reported as the middle of its bucket
** clamped to the exact [min, max].  So it is always within the bound above
** of one of the n samples, never outside the observed range, and exact for
** ranks 1 and n: with one sample every quantile is that sample, with two
** p50 is the smaller and p90..p999 the larger.  This needs exact 'min' and
** 'max'; a caller that keeps them beside the buckets (hist_bump) must fill
** both in before reading quantiles.
**
** The covered range is 0 .. 2^41 - 1 (about 36 minutes in ns); larger values
** are counted in the last bucket, while 'min' and 'max' stay exact.
** Negative samples (a clock that stepped back) are recorded as 0.
**
** The bucket array belongs to the caller ('hist_init' takes storage) so that
** a BT instance can carve all of its node histograms out of one allocation;
** nothing here allocates.  'hist_record' is inline and branch-light because
** it sits on the tick path.  Bucket counters are uint32_t: a single bucket
** wraps after 2^32 samples, which at one sample per microsecond is an hour
** spent entirely inside one bucket; 'count' is 64-bit and never wraps.
**
** Not thread-safe: a histogram is written by one thread (the tick thread, or
** the scheduler's owner thread draining completions).
*/
#ifndef LISPBT_HIST_H
#define LISPBT_HIST_H

#include "conf.h"

#include "sbuf.h"

#define HIST_FINE 7   /* sub-bucket bits: <= 0.39 % relative error */
#define HIST_COARSE 4 /* sub-bucket bits: <= 3.2 % relative error */
#define HIST_MIN_SUBBITS 1
#define HIST_MAX_SUBBITS 12
#define HIST_RANGE_BITS 41 /* values 0 .. 2^41-1 get exact buckets */

typedef struct hist_Hist {
    uint64_t count;    /* samples recorded */
    int64_t min, max;  /* exact extremes; INT64_MAX / INT64_MIN when empty */
    int64_t sum;       /* sum of recorded (clamped) samples; exact below
                          2^63 in total, wraps (defined) beyond */
    uint32_t nbuckets; /* == hist_nbuckets(sub_bits) */
    uint8_t sub_bits;  /* S: each power of two is split in 2^S buckets */
    uint32_t *b;       /* caller-owned bucket counters, 'nbuckets' long */
} hist_Hist;

typedef struct hist_Summary {
    uint64_t count;
    int64_t min, max, sum; /* 0 when empty */
    double mean;           /* 0 when empty */
    int64_t p50, p90, p99, p999;
} hist_Summary;

/* Number of uint32_t buckets a histogram with 'sub_bits' needs; 0 when
** 'sub_bits' is outside [HIST_MIN_SUBBITS, HIST_MAX_SUBBITS]. */
size_t hist_nbuckets(int sub_bits);

/* Initialise 'h' over caller-provided, zeroed 'storage' of
** hist_nbuckets(sub_bits) entries.  'storage' stays owned by the caller and
** must outlive 'h'.  Returns 0, or -1 for an invalid 'sub_bits'. */
int hist_init(hist_Hist *h, int sub_bits, uint32_t *storage);

/* Forget all samples (zeroes the bucket storage). */
void hist_reset(hist_Hist *h);

/* Add every sample of 'src' into 'dst'.  Returns 0, or -1 (nothing changed)
** when the two have different 'sub_bits'. */
int hist_merge(hist_Hist *dst, const hist_Hist *src);

/* Value at quantile 'q' (0..1; clamped): the middle of the bucket holding
** the sample of rank ceil(q * count), clamped to [min, max].  Rank 1 gives
** exactly 'min' and rank 'count' exactly 'max'.  0 when empty.  O(nbuckets). */
int64_t hist_quantile(const hist_Hist *h, double q);

/* Fill 'out' with count, min, max, sum, mean and p50/p90/p99/p999 in one
** pass over the buckets.  All zero when empty. */
void hist_summary(const hist_Hist *h, hist_Summary *out);

/* Smallest and largest value that land in bucket 'i' of a histogram with
** 'sub_bits' (the last bucket's upper bound is INT64_MAX). */
int64_t hist_bucket_lo(int sub_bits, size_t i);
int64_t hist_bucket_hi(int sub_bits, size_t i);

/* Append a terminal bar chart of 'h' to 'b': the range [min, max] is cut
** into 16 rows of equal value ratio (log-spaced), each holding whole
** buckets; rows that no bucket falls in are skipped.  One line per row:
**     "  1.02us ..   2.05us |#########            |     120  12.0%\n"
** 'width' is the bar width in characters (clamped to 8..200).  Values are
** rendered as durations (ns/us/ms/s).  An empty histogram renders
** "  (no samples)\n". */
void hist_render_ascii(const hist_Hist *h, sbuf *b, int width);

#define HIST_NBUCKETS(s) ((size_t)(HIST_RANGE_BITS + 1 - (s)) << (s)) /* hist_nbuckets */

/* Bucket index of 'v' (already clamped to >= 0) with 'sub_bits', before
** clamping to the last bucket.  Exposed for hist_record and tests. */
static inline uint64_t hist_index(unsigned sub_bits, uint64_t v) {
    /* below 2^S the bit S set here makes msb = S and shift = 0: index v */
    unsigned msb = 63u - (unsigned)__builtin_clzll(v | ((uint64_t)1 << sub_bits));
    unsigned shift = msb - sub_bits;
    return ((uint64_t)shift << sub_bits) + (v >> shift);
}

/* Count 'v' (< 0 counts as 0) into bucket array 'b' of a histogram with
** 'sub_bits', a compile-time constant at the hot call sites: the bucket only,
** for callers that keep count, min, max and sum beside it and fill them in
** before reading quantiles (the BT tick path). */
static inline void hist_bump(uint32_t *b, unsigned sub_bits, int64_t v) {
    uint64_t i = hist_index(sub_bits, v < 0 ? 0u : (uint64_t)v);
    uint64_t last = HIST_NBUCKETS(sub_bits) - 1u;
    b[i < last ? i : last]++;
}

/* Record one sample.  O(1), no allocation, no locks; compiles to a handful
** of conditional moves.  'h' must have been initialised. */
static inline void hist_record(hist_Hist *h, int64_t v) {
    uint64_t i;
    v = v < 0 ? 0 : v;
    i = hist_index(h->sub_bits, (uint64_t)v);
    i = i < h->nbuckets ? i : h->nbuckets - 1u;
    h->b[i]++;
    h->count++;
    h->sum = (int64_t)((uint64_t)h->sum + (uint64_t)v); /* wraps, no UB */
    h->min = v < h->min ? v : h->min;
    h->max = v > h->max ? v : h->max;
}


#endif
