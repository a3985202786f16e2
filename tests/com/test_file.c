/*
 * The file object: IBackgroundCopyFile to IBackgroundCopyFile5,
 * IDeliveryOptimizationFile and IDeliveryOptimizationFile2 (spec 3.5-3.8,
 * 3.14, 3.15, 5.5, 5.7, 5.8), black box through dosvc.dll. Every test gets a
 * new suspended job of its own; what the tests expect where the spec leaves a
 * choice is in notes/com_decisions.md ("File").
 */
#define COBJMACROS                     /* before winsock2.h brings windows.h in */
#define CONST_VTABLE
#include <winsock2.h>
#include <wchar.h>

#include "com_test.h"

#include <bitsmsg.h>
#include <stdlib.h>

#include "deliveryoptimizationerrors.h"

/* Loopback only: nothing listens on port 1, so a resumed job's connection is refused, it goes
 * to TRANSIENT_ERROR and waits its minimum retry delay (600 s) until the test ends it. */
#define URL L"http://127.0.0.1:1/files/a.bin"

static IBackgroundCopyManager *manager;
static IBackgroundCopyJob *job;

/* ---- helpers --------------------------------------------------------------- */

/* A malloc'd string of total characters: prefix, then c repeated. */
static WCHAR *long_string(const WCHAR *prefix, WCHAR c, size_t total)
{
    size_t len = lstrlenW(prefix), i;
    WCHAR *s = malloc((total + 1) * sizeof(WCHAR));
    memcpy(s, prefix, len * sizeof(WCHAR));
    for (i = len; i < total; i++) s[i] = c;
    s[total] = 0;
    return s;
}

/* The index-th file of the current job, as riid. */
static void *file_at(ULONG index, REFIID riid)
{
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file = NULL;
    ULONG fetched = 0;
    void *out;

    assert_hr(S_OK, IBackgroundCopyJob_EnumFiles(job, &files));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, index));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, &fetched));
    assert_int_equal(fetched, 1);
    IEnumBackgroundCopyFiles_Release(files);
    out = dosvc_query(file, riid);
    IBackgroundCopyFile_Release(file);
    return out;
}

/* Adds remote -> <test dir>\name and returns the job's only (first) file. */
static IBackgroundCopyFile5 *add_file(const WCHAR *remote, const WCHAR *name)
{
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, remote, dosvc_test_path(name)));
    return file_at(0, &IID_IBackgroundCopyFile5);
}

/* A file added through IDeliveryOptimizationJob::AddFileWithRanges. */
static IBackgroundCopyFile5 *add_do_file(const WCHAR *id, const WCHAR *name, DWORD count, BG_FILE_RANGE *ranges,
                                         UINT64 size)
{
    IDeliveryOptimizationJob *dojob = dosvc_query(job, &IID_IDeliveryOptimizationJob);
    assert_hr(S_OK, IDeliveryOptimizationJob_AddFileWithRanges(dojob, id, URL, dosvc_test_path(name), count, ranges,
                                                               size));
    IDeliveryOptimizationJob_Release(dojob);
    return file_at(0, &IID_IBackgroundCopyFile5);
}

/* A file added through IDeliveryOptimizationJob2::AddFile: no local name yet. */
static IDeliveryOptimizationFile2 *add_sinkless_file(void)
{
    IDeliveryOptimizationJob2 *dojob2 = dosvc_query(job, &IID_IDeliveryOptimizationJob2);
    IDeliveryOptimizationFile2 *file = NULL;

    assert_hr(S_OK, IDeliveryOptimizationJob2_AddFile(dojob2, L"content-1", URL, 0, NULL,
                                                      &IID_IDeliveryOptimizationFile2, (void **)&file));
    assert_non_null(file);
    IDeliveryOptimizationJob2_Release(dojob2);
    return file;
}

static void assert_progress(IBackgroundCopyFile5 *file, UINT64 total, UINT64 transferred, BOOL completed)
{
    BG_FILE_PROGRESS progress;

    memset(&progress, 0xcc, sizeof(progress));
    assert_hr(S_OK, IBackgroundCopyFile5_GetProgress(file, &progress));
    assert_true(progress.BytesTotal == total);
    assert_true(progress.BytesTransferred == transferred);
    assert_int_equal(progress.Completed, completed);
}

/* After Resume the engine may already have started the job and failed to connect: any of
 * the states of a live run (QUEUED, TRANSFERRING, TRANSIENT_ERROR) is what Resume gives. */
static void assert_running_state(BG_JOB_STATE state)
{
    if (state != BG_JOB_STATE_QUEUED && state != BG_JOB_STATE_TRANSFERRING && state != BG_JOB_STATE_TRANSIENT_ERROR)
        fail_msg("job state %d, expected QUEUED, TRANSFERRING or TRANSIENT_ERROR", (int)state);
}

static void assert_remote_name(IBackgroundCopyFile5 *file, const WCHAR *expected)
{
    WCHAR *name = NULL;
    assert_hr(S_OK, IBackgroundCopyFile5_GetRemoteName(file, &name));
    assert_owned_wstr_equal(expected, name);
}

static VARIANT bstr_variant(const WCHAR *text)
{
    VARIANT v;
    VariantInit(&v);
    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocString(text);
    return v;
}

static VARIANT ui8_variant(ULONGLONG value)
{
    VARIANT v;
    VariantInit(&v);
    V_VT(&v) = VT_UI8;
    V_UI8(&v) = value;
    return v;
}

static VARIANT bool_variant(VARIANT_BOOL value)
{
    VARIANT v;
    VariantInit(&v);
    V_VT(&v) = VT_BOOL;
    V_BOOL(&v) = value;
    return v;
}

static VARIANT i4_variant(LONG value)
{
    VARIANT v;
    VariantInit(&v);
    V_VT(&v) = VT_I4;
    V_I4(&v) = value;
    return v;
}

static HRESULT set_property(IDeliveryOptimizationFile2 *file, DOFilePropertyId id, VARIANT value)
{
    HRESULT hr = IDeliveryOptimizationFile2_SetProperty(file, id, &value);
    VariantClear(&value);
    return hr;
}

/* ---- fixtures ---------------------------------------------------------------- */

static int group_setup(void **state)
{
    return dosvc_setup_manager(&manager);
}

static int group_teardown(void **state)
{
    return dosvc_teardown_manager(&manager);
}

static int job_setup(void **state)
{
    GUID id;
    return FAILED(IBackgroundCopyManager_CreateJob(manager, L"file tests", BG_JOB_TYPE_DOWNLOAD, &id, &job)) ? -1 : 0;
}

static int job_teardown(void **state)
{
    IBackgroundCopyJob_Cancel(job);    /* may already be final: then it fails, harmlessly */
    IBackgroundCopyJob_Release(job);
    job = NULL;
    return 0;
}

/* ---- QueryInterface ------------------------------------------------------------ */

