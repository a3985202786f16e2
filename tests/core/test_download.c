/*
 * IDO downloads in the store (store.h, download.c; docs/ido.md): how a job's
 * state reads as an IDO state with Error and ExtendedError (spec 5.10,
 * clients.md 1.5), Start's checks, and the transitions of Pause, Finalize and
 * Abort. The tests stand in for the engine: progress and errors are written
 * with a live run. Also the store's answers about the other downloads by
 * LocalPath (docs/store.md invariant 10): which started ones of the owner a
 * Start to a path aborts, and whether a folder a Start made holds another's
 * LocalPath; a random sequence of changes checks them against a walk over
 * every listed download, which is how they were once answered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "test_text.h"

#define URL W(u"http://example.com/file.bin")
#define LOCAL W(u"C:\\downloads\\file.bin")
#define OWNER W(u"S-1-5-21-1000")
#define OTHER_OWNER W(u"S-1-5-21-1001")

#define HR_E_FAIL ((int32_t)0x80004005)
#define HR_NO_PROGRESS ((int32_t)0x80D02002)     /* DO_E_DOWNLOAD_NO_PROGRESS */
#define HR_CONNECT ((int32_t)0x80072EFD)         /* HRESULT_FROM_WIN32(ERROR_INTERNET_CANNOT_CONNECT) */

struct fixture
{
    struct dos_store *store;
    struct dos_job *job;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    assert_non_null(fx->store = dos_store_create());
    assert_int_equal(dos_store_create_download(fx->store, OWNER, &fx->job), DOS_OK);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    dos_job_release(fx->job);
    dos_store_shutdown(fx->store);
    dos_store_release(fx->store);
    free(fx);
    return 0;
}

static void set_text(struct dos_job *job, uint32_t id, const dos_char *text)
{
    struct dos_value value = { .type = DOS_VALUE_TEXT, .u.text = (dos_char *)text };
    struct dos_ref *old = NULL;
    assert_int_equal(dos_download_set_property(job, id, &value, &old), DOS_OK);
    assert_null(old);
}

static struct dos_download_status status_of(struct dos_job *job)
{
    struct dos_download_status status;
    dos_download_get_status(job, &status);
    return status;
}

/* Uri and LocalPath set, started, and taken by a run as the engine would. */
static dos_run start_and_run(struct dos_job *job)
{
    dos_run run;
    set_text(job, DOS_DL_URI, URL);
    set_text(job, DOS_DL_LOCAL_PATH, LOCAL);
    assert_int_equal(dos_download_start(job, NULL, 0, false), DOS_OK);
    assert_int_equal(dos_job_start_run(job, &run), DOS_OK);
    return run;
}

static void assert_status(struct dos_job *job, dos_download_state state, int32_t error, int32_t extended)
{
    struct dos_download_status status = status_of(job);
    assert_int_equal(status.state, state);
    assert_int_equal(status.error, error);
    assert_int_equal(status.extended_error, extended);
}

/* ---- states ---------------------------------------------------------------- */

static void test_new_download_is_created_with_no_error(void **state)
{
    struct fixture *fx = *state;
    assert_status(fx->job, DOS_DL_CREATED, 0, 0);
    assert_int_equal(status_of(fx->job).bytes_total, 0);
}

static void test_started_download_is_transferring(void **state)
{
    struct fixture *fx = *state;
    start_and_run(fx->job);
    assert_status(fx->job, DOS_DL_TRANSFERRING, 0, 0);
}

