/*
 * The store (store.h): job creation, lookup and listing, the job state machine
 * (spec 5.1), the read-only final states, files and their names, ranges and
 * progress (spec 5.5), settings, credentials, callbacks, errors and job times;
 * the engine's side: runs, the listener's events, and Cancel/Complete in two steps.
 * The tests stand in for the engine: progress and errors are written with a live run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "store.h"
#include "test_text.h"
#include "test_wait.h"

#define URL W(u"http://example.com/file.bin")
#define LOCAL W(u"C:\\downloads\\file.bin")
#define OWNER W(u"S-1-5-21-1000")

#define HR_E_FAIL ((int32_t)(-2147467259))          /* 0x80004005 */
#define HR_FILE_NOT_FOUND ((int32_t)(-2147024894))  /* 0x80070002 */

/* ---- helpers ------------------------------------------------------------- */

/* A notify reference that counts its destruction instead of freeing itself. */
struct counted_ref
{
    struct dos_ref ref;
    int destroyed;
};

static void counted_destroy(struct dos_ref *ref)
{
    ((struct counted_ref *)ref)->destroyed++;
}

static void counted_init(struct counted_ref *c)
{
    atomic_init(&c->ref.refs, 1);
    c->ref.destroy = counted_destroy;
    c->destroyed = 0;
}

/* Everything observable about a job and its first file, to prove a call changed nothing. */
struct snapshot
{
    struct dos_job_info info;
    dos_char *text[DOS_JOB_TEXT_COUNT];
    bool creds[DOS_AUTH_TARGETS][DOS_AUTH_SCHEMES];
    struct dos_ref *notify;
    size_t file_count;
    struct dos_file_info file;
    dos_char *file_text[DOS_FILE_TEXT_COUNT];
    dos_range *ranges;
    uint32_t range_count;
};

/* What the listener heard: each event as it came. */
enum { MAX_HEARD = 16 };

struct heard_event
{
    enum dos_event_kind kind;
    struct dos_job *job;
    struct dos_file *file;
};

struct heard
{
    size_t count;
    struct heard_event events[MAX_HEARD];
};

struct fixture
{
    struct dos_store *store;
    struct dos_job *job;           /* the test's own reference */
    struct dos_file *file;         /* the final-state fixtures' one file */
    dos_run run;                   /* the final-state fixtures' run, revoked by Cancel or Complete */
    struct counted_ref notify;
    struct snapshot before;
    struct heard heard;
};

static struct dos_job_info job_info(struct dos_job *job)
{
    struct dos_job_info info;
    memset(&info, 0xCC, sizeof(info));
    dos_job_get_info(job, &info);
    return info;
}

static struct dos_file_info file_info(struct dos_file *file)
{
    struct dos_file_info info;
    memset(&info, 0xCC, sizeof(info));
    dos_file_get_info(file, &info);
    return info;
}

static dos_job_state job_state(struct dos_job *job)
{
    return job_info(job).state;
}

static dos_char *job_text(struct dos_job *job, enum dos_job_text which)
{
    dos_char *text = NULL;
    assert_int_equal(dos_job_copy_text(job, which, malloc, &text), DOS_OK);
    assert_non_null(text);
    return text;
}

#define assert_job_text(job, which, expected)         \
    do {                                              \
        dos_char *text_ = job_text((job), (which));   \
        assert_wstr_equal(text_, (expected));         \
        free(text_);                                  \
    } while (0)

#define assert_job_text_not_set(job, which)                                                    \
    do {                                                                                       \
        dos_char *text_ = POISON(dos_char *);                                                  \
        assert_int_equal(dos_job_copy_text((job), (which), malloc, &text_), DOS_E_NOT_SET);    \
        assert_null(text_);                                                                    \
    } while (0)

#define assert_file_text(file, which, expected)                                           \
    do {                                                                                  \
        dos_char *text_ = NULL;                                                           \
        assert_int_equal(dos_file_copy_text((file), (which), malloc, &text_), DOS_OK);    \
        assert_wstr_equal(text_, (expected));                                             \
        free(text_);                                                                      \
    } while (0)

static struct dos_file_spec file_spec(const dos_char *remote, const dos_char *local)
{
    struct dos_file_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.remote_name = remote;
    spec.local_name = local;
    spec.file_size = DOS_SIZE_UNKNOWN;
    return spec;
}

static struct dos_file *add_file(struct dos_job *job, const dos_char *remote, const dos_char *local, uint64_t size)
{
    struct dos_file_spec spec = file_spec(remote, local);
    struct dos_file *file = NULL;

    spec.file_size = size;
    assert_int_equal(dos_job_add_files(job, &spec, 1, &file), DOS_OK);
    assert_non_null(file);
    return file;
}

static struct dos_file *add_ranged_file(struct dos_job *job, const dos_range *ranges, uint32_t count, uint64_t size)
{
    struct dos_file_spec spec = file_spec(URL, LOCAL);
    struct dos_file *file = NULL;

    spec.ranges = ranges;
    spec.range_count = count;
    spec.file_size = size;
    assert_int_equal(dos_job_add_files(job, &spec, 1, &file), DOS_OK);
    return file;
}

static size_t file_count(struct dos_job *job)
{
    return job_info(job).files_total;
}

/* The files as listed; checks the listing agrees with the job's count. */
static size_t listed_file_count(struct dos_job *job)
{
    struct dos_file **files = NULL;
    size_t count = 0;
    assert_int_equal(dos_job_list_files(job, &files, &count), DOS_OK);
    assert_non_null(files);
    free(files);
    assert_int_equal(count, file_count(job));
    return count;
}

/* What the engine does to pick a job up: the client's Resume queues it, a run takes it. */
static dos_run run_job(struct dos_job *job)
{
    dos_run run = 0;

    assert_int_equal(dos_job_resume(job), DOS_OK);
    assert_int_equal(job_state(job), DOS_STATE_QUEUED);
    assert_int_equal(dos_job_start_run(job, &run), DOS_OK);
    assert_int_not_equal(run, 0);
    return run;
}

/* Bytes the engine wrote before the client suspended the job again. */
static void record_then_suspend(struct dos_file *file, uint64_t size, uint64_t transferred)
{
    struct dos_job *job = dos_file_job(file);
    dos_run run = run_job(job);

    assert_int_equal(dos_file_record_progress(file, run, size, transferred), DOS_OK);
    assert_int_equal(dos_job_suspend(job), DOS_OK);
    assert_int_equal(job_state(job), DOS_STATE_SUSPENDED);
}

/* Puts a job with one fully transferred file into TRANSFERRED: its bytes on disk, then Resume. */
static struct dos_file *make_transferred(struct dos_job *job)
{
    struct dos_file *file = add_file(job, URL, LOCAL, 10);
    record_then_suspend(file, 10, 10);
    assert_int_equal(dos_job_resume(job), DOS_OK);
    assert_int_equal(job_state(job), DOS_STATE_TRANSFERRED);
    return file;
}

/*
 * Job times come from the wall clock, which may be coarse (about 16 ms on
 * Windows). Waiting until the clock has passed a recorded time makes
 * "later than" comparisons exact instead of flaky.
 */
static bool clock_past(void *context)
{
    return port_now_filetime() > *(uint64_t *)context;
}

static uint64_t wait_for_clock_past(uint64_t t)
{
    if (!test_wait(clock_past, &t, 10000)) fail_msg("the clock does not advance");
    return port_now_filetime();
}

/* The job's modification time, after which the clock has moved on. */
static uint64_t mark_time(struct dos_job *job)
{
    uint64_t t = job_info(job).modification_time;
    wait_for_clock_past(t);
    return t;
}

#define assert_modified_since(job, t) assert_true(job_info(job).modification_time > (t))

static void take_snapshot(struct fixture *fx, struct snapshot *snap)
{
    uint32_t t, s, i;

    memset(snap, 0, sizeof(*snap));
    snap->info = job_info(fx->job);
    for (i = 0; i < DOS_JOB_TEXT_COUNT; i++)
    {
        dos_status st = dos_job_copy_text(fx->job, (enum dos_job_text)i, malloc, &snap->text[i]);
        assert_true(st == DOS_OK || st == DOS_E_NOT_SET);
    }
    for (t = 0; t < DOS_AUTH_TARGETS; t++)
        for (s = 0; s < DOS_AUTH_SCHEMES; s++) snap->creds[t][s] = dos_job_has_credentials(fx->job, t + 1, s + 1);
    snap->notify = dos_job_get_notify(fx->job);
    dos_ref_release(snap->notify);     /* only its identity matters */
    snap->file_count = listed_file_count(fx->job);
    if (!fx->file) return;
    snap->file = file_info(fx->file);
    for (i = 0; i < DOS_FILE_TEXT_COUNT; i++)
    {
        dos_status st = dos_file_copy_text(fx->file, (enum dos_file_text)i, malloc, &snap->file_text[i]);
        assert_true(st == DOS_OK || st == DOS_E_NOT_SET);
    }
    assert_int_equal(dos_file_copy_ranges(fx->file, malloc, &snap->ranges, &snap->range_count), DOS_OK);
}

static void free_snapshot(struct snapshot *snap)
{
    uint32_t i;
    for (i = 0; i < DOS_JOB_TEXT_COUNT; i++) free(snap->text[i]);
    for (i = 0; i < DOS_FILE_TEXT_COUNT; i++) free(snap->file_text[i]);
    free(snap->ranges);
    memset(snap, 0, sizeof(*snap));
}

/* Fails unless the job and its file look exactly as in fx->before. */
static void assert_unchanged(struct fixture *fx)
{
    const struct snapshot *a = &fx->before;
    struct snapshot b;
    uint32_t i;

    take_snapshot(fx, &b);
    assert_memory_equal(&a->info.id, &b.info.id, sizeof(dos_guid));
    assert_int_equal(a->info.type, b.info.type);
    assert_int_equal(a->info.state, b.info.state);
    for (i = 0; i < DOS_JOB_U32_COUNT; i++) assert_int_equal(a->info.u32[i], b.info.u32[i]);
    assert_int_equal(a->info.proxy_usage, b.info.proxy_usage);
    assert_memory_equal(&a->info.notification_clsid, &b.info.notification_clsid, sizeof(dos_guid));
    assert_int_equal(a->info.creation_time, b.info.creation_time);
    assert_int_equal(a->info.modification_time, b.info.modification_time);
    assert_int_equal(a->info.transfer_completion_time, b.info.transfer_completion_time);
    assert_int_equal(a->info.error_count, b.info.error_count);
    assert_int_equal(a->info.files_total, b.info.files_total);
    assert_int_equal(a->info.files_transferred, b.info.files_transferred);
    assert_int_equal(a->info.bytes_total, b.info.bytes_total);
    assert_int_equal(a->info.bytes_transferred, b.info.bytes_transferred);
    for (i = 0; i < DOS_JOB_TEXT_COUNT; i++) assert_wstr_equal(b.text[i], a->text[i]);
    assert_memory_equal(a->creds, b.creds, sizeof(a->creds));
    assert_ptr_equal(a->notify, b.notify);
    assert_int_equal(a->file_count, b.file_count);
    if (fx->file)
    {
        assert_int_equal(a->file.bytes_total, b.file.bytes_total);
        assert_int_equal(a->file.bytes_transferred, b.file.bytes_transferred);
        assert_int_equal(a->file.completed, b.file.completed);
        assert_int_equal(a->file.temp_created, b.file.temp_created);
        assert_int_equal(a->file.file_size, b.file.file_size);
        assert_int_equal(a->file.range_count, b.file.range_count);
        assert_int_equal(a->file.validation_state, b.file.validation_state);
        assert_int_equal(a->file.job_state, b.file.job_state);
        assert_int_equal(a->file.job_priority, b.file.job_priority);
        for (i = 0; i < DOS_FILE_TEXT_COUNT; i++) assert_wstr_equal(b.file_text[i], a->file_text[i]);
        assert_int_equal(a->range_count, b.range_count);
        if (a->range_count) assert_memory_equal(a->ranges, b.ranges, a->range_count * sizeof(dos_range));
    }
    free_snapshot(&b);
}

/* ---- fixtures ------------------------------------------------------------ */

static int setup_job(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (!fx || !(fx->store = dos_store_create())) return -1;
    if (dos_store_create_job(fx->store, W(u"job"), DOS_JOB_DOWNLOAD, OWNER, &fx->job) != DOS_OK) return -1;
    counted_init(&fx->notify);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    if (fx->job) dos_job_release(fx->job);
    dos_store_shutdown(fx->store);
    dos_store_release(fx->store);
    free_snapshot(&fx->before);
    free(fx);
    return 0;
}

/* A job with a setting of every kind and one transferred file, then ended. */
static int setup_final(void **state, bool complete)
{
    const dos_range ranges[] = { { 0, 10 }, { 50, 20 } };
    struct fixture *fx;
    struct dos_ref *old = NULL;
    struct dos_file_spec spec;
    dos_status s;

    if (setup_job(state)) return -1;
    fx = *state;
    spec = file_spec(URL, LOCAL);
    spec.file_id = W(u"content-1");
    spec.ranges = ranges;
    spec.range_count = 2;
    spec.file_size = 100;
    if (dos_job_set_description(fx->job, W(u"description")) != DOS_OK
        || dos_job_set_proxy(fx->job, DOS_PROXY_OVERRIDE, W(u"proxy:8080"), W(u"<local>")) != DOS_OK
        || dos_job_set_notify_cmdline(fx->job, W(u"C:\\bin\\notify.exe"), W(u"--job")) != DOS_OK
        || dos_job_set_credentials(fx->job, 1, 1, W(u"user"), W(u"password")) != DOS_OK
        || dos_job_swap_notify(fx->job, &fx->notify.ref, &old) != DOS_OK
        || dos_job_add_files(fx->job, &spec, 1, &fx->file) != DOS_OK
        || dos_job_resume(fx->job) != DOS_OK
        || dos_job_start_run(fx->job, &fx->run) != DOS_OK
        || dos_file_record_progress(fx->file, fx->run, 100, 30) != DOS_OK)
        return -1;
    s = complete ? dos_job_complete(fx->job) : dos_job_cancel(fx->job);
    if (s != DOS_OK || fx->notify.destroyed != 1) return -1;
    take_snapshot(fx, &fx->before);
    return 0;
}

static int setup_cancelled_job(void **state) { return setup_final(state, false); }
static int setup_acknowledged_job(void **state) { return setup_final(state, true); }

/* ---- creating jobs ------------------------------------------------------- */

/* Spec 5.1: CreateJob -> SUSPENDED. */
static void test_new_job_is_suspended(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(job_state(fx->job), DOS_STATE_SUSPENDED);
}

/* Spec 3.2 (SetPriority): default BG_JOB_PRIORITY_NORMAL. */
static void test_new_job_has_normal_priority(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(job_info(fx->job).u32[DOS_JOB_PRIORITY], DOS_PRIORITY_NORMAL);
}

static void test_new_job_has_classic_default_settings(void **state)
{
    struct fixture *fx = *state;
    struct dos_job_info info = job_info(fx->job);

    assert_int_equal(info.type, DOS_JOB_DOWNLOAD);
    assert_int_equal(info.u32[DOS_JOB_NOTIFY_FLAGS], 0x3);   /* JOB_TRANSFERRED | JOB_ERROR */
    assert_int_equal(info.u32[DOS_JOB_RETRY_DELAY], DOS_DEFAULT_RETRY_DELAY);
    assert_int_equal(info.u32[DOS_JOB_NO_PROGRESS_TIMEOUT], DOS_DEFAULT_NO_PROGRESS_TIMEOUT);
    assert_int_equal(info.u32[DOS_JOB_COST_FLAGS], DOS_COST_DEFAULT);
    assert_int_equal(info.proxy_usage, DOS_PROXY_PRECONFIG);
    assert_int_equal(info.error_count, 0);
    assert_int_equal(info.files_total, 0);
    assert_int_equal(info.files_transferred, 0);
}

/* Spec 4.1 BG_JOB_TIMES: nothing has been modified or transferred yet. */
static void test_new_job_times_are_creation_time_and_no_completion(void **state)
{
    struct fixture *fx = *state;
    struct dos_job_info info = job_info(fx->job);

    assert_true(info.creation_time > 0);
    assert_int_equal(info.modification_time, info.creation_time);
    assert_int_equal(info.transfer_completion_time, 0);
}

static void test_new_job_keeps_its_display_name_and_owner(void **state)
{
    struct fixture *fx = *state;
    assert_job_text(fx->job, DOS_JOB_DISPLAY_NAME, W(u"job"));
    assert_job_text(fx->job, DOS_JOB_OWNER, OWNER);
}

static void test_new_jobs_get_unique_ids(void **state)
{
    struct fixture *fx = *state;
    static const dos_guid zero;
    struct dos_job *jobs[64];
    dos_guid ids[64];
    size_t i, j;

    for (i = 0; i < 64; i++)
    {
        assert_int_equal(dos_store_create_job(fx->store, W(u"many"), DOS_JOB_DOWNLOAD, OWNER, &jobs[i]), DOS_OK);
        ids[i] = job_info(jobs[i]).id;
        assert_memory_not_equal(&ids[i], &zero, sizeof(zero));
    }
    for (i = 0; i < 64; i++)
        for (j = i + 1; j < 64; j++) assert_memory_not_equal(&ids[i], &ids[j], sizeof(dos_guid));
    for (i = 0; i < 64; i++) dos_job_release(jobs[i]);
}

/* Spec 5.9: display name <= 256 characters. */
static void test_display_name_of_256_characters_is_accepted(void **state)
{
    struct fixture *fx = *state;
    dos_char *name = test_wstr_of_length("", DOS_MAX_DISPLAY_NAME, 'n', "");
    struct dos_job *job = NULL;

    assert_int_equal(dos_store_create_job(fx->store, name, DOS_JOB_DOWNLOAD, OWNER, &job), DOS_OK);
    assert_job_text(job, DOS_JOB_DISPLAY_NAME, name);
    dos_job_release(job);
    free(name);
}

