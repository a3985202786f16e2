/*
 * The notifier: calls clients back (IBackgroundCopyCallback, Callback2, and
 * IDODownloadStatusCallback for IDO downloads) for what the store reports, on
 * a thread of its own, with no lock held, so a callback may call anything,
 * Complete, Cancel, Finalize and Abort included (DESIGN: "callbacks leave the
 * store's lock first"). A download's OnStatusChange carries the status taken
 * when the store changed, so every state change is told in order; progress
 * only as often as its CallbackFreq* properties ask (the store decides). JobModification notices for one job are
 * coalesced while one is pending; a JobError whose callback does not return
 * S_OK is repeated later while the job stays in ERROR (spec 3.11). A callback
 * registered from a single-threaded apartment is kept in the Global Interface
 * Table and so is called on its own apartment.
 */
#include "com_private.h"

#include <stdlib.h>

#include "table.h"

#define BG_NOTIFY_DISABLE_FLAG 0x4
#define JOB_ERROR_REPEAT_MS 5000

/* ---- the client's callback, as the store keeps it --------------------------------- */

struct notify_ref
{
    struct dos_ref base;
    IUnknown *callback;            /* what SetNotifyInterface was given */
    DWORD git_cookie;              /* non-zero: registered from an STA, call through the GIT */
};

static IGlobalInterfaceTable *global_table(void)
{
    IGlobalInterfaceTable *git = NULL;
    CoCreateInstance(&CLSID_StdGlobalInterfaceTable, NULL, CLSCTX_INPROC_SERVER, &IID_IGlobalInterfaceTable,
                     (void **)&git);
    return git;
}

static void notify_ref_destroy(struct dos_ref *ref)
{
    struct notify_ref *notify = CONTAINING_RECORD(ref, struct notify_ref, base);
    IGlobalInterfaceTable *git;

    if (notify->git_cookie && (git = global_table()))
    {
        IGlobalInterfaceTable_RevokeInterfaceFromGlobal(git, notify->git_cookie);
        IGlobalInterfaceTable_Release(git);
    }
    IUnknown_Release(notify->callback);
    free(notify);
}

HRESULT notify_ref_create(IUnknown *callback, struct dos_ref **out)
{
    APTTYPE type;
    APTTYPEQUALIFIER qualifier;
    struct notify_ref *notify;
    IGlobalInterfaceTable *git;
    HRESULT hr = S_OK;

    *out = NULL;
    if (!(notify = calloc(1, sizeof(*notify)))) return E_OUTOFMEMORY;
    atomic_init(&notify->base.refs, 1);
    notify->base.destroy = notify_ref_destroy;
    notify->callback = callback;
    IUnknown_AddRef(callback);
    if (SUCCEEDED(CoGetApartmentType(&type, &qualifier)) && (type == APTTYPE_STA || type == APTTYPE_MAINSTA))
    {
        if (!(git = global_table())) hr = E_FAIL;
        else
        {
            hr = IGlobalInterfaceTable_RegisterInterfaceInGlobal(git, callback, &IID_IUnknown, &notify->git_cookie);
            IGlobalInterfaceTable_Release(git);
        }
    }
    if (FAILED(hr))
    {
        notify_ref_destroy(&notify->base);
        return hr;
    }
    *out = &notify->base;
    return S_OK;
}

IUnknown *notify_ref_callback(struct dos_ref *ref)
{
    return CONTAINING_RECORD(ref, struct notify_ref, base)->callback;
}

/* The callback as riid, usable from the notifier's thread: through the GIT for an STA. */
static HRESULT notify_ref_query(struct dos_ref *ref, REFIID riid, void **out)
{
    struct notify_ref *notify = CONTAINING_RECORD(ref, struct notify_ref, base);
    IGlobalInterfaceTable *git;
    IUnknown *unknown;
    HRESULT hr;

    *out = NULL;
    if (!notify->git_cookie) return IUnknown_QueryInterface(notify->callback, riid, out);
    if (!(git = global_table())) return E_FAIL;
    hr = IGlobalInterfaceTable_GetInterfaceFromGlobal(git, notify->git_cookie, &IID_IUnknown, (void **)&unknown);
    IGlobalInterfaceTable_Release(git);
    if (FAILED(hr)) return hr;
    hr = IUnknown_QueryInterface(unknown, riid, out);
    IUnknown_Release(unknown);
    return hr;
}

