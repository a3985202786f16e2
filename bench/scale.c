/*
 * dosvc-scale: whether a per-call or per-file cost grows with the size of a job or
 * of the store (issue 9). Every operation is measured at two sizes (1,000 and
 * 10,000 unless told otherwise: files in one job, or jobs in the store, whichever
 * the operation scales with), and the ratio of the two per-call costs is printed:
 * 1.0 is flat. It links the COM objects directly, as the white-box tests do, so it
 * needs no registration and can also drive the store's events itself. Run by
 * bench/scale, which serves a 4 KiB file from nginx on loopback:
 *   dosvc-scale <port> <path> <dest-dir> [small large [groups [rounds]]]
 * groups, a comma-separated list of store, files, events, queue, waiting, notifier, ido, raw and
 * transfer, picks what to measure (default: all). Call costs are the median over BATCHES batches of BATCH calls;
 * the two sizes take turns for rounds rounds (default 3) and each number printed is the
 * median of its rounds, so that a busy moment of the machine spoils one batch or one round,
 * not the number, and hits both sizes alike.
 */
#define COBJMACROS
#define CONST_VTABLE
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <psapi.h>
#include <tlhelp32.h>
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

/* ---- results -------------------------------------------------------------- */

enum measure
{
    M_SID, M_CREATE_JOB, M_GET_JOB, M_ENUM_JOBS, M_ADD_FILE_SET, M_ADD_FILE, M_ADD_FILE_ID, M_GET_PROGRESS,
    M_GET_STATE, M_GET_TIMES, M_ENUM_FILES, M_EVENT, M_EVENT_CALLBACK, M_QUEUE_EVENT, M_QUEUE_RESUME,
    M_WAIT_RESUME, M_WAIT_THREADS, M_WAIT_MEMORY, M_WAIT_EVENT, M_WAIT_CANCEL, M_NOTIFY_WAITING, M_NOTIFY_NEW, M_NOTIFY_DELIVER, M_IDO_START, M_IDO_ABORT, M_TRANSFER, M_COMPLETE, M_TRANSFER_SPLIT,
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
    [M_QUEUE_EVENT]    = { "progress event, N jobs queued behind 2 busy", "us/event" },
    [M_QUEUE_RESUME]   = { "Resume, N jobs queued", "us/call" },
    [M_WAIT_RESUME]    = { "N jobs refused, until all wait to retry", "us/job" },
    [M_WAIT_THREADS]   = { "  threads of the process meanwhile", "threads" },
    [M_WAIT_MEMORY]    = { "  resident memory they take", "KiB/job" },
    [M_WAIT_EVENT]     = { "progress event, N jobs waiting to retry", "us/event" },
    [M_WAIT_CANCEL]    = { "Cancel, N jobs waiting to retry", "us/job" },
    [M_NOTIFY_WAITING] = { "change, N JobModification notices waiting", "us/event" },
    [M_NOTIFY_NEW]     = { "new JobModification notice, N waiting", "us/event" },
    [M_NOTIFY_DELIVER] = { "  then delivering them, per notice", "us/notice" },
    [M_IDO_START]      = { "IDO Start, N other downloads listed", "us/call" },
    [M_IDO_ABORT]      = { "IDO Abort, N other downloads listed", "us/call" },
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
    HANDLE modified;               /* set on JobModification, if there is one */
    HANDLE release;                /* JobModification waits for it, if there is one */
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
    struct callback *callback = impl_from_callback(iface);

    InterlockedIncrement(&callback->modifications);
    if (callback->modified) SetEvent(callback->modified);
    if (callback->release) WaitForSingleObject(callback->release, INFINITE);   /* a client that blocks */
    return S_OK;
}

static const IBackgroundCopyCallbackVtbl callback_vtbl = {
    callback_QueryInterface, callback_AddRef, callback_Release, callback_JobTransferred, callback_JobError,
    callback_JobModification,
};

static struct callback callback = { .IBackgroundCopyCallback_iface = { &callback_vtbl }, .refs = 1 };

