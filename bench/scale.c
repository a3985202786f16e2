/*
 * dosvc-scale: whether a per-call or per-file cost grows with the size of a job or
 * of the store (issue 9). Every operation is measured at two sizes (1,000 and
 * 10,000 unless told otherwise: files in one job, or jobs in the store, whichever
 * the operation scales with), and the ratio of the two per-call costs is printed:
 * 1.0 is flat. It links the COM objects directly, as the white-box tests do, so it
 * needs no registration and can also drive the store's events itself. Run by
 * bench/scale, which serves a 4 KiB file from nginx on loopback:
 *   dosvc-scale <port> <path> <dest-dir> [small large [groups [rounds]]]
 * groups, a comma-separated list of store, files, events, raw and transfer, picks what to
 * measure (default: all). Call costs are the median over BATCHES batches of BATCH calls;
 * the two sizes take turns for rounds rounds (default 3) and each number printed is the
 * median of its rounds, so that a busy moment of the machine spoils one batch or one round,
 * not the number, and hits both sizes alike.
 */
#define COBJMACROS
#define CONST_VTABLE
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "com_private.h"
#include "engine.h"
#include "timing.h"

#define BATCHES 9
#define BATCH 100
#define REPEATS 3                  /* runs of a whole-job measurement in a round; the median is kept */
#define MAX_ROUNDS 9

static void fail(const char *what, HRESULT hr)
{
    printf("failed: %s (0x%08lx)\n", what, (unsigned long)hr);
    fflush(stdout);
    ExitProcess(1);
}

/* CPU seconds this process has used, all its threads, user and kernel. */
static double cpu(void)
{
    FILETIME created, exited, kernel, user;
    ULARGE_INTEGER k, u;

    if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user)) return 0;
    k.LowPart = kernel.dwLowDateTime;
    k.HighPart = kernel.dwHighDateTime;
    u.LowPart = user.dwLowDateTime;
    u.HighPart = user.dwHighDateTime;
    return (k.QuadPart + u.QuadPart) / 1e7;
}

/* ---- results -------------------------------------------------------------- */

enum measure
{
    M_SID, M_CREATE_JOB, M_GET_JOB, M_ENUM_JOBS, M_ADD_FILE_SET, M_ADD_FILE, M_ADD_FILE_ID, M_GET_PROGRESS,
    M_GET_STATE, M_GET_TIMES, M_ENUM_FILES, M_EVENT, M_EVENT_CALLBACK, M_TRANSFER, M_COMPLETE, M_TRANSFER_SPLIT,
    M_TRANSFER_SPLIT_CPU, M_COMPLETE_SPLIT, M_COMPLETE_SPLIT_CPU, M_RAW_FETCH, M_RAW_RENAME, M_COUNT
};

static const struct { const char *name, *unit; } names[M_COUNT] = {
    [M_SID]            = { "caller's SID (CreateJob, EnumJobs, ...)", "us/call" },
    [M_CREATE_JOB]     = { "CreateJob, N jobs in the store", "us/call" },
    [M_GET_JOB]        = { "GetJob, N jobs in the store", "us/call" },
    [M_ENUM_JOBS]      = { "EnumJobs + Next, N jobs", "us/job" },
    [M_ADD_FILE_SET]   = { "AddFileSet of N files", "us/file" },
    [M_ADD_FILE]       = { "AddFile, N files in the job", "us/call" },
    [M_ADD_FILE_ID]    = { "AddFileWithRanges with a file id, N files", "us/call" },
    [M_GET_PROGRESS]   = { "GetProgress, N files", "us/call" },
    [M_GET_STATE]      = { "GetState, N files", "us/call" },
    [M_GET_TIMES]      = { "GetTimes, N files", "us/call" },
    [M_ENUM_FILES]     = { "EnumFiles + Next, N files", "us/file" },
    [M_EVENT]          = { "progress event, no callback, N files", "us/event" },
    [M_EVENT_CALLBACK] = { "progress event, JobModification callback", "us/event" },
    [M_TRANSFER]       = { "transfer of N files of 4 KiB, one folder", "ms/file" },
    [M_COMPLETE]       = { "Complete, N files, one folder", "ms/file" },
    [M_TRANSFER_SPLIT] = { "transfer, 1,000 files a folder", "ms/file" },
    [M_TRANSFER_SPLIT_CPU] = { "  the same, CPU of the process", "ms/file" },
    [M_COMPLETE_SPLIT] = { "Complete, 1,000 files a folder", "ms/file" },
    [M_COMPLETE_SPLIT_CPU] = { "  the same, CPU of the process", "ms/file" },
    [M_RAW_FETCH]      = { "raw Winsock GET + new file, one folder", "ms/file" },
    [M_RAW_RENAME]     = { "raw MoveFileEx, one folder", "ms/file" },
};

