/*
 * Byte ranges (ranges.h): what dos_ranges_validate accepts, how it sorts,
 * which errors it gives (spec 3.12, 5.7), and the byte count dos_ranges_total
 * reports for known and unknown file sizes (spec 5.5).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "ranges.h"
#include "test_text.h"

#define COUNT(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))
#define EOF_ DOS_LENGTH_TO_EOF
#define UNKNOWN DOS_SIZE_UNKNOWN

/* Validates and expects the status; on failure the copy must be NULL. */
static dos_range *validate(const dos_range *ranges, uint32_t count, uint64_t size, dos_status want)
{
    dos_range *copy = POISON(dos_range *);
    assert_int_equal(dos_ranges_validate(ranges, count, size, &copy), want);
    if (want != DOS_OK) assert_null(copy);
    else assert_non_null(copy);
    return copy;
}

static void assert_range(const dos_range *r, uint64_t offset, uint64_t length)
{
    assert_int_equal(r->offset, offset);
    assert_int_equal(r->length, length);
}

/* ---- validate: accepted input ------------------------------------------- */

/* The copy keeps the caller's order: it is the local file's layout (classic AddFileWithRanges). */
static void test_ranges_come_back_in_the_order_given(void **state)
{
    const dos_range in[] = { { 500, 10 }, { 0, 100 }, { 200, 50 }, { 100, 1 } };
    dos_range *out = validate(in, COUNT(in), UNKNOWN, DOS_OK);
    (void)state;
    assert_range(&out[0], 500, 10);
    assert_range(&out[1], 0, 100);
    assert_range(&out[2], 200, 50);
    assert_range(&out[3], 100, 1);
    free(out);
}

static void test_validation_without_a_copy_only_checks(void **state)
{
    const dos_range good[] = { { 500, 10 }, { 0, 100 } };
    const dos_range overlapping[] = { { 0, 100 }, { 50, 10 } };
    (void)state;
    assert_int_equal(dos_ranges_validate(good, COUNT(good), UNKNOWN, NULL), DOS_OK);
    assert_int_equal(dos_ranges_validate(overlapping, COUNT(overlapping), UNKNOWN, NULL), DOS_E_OVERLAPPING_RANGES);
}

static void test_caller_ranges_are_not_reordered(void **state)
{
    dos_range in[] = { { 500, 10 }, { 0, 100 } };
    dos_range *out = validate(in, COUNT(in), UNKNOWN, DOS_OK);
    (void)state;
    assert_range(&in[0], 500, 10);
    assert_range(&in[1], 0, 100);
    free(out);
}

static void test_adjacent_ranges_are_accepted(void **state)
{
    const dos_range in[] = { { 10, 10 }, { 0, 10 }, { 20, 5 } };
    dos_range *out = validate(in, COUNT(in), 25, DOS_OK);
    (void)state;
    assert_range(&out[0], 10, 10);
    assert_range(&out[1], 0, 10);
    assert_range(&out[2], 20, 5);
    free(out);
}

static void test_range_ending_at_known_size_is_accepted(void **state)
{
    const dos_range in[] = { { 90, 10 } };
    (void)state;
    free(validate(in, COUNT(in), 100, DOS_OK));
}

/* Without a size nothing is "past the end" yet: the server decides later. */
static void test_range_beyond_any_size_is_accepted_while_size_is_unknown(void **state)
{
    const dos_range in[] = { { 1000000000000ull, 4096 } };
    (void)state;
    free(validate(in, COUNT(in), UNKNOWN, DOS_OK));
}

static void test_range_ending_just_below_the_largest_offset_is_accepted(void **state)
{
    const dos_range in[] = { { UINT64_MAX - 10, 9 } };
    (void)state;
    free(validate(in, COUNT(in), UNKNOWN, DOS_OK));
}

/* Spec 5.7: BG_LENGTH_TO_EOF means "to end of file". */
static void test_to_eof_range_is_accepted_with_known_and_unknown_size(void **state)
{
    const dos_range in[] = { { 50, EOF_ } };
    (void)state;
    free(validate(in, COUNT(in), 100, DOS_OK));
    free(validate(in, COUNT(in), UNKNOWN, DOS_OK));
}

static void test_to_eof_range_that_sorts_last_is_accepted(void **state)
{
    const dos_range in[] = { { 100, EOF_ }, { 0, 50 } };
    dos_range *out = validate(in, COUNT(in), UNKNOWN, DOS_OK);
    (void)state;
    assert_range(&out[0], 100, EOF_);
    assert_range(&out[1], 0, 50);
    free(out);
}

