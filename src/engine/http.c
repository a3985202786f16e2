/*
 * The HTTP and HTTPS transport, on WinINet (docs/transport.md says why). One
 * request per byte span: the rest of the file, or each remaining range in the
 * order given, resumed with a Range request from the bytes already on disk.
 * Redirects are followed here, not by WinINet, so that their number and the
 * HTTPS-to-HTTP rule are ours; Basic credentials are sent when challenged.
 * Anything but the expected 200 or 206 is an error and nothing of its body is
 * written.
 */
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wincrypt.h>
#include <wininet.h>

#include "deliveryoptimizationerrors.h"
#include "wstr.h"

#define CHUNK (1u << 20)           /* the largest read */
#define MIN_CHUNK (16u << 10)      /* the smallest */
#define MAX_REDIRECTS 10
#define BG_E_HTTP_ERROR(status) ((HRESULT)(0x80190000u + (status)))

static inline const dos_char *dchars_of(const WCHAR *s) { return (const dos_char *)s; }

struct http
{
    struct transfer *t;
    HINTERNET session;
    HINTERNET connect;             /* of the current request: WinINet ends a request with its connection */
    WCHAR url[INTERNET_MAX_URL_LENGTH];   /* after redirects */
    BYTE *buffer;
    BOOL tried_auth, tried_proxy_auth;
    /* The job's IBackgroundCopyJobHttpOptions, read once per fetch. */
    ULONG security;                /* BG_SSL_* and BG_HTTP_REDIRECT_POLICY_* */
    WCHAR *headers;                /* custom request headers, or NULL */
    const CERT_CONTEXT *cert;      /* client certificate, or NULL */
    WCHAR *auth_headers;           /* IDO's HttpCustomAuthHeaders, sent once challenged; or NULL */
    BOOL tried_custom_auth;
    BOOL restart;                  /* the remote file changed: its bytes start over */
};

/* WinINet's certificate error flags for the BG_SSL_IGNORE_* bits. */
static DWORD inet_security_flags(ULONG bg)
{
    DWORD flags = 0;
    if (bg & 0x0002) flags |= SECURITY_FLAG_IGNORE_CERT_CN_INVALID;
    if (bg & 0x0004) flags |= SECURITY_FLAG_IGNORE_CERT_DATE_INVALID;
    if (bg & 0x0008) flags |= SECURITY_FLAG_IGNORE_UNKNOWN_CA;
    if (bg & 0x0010) flags |= SECURITY_FLAG_IGNORE_WRONG_USAGE;
    return flags;
}

HCERTSTORE engine_open_cert_store(uint32_t location, const WCHAR *name)
{
    static const DWORD locations[DOS_CERT_STORE_LOCATIONS] = {
        CERT_SYSTEM_STORE_CURRENT_USER, CERT_SYSTEM_STORE_LOCAL_MACHINE, CERT_SYSTEM_STORE_CURRENT_SERVICE,
        CERT_SYSTEM_STORE_SERVICES, CERT_SYSTEM_STORE_USERS, CERT_SYSTEM_STORE_CURRENT_USER_GROUP_POLICY,
        CERT_SYSTEM_STORE_LOCAL_MACHINE_GROUP_POLICY, CERT_SYSTEM_STORE_LOCAL_MACHINE_ENTERPRISE,
    };
    if (location >= DOS_CERT_STORE_LOCATIONS) return NULL;
    return CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, locations[location] | CERT_STORE_READONLY_FLAG, name);
}

/* The client certificate the job names, looked up again in its store. */
static const CERT_CONTEXT *load_client_cert(struct dos_job *job)
{
    uint8_t hash[DOS_CERT_HASH_SIZE];
    CRYPT_HASH_BLOB blob = { sizeof(hash), hash };
    WCHAR *store_name, *subject;
    const CERT_CONTEXT *cert = NULL;
    HCERTSTORE store;
    uint32_t location;

    if (dos_job_get_client_cert(job, &location, hash, malloc, (dos_char **)&store_name, (dos_char **)&subject) != DOS_OK)
        return NULL;
    if ((store = engine_open_cert_store(location, store_name)))
    {
        cert = CertFindCertificateInStore(store, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, 0, CERT_FIND_SHA1_HASH, &blob, NULL);
        CertCloseStore(store, 0);
    }
    free(store_name);
    free(subject);
    return cert;
}