static const IID *const file_iids[] = {
    &IID_IUnknown, &IID_IBackgroundCopyFile, &IID_IBackgroundCopyFile2, &IID_IBackgroundCopyFile3,
    &IID_IBackgroundCopyFile4, &IID_IBackgroundCopyFile5, &IID_IDeliveryOptimizationFile,
    &IID_IDeliveryOptimizationFile2,
};

static void test_file_answers_every_file_interface(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"qi.bin");
    size_t i;

    for (i = 0; i < ARRAYSIZE(file_iids); i++)
    {
        IUnknown *iface = dosvc_query(file, file_iids[i]);
        IUnknown_Release(iface);
    }
    IBackgroundCopyFile5_Release(file);
}

/* COM identity: IUnknown is one pointer whichever interface it is asked from; the
 * classic chain File..File5 is one interface; each DO interface is one pointer. */
static void test_file_interfaces_share_one_identity(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"identity.bin");
    IUnknown *unknown = dosvc_query(file, &IID_IUnknown);
    IUnknown *dofile = dosvc_query(file, &IID_IDeliveryOptimizationFile);
    IUnknown *dofile2 = dosvc_query(file, &IID_IDeliveryOptimizationFile2);
    size_t i, j;

    for (i = 0; i < ARRAYSIZE(file_iids); i++)
    {
        IUnknown *iface = dosvc_query(file, file_iids[i]), *again;
        for (j = 0; j < ARRAYSIZE(file_iids); j++)
        {
            again = dosvc_query(iface, file_iids[j]);
            if (file_iids[j] == &IID_IUnknown) assert_ptr_equal(again, unknown);
            else if (file_iids[j] == &IID_IDeliveryOptimizationFile) assert_ptr_equal(again, dofile);
            else if (file_iids[j] == &IID_IDeliveryOptimizationFile2) assert_ptr_equal(again, dofile2);
            else assert_ptr_equal(again, file);
            IUnknown_Release(again);
        }
        IUnknown_Release(iface);
    }
    IUnknown_Release(dofile2);
    IUnknown_Release(dofile);
    IUnknown_Release(unknown);
    IBackgroundCopyFile5_Release(file);
}

static void test_file_refuses_other_interfaces(void **state)
{
    static const IID *const others[] = {
        &IID_IBackgroundCopyJob, &IID_IDeliveryOptimizationJob, &IID_IEnumBackgroundCopyFiles,
        &IID_IBackgroundCopyError, &IID_IBackgroundCopyManager, &IID_IClassFactory, &IID_IDispatch,
    };
    IBackgroundCopyFile5 *file = add_file(URL, L"noqi.bin");
    size_t i;

    for (i = 0; i < ARRAYSIZE(others); i++)
    {
        void *out = (void *)0xdeadbeef;
        assert_hr(E_NOINTERFACE, IBackgroundCopyFile5_QueryInterface(file, others[i], &out));
        assert_null(out);
    }
    IBackgroundCopyFile5_Release(file);
}

static void test_file_query_interface_with_null_out_fails_with_e_pointer(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"qinull.bin");
    assert_hr(E_POINTER, IBackgroundCopyFile5_QueryInterface(file, &IID_IBackgroundCopyFile, NULL));
    IBackgroundCopyFile5_Release(file);
}

static void test_file_query_interface_adds_a_reference(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"qiref.bin");
    IDeliveryOptimizationFile *dofile;

    assert_int_equal(dosvc_refcount(file), 1);
    dofile = dosvc_query(file, &IID_IDeliveryOptimizationFile);
    assert_int_equal(dosvc_refcount(file), 2);
    assert_int_equal(IDeliveryOptimizationFile_Release(dofile), 1);
    assert_int_equal(IBackgroundCopyFile5_Release(file), 0);
}

/* ---- IBackgroundCopyFile (spec 3.5) -------------------------------------------- */

static void test_get_remote_name_returns_the_url_given(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"remote.bin");
    assert_remote_name(file, URL);
    IBackgroundCopyFile5_Release(file);
}

/* spec 3.5: "fully qualified local name" */
static void test_get_local_name_returns_the_canonical_full_path(void **state)
{
    WCHAR given[MAX_PATH], *name = NULL;
    IBackgroundCopyFile5 *file;

    wsprintfW(given, L"%s\\sub\\..\\local.bin", dosvc_test_dir());
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, URL, given));
    wsprintfW(given, L"%s/slash.bin", dosvc_test_dir());
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, URL, given));

    file = file_at(0, &IID_IBackgroundCopyFile5);
    assert_hr(S_OK, IBackgroundCopyFile5_GetLocalName(file, &name));
    assert_owned_wstr_equal(dosvc_test_path(L"local.bin"), name);
    IBackgroundCopyFile5_Release(file);

    file = file_at(1, &IID_IBackgroundCopyFile5);
    assert_hr(S_OK, IBackgroundCopyFile5_GetLocalName(file, &name));
    assert_owned_wstr_equal(dosvc_test_path(L"slash.bin"), name);
    IBackgroundCopyFile5_Release(file);
}

static void test_get_names_with_null_out_fail_with_invalidarg(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"names.bin");
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_GetRemoteName(file, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_GetLocalName(file, NULL));
    IBackgroundCopyFile5_Release(file);
}

/* spec 5.5: before the size is known BytesTotal is BG_SIZE_UNKNOWN and nothing moved */
static void test_progress_before_transfer_is_unknown_size_and_nothing_transferred(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"progress.bin");
    assert_progress(file, BG_SIZE_UNKNOWN, 0, FALSE);
    IBackgroundCopyFile5_Release(file);
}

/* spec 5.5: a fileSize given to AddFileWithRanges is known from the start */
static void test_progress_with_a_known_file_size_reports_that_size(void **state)
{
    IBackgroundCopyFile5 *file = add_do_file(L"sized", L"sized.bin", 0, NULL, 5000);
    assert_progress(file, 5000, 0, FALSE);
    IBackgroundCopyFile5_Release(file);
}

/* spec 5.5: "With ranges, it is the total of the requested ranges" */
static void test_progress_with_ranges_totals_the_requested_bytes(void **state)
{
    BG_FILE_RANGE ranges[] = { { 100, 50 }, { 0, 10 } };
    IBackgroundCopyJob3 *job3 = dosvc_query(job, &IID_IBackgroundCopyJob3);
    IBackgroundCopyFile5 *file;

    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(job3, URL, dosvc_test_path(L"ranges.bin"), 2, ranges));
    IBackgroundCopyJob3_Release(job3);
    file = file_at(0, &IID_IBackgroundCopyFile5);
    assert_progress(file, 60, 0, FALSE);
    IBackgroundCopyFile5_Release(file);
}

static void test_progress_with_a_range_to_eof_of_unknown_size_is_unknown(void **state)
{
    BG_FILE_RANGE ranges[] = { { 0, 10 }, { 900, BG_LENGTH_TO_EOF } };
    IBackgroundCopyJob3 *job3 = dosvc_query(job, &IID_IBackgroundCopyJob3);
    IBackgroundCopyFile5 *file;

    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(job3, URL, dosvc_test_path(L"eof.bin"), 2, ranges));
    IBackgroundCopyJob3_Release(job3);
    file = file_at(0, &IID_IBackgroundCopyFile5);
    assert_progress(file, BG_SIZE_UNKNOWN, 0, FALSE);
    IBackgroundCopyFile5_Release(file);
}

