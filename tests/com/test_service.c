/*
 * The service (issue 10): dosvc.dll registered with regsvr32, hosted by svchost.exe as
 * OpenDoSvc, reached through CLSCTX_LOCAL_SERVER and CLSCTX_ALL, one store for every
 * process. Other clients are this program itself, started again with --child: they make
 * jobs and exit, or die with a callback registered. The group registers the service on
 * start and unregisters it at the end; the last tests check what registration leaves.
 */
#include "com_test.h"

#include <stdio.h>
#include <wchar.h>
#include <winsvc.h>

#define SERVICE_NAME L"OpenDoSvc"
#define CLSID_KEY L"CLSID\\{5B99FA76-721C-423C-ADAC-56D03C8A8007}"
#define APPID_KEY L"AppID\\{5B99FA76-721C-423C-ADAC-56D03C8A8007}"
#define SERVICE_KEY L"SYSTEM\\CurrentControlSet\\Services\\" SERVICE_NAME
#define DOMANAGER_KEY L"Interface\\{400E2D4A-1431-4C1A-A748-39CA472CFDB1}"
/* The service's quiet period: long, but for the tests of stopping, which shorten it and then
 * wait for the service to be gone (an activation while it stops fails under Wine). */
#define LONG_QUIET_SECONDS 600
#define QUIET_SECONDS 1

static WCHAR dll_path[MAX_PATH];

/* ---- processes: regsvr32, and this program as another client ------------------------ */

/* Runs command_line to its end; its exit code, or -1 if it could not run or did not end. */
static int run(const WCHAR *command_line, HANDLE *keep_running)
{
    STARTUPINFOW startup = { .cb = sizeof(startup) };
    PROCESS_INFORMATION process;
    WCHAR line[2048];
    DWORD code = (DWORD)-1;

    lstrcpynW(line, command_line, ARRAYSIZE(line));
    if (!CreateProcessW(NULL, line, NULL, NULL, FALSE, 0, NULL, NULL, &startup, &process)) return -1;
    CloseHandle(process.hThread);
    if (keep_running)
    {
        *keep_running = process.hProcess;
        return 0;
    }
    if (dosvc_wait_handle(process.hProcess, 60000)) GetExitCodeProcess(process.hProcess, &code);
    else TerminateProcess(process.hProcess, 1);
    CloseHandle(process.hProcess);
    return (int)code;
}

static int regsvr32(const WCHAR *options)
{
    WCHAR line[MAX_PATH * 2];
    swprintf(line, ARRAYSIZE(line), L"regsvr32.exe /s %ls \"%ls\"", options, dll_path);
    return run(line, NULL);
}

/* This program again, as a client of its own: --child VERB ARGS... */
static int child(const WCHAR *arguments, HANDLE *keep_running)
{
    WCHAR self[MAX_PATH], line[2048];
    GetModuleFileNameW(NULL, self, ARRAYSIZE(self));
    swprintf(line, ARRAYSIZE(line), L"\"%ls\" --child %ls", self, arguments);
    return run(line, keep_running);
}

/* ---- the registry and the service, as the tests read them ------------------------- */

static BOOL key_exists(HKEY root, const WCHAR *path)
{
    HKEY key;
    if (RegOpenKeyExW(root, path, 0, KEY_READ, &key)) return FALSE;
    RegCloseKey(key);
    return TRUE;
}

static BOOL value_is(HKEY root, const WCHAR *path, const WCHAR *name, const WCHAR *expected)
{
    WCHAR data[MAX_PATH];
    DWORD size = sizeof(data);
    if (RegGetValueW(root, path, name, RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND, NULL, data, &size))
        return FALSE;
    return !lstrcmpiW(data, expected);
}

static void set_quiet_period(DWORD seconds)
{
    assert_int_equal(ERROR_SUCCESS, RegSetKeyValueW(HKEY_LOCAL_MACHINE, SERVICE_KEY L"\\Parameters", L"IdleSeconds",
                                                    REG_DWORD, &seconds, sizeof(seconds)));
}

