/*
 * The transfer engine seen through the job API (issue 3; spec 5.1-5.3, 5.5):
 * real downloads from the loopback test server (tests/server), with the
 * states, progress, errors and files on disk a client sees.
 */
#include "com_test.h"

static IBackgroundCopyManager *manager;

static int setup_group(void **state) { return dosvc_setup_manager(&manager); }
static int teardown_group(void **state) { return dosvc_teardown_manager(&manager); }

/* A job for one file from the server, with short retry delays. */
static IBackgroundCopyJob *job_for(const WCHAR *url, const WCHAR *local)
{
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"transfer test", NULL);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, url, local));
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 1));
    return job;
}

static void assert_file_is(const WCHAR *local, const WCHAR *server_path)
{
    char expected[65], actual[65];
    assert_true(dosvc_server_hash(server_path, expected));
    assert_true(dosvc_file_sha256(local, actual));
    assert_string_equal(actual, expected);
}

/* Counts the files of the test folder that start with ".dosvc-": dosvc's temporary files. */
static unsigned temp_files_left(void)
{
    WIN32_FIND_DATAW data;
    WCHAR pattern[MAX_PATH];
    unsigned count = 0;
    HANDLE find;

    wsprintfW(pattern, L"%s\\.dosvc-*", dosvc_test_dir());
    if ((find = FindFirstFileW(pattern, &data)) == INVALID_HANDLE_VALUE) return 0;
    do count++; while (FindNextFileW(find, &data));
    FindClose(find);
    return count;
}

static void test_resume_downloads_the_file_and_complete_puts_it_in_place(void **state)
{
    const WCHAR *local = dosvc_test_path(L"whole.bin");
    IBackgroundCopyJob *job = job_for(dosvc_server_url(FALSE, L"/gen/3m?seed=1"), local);
    BG_JOB_PROGRESS progress;

    DeleteFileW(local);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_int_equal(dosvc_wait_for_state(job, DOSVC_STATE(BG_JOB_STATE_TRANSFERRED) | DOSVC_STATE(BG_JOB_STATE_ERROR), 30000),
                     BG_JOB_STATE_TRANSFERRED);
    /* spec 5.2: nothing under the final name before Complete */
    assert_int_equal(GetFileAttributesW(local), INVALID_FILE_ATTRIBUTES);
    assert_hr(S_OK, IBackgroundCopyJob_GetProgress(job, &progress));
    assert_true(progress.BytesTotal == 3 << 20 && progress.BytesTransferred == 3 << 20);
    assert_int_equal(progress.FilesTransferred, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_file_is(local, L"/gen/3m?seed=1");
    assert_int_equal(temp_files_left(), 0);
    IBackgroundCopyJob_Release(job);
    DeleteFileW(local);
}

static void test_http_404_puts_the_job_in_error_with_the_http_code(void **state)
{
    const WCHAR *local = dosvc_test_path(L"missing.bin");
    IBackgroundCopyJob *job = job_for(dosvc_server_url(FALSE, L"/gen/1k?fault=404"), local);
    IBackgroundCopyError *error;
    BG_ERROR_CONTEXT context;
    HRESULT code;

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_int_equal(dosvc_wait_for_state(job, DOSVC_STATE(BG_JOB_STATE_ERROR) | DOSVC_STATE(BG_JOB_STATE_TRANSFERRED), 30000),
                     BG_JOB_STATE_ERROR);
    assert_hr(S_OK, IBackgroundCopyJob_GetError(job, &error));
    assert_hr(S_OK, IBackgroundCopyError_GetError(error, &context, &code));
    assert_hr(0x80190194, code);
    assert_int_equal(context, BG_ERROR_CONTEXT_REMOTE_FILE);
    IBackgroundCopyError_Release(error);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_int_equal(temp_files_left(), 0);
    assert_int_equal(GetFileAttributesW(local), INVALID_FILE_ATTRIBUTES);
    IBackgroundCopyJob_Release(job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_downloads_the_file_and_complete_puts_it_in_place),
        cmocka_unit_test(test_http_404_puts_the_job_in_error_with_the_http_code),
    };
    return cmocka_run_group_tests_name("transfer", tests, setup_group, teardown_group);
}
