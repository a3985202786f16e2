/*
 * The store under concurrent use (DESIGN rule 6: objects are free-threaded):
 * eight threads add, list, read, suspend, resume and swap callbacks on one job,
 * with and without a Cancel racing them; counts and reference counts must add up.
 * Then the engine's side: a run racing the client's Suspend, Resume and Cancel,
 * a job's running totals under progress written by several threads, and the
 * listener, which must be called with the store's lock left. A deadlock shows
 * as threads that stop making progress (test_wait.h), which fails the test
 * instead of hanging it; a slow machine only takes longer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "test_text.h"
#include "test_wait.h"
#include "threads_compat.h"

enum { THREADS = 8, ITERATIONS = 2000, ADD_EVERY = 4 };

/* How long threads may go without a round done before they count as deadlocked. */
#define STALL_MS 20000

#define DISPLAY_NAME W(u"stress")

/* What the workers share. Workers never assert (cmocka is not thread-safe):
 * they count what cannot happen, and the main thread checks the counts. */
struct shared
{
    struct dos_job *job;
    bool cancel_races;             /* a Cancel may land at any moment */
    atomic_int go;
    atomic_int cancelled;          /* set once Cancel has returned */
    atomic_uint rounds;            /* iterations done, by all workers: their progress */
    atomic_uint finished;          /* workers that have done all theirs */
    atomic_uint files_added;
    atomic_uint refs_made;
    atomic_uint refs_destroyed;
    atomic_uint anomalies;
    atomic_uint first_anomaly_line;
};

struct worker
{
    struct shared *shared;
    unsigned index;
};

struct stress_ref
{
    struct dos_ref ref;
    struct shared *shared;
};

static void stress_ref_destroy(struct dos_ref *ref)
{
    struct stress_ref *r = (struct stress_ref *)ref;
    atomic_fetch_add(&r->shared->refs_destroyed, 1);
    free(r);
}

static struct dos_ref *new_ref(struct shared *sh)
{
    struct stress_ref *r = malloc(sizeof(*r));
    if (!r) abort();
    atomic_init(&r->ref.refs, 1);
    r->ref.destroy = stress_ref_destroy;
    r->shared = sh;
    atomic_fetch_add(&sh->refs_made, 1);
    return &r->ref;
}

static void note_anomaly(struct shared *sh, unsigned line)
{
    unsigned none = 0;
    atomic_fetch_add(&sh->anomalies, 1);
    atomic_compare_exchange_strong(&sh->first_anomaly_line, &none, line);
}

#define EXPECT(sh, cond) do { if (!(cond)) note_anomaly((sh), __LINE__); } while (0)

static bool flag_set(void *context)
{
    return atomic_load((atomic_int *)context) != 0;
}

/*
 * Whether a mutator's answer can be right. Once the cancelled flag has been
 * seen, only DOS_E_INVALID_STATE is; before, ok is, and so is INVALID_STATE
 * when a Cancel may have landed between reading the flag and the call.
 */
static bool answer_possible(const struct shared *sh, bool was_cancelled, dos_status s, dos_status ok)
{
    if (was_cancelled) return s == DOS_E_INVALID_STATE;
    return s == ok || (sh->cancel_races && s == DOS_E_INVALID_STATE);
}

/* "w<worker>-<n>": a file id no other add uses. */
static void make_file_id(dos_char out[32], unsigned worker, unsigned n)
{
    char text[32];
    size_t i;
    snprintf(text, sizeof(text), "w%u-%u", worker, n);
    for (i = 0; text[i]; i++) out[i] = (dos_char)text[i];
    out[i] = 0;
}

