/*
 * The job object: IBackgroundCopyJob to IBackgroundCopyJob5 in the classic
 * vtable order (spec 3.2-3.4), IDeliveryOptimizationJob (3.12) and
 * IDeliveryOptimizationJob2 (3.13). The values asserted are the ones
 * notes/com_decisions.md ("Job") says dosvc returns.
 *
 * Each test gets a new job, "test job", as an IBackgroundCopyJob5 in *state;
 * the teardown cancels it (a no-op DO_E_INVALID_STATE if the test ended it)
 * and releases it. Job5 inherits every classic method, so one pointer reaches
 * Job to Job5; the DO interfaces are asked for with QueryInterface.
 */
#include "com_test.h"

#include <sddl.h>
#include <stdlib.h>
#include <wchar.h>

/* Loopback only: nothing listens on port 1, so a resumed job's connection is refused, it goes
 * to TRANSIENT_ERROR and waits its minimum retry delay (600 s) until the test ends it. */
#define URL L"http://127.0.0.1:1/file.bin"
#define PROGRAM L"C:\\windows\\system32\\cmd.exe"
#define BITS_COST_STATE_UNRESTRICTED 0x1
#define BG_NOTIFY_ALL_FLAGS 0x3F         /* BG_NOTIFY_JOB_TRANSFERRED .. BG_NOTIFY_FILE_RANGES_TRANSFERRED */

static IBackgroundCopyManager *manager;

static const GUID CLSID_notify_server =
    { 0x2e5e84e9, 0x4049, 0x4244, { 0xb7, 0x28, 0x2d, 0x24, 0x22, 0x71, 0x57, 0xc7 } };

/* ---- helpers: text ------------------------------------------------------------ */

static BOOL wstr_same(const WCHAR *a, const WCHAR *b)
{
    if (!a || !b) return a == b;
    return !wcscmp(a, b);
}

/* prefix followed by n copies of c, freed with free(). */
static WCHAR *padded(const WCHAR *prefix, WCHAR c, size_t n)
{
    size_t len = wcslen(prefix), i;
    WCHAR *s = malloc((len + n + 1) * sizeof(WCHAR));

    assert_non_null(s);
    memcpy(s, prefix, len * sizeof(WCHAR));
    for (i = 0; i < n; i++) s[len + i] = c;
    s[len + n] = 0;
    return s;
}

/* A path in this process's test folder, which exists. */
static const WCHAR *local_path(const WCHAR *name)
{
    return dosvc_test_path(name);
}

/* The caller's string SID ("S-1-5-..."); free with LocalFree. */
static WCHAR *caller_sid(void)
{
    union { TOKEN_USER user; BYTE bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE]; } info;
    WCHAR *sid = NULL;
    HANDLE token;
    DWORD size;

    assert_true(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
    assert_true(GetTokenInformation(token, TokenUser, &info, sizeof(info), &size));
    CloseHandle(token);
    assert_true(ConvertSidToStringSidW(info.user.User.Sid, &sid));
    return sid;
}

/* ---- helpers: reading a job ----------------------------------------------------- */

static BG_JOB_STATE state_of(IBackgroundCopyJob5 *job)
{
    BG_JOB_STATE state = 0xdeadbeef;
    assert_hr(S_OK, IBackgroundCopyJob5_GetState(job, &state));
    return state;
}

static BG_JOB_PROGRESS progress_of(IBackgroundCopyJob5 *job)
{
    BG_JOB_PROGRESS progress;
    memset(&progress, 0xcc, sizeof(progress));
    assert_hr(S_OK, IBackgroundCopyJob5_GetProgress(job, &progress));
    return progress;
}

/* After Resume the engine may already have started the job and failed to connect: any of
 * the states of a live run (QUEUED, TRANSFERRING, TRANSIENT_ERROR) is what Resume gives. */
static void assert_running_state(IBackgroundCopyJob5 *job)
{
    BG_JOB_STATE state = state_of(job);

    if (state != BG_JOB_STATE_QUEUED && state != BG_JOB_STATE_TRANSFERRING && state != BG_JOB_STATE_TRANSIENT_ERROR)
        fail_msg("job state %d, expected QUEUED, TRANSFERRING or TRANSIENT_ERROR", (int)state);
}

static ULONG files_total(IBackgroundCopyJob5 *job)
{
    return progress_of(job).FilesTotal;
}

static ULONGLONG filetime_value(FILETIME ft)
{
    return ((ULONGLONG)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
}

static BG_JOB_TIMES times_of(IBackgroundCopyJob5 *job)
{
    BG_JOB_TIMES times;
    memset(&times, 0xcc, sizeof(times));
    assert_hr(S_OK, IBackgroundCopyJob5_GetTimes(job, &times));
    return times;
}

static ULONGLONG modified_of(IBackgroundCopyJob5 *job)
{
    return filetime_value(times_of(job).ModificationTime);
}

/* The job's file at index, through a file enumerator. */
static IBackgroundCopyFile *file_at(IBackgroundCopyJob5 *job, ULONG index)
{
    IEnumBackgroundCopyFiles *files = NULL;
    IBackgroundCopyFile *file = NULL;

    assert_hr(S_OK, IBackgroundCopyJob5_EnumFiles(job, &files));
    if (index) assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, index));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    IEnumBackgroundCopyFiles_Release(files);
    assert_non_null(file);
    return file;
}

/* CoTaskMem copies of a file's names. */
static WCHAR *local_name_at(IBackgroundCopyJob5 *job, ULONG index)
{
    IBackgroundCopyFile *file = file_at(job, index);
    WCHAR *name = NULL;

    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(file, &name));
    IBackgroundCopyFile_Release(file);
    return name;
}

static WCHAR *remote_name_at(IBackgroundCopyJob5 *job, ULONG index)
{
    IBackgroundCopyFile *file = file_at(job, index);
    WCHAR *name = NULL;

    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(file, &name));
    IBackgroundCopyFile_Release(file);
    return name;
}

static void assert_local_name(IBackgroundCopyJob5 *job, ULONG index, const WCHAR *expected)
{
    WCHAR *name = local_name_at(job, index);
    assert_wstr_equal(expected, name);
    CoTaskMemFree(name);
}

static void assert_remote_name(IBackgroundCopyJob5 *job, ULONG index, const WCHAR *expected)
{
    WCHAR *name = remote_name_at(job, index);
    assert_wstr_equal(expected, name);
    CoTaskMemFree(name);
}

static IDeliveryOptimizationJob *do_job(IBackgroundCopyJob5 *job)
{
    IDeliveryOptimizationJob *dojob = NULL;
    assert_hr(S_OK, IBackgroundCopyJob5_QueryInterface(job, &IID_IDeliveryOptimizationJob, (void **)&dojob));
    return dojob;
}

static IDeliveryOptimizationJob2 *do_job2(IBackgroundCopyJob5 *job)
{
    IDeliveryOptimizationJob2 *dojob2 = NULL;
    assert_hr(S_OK, IBackgroundCopyJob5_QueryInterface(job, &IID_IDeliveryOptimizationJob2, (void **)&dojob2));
    return dojob2;
}

static void add_file(IBackgroundCopyJob5 *job)
{
    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, URL, local_path(L"file.bin")));
}

/* A failed AddFile adds nothing ("A call that fails changes nothing", DESIGN rule 3). */
static void assert_add_file_fails(IBackgroundCopyJob5 *job, HRESULT expected, const WCHAR *remote, const WCHAR *local)
{
    ULONG before = files_total(job);
    HRESULT hr = IBackgroundCopyJob5_AddFile(job, remote, local);

    if (hr != expected)
        fail_msg("AddFile(\"%s\", \"%s\") returned 0x%08lx, expected 0x%08lx", dosvc_utf8(remote), dosvc_utf8(local),
                 (unsigned long)hr, (unsigned long)expected);
    assert_int_equal(files_total(job), before);
}

static BITS_JOB_PROPERTY_VALUE dword_value(DWORD dword)
{
    BITS_JOB_PROPERTY_VALUE value;
    memset(&value, 0, sizeof(value));
    value.Dword = dword;
    return value;
}

static BITS_JOB_PROPERTY_VALUE clsid_value(const GUID *clsid)
{
    BITS_JOB_PROPERTY_VALUE value;
    memset(&value, 0, sizeof(value));
    value.ClsID = *clsid;
    return value;
}

static BG_AUTH_CREDENTIALS basic_credentials(BG_AUTH_TARGET target, const WCHAR *user, const WCHAR *password)
{
    BG_AUTH_CREDENTIALS credentials;
    memset(&credentials, 0, sizeof(credentials));
    credentials.Target = target;
    credentials.Scheme = BG_AUTH_SCHEME_BASIC;
    credentials.Credentials.Basic.UserName = (WCHAR *)user;
    credentials.Credentials.Basic.Password = (WCHAR *)password;
    return credentials;
}

/* Checks an HRESULT without stopping, so one test reports every offending call. */
static void expect_hr(const char *call, HRESULT expected, HRESULT actual, int *failures)
{
    if (actual == expected) return;
    print_error("%s returned 0x%08lx, expected 0x%08lx\n", call, (unsigned long)actual, (unsigned long)expected);
    (*failures)++;
}

#define EXPECT_HR(expected, call) expect_hr(#call, (expected), (call), &failures)

/* ---- client callbacks whose reference counts the test can read ------------------------ */

/* Static, so a job that outlives a failed test never calls into a dead stack frame. */
static struct test_callback callbacks[2];

/* An object that is nothing but IUnknown. */
struct plain
{
    IUnknown IUnknown_iface;
    LONG refs;
};

static HRESULT WINAPI plain_QueryInterface(IUnknown *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown))
    {
        *out = iface;
        IUnknown_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI plain_AddRef(IUnknown *iface)
{
    return InterlockedIncrement(&CONTAINING_RECORD(iface, struct plain, IUnknown_iface)->refs);
}

static ULONG WINAPI plain_Release(IUnknown *iface)
{
    return InterlockedDecrement(&CONTAINING_RECORD(iface, struct plain, IUnknown_iface)->refs);
}

static const IUnknownVtbl plain_vtbl = { plain_QueryInterface, plain_AddRef, plain_Release };

/* ---- fixtures ------------------------------------------------------------------------ */

static int setup_group(void **state)
{
    return dosvc_setup_manager(&manager);
}

static int teardown_group(void **state)
{
    return dosvc_teardown_manager(&manager);
}

static int setup_job(void **state)
{
    IBackgroundCopyJob *job;
    HRESULT hr;
    GUID id;

    if (FAILED(IBackgroundCopyManager_CreateJob(manager, L"test job", BG_JOB_TYPE_DOWNLOAD, &id, &job))) return -1;
    hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob5, state);
    IBackgroundCopyJob_Release(job);
    return FAILED(hr) ? -1 : 0;
}

static int teardown_job(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    IBackgroundCopyJob5_Cancel(job);
    IBackgroundCopyJob5_Release(job);
    return 0;
}

#define job_test(f) cmocka_unit_test_setup_teardown(f, setup_job, teardown_job)

/* ==== a new job: defaults (notes/com_decisions.md "New job") =========================== */

static void test_new_job_is_suspended(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_int_equal(state_of(job), BG_JOB_STATE_SUSPENDED);
}

static void test_new_job_is_a_download(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_JOB_TYPE type = 0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob5_GetType(job, &type));
    assert_int_equal(type, BG_JOB_TYPE_DOWNLOAD);
}

static void test_new_job_has_normal_priority(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_JOB_PRIORITY priority = 0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob5_GetPriority(job, &priority));
    assert_int_equal(priority, BG_JOB_PRIORITY_NORMAL);
}

static void test_new_job_notifies_transferred_and_error(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    ULONG flags = 0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyFlags(job, &flags));
    assert_int_equal(flags, BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR);
}

static void test_new_job_minimum_retry_delay_is_600_seconds(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    ULONG seconds = 0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob5_GetMinimumRetryDelay(job, &seconds));
    assert_int_equal(seconds, 600);
}

/* Classic BITS' default: 90 days. */
static void test_new_job_maximum_download_time_is_90_days(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    ULONG seconds = 0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob5_GetMaximumDownloadTime(job, &seconds));
    assert_int_equal(seconds, 7776000);
}

static void test_new_job_no_progress_timeout_is_86400_seconds(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    ULONG seconds = 0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob5_GetNoProgressTimeout(job, &seconds));
    assert_int_equal(seconds, 86400);
}

static void test_new_job_uses_preconfigured_proxy_without_lists(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_JOB_PROXY_USAGE usage = 0xdeadbeef;
    WCHAR *list = (WCHAR *)0xdeadbeef, *bypass = (WCHAR *)0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob5_GetProxySettings(job, &usage, &list, &bypass));
    assert_int_equal(usage, BG_JOB_PROXY_USAGE_PRECONFIG);
    assert_null(list);
    assert_null(bypass);
}

static void test_new_job_has_no_errors(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    ULONG errors = 0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob5_GetErrorCount(job, &errors));
    assert_int_equal(errors, 0);
}

/* spec 3.2 slot 15 */
static void test_new_job_get_error_fails_with_error_information_unavailable(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IBackgroundCopyError *error = (IBackgroundCopyError *)0xdeadbeef;

    assert_hr(DO_E_ERROR_INFORMATION_UNAVAILABLE, IBackgroundCopyJob5_GetError(job, &error));
    assert_null(error);
}

