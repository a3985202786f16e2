/*
 * The store's records, shared by the two files that operate on them:
 * store.c (jobs, files, runs) and download.c (the IDO download kind of job).
 * Nothing outside src/core/ includes this; everyone else goes through store.h.
 * The helpers below are called with the store's lock held unless they say
 * otherwise.
 */
#ifndef DOSVC_CORE_STORE_PRIVATE_H
#define DOSVC_CORE_STORE_PRIVATE_H

#include "port.h"
#include "store.h"
#include "table.h"

struct dos_store
{
    atomic_uint refs;
    port_mutex *lock;
    struct dos_job *head;          /* listed jobs, newest first */
    size_t job_count;
    struct table ids;              /* the listed jobs again, by id (GetJob, CreateJob's unique id) */
    /* Of IDO downloads (download.c), kept as their LocalPaths, states and listing change: the
     * started listed ones by LocalPath, and every folder that the LocalPath of a listed one lies
     * in, with how many do. */
    struct table started_paths;
    struct table folders;
    dos_event_fn listener;         /* the engine; called after the lock is left */
    void *listener_context;
    dos_run last_run;              /* run tokens are unique in the store */
};

struct dos_credential
{
    bool set;
    dos_char *user;
    dos_char *password;
};

struct dos_file
{
    struct dos_job *job;           /* the owner; files never outlive it */
    uint32_t index;
    dos_char *text[DOS_FILE_TEXT_COUNT];
    dos_range *ranges;             /* in the caller's order (the local file's layout); NULL: whole file */
    uint32_t range_count;
    uint64_t file_size;
    bool size_given;               /* by the caller (DO's fileSize, TotalSizeBytes): never forgotten */
    uint64_t transferred;
    uint64_t total;                /* what the ranges or the size come to: the file's share in its job's totals */
    bool done;                     /* total is known and transferred: the file counts as transferred */
    bool temp_created;             /* the engine made the temporary file: ours to delete */
    bool completed;
    bool validation_state;
    uint32_t http_status;          /* of the last response; 0 before any */
};

/* The IDO-only part of a download (download.c). */
struct dos_download
{
    bool started;                  /* Start succeeded once: a SUSPENDED download reads Paused, not Created */
    uint32_t set;                  /* bit per property set through SetProperty */
    struct dos_value values[DOS_DL_PROPERTY_COUNT];   /* owned copies; REF values live in the job */
    bool notified;                 /* what the last OnStatusChange reported, and when */
    struct dos_download_status last;
    uint64_t last_ms;
    dos_char *made_folder;         /* the outermost folder of LocalPath that Start made, or NULL */
    uint64_t taken_seq;            /* the number of the last status taken for OnStatusChange */
    uint64_t delivered_seq;        /* and of the last one delivered */
    dos_char *path_key;            /* LocalPath upper-cased (port_upcase), the tables' key; NULL: none */
    bool at_path;                  /* in the store's started_paths */
};

enum dos_job_kind { DOS_KIND_JOB, DOS_KIND_DOWNLOAD };

struct dos_job
{
    atomic_uint refs;
    struct dos_store *store;
    struct dos_job *prev, *next;   /* store list links, valid while listed */
    bool listed;
    enum dos_job_kind kind;

    dos_guid id;
    dos_job_type type;
    dos_job_state state;
    dos_char *text[DOS_JOB_TEXT_COUNT];
    uint32_t u32[DOS_JOB_U32_COUNT];
    dos_proxy_usage proxy_usage;
    dos_guid notification_clsid;
    struct dos_credential creds[DOS_AUTH_TARGETS][DOS_AUTH_SCHEMES];
    struct dos_ref *notify;        /* IBackgroundCopyCallback, or IDODownloadStatusCallback */
    bool has_cert;
    uint32_t cert_location;
    uint8_t cert_hash[DOS_CERT_HASH_SIZE];
    uint64_t creation_time, modification_time, transfer_completion_time;

    struct dos_file **files;
    uint32_t file_count, file_capacity;
    /* Kept up to date at every change of a file (store_file_leave, store_file_enter), so
     * that no read sums the files. */
    uint64_t known_bytes;          /* the totals of the files whose total is known */
    uint64_t bytes_transferred;
    uint32_t unknown_count;        /* files whose total is not known */
    uint32_t done_count;           /* files transferred */
    uint32_t unnamed_count;        /* files with no local name yet */
    uint32_t cursor;               /* every file before it is transferred: dos_job_next_file looks from here */
    struct table file_ids;         /* the files that have a DO file id, by it */

    dos_run run;                   /* the engine's current run; 0: none */
    bool finishing;                /* Cancel or Complete under way: no other change */

    bool has_error;
    struct dos_error_record error;
    uint32_t error_count;

    struct dos_download *download; /* DOS_KIND_DOWNLOAD only */
    struct dos_sink *sink;         /* a download's stream, instead of a local file */
};

static inline void lock(struct dos_job *job) { port_mutex_lock(job->store->lock); }
static inline void unlock(struct dos_job *job) { port_mutex_unlock(job->store->lock); }
static inline bool is_final(dos_job_state s) { return s == DOS_STATE_ACKNOWLEDGED || s == DOS_STATE_CANCELLED; }
/* A job takes no more changes once final, or while Cancel or Complete is finishing it. */
static inline bool closed(const struct dos_job *job) { return job->finishing || is_final(job->state); }
static inline void touch(struct dos_job *job) { job->modification_time = port_now_filetime(); }

/* Tells the listener what changed; called without the lock. */
void store_emit_run(struct dos_job *job, enum dos_event_kind kind, struct dos_file *file, dos_run run);
static inline void emit(struct dos_job *job, enum dos_event_kind kind, struct dos_file *file)
{
    store_emit_run(job, kind, file, 0);
}

dos_run store_revoke_run(struct dos_job *job);
/* Suspends the job (every state but a final one; only_moving: only a QUEUED, TRANSFERRING or
 * TRANSIENT_ERROR one), revoking its run and emitting what changed. */
dos_status store_suspend(struct dos_job *job, bool only_moving);
dos_status store_check_text(const dos_char *s, size_t max, bool nullable);
dos_status store_replace_text(dos_char **slot, const dos_char *value);
/* Every change of a file's size, ranges, progress or local name is made between these two:
 * leave takes the file's share out of its job's totals, enter puts the new one in (and moves
 * the job's cursor back to the file if it is no longer transferred). */
void store_file_leave(struct dos_file *f);
void store_file_enter(struct dos_file *f);
static inline bool store_all_files_transferred(const struct dos_job *job) { return job->done_count == job->file_count; }
void store_enter_transferred(struct dos_job *job);
dos_char *store_make_temp_name(const struct dos_job *job, uint32_t index, const dos_char *local);
/* Builds a file record from a spec, without the lock; store_free_file undoes it. */
dos_status store_make_file(const struct dos_file_spec *spec, struct dos_file **out);
void store_free_file(struct dos_file *f);
/* Appends a made file to the job; false without memory. */
bool store_link_file(struct dos_job *job, struct dos_file *f);
/* A new job record, listed, with the caller's reference and the list's; a download when
 * download is given, which the job then owns (on success only). */
dos_status store_new_job(struct dos_store *store, const dos_char *display_name, const dos_char *owner,
                         struct dos_download *download, struct dos_job **out);

/* download.c: frees a job's IDO part (no lock; the job is being destroyed). */
void store_free_download(struct dos_download *download);
/* download.c: takes a download that is being unlisted out of the store's tables of started
 * paths and folders; lock held, the job still listed. */
void store_unlist_download(struct dos_job *job);

#endif
