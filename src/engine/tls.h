/*
 * TLS for dosvc's own HTTP client, on SSPI/Schannel: the handshake, the
 * server certificate checked by dosvc itself (CertVerifyCertificateChainPolicy
 * with exactly the certificate errors the job allows), and records in and out.
 * It knows nothing of sockets: the caller lends it raw I/O.
 */
#ifndef DOSVC_ENGINE_TLS_H
#define DOSVC_ENGINE_TLS_H

#include <windows.h>
#include <wincrypt.h>

struct tls_io
{
    void *context;
    /* Like recv on a non-blocking socket: bytes, 0 at the end, -1 with WSAGetLastError(). */
    int (*recv)(void *context, char *buffer, int size);
    /* Waits until the socket has news, at most until deadline; FALSE with the last error set
     * (stop, ERROR_INTERNET_TIMEOUT). */
    BOOL (*wait)(void *context);
    /* Sends all of it, waiting as needed; FALSE with the last error set. */
    BOOL (*send_all)(void *context, const char *data, size_t size);
    /* When waits give up (GetTickCount64): the handshake is done by then, however its bytes trickle in. */
    ULONGLONG deadline;
};

struct tls;

/*
 * Handshake with host over io; allowed is the SECURITY_FLAG_IGNORE_* certificate errors the job
 * accepts; revocation asks for the chain's revocation to be checked (BG_SSL_ENABLE_CRL_CHECK);
 * cert a client certificate to present, or NULL. NULL on failure with the last error
 * set to a WinINet code (ERROR_INTERNET_INVALID_CA, ERROR_INTERNET_SEC_CERT_CN_INVALID, ...).
 */
struct tls *tls_connect(const struct tls_io *io, const WCHAR *host, DWORD allowed, BOOL revocation,
                        const CERT_CONTEXT *cert);
/* Like recv: decrypted bytes, 0 after close_notify, -1 with WSAGetLastError(): WSAEWOULDBLOCK
 * while no whole record has come, WSAECONNRESET at the connection's end without close_notify,
 * WSAEINTR after a run of records without data (the caller checks whatever bounds its wait,
 * then calls again). */
int tls_recv(struct tls *tls, const struct tls_io *io, char *buffer, int size);
/* Decrypts what has already arrived, without waiting; whether application bytes are there. */
BOOL tls_has_data(struct tls *tls, const struct tls_io *io);
/* Nothing received and not yet taken, and no close_notify: the connection may serve again. */
BOOL tls_idle(const struct tls *tls);
BOOL tls_send_all(struct tls *tls, const struct tls_io *io, const char *data, size_t size);
void tls_free(struct tls *tls);

#endif
