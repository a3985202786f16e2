/*
 * Free-threaded objects under load (DESIGN rule 6; ThreadingModel=Both): eight
 * threads call one job at once (AddFile, EnumFiles/Next/GetProgress, the job's
 * GetProgress, Suspend/Resume, Set/GetNotifyInterface, GetState) for a fixed
 * number of rounds, half through the shared job object and half through views
 * of their own from GetJob. Then the job is cancelled and everything released.
 * The group setup runs that scenario once and records what it saw; each test
 * checks one consequence. A deadlock shows as workers that stop making progress
 * (no round done for STALL_MS), which fails the tests instead of hanging them; how
 * long the whole scenario takes is the machine's speed and never fails them.
 *
 * The file is on loopback port 1, where nothing listens: each Resume lets the engine start a
 * run that fails to connect and waits out the retry delay (600 s) in TRANSIENT_ERROR, so the
 * job is seen SUSPENDED or in any running state, and never moves a byte. ERROR is not
 * expected: a refused connection is transient and the no-progress timeout is 86400 s.
 */
#include "com_test.h"

#include <stdio.h>

#define WORKERS 8
#define ROUNDS 2000
#define STALL_MS 20000
#define URL L"http://127.0.0.1:1/stress.bin"

/* The client callback every worker sets; the scenario starts it at one reference. */
static struct test_callback callback;

/* ---- what the scenario saw ------------------------------------------------------ */

static struct
{
    BOOL ran;                    /* the scenario got as far as starting the workers */
    BOOL workers_finished;
    LONG rounds;                 /* rounds done, by all workers: their progress */
    LONG unexpected;             /* calls that returned something they must not */
    char first_unexpected[256];
    LONG files_added;            /* successful AddFile calls, the seed file included */
    ULONG files_total;           /* the job's FilesTotal after the workers */
    ULONG files_enumerated;      /* EnumFiles' GetCount after the workers */
    HRESULT cancel;
    LONG callback_refs;          /* after Cancel, with the job objects still held */
    HRESULT can_unload;          /* after every object is released */
} seen;

static IBackgroundCopyManager *manager;
static IBackgroundCopyJob *shared_job;
static GUID job_id;
static HANDLE start;

struct worker
{
    int index;
    IBackgroundCopyJob *job;
    unsigned random;
};

/* Workers never call cmocka (it is not thread-safe): they record, the tests assert. */
static void expect(BOOL ok, const char *call, HRESULT hr, const struct worker *w)
{
    if (ok) return;
    if (InterlockedIncrement(&seen.unexpected) == 1)
        snprintf(seen.first_unexpected, sizeof(seen.first_unexpected), "worker %d: %s returned 0x%08lx",
                 w->index, call, (unsigned long)hr);
}

static ULONG next_random(struct worker *w, ULONG bound)
{
    w->random = w->random * 1103515245u + 12345u;
    return bound ? (w->random >> 8) % bound : 0;
}

static void add_one_file(struct worker *w, int round)
{
    WCHAR local[MAX_PATH];
    HRESULT hr;

    wsprintfW(local, L"%s\\stress-%d-%d.bin", dosvc_test_dir(), w->index, round);
    hr = IBackgroundCopyJob_AddFile(w->job, URL, local);
    expect(hr == S_OK, "AddFile", hr, w);
    if (hr == S_OK) InterlockedIncrement(&seen.files_added);
}

/* A few files from a random place of a fresh snapshot; none of them has moved a byte. */
static void read_some_files(struct worker *w)
{
    IEnumBackgroundCopyFiles *files = NULL;
    IBackgroundCopyFile *items[4];
    BG_FILE_PROGRESS progress;
    ULONG count = 0, fetched = 0, i;
    HRESULT hr;

    hr = IBackgroundCopyJob_EnumFiles(w->job, &files);
    expect(hr == S_OK && files, "EnumFiles", hr, w);
    if (!files) return;
    hr = IEnumBackgroundCopyFiles_GetCount(files, &count);
    expect(hr == S_OK && count >= 1, "GetCount", hr, w);
    hr = IEnumBackgroundCopyFiles_Skip(files, next_random(w, count));
    expect(hr == S_OK, "Skip", hr, w);
    hr = IEnumBackgroundCopyFiles_Next(files, ARRAYSIZE(items), items, &fetched);
    expect((hr == S_OK && fetched == ARRAYSIZE(items)) || (hr == S_FALSE && fetched < ARRAYSIZE(items)),
           "Next", hr, w);
    for (i = 0; i < fetched; i++)
    {
        hr = IBackgroundCopyFile_GetProgress(items[i], &progress);
        expect(hr == S_OK && progress.BytesTotal == BG_SIZE_UNKNOWN && progress.BytesTransferred == 0
               && !progress.Completed, "file GetProgress", hr, w);
        IBackgroundCopyFile_Release(items[i]);
    }
    IEnumBackgroundCopyFiles_Release(files);
}