/* The benchmark's own listener on a port that never accepts: a job from it waits for its
 * response (a minute) and holds its background slot meanwhile. */
static int busy_port;

static int listen_never_accepting(void)
{
    struct sockaddr_in addr = { 0 };
    int len = sizeof(addr);
    SOCKET s = socket(AF_INET, SOCK_STREAM, 0);

    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s == INVALID_SOCKET || bind(s, (struct sockaddr *)&addr, sizeof(addr)) || listen(s, SOMAXCONN)
        || getsockname(s, (struct sockaddr *)&addr, &len))
        fail("listen", HRESULT_FROM_WIN32(WSAGetLastError()));
    return ntohs(addr.sin_port);
}

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
static struct dos_job *held;       /* the job whose run the benchmark holds */

/* server.c's listener, but the engine never hears that the held job is runnable: the benchmark
 * holds its run itself and writes its progress, as a worker would. */
static void forward_event(void *context, const struct dos_event *event)
{
    if (event->kind != DOS_EVENT_RUNNABLE || event->job != held) engine_on_event(event_engine, event);
    download_on_event(event);
    notifier_on_event(&do_error_map, event);
}

/* The median per-event microseconds of BATCHES * BATCH progress updates of the held job's
 * file, whose run is run. */
static double time_progress(struct dos_file *file, dos_run run)
{
    static uint64_t bytes;
    double batch[BATCHES], t;
    int b, i;

    for (b = 0; b < BATCHES; b++)
    {
        t = now();
        for (i = 0; i < BATCH; i++)
            if (dos_file_record_progress(file, run, 1ull << 40, ++bytes) != DOS_OK) fail("progress", E_FAIL);
        batch[b] = (now() - t) / BATCH * 1e6;
    }
    return median(batch, BATCHES);
}

