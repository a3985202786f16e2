/*
 * TLS on SSPI/Schannel for dosvc's own HTTP client (tls.h). Schannel is told
 * to leave the server certificate alone (manual validation): dosvc checks it
 * itself after the handshake, with the job's allowed errors and nothing
 * remembered from other connections, so one job's lenience never reaches
 * another's (WinINet under Wine remembers them per server).
 */
#include <winsock2.h>
#include <ws2tcpip.h>

#include "tls.h"
#include "trace.h"

#define SECURITY_WIN32
#include <schannel.h>
#include <security.h>
#include <wininet.h>

#include <stdlib.h>
#include <string.h>

#define HANDSHAKE_MAX (64u << 10)  /* the most handshake data kept waiting for its end */
#define EMPTY_RECORDS_MAX 32       /* records without data one call decrypts before it returns */

struct tls
{
    CredHandle cred;
    CtxtHandle ctx;
    BOOL have_ctx;
    SecPkgContext_StreamSizes sizes;
    char *in;                     /* ciphertext received, not yet decrypted: [0, in_len) */
    size_t in_len, in_size;
    char *plain;                  /* decrypted, not yet taken: [plain_start, plain_end) */
    size_t plain_start, plain_end;
    char *out;                    /* one record being sent */
    BOOL closed;                  /* close_notify came */
};

static BOOL fail(DWORD error)
{
    SetLastError(error);
    return FALSE;
}

void tls_free(struct tls *tls)
{
    if (!tls) return;
    if (tls->have_ctx) DeleteSecurityContext(&tls->ctx);
    FreeCredentialsHandle(&tls->cred);
    free(tls->in);
    free(tls->plain);
    free(tls->out);
    free(tls);
}

/* Receives more ciphertext after what is held; 0 at the connection's end, -1 as recv. */
static int receive_more(struct tls *tls, const struct tls_io *io)
{
    int n;

    if (tls->in_len == tls->in_size)
    {
        size_t limit = HANDSHAKE_MAX + tls->sizes.cbMaximumMessage + 1024;
        size_t size = tls->in_size ? min(tls->in_size * 2, limit) : 16384 + 512;
        char *grown;
        if (size <= tls->in_size || !(grown = realloc(tls->in, size)))
        {
            WSASetLastError(WSAECONNABORTED);
            return -1;
        }
        tls->in = grown;
        tls->in_size = size;
    }
    if ((n = io->recv(io->context, tls->in + tls->in_len, (int)(tls->in_size - tls->in_len))) > 0) tls->in_len += n;
    return n;
}

/* Keeps the unprocessed tail Schannel reports (SECBUFFER_EXTRA) at the front of the input. */
static void keep_extra(struct tls *tls, const SecBuffer *buffers, unsigned count)
{
    unsigned i;

    for (i = 0; i < count; i++)
        if (buffers[i].BufferType == SECBUFFER_EXTRA && buffers[i].cbBuffer <= tls->in_len)
        {
            memmove(tls->in, tls->in + tls->in_len - buffers[i].cbBuffer, buffers[i].cbBuffer);
            tls->in_len = buffers[i].cbBuffer;
            return;
        }
    tls->in_len = 0;
}

/* The certificate errors a chain policy status means, as WinINet names them. */
static DWORD certificate_error(DWORD status)
{
    switch (status)
    {
    case CERT_E_UNTRUSTEDROOT:
    case CERT_E_CHAINING:
    case TRUST_E_CERT_SIGNATURE: return ERROR_INTERNET_INVALID_CA;
    case CERT_E_CN_NO_MATCH: return ERROR_INTERNET_SEC_CERT_CN_INVALID;
    case CERT_E_EXPIRED: return ERROR_INTERNET_SEC_CERT_DATE_INVALID;
    case CERT_E_WRONG_USAGE: return ERROR_INTERNET_SEC_INVALID_CERT;
    case CRYPT_E_REVOKED:
    case CERT_E_REVOKED: return ERROR_INTERNET_SEC_CERT_REVOKED;
    case CERT_E_REVOCATION_FAILURE:
    case CRYPT_E_REVOCATION_OFFLINE:
    case CRYPT_E_NO_REVOCATION_CHECK: return ERROR_INTERNET_SEC_CERT_REV_FAILED;
    default: return ERROR_INTERNET_SEC_CERT_ERRORS;
    }
}

