/*
 * Our own HTTP/1.1 client on Winsock, for plain http:// that reaches its server
 * directly (docs/transport.md). It reads bodies straight into the caller's
 * buffer, waits on the socket's event and the run's stop event together (so a
 * Cancel never waits behind a silent server), has its own receive timeout, and
 * sees every byte on the wire, so a body longer than announced is caught.
 * A few idle connections are kept per process for the next request
 * (keep-alive); one that fails before it answers (the server closed it, sent
 * leftovers or a closing 408 as the request went out) is replaced once. What a server
 * may send around a body (head, interim answers, chunk-size lines, trailer) is
 * capped and must come within the receive timeout.
 */
#include <winsock2.h>
#include <ws2tcpip.h>

#include "http.h"
#include "tls.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUFFER_SIZE (64u << 10)     /* the largest response head, and the read-ahead buffer */
#define CONNECT_TIMEOUT_MS 60000
#define POOL_SIZE 8                 /* idle connections kept */
#define POOL_IDLE_MS 30000          /* and for how long */
#define GATHER_MS 50                /* how long a body read gathers bytes before it returns */
#define MAX_INTERIM 32              /* interim (1xx) answers before the answer */
#define MAX_CHUNK_LINE 4096         /* a chunk's size line, extensions and CRLF included */
#define MAX_TRAILER BUFFER_SIZE     /* the trailer's fields, as much as a head */
#define USER_AGENT "Microsoft BITS/7.8 dosvc"

struct connection
{
    SOCKET s;
    WSAEVENT event;                 /* FD_READ, FD_WRITE, FD_CONNECT, FD_CLOSE */
    WCHAR host[INTERNET_MAX_HOST_NAME_LENGTH];
    INTERNET_PORT port;
    ULONGLONG idle_since;
    struct tls *tls;                /* https://, or NULL */
    BOOL shared;                    /* may serve another request: no client certificate presented */
    DWORD allowed;                  /* TLS: the certificate errors its check let pass, */
    BOOL revocation;                /* and whether it checked revocation */
    /* For the I/O lent to TLS: the current request's stop event, and in io its deadline. */
    struct tls_io io;
    HANDLE stop;
};

enum framing
{
    BODY_NONE,                      /* 1xx, 204, 304 */
    BODY_LENGTH,                    /* Content-Length */
    BODY_CHUNKED,
    BODY_TO_CLOSE,                  /* until the server closes */
};

struct sock_response
{
    struct http_response base;
    struct connection *c;
    HANDLE stop;
    DWORD timeout;
    ULONGLONG framing_deadline;     /* while a head, a chunk-size line or the trailer is read: when
                                     * all of it must have come; else 0 */
    char *buf;                      /* BUFFER_SIZE bytes: received, not yet consumed: [start, end) */
    size_t start, end;
    char *head;                     /* the response head, NUL-terminated, lines ending in CRLF */
    enum framing framing;
    uint64_t left;                  /* BODY_LENGTH: of the body; BODY_CHUNKED: of the current chunk */
    BOOL chunks_begun;              /* BODY_CHUNKED: a chunk's size line was read */
    DWORD deferred;                 /* an error that came after bytes a read returned, for the next read */
    BOOL keep_alive;
    BOOL done;                      /* the body was read to its end */
    BOOL broken;                    /* the connection is in an unknown state */
};

static struct connection *pool[POOL_SIZE];
static SRWLOCK pool_lock = SRWLOCK_INIT;
static INIT_ONCE winsock_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK start_winsock(INIT_ONCE *once, void *param, void **context)
{
    WSADATA data;
    return !WSAStartup(MAKEWORD(2, 2), &data);
}

/* Winsock's errors as the WinINet errors a WinINet request would have failed with. */
static DWORD inet_error(int wsa)
{
    switch (wsa)
    {
    case WSAECONNRESET:
    case WSAENETRESET: return ERROR_INTERNET_CONNECTION_RESET;
    case WSAECONNABORTED:
    case WSAESHUTDOWN: return ERROR_INTERNET_CONNECTION_ABORTED;
    case WSAECONNREFUSED:
    case WSAENETUNREACH:
    case WSAEHOSTUNREACH:
    case WSAENETDOWN:
    case WSAEADDRNOTAVAIL: return ERROR_INTERNET_CANNOT_CONNECT;
    case WSAETIMEDOUT: return ERROR_INTERNET_TIMEOUT;
    case WSAHOST_NOT_FOUND:
    case WSANO_DATA:
    case WSATRY_AGAIN: return ERROR_INTERNET_NAME_NOT_RESOLVED;
    default: return ERROR_INTERNET_CONNECTION_ABORTED;
    }
}

static BOOL fail(DWORD error)
{
    SetLastError(error);
    return FALSE;
}

static void close_connection(struct connection *c)
{
    if (!c) return;
    tls_free(c->tls);
    closesocket(c->s);
    WSACloseEvent(c->event);
    free(c);
}