static void test_display_name_of_257_characters_fails_and_creates_nothing(void **state)
{
    struct fixture *fx = *state;
    dos_char *name = test_wstr_of_length("", DOS_MAX_DISPLAY_NAME + 1, 'n', "");
    struct dos_job *job = POISON(struct dos_job *);

    assert_int_equal(dos_store_create_job(fx->store, name, DOS_JOB_DOWNLOAD, OWNER, &job), DOS_E_STRING_TOO_LONG);
    assert_null(job);
    assert_int_equal(dos_store_job_count(fx->store), 1);
    free(name);
}

static void test_null_display_name_fails_and_creates_nothing(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *job = POISON(struct dos_job *);

    assert_int_equal(dos_store_create_job(fx->store, NULL, DOS_JOB_DOWNLOAD, OWNER, &job), DOS_E_INVALID_ARG);
    assert_null(job);
    assert_int_equal(dos_store_job_count(fx->store), 1);
}

static void test_null_owner_fails_and_creates_nothing(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *job = POISON(struct dos_job *);

    assert_int_equal(dos_store_create_job(fx->store, W(u"x"), DOS_JOB_DOWNLOAD, NULL, &job), DOS_E_INVALID_ARG);
    assert_null(job);
    assert_int_equal(dos_store_job_count(fx->store), 1);
}

/* ---- finding and listing jobs -------------------------------------------- */

static void test_find_returns_the_job_with_that_id(void **state)
{
    struct fixture *fx = *state;
    dos_guid id = job_info(fx->job).id;
    struct dos_job *found = NULL;

    assert_int_equal(dos_store_find_job(fx->store, &id, &found), DOS_OK);
    assert_ptr_equal(found, fx->job);
    dos_job_release(found);
}

/* The found reference is the caller's own: it outlives the test's reference. */
static void test_found_job_holds_its_own_reference(void **state)
{
    struct fixture *fx = *state;
    dos_guid id = job_info(fx->job).id;
    struct dos_job *found = NULL;
    struct dos_job_info info;

    assert_int_equal(dos_store_find_job(fx->store, &id, &found), DOS_OK);
    dos_job_release(fx->job);
    fx->job = NULL;
    dos_store_shutdown(fx->store);                   /* drops the list's reference too */
    info = job_info(found);
    assert_memory_equal(&info.id, &id, sizeof(id));
    assert_job_text(found, DOS_JOB_DISPLAY_NAME, W(u"job"));
    dos_job_release(found);
}

static void test_find_unknown_id_fails_with_job_not_found(void **state)
{
    struct fixture *fx = *state;
    dos_guid id = job_info(fx->job).id;
    struct dos_job *found = fx->job;

    id.data1 ^= 1;
    assert_int_equal(dos_store_find_job(fx->store, &id, &found), DOS_E_JOB_NOT_FOUND);
    assert_null(found);
}

static void test_list_returns_jobs_oldest_first(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *second, *third, **jobs = NULL;
    size_t count = 0;

    assert_int_equal(dos_store_create_job(fx->store, W(u"2"), DOS_JOB_DOWNLOAD, OWNER, &second), DOS_OK);
    assert_int_equal(dos_store_create_job(fx->store, W(u"3"), DOS_JOB_DOWNLOAD, OWNER, &third), DOS_OK);
    assert_int_equal(dos_store_list_jobs(fx->store, NULL, &jobs, &count), DOS_OK);
    assert_int_equal(count, 3);
    assert_ptr_equal(jobs[0], fx->job);
    assert_ptr_equal(jobs[1], second);
    assert_ptr_equal(jobs[2], third);
    dos_jobs_release(jobs, count);
    dos_job_release(second);
    dos_job_release(third);
}

static void test_list_filters_by_owner(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *a1, *b, *a2, **jobs = NULL;
    size_t count = 0;

    assert_int_equal(dos_store_create_job(fx->store, W(u"a1"), DOS_JOB_DOWNLOAD, W(u"alice"), &a1), DOS_OK);
    assert_int_equal(dos_store_create_job(fx->store, W(u"b"), DOS_JOB_DOWNLOAD, W(u"bob"), &b), DOS_OK);
    assert_int_equal(dos_store_create_job(fx->store, W(u"a2"), DOS_JOB_DOWNLOAD, W(u"alice"), &a2), DOS_OK);

    assert_int_equal(dos_store_list_jobs(fx->store, W(u"alice"), &jobs, &count), DOS_OK);
    assert_int_equal(count, 2);
    assert_ptr_equal(jobs[0], a1);
    assert_ptr_equal(jobs[1], a2);
    dos_jobs_release(jobs, count);

    assert_int_equal(dos_store_list_jobs(fx->store, W(u"nobody"), &jobs, &count), DOS_OK);
    assert_int_equal(count, 0);
    dos_jobs_release(jobs, count);

    assert_int_equal(dos_store_list_jobs(fx->store, NULL, &jobs, &count), DOS_OK);
    assert_int_equal(count, 4);
    dos_jobs_release(jobs, count);

    dos_job_release(a1);
    dos_job_release(b);
    dos_job_release(a2);
}

/* A listing is a snapshot of counted references: ending a job does not pull it away. */
static void test_listed_snapshot_keeps_ended_jobs_readable(void **state)
{
    struct fixture *fx = *state;
    struct dos_job **jobs = NULL;
    size_t count = 0;

    assert_int_equal(dos_store_list_jobs(fx->store, NULL, &jobs, &count), DOS_OK);
    assert_int_equal(count, 1);
    assert_int_equal(dos_job_cancel(fx->job), DOS_OK);
    dos_job_release(fx->job);
    fx->job = NULL;
    assert_int_equal(job_state(jobs[0]), DOS_STATE_CANCELLED);
    assert_job_text(jobs[0], DOS_JOB_DISPLAY_NAME, W(u"job"));
    dos_jobs_release(jobs, count);
    assert_int_equal(dos_store_job_count(fx->store), 0);
}

/* ---- the job state machine (spec 5.1) ------------------------------------ */

/* Spec 3.2 (Suspend): S_OK unless CANCELLED or ACKNOWLEDGED. */
static void test_suspend_on_suspended_job_is_harmless(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_suspend(fx->job), DOS_OK);
    assert_int_equal(dos_job_suspend(fx->job), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_SUSPENDED);
}

/* Spec 3.2 (Resume): the job needs at least one file. */
static void test_resume_empty_job_fails_with_job_empty(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_resume(fx->job), DOS_E_JOB_EMPTY);
    assert_int_equal(job_state(fx->job), DOS_STATE_SUSPENDED);
}

static void test_resume_queues_the_job(void **state)
{
    struct fixture *fx = *state;
    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_QUEUED);
}

static void test_resume_on_queued_job_is_harmless(void **state)
{
    struct fixture *fx = *state;
    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_QUEUED);
}

static void test_suspend_moves_a_queued_job_back_to_suspended(void **state)
{
    struct fixture *fx = *state;
    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_int_equal(dos_job_suspend(fx->job), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_SUSPENDED);
}

/* A job whose files are all on disk has nothing to move: TRANSFERRED, time recorded. */
static void test_resume_with_every_file_transferred_moves_to_transferred(void **state)
{
    struct fixture *fx = *state;
    struct dos_job_info info;

    make_transferred(fx->job);
    info = job_info(fx->job);
    assert_int_equal(info.state, DOS_STATE_TRANSFERRED);
    assert_true(info.transfer_completion_time >= info.creation_time);
    assert_int_equal(info.transfer_completion_time, info.modification_time);
}

/* Spec 3.2 (Resume): Resume also restarts a job in ERROR or TRANSIENT_ERROR. */
static void test_resume_restarts_a_job_in_error(void **state)
{
    struct fixture *fx = *state;
    dos_run run;

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    run = run_job(fx->job);
    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL),
                     DOS_OK);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_QUEUED);
    assert_int_equal(dos_job_start_run(fx->job, &run), DOS_OK);
    assert_int_equal(dos_job_report_error(fx->job, run, true, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL),
                     DOS_OK);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_QUEUED);
}

/* Spec 3.2 (Cancel): deletes the job from the queue. */
static void test_cancel_ends_the_job_and_unlists_it(void **state)
{
    struct fixture *fx = *state;
    dos_guid id = job_info(fx->job).id;
    struct dos_job *found = fx->job;

    assert_int_equal(dos_job_cancel(fx->job), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_CANCELLED);
    assert_int_equal(dos_store_find_job(fx->store, &id, &found), DOS_E_JOB_NOT_FOUND);
    assert_null(found);
    assert_int_equal(dos_store_job_count(fx->store), 0);
}

static void test_complete_ends_the_job_and_unlists_it(void **state)
{
    struct fixture *fx = *state;
    dos_guid id = job_info(fx->job).id;
    struct dos_job *found = fx->job, **jobs = NULL;
    size_t count = 1;

    assert_int_equal(dos_job_complete(fx->job), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_ACKNOWLEDGED);
    assert_int_equal(dos_store_find_job(fx->store, &id, &found), DOS_E_JOB_NOT_FOUND);
    assert_null(found);
    assert_int_equal(dos_store_list_jobs(fx->store, NULL, &jobs, &count), DOS_OK);
    assert_int_equal(count, 0);
    dos_jobs_release(jobs, count);
}

/* Views keep their reference: an ended job still answers every read. */
static void test_ended_job_record_still_answers(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 100);
    dos_guid id = job_info(fx->job).id;
    struct dos_job_info info;

    assert_int_equal(dos_job_cancel(fx->job), DOS_OK);
    info = job_info(fx->job);
    assert_memory_equal(&info.id, &id, sizeof(id));
    assert_int_equal(info.files_total, 1);
    assert_job_text(fx->job, DOS_JOB_DISPLAY_NAME, W(u"job"));
    assert_int_equal(listed_file_count(fx->job), 1);
    assert_int_equal(file_info(file).bytes_total, 100);
    assert_int_equal(file_info(file).job_state, DOS_STATE_CANCELLED);
    assert_file_text(file, DOS_FILE_REMOTE_NAME, URL);
}

/* Spec 5.3: only files fully transferred before Complete are kept. */
static void test_complete_with_a_file_not_fully_transferred_returns_partial_complete(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *done = add_file(fx->job, URL, W(u"C:\\downloads\\1.bin"), 10);
    struct dos_file *half = add_file(fx->job, URL, W(u"C:\\downloads\\2.bin"), 10);
    dos_run run = run_job(fx->job);

    assert_int_equal(dos_file_record_progress(done, run, 10, 10), DOS_OK);
    assert_int_equal(dos_file_record_progress(half, run, 10, 5), DOS_OK);
    assert_int_equal(dos_job_complete(fx->job), DOS_S_PARTIAL_COMPLETE);
    assert_int_equal(job_state(fx->job), DOS_STATE_ACKNOWLEDGED);
}

static void test_complete_with_every_file_transferred_returns_ok(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *a = add_file(fx->job, URL, W(u"C:\\downloads\\1.bin"), 10);
    struct dos_file *b = add_file(fx->job, URL, W(u"C:\\downloads\\2.bin"), 20);
    dos_run run = run_job(fx->job);

    assert_int_equal(dos_file_record_progress(a, run, 10, 10), DOS_OK);
    assert_int_equal(dos_file_record_progress(b, run, 20, 20), DOS_OK);
    assert_int_equal(dos_job_complete(fx->job), DOS_OK);
}

/* A file whose size was never learned cannot have been fully transferred. */
static void test_complete_with_a_file_of_unknown_size_returns_partial_complete(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    dos_run run = run_job(fx->job);

    assert_int_equal(dos_file_record_progress(file, run, DOS_SIZE_UNKNOWN, 500), DOS_OK);
    assert_int_equal(dos_job_complete(fx->job), DOS_S_PARTIAL_COMPLETE);
    assert_false(file_info(file).completed);
}

/* Spec 5.2: Completed is TRUE once the file is available, i.e. after Complete. */
static void test_complete_marks_only_transferred_files_completed(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *done = add_file(fx->job, URL, W(u"C:\\downloads\\1.bin"), 10);
    struct dos_file *half = add_file(fx->job, URL, W(u"C:\\downloads\\2.bin"), 10);
    dos_run run = run_job(fx->job);

    assert_int_equal(dos_file_record_progress(done, run, 10, 10), DOS_OK);
    assert_int_equal(dos_file_record_progress(half, run, 10, 9), DOS_OK);
    assert_false(file_info(done).completed);
    assert_int_equal(dos_job_complete(fx->job), DOS_S_PARTIAL_COMPLETE);
    assert_true(file_info(done).completed);
    assert_false(file_info(half).completed);
}

static void test_cancel_completes_no_file(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *done = add_file(fx->job, URL, LOCAL, 10);
    dos_run run = run_job(fx->job);

    assert_int_equal(dos_file_record_progress(done, run, 10, 10), DOS_OK);
    assert_int_equal(dos_job_cancel(fx->job), DOS_OK);
    assert_false(file_info(done).completed);
}

/* ---- the final states: read-only (spec 5.1) ------------------------------ */

static void check_final_set_u32(struct fixture *fx, enum dos_job_u32 which, uint32_t value)
{
    assert_int_not_equal(fx->before.info.u32[which], value);
    assert_int_equal(dos_job_set_u32(fx->job, which, value), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

#define FINAL_U32_TEST(name, which, value)                                      \
    static void test_set_##name##_fails_with_invalid_state(void **state)        \
    {                                                                           \
        check_final_set_u32(*state, which, value);                              \
    }

FINAL_U32_TEST(priority, DOS_JOB_PRIORITY, DOS_PRIORITY_FOREGROUND)
FINAL_U32_TEST(notify_flags, DOS_JOB_NOTIFY_FLAGS, 0x3F)
FINAL_U32_TEST(retry_delay, DOS_JOB_RETRY_DELAY, 60)
FINAL_U32_TEST(no_progress_timeout, DOS_JOB_NO_PROGRESS_TIMEOUT, 120)
FINAL_U32_TEST(acl_flags, DOS_JOB_ACL_FLAGS, 0xF)
FINAL_U32_TEST(peer_caching_flags, DOS_JOB_PEER_CACHING_FLAGS, 0x7)
FINAL_U32_TEST(max_download_time, DOS_JOB_MAX_DOWNLOAD_TIME, 3600)
FINAL_U32_TEST(cost_flags, DOS_JOB_COST_FLAGS, 0x1)

static void test_set_display_name_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_display_name(fx->job, W(u"renamed")), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_set_description_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_description(fx->job, W(u"changed")), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_set_owner_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_owner(fx->job, W(u"S-1-5-18")), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_set_proxy_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_NO_PROXY, NULL, NULL), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_OVERRIDE, W(u"other:3128"), NULL), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_set_notify_cmdline_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_notify_cmdline(fx->job, W(u"C:\\bin\\other.exe"), W(u"x")), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_set_notify_cmdline(fx->job, NULL, NULL), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_set_notification_clsid_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    const dos_guid clsid = { 0x12345678, 0x1234, 0x4567, { 0x89, 0xAB, 0xCD, 0xEF, 1, 2, 3, 4 } };
    assert_int_equal(dos_job_set_notification_clsid(fx->job, &clsid), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_set_credentials_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_credentials(fx->job, 2, 3, W(u"u"), W(u"p")), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_remove_credentials_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_remove_credentials(fx->job, 1, 1), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

/* store.h: a refused reference comes back in *old for the caller to release. */
static void test_swap_notify_fails_with_invalid_state_and_hands_the_ref_back(void **state)
{
    struct fixture *fx = *state;
    struct counted_ref ref;
    struct dos_ref *old = NULL;

    counted_init(&ref);
    assert_int_equal(dos_job_swap_notify(fx->job, &ref.ref, &old), DOS_E_INVALID_STATE);
    assert_ptr_equal(old, &ref.ref);
    assert_int_equal(ref.destroyed, 0);
    dos_ref_release(old);
    assert_int_equal(ref.destroyed, 1);
    assert_unchanged(fx);
}

/* Spec 3.12: AddFileWithRanges returns DO_E_INVALID_STATE when ended. */
static void test_add_files_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec spec = file_spec(W(u"http://example.com/more.bin"), W(u"C:\\downloads\\more.bin"));
    struct dos_file *first = fx->file;

    assert_int_equal(dos_job_add_files(fx->job, &spec, 1, &first), DOS_E_INVALID_STATE);
    assert_null(first);
    assert_unchanged(fx);
}

static void test_suspend_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_suspend(fx->job), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_resume_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_resume(fx->job), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_cancel_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_cancel(fx->job), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_complete_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_complete(fx->job), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_replace_remote_prefix_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_replace_remote_prefix(fx->job, W(u"http://example.com/"), W(u"http://mirror.example/")),
                     DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_file_set_remote_name_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_file_set_remote_name(fx->file, W(u"http://mirror.example/file.bin")), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_file_set_local_name_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_file_set_local_name(fx->file, W(u"C:\\elsewhere\\file.bin")), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_file_set_size_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_file_set_size(fx->file, 200), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_file_set_validation_state_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_file_set_validation_state(fx->file, true), DOS_E_INVALID_STATE);
    assert_int_equal(dos_file_set_validation_state(fx->file, false), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

/* The run the job had when it ended was revoked; no other run is live either. */
static void test_record_progress_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_file_record_progress(fx->file, fx->run, 100, 30), DOS_E_INVALID_STATE);
    assert_int_equal(dos_file_record_progress(fx->file, fx->run, 100, 0), DOS_E_INVALID_STATE);
    assert_int_equal(dos_file_record_progress(fx->file, fx->run + 1, 100, 10), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_report_error_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    struct dos_error_record record;

    assert_int_equal(dos_job_report_error(fx->job, fx->run, false, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, fx->file,
                                          NULL), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_report_error(fx->job, fx->run, true, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, fx->file,
                                          W(u"HTTP")), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_get_error(fx->job, &record), DOS_E_NO_ERROR_INFO);
    assert_unchanged(fx);
}

static void test_run_is_no_longer_live(void **state)
{
    struct fixture *fx = *state;
    assert_false(dos_job_run_is_live(fx->job, fx->run));
}