static void test_new_job_cost_flags_are_transfer_always(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BITS_JOB_PROPERTY_VALUE value = dword_value(0xdeadbeef);

    assert_hr(S_OK, IBackgroundCopyJob5_GetProperty(job, BITS_JOB_PROPERTY_ID_COST_FLAGS, &value));
    assert_int_equal(value.Dword, 0x800000FF);
}

static void test_new_job_notification_clsid_is_null(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BITS_JOB_PROPERTY_VALUE value = clsid_value(&CLSID_notify_server);

    assert_hr(S_OK, IBackgroundCopyJob5_GetProperty(job, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, &value));
    assert_memory_equal(&value.ClsID, &GUID_NULL, sizeof(GUID));
}

static void test_new_job_description_is_empty(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *description = NULL;

    assert_hr(S_OK, IBackgroundCopyJob5_GetDescription(job, &description));
    assert_wstr_equal(L"", description);
    CoTaskMemFree(description);
}

static void test_new_job_owner_is_callers_sid(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *owner = NULL, *sid = caller_sid();

    assert_hr(S_OK, IBackgroundCopyJob5_GetOwner(job, &owner));
    assert_true(!wcsncmp(owner, L"S-1-5-", 6));
    assert_wstr_equal(sid, owner);
    CoTaskMemFree(owner);
    LocalFree(sid);
}

static void test_new_job_was_modified_when_created_and_never_completed(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_JOB_TIMES times = times_of(job);

    assert_true(filetime_value(times.CreationTime) != 0);
    assert_int_equal(filetime_value(times.ModificationTime), filetime_value(times.CreationTime));
    assert_int_equal(filetime_value(times.TransferCompletionTime), 0);
}

static void test_new_job_has_no_files(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_JOB_PROGRESS progress = progress_of(job);
    IEnumBackgroundCopyFiles *files = NULL;
    ULONG count = 0xdeadbeef;

    assert_int_equal(progress.FilesTotal, 0);
    assert_int_equal(progress.FilesTransferred, 0);
    assert_int_equal(progress.BytesTransferred, 0);
    assert_hr(S_OK, IBackgroundCopyJob5_EnumFiles(job, &files));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_GetCount(files, &count));
    assert_int_equal(count, 0);
    IEnumBackgroundCopyFiles_Release(files);
}

static void test_new_job_has_no_notify_interface(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IUnknown *callback = (IUnknown *)0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyInterface(job, &callback));
    assert_null(callback);
}

static void test_new_job_has_no_notify_command_line(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *program = (WCHAR *)0xdeadbeef, *parameters = (WCHAR *)0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyCmdLine(job, &program, &parameters));
    assert_null(program);
    assert_null(parameters);
}

static ULONGLONG now_filetime(void)
{
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    return filetime_value(ft);
}

static ULONG error_count_of(IBackgroundCopyJob5 *job)
{
    ULONG errors = 0xdeadbeef;
    assert_hr(S_OK, IBackgroundCopyJob5_GetErrorCount(job, &errors));
    return errors;
}

/* A file of a few bytes in the test folder, to copy from (a local source needs no server). */
static const WCHAR *make_local_source(const WCHAR *name)
{
    const WCHAR *path = local_path(name);
    HANDLE file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    DWORD written;

    assert_true(file != INVALID_HANDLE_VALUE);
    assert_true(WriteFile(file, "times", 5, &written, NULL));
    CloseHandle(file);
    return path;
}

/* spec 5.1 (W:bg-job-times.md); Firefox's updater gives up on a job whose GetTimes fails: the
 * times are ordered, and TransferCompletionTime is set when, and only when, the job is transferred. */
static void test_get_times_are_ordered_and_completion_is_set_on_transfer(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    const WCHAR *local = local_path(L"times-copy.bin");
    BG_JOB_TIMES before, after;
    ULONGLONG resumed, settled;
    WCHAR source[MAX_PATH];

    lstrcpyW(source, make_local_source(L"times-source.bin"));
    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, source, local));
    before = times_of(job);
    assert_true(filetime_value(before.CreationTime) != 0);
    assert_true(filetime_value(before.CreationTime) <= filetime_value(before.ModificationTime));
    assert_true(filetime_value(before.ModificationTime) <= now_filetime());
    assert_true(filetime_value(before.TransferCompletionTime) == 0);

    dosvc_wait_for_clock_past(filetime_value(before.ModificationTime));
    resumed = now_filetime();
    assert_hr(S_OK, IBackgroundCopyJob5_Resume(job));
    assert_int_equal(dosvc_wait_for_state((IBackgroundCopyJob *)job, DOSVC_STATE(BG_JOB_STATE_TRANSFERRED)
                                          | DOSVC_STATE(BG_JOB_STATE_ERROR), 10000), BG_JOB_STATE_TRANSFERRED);
    settled = now_filetime();
    after = times_of(job);
    assert_true(filetime_value(after.CreationTime) == filetime_value(before.CreationTime));
    assert_true(filetime_value(after.TransferCompletionTime) >= resumed);
    assert_true(filetime_value(after.TransferCompletionTime) <= settled);
    assert_true(filetime_value(after.TransferCompletionTime) <= filetime_value(after.ModificationTime));
    assert_true(filetime_value(after.ModificationTime) <= settled);
    IBackgroundCopyJob5_Cancel(job);
    DeleteFileW(source);
}

/* Firefox's updater reads GetErrorCount: each error the job meets counts, a Resume clears none. */
static void test_error_count_grows_with_each_error(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    const unsigned settled = DOSVC_STATE(BG_JOB_STATE_TRANSFERRED) | DOSVC_STATE(BG_JOB_STATE_ERROR);

    /* A local source that does not exist: each run ends in ERROR at once. */
    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, local_path(L"no-such-source.bin"), local_path(L"errors.bin")));
    assert_int_equal(error_count_of(job), 0);
    assert_hr(S_OK, IBackgroundCopyJob5_Resume(job));
    assert_int_equal(dosvc_wait_for_state((IBackgroundCopyJob *)job, settled, 10000), BG_JOB_STATE_ERROR);
    assert_int_equal(error_count_of(job), 1);
    assert_hr(S_OK, IBackgroundCopyJob5_Resume(job));
    assert_int_equal(dosvc_wait_for_state((IBackgroundCopyJob *)job, settled, 10000), BG_JOB_STATE_ERROR);
    assert_int_equal(error_count_of(job), 2);
}

