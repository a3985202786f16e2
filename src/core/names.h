/*
 * Validation of the names a job is given: remote names (http, https, file
 * URLs, UNC paths, absolute local paths; spec 5.9) and local names (absolute,
 * no devices, no streams, no wildcards), and the path a file URL names. Pure
 * functions of the text.
 */
#ifndef DOSVC_CORE_NAMES_H
#define DOSVC_CORE_NAMES_H

#include "dos.h"

typedef enum dos_remote_kind
{
    DOS_REMOTE_HTTP,
    DOS_REMOTE_HTTPS,
    DOS_REMOTE_FILE_URL,
    DOS_REMOTE_UNC,
    DOS_REMOTE_LOCAL_PATH
} dos_remote_kind;

/* DOS_OK and *kind, or DOS_E_INVALID_ARG / DOS_E_STRING_TOO_LONG. kind may be NULL. */
dos_status dos_check_remote_name(const dos_char *name, dos_remote_kind *kind);
/*
 * The path a file URL, UNC path or absolute path names, into out (size characters with the
 * NUL): a file URL's escapes decoded (UTF-8) and its form turned into a drive or UNC path.
 * DOS_OK only for a path of a local name's rules (absolute; no device, stream or wildcard; no
 * \\?\ or \\.\ prefix); DOS_E_STRING_TOO_LONG if it does not fit. What the transport opens.
 */
dos_status dos_remote_file_path(const dos_char *name, dos_char *out, size_t size);
dos_status dos_check_local_name(const dos_char *name);

#endif
