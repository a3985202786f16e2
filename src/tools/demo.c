/*
 * dosvc-demo: a client of the public API, as a real program would use it.
 * It activates CLSID_DeliveryOptimization through COM, creates a foreground
 * job for one file, shows a live progress line until the file is transferred,
 * completes the job, prints each file's names and progress, and checks the
 * file's SHA-256 when one is given. With --ido it does the same through the
 * IDO download API instead: IDOManager::CreateDownload, its properties, and an
 * IDODownloadStatusCallback that draws the progress line and says when the
 * download has ended, then Finalize. With --create and --finish, two processes share
 * the job: one makes it and exits, the other finds it and completes it (the service).
 */
#define COBJMACROS
#define CONST_VTABLE                   /* the demo's callback has a const vtable */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <wctype.h>

#include "DeliveryOptimization.h"
#include "sha256.h"

static const char *state_name(BG_JOB_STATE state)
{
    static const char *const names[] = { "QUEUED", "CONNECTING", "TRANSFERRING", "SUSPENDED", "ERROR",
                                         "TRANSIENT_ERROR", "TRANSFERRED", "ACKNOWLEDGED", "CANCELLED" };
    return (unsigned)state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

static int fail(const char *what, HRESULT hr)
{
    fprintf(stderr, "dosvc-demo: %s failed: 0x%08lx\n", what, (unsigned long)hr);
    return 1;
}

static void print_files(IBackgroundCopyJob *job)
{
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file;
    ULONG count = 0, index = 0;

    if (FAILED(IBackgroundCopyJob_EnumFiles(job, &files))) return;
    IEnumBackgroundCopyFiles_GetCount(files, &count);
    printf("  %lu file(s)\n", count);
    while (IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL) == S_OK)
    {
        WCHAR *remote = NULL, *local = NULL;
        BG_FILE_PROGRESS progress;

        IBackgroundCopyFile_GetRemoteName(file, &remote);
        IBackgroundCopyFile_GetLocalName(file, &local);
        IBackgroundCopyFile_GetProgress(file, &progress);
        printf("  [%lu] %ls\n      -> %ls\n", ++index, remote, local);
        if (progress.BytesTotal == BG_SIZE_UNKNOWN)
            printf("      %llu bytes of an unknown size, completed: %s\n", progress.BytesTransferred,
                   progress.Completed ? "yes" : "no");
        else
            printf("      %llu of %llu bytes, completed: %s\n", progress.BytesTransferred, progress.BytesTotal,
                   progress.Completed ? "yes" : "no");
        CoTaskMemFree(remote);
        CoTaskMemFree(local);
        IBackgroundCopyFile_Release(file);
    }
    IEnumBackgroundCopyFiles_Release(files);
}

static void print_state(IBackgroundCopyJob *job, const char *when)
{
    BG_JOB_STATE state;
    if (SUCCEEDED(IBackgroundCopyJob_GetState(job, &state))) printf("  state %s: %s\n", when, state_name(state));
}

/* Follows the job until it is transferred or fails, with a live progress line. */
static BG_JOB_STATE wait_for_transfer(IBackgroundCopyJob *job, DWORD timeout_ms)
{
    ULONGLONG start = GetTickCount64();
    BG_JOB_PROGRESS progress;
    BG_JOB_STATE state;

    for (;;)
    {
        IBackgroundCopyJob_GetState(job, &state);
        IBackgroundCopyJob_GetProgress(job, &progress);
        if (progress.BytesTotal == BG_SIZE_UNKNOWN)
            printf("\r  %-15s %llu bytes          ", state_name(state), progress.BytesTransferred);
        else
            printf("\r  %-15s %llu of %llu bytes (%llu%%)   ", state_name(state), progress.BytesTransferred,
                   progress.BytesTotal, progress.BytesTotal ? progress.BytesTransferred * 100 / progress.BytesTotal : 100);
        fflush(stdout);
        if (state == BG_JOB_STATE_TRANSFERRED || state == BG_JOB_STATE_ERROR
            || GetTickCount64() - start > timeout_ms)
            break;
        Sleep(100);
    }
    printf("\n");
    return state;
}