static void read_job(struct worker *w)
{
    BG_JOB_PROGRESS progress;
    BG_JOB_STATE state = 0xdeadbeef;
    char what[32];
    HRESULT hr;

    hr = IBackgroundCopyJob_GetProgress(w->job, &progress);
    expect(hr == S_OK && progress.FilesTotal >= 1 && progress.FilesTransferred == 0
           && progress.BytesTotal == BG_SIZE_UNKNOWN && progress.BytesTransferred == 0, "job GetProgress", hr, w);
    hr = IBackgroundCopyJob_GetState(w->job, &state);
    snprintf(what, sizeof(what), "GetState (state %d)", (int)state);
    expect(hr == S_OK && (state == BG_JOB_STATE_SUSPENDED || state == BG_JOB_STATE_QUEUED
                          || state == BG_JOB_STATE_TRANSFERRING || state == BG_JOB_STATE_TRANSIENT_ERROR),
           what, hr, w);
}

static void suspend_and_resume(struct worker *w, int round)
{
    HRESULT hr;

    if ((round + w->index) % 2)
    {
        hr = IBackgroundCopyJob_Resume(w->job);
        expect(hr == S_OK, "Resume", hr, w);
    }
    hr = IBackgroundCopyJob_Suspend(w->job);
    expect(hr == S_OK, "Suspend", hr, w);
    if (!((round + w->index) % 2))
    {
        hr = IBackgroundCopyJob_Resume(w->job);
        expect(hr == S_OK, "Resume", hr, w);
    }
}

static void set_and_get_callback(struct worker *w, int round)
{
    IUnknown *mine = (IUnknown *)&callback.IBackgroundCopyCallback_iface, *current = NULL;
    HRESULT hr;

    hr = IBackgroundCopyJob_SetNotifyInterface(w->job, round % 3 == 2 ? NULL : mine);
    expect(hr == S_OK, "SetNotifyInterface", hr, w);
    hr = IBackgroundCopyJob_GetNotifyInterface(w->job, &current);
    expect(hr == S_OK && (!current || current == mine), "GetNotifyInterface", hr, w);
    if (current) IUnknown_Release(current);
}

static DWORD WINAPI worker_main(void *param)
{
    struct worker *w = param;
    int round;

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    /* The gate opens once every worker exists; a worker it never lets in does no round, which
     * the file count shows. */
    for (round = dosvc_wait_handle(start, 60000) ? 0 : ROUNDS; round < ROUNDS; round++)
    {
        add_one_file(w, round);
        read_some_files(w);
        read_job(w);
        suspend_and_resume(w, round);
        set_and_get_callback(w, round);
        InterlockedIncrement(&seen.rounds);
    }
    CoUninitialize();
    return 0;
}

/* ---- the scenario ----------------------------------------------------------------- */

/* Static: a worker stuck in a deadlock still points into them after the scenario gives up. */
static struct worker workers[WORKERS];
static HANDLE threads[WORKERS];

static BOOL all_workers_ended(void *context)
{
    return WaitForMultipleObjects(WORKERS, threads, TRUE, 0) == WAIT_OBJECT_0;
}

