/*
 * The HTTP and HTTPS transport's protocol logic. One request per byte span:
 * the rest of the file, or each remaining range in the order given, resumed
 * with a Range request from the bytes already on disk. Redirects are followed
 * here, so that their number and the HTTPS-to-HTTP rule are ours; Basic
 * credentials are sent when challenged. Anything but the expected 200 or 206
 * is an error and nothing of its body is written. The exchanges themselves go
 * over our own socket client or WinINet (http.h, docs/transport.md).
 */
#include "transport.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wincrypt.h>
#include <wininet.h>

#include "deliveryoptimizationerrors.h"
#include "trace.h"
#include "wstr.h"

#define CHUNK WRITER_BUFFER_SIZE    /* the largest read */
#define MIN_CHUNK (16u << 10)      /* the smallest */
#define MAX_REDIRECTS 10
#define RECEIVE_TIMEOUT_MS 60000  /* the longest wait for the next byte, unless the job's no-progress timeout is shorter */
#define BG_E_HTTP_ERROR(status) ((HRESULT)(0x80190000u + (status)))

static inline const dos_char *dchars_of(const WCHAR *s) { return (const dos_char *)s; }

struct http
{
    struct transfer *t;
    HINTERNET session;             /* WinINet's, for HTTPS and proxies */
    BOOL direct;                   /* no proxy applies: our own client carries the requests */
    WCHAR url[INTERNET_MAX_URL_LENGTH];   /* after redirects */
    BYTE *buffer;
    BOOL tried_auth, tried_proxy_auth;
    DWORD receive_timeout_ms;
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

/* A failed exchange: the last error, or the end of the run. */
static BOOL fail_exchange(struct http *h)
{
    DWORD err = GetLastError();
    if (err == ERROR_OPERATION_ABORTED || transfer_stopped(h->t)) return transfer_fail(h->t, E_ABORT, DOS_CONTEXT_NONE, FALSE);
    return transfer_fail(h->t, HRESULT_FROM_WIN32(err), DOS_CONTEXT_REMOTE_FILE, inet_transient(err));
}

/* Whether the system's proxy configuration names neither a proxy nor a way to find one (a
 * configuration script or WPAD, which only WinINet follows). Asking costs 8 ms under Wine. */
static BOOL system_is_direct(void)
{
    HINTERNET session = InternetOpenW(L"dosvc", INTERNET_OPEN_TYPE_PRECONFIG, NULL, NULL, 0);
    BYTE buffer[sizeof(INTERNET_PROXY_INFO) + 2048];
    INTERNET_PER_CONN_OPTIONW option;
    INTERNET_PER_CONN_OPTION_LISTW list = { sizeof(list), NULL, 1, 0, &option };
    DWORD size = sizeof(buffer), list_size = sizeof(list);
    BOOL direct;

    memset(&option, 0, sizeof(option));
    option.dwOption = INTERNET_PER_CONN_FLAGS;
    direct = session && InternetQueryOptionW(session, INTERNET_OPTION_PROXY, buffer, &size)
             && ((INTERNET_PROXY_INFO *)buffer)->dwAccessType == INTERNET_OPEN_TYPE_DIRECT;
    if (direct && InternetQueryOptionW(NULL, INTERNET_OPTION_PER_CONNECTION_OPTION, &list, &list_size))
        direct = !(option.Value.dwValue & (PROXY_TYPE_PROXY | PROXY_TYPE_AUTO_PROXY_URL | PROXY_TYPE_AUTO_DETECT));
    if (session) InternetCloseHandle(session);
    return direct;
}

/*
 * Whether the job's requests go straight to the server, over dosvc's own client. PRECONFIG
 * and AUTODETECT follow the system's configuration, asked once per run of the job: a run's
 * many small files do not pay for asking each time, and a run started after the
 * configuration changed sees the change. A failed file asks again before the retry.
 */
static BOOL job_is_direct(struct transfer *t, const struct dos_job_info *info)
{
    if (info->proxy_usage == DOS_PROXY_NO_PROXY) return TRUE;
    if (info->proxy_usage == DOS_PROXY_OVERRIDE) return FALSE;
    if (!t->system_direct) return system_is_direct();
    if (*t->system_direct < 0) *t->system_direct = system_is_direct();
    return *t->system_direct;
}

/* WinINet's session for a job whose requests go through a proxy. */
static HINTERNET open_session(struct transfer *t, const struct dos_job_info *info)
{
    WCHAR *list = NULL, *bypass = NULL;
    HINTERNET session;
    DWORD access = INTERNET_OPEN_TYPE_PRECONFIG;

    if (info->proxy_usage == DOS_PROXY_OVERRIDE)
    {
        access = INTERNET_OPEN_TYPE_PROXY;
        dos_job_copy_text(t->job, DOS_JOB_PROXY_LIST, malloc, (dos_char **)&list);
        dos_job_copy_text(t->job, DOS_JOB_PROXY_BYPASS, malloc, (dos_char **)&bypass);
    }
    session = InternetOpenW(L"Microsoft BITS/7.8 dosvc", access, list, bypass, 0);
    free(list);
    free(bypass);
    return session;
}

static BOOL field_u64(struct http_response *r, enum http_field field, uint64_t *value)
{
    WCHAR text[32], *end;

    if (!r->ops->field(r, field, text, ARRAYSIZE(text)) || *text < '0' || *text > '9') return FALSE;
    *value = _wcstoui64(text, &end, 10);
    return !*end;
}

/* "bytes first-last/total" (total may be "*"). */
static BOOL parse_content_range(struct http_response *r, uint64_t *first, uint64_t *last, uint64_t *total)
{
    WCHAR text[128];
    unsigned long long a, b, c;

    if (!r->ops->field(r, HTTP_FIELD_CONTENT_RANGE, text, ARRAYSIZE(text))) return FALSE;
    if (swscanf(text, L"bytes %llu-%llu/%llu", &a, &b, &c) == 3) *total = c;
    else if (swscanf(text, L"bytes %llu-%llu/*", &a, &b) == 2) *total = DOS_SIZE_UNKNOWN;
    else return FALSE;
    if (b < a) return FALSE;
    *first = a;
    *last = b;
    return TRUE;
}

/* Appends a request field line to the growing header text. */
static BOOL add_field(WCHAR **text, const WCHAR *name, const WCHAR *value)
{
    size_t old = *text ? wcslen(*text) : 0, add = wcslen(name) + wcslen(value) + 4;
    WCHAR *grown = realloc(*text, (old + add + 1) * sizeof(WCHAR));

    if (!grown) return FALSE;
    swprintf(grown + old, add + 1, L"%ls: %ls\r\n", name, value);
    *text = grown;
    return TRUE;
}

/* Appends a block of field lines, ending its last line with CRLF if it does not. */
static BOOL add_lines(WCHAR **text, const WCHAR *lines)
{
    size_t old = *text ? wcslen(*text) : 0, add = wcslen(lines);
    BOOL ended = add >= 2 && lines[add - 2] == '\r' && lines[add - 1] == '\n';
    WCHAR *grown;

    if (!add) return TRUE;
    if (!(grown = realloc(*text, (old + add + 3) * sizeof(WCHAR)))) return FALSE;
    memcpy(grown + old, lines, add * sizeof(WCHAR));
    wcscpy(grown + old + add, ended ? L"" : L"\r\n");
    *text = grown;
    return TRUE;
}

/* "<header>: Basic base64(user:password)" for the credentials set on the job. */
static BOOL add_basic_auth(struct http *h, WCHAR **text, uint32_t target, const WCHAR *header)
{
    WCHAR *user = NULL, *password = NULL, value[1024];
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
        swprintf(value, ARRAYSIZE(value), L"Basic %hs", encoded);
        ok = add_field(text, header, value);
        SecureZeroMemory(value, sizeof(value));
    }
    SecureZeroMemory(plain, sizeof(plain));
    free(user);
    free(password);
    return ok;
}

