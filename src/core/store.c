/*
 * The store's records and every operation on them; see store.h for the
 * contract and docs/store.md for the invariants. One mutex per store guards
 * all records of that store. Critical sections are memory operations only:
 * no I/O, no waiting, no client code. Anything that may run client code (the
 * last release of a job or of a notify reference) happens after unlocking.
 */
#include "store_private.h"
#include "trace.h"

#include <stdlib.h>
#include <string.h>

#include "headers.h"
#include "names.h"
#include "port.h"
#include "ranges.h"
#include "wstr.h"

/* ---- helpers ------------------------------------------------------------- */


/* Tells the listener, outside the lock, what changed. */
void store_emit_run(struct dos_job *job, enum dos_event_kind kind, struct dos_file *file, dos_run run)
{
    struct dos_store *store = job->store;
    struct dos_event event = { kind, job, file, run };
    dos_event_fn listener;
    void *context;

    /* Progress makes most MODIFIED events: the others are what the store channel tells. The
     * id and a file's index never change, so they are read without the lock. */
    if (kind != DOS_EVENT_MODIFIED && dos_trace_on(DOS_TRACE_STORE))
    {
        static const char *const told[] = {
            [DOS_EVENT_RUNNABLE] = "queued", [DOS_EVENT_STOPPED] = "run revoked",
            [DOS_EVENT_TRANSFERRED] = "transferred", [DOS_EVENT_ERROR] = "in error",
            [DOS_EVENT_FILE_TRANSFERRED] = "file transferred",
        };
        dos_trace_line(DOS_TRACE_STORE, "event", "job %s: %s (file %ld, run %llu)", dos_trace_guid(&job->id),
                       told[kind], file ? (long)file->index : -1L, (unsigned long long)run);
    }
    port_mutex_lock(store->lock);
    listener = store->listener;
    context = store->listener_context;
    port_mutex_unlock(store->lock);
    if (listener) listener(context, &event);
}

/* Ends the engine's run, if any, and returns it (0: none); the caller emits DOS_EVENT_STOPPED
 * with it, so that the engine stops that run and no later one. */
dos_run store_revoke_run(struct dos_job *job)
{
    dos_run run = job->run;
    job->run = 0;
    return run;
}

/* Validates a text against its limit; NULL is allowed only when nullable. */
dos_status store_check_text(const dos_char *s, size_t max, bool nullable)
{
    if (!s) return nullable ? DOS_OK : DOS_E_INVALID_ARG;
    return wstr_len_max(s, max) > max ? DOS_E_STRING_TOO_LONG : DOS_OK;
}

/* Replaces *slot with a copy of value (NULL clears). Allocation happens before any change. */
dos_status store_replace_text(dos_char **slot, const dos_char *value)
{
    dos_char *copy = NULL;
    if (value && !(copy = wstr_dup(value))) return DOS_E_OUT_OF_MEMORY;
    free(*slot);
    *slot = copy;
    return DOS_OK;
}

/* ---- a job's totals ------------------------------------------------------ */

void store_file_leave(struct dos_file *f)
{
    struct dos_job *job = f->job;

    if (f->total == DOS_SIZE_UNKNOWN) job->unknown_count--;
    else job->known_bytes -= f->total;
    job->bytes_transferred -= f->transferred;
    if (f->done) job->done_count--;
    if (!f->text[DOS_FILE_LOCAL_NAME]) job->unnamed_count--;
}

void store_file_enter(struct dos_file *f)
{
    struct dos_job *job = f->job;

    f->total = f->ranges ? dos_ranges_total(f->ranges, f->range_count, f->file_size) : f->file_size;
    f->done = f->total != DOS_SIZE_UNKNOWN && f->transferred == f->total;
    if (f->total == DOS_SIZE_UNKNOWN) job->unknown_count++;
    else job->known_bytes += f->total;
    job->bytes_transferred += f->transferred;
    if (f->done) job->done_count++;
    else if (f->index < job->cursor) job->cursor = f->index;
    if (!f->text[DOS_FILE_LOCAL_NAME]) job->unnamed_count++;
}

/*
 * "<folder of local>\DO<job guid>-<index>.tmp": DoSvc's "DO<unique>.tmp" beside the destination,
 * which the DO SDK's tests and cleanup tools look for; the job and the index make it this file's
 * alone. The engine makes it hidden, and only a file the store recorded as made is ever deleted.
 */
dos_char *store_make_temp_name(const struct dos_job *job, uint32_t index, const dos_char *local)
{
    dos_char guid[39], digits[11];
    size_t dir_len = 0, i, n = 0, pos, nd = 0;
    dos_char *out;

    for (i = 0; local[i]; i++)
        if (local[i] == '\\' || local[i] == '/') dir_len = i + 1;
    wstr_from_guid(&job->id, guid);
    do digits[nd++] = (dos_char)('0' + index % 10); while ((index /= 10));

    n = dir_len + 2 + 36 + 1 + nd + 4;
    if (!(out = malloc((n + 1) * sizeof(dos_char)))) return NULL;
    memcpy(out, local, dir_len * sizeof(dos_char));
    pos = dir_len;
    out[pos++] = 'D'; out[pos++] = 'O';
    for (i = 1; i < 37; i++) out[pos++] = guid[i];
    out[pos++] = '-';
    while (nd) out[pos++] = digits[--nd];
    out[pos++] = '.'; out[pos++] = 't'; out[pos++] = 'm'; out[pos++] = 'p';
    out[pos] = 0;
    return out;
}

void store_free_file(struct dos_file *f)
{
    size_t i;
    for (i = 0; i < DOS_FILE_TEXT_COUNT; i++) free(f->text[i]);
    free(f->ranges);
    free(f);
}

static void free_credential(struct dos_credential *c)
{
    free(c->user);
    free(c->password);
    memset(c, 0, sizeof(*c));
}

/* ---- store --------------------------------------------------------------- */

static void store_unlink(struct dos_store *store, struct dos_job *job);

struct dos_store *dos_store_create(void)
{
    struct dos_store *store = calloc(1, sizeof(*store));
    if (!store) return NULL;
    if (!(store->lock = port_mutex_create()))
    {
        free(store);
        return NULL;
    }
    atomic_init(&store->refs, 1);
    return store;
}

void dos_store_retain(struct dos_store *store)
{
    atomic_fetch_add(&store->refs, 1);
}

void dos_store_release(struct dos_store *store)
{
    /* Every job holds its store, so the last release finds the list empty. */
    if (atomic_fetch_sub(&store->refs, 1) != 1) return;
    table_free(&store->ids);
    table_free(&store->started_paths);
    table_free(&store->folders);
    port_mutex_destroy(store->lock);
    free(store);
}

void dos_store_shutdown(struct dos_store *store)
{
    struct dos_job *job;

    for (;;)
    {
        port_mutex_lock(store->lock);
        if ((job = store->head)) store_unlink(store, job);
        port_mutex_unlock(store->lock);
        if (!job) return;
        dos_job_release(job);      /* the list's reference, dropped outside the lock */
    }
}

size_t dos_store_job_count(struct dos_store *store)
{
    size_t n;
    port_mutex_lock(store->lock);
    n = store->job_count;
    port_mutex_unlock(store->lock);
    return n;
}

static uint64_t id_hash(const dos_guid *id)
{
    return table_hash(id, sizeof(*id));
}

static bool job_has_id(const void *job, const void *id)
{
    return !memcmp(&((const struct dos_job *)job)->id, id, sizeof(dos_guid));
}

/* Lists a job; room in the id table was reserved. */
static void store_link(struct dos_store *store, struct dos_job *job)
{
    table_insert(&store->ids, id_hash(&job->id), job);
    job->prev = NULL;
    job->next = store->head;
    if (store->head) store->head->prev = job;
    store->head = job;
    job->listed = true;
    store->job_count++;
}

/* Unlinks a listed job; the caller drops the list's reference after unlocking. */
static void store_unlink(struct dos_store *store, struct dos_job *job)
{
    table_remove(&store->ids, id_hash(&job->id), job);
    if (job->kind == DOS_KIND_DOWNLOAD) store_unlist_download(job);
    if (job->prev) job->prev->next = job->next;
    else store->head = job->next;
    if (job->next) job->next->prev = job->prev;
    job->prev = job->next = NULL;
    job->listed = false;
    store->job_count--;
}