static void test_start_run_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    dos_run run = 12345;

    assert_int_equal(dos_job_start_run(fx->job, &run), DOS_E_INVALID_STATE);
    assert_int_equal(run, 0);
    assert_unchanged(fx);
}

static void test_next_file_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    struct dos_transfer_file tf;

    memset(&tf, 0xCC, sizeof(tf));
    assert_int_equal(dos_job_next_file(fx->job, fx->run, &tf), DOS_E_INVALID_STATE);
    assert_null(tf.file);
    assert_null(tf.remote_name);
    assert_null(tf.ranges);
}

static void test_mark_temp_created_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_file_mark_temp_created(fx->file, fx->run), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_retry_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_retry(fx->job, fx->run), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_finish_run_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_finish_run(fx->job, fx->run), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_begin_finish_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_begin_finish(fx->job), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

static void test_end_finish_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_end_finish(fx->job, DOS_STATE_CANCELLED, NULL), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_end_finish(fx->job, DOS_STATE_ACKNOWLEDGED, NULL), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

/* ---- files --------------------------------------------------------------- */

static void test_added_files_keep_their_order_and_names(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec specs[3];
    struct dos_file *first = NULL, **files = NULL;
    size_t count = 0;

    specs[0] = file_spec(W(u"http://example.com/a"), W(u"C:\\dl\\a"));
    specs[1] = file_spec(W(u"https://example.com/b"), W(u"C:\\dl\\b"));
    specs[2] = file_spec(W(u"\\\\server\\share\\c"), W(u"C:\\dl\\c"));
    assert_int_equal(dos_job_add_files(fx->job, specs, 3, &first), DOS_OK);
    assert_int_equal(dos_job_list_files(fx->job, &files, &count), DOS_OK);
    assert_int_equal(count, 3);
    assert_ptr_equal(first, files[0]);
    assert_ptr_equal(dos_file_job(files[0]), fx->job);
    assert_file_text(files[0], DOS_FILE_REMOTE_NAME, W(u"http://example.com/a"));
    assert_file_text(files[1], DOS_FILE_REMOTE_NAME, W(u"https://example.com/b"));
    assert_file_text(files[2], DOS_FILE_REMOTE_NAME, W(u"\\\\server\\share\\c"));
    assert_file_text(files[0], DOS_FILE_LOCAL_NAME, W(u"C:\\dl\\a"));
    assert_file_text(files[2], DOS_FILE_LOCAL_NAME, W(u"C:\\dl\\c"));
    assert_int_equal(job_info(fx->job).files_total, 3);
    free(files);
}

/* DESIGN rule 3: a call that fails changes nothing. */
static void test_add_files_is_all_or_nothing(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec specs[2];
    struct dos_file *first = NULL;

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    specs[0] = file_spec(W(u"http://example.com/ok"), W(u"C:\\dl\\ok"));
    specs[1] = file_spec(W(u"http://example.com/bad"), W(u"relative\\bad"));
    assert_int_equal(dos_job_add_files(fx->job, specs, 2, &first), DOS_E_INVALID_ARG);
    assert_null(first);
    assert_int_equal(file_count(fx->job), 1);
    assert_int_equal(job_info(fx->job).files_total, 1);
}

static void test_add_files_reports_range_errors_and_adds_nothing(void **state)
{
    struct fixture *fx = *state;
    const dos_range overlapping[] = { { 100, 5 }, { 100, 1 } };
    const dos_range past_end[] = { { 0, 10 }, { 95, 10 } };
    struct dos_file_spec specs[2];

    specs[0] = file_spec(URL, LOCAL);
    specs[1] = file_spec(URL, LOCAL);
    specs[1].ranges = overlapping;
    specs[1].range_count = 2;
    assert_int_equal(dos_job_add_files(fx->job, specs, 2, NULL), DOS_E_OVERLAPPING_RANGES);
    specs[1].ranges = past_end;
    specs[1].file_size = 100;
    assert_int_equal(dos_job_add_files(fx->job, specs, 2, NULL), DOS_E_INVALID_RANGE);
    assert_int_equal(file_count(fx->job), 0);
}

static void test_add_files_without_specs_is_rejected(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec spec = file_spec(URL, LOCAL);

    assert_int_equal(dos_job_add_files(fx->job, &spec, 0, NULL), DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_add_files(fx->job, NULL, 1, NULL), DOS_E_INVALID_ARG);
    assert_int_equal(file_count(fx->job), 0);
}

static void test_zero_file_size_is_rejected(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec spec = file_spec(URL, LOCAL);

    spec.file_size = 0;
    assert_int_equal(dos_job_add_files(fx->job, &spec, 1, NULL), DOS_E_INVALID_ARG);
    assert_int_equal(file_count(fx->job), 0);
}

static void test_file_id_is_kept(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec spec = file_spec(URL, LOCAL);
    struct dos_file *file = NULL;

    spec.file_id = W(u"content-42");
    assert_int_equal(dos_job_add_files(fx->job, &spec, 1, &file), DOS_OK);
    assert_file_text(file, DOS_FILE_ID, W(u"content-42"));
}

static void test_file_without_id_has_no_id_text(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    dos_char *text = POISON(dos_char *);

    assert_int_equal(dos_file_copy_text(file, DOS_FILE_ID, malloc, &text), DOS_E_NOT_SET);
    assert_null(text);
}

/* Spec 3.12: fileId is unique within the job. */
static void test_duplicate_file_id_in_one_call_is_rejected(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec specs[2];

    specs[0] = file_spec(W(u"http://example.com/a"), W(u"C:\\dl\\a"));
    specs[1] = file_spec(W(u"http://example.com/b"), W(u"C:\\dl\\b"));
    specs[0].file_id = specs[1].file_id = W(u"same");
    assert_int_equal(dos_job_add_files(fx->job, specs, 2, NULL), DOS_E_INVALID_ARG);
    assert_int_equal(file_count(fx->job), 0);
}

static void test_file_id_already_in_the_job_is_rejected(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec spec = file_spec(URL, LOCAL);

    spec.file_id = W(u"same");
    assert_int_equal(dos_job_add_files(fx->job, &spec, 1, NULL), DOS_OK);
    spec.remote_name = W(u"http://example.com/other.bin");
    assert_int_equal(dos_job_add_files(fx->job, &spec, 1, NULL), DOS_E_INVALID_ARG);
    assert_int_equal(file_count(fx->job), 1);
}

static void test_files_without_ids_never_clash(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec specs[2];

    specs[0] = specs[1] = file_spec(URL, LOCAL);
    assert_int_equal(dos_job_add_files(fx->job, specs, 2, NULL), DOS_OK);
    assert_int_equal(dos_job_add_files(fx->job, specs, 1, NULL), DOS_OK);
    assert_int_equal(file_count(fx->job), 3);
}

static void test_empty_file_id_is_rejected(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec spec = file_spec(URL, LOCAL);

    spec.file_id = W(u"");
    assert_int_equal(dos_job_add_files(fx->job, &spec, 1, NULL), DOS_E_INVALID_ARG);
    assert_int_equal(file_count(fx->job), 0);
}

/* Spec 3.12: E_INVALIDARG if the local name is NULL or empty. */
static void test_missing_local_name_is_rejected(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec spec = file_spec(URL, NULL);

    assert_int_equal(dos_job_add_files(fx->job, &spec, 1, NULL), DOS_E_INVALID_ARG);
    spec.local_name = W(u"");
    assert_int_equal(dos_job_add_files(fx->job, &spec, 1, NULL), DOS_E_INVALID_ARG);
    assert_int_equal(file_count(fx->job), 0);
}

/* Spec 3.13: IDeliveryOptimizationJob2::AddFile sets the destination later. */
static void test_local_optional_file_may_lack_a_local_name(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec spec = file_spec(URL, NULL);
    struct dos_file *file = NULL;
    dos_char *text = NULL;

    spec.local_optional = true;
    assert_int_equal(dos_job_add_files(fx->job, &spec, 1, &file), DOS_OK);
    assert_int_equal(dos_file_copy_text(file, DOS_FILE_LOCAL_NAME, malloc, &text), DOS_E_NOT_SET);
    assert_int_equal(dos_file_copy_text(file, DOS_FILE_TEMP_NAME, malloc, &text), DOS_E_NOT_SET);
    assert_null(text);
}

static void test_local_optional_file_still_validates_a_given_local_name(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec spec = file_spec(URL, W(u"relative.bin"));

    spec.local_optional = true;
    assert_int_equal(dos_job_add_files(fx->job, &spec, 1, NULL), DOS_E_INVALID_ARG);
    assert_int_equal(file_count(fx->job), 0);
}

static void test_resume_with_a_file_lacking_a_local_name_fails_with_sink_unspecified(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec spec = file_spec(URL, NULL);
    struct dos_file *file = NULL;

    spec.local_optional = true;
    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    assert_int_equal(dos_job_add_files(fx->job, &spec, 1, &file), DOS_OK);
    assert_int_equal(dos_job_resume(fx->job), DOS_E_SINK_UNSPECIFIED);
    assert_int_equal(job_state(fx->job), DOS_STATE_SUSPENDED);
    assert_int_equal(dos_file_set_local_name(file, W(u"C:\\downloads\\later.bin")), DOS_OK);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_QUEUED);
}

/* The ranges stay in the order given: the local file holds them in that order. */
static void test_added_ranges_keep_the_order_given(void **state)
{
    struct fixture *fx = *state;
    const dos_range ranges[] = { { 300, 10 }, { 0, 100 }, { 100, 50 } };
    struct dos_file *file = add_ranged_file(fx->job, ranges, 3, DOS_SIZE_UNKNOWN);
    dos_range *copy = NULL;
    uint32_t count = 0;

    assert_int_equal(dos_file_copy_ranges(file, malloc, &copy, &count), DOS_OK);
    assert_int_equal(count, 3);
    assert_int_equal(file_info(file).range_count, 3);
    assert_int_equal(copy[0].offset, 300);
    assert_int_equal(copy[0].length, 10);
    assert_int_equal(copy[1].offset, 0);
    assert_int_equal(copy[2].offset, 100);
    free(copy);
}

/* Spec 3.6: GetFileRanges gives no ranges when none were given. */
static void test_file_without_ranges_has_none(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 100);
    dos_range *copy = POISON(dos_range *);
    uint32_t count = 7;

    assert_int_equal(dos_file_copy_ranges(file, malloc, &copy, &count), DOS_OK);
    assert_null(copy);
    assert_int_equal(count, 0);
}

static void test_list_files_of_an_empty_job_gives_none(void **state)
{
    struct fixture *fx = *state;
    struct dos_file **files = NULL;
    size_t count = 7;

    assert_int_equal(dos_job_list_files(fx->job, &files, &count), DOS_OK);
    assert_non_null(files);
    assert_int_equal(count, 0);
    free(files);
}

/* ---- progress (spec 5.5) ------------------------------------------------- */

static void test_file_progress_before_transfer_is_unknown_and_zero(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    struct dos_file_info info = file_info(file);

    assert_int_equal(info.bytes_total, DOS_SIZE_UNKNOWN);
    assert_int_equal(info.bytes_transferred, 0);
    assert_false(info.completed);
    assert_int_equal(info.file_size, DOS_SIZE_UNKNOWN);
}

static void test_job_progress_before_transfer_is_unknown_and_zero(void **state)
{
    struct fixture *fx = *state;
    struct dos_job_info info;

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    info = job_info(fx->job);
    assert_int_equal(info.bytes_total, DOS_SIZE_UNKNOWN);
    assert_int_equal(info.bytes_transferred, 0);
    assert_int_equal(info.files_total, 1);
    assert_int_equal(info.files_transferred, 0);
}

static void test_file_with_a_given_size_has_a_known_total_before_transfer(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 1234);

    assert_int_equal(file_info(file).bytes_total, 1234);
    assert_int_equal(file_info(file).file_size, 1234);
    assert_int_equal(file_info(file).bytes_transferred, 0);
    assert_int_equal(job_info(fx->job).bytes_total, 1234);
}

static void test_file_with_ranges_counts_only_requested_bytes(void **state)
{
    struct fixture *fx = *state;
    const dos_range ranges[] = { { 0, 10 }, { 100, 20 } };
    const dos_range tail[] = { { 900, DOS_LENGTH_TO_EOF } };
    struct dos_file *unsized = add_ranged_file(fx->job, ranges, 2, DOS_SIZE_UNKNOWN);
    struct dos_file *sized = add_ranged_file(fx->job, tail, 1, 1000);

    assert_int_equal(file_info(unsized).bytes_total, 30);
    assert_int_equal(file_info(sized).bytes_total, 100);
    assert_int_equal(job_info(fx->job).bytes_total, 130);
}

static void test_file_with_to_eof_range_and_unknown_size_has_unknown_total(void **state)
{
    struct fixture *fx = *state;
    const dos_range ranges[] = { { 0, 10 }, { 100, DOS_LENGTH_TO_EOF } };
    struct dos_file *file = add_ranged_file(fx->job, ranges, 2, DOS_SIZE_UNKNOWN);

    assert_int_equal(file_info(file).bytes_total, DOS_SIZE_UNKNOWN);
}

static void test_recorded_progress_is_reported(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    dos_run run = run_job(fx->job);

    assert_int_equal(dos_file_record_progress(file, run, 1000, 400), DOS_OK);
    assert_int_equal(file_info(file).file_size, 1000);
    assert_int_equal(file_info(file).bytes_total, 1000);
    assert_int_equal(file_info(file).bytes_transferred, 400);
    assert_int_equal(job_info(fx->job).files_transferred, 0);
    assert_int_equal(dos_file_record_progress(file, run, 1000, 1000), DOS_OK);
    assert_int_equal(file_info(file).bytes_transferred, 1000);
    assert_int_equal(job_info(fx->job).files_transferred, 1);
}

static void test_recorded_progress_beyond_the_total_is_rejected(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 100);
    dos_run run = run_job(fx->job);

    assert_int_equal(dos_file_record_progress(file, run, 100, 40), DOS_OK);
    assert_int_equal(dos_file_record_progress(file, run, 100, 101), DOS_E_INVALID_ARG);
    assert_int_equal(file_info(file).bytes_transferred, 40);
}

/*
 * Spec 5.7: a range that does not exist in the file is DO_E_INVALID_RANGE.
 * Ranges accepted while the size was unknown must be checked when the size
 * is learned (as dos_file_set_size does), or the total wraps around.
 */
static void test_recorded_size_that_ends_before_a_range_is_rejected(void **state)
{
    struct fixture *fx = *state;
    const dos_range ranges[] = { { 0, 10 }, { 1000, DOS_LENGTH_TO_EOF } };
    struct dos_file *file = add_ranged_file(fx->job, ranges, 2, DOS_SIZE_UNKNOWN);
    dos_run run = run_job(fx->job);

    assert_int_equal(dos_file_record_progress(file, run, 500, 0), DOS_E_INVALID_RANGE);
    assert_int_equal(file_info(file).file_size, DOS_SIZE_UNKNOWN);
    assert_int_equal(file_info(file).bytes_total, DOS_SIZE_UNKNOWN);
}

static void test_set_size_that_ends_before_a_range_is_rejected(void **state)
{
    struct fixture *fx = *state;
    const dos_range ranges[] = { { 1000, 10 } };
    struct dos_file *file = add_ranged_file(fx->job, ranges, 1, DOS_SIZE_UNKNOWN);

    assert_int_equal(dos_file_set_size(file, 500), DOS_E_INVALID_RANGE);
    assert_int_equal(file_info(file).file_size, DOS_SIZE_UNKNOWN);
    assert_int_equal(dos_file_set_size(file, 2000), DOS_OK);
    assert_int_equal(file_info(file).file_size, 2000);
}

static void test_job_progress_sums_its_files(void **state)
{
    struct fixture *fx = *state;
    const dos_range ranges[] = { { 10, 30 } };
    struct dos_file *a = add_file(fx->job, URL, LOCAL, 100);
    struct dos_file *b = add_file(fx->job, URL, LOCAL, 200);
    struct dos_job_info info;
    dos_run run;

    add_ranged_file(fx->job, ranges, 1, DOS_SIZE_UNKNOWN);
    run = run_job(fx->job);
    assert_int_equal(dos_file_record_progress(a, run, 100, 50), DOS_OK);
    assert_int_equal(dos_file_record_progress(b, run, 200, 200), DOS_OK);
    info = job_info(fx->job);
    assert_int_equal(info.bytes_total, 330);
    assert_int_equal(info.bytes_transferred, 250);
    assert_int_equal(info.files_total, 3);
    assert_int_equal(info.files_transferred, 1);
}

/* Spec 5.5: BytesTotal stays BG_SIZE_UNKNOWN while any file's size is undetermined. */
static void test_job_total_is_unknown_while_any_file_size_is(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *known = add_file(fx->job, URL, LOCAL, 100);
    struct dos_file *unknown = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    dos_run run = run_job(fx->job);

    assert_int_equal(dos_file_record_progress(known, run, 100, 40), DOS_OK);
    assert_int_equal(job_info(fx->job).bytes_total, DOS_SIZE_UNKNOWN);
    assert_int_equal(job_info(fx->job).bytes_transferred, 40);
    assert_int_equal(dos_file_record_progress(unknown, run, 500, 0), DOS_OK);
    assert_int_equal(job_info(fx->job).bytes_total, 600);
}

/* ---- numeric settings ---------------------------------------------------- */

static void test_set_u32_keeps_each_value(void **state)
{
    struct fixture *fx = *state;
    static const uint32_t values[DOS_JOB_U32_COUNT] = {
        [DOS_JOB_PRIORITY] = DOS_PRIORITY_LOW,
        [DOS_JOB_NOTIFY_FLAGS] = 0x3F,
        [DOS_JOB_RETRY_DELAY] = 61,
        [DOS_JOB_NO_PROGRESS_TIMEOUT] = 3600,
        [DOS_JOB_ACL_FLAGS] = 0xF,
        [DOS_JOB_PEER_CACHING_FLAGS] = 0x5,
        [DOS_JOB_MAX_DOWNLOAD_TIME] = 7200,
        [DOS_JOB_COST_FLAGS] = 0x80000001u,
    };
    struct dos_job_info info;
    uint32_t i;

    for (i = 0; i < DOS_JOB_U32_COUNT; i++)
        assert_int_equal(dos_job_set_u32(fx->job, (enum dos_job_u32)i, values[i]), DOS_OK);
    info = job_info(fx->job);
    for (i = 0; i < DOS_JOB_U32_COUNT; i++) assert_int_equal(info.u32[i], values[i]);
}