/*
 * The version of the remote file that the bytes on disk came from, as the first response named
 * it: its ETag (a weak one too, which only comparisons use) and its Last-Modified, each empty
 * if it had none. The store keeps both as one text, "<ETag>\n<Last-Modified>" (no field value
 * holds a line end).
 */
struct version
{
    WCHAR etag[256];
    WCHAR date[256];
};

static void version_of_response(struct http_response *r, struct version *v)
{
    if (!r->ops->field(r, HTTP_FIELD_ETAG, v->etag, ARRAYSIZE(v->etag))) v->etag[0] = 0;
    if (!r->ops->field(r, HTTP_FIELD_LAST_MODIFIED, v->date, ARRAYSIZE(v->date))) v->date[0] = 0;
}

static void version_of_text(const WCHAR *text, struct version *v)
{
    const WCHAR *newline = text ? wcschr(text, '\n') : NULL;

    v->etag[0] = v->date[0] = 0;
    if (!newline) return;
    lstrcpynW(v->etag, text, (int)min((size_t)(newline - text) + 1, ARRAYSIZE(v->etag)));
    lstrcpynW(v->date, newline + 1, ARRAYSIZE(v->date));
}

static BOOL is_weak(const WCHAR *etag)
{
    return !_wcsnicmp(etag, L"W/", 2);
}