/*
 * Waits until the socket has news (FD_* events) or the stop event is signalled or timeout
 * passes. TRUE to try the socket again; FALSE with the last error set. *events gets what
 * happened, with the socket's error for each.
 */
static BOOL wait_socket(struct connection *c, HANDLE stop, DWORD timeout, WSANETWORKEVENTS *events)
{
    HANDLE handles[2] = { c->event, stop };

    switch (WaitForMultipleObjects(stop ? 2 : 1, handles, FALSE, timeout))
    {
    case WAIT_OBJECT_0:
        if (WSAEnumNetworkEvents(c->s, c->event, events)) return fail(inet_error(WSAGetLastError()));
        return TRUE;
    case WAIT_OBJECT_0 + 1: return fail(ERROR_OPERATION_ABORTED);
    case WAIT_TIMEOUT: return fail(ERROR_INTERNET_TIMEOUT);
    default: return fail(ERROR_INTERNET_INTERNAL_ERROR);
    }
}

/* A connection to host:port, from the pool if one there is still open and quiet; a TLS one only
 * if its certificate was checked exactly as this request would check it. */
static struct connection *pool_take(const WCHAR *host, INTERNET_PORT port, BOOL secure, DWORD allowed, BOOL revocation)
{
    ULONGLONG now = GetTickCount64();
    struct connection *found = NULL, *stale[POOL_SIZE];
    unsigned i, n = 0;

    AcquireSRWLockExclusive(&pool_lock);
    for (i = 0; i < POOL_SIZE; i++)
    {
        struct connection *c = pool[i];
        if (!c) continue;
        if (now - c->idle_since > POOL_IDLE_MS) stale[n++] = c, pool[i] = NULL;
        else if (!found && c->port == port && !c->tls == !secure && !lstrcmpiW(c->host, host)
                 && (!secure || (c->allowed == allowed && !c->revocation == !revocation)))
            found = c, pool[i] = NULL;
    }
    ReleaseSRWLockExclusive(&pool_lock);
    while (n) close_connection(stale[--n]);
    if (found)
    {
        /* Anything to read on an idle connection, even its end, means it is no use. */
        char byte;
        int r = recv(found->s, &byte, 1, MSG_PEEK);
        if (r >= 0 || WSAGetLastError() != WSAEWOULDBLOCK)
        {
            close_connection(found);
            found = NULL;
        }
    }
    return found;
}

static void pool_put(struct connection *c)
{
    struct connection *evicted = NULL;
    unsigned i, oldest = 0;

    c->idle_since = GetTickCount64();
    AcquireSRWLockExclusive(&pool_lock);
    for (i = 0; i < POOL_SIZE && pool[i]; i++)
        if (pool[i]->idle_since < pool[oldest]->idle_since) oldest = i;
    if (i == POOL_SIZE) evicted = pool[i = oldest];
    pool[i] = c;
    ReleaseSRWLockExclusive(&pool_lock);
    close_connection(evicted);
}

void http_socket_shutdown(void)
{
    unsigned i;
    AcquireSRWLockExclusive(&pool_lock);
    for (i = 0; i < POOL_SIZE; i++)
    {
        close_connection(pool[i]);
        pool[i] = NULL;
    }
    ReleaseSRWLockExclusive(&pool_lock);
}

/* Connects to one address, giving up when stop is signalled. */
static struct connection *connect_address(const ADDRINFOW *ai, HANDLE stop, DWORD *error)
{
    struct connection *c;
    WSANETWORKEVENTS events;
    BOOL nodelay = TRUE;