/* ---- the queue and its thread ------------------------------------------------------- */

/* How long a declined JobError waits to be asked again: JOB_ERROR_REPEAT_MS, or the
 * milliseconds the environment variable DOSVC_JOBERROR_REPEAT_MS gives (tests shorten the
 * wait), read once. Only the notifier thread asks, and one runs at a time. */
static DWORD job_error_repeat_ms(void)
{
    static DWORD ms;
    WCHAR text[16];

    if (!ms)
    {
        DWORD value = 0;
        if (GetEnvironmentVariableW(L"DOSVC_JOBERROR_REPEAT_MS", text, ARRAYSIZE(text)) - 1 < ARRAYSIZE(text) - 1)
            value = wcstoul(text, NULL, 10);
        ms = value ? value : JOB_ERROR_REPEAT_MS;
    }
    return ms;
}

/* Each notice counts as a live object (server_object_created), so the DLL stays loaded
 * until every notice has been delivered or dropped. */
struct notice
{
    struct notice *next;
    enum dos_event_kind kind;
    struct dos_job *job;           /* retained */
    struct dos_file *file;         /* FILE_TRANSFERRED */
    ULONGLONG due;                 /* tick count; 0: now */
    BOOL download;                 /* an IDO download's OnStatusChange, with this status */
    struct dos_download_status status;
    uint64_t seq;                  /* and the number the store gave it */
    BOOL ran_command;              /* the job's command line ran for this notice */
    uint64_t order;                /* when it was last queued: the notifier's count of notices queued */
};

/* A notice is queued and taken in constant time, whatever the number of jobs and notices:
 * a progress event per buffer must cost the same with 10,000 jobs as with one. */
struct notifier
{
    SRWLOCK lock;
    CONDITION_VARIABLE wake;
    struct notice *head, **tail;   /* due now, oldest first */
    /* JobError repeats: all wait the same time, so in the order they were queued they are in
     * the order they fall due. */
    struct notice *later, **later_tail;
    uint64_t queued;               /* notices queued so far, repeats included: the next order */
    struct table modified;         /* the queued JobModification notices, by job */
    BOOL thread;                   /* a delivering thread runs */
    BOOL stopping;
    const struct error_map *errors;
};

static struct notifier notifier = { .lock = SRWLOCK_INIT, .wake = CONDITION_VARIABLE_INIT, .tail = &notifier.head,
                                    .later_tail = &notifier.later };

/* The notify flag that asks for a kind of event, or 0 for kinds no callback reports. */
static ULONG flag_of(enum dos_event_kind kind)
{
    switch (kind)
    {
    case DOS_EVENT_TRANSFERRED: return BG_NOTIFY_JOB_TRANSFERRED;
    case DOS_EVENT_ERROR: return BG_NOTIFY_JOB_ERROR;
    case DOS_EVENT_MODIFIED: return BG_NOTIFY_JOB_MODIFICATION;
    case DOS_EVENT_FILE_TRANSFERRED: return BG_NOTIFY_FILE_TRANSFERRED;
    default: return 0;
    }
}

/* Whether the job has a callback that asked for this kind of event. Any thread asks, a worker
 * too: it takes no reference to the callback, whose last release must not happen there. */
static BOOL has_clsid(const struct dos_job_info *info)
{
    static const dos_guid none;
    return memcmp(&info->notification_clsid, &none, sizeof(none)) != 0;
}

static BOOL has_command_line(struct dos_job *job)
{
    WCHAR *program = NULL;
    BOOL has;

    dos_job_copy_text(job, DOS_JOB_NOTIFY_PROGRAM, malloc, (dos_char **)&program);
    has = program && *program;
    free(program);
    return has;
}

