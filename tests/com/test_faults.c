/*
 * Transport faults found by independent testing (issue 9), through both APIs:
 * a response head, chunk framing, trailer, interim answers or TLS handshake that
 * the server cuts off, trickles or never ends (a transient error, never a worker
 * that spins or outlives Cancel), bytes or a 408 that arrive on a kept-alive
 * connection after its answer and servers that close idle connections (the next
 * request goes out on a new one, without an error), and a resumed file whose
 * server answers 206 for another version (the file starts over, never a splice
 * of two versions) or for the same one (it goes on).
 * The faults are the loopback test server's (tests/server/README.md); each test
 * finds its requests in the server's log by a mark in their URLs.
 */
#include "com_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wininet.h>

#define STATE(s) DOSVC_STATE(BG_JOB_STATE_##s)
#define SETTLED (STATE(TRANSFERRED) | STATE(ERROR) | STATE(CANCELLED) | STATE(ACKNOWLEDGED))

#define E_CONNECTION_ABORTED HRESULT_FROM_WIN32(ERROR_INTERNET_CONNECTION_ABORTED)   /* 0x80072EFE */
#define E_TIMEOUT HRESULT_FROM_WIN32(ERROR_INTERNET_TIMEOUT)                         /* 0x80072EE2 */
#define E_INVALID_RESPONSE HRESULT_FROM_WIN32(ERROR_HTTP_INVALID_SERVER_RESPONSE)    /* 0x80072F78 */

static IBackgroundCopyManager *manager;
static IDOManager *domanager;

static int setup_group(void **state)
{
    if (dosvc_setup_manager(&manager)) return -1;
    return FAILED(dosvc_create(&IID_IDOManager, (void **)&domanager)) ? -1 : 0;
}

static int teardown_group(void **state)
{
    IDOManager_Release(domanager);
    return dosvc_teardown_manager(&manager);
}

/* The safety net after each test: cancel what it left, empty the test folder, and the receive
 * timeout back to the DLL's own, which a failed test may have left shortened. */
static int cleanup(void **state)
{
    dosvc_cleanup(manager);
    SetEnvironmentVariableW(L"DOSVC_RECEIVE_TIMEOUT_MS", NULL);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------- */

/* A mark unique to this process and call: a key for times=, and what finds a test's requests in the log. */
static void new_mark(WCHAR mark[32])
{
    static LONG next;
    wsprintfW(mark, L"f%lux%ld", GetCurrentProcessId(), InterlockedIncrement(&next));
}

/* A job for one file from the server, with a one-second retry delay. */
static IBackgroundCopyJob *job_for(const WCHAR *url, const WCHAR *local)
{
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"fault test", NULL);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, url, local));
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 1));
    return job;
}

/* "https://127.0.0.1:<port><path>" in a static buffer, for the HTTPS listeners with faults of their own. */
static const WCHAR *https_url(int port, const WCHAR *path)
{
    static WCHAR url[2300];
    assert_int_not_equal(port, 0);
    wsprintfW(url, L"https://127.0.0.1:%d%s", port, path);
    return url;
}

/* The job's state once settled or in one of states, which must be expected; its error if not. */
static void assert_reaches(IBackgroundCopyJob *job, unsigned states, BG_JOB_STATE expected, DWORD timeout_ms)
{
    BG_JOB_STATE state = dosvc_wait_for_state(job, states, timeout_ms);
    if (state != expected && (state == BG_JOB_STATE_ERROR || state == BG_JOB_STATE_TRANSIENT_ERROR))
        print_message("error 0x%08lx\n", dosvc_error_of(job, NULL));
    assert_int_equal(state, expected);
}

static void assert_error_is(IBackgroundCopyJob *job, HRESULT expected)
{
    BG_ERROR_CONTEXT context;
    assert_hr(expected, dosvc_error_of(job, &context));
    assert_int_equal(context, BG_ERROR_CONTEXT_REMOTE_FILE);
}

static ULONG error_count_of(IBackgroundCopyJob *job)
{
    ULONG errors;
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &errors));
    return errors;
}

/* The job for url fails with expected, a transient error; then it is cancelled. */
static void assert_transient_error(const WCHAR *url, const WCHAR *name, HRESULT expected)
{
    IBackgroundCopyJob *job = job_for(url, dosvc_test_path(name));

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_reaches(job, STATE(TRANSIENT_ERROR) | SETTLED, BG_JOB_STATE_TRANSIENT_ERROR, 15000);
    assert_error_is(job, expected);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    IBackgroundCopyJob_Release(job);
}

