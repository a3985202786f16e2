/*
 * The error object (IBackgroundCopyError, spec 3.10, 5.4), Complete after a
 * transfer (spec 5.2, 5.3) and what a file says once its bytes have arrived
 * (File3 validation, File4 peer stats, DO stats), white box: the test links
 * the COM layer and,
 * standing in for the transfer engine, writes errors and progress into the
 * store with dos_job_report_error() and dos_file_record_progress(), under a
 * run it starts with dos_job_start_run() once Resume has queued the job, and
 * makes the temporary files Complete moves into place. The store is the one
 * the class factory started (server_store()); the real engine is unplugged
 * from it, so that the job waits in QUEUED for the test's run.
 */
#include "com_test.h"

#include <bitsmsg.h>
#include <stdlib.h>
#include <wininet.h>

#include "com_private.h"
#include "deliveryoptimizationerrors.h"
#include "store.h"

#define URL0 L"http://example.com/first.bin"
#define URL1 L"http://example.com/second.bin"
#define ENGLISH MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US)

static IBackgroundCopyManager *manager;
static IBackgroundCopyJob *job;       /* with two files, URL0 and URL1, made by job_setup */
static struct dos_job *record;         /* the store's record of job */
static dos_run run;                    /* the engine's run, from resume_and_run() */

/* ---- helpers --------------------------------------------------------------- */

/* The store's file at index of the current job (the job keeps it alive). */
static struct dos_file *store_file(size_t index)
{
    struct dos_file **files, *file;
    size_t count = 0;

    assert_int_equal(dos_job_list_files(record, &files, &count), DOS_OK);
    assert_true(index < count);
    file = files[index];
    free(files);
    return file;
}

static void assert_job_state(BG_JOB_STATE expected)
{
    BG_JOB_STATE state;
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &state));
    assert_int_equal(state, expected);
}

/* The client resumes the job; the engine takes it up with a run. */
static void resume_and_run(void)
{
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_job_state(BG_JOB_STATE_QUEUED);
    assert_int_equal(dos_job_start_run(record, &run), DOS_OK);
    assert_job_state(BG_JOB_STATE_TRANSFERRING);
}

/* What the engine does when a transfer fails. */
static void report_error(BOOL transient, HRESULT code, BG_ERROR_CONTEXT context, struct dos_file *file,
                         const WCHAR *protocol)
{
    assert_int_equal(dos_job_report_error(record, run, transient != FALSE, code, (dos_error_context)context, file,
                                          dchars(protocol)), DOS_OK);
}

/* What the engine does as a file moves: it makes the temporary file and writes bytes of its size into it. */
static void write_file(size_t index, UINT64 size, UINT64 bytes)
{
    struct dos_file *file = store_file(index);
    dos_char *temp = NULL;
    LARGE_INTEGER end;
    HANDLE handle;

    assert_int_equal(dos_file_copy_text(file, DOS_FILE_TEMP_NAME, malloc, &temp), DOS_OK);
    handle = CreateFileW((const WCHAR *)temp, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_HIDDEN, NULL);
    free(temp);
    assert_true(handle != INVALID_HANDLE_VALUE);
    assert_int_equal(dos_file_mark_temp_created(file, run), DOS_OK);
    end.QuadPart = (LONGLONG)bytes;
    assert_true(SetFilePointerEx(handle, end, NULL, FILE_BEGIN) && SetEndOfFile(handle));
    CloseHandle(handle);
    assert_int_equal(dos_file_record_progress(file, run, size, bytes), DOS_OK);
}

/* What the engine does when a file has moved: all size bytes on disk. */
static void transfer_file(size_t index, UINT64 size)
{
    write_file(index, size, size);
}

static IBackgroundCopyError *get_error(void)
{
    IBackgroundCopyError *error = NULL;
    assert_hr(S_OK, IBackgroundCopyJob_GetError(job, &error));
    assert_non_null(error);
    return error;
}

/* The job in ERROR (or TRANSIENT_ERROR): HTTP 404 on its first file, over http. */
static IBackgroundCopyError *fail_with_404(BOOL transient)
{
    resume_and_run();
    report_error(transient, BG_E_HTTP_ERROR_404, BG_ERROR_CONTEXT_REMOTE_FILE, store_file(0), L"http");
    return get_error();
}

