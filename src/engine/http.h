/*
 * One HTTP exchange, as the HTTP transport's protocol logic (http.c) sees it:
 * a GET sent and its response's status, fields and body. Two clients make
 * them: our own HTTP/1.1 client on Winsock (http_socket.c) for plain http://
 * that reaches the server directly, and WinINet (http_inet.c) for HTTPS and
 * for every request that goes through a proxy. docs/transport.md says why.
 *
 * A client that fails sets the thread's last error to a WinINet error code
 * (ERROR_INTERNET_*, ERROR_HTTP_*), whichever client it is, so that a job's
 * error code does not depend on which one carried the request.
 */
#ifndef DOSVC_ENGINE_HTTP_H
#define DOSVC_ENGINE_HTTP_H

#include <windows.h>
#include <wincrypt.h>
#include <wininet.h>

/* The response fields the protocol logic reads. */
enum http_field
{
    HTTP_FIELD_CONTENT_LENGTH,
    HTTP_FIELD_CONTENT_RANGE,
    HTTP_FIELD_LOCATION,
    HTTP_FIELD_ETAG,
    HTTP_FIELD_LAST_MODIFIED,
    HTTP_FIELD_RETRY_AFTER,
};

struct http_request
{
    const WCHAR *url;             /* http:// or https:// */
    const WCHAR *headers;         /* extra request fields, each line ending in CRLF; or NULL */
    HANDLE stop;                  /* signalled: give up at once (ERROR_OPERATION_ABORTED) */
    DWORD receive_timeout_ms;     /* the longest wait for the next byte */
    HINTERNET session;            /* WinINet only */
    DWORD security;               /* SECURITY_FLAG_IGNORE_* */
    BOOL revocation;              /* check the server certificate's revocation (BG_SSL_ENABLE_CRL_CHECK) */
    const CERT_CONTEXT *cert;     /* client certificate, or NULL */
};

struct http_response;

struct http_response_ops
{
    /* The field's value (the first, if repeated), trimmed; FALSE if absent or too long. */
    BOOL (*field)(struct http_response *r, enum http_field field, WCHAR *text, DWORD chars);
    /* The status line and every field, each line ending in CRLF, then an empty line; malloc'd. */
    WCHAR *(*all_fields)(struct http_response *r);
    /*
     * Up to size bytes of the body: at least one unless the body has ended (*got 0). A body
     * whose end the response announced (Content-Length) is never read past; bytes that the
     * server sent beyond it and that have arrived with its last ones fail the read that would
     * have ended it, with nothing of that read returned, and set surplus.
     */
    BOOL (*read)(struct http_response *r, void *buffer, DWORD size, DWORD *got);
    /* Ends the exchange; the connection may serve another request if the body was read to its end. */
    void (*close)(struct http_response *r);
};

struct http_response
{
    const struct http_response_ops *ops;
    DWORD status;                 /* the final status (1xx answers are skipped) */
    WCHAR address[64];            /* the server's IP address, or empty if the client cannot tell */
    BOOL surplus;                 /* a read failed on bytes beyond the announced end of the body */
};

/* Sends the request and reads the response's head; FALSE with the last error set. */
BOOL http_socket_send(const struct http_request *request, struct http_response **response);
BOOL http_inet_send(const struct http_request *request, struct http_response **response);

/* Closes the socket client's idle connections; for engine shutdown. */
void http_socket_shutdown(void);

#endif