/* DO's convention: a NULL out-pointer is E_INVALIDARG, for every getter. */
static void test_getters_reject_null_out_with_invalid_arg(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IDeliveryOptimizationJob2 *dojob2 = do_job2(job);
    BG_JOB_PROXY_USAGE usage;
    WCHAR *text;
    UINT64 length;
    byte *buffer;
    int failures = 0;

    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_EnumFiles(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetId(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetType(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetProgress(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetTimes(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetState(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetError(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetOwner(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetDisplayName(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetDescription(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetPriority(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetNotifyFlags(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetNotifyInterface(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetMinimumRetryDelay(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetNoProgressTimeout(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetErrorCount(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetProxySettings(job, NULL, &text, &text));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetProxySettings(job, &usage, NULL, &text));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetProxySettings(job, &usage, &text, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetNotifyCmdLine(job, NULL, &text));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetNotifyCmdLine(job, &text, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetReplyProgress(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetReplyData(job, NULL, &length));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetReplyData(job, &buffer, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetReplyFileName(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetFileACLFlags(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetPeerCachingFlags(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetOwnerIntegrityLevel(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetOwnerElevationState(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetMaximumDownloadTime(job, NULL));
    EXPECT_HR(E_INVALIDARG, IBackgroundCopyJob5_GetProperty(job, BITS_JOB_PROPERTY_ID_COST_FLAGS, NULL));
    EXPECT_HR(E_INVALIDARG, IDeliveryOptimizationJob2_GetProperty(dojob2, DOJobPropertyId_ExtendedErrorInfo, NULL));
    IDeliveryOptimizationJob2_Release(dojob2);
    assert_int_equal(failures, 0);
}

/* ==== QueryInterface ====================================================================== */

static const IID *const job_iids[] = {
    &IID_IUnknown, &IID_IBackgroundCopyJob, &IID_IBackgroundCopyJob2, &IID_IBackgroundCopyJob3,
    &IID_IBackgroundCopyJob4, &IID_IBackgroundCopyJob5, &IID_IDeliveryOptimizationJob,
    &IID_IDeliveryOptimizationJob2, &IID_IBackgroundCopyJobHttpOptions,
};

static void test_job_answers_every_job_interface(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IUnknown *out;
    size_t i;

    for (i = 0; i < ARRAYSIZE(job_iids); i++)
    {
        out = NULL;
        assert_hr(S_OK, IBackgroundCopyJob5_QueryInterface(job, job_iids[i], (void **)&out));
        assert_non_null(out);
        IUnknown_Release(out);
    }
}

/* A job is never a file, a manager or a callback. */
static void test_job_refuses_other_interfaces_with_no_interface(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    const IID *iids[] = { &IID_IBackgroundCopyFile, &IID_IBackgroundCopyManager, &IID_IBackgroundCopyCallback,
                          &IID_IBackgroundCopyFile2 };
    void *out;
    size_t i;

    for (i = 0; i < ARRAYSIZE(iids); i++)
    {
        out = (void *)0xdeadbeef;
        assert_hr(E_NOINTERFACE, IBackgroundCopyJob5_QueryInterface(job, iids[i], &out));
        assert_null(out);
    }
}

static void test_job_query_interface_with_null_out_fails_with_pointer(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(E_POINTER, IBackgroundCopyJob5_QueryInterface(job, &IID_IBackgroundCopyJob, NULL));
}

static void test_job_iunknown_is_the_same_from_every_interface(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IUnknown *identity, *iface, *unknown;
    size_t i;

    assert_hr(S_OK, IBackgroundCopyJob5_QueryInterface(job, &IID_IUnknown, (void **)&identity));
    for (i = 0; i < ARRAYSIZE(job_iids); i++)
    {
        assert_hr(S_OK, IBackgroundCopyJob5_QueryInterface(job, job_iids[i], (void **)&iface));
        assert_hr(S_OK, IUnknown_QueryInterface(iface, &IID_IUnknown, (void **)&unknown));
        assert_ptr_equal(unknown, identity);
        IUnknown_Release(unknown);
        IUnknown_Release(iface);
    }
    IUnknown_Release(identity);
}

/* ==== state machine (spec 5.1) ============================================================ */

static void test_resume_empty_job_fails_with_job_empty(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(DO_E_JOB_EMPTY, IBackgroundCopyJob5_Resume(job));
    assert_int_equal(state_of(job), BG_JOB_STATE_SUSPENDED);
}

/* Resume queues the job; the engine may start it at once (and, on port 1, fail to connect). */
static void test_resume_moves_suspended_job_to_a_running_state(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    add_file(job);
    assert_hr(S_OK, IBackgroundCopyJob5_Resume(job));
    assert_running_state(job);
}

static void test_resume_of_a_running_job_succeeds_and_keeps_it_running(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    add_file(job);
    assert_hr(S_OK, IBackgroundCopyJob5_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob5_Resume(job));
    assert_running_state(job);
}

static void test_suspend_suspended_job_succeeds_twice(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(S_OK, IBackgroundCopyJob5_Suspend(job));
    assert_hr(S_OK, IBackgroundCopyJob5_Suspend(job));
    assert_int_equal(state_of(job), BG_JOB_STATE_SUSPENDED);
}

static void test_suspend_moves_queued_job_back_to_suspended(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    add_file(job);
    assert_hr(S_OK, IBackgroundCopyJob5_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob5_Suspend(job));
    assert_int_equal(state_of(job), BG_JOB_STATE_SUSPENDED);
}

static void test_cancel_moves_job_to_cancelled(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    add_file(job);
    assert_hr(S_OK, IBackgroundCopyJob5_Cancel(job));
    assert_int_equal(state_of(job), BG_JOB_STATE_CANCELLED);
}

static void test_cancel_of_queued_job_succeeds(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    add_file(job);
    assert_hr(S_OK, IBackgroundCopyJob5_Resume(job));
    assert_hr(S_OK, IBackgroundCopyJob5_Cancel(job));
    assert_int_equal(state_of(job), BG_JOB_STATE_CANCELLED);
}

/* spec 5.3: only fully transferred files are kept; a job never resumed has none. */
static void test_complete_job_with_files_returns_partial_complete(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    add_file(job);
    assert_hr(BG_S_PARTIAL_COMPLETE, IBackgroundCopyJob5_Complete(job));
    assert_int_equal(state_of(job), BG_JOB_STATE_ACKNOWLEDGED);
}

static void test_complete_empty_job_returns_s_ok(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(S_OK, IBackgroundCopyJob5_Complete(job));
    assert_int_equal(state_of(job), BG_JOB_STATE_ACKNOWLEDGED);
}

/* spec 5.5: before the first transfer a file's size is unknown, and so is the job's. */
static void test_job_with_file_of_unknown_size_has_unknown_bytes_total(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_JOB_PROGRESS progress;

    add_file(job);
    progress = progress_of(job);
    assert_int_equal(progress.FilesTotal, 1);
    assert_int_equal(progress.FilesTransferred, 0);
    assert_true(progress.BytesTotal == BG_SIZE_UNKNOWN);
    assert_int_equal(progress.BytesTransferred, 0);
}

/* ==== final states: CANCELLED and ACKNOWLEDGED refuse every change ========================= */

enum snapshot_text
{
    SNAP_DISPLAY_NAME, SNAP_DESCRIPTION, SNAP_OWNER, SNAP_PROXY_LIST, SNAP_PROXY_BYPASS,
    SNAP_PROGRAM, SNAP_PARAMETERS, SNAP_REMOTE_NAME, SNAP_LOCAL_NAME, SNAP_TEXT_COUNT
};

static const char *const snapshot_text_names[SNAP_TEXT_COUNT] = {
    "display name", "description", "owner", "proxy list", "proxy bypass list",
    "notify program", "notify parameters", "remote name", "local name",
};

/* Everything a client can read of a job; taking one checks every getter succeeds. */
struct snapshot
{
    BG_JOB_STATE state;
    ULONG files;
    BG_JOB_PRIORITY priority;
    ULONG notify_flags, retry_delay, no_progress_timeout, acl_flags, peer_caching, max_download_time;
    BG_JOB_PROXY_USAGE proxy_usage;
    DWORD cost_flags;
    GUID notification_clsid;
    IUnknown *notify;              /* compared, not held */
    ULONGLONG modified;
    WCHAR *text[SNAP_TEXT_COUNT];  /* CoTaskMem */
};

static void take_snapshot(IBackgroundCopyJob5 *job, struct snapshot *s)
{
    BITS_JOB_PROPERTY_VALUE value;

    memset(s, 0, sizeof(*s));
    s->state = state_of(job);
    s->files = files_total(job);
    s->modified = modified_of(job);
    assert_hr(S_OK, IBackgroundCopyJob5_GetPriority(job, &s->priority));
    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyFlags(job, &s->notify_flags));
    assert_hr(S_OK, IBackgroundCopyJob5_GetMinimumRetryDelay(job, &s->retry_delay));
    assert_hr(S_OK, IBackgroundCopyJob5_GetNoProgressTimeout(job, &s->no_progress_timeout));
    assert_hr(S_OK, IBackgroundCopyJob5_GetFileACLFlags(job, &s->acl_flags));
    assert_hr(S_OK, IBackgroundCopyJob5_GetPeerCachingFlags(job, &s->peer_caching));
    assert_hr(S_OK, IBackgroundCopyJob5_GetMaximumDownloadTime(job, &s->max_download_time));
    assert_hr(S_OK, IBackgroundCopyJob5_GetProperty(job, BITS_JOB_PROPERTY_ID_COST_FLAGS, &value));
    s->cost_flags = value.Dword;
    assert_hr(S_OK, IBackgroundCopyJob5_GetProperty(job, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, &value));
    s->notification_clsid = value.ClsID;
    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyInterface(job, &s->notify));
    if (s->notify) IUnknown_Release(s->notify);
    assert_hr(S_OK, IBackgroundCopyJob5_GetDisplayName(job, &s->text[SNAP_DISPLAY_NAME]));
    assert_hr(S_OK, IBackgroundCopyJob5_GetDescription(job, &s->text[SNAP_DESCRIPTION]));
    assert_hr(S_OK, IBackgroundCopyJob5_GetOwner(job, &s->text[SNAP_OWNER]));
    assert_hr(S_OK, IBackgroundCopyJob5_GetProxySettings(job, &s->proxy_usage, &s->text[SNAP_PROXY_LIST],
                                                         &s->text[SNAP_PROXY_BYPASS]));
    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyCmdLine(job, &s->text[SNAP_PROGRAM], &s->text[SNAP_PARAMETERS]));
    if (s->files)
    {
        s->text[SNAP_REMOTE_NAME] = remote_name_at(job, 0);
        s->text[SNAP_LOCAL_NAME] = local_name_at(job, 0);
    }
}

static void free_snapshot(struct snapshot *s)
{
    int i;
    for (i = 0; i < SNAP_TEXT_COUNT; i++) CoTaskMemFree(s->text[i]);
}

/* The name of the first thing that differs, or NULL. */
static const char *snapshot_difference(const struct snapshot *a, const struct snapshot *b)
{
    int i;

    if (a->state != b->state) return "state";
    if (a->files != b->files) return "file count";
    if (a->priority != b->priority) return "priority";
    if (a->notify_flags != b->notify_flags) return "notify flags";
    if (a->retry_delay != b->retry_delay) return "minimum retry delay";
    if (a->no_progress_timeout != b->no_progress_timeout) return "no-progress timeout";
    if (a->acl_flags != b->acl_flags) return "file ACL flags";
    if (a->peer_caching != b->peer_caching) return "peer caching flags";
    if (a->max_download_time != b->max_download_time) return "maximum download time";
    if (a->proxy_usage != b->proxy_usage) return "proxy usage";
    if (a->cost_flags != b->cost_flags) return "cost flags";
    if (!IsEqualGUID(&a->notification_clsid, &b->notification_clsid)) return "notification CLSID";
    if (a->notify != b->notify) return "notify interface";
    if (a->modified != b->modified) return "modification time";
    for (i = 0; i < SNAP_TEXT_COUNT; i++)
        if (!wstr_same(a->text[i], b->text[i])) return snapshot_text_names[i];
    return NULL;
}

/* Gives a job a file and a non-default value for every setting. */
static void give_job_everything(IBackgroundCopyJob5 *job)
{
    BG_AUTH_CREDENTIALS credentials = basic_credentials(BG_AUTH_TARGET_SERVER, L"user", L"password");

    add_file(job);
    assert_hr(S_OK, IBackgroundCopyJob5_SetDescription(job, L"before"));
    assert_hr(S_OK, IBackgroundCopyJob5_SetPriority(job, BG_JOB_PRIORITY_HIGH));
    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyFlags(job, BG_NOTIFY_JOB_TRANSFERRED));
    assert_hr(S_OK, IBackgroundCopyJob5_SetMinimumRetryDelay(job, 120));
    assert_hr(S_OK, IBackgroundCopyJob5_SetNoProgressTimeout(job, 7200));
    assert_hr(S_OK, IBackgroundCopyJob5_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"proxy:8080", L"<local>"));
    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyCmdLine(job, PROGRAM, L"cmd.exe /c exit"));
    assert_hr(S_OK, IBackgroundCopyJob5_SetCredentials(job, &credentials));
    assert_hr(S_OK, IBackgroundCopyJob5_SetFileACLFlags(job, BG_COPY_FILE_OWNER));
    assert_hr(S_OK, IBackgroundCopyJob5_SetPeerCachingFlags(job, BG_JOB_ENABLE_PEERCACHING_CLIENT));
    assert_hr(S_OK, IBackgroundCopyJob5_SetMaximumDownloadTime(job, 3600));
    assert_hr(S_OK, IBackgroundCopyJob5_SetProperty(job, BITS_JOB_PROPERTY_ID_COST_FLAGS,
                                                    dword_value(BITS_COST_STATE_UNRESTRICTED)));
    assert_hr(S_OK, IBackgroundCopyJob5_SetProperty(job, BITS_JOB_PROPERTY_NOTIFICATION_CLSID,
                                                    clsid_value(&CLSID_notify_server)));
    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, new_test_callback(&callbacks[0])));
}

static void expect_refused(const char *call, HRESULT hr, IBackgroundCopyJob5 *job, const struct snapshot *before,
                           int *failures)
{
    struct snapshot after;
    const char *changed;

    expect_hr(call, DO_E_INVALID_STATE, hr, failures);
    take_snapshot(job, &after);
    if ((changed = snapshot_difference(before, &after)))
    {
        print_error("%s changed the job's %s\n", call, changed);
        (*failures)++;
    }
    free_snapshot(&after);
}

#define EXPECT_REFUSED(call) expect_refused(#call, (call), job, &before, &failures)

/* Every mutator, with arguments that would be valid on a live job. */
static void assert_every_mutator_refused(IBackgroundCopyJob5 *job)
{
    IDeliveryOptimizationJob *dojob = do_job(job);
    IDeliveryOptimizationJob2 *dojob2 = do_job2(job);
    IBackgroundCopyFile *file = file_at(job, 0);
    IBackgroundCopyFile2 *file2 = NULL;
    WCHAR more[MAX_PATH];
    BG_FILE_INFO set[1] = { { (WCHAR *)URL, more } };
    BG_FILE_RANGE range = { 0, 100 };
    BG_AUTH_CREDENTIALS credentials = basic_credentials(BG_AUTH_TARGET_PROXY, L"other", L"secret");
    IUnknown *added = NULL;
    struct snapshot before;
    int failures = 0;

    lstrcpyW(more, local_path(L"more.bin"));
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile2, (void **)&file2));
    take_snapshot(job, &before);
    dosvc_wait_for_clock_past(modified_of(job));     /* so a change would also show in ModificationTime */

    EXPECT_REFUSED(IBackgroundCopyJob5_AddFile(job, URL, more));
    EXPECT_REFUSED(IBackgroundCopyJob5_AddFileSet(job, 1, set));
    EXPECT_REFUSED(IBackgroundCopyJob5_AddFileWithRanges(job, URL, more, 1, &range));
    EXPECT_REFUSED(IDeliveryOptimizationJob_AddFileWithRanges(dojob, L"more", URL, more, 0, NULL,
                                                              DO_UNKNOWN_FILE_SIZE));
    EXPECT_REFUSED(IDeliveryOptimizationJob2_AddFile(dojob2, L"more", URL, 0, NULL, &IID_IBackgroundCopyFile,
                                                     (void **)&added));
    EXPECT_REFUSED(IBackgroundCopyJob5_Suspend(job));
    EXPECT_REFUSED(IBackgroundCopyJob5_Resume(job));
    EXPECT_REFUSED(IBackgroundCopyJob5_Cancel(job));
    EXPECT_REFUSED(IBackgroundCopyJob5_Complete(job));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetDisplayName(job, L"changed"));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetDescription(job, L"changed"));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetPriority(job, BG_JOB_PRIORITY_FOREGROUND));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetNotifyFlags(job, BG_NOTIFY_JOB_MODIFICATION));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetNotifyInterface(job, new_test_callback(&callbacks[1])));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetMinimumRetryDelay(job, 60));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetNoProgressTimeout(job, 60));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetProxySettings(job, BG_JOB_PROXY_USAGE_NO_PROXY, NULL, NULL));
    EXPECT_REFUSED(IBackgroundCopyJob5_TakeOwnership(job));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetNotifyCmdLine(job, NULL, NULL));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetCredentials(job, &credentials));
    EXPECT_REFUSED(IBackgroundCopyJob5_RemoveCredentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC));
    EXPECT_REFUSED(IBackgroundCopyJob5_ReplaceRemotePrefix(job, L"http://127.0.0.1:1/", L"http://127.0.0.1:2/"));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetFileACLFlags(job, BG_COPY_FILE_ALL));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetPeerCachingFlags(job, 0));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetMaximumDownloadTime(job, 60));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetProperty(job, BITS_JOB_PROPERTY_ID_COST_FLAGS,
                                                   dword_value(BITS_COST_STATE_TRANSFER_ALWAYS)));
    EXPECT_REFUSED(IBackgroundCopyJob5_SetProperty(job, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, clsid_value(&GUID_NULL)));
    EXPECT_REFUSED(IBackgroundCopyFile2_SetRemoteName(file2, L"http://127.0.0.1:2/file.bin"));

    if (added) IUnknown_Release(added);
    free_snapshot(&before);
    IBackgroundCopyFile2_Release(file2);
    IBackgroundCopyFile_Release(file);
    IDeliveryOptimizationJob2_Release(dojob2);
    IDeliveryOptimizationJob_Release(dojob);
    assert_null(added);
    assert_int_equal(callbacks[1].refs, 1);     /* the refused callback was not kept */
    assert_int_equal(failures, 0);
}

static void test_cancelled_job_refuses_every_mutator_and_changes_nothing(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    give_job_everything(job);
    assert_hr(S_OK, IBackgroundCopyJob5_Cancel(job));
    assert_every_mutator_refused(job);
}

static void test_acknowledged_job_refuses_every_mutator_and_changes_nothing(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    give_job_everything(job);
    assert_hr(BG_S_PARTIAL_COMPLETE, IBackgroundCopyJob5_Complete(job));
    assert_every_mutator_refused(job);
}