/* What a resumed request's If-Range names the bytes on disk by, in value: their strong ETag,
 * else their Last-Modified; never a weak ETag (RFC 9110 13.1.5). FALSE if neither is known. */
static BOOL resume_condition(struct http *h, WCHAR value[256])
{
    struct version v;

    version_of_text((const WCHAR *)h->t->file->validator, &v);
    if (v.etag[0] && !is_weak(v.etag)) lstrcpyW(value, v.etag);
    else if (v.date[0]) lstrcpyW(value, v.date);
    else return FALSE;
    return TRUE;
}

/* The request's fields: the job's custom headers, Range and If-Range, credentials. */
static WCHAR *request_fields(struct http *h, uint64_t first, uint64_t last, BOOL whole)
{
    WCHAR *text = NULL, range[80], condition[256];

    if (h->headers) add_lines(&text, h->headers);
    if (h->tried_custom_auth) add_lines(&text, h->auth_headers);
    if (!whole)
    {
        if (last == DOS_LENGTH_TO_EOF) swprintf(range, ARRAYSIZE(range), L"bytes=%llu-", first);
        else swprintf(range, ARRAYSIZE(range), L"bytes=%llu-%llu", first, last);
        add_field(&text, L"Range", range);
        /* Bytes already on disk came from one version of the file: a changed one answers 200. */
        if (resume_condition(h, condition)) add_field(&text, L"If-Range", condition);
    }
    if (h->tried_auth) add_basic_auth(h, &text, 1 /* server */, L"Authorization");
    if (h->tried_proxy_auth) add_basic_auth(h, &text, 2 /* proxy */, L"Proxy-Authorization");
    return text;
}

/* Whether two URLs have the same scheme, host and port. */
static BOOL same_origin(const WCHAR *a, const WCHAR *b)
{
    WCHAR host_a[INTERNET_MAX_HOST_NAME_LENGTH], host_b[INTERNET_MAX_HOST_NAME_LENGTH];
    URL_COMPONENTSW pa, pb;

    memset(&pa, 0, sizeof(pa));
    pa.dwStructSize = sizeof(pa);
    pa.lpszHostName = host_a;
    pa.dwHostNameLength = ARRAYSIZE(host_a);
    pb = pa;
    pb.lpszHostName = host_b;
    pb.dwHostNameLength = ARRAYSIZE(host_b);
    return InternetCrackUrlW(a, 0, 0, &pa) && InternetCrackUrlW(b, 0, 0, &pb) && pa.nScheme == pb.nScheme
           && pa.nPort == pb.nPort && !lstrcmpiW(host_a, host_b);
}

/* One exchange for the current URL: our own sockets for plain http reached directly, else WinINet. */
static BOOL exchange(struct http *h, const WCHAR *fields, struct http_response **response)
{
    struct http_request q = {
        .url = h->url, .headers = fields, .stop = h->t->stop, .receive_timeout_ms = h->receive_timeout_ms,
        .session = h->session, .security = inet_security_flags(h->security), .cert = h->cert,
        .revocation = (h->security & 0x0001) != 0,   /* BG_SSL_ENABLE_CRL_CHECK */
    };
    if (h->direct) return http_socket_send(&q, response);
    return http_inet_send(&q, response);
}

static BOOL start_over(struct http *h);

/* The http channel: a request as sent (its Range and If-Range), and a response's head. */
static void trace_request(struct http *h, uint64_t first, uint64_t last, BOOL whole)
{
    WCHAR condition[256];
    BOOL conditional = !whole && resume_condition(h, condition);
    char range[64] = "";

    if (!whole && last == DOS_LENGTH_TO_EOF) snprintf(range, sizeof(range), ", Range: bytes=%llu-", first);
    else if (!whole) snprintf(range, sizeof(range), ", Range: bytes=%llu-%llu", first, last);
    dos_trace_line(DOS_TRACE_HTTP, "request", "GET %s (%s)%s%s%s", dos_trace_wstr(dchars_of(h->url)),
                   h->direct ? "direct" : "WinINet", range, conditional ? ", If-Range: " : "",
                   conditional ? dos_trace_wstr(dchars_of(condition)) : "");
}

