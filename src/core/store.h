/*
 * The store: the one place where jobs, their files, states, progress, errors
 * and times live (DESIGN: "the store is the truth"). COM objects are views
 * holding a counted reference to a job record; the engine writes progress and
 * errors back here. docs/store.md states the records, invariants and locking.
 *
 * Lifetimes: a store is counted; each job holds a reference to its store. A
 * job is counted; the store's list holds one reference while the job is
 * listed (until Cancel or Complete). Files belong to their job and live as
 * long as it does: whoever holds a struct dos_file * holds its job.
 *
 * Every function here takes the store's lock for memory operations only and
 * never calls out while holding it. Releasing a job may run client code (its
 * notify reference), so callers never release with the lock held.
 */
#ifndef DOSVC_CORE_STORE_H
#define DOSVC_CORE_STORE_H

#include <stdatomic.h>

#include "dos.h"

struct dos_store;
struct dos_job;
struct dos_file;

/* A counted object the store keeps for its user (a client callback wrapper). */
struct dos_ref
{
    atomic_uint refs;
    void (*destroy)(struct dos_ref *ref);
};

static inline void dos_ref_retain(struct dos_ref *ref)
{
    if (ref) atomic_fetch_add(&ref->refs, 1);
}

static inline void dos_ref_release(struct dos_ref *ref)
{
    if (ref && atomic_fetch_sub(&ref->refs, 1) == 1) ref->destroy(ref);
}

/* Where a download's bytes go instead of a temporary file (IDO's StreamInterface): write takes
 * them in order and answers an HRESULT (opaque to the core). */
struct dos_sink
{
    struct dos_ref ref;
    /* Hands bytes to the client; a failed HRESULT if it refuses them, or once closed. */
    int32_t (*write)(struct dos_sink *sink, const void *data, uint32_t size);
    /* After this returns no write is under way and none will reach the client (Abort, Finalize). */
    void (*close)(struct dos_sink *sink);
};

/* ---- store --------------------------------------------------------------- */

struct dos_store *dos_store_create(void);
void dos_store_retain(struct dos_store *store);
void dos_store_release(struct dos_store *store);
size_t dos_store_job_count(struct dos_store *store);
/* Drops the list's reference to every job (tests, DLL unload); views keep working. */
void dos_store_shutdown(struct dos_store *store);

/* ---- jobs ---------------------------------------------------------------- */

enum dos_job_u32
{
    DOS_JOB_PRIORITY,
    DOS_JOB_NOTIFY_FLAGS,
    DOS_JOB_RETRY_DELAY,
    DOS_JOB_NO_PROGRESS_TIMEOUT,
    DOS_JOB_ACL_FLAGS,
    DOS_JOB_PEER_CACHING_FLAGS,
    DOS_JOB_MAX_DOWNLOAD_TIME,
    DOS_JOB_COST_FLAGS,
    DOS_JOB_SECURITY_FLAGS,
    DOS_JOB_U32_COUNT
};

enum dos_job_text
{
    DOS_JOB_DISPLAY_NAME,
    DOS_JOB_DESCRIPTION,
    DOS_JOB_OWNER,
    DOS_JOB_PROXY_LIST,
    DOS_JOB_PROXY_BYPASS,
    DOS_JOB_NOTIFY_PROGRAM,
    DOS_JOB_NOTIFY_PARAMS,
    DOS_JOB_CUSTOM_HEADERS,
    DOS_JOB_CERT_STORE_NAME,
    DOS_JOB_CERT_SUBJECT,
    DOS_JOB_CUSTOM_AUTH_HEADERS,   /* IDO's HttpCustomAuthHeaders: sent when the server challenges */
    DOS_JOB_TEXT_COUNT
};

/* BG_AUTH_TARGET 1..2 and BG_AUTH_SCHEME 1..5 */
#define DOS_AUTH_TARGETS 2
#define DOS_AUTH_SCHEMES 5

/* A consistent copy of a job's scalar state, taken under the lock. */
struct dos_job_info
{
    dos_guid id;
    dos_job_type type;
    dos_job_state state;
    uint32_t u32[DOS_JOB_U32_COUNT];
    dos_proxy_usage proxy_usage;
    dos_guid notification_clsid;
    uint64_t creation_time, modification_time, transfer_completion_time;
    uint32_t error_count;
    uint32_t files_total, files_transferred;
    uint64_t bytes_total;          /* DOS_SIZE_UNKNOWN while any file's size is */
    uint64_t bytes_transferred;
};

