/*
 * IBackgroundCopyJobHttpOptions (classic bits2_5): custom headers, security
 * flags and redirect policy, and the client certificate; each method's rules,
 * and what each setting does to a real transfer from the loopback server
 * (HTTPS with its self-signed certificate, headers seen by the server,
 * redirects refused, reported or allowed from HTTPS to HTTP).
 */
#include "com_test.h"

#include <stdio.h>
#include <wctype.h>
#include <wincrypt.h>
#include <wininet.h>

/* The server's certificate is self-signed for 127.0.0.1, an IP subjectAltName. dosvc's own
 * client matches it; WinINet under Wine, which carries proxied requests, does not, so tests
 * that may go either way ignore both errors. */
#define IGNORE_SELF_SIGNED (BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_CN_INVALID)

static IBackgroundCopyManager *manager;

static int setup_group(void **state) { return dosvc_setup_manager(&manager); }
static int teardown_group(void **state) { return dosvc_teardown_manager(&manager); }

struct fixture
{
    IBackgroundCopyJob *job;
    IBackgroundCopyJobHttpOptions *http;
    BOOL proxy_changed;            /* the process's proxy configuration, put back by teardown */
    BOOL proxy_option_set;         /* through INTERNET_OPTION_PROXY (Wine 9 and later) */
    WCHAR saved_env[256];          /* http_proxy before */
};

static void restore_process_proxy(struct fixture *fx);

static int setup_job(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->job = dosvc_create_job(manager, L"http options test", NULL);
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(fx->job, &IID_IBackgroundCopyJobHttpOptions, (void **)&fx->http));
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(fx->job, 1));
    *state = fx;
    return 0;
}

static int teardown_job(void **state)
{
    struct fixture *fx = *state;
    IBackgroundCopyJob_Cancel(fx->job);
    restore_process_proxy(fx);
    IBackgroundCopyJobHttpOptions_Release(fx->http);
    IBackgroundCopyJob_Release(fx->job);
    free(fx);
    return 0;
}

/* Runs the job to TRANSFERRED or ERROR (bounded) and returns the state. */
static BG_JOB_STATE run(struct fixture *fx)
{
    assert_hr(S_OK, IBackgroundCopyJob_Resume(fx->job));
    return dosvc_wait_for_state(fx->job, DOSVC_STATE(BG_JOB_STATE_TRANSFERRED) | DOSVC_STATE(BG_JOB_STATE_ERROR), 30000);
}

static HRESULT job_error_code(struct fixture *fx)
{
    IBackgroundCopyError *error;
    BG_ERROR_CONTEXT context;
    HRESULT code = S_OK;

    if (SUCCEEDED(IBackgroundCopyJob_GetError(fx->job, &error)))
    {
        IBackgroundCopyError_GetError(error, &context, &code);
        IBackgroundCopyError_Release(error);
    }
    return code;
}

/* The test server's log of requests whose target contains marker, as text. */
static char *server_log(const WCHAR *marker)
{
    static char text[65536];
    char *log = dosvc_server_log(marker);

    lstrcpynA(text, log, sizeof(text));
    free(log);
    return text;
}

/* ---- custom headers -------------------------------------------------------------- */

static void test_custom_headers_are_unset_at_first(void **state)
{
    struct fixture *fx = *state;
    WCHAR *headers = (WCHAR *)1;

    assert_hr(S_FALSE, IBackgroundCopyJobHttpOptions_GetCustomHeaders(fx->http, &headers));
    assert_null(headers);
}

static void test_custom_headers_round_trip(void **state)
{
    struct fixture *fx = *state;
    WCHAR *headers = NULL;

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, L"X-One: 1\r\nX-Two: two\r\n"));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetCustomHeaders(fx->http, &headers));
    assert_owned_wstr_equal(L"X-One: 1\r\nX-Two: two\r\n", headers);
}

static void test_custom_headers_null_removes_them(void **state)
{
    struct fixture *fx = *state;
    WCHAR *headers = NULL;

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, L"X-One: 1\r\n"));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, NULL));
    assert_hr(S_FALSE, IBackgroundCopyJobHttpOptions_GetCustomHeaders(fx->http, &headers));
}

static void test_get_custom_headers_with_null_fails_with_null_ref_pointer(void **state)
{
    struct fixture *fx = *state;
    assert_hr(HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER), IBackgroundCopyJobHttpOptions_GetCustomHeaders(fx->http, NULL));
}

/* classic: at most 16,384 characters with the terminating NUL */
static void test_custom_headers_over_16383_characters_are_refused(void **state)
{
    struct fixture *fx = *state;
    WCHAR *text = malloc(16400 * sizeof(WCHAR));
    int i;

    lstrcpyW(text, L"X-Long: ");
    for (i = 8; i < 16383; i++) text[i] = 'a';
    text[16383] = 0;
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, text));
    text[16383] = 'a';
    text[16384] = 0;
    assert_hr(E_INVALIDARG, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, text));
    free(text);
}

static void test_custom_header_line_without_a_colon_is_refused(void **state)
{
    struct fixture *fx = *state;
    WCHAR *headers = NULL;

    assert_hr(E_INVALIDARG, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, L"X-One: 1\r\nno colon\r\n"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, L"X-One: 1\nX-Two: 2"));
    assert_hr(S_FALSE, IBackgroundCopyJobHttpOptions_GetCustomHeaders(fx->http, &headers));
}

static void test_take_ownership_drops_custom_headers(void **state)
{
    struct fixture *fx = *state;
    WCHAR *headers = NULL;

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, L"X-One: 1\r\n"));
    assert_hr(S_OK, IBackgroundCopyJob_TakeOwnership(fx->job));
    assert_hr(S_FALSE, IBackgroundCopyJobHttpOptions_GetCustomHeaders(fx->http, &headers));
}

static void test_custom_headers_in_a_final_state_fail_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(fx->job));
    assert_hr(DO_E_INVALID_STATE, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, L"X-One: 1\r\n"));
    assert_hr(DO_E_INVALID_STATE, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, BG_SSL_IGNORE_UNKNOWN_CA));
    assert_hr(DO_E_INVALID_STATE, IBackgroundCopyJobHttpOptions_RemoveClientCertificate(fx->http));
}