static void check_u32_rejected(struct dos_job *job, enum dos_job_u32 which, uint32_t value)
{
    uint32_t before = job_info(job).u32[which];
    assert_int_equal(dos_job_set_u32(job, which, value), DOS_E_INVALID_ARG);
    assert_int_equal(job_info(job).u32[which], before);
}

/* Spec 4.2: BG_JOB_PRIORITY ends at LOW (3). */
static void test_priority_above_low_is_rejected(void **state)
{
    struct fixture *fx = *state;
    check_u32_rejected(fx->job, DOS_JOB_PRIORITY, 4);
    check_u32_rejected(fx->job, DOS_JOB_PRIORITY, UINT32_MAX);
    assert_int_equal(dos_job_set_u32(fx->job, DOS_JOB_PRIORITY, DOS_PRIORITY_FOREGROUND), DOS_OK);
}

static void test_notify_flags_outside_0x3f_are_rejected(void **state)
{
    struct fixture *fx = *state;
    check_u32_rejected(fx->job, DOS_JOB_NOTIFY_FLAGS, 0x40);
    check_u32_rejected(fx->job, DOS_JOB_NOTIFY_FLAGS, 0x80000001u);
    assert_int_equal(dos_job_set_u32(fx->job, DOS_JOB_NOTIFY_FLAGS, 0), DOS_OK);
}

static void test_acl_flags_outside_0xf_are_rejected(void **state)
{
    struct fixture *fx = *state;
    check_u32_rejected(fx->job, DOS_JOB_ACL_FLAGS, 0x10);
    check_u32_rejected(fx->job, DOS_JOB_ACL_FLAGS, 0x1F);
}

static void test_peer_caching_flags_outside_0x7_are_rejected(void **state)
{
    struct fixture *fx = *state;
    check_u32_rejected(fx->job, DOS_JOB_PEER_CACHING_FLAGS, 0x8);
}

static void test_cost_flags_outside_0x800000ff_are_rejected(void **state)
{
    struct fixture *fx = *state;
    check_u32_rejected(fx->job, DOS_JOB_COST_FLAGS, 0x100);
    check_u32_rejected(fx->job, DOS_JOB_COST_FLAGS, 0x40000000u);
    check_u32_rejected(fx->job, DOS_JOB_COST_FLAGS, UINT32_MAX);
    assert_int_equal(dos_job_set_u32(fx->job, DOS_JOB_COST_FLAGS, 0x80000000u), DOS_OK);
}

static void test_unknown_u32_setting_is_rejected(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_u32(fx->job, DOS_JOB_U32_COUNT, 0), DOS_E_INVALID_ARG);
}

/* ---- text settings ------------------------------------------------------- */

static void test_set_display_name_replaces_it(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_display_name(fx->job, W(u"renamed")), DOS_OK);
    assert_job_text(fx->job, DOS_JOB_DISPLAY_NAME, W(u"renamed"));
}

static void test_set_display_name_too_long_or_null_changes_nothing(void **state)
{
    struct fixture *fx = *state;
    dos_char *ok = test_wstr_of_length("", DOS_MAX_DISPLAY_NAME, 'x', "");
    dos_char *too_long = test_wstr_of_length("", DOS_MAX_DISPLAY_NAME + 1, 'y', "");

    assert_int_equal(dos_job_set_display_name(fx->job, ok), DOS_OK);
    assert_int_equal(dos_job_set_display_name(fx->job, too_long), DOS_E_STRING_TOO_LONG);
    assert_int_equal(dos_job_set_display_name(fx->job, NULL), DOS_E_INVALID_ARG);
    assert_job_text(fx->job, DOS_JOB_DISPLAY_NAME, ok);
    free(ok);
    free(too_long);
}

static void test_description_is_limited_to_1024_characters(void **state)
{
    struct fixture *fx = *state;
    dos_char *ok = test_wstr_of_length("", DOS_MAX_DESCRIPTION, 'd', "");
    dos_char *too_long = test_wstr_of_length("", DOS_MAX_DESCRIPTION + 1, 'e', "");

    assert_int_equal(dos_job_set_description(fx->job, ok), DOS_OK);
    assert_int_equal(dos_job_set_description(fx->job, too_long), DOS_E_STRING_TOO_LONG);
    assert_job_text(fx->job, DOS_JOB_DESCRIPTION, ok);
    free(ok);
    free(too_long);
}

static void test_unset_text_is_reported_as_not_set(void **state)
{
    struct fixture *fx = *state;
    assert_job_text_not_set(fx->job, DOS_JOB_DESCRIPTION);
    assert_job_text_not_set(fx->job, DOS_JOB_PROXY_LIST);
    assert_job_text_not_set(fx->job, DOS_JOB_PROXY_BYPASS);
    assert_job_text_not_set(fx->job, DOS_JOB_NOTIFY_PROGRAM);
    assert_job_text_not_set(fx->job, DOS_JOB_NOTIFY_PARAMS);
}

static void test_copy_text_of_unknown_field_is_rejected(void **state)
{
    struct fixture *fx = *state;
    dos_char *text = NULL;
    assert_int_equal(dos_job_copy_text(fx->job, DOS_JOB_TEXT_COUNT, malloc, &text), DOS_E_INVALID_ARG);
    assert_null(text);
}

/* ---- proxy --------------------------------------------------------------- */

static void test_override_proxy_keeps_its_lists(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_OVERRIDE, W(u"proxy:8080"), W(u"<local>")), DOS_OK);
    assert_int_equal(job_info(fx->job).proxy_usage, DOS_PROXY_OVERRIDE);
    assert_job_text(fx->job, DOS_JOB_PROXY_LIST, W(u"proxy:8080"));
    assert_job_text(fx->job, DOS_JOB_PROXY_BYPASS, W(u"<local>"));
}

static void test_proxy_lists_without_override_are_rejected(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_PRECONFIG, W(u"proxy:8080"), NULL), DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_NO_PROXY, NULL, W(u"<local>")), DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_AUTODETECT, W(u"p:1"), W(u"b")), DOS_E_INVALID_ARG);
    assert_int_equal(job_info(fx->job).proxy_usage, DOS_PROXY_PRECONFIG);
    assert_job_text_not_set(fx->job, DOS_JOB_PROXY_LIST);
}

static void test_override_proxy_needs_a_non_empty_list(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_OVERRIDE, NULL, NULL), DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_OVERRIDE, W(u""), W(u"<local>")), DOS_E_INVALID_ARG);
    assert_int_equal(job_info(fx->job).proxy_usage, DOS_PROXY_PRECONFIG);
}

static void test_leaving_override_clears_the_proxy_lists(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_OVERRIDE, W(u"proxy:8080"), W(u"<local>")), DOS_OK);
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_NO_PROXY, NULL, NULL), DOS_OK);
    assert_int_equal(job_info(fx->job).proxy_usage, DOS_PROXY_NO_PROXY);
    assert_job_text_not_set(fx->job, DOS_JOB_PROXY_LIST);
    assert_job_text_not_set(fx->job, DOS_JOB_PROXY_BYPASS);
}

static void test_unknown_proxy_usage_is_rejected(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_proxy(fx->job, (dos_proxy_usage)4, NULL, NULL), DOS_E_INVALID_ARG);
    assert_int_equal(job_info(fx->job).proxy_usage, DOS_PROXY_PRECONFIG);
}

static void test_proxy_list_longer_than_4000_characters_is_too_long(void **state)
{
    struct fixture *fx = *state;
    dos_char *ok = test_wstr_of_length("p:1;", DOS_MAX_PROXY_LIST, 'a', "");
    dos_char *too_long = test_wstr_of_length("p:1;", DOS_MAX_PROXY_LIST + 1, 'a', "");

    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_OVERRIDE, too_long, NULL), DOS_E_STRING_TOO_LONG);
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_OVERRIDE, W(u"p:1"), too_long), DOS_E_STRING_TOO_LONG);
    assert_int_equal(job_info(fx->job).proxy_usage, DOS_PROXY_PRECONFIG);
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_OVERRIDE, ok, ok), DOS_OK);
    free(ok);
    free(too_long);
}

/* ---- notification command line ------------------------------------------- */

static void test_notify_cmdline_keeps_program_and_parameters(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_notify_cmdline(fx->job, W(u"C:\\bin\\notify.exe"), W(u"notify.exe --done")), DOS_OK);
    assert_job_text(fx->job, DOS_JOB_NOTIFY_PROGRAM, W(u"C:\\bin\\notify.exe"));
    assert_job_text(fx->job, DOS_JOB_NOTIFY_PARAMS, W(u"notify.exe --done"));
}

static void test_notify_cmdline_can_be_cleared(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_notify_cmdline(fx->job, W(u"C:\\bin\\notify.exe"), W(u"x")), DOS_OK);
    assert_int_equal(dos_job_set_notify_cmdline(fx->job, NULL, NULL), DOS_OK);
    assert_job_text_not_set(fx->job, DOS_JOB_NOTIFY_PROGRAM);
    assert_job_text_not_set(fx->job, DOS_JOB_NOTIFY_PARAMS);
}

static void test_notify_parameters_without_program_are_rejected(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_notify_cmdline(fx->job, NULL, W(u"--done")), DOS_E_INVALID_ARG);
    assert_job_text_not_set(fx->job, DOS_JOB_NOTIFY_PARAMS);
}

static void test_notify_program_must_be_an_absolute_path(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_notify_cmdline(fx->job, W(u"notify.exe"), NULL), DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_set_notify_cmdline(fx->job, W(u""), NULL), DOS_E_INVALID_ARG);
    assert_job_text_not_set(fx->job, DOS_JOB_NOTIFY_PROGRAM);
}

/* ---- credentials --------------------------------------------------------- */

static void test_set_credentials_are_then_present(void **state)
{
    struct fixture *fx = *state;
    assert_false(dos_job_has_credentials(fx->job, 1, 2));
    assert_int_equal(dos_job_set_credentials(fx->job, 1, 2, W(u"user"), W(u"secret")), DOS_OK);
    assert_true(dos_job_has_credentials(fx->job, 1, 2));
    assert_false(dos_job_has_credentials(fx->job, 2, 2));
    assert_false(dos_job_has_credentials(fx->job, 1, 1));
}

static void test_remove_credentials_removes_them(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_set_credentials(fx->job, 2, 5, W(u"user"), NULL), DOS_OK);
    assert_int_equal(dos_job_remove_credentials(fx->job, 2, 5), DOS_OK);
    assert_false(dos_job_has_credentials(fx->job, 2, 5));
}

static void test_remove_credentials_of_nothing_returns_nothing_to_remove(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_remove_credentials(fx->job, 1, 1), DOS_S_NOTHING_TO_REMOVE);
    assert_int_equal(dos_job_set_credentials(fx->job, 1, 1, W(u"u"), W(u"p")), DOS_OK);
    assert_int_equal(dos_job_remove_credentials(fx->job, 1, 1), DOS_OK);
    assert_int_equal(dos_job_remove_credentials(fx->job, 1, 1), DOS_S_NOTHING_TO_REMOVE);
}

/* BG_AUTH_TARGET is 1..2, BG_AUTH_SCHEME 1..5. */
static void test_credentials_with_bad_target_or_scheme_are_rejected(void **state)
{
    struct fixture *fx = *state;
    static const uint32_t bad[][2] = { { 0, 1 }, { 3, 1 }, { 1, 0 }, { 1, 6 }, { UINT32_MAX, UINT32_MAX } };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    {
        assert_int_equal(dos_job_set_credentials(fx->job, bad[i][0], bad[i][1], W(u"u"), W(u"p")), DOS_E_INVALID_ARG);
        assert_int_equal(dos_job_remove_credentials(fx->job, bad[i][0], bad[i][1]), DOS_E_INVALID_ARG);
        assert_false(dos_job_has_credentials(fx->job, bad[i][0], bad[i][1]));
    }
}

static void test_credential_longer_than_300_characters_is_too_long(void **state)
{
    struct fixture *fx = *state;
    dos_char *ok = test_wstr_of_length("", DOS_MAX_CREDENTIAL, 'c', "");
    dos_char *too_long = test_wstr_of_length("", DOS_MAX_CREDENTIAL + 1, 'c', "");

    assert_int_equal(dos_job_set_credentials(fx->job, 1, 1, too_long, W(u"p")), DOS_E_STRING_TOO_LONG);
    assert_int_equal(dos_job_set_credentials(fx->job, 1, 1, W(u"u"), too_long), DOS_E_STRING_TOO_LONG);
    assert_false(dos_job_has_credentials(fx->job, 1, 1));
    assert_int_equal(dos_job_set_credentials(fx->job, 1, 1, ok, ok), DOS_OK);
    free(ok);
    free(too_long);
}

/* ---- notify reference ---------------------------------------------------- */

static void test_swap_notify_takes_the_reference_and_hands_back_the_previous(void **state)
{
    struct fixture *fx = *state;
    struct counted_ref a, b;
    struct dos_ref *old = &b.ref;

    counted_init(&a);
    counted_init(&b);
    assert_int_equal(dos_job_swap_notify(fx->job, &a.ref, &old), DOS_OK);
    assert_null(old);
    assert_int_equal(dos_job_swap_notify(fx->job, &b.ref, &old), DOS_OK);
    assert_ptr_equal(old, &a.ref);
    dos_ref_release(old);
    assert_int_equal(a.destroyed, 1);
    assert_int_equal(b.destroyed, 0);
    assert_int_equal(dos_job_swap_notify(fx->job, NULL, &old), DOS_OK);
    assert_ptr_equal(old, &b.ref);
    dos_ref_release(old);
    assert_int_equal(b.destroyed, 1);
}

static void test_get_notify_returns_a_retained_reference(void **state)
{
    struct fixture *fx = *state;
    struct dos_ref *got, *old = NULL;

    assert_int_equal(dos_job_swap_notify(fx->job, &fx->notify.ref, &old), DOS_OK);
    got = dos_job_get_notify(fx->job);
    assert_ptr_equal(got, &fx->notify.ref);
    assert_int_equal(atomic_load(&fx->notify.ref.refs), 2);
    dos_ref_release(got);
    assert_int_equal(fx->notify.destroyed, 0);
    assert_int_equal(atomic_load(&fx->notify.ref.refs), 1);
}

static void test_get_notify_without_a_callback_returns_null(void **state)
{
    struct fixture *fx = *state;
    assert_null(dos_job_get_notify(fx->job));
}

static void test_releasing_the_last_job_reference_releases_the_notify(void **state)
{
    struct fixture *fx = *state;
    struct dos_ref *old = NULL;

    assert_int_equal(dos_job_swap_notify(fx->job, &fx->notify.ref, &old), DOS_OK);
    dos_job_release(fx->job);            /* the list still holds the job */
    fx->job = NULL;
    assert_int_equal(fx->notify.destroyed, 0);
    dos_store_shutdown(fx->store);       /* drops the last reference */
    assert_int_equal(fx->notify.destroyed, 1);
}

static void test_cancel_releases_the_notify(void **state)
{
    struct fixture *fx = *state;
    struct dos_ref *old = NULL;

    assert_int_equal(dos_job_swap_notify(fx->job, &fx->notify.ref, &old), DOS_OK);
    assert_int_equal(dos_job_cancel(fx->job), DOS_OK);
    assert_int_equal(fx->notify.destroyed, 1);
    assert_null(dos_job_get_notify(fx->job));
}

static void test_complete_releases_the_notify(void **state)
{
    struct fixture *fx = *state;
    struct dos_ref *old = NULL;

    assert_int_equal(dos_job_swap_notify(fx->job, &fx->notify.ref, &old), DOS_OK);
    assert_int_equal(dos_job_complete(fx->job), DOS_OK);
    assert_int_equal(fx->notify.destroyed, 1);
    assert_null(dos_job_get_notify(fx->job));
}

/* ---- remote names -------------------------------------------------------- */

static void test_replace_remote_prefix_renames_matching_files_only(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *a = add_file(fx->job, W(u"http://old.example/a.bin"), LOCAL, DOS_SIZE_UNKNOWN);
    struct dos_file *b = add_file(fx->job, W(u"http://other.example/b.bin"), LOCAL, DOS_SIZE_UNKNOWN);
    struct dos_file *c = add_file(fx->job, W(u"http://old.example/dir/c.bin"), LOCAL, DOS_SIZE_UNKNOWN);

    assert_int_equal(dos_job_replace_remote_prefix(fx->job, W(u"http://old.example/"),
                                                   W(u"https://new.example/mirror/")), DOS_OK);
    assert_file_text(a, DOS_FILE_REMOTE_NAME, W(u"https://new.example/mirror/a.bin"));
    assert_file_text(b, DOS_FILE_REMOTE_NAME, W(u"http://other.example/b.bin"));
    assert_file_text(c, DOS_FILE_REMOTE_NAME, W(u"https://new.example/mirror/dir/c.bin"));
}

static void test_replace_remote_prefix_changes_nothing_if_a_new_name_is_invalid(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *a = add_file(fx->job, W(u"http://old/a.bin"), LOCAL, DOS_SIZE_UNKNOWN);
    struct dos_file *b = add_file(fx->job, W(u"http://old:8080/b.bin"), LOCAL, DOS_SIZE_UNKNOWN);

    /* a would become http://new:1/a.bin (valid), b http://new:1:8080/b.bin (not) */
    assert_int_equal(dos_job_replace_remote_prefix(fx->job, W(u"http://old"), W(u"http://new:1")), DOS_E_INVALID_ARG);
    assert_file_text(a, DOS_FILE_REMOTE_NAME, W(u"http://old/a.bin"));
    assert_file_text(b, DOS_FILE_REMOTE_NAME, W(u"http://old:8080/b.bin"));
}

