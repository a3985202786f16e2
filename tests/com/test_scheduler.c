/*
 * The engine's scheduler and its timer (docs/engine.md), seen through the job API: the
 * threads a process has while jobs wait to retry or transfer, and the slots jobs take.
 * A job waiting out a transient error holds no thread (its wait is on the engine's one
 * timer), and the number of threads is bounded whatever the number of jobs: at most six
 * foreground and two background jobs move at once, each class in slots of its own.
 *
 * Jobs that wait to retry fail on a port where connections are refused. Every test
 * cancels its jobs; the teardown does it again for a test that failed half-way.
 */
#include "com_test.h"

#include <tlhelp32.h>
#include <wininet.h>

#define STATE(s) DOSVC_STATE(BG_JOB_STATE_##s)
#define SETTLED (STATE(TRANSFERRED) | STATE(ERROR) | STATE(CANCELLED) | STATE(ACKNOWLEDGED))

#define MAX_FOREGROUND 6               /* engine.c */
#define MAX_BACKGROUND 2
#define MAX_JOBS 48

static IBackgroundCopyManager *manager;
static IBackgroundCopyJob *jobs[MAX_JOBS];
static int job_count;
static unsigned threads_at_start;      /* before any job: dosvc's threads come on top */

static unsigned threads_of_this_process(void);

static int setup_group(void **state)
{
    threads_at_start = threads_of_this_process();
    return dosvc_setup_manager(&manager);
}
static int teardown_group(void **state) { return dosvc_teardown_manager(&manager); }

/* Cancels and lets go of every job the test made. */
static int cancel_jobs(void **state)
{
    while (job_count)
    {
        IBackgroundCopyJob *job = jobs[--job_count];
        IBackgroundCopyJob_Cancel(job);
        IBackgroundCopyJob_Release(job);
    }
    return 0;
}

/* A job of the test's for url, resumed, with priority, a retry delay of delay seconds and
 * (unless 0) a no-progress timeout of timeout seconds. */
static IBackgroundCopyJob *new_job(const WCHAR *url, BG_JOB_PRIORITY priority, ULONG delay, ULONG timeout)
{
    IBackgroundCopyJob *job;
    WCHAR name[32];

    assert_true(job_count < MAX_JOBS);
    wsprintfW(name, L"scheduled-%d.bin", job_count);
    job = dosvc_create_job(manager, L"scheduler test", NULL);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, url, dosvc_test_path(name)));
    assert_hr(S_OK, IBackgroundCopyJob_SetPriority(job, priority));
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, delay));
    if (timeout) assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, timeout));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    jobs[job_count++] = job;
    return job;
}

static IBackgroundCopyJob *resumed_job(const WCHAR *url, BG_JOB_PRIORITY priority, ULONG delay)
{
    return new_job(url, priority, delay, 0);
}

/* A job whose every attempt is refused: after each it waits delay seconds to retry, and after
 * timeout seconds without progress (0: the default) it fails. */
static IBackgroundCopyJob *refused_job_with_timeout(BG_JOB_PRIORITY priority, ULONG delay, ULONG timeout)
{
    WCHAR url[64];

    wsprintfW(url, L"http://127.0.0.1:%d/refused-%d", dosvc_server_refused_port(), job_count);
    return new_job(url, priority, delay, timeout);
}

static IBackgroundCopyJob *refused_job(BG_JOB_PRIORITY priority, ULONG delay)
{
    return refused_job_with_timeout(priority, delay, 0);
}

/* A job that transfers for a minute, 16 KiB a second. */
static IBackgroundCopyJob *busy_job(BG_JOB_PRIORITY priority)
{
    return resumed_job(dosvc_url(L"/gen/960k?seed=busy%d&fault=drip&rate=16384", job_count), priority, 1);
}