static double time_events(struct dos_store *store, int n, BOOL with_callback)
{
    static const dos_char owner[] = { 'S', '-', '1', 0 }, name[] = { 'e', 0 };
    struct dos_file_spec *specs = calloc(n, sizeof(*specs));
    WCHAR (*urls)[64] = malloc(n * sizeof(*urls)), (*locals)[64] = malloc(n * sizeof(*locals));
    struct dos_file **files;
    struct dos_ref *ref, *old;
    struct dos_job *job;
    double cost;
    size_t count;
    dos_run run;
    int i;

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
    held = job;
    if (dos_job_resume(job) != DOS_OK || dos_job_start_run(job, &run) != DOS_OK) fail("start_run", E_FAIL);
    dos_job_list_files(job, &files, &count);
    cost = time_progress(files[count / 2], run);
    free(files);
    dos_job_cancel(job);
    dos_job_release(job);
    held = NULL;
    free(specs);
    free(urls);
    free(locals);
    return cost;
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

/* ---- the engine's queue ------------------------------------------------------------- */

static const dos_char bench_owner[] = { 'S', '-', '1', 0 }, bench_name[] = { 'q', 0 };

/* A job of the store with one file from port, into folder. */
static struct dos_job *job_from(struct dos_store *store, int port, const WCHAR *folder, int i)
{
    WCHAR url[64], local[MAX_PATH];
    struct dos_file_spec spec = { 0 };
    struct dos_job *job;

    swprintf(url, ARRAYSIZE(url), L"http://127.0.0.1:%d/q%d", port, i);
    swprintf(local, MAX_PATH, L"%ls\\q%d.bin", folder, i);
    spec.remote_name = dchars(url);
    spec.local_name = dchars(local);
    spec.file_size = DOS_SIZE_UNKNOWN;
    if (dos_store_create_job(store, bench_name, DOS_JOB_DOWNLOAD, bench_owner, &job) != DOS_OK
        || dos_job_add_files(job, &spec, 1, NULL) != DOS_OK)
        fail("job", E_FAIL);
    return job;
}

/* The same from the port that never accepts. */
static struct dos_job *busy_job(struct dos_store *store, const WCHAR *folder, int i)
{
    return job_from(store, busy_port, folder, i);
}

static void finish_jobs(struct engine *engine, struct dos_job **jobs, int count)
{
    HRESULT rename_error;
    BOOL delete_failed;
    int i;

    /* Last first: a queued job is cancelled before a running one's end could start it. */
    for (i = count - 1; i >= 0; i--)
    {
        engine_finish_job(engine, jobs[i], DOS_STATE_CANCELLED, &rename_error, &delete_failed);
        dos_job_release(jobs[i]);
    }
}

/* N background jobs queued in the engine behind the first two, which wait on a server that
 * never answers: a progress event of another job (the benchmark holds its run), and Resume of
 * BATCHES * BATCH more jobs, from N queued on. Through the store's listener, as the COM server
 * has it, so that whatever the engine does with its queue on each event is in the numbers. */
static void measure_queue(const WCHAR *dest, int n, int column)
{
    struct dos_store *store = dos_store_create();
    int total = n + BATCHES * BATCH, i, b, k;
    struct dos_job **jobs = malloc(total * sizeof(*jobs));
    struct dos_file **files;
    WCHAR folder[MAX_PATH];
    double batch[BATCHES], t;
    size_t count;
    dos_run run;

    if (!store || !jobs || !(event_engine = engine_create(store))) fail("store", E_OUTOFMEMORY);
    dos_store_set_listener(store, forward_event, NULL);
    swprintf(folder, MAX_PATH, L"%ls\\queue-%d-%d", dest, n, round_number);
    CreateDirectoryW(folder, NULL);
    for (i = 0; i < total; i++) jobs[i] = busy_job(store, folder, i);
    for (i = 0; i < n; i++)
        if (dos_job_resume(jobs[i]) != DOS_OK) fail("Resume", E_FAIL);

    held = busy_job(store, folder, total);
    if (dos_job_resume(held) != DOS_OK || dos_job_start_run(held, &run) != DOS_OK) fail("start_run", E_FAIL);
    dos_job_list_files(held, &files, &count);
    results[M_QUEUE_EVENT][column] = time_progress(files[0], run);
    free(files);
    finish_jobs(event_engine, &held, 1);
    held = NULL;

    for (b = 0, k = n; b < BATCHES; b++)
    {
        t = now();
        for (i = 0; i < BATCH; i++, k++)
            if (dos_job_resume(jobs[k]) != DOS_OK) fail("Resume", E_FAIL);
        batch[b] = (now() - t) / BATCH * 1e6;
    }
    results[M_QUEUE_RESUME][column] = median(batch, BATCHES);

    finish_jobs(event_engine, jobs, total);
    dos_store_set_listener(store, NULL, NULL);
    engine_destroy(event_engine);
    dos_store_release(store);
    free(jobs);
}

/* ---- jobs waiting to retry ------------------------------------------------------------ */

static unsigned threads_of_this_process(void)
{
    HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    THREADENTRY32 entry = { .dwSize = sizeof(entry) };
    unsigned count = 0;

    if (snapshot == INVALID_HANDLE_VALUE) return 0;
    if (Thread32First(snapshot, &entry))
        do count += entry.th32OwnerProcessID == GetCurrentProcessId();
        while (Thread32Next(snapshot, &entry));
    CloseHandle(snapshot);
    return count;
}

/* The process's resident memory (Wine leaves PrivateUsage 0). */
static double resident_kib(void)
{
    PROCESS_MEMORY_COUNTERS counters = { .cb = sizeof(counters) };
    GetProcessMemoryInfo(GetCurrentProcess(), &counters, sizeof(counters));
    return counters.WorkingSetSize / 1024.0;
}

/* A loopback port nothing listens on: connections to it are refused at once. */
static int refused_port(void)
{
    struct sockaddr_in addr = { 0 };
    int len = sizeof(addr), port;
    SOCKET s = socket(AF_INET, SOCK_STREAM, 0);

    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s == INVALID_SOCKET || bind(s, (struct sockaddr *)&addr, sizeof(addr))
        || getsockname(s, (struct sockaddr *)&addr, &len))
        fail("bind", HRESULT_FROM_WIN32(WSAGetLastError()));
    port = ntohs(addr.sin_port);
    closesocket(s);
    return port;
}

