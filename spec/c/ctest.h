/*
** ctest.h -- the check harness shared by the C tests.  See LICENSE.
**
** CHECK(c) counts a pass or prints the failing expression with its place;
** each test's main() prints the closing line "N passed, M failed" from
** npass/nfail and exits non-zero when anything failed.
*/
#ifndef LISPBT_CTEST_H
#define LISPBT_CTEST_H

#include <stdio.h>

static int npass, nfail;

#define CHECK(c)                                                \
    do {                                                        \
        if (c) {                                                \
            npass++;                                            \
        } else {                                                \
            nfail++;                                            \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); \
        }                                                       \
    } while (0)

#endif