/* What give_job_everything set is still readable, through every getter. */
static void assert_getters_still_work(IBackgroundCopyJob5 *job, BG_JOB_STATE final_state)
{
    IDeliveryOptimizationJob2 *dojob2 = do_job2(job);
    IBackgroundCopyError *error = (IBackgroundCopyError *)0xdeadbeef;
    BG_JOB_PROGRESS progress = progress_of(job);
    BG_JOB_TYPE type = 0xdeadbeef;
    struct snapshot s;
    ULONG level = 0, errors = 0xdeadbeef;
    BOOL elevated;
    VARIANT value;
    GUID id;

    take_snapshot(job, &s);      /* asserts S_OK from each getter it uses */
    assert_int_equal(s.state, final_state);
    assert_int_equal(s.files, 1);
    assert_int_equal(progress.FilesTotal, 1);
    assert_wstr_equal(L"test job", s.text[SNAP_DISPLAY_NAME]);
    assert_wstr_equal(L"before", s.text[SNAP_DESCRIPTION]);
    assert_int_equal(s.priority, BG_JOB_PRIORITY_HIGH);
    assert_int_equal(s.notify_flags, BG_NOTIFY_JOB_TRANSFERRED);
    assert_int_equal(s.retry_delay, 120);
    assert_int_equal(s.no_progress_timeout, 7200);
    assert_int_equal(s.proxy_usage, BG_JOB_PROXY_USAGE_OVERRIDE);
    assert_wstr_equal(L"proxy:8080", s.text[SNAP_PROXY_LIST]);
    assert_wstr_equal(L"<local>", s.text[SNAP_PROXY_BYPASS]);
    assert_wstr_equal(PROGRAM, s.text[SNAP_PROGRAM]);
    assert_wstr_equal(L"cmd.exe /c exit", s.text[SNAP_PARAMETERS]);
    assert_int_equal(s.acl_flags, BG_COPY_FILE_OWNER);
    assert_int_equal(s.peer_caching, BG_JOB_ENABLE_PEERCACHING_CLIENT);
    assert_int_equal(s.max_download_time, 3600);
    assert_int_equal(s.cost_flags, BITS_COST_STATE_UNRESTRICTED);
    assert_memory_equal(&s.notification_clsid, &CLSID_notify_server, sizeof(GUID));
    assert_null(s.notify);       /* released when the job ended */
    assert_wstr_equal(URL, s.text[SNAP_REMOTE_NAME]);
    assert_wstr_equal(local_path(L"file.bin"), s.text[SNAP_LOCAL_NAME]);
    free_snapshot(&s);

    assert_hr(S_OK, IBackgroundCopyJob5_GetId(job, &id));
    assert_hr(S_OK, IBackgroundCopyJob5_GetType(job, &type));
    assert_int_equal(type, BG_JOB_TYPE_DOWNLOAD);
    assert_hr(S_OK, IBackgroundCopyJob5_GetErrorCount(job, &errors));
    assert_int_equal(errors, 0);
    assert_hr(S_OK, IBackgroundCopyJob5_GetOwnerIntegrityLevel(job, &level));
    assert_hr(S_OK, IBackgroundCopyJob5_GetOwnerElevationState(job, &elevated));
    assert_hr(DO_E_ERROR_INFORMATION_UNAVAILABLE, IBackgroundCopyJob5_GetError(job, &error));
    assert_null(error);
    VariantInit(&value);
    assert_hr(S_OK, IDeliveryOptimizationJob2_GetProperty(dojob2, DOJobPropertyId_ExtendedErrorInfo, &value));
    VariantClear(&value);
    IDeliveryOptimizationJob2_Release(dojob2);
}

static void test_cancelled_job_getters_still_work(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    give_job_everything(job);
    assert_hr(S_OK, IBackgroundCopyJob5_Cancel(job));
    assert_getters_still_work(job, BG_JOB_STATE_CANCELLED);
}

static void test_acknowledged_job_getters_still_work(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    give_job_everything(job);
    assert_hr(BG_S_PARTIAL_COMPLETE, IBackgroundCopyJob5_Complete(job));
    assert_getters_still_work(job, BG_JOB_STATE_ACKNOWLEDGED);
}

/* ==== AddFile: local names (spec 5.9) ====================================================== */

static void test_add_file_with_absolute_local_name_succeeds(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, URL, local_path(L"file.bin")));
    assert_int_equal(files_total(job), 1);
    assert_local_name(job, 0, local_path(L"file.bin"));
    assert_remote_name(job, 0, URL);
}

static void test_add_file_rejects_null_names(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_add_file_fails(job, E_INVALIDARG, NULL, local_path(L"file.bin"));
    assert_add_file_fails(job, E_INVALIDARG, URL, NULL);
    assert_add_file_fails(job, E_INVALIDARG, URL, L"");
}

static void test_add_file_rejects_relative_local_names(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    const WCHAR *names[] = { L"file.bin", L"sub\\file.bin", L".\\file.bin", L"..\\file.bin",
                             L"\\file.bin", L"C:file.bin" };
    size_t i;

    for (i = 0; i < ARRAYSIZE(names); i++) assert_add_file_fails(job, E_INVALIDARG, URL, names[i]);
}

/* In any component, with or without an extension. */
static void test_add_file_rejects_device_names(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    const WCHAR *names[] = { L"CON", L"nul.txt", L"COM1", L"lpt9.log", L"aux\\file.bin", L"Prn" };
    size_t i;

    for (i = 0; i < ARRAYSIZE(names); i++) assert_add_file_fails(job, E_INVALIDARG, URL, local_path(names[i]));
}

static void test_add_file_rejects_device_namespace_prefixes(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR name[MAX_PATH + 8];

    wsprintfW(name, L"\\\\?\\%s", local_path(L"file.bin"));
    assert_add_file_fails(job, E_INVALIDARG, URL, name);
    wsprintfW(name, L"\\\\.\\%s", local_path(L"file.bin"));
    assert_add_file_fails(job, E_INVALIDARG, URL, name);
    assert_add_file_fails(job, E_INVALIDARG, URL, L"\\\\.\\PhysicalDrive0");
}

static void test_add_file_rejects_wildcards_in_local_name(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_add_file_fails(job, E_INVALIDARG, URL, local_path(L"file*.bin"));
    assert_add_file_fails(job, E_INVALIDARG, URL, local_path(L"file?.bin"));
}

/* spec 5.9: "NTFS streams are not supported" */
static void test_add_file_rejects_stream_colon_in_local_name(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_add_file_fails(job, E_INVALIDARG, URL, local_path(L"file.bin:stream"));
    assert_add_file_fails(job, E_INVALIDARG, URL, local_path(L"file.bin::$DATA"));
}

static void test_add_file_rejects_folder_as_local_name(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_add_file_fails(job, E_INVALIDARG, URL, local_path(L""));   /* "<test dir>\" */
    assert_add_file_fails(job, E_INVALIDARG, URL, local_path(L"sub\\"));
}

/* A name that resolves to an existing folder can never become the downloaded file. */
static void test_add_file_rejects_local_name_resolving_to_a_folder(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    CreateDirectoryW(local_path(L"existing"), NULL);
    assert_add_file_fails(job, E_INVALIDARG, URL, local_path(L"existing"));
    assert_add_file_fails(job, E_INVALIDARG, URL, local_path(L"existing\\."));
    assert_add_file_fails(job, E_INVALIDARG, URL, local_path(L"existing\\sub\\.."));
    RemoveDirectoryW(local_path(L"existing"));
}

/* spec 5.9: a local name is at most MAX_PATH - 1 = 259 characters. */
static void test_add_file_accepts_259_character_local_name(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *name = padded(local_path(L""), 'x', 259 - wcslen(local_path(L"")));

    assert_int_equal(wcslen(name), 259);
    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, URL, name));
    assert_int_equal(files_total(job), 1);
    free(name);
}

static void test_add_file_rejects_260_character_local_name(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *name = padded(local_path(L""), 'x', 260 - wcslen(local_path(L"")));

    assert_add_file_fails(job, E_INVALIDARG, URL, name);
    free(name);
}

/* spec 5.9: "the directories must already exist" */
static void test_add_file_with_missing_folder_fails_with_path_not_found(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_add_file_fails(job, HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND), URL, local_path(L"missing\\file.bin"));
}

static void test_add_file_reports_bad_remote_name_before_missing_folder(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_add_file_fails(job, E_INVALIDARG, L"ftp://127.0.0.1/file.bin", local_path(L"missing\\file.bin"));
}

/* spec 5.9: local names are returned fully qualified. */
static void test_get_local_name_shows_the_canonical_form(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR dotted[MAX_PATH], slashed[MAX_PATH];

    wsprintfW(dotted, L"%s\\sub\\..\\dotted.bin", dosvc_test_dir());
    wsprintfW(slashed, L"%s/slashed.bin", dosvc_test_dir());
    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, URL, dotted));
    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, URL, slashed));
    assert_local_name(job, 0, local_path(L"dotted.bin"));
    assert_local_name(job, 1, local_path(L"slashed.bin"));
}

/* ==== AddFile: remote names (spec 5.9) ====================================================== */

static void test_add_file_accepts_http_and_https_urls(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, L"http://127.0.0.1/a.bin", local_path(L"a.bin")));
    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, L"https://127.0.0.1:8443/b.bin?x=1", local_path(L"b.bin")));
    assert_int_equal(files_total(job), 2);
}

/* spec 5.9: "DO supports HTTP, HTTPS and SMB": UNC paths, file:// and full paths (on
 * loopback, though the job is never resumed). */
static void test_add_file_accepts_unc_paths_and_file_urls(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, L"\\\\127.0.0.1\\share\\a.bin", local_path(L"a.bin")));
    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, L"file://127.0.0.1/share/b.bin", local_path(L"b.bin")));
    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, L"C:\\data\\c.bin", local_path(L"c.bin")));
    assert_int_equal(files_total(job), 3);
    assert_remote_name(job, 0, L"\\\\127.0.0.1\\share\\a.bin");
    assert_remote_name(job, 1, L"file://127.0.0.1/share/b.bin");
}

static void test_add_file_rejects_ftp_url(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_add_file_fails(job, E_INVALIDARG, L"ftp://127.0.0.1/file.bin", local_path(L"file.bin"));
}

static void test_add_file_rejects_relative_remote_names(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    const WCHAR *names[] = { L"file.bin", L"127.0.0.1/file.bin", L"/file.bin", L"http://", L"" };
    size_t i;

    for (i = 0; i < ARRAYSIZE(names); i++) assert_add_file_fails(job, E_INVALIDARG, names[i], local_path(L"f.bin"));
}

static void test_add_file_rejects_urls_without_host_or_path(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    const WCHAR *names[] = { L"http://", L"https:///file.bin", L"file://" };
    size_t i;

    for (i = 0; i < ARRAYSIZE(names); i++) assert_add_file_fails(job, E_INVALIDARG, names[i], local_path(L"f.bin"));
}

/* A UNC remote name is \\server\share\file (notes/com_decisions.md "AddFile"): a server
 * or a share alone names no file. */
static void test_add_file_rejects_unc_path_without_share_and_file(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_add_file_fails(job, E_INVALIDARG, L"\\\\127.0.0.1", local_path(L"f.bin"));
    assert_add_file_fails(job, E_INVALIDARG, L"\\\\127.0.0.1\\share", local_path(L"f.bin"));
}

/* spec 5.8: "Limit: 2,200 characters; E_INVALIDARG for an invalid or too-long URL." */
static void test_add_file_accepts_2200_character_url(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *url = padded(L"http://127.0.0.1:1/", 'a', 2200 - 19);

    assert_int_equal(wcslen(url), 2200);
    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, url, local_path(L"file.bin")));
    assert_remote_name(job, 0, url);
    free(url);
}

static void test_add_file_rejects_2201_character_url(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *url = padded(L"http://127.0.0.1:1/", 'a', 2201 - 19);

    assert_add_file_fails(job, E_INVALIDARG, url, local_path(L"file.bin"));
    free(url);
}

/* ==== AddFileSet ============================================================================== */

static void test_add_file_set_adds_every_file_in_order(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_INFO set[2] = {
        { (WCHAR *)L"http://127.0.0.1:1/a.bin", (WCHAR *)local_path(L"a.bin") },
        { (WCHAR *)L"http://127.0.0.1:1/b.bin", (WCHAR *)local_path(L"b.bin") },
    };

    assert_hr(S_OK, IBackgroundCopyJob5_AddFileSet(job, 2, set));
    assert_int_equal(files_total(job), 2);
    assert_remote_name(job, 0, L"http://127.0.0.1:1/a.bin");
    assert_remote_name(job, 1, L"http://127.0.0.1:1/b.bin");
}

static void test_add_file_set_with_a_bad_entry_adds_nothing(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_INFO set[2] = {
        { (WCHAR *)L"http://127.0.0.1:1/a.bin", (WCHAR *)local_path(L"a.bin") },
        { (WCHAR *)L"ftp://127.0.0.1/b.bin", (WCHAR *)local_path(L"b.bin") },
    };

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_AddFileSet(job, 2, set));
    assert_int_equal(files_total(job), 0);
}

static void test_add_file_set_with_a_missing_folder_adds_nothing(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_INFO set[2] = {
        { (WCHAR *)L"http://127.0.0.1:1/a.bin", (WCHAR *)local_path(L"a.bin") },
        { (WCHAR *)L"http://127.0.0.1:1/b.bin", (WCHAR *)local_path(L"missing\\b.bin") },
    };

    assert_hr(HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND), IBackgroundCopyJob5_AddFileSet(job, 2, set));
    assert_int_equal(files_total(job), 0);
}

static void test_add_file_set_rejects_empty_set(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_INFO set[1] = { { (WCHAR *)URL, (WCHAR *)local_path(L"a.bin") } };

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_AddFileSet(job, 0, set));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_AddFileSet(job, 1, NULL));
    assert_int_equal(files_total(job), 0);
}

/* ==== IBackgroundCopyJob3::AddFileWithRanges (spec 5.7) ======================================== */

static HRESULT add_ranges(IBackgroundCopyJob5 *job, DWORD count, BG_FILE_RANGE *ranges)
{
    return IBackgroundCopyJob5_AddFileWithRanges(job, URL, local_path(L"ranges.bin"), count, ranges);
}

static void test_add_file_with_ranges_counts_only_requested_bytes(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_RANGE ranges[2] = { { 1000, 24 }, { 0, 100 } };

    assert_hr(S_OK, add_ranges(job, 2, ranges));
    assert_int_equal(files_total(job), 1);
    assert_int_equal(progress_of(job).BytesTotal, 124);
}

