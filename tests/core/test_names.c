/*
 * Name validation (names.h): which remote names (http/https URLs, file://
 * URLs, UNC paths, absolute paths) and which local names (absolute paths with
 * no devices, streams or wildcards) a job accepts, and their length limits (spec 5.9).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "names.h"
#include "test_text.h"

static void check_remote(const dos_char *name, dos_status want, int line)
{
    char buf[256];
    dos_status got = dos_check_remote_name(name, NULL);
    if (got != want)
        fail_msg("line %d: remote name \"%s\": status %d, expected %d", line,
                 test_narrow(name, buf, sizeof(buf)), (int)got, (int)want);
}

static void check_remote_kind(const dos_char *name, dos_remote_kind want, int line)
{
    char buf[256];
    dos_remote_kind kind = (dos_remote_kind)-1;
    dos_status got = dos_check_remote_name(name, &kind);
    if (got != DOS_OK || kind != want)
        fail_msg("line %d: remote name \"%s\": status %d kind %d, expected DOS_OK kind %d", line,
                 test_narrow(name, buf, sizeof(buf)), (int)got, (int)kind, (int)want);
}

static void check_local(const dos_char *name, dos_status want, int line)
{
    char buf[512];
    dos_status got = dos_check_local_name(name);
    if (got != want)
        fail_msg("line %d: local name \"%s\": status %d, expected %d", line,
                 test_narrow(name, buf, sizeof(buf)), (int)got, (int)want);
}

#define assert_remote(name, want) check_remote(W(name), want, __LINE__)
#define assert_remote_kind(name, kind) check_remote_kind(W(name), kind, __LINE__)
#define assert_local(name, want) check_local(W(name), want, __LINE__)

/* ---- remote names: http and https ---------------------------------------- */

static void test_remote_http_url_is_accepted_as_http(void **state)
{
    (void)state;
    assert_remote_kind(u"http://example.com/dir/file.bin", DOS_REMOTE_HTTP);
    assert_remote_kind(u"http://127.0.0.1/file.bin", DOS_REMOTE_HTTP);
    assert_remote_kind(u"http://example.com/file.bin?query=1&x=%20#frag", DOS_REMOTE_HTTP);
}

static void test_remote_https_url_is_accepted_as_https(void **state)
{
    (void)state;
    assert_remote_kind(u"https://example.com/dir/file.bin", DOS_REMOTE_HTTPS);
}

static void test_remote_scheme_is_case_insensitive(void **state)
{
    (void)state;
    assert_remote_kind(u"HTTP://Example.COM/File.bin", DOS_REMOTE_HTTP);
    assert_remote_kind(u"HtTpS://example.com/file.bin", DOS_REMOTE_HTTPS);
    assert_remote_kind(u"FILE://server/share/file.bin", DOS_REMOTE_FILE_URL);
}

static void test_remote_port_from_1_to_65535_is_accepted(void **state)
{
    (void)state;
    assert_remote(u"http://example.com:1/file", DOS_OK);
    assert_remote(u"http://example.com:8080/file", DOS_OK);
    assert_remote(u"https://example.com:65535/file", DOS_OK);
    assert_remote(u"http://example.com:80", DOS_OK);
    assert_remote(u"http://example.com:80?q", DOS_OK);
}

static void test_remote_port_zero_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"http://example.com:0/file", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com:00000/file", DOS_E_INVALID_ARG);
}

static void test_remote_port_above_65535_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"http://example.com:65536/file", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com:99999/file", DOS_E_INVALID_ARG);
    /* large enough to wrap a 32-bit or 64-bit accumulator */
    assert_remote(u"http://example.com:4294967377/file", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com:18446744073709551697/file", DOS_E_INVALID_ARG);
}

static void test_remote_empty_or_non_numeric_port_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"http://example.com:/file", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com:8a/file", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com:-1/file", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com:80:81/file", DOS_E_INVALID_ARG);
}

/* RFC 3986 3.2.2: an IPv6 literal host is bracketed, and its colons are not a port. */
static void test_remote_ipv6_literal_host_is_accepted(void **state)
{
    (void)state;
    assert_remote_kind(u"http://[::1]/file.bin", DOS_REMOTE_HTTP);
    assert_remote_kind(u"https://[2001:db8::7]:8443/file.bin", DOS_REMOTE_HTTPS);
}

