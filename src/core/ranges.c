/* Byte-range validation and totals; see ranges.h. */
#include "ranges.h"

#include <stdlib.h>
#include <string.h>

static int by_offset(const void *a, const void *b)
{
    const dos_range *x = a, *y = b;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

static bool range_valid(const dos_range *r, uint64_t file_size)
{
    if (r->length == 0 || r->offset == DOS_LENGTH_TO_EOF) return false;
    if (r->length != DOS_LENGTH_TO_EOF && r->offset > UINT64_MAX - 1 - r->length) return false;
    if (file_size == DOS_SIZE_UNKNOWN) return true;
    if (r->offset >= file_size) return false;
    return r->length == DOS_LENGTH_TO_EOF || r->offset + r->length <= file_size;
}

dos_status dos_ranges_validate(const dos_range *ranges, uint32_t count, uint64_t file_size, dos_range **copy)
{
    dos_range *sorted;
    dos_status s = DOS_OK;
    uint32_t i;

    if (copy) *copy = NULL;
    if (count == 0 || !ranges) return DOS_E_INVALID_ARG;
    if (count > DOS_MAX_RANGES_PER_FILE) return DOS_E_TOO_MANY_RANGES;
    for (i = 0; i < count; i++)
        if (!range_valid(&ranges[i], file_size)) return DOS_E_INVALID_RANGE;

    /* Overlaps show between neighbours in offset order; the copy handed back keeps the caller's order. */
    if (!(sorted = malloc(count * sizeof(*sorted)))) return DOS_E_OUT_OF_MEMORY;
    memcpy(sorted, ranges, count * sizeof(*sorted));
    qsort(sorted, count, sizeof(*sorted), by_offset);
    for (i = 1; i < count && s == DOS_OK; i++)
    {
        const dos_range *prev = &sorted[i - 1];
        if (prev->length == DOS_LENGTH_TO_EOF || prev->offset + prev->length > sorted[i].offset)
            s = DOS_E_OVERLAPPING_RANGES;
    }
    if (s == DOS_OK && copy) memcpy(*copy = sorted, ranges, count * sizeof(*sorted));
    else free(sorted);
    return s;
}

uint64_t dos_ranges_total(const dos_range *ranges, uint32_t count, uint64_t file_size)
{
    uint64_t total = 0;
    uint32_t i;

    for (i = 0; i < count; i++)
    {
        if (ranges[i].length != DOS_LENGTH_TO_EOF)
            total += ranges[i].length;
        else if (file_size == DOS_SIZE_UNKNOWN)
            return DOS_SIZE_UNKNOWN;
        else
            total += file_size - ranges[i].offset;
    }
    return total;
}