static void test_custom_headers_are_sent_with_the_request(void **state)
{
    struct fixture *fx = *state;
    const WCHAR *local = dosvc_test_path(L"headers.bin");

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, L"X-Dosvc-Test: headers-marker\r\n"));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, dosvc_server_url(FALSE, L"/gen/1k?seed=81&m=hdr81"), local));
    assert_int_equal(run(fx), BG_JOB_STATE_TRANSFERRED);
    assert_non_null(strstr(server_log(L"hdr81"), "headers-marker"));
}

static const WCHAR *new_marker(void);

/* A last line without CRLF is still a line of its own: the Range of a resumed request that
 * follows it is sent, and the file is resumed rather than started over. */
static void test_custom_header_without_a_final_crlf_keeps_the_range_of_a_resumed_request(void **state)
{
    struct fixture *fx = *state;
    const WCHAR *local = dosvc_test_path(L"headers-crlf.bin"), *marker = new_marker();
    const char *log;

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, L"X-Dosvc-Test: no-crlf"));
    /* The marker is also the fault's key: the server remembers a key's cut for its whole life. */
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, dosvc_url(
        L"/gen/256k?seed=82&m=%s&fault=truncate&after=100000&times=1&key=%s", marker, marker), local));
    assert_int_equal(run(fx), BG_JOB_STATE_TRANSFERRED);
    log = server_log(marker);
    assert_non_null(strstr(log, "\"range\": \"bytes=100000-\""));
    assert_non_null(strstr(log, "\"X-Dosvc-Test\": \"no-crlf\""));
}

/* Each text of bad is refused, and the headers set before stay. */
static void assert_custom_headers_refused(struct fixture *fx, const WCHAR *const *bad, size_t count)
{
    WCHAR *headers = NULL;
    size_t i;

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, L"X-One: 1\r\n"));
    for (i = 0; i < count; i++)
        assert_hr(E_INVALIDARG, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, bad[i]));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetCustomHeaders(fx->http, &headers));
    assert_owned_wstr_equal(L"X-One: 1\r\n", headers);
}

/* One header rule for both APIs (docs/engine.md): a line is a field whose name is a token
 * (RFC 9110 5.6.2). Any other text is refused and changes nothing. */
static void test_custom_header_whose_name_is_no_token_is_refused(void **state)
{
    static const WCHAR *const bad[] = {
        L"Bad Name: v\r\n", L"a b c: d\r\n", L"X-One: 1\r\n X-Folded: v\r\n", L"X-One : 1\r\n", L": v\r\n", L"X(1): v\r\n",
    };

    assert_custom_headers_refused(*state, bad, ARRAYSIZE(bad));
}

/* The fields dosvc frames the request, resumes and keeps its connection with are its own. */
static void test_custom_header_naming_a_field_the_transport_owns_is_refused(void **state)
{
    static const WCHAR *const bad[] = {
        L"Host: evil.example\r\n", L"X-One: 1\r\nContent-Length: 5\r\n", L"transfer-encoding: chunked\r\n",
        L"Connection: close\r\n", L"Keep-Alive: 5\r\n", L"Proxy-Connection: close\r\n", L"TE: trailers\r\n",
        L"Trailer: X\r\n", L"Upgrade: h2c\r\n", L"Expect: 100-continue\r\n", L"RANGE: bytes=0-0\r\n",
        L"If-Range: \"v1\"",
    };

    assert_custom_headers_refused(*state, bad, ARRAYSIZE(bad));
}

/* What the server reads is dosvc's own fields and then the text that was taken, field for field;
 * the refused text reaches nothing (no second Host, no body framing, no Range on a fresh file). */
static void test_refused_custom_headers_change_nothing_on_the_wire(void **state)
{
    struct fixture *fx = *state;
    const WCHAR *local = dosvc_test_path(L"headers-refused.bin");

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, L"X-Keep: kept\r\nX-Two:  two\r\n"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http,
              L"Host: evil.example\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJobHttpOptions_SetCustomHeaders(fx->http, L"Range: bytes=0-0\r\n"));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, dosvc_server_url(FALSE, L"/gen/1k?seed=83&m=hdr83"), local));
    assert_int_equal(run(fx), BG_JOB_STATE_TRANSFERRED);
    dosvc_assert_request_fields(server_log(L"hdr83"), 0, "[\"X-Keep\",\"kept\"],[\"X-Two\",\"two\"]");
}

/* ---- security flags and HTTPS ------------------------------------------------------ */

static void test_security_flags_are_zero_at_first(void **state)
{
    struct fixture *fx = *state;
    ULONG flags = 7;
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetSecurityFlags(fx->http, &flags));
    assert_int_equal(flags, 0);
}

static void test_security_flags_round_trip(void **state)
{
    struct fixture *fx = *state;
    const ULONG set = BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_CN_INVALID | BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT
                      | BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP;
    ULONG flags = 0;

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, set));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetSecurityFlags(fx->http, &flags));
    assert_int_equal(flags, set);
}

static void test_unknown_security_flags_are_refused(void **state)
{
    struct fixture *fx = *state;
    ULONG flags = 0;

    assert_hr(E_INVALIDARG, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, 0x0020));
    assert_hr(E_INVALIDARG, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, 0x0300));   /* no such policy */
    assert_hr(E_INVALIDARG, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, 0x1000));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetSecurityFlags(fx->http, &flags));
    assert_int_equal(flags, 0);
}

static void test_get_security_flags_with_null_fails_with_null_ref_pointer(void **state)
{
    struct fixture *fx = *state;
    assert_hr(HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER), IBackgroundCopyJobHttpOptions_GetSecurityFlags(fx->http, NULL));
}

/* "https://127.0.0.1:<port><path>" for one of the server's HTTPS listeners (one of four buffers). */
static const WCHAR *https_url(int port, const WCHAR *path)
{
    static WCHAR urls[4][512];
    static int next;
    WCHAR *url = urls[next++ % 4];

    assert_int_not_equal(port, 0);
    swprintf(url, 512, L"https://127.0.0.1:%d%ls", port, path);
    return url;
}

