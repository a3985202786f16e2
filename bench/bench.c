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
#include "timing.h"

/* GET path over a plain socket with a blocking recv of buffer_size bytes at a time, into
 * memory or (file not NULL) appended to a file; returns the bytes received, headers included. */
static unsigned long long raw_get(int port, const char *path, int buffer_size, const WCHAR *file)
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
    buffer = malloc(buffer_size);
    if (file) out = CreateFileW(file, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    while ((n = recv(s, buffer, buffer_size, 0)) > 0)
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

/* One job of count files through a manager; seconds from Resume to TRANSFERRED, or -1, and
 * the CPU seconds this process used meanwhile. */
static double run_job(IBackgroundCopyManager *manager, BOOL https, int port, const char *path_fmt, int count,
                      const WCHAR *dest_dir, unsigned long long *bytes, double *cpu_used)
{
    IBackgroundCopyJob *job;
    BG_JOB_PROGRESS progress;
    BG_JOB_STATE state;
    WCHAR url[512], local[MAX_PATH], path[256];
    double start, start_cpu, elapsed = -1;
    GUID id;
    int i;

    if (FAILED(IBackgroundCopyManager_CreateJob(manager, L"bench", BG_JOB_TYPE_DOWNLOAD, &id, &job))) return -1;
    IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_FOREGROUND);
    if (https)
    {
        /* bench/run's certificate is self-signed, for 127.0.0.1. */
        IBackgroundCopyJobHttpOptions *options;
        if (SUCCEEDED(IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions, (void **)&options)))
        {
            IBackgroundCopyJobHttpOptions_SetSecurityFlags(options, 0x0008 | 0x0002);  /* UNKNOWN_CA, CERT_CN_INVALID */
            IBackgroundCopyJobHttpOptions_Release(options);
        }
    }
    for (i = 0; i < count; i++)
    {
        char narrow[256];
        snprintf(narrow, sizeof(narrow), path_fmt, i);
        MultiByteToWideChar(CP_ACP, 0, narrow, -1, path, ARRAYSIZE(path));
        swprintf(url, ARRAYSIZE(url), L"%ls://127.0.0.1:%d%ls", https ? L"https" : L"http", port, path);
        swprintf(local, ARRAYSIZE(local), L"%ls\\f%d.bin", dest_dir, i);
        if (FAILED(IBackgroundCopyJob_AddFile(job, url, local))) goto done;
    }
    start_cpu = cpu();
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
    *cpu_used = cpu() - start_cpu;
    IBackgroundCopyJob_GetProgress(job, &progress);
    *bytes = progress.BytesTransferred;
done:
    IBackgroundCopyJob_Cancel(job);
    IBackgroundCopyJob_Release(job);
    return elapsed;
}

#define MAX_ROUNDS 20

/* One job of the large file and one of the small files; the large file's time, or -1. */
static double measure(const char *name, REFCLSID clsid, DWORD context, int port, const char *big,
                      const char *small, int count, const WCHAR *dest)
{
    double large, used;
    IBackgroundCopyManager *manager;
    unsigned long long bytes = 0;
    double t;
    HRESULT hr;
    char cpu_text[64] = "";

    if (FAILED(hr = CoCreateInstance(clsid, NULL, context, &IID_IBackgroundCopyManager, (void **)&manager)))
    {
        printf("%-12s unavailable (0x%08lx)\n", name, (unsigned long)hr);
        return -1;
    }
    t = large = run_job(manager, FALSE, port, big, 1, dest, &bytes, &used);
    /* A local server's work is done in another process. */
    if (context == CLSCTX_INPROC_SERVER) snprintf(cpu_text, sizeof(cpu_text), ", %.2f s CPU", used);
    if (t < 0) printf("%-12s 1 large file: failed\n", name);
    else printf("%-12s 1 large file: %llu bytes in %.2f s, %.0f MB/s%s\n", name, bytes, t, bytes / t / 1e6, cpu_text);
    t = run_job(manager, FALSE, port, small, count, dest, &bytes, &used);
    if (t < 0) printf("%-12s %d small files: failed\n", name, count);
    else printf("%-12s %d small files: %llu bytes in %.2f s, %.2f ms per file\n", name, count, bytes, t, t * 1000 / count);
    IBackgroundCopyManager_Release(manager);
    return large;
}

