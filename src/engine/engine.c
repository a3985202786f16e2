/*
 * The scheduler and the workers. A runnable job waits in one of two queues;
 * foreground jobs start at once on a worker of their own, background jobs run
 * at most MAX_BACKGROUND at a time, oldest first. A worker moves one run of
 * one job: its files in order, retrying transient errors after the job's
 * minimum retry delay until the no-progress timeout turns them fatal. A
 * background job waiting to retry gives up its slot and queues for one again
 * when the delay is over. Nothing polls: workers block on the run's stop event
 * (and, while waiting to retry, on a wake event), and the store's events wake
 * the scheduler.
 *
 * Locking: engine->lock guards the queues and the list of active runs. It is
 * never held while calling the store, which may call back into the engine.
 */
#include "engine.h"

#include <stdlib.h>

#include "deliveryoptimizationerrors.h"
#include "names.h"
#include "http.h"
#include "transport.h"

#define MAX_BACKGROUND 2
#define FINISH_WAIT_MS 1000      /* how long Cancel and Complete wait for a stopped worker */

struct active
{
    struct active *next;
    struct dos_job *job;           /* retained */
    HANDLE thread;
    DWORD thread_id;
    HANDLE stop;                   /* manual-reset: the run was revoked */
    dos_run run;                   /* the run this worker moves, once started */
    HMODULE module;                /* the worker's reference to this DLL: it outlives any unload request */
    BOOL background;               /* holds one of the MAX_BACKGROUND slots */
    BOOL rerun;                    /* the job became runnable again while this worker ended */
    BOOL retrying;                 /* waiting out a transient error: the job's settings wake it */
    BOOL queued;                   /* retrying, its delay over, it waits in the queue for a slot */
    HANDLE wake;                   /* auto-reset: the job changed, or the queue let it go */
    struct engine *engine;
};

struct waiting
{
    struct waiting *next;
    struct dos_job *job;           /* retained */
    struct active *worker;         /* a retrying worker asking for a slot back, or NULL for a new run */
};

struct engine
{
    struct dos_store *store;
    SRWLOCK lock;
    struct waiting *background_head, **background_tail;
    struct active *active;
    unsigned background_running;
    BOOL stopping;
};

struct engine *engine_create(struct dos_store *store)
{
    struct engine *engine = calloc(1, sizeof(*engine));
    if (!engine) return NULL;
    InitializeSRWLock(&engine->lock);
    engine->background_tail = &engine->background_head;
    engine->store = store;
    dos_store_retain(store);
    return engine;
}

/* ---- the worker -------------------------------------------------------------- */

/*
 * Opens the temporary file, hidden, positioned where the bytes on disk end. The store
 * records the file as dosvc's before it is made, so a run stopped in between can never
 * leave a file that Cancel would not delete; its name ("DO<job id>-<index>.tmp")
 * belongs to this job alone.
 */
static HRESULT open_temp(struct transfer *t)
{
    struct dos_transfer_file *f = t->file;
    LARGE_INTEGER end, at;
    BOOL made;

    if (!f->temp_created && dos_file_mark_temp_created(f->file, t->run) != DOS_OK) return E_ABORT;
    t->temp = CreateFileW((const WCHAR *)f->temp_name, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL,
                          OPEN_ALWAYS, FILE_ATTRIBUTE_HIDDEN, NULL);
    if (t->temp == INVALID_HANDLE_VALUE) return HRESULT_FROM_WIN32(GetLastError());
    made = GetLastError() != ERROR_ALREADY_EXISTS;
    /* Cancelled while it was being made: Cancel may already have deleted the files, so this one goes too. */
    if (!dos_job_run_is_live(t->job, t->run))
    {
        CloseHandle(t->temp);
        t->temp = INVALID_HANDLE_VALUE;
        if (made) DeleteFileW((const WCHAR *)f->temp_name);
        return E_ABORT;
    }
    /* A download whose temporary file went away while it was paused fails, as with DoSvc
     * (clients.md 1.4), instead of starting over unasked. */
    if (made && f->transferred && dos_job_is_download(t->job))
    {
        CloseHandle(t->temp);
        t->temp = INVALID_HANDLE_VALUE;
        DeleteFileW((const WCHAR *)f->temp_name);
        return HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
    }
    /* What is on disk is what was recorded; a shorter file (lost writes) starts over, in the
     * store too, so that progress and the resume validator say so. */
    if (!GetFileSizeEx(t->temp, &end)) return HRESULT_FROM_WIN32(GetLastError());
    if ((uint64_t)end.QuadPart < f->transferred)
    {
        if (dos_file_restart(f->file, t->run) != DOS_OK) return E_ABORT;
        f->transferred = 0;
        free(f->validator);
        f->validator = NULL;
    }
    at.QuadPart = (LONGLONG)f->transferred;
    if (!SetFilePointerEx(t->temp, at, NULL, FILE_BEGIN) || !SetEndOfFile(t->temp))
        return HRESULT_FROM_WIN32(GetLastError());
    return S_OK;
}

