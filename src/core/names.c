/*
 * Name validation; see names.h. The rules follow the archived DO/BITS pages
 * (spec 5.9): remote names are http(s) URLs, file:// URLs, UNC paths or
 * absolute paths; local names are absolute paths of at most MAX_PATH - 1
 * characters with no wildcards, no NTFS streams, no device names and no
 * \\?\ or \\.\ prefix.
 */
#include "names.h"

#include "wstr.h"

static bool is_sep(dos_char c) { return c == '\\' || c == '/'; }
static bool is_ascii_alpha(dos_char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(dos_char c) { return c >= '0' && c <= '9'; }

/* Characters no path component may hold (control characters included). */
static bool is_bad_path_char(dos_char c)
{
    return c < 0x20 || c == '*' || c == '?' || c == '<' || c == '>' || c == '"' || c == '|' || c == ':';
}

/* Characters no URL may hold: controls, space and the ones RFC 3986 excludes outright. */
static bool is_bad_url_char(dos_char c)
{
    return c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '\\'
        || c == '{' || c == '}' || c == '|' || c == '^' || c == '`';
}

/* CON, PRN, AUX, NUL, COM1-9, LPT1-9, alone or before an extension, in any case. */
static bool is_device_component(const dos_char *c, size_t len)
{
    static const char *const three[] = { "con", "prn", "aux", "nul" };
    size_t stem = 0, i;

    while (stem < len && c[stem] != '.' && c[stem] != ' ') stem++;
    if (stem == 3)
    {
        for (i = 0; i < 4; i++)
            if (wstr_eq_ascii_ci_n(c, 3, three[i])) return true;
    }
    if (stem == 4 && c[3] >= '1' && c[3] <= '9')
        return wstr_eq_ascii_ci_n(c, 3, "com") || wstr_eq_ascii_ci_n(c, 3, "lpt");
    return false;
}

/*
 * Checks the components of a path after its root: each non-empty unless it
 * is a trailing one (forbidden: a file name is required), no bad characters,
 * no device names.
 */
static dos_status check_components(const dos_char *p)
{
    const dos_char *start = p;

    if (!*p) return DOS_E_INVALID_ARG;
    for (;; p++)
    {
        if (*p && !is_sep(*p))
        {
            if (is_bad_path_char(*p)) return DOS_E_INVALID_ARG;
            continue;
        }
        if (p == start) return DOS_E_INVALID_ARG;          /* empty component */
        if (is_device_component(start, (size_t)(p - start))) return DOS_E_INVALID_ARG;
        if (!*p)
        {
            /* The last component names the file: "." or ".." would name a folder. */
            size_t len = (size_t)(p - start);
            return (len <= 2 && start[0] == '.' && start[len - 1] == '.') ? DOS_E_INVALID_ARG : DOS_OK;
        }
        start = p + 1;
    }
}

/* "\\server\share\file...": server, share and a file name; neither "." nor "?" devices. */
static dos_status check_unc(const dos_char *p)
{
    const dos_char *server = p + 2, *c;
    int separators = 0;

    if ((server[0] == '.' || server[0] == '?') && is_sep(server[1])) return DOS_E_INVALID_ARG;
    for (c = server; *c; c++)
        if (is_sep(*c)) separators++;
    if (separators < 2) return DOS_E_INVALID_ARG;
    return check_components(server);
}

static dos_status check_absolute_path(const dos_char *p)
{
    if (is_sep(p[0]) && is_sep(p[1])) return check_unc(p);
    if (is_ascii_alpha(p[0]) && p[1] == ':' && is_sep(p[2])) return check_components(p + 3);
    return DOS_E_INVALID_ARG;
}

/* After "http://" or "https://": a host (with an optional port), then an optional path. */
static dos_status check_http_rest(const dos_char *p)
{
    const dos_char *host = p;
    unsigned long port = 0;

    if (*p == '[')
    {
        /* An IPv6 literal (RFC 3986 3.2.2): hex digits, colons and dots between brackets. */
        for (p++; *p && *p != ']'; p++)
            if (!is_digit(*p) && !(*p >= 'a' && *p <= 'f') && !(*p >= 'A' && *p <= 'F') && *p != ':' && *p != '.')
                return DOS_E_INVALID_ARG;
        if (*p != ']' || p == host + 1) return DOS_E_INVALID_ARG;
        p++;
        if (*p && *p != '/' && *p != ':' && *p != '?' && *p != '#') return DOS_E_INVALID_ARG;
    }
    else
    {
        for (; *p && *p != '/' && *p != ':' && *p != '?' && *p != '#'; p++)
            if (is_bad_url_char(*p) || *p == '@' || *p == '[' || *p == ']') return DOS_E_INVALID_ARG;
        if (p == host) return DOS_E_INVALID_ARG;
    }
    if (*p == ':')
    {
        const dos_char *digits = ++p;
        for (; is_digit(*p); p++)
        {
            port = port * 10 + (*p - '0');
            if (port > 65535) return DOS_E_INVALID_ARG;
        }
        if (p == digits || port == 0) return DOS_E_INVALID_ARG;
        if (*p && *p != '/' && *p != '?' && *p != '#') return DOS_E_INVALID_ARG;
    }
    for (; *p; p++)
        if (is_bad_url_char(*p)) return DOS_E_INVALID_ARG;
    return DOS_OK;
}

dos_status dos_check_remote_name(const dos_char *name, dos_remote_kind *kind)
{
    dos_remote_kind k;
    dos_status s;
    size_t len;

    if (!name || !*name) return DOS_E_INVALID_ARG;
    len = wstr_len_max(name, DOS_MAX_URL);
    if (len > DOS_MAX_URL) return DOS_E_STRING_TOO_LONG;

    if (wstr_starts_with_ascii_ci(name, "http://"))
        k = DOS_REMOTE_HTTP, s = check_http_rest(name + 7);
    else if (wstr_starts_with_ascii_ci(name, "https://"))
        k = DOS_REMOTE_HTTPS, s = check_http_rest(name + 8);
    else if (wstr_starts_with_ascii_ci(name, "file://"))
    {
        const dos_char *p = name + 7;
        k = DOS_REMOTE_FILE_URL;
        s = *p ? DOS_OK : DOS_E_INVALID_ARG;
        for (; *p && s == DOS_OK; p++)
            if (*p < 0x20 || *p == '*' || *p == '?' || *p == '"' || *p == '<' || *p == '>') s = DOS_E_INVALID_ARG;
    }
    else if (is_sep(name[0]) && is_sep(name[1]))
        k = DOS_REMOTE_UNC, s = check_unc(name);
    else
        k = DOS_REMOTE_LOCAL_PATH, s = check_absolute_path(name);

    if (s == DOS_OK && kind) *kind = k;
    return s;
}

dos_status dos_check_local_name(const dos_char *name)
{
    if (!name || !*name) return DOS_E_INVALID_ARG;
    if (wstr_len_max(name, DOS_MAX_LOCAL_NAME) > DOS_MAX_LOCAL_NAME) return DOS_E_STRING_TOO_LONG;
    return check_absolute_path(name);
}
