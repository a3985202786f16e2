/*
 * Validation of the names a job is given: remote names (http, https, file
 * URLs, UNC paths, absolute local paths; spec 5.9) and local names (absolute,
 * no devices, no streams, no wildcards). Pure functions of the text.
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
dos_status dos_check_local_name(const dos_char *name);

#endif
