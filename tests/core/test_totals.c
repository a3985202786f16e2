/*
 * What the store keeps instead of walking its records (docs/store.md): a job's
 * running totals, which must equal a full recount of its files after every kind
 * of change; the cursor dos_job_next_file starts from; the set of a job's DO file
 * ids; the table of listed jobs by id, which must find a job while it is listed
 * and forget it once it ends; and the hash table (table.h) under both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ranges.h"
#include "store.h"
#include "table.h"
#include "test_text.h"

#define OWNER W(u"S-1-5-21-1000")
#define HR_E_FAIL ((int32_t)(-2147467259))          /* 0x80004005 */

/* A fixed-seed generator: every run walks the same sequence. */
static uint32_t next_random(uint64_t *seed)
{
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*seed >> 33);
}

/* An ASCII text as the core's string type, into buffer. */
static const dos_char *text(dos_char *buffer, size_t size, const char *format, unsigned number)
{
    char narrow[64];
    size_t i;

    snprintf(narrow, sizeof(narrow), format, number);
    for (i = 0; narrow[i] && i + 1 < size; i++) buffer[i] = (dos_char)narrow[i];
    buffer[i] = 0;
    return buffer;
}

static struct dos_job *new_job(struct dos_store *store)
{
    struct dos_job *job = NULL;
    assert_int_equal(dos_store_create_job(store, W(u"totals"), DOS_JOB_DOWNLOAD, OWNER, &job), DOS_OK);
    return job;
}

/* ---- the recount ------------------------------------------------------------ */

/* A file's requested bytes worked out again from its ranges and size. */
static uint64_t recount_file_total(struct dos_file *file, uint64_t file_size)
{
    dos_range *ranges = NULL;
    uint32_t count = 0;
    uint64_t total;

    assert_int_equal(dos_file_copy_ranges(file, malloc, &ranges, &count), DOS_OK);
    total = count ? dos_ranges_total(ranges, count, file_size) : file_size;
    free(ranges);
    return total;
}

static bool has_local_name(struct dos_file *file)
{
    dos_char *name = NULL;
    dos_status s = dos_file_copy_text(file, DOS_FILE_LOCAL_NAME, malloc, &name);
    free(name);
    return s == DOS_OK;
}

/* Fails unless the job's totals are those of its files counted one by one, and (with a
 * live run) dos_job_next_file hands out the first file that is not transferred. */
static void assert_totals_match_a_recount(struct dos_job *job, dos_run run)
{
    struct dos_file **files = NULL;
    struct dos_job_info info;
    struct dos_transfer_file next;
    uint64_t bytes_total = 0, bytes_transferred = 0;
    size_t count = 0, i, first_pending = SIZE_MAX;
    uint32_t files_transferred = 0;
    bool unknown = false;
    dos_status s;

    assert_int_equal(dos_job_list_files(job, &files, &count), DOS_OK);
    for (i = 0; i < count; i++)
    {
        struct dos_file_info fi;
        uint64_t total;

        dos_file_get_info(files[i], &fi);
        total = recount_file_total(files[i], fi.file_size);
        assert_int_equal(fi.bytes_total, total);
        if (total == DOS_SIZE_UNKNOWN) unknown = true;
        else bytes_total += total;
        bytes_transferred += fi.bytes_transferred;
        if (total != DOS_SIZE_UNKNOWN && fi.bytes_transferred == total) files_transferred++;
        else if (first_pending == SIZE_MAX) first_pending = i;
    }
    dos_job_get_info(job, &info);
    assert_int_equal(info.files_total, count);
    assert_int_equal(info.files_transferred, files_transferred);
    assert_int_equal(info.bytes_total, unknown ? DOS_SIZE_UNKNOWN : bytes_total);
    assert_int_equal(info.bytes_transferred, bytes_transferred);

    if (run && dos_job_run_is_live(job, run))
    {
        s = dos_job_next_file(job, run, &next);
        if (first_pending == SIZE_MAX) assert_int_equal(s, DOS_E_NOT_SET);
        else
        {
            assert_int_equal(s, has_local_name(files[first_pending]) ? DOS_OK : DOS_E_SINK_UNSPECIFIED);
            assert_ptr_equal(next.file, files[first_pending]);
        }
        dos_transfer_file_clear(&next);
    }
    free(files);
}

