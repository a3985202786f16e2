/*
 * Ranged downloads and remote-name changes through the job API, against the
 * loopback test server (tests/server) and local sources. Two groups:
 * "ranges" is IDeliveryOptimizationJob::AddFileWithRanges with real ranges
 * (spec 3.12, 5.5, 5.7): what the local file holds (docs/engine.md, "Files on
 * disk": the ranges one after another in the order given), the progress that
 * counts only the requested bytes, ranges to the end of the file, a ranged
 * file resumed after a cut or a Suspend, and ranges of local, file:// and UNC
 * sources (spec 5.9). "remote_name" is IBackgroundCopyFile2::SetRemoteName
 * (spec 5.8): transferred files stay as they are, a change while TRANSFERRING,
 * and a new name serving other bytes of the same size.
 *
 * Each test finds its requests in the server's log by a mark in their URLs,
 * and keys its times= counts by the same mark. The teardown cancels what a
 * failed test left and empties the test folder.
 */
#include "com_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wininet.h>

#define STATE(s) DOSVC_STATE(BG_JOB_STATE_##s)
#define SETTLED (STATE(TRANSFERRED) | STATE(ERROR) | STATE(CANCELLED) | STATE(ACKNOWLEDGED))

static IBackgroundCopyManager *manager;

static int setup_group(void **state) { return dosvc_setup_manager(&manager); }
static int teardown_group(void **state) { return dosvc_teardown_manager(&manager); }

/* ---- helpers: jobs ------------------------------------------------------------ */

/* A job with one file added through IDeliveryOptimizationJob::AddFileWithRanges, short retry delays. */
static IBackgroundCopyJob *do_ranged_job(const WCHAR *remote, const WCHAR *local, DWORD count, BG_FILE_RANGE *ranges,
                                         UINT64 size)
{
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"ranges test", NULL);
    IDeliveryOptimizationJob *dojob = dosvc_query(job, &IID_IDeliveryOptimizationJob);

    assert_hr(S_OK, IDeliveryOptimizationJob_AddFileWithRanges(dojob, L"ranged", remote, local, count, ranges, size));
    IDeliveryOptimizationJob_Release(dojob);
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 1));
    return job;
}

/* The job's and its only file's BytesTotal and BytesTransferred are total and transferred. */
static void assert_progress(IBackgroundCopyJob *job, UINT64 total, UINT64 transferred)
{
    BG_JOB_PROGRESS progress = dosvc_progress_of(job);
    BG_FILE_PROGRESS file = dosvc_file_progress_at(job, 0);

    if (progress.BytesTotal != total || progress.BytesTransferred != transferred
        || file.BytesTotal != total || file.BytesTransferred != transferred)
        fail_msg("progress job %llu/%llu file %llu/%llu, expected %llu/%llu", progress.BytesTransferred,
                 progress.BytesTotal, file.BytesTransferred, file.BytesTotal, transferred, total);
}

static HRESULT set_remote_name(IBackgroundCopyJob *job, ULONG index, const WCHAR *remote)
{
    IBackgroundCopyFile *file = dosvc_file_at(job, index);
    IBackgroundCopyFile2 *file2 = dosvc_query(file, &IID_IBackgroundCopyFile2);
    HRESULT hr = IBackgroundCopyFile2_SetRemoteName(file2, remote);

    IBackgroundCopyFile2_Release(file2);
    IBackgroundCopyFile_Release(file);
    return hr;
}

static void assert_remote_name(IBackgroundCopyJob *job, ULONG index, const WCHAR *expected)
{
    IBackgroundCopyFile *file = dosvc_file_at(job, index);
    WCHAR *name = NULL;

    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(file, &name));
    assert_owned_wstr_equal(expected, name);
    IBackgroundCopyFile_Release(file);
}

/* Waits until the worker of a suspended run has let the file's temporary file go. */
static void wait_for_temp_released(IBackgroundCopyJob *job, ULONG index)
{
    IBackgroundCopyFile *file = dosvc_file_at(job, index);
    IBackgroundCopyFile3 *file3 = dosvc_query(file, &IID_IBackgroundCopyFile3);
    WCHAR *temp = NULL;

    assert_hr(S_OK, IBackgroundCopyFile3_GetTemporaryName(file3, &temp));
    IBackgroundCopyFile3_Release(file3);
    IBackgroundCopyFile_Release(file);
    if (!dosvc_wait_for_temp_released(temp, 10000)) fail_msg("the temporary file stays open");
    CoTaskMemFree(temp);
}

