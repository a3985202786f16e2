/*
 * The enumerators: IEnumBackgroundCopyFiles (spec 3.9, 5.6) from
 * IBackgroundCopyJob::EnumFiles and IEnumBackgroundCopyJobs (classic BITS,
 * spec 3.9 note) from IBackgroundCopyManager::EnumJobs, black box through
 * dosvc.dll. Both enumerate a snapshot taken when they were made
 * (notes/com_decisions.md, "Enumerators"). Every test starts with no job
 * listed and ends by cancelling every job it left.
 */
#include "com_test.h"

#define URL L"http://127.0.0.1:1/enum.bin"      /* loopback only; these jobs are never resumed */

static IBackgroundCopyManager *manager;

/* ---- helpers --------------------------------------------------------------- */

/* A job holding files "<test dir>\<prefix>0.bin" .. "<prefix><count - 1>.bin", in that order. */
static IBackgroundCopyJob *job_with_files(const WCHAR *prefix, int count)
{
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"enum tests", NULL);
    WCHAR name[64];
    int i;

    for (i = 0; i < count; i++)
    {
        wsprintfW(name, L"%s%d.bin", prefix, i);
        assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, URL, dosvc_test_path(name)));
    }
    return job;
}

static IEnumBackgroundCopyFiles *enum_files(IBackgroundCopyJob *job)
{
    IEnumBackgroundCopyFiles *files = NULL;
    assert_hr(S_OK, IBackgroundCopyJob_EnumFiles(job, &files));
    assert_non_null(files);
    return files;
}

static IEnumBackgroundCopyJobs *enum_jobs(void)
{
    IEnumBackgroundCopyJobs *jobs = NULL;
    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(manager, 0, &jobs));
    assert_non_null(jobs);
    return jobs;
}

/* Asserts that file's local name is "<test dir>\<prefix><index>.bin". */
static void file_is(IBackgroundCopyFile *file, const WCHAR *prefix, int index, const char *where, int line)
{
    WCHAR expected[64], *name = NULL;
    BOOL same;

    wsprintfW(expected, L"%s%d.bin", prefix, index);
    _assert_true(SUCCEEDED(IBackgroundCopyFile_GetLocalName(file, &name)), "GetLocalName", where, line);
    same = name && !lstrcmpW(name, dosvc_test_path(expected));
    CoTaskMemFree(name);
    _assert_true(same, "the file expected at this position", where, line);
}
#define assert_file_is(file, prefix, index) file_is(file, prefix, index, __FILE__, __LINE__)

static void job_is(IBackgroundCopyJob *job, const GUID *expected, const char *where, int line)
{
    GUID id;
    _assert_true(SUCCEEDED(IBackgroundCopyJob_GetId(job, &id)), "GetId", where, line);
    _assert_true(IsEqualGUID(&id, expected), "the job expected at this position", where, line);
}
#define assert_job_is(job, expected) job_is(job, expected, __FILE__, __LINE__)

/* Next(1) on a file enumerator, expecting an item; the caller releases it. */
static IBackgroundCopyFile *next_file(IEnumBackgroundCopyFiles *files)
{
    IBackgroundCopyFile *file = NULL;
    ULONG fetched = 0;
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, &fetched));
    assert_int_equal(fetched, 1);
    assert_non_null(file);
    return file;
}

static void release_files(IBackgroundCopyFile **files, ULONG count)
{
    ULONG i;
    for (i = 0; i < count; i++) IBackgroundCopyFile_Release(files[i]);
}

/* Cancels every job still listed: a failed test must not leave its jobs to the next. */
static void cancel_all_jobs(void)
{
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job;
    ULONG fetched;

    if (FAILED(IBackgroundCopyManager_EnumJobs(manager, BG_JOB_ENUM_ALL_USERS, &jobs))) return;
    /* by the count, not the HRESULT: this must end even if Next is what broke */
    while (SUCCEEDED(IEnumBackgroundCopyJobs_Next(jobs, 1, &job, &fetched)) && fetched == 1)
    {
        IBackgroundCopyJob_Cancel(job);
        IBackgroundCopyJob_Release(job);
    }
    IEnumBackgroundCopyJobs_Release(jobs);
}