/* Spec 5.9: only legal URL characters. */
static void test_remote_url_with_space_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"http://exa mple.com/file", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com/my file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com/file.bin ", DOS_E_INVALID_ARG);
}

static void test_remote_url_with_illegal_characters_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"http://example.com/a\"b", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com/a<b", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com/a>b", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com/a\\b", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com/a{b}", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com/a|b", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com/a^b", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com/a`b", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com/a\tb", DOS_E_INVALID_ARG);
    assert_remote(u"http://example.com/a\x7f" u"b", DOS_E_INVALID_ARG);
    assert_remote(u"http://exa<mple.com/file", DOS_E_INVALID_ARG);
}

static void test_remote_url_with_empty_host_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"http://", DOS_E_INVALID_ARG);
    assert_remote(u"http:///file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"https://:443/file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"https://?q", DOS_E_INVALID_ARG);
}

/* ---- remote names: SMB (file URLs, UNC paths, absolute paths) ------------ */

/* Spec 5.9 (archive): SMB through UNC paths, full paths or the file:// prefix. */
static void test_remote_file_url_is_accepted_as_file_url(void **state)
{
    (void)state;
    assert_remote_kind(u"file://server/share/file.bin", DOS_REMOTE_FILE_URL);
    assert_remote_kind(u"file:///C:/dir/file.bin", DOS_REMOTE_FILE_URL);
}

static void test_remote_file_url_without_path_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"file://", DOS_E_INVALID_ARG);
}

static void test_remote_file_url_with_wildcard_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"file://server/share/*.bin", DOS_E_INVALID_ARG);
    assert_remote(u"file://server/share/file?.bin", DOS_E_INVALID_ARG);
}

static void test_remote_unc_path_is_accepted_as_unc(void **state)
{
    (void)state;
    assert_remote_kind(u"\\\\server\\share\\file.bin", DOS_REMOTE_UNC);
    assert_remote_kind(u"\\\\server\\share\\dir\\file.bin", DOS_REMOTE_UNC);
    assert_remote_kind(u"//server/share/file.bin", DOS_REMOTE_UNC);
}

/* Spec 5.9: no \\?\ prefix; \\.\ names devices, not files on a share. */
static void test_remote_device_path_prefixes_are_rejected(void **state)
{
    (void)state;
    assert_remote(u"\\\\.\\C:\\dir\\file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"\\\\.\\pipe\\name", DOS_E_INVALID_ARG);
    assert_remote(u"\\\\?\\C:\\dir\\file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"\\\\?\\UNC\\server\\share\\file.bin", DOS_E_INVALID_ARG);
}

static void test_remote_unc_path_with_empty_server_or_share_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"\\\\\\share\\file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"\\\\server\\\\file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"\\\\", DOS_E_INVALID_ARG);
}

/* A UNC file name is \\server\share\file: a server or a share root names no file. */
static void test_remote_unc_path_without_file_on_a_share_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"\\\\server", DOS_E_INVALID_ARG);
    assert_remote(u"\\\\server\\share", DOS_E_INVALID_ARG);
}

static void test_remote_absolute_drive_path_is_accepted_as_local_path(void **state)
{
    (void)state;
    assert_remote_kind(u"C:\\dir\\file.bin", DOS_REMOTE_LOCAL_PATH);
    assert_remote_kind(u"z:/dir/file.bin", DOS_REMOTE_LOCAL_PATH);
}

static void test_remote_relative_path_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"dir\\file.bin", DOS_E_INVALID_ARG);
    assert_remote(u".\\file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"\\dir\\file.bin", DOS_E_INVALID_ARG);
}

static void test_remote_drive_relative_path_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"C:foo", DOS_E_INVALID_ARG);
    assert_remote(u"C:", DOS_E_INVALID_ARG);
}

/* Spec 5.9: HTTP, HTTPS and SMB only. */
static void test_remote_unsupported_scheme_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"ftp://example.com/file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"httpx://example.com/file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"http:/example.com/file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"mailto:someone@example.com", DOS_E_INVALID_ARG);
}

static void test_remote_empty_or_null_name_is_rejected(void **state)
{
    dos_remote_kind kind = DOS_REMOTE_UNC;
    (void)state;
    assert_int_equal(dos_check_remote_name(NULL, &kind), DOS_E_INVALID_ARG);
    assert_int_equal(dos_check_remote_name(W(u""), &kind), DOS_E_INVALID_ARG);
    assert_int_equal(kind, DOS_REMOTE_UNC);
}

static void test_remote_kind_is_left_alone_on_failure(void **state)
{
    dos_remote_kind kind = DOS_REMOTE_FILE_URL;
    (void)state;
    assert_int_equal(dos_check_remote_name(W(u"http://example.com:0/x"), &kind), DOS_E_INVALID_ARG);
    assert_int_equal(kind, DOS_REMOTE_FILE_URL);
}

/* Spec 3.6, 5.8: a URL may have up to 2,200 characters. */
static void test_remote_url_of_2200_characters_is_accepted(void **state)
{
    dos_char *url = test_wstr_of_length("http://example.com/", DOS_MAX_URL, 'a', ".bin");
    (void)state;
    assert_int_equal(dos_check_remote_name(url, NULL), DOS_OK);
    free(url);
}

static void test_remote_url_of_2201_characters_is_too_long(void **state)
{
    dos_char *url = test_wstr_of_length("http://example.com/", DOS_MAX_URL + 1, 'a', ".bin");
    (void)state;
    assert_int_equal(dos_check_remote_name(url, NULL), DOS_E_STRING_TOO_LONG);
    free(url);
}

static void test_remote_unc_path_of_2201_characters_is_too_long(void **state)
{
    dos_char *path = test_wstr_of_length("\\\\server\\share\\", DOS_MAX_URL + 1, 'a', ".bin");
    (void)state;
    assert_int_equal(dos_check_remote_name(path, NULL), DOS_E_STRING_TOO_LONG);
    free(path);
}

/* ---- local names --------------------------------------------------------- */

static void test_local_absolute_drive_path_is_accepted(void **state)
{
    (void)state;
    assert_local(u"C:\\dir\\file.bin", DOS_OK);
    assert_local(u"c:\\file", DOS_OK);
    assert_local(u"D:/dir/sub/file.tar.gz", DOS_OK);
}

static void test_local_unc_path_is_accepted(void **state)
{
    (void)state;
    assert_local(u"\\\\server\\share\\file.bin", DOS_OK);
    assert_local(u"\\\\server\\share\\dir\\file.bin", DOS_OK);
}

/* Spec 5.9: a local name is a full path. */
static void test_local_relative_path_is_rejected(void **state)
{
    (void)state;
    assert_local(u"file.bin", DOS_E_INVALID_ARG);
    assert_local(u"dir\\file.bin", DOS_E_INVALID_ARG);
    assert_local(u"..\\file.bin", DOS_E_INVALID_ARG);
    assert_local(u"\\dir\\file.bin", DOS_E_INVALID_ARG);
}

static void test_local_drive_relative_path_is_rejected(void **state)
{
    (void)state;
    assert_local(u"C:file.bin", DOS_E_INVALID_ARG);
    assert_local(u"C:", DOS_E_INVALID_ARG);
}

static void test_local_url_is_rejected(void **state)
{
    (void)state;
    assert_local(u"http://example.com/file.bin", DOS_E_INVALID_ARG);
    assert_local(u"file:///C:/dir/file.bin", DOS_E_INVALID_ARG);
}

static void test_local_drive_root_is_rejected(void **state)
{
    (void)state;
    assert_local(u"C:\\", DOS_E_INVALID_ARG);
}

static void test_local_device_name_is_rejected(void **state)
{
    (void)state;
    assert_local(u"C:\\dir\\CON", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\NUL", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\PRN", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\AUX", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\COM1", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\COM9", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\LPT1", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\LPT9", DOS_E_INVALID_ARG);
    assert_local(u"\\\\server\\share\\NUL", DOS_E_INVALID_ARG);
}

/* Windows opens the device for "NUL.txt" too: the extension does not help. */
static void test_local_device_name_with_extension_is_rejected(void **state)
{
    (void)state;
    assert_local(u"C:\\dir\\CON.txt", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\NUL.tar.gz", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\COM1.bin", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\LPT9.", DOS_E_INVALID_ARG);
}

static void test_local_device_name_in_any_case_is_rejected(void **state)
{
    (void)state;
    assert_local(u"C:\\dir\\con", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\nUl.txt", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\Aux", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\com3", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\lPt2.log", DOS_E_INVALID_ARG);
}

static void test_local_device_name_as_directory_is_rejected(void **state)
{
    (void)state;
    assert_local(u"C:\\CON\\file.bin", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\aux.d\\file.bin", DOS_E_INVALID_ARG);
    assert_local(u"\\\\server\\share\\com1\\file.bin", DOS_E_INVALID_ARG);
}

static void test_local_name_that_only_resembles_a_device_is_accepted(void **state)
{
    (void)state;
    assert_local(u"C:\\dir\\CONSOLE.txt", DOS_OK);
    assert_local(u"C:\\dir\\nully", DOS_OK);
    assert_local(u"C:\\dir\\COM10", DOS_OK);
    assert_local(u"C:\\dir\\LPT", DOS_OK);
    assert_local(u"C:\\dir\\auxiliary\\file.bin", DOS_OK);
    assert_local(u"C:\\dir\\xcon.txt", DOS_OK);
}

/* Spec 5.9: NTFS streams are not supported. */
static void test_local_stream_name_is_rejected(void **state)
{
    (void)state;
    assert_local(u"C:\\dir\\file.bin:stream", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\file.bin::$DATA", DOS_E_INVALID_ARG);
    assert_local(u"\\\\server\\share\\file.bin:ads", DOS_E_INVALID_ARG);
}

/* Spec 5.9: no wildcards. */
static void test_local_wildcard_is_rejected(void **state)
{
    (void)state;
    assert_local(u"C:\\dir\\*.bin", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\file?.bin", DOS_E_INVALID_ARG);
    assert_local(u"C:\\*\\file.bin", DOS_E_INVALID_ARG);
}

static void test_local_illegal_path_character_is_rejected(void **state)
{
    (void)state;
    assert_local(u"C:\\dir\\a<b", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\a>b", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\a|b", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\a\"b", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\a\x01" u"b", DOS_E_INVALID_ARG);
}

/* A local name names a file, not a folder. */
static void test_local_trailing_separator_is_rejected(void **state)
{
    (void)state;
    assert_local(u"C:\\dir\\", DOS_E_INVALID_ARG);
    assert_local(u"C:/dir/", DOS_E_INVALID_ARG);
    assert_local(u"\\\\server\\share\\dir\\", DOS_E_INVALID_ARG);
}

/* "." and ".." as the last component name a folder, not a file. */
static void test_local_dot_components_at_the_end_are_rejected(void **state)
{
    (void)state;
    assert_local(u"C:\\dir\\.", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\..", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\..\\file.bin", DOS_OK);
    assert_local(u"C:\\dir\\...bin", DOS_OK);
}

static void test_local_empty_component_is_rejected(void **state)
{
    (void)state;
    assert_local(u"C:\\dir\\\\file.bin", DOS_E_INVALID_ARG);
    assert_local(u"C:\\\\file.bin", DOS_E_INVALID_ARG);
    assert_local(u"\\\\server\\\\file.bin", DOS_E_INVALID_ARG);
}

/* Spec 5.9: do not use a \\?\ prefix. */
static void test_local_device_path_prefixes_are_rejected(void **state)
{
    (void)state;
    assert_local(u"\\\\?\\C:\\dir\\file.bin", DOS_E_INVALID_ARG);
    assert_local(u"\\\\.\\C:\\dir\\file.bin", DOS_E_INVALID_ARG);
}

static void test_local_unc_path_without_file_on_a_share_is_rejected(void **state)
{
    (void)state;
    assert_local(u"\\\\server", DOS_E_INVALID_ARG);
    assert_local(u"\\\\server\\share", DOS_E_INVALID_ARG);
}

static void test_local_empty_or_null_name_is_rejected(void **state)
{
    (void)state;
    assert_int_equal(dos_check_local_name(NULL), DOS_E_INVALID_ARG);
    assert_int_equal(dos_check_local_name(W(u"")), DOS_E_INVALID_ARG);
}

/* Spec 5.9: at most MAX_PATH, which counts the terminating NUL: 259 characters. */
static void test_local_name_of_259_characters_is_accepted(void **state)
{
    dos_char *path = test_wstr_of_length("C:\\dir\\", DOS_MAX_LOCAL_NAME, 'a', ".bin");
    (void)state;
    assert_int_equal(test_wlen(path), 259);
    assert_int_equal(dos_check_local_name(path), DOS_OK);
    free(path);
}

static void test_local_name_of_260_characters_is_too_long(void **state)
{
    dos_char *path = test_wstr_of_length("C:\\dir\\", DOS_MAX_LOCAL_NAME + 1, 'a', ".bin");
    (void)state;
    assert_int_equal(test_wlen(path), 260);
    assert_int_equal(dos_check_local_name(path), DOS_E_STRING_TOO_LONG);
    free(path);
}

/* ---- file URLs: the path they decode to (names.h dos_remote_file_path) ------------ */

static void check_file_path(const dos_char *name, const dos_char *want, int line)
{
    dos_char path[DOS_MAX_URL + 3];
    char nbuf[256], pbuf[256], wbuf[256];
    dos_status got = dos_remote_file_path(name, path, sizeof(path) / sizeof(path[0]));

    if (got != DOS_OK || !test_wstr_equal(path, want))
        fail_msg("line %d: \"%s\": status %d, path \"%s\", expected \"%s\"", line, test_narrow(name, nbuf, sizeof(nbuf)),
                 (int)got, got == DOS_OK ? test_narrow(path, pbuf, sizeof(pbuf)) : "", test_narrow(want, wbuf, sizeof(wbuf)));
}

#define assert_file_path(name, want) check_file_path(W(name), W(want), __LINE__)

/* Issue 9 defect 4: the device rules hold for the path a file URL names. */
static void test_remote_file_url_naming_a_device_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"file:///C:/windows/NUL", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/windows/CON", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/windows/nul.txt", DOS_E_INVALID_ARG);
    assert_remote(u"file://server/share/COM1", DOS_E_INVALID_ARG);
    assert_remote(u"file://localhost/C:/dir/LPT1.bin", DOS_E_INVALID_ARG);
}

/* \\.\ names devices and pipes, \\?\ skips the path rules: neither through a file URL. */
static void test_remote_file_url_with_device_path_prefix_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"file://\\\\.\\NUL", DOS_E_INVALID_ARG);
    assert_remote(u"file:////./pipe/x", DOS_E_INVALID_ARG);
    assert_remote(u"file://./COM1", DOS_E_INVALID_ARG);
    assert_remote(u"file://./C:/dir/file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"file:////?/C:/dir/file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"file://?/C:/dir/file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"file:///\\\\?\\C:\\dir\\file.bin", DOS_E_INVALID_ARG);
}

/* The escapes are decoded before the rules are applied: spelling a name differently changes nothing. */
static void test_remote_file_url_whose_escapes_decode_to_a_refused_path_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"file:///C:/x/%4EUL", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/x/%43%4F%4E.txt", DOS_E_INVALID_ARG);
    assert_remote(u"file://%5C%5C.%5CNUL", DOS_E_INVALID_ARG);
    assert_remote(u"file:///%2F%2F.%2Fpipe%2Fx", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/x/file.bin%3Astream", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/x/%2A.bin", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/x/file%3F.bin", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/x/a%7Cb", DOS_E_INVALID_ARG);
}

static void test_remote_file_url_with_relative_path_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"file:///file.bin", DOS_E_INVALID_ARG);             /* from the current drive's root */
    assert_remote(u"file:///dir/file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:file.bin", DOS_E_INVALID_ARG);           /* drive-relative */
    assert_remote(u"file:///./file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"file:///../dir/file.bin", DOS_E_INVALID_ARG);
    assert_remote(u"file://dir/file.bin", DOS_E_INVALID_ARG);          /* a server and a share, no file */
    assert_remote(u"file://localhost/dir/file.bin", DOS_E_INVALID_ARG);
}

static void test_remote_file_url_with_malformed_escape_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"file:///C:/x/a%00b", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/x/%80.bin", DOS_E_INVALID_ARG);         /* a continuation byte alone */
    assert_remote(u"file:///C:/x/%C3.bin", DOS_E_INVALID_ARG);         /* a sequence cut short */
    assert_remote(u"file:///C:/x/%C3%zz.bin", DOS_E_INVALID_ARG);      /* cut short by a "%" that is no escape */
    assert_remote(u"file:///C:/x/%C0%AF.bin", DOS_E_INVALID_ARG);      /* overlong "/" */
    assert_remote(u"file:///C:/x/%ED%A0%80.bin", DOS_E_INVALID_ARG);   /* a surrogate */
    assert_remote(u"file:///C:/x/%F4%90%80%80.bin", DOS_E_INVALID_ARG); /* beyond U+10FFFF */
}

static void test_file_url_path_is_the_drive_or_unc_path_it_names(void **state)
{
    (void)state;
    assert_file_path(u"file:///C:/dir/file.bin", u"C:\\dir\\file.bin");
    assert_file_path(u"FILE:///c:/dir/file.bin", u"c:\\dir\\file.bin");
    assert_file_path(u"file:///C|/dir/file.bin", u"C:\\dir\\file.bin");
    assert_file_path(u"file://C:/dir/file.bin", u"C:\\dir\\file.bin");
    assert_file_path(u"file://localhost/C:/dir/file.bin", u"C:\\dir\\file.bin");
    assert_file_path(u"file://server/share/dir/file.bin", u"\\\\server\\share\\dir\\file.bin");
    assert_file_path(u"file:////server/share/file.bin", u"\\\\server\\share\\file.bin");
}

static void test_file_url_path_decodes_utf8_escapes(void **state)
{
    (void)state;
    assert_file_path(u"file:///C:/dir/a%20b.bin", u"C:\\dir\\a b.bin");
    assert_file_path(u"file:///C:/dir/%c3%a9t%C3%A9.bin", u"C:\\dir\\\u00e9t\u00e9.bin");
    assert_file_path(u"file:///C:/dir/%E2%82%AC", u"C:\\dir\\\u20ac");
    assert_file_path(u"file:///C:/dir/%F0%9F%98%80.bin", u"C:\\dir\\\U0001F600.bin");
    assert_file_path(u"file:///C:/dir%2Ffile.bin", u"C:\\dir\\file.bin");
    assert_file_path(u"file:///C:/100%25.bin", u"C:\\100%.bin");
}

static void test_remote_path_of_unc_or_drive_name_is_the_name_itself(void **state)
{
    (void)state;
    assert_file_path(u"\\\\server\\share\\file.bin", u"\\\\server\\share\\file.bin");
    assert_file_path(u"C:/dir/file.bin", u"C:/dir/file.bin");
    assert_int_equal(dos_remote_file_path(W(u"C:\\dir\\NUL"), (dos_char[64]){ 0 }, 64), DOS_E_INVALID_ARG);
    assert_int_equal(dos_remote_file_path(W(u"http://example.com/file.bin"), (dos_char[64]){ 0 }, 64), DOS_E_INVALID_ARG);
}

static void test_remote_file_path_that_does_not_fit_is_too_long(void **state)
{
    dos_char path[16];
    (void)state;
    assert_int_equal(dos_remote_file_path(W(u"file:///C:/dir/file.bin"), path, 15), DOS_E_STRING_TOO_LONG);
    assert_int_equal(dos_remote_file_path(W(u"file:///C:/dir/file.bin"), path, 16), DOS_OK);
    assert_int_equal(dos_remote_file_path(W(u"C:\\dir\\file.bin"), path, 15), DOS_E_STRING_TOO_LONG);
}

/* Windows takes COM and LPT with a superscript 1, 2 or 3 for devices too. */
static void test_local_device_name_with_superscript_digit_is_rejected(void **state)
{
    (void)state;
    assert_local(u"C:\\dir\\COM\u00b9", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\lpt\u00b2.txt", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\COM\u00b3", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/dir/COM%C2%B9", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\COM\u00b4", DOS_OK);
}

/* Wine's RtlIsDosDeviceName_U takes CONIN$ and CONOUT$ for the console in any folder, like CON;
 * Microsoft's "Naming Files" page lists COM0 and LPT0 as reserved with COM1-9 and LPT1-9. */
static void test_local_console_and_port_zero_device_names_are_rejected(void **state)
{
    (void)state;
    assert_local(u"C:\\dir\\CONIN$", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\conout$", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\CoNiN$.txt", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\CONOUT$  ", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\conin$...", DOS_E_INVALID_ARG);
    assert_local(u"C:\\CONOUT$\\file.bin", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\COM0", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\lpt0.log", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\CONIN", DOS_OK);
    assert_local(u"C:\\dir\\CONOUT$$", DOS_OK);
    assert_local(u"C:\\dir\\conin$x.txt", DOS_OK);
    assert_local(u"C:\\dir\\COM00", DOS_OK);
}

static void test_remote_console_device_names_are_rejected(void **state)
{
    (void)state;
    assert_remote(u"file:///C:/windows/CONIN$", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/dir/conout$", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/dir/conin$.txt", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/dir/CONOUT%24", DOS_E_INVALID_ARG);
    assert_remote(u"C:\\dir\\CONIN$", DOS_E_INVALID_ARG);
    assert_remote(u"\\\\server\\share\\CONOUT$ .txt", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/dir/COM0", DOS_E_INVALID_ARG);
    assert_remote(u"C:\\dir\\LPT0.bin", DOS_E_INVALID_ARG);
}

/* On Windows \\host\pipe\name is the named pipe "name" on host, \\host\mailslot\name a mailslot:
 * no file on a share, whatever the host is called. A folder of that name inside a share is one. */
static void test_remote_pipe_or_mailslot_through_a_host_is_rejected(void **state)
{
    (void)state;
    assert_remote(u"\\\\127.0.0.1\\pipe\\x", DOS_E_INVALID_ARG);
    assert_remote(u"\\\\server\\PIPE\\x", DOS_E_INVALID_ARG);
    assert_remote(u"//server/Mailslot/x", DOS_E_INVALID_ARG);
    assert_remote(u"file:////localhost/pipe/x", DOS_E_INVALID_ARG);
    assert_remote(u"file://127.0.0.1/pipe/x", DOS_E_INVALID_ARG);
    assert_remote(u"file://server/MAILSLOT/dir/x", DOS_E_INVALID_ARG);
    assert_remote(u"file://server/%70ipe/x", DOS_E_INVALID_ARG);
    assert_local(u"\\\\server\\pipe\\x", DOS_E_INVALID_ARG);
    assert_remote(u"\\\\server\\pipes\\x", DOS_OK);
    assert_remote(u"\\\\server\\share\\pipe\\x", DOS_OK);
    assert_remote(u"\\\\pipe\\share\\x", DOS_OK);
}

/* Win32 strips the trailing dots and spaces of a path's last component ("File path formats on
 * Windows systems": all of them when the path does not end in a separator; of a folder before
 * it only one trailing dot, and "..." stays a name), so a last component of dots and spaces
 * alone opens the folder before it. */
static void test_last_component_of_only_dots_and_spaces_is_rejected(void **state)
{
    (void)state;
    assert_local(u"C:\\dir\\...", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\ .", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\. ", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\ ", DOS_E_INVALID_ARG);
    assert_local(u"C:\\ . .", DOS_E_INVALID_ARG);
    assert_local(u"\\\\server\\share\\x\\ .", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/windows/...", DOS_E_INVALID_ARG);
    assert_remote(u"file:///C:/windows/%20.", DOS_E_INVALID_ARG);
    assert_remote(u"\\\\server\\share\\x\\ .", DOS_E_INVALID_ARG);
    assert_remote(u"\\\\server\\share\\ ", DOS_E_INVALID_ARG);
    assert_local(u"C:\\dir\\...\\file.bin", DOS_OK);
    assert_local(u"C:\\dir\\a.\\file.bin", DOS_OK);
    assert_local(u"C:\\dir\\file.bin. .", DOS_OK);
    assert_local(u"C:\\dir\\.x", DOS_OK);
}

/* As PathCreateFromUrlW and Windows' own file URLs take it, a '%' that does not start an escape
 * ("%" and two hex digits) is the character itself. */
static void test_file_url_keeps_a_percent_that_starts_no_escape(void **state)
{
    (void)state;
    assert_file_path(u"file:///C:/dir/100%.txt", u"C:\\dir\\100%.txt");
    assert_file_path(u"file:///C:/dir/50%off.bin", u"C:\\dir\\50%off.bin");
    assert_file_path(u"file:///C:/dir/%zz.bin", u"C:\\dir\\%zz.bin");
    assert_file_path(u"file:///C:/dir/a%4", u"C:\\dir\\a%4");
    assert_file_path(u"file:///C:/dir/%%41%", u"C:\\dir\\%A%");
    assert_remote(u"file:///C:/dir/100%.txt", DOS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remote_http_url_is_accepted_as_http),
        cmocka_unit_test(test_remote_https_url_is_accepted_as_https),
        cmocka_unit_test(test_remote_scheme_is_case_insensitive),
        cmocka_unit_test(test_remote_port_from_1_to_65535_is_accepted),
        cmocka_unit_test(test_remote_port_zero_is_rejected),
        cmocka_unit_test(test_remote_port_above_65535_is_rejected),
        cmocka_unit_test(test_remote_empty_or_non_numeric_port_is_rejected),
        cmocka_unit_test(test_remote_ipv6_literal_host_is_accepted),
        cmocka_unit_test(test_remote_url_with_space_is_rejected),
        cmocka_unit_test(test_remote_url_with_illegal_characters_is_rejected),
        cmocka_unit_test(test_remote_url_with_empty_host_is_rejected),
        cmocka_unit_test(test_remote_file_url_is_accepted_as_file_url),
        cmocka_unit_test(test_remote_file_url_without_path_is_rejected),
        cmocka_unit_test(test_remote_file_url_with_wildcard_is_rejected),
        cmocka_unit_test(test_remote_unc_path_is_accepted_as_unc),
        cmocka_unit_test(test_remote_device_path_prefixes_are_rejected),
        cmocka_unit_test(test_remote_unc_path_with_empty_server_or_share_is_rejected),
        cmocka_unit_test(test_remote_unc_path_without_file_on_a_share_is_rejected),
        cmocka_unit_test(test_remote_absolute_drive_path_is_accepted_as_local_path),
        cmocka_unit_test(test_remote_relative_path_is_rejected),
        cmocka_unit_test(test_remote_drive_relative_path_is_rejected),
        cmocka_unit_test(test_remote_unsupported_scheme_is_rejected),
        cmocka_unit_test(test_remote_empty_or_null_name_is_rejected),
        cmocka_unit_test(test_remote_kind_is_left_alone_on_failure),
        cmocka_unit_test(test_remote_url_of_2200_characters_is_accepted),
        cmocka_unit_test(test_remote_url_of_2201_characters_is_too_long),
        cmocka_unit_test(test_remote_unc_path_of_2201_characters_is_too_long),
        cmocka_unit_test(test_local_absolute_drive_path_is_accepted),
        cmocka_unit_test(test_local_unc_path_is_accepted),
        cmocka_unit_test(test_local_relative_path_is_rejected),
        cmocka_unit_test(test_local_drive_relative_path_is_rejected),
        cmocka_unit_test(test_local_url_is_rejected),
        cmocka_unit_test(test_local_drive_root_is_rejected),
        cmocka_unit_test(test_local_device_name_is_rejected),
        cmocka_unit_test(test_local_device_name_with_extension_is_rejected),
        cmocka_unit_test(test_local_device_name_in_any_case_is_rejected),
        cmocka_unit_test(test_local_device_name_as_directory_is_rejected),
        cmocka_unit_test(test_local_name_that_only_resembles_a_device_is_accepted),
        cmocka_unit_test(test_local_stream_name_is_rejected),
        cmocka_unit_test(test_local_wildcard_is_rejected),
        cmocka_unit_test(test_local_illegal_path_character_is_rejected),
        cmocka_unit_test(test_local_trailing_separator_is_rejected),
        cmocka_unit_test(test_local_dot_components_at_the_end_are_rejected),
        cmocka_unit_test(test_local_empty_component_is_rejected),
        cmocka_unit_test(test_local_device_path_prefixes_are_rejected),
        cmocka_unit_test(test_local_unc_path_without_file_on_a_share_is_rejected),
        cmocka_unit_test(test_local_empty_or_null_name_is_rejected),
        cmocka_unit_test(test_local_name_of_259_characters_is_accepted),
        cmocka_unit_test(test_local_name_of_260_characters_is_too_long),
        cmocka_unit_test(test_remote_file_url_naming_a_device_is_rejected),
        cmocka_unit_test(test_remote_file_url_with_device_path_prefix_is_rejected),
        cmocka_unit_test(test_remote_file_url_whose_escapes_decode_to_a_refused_path_is_rejected),
        cmocka_unit_test(test_remote_file_url_with_relative_path_is_rejected),
        cmocka_unit_test(test_remote_file_url_with_malformed_escape_is_rejected),
        cmocka_unit_test(test_file_url_path_is_the_drive_or_unc_path_it_names),
        cmocka_unit_test(test_file_url_path_decodes_utf8_escapes),
        cmocka_unit_test(test_remote_path_of_unc_or_drive_name_is_the_name_itself),
        cmocka_unit_test(test_remote_file_path_that_does_not_fit_is_too_long),
        cmocka_unit_test(test_local_device_name_with_superscript_digit_is_rejected),
        cmocka_unit_test(test_local_console_and_port_zero_device_names_are_rejected),
        cmocka_unit_test(test_remote_console_device_names_are_rejected),
        cmocka_unit_test(test_remote_pipe_or_mailslot_through_a_host_is_rejected),
        cmocka_unit_test(test_last_component_of_only_dots_and_spaces_is_rejected),
        cmocka_unit_test(test_file_url_keeps_a_percent_that_starts_no_escape),
    };
    return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