static void test_progress_with_a_range_to_eof_of_known_size_counts_to_the_end(void **state)
{
    BG_FILE_RANGE ranges[] = { { 900, BG_LENGTH_TO_EOF }, { 0, 10 } };
    IBackgroundCopyFile5 *file = add_do_file(NULL, L"eofsized.bin", 2, ranges, 1000);
    assert_progress(file, 110, 0, FALSE);
    IBackgroundCopyFile5_Release(file);
}

static void test_get_progress_with_null_out_fails_with_invalidarg(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"progressnull.bin");
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_GetProgress(file, NULL));
    IBackgroundCopyFile5_Release(file);
}

/* ---- IBackgroundCopyFile2 (spec 3.6, 5.7, 5.8) ----------------------------------- */

/* spec 3.6: S_FALSE, *RangeCount = 0 and *Ranges = NULL when no ranges were given */
static void test_get_file_ranges_without_ranges_is_s_false_with_none(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"noranges.bin");
    BG_FILE_RANGE *ranges = (BG_FILE_RANGE *)0xdeadbeef;
    DWORD count = 7;

    assert_hr(S_FALSE, IBackgroundCopyFile5_GetFileRanges(file, &count, &ranges));
    assert_int_equal(count, 0);
    assert_null(ranges);
    IBackgroundCopyFile5_Release(file);
}

/* The ranges come back as given: that order is the local file's layout (classic
 * AddFileWithRanges: the ranges are written to the local file in the order given). */
static void test_get_file_ranges_returns_the_ranges_in_the_order_given(void **state)
{
    BG_FILE_RANGE given[] = { { 500, 5 }, { 0, 10 }, { 100, 50 } };
    IBackgroundCopyJob3 *job3 = dosvc_query(job, &IID_IBackgroundCopyJob3);
    BG_FILE_RANGE *ranges = NULL;
    IBackgroundCopyFile5 *file;
    DWORD count = 0;

    assert_hr(S_OK, IBackgroundCopyJob3_AddFileWithRanges(job3, URL, dosvc_test_path(L"ordered.bin"), 3, given));
    IBackgroundCopyJob3_Release(job3);
    file = file_at(0, &IID_IBackgroundCopyFile5);

    assert_hr(S_OK, IBackgroundCopyFile5_GetFileRanges(file, &count, &ranges));
    assert_int_equal(count, 3);
    assert_non_null(ranges);
    assert_true(ranges[0].InitialOffset == 500 && ranges[0].Length == 5);
    assert_true(ranges[1].InitialOffset == 0 && ranges[1].Length == 10);
    assert_true(ranges[2].InitialOffset == 100 && ranges[2].Length == 50);
    CoTaskMemFree(ranges);
    IBackgroundCopyFile5_Release(file);
}

static void test_get_file_ranges_with_null_outs_fails_with_invalidarg(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"rangesnull.bin");
    BG_FILE_RANGE *ranges;
    DWORD count;

    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_GetFileRanges(file, NULL, &ranges));
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_GetFileRanges(file, &count, NULL));
    IBackgroundCopyFile5_Release(file);
}

static void test_set_remote_name_replaces_the_remote_name(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"rename.bin");

    assert_hr(S_OK, IBackgroundCopyFile5_SetRemoteName(file, L"http://127.0.0.1:2/a.bin"));
    assert_remote_name(file, L"http://127.0.0.1:2/a.bin");
    assert_hr(S_OK, IBackgroundCopyFile5_SetRemoteName(file, L"\\\\127.0.0.1\\share\\a.bin"));
    assert_remote_name(file, L"\\\\127.0.0.1\\share\\a.bin");
    IBackgroundCopyFile5_Release(file);
}

/* spec 3.6, 5.8: at most 2,200 characters */
static void test_set_remote_name_accepts_2200_characters_and_rejects_2201(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"longurl.bin");
    WCHAR *longest = long_string(L"http://127.0.0.1:1/", 'a', 2200);
    WCHAR *too_long = long_string(L"http://127.0.0.1:1/", 'a', 2201);

    assert_hr(S_OK, IBackgroundCopyFile5_SetRemoteName(file, longest));
    assert_remote_name(file, longest);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_SetRemoteName(file, too_long));
    assert_remote_name(file, longest);
    free(too_long);
    free(longest);
    IBackgroundCopyFile5_Release(file);
}

/* spec 3.6: E_INVALIDARG for an invalid URL; a failed call changes nothing */
static void test_set_remote_name_rejects_invalid_names(void **state)
{
    static const WCHAR *const bad[] = {
        NULL, L"", L"ftp://127.0.0.1/a.bin", L"127.0.0.1/a.bin", L"relative\\a.bin", L"http://",
        L"http://127.0.0.1:99999/a.bin", L"http://127.0.0 .1/a.bin",
    };
    IBackgroundCopyFile5 *file = add_file(URL, L"badurl.bin");
    size_t i;

    for (i = 0; i < ARRAYSIZE(bad); i++)
    {
        assert_hr(E_INVALIDARG, IBackgroundCopyFile5_SetRemoteName(file, bad[i]));
        assert_remote_name(file, URL);
    }
    IBackgroundCopyFile5_Release(file);
}

static void test_set_remote_name_after_cancel_is_invalid_state(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"cancelled.bin");

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(DO_E_INVALID_STATE, IBackgroundCopyFile5_SetRemoteName(file, L"http://127.0.0.1:1/b.bin"));
    assert_remote_name(file, URL);
    IBackgroundCopyFile5_Release(file);
}

static void test_set_remote_name_after_complete_is_invalid_state(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"completed.bin");

    assert_hr(BG_S_PARTIAL_COMPLETE, IBackgroundCopyJob_Complete(job));
    assert_hr(DO_E_INVALID_STATE, IBackgroundCopyFile5_SetRemoteName(file, L"http://127.0.0.1:1/b.bin"));
    assert_remote_name(file, URL);
    IBackgroundCopyFile5_Release(file);
}

/* ---- IBackgroundCopyFile3 and File4 (spec 3.7) -------------------------------- */

