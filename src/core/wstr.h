/*
 * UTF-16 string helpers for the core. Strings stay UTF-16 from the API into
 * the store and back (DESIGN rule 5); these are the few operations the store
 * and the validators need on them.
 */
#ifndef DOSVC_CORE_WSTR_H
#define DOSVC_CORE_WSTR_H

#include "dos.h"

/* Length of s, but stops counting at max + 1 so over-long input is cheap to reject. */
size_t wstr_len_max(const dos_char *s, size_t max);
size_t wstr_len(const dos_char *s);

/* malloc'd copy, or NULL when s is NULL or memory runs out (check s first). */
dos_char *wstr_dup(const dos_char *s);
/* Copy through the caller's allocator (CoTaskMemAlloc at the COM boundary);
 * a NULL s gives an empty string. */
dos_status wstr_dup_with(dos_alloc_fn alloc, const dos_char *s, dos_char **out);

int wstr_cmp(const dos_char *a, const dos_char *b);          /* NULL sorts first */
bool wstr_eq(const dos_char *a, const dos_char *b);           /* NULL == NULL */
/* ASCII case-insensitive prefix test: the schemes and device names we match are ASCII. */
bool wstr_starts_with_ascii_ci(const dos_char *s, const char *prefix);
bool wstr_eq_ascii_ci_n(const dos_char *s, size_t n, const char *ascii);

/* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" into out[39]. */
void wstr_from_guid(const dos_guid *g, dos_char out[39]);

#endif