static void worker_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->shared;
    struct dos_job *job = sh->job;
    size_t seen_files = 0;
    unsigned added = 0, i;
    dos_char id[32];

    /* The main thread opens the gate once every worker exists. */
    if (!test_wait(flag_set, &sh->go, 60000))
    {
        note_anomaly(sh, __LINE__);
        return;
    }
    for (i = 0; i < ITERATIONS; i++)
    {
        bool was_cancelled = atomic_load(&sh->cancelled);
        struct dos_job_info info;
        struct dos_file **files = NULL;
        struct dos_ref *ref, *old = NULL;
        dos_char *text = NULL;
        size_t count = 0;
        dos_status s;

        if (i % ADD_EVERY == 0)
        {
            struct dos_file_spec spec;
            memset(&spec, 0, sizeof(spec));
            make_file_id(id, w->index, i);
            spec.file_id = id;
            spec.remote_name = W(u"http://example.com/file.bin");
            spec.local_name = W(u"C:\\downloads\\file.bin");
            spec.file_size = DOS_SIZE_UNKNOWN;
            s = dos_job_add_files(job, &spec, 1, NULL);
            EXPECT(sh, answer_possible(sh, was_cancelled, s, DOS_OK));
            if (s == DOS_OK)
            {
                atomic_fetch_add(&sh->files_added, 1);
                added++;
                /* the same id again must be refused, whatever else is going on */
                s = dos_job_add_files(job, &spec, 1, NULL);
                EXPECT(sh, answer_possible(sh, false, s, DOS_E_INVALID_ARG));
            }
        }

        EXPECT(sh, dos_job_list_files(job, &files, &count) == DOS_OK);
        EXPECT(sh, count >= seen_files && count >= added);     /* files are never removed */
        if (count)
        {
            struct dos_file_info fi;
            dos_file_get_info(files[count - 1], &fi);
            EXPECT(sh, fi.bytes_total == DOS_SIZE_UNKNOWN && fi.bytes_transferred == 0 && !fi.completed);
            EXPECT(sh, dos_file_job(files[0]) == job);
        }
        seen_files = count;
        free(files);

        dos_job_get_info(job, &info);
        EXPECT(sh, info.files_total >= seen_files);
        EXPECT(sh, info.files_total == 0 || info.bytes_total == DOS_SIZE_UNKNOWN);
        EXPECT(sh, info.state == DOS_STATE_SUSPENDED || info.state == DOS_STATE_QUEUED
                   || info.state == DOS_STATE_CANCELLED);
        EXPECT(sh, !was_cancelled || info.state == DOS_STATE_CANCELLED);

        EXPECT(sh, dos_job_copy_text(job, DOS_JOB_DISPLAY_NAME, malloc, &text) == DOS_OK);
        EXPECT(sh, text && test_wstr_equal(text, DISPLAY_NAME));
        free(text);

        if (i & 1)
        {
            s = dos_job_resume(job);
            EXPECT(sh, answer_possible(sh, was_cancelled, s, DOS_OK)
                       || (!was_cancelled && s == DOS_E_JOB_EMPTY));
        }
        else
        {
            s = dos_job_suspend(job);
            EXPECT(sh, answer_possible(sh, was_cancelled, s, DOS_OK));
        }

        s = dos_job_swap_notify(job, new_ref(sh), &old);
        EXPECT(sh, answer_possible(sh, was_cancelled, s, DOS_OK));
        dos_ref_release(old);
        ref = dos_job_get_notify(job);
        EXPECT(sh, !was_cancelled || ref == NULL);
        dos_ref_release(ref);
        atomic_fetch_add(&sh->rounds, 1);
    }
    atomic_fetch_add(&sh->finished, 1);
}

static bool workers_finished(void *context)
{
    struct shared *sh = context;
    return atomic_load(&sh->finished) == THREADS;
}

static bool enough_files_added(void *context)
{
    struct shared *sh = context;
    struct dos_job_info info;
    dos_job_get_info(sh->job, &info);
    return info.files_total >= THREADS * 8 || workers_finished(sh);
}

/* Runs the workers to the end; with cancel_midway, cancels once they are well under way.
 * Static, like the tests' shared state: a deadlocked worker still points into them. */