/* IBackgroundCopyFile3::GetTemporaryName of the job's first file. */
static void first_temp_name(struct fixture *fx, WCHAR temp[MAX_PATH])
{
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file;
    IBackgroundCopyFile3 *file3;
    WCHAR *name = NULL;

    assert_hr(S_OK, IBackgroundCopyJob_EnumFiles(fx->job, &files));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    file3 = dosvc_query(file, &IID_IBackgroundCopyFile3);
    assert_hr(S_OK, IBackgroundCopyFile3_GetTemporaryName(file3, &name));
    assert_non_null(name);
    lstrcpynW(temp, name, MAX_PATH);
    CoTaskMemFree(name);
    IBackgroundCopyFile3_Release(file3);
    IBackgroundCopyFile_Release(file);
    IEnumBackgroundCopyFiles_Release(files);
}

/* The job (one file, to local) ends in ERROR with code; after Cancel neither the file nor
 * its temporary file is on disk. */
static void assert_fails_and_saves_nothing(struct fixture *fx, const WCHAR *local, HRESULT code)
{
    WCHAR temp[MAX_PATH];

    assert_int_equal(run(fx), BG_JOB_STATE_ERROR);
    assert_hr(code, job_error_code(fx));
    first_temp_name(fx, temp);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(fx->job));
    assert_int_equal(GetFileAttributesW(local), INVALID_FILE_ATTRIBUTES);
    assert_int_equal(GetFileAttributesW(temp), INVALID_FILE_ATTRIBUTES);
}

/* The job (one file, to local) transfers, and after Complete local holds what the server's path serves. */
static void assert_downloads(struct fixture *fx, const WCHAR *local, const WCHAR *path)
{
    char expected[65], actual[65];

    assert_int_equal(run(fx), BG_JOB_STATE_TRANSFERRED);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(fx->job));
    assert_true(dosvc_server_hash(path, expected));
    assert_true(sha256_file_hex(local, actual));
    assert_string_equal(actual, expected);
    DeleteFileW(local);
}

/* The server's certificate is self-signed: an unknown CA, which fails the job unless ignored. */
static void test_https_with_an_untrusted_certificate_fails_and_saves_nothing(void **state)
{
    struct fixture *fx = *state;
    const WCHAR *local = dosvc_test_path(L"untrusted.bin");

    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, dosvc_server_url(TRUE, L"/gen/64k?seed=82"), local));
    assert_fails_and_saves_nothing(fx, local, HRESULT_FROM_WIN32(ERROR_INTERNET_INVALID_CA));
}

/*
 * One fault per certificate (tests/server/README.md): besides being self-signed (its unknown
 * CA ignored here), the other-name listener's certificate names dosvc-other-name.test and not
 * 127.0.0.1, and the expired listener's certificate expired in 2020. Each fault fails the job
 * with WinINet's code for it unless its own flag ignores it; the other flag does not.
 */
#define OTHER_NAME_PATH L"/gen/40k?seed=90"
#define EXPIRED_PATH L"/gen/40k?seed=91"

static void test_https_with_a_certificate_for_another_name_fails_with_cn_invalid(void **state)
{
    struct fixture *fx = *state;
    const WCHAR *local = dosvc_test_path(L"other-name.bin");

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, BG_SSL_IGNORE_UNKNOWN_CA));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, https_url(dosvc_server_other_name_port(), OTHER_NAME_PATH), local));
    assert_fails_and_saves_nothing(fx, local, HRESULT_FROM_WIN32(ERROR_INTERNET_SEC_CERT_CN_INVALID));
}

static void test_https_with_a_certificate_for_another_name_downloads_when_cn_invalid_is_ignored(void **state)
{
    struct fixture *fx = *state;
    const WCHAR *local = dosvc_test_path(L"other-name-ignored.bin");

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_CN_INVALID));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, https_url(dosvc_server_other_name_port(), OTHER_NAME_PATH), local));
    assert_downloads(fx, local, OTHER_NAME_PATH);
}

static void test_ignoring_invalid_dates_does_not_excuse_a_certificate_for_another_name(void **state)
{
    struct fixture *fx = *state;
    const WCHAR *local = dosvc_test_path(L"other-name-dates-ignored.bin");

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_DATE_INVALID));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, https_url(dosvc_server_other_name_port(), OTHER_NAME_PATH), local));
    assert_fails_and_saves_nothing(fx, local, HRESULT_FROM_WIN32(ERROR_INTERNET_SEC_CERT_CN_INVALID));
}

static void test_https_with_an_expired_certificate_fails_with_date_invalid(void **state)
{
    struct fixture *fx = *state;
    const WCHAR *local = dosvc_test_path(L"expired.bin");

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, BG_SSL_IGNORE_UNKNOWN_CA));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, https_url(dosvc_server_expired_port(), EXPIRED_PATH), local));
    assert_fails_and_saves_nothing(fx, local, HRESULT_FROM_WIN32(ERROR_INTERNET_SEC_CERT_DATE_INVALID));
}

static void test_https_with_an_expired_certificate_downloads_when_date_invalid_is_ignored(void **state)
{
    struct fixture *fx = *state;
    const WCHAR *local = dosvc_test_path(L"expired-ignored.bin");

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_DATE_INVALID));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, https_url(dosvc_server_expired_port(), EXPIRED_PATH), local));
    assert_downloads(fx, local, EXPIRED_PATH);
}

static void test_ignoring_an_invalid_name_does_not_excuse_an_expired_certificate(void **state)
{
    struct fixture *fx = *state;
    const WCHAR *local = dosvc_test_path(L"expired-name-ignored.bin");

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_CN_INVALID));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, https_url(dosvc_server_expired_port(), EXPIRED_PATH), local));
    assert_fails_and_saves_nothing(fx, local, HRESULT_FROM_WIN32(ERROR_INTERNET_SEC_CERT_DATE_INVALID));
}

static void test_https_with_certificate_errors_ignored_downloads_the_file(void **state)
{
    struct fixture *fx = *state;
    const WCHAR *local = dosvc_test_path(L"trusted.bin");
    char expected[65], actual[65];

    DeleteFileW(local);
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, IGNORE_SELF_SIGNED));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, dosvc_server_url(TRUE, L"/gen/300k?seed=83"), local));
    assert_int_equal(run(fx), BG_JOB_STATE_TRANSFERRED);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(fx->job));
    assert_true(dosvc_server_hash(L"/gen/300k?seed=83", expected));
    assert_true(sha256_file_hex(local, actual));
    assert_string_equal(actual, expected);
    DeleteFileW(local);
}