    if (!(c = calloc(1, sizeof(*c))))
    {
        *error = ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    c->s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    c->event = WSACreateEvent();
    if (c->s == INVALID_SOCKET || c->event == WSA_INVALID_EVENT
        || WSAEventSelect(c->s, c->event, FD_READ | FD_WRITE | FD_CONNECT | FD_CLOSE))
    {
        *error = inet_error(WSAGetLastError());
        goto failed;
    }
    setsockopt(c->s, IPPROTO_TCP, TCP_NODELAY, (const char *)&nodelay, sizeof(nodelay));
    {
        int rcvbuf = 4 << 20;
        setsockopt(c->s, SOL_SOCKET, SO_RCVBUF, (const char *)&rcvbuf, sizeof(rcvbuf));
    }
    if (!connect(c->s, ai->ai_addr, (int)ai->ai_addrlen)) return c;
    if (WSAGetLastError() != WSAEWOULDBLOCK)
    {
        *error = inet_error(WSAGetLastError());
        goto failed;
    }
    for (;;)
    {
        if (!wait_socket(c, stop, CONNECT_TIMEOUT_MS, &events))
        {
            *error = GetLastError() == ERROR_INTERNET_TIMEOUT ? ERROR_INTERNET_CANNOT_CONNECT : GetLastError();
            goto failed;
        }
        if (events.lNetworkEvents & FD_CONNECT)
        {
            if (!events.iErrorCode[FD_CONNECT_BIT]) return c;
            *error = inet_error(events.iErrorCode[FD_CONNECT_BIT]);
            goto failed;
        }
    }
failed:
    if (c->s != INVALID_SOCKET) closesocket(c->s);
    if (c->event != WSA_INVALID_EVENT) WSACloseEvent(c->event);
    free(c);
    return NULL;
}

static struct connection *connect_to(const WCHAR *host, INTERNET_PORT port, HANDLE stop)
{
    ADDRINFOW hints = { 0 }, *list, *ai;
    struct connection *c = NULL;
    DWORD error = ERROR_INTERNET_CANNOT_CONNECT;
    WCHAR service[8];

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    swprintf(service, ARRAYSIZE(service), L"%u", port);
    if (GetAddrInfoW(host, service, &hints, &list))
    {
        SetLastError(ERROR_INTERNET_NAME_NOT_RESOLVED);
        return NULL;
    }
    for (ai = list; ai && !c && error != ERROR_OPERATION_ABORTED; ai = ai->ai_next)
        c = connect_address(ai, stop, &error);
    FreeAddrInfoW(list);
    if (!c) return SetLastError(error), NULL;
    lstrcpynW(c->host, host, ARRAYSIZE(c->host));
    c->port = port;
    return c;
}

/* ---- raw I/O, as TLS borrows it too ---- */

static int raw_recv(void *context, char *buffer, int size)
{
    return recv(((struct connection *)context)->s, buffer, size, 0);
}

static BOOL raw_wait(void *context)
{
    struct connection *c = context;
    ULONGLONG now = GetTickCount64();
    WSANETWORKEVENTS events;

    if (now >= c->io.deadline) return fail(ERROR_INTERNET_TIMEOUT);
    return wait_socket(c, c->stop, (DWORD)(c->io.deadline - now), &events);
}

static BOOL raw_send_all(void *context, const char *data, size_t size)
{
    struct connection *c = context;

    while (size)
    {
        int n = send(c->s, data, size > INT_MAX ? INT_MAX : (int)size, 0);
        if (n > 0)
        {
            data += n;
            size -= n;
        }
        else if (WSAGetLastError() != WSAEWOULDBLOCK) return fail(inet_error(WSAGetLastError()));
        else if (!raw_wait(c)) return FALSE;
    }
    return TRUE;
}

/* Which request the connection now serves: whose stop event its waits obey, and within whose
 * receive timeout from now the TLS handshake and the request's sending must be done. */
static void serve(struct connection *c, HANDLE stop, DWORD timeout)
{
    c->stop = stop;
    c->io.deadline = GetTickCount64() + timeout;
    c->io.context = c;
    c->io.recv = raw_recv;
    c->io.wait = raw_wait;
    c->io.send_all = raw_send_all;
}

/* Like recv on the non-blocking socket, through TLS for https. */
static int conn_recv(struct connection *c, char *buffer, int size)
{
    return c->tls ? tls_recv(c->tls, &c->io, buffer, size) : recv(c->s, buffer, size, 0);
}

static BOOL send_all(struct sock_response *r, const char *data, size_t size)
{
    struct connection *c = r->c;
    return c->tls ? tls_send_all(c->tls, &c->io, data, size) : raw_send_all(c, data, size);
}

/* Neither stopped nor past the deadline: FALSE with the error if so. */
static BOOL in_bounds(struct sock_response *r, ULONGLONG deadline)
{
    if (r->stop && WaitForSingleObject(r->stop, 0) == WAIT_OBJECT_0) return fail(ERROR_OPERATION_ABORTED);
    if (GetTickCount64() >= deadline) return fail(ERROR_INTERNET_TIMEOUT);
    return TRUE;
}

/*
 * Receives from the socket into dst, after the *n bytes already there, until size bytes or the
 * connection's end (no more bytes then). Once something came, it goes on gathering for at most
 * gather_ms (bytes already in dst came at once: it returns as soon as the socket has no more): a
 * few large writes to disk and progress updates cost far less than one per network packet, and
 * a slow server still shows progress that often. Nothing yet, it waits for the first byte until
 * the receive timeout (or the framing deadline, if sooner) has passed since the call, and always
 * on the stop event too, so no wake-up that brings no byte extends the wait. The stop event and
 * the deadline are checked first, bytes waiting or not: a server that never stops sending is
 * read a call at a time, and no call outlives a stop or the deadline. An error after some bytes
 * waits for the next call: the bytes in hand are returned first.
 */
static BOOL receive_socket(struct sock_response *r, char *dst, size_t size, size_t *n, DWORD gather_ms)
{
    ULONGLONG now = GetTickCount64(), first = 0, deadline = now + r->timeout;
    WSANETWORKEVENTS events;

    if (r->framing_deadline && r->framing_deadline < deadline) deadline = r->framing_deadline;
    if (!in_bounds(r, deadline)) return FALSE;
    if (r->deferred) return *n ? TRUE : fail(r->deferred);
    while (*n < size)
    {
        int k = conn_recv(r->c, dst + *n, (int)min(size - *n, (size_t)INT_MAX));
        if (k > 0)
        {
            if (!first) first = GetTickCount64();
            *n += k;
            continue;
        }
        if (!k) break;
        if (WSAGetLastError() == WSAEINTR)
        {
            /* TLS records without data, one after another: the bounds again, then on. */
            if (*n) break;
            if (!in_bounds(r, deadline)) return FALSE;
            continue;
        }
        if (WSAGetLastError() != WSAEWOULDBLOCK)
        {
            SetLastError(inet_error(WSAGetLastError()));
            goto failed;
        }
        now = GetTickCount64();
        if (*n)
        {
            if (!first || now - first >= gather_ms) break;
            if (!wait_socket(r->c, r->stop, (DWORD)(first + gather_ms - now), &events))
            {
                if (GetLastError() == ERROR_INTERNET_TIMEOUT) break;
                goto failed;
            }
        }
        else if (now >= deadline) return fail(ERROR_INTERNET_TIMEOUT);
        else if (!wait_socket(r->c, r->stop, (DWORD)(deadline - now), &events)) return FALSE;
    }
    return TRUE;

failed:
    if (!*n) return FALSE;
    r->deferred = GetLastError();
    return TRUE;
}

/* Receives into dst: first what the read-ahead buffer holds, then from the socket (receive_socket). */
static BOOL receive(struct sock_response *r, char *dst, size_t size, size_t *got, DWORD gather_ms)
{
    *got = 0;
    if (r->end > r->start)
    {
        *got = min(size, r->end - r->start);
        memcpy(dst, r->buf + r->start, *got);
        r->start += *got;
    }
    return receive_socket(r, dst, size, got, gather_ms);
}

/* Receives more into the read-ahead buffer, after what it holds; FALSE at the connection's end too. */
static BOOL receive_more(struct sock_response *r)
{
    size_t got = 0;

    if (r->start)
    {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->end == BUFFER_SIZE) return fail(ERROR_HTTP_INVALID_SERVER_RESPONSE);
    if (!receive_socket(r, r->buf + r->end, BUFFER_SIZE - r->end, &got, 0)) return FALSE;
    if (!got) return fail(ERROR_INTERNET_CONNECTION_ABORTED);
    r->end += got;
    return TRUE;
}

/*
 * The next CRLF-terminated line of the buffer, NUL-terminated in place (without the CRLF); *size
 * gets how many bytes it took, its end included, at most max (<= BUFFER_SIZE): a longer line is
 * a protocol error.
 */
static BOOL receive_line(struct sock_response *r, size_t max, char **line, size_t *size)
{
    for (;;)
    {
        size_t held = r->end - r->start;
        char *p = held ? memchr(r->buf + r->start, '\n', min(held, max)) : NULL;
        if (p)
        {
            *line = r->buf + r->start;
            r->start = p + 1 - r->buf;
            *size = p + 1 - *line;
            if (p > *line && p[-1] == '\r') p--;
            *p = 0;
            return TRUE;
        }
        if (held >= max) return fail(ERROR_HTTP_INVALID_SERVER_RESPONSE);
        if (!receive_more(r)) return FALSE;
    }
}

/* The value of the head's first field called name, trimmed, or NULL; *len gets its length. */
static const char *find_field(const char *head, const char *name, size_t *len)
{
    size_t name_len = strlen(name);
    const char *line = strstr(head, "\r\n");

    while (line && line[2] != '\r' && line[2])
    {
        const char *start = line + 2, *end = strstr(start, "\r\n");
        if (!end) break;
        if ((size_t)(end - start) > name_len && start[name_len] == ':' && !_strnicmp(start, name, name_len))
        {
            const char *v = start + name_len + 1;
            while (v < end && (*v == ' ' || *v == '\t')) v++;
            while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
            *len = end - v;
            return v;
        }
        line = end;
    }
    return NULL;
}

/* Whether a comma-separated field value holds token (case-insensitively). */
static BOOL has_token(const char *value, size_t len, const char *token)
{
    size_t token_len = strlen(token);
    const char *end = value + len;

    while (value < end)
    {
        const char *comma = memchr(value, ',', end - value), *stop = comma ? comma : end, *e = stop;
        while (value < e && (*value == ' ' || *value == '\t')) value++;
        while (e > value && (e[-1] == ' ' || e[-1] == '\t')) e--;
        if ((size_t)(e - value) == token_len && !_strnicmp(value, token, token_len)) return TRUE;
        value = stop + 1;
    }
    return FALSE;
}

/* Text from the wire: UTF-8 if it is that, else Latin-1 (every byte a character). */
static int widen(const char *text, int len, WCHAR *out, int chars)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text, len, out, chars);
    return n ? n : MultiByteToWideChar(28591, 0, text, len, out, chars);
}