/* The same with a stall shortened to 1.5 s (DOSVC_RECEIVE_TIMEOUT_MS; cleanup restores it). */
static void assert_transient_error_with_a_short_receive_timeout(const WCHAR *url, const WCHAR *name, HRESULT expected)
{
    assert_true(SetEnvironmentVariableW(L"DOSVC_RECEIVE_TIMEOUT_MS", L"1500"));
    assert_transient_error(url, name, expected);
}

/* The job lets these certificate errors (BG_SSL_IGNORE_*) pass: the test server's are self-signed. */
static void allow_certificate_errors(IBackgroundCopyJob *job, DWORD flags)
{
    IBackgroundCopyJobHttpOptions *options = dosvc_query(job, &IID_IBackgroundCopyJobHttpOptions);
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetSecurityFlags(options, flags));
    IBackgroundCopyJobHttpOptions_Release(options);
}

struct closed_wait { const WCHAR *mark; int n; };

static BOOL request_closed(void *context)
{
    struct closed_wait *w = context;
    char *log = dosvc_server_log(w->mark);
    const char *closed = dosvc_log_field(log, "closed", w->n);
    BOOL done = closed && !strncmp(closed, "true", 4);
    free(log);
    return done;
}

/* Waits until the server has ended the connection of its n-th request with mark (its log says closed). */
static BOOL wait_for_server_close(const WCHAR *mark, int n, DWORD timeout_ms)
{
    struct closed_wait w = { .mark = mark, .n = n };
    return dosvc_wait(request_closed, &w, timeout_ms);
}

/* size bytes of one version of a file: which version sets every byte. */
static BYTE *version_bytes(DWORD size, BYTE version)
{
    BYTE *data = malloc(size);
    DWORD i;

    assert_non_null(data);
    for (i = 0; i < size; i++) data[i] = (BYTE)(i * 31 + (i >> 8) + version * 101);
    return data;
}

/* Writes version of size bytes as the server's file /name. */
static void serve_version(const WCHAR *name, DWORD size, BYTE version)
{
    BYTE *data = version_bytes(size, version);
    dosvc_write_file(dosvc_server_root_path(name), data, size);
    free(data);
}

/* ---- IDODownload helpers ------------------------------------------------------------- */

static void set_bstr(IDODownload *download, DODownloadProperty id, const WCHAR *text)
{
    VARIANT v;
    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocString(text);
    assert_hr(S_OK, IDODownload_SetProperty(download, id, &v));
    VariantClear(&v);
}

/* A download of url into the test folder's name. */
static IDODownload *download_to(const WCHAR *url, const WCHAR *name)
{
    IDODownload *download = NULL;

    assert_hr(S_OK, IDOManager_CreateDownload(domanager, &download));
    DeleteFileW(dosvc_test_path(name));
    set_bstr(download, DODownloadProperty_Uri, url);
    set_bstr(download, DODownloadProperty_LocalPath, dosvc_test_path(name));
    return download;
}

static DO_DOWNLOAD_STATUS status_of(IDODownload *download)
{
    DO_DOWNLOAD_STATUS status;
    assert_hr(S_OK, IDODownload_GetStatus(download, &status));
    return status;
}

struct status_wait { IDODownload *download; BOOL (*done)(const DO_DOWNLOAD_STATUS *); DO_DOWNLOAD_STATUS status; };

static BOOL status_done(void *context)
{
    struct status_wait *w = context;
    w->status = status_of(w->download);
    return w->done(&w->status);
}

/* Polls GetStatus (as the DO SDK does) until done says so or the timeout passes; the last status. */
static DO_DOWNLOAD_STATUS wait_for_status(IDODownload *download, BOOL (*done)(const DO_DOWNLOAD_STATUS *), DWORD timeout_ms)
{
    struct status_wait w = { .download = download, .done = done };
    dosvc_wait(status_done, &w, timeout_ms);
    return w.status;
}

/* Paused by a transient error (docs/ido.md: Error S_OK, the cause in ExtendedError), or settled. */
static BOOL paused_by_a_transient_error(const DO_DOWNLOAD_STATUS *s)
{
    return (s->State == DODownloadState_Paused && FAILED(s->ExtendedError)) || FAILED(s->Error)
           || s->State == DODownloadState_Transferred;
}