/* ---- redirect policy --------------------------------------------------------------- */

static void test_redirect_policy_disallow_fails_a_redirected_file(void **state)
{
    struct fixture *fx = *state;
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, BG_HTTP_REDIRECT_POLICY_DISALLOW));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, dosvc_server_url(FALSE, L"/gen/1k?seed=84&fault=redirect&code=302"),
                                               dosvc_test_path(L"disallowed.bin")));
    assert_int_equal(run(fx), BG_JOB_STATE_ERROR);
    assert_hr(0x8019012E, job_error_code(fx));   /* BG_E_HTTP_ERROR_302 */
}

static WCHAR *first_remote_name(struct fixture *fx)
{
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file;
    WCHAR *name = NULL;

    assert_hr(S_OK, IBackgroundCopyJob_EnumFiles(fx->job, &files));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(file, &name));
    IBackgroundCopyFile_Release(file);
    IEnumBackgroundCopyFiles_Release(files);
    return name;
}

/* A query-string value: every character but letters and digits as %XX. */
static const WCHAR *escaped(const WCHAR *text)
{
    static WCHAR out[2300];
    WCHAR *p = out;

    for (; *text && p < out + ARRAYSIZE(out) - 4; text++)
    {
        if (iswalnum(*text)) *p++ = *text;
        else p += swprintf(p, 4, L"%%%02X", *text);
    }
    *p = 0;
    return out;
}

/* "<path>&fault=redirect&code=302&to=<target>": one redirect to target. */
static const WCHAR *redirecting(BOOL https, const WCHAR *path, const WCHAR *target)
{
    static WCHAR url[2300];
    swprintf(url, ARRAYSIZE(url), L"%ls&fault=redirect&code=302&to=%ls", path, escaped(target));
    return dosvc_server_url(https, url);
}

static void test_redirect_policy_allow_report_shows_the_final_url(void **state)
{
    struct fixture *fx = *state;
    WCHAR target[2300], *name;

    lstrcpyW(target, dosvc_server_url(FALSE, L"/gen/2k?seed=85"));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, redirecting(FALSE, L"/gen/2k?seed=850", target),
                                               dosvc_test_path(L"reported.bin")));
    assert_int_equal(run(fx), BG_JOB_STATE_TRANSFERRED);
    name = first_remote_name(fx);
    assert_wstr_equal(target, name);
    CoTaskMemFree(name);
}

static void test_redirect_policy_allow_silent_keeps_the_remote_name(void **state)
{
    struct fixture *fx = *state;
    WCHAR original[2300], *name;

    lstrcpyW(original, redirecting(FALSE, L"/gen/2k?seed=860", dosvc_server_url(FALSE, L"/gen/2k?seed=86")));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, original, dosvc_test_path(L"silent.bin")));
    assert_int_equal(run(fx), BG_JOB_STATE_TRANSFERRED);
    name = first_remote_name(fx);
    assert_wstr_equal(original, name);
    CoTaskMemFree(name);
}

/* HTTPS to HTTP is refused unless BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP. */
static void test_https_to_http_redirect_is_refused_by_default(void **state)
{
    struct fixture *fx = *state;
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, IGNORE_SELF_SIGNED));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job,
                                               dosvc_server_url(TRUE, L"/gen/1k?seed=87&fault=redirect&code=302&scheme=http"),
                                               dosvc_test_path(L"downgrade.bin")));
    assert_int_equal(run(fx), BG_JOB_STATE_ERROR);
    assert_hr(HRESULT_FROM_WIN32(ERROR_INTERNET_HTTPS_TO_HTTP_ON_REDIR), job_error_code(fx));
}

static void test_https_to_http_redirect_is_followed_when_allowed(void **state)
{
    struct fixture *fx = *state;
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, IGNORE_SELF_SIGNED
                                                                             | BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job,
                                               dosvc_server_url(TRUE, L"/gen/1k?seed=88&fault=redirect&code=302&scheme=http"),
                                               dosvc_test_path(L"downgrade-ok.bin")));
    assert_int_equal(run(fx), BG_JOB_STATE_TRANSFERRED);
}

/* ---- proxies ----------------------------------------------------------------------- */

/* The test server's HTTP listener is also a forward proxy (tests/server/README.md). */
static const WCHAR *test_proxy(void)
{
    static WCHAR proxy[32];
    swprintf(proxy, ARRAYSIZE(proxy), L"127.0.0.1:%d", dosvc_server_port(FALSE));
    return proxy;
}

/* A marker of this test's own for its URLs, to find its requests in the server's log. */
static const WCHAR *new_marker(void)
{
    static WCHAR marker[64];
    static LONG count;
    swprintf(marker, ARRAYSIZE(marker), L"px%lu-%llu-%ld", GetCurrentProcessId(), GetTickCount64(),
             InterlockedIncrement(&count));
    return marker;
}

/*
 * Makes proxy (NULL: none) the proxy configuration of this process, which PRECONFIG and
 * AUTODETECT jobs follow, without touching the per-user settings in the registry: those
 * would reach every other test program running in the same prefix at the same time. Wine 8's
 * WinINet reads the http_proxy environment variable of its C runtime at each InternetOpen when
 * the registry enables no proxy; Wine 9 and later read it once and follow the process-wide
 * INTERNET_OPTION_PROXY instead. That option is set only where the variable is not followed:
 * Wine 8 keeps it in a record that it allocates without clearing and, at each later change,
 * frees the record's user name and password, which it never set: whatever the heap's block held
 * before. That freed memory that others in the process still used, or addresses that were no
 * memory at all, and crashed these tests in WinINet's cookie lists and in ntdll's heap (issue 9).
 * The variable is changed only while no job of this process runs: _wputenv moves the C
 * runtime's environment with no lock, under any InternetOpen of a worker that reads it. The
 * fixture's teardown puts everything back.
 */
typedef int (__cdecl *wputenv_fn)(const WCHAR *);