static void assert_error_is(IBackgroundCopyError *error, BG_ERROR_CONTEXT context, HRESULT code)
{
    BG_ERROR_CONTEXT got_context = 0xdead;
    HRESULT got_code = S_OK;

    assert_hr(S_OK, IBackgroundCopyError_GetError(error, &got_context, &got_code));
    assert_int_equal(got_context, context);
    assert_hr(code, got_code);
}

static void assert_file_remote_name(IBackgroundCopyFile *file, const WCHAR *expected)
{
    WCHAR *name = NULL;
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(file, &name));
    assert_owned_wstr_equal(expected, name);
}

static void assert_file_progress(IBackgroundCopyFile *file, UINT64 total, UINT64 transferred, BOOL completed)
{
    BG_FILE_PROGRESS progress;

    assert_hr(S_OK, IBackgroundCopyFile_GetProgress(file, &progress));
    assert_true(progress.BytesTotal == total);
    assert_true(progress.BytesTransferred == transferred);
    assert_int_equal(progress.Completed, completed);
}

/* The index-th file of the job through EnumFiles, as a client sees it. */
static IBackgroundCopyFile *enumerated_file(ULONG index)
{
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file = NULL;

    assert_hr(S_OK, IBackgroundCopyJob_EnumFiles(job, &files));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, index));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    IEnumBackgroundCopyFiles_Release(files);
    return file;
}

/* ---- fixtures ---------------------------------------------------------------- */

static int group_setup(void **state)
{
    /* Through the class factory, as a client: it starts the store server_store() returns. */
    if (dosvc_setup_manager(&manager)) return -1;
    /* This test is the engine: the real one must not take the jobs it resumes. */
    dos_store_set_listener(server_store(), NULL, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    return dosvc_teardown_manager(&manager);
}

static int job_setup(void **state)
{
    GUID id;

    if (FAILED(IBackgroundCopyManager_CreateJob(manager, L"error tests", BG_JOB_TYPE_DOWNLOAD, &id, &job))) return -1;
    if (FAILED(IBackgroundCopyJob_AddFile(job, URL0, dosvc_test_path(L"first.bin")))) return -1;
    if (FAILED(IBackgroundCopyJob_AddFile(job, URL1, dosvc_test_path(L"second.bin")))) return -1;
    return dos_store_find_job(server_store(), (const dos_guid *)&id, &record) == DOS_OK ? 0 : -1;
}

static int job_teardown(void **state)
{
    if (job)
    {
        IBackgroundCopyJob_Cancel(job);    /* may be final already */
        IBackgroundCopyJob_Release(job);
        job = NULL;
    }
    dos_job_release(record);
    record = NULL;
    run = 0;
    return 0;
}

/* ---- GetError on the job ------------------------------------------------------- */

static void test_get_error_without_an_error_is_error_information_unavailable(void **state)
{
    IBackgroundCopyError *error = (IBackgroundCopyError *)0xdeadbeef;

    assert_hr(DO_E_ERROR_INFORMATION_UNAVAILABLE, IBackgroundCopyJob_GetError(job, &error));
    assert_null(error);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    error = (IBackgroundCopyError *)0xdeadbeef;
    assert_hr(DO_E_ERROR_INFORMATION_UNAVAILABLE, IBackgroundCopyJob_GetError(job, &error));
    assert_null(error);
}

static void test_job_with_a_fatal_error_is_in_error_state(void **state)
{
    IBackgroundCopyError *error = fail_with_404(FALSE);
    assert_job_state(BG_JOB_STATE_ERROR);
    IBackgroundCopyError_Release(error);
}

static void test_job_with_a_transient_error_is_in_transient_error_state(void **state)
{
    IBackgroundCopyError *error = fail_with_404(TRUE);
    assert_job_state(BG_JOB_STATE_TRANSIENT_ERROR);
    IBackgroundCopyError_Release(error);
}

static void test_get_error_with_null_out_is_invalidarg(void **state)
{
    IBackgroundCopyError *error = fail_with_404(FALSE);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetError(job, NULL));
    IBackgroundCopyError_Release(error);
}

/* ---- IBackgroundCopyError (spec 3.10) -------------------------------------------- */