static double results[M_COUNT][2];         /* this round's */
static double rounds[M_COUNT][2][MAX_ROUNDS];
static BOOL measured[M_COUNT];
static int round_number;                   /* in folder names: every round writes new files */

/* Whether group is one of the comma-separated list (NULL: all). */
static BOOL wanted(const char *list, const char *group)
{
    size_t n = strlen(group);
    const char *p;

    if (!list) return TRUE;
    for (p = list; (p = strstr(p, group)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n])) return TRUE;
    return FALSE;
}

/* ---- a callback that counts and tells of JobTransferred ------------------------------ */

struct callback
{
    IBackgroundCopyCallback IBackgroundCopyCallback_iface;
    LONG refs;
    LONG modifications;
    HANDLE transferred;
};

static struct callback *impl_from_callback(IBackgroundCopyCallback *iface)
{
    return CONTAINING_RECORD(iface, struct callback, IBackgroundCopyCallback_iface);
}

static HRESULT WINAPI callback_QueryInterface(IBackgroundCopyCallback *iface, REFIID riid, void **out)
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

static ULONG WINAPI callback_AddRef(IBackgroundCopyCallback *iface)
{
    return InterlockedIncrement(&impl_from_callback(iface)->refs);
}

static ULONG WINAPI callback_Release(IBackgroundCopyCallback *iface)
{
    return InterlockedDecrement(&impl_from_callback(iface)->refs);   /* static storage */
}

static HRESULT WINAPI callback_JobTransferred(IBackgroundCopyCallback *iface, IBackgroundCopyJob *job)
{
    SetEvent(impl_from_callback(iface)->transferred);
    return S_OK;
}

static HRESULT WINAPI callback_JobError(IBackgroundCopyCallback *iface, IBackgroundCopyJob *job,
                                        IBackgroundCopyError *error)
{
    SetEvent(impl_from_callback(iface)->transferred);   /* the waiter sees the state */
    return S_OK;
}

static HRESULT WINAPI callback_JobModification(IBackgroundCopyCallback *iface, IBackgroundCopyJob *job, DWORD reserved)
{
    InterlockedIncrement(&impl_from_callback(iface)->modifications);
    return S_OK;
}

static const IBackgroundCopyCallbackVtbl callback_vtbl = {
    callback_QueryInterface, callback_AddRef, callback_Release, callback_JobTransferred, callback_JobError,
    callback_JobModification,
};

static struct callback callback = { .IBackgroundCopyCallback_iface = { &callback_vtbl }, .refs = 1 };

/* ---- jobs in the store ---------------------------------------------------------- */

static IBackgroundCopyJob *create_job(IBackgroundCopyManager *manager, GUID *id)
{
    IBackgroundCopyJob *job;
    GUID ignored;
    HRESULT hr;

    if (FAILED(hr = IBackgroundCopyManager_CreateJob(manager, L"scale", BG_JOB_TYPE_DOWNLOAD, id ? id : &ignored, &job)))
        fail("CreateJob", hr);
    return job;
}

static void cancel_jobs(IBackgroundCopyJob **jobs, int count)
{
    int i;
    for (i = 0; i < count; i++)
    {
        IBackgroundCopyJob_Cancel(jobs[i]);
        IBackgroundCopyJob_Release(jobs[i]);
    }
}

