/*
 * Notifications (issue 3 item 5; spec 3.11, 5.4): IBackgroundCopyCallback and
 * Callback2 are called as the notify flags ask, with no lock held (a callback
 * may call Complete from inside), JobError again until it returns S_OK, never
 * for transient errors, and a callback registered from a single-threaded
 * apartment on its own thread. Downloads come from the loopback test server.
 */
#include "com_test.h"

static IBackgroundCopyManager *manager;

static int setup_group(void **state) { return dosvc_setup_manager(&manager); }
static int teardown_group(void **state) { return dosvc_teardown_manager(&manager); }

/* Where a recorder calls Cancel from inside (once): JobError, JobTransferred, or the first
 * JobModification that finds bytes transferred. */
enum cancel_in { CANCEL_NOWHERE, CANCEL_IN_ERROR, CANCEL_IN_TRANSFERRED, CANCEL_IN_MODIFICATION };

/* A callback that records what it is told and can act from inside. */
struct recorder
{
    IBackgroundCopyCallback2 IBackgroundCopyCallback2_iface;
    LONG refs;
    LONG transferred, errors, modifications, files;
    HRESULT last_error_code;
    HRESULT error_answers[4];        /* what JobError returns on its 1st, 2nd... call (S_OK after) */
    BOOL declines_every_error;       /* JobError returns E_FAIL, every time */
    DWORD error_ms;                  /* JobError looks into the error this long first (a slow client) */
    BOOL complete_inside;            /* JobTransferred calls Complete */
    HRESULT complete_result;
    DWORD thread;                    /* where the last callback ran */
    HANDLE event;                    /* set on JobTransferred and JobError, and once Cancel returned */
    enum cancel_in cancel_in;
    LONG cancels;                    /* Cancel calls made from inside */
    LONG cancel_returned;            /* and returned */
    HRESULT cancel_result;
    WCHAR temp[MAX_PATH];            /* the file's temporary name, read just before that Cancel */
    BOOL temp_existed;               /* and whether it was on disk then */
    /* What JobModification read of the job from inside. */
    unsigned states_seen;            /* bits 1 << BG_JOB_STATE */
    LONG failed_reads;               /* GetState or GetProgress failed */
    LONG bad_progress;               /* a BG_JOB_PROGRESS that contradicts itself or the state */
    UINT64 last_bytes;               /* BytesTransferred read last */
    LONG byte_rises;                 /* times BytesTransferred had grown since the last read */
    BOOL bytes_fell;                 /* it ever shrank */
};

static struct recorder *impl_from(IBackgroundCopyCallback2 *iface)
{
    return CONTAINING_RECORD(iface, struct recorder, IBackgroundCopyCallback2_iface);
}

static HRESULT WINAPI rec_QueryInterface(IBackgroundCopyCallback2 *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyCallback)
        || IsEqualIID(riid, &IID_IBackgroundCopyCallback2))
    {
        *out = iface;
        IBackgroundCopyCallback2_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI rec_AddRef(IBackgroundCopyCallback2 *iface) { return InterlockedIncrement(&impl_from(iface)->refs); }
static ULONG WINAPI rec_Release(IBackgroundCopyCallback2 *iface) { return InterlockedDecrement(&impl_from(iface)->refs); }

/* Cancel from inside a callback, once, noting the temporary file it must delete. */
static void cancel_inside(struct recorder *r, IBackgroundCopyJob *job)
{
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file = NULL;
    IBackgroundCopyFile3 *file3;
    WCHAR *name = NULL;

    if (InterlockedIncrement(&r->cancels) != 1) return;
    if (SUCCEEDED(IBackgroundCopyJob_EnumFiles(job, &files)))
    {
        if (IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL) == S_OK)
        {
            if (SUCCEEDED(IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile3, (void **)&file3)))
            {
                if (SUCCEEDED(IBackgroundCopyFile3_GetTemporaryName(file3, &name)) && name)
                {
                    lstrcpynW(r->temp, name, MAX_PATH);
                    r->temp_existed = GetFileAttributesW(name) != INVALID_FILE_ATTRIBUTES;
                    CoTaskMemFree(name);
                }
                IBackgroundCopyFile3_Release(file3);
            }
            IBackgroundCopyFile_Release(file);
        }
        IEnumBackgroundCopyFiles_Release(files);
    }
    r->cancel_result = IBackgroundCopyJob_Cancel(job);
    InterlockedIncrement(&r->cancel_returned);
    SetEvent(r->event);
}

static HRESULT WINAPI rec_JobTransferred(IBackgroundCopyCallback2 *iface, IBackgroundCopyJob *job)
{
    struct recorder *r = impl_from(iface);
    r->thread = GetCurrentThreadId();
    if (r->complete_inside) r->complete_result = IBackgroundCopyJob_Complete(job);
    if (r->cancel_in == CANCEL_IN_TRANSFERRED) cancel_inside(r, job);
    InterlockedIncrement(&r->transferred);
    SetEvent(r->event);
    return S_OK;
}