static void test_error_gives_the_context_and_code_of_a_fatal_error(void **state)
{
    IBackgroundCopyError *error = fail_with_404(FALSE);
    assert_error_is(error, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_404);
    IBackgroundCopyError_Release(error);
}

static void test_error_gives_the_context_and_code_of_a_transient_error(void **state)
{
    IBackgroundCopyError *error = fail_with_404(TRUE);
    assert_error_is(error, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_404);
    IBackgroundCopyError_Release(error);
}

static void test_error_get_file_returns_the_file_in_error(void **state)
{
    IBackgroundCopyError *error;
    IBackgroundCopyFile *file = NULL;

    resume_and_run();
    report_error(FALSE, BG_E_HTTP_ERROR_404, BG_ERROR_CONTEXT_REMOTE_FILE, store_file(1), L"http");
    error = get_error();
    assert_hr(S_OK, IBackgroundCopyError_GetFile(error, &file));
    assert_non_null(file);
    assert_file_remote_name(file, URL1);
    assert_int_equal(dosvc_refcount(file), 1);     /* a new object the caller releases */
    assert_int_equal(IBackgroundCopyFile_Release(file), 0);
    IBackgroundCopyError_Release(error);
}

/* spec 3.10: DO_E_FILE_NOT_AVAILABLE with *pVal = NULL when no file is concerned */
static void test_error_get_file_without_a_file_is_file_not_available_with_null(void **state)
{
    IBackgroundCopyFile *file = (IBackgroundCopyFile *)0xdeadbeef;
    IBackgroundCopyError *error;

    resume_and_run();
    report_error(FALSE, DO_E_DOWNLOAD_NO_PROGRESS, BG_ERROR_CONTEXT_NONE, NULL, NULL);
    error = get_error();
    assert_error_is(error, BG_ERROR_CONTEXT_NONE, DO_E_DOWNLOAD_NO_PROGRESS);
    assert_hr(DO_E_FILE_NOT_AVAILABLE, IBackgroundCopyError_GetFile(error, &file));
    assert_null(file);
    IBackgroundCopyError_Release(error);
}

static void test_error_description_of_an_http_error_names_the_status(void **state)
{
    IBackgroundCopyError *error = fail_with_404(FALSE);
    WCHAR *text = NULL;

    assert_hr(S_OK, IBackgroundCopyError_GetErrorDescription(error, ENGLISH, &text));
    assert_owned_wstr_equal(L"The server returned HTTP status 404.", text);
    IBackgroundCopyError_Release(error);
}

/* The error object and the manager describe a code with the same words. */
static void test_error_description_is_the_managers_description_of_the_code(void **state)
{
    IBackgroundCopyError *error;
    WCHAR *ours = NULL, *managers = NULL;

    resume_and_run();
    report_error(FALSE, DO_E_HTTP_BLOCKSIZE_MISMATCH, BG_ERROR_CONTEXT_REMOTE_FILE, store_file(0), L"https");
    error = get_error();
    assert_hr(S_OK, IBackgroundCopyError_GetErrorDescription(error, ENGLISH, &ours));
    assert_hr(S_OK, IBackgroundCopyManager_GetErrorDescription(manager, DO_E_HTTP_BLOCKSIZE_MISMATCH, ENGLISH, &managers));
    assert_true(ours[0] != 0);
    assert_wstr_equal(managers, ours);
    CoTaskMemFree(managers);
    CoTaskMemFree(ours);
    IBackgroundCopyError_Release(error);
}

/* notes/com_decisions.md (GetErrorDescription): a code nobody describes has no text. */
static void test_error_description_of_an_unknown_code_is_mr_mid_not_found(void **state)
{
    const HRESULT unknown = (HRESULT)0x8DEA0001;
    WCHAR *text = (WCHAR *)0xdeadbeef;
    IBackgroundCopyError *error;

    resume_and_run();
    report_error(FALSE, unknown, BG_ERROR_CONTEXT_UNKNOWN, NULL, NULL);
    error = get_error();
    assert_hr(HRESULT_FROM_WIN32(ERROR_MR_MID_NOT_FOUND), IBackgroundCopyError_GetErrorDescription(error, ENGLISH, &text));
    assert_null(text);
    IBackgroundCopyError_Release(error);
}

