/*
 * Name validation; see names.h. The rules follow the archived DO/BITS pages
 * (spec 5.9): remote names are http(s) URLs, file:// URLs, UNC paths or
 * absolute paths; local names are absolute paths of at most MAX_PATH - 1
 * characters with no wildcards, no NTFS streams, no device names, no
 * \\?\ or \\.\ prefix, no pipe or mailslot share and a last component that
 * names a file. A file:// URL is held to the rules of the path it decodes to,
 * which is also the path the transport opens.
 */
#include "names.h"

#include <string.h>

#include "wstr.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

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

/* CON, PRN, AUX, NUL, CONIN$, CONOUT$ (the console's two ends, devices in any folder as in
 * Wine's RtlIsDosDeviceName_U), COM0-9 and LPT0-9 (and COM or LPT with a superscript 1, 2 or 3,
 * which Windows also takes for devices), alone or before an extension, in any case. */
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
    if (stem == 4 && (is_digit(c[3]) || c[3] == 0xB9 || c[3] == 0xB2 || c[3] == 0xB3))
        return wstr_eq_ascii_ci_n(c, 3, "com") || wstr_eq_ascii_ci_n(c, 3, "lpt");
    return (stem == 6 && wstr_eq_ascii_ci_n(c, 6, "conin$")) || (stem == 7 && wstr_eq_ascii_ci_n(c, 7, "conout$"));
}

/* Win32 strips a path's trailing dots and spaces: a last component of nothing else names the folder before it. */
static bool is_dots_and_spaces(const dos_char *c, size_t len)
{
    for (; len; c++, len--)
        if (*c != '.' && *c != ' ') return false;
    return true;
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
        /* The last component names the file: ".", "..", " ." or "..." would name a folder. Before
         * it Win32 strips one trailing dot at most and "..." is a name, so any component will do. */
        if (!*p) return is_dots_and_spaces(start, (size_t)(p - start)) ? DOS_E_INVALID_ARG : DOS_OK;
        start = p + 1;
    }
}

/* Whether the share at c (up to a separator) is "pipe" or "mailslot", in any case. */
static bool is_ipc_share(const dos_char *c)
{
    size_t len = 0;

    while (c[len] && !is_sep(c[len])) len++;
    return (len == 4 && wstr_eq_ascii_ci_n(c, 4, "pipe")) || (len == 8 && wstr_eq_ascii_ci_n(c, 8, "mailslot"));
}

/*
 * "\\server\share\file...": server, share and a file name; neither "." nor "?" devices, nor
 * "\\host\pipe\name" or "\\host\mailslot\name", which Windows opens as a pipe or mailslot on host.
 */