static unsigned threads_of_this_process(void)
{
    HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    THREADENTRY32 entry = { .dwSize = sizeof(entry) };
    DWORD self = GetCurrentProcessId();
    unsigned count = 0;

    assert_true(snapshot != INVALID_HANDLE_VALUE);
    if (Thread32First(snapshot, &entry))
        do count += entry.th32OwnerProcessID == self;
        while (Thread32Next(snapshot, &entry));
    CloseHandle(snapshot);
    return count;
}

struct thread_limit
{
    unsigned most;
    unsigned seen;
};

static BOOL threads_at_most(void *context)
{
    struct thread_limit *limit = context;
    return (limit->seen = threads_of_this_process()) <= limit->most;
}

/* Waits until the process has at most most threads (workers that end take a moment to go). */
static void assert_threads_at_most(unsigned most)
{
    struct thread_limit limit = { most, 0 };

    if (!dosvc_wait(threads_at_most, &limit, 10000))
        fail_msg("the process has %u threads, more than %u", limit.seen, most);
}

static void wait_for_each(int first, int count, unsigned states)
{
    int i;
    for (i = first; i < first + count; i++)
        assert_true(DOSVC_STATE(dosvc_wait_for_state(jobs[i], states, 15000)) & states);
}

static BOOL left_the_queue(void *job)
{
    return dosvc_state_of(job) != BG_JOB_STATE_QUEUED;
}

static ULONG error_count(IBackgroundCopyJob *job)
{
    ULONG count = 0;
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &count));
    return count;
}

struct retries
{
    int first, count;
    ULONG errors;
};

static BOOL each_failed_so_often(void *context)
{
    struct retries *r = context;
    int i;

    for (i = r->first; i < r->first + r->count; i++)
        if (error_count(jobs[i]) < r->errors) return FALSE;
    return TRUE;
}

/* ---- waiting to retry ----------------------------------------------------------- */

/* 40 jobs waiting to retry: their waits are on the one timer, not a thread each (before, each
 * job's worker waited: 40 threads). */
static void test_jobs_waiting_to_retry_hold_no_thread(void **state)
{
    unsigned before = threads_at_start;
    int i;

    for (i = 0; i < 40; i++) refused_job(i % 2 ? BG_JOB_PRIORITY_NORMAL : BG_JOB_PRIORITY_FOREGROUND, 3600);
    wait_for_each(0, 40, STATE(TRANSIENT_ERROR));
    /* The timer, and one more for a worker still on its way out. */
    assert_threads_at_most(before + 2);
}

/* The timer ends with the last wait: a DLL whose jobs no longer wait has no thread of its own. */
static void test_timer_ends_when_no_job_waits_any_more(void **state)
{
    int i;

    for (i = 0; i < 4; i++) refused_job(BG_JOB_PRIORITY_NORMAL, 3600);
    wait_for_each(0, 4, STATE(TRANSIENT_ERROR));
    cancel_jobs(state);
    assert_threads_at_most(threads_at_start);
}

/* Each of 12 jobs is retried by the timer whenever its delay of a second is over: its error
 * count grows. */
static void test_every_job_waiting_to_retry_is_retried_when_its_delay_is_over(void **state)
{
    struct retries retries = { 0, 12, 3 };
    int i;

    for (i = 0; i < 12; i++) refused_job(i % 3 ? BG_JOB_PRIORITY_LOW : BG_JOB_PRIORITY_FOREGROUND, 1);
    assert_true(dosvc_wait(each_failed_so_often, &retries, 30000));
}

/* A job waits an hour to retry; its delay made a second, it retries soon (the timer reads the
 * job again when it changes). */
static void test_shortened_retry_delay_of_a_waiting_job_counts_at_once(void **state)
{
    IBackgroundCopyJob *job = refused_job(BG_JOB_PRIORITY_NORMAL, 3600);
    struct retries retries = { 0, 1, 2 };

    wait_for_each(0, 1, STATE(TRANSIENT_ERROR));
    assert_int_equal(error_count(job), 1);
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 1));
    assert_true(dosvc_wait(each_failed_so_often, &retries, 15000));
}