static HRESULT WINAPI rec_JobError(IBackgroundCopyCallback2 *iface, IBackgroundCopyJob *job, IBackgroundCopyError *error)
{
    struct recorder *r = impl_from(iface);
    BG_ERROR_CONTEXT context;
    LONG n = InterlockedIncrement(&r->errors);

    r->thread = GetCurrentThreadId();
    IBackgroundCopyError_GetError(error, &context, &r->last_error_code);
    if (r->error_ms) Sleep(r->error_ms);
    if (r->cancel_in == CANCEL_IN_ERROR) cancel_inside(r, job);
    SetEvent(r->event);
    if (r->declines_every_error) return E_FAIL;
    return n <= (LONG)ARRAYSIZE(r->error_answers) ? r->error_answers[n - 1] : S_OK;
}

/* clients.md 2.6: WiX reads the state and the progress from inside JobModification. */
static HRESULT WINAPI rec_JobModification(IBackgroundCopyCallback2 *iface, IBackgroundCopyJob *job, DWORD reserved)
{
    struct recorder *r = impl_from(iface);
    BG_JOB_PROGRESS progress;
    BG_JOB_STATE state;

    InterlockedIncrement(&r->modifications);
    if (FAILED(IBackgroundCopyJob_GetState(job, &state)) || FAILED(IBackgroundCopyJob_GetProgress(job, &progress)))
    {
        r->failed_reads++;
        return S_OK;
    }
    r->states_seen |= 1u << state;
    if (progress.BytesTransferred > r->last_bytes) r->byte_rises++;
    if (progress.BytesTransferred < r->last_bytes) r->bytes_fell = TRUE;
    r->last_bytes = progress.BytesTransferred;
    if ((progress.BytesTotal != BG_SIZE_UNKNOWN && progress.BytesTransferred > progress.BytesTotal)
        || progress.FilesTransferred > progress.FilesTotal
        || (state == BG_JOB_STATE_TRANSFERRED
            && (progress.BytesTransferred != progress.BytesTotal || progress.FilesTransferred != progress.FilesTotal)))
        r->bad_progress++;
    if (r->cancel_in == CANCEL_IN_MODIFICATION && state == BG_JOB_STATE_TRANSFERRING && progress.BytesTransferred)
        cancel_inside(r, job);
    return S_OK;
}

static HRESULT WINAPI rec_FileTransferred(IBackgroundCopyCallback2 *iface, IBackgroundCopyJob *job, IBackgroundCopyFile *file)
{
    InterlockedIncrement(&impl_from(iface)->files);
    return S_OK;
}

static const IBackgroundCopyCallback2Vtbl rec_vtbl =
{
    rec_QueryInterface, rec_AddRef, rec_Release, rec_JobTransferred, rec_JobError, rec_JobModification,
    rec_FileTransferred,
};

static void recorder_init(struct recorder *r)
{
    memset(r, 0, sizeof(*r));
    r->IBackgroundCopyCallback2_iface.lpVtbl = &rec_vtbl;
    r->refs = 1;
    r->event = CreateEventW(NULL, FALSE, FALSE, NULL);
}

/* A job downloading from the server with the recorder registered for flags. */
static IBackgroundCopyJob *job_with(struct recorder *r, ULONG flags, const WCHAR *path, const WCHAR *local)
{
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"callback test", NULL);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, dosvc_server_url(FALSE, path), dosvc_test_path(local)));
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 1));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(job, flags));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, (IUnknown *)&r->IBackgroundCopyCallback2_iface));
    return job;
}

/* The recorders live on the test's stack: the test ends only once dosvc has let go of its
 * recorder, or a notice still on its way (the JobModification of the Cancel, say) would be
 * delivered into the next test's frame. */
static void finish(IBackgroundCopyJob *job, struct recorder *r)
{
    IBackgroundCopyJob_Cancel(job);
    IBackgroundCopyJob_Release(job);
    assert_true(dosvc_wait_for_refs(&r->refs, 1, 30000));
    CloseHandle(r->event);
}

