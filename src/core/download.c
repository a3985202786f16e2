/*
 * IDO downloads as records of the store (docs/ido.md): a download is a job of
 * its own kind whose one file is made by its first Start. This file owns what
 * only downloads have: the 30 DODownloadProperty values and their rules, the
 * IDO state machine over the job's states, the status IDODownload::GetStatus
 * reports, when OnStatusChange is due, and the store's tables of downloads by
 * LocalPath and of their folders. The job's lock guards all of it.
 */
#include "store_private.h"

#include <stdlib.h>
#include <string.h>

#include "headers.h"
#include "names.h"
#include "ranges.h"
#include "wstr.h"

/* A transient error is retried after this many seconds (BITS' 600 s default is far too long
 * for IDO clients, which wait on the download; DO's own agent backs off up to 30 s). */
#define DOWNLOAD_RETRY_DELAY 5u
/* DO's agent gives up after about five minutes without progress (clients.md 1.5); a day, BITS'
 * default, would keep winget from ever falling back to its own downloader. */
#define DOWNLOAD_NO_PROGRESS_TIMEOUT 300u
#define MIN_NO_PROGRESS_TIMEOUT 60u          /* spec 4.2: the smallest accepted value */
#define MAX_CORRELATION_VECTOR 128

/* WinHTTP security flags SecurityFlags accepts (spec 4.2, property 7) and their BG_SSL_* twins. */
#define WINHTTP_REVOCATION 0x0001u
#define WINHTTP_IGNORE_UNKNOWN_CA 0x0100u
#define WINHTTP_IGNORE_WRONG_USAGE 0x0200u
#define WINHTTP_IGNORE_CN_INVALID 0x1000u
#define WINHTTP_IGNORE_DATE_INVALID 0x2000u
#define WINHTTP_ALLOWED (WINHTTP_REVOCATION | WINHTTP_IGNORE_UNKNOWN_CA | WINHTTP_IGNORE_WRONG_USAGE \
                         | WINHTTP_IGNORE_CN_INVALID | WINHTTP_IGNORE_DATE_INVALID)

/* ABSENT: a feature dosvc lacks (decryption, piece-hash integrity checks): the id reads as unknown
 * both ways, which is what a DO without the feature answers and what the DO SDK accepts. */
enum access { RW, RO, WO, ABSENT };
enum when { ANY, CREATED, CREATED_OR_PAUSED };   /* states that take a change; ANY: not final */

static const struct
{
    enum dos_value_type type;
    enum access access;
    enum when when;
} properties[DOS_DL_PROPERTY_COUNT] = {
    [DOS_DL_ID]                        = { DOS_VALUE_TEXT, RO, ANY },
    [DOS_DL_URI]                       = { DOS_VALUE_TEXT, RW, CREATED_OR_PAUSED },
    [DOS_DL_CONTENT_ID]                = { DOS_VALUE_TEXT, RW, CREATED },
    [DOS_DL_DISPLAY_NAME]              = { DOS_VALUE_TEXT, RW, ANY },
    [DOS_DL_LOCAL_PATH]                = { DOS_VALUE_TEXT, RW, CREATED },
    [DOS_DL_HTTP_CUSTOM_HEADERS]       = { DOS_VALUE_TEXT, RW, ANY },
    [DOS_DL_COST_POLICY]               = { DOS_VALUE_U32, RW, ANY },
    [DOS_DL_SECURITY_FLAGS]            = { DOS_VALUE_U32, WO, ANY },
    [DOS_DL_CALLBACK_FREQ_PERCENT]     = { DOS_VALUE_U32, RW, ANY },
    [DOS_DL_CALLBACK_FREQ_SECONDS]     = { DOS_VALUE_U32, RW, ANY },
    [DOS_DL_NO_PROGRESS_TIMEOUT]       = { DOS_VALUE_U32, RW, ANY },
    [DOS_DL_FOREGROUND_PRIORITY]       = { DOS_VALUE_BOOL, RW, ANY },
    [DOS_DL_BLOCKING_MODE]             = { DOS_VALUE_BOOL, RW, ANY },
    [DOS_DL_CALLBACK_INTERFACE]        = { DOS_VALUE_REF, RW, ANY },
    [DOS_DL_STREAM_INTERFACE]          = { DOS_VALUE_REF, RW, CREATED },
    [DOS_DL_SECURITY_CONTEXT]          = { DOS_VALUE_BYTES, WO, ANY },
    [DOS_DL_NETWORK_TOKEN]             = { DOS_VALUE_BOOL, WO, ANY },
    [DOS_DL_CORRELATION_VECTOR]        = { DOS_VALUE_TEXT, RW, ANY },
    [DOS_DL_DECRYPTION_INFO]           = { DOS_VALUE_TEXT, ABSENT, CREATED },
    [DOS_DL_INTEGRITY_CHECK_INFO]      = { DOS_VALUE_TEXT, ABSENT, CREATED },
    [DOS_DL_INTEGRITY_CHECK_MANDATORY] = { DOS_VALUE_BOOL, ABSENT, CREATED },
    [DOS_DL_TOTAL_SIZE_BYTES]          = { DOS_VALUE_U64, RW, CREATED },
    [DOS_DL_DISALLOW_ON_CELLULAR]      = { DOS_VALUE_BOOL, RW, ANY },
    [DOS_DL_HTTP_CUSTOM_AUTH_HEADERS]  = { DOS_VALUE_TEXT, RW, ANY },
    [DOS_DL_HTTP_ALLOW_SECURE_TO_NON_SECURE_REDIRECT] = { DOS_VALUE_BOOL, RW, ANY },
    [DOS_DL_NON_VOLATILE]              = { DOS_VALUE_BOOL, RW, ANY },
    [DOS_DL_HTTP_REDIRECTION_TARGET]   = { DOS_VALUE_TEXT, RO, ANY },
    [DOS_DL_HTTP_RESPONSE_HEADERS]     = { DOS_VALUE_TEXT, RO, ANY },
    [DOS_DL_HTTP_SERVER_IP_ADDRESS]    = { DOS_VALUE_TEXT, RO, ANY },
    [DOS_DL_HTTP_STATUS_CODE]          = { DOS_VALUE_U32, RO, ANY },
};