static void run_workers(struct shared *sh, bool cancel_midway)
{
    static test_thread threads[THREADS];
    static struct worker workers[THREADS];
    unsigned i;

    for (i = 0; i < THREADS; i++)
    {
        workers[i].shared = sh;
        workers[i].index = i;
        assert_true(test_thread_create(&threads[i], worker_main, &workers[i]));
    }
    atomic_store(&sh->go, 1);
    if (cancel_midway)
    {
        if (!test_wait_while_progressing(enough_files_added, sh, &sh->rounds, STALL_MS))
            fail_msg("the workers made no progress for %d ms: deadlock", STALL_MS);
        assert_int_equal(dos_job_cancel(sh->job), DOS_OK);
        atomic_store(&sh->cancelled, 1);
    }
    if (!test_wait_while_progressing(workers_finished, sh, &sh->rounds, STALL_MS))
        fail_msg("the workers made no progress for %d ms (%u rounds done): deadlock", STALL_MS,
                 atomic_load(&sh->rounds));
    for (i = 0; i < THREADS; i++) test_thread_join(&threads[i]);
}

static void assert_no_anomaly(struct shared *sh)
{
    if (atomic_load(&sh->anomalies))
        fail_msg("%u impossible results, the first checked at test_stress.c:%u", atomic_load(&sh->anomalies),
                 atomic_load(&sh->first_anomaly_line));
}

static void test_concurrent_use_of_one_job_keeps_counts_and_references_consistent(void **state)
{
    struct dos_store *store = dos_store_create();
    static struct shared sh;
    struct dos_job_info info;
    struct dos_file **files = NULL;
    size_t count = 0;

    (void)state;
    memset(&sh, 0, sizeof(sh));
    assert_non_null(store);
    assert_int_equal(dos_store_create_job(store, DISPLAY_NAME, DOS_JOB_DOWNLOAD, W(u"owner"), &sh.job), DOS_OK);

    run_workers(&sh, false);
    assert_no_anomaly(&sh);

    dos_job_get_info(sh.job, &info);
    assert_int_equal(atomic_load(&sh.files_added), THREADS * (ITERATIONS / ADD_EVERY));
    assert_int_equal(info.files_total, atomic_load(&sh.files_added));
    assert_int_equal(dos_job_list_files(sh.job, &files, &count), DOS_OK);
    assert_int_equal(count, info.files_total);
    free(files);
    /* the job holds exactly the last swapped-in reference */
    assert_int_equal(atomic_load(&sh.refs_made), THREADS * ITERATIONS);
    assert_int_equal(atomic_load(&sh.refs_destroyed), atomic_load(&sh.refs_made) - 1);

    assert_int_equal(dos_job_cancel(sh.job), DOS_OK);
    assert_int_equal(atomic_load(&sh.refs_destroyed), atomic_load(&sh.refs_made));
    assert_null(dos_job_get_notify(sh.job));
    assert_int_equal(dos_store_job_count(store), 0);

    dos_job_release(sh.job);
    dos_store_release(store);
}

static void test_cancel_racing_concurrent_use_ends_the_job_and_releases_every_reference(void **state)
{
    struct dos_store *store = dos_store_create();
    static struct shared sh;
    struct dos_job_info info;

    (void)state;
    memset(&sh, 0, sizeof(sh));
    sh.cancel_races = true;
    assert_non_null(store);
    assert_int_equal(dos_store_create_job(store, DISPLAY_NAME, DOS_JOB_DOWNLOAD, W(u"owner"), &sh.job), DOS_OK);

    run_workers(&sh, true);
    assert_no_anomaly(&sh);

    dos_job_get_info(sh.job, &info);
    assert_int_equal(info.state, DOS_STATE_CANCELLED);
    assert_int_equal(info.files_total, atomic_load(&sh.files_added));
    assert_true(info.files_total >= THREADS * 8);
    /* after Cancel no reference stays with the job: refused ones came back to the workers */
    assert_int_equal(atomic_load(&sh.refs_made), THREADS * ITERATIONS);
    assert_int_equal(atomic_load(&sh.refs_destroyed), atomic_load(&sh.refs_made));
    assert_int_equal(dos_store_job_count(store), 0);

    dos_job_release(sh.job);
    dos_store_release(store);
}

/* ---- the engine's runs against the client -------------------------------------- */

enum { CLIENT_ROUNDS = 2000 };

/* One engine thread moves the job in runs while the client suspends, resumes and
 * finally cancels it: a write with a revoked run must never succeed. */