static void test_job_transferred_is_called_once_when_the_job_is_transferred(void **state)
{
    struct recorder r;
    IBackgroundCopyJob *job;

    recorder_init(&r);
    job = job_with(&r, BG_NOTIFY_JOB_TRANSFERRED, L"/gen/64k?seed=91", L"cb-transferred.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_for_count(&r.transferred, 1, 30000));
    assert_true(dosvc_wait_for_notifier(manager, 30000));     /* a second one would have come first */
    assert_int_equal(r.transferred, 1);
    assert_int_not_equal(r.thread, GetCurrentThreadId());
    finish(job, &r);
}

static void test_job_transferred_is_not_called_without_its_flag(void **state)
{
    struct recorder r;
    IBackgroundCopyJob *job;

    recorder_init(&r);
    job = job_with(&r, BG_NOTIFY_JOB_ERROR, L"/gen/64k?seed=92", L"cb-noflag.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_int_equal(dosvc_wait_for_state(job, DOSVC_STATE(BG_JOB_STATE_TRANSFERRED), 30000), BG_JOB_STATE_TRANSFERRED);
    assert_true(dosvc_wait_for_notifier(manager, 30000));
    assert_int_equal(r.transferred, 0);
    finish(job, &r);
}

/* clients.md 0.5: a callback may call Complete from inside, and the file is put in place. */
static void test_complete_from_inside_job_transferred_puts_the_file_in_place(void **state)
{
    const WCHAR *local = dosvc_test_path(L"cb-complete.bin");
    BG_JOB_STATE job_state;
    struct recorder r;
    IBackgroundCopyJob *job;

    DeleteFileW(local);
    recorder_init(&r);
    r.complete_inside = TRUE;
    job = job_with(&r, BG_NOTIFY_JOB_TRANSFERRED, L"/gen/100k?seed=93", L"cb-complete.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_handle(r.event, 30000));
    assert_hr(S_OK, r.complete_result);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(job_state, BG_JOB_STATE_ACKNOWLEDGED);
    assert_int_not_equal(GetFileAttributesW(local), INVALID_FILE_ATTRIBUTES);
    finish(job, &r);
    DeleteFileW(local);
}

static void test_job_error_is_called_with_the_error_when_the_job_fails(void **state)
{
    struct recorder r;
    IBackgroundCopyJob *job;

    recorder_init(&r);
    job = job_with(&r, BG_NOTIFY_JOB_ERROR, L"/gen/1k?fault=404&seed=94", L"cb-error.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_handle(r.event, 30000));
    assert_int_equal(r.errors, 1);
    assert_hr(0x80190194, r.last_error_code);
    finish(job, &r);
}

/* A job of path whose callback r declines the first JobError; resumed, and asked again. */
static IBackgroundCopyJob *job_error_asked_twice(struct recorder *r, const WCHAR *path, const WCHAR *local)
{
    IBackgroundCopyJob *job;

    recorder_init(r);
    r->error_answers[0] = E_FAIL;
    job = job_with(r, BG_NOTIFY_JOB_ERROR, path, local);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_for_count(&r->errors, 2, 30000));
    return job;
}

/*
 * Waits until a JobError declined before the call would have been asked again: a job of its own
 * declines its first JobError and waits for the second. The notifier asks again after the same
 * delay for every job, and the earlier declined first (docs/engine.md: notices in order).
 */
static void wait_out_a_job_error_repeat(void)
{
    static struct recorder later;
    finish(job_error_asked_twice(&later, L"/gen/1k?fault=404&seed=later-error", L"later-error.bin"), &later);
}

/* spec 3.11: "If it returns anything other than S_OK, DO calls it again". */
static void test_job_error_is_called_again_until_it_returns_s_ok(void **state)
{
    struct recorder r;
    IBackgroundCopyJob *job = job_error_asked_twice(&r, L"/gen/1k?fault=403&seed=95", L"cb-again.bin");

    wait_out_a_job_error_repeat();            /* past the next repeat: S_OK stopped them */
    assert_int_equal(r.errors, 2);
    finish(job, &r);
}

/* spec 3.11: JobError is "never called for transient errors". */
static void test_job_error_is_not_called_for_a_transient_error(void **state)
{
    struct recorder r;
    IBackgroundCopyJob *job;
    WCHAR mark[40], path[80];

    recorder_init(&r);
    wsprintfW(mark, L"cb-transient-%lu", GetCurrentProcessId());
    wsprintfW(path, L"/gen/1k?fault=503&seed=96&m=%s", mark);
    job = job_with(&r, BG_NOTIFY_JOB_ERROR, path, L"cb-transient.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_int_equal(dosvc_wait_for_state(job, DOSVC_STATE(BG_JOB_STATE_TRANSIENT_ERROR), 30000), BG_JOB_STATE_TRANSIENT_ERROR);
    /* The retry comes after the worker has reported the first error, and the notifier's barrier
     * after any JobError that report could have queued. */
    assert_true(dosvc_wait_for_requests(mark, 2, 30000) >= 2);
    assert_true(dosvc_wait_for_notifier(manager, 30000));
    assert_int_equal(r.errors, 0);
    finish(job, &r);
}

static BOOL modification_saw_transferred(void *context)
{
    struct recorder *r = context;
    return (r->states_seen & DOSVC_STATE(BG_JOB_STATE_TRANSFERRED)) != 0;
}

/* Runs a job for path with JobModification asked for (and JobTransferred, which sets the event),
 * until a JobModification has found the job TRANSFERRED. */
static IBackgroundCopyJob *run_watching_modifications(struct recorder *r, const WCHAR *path, const WCHAR *local)
{
    IBackgroundCopyJob *job = job_with(r, BG_NOTIFY_JOB_MODIFICATION | BG_NOTIFY_JOB_TRANSFERRED, path, local);

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_handle(r->event, 30000));
    /* The modification for the last state change may come after JobTransferred. */
    dosvc_wait(modification_saw_transferred, r, 10000);
    return job;
}

/* spec 5.4: JobModification covers bytes transferred and state changes; one read from inside
 * sees the bytes grow, and the job go through TRANSFERRING to TRANSFERRED. */
static void test_job_modification_reports_progress_and_state_changes(void **state)
{
    struct recorder r;
    IBackgroundCopyJob *job;

    recorder_init(&r);
    job = run_watching_modifications(&r, L"/gen/1m?seed=97&fault=drip&rate=2097152", L"cb-modified.bin");
    print_message("%ld modifications, %ld with more bytes\n", r.modifications, r.byte_rises);
    assert_true(r.states_seen & DOSVC_STATE(BG_JOB_STATE_TRANSFERRING));
    assert_true(r.states_seen & DOSVC_STATE(BG_JOB_STATE_TRANSFERRED));
    assert_true(r.byte_rises >= 2);            /* some between none and all */
    assert_false(r.bytes_fell);
    assert_true(r.last_bytes == 1 << 20);
    finish(job, &r);
}

/* clients.md 2.6: WiX calls GetState and GetProgress from inside JobModification; they answer
 * at once (no lock is held) and agree with each other. */
static void test_get_state_and_get_progress_from_inside_job_modification_are_consistent(void **state)
{
    const unsigned expected = DOSVC_STATE(BG_JOB_STATE_SUSPENDED) | DOSVC_STATE(BG_JOB_STATE_QUEUED)
                              | DOSVC_STATE(BG_JOB_STATE_TRANSFERRING) | DOSVC_STATE(BG_JOB_STATE_TRANSFERRED);
    struct recorder r;
    IBackgroundCopyJob *job;

    recorder_init(&r);
    job = run_watching_modifications(&r, L"/gen/256k?seed=102&fault=drip&rate=1048576", L"cb-reads.bin");
    assert_true(r.modifications >= 1);
    assert_int_equal(r.failed_reads, 0);
    assert_int_equal(r.bad_progress, 0);
    assert_int_equal(r.states_seen & ~expected, 0);
    assert_true(r.states_seen & DOSVC_STATE(BG_JOB_STATE_TRANSFERRED));
    finish(job, &r);
}

static void test_job_modification_is_not_called_without_its_flag(void **state)
{
    struct recorder r;
    IBackgroundCopyJob *job;

    recorder_init(&r);
    job = job_with(&r, BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR, L"/gen/256k?seed=103", L"cb-nomod.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_for_count(&r.transferred, 1, 30000));
    assert_true(dosvc_wait_for_notifier(manager, 30000));
    assert_int_equal(r.transferred, 1);
    assert_int_equal(r.modifications, 0);
    finish(job, &r);
}

/* ---- Cancel from inside a callback (spec 5.4: "may call anything"; DESIGN: no lock is held) ---- */

/* Waits for the recorder's Cancel from inside (a deadlock never returns), and asserts that the
 * job is CANCELLED, its temporary file gone (once the worker let go of it) and no local file made. */
static void assert_cancelled_from_inside(struct recorder *r, IBackgroundCopyJob *job, const WCHAR *local)
{
    BG_JOB_STATE job_state;

    assert_true(dosvc_wait_for_count(&r->cancel_returned, 1, 30000));
    assert_int_equal(r->cancels, 1);
    assert_hr(S_OK, r->cancel_result);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(job_state, BG_JOB_STATE_CANCELLED);
    assert_true(r->temp[0]);
    assert_true(dosvc_wait_for_file(r->temp, FALSE, 10000));
    assert_int_equal(GetFileAttributesW(dosvc_test_path(local)), INVALID_FILE_ATTRIBUTES);
}

static void test_cancel_from_inside_job_error_cancels_the_job(void **state)
{
    struct recorder r;
    IBackgroundCopyJob *job;

    recorder_init(&r);
    r.cancel_in = CANCEL_IN_ERROR;
    job = job_with(&r, BG_NOTIFY_JOB_ERROR, L"/gen/64k?fault=404&seed=104", L"cb-cancel-error.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_cancelled_from_inside(&r, job, L"cb-cancel-error.bin");
    finish(job, &r);
}

static void test_cancel_from_inside_job_transferred_cancels_the_job_and_deletes_the_file(void **state)
{
    struct recorder r;
    IBackgroundCopyJob *job;

    recorder_init(&r);
    r.cancel_in = CANCEL_IN_TRANSFERRED;
    job = job_with(&r, BG_NOTIFY_JOB_TRANSFERRED, L"/gen/64k?seed=105", L"cb-cancel-transferred.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_cancelled_from_inside(&r, job, L"cb-cancel-transferred.bin");
    assert_true(r.temp_existed);            /* the transferred bytes were there to delete */
    finish(job, &r);
}

/* Mid-transfer: Cancel stops the worker and deletes the half-written temporary file. */
static void test_cancel_from_inside_job_modification_cancels_the_transfer(void **state)
{
    struct recorder r;
    IBackgroundCopyJob *job;

    recorder_init(&r);
    r.cancel_in = CANCEL_IN_MODIFICATION;
    job = job_with(&r, BG_NOTIFY_JOB_MODIFICATION, L"/gen/3m?seed=106&fault=drip&rate=1048576", L"cb-cancel-modified.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_cancelled_from_inside(&r, job, L"cb-cancel-modified.bin");
    assert_true(r.temp_existed);
    finish(job, &r);
}

static void test_file_transferred_is_called_for_each_file(void **state)
{
    struct recorder r;
    IBackgroundCopyJob *job;

    recorder_init(&r);
    job = job_with(&r, BG_NOTIFY_FILE_TRANSFERRED | BG_NOTIFY_JOB_TRANSFERRED, L"/gen/10k?seed=98", L"cb-file1.bin");
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, dosvc_server_url(FALSE, L"/gen/20k?seed=99"), dosvc_test_path(L"cb-file2.bin")));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    /* Each file is transferred before the job is, and notices come in order. */
    assert_true(dosvc_wait_for_count(&r.transferred, 1, 30000));
    assert_int_equal(r.files, 2);
    finish(job, &r);
}

/* BG_NOTIFY_DISABLE silences every callback (Firefox sets it). */
static void test_notify_disable_silences_every_callback(void **state)
{
    struct recorder r;
    IBackgroundCopyJob *job;

    recorder_init(&r);
    job = job_with(&r, BG_NOTIFY_DISABLE | BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_MODIFICATION, L"/gen/64k?seed=100",
                   L"cb-disable.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_int_equal(dosvc_wait_for_state(job, DOSVC_STATE(BG_JOB_STATE_TRANSFERRED), 30000), BG_JOB_STATE_TRANSFERRED);
    assert_true(dosvc_wait_for_notifier(manager, 30000));
    assert_int_equal(r.transferred + r.modifications, 0);
    finish(job, &r);
}

/* DESIGN rule 6: a callback registered from a single-threaded apartment is called on its thread.
 * Static, like the recorder: the thread may outlive a test that failed. */
static struct sta_args
{
    struct recorder *r;
    IBackgroundCopyJob *job;
    DWORD thread;
    HRESULT hr;
    HANDLE stop;                     /* set once the notifier is done with the callback */
} sta;

static BOOL pump_until_stopped(void *context)
{
    struct sta_args *a = context;
    MSG msg;

    while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE)) DispatchMessageW(&msg);
    return WaitForSingleObject(a->stop, 0) == WAIT_OBJECT_0;
}

static DWORD WINAPI sta_thread(void *param)
{
    struct sta_args *a = param;

    a->thread = GetCurrentThreadId();
    CoInitializeEx(NULL, COINIT_APARTMENTTHREADED);
    a->hr = IBackgroundCopyJob_SetNotifyInterface(a->job, (IUnknown *)&a->r->IBackgroundCopyCallback2_iface);
    if (SUCCEEDED(a->hr)) a->hr = IBackgroundCopyJob_Resume(a->job);
    /* An STA must pump messages for calls to reach it, and go on until the notifier has released
     * its proxy: under Wine, a release sent to an apartment that has stopped pumping never returns. */
    dosvc_wait(pump_until_stopped, a, 60000);
    IBackgroundCopyJob_SetNotifyInterface(a->job, NULL);
    CoUninitialize();
    return 0;
}

static void test_callback_from_an_sta_is_called_on_its_own_thread(void **state)
{
    static struct recorder r;
    HANDLE thread;
    BOOL told;

    recorder_init(&r);
    memset(&sta, 0, sizeof(sta));
    sta.r = &r;
    sta.job = dosvc_create_job(manager, L"sta callback test", NULL);
    assert_non_null(sta.stop = CreateEventW(NULL, TRUE, FALSE, NULL));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(sta.job, dosvc_server_url(FALSE, L"/gen/64k?seed=101"), dosvc_test_path(L"cb-sta.bin")));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(sta.job, BG_NOTIFY_JOB_TRANSFERRED));
    thread = CreateThread(NULL, 0, sta_thread, &sta, 0, NULL);
    /* The notifier releases its proxy before it goes on to the barrier's notice. */
    told = dosvc_wait_for_count(&r.transferred, 1, 30000) && dosvc_wait_for_notifier(manager, 30000);
    SetEvent(sta.stop);
    assert_true(dosvc_wait_handle(thread, 60000));
    CloseHandle(thread);
    CloseHandle(sta.stop);
    assert_true(told);
    assert_hr(S_OK, sta.hr);
    assert_int_equal(r.transferred, 1);
    assert_int_equal(r.thread, sta.thread);
    finish(sta.job, &r);
}

/* ---- no callback interface: the command line (IBackgroundCopyJob2::SetNotifyCmdLine) and the
 * notification CLSID (IBackgroundCopyJob5, BITS_JOB_PROPERTY_NOTIFICATION_CLSID; spec 3.4) --- */

/* A job downloading path with flags and no callback interface. */
static IBackgroundCopyJob *job_without_callback(ULONG flags, const WCHAR *path, const WCHAR *local)
{
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"notification test", NULL);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, dosvc_server_url(FALSE, path), dosvc_test_path(local)));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(job, flags));
    return job;
}