/* ---- a random walk through every kind of change --------------------------- */

struct walk
{
    uint64_t seed;
    struct dos_job *job;
    dos_run run;
    unsigned names;                /* files named so far, for unique names */
    unsigned ids;                  /* DO file ids in the job: id-0 to id-(ids - 1) */
};

static uint32_t roll(struct walk *w, uint32_t n)
{
    return next_random(&w->seed) % n;
}

static const dos_range two_ranges[] = { { 0, 10 }, { 100, 20 } };            /* 30 bytes, whatever the size */
static const dos_range to_the_end[] = { { 0, 10 }, { 50, DOS_LENGTH_TO_EOF } }; /* unknown until the size is */

/* One to three files: of unknown or given size, with or without ranges, some without a local
 * name, some with a DO file id, now and then one already taken (the call then adds none). */
static void add_files(struct walk *w)
{
    dos_char remote[3][48], local[3][48], id[3][16];
    struct dos_file_spec specs[3];
    size_t count = 1 + roll(w, 3), i;
    unsigned fresh = 0;            /* ids of this call not used before */
    bool clash = false;

    memset(specs, 0, sizeof(specs));
    for (i = 0; i < count; i++)
    {
        unsigned n = w->names++;
        specs[i].remote_name = text(remote[i], 48, "http://example.com/%u", n);
        specs[i].file_size = DOS_SIZE_UNKNOWN;
        switch (roll(w, 4))
        {
        case 1: specs[i].file_size = 150 + roll(w, 100); break;
        case 2: specs[i].ranges = two_ranges; specs[i].range_count = 2; break;
        case 3: specs[i].ranges = to_the_end; specs[i].range_count = 2; break;
        default: break;
        }
        if (roll(w, 8)) specs[i].local_name = text(local[i], 48, "C:\\walk\\%u.bin", n);
        else specs[i].local_optional = true;
        if (!roll(w, 3))
        {
            bool taken = w->ids && !roll(w, 8);
            specs[i].file_id = text(id[i], 16, "id-%u", taken ? roll(w, w->ids) : w->ids + fresh++);
            clash |= taken;
        }
    }
    assert_int_equal(dos_job_add_files(w->job, specs, count, NULL), clash ? DOS_E_INVALID_ARG : DOS_OK);
    if (!clash) w->ids += fresh;
}

/* A random file of the job; with unnamed, one without a local name if there is any. */
static struct dos_file *random_file(struct walk *w, bool unnamed)
{
    struct dos_file **files = NULL, *file = NULL;
    size_t count = 0, i, start;

    assert_int_equal(dos_job_list_files(w->job, &files, &count), DOS_OK);
    if (count)
    {
        start = roll(w, (uint32_t)count);
        file = files[start];
        for (i = 0; unnamed && i < count; i++)
            if (!has_local_name(files[(start + i) % count]))
            {
                file = files[(start + i) % count];
                break;
            }
    }
    free(files);
    return file;
}

/* Progress as a worker writes it: the size learned if not known, then some or all bytes. */
static void record_progress(struct walk *w, struct dos_file *file)
{
    struct dos_file_info fi;
    uint64_t size, total;

    dos_file_get_info(file, &fi);
    size = fi.file_size != DOS_SIZE_UNKNOWN ? fi.file_size : 150 + roll(w, 100);
    total = recount_file_total(file, size);
    assert_int_equal(dos_file_record_progress(file, w->run, size, roll(w, 3) ? total : roll(w, (uint32_t)total + 1)),
                     DOS_OK);
}