static void test_replace_remote_prefix_rejects_empty_or_null_prefixes(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *a = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);

    assert_int_equal(dos_job_replace_remote_prefix(fx->job, W(u""), W(u"http://x/")), DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_replace_remote_prefix(fx->job, NULL, W(u"http://x/")), DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_replace_remote_prefix(fx->job, W(u"http://"), W(u"")), DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_replace_remote_prefix(fx->job, W(u"http://"), NULL), DOS_E_INVALID_ARG);
    assert_file_text(a, DOS_FILE_REMOTE_NAME, URL);
}

/* Spec 5.8. */
static void test_set_remote_name_replaces_it(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);

    assert_int_equal(dos_file_set_remote_name(file, W(u"https://mirror.example/file.bin")), DOS_OK);
    assert_file_text(file, DOS_FILE_REMOTE_NAME, W(u"https://mirror.example/file.bin"));
}

static void test_set_remote_name_rejects_an_invalid_url_and_keeps_the_old_one(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    dos_char *too_long = test_wstr_of_length("http://example.com/", DOS_MAX_URL + 1, 'a', "");

    assert_int_equal(dos_file_set_remote_name(file, W(u"ftp://example.com/file.bin")), DOS_E_INVALID_ARG);
    assert_int_equal(dos_file_set_remote_name(file, NULL), DOS_E_INVALID_ARG);
    assert_int_equal(dos_file_set_remote_name(file, too_long), DOS_E_STRING_TOO_LONG);
    assert_file_text(file, DOS_FILE_REMOTE_NAME, URL);
    free(too_long);
}

/* ---- local and temporary names (spec 5.2) -------------------------------- */

static bool starts_with(const dos_char *s, const dos_char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++) return false;
    return true;
}

static void assert_temp_name_beside(struct dos_file *file, const dos_char *folder)
{
    dos_char *temp = NULL;
    size_t folder_len = test_wlen(folder), len, i;
    char buf[512];

    assert_int_equal(dos_file_copy_text(file, DOS_FILE_TEMP_NAME, malloc, &temp), DOS_OK);
    len = test_wlen(temp);
    if (!starts_with(temp, folder) || !starts_with(temp + folder_len, W(u"DO")) || len < folder_len + 7
        || !test_wstr_equal(temp + len - 4, W(u".tmp")))
        fail_msg("temp name \"%s\" is not a DO*.tmp file in the folder", test_narrow(temp, buf, sizeof(buf)));
    for (i = folder_len; i < len; i++)
        if (temp[i] == '\\' || temp[i] == '/') fail_msg("temp name has a separator after the folder");
    free(temp);
}

static void test_temp_name_is_a_hidden_tmp_file_beside_the_local_name(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, W(u"C:\\downloads\\sub\\file.bin"), DOS_SIZE_UNKNOWN);
    struct dos_file *unc = add_file(fx->job, URL, W(u"\\\\server\\share\\file.bin"), DOS_SIZE_UNKNOWN);

    assert_temp_name_beside(file, W(u"C:\\downloads\\sub\\"));
    assert_temp_name_beside(unc, W(u"\\\\server\\share\\"));
}

static void test_each_file_gets_its_own_temp_name(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *a = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    struct dos_file *b = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    dos_char *ta = NULL, *tb = NULL;

    assert_int_equal(dos_file_copy_text(a, DOS_FILE_TEMP_NAME, malloc, &ta), DOS_OK);
    assert_int_equal(dos_file_copy_text(b, DOS_FILE_TEMP_NAME, malloc, &tb), DOS_OK);
    assert_false(test_wstr_equal(ta, tb));
    free(ta);
    free(tb);
}

static void test_set_local_name_moves_the_temp_name_along(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);

    assert_int_equal(dos_file_set_local_name(file, W(u"D:\\other\\image.iso")), DOS_OK);
    assert_file_text(file, DOS_FILE_LOCAL_NAME, W(u"D:\\other\\image.iso"));
    assert_temp_name_beside(file, W(u"D:\\other\\"));
}

static void test_local_name_set_later_gets_a_temp_name(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec spec = file_spec(URL, NULL);
    struct dos_file *file = NULL;

    spec.local_optional = true;
    assert_int_equal(dos_job_add_files(fx->job, &spec, 1, &file), DOS_OK);
    assert_int_equal(dos_file_set_local_name(file, W(u"C:\\sink\\file.bin")), DOS_OK);
    assert_temp_name_beside(file, W(u"C:\\sink\\"));
}

static void test_set_local_name_rejects_an_invalid_path_and_keeps_the_old_one(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);

    assert_int_equal(dos_file_set_local_name(file, W(u"relative.bin")), DOS_E_INVALID_ARG);
    assert_int_equal(dos_file_set_local_name(file, W(u"C:\\dir\\NUL")), DOS_E_INVALID_ARG);
    assert_int_equal(dos_file_set_local_name(file, NULL), DOS_E_INVALID_ARG);
    assert_file_text(file, DOS_FILE_LOCAL_NAME, LOCAL);
    assert_temp_name_beside(file, W(u"C:\\downloads\\"));
}

/* Bytes already on disk tie the file to its destination. */
static void test_set_local_name_after_bytes_arrived_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 100);

    record_then_suspend(file, 100, 1);
    assert_int_equal(dos_file_set_local_name(file, W(u"C:\\elsewhere\\file.bin")), DOS_E_INVALID_STATE);
    assert_file_text(file, DOS_FILE_LOCAL_NAME, LOCAL);
}

/*
 * The temporary file lives beside the destination and is dosvc's to delete
 * (DESIGN rule 7): once made, moving the destination would orphan it.
 */
static void test_set_local_name_after_the_temporary_file_was_made_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    dos_run run;

    fx->file = add_file(fx->job, URL, LOCAL, 100);
    run = run_job(fx->job);
    assert_int_equal(dos_file_mark_temp_created(fx->file, run), DOS_OK);
    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, fx->file, NULL),
                     DOS_OK);                             /* ERROR, no byte moved: settable until now */
    assert_true(file_info(fx->file).temp_created);
    take_snapshot(fx, &fx->before);
    assert_int_equal(dos_file_set_local_name(fx->file, W(u"D:\\other\\file.bin")), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
}

/* ---- validation state (spec 3.7, classic IBackgroundCopyFile3) ----------- */

static void test_set_validation_state_outside_transferred_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 10);

    record_then_suspend(file, 10, 10);   /* on disk, job SUSPENDED */
    assert_int_equal(dos_file_set_validation_state(file, true), DOS_E_INVALID_STATE);
    assert_false(file_info(file).validation_state);
}

static void test_set_validation_state_in_transferred_is_kept(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = make_transferred(fx->job);

    assert_int_equal(dos_file_set_validation_state(file, true), DOS_OK);
    assert_true(file_info(file).validation_state);
    assert_int_equal(job_state(fx->job), DOS_STATE_TRANSFERRED);
}

static void test_rejected_content_is_downloaded_again(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = make_transferred(fx->job);

    assert_int_equal(dos_file_set_validation_state(file, false), DOS_OK);
    assert_int_equal(file_info(file).bytes_transferred, 0);
    assert_int_equal(job_state(fx->job), DOS_STATE_QUEUED);
}

/* ---- errors (spec 3.2 GetError, 5.4) ------------------------------------- */

static void test_get_error_without_an_error_fails_with_no_error_info(void **state)
{
    struct fixture *fx = *state;
    struct dos_error_record record;
    assert_int_equal(dos_job_get_error(fx->job, &record), DOS_E_NO_ERROR_INFO);
}

static void test_report_error_puts_the_job_in_error(void **state)
{
    struct fixture *fx = *state;
    dos_run run;

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    run = run_job(fx->job);
    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_E_FAIL, DOS_CONTEXT_GENERAL_TRANSPORT, NULL, NULL),
                     DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_ERROR);
}

static void test_report_transient_error_puts_the_job_in_transient_error(void **state)
{
    struct fixture *fx = *state;
    dos_run run;

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    run = run_job(fx->job);
    assert_int_equal(dos_job_report_error(fx->job, run, true, HR_E_FAIL, DOS_CONTEXT_GENERAL_TRANSPORT, NULL, NULL),
                     DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_TRANSIENT_ERROR);
}

static void test_each_reported_error_is_counted(void **state)
{
    struct fixture *fx = *state;
    dos_run run;

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    run = run_job(fx->job);
    assert_int_equal(dos_job_report_error(fx->job, run, true, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    assert_int_equal(job_info(fx->job).error_count, 1);
    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL),
                     DOS_OK);
    assert_int_equal(job_info(fx->job).error_count, 2);
}

static void test_get_error_returns_the_latest_reported_record(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    struct dos_error_record record;
    dos_run run = run_job(fx->job);

    assert_int_equal(dos_job_report_error(fx->job, run, true, HR_E_FAIL, DOS_CONTEXT_GENERAL_TRANSPORT, NULL, NULL),
                     DOS_OK);
    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_FILE_NOT_FOUND, DOS_CONTEXT_REMOTE_FILE, file,
                                          W(u"HTTP")), DOS_OK);
    assert_int_equal(dos_job_get_error(fx->job, &record), DOS_OK);
    assert_int_equal(record.code, HR_FILE_NOT_FOUND);
    assert_int_equal(record.context, DOS_CONTEXT_REMOTE_FILE);
    assert_ptr_equal(record.file, file);
    assert_wstr_equal(record.protocol, W(u"HTTP"));
    dos_error_record_clear(&record);
    assert_null(record.protocol);
}

static void test_error_without_file_or_protocol_reports_none(void **state)
{
    struct fixture *fx = *state;
    struct dos_error_record record;
    dos_run run;

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    run = run_job(fx->job);
    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_E_FAIL, DOS_CONTEXT_LOCAL_FILE, NULL, NULL), DOS_OK);
    assert_int_equal(dos_job_get_error(fx->job, &record), DOS_OK);
    assert_int_equal(record.code, HR_E_FAIL);
    assert_null(record.file);
    assert_null(record.protocol);
    dos_error_record_clear(&record);
}

/* Spec 3.2: no error information once the job has left ERROR / TRANSIENT_ERROR. */
static void test_get_error_after_resume_fails_with_no_error_info(void **state)
{
    struct fixture *fx = *state;
    struct dos_error_record record;
    dos_run run;

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    run = run_job(fx->job);
    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, W(u"HTTP")),
                     DOS_OK);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_int_equal(dos_job_get_error(fx->job, &record), DOS_E_NO_ERROR_INFO);
    assert_null(record.protocol);
    assert_int_equal(job_info(fx->job).error_count, 1);
}

static void test_report_error_rejects_success_codes_and_foreign_files(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *other = NULL;
    struct dos_file *foreign;
    dos_run run;

    assert_int_equal(dos_store_create_job(fx->store, W(u"other"), DOS_JOB_DOWNLOAD, OWNER, &other), DOS_OK);
    foreign = add_file(other, URL, LOCAL, DOS_SIZE_UNKNOWN);
    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    run = run_job(fx->job);
    assert_int_equal(dos_job_report_error(fx->job, run, false, 0, DOS_CONTEXT_REMOTE_FILE, NULL, NULL),
                     DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_report_error(fx->job, run, false, 1, DOS_CONTEXT_REMOTE_FILE, NULL, NULL),
                     DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, foreign, NULL),
                     DOS_E_INVALID_ARG);
    assert_int_equal(job_state(fx->job), DOS_STATE_TRANSFERRING);
    assert_int_equal(job_info(fx->job).error_count, 0);
    assert_true(dos_job_run_is_live(fx->job, run));
    dos_job_release(other);
}

/* ---- job times (spec 5.1, 4.1) ------------------------------------------- */

static void test_setting_a_property_advances_modification_time(void **state)
{
    struct fixture *fx = *state;
    struct dos_ref *old = NULL;
    uint64_t t;

    t = mark_time(fx->job);
    assert_int_equal(dos_job_set_u32(fx->job, DOS_JOB_PRIORITY, DOS_PRIORITY_HIGH), DOS_OK);
    assert_modified_since(fx->job, t);
    t = mark_time(fx->job);
    assert_int_equal(dos_job_set_description(fx->job, W(u"d")), DOS_OK);
    assert_modified_since(fx->job, t);
    t = mark_time(fx->job);
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_AUTODETECT, NULL, NULL), DOS_OK);
    assert_modified_since(fx->job, t);
    t = mark_time(fx->job);
    assert_int_equal(dos_job_set_credentials(fx->job, 1, 1, W(u"u"), W(u"p")), DOS_OK);
    assert_modified_since(fx->job, t);
    t = mark_time(fx->job);
    assert_int_equal(dos_job_swap_notify(fx->job, &fx->notify.ref, &old), DOS_OK);
    assert_modified_since(fx->job, t);
}

static void test_adding_files_advances_modification_time(void **state)
{
    struct fixture *fx = *state;
    uint64_t t = mark_time(fx->job);

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    assert_modified_since(fx->job, t);
}

static void test_state_changes_advance_modification_time(void **state)
{
    struct fixture *fx = *state;
    uint64_t t;
    dos_run run;

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    t = mark_time(fx->job);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_modified_since(fx->job, t);
    t = mark_time(fx->job);
    assert_int_equal(dos_job_start_run(fx->job, &run), DOS_OK);
    assert_modified_since(fx->job, t);
    t = mark_time(fx->job);
    assert_int_equal(dos_job_report_error(fx->job, run, true, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    assert_modified_since(fx->job, t);
    t = mark_time(fx->job);
    assert_int_equal(dos_job_suspend(fx->job), DOS_OK);
    assert_modified_since(fx->job, t);
    t = mark_time(fx->job);
    assert_int_equal(dos_job_cancel(fx->job), DOS_OK);
    assert_modified_since(fx->job, t);
}

static void test_complete_advances_modification_time(void **state)
{
    struct fixture *fx = *state;
    uint64_t t = mark_time(fx->job);

    assert_int_equal(dos_job_complete(fx->job), DOS_OK);
    assert_modified_since(fx->job, t);
}

static void test_transferred_bytes_advance_modification_time(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 100);
    dos_run run = run_job(fx->job);
    uint64_t t = mark_time(fx->job);

    assert_int_equal(dos_file_record_progress(file, run, 100, 10), DOS_OK);
    assert_modified_since(fx->job, t);
}

static void test_reads_leave_modification_time_alone(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 100);
    struct dos_file **files = NULL;
    struct dos_error_record record;
    dos_char *text = NULL;
    size_t count = 0;
    uint64_t t = mark_time(fx->job);

    free(job_text(fx->job, DOS_JOB_DISPLAY_NAME));
    assert_int_equal(dos_job_list_files(fx->job, &files, &count), DOS_OK);
    free(files);
    assert_int_equal(dos_file_copy_text(file, DOS_FILE_REMOTE_NAME, malloc, &text), DOS_OK);
    free(text);
    dos_ref_release(dos_job_get_notify(fx->job));
    (void)file_info(file);
    (void)dos_job_get_error(fx->job, &record);
    (void)dos_job_has_credentials(fx->job, 1, 1);
    assert_int_equal(job_info(fx->job).modification_time, t);
}

static void test_creation_time_never_changes(void **state)
{
    struct fixture *fx = *state;
    uint64_t created = job_info(fx->job).creation_time;

    mark_time(fx->job);
    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_int_equal(dos_job_cancel(fx->job), DOS_OK);
    assert_int_equal(job_info(fx->job).creation_time, created);
}

/* ---- the engine's runs (store.h) ------------------------------------------ */

static void hear(void *context, const struct dos_event *event)
{
    struct heard *heard = context;

    if (heard->count < MAX_HEARD)
    {
        heard->events[heard->count].kind = event->kind;
        heard->events[heard->count].job = event->job;
        heard->events[heard->count].file = event->file;
    }
    heard->count++;
}

/* Listens to the store from now on, having heard nothing yet. */
static void start_listening(struct fixture *fx)
{
    memset(&fx->heard, 0, sizeof(fx->heard));
    dos_store_set_listener(fx->store, hear, &fx->heard);
}

static const char *event_name(enum dos_event_kind kind)
{
    switch (kind)
    {
    case DOS_EVENT_RUNNABLE: return "RUNNABLE";
    case DOS_EVENT_STOPPED: return "STOPPED";
    case DOS_EVENT_MODIFIED: return "MODIFIED";
    case DOS_EVENT_TRANSFERRED: return "TRANSFERRED";
    case DOS_EVENT_ERROR: return "ERROR";
    case DOS_EVENT_FILE_TRANSFERRED: return "FILE_TRANSFERRED";
    }
    return "(unknown)";
}

/* Fails unless exactly these events were heard, in order, all about fx->job; then forgets them. */
static void check_heard(struct fixture *fx, const struct heard_event *expected, size_t count)
{
    size_t i, n = fx->heard.count;

    for (i = 0; i < n && i < count && i < MAX_HEARD; i++)
    {
        const struct heard_event *got = &fx->heard.events[i];
        if (got->kind != expected[i].kind)
            fail_msg("event %u is %s, expected %s", (unsigned)i, event_name(got->kind), event_name(expected[i].kind));
        assert_ptr_equal(got->job, fx->job);
        assert_ptr_equal(got->file, expected[i].file);
    }
    if (n != count)
        fail_msg("%u events heard, expected %u; the first extra or missing one: %s", (unsigned)n, (unsigned)count,
                 n > count && count < MAX_HEARD ? event_name(fx->heard.events[count].kind)
                 : n < count ? event_name(expected[n].kind) : "?");
    fx->heard.count = 0;
}

#define HEARD(kind) { DOS_EVENT_##kind, NULL, NULL }
#define HEARD_FILE_TRANSFERRED(file) { DOS_EVENT_FILE_TRANSFERRED, NULL, (file) }
#define assert_heard(fx, ...)                                                     \
    do {                                                                          \
        const struct heard_event expected_[] = { __VA_ARGS__ };                   \
        check_heard((fx), expected_, sizeof(expected_) / sizeof(expected_[0]));   \
    } while (0)