static void measure_store(IBackgroundCopyManager *manager, int n, int column)
{
    IBackgroundCopyJob **jobs = malloc(n * sizeof(*jobs)), *extra[BATCHES * BATCH];
    GUID *ids = malloc(n * sizeof(*ids));
    double batch[BATCHES], t;
    int i, b, k = 0;

    for (i = 0; i < n; i++) jobs[i] = create_job(manager, &ids[i]);

    /* From n to n + BATCHES * BATCH jobs. */
    for (b = 0; b < BATCHES; b++)
    {
        t = now();
        for (i = 0; i < BATCH; i++, k++) extra[k] = create_job(manager, NULL);
        batch[b] = (now() - t) / BATCH * 1e6;
    }
    results[M_CREATE_JOB][column] = median(batch, BATCHES);
    cancel_jobs(extra, k);

    srand(1);
    for (b = 0; b < BATCHES; b++)
    {
        t = now();
        for (i = 0; i < BATCH; i++)
        {
            IBackgroundCopyJob *found;
            HRESULT hr = IBackgroundCopyManager_GetJob(manager, &ids[(rand() * (RAND_MAX + 1u) + rand()) % n], &found);
            if (FAILED(hr)) fail("GetJob", hr);
            IBackgroundCopyJob_Release(found);
        }
        batch[b] = (now() - t) / BATCH * 1e6;
    }
    results[M_GET_JOB][column] = median(batch, BATCHES);

    for (b = 0; b < REPEATS; b++)
    {
        IEnumBackgroundCopyJobs *e;
        IBackgroundCopyJob *job;
        ULONG got, seen = 0;
        HRESULT hr;

        t = now();
        if (FAILED(hr = IBackgroundCopyManager_EnumJobs(manager, 0, &e))) fail("EnumJobs", hr);
        while (IEnumBackgroundCopyJobs_Next(e, 1, &job, &got) == S_OK)
        {
            IBackgroundCopyJob_Release(job);
            seen++;
        }
        IEnumBackgroundCopyJobs_Release(e);
        batch[b] = (now() - t) / seen * 1e6;
    }
    results[M_ENUM_JOBS][column] = median(batch, REPEATS);

    cancel_jobs(jobs, n);
    free(jobs);
    free(ids);
}

/* ---- files in a job ------------------------------------------------------------- */

static void file_names(int port, const char *path, const WCHAR *folder, int i, WCHAR *url, WCHAR *local)
{
    swprintf(url, 512, L"http://127.0.0.1:%d%hs?f=%d", port, path, i);
    swprintf(local, MAX_PATH, L"%ls\\f%d.bin", folder, i);
}

/* A job of n files (one AddFileSet), in folder; the seconds the call took. */
static IBackgroundCopyJob *job_of(IBackgroundCopyManager *manager, int port, const char *path, const WCHAR *folder,
                                  int n, int per_folder, double *seconds)
{
    IBackgroundCopyJob *job = create_job(manager, NULL);
    BG_FILE_INFO *set = calloc(n, sizeof(*set));
    WCHAR sub[MAX_PATH];
    double t;
    HRESULT hr;
    int i;

    for (i = 0; i < n; i++)
    {
        set[i].RemoteName = malloc(512 * sizeof(WCHAR));
        set[i].LocalName = malloc(MAX_PATH * sizeof(WCHAR));
        swprintf(sub, MAX_PATH, per_folder ? L"%ls\\d%d" : L"%ls", folder, per_folder ? i / per_folder : 0);
        if (per_folder && i % per_folder == 0) CreateDirectoryW(sub, NULL);
        file_names(port, path, sub, i, set[i].RemoteName, set[i].LocalName);
    }
    t = now();
    if (FAILED(hr = IBackgroundCopyJob_AddFileSet(job, n, set))) fail("AddFileSet", hr);
    *seconds = now() - t;
    for (i = 0; i < n; i++)
    {
        free(set[i].RemoteName);
        free(set[i].LocalName);
    }
    free(set);
    return job;
}

/* The median per-call microseconds of a getter, called BATCHES * BATCH times. */
#define TIME_GETTER(result, call) do {                                   \
        for (b = 0; b < BATCHES; b++)                                    \
        {                                                                \
            t = now();                                                   \
            for (i = 0; i < BATCH; i++) call;                            \
            batch[b] = (now() - t) / BATCH * 1e6;                        \
        }                                                                \
        (result) = median(batch, BATCHES);                               \
    } while (0)