static void new_job_id(struct dos_store *store, dos_guid *id)
{
    do
    {
        if (port_random_bytes(id, sizeof(*id)) != 0) abort();
        id->data3 = (uint16_t)((id->data3 & 0x0FFF) | 0x4000);   /* version 4 */
        id->data4[0] = (uint8_t)((id->data4[0] & 0x3F) | 0x80);  /* RFC 4122 variant */
    } while (table_find(&store->ids, id_hash(id), job_has_id, id));
}

dos_status store_new_job(struct dos_store *store, const dos_char *display_name, const dos_char *owner,
                         struct dos_download *download, struct dos_job **out)
{
    struct dos_job *job;
    bool listed;

    *out = NULL;
    if (!(job = calloc(1, sizeof(*job)))) return DOS_E_OUT_OF_MEMORY;
    if (!(job->text[DOS_JOB_DISPLAY_NAME] = wstr_dup(display_name)) || !(job->text[DOS_JOB_OWNER] = wstr_dup(owner)))
    {
        free(job->text[DOS_JOB_DISPLAY_NAME]);
        free(job);
        return DOS_E_OUT_OF_MEMORY;
    }
    atomic_init(&job->refs, 2);    /* the caller's and the list's */
    dos_store_retain(store);
    job->store = store;
    job->kind = download ? DOS_KIND_DOWNLOAD : DOS_KIND_JOB;
    job->download = download;
    job->type = DOS_JOB_DOWNLOAD;
    job->state = DOS_STATE_SUSPENDED;
    job->u32[DOS_JOB_PRIORITY] = DOS_PRIORITY_NORMAL;
    job->u32[DOS_JOB_NOTIFY_FLAGS] = 0x1 | 0x2;    /* BG_NOTIFY_JOB_TRANSFERRED | BG_NOTIFY_JOB_ERROR */
    job->u32[DOS_JOB_RETRY_DELAY] = DOS_DEFAULT_RETRY_DELAY;
    job->u32[DOS_JOB_NO_PROGRESS_TIMEOUT] = DOS_DEFAULT_NO_PROGRESS_TIMEOUT;
    job->u32[DOS_JOB_COST_FLAGS] = DOS_COST_DEFAULT;
    job->u32[DOS_JOB_MAX_DOWNLOAD_TIME] = DOS_DEFAULT_MAX_DOWNLOAD_TIME;
    job->proxy_usage = DOS_PROXY_PRECONFIG;
    job->creation_time = job->modification_time = port_now_filetime();

    port_mutex_lock(store->lock);
    if ((listed = table_reserve(&store->ids, 1)))
    {
        new_job_id(store, &job->id);
        store_link(store, job);
    }
    port_mutex_unlock(store->lock);
    if (!listed)
    {
        job->download = NULL;      /* still the caller's */
        atomic_store(&job->refs, 1);
        dos_job_release(job);
        return DOS_E_OUT_OF_MEMORY;
    }

    *out = job;
    return DOS_OK;
}

dos_status dos_store_create_job(struct dos_store *store, const dos_char *display_name, dos_job_type type,
                                const dos_char *owner, struct dos_job **out)
{
    dos_status s;

    *out = NULL;
    if ((s = store_check_text(display_name, DOS_MAX_DISPLAY_NAME, false)) != DOS_OK) return s;
    if (type != DOS_JOB_DOWNLOAD || !owner) return DOS_E_INVALID_ARG;
    return store_new_job(store, display_name, owner, NULL, out);
}

dos_status dos_store_find_job(struct dos_store *store, const dos_guid *id, struct dos_job **out)
{
    struct dos_job *job;

    port_mutex_lock(store->lock);
    job = table_find(&store->ids, id_hash(id), job_has_id, id);
    if (job && job->kind != DOS_KIND_JOB) job = NULL;
    if (job) dos_job_retain(job);
    port_mutex_unlock(store->lock);
    *out = job;
    return job ? DOS_OK : DOS_E_JOB_NOT_FOUND;
}

static dos_status list_kind(struct dos_store *store, enum dos_job_kind kind, const dos_char *owner, struct dos_job ***out,
                            size_t *count)
{
    struct dos_job **jobs, *job;
    size_t n = 0;

    *out = NULL;
    *count = 0;
    port_mutex_lock(store->lock);
    if (!(jobs = malloc((store->job_count ? store->job_count : 1) * sizeof(*jobs))))
    {
        port_mutex_unlock(store->lock);
        return DOS_E_OUT_OF_MEMORY;
    }
    /* Oldest first: the list is newest first, so walk it backwards. */
    for (job = store->head; job && job->next; job = job->next) {}
    for (; job; job = job->prev)
    {
        if (job->kind != kind || (owner && !wstr_eq(owner, job->text[DOS_JOB_OWNER]))) continue;
        dos_job_retain(job);
        jobs[n++] = job;
    }
    port_mutex_unlock(store->lock);
    *out = jobs;
    *count = n;
    return DOS_OK;
}

dos_status dos_store_list_jobs(struct dos_store *store, const dos_char *owner, struct dos_job ***out, size_t *count)
{
    return list_kind(store, DOS_KIND_JOB, owner, out, count);
}

dos_status dos_store_list_downloads(struct dos_store *store, const dos_char *owner, struct dos_job ***out,
                                    size_t *count)
{
    return list_kind(store, DOS_KIND_DOWNLOAD, owner, out, count);
}

void dos_jobs_release(struct dos_job **jobs, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++) dos_job_release(jobs[i]);
    free(jobs);
}

/* ---- job life ------------------------------------------------------------ */

void dos_job_retain(struct dos_job *job)
{
    atomic_fetch_add(&job->refs, 1);
}

void dos_job_release(struct dos_job *job)
{
    uint32_t i, t, s;

    if (atomic_fetch_sub(&job->refs, 1) != 1) return;
    for (i = 0; i < job->file_count; i++) store_free_file(job->files[i]);
    free(job->files);
    table_free(&job->file_ids);
    for (i = 0; i < DOS_JOB_TEXT_COUNT; i++) free(job->text[i]);
    for (t = 0; t < DOS_AUTH_TARGETS; t++)
        for (s = 0; s < DOS_AUTH_SCHEMES; s++) free_credential(&job->creds[t][s]);
    free(job->error.protocol);
    dos_ref_release(job->notify);
    if (job->sink) dos_ref_release(&job->sink->ref);
    if (job->download) store_free_download(job->download);
    dos_store_release(job->store);
    free(job);
}

void dos_job_get_info(struct dos_job *job, struct dos_job_info *info)
{
    lock(job);
    info->id = job->id;
    info->type = job->type;
    info->state = job->state;
    memcpy(info->u32, job->u32, sizeof(info->u32));
    info->proxy_usage = job->proxy_usage;
    info->notification_clsid = job->notification_clsid;
    info->creation_time = job->creation_time;
    info->modification_time = job->modification_time;
    info->transfer_completion_time = job->transfer_completion_time;
    info->error_count = job->error_count;
    info->files_total = job->file_count;
    info->files_transferred = job->done_count;
    info->bytes_total = job->unknown_count ? DOS_SIZE_UNKNOWN : job->known_bytes;
    info->bytes_transferred = job->bytes_transferred;
    unlock(job);
}

dos_status dos_job_copy_text(struct dos_job *job, enum dos_job_text which, dos_alloc_fn alloc, dos_char **out)
{
    dos_status s;

    if ((unsigned)which >= DOS_JOB_TEXT_COUNT) return DOS_E_INVALID_ARG;
    *out = NULL;
    lock(job);
    s = job->text[which] ? wstr_dup_with(alloc, job->text[which], out) : DOS_E_NOT_SET;
    unlock(job);
    return s;
}

/* ---- job settings -------------------------------------------------------- */