/* Resume, refused while a file has no local name, and the engine's run if the job is queued. */
static void resume(struct walk *w)
{
    struct dos_file **files = NULL;
    struct dos_job_info info;
    size_t count = 0, i;
    bool unnamed = false;

    assert_int_equal(dos_job_list_files(w->job, &files, &count), DOS_OK);
    for (i = 0; i < count; i++) unnamed |= !has_local_name(files[i]);
    free(files);
    assert_int_equal(dos_job_resume(w->job), unnamed ? DOS_E_SINK_UNSPECIFIED : DOS_OK);
    if (unnamed) return;
    dos_job_get_info(w->job, &info);
    if (info.state == DOS_STATE_QUEUED) assert_int_equal(dos_job_start_run(w->job, &w->run), DOS_OK);
}

enum { MAX_WALK_FILES = 60 };

/* One change, picked at random among those the job's state allows. */
static void step(struct walk *w)
{
    struct dos_file *file = random_file(w, false);
    struct dos_transfer_file next;
    struct dos_job_info info;
    dos_char local[48];
    uint32_t r = roll(w, 32), i;
    bool *kept;

    dos_job_get_info(w->job, &info);
    if (!file || (info.files_total < MAX_WALK_FILES && r < 3))
    {
        add_files(w);
        return;
    }
    switch (info.state)
    {
    case DOS_STATE_SUSPENDED:
    case DOS_STATE_ERROR:
        /* Size and name refuse a file that has bytes: either way the totals must hold. */
        if (r < 7) dos_file_set_size(file, 150 + roll(w, 100));
        else if (r < 13)
            dos_file_set_local_name(random_file(w, true), text(local, 48, "C:\\walk\\renamed-%u.bin", w->names++));
        else if (r < 15)
        {
            /* A Complete that failed for a file: what was moved is marked completed. */
            kept = calloc(info.files_total, sizeof(*kept));
            for (i = 0; i < info.files_total; i++) kept[i] = !roll(w, 4);
            assert_int_equal(dos_job_begin_finish(w->job), DOS_OK);
            assert_int_equal(dos_job_abort_finish(w->job, kept), DOS_OK);
            free(kept);
        }
        else resume(w);
        break;
    case DOS_STATE_TRANSFERRING:
    case DOS_STATE_TRANSIENT_ERROR:
        if (r < 5) assert_int_equal(dos_file_restart(file, w->run), DOS_OK);
        else if (r < 6) assert_int_equal(dos_job_suspend(w->job), DOS_OK);
        else if (r < 8)
            assert_int_equal(dos_job_report_error(w->job, w->run, r == 6, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, file, NULL),
                             DOS_OK);
        else if (r < 10) dos_job_finish_run(w->job, w->run);   /* refused while a file is not transferred */
        else
        {
            /* The file the engine works on, mostly; now and then another. A file added without
             * a local name stops the engine there: the client names it while the job waits. */
            dos_status s = dos_job_next_file(w->job, w->run, &next);
            if (s == DOS_OK && roll(w, 4)) file = next.file;
            dos_transfer_file_clear(&next);
            if (s == DOS_E_SINK_UNSPECIFIED) assert_int_equal(dos_job_suspend(w->job), DOS_OK);
            else if (s == DOS_E_NOT_SET) assert_int_equal(dos_job_finish_run(w->job, w->run), DOS_OK);
            else if (has_local_name(file)) record_progress(w, file);
        }
        break;
    case DOS_STATE_TRANSFERRED:
        /* The client rejects a file's content: it is downloaded again, from the start. */
        if (r < 20 && dos_file_set_validation_state(file, false) == DOS_OK)
            assert_int_equal(dos_job_start_run(w->job, &w->run), DOS_OK);
        else if (r < 26) add_files(w);   /* past MAX_WALK_FILES too: the files may all be the user's now */
        else resume(w);
        break;
    default:
        fail_msg("unexpected state %d", info.state);
    }
}

static void test_job_totals_equal_a_recount_through_random_changes(void **state)
{
    uint64_t seeds[] = { 1, 42, 2026 };
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
    {
        struct dos_store *store = dos_store_create();
        struct walk w = { .seed = seeds[i] };

        w.job = new_job(store);
        for (n = 0; n < 3000; n++)
        {
            step(&w);
            assert_totals_match_a_recount(w.job, w.run);
        }
        /* Complete marks what is transferred completed; the totals still hold. */
        assert_int_equal(dos_job_begin_finish(w.job), DOS_OK);
        dos_job_end_finish(w.job, DOS_STATE_ACKNOWLEDGED, NULL);
        assert_totals_match_a_recount(w.job, 0);
        dos_job_release(w.job);
        dos_store_release(store);
    }
}