/* N jobs whose server refuses them, each waiting an hour to retry (TRANSIENT_ERROR): the time
 * from their Resume until all wait, the threads and the resident memory the process has then, a
 * progress event of another job (the benchmark holds its run) and the Cancel of each. Half of
 * them are foreground, which no slot limited before. Waiting is checked every 10 ms, with a
 * deadline of a second a job. */
static void measure_waiting(const WCHAR *dest, int n, int column)
{
    struct dos_store *store = dos_store_create();
    struct dos_job **jobs = malloc(n * sizeof(*jobs));
    int port = refused_port(), i, waiting = 0;
    double t, kib, deadline;
    struct dos_file **files;
    WCHAR folder[MAX_PATH];
    size_t count;
    dos_run run;

    if (!store || !jobs || !(event_engine = engine_create(store))) fail("store", E_OUTOFMEMORY);
    dos_store_set_listener(store, forward_event, NULL);
    swprintf(folder, MAX_PATH, L"%ls\\waiting-%d-%d", dest, n, round_number);
    CreateDirectoryW(folder, NULL);
    for (i = 0; i < n; i++)
    {
        jobs[i] = job_from(store, port, folder, i);
        if (dos_job_set_u32(jobs[i], DOS_JOB_RETRY_DELAY, 3600) != DOS_OK
            || (i % 2 && dos_job_set_u32(jobs[i], DOS_JOB_PRIORITY, DOS_PRIORITY_FOREGROUND) != DOS_OK))
            fail("waiting job", E_FAIL);
    }
    kib = resident_kib();
    t = now();
    deadline = t + n;
    for (i = 0; i < n; i++)
        if (dos_job_resume(jobs[i]) != DOS_OK) fail("Resume", E_FAIL);
    while (waiting < n)
    {
        struct dos_job_info info;

        dos_job_get_info(jobs[waiting], &info);
        if (info.state == DOS_STATE_TRANSIENT_ERROR) waiting++;
        else if (now() > deadline) fail("the jobs did not all come to wait", E_FAIL);
        else Sleep(10);
    }
    results[M_WAIT_RESUME][column] = (now() - t) / n * 1e6;
    results[M_WAIT_THREADS][column] = threads_of_this_process();
    results[M_WAIT_MEMORY][column] = (resident_kib() - kib) / n;

    held = busy_job(store, folder, n);
    if (dos_job_resume(held) != DOS_OK || dos_job_start_run(held, &run) != DOS_OK) fail("start_run", E_FAIL);
    dos_job_list_files(held, &files, &count);
    results[M_WAIT_EVENT][column] = time_progress(files[0], run);
    free(files);
    finish_jobs(event_engine, &held, 1);
    held = NULL;

    t = now();
    finish_jobs(event_engine, jobs, n);
    results[M_WAIT_CANCEL][column] = (now() - t) / n * 1e6;
    dos_store_set_listener(store, NULL, NULL);
    engine_destroy(event_engine);
    dos_store_release(store);
    free(jobs);
}

/* ---- the notifier's queue ------------------------------------------------------------- */

static void forward_to_notifier(void *context, const struct dos_event *event)
{
    notifier_on_event(&do_error_map, event);
}

/* A job of the store whose callback is the benchmark's (or c), for the notify flags. */
static struct dos_job *job_calling(struct dos_store *store, struct callback *c, uint32_t flags)
{
    struct dos_ref *ref, *old;
    struct dos_job *job;

    if (dos_store_create_job(store, bench_name, DOS_JOB_DOWNLOAD, bench_owner, &job) != DOS_OK
        || FAILED(notify_ref_create((IUnknown *)&c->IBackgroundCopyCallback_iface, &ref)))
        fail("job with a callback", E_FAIL);
    dos_job_swap_notify(job, ref, &old);
    if (dos_job_set_u32(job, DOS_JOB_NOTIFY_FLAGS, flags) != DOS_OK) fail("notify flags", E_FAIL);
    return job;
}