/* Per-field rules for the numeric settings: the largest value and the bits allowed. */
static const struct { uint32_t max; uint32_t mask; } u32_rules[DOS_JOB_U32_COUNT] = {
    [DOS_JOB_PRIORITY]            = { DOS_PRIORITY_LOW, UINT32_MAX },
    [DOS_JOB_NOTIFY_FLAGS]        = { UINT32_MAX, DOS_NOTIFY_ALL_FLAGS },
    [DOS_JOB_RETRY_DELAY]         = { UINT32_MAX, UINT32_MAX },
    [DOS_JOB_NO_PROGRESS_TIMEOUT] = { UINT32_MAX, UINT32_MAX },
    [DOS_JOB_ACL_FLAGS]           = { UINT32_MAX, DOS_ACL_ALL_FLAGS },
    [DOS_JOB_PEER_CACHING_FLAGS]  = { UINT32_MAX, DOS_PEER_CACHING_ALL_FLAGS },
    [DOS_JOB_MAX_DOWNLOAD_TIME]   = { UINT32_MAX, UINT32_MAX },
    [DOS_JOB_COST_FLAGS]          = { UINT32_MAX, DOS_COST_ALL_FLAGS },
    [DOS_JOB_SECURITY_FLAGS]      = { UINT32_MAX, DOS_SSL_FLAGS | DOS_REDIRECT_POLICY_MASK | DOS_REDIRECT_HTTPS_TO_HTTP },
};