static void test_error_context_description_describes_the_context(void **state)
{
    IBackgroundCopyError *error = fail_with_404(FALSE);
    WCHAR *text = NULL;

    assert_hr(S_OK, IBackgroundCopyError_GetErrorContextDescription(error, ENGLISH, &text));
    assert_non_null(text);
    assert_non_null(wcsstr(text, L"remote file"));
    CoTaskMemFree(text);
    IBackgroundCopyError_Release(error);
}

static void test_error_protocol_is_the_one_reported(void **state)
{
    IBackgroundCopyError *error = fail_with_404(FALSE);
    WCHAR *protocol = NULL;

    assert_hr(S_OK, IBackgroundCopyError_GetProtocol(error, &protocol));
    assert_owned_wstr_equal(L"http", protocol);
    IBackgroundCopyError_Release(error);
}

/* Classic contract: BG_E_PROTOCOL_NOT_AVAILABLE when the error involved no protocol. */
static void test_error_protocol_without_one_is_protocol_not_available(void **state)
{
    WCHAR *protocol = (WCHAR *)0xdeadbeef;
    IBackgroundCopyError *error;

    resume_and_run();
    report_error(FALSE, HRESULT_FROM_WIN32(ERROR_DISK_FULL), BG_ERROR_CONTEXT_LOCAL_FILE, store_file(0), NULL);
    error = get_error();
    assert_hr(BG_E_PROTOCOL_NOT_AVAILABLE, IBackgroundCopyError_GetProtocol(error, &protocol));
    assert_null(protocol);
    IBackgroundCopyError_Release(error);
}

static void test_error_methods_with_null_outs_fail_with_invalidarg(void **state)
{
    IBackgroundCopyError *error = fail_with_404(FALSE);
    BG_ERROR_CONTEXT context;
    HRESULT code;

    assert_hr(E_INVALIDARG, IBackgroundCopyError_GetError(error, NULL, &code));
    assert_hr(E_INVALIDARG, IBackgroundCopyError_GetError(error, &context, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyError_GetFile(error, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyError_GetErrorDescription(error, ENGLISH, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyError_GetErrorContextDescription(error, ENGLISH, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyError_GetProtocol(error, NULL));
    IBackgroundCopyError_Release(error);
}

static void test_error_answers_its_own_iid_and_iunknown_only(void **state)
{
    static const IID *const others[] = { &IID_IBackgroundCopyJob, &IID_IBackgroundCopyFile, &IID_IDispatch };
    IBackgroundCopyError *error = fail_with_404(FALSE);
    void *out = NULL;
    size_t i;

    assert_hr(S_OK, IBackgroundCopyError_QueryInterface(error, &IID_IUnknown, &out));
    assert_ptr_equal(out, error);
    IUnknown_Release((IUnknown *)out);
    assert_hr(S_OK, IBackgroundCopyError_QueryInterface(error, &IID_IBackgroundCopyError, &out));
    assert_ptr_equal(out, error);
    IUnknown_Release((IUnknown *)out);
    for (i = 0; i < ARRAYSIZE(others); i++)
    {
        out = (void *)0xdeadbeef;
        assert_hr(E_NOINTERFACE, IBackgroundCopyError_QueryInterface(error, others[i], &out));
        assert_null(out);
    }
    assert_hr(E_POINTER, IBackgroundCopyError_QueryInterface(error, &IID_IUnknown, NULL));
    assert_int_equal(IBackgroundCopyError_Release(error), 0);
}

static void test_error_count_counts_every_report(void **state)
{
    ULONG count = 99;

    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &count));
    assert_int_equal(count, 0);
    resume_and_run();
    report_error(TRUE, BG_E_HTTP_ERROR_500, BG_ERROR_CONTEXT_REMOTE_FILE, store_file(0), L"http");
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &count));
    assert_int_equal(count, 1);
    report_error(FALSE, BG_E_HTTP_ERROR_404, BG_ERROR_CONTEXT_REMOTE_FILE, store_file(1), L"http");
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &count));
    assert_int_equal(count, 2);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));       /* leaving the error keeps the count */
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &count));
    assert_int_equal(count, 2);
}

/* spec 3.10: the error is available until the job moves on; an object already obtained
 * is a copy and keeps answering. */