/*
 * What the chain's own trust status says, beyond the SSL policy: Wine's policy lets a chain
 * that could not be completed (CERT_TRUST_IS_PARTIAL_CHAIN) pass as trusted. 0 if nothing.
 */
static DWORD chain_error(const CERT_CHAIN_CONTEXT *chain, DWORD allowed)
{
    DWORD status = chain->TrustStatus.dwErrorStatus;

    if (status & (CERT_TRUST_IS_NOT_SIGNATURE_VALID | CERT_TRUST_INVALID_BASIC_CONSTRAINTS
                  | CERT_TRUST_INVALID_NAME_CONSTRAINTS | CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT))
        return ERROR_INTERNET_SEC_INVALID_CERT;
    if ((status & (CERT_TRUST_IS_UNTRUSTED_ROOT | CERT_TRUST_IS_PARTIAL_CHAIN | CERT_TRUST_IS_CYCLIC))
        && !(allowed & SECURITY_FLAG_IGNORE_UNKNOWN_CA))
        return ERROR_INTERNET_INVALID_CA;
    if ((status & CERT_TRUST_IS_REVOKED) && !(allowed & SECURITY_FLAG_IGNORE_REVOCATION)) return ERROR_INTERNET_SEC_CERT_REVOKED;
    return 0;
}

/* The address host is written as (IPv4 or IPv6), in *size bytes; FALSE for a name. */
static BOOL ip_literal(const WCHAR *host, BYTE address[16], DWORD *size)
{
    if (InetPtonW(AF_INET, host, address) == 1) return *size = 4, TRUE;
    if (InetPtonW(AF_INET6, host, address) == 1) return *size = 16, TRUE;
    return FALSE;
}

/*
 * Whether the certificate names the address among its subject's alternative names. Wine's SSL
 * policy matches no address (RFC 6125 wants exactly this: an IP entry, never a DNS one).
 */
static BOOL names_address(const CERT_CONTEXT *cert, const BYTE *address, DWORD size)
{
    CERT_EXTENSION *ext = CertFindExtension(szOID_SUBJECT_ALT_NAME2, cert->pCertInfo->cExtension,
                                            cert->pCertInfo->rgExtension);
    CERT_ALT_NAME_INFO *info = NULL;
    DWORD info_size = 0, i;
    BOOL found = FALSE;

    if (!ext || !CryptDecodeObjectEx(X509_ASN_ENCODING, X509_ALTERNATE_NAME, ext->Value.pbData, ext->Value.cbData,
                                     CRYPT_DECODE_ALLOC_FLAG, NULL, &info, &info_size))
        return FALSE;
    for (i = 0; i < info->cAltEntry && !found; i++)
        found = info->rgAltEntry[i].dwAltNameChoice == CERT_ALT_NAME_IP_ADDRESS
                && info->rgAltEntry[i].IPAddress.cbData == size && !memcmp(info->rgAltEntry[i].IPAddress.pbData, address, size);
    LocalFree(info);
    return found;
}

/* The server's certificate for host, checked with only the allowed errors ignored. */
static BOOL check_server(struct tls *tls, const WCHAR *host, DWORD allowed, BOOL revocation)
{
    static const char *usages[] = { szOID_PKIX_KP_SERVER_AUTH, szOID_SERVER_GATED_CRYPTO, szOID_SGC_NETSCAPE };
    const CERT_CONTEXT *cert = NULL;
    const CERT_CHAIN_CONTEXT *chain = NULL;
    HTTPSPolicyCallbackData extra;
    CERT_CHAIN_POLICY_PARA policy;
    CERT_CHAIN_POLICY_STATUS status;
    CERT_CHAIN_PARA para;
    DWORD error = ERROR_INTERNET_SEC_INVALID_CERT, size;
    BYTE address[16];
    BOOL literal = ip_literal(host, address, &size);

    if (QueryContextAttributesW(&tls->ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &cert) != SEC_E_OK || !cert)
        return fail(error);
    memset(&para, 0, sizeof(para));
    para.cbSize = sizeof(para);
    para.RequestedUsage.dwType = USAGE_MATCH_TYPE_OR;
    para.RequestedUsage.Usage.cUsageIdentifier = ARRAYSIZE(usages);
    para.RequestedUsage.Usage.rgpszUsageIdentifier = (char **)usages;
    if (CertGetCertificateChain(NULL, cert, NULL, cert->hCertStore, &para,
                                revocation ? CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT : 0, NULL, &chain))
    {
        memset(&extra, 0, sizeof(extra));
        extra.cbStruct = sizeof(extra);
        extra.dwAuthType = AUTHTYPE_SERVER;
        extra.fdwChecks = allowed;
        /* An address is matched here, not by the policy (which would compare it as a name). */
        extra.pwszServerName = literal ? NULL : (WCHAR *)host;
        memset(&policy, 0, sizeof(policy));
        policy.cbSize = sizeof(policy);
        policy.pvExtraPolicyPara = &extra;
        memset(&status, 0, sizeof(status));
        status.cbSize = sizeof(status);
        if (CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, chain, &policy, &status))
            error = status.dwError ? certificate_error(status.dwError) : chain_error(chain, allowed);
        if (!error && literal && !(allowed & SECURITY_FLAG_IGNORE_CERT_CN_INVALID) && !names_address(cert, address, size))
            error = ERROR_INTERNET_SEC_CERT_CN_INVALID;
        CertFreeCertificateChain(chain);
    }
    CertFreeCertificateContext(cert);
    return error ? fail(error) : TRUE;
}