static const char *const field_names[] = {
    [HTTP_FIELD_CONTENT_LENGTH] = "Content-Length",
    [HTTP_FIELD_CONTENT_RANGE] = "Content-Range",
    [HTTP_FIELD_LOCATION] = "Location",
    [HTTP_FIELD_ETAG] = "ETag",
    [HTTP_FIELD_LAST_MODIFIED] = "Last-Modified",
    [HTTP_FIELD_RETRY_AFTER] = "Retry-After",
};

static struct sock_response *impl_from(struct http_response *r)
{
    return CONTAINING_RECORD(r, struct sock_response, base);
}

static BOOL sock_field(struct http_response *iface, enum http_field field, WCHAR *text, DWORD chars)
{
    struct sock_response *r = impl_from(iface);
    size_t len;
    const char *v = find_field(r->head, field_names[field], &len);
    int n;

    if (!v || len >= chars) return FALSE;
    if (!len)
    {
        *text = 0;
        return TRUE;
    }
    if (!(n = widen(v, (int)len, text, (int)chars - 1))) return FALSE;
    text[n] = 0;
    return TRUE;
}

static WCHAR *sock_all_fields(struct http_response *iface)
{
    struct sock_response *r = impl_from(iface);
    int len = (int)strlen(r->head), n;
    WCHAR *text = malloc((len + 1) * sizeof(WCHAR));

    if (!text) return NULL;
    n = len ? widen(r->head, len, text, len) : 0;
    text[n] = 0;
    return text;
}