/* The job's command line: cmd.exe writing a line into marker. */
static void notify_by_writing(IBackgroundCopyJob *job, const WCHAR *marker)
{
    IBackgroundCopyJob2 *job2 = dosvc_query(job, &IID_IBackgroundCopyJob2);
    WCHAR program[MAX_PATH], params[MAX_PATH * 2];

    DeleteFileW(marker);
    GetSystemDirectoryW(program, MAX_PATH);
    lstrcatW(program, L"\\cmd.exe");
    wsprintfW(params, L"cmd.exe /c echo notified> \"%s\"", marker);
    assert_hr(S_OK, IBackgroundCopyJob2_SetNotifyCmdLine(job2, program, params));
    IBackgroundCopyJob2_Release(job2);
}

static BOOL marker_deleted(void *context)
{
    return DeleteFileW(context) || GetLastError() == ERROR_FILE_NOT_FOUND;
}

/* Deletes marker once the program that wrote it has let go of it. */
static void delete_marker(const WCHAR *marker)
{
    assert_true(dosvc_wait(marker_deleted, (void *)marker, 10000));
    assert_true(dosvc_wait_for_file(marker, FALSE, 10000));
}

/* A job of path with only a command line to notify for flags: the program runs. */
static void assert_command_line_runs(ULONG flags, const WCHAR *path, const WCHAR *local, const WCHAR *marker_name)
{
    const WCHAR *marker = dosvc_test_path(marker_name);
    IBackgroundCopyJob *job = job_without_callback(flags, path, local);

    notify_by_writing(job, marker);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_for_file(marker, TRUE, 30000));
    IBackgroundCopyJob_Cancel(job);
    IBackgroundCopyJob_Release(job);
    delete_marker(marker);
}