/* ---- fixtures ---------------------------------------------------------------- */

static int group_setup(void **state)
{
    if (dosvc_setup_manager(&manager)) return -1;
    cancel_all_jobs();
    return 0;
}

static int group_teardown(void **state)
{
    return dosvc_teardown_manager(&manager);
}

static int teardown(void **state)
{
    cancel_all_jobs();
    return 0;
}

/* ---- IEnumBackgroundCopyFiles ------------------------------------------------ */

/* spec 3.9: pceltFetched may be NULL only when celt == 1 */
static void test_files_next_of_several_without_fetched_is_invalidarg(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"nf", 3);
    IEnumBackgroundCopyFiles *files = enum_files(job);
    IBackgroundCopyFile *items[2] = { NULL, NULL };

    assert_hr(E_INVALIDARG, IEnumBackgroundCopyFiles_Next(files, 2, items, NULL));
    assert_null(items[0]);
    /* nothing was consumed */
    items[0] = next_file(files);
    assert_file_is(items[0], L"nf", 0);
    IBackgroundCopyFile_Release(items[0]);
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

static void test_files_next_of_one_without_fetched_succeeds(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"n1", 2);
    IEnumBackgroundCopyFiles *files = enum_files(job);
    IBackgroundCopyFile *file = NULL;

    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    assert_file_is(file, L"n1", 0);
    IBackgroundCopyFile_Release(file);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    assert_file_is(file, L"n1", 1);
    IBackgroundCopyFile_Release(file);
    file = (IBackgroundCopyFile *)0xdeadbeef;
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

static void test_files_next_with_null_items_is_invalidarg(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"ni", 1);
    IEnumBackgroundCopyFiles *files = enum_files(job);
    ULONG fetched = 5;

    assert_hr(E_INVALIDARG, IEnumBackgroundCopyFiles_Next(files, 1, NULL, &fetched));
    assert_int_equal(fetched, 0);
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

static void test_files_next_of_several_returns_them_in_order(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"ns", 4);
    IEnumBackgroundCopyFiles *files = enum_files(job);
    IBackgroundCopyFile *items[3] = { NULL };
    ULONG fetched = 0;

    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 3, items, &fetched));
    assert_int_equal(fetched, 3);
    assert_file_is(items[0], L"ns", 0);
    assert_file_is(items[1], L"ns", 1);
    assert_file_is(items[2], L"ns", 2);
    release_files(items, 3);
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

/* spec 3.9: S_FALSE if fewer than celt were returned; pceltFetched says how many */
static void test_files_next_returning_fewer_is_s_false_with_the_count(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"nfew", 3);
    IEnumBackgroundCopyFiles *files = enum_files(job);
    IBackgroundCopyFile *items[5] = { NULL };
    ULONG fetched = 0;

    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, 1));
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Next(files, 5, items, &fetched));
    assert_int_equal(fetched, 2);
    assert_file_is(items[0], L"nfew", 1);
    assert_file_is(items[1], L"nfew", 2);
    release_files(items, fetched);

    fetched = 9;
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Next(files, 5, items, &fetched));
    assert_int_equal(fetched, 0);
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

static void test_files_of_an_empty_job_enumerate_nothing(void **state)
{
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"empty", NULL);
    IEnumBackgroundCopyFiles *files = enum_files(job);
    IBackgroundCopyFile *file = NULL;
    ULONG count = 9, fetched = 9;

    assert_hr(S_OK, IEnumBackgroundCopyFiles_GetCount(files, &count));
    assert_int_equal(count, 0);
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Next(files, 1, &file, &fetched));
    assert_int_equal(fetched, 0);
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