/* WinINet's errors: the ones a later attempt may get past are transient. */
static BOOL inet_transient(DWORD err)
{
    switch (err)
    {
    case ERROR_INTERNET_TIMEOUT:
    case ERROR_INTERNET_NAME_NOT_RESOLVED:
    case ERROR_INTERNET_CANNOT_CONNECT:
    case ERROR_INTERNET_CONNECTION_ABORTED:
    case ERROR_INTERNET_CONNECTION_RESET:
    case ERROR_INTERNET_DISCONNECTED:
    case ERROR_INTERNET_SERVER_UNREACHABLE:
    case ERROR_INTERNET_PROXY_SERVER_UNREACHABLE:
    case ERROR_HTTP_INVALID_SERVER_RESPONSE:
    /* Wine's WinINet passes some socket errors through as they are. */
    case WSAECONNRESET:
    case WSAECONNABORTED:
    case WSAECONNREFUSED:
    case WSAETIMEDOUT:
    case WSAENETRESET:
    case WSAENETUNREACH:
    case WSAEHOSTUNREACH:
        return TRUE;
    default:
        return FALSE;
    }
}

static BOOL fail_inet(struct http *h)
{
    DWORD err = GetLastError();
    if (transfer_stopped(h->t)) return transfer_fail(h->t, E_ABORT, DOS_CONTEXT_NONE, FALSE);
    return transfer_fail(h->t, HRESULT_FROM_WIN32(err), DOS_CONTEXT_REMOTE_FILE, inet_transient(err));
}

/* Closes the current request and its connection handle. Only the worker closes its handles:
 * WinINet reuses a closed handle's number, so a handle closed by another thread could come
 * back as someone else's request. */
static void close_request(struct http *h, HINTERNET request)
{
    if (request) InternetCloseHandle(request);
    if (h->connect) InternetCloseHandle(h->connect);
    h->connect = NULL;
}

static HINTERNET open_session(struct transfer *t)
{
    struct dos_job_info info;
    WCHAR *list = NULL, *bypass = NULL;
    HINTERNET session;
    DWORD access;

    dos_job_get_info(t->job, &info);
    switch (info.proxy_usage)
    {
    case DOS_PROXY_NO_PROXY: access = INTERNET_OPEN_TYPE_DIRECT; break;
    case DOS_PROXY_OVERRIDE: access = INTERNET_OPEN_TYPE_PROXY; break;
    default: access = INTERNET_OPEN_TYPE_PRECONFIG; break;
    }
    if (access == INTERNET_OPEN_TYPE_PROXY)
    {
        dos_job_copy_text(t->job, DOS_JOB_PROXY_LIST, malloc, (dos_char **)&list);
        dos_job_copy_text(t->job, DOS_JOB_PROXY_BYPASS, malloc, (dos_char **)&bypass);
    }
    session = InternetOpenW(L"Microsoft BITS/7.8 dosvc", access, list, bypass, 0);
    free(list);
    free(bypass);
    return session;
}

static BOOL query_number(HINTERNET request, DWORD what, DWORD *value)
{
    DWORD size = sizeof(*value);
    return HttpQueryInfoW(request, what | HTTP_QUERY_FLAG_NUMBER, value, &size, NULL);
}

static BOOL query_u64(HINTERNET request, DWORD what, uint64_t *value)
{
    WCHAR text[32];
    DWORD size = sizeof(text);
    WCHAR *end;

    if (!HttpQueryInfoW(request, what, text, &size, NULL)) return FALSE;
    *value = _wcstoui64(text, &end, 10);
    return end != text && !*end;
}

/* "bytes first-last/total" (total may be "*"). */
static BOOL parse_content_range(HINTERNET request, uint64_t *first, uint64_t *last, uint64_t *total)
{
    WCHAR text[128];
    DWORD size = sizeof(text);
    unsigned long long a, b, c;

    if (!HttpQueryInfoW(request, HTTP_QUERY_CONTENT_RANGE, text, &size, NULL)) return FALSE;
    if (swscanf(text, L"bytes %llu-%llu/%llu", &a, &b, &c) == 3) *total = c;
    else if (swscanf(text, L"bytes %llu-%llu/*", &a, &b) == 2) *total = DOS_SIZE_UNKNOWN;
    else return FALSE;
    if (b < a) return FALSE;
    *first = a;
    *last = b;
    return TRUE;
}