/* Waits until the command line of a job of its own, notified after the call, has written its
 * marker: the notifier starts the programs in the order of their notices, so a program that an
 * earlier notice started, to do the same, was started first. */
static void run_a_later_command_line(void)
{
    assert_command_line_runs(BG_NOTIFY_JOB_ERROR, L"/gen/16k?seed=cmd-later&fault=404", L"cmd-later.bin",
                             L"cmdline-later.txt");
}

static void test_command_line_runs_when_the_job_is_transferred_without_a_callback(void **state)
{
    assert_command_line_runs(BG_NOTIFY_JOB_TRANSFERRED, L"/gen/16k?seed=cmd1", L"cmd1.bin", L"cmdline-transferred.txt");
}

static void test_command_line_runs_when_the_job_fails_without_a_callback(void **state)
{
    assert_command_line_runs(BG_NOTIFY_JOB_ERROR, L"/gen/16k?seed=cmd2&fault=404", L"cmd2.bin", L"cmdline-error.txt");
}

/* The command line is for notices no callback takes. */
static void test_command_line_does_not_run_when_the_callback_takes_the_notice(void **state)
{
    const WCHAR *marker = dosvc_test_path(L"cmdline-unused.txt");
    struct recorder r;
    IBackgroundCopyJob *job;

    recorder_init(&r);
    job = job_with(&r, BG_NOTIFY_JOB_TRANSFERRED, L"/gen/16k?seed=cmd3", L"cmd3.bin");
    notify_by_writing(job, marker);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_for_count(&r.transferred, 1, 30000));
    run_a_later_command_line();
    assert_false(dosvc_file_exists(marker));
    finish(job, &r);
}

