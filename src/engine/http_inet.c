/*
 * HTTP exchanges over WinINet: for HTTPS (Schannel) and for every request that
 * goes through a proxy. WinINet's own redirects, authentication, cookies and
 * cache are turned off: the protocol logic (http.c) does those itself.
 */
#include "http.h"

#include <stdlib.h>
#include <string.h>

struct inet_response
{
    struct http_response base;
    HINTERNET connect;    /* of this request alone: WinINet ends a request with its connection handle */
    HINTERNET request;
};

static struct inet_response *impl_from(struct http_response *r)
{
    return CONTAINING_RECORD(r, struct inet_response, base);
}

static const DWORD field_queries[] = {
    [HTTP_FIELD_CONTENT_LENGTH] = HTTP_QUERY_CONTENT_LENGTH,
    [HTTP_FIELD_CONTENT_RANGE] = HTTP_QUERY_CONTENT_RANGE,
    [HTTP_FIELD_LOCATION] = HTTP_QUERY_LOCATION,
    [HTTP_FIELD_ETAG] = HTTP_QUERY_ETAG,
    [HTTP_FIELD_LAST_MODIFIED] = HTTP_QUERY_LAST_MODIFIED,
    [HTTP_FIELD_RETRY_AFTER] = HTTP_QUERY_RETRY_AFTER,
};

static BOOL inet_field(struct http_response *iface, enum http_field field, WCHAR *text, DWORD chars)
{
    DWORD size = chars * sizeof(WCHAR);
    return HttpQueryInfoW(impl_from(iface)->request, field_queries[field], text, &size, NULL);
}

static WCHAR *inet_all_fields(struct http_response *iface)
{
    HINTERNET request = impl_from(iface)->request;
    WCHAR *text = NULL;
    DWORD size = 0;

    HttpQueryInfoW(request, HTTP_QUERY_RAW_HEADERS_CRLF, NULL, &size, NULL);
    if (size && (text = malloc(size + sizeof(WCHAR))) && !HttpQueryInfoW(request, HTTP_QUERY_RAW_HEADERS_CRLF, text, &size, NULL))
    {
        free(text);
        text = NULL;
    }
    return text;
}

static BOOL inet_read(struct http_response *iface, void *buffer, DWORD size, DWORD *got)
{
    return InternetReadFile(impl_from(iface)->request, buffer, size, got);
}

static void inet_close(struct http_response *iface)
{
    struct inet_response *r = impl_from(iface);
    /* Only the worker that opened them closes its handles: WinINet reuses a closed handle's
     * number, so one closed by another thread could come back as someone else's request. */
    if (r->request) InternetCloseHandle(r->request);
    if (r->connect) InternetCloseHandle(r->connect);
    free(r);
}

static const struct http_response_ops inet_ops = { inet_field, inet_all_fields, inet_read, inet_close };

/*
 * Wine's WinINet remembers, per server and for the whole process, the certificate errors one
 * request chose to ignore, and applies them to every later request to that server. A request
 * whose connection ignores more than this job allows is failed here, with the error the
 * certificate would have given.
 */
static BOOL check_certificate(HINTERNET request, DWORD allowed)
{
    DWORD flags = 0, size = sizeof(flags), extra;

    if (!InternetQueryOptionW(request, INTERNET_OPTION_SECURITY_FLAGS, &flags, &size)) return TRUE;
    extra = flags & ~allowed & (SECURITY_FLAG_IGNORE_UNKNOWN_CA | SECURITY_FLAG_IGNORE_CERT_CN_INVALID
                                | SECURITY_FLAG_IGNORE_CERT_DATE_INVALID | SECURITY_FLAG_IGNORE_WRONG_USAGE);
    if (!extra) return TRUE;
    if (extra & SECURITY_FLAG_IGNORE_UNKNOWN_CA) SetLastError(ERROR_INTERNET_INVALID_CA);
    else if (extra & SECURITY_FLAG_IGNORE_CERT_CN_INVALID) SetLastError(ERROR_INTERNET_SEC_CERT_CN_INVALID);
    else if (extra & SECURITY_FLAG_IGNORE_CERT_DATE_INVALID) SetLastError(ERROR_INTERNET_SEC_CERT_DATE_INVALID);
    else SetLastError(ERROR_INTERNET_SEC_CERT_ERRORS);
    return FALSE;
}

