/*
 * The trace switch (src/core/trace.h, DESIGN rule 8): off by default, channels named by
 * DOSVC_TRACE, lines to DOSVC_TRACE_FILE, arguments not evaluated while off, and the
 * helpers that show wide strings and GUIDs.
 */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L   /* setenv */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "port.h"
#include "trace.h"

#define W(s) ((const dos_char *)(s))
#define BIT(c) (1u << (c))

static char trace_path[256];

static void set_env(const char *name, const char *value)
{
#ifdef _WIN32
    _putenv_s(name, value);
#else
    setenv(name, value, 1);
#endif
}

/* The trace file's whole text; free() it. */
static char *trace_text(void)
{
    FILE *f = fopen(trace_path, "rb");
    char *text;
    long size;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = calloc(1, (size_t)size + 1);
    assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    return text;
}

static int evaluations;
static int evaluated(void) { return ++evaluations; }

/* Runs first: nothing has traced yet, so the first trace point reads the environment. */
static void test_the_first_trace_point_reads_dosvc_trace_and_dosvc_trace_file(void **state)
{
    char *text;

    set_env("DOSVC_TRACE", "http,store");
    set_env("DOSVC_TRACE_FILE", trace_path);
    assert_true(dos_trace_on(DOS_TRACE_HTTP));
    assert_true(dos_trace_on(DOS_TRACE_STORE));
    assert_false(dos_trace_on(DOS_TRACE_COM));
    TRACE_HTTP("GET %s", "http://127.0.0.1/x");
    TRACE_COM("not traced %d", evaluated());
    text = trace_text();
    assert_non_null(strstr(text, " http test_the_first_trace_point_reads_dosvc_trace_and_dosvc_trace_file: GET http://127.0.0.1/x\n"));
    assert_null(strstr(text, "not traced"));
    assert_int_equal(evaluations, 0);
    free(text);
}

static void test_channel_names_parse_to_their_bits(void **state)
{
    assert_int_equal(dos_trace_parse("com"), BIT(DOS_TRACE_COM));
    assert_int_equal(dos_trace_parse("com,engine,http,tls,store,notify"), BIT(DOS_TRACE_CHANNELS) - 1);
    assert_int_equal(dos_trace_parse("all"), BIT(DOS_TRACE_CHANNELS) - 1);
    assert_int_equal(dos_trace_parse("tls; notify"), BIT(DOS_TRACE_TLS) | BIT(DOS_TRACE_NOTIFY));
    assert_int_equal(dos_trace_parse("engine,,"), BIT(DOS_TRACE_ENGINE));
}

static void test_unknown_or_empty_channel_names_trace_nothing(void **state)
{
    assert_int_equal(dos_trace_parse(""), 0);
    assert_int_equal(dos_trace_parse(NULL), 0);
    assert_int_equal(dos_trace_parse("1"), 0);
    assert_int_equal(dos_trace_parse("comx,htt"), 0);
}

static void test_a_channel_switched_off_evaluates_no_argument(void **state)
{
    dos_trace_configure(0, NULL);
    evaluations = 0;
    for (int c = 0; c < DOS_TRACE_CHANNELS; c++) assert_false(dos_trace_on((enum dos_trace_channel)c));
    TRACE_COM("%d", evaluated());
    TRACE_ENGINE("%d", evaluated());
    TRACE_NOTIFY("%d", evaluated());
    assert_int_equal(evaluations, 0);
}

static void test_a_line_names_time_process_thread_channel_and_function(void **state)
{
    time_t before = time(NULL), after;
    char day_before[16], day_after[16], *text, *line;
    int year, month, day, hour, minute, second, ms, n = 0;
    unsigned pid, tid;

    remove(trace_path);
    dos_trace_configure(BIT(DOS_TRACE_ENGINE), trace_path);
    TRACE_ENGINE("retry in %u ms", 5000u);
    after = time(NULL);
    dos_trace_configure(0, NULL);
    strftime(day_before, sizeof(day_before), "%Y-%m-%d", gmtime(&before));
    strftime(day_after, sizeof(day_after), "%Y-%m-%d", gmtime(&after));

    text = trace_text();
    assert_int_equal(sscanf(text, "%4d-%2d-%2d %2d:%2d:%2d.%3d %x:%x %n", &year, &month, &day, &hour, &minute, &second,
                            &ms, &pid, &tid, &n), 9);
    assert_true(!strncmp(text, day_before, 10) || !strncmp(text, day_after, 10));
    assert_true(hour < 24 && minute < 60 && second < 60 && ms < 1000);
    line = text + n;
    assert_string_equal(line, "engine test_a_line_names_time_process_thread_channel_and_function: retry in 5000 ms\n");
    free(text);
}