/* "Authorization: Basic base64(user:password)" for the credentials set on the job. */
static BOOL add_basic_auth(struct http *h, HINTERNET request, uint32_t target, const WCHAR *header)
{
    WCHAR *user = NULL, *password = NULL, line[1024];
    char plain[700], encoded[1000];
    DWORD encoded_len = sizeof(encoded);
    int n;
    BOOL ok = FALSE;

    if (!dos_job_copy_credentials(h->t->job, target, 1 /* BG_AUTH_SCHEME_BASIC */, malloc,
                                  (dos_char **)&user, (dos_char **)&password))
        return FALSE;
    n = snprintf(plain, sizeof(plain), "%ls:%ls", user ? user : L"", password ? password : L"");
    if (n > 0 && n < (int)sizeof(plain)
        && CryptBinaryToStringA((BYTE *)plain, (DWORD)n, CRYPT_STRING_BASE64 | CRYPT_STRING_NOCRLF, encoded, &encoded_len))
    {
        swprintf(line, ARRAYSIZE(line), L"%ls: Basic %hs\r\n", header, encoded);
        ok = HttpAddRequestHeadersW(request, line, (DWORD)-1, HTTP_ADDREQ_FLAG_ADD | HTTP_ADDREQ_FLAG_REPLACE);
    }
    SecureZeroMemory(plain, sizeof(plain));
    free(user);
    free(password);
    return ok;
}

static BOOL start_over(struct http *h);

/* Opens "GET url" on a connection handle of its own, kept in h->connect (WinINet still pools the socket). */
static HINTERNET open_request(struct http *h)
{
    const DWORD flags = INTERNET_FLAG_NO_CACHE_WRITE | INTERNET_FLAG_RELOAD | INTERNET_FLAG_NO_COOKIES
                        | INTERNET_FLAG_NO_AUTO_REDIRECT | INTERNET_FLAG_NO_UI | INTERNET_FLAG_KEEP_CONNECTION
                        | INTERNET_FLAG_NO_AUTH;
    WCHAR host[INTERNET_MAX_HOST_NAME_LENGTH], path[INTERNET_MAX_URL_LENGTH];
    URL_COMPONENTSW parts;
    HINTERNET connect, request;

    memset(&parts, 0, sizeof(parts));
    parts.dwStructSize = sizeof(parts);
    parts.lpszHostName = host;
    parts.dwHostNameLength = ARRAYSIZE(host);
    parts.lpszUrlPath = path;
    parts.dwUrlPathLength = ARRAYSIZE(path);
    parts.dwExtraInfoLength = 1;
    if (!InternetCrackUrlW(h->url, 0, 0, &parts)) return NULL;
    if (parts.lpszExtraInfo && lstrlenW(path) + lstrlenW(parts.lpszExtraInfo) < (int)ARRAYSIZE(path))
        lstrcatW(path, parts.lpszExtraInfo);
    if (!(connect = InternetConnectW(h->session, host, parts.nPort, NULL, NULL, INTERNET_SERVICE_HTTP, 0, 0)))
        return NULL;
    request = HttpOpenRequestW(connect, L"GET", path, NULL, NULL, NULL,
                               flags | (parts.nScheme == INTERNET_SCHEME_HTTPS ? INTERNET_FLAG_SECURE : 0), 0);
    if (request) h->connect = connect;
    else InternetCloseHandle(connect);
    return request;
}

/*
 * Sends "GET url" for bytes first..last (last = DOS_LENGTH_TO_EOF: to the end;
 * whole: no Range header at all), following redirects and answering Basic
 * challenges. On success *out is the open request and its status is 200 or 206.
 */