/* The error a job is in (ERROR or TRANSIENT_ERROR). file is borrowed from the job. */
struct dos_error_record
{
    int32_t code;                  /* an HRESULT, opaque to the core */
    dos_error_context context;
    struct dos_file *file;         /* NULL: the error concerns no single file */
    dos_char *protocol;            /* NULL: none */
    int32_t summary;               /* 0, or the error a no-progress timeout gave (code is then its cause) */
};

struct dos_file_spec
{
    const dos_char *file_id;       /* DO's fileId; NULL for BITS-style adds */
    const dos_char *remote_name;
    const dos_char *local_name;    /* NULL only with local_optional */
    const dos_range *ranges;
    uint32_t range_count;          /* 0: the whole file */
    uint64_t file_size;            /* DOS_SIZE_UNKNOWN if the caller does not know */
    bool local_optional;           /* IDeliveryOptimizationJob2::AddFile sets the sink later */
};

dos_status dos_store_create_job(struct dos_store *store, const dos_char *display_name, dos_job_type type,
                                const dos_char *owner, struct dos_job **job);
dos_status dos_store_find_job(struct dos_store *store, const dos_guid *id, struct dos_job **job);
/* A snapshot of the listed BITS-style jobs (of one owner, or all when owner is NULL), each
 * retained; IDO downloads are not jobs to this family (dos_store_list_downloads). */
dos_status dos_store_list_jobs(struct dos_store *store, const dos_char *owner, struct dos_job ***jobs,
                               size_t *count);
void dos_jobs_release(struct dos_job **jobs, size_t count);

void dos_job_retain(struct dos_job *job);
void dos_job_release(struct dos_job *job);

void dos_job_get_info(struct dos_job *job, struct dos_job_info *info);
/* DOS_E_NOT_SET when the job has no such text (no description, no proxy list). */
dos_status dos_job_copy_text(struct dos_job *job, enum dos_job_text which, dos_alloc_fn alloc, dos_char **out);

dos_status dos_job_set_u32(struct dos_job *job, enum dos_job_u32 which, uint32_t value);
dos_status dos_job_set_display_name(struct dos_job *job, const dos_char *name);
dos_status dos_job_set_description(struct dos_job *job, const dos_char *description);
dos_status dos_job_set_owner(struct dos_job *job, const dos_char *owner);
dos_status dos_job_set_proxy(struct dos_job *job, dos_proxy_usage usage, const dos_char *list, const dos_char *bypass);
dos_status dos_job_set_notify_cmdline(struct dos_job *job, const dos_char *program, const dos_char *params);
dos_status dos_job_set_notification_clsid(struct dos_job *job, const dos_guid *clsid);
/* Header lines ("Name: value", each ended by CR LF, the last one's optional); NULL removes them. */
dos_status dos_job_set_custom_headers(struct dos_job *job, const dos_char *headers);
/* The client certificate by store and SHA-1 thumbprint, with its subject; the COM layer has
 * checked that the store holds it. */
dos_status dos_job_set_client_cert(struct dos_job *job, uint32_t location, const dos_char *store_name,
                                   const uint8_t hash[DOS_CERT_HASH_SIZE], const dos_char *subject);
dos_status dos_job_remove_client_cert(struct dos_job *job);
/* DOS_E_NOT_SET when the job has none; the names through alloc. */
dos_status dos_job_get_client_cert(struct dos_job *job, uint32_t *location, uint8_t hash[DOS_CERT_HASH_SIZE],
                                   dos_alloc_fn alloc, dos_char **store_name, dos_char **subject);
dos_status dos_job_set_credentials(struct dos_job *job, uint32_t target, uint32_t scheme,
                                   const dos_char *user, const dos_char *password);
dos_status dos_job_remove_credentials(struct dos_job *job, uint32_t target, uint32_t scheme);
bool dos_job_has_credentials(struct dos_job *job, uint32_t target, uint32_t scheme);
/* Copies of the user name and password set for target and scheme (either may be NULL); false if none. */
bool dos_job_copy_credentials(struct dos_job *job, uint32_t target, uint32_t scheme, dos_alloc_fn alloc,
                              dos_char **user, dos_char **password);

/* Takes over the caller's reference to ref (may be NULL). *old receives what the caller
 * must release after this returns: the previous reference, or ref itself on failure. */