static void test_a_long_line_is_cut_and_still_ends_the_line(void **state)
{
    char *text, *big = malloc(5000);

    memset(big, 'x', 4999);
    big[4999] = 0;
    remove(trace_path);
    dos_trace_configure(BIT(DOS_TRACE_COM), trace_path);
    TRACE_COM("%s", big);
    TRACE_COM("next");
    dos_trace_configure(0, NULL);
    text = trace_text();
    assert_non_null(strstr(text, "xxx...\n"));
    assert_non_null(strstr(text, ": next\n"));
    assert_true(strlen(text) < 2048 + 200);
    free(text);
    free(big);
}

static void test_wide_strings_are_quoted_with_controls_escaped(void **state)
{
    assert_string_equal(dos_trace_wstr(W(u"C:\\dl\\a.bin")), "\"C:\\\\dl\\\\a.bin\"");
    assert_string_equal(dos_trace_wstr(W(u"X: 1\r\nY: \"2\"\t")), "\"X: 1\\r\\nY: \\\"2\\\"\\t\"");
    assert_string_equal(dos_trace_wstr(NULL), "(null)");
    assert_string_equal(dos_trace_wstr(W(u"")), "\"\"");
    assert_string_equal(dos_trace_wstr_n(W(u"abcdef"), 3), "\"abc\"");
}

static void test_wide_strings_become_utf8_and_lone_surrogates_are_escaped(void **state)
{
    static const dos_char text[] = { 0xe9, 0x20ac, 0xd83d, 0xde00, 0xd800, 'x', 0 };
    assert_string_equal(dos_trace_wstr(text), "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\xd800x\"");
}

static void test_a_long_wide_string_is_cut_with_an_ellipsis(void **state)
{
    dos_char big[2000];
    const char *shown;

    for (size_t i = 0; i < 1999; i++) big[i] = 'a';
    big[1999] = 0;
    shown = dos_trace_wstr(big);
    assert_true(strlen(shown) < 512);
    assert_int_equal(shown[0], '"');
    assert_string_equal(shown + strlen(shown) - 4, "\"...");
}

static void test_helpers_results_stay_valid_for_one_line(void **state)
{
    const char *a = dos_trace_wstr(W(u"first")), *b = dos_trace_wstr(W(u"second"));
    dos_guid g = { 0x5b99fa76, 0x721c, 0x423c, { 0xad, 0xac, 0x56, 0xd0, 0x3c, 0x8a, 0x80, 0x07 } };
    const char *c = dos_trace_guid(&g);

    assert_string_equal(a, "\"first\"");
    assert_string_equal(b, "\"second\"");
    assert_string_equal(c, "{5b99fa76-721c-423c-adac-56d03c8a8007}");
    assert_string_equal(dos_trace_guid(NULL), "(null)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_first_trace_point_reads_dosvc_trace_and_dosvc_trace_file),
        cmocka_unit_test(test_channel_names_parse_to_their_bits),
        cmocka_unit_test(test_unknown_or_empty_channel_names_trace_nothing),
        cmocka_unit_test(test_a_channel_switched_off_evaluates_no_argument),
        cmocka_unit_test(test_a_line_names_time_process_thread_channel_and_function),
        cmocka_unit_test(test_a_long_line_is_cut_and_still_ends_the_line),
        cmocka_unit_test(test_wide_strings_are_quoted_with_controls_escaped),
        cmocka_unit_test(test_wide_strings_become_utf8_and_lone_surrogates_are_escaped),
        cmocka_unit_test(test_a_long_wide_string_is_cut_with_an_ellipsis),
        cmocka_unit_test(test_helpers_results_stay_valid_for_one_line),
    };
    int failed;

    snprintf(trace_path, sizeof(trace_path), "dosvc-trace-test-%u.log", (unsigned)port_process_id());
    remove(trace_path);
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    dos_trace_configure(0, NULL);
    remove(trace_path);
    return failed;
}