/* The service's state and process id; state 0 when it is not installed. */
static DWORD service_state(DWORD *pid)
{
    SERVICE_STATUS_PROCESS status = { 0 };
    SC_HANDLE manager, service;
    DWORD size;

    if (pid) *pid = 0;
    if (!(manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT))) return 0;
    if ((service = OpenServiceW(manager, SERVICE_NAME, SERVICE_QUERY_STATUS)))
    {
        if (!QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, (BYTE *)&status, sizeof(status), &size))
            status.dwCurrentState = 0;
        CloseServiceHandle(service);
    }
    CloseServiceHandle(manager);
    if (pid) *pid = status.dwProcessId;
    return status.dwCurrentState;
}

static BOOL service_stopped(void *context)
{
    (void)context;
    return service_state(NULL) == SERVICE_STOPPED;
}

/* Shortens the quiet period and waits until the service has stopped and its svchost process
 * has ended: until then Wine answers an activation with an error, not a new service. */
static void wait_for_service_gone(void)
{
    DWORD pid;
    HANDLE process;

    service_state(&pid);
    process = pid ? OpenProcess(SYNCHRONIZE, FALSE, pid) : NULL;
    set_quiet_period(QUIET_SECONDS);
    assert_true(dosvc_wait(service_stopped, NULL, 60000));
    if (process)
    {
        assert_true(dosvc_wait_handle(process, 60000));
        CloseHandle(process);
    }
    set_quiet_period(LONG_QUIET_SECONDS);
}

/* The service releases its last reference to a test's callback after the call that dropped
 * it, asynchronously: the test waits for that before its callback goes. */
static void wait_for_last_release(const volatile LONG *refs)
{
    assert_true(dosvc_wait_for_refs(refs, 1, 60000));
}

/* ---- clients ---------------------------------------------------------------------- */

static IBackgroundCopyManager *local_manager(DWORD context)
{
    IBackgroundCopyManager *manager = NULL;
    assert_hr(S_OK, CoCreateInstance(&CLSID_DeliveryOptimization, NULL, context, &IID_IBackgroundCopyManager,
                                     (void **)&manager));
    assert_non_null(manager);
    return manager;
}

/* The job whose id another process wrote into file (as text), or NULL while it has not.
 * Jobs are found by id, not by EnumJobs: Wine's qmgrprxy misreads IEnumBackgroundCopyJobs::Next
 * across processes now and then (docs/service.md). */
static IBackgroundCopyJob *job_from_file(IBackgroundCopyManager *manager, const WCHAR *file)
{
    IBackgroundCopyJob *job = NULL;
    WCHAR text[64] = { 0 };
    DWORD got = 0;
    HANDLE handle;
    GUID id;

    handle = CreateFileW(file, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                         OPEN_EXISTING, 0, NULL);
    if (handle == INVALID_HANDLE_VALUE) return NULL;
    ReadFile(handle, text, sizeof(text) - sizeof(WCHAR), &got, NULL);
    CloseHandle(handle);
    if (got != 38 * sizeof(WCHAR) || FAILED(CLSIDFromString(text, &id))) return NULL;
    return SUCCEEDED(IBackgroundCopyManager_GetJob(manager, &id, &job)) ? job : NULL;
}

/* Where a child writes its job's id: beside its local file. */
static const WCHAR *id_file(const WCHAR *local)
{
    static WCHAR path[MAX_PATH];
    swprintf(path, ARRAYSIZE(path), L"%ls.id", local);
    return path;
}

/* A name no other test run uses. */
static const WCHAR *unique_name(const WCHAR *what)
{
    static WCHAR names[4][80];
    static int next;
    WCHAR *name = names[next++ % 4];
    swprintf(name, 80, L"%ls %lu-%lu", what, GetCurrentProcessId(), (unsigned long)GetTickCount());
    return name;
}

static void assert_file_is(const WCHAR *local, const WCHAR *path)
{
    char expected[65], actual[65];
    assert_true(dosvc_server_hash(path, expected));
    assert_true(sha256_file_hex(local, actual));
    assert_string_equal(expected, actual);
}

/* A callback that counts JobTransferred and JobError and can hang in JobTransferred. */
struct counter
{
    IBackgroundCopyCallback IBackgroundCopyCallback_iface;
    LONG refs, transferred, errors;
    HANDLE event;                 /* set on JobTransferred */
    BOOL hang;                    /* JobTransferred never returns */
};