static bool is_set(const struct dos_download *d, uint32_t id) { return d->set & (1u << id); }

static const dos_char *text_of(const struct dos_download *d, uint32_t id)
{
    return is_set(d, id) ? d->values[id].u.text : NULL;
}

static struct dos_file *file_of(const struct dos_job *job)
{
    return job->file_count ? job->files[0] : NULL;
}

void dos_download_value_clear(struct dos_value *value, void (*free_fn)(void *))
{
    if (value->type == DOS_VALUE_TEXT) free_fn(value->u.text);
    else if (value->type == DOS_VALUE_BYTES) free_fn(value->u.bytes.data);
    else if (value->type == DOS_VALUE_REF) dos_ref_release(value->u.ref);
    memset(value, 0, sizeof(*value));
}

void store_free_download(struct dos_download *d)
{
    uint32_t i;
    for (i = 0; i < DOS_DL_PROPERTY_COUNT; i++) dos_download_value_clear(&d->values[i], free);
    free(d->made_folder);
    free(d->path_key);
    free(d);
}

/* ---- creation and listing -------------------------------------------------- */

dos_status dos_store_create_download(struct dos_store *store, const dos_char *owner, struct dos_job **out)
{
    static const dos_char empty[1] = { 0 };
    struct dos_download *d;
    struct dos_job *job;
    dos_status s;

    *out = NULL;
    if (!owner) return DOS_E_INVALID_ARG;
    if (!(d = calloc(1, sizeof(*d)))) return DOS_E_OUT_OF_MEMORY;
    if ((s = store_new_job(store, empty, owner, d, &job)) != DOS_OK)
    {
        free(d);
        return s;
    }
    /* Not yet visible to anyone else but an enumeration, which only reads. */
    lock(job);
    job->u32[DOS_JOB_RETRY_DELAY] = DOWNLOAD_RETRY_DELAY;
    job->u32[DOS_JOB_NO_PROGRESS_TIMEOUT] = DOWNLOAD_NO_PROGRESS_TIMEOUT;
    unlock(job);
    *out = job;
    return DOS_OK;
}

bool dos_job_is_download(struct dos_job *job)
{
    return job->kind == DOS_KIND_DOWNLOAD;
}

struct dos_sink *dos_job_get_sink(struct dos_job *job)
{
    struct dos_sink *sink;
    lock(job);
    if ((sink = job->sink)) dos_ref_retain(&sink->ref);
    unlock(job);
    return sink;
}

dos_status dos_download_set_made_folder(struct dos_job *job, const dos_char *folder)
{
    dos_char *copy = wstr_dup(folder);

    if (!copy) return DOS_E_OUT_OF_MEMORY;
    lock(job);
    free(job->download->made_folder);
    job->download->made_folder = copy;
    unlock(job);
    return DOS_OK;
}

dos_char *dos_download_take_made_folder(struct dos_job *job)
{
    dos_char *folder;

    lock(job);
    folder = job->download->made_folder;
    job->download->made_folder = NULL;
    unlock(job);
    return folder;
}

/* ---- the store's tables of LocalPaths ------------------------------------------------
 * Start and Abort ask questions about the other downloads of the store: which started ones
 * have this LocalPath (DoSvc aborts them, clients.md 1.4), and whether any LocalPath lies in a
 * folder Start made (Abort leaves it then). Both are lookups, whatever the number of downloads:
 * the store keeps the started listed downloads by LocalPath, and each folder that the LocalPath
 * of a listed download lies in, at any depth, with how many do. Keys are upper-cased, so that
 * names that differ only in case meet, as on Windows. */

/* A folder of the LocalPath of one or more listed downloads, in the store's folders table. */
struct folder
{
    uint32_t count;                /* the listed downloads whose LocalPath lies in it */
    size_t length;
    dos_char name[];               /* upper-cased, not terminated */
};

/* A folder's name as a lookup key: the first length units of a key. */
struct folder_name
{
    const dos_char *name;
    size_t length;
};

static uint64_t key_hash(const dos_char *key, size_t length)
{
    return table_hash(key, length * sizeof(*key));
}

