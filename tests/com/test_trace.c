/*
 * The trace switch as a user meets it (README "Tracing", DESIGN rule 8): this program runs
 * with DOSVC_TRACE=all and DOSVC_TRACE_FILE set (tests/com/CMakeLists.txt), and each test
 * reads back the lines that dosvc wrote for what the test did. A failed job must leave enough
 * there to say why it failed.
 */
#include "com_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE(s) DOSVC_STATE(BG_JOB_STATE_##s)
#define SETTLED (STATE(TRANSFERRED) | STATE(ERROR) | STATE(CANCELLED) | STATE(ACKNOWLEDGED))

static IBackgroundCopyManager *manager;
static char trace_path[MAX_PATH];

static int setup_group(void **state)
{
    if (!GetEnvironmentVariableA("DOSVC_TRACE_FILE", trace_path, sizeof(trace_path))) return -1;
    DeleteFileA(trace_path);   /* from an earlier run; dosvc opens it at its first line */
    return dosvc_setup_manager(&manager);
}

static int teardown_group(void **state)
{
    dosvc_cleanup(manager);
    return dosvc_teardown_manager(&manager);
}

/* The trace file's text so far (malloc'd, NUL-terminated). */
static char *trace_text(void)
{
    HANDLE file = CreateFileA(trace_path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                              OPEN_EXISTING, 0, NULL);
    DWORD size, got = 0;
    char *text;

    assert_true(file != INVALID_HANDLE_VALUE);
    size = GetFileSize(file, NULL);
    assert_non_null(text = malloc(size + 1));
    assert_true(ReadFile(file, text, size, &got, NULL));
    text[got] = 0;
    CloseHandle(file);
    return text;
}

/* The first line of text that contains every one of the NULL-ended words, or NULL. */
static const char *line_with(const char *text, ...)
{
    const char *line = text;

    while (line && *line)
    {
        const char *end = strchr(line, '\n'), *word;
        size_t length = end ? (size_t)(end - line) : strlen(line);
        char *copy = malloc(length + 1);
        BOOL all = TRUE;
        va_list words;

        memcpy(copy, line, length);
        copy[length] = 0;
        va_start(words, text);
        while (all && (word = va_arg(words, const char *))) all = strstr(copy, word) != NULL;
        va_end(words);
        free(copy);
        if (all) return line;
        line = end ? end + 1 : NULL;
    }
    return NULL;
}

static void print_trace_on_failure(const char *text, BOOL ok)
{
    if (!ok) print_message("the trace:\n%s\n", text);
}

/* A unique mark for this test's URLs. */
static const char *new_mark(WCHAR wide[32])
{
    static char mark[32];
    static LONG count;
    swprintf(wide, 32, L"tr%lu-%ld", GetCurrentProcessId(), InterlockedIncrement(&count));
    WideCharToMultiByte(CP_UTF8, 0, wide, -1, mark, sizeof(mark), NULL, NULL);
    return mark;
}

static const char *guid_text(const GUID *id)
{
    static char text[40];
    snprintf(text, sizeof(text), "{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", (unsigned long)id->Data1,
             id->Data2, id->Data3, id->Data4[0], id->Data4[1], id->Data4[2], id->Data4[3], id->Data4[4], id->Data4[5],
             id->Data4[6], id->Data4[7]);
    return text;
}

/* A job of the test's with one file from the server path (a printf format for the mark), and
 * its id as trace lines write it. */
static IBackgroundCopyJob *traced_job(const WCHAR *name, const WCHAR *format, const WCHAR *mark, const WCHAR *local,
                                      char id[40])
{
    IBackgroundCopyJob *job;
    GUID job_id;

    job = dosvc_create_job(manager, name, &job_id);
    lstrcpynA(id, guid_text(&job_id), 40);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, dosvc_url(format, mark), dosvc_test_path(local)));
    return job;
}