/*
 * Whether bytes follow where the body ended: in the buffer, or already on the socket. A lone
 * CRLF, which some old servers send after a body, does not count (RFC 9112 2.2) and is dropped.
 */
static BOOL more_after_body(struct sock_response *r)
{
    char peek[3];
    int n;

    if (r->c->tls) return r->end > r->start || tls_has_data(r->c->tls, &r->c->io);
    if (r->end > r->start)
    {
        if (r->end - r->start != 2 || memcmp(r->buf + r->start, "\r\n", 2)) return TRUE;
        r->start = r->end;
        return FALSE;
    }
    if ((n = recv(r->c->s, peek, sizeof(peek), MSG_PEEK)) <= 0) return FALSE;
    if (n != 2 || memcmp(peek, "\r\n", 2)) return TRUE;
    recv(r->c->s, peek, 2, 0);
    return FALSE;
}

/* Reads a chunk's size line (after the previous chunk's CRLF), or the trailer at the end. */
static BOOL read_chunk_framing(struct sock_response *r)
{
    size_t taken, trailer = 0;
    char *line, *end;
    unsigned long long size;

    if (r->chunks_begun)
    {
        if (!receive_line(r, 2, &line, &taken)) return FALSE;
        if (*line) return fail(ERROR_HTTP_INVALID_SERVER_RESPONSE);
    }
    if (!receive_line(r, MAX_CHUNK_LINE, &line, &taken)) return FALSE;
    if (!isxdigit((unsigned char)*line)) return fail(ERROR_HTTP_INVALID_SERVER_RESPONSE);
    size = strtoull(line, &end, 16);
    if ((*end && *end != ';' && *end != ' ' && *end != '\t') || size == ULLONG_MAX)
        return fail(ERROR_HTTP_INVALID_SERVER_RESPONSE);
    r->chunks_begun = TRUE;
    if (!size)
    {
        /* The trailer's fields are not used, only counted. */
        do
        {
            if (trailer == MAX_TRAILER) return fail(ERROR_HTTP_INVALID_SERVER_RESPONSE);
            if (!receive_line(r, MAX_TRAILER - trailer, &line, &taken)) return FALSE;
            trailer += taken;
        } while (*line);
        r->done = TRUE;
    }
    r->left = size;
    return TRUE;
}

/* The framing between chunks comes whole within the receive timeout, like a head: each byte of
 * it would otherwise restart the wait, and a body read waits for body bytes. */
static BOOL next_chunk(struct sock_response *r)
{
    BOOL ok;

    r->framing_deadline = GetTickCount64() + r->timeout;
    ok = read_chunk_framing(r);
    r->framing_deadline = 0;
    return ok;
}