static BOOL transferred_or_failed(const DO_DOWNLOAD_STATUS *s)
{
    return s->State == DODownloadState_Transferred || FAILED(s->Error);
}

/* ---- a response head cut off or never ending (issue 9, defect 1) ----------------------- */

/* The server closes in the middle of a field: no head came, a transient error as any cut. */
static void test_head_cut_off_by_the_servers_close_is_a_transient_error(void **state)
{
    IBackgroundCopyJob *job = job_for(dosvc_url(L"/gen/20000?seed=cut-head&fault=cuthead"), dosvc_test_path(L"cut-head.bin"));

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_reaches(job, STATE(TRANSIENT_ERROR) | SETTLED, BG_JOB_STATE_TRANSIENT_ERROR, 15000);
    assert_error_is(job, E_CONNECTION_ABORTED);
    assert_true(dosvc_progress_of(job).BytesTransferred == 0);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    IBackgroundCopyJob_Release(job);
}

/* Over TLS the server's close_notify is the end it alone can send; a head it cuts is still a cut. */
static void test_head_cut_off_by_a_tls_close_notify_is_a_transient_error(void **state)
{
    IBackgroundCopyJob *job = job_for(dosvc_server_url(TRUE, L"/gen/20000?seed=cut-head-tls&fault=cuthead"),
                                      dosvc_test_path(L"cut-head-tls.bin"));

    allow_certificate_errors(job, BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_CN_INVALID);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_reaches(job, STATE(TRANSIENT_ERROR) | SETTLED, BG_JOB_STATE_TRANSIENT_ERROR, 15000);
    assert_error_is(job, E_CONNECTION_ABORTED);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    IBackgroundCopyJob_Release(job);
}

/* Retried and cut each time, no byte ever arrives: the no-progress timeout makes it ERROR, with the cause. */
static void test_head_cut_off_every_time_is_an_error_after_the_no_progress_timeout(void **state)
{
    IBackgroundCopyJob *job = job_for(dosvc_url(L"/gen/20000?seed=cut-head-timeout&fault=cuthead"),
                                      dosvc_test_path(L"cut-head-timeout.bin"));

    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, 2));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_reaches(job, SETTLED, BG_JOB_STATE_ERROR, 20000);
    assert_error_is(job, E_CONNECTION_ABORTED);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_int_equal(dosvc_temp_files_left(), 0);
    IBackgroundCopyJob_Release(job);
}

/* docs/engine.md "A run": over dosvc's own sockets a stopped worker lets go at once, so its
 * temporary file (deleted while open, listed until then under Wine) is gone when Cancel returns:
 * the job's request (path's query ends in "m=", for the mark) reached the server, then Cancel. */
static void assert_cancel_leaves_no_temporary_file(const WCHAR *path, const WCHAR *name)
{
    WCHAR mark[32];
    IBackgroundCopyJob *job;

    new_mark(mark);
    job = job_for(dosvc_url(L"%s%s", path, mark), dosvc_test_path(name));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_for_requests(mark, 1, 10000) >= 1);
    assert_int_equal(dosvc_temp_files_left(), 1);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_int_equal(dosvc_state_of(job), BG_JOB_STATE_CANCELLED);
    assert_int_equal(dosvc_temp_files_left(), 0);
    IBackgroundCopyJob_Release(job);
}

static void test_cancel_while_the_server_cuts_the_head_leaves_no_temporary_file(void **state)
{
    assert_cancel_leaves_no_temporary_file(L"/gen/20000?seed=cut-head-cancel&fault=cuthead&m=", L"cut-head-cancel.bin");
}

/* A head that arrives a byte at a time never ends in time: the receive timeout bounds the whole
 * head, not each byte of it, and the stall is a transient error like a silent server. About 250
 * bytes at 10 a second: 25 s of head, each byte 100 ms after the last. */
static void test_head_that_does_not_end_within_the_receive_timeout_is_a_stall(void **state)
{
    assert_transient_error_with_a_short_receive_timeout(dosvc_url(L"/gen/1000?seed=drip-head&fault=driphead&rate=10"),
                                                        L"drip-head.bin", E_TIMEOUT);
}