/* Sends what InitializeSecurityContext produced, and frees it. */
static BOOL send_token(const struct tls_io *io, SecBuffer *token)
{
    BOOL ok = TRUE;

    if (token->pvBuffer && token->cbBuffer) ok = io->send_all(io->context, token->pvBuffer, token->cbBuffer);
    if (token->pvBuffer) FreeContextBuffer(token->pvBuffer);
    token->pvBuffer = NULL;
    return ok;
}

static BOOL handshake(struct tls *tls, const struct tls_io *io, const WCHAR *host)
{
    ULONG wanted = ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY
                         | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM | ISC_REQ_MANUAL_CRED_VALIDATION;
    SECURITY_STATUS status = SEC_I_CONTINUE_NEEDED;
    BOOL first = TRUE, asked = FALSE;
    BYTE address[16];
    DWORD size;
    /* No server name indication for an address (RFC 6066 3): it names hosts only. */
    WCHAR *target = ip_literal(host, address, &size) ? NULL : (WCHAR *)host;
    ULONG attrs;

    for (;;)
    {
        SecBuffer in[2], out[1];
        SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in }, out_desc = { SECBUFFER_VERSION, 1, out };
        BOOL need_more = !first && status != SEC_I_INCOMPLETE_CREDENTIALS && (status == SEC_E_INCOMPLETE_MESSAGE || !tls->in_len);

        /* Checked while bytes keep coming too: a handshake that trickles in never ends. */
        if (GetTickCount64() >= io->deadline) return fail(ERROR_INTERNET_TIMEOUT);
        if (need_more)
        {
            int n = receive_more(tls, io);
            if (n == 0) return fail(ERROR_INTERNET_SECURITY_CHANNEL_ERROR);
            if (n < 0)
            {
                if (WSAGetLastError() == WSAECONNRESET) return fail(ERROR_INTERNET_CONNECTION_RESET);
                if (WSAGetLastError() != WSAEWOULDBLOCK) return fail(ERROR_INTERNET_CONNECTION_ABORTED);
                if (!io->wait(io->context)) return FALSE;
                continue;
            }
        }
        in[0].BufferType = SECBUFFER_TOKEN;
        in[0].pvBuffer = tls->in;
        in[0].cbBuffer = (ULONG)tls->in_len;
        in[1].BufferType = SECBUFFER_EMPTY;
        in[1].pvBuffer = NULL;
        in[1].cbBuffer = 0;
        out[0].BufferType = SECBUFFER_TOKEN;
        out[0].pvBuffer = NULL;
        out[0].cbBuffer = 0;
        status = InitializeSecurityContextW(&tls->cred, first ? NULL : &tls->ctx, target, wanted, 0, 0,
                                            first ? NULL : &in_desc, 0, first ? &tls->ctx : NULL, &out_desc, &attrs, NULL);
        if (first && (status == SEC_I_CONTINUE_NEEDED || status == SEC_E_OK)) tls->have_ctx = TRUE;
        first = FALSE;
        if (status == SEC_E_INCOMPLETE_MESSAGE)
        {
            if (out[0].pvBuffer) FreeContextBuffer(out[0].pvBuffer);
            continue;
        }
        if (status != SEC_E_OK && status != SEC_I_CONTINUE_NEEDED && status != SEC_I_INCOMPLETE_CREDENTIALS)
        {
            if (out[0].pvBuffer) FreeContextBuffer(out[0].pvBuffer);
            return fail(ERROR_INTERNET_SECURITY_CHANNEL_ERROR);
        }
        if (!send_token(io, &out[0])) return FALSE;
        if (status == SEC_I_INCOMPLETE_CREDENTIALS)
        {
            /* Asked for a certificate we do not have: once more, with what we have (none). */
            if (asked) return fail(ERROR_INTERNET_SECURITY_CHANNEL_ERROR);
            asked = TRUE;
            wanted |= ISC_REQ_USE_SUPPLIED_CREDS;
            continue;
        }
        keep_extra(tls, in, 2);
        if (status == SEC_E_OK) return TRUE;
    }
}