static BOOL fetch(struct transfer *t)
{
    dos_remote_kind kind;
    HRESULT hr;

    /* A download with a stream sink has no temporary file: its bytes go to the stream. */
    if (!t->file->sink && FAILED(hr = open_temp(t))) return transfer_fail(t, hr, DOS_CONTEXT_NONE, FALSE);
    if (dos_check_remote_name(t->file->remote_name, &kind) != DOS_OK)
        return transfer_fail(t, E_INVALIDARG, DOS_CONTEXT_REMOTE_FILE, FALSE);
    if (kind == DOS_REMOTE_HTTP || kind == DOS_REMOTE_HTTPS) return transport_http_fetch(t);
    return transport_file_fetch(t);
}

/* The job's minimum retry delay, or longer when the server asked for more (503 Retry-After). */
static DWORD retry_delay_ms(const struct dos_job_info *info, const struct transfer *t)
{
    DWORD seconds = info->u32[DOS_JOB_RETRY_DELAY];
    if (t->retry_after > seconds) seconds = t->retry_after;
    return seconds > MAXDWORD / 1000 ? MAXDWORD - 1 : seconds * 1000;
}

/* ---- waiting to retry ---------------------------------------------------------- */

static struct active *take_background(struct engine *engine);
static void launch(struct engine *engine, struct active *a);

/* A worker that begins to wait out a transient error hands its background slot, if it has one, on. */
static void release_slot(struct active *a)
{
    struct engine *engine = a->engine;
    struct active *next = NULL;

    AcquireSRWLockExclusive(&engine->lock);
    a->retrying = TRUE;
    if (a->background)
    {
        a->background = FALSE;
        engine->background_running--;
        next = take_background(engine);
    }
    ReleaseSRWLockExclusive(&engine->lock);
    if (next) launch(engine, next);
}

/*
 * A retrying background worker whose delay is over joins the queue like any runnable job:
 * TRUE if that gave it a slot at once, FALSE if it waits (take_background or a promotion to
 * FOREGROUND lets it go and wakes it). S_OK, or E_OUTOFMEMORY with nothing queued.
 */
static HRESULT ask_for_slot(struct active *a, BOOL *granted)
{
    struct engine *engine = a->engine;
    struct waiting *w = malloc(sizeof(*w));
    struct active *next;

    if (!w) return E_OUTOFMEMORY;
    w->job = a->job;             /* borrowed: the worker's record holds it */
    w->worker = a;
    w->next = NULL;
    AcquireSRWLockExclusive(&engine->lock);
    *engine->background_tail = w;
    engine->background_tail = &w->next;
    a->queued = TRUE;
    next = take_background(engine);
    *granted = !a->queued;
    ReleaseSRWLockExclusive(&engine->lock);
    if (next) launch(engine, next);
    return S_OK;
}

static BOOL still_queued(struct active *a)
{
    BOOL queued;
    AcquireSRWLockShared(&a->engine->lock);
    queued = a->queued;
    ReleaseSRWLockShared(&a->engine->lock);
    return queued;
}

/* The worker waits no more: out of the queue if it is still there (a->background says whether
 * it has a slot now). */
static void stop_retrying(struct active *a)
{
    struct engine *engine = a->engine;
    struct waiting **link, *w = NULL;

    AcquireSRWLockExclusive(&engine->lock);
    if (a->queued)
    {
        for (link = &engine->background_head; (*link)->worker != a; link = &(*link)->next) {}
        w = *link;
        if (!(*link = w->next)) engine->background_tail = link;
    }
    a->queued = FALSE;
    a->retrying = FALSE;
    ReleaseSRWLockExclusive(&engine->lock);
    free(w);
}