static HMODULE wininet_crt(void)
{
    return GetModuleHandleW(L"ucrtbase.dll");
}

/* Whether a PRECONFIG session of this process goes through proxy (NULL: directly). */
static BOOL preconfig_goes_through(const WCHAR *proxy)
{
    BYTE buffer[sizeof(INTERNET_PROXY_INFO) + 1024];
    const INTERNET_PROXY_INFO *info = (const INTERNET_PROXY_INFO *)buffer;
    HINTERNET session = InternetOpenW(L"dosvc-test", INTERNET_OPEN_TYPE_PRECONFIG, NULL, NULL, 0);
    DWORD size = sizeof(buffer);
    BOOL through;

    through = session && InternetQueryOptionW(session, INTERNET_OPTION_PROXY, buffer, &size)
              && (proxy ? info->dwAccessType == INTERNET_OPEN_TYPE_PROXY && info->lpszProxy
                              && !lstrcmpW((const WCHAR *)(const void *)info->lpszProxy, proxy)
                        : info->dwAccessType == INTERNET_OPEN_TYPE_DIRECT);
    if (session) InternetCloseHandle(session);
    return through;
}

static void set_process_proxy(struct fixture *fx, const WCHAR *proxy)
{
    wputenv_fn wputenv = (wputenv_fn)(void *)GetProcAddress(wininet_crt(), "_wputenv");
    WCHAR setting[300];

    assert_non_null(wputenv);
    if (!fx->proxy_changed)
    {
        /* _wputenv changes the process's environment too: the two agree. */
        if (!GetEnvironmentVariableW(L"http_proxy", fx->saved_env, ARRAYSIZE(fx->saved_env))) fx->saved_env[0] = 0;
        fx->proxy_changed = TRUE;
    }
    swprintf(setting, ARRAYSIZE(setting), L"http_proxy=%ls%ls", proxy ? L"http://" : L"", proxy ? proxy : L"");
    assert_int_equal(wputenv(setting), 0);
    if (!preconfig_goes_through(proxy))
    {
        INTERNET_PROXY_INFO info = { proxy ? INTERNET_OPEN_TYPE_PROXY : INTERNET_OPEN_TYPE_DIRECT,
                                     (LPCTSTR)(void *)proxy, NULL };
        assert_true(InternetSetOptionW(NULL, INTERNET_OPTION_PROXY, &info, sizeof(info)));
        fx->proxy_option_set = TRUE;
    }
    assert_true(preconfig_goes_through(proxy));
}

static void restore_process_proxy(struct fixture *fx)
{
    wputenv_fn wputenv = (wputenv_fn)(void *)GetProcAddress(wininet_crt(), "_wputenv");
    WCHAR setting[300];

    if (!fx->proxy_changed) return;
    swprintf(setting, ARRAYSIZE(setting), L"http_proxy=%ls", fx->saved_env);
    if (wputenv) wputenv(setting);
    if (fx->proxy_option_set)
    {
        /* Wine 9's process-wide proxy starts out as the registry's, which names none here. */
        INTERNET_PROXY_INFO info = { INTERNET_OPEN_TYPE_DIRECT, NULL, NULL };
        InternetSetOptionW(NULL, INTERNET_OPTION_PROXY, &info, sizeof(info));
        fx->proxy_option_set = FALSE;
    }
    fx->proxy_changed = FALSE;
}

/* path?...&m=<marker> on the HTTP listener, downloaded to local, and the log of its requests. */
static const char *download_marked(struct fixture *fx, const WCHAR *path, const WCHAR *name)
{
    const WCHAR *marker = new_marker(), *local = dosvc_test_path(name);
    WCHAR marked[256];

    swprintf(marked, ARRAYSIZE(marked), L"%ls&m=%ls", path, marker);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, dosvc_server_url(FALSE, marked), local));
    assert_downloads(fx, local, marked);
    return server_log(marker);
}

#define PROXIED "\"via_proxy\": true"
#define NOT_PROXIED "\"via_proxy\": false"

static void test_https_through_an_override_proxy_goes_through_a_connect_tunnel(void **state)
{
    struct fixture *fx = *state;
    const WCHAR *marker = new_marker(), *local = dosvc_test_path(L"tunnelled.bin");
    WCHAR path[128];
    const char *log;

    swprintf(path, ARRAYSIZE(path), L"/gen/100k?seed=92&m=%ls", marker);
    assert_hr(S_OK, IBackgroundCopyJob_SetProxySettings(fx->job, BG_JOB_PROXY_USAGE_OVERRIDE, test_proxy(), NULL));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(fx->http, IGNORE_SELF_SIGNED));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, dosvc_server_url(TRUE, path), local));
    assert_downloads(fx, local, path);
    log = server_log(marker);
    assert_non_null(strstr(log, "\"scheme\": \"https\""));
    assert_non_null(strstr(log, "\"tunnel\": "));
    assert_null(strstr(log, "\"tunnel\": null"));   /* every request of the job came through a CONNECT */
}

/* The proxy list names a port nobody listens on; the server's host is in the bypass list. */
static void test_override_proxy_bypass_list_reaches_its_hosts_directly(void **state)
{
    struct fixture *fx = *state;
    WCHAR dead[32];
    const char *log;

    swprintf(dead, ARRAYSIZE(dead), L"127.0.0.1:%d", dosvc_server_refused_port());
    assert_hr(S_OK, IBackgroundCopyJob_SetProxySettings(fx->job, BG_JOB_PROXY_USAGE_OVERRIDE, dead, L"127.0.0.1"));
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(fx->job, 0));   /* a refused proxy: ERROR at once */
    log = download_marked(fx, L"/gen/20k?seed=93", L"bypassed.bin");
    assert_non_null(strstr(log, NOT_PROXIED));
    assert_null(strstr(log, PROXIED));
}

static void test_preconfig_follows_the_system_proxy(void **state)
{
    struct fixture *fx = *state;

    set_process_proxy(fx, test_proxy());
    assert_hr(S_OK, IBackgroundCopyJob_SetProxySettings(fx->job, BG_JOB_PROXY_USAGE_PRECONFIG, NULL, NULL));
    assert_non_null(strstr(download_marked(fx, L"/gen/20k?seed=94", L"preconfig.bin"), PROXIED));
}