static HRESULT error_of(IBackgroundCopyJob *job)
{
    IBackgroundCopyError *error = NULL;
    BG_ERROR_CONTEXT context;
    HRESULT code = S_OK;

    if (FAILED(IBackgroundCopyJob_GetError(job, &error))) return S_OK;
    assert_hr(S_OK, IBackgroundCopyError_GetError(error, &context, &code));
    IBackgroundCopyError_Release(error);
    return code;
}

/* Waits for the job to settle and asserts TRANSFERRED, printing the error otherwise. */
static void assert_transferred(IBackgroundCopyJob *job, DWORD timeout_ms)
{
    BG_JOB_STATE settled = dosvc_wait_for_state(job, SETTLED, timeout_ms);
    if (settled != BG_JOB_STATE_TRANSFERRED) fail_msg("state %d, error 0x%08lx", settled, error_of(job));
}

/* ---- helpers: the server -------------------------------------------------------- */

static void new_mark(WCHAR mark[32])
{
    static LONG next;
    wsprintfW(mark, L"r%lux%ld", GetCurrentProcessId(), InterlockedIncrement(&next));
}

/* The n-th request's Range, "first-last" ("first-" when open), or "" when it had none. */
static const char *log_range(const char *log, int n)
{
    static char text[64];
    const char *value = dosvc_log_field(log, "range", n);
    size_t len;

    assert_non_null(value);
    if (strncmp(value, "\"bytes=", 7)) return "";
    value += 7;
    len = strcspn(value, "\"");
    assert_true(len < sizeof(text));
    memcpy(text, value, len);
    text[len] = 0;
    return text;
}

/* The n-th request's target contains text. */
static BOOL log_target_has(const char *log, int n, const char *text)
{
    const char *value = dosvc_log_field(log, "target", n), *end;

    assert_non_null(value);
    end = strchr(value + 1, '"');
    assert_non_null(end);
    for (; value + strlen(text) <= end; value++)
        if (!strncmp(value, text, strlen(text))) return TRUE;
    return FALSE;
}

/* Asserts the requests the server saw for mark: their number and each one's Range ("" for none). */
static void assert_requests(const WCHAR *mark, int count, const char *const *ranges)
{
    char *log = dosvc_server_log(mark);
    int i;

    if (dosvc_log_count(log) != count) fail_msg("%d requests, expected %d: %s", dosvc_log_count(log), count, log);
    for (i = 0; i < count; i++)
        if (strcmp(log_range(log, i), ranges[i]))
            fail_msg("request %d asked for \"%s\", expected \"%s\"", i, log_range(log, i), ranges[i]);
    free(log);
}

/* ---- helpers: files ------------------------------------------------------------- */

/* The file at path is exactly size bytes whose SHA-256 is that of expected. */
static void assert_file_hash(const WCHAR *path, const void *expected, DWORD size)
{
    const WCHAR *reference = dosvc_test_path(L"expected.ref");
    char want[65], got[65];
    WIN32_FILE_ATTRIBUTE_DATA attributes;

    assert_true(GetFileAttributesExW(path, GetFileExInfoStandard, &attributes));
    assert_int_equal(attributes.nFileSizeLow, size);
    assert_int_equal(attributes.nFileSizeHigh, 0);
    dosvc_write_file(reference, expected, size);
    assert_true(sha256_file_hex(reference, want));
    DeleteFileW(reference);
    assert_true(sha256_file_hex(path, got));
    assert_string_equal(got, want);
}

/* The bytes the ranges of whole make, one after another in the order given; *size their count. */
static BYTE *ranges_of(const BYTE *whole, DWORD whole_size, const BG_FILE_RANGE *ranges, DWORD count, DWORD *size)
{
    BYTE *out = malloc(whole_size), *at = out;
    DWORD i;

    assert_non_null(out);
    for (i = 0; i < count; i++)
    {
        DWORD length = ranges[i].Length == BG_LENGTH_TO_EOF ? whole_size - (DWORD)ranges[i].InitialOffset
                                                            : (DWORD)ranges[i].Length;
        memcpy(at, whole + ranges[i].InitialOffset, length);
        at += length;
    }
    *size = (DWORD)(at - out);
    return out;
}