/* "<folder of the local name>\DO<job guid without braces>-<index>.tmp" */
static void test_temporary_name_is_beside_the_local_name_and_names_job_and_index(void **state)
{
    WCHAR guid[40], expected[MAX_PATH], *name = NULL;
    IBackgroundCopyFile5 *file;
    GUID id;

    assert_hr(S_OK, IBackgroundCopyJob_GetId(job, &id));
    StringFromGUID2(&id, guid, ARRAYSIZE(guid));
    guid[37] = 0;                                  /* drop the closing brace */
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, URL, dosvc_test_path(L"first.bin")));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, URL, dosvc_test_path(L"second.bin")));

    file = file_at(0, &IID_IBackgroundCopyFile5);
    assert_hr(S_OK, IBackgroundCopyFile5_GetTemporaryName(file, &name));
    wsprintfW(expected, L"%s\\DO%s-0.tmp", dosvc_test_dir(), guid + 1);
    assert_owned_wstr_equal(expected, name);
    IBackgroundCopyFile5_Release(file);

    file = file_at(1, &IID_IBackgroundCopyFile5);
    assert_hr(S_OK, IBackgroundCopyFile5_GetTemporaryName(file, &name));
    wsprintfW(expected, L"%s\\DO%s-1.tmp", dosvc_test_dir(), guid + 1);
    assert_owned_wstr_equal(expected, name);
    IBackgroundCopyFile5_Release(file);
}

static void test_temporary_name_follows_the_sink_file_path(void **state)
{
    IDeliveryOptimizationFile2 *file = add_sinkless_file();
    IBackgroundCopyFile3 *file3 = dosvc_query(file, &IID_IBackgroundCopyFile3);
    WCHAR sub[MAX_PATH], guid[40], expected[MAX_PATH], *name = NULL;
    GUID id;

    wsprintfW(sub, L"%s\\sink-folder", dosvc_test_dir());
    CreateDirectoryW(sub, NULL);
    wsprintfW(expected, L"%s\\sunk.bin", sub);
    assert_hr(S_OK, set_property(file, DOFilePropertyId_DownloadSinkFilePath, bstr_variant(expected)));

    assert_hr(S_OK, IBackgroundCopyJob_GetId(job, &id));
    StringFromGUID2(&id, guid, ARRAYSIZE(guid));
    guid[37] = 0;
    wsprintfW(expected, L"%s\\DO%s-0.tmp", sub, guid + 1);
    assert_hr(S_OK, IBackgroundCopyFile3_GetTemporaryName(file3, &name));
    assert_owned_wstr_equal(expected, name);
    IBackgroundCopyFile3_Release(file3);
    IDeliveryOptimizationFile2_Release(file);
}

static void test_get_temporary_name_with_null_out_fails_with_invalidarg(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"tempnull.bin");
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_GetTemporaryName(file, NULL));
    IBackgroundCopyFile5_Release(file);
}

/* Validation applies to transferred files only (classic File3); none is, without an engine. */
static void test_set_validation_state_before_transfer_is_invalid_state(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"validate.bin");
    BOOL valid = TRUE;

    assert_hr(DO_E_INVALID_STATE, IBackgroundCopyFile5_SetValidationState(file, TRUE));
    assert_hr(DO_E_INVALID_STATE, IBackgroundCopyFile5_SetValidationState(file, FALSE));
    assert_hr(S_OK, IBackgroundCopyFile5_GetValidationState(file, &valid));
    assert_false(valid);
    IBackgroundCopyFile5_Release(file);
}

static void test_validation_state_is_false_before_transfer(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"validstate.bin");
    BOOL valid = TRUE;

    assert_hr(S_OK, IBackgroundCopyFile5_GetValidationState(file, &valid));
    assert_int_equal(valid, FALSE);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_GetValidationState(file, NULL));
    IBackgroundCopyFile5_Release(file);
}

static void test_file_is_never_downloaded_from_a_peer(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"peer.bin");
    BOOL from_peer = TRUE;

    assert_hr(S_OK, IBackgroundCopyFile5_IsDownloadedFromPeer(file, &from_peer));
    assert_int_equal(from_peer, FALSE);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_IsDownloadedFromPeer(file, NULL));
    IBackgroundCopyFile5_Release(file);
}

static void test_peer_download_stats_are_zero_before_transfer(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"peerstats.bin");
    UINT64 origin = 1, peers = 1;

    assert_hr(S_OK, IBackgroundCopyFile5_GetPeerDownloadStats(file, &origin, &peers));
    assert_true(origin == 0);
    assert_true(peers == 0);
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_GetPeerDownloadStats(file, NULL, &peers));
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_GetPeerDownloadStats(file, &origin, NULL));
    IBackgroundCopyFile5_Release(file);
}

/* ---- IBackgroundCopyFile5 (spec 3.8) ------------------------------------------- */

static void test_response_headers_property_is_read_only(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"headersro.bin");
    BITS_FILE_PROPERTY_VALUE value;

    value.String = (WCHAR *)L"X-Test: 1";
    assert_hr(DO_E_READ_ONLY_PROPERTY,
              IBackgroundCopyFile5_SetProperty(file, BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS, value));
    IBackgroundCopyFile5_Release(file);
}

static void test_set_unknown_bits_file_property_is_unknown_property_id(void **state)
{
    static const int ids[] = { 0, 2, 99 };
    IBackgroundCopyFile5 *file = add_file(URL, L"unknownset.bin");
    BITS_FILE_PROPERTY_VALUE value;
    size_t i;

    value.String = (WCHAR *)L"x";
    for (i = 0; i < ARRAYSIZE(ids); i++)
        assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IBackgroundCopyFile5_SetProperty(file, (BITS_FILE_PROPERTY_ID)ids[i], value));
    IBackgroundCopyFile5_Release(file);
}

static void test_response_headers_are_empty_before_any_response(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"headers.bin");
    BITS_FILE_PROPERTY_VALUE value;

    value.String = NULL;
    assert_hr(S_OK, IBackgroundCopyFile5_GetProperty(file, BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS, &value));
    assert_owned_wstr_equal(L"", value.String);
    IBackgroundCopyFile5_Release(file);
}

static void test_get_unknown_bits_file_property_is_unknown_property_id(void **state)
{
    static const int ids[] = { 0, 2, 99 };
    IBackgroundCopyFile5 *file = add_file(URL, L"unknownget.bin");
    BITS_FILE_PROPERTY_VALUE value;
    size_t i;

    for (i = 0; i < ARRAYSIZE(ids); i++)
        assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IBackgroundCopyFile5_GetProperty(file, (BITS_FILE_PROPERTY_ID)ids[i], &value));
    assert_hr(E_INVALIDARG, IBackgroundCopyFile5_GetProperty(file, BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS, NULL));
    IBackgroundCopyFile5_Release(file);
}

/* ---- IDeliveryOptimizationFile (spec 3.14) -------------------------------------- */

static DOSwarmStats get_stats(IBackgroundCopyFile5 *file)
{
    IDeliveryOptimizationFile *dofile = dosvc_query(file, &IID_IDeliveryOptimizationFile);
    DOSwarmStats stats;

    memset(&stats, 0xcc, sizeof(stats));
    assert_hr(S_OK, IDeliveryOptimizationFile_GetStats(dofile, &stats));
    IDeliveryOptimizationFile_Release(dofile);
    return stats;
}

static void free_stats(DOSwarmStats *stats)
{
    CoTaskMemFree(stats->fileId);
    CoTaskMemFree(stats->sourceURL);
}