static BOOL hex_equal(const char *hex, const WCHAR *expected)
{
    int i;
    for (i = 0; hex[i]; i++)
        if (towlower(expected[i]) != (WCHAR)hex[i]) return FALSE;
    return !expected[i];
}

/* 0 when local's SHA-256 is sha (or no sha is given), else 1 and why. */
static int verify(const WCHAR *local, const WCHAR *sha)
{
    char hex[65];

    if (!sha) return 0;
    if (!sha256_file_hex(local, hex))
    {
        fprintf(stderr, "dosvc-demo: cannot read %ls\n", local);
        return 1;
    }
    if (!hex_equal(hex, sha))
    {
        fprintf(stderr, "dosvc-demo: SHA-256 %s differs from %ls\n", hex, sha);
        return 1;
    }
    printf("  SHA-256 %s verified\n", hex);
    return 0;
}

static void print_error(IBackgroundCopyJob *job)
{
    IBackgroundCopyError *error;
    BG_ERROR_CONTEXT context;
    WCHAR *text = NULL;
    HRESULT code;

    if (FAILED(IBackgroundCopyJob_GetError(job, &error))) return;
    IBackgroundCopyError_GetError(error, &context, &code);
    IBackgroundCopyError_GetErrorDescription(error, 0, &text);
    fprintf(stderr, "dosvc-demo: the job failed: 0x%08lx %ls\n", (unsigned long)code, text ? text : L"");
    CoTaskMemFree(text);
    IBackgroundCopyError_Release(error);
}

/* ---- the IDO path: driven by OnStatusChange alone, as winget is ------------------------ */