static BOOL sock_read(struct http_response *iface, void *buffer, DWORD size, DWORD *got)
{
    struct sock_response *r = impl_from(iface);
    size_t want = size, n;

    *got = 0;
    if (r->broken) return fail(ERROR_INTERNET_CONNECTION_ABORTED);
    if (r->done || !size) return TRUE;
    switch (r->framing)
    {
    case BODY_NONE:
        r->done = TRUE;
        return TRUE;
    case BODY_TO_CLOSE:
        break;
    case BODY_CHUNKED:
        if (!r->left && !next_chunk(r)) goto failed;
        if (r->done) return TRUE;
        if (want > r->left) want = (size_t)r->left;
        break;
    case BODY_LENGTH:
        if (want > r->left) want = (size_t)r->left;
        break;
    }
    if (!receive(r, buffer, want, &n, GATHER_MS)) goto failed;
    if (!n)
    {
        /* The end of the connection: the end of a BODY_TO_CLOSE body; any other was cut short. */
        r->keep_alive = FALSE;
        if (r->framing != BODY_TO_CLOSE)
        {
            r->broken = TRUE;
            return fail(ERROR_INTERNET_CONNECTION_ABORTED);
        }
        r->done = TRUE;
        return TRUE;
    }
    if (r->framing == BODY_LENGTH)
    {
        /* The read that ends the body looks for bytes the server should not have sent. */
        if (n == r->left && more_after_body(r))
        {
            r->broken = TRUE;
            r->base.surplus = TRUE;
            return fail(ERROR_HTTP_INVALID_SERVER_RESPONSE);
        }
        r->done = (r->left -= n) == 0;
    }
    else if (r->framing == BODY_CHUNKED) r->left -= n;
    *got = (DWORD)n;
    return TRUE;

failed:
    r->broken = TRUE;
    return FALSE;
}

static void sock_close(struct http_response *iface)
{
    struct sock_response *r = impl_from(iface);

    if (r->done && r->keep_alive && !r->broken && r->end == r->start && r->c->shared && (!r->c->tls || tls_idle(r->c->tls)))
        pool_put(r->c);
    else close_connection(r->c);
    free(r->head);
    free(r->buf);
    free(r);
}

static const struct http_response_ops sock_ops = { sock_field, sock_all_fields, sock_read, sock_close };

/* Where "\r\n\r\n" is in data, or NULL. */
static const char *find_blank_line(const char *data, size_t size)
{
    const char *p = data, *end = data + size;
    while (end - p >= 4 && (p = memchr(p, '\r', end - p - 3)))
    {
        if (!memcmp(p, "\r\n\r\n", 4)) return p;
        p++;
    }
    return NULL;
}

/*
 * Reads a response head; FALSE at the connection's end before any byte too (*nothing TRUE). A
 * head cut off by the connection's end is ERROR_INTERNET_CONNECTION_ABORTED, one that does not
 * begin as a status line answers nothing (ERROR_HTTP_INVALID_SERVER_RESPONSE), and one not
 * whole by r->framing_deadline ERROR_INTERNET_TIMEOUT.
 */
static BOOL receive_head(struct sock_response *r, BOOL *nothing)
{
    const char *blank;
    size_t size;

    *nothing = FALSE;
    while (!(blank = find_blank_line(r->buf + r->start, r->end - r->start)))
    {
        size_t before = r->end - r->start;
        if (before >= 5 && memcmp(r->buf + r->start, "HTTP/", 5)) return fail(ERROR_HTTP_INVALID_SERVER_RESPONSE);
        if (!receive_more(r))
        {
            *nothing = !before && GetLastError() == ERROR_INTERNET_CONNECTION_ABORTED;
            return FALSE;
        }
    }
    size = blank + 4 - (r->buf + r->start);
    if (memchr(r->buf + r->start, 0, size)) return fail(ERROR_HTTP_INVALID_SERVER_RESPONSE);
    free(r->head);
    if (!(r->head = malloc(size + 1))) return fail(ERROR_NOT_ENOUGH_MEMORY);
    memcpy(r->head, r->buf + r->start, size);
    r->head[size] = 0;
    r->start += size;
    return TRUE;
}

/* The status line and the body's framing, from the head. */
static BOOL parse_head(struct sock_response *r)
{
    unsigned major, minor, status;
    const char *v;
    size_t len;

    if (sscanf(r->head, "HTTP/%u.%u %3u", &major, &minor, &status) != 3 || major != 1 || status < 100 || status > 999)
        return fail(ERROR_HTTP_INVALID_SERVER_RESPONSE);
    r->base.status = status;
    v = find_field(r->head, "Connection", &len);
    r->keep_alive = minor >= 1 ? !(v && has_token(v, len, "close")) : v && has_token(v, len, "keep-alive");
    r->left = 0;
    r->done = FALSE;
    if (status < 200 || status == 204 || status == 304) r->framing = BODY_NONE;
    else if ((v = find_field(r->head, "Transfer-Encoding", &len)))
    {
        /* chunked must be the last coding; anything else is read to the connection's end. */
        r->framing = len >= 7 && !_strnicmp(v + len - 7, "chunked", 7) ? BODY_CHUNKED : BODY_TO_CLOSE;
        if (r->framing == BODY_TO_CLOSE) r->keep_alive = FALSE;
    }
    else if ((v = find_field(r->head, "Content-Length", &len)))
    {
        char *end;
        if (!len || *v < '0' || *v > '9') return fail(ERROR_HTTP_INVALID_SERVER_RESPONSE);
        r->left = _strtoui64(v, &end, 10);
        if (end != v + len) return fail(ERROR_HTTP_INVALID_SERVER_RESPONSE);
        r->framing = BODY_LENGTH;
        r->done = !r->left;
    }
    else
    {
        r->framing = BODY_TO_CLOSE;
        r->keep_alive = FALSE;
    }
    return TRUE;
}