#define assert_heard_nothing(fx) check_heard((fx), NULL, 0)

/* A job the engine is moving: fx->file, 40 of its 100 bytes on disk. */
static dos_run start_transfer(struct fixture *fx)
{
    dos_run run;

    fx->file = add_file(fx->job, URL, LOCAL, 100);
    run = run_job(fx->job);
    assert_int_equal(dos_file_record_progress(fx->file, run, 100, 40), DOS_OK);
    return run;
}

/* Every engine write with run fails with DOS_E_INVALID_STATE, changes nothing and tells no one. */
static void assert_run_revoked(struct fixture *fx, dos_run run)
{
    struct dos_transfer_file tf;

    free_snapshot(&fx->before);
    take_snapshot(fx, &fx->before);
    start_listening(fx);
    assert_false(dos_job_run_is_live(fx->job, run));
    assert_int_equal(dos_file_record_progress(fx->file, run, DOS_SIZE_UNKNOWN, 0), DOS_E_INVALID_STATE);
    assert_int_equal(dos_file_record_progress(fx->file, run, DOS_SIZE_UNKNOWN, 1), DOS_E_INVALID_STATE);
    assert_int_equal(dos_file_mark_temp_created(fx->file, run), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_retry(fx->job, run), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_finish_run(fx->job, run), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_report_error(fx->job, run, true, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, fx->file, W(u"HTTP")),
                     DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL),
                     DOS_E_INVALID_STATE);
    memset(&tf, 0xCC, sizeof(tf));
    assert_int_equal(dos_job_next_file(fx->job, run, &tf), DOS_E_INVALID_STATE);
    assert_null(tf.file);
    assert_null(tf.remote_name);
    assert_unchanged(fx);
    assert_heard_nothing(fx);
}

/* The first event heard is STOPPED, and the only one; the rest is forgotten. */
static void assert_stopped_once_first(struct fixture *fx)
{
    size_t i, stopped = 0;

    assert_true(fx->heard.count >= 1 && fx->heard.count <= MAX_HEARD);
    assert_int_equal(fx->heard.events[0].kind, DOS_EVENT_STOPPED);
    for (i = 0; i < fx->heard.count; i++) stopped += fx->heard.events[i].kind == DOS_EVENT_STOPPED;
    assert_int_equal(stopped, 1);
    fx->heard.count = 0;
}

static void test_start_run_moves_a_queued_job_to_transferring(void **state)
{
    struct fixture *fx = *state;
    dos_run run = 0;

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_QUEUED);
    assert_int_equal(dos_job_start_run(fx->job, &run), DOS_OK);
    assert_int_not_equal(run, 0);
    assert_true(dos_job_run_is_live(fx->job, run));
    assert_int_equal(job_state(fx->job), DOS_STATE_TRANSFERRING);
}

/* Only the client's Resume makes a job runnable: SUSPENDED, ERROR and TRANSFERRED jobs start no run. */
static void test_start_run_outside_queued_fails_with_invalid_state_and_no_run(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 10);
    dos_run run = 12345;

    assert_int_equal(dos_job_start_run(fx->job, &run), DOS_E_INVALID_STATE);
    assert_int_equal(run, 0);
    assert_int_equal(job_state(fx->job), DOS_STATE_SUSPENDED);

    run = run_job(fx->job);
    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    run = 12345;
    assert_int_equal(dos_job_start_run(fx->job, &run), DOS_E_INVALID_STATE);
    assert_int_equal(run, 0);
    assert_int_equal(job_state(fx->job), DOS_STATE_ERROR);

    run = run_job(fx->job);
    assert_int_equal(dos_file_record_progress(file, run, 10, 10), DOS_OK);
    assert_int_equal(dos_job_finish_run(fx->job, run), DOS_OK);
    run = 12345;
    assert_int_equal(dos_job_start_run(fx->job, &run), DOS_E_INVALID_STATE);
    assert_int_equal(run, 0);
    assert_int_equal(job_state(fx->job), DOS_STATE_TRANSFERRED);
}

/* One run at a time: while one is live (transferring or retrying) no second one starts. */
static void test_second_start_run_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    dos_run first, second = 12345;

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    first = run_job(fx->job);
    assert_int_equal(dos_job_start_run(fx->job, &second), DOS_E_INVALID_STATE);
    assert_int_equal(second, 0);
    assert_true(dos_job_run_is_live(fx->job, first));
    assert_int_equal(job_state(fx->job), DOS_STATE_TRANSFERRING);

    assert_int_equal(dos_job_report_error(fx->job, first, true, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    second = 12345;
    assert_int_equal(dos_job_start_run(fx->job, &second), DOS_E_INVALID_STATE);
    assert_int_equal(second, 0);
    assert_true(dos_job_run_is_live(fx->job, first));
    assert_int_equal(job_state(fx->job), DOS_STATE_TRANSIENT_ERROR);
}

static void test_suspend_revokes_the_run(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_transfer(fx), next;
    struct dos_transfer_file tf;

    start_listening(fx);
    assert_int_equal(dos_job_suspend(fx->job), DOS_OK);
    assert_stopped_once_first(fx);
    assert_run_revoked(fx, run);

    /* the next run finds the file as the revoked one left it */
    next = run_job(fx->job);
    assert_int_not_equal(next, run);
    assert_false(dos_job_run_is_live(fx->job, run));
    assert_int_equal(dos_job_next_file(fx->job, next, &tf), DOS_OK);
    assert_ptr_equal(tf.file, fx->file);
    assert_int_equal(tf.transferred, 40);
    assert_false(tf.temp_created);
    dos_transfer_file_clear(&tf);
}

/* A retrying run is replaced: Resume from TRANSIENT_ERROR queues the job for a new one. */
static void test_resume_from_transient_error_revokes_the_run(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_transfer(fx);

    assert_int_equal(dos_job_report_error(fx->job, run, true, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    start_listening(fx);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_heard(fx, HEARD(STOPPED), HEARD(RUNNABLE), HEARD(MODIFIED));
    assert_int_equal(job_state(fx->job), DOS_STATE_QUEUED);
    assert_run_revoked(fx, run);
}

static void test_cancel_revokes_the_run(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_transfer(fx);

    start_listening(fx);
    assert_int_equal(dos_job_cancel(fx->job), DOS_OK);
    assert_stopped_once_first(fx);
    assert_run_revoked(fx, run);
}

static void test_complete_revokes_the_run(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_transfer(fx);

    start_listening(fx);
    assert_int_equal(dos_job_complete(fx->job), DOS_S_PARTIAL_COMPLETE);
    assert_stopped_once_first(fx);
    assert_run_revoked(fx, run);
}

static void test_begin_finish_revokes_the_run(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_transfer(fx);

    start_listening(fx);
    assert_int_equal(dos_job_begin_finish(fx->job), DOS_OK);
    assert_heard(fx, HEARD(STOPPED));
    assert_run_revoked(fx, run);
}

/* Resume is harmless on a job already moving: its run goes on. */
static void test_resume_of_a_transferring_job_keeps_the_run(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_transfer(fx);

    start_listening(fx);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_heard_nothing(fx);
    assert_int_equal(job_state(fx->job), DOS_STATE_TRANSFERRING);
    assert_true(dos_job_run_is_live(fx->job, run));
    assert_int_equal(dos_file_record_progress(fx->file, run, 100, 50), DOS_OK);
}

/* A fatal error ends the run; Resume queues the job, and only a new run moves it. */
static void test_resume_after_a_fatal_error_needs_a_new_run(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_transfer(fx), next;

    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_QUEUED);
    assert_run_revoked(fx, run);

    assert_int_equal(dos_job_start_run(fx->job, &next), DOS_OK);
    assert_int_not_equal(next, run);
    assert_true(dos_job_run_is_live(fx->job, next));
    assert_false(dos_job_run_is_live(fx->job, run));
    assert_int_equal(dos_file_record_progress(fx->file, next, 100, 50), DOS_OK);
    assert_int_equal(dos_file_record_progress(fx->file, run, 100, 60), DOS_E_INVALID_STATE);
    assert_int_equal(file_info(fx->file).bytes_transferred, 50);
}

static void test_next_file_gives_a_copy_of_the_first_file_not_yet_transferred(void **state)
{
    struct fixture *fx = *state;
    const dos_range ranges[] = { { 500, 100 }, { 0, 10 } };
    struct dos_file_spec spec = file_spec(W(u"http://example.com/next.bin"), W(u"C:\\dl\\next.bin"));
    struct dos_file *done = add_file(fx->job, W(u"http://example.com/done.bin"), W(u"C:\\dl\\done.bin"), 10);
    struct dos_file *next = NULL;
    struct dos_transfer_file tf;
    dos_range *stored = NULL;
    dos_char *temp = NULL;
    uint32_t stored_count = 0;
    dos_run run;

    spec.ranges = ranges;
    spec.range_count = 2;
    assert_int_equal(dos_job_add_files(fx->job, &spec, 1, &next), DOS_OK);
    add_file(fx->job, W(u"http://example.com/last.bin"), W(u"C:\\dl\\last.bin"), 10);
    run = run_job(fx->job);
    assert_int_equal(dos_file_record_progress(done, run, 10, 10), DOS_OK);
    assert_int_equal(dos_file_record_progress(next, run, 1000, 30), DOS_OK);
    assert_int_equal(dos_file_mark_temp_created(next, run), DOS_OK);

    memset(&tf, 0xCC, sizeof(tf));
    assert_int_equal(dos_job_next_file(fx->job, run, &tf), DOS_OK);
    assert_ptr_equal(tf.file, next);
    assert_int_equal(tf.index, 1);
    assert_wstr_equal(tf.remote_name, W(u"http://example.com/next.bin"));
    assert_wstr_equal(tf.local_name, W(u"C:\\dl\\next.bin"));
    assert_int_equal(dos_file_copy_text(next, DOS_FILE_TEMP_NAME, malloc, &temp), DOS_OK);
    assert_wstr_equal(tf.temp_name, temp);
    assert_int_equal(tf.range_count, 2);
    assert_non_null(tf.ranges);
    assert_int_equal(tf.ranges[0].offset, 500);
    assert_int_equal(tf.ranges[0].length, 100);
    assert_int_equal(tf.ranges[1].offset, 0);
    assert_int_equal(tf.ranges[1].length, 10);
    assert_int_equal(tf.file_size, 1000);
    assert_int_equal(tf.transferred, 30);
    assert_true(tf.temp_created);

    /* copies: writing to them leaves the store alone */
    tf.remote_name[0] = 'X';
    tf.ranges[0].offset = 7;
    assert_file_text(next, DOS_FILE_REMOTE_NAME, W(u"http://example.com/next.bin"));
    assert_int_equal(dos_file_copy_ranges(next, malloc, &stored, &stored_count), DOS_OK);
    assert_int_equal(stored[0].offset, 500);

    dos_transfer_file_clear(&tf);
    assert_null(tf.file);
    assert_null(tf.remote_name);
    assert_null(tf.local_name);
    assert_null(tf.temp_name);
    assert_null(tf.ranges);
    assert_int_equal(tf.range_count, 0);
    free(stored);
    free(temp);
}

static void test_next_file_of_a_whole_file_of_unknown_size_has_no_ranges(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    dos_run run = run_job(fx->job);
    struct dos_transfer_file tf;

    memset(&tf, 0xCC, sizeof(tf));
    assert_int_equal(dos_job_next_file(fx->job, run, &tf), DOS_OK);
    assert_ptr_equal(tf.file, file);
    assert_int_equal(tf.index, 0);
    assert_null(tf.ranges);
    assert_int_equal(tf.range_count, 0);
    assert_int_equal(tf.file_size, DOS_SIZE_UNKNOWN);
    assert_int_equal(tf.transferred, 0);
    assert_false(tf.temp_created);
    dos_transfer_file_clear(&tf);
}

static void test_next_file_when_every_file_is_transferred_is_not_set(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *a = add_file(fx->job, URL, W(u"C:\\dl\\a.bin"), 10);
    struct dos_file *b = add_file(fx->job, URL, W(u"C:\\dl\\b.bin"), 20);
    dos_run run = run_job(fx->job);
    struct dos_transfer_file tf;

    assert_int_equal(dos_file_record_progress(a, run, 10, 10), DOS_OK);
    assert_int_equal(dos_file_record_progress(b, run, 20, 20), DOS_OK);
    memset(&tf, 0xCC, sizeof(tf));
    assert_int_equal(dos_job_next_file(fx->job, run, &tf), DOS_E_NOT_SET);
    assert_null(tf.file);
    assert_null(tf.remote_name);
    assert_null(tf.local_name);
    assert_null(tf.temp_name);
    assert_null(tf.ranges);
    assert_true(dos_job_run_is_live(fx->job, run));
}

static void test_mark_temp_created_is_seen_by_next_file(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 100);
    dos_run run = run_job(fx->job);
    struct dos_transfer_file tf;

    assert_int_equal(dos_job_next_file(fx->job, run, &tf), DOS_OK);
    assert_false(tf.temp_created);
    dos_transfer_file_clear(&tf);
    assert_int_equal(dos_file_mark_temp_created(file, run), DOS_OK);
    assert_int_equal(dos_job_next_file(fx->job, run, &tf), DOS_OK);
    assert_true(tf.temp_created);
    dos_transfer_file_clear(&tf);
}

/* The temporary file is dosvc's to delete whichever run made it. */
static void test_temp_created_outlives_the_run_that_made_it(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 100);
    dos_run run = run_job(fx->job);
    struct dos_transfer_file tf;

    assert_int_equal(dos_file_mark_temp_created(file, run), DOS_OK);
    assert_int_equal(dos_job_suspend(fx->job), DOS_OK);
    run = run_job(fx->job);
    assert_int_equal(dos_job_next_file(fx->job, run, &tf), DOS_OK);
    assert_true(tf.temp_created);
    dos_transfer_file_clear(&tf);
}