static void test_stats_of_a_file_added_by_bits_before_transfer(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"stats.bin");
    DOSwarmStats stats = get_stats(file);

    assert_wstr_equal(L"", stats.fileId);
    assert_wstr_equal(URL, stats.sourceURL);
    assert_true(stats.fileSize == DO_UNKNOWN_FILE_SIZE);
    assert_true(stats.totalBytesDownloaded == 0);
    assert_true(stats.bytesFromHttp == 0);
    assert_true(stats.bytesFromLanPeers == 0 && stats.bytesFromGroupPeers == 0 && stats.bytesFromInternetPeers == 0);
    assert_int_equal(stats.downloadMode, DownloadMode_Simple);
    assert_int_equal(stats.status, SwarmStatus_Paused);       /* the job is suspended */
    assert_int_equal(stats.isBackground, TRUE);               /* priority NORMAL */
    free_stats(&stats);
    IBackgroundCopyFile5_Release(file);
}

static void test_stats_carry_the_do_file_id_and_known_size(void **state)
{
    IBackgroundCopyFile5 *file = add_do_file(L"content-42", L"statsid.bin", 0, NULL, 4096);
    DOSwarmStats stats = get_stats(file);

    assert_wstr_equal(L"content-42", stats.fileId);
    assert_wstr_equal(URL, stats.sourceURL);
    assert_true(stats.fileSize == 4096);
    assert_true(stats.totalBytesDownloaded == 0);
    free_stats(&stats);
    IBackgroundCopyFile5_Release(file);
}

static void test_stats_source_url_follows_set_remote_name(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"statsurl.bin");
    DOSwarmStats stats;

    assert_hr(S_OK, IBackgroundCopyFile5_SetRemoteName(file, L"http://127.0.0.1:2/a.bin"));
    stats = get_stats(file);
    assert_wstr_equal(L"http://127.0.0.1:2/a.bin", stats.sourceURL);
    free_stats(&stats);
    IBackgroundCopyFile5_Release(file);
}

/* Two jobs that take both background transfer slots (docs/engine.md: background jobs "run at
 * most two at a time"): their runs connect to a listener of this process that never accepts
 * (the connection waits in its backlog) and so wait for an answer, each in its slot, until
 * they are cancelled. (A job waiting to retry holds no slot: a refused port would not do.)
 * Static, so that the teardown cancels them even after a failed assertion. */
static IBackgroundCopyJob *slot_holders[2];
static SOCKET silent = INVALID_SOCKET;

static void hold_background_slots(void)
{
    static const WCHAR *const names[2] = { L"slot-0.bin", L"slot-1.bin" };
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int length = sizeof(address);
    WCHAR url[64];
    WSADATA wsa;
    int i;

    assert_int_equal(WSAStartup(MAKEWORD(2, 2), &wsa), 0);
    assert_true((silent = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)) != INVALID_SOCKET);
    assert_int_equal(bind(silent, (struct sockaddr *)&address, sizeof(address)), 0);
    assert_int_equal(listen(silent, 8), 0);
    assert_int_equal(getsockname(silent, (struct sockaddr *)&address, &length), 0);
    swprintf(url, ARRAYSIZE(url), L"http://127.0.0.1:%u/slot", ntohs(address.sin_port));
    for (i = 0; i < 2; i++)
    {
        slot_holders[i] = dosvc_create_job(manager, L"slot holder", NULL);
        assert_hr(S_OK, IBackgroundCopyJob_AddFile(slot_holders[i], url, dosvc_test_path(names[i])));
        assert_hr(S_OK, IBackgroundCopyJob_Resume(slot_holders[i]));
    }
    for (i = 0; i < 2; i++)
        assert_int_equal(dosvc_wait_for_state(slot_holders[i], DOSVC_STATE(BG_JOB_STATE_TRANSFERRING), 30000),
                         BG_JOB_STATE_TRANSFERRING);
}

/* Cancels and releases the slot holders there are; the test's own job first, so that it never
 * starts in a slot they free. */
static int slot_holders_teardown(void **state)
{
    int i;

    IBackgroundCopyJob_Cancel(job);
    for (i = 0; i < 2; i++)
    {
        if (!slot_holders[i]) continue;
        IBackgroundCopyJob_Cancel(slot_holders[i]);
        IBackgroundCopyJob_Release(slot_holders[i]);
        slot_holders[i] = NULL;
    }
    if (silent != INVALID_SOCKET)
    {
        closesocket(silent);
        silent = INVALID_SOCKET;
        WSACleanup();
    }
    return job_teardown(state);
}

/* With both background slots taken the resumed job stays QUEUED, so what is read is a queued
 * job's status, whatever the engine would make of it once it starts. */
static void test_stats_status_is_downloading_once_the_job_is_queued(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"statsqueued.bin");
    BG_JOB_STATE job_state;
    DOSwarmStats stats;

    hold_background_slots();
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    stats = get_stats(file);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(job_state, BG_JOB_STATE_QUEUED);
    assert_int_equal(stats.status, SwarmStatus_Downloading);
    free_stats(&stats);
    IBackgroundCopyFile5_Release(file);
}

/* spec 5.1: FOREGROUND is the only foreground priority */
static void test_stats_of_a_foreground_job_are_not_background(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"statsfg.bin");
    DOSwarmStats stats;

    assert_hr(S_OK, IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_FOREGROUND));
    stats = get_stats(file);
    assert_int_equal(stats.isBackground, FALSE);
    free_stats(&stats);
    assert_hr(S_OK, IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_LOW));
    stats = get_stats(file);
    assert_int_equal(stats.isBackground, TRUE);
    free_stats(&stats);
    IBackgroundCopyFile5_Release(file);
}

static void test_get_stats_with_null_out_fails_with_invalidarg(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"statsnull.bin");
    IDeliveryOptimizationFile *dofile = dosvc_query(file, &IID_IDeliveryOptimizationFile);

    assert_hr(E_INVALIDARG, IDeliveryOptimizationFile_GetStats(dofile, NULL));
    IDeliveryOptimizationFile_Release(dofile);
    IBackgroundCopyFile5_Release(file);
}

/* ---- IDeliveryOptimizationFile2 (spec 3.15) -------------------------------------- */

static void test_sink_file_path_is_not_set_for_a_file_added_without_one(void **state)
{
    IDeliveryOptimizationFile2 *file = add_sinkless_file();
    IBackgroundCopyFile *bits = dosvc_query(file, &IID_IBackgroundCopyFile);
    WCHAR *name = NULL;
    VARIANT value;

    assert_hr(E_NOT_SET, IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_DownloadSinkFilePath, &value));
    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(bits, &name));
    assert_owned_wstr_equal(L"", name);
    IBackgroundCopyFile_Release(bits);
    IDeliveryOptimizationFile2_Release(file);
}