/*
 * Waits out the transient error t failed with at failed_at (the job is in TRANSIENT_ERROR).
 * The retry comes no sooner than the job's minimum retry delay (or the server's Retry-After)
 * and, for a background job, once it has a slot again: meanwhile it holds none. The job's
 * settings are read again whenever it changes, and once no byte has arrived for its
 * no-progress timeout (a timeout set or shortened meanwhile counts at once) the error is
 * fatal (spec 5.1). TRUE: retry now; FALSE: the run has ended.
 */
static BOOL wait_to_retry(struct active *a, struct transfer *t, ULONGLONG failed_at, ULONGLONG last_progress)
{
    HANDLE events[2] = { a->stop, a->wake };
    struct dos_job_info info;
    BOOL asked = FALSE, ready = FALSE, stalled = FALSE;
    HRESULT failure = S_OK;

    release_slot(a);
    for (;;)
    {
        ULONGLONG now = GetTickCount64(), stall_at, retry_at, until;

        dos_job_get_info(t->job, &info);
        stall_at = last_progress + (ULONGLONG)info.u32[DOS_JOB_NO_PROGRESS_TIMEOUT] * 1000;
        retry_at = failed_at + retry_delay_ms(&info, t);
        if (now >= stall_at)
        {
            stalled = TRUE;
            break;
        }
        if (asked)
        {
            /* Made foreground meanwhile: it waits for no slot (stop_retrying leaves the queue). */
            if ((ready = !still_queued(a) || info.u32[DOS_JOB_PRIORITY] == DOS_PRIORITY_FOREGROUND)) break;
        }
        else if (now >= retry_at)
        {
            if ((ready = info.u32[DOS_JOB_PRIORITY] == DOS_PRIORITY_FOREGROUND)) break;
            if (FAILED(failure = ask_for_slot(a, &ready)) || ready) break;
            asked = TRUE;
        }
        until = asked || stall_at < retry_at ? stall_at : retry_at;
        if (WaitForMultipleObjects(2, events, FALSE, until - now >= MAXDWORD ? MAXDWORD - 1 : (DWORD)(until - now))
            == WAIT_OBJECT_0)
            break;   /* the run was revoked */
    }
    stop_retrying(a);
    if (stalled)
        dos_job_report_no_progress(t->job, t->run, DO_E_DOWNLOAD_NO_PROGRESS, t->error, t->context, t->file->file,
                                   (const dos_char *)t->protocol);
    else if (FAILED(failure))
        dos_job_report_error(t->job, t->run, false, failure, DOS_CONTEXT_NONE, NULL, NULL);
    return ready && dos_job_retry(t->job, t->run) == DOS_OK;
}