/* The same for the body the server sends for path. */
static BYTE *server_ranges(const WCHAR *path, const BG_FILE_RANGE *ranges, DWORD count, DWORD *size)
{
    DWORD whole_size;
    char *whole = dosvc_server_get(path, &whole_size);
    BYTE *out = ranges_of((const BYTE *)whole, whole_size, ranges, count, size);

    free(whole);
    return out;
}

/* Completes the transferred job and checks its one file holds expected and nothing else is left. */
static void complete_and_check(IBackgroundCopyJob *job, const WCHAR *local, const BYTE *expected, DWORD size)
{
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_int_equal(dosvc_state_of(job), BG_JOB_STATE_ACKNOWLEDGED);
    assert_file_hash(local, expected, size);
    assert_int_equal(dosvc_temp_files_left(), 0);
    IBackgroundCopyJob_Release(job);
    DeleteFileW(local);
}

/* The safety net after each test: cancel what it left and empty the test folder. */
static int cleanup(void **state)
{
    dosvc_cleanup(manager);
    return 0;
}

/* ==== ranges over HTTP (spec 3.12, 5.5, 5.7) ========================================= */

/* docs/engine.md: a ranged file holds its ranges one after another in the order given. The
 * ranges cross 64 KiB blocks of the generated body, whose stamps catch misplaced bytes. */
static void test_do_ranges_are_saved_one_after_another_in_the_order_given(void **state)
{
    BG_FILE_RANGE ranges[] = { { 700000, 200000 }, { 65530, 20 }, { 300000, 70000 } };
    const WCHAR *path = L"/gen/1m?seed=do-order", *local = dosvc_test_path(L"do-order.bin");
    IBackgroundCopyJob *job = do_ranged_job(dosvc_url(L"%s", path), local, 3, ranges, DO_UNKNOWN_FILE_SIZE);
    DWORD size;
    BYTE *expected = server_ranges(path, ranges, 3, &size);

    assert_int_equal(size, 270020);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_transferred(job, 10000);
    complete_and_check(job, local, expected, size);
    free(expected);
}

/* spec 5.5: with ranges, BytesTotal of the file and of the job count only the requested bytes;
 * finite ranges need no file size, so the total is known before the transfer. */
static void test_do_ranges_progress_counts_only_the_requested_bytes(void **state)
{
    BG_FILE_RANGE ranges[] = { { 200000, 1000 }, { 5, 3000 } };
    const WCHAR *path = L"/gen/256k?seed=do-progress", *local = dosvc_test_path(L"do-progress.bin");
    IBackgroundCopyJob *job = do_ranged_job(dosvc_url(L"%s", path), local, 2, ranges, DO_UNKNOWN_FILE_SIZE);
    DWORD size;
    BYTE *expected = server_ranges(path, ranges, 2, &size);

    assert_progress(job, 4000, 0);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_transferred(job, 10000);
    assert_progress(job, 4000, 4000);
    assert_int_equal(dosvc_progress_of(job).FilesTransferred, 1);
    complete_and_check(job, local, expected, size);
    free(expected);
}

/* spec 5.7: BG_LENGTH_TO_EOF means to the end of the file; with the size unknown, so is the total. */
static void test_do_range_from_an_offset_to_eof_downloads_the_rest_of_the_file(void **state)
{
    BG_FILE_RANGE range = { 100000, BG_LENGTH_TO_EOF };
    const WCHAR *path = L"/gen/256k?seed=do-eof", *local = dosvc_test_path(L"do-eof.bin");
    IBackgroundCopyJob *job = do_ranged_job(dosvc_url(L"%s", path), local, 1, &range, DO_UNKNOWN_FILE_SIZE);
    DWORD size;
    BYTE *expected = server_ranges(path, &range, 1, &size);

    assert_int_equal(size, 256 * 1024 - 100000);
    assert_true(dosvc_progress_of(job).BytesTotal == BG_SIZE_UNKNOWN);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_transferred(job, 10000);
    assert_progress(job, size, size);
    complete_and_check(job, local, expected, size);
    free(expected);
}

