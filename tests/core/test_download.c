/*
 * IDO downloads in the store (store.h, download.c; docs/ido.md): how a job's
 * state reads as an IDO state with Error and ExtendedError (spec 5.10,
 * clients.md 1.5), Start's checks, and the transitions of Pause, Finalize and
 * Abort. The tests stand in for the engine: progress and errors are written
 * with a live run.
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
    };
    return cmocka_run_group_tests_name("download", tests, NULL, NULL);
}
