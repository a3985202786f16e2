/*
 * The scheduler, the workers and the timer. The engine keeps one record per job it
 * handles, found by the job in a hash table. A runnable job takes a slot of its class
 * (at most MAX_FOREGROUND foreground and MAX_BACKGROUND background jobs move at once,
 * so a foreground job never waits behind background ones) or waits in its class's
 * queue, oldest first. A worker thread moves one run of one job: its files in order.
 * A transient error parks the run: the worker gives up its slot and its thread, and the
 * record waits on the engine's one timer, ordered by when it is due (its retry delay
 * over, or its no-progress timeout reached). So however many jobs wait, they hold no
 * thread, and the number of threads is bounded whatever the number of jobs. Nothing
 * polls: workers block on the run's stop event, the timer on its wake event, and the
 * store's events wake the scheduler.
 *
 * The timer is not a thread of its own making: the worker that parks the first waiting
 * run becomes the timer and stays it while any run waits, so a wait never needs a thread
 * to be created (nor can it fail for want of one).
 *
 * Locking: engine->lock guards the records, the queues, the timer's heap and the slot
 * counts. It is never held while calling the store, which may call back into the engine.
 */
#include "engine.h"

#include <stdlib.h>

#include "deliveryoptimizationerrors.h"
#include "names.h"
#include "http.h"
#include "table.h"
#include "trace.h"
#include "transport.h"

#define MAX_FOREGROUND 6
#define MAX_BACKGROUND 2
#define FINISH_WAIT_MS 1000      /* how long Cancel and Complete wait for a stopped worker */

enum slot_class { FOREGROUND, BACKGROUND, CLASSES };

enum place
{
    PLACE_QUEUED,                  /* in its class's queue, for a slot */
    PLACE_RUNNING,                 /* holds a slot; a worker moves it (or is being started to) */
    PLACE_WAITING                  /* a parked run, due on the timer's heap: no slot, no thread */
};

struct record
{
    struct record *prev, *next;    /* in its queue; next also chains records to launch */
    struct dos_job *job;           /* retained */
    uint64_t hash;
    struct engine *engine;
    enum place place;
    enum slot_class class;         /* QUEUED: its queue; RUNNING: the slot it holds */
    dos_run run;                   /* the run being moved; 0 until its first start */
    HANDLE thread;                 /* RUNNING, once its worker is created */
    DWORD thread_id;
    HMODULE module;                /* the worker's reference to this DLL: it outlives any unload request */
    HANDLE stop;                   /* manual-reset: the run was revoked; made at the first launch,
                                      before the run has begun (a queued job costs no kernel object) */
    BOOL rerun;                    /* the job became runnable again while its run was ending */
    /*
     * A parked run: when it failed, the last progress, what the server asked for, when it is
     * due. It is on the heap while WAITING, and also while QUEUED for a slot to retry in (due
     * at its no-progress timeout then), unless the timer has taken it off to look at it
     * (checking): then nobody else frees it or gives it a slot.
     */
    ULONGLONG failed_at, last_progress, due;
    DWORD retry_after;
    size_t heap_at;
    BOOL on_heap, checking;
    volatile LONG changes;         /* MODIFIED events seen: settings read before one may be stale */
};

struct queue
{
    struct record *head, *tail;
};

struct engine
{
    struct dos_store *store;
    SRWLOCK lock;
    struct table records;          /* every record, by job */
    struct queue queues[CLASSES];
    unsigned running[CLASSES];     /* slots taken */
    struct record **heap;          /* parked runs, a binary heap by due time */
    size_t heap_count, heap_size;
    HANDLE timer_wake;             /* auto-reset: the heap's head changed */
    BOOL timer_running;            /* some worker is the timer */
    unsigned threads;              /* workers and the timer not yet gone: the DLL's code is in use */
    BOOL stopping;
};

static const unsigned max_running[CLASSES] = { MAX_FOREGROUND, MAX_BACKGROUND };