static void test_add_file_with_range_to_end_of_unknown_file_leaves_size_unknown(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_RANGE range = { 100, BG_LENGTH_TO_EOF };

    assert_hr(S_OK, add_ranges(job, 1, &range));
    assert_true(progress_of(job).BytesTotal == BG_SIZE_UNKNOWN);
}

/* Archived DO page: RangeCount 0 is E_INVALIDARG. */
static void test_add_file_with_ranges_rejects_no_ranges(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_RANGE range = { 0, 10 };

    assert_hr(E_INVALIDARG, add_ranges(job, 0, &range));
    assert_hr(E_INVALIDARG, add_ranges(job, 1, NULL));
    assert_int_equal(files_total(job), 0);
}

static void test_add_file_with_ranges_rejects_zero_length_with_invalid_range(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_RANGE ranges[2] = { { 0, 10 }, { 100, 0 } };

    assert_hr(DO_E_INVALID_RANGE, add_ranges(job, 2, ranges));
    assert_int_equal(files_total(job), 0);
}

/* spec 3.12: "DO_E_INVALID_RANGE, e.g. when InitialOffset = BG_LENGTH_TO_EOF" */
static void test_add_file_with_ranges_rejects_offset_length_to_eof_with_invalid_range(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_RANGE range = { BG_LENGTH_TO_EOF, 10 };

    assert_hr(DO_E_INVALID_RANGE, add_ranges(job, 1, &range));
    assert_int_equal(files_total(job), 0);
}

static void test_add_file_with_ranges_rejects_overlaps_with_overlapping_ranges(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_RANGE overlap[2] = { { 0, 100 }, { 50, 100 } };
    BG_FILE_RANGE duplicate[2] = { { 10, 10 }, { 10, 10 } };
    BG_FILE_RANGE same_offset[2] = { { 100, 5 }, { 100, 1 } };    /* spec 3.12's "100.5 then 100.x" */
    BG_FILE_RANGE after_eof_range[2] = { { 0, BG_LENGTH_TO_EOF }, { 5000, 10 } };

    assert_hr(DO_E_OVERLAPPING_RANGES, add_ranges(job, 2, overlap));
    assert_hr(DO_E_OVERLAPPING_RANGES, add_ranges(job, 2, duplicate));
    assert_hr(DO_E_OVERLAPPING_RANGES, add_ranges(job, 2, same_offset));
    assert_hr(DO_E_OVERLAPPING_RANGES, add_ranges(job, 2, after_eof_range));
    assert_int_equal(files_total(job), 0);
}

static void test_add_file_with_ranges_accepts_adjacent_ranges(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_RANGE ranges[2] = { { 0, 100 }, { 100, 100 } };

    assert_hr(S_OK, add_ranges(job, 2, ranges));
    assert_int_equal(progress_of(job).BytesTotal, 200);
}

static void test_add_file_with_ranges_validates_names_like_add_file(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_RANGE range = { 0, 10 };

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_AddFileWithRanges(job, L"ftp://127.0.0.1/f", local_path(L"f.bin"),
                                                                   1, &range));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_AddFileWithRanges(job, URL, L"f.bin", 1, &range));
    assert_hr(HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND),
              IBackgroundCopyJob5_AddFileWithRanges(job, URL, local_path(L"missing\\f.bin"), 1, &range));
    assert_int_equal(files_total(job), 0);
}

/* ==== IDeliveryOptimizationJob::AddFileWithRanges (spec 3.12) ================================== */

static HRESULT do_add(IBackgroundCopyJob5 *job, const WCHAR *file_id, const WCHAR *local, DWORD count,
                      BG_FILE_RANGE *ranges, UINT64 size)
{
    IDeliveryOptimizationJob *dojob = do_job(job);
    HRESULT hr = IDeliveryOptimizationJob_AddFileWithRanges(dojob, file_id, URL, local, count, ranges, size);

    IDeliveryOptimizationJob_Release(dojob);
    return hr;
}

static void test_do_add_file_with_ranges_adds_whole_file_of_unknown_size(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(S_OK, do_add(job, L"content-1", local_path(L"do.bin"), 0, NULL, DO_UNKNOWN_FILE_SIZE));
    assert_int_equal(files_total(job), 1);
    assert_true(progress_of(job).BytesTotal == BG_SIZE_UNKNOWN);
    assert_local_name(job, 0, local_path(L"do.bin"));
}

static void test_do_add_file_with_ranges_of_known_size_knows_bytes_total(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_RANGE range = { 500, BG_LENGTH_TO_EOF };

    assert_hr(S_OK, do_add(job, L"whole", local_path(L"whole.bin"), 0, NULL, 4096));
    assert_int_equal(progress_of(job).BytesTotal, 4096);
    assert_hr(S_OK, do_add(job, L"tail", local_path(L"tail.bin"), 1, &range, 1000));
    assert_int_equal(progress_of(job).BytesTotal, 4096 + 500);
}

/* spec 3.12: "E_INVALIDARG if the local name is NULL or empty." */
static void test_do_add_file_with_ranges_rejects_null_or_empty_local_name(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(E_INVALIDARG, do_add(job, L"id", NULL, 0, NULL, DO_UNKNOWN_FILE_SIZE));
    assert_hr(E_INVALIDARG, do_add(job, L"id", L"", 0, NULL, DO_UNKNOWN_FILE_SIZE));
    assert_int_equal(files_total(job), 0);
}

static void test_do_add_file_with_ranges_rejects_count_without_ranges(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(E_INVALIDARG, do_add(job, L"id", local_path(L"do.bin"), 2, NULL, DO_UNKNOWN_FILE_SIZE));
    assert_int_equal(files_total(job), 0);
}

static void test_do_add_file_with_ranges_rejects_zero_file_size(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(E_INVALIDARG, do_add(job, L"id", local_path(L"do.bin"), 0, NULL, 0));
    assert_int_equal(files_total(job), 0);
}

static void test_do_add_file_with_ranges_rejects_range_past_known_size_with_invalid_range(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_RANGE past_end = { 900, 200 }, beyond = { 1000, 1 };

    assert_hr(DO_E_INVALID_RANGE, do_add(job, L"id", local_path(L"do.bin"), 1, &past_end, 1000));
    assert_hr(DO_E_INVALID_RANGE, do_add(job, L"id", local_path(L"do.bin"), 1, &beyond, 1000));
    assert_int_equal(files_total(job), 0);
}

static void test_do_add_file_with_ranges_rejects_bad_ranges(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_RANGE same_offset[2] = { { 100, 5 }, { 100, 1 } };
    BG_FILE_RANGE to_eof = { BG_LENGTH_TO_EOF, 1 };

    assert_hr(DO_E_OVERLAPPING_RANGES, do_add(job, L"id", local_path(L"do.bin"), 2, same_offset,
                                              DO_UNKNOWN_FILE_SIZE));
    assert_hr(DO_E_INVALID_RANGE, do_add(job, L"id", local_path(L"do.bin"), 1, &to_eof, DO_UNKNOWN_FILE_SIZE));
    assert_int_equal(files_total(job), 0);
}

static void test_do_add_file_with_ranges_rejects_empty_file_id(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(E_INVALIDARG, do_add(job, L"", local_path(L"do.bin"), 0, NULL, DO_UNKNOWN_FILE_SIZE));
    assert_int_equal(files_total(job), 0);
}

/* spec 3.12: the file id is "any string unique within the job". */
static void test_do_add_file_with_ranges_rejects_duplicate_file_id(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(S_OK, do_add(job, L"same", local_path(L"one.bin"), 0, NULL, DO_UNKNOWN_FILE_SIZE));
    assert_hr(E_INVALIDARG, do_add(job, L"same", local_path(L"two.bin"), 0, NULL, DO_UNKNOWN_FILE_SIZE));
    assert_int_equal(files_total(job), 1);
}

static void test_do_add_file_with_ranges_allows_null_file_ids(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(S_OK, do_add(job, NULL, local_path(L"one.bin"), 0, NULL, DO_UNKNOWN_FILE_SIZE));
    assert_hr(S_OK, do_add(job, NULL, local_path(L"two.bin"), 0, NULL, DO_UNKNOWN_FILE_SIZE));
    assert_int_equal(files_total(job), 2);
}

/* ==== notify interface (spec 3.2 slots 25-26) ================================================= */

static void test_set_notify_interface_rejects_object_without_callback_interface(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    struct plain plain = { { &plain_vtbl }, 1 };
    IUnknown *callback = (IUnknown *)0xdeadbeef;

    assert_hr(E_NOINTERFACE, IBackgroundCopyJob5_SetNotifyInterface(job, &plain.IUnknown_iface));
    assert_int_equal(plain.refs, 1);
    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyInterface(job, &callback));
    assert_null(callback);
}

static void test_set_notify_interface_holds_exactly_one_reference(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IUnknown *callback = new_test_callback(&callbacks[0]);

    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, callback));
    assert_int_equal(callbacks[0].refs, 2);
    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, NULL));
}

static void test_get_notify_interface_returns_registered_pointer_addrefed(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IUnknown *callback = new_test_callback(&callbacks[0]), *got = NULL;

    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, callback));
    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyInterface(job, &got));
    assert_ptr_equal(got, callback);
    assert_int_equal(callbacks[0].refs, 3);
    IUnknown_Release(got);
    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, NULL));
}

static void test_registering_the_same_callback_again_keeps_one_reference(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IUnknown *callback = new_test_callback(&callbacks[0]);

    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, callback));
    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, callback));
    assert_int_equal(callbacks[0].refs, 2);
    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, NULL));
}

static void test_replacing_notify_interface_releases_the_previous_one(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IUnknown *first = new_test_callback(&callbacks[0]), *second = new_test_callback(&callbacks[1]), *got = NULL;

    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, first));
    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, second));
    assert_int_equal(callbacks[0].refs, 1);
    assert_int_equal(callbacks[1].refs, 2);
    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyInterface(job, &got));
    assert_ptr_equal(got, second);
    IUnknown_Release(got);
    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, NULL));
}

static void test_set_notify_interface_null_releases_the_callback(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IUnknown *callback = new_test_callback(&callbacks[0]), *got = (IUnknown *)0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, callback));
    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, NULL));
    assert_int_equal(callbacks[0].refs, 1);
    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyInterface(job, &got));
    assert_null(got);
}

static void test_cancel_releases_the_callback(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, new_test_callback(&callbacks[0])));
    assert_hr(S_OK, IBackgroundCopyJob5_Cancel(job));
    assert_int_equal(callbacks[0].refs, 1);
}

static void test_complete_releases_the_callback(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyInterface(job, new_test_callback(&callbacks[0])));
    assert_hr(S_OK, IBackgroundCopyJob5_Complete(job));
    assert_int_equal(callbacks[0].refs, 1);
}

/* ==== IBackgroundCopyJob setters ============================================================ */

static void test_set_display_name_round_trips(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *name = NULL;

    assert_hr(S_OK, IBackgroundCopyJob5_SetDisplayName(job, L"renamed"));
    assert_hr(S_OK, IBackgroundCopyJob5_GetDisplayName(job, &name));
    assert_wstr_equal(L"renamed", name);
    CoTaskMemFree(name);
}

static void test_set_display_name_accepts_256_and_rejects_257_characters(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *longest = padded(L"", 'n', 256), *too_long = padded(L"", 'n', 257), *name = NULL;

    assert_hr(S_OK, IBackgroundCopyJob5_SetDisplayName(job, longest));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetDisplayName(job, too_long));
    assert_hr(S_OK, IBackgroundCopyJob5_GetDisplayName(job, &name));
    assert_wstr_equal(longest, name);
    CoTaskMemFree(name);
    free(longest);
    free(too_long);
}

static void test_set_display_name_rejects_null(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *name = NULL;

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetDisplayName(job, NULL));
    assert_hr(S_OK, IBackgroundCopyJob5_GetDisplayName(job, &name));
    assert_wstr_equal(L"test job", name);
    CoTaskMemFree(name);
}

static void test_set_description_round_trips(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *description = NULL;

    assert_hr(S_OK, IBackgroundCopyJob5_SetDescription(job, L"Nightly build"));
    assert_hr(S_OK, IBackgroundCopyJob5_GetDescription(job, &description));
    assert_wstr_equal(L"Nightly build", description);
    CoTaskMemFree(description);
}

static void test_set_description_accepts_1024_and_rejects_1025_characters(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *longest = padded(L"", 'd', 1024), *too_long = padded(L"", 'd', 1025), *description = NULL;

    assert_hr(S_OK, IBackgroundCopyJob5_SetDescription(job, longest));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetDescription(job, too_long));
    assert_hr(S_OK, IBackgroundCopyJob5_GetDescription(job, &description));
    assert_wstr_equal(longest, description);
    CoTaskMemFree(description);
    free(longest);
    free(too_long);
}

static void test_set_description_rejects_null(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetDescription(job, NULL));
}

static void test_set_priority_round_trips_every_priority(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_JOB_PRIORITY priority, got;

    for (priority = BG_JOB_PRIORITY_FOREGROUND; priority <= BG_JOB_PRIORITY_LOW; priority++)
    {
        got = 0xdeadbeef;
        assert_hr(S_OK, IBackgroundCopyJob5_SetPriority(job, priority));
        assert_hr(S_OK, IBackgroundCopyJob5_GetPriority(job, &got));
        assert_int_equal(got, priority);
    }
}