dos_status dos_job_swap_notify(struct dos_job *job, struct dos_ref *ref, struct dos_ref **old);
struct dos_ref *dos_job_get_notify(struct dos_job *job);      /* retained, or NULL */
/* Whether a callback is registered, without taking a reference (any thread may ask). */
bool dos_job_has_notify(struct dos_job *job);

/* Adds all files or none. *first (optional) is the first added file. */
dos_status dos_job_add_files(struct dos_job *job, const struct dos_file_spec *specs, size_t count,
                             struct dos_file **first);
/* A snapshot of the job's files in order, in a malloc'd array (the job keeps them alive). */
dos_status dos_job_list_files(struct dos_job *job, struct dos_file ***files, size_t *count);
/* Replaces old_prefix by new_prefix at the start of every remote name that has it. */
dos_status dos_job_replace_remote_prefix(struct dos_job *job, const dos_char *old_prefix, const dos_char *new_prefix);

dos_status dos_job_suspend(struct dos_job *job);
dos_status dos_job_resume(struct dos_job *job);

/*
 * Cancel and Complete in two steps, so the files can be dealt with in between:
 * begin_finish stops the job (its run is revoked, every other change now fails)
 * and end_finish commits the final state. With ACKNOWLEDGED, a transferred file
 * is marked completed unless kept[index] is false (its rename failed); kept may
 * be NULL. end_finish gives DOS_S_PARTIAL_COMPLETE when some file was not kept.
 */
dos_status dos_job_begin_finish(struct dos_job *job);
dos_status dos_job_end_finish(struct dos_job *job, dos_job_state final_state, const bool *kept);
/* Gives a job being finished back, unfinished (the engine could not deal with all its files):
 * its run stays revoked, so a job that was running is now SUSPENDED. A transferred file with
 * kept[index] true (kept may be NULL) is marked completed: it was moved onto its final name,
 * and a later Complete or Cancel leaves it there. */
dos_status dos_job_abort_finish(struct dos_job *job, const bool *kept);
/* Both steps at once, for a job whose files need no work on disk. */
dos_status dos_job_cancel(struct dos_job *job);
dos_status dos_job_complete(struct dos_job *job);   /* DOS_OK or DOS_S_PARTIAL_COMPLETE */

/* A copy of the current error; free it with dos_error_record_clear. */
dos_status dos_job_get_error(struct dos_job *job, struct dos_error_record *record);
void dos_error_record_clear(struct dos_error_record *record);

/* ---- the engine's side ---------------------------------------------------
 * The engine learns of work through one listener, called after each change
 * that an event below describes, with the store's lock left, on the thread
 * that made the change; a listener removed with dos_store_set_listener may
 * still see an event that was already under way. A job is moved by one run at
 * a time: dos_job_start_run takes a QUEUED job to TRANSFERRING and names the
 * run (tokens are unique in the store); every write the engine makes carries
 * it, and once the client suspends the job, resumes it out of an error,
 * cancels or completes it, or a fatal error is reported, the run is revoked
 * and those writes fail with DOS_E_INVALID_STATE, changing nothing.
 */
typedef uint64_t dos_run;

enum dos_event_kind
{
    DOS_EVENT_RUNNABLE,            /* the job entered QUEUED */
    DOS_EVENT_STOPPED,             /* the job's run was revoked */
    DOS_EVENT_MODIFIED,            /* anything a JobModification callback reports */
    DOS_EVENT_TRANSFERRED,         /* the job entered TRANSFERRED */
    DOS_EVENT_ERROR,               /* the job entered ERROR */
    DOS_EVENT_FILE_TRANSFERRED     /* event.file is now fully on disk */
};

struct dos_event
{
    enum dos_event_kind kind;
    struct dos_job *job;           /* borrowed for the call */
    struct dos_file *file;         /* FILE_TRANSFERRED */
    dos_run run;                   /* STOPPED: the run that was revoked */
};

typedef void (*dos_event_fn)(void *context, const struct dos_event *event);

void dos_store_set_listener(struct dos_store *store, dos_event_fn listener, void *context);

/* What a transport needs of one file, copied out of the store. */
struct dos_transfer_file
{
    struct dos_file *file;
    uint32_t index;
    dos_char *remote_name, *local_name, *temp_name;
    dos_range *ranges;             /* in the caller's order; NULL: the whole file */
    uint32_t range_count;
    uint64_t file_size;            /* DOS_SIZE_UNKNOWN until known */
    uint64_t transferred;          /* requested bytes already in the temporary file */
    bool temp_created;
    dos_char *validator;           /* what the bytes on disk came from (ETag or Last-Modified), or NULL */
    struct dos_sink *sink;         /* retained: a stream the bytes go to instead of a temporary file */
};