/* clients.md 0.3 through IDODownload: Paused with the cause in ExtendedError, then done by itself. */
static void test_download_whose_head_is_cut_off_is_paused_then_completes(void **state)
{
    WCHAR mark[32], path[128];
    IDODownload *download;
    DO_DOWNLOAD_STATUS status;

    new_mark(mark);
    wsprintfW(path, L"/gen/20000?seed=ido-cut-head&fault=cuthead&times=1&key=%s", mark);
    download = download_to(dosvc_url(L"%s", path), L"ido-cut-head.bin");
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    status = wait_for_status(download, paused_by_a_transient_error, 15000);
    assert_int_equal(status.State, DODownloadState_Paused);
    assert_hr(S_OK, status.Error);
    assert_hr(E_CONNECTION_ABORTED, status.ExtendedError);
    status = wait_for_status(download, transferred_or_failed, 30000);
    assert_int_equal(status.State, DODownloadState_Transferred);
    assert_hr(S_OK, IDODownload_Finalize(download));
    dosvc_assert_file_is(dosvc_test_path(L"ido-cut-head.bin"), path);
    IDODownload_Release(download);
    DeleteFileW(dosvc_test_path(L"ido-cut-head.bin"));
}

static void test_abort_while_the_server_cuts_the_head_leaves_no_temporary_file(void **state)
{
    WCHAR mark[32];
    IDODownload *download;

    new_mark(mark);
    download = download_to(dosvc_url(L"/gen/20000?seed=ido-cut-head-abort&fault=cuthead&m=%s", mark), L"ido-cut-head-abort.bin");
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_true(dosvc_wait_for_requests(mark, 1, 10000) >= 1);
    assert_hr(S_OK, IDODownload_Abort(download));
    assert_int_equal(status_of(download).State, DODownloadState_Aborted);
    assert_int_equal(dosvc_temp_files_left(), 0);
    assert_false(dosvc_file_exists(dosvc_test_path(L"ido-cut-head-abort.bin")));
    IDODownload_Release(download);
}

/* ---- chunk framing, trailers, interim answers and TLS handshakes that never end ----------- */

/* After the last chunk, trailer fields at 5 bytes a second: each byte would restart a wait for
 * the next one; the trailer, like a head, must be whole within the receive timeout. */
static void test_trailer_that_trickles_in_is_a_stall(void **state)
{
    assert_transient_error_with_a_short_receive_timeout(dosvc_url(L"/gen/5?seed=drip-trailer&fault=trailer&rate=5"),
                                                        L"drip-trailer.bin", E_TIMEOUT);
}

/* Trailer fields as fast as the server can send them: beyond a head's size, a protocol error. */
static void test_trailer_without_end_is_a_protocol_error(void **state)
{
    assert_transient_error(dosvc_url(L"/gen/5?seed=flood-trailer&fault=trailer"), L"flood-trailer.bin", E_INVALID_RESPONSE);
}

/* A worker reading a server that never stops sending lets go at Cancel too. */
static void test_cancel_while_the_server_floods_the_trailer_leaves_no_temporary_file(void **state)
{
    assert_cancel_leaves_no_temporary_file(L"/gen/5?seed=flood-trailer-cancel&fault=trailer&m=", L"flood-trailer-cancel.bin");
}

/* A chunk's size line whose extension comes at 5 bytes a second never ends in time either. */
static void test_chunk_size_line_that_trickles_in_is_a_stall(void **state)
{
    assert_transient_error_with_a_short_receive_timeout(dosvc_url(L"/gen/5?seed=drip-chunk-line&fault=chunkext&rate=5"),
                                                        L"drip-chunk-line.bin", E_TIMEOUT);
}

/* A chunk extension as fast as the server can send it: a protocol error, well before a stall. */
static void test_chunk_extension_without_end_is_a_protocol_error(void **state)
{
    assert_transient_error(dosvc_url(L"/gen/5?seed=flood-chunk-line&fault=chunkext"), L"flood-chunk-line.bin",
                           E_INVALID_RESPONSE);
}

/* 103 Early Hints, three times, then the answer: interim answers are passed over. */
static void test_interim_answers_before_the_answer_are_passed_over(void **state)
{
    const WCHAR *local = dosvc_test_path(L"interim.bin");
    IBackgroundCopyJob *job = job_for(dosvc_url(L"/gen/20000?seed=interim&fault=interim&count=3&code=103"), local);

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_reaches(job, SETTLED, BG_JOB_STATE_TRANSFERRED, 15000);
    assert_int_equal(error_count_of(job), 0);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    dosvc_assert_file_is(local, L"/gen/20000?seed=interim");
    IBackgroundCopyJob_Release(job);
    DeleteFileW(local);
}

