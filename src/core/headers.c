/*
 * Custom request header text; see headers.h. One rule for both APIs, so that what a caller's
 * text may put on the wire does not depend on the interface that took it: never a field the
 * transport frames the request or resumes with, never a line that is no field.
 */
#include "headers.h"

#include <stdlib.h>
#include <string.h>

#include "wstr.h"

/* Fields dosvc writes or the connection owns: a second Host, a body's framing on a GET, a Range
 * beside resume's own, hop-by-hop fields of a connection the client manages. */
static const char *const transport_fields[] = {
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection",
    "te", "trailer", "upgrade", "expect", "range", "if-range",
};

/* RFC 9110 5.6.2: the characters of a token, which a field name is. */
static bool is_token_char(dos_char c)
{
    static const char others[] = "!#$%&'*+-.^_`|~";
    size_t i;

    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    for (i = 0; others[i]; i++)
        if (c == (dos_char)others[i]) return true;
    return false;
}

static bool is_transport_field(const dos_char *name, size_t len)
{
    size_t i;

    for (i = 0; i < sizeof(transport_fields) / sizeof(transport_fields[0]); i++)
        if (wstr_eq_ascii_ci_n(name, len, transport_fields[i])) return true;
    return false;
}

/* The line text[line..end) without its end: a field (DOS_OK, *is_field), no field, or refused. */
static dos_status check_line(const dos_char *text, size_t line, size_t end, enum dos_header_form form, bool *is_field)
{
    size_t name = line, i;

    for (i = line; i < end; i++)
        if ((text[i] < 0x20 && text[i] != '\t') || text[i] == 0x7f) return DOS_E_INVALID_ARG;
    while (name < end && text[name] != ':') name++;
    if ((*is_field = name < end))
    {
        for (i = line; i < name; i++)
            if (!is_token_char(text[i])) return DOS_E_INVALID_ARG;
        if (name == line || is_transport_field(text + line, name - line)) return DOS_E_INVALID_ARG;
    }
    return *is_field || form == DOS_HEADERS_LENIENT ? DOS_OK : DOS_E_INVALID_ARG;
}

dos_status dos_check_custom_headers(const dos_char *text, enum dos_header_form form, dos_char **wire)
{
    size_t len, line, end, stop, n = 0;
    dos_char *out = NULL;
    dos_status s = DOS_OK;
    bool is_field;

    if (!text) return DOS_E_INVALID_ARG;
    if ((len = wstr_len_max(text, DOS_MAX_CUSTOM_HEADERS)) > DOS_MAX_CUSTOM_HEADERS) return DOS_E_STRING_TOO_LONG;
    /* Each line keeps its text and gains at most its CRLF: twice the text, and its NUL. */
    if (wire && !(out = malloc((2 * len + 1) * sizeof(dos_char)))) return DOS_E_OUT_OF_MEMORY;
    for (line = 0; s == DOS_OK && line < len; line = end + 1)
    {
        for (end = line; end < len && text[end] != '\n'; end++) {}
        stop = end;
        if (end < len)
        {
            /* A line ends with CRLF, or with LF where DoSvc's way allows it. */
            if (end > line && text[end - 1] == '\r') stop--;
            else if (form == DOS_HEADERS_STRICT) s = DOS_E_INVALID_ARG;
        }
        if (s == DOS_OK) s = check_line(text, line, stop, form, &is_field);
        if (s == DOS_OK && is_field && out)
        {
            memcpy(out + n, text + line, (stop - line) * sizeof(dos_char));
            n += stop - line;
            out[n++] = '\r';
            out[n++] = '\n';
        }
    }
    if (s != DOS_OK)
    {
        free(out);
        return s;
    }
    if (out)
    {
        out[n] = 0;
        *wire = out;
    }
    return DOS_OK;
}