static void test_resume_clears_the_error_but_an_obtained_error_object_keeps_answering(void **state)
{
    IBackgroundCopyError *error = fail_with_404(FALSE), *none = (IBackgroundCopyError *)0xdeadbeef;
    IBackgroundCopyFile *file = NULL;
    WCHAR *protocol = NULL;

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_job_state(BG_JOB_STATE_QUEUED);
    assert_hr(DO_E_ERROR_INFORMATION_UNAVAILABLE, IBackgroundCopyJob_GetError(job, &none));
    assert_null(none);

    assert_error_is(error, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_404);
    assert_hr(S_OK, IBackgroundCopyError_GetFile(error, &file));
    assert_file_remote_name(file, URL0);
    IBackgroundCopyFile_Release(file);
    assert_hr(S_OK, IBackgroundCopyError_GetProtocol(error, &protocol));
    assert_owned_wstr_equal(L"http", protocol);
    IBackgroundCopyError_Release(error);
}

static void test_resume_from_a_transient_error_clears_the_error(void **state)
{
    IBackgroundCopyError *error = fail_with_404(TRUE), *none = (IBackgroundCopyError *)0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_job_state(BG_JOB_STATE_QUEUED);
    assert_hr(DO_E_ERROR_INFORMATION_UNAVAILABLE, IBackgroundCopyJob_GetError(job, &none));
    assert_null(none);
    assert_error_is(error, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_404);
    IBackgroundCopyError_Release(error);
}

static void test_a_new_report_does_not_change_an_obtained_error_object(void **state)
{
    IBackgroundCopyError *first = fail_with_404(TRUE), *second;

    report_error(FALSE, BG_E_HTTP_ERROR_403, BG_ERROR_CONTEXT_REMOTE_FILE, store_file(1), L"https");
    second = get_error();
    assert_error_is(second, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_403);
    assert_error_is(first, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_404);
    IBackgroundCopyError_Release(second);
    IBackgroundCopyError_Release(first);
}

static void test_error_object_outlives_the_job_object(void **state)
{
    IBackgroundCopyError *error = fail_with_404(FALSE);
    IBackgroundCopyFile *file = NULL;

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    IBackgroundCopyJob_Release(job);
    job = NULL;

    assert_error_is(error, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_404);
    assert_hr(S_OK, IBackgroundCopyError_GetFile(error, &file));
    assert_file_remote_name(file, URL0);
    IBackgroundCopyFile_Release(file);
    IBackgroundCopyError_Release(error);
}

/* ---- Complete after a transfer (spec 5.2, 5.3; clients.md 2.4) --------------------- */

/* spec 5.2: Completed is TRUE only once the file is available, i.e. after Complete */
static void test_transferred_file_is_not_completed_before_complete(void **state)
{
    IBackgroundCopyFile *file;

    resume_and_run();
    transfer_file(0, 1000);
    file = enumerated_file(0);
    assert_file_progress(file, 1000, 1000, FALSE);
    IBackgroundCopyFile_Release(file);
}

static void test_complete_after_every_file_transferred_is_s_ok_and_acknowledged(void **state)
{
    resume_and_run();
    transfer_file(0, 1000);
    transfer_file(1, 24);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_job_state(BG_JOB_STATE_ACKNOWLEDGED);
}

/* Chromium CHECKs Completed and BytesTotal == BytesTransferred after Complete. */
static void test_files_of_a_completed_job_are_completed_with_every_byte(void **state)
{
    IBackgroundCopyFile *file;

    resume_and_run();
    transfer_file(0, 1000);
    transfer_file(1, 24);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));

    file = enumerated_file(0);
    assert_file_remote_name(file, URL0);
    assert_file_progress(file, 1000, 1000, TRUE);
    IBackgroundCopyFile_Release(file);
    file = enumerated_file(1);
    assert_file_remote_name(file, URL1);
    assert_file_progress(file, 24, 24, TRUE);
    IBackgroundCopyFile_Release(file);
}

static void test_progress_of_a_completed_job_counts_every_file_and_byte(void **state)
{
    BG_JOB_PROGRESS progress;

    resume_and_run();
    transfer_file(0, 1000);
    transfer_file(1, 24);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetProgress(job, &progress));
    assert_int_equal(progress.FilesTotal, 2);
    assert_int_equal(progress.FilesTransferred, 2);
    assert_true(progress.BytesTotal == 1024);
    assert_true(progress.BytesTransferred == 1024);
}