static struct counter *counter_from(IBackgroundCopyCallback *iface)
{
    return CONTAINING_RECORD(iface, struct counter, IBackgroundCopyCallback_iface);
}

static HRESULT WINAPI counter_QueryInterface(IBackgroundCopyCallback *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyCallback))
    {
        *out = iface;
        IBackgroundCopyCallback_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI counter_AddRef(IBackgroundCopyCallback *iface) { return InterlockedIncrement(&counter_from(iface)->refs); }
static ULONG WINAPI counter_Release(IBackgroundCopyCallback *iface) { return InterlockedDecrement(&counter_from(iface)->refs); }

static HRESULT WINAPI counter_JobTransferred(IBackgroundCopyCallback *iface, IBackgroundCopyJob *job)
{
    struct counter *counter = counter_from(iface);
    InterlockedIncrement(&counter->transferred);
    SetEvent(counter->event);
    if (counter->hang) WaitForSingleObject(GetCurrentProcess(), INFINITE);
    return S_OK;
}

static HRESULT WINAPI counter_JobError(IBackgroundCopyCallback *iface, IBackgroundCopyJob *job, IBackgroundCopyError *error)
{
    InterlockedIncrement(&counter_from(iface)->errors);
    return S_OK;
}

static HRESULT WINAPI counter_JobModification(IBackgroundCopyCallback *iface, IBackgroundCopyJob *job, DWORD reserved)
{
    return S_OK;
}

static const IBackgroundCopyCallbackVtbl counter_vtbl = {
    counter_QueryInterface, counter_AddRef, counter_Release,
    counter_JobTransferred, counter_JobError, counter_JobModification,
};

static void counter_init(struct counter *counter, BOOL hang)
{
    counter->IBackgroundCopyCallback_iface.lpVtbl = &counter_vtbl;
    counter->refs = 1;
    counter->transferred = counter->errors = 0;
    counter->event = CreateEventW(NULL, TRUE, FALSE, NULL);
    counter->hang = hang;
}

/* A job of manager's downloading path from the test server to local, with callback (or none). */
static IBackgroundCopyJob *download_job(IBackgroundCopyManager *manager, const WCHAR *name, const WCHAR *path,
                                        const WCHAR *local, struct counter *callback, BOOL resume)
{
    IBackgroundCopyJob *job = dosvc_create_job(manager, name, NULL);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, dosvc_server_url(FALSE, path), local));
    if (callback)
    {
        assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR));
        assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, (IUnknown *)&callback->IBackgroundCopyCallback_iface));
    }
    if (resume) assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    return job;
}

/* An IDODownloadStatusCallback whose event is set once the download is transferred. */
struct status_callback
{
    IDODownloadStatusCallback IDODownloadStatusCallback_iface;
    LONG refs, calls;
    HANDLE transferred;
};

static struct status_callback *status_from(IDODownloadStatusCallback *iface)
{
    return CONTAINING_RECORD(iface, struct status_callback, IDODownloadStatusCallback_iface);
}