/* spec 3.12, 5.5: with the file size given, a range to the end counts from its offset at once. */
static void test_do_range_to_eof_of_a_file_of_given_size_is_known_before_the_transfer(void **state)
{
    BG_FILE_RANGE ranges[] = { { 200000, BG_LENGTH_TO_EOF }, { 1000, 500 } };
    const WCHAR *path = L"/gen/256k?seed=do-eof-sized", *local = dosvc_test_path(L"do-eof-sized.bin");
    IBackgroundCopyJob *job = do_ranged_job(dosvc_url(L"%s", path), local, 2, ranges, 256 * 1024);
    DWORD size;
    BYTE *expected = server_ranges(path, ranges, 2, &size);

    assert_int_equal(size, 256 * 1024 - 200000 + 500);
    assert_progress(job, size, 0);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_transferred(job, 10000);
    assert_progress(job, size, size);
    complete_and_check(job, local, expected, size);
    free(expected);
}

/*
 * A body cut inside the second range (truncate after 5000 bytes: the first range, 5000 bytes,
 * arrives whole) is resumed by asking for the rest of that range only, never the first again.
 */
static void test_ranged_file_cut_in_its_second_range_asks_only_for_the_rest(void **state)
{
    BG_FILE_RANGE ranges[] = { { 1000, 5000 }, { 100000, 100000 }, { 50000, 2000 } };
    const char *const requests[] = { "1000-5999", "100000-199999", "105000-199999", "50000-51999" };
    const WCHAR *local = dosvc_test_path(L"cut-ranges.bin");
    WCHAR mark[32], path[160];
    IBackgroundCopyJob *job;
    BYTE *expected;
    DWORD size;

    new_mark(mark);
    wsprintfW(path, L"/gen/256k?seed=cut-ranges&fault=truncate&after=5000&times=2&key=%s", mark);
    job = do_ranged_job(dosvc_url(L"%s", path), local, 3, ranges, DO_UNKNOWN_FILE_SIZE);
    expected = server_ranges(L"/gen/256k?seed=cut-ranges", ranges, 3, &size);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_transferred(job, 10000);
    assert_requests(mark, 4, requests);
    assert_progress(job, size, size);
    complete_and_check(job, local, expected, size);
    free(expected);
}

/* A Suspend inside the second range: the Resume asks for what the second range still misses. */
static void test_ranged_file_suspended_in_its_second_range_resumes_where_it_stopped(void **state)
{
    BG_FILE_RANGE ranges[] = { { 7, 3000 }, { 131079, 2500000 } };
    const WCHAR *local = dosvc_test_path(L"suspended-ranges.bin");
    WCHAR mark[32], path[160];
    IBackgroundCopyJob *job;
    UINT64 at_suspend;
    char resumed[64], *log;
    BYTE *expected;
    DWORD size;

    new_mark(mark);
    wsprintfW(path, L"/gen/3m?seed=suspended-ranges&fault=drip&rate=2097152&times=2&key=%s", mark);
    job = do_ranged_job(dosvc_url(L"%s", path), local, 2, ranges, DO_UNKNOWN_FILE_SIZE);
    expected = server_ranges(L"/gen/3m?seed=suspended-ranges", ranges, 2, &size);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_for_bytes(job, 3000 + 1, 10000) > 3000);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    wait_for_temp_released(job, 0);
    at_suspend = dosvc_progress_of(job).BytesTransferred;
    assert_true(at_suspend > 3000 && at_suspend < size);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_transferred(job, 10000);

    log = dosvc_server_log(mark);
    assert_int_equal(dosvc_log_count(log), 3);
    assert_string_equal(log_range(log, 0), "7-3006");
    assert_string_equal(log_range(log, 1), "131079-2631078");
    snprintf(resumed, sizeof(resumed), "%llu-2631078", 131079 + at_suspend - 3000);
    assert_string_equal(log_range(log, 2), resumed);
    assert_int_equal(dosvc_log_status(log, 2), 206);
    free(log);
    assert_progress(job, size, size);
    complete_and_check(job, local, expected, size);
    free(expected);
}

/* ---- ranges of local, file:// and UNC sources (spec 5.9) ---------------------------- */

/*
 * The archived DO page (spec 8, mt811343) says SMB is not allowed with ranges; dosvc honours
 * them from every local source instead (docs/engine.md, "Transports"), exactly as over HTTP:
 * a client that follows the docs never sees the difference, and an IDO download with a stream
 * sink needs ranges from a local source (spec 5.7).
 */
#define SOURCE_SIZE 200000

static const BG_FILE_RANGE source_ranges[] = { { 150000, BG_LENGTH_TO_EOF }, { 10, 1000 }, { 70000, 5000 } };