static const char *download_state_name(DODownloadState state)
{
    static const char *const names[] = { "Created", "Transferring", "Transferred", "Finalized", "Aborted", "Paused" };
    return (unsigned)state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

struct progress_callback
{
    IDODownloadStatusCallback IDODownloadStatusCallback_iface;
    LONG refs;
    HANDLE ended;                  /* Transferred, Aborted, or a fatal Error */
    DO_DOWNLOAD_STATUS last;
};

static struct progress_callback *callback_from(IDODownloadStatusCallback *iface)
{
    return CONTAINING_RECORD(iface, struct progress_callback, IDODownloadStatusCallback_iface);
}

static HRESULT WINAPI callback_QueryInterface(IDODownloadStatusCallback *iface, REFIID riid, void **out)
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

static ULONG WINAPI callback_AddRef(IDODownloadStatusCallback *iface)
{
    return InterlockedIncrement(&callback_from(iface)->refs);
}

static ULONG WINAPI callback_Release(IDODownloadStatusCallback *iface)
{
    return InterlockedDecrement(&callback_from(iface)->refs);   /* lives on main's stack until the end */
}

static HRESULT WINAPI callback_OnStatusChange(IDODownloadStatusCallback *iface, IDODownload *download,
                                              const DO_DOWNLOAD_STATUS *status)
{
    struct progress_callback *callback = callback_from(iface);

    /* The line follows the transfer; Created and Finalized are this program's own doing. */
    if (status->State == DODownloadState_Created || status->State == DODownloadState_Finalized) return S_OK;
    callback->last = *status;
    printf("\r  %-13s %llu of %llu bytes (%llu%%)", download_state_name(status->State), status->BytesTransferred,
           status->BytesTotal, status->BytesTotal ? status->BytesTransferred * 100 / status->BytesTotal : 0);
    if (status->State == DODownloadState_Paused && status->ExtendedError)
        printf(", retrying after 0x%08lx", (unsigned long)status->ExtendedError);
    printf("   ");
    fflush(stdout);
    if (status->State == DODownloadState_Transferred || status->State == DODownloadState_Aborted || FAILED(status->Error))
        SetEvent(callback->ended);
    return S_OK;
}

static const IDODownloadStatusCallbackVtbl callback_vtbl =
{
    callback_QueryInterface, callback_AddRef, callback_Release, callback_OnStatusChange,
};

static HRESULT set_property(IDODownload *download, DODownloadProperty id, VARTYPE type, const void *value)
{
    VARIANT v;
    HRESULT hr;

    VariantInit(&v);
    V_VT(&v) = type;
    if (type == VT_BSTR) V_BSTR(&v) = SysAllocString(value);
    else if (type == VT_BOOL) V_BOOL(&v) = *(const BOOL *)value ? VARIANT_TRUE : VARIANT_FALSE;
    else V_UNKNOWN(&v) = (IUnknown *)value;
    hr = IDODownload_SetProperty(download, id, &v);
    if (type == VT_BSTR) VariantClear(&v);
    return hr;
}

static int ido_demo(const WCHAR *url, const WCHAR *local, const WCHAR *sha)
{
    struct progress_callback callback;
    const BOOL foreground = TRUE;
    IDOManager *manager;
    IDODownload *download;
    VARIANT id;
    HRESULT hr;
    int status = 1;

    hr = CoCreateInstance(&CLSID_DeliveryOptimization, NULL, CLSCTX_ALL, &IID_IDOManager, (void **)&manager);
    if (FAILED(hr)) return fail("CoCreateInstance(CLSID_DeliveryOptimization, IDOManager) (is dosvc.dll registered?)", hr);
    if (FAILED(hr = IDOManager_CreateDownload(manager, &download))) return fail("CreateDownload", hr);
    if (SUCCEEDED(IDODownload_GetProperty(download, DODownloadProperty_Id, &id)))
    {
        printf("created download %ls\n", V_BSTR(&id));
        VariantClear(&id);
    }
    memset(&callback, 0, sizeof(callback));
    callback.IDODownloadStatusCallback_iface.lpVtbl = &callback_vtbl;
    callback.refs = 1;
    callback.ended = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (FAILED(hr = set_property(download, DODownloadProperty_Uri, VT_BSTR, url))
        || FAILED(hr = set_property(download, DODownloadProperty_LocalPath, VT_BSTR, local))
        || FAILED(hr = set_property(download, DODownloadProperty_DisplayName, VT_BSTR, L"dosvc IDO demo"))
        || FAILED(hr = set_property(download, DODownloadProperty_ForegroundPriority, VT_BOOL, &foreground))
        || FAILED(hr = set_property(download, DODownloadProperty_CallbackInterface, VT_UNKNOWN,
                                    &callback.IDODownloadStatusCallback_iface)))
        return fail("SetProperty", hr);
    printf("  %ls\n      -> %ls\n", url, local);
    if (FAILED(hr = IDODownload_Start(download, NULL))) return fail("Start", hr);
    WaitForSingleObject(callback.ended, 300000);
    printf("\n");
    if (callback.last.State != DODownloadState_Transferred)
    {
        fprintf(stderr, "dosvc-demo: the download failed: 0x%08lx\n", (unsigned long)callback.last.Error);
        IDODownload_Abort(download);
    }
    else if (FAILED(hr = IDODownload_Finalize(download)))
        fail("Finalize", hr);
    else
    {
        printf("  finalized: the file is at its local path\n");
        status = verify(local, sha);
    }
    IDODownload_Release(download);
    IDOManager_Release(manager);
    CloseHandle(callback.ended);
    return status;
}

/* A foreground job downloading url to local, resumed; its id in *id. */
static HRESULT create_job(IBackgroundCopyManager *manager, const WCHAR *url, const WCHAR *local, GUID *id,
                          IBackgroundCopyJob **job)
{
    WCHAR *id_text;
    HRESULT hr;

    if (FAILED(hr = IBackgroundCopyManager_CreateJob(manager, L"dosvc demo", BG_JOB_TYPE_DOWNLOAD, id, job)))
    {
        fail("CreateJob", hr);
        return hr;
    }
    StringFromCLSID(id, &id_text);
    printf("created job %ls (process %lu)\n", id_text, GetCurrentProcessId());
    CoTaskMemFree(id_text);
    if (FAILED(hr = IBackgroundCopyJob_AddFile(*job, url, local))) {
        fail("AddFile", hr);
        return hr;
    }
    IBackgroundCopyJob_SetPriority(*job, BG_JOB_PRIORITY_FOREGROUND);
    print_files(*job);
    if (FAILED(hr = IBackgroundCopyJob_Resume(*job))) {
        fail("Resume", hr);
        return hr;
    }
    return S_OK;
}

/* Waits for job with a live progress line, completes it and checks local's SHA-256 (if sha). */
static int finish_job(IBackgroundCopyJob *job, const WCHAR *local, const WCHAR *sha)
{
    BG_JOB_STATE state = wait_for_transfer(job, 300000);
    HRESULT hr;

    if (state != BG_JOB_STATE_TRANSFERRED)
    {
        print_error(job);
        IBackgroundCopyJob_Cancel(job);
        return 1;
    }
    if (FAILED(hr = IBackgroundCopyJob_Complete(job))) return fail("Complete", hr);
    printf("  completed by process %lu\n", GetCurrentProcessId());
    print_state(job, "after Complete");
    print_files(job);
    return verify(local, sha);
}

static int usage(void)
{
    fprintf(stderr, "usage: dosvc-demo [--ido] remote-url local-path [expected-sha256]\n"
                    "       dosvc-demo --create remote-url local-path\n"
                    "       dosvc-demo --finish job-id local-path [expected-sha256]\n");
    return 2;
}

/* The job API in one process, or split in two: --create makes the job and exits while it
 * runs in the service; --finish, another process, finds it by id, shows its progress and
 * completes it. */
int wmain(int argc, WCHAR **argv)
{
    BOOL create_only = argc > 1 && !lstrcmpW(argv[1], L"--create");
    BOOL finish_only = argc > 1 && !lstrcmpW(argv[1], L"--finish");
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job = NULL;
    const WCHAR *local, *sha;
    GUID id;
    HRESULT hr;
    int status = 1;

    if (argc > 1 && !lstrcmpW(argv[1], L"--ido"))
    {
        if (argc < 4 || argc > 5) return usage();
        CoInitializeEx(NULL, COINIT_MULTITHREADED);
        status = ido_demo(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
        CoUninitialize();
        return status;
    }
    if (create_only ? argc != 4 : finish_only ? argc < 4 || argc > 5 : argc < 3 || argc > 4) return usage();
    if (create_only || finish_only) argv++, argc--;
    local = argv[2];
    sha = argc == 4 ? argv[3] : NULL;
    if (finish_only && FAILED(CLSIDFromString(argv[1], &id))) return usage();

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    /* CLSCTX_ALL: the service when dosvc is registered as one, else a store in this process. */
    hr = CoCreateInstance(&CLSID_DeliveryOptimization, NULL, CLSCTX_ALL, &IID_IBackgroundCopyManager, (void **)&manager);
    if (FAILED(hr)) return fail("CoCreateInstance(CLSID_DeliveryOptimization) (is dosvc.dll registered?)", hr);
    if (finish_only)
    {
        if (FAILED(hr = IBackgroundCopyManager_GetJob(manager, &id, &job))) return fail("GetJob", hr);
        printf("found job %ls (process %lu)\n", argv[1], GetCurrentProcessId());
        status = finish_job(job, local, sha);
    }
    else if (SUCCEEDED(create_job(manager, argv[1], local, &id, &job)))
        status = create_only ? 0 : finish_job(job, local, sha);
    if (job) IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    CoUninitialize();
    return status;
}