/* spec 5.3: only files fully transferred before the call are kept */
static void test_complete_with_a_file_not_transferred_is_partial_and_keeps_only_the_transferred(void **state)
{
    IBackgroundCopyFile *file;

    resume_and_run();
    transfer_file(0, 1000);
    write_file(1, 5000, 300);
    assert_hr(BG_S_PARTIAL_COMPLETE, IBackgroundCopyJob_Complete(job));
    assert_job_state(BG_JOB_STATE_ACKNOWLEDGED);

    file = enumerated_file(0);
    assert_file_progress(file, 1000, 1000, TRUE);
    IBackgroundCopyFile_Release(file);
    file = enumerated_file(1);
    assert_file_progress(file, 5000, 300, FALSE);
    IBackgroundCopyFile_Release(file);
}

/* spec 5.4: after an error the application may Complete, keeping what arrived */
static void test_complete_in_error_keeps_the_files_transferred_before_it(void **state)
{
    IBackgroundCopyError *error;
    IBackgroundCopyFile *file;

    resume_and_run();
    transfer_file(0, 1000);
    report_error(FALSE, BG_E_HTTP_ERROR_404, BG_ERROR_CONTEXT_REMOTE_FILE, store_file(1), L"http");
    error = get_error();
    assert_hr(BG_S_PARTIAL_COMPLETE, IBackgroundCopyJob_Complete(job));
    assert_job_state(BG_JOB_STATE_ACKNOWLEDGED);
    file = enumerated_file(0);
    assert_file_progress(file, 1000, 1000, TRUE);
    IBackgroundCopyFile_Release(file);
    file = enumerated_file(1);
    assert_file_progress(file, BG_SIZE_UNKNOWN, 0, FALSE);
    IBackgroundCopyFile_Release(file);
    assert_error_is(error, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_404);
    IBackgroundCopyError_Release(error);
}

/* ---- a file after its transfer (spec 3.7, 3.14) ------------------------------------- */

/* Both files on disk and the job TRANSFERRED, as the engine leaves it; the first file as File5. */
static IBackgroundCopyFile5 *transferred_job(void)
{
    IBackgroundCopyFile *file;
    IBackgroundCopyFile5 *file5 = NULL;

    resume_and_run();
    transfer_file(0, 1000);
    transfer_file(1, 24);
    assert_int_equal(dos_job_finish_run(record, run), DOS_OK);
    assert_job_state(BG_JOB_STATE_TRANSFERRED);
    file = enumerated_file(0);
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile5, (void **)&file5));
    IBackgroundCopyFile_Release(file);
    return file5;
}

static void test_set_validation_state_true_after_transfer_is_kept(void **state)
{
    IBackgroundCopyFile5 *file = transferred_job();
    BOOL valid = FALSE;

    assert_hr(S_OK, IBackgroundCopyFile5_SetValidationState(file, TRUE));
    assert_hr(S_OK, IBackgroundCopyFile5_GetValidationState(file, &valid));
    assert_int_equal(valid, TRUE);
    assert_job_state(BG_JOB_STATE_TRANSFERRED);
    IBackgroundCopyFile5_Release(file);
}

/* Classic File3: content found invalid is downloaded again. */
static void test_set_validation_state_false_after_transfer_downloads_the_file_again(void **state)
{
    IBackgroundCopyFile5 *file = transferred_job();
    BG_FILE_PROGRESS progress;
    BOOL valid = TRUE;

    assert_hr(S_OK, IBackgroundCopyFile5_SetValidationState(file, FALSE));
    assert_hr(S_OK, IBackgroundCopyFile5_GetValidationState(file, &valid));
    assert_int_equal(valid, FALSE);
    assert_hr(S_OK, IBackgroundCopyFile5_GetProgress(file, &progress));
    assert_true(progress.BytesTransferred == 0);
    assert_int_equal(progress.Completed, FALSE);
    assert_job_state(BG_JOB_STATE_QUEUED);
    IBackgroundCopyFile5_Release(file);
}

