/*
 * e2e-client: a separate program that uses dosvc as an application would once
 * regsvr32 has registered it: CoCreateInstance(CLSID_DeliveryOptimization,
 * CLSCTX_INPROC_SERVER), then CreateJob, AddFile, EnumFiles, Next,
 * GetLocalName, GetRemoteName and GetProgress. It also checks that the class
 * is served by the DLL the registry names, and that IDOManager can be asked for
 * directly. It does not link dosvc: only COM can load it. Every failed check is
 * printed; the exit code is 0 only when all passed. tests/com/end_to_end.sh
 * runs it between registering and unregistering.
 */
#define COBJMACROS
#include <windows.h>
#include <stdio.h>

#include "DeliveryOptimization.h"

#define CLSID_KEY L"CLSID\\{5B99FA76-721C-423C-ADAC-56D03C8A8007}\\InprocServer32"
#define URL L"http://127.0.0.1:1/dosvc/e2e.bin"   /* loopback only: the job is never resumed */

static int checks, failures;

static BOOL check(BOOL ok, const char *what)
{
    checks++;
    if (!ok)
    {
        failures++;
        printf("e2e-client: FAILED: %s\n", what);
    }
    return ok;
}

static BOOL check_hr(HRESULT expected, HRESULT actual, const char *what)
{
    checks++;
    if (actual != expected)
    {
        failures++;
        printf("e2e-client: FAILED: %s returned 0x%08lx, expected 0x%08lx\n", what, (unsigned long)actual,
               (unsigned long)expected);
        return FALSE;
    }
    return TRUE;
}

static BOOL check_wstr(const WCHAR *expected, const WCHAR *actual, const char *what)
{
    checks++;
    if (!actual || lstrcmpiW(expected, actual))
    {
        failures++;
        printf("e2e-client: FAILED: %s is \"%ls\", expected \"%ls\"\n", what, actual ? actual : L"(null)", expected);
        return FALSE;
    }
    return TRUE;
}

/* The InprocServer32 path the registry holds for the class, or "" when there is none. */
static void registered_path(WCHAR *path, DWORD size)
{
    DWORD bytes = size * sizeof(WCHAR);

    path[0] = 0;
    if (RegGetValueW(HKEY_CLASSES_ROOT, CLSID_KEY, NULL, RRF_RT_REG_SZ, NULL, path, &bytes)) path[0] = 0;
}

/* The file of the module whose code serves object (its vtable lives in it). */
static void serving_module(void *object, WCHAR *path, DWORD size)
{
    HMODULE module = NULL;

    path[0] = 0;
    if (GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                           (LPCWSTR)*(void **)object, &module))
        GetModuleFileNameW(module, path, size);
}

/* "<folder of this program>\dosvc.dll": the DLL end_to_end.sh registers. */
static void dll_beside_me(WCHAR *path, DWORD size)
{
    WCHAR *slash;

    GetModuleFileNameW(NULL, path, size);
    slash = wcsrchr(path, '\\');
    lstrcpyW(slash ? slash + 1 : path, L"dosvc.dll");
}

static void check_activation(IBackgroundCopyManager *manager)
{
    WCHAR registered[MAX_PATH], serving[MAX_PATH], expected[MAX_PATH];

    registered_path(registered, MAX_PATH);
    dll_beside_me(expected, MAX_PATH);
    check_wstr(expected, registered, "the registered InprocServer32 path");
    serving_module(manager, serving, MAX_PATH);
    check_wstr(registered, serving, "the module serving the manager");
}

static void check_do_manager(void)
{
    IDOManager *do_manager = NULL;
    HRESULT hr;

    hr = CoCreateInstance(&CLSID_DeliveryOptimization, NULL, CLSCTX_INPROC_SERVER, &IID_IDOManager,
                          (void **)&do_manager);
    if (check_hr(S_OK, hr, "CoCreateInstance(IID_IDOManager)") && check(do_manager != NULL, "an IDOManager"))
        IDOManager_Release(do_manager);
}

