/*
 * dosvc-demo: a client of the public API, as a real program would use it.
 * It activates CLSID_DeliveryOptimization through COM, creates a job, adds
 * the files named on the command line (pairs of remote and local names, or a
 * default pair), then prints each file's names and progress and the job's
 * state before and after Resume, and cancels the job.
 */
#define COBJMACROS
#include <windows.h>
#include <stdio.h>

#include "DeliveryOptimization.h"

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

int wmain(int argc, WCHAR **argv)
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job;
    WCHAR temp[MAX_PATH], local[MAX_PATH], *id_text;
    GUID id;
    HRESULT hr;
    int i;

    if (argc % 2 == 0)
    {
        fprintf(stderr, "usage: dosvc-demo [remote-url local-path]...\n");
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

    if (argc == 1)
    {
        GetTempPathW(MAX_PATH, temp);
        wsprintfW(local, L"%sdosvc-demo.bin", temp);
        hr = IBackgroundCopyJob_AddFile(job, L"http://127.0.0.1/dosvc-demo.bin", local);
        if (FAILED(hr)) return fail("AddFile", hr);
    }
    for (i = 1; i + 1 < argc; i += 2)
        if (FAILED(hr = IBackgroundCopyJob_AddFile(job, argv[i], argv[i + 1]))) return fail("AddFile", hr);

    print_state(job, "after CreateJob");
    print_files(job);
    if (FAILED(hr = IBackgroundCopyJob_Resume(job))) return fail("Resume", hr);
    print_state(job, "after Resume");
    if (FAILED(hr = IBackgroundCopyJob_Cancel(job))) return fail("Cancel", hr);
    print_state(job, "after Cancel");

    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    CoUninitialize();
    return 0;
}