static HRESULT WINAPI status_QueryInterface(IDODownloadStatusCallback *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDODownloadStatusCallback))
    {
        *out = iface;
        IDODownloadStatusCallback_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI status_AddRef(IDODownloadStatusCallback *iface) { return InterlockedIncrement(&status_from(iface)->refs); }
static ULONG WINAPI status_Release(IDODownloadStatusCallback *iface) { return InterlockedDecrement(&status_from(iface)->refs); }

static HRESULT WINAPI status_OnStatusChange(IDODownloadStatusCallback *iface, IDODownload *download,
                                            const DO_DOWNLOAD_STATUS *status)
{
    struct status_callback *callback = status_from(iface);
    InterlockedIncrement(&callback->calls);
    if (status->State == DODownloadState_Transferred) SetEvent(callback->transferred);
    return S_OK;
}

static const IDODownloadStatusCallbackVtbl status_vtbl = {
    status_QueryInterface, status_AddRef, status_Release, status_OnStatusChange,
};

static void status_callback_init(struct status_callback *callback)
{
    callback->IDODownloadStatusCallback_iface.lpVtbl = &status_vtbl;
    callback->refs = 1;
    callback->calls = 0;
    callback->transferred = CreateEventW(NULL, TRUE, FALSE, NULL);
}

static void set_bstr(IDODownload *download, DODownloadProperty property, const WCHAR *text)
{
    VARIANT v;
    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocString(text);
    assert_hr(S_OK, IDODownload_SetProperty(download, property, &v));
    VariantClear(&v);
}

/* ---- the other clients: this program with --child ----------------------------------- */

/* create NAME PATH LOCAL: makes a job downloading PATH and exits at once, the job running. */
/* hang NAME PATH LOCAL: makes a suspended job whose callback never returns, and waits forever. */
static int child_main(int argc, WCHAR **argv)
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job;
    struct counter callback;
    BOOL hang;

    if (argc != 6) return 2;
    hang = !lstrcmpW(argv[2], L"hang");
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED))) return 3;
    if (FAILED(CoCreateInstance(&CLSID_DeliveryOptimization, NULL, CLSCTX_LOCAL_SERVER, &IID_IBackgroundCopyManager,
                                (void **)&manager)))
        return 4;
    counter_init(&callback, TRUE);
    job = download_job(manager, argv[3], argv[4], argv[5], hang ? &callback : NULL, !hang);
    {
        WCHAR text[39];
        GUID id;
        DWORD written;
        HANDLE file;

        if (FAILED(IBackgroundCopyJob_GetId(job, &id))) return 5;
        StringFromGUID2(&id, text, ARRAYSIZE(text));
        file = CreateFileW(id_file(argv[5]), GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_ALWAYS, 0, NULL);
        if (file == INVALID_HANDLE_VALUE) return 6;
        WriteFile(file, text, 38 * sizeof(WCHAR), &written, NULL);
        CloseHandle(file);
    }
    if (hang) WaitForSingleObject(GetCurrentProcess(), INFINITE);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    CoUninitialize();
    return 0;
}

/* ---- fixtures ------------------------------------------------------------------- */

static int setup_group(void **state)
{
    WCHAR *slash;

    GetModuleFileNameW(NULL, dll_path, ARRAYSIZE(dll_path));
    slash = wcsrchr(dll_path, '\\');
    lstrcpyW(slash + 1, L"dosvc.dll");
    if (key_exists(HKEY_CLASSES_ROOT, CLSID_KEY)) return -1;     /* not a clean prefix: not ours to test over */
    if (regsvr32(L"") != 0) return -1;
    set_quiet_period(LONG_QUIET_SECONDS);
    return FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)) ? -1 : 0;
}

static int teardown_group(void **state)
{
    CoUninitialize();
    return regsvr32(L"/u") == 0 ? 0 : -1;
}

/* ---- registration --------------------------------------------------------------------- */