/* A waiting job whose no-progress timeout is made a second fails (spec 5.1), from the timer. */
static void test_no_progress_timeout_set_while_waiting_ends_the_job_from_the_timer(void **state)
{
    IBackgroundCopyJob *job = refused_job(BG_JOB_PRIORITY_NORMAL, 3600);
    IBackgroundCopyError *error = NULL;
    BG_ERROR_CONTEXT context;
    HRESULT code;

    wait_for_each(0, 1, STATE(TRANSIENT_ERROR));
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, 1));
    assert_int_equal(dosvc_wait_for_state(job, STATE(ERROR), 15000), BG_JOB_STATE_ERROR);
    assert_hr(S_OK, IBackgroundCopyJob_GetError(job, &error));
    assert_hr(S_OK, IBackgroundCopyError_GetError(error, &context, &code));
    /* The error it waited out, as the one that became fatal. */
    assert_hr(HRESULT_FROM_WIN32(ERROR_INTERNET_CANNOT_CONNECT), code);
    IBackgroundCopyError_Release(error);
}

/* A background job whose delay is over waits for a slot while two others transfer; its
 * no-progress timeout still counts meanwhile (spec 5.1), and makes it an error. */
static void test_retry_waiting_for_a_slot_still_ends_at_its_no_progress_timeout(void **state)
{
    IBackgroundCopyJob *job = refused_job_with_timeout(BG_JOB_PRIORITY_NORMAL, 1, 4);
    int i;

    wait_for_each(0, 1, STATE(TRANSIENT_ERROR));
    for (i = 0; i < MAX_BACKGROUND; i++) busy_job(BG_JOB_PRIORITY_NORMAL);
    wait_for_each(1, MAX_BACKGROUND, STATE(TRANSFERRING));
    /* The busy jobs hold their slots for a minute. */
    assert_int_equal(dosvc_wait_for_state(job, SETTLED, 20000), BG_JOB_STATE_ERROR);
    assert_int_equal(dosvc_state_of(jobs[1]), BG_JOB_STATE_TRANSFERRING);
}

/* Two background jobs retrying without delay do not keep the background slots from a job
 * that waits for one: each retry goes behind it. */
static void test_jobs_retrying_without_delay_do_not_hold_back_a_waiting_job(void **state)
{
    IBackgroundCopyJob *waiting;
    int i;

    for (i = 0; i < MAX_BACKGROUND; i++) refused_job(BG_JOB_PRIORITY_NORMAL, 0);
    waiting = resumed_job(dosvc_url(L"/gen/1k?seed=behind%lu", GetCurrentProcessId()), BG_JOB_PRIORITY_NORMAL, 1);
    assert_int_equal(dosvc_wait_for_state(waiting, SETTLED, 15000), BG_JOB_STATE_TRANSFERRED);
}

/* ---- slots ------------------------------------------------------------------------ */

/* Six foreground jobs take every foreground slot (for a minute). */
static void fill_the_foreground_slots(void)
{
    int i;

    for (i = 0; i < MAX_FOREGROUND; i++) busy_job(BG_JOB_PRIORITY_FOREGROUND);
    wait_for_each(0, MAX_FOREGROUND, STATE(TRANSFERRING));
}

/* A seventh foreground job, which waits (QUEUED). Only checked for a moment that it waits:
 * nothing says a job will not start, and the six hold their slots for a minute. */
static IBackgroundCopyJob *seventh_foreground_job(void)
{
    IBackgroundCopyJob *seventh = busy_job(BG_JOB_PRIORITY_FOREGROUND);

    assert_false(dosvc_wait(left_the_queue, seventh, 200));
    return seventh;
}