static BOOL wanted(const struct dos_event *event)
{
    struct dos_job_info info;
    ULONG flags;

    if (!flag_of(event->kind)) return FALSE;
    dos_job_get_info(event->job, &info);
    flags = info.u32[DOS_JOB_NOTIFY_FLAGS];
    if ((flags & BG_NOTIFY_DISABLE_FLAG) || !(flags & flag_of(event->kind))) return FALSE;
    return dos_job_has_notify(event->job) || has_clsid(&info)
           || ((event->kind == DOS_EVENT_TRANSFERRED || event->kind == DOS_EVENT_ERROR) && has_command_line(event->job));
}

static void free_notice(struct notice *n)
{
    dos_job_release(n->job);
    free(n);
    server_object_destroyed();
}

/* JobModification notices of one job are one while queued. */
static BOOL coalesces(const struct notice *n)
{
    return !n->download && n->kind == DOS_EVENT_MODIFIED;
}

static uint64_t job_hash(const struct dos_job *job)
{
    return table_hash(&job, sizeof(job));
}

static bool is_modification_of(const void *notice, const void *job)
{
    return ((const struct notice *)notice)->job == job;
}

/* Whether a JobModification notice of job is queued; lock held, shared or not. */
static BOOL modification_queued(const struct dos_job *job)
{
    return table_find(&notifier.modified, job_hash(job), is_modification_of, job) != NULL;
}

/* Appends a notice unless an identical JobModification is already waiting; lock held. */
static void enqueue_locked(struct notice *n)
{
    if (coalesces(n))
    {
        if (modification_queued(n->job))
        {
            free_notice(n);
            return;
        }
        /* Without memory for the entry the notice still goes out, only uncoalesced. */
        if (table_reserve(&notifier.modified, 1)) table_insert(&notifier.modified, job_hash(n->job), n);
    }
    n->next = NULL;
    n->order = ++notifier.queued;
    if (n->due)
    {
        *notifier.later_tail = n;
        notifier.later_tail = &n->next;
    }
    else
    {
        *notifier.tail = n;
        notifier.tail = &n->next;
    }
}

/*
 * The next notice due by now, out of the queue, or NULL and (if any waits) when the next one
 * falls due in *next_due; lock held. Of the two heads, the one queued first, as one queue in the
 * order queued would have it: a repeat that is due goes after what was queued before it was
 * asked again, so repeats that are always due (callbacks that decline slowly) never hold back
 * the other notices.
 */
static struct notice *take_locked(ULONGLONG now, ULONGLONG *next_due)
{
    struct notice *n = notifier.head, *repeat = notifier.later;

    *next_due = 0;
    if (repeat && repeat->due <= now && (!n || repeat->order < n->order))
    {
        n = repeat;
        if (!(notifier.later = n->next)) notifier.later_tail = &notifier.later;
    }
    else if (n)
    {
        if (!(notifier.head = n->next)) notifier.tail = &notifier.head;
    }
    else
    {
        if (repeat) *next_due = repeat->due;
        return NULL;
    }
    /* Taken for delivery: a change from now on is news again. */
    if (coalesces(n)) table_remove(&notifier.modified, job_hash(n->job), n);
    return n;
}