static BOOL send_request(struct http *h, uint64_t first, uint64_t last, BOOL whole, HINTERNET *out, DWORD *status)
{
    struct transfer *t = h->t;
    unsigned redirects = 0;

    *out = NULL;
    for (;;)
    {
        WCHAR range[80], location[INTERNET_MAX_URL_LENGTH], combined[INTERNET_MAX_URL_LENGTH];
        DWORD size = sizeof(location), combined_len = ARRAYSIZE(combined);
        HINTERNET request;

        if (transfer_stopped(t)) return transfer_fail(t, E_ABORT, DOS_CONTEXT_NONE, FALSE);
        if (!(request = open_request(h))) return fail_inet(h);
        if (inet_security_flags(h->security))
        {
            DWORD flags = 0, size = sizeof(flags);
            InternetQueryOptionW(request, INTERNET_OPTION_SECURITY_FLAGS, &flags, &size);
            flags |= inet_security_flags(h->security);
            InternetSetOptionW(request, INTERNET_OPTION_SECURITY_FLAGS, &flags, sizeof(flags));
        }
        if (h->cert) InternetSetOptionW(request, INTERNET_OPTION_CLIENT_CERT_CONTEXT, (void *)h->cert, sizeof(*h->cert));
        if (h->headers) HttpAddRequestHeadersW(request, h->headers, (DWORD)-1, HTTP_ADDREQ_FLAG_ADD);
        if (!whole)
        {
            if (last == DOS_LENGTH_TO_EOF) swprintf(range, ARRAYSIZE(range), L"Range: bytes=%llu-\r\n", first);
            else swprintf(range, ARRAYSIZE(range), L"Range: bytes=%llu-%llu\r\n", first, last);
            HttpAddRequestHeadersW(request, range, (DWORD)-1, HTTP_ADDREQ_FLAG_ADD | HTTP_ADDREQ_FLAG_REPLACE);
            /* Bytes already on disk came from one version of the file: a changed one answers 200. */
            if (t->file->validator)
            {
                WCHAR if_range[300];
                swprintf(if_range, ARRAYSIZE(if_range), L"If-Range: %ls\r\n", (const WCHAR *)t->file->validator);
                HttpAddRequestHeadersW(request, if_range, (DWORD)-1, HTTP_ADDREQ_FLAG_ADD | HTTP_ADDREQ_FLAG_REPLACE);
            }
        }
        if (h->tried_custom_auth) HttpAddRequestHeadersW(request, h->auth_headers, (DWORD)-1, HTTP_ADDREQ_FLAG_ADD | HTTP_ADDREQ_FLAG_REPLACE);
        if (h->tried_auth) add_basic_auth(h, request, 1 /* server */, L"Authorization");
        if (h->tried_proxy_auth) add_basic_auth(h, request, 2 /* proxy */, L"Proxy-Authorization");
        if (!HttpSendRequestW(request, NULL, 0, NULL, 0))
        {
            BOOL r = fail_inet(h);
            close_request(h, request);
            return r;
        }
        if (!query_number(request, HTTP_QUERY_STATUS_CODE, status))
        {
            close_request(h, request);
            return transfer_fail(t, HRESULT_FROM_WIN32(ERROR_HTTP_INVALID_SERVER_RESPONSE), DOS_CONTEXT_REMOTE_FILE, TRUE);
        }
        transfer_record_http(t, *status, h->url, NULL);
        if (*status == 200 || *status == 206)
        {
            *out = request;
            return TRUE;
        }
        if ((*status == 401 && !h->tried_auth && dos_job_has_credentials(t->job, 1, 1))
            || (*status == 407 && !h->tried_proxy_auth && dos_job_has_credentials(t->job, 2, 1)))
        {
            if (*status == 401) h->tried_auth = TRUE;
            else h->tried_proxy_auth = TRUE;
            close_request(h, request);
            continue;
        }
        if ((*status == 401 || *status == 407) && h->auth_headers && !h->tried_custom_auth)
        {
            h->tried_custom_auth = TRUE;
            close_request(h, request);
            continue;
        }
        if (*status == 301 || *status == 302 || *status == 303 || *status == 307 || *status == 308)
        {
            BOOL ok = (h->security & DOS_REDIRECT_POLICY_MASK) != DOS_REDIRECT_DISALLOW
                      && ++redirects <= MAX_REDIRECTS && HttpQueryInfoW(request, HTTP_QUERY_LOCATION, location, &size, NULL)
                      && InternetCombineUrlW(h->url, location, combined, &combined_len, ICU_NO_ENCODE);
            close_request(h, request);
            if (!ok || (_wcsnicmp(combined, L"http:", 5) && _wcsnicmp(combined, L"https:", 6)))
                return transfer_fail(t, BG_E_HTTP_ERROR(*status), DOS_CONTEXT_REMOTE_FILE, FALSE);
            /* HTTPS to HTTP would hand the transfer to anyone on the path: refused unless allowed. */
            if (!(h->security & DOS_REDIRECT_HTTPS_TO_HTTP)
                && !_wcsnicmp(h->url, L"https:", 6) && _wcsnicmp(combined, L"https:", 6))
                return transfer_fail(t, HRESULT_FROM_WIN32(ERROR_INTERNET_HTTPS_TO_HTTP_ON_REDIR),
                                     DOS_CONTEXT_REMOTE_FILE, FALSE);
            lstrcpynW(h->url, combined, ARRAYSIZE(h->url));
            continue;
        }
        if (*status == 416)
        {
            /* "bytes * /size": the range is not in the file. Recorded, the size lets the store say so
             * for a ranged file (DO_E_INVALID_RANGE); a resumed whole file changed and starts over. */
            WCHAR text[128];
            unsigned long long total;
            DWORD len = sizeof(text);
            BOOL known = HttpQueryInfoW(request, HTTP_QUERY_CONTENT_RANGE, text, &len, NULL)
                         && swscanf(text, L"bytes */%llu", &total) == 1;
            close_request(h, request);
            if (known && t->file->range_count)
            {
                if (dos_file_record_progress(t->file->file, t->run, total, t->file->transferred) != DOS_OK
                    && dos_job_run_is_live(t->job, t->run))
                    return transfer_fail(t, DO_E_INVALID_RANGE, DOS_CONTEXT_REMOTE_FILE, FALSE);
            }
            else if (known && !whole)
                return start_over(h);
            return transfer_fail(t, BG_E_HTTP_ERROR(416), DOS_CONTEXT_REMOTE_FILE, FALSE);
        }
        if (*status == 503) query_number(request, HTTP_QUERY_RETRY_AFTER, &t->retry_after);
        close_request(h, request);
        if (*status >= 200 && *status < 300)
            return transfer_fail(t, DO_E_UNEXPECTED_HTTP_STATUS_2XX, DOS_CONTEXT_REMOTE_FILE, TRUE);
        return transfer_fail(t, BG_E_HTTP_ERROR(*status), DOS_CONTEXT_REMOTE_FILE,
                             *status >= 500 || *status == 408 || *status == 429);
    }
}