/* 100 Continue without end, as fast as the server can send it: past a few, a protocol error. */
static void test_interim_answers_without_end_are_a_protocol_error(void **state)
{
    assert_transient_error(dosvc_url(L"/gen/20000?seed=interim-flood&fault=interim"), L"interim-flood.bin", E_INVALID_RESPONSE);
}

/* The server's first TLS record announces 16 KiB and comes a byte every 200 ms: the handshake
 * must be done within the receive timeout of the connection's start. */
static void test_tls_handshake_that_trickles_in_is_a_stall(void **state)
{
    assert_transient_error_with_a_short_receive_timeout(https_url(dosvc_server_drip_handshake_port(), L"/gen/20000"),
                                                        L"drip-handshake.bin", E_TIMEOUT);
}

/* ---- kept-alive connections (issue 9, defect 2) ---------------------------------------- */

/* Whether the log's n-th field name is true. */
static BOOL log_flag(const char *log, const char *name, int n)
{
    const char *value = dosvc_log_field(log, name, n);
    assert_non_null(value);
    return !strncmp(value, "true", 4);
}

static int log_client_port(const char *log, int n)
{
    const char *value = dosvc_log_field(log, "client_port", n);
    assert_non_null(value);
    return atoi(value);
}

/*
 * A job of two files from the server (over TLS if https, its certificate's errors allowed); the
 * first one's faults end its kept connection once the second file's request has come on it
 * (fault=late's on=request). That request is sent once more on a new connection, and no error is
 * counted: the log shows the first answer, the second request on the same connection left
 * unanswered (or answered with unanswered_status, if not 0) and again on another connection,
 * answered.
 */
static void assert_kept_connection_ended_under_the_next_request_is_replaced(BOOL https, const WCHAR *faults,
                                                                            int unanswered_status)
{
    const WCHAR *first = dosvc_test_path(L"kept-first.bin"), *second = dosvc_test_path(L"kept-second.bin");
    WCHAR mark[32], first_path[128], second_path[128];
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"fault test", NULL);
    char *log;

    new_mark(mark);
    wsprintfW(first_path, L"/gen/64k?seed=kept-1&fault=late&on=request&%s&m=%s", faults, mark);
    wsprintfW(second_path, L"/gen/64k?seed=kept-2&m=%s", mark);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, dosvc_server_url(https, first_path), first));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, dosvc_server_url(https, second_path), second));
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 1));
    if (https) allow_certificate_errors(job, BG_SSL_IGNORE_UNKNOWN_CA | BG_SSL_IGNORE_CERT_CN_INVALID);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_reaches(job, SETTLED, BG_JOB_STATE_TRANSFERRED, 30000);
    assert_int_equal(error_count_of(job), 0);
    log = dosvc_server_log(mark);
    assert_int_equal(dosvc_log_count(log), 3);
    assert_int_equal(dosvc_log_status(log, 0), 200);
    assert_false(log_flag(log, "unanswered", 0));
    assert_int_equal(log_client_port(log, 1), log_client_port(log, 0));
    assert_true(!strncmp(dosvc_log_field(log, "target", 1), "\"/gen/64k?seed=kept-2&", 22));
    if (unanswered_status) assert_int_equal(dosvc_log_status(log, 1), unanswered_status);
    else assert_true(log_flag(log, "unanswered", 1));
    assert_int_not_equal(log_client_port(log, 2), log_client_port(log, 0));
    assert_int_equal(dosvc_log_status(log, 2), 200);
    free(log);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    dosvc_assert_file_is(second, second_path);
    IBackgroundCopyJob_Release(job);
    DeleteFileW(first);
    DeleteFileW(second);
}

/* The second file's request goes out on the kept connection, whose server then sends bytes that
 * answer nothing and closes. */
static void test_bytes_arriving_late_on_a_kept_connection_do_not_stall_the_next_file(void **state)
{
    assert_kept_connection_ended_under_the_next_request_is_replaced(FALSE, L"extra=777", 0);
}

/* The same over TLS (a connection kept for requests that allow the same certificate errors),
 * the server's TCP close, without close_notify, coming with those bytes: the reset that the read
 * after them finds belongs to the old connection, not to the new one. */
static void test_tls_connection_reset_under_the_next_request_is_replaced_without_an_error(void **state)
{
    assert_kept_connection_ended_under_the_next_request_is_replaced(TRUE, L"extra=777", 0);
}

