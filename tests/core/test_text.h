/*
 * UTF-16 text helpers shared by the core tests: literals, strings of an exact
 * length (for the limit tests) and an assertion that shows both strings.
 */
#ifndef DOSVC_TESTS_CORE_TEST_TEXT_H
#define DOSVC_TESTS_CORE_TEST_TEXT_H

#include <stdlib.h>
#include <string.h>

#include "dos.h"

/* W(u"...") : a UTF-16 literal as the core's string type. */
#define W(literal) ((const dos_char *)(literal))

/* A non-NULL pointer an out parameter starts with, so a test sees whether a call cleared it. */
#define POISON(type) ((type)(void *)&(char){ 0 })

static inline size_t test_wlen(const dos_char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

/*
 * A malloc'd string of exactly length units: the ASCII prefix, then fill
 * repeated, then the ASCII suffix. The caller frees it.
 */
static inline dos_char *test_wstr_of_length(const char *prefix, size_t length, char fill, const char *suffix)
{
    size_t plen = strlen(prefix), slen = strlen(suffix), i;
    dos_char *s = malloc((length + 1) * sizeof(*s));

    if (!s || plen + slen > length) abort();
    for (i = 0; i < length; i++)
    {
        char c = i < plen ? prefix[i] : i >= length - slen ? suffix[i - (length - slen)] : fill;
        s[i] = (dos_char)(unsigned char)c;
    }
    s[length] = 0;
    return s;
}

/* ASCII rendering for failure messages; other code units show as '?'. */
static inline const char *test_narrow(const dos_char *s, char *buf, size_t size)
{
    size_t i = 0;

    if (!s) return "(null)";
    for (; s[i] && i + 1 < size; i++) buf[i] = s[i] < 0x80 ? (char)s[i] : '?';
    buf[i] = 0;
    return buf;
}

static inline int test_wstr_equal(const dos_char *a, const dos_char *b)
{
    if (!a || !b) return a == b;
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

#define assert_wstr_equal(actual, expected)                                           \
    do {                                                                              \
        const dos_char *actual_ = (actual), *expected_ = (expected);                  \
        static char abuf_[8192], ebuf_[8192];                                         \
        if (!test_wstr_equal(actual_, expected_))                                     \
            fail_msg("\"%s\" != \"%s\"", test_narrow(actual_, abuf_, sizeof(abuf_)), \
                     test_narrow(expected_, ebuf_, sizeof(ebuf_)));                   \
    } while (0)

#endif