static void test_maximum_number_of_ranges_is_accepted(void **state)
{
    dos_range *in = calloc(DOS_MAX_RANGES_PER_FILE, sizeof(*in)), *out;
    uint32_t i;
    (void)state;
    for (i = 0; i < DOS_MAX_RANGES_PER_FILE; i++) in[i].offset = (DOS_MAX_RANGES_PER_FILE - 1 - i) * 2ull, in[i].length = 1;
    out = validate(in, DOS_MAX_RANGES_PER_FILE, UNKNOWN, DOS_OK);
    for (i = 0; i < DOS_MAX_RANGES_PER_FILE; i++) assert_int_equal(out[i].offset, in[i].offset);
    free(out);
    free(in);
}

/* ---- validate: invalid ranges ------------------------------------------- */

/* Spec 5.7: Length must not be 0. */
static void test_zero_length_range_is_invalid(void **state)
{
    const dos_range in[] = { { 0, 10 }, { 20, 0 } };
    (void)state;
    validate(in, COUNT(in), UNKNOWN, DOS_E_INVALID_RANGE);
}

/* Spec 3.12: e.g. InitialOffset = BG_LENGTH_TO_EOF. */
static void test_offset_of_length_to_eof_is_invalid(void **state)
{
    const dos_range in[] = { { DOS_LENGTH_TO_EOF, 1 } };
    const dos_range to_eof[] = { { DOS_LENGTH_TO_EOF, EOF_ } };
    (void)state;
    validate(in, COUNT(in), UNKNOWN, DOS_E_INVALID_RANGE);
    validate(to_eof, COUNT(to_eof), UNKNOWN, DOS_E_INVALID_RANGE);
}

static void test_range_whose_end_overflows_is_invalid(void **state)
{
    const dos_range in[] = { { 10, UINT64_MAX - 5 } };
    const dos_range top[] = { { UINT64_MAX - 1, 2 } };
    (void)state;
    validate(in, COUNT(in), UNKNOWN, DOS_E_INVALID_RANGE);
    validate(top, COUNT(top), UNKNOWN, DOS_E_INVALID_RANGE);
}

/* Spec 5.7: a range that does not exist in the file gives DO_E_INVALID_RANGE. */
static void test_range_past_known_size_is_invalid(void **state)
{
    const dos_range ends_past[] = { { 90, 11 } };
    const dos_range starts_at_end[] = { { 100, 1 } };
    const dos_range starts_past[] = { { 200, 1 } };
    (void)state;
    validate(ends_past, 1, 100, DOS_E_INVALID_RANGE);
    validate(starts_at_end, 1, 100, DOS_E_INVALID_RANGE);
    validate(starts_past, 1, 100, DOS_E_INVALID_RANGE);
}

static void test_to_eof_range_starting_at_or_past_known_size_is_invalid(void **state)
{
    const dos_range at_end[] = { { 100, EOF_ } };
    const dos_range past_end[] = { { 150, EOF_ } };
    (void)state;
    validate(at_end, 1, 100, DOS_E_INVALID_RANGE);
    validate(past_end, 1, 100, DOS_E_INVALID_RANGE);
}

/* ---- validate: overlaps ------------------------------------------------- */

static void test_duplicate_ranges_overlap(void **state)
{
    const dos_range in[] = { { 0, 10 }, { 100, 5 }, { 0, 10 } };
    (void)state;
    validate(in, COUNT(in), UNKNOWN, DOS_E_OVERLAPPING_RANGES);
}

static void test_partly_overlapping_ranges_overlap(void **state)
{
    const dos_range in[] = { { 50, 20 }, { 0, 51 } };
    const dos_range inside[] = { { 0, 100 }, { 10, 5 } };
    (void)state;
    validate(in, COUNT(in), UNKNOWN, DOS_E_OVERLAPPING_RANGES);
    validate(inside, COUNT(inside), UNKNOWN, DOS_E_OVERLAPPING_RANGES);
}

/* Spec 3.12: ranges sort by offset, not length, so the same offset given
 * longest first overlaps too ("100.5" then "100.0"-style input). */
static void test_same_offset_in_reverse_length_order_overlaps(void **state)
{
    const dos_range in[] = { { 100, 5 }, { 100, 1 } };
    const dos_range forward[] = { { 100, 1 }, { 100, 5 } };
    (void)state;
    validate(in, COUNT(in), UNKNOWN, DOS_E_OVERLAPPING_RANGES);
    validate(forward, COUNT(forward), UNKNOWN, DOS_E_OVERLAPPING_RANGES);
}

/* A to-EOF range covers everything after it, whatever the file's size. */
static void test_to_eof_range_followed_by_another_overlaps(void **state)
{
    const dos_range in[] = { { 0, EOF_ }, { 1000, 10 } };
    const dos_range reversed[] = { { 1000, 10 }, { 0, EOF_ } };
    const dos_range two_eofs[] = { { 10, EOF_ }, { 20, EOF_ } };
    (void)state;
    validate(in, COUNT(in), UNKNOWN, DOS_E_OVERLAPPING_RANGES);
    validate(reversed, COUNT(reversed), 2000, DOS_E_OVERLAPPING_RANGES);
    validate(two_eofs, COUNT(two_eofs), UNKNOWN, DOS_E_OVERLAPPING_RANGES);
}