struct race
{
    struct shared sh;              /* the anomaly counters */
    struct dos_job *job;
    struct dos_file *file;
    atomic_int stop;
    atomic_int cancelled;
    atomic_ullong published;       /* the engine's latest run */
    atomic_uint runs;
    atomic_uint writes;
    atomic_uint refused;
    atomic_uint stopped_events;
    atomic_uint events;
    atomic_uint steps;             /* the engine's store calls: its progress */
    atomic_int ended;              /* the engine thread has seen stop */
};

static void race_listener(void *context, const struct dos_event *event)
{
    struct race *r = context;
    struct dos_job_info info;

    EXPECT(&r->sh, event->job == r->job);
    dos_job_get_info(event->job, &info);           /* the listener may read the store */
    atomic_fetch_add(&r->events, 1);
    if (event->kind == DOS_EVENT_STOPPED) atomic_fetch_add(&r->stopped_events, 1);
}

/* One engine write with run, chosen by step; the file never completes. */
static dos_status engine_write(struct race *r, dos_run run, unsigned step)
{
    struct dos_transfer_file tf;
    dos_status s;

    switch (step % 6)
    {
    case 0: return dos_file_record_progress(r->file, run, 1000, step % 1000);
    case 1:
        if ((s = dos_job_next_file(r->job, run, &tf)) == DOS_OK)
        {
            EXPECT(&r->sh, tf.file == r->file);
            dos_transfer_file_clear(&tf);
        }
        return s;
    case 2: return dos_job_report_error(r->job, run, true, -2147467259, DOS_CONTEXT_REMOTE_FILE, r->file, NULL);
    case 3: return dos_job_retry(r->job, run);
    case 4: return dos_file_mark_temp_created(r->file, run);
    default: return dos_job_run_is_live(r->job, run) ? DOS_OK : DOS_E_INVALID_STATE;
    }
}

static void engine_main(void *arg)
{
    struct race *r = arg;
    dos_run last = 0;
    unsigned step = 0;

    while (!atomic_load(&r->stop))
    {
        bool was_cancelled = atomic_load(&r->cancelled);
        dos_run run = 12345;
        dos_status s = dos_job_start_run(r->job, &run);

        atomic_fetch_add(&r->steps, 1);
        EXPECT(&r->sh, s == DOS_OK || s == DOS_E_INVALID_STATE);
        if (s != DOS_OK)
        {
            EXPECT(&r->sh, run == 0);
            continue;
        }
        EXPECT(&r->sh, !was_cancelled);
        EXPECT(&r->sh, run > last);                   /* a run is never named twice */
        last = run;
        atomic_store(&r->published, run);
        atomic_fetch_add(&r->runs, 1);
        for (;;)
        {
            if (++step % 97 == 0)
            {
                /* a fatal error ends the run itself */
                s = dos_job_report_error(r->job, run, false, -2147467259, DOS_CONTEXT_REMOTE_FILE, NULL, NULL);
                EXPECT(&r->sh, s == DOS_OK || s == DOS_E_INVALID_STATE);
                EXPECT(&r->sh, !dos_job_run_is_live(r->job, run));
                break;
            }
            s = engine_write(r, run, step);
            atomic_fetch_add(&r->steps, 1);
            if (s == DOS_OK)
            {
                atomic_fetch_add(&r->writes, 1);
                continue;
            }
            EXPECT(&r->sh, s == DOS_E_INVALID_STATE);
            atomic_fetch_add(&r->refused, 1);
            /* revoked for good: no later write with it succeeds */
            EXPECT(&r->sh, !dos_job_run_is_live(r->job, run));
            EXPECT(&r->sh, dos_file_record_progress(r->file, run, 1000, 1) == DOS_E_INVALID_STATE);
            EXPECT(&r->sh, dos_job_retry(r->job, run) == DOS_E_INVALID_STATE);
            break;
        }
    }
    atomic_store(&r->ended, 1);
}

static bool picked_up(void *context)
{
    struct race *r = context;
    struct dos_job_info info;
    dos_job_get_info(r->job, &info);
    return info.state != DOS_STATE_QUEUED;
}