static void test_regsvr32_installs_the_service_hosted_by_svchost(void **state)
{
    WCHAR image[MAX_PATH];
    GetSystemDirectoryW(image, MAX_PATH);
    lstrcatW(image, L"\\svchost.exe -k " SERVICE_NAME);
    assert_true(value_is(HKEY_LOCAL_MACHINE, SERVICE_KEY, L"ImagePath", image));
    assert_true(value_is(HKEY_LOCAL_MACHINE, SERVICE_KEY L"\\Parameters", L"ServiceDll", dll_path));
    assert_true(key_exists(HKEY_LOCAL_MACHINE, L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Svchost"));
}

static void test_regsvr32_binds_the_class_to_the_service_through_its_appid(void **state)
{
    assert_true(value_is(HKEY_CLASSES_ROOT, CLSID_KEY, L"AppID", L"{5B99FA76-721C-423C-ADAC-56D03C8A8007}"));
    assert_true(value_is(HKEY_CLASSES_ROOT, APPID_KEY, L"LocalService", SERVICE_NAME));
    /* An InprocServer32 would win CLSCTX_ALL and give that client a store of its own. */
    assert_false(key_exists(HKEY_CLASSES_ROOT, CLSID_KEY L"\\InprocServer32"));
}

static void test_regsvr32_registers_proxies_only_where_none_is_registered(void **state)
{
    /* IDOManager had none: dosvc's. IBackgroundCopyManager has Wine's qmgrprxy: it stays. */
    assert_true(key_exists(HKEY_CLASSES_ROOT, DOMANAGER_KEY L"\\ProxyStubClsid32"));
    assert_false(value_is(HKEY_CLASSES_ROOT, L"Interface\\{5CE34C0D-0DC9-4C1F-897C-DAA1B78CEE7C}\\ProxyStubClsid32",
                          NULL, L"{6C1D9A57-3F2B-4E8C-9A41-2D7E05B3C86F}"));
}

/* ---- activation and the one store ------------------------------------------------------ */

static void test_local_server_activation_reaches_the_service_process(void **state)
{
    IBackgroundCopyManager *manager = local_manager(CLSCTX_LOCAL_SERVER);
    DWORD pid;

    assert_int_equal(SERVICE_RUNNING, service_state(&pid));
    assert_int_not_equal(0, pid);
    assert_int_not_equal(GetCurrentProcessId(), pid);
    IBackgroundCopyManager_Release(manager);
}

static void test_clsctx_all_and_local_server_share_one_store(void **state)
{
    IBackgroundCopyManager *all = local_manager(CLSCTX_ALL), *local = local_manager(CLSCTX_LOCAL_SERVER);
    GUID id;
    IBackgroundCopyJob *job = dosvc_create_job(all, unique_name(L"shared"), &id), *seen = NULL;

    assert_hr(S_OK, IBackgroundCopyManager_GetJob(local, &id, &seen));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(seen));
    assert_int_equal(BG_JOB_STATE_CANCELLED, dosvc_state_of(job));
    IBackgroundCopyJob_Release(seen);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(local);
    IBackgroundCopyManager_Release(all);
}

static void test_job_of_a_process_that_exited_completes_in_the_service(void **state)
{
    IBackgroundCopyManager *manager = local_manager(CLSCTX_LOCAL_SERVER);
    const WCHAR *name = unique_name(L"orphan"), *path = L"/gen/4m?seed=orphan";
    const WCHAR *local = dosvc_test_path(L"orphan.bin");
    WCHAR arguments[1024];
    IBackgroundCopyJob *job;

    swprintf(arguments, ARRAYSIZE(arguments), L"create \"%ls\" \"%ls\" \"%ls\"", name, path, local);
    assert_int_equal(0, child(arguments, NULL));
    assert_non_null(job = job_from_file(manager, id_file(local)));
    DeleteFileW(id_file(local));
    assert_int_equal(BG_JOB_STATE_TRANSFERRED,
                     dosvc_wait_for_state(job, DOSVC_STATE(BG_JOB_STATE_TRANSFERRED) | DOSVC_STATE(BG_JOB_STATE_ERROR), 60000));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_file_is(local, path);
    DeleteFileW(local);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
}

static void test_callback_in_this_process_is_called_from_the_service(void **state)
{
    IBackgroundCopyManager *manager = local_manager(CLSCTX_LOCAL_SERVER);
    const WCHAR *local = dosvc_test_path(L"called-back.bin");
    static struct counter callback;
    IBackgroundCopyJob *job;

    counter_init(&callback, FALSE);
    job = download_job(manager, unique_name(L"called back"), L"/gen/1m?seed=cb", local, &callback, TRUE);
    assert_true(dosvc_wait_handle(callback.event, 60000));
    assert_int_equal(1, callback.transferred);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    wait_for_last_release(&callback.refs);
    DeleteFileW(local);
    CloseHandle(callback.event);
}

static void test_dead_clients_callback_does_not_stall_its_job(void **state)
{
    IBackgroundCopyManager *manager = local_manager(CLSCTX_LOCAL_SERVER);
    const WCHAR *name = unique_name(L"dead client"), *path = L"/gen/1m?seed=dead";
    const WCHAR *local = dosvc_test_path(L"dead-client.bin");
    WCHAR arguments[1024];
    IBackgroundCopyJob *job = NULL;
    HANDLE process;
    DWORD start = GetTickCount();

    swprintf(arguments, ARRAYSIZE(arguments), L"hang \"%ls\" \"%ls\" \"%ls\"", name, path, local);
    assert_int_equal(0, child(arguments, &process));
    /* The child's job is there once it has set its callback (the last thing it does). */
    while (!job && WaitForSingleObject(process, 0) == WAIT_TIMEOUT && GetTickCount() - start < dosvc_scaled_ms(60000))
    {
        if ((job = job_from_file(manager, id_file(local))))
        {
            IUnknown *set = NULL;
            if (FAILED(IBackgroundCopyJob_GetNotifyInterface(job, &set)) || !set)
            {
                IBackgroundCopyJob_Release(job);
                job = NULL;
            }
            else IUnknown_Release(set);
        }
        if (!job) dosvc_wait_handle(process, 50);
    }
    TerminateProcess(process, 1);
    DeleteFileW(id_file(local));
    dosvc_wait_handle(process, 60000);
    CloseHandle(process);
    assert_non_null(job);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_int_equal(BG_JOB_STATE_TRANSFERRED,
                     dosvc_wait_for_state(job, DOSVC_STATE(BG_JOB_STATE_TRANSFERRED) | DOSVC_STATE(BG_JOB_STATE_ERROR), 60000));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_file_is(local, path);
    DeleteFileW(local);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
}

/* ---- marshalling: every proxy, blankets, arrays, variants ---------------------------- */

/* What the DO SDK and winget do to every object they get, and fail without (clients.md 0.2). */
static void assert_blanket_works(void *proxy)
{
    DWORD imp = 0;
    assert_hr(S_OK, CoSetProxyBlanket((IUnknown *)proxy, RPC_C_AUTHN_DEFAULT, RPC_C_AUTHZ_NONE, COLE_DEFAULT_PRINCIPAL,
                                      RPC_C_AUTHN_LEVEL_DEFAULT, RPC_C_IMP_LEVEL_IMPERSONATE, NULL, EOAC_STATIC_CLOAKING));
    assert_hr(S_OK, CoQueryProxyBlanket((IUnknown *)proxy, NULL, NULL, NULL, NULL, &imp, NULL, NULL));
    assert_int_equal(RPC_C_IMP_LEVEL_IMPERSONATE, imp);
}

static void test_proxy_blanket_is_set_and_read_back_on_every_object(void **state)
{
    IBackgroundCopyManager *manager = local_manager(CLSCTX_LOCAL_SERVER);
    IDOManager *do_manager = dosvc_query(manager, &IID_IDOManager);
    IBackgroundCopyJob *job = dosvc_create_job(manager, unique_name(L"blanket"), NULL);
    IBackgroundCopyJob2 *job2 = dosvc_query(job, &IID_IBackgroundCopyJob2);
    IBackgroundCopyJobHttpOptions *options = dosvc_query(job, &IID_IBackgroundCopyJobHttpOptions);
    IEnumBackgroundCopyJobs *jobs;
    IEnumBackgroundCopyFiles *files;
    IDODownload *download;
    IEnumUnknown *downloads;
    WCHAR *name;

    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, dosvc_server_url(FALSE, L"/gen/1k"), dosvc_test_path(L"blanket.bin")));
    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(manager, 0, &jobs));
    assert_hr(S_OK, IBackgroundCopyJob_EnumFiles(job, &files));
    assert_hr(S_OK, IDOManager_CreateDownload(do_manager, &download));
    assert_hr(S_OK, IDOManager_EnumDownloads(do_manager, NULL, &downloads));
    void *proxies[] = { manager, do_manager, job, job2, options, jobs, files, download, downloads };
    for (size_t i = 0; i < ARRAYSIZE(proxies); i++) assert_blanket_works(proxies[i]);
    /* And they still answer; a copy of a proxy is the same interface, with a blanket of its own. */
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(job, &name));
    CoTaskMemFree(name);
    IBackgroundCopyJob *copy = NULL;
    assert_hr(S_OK, CoCopyProxy((IUnknown *)job, (IUnknown **)&copy));
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(copy, &name));
    CoTaskMemFree(name);
    assert_blanket_works(copy);
    IBackgroundCopyJob_Release(copy);
    IDODownload_Abort(download);
    IBackgroundCopyJob_Cancel(job);
    for (size_t i = 0; i < ARRAYSIZE(proxies); i++) IUnknown_Release((IUnknown *)proxies[i]);
}

