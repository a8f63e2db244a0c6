/*
** rng.h -- seedable PRNG (xoshiro256**), one state per owner, plus hash64.
** See LICENSE for copyright.
**
** No hidden state: every user (a Lisp rng object, one MCTS run) owns its
** rng_State, so runs replay exactly for a given seed.
*/
#ifndef LISPBT_RNG_H
#define LISPBT_RNG_H

#include "conf.h"

typedef struct rng_State {
    uint64_t s[4];
    double spare;   /* second normal deviate of the last Box-Muller pair */
    int has_spare;
} rng_State;

/* None of these allocates, locks or fails; 'R' is the caller's and must be
** seeded before use. */

/* Seed from one 64-bit value (expanded with splitmix64); drops any spare
** normal deviate, so equal seeds give equal sequences. */
void rng_seed(rng_State *R, uint64_t seed);
/* The next 64 random bits. */
uint64_t rng_next(rng_State *R);
/* Uniform double in [0, 1). */
double rng_uniform(rng_State *R);
/* Normal deviate with the given mean and standard deviation. */
double rng_normal(rng_State *R, double mean, double sd);
/* Uniform integer in [lo, hi] (inclusive; requires lo <= hi), unbiased. */
int64_t rng_int(rng_State *R, int64_t lo, int64_t hi);

/* 64-bit hash of bytes (FNV-1a folded through a splitmix64 finaliser). */
uint64_t hash64(const void *p, size_t n);
/* Mix a 64-bit value (splitmix64 finaliser); for combining seeds. */
uint64_t hash64_mix(uint64_t x);

#endif