struct tls *tls_connect(const struct tls_io *io, const WCHAR *host, DWORD allowed, BOOL revocation,
                        const CERT_CONTEXT *cert)
{
    SCHANNEL_CRED cred;
    struct tls *tls;
    DWORD error;

    if (!(tls = calloc(1, sizeof(*tls))))
    {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    memset(&cred, 0, sizeof(cred));
    cred.dwVersion = SCHANNEL_CRED_VERSION;
    cred.dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
    if (cert)
    {
        cred.cCreds = 1;
        cred.paCred = &cert;
    }
    if (AcquireCredentialsHandleW(NULL, (WCHAR *)UNISP_NAME_W, SECPKG_CRED_OUTBOUND, NULL, &cred, NULL, NULL,
                                  &tls->cred, NULL) != SEC_E_OK)
    {
        free(tls);
        SetLastError(ERROR_INTERNET_SECURITY_CHANNEL_ERROR);
        return NULL;
    }
    if (!handshake(tls, io, host))
    {
        error = GetLastError();
        TRACE_TLS("handshake with %s failed: %lu", dos_trace_wstr((const dos_char *)host), (unsigned long)error);
    }
    else if (!check_server(tls, host, allowed, revocation))
    {
        error = GetLastError();
        TRACE_TLS("certificate of %s refused: %lu (ignoring 0x%lx%s)", dos_trace_wstr((const dos_char *)host),
                  (unsigned long)error, (unsigned long)allowed, revocation ? ", revocation checked" : "");
    }
    else if (QueryContextAttributesW(&tls->ctx, SECPKG_ATTR_STREAM_SIZES, &tls->sizes) != SEC_E_OK)
        error = ERROR_INTERNET_SECURITY_CHANNEL_ERROR;
    else if (!(tls->plain = malloc(tls->sizes.cbMaximumMessage))
             || !(tls->out = malloc(tls->sizes.cbHeader + tls->sizes.cbMaximumMessage + tls->sizes.cbTrailer)))
        error = ERROR_NOT_ENOUGH_MEMORY;
    else
    {
        TRACE_TLS("%s: handshake done, certificate accepted (ignoring 0x%lx%s%s)",
                  dos_trace_wstr((const dos_char *)host), (unsigned long)allowed,
                  revocation ? ", revocation checked" : "", cert ? ", client certificate presented" : "");
        return tls;
    }
    tls_free(tls);
    SetLastError(error);
    return NULL;
}

/* Decrypts one record of what is held, into the plain buffer: 1 done, 0 needs more, -1 failed. */
static int decrypt_one(struct tls *tls)
{
    SecBuffer buffers[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, buffers };
    SECURITY_STATUS status;
    BOOL alert;
    unsigned i;

    if (!tls->in_len) return 0;
    alert = tls->in[0] == 0x15;    /* the record's content type, before it is decrypted in place */
    buffers[0].BufferType = SECBUFFER_DATA;
    buffers[0].pvBuffer = tls->in;
    buffers[0].cbBuffer = (ULONG)tls->in_len;
    for (i = 1; i < 4; i++)
    {
        buffers[i].BufferType = SECBUFFER_EMPTY;
        buffers[i].pvBuffer = NULL;
        buffers[i].cbBuffer = 0;
    }
    status = DecryptMessage(&tls->ctx, &desc, 0, NULL);
    if (status == SEC_E_INCOMPLETE_MESSAGE) return 0;
    if (status == SEC_I_CONTEXT_EXPIRED)
    {
        tls->closed = TRUE;
        tls->in_len = 0;
        return 1;
    }
    if (status != SEC_E_OK) return -1;   /* renegotiation included: not taken */
    tls->plain_start = tls->plain_end = 0;
    for (i = 0; i < 4; i++)
        if (buffers[i].BufferType == SECBUFFER_DATA)
        {
            if (buffers[i].cbBuffer > tls->sizes.cbMaximumMessage) return -1;
            memcpy(tls->plain, buffers[i].pvBuffer, buffers[i].cbBuffer);
            tls->plain_end = buffers[i].cbBuffer;
            break;
        }
    /* Wine's Schannel answers close_notify with success and no data, not SEC_I_CONTEXT_EXPIRED. */
    if (alert && !tls->plain_end) tls->closed = TRUE;
    keep_extra(tls, buffers, 4);
    return 1;
}

int tls_recv(struct tls *tls, const struct tls_io *io, char *buffer, int size)
{
    unsigned empty = 0;

    for (;;)
    {
        int n;

        if (tls->plain_end > tls->plain_start)
        {
            n = (int)min((size_t)size, tls->plain_end - tls->plain_start);
            memcpy(buffer, tls->plain + tls->plain_start, n);
            tls->plain_start += n;
            return n;
        }
        if (tls->closed) return 0;
        if ((n = decrypt_one(tls)) > 0)
        {
            /* A server sending empty records without end must not keep the caller here. */
            if (tls->plain_end == tls->plain_start && ++empty == EMPTY_RECORDS_MAX)
            {
                WSASetLastError(WSAEINTR);
                return -1;
            }
            continue;
        }
        if (n < 0)
        {
            WSASetLastError(WSAECONNABORTED);
            return -1;
        }
        if ((n = receive_more(tls, io)) <= 0)
        {
            /* The connection's end without close_notify is a cut, not an end: anyone on the path
             * can close TCP, only the server can send close_notify. */
            if (!n)
            {
                WSASetLastError(WSAECONNRESET);
                return -1;
            }
            return n;
        }
    }
}

BOOL tls_has_data(struct tls *tls, const struct tls_io *io)
{
    unsigned empty = 0;

    for (;;)
    {
        int n;
        if (tls->plain_end > tls->plain_start) return TRUE;
        if (tls->closed) return FALSE;
        if ((n = decrypt_one(tls)) > 0)
        {
            /* Only records without data so far, and more coming: none the caller could take. */
            if (tls->plain_end == tls->plain_start && ++empty == EMPTY_RECORDS_MAX) return FALSE;
            continue;
        }
        if (n < 0 || receive_more(tls, io) <= 0) return FALSE;
    }
}

BOOL tls_idle(const struct tls *tls)
{
    return !tls->in_len && tls->plain_end == tls->plain_start && !tls->closed;
}

BOOL tls_send_all(struct tls *tls, const struct tls_io *io, const char *data, size_t size)
{
    while (size)
    {
        ULONG n = (ULONG)min(size, (size_t)tls->sizes.cbMaximumMessage);
        SecBuffer buffers[4];
        SecBufferDesc desc = { SECBUFFER_VERSION, 4, buffers };

        buffers[0].BufferType = SECBUFFER_STREAM_HEADER;
        buffers[0].pvBuffer = tls->out;
        buffers[0].cbBuffer = tls->sizes.cbHeader;
        buffers[1].BufferType = SECBUFFER_DATA;
        buffers[1].pvBuffer = tls->out + tls->sizes.cbHeader;
        buffers[1].cbBuffer = n;
        buffers[2].BufferType = SECBUFFER_STREAM_TRAILER;
        buffers[2].pvBuffer = tls->out + tls->sizes.cbHeader + n;
        buffers[2].cbBuffer = tls->sizes.cbTrailer;
        buffers[3].BufferType = SECBUFFER_EMPTY;
        buffers[3].pvBuffer = NULL;
        buffers[3].cbBuffer = 0;
        memcpy(buffers[1].pvBuffer, data, n);
        if (EncryptMessage(&tls->ctx, 0, &desc, 0) != SEC_E_OK) return fail(ERROR_INTERNET_SECURITY_CHANNEL_ERROR);
        if (!io->send_all(io->context, tls->out, buffers[0].cbBuffer + buffers[1].cbBuffer + buffers[2].cbBuffer))
            return FALSE;
        data += n;
        size -= n;
    }
    return TRUE;
}