static void test_files_skip_within_the_snapshot_is_s_ok(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"sk", 4);
    IEnumBackgroundCopyFiles *files = enum_files(job);
    IBackgroundCopyFile *file;

    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, 2));
    file = next_file(files);
    assert_file_is(file, L"sk", 2);
    IBackgroundCopyFile_Release(file);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, 1));     /* exactly to the end */
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, 0));
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

/* spec 3.9: S_FALSE if fewer remain; it then skips past the end */
static void test_files_skip_past_the_end_is_s_false_and_leaves_nothing(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"spe", 3);
    IEnumBackgroundCopyFiles *files = enum_files(job);
    IBackgroundCopyFile *items[3] = { NULL };
    ULONG fetched = 9;

    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, 1));
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Skip(files, 5));
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Next(files, 3, items, &fetched));
    assert_int_equal(fetched, 0);
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Skip(files, 1));
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

static void test_files_reset_goes_back_to_the_first(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"rs", 3);
    IEnumBackgroundCopyFiles *files = enum_files(job);
    IBackgroundCopyFile *file;

    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Skip(files, 10));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Reset(files));
    file = next_file(files);
    assert_file_is(file, L"rs", 0);
    IBackgroundCopyFile_Release(file);
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

static void test_files_clone_starts_where_the_original_is(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"cl", 4);
    IEnumBackgroundCopyFiles *files = enum_files(job), *clone = NULL;
    IBackgroundCopyFile *file;
    ULONG count = 0;

    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, 2));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Clone(files, &clone));
    assert_non_null(clone);
    assert_ptr_not_equal(clone, files);
    file = next_file(clone);
    assert_file_is(file, L"cl", 2);
    IBackgroundCopyFile_Release(file);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_GetCount(clone, &count));
    assert_int_equal(count, 4);
    IEnumBackgroundCopyFiles_Release(clone);
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

static void test_files_clone_moves_independently_of_the_original(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"ci", 4);
    IEnumBackgroundCopyFiles *files = enum_files(job), *clone = NULL;
    IBackgroundCopyFile *file;

    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, 1));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Clone(files, &clone));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(clone, 2));       /* the clone moves on... */
    file = next_file(files);                                        /* ...the original does not */
    assert_file_is(file, L"ci", 1);
    IBackgroundCopyFile_Release(file);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Reset(files));          /* and back: the clone stays */
    file = next_file(clone);
    assert_file_is(file, L"ci", 3);
    IBackgroundCopyFile_Release(file);
    IEnumBackgroundCopyFiles_Release(files);                         /* the clone outlives it */
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Reset(clone));
    file = next_file(clone);
    assert_file_is(file, L"ci", 0);
    IBackgroundCopyFile_Release(file);
    IEnumBackgroundCopyFiles_Release(clone);
    IBackgroundCopyJob_Release(job);
}

static void test_files_clone_with_null_out_is_invalidarg(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"cn", 1);
    IEnumBackgroundCopyFiles *files = enum_files(job);

    assert_hr(E_INVALIDARG, IEnumBackgroundCopyFiles_Clone(files, NULL));
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

static void test_files_get_count_is_the_snapshot_size(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"gc", 5);
    IEnumBackgroundCopyFiles *files = enum_files(job);
    ULONG count = 0;

    assert_hr(S_OK, IEnumBackgroundCopyFiles_GetCount(files, &count));
    assert_int_equal(count, 5);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, 3));       /* the position does not matter */
    assert_hr(S_OK, IEnumBackgroundCopyFiles_GetCount(files, &count));
    assert_int_equal(count, 5);
    assert_hr(E_INVALIDARG, IEnumBackgroundCopyFiles_GetCount(files, NULL));
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