/* ---- validate: arguments ------------------------------------------------ */

/* Spec 8 (ARCH:mt811343): E_INVALIDARG when RangeCount = 0. */
static void test_zero_count_is_invalid_arg(void **state)
{
    const dos_range in[] = { { 0, 10 } };
    (void)state;
    validate(in, 0, UNKNOWN, DOS_E_INVALID_ARG);
}

static void test_null_ranges_are_invalid_arg(void **state)
{
    (void)state;
    validate(NULL, 1, UNKNOWN, DOS_E_INVALID_ARG);
}

static void test_more_than_maximum_ranges_is_too_many(void **state)
{
    dos_range *in = calloc(DOS_MAX_RANGES_PER_FILE + 1, sizeof(*in));
    uint32_t i;
    (void)state;
    for (i = 0; i <= DOS_MAX_RANGES_PER_FILE; i++) in[i].offset = i * 2ull, in[i].length = 1;
    validate(in, DOS_MAX_RANGES_PER_FILE + 1, UNKNOWN, DOS_E_TOO_MANY_RANGES);
    free(in);
}

/* ---- total --------------------------------------------------------------- */

/* Spec 5.5: with ranges, BytesTotal counts only the requested bytes. */
static void test_total_sums_range_lengths(void **state)
{
    const dos_range sorted[] = { { 0, 10 }, { 100, 5 }, { 200, 1000 } };
    (void)state;
    assert_int_equal(dos_ranges_total(sorted, COUNT(sorted), UNKNOWN), 1015);
    assert_int_equal(dos_ranges_total(sorted, COUNT(sorted), 5000), 1015);
}

static void test_total_counts_to_eof_range_up_to_known_size(void **state)
{
    const dos_range sorted[] = { { 0, 10 }, { 100, EOF_ } };
    (void)state;
    assert_int_equal(dos_ranges_total(sorted, COUNT(sorted), 1000), 10 + 900);
}

static void test_total_with_to_eof_range_and_unknown_size_is_unknown(void **state)
{
    const dos_range sorted[] = { { 0, 10 }, { 100, EOF_ } };
    (void)state;
    assert_int_equal(dos_ranges_total(sorted, COUNT(sorted), UNKNOWN), DOS_SIZE_UNKNOWN);
}

static void test_total_of_no_ranges_is_zero(void **state)
{
    (void)state;
    assert_int_equal(dos_ranges_total(NULL, 0, 100), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_come_back_in_the_order_given),
        cmocka_unit_test(test_validation_without_a_copy_only_checks),
        cmocka_unit_test(test_caller_ranges_are_not_reordered),
        cmocka_unit_test(test_adjacent_ranges_are_accepted),
        cmocka_unit_test(test_range_ending_at_known_size_is_accepted),
        cmocka_unit_test(test_range_beyond_any_size_is_accepted_while_size_is_unknown),
        cmocka_unit_test(test_range_ending_just_below_the_largest_offset_is_accepted),
        cmocka_unit_test(test_to_eof_range_is_accepted_with_known_and_unknown_size),
        cmocka_unit_test(test_to_eof_range_that_sorts_last_is_accepted),
        cmocka_unit_test(test_maximum_number_of_ranges_is_accepted),
        cmocka_unit_test(test_zero_length_range_is_invalid),
        cmocka_unit_test(test_offset_of_length_to_eof_is_invalid),
        cmocka_unit_test(test_range_whose_end_overflows_is_invalid),
        cmocka_unit_test(test_range_past_known_size_is_invalid),
        cmocka_unit_test(test_to_eof_range_starting_at_or_past_known_size_is_invalid),
        cmocka_unit_test(test_duplicate_ranges_overlap),
        cmocka_unit_test(test_partly_overlapping_ranges_overlap),
        cmocka_unit_test(test_same_offset_in_reverse_length_order_overlaps),
        cmocka_unit_test(test_to_eof_range_followed_by_another_overlaps),
        cmocka_unit_test(test_zero_count_is_invalid_arg),
        cmocka_unit_test(test_null_ranges_are_invalid_arg),
        cmocka_unit_test(test_more_than_maximum_ranges_is_too_many),
        cmocka_unit_test(test_total_sums_range_lengths),
        cmocka_unit_test(test_total_counts_to_eof_range_up_to_known_size),
        cmocka_unit_test(test_total_with_to_eof_range_and_unknown_size_is_unknown),
        cmocka_unit_test(test_total_of_no_ranges_is_zero),
    };
    return cmocka_run_group_tests_name("ranges", tests, NULL, NULL);
}