struct engine *engine_create(struct dos_store *store)
{
    struct engine *engine = calloc(1, sizeof(*engine));
    if (!engine) return NULL;
    if (!(engine->timer_wake = CreateEventW(NULL, FALSE, FALSE, NULL)))
    {
        free(engine);
        return NULL;
    }
    InitializeSRWLock(&engine->lock);
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
static DWORD retry_delay_ms(const struct dos_job_info *info, DWORD retry_after)
{
    DWORD seconds = info->u32[DOS_JOB_RETRY_DELAY];
    if (retry_after > seconds) seconds = retry_after;
    return seconds > MAXDWORD / 1000 ? MAXDWORD - 1 : seconds * 1000;
}

static ULONGLONG stall_at(const struct record *r, const struct dos_job_info *info)
{
    return r->last_progress + (ULONGLONG)info->u32[DOS_JOB_NO_PROGRESS_TIMEOUT] * 1000;
}

static enum slot_class class_of(const struct dos_job_info *info)
{
    return info->u32[DOS_JOB_PRIORITY] == DOS_PRIORITY_FOREGROUND ? FOREGROUND : BACKGROUND;
}

/* ---- records, queues and the timer's heap (lock held) -------------------------- */

static bool record_is(const void *item, const void *key)
{
    return ((const struct record *)item)->job == key;
}

static uint64_t job_hash(const struct dos_job *job)
{
    return table_hash(&job, sizeof(job));
}

static struct record *find_record(struct engine *engine, struct dos_job *job)
{
    return table_find(&engine->records, job_hash(job), record_is, job);
}

/* A record for job (retained), in the table but nowhere else yet; NULL without memory. */
static struct record *new_record(struct engine *engine, struct dos_job *job)
{
    struct record *r;