dos_status dos_job_set_u32(struct dos_job *job, enum dos_job_u32 which, uint32_t value)
{
    dos_status s = DOS_OK;

    if ((unsigned)which >= DOS_JOB_U32_COUNT) return DOS_E_INVALID_ARG;
    if (value > u32_rules[which].max || (value & ~u32_rules[which].mask)) return DOS_E_INVALID_ARG;
    /* One redirect policy at a time: 0x300 names none. */
    if (which == DOS_JOB_SECURITY_FLAGS && (value & DOS_REDIRECT_POLICY_MASK) > DOS_REDIRECT_DISALLOW)
        return DOS_E_INVALID_ARG;
    lock(job);
    if (closed(job)) s = DOS_E_INVALID_STATE;
    else
    {
        job->u32[which] = value;
        touch(job);
    }
    unlock(job);
    if (s == DOS_OK) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

/* Sets one text field after validation; every text setter goes through here. */
static dos_status set_text(struct dos_job *job, enum dos_job_text which, const dos_char *value, size_t max,
                           bool nullable)
{
    dos_status s;

    if ((s = store_check_text(value, max, nullable)) != DOS_OK) return s;
    lock(job);
    if (closed(job)) s = DOS_E_INVALID_STATE;
    else if ((s = store_replace_text(&job->text[which], value)) == DOS_OK) touch(job);
    unlock(job);
    if (s == DOS_OK) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

dos_status dos_job_set_display_name(struct dos_job *job, const dos_char *name)
{
    return set_text(job, DOS_JOB_DISPLAY_NAME, name, DOS_MAX_DISPLAY_NAME, false);
}

dos_status dos_job_set_description(struct dos_job *job, const dos_char *description)
{
    return set_text(job, DOS_JOB_DESCRIPTION, description, DOS_MAX_DESCRIPTION, false);
}

/* A new owner also drops the custom headers, which belonged to the old one (classic BITS). */
dos_status dos_job_set_owner(struct dos_job *job, const dos_char *owner)
{
    dos_char *copy;
    dos_status s = DOS_OK;

    if (!owner) return DOS_E_INVALID_ARG;
    if (!(copy = wstr_dup(owner))) return DOS_E_OUT_OF_MEMORY;
    lock(job);
    if (closed(job)) s = DOS_E_INVALID_STATE;
    else
    {
        free(job->text[DOS_JOB_OWNER]);
        job->text[DOS_JOB_OWNER] = copy;
        copy = NULL;
        free(job->text[DOS_JOB_CUSTOM_HEADERS]);
        job->text[DOS_JOB_CUSTOM_HEADERS] = NULL;
        touch(job);
    }
    unlock(job);
    free(copy);
    if (s == DOS_OK) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

dos_status dos_job_set_custom_headers(struct dos_job *job, const dos_char *headers)
{
    dos_status s;

    if (headers && (s = dos_check_custom_headers(headers, DOS_HEADERS_STRICT, NULL)) != DOS_OK) return s;
    return set_text(job, DOS_JOB_CUSTOM_HEADERS, headers, DOS_MAX_CUSTOM_HEADERS, true);
}

static dos_status set_text_pair(struct dos_job *job, enum dos_job_text a, const dos_char *va,
                                enum dos_job_text b, const dos_char *vb,
                                void (*also)(struct dos_job *job, const void *arg), const void *arg);

struct cert_fields
{
    uint32_t location;
    const uint8_t *hash;
};

static void set_cert_fields(struct dos_job *job, const void *arg)
{
    const struct cert_fields *cert = arg;
    job->has_cert = true;
    job->cert_location = cert->location;
    memcpy(job->cert_hash, cert->hash, DOS_CERT_HASH_SIZE);
}

dos_status dos_job_set_client_cert(struct dos_job *job, uint32_t location, const dos_char *store_name,
                                   const uint8_t hash[DOS_CERT_HASH_SIZE], const dos_char *subject)
{
    struct cert_fields cert = { location, hash };
    dos_status s;

    if (location >= DOS_CERT_STORE_LOCATIONS || !store_name || !*store_name || !hash) return DOS_E_INVALID_ARG;
    if ((s = store_check_text(store_name, DOS_MAX_CERT_NAME, false)) != DOS_OK
        || (s = store_check_text(subject, DOS_MAX_CERT_NAME, true)) != DOS_OK)
        return s;
    return set_text_pair(job, DOS_JOB_CERT_STORE_NAME, store_name, DOS_JOB_CERT_SUBJECT, subject, set_cert_fields, &cert);
}

dos_status dos_job_remove_client_cert(struct dos_job *job)
{
    dos_char *store_name = NULL, *subject = NULL;
    dos_status s = DOS_OK;

    lock(job);
    if (closed(job)) s = DOS_E_INVALID_STATE;
    else
    {
        store_name = job->text[DOS_JOB_CERT_STORE_NAME];
        subject = job->text[DOS_JOB_CERT_SUBJECT];
        job->text[DOS_JOB_CERT_STORE_NAME] = job->text[DOS_JOB_CERT_SUBJECT] = NULL;
        job->has_cert = false;
        touch(job);
    }
    unlock(job);
    free(store_name);
    free(subject);
    if (s == DOS_OK) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

dos_status dos_job_get_client_cert(struct dos_job *job, uint32_t *location, uint8_t hash[DOS_CERT_HASH_SIZE],
                                   dos_alloc_fn alloc, dos_char **store_name, dos_char **subject)
{
    dos_status s = DOS_OK;

    *store_name = *subject = NULL;
    lock(job);
    if (!job->has_cert) s = DOS_E_NOT_SET;
    else
    {
        *location = job->cert_location;
        memcpy(hash, job->cert_hash, DOS_CERT_HASH_SIZE);
        if ((s = wstr_dup_with(alloc, job->text[DOS_JOB_CERT_STORE_NAME], store_name)) == DOS_OK)
            s = wstr_dup_with(alloc, job->text[DOS_JOB_CERT_SUBJECT], subject);
    }
    unlock(job);
    return s;
}

/* Sets two text fields together, or neither; also(job, arg), if given, commits more fields
 * under the same lock. */
static dos_status set_text_pair(struct dos_job *job, enum dos_job_text a, const dos_char *va,
                                enum dos_job_text b, const dos_char *vb,
                                void (*also)(struct dos_job *job, const void *arg), const void *arg)
{
    dos_char *ca = NULL, *cb = NULL;
    dos_status s = DOS_OK;

    if ((va && !(ca = wstr_dup(va))) || (vb && !(cb = wstr_dup(vb))))
    {
        free(ca);
        return DOS_E_OUT_OF_MEMORY;
    }
    lock(job);
    if (closed(job)) s = DOS_E_INVALID_STATE;
    else
    {
        free(job->text[a]);
        free(job->text[b]);
        job->text[a] = ca;
        job->text[b] = cb;
        ca = cb = NULL;
        if (also) also(job, arg);
        touch(job);
    }
    unlock(job);
    free(ca);
    free(cb);
    if (s == DOS_OK) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

static void set_proxy_usage(struct dos_job *job, const void *usage)
{
    job->proxy_usage = *(const dos_proxy_usage *)usage;
}

dos_status dos_job_set_proxy(struct dos_job *job, dos_proxy_usage usage, const dos_char *list, const dos_char *bypass)
{
    dos_status s;

    if ((unsigned)usage > DOS_PROXY_AUTODETECT) return DOS_E_INVALID_ARG;
    if (usage == DOS_PROXY_OVERRIDE)
    {
        if (!list || !*list) return DOS_E_INVALID_ARG;
    }
    else if (list || bypass) return DOS_E_INVALID_ARG;   /* lists only go with OVERRIDE */
    if ((s = store_check_text(list, DOS_MAX_PROXY_LIST, true)) != DOS_OK) return s;
    if ((s = store_check_text(bypass, DOS_MAX_PROXY_LIST, true)) != DOS_OK) return s;
    return set_text_pair(job, DOS_JOB_PROXY_LIST, list, DOS_JOB_PROXY_BYPASS, bypass, set_proxy_usage, &usage);
}

dos_status dos_job_set_notify_cmdline(struct dos_job *job, const dos_char *program, const dos_char *params)
{
    dos_status s;

    if (!program)
    {
        if (params) return DOS_E_INVALID_ARG;
    }
    else if ((s = dos_check_local_name(program)) != DOS_OK) return s;
    if ((s = store_check_text(params, DOS_MAX_NOTIFY_PARAMS, true)) != DOS_OK) return s;
    return set_text_pair(job, DOS_JOB_NOTIFY_PROGRAM, program, DOS_JOB_NOTIFY_PARAMS, params, NULL, NULL);
}

dos_status dos_job_set_notification_clsid(struct dos_job *job, const dos_guid *clsid)
{
    dos_status s = DOS_OK;

    lock(job);
    if (closed(job)) s = DOS_E_INVALID_STATE;
    else
    {
        job->notification_clsid = *clsid;
        touch(job);
    }
    unlock(job);
    if (s == DOS_OK) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

static bool auth_valid(uint32_t target, uint32_t scheme)
{
    return target >= 1 && target <= DOS_AUTH_TARGETS && scheme >= 1 && scheme <= DOS_AUTH_SCHEMES;
}

dos_status dos_job_set_credentials(struct dos_job *job, uint32_t target, uint32_t scheme,
                                   const dos_char *user, const dos_char *password)
{
    struct dos_credential c = { true, NULL, NULL }, *slot;
    dos_status s;

    if (!auth_valid(target, scheme)) return DOS_E_INVALID_ARG;
    if ((s = store_check_text(user, DOS_MAX_CREDENTIAL, true)) != DOS_OK) return s;
    if ((s = store_check_text(password, DOS_MAX_CREDENTIAL, true)) != DOS_OK) return s;
    if ((user && !(c.user = wstr_dup(user))) || (password && !(c.password = wstr_dup(password))))
    {
        free_credential(&c);
        return DOS_E_OUT_OF_MEMORY;
    }
    lock(job);
    if (closed(job)) s = DOS_E_INVALID_STATE;
    else
    {
        slot = &job->creds[target - 1][scheme - 1];
        free_credential(slot);
        *slot = c;
        c.user = c.password = NULL;
        touch(job);
    }
    unlock(job);
    free_credential(&c);
    if (s == DOS_OK) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

dos_status dos_job_remove_credentials(struct dos_job *job, uint32_t target, uint32_t scheme)
{
    dos_status s = DOS_OK;
    struct dos_credential old = { 0 };

    if (!auth_valid(target, scheme)) return DOS_E_INVALID_ARG;
    lock(job);
    if (closed(job)) s = DOS_E_INVALID_STATE;
    else if (!job->creds[target - 1][scheme - 1].set) s = DOS_S_NOTHING_TO_REMOVE;
    else
    {
        old = job->creds[target - 1][scheme - 1];
        memset(&job->creds[target - 1][scheme - 1], 0, sizeof(old));
        touch(job);
    }
    unlock(job);
    free_credential(&old);
    if (s == DOS_OK) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

bool dos_job_has_credentials(struct dos_job *job, uint32_t target, uint32_t scheme)
{
    bool set;
    if (!auth_valid(target, scheme)) return false;
    lock(job);
    set = job->creds[target - 1][scheme - 1].set;
    unlock(job);
    return set;
}

bool dos_job_copy_credentials(struct dos_job *job, uint32_t target, uint32_t scheme, dos_alloc_fn alloc,
                              dos_char **user, dos_char **password)
{
    const struct dos_credential *c;
    bool ok;

    *user = *password = NULL;
    if (!auth_valid(target, scheme)) return false;
    lock(job);
    c = &job->creds[target - 1][scheme - 1];
    ok = c->set && (!c->user || wstr_dup_with(alloc, c->user, user) == DOS_OK)
         && (!c->password || wstr_dup_with(alloc, c->password, password) == DOS_OK);
    unlock(job);
    return ok;
}

dos_status dos_job_swap_notify(struct dos_job *job, struct dos_ref *ref, struct dos_ref **old)
{
    dos_status s = DOS_OK;

    *old = NULL;
    lock(job);
    if (closed(job))
    {
        s = DOS_E_INVALID_STATE;
        *old = ref;               /* not taken: hand it back for release */
    }
    else
    {
        *old = job->notify;
        job->notify = ref;
        touch(job);
    }
    unlock(job);
    return s;
}

bool dos_job_has_notify(struct dos_job *job)
{
    bool has;
    lock(job);
    has = job->notify != NULL;
    unlock(job);
    return has;
}

struct dos_ref *dos_job_get_notify(struct dos_job *job)
{
    struct dos_ref *ref;
    lock(job);
    ref = job->notify;
    dos_ref_retain(ref);
    unlock(job);
    return ref;
}

/* ---- files of a job ------------------------------------------------------ */

/* Builds a file record from a spec, outside the lock. */
dos_status store_make_file(const struct dos_file_spec *spec, struct dos_file **out)
{
    struct dos_file *f;
    dos_status s;

    *out = NULL;
    if ((s = dos_check_remote_name(spec->remote_name, NULL)) != DOS_OK) return s;
    if (spec->local_name || !spec->local_optional)
        if ((s = dos_check_local_name(spec->local_name)) != DOS_OK) return s;
    if (spec->file_id)
    {
        if (!*spec->file_id) return DOS_E_INVALID_ARG;
        if ((s = store_check_text(spec->file_id, DOS_MAX_FILE_ID, false)) != DOS_OK) return s;
    }
    if (spec->file_size == 0) return DOS_E_INVALID_ARG;

    if (!(f = calloc(1, sizeof(*f)))) return DOS_E_OUT_OF_MEMORY;
    f->file_size = spec->file_size;
    f->size_given = spec->file_size != DOS_SIZE_UNKNOWN;
    if (spec->range_count &&
        (s = dos_ranges_validate(spec->ranges, spec->range_count, spec->file_size, &f->ranges)) != DOS_OK)
    {
        free(f);
        return s;
    }
    f->range_count = spec->range_count;
    if (!(f->text[DOS_FILE_REMOTE_NAME] = wstr_dup(spec->remote_name))
        || (spec->local_name && !(f->text[DOS_FILE_LOCAL_NAME] = wstr_dup(spec->local_name)))
        || (spec->file_id && !(f->text[DOS_FILE_ID] = wstr_dup(spec->file_id))))
    {
        store_free_file(f);
        return DOS_E_OUT_OF_MEMORY;
    }
    *out = f;
    return DOS_OK;
}

static uint64_t file_id_hash(const dos_char *id)
{
    return table_hash(id, wstr_len(id) * sizeof(dos_char));
}

static bool file_has_id(const void *file, const void *id)
{
    return wstr_eq(((const struct dos_file *)file)->text[DOS_FILE_ID], id);
}

/* Whether a file of the table uses f's DO file id (files without one never clash). */
static bool file_id_taken(const struct table *ids, const struct dos_file *f)
{
    const dos_char *id = f->text[DOS_FILE_ID];
    return id && table_find(ids, file_id_hash(id), file_has_id, id);
}

/* Adds the files of news that have a DO file id to ids; room was reserved. */
static void add_file_ids(struct table *ids, struct dos_file *const *news, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++)
        if (news[i]->text[DOS_FILE_ID]) table_insert(ids, file_id_hash(news[i]->text[DOS_FILE_ID]), news[i]);
}

bool store_link_file(struct dos_job *job, struct dos_file *f)
{
    if (job->file_count == job->file_capacity)
    {
        uint32_t cap = job->file_capacity ? job->file_capacity * 2 : 4;
        struct dos_file **grown = realloc(job->files, cap * sizeof(*grown));
        if (!grown) return false;
        job->files = grown;
        job->file_capacity = cap;
    }
    f->job = job;
    f->index = job->file_count;
    if (f->text[DOS_FILE_LOCAL_NAME]
        && !(f->text[DOS_FILE_TEMP_NAME] = store_make_temp_name(job, f->index, f->text[DOS_FILE_LOCAL_NAME])))
        return false;
    job->files[job->file_count++] = f;
    store_file_enter(f);
    return true;
}

dos_status dos_job_add_files(struct dos_job *job, const struct dos_file_spec *specs, size_t count,
                             struct dos_file **first)
{
    struct table batch_ids = { 0 };
    struct dos_file **news;
    dos_status s = DOS_OK;
    size_t i, made = 0, with_id = 0;

    if (first) *first = NULL;
    if (!specs || count == 0) return DOS_E_INVALID_ARG;
    if (count > DOS_MAX_FILES_PER_JOB) return DOS_E_TOO_MANY_FILES;
    if (!(news = calloc(count, sizeof(*news)))) return DOS_E_OUT_OF_MEMORY;
    for (; made < count; made++)
    {
        if ((s = store_make_file(&specs[made], &news[made])) != DOS_OK) goto done;
        if (!news[made]->text[DOS_FILE_ID]) continue;
        /* Two files of one call may not share an id either. */
        if (file_id_taken(&batch_ids, news[made]))
        {
            store_free_file(news[made]);
            s = DOS_E_INVALID_ARG;
            goto done;
        }
        if (!table_reserve(&batch_ids, 1))
        {
            store_free_file(news[made]);
            s = DOS_E_OUT_OF_MEMORY;
            goto done;
        }
        table_insert(&batch_ids, file_id_hash(news[made]->text[DOS_FILE_ID]), news[made]);
        with_id++;
    }

    lock(job);
    if (closed(job)) s = DOS_E_INVALID_STATE;
    else if (job->file_count + count > DOS_MAX_FILES_PER_JOB) s = DOS_E_TOO_MANY_FILES;
    else
    {
        for (i = 0; i < count && s == DOS_OK; i++)
            if (file_id_taken(&job->file_ids, news[i])) s = DOS_E_INVALID_ARG;
    }
    if (s == DOS_OK && with_id && !table_reserve(&job->file_ids, with_id)) s = DOS_E_OUT_OF_MEMORY;
    if (s == DOS_OK && job->file_count + count > job->file_capacity)
    {
        uint32_t cap = job->file_capacity ? job->file_capacity : 4;
        struct dos_file **grown;
        while (cap < job->file_count + count) cap *= 2;
        if ((grown = realloc(job->files, cap * sizeof(*grown)))) job->files = grown, job->file_capacity = cap;
        else s = DOS_E_OUT_OF_MEMORY;
    }
    if (s == DOS_OK)
    {
        for (i = 0; i < count; i++)
        {
            struct dos_file *f = news[i];
            f->job = job;
            f->index = job->file_count;
            if (f->text[DOS_FILE_LOCAL_NAME] &&
                !(f->text[DOS_FILE_TEMP_NAME] = store_make_temp_name(job, f->index, f->text[DOS_FILE_LOCAL_NAME])))
            {
                /* roll back the files added so far in this call */
                job->file_count -= (uint32_t)i;
                s = DOS_E_OUT_OF_MEMORY;
                break;
            }
            job->files[job->file_count++] = f;
        }
        if (s == DOS_OK)
        {
            for (i = 0; i < count; i++) store_file_enter(news[i]);
            add_file_ids(&job->file_ids, news, count);
            if (first) *first = news[0];
            made = 0;          /* the job owns them now */
            touch(job);
        }
    }
    unlock(job);

done:
    for (i = 0; i < made; i++) if (news[i]) store_free_file(news[i]);
    free(news);
    table_free(&batch_ids);
    if (s == DOS_OK) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

dos_status dos_job_list_files(struct dos_job *job, struct dos_file ***out, size_t *count)
{
    struct dos_file **files;

    lock(job);
    if ((files = malloc((job->file_count ? job->file_count : 1) * sizeof(*files))))
    {
        if (job->file_count) memcpy(files, job->files, job->file_count * sizeof(*files));
        *count = job->file_count;
    }
    unlock(job);
    *out = files;
    return files ? DOS_OK : DOS_E_OUT_OF_MEMORY;
}

dos_status dos_job_replace_remote_prefix(struct dos_job *job, const dos_char *old_prefix, const dos_char *new_prefix)
{
    size_t old_len, new_len, i, n;
    dos_char **renamed = NULL;
    dos_status s = DOS_OK;

    if (!old_prefix || !*old_prefix || !new_prefix || !*new_prefix) return DOS_E_INVALID_ARG;
    old_len = wstr_len_max(old_prefix, DOS_MAX_URL);
    new_len = wstr_len_max(new_prefix, DOS_MAX_URL);
    if (old_len > DOS_MAX_URL || new_len > DOS_MAX_URL) return DOS_E_STRING_TOO_LONG;

    lock(job);
    n = job->file_count;
    if (closed(job)) s = DOS_E_INVALID_STATE;
    else if (!(renamed = calloc(n ? n : 1, sizeof(*renamed)))) s = DOS_E_OUT_OF_MEMORY;
    /* Build every new name first and validate it; change nothing unless all succeed. */
    for (i = 0; s == DOS_OK && i < n; i++)
    {
        const dos_char *name = job->files[i]->text[DOS_FILE_REMOTE_NAME];
        size_t len = wstr_len(name);
        if (len < old_len || memcmp(name, old_prefix, old_len * sizeof(dos_char))) continue;
        if (!(renamed[i] = malloc((len - old_len + new_len + 1) * sizeof(dos_char)))) { s = DOS_E_OUT_OF_MEMORY; break; }
        memcpy(renamed[i], new_prefix, new_len * sizeof(dos_char));
        memcpy(renamed[i] + new_len, name + old_len, (len - old_len + 1) * sizeof(dos_char));
        s = dos_check_remote_name(renamed[i], NULL);
    }
    if (s == DOS_OK)
    {
        for (i = 0; i < n; i++)
        {
            if (!renamed[i]) continue;
            free(job->files[i]->text[DOS_FILE_REMOTE_NAME]);
            job->files[i]->text[DOS_FILE_REMOTE_NAME] = renamed[i];
            renamed[i] = NULL;
        }
        touch(job);
    }
    unlock(job);
    if (renamed) for (i = 0; i < n; i++) free(renamed[i]);
    free(renamed);
    if (s == DOS_OK) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

/* ---- life cycle ---------------------------------------------------------- */

dos_status store_suspend(struct dos_job *job, bool only_moving)
{
    dos_status s = DOS_OK;
    dos_run stopped = 0;
    bool changed = false;

    lock(job);
    if (closed(job)) s = DOS_E_INVALID_STATE;
    else if (only_moving ? job->state == DOS_STATE_QUEUED || job->state == DOS_STATE_TRANSFERRING
                               || job->state == DOS_STATE_TRANSIENT_ERROR
                         : job->state != DOS_STATE_SUSPENDED)
    {
        job->state = DOS_STATE_SUSPENDED;
        stopped = store_revoke_run(job);
        changed = true;
        touch(job);
    }
    unlock(job);
    if (stopped) store_emit_run(job, DOS_EVENT_STOPPED, NULL, stopped);
    if (changed) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

dos_status dos_job_suspend(struct dos_job *job)
{
    return store_suspend(job, false);
}

void store_enter_transferred(struct dos_job *job)
{
    job->state = DOS_STATE_TRANSFERRED;
    touch(job);
    job->transfer_completion_time = job->modification_time;
}

dos_status dos_job_resume(struct dos_job *job)
{
    enum dos_event_kind kind = DOS_EVENT_MODIFIED;
    dos_status s = DOS_OK;
    dos_run stopped = 0;
    bool changed = false;

    lock(job);
    if (closed(job)) s = DOS_E_INVALID_STATE;
    else if (job->file_count == 0) s = DOS_E_JOB_EMPTY;
    else if (job->unnamed_count) s = DOS_E_SINK_UNSPECIFIED;
    if (s == DOS_OK && (job->state == DOS_STATE_SUSPENDED || job->state == DOS_STATE_ERROR
                        || job->state == DOS_STATE_TRANSIENT_ERROR))
    {
        /* A retrying run is replaced by a new one; a job with every file on disk has nothing to move. */
        stopped = store_revoke_run(job);
        changed = true;
        if (store_all_files_transferred(job))
        {
            store_enter_transferred(job);
            kind = DOS_EVENT_TRANSFERRED;
        }
        else
        {
            job->state = DOS_STATE_QUEUED;
            touch(job);
            kind = DOS_EVENT_RUNNABLE;
        }
    }
    unlock(job);
    if (stopped) store_emit_run(job, DOS_EVENT_STOPPED, NULL, stopped);
    if (changed)
    {
        emit(job, kind, NULL);
        if (kind != DOS_EVENT_MODIFIED) emit(job, DOS_EVENT_MODIFIED, NULL);
    }
    return s;
}

dos_status dos_job_begin_finish(struct dos_job *job)
{
    dos_status s = DOS_OK;
    dos_run stopped = 0;

    lock(job);
    if (closed(job)) s = DOS_E_INVALID_STATE;
    else
    {
        job->finishing = true;
        stopped = store_revoke_run(job);
    }
    unlock(job);
    if (stopped) store_emit_run(job, DOS_EVENT_STOPPED, NULL, stopped);
    return s;
}

dos_status dos_job_end_finish(struct dos_job *job, dos_job_state final_state, const bool *kept)
{
    struct dos_ref *notify = NULL;
    struct dos_sink *sink;
    bool unlisted = false, partial = false;
    uint32_t i;

    if (final_state != DOS_STATE_CANCELLED && final_state != DOS_STATE_ACKNOWLEDGED) return DOS_E_INVALID_ARG;
    lock(job);
    if (!job->finishing)
    {
        unlock(job);
        return DOS_E_INVALID_STATE;
    }
    for (i = 0; i < job->file_count; i++)
    {
        struct dos_file *f = job->files[i];
        if (final_state == DOS_STATE_ACKNOWLEDGED && f->done && (!kept || kept[i])) f->completed = true;
        else partial = true;
    }
    job->finishing = false;
    job->state = final_state;
    /* A BITS callback ends with the job; a download's still hears it turn Finalized or Aborted. */
    if (job->kind == DOS_KIND_JOB)
    {
        notify = job->notify;
        job->notify = NULL;
    }
    sink = job->sink;
    job->sink = NULL;
    if (job->listed)
    {
        store_unlink(job->store, job);
        unlisted = true;
    }
    touch(job);
    unlock(job);
    dos_ref_release(notify);
    if (sink) dos_ref_release(&sink->ref);
    if (job->kind == DOS_KIND_DOWNLOAD) emit(job, DOS_EVENT_MODIFIED, NULL);
    if (unlisted) dos_job_release(job);   /* the caller still holds its own reference */
    return (final_state == DOS_STATE_ACKNOWLEDGED && partial) ? DOS_S_PARTIAL_COMPLETE : DOS_OK;
}

dos_status dos_job_abort_finish(struct dos_job *job, const bool *kept)
{
    dos_status s = DOS_OK;
    bool changed = false;
    uint32_t i;

    lock(job);
    if (!job->finishing) s = DOS_E_INVALID_STATE;
    else
    {
        /* What was moved onto its final name is the user's now, whatever happens to the rest. */
        for (i = 0; kept && i < job->file_count; i++)
            if (kept[i] && job->files[i]->done) job->files[i]->completed = true;
        job->finishing = false;
        /* begin_finish revoked the run: a job that was moving has no worker any more. */
        if (job->state == DOS_STATE_QUEUED || job->state == DOS_STATE_TRANSFERRING
            || job->state == DOS_STATE_TRANSIENT_ERROR)
        {
            job->state = DOS_STATE_SUSPENDED;
            changed = true;
        }
        touch(job);
    }
    unlock(job);
    if (changed) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

dos_status dos_job_cancel(struct dos_job *job)
{
    dos_status s = dos_job_begin_finish(job);
    return s == DOS_OK ? dos_job_end_finish(job, DOS_STATE_CANCELLED, NULL) : s;
}

dos_status dos_job_complete(struct dos_job *job)
{
    dos_status s = dos_job_begin_finish(job);
    return s == DOS_OK ? dos_job_end_finish(job, DOS_STATE_ACKNOWLEDGED, NULL) : s;
}

/* ---- the engine's runs ----------------------------------------------------- */

void dos_store_set_listener(struct dos_store *store, dos_event_fn listener, void *context)
{
    port_mutex_lock(store->lock);
    store->listener = listener;
    store->listener_context = context;
    port_mutex_unlock(store->lock);
}

/* Whether run is the job's live run; callers hold the lock. */
static bool run_live(const struct dos_job *job, dos_run run)
{
    return run != 0 && job->run == run && !closed(job);
}

dos_status dos_job_start_run(struct dos_job *job, dos_run *run)
{
    dos_status s = DOS_OK;

    *run = 0;
    lock(job);
    if (closed(job) || job->state != DOS_STATE_QUEUED) s = DOS_E_INVALID_STATE;
    else
    {
        job->run = *run = ++job->store->last_run;
        job->state = DOS_STATE_TRANSFERRING;
        touch(job);
    }
    unlock(job);
    if (s == DOS_OK) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

bool dos_job_run_is_live(struct dos_job *job, dos_run run)
{
    bool live;
    lock(job);
    live = run_live(job, run);
    unlock(job);
    return live;
}

dos_status dos_job_retry(struct dos_job *job, dos_run run)
{
    dos_status s = DOS_OK;
    bool changed = false;

    lock(job);
    if (!run_live(job, run)) s = DOS_E_INVALID_STATE;
    else if (job->state == DOS_STATE_TRANSIENT_ERROR)
    {
        job->state = DOS_STATE_TRANSFERRING;
        changed = true;
        touch(job);
    }
    unlock(job);
    if (changed) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

void dos_transfer_file_clear(struct dos_transfer_file *tf)
{
    if (tf->sink) dos_ref_release(&tf->sink->ref);
    free(tf->validator);
    free(tf->remote_name);
    free(tf->local_name);
    free(tf->temp_name);
    free(tf->ranges);
    memset(tf, 0, sizeof(*tf));
}

dos_status dos_job_next_file(struct dos_job *job, dos_run run, struct dos_transfer_file *tf)
{
    struct dos_file *f = NULL;
    dos_status s = DOS_OK;

    memset(tf, 0, sizeof(*tf));
    lock(job);
    if (!run_live(job, run)) s = DOS_E_INVALID_STATE;
    else
    {
        /* Each file is passed once as it becomes transferred: a run costs the job's length, not its square. */
        while (job->cursor < job->file_count && job->files[job->cursor]->done) job->cursor++;
        if (job->cursor < job->file_count) f = job->files[job->cursor];
        if (!f) s = DOS_E_NOT_SET;
        else if (!f->text[DOS_FILE_LOCAL_NAME] && job->sink)
        {
            tf->sink = job->sink;            /* the bytes go to the download's stream */
            dos_ref_retain(&tf->sink->ref);
        }
        else if (!f->text[DOS_FILE_LOCAL_NAME])
        {
            /* Added without a destination while the job ran (IDeliveryOptimizationJob2::AddFile). */
            tf->file = f;
            s = DOS_E_SINK_UNSPECIFIED;
            f = NULL;
        }
    }
    if (f)
    {
        tf->file = f;
        tf->index = f->index;
        tf->file_size = f->file_size;
        tf->transferred = f->transferred;
        tf->temp_created = f->temp_created;
        tf->range_count = f->range_count;
        if (!(tf->remote_name = wstr_dup(f->text[DOS_FILE_REMOTE_NAME]))
            || (!tf->sink && !(tf->local_name = wstr_dup(f->text[DOS_FILE_LOCAL_NAME])))
            || (!tf->sink && !(tf->temp_name = wstr_dup(f->text[DOS_FILE_TEMP_NAME])))
            || (f->text[DOS_FILE_VALIDATOR] && !(tf->validator = wstr_dup(f->text[DOS_FILE_VALIDATOR])))
            || (f->range_count && !(tf->ranges = malloc(f->range_count * sizeof(dos_range)))))
            s = DOS_E_OUT_OF_MEMORY;
        else if (f->range_count)
            memcpy(tf->ranges, f->ranges, f->range_count * sizeof(dos_range));
    }
    unlock(job);
    if (s != DOS_OK)
    {
        struct dos_file *named = tf->file;
        dos_transfer_file_clear(tf);
        tf->file = named;
    }
    return s;
}

dos_status dos_file_mark_temp_created(struct dos_file *file, dos_run run)
{
    dos_status s = DOS_OK;
    lock(file->job);
    if (!run_live(file->job, run)) s = DOS_E_INVALID_STATE;
    else file->temp_created = true;
    unlock(file->job);
    return s;
}

dos_status dos_file_record_response(struct dos_file *file, dos_run run, const dos_char *headers,
                                    const dos_char *validator)
{
    dos_char *headers_copy = NULL, *validator_copy = NULL;
    dos_status s = DOS_OK;

    if ((headers && !(headers_copy = wstr_dup(headers))) || (validator && !(validator_copy = wstr_dup(validator))))
    {
        free(headers_copy);
        return DOS_E_OUT_OF_MEMORY;
    }
    lock(file->job);
    if (!run_live(file->job, run)) s = DOS_E_INVALID_STATE;
    else
    {
        free(file->text[DOS_FILE_RESPONSE_HEADERS]);
        file->text[DOS_FILE_RESPONSE_HEADERS] = headers_copy;
        headers_copy = NULL;
        if (!file->text[DOS_FILE_VALIDATOR])
        {
            file->text[DOS_FILE_VALIDATOR] = validator_copy;
            validator_copy = NULL;
        }
    }
    unlock(file->job);
    free(headers_copy);
    free(validator_copy);
    return s;
}

dos_status dos_file_record_http(struct dos_file *file, dos_run run, uint32_t status, const dos_char *server_address,
                                const dos_char *url)
{
    dos_char *address_copy = NULL, *url_copy = NULL;
    dos_status s = DOS_OK;

    if ((server_address && !(address_copy = wstr_dup(server_address))) || (url && !(url_copy = wstr_dup(url))))
    {
        free(address_copy);
        return DOS_E_OUT_OF_MEMORY;
    }
    lock(file->job);
    if (!run_live(file->job, run)) s = DOS_E_INVALID_STATE;
    else
    {
        file->http_status = status;
        free(file->text[DOS_FILE_SERVER_ADDRESS]);
        free(file->text[DOS_FILE_FINAL_URL]);
        file->text[DOS_FILE_SERVER_ADDRESS] = address_copy;
        file->text[DOS_FILE_FINAL_URL] = url_copy;
        address_copy = url_copy = NULL;
    }
    unlock(file->job);
    free(address_copy);
    free(url_copy);
    return s;
}

dos_status dos_file_restart(struct dos_file *file, dos_run run)
{
    dos_status s = DOS_OK;

    lock(file->job);
    if (!run_live(file->job, run)) s = DOS_E_INVALID_STATE;
    else
    {
        store_file_leave(file);
        file->transferred = 0;
        if (!file->size_given) file->file_size = DOS_SIZE_UNKNOWN;
        store_file_enter(file);
        free(file->text[DOS_FILE_VALIDATOR]);
        file->text[DOS_FILE_VALIDATOR] = NULL;
        touch(file->job);
    }
    unlock(file->job);
    if (s == DOS_OK) emit(file->job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

dos_status dos_file_report_redirect(struct dos_file *file, dos_run run, const dos_char *url)
{
    dos_char *copy;
    dos_status s;

    if ((s = dos_check_remote_name(url, NULL)) != DOS_OK) return s;
    if (!(copy = wstr_dup(url))) return DOS_E_OUT_OF_MEMORY;
    lock(file->job);
    if (!run_live(file->job, run)) s = DOS_E_INVALID_STATE;
    else
    {
        free(file->text[DOS_FILE_REMOTE_NAME]);
        file->text[DOS_FILE_REMOTE_NAME] = copy;
        copy = NULL;
        touch(file->job);
    }
    unlock(file->job);
    free(copy);
    if (s == DOS_OK) emit(file->job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

static dos_status record_progress(struct dos_file *file, dos_run run, uint64_t file_size, uint64_t bytes_transferred,
                                  bool delivered)
{
    struct dos_job *job = file->job;
    dos_status s = DOS_OK;
    uint64_t size, total;
    bool done = false;

    lock(job);
    size = file->file_size != DOS_SIZE_UNKNOWN ? file->file_size : file_size;
    /* Bytes handed to a client's stream count even when the run was revoked meanwhile (a
     * Pause), as long as no other run has begun and the job is not being finished. */
    if (!run_live(job, run) && !(delivered && run && !job->run && !closed(job))) s = DOS_E_INVALID_STATE;
    /* A newly learned size must still hold every requested range. */
    else if (file->range_count && size != DOS_SIZE_UNKNOWN)
        s = dos_ranges_validate(file->ranges, file->range_count, size, NULL);
    if (s == DOS_OK)
    {
        total = file->ranges ? dos_ranges_total(file->ranges, file->range_count, size) : size;
        if (total != DOS_SIZE_UNKNOWN && bytes_transferred > total) s = DOS_E_INVALID_ARG;
        else
        {
            bool was_done = file->done;
            store_file_leave(file);
            file->file_size = size;
            file->transferred = bytes_transferred;
            store_file_enter(file);
            done = !was_done && file->done;
            if (job->state == DOS_STATE_TRANSIENT_ERROR && job->run) job->state = DOS_STATE_TRANSFERRING;
            touch(job);
        }
    }
    unlock(job);
    if (s == DOS_OK)
    {
        if (done) emit(job, DOS_EVENT_FILE_TRANSFERRED, file);
        emit(job, DOS_EVENT_MODIFIED, NULL);
    }
    return s;
}

dos_status dos_file_record_progress(struct dos_file *file, dos_run run, uint64_t file_size, uint64_t bytes_transferred)
{
    return record_progress(file, run, file_size, bytes_transferred, false);
}

dos_status dos_file_record_delivered(struct dos_file *file, dos_run run, uint64_t file_size, uint64_t bytes_transferred)
{
    return record_progress(file, run, file_size, bytes_transferred, true);
}

dos_status dos_job_finish_run(struct dos_job *job, dos_run run)
{
    dos_status s = DOS_OK;

    lock(job);
    if (!run_live(job, run)) s = DOS_E_INVALID_STATE;
    else if (!store_all_files_transferred(job)) s = DOS_E_INVALID_ARG;
    else
    {
        job->run = 0;
        store_enter_transferred(job);
    }
    unlock(job);
    if (s == DOS_OK)
    {
        emit(job, DOS_EVENT_TRANSFERRED, NULL);
        emit(job, DOS_EVENT_MODIFIED, NULL);
    }
    return s;
}

/* ---- errors -------------------------------------------------------------- */

dos_status dos_job_get_error(struct dos_job *job, struct dos_error_record *record)
{
    dos_status s = DOS_OK;

    memset(record, 0, sizeof(*record));
    lock(job);
    if (!job->has_error || (job->state != DOS_STATE_ERROR && job->state != DOS_STATE_TRANSIENT_ERROR))
        s = DOS_E_NO_ERROR_INFO;
    else
    {
        *record = job->error;
        record->protocol = NULL;
        if (job->error.protocol && !(record->protocol = wstr_dup(job->error.protocol))) s = DOS_E_OUT_OF_MEMORY;
    }
    unlock(job);
    return s;
}

void dos_error_record_clear(struct dos_error_record *record)
{
    free(record->protocol);
    memset(record, 0, sizeof(*record));
}

static dos_status report_error(struct dos_job *job, dos_run run, bool transient, int32_t summary, int32_t code,
                               dos_error_context context, struct dos_file *file, const dos_char *protocol)
{
    dos_char *copy = NULL;
    dos_status s = DOS_OK;
    uint32_t count = 0;

    if ((file && file->job != job) || code >= 0 || summary > 0) return DOS_E_INVALID_ARG;
    if (protocol && !(copy = wstr_dup(protocol))) return DOS_E_OUT_OF_MEMORY;
    lock(job);
    if (!run_live(job, run)) s = DOS_E_INVALID_STATE;
    else
    {
        free(job->error.protocol);
        job->error.code = code;
        job->error.context = context;
        job->error.file = file;
        job->error.protocol = copy;
        job->error.summary = summary;
        copy = NULL;
        job->has_error = true;
        /* The no-progress timeout ending a transient error's wait is that error, not another. */
        if (!(summary && job->state == DOS_STATE_TRANSIENT_ERROR)) job->error_count++;
        job->state = transient ? DOS_STATE_TRANSIENT_ERROR : DOS_STATE_ERROR;
        if (!transient) job->run = 0;   /* a fatal error ends the run: only Resume starts another */
        touch(job);
        count = job->error_count;
    }
    unlock(job);
    free(copy);
    if (s == DOS_OK)
    {
        TRACE_STORE("job %s: %s 0x%08lx (no-progress 0x%08lx), context %d, file %ld, protocol %s, error %u",
                    dos_trace_guid(&job->id), transient ? "transient error" : "error", (unsigned long)(uint32_t)code,
                    (unsigned long)(uint32_t)summary, (int)context, file ? (long)file->index : -1L,
                    dos_trace_wstr(protocol), count);
        if (!transient) emit(job, DOS_EVENT_ERROR, NULL);
        emit(job, DOS_EVENT_MODIFIED, NULL);
    }
    return s;
}

dos_status dos_job_report_error(struct dos_job *job, dos_run run, bool transient, int32_t code,
                                dos_error_context context, struct dos_file *file, const dos_char *protocol)
{
    return report_error(job, run, transient, 0, code, context, file, protocol);
}

dos_status dos_job_report_no_progress(struct dos_job *job, dos_run run, int32_t summary, int32_t code,
                                      dos_error_context context, struct dos_file *file, const dos_char *protocol)
{
    if (summary >= 0) return DOS_E_INVALID_ARG;
    return report_error(job, run, false, summary, code, context, file, protocol);
}

/* ---- files --------------------------------------------------------------- */

struct dos_job *dos_file_job(struct dos_file *file)
{
    return file->job;
}

void dos_file_get_info(struct dos_file *file, struct dos_file_info *info)
{
    struct dos_job *job = file->job;

    lock(job);
    info->bytes_total = file->total;
    info->bytes_transferred = file->transferred;
    info->completed = file->completed;
    info->temp_created = file->temp_created;
    info->file_size = file->file_size;
    info->range_count = file->range_count;
    info->validation_state = file->validation_state;
    info->http_status = file->http_status;
    info->job_state = job->state;
    info->job_priority = (dos_priority)job->u32[DOS_JOB_PRIORITY];
    unlock(job);
}

dos_status dos_file_copy_text(struct dos_file *file, enum dos_file_text which, dos_alloc_fn alloc, dos_char **out)
{
    dos_status s;

    *out = NULL;
    if ((unsigned)which >= DOS_FILE_TEXT_COUNT) return DOS_E_INVALID_ARG;
    lock(file->job);
    s = file->text[which] ? wstr_dup_with(alloc, file->text[which], out) : DOS_E_NOT_SET;
    unlock(file->job);
    return s;
}

dos_status dos_file_copy_ranges(struct dos_file *file, dos_alloc_fn alloc, dos_range **ranges, uint32_t *count)
{
    dos_status s = DOS_OK;

    *ranges = NULL;
    *count = 0;
    lock(file->job);
    if (file->range_count)
    {
        if ((*ranges = alloc(file->range_count * sizeof(dos_range))))
        {
            memcpy(*ranges, file->ranges, file->range_count * sizeof(dos_range));
            *count = file->range_count;
        }
        else s = DOS_E_OUT_OF_MEMORY;
    }
    unlock(file->job);
    return s;
}

dos_status dos_file_set_remote_name(struct dos_file *file, const dos_char *url)
{
    dos_char *copy;
    dos_status s;

    if ((s = dos_check_remote_name(url, NULL)) != DOS_OK) return s;
    if (!(copy = wstr_dup(url))) return DOS_E_OUT_OF_MEMORY;
    lock(file->job);
    if (closed(file->job)) s = DOS_E_INVALID_STATE;
    else
    {
        free(file->text[DOS_FILE_REMOTE_NAME]);
        file->text[DOS_FILE_REMOTE_NAME] = copy;
        copy = NULL;
        touch(file->job);
    }
    unlock(file->job);
    free(copy);
    if (s == DOS_OK) emit(file->job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

/* Where a file's destination and size may still change: nothing of it moved or made on disk
 * (its temporary file is named after the destination), and no run (a job in TRANSIENT_ERROR
 * is still being retried). */
static bool file_settable(const struct dos_file *file)
{
    dos_job_state st = file->job->state;
    return file->transferred == 0 && !file->temp_created && !closed(file->job)
        && (st == DOS_STATE_SUSPENDED || st == DOS_STATE_ERROR);
}

dos_status dos_file_set_local_name(struct dos_file *file, const dos_char *path)
{
    dos_char *copy, *temp;
    dos_status s;

    if ((s = dos_check_local_name(path)) != DOS_OK) return s;
    if (!(copy = wstr_dup(path))) return DOS_E_OUT_OF_MEMORY;
    if (!(temp = store_make_temp_name(file->job, file->index, path)))
    {
        free(copy);
        return DOS_E_OUT_OF_MEMORY;
    }
    lock(file->job);
    if (!file_settable(file)) s = DOS_E_INVALID_STATE;
    else
    {
        store_file_leave(file);
        free(file->text[DOS_FILE_LOCAL_NAME]);
        free(file->text[DOS_FILE_TEMP_NAME]);
        file->text[DOS_FILE_LOCAL_NAME] = copy;
        file->text[DOS_FILE_TEMP_NAME] = temp;
        copy = temp = NULL;
        store_file_enter(file);
        touch(file->job);
    }
    unlock(file->job);
    free(copy);
    free(temp);
    if (s == DOS_OK) emit(file->job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

dos_status dos_file_set_size(struct dos_file *file, uint64_t size)
{
    dos_status s = DOS_OK;

    if (size == 0 || size == DOS_SIZE_UNKNOWN) return DOS_E_INVALID_ARG;
    lock(file->job);
    if (!file_settable(file)) s = DOS_E_INVALID_STATE;
    else if (file->range_count)
        s = dos_ranges_validate(file->ranges, file->range_count, size, NULL);
    if (s == DOS_OK)
    {
        store_file_leave(file);
        file->file_size = size;
        file->size_given = true;
        store_file_enter(file);
        touch(file->job);
    }
    unlock(file->job);
    if (s == DOS_OK) emit(file->job, DOS_EVENT_MODIFIED, NULL);
    return s;
}

dos_status dos_file_set_validation_state(struct dos_file *file, bool valid)
{
    struct dos_job *job = file->job;
    dos_status s = DOS_OK;

    lock(job);
    /* A file moved onto its final name by a Complete that failed for another is the user's now. */
    if (closed(job) || job->state != DOS_STATE_TRANSFERRED || !file->done || file->completed)
        s = DOS_E_INVALID_STATE;
    else
    {
        file->validation_state = valid;
        if (!valid)
        {
            /* The content was rejected: download it again (spec 3.7, classic File3). */
            store_file_leave(file);
            file->transferred = 0;
            store_file_enter(file);
            job->state = DOS_STATE_QUEUED;
        }
        touch(job);
    }
    unlock(job);
    if (s == DOS_OK && !valid) emit(job, DOS_EVENT_RUNNABLE, NULL);
    if (s == DOS_OK) emit(job, DOS_EVENT_MODIFIED, NULL);
    return s;
}