static void test_files_added_after_the_enumerator_are_not_seen(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"snap", 2);
    IEnumBackgroundCopyFiles *files = enum_files(job), *clone = NULL;
    IBackgroundCopyFile *items[4] = { NULL };
    ULONG count = 0, fetched = 0;

    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, URL, dosvc_test_path(L"snap-late.bin")));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_GetCount(files, &count));
    assert_int_equal(count, 2);
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Next(files, 4, items, &fetched));
    assert_int_equal(fetched, 2);
    release_files(items, fetched);
    /* a clone shares the snapshot, not the job's current list */
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Clone(files, &clone));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_GetCount(clone, &count));
    assert_int_equal(count, 2);
    IEnumBackgroundCopyFiles_Release(clone);
    IEnumBackgroundCopyFiles_Release(files);

    files = enum_files(job);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_GetCount(files, &count));
    assert_int_equal(count, 3);
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

static void test_files_enumerate_in_the_order_they_were_added(void **state)
{
    static const WCHAR *const names[] = { L"order-c.bin", L"order-a.bin", L"order-b.bin" };
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"order", NULL);
    IEnumBackgroundCopyFiles *files;
    BG_FILE_INFO set[2];
    WCHAR *name;
    size_t i;

    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, URL, dosvc_test_path(names[0])));
    set[0].RemoteName = (WCHAR *)URL;
    set[0].LocalName = (WCHAR *)dosvc_test_path(names[1]);
    set[1].RemoteName = (WCHAR *)URL;
    set[1].LocalName = (WCHAR *)dosvc_test_path(names[2]);
    assert_hr(S_OK, IBackgroundCopyJob_AddFileSet(job, 2, set));

    files = enum_files(job);
    for (i = 0; i < ARRAYSIZE(names); i++)
    {
        IBackgroundCopyFile *file = next_file(files);
        assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(file, &name));
        assert_int_equal(lstrcmpW(name, dosvc_test_path(names[i])), 0);
        CoTaskMemFree(name);
        IBackgroundCopyFile_Release(file);
    }
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

/* spec 3.9: the caller releases each returned object */
static void test_files_next_gives_a_new_object_the_caller_owns(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"own", 1);
    IEnumBackgroundCopyFiles *files = enum_files(job);
    IBackgroundCopyFile *first, *again;

    first = next_file(files);
    assert_int_equal(dosvc_refcount(first), 1);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Reset(files));
    again = next_file(files);
    assert_ptr_not_equal(again, first);
    assert_int_equal(dosvc_refcount(again), 1);
    assert_int_equal(dosvc_refcount(first), 1);
    assert_int_equal(IBackgroundCopyFile_Release(again), 0);
    assert_file_is(first, L"own", 0);
    assert_int_equal(IBackgroundCopyFile_Release(first), 0);
    assert_int_equal(dosvc_refcount(files), 1);         /* items hold no reference to it */
    assert_int_equal(IEnumBackgroundCopyFiles_Release(files), 0);
    IBackgroundCopyJob_Release(job);
}

static void test_files_enumerator_works_after_the_job_object_is_released(void **state)
{
    IBackgroundCopyJob *job = job_with_files(L"alive", 2);
    IEnumBackgroundCopyFiles *files = enum_files(job);
    IBackgroundCopyFile *file;
    GUID id;

    assert_hr(S_OK, IBackgroundCopyJob_GetId(job, &id));
    IBackgroundCopyJob_Release(job);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, 1));
    file = next_file(files);
    assert_file_is(file, L"alive", 1);
    IBackgroundCopyFile_Release(file);
    IEnumBackgroundCopyFiles_Release(files);
}

static void test_files_enumerator_answers_its_own_iid_and_iunknown_only(void **state)
{
    static const IID *const others[] = {
        &IID_IEnumBackgroundCopyJobs, &IID_IBackgroundCopyFile, &IID_IBackgroundCopyJob, &IID_IEnumUnknown,
    };
    IBackgroundCopyJob *job = job_with_files(L"qi", 1);
    IEnumBackgroundCopyFiles *files = enum_files(job);
    IUnknown *unknown;
    void *out;
    size_t i;

    unknown = dosvc_query(files, &IID_IUnknown);
    assert_ptr_equal(unknown, files);
    IUnknown_Release(unknown);
    unknown = dosvc_query(files, &IID_IEnumBackgroundCopyFiles);
    assert_ptr_equal(unknown, files);
    IUnknown_Release(unknown);
    for (i = 0; i < ARRAYSIZE(others); i++)
    {
        out = (void *)0xdeadbeef;
        assert_hr(E_NOINTERFACE, IEnumBackgroundCopyFiles_QueryInterface(files, others[i], &out));
        assert_null(out);
    }
    assert_hr(E_POINTER, IEnumBackgroundCopyFiles_QueryInterface(files, &IID_IUnknown, NULL));
    assert_int_equal(dosvc_refcount(files), 1);
    IEnumBackgroundCopyFiles_Release(files);
    IBackgroundCopyJob_Release(job);
}