/* The large file over HTTPS through dosvc (TLS on Schannel); Wine's BITS cannot be told to
 * accept the self-signed certificate, so only dosvc is measured. */
static void measure_https(int port, const char *big, const WCHAR *dest)
{
    IBackgroundCopyManager *manager;
    unsigned long long bytes = 0;
    double t, used;

    if (FAILED(CoCreateInstance(&CLSID_DeliveryOptimization, NULL, CLSCTX_INPROC_SERVER, &IID_IBackgroundCopyManager,
                                (void **)&manager)))
        return;
    t = run_job(manager, TRUE, port, big, 1, dest, &bytes, &used);
    if (t < 0) printf("%-12s 1 large file over HTTPS: failed\n", "dosvc");
    else printf("%-12s 1 large file over HTTPS: %llu bytes in %.2f s, %.0f MB/s, %.2f s CPU\n", "dosvc", bytes, t,
                bytes / t / 1e6, used);
    IBackgroundCopyManager_Release(manager);
}

/* The raw Winsock loop, into memory (file NULL) or into a file; its time. */
static double measure_raw(int port, const char *path, int buffer_size, const WCHAR *file)
{
    double used = cpu(), t = now();
    unsigned long long bytes = raw_get(port, path, buffer_size, file);

    t = now() - t;
    used = cpu() - used;
    printf("%-12s 1 large file: %llu bytes in %.2f s, %.0f MB/s, %.2f s CPU (%d KiB recv, into %s)\n", "raw Winsock",
           bytes, t, bytes / t / 1e6, used, buffer_size >> 10, file ? "a file" : "memory");
    return t;
}

int main(int argc, char **argv)
{
    WCHAR dest[MAX_PATH], file[MAX_PATH];
    double raw_small[MAX_ROUNDS], raw_memory[MAX_ROUNDS], raw_file[MAX_ROUNDS], dosvc[MAX_ROUNDS];
    int port, count, rounds = 1, round, failed = 0;

    if (argc < 6 || argc > 8)
    {
        fprintf(stderr, "usage: dosvc-bench <port> <big-path> <small-path-format> <small-count> <dest-dir> [rounds [https-port]]\n");
        return 2;
    }
    if (argc >= 7 && ((rounds = atoi(argv[6])) < 1 || rounds > MAX_ROUNDS)) rounds = 1;
    port = atoi(argv[1]);
    count = atoi(argv[4]);
    MultiByteToWideChar(CP_ACP, 0, argv[5], -1, dest, MAX_PATH);
    CoInitializeEx(NULL, COINIT_MULTITHREADED);

    /* The raw loops and dosvc take turns, so that a busy moment of the machine hits them alike. */
    swprintf(file, MAX_PATH, L"%ls\\raw.bin", dest);
    for (round = 0; round < rounds; round++)
    {
        raw_small[round] = measure_raw(port, argv[2], 64 << 10, NULL);
        raw_memory[round] = measure_raw(port, argv[2], 1 << 20, NULL);
        raw_file[round] = measure_raw(port, argv[2], 1 << 20, file);
        dosvc[round] = measure("dosvc", &CLSID_DeliveryOptimization, CLSCTX_INPROC_SERVER, port, argv[2], argv[3],
                               count, dest);
        if (dosvc[round] < 0) failed = 1;
    }
    if (!failed)
    {
        double s = median(raw_small, rounds), m = median(raw_memory, rounds), f = median(raw_file, rounds);
        double d = median(dosvc, rounds);
        printf("median of %d: dosvc %.2f s; raw Winsock into memory %.2f s with 64 KiB recv (dosvc at %.0f%% of its "
               "throughput), %.2f s with 1 MiB recv (%.0f%%); into a file with 1 MiB recv %.2f s (%.0f%%)\n",
               rounds, d, s, 100 * s / d, m, 100 * m / d, f, 100 * f / d);
    }
    if (argc == 8) measure_https(atoi(argv[7]), argv[2], dest);
    measure("system BITS", &CLSID_BackgroundCopyManager, CLSCTX_LOCAL_SERVER, port, argv[2], argv[3], count, dest);
    CoUninitialize();
    return 0;
}