/* Six foreground jobs transfer; a seventh waits (QUEUED) until one of them ends. */
static void test_at_most_six_foreground_jobs_transfer_at_once(void **state)
{
    IBackgroundCopyJob *seventh;

    fill_the_foreground_slots();
    seventh = seventh_foreground_job();
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(jobs[0]));
    assert_int_equal(dosvc_wait_for_state(seventh, STATE(TRANSFERRING) | SETTLED, 10000), BG_JOB_STATE_TRANSFERRING);
}

/* Background jobs have slots of their own: two start while six foreground jobs transfer. */
static void test_background_jobs_start_while_six_foreground_jobs_transfer(void **state)
{
    int i;

    fill_the_foreground_slots();
    for (i = 0; i < MAX_BACKGROUND; i++) busy_job(BG_JOB_PRIORITY_NORMAL);
    wait_for_each(MAX_FOREGROUND, MAX_BACKGROUND, STATE(TRANSFERRING));
}

/* A queued foreground job made background while the foreground slots are taken starts in a
 * free background slot. */
static void test_queued_foreground_job_made_background_takes_a_background_slot(void **state)
{
    IBackgroundCopyJob *seventh;

    fill_the_foreground_slots();
    seventh = seventh_foreground_job();
    assert_hr(S_OK, IBackgroundCopyJob_SetPriority(seventh, BG_JOB_PRIORITY_NORMAL));
    assert_int_equal(dosvc_wait_for_state(seventh, STATE(TRANSFERRING) | SETTLED, 10000), BG_JOB_STATE_TRANSFERRING);
}

/* 24 jobs at once, foreground and background, hold no more threads than their slots. */
static void test_threads_stay_bounded_whatever_the_number_of_jobs(void **state)
{
    unsigned before = threads_at_start;
    int i;

    /* Even jobs are foreground: the first six of them, and the first two odd ones, take every slot. */
    for (i = 0; i < 24; i++) busy_job(i % 2 ? BG_JOB_PRIORITY_NORMAL : BG_JOB_PRIORITY_FOREGROUND);
    for (i = 0; i < 2 * MAX_FOREGROUND; i += 2) wait_for_each(i, 1, STATE(TRANSFERRING));
    for (i = 1; i < 2 * MAX_BACKGROUND; i += 2) wait_for_each(i, 1, STATE(TRANSFERRING));
    /* A worker for each slot, and two more: the notifier, a worker on its way out. */
    assert_threads_at_most(before + MAX_FOREGROUND + MAX_BACKGROUND + 2);
    for (i = 2 * MAX_FOREGROUND; i < 24; i++) assert_int_equal(dosvc_state_of(jobs[i]), BG_JOB_STATE_QUEUED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_jobs_waiting_to_retry_hold_no_thread, cancel_jobs),
        cmocka_unit_test_teardown(test_timer_ends_when_no_job_waits_any_more, cancel_jobs),
        cmocka_unit_test_teardown(test_every_job_waiting_to_retry_is_retried_when_its_delay_is_over, cancel_jobs),
        cmocka_unit_test_teardown(test_shortened_retry_delay_of_a_waiting_job_counts_at_once, cancel_jobs),
        cmocka_unit_test_teardown(test_no_progress_timeout_set_while_waiting_ends_the_job_from_the_timer, cancel_jobs),
        cmocka_unit_test_teardown(test_retry_waiting_for_a_slot_still_ends_at_its_no_progress_timeout, cancel_jobs),
        cmocka_unit_test_teardown(test_jobs_retrying_without_delay_do_not_hold_back_a_waiting_job, cancel_jobs),
        cmocka_unit_test_teardown(test_at_most_six_foreground_jobs_transfer_at_once, cancel_jobs),
        cmocka_unit_test_teardown(test_background_jobs_start_while_six_foreground_jobs_transfer, cancel_jobs),
        cmocka_unit_test_teardown(test_queued_foreground_job_made_background_takes_a_background_slot, cancel_jobs),
        cmocka_unit_test_teardown(test_threads_stay_bounded_whatever_the_number_of_jobs, cancel_jobs),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