static void test_sink_file_path_set_becomes_the_local_name(void **state)
{
    IDeliveryOptimizationFile2 *file = add_sinkless_file();
    IBackgroundCopyFile *bits = dosvc_query(file, &IID_IBackgroundCopyFile);
    WCHAR given[MAX_PATH], *name = NULL;
    VARIANT value;

    wsprintfW(given, L"%s\\sub\\..\\sink.bin", dosvc_test_dir());
    assert_hr(S_OK, set_property(file, DOFilePropertyId_DownloadSinkFilePath, bstr_variant(given)));

    assert_hr(S_OK, IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_DownloadSinkFilePath, &value));
    assert_int_equal(V_VT(&value), VT_BSTR);
    assert_wstr_equal(dosvc_test_path(L"sink.bin"), V_BSTR(&value));
    VariantClear(&value);
    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(bits, &name));
    assert_owned_wstr_equal(dosvc_test_path(L"sink.bin"), name);
    IBackgroundCopyFile_Release(bits);
    IDeliveryOptimizationFile2_Release(file);
}

/* DO_E_FILE_DOWNLOADSINK_UNSPECIFIED holds Resume back until the sink is set. */
static void test_setting_the_sink_file_path_lets_the_job_resume(void **state)
{
    IDeliveryOptimizationFile2 *file = add_sinkless_file();
    BG_JOB_STATE job_state;

    assert_hr(DO_E_FILE_DOWNLOADSINK_UNSPECIFIED, IBackgroundCopyJob_Resume(job));
    assert_hr(S_OK, set_property(file, DOFilePropertyId_DownloadSinkFilePath,
                                 bstr_variant(dosvc_test_path(L"resumable.bin"))));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_running_state(job_state);
    IDeliveryOptimizationFile2_Release(file);
}

static void test_sink_file_path_of_a_file_added_with_a_local_name_is_that_name(void **state)
{
    IBackgroundCopyFile5 *bits = add_file(URL, L"bitsink.bin");
    IDeliveryOptimizationFile2 *file = dosvc_query(bits, &IID_IDeliveryOptimizationFile2);
    VARIANT value;

    assert_hr(S_OK, IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_DownloadSinkFilePath, &value));
    assert_int_equal(V_VT(&value), VT_BSTR);
    assert_wstr_equal(dosvc_test_path(L"bitsink.bin"), V_BSTR(&value));
    VariantClear(&value);
    IDeliveryOptimizationFile2_Release(file);
    IBackgroundCopyFile5_Release(bits);
}

/* Validated like AddFile's local name; a failed call leaves the path unset. */
static void test_sink_file_path_rejects_invalid_local_names(void **state)
{
    IDeliveryOptimizationFile2 *file = add_sinkless_file();
    WCHAR missing[MAX_PATH];
    VARIANT value;

    assert_hr(E_INVALIDARG, set_property(file, DOFilePropertyId_DownloadSinkFilePath, bstr_variant(L"relative.bin")));
    assert_hr(E_INVALIDARG, set_property(file, DOFilePropertyId_DownloadSinkFilePath, bstr_variant(L"")));
    assert_hr(E_INVALIDARG, set_property(file, DOFilePropertyId_DownloadSinkFilePath, bstr_variant(L"C:\\dir\\CON")));
    assert_hr(E_INVALIDARG, set_property(file, DOFilePropertyId_DownloadSinkFilePath, bstr_variant(L"C:\\dir\\*.bin")));
    assert_hr(E_INVALIDARG, set_property(file, DOFilePropertyId_DownloadSinkFilePath,
                                         bstr_variant(L"\\\\?\\C:\\dir\\a.bin")));
    wsprintfW(missing, L"%s\\no-such-folder\\a.bin", dosvc_test_dir());
    assert_hr(HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND),
              set_property(file, DOFilePropertyId_DownloadSinkFilePath, bstr_variant(missing)));
    assert_hr(E_NOT_SET, IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_DownloadSinkFilePath, &value));
    IDeliveryOptimizationFile2_Release(file);
}

static void test_sink_file_path_rejects_other_variant_types(void **state)
{
    IDeliveryOptimizationFile2 *file = add_sinkless_file();
    VARIANT value;

    assert_hr(E_INVALIDARG, set_property(file, DOFilePropertyId_DownloadSinkFilePath, i4_variant(4)));
    VariantInit(&value);
    assert_hr(E_INVALIDARG, set_property(file, DOFilePropertyId_DownloadSinkFilePath, value));     /* VT_EMPTY */
    V_VT(&value) = VT_BSTR;
    V_BSTR(&value) = NULL;
    assert_hr(E_INVALIDARG, set_property(file, DOFilePropertyId_DownloadSinkFilePath, value));
    assert_hr(E_NOT_SET, IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_DownloadSinkFilePath, &value));
    IDeliveryOptimizationFile2_Release(file);
}

/* spec 3.15: DO_E_INVALID_STATE when the job's state does not allow it */
static void test_sink_file_path_cannot_change_once_the_job_is_queued(void **state)
{
    IBackgroundCopyFile5 *bits = add_file(URL, L"queuedsink.bin");
    IDeliveryOptimizationFile2 *file = dosvc_query(bits, &IID_IDeliveryOptimizationFile2);
    WCHAR *name = NULL;

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_hr(DO_E_INVALID_STATE, set_property(file, DOFilePropertyId_DownloadSinkFilePath,
                                               bstr_variant(dosvc_test_path(L"other.bin"))));
    assert_hr(S_OK, IBackgroundCopyFile5_GetLocalName(bits, &name));
    assert_owned_wstr_equal(dosvc_test_path(L"queuedsink.bin"), name);
    IDeliveryOptimizationFile2_Release(file);
    IBackgroundCopyFile5_Release(bits);
}

static void test_file_properties_cannot_be_set_after_cancel(void **state)
{
    IDeliveryOptimizationFile2 *file = add_sinkless_file();
    VARIANT value;

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(DO_E_INVALID_STATE, set_property(file, DOFilePropertyId_DownloadSinkFilePath,
                                               bstr_variant(dosvc_test_path(L"late.bin"))));
    assert_hr(DO_E_INVALID_STATE, set_property(file, DOFilePropertyId_TotalSizeBytes, ui8_variant(100)));
    /* getters keep working, and nothing changed */
    assert_hr(E_NOT_SET, IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_DownloadSinkFilePath, &value));
    assert_hr(E_NOT_SET, IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_TotalSizeBytes, &value));
    IDeliveryOptimizationFile2_Release(file);
}

static void test_total_size_is_not_set_while_unknown(void **state)
{
    IDeliveryOptimizationFile2 *file = add_sinkless_file();
    VARIANT value;

    assert_hr(E_NOT_SET, IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_TotalSizeBytes, &value));
    IDeliveryOptimizationFile2_Release(file);
}

static void test_total_size_of_a_file_added_with_a_size_is_that_size(void **state)
{
    IBackgroundCopyFile5 *bits = add_do_file(L"known", L"known.bin", 0, NULL, 1234);
    IDeliveryOptimizationFile2 *file = dosvc_query(bits, &IID_IDeliveryOptimizationFile2);
    VARIANT value;

    assert_hr(S_OK, IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_TotalSizeBytes, &value));
    assert_int_equal(V_VT(&value), VT_UI8);
    assert_true(V_UI8(&value) == 1234);
    IDeliveryOptimizationFile2_Release(file);
    IBackgroundCopyFile5_Release(bits);
}

