/* UTF-16 string helpers of the core; see wstr.h. */
#include "wstr.h"

#include <stdlib.h>
#include <string.h>

size_t wstr_len_max(const dos_char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n]) n++;
    return n;
}

size_t wstr_len(const dos_char *s)
{
    return wstr_len_max(s, SIZE_MAX - 1);
}

dos_char *wstr_dup(const dos_char *s)
{
    size_t size;
    dos_char *copy;

    if (!s) return NULL;
    size = (wstr_len(s) + 1) * sizeof(dos_char);
    if ((copy = malloc(size))) memcpy(copy, s, size);
    return copy;
}

dos_status wstr_dup_with(dos_alloc_fn alloc, const dos_char *s, dos_char **out)
{
    static const dos_char empty[1];
    size_t size;

    if (!s) s = empty;
    size = (wstr_len(s) + 1) * sizeof(dos_char);
    if (!(*out = alloc(size))) return DOS_E_OUT_OF_MEMORY;
    memcpy(*out, s, size);
    return DOS_OK;
}

int wstr_cmp(const dos_char *a, const dos_char *b)
{
    if (!a || !b) return (a != NULL) - (b != NULL);
    while (*a && *a == *b) a++, b++;
    return (*a > *b) - (*a < *b);
}

bool wstr_eq(const dos_char *a, const dos_char *b)
{
    return wstr_cmp(a, b) == 0;
}

static dos_char ascii_lower(dos_char c)
{
    return (c >= 'A' && c <= 'Z') ? (dos_char)(c + ('a' - 'A')) : c;
}

bool wstr_starts_with_ascii_ci(const dos_char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (!*s || ascii_lower(*s) != ascii_lower((dos_char)(unsigned char)*prefix)) return false;
    return true;
}

bool wstr_eq_ascii_ci_n(const dos_char *s, size_t n, const char *ascii)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!ascii[i] || ascii_lower(s[i]) != ascii_lower((dos_char)(unsigned char)ascii[i])) return false;
    return ascii[n] == 0;
}

void wstr_from_guid(const dos_guid *g, dos_char out[39])
{
    static const char hex[] = "0123456789ABCDEF";
    uint8_t bytes[16];
    size_t i, pos = 0;

    bytes[0] = (uint8_t)(g->data1 >> 24); bytes[1] = (uint8_t)(g->data1 >> 16);
    bytes[2] = (uint8_t)(g->data1 >> 8);  bytes[3] = (uint8_t)g->data1;
    bytes[4] = (uint8_t)(g->data2 >> 8);  bytes[5] = (uint8_t)g->data2;
    bytes[6] = (uint8_t)(g->data3 >> 8);  bytes[7] = (uint8_t)g->data3;
    memcpy(bytes + 8, g->data4, 8);

    out[pos++] = '{';
    for (i = 0; i < 16; i++)
    {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[pos++] = '-';
        out[pos++] = (dos_char)hex[bytes[i] >> 4];
        out[pos++] = (dos_char)hex[bytes[i] & 15];
    }
    out[pos++] = '}';
    out[pos] = 0;
}