static void test_set_priority_rejects_values_above_low(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_JOB_PRIORITY got = 0xdeadbeef;

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetPriority(job, (BG_JOB_PRIORITY)4));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetPriority(job, (BG_JOB_PRIORITY)0xffffffff));
    assert_hr(S_OK, IBackgroundCopyJob5_GetPriority(job, &got));
    assert_int_equal(got, BG_JOB_PRIORITY_NORMAL);
}

static void test_set_notify_flags_accepts_every_defined_bit(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    ULONG flags = 0;

    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyFlags(job, BG_NOTIFY_ALL_FLAGS));
    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyFlags(job, &flags));
    assert_int_equal(flags, BG_NOTIFY_ALL_FLAGS);
    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyFlags(job, 0));
    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyFlags(job, &flags));
    assert_int_equal(flags, 0);
}

static void test_set_notify_flags_rejects_undefined_bits(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    ULONG flags = 0;

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetNotifyFlags(job, 0x40));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetNotifyFlags(job, 0x80000001));
    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyFlags(job, &flags));
    assert_int_equal(flags, BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR);
}

static void test_set_minimum_retry_delay_round_trips(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    ULONG seconds = 0;

    assert_hr(S_OK, IBackgroundCopyJob5_SetMinimumRetryDelay(job, 60));
    assert_hr(S_OK, IBackgroundCopyJob5_GetMinimumRetryDelay(job, &seconds));
    assert_int_equal(seconds, 60);
}

static void test_set_no_progress_timeout_round_trips(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    ULONG seconds = 0;

    assert_hr(S_OK, IBackgroundCopyJob5_SetNoProgressTimeout(job, 3600));
    assert_hr(S_OK, IBackgroundCopyJob5_GetNoProgressTimeout(job, &seconds));
    assert_int_equal(seconds, 3600);
}

static void assert_proxy(IBackgroundCopyJob5 *job, BG_JOB_PROXY_USAGE usage, const WCHAR *list, const WCHAR *bypass)
{
    BG_JOB_PROXY_USAGE got = 0xdeadbeef;
    WCHAR *got_list = NULL, *got_bypass = NULL;

    assert_hr(S_OK, IBackgroundCopyJob5_GetProxySettings(job, &got, &got_list, &got_bypass));
    assert_int_equal(got, usage);
    assert_wstr_equal(list, got_list);
    assert_wstr_equal(bypass, got_bypass);
    CoTaskMemFree(got_list);
    CoTaskMemFree(got_bypass);
}

static void test_set_proxy_override_round_trips_its_lists(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(S_OK, IBackgroundCopyJob5_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"proxy:8080",
                                                         L"<local>;*.example.com"));
    assert_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"proxy:8080", L"<local>;*.example.com");
    assert_hr(S_OK, IBackgroundCopyJob5_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"proxy:8080", NULL));
    assert_proxy(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"proxy:8080", NULL);
}

static void test_set_proxy_without_override_has_no_lists(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    const BG_JOB_PROXY_USAGE usages[] = { BG_JOB_PROXY_USAGE_NO_PROXY, BG_JOB_PROXY_USAGE_AUTODETECT,
                                          BG_JOB_PROXY_USAGE_PRECONFIG };
    size_t i;

    assert_hr(S_OK, IBackgroundCopyJob5_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"proxy:8080", L"x"));
    for (i = 0; i < ARRAYSIZE(usages); i++)
    {
        assert_hr(S_OK, IBackgroundCopyJob5_SetProxySettings(job, usages[i], NULL, NULL));
        assert_proxy(job, usages[i], NULL, NULL);
    }
}

static void test_set_proxy_rejects_unknown_usage(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetProxySettings(job, (BG_JOB_PROXY_USAGE)4, NULL, NULL));
    assert_proxy(job, BG_JOB_PROXY_USAGE_PRECONFIG, NULL, NULL);
}

static void test_set_proxy_override_requires_a_list(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, NULL, NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetProxySettings(job, BG_JOB_PROXY_USAGE_OVERRIDE, L"", NULL));
    assert_proxy(job, BG_JOB_PROXY_USAGE_PRECONFIG, NULL, NULL);
}

static void test_set_proxy_lists_need_override(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetProxySettings(job, BG_JOB_PROXY_USAGE_PRECONFIG, L"p:80", NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetProxySettings(job, BG_JOB_PROXY_USAGE_NO_PROXY, NULL, L"x"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetProxySettings(job, BG_JOB_PROXY_USAGE_AUTODETECT, L"p:80", L"x"));
    assert_proxy(job, BG_JOB_PROXY_USAGE_PRECONFIG, NULL, NULL);
}

static void test_take_ownership_keeps_the_caller_as_owner(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *owner = NULL, *sid = caller_sid();

    assert_hr(S_OK, IBackgroundCopyJob5_TakeOwnership(job));
    assert_hr(S_OK, IBackgroundCopyJob5_GetOwner(job, &owner));
    assert_wstr_equal(sid, owner);
    CoTaskMemFree(owner);
    LocalFree(sid);
}

/* ==== ModificationTime ======================================================================= */

static void test_setter_advances_modification_time(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_JOB_TIMES before = times_of(job), after;

    dosvc_wait_for_clock_past(filetime_value(before.ModificationTime));
    assert_hr(S_OK, IBackgroundCopyJob5_SetDisplayName(job, L"touched"));
    after = times_of(job);
    assert_true(filetime_value(after.ModificationTime) > filetime_value(before.ModificationTime));
    assert_int_equal(filetime_value(after.CreationTime), filetime_value(before.CreationTime));
}

static void test_add_file_advances_modification_time(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    ULONGLONG before = modified_of(job);

    dosvc_wait_for_clock_past(before);
    add_file(job);
    assert_true(modified_of(job) > before);
}

static void test_failed_setter_leaves_modification_time(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    ULONGLONG before = modified_of(job);

    dosvc_wait_for_clock_past(before);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetPriority(job, (BG_JOB_PRIORITY)4));
    assert_int_equal(modified_of(job), before);
}

/* ==== IBackgroundCopyJob2 ===================================================================== */

static void test_set_notify_cmd_line_round_trips(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *program = NULL, *parameters = NULL;

    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyCmdLine(job, PROGRAM, L"cmd.exe /c echo done"));
    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyCmdLine(job, &program, &parameters));
    assert_wstr_equal(PROGRAM, program);
    assert_wstr_equal(L"cmd.exe /c echo done", parameters);
    CoTaskMemFree(program);
    CoTaskMemFree(parameters);
}

static void test_set_notify_cmd_line_null_clears_it(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    WCHAR *program = (WCHAR *)0xdeadbeef, *parameters = (WCHAR *)0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyCmdLine(job, PROGRAM, NULL));
    assert_hr(S_OK, IBackgroundCopyJob5_SetNotifyCmdLine(job, NULL, NULL));
    assert_hr(S_OK, IBackgroundCopyJob5_GetNotifyCmdLine(job, &program, &parameters));
    assert_null(program);
    assert_null(parameters);
}

static void test_set_notify_cmd_line_rejects_parameters_without_program(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetNotifyCmdLine(job, NULL, L"/c echo"));
}

static void test_set_notify_cmd_line_rejects_relative_program(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetNotifyCmdLine(job, L"cmd.exe", NULL));
}

/* Reply data belongs to upload-reply jobs; DO has only downloads. */
static void test_reply_methods_are_not_implemented_for_download_jobs(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_JOB_REPLY_PROGRESS progress;
    WCHAR *name;
    byte *buffer;
    UINT64 length;

    assert_hr(E_NOTIMPL, IBackgroundCopyJob5_GetReplyProgress(job, &progress));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob5_GetReplyData(job, &buffer, &length));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob5_SetReplyFileName(job, local_path(L"reply.bin")));
    assert_hr(E_NOTIMPL, IBackgroundCopyJob5_GetReplyFileName(job, &name));
}

static void test_set_credentials_succeeds(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_AUTH_CREDENTIALS credentials = basic_credentials(BG_AUTH_TARGET_SERVER, L"user", L"password");

    assert_hr(S_OK, IBackgroundCopyJob5_SetCredentials(job, &credentials));
}

static void test_set_credentials_rejects_null(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetCredentials(job, NULL));
}

static void test_set_credentials_rejects_unknown_target_or_scheme(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_AUTH_CREDENTIALS credentials = basic_credentials(BG_AUTH_TARGET_SERVER, L"user", L"password");

    credentials.Target = 0;
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetCredentials(job, &credentials));
    credentials.Target = 3;
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetCredentials(job, &credentials));
    credentials.Target = BG_AUTH_TARGET_PROXY;
    credentials.Scheme = 0;
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetCredentials(job, &credentials));
    credentials.Scheme = 6;
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetCredentials(job, &credentials));
    /* nothing was stored by the refused calls */
    assert_hr(S_FALSE, IBackgroundCopyJob5_RemoveCredentials(job, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_BASIC));
}

static void test_remove_credentials_never_set_returns_s_false(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(S_FALSE, IBackgroundCopyJob5_RemoveCredentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_NTLM));
}

static void test_remove_credentials_that_were_set_returns_s_ok_once(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_AUTH_CREDENTIALS credentials = basic_credentials(BG_AUTH_TARGET_PROXY, L"user", L"password");

    assert_hr(S_OK, IBackgroundCopyJob5_SetCredentials(job, &credentials));
    assert_hr(S_FALSE, IBackgroundCopyJob5_RemoveCredentials(job, BG_AUTH_TARGET_SERVER, BG_AUTH_SCHEME_BASIC));
    assert_hr(S_OK, IBackgroundCopyJob5_RemoveCredentials(job, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_BASIC));
    assert_hr(S_FALSE, IBackgroundCopyJob5_RemoveCredentials(job, BG_AUTH_TARGET_PROXY, BG_AUTH_SCHEME_BASIC));
}

static void test_remove_credentials_rejects_unknown_target_or_scheme(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_RemoveCredentials(job, (BG_AUTH_TARGET)3, BG_AUTH_SCHEME_BASIC));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_RemoveCredentials(job, BG_AUTH_TARGET_SERVER, (BG_AUTH_SCHEME)6));
}

/* ==== IBackgroundCopyJob3 ===================================================================== */

/* Two servers, both on loopback (the job is never resumed): ports 1 and 2. */
static void add_two_servers(IBackgroundCopyJob5 *job)
{
    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, L"https://127.0.0.1:1/a.bin", local_path(L"a.bin")));
    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, L"https://127.0.0.1:2/b.bin", local_path(L"b.bin")));
}

static void test_replace_remote_prefix_replaces_matching_prefixes_only(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    add_two_servers(job);
    assert_hr(S_OK, IBackgroundCopyJob5_ReplaceRemotePrefix(job, L"https://127.0.0.1:1/",
                                                            L"http://127.0.0.1:3/dl/"));
    assert_remote_name(job, 0, L"http://127.0.0.1:3/dl/a.bin");
    assert_remote_name(job, 1, L"https://127.0.0.1:2/b.bin");
}

static void test_replace_remote_prefix_rejects_null_or_empty_prefixes(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    add_two_servers(job);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_ReplaceRemotePrefix(job, NULL, L"https://127.0.0.1:3/"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_ReplaceRemotePrefix(job, L"", L"https://127.0.0.1:3/"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_ReplaceRemotePrefix(job, L"https://", NULL));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_ReplaceRemotePrefix(job, L"https://", L""));
    assert_remote_name(job, 0, L"https://127.0.0.1:1/a.bin");
}

/* All or nothing: one invalid result and no name changes. */
static void test_replace_remote_prefix_making_an_invalid_url_changes_nothing(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    add_two_servers(job);
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_ReplaceRemotePrefix(job, L"https://", L"ftp://"));
    assert_remote_name(job, 0, L"https://127.0.0.1:1/a.bin");
    assert_remote_name(job, 1, L"https://127.0.0.1:2/b.bin");
}

static void test_set_file_acl_flags_round_trips(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    DWORD flags = 0;

    assert_hr(S_OK, IBackgroundCopyJob5_SetFileACLFlags(job, BG_COPY_FILE_ALL));
    assert_hr(S_OK, IBackgroundCopyJob5_GetFileACLFlags(job, &flags));
    assert_int_equal(flags, BG_COPY_FILE_ALL);
}

static void test_set_file_acl_flags_rejects_undefined_bits(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    DWORD flags = 0xdeadbeef;

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetFileACLFlags(job, 0x10));
    assert_hr(S_OK, IBackgroundCopyJob5_GetFileACLFlags(job, &flags));
    assert_int_equal(flags, 0);
}

/* ==== IBackgroundCopyJob4 ===================================================================== */

static void test_set_peer_caching_flags_round_trips(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    DWORD flags = 0;
    DWORD all = BG_JOB_ENABLE_PEERCACHING_CLIENT | BG_JOB_ENABLE_PEERCACHING_SERVER | BG_JOB_DISABLE_BRANCH_CACHE;

    assert_hr(S_OK, IBackgroundCopyJob5_SetPeerCachingFlags(job, all));
    assert_hr(S_OK, IBackgroundCopyJob5_GetPeerCachingFlags(job, &flags));
    assert_int_equal(flags, all);
}

static void test_set_peer_caching_flags_rejects_undefined_bits(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    DWORD flags = 0xdeadbeef;

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetPeerCachingFlags(job, 0x8));
    assert_hr(S_OK, IBackgroundCopyJob5_GetPeerCachingFlags(job, &flags));
    assert_int_equal(flags, 0);
}