static bool engine_ended(void *context)
{
    return atomic_load(&((struct race *)context)->ended) != 0;
}

/* The client: Resume, wait for the engine to take the job up (it tries at once, again and
 * again), Suspend; the engine's run is then dead. An engine that stops trying is deadlocked. */
static void client_rounds(struct race *r)
{
    unsigned i;
    for (i = 0; i < CLIENT_ROUNDS; i++)
    {
        EXPECT(&r->sh, dos_job_resume(r->job) == DOS_OK);
        if (!test_wait_while_progressing(picked_up, r, &r->steps, STALL_MS))
            fail_msg("the engine thread made no progress for %d ms: deadlock", STALL_MS);
        EXPECT(&r->sh, dos_job_suspend(r->job) == DOS_OK);
        /* Only this thread resumes, so no run can have started since Suspend. */
        EXPECT(&r->sh, !dos_job_run_is_live(r->job, atomic_load(&r->published)));
    }
}

static void test_writes_with_a_run_revoked_by_suspend_or_cancel_never_succeed(void **state)
{
    struct dos_store *store = dos_store_create();
    struct dos_file_spec spec;
    struct dos_job_info info;
    static test_thread engine;
    static struct race r;

    (void)state;
    memset(&r, 0, sizeof(r));
    assert_non_null(store);
    assert_int_equal(dos_store_create_job(store, DISPLAY_NAME, DOS_JOB_DOWNLOAD, W(u"owner"), &r.job), DOS_OK);
    memset(&spec, 0, sizeof(spec));
    spec.remote_name = W(u"http://example.com/file.bin");
    spec.local_name = W(u"C:\\downloads\\file.bin");
    spec.file_size = 1000;
    assert_int_equal(dos_job_add_files(r.job, &spec, 1, &r.file), DOS_OK);
    dos_store_set_listener(store, race_listener, &r);

    assert_true(test_thread_create(&engine, engine_main, &r));
    client_rounds(&r);
    assert_int_equal(dos_job_resume(r.job), DOS_OK);
    assert_int_equal(dos_job_cancel(r.job), DOS_OK);
    atomic_store(&r.cancelled, 1);
    assert_false(dos_job_run_is_live(r.job, atomic_load(&r.published)));
    atomic_store(&r.stop, 1);
    if (!test_wait_while_progressing(engine_ended, &r, &r.steps, STALL_MS))
        fail_msg("the engine thread made no progress for %d ms: deadlock", STALL_MS);
    test_thread_join(&engine);
    dos_store_set_listener(store, NULL, NULL);
    assert_no_anomaly(&r.sh);

    dos_job_get_info(r.job, &info);
    assert_int_equal(info.state, DOS_STATE_CANCELLED);
    assert_true(atomic_load(&r.runs) > 0);
    assert_true(atomic_load(&r.writes) > 0);
    assert_true(atomic_load(&r.stopped_events) > 0);
    dos_job_release(r.job);
    dos_store_release(store);
}

/* ---- a job's totals under concurrent progress -------------------------------------- */

enum { TOTAL_FILES = 64, WRITERS = 4, READERS = 2, FILE_BYTES = 1000, STEPS = 3000 };

/* Writers record progress on their own files (file k belongs to writer k % WRITERS) and now
 * and then restart one, as workers of one run would; readers read the job's totals meanwhile.
 * Each writer knows what its files hold at the end. */
struct progress_race
{
    struct shared sh;
    struct dos_job *job;
    struct dos_file **files;
    dos_run run;
    atomic_int writing;
    uint64_t bytes[TOTAL_FILES];   /* each written by its writer only */
};

struct progress_writer
{
    struct progress_race *race;
    unsigned index;
};