static void test_download_properties_cross_as_every_variant_type(void **state)
{
    IBackgroundCopyManager *manager = local_manager(CLSCTX_LOCAL_SERVER);
    IDOManager *do_manager = dosvc_query(manager, &IID_IDOManager);
    const WCHAR *local = dosvc_test_path(L"variants.bin");
    static struct status_callback status;
    IDODownload *download;
    VARIANT v;

    status_callback_init(&status);
    assert_hr(S_OK, IDOManager_CreateDownload(do_manager, &download));
    VariantInit(&v);
    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocString(L"variants across processes");
    assert_hr(S_OK, IDODownload_SetProperty(download, DODownloadProperty_DisplayName, &v));
    VariantClear(&v);
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_DisplayName, &v));
    assert_int_equal(VT_BSTR, V_VT(&v));
    assert_wstr_equal(L"variants across processes", V_BSTR(&v));
    VariantClear(&v);
    V_VT(&v) = VT_UI4;
    V_UI4(&v) = 120;
    assert_hr(S_OK, IDODownload_SetProperty(download, DODownloadProperty_NoProgressTimeoutSeconds, &v));
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_NoProgressTimeoutSeconds, &v));
    assert_int_equal(VT_UI4, V_VT(&v));
    assert_int_equal(120, V_UI4(&v));
    V_VT(&v) = VT_BOOL;
    V_BOOL(&v) = VARIANT_TRUE;
    assert_hr(S_OK, IDODownload_SetProperty(download, DODownloadProperty_ForegroundPriority, &v));
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_ForegroundPriority, &v));
    assert_int_equal(VT_BOOL, V_VT(&v));
    assert_int_equal(VARIANT_TRUE, V_BOOL(&v));
    /* VT_UNKNOWN: a status callback of this process, called by the service until the end. */
    V_VT(&v) = VT_UNKNOWN;
    V_UNKNOWN(&v) = (IUnknown *)&status.IDODownloadStatusCallback_iface;
    assert_hr(S_OK, IDODownload_SetProperty(download, DODownloadProperty_CallbackInterface, &v));
    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/64k?seed=variant"));
    set_bstr(download, DODownloadProperty_LocalPath, local);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_true(dosvc_wait_handle(status.transferred, 60000));
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_TotalSizeBytes, &v));
    assert_int_equal(VT_UI8, V_VT(&v));
    assert_int_equal(65536, V_UI8(&v));
    assert_hr(S_OK, IDODownload_Finalize(download));
    assert_file_is(local, L"/gen/64k?seed=variant");
    DeleteFileW(local);
    IDODownload_Abort(download);
    IDODownload_Release(download);
    IDOManager_Release(do_manager);
    IBackgroundCopyManager_Release(manager);
    wait_for_last_release(&status.refs);
    CloseHandle(status.transferred);
}