dos_status dos_job_start_run(struct dos_job *job, dos_run *run);
bool dos_job_run_is_live(struct dos_job *job, dos_run run);
/* The first file not yet transferred, or DOS_E_NOT_SET when none is left; DOS_E_SINK_UNSPECIFIED
 * (with file->file set) when that file has no local name yet. */
dos_status dos_job_next_file(struct dos_job *job, dos_run run, struct dos_transfer_file *file);
void dos_transfer_file_clear(struct dos_transfer_file *file);
dos_status dos_file_mark_temp_created(struct dos_file *file, dos_run run);
/* The file was redirected and the job asked to be told (BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT):
 * its remote name becomes the final URL. */
dos_status dos_file_report_redirect(struct dos_file *file, dos_run run, const dos_char *url);
/* What is known of a file's size and how much of it is on disk; leaves TRANSIENT_ERROR. */
dos_status dos_file_record_progress(struct dos_file *file, dos_run run, uint64_t file_size, uint64_t bytes_transferred);
/* The same for bytes already handed to a download's stream: they count even if the run was
 * revoked while they were being written (nothing can take them back), unless another run has
 * begun or the job is being finished. */
dos_status dos_file_record_delivered(struct dos_file *file, dos_run run, uint64_t file_size, uint64_t bytes_transferred);
/* A server's response: its headers (for BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS) and, if
 * the file has none yet, the validator its bytes will be resumed against (may be NULL). */
dos_status dos_file_record_response(struct dos_file *file, dos_run run, const dos_char *headers,
                                    const dos_char *validator);
/* The last HTTP response for a file: its status, the server's address (text, NULL if unknown)
 * and the URL that answered (after redirects). IDO's read-only HttpStatusCode,
 * HttpServerIPAddress and HttpRedirectionTarget read them. */
dos_status dos_file_record_http(struct dos_file *file, dos_run run, uint32_t status, const dos_char *server_address,
                                const dos_char *url);
/* The remote file changed or cannot be resumed: its bytes start over (size and validator
 * forgotten, unless the caller gave the size). */
dos_status dos_file_restart(struct dos_file *file, dos_run run);
/* A transient error's retry begins: TRANSIENT_ERROR back to TRANSFERRING. */
dos_status dos_job_retry(struct dos_job *job, dos_run run);
/* Every file is on disk: TRANSFERRED, and the run ends. */
dos_status dos_job_finish_run(struct dos_job *job, dos_run run);
/* A transfer failed: TRANSIENT_ERROR (the run goes on) or ERROR (the run ends). */
dos_status dos_job_report_error(struct dos_job *job, dos_run run, bool transient, int32_t code,
                                dos_error_context context, struct dos_file *file, const dos_char *protocol);
/* A transient error that outlasted the no-progress timeout: fatal like any other, and marked
 * with summary (an HRESULT, DO_E_DOWNLOAD_NO_PROGRESS), which IDO's GetStatus reads as its
 * Error with code as the ExtendedError; GetError still answers code. */
dos_status dos_job_report_no_progress(struct dos_job *job, dos_run run, int32_t summary, int32_t code,
                                      dos_error_context context, struct dos_file *file, const dos_char *protocol);

/* ---- files --------------------------------------------------------------- */

enum dos_file_text
{
    DOS_FILE_REMOTE_NAME,
    DOS_FILE_LOCAL_NAME,
    DOS_FILE_TEMP_NAME,
    DOS_FILE_ID,
    DOS_FILE_RESPONSE_HEADERS,
    DOS_FILE_VALIDATOR,            /* the server's ETag or Last-Modified, for If-Range */
    DOS_FILE_SERVER_ADDRESS,       /* the last response's server address */
    DOS_FILE_FINAL_URL,            /* the URL the last response came from */
    DOS_FILE_TEXT_COUNT
};

struct dos_file_info
{
    uint64_t bytes_total;          /* requested bytes; DOS_SIZE_UNKNOWN if not yet known */
    uint64_t bytes_transferred;
    bool completed;                /* available under its final name (after Complete) */
    bool temp_created;             /* the engine made its temporary file */
    uint64_t file_size;            /* the whole remote file, DOS_SIZE_UNKNOWN if unknown */
    uint32_t range_count;
    bool validation_state;
    uint32_t http_status;          /* of the last response, 0 before any */
    dos_job_state job_state;
    dos_priority job_priority;
};