static void measure_files(IBackgroundCopyManager *manager, int port, const char *path, const WCHAR *dest, int n,
                          int column)
{
    WCHAR folder[MAX_PATH], url[512], local[MAX_PATH], id[32];
    IBackgroundCopyJob *jobs[REPEATS], *job;
    IDeliveryOptimizationJob *dojob;
    double batch[BATCHES > REPEATS ? BATCHES : REPEATS], t, seconds;
    BG_JOB_PROGRESS progress;
    BG_JOB_STATE state;
    BG_JOB_TIMES times;
    int i, b, k;
    HRESULT hr;

    swprintf(folder, MAX_PATH, L"%ls\\files-%d-%d", dest, n, round_number);
    CreateDirectoryW(folder, NULL);
    for (b = 0; b < REPEATS; b++)
    {
        jobs[b] = job_of(manager, port, path, folder, n, 0, &seconds);
        batch[b] = seconds / n * 1e6;
    }
    results[M_ADD_FILE_SET][column] = median(batch, REPEATS);
    job = jobs[0];

    TIME_GETTER(results[M_GET_PROGRESS][column], IBackgroundCopyJob_GetProgress(job, &progress));
    TIME_GETTER(results[M_GET_STATE][column], IBackgroundCopyJob_GetState(job, &state));
    TIME_GETTER(results[M_GET_TIMES][column], IBackgroundCopyJob_GetTimes(job, &times));

    for (b = 0; b < REPEATS; b++)
    {
        IEnumBackgroundCopyFiles *e;
        IBackgroundCopyFile *file;
        ULONG got, seen = 0;

        t = now();
        if (FAILED(hr = IBackgroundCopyJob_EnumFiles(job, &e))) fail("EnumFiles", hr);
        while (IEnumBackgroundCopyFiles_Next(e, 1, &file, &got) == S_OK)
        {
            IBackgroundCopyFile_Release(file);
            seen++;
        }
        IEnumBackgroundCopyFiles_Release(e);
        batch[b] = (now() - t) / seen * 1e6;
    }
    results[M_ENUM_FILES][column] = median(batch, REPEATS);

    /* From n to n + BATCHES * BATCH files. */
    k = n;
    for (b = 0; b < BATCHES; b++)
    {
        t = now();
        for (i = 0; i < BATCH; i++, k++)
        {
            file_names(port, path, folder, k, url, local);
            if (FAILED(hr = IBackgroundCopyJob_AddFile(job, url, local))) fail("AddFile", hr);
        }
        batch[b] = (now() - t) / BATCH * 1e6;
    }
    results[M_ADD_FILE][column] = median(batch, BATCHES);
    cancel_jobs(jobs, REPEATS);

    /* DO file ids are unique in a job: each AddFile checks the others'. */
    job = create_job(manager, NULL);
    if (FAILED(hr = IBackgroundCopyJob_QueryInterface(job, &IID_IDeliveryOptimizationJob, (void **)&dojob)))
        fail("IDeliveryOptimizationJob", hr);
    for (k = 0; k < n + BATCHES * BATCH; k++)
    {
        if (k >= n && (k - n) % BATCH == 0) t = now();
        file_names(port, path, folder, k, url, local);
        swprintf(id, ARRAYSIZE(id), L"id-%d", k);
        if (FAILED(hr = IDeliveryOptimizationJob_AddFileWithRanges(dojob, id, url, local, 0, NULL, BG_SIZE_UNKNOWN)))
            fail("AddFileWithRanges", hr);
        if (k >= n && (k - n) % BATCH == BATCH - 1) batch[(k - n) / BATCH] = (now() - t) / BATCH * 1e6;
    }
    results[M_ADD_FILE_ID][column] = median(batch, BATCHES);
    IDeliveryOptimizationJob_Release(dojob);
    cancel_jobs(&job, 1);
}

/* ---- the store's events, as the COM server's listener hears them ------------------ */

static struct engine *event_engine;

/* server.c's listener, but the engine never hears that a job is runnable: the benchmark
 * holds the job's run itself and writes its progress, as a worker would. */
static void forward_event(void *context, const struct dos_event *event)
{
    if (event->kind != DOS_EVENT_RUNNABLE) engine_on_event(event_engine, event);
    download_on_event(event);
    notifier_on_event(&do_error_map, event);
}