/* Reads the body of request into the temporary file: exactly length bytes, or to the end. */
/*
 * InternetReadFile waits until it has all it was asked for, so the size asked for sets how
 * often progress moves: it grows while reads come back at once (large reads are what make
 * a fast link fast) and shrinks when a read had to wait, so that a slow server still shows
 * progress about every tenth of a second.
 */
static DWORD next_read_size(DWORD size, ULONGLONG took_ms)
{
    if (took_ms > 100 && size > MIN_CHUNK) return size / 2;
    if (took_ms < 10 && size < CHUNK) return size * 2;
    return size;
}

static BOOL read_body(struct http *h, HINTERNET request, uint64_t length, uint64_t file_size)
{
    struct transfer *t = h->t;
    uint64_t got_total = 0;
    DWORD got, size = MIN_CHUNK * 4;

    for (;;)
    {
        DWORD want = size;
        ULONGLONG start = GetTickCount64();

        if (length != DOS_LENGTH_TO_EOF && length - got_total < want) want = (DWORD)(length - got_total) + 1;
        if (!InternetReadFile(request, h->buffer, want, &got)) return fail_inet(h);
        size = next_read_size(size, GetTickCount64() - start);
        if (!got) break;
        /* More than was asked for is not the file: nothing of it is written. */
        if (length != DOS_LENGTH_TO_EOF && got > length - got_total)
            return transfer_fail(t, DO_E_HTTP_BLOCKSIZE_MISMATCH, DOS_CONTEXT_REMOTE_FILE, FALSE);
        if (!transfer_write(t, h->buffer, got, file_size)) return FALSE;
        got_total += got;
    }
    /* A body that ends early was cut: what arrived is kept and the rest is asked for again. */
    if (length != DOS_LENGTH_TO_EOF && got_total < length)
        return transfer_fail(t, HRESULT_FROM_WIN32(ERROR_INTERNET_CONNECTION_ABORTED), DOS_CONTEXT_REMOTE_FILE, TRUE);
    return TRUE;
}

