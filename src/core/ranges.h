/*
 * Byte ranges of a file (BG_FILE_RANGE, DO_DOWNLOAD_RANGE): validation,
 * normalisation to offset order, and the byte count they request.
 */
#ifndef DOSVC_CORE_RANGES_H
#define DOSVC_CORE_RANGES_H

#include "dos.h"

/*
 * Validates count ranges against file_size (DOS_SIZE_UNKNOWN if unknown) and
 * returns a malloc'd copy in the order given, which is the order the ranges
 * are laid out in the local file (classic AddFileWithRanges: a file asked for
 * bytes 100-199, 900-999 and 400-499 holds 300 bytes, in that order). Zero
 * length, an offset of DOS_LENGTH_TO_EOF, overflow or a range past a known end
 * give DOS_E_INVALID_RANGE; duplicates and overlaps give
 * DOS_E_OVERLAPPING_RANGES (spec 3.12: checked in offset order, so equal
 * offsets always overlap). copy may be NULL to validate only.
 */
dos_status dos_ranges_validate(const dos_range *ranges, uint32_t count, uint64_t file_size, dos_range **copy);

/* Bytes the ranges request, or DOS_SIZE_UNKNOWN when that needs an unknown size. */
uint64_t dos_ranges_total(const dos_range *ranges, uint32_t count, uint64_t file_size);

#endif