BOOL http_inet_send(const struct http_request *q, struct http_response **out)
{
    DWORD flags = INTERNET_FLAG_NO_CACHE_WRITE | INTERNET_FLAG_RELOAD | INTERNET_FLAG_NO_COOKIES
                        | INTERNET_FLAG_NO_AUTO_REDIRECT | INTERNET_FLAG_NO_UI | INTERNET_FLAG_KEEP_CONNECTION
                        | INTERNET_FLAG_NO_AUTH;
    WCHAR host[INTERNET_MAX_HOST_NAME_LENGTH], path[INTERNET_MAX_URL_LENGTH];
    URL_COMPONENTSW parts;
    struct inet_response *r;
    DWORD size = sizeof(DWORD), error;

    *out = NULL;
    memset(&parts, 0, sizeof(parts));
    parts.dwStructSize = sizeof(parts);
    parts.lpszHostName = host;
    parts.dwHostNameLength = ARRAYSIZE(host);
    parts.lpszUrlPath = path;
    parts.dwUrlPathLength = ARRAYSIZE(path);
    parts.dwExtraInfoLength = 1;
    if (!InternetCrackUrlW(q->url, 0, 0, &parts)) return FALSE;
    if (parts.lpszExtraInfo && lstrlenW(path) + lstrlenW(parts.lpszExtraInfo) < (int)ARRAYSIZE(path))
        lstrcatW(path, parts.lpszExtraInfo);
    if (!(r = calloc(1, sizeof(*r))))
    {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return FALSE;
    }
    r->base.ops = &inet_ops;
    /* A connection that ignored certificate errors is never kept for another request. */
    if (parts.nScheme == INTERNET_SCHEME_HTTPS) flags |= INTERNET_FLAG_SECURE;
    if (q->security) flags &= ~INTERNET_FLAG_KEEP_CONNECTION;
    if (!(r->connect = InternetConnectW(q->session, host, parts.nPort, NULL, NULL, INTERNET_SERVICE_HTTP, 0, 0))
        || !(r->request = HttpOpenRequestW(r->connect, L"GET", path, NULL, NULL, NULL, flags, 0)))
        goto failed;
    if (q->security)
    {
        DWORD current = 0, len = sizeof(current);
        InternetQueryOptionW(r->request, INTERNET_OPTION_SECURITY_FLAGS, &current, &len);
        current |= q->security;
        InternetSetOptionW(r->request, INTERNET_OPTION_SECURITY_FLAGS, &current, sizeof(current));
    }
    if (q->cert) InternetSetOptionW(r->request, INTERNET_OPTION_CLIENT_CERT_CONTEXT, (void *)q->cert, sizeof(*q->cert));
    if (q->receive_timeout_ms)
        InternetSetOptionW(r->request, INTERNET_OPTION_RECEIVE_TIMEOUT, (void *)&q->receive_timeout_ms, sizeof(DWORD));
    /* Before sending (the server's remembered errors), and after (a connection kept from before). */
    if ((parts.nScheme == INTERNET_SCHEME_HTTPS && !check_certificate(r->request, q->security))
        || !HttpSendRequestW(r->request, q->headers, q->headers ? (DWORD)-1 : 0, NULL, 0)
        || (parts.nScheme == INTERNET_SCHEME_HTTPS && !check_certificate(r->request, q->security)))
        goto failed;
    if (!HttpQueryInfoW(r->request, HTTP_QUERY_STATUS_CODE | HTTP_QUERY_FLAG_NUMBER, &r->base.status, &size, NULL))
    {
        SetLastError(ERROR_HTTP_INVALID_SERVER_RESPONSE);
        goto failed;
    }
    *out = &r->base;
    return TRUE;

failed:
    error = GetLastError();
    inet_close(&r->base);
    SetLastError(error);
    return FALSE;
}
