/*
 * The checks the C consumers in tests/c share: CHECK and CHECK_STATUS print
 * a "FAIL" line and count the failure; check_report prints the count or
 * "PASS" last and gives main's exit status (0 only if every check held).
 * Include after softroce.h, once per program.
 */
#ifndef SOFTROCE_TESTS_CHECK_H
#define SOFTROCE_TESTS_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                          \
        }                                                                        \
    } while (0)

/* The NTSTATUS's name from softroce_status_name, "?" for an unknown one. */
static inline const char *status_name(NTSTATUS s) {
    const char *n = softroce_status_name(s);
    return n ? n : "?";
}

#define CHECK_STATUS(expr, want)                                                 \
    do {                                                                         \
        NTSTATUS got_ = (expr);                                                  \
        if (got_ != (want)) {                                                    \
            printf("FAIL %s:%d: %s = %s (0x%08X), want %s\n", __FILE__, __LINE__, \
                   #expr, status_name(got_), (unsigned)got_, status_name(want)); \
            failures++;                                                          \
        }                                                                        \
    } while (0)

/* Prints how many checks failed, or "PASS"; returns main's exit status. */
static inline int check_report(void) {
    if (failures != 0) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("PASS\n");
    return 0;
}

#endif