static void trace_response(struct http_response *r)
{
    WCHAR length[32] = L"", range[128] = L"", etag[256] = L"", date[64] = L"";

    r->ops->field(r, HTTP_FIELD_CONTENT_LENGTH, length, ARRAYSIZE(length));
    r->ops->field(r, HTTP_FIELD_CONTENT_RANGE, range, ARRAYSIZE(range));
    r->ops->field(r, HTTP_FIELD_ETAG, etag, ARRAYSIZE(etag));
    r->ops->field(r, HTTP_FIELD_LAST_MODIFIED, date, ARRAYSIZE(date));
    dos_trace_line(DOS_TRACE_HTTP, "response", "%lu, Content-Length %s, Content-Range %s, ETag %s, Last-Modified %s",
                   (unsigned long)r->status, dos_trace_wstr(dchars_of(length)), dos_trace_wstr(dchars_of(range)),
                   dos_trace_wstr(dchars_of(etag)), dos_trace_wstr(dchars_of(date)));
}

/*
 * Sends "GET url" for bytes first..last (last = DOS_LENGTH_TO_EOF: to the end;
 * whole: no Range header at all), following redirects and answering Basic
 * challenges. On success *out is the open response and its status is 200 or 206.
 */
static BOOL send_request(struct http *h, uint64_t first, uint64_t last, BOOL whole, struct http_response **out)
{
    struct transfer *t = h->t;
    unsigned redirects = 0;

    *out = NULL;
    for (;;)
    {
        WCHAR location[INTERNET_MAX_URL_LENGTH], combined[INTERNET_MAX_URL_LENGTH], *fields;
        DWORD combined_len = ARRAYSIZE(combined), status;
        struct http_response *r;
        uint64_t retry_after;
        BOOL sent;

        if (transfer_stopped(t)) return transfer_fail(t, E_ABORT, DOS_CONTEXT_NONE, FALSE);
        fields = request_fields(h, first, last, whole);
        if (dos_trace_on(DOS_TRACE_HTTP)) trace_request(h, first, last, whole);
        sent = exchange(h, fields, &r);
        if (fields) SecureZeroMemory(fields, wcslen(fields) * sizeof(WCHAR));
        free(fields);
        if (!sent)
        {
            TRACE_HTTP("no answer: error %lu", (unsigned long)GetLastError());
            return fail_exchange(h);
        }
        if (dos_trace_on(DOS_TRACE_HTTP)) trace_response(r);
        transfer_record_http(t, r->status, h->url, r->address[0] ? r->address : NULL);
        if ((status = r->status) == 200 || status == 206)
        {
            *out = r;
            return TRUE;
        }
        if ((status == 401 && !h->tried_auth && dos_job_has_credentials(t->job, 1, 1))
            || (status == 407 && !h->tried_proxy_auth && !h->direct && dos_job_has_credentials(t->job, 2, 1)))
        {
            if (status == 401) h->tried_auth = TRUE;
            else h->tried_proxy_auth = TRUE;
            r->ops->close(r);
            continue;
        }
        /* IDO's HttpCustomAuthHeaders answer a challenge the job's credentials did not. */
        if ((status == 401 || status == 407) && h->auth_headers && !h->tried_custom_auth)
        {
            h->tried_custom_auth = TRUE;
            r->ops->close(r);
            continue;
        }
        if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308)
        {
            BOOL ok = (h->security & DOS_REDIRECT_POLICY_MASK) != DOS_REDIRECT_DISALLOW
                      && ++redirects <= MAX_REDIRECTS && r->ops->field(r, HTTP_FIELD_LOCATION, location, ARRAYSIZE(location))
                      && InternetCombineUrlW(h->url, location, combined, &combined_len, ICU_NO_ENCODE);
            r->ops->close(r);
            if (!ok || (_wcsnicmp(combined, L"http:", 5) && _wcsnicmp(combined, L"https:", 6)))
                return transfer_fail(t, BG_E_HTTP_ERROR(status), DOS_CONTEXT_REMOTE_FILE, FALSE);
            /* HTTPS to HTTP would hand the transfer to anyone on the path: refused unless allowed. */
            if (!(h->security & DOS_REDIRECT_HTTPS_TO_HTTP)
                && !_wcsnicmp(h->url, L"https:", 6) && _wcsnicmp(combined, L"https:", 6))
                return transfer_fail(t, HRESULT_FROM_WIN32(ERROR_INTERNET_HTTPS_TO_HTTP_ON_REDIR),
                                     DOS_CONTEXT_REMOTE_FILE, FALSE);
            /* Credentials and custom authorization were for the first server only. */
            if (!same_origin(h->url, combined)) h->tried_auth = h->tried_custom_auth = FALSE;
            TRACE_HTTP("redirect %u to %s", redirects, dos_trace_wstr(dchars_of(combined)));
            lstrcpynW(h->url, combined, ARRAYSIZE(h->url));
            continue;
        }
        if (status == 416)
        {
            /* "bytes * /size": the range is not in the file. Recorded, the size lets the store say so
             * for a ranged file (DO_E_INVALID_RANGE); a resumed whole file changed and starts over. */
            WCHAR text[128];
            unsigned long long total;
            BOOL known = r->ops->field(r, HTTP_FIELD_CONTENT_RANGE, text, ARRAYSIZE(text))
                         && swscanf(text, L"bytes */%llu", &total) == 1;
            r->ops->close(r);
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
        if (status == 503 && field_u64(r, HTTP_FIELD_RETRY_AFTER, &retry_after))
            t->retry_after = retry_after > MAXDWORD ? MAXDWORD : (DWORD)retry_after;
        r->ops->close(r);
        if (status >= 200 && status < 300)
            return transfer_fail(t, DO_E_UNEXPECTED_HTTP_STATUS_2XX, DOS_CONTEXT_REMOTE_FILE, TRUE);
        return transfer_fail(t, BG_E_HTTP_ERROR(status), DOS_CONTEXT_REMOTE_FILE,
                             status >= 500 || status == 408 || status == 429);
    }
}

