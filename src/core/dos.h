/*
 * The vocabulary of dosvc's portable core: UTF-16 text, GUIDs, the core's own
 * status codes (mapped to HRESULTs only at the COM boundary), the enums the
 * store keeps, and the limits it enforces. Numeric values of the enums match
 * the BITS/DO API so no translation table is needed for them.
 */
#ifndef DOSVC_CORE_DOS_H
#define DOSVC_CORE_DOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint16_t dos_char;          /* one UTF-16 code unit, as WCHAR */

typedef struct dos_guid
{
    uint32_t data1;
    uint16_t data2;
    uint16_t data3;
    uint8_t data4[8];
} dos_guid;

typedef void *(*dos_alloc_fn)(size_t size);

typedef enum dos_status
{
    DOS_OK = 0,
    DOS_S_PARTIAL_COMPLETE,     /* Complete kept only some files */
    DOS_S_NOTHING_TO_REMOVE,    /* RemoveCredentials found nothing */
    DOS_E_INVALID_ARG,
    DOS_E_OUT_OF_MEMORY,
    DOS_E_STRING_TOO_LONG,
    DOS_E_INVALID_STATE,
    DOS_E_JOB_NOT_FOUND,
    DOS_E_JOB_EMPTY,
    DOS_E_INVALID_RANGE,
    DOS_E_OVERLAPPING_RANGES,
    DOS_E_TOO_MANY_FILES,
    DOS_E_TOO_MANY_RANGES,
    DOS_E_NO_ERROR_INFO,
    DOS_E_FILE_NOT_AVAILABLE,
    DOS_E_SINK_UNSPECIFIED,     /* a file has no local name yet */
    DOS_E_UNKNOWN_PROPERTY,
    DOS_E_READ_ONLY_PROPERTY,
    DOS_E_WRITE_ONLY_PROPERTY,
    DOS_E_NOT_SET,
    DOS_E_MEMORY_STREAM_UNSUPPORTED,
    DOS_E_ACCESS_DENIED,
    DOS_E_SINK_ALREADY_SET,     /* a download has the other kind of sink (file or stream) */
    DOS_E_NO_URI,               /* a download started without a URI */
    DOS_E_RANGES_EXPECTED,      /* a stream download started without ranges */
    DOS_E_RANGES_UNEXPECTED,    /* ranges given where the download takes none */
    DOS_STATUS_COUNT
} dos_status;

static inline bool dos_failed(dos_status s) { return s >= DOS_E_INVALID_ARG; }

typedef enum dos_job_state
{
    DOS_STATE_QUEUED = 0,
    DOS_STATE_CONNECTING = 1,
    DOS_STATE_TRANSFERRING = 2,
    DOS_STATE_SUSPENDED = 3,
    DOS_STATE_ERROR = 4,
    DOS_STATE_TRANSIENT_ERROR = 5,
    DOS_STATE_TRANSFERRED = 6,
    DOS_STATE_ACKNOWLEDGED = 7,
    DOS_STATE_CANCELLED = 8
} dos_job_state;

typedef enum dos_job_type { DOS_JOB_DOWNLOAD = 0 } dos_job_type;

typedef enum dos_priority
{
    DOS_PRIORITY_FOREGROUND = 0,
    DOS_PRIORITY_HIGH = 1,
    DOS_PRIORITY_NORMAL = 2,
    DOS_PRIORITY_LOW = 3
} dos_priority;

typedef enum dos_proxy_usage
{
    DOS_PROXY_PRECONFIG = 0,
    DOS_PROXY_NO_PROXY = 1,
    DOS_PROXY_OVERRIDE = 2,
    DOS_PROXY_AUTODETECT = 3
} dos_proxy_usage;