/* Forgets the bytes on disk, in the store and in the temporary file. */
static BOOL restart_file(struct http *h)
{
    struct transfer *t = h->t;
    LARGE_INTEGER zero = { 0 };

    if (dos_file_restart(t->file->file, t->run) != DOS_OK) return transfer_fail(t, E_ABORT, DOS_CONTEXT_NONE, FALSE);
    t->file->transferred = 0;
    t->file->file_size = DOS_SIZE_UNKNOWN;
    free(t->file->validator);
    t->file->validator = NULL;
    if (!SetFilePointerEx(t->temp, zero, NULL, FILE_BEGIN) || !SetEndOfFile(t->temp))
        return transfer_fail(t, HRESULT_FROM_WIN32(GetLastError()), DOS_CONTEXT_NONE, FALSE);
    return TRUE;
}

/* The file changed under a resumed transfer: forget its bytes and fetch it again from the start. */
static BOOL start_over(struct http *h)
{
    if (!restart_file(h)) return FALSE;
    h->restart = TRUE;
    return FALSE;
}

/* Keeps the response's headers, and the validator later requests resume against: a strong
 * ETag, else Last-Modified. */
static void record_response(struct http *h, HINTERNET request)
{
    WCHAR *headers = NULL, validator[256];
    DWORD size = 0, vsize = sizeof(validator);
    BOOL have;

    HttpQueryInfoW(request, HTTP_QUERY_RAW_HEADERS_CRLF, NULL, &size, NULL);
    if (size && (headers = malloc(size + sizeof(WCHAR))) && !HttpQueryInfoW(request, HTTP_QUERY_RAW_HEADERS_CRLF, headers, &size, NULL))
    {
        free(headers);
        headers = NULL;
    }
    have = HttpQueryInfoW(request, HTTP_QUERY_ETAG, validator, &vsize, NULL) && _wcsnicmp(validator, L"W/", 2);
    vsize = sizeof(validator);
    if (!have) have = HttpQueryInfoW(request, HTTP_QUERY_LAST_MODIFIED, validator, &vsize, NULL);
    dos_file_record_response(h->t->file->file, h->t->run, (const dos_char *)headers, have ? (const dos_char *)validator : NULL);
    if (have && !h->t->file->validator) h->t->file->validator = wstr_dup((const dos_char *)validator);
    free(headers);
}

/* Fetches bytes first..first+length-1 (length DOS_LENGTH_TO_EOF: to the end) of the remote file. */
static BOOL fetch_span(struct http *h, uint64_t first, uint64_t length, BOOL ranged)
{
    struct transfer *t = h->t;
    uint64_t last = length == DOS_LENGTH_TO_EOF ? DOS_LENGTH_TO_EOF : first + length - 1;
    uint64_t size = DOS_SIZE_UNKNOWN, body = DOS_LENGTH_TO_EOF, r_first, r_last, r_total;
    HINTERNET request;
    DWORD status;
    BOOL ok;

    /* Whether this request carries If-Range: record_response may learn a validator below. */
    BOOL conditional = t->file->validator != NULL;

    if (!send_request(h, first, last, !ranged && first == 0, &request, &status)) return FALSE;
    record_response(h, request);
    if (status == 206)
    {
        if (!parse_content_range(request, &r_first, &r_last, &r_total) || r_first != first
            || (last != DOS_LENGTH_TO_EOF && r_last != last)
            || (r_total != DOS_SIZE_UNKNOWN && r_last >= r_total))
        {
            close_request(h, request);
            return transfer_fail(t, DO_E_HTTP_BLOCKSIZE_MISMATCH, DOS_CONTEXT_REMOTE_FILE, FALSE);
        }
        size = r_total;
        body = r_last - r_first + 1;
        /* Another size than the bytes on disk were part of: the file changed, start over. */
        if (t->transferred_from_before && size != DOS_SIZE_UNKNOWN && t->file->file_size != DOS_SIZE_UNKNOWN
            && size != t->file->file_size)
        {
            close_request(h, request);
            return start_over(h);
        }
    }
    else    /* 200: the whole file */
    {
        if (query_u64(request, HTTP_QUERY_CONTENT_LENGTH, &size)) body = size;
        if (ranged)
        {
            close_request(h, request);
            /* With If-Range, a 200 says the file changed; without, that ranges are not supported. */
            if (conditional) return start_over(h);
            return transfer_fail(t, DO_E_INSUFFICIENT_RANGE_SUPPORT, DOS_CONTEXT_REMOTE_FILE, FALSE);
        }
        if (first)
        {
            /* The server cannot resume, or the file changed: it starts over from its first byte. */
            if (!restart_file(h))
            {
                close_request(h, request);
                return FALSE;
            }
            record_response(h, request);
        }
    }
    /* The size is known before the first byte: the store checks the ranges against it. */
    if (size != DOS_SIZE_UNKNOWN && dos_file_record_progress(t->file->file, t->run, size, t->file->transferred) != DOS_OK)
    {
        close_request(h, request);
        return dos_job_run_is_live(t->job, t->run) ? transfer_fail(t, DO_E_INVALID_RANGE, DOS_CONTEXT_REMOTE_FILE, FALSE)
                                                   : transfer_fail(t, E_ABORT, DOS_CONTEXT_NONE, FALSE);
    }
    ok = read_body(h, request, body, size);
    close_request(h, request);
    /* A body of unknown length ends the file where it ends. */
    if (ok && size == DOS_SIZE_UNKNOWN && !ranged
        && dos_file_record_progress(t->file->file, t->run, t->file->transferred, t->file->transferred) != DOS_OK)
        return transfer_fail(t, E_ABORT, DOS_CONTEXT_NONE, FALSE);
    return ok;
}