static void progress_writer_main(void *arg)
{
    struct progress_writer *w = arg;
    struct progress_race *r = w->race;
    uint64_t seed = w->index + 1;
    unsigned step;

    if (!test_wait(flag_set, &r->sh.go, 60000))
    {
        note_anomaly(&r->sh, __LINE__);
        atomic_fetch_sub(&r->writing, 1);
        return;
    }
    for (step = 0; step < STEPS; step++)
    {
        unsigned k;

        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        k = w->index + WRITERS * ((unsigned)(seed >> 33) % (TOTAL_FILES / WRITERS));
        if (step % 17 == 0)
        {
            EXPECT(&r->sh, dos_file_restart(r->files[k], r->run) == DOS_OK);
            r->bytes[k] = 0;
        }
        else
        {
            uint64_t bytes = r->bytes[k] + (seed >> 40) % 300;
            if (bytes > FILE_BYTES) bytes = FILE_BYTES;
            EXPECT(&r->sh, dos_file_record_progress(r->files[k], r->run, FILE_BYTES, bytes) == DOS_OK);
            r->bytes[k] = bytes;
        }
        atomic_fetch_add(&r->sh.rounds, 1);
    }
    atomic_fetch_sub(&r->writing, 1);
}

static void progress_reader_main(void *arg)
{
    struct progress_race *r = arg;
    struct dos_job_info info;

    if (!test_wait(flag_set, &r->sh.go, 60000))
    {
        note_anomaly(&r->sh, __LINE__);
        return;
    }
    while (atomic_load(&r->writing))
    {
        dos_job_get_info(r->job, &info);
        EXPECT(&r->sh, info.files_total == TOTAL_FILES && info.bytes_total == (uint64_t)TOTAL_FILES * FILE_BYTES);
        EXPECT(&r->sh, info.bytes_transferred <= info.bytes_total && info.files_transferred <= TOTAL_FILES);
        /* A transferred file holds all of its bytes: the counters move together. */
        EXPECT(&r->sh, info.bytes_transferred >= (uint64_t)info.files_transferred * FILE_BYTES);
    }
}

static bool writers_done(void *context)
{
    struct progress_race *r = context;
    return !atomic_load(&r->writing);
}

static void test_job_totals_stay_consistent_under_concurrent_progress(void **state)
{
    struct progress_writer writers[WRITERS];
    test_thread threads[WRITERS + READERS];
    struct dos_file_spec spec;
    struct dos_store *store = dos_store_create();
    struct progress_race *r = calloc(1, sizeof(*r));
    struct dos_job_info info;
    uint64_t bytes = 0;
    uint32_t done = 0;
    size_t count, i;

    (void)state;
    assert_non_null(r);
    assert_int_equal(dos_store_create_job(store, DISPLAY_NAME, DOS_JOB_DOWNLOAD, W(u"owner"), &r->job), DOS_OK);
    memset(&spec, 0, sizeof(spec));
    spec.remote_name = W(u"http://example.com/file.bin");
    spec.local_name = W(u"C:\\downloads\\file.bin");
    spec.file_size = FILE_BYTES;
    for (i = 0; i < TOTAL_FILES; i++) assert_int_equal(dos_job_add_files(r->job, &spec, 1, NULL), DOS_OK);
    assert_int_equal(dos_job_list_files(r->job, &r->files, &count), DOS_OK);
    assert_int_equal(dos_job_resume(r->job), DOS_OK);
    assert_int_equal(dos_job_start_run(r->job, &r->run), DOS_OK);

    atomic_init(&r->writing, WRITERS);
    for (i = 0; i < WRITERS; i++)
    {
        writers[i].race = r;
        writers[i].index = (unsigned)i;
        assert_true(test_thread_create(&threads[i], progress_writer_main, &writers[i]));
    }
    for (i = 0; i < READERS; i++) assert_true(test_thread_create(&threads[WRITERS + i], progress_reader_main, r));
    atomic_store(&r->sh.go, 1);
    if (!test_wait_while_progressing(writers_done, r, &r->sh.rounds, STALL_MS))
        fail_msg("the writers made no progress for %d ms (%u steps done): deadlock", STALL_MS,
                 atomic_load(&r->sh.rounds));
    for (i = 0; i < WRITERS + READERS; i++) test_thread_join(&threads[i]);
    assert_no_anomaly(&r->sh);

    for (i = 0; i < TOTAL_FILES; i++)
    {
        bytes += r->bytes[i];
        done += r->bytes[i] == FILE_BYTES;
    }
    dos_job_get_info(r->job, &info);
    assert_int_equal(info.bytes_transferred, bytes);
    assert_int_equal(info.files_transferred, done);
    free(r->files);
    dos_job_cancel(r->job);
    dos_job_release(r->job);
    dos_store_release(store);
    free(r);
}

