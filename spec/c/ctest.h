/*
** ctest.h -- the one check harness of the C tests.  See LICENSE.
**
** Every spec/c/test_*.c includes this header and nothing else defines a
** check macro.  CHECK(c) counts a pass, or a failure printed with the
** failing expression and its place; CHECK_STR(a, b) does the same for two
** C strings, printing both on a mismatch.  Each test's main() ends with
** `return ctest_done();`, which prints the closing line "N passed, M failed"
** (ctest's FAIL_REGULAR_EXPRESSION reads it) and returns the exit status:
** non-zero when a check failed, and also when no check ran at all, so a test
** whose body was skipped can never pass vacuously.
**
** The JSON validator the C tests share is spec/c/ctest_json.h.
*/
#ifndef LISPBT_CTEST_H
#define LISPBT_CTEST_H

#include <stdio.h>
#include <string.h>

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

#define CHECK_STR(a, b)                                                              \
    do {                                                                             \
        const char *ctest_a_ = (a), *ctest_b_ = (b);                                 \
        if (ctest_a_ != NULL && ctest_b_ != NULL && strcmp(ctest_a_, ctest_b_) == 0) { \
            npass++;                                                                 \
        } else {                                                                     \
            nfail++;                                                                 \
            printf("FAIL %s:%d: '%s' != '%s'\n", __FILE__, __LINE__,                 \
                   ctest_a_ ? ctest_a_ : "(null)", ctest_b_ ? ctest_b_ : "(null)");  \
        }                                                                            \
    } while (0)

/* Print "N passed, M failed" and return main()'s exit status: 1 if any
** check failed or none ran, else 0.  A run with no check is reported as
** one failure so the closing line itself fails the ctest. */
static inline int ctest_done(void) {
    if (npass == 0 && nfail == 0) {
        printf("FAIL no check ran\n");
        nfail = 1;
    }
    printf("%d passed, %d failed\n", npass, nfail);
    return nfail != 0;
}

#endif