static void check_file(IBackgroundCopyFile *file, const WCHAR *local)
{
    WCHAR *name = NULL;
    BG_FILE_PROGRESS progress;

    if (check_hr(S_OK, IBackgroundCopyFile_GetLocalName(file, &name), "GetLocalName"))
        check_wstr(local, name, "GetLocalName");
    CoTaskMemFree(name);
    name = NULL;
    if (check_hr(S_OK, IBackgroundCopyFile_GetRemoteName(file, &name), "GetRemoteName"))
        check_wstr(URL, name, "GetRemoteName");
    CoTaskMemFree(name);
    /* spec 5.5: nothing has moved yet, and the size is not known */
    if (check_hr(S_OK, IBackgroundCopyFile_GetProgress(file, &progress), "GetProgress"))
    {
        check(progress.BytesTotal == BG_SIZE_UNKNOWN, "BytesTotal is BG_SIZE_UNKNOWN before the transfer");
        check(progress.BytesTransferred == 0, "BytesTransferred is 0 before the transfer");
        check(!progress.Completed, "Completed is FALSE before the transfer");
    }
}

static void check_session(IBackgroundCopyManager *manager)
{
    WCHAR temp[MAX_PATH], given[MAX_PATH], local[MAX_PATH];
    IEnumBackgroundCopyFiles *files = NULL;
    IBackgroundCopyFile *file = NULL;
    IBackgroundCopyJob *job = NULL;
    ULONG fetched = 0;
    GUID id = GUID_NULL;

    if (!check_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"dosvc e2e-client", BG_JOB_TYPE_DOWNLOAD, &id, &job),
                  "CreateJob"))
        return;
    check(!IsEqualGUID(&id, &GUID_NULL), "CreateJob gives the job an id");

    GetTempPathW(MAX_PATH, temp);
    wsprintfW(given, L"%sdosvc-e2e-%lu.bin", temp, GetCurrentProcessId());
    GetFullPathNameW(given, MAX_PATH, local, NULL);
    if (check_hr(S_OK, IBackgroundCopyJob_AddFile(job, URL, given), "AddFile")
        && check_hr(S_OK, IBackgroundCopyJob_EnumFiles(job, &files), "EnumFiles"))
    {
        if (check_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, &fetched), "Next")
            && check(fetched == 1 && file, "Next returns the file"))
        {
            check_file(file, local);
            IBackgroundCopyFile_Release(file);
        }
        IEnumBackgroundCopyFiles_Release(files);
    }
    check_hr(S_OK, IBackgroundCopyJob_Cancel(job), "Cancel");
    IBackgroundCopyJob_Release(job);
}

int main(void)
{
    IBackgroundCopyManager *manager = NULL;
    HRESULT hr;

    /* Only COM may bring dosvc in: this program does not import it. */
    check(GetModuleHandleW(L"dosvc.dll") == NULL, "dosvc.dll is not loaded before CoCreateInstance");
    if (!check_hr(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED), "CoInitializeEx")) return 1;

    hr = CoCreateInstance(&CLSID_DeliveryOptimization, NULL, CLSCTX_INPROC_SERVER, &IID_IBackgroundCopyManager,
                          (void **)&manager);
    if (check_hr(S_OK, hr, "CoCreateInstance(CLSID_DeliveryOptimization, CLSCTX_INPROC_SERVER)")
        && check(manager != NULL, "an IBackgroundCopyManager"))
    {
        check_activation(manager);
        check_session(manager);
        IBackgroundCopyManager_Release(manager);
    }
    check_do_manager();
    CoUninitialize();

    if (failures) printf("e2e-client: %d of %d checks failed\n", failures, checks);
    else printf("e2e-client: all %d checks passed\n", checks);
    return failures ? 1 : 0;
}