/* Real WPAD cannot be tested on loopback: AUTODETECT is PRECONFIG (docs/transport.md). */
static void test_autodetect_follows_the_system_proxy_like_preconfig(void **state)
{
    struct fixture *fx = *state;

    set_process_proxy(fx, test_proxy());
    assert_hr(S_OK, IBackgroundCopyJob_SetProxySettings(fx->job, BG_JOB_PROXY_USAGE_AUTODETECT, NULL, NULL));
    assert_non_null(strstr(download_marked(fx, L"/gen/20k?seed=95", L"autodetect.bin"), PROXIED));
}

static void test_no_proxy_goes_directly_even_when_the_system_names_a_proxy(void **state)
{
    struct fixture *fx = *state;
    const char *log;

    set_process_proxy(fx, test_proxy());
    assert_hr(S_OK, IBackgroundCopyJob_SetProxySettings(fx->job, BG_JOB_PROXY_USAGE_NO_PROXY, NULL, NULL));
    log = download_marked(fx, L"/gen/20k?seed=96", L"no-proxy.bin");
    assert_non_null(strstr(log, NOT_PROXIED));
    assert_null(strstr(log, PROXIED));
}

/* The system's configuration is asked when a run starts: one that changed since the last
 * run (a few milliseconds ago) is followed. */
static void test_preconfig_sees_a_system_proxy_set_just_after_a_direct_run(void **state)
{
    struct fixture *fx = *state;

    set_process_proxy(fx, NULL);
    assert_non_null(strstr(download_marked(fx, L"/gen/20k?seed=97", L"direct-first.bin"), NOT_PROXIED));
    IBackgroundCopyJob_Release(fx->job);     /* complete: the next run is another job's */
    fx->job = dosvc_create_job(manager, L"http options test, second job", NULL);
    set_process_proxy(fx, test_proxy());
    assert_non_null(strstr(download_marked(fx, L"/gen/20k?seed=98", L"proxied-next.bin"), PROXIED));
}

/*
 * The process's proxy configuration changed many times, and PRECONFIG following each change.
 * The first change of the program comes here (set_process_proxy says why the option it may set
 * was a danger): the record Wine 8 allocates for INTERNET_OPTION_PROXY takes the block of that
 * size freed last, so the test frees one first whose user name is a buffer of its own, which no
 * change may free. DOSVC_TEST_PROXY_ROUNDS sets the number of changes, for a soak.
 */
typedef void *(__cdecl *crt_malloc_fn)(size_t);
typedef void (__cdecl *crt_free_fn)(void *);
typedef intptr_t (__cdecl *crt_heap_fn)(void);

static void test_many_system_proxy_changes_are_each_followed_and_free_nothing_of_the_process(void **state)
{
    struct fixture *fx = *state;
    crt_malloc_fn crt_malloc = (crt_malloc_fn)(void *)GetProcAddress(wininet_crt(), "malloc");
    crt_free_fn crt_free = (crt_free_fn)(void *)GetProcAddress(wininet_crt(), "free");
    crt_heap_fn crt_heap = (crt_heap_fn)(void *)GetProcAddress(wininet_crt(), "_get_heap_handle");
    char text[16];
    int round, rounds = GetEnvironmentVariableA("DOSVC_TEST_PROXY_ROUNDS", text, sizeof(text)) ? atoi(text) : 0;
    void *own, **freed;
    HANDLE heap;

    assert_non_null(crt_malloc);
    assert_non_null(crt_free);
    assert_non_null(crt_heap);
    heap = (HANDLE)crt_heap();
    if (rounds <= 0) rounds = 16;
    own = crt_malloc(100);
    freed = crt_malloc(5 * sizeof(void *));      /* the size of Wine 8's proxy record */
    memset(freed, 0, 5 * sizeof(void *));
    freed[3] = own;                               /* where that record's user name goes */
    crt_free(freed);
    for (round = 0; round < rounds; round++)
    {
        BOOL proxied = round % 2 == 0;
        WCHAR name[32];

        set_process_proxy(fx, proxied ? test_proxy() : NULL);
        assert_true(HeapValidate(heap, 0, own));
        IBackgroundCopyJob_Release(fx->job);
        fx->job = dosvc_create_job(manager, L"http options test, proxy round", NULL);
        assert_hr(S_OK, IBackgroundCopyJob_SetProxySettings(fx->job, BG_JOB_PROXY_USAGE_PRECONFIG, NULL, NULL));
        swprintf(name, ARRAYSIZE(name), L"proxy-round-%d.bin", round);
        assert_non_null(strstr(download_marked(fx, L"/gen/4k?seed=101", name), proxied ? PROXIED : NOT_PROXIED));
    }
    restore_process_proxy(fx);
    assert_true(HeapValidate(heap, 0, own));
    crt_free(own);
}

/* ---- credentials removed ------------------------------------------------------------- */

static void set_basic_credentials(struct fixture *fx, BG_AUTH_TARGET target, const WCHAR *user, const WCHAR *password)
{
    IBackgroundCopyJob2 *job2 = dosvc_query(fx->job, &IID_IBackgroundCopyJob2);
    BG_AUTH_CREDENTIALS credentials;

    credentials.Target = target;
    credentials.Scheme = BG_AUTH_SCHEME_BASIC;
    credentials.Credentials.Basic.UserName = (WCHAR *)user;
    credentials.Credentials.Basic.Password = (WCHAR *)password;
    assert_hr(S_OK, IBackgroundCopyJob2_SetCredentials(job2, &credentials));
    IBackgroundCopyJob2_Release(job2);
}

static void remove_basic_credentials(struct fixture *fx, BG_AUTH_TARGET target)
{
    IBackgroundCopyJob2 *job2 = dosvc_query(fx->job, &IID_IBackgroundCopyJob2);
    assert_hr(S_OK, IBackgroundCopyJob2_RemoveCredentials(job2, target, BG_AUTH_SCHEME_BASIC));
    IBackgroundCopyJob2_Release(job2);
}