static bool folder_is(const void *item, const void *key)
{
    const struct folder *f = item;
    const struct folder_name *n = key;
    return f->length == n->length && !memcmp(f->name, n->name, n->length * sizeof(*n->name));
}

static bool download_at(const void *item, const void *key)
{
    return wstr_eq(((const struct dos_job *)item)->download->path_key, key);
}

/* An upper-cased copy of a path or a folder's name, or NULL without memory. */
static dos_char *key_of(const dos_char *path)
{
    dos_char *key = wstr_dup(path);
    if (key) port_upcase(key, wstr_len(key));
    return key;
}

/* What a path lies in: each folder is what comes before one of its backslashes. */
static size_t folder_count(const dos_char *key)
{
    size_t n = 0;
    for (; *key; key++) n += *key == '\\';
    return n;
}

/* Frees make_folders' records that the table did not take (those are NULL), and the array. */
static void free_folders(struct folder **folders, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++) free(folders[i]);
    free(folders);
}

/* A record for each folder of key, made before the lock is taken, for enter_folders to use the
 * ones the table lacks; NULL without memory. */
static struct folder **make_folders(const dos_char *key, size_t *count)
{
    size_t n = folder_count(key), i, k = 0;
    struct folder **folders = calloc(n ? n : 1, sizeof(*folders));

    if (!folders) return NULL;
    for (i = 0; key[i]; i++)
    {
        if (key[i] != '\\') continue;
        if (!(folders[k] = malloc(sizeof(struct folder) + i * sizeof(dos_char))))
        {
            free_folders(folders, k);
            return NULL;
        }
        folders[k]->length = i;
        memcpy(folders[k]->name, key, i * sizeof(dos_char));
        k++;
    }
    *count = n;
    return folders;
}

/* Counts a listed download's LocalPath (key) in its folders, taking from spares (make_folders')
 * the records of folders new to the table; lock held, room reserved. */
static void enter_folders(struct dos_store *store, const dos_char *key, struct folder **spares)
{
    struct folder_name name = { key, 0 };
    struct folder *f;
    size_t k = 0;

    for (; key[name.length]; name.length++)
    {
        uint64_t hash;
        if (key[name.length] != '\\') continue;
        hash = key_hash(key, name.length);
        if ((f = table_find(&store->folders, hash, folder_is, &name))) f->count++;
        else
        {
            f = spares[k];
            spares[k] = NULL;
            f->count = 1;
            table_insert(&store->folders, hash, f);
        }
        k++;
    }
}

/* Undoes enter_folders; lock held. A folder no LocalPath lies in any more leaves the table. */
static void leave_folders(struct dos_store *store, const dos_char *key)
{
    struct folder_name name = { key, 0 };
    struct folder *f;

    for (; key[name.length]; name.length++)
    {
        uint64_t hash;
        if (key[name.length] != '\\') continue;
        hash = key_hash(key, name.length);
        if (!(f = table_find(&store->folders, hash, folder_is, &name)) || --f->count) continue;
        table_remove(&store->folders, hash, f);
        free(f);
    }
}

void store_unlist_download(struct dos_job *job)
{
    struct dos_download *d = job->download;

    if (d->at_path)
    {
        table_remove(&job->store->started_paths, key_hash(d->path_key, wstr_len(d->path_key)), job);
        d->at_path = false;
    }
    if (d->path_key) leave_folders(job->store, d->path_key);
}

/* Whether other is a download of job's owner, and not job: what a Start to job's path aborts. */
static bool aborted_by(const struct dos_job *job, const struct dos_job *other)
{
    return other != job && wstr_eq(other->text[DOS_JOB_OWNER], job->text[DOS_JOB_OWNER]);
}

dos_status dos_download_list_others_at_path(struct dos_job *job, struct dos_job ***out, size_t *count)
{
    struct dos_job **jobs = NULL, *other;
    struct dos_download *d = job->download;
    struct table *paths = &job->store->started_paths;
    dos_status s = DOS_OK;
    size_t n = 0, at;
    uint64_t hash;

    *out = NULL;
    *count = 0;
    if (!dos_job_is_download(job)) return DOS_E_INVALID_ARG;
    lock(job);
    if (d->path_key)
    {
        /* Counted first: one is the rule, two only until a Start has aborted the other. */
        hash = key_hash(d->path_key, wstr_len(d->path_key));
        for (at = 0; (other = table_find_next(paths, hash, download_at, d->path_key, &at));)
            n += aborted_by(job, other);
        if (n && !(jobs = malloc(n * sizeof(*jobs)))) s = DOS_E_OUT_OF_MEMORY;
        for (at = 0, n = 0; jobs && (other = table_find_next(paths, hash, download_at, d->path_key, &at));)
        {
            if (!aborted_by(job, other)) continue;
            dos_job_retain(other);
            jobs[n++] = other;
        }
    }
    unlock(job);
    *out = jobs;
    *count = n;
    return s;
}