/* ---- life cycle ------------------------------------------------------------------------ */

static void test_service_stops_by_itself_when_no_client_and_no_job_is_left(void **state)
{
    IBackgroundCopyManager *manager = local_manager(CLSCTX_LOCAL_SERVER);
    assert_int_equal(SERVICE_RUNNING, service_state(NULL));
    IBackgroundCopyManager_Release(manager);
    wait_for_service_gone();
}

static void test_activation_starts_a_stopped_service_again(void **state)
{
    IBackgroundCopyManager *manager;

    assert_int_equal(SERVICE_STOPPED, service_state(NULL));
    manager = local_manager(CLSCTX_LOCAL_SERVER);
    assert_int_equal(SERVICE_RUNNING, service_state(NULL));
    IBackgroundCopyManager_Release(manager);
}

static void test_service_keeps_running_while_a_job_is_left(void **state)
{
    IBackgroundCopyManager *manager = local_manager(CLSCTX_LOCAL_SERVER);
    GUID id;
    IBackgroundCopyJob *job = dosvc_create_job(manager, unique_name(L"kept"), &id);
    HANDLE service;
    DWORD pid;

    service_state(&pid);
    assert_non_null(service = OpenProcess(SYNCHRONIZE, FALSE, pid));
    set_quiet_period(QUIET_SECONDS);
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    /* Through several quiet periods with no client, the service holding the job does not end. */
    assert_false(dosvc_wait_handle(service, QUIET_SECONDS * 3000));
    CloseHandle(service);
    manager = local_manager(CLSCTX_LOCAL_SERVER);
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    /* Nothing left: it stops, and the next test starts a new one. */
    wait_for_service_gone();
}