/* ---- the listener and the store's lock ------------------------------------------ */

enum { PROBES = 8, PROBE_MS = 10000 };

/* store.h: the listener is called with the store's lock left. Another thread reads the
 * job while the listener waits: with the lock held it could not, and the probe times out. */
struct lock_probe
{
    struct dos_job *job;
    test_thread threads[PROBES];
    unsigned started;
    atomic_int done;
    unsigned calls, timed_out;
};

static void probe_main(void *arg)
{
    struct lock_probe *p = arg;
    struct dos_job_info info;

    dos_job_get_info(p->job, &info);
    atomic_store(&p->done, 1);
}

static void probe_listener(void *context, const struct dos_event *event)
{
    struct lock_probe *p = context;

    p->calls++;
    if (p->started == PROBES) return;
    atomic_store(&p->done, 0);
    if (!test_thread_create(&p->threads[p->started], probe_main, p)) abort();
    p->started++;
    if (!test_wait(flag_set, &p->done, PROBE_MS)) p->timed_out++;
    (void)event;
}

/* The probes join after the store call, when its lock is surely free. */
static void join_probes(struct lock_probe *p)
{
    while (p->started) test_thread_join(&p->threads[--p->started]);
}

static void test_listener_is_called_without_the_store_lock_held(void **state)
{
    struct dos_store *store = dos_store_create();
    struct lock_probe p;
    struct dos_file_spec spec;
    struct dos_file *file = NULL;
    dos_run run;

    (void)state;
    memset(&p, 0, sizeof(p));
    assert_non_null(store);
    assert_int_equal(dos_store_create_job(store, DISPLAY_NAME, DOS_JOB_DOWNLOAD, W(u"owner"), &p.job), DOS_OK);
    memset(&spec, 0, sizeof(spec));
    spec.remote_name = W(u"http://example.com/file.bin");
    spec.local_name = W(u"C:\\downloads\\file.bin");
    spec.file_size = 10;
    dos_store_set_listener(store, probe_listener, &p);

    assert_int_equal(dos_job_add_files(p.job, &spec, 1, &file), DOS_OK);        /* MODIFIED */
    join_probes(&p);
    assert_int_equal(dos_job_resume(p.job), DOS_OK);                            /* RUNNABLE, MODIFIED */
    join_probes(&p);
    assert_int_equal(dos_job_start_run(p.job, &run), DOS_OK);                   /* MODIFIED */
    join_probes(&p);
    assert_int_equal(dos_file_record_progress(file, run, 10, 10), DOS_OK);      /* FILE_TRANSFERRED, MODIFIED */
    join_probes(&p);
    assert_int_equal(dos_job_finish_run(p.job, run), DOS_OK);                   /* TRANSFERRED, MODIFIED */
    join_probes(&p);
    assert_int_equal(dos_job_suspend(p.job), DOS_OK);                           /* MODIFIED */
    join_probes(&p);
    dos_store_set_listener(store, NULL, NULL);

    assert_int_equal(p.calls, 9);
    assert_int_equal(p.timed_out, 0);
    assert_int_equal(dos_job_cancel(p.job), DOS_OK);
    dos_job_release(p.job);
    dos_store_release(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_use_of_one_job_keeps_counts_and_references_consistent),
        cmocka_unit_test(test_cancel_racing_concurrent_use_ends_the_job_and_releases_every_reference),
        cmocka_unit_test(test_writes_with_a_run_revoked_by_suspend_or_cancel_never_succeed),
        cmocka_unit_test(test_job_totals_stay_consistent_under_concurrent_progress),
        cmocka_unit_test(test_listener_is_called_without_the_store_lock_held),
    };
    return cmocka_run_group_tests_name("stress", tests, NULL, NULL);
}
