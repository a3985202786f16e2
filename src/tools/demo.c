/*
 * dosvc-demo: a client of the public API, as a real program would use it.
 * It activates CLSID_DeliveryOptimization through COM, creates a foreground
 * job for one file, shows a live progress line until the file is transferred,
 * completes the job, prints each file's names and progress, and checks the
 * file's SHA-256 when one is given.
 */
#define COBJMACROS
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

int wmain(int argc, WCHAR **argv)
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job;
    BG_JOB_STATE state;
    WCHAR *id_text;
    char hex[65];
    GUID id;
    HRESULT hr;
    int status = 1;

    if (argc < 3 || argc > 4)
    {
        fprintf(stderr, "usage: dosvc-demo remote-url local-path [expected-sha256]\n");
        return 2;
    }
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    hr = CoCreateInstance(&CLSID_DeliveryOptimization, NULL, CLSCTX_INPROC_SERVER, &IID_IBackgroundCopyManager,
                          (void **)&manager);
    if (FAILED(hr)) return fail("CoCreateInstance(CLSID_DeliveryOptimization) (is dosvc.dll registered?)", hr);

    if (FAILED(hr = IBackgroundCopyManager_CreateJob(manager, L"dosvc demo", BG_JOB_TYPE_DOWNLOAD, &id, &job)))
        return fail("CreateJob", hr);
    StringFromCLSID(&id, &id_text);
    printf("created job %ls\n", id_text);
    CoTaskMemFree(id_text);
    if (FAILED(hr = IBackgroundCopyJob_AddFile(job, argv[1], argv[2]))) return fail("AddFile", hr);
    IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_FOREGROUND);
    print_files(job);

    if (FAILED(hr = IBackgroundCopyJob_Resume(job))) return fail("Resume", hr);
    state = wait_for_transfer(job, 300000);
    if (state != BG_JOB_STATE_TRANSFERRED)
    {
        print_error(job);
        IBackgroundCopyJob_Cancel(job);
    }
    else if (FAILED(hr = IBackgroundCopyJob_Complete(job)))
        fail("Complete", hr);
    else
    {
        print_state(job, "after Complete");
        print_files(job);
        if (argc < 4) status = 0;
        else if (!sha256_file_hex(argv[2], hex)) fprintf(stderr, "dosvc-demo: cannot read %ls\n", argv[2]);
        else if (!hex_equal(hex, argv[3])) fprintf(stderr, "dosvc-demo: SHA-256 %s differs from %ls\n", hex, argv[3]);
        else
        {
            printf("  SHA-256 %s verified\n", hex);
            status = 0;
        }
    }
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    CoUninitialize();
    return status;
}