/* ---- IEnumBackgroundCopyJobs --------------------------------------------------- */

/* Creates count jobs, oldest first, and returns them and their ids. */
static void create_jobs(IBackgroundCopyJob **jobs, GUID *ids, int count)
{
    int i;
    for (i = 0; i < count; i++) jobs[i] = dosvc_create_job(manager, L"enumerated", &ids[i]);
}

static void release_jobs(IBackgroundCopyJob **jobs, ULONG count)
{
    ULONG i;
    for (i = 0; i < count; i++) IBackgroundCopyJob_Release(jobs[i]);
}

static void test_jobs_next_of_several_without_fetched_is_invalidarg(void **state)
{
    IBackgroundCopyJob *created[2], *items[2] = { NULL, NULL };
    IEnumBackgroundCopyJobs *jobs;
    GUID ids[2];

    create_jobs(created, ids, 2);
    jobs = enum_jobs();
    assert_hr(E_INVALIDARG, IEnumBackgroundCopyJobs_Next(jobs, 2, items, NULL));
    assert_null(items[0]);
    IEnumBackgroundCopyJobs_Release(jobs);
    release_jobs(created, 2);
}

static void test_jobs_next_of_one_without_fetched_succeeds(void **state)
{
    IBackgroundCopyJob *created[1], *item = NULL;
    IEnumBackgroundCopyJobs *jobs;
    GUID ids[1];

    create_jobs(created, ids, 1);
    jobs = enum_jobs();
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Next(jobs, 1, &item, NULL));
    assert_job_is(item, &ids[0]);
    IBackgroundCopyJob_Release(item);
    assert_hr(S_FALSE, IEnumBackgroundCopyJobs_Next(jobs, 1, &item, NULL));
    IEnumBackgroundCopyJobs_Release(jobs);
    release_jobs(created, 1);
}

/* Oldest first (notes/com_decisions.md, EnumJobs). */
static void test_jobs_next_returns_them_oldest_first(void **state)
{
    IBackgroundCopyJob *created[3], *items[3] = { NULL };
    IEnumBackgroundCopyJobs *jobs;
    ULONG fetched = 0;
    GUID ids[3];

    create_jobs(created, ids, 3);
    jobs = enum_jobs();
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Next(jobs, 3, items, &fetched));
    assert_int_equal(fetched, 3);
    assert_job_is(items[0], &ids[0]);
    assert_job_is(items[1], &ids[1]);
    assert_job_is(items[2], &ids[2]);
    release_jobs(items, 3);
    IEnumBackgroundCopyJobs_Release(jobs);
    release_jobs(created, 3);
}

static void test_jobs_next_returning_fewer_is_s_false_with_the_count(void **state)
{
    IBackgroundCopyJob *created[2], *items[4] = { NULL };
    IEnumBackgroundCopyJobs *jobs;
    ULONG fetched = 0;
    GUID ids[2];

    create_jobs(created, ids, 2);
    jobs = enum_jobs();
    assert_hr(S_FALSE, IEnumBackgroundCopyJobs_Next(jobs, 4, items, &fetched));
    assert_int_equal(fetched, 2);
    assert_job_is(items[0], &ids[0]);
    assert_job_is(items[1], &ids[1]);
    release_jobs(items, fetched);
    fetched = 9;
    assert_hr(S_FALSE, IEnumBackgroundCopyJobs_Next(jobs, 4, items, &fetched));
    assert_int_equal(fetched, 0);
    IEnumBackgroundCopyJobs_Release(jobs);
    release_jobs(created, 2);
}