/* A server's 408 that closes the kept connection (its idle timeout) crossing the next request
 * answers no request of ours: the request goes out again on a new connection. (A 408 that keeps
 * the connection is an answer, transient: com_status.) */
static void test_408_on_a_kept_connection_is_its_end_not_an_answer(void **state)
{
    assert_kept_connection_ended_under_the_next_request_is_replaced(FALSE, L"answer=408", 408);
}

/* Two jobs in sequence: the first's answer ends with faults (fault=late's), and once the server
 * has ended that connection (its log says so), the second job's request goes out on a new one,
 * without an error, and gets the right bytes. */
static void assert_next_job_after_the_connection_ended_transfers(const WCHAR *faults)
{
    const WCHAR *local = dosvc_test_path(L"after-idle.bin");
    WCHAR mark[32], path[128];
    IBackgroundCopyJob *job;
    char *log;

    new_mark(mark);
    job = job_for(dosvc_url(L"/gen/64k?seed=idle-1&fault=late&%s&m=%s", faults, mark), local);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_reaches(job, SETTLED, BG_JOB_STATE_TRANSFERRED, 30000);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    IBackgroundCopyJob_Release(job);
    assert_true(wait_for_server_close(mark, 0, 10000));

    wsprintfW(path, L"/gen/64k?seed=idle-2&m=%s", mark);
    job = job_for(dosvc_url(L"%s", path), local);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_reaches(job, SETTLED, BG_JOB_STATE_TRANSFERRED, 30000);
    assert_int_equal(error_count_of(job), 0);
    log = dosvc_server_log(mark);
    assert_int_equal(dosvc_log_count(log), 2);
    assert_int_equal(dosvc_log_status(log, 1), 200);
    free(log);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    dosvc_assert_file_is(local, path);
    IBackgroundCopyJob_Release(job);
    DeleteFileW(local);
}

/* The late bytes and the end arrived while the connection was idle in the pool. */
static void test_connection_that_received_late_bytes_while_idle_is_not_reused(void **state)
{
    assert_next_job_after_the_connection_ended_transfers(L"seconds=0.2");
}

/* The server ended an idle kept connection (EOF) and sent nothing else. */
static void test_connection_the_server_closed_while_idle_is_replaced_without_an_error(void **state)
{
    assert_next_job_after_the_connection_ended_transfers(L"seconds=0&extra=0");
}

/* The server ends the kept connection just after the next request went out on it, unread. */
static void test_connection_the_server_closes_under_the_next_request_is_replaced_without_an_error(void **state)
{
    assert_kept_connection_ended_under_the_next_request_is_replaced(FALSE, L"extra=0", 0);
}

/* ---- a resumed file answered with another version (issue 9, defect 3) -------------------- */

#define VERSION_SIZE 300000
#define CUT_AT 100000

/* The server's /name, v1 until the transfer is cut at CUT_AT, then v2 of the same size from a
 * server that answers a Range with 206 whatever If-Range says (faults before the cut, params
 * after the query's others); the job waits, suspended, in between; it is returned resumed. */
static IBackgroundCopyJob *job_cut_while_v1_then_v2(const WCHAR *name, const WCHAR *mark, const WCHAR *faults,
                                                    const WCHAR *params, const WCHAR *local)
{
    IBackgroundCopyJob *job;

    serve_version(name, VERSION_SIZE, 1);
    job = job_for(dosvc_url(L"/%s?if_range=ignore&fault=%struncate&after=%d&times=1&key=%s%s", name, faults, CUT_AT, mark, params),
                  local);
    /* A retry comes after the test has changed the file. */
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 600));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_reaches(job, STATE(TRANSIENT_ERROR) | SETTLED, BG_JOB_STATE_TRANSIENT_ERROR, 15000);
    assert_true(dosvc_progress_of(job).BytesTransferred == CUT_AT);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    serve_version(name, VERSION_SIZE, 2);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    return job;
}

/* The job's file started over and is exactly v2: the resumed request got a 206, then a plain GET
 * the whole file, which Complete puts in place. Releases the job and deletes both files. */