/* One run of one job: every file in order, with the retry and timeout policy. */
static void run_job(struct active *a)
{
    struct dos_job *job = a->job;
    struct dos_job_info info;
    ULONGLONG last_progress;
    int system_direct = -1;        /* the system's proxy configuration, asked once per run */
    dos_run run;

    if (dos_job_start_run(job, &run) != DOS_OK) return;   /* suspended or cancelled while waiting */
    AcquireSRWLockExclusive(&a->engine->lock);
    a->run = run;
    ReleaseSRWLockExclusive(&a->engine->lock);
    last_progress = GetTickCount64();
    for (;;)
    {
        struct dos_transfer_file file;
        struct transfer t = { .job = job, .run = run, .file = &file, .temp = INVALID_HANDLE_VALUE, .stop = a->stop,
                              .system_direct = &system_direct };
        dos_status s;
        BOOL ok;

        if ((s = dos_job_next_file(job, run, &file)) == DOS_E_NOT_SET)
        {
            dos_job_finish_run(job, run);
            return;
        }
        if (s == DOS_E_SINK_UNSPECIFIED)
            dos_job_report_error(job, run, false, DO_E_FILE_DOWNLOADSINK_UNSPECIFIED, DOS_CONTEXT_NONE, file.file, NULL);
        else if (s == DOS_E_OUT_OF_MEMORY)
            dos_job_report_error(job, run, true, E_OUTOFMEMORY, DOS_CONTEXT_NONE, NULL, NULL);
        if (s != DOS_OK) return;
        ok = fetch(&t);
        if (t.temp != INVALID_HANDLE_VALUE) CloseHandle(t.temp);
        if (t.progress_tick > last_progress) last_progress = t.progress_tick;
        if (!ok && t.error != E_ABORT && !transfer_stopped(&t))
        {
            dos_job_get_info(job, &info);
            /* No progress for the no-progress timeout makes a transient error fatal; 0 does so at once. */
            BOOL stalled = t.transient
                           && GetTickCount64() - last_progress >= (ULONGLONG)info.u32[DOS_JOB_NO_PROGRESS_TIMEOUT] * 1000;
            dos_status reported = stalled
                ? dos_job_report_no_progress(job, run, DO_E_DOWNLOAD_NO_PROGRESS, t.error, t.context, file.file,
                                             (const dos_char *)t.protocol)
                : dos_job_report_error(job, run, t.transient, t.error, t.context, file.file, (const dos_char *)t.protocol);
            if (reported != DOS_OK || stalled || !t.transient || !wait_to_retry(a, &t, GetTickCount64(), last_progress))
                t.error = E_ABORT;
        }
        dos_transfer_file_clear(&file);
        if (!ok && (t.error == E_ABORT || transfer_stopped(&t) || !dos_job_run_is_live(job, run)))
        {
            /* A live run must never be left behind: the job would stay TRANSFERRING for good. */
            if (dos_job_run_is_live(job, run))
                dos_job_report_error(job, run, false, E_UNEXPECTED, DOS_CONTEXT_NONE, NULL, NULL);
            return;
        }
    }
}

static void finish_worker(struct active *a);

static DWORD WINAPI worker(void *param)
{
    struct active *a = param;
    HMODULE module = a->module;

    run_job(a);
    finish_worker(a);
    /* The last thing this DLL's code does on this thread: let the DLL go. */
    FreeLibraryAndExitThread(module, 0);
}

/* ---- the scheduler ------------------------------------------------------------
 * A job is in at most one place: waiting in the background queue, or active with a
 * worker. Both are decided under engine->lock in the same critical section as the
 * check, so one job never has two workers (a second one would find the temporary
 * file still held by the first).
 */

static struct active *find_active(struct engine *engine, struct dos_job *job)
{
    struct active *a;
    for (a = engine->active; a; a = a->next)
        if (a->job == job) return a;
    return NULL;
}

/* A new active record for job (whose reference it takes over), linked in; lock held. */
static struct active *activate(struct engine *engine, struct dos_job *job, BOOL background)
{
    struct active *a = calloc(1, sizeof(*a));

    if (!a) return NULL;
    if (!(a->stop = CreateEventW(NULL, TRUE, FALSE, NULL)) || !(a->wake = CreateEventW(NULL, FALSE, FALSE, NULL)))
    {
        if (a->stop) CloseHandle(a->stop);
        free(a);
        return NULL;
    }
    a->job = job;
    a->engine = engine;
    a->background = background;
    a->next = engine->active;
    engine->active = a;
    if (background) engine->background_running++;
    return a;
}

/*
 * Gives the free slots to the oldest waiting jobs; lock held. A retrying worker is woken with
 * its slot; a job waiting for its first worker is activated and returned, for the caller to
 * launch (one at most).
 */
static struct active *take_background(struct engine *engine)
{
    struct waiting *w;
    struct active *a = NULL;

    while (!a && (w = engine->background_head) && engine->background_running < MAX_BACKGROUND && !engine->stopping)
    {
        if (w->worker)
        {
            w->worker->queued = FALSE;
            w->worker->background = TRUE;
            engine->background_running++;
            SetEvent(w->worker->wake);
        }
        else if (!(a = activate(engine, w->job, TRUE))) return NULL;
        if (!(engine->background_head = w->next)) engine->background_tail = &engine->background_head;
        free(w);
    }
    return a;
}

static void unlink_active(struct engine *engine, struct active *a)
{
    struct active **link;
    for (link = &engine->active; *link != a; link = &(*link)->next) {}
    *link = a->next;
    if (a->background) engine->background_running--;
}

static void free_active(struct active *a)
{
    dos_job_release(a->job);
    CloseHandle(a->stop);
    CloseHandle(a->wake);
    if (a->thread) CloseHandle(a->thread);
    free(a);
}