/* The issue's own check: a job that fails on a 404 shows the request, the response and the error. */
static void test_a_job_failing_on_a_404_leaves_its_request_response_and_error_in_the_trace(void **state)
{
    WCHAR wide[32];
    const char *mark = new_mark(wide);
    char *text, id[40];
    IBackgroundCopyJob *job = traced_job(L"trace 404", L"/gen/1k?fault=404&m=%s", wide, L"trace-404.bin", id);
    BOOL ok;

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_int_equal(dosvc_wait_for_state(job, SETTLED, 30000), BG_JOB_STATE_ERROR);

    text = trace_text();
    ok = line_with(text, " http request: GET ", mark, "(direct)", NULL)
         && line_with(text, " http response: 404", NULL)
         && line_with(text, " engine ", "0x80190194", "context 5", "fatal", NULL)
         && line_with(text, " store ", id, "error 0x80190194", "context 5", "file 0", NULL)
         && line_with(text, " com job_Resume: (", NULL);
    print_trace_on_failure(text, ok);
    assert_true(ok);
    free(text);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    IBackgroundCopyJob_Release(job);
}

static void test_a_com_method_traces_its_arguments_on_entry_and_its_hresult_on_exit(void **state)
{
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"trace arguments", NULL);
    char *text;
    BOOL ok;

    assert_hr(S_OK, IBackgroundCopyJob_SetDescription(job, L"described \"quoted\"\r\n"));
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_GetDisplayName(job, NULL));
    text = trace_text();
    ok = line_with(text, " com job_SetDescription: (", "\"described \\\"quoted\\\"\\r\\n\")", NULL)
         && line_with(text, " com job_GetDisplayName: (", ", 0000000000000000)", NULL)
         && line_with(text, " com job_GetDisplayName: -> 0x80070057", NULL)
         && line_with(text, " com job_SetDescription: -> 0x00000000", NULL);
    print_trace_on_failure(text, ok);
    assert_true(ok);
    free(text);
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    IBackgroundCopyJob_Release(job);
}

/* A resumed file's request says where it resumes and which version it asks for. */
static void test_a_resumed_request_traces_its_range_and_if_range(void **state)
{
    WCHAR wide[32];
    const char *mark = new_mark(wide);
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"trace resume", NULL);
    char *text;
    BOOL ok;

    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job,
        dosvc_url(L"/gen/256k?seed=tr&m=%s&fault=truncate&after=100000&times=1&key=%s", wide, wide),
        dosvc_test_path(L"trace-resume.bin")));
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 1));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_int_equal(dosvc_wait_for_state(job, SETTLED, 30000), BG_JOB_STATE_TRANSFERRED);
    text = trace_text();
    ok = line_with(text, " http request: GET ", mark, "Range: bytes=100000-", "If-Range: ", NULL)
         && line_with(text, " http response: 206", "Content-Range \"bytes 100000-262143/262144\"", NULL);
    print_trace_on_failure(text, ok);
    assert_true(ok);
    free(text);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    IBackgroundCopyJob_Release(job);
}

/* A run's start, its transient error with the delay before the retry, the retry and the finish. */
static void test_a_retried_job_traces_its_run_the_retry_with_its_delay_and_its_finish(void **state)
{
    WCHAR wide[32];
    const char *mark = new_mark(wide);
    char *text, id[40];
    IBackgroundCopyJob *job = traced_job(L"trace retry", L"/gen/1k?seed=rt&fault=500&times=1&key=%s", wide,
                                         L"trace-retry.bin", id);
    BOOL ok;

    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 1));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_int_equal(dosvc_wait_for_state(job, SETTLED, 30000), BG_JOB_STATE_TRANSFERRED);
    text = trace_text();
    ok = line_with(text, " engine ", id, " starts: 1 files", NULL)
         && line_with(text, " engine ", id, "file 0: ", mark, "0 bytes on disk", NULL)
         && line_with(text, " engine ", id, "0x801901f4 is transient: retry in 1000 ms", NULL)
         && line_with(text, " engine ", id, " retries, ", "ms after the error", NULL)
         && line_with(text, " engine ", id, " finished: every file is on disk", NULL);
    print_trace_on_failure(text, ok);
    assert_true(ok);
    free(text);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    IBackgroundCopyJob_Release(job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_job_failing_on_a_404_leaves_its_request_response_and_error_in_the_trace),
        cmocka_unit_test(test_a_com_method_traces_its_arguments_on_entry_and_its_hresult_on_exit),
        cmocka_unit_test(test_a_resumed_request_traces_its_range_and_if_range),
        cmocka_unit_test(test_a_retried_job_traces_its_run_the_retry_with_its_delay_and_its_finish),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