static void assert_started_over_as_v2(IBackgroundCopyJob *job, const WCHAR *name, const WCHAR *mark, const WCHAR *local)
{
    WCHAR path[80];
    char *log;

    assert_reaches(job, SETTLED, BG_JOB_STATE_TRANSFERRED, 15000);
    log = dosvc_server_log(mark);
    assert_int_equal(dosvc_log_count(log), 3);
    assert_true(dosvc_log_range_start(log, 0) == -1);
    assert_true(dosvc_log_range_start(log, 1) == CUT_AT);
    assert_int_equal(dosvc_log_status(log, 1), 206);
    assert_true(dosvc_log_range_start(log, 2) == -1);
    assert_int_equal(dosvc_log_status(log, 2), 200);
    free(log);
    assert_true(dosvc_progress_of(job).BytesTransferred == VERSION_SIZE);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    wsprintfW(path, L"/%s", name);
    dosvc_assert_file_is(local, path);
    IBackgroundCopyJob_Release(job);
    DeleteFileW(local);
    DeleteFileW(dosvc_server_root_path(name));
}

/* If-Range named v1; the 206 names v2: its bytes are not the rest of what is on disk. */
static void test_206_of_another_version_than_if_range_named_restarts_the_file(void **state)
{
    WCHAR mark[32], name[64];
    IBackgroundCopyJob *job;
    char *log;

    new_mark(mark);
    wsprintfW(name, L"%s-versions.bin", mark);
    job = job_cut_while_v1_then_v2(name, mark, L"", L"", dosvc_test_path(L"other-version.bin"));
    assert_started_over_as_v2(job, name, mark, dosvc_test_path(L"other-version.bin"));
    log = dosvc_server_log(mark);
    assert_non_null(strstr(log, "\"If-Range\": \"\\\"file-"));   /* the resumed request named v1's ETag */
    free(log);
}

/* No validator came with v1, so no If-Range could guard the resume; the 206 now names a version,
 * which nothing ties the bytes on disk to: the file starts over. */
static void test_206_naming_a_version_where_none_was_known_restarts_the_file(void **state)
{
    WCHAR mark[32], name[64];
    IBackgroundCopyJob *job;
    char *log;

    new_mark(mark);
    wsprintfW(name, L"%s-validator.bin", mark);
    job = job_cut_while_v1_then_v2(name, mark, L"novalidator,", L"", dosvc_test_path(L"new-validator.bin"));
    assert_started_over_as_v2(job, name, mark, dosvc_test_path(L"new-validator.bin"));
    log = dosvc_server_log(mark);
    assert_null(strstr(log, "If-Range"));
    free(log);
}

/* A server whose only validator is a weak ETag: it never goes in If-Range (RFC 9110 13.1.5), but
 * the 206's own ETag, another one, says that its bytes are of another version. */
static void test_206_whose_weak_etag_differs_restarts_the_file(void **state)
{
    WCHAR mark[32], name[64];
    IBackgroundCopyJob *job;
    char *log;

    new_mark(mark);
    wsprintfW(name, L"%s-weak.bin", mark);
    job = job_cut_while_v1_then_v2(name, mark, L"", L"&validators=weak", dosvc_test_path(L"weak-version.bin"));
    assert_started_over_as_v2(job, name, mark, dosvc_test_path(L"weak-version.bin"));
    log = dosvc_server_log(mark);
    assert_null(strstr(log, "If-Range"));
    free(log);
}

/* The file cut once at CUT_AT (the server's truncate, once: times=1) is resumed a second later,
 * with one more request: a 206 that goes on from the cut, whose bytes make the right file.
 * The log, for the caller's checks, is returned. */
static char *assert_resumed_at_the_cut(const WCHAR *content, const WCHAR *name)
{
    const WCHAR *local = dosvc_test_path(name);
    WCHAR mark[32], path[160];
    IBackgroundCopyJob *job;
    char *log;

    new_mark(mark);
    wsprintfW(path, L"/gen/%d?seed=%s&%s&fault=truncate&after=%d&times=1&key=%s", VERSION_SIZE, name, content, CUT_AT, mark);
    job = job_for(dosvc_url(L"%s", path), local);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_reaches(job, SETTLED, BG_JOB_STATE_TRANSFERRED, 15000);
    log = dosvc_server_log(mark);
    assert_int_equal(dosvc_log_count(log), 2);
    assert_int_equal(dosvc_log_status(log, 0), 200);
    assert_true(dosvc_log_range_start(log, 1) == CUT_AT);
    assert_int_equal(dosvc_log_status(log, 1), 206);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    dosvc_assert_file_is(local, path);
    IBackgroundCopyJob_Release(job);
    DeleteFileW(local);
    return log;
}

/* The 206 names the same weak ETag: nothing says the file changed, and it goes on. */
static void test_resume_with_only_a_weak_etag_goes_on_when_the_206_names_the_same(void **state)
{
    char *log = assert_resumed_at_the_cut(L"validators=weak", L"weak-same.bin");
    assert_null(strstr(log, "If-Range"));
    free(log);
}