/* OnStatusChange, with the status the notice took; its return value asks for nothing. */
static void deliver_download(const struct notice *n)
{
    BOOL final;
    IDODownloadStatusCallback *callback = NULL;
    IDODownload *download = NULL;
    DO_DOWNLOAD_STATUS status;
    struct dos_ref *ref;
    HRESULT hr;

    if (!dos_download_claim_delivery(n->job, n->seq) || !(ref = dos_job_get_notify(n->job))) return;
    if (SUCCEEDED(download_view_create(n->job, notifier.errors, &IID_IDODownload, (void **)&download))
        && SUCCEEDED(notify_ref_query(ref, &IID_IDODownloadStatusCallback, (void **)&callback)))
    {
        status.BytesTotal = n->status.bytes_total;
        status.BytesTransferred = n->status.bytes_transferred;
        status.State = (DODownloadState)n->status.state;
        status.Error = n->status.error;
        status.ExtendedError = n->status.extended_error;
        TRACE_NOTIFY("OnStatusChange(%p, state %d, %llu of %llu bytes, error 0x%08lx, extended 0x%08lx)", (void *)callback,
                     (int)status.State, (unsigned long long)status.BytesTransferred,
                     (unsigned long long)status.BytesTotal, (unsigned long)status.Error,
                     (unsigned long)status.ExtendedError);
        hr = IDODownloadStatusCallback_OnStatusChange(callback, download, &status);
        TRACE_NOTIFY("OnStatusChange -> 0x%08lx", (unsigned long)hr);
    }
    if (callback) IDODownloadStatusCallback_Release(callback);
    if (download) IDODownload_Release(download);
    /* Told of Finalized or Aborted, the client needs its callback no more. One that lives in a
     * single-threaded apartment is not released here, on the wrong thread; it goes with the record. */
    final = (n->status.state == DOS_DL_FINALIZED || n->status.state == DOS_DL_ABORTED)
            && !CONTAINING_RECORD(ref, struct notify_ref, base)->git_cookie;
    dos_ref_release(ref);
    if (final && (ref = dos_download_drop_callback_if_final(n->job))) dos_ref_release(ref);
}

/*
 * The callback that takes a job's notices: the interface the client registered, or else an
 * instance of the out-of-process server its NOTIFICATION_CLSID names (spec 3.4, 5.4), made for
 * this notice. NULL if neither answers.
 */
static IBackgroundCopyCallback *job_callback(struct dos_job *job, const struct dos_job_info *info,
                                             enum dos_event_kind kind, BOOL *registered)
{
    IBackgroundCopyCallback *callback = NULL;
    struct dos_ref *ref;

    *registered = FALSE;
    if ((ref = dos_job_get_notify(job)))
    {
        *registered = SUCCEEDED(notify_ref_query(ref, &IID_IBackgroundCopyCallback, (void **)&callback));
        dos_ref_release(ref);
    }
    /* A server is started only for what a client waits on: every other notice would hold up
     * the one notifier thread behind a launch for little. */
    else if (has_clsid(info) && (kind == DOS_EVENT_TRANSFERRED || kind == DOS_EVENT_ERROR))
    {
        HRESULT hr = CoCreateInstance((const CLSID *)&info->notification_clsid, NULL, CLSCTX_LOCAL_SERVER,
                                      &IID_IBackgroundCopyCallback, (void **)&callback);
        TRACE_NOTIFY("job %s: notification class %s -> 0x%08lx", dos_trace_guid(&info->id),
                     dos_trace_guid(&info->notification_clsid), (unsigned long)hr);
    }
    return callback;
}

/*
 * IBackgroundCopyJob2::SetNotifyCmdLine: when no callback takes a JobTransferred or JobError
 * notice (none is registered, or it failed), the program runs instead, once, with the job
 * owner's rights (the caller's: dosvc runs in its process). Its parameters are its whole
 * command line, program name first, as BITS has it.
 */
static BOOL run_command_line(struct dos_job *job)
{
    WCHAR *program = NULL, *params = NULL;
    STARTUPINFOW startup;
    PROCESS_INFORMATION process;
    BOOL ran = FALSE;

    memset(&startup, 0, sizeof(startup));
    startup.cb = sizeof(startup);
    dos_job_copy_text(job, DOS_JOB_NOTIFY_PROGRAM, malloc, (dos_char **)&program);
    dos_job_copy_text(job, DOS_JOB_NOTIFY_PARAMS, malloc, (dos_char **)&params);
    if (program && *program
        && CreateProcessW(program, params && *params ? params : NULL, NULL, NULL, FALSE, DETACHED_PROCESS, NULL, NULL,
                          &startup, &process))
    {
        CloseHandle(process.hThread);
        CloseHandle(process.hProcess);
        ran = TRUE;
    }
    TRACE_NOTIFY("command line %s %s -> %s (%lu)", dos_trace_wstr((const dos_char *)program),
                 dos_trace_wstr((const dos_char *)params), ran ? "started" : "not started",
                 ran ? 0ul : (unsigned long)GetLastError());
    free(program);
    free(params);
    return ran;
}