/* ---- the cursor ---------------------------------------------------------------- */

enum { CURSOR_FILES = 3 };

/* A job of CURSOR_FILES files of size (DOS_SIZE_UNKNOWN: not given), listed in files, with a
 * live run. */
static struct dos_job *running_job(struct dos_store *store, uint64_t size, struct dos_file ***files, dos_run *run)
{
    struct dos_job *job = new_job(store);
    dos_char remote[CURSOR_FILES][48], local[CURSOR_FILES][48];
    struct dos_file_spec specs[CURSOR_FILES];
    size_t count;
    unsigned i;

    memset(specs, 0, sizeof(specs));
    for (i = 0; i < CURSOR_FILES; i++)
    {
        specs[i].remote_name = text(remote[i], 48, "http://example.com/%u", i);
        specs[i].local_name = text(local[i], 48, "C:\\d\\%u", i);
        specs[i].file_size = size;
    }
    assert_int_equal(dos_job_add_files(job, specs, CURSOR_FILES, NULL), DOS_OK);
    assert_int_equal(dos_job_list_files(job, files, &count), DOS_OK);
    assert_int_equal(dos_job_resume(job), DOS_OK);
    assert_int_equal(dos_job_start_run(job, run), DOS_OK);
    return job;
}

static void assert_next_file(struct dos_job *job, dos_run run, struct dos_file *expected)
{
    struct dos_transfer_file next;

    assert_int_equal(dos_job_next_file(job, run, &next), DOS_OK);
    assert_ptr_equal(next.file, expected);
    dos_transfer_file_clear(&next);
}

static void end_job(struct dos_store *store, struct dos_job *job, struct dos_file **files)
{
    free(files);
    dos_job_cancel(job);
    dos_job_release(job);
    dos_store_release(store);
}

static void test_next_file_goes_back_to_a_file_whose_content_was_rejected(void **state)
{
    struct dos_store *store = dos_store_create();
    struct dos_transfer_file next;
    struct dos_job_info info;
    struct dos_file **files;
    struct dos_job *job;
    dos_run run;
    unsigned i;

    (void)state;
    job = running_job(store, 10, &files, &run);
    for (i = 0; i < CURSOR_FILES; i++)
    {
        assert_next_file(job, run, files[i]);
        assert_int_equal(dos_file_record_progress(files[i], run, 10, 10), DOS_OK);
    }
    assert_int_equal(dos_job_next_file(job, run, &next), DOS_E_NOT_SET);
    assert_int_equal(dos_job_finish_run(job, run), DOS_OK);

    assert_int_equal(dos_file_set_validation_state(files[1], false), DOS_OK);
    assert_int_equal(dos_job_start_run(job, &run), DOS_OK);
    assert_next_file(job, run, files[1]);
    dos_job_get_info(job, &info);
    assert_int_equal(info.files_transferred, CURSOR_FILES - 1);
    assert_int_equal(info.bytes_transferred, 10 * (CURSOR_FILES - 1));
    end_job(store, job, files);
}

static void test_next_file_starts_a_restarted_file_again(void **state)
{
    struct dos_store *store = dos_store_create();
    struct dos_job_info info;
    struct dos_file **files;
    struct dos_job *job;
    dos_run run;

    (void)state;
    job = running_job(store, DOS_SIZE_UNKNOWN, &files, &run);
    assert_int_equal(dos_file_record_progress(files[0], run, 10, 10), DOS_OK);
    assert_next_file(job, run, files[1]);

    /* The remote file changed: its size is forgotten and it is the next one again. */
    assert_int_equal(dos_file_restart(files[0], run), DOS_OK);
    dos_job_get_info(job, &info);
    assert_int_equal(info.files_transferred, 0);
    assert_int_equal(info.bytes_total, DOS_SIZE_UNKNOWN);
    assert_int_equal(info.bytes_transferred, 0);
    assert_next_file(job, run, files[0]);
    end_job(store, job, files);
}