static void run_scenario(void)
{
    IEnumBackgroundCopyFiles *files;
    BG_JOB_PROGRESS progress;
    can_unload_fn can_unload = dosvc_can_unload_now();
    int i;

    dosvc_test_dir();          /* made once here: workers only read it */
    new_test_callback(&callback);
    if (FAILED(dosvc_create(&IID_IBackgroundCopyManager, (void **)&manager))) return;
    if (FAILED(IBackgroundCopyManager_CreateJob(manager, L"stress", BG_JOB_TYPE_DOWNLOAD, &job_id, &shared_job))) return;
    /* One file first, so that Resume never meets an empty job. */
    if (FAILED(IBackgroundCopyJob_AddFile(shared_job, URL, dosvc_test_path(L"stress-seed.bin")))) return;
    seen.files_added = 1;

    start = CreateEventW(NULL, TRUE, FALSE, NULL);
    for (i = 0; i < WORKERS; i++)
    {
        workers[i].index = i;
        workers[i].random = 2654435761u * (i + 1);
        workers[i].job = NULL;
        if (i % 2)             /* odd workers use a view of their own, even ones the shared object */
        {
            HRESULT hr = IBackgroundCopyManager_GetJob(manager, &job_id, &workers[i].job);
            expect(hr == S_OK && workers[i].job, "GetJob", hr, &workers[i]);
        }
        if (!workers[i].job)
        {
            workers[i].job = shared_job;
            IBackgroundCopyJob_AddRef(shared_job);
        }
        threads[i] = CreateThread(NULL, 0, worker_main, &workers[i], 0, NULL);
    }
    seen.ran = TRUE;
    SetEvent(start);
    seen.workers_finished = dosvc_wait_while_progressing(all_workers_ended, NULL, &seen.rounds, STALL_MS);
    if (!seen.workers_finished) return;     /* leave everything: a stuck thread may still use it */
    for (i = 0; i < WORKERS; i++) CloseHandle(threads[i]);
    CloseHandle(start);

    if (SUCCEEDED(IBackgroundCopyJob_GetProgress(shared_job, &progress))) seen.files_total = progress.FilesTotal;
    if (SUCCEEDED(IBackgroundCopyJob_EnumFiles(shared_job, &files)))
    {
        IEnumBackgroundCopyFiles_GetCount(files, &seen.files_enumerated);
        IEnumBackgroundCopyFiles_Release(files);
    }
    seen.cancel = IBackgroundCopyJob_Cancel(shared_job);
    seen.callback_refs = callback.refs;

    for (i = 0; i < WORKERS; i++) IBackgroundCopyJob_Release(workers[i].job);
    IBackgroundCopyJob_Release(shared_job);
    IBackgroundCopyManager_Release(manager);
    seen.can_unload = can_unload ? can_unload() : E_FAIL;
}

static int group_setup(void **state)
{
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED))) return -1;
    run_scenario();
    return seen.ran ? 0 : -1;
}

static int group_teardown(void **state)
{
    CoUninitialize();
    return 0;
}

static void assert_workers_finished(void)
{
    if (!seen.workers_finished)
        fail_msg("the workers did no round for %lu ms (%ld of %d done): deadlock", dosvc_scaled_ms(STALL_MS),
                 seen.rounds, WORKERS * ROUNDS);
}

/* ---- the tests ---------------------------------------------------------------------- */

static void test_concurrent_calls_finish_without_deadlock(void **state)
{
    assert_workers_finished();
}

static void test_concurrent_calls_return_only_what_a_lone_call_would(void **state)
{
    assert_workers_finished();
    if (seen.unexpected) fail_msg("%ld unexpected results; the first: %s", seen.unexpected, seen.first_unexpected);
}

static void test_every_file_added_concurrently_is_in_the_job(void **state)
{
    assert_workers_finished();
    assert_int_equal(seen.files_added, 1 + WORKERS * ROUNDS);
    assert_int_equal(seen.files_total, seen.files_added);
    assert_int_equal(seen.files_enumerated, seen.files_added);
}

static void test_cancel_after_concurrent_use_succeeds(void **state)
{
    assert_workers_finished();
    assert_hr(S_OK, seen.cancel);
}

/* notes/com_decisions.md: dosvc releases the callback on Cancel */
static void test_callback_holds_only_its_own_reference_after_cancel(void **state)
{
    assert_workers_finished();
    assert_int_equal(seen.callback_refs, 1);
    assert_int_equal(callback.refs, 1);
}

static void test_dll_can_unload_once_everything_is_released(void **state)
{
    assert_workers_finished();
    assert_hr(S_OK, seen.can_unload);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_calls_finish_without_deadlock),
        cmocka_unit_test(test_concurrent_calls_return_only_what_a_lone_call_would),
        cmocka_unit_test(test_every_file_added_concurrently_is_in_the_job),
        cmocka_unit_test(test_cancel_after_concurrent_use_succeeds),
        cmocka_unit_test(test_callback_holds_only_its_own_reference_after_cancel),
        cmocka_unit_test(test_dll_can_unload_once_everything_is_released),
    };
    return cmocka_run_group_tests_name("eight threads on one job", tests, group_setup, group_teardown);
}
