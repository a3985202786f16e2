/*
 * Custom header text (headers.h): the one rule both APIs take it by, in BITS's strict form
 * and DoSvc's lenient one, and what of it goes on the wire.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "headers.h"
#include "test_text.h"

static void check(const dos_char *text, enum dos_header_form form, dos_status want, const dos_char *wire, int line)
{
    char tbuf[256], gbuf[256], wbuf[256];
    dos_char *got = NULL;
    dos_status s = dos_check_custom_headers(text, form, &got);

    if (s != want || (wire && !test_wstr_equal(got, wire)))
        fail_msg("line %d: \"%s\": status %d, wire \"%s\"; expected %d, \"%s\"", line, test_narrow(text, tbuf, sizeof(tbuf)),
                 (int)s, test_narrow(got, gbuf, sizeof(gbuf)), (int)want, wire ? test_narrow(wire, wbuf, sizeof(wbuf)) : "");
    if (s != DOS_OK && got) fail_msg("line %d: a refused text gave a wire text", line);
    free(got);
    /* Without wire, the same answer. */
    if (dos_check_custom_headers(text, form, NULL) != want) fail_msg("line %d: the answer depends on wire", line);
}

#define assert_strict(text, want, wire) check(W(text), DOS_HEADERS_STRICT, want, wire, __LINE__)
#define assert_lenient(text, want, wire) check(W(text), DOS_HEADERS_LENIENT, want, wire, __LINE__)

/* BITS: every line a field, ended by CRLF, the last one perhaps by nothing. */
static void test_strict_text_is_fields_ended_by_crlf(void **state)
{
    (void)state;
    assert_strict(u"X-One: 1\r\nX-Two:two\r\n", DOS_OK, W(u"X-One: 1\r\nX-Two:two\r\n"));
    assert_strict(u"X-One: 1", DOS_OK, W(u"X-One: 1\r\n"));
    assert_strict(u"", DOS_OK, W(u""));
    assert_strict(u"X-One: 1\nX-Two: 2", DOS_E_INVALID_ARG, NULL);
    assert_strict(u"X-One: 1\r\nno colon\r\n", DOS_E_INVALID_ARG, NULL);
    assert_strict(u"X-One: 1\r\n\r\n", DOS_E_INVALID_ARG, NULL);
}

/* DoSvc: LF ends a line too, and a line with no colon is no field and is left out. */
static void test_lenient_text_leaves_out_the_lines_that_are_no_field(void **state)
{
    (void)state;
    assert_lenient(u"XCustom1=someData\nXCustom2=moreData", DOS_OK, W(u""));
    assert_lenient(u"XCustom1=someData\nX-Lf: lf\n\n  folded\r\nX-Last:last", DOS_OK, W(u"X-Lf: lf\r\nX-Last:last\r\n"));
    assert_lenient(u"a:\nb:", DOS_OK, W(u"a:\r\nb:\r\n"));       /* the wire text's longest growth */
    assert_lenient(u"X: a\r", DOS_E_INVALID_ARG, NULL);
}

/* Both forms: a field's name is a token and none the transport writes; no control character. */
static void test_both_forms_refuse_bad_names_transport_fields_and_control_characters(void **state)
{
    const dos_char *const bad[] = {
        W(u"Bad Name: v"), W(u" X: v"), W(u"X : v"), W(u": v"), W(u"Host: evil.example"), W(u"content-length: 5"),
        W(u"Transfer-Encoding: chunked"), W(u"Connection: close"), W(u"Keep-Alive: 5"), W(u"Proxy-Connection: close"),
        W(u"TE: trailers"), W(u"Trailer: X"), W(u"Upgrade: h2c"), W(u"Expect: 100-continue"), W(u"RANGE: bytes=0-0"),
        W(u"If-Range: x"), W(u"X: a\x01"), W(u"X: a\x7f"), W(u"X: a\rb"),
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    {
        check(bad[i], DOS_HEADERS_STRICT, DOS_E_INVALID_ARG, NULL, __LINE__);
        check(bad[i], DOS_HEADERS_LENIENT, DOS_E_INVALID_ARG, NULL, __LINE__);
    }
    assert_strict(u"X-Range: r\r\nHosts: h\r\nX: a\tb \xe9", DOS_OK, W(u"X-Range: r\r\nHosts: h\r\nX: a\tb \xe9\r\n"));
}

static void test_text_over_the_limit_is_too_long_and_null_is_refused(void **state)
{
    dos_char *text = test_wstr_of_length("X: ", DOS_MAX_CUSTOM_HEADERS + 1, 'a', "");

    (void)state;
    assert_int_equal(dos_check_custom_headers(text, DOS_HEADERS_STRICT, NULL), DOS_E_STRING_TOO_LONG);
    text[DOS_MAX_CUSTOM_HEADERS] = 0;
    assert_int_equal(dos_check_custom_headers(text, DOS_HEADERS_STRICT, NULL), DOS_OK);
    free(text);
    assert_int_equal(dos_check_custom_headers(NULL, DOS_HEADERS_LENIENT, NULL), DOS_E_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strict_text_is_fields_ended_by_crlf),
        cmocka_unit_test(test_lenient_text_leaves_out_the_lines_that_are_no_field),
        cmocka_unit_test(test_both_forms_refuse_bad_names_transport_fields_and_control_characters),
        cmocka_unit_test(test_text_over_the_limit_is_too_long_and_null_is_refused),
    };
    return cmocka_run_group_tests_name("headers", tests, NULL, NULL);
}