bool dos_download_folder_needed(struct dos_job *job, const dos_char *folder)
{
    struct folder_name name;
    const dos_char *own;
    struct folder *f;
    uint32_t count = 0;
    dos_char *key;

    if (!dos_job_is_download(job)) return false;
    if (!(key = key_of(folder))) return true;      /* cannot tell: the folder stays */
    name.name = key;
    name.length = wstr_len(key);
    lock(job);
    if ((f = table_find(&job->store->folders, key_hash(key, name.length), folder_is, &name))) count = f->count;
    /* job's own LocalPath is one of them while it is listed. */
    own = job->download->path_key;
    if (count && job->listed && own && wstr_len(own) > name.length && own[name.length] == '\\'
        && !memcmp(own, key, name.length * sizeof(*key)))
        count--;
    unlock(job);
    free(key);
    return count > 0;
}

/* ---- state ----------------------------------------------------------------------- */

/* The IDO state a job's state reads as (docs/ido.md has the table); lock held. */
static void status_locked(const struct dos_job *job, struct dos_download_status *st)
{
    const struct dos_download *d = job->download;
    const struct dos_file *f = file_of(job);
    uint64_t total = DOS_SIZE_UNKNOWN;

    if (f) total = f->total;
    else if (is_set(d, DOS_DL_TOTAL_SIZE_BYTES)) total = d->values[DOS_DL_TOTAL_SIZE_BYTES].u.u64;
    st->bytes_total = total == DOS_SIZE_UNKNOWN ? 0 : total;
    st->bytes_transferred = f ? f->transferred : 0;
    st->error = st->extended_error = 0;
    switch (job->state)
    {
    case DOS_STATE_QUEUED:
    case DOS_STATE_CONNECTING:
    case DOS_STATE_TRANSFERRING: st->state = DOS_DL_TRANSFERRING; break;
    case DOS_STATE_SUSPENDED: st->state = d->started ? DOS_DL_PAUSED : DOS_DL_CREATED; break;
    case DOS_STATE_ERROR:
        st->state = DOS_DL_PAUSED;
        st->error = job->error.code;           /* fatal: clients give up on a failed Error */
        if (job->error.summary)                /* no progress for the timeout: that, and why */
        {
            st->error = job->error.summary;
            st->extended_error = job->error.code;
        }
        break;
    case DOS_STATE_TRANSIENT_ERROR:
        st->state = DOS_DL_PAUSED;
        st->extended_error = job->error.code;  /* transient: Error stays S_OK, the cause is here */
        break;
    case DOS_STATE_TRANSFERRED: st->state = DOS_DL_TRANSFERRED; break;
    case DOS_STATE_ACKNOWLEDGED: st->state = DOS_DL_FINALIZED; break;
    case DOS_STATE_CANCELLED: st->state = DOS_DL_ABORTED; break;
    }
}

void dos_download_get_status(struct dos_job *job, struct dos_download_status *status)
{
    lock(job);
    status_locked(job, status);
    unlock(job);
}

/* Whether the state lets property id change; lock held. */
static bool settable(const struct dos_job *job, uint32_t id)
{
    struct dos_download_status st;

    if (closed(job)) return false;
    status_locked(job, &st);
    switch (properties[id].when)
    {
    case CREATED: return st.state == DOS_DL_CREATED;
    case CREATED_OR_PAUSED: return st.state == DOS_DL_CREATED || st.state == DOS_DL_PAUSED;
    default: return true;
    }
}

/* ---- properties ------------------------------------------------------------------ */

dos_status dos_download_property_type(uint32_t id, bool write, enum dos_value_type *type)
{
    if (id >= DOS_DL_PROPERTY_COUNT || properties[id].access == ABSENT) return DOS_E_UNKNOWN_PROPERTY;
    if (write && properties[id].access == RO) return DOS_E_READ_ONLY_PROPERTY;
    if (!write && properties[id].access == WO) return DOS_E_WRITE_ONLY_PROPERTY;
    *type = properties[id].type;
    return DOS_OK;
}

/* The value rules of each property, before any lock: a value that fails changes nothing. */
static dos_status check_value(uint32_t id, const struct dos_value *v)
{
    switch (id)
    {
    case DOS_DL_URI: return dos_check_remote_name(v->u.text, NULL);
    case DOS_DL_CONTENT_ID:
        if (!v->u.text || !*v->u.text) return DOS_E_INVALID_ARG;
        return store_check_text(v->u.text, DOS_MAX_FILE_ID, false);
    case DOS_DL_DISPLAY_NAME: return store_check_text(v->u.text, DOS_MAX_DISPLAY_NAME, false);
    case DOS_DL_LOCAL_PATH: return dos_check_local_name(v->u.text);
    case DOS_DL_HTTP_CUSTOM_HEADERS:
    case DOS_DL_HTTP_CUSTOM_AUTH_HEADERS: return dos_check_custom_headers(v->u.text, DOS_HEADERS_LENIENT, NULL);
    case DOS_DL_COST_POLICY: return v->u.u32 <= 5 ? DOS_OK : DOS_E_INVALID_ARG;   /* DODownloadCostPolicy */
    case DOS_DL_SECURITY_FLAGS: return (v->u.u32 & ~WINHTTP_ALLOWED) ? DOS_E_INVALID_ARG : DOS_OK;
    case DOS_DL_CALLBACK_FREQ_PERCENT: return v->u.u32 <= 100 ? DOS_OK : DOS_E_INVALID_ARG;
    case DOS_DL_NO_PROGRESS_TIMEOUT:
        /* 0 asks for the default (IDL comment); otherwise at least a minute (spec 4.2). */
        return v->u.u32 == 0 || v->u.u32 >= MIN_NO_PROGRESS_TIMEOUT ? DOS_OK : DOS_E_INVALID_ARG;
    case DOS_DL_CALLBACK_INTERFACE:
    case DOS_DL_STREAM_INTERFACE: return v->u.ref ? DOS_OK : DOS_E_INVALID_ARG;
    case DOS_DL_SECURITY_CONTEXT: return v->u.bytes.data && v->u.bytes.size ? DOS_OK : DOS_E_INVALID_ARG;
    case DOS_DL_CORRELATION_VECTOR:
        if (!v->u.text || !*v->u.text) return DOS_E_INVALID_ARG;
        return store_check_text(v->u.text, MAX_CORRELATION_VECTOR, false);
    case DOS_DL_TOTAL_SIZE_BYTES: return v->u.u64 && v->u.u64 != DOS_SIZE_UNKNOWN ? DOS_OK : DOS_E_INVALID_ARG;
    default: return DOS_OK;
    }
}