/* ---- DO file ids ----------------------------------------------------------------- */

static dos_status add_with_id(struct dos_job *job, unsigned n, unsigned id_number)
{
    dos_char remote[48], id[16];
    struct dos_file_spec spec;

    memset(&spec, 0, sizeof(spec));
    spec.remote_name = text(remote, 48, "http://example.com/%u", n);
    spec.local_optional = true;
    spec.file_size = DOS_SIZE_UNKNOWN;
    spec.file_id = text(id, 16, "id-%u", id_number);
    return dos_job_add_files(job, &spec, 1, NULL);
}

static void test_every_file_id_of_a_large_job_stays_taken(void **state)
{
    struct dos_store *store = dos_store_create();
    struct dos_job *job = new_job(store);
    struct dos_job_info info;
    unsigned i;

    (void)state;
    for (i = 0; i < 3000; i++) assert_int_equal(add_with_id(job, i, i), DOS_OK);
    for (i = 0; i < 3000; i += 7) assert_int_equal(add_with_id(job, 5000 + i, i), DOS_E_INVALID_ARG);
    assert_int_equal(add_with_id(job, 9000, 3000), DOS_OK);
    dos_job_get_info(job, &info);
    assert_int_equal(info.files_total, 3001);
    dos_job_cancel(job);
    dos_job_release(job);
    dos_store_release(store);
}

static void test_a_refused_call_leaves_none_of_its_file_ids_taken(void **state)
{
    struct dos_store *store = dos_store_create();
    struct dos_job *job = new_job(store);
    dos_char remote[3][48], id[3][16];
    struct dos_file_spec specs[3];
    struct dos_job_info info;
    unsigned i;

    (void)state;
    assert_int_equal(add_with_id(job, 0, 0), DOS_OK);
    memset(specs, 0, sizeof(specs));
    for (i = 0; i < 3; i++)
    {
        specs[i].remote_name = text(remote[i], 48, "http://example.com/%u", i + 1);
        specs[i].local_optional = true;
        specs[i].file_size = DOS_SIZE_UNKNOWN;
        specs[i].file_id = text(id[i], 16, "id-%u", i + 1);
    }
    specs[2].file_id = W(u"id-0");   /* taken by the job's file: the whole call is refused */
    assert_int_equal(dos_job_add_files(job, specs, 3, NULL), DOS_E_INVALID_ARG);
    specs[2].file_id = W(u"id-1");   /* twice in one call */
    assert_int_equal(dos_job_add_files(job, specs, 3, NULL), DOS_E_INVALID_ARG);
    dos_job_get_info(job, &info);
    assert_int_equal(info.files_total, 1);
    assert_int_equal(add_with_id(job, 1, 1), DOS_OK);
    assert_int_equal(add_with_id(job, 2, 2), DOS_OK);
    dos_job_cancel(job);
    dos_job_release(job);
    dos_store_release(store);
}

/* ---- listed jobs by id ---------------------------------------------------------- */