static double time_events(struct dos_store *store, int n, BOOL with_callback)
{
    static const dos_char owner[] = { 'S', '-', '1', 0 }, name[] = { 'e', 0 };
    struct dos_file_spec *specs = calloc(n, sizeof(*specs));
    WCHAR (*urls)[64] = malloc(n * sizeof(*urls)), (*locals)[64] = malloc(n * sizeof(*locals));
    struct dos_file **files;
    struct dos_ref *ref, *old;
    struct dos_job *job;
    double batch[BATCHES], t;
    size_t count;
    dos_run run;
    uint64_t bytes = 0;
    int i, b;

    if (dos_store_create_job(store, name, DOS_JOB_DOWNLOAD, owner, &job) != DOS_OK) fail("dos_store_create_job", E_FAIL);
    for (i = 0; i < n; i++)
    {
        swprintf(urls[i], 64, L"http://127.0.0.1:1/%d", i);
        swprintf(locals[i], 64, L"C:\\scale\\%d", i);
        specs[i].remote_name = dchars(urls[i]);
        specs[i].local_name = dchars(locals[i]);
        specs[i].file_size = DOS_SIZE_UNKNOWN;
    }
    if (dos_job_add_files(job, specs, n, NULL) != DOS_OK) fail("dos_job_add_files", E_FAIL);
    if (with_callback)
    {
        if (FAILED(notify_ref_create((IUnknown *)&callback.IBackgroundCopyCallback_iface, &ref))) fail("notify_ref", E_FAIL);
        dos_job_swap_notify(job, ref, &old);
        dos_job_set_u32(job, DOS_JOB_NOTIFY_FLAGS, BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR
                                                   | BG_NOTIFY_JOB_MODIFICATION);
    }
    if (dos_job_resume(job) != DOS_OK || dos_job_start_run(job, &run) != DOS_OK) fail("start_run", E_FAIL);
    dos_job_list_files(job, &files, &count);
    for (b = 0; b < BATCHES; b++)
    {
        t = now();
        for (i = 0; i < BATCH; i++)
            if (dos_file_record_progress(files[count / 2], run, 1ull << 40, ++bytes) != DOS_OK) fail("progress", E_FAIL);
        batch[b] = (now() - t) / BATCH * 1e6;
    }
    free(files);
    dos_job_cancel(job);
    dos_job_release(job);
    free(specs);
    free(urls);
    free(locals);
    return median(batch, BATCHES);
}

static void measure_events(int n, int column)
{
    struct dos_store *store = dos_store_create();

    if (!store || !(event_engine = engine_create(store))) fail("store", E_OUTOFMEMORY);
    dos_store_set_listener(store, forward_event, NULL);
    results[M_EVENT][column] = time_events(store, n, FALSE);
    results[M_EVENT_CALLBACK][column] = time_events(store, n, TRUE);
    dos_store_set_listener(store, NULL, NULL);
    engine_destroy(event_engine);
    dos_store_release(store);
}

/* ---- transfers ---------------------------------------------------------------------- */

/* What one transfer took, in milliseconds a file: wall clock and this process's CPU, from
 * Resume to JobTransferred, then for Complete. */
struct transfer_cost
{
    double transfer, transfer_cpu, complete, complete_cpu;
};

/* A job of n files from the server into dest (per_folder files a folder, 0: one folder). */
static void transfer(IBackgroundCopyManager *manager, int port, const char *path, const WCHAR *dest, int n,
                     int per_folder, struct transfer_cost *cost)
{
    WCHAR folder[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_STATE state;
    double t, c, seconds;
    HRESULT hr;

    swprintf(folder, MAX_PATH, L"%ls\\transfer-%d-%d-%d", dest, n, per_folder, round_number);
    CreateDirectoryW(folder, NULL);
    job = job_of(manager, port, path, folder, n, per_folder, &seconds);
    IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_FOREGROUND);
    IBackgroundCopyJob_SetNotifyInterface(job, (IUnknown *)&callback.IBackgroundCopyCallback_iface);
    IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR);
    ResetEvent(callback.transferred);
    c = cpu();
    t = now();
    if (FAILED(hr = IBackgroundCopyJob_Resume(job))) fail("Resume", hr);
    if (WaitForSingleObject(callback.transferred, 30 * 60 * 1000)) fail("no JobTransferred", E_FAIL);
    cost->transfer = (now() - t) / n * 1e3;
    cost->transfer_cpu = (cpu() - c) / n * 1e3;
    IBackgroundCopyJob_GetState(job, &state);
    if (state != BG_JOB_STATE_TRANSFERRED) fail("transfer", E_FAIL);
    c = cpu();
    t = now();
    if ((hr = IBackgroundCopyJob_Complete(job)) != S_OK) fail("Complete", hr);
    cost->complete = (now() - t) / n * 1e3;
    cost->complete_cpu = (cpu() - c) / n * 1e3;
    IBackgroundCopyJob_Release(job);
}