/* text in UTF-8, malloc'd; *size gets its length. */
static char *narrow(const WCHAR *text, int len, int *size)
{
    int n = len ? WideCharToMultiByte(CP_UTF8, 0, text, len, NULL, 0, NULL, NULL) : 0;
    char *out = malloc(n + 1);

    if (!out) return NULL;
    if (n) WideCharToMultiByte(CP_UTF8, 0, text, len, out, n, NULL, NULL);
    out[n] = 0;
    *size = n;
    return out;
}

/* The request target: what a URL may not hold as it is (spaces, controls, non-ASCII) is escaped. */
static char *request_target(const URL_COMPONENTSW *parts)
{
    static const char hex[] = "0123456789ABCDEF";
    WCHAR *joined = malloc((parts->dwUrlPathLength + parts->dwExtraInfoLength + 2) * sizeof(WCHAR)), *fragment;
    char *utf8 = NULL, *target = NULL, *p;
    int n, i;

    if (!joined) return NULL;
    swprintf(joined, parts->dwUrlPathLength + parts->dwExtraInfoLength + 2, L"%ls%.*ls%.*ls",
             parts->dwUrlPathLength && parts->lpszUrlPath[0] == '/' ? L"" : L"/",
             (int)parts->dwUrlPathLength, parts->lpszUrlPath ? parts->lpszUrlPath : L"",
             (int)parts->dwExtraInfoLength, parts->lpszExtraInfo ? parts->lpszExtraInfo : L"");
    /* A fragment stays with the client. */
    if ((fragment = wcschr(joined, '#'))) *fragment = 0;
    if ((utf8 = narrow(joined, lstrlenW(joined), &n)) && (target = malloc((size_t)n * 3 + 1)))
    {
        for (i = 0, p = target; i < n; i++)
        {
            unsigned char ch = utf8[i];
            if (ch <= 0x20 || ch >= 0x7f || strchr("\"<>\\^`{|}", ch))
            {
                *p++ = '%';
                *p++ = hex[ch >> 4];
                *p++ = hex[ch & 15];
            }
            else *p++ = ch;
        }
        *p = 0;
    }
    free(joined);
    free(utf8);
    return target;
}

/* The request's bytes: "GET target HTTP/1.1", Host, our fields and the caller's, in UTF-8. */
static char *format_request(const URL_COMPONENTSW *parts, const WCHAR *host, const WCHAR *headers, size_t *size)
{
    char *target = request_target(parts), *host8 = NULL, *fields = NULL, *text = NULL, port[8] = "";
    BOOL ipv6 = wcschr(host, ':') != NULL;
    int target_len, host_len, fields_len, n;

    if (parts->nPort != (parts->nScheme == INTERNET_SCHEME_HTTPS ? INTERNET_DEFAULT_HTTPS_PORT : INTERNET_DEFAULT_HTTP_PORT))
        sprintf(port, ":%u", parts->nPort);
    if (target && (host8 = narrow(host, lstrlenW(host), &host_len))
        && (fields = narrow(headers ? headers : L"", headers ? lstrlenW(headers) : 0, &fields_len)))
    {
        target_len = (int)strlen(target);
        n = target_len + host_len + fields_len + 128;
        if ((text = malloc(n)))
            *size = snprintf(text, n, "GET %s HTTP/1.1\r\nHost: %s%s%s%s\r\nUser-Agent: " USER_AGENT "\r\nAccept: */*\r\n%s\r\n",
                             target, ipv6 ? "[" : "", host8, ipv6 ? "]" : "", port, fields);
    }
    free(target);
    free(host8);
    free(fields);
    return text;
}