static void test_jobs_with_none_listed_enumerate_nothing(void **state)
{
    IEnumBackgroundCopyJobs *jobs = enum_jobs();
    IBackgroundCopyJob *item = NULL;
    ULONG count = 9, fetched = 9;

    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(jobs, &count));
    assert_int_equal(count, 0);
    assert_hr(S_FALSE, IEnumBackgroundCopyJobs_Next(jobs, 1, &item, &fetched));
    assert_int_equal(fetched, 0);
    IEnumBackgroundCopyJobs_Release(jobs);
}

static void test_jobs_skip_past_the_end_is_s_false_and_leaves_nothing(void **state)
{
    IBackgroundCopyJob *created[3], *items[3] = { NULL };
    IEnumBackgroundCopyJobs *jobs;
    ULONG fetched = 9;
    GUID ids[3];

    create_jobs(created, ids, 3);
    jobs = enum_jobs();
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Skip(jobs, 2));
    assert_hr(S_FALSE, IEnumBackgroundCopyJobs_Skip(jobs, 2));
    assert_hr(S_FALSE, IEnumBackgroundCopyJobs_Next(jobs, 3, items, &fetched));
    assert_int_equal(fetched, 0);
    IEnumBackgroundCopyJobs_Release(jobs);
    release_jobs(created, 3);
}

static void test_jobs_reset_goes_back_to_the_first(void **state)
{
    IBackgroundCopyJob *created[2], *item;
    IEnumBackgroundCopyJobs *jobs;
    GUID ids[2];

    create_jobs(created, ids, 2);
    jobs = enum_jobs();
    assert_hr(S_FALSE, IEnumBackgroundCopyJobs_Skip(jobs, 5));
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Reset(jobs));
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Next(jobs, 1, &item, NULL));
    assert_job_is(item, &ids[0]);
    IBackgroundCopyJob_Release(item);
    IEnumBackgroundCopyJobs_Release(jobs);
    release_jobs(created, 2);
}

static void test_jobs_clone_keeps_the_position_and_moves_independently(void **state)
{
    IBackgroundCopyJob *created[3], *item;
    IEnumBackgroundCopyJobs *jobs, *clone = NULL;
    ULONG count = 0;
    GUID ids[3];

    create_jobs(created, ids, 3);
    jobs = enum_jobs();
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Skip(jobs, 1));
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Clone(jobs, &clone));
    assert_non_null(clone);
    assert_ptr_not_equal(clone, jobs);
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Next(clone, 1, &item, NULL));
    assert_job_is(item, &ids[1]);
    IBackgroundCopyJob_Release(item);
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Next(jobs, 1, &item, NULL));      /* still at 1 */
    assert_job_is(item, &ids[1]);
    IBackgroundCopyJob_Release(item);
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Reset(jobs));
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Next(clone, 1, &item, NULL));      /* still at 2 */
    assert_job_is(item, &ids[2]);
    IBackgroundCopyJob_Release(item);
    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(clone, &count));
    assert_int_equal(count, 3);
    assert_hr(E_INVALIDARG, IEnumBackgroundCopyJobs_Clone(jobs, NULL));
    IEnumBackgroundCopyJobs_Release(jobs);
    IEnumBackgroundCopyJobs_Release(clone);
    release_jobs(created, 3);
}

static void test_jobs_get_count_is_the_snapshot_size(void **state)
{
    IBackgroundCopyJob *created[3];
    IEnumBackgroundCopyJobs *jobs;
    ULONG count = 0;
    GUID ids[3];

    create_jobs(created, ids, 3);
    jobs = enum_jobs();
    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(jobs, &count));
    assert_int_equal(count, 3);
    assert_hr(E_INVALIDARG, IEnumBackgroundCopyJobs_GetCount(jobs, NULL));
    IEnumBackgroundCopyJobs_Release(jobs);
    release_jobs(created, 3);
}