/* A transfer of 1,000 files a folder; in the first round also one into one folder (Wine's own
 * cost grows with the folder, and it takes long). */
static void measure_transfers(IBackgroundCopyManager *manager, int port, const char *path, const WCHAR *dest, int n,
                              int column)
{
    struct transfer_cost cost;

    if (!round_number)
    {
        transfer(manager, port, path, dest, n, 0, &cost);
        results[M_TRANSFER][column] = cost.transfer;
        results[M_COMPLETE][column] = cost.complete;
    }
    transfer(manager, port, path, dest, n, 1000, &cost);
    results[M_TRANSFER_SPLIT][column] = cost.transfer;
    results[M_TRANSFER_SPLIT_CPU][column] = cost.transfer_cpu;
    results[M_COMPLETE_SPLIT][column] = cost.complete;
    results[M_COMPLETE_SPLIT_CPU][column] = cost.complete_cpu;
}

/* A blocking socket that reads responses one after another on one kept-alive connection. */
struct connection
{
    SOCKET s;
    char buffer[65536];
    int have;
};

/* GET path into a new file (CREATE_NEW), as a worker writes its temporary file. */
static BOOL raw_get(struct connection *c, const char *path, int i, const WCHAR *file)
{
    char request[512], *end, *length;
    long body, got;
    HANDLE out;
    DWORD written;
    int n, head;

    n = snprintf(request, sizeof(request), "GET %s?raw=%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path, i);
    if (send(c->s, request, n, 0) != n) return FALSE;
    for (;;)
    {
        c->buffer[c->have] = 0;
        if ((end = strstr(c->buffer, "\r\n\r\n"))) break;
        if ((n = recv(c->s, c->buffer + c->have, (int)sizeof(c->buffer) - 1 - c->have, 0)) <= 0) return FALSE;
        c->have += n;
    }
    head = (int)(end + 4 - c->buffer);
    if (!(length = strstr(c->buffer, "Content-Length: ")) || length > end) return FALSE;
    body = atol(length + 16);
    out = CreateFileW(file, GENERIC_WRITE, 0, NULL, CREATE_NEW, 0, NULL);
    if (out == INVALID_HANDLE_VALUE) return FALSE;
    for (got = 0; got < body;)
    {
        if (c->have == head && (n = recv(c->s, c->buffer + head, (int)sizeof(c->buffer) - 1 - head, 0)) <= 0) break;
        if (c->have == head) c->have += n;
        n = c->have - head < body - got ? c->have - head : (int)(body - got);
        WriteFile(out, c->buffer + head, n, &written, NULL);
        got += n;
        memmove(c->buffer + head, c->buffer + head + n, c->have - head - n);
        c->have -= n;
    }
    CloseHandle(out);
    memmove(c->buffer, c->buffer + head, c->have - head);
    c->have -= head;
    return got == body;
}

/* What Wine and the loopback cost without dosvc: n GETs on one connection, each into a new
 * file of one folder, then each moved onto another name there. */
static void raw_files(int port, const char *path, const WCHAR *dest, int n, double *fetch_ms, double *rename_ms)
{
    struct connection *c = calloc(1, sizeof(*c));
    struct sockaddr_in addr = { 0 };
    WCHAR folder[MAX_PATH], from[MAX_PATH], to[MAX_PATH];
    double t;
    int i;

    swprintf(folder, MAX_PATH, L"%ls\\raw-%d-%d", dest, n, round_number);
    CreateDirectoryW(folder, NULL);
    c->s = socket(AF_INET, SOCK_STREAM, 0);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((u_short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->s, (struct sockaddr *)&addr, sizeof(addr))) fail("connect", HRESULT_FROM_WIN32(WSAGetLastError()));
    t = now();
    for (i = 0; i < n; i++)
    {
        swprintf(from, MAX_PATH, L"%ls\\r%d.tmp", folder, i);
        if (!raw_get(c, path, i, from)) fail("raw GET", E_FAIL);
    }
    *fetch_ms = (now() - t) / n * 1e3;
    closesocket(c->s);
    t = now();
    for (i = 0; i < n; i++)
    {
        swprintf(from, MAX_PATH, L"%ls\\r%d.tmp", folder, i);
        swprintf(to, MAX_PATH, L"%ls\\r%d.bin", folder, i);
        if (!MoveFileExW(from, to, MOVEFILE_REPLACE_EXISTING)) fail("MoveFileEx", HRESULT_FROM_WIN32(GetLastError()));
    }
    *rename_ms = (now() - t) / n * 1e3;
    free(c);
}

/* ---- main ------------------------------------------------------------------------ */

static double time_sid(void)
{
    double batch[BATCHES], t;
    WCHAR *sid;
    int b, i;

    for (b = 0; b < BATCHES; b++)
    {
        t = now();
        for (i = 0; i < BATCH; i++)
        {
            if (FAILED(current_user_sid(&sid))) fail("current_user_sid", E_FAIL);
            free(sid);
        }
        batch[b] = (now() - t) / BATCH * 1e6;
    }
    return median(batch, BATCHES);
}

/* The median of a measurement's rounds; the one-folder ones run in the first round only. */
static double over_rounds(int m, int column, int count)
{
    if (m == M_TRANSFER || m == M_COMPLETE || m == M_RAW_FETCH || m == M_RAW_RENAME) count = 1;
    return median(rounds[m][column], count);
}

int main(int argc, char **argv)
{
    IBackgroundCopyManager *manager;
    WCHAR dest[MAX_PATH];
    const char *path, *groups = argc >= 7 ? argv[6] : NULL;
    int port, sizes[2] = { 1000, 10000 }, count = argc >= 8 ? atoi(argv[7]) : 3, column, m;
    WSADATA wsa;
    HRESULT hr;

    if ((argc != 4 && argc != 6 && argc != 7 && argc != 8) || count < 1 || count > MAX_ROUNDS)
    {
        fprintf(stderr, "usage: dosvc-scale <port> <path> <dest-dir> [small large [groups [rounds]]]\n");
        return 2;
    }
    port = atoi(argv[1]);
    path = argv[2];
    MultiByteToWideChar(CP_ACP, 0, argv[3], -1, dest, MAX_PATH);
    if (argc >= 6)
    {
        sizes[0] = atoi(argv[4]);
        sizes[1] = atoi(argv[5]);
    }
    WSAStartup(MAKEWORD(2, 2), &wsa);
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    callback.transferred = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (FAILED(hr = manager_create(&do_error_map, &IID_IBackgroundCopyManager, (void **)&manager))) fail("manager", hr);

    for (round_number = 0; round_number < count; round_number++)
    {
        for (column = 0; column < 2; column++)
        {
            int n = sizes[column];
            printf("== round %d, N = %d\n", round_number + 1, n);
            fflush(stdout);
            if (wanted(groups, "store"))
            {
                results[M_SID][column] = time_sid();
                measure_store(manager, n, column);
                for (m = M_SID; m <= M_ENUM_JOBS; m++) measured[m] = TRUE;
            }
            if (wanted(groups, "files"))
            {
                measure_files(manager, port, path, dest, n, column);
                for (m = M_ADD_FILE_SET; m <= M_ENUM_FILES; m++) measured[m] = TRUE;
            }
            if (wanted(groups, "events"))
            {
                measure_events(n, column);
                measured[M_EVENT] = measured[M_EVENT_CALLBACK] = TRUE;
            }
            if (wanted(groups, "raw") && !round_number)
            {
                raw_files(port, path, dest, n, &results[M_RAW_FETCH][column], &results[M_RAW_RENAME][column]);
                measured[M_RAW_FETCH] = measured[M_RAW_RENAME] = TRUE;
            }
            if (wanted(groups, "transfer"))
            {
                measure_transfers(manager, port, path, dest, n, column);
                for (m = M_TRANSFER; m <= M_COMPLETE_SPLIT_CPU; m++) measured[m] = TRUE;
            }
        }
        for (m = 0; m < M_COUNT; m++)
            for (column = 0; column < 2; column++) rounds[m][column][round_number] = results[m][column];
    }

    printf("median of %d rounds (the one-folder rows: the first round only)\n", count);
    printf("%-44s %-9s %10d %10d %7s\n", "operation", "unit", sizes[0], sizes[1], "ratio");
    for (m = 0; m < M_COUNT; m++)
    {
        double small, large;
        if (!measured[m]) continue;
        small = over_rounds(m, 0, count);
        large = over_rounds(m, 1, count);
        printf("%-44s %-9s %10.3f %10.3f %7.2f\n", names[m].name, names[m].unit, small, large, large / small);
    }
    IBackgroundCopyManager_Release(manager);
    CoUninitialize();
    return 0;
}