static BOOL fetch_span_of(void *context, uint64_t first, uint64_t length, BOOL ranged)
{
    return fetch_span(context, first, length, ranged);
}

/* The rest of the file, or each remaining range in the order given. */
static BOOL fetch_all(struct http *h)
{
    return transfer_each_span(h->t, h->t->file->file_size, fetch_span_of, h);
}

BOOL transport_http_fetch(struct transfer *t)
{
    struct dos_transfer_file *f = t->file;
    struct http h = { .t = t };
    BOOL ok;

    t->protocol = L"http";
    lstrcpynW(h.url, (const WCHAR *)f->remote_name, ARRAYSIZE(h.url));
    if (!(h.buffer = malloc(CHUNK))) return transfer_fail(t, E_OUTOFMEMORY, DOS_CONTEXT_NONE, TRUE);
    if (!(h.session = open_session(t)))
    {
        free(h.buffer);
        return transfer_fail(t, HRESULT_FROM_WIN32(GetLastError()), DOS_CONTEXT_GENERAL_TRANSPORT, FALSE);
    }
    {
        struct dos_job_info info;
        dos_job_get_info(t->job, &info);
        h.security = info.u32[DOS_JOB_SECURITY_FLAGS];
        dos_job_copy_text(t->job, DOS_JOB_CUSTOM_HEADERS, malloc, (dos_char **)&h.headers);
        dos_job_copy_text(t->job, DOS_JOB_CUSTOM_AUTH_HEADERS, malloc, (dos_char **)&h.auth_headers);
        h.cert = load_client_cert(t->job);
    }
    t->transferred_from_before = f->transferred != 0;
    ok = fetch_all(&h);
    if (!ok && h.restart)
    {
        /* Once, from the start, against the new version of the file. */
        h.restart = FALSE;
        t->transferred_from_before = FALSE;
        ok = fetch_all(&h);
        /* Changing again at once: the server is not consistent; a later retry may be. */
        if (!ok && h.restart) transfer_fail(t, DO_E_HTTP_BLOCKSIZE_MISMATCH, DOS_CONTEXT_REMOTE_FILE, TRUE);
    }
    /* BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT: the file's remote name becomes where it came from. */
    if (ok && (h.security & DOS_REDIRECT_POLICY_MASK) == DOS_REDIRECT_ALLOW_REPORT
        && lstrcmpW(h.url, (const WCHAR *)f->remote_name))
        dos_file_report_redirect(f->file, t->run, dchars_of(h.url));
    InternetCloseHandle(h.session);
    if (h.cert) CertFreeCertificateContext(h.cert);
    free(h.headers);
    free(h.auth_headers);
    free(h.buffer);
    return ok;
}
