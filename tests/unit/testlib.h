/*
 * testlib.h: the few macros our unit tests need.  Each test is a function
 * named for the behaviour it checks; TEST_RUN prints "ok" or "not ok" for
 * it, and test_done() prints the count and sets the exit status.
 */
#ifndef PRESGW_TESTLIB_H
#define PRESGW_TESTLIB_H

#include <stdio.h>
#include <string.h>

static int test_failed_checks;
static int test_passed;
static int test_failed;

#define CHECK(cond) do {                                               \
        if (!(cond)) {                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n",               \
                __FILE__, __LINE__, #cond);                            \
            test_failed_checks++;                                      \
        }                                                              \
    } while (0)

#define CHECK_STR(a, b) do {                                           \
        const char *check_a_ = (a), *check_b_ = (b);                   \
        if (check_a_ == NULL || check_b_ == NULL ||                    \
            strcmp(check_a_, check_b_) != 0) {                         \
            fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__,      \
                __LINE__, check_a_ ? check_a_ : "(null)",              \
                check_b_ ? check_b_ : "(null)");                       \
            test_failed_checks++;                                      \
        }                                                              \
    } while (0)

#define TEST_RUN(fn) do {                                              \
        int before_ = test_failed_checks;                              \
        fn();                                                          \
        if (test_failed_checks == before_) {                           \
            test_passed++;                                             \
            printf("ok %s\n", #fn);                                    \
        } else {                                                       \
            test_failed++;                                             \
            printf("not ok %s\n", #fn);                                \
        }                                                              \
    } while (0)

static inline int
test_done(void)
{
    printf("%d passed, %d failed\n", test_passed, test_failed);
    return test_failed ? 1 : 0;
}

#endif
