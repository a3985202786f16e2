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

dos_status dos_ranges_normalize(const dos_range *ranges, uint32_t count, uint64_t file_size,
                                dos_range **sorted)
{
    dos_range *copy;
    uint32_t i;

    *sorted = NULL;
    if (count == 0 || !ranges) return DOS_E_INVALID_ARG;
    if (count > DOS_MAX_RANGES_PER_FILE) return DOS_E_TOO_MANY_RANGES;
    for (i = 0; i < count; i++)
        if (!range_valid(&ranges[i], file_size)) return DOS_E_INVALID_RANGE;

    if (!(copy = malloc(count * sizeof(*copy)))) return DOS_E_OUT_OF_MEMORY;
    memcpy(copy, ranges, count * sizeof(*copy));
    qsort(copy, count, sizeof(*copy), by_offset);
    for (i = 1; i < count; i++)
    {
        const dos_range *prev = &copy[i - 1];
        if (prev->length == DOS_LENGTH_TO_EOF || prev->offset + prev->length > copy[i].offset)
        {
            free(copy);
            return DOS_E_OVERLAPPING_RANGES;
        }
    }
    *sorted = copy;
    return DOS_OK;
}

uint64_t dos_ranges_total(const dos_range *sorted, uint32_t count, uint64_t file_size)
{
    uint64_t total = 0;
    uint32_t i;

    for (i = 0; i < count; i++)
    {
        if (sorted[i].length != DOS_LENGTH_TO_EOF)
            total += sorted[i].length;
        else if (file_size == DOS_SIZE_UNKNOWN)
            return DOS_SIZE_UNKNOWN;
        else
            total += file_size - sorted[i].offset;
    }
    return total;
}