/* The server asks for alice:s3cret; the credentials that answered it are gone. */
static void test_removed_server_credentials_leave_a_challenge_unanswered_with_error_401(void **state)
{
    struct fixture *fx = *state;
    const WCHAR *local = dosvc_test_path(L"removed-credentials.bin");

    set_basic_credentials(fx, BG_AUTH_TARGET_SERVER, L"alice", L"s3cret");
    remove_basic_credentials(fx, BG_AUTH_TARGET_SERVER);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, dosvc_server_url(FALSE,
        L"/gen/8k?seed=99&fault=auth&user=alice&password=s3cret"), local));
    assert_fails_and_saves_nothing(fx, local, 0x80190191);   /* BG_E_HTTP_ERROR_401 */
}

static void test_removed_proxy_credentials_leave_a_proxy_challenge_unanswered_with_error_407(void **state)
{
    struct fixture *fx = *state;
    const WCHAR *local = dosvc_test_path(L"removed-proxy-credentials.bin");

    assert_hr(S_OK, IBackgroundCopyJob_SetProxySettings(fx->job, BG_JOB_PROXY_USAGE_OVERRIDE, test_proxy(), NULL));
    set_basic_credentials(fx, BG_AUTH_TARGET_PROXY, L"proxyuser", L"pr0xy");
    remove_basic_credentials(fx, BG_AUTH_TARGET_PROXY);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(fx->job, dosvc_server_url(FALSE,
        L"/gen/8k?seed=100&fault=proxyauth&user=proxyuser&password=pr0xy"), local));
    assert_fails_and_saves_nothing(fx, local, 0x80190197);   /* BG_E_HTTP_ERROR_407 */
}

/* ---- client certificate ------------------------------------------------------------ */

static void test_client_certificate_is_unset_at_first(void **state)
{
    struct fixture *fx = *state;
    BG_CERT_STORE_LOCATION location;
    WCHAR *store, *subject;
    BYTE *hash;

    assert_hr(HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA), IBackgroundCopyJobHttpOptions_GetClientCertificate(fx->http, &location, &store, &hash, &subject));
    assert_hr(HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER), IBackgroundCopyJobHttpOptions_GetClientCertificate(fx->http, NULL, &store, &hash, &subject));
}

static void test_client_certificate_that_is_not_in_the_store_is_refused(void **state)
{
    struct fixture *fx = *state;
    BYTE hash[20] = { 1, 2, 3 };

    assert_true(FAILED(IBackgroundCopyJobHttpOptions_SetClientCertificateByID(fx->http, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", hash)));
    assert_true(FAILED(IBackgroundCopyJobHttpOptions_SetClientCertificateByName(fx->http, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY",
                                                                                 L"no such subject dosvc")));
    assert_hr(E_INVALIDARG, IBackgroundCopyJobHttpOptions_SetClientCertificateByID(fx->http, 8, L"MY", hash));
    assert_hr(E_INVALIDARG, IBackgroundCopyJobHttpOptions_SetClientCertificateByID(fx->http, BG_CERT_STORE_LOCATION_CURRENT_USER, NULL, hash));
    assert_hr(E_INVALIDARG, IBackgroundCopyJobHttpOptions_SetClientCertificateByID(fx->http, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", NULL));
}

/* A certificate made for the test in the current user's MY store is found by thumbprint and by name. */
static void test_client_certificate_in_the_store_is_kept_by_id_and_by_name(void **state)
{
    struct fixture *fx = *state;
    BYTE encoded[256], thumbprint[20], *hash = NULL;
    CERT_NAME_BLOB name = { sizeof(encoded), encoded };
    DWORD size = sizeof(thumbprint);
    BG_CERT_STORE_LOCATION location;
    const CERT_CONTEXT *cert, *added;
    WCHAR *store = NULL, *subject = NULL;
    HCERTSTORE my;

    WCHAR cn[64], subject_name[64];

    /* A subject of its own: the prefix keeps its certificate stores from one run to the next. */
    swprintf(subject_name, ARRAYSIZE(subject_name), L"dosvc client test %lu-%llu", GetCurrentProcessId(), GetTickCount64());
    swprintf(cn, ARRAYSIZE(cn), L"CN=%ls", subject_name);
    assert_true(CertStrToNameW(X509_ASN_ENCODING, cn, CERT_X500_NAME_STR, NULL, encoded, &name.cbData, NULL));
    cert = CertCreateSelfSignCertificate(0, &name, 0, NULL, NULL, NULL, NULL, NULL);
    if (!cert) skip();     /* no key provider in this prefix: nothing to test with */
    assert_non_null(my = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER, L"MY"));
    assert_true(CertAddCertificateContextToStore(my, cert, CERT_STORE_ADD_REPLACE_EXISTING, NULL));
    assert_true(CertGetCertificateContextProperty(cert, CERT_SHA1_HASH_PROP_ID, thumbprint, &size));
    CertCloseStore(my, 0);     /* the store is written when closed */

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetClientCertificateByID(fx->http, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY", thumbprint));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetClientCertificate(fx->http, &location, &store, &hash, &subject));
    assert_int_equal(location, BG_CERT_STORE_LOCATION_CURRENT_USER);
    assert_owned_wstr_equal(L"MY", store);
    assert_owned_wstr_equal(subject_name, subject);
    assert_memory_equal(hash, thumbprint, 20);
    CoTaskMemFree(hash);

    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_RemoveClientCertificate(fx->http));
    assert_hr(HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA), IBackgroundCopyJobHttpOptions_GetClientCertificate(fx->http, &location, &store, &hash, &subject));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetClientCertificateByName(fx->http, BG_CERT_STORE_LOCATION_CURRENT_USER, L"MY",
                                                                             subject_name));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_GetClientCertificate(fx->http, &location, &store, &hash, &subject));
    assert_memory_equal(hash, thumbprint, 20);
    CoTaskMemFree(hash);
    CoTaskMemFree(store);
    CoTaskMemFree(subject);

    my = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER, L"MY");
    if ((added = CertFindCertificateInStore(my, X509_ASN_ENCODING, 0, CERT_FIND_EXISTING, cert, NULL)))
        CertDeleteCertificateFromStore(added);
    CertCloseStore(my, 0);
    CertFreeCertificateContext(cert);
}

/* Issue 9 defect 5: a NULL out is a failed HRESULT (HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER)),
 * never the bare Win32 code, which SUCCEEDED() takes for success. */