struct dos_job *dos_file_job(struct dos_file *file);          /* borrowed */
void dos_file_get_info(struct dos_file *file, struct dos_file_info *info);
/* DOS_E_NOT_SET when the file has no such text (no local name yet, no response yet). */
dos_status dos_file_copy_text(struct dos_file *file, enum dos_file_text which, dos_alloc_fn alloc, dos_char **out);
dos_status dos_file_copy_ranges(struct dos_file *file, dos_alloc_fn alloc, dos_range **ranges, uint32_t *count);

dos_status dos_file_set_remote_name(struct dos_file *file, const dos_char *url);
dos_status dos_file_set_local_name(struct dos_file *file, const dos_char *path);
dos_status dos_file_set_size(struct dos_file *file, uint64_t size);
dos_status dos_file_set_validation_state(struct dos_file *file, bool valid);

/* ---- IDO downloads (docs/ido.md) -------------------------------------------
 * An IDO download is a job of this store, of its own kind: it has at most one
 * file, made by its first Start from its properties, and the IDO-only
 * properties below. It is listed, found and enumerated only as a download,
 * never as a BITS-style job; everything else (runs, the engine, errors,
 * Finalize and Abort through begin_finish/end_finish) is the job's.
 */

/* DODownloadState, in the API's numbering. */
typedef enum dos_download_state
{
    DOS_DL_CREATED = 0,
    DOS_DL_TRANSFERRING = 1,
    DOS_DL_TRANSFERRED = 2,
    DOS_DL_FINALIZED = 3,
    DOS_DL_ABORTED = 4,
    DOS_DL_PAUSED = 5
} dos_download_state;

/* DODownloadProperty, in the API's numbering. */
enum dos_dl_property
{
    DOS_DL_ID, DOS_DL_URI, DOS_DL_CONTENT_ID, DOS_DL_DISPLAY_NAME, DOS_DL_LOCAL_PATH,
    DOS_DL_HTTP_CUSTOM_HEADERS, DOS_DL_COST_POLICY, DOS_DL_SECURITY_FLAGS, DOS_DL_CALLBACK_FREQ_PERCENT,
    DOS_DL_CALLBACK_FREQ_SECONDS, DOS_DL_NO_PROGRESS_TIMEOUT, DOS_DL_FOREGROUND_PRIORITY, DOS_DL_BLOCKING_MODE,
    DOS_DL_CALLBACK_INTERFACE, DOS_DL_STREAM_INTERFACE, DOS_DL_SECURITY_CONTEXT, DOS_DL_NETWORK_TOKEN,
    DOS_DL_CORRELATION_VECTOR, DOS_DL_DECRYPTION_INFO, DOS_DL_INTEGRITY_CHECK_INFO,
    DOS_DL_INTEGRITY_CHECK_MANDATORY, DOS_DL_TOTAL_SIZE_BYTES, DOS_DL_DISALLOW_ON_CELLULAR,
    DOS_DL_HTTP_CUSTOM_AUTH_HEADERS, DOS_DL_HTTP_ALLOW_SECURE_TO_NON_SECURE_REDIRECT, DOS_DL_NON_VOLATILE,
    DOS_DL_HTTP_REDIRECTION_TARGET, DOS_DL_HTTP_RESPONSE_HEADERS, DOS_DL_HTTP_SERVER_IP_ADDRESS,
    DOS_DL_HTTP_STATUS_CODE,
    DOS_DL_PROPERTY_COUNT
};

/* A property's value, as the core keeps it; the COM layer converts VARIANTs to and from it. */
enum dos_value_type
{
    DOS_VALUE_NONE,
    DOS_VALUE_U32,
    DOS_VALUE_U64,
    DOS_VALUE_BOOL,
    DOS_VALUE_TEXT,
    DOS_VALUE_BYTES,
    DOS_VALUE_REF              /* a callback (a dos_ref) or a stream (a dos_sink's ref) */
};

struct dos_value
{
    enum dos_value_type type;
    union
    {
        uint32_t u32;
        uint64_t u64;
        bool b;
        dos_char *text;                                /* borrowed on set; allocated on get */
        struct { uint8_t *data; uint32_t size; } bytes; /* borrowed on set; allocated on get */
        struct dos_ref *ref;                           /* taken over on set; retained on get */
    } u;
};