static void test_owner_integrity_level_is_the_tokens_rid(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    ULONG level = 0;

    assert_hr(S_OK, IBackgroundCopyJob5_GetOwnerIntegrityLevel(job, &level));
    assert_true(level != 0);
}

/* In-process, the owner is the caller: its token says whether it is elevated. */
static void test_owner_elevation_state_is_the_tokens_elevation(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    TOKEN_ELEVATION elevation;
    BOOL elevated = 0xdead;
    HANDLE token;
    DWORD size;

    assert_true(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
    assert_true(GetTokenInformation(token, TokenElevation, &elevation, sizeof(elevation), &size));
    CloseHandle(token);
    assert_hr(S_OK, IBackgroundCopyJob5_GetOwnerElevationState(job, &elevated));
    print_message("token elevated: %lu\n", elevation.TokenIsElevated);
    assert_int_equal(elevated, elevation.TokenIsElevated ? TRUE : FALSE);
}

static void test_set_maximum_download_time_round_trips(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    ULONG seconds = 0;

    assert_hr(S_OK, IBackgroundCopyJob5_SetMaximumDownloadTime(job, 7200));
    assert_hr(S_OK, IBackgroundCopyJob5_GetMaximumDownloadTime(job, &seconds));
    assert_int_equal(seconds, 7200);
}

/* ==== IBackgroundCopyJob5 properties (spec 3.4) ================================================ */

static void test_cost_flags_round_trip(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BITS_JOB_PROPERTY_VALUE value = dword_value(0);

    assert_hr(S_OK, IBackgroundCopyJob5_SetProperty(job, BITS_JOB_PROPERTY_ID_COST_FLAGS,
                                                    dword_value(BITS_COST_STATE_UNRESTRICTED)));
    assert_hr(S_OK, IBackgroundCopyJob5_GetProperty(job, BITS_JOB_PROPERTY_ID_COST_FLAGS, &value));
    assert_int_equal(value.Dword, BITS_COST_STATE_UNRESTRICTED);
}

static void test_cost_flags_reject_undefined_bits(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BITS_JOB_PROPERTY_VALUE value = dword_value(0);

    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_SetProperty(job, BITS_JOB_PROPERTY_ID_COST_FLAGS, dword_value(0x100)));
    assert_hr(S_OK, IBackgroundCopyJob5_GetProperty(job, BITS_JOB_PROPERTY_ID_COST_FLAGS, &value));
    assert_int_equal(value.Dword, 0x800000FF);
}

static void test_notification_clsid_round_trips_and_guid_null_clears_it(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BITS_JOB_PROPERTY_VALUE value = dword_value(0);

    assert_hr(S_OK, IBackgroundCopyJob5_SetProperty(job, BITS_JOB_PROPERTY_NOTIFICATION_CLSID,
                                                    clsid_value(&CLSID_notify_server)));
    assert_hr(S_OK, IBackgroundCopyJob5_GetProperty(job, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, &value));
    assert_memory_equal(&value.ClsID, &CLSID_notify_server, sizeof(GUID));
    assert_hr(S_OK, IBackgroundCopyJob5_SetProperty(job, BITS_JOB_PROPERTY_NOTIFICATION_CLSID,
                                                    clsid_value(&GUID_NULL)));
    assert_hr(S_OK, IBackgroundCopyJob5_GetProperty(job, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, &value));
    assert_memory_equal(&value.ClsID, &GUID_NULL, sizeof(GUID));
}

/* spec 3.4: every id but COST_FLAGS and NOTIFICATION_CLSID is "Not supported" in DO. */
static void test_unsupported_job_properties_fail_with_unknown_property_id(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    const BITS_JOB_PROPERTY_ID ids[] = { 3, 4, 5, 7, 9, 10, 99 };
    BITS_JOB_PROPERTY_VALUE value;
    size_t i;

    for (i = 0; i < ARRAYSIZE(ids); i++)
    {
        assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IBackgroundCopyJob5_SetProperty(job, ids[i], dword_value(1)));
        assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IBackgroundCopyJob5_GetProperty(job, ids[i], &value));
    }
}

/* ==== IDeliveryOptimizationJob2 (spec 3.13) ===================================================== */

/* The file DOJob2::AddFile returns, as IDeliveryOptimizationFile2. */
static IDeliveryOptimizationFile2 *do_add_file(IBackgroundCopyJob5 *job, const WCHAR *file_id)
{
    IDeliveryOptimizationJob2 *dojob2 = do_job2(job);
    IDeliveryOptimizationFile2 *file = NULL;

    assert_hr(S_OK, IDeliveryOptimizationJob2_AddFile(dojob2, file_id, URL, 0, NULL, &IID_IDeliveryOptimizationFile2,
                                                      (void **)&file));
    IDeliveryOptimizationJob2_Release(dojob2);
    assert_non_null(file);
    return file;
}

static void set_download_sink(IDeliveryOptimizationFile2 *file, const WCHAR *path)
{
    VARIANT value;

    VariantInit(&value);
    V_VT(&value) = VT_BSTR;
    V_BSTR(&value) = SysAllocString(path);
    assert_hr(S_OK, IDeliveryOptimizationFile2_SetProperty(file, DOFilePropertyId_DownloadSinkFilePath, &value));
    VariantClear(&value);
}

static void test_do_add_file_returns_the_added_file(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IDeliveryOptimizationFile2 *file = do_add_file(job, L"content-1");
    IBackgroundCopyFile *bits_file = NULL;
    WCHAR *remote = NULL;

    assert_int_equal(files_total(job), 1);
    assert_hr(S_OK, IDeliveryOptimizationFile2_QueryInterface(file, &IID_IBackgroundCopyFile, (void **)&bits_file));
    assert_hr(S_OK, IBackgroundCopyFile_GetRemoteName(bits_file, &remote));
    assert_wstr_equal(URL, remote);
    CoTaskMemFree(remote);
    IBackgroundCopyFile_Release(bits_file);
    IDeliveryOptimizationFile2_Release(file);
}

static void test_do_add_file_rejects_null_out(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IDeliveryOptimizationJob2 *dojob2 = do_job2(job);

    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob2_AddFile(dojob2, L"id", URL, 0, NULL,
                                                              &IID_IDeliveryOptimizationFile, NULL));
    IDeliveryOptimizationJob2_Release(dojob2);
    assert_int_equal(files_total(job), 0);
}

/* dosvc has no content service: the URL is what it downloads. */
static void test_do_add_file_rejects_null_url(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IDeliveryOptimizationJob2 *dojob2 = do_job2(job);
    IUnknown *file = (IUnknown *)0xdeadbeef;

    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob2_AddFile(dojob2, L"id", NULL, 0, NULL,
                                                              &IID_IDeliveryOptimizationFile, (void **)&file));
    assert_null(file);
    IDeliveryOptimizationJob2_Release(dojob2);
    assert_int_equal(files_total(job), 0);
}

static void test_do_add_file_rejects_invalid_url(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IDeliveryOptimizationJob2 *dojob2 = do_job2(job);
    IUnknown *file = NULL;

    assert_hr(E_INVALIDARG, IDeliveryOptimizationJob2_AddFile(dojob2, L"id", L"ftp://127.0.0.1/f", 0, NULL,
                                                              &IID_IDeliveryOptimizationFile, (void **)&file));
    assert_null(file);
    IDeliveryOptimizationJob2_Release(dojob2);
    assert_int_equal(files_total(job), 0);
}

static void test_do_add_file_for_non_file_interface_fails_and_adds_nothing(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IDeliveryOptimizationJob2 *dojob2 = do_job2(job);
    IUnknown *file = (IUnknown *)0xdeadbeef;

    assert_hr(E_NOINTERFACE, IDeliveryOptimizationJob2_AddFile(dojob2, L"id", URL, 0, NULL, &IID_IBackgroundCopyJob,
                                                               (void **)&file));
    assert_null(file);
    IDeliveryOptimizationJob2_Release(dojob2);
    assert_int_equal(files_total(job), 0);
}

static void test_do_added_file_has_no_local_name_until_its_sink_is_set(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IDeliveryOptimizationFile2 *file = do_add_file(job, L"content-1");

    assert_local_name(job, 0, L"");
    set_download_sink(file, local_path(L"sink.bin"));
    assert_local_name(job, 0, local_path(L"sink.bin"));
    IDeliveryOptimizationFile2_Release(file);
}

static void test_resume_with_file_lacking_sink_fails_with_downloadsink_unspecified(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IDeliveryOptimizationFile2 *file = do_add_file(job, L"content-1");

    assert_hr(DO_E_FILE_DOWNLOADSINK_UNSPECIFIED, IBackgroundCopyJob5_Resume(job));
    assert_int_equal(state_of(job), BG_JOB_STATE_SUSPENDED);
    IDeliveryOptimizationFile2_Release(file);
}

static void test_resume_succeeds_once_the_download_sink_is_set(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IDeliveryOptimizationFile2 *file = do_add_file(job, L"content-1");

    set_download_sink(file, local_path(L"sink.bin"));
    assert_hr(S_OK, IBackgroundCopyJob5_Resume(job));
    assert_running_state(job);
    IDeliveryOptimizationFile2_Release(file);
}

static void test_extended_error_info_is_empty_without_an_error(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IDeliveryOptimizationJob2 *dojob2 = do_job2(job);
    VARIANT value;

    VariantInit(&value);
    assert_hr(S_OK, IDeliveryOptimizationJob2_GetProperty(dojob2, DOJobPropertyId_ExtendedErrorInfo, &value));
    assert_int_equal(V_VT(&value), VT_BSTR);
    assert_wstr_equal(L"", V_BSTR(&value));
    VariantClear(&value);
    IDeliveryOptimizationJob2_Release(dojob2);
}

/* spec 3.13: SetProperty is "unused". */
static void test_extended_error_info_is_read_only(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IDeliveryOptimizationJob2 *dojob2 = do_job2(job);
    VARIANT value;

    VariantInit(&value);
    V_VT(&value) = VT_BSTR;
    V_BSTR(&value) = SysAllocString(L"made up");
    assert_hr(DO_E_READ_ONLY_PROPERTY,
              IDeliveryOptimizationJob2_SetProperty(dojob2, DOJobPropertyId_ExtendedErrorInfo, &value));
    VariantClear(&value);
    IDeliveryOptimizationJob2_Release(dojob2);
}

static void test_other_do_job_properties_fail_with_unknown_property_id(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IDeliveryOptimizationJob2 *dojob2 = do_job2(job);
    VARIANT value;

    VariantInit(&value);
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IDeliveryOptimizationJob2_GetProperty(dojob2, (DOJobPropertyId)1, &value));
    V_VT(&value) = VT_UI4;
    V_UI4(&value) = 1;
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IDeliveryOptimizationJob2_SetProperty(dojob2, (DOJobPropertyId)1, &value));
    IDeliveryOptimizationJob2_Release(dojob2);
}

/* ==== file URLs that decode to devices (issue 9 defect 4) ======================================= */

static void test_add_file_rejects_file_urls_naming_devices(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    size_t i;

    for (i = 0; dosvc_device_file_urls[i]; i++)
        assert_add_file_fails(job, E_INVALIDARG, dosvc_device_file_urls[i], local_path(L"device.bin"));
    assert_int_equal(files_total(job), 0);
}

static void test_add_file_set_with_a_file_url_naming_a_device_adds_nothing(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_INFO set[2] = { { (WCHAR *)URL, (WCHAR *)local_path(L"a.bin") }, { NULL, (WCHAR *)local_path(L"b.bin") } };
    size_t i;

    for (i = 0; dosvc_device_file_urls[i]; i++)
    {
        set[1].RemoteName = (WCHAR *)dosvc_device_file_urls[i];
        assert_hr(E_INVALIDARG, IBackgroundCopyJob5_AddFileSet(job, 2, set));
    }
    assert_int_equal(files_total(job), 0);
}

static void test_add_file_with_ranges_rejects_file_urls_naming_devices(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    BG_FILE_RANGE range = { 0, 10 };
    size_t i;

    for (i = 0; dosvc_device_file_urls[i]; i++)
        assert_hr(E_INVALIDARG, IBackgroundCopyJob5_AddFileWithRanges(job, dosvc_device_file_urls[i],
                                                                       local_path(L"device.bin"), 1, &range));
    assert_int_equal(files_total(job), 0);
}

static void test_do_add_file_with_ranges_rejects_file_urls_naming_devices(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IDeliveryOptimizationJob *dojob = do_job(job);
    size_t i;

    for (i = 0; dosvc_device_file_urls[i]; i++)
        assert_hr(E_INVALIDARG, IDeliveryOptimizationJob_AddFileWithRanges(dojob, NULL, dosvc_device_file_urls[i],
                                                                            local_path(L"device.bin"), 0, NULL,
                                                                            DO_UNKNOWN_FILE_SIZE));
    IDeliveryOptimizationJob_Release(dojob);
    assert_int_equal(files_total(job), 0);
}

/* "file:///C:/dir/NULL" becoming "file:///C:/dir/NUL": a renaming that makes a device renames nothing. */
static void test_replace_remote_prefix_making_a_file_url_name_a_device_changes_nothing(void **state)
{
    IBackgroundCopyJob5 *job = *state;

    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, L"file:///C:/dir/NULL", local_path(L"a.bin")));
    assert_hr(S_OK, IBackgroundCopyJob5_AddFile(job, L"file:///C:/dir/NULL.bin", local_path(L"b.bin")));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_ReplaceRemotePrefix(job, L"file:///C:/dir/NULL", L"file:///C:/dir/NUL"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob5_ReplaceRemotePrefix(job, L"file:///C:/dir/", L"file:////./pipe/"));
    assert_remote_name(job, 0, L"file:///C:/dir/NULL");
    assert_remote_name(job, 1, L"file:///C:/dir/NULL.bin");
}

