/*
 * check.h: the unit tests' assertions. A failed CHECK prints file:line and
 * the expression and counts the failure; the test keeps going so one run
 * shows every broken case. main() returns CHECK_RESULT().
 */
#ifndef CMPCA_TESTS_CHECK_H
#define CMPCA_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(expr)                                                          \
    do {                                                                     \
        check_count++;                                                       \
        if (!(expr)) {                                                       \
            check_failures++;                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #expr);                                                  \
        }                                                                    \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                   \
    do {                                                                     \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);      \
        check_count++;                                                       \
        if (check_a_ != check_b_) {                                          \
            check_failures++;                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n",\
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);         \
        }                                                                    \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                   \
    do {                                                                     \
        const char *check_a_ = (a), *check_b_ = (b);                         \
        check_count++;                                                       \
        if (check_a_ == NULL || check_b_ == NULL ||                          \
            strcmp(check_a_, check_b_) != 0) {                               \
            check_failures++;                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n", \
                    __FILE__, __LINE__, #a, #b,                              \
                    check_a_ ? check_a_ : "(null)",                          \
                    check_b_ ? check_b_ : "(null)");                         \
        }                                                                    \
    } while (0)

#define CHECK_RESULT()                                                       \
    (fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures), \
     check_failures == 0 && check_count > 0 ? 0 : 1)

#endif