/* The whole answer had a weak ETag and a Last-Modified, so If-Range named the date; the 206 the
 * server honoured it with carries a strong ETag of the same tag and the same date. Compared like
 * with like, both agree: the file goes on (once compared with the date, the ETag restarted it). */
static void test_206_with_the_same_date_and_a_strong_etag_goes_on(void **state)
{
    char *log = assert_resumed_at_the_cut(L"validators=weak200", L"weak-then-strong.bin");
    assert_non_null(strstr(log, "\"If-Range\": \"Mon, 01 Jan 2024 00:00:00 GMT\""));
    free(log);
}

/* A server that never names a version: a 206 for the file's known size resumes it (nothing says
 * it changed, and downloads must resume, clients.md 3.1). */
static void test_resume_without_any_validator_goes_on_when_nothing_says_the_file_changed(void **state)
{
    char *log = assert_resumed_at_the_cut(L"validators=none", L"no-validator.bin");
    assert_null(strstr(log, "If-Range"));
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_head_cut_off_by_the_servers_close_is_a_transient_error, cleanup),
        cmocka_unit_test_teardown(test_head_cut_off_by_a_tls_close_notify_is_a_transient_error, cleanup),
        cmocka_unit_test_teardown(test_head_cut_off_every_time_is_an_error_after_the_no_progress_timeout, cleanup),
        cmocka_unit_test_teardown(test_cancel_while_the_server_cuts_the_head_leaves_no_temporary_file, cleanup),
        cmocka_unit_test_teardown(test_head_that_does_not_end_within_the_receive_timeout_is_a_stall, cleanup),
        cmocka_unit_test_teardown(test_download_whose_head_is_cut_off_is_paused_then_completes, cleanup),
        cmocka_unit_test_teardown(test_abort_while_the_server_cuts_the_head_leaves_no_temporary_file, cleanup),
        cmocka_unit_test_teardown(test_trailer_that_trickles_in_is_a_stall, cleanup),
        cmocka_unit_test_teardown(test_trailer_without_end_is_a_protocol_error, cleanup),
        cmocka_unit_test_teardown(test_cancel_while_the_server_floods_the_trailer_leaves_no_temporary_file, cleanup),
        cmocka_unit_test_teardown(test_chunk_size_line_that_trickles_in_is_a_stall, cleanup),
        cmocka_unit_test_teardown(test_chunk_extension_without_end_is_a_protocol_error, cleanup),
        cmocka_unit_test_teardown(test_interim_answers_before_the_answer_are_passed_over, cleanup),
        cmocka_unit_test_teardown(test_interim_answers_without_end_are_a_protocol_error, cleanup),
        cmocka_unit_test_teardown(test_tls_handshake_that_trickles_in_is_a_stall, cleanup),
        cmocka_unit_test_teardown(test_bytes_arriving_late_on_a_kept_connection_do_not_stall_the_next_file, cleanup),
        cmocka_unit_test_teardown(test_tls_connection_reset_under_the_next_request_is_replaced_without_an_error, cleanup),
        cmocka_unit_test_teardown(test_408_on_a_kept_connection_is_its_end_not_an_answer, cleanup),
        cmocka_unit_test_teardown(test_connection_that_received_late_bytes_while_idle_is_not_reused, cleanup),
        cmocka_unit_test_teardown(test_connection_the_server_closed_while_idle_is_replaced_without_an_error, cleanup),
        cmocka_unit_test_teardown(test_connection_the_server_closes_under_the_next_request_is_replaced_without_an_error, cleanup),
        cmocka_unit_test_teardown(test_206_of_another_version_than_if_range_named_restarts_the_file, cleanup),
        cmocka_unit_test_teardown(test_206_naming_a_version_where_none_was_known_restarts_the_file, cleanup),
        cmocka_unit_test_teardown(test_206_whose_weak_etag_differs_restarts_the_file, cleanup),
        cmocka_unit_test_teardown(test_resume_with_only_a_weak_etag_goes_on_when_the_206_names_the_same, cleanup),
        cmocka_unit_test_teardown(test_206_with_the_same_date_and_a_strong_etag_goes_on, cleanup),
        cmocka_unit_test_teardown(test_resume_without_any_validator_goes_on_when_nothing_says_the_file_changed, cleanup),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
