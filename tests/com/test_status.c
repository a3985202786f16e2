/*
 * The HTTP status codes the transport answers other than by saving the body
 * (src/engine/http.c send_request; spec 5.1, 5.4, 6): what becomes a fatal
 * ERROR, what a TRANSIENT_ERROR that is retried, and what makes a resumed file
 * start over. Each test asserts the state, the exact HRESULT, what is on disk
 * (the file's hash, or nothing of an error page) and that no temporary file is
 * left. The loopback test server makes each status (tests/server/README.md:
 * fault=<400..599>, fault=status&code=N, fault=unsatisfiable, fault=redirect);
 * a test finds its own requests in the server's log by a mark in their URLs.
 */
#include "com_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wininet.h>

#include "deliveryoptimizationerrors.h"

#define STATE(s) DOSVC_STATE(BG_JOB_STATE_##s)
#define SETTLED (STATE(TRANSFERRED) | STATE(ERROR) | STATE(CANCELLED) | STATE(ACKNOWLEDGED))
#define BG_E_HTTP_ERROR(status) ((HRESULT)(0x80190000u + (status)))

static IBackgroundCopyManager *manager;

static int setup_group(void **state) { return dosvc_setup_manager(&manager); }
static int teardown_group(void **state) { return dosvc_teardown_manager(&manager); }

/* ---- helpers: jobs ------------------------------------------------------------ */

/* A job for one file from the server, retried after 1 s. */
static IBackgroundCopyJob *job_for(const WCHAR *url, const WCHAR *local)
{
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"status test", NULL);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, url, local));
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 1));
    return job;
}

static ULONG error_count_of(IBackgroundCopyJob *job)
{
    ULONG count = 0xdeadbeef;
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &count));
    return count;
}

/* The size of the job's first temporary file, or 0 if there is none. */
static DWORD temp_size_of(IBackgroundCopyJob *job)
{
    IEnumBackgroundCopyFiles *files = NULL;
    IBackgroundCopyFile *file = NULL;
    IBackgroundCopyFile3 *file3;
    WIN32_FILE_ATTRIBUTE_DATA data;
    WCHAR *name = NULL;
    DWORD size = 0;

    assert_hr(S_OK, IBackgroundCopyJob_EnumFiles(job, &files));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    IEnumBackgroundCopyFiles_Release(files);
    file3 = dosvc_query(file, &IID_IBackgroundCopyFile3);
    assert_hr(S_OK, IBackgroundCopyFile3_GetTemporaryName(file3, &name));
    if (GetFileAttributesExW(name, GetFileExInfoStandard, &data)) size = data.nFileSizeLow;
    CoTaskMemFree(name);
    IBackgroundCopyFile3_Release(file3);
    IBackgroundCopyFile_Release(file);
    return size;
}

/* ---- helpers: the server -------------------------------------------------------- */

/* A mark unique to this process and call: a key for times=, and what finds a test's requests in the log. */
static void new_mark(WCHAR mark[32])
{
    static LONG next;
    wsprintfW(mark, L"s%lux%ld", GetCurrentProcessId(), InterlockedIncrement(&next));
}

/* ---- helpers: files ------------------------------------------------------------- */

/* dosvc's temporary files in the test folder, once stopped workers let go of theirs (a file
 * deleted while open goes when it is closed; docs/engine.md). */
static unsigned temp_files_left(void)
{
    return dosvc_wait_for_temp_files_gone(10000);
}

/* The safety net after each test: cancel what it left and empty the test folder. */
static int cleanup(void **state)
{
    dosvc_cleanup(manager);
    return 0;
}

/* ---- the shapes of the tests ----------------------------------------------------- */

/*
 * Runs a job for path (with mark in its query) and asserts that it ends in ERROR with code, in
 * the remote file's context, after requests requests, with nothing of the answer saved; then
 * that Cancel leaves no file behind.
 */