static BYTE *make_source(const WCHAR *path)
{
    BYTE *data = malloc(SOURCE_SIZE);
    DWORD i;

    assert_non_null(data);
    for (i = 0; i < SOURCE_SIZE; i++) data[i] = (BYTE)(i * 7 + (i >> 9));
    dosvc_write_file(path, data, SOURCE_SIZE);
    return data;
}

/* The ranges of the source at source (its bytes data) named remote are copied exactly. */
static void assert_ranges_copied(const WCHAR *remote, const BYTE *data)
{
    const WCHAR *local = dosvc_test_path(L"copied-ranges.bin");
    IBackgroundCopyJob *job = do_ranged_job(remote, local, 3, (BG_FILE_RANGE *)source_ranges, DO_UNKNOWN_FILE_SIZE);
    DWORD size;
    BYTE *expected = ranges_of(data, SOURCE_SIZE, source_ranges, 3, &size);

    assert_int_equal(size, 56000);
    assert_true(dosvc_progress_of(job).BytesTotal == BG_SIZE_UNKNOWN);    /* a range to the end, size unknown */
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_transferred(job, 10000);
    assert_progress(job, size, size);
    complete_and_check(job, local, expected, size);
    free(expected);
}

static void test_ranges_of_a_local_path_source_are_copied_exactly(void **state)
{
    WCHAR source[MAX_PATH];
    BYTE *data;

    lstrcpyW(source, dosvc_test_path(L"source-path.bin"));
    data = make_source(source);
    assert_ranges_copied(source, data);
    free(data);
    DeleteFileW(source);
}

static void test_ranges_of_a_file_url_source_are_copied_exactly(void **state)
{
    WCHAR source[MAX_PATH], remote[MAX_PATH + 16], *p;
    BYTE *data;

    lstrcpyW(source, dosvc_test_path(L"source-url.bin"));
    data = make_source(source);
    wsprintfW(remote, L"file:///%s", source);
    for (p = remote; *p; p++) if (*p == '\\') *p = '/';
    assert_ranges_copied(remote, data);
    free(data);
    DeleteFileW(source);
}

static void test_ranges_of_a_unc_source_are_copied_exactly(void **state)
{
    WCHAR share[MAX_PATH], folder[MAX_PATH], source[MAX_PATH], remote[MAX_PATH];
    BYTE *data;

    dosvc_make_unc_share(share, folder);
    wsprintfW(source, L"%s\\source-unc.bin", folder);
    wsprintfW(remote, L"%s\\source-unc.bin", share);
    data = make_source(source);
    assert_true(dosvc_file_exists(remote));     /* the share works for the test itself */
    assert_ranges_copied(remote, data);
    free(data);
    dosvc_remove_unc_share();
}

/* ==== SetRemoteName (spec 5.8) ======================================================= */

/* A job of two files from the server, the first small and fast, the second dripping. */
static IBackgroundCopyJob *two_file_job(const WCHAR *first, const WCHAR *second)
{
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"remote name test", NULL);

    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, first, dosvc_test_path(L"first.bin")));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, second, dosvc_test_path(L"second.bin")));
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 1));
    return job;
}

/* spec 5.8: "Files already transferred are never restarted", whatever names change afterwards. */
static void test_transferred_file_is_not_fetched_again_after_set_remote_name(void **state)
{
    WCHAR mark[32], first[96], second[128], renamed[96];
    BG_FILE_PROGRESS done;
    IBackgroundCopyJob *job;
    char *log;
    int i, firsts = 0;

    new_mark(mark);
    wsprintfW(first, L"/gen/64k?seed=kept&m=%s", mark);
    wsprintfW(second, L"/gen/3m?seed=second&fault=drip&rate=2097152&m=%s", mark);
    job = two_file_job(dosvc_url(L"%s", first), dosvc_url(L"%s", second));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_for_bytes(job, 64 * 1024 + 1, 10000) > 64 * 1024);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    done = dosvc_file_progress_at(job, 0);
    assert_true(done.BytesTotal == 64 * 1024 && done.BytesTransferred == 64 * 1024);

    /* Another file's new name, and the transferred file's own: neither fetches it again. */
    wsprintfW(renamed, L"/gen/3m?seed=second&m=%s", mark);
    assert_hr(S_OK, set_remote_name(job, 1, dosvc_url(L"%s", renamed)));
    assert_hr(S_OK, set_remote_name(job, 0, dosvc_url(L"/gen/64k?seed=other&m=%s", mark)));
    wait_for_temp_released(job, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_transferred(job, 10000);

    log = dosvc_server_log(mark);
    for (i = 0; i < dosvc_log_count(log); i++) if (log_target_has(log, i, "/gen/64k")) firsts++;
    assert_int_equal(firsts, 1);
    assert_true(log_target_has(log, 0, "seed=kept"));
    free(log);
    done = dosvc_file_progress_at(job, 0);
    assert_true(done.BytesTotal == 64 * 1024 && done.BytesTransferred == 64 * 1024);
    assert_true(dosvc_progress_of(job).BytesTotal == 64 * 1024 + (3u << 20));
    assert_true(dosvc_progress_of(job).BytesTransferred == 64 * 1024 + (3u << 20));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    dosvc_assert_file_is(dosvc_test_path(L"first.bin"), L"/gen/64k?seed=kept");
    dosvc_assert_file_is(dosvc_test_path(L"second.bin"), L"/gen/3m?seed=second");
    assert_int_equal(dosvc_temp_files_left(), 0);
    IBackgroundCopyJob_Release(job);
}