/* A class object for the notification CLSID, registered as a local server by this process. */
static struct recorder clsid_recorder;

static HRESULT WINAPI factory_QueryInterface(IClassFactory *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory))
    {
        *out = iface;
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}
static ULONG WINAPI factory_AddRef(IClassFactory *iface) { return 2; }
static ULONG WINAPI factory_Release(IClassFactory *iface) { return 1; }
static HRESULT WINAPI factory_CreateInstance(IClassFactory *iface, IUnknown *outer, REFIID riid, void **out)
{
    return rec_QueryInterface(&clsid_recorder.IBackgroundCopyCallback2_iface, riid, out);
}
static HRESULT WINAPI factory_LockServer(IClassFactory *iface, BOOL lock) { return S_OK; }
static const IClassFactoryVtbl factory_vtbl =
{
    factory_QueryInterface, factory_AddRef, factory_Release, factory_CreateInstance, factory_LockServer,
};

/* A job of path with no callback interface, notifying the class factory registers as clsid. */
static IBackgroundCopyJob *job_for_clsid(const CLSID *clsid, IClassFactory *factory, ULONG flags, const WCHAR *path,
                                         const WCHAR *local, DWORD *cookie)
{
    BITS_JOB_PROPERTY_VALUE value;
    IBackgroundCopyJob5 *job5;
    IBackgroundCopyJob *job;

    assert_hr(S_OK, CoRegisterClassObject(clsid, (IUnknown *)factory, CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE, cookie));
    job = job_without_callback(flags, path, local);
    job5 = dosvc_query(job, &IID_IBackgroundCopyJob5);
    value.ClsID = *clsid;
    assert_hr(S_OK, IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_NOTIFICATION_CLSID, value));
    IBackgroundCopyJob5_Release(job5);
    return job;
}