static void assert_fatal(const WCHAR *path, const WCHAR *mark, HRESULT code, int requests)
{
    const WCHAR *local = dosvc_test_path(L"fatal.bin");
    IBackgroundCopyJob *job = job_for(dosvc_url(L"%s", path), local);
    BG_ERROR_CONTEXT context;
    BG_JOB_STATE settled;
    char *log;

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    settled = dosvc_wait_for_state(job, SETTLED | STATE(TRANSIENT_ERROR), 10000);
    if (settled == BG_JOB_STATE_TRANSIENT_ERROR) print_message("error 0x%08lx\n", dosvc_error_of(job, &context));
    assert_int_equal(settled, BG_JOB_STATE_ERROR);
    assert_hr(code, dosvc_error_of(job, &context));
    assert_int_equal(context, BG_ERROR_CONTEXT_REMOTE_FILE);
    assert_int_equal(error_count_of(job), 1);
    /* DESIGN rule 7: an error page is never saved as the download. */
    assert_true(dosvc_progress_of(job).BytesTransferred == 0);
    assert_int_equal(temp_size_of(job), 0);
    log = dosvc_server_log(mark);
    assert_int_equal(dosvc_log_count(log), requests);
    free(log);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_false(dosvc_file_exists(local));
    assert_int_equal(temp_files_left(), 0);
    IBackgroundCopyJob_Release(job);
}

/*
 * The first answer to path_format (made with a new mark, which its times=1&key=%s takes) is a
 * transient error with code: the job waits in TRANSIENT_ERROR, retries, and saves the file.
 */
static void assert_transient_then_transferred(const WCHAR *path_format, HRESULT code)
{
    const WCHAR *local = dosvc_test_path(L"transient.bin");
    WCHAR mark[32], path[256];
    BG_ERROR_CONTEXT context;
    IBackgroundCopyJob *job;
    char *log;

    new_mark(mark);
    wsprintfW(path, path_format, mark);
    job = job_for(dosvc_url(L"%s", path), local);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_int_equal(dosvc_wait_for_state(job, SETTLED | STATE(TRANSIENT_ERROR), 10000), BG_JOB_STATE_TRANSIENT_ERROR);
    assert_hr(code, dosvc_error_of(job, &context));
    assert_int_equal(context, BG_ERROR_CONTEXT_REMOTE_FILE);
    assert_int_equal(dosvc_wait_for_state(job, SETTLED, 10000), BG_JOB_STATE_TRANSFERRED);
    assert_int_equal(error_count_of(job), 1);
    log = dosvc_server_log(mark);
    assert_int_equal(dosvc_log_count(log), 2);
    assert_int_equal(dosvc_log_status(log, 1), 200);
    free(log);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    dosvc_assert_file_is(local, path);
    assert_int_equal(temp_files_left(), 0);
    IBackgroundCopyJob_Release(job);
    DeleteFileW(local);
}

/* ---- 416 Range Not Satisfiable ------------------------------------------------------- */

/* A request without Range cannot be unsatisfiable: the server is broken, and retrying will not help. */
static void test_416_to_a_whole_file_request_is_fatal_error_416(void **state)
{
    WCHAR mark[32], path[128];

    new_mark(mark);
    wsprintfW(path, L"/gen/16k?seed=w416&fault=416&m=%s", mark);
    assert_fatal(path, mark, BG_E_HTTP_ERROR(416), 1);
}

/* A resumed file whose Range the server now finds past its end ("bytes * /size") changed: it
 * starts over from byte 0 at once, and the file saved is the whole new one. */