static void test_jobs_created_after_the_enumerator_are_not_seen(void **state)
{
    IBackgroundCopyJob *created[2], *items[3] = { NULL }, *late;
    IEnumBackgroundCopyJobs *jobs;
    ULONG count = 0, fetched = 0;
    GUID ids[2];

    create_jobs(created, ids, 2);
    jobs = enum_jobs();
    late = dosvc_create_job(manager, L"late", NULL);
    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(jobs, &count));
    assert_int_equal(count, 2);
    assert_hr(S_FALSE, IEnumBackgroundCopyJobs_Next(jobs, 3, items, &fetched));
    assert_int_equal(fetched, 2);
    assert_job_is(items[0], &ids[0]);
    assert_job_is(items[1], &ids[1]);
    release_jobs(items, fetched);
    IEnumBackgroundCopyJobs_Release(jobs);

    jobs = enum_jobs();
    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(jobs, &count));
    assert_int_equal(count, 3);
    IEnumBackgroundCopyJobs_Release(jobs);
    IBackgroundCopyJob_Release(late);
    release_jobs(created, 2);
}

/* The snapshot holds the job itself: a job cancelled meanwhile is still there, CANCELLED. */
static void test_jobs_cancelled_after_the_enumerator_still_enumerate_as_cancelled(void **state)
{
    IBackgroundCopyJob *created[2], *items[2] = { NULL };
    IEnumBackgroundCopyJobs *jobs;
    BG_JOB_STATE job_state;
    ULONG fetched = 0, count = 0;
    GUID ids[2];

    create_jobs(created, ids, 2);
    jobs = enum_jobs();
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(created[0]));
    release_jobs(created, 2);                   /* only the snapshot holds the cancelled job now */

    assert_hr(S_OK, IEnumBackgroundCopyJobs_Next(jobs, 2, items, &fetched));
    assert_int_equal(fetched, 2);
    assert_job_is(items[0], &ids[0]);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(items[0], &job_state));
    assert_int_equal(job_state, BG_JOB_STATE_CANCELLED);
    assert_job_is(items[1], &ids[1]);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(items[1], &job_state));
    assert_int_equal(job_state, BG_JOB_STATE_SUSPENDED);
    release_jobs(items, fetched);
    IEnumBackgroundCopyJobs_Release(jobs);

    jobs = enum_jobs();                         /* a new snapshot no longer lists it */
    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(jobs, &count));
    assert_int_equal(count, 1);
    IEnumBackgroundCopyJobs_Release(jobs);
}

static void test_jobs_next_gives_a_new_object_the_caller_owns(void **state)
{
    IBackgroundCopyJob *created[1], *first, *again;
    IEnumBackgroundCopyJobs *jobs;
    GUID ids[1];

    create_jobs(created, ids, 1);
    jobs = enum_jobs();
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Next(jobs, 1, &first, NULL));
    assert_ptr_not_equal(first, created[0]);
    assert_int_equal(dosvc_refcount(first), 1);
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Reset(jobs));
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Next(jobs, 1, &again, NULL));
    assert_ptr_not_equal(again, first);
    assert_int_equal(dosvc_refcount(again), 1);
    assert_int_equal(IBackgroundCopyJob_Release(again), 0);
    assert_job_is(first, &ids[0]);
    assert_int_equal(IBackgroundCopyJob_Release(first), 0);
    assert_int_equal(dosvc_refcount(created[0]), 1);
    assert_int_equal(IEnumBackgroundCopyJobs_Release(jobs), 0);
    release_jobs(created, 1);
}