BOOL http_socket_send(const struct http_request *request, struct http_response **response)
{
    WCHAR host[INTERNET_MAX_HOST_NAME_LENGTH];
    URL_COMPONENTSW parts;
    struct sock_response *r;
    BOOL secure, alone;
    unsigned attempt;
    char *text;
    size_t size;

    *response = NULL;
    if (!InitOnceExecuteOnce(&winsock_once, start_winsock, NULL, NULL)) return fail(ERROR_INTERNET_INTERNAL_ERROR);
    memset(&parts, 0, sizeof(parts));
    parts.dwStructSize = sizeof(parts);
    parts.dwHostNameLength = parts.dwUrlPathLength = parts.dwExtraInfoLength = 1;
    if (!InternetCrackUrlW(request->url, 0, 0, &parts)
        || (parts.nScheme != INTERNET_SCHEME_HTTP && parts.nScheme != INTERNET_SCHEME_HTTPS) || !parts.dwHostNameLength || parts.dwHostNameLength >= ARRAYSIZE(host))
        return fail(ERROR_INTERNET_INVALID_URL);
    /* An IPv6 literal comes in brackets, which the name lookup does not take. */
    if (parts.lpszHostName[0] == '[' && parts.dwHostNameLength > 2 && parts.lpszHostName[parts.dwHostNameLength - 1] == ']')
        lstrcpynW(host, parts.lpszHostName + 1, parts.dwHostNameLength - 1);
    else lstrcpynW(host, parts.lpszHostName, parts.dwHostNameLength + 1);
    if (!(text = format_request(&parts, host, request->headers, &size))) return fail(ERROR_NOT_ENOUGH_MEMORY);
    if (!(r = calloc(1, sizeof(*r))) || !(r->buf = malloc(BUFFER_SIZE)))
    {
        free(r);
        free(text);
        return fail(ERROR_NOT_ENOUGH_MEMORY);
    }
    /* A TLS connection serves only requests that check its certificate as it was checked (the
     * same errors allowed, revocation checked or not): one job's lenience never reaches another
     * job's stricter request. One that presented a client certificate is this job's alone. */
    secure = parts.nScheme == INTERNET_SCHEME_HTTPS;
    alone = secure && request->cert;
    r->base.ops = &sock_ops;
    r->stop = request->stop;
    r->timeout = request->receive_timeout_ms;
    /* A kept connection that fails before an answer comes gets one fresh try: the server may
     * have closed it meanwhile, or what came on it were bytes left over from its last answer. */
    for (attempt = 0;; attempt++)
    {
        BOOL reused = FALSE, nothing = FALSE, ok;
        unsigned interim = 0;

        if (attempt == 0 && !alone && (r->c = pool_take(host, parts.nPort, secure, request->security, request->revocation)))
            reused = TRUE;
        else if (!(r->c = connect_to(host, parts.nPort, request->stop))) break;
        serve(r->c, request->stop, request->receive_timeout_ms);
        if (secure && !r->c->tls)
        {
            /* Checked by dosvc, with this job's allowed errors only (tls.c). */
            if (!(r->c->tls = tls_connect(&r->c->io, host, request->security, request->revocation, request->cert)))
            {
                DWORD error = GetLastError();
                close_connection(r->c);
                r->c = NULL;
                SetLastError(error);
                break;
            }
            r->c->shared = !alone;
            r->c->allowed = request->security;
            r->c->revocation = request->revocation;
        }
        else if (!secure) r->c->shared = TRUE;
        /* Nothing the last connection's reading left (its bytes, an error it kept for the next
         * read) may reach this one; parse_head sets the rest. */
        r->start = r->end = 0;
        r->deferred = 0;
        ok = send_all(r, text, size);
        /* The head, 100 Continue and other interim answers included, comes whole within the
         * receive timeout, however slowly its bytes trickle in, and after a few interim answers. */
        r->framing_deadline = GetTickCount64() + r->timeout;
        while (ok && (ok = receive_head(r, &nothing)) && (ok = parse_head(r)) && r->base.status < 200)
            if (++interim > MAX_INTERIM) ok = fail(ERROR_HTTP_INVALID_SERVER_RESPONSE);
        r->framing_deadline = 0;
        /* A 408 that closes a kept connection is its server ending it at its idle timeout
         * (RFC 9110 15.5.9) just as the request went out: it answers no request of ours. */
        if (ok && reused && r->base.status == 408 && !r->keep_alive) ok = fail(ERROR_INTERNET_CONNECTION_ABORTED);
        if (ok)
        {
            SOCKADDR_STORAGE peer;
            int peer_len = sizeof(peer);
            DWORD chars = ARRAYSIZE(r->base.address);

            if (!getpeername(r->c->s, (SOCKADDR *)&peer, &peer_len))
            {
                /* The address alone, without the port. */
                if (peer.ss_family == AF_INET) ((SOCKADDR_IN *)&peer)->sin_port = 0;
                else if (peer.ss_family == AF_INET6) ((SOCKADDR_IN6 *)&peer)->sin6_port = 0;
                if (WSAAddressToStringW((SOCKADDR *)&peer, peer_len, NULL, r->base.address, &chars)) r->base.address[0] = 0;
            }
            free(text);
            *response = &r->base;
            return TRUE;
        }
        {
            DWORD error = GetLastError();
            close_connection(r->c);
            r->c = NULL;
            SetLastError(error);
            if (!reused || !(nothing || error == ERROR_INTERNET_CONNECTION_RESET || error == ERROR_INTERNET_CONNECTION_ABORTED
                             || error == ERROR_HTTP_INVALID_SERVER_RESPONSE))
                break;
        }
    }
    {
        DWORD error = GetLastError();
        free(text);
        free(r->head);
        free(r->buf);
        free(r);
        return fail(error);
    }
}