/* Starts the worker thread of an activated record; without a thread the job stays QUEUED. */
static void launch(struct engine *engine, struct active *a)
{
    HANDLE thread;

    /* The worker holds the DLL while it runs, so that no unload can pull its code away. */
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (const WCHAR *)worker, &a->module))
        a->module = NULL;
    /* Created suspended so that the record holds its handle before the thread can end. */
    if (a->module && (thread = CreateThread(NULL, 0, worker, a, CREATE_SUSPENDED, &a->thread_id)))
    {
        AcquireSRWLockExclusive(&engine->lock);
        a->thread = thread;
        ReleaseSRWLockExclusive(&engine->lock);
        ResumeThread(thread);
        return;
    }
    if (a->module) FreeLibrary(a->module);
    AcquireSRWLockExclusive(&engine->lock);
    unlink_active(engine, a);
    ReleaseSRWLockExclusive(&engine->lock);
    free_active(a);
}

static void schedule(struct engine *engine, struct dos_job *job)
{
    struct active *a = NULL;
    struct dos_job_info info;
    struct waiting *w, *queued;

    dos_job_get_info(job, &info);
    if (!(w = malloc(sizeof(*w)))) return;
    AcquireSRWLockExclusive(&engine->lock);
    if (engine->stopping) goto done;
    if ((a = find_active(engine, job)))
    {
        a->rerun = TRUE;       /* its worker is still ending: it runs the job again when it has */
        a = NULL;
        goto done;
    }
    for (queued = engine->background_head; queued; queued = queued->next)
        if (queued->job == job) goto done;
    dos_job_retain(job);
    if (info.u32[DOS_JOB_PRIORITY] == DOS_PRIORITY_FOREGROUND)
    {
        /* A foreground job never waits behind background jobs. */
        if (!(a = activate(engine, job, FALSE))) dos_job_release(job);
    }
    else
    {
        w->job = job;
        w->worker = NULL;
        w->next = NULL;
        *engine->background_tail = w;
        engine->background_tail = &w->next;
        w = NULL;
        a = take_background(engine);
    }
done:
    ReleaseSRWLockExclusive(&engine->lock);
    free(w);
    if (a) launch(engine, a);
}

/*
 * A job made FOREGROUND while it waits for a background slot starts at once (a retrying
 * worker waiting for one is let go); one made FOREGROUND while it runs in a background slot
 * gives the slot to the next waiting job. (A job made background while it runs goes on:
 * nothing is stopped for a priority.) A worker waiting to retry is woken, whatever changed:
 * it reads its delay and no-progress timeout again.
 */
static void job_modified(struct engine *engine, struct dos_job *job)
{
    struct active *a, *started = NULL, *next = NULL;
    struct waiting **link, *w = NULL;
    struct dos_job_info info;
    BOOL concerned = FALSE;

    /* Progress makes MODIFIED events too: most are about jobs this need not look at. */
    AcquireSRWLockShared(&engine->lock);
    if ((a = find_active(engine, job)))
    {
        if (a->retrying) SetEvent(a->wake);
        concerned = a->background || a->queued;
    }
    for (link = &engine->background_head; *link && !concerned; link = &(*link)->next) concerned = (*link)->job == job;
    ReleaseSRWLockShared(&engine->lock);
    if (!concerned) return;
    dos_job_get_info(job, &info);
    if (info.u32[DOS_JOB_PRIORITY] != DOS_PRIORITY_FOREGROUND) return;

    AcquireSRWLockExclusive(&engine->lock);
    for (link = &engine->background_head; *link && (*link)->job != job; link = &(*link)->next) {}
    if ((w = *link) && w->worker)
    {
        /* It retries now, with no slot. */
        w->worker->queued = FALSE;
        SetEvent(w->worker->wake);
        if (!(*link = w->next)) engine->background_tail = link;
    }
    else if (w)
    {
        /* The waiting entry's reference to the job passes to the active record. */
        if (engine->stopping || !(started = activate(engine, job, FALSE))) w = NULL;
        else if (!(*link = w->next)) engine->background_tail = link;
    }
    else if ((a = find_active(engine, job)) && a->background)
    {
        a->background = FALSE;
        engine->background_running--;
        next = take_background(engine);
    }
    ReleaseSRWLockExclusive(&engine->lock);
    free(w);
    if (started) launch(engine, started);
    if (next) launch(engine, next);
}