/*
 * Calls the client for one notice; returns FALSE when JobError must be asked again: only of a
 * registered callback interface that was called and did not answer S_OK (spec 5.4).
 */
static BOOL deliver(struct notice *n)
{
    IBackgroundCopyCallback *callback = NULL;
    IBackgroundCopyCallback2 *callback2 = NULL;
    IBackgroundCopyJob *job = NULL;
    struct dos_job_info info;
    ULONG flags;
    BOOL taken = FALSE, registered, declined = FALSE;
    HRESULT hr;

    if (n->download)
    {
        deliver_download(n);
        return TRUE;
    }
    /* The flags may have changed since the notice was queued: they are read again. */
    dos_job_get_info(n->job, &info);
    flags = info.u32[DOS_JOB_NOTIFY_FLAGS];
    if ((flags & BG_NOTIFY_DISABLE_FLAG) || !(flags & flag_of(n->kind))) return TRUE;
    /* Only while the job is still in the state told: a later Suspend or Complete makes it stale. */
    if ((n->kind == DOS_EVENT_TRANSFERRED && info.state != DOS_STATE_TRANSFERRED)
        || (n->kind == DOS_EVENT_ERROR && info.state != DOS_STATE_ERROR))
        return TRUE;

    if ((callback = job_callback(n->job, &info, n->kind, &registered))
        && SUCCEEDED(job_view_create(n->job, notifier.errors, &IID_IBackgroundCopyJob, (void **)&job)))
    {
        switch (n->kind)
        {
        case DOS_EVENT_TRANSFERRED:
            hr = IBackgroundCopyCallback_JobTransferred(callback, job);
            TRACE_NOTIFY("job %s: JobTransferred(%p) -> 0x%08lx", dos_trace_guid(&info.id), (void *)callback,
                         (unsigned long)hr);
            taken = SUCCEEDED(hr);
            break;
        case DOS_EVENT_ERROR:
        {
            struct dos_error_record record;
            IBackgroundCopyError *error;

            if (dos_job_get_error(n->job, &record) != DOS_OK) break;
            if (FAILED(error_view_create(n->job, &record, notifier.errors, &error))) break;
            hr = IBackgroundCopyCallback_JobError(callback, job, error);
            TRACE_NOTIFY("job %s: JobError(%p, 0x%08lx) -> 0x%08lx", dos_trace_guid(&info.id), (void *)callback,
                         (unsigned long)record.code, (unsigned long)hr);
            taken = hr == S_OK;
            declined = registered && !taken;
            IBackgroundCopyError_Release(error);
            break;
        }
        case DOS_EVENT_MODIFIED:
            hr = IBackgroundCopyCallback_JobModification(callback, job, 0);
            TRACE_NOTIFY("job %s: JobModification(%p) -> 0x%08lx", dos_trace_guid(&info.id), (void *)callback,
                         (unsigned long)hr);
            break;
        case DOS_EVENT_FILE_TRANSFERRED:
        {
            IBackgroundCopyFile *file;
            if (SUCCEEDED(IBackgroundCopyCallback_QueryInterface(callback, &IID_IBackgroundCopyCallback2, (void **)&callback2))
                && SUCCEEDED(file_view_create(n->file, notifier.errors, &IID_IBackgroundCopyFile, (void **)&file)))
            {
                hr = IBackgroundCopyCallback2_FileTransferred(callback2, job, file);
                TRACE_NOTIFY("job %s: FileTransferred(%p, %p) -> 0x%08lx", dos_trace_guid(&info.id), (void *)callback2,
                             (void *)file, (unsigned long)hr);
                IBackgroundCopyFile_Release(file);
            }
            break;
        }
        default:
            break;
        }
    }
    if (callback) IBackgroundCopyCallback_Release(callback);
    if (callback2) IBackgroundCopyCallback2_Release(callback2);
    if (job) IBackgroundCopyJob_Release(job);
    if (n->kind != DOS_EVENT_TRANSFERRED && n->kind != DOS_EVENT_ERROR) return TRUE;
    /* A notice no callback took goes to the command line, if there is one, once. */
    if (!taken && !n->ran_command) n->ran_command = run_command_line(n->job);
    return !declined;
}