static void test_notification_clsid_server_is_told_the_job_is_transferred(void **state)
{
    static const CLSID clsid = { 0x6d0f1e52, 0x3c7a, 0x4f0e, { 0x9a, 0x41, 0x2b, 0x8e, 0x5c, 0x77, 0x10, 0xd3 } };
    IClassFactory factory = { &factory_vtbl };
    IBackgroundCopyJob *job;
    DWORD cookie;

    recorder_init(&clsid_recorder);
    job = job_for_clsid(&clsid, &factory, BG_NOTIFY_JOB_TRANSFERRED, L"/gen/16k?seed=clsid", L"clsid.bin", &cookie);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_handle(clsid_recorder.event, 30000));
    assert_int_equal(clsid_recorder.transferred, 1);
    CoRevokeClassObject(cookie);
    finish(job, &clsid_recorder);
}

/* spec 5.4: JobError is asked again of a callback that declines it, and the command line, for
 * the notice no callback took, runs once. */
static void test_declined_job_error_is_asked_again_and_runs_the_command_line_once(void **state)
{
    const WCHAR *marker = dosvc_test_path(L"cmdline-declined.txt");
    struct recorder r;
    IBackgroundCopyJob *job;

    recorder_init(&r);
    r.error_answers[0] = E_FAIL;
    job = job_with(&r, BG_NOTIFY_JOB_ERROR, L"/gen/16k?seed=declined&fault=404", L"declined.bin");
    notify_by_writing(job, marker);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_true(dosvc_wait_for_file(marker, TRUE, 30000));
    delete_marker(marker);
    assert_true(dosvc_wait_for_count(&r.errors, 2, 30000));
    run_a_later_command_line();
    assert_int_equal(r.errors, 2);
    assert_false(dosvc_file_exists(marker));
    finish(job, &r);
}

/* A class object that cannot make the callback: its JobError is not tried again and again. */
static LONG refused_instances;

static HRESULT WINAPI refusing_CreateInstance(IClassFactory *iface, IUnknown *outer, REFIID riid, void **out)
{
    InterlockedIncrement(&refused_instances);
    *out = NULL;
    return E_NOINTERFACE;
}

static const IClassFactoryVtbl refusing_vtbl =
{
    factory_QueryInterface, factory_AddRef, factory_Release, refusing_CreateInstance, factory_LockServer,
};

static void test_job_error_for_a_clsid_that_makes_no_callback_is_not_repeated(void **state)
{
    static const CLSID clsid = { 0x1b3e7c40, 0x5d2a, 0x4c61, { 0x8f, 0x07, 0x6a, 0x93, 0x2e, 0x11, 0xc4, 0x58 } };
    IClassFactory factory = { &refusing_vtbl };
    IBackgroundCopyJob *job;
    DWORD cookie;

    refused_instances = 0;
    job = job_for_clsid(&clsid, &factory, BG_NOTIFY_JOB_ERROR, L"/gen/16k?seed=refused&fault=404", L"refused.bin", &cookie);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_int_equal(dosvc_wait_for_state(job, DOSVC_STATE(BG_JOB_STATE_ERROR), 10000), BG_JOB_STATE_ERROR);
    assert_true(dosvc_wait_for_count(&refused_instances, 1, 30000));
    wait_out_a_job_error_repeat();
    assert_int_equal(refused_instances, 1);
    CoRevokeClassObject(cookie);
    IBackgroundCopyJob_Cancel(job);
    IBackgroundCopyJob_Release(job);
}