static void test_total_size_set_round_trips_and_becomes_the_progress_total(void **state)
{
    IDeliveryOptimizationFile2 *file = add_sinkless_file();
    IBackgroundCopyFile5 *bits = dosvc_query(file, &IID_IBackgroundCopyFile5);
    VARIANT value;

    assert_hr(S_OK, set_property(file, DOFilePropertyId_TotalSizeBytes, ui8_variant(777)));
    assert_hr(S_OK, IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_TotalSizeBytes, &value));
    assert_int_equal(V_VT(&value), VT_UI8);
    assert_true(V_UI8(&value) == 777);
    assert_progress(bits, 777, 0, FALSE);
    IBackgroundCopyFile5_Release(bits);
    IDeliveryOptimizationFile2_Release(file);
}

static void test_total_size_rejects_zero_and_other_variant_types(void **state)
{
    IDeliveryOptimizationFile2 *file = add_sinkless_file();
    VARIANT value;

    assert_hr(E_INVALIDARG, set_property(file, DOFilePropertyId_TotalSizeBytes, ui8_variant(0)));
    assert_hr(E_INVALIDARG, set_property(file, DOFilePropertyId_TotalSizeBytes, i4_variant(100)));
    assert_hr(E_INVALIDARG, set_property(file, DOFilePropertyId_TotalSizeBytes, bstr_variant(L"100")));
    assert_hr(E_NOT_SET, IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_TotalSizeBytes, &value));
    IDeliveryOptimizationFile2_Release(file);
}

/* Nothing checks a file's integrity, so IntegrityCheckMandatory answers as on a DO without
 * integrity checks, DO_E_UNKNOWN_PROPERTY_ID both ways, as IDODownload does (docs/ido.md):
 * storing TRUE would promise a check nothing makes. */
static void test_integrity_check_mandatory_is_unknown_both_ways(void **state)
{
    IDeliveryOptimizationFile2 *file = add_sinkless_file();
    VARIANT value;

    assert_hr(DO_E_UNKNOWN_PROPERTY_ID,
              IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_IntegrityCheckMandatory, &value));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, set_property(file, DOFilePropertyId_IntegrityCheckMandatory, bool_variant(VARIANT_TRUE)));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, set_property(file, DOFilePropertyId_IntegrityCheckMandatory, bool_variant(VARIANT_FALSE)));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID,
              IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_IntegrityCheckMandatory, &value));
    IDeliveryOptimizationFile2_Release(file);
}

static void test_download_sink_memory_stream_is_not_supported(void **state)
{
    IDeliveryOptimizationFile2 *file = add_sinkless_file();
    VARIANT value;

    assert_hr(DO_E_MEMORYSTREAM_DOWNLOAD_NOT_SUPPORTED,
              set_property(file, DOFilePropertyId_DownloadSinkMemoryStream, bool_variant(VARIANT_TRUE)));
    assert_hr(E_NOT_SET, IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_DownloadSinkMemoryStream, &value));
    IDeliveryOptimizationFile2_Release(file);
}

static void test_unknown_do_file_property_ids_are_refused(void **state)
{
    static const int ids[] = { 7, 8, 99, -1 };
    IDeliveryOptimizationFile2 *file = add_sinkless_file();
    VARIANT value;
    size_t i;

    for (i = 0; i < ARRAYSIZE(ids); i++)
    {
        assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IDeliveryOptimizationFile2_GetProperty(file, (DOFilePropertyId)ids[i], &value));
        assert_hr(DO_E_UNKNOWN_PROPERTY_ID, set_property(file, (DOFilePropertyId)ids[i], ui8_variant(1)));
    }
    IDeliveryOptimizationFile2_Release(file);
}

static void test_do_file_property_with_null_variant_fails_with_invalidarg(void **state)
{
    IDeliveryOptimizationFile2 *file = add_sinkless_file();

    assert_hr(E_INVALIDARG, IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_TotalSizeBytes, NULL));
    assert_hr(E_INVALIDARG, IDeliveryOptimizationFile2_SetProperty(file, DOFilePropertyId_TotalSizeBytes, NULL));
    assert_hr(E_INVALIDARG, IDeliveryOptimizationFile2_SetProperty(file, DOFilePropertyId_DownloadSinkFilePath, NULL));
    IDeliveryOptimizationFile2_Release(file);
}

/* Issue 9 defect 4: the path rules hold for the path a file URL decodes to. */
static void test_set_remote_name_rejects_file_urls_naming_devices(void **state)
{
    IBackgroundCopyFile5 *file = add_file(URL, L"devurl.bin");
    size_t i;

    for (i = 0; dosvc_device_file_urls[i]; i++)
    {
        assert_hr(E_INVALIDARG, IBackgroundCopyFile5_SetRemoteName(file, dosvc_device_file_urls[i]));
        assert_remote_name(file, URL);
    }
    IBackgroundCopyFile5_Release(file);
}

/* Issue 9 defect 6: nothing verifies pieces, decrypts or writes to a sink object, so these ids
 * answer as on a DO without those features, DO_E_UNKNOWN_PROPERTY_ID both ways (spec 3.15 lists
 * it for both), never E_NOTIMPL, and change nothing. */
static void test_decryption_integrity_info_and_sink_interface_are_unknown_both_ways(void **state)
{
    IDeliveryOptimizationFile2 *file = add_sinkless_file();
    VARIANT value;

    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_DecryptionInfo, &value));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID,
              IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_IntegrityCheckInfo, &value));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID,
              IDeliveryOptimizationFile2_GetProperty(file, DOFilePropertyId_DownloadSinkInterface, &value));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, set_property(file, DOFilePropertyId_DecryptionInfo, bstr_variant(L"{\"KeyData\":\"AA==\"}")));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, set_property(file, DOFilePropertyId_IntegrityCheckInfo,
                                                     bstr_variant(L"{\"PiecesHashFileUrl\":\"http://127.0.0.1:1/h\"}")));
    VariantInit(&value);
    V_VT(&value) = VT_UNKNOWN;
    V_UNKNOWN(&value) = (IUnknown *)file;
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IDeliveryOptimizationFile2_SetProperty(file, DOFilePropertyId_DownloadSinkInterface, &value));
    IDeliveryOptimizationFile2_Release(file);
}

/* Issue 9 defect 6: "DO<unique>.tmp" beside the destination, DoSvc's name for its temporary files,
 * which the DO SDK's tests and cleanup tools look for; two jobs' files never share one. */