static void test_peer_download_stats_count_every_byte_from_the_origin(void **state)
{
    IBackgroundCopyFile5 *file = transferred_job();
    UINT64 origin = 0, peers = 1;

    assert_hr(S_OK, IBackgroundCopyFile5_GetPeerDownloadStats(file, &origin, &peers));
    assert_true(origin == 1000);
    assert_true(peers == 0);
    IBackgroundCopyFile5_Release(file);
}

static void test_stats_after_transfer_count_the_bytes_from_http_and_are_complete(void **state)
{
    IBackgroundCopyFile5 *file = transferred_job();
    IDeliveryOptimizationFile *dofile = NULL;
    DOSwarmStats stats;

    assert_hr(S_OK, IBackgroundCopyFile5_QueryInterface(file, &IID_IDeliveryOptimizationFile, (void **)&dofile));
    assert_hr(S_OK, IDeliveryOptimizationFile_GetStats(dofile, &stats));
    assert_true(stats.fileSize == 1000);
    assert_true(stats.totalBytesDownloaded == 1000);
    assert_true(stats.bytesFromHttp == 1000);
    assert_int_equal(stats.status, SwarmStatus_Complete);
    CoTaskMemFree(stats.fileId);
    CoTaskMemFree(stats.sourceURL);
    IDeliveryOptimizationFile_Release(dofile);
    IBackgroundCopyFile5_Release(file);
}

/* Issue 9 defect 7: a WinINet code is described from WinINet's message table, in the words the
 * manager uses for it. */
static void assert_described_from_wininet(HRESULT code, const WCHAR *part)
{
    IBackgroundCopyError *error;
    WCHAR *ours = NULL, *managers = NULL;

    resume_and_run();
    report_error(TRUE, code, BG_ERROR_CONTEXT_REMOTE_FILE, store_file(0), L"http");
    error = get_error();
    assert_hr(S_OK, IBackgroundCopyError_GetErrorDescription(error, ENGLISH, &ours));
    if (!wcsstr(ours, part)) fail_msg("description of 0x%08lx is \"%s\"", (unsigned long)code, dosvc_utf8(ours));
    assert_hr(S_OK, IBackgroundCopyManager_GetErrorDescription(manager, code, ENGLISH, &managers));
    assert_wstr_equal(managers, ours);
    CoTaskMemFree(managers);
    CoTaskMemFree(ours);
    IBackgroundCopyError_Release(error);
}

static void test_error_description_of_a_name_not_resolved_comes_from_wininet(void **state)
{
    assert_described_from_wininet(HRESULT_FROM_WIN32(ERROR_INTERNET_NAME_NOT_RESOLVED), L"resolved");   /* 0x80072EE7 */
}

static void test_error_description_of_a_server_not_reached_comes_from_wininet(void **state)
{
    assert_described_from_wininet(HRESULT_FROM_WIN32(ERROR_INTERNET_CANNOT_CONNECT), L"server");        /* 0x80072EFD */
}

/* The order WinINet's and WinHTTP's message tables are asked in (errors.c). Wine's winhttp.dll has
 * no message table, so WinHTTP's texts cannot be read here: the order itself is the test. */
static void assert_owners(DWORD code, size_t count, const WCHAR *first, const WCHAR *second)
{
    const WCHAR *owners[2] = { NULL, NULL };

    if (message_owners(code, owners) != count || (count && lstrcmpW(owners[0], first))
        || (count > 1 && lstrcmpW(owners[1], second)))
        fail_msg("code %lu: the tables asked are not the expected %u", (unsigned long)code, (unsigned)count);
}

/* 12175 (0x80072F8F) is WinHTTP's ERROR_WINHTTP_SECURE_FAILURE, one of the commonest DO errors,
 * but WinINet's ERROR_INTERNET_DECODING_FAILED, which dosvc never causes: only WinHTTP's table
 * speaks for it, and for the WinHTTP codes after it, which WinINet does not define. */
static void test_secure_failure_and_later_codes_are_described_by_winhttp_alone(void **state)
{
    assert_owners(12175, 1, L"winhttp.dll", NULL);
    assert_owners(12179, 1, L"winhttp.dll", NULL);   /* ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE */
    assert_owners(12999, 1, L"winhttp.dll", NULL);
}