static void test_getters_with_a_null_out_fail_with_a_failed_hresult(void **state)
{
    const HRESULT null_ref = HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER);
    struct fixture *fx = *state;
    BG_CERT_STORE_LOCATION location;
    WCHAR *store, *subject;
    BYTE *hash;

    assert_true(FAILED(null_ref));
    assert_hr(null_ref, IBackgroundCopyJobHttpOptions_GetSecurityFlags(fx->http, NULL));
    assert_hr(null_ref, IBackgroundCopyJobHttpOptions_GetCustomHeaders(fx->http, NULL));
    assert_hr(null_ref, IBackgroundCopyJobHttpOptions_GetClientCertificate(fx->http, NULL, &store, &hash, &subject));
    assert_hr(null_ref, IBackgroundCopyJobHttpOptions_GetClientCertificate(fx->http, &location, NULL, &hash, &subject));
    assert_hr(null_ref, IBackgroundCopyJobHttpOptions_GetClientCertificate(fx->http, &location, &store, NULL, &subject));
    assert_hr(null_ref, IBackgroundCopyJobHttpOptions_GetClientCertificate(fx->http, &location, &store, &hash, NULL));
}

/* No client certificate: HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA), a failure, with NULL outs. */
static void test_client_certificate_never_set_fails_with_a_failed_hresult_and_null_outs(void **state)
{
    struct fixture *fx = *state;
    BG_CERT_STORE_LOCATION location;
    WCHAR *store = (WCHAR *)0xdeadbeef, *subject = (WCHAR *)0xdeadbeef;
    BYTE *hash = (BYTE *)0xdeadbeef;
    HRESULT hr = IBackgroundCopyJobHttpOptions_GetClientCertificate(fx->http, &location, &store, &hash, &subject);

    assert_true(FAILED(hr));
    assert_hr(HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA), hr);
    assert_null(store);
    assert_null(hash);
    assert_null(subject);
}

#define JOB_TEST(f) cmocka_unit_test_setup_teardown(f, setup_job, teardown_job)

int main(void)
{
    const struct CMUnitTest tests[] = {
        JOB_TEST(test_custom_headers_are_unset_at_first),
        JOB_TEST(test_custom_headers_round_trip),
        JOB_TEST(test_custom_headers_null_removes_them),
        JOB_TEST(test_get_custom_headers_with_null_fails_with_null_ref_pointer),
        JOB_TEST(test_custom_headers_over_16383_characters_are_refused),
        JOB_TEST(test_custom_header_line_without_a_colon_is_refused),
        JOB_TEST(test_take_ownership_drops_custom_headers),
        JOB_TEST(test_custom_headers_in_a_final_state_fail_with_invalid_state),
        JOB_TEST(test_custom_headers_are_sent_with_the_request),
        JOB_TEST(test_custom_header_without_a_final_crlf_keeps_the_range_of_a_resumed_request),
        JOB_TEST(test_custom_header_whose_name_is_no_token_is_refused),
        JOB_TEST(test_custom_header_naming_a_field_the_transport_owns_is_refused),
        JOB_TEST(test_refused_custom_headers_change_nothing_on_the_wire),
        JOB_TEST(test_security_flags_are_zero_at_first),
        JOB_TEST(test_security_flags_round_trip),
        JOB_TEST(test_unknown_security_flags_are_refused),
        JOB_TEST(test_get_security_flags_with_null_fails_with_null_ref_pointer),
        JOB_TEST(test_https_with_an_untrusted_certificate_fails_and_saves_nothing),
        JOB_TEST(test_https_with_certificate_errors_ignored_downloads_the_file),
        JOB_TEST(test_https_with_a_certificate_for_another_name_fails_with_cn_invalid),
        JOB_TEST(test_https_with_a_certificate_for_another_name_downloads_when_cn_invalid_is_ignored),
        JOB_TEST(test_ignoring_invalid_dates_does_not_excuse_a_certificate_for_another_name),
        JOB_TEST(test_https_with_an_expired_certificate_fails_with_date_invalid),
        JOB_TEST(test_https_with_an_expired_certificate_downloads_when_date_invalid_is_ignored),
        JOB_TEST(test_ignoring_an_invalid_name_does_not_excuse_an_expired_certificate),
        JOB_TEST(test_redirect_policy_disallow_fails_a_redirected_file),
        JOB_TEST(test_redirect_policy_allow_report_shows_the_final_url),
        JOB_TEST(test_redirect_policy_allow_silent_keeps_the_remote_name),
        JOB_TEST(test_https_to_http_redirect_is_refused_by_default),
        JOB_TEST(test_https_to_http_redirect_is_followed_when_allowed),
        JOB_TEST(test_https_through_an_override_proxy_goes_through_a_connect_tunnel),
        JOB_TEST(test_override_proxy_bypass_list_reaches_its_hosts_directly),
        /* The first to change the process's proxy configuration (the test says why). */
        JOB_TEST(test_many_system_proxy_changes_are_each_followed_and_free_nothing_of_the_process),
        JOB_TEST(test_preconfig_follows_the_system_proxy),
        JOB_TEST(test_autodetect_follows_the_system_proxy_like_preconfig),
        JOB_TEST(test_no_proxy_goes_directly_even_when_the_system_names_a_proxy),
        JOB_TEST(test_preconfig_sees_a_system_proxy_set_just_after_a_direct_run),
        JOB_TEST(test_removed_server_credentials_leave_a_challenge_unanswered_with_error_401),
        JOB_TEST(test_removed_proxy_credentials_leave_a_proxy_challenge_unanswered_with_error_407),
        JOB_TEST(test_client_certificate_is_unset_at_first),
        JOB_TEST(test_client_certificate_that_is_not_in_the_store_is_refused),
        JOB_TEST(test_client_certificate_in_the_store_is_kept_by_id_and_by_name),
        JOB_TEST(test_getters_with_a_null_out_fail_with_a_failed_hresult),
        JOB_TEST(test_client_certificate_never_set_fails_with_a_failed_hresult_and_null_outs),
    };
    return cmocka_run_group_tests_name("http_options", tests, setup_group, teardown_group);
}