static void test_temporary_names_are_dosvc_style_and_differ_between_jobs(void **state)
{
    IBackgroundCopyJob *other;
    IBackgroundCopyFile *file;
    IBackgroundCopyFile3 *mine, *theirs;
    WCHAR *name = NULL, *other_name = NULL, *base;
    GUID id;

    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, URL, dosvc_test_path(L"same.bin")));
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"other job", BG_JOB_TYPE_DOWNLOAD, &id, &other));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(other, URL, dosvc_test_path(L"same.bin")));
    mine = file_at(0, &IID_IBackgroundCopyFile3);
    file = dosvc_file_at(other, 0);
    theirs = dosvc_query(file, &IID_IBackgroundCopyFile3);
    IBackgroundCopyFile_Release(file);
    assert_hr(S_OK, IBackgroundCopyFile3_GetTemporaryName(mine, &name));
    assert_hr(S_OK, IBackgroundCopyFile3_GetTemporaryName(theirs, &other_name));
    base = wcsrchr(name, '\\') + 1;
    assert_true(base[0] == 'D' && base[1] == 'O');
    assert_int_equal(_wcsicmp(base + wcslen(base) - 4, L".tmp"), 0);
    assert_true(wcscmp(name, other_name) != 0);
    CoTaskMemFree(name);
    CoTaskMemFree(other_name);
    IBackgroundCopyFile3_Release(mine);
    IBackgroundCopyFile3_Release(theirs);
    IBackgroundCopyJob_Cancel(other);
    IBackgroundCopyJob_Release(other);
}

#define JOB_TEST(f) cmocka_unit_test_setup_teardown(f, job_setup, job_teardown)

int main(void)
{
    const struct CMUnitTest query_interface[] = {
        JOB_TEST(test_file_answers_every_file_interface),
        JOB_TEST(test_file_interfaces_share_one_identity),
        JOB_TEST(test_file_refuses_other_interfaces),
        JOB_TEST(test_file_query_interface_with_null_out_fails_with_e_pointer),
        JOB_TEST(test_file_query_interface_adds_a_reference),
    };
    const struct CMUnitTest file[] = {
        JOB_TEST(test_get_remote_name_returns_the_url_given),
        JOB_TEST(test_get_local_name_returns_the_canonical_full_path),
        JOB_TEST(test_get_names_with_null_out_fail_with_invalidarg),
        JOB_TEST(test_progress_before_transfer_is_unknown_size_and_nothing_transferred),
        JOB_TEST(test_progress_with_a_known_file_size_reports_that_size),
        JOB_TEST(test_progress_with_ranges_totals_the_requested_bytes),
        JOB_TEST(test_progress_with_a_range_to_eof_of_unknown_size_is_unknown),
        JOB_TEST(test_progress_with_a_range_to_eof_of_known_size_counts_to_the_end),
        JOB_TEST(test_get_progress_with_null_out_fails_with_invalidarg),
    };
    const struct CMUnitTest file2[] = {
        JOB_TEST(test_get_file_ranges_without_ranges_is_s_false_with_none),
        JOB_TEST(test_get_file_ranges_returns_the_ranges_in_the_order_given),
        JOB_TEST(test_get_file_ranges_with_null_outs_fails_with_invalidarg),
        JOB_TEST(test_set_remote_name_replaces_the_remote_name),
        JOB_TEST(test_set_remote_name_accepts_2200_characters_and_rejects_2201),
        JOB_TEST(test_set_remote_name_rejects_invalid_names),
        JOB_TEST(test_set_remote_name_after_cancel_is_invalid_state),
        JOB_TEST(test_set_remote_name_after_complete_is_invalid_state),
        JOB_TEST(test_set_remote_name_rejects_file_urls_naming_devices),
    };
    const struct CMUnitTest file3_4[] = {
        JOB_TEST(test_temporary_name_is_beside_the_local_name_and_names_job_and_index),
        JOB_TEST(test_temporary_name_follows_the_sink_file_path),
        JOB_TEST(test_get_temporary_name_with_null_out_fails_with_invalidarg),
        JOB_TEST(test_set_validation_state_before_transfer_is_invalid_state),
        JOB_TEST(test_validation_state_is_false_before_transfer),
        JOB_TEST(test_file_is_never_downloaded_from_a_peer),
        JOB_TEST(test_peer_download_stats_are_zero_before_transfer),
        JOB_TEST(test_temporary_names_are_dosvc_style_and_differ_between_jobs),
    };
    const struct CMUnitTest file5[] = {
        JOB_TEST(test_response_headers_property_is_read_only),
        JOB_TEST(test_set_unknown_bits_file_property_is_unknown_property_id),
        JOB_TEST(test_response_headers_are_empty_before_any_response),
        JOB_TEST(test_get_unknown_bits_file_property_is_unknown_property_id),
    };
    const struct CMUnitTest do_file[] = {
        JOB_TEST(test_stats_of_a_file_added_by_bits_before_transfer),
        JOB_TEST(test_stats_carry_the_do_file_id_and_known_size),
        JOB_TEST(test_stats_source_url_follows_set_remote_name),
        cmocka_unit_test_setup_teardown(test_stats_status_is_downloading_once_the_job_is_queued, job_setup,
                                        slot_holders_teardown),
        JOB_TEST(test_stats_of_a_foreground_job_are_not_background),
        JOB_TEST(test_get_stats_with_null_out_fails_with_invalidarg),
    };
    const struct CMUnitTest do_file2[] = {
        JOB_TEST(test_sink_file_path_is_not_set_for_a_file_added_without_one),
        JOB_TEST(test_sink_file_path_set_becomes_the_local_name),
        JOB_TEST(test_setting_the_sink_file_path_lets_the_job_resume),
        JOB_TEST(test_sink_file_path_of_a_file_added_with_a_local_name_is_that_name),
        JOB_TEST(test_sink_file_path_rejects_invalid_local_names),
        JOB_TEST(test_sink_file_path_rejects_other_variant_types),
        JOB_TEST(test_sink_file_path_cannot_change_once_the_job_is_queued),
        JOB_TEST(test_file_properties_cannot_be_set_after_cancel),
        JOB_TEST(test_total_size_is_not_set_while_unknown),
        JOB_TEST(test_total_size_of_a_file_added_with_a_size_is_that_size),
        JOB_TEST(test_total_size_set_round_trips_and_becomes_the_progress_total),
        JOB_TEST(test_total_size_rejects_zero_and_other_variant_types),
        JOB_TEST(test_integrity_check_mandatory_is_unknown_both_ways),
        JOB_TEST(test_download_sink_memory_stream_is_not_supported),
        JOB_TEST(test_unknown_do_file_property_ids_are_refused),
        JOB_TEST(test_do_file_property_with_null_variant_fails_with_invalidarg),
        JOB_TEST(test_decryption_integrity_info_and_sink_interface_are_unknown_both_ways),
    };
    int failed = 0;

    failed += cmocka_run_group_tests_name("file QueryInterface", query_interface, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("IBackgroundCopyFile", file, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("IBackgroundCopyFile2", file2, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("IBackgroundCopyFile3/4", file3_4, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("IBackgroundCopyFile5", file5, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("IDeliveryOptimizationFile", do_file, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("IDeliveryOptimizationFile2", do_file2, group_setup, group_teardown);
    return failed;
}