    if (!table_reserve(&engine->records, 1) || !(r = calloc(1, sizeof(*r)))) return NULL;
    dos_job_retain(job);
    r->job = job;
    r->engine = engine;
    r->hash = job_hash(job);
    table_insert(&engine->records, r->hash, r);
    return r;
}

/* Out of the table; the caller frees it, outside the lock. */
static void forget_record(struct engine *engine, struct record *r)
{
    table_remove(&engine->records, r->hash, r);
}

static void free_record(struct record *r)
{
    dos_job_release(r->job);
    if (r->stop) CloseHandle(r->stop);
    if (r->thread) CloseHandle(r->thread);
    free(r);
}

static void enqueue(struct engine *engine, struct record *r, enum slot_class class)
{
    struct queue *q = &engine->queues[class];

    r->place = PLACE_QUEUED;
    r->class = class;
    r->next = NULL;
    r->prev = q->tail;
    if (q->tail) q->tail->next = r;
    else q->head = r;
    q->tail = r;
}

static void dequeue(struct engine *engine, struct record *r)
{
    struct queue *q = &engine->queues[r->class];

    if (r->prev) r->prev->next = r->next;
    else q->head = r->next;
    if (r->next) r->next->prev = r->prev;
    else q->tail = r->prev;
    r->prev = r->next = NULL;
}

static void heap_swap(struct record **heap, size_t i, size_t j)
{
    struct record *r = heap[i];
    heap[i] = heap[j];
    heap[j] = r;
    heap[i]->heap_at = i;
    heap[j]->heap_at = j;
}

static void heap_up(struct record **heap, size_t i)
{
    while (i && heap[(i - 1) / 2]->due > heap[i]->due)
    {
        heap_swap(heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(struct record **heap, size_t count, size_t i)
{
    for (;;)
    {
        size_t least = i, child = 2 * i + 1;
        if (child < count && heap[child]->due < heap[least]->due) least = child;
        if (child + 1 < count && heap[child + 1]->due < heap[least]->due) least = child + 1;
        if (least == i) return;
        heap_swap(heap, i, least);
        i = least;
    }
}

/* Room for one more parked run, and for the one the timer may hold off the heap to put back;
 * FALSE without memory. */
static BOOL heap_reserve(struct engine *engine)
{
    struct record **heap;
    size_t size;

    if (engine->heap_count + 1 < engine->heap_size) return TRUE;
    size = engine->heap_size ? engine->heap_size * 2 : 16;
    if (!(heap = realloc(engine->heap, size * sizeof(*heap)))) return FALSE;
    engine->heap = heap;
    engine->heap_size = size;
    return TRUE;
}

/* Puts r on the heap, due at r->due (room was reserved, or r came off it), and wakes the timer
 * if r is now first. */
static void heap_push(struct engine *engine, struct record *r)
{
    r->on_heap = TRUE;
    r->heap_at = engine->heap_count++;
    engine->heap[r->heap_at] = r;
    heap_up(engine->heap, r->heap_at);
    if (!r->heap_at) SetEvent(engine->timer_wake);
}

/* Takes r off the heap; the timer looks at the heap again when r was first (it may be the last). */
static void heap_remove(struct engine *engine, struct record *r)
{
    size_t i = r->heap_at;

    r->on_heap = FALSE;
    if (!i) SetEvent(engine->timer_wake);

    if (i != --engine->heap_count)
    {
        struct record *moved = engine->heap[engine->heap_count];

        heap_swap(engine->heap, i, engine->heap_count);
        heap_up(engine->heap, i);
        heap_down(engine->heap, engine->heap_count, moved->heap_at);
    }
}

/* Out of its queue and off the heap, wherever it is of the two. */
static void take_out(struct engine *engine, struct record *r)
{
    if (r->place == PLACE_QUEUED) dequeue(engine, r);
    if (r->on_heap) heap_remove(engine, r);
}

/* The slot r takes now (or has taken, when it is promoted). */
static void take_slot(struct engine *engine, struct record *r, enum slot_class class)
{
    r->place = PLACE_RUNNING;
    r->class = class;
    r->next = NULL;
    engine->running[class]++;
    engine->threads++;           /* its worker, from now until the worker is gone */
}

/*
 * Gives the free slots of class to the oldest queued jobs; returns them chained by next,
 * for the caller to launch once it has let the lock go.
 */
static struct record *take_queued(struct engine *engine, enum slot_class class, struct record *chain)
{
    struct record *r = engine->queues[class].head;

    while (!engine->stopping && engine->running[class] < max_running[class] && r)
    {
        struct record *taken = r;

        r = r->next;
        /* The one the timer is looking at waits for the next slot: its worker could free it under the timer. */
        if (taken->checking) continue;
        take_out(engine, taken);
        take_slot(engine, taken, class);
        taken->next = chain;
        chain = taken;
    }
    return chain;
}

/* A record that is neither running nor held by the timer goes; the caller frees it. */
static void drop(struct engine *engine, struct record *r)
{
    take_out(engine, r);
    forget_record(engine, r);
}

/* ---- one run ------------------------------------------------------------------- */

enum run_end
{
    RUN_ENDED,                     /* the run is over, or was never started */
    RUN_PARKED                     /* a transient error: the run waits on the timer */
};

/*
 * One stretch of one run of a job: its next files in order, until every one is on disk,
 * a fatal error, a stop, or a transient error, which parks the run (r->failed_at and its
 * friends say when it may go on). A record that has a run goes on with it (a retry).
 */
static enum run_end run_job(struct record *r)
{
    struct dos_job *job = r->job;
    struct dos_job_info info;
    int system_direct = -1;        /* the system's proxy configuration, asked once per stretch */
    dos_run run = r->run;

    dos_job_get_info(job, &info);
    if (!run)
    {
        if (dos_job_start_run(job, &run) != DOS_OK) return RUN_ENDED;   /* suspended or cancelled while waiting */
        AcquireSRWLockExclusive(&r->engine->lock);
        r->run = run;            /* rerun stays: a RUNNABLE may have come after a stop this run missed */
        ReleaseSRWLockExclusive(&r->engine->lock);
        /* A STOPPED for this run that came before r->run was set found no run to stop. */
        if (!dos_job_run_is_live(job, run)) SetEvent(r->stop);
        r->last_progress = GetTickCount64();
        TRACE_ENGINE("job %s: run %llu starts: %u files, %s, priority %u", dos_trace_guid(&info.id),
                     (unsigned long long)run, info.files_total, info.u32[DOS_JOB_PRIORITY] ? "background" : "foreground",
                     info.u32[DOS_JOB_PRIORITY]);
    }
    else
    {
        if (dos_job_retry(job, run) != DOS_OK) return RUN_ENDED;
        TRACE_ENGINE("job %s: run %llu retries, %llu ms after the error", dos_trace_guid(&info.id),
                     (unsigned long long)run, (unsigned long long)(GetTickCount64() - r->failed_at));
    }
    for (;;)
    {
        struct dos_transfer_file file;
        struct transfer t = { .job = job, .run = run, .file = &file, .temp = INVALID_HANDLE_VALUE, .stop = r->stop,
                              .system_direct = &system_direct };
        enum run_end end = RUN_ENDED;
        dos_status s;
        BOOL ok;

        if ((s = dos_job_next_file(job, run, &file)) == DOS_E_NOT_SET)
        {
            /* Traced first: the job is TRANSFERRED for everyone the moment the call has made it so. */
            TRACE_ENGINE("job %s: run %llu finished: every file is on disk", dos_trace_guid(&info.id),
                         (unsigned long long)run);
            if (dos_job_finish_run(job, run) != DOS_OK)
                TRACE_ENGINE("job %s: run %llu was revoked as it finished", dos_trace_guid(&info.id),
                             (unsigned long long)run);
            return RUN_ENDED;
        }
        if (s == DOS_E_SINK_UNSPECIFIED)
            dos_job_report_error(job, run, false, DO_E_FILE_DOWNLOADSINK_UNSPECIFIED, DOS_CONTEXT_NONE, file.file, NULL);
        else if (s == DOS_E_OUT_OF_MEMORY && GetTickCount64() >= stall_at(r, &info))
            dos_job_report_no_progress(job, run, DO_E_DOWNLOAD_NO_PROGRESS, E_OUTOFMEMORY, DOS_CONTEXT_NONE, NULL, NULL);
        else if (s == DOS_E_OUT_OF_MEMORY
                 && dos_job_report_error(job, run, true, E_OUTOFMEMORY, DOS_CONTEXT_NONE, NULL, NULL) == DOS_OK)
        {
            /* Transient: the run waits its retry delay like any other. */
            r->failed_at = GetTickCount64();
            r->retry_after = 0;
            r->due = r->failed_at + retry_delay_ms(&info, 0);
            return RUN_PARKED;
        }
        if (s != DOS_OK) return RUN_ENDED;
        TRACE_ENGINE("job %s: file %u: %s, %llu bytes on disk", dos_trace_guid(&info.id), file.index,
                     dos_trace_wstr(file.remote_name), (unsigned long long)file.transferred);
        ok = fetch(&t);
        if (t.temp != INVALID_HANDLE_VALUE) CloseHandle(t.temp);
        if (t.progress_tick > r->last_progress) r->last_progress = t.progress_tick;
        if (!ok && t.error != E_ABORT && !transfer_stopped(&t))
        {
            ULONGLONG now = GetTickCount64();
            BOOL stalled;
            dos_status reported;

            dos_job_get_info(job, &info);
            /* No progress for the no-progress timeout makes a transient error fatal; 0 does so at once. */
            stalled = t.transient && now >= stall_at(r, &info);
            reported = stalled
                ? dos_job_report_no_progress(job, run, DO_E_DOWNLOAD_NO_PROGRESS, t.error, t.context, file.file,
                                             (const dos_char *)t.protocol)
                : dos_job_report_error(job, run, t.transient, t.error, t.context, file.file, (const dos_char *)t.protocol);
            if (reported == DOS_OK && t.transient && !stalled)
            {
                r->failed_at = now;
                r->retry_after = t.retry_after;
                r->due = now + retry_delay_ms(&info, t.retry_after);   /* the worker's hint: retry at once? */
                TRACE_ENGINE("job %s: file %u: 0x%08lx is transient: retry in %lu ms, fatal after %llu ms more "
                             "without progress", dos_trace_guid(&info.id), file.index, (unsigned long)t.error,
                             (unsigned long)retry_delay_ms(&info, t.retry_after),
                             (unsigned long long)(stall_at(r, &info) - now));
                end = RUN_PARKED;
            }
            else
            {
                if (stalled)
                    TRACE_ENGINE("job %s: file %u: 0x%08lx after %u s without progress: fatal", dos_trace_guid(&info.id),
                                 file.index, (unsigned long)t.error, info.u32[DOS_JOB_NO_PROGRESS_TIMEOUT]);
                t.error = E_ABORT;
            }
        }
        dos_transfer_file_clear(&file);
        if (end == RUN_PARKED) return RUN_PARKED;
        if (!ok && (t.error == E_ABORT || transfer_stopped(&t) || !dos_job_run_is_live(job, run)))
        {
            /* A live run must never be left behind: the job would stay TRANSFERRING for good. */
            if (dos_job_run_is_live(job, run))
                dos_job_report_error(job, run, false, E_UNEXPECTED, DOS_CONTEXT_NONE, NULL, NULL);
            TRACE_ENGINE("job %s: run %llu ended", dos_trace_guid(&info.id), (unsigned long long)run);
            return RUN_ENDED;
        }
    }
}

/* ---- the scheduler ------------------------------------------------------------
 * A job has at most one record, and is in one place: queued, running, or parked. Each
 * place is decided under engine->lock in the same critical section as the check, so one
 * job never has two workers (a second one would find the temporary file still held by
 * the first).
 */

static DWORD WINAPI worker(void *param);
static void schedule(struct engine *engine, struct dos_job *job);

/*
 * Starts the workers of the records chained by next (each holds its slot). A record whose
 * thread cannot be made gives its slot back: a job that was waiting for its first run goes
 * back to the head of its queue, to start at the next slot set free; a parked run fails (it
 * would stay TRANSIENT_ERROR for good). The slot is not passed on at once: when threads cannot
 * be made, the next job would fail alike.
 */
static void launch(struct engine *engine, struct record *chain)
{
    while (chain)
    {
        struct record *r = chain;
        HANDLE thread = NULL;
        DWORD error;

        chain = r->next;
        /* The worker holds the DLL while it runs, so that no unload can pull its code away. */
        if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (const WCHAR *)worker, &r->module))
            r->module = NULL;
        if (r->module && !r->stop) r->stop = CreateEventW(NULL, TRUE, FALSE, NULL);
        /* Created suspended so that the record holds its handle before the thread can end. */
        if (r->module && r->stop && (thread = CreateThread(NULL, 0, worker, r, CREATE_SUSPENDED, &r->thread_id)))
        {
            AcquireSRWLockExclusive(&engine->lock);
            r->thread = thread;
            ReleaseSRWLockExclusive(&engine->lock);
            ResumeThread(thread);
            continue;
        }
        error = GetLastError();
        if (r->module) FreeLibrary(r->module);
        AcquireSRWLockExclusive(&engine->lock);
        engine->running[r->class]--;
        engine->threads--;
        if (r->run) forget_record(engine, r);
        else
        {
            struct queue *q = &engine->queues[r->class];

            r->place = PLACE_QUEUED;
            r->prev = NULL;
            if ((r->next = q->head)) q->head->prev = r;
            else q->tail = r;
            q->head = r;
        }
        ReleaseSRWLockExclusive(&engine->lock);
        if (!r->run) continue;
        dos_job_report_error(r->job, r->run, false, HRESULT_FROM_WIN32(error ? error : ERROR_OUTOFMEMORY),
                             DOS_CONTEXT_NONE, NULL, NULL);
        free_record(r);
    }
}

/* The worker's run has ended: its record goes, its slot passes on. */
static void finish_worker(struct record *r)
{
    struct engine *engine = r->engine;
    struct record *next;
    BOOL rerun;

    AcquireSRWLockExclusive(&engine->lock);
    forget_record(engine, r);
    engine->running[r->class]--;
    rerun = r->rerun;
    next = take_queued(engine, r->class, NULL);
    ReleaseSRWLockExclusive(&engine->lock);

    /* Resumed while this worker was still letting go of its files: run it again now. */
    if (rerun) schedule(engine, r->job);
    free_record(r);
    launch(engine, next);
}

/*
 * The worker's run waits out a transient error: its record goes on the timer's heap, due
 * when its retry delay is over or its no-progress timeout comes (both read again when the
 * job changes: a change while they were read here makes it due at once), and its slot passes
 * on. TRUE: no worker is the timer yet, so this one is.
 */
static BOOL park(struct record *r)
{
    struct engine *engine = r->engine;
    struct dos_job_info info;
    struct record *next = NULL;
    ULONGLONG retry_at, stalls;
    BOOL become_timer = FALSE, parked = FALSE;
    LONG changes = r->changes;
    HANDLE thread;

    dos_job_get_info(r->job, &info);
    retry_at = r->failed_at + retry_delay_ms(&info, r->retry_after);
    stalls = stall_at(r, &info);
    AcquireSRWLockExclusive(&engine->lock);
    /* Stopped meanwhile (the STOPPED event found it running): the run is over. */
    if (!engine->stopping && WaitForSingleObject(r->stop, 0) == WAIT_TIMEOUT && heap_reserve(engine))
    {
        engine->running[r->class]--;
        thread = r->thread;
        r->thread = NULL;
        r->thread_id = 0;
        r->place = PLACE_WAITING;
        r->due = r->changes != changes ? 0 : retry_at < stalls ? retry_at : stalls;
        heap_push(engine, r);
        next = take_queued(engine, r->class, NULL);
        /* This thread goes on counting in engine->threads, as the timer or until it is gone. */
        if (!engine->timer_running) engine->timer_running = become_timer = TRUE;
        parked = TRUE;
    }
    ReleaseSRWLockExclusive(&engine->lock);
    if (!parked)
    {
        /* Without memory to park it, the run fails rather than being lost. */
        if (dos_job_run_is_live(r->job, r->run) && WaitForSingleObject(r->stop, 0) == WAIT_TIMEOUT)
            dos_job_report_error(r->job, r->run, false, E_OUTOFMEMORY, DOS_CONTEXT_NONE, NULL, NULL);
        finish_worker(r);
        return FALSE;
    }
    CloseHandle(thread);
    launch(engine, next);
    return become_timer;
}

/*
 * Looks at a parked run the timer took off the heap. Past its no-progress timeout, it is
 * fatal, whether it waited for its delay or, queued, for a slot. Its retry delay over, it
 * takes a slot of the class its priority gives now, or joins the end of that queue, where it
 * is due again at its no-progress timeout. Otherwise it goes back on the heap, due later. A
 * job that changed while it was read is looked at again at once.
 */
static void check_parked(struct engine *engine, struct record *r)
{
    struct dos_job_info info;
    struct record *next = NULL;
    ULONGLONG now, retry_at, stalls;
    BOOL gone = FALSE, stalled = FALSE;
    LONG changes = r->changes;
    enum slot_class class;

    dos_job_get_info(r->job, &info);
    now = GetTickCount64();
    retry_at = r->failed_at + retry_delay_ms(&info, r->retry_after);
    stalls = stall_at(r, &info);
    class = class_of(&info);

    AcquireSRWLockExclusive(&engine->lock);
    r->checking = FALSE;
    /* The heap keeps room for this record: it can always go back. */
    if (engine->stopping || WaitForSingleObject(r->stop, 0) != WAIT_TIMEOUT)
        gone = TRUE;             /* revoked while the timer looked at it */
    else if (r->changes != changes)
    {
        r->due = now;
        heap_push(engine, r);
    }
    else if (now >= stalls)
        gone = stalled = TRUE;
    else if (r->place == PLACE_QUEUED)
    {
        r->due = stalls;         /* it waits for a slot, and for its no-progress timeout */
        heap_push(engine, r);
    }
    else if (now >= retry_at)
    {
        if (engine->running[class] < max_running[class])
        {
            take_slot(engine, r, class);
            next = r;
        }
        else
        {
            enqueue(engine, r, class);
            r->due = stalls;
            heap_push(engine, r);
        }
    }
    else
    {
        r->due = retry_at < stalls ? retry_at : stalls;
        heap_push(engine, r);
    }
    if (gone) drop(engine, r);
    /* A slot set free while the timer held it was not offered to it. */
    else if (r->place == PLACE_QUEUED) next = take_queued(engine, r->class, next);
    ReleaseSRWLockExclusive(&engine->lock);

    if (stalled)
    {
        struct dos_error_record error;

        TRACE_ENGINE("job %s: run %llu: %u s without progress while waiting to retry: fatal", dos_trace_guid(&info.id),
                     (unsigned long long)r->run, info.u32[DOS_JOB_NO_PROGRESS_TIMEOUT]);
        if (dos_job_get_error(r->job, &error) == DOS_OK)
        {
            dos_job_report_no_progress(r->job, r->run, DO_E_DOWNLOAD_NO_PROGRESS, error.code, error.context, error.file,
                                       error.protocol);
            dos_error_record_clear(&error);
        }
        else dos_job_report_error(r->job, r->run, false, DO_E_DOWNLOAD_NO_PROGRESS, DOS_CONTEXT_NONE, NULL, NULL);
    }
    if (gone)
    {
        if (r->rerun) schedule(engine, r->job);
        free_record(r);
    }
    launch(engine, next);
}

/* The timer: while any run is parked, waits for the first one's time and looks at it. */
static void run_timer(struct engine *engine)
{
    for (;;)
    {
        struct record *r = NULL;
        ULONGLONG now = GetTickCount64(), wait = 0;

        AcquireSRWLockExclusive(&engine->lock);
        if (engine->stopping || !engine->heap_count)
        {
            engine->timer_running = FALSE;
            ReleaseSRWLockExclusive(&engine->lock);
            return;
        }
        if (engine->heap[0]->due <= now)
        {
            r = engine->heap[0];
            heap_remove(engine, r);
            r->checking = TRUE;
        }
        else wait = engine->heap[0]->due - now;
        ReleaseSRWLockExclusive(&engine->lock);
        if (r) check_parked(engine, r);
        else WaitForSingleObject(engine->timer_wake, wait >= MAXDWORD ? MAXDWORD - 1 : (DWORD)wait);
    }
}

/* With no retry delay there is nothing to wait for: the worker goes on in its slot, unless
 * another job waits for one. */
static BOOL retry_at_once(struct record *r)
{
    BOOL at_once;

    if (r->due > GetTickCount64() || WaitForSingleObject(r->stop, 0) != WAIT_TIMEOUT) return FALSE;
    AcquireSRWLockShared(&r->engine->lock);
    at_once = !r->engine->queues[r->class].head;
    ReleaseSRWLockShared(&r->engine->lock);
    return at_once;
}

static DWORD WINAPI worker(void *param)
{
    struct record *r = param;
    struct engine *engine = r->engine;
    HMODULE module = r->module;

    for (;;)
    {
        if (run_job(r) == RUN_ENDED) finish_worker(r);
        else if (retry_at_once(r)) continue;
        else if (park(r)) run_timer(engine);
        break;
    }
    AcquireSRWLockExclusive(&engine->lock);
    engine->threads--;
    ReleaseSRWLockExclusive(&engine->lock);
    /* The last thing this DLL's code does on this thread: let the DLL go. */
    FreeLibraryAndExitThread(module, 0);
}

static void schedule(struct engine *engine, struct dos_job *job)
{
    struct record *r, *next = NULL;
    struct dos_job_info info;
    enum slot_class class;

    dos_job_get_info(job, &info);
    class = class_of(&info);
    AcquireSRWLockExclusive(&engine->lock);
    if (engine->stopping) goto done;
    if ((r = find_record(engine, job)))
    {
        /* Its run is still ending (a worker, or the timer, holds it): it runs again when it has. */
        if (r->place == PLACE_RUNNING || r->checking) r->rerun = TRUE;
        /* QUEUED again, so a parked run left over was revoked: the job starts afresh. */
        else if (r->run)
        {
            take_out(engine, r);
            r->run = 0;
            enqueue(engine, r, class);
            next = take_queued(engine, class, NULL);
        }
        goto done;
    }
    if (!(r = new_record(engine, job))) goto done;
    enqueue(engine, r, class);
    next = take_queued(engine, class, NULL);
done:
    ReleaseSRWLockExclusive(&engine->lock);
    launch(engine, next);
}

/*
 * The job's priority decides its class: a queued job changes queues (starting at once if its
 * new class has a free slot), and one made FOREGROUND while it runs in a background slot moves
 * to a foreground slot if one is free, passing its background slot to the next job (a job
 * made background while it runs goes on: nothing is stopped for a priority). A parked run is
 * looked at again, whatever changed: its delay and no-progress timeout may have; and a run
 * about to park learns that what it read may be stale (r->changes).
 */
static void job_modified(struct engine *engine, struct dos_job *job)
{
    struct record *r, *next = NULL;
    struct dos_job_info info;
    enum slot_class class;
    BOOL concerned = FALSE;

    /* Progress makes MODIFIED events too: most are about running jobs this need not look at. */
    AcquireSRWLockShared(&engine->lock);
    if ((r = find_record(engine, job)))
    {
        InterlockedIncrement(&r->changes);
        concerned = r->place != PLACE_RUNNING || r->class == BACKGROUND;
    }
    ReleaseSRWLockShared(&engine->lock);
    if (!concerned) return;
    dos_job_get_info(job, &info);
    class = class_of(&info);

    AcquireSRWLockExclusive(&engine->lock);
    if (!(r = find_record(engine, job)) || engine->stopping) {}
    else if (r->place == PLACE_RUNNING)
    {
        if (r->class == BACKGROUND && class == FOREGROUND && engine->running[FOREGROUND] < MAX_FOREGROUND)
        {
            engine->running[BACKGROUND]--;
            engine->running[FOREGROUND]++;
            r->class = FOREGROUND;
            next = take_queued(engine, BACKGROUND, NULL);
        }
    }
    else
    {
        /* Parked (the timer reads it again now; one it holds sees r->changes), or queued. */
        if (r->on_heap)
        {
            heap_remove(engine, r);
            r->due = 0;
            heap_push(engine, r);
        }
        if (r->place == PLACE_QUEUED && r->class != class)
        {
            dequeue(engine, r);
            enqueue(engine, r, class);
            next = take_queued(engine, class, NULL);
        }
    }
    ReleaseSRWLockExclusive(&engine->lock);
    launch(engine, next);
}

/* The run that was revoked ends: its worker is told, a parked or queued one goes at once (or,
 * held by the timer, when the timer lets go of it). A later run of the job is not this
 * event's business. */
static void stop_run(struct engine *engine, struct dos_job *job, dos_run run)
{
    struct record *r, *gone = NULL;

    AcquireSRWLockExclusive(&engine->lock);
    if ((r = find_record(engine, job)) && r->run == run && run)
    {
        SetEvent(r->stop);
        if (r->place != PLACE_RUNNING && !r->checking)
        {
            drop(engine, r);
            gone = r;
        }
    }
    ReleaseSRWLockExclusive(&engine->lock);
    if (!gone) return;
    /* Resumed before this event came (its RUNNABLE found the old record): it starts afresh. */
    if (gone->rerun) schedule(engine, job);
    free_record(gone);
}

/* A job being cancelled or completed that waits for its first run has no run to revoke: it
 * leaves the queue here, instead of taking a slot (and a thread) only to learn that it ended. */
static void drop_queued(struct engine *engine, struct dos_job *job)
{
    struct record *r, *gone = NULL;

    AcquireSRWLockExclusive(&engine->lock);
    if ((r = find_record(engine, job)) && r->place == PLACE_QUEUED && !r->run && !r->checking)
    {
        drop(engine, r);
        gone = r;
    }
    ReleaseSRWLockExclusive(&engine->lock);
    if (gone) free_record(gone);
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

/* Waits until no worker runs job (unless the caller is that worker), or timeout_ms passes. A
 * parked run has no worker to wait for. */
static void wait_for_worker(struct engine *engine, struct dos_job *job, DWORD timeout_ms)
{
    ULONGLONG start = GetTickCount64();

    for (;;)
    {
        HANDLE thread = NULL;
        struct record *r;
        BOOL launching = FALSE;

        AcquireSRWLockShared(&engine->lock);
        if ((r = find_record(engine, job)) && r->place == PLACE_RUNNING && r->thread_id != GetCurrentThreadId())
        {
            /* Between taking its slot and its launch the record has no thread yet, for an instant. */
            if (!(launching = !r->thread))
                DuplicateHandle(GetCurrentProcess(), r->thread, GetCurrentProcess(), &thread, SYNCHRONIZE, FALSE, 0);
        }
        ReleaseSRWLockShared(&engine->lock);
        if (launching)
        {
            if (GetTickCount64() - start >= timeout_ms) return;
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
    drop_queued(engine, job);
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
    size_t i;

    /* Every worker, and the timer, holds a reference to the DLL, so none runs when it is
     * unloaded: what is left are jobs queued for a first run. */
    AcquireSRWLockExclusive(&engine->lock);
    engine->stopping = TRUE;
    ReleaseSRWLockExclusive(&engine->lock);
    for (i = 0; engine->records.slots && i <= engine->records.mask; i++)
        if (engine->records.slots[i].item) free_record(engine->records.slots[i].item);
    table_free(&engine->records);
    free(engine->heap);
    CloseHandle(engine->timer_wake);
    http_socket_shutdown();
    dos_store_release(engine->store);
    free(engine);
}

BOOL engine_idle(struct engine *engine)
{
    BOOL idle;
    AcquireSRWLockShared(&engine->lock);
    idle = !engine->threads;
    ReleaseSRWLockShared(&engine->lock);
    return idle;
}