/* An owned copy of v's payload for the download's table (REF values are kept by the job). */
static dos_status copy_value(const struct dos_value *v, struct dos_value *copy)
{
    *copy = *v;
    if (v->type == DOS_VALUE_TEXT && !(copy->u.text = wstr_dup(v->u.text))) return DOS_E_OUT_OF_MEMORY;
    if (v->type == DOS_VALUE_BYTES)
    {
        if (!(copy->u.bytes.data = malloc(v->u.bytes.size))) return DOS_E_OUT_OF_MEMORY;
        memcpy(copy->u.bytes.data, v->u.bytes.data, v->u.bytes.size);
    }
    if (v->type == DOS_VALUE_REF) copy->u.ref = NULL;
    return DOS_OK;
}

/* BG_SSL_* bits for SecurityFlags' WinHTTP ones; revocation checking overrides the ignores. */
static uint32_t bg_ssl_flags(uint32_t winhttp)
{
    uint32_t bg = 0;
    if (winhttp & WINHTTP_REVOCATION) return 0x0001;   /* BG_SSL_ENABLE_CRL_CHECK */
    if (winhttp & WINHTTP_IGNORE_CN_INVALID) bg |= 0x0002;
    if (winhttp & WINHTTP_IGNORE_DATE_INVALID) bg |= 0x0004;
    if (winhttp & WINHTTP_IGNORE_UNKNOWN_CA) bg |= 0x0008;
    if (winhttp & WINHTTP_IGNORE_WRONG_USAGE) bg |= 0x0010;
    return bg;
}

/*
 * What a property changes in the job the engine reads; lock held, value checked. *text is an
 * allocated copy the job may take over (set to NULL if taken); *old receives a reference the
 * caller releases. Fails only on a state or sink conflict, before changing anything.
 */
static dos_status apply(struct dos_job *job, uint32_t id, const struct dos_value *v, dos_char **text,
                        struct dos_ref **old)
{
    struct dos_download *d = job->download;
    struct dos_file *f = file_of(job);
    uint32_t *security = &job->u32[DOS_JOB_SECURITY_FLAGS];
    dos_char *swap;

    switch (id)
    {
    case DOS_DL_URI:
        /* Paused: the file goes on from the new place; its validator restarts it if it differs. */
        if (f)
        {
            swap = f->text[DOS_FILE_REMOTE_NAME];
            f->text[DOS_FILE_REMOTE_NAME] = *text;
            *text = swap;
        }
        break;
    case DOS_DL_LOCAL_PATH:
        if (job->sink) return DOS_E_SINK_ALREADY_SET;
        break;
    case DOS_DL_STREAM_INTERFACE:
        if (is_set(d, DOS_DL_LOCAL_PATH)) return DOS_E_SINK_ALREADY_SET;
        *old = job->sink ? &job->sink->ref : NULL;
        job->sink = (struct dos_sink *)v->u.ref;
        break;
    case DOS_DL_CALLBACK_INTERFACE:
        *old = job->notify;            /* a second callback replaces the first */
        job->notify = v->u.ref;
        break;
    case DOS_DL_DISPLAY_NAME:
    case DOS_DL_HTTP_CUSTOM_HEADERS:
    case DOS_DL_HTTP_CUSTOM_AUTH_HEADERS:
    {
        enum dos_job_text which = id == DOS_DL_DISPLAY_NAME ? DOS_JOB_DISPLAY_NAME
                                  : id == DOS_DL_HTTP_CUSTOM_HEADERS ? DOS_JOB_CUSTOM_HEADERS
                                  : DOS_JOB_CUSTOM_AUTH_HEADERS;
        /* An empty header text sends none. */
        if (id != DOS_DL_DISPLAY_NAME && !**text)
        {
            swap = NULL;
            free(*text);
            *text = job->text[which];
            job->text[which] = swap;
        }
        else
        {
            swap = job->text[which];
            job->text[which] = *text;
            *text = swap;
        }
        break;
    }
    case DOS_DL_SECURITY_FLAGS:
        *security = (*security & ~DOS_SSL_FLAGS) | bg_ssl_flags(v->u.u32);
        break;
    case DOS_DL_HTTP_ALLOW_SECURE_TO_NON_SECURE_REDIRECT:
        *security = v->u.b ? *security | DOS_REDIRECT_HTTPS_TO_HTTP : *security & ~DOS_REDIRECT_HTTPS_TO_HTTP;
        break;
    case DOS_DL_NO_PROGRESS_TIMEOUT:
        job->u32[DOS_JOB_NO_PROGRESS_TIMEOUT] = v->u.u32 ? v->u.u32 : DOWNLOAD_NO_PROGRESS_TIMEOUT;
        break;
    case DOS_DL_FOREGROUND_PRIORITY:
        job->u32[DOS_JOB_PRIORITY] = v->u.b ? DOS_PRIORITY_FOREGROUND : DOS_PRIORITY_NORMAL;
        break;
    default:
        break;
    }
    return DOS_OK;
}

