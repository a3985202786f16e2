/*
 * dosvc-bench: throughput and per-file cost, dosvc against a raw Winsock loop
 * and against the system's BITS (Wine's qmgr under Wine). Run by bench/run,
 * which serves the files from nginx on loopback:
 *   dosvc-bench <port> <big-path> <small-prefix> <small-count> <dest-dir>
 * Prints one line per measurement.
 */
#define COBJMACROS
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

#include "DeliveryOptimization.h"

static double now(void)
{
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart / f.QuadPart;
}

/* GET path over a plain socket, into memory or (file not NULL) appended to a file; returns
 * the bytes received, headers included. */
static unsigned long long raw_get(int port, const char *path, const WCHAR *file)
{
    HANDLE out = INVALID_HANDLE_VALUE;
    DWORD written;
    struct sockaddr_in addr = { 0 };
    unsigned long long total = 0;
    char request[512], *buffer;
    WSADATA wsa;
    SOCKET s;
    int n;

    WSAStartup(MAKEWORD(2, 2), &wsa);
    s = socket(AF_INET, SOCK_STREAM, 0);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((u_short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&addr, sizeof(addr))) return 0;
    n = snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    send(s, request, n, 0);
    buffer = malloc(1 << 20);
    if (file) out = CreateFileW(file, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    while ((n = recv(s, buffer, 1 << 20, 0)) > 0)
    {
        if (out != INVALID_HANDLE_VALUE) WriteFile(out, buffer, (DWORD)n, &written, NULL);
        total += (unsigned)n;
    }
    if (out != INVALID_HANDLE_VALUE)
    {
        CloseHandle(out);
        DeleteFileW(file);
    }
    free(buffer);
    closesocket(s);
    return total;
}

/* One job of count files through a manager; seconds from Resume to TRANSFERRED, or -1. */
static double run_job(IBackgroundCopyManager *manager, int port, const char *path_fmt, int count,
                      const WCHAR *dest_dir, unsigned long long *bytes)
{
    IBackgroundCopyJob *job;
    BG_JOB_PROGRESS progress;
    BG_JOB_STATE state;
    WCHAR url[512], local[MAX_PATH], path[256];
    double start, elapsed = -1;
    GUID id;
    int i;

    if (FAILED(IBackgroundCopyManager_CreateJob(manager, L"bench", BG_JOB_TYPE_DOWNLOAD, &id, &job))) return -1;
    IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_FOREGROUND);
    for (i = 0; i < count; i++)
    {
        char narrow[256];
        snprintf(narrow, sizeof(narrow), path_fmt, i);
        MultiByteToWideChar(CP_ACP, 0, narrow, -1, path, ARRAYSIZE(path));
        swprintf(url, ARRAYSIZE(url), L"http://127.0.0.1:%d%ls", port, path);
        swprintf(local, ARRAYSIZE(local), L"%ls\\f%d.bin", dest_dir, i);
        if (FAILED(IBackgroundCopyJob_AddFile(job, url, local))) goto done;
    }
    start = now();
    IBackgroundCopyJob_Resume(job);
    for (;;)
    {
        IBackgroundCopyJob_GetState(job, &state);
        if (state == BG_JOB_STATE_TRANSFERRED) break;
        if (state == BG_JOB_STATE_ERROR || now() - start > 600) goto done;
        Sleep(5);
    }
    elapsed = now() - start;
    IBackgroundCopyJob_GetProgress(job, &progress);
    *bytes = progress.BytesTransferred;
done:
    IBackgroundCopyJob_Cancel(job);
    IBackgroundCopyJob_Release(job);
    return elapsed;
}

static void measure(const char *name, REFCLSID clsid, DWORD context, int port, const char *big,
                    const char *small, int count, const WCHAR *dest)
{
    IBackgroundCopyManager *manager;
    unsigned long long bytes = 0;
    double t;
    HRESULT hr;

    if (FAILED(hr = CoCreateInstance(clsid, NULL, context, &IID_IBackgroundCopyManager, (void **)&manager)))
    {
        printf("%-12s unavailable (0x%08lx)\n", name, (unsigned long)hr);
        return;
    }
    t = run_job(manager, port, big, 1, dest, &bytes);
    if (t < 0) printf("%-12s 1 large file: failed\n", name);
    else printf("%-12s 1 large file: %llu bytes in %.2f s, %.0f MB/s\n", name, bytes, t, bytes / t / 1e6);
    t = run_job(manager, port, small, count, dest, &bytes);
    if (t < 0) printf("%-12s %d small files: failed\n", name, count);
    else printf("%-12s %d small files: %llu bytes in %.2f s, %.2f ms per file\n", name, count, bytes, t, t * 1000 / count);
    IBackgroundCopyManager_Release(manager);
}

int main(int argc, char **argv)
{
    unsigned long long bytes;
    WCHAR dest[MAX_PATH], file[MAX_PATH];
    int port, count;
    double t;

    if (argc != 6)
    {
        fprintf(stderr, "usage: dosvc-bench <port> <big-path> <small-path-format> <small-count> <dest-dir>\n");
        return 2;
    }
    port = atoi(argv[1]);
    count = atoi(argv[4]);
    MultiByteToWideChar(CP_ACP, 0, argv[5], -1, dest, MAX_PATH);
    CoInitializeEx(NULL, COINIT_MULTITHREADED);

    t = now();
    bytes = raw_get(port, argv[2], NULL);
    t = now() - t;
    printf("%-12s 1 large file: %llu bytes in %.2f s, %.0f MB/s (into memory)\n", "raw Winsock", bytes, t, bytes / t / 1e6);
    swprintf(file, MAX_PATH, L"%ls\\raw.bin", dest);
    t = now();
    bytes = raw_get(port, argv[2], file);
    t = now() - t;
    printf("%-12s 1 large file: %llu bytes in %.2f s, %.0f MB/s (into a file)\n", "raw Winsock", bytes, t, bytes / t / 1e6);

    measure("dosvc", &CLSID_DeliveryOptimization, CLSCTX_INPROC_SERVER, port, argv[2], argv[3], count, dest);
    measure("system BITS", &CLSID_BackgroundCopyManager, CLSCTX_LOCAL_SERVER, port, argv[2], argv[3], count, dest);
    CoUninitialize();
    return 0;
}