static void test_jobs_enumerator_answers_its_own_iid_and_iunknown_only(void **state)
{
    static const IID *const others[] = {
        &IID_IEnumBackgroundCopyFiles, &IID_IBackgroundCopyJob, &IID_IBackgroundCopyManager, &IID_IEnumUnknown,
    };
    IEnumBackgroundCopyJobs *jobs = enum_jobs();
    IUnknown *unknown;
    void *out;
    size_t i;

    unknown = dosvc_query(jobs, &IID_IUnknown);
    assert_ptr_equal(unknown, jobs);
    IUnknown_Release(unknown);
    unknown = dosvc_query(jobs, &IID_IEnumBackgroundCopyJobs);
    assert_ptr_equal(unknown, jobs);
    IUnknown_Release(unknown);
    for (i = 0; i < ARRAYSIZE(others); i++)
    {
        out = (void *)0xdeadbeef;
        assert_hr(E_NOINTERFACE, IEnumBackgroundCopyJobs_QueryInterface(jobs, others[i], &out));
        assert_null(out);
    }
    assert_hr(E_POINTER, IEnumBackgroundCopyJobs_QueryInterface(jobs, &IID_IUnknown, NULL));
    assert_int_equal(dosvc_refcount(jobs), 1);
    IEnumBackgroundCopyJobs_Release(jobs);
}

#define ENUM_TEST(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
    const struct CMUnitTest files[] = {
        ENUM_TEST(test_files_next_of_several_without_fetched_is_invalidarg),
        ENUM_TEST(test_files_next_of_one_without_fetched_succeeds),
        ENUM_TEST(test_files_next_with_null_items_is_invalidarg),
        ENUM_TEST(test_files_next_of_several_returns_them_in_order),
        ENUM_TEST(test_files_next_returning_fewer_is_s_false_with_the_count),
        ENUM_TEST(test_files_of_an_empty_job_enumerate_nothing),
        ENUM_TEST(test_files_skip_within_the_snapshot_is_s_ok),
        ENUM_TEST(test_files_skip_past_the_end_is_s_false_and_leaves_nothing),
        ENUM_TEST(test_files_reset_goes_back_to_the_first),
        ENUM_TEST(test_files_clone_starts_where_the_original_is),
        ENUM_TEST(test_files_clone_moves_independently_of_the_original),
        ENUM_TEST(test_files_clone_with_null_out_is_invalidarg),
        ENUM_TEST(test_files_get_count_is_the_snapshot_size),
        ENUM_TEST(test_files_added_after_the_enumerator_are_not_seen),
        ENUM_TEST(test_files_enumerate_in_the_order_they_were_added),
        ENUM_TEST(test_files_next_gives_a_new_object_the_caller_owns),
        ENUM_TEST(test_files_enumerator_works_after_the_job_object_is_released),
        ENUM_TEST(test_files_enumerator_answers_its_own_iid_and_iunknown_only),
    };
    const struct CMUnitTest jobs[] = {
        ENUM_TEST(test_jobs_next_of_several_without_fetched_is_invalidarg),
        ENUM_TEST(test_jobs_next_of_one_without_fetched_succeeds),
        ENUM_TEST(test_jobs_next_returns_them_oldest_first),
        ENUM_TEST(test_jobs_next_returning_fewer_is_s_false_with_the_count),
        ENUM_TEST(test_jobs_with_none_listed_enumerate_nothing),
        ENUM_TEST(test_jobs_skip_past_the_end_is_s_false_and_leaves_nothing),
        ENUM_TEST(test_jobs_reset_goes_back_to_the_first),
        ENUM_TEST(test_jobs_clone_keeps_the_position_and_moves_independently),
        ENUM_TEST(test_jobs_get_count_is_the_snapshot_size),
        ENUM_TEST(test_jobs_created_after_the_enumerator_are_not_seen),
        ENUM_TEST(test_jobs_cancelled_after_the_enumerator_still_enumerate_as_cancelled),
        ENUM_TEST(test_jobs_next_gives_a_new_object_the_caller_owns),
        ENUM_TEST(test_jobs_enumerator_answers_its_own_iid_and_iunknown_only),
    };
    int failed = 0;

    failed += cmocka_run_group_tests_name("IEnumBackgroundCopyFiles", files, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("IEnumBackgroundCopyJobs", jobs, group_setup, group_teardown);
    return failed;
}