static void test_do_add_file_rejects_file_urls_naming_devices(void **state)
{
    IBackgroundCopyJob5 *job = *state;
    IDeliveryOptimizationJob2 *dojob2 = do_job2(job);
    size_t i;

    for (i = 0; dosvc_device_file_urls[i]; i++)
    {
        IUnknown *file = (IUnknown *)0xdeadbeef;
        assert_hr(E_INVALIDARG, IDeliveryOptimizationJob2_AddFile(dojob2, NULL, dosvc_device_file_urls[i], 0, NULL,
                                                                  &IID_IDeliveryOptimizationFile, (void **)&file));
        assert_null(file);
    }
    IDeliveryOptimizationJob2_Release(dojob2);
    assert_int_equal(files_total(job), 0);
}

/* ==== groups ===================================================================================== */

int main(void)
{
    const struct CMUnitTest new_job[] = {
        job_test(test_new_job_is_suspended),
        job_test(test_new_job_is_a_download),
        job_test(test_new_job_has_normal_priority),
        job_test(test_new_job_notifies_transferred_and_error),
        job_test(test_new_job_minimum_retry_delay_is_600_seconds),
        job_test(test_new_job_maximum_download_time_is_90_days),
        job_test(test_new_job_no_progress_timeout_is_86400_seconds),
        job_test(test_new_job_uses_preconfigured_proxy_without_lists),
        job_test(test_new_job_has_no_errors),
        job_test(test_new_job_get_error_fails_with_error_information_unavailable),
        job_test(test_new_job_cost_flags_are_transfer_always),
        job_test(test_new_job_notification_clsid_is_null),
        job_test(test_new_job_description_is_empty),
        job_test(test_new_job_owner_is_callers_sid),
        job_test(test_new_job_was_modified_when_created_and_never_completed),
        job_test(test_new_job_has_no_files),
        job_test(test_new_job_has_no_notify_interface),
        job_test(test_new_job_has_no_notify_command_line),
        job_test(test_get_times_are_ordered_and_completion_is_set_on_transfer),
        job_test(test_error_count_grows_with_each_error),
        job_test(test_getters_reject_null_out_with_invalid_arg),
    };
    const struct CMUnitTest query_interface[] = {
        job_test(test_job_answers_every_job_interface),
        job_test(test_job_refuses_other_interfaces_with_no_interface),
        job_test(test_job_query_interface_with_null_out_fails_with_pointer),
        job_test(test_job_iunknown_is_the_same_from_every_interface),
    };
    const struct CMUnitTest states[] = {
        job_test(test_resume_empty_job_fails_with_job_empty),
        job_test(test_resume_moves_suspended_job_to_a_running_state),
        job_test(test_resume_of_a_running_job_succeeds_and_keeps_it_running),
        job_test(test_suspend_suspended_job_succeeds_twice),
        job_test(test_suspend_moves_queued_job_back_to_suspended),
        job_test(test_cancel_moves_job_to_cancelled),
        job_test(test_cancel_of_queued_job_succeeds),
        job_test(test_complete_job_with_files_returns_partial_complete),
        job_test(test_complete_empty_job_returns_s_ok),
        job_test(test_job_with_file_of_unknown_size_has_unknown_bytes_total),
    };
    const struct CMUnitTest final_states[] = {
        job_test(test_cancelled_job_refuses_every_mutator_and_changes_nothing),
        job_test(test_acknowledged_job_refuses_every_mutator_and_changes_nothing),
        job_test(test_cancelled_job_getters_still_work),
        job_test(test_acknowledged_job_getters_still_work),
    };
    const struct CMUnitTest local_names[] = {
        job_test(test_add_file_with_absolute_local_name_succeeds),
        job_test(test_add_file_rejects_null_names),
        job_test(test_add_file_rejects_relative_local_names),
        job_test(test_add_file_rejects_device_names),
        job_test(test_add_file_rejects_device_namespace_prefixes),
        job_test(test_add_file_rejects_wildcards_in_local_name),
        job_test(test_add_file_rejects_stream_colon_in_local_name),
        job_test(test_add_file_rejects_folder_as_local_name),
        job_test(test_add_file_rejects_local_name_resolving_to_a_folder),
        job_test(test_add_file_accepts_259_character_local_name),
        job_test(test_add_file_rejects_260_character_local_name),
        job_test(test_add_file_with_missing_folder_fails_with_path_not_found),
        job_test(test_add_file_reports_bad_remote_name_before_missing_folder),
        job_test(test_get_local_name_shows_the_canonical_form),
    };
    const struct CMUnitTest remote_names[] = {
        job_test(test_add_file_accepts_http_and_https_urls),
        job_test(test_add_file_accepts_unc_paths_and_file_urls),
        job_test(test_add_file_rejects_ftp_url),
        job_test(test_add_file_rejects_relative_remote_names),
        job_test(test_add_file_rejects_urls_without_host_or_path),
        job_test(test_add_file_rejects_unc_path_without_share_and_file),
        job_test(test_add_file_accepts_2200_character_url),
        job_test(test_add_file_rejects_2201_character_url),
        job_test(test_add_file_rejects_file_urls_naming_devices),
    };
    const struct CMUnitTest file_sets[] = {
        job_test(test_add_file_set_adds_every_file_in_order),
        job_test(test_add_file_set_with_a_bad_entry_adds_nothing),
        job_test(test_add_file_set_with_a_missing_folder_adds_nothing),
        job_test(test_add_file_set_rejects_empty_set),
        job_test(test_add_file_set_with_a_file_url_naming_a_device_adds_nothing),
    };
    const struct CMUnitTest ranges[] = {
        job_test(test_add_file_with_ranges_counts_only_requested_bytes),
        job_test(test_add_file_with_range_to_end_of_unknown_file_leaves_size_unknown),
        job_test(test_add_file_with_ranges_rejects_no_ranges),
        job_test(test_add_file_with_ranges_rejects_zero_length_with_invalid_range),
        job_test(test_add_file_with_ranges_rejects_offset_length_to_eof_with_invalid_range),
        job_test(test_add_file_with_ranges_rejects_overlaps_with_overlapping_ranges),
        job_test(test_add_file_with_ranges_accepts_adjacent_ranges),
        job_test(test_add_file_with_ranges_validates_names_like_add_file),
        job_test(test_add_file_with_ranges_rejects_file_urls_naming_devices),
    };
    const struct CMUnitTest do_job_tests[] = {
        job_test(test_do_add_file_with_ranges_adds_whole_file_of_unknown_size),
        job_test(test_do_add_file_with_ranges_of_known_size_knows_bytes_total),
        job_test(test_do_add_file_with_ranges_rejects_null_or_empty_local_name),
        job_test(test_do_add_file_with_ranges_rejects_count_without_ranges),
        job_test(test_do_add_file_with_ranges_rejects_zero_file_size),
        job_test(test_do_add_file_with_ranges_rejects_range_past_known_size_with_invalid_range),
        job_test(test_do_add_file_with_ranges_rejects_bad_ranges),
        job_test(test_do_add_file_with_ranges_rejects_empty_file_id),
        job_test(test_do_add_file_with_ranges_rejects_duplicate_file_id),
        job_test(test_do_add_file_with_ranges_allows_null_file_ids),
        job_test(test_do_add_file_with_ranges_rejects_file_urls_naming_devices),
    };
    const struct CMUnitTest notify_interface[] = {
        job_test(test_set_notify_interface_rejects_object_without_callback_interface),
        job_test(test_set_notify_interface_holds_exactly_one_reference),
        job_test(test_get_notify_interface_returns_registered_pointer_addrefed),
        job_test(test_registering_the_same_callback_again_keeps_one_reference),
        job_test(test_replacing_notify_interface_releases_the_previous_one),
        job_test(test_set_notify_interface_null_releases_the_callback),
        job_test(test_cancel_releases_the_callback),
        job_test(test_complete_releases_the_callback),
    };
    const struct CMUnitTest setters[] = {
        job_test(test_set_display_name_round_trips),
        job_test(test_set_display_name_accepts_256_and_rejects_257_characters),
        job_test(test_set_display_name_rejects_null),
        job_test(test_set_description_round_trips),
        job_test(test_set_description_accepts_1024_and_rejects_1025_characters),
        job_test(test_set_description_rejects_null),
        job_test(test_set_priority_round_trips_every_priority),
        job_test(test_set_priority_rejects_values_above_low),
        job_test(test_set_notify_flags_accepts_every_defined_bit),
        job_test(test_set_notify_flags_rejects_undefined_bits),
        job_test(test_set_minimum_retry_delay_round_trips),
        job_test(test_set_no_progress_timeout_round_trips),
        job_test(test_set_proxy_override_round_trips_its_lists),
        job_test(test_set_proxy_without_override_has_no_lists),
        job_test(test_set_proxy_rejects_unknown_usage),
        job_test(test_set_proxy_override_requires_a_list),
        job_test(test_set_proxy_lists_need_override),
        job_test(test_take_ownership_keeps_the_caller_as_owner),
        job_test(test_setter_advances_modification_time),
        job_test(test_add_file_advances_modification_time),
        job_test(test_failed_setter_leaves_modification_time),
    };
    const struct CMUnitTest job2[] = {
        job_test(test_set_notify_cmd_line_round_trips),
        job_test(test_set_notify_cmd_line_null_clears_it),
        job_test(test_set_notify_cmd_line_rejects_parameters_without_program),
        job_test(test_set_notify_cmd_line_rejects_relative_program),
        job_test(test_reply_methods_are_not_implemented_for_download_jobs),
        job_test(test_set_credentials_succeeds),
        job_test(test_set_credentials_rejects_null),
        job_test(test_set_credentials_rejects_unknown_target_or_scheme),
        job_test(test_remove_credentials_never_set_returns_s_false),
        job_test(test_remove_credentials_that_were_set_returns_s_ok_once),
        job_test(test_remove_credentials_rejects_unknown_target_or_scheme),
    };
    const struct CMUnitTest job3[] = {
        job_test(test_replace_remote_prefix_replaces_matching_prefixes_only),
        job_test(test_replace_remote_prefix_rejects_null_or_empty_prefixes),
        job_test(test_replace_remote_prefix_making_an_invalid_url_changes_nothing),
        job_test(test_set_file_acl_flags_round_trips),
        job_test(test_set_file_acl_flags_rejects_undefined_bits),
        job_test(test_replace_remote_prefix_making_a_file_url_name_a_device_changes_nothing),
    };
    const struct CMUnitTest job4[] = {
        job_test(test_set_peer_caching_flags_round_trips),
        job_test(test_set_peer_caching_flags_rejects_undefined_bits),
        job_test(test_owner_integrity_level_is_the_tokens_rid),
        job_test(test_owner_elevation_state_is_the_tokens_elevation),
        job_test(test_set_maximum_download_time_round_trips),
    };
    const struct CMUnitTest job5[] = {
        job_test(test_cost_flags_round_trip),
        job_test(test_cost_flags_reject_undefined_bits),
        job_test(test_notification_clsid_round_trips_and_guid_null_clears_it),
        job_test(test_unsupported_job_properties_fail_with_unknown_property_id),
    };
    const struct CMUnitTest do_job2_tests[] = {
        job_test(test_do_add_file_returns_the_added_file),
        job_test(test_do_add_file_rejects_null_out),
        job_test(test_do_add_file_rejects_null_url),
        job_test(test_do_add_file_rejects_invalid_url),
        job_test(test_do_add_file_for_non_file_interface_fails_and_adds_nothing),
        job_test(test_do_added_file_has_no_local_name_until_its_sink_is_set),
        job_test(test_resume_with_file_lacking_sink_fails_with_downloadsink_unspecified),
        job_test(test_resume_succeeds_once_the_download_sink_is_set),
        job_test(test_extended_error_info_is_empty_without_an_error),
        job_test(test_extended_error_info_is_read_only),
        job_test(test_other_do_job_properties_fail_with_unknown_property_id),
        job_test(test_do_add_file_rejects_file_urls_naming_devices),
    };
    int failed = 0;

#define RUN(name, tests) failed += cmocka_run_group_tests_name(name, tests, setup_group, teardown_group)
    RUN("new job", new_job);
    RUN("job QueryInterface", query_interface);
    RUN("job states (spec 5.1)", states);
    RUN("final states", final_states);
    RUN("AddFile local names", local_names);
    RUN("AddFile remote names", remote_names);
    RUN("AddFileSet", file_sets);
    RUN("IBackgroundCopyJob3::AddFileWithRanges", ranges);
    RUN("IDeliveryOptimizationJob", do_job_tests);
    RUN("notify interface", notify_interface);
    RUN("IBackgroundCopyJob setters", setters);
    RUN("IBackgroundCopyJob2", job2);
    RUN("IBackgroundCopyJob3", job3);
    RUN("IBackgroundCopyJob4", job4);
    RUN("IBackgroundCopyJob5", job5);
    RUN("IDeliveryOptimizationJob2", do_job2_tests);
#undef RUN
    return failed;
}