/*
 * A declined JobError asked again waits its turn behind the notices queued before it, as in one
 * queue in the order queued: JobErrors declined so slowly, by three jobs, that one of them is
 * always due again (together they take longer than the 200 ms repeat delay) never keep another
 * job's JobModification from coming (an earlier notifier served every due repeat first, and this
 * one never came).
 */
static void test_declined_job_errors_always_due_again_do_not_hold_back_other_notices(void **state)
{
    static struct recorder decliners[3], watcher;
    IBackgroundCopyJob *failing[ARRAYSIZE(decliners)], *job;
    WCHAR path[64], local[32];
    unsigned i;

    for (i = 0; i < ARRAYSIZE(decliners); i++)
    {
        recorder_init(&decliners[i]);
        decliners[i].declines_every_error = TRUE;
        decliners[i].error_ms = 150;
        wsprintfW(path, L"/gen/1k?fault=404&seed=always-due-%u", i);
        wsprintfW(local, L"always-due-%u.bin", i);
        failing[i] = job_with(&decliners[i], BG_NOTIFY_JOB_ERROR, path, local);
        assert_hr(S_OK, IBackgroundCopyJob_Resume(failing[i]));
    }
    /* Every one declined and asked again: the repeats go round. */
    for (i = 0; i < ARRAYSIZE(decliners); i++) assert_true(dosvc_wait_for_count(&decliners[i].errors, 2, 30000));
    recorder_init(&watcher);
    job = job_with(&watcher, BG_NOTIFY_JOB_MODIFICATION, L"/gen/1k?seed=always-due-watcher", L"always-due-watcher.bin");
    assert_hr(S_OK, IBackgroundCopyJob_SetDescription(job, L"changed while the JobErrors go round"));
    assert_true(dosvc_wait_for_count(&watcher.modifications, 1, 10000));
    /* Cancelled, the jobs are asked no more: once the notifier is past its queue, no callback runs. */
    for (i = 0; i < ARRAYSIZE(decliners); i++) IBackgroundCopyJob_Cancel(failing[i]);
    assert_true(dosvc_wait_for_notifier(manager, 30000));
    for (i = 0; i < ARRAYSIZE(decliners); i++) finish(failing[i], &decliners[i]);
    finish(job, &watcher);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_transferred_is_called_once_when_the_job_is_transferred),
        cmocka_unit_test(test_job_transferred_is_not_called_without_its_flag),
        cmocka_unit_test(test_complete_from_inside_job_transferred_puts_the_file_in_place),
        cmocka_unit_test(test_job_error_is_called_with_the_error_when_the_job_fails),
        cmocka_unit_test(test_job_error_is_called_again_until_it_returns_s_ok),
        cmocka_unit_test(test_job_error_is_not_called_for_a_transient_error),
        cmocka_unit_test(test_job_modification_reports_progress_and_state_changes),
        cmocka_unit_test(test_get_state_and_get_progress_from_inside_job_modification_are_consistent),
        cmocka_unit_test(test_job_modification_is_not_called_without_its_flag),
        cmocka_unit_test(test_cancel_from_inside_job_error_cancels_the_job),
        cmocka_unit_test(test_cancel_from_inside_job_transferred_cancels_the_job_and_deletes_the_file),
        cmocka_unit_test(test_cancel_from_inside_job_modification_cancels_the_transfer),
        cmocka_unit_test(test_file_transferred_is_called_for_each_file),
        cmocka_unit_test(test_notify_disable_silences_every_callback),
        cmocka_unit_test(test_callback_from_an_sta_is_called_on_its_own_thread),
        cmocka_unit_test(test_command_line_runs_when_the_job_is_transferred_without_a_callback),
        cmocka_unit_test(test_command_line_runs_when_the_job_fails_without_a_callback),
        cmocka_unit_test(test_command_line_does_not_run_when_the_callback_takes_the_notice),
        cmocka_unit_test(test_notification_clsid_server_is_told_the_job_is_transferred),
        cmocka_unit_test(test_declined_job_error_is_asked_again_and_runs_the_command_line_once),
        cmocka_unit_test(test_job_error_for_a_clsid_that_makes_no_callback_is_not_repeated),
        cmocka_unit_test(test_declined_job_errors_always_due_again_do_not_hold_back_other_notices),
    };
    return cmocka_run_group_tests_name("callbacks", tests, setup_group, teardown_group);
}