/* Below 12175 the codes dosvc reports are WinINet's (engine/http.h), and WinHTTP's of the same
 * number mean the same: WinINet's table first. */
static void test_wininet_codes_are_described_by_wininet_first(void **state)
{
    assert_owners(ERROR_INTERNET_NAME_NOT_RESOLVED, 2, L"wininet.dll", L"winhttp.dll");
    assert_owners(ERROR_INTERNET_SEC_CERT_REVOKED, 2, L"wininet.dll", L"winhttp.dll");
    assert_owners(12174, 2, L"wininet.dll", L"winhttp.dll");
    assert_owners(11999, 0, NULL, NULL);
    assert_owners(13000, 0, NULL, NULL);
}

#define JOB_TEST(f) cmocka_unit_test_setup_teardown(f, job_setup, job_teardown)

int main(void)
{
    const struct CMUnitTest get_error[] = {
        JOB_TEST(test_get_error_without_an_error_is_error_information_unavailable),
        JOB_TEST(test_job_with_a_fatal_error_is_in_error_state),
        JOB_TEST(test_job_with_a_transient_error_is_in_transient_error_state),
        JOB_TEST(test_get_error_with_null_out_is_invalidarg),
    };
    const struct CMUnitTest error[] = {
        JOB_TEST(test_error_gives_the_context_and_code_of_a_fatal_error),
        JOB_TEST(test_error_gives_the_context_and_code_of_a_transient_error),
        JOB_TEST(test_error_get_file_returns_the_file_in_error),
        JOB_TEST(test_error_get_file_without_a_file_is_file_not_available_with_null),
        JOB_TEST(test_error_description_of_an_http_error_names_the_status),
        JOB_TEST(test_error_description_is_the_managers_description_of_the_code),
        JOB_TEST(test_error_description_of_an_unknown_code_is_mr_mid_not_found),
        JOB_TEST(test_error_context_description_describes_the_context),
        JOB_TEST(test_error_protocol_is_the_one_reported),
        JOB_TEST(test_error_protocol_without_one_is_protocol_not_available),
        JOB_TEST(test_error_methods_with_null_outs_fail_with_invalidarg),
        JOB_TEST(test_error_answers_its_own_iid_and_iunknown_only),
        JOB_TEST(test_error_count_counts_every_report),
        JOB_TEST(test_resume_clears_the_error_but_an_obtained_error_object_keeps_answering),
        JOB_TEST(test_resume_from_a_transient_error_clears_the_error),
        JOB_TEST(test_a_new_report_does_not_change_an_obtained_error_object),
        JOB_TEST(test_error_object_outlives_the_job_object),
        JOB_TEST(test_error_description_of_a_name_not_resolved_comes_from_wininet),
        JOB_TEST(test_error_description_of_a_server_not_reached_comes_from_wininet),
        cmocka_unit_test(test_secure_failure_and_later_codes_are_described_by_winhttp_alone),
        cmocka_unit_test(test_wininet_codes_are_described_by_wininet_first),
    };
    const struct CMUnitTest complete[] = {
        JOB_TEST(test_transferred_file_is_not_completed_before_complete),
        JOB_TEST(test_complete_after_every_file_transferred_is_s_ok_and_acknowledged),
        JOB_TEST(test_files_of_a_completed_job_are_completed_with_every_byte),
        JOB_TEST(test_progress_of_a_completed_job_counts_every_file_and_byte),
        JOB_TEST(test_complete_with_a_file_not_transferred_is_partial_and_keeps_only_the_transferred),
        JOB_TEST(test_complete_in_error_keeps_the_files_transferred_before_it),
    };
    const struct CMUnitTest transferred_file[] = {
        JOB_TEST(test_set_validation_state_true_after_transfer_is_kept),
        JOB_TEST(test_set_validation_state_false_after_transfer_downloads_the_file_again),
        JOB_TEST(test_peer_download_stats_count_every_byte_from_the_origin),
        JOB_TEST(test_stats_after_transfer_count_the_bytes_from_http_and_are_complete),
    };
    int failed = 0;

    failed += cmocka_run_group_tests_name("IBackgroundCopyJob::GetError", get_error, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("IBackgroundCopyError", error, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("Complete after transfer", complete, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("a file after its transfer", transferred_file, group_setup, group_teardown);
    return failed;
}