static void test_find_forgets_exactly_the_jobs_that_ended(void **state)
{
    enum { COUNT = 2000 };
    struct dos_store *store = dos_store_create();
    struct dos_job **jobs = calloc(COUNT, sizeof(*jobs)), *found;
    dos_guid *ids = calloc(COUNT, sizeof(*ids));
    bool *ended = calloc(COUNT, sizeof(*ended));
    struct dos_job_info info;
    uint64_t seed = 7;
    size_t i, listed = COUNT;

    (void)state;
    for (i = 0; i < COUNT; i++)
    {
        jobs[i] = new_job(store);
        dos_job_get_info(jobs[i], &info);
        ids[i] = info.id;
    }
    /* Cancel or Complete a random half, in random order. */
    for (i = 0; i < COUNT; i++)
    {
        size_t k = next_random(&seed) % COUNT;
        if (ended[k] || next_random(&seed) % 2) continue;
        assert_int_equal(next_random(&seed) % 2 ? dos_job_cancel(jobs[k]) : dos_job_complete(jobs[k]), DOS_OK);
        ended[k] = true;
        listed--;
    }
    assert_int_equal(dos_store_job_count(store), listed);
    for (i = 0; i < COUNT; i++)
    {
        dos_status s = dos_store_find_job(store, &ids[i], &found);
        if (ended[i])
        {
            assert_int_equal(s, DOS_E_JOB_NOT_FOUND);
            continue;
        }
        assert_int_equal(s, DOS_OK);
        assert_ptr_equal(found, jobs[i]);
        dos_job_release(found);
    }
    /* Jobs made after the removals are found too (the table reuses what was freed). */
    found = new_job(store);
    dos_job_get_info(found, &info);
    dos_job_release(found);
    assert_int_equal(dos_store_find_job(store, &info.id, &found), DOS_OK);
    dos_job_release(found);

    dos_store_shutdown(store);
    for (i = 0; i < COUNT; i++)
    {
        assert_int_equal(dos_store_find_job(store, &ids[i], &found), DOS_E_JOB_NOT_FOUND);
        dos_job_release(jobs[i]);
    }
    assert_int_equal(dos_store_find_job(store, &info.id, &found), DOS_E_JOB_NOT_FOUND);
    free(jobs);
    free(ids);
    free(ended);
    dos_store_release(store);
}

static void test_find_does_not_return_a_download(void **state)
{
    struct dos_store *store = dos_store_create();
    struct dos_job *download, *found = POISON(struct dos_job *);
    struct dos_job_info info;

    (void)state;
    assert_int_equal(dos_store_create_download(store, OWNER, &download), DOS_OK);
    dos_job_get_info(download, &info);
    assert_int_equal(dos_store_find_job(store, &info.id, &found), DOS_E_JOB_NOT_FOUND);
    assert_null(found);
    dos_job_cancel(download);
    dos_job_release(download);
    dos_store_release(store);
}

/* ---- the table itself ------------------------------------------------------------- */

static bool same_number(const void *item, const void *key)
{
    return *(const unsigned *)item == *(const unsigned *)key;
}

/* Hashes that collide on purpose, so that removal has long runs to mend. */
static uint64_t crowded_hash(unsigned n)
{
    return n % 5;
}

static void test_table_finds_what_is_in_it_after_random_inserts_and_removes(void **state)
{
    enum { COUNT = 600 };
    unsigned numbers[COUNT];
    bool in[COUNT] = { false };
    struct table t = { 0 };
    uint64_t seed = 3;
    size_t i, n, count = 0;

    (void)state;
    for (i = 0; i < COUNT; i++) numbers[i] = (unsigned)i;
    for (n = 0; n < 20000; n++)
    {
        unsigned k = next_random(&seed) % COUNT;
        if (in[k]) table_remove(&t, crowded_hash(k), &numbers[k]), count--;
        else
        {
            assert_true(table_reserve(&t, 1));
            table_insert(&t, crowded_hash(k), &numbers[k]);
            count++;
        }
        in[k] = !in[k];
        if (n % 97) continue;
        for (i = 0; i < COUNT; i++)
            assert_ptr_equal(table_find(&t, crowded_hash((unsigned)i), same_number, &numbers[i]), in[i] ? &numbers[i] : NULL);
        assert_int_equal(t.count, count);
    }
    table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_totals_equal_a_recount_through_random_changes),
        cmocka_unit_test(test_next_file_goes_back_to_a_file_whose_content_was_rejected),
        cmocka_unit_test(test_next_file_starts_a_restarted_file_again),
        cmocka_unit_test(test_every_file_id_of_a_large_job_stays_taken),
        cmocka_unit_test(test_a_refused_call_leaves_none_of_its_file_ids_taken),
        cmocka_unit_test(test_find_forgets_exactly_the_jobs_that_ended),
        cmocka_unit_test(test_find_does_not_return_a_download),
        cmocka_unit_test(test_table_finds_what_is_in_it_after_random_inserts_and_removes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