/* clients.md 1.5: a transient condition is Paused with Error S_OK and the cause in ExtendedError. */
static void test_transient_error_is_paused_with_the_cause_as_extended_error(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_and_run(fx->job);

    assert_int_equal(dos_job_report_error(fx->job, run, true, HR_CONNECT, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    assert_status(fx->job, DOS_DL_PAUSED, 0, HR_CONNECT);
}

/* clients.md 2.1: winget gives up on a failed Error; a fatal error is there. */
static void test_fatal_error_is_paused_with_the_cause_as_error(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_and_run(fx->job);

    assert_int_equal(dos_job_report_error(fx->job, run, false, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    assert_status(fx->job, DOS_DL_PAUSED, HR_E_FAIL, 0);
}

/* clients.md 1.5: no progress for the timeout is Paused(DO_E_DOWNLOAD_NO_PROGRESS, last error). */
static void test_no_progress_timeout_is_no_progress_with_the_cause_as_extended_error(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_and_run(fx->job);

    assert_int_equal(dos_job_report_no_progress(fx->job, run, HR_NO_PROGRESS, HR_CONNECT, DOS_CONTEXT_REMOTE_FILE,
                                                NULL, NULL), DOS_OK);
    assert_status(fx->job, DOS_DL_PAUSED, HR_NO_PROGRESS, HR_CONNECT);
}

/* The BITS side of the same record: GetError still answers the cause. */
static void test_no_progress_timeout_keeps_the_cause_as_the_jobs_error(void **state)
{
    struct fixture *fx = *state;
    struct dos_error_record record;
    dos_run run = start_and_run(fx->job);

    assert_int_equal(dos_job_report_no_progress(fx->job, run, HR_NO_PROGRESS, HR_CONNECT, DOS_CONTEXT_REMOTE_FILE,
                                                NULL, NULL), DOS_OK);
    assert_int_equal(dos_job_get_error(fx->job, &record), DOS_OK);
    assert_int_equal(record.code, HR_CONNECT);
    assert_int_equal(record.summary, HR_NO_PROGRESS);
    dos_error_record_clear(&record);
}

/* A later error of another kind leaves no summary behind. */
static void test_error_after_a_no_progress_timeout_reads_as_itself(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_and_run(fx->job);

    assert_int_equal(dos_job_report_no_progress(fx->job, run, HR_NO_PROGRESS, HR_CONNECT, DOS_CONTEXT_REMOTE_FILE,
                                                NULL, NULL), DOS_OK);
    assert_int_equal(dos_download_start(fx->job, NULL, 0, false), DOS_OK);
    assert_int_equal(dos_job_start_run(fx->job, &run), DOS_OK);
    assert_int_equal(dos_job_report_error(fx->job, run, true, HR_E_FAIL, DOS_CONTEXT_REMOTE_FILE, NULL, NULL), DOS_OK);
    assert_status(fx->job, DOS_DL_PAUSED, 0, HR_E_FAIL);
}

static void test_no_progress_report_needs_a_failure_summary(void **state)
{
    struct fixture *fx = *state;
    dos_run run = start_and_run(fx->job);

    assert_int_equal(dos_job_report_no_progress(fx->job, run, 0, HR_CONNECT, DOS_CONTEXT_REMOTE_FILE, NULL, NULL),
                     DOS_E_INVALID_ARG);
    assert_status(fx->job, DOS_DL_TRANSFERRING, 0, 0);
}

/* ---- Start, Pause, Finalize, Abort (spec 5.10, clients.md 1.5) --------------- */

static void test_start_without_a_uri_fails_with_no_uri(void **state)
{
    struct fixture *fx = *state;
    set_text(fx->job, DOS_DL_LOCAL_PATH, LOCAL);
    assert_int_equal(dos_download_start(fx->job, NULL, 0, false), DOS_E_NO_URI);
    assert_status(fx->job, DOS_DL_CREATED, 0, 0);
}

static void test_start_without_a_sink_fails_with_sink_unspecified(void **state)
{
    struct fixture *fx = *state;
    set_text(fx->job, DOS_DL_URI, URL);
    assert_int_equal(dos_download_start(fx->job, NULL, 0, false), DOS_E_SINK_UNSPECIFIED);
    assert_status(fx->job, DOS_DL_CREATED, 0, 0);
}

static void test_pause_of_a_created_download_changes_nothing(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(dos_download_pause(fx->job), DOS_OK);
    assert_status(fx->job, DOS_DL_CREATED, 0, 0);
}

static void test_pause_of_a_transferring_download_pauses_it(void **state)
{
    struct fixture *fx = *state;
    start_and_run(fx->job);
    assert_int_equal(dos_download_pause(fx->job), DOS_OK);
    assert_status(fx->job, DOS_DL_PAUSED, 0, 0);
}

static void test_finalize_before_transferred_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    start_and_run(fx->job);
    assert_int_equal(dos_download_begin_finish(fx->job, DOS_STATE_ACKNOWLEDGED), DOS_E_INVALID_STATE);
    assert_status(fx->job, DOS_DL_TRANSFERRING, 0, 0);
}

static void test_start_after_abort_fails_with_invalid_state(void **state)
{
    struct fixture *fx = *state;
    start_and_run(fx->job);
    assert_int_equal(dos_download_begin_finish(fx->job, DOS_STATE_CANCELLED), DOS_OK);
    assert_int_equal(dos_job_end_finish(fx->job, DOS_STATE_CANCELLED, NULL), DOS_OK);
    assert_status(fx->job, DOS_DL_ABORTED, 0, 0);
    assert_int_equal(dos_download_start(fx->job, NULL, 0, false), DOS_E_INVALID_STATE);
}

/* ---- what reaches the wire, and the size once known (issue 9 defect 6) ------------------------- */

static void assert_wire_headers(struct dos_job *job, enum dos_job_text which, const dos_char *expected)
{
    dos_char *text = NULL;
    dos_status s = dos_job_copy_text(job, which, malloc, &text);

    if (!expected) assert_int_equal(s, DOS_E_NOT_SET);
    else
    {
        assert_int_equal(s, DOS_OK);
        assert_wstr_equal(text, expected);
    }
    free(text);
}

/* DoSvc takes LF line ends and a last line without one (the DO SDK's test sets such text); the
 * engine gets only "name: value" lines, each ended by CRLF, and no line that is no header. */
static void test_custom_headers_reach_the_engine_as_crlf_lines_of_name_and_value(void **state)
{
    struct fixture *fx = *state;

    set_text(fx->job, DOS_DL_HTTP_CUSTOM_HEADERS, W(u"XCustom1=someData\nX-Lf: lf value\n\n  folded\r\nX-Last:last"));
    assert_wire_headers(fx->job, DOS_JOB_CUSTOM_HEADERS, W(u"X-Lf: lf value\r\nX-Last:last\r\n"));
    set_text(fx->job, DOS_DL_HTTP_CUSTOM_AUTH_HEADERS, W(u"Authorization: Basic eDp5\n"));
    assert_wire_headers(fx->job, DOS_JOB_CUSTOM_AUTH_HEADERS, W(u"Authorization: Basic eDp5\r\n"));
}

/* "XCustom1=someData\nXCustom2=moreData" is taken, and sends nothing: neither line is a header. */
static void test_custom_headers_of_no_header_line_are_taken_and_send_none(void **state)
{
    struct fixture *fx = *state;

    set_text(fx->job, DOS_DL_HTTP_CUSTOM_HEADERS, W(u"XCustom1=someData\nXCustom2=moreData"));
    assert_wire_headers(fx->job, DOS_JOB_CUSTOM_HEADERS, NULL);
}

/* Each text of bad is refused by both header properties, and what goes on the wire stays as it was. */
static void assert_header_texts_refused(struct dos_job *job, const dos_char *const *bad, size_t count)
{
    static const uint32_t ids[] = { DOS_DL_HTTP_CUSTOM_HEADERS, DOS_DL_HTTP_CUSTOM_AUTH_HEADERS };
    static const enum dos_job_text texts[] = { DOS_JOB_CUSTOM_HEADERS, DOS_JOB_CUSTOM_AUTH_HEADERS };
    struct dos_ref *old = NULL;
    size_t i, k;

    for (k = 0; k < 2; k++)
    {
        set_text(job, ids[k], W(u"X-Keep: kept"));
        for (i = 0; i < count; i++)
        {
            struct dos_value value = { .type = DOS_VALUE_TEXT, .u.text = (dos_char *)bad[i] };
            if (dos_download_set_property(job, ids[k], &value, &old) != DOS_E_INVALID_ARG)
            {
                char text[128];
                fail_msg("header text \"%s\" was not refused", test_narrow(bad[i], text, sizeof(text)));
            }
        }
        assert_wire_headers(job, texts[k], W(u"X-Keep: kept\r\n"));
    }
}

static void test_custom_headers_with_a_bare_cr_or_a_control_character_are_refused(void **state)
{
    struct fixture *fx = *state;
    const dos_char *bad[] = { W(u"X: a\rb"), W(u"X: a\r"), W(u"X: a\x01" u"b"), W(u"X: a\x7f") };

    assert_header_texts_refused(fx->job, bad, sizeof(bad) / sizeof(bad[0]));
}

/* One rule for both APIs (headers.h): the fields dosvc frames, resumes and keeps its connection
 * with are its own. A second Host, a body's framing on a GET or a Range beside resume's own
 * would make a request the server reads otherwise than dosvc. */
static void test_custom_headers_naming_a_field_the_transport_owns_are_refused(void **state)
{
    struct fixture *fx = *state;
    const dos_char *bad[] = {
        W(u"Host: evil.example\nContent-Length: 5\nTransfer-Encoding: chunked"), W(u"Range: bytes=0-0"),
        W(u"X-Ok: 1\nhost: evil.example"), W(u"CONTENT-LENGTH: 5"), W(u"Connection: close"), W(u"Keep-Alive: 5"),
        W(u"Proxy-Connection: close"), W(u"TE: trailers"), W(u"Trailer: X"), W(u"Upgrade: h2c"),
        W(u"Expect: 100-continue"), W(u"If-Range: \"v1\""), W(u"XCustom1=someData\nrange:bytes=5-"),
    };

    assert_header_texts_refused(fx->job, bad, sizeof(bad) / sizeof(bad[0]));
}

/* A line with a colon is a field, and a field's name is a token (RFC 9110 5.6.2): no blank
 * before or in it, nothing outside the token characters, never empty. */
static void test_custom_headers_with_a_field_name_that_is_no_token_are_refused(void **state)
{
    struct fixture *fx = *state;
    const dos_char *bad[] = {
        W(u"Bad Name: v"), W(u"a b c: d"), W(u"X-Ok: 1\n  folded: v"), W(u"X-One : 1"), W(u": v"),
        W(u"X\t: v"), W(u"(x): v"), W(u"X\u00e9: v"), W(u"XCustom1=some:Data"),
    };

    assert_header_texts_refused(fx->job, bad, sizeof(bad) / sizeof(bad[0]));
}

/* TotalSizeBytes reads the file's size once the server gave it. */
static void test_total_size_reads_the_size_the_server_gave(void **state)
{
    struct fixture *fx = *state;
    struct dos_file **files;
    struct dos_value value;
    size_t count;
    dos_run run;

    assert_int_equal(dos_download_get_property(fx->job, DOS_DL_TOTAL_SIZE_BYTES, malloc, &value), DOS_E_NOT_SET);
    run = start_and_run(fx->job);
    assert_int_equal(dos_download_get_property(fx->job, DOS_DL_TOTAL_SIZE_BYTES, malloc, &value), DOS_E_NOT_SET);
    assert_int_equal(dos_job_list_files(fx->job, &files, &count), DOS_OK);
    assert_int_equal(count, 1);
    assert_int_equal(dos_file_record_progress(files[0], run, 1837, 100), DOS_OK);
    free(files);
    assert_int_equal(dos_download_get_property(fx->job, DOS_DL_TOTAL_SIZE_BYTES, malloc, &value), DOS_OK);
    assert_int_equal(value.type, DOS_VALUE_U64);
    assert_true(value.u.u64 == 1837);
}

/* Nothing verifies pieces or decrypts: these ids read as unknown both ways, as on a DO without them. */
static void test_decryption_and_integrity_properties_are_unknown(void **state)
{
    static const uint32_t ids[] = { DOS_DL_DECRYPTION_INFO, DOS_DL_INTEGRITY_CHECK_INFO, DOS_DL_INTEGRITY_CHECK_MANDATORY };
    enum dos_value_type type;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
    {
        assert_int_equal(dos_download_property_type(ids[i], true, &type), DOS_E_UNKNOWN_PROPERTY);
        assert_int_equal(dos_download_property_type(ids[i], false, &type), DOS_E_UNKNOWN_PROPERTY);
    }
}

/* ---- other downloads by LocalPath (docs/store.md invariant 10) ------------------------------- */

/* A download of owner with a Uri and LocalPath path (none if NULL), not started. */
static struct dos_job *download_at(struct fixture *fx, const dos_char *owner, const dos_char *path)
{
    struct dos_job *job;
    assert_int_equal(dos_store_create_download(fx->store, owner, &job), DOS_OK);
    set_text(job, DOS_DL_URI, URL);
    if (path) set_text(job, DOS_DL_LOCAL_PATH, path);
    return job;
}

static struct dos_job *started_at(struct fixture *fx, const dos_char *owner, const dos_char *path)
{
    struct dos_job *job = download_at(fx, owner, path);
    assert_int_equal(dos_download_start(job, NULL, 0, false), DOS_OK);
    return job;
}

static void abort_download(struct dos_job *job)
{
    assert_int_equal(dos_download_begin_finish(job, DOS_STATE_CANCELLED), DOS_OK);
    assert_int_equal(dos_job_end_finish(job, DOS_STATE_CANCELLED, NULL), DOS_OK);
}

/* What dos_download_list_others_at_path gives for job: how many, and the first in *first. */
static size_t others_at_path(struct dos_job *job, struct dos_job **first)
{
    struct dos_job **jobs;
    size_t count;

    assert_int_equal(dos_download_list_others_at_path(job, &jobs, &count), DOS_OK);
    if (first) *first = count ? jobs[0] : NULL;
    dos_jobs_release(jobs, count);
    return count;
}

/* The others at a path: clients.md 1.4, DoSvc aborts them. */

static void test_a_started_download_of_the_owner_at_the_path_is_found_whatever_the_case(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *first = started_at(fx, OWNER, W(u"C:\\downloads\\same.bin"));
    struct dos_job *second = started_at(fx, OWNER, W(u"c:\\DOWNLOADS\\Same.BIN"));
    struct dos_job *found;

    assert_int_equal(others_at_path(second, &found), 1);
    assert_ptr_equal(found, first);
    dos_job_release(first);
    dos_job_release(second);
}

/* Two at one path, for the moment before the second's Start aborts the first: each finds the other. */
static void test_each_of_two_started_downloads_at_one_path_finds_the_other(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *first = started_at(fx, OWNER, W(u"C:\\downloads\\same.bin"));
    struct dos_job *second = started_at(fx, OWNER, W(u"C:\\downloads\\same.bin"));
    struct dos_job *found;

    assert_int_equal(others_at_path(first, &found), 1);
    assert_ptr_equal(found, second);
    assert_int_equal(others_at_path(second, &found), 1);
    assert_ptr_equal(found, first);
    dos_job_release(first);
    dos_job_release(second);
}

static void test_a_download_not_started_is_not_found_at_its_path(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *created = download_at(fx, OWNER, W(u"C:\\downloads\\same.bin"));
    struct dos_job *started = started_at(fx, OWNER, W(u"C:\\downloads\\same.bin"));

    assert_int_equal(others_at_path(started, NULL), 0);
    dos_job_release(created);
    dos_job_release(started);
}

/* Nobody aborts another user's download by naming its path. */
static void test_another_owners_download_is_not_found_at_the_path(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *theirs = started_at(fx, OTHER_OWNER, W(u"C:\\downloads\\same.bin"));
    struct dos_job *mine = started_at(fx, OWNER, W(u"C:\\downloads\\same.bin"));

    assert_int_equal(others_at_path(mine, NULL), 0);
    assert_int_equal(others_at_path(theirs, NULL), 0);
    dos_job_release(theirs);
    dos_job_release(mine);
}

static void test_an_aborted_download_is_not_found_at_its_path(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *first = started_at(fx, OWNER, W(u"C:\\downloads\\same.bin"));
    struct dos_job *second = started_at(fx, OWNER, W(u"C:\\downloads\\same.bin"));

    abort_download(first);
    assert_int_equal(others_at_path(second, NULL), 0);
    dos_job_release(first);
    dos_job_release(second);
}

static void test_a_download_at_another_path_is_not_found(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *first = started_at(fx, OWNER, W(u"C:\\downloads\\one.bin"));
    struct dos_job *second = started_at(fx, OWNER, W(u"C:\\downloads\\one.bin.part"));

    assert_int_equal(others_at_path(second, NULL), 0);
    dos_job_release(first);
    dos_job_release(second);
}

/* Windows compares file names without regard to case beyond ASCII too. */
static void test_paths_that_differ_in_the_case_of_a_letter_beyond_ascii_are_one(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *first = started_at(fx, OWNER, W(u"C:\\\u00e4rger\\\u03b1.bin"));
    struct dos_job *second = started_at(fx, OWNER, W(u"C:\\\u00c4RGER\\\u0391.BIN"));

    assert_int_equal(others_at_path(second, NULL), 1);
    dos_job_release(first);
    dos_job_release(second);
}

/* The folders LocalPaths lie in: Abort leaves them. */

static void test_every_folder_a_listed_local_path_lies_in_is_needed_whatever_the_case(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *other = download_at(fx, OTHER_OWNER, W(u"C:\\a\\b\\file.bin"));
    struct dos_job *job = download_at(fx, OWNER, NULL);

    assert_true(dos_download_folder_needed(job, W(u"C:\\a")));
    assert_true(dos_download_folder_needed(job, W(u"c:\\A\\B")));
    assert_true(dos_download_folder_needed(job, W(u"C:")));
    dos_job_release(other);
    dos_job_release(job);
}

static void test_a_folder_no_listed_local_path_lies_in_is_not_needed(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *other = download_at(fx, OWNER, W(u"C:\\a\\b\\file.bin"));
    struct dos_job *job = download_at(fx, OWNER, NULL);

    assert_false(dos_download_folder_needed(job, W(u"C:\\a\\bb")));
    assert_false(dos_download_folder_needed(job, W(u"C:\\a\\b\\file.bin")));
    assert_false(dos_download_folder_needed(job, W(u"C:\\b")));
    assert_false(dos_download_folder_needed(job, W(u"D:")));
    dos_job_release(other);
    dos_job_release(job);
}

/* The download that asks (its own Abort) does not keep its folder. */
static void test_the_asking_downloads_own_local_path_does_not_make_its_folder_needed(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *job = started_at(fx, OWNER, W(u"C:\\made\\deeper\\file.bin"));
    struct dos_job *beside;

    assert_false(dos_download_folder_needed(job, W(u"C:\\made\\deeper")));
    assert_false(dos_download_folder_needed(job, W(u"C:\\made")));
    beside = download_at(fx, OWNER, W(u"C:\\made\\other.bin"));
    assert_true(dos_download_folder_needed(job, W(u"C:\\made")));
    assert_false(dos_download_folder_needed(job, W(u"C:\\made\\deeper")));
    dos_job_release(job);
    dos_job_release(beside);
}

static void test_a_folder_is_not_needed_once_its_download_moved_elsewhere(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *other = download_at(fx, OWNER, W(u"C:\\a\\file.bin"));
    struct dos_job *job = download_at(fx, OWNER, NULL);

    set_text(other, DOS_DL_LOCAL_PATH, W(u"D:\\b\\file.bin"));
    assert_false(dos_download_folder_needed(job, W(u"C:\\a")));
    assert_true(dos_download_folder_needed(job, W(u"D:\\b")));
    dos_job_release(other);
    dos_job_release(job);
}

static void test_a_folder_is_not_needed_once_its_download_was_aborted(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *other = started_at(fx, OWNER, W(u"C:\\a\\file.bin"));
    struct dos_job *job = download_at(fx, OWNER, NULL);

    abort_download(other);
    assert_false(dos_download_folder_needed(job, W(u"C:\\a")));
    dos_job_release(other);
    dos_job_release(job);
}

static void test_a_folder_two_local_paths_lie_in_is_needed_until_both_left(void **state)
{
    struct fixture *fx = *state;
    struct dos_job *one = download_at(fx, OWNER, W(u"C:\\a\\one.bin"));
    struct dos_job *two = download_at(fx, OWNER, W(u"C:\\A\\two.bin"));
    struct dos_job *job = download_at(fx, OWNER, NULL);

    abort_download(one);
    assert_true(dos_download_folder_needed(job, W(u"C:\\a")));
    abort_download(two);
    assert_false(dos_download_folder_needed(job, W(u"C:\\a")));
    dos_job_release(one);
    dos_job_release(two);
    dos_job_release(job);
}

/* Against a walk, over a random sequence of changes. */

static dos_char ascii_upper(dos_char c) { return c >= 'a' && c <= 'z' ? (dos_char)(c - 'a' + 'A') : c; }

/* a's first n units (all of it for n SIZE_MAX) are b's, without regard to ASCII case. */
static bool same_ci(const dos_char *a, const dos_char *b, size_t n)
{
    size_t i;
    for (i = 0; i < n && (a[i] || b[i]); i++)
        if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
    return true;
}

static bool owned_by(struct dos_job *job, const dos_char *owner)
{
    dos_char *text = NULL;
    bool same;
    assert_int_equal(dos_job_copy_text(job, DOS_JOB_OWNER, malloc, &text), DOS_OK);
    same = test_wstr_equal(text, owner);
    free(text);
    return same;
}

/* What the walk says: started downloads of job's owner but job at job's LocalPath, and
 * whether another listed download's LocalPath lies in folder. */
static void walk(struct dos_store *store, struct dos_job *job, const dos_char *folder, size_t *at_path, bool *needed)
{
    struct dos_value own, other;
    struct dos_job **jobs;
    dos_char *owner = NULL;
    size_t count, i, len = test_wlen(folder);
    bool has_own = dos_download_get_property(job, DOS_DL_LOCAL_PATH, malloc, &own) == DOS_OK;

    assert_int_equal(dos_job_copy_text(job, DOS_JOB_OWNER, malloc, &owner), DOS_OK);
    assert_int_equal(dos_store_list_downloads(store, NULL, &jobs, &count), DOS_OK);
    *at_path = 0;
    *needed = false;
    for (i = 0; i < count; i++)
    {
        struct dos_download_status status;
        if (jobs[i] == job || dos_download_get_property(jobs[i], DOS_DL_LOCAL_PATH, malloc, &other) != DOS_OK) continue;
        dos_download_get_status(jobs[i], &status);
        if (has_own && status.state != DOS_DL_CREATED && owned_by(jobs[i], owner)
            && same_ci(other.u.text, own.u.text, SIZE_MAX))
            ++*at_path;
        if (test_wlen(other.u.text) > len && other.u.text[len] == '\\' && same_ci(other.u.text, folder, len))
            *needed = true;
        dos_download_value_clear(&other, free);
    }
    if (has_own) dos_download_value_clear(&own, free);
    dos_jobs_release(jobs, count);
    free(owner);
}

static void test_answers_agree_with_a_walk_over_every_listed_download(void **state)
{
    static const dos_char *const paths[] = {
        W(u"C:\\a\\f.bin"), W(u"c:\\A\\F.BIN"), W(u"C:\\a\\b\\g.bin"), W(u"C:\\A\\B\\G.BIN"), W(u"C:\\b\\f.bin"),
        W(u"D:\\a\\f.bin"),
    };
    static const dos_char *const folders[] = {
        W(u"C:"), W(u"C:\\a"), W(u"c:\\A\\b"), W(u"C:\\b"), W(u"D:\\A"), W(u"C:\\a\\f.bin"),
    };
    enum { POOL = 8, STEPS = 3000 };
    struct fixture *fx = *state;
    struct dos_job *pool[POOL];
    unsigned seed = 1, step, i;
    bool needed;
    size_t at_path;

    for (i = 0; i < POOL; i++) pool[i] = download_at(fx, i % 2 ? OTHER_OWNER : OWNER, NULL);
    for (step = 0; step < STEPS; step++)
    {
        struct dos_job *job;
        struct dos_download_status status;
        struct dos_value value = { .type = DOS_VALUE_TEXT };
        struct dos_ref *old = NULL;

        seed = seed * 1103515245u + 12345u;
        i = (seed >> 16) % POOL;
        job = pool[i];
        dos_download_get_status(job, &status);
        switch ((seed >> 8) % 5)
        {
        case 0:
        case 1:       /* a new LocalPath: taken only while Created */
            value.u.text = (dos_char *)paths[(seed >> 20) % 6];
            dos_download_set_property(job, DOS_DL_LOCAL_PATH, &value, &old);
            break;
        case 2:
            dos_download_start(job, NULL, 0, false);
            break;
        case 3:       /* Abort, and a new download in its place */
            if (status.state == DOS_DL_CREATED && (seed >> 20) % 2) break;
            if (dos_download_begin_finish(job, DOS_STATE_CANCELLED) == DOS_OK)
                assert_int_equal(dos_job_end_finish(job, DOS_STATE_CANCELLED, NULL), DOS_OK);
            dos_job_release(job);
            pool[i] = download_at(fx, (seed >> 24) % 2 ? OTHER_OWNER : OWNER, NULL);
            break;
        default:
            dos_download_pause(job);
            break;
        }
        for (i = 0; i < POOL; i++)
        {
            const dos_char *folder = folders[(seed >> 12) % 6];
            walk(fx->store, pool[i], folder, &at_path, &needed);
            assert_int_equal(others_at_path(pool[i], NULL), at_path);
            assert_int_equal(dos_download_folder_needed(pool[i], folder), needed);
        }
    }
    for (i = 0; i < POOL; i++) dos_job_release(pool[i]);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_new_download_is_created_with_no_error),
        TEST(test_started_download_is_transferring),
        TEST(test_transient_error_is_paused_with_the_cause_as_extended_error),
        TEST(test_fatal_error_is_paused_with_the_cause_as_error),
        TEST(test_no_progress_timeout_is_no_progress_with_the_cause_as_extended_error),
        TEST(test_no_progress_timeout_keeps_the_cause_as_the_jobs_error),
        TEST(test_error_after_a_no_progress_timeout_reads_as_itself),
        TEST(test_no_progress_report_needs_a_failure_summary),
        TEST(test_start_without_a_uri_fails_with_no_uri),
        TEST(test_start_without_a_sink_fails_with_sink_unspecified),
        TEST(test_pause_of_a_created_download_changes_nothing),
        TEST(test_pause_of_a_transferring_download_pauses_it),
        TEST(test_finalize_before_transferred_fails_with_invalid_state),
        TEST(test_start_after_abort_fails_with_invalid_state),
        TEST(test_custom_headers_reach_the_engine_as_crlf_lines_of_name_and_value),
        TEST(test_custom_headers_of_no_header_line_are_taken_and_send_none),
        TEST(test_custom_headers_with_a_bare_cr_or_a_control_character_are_refused),
        TEST(test_custom_headers_naming_a_field_the_transport_owns_are_refused),
        TEST(test_custom_headers_with_a_field_name_that_is_no_token_are_refused),
        TEST(test_total_size_reads_the_size_the_server_gave),
        TEST(test_decryption_and_integrity_properties_are_unknown),
        TEST(test_a_started_download_of_the_owner_at_the_path_is_found_whatever_the_case),
        TEST(test_each_of_two_started_downloads_at_one_path_finds_the_other),
        TEST(test_a_download_not_started_is_not_found_at_its_path),
        TEST(test_another_owners_download_is_not_found_at_the_path),
        TEST(test_an_aborted_download_is_not_found_at_its_path),
        TEST(test_a_download_at_another_path_is_not_found),
        TEST(test_paths_that_differ_in_the_case_of_a_letter_beyond_ascii_are_one),
        TEST(test_every_folder_a_listed_local_path_lies_in_is_needed_whatever_the_case),
        TEST(test_a_folder_no_listed_local_path_lies_in_is_not_needed),
        TEST(test_the_asking_downloads_own_local_path_does_not_make_its_folder_needed),
        TEST(test_a_folder_is_not_needed_once_its_download_moved_elsewhere),
        TEST(test_a_folder_is_not_needed_once_its_download_was_aborted),
        TEST(test_a_folder_two_local_paths_lie_in_is_needed_until_both_left),
        TEST(test_answers_agree_with_a_walk_over_every_listed_download),
    };
    return cmocka_run_group_tests_name("download", tests, NULL, NULL);
}