static DWORD WINAPI notifier_thread(void *param)
{
    HMODULE module = param;

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    AcquireSRWLockExclusive(&notifier.lock);
    while (!notifier.stopping)
    {
        ULONGLONG now = GetTickCount64(), next_due;
        struct notice *n = take_locked(now, &next_due);

        if (!n)
        {
            /* Nothing left to deliver: the thread ends, and the next notice starts another. */
            if (!next_due) break;
            SleepConditionVariableSRW(&notifier.wake, &notifier.lock, (DWORD)(next_due - now), 0);
            continue;
        }
        ReleaseSRWLockExclusive(&notifier.lock);
        if (!deliver(n))
        {
            n->due = GetTickCount64() + job_error_repeat_ms();    /* JobError again until S_OK */
            AcquireSRWLockExclusive(&notifier.lock);
            enqueue_locked(n);
            continue;
        }
        free_notice(n);
        AcquireSRWLockExclusive(&notifier.lock);
    }
    notifier.thread = FALSE;
    ReleaseSRWLockExclusive(&notifier.lock);
    CoUninitialize();
    /* The thread held the DLL while it ran, so that no unload could pull its code away. */
    FreeLibraryAndExitThread(module, 0);
}

void notifier_on_event(const struct error_map *errors, const struct dos_event *event)
{
    struct dos_download_status status;
    BOOL download = dos_job_is_download(event->job);
    uint64_t seq = 0;
    struct notice *n;
    HANDLE thread;
    BOOL queued = FALSE;

    /* A JobModification already waiting tells of this change too: nothing to make. */
    if (!download && event->kind == DOS_EVENT_MODIFIED)
    {
        AcquireSRWLockShared(&notifier.lock);
        queued = modification_queued(event->job);
        ReleaseSRWLockShared(&notifier.lock);
        if (queued) return;
    }
    if (download ? !dos_download_take_notification(event->job, GetTickCount64(), &status, &seq) : !wanted(event)) return;
    if (!(n = calloc(1, sizeof(*n)))) return;
    n->download = download;
    if (download) n->status = status, n->seq = seq;
    n->kind = event->kind;
    n->job = event->job;
    n->file = event->file;
    dos_job_retain(n->job);
    server_object_created();
    AcquireSRWLockExclusive(&notifier.lock);
    notifier.errors = errors;
    /* A thread runs while there are notices: an idle DLL has none. */
    if (!notifier.thread && !notifier.stopping)
    {
        HMODULE module;
        if (GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (const WCHAR *)notifier_thread, &module))
        {
            if ((thread = CreateThread(NULL, 0, notifier_thread, module, 0, NULL)))
            {
                CloseHandle(thread);
                notifier.thread = TRUE;
            }
            else FreeLibrary(module);
        }
    }
    if (notifier.stopping || !notifier.thread)
    {
        ReleaseSRWLockExclusive(&notifier.lock);
        free_notice(n);
        return;
    }
    enqueue_locked(n);
    WakeConditionVariable(&notifier.wake);
    ReleaseSRWLockExclusive(&notifier.lock);
}

void notifier_stop(void)
{
    struct notice *n;

    AcquireSRWLockExclusive(&notifier.lock);
    notifier.stopping = TRUE;
    while ((n = notifier.head))
    {
        notifier.head = n->next;
        free_notice(n);
    }
    while ((n = notifier.later))
    {
        notifier.later = n->next;
        free_notice(n);
    }
    notifier.tail = &notifier.head;
    notifier.later_tail = &notifier.later;
    table_free(&notifier.modified);
    WakeConditionVariable(&notifier.wake);
    ReleaseSRWLockExclusive(&notifier.lock);
    /* No thread runs at unload: each holds the DLL while it runs. */
}
