/*
 * A tiny test harness: each test is a function, CHECK counts failures, the
 * runner prints one line per failing check and a final "N passed, N failed"
 * (N = test functions), and the process exits non-zero if any failed.
 */
#ifndef SHAOBING_TEST_H
#define SHAOBING_TEST_H

#include <stdio.h>

extern unsigned test_failures; /* failed checks in the running test */

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            test_failures++;                                                     \
            printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);    \
        }                                                                        \
    } while (0)

#define CHECK_EQ(actual, expected)                                               \
    do {                                                                         \
        long long a_ = (long long)(actual), e_ = (long long)(expected);          \
        if (a_ != e_) {                                                          \
            test_failures++;                                                     \
            printf("  %s:%d: %s == %lld, expected %s == %lld\n", __FILE__,       \
                   __LINE__, #actual, a_, #expected, e_);                        \
        }                                                                        \
    } while (0)

void test_run(const char *name, void (*fn)(void));
#define RUN(fn) test_run(#fn, fn)

/* One suite per file. */
void suite_crc(void);
void suite_rtu(void);
void suite_functions(void);
void suite_rain(void);
void suite_level(void);
void suite_smoke(void);
void suite_siren(void);
void suite_node(void);

#endif