/* The job's own copy of a text it reads (remote name, display name); of headers, what goes on the wire. */
static dos_status job_text_of(uint32_t id, const dos_char *value, dos_char **text)
{
    if (id == DOS_DL_HTTP_CUSTOM_HEADERS || id == DOS_DL_HTTP_CUSTOM_AUTH_HEADERS)
        return dos_check_custom_headers(value, DOS_HEADERS_LENIENT, text);
    return (*text = wstr_dup(value)) ? DOS_OK : DOS_E_OUT_OF_MEMORY;
}

/* A new LocalPath's key goes into the download, and, while it is listed, its folders into the
 * store's counts instead of the old one's; lock held, room for spares reserved. A download
 * whose path may change is not started, so it is in no started_paths. *key gets the old one. */
static void swap_path_key(struct dos_job *job, dos_char **key, struct folder **spares)
{
    struct dos_download *d = job->download;
    dos_char *previous = d->path_key;

    if (job->listed)
    {
        if (previous) leave_folders(job->store, previous);
        enter_folders(job->store, *key, spares);
    }
    d->path_key = *key;
    *key = previous;
}

dos_status dos_download_set_property(struct dos_job *job, uint32_t id, const struct dos_value *value,
                                     struct dos_ref **old)
{
    struct dos_value copy = { 0 }, previous;
    struct folder **folders = NULL;
    size_t folders_made = 0;
    enum dos_value_type type;
    dos_char *text = NULL, *key = NULL;
    dos_status s;