/*
 * The notifier's thread blocks in one client's JobModification, and N jobs each have a
 * JobModification notice waiting behind it: a change of one of them (its notice tells of this
 * change too), a notice for each of BATCHES * BATCH more jobs (queued behind the N), and then,
 * the client let go, the delivery of them all.
 */
static void measure_notifier(int n, int column)
{
    static struct callback blocker = { .IBackgroundCopyCallback_iface = { &callback_vtbl }, .refs = 1 };
    static struct callback last = { .IBackgroundCopyCallback_iface = { &callback_vtbl }, .refs = 1 };
    const uint32_t error_only = BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR;
    const uint32_t modification = error_only | BG_NOTIFY_JOB_MODIFICATION;
    struct dos_store *store = dos_store_create();
    int total = n + BATCHES * BATCH, i, b, k;
    struct dos_job **jobs = malloc(total * sizeof(*jobs)), *blocked;
    double batch[BATCHES], t;

    if (!store || !jobs) fail("store", E_OUTOFMEMORY);
    dos_store_set_listener(store, forward_to_notifier, NULL);
    blocker.modified = CreateEventW(NULL, FALSE, FALSE, NULL);
    blocker.release = CreateEventW(NULL, TRUE, FALSE, NULL);
    last.modified = CreateEventW(NULL, FALSE, FALSE, NULL);
    blocked = job_calling(store, &blocker, modification);
    if (WaitForSingleObject(blocker.modified, 60000)) fail("the blocking callback was not called", E_FAIL);

    for (i = 0; i < n; i++) jobs[i] = job_calling(store, &callback, modification);
    for (; i < total - 1; i++) jobs[i] = job_calling(store, &callback, error_only);
    jobs[i] = job_calling(store, &last, error_only);

    srand(2);
    for (b = 0; b < BATCHES; b++)
    {
        t = now();
        for (i = 0; i < BATCH; i++)
            dos_job_set_description(jobs[(rand() * (RAND_MAX + 1u) + rand()) % n], dchars(L"changed"));
        batch[b] = (now() - t) / BATCH * 1e6;
    }
    results[M_NOTIFY_WAITING][column] = median(batch, BATCHES);

    for (b = 0, k = n; b < BATCHES; b++)
    {
        t = now();
        for (i = 0; i < BATCH; i++, k++) dos_job_set_u32(jobs[k], DOS_JOB_NOTIFY_FLAGS, modification);
        batch[b] = (now() - t) / BATCH * 1e6;
    }
    results[M_NOTIFY_NEW][column] = median(batch, BATCHES);

    /* In the order queued: the last job's notice is the last one. */
    t = now();
    SetEvent(blocker.release);
    if (WaitForSingleObject(last.modified, 10 * 60 * 1000)) fail("the notices were not delivered", E_FAIL);
    results[M_NOTIFY_DELIVER][column] = (now() - t) / total * 1e6;

    for (i = 0; i < total; i++)
    {
        dos_job_cancel(jobs[i]);
        dos_job_release(jobs[i]);
    }
    dos_job_cancel(blocked);
    dos_job_release(blocked);
    dos_store_set_listener(store, NULL, NULL);
    dos_store_release(store);
    CloseHandle(blocker.modified);
    CloseHandle(blocker.release);
    CloseHandle(last.modified);
    blocker.modified = blocker.release = last.modified = NULL;
    free(jobs);
}

/* ---- IDO downloads ------------------------------------------------------------------ */

static void set_text(IDODownload *download, DODownloadProperty id, const WCHAR *text)
{
    VARIANT v;
    HRESULT hr;

    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocString(text);
    hr = IDODownload_SetProperty(download, id, &v);
    VariantClear(&v);
    if (FAILED(hr)) fail("IDODownload::SetProperty", hr);
}

/* A download from the port that never accepts into local, not started. */
static IDODownload *busy_download(IDOManager *manager, const WCHAR *local, int i)
{
    IDODownload *download;
    WCHAR url[64];
    HRESULT hr;

    if (FAILED(hr = IDOManager_CreateDownload(manager, &download))) fail("CreateDownload", hr);
    swprintf(url, ARRAYSIZE(url), L"http://127.0.0.1:%d/ido%d", busy_port, i);
    set_text(download, DODownloadProperty_Uri, url);
    set_text(download, DODownloadProperty_LocalPath, local);
    return download;
}