static void test_416_to_a_resumed_file_starts_it_over_from_the_first_byte(void **state)
{
    const WCHAR *local = dosvc_test_path(L"over416.bin");
    WCHAR mark[32], path[256];
    BG_ERROR_CONTEXT context;
    IBackgroundCopyJob *job;
    BG_JOB_STATE settled;
    char *log;

    /* 1st request (whole): cut after 100000 bytes; 2nd (Range: bytes=100000-): 416; 3rd: served. */
    new_mark(mark);
    wsprintfW(path, L"/gen/256k?seed=o416&fault=unsatisfiable,truncate&after=100000&times=2&key=%s", mark);
    job = job_for(dosvc_url(L"%s", path), local);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    settled = dosvc_wait_for_state(job, SETTLED, 10000);
    if (settled == BG_JOB_STATE_ERROR) print_message("error 0x%08lx\n", dosvc_error_of(job, &context));
    assert_int_equal(settled, BG_JOB_STATE_TRANSFERRED);
    log = dosvc_server_log(mark);
    assert_int_equal(dosvc_log_count(log), 3);
    assert_int_equal(dosvc_log_range_start(log, 0), -1);
    assert_int_equal(dosvc_log_status(log, 0), 200);
    assert_int_equal(dosvc_log_range_start(log, 1), 100000);
    assert_int_equal(dosvc_log_status(log, 1), 416);
    assert_int_equal(dosvc_log_range_start(log, 2), -1);
    assert_int_equal(dosvc_log_status(log, 2), 200);
    free(log);
    assert_true(dosvc_progress_of(job).BytesTransferred == 256 * 1024);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    dosvc_assert_file_is(local, path);
    assert_int_equal(temp_files_left(), 0);
    IBackgroundCopyJob_Release(job);
    DeleteFileW(local);
}

/* ---- transient statuses: tried again after the retry delay ---------------------------- */

static void test_408_request_timeout_is_transient_and_retried_until_it_succeeds(void **state)
{
    assert_transient_then_transferred(L"/gen/20k?seed=t408&fault=408&times=1&key=%s", BG_E_HTTP_ERROR(408));
}

static void test_429_too_many_requests_is_transient_and_retried_until_it_succeeds(void **state)
{
    assert_transient_then_transferred(L"/gen/20k?seed=t429&fault=429&times=1&key=%s", BG_E_HTTP_ERROR(429));
}

/* A 2xx other than 200 and 206 brings no file: DO_E_UNEXPECTED_HTTP_STATUS_2XX, and transient. */
static void test_204_no_content_is_an_unexpected_2xx_and_transient(void **state)
{
    assert_transient_then_transferred(L"/gen/20k?seed=t204&fault=status&code=204&times=1&key=%s",
                                      DO_E_UNEXPECTED_HTTP_STATUS_2XX);
}

/* ---- 3xx that cannot be followed ------------------------------------------------------- */

static void test_302_without_a_location_is_fatal_error_302(void **state)
{
    WCHAR mark[32], path[128];

    new_mark(mark);
    wsprintfW(path, L"/gen/16k?seed=n302&fault=status&code=302&m=%s", mark);
    assert_fatal(path, mark, BG_E_HTTP_ERROR(302), 1);
}

/* No request of dosvc's is conditional in a way a 304 answers (If-Range never gets one). */
static void test_304_not_modified_is_fatal_error_304(void **state)
{
    WCHAR mark[32], path[128];

    new_mark(mark);
    wsprintfW(path, L"/gen/16k?seed=n304&fault=status&code=304&m=%s", mark);
    assert_fatal(path, mark, BG_E_HTTP_ERROR(304), 1);
}

/* Ten redirects are followed (test_chain_of_ten_redirects_is_followed); the eleventh is not,
 * and the error is the status of that last redirect. */
static void test_more_than_ten_redirects_are_fatal_with_the_last_redirects_status(void **state)
{
    WCHAR mark[32], path[128];

    new_mark(mark);
    wsprintfW(path, L"/gen/8k?seed=loop&fault=redirect&code=301&count=11&m=%s", mark);
    assert_fatal(path, mark, BG_E_HTTP_ERROR(301), 11);
}

#define TEST(f) cmocka_unit_test_teardown(f, cleanup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_416_to_a_whole_file_request_is_fatal_error_416),
        TEST(test_416_to_a_resumed_file_starts_it_over_from_the_first_byte),
        TEST(test_408_request_timeout_is_transient_and_retried_until_it_succeeds),
        TEST(test_429_too_many_requests_is_transient_and_retried_until_it_succeeds),
        TEST(test_204_no_content_is_an_unexpected_2xx_and_transient),
        TEST(test_302_without_a_location_is_fatal_error_302),
        TEST(test_304_not_modified_is_fatal_error_304),
        TEST(test_more_than_ten_redirects_are_fatal_with_the_last_redirects_status),
    };
    return cmocka_run_group_tests_name("status", tests, setup_group, teardown_group);
}
