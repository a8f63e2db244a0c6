/*
** rng.c -- xoshiro256** PRNG and hash64.  See rng.h.  See LICENSE for copyright.
*/
#include "conf.h"

#include <math.h>

#include "rng.h"

uint64_t hash64_mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t hash64(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return hash64_mix(h);
}

void rng_seed(rng_State *R, uint64_t seed) {
    int i;
    for (i = 0; i < 4; i++) {
        seed += 0x9e3779b97f4a7c15ULL;
        R->s[i] = hash64_mix(seed);
    }
    R->has_spare = 0;
    R->spare = 0;
}

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(rng_State *R) {
    uint64_t *s = R->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double rng_uniform(rng_State *R) {
    return (double)(rng_next(R) >> 11) * 0x1.0p-53;
}

double rng_normal(rng_State *R, double mean, double sd) {
    double u, v, r;
    if (R->has_spare) {
        R->has_spare = 0;
        return mean + sd * R->spare;
    }
    do {
        u = 2.0 * rng_uniform(R) - 1.0;
        v = 2.0 * rng_uniform(R) - 1.0;
        r = u * u + v * v;
    } while (r >= 1.0 || r == 0.0);
    r = sqrt(-2.0 * log(r) / r);
    R->spare = v * r;
    R->has_spare = 1;
    return mean + sd * u * r;
}

int64_t rng_int(rng_State *R, int64_t lo, int64_t hi) {
    uint64_t range = (uint64_t)hi - (uint64_t)lo;
    uint64_t x, limit;
    if (range == UINT64_MAX) {
        return (int64_t)rng_next(R);
    }
    range += 1;
    limit = UINT64_MAX - (UINT64_MAX % range);
    do {
        x = rng_next(R);
    } while (x >= limit);
    return (int64_t)((uint64_t)lo + x % range);
}