static dos_status check_unc(const dos_char *p)
{
    const dos_char *server = p + 2, *share = NULL, *c;
    int separators = 0;

    if ((server[0] == '.' || server[0] == '?') && is_sep(server[1])) return DOS_E_INVALID_ARG;
    for (c = server; *c; c++)
        if (is_sep(*c) && ++separators == 1) share = c + 1;
    if (separators < 2 || is_ipc_share(share)) return DOS_E_INVALID_ARG;
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

static int hex_value(dos_char c)
{
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The byte of the escape "%XX" at p, or -1. */
static int escaped_byte(const dos_char *p)
{
    int hi, lo;
    if (p[0] != '%' || (hi = hex_value(p[1])) < 0 || (lo = hex_value(p[2])) < 0) return -1;
    return hi << 4 | lo;
}

/*
 * Decodes the character at *p, an escaped UTF-8 sequence (RFC 3986 2.1, 2.5) or a UTF-16 code
 * unit as it stands, into UTF-16 at out (one or two units); 0 for a malformed sequence (a lead
 * byte without its continuation escapes, overlong, a surrogate) or a NUL. A '%' that starts no
 * escape ("100%.txt") is itself, as PathCreateFromUrlW and Windows' own file URLs take it.
 */
static size_t decode_char(const dos_char **p, dos_char out[2])
{
    static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
    uint32_t cp;
    int b, len, i;

    if ((b = escaped_byte(*p)) < 0)
    {
        out[0] = *(*p)++;
        return 1;
    }
    if (!b) return 0;
    if (b < 0x80) len = 1, cp = (uint32_t)b;
    else if (b >= 0xC2 && b <= 0xDF) len = 2, cp = (uint32_t)b & 0x1F;
    else if (b >= 0xE0 && b <= 0xEF) len = 3, cp = (uint32_t)b & 0x0F;
    else if (b >= 0xF0 && b <= 0xF4) len = 4, cp = (uint32_t)b & 0x07;
    else return 0;
    for (i = 1; i < len; i++)
    {
        if ((b = escaped_byte(*p + 3 * i)) < 0 || (b & 0xC0) != 0x80) return 0;
        cp = cp << 6 | ((uint32_t)b & 0x3F);
    }
    if (cp < least[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    *p += 3 * len;
    if (cp < 0x10000)
    {
        out[0] = (dos_char)cp;
        return 1;
    }
    cp -= 0x10000;
    out[0] = (dos_char)(0xD800 | cp >> 10);
    out[1] = (dos_char)(0xDC00 | (cp & 0x3FF));
    return 2;
}

/*
 * The path a file URL names, after "file://": "file:///C:/dir/f" and "file://localhost/C:/dir/f"
 * are "C:\dir\f" ("C|" too), "file://server/share/f" and "file:////server/share/f" are
 * "\\server\share\f". Escapes are decoded and '/' is '\' before the form is read, so the
 * path checked is the path opened, however it was spelled. What is left is a path of no
 * other form (relative, or from the current drive's root), which check_absolute_path refuses.
 */
static dos_status file_url_path(const dos_char *p, dos_char *out, size_t size)
{
    dos_char text[DOS_MAX_URL + 3], *d = text + 2, *path;     /* room for the "\\" of a host form */
    size_t n = 0, got, len;

    while (*p)
    {
        if (n + 2 >= ARRAY_LEN(text) - 2) return DOS_E_STRING_TOO_LONG;
        if (!(got = decode_char(&p, d + n))) return DOS_E_INVALID_ARG;
        for (; got; got--, n++)
            if (d[n] == '/') d[n] = '\\';
    }
    d[n] = 0;
    if (n >= 10 && wstr_eq_ascii_ci_n(d, 9, "localhost") && d[9] == '\\') d += 9;
    if (is_ascii_alpha(d[0]) && (d[1] == ':' || d[1] == '|')) path = d;
    else if (d[0] == '\\' && is_ascii_alpha(d[1]) && (d[2] == ':' || d[2] == '|')) path = d + 1;
    else if (d[0] == '\\') path = d;                  /* "\\server\share..." already, or no form */
    else
    {
        path = d - 2;                                  /* "server\share\f" */
        path[0] = path[1] = '\\';
    }
    if (path[1] == '|') path[1] = ':';
    if ((len = wstr_len(path)) >= size) return DOS_E_STRING_TOO_LONG;
    memcpy(out, path, (len + 1) * sizeof(dos_char));
    return DOS_OK;
}

dos_status dos_remote_file_path(const dos_char *name, dos_char *out, size_t size)
{
    dos_status s;
    size_t len;

    if (!name || !*name) return DOS_E_INVALID_ARG;
    if (wstr_starts_with_ascii_ci(name, "file://"))
    {
        if ((s = file_url_path(name + 7, out, size)) != DOS_OK) return s;
    }
    else
    {
        if ((len = wstr_len_max(name, size)) >= size) return DOS_E_STRING_TOO_LONG;
        memcpy(out, name, (len + 1) * sizeof(dos_char));
    }
    return check_absolute_path(out);
}

dos_status dos_check_remote_name(const dos_char *name, dos_remote_kind *kind)
{
    dos_char path[DOS_MAX_URL + 3];
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
    else
    {
        k = wstr_starts_with_ascii_ci(name, "file://") ? DOS_REMOTE_FILE_URL
            : is_sep(name[0]) && is_sep(name[1])      ? DOS_REMOTE_UNC
                                                       : DOS_REMOTE_LOCAL_PATH;
        s = dos_remote_file_path(name, path, ARRAY_LEN(path));   /* room for any name of DOS_MAX_URL */
    }

    if (s == DOS_OK && kind) *kind = k;
    return s;
}

dos_status dos_check_local_name(const dos_char *name)
{
    if (!name || !*name) return DOS_E_INVALID_ARG;
    if (wstr_len_max(name, DOS_MAX_LOCAL_NAME) > DOS_MAX_LOCAL_NAME) return DOS_E_STRING_TOO_LONG;
    return check_absolute_path(name);
}