static void abort_downloads(IDODownload **downloads, int count)
{
    int i;
    for (i = 0; i < count; i++)
    {
        IDODownload_Abort(downloads[i]);
        IDODownload_Release(downloads[i]);
    }
}

/*
 * N other downloads listed (each with a LocalPath, not started) and two more that hold the
 * background slots, waiting on a server that never answers: BATCHES * BATCH downloads, each
 * into a folder of its own that its first Start makes, started and then aborted (which removes
 * the folder). DoSvc's rule that a download started to another's LocalPath aborts that one,
 * and the folders Abort may remove, concern the other downloads of the store.
 */
static void measure_ido(IBackgroundCopyManager *bits, const WCHAR *dest, int n, int column)
{
    IDODownload **others = malloc(n * sizeof(*others)), *busy[2], *download;
    double starts[BATCHES], aborts[BATCHES], t;
    WCHAR folder[MAX_PATH], local[MAX_PATH];
    IDOManager *manager;
    HRESULT hr;
    int i, b, k;

    if (FAILED(hr = IBackgroundCopyManager_QueryInterface(bits, &IID_IDOManager, (void **)&manager)))
        fail("IDOManager", hr);
    swprintf(folder, MAX_PATH, L"%ls\\ido-%d-%d", dest, n, round_number);
    CreateDirectoryW(folder, NULL);
    for (i = 0; i < n; i++)
    {
        swprintf(local, MAX_PATH, L"%ls\\o%d.bin", folder, i);
        others[i] = busy_download(manager, local, i);
    }
    for (i = 0; i < 2; i++)
    {
        swprintf(local, MAX_PATH, L"%ls\\busy%d.bin", folder, i);
        busy[i] = busy_download(manager, local, n + i);
        if (FAILED(hr = IDODownload_Start(busy[i], NULL))) fail("Start", hr);
    }
    for (b = 0, k = 0; b < BATCHES; b++)
    {
        starts[b] = aborts[b] = 0;
        for (i = 0; i < BATCH; i++, k++)
        {
            swprintf(local, MAX_PATH, L"%ls\\m%d\\file.bin", folder, k);
            download = busy_download(manager, local, n + 2 + k);
            t = now();
            if (FAILED(hr = IDODownload_Start(download, NULL))) fail("Start", hr);
            starts[b] += now() - t;
            t = now();
            if (FAILED(hr = IDODownload_Abort(download))) fail("Abort", hr);
            aborts[b] += now() - t;
            IDODownload_Release(download);
        }
        starts[b] = starts[b] / BATCH * 1e6;
        aborts[b] = aborts[b] / BATCH * 1e6;
    }
    results[M_IDO_START][column] = median(starts, BATCHES);
    results[M_IDO_ABORT][column] = median(aborts, BATCHES);
    abort_downloads(busy, 2);
    abort_downloads(others, n);
    IDOManager_Release(manager);
    free(others);
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
    busy_port = listen_never_accepting();
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
            if (wanted(groups, "queue"))
            {
                measure_queue(dest, n, column);
                measured[M_QUEUE_EVENT] = measured[M_QUEUE_RESUME] = TRUE;
            }
            if (wanted(groups, "waiting"))
            {
                measure_waiting(dest, n, column);
                for (m = M_WAIT_RESUME; m <= M_WAIT_CANCEL; m++) measured[m] = TRUE;
            }
            if (wanted(groups, "notifier"))
            {
                measure_notifier(n, column);
                for (m = M_NOTIFY_WAITING; m <= M_NOTIFY_DELIVER; m++) measured[m] = TRUE;
            }
            if (wanted(groups, "ido"))
            {
                measure_ido(manager, dest, n, column);
                measured[M_IDO_START] = measured[M_IDO_ABORT] = TRUE;
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