    *old = NULL;
    if (!dos_job_is_download(job)) s = DOS_E_INVALID_ARG;
    else if ((s = dos_download_property_type(id, true, &type)) != DOS_OK) {}
    else if (value->type != type) s = DOS_E_INVALID_ARG;
    else if ((s = check_value(id, value)) != DOS_OK) {}
    else if ((s = copy_value(value, &copy)) != DOS_OK) {}
    else if (type == DOS_VALUE_TEXT && (s = job_text_of(id, value->u.text, &text)) != DOS_OK) {}
    else if (id == DOS_DL_LOCAL_PATH
             && (!(key = key_of(value->u.text)) || !(folders = make_folders(key, &folders_made))))
        s = DOS_E_OUT_OF_MEMORY;
    else
    {
        lock(job);
        if (!settable(job, id)) s = DOS_E_INVALID_STATE;
        else if (folders && !table_reserve(&job->store->folders, folders_made)) s = DOS_E_OUT_OF_MEMORY;
        else if ((s = apply(job, id, value, &text, old)) == DOS_OK)
        {
            previous = job->download->values[id];
            job->download->values[id] = copy;
            copy = previous;
            job->download->set |= 1u << id;
            if (key) swap_path_key(job, &key, folders);
            touch(job);
        }
        unlock(job);
    }
    free(text);
    free(key);
    if (folders) free_folders(folders, folders_made);
    dos_download_value_clear(&copy, free);
    if (s != DOS_OK && value->type == DOS_VALUE_REF) *old = value->u.ref;   /* not taken: the caller's to release */
    if (s == DOS_OK) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

static dos_status dup_text(dos_alloc_fn alloc, const dos_char *text, struct dos_value *out)
{
    if (!text) return DOS_E_NOT_SET;
    out->type = DOS_VALUE_TEXT;
    return wstr_dup_with(alloc, text, &out->u.text);
}

dos_status dos_download_get_property(struct dos_job *job, uint32_t id, dos_alloc_fn alloc, struct dos_value *out)
{
    struct dos_download *d = job->download;
    enum dos_value_type type;
    struct dos_file *f;
    dos_char guid[39];
    dos_status s;

    memset(out, 0, sizeof(*out));
    if (!dos_job_is_download(job)) return DOS_E_INVALID_ARG;
    if ((s = dos_download_property_type(id, false, &type)) != DOS_OK) return s;
    lock(job);
    f = file_of(job);
    switch (id)
    {
    case DOS_DL_ID:
        wstr_from_guid(&job->id, guid);
        s = dup_text(alloc, guid, out);
        break;
    case DOS_DL_CALLBACK_INTERFACE:
    case DOS_DL_STREAM_INTERFACE:
    {
        struct dos_ref *ref = id == DOS_DL_CALLBACK_INTERFACE ? job->notify : job->sink ? &job->sink->ref : NULL;
        if (!ref) s = DOS_E_NOT_SET;
        else
        {
            dos_ref_retain(ref);
            out->type = DOS_VALUE_REF;
            out->u.ref = ref;
        }
        break;
    }
    case DOS_DL_HTTP_REDIRECTION_TARGET:
        /* Only a response from elsewhere than the Uri is a redirection. */
        if (f && f->text[DOS_FILE_FINAL_URL] && !wstr_eq(f->text[DOS_FILE_FINAL_URL], f->text[DOS_FILE_REMOTE_NAME]))
            s = dup_text(alloc, f->text[DOS_FILE_FINAL_URL], out);
        else s = DOS_E_NOT_SET;
        break;
    case DOS_DL_HTTP_RESPONSE_HEADERS: s = dup_text(alloc, f ? f->text[DOS_FILE_RESPONSE_HEADERS] : NULL, out); break;
    case DOS_DL_HTTP_SERVER_IP_ADDRESS: s = dup_text(alloc, f ? f->text[DOS_FILE_SERVER_ADDRESS] : NULL, out); break;
    case DOS_DL_TOTAL_SIZE_BYTES:
        /* The whole file's size once known (given, or learnt from the server), else what was set. */
        if (f && f->file_size != DOS_SIZE_UNKNOWN)
        {
            out->type = DOS_VALUE_U64;
            out->u.u64 = f->file_size;
        }
        else if (!is_set(d, id)) s = DOS_E_NOT_SET;
        else *out = d->values[id];
        break;
    case DOS_DL_HTTP_STATUS_CODE:
        if (!f || !f->http_status) s = DOS_E_NOT_SET;
        else
        {
            out->type = DOS_VALUE_U32;
            out->u.u32 = f->http_status;
        }
        break;
    default:
        if (!is_set(d, id)) s = DOS_E_NOT_SET;
        else if (type == DOS_VALUE_TEXT) s = dup_text(alloc, d->values[id].u.text, out);
        else *out = d->values[id];     /* scalars only: the write-only byte value is never read */
        break;
    }
    unlock(job);
    return s;
}

/* ---- Start, Pause, Finalize, Abort --------------------------------------------- */

/* Start on a download already started once; lock held. *changed: the engine has work. */
static dos_status restart_locked(struct dos_job *job, const dos_range *ranges, uint32_t count, bool check_only,
                                 dos_run *stopped, bool *changed)
{
    struct dos_file *f = file_of(job);
    dos_range *copy = NULL;
    dos_status s;

    switch (job->state)
    {
    case DOS_STATE_QUEUED:
    case DOS_STATE_CONNECTING:
    case DOS_STATE_TRANSFERRING:
        return count ? DOS_E_RANGES_UNEXPECTED : DOS_OK;
    case DOS_STATE_TRANSFERRED:
        if (!count) return DOS_OK;         /* nothing more was asked for */
        /* A stream may take other portions of the file; a local file holds what it holds. */
        if (!job->sink) return DOS_E_RANGES_UNEXPECTED;
        if ((s = dos_ranges_validate(ranges, count, f->file_size, check_only ? NULL : &copy)) != DOS_OK) return s;
        if (check_only) return DOS_OK;
        store_file_leave(f);
        free(f->ranges);
        f->ranges = copy;
        f->range_count = count;
        f->transferred = 0;
        store_file_enter(f);
        break;
    default:    /* Paused, by request or by an error: resume where the bytes end */
        if (count) return DOS_E_RANGES_UNEXPECTED;
        if (check_only) return DOS_OK;
        *stopped = store_revoke_run(job);
        break;
    }
    job->state = DOS_STATE_QUEUED;
    touch(job);
    *changed = true;
    return DOS_OK;
}

dos_status dos_download_start(struct dos_job *job, const dos_range *ranges, uint32_t count, bool check_only)
{
    struct dos_file_spec spec = { .ranges = ranges, .range_count = count, .file_size = DOS_SIZE_UNKNOWN };
    struct dos_download *d = job->download;
    dos_char *uri = NULL, *local = NULL;
    struct dos_file *file = NULL;
    bool first = false, changed = false, stream = false;
    dos_run stopped = 0;
    dos_status s = DOS_OK;

    if (!dos_job_is_download(job) || (count && !ranges)) return DOS_E_INVALID_ARG;
    lock(job);
    if (closed(job)) s = DOS_E_INVALID_STATE;
    else if (!(first = !d->started)) s = restart_locked(job, ranges, count, check_only, &stopped, &changed);
    else
    {
        /* Copied out: the file is made outside the lock. */
        if ((text_of(d, DOS_DL_URI) && !(uri = wstr_dup(text_of(d, DOS_DL_URI))))
            || (text_of(d, DOS_DL_LOCAL_PATH) && !(local = wstr_dup(text_of(d, DOS_DL_LOCAL_PATH)))))
            s = DOS_E_OUT_OF_MEMORY;
        stream = job->sink != NULL;
        if (is_set(d, DOS_DL_TOTAL_SIZE_BYTES)) spec.file_size = d->values[DOS_DL_TOTAL_SIZE_BYTES].u.u64;
    }
    unlock(job);

    if (first && s == DOS_OK)
    {
        /* dosvc has no content service to turn a ContentId into a URI: a URI is what it needs. */
        if (!uri) s = DOS_E_NO_URI;
        else if (!local && !stream) s = DOS_E_SINK_UNSPECIFIED;
        else if (stream && !count) s = DOS_E_RANGES_EXPECTED;   /* spec 5.7 */
        else
        {
            spec.remote_name = uri;
            spec.local_name = local;
            spec.local_optional = stream;
            s = store_make_file(&spec, &file);
        }
        if (s == DOS_OK && !check_only)
        {
            lock(job);
            /* Another Start, or a changed sink, got there first. */
            if (closed(job) || d->started || (job->sink != NULL) != stream) s = DOS_E_INVALID_STATE;
            else if ((d->path_key && job->listed && !table_reserve(&job->store->started_paths, 1))
                     || !store_link_file(job, file))
                s = DOS_E_OUT_OF_MEMORY;
            else
            {
                /* Started and listed, it is found by its LocalPath (room was made above). */
                if (d->path_key && job->listed)
                {
                    table_insert(&job->store->started_paths, key_hash(d->path_key, wstr_len(d->path_key)), job);
                    d->at_path = true;
                }
                file = NULL;
                d->started = true;
                job->state = DOS_STATE_QUEUED;
                touch(job);
                changed = true;
            }
            unlock(job);
        }
        if (file) store_free_file(file);
    }
    free(uri);
    free(local);
    if (stopped) store_emit_run(job, DOS_EVENT_STOPPED, NULL, stopped);
    if (changed)
    {
        emit(job, DOS_EVENT_RUNNABLE, NULL);
        emit(job, DOS_EVENT_MODIFIED, NULL);
    }
    return s;
}

dos_status dos_download_pause(struct dos_job *job)
{
    if (!dos_job_is_download(job)) return DOS_E_INVALID_ARG;
    /* Only a moving download pauses; Created, Paused and Transferred ones stay as they are,
     * and one stopped by a fatal error keeps it to show. */
    return store_suspend(job, true);
}

dos_status dos_download_begin_finish(struct dos_job *job, dos_job_state final_state)
{
    dos_status s = DOS_OK;
    dos_run stopped = 0;

    if (!dos_job_is_download(job)) return DOS_E_INVALID_ARG;
    lock(job);
    if (closed(job)) s = DOS_E_INVALID_STATE;
    /* Finalize only what is transferred; a transferred download is kept, not aborted (clients.md 1.4). */
    else if ((final_state == DOS_STATE_ACKNOWLEDGED) != (job->state == DOS_STATE_TRANSFERRED))
        s = DOS_E_INVALID_STATE;
    else
    {
        job->finishing = true;
        stopped = store_revoke_run(job);
    }
    unlock(job);
    if (stopped) store_emit_run(job, DOS_EVENT_STOPPED, NULL, stopped);
    return s;
}

/* ---- OnStatusChange ------------------------------------------------------------- */

bool dos_download_take_notification(struct dos_job *job, uint64_t now_ms, struct dos_download_status *status,
                                    uint64_t *seq)
{
    struct dos_download *d = job->download;
    bool due = false;

    if (!dos_job_is_download(job)) return false;
    lock(job);
    if (job->notify)
    {
        status_locked(job, status);
        /* A new callback hears of the first change, not of a download still Created. */
        if (!d->notified) due = status->state != DOS_DL_CREATED;
        else due = status->state != d->last.state || status->error != d->last.error
                   || status->extended_error != d->last.extended_error;
        if (!due && d->notified && status->bytes_transferred != d->last.bytes_transferred)
        {
            /* Progress as often as asked: by percent, by time (1 s unless only a percent was set), or both. */
            uint32_t percent = is_set(d, DOS_DL_CALLBACK_FREQ_PERCENT) ? d->values[DOS_DL_CALLBACK_FREQ_PERCENT].u.u32 : 0;
            uint32_t seconds = is_set(d, DOS_DL_CALLBACK_FREQ_SECONDS) ? d->values[DOS_DL_CALLBACK_FREQ_SECONDS].u.u32
                               : percent ? 0 : 1;
            if (percent && status->bytes_total)
            {
                uint64_t step = status->bytes_total / 100 * percent + status->bytes_total % 100 * percent / 100;
                due = status->bytes_transferred - d->last.bytes_transferred >= (step ? step : 1)
                      || status->bytes_transferred == status->bytes_total;
            }
            if (seconds && now_ms - d->last_ms >= (uint64_t)seconds * 1000) due = true;
        }
        if (due)
        {
            d->notified = true;
            d->last = *status;
            d->last_ms = now_ms;
            *seq = ++d->taken_seq;
        }
    }
    unlock(job);
    return due;
}

bool dos_download_claim_delivery(struct dos_job *job, uint64_t seq)
{
    struct dos_download *d = job->download;
    bool newer;

    lock(job);
    if ((newer = seq > d->delivered_seq)) d->delivered_seq = seq;
    unlock(job);
    return newer;
}

struct dos_ref *dos_download_drop_callback_if_final(struct dos_job *job)
{
    struct dos_ref *ref = NULL;

    lock(job);
    if (is_final(job->state))
    {
        ref = job->notify;
        job->notify = NULL;
    }
    unlock(job);
    return ref;
}