typedef enum dos_error_context
{
    DOS_CONTEXT_NONE = 0,
    DOS_CONTEXT_UNKNOWN = 1,
    DOS_CONTEXT_GENERAL_QUEUE_MANAGER = 2,
    DOS_CONTEXT_QUEUE_MANAGER_NOTIFICATION = 3,
    DOS_CONTEXT_LOCAL_FILE = 4,
    DOS_CONTEXT_REMOTE_FILE = 5,
    DOS_CONTEXT_GENERAL_TRANSPORT = 6,
    DOS_CONTEXT_REMOTE_APPLICATION = 7,
    DOS_CONTEXT_SERVER_CERTIFICATE_CALLBACK = 8
} dos_error_context;

#define DOS_SIZE_UNKNOWN    UINT64_MAX  /* BG_SIZE_UNKNOWN, DO_UNKNOWN_FILE_SIZE */
#define DOS_LENGTH_TO_EOF   UINT64_MAX  /* BG_LENGTH_TO_EOF, DO_LENGTH_TO_EOF */

/* BG_NOTIFY_* bits that exist; anything else is rejected. */
#define DOS_NOTIFY_ALL_FLAGS 0x3Fu
/* BG_COPY_FILE_ALL */
#define DOS_ACL_ALL_FLAGS 0x0Fu
/* BG_JOB_ENABLE_PEERCACHING_CLIENT | _SERVER | BG_JOB_DISABLE_BRANCH_CACHE */
#define DOS_PEER_CACHING_ALL_FLAGS 0x07u
/* BITS_COST_STATE_* bits: the high "reserved" bit and the eight cost states */
#define DOS_COST_ALL_FLAGS 0x800000FFu
/* BITS_JOB_TRANSFER_POLICY_ALWAYS, classic BITS' default */
#define DOS_COST_DEFAULT 0x800000FFu

/* IBackgroundCopyJobHttpOptions security flags: the BG_SSL_* bits, one redirect policy
 * (ALLOW_SILENT 0, ALLOW_REPORT 0x100, DISALLOW 0x200 in the mask 0x700) and ALLOW_HTTPS_TO_HTTP. */
#define DOS_SSL_FLAGS 0x1Fu
#define DOS_REDIRECT_POLICY_MASK 0x0700u
#define DOS_REDIRECT_ALLOW_REPORT 0x0100u
#define DOS_REDIRECT_DISALLOW 0x0200u
#define DOS_REDIRECT_HTTPS_TO_HTTP 0x0800u
#define DOS_CERT_STORE_LOCATIONS 8u     /* BG_CERT_STORE_LOCATION_* 0..7 */
#define DOS_CERT_HASH_SIZE 20           /* a SHA-1 thumbprint */

/* Limits (spec 3.1, 3.6, 5.9; classic BITS for the rest). Lengths exclude NUL. */
#define DOS_MAX_DISPLAY_NAME 256
#define DOS_MAX_DESCRIPTION 1024
#define DOS_MAX_URL 2200
#define DOS_MAX_LOCAL_NAME 259          /* MAX_PATH - 1 */
#define DOS_MAX_PROXY_LIST 4000
#define DOS_MAX_NOTIFY_PROGRAM 259
#define DOS_MAX_NOTIFY_PARAMS 4000
#define DOS_MAX_CREDENTIAL 300
#define DOS_MAX_CUSTOM_HEADERS 16383    /* SetCustomHeaders: 16,384 with the NUL */
#define DOS_MAX_CERT_NAME 1024
#define DOS_MAX_FILE_ID 1024
#define DOS_MAX_FILES_PER_JOB 100000
#define DOS_MAX_RANGES_PER_FILE 10000

/* Default timeouts in seconds: DO's "low priority" values (spec 7.7) and
 * classic BITS' minimum retry delay. */
#define DOS_DEFAULT_NO_PROGRESS_TIMEOUT 86400u
#define DOS_DEFAULT_RETRY_DELAY 600u
/* Classic BITS' default maximum download time: 90 days. */
#define DOS_DEFAULT_MAX_DOWNLOAD_TIME 7776000u

typedef struct dos_range
{
    uint64_t offset;
    uint64_t length;            /* DOS_LENGTH_TO_EOF: to the end of the file */
} dos_range;

#endif