/* Spec 5.1: TRANSIENT_ERROR --progress resumes--> TRANSFERRING. */
static void test_record_progress_moves_transient_error_back_to_transferring(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_transfer(fx);

    assert_int_equal(dos_job_report_error(fx->job, run, true, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    start_listening(fx);
    assert_int_equal(dos_file_record_progress(fx->file, run, 100, 50), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_TRANSFERRING);
    assert_heard(fx, HEARD(MODIFIED));
    assert_true(dos_job_run_is_live(fx->job, run));
}

static void test_file_transferred_is_emitted_once_when_a_file_becomes_complete(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 100);
    dos_run run = run_job(fx->job);

    start_listening(fx);
    assert_int_equal(dos_file_record_progress(file, run, 100, 40), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
    assert_int_equal(dos_file_record_progress(file, run, 100, 100), DOS_OK);
    assert_heard(fx, HEARD_FILE_TRANSFERRED(file), HEARD(MODIFIED));
    assert_int_equal(dos_file_record_progress(file, run, 100, 100), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
}

static void test_retry_moves_transient_error_back_to_transferring(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_transfer(fx);

    assert_int_equal(dos_job_report_error(fx->job, run, true, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    start_listening(fx);
    assert_int_equal(dos_job_retry(fx->job, run), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_TRANSFERRING);
    assert_heard(fx, HEARD(MODIFIED));
    assert_true(dos_job_run_is_live(fx->job, run));
}

static void test_retry_while_transferring_changes_nothing(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_transfer(fx);

    take_snapshot(fx, &fx->before);
    start_listening(fx);
    assert_int_equal(dos_job_retry(fx->job, run), DOS_OK);
    assert_unchanged(fx);
    assert_heard_nothing(fx);
}

static void test_finish_run_with_a_file_not_transferred_fails_with_invalid_arg(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *second;
    dos_run run;

    fx->file = add_file(fx->job, URL, W(u"C:\\dl\\1.bin"), 10);
    second = add_file(fx->job, URL, W(u"C:\\dl\\2.bin"), 20);
    run = run_job(fx->job);
    assert_int_equal(dos_file_record_progress(fx->file, run, 10, 10), DOS_OK);
    assert_int_equal(dos_file_record_progress(second, run, 20, 19), DOS_OK);
    take_snapshot(fx, &fx->before);
    start_listening(fx);
    assert_int_equal(dos_job_finish_run(fx->job, run), DOS_E_INVALID_ARG);
    assert_unchanged(fx);
    assert_heard_nothing(fx);
    assert_true(dos_job_run_is_live(fx->job, run));
}

/* Spec 5.1: TRANSFERRING --all files done--> TRANSFERRED, TransferCompletionTime set. */
static void test_finish_run_moves_to_transferred_with_a_completion_time_and_ends_the_run(void **state)
{
    struct fixture *fx = *state;
    struct dos_job_info info;
    dos_run run;
    uint64_t t;

    fx->file = add_file(fx->job, URL, LOCAL, 10);
    run = run_job(fx->job);
    assert_int_equal(dos_file_record_progress(fx->file, run, 10, 10), DOS_OK);
    t = mark_time(fx->job);
    assert_int_equal(dos_job_finish_run(fx->job, run), DOS_OK);
    info = job_info(fx->job);
    assert_int_equal(info.state, DOS_STATE_TRANSFERRED);
    assert_true(info.transfer_completion_time > t);
    assert_int_equal(info.transfer_completion_time, info.modification_time);
    assert_run_revoked(fx, run);
}

static void test_transient_error_keeps_the_run(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_transfer(fx);
    struct dos_transfer_file tf;

    assert_int_equal(dos_job_report_error(fx->job, run, true, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    assert_true(dos_job_run_is_live(fx->job, run));
    assert_int_equal(dos_job_next_file(fx->job, run, &tf), DOS_OK);
    assert_ptr_equal(tf.file, fx->file);
    dos_transfer_file_clear(&tf);
    assert_int_equal(dos_file_mark_temp_created(fx->file, run), DOS_OK);
}

static void test_fatal_error_ends_the_run(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_transfer(fx);

    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_ERROR);
    assert_run_revoked(fx, run);
}

/* ---- the listener's events (store.h) --------------------------------------- */

static void test_resume_emits_runnable_then_modified(void **state)
{
    struct fixture *fx = *state;

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    start_listening(fx);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_heard(fx, HEARD(RUNNABLE), HEARD(MODIFIED));
}

static void test_resume_with_every_file_transferred_emits_transferred_then_modified(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 10);

    record_then_suspend(file, 10, 10);
    start_listening(fx);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_heard(fx, HEARD(TRANSFERRED), HEARD(MODIFIED));
}

static void test_start_run_emits_modified(void **state)
{
    struct fixture *fx = *state;
    dos_run run;

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    start_listening(fx);
    assert_int_equal(dos_job_start_run(fx->job, &run), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
}

static void test_suspend_of_a_running_job_emits_stopped_then_modified(void **state)
{
    struct fixture *fx = *state;

    start_transfer(fx);
    start_listening(fx);
    assert_int_equal(dos_job_suspend(fx->job), DOS_OK);
    assert_heard(fx, HEARD(STOPPED), HEARD(MODIFIED));
}

/* A queued job has no run to stop. */
static void test_suspend_of_a_queued_job_emits_modified_only(void **state)
{
    struct fixture *fx = *state;

    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    start_listening(fx);
    assert_int_equal(dos_job_suspend(fx->job), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
}

/* Spec 5.4: JobModification covers files added and properties changed. */
static void test_each_setting_emits_modified(void **state)
{
    struct fixture *fx = *state;
    const dos_guid clsid = { 0x12345678, 0x1234, 0x4567, { 0x89, 0xAB, 0xCD, 0xEF, 1, 2, 3, 4 } };
    struct dos_file *file = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);

    start_listening(fx);
    assert_int_equal(dos_job_set_u32(fx->job, DOS_JOB_PRIORITY, DOS_PRIORITY_HIGH), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
    assert_int_equal(dos_job_set_display_name(fx->job, W(u"renamed")), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
    assert_int_equal(dos_job_set_description(fx->job, W(u"d")), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
    assert_int_equal(dos_job_set_owner(fx->job, W(u"S-1-5-18")), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_OVERRIDE, W(u"proxy:8080"), NULL), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
    assert_int_equal(dos_job_set_notify_cmdline(fx->job, W(u"C:\\bin\\notify.exe"), NULL), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
    assert_int_equal(dos_job_set_notification_clsid(fx->job, &clsid), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
    assert_int_equal(dos_job_set_credentials(fx->job, 1, 1, W(u"u"), W(u"p")), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
    assert_int_equal(dos_job_remove_credentials(fx->job, 1, 1), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
    add_file(fx->job, URL, W(u"C:\\downloads\\more.bin"), DOS_SIZE_UNKNOWN);
    assert_heard(fx, HEARD(MODIFIED));
    assert_int_equal(dos_job_replace_remote_prefix(fx->job, W(u"http://example.com/"), W(u"http://mirror/")), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
    assert_int_equal(dos_file_set_remote_name(file, URL), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
    assert_int_equal(dos_file_set_local_name(file, W(u"C:\\elsewhere\\file.bin")), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
    assert_int_equal(dos_file_set_size(file, 100), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
}

static void test_fatal_error_emits_error_then_modified(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_transfer(fx);

    start_listening(fx);
    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    assert_heard(fx, HEARD(ERROR), HEARD(MODIFIED));
}

/* Spec 5.4: JobError is never sent for transient errors. */
static void test_transient_error_emits_modified_only(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_transfer(fx);

    start_listening(fx);
    assert_int_equal(dos_job_report_error(fx->job, run, true, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    assert_heard(fx, HEARD(MODIFIED));
}

static void test_finish_run_emits_transferred_then_modified(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 10);
    dos_run run = run_job(fx->job);

    assert_int_equal(dos_file_record_progress(file, run, 10, 10), DOS_OK);
    start_listening(fx);
    assert_int_equal(dos_job_finish_run(fx->job, run), DOS_OK);
    assert_heard(fx, HEARD(TRANSFERRED), HEARD(MODIFIED));
}

/* Rejected content goes back to the engine (spec 3.7): the job is runnable again. */
static void test_rejected_content_emits_runnable_then_modified(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *file = make_transferred(fx->job);

    start_listening(fx);
    assert_int_equal(dos_file_set_validation_state(file, false), DOS_OK);
    assert_heard(fx, HEARD(RUNNABLE), HEARD(MODIFIED));
}

/* DESIGN rule 3: a call that fails changes nothing, so there is nothing to tell. */
static void test_a_failed_call_emits_nothing(void **state)
{
    struct fixture *fx = *state;
    struct dos_file_spec bad = file_spec(URL, W(u"relative.bin"));
    struct dos_file *file;
    dos_run run = 0;

    start_listening(fx);
    assert_int_equal(dos_job_resume(fx->job), DOS_E_JOB_EMPTY);
    assert_int_equal(dos_job_add_files(fx->job, &bad, 1, NULL), DOS_E_INVALID_ARG);
    assert_heard_nothing(fx);
    file = add_file(fx->job, URL, LOCAL, 100);
    assert_heard(fx, HEARD(MODIFIED));

    assert_int_equal(dos_job_set_u32(fx->job, DOS_JOB_PRIORITY, 4), DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_set_display_name(fx->job, NULL), DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_OVERRIDE, NULL, NULL), DOS_E_INVALID_ARG);
    assert_int_equal(dos_file_set_size(file, 0), DOS_E_INVALID_ARG);
    assert_int_equal(dos_file_set_validation_state(file, true), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_start_run(fx->job, &run), DOS_E_INVALID_STATE);
    assert_int_equal(dos_file_record_progress(file, run, 100, 1), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL),
                     DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_retry(fx->job, run), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_finish_run(fx->job, run), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_end_finish(fx->job, DOS_STATE_CANCELLED, NULL), DOS_E_INVALID_STATE);
    assert_heard_nothing(fx);

    run = run_job(fx->job);
    assert_heard(fx, HEARD(RUNNABLE), HEARD(MODIFIED), HEARD(MODIFIED));
    assert_int_equal(dos_file_record_progress(file, run, 100, 101), DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_report_error(fx->job, run, false, 0, DOS_CONTEXT_REMOTE_FILE, NULL, NULL),
                     DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_finish_run(fx->job, run), DOS_E_INVALID_ARG);
    assert_int_equal(dos_job_start_run(fx->job, &run), DOS_E_INVALID_STATE);
    assert_int_equal(dos_file_set_local_name(file, W(u"C:\\elsewhere\\file.bin")), DOS_E_INVALID_STATE);
    assert_heard_nothing(fx);

    assert_int_equal(dos_job_cancel(fx->job), DOS_OK);
    fx->heard.count = 0;
    assert_int_equal(dos_job_suspend(fx->job), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_resume(fx->job), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_set_description(fx->job, W(u"late")), DOS_E_INVALID_STATE);
    assert_heard_nothing(fx);
}

static void test_a_removed_listener_hears_nothing(void **state)
{
    struct fixture *fx = *state;

    start_listening(fx);
    dos_store_set_listener(fx->store, NULL, NULL);
    assert_int_equal(dos_job_set_description(fx->job, W(u"d")), DOS_OK);
    add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_heard_nothing(fx);
}

/* A listener that reads the store back from inside its call, as the engine does. */
struct reader
{
    size_t calls;
    dos_job_state state_seen[MAX_HEARD];
    uint64_t file_bytes_seen[MAX_HEARD];
};

static void read_back(void *context, const struct dos_event *event)
{
    struct reader *r = context;
    struct dos_job_info info;
    struct dos_file_info file;
    dos_char *name = NULL;

    /* Each of these takes the store's lock: were it held, this thread would wait for itself. */
    dos_job_get_info(event->job, &info);
    if (dos_job_copy_text(event->job, DOS_JOB_DISPLAY_NAME, malloc, &name) == DOS_OK) free(name);
    if (r->calls < MAX_HEARD)
    {
        r->state_seen[r->calls] = info.state;
        r->file_bytes_seen[r->calls] = 0;
        if (event->file)
        {
            dos_file_get_info(event->file, &file);
            r->file_bytes_seen[r->calls] = file.bytes_transferred;
        }
    }
    r->calls++;
}

/* store.h: the listener is called after every change with the store's lock left. */
static void test_listener_may_read_the_store_from_inside_its_call(void **state)
{
    struct fixture *fx = *state;
    static const dos_job_state expected[] = {
        DOS_STATE_QUEUED, DOS_STATE_QUEUED,                               /* Resume */
        DOS_STATE_TRANSFERRING,                                           /* start_run */
        DOS_STATE_TRANSFERRING, DOS_STATE_TRANSFERRING,                   /* the file's last bytes */
        DOS_STATE_TRANSFERRED, DOS_STATE_TRANSFERRED,                     /* finish_run */
        DOS_STATE_SUSPENDED,                                              /* Suspend */
    };
    struct dos_file *file = add_file(fx->job, URL, LOCAL, 10);
    struct reader r;
    dos_run run;
    size_t i;

    memset(&r, 0, sizeof(r));
    dos_store_set_listener(fx->store, read_back, &r);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_int_equal(dos_job_start_run(fx->job, &run), DOS_OK);
    assert_int_equal(dos_file_record_progress(file, run, 10, 10), DOS_OK);
    assert_int_equal(dos_job_finish_run(fx->job, run), DOS_OK);
    assert_int_equal(dos_job_suspend(fx->job), DOS_OK);
    dos_store_set_listener(fx->store, NULL, NULL);

    assert_int_equal(r.calls, sizeof(expected) / sizeof(expected[0]));
    for (i = 0; i < r.calls; i++) assert_int_equal(r.state_seen[i], expected[i]);
    assert_int_equal(r.file_bytes_seen[3], 10);      /* FILE_TRANSFERRED: the bytes are already there */
}

/* ---- Cancel and Complete in two steps (store.h) ---------------------------- */

/* begin_finish stops the job: every other change fails while the state still reads as before. */
static void test_begin_finish_blocks_other_changes_while_the_state_reads_as_before(void **state)
{
    struct fixture *fx = *state;
    const dos_guid clsid = { 0x12345678, 0x1234, 0x4567, { 0x89, 0xAB, 0xCD, 0xEF, 1, 2, 3, 4 } };
    struct dos_file_spec spec = file_spec(W(u"http://example.com/more.bin"), W(u"C:\\downloads\\more.bin"));
    struct counted_ref ref;
    struct dos_ref *old = NULL;
    dos_run run;

    start_transfer(fx);
    assert_int_equal(dos_job_begin_finish(fx->job), DOS_OK);
    take_snapshot(fx, &fx->before);
    assert_int_equal(fx->before.info.state, DOS_STATE_TRANSFERRING);
    assert_int_equal(dos_store_job_count(fx->store), 1);
    start_listening(fx);

    assert_int_equal(dos_job_set_u32(fx->job, DOS_JOB_PRIORITY, DOS_PRIORITY_HIGH), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_set_display_name(fx->job, W(u"renamed")), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_set_description(fx->job, W(u"d")), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_set_owner(fx->job, W(u"S-1-5-18")), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_set_proxy(fx->job, DOS_PROXY_NO_PROXY, NULL, NULL), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_set_notify_cmdline(fx->job, W(u"C:\\bin\\notify.exe"), NULL), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_set_notification_clsid(fx->job, &clsid), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_set_credentials(fx->job, 1, 1, W(u"u"), W(u"p")), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_remove_credentials(fx->job, 1, 1), DOS_E_INVALID_STATE);
    counted_init(&ref);
    assert_int_equal(dos_job_swap_notify(fx->job, &ref.ref, &old), DOS_E_INVALID_STATE);
    assert_ptr_equal(old, &ref.ref);
    dos_ref_release(old);
    assert_int_equal(dos_job_add_files(fx->job, &spec, 1, NULL), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_replace_remote_prefix(fx->job, W(u"http://example.com/"), W(u"http://mirror/")),
                     DOS_E_INVALID_STATE);
    assert_int_equal(dos_file_set_remote_name(fx->file, W(u"http://mirror/file.bin")), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_suspend(fx->job), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_resume(fx->job), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_cancel(fx->job), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_complete(fx->job), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_begin_finish(fx->job), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_start_run(fx->job, &run), DOS_E_INVALID_STATE);

    assert_unchanged(fx);
    assert_heard_nothing(fx);
    assert_int_equal(dos_store_job_count(fx->store), 1);
}

/* A file's destination cannot move while Cancel or Complete deals with it. */
static void test_set_local_name_while_finishing_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;

    fx->file = add_file(fx->job, URL, LOCAL, 100);          /* SUSPENDED, nothing moved: settable before */
    assert_int_equal(dos_job_begin_finish(fx->job), DOS_OK);
    take_snapshot(fx, &fx->before);
    start_listening(fx);
    assert_int_equal(dos_file_set_local_name(fx->file, W(u"C:\\elsewhere\\file.bin")), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
    assert_heard_nothing(fx);
}

static void test_set_size_while_finishing_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;

    fx->file = add_file(fx->job, URL, LOCAL, DOS_SIZE_UNKNOWN);
    assert_int_equal(dos_job_begin_finish(fx->job), DOS_OK);
    take_snapshot(fx, &fx->before);
    start_listening(fx);
    assert_int_equal(dos_file_set_size(fx->file, 200), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
    assert_heard_nothing(fx);
}

/* Rejecting content between the two steps would queue a job that is being ended. */
static void test_set_validation_state_while_finishing_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;

    fx->file = make_transferred(fx->job);
    assert_int_equal(dos_job_begin_finish(fx->job), DOS_OK);
    take_snapshot(fx, &fx->before);
    start_listening(fx);
    assert_int_equal(dos_file_set_validation_state(fx->file, false), DOS_E_INVALID_STATE);
    assert_int_equal(dos_file_set_validation_state(fx->file, true), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
    assert_heard_nothing(fx);
}

static void test_end_finish_commits_cancelled(void **state)
{
    struct fixture *fx = *state;
    dos_guid id = job_info(fx->job).id;
    struct dos_job *found = NULL;
    dos_run run;

    fx->file = add_file(fx->job, URL, LOCAL, 10);
    run = run_job(fx->job);
    assert_int_equal(dos_file_record_progress(fx->file, run, 10, 10), DOS_OK);
    assert_int_equal(dos_job_begin_finish(fx->job), DOS_OK);
    assert_int_equal(dos_store_find_job(fx->store, &id, &found), DOS_OK);    /* still listed */
    dos_job_release(found);
    assert_int_equal(dos_job_end_finish(fx->job, DOS_STATE_CANCELLED, NULL), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_CANCELLED);
    assert_int_equal(dos_store_find_job(fx->store, &id, &found), DOS_E_JOB_NOT_FOUND);
    assert_false(file_info(fx->file).completed);
}

static void test_end_finish_commits_acknowledged(void **state)
{
    struct fixture *fx = *state;
    dos_guid id = job_info(fx->job).id;
    struct dos_job *found = NULL;
    dos_run run;

    fx->file = add_file(fx->job, URL, LOCAL, 10);
    run = run_job(fx->job);
    assert_int_equal(dos_file_record_progress(fx->file, run, 10, 10), DOS_OK);
    assert_int_equal(dos_job_begin_finish(fx->job), DOS_OK);
    assert_false(file_info(fx->file).completed);
    assert_int_equal(dos_job_end_finish(fx->job, DOS_STATE_ACKNOWLEDGED, NULL), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_ACKNOWLEDGED);
    assert_int_equal(dos_store_find_job(fx->store, &id, &found), DOS_E_JOB_NOT_FOUND);
    assert_true(file_info(fx->file).completed);
}

static void test_end_finish_without_begin_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;

    fx->file = add_file(fx->job, URL, LOCAL, 10);
    take_snapshot(fx, &fx->before);
    start_listening(fx);
    assert_int_equal(dos_job_end_finish(fx->job, DOS_STATE_CANCELLED, NULL), DOS_E_INVALID_STATE);
    assert_int_equal(dos_job_end_finish(fx->job, DOS_STATE_ACKNOWLEDGED, NULL), DOS_E_INVALID_STATE);
    assert_unchanged(fx);
    assert_heard_nothing(fx);
    assert_int_equal(dos_store_job_count(fx->store), 1);
    assert_int_equal(dos_job_set_description(fx->job, W(u"still open")), DOS_OK);
}

/* The engine could not deal with the files: the job comes back, stopped, and takes changes again. */
static void test_abort_finish_gives_a_running_job_back_suspended(void **state)
{
    struct fixture *fx = *state;
    dos_run run;

    fx->file = add_file(fx->job, URL, LOCAL, 10);
    run = run_job(fx->job);
    assert_int_equal(dos_job_begin_finish(fx->job), DOS_OK);
    assert_int_equal(dos_job_abort_finish(fx->job, NULL), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_SUSPENDED);
    assert_false(dos_job_run_is_live(fx->job, run));
    assert_int_equal(dos_store_job_count(fx->store), 1);
    assert_int_equal(dos_job_set_description(fx->job, W(u"open again")), DOS_OK);
    assert_int_equal(dos_job_resume(fx->job), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_QUEUED);
}

static void test_abort_finish_keeps_a_transferred_job_transferred(void **state)
{
    struct fixture *fx = *state;
    dos_run run;

    fx->file = add_file(fx->job, URL, LOCAL, 10);
    run = run_job(fx->job);
    assert_int_equal(dos_file_record_progress(fx->file, run, 10, 10), DOS_OK);
    assert_int_equal(dos_job_finish_run(fx->job, run), DOS_OK);
    assert_int_equal(dos_job_begin_finish(fx->job), DOS_OK);
    assert_int_equal(dos_job_abort_finish(fx->job, NULL), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_TRANSFERRED);
    assert_int_equal(dos_job_complete(fx->job), DOS_OK);
}

/* BITS' Complete: a file moved onto its final name before another's move failed is the user's:
 * completed, while the job stays TRANSFERRED for Complete or Cancel to be called again. */
static void test_abort_finish_marks_the_kept_files_completed(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *moved = add_file(fx->job, URL, W(u"C:\\dl\\1.bin"), 10);
    struct dos_file *stuck = add_file(fx->job, URL, W(u"C:\\dl\\2.bin"), 20);
    const bool kept[] = { true, false };
    dos_run run = run_job(fx->job);

    assert_int_equal(dos_file_record_progress(moved, run, 10, 10), DOS_OK);
    assert_int_equal(dos_file_record_progress(stuck, run, 20, 20), DOS_OK);
    assert_int_equal(dos_job_finish_run(fx->job, run), DOS_OK);
    assert_int_equal(dos_job_begin_finish(fx->job), DOS_OK);
    assert_int_equal(dos_job_abort_finish(fx->job, kept), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_TRANSFERRED);
    assert_true(file_info(moved).completed);
    assert_false(file_info(stuck).completed);
    assert_int_equal(dos_job_complete(fx->job), DOS_OK);
    assert_true(file_info(stuck).completed);
}

static void test_abort_finish_without_begin_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_job_abort_finish(fx->job, NULL), DOS_E_INVALID_STATE);
    assert_int_equal(job_state(fx->job), DOS_STATE_SUSPENDED);
}

/* Spec 5.2: a file whose rename failed is not available: Completed stays FALSE. */
static void test_end_finish_with_a_transferred_file_not_kept_leaves_it_not_completed_and_is_partial(void **state)
{
    struct fixture *fx = *state;
    struct dos_file *kept_file = add_file(fx->job, URL, W(u"C:\\dl\\1.bin"), 10);
    struct dos_file *lost_file = add_file(fx->job, URL, W(u"C:\\dl\\2.bin"), 20);
    const bool kept[] = { true, false };
    dos_run run = run_job(fx->job);

    assert_int_equal(dos_file_record_progress(kept_file, run, 10, 10), DOS_OK);
    assert_int_equal(dos_file_record_progress(lost_file, run, 20, 20), DOS_OK);
    assert_int_equal(dos_job_begin_finish(fx->job), DOS_OK);
    assert_int_equal(dos_job_end_finish(fx->job, DOS_STATE_ACKNOWLEDGED, kept), DOS_S_PARTIAL_COMPLETE);
    assert_int_equal(job_state(fx->job), DOS_STATE_ACKNOWLEDGED);
    assert_true(file_info(kept_file).completed);
    assert_false(file_info(lost_file).completed);
    assert_int_equal(file_info(lost_file).bytes_transferred, 20);
}

/* Only CANCELLED and ACKNOWLEDGED end a job; a refused end leaves it finishing. */
static void test_end_finish_with_a_state_other_than_cancelled_or_acknowledged_fails_with_invalid_arg(void **state)
{
    struct fixture *fx = *state;
    static const dos_job_state others[] = {
        DOS_STATE_QUEUED, DOS_STATE_CONNECTING, DOS_STATE_TRANSFERRING, DOS_STATE_SUSPENDED,
        DOS_STATE_ERROR, DOS_STATE_TRANSIENT_ERROR, DOS_STATE_TRANSFERRED, (dos_job_state)9,
    };
    size_t i;

    fx->file = add_file(fx->job, URL, LOCAL, 10);
    assert_int_equal(dos_job_begin_finish(fx->job), DOS_OK);
    take_snapshot(fx, &fx->before);
    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        assert_int_equal(dos_job_end_finish(fx->job, others[i], NULL), DOS_E_INVALID_ARG);
    assert_unchanged(fx);
    assert_int_equal(dos_store_job_count(fx->store), 1);
    assert_int_equal(dos_job_set_description(fx->job, W(u"d")), DOS_E_INVALID_STATE);   /* still finishing */
    assert_int_equal(dos_job_end_finish(fx->job, DOS_STATE_CANCELLED, NULL), DOS_OK);
    assert_int_equal(job_state(fx->job), DOS_STATE_CANCELLED);
}

/* ---- registration -------------------------------------------------------- */

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_job, teardown)
/* A final-state test runs once on a cancelled and once on an acknowledged job. */
#define FINAL_TEST(fn)                                                         \
    { #fn "_when_cancelled", fn, setup_cancelled_job, teardown, NULL },        \
    { #fn "_when_acknowledged", fn, setup_acknowledged_job, teardown, NULL }

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_new_job_is_suspended),
        TEST(test_new_job_has_normal_priority),
        TEST(test_new_job_has_classic_default_settings),
        TEST(test_new_job_times_are_creation_time_and_no_completion),
        TEST(test_new_job_keeps_its_display_name_and_owner),
        TEST(test_new_jobs_get_unique_ids),
        TEST(test_display_name_of_256_characters_is_accepted),
        TEST(test_display_name_of_257_characters_fails_and_creates_nothing),
        TEST(test_null_display_name_fails_and_creates_nothing),
        TEST(test_null_owner_fails_and_creates_nothing),

        TEST(test_find_returns_the_job_with_that_id),
        TEST(test_found_job_holds_its_own_reference),
        TEST(test_find_unknown_id_fails_with_job_not_found),
        TEST(test_list_returns_jobs_oldest_first),
        TEST(test_list_filters_by_owner),
        TEST(test_listed_snapshot_keeps_ended_jobs_readable),

        TEST(test_suspend_on_suspended_job_is_harmless),
        TEST(test_resume_empty_job_fails_with_job_empty),
        TEST(test_resume_queues_the_job),
        TEST(test_resume_on_queued_job_is_harmless),
        TEST(test_suspend_moves_a_queued_job_back_to_suspended),
        TEST(test_resume_with_every_file_transferred_moves_to_transferred),
        TEST(test_resume_restarts_a_job_in_error),
        TEST(test_cancel_ends_the_job_and_unlists_it),
        TEST(test_complete_ends_the_job_and_unlists_it),
        TEST(test_ended_job_record_still_answers),
        TEST(test_complete_with_a_file_not_fully_transferred_returns_partial_complete),
        TEST(test_complete_with_every_file_transferred_returns_ok),
        TEST(test_complete_with_a_file_of_unknown_size_returns_partial_complete),
        TEST(test_complete_marks_only_transferred_files_completed),
        TEST(test_cancel_completes_no_file),

        FINAL_TEST(test_set_priority_fails_with_invalid_state),
        FINAL_TEST(test_set_notify_flags_fails_with_invalid_state),
        FINAL_TEST(test_set_retry_delay_fails_with_invalid_state),
        FINAL_TEST(test_set_no_progress_timeout_fails_with_invalid_state),
        FINAL_TEST(test_set_acl_flags_fails_with_invalid_state),
        FINAL_TEST(test_set_peer_caching_flags_fails_with_invalid_state),
        FINAL_TEST(test_set_max_download_time_fails_with_invalid_state),
        FINAL_TEST(test_set_cost_flags_fails_with_invalid_state),
        FINAL_TEST(test_set_display_name_fails_with_invalid_state),
        FINAL_TEST(test_set_description_fails_with_invalid_state),
        FINAL_TEST(test_set_owner_fails_with_invalid_state),
        FINAL_TEST(test_set_proxy_fails_with_invalid_state),
        FINAL_TEST(test_set_notify_cmdline_fails_with_invalid_state),
        FINAL_TEST(test_set_notification_clsid_fails_with_invalid_state),
        FINAL_TEST(test_set_credentials_fails_with_invalid_state),
        FINAL_TEST(test_remove_credentials_fails_with_invalid_state),
        FINAL_TEST(test_swap_notify_fails_with_invalid_state_and_hands_the_ref_back),
        FINAL_TEST(test_add_files_fails_with_invalid_state),
        FINAL_TEST(test_suspend_fails_with_invalid_state),
        FINAL_TEST(test_resume_fails_with_invalid_state),
        FINAL_TEST(test_cancel_fails_with_invalid_state),
        FINAL_TEST(test_complete_fails_with_invalid_state),
        FINAL_TEST(test_replace_remote_prefix_fails_with_invalid_state),
        FINAL_TEST(test_file_set_remote_name_fails_with_invalid_state),
        FINAL_TEST(test_file_set_local_name_fails_with_invalid_state),
        FINAL_TEST(test_file_set_size_fails_with_invalid_state),
        FINAL_TEST(test_file_set_validation_state_fails_with_invalid_state),
        FINAL_TEST(test_record_progress_fails_with_invalid_state),
        FINAL_TEST(test_report_error_fails_with_invalid_state),
        FINAL_TEST(test_run_is_no_longer_live),
        FINAL_TEST(test_start_run_fails_with_invalid_state),
        FINAL_TEST(test_next_file_fails_with_invalid_state),
        FINAL_TEST(test_mark_temp_created_fails_with_invalid_state),
        FINAL_TEST(test_retry_fails_with_invalid_state),
        FINAL_TEST(test_finish_run_fails_with_invalid_state),
        FINAL_TEST(test_begin_finish_fails_with_invalid_state),
        FINAL_TEST(test_end_finish_fails_with_invalid_state),

        TEST(test_added_files_keep_their_order_and_names),
        TEST(test_add_files_is_all_or_nothing),
        TEST(test_add_files_reports_range_errors_and_adds_nothing),
        TEST(test_add_files_without_specs_is_rejected),
        TEST(test_zero_file_size_is_rejected),
        TEST(test_file_id_is_kept),
        TEST(test_file_without_id_has_no_id_text),
        TEST(test_duplicate_file_id_in_one_call_is_rejected),
        TEST(test_file_id_already_in_the_job_is_rejected),
        TEST(test_files_without_ids_never_clash),
        TEST(test_empty_file_id_is_rejected),
        TEST(test_missing_local_name_is_rejected),
        TEST(test_local_optional_file_may_lack_a_local_name),
        TEST(test_local_optional_file_still_validates_a_given_local_name),
        TEST(test_resume_with_a_file_lacking_a_local_name_fails_with_sink_unspecified),
        TEST(test_added_ranges_keep_the_order_given),
        TEST(test_file_without_ranges_has_none),

        TEST(test_file_progress_before_transfer_is_unknown_and_zero),
        TEST(test_job_progress_before_transfer_is_unknown_and_zero),
        TEST(test_file_with_a_given_size_has_a_known_total_before_transfer),
        TEST(test_file_with_ranges_counts_only_requested_bytes),
        TEST(test_file_with_to_eof_range_and_unknown_size_has_unknown_total),
        TEST(test_recorded_progress_is_reported),
        TEST(test_recorded_progress_beyond_the_total_is_rejected),
        TEST(test_recorded_size_that_ends_before_a_range_is_rejected),
        TEST(test_set_size_that_ends_before_a_range_is_rejected),
        TEST(test_job_progress_sums_its_files),
        TEST(test_job_total_is_unknown_while_any_file_size_is),

        TEST(test_set_u32_keeps_each_value),
        TEST(test_priority_above_low_is_rejected),
        TEST(test_notify_flags_outside_0x3f_are_rejected),
        TEST(test_acl_flags_outside_0xf_are_rejected),
        TEST(test_peer_caching_flags_outside_0x7_are_rejected),
        TEST(test_cost_flags_outside_0x800000ff_are_rejected),
        TEST(test_unknown_u32_setting_is_rejected),

        TEST(test_set_display_name_replaces_it),
        TEST(test_set_display_name_too_long_or_null_changes_nothing),
        TEST(test_description_is_limited_to_1024_characters),
        TEST(test_unset_text_is_reported_as_not_set),
        TEST(test_copy_text_of_unknown_field_is_rejected),

        TEST(test_override_proxy_keeps_its_lists),
        TEST(test_proxy_lists_without_override_are_rejected),
        TEST(test_override_proxy_needs_a_non_empty_list),
        TEST(test_leaving_override_clears_the_proxy_lists),
        TEST(test_unknown_proxy_usage_is_rejected),
        TEST(test_proxy_list_longer_than_4000_characters_is_too_long),

        TEST(test_notify_cmdline_keeps_program_and_parameters),
        TEST(test_notify_cmdline_can_be_cleared),
        TEST(test_notify_parameters_without_program_are_rejected),
        TEST(test_notify_program_must_be_an_absolute_path),

        TEST(test_set_credentials_are_then_present),
        TEST(test_remove_credentials_removes_them),
        TEST(test_remove_credentials_of_nothing_returns_nothing_to_remove),
        TEST(test_credentials_with_bad_target_or_scheme_are_rejected),
        TEST(test_credential_longer_than_300_characters_is_too_long),

        TEST(test_swap_notify_takes_the_reference_and_hands_back_the_previous),
        TEST(test_get_notify_returns_a_retained_reference),
        TEST(test_get_notify_without_a_callback_returns_null),
        TEST(test_releasing_the_last_job_reference_releases_the_notify),
        TEST(test_cancel_releases_the_notify),
        TEST(test_complete_releases_the_notify),

        TEST(test_replace_remote_prefix_renames_matching_files_only),
        TEST(test_replace_remote_prefix_changes_nothing_if_a_new_name_is_invalid),
        TEST(test_replace_remote_prefix_rejects_empty_or_null_prefixes),
        TEST(test_set_remote_name_replaces_it),
        TEST(test_set_remote_name_rejects_an_invalid_url_and_keeps_the_old_one),

        TEST(test_temp_name_is_a_hidden_tmp_file_beside_the_local_name),
        TEST(test_each_file_gets_its_own_temp_name),
        TEST(test_set_local_name_moves_the_temp_name_along),
        TEST(test_local_name_set_later_gets_a_temp_name),
        TEST(test_set_local_name_rejects_an_invalid_path_and_keeps_the_old_one),
        TEST(test_set_local_name_after_bytes_arrived_fails_with_invalid_state),
        TEST(test_set_local_name_after_the_temporary_file_was_made_fails_with_invalid_state),

        TEST(test_set_validation_state_outside_transferred_fails_with_invalid_state),
        TEST(test_set_validation_state_in_transferred_is_kept),
        TEST(test_rejected_content_is_downloaded_again),

        TEST(test_get_error_without_an_error_fails_with_no_error_info),
        TEST(test_report_error_puts_the_job_in_error),
        TEST(test_report_transient_error_puts_the_job_in_transient_error),
        TEST(test_each_reported_error_is_counted),
        TEST(test_get_error_returns_the_latest_reported_record),
        TEST(test_error_without_file_or_protocol_reports_none),
        TEST(test_get_error_after_resume_fails_with_no_error_info),
        TEST(test_report_error_rejects_success_codes_and_foreign_files),

        TEST(test_setting_a_property_advances_modification_time),
        TEST(test_adding_files_advances_modification_time),
        TEST(test_state_changes_advance_modification_time),
        TEST(test_complete_advances_modification_time),
        TEST(test_transferred_bytes_advance_modification_time),
        TEST(test_reads_leave_modification_time_alone),
        TEST(test_creation_time_never_changes),

        TEST(test_start_run_moves_a_queued_job_to_transferring),
        TEST(test_start_run_outside_queued_fails_with_invalid_state_and_no_run),
        TEST(test_second_start_run_fails_with_invalid_state),
        TEST(test_suspend_revokes_the_run),
        TEST(test_resume_from_transient_error_revokes_the_run),
        TEST(test_cancel_revokes_the_run),
        TEST(test_complete_revokes_the_run),
        TEST(test_begin_finish_revokes_the_run),
        TEST(test_resume_of_a_transferring_job_keeps_the_run),
        TEST(test_resume_after_a_fatal_error_needs_a_new_run),
        TEST(test_next_file_gives_a_copy_of_the_first_file_not_yet_transferred),
        TEST(test_next_file_of_a_whole_file_of_unknown_size_has_no_ranges),
        TEST(test_next_file_when_every_file_is_transferred_is_not_set),
        TEST(test_mark_temp_created_is_seen_by_next_file),
        TEST(test_temp_created_outlives_the_run_that_made_it),
        TEST(test_record_progress_moves_transient_error_back_to_transferring),
        TEST(test_file_transferred_is_emitted_once_when_a_file_becomes_complete),
        TEST(test_retry_moves_transient_error_back_to_transferring),
        TEST(test_retry_while_transferring_changes_nothing),
        TEST(test_finish_run_with_a_file_not_transferred_fails_with_invalid_arg),
        TEST(test_finish_run_moves_to_transferred_with_a_completion_time_and_ends_the_run),
        TEST(test_transient_error_keeps_the_run),
        TEST(test_fatal_error_ends_the_run),

        TEST(test_resume_emits_runnable_then_modified),
        TEST(test_resume_with_every_file_transferred_emits_transferred_then_modified),
        TEST(test_start_run_emits_modified),
        TEST(test_suspend_of_a_running_job_emits_stopped_then_modified),
        TEST(test_suspend_of_a_queued_job_emits_modified_only),
        TEST(test_each_setting_emits_modified),
        TEST(test_fatal_error_emits_error_then_modified),
        TEST(test_transient_error_emits_modified_only),
        TEST(test_finish_run_emits_transferred_then_modified),
        TEST(test_rejected_content_emits_runnable_then_modified),
        TEST(test_a_failed_call_emits_nothing),
        TEST(test_a_removed_listener_hears_nothing),
        TEST(test_listener_may_read_the_store_from_inside_its_call),

        TEST(test_begin_finish_blocks_other_changes_while_the_state_reads_as_before),
        TEST(test_set_local_name_while_finishing_fails_with_invalid_state),
        TEST(test_set_size_while_finishing_fails_with_invalid_state),
        TEST(test_set_validation_state_while_finishing_fails_with_invalid_state),
        TEST(test_end_finish_commits_cancelled),
        TEST(test_end_finish_commits_acknowledged),
        TEST(test_end_finish_without_begin_fails_with_invalid_state),
        TEST(test_abort_finish_gives_a_running_job_back_suspended),
        TEST(test_abort_finish_keeps_a_transferred_job_transferred),
        TEST(test_abort_finish_marks_the_kept_files_completed),
        TEST(test_abort_finish_without_begin_fails_with_invalid_state),
        TEST(test_end_finish_with_a_transferred_file_not_kept_leaves_it_not_completed_and_is_partial),
        TEST(test_end_finish_with_a_state_other_than_cancelled_or_acknowledged_fails_with_invalid_arg),

        /* Last: a sanitizer abort here must not hide the other results. */
        TEST(test_list_files_of_an_empty_job_gives_none),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