/*
 * spec 5.8: SetRemoteName is allowed while the job transfers; the change "is not serialized
 * when the call returns" and Resume serializes it. The job goes on transferring, the file
 * names the new URL at once, and after Suspend and Resume the rest comes from the new URL,
 * from the same position (same size and time stamp).
 */
static void test_set_remote_name_while_transferring_takes_effect_at_the_next_resume(void **state)
{
    const WCHAR *local = dosvc_test_path(L"live-rename.bin");
    WCHAR mark[32], renamed[96];
    IBackgroundCopyJob *job;
    char *log;
    UINT64 at_suspend;
    long long start;

    new_mark(mark);
    job = dosvc_create_job(manager, L"remote name test", NULL);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job,
                                               dosvc_url(L"/gen/3m?seed=live&fault=drip&rate=2097152&old=%s", mark),
                                               local));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_for_bytes(job, 1, 10000) > 0);
    assert_int_equal(dosvc_state_of(job), BG_JOB_STATE_TRANSFERRING);

    wsprintfW(renamed, L"/gen/3m?seed=live&new=%s", mark);
    assert_hr(S_OK, set_remote_name(job, 0, dosvc_url(L"%s", renamed)));
    assert_remote_name(job, 0, dosvc_url(L"%s", renamed));
    assert_int_equal(dosvc_state_of(job), BG_JOB_STATE_TRANSFERRING);

    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    wait_for_temp_released(job, 0);
    at_suspend = dosvc_progress_of(job).BytesTransferred;
    assert_true(at_suspend > 0 && at_suspend < (3u << 20));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_transferred(job, 10000);

    wsprintfW(renamed, L"new=%s", mark);
    log = dosvc_server_log(renamed);
    assert_int_equal(dosvc_log_count(log), 1);
    start = strtoll(log_range(log, 0), NULL, 10);
    assert_true(start == (long long)at_suspend);
    assert_int_equal(dosvc_log_status(log, 0), 206);
    free(log);
    assert_progress(job, 3u << 20, 3u << 20);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    dosvc_assert_file_is(local, L"/gen/3m?seed=live");
    assert_int_equal(dosvc_temp_files_left(), 0);
    IBackgroundCopyJob_Release(job);
    DeleteFileW(local);
}

/*
 * spec 5.8: a new name whose file differs (same size, another ETag) restarts the file: the
 * resumed request's If-Range no longer matches, the server sends the whole new file, and no
 * byte of the old one stays in front of it.
 */
static void test_new_name_of_another_file_of_the_same_size_is_not_spliced(void **state)
{
    const WCHAR *local = dosvc_test_path(L"same-size.bin");
    WCHAR mark[32], renamed[96];
    IBackgroundCopyJob *job;
    char *log;

    new_mark(mark);
    job = dosvc_create_job(manager, L"remote name test", NULL);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job,
                                               dosvc_url(L"/gen/3m?seed=old-bytes&fault=drip&rate=2097152&m=%s", mark),
                                               local));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_for_bytes(job, 1, 10000) > 0);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    wait_for_temp_released(job, 0);
    assert_true(dosvc_progress_of(job).BytesTransferred < (3u << 20));
    wsprintfW(renamed, L"/gen/3m?seed=new-bytes&new=%s", mark);
    assert_hr(S_OK, set_remote_name(job, 0, dosvc_url(L"%s", renamed)));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_transferred(job, 10000);

    wsprintfW(renamed, L"new=%s", mark);
    log = dosvc_server_log(renamed);
    assert_int_equal(dosvc_log_count(log), 1);
    assert_true(strtoll(log_range(log, 0), NULL, 10) > 0);     /* it asked for the rest, If-Range... */
    assert_int_equal(dosvc_log_status(log, 0), 200);                  /* ...and got the whole new file */
    free(log);
    assert_progress(job, 3u << 20, 3u << 20);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    dosvc_assert_file_is(local, L"/gen/3m?seed=new-bytes");
    assert_int_equal(dosvc_temp_files_left(), 0);
    IBackgroundCopyJob_Release(job);
    DeleteFileW(local);
}