static void finish_worker(struct active *a)
{
    struct engine *engine = a->engine;
    struct active *next;
    BOOL rerun;

    AcquireSRWLockExclusive(&engine->lock);
    unlink_active(engine, a);
    rerun = a->rerun;
    next = take_background(engine);
    ReleaseSRWLockExclusive(&engine->lock);

    /* Resumed while this worker was still letting go of its files: run it again now. */
    if (rerun) schedule(engine, a->job);
    free_active(a);
    if (next) launch(engine, next);
}

/* Wakes the worker of the run that was revoked: a later run of the job is not its business. */
static void stop_run(struct engine *engine, struct dos_job *job, dos_run run)
{
    struct active *a;
    AcquireSRWLockShared(&engine->lock);
    if ((a = find_active(engine, job)) && a->run == run) SetEvent(a->stop);
    ReleaseSRWLockShared(&engine->lock);
}

void engine_on_event(struct engine *engine, const struct dos_event *event)
{
    switch (event->kind)
    {
    case DOS_EVENT_RUNNABLE:
        schedule(engine, event->job);
        break;
    case DOS_EVENT_STOPPED:
        stop_run(engine, event->job, event->run);
        break;
    case DOS_EVENT_MODIFIED:
        job_modified(engine, event->job);
        break;
    default:
        break;
    }
}

/* Waits until no worker runs job (unless the caller is that worker), or timeout_ms passes. */
static void wait_for_worker(struct engine *engine, struct dos_job *job, DWORD timeout_ms)
{
    ULONGLONG start = GetTickCount64();

    for (;;)
    {
        HANDLE thread = NULL;
        struct active *a;

        BOOL launching = FALSE;

        AcquireSRWLockShared(&engine->lock);
        if ((a = find_active(engine, job)) && a->thread_id != GetCurrentThreadId())
        {
            /* Between activation and launch the record has no thread yet, for an instant. */
            if (!(launching = !a->thread))
                DuplicateHandle(GetCurrentProcess(), a->thread, GetCurrentProcess(), &thread, SYNCHRONIZE, FALSE, 0);
        }
        ReleaseSRWLockShared(&engine->lock);
        if (launching)
        {
            Sleep(1);
            continue;
        }
        if (!thread) return;
        if (timeout_ms == INFINITE) WaitForSingleObject(thread, INFINITE);
        else
        {
            ULONGLONG spent = GetTickCount64() - start;
            DWORD result = WaitForSingleObject(thread, spent >= timeout_ms ? 0 : (DWORD)(timeout_ms - spent));
            if (result == WAIT_TIMEOUT)
            {
                CloseHandle(thread);
                return;
            }
        }
        CloseHandle(thread);
    }
}

/* ---- finishing jobs -------------------------------------------------------------- */