/* ---- the in-process mode, and unregistration ---------------------------------------- */

static void test_inproc_mode_replaces_the_service_registration(void **state)
{
    IBackgroundCopyManager *manager = NULL;

    assert_int_equal(0, regsvr32(L"/n /i:inproc"));
    assert_true(value_is(HKEY_CLASSES_ROOT, CLSID_KEY L"\\InprocServer32", NULL, dll_path));
    assert_false(key_exists(HKEY_LOCAL_MACHINE, SERVICE_KEY));
    assert_false(key_exists(HKEY_CLASSES_ROOT, APPID_KEY));
    assert_hr(REGDB_E_CLASSNOTREG, CoCreateInstance(&CLSID_DeliveryOptimization, NULL, CLSCTX_LOCAL_SERVER,
                                                    &IID_IBackgroundCopyManager, (void **)&manager));
    assert_hr(S_OK, CoCreateInstance(&CLSID_DeliveryOptimization, NULL, CLSCTX_INPROC_SERVER,
                                     &IID_IBackgroundCopyManager, (void **)&manager));
    IBackgroundCopyManager_Release(manager);
}

static void test_unregistering_inproc_mode_leaves_nothing_behind(void **state)
{
    assert_int_equal(0, regsvr32(L"/u /n /i:inproc"));
    assert_false(key_exists(HKEY_CLASSES_ROOT, CLSID_KEY));
    assert_false(key_exists(HKEY_CLASSES_ROOT, DOMANAGER_KEY));
}

static void test_unregistering_the_service_stops_it_and_leaves_nothing_behind(void **state)
{
    IBackgroundCopyManager *manager;

    assert_int_equal(0, regsvr32(L""));
    set_quiet_period(600);
    manager = local_manager(CLSCTX_LOCAL_SERVER);
    IBackgroundCopyManager_Release(manager);
    assert_int_equal(SERVICE_RUNNING, service_state(NULL));
    assert_int_equal(0, regsvr32(L"/u"));
    assert_int_equal(0, service_state(NULL));
    assert_false(key_exists(HKEY_LOCAL_MACHINE, SERVICE_KEY));
    assert_false(key_exists(HKEY_CLASSES_ROOT, CLSID_KEY));
    assert_false(key_exists(HKEY_CLASSES_ROOT, APPID_KEY));
    assert_false(key_exists(HKEY_CLASSES_ROOT, DOMANAGER_KEY));
    /* The group's teardown unregisters again: it must find nothing to do, and succeed. */
}

int main(void)
{
    int argc;
    WCHAR **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regsvr32_installs_the_service_hosted_by_svchost),
        cmocka_unit_test(test_regsvr32_binds_the_class_to_the_service_through_its_appid),
        cmocka_unit_test(test_regsvr32_registers_proxies_only_where_none_is_registered),
        cmocka_unit_test(test_local_server_activation_reaches_the_service_process),
        cmocka_unit_test(test_clsctx_all_and_local_server_share_one_store),
        cmocka_unit_test(test_job_of_a_process_that_exited_completes_in_the_service),
        cmocka_unit_test(test_callback_in_this_process_is_called_from_the_service),
        cmocka_unit_test(test_proxy_blanket_is_set_and_read_back_on_every_object),
        cmocka_unit_test(test_download_properties_cross_as_every_variant_type),
        cmocka_unit_test(test_service_stops_by_itself_when_no_client_and_no_job_is_left),
        cmocka_unit_test(test_activation_starts_a_stopped_service_again),
        cmocka_unit_test(test_service_keeps_running_while_a_job_is_left),
        cmocka_unit_test(test_dead_clients_callback_does_not_stall_its_job),
        cmocka_unit_test(test_inproc_mode_replaces_the_service_registration),
        cmocka_unit_test(test_unregistering_inproc_mode_leaves_nothing_behind),
        cmocka_unit_test(test_unregistering_the_service_stops_it_and_leaves_nothing_behind),
    };
    if (argc > 1 && !lstrcmpW(argv[1], L"--child")) return child_main(argc, argv);
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