/* The same for a ranged file suspended in its second range: every range comes again from the new file. */
static void test_new_name_of_another_file_restarts_every_range(void **state)
{
    BG_FILE_RANGE ranges[] = { { 7, 3000 }, { 131079, 2500000 } };
    const WCHAR *local = dosvc_test_path(L"same-size-ranges.bin");
    const char *requests[3];
    WCHAR mark[32], renamed[96];
    IBackgroundCopyJob *job;
    UINT64 at_suspend;
    char resumed[64], *log;
    BYTE *expected;
    DWORD size;

    new_mark(mark);
    job = do_ranged_job(dosvc_url(L"/gen/3m?seed=old-ranges&fault=drip&rate=2097152&m=%s", mark), local, 2, ranges,
                        DO_UNKNOWN_FILE_SIZE);
    expected = server_ranges(L"/gen/3m?seed=new-ranges", ranges, 2, &size);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_for_bytes(job, 3000 + 1, 10000) > 3000);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    wait_for_temp_released(job, 0);
    at_suspend = dosvc_progress_of(job).BytesTransferred;
    assert_true(at_suspend > 3000 && at_suspend < size);
    wsprintfW(renamed, L"/gen/3m?seed=new-ranges&new=%s", mark);
    assert_hr(S_OK, set_remote_name(job, 0, dosvc_url(L"%s", renamed)));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_transferred(job, 10000);

    /* The rest of the second range, answered 200 (If-Range), then every range from its start. */
    snprintf(resumed, sizeof(resumed), "%llu-2631078", 131079 + at_suspend - 3000);
    requests[0] = resumed;
    requests[1] = "7-3006";
    requests[2] = "131079-2631078";
    wsprintfW(renamed, L"new=%s", mark);
    assert_requests(renamed, 3, requests);
    log = dosvc_server_log(renamed);
    assert_int_equal(dosvc_log_status(log, 0), 200);
    assert_int_equal(dosvc_log_status(log, 1), 206);
    assert_int_equal(dosvc_log_status(log, 2), 206);
    free(log);
    assert_progress(job, size, size);
    complete_and_check(job, local, expected, size);
    free(expected);
}

#define TEST(f) cmocka_unit_test_teardown(f, cleanup)

int main(void)
{
    const struct CMUnitTest range_tests[] = {
        TEST(test_do_ranges_are_saved_one_after_another_in_the_order_given),
        TEST(test_do_ranges_progress_counts_only_the_requested_bytes),
        TEST(test_do_range_from_an_offset_to_eof_downloads_the_rest_of_the_file),
        TEST(test_do_range_to_eof_of_a_file_of_given_size_is_known_before_the_transfer),
        TEST(test_ranged_file_cut_in_its_second_range_asks_only_for_the_rest),
        TEST(test_ranged_file_suspended_in_its_second_range_resumes_where_it_stopped),
        TEST(test_ranges_of_a_local_path_source_are_copied_exactly),
        TEST(test_ranges_of_a_file_url_source_are_copied_exactly),
        TEST(test_ranges_of_a_unc_source_are_copied_exactly),
    };
    const struct CMUnitTest remote_name_tests[] = {
        TEST(test_transferred_file_is_not_fetched_again_after_set_remote_name),
        TEST(test_set_remote_name_while_transferring_takes_effect_at_the_next_resume),
        TEST(test_new_name_of_another_file_of_the_same_size_is_not_spliced),
        TEST(test_new_name_of_another_file_restarts_every_range),
    };
    int failed = cmocka_run_group_tests_name("ranges", range_tests, setup_group, teardown_group);
    return failed + cmocka_run_group_tests_name("remote_name", remote_name_tests, setup_group, teardown_group);
}