/*
 * A read waits until it has something (our sockets) or all it asked for (WinINet), so the
 * size asked for sets how often progress moves under WinINet: it grows while reads come
 * back at once (large reads are what make a fast link fast) and shrinks when a read had to
 * wait, so that a slow server still shows progress about every tenth of a second.
 */
static DWORD next_read_size(DWORD size, ULONGLONG took_ms)
{
    if (took_ms > 100 && size > MIN_CHUNK) return size / 2;
    if (took_ms < 10 && size < CHUNK) return size * 2;
    return size;
}

/* Reads the body into the temporary file: exactly length bytes, or to the end. */
static BOOL read_body(struct http *h, struct http_response *r, uint64_t length, uint64_t file_size)
{
    struct transfer *t = h->t;
    struct writer *w = length == DOS_LENGTH_TO_EOF || length >= WRITER_MIN_BODY ? writer_start(t, file_size) : NULL;
    uint64_t got_total = 0;
    DWORD got, size = MIN_CHUNK * 4;
    BOOL ok = TRUE;
    BYTE *buffer;

    while ((buffer = w ? writer_buffer(w) : h->buffer))
    {
        DWORD want = size;
        ULONGLONG start = GetTickCount64();

        if (length != DOS_LENGTH_TO_EOF && length - got_total < want) want = (DWORD)(length - got_total) + 1;
        if (!r->ops->read(r, buffer, want, &got))
        {
            /* Bytes beyond the announced end are not the file: nothing of that read is written. */
            if (r->surplus)
                ok = transfer_fail(t, DO_E_HTTP_BLOCKSIZE_MISMATCH, DOS_CONTEXT_REMOTE_FILE, FALSE);
            else ok = fail_exchange(h);
            break;
        }
        size = next_read_size(size, GetTickCount64() - start);
        if (!got) break;
        if (length != DOS_LENGTH_TO_EOF && got > length - got_total)
        {
            ok = transfer_fail(t, DO_E_HTTP_BLOCKSIZE_MISMATCH, DOS_CONTEXT_REMOTE_FILE, FALSE);
            break;
        }
        got_total += got;
        if (w) writer_queue(w, got);
        else if (!(ok = transfer_write(t, buffer, got, file_size))) break;
    }
    if (w && !writer_finish(w, ok)) return FALSE;
    if (!ok) return FALSE;
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

    /* Bytes handed to a client's stream cannot be taken back: a changed file is fatal there. */
    if (t->file->sink) return transfer_fail(t, DO_E_HTTP_BLOCKSIZE_MISMATCH, DOS_CONTEXT_REMOTE_FILE, FALSE);
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

/*
 * Whether a 206 continues the bytes on disk: it names the version they came from. A server that
 * ignores If-Range answers 206 for its current version, so the 206's own validators are compared
 * with those kept, like with like: ETags weakly (RFC 9110 8.8.3.2: W/ aside, the same tag), dates
 * as they are. One that differs names another version; one that agrees names theirs. With none
 * to compare, only a server that names no version at all (neither then nor now) is taken at its
 * word: a 206 naming a version where none was known, or one of a kind that cannot be compared
 * with the kept one, names a version nothing ties those bytes to.
 */
static BOOL same_version(struct http_response *r, const WCHAR *kept_text)
{
    struct version kept, got;
    BOOL agree = FALSE;

    version_of_text(kept_text, &kept);
    version_of_response(r, &got);
    if (kept.etag[0] && got.etag[0])
    {
        if (wcscmp(kept.etag + (is_weak(kept.etag) ? 2 : 0), got.etag + (is_weak(got.etag) ? 2 : 0))) return FALSE;
        agree = TRUE;
    }
    if (kept.date[0] && got.date[0])
    {
        if (wcscmp(kept.date, got.date)) return FALSE;
        agree = TRUE;
    }
    return agree || (!kept.etag[0] && !kept.date[0] && !got.etag[0] && !got.date[0]);
}

/* Keeps the response's headers, and the version later requests resume against. */
static void record_response(struct http *h, struct http_response *r)
{
    struct version v;
    WCHAR *headers = r->ops->all_fields(r), text[ARRAYSIZE(v.etag) + ARRAYSIZE(v.date)];
    BOOL have;

    version_of_response(r, &v);
    if ((have = v.etag[0] || v.date[0])) swprintf(text, ARRAYSIZE(text), L"%ls\n%ls", v.etag, v.date);
    dos_file_record_response(h->t->file->file, h->t->run, (const dos_char *)headers, have ? (const dos_char *)text : NULL);
    if (have && !h->t->file->validator) h->t->file->validator = wstr_dup((const dos_char *)text);
    free(headers);
}

/* Fetches bytes first..first+length-1 (length DOS_LENGTH_TO_EOF: to the end) of the remote file. */
static BOOL fetch_span(struct http *h, uint64_t first, uint64_t length, BOOL ranged)
{
    struct transfer *t = h->t;
    uint64_t last = length == DOS_LENGTH_TO_EOF ? DOS_LENGTH_TO_EOF : first + length - 1;
    uint64_t size = DOS_SIZE_UNKNOWN, body = DOS_LENGTH_TO_EOF, r_first, r_last, r_total;
    struct http_response *r;
    WCHAR condition[256];
    BOOL ok;

    /* Whether this request carries If-Range: record_response may learn a validator below. */
    BOOL conditional = resume_condition(h, condition);

    if (!send_request(h, first, last, !ranged && first == 0, &r)) return FALSE;
    /* Bytes of another version than those on disk: never spliced on, the file starts over. */
    if (r->status == 206 && t->file->transferred && !same_version(r, (const WCHAR *)t->file->validator))
    {
        r->ops->close(r);
        return start_over(h);
    }
    record_response(h, r);
    if (r->status == 206)
    {
        if (!parse_content_range(r, &r_first, &r_last, &r_total) || r_first != first
            || (last != DOS_LENGTH_TO_EOF && r_last != last)
            || (r_total != DOS_SIZE_UNKNOWN && r_last >= r_total))
        {
            r->ops->close(r);
            return transfer_fail(t, DO_E_HTTP_BLOCKSIZE_MISMATCH, DOS_CONTEXT_REMOTE_FILE, FALSE);
        }
        size = r_total;
        body = r_last - r_first + 1;
        /* Another size than the bytes on disk were part of: the file changed, start over. */
        if (t->transferred_from_before && size != DOS_SIZE_UNKNOWN && t->file->file_size != DOS_SIZE_UNKNOWN
            && size != t->file->file_size)
        {
            r->ops->close(r);
            return start_over(h);
        }
    }
    else    /* 200: the whole file */
    {
        if (field_u64(r, HTTP_FIELD_CONTENT_LENGTH, &size)) body = size;
        if (ranged)
        {
            r->ops->close(r);
            /* With If-Range, a 200 says the file changed; without, that ranges are not supported. */
            if (conditional) return start_over(h);
            return transfer_fail(t, DO_E_INSUFFICIENT_RANGE_SUPPORT, DOS_CONTEXT_REMOTE_FILE, FALSE);
        }
        if (first)
        {
            /* The server cannot resume, or the file changed: it starts over from its first byte. */
            if (!restart_file(h))
            {
                r->ops->close(r);
                return FALSE;
            }
            record_response(h, r);
        }
    }
    /* The size is known before the first byte: the store checks the ranges against it. */
    if (size != DOS_SIZE_UNKNOWN && dos_file_record_progress(t->file->file, t->run, size, t->file->transferred) != DOS_OK)
    {
        r->ops->close(r);
        return dos_job_run_is_live(t->job, t->run) ? transfer_fail(t, DO_E_INVALID_RANGE, DOS_CONTEXT_REMOTE_FILE, FALSE)
                                                   : transfer_fail(t, E_ABORT, DOS_CONTEXT_NONE, FALSE);
    }
    ok = read_body(h, r, body, size);
    r->ops->close(r);
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

/*
 * How long a read waits for the next byte before the connection counts as stalled (a
 * transient error, resumed with Range): a minute, or just over the job's no-progress
 * timeout if that is shorter, so that a stalled server turns into ERROR when it says. The
 * environment variable DOSVC_RECEIVE_TIMEOUT_MS sets a shorter minute (for tests).
 */
static DWORD receive_timeout_ms(const struct dos_job_info *info)
{
    DWORD ms = RECEIVE_TIMEOUT_MS, no_progress = info->u32[DOS_JOB_NO_PROGRESS_TIMEOUT];
    WCHAR text[16];

    if (GetEnvironmentVariableW(L"DOSVC_RECEIVE_TIMEOUT_MS", text, ARRAYSIZE(text)) - 1 < ARRAYSIZE(text) - 1)
    {
        DWORD value = wcstoul(text, NULL, 10);
        if (value) ms = min(ms, value);
    }
    /* A second more than the timeout: the stall has then surely lasted that long. 0 (every
     * error fatal at once) is about errors, not about how long a server may pause. */
    if (no_progress && no_progress < ms / 1000) ms = (no_progress + 1) * 1000;
    return ms;
}

BOOL transport_http_fetch(struct transfer *t)
{
    struct dos_transfer_file *f = t->file;
    struct http h = { .t = t };
    struct dos_job_info info;
    BOOL ok;

    t->protocol = L"http";
    lstrcpynW(h.url, (const WCHAR *)f->remote_name, ARRAYSIZE(h.url));
    if (!(h.buffer = malloc(CHUNK))) return transfer_fail(t, E_OUTOFMEMORY, DOS_CONTEXT_NONE, TRUE);
    dos_job_get_info(t->job, &info);
    h.direct = job_is_direct(t, &info);
    if (!h.direct && !(h.session = open_session(t, &info)))
    {
        free(h.buffer);
        return transfer_fail(t, HRESULT_FROM_WIN32(GetLastError()), DOS_CONTEXT_REMOTE_FILE, FALSE);
    }
    h.security = info.u32[DOS_JOB_SECURITY_FLAGS];
    h.receive_timeout_ms = receive_timeout_ms(&info);
    dos_job_copy_text(t->job, DOS_JOB_CUSTOM_HEADERS, malloc, (dos_char **)&h.headers);
    dos_job_copy_text(t->job, DOS_JOB_CUSTOM_AUTH_HEADERS, malloc, (dos_char **)&h.auth_headers);
    h.cert = load_client_cert(t->job);
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
    /* The system's proxy configuration may be why it failed: the retry asks again. */
    if (!ok && t->system_direct) *t->system_direct = -1;
    /* BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT: the file's remote name becomes where it came from. */
    if (ok && (h.security & DOS_REDIRECT_POLICY_MASK) == DOS_REDIRECT_ALLOW_REPORT
        && lstrcmpW(h.url, (const WCHAR *)f->remote_name))
        dos_file_report_redirect(f->file, t->run, dchars_of(h.url));
    if (h.session) InternetCloseHandle(h.session);
    if (h.cert) CertFreeCertificateContext(h.cert);
    free(h.headers);
    free(h.auth_headers);
    free(h.buffer);
    return ok;
}