/* Moves a finished temporary file onto its final name, replacing what is there. */
static HRESULT keep_file(const WCHAR *temp, const WCHAR *local)
{
    if (!MoveFileExW(temp, local, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
        return HRESULT_FROM_WIN32(GetLastError());
    SetFileAttributesW(local, FILE_ATTRIBUTE_NORMAL);
    return S_OK;
}

static HRESULT delete_temp(const WCHAR *temp)
{
    /* Marked created before it is made: a file, or even its folder, may never have existed. */
    if (DeleteFileW(temp) || GetLastError() == ERROR_FILE_NOT_FOUND || GetLastError() == ERROR_PATH_NOT_FOUND)
        return S_OK;
    return HRESULT_FROM_WIN32(GetLastError());
}

/* A finished download's stream takes nothing more, even from a worker that is still ending. */
static void close_sink(struct dos_job *job)
{
    struct dos_sink *sink = dos_job_get_sink(job);

    if (!sink) return;
    sink->close(sink);
    dos_ref_release(&sink->ref);
}

dos_status engine_finish_job(struct engine *engine, struct dos_job *job, dos_job_state final_state,
                             HRESULT *rename_error, BOOL *delete_failed)
{
    struct dos_file **files = NULL;
    bool *kept = NULL;
    size_t count = 0, i;
    dos_status s;

    *rename_error = S_OK;
    *delete_failed = FALSE;
    /* An IDO download has its own rules for Finalize and Abort (docs/ido.md). */
    s = dos_job_is_download(job) ? dos_download_begin_finish(job, final_state) : dos_job_begin_finish(job);
    if (s != DOS_OK) return s;
    /*
     * The stopped worker lets go at once, unless it is blocked in a network read that closing
     * its request does not end (Wine's WinINet). It is not waited for beyond a moment: it
     * writes nothing more (its run is revoked), finished files are not the one it holds, and
     * its temporary file can be deleted while open (FILE_SHARE_DELETE).
     */
    wait_for_worker(engine, job, FINISH_WAIT_MS);

    /* The job is frozen now: its files and their progress no longer change. Without memory to
     * go through them, nothing is finished: the job is handed back, stopped, to try again. */
    if (dos_job_list_files(job, &files, &count) != DOS_OK || !(kept = calloc(count ? count : 1, sizeof(*kept))))
    {
        free(files);
        dos_job_abort_finish(job, NULL);
        return DOS_E_OUT_OF_MEMORY;
    }
    /* First every move, so that nothing is deleted for a Complete that gives the job back. */
    for (i = 0; final_state == DOS_STATE_ACKNOWLEDGED && i < count; i++)
    {
        struct dos_file_info info;
        WCHAR *temp = NULL, *local = NULL;
        HRESULT hr;

        dos_file_get_info(files[i], &info);
        /* Moved by an earlier Complete whose other moves failed: it is the user's file now. */
        if (info.completed)
        {
            kept[i] = true;
            continue;
        }
        if (info.bytes_total == DOS_SIZE_UNKNOWN || info.bytes_transferred != info.bytes_total || !info.temp_created)
            continue;
        dos_file_copy_text(files[i], DOS_FILE_TEMP_NAME, malloc, (dos_char **)&temp);
        dos_file_copy_text(files[i], DOS_FILE_LOCAL_NAME, malloc, (dos_char **)&local);
        /* Out of memory (or no destination), the file is neither moved nor deleted. */
        if (temp && local)
        {
            /* A file that cannot be moved keeps its bytes for the next Complete (or Cancel). */
            hr = keep_file(temp, local);
            if (FAILED(hr) && SUCCEEDED(*rename_error)) *rename_error = hr;
            kept[i] = SUCCEEDED(hr);
        }
        free(temp);
        free(local);
    }
    /*
     * Spec 5.2: when a move failed, the job stays (TRANSFERRED, or SUSPENDED if it was still
     * running) with what did move marked completed, until Complete is called again or Cancel;
     * an IDO download stays Transferred, to Finalize again (docs/ido.md).
     */
    if (FAILED(*rename_error))
    {
        dos_job_abort_finish(job, kept);
        free(kept);
        free(files);
        return DOS_OK;
    }
    /* Then the temporary files of what was not kept; only what dosvc created is ever deleted. */
    for (i = 0; i < count; i++)
    {
        struct dos_file_info info;
        WCHAR *temp = NULL;

        dos_file_get_info(files[i], &info);
        if (kept[i] || !info.temp_created) continue;
        dos_file_copy_text(files[i], DOS_FILE_TEMP_NAME, malloc, (dos_char **)&temp);
        if (temp && FAILED(delete_temp(temp))) *delete_failed = TRUE;
        free(temp);
    }
    close_sink(job);
    s = dos_job_end_finish(job, final_state, kept);
    free(kept);
    free(files);
    return s;
}

void engine_destroy(struct engine *engine)
{
    struct waiting *w;

    /* Every worker holds a reference to the DLL, so none runs when it is unloaded. */
    AcquireSRWLockExclusive(&engine->lock);
    engine->stopping = TRUE;
    while ((w = engine->background_head))
    {
        engine->background_head = w->next;
        dos_job_release(w->job);
        free(w);
    }
    ReleaseSRWLockExclusive(&engine->lock);
    http_socket_shutdown();
    dos_store_release(engine->store);
    free(engine);
}

BOOL engine_idle(struct engine *engine)
{
    BOOL idle;
    AcquireSRWLockShared(&engine->lock);
    idle = !engine->active;
    ReleaseSRWLockShared(&engine->lock);
    return idle;
}