struct dos_download_status
{
    uint64_t bytes_total;          /* 0 until the size is known */
    uint64_t bytes_transferred;
    dos_download_state state;
    int32_t error;                 /* fatal: the download is Paused with it */
    int32_t extended_error;        /* transient: Paused with error 0 and the cause here */
};

dos_status dos_store_create_download(struct dos_store *store, const dos_char *owner, struct dos_job **job);
/* A snapshot of the listed downloads of owner (all when NULL), oldest first, each retained. */
dos_status dos_store_list_downloads(struct dos_store *store, const dos_char *owner, struct dos_job ***jobs,
                                    size_t *count);
bool dos_job_is_download(struct dos_job *job);

/* What a property holds (DOS_E_UNKNOWN_PROPERTY for an id outside the enum) and whether it may be
 * written (DOS_E_READ_ONLY_PROPERTY) or read (DOS_E_WRITE_ONLY_PROPERTY). */
dos_status dos_download_property_type(uint32_t id, bool write, enum dos_value_type *type);
/* Sets a property after checking its value and the state. A REF value is taken over on
 * success; *old (if not NULL after the call) is what the caller releases, outside any lock. */
dos_status dos_download_set_property(struct dos_job *job, uint32_t id, const struct dos_value *value,
                                     struct dos_ref **old);
/* A copy of a property through alloc; DOS_E_NOT_SET if it was never set (or, for the read-only
 * Http* ones, before any response). */
dos_status dos_download_get_property(struct dos_job *job, uint32_t id, dos_alloc_fn alloc, struct dos_value *out);
void dos_download_value_clear(struct dos_value *value, void (*free_fn)(void *));

/*
 * Start (spec 5.10, 5.7): the first start makes the download's file from its
 * properties and queues it; a paused download resumes; a transferred stream
 * download may be started again for other ranges. count == 0 asks for the
 * whole file. check_only validates without changing anything (the COM layer
 * creates missing folders in between).
 */
dos_status dos_download_start(struct dos_job *job, const dos_range *ranges, uint32_t count, bool check_only);
dos_status dos_download_pause(struct dos_job *job);
/* Finalize (ACKNOWLEDGED) or Abort (CANCELLED): begin_finish with IDO's state rules. */
dos_status dos_download_begin_finish(struct dos_job *job, dos_job_state final_state);
void dos_download_get_status(struct dos_job *job, struct dos_download_status *status);
/* Whether OnStatusChange is due now (a state or error change, or progress at the frequency the
 * CallbackFreq* properties ask); if so, *status is what to report and is recorded as reported,
 * and *seq numbers it. now_ms: a monotonic clock. */
bool dos_download_take_notification(struct dos_job *job, uint64_t now_ms, struct dos_download_status *status,
                                    uint64_t *seq);
/* Whether the status numbered seq is to be delivered: FALSE once a later one was (notices of
 * one download may reach the notifier out of order; the client hears the newest last). */
bool dos_download_claim_delivery(struct dos_job *job, uint64_t seq);
/* In Finalized or Aborted, once the client has heard so: the callback, handed to the caller to
 * release (a callback that holds its download would otherwise keep both alive); else NULL. */
struct dos_ref *dos_download_drop_callback_if_final(struct dos_job *job);
/* The outermost folder of LocalPath that the first Start made (a copy is kept), so that Abort
 * can remove the folders it made once they are empty; take hands it over (malloc'd) or NULL. */
dos_status dos_download_set_made_folder(struct dos_job *job, const dos_char *folder);
dos_char *dos_download_take_made_folder(struct dos_job *job);
/* The started downloads of job's owner, other than job, whose LocalPath is job's (names that
 * differ only in case are one, as on Windows), retained (dos_jobs_release): DoSvc aborts them
 * when job starts (clients.md 1.4). A lookup, whatever the number of downloads. */
dos_status dos_download_list_others_at_path(struct dos_job *job, struct dos_job ***out, size_t *count);
/* Whether the LocalPath of a listed download other than job lies in folder, at any depth
 * (without regard to case): a folder job's Start made that its Abort must leave. A lookup;
 * true when it cannot tell (no memory). */
bool dos_download_folder_needed(struct dos_job *job, const dos_char *folder);
/* Retained, or NULL: the download's stream sink. */
struct dos_sink *dos_job_get_sink(struct dos_job *job);

#endif
