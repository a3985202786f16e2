/*
 * The download view: IDODownload over an IDO download record of the store
 * (docs/ido.md), with the manager's permissive IClientSecurity (security.c), since
 * DO clients call CoSetProxyBlanket on every download and fail if it fails.
 * The view converts VARIANTs to the core's values and back; the rules of
 * properties and states are the store's (src/core/download.c). Also here: the
 * stream sink that takes a download's bytes through ISequentialStream::Write,
 * and the waiters behind Start's blocking mode.
 */
#include "com_private.h"

#include <stdlib.h>
#include <wincrypt.h>

#include "engine.h"
#include "names.h"
#include "wstr.h"

struct download_view
{
    IDODownload IDODownload_iface;
    struct client_security security;
    LONG refs;
    struct dos_job *job;
    const struct error_map *errors;
};

static inline struct download_view *impl_from_IDODownload(IDODownload *iface)
{
    return CONTAINING_RECORD(iface, struct download_view, IDODownload_iface);
}

static HRESULT map(struct download_view *view, dos_status s)
{
    return hr_from(view->errors, s);
}

/* ---- the stream sink ---------------------------------------------------------------
 * Called by the worker that moves the download, never with a lock held; the stream is
 * called directly, so it must be usable from any thread (an in-process free-threaded
 * object, as the DO SDK's is). */

struct stream_sink
{
    struct dos_sink base;
    IUnknown *unknown;             /* what SetProperty was given, for GetProperty */
    IStream *stream;
    SRWLOCK lock;                  /* guards the fields below, never held across Write */
    BOOL closed;
    LONG writing;                  /* writes under way (the worker's, one at a time) */
    DWORD writer;                  /* the thread of the last write */
    HANDLE idle;                   /* manual-reset: set while no write is under way */
};

static struct stream_sink *sink_from(struct dos_sink *sink)
{
    return CONTAINING_RECORD(sink, struct stream_sink, base);
}

/* S_OK from ISequentialStream::Write means every byte was taken; a stream need not say how
 * many (the DO SDK's does not), so none is asked. */
static int32_t sink_write(struct dos_sink *base, const void *data, uint32_t size)
{
    struct stream_sink *sink = sink_from(base);
    HRESULT hr;

    AcquireSRWLockExclusive(&sink->lock);
    if (sink->closed)
    {
        ReleaseSRWLockExclusive(&sink->lock);
        return E_ABORT;
    }
    if (!sink->writing++) ResetEvent(sink->idle);
    sink->writer = GetCurrentThreadId();
    ReleaseSRWLockExclusive(&sink->lock);
    hr = ISequentialStream_Write((ISequentialStream *)sink->stream, data, size, NULL);
    AcquireSRWLockExclusive(&sink->lock);
    if (!--sink->writing) SetEvent(sink->idle);
    ReleaseSRWLockExclusive(&sink->lock);
    return hr;
}

/* No write starts after this; one under way on another thread is waited for, at most as long as
 * Abort waits for a worker (a client's Write may itself call Abort, or block on its caller). */
static void sink_close(struct dos_sink *base)
{
    struct stream_sink *sink = sink_from(base);
    BOOL wait;

    AcquireSRWLockExclusive(&sink->lock);
    sink->closed = TRUE;
    wait = sink->writing && sink->writer != GetCurrentThreadId();
    ReleaseSRWLockExclusive(&sink->lock);
    if (wait) WaitForSingleObject(sink->idle, 1000);
}

static void sink_destroy(struct dos_ref *ref)
{
    struct stream_sink *sink = CONTAINING_RECORD(ref, struct stream_sink, base.ref);
    IStream_Release(sink->stream);
    IUnknown_Release(sink->unknown);
    CloseHandle(sink->idle);
    free(sink);
}

static HRESULT sink_create(IUnknown *unknown, struct dos_ref **out)
{
    struct stream_sink *sink;
    IStream *stream;

    *out = NULL;
    /* DO asks the sink for IStream and writes through its ISequentialStream part (spec 5.7). */
    if (FAILED(IUnknown_QueryInterface(unknown, &IID_IStream, (void **)&stream))) return E_INVALIDARG;
    if (!(sink = calloc(1, sizeof(*sink))) || !(sink->idle = CreateEventW(NULL, TRUE, TRUE, NULL)))
    {
        free(sink);
        IStream_Release(stream);
        return E_OUTOFMEMORY;
    }
    atomic_init(&sink->base.ref.refs, 1);
    sink->base.ref.destroy = sink_destroy;
    sink->base.write = sink_write;
    sink->base.close = sink_close;
    InitializeSRWLock(&sink->lock);
    sink->stream = stream;
    sink->unknown = unknown;
    IUnknown_AddRef(unknown);
    *out = &sink->base.ref;
    return S_OK;
}

/* ---- blocking mode: Start waits for the download to end ------------------------------- */

struct waiter
{
    struct waiter *next;
    struct dos_job *job;
    HANDLE event;
};

static SRWLOCK waiters_lock = SRWLOCK_INIT;
static struct waiter *waiters;

/* The store's events wake whoever waits on that download. */
void download_on_event(const struct dos_event *event)
{
    struct waiter *w;

    if (!dos_job_is_download(event->job)) return;
    AcquireSRWLockShared(&waiters_lock);
    for (w = waiters; w; w = w->next)
        if (w->job == event->job) SetEvent(w->event);
    ReleaseSRWLockShared(&waiters_lock);
}

/* Whether the download still moves: transferring, or paused by a transient error it retries. */
static BOOL still_moving(const struct dos_download_status *status)
{
    return status->state == DOS_DL_TRANSFERRING
        || (status->state == DOS_DL_PAUSED && !status->error && status->extended_error);
}

static void wait_until_done(struct dos_job *job)
{
    struct waiter w = { .job = job };
    struct waiter **link;
    struct dos_download_status status;

    if (!(w.event = CreateEventW(NULL, FALSE, FALSE, NULL))) return;
    AcquireSRWLockExclusive(&waiters_lock);
    w.next = waiters;
    waiters = &w;
    ReleaseSRWLockExclusive(&waiters_lock);
    /* Registered before the first look: no change can slip between the look and the wait. */
    for (;;)
    {
        dos_download_get_status(job, &status);
        if (!still_moving(&status)) break;
        WaitForSingleObject(w.event, INFINITE);
    }
    AcquireSRWLockExclusive(&waiters_lock);
    for (link = &waiters; *link != &w; link = &(*link)->next) {}
    *link = w.next;
    ReleaseSRWLockExclusive(&waiters_lock);
    CloseHandle(w.event);
}

/* ---- local paths ---------------------------------------------------------------------- */

/* A name the path rules refuse is, as DoSvc answers it, no valid name (clients.md 1.4). */
static HRESULT local_path_error(const struct error_map *errors, dos_status s)
{
    return s == DOS_E_INVALID_ARG ? HRESULT_FROM_WIN32(ERROR_INVALID_NAME) : hr_from(errors, s);
}

HRESULT download_local_path(const struct error_map *errors, const WCHAR *name, WCHAR **out)
{
    WCHAR full[DOS_MAX_LOCAL_NAME + 2];
    DWORD len, attrs;
    dos_status s;

    *out = NULL;
    if ((s = dos_check_local_name(dchars(name))) != DOS_OK) return local_path_error(errors, s);
    len = GetFullPathNameW(name, ARRAY_SIZE(full), full, NULL);
    if (!len || len >= ARRAY_SIZE(full)) return hr_from(errors, DOS_E_STRING_TOO_LONG);
    if ((s = dos_check_local_name(dchars(full))) != DOS_OK) return local_path_error(errors, s);
    /* A name that is an existing folder can never become the file. */
    attrs = GetFileAttributesW(full);
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY)) return E_INVALIDARG;
    if (!(*out = (WCHAR *)wstr_dup(dchars(full)))) return E_OUTOFMEMORY;
    return S_OK;
}

/* Creates the folders of path that do not exist yet, on the caller's thread and token
 * (spec 4.2, LocalPath). */
/* Removes the folders of path's folder up to and with made (the outermost one dosvc made), each
 * only if it is empty: what a client put there stays. */
static void remove_made_folders(const WCHAR *path, const WCHAR *made)
{
    WCHAR folder[DOS_MAX_LOCAL_NAME + 2], *p;
    size_t made_len = made ? wcslen(made) : 0;

    if (!made_len || _wcsnicmp(path, made, made_len) || path[made_len] != '\\') return;
    lstrcpynW(folder, path, ARRAY_SIZE(folder));
    while ((p = wcsrchr(folder, '\\')) && (size_t)(p - folder) >= made_len)
    {
        *p = 0;
        if (!RemoveDirectoryW(folder)) break;
    }
}

static HRESULT create_folders(const WCHAR *path, WCHAR *made, size_t made_size)
{
    WCHAR folder[DOS_MAX_LOCAL_NAME + 2], *p;
    DWORD attrs;

    *made = 0;
    lstrcpynW(folder, path, ARRAY_SIZE(folder));
    if (!(p = wcsrchr(folder, '\\'))) return S_OK;
    *p = 0;
    attrs = GetFileAttributesW(folder);
    if (attrs != INVALID_FILE_ATTRIBUTES) return (attrs & FILE_ATTRIBUTE_DIRECTORY) ? S_OK : HRESULT_FROM_WIN32(ERROR_DIRECTORY);
    /* Each level after the root, in turn: "C:\a", "C:\a\b"... ("\\server\share\a"... for UNC). */
    for (p = folder + (folder[0] == '\\' && folder[1] == '\\' ? 2 : 3);; p++)
    {
        BOOL last = !*p;
        if (*p != '\\' && !last) continue;
        *p = 0;
        if (CreateDirectoryW(folder, NULL))
        {
            if (!*made) lstrcpynW(made, folder, (int)made_size);
        }
        else if (GetLastError() != ERROR_ALREADY_EXISTS
                 && (last || GetLastError() != ERROR_ACCESS_DENIED))   /* a share's root cannot be made but exists */
        {
            HRESULT hr = HRESULT_FROM_WIN32(GetLastError());
            remove_made_folders(path, made);
            return hr;
        }
        if (last) return S_OK;
        *p = '\\';
    }
}

/* ---- IUnknown ------------------------------------------------------------------------------ */

static HRESULT WINAPI download_QueryInterface(IDODownload *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    struct download_view *view = impl_from_IDODownload(iface);

    if (!out) return com_traced(E_POINTER);
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDODownload))
        *out = &view->IDODownload_iface;
    else if (IsEqualIID(riid, &IID_IClientSecurity))
        *out = &view->security.IClientSecurity_iface;
    else if (marshal_query((IUnknown *)&view->IDODownload_iface, riid, out))
        return com_traced(S_OK);
    else
    {
        *out = NULL;
        return com_traced(E_NOINTERFACE);
    }
    IUnknown_AddRef((IUnknown *)*out);
    return com_traced(S_OK);
}

static ULONG WINAPI download_AddRef(IDODownload *iface)
{
    return InterlockedIncrement(&impl_from_IDODownload(iface)->refs);
}

static ULONG WINAPI download_Release(IDODownload *iface)
{
    struct download_view *view = impl_from_IDODownload(iface);
    ULONG refs = InterlockedDecrement(&view->refs);
    if (!refs)
    {
        dos_job_release(view->job);
        HeapFree(GetProcessHeap(), 0, view);
        server_object_destroyed();
    }
    return refs;
}

/* ---- the life cycle ------------------------------------------------------------------------- */

/*
 * clients.md 1.4: a download started to the LocalPath of another that is under way (started,
 * not yet Finalized or Aborted) takes the path over, and the other is aborted, its temporary
 * file deleted, as DoSvc does. Two downloads never write one file. Only the caller's own
 * downloads: nobody aborts another user's by naming its path. The store finds them by path.
 */
static void abort_others_at_its_path(struct download_view *view)
{
    struct dos_job **jobs;
    HRESULT rename_error;
    BOOL delete_failed;
    size_t count, i;

    if (dos_download_list_others_at_path(view->job, &jobs, &count) != DOS_OK) return;
    for (i = 0; i < count; i++)
        engine_finish_job(server_engine(), jobs[i], DOS_STATE_CANCELLED, &rename_error, &delete_failed);
    dos_jobs_release(jobs, count);
}

static HRESULT WINAPI download_Start(IDODownload *iface, const DO_DOWNLOAD_RANGES_INFO *ranges)
{
    TRACE_COM("(%p, %p)", iface, ranges);
    struct download_view *view = impl_from_IDODownload(iface);
    const dos_range *list = ranges ? (const dos_range *)ranges->Ranges : NULL;
    uint32_t count = ranges ? ranges->RangeCount : 0;
    WCHAR made[DOS_MAX_LOCAL_NAME + 2];
    struct dos_download_status status;
    struct dos_value local, blocking;
    dos_status s;
    HRESULT hr;

    /* Everything is checked before anything happens: a Start that fails changes nothing. */
    if ((s = dos_download_start(view->job, list, count, TRUE)) != DOS_OK) return com_traced(map(view, s));
    dos_download_get_status(view->job, &status);
    made[0] = 0;
    local.type = DOS_VALUE_NONE;
    if (status.state == DOS_DL_CREATED
        && dos_download_get_property(view->job, DOS_DL_LOCAL_PATH, malloc, &local) == DOS_OK)
    {
        if (FAILED(hr = create_folders((const WCHAR *)local.u.text, made, ARRAY_SIZE(made))))
        {
            dos_download_value_clear(&local, free);
            return com_traced(hr);
        }
    }
    /* The folders made are remembered for Abort, or removed again if the start fails after all. */
    if ((s = dos_download_start(view->job, list, count, FALSE)) != DOS_OK
        || (made[0] && dos_download_set_made_folder(view->job, made) != DOS_OK))
    {
        if (made[0]) remove_made_folders((const WCHAR *)local.u.text, made);
        dos_download_value_clear(&local, free);
        return com_traced(s != DOS_OK ? map(view, s) : E_OUTOFMEMORY);
    }
    /* Started for good: another download at the same path is aborted now, not before. */
    if (local.type == DOS_VALUE_TEXT) abort_others_at_its_path(view);
    dos_download_value_clear(&local, free);
    /* BlockingMode: Start returns once the download has ended, one way or another. */
    if (dos_download_get_property(view->job, DOS_DL_BLOCKING_MODE, malloc, &blocking) == DOS_OK && blocking.u.b)
        wait_until_done(view->job);
    return com_traced(S_OK);
}

static HRESULT WINAPI download_Pause(IDODownload *iface)
{
    TRACE_COM("(%p)", iface);
    struct download_view *view = impl_from_IDODownload(iface);
    return com_traced(map(view, dos_download_pause(view->job)));
}

/*
 * Finalize and Abort go through the engine, which moves the finished file onto LocalPath or
 * deletes the temporary file it made, and nothing else. Asking again for the state the
 * download is already in is no error (DO's agent does the same).
 */
/* After Abort, the folders Start made go too, when nothing else is in them and no other listed
 * download's LocalPath lies in them; after Finalize they hold the file and stay. */
static void release_made_folders(struct dos_job *job, dos_job_state final_state)
{
    WCHAR *made = (WCHAR *)dos_download_take_made_folder(job);
    struct dos_value local;

    if (made && final_state == DOS_STATE_CANCELLED && !dos_download_folder_needed(job, dchars(made))
        && dos_download_get_property(job, DOS_DL_LOCAL_PATH, malloc, &local) == DOS_OK)
    {
        remove_made_folders((const WCHAR *)local.u.text, made);
        dos_download_value_clear(&local, free);
    }
    free(made);
}

static HRESULT finish(struct download_view *view, dos_job_state final_state)
{
    struct dos_download_status status;
    HRESULT rename_error;
    BOOL delete_failed;
    dos_status s;

    dos_download_get_status(view->job, &status);
    if (status.state == (final_state == DOS_STATE_ACKNOWLEDGED ? DOS_DL_FINALIZED : DOS_DL_ABORTED)) return S_OK;
    s = engine_finish_job(server_engine(), view->job, final_state, &rename_error, &delete_failed);
    if (dos_failed(s)) return map(view, s);
    release_made_folders(view->job, final_state);
    if (FAILED(rename_error)) return rename_error;
    return S_OK;
}

static HRESULT WINAPI download_Abort(IDODownload *iface)
{
    TRACE_COM("(%p)", iface);
    return com_traced(finish(impl_from_IDODownload(iface), DOS_STATE_CANCELLED));
}

static HRESULT WINAPI download_Finalize(IDODownload *iface)
{
    TRACE_COM("(%p)", iface);
    return com_traced(finish(impl_from_IDODownload(iface), DOS_STATE_ACKNOWLEDGED));
}

static HRESULT WINAPI download_GetStatus(IDODownload *iface, DO_DOWNLOAD_STATUS *out)
{
    TRACE_COM("(%p, %p)", iface, out);
    struct download_view *view = impl_from_IDODownload(iface);
    struct dos_download_status status;

    if (!out) return com_traced(E_INVALIDARG);
    dos_download_get_status(view->job, &status);
    out->BytesTotal = status.bytes_total;
    out->BytesTransferred = status.bytes_transferred;
    out->State = (DODownloadState)status.state;
    out->Error = status.error;
    out->ExtendedError = status.extended_error;
    return com_traced(S_OK);
}

/* ---- properties ---------------------------------------------------------------------------- */

/* A serialized client certificate (SecurityContext) must parse as one. */
static HRESULT check_certificate(const BYTE *data, DWORD size)
{
    const void *context = NULL;
    DWORD type = 0;

    if (!CertAddSerializedElementToStore(NULL, data, size, CERT_STORE_ADD_ALWAYS, 0, CERT_STORE_CERTIFICATE_CONTEXT_FLAG,
                                         &type, &context))
        return CRYPT_E_FILE_ERROR;     /* what DO answers for bytes that are no certificate (clients.md 1.4) */
    CertFreeCertificateContext(context);
    return S_OK;
}

/* The core's value for a VARIANT of the type property id takes; E_INVALIDARG for another type.
 * A REF value holds a new reference the caller hands on or releases. */
static HRESULT value_from_variant(DODownloadProperty id, enum dos_value_type type, const VARIANT *var,
                                  struct dos_value *value, SAFEARRAY **locked)
{
    static WCHAR empty[1];
    HRESULT hr;

    memset(value, 0, sizeof(*value));
    value->type = type;
    *locked = NULL;
    switch (type)
    {
    case DOS_VALUE_TEXT:
        if (V_VT(var) != VT_BSTR) return E_INVALIDARG;
        value->u.text = (dos_char *)(V_BSTR(var) ? V_BSTR(var) : empty);   /* a NULL BSTR is "" */
        return S_OK;
    case DOS_VALUE_U32:
        if (V_VT(var) != VT_UI4) return E_INVALIDARG;
        value->u.u32 = V_UI4(var);
        return S_OK;
    case DOS_VALUE_U64:
        if (V_VT(var) != VT_UI8) return E_INVALIDARG;
        value->u.u64 = V_UI8(var);
        return S_OK;
    case DOS_VALUE_BOOL:
        if (V_VT(var) != VT_BOOL || (V_BOOL(var) != VARIANT_TRUE && V_BOOL(var) != VARIANT_FALSE)) return E_INVALIDARG;
        value->u.b = V_BOOL(var) == VARIANT_TRUE;
        return S_OK;
    case DOS_VALUE_BYTES:
    {
        SAFEARRAY *array = V_ARRAY(var);
        void *data;
        if (V_VT(var) != (VT_ARRAY | VT_UI1) || !array || SafeArrayGetDim(array) != 1 || !array->rgsabound[0].cElements)
            return E_INVALIDARG;
        if (FAILED(hr = SafeArrayAccessData(array, &data))) return hr;
        *locked = array;
        value->u.bytes.data = data;
        value->u.bytes.size = array->rgsabound[0].cElements;
        return id == DODownloadProperty_SecurityContext ? check_certificate(data, value->u.bytes.size) : S_OK;
    }
    case DOS_VALUE_REF:
    {
        IUnknown *unknown, *probe;
        if (V_VT(var) != VT_UNKNOWN || !(unknown = V_UNKNOWN(var))) return E_INVALIDARG;
        if (id == DODownloadProperty_StreamInterface) return sink_create(unknown, &value->u.ref);
        /* Only an IDODownloadStatusCallback can ever be called back. */
        if (FAILED(IUnknown_QueryInterface(unknown, &IID_IDODownloadStatusCallback, (void **)&probe))) return E_INVALIDARG;
        IUnknown_Release(probe);
        return notify_ref_create(unknown, &value->u.ref);
    }
    default:
        return E_INVALIDARG;
    }
}

static HRESULT WINAPI download_SetProperty(IDODownload *iface, DODownloadProperty id, const VARIANT *var)
{
    TRACE_COM("(%p, %lu, %s)", iface, (unsigned long)id, com_trace_variant(var));
    struct download_view *view = impl_from_IDODownload(iface);
    struct dos_value value;
    enum dos_value_type type;
    struct dos_ref *old = NULL;
    SAFEARRAY *locked;
    WCHAR *path = NULL;
    dos_status s;
    HRESULT hr;

    if ((s = dos_download_property_type(id, TRUE, &type)) != DOS_OK) return com_traced(map(view, s));
    if (!var) return com_traced(E_INVALIDARG);
    hr = value_from_variant(id, type, var, &value, &locked);
    /* A local path is kept absolute; its folders are made when the download starts. */
    if (SUCCEEDED(hr) && id == DODownloadProperty_LocalPath
        && SUCCEEDED(hr = download_local_path(view->errors, (const WCHAR *)value.u.text, &path)))
        value.u.text = (dos_char *)path;
    if (SUCCEEDED(hr))
    {
        hr = map(view, dos_download_set_property(view->job, id, &value, &old));
        value.u.ref = NULL;    /* taken over, or handed back in old */
    }
    else if (type == DOS_VALUE_REF) dos_ref_release(value.u.ref);
    if (locked) SafeArrayUnaccessData(locked);
    dos_ref_release(old);      /* a replaced callback or stream, or the refused one */
    free(path);
    return com_traced(hr);
}

static HRESULT WINAPI download_GetProperty(IDODownload *iface, DODownloadProperty id, VARIANT *var)
{
    TRACE_COM("(%p, %lu, %p)", iface, (unsigned long)id, var);
    struct download_view *view = impl_from_IDODownload(iface);
    struct dos_value value;
    enum dos_value_type type;
    dos_status s;

    if ((s = dos_download_property_type(id, FALSE, &type)) != DOS_OK) return com_traced(map(view, s));
    if (!var) return com_traced(E_INVALIDARG);
    VariantInit(var);
    if ((s = dos_download_get_property(view->job, id, malloc, &value)) != DOS_OK) return com_traced(map(view, s));
    switch (value.type)
    {
    case DOS_VALUE_TEXT:
        V_BSTR(var) = SysAllocString((const WCHAR *)value.u.text);
        dos_download_value_clear(&value, free);
        if (!V_BSTR(var)) return com_traced(E_OUTOFMEMORY);
        V_VT(var) = VT_BSTR;
        break;
    case DOS_VALUE_U32:
        V_VT(var) = VT_UI4;
        V_UI4(var) = value.u.u32;
        break;
    case DOS_VALUE_U64:
        V_VT(var) = VT_UI8;
        V_UI8(var) = value.u.u64;
        break;
    case DOS_VALUE_BOOL:
        V_VT(var) = VT_BOOL;
        V_BOOL(var) = value.u.b ? VARIANT_TRUE : VARIANT_FALSE;
        break;
    case DOS_VALUE_REF:
        /* What the client gave: its callback, or its stream as it was given. */
        V_UNKNOWN(var) = id == DODownloadProperty_CallbackInterface
                             ? notify_ref_callback(value.u.ref)
                             : sink_from((struct dos_sink *)value.u.ref)->unknown;
        IUnknown_AddRef(V_UNKNOWN(var));
        V_VT(var) = VT_UNKNOWN;
        dos_download_value_clear(&value, free);
        break;
    default:
        dos_download_value_clear(&value, free);
        return com_traced(E_UNEXPECTED);
    }
    return com_traced(S_OK);
}

static const IDODownloadVtbl download_vtbl =
{
    download_QueryInterface,
    download_AddRef,
    download_Release,
    download_Start,
    download_Pause,
    download_Abort,
    download_Finalize,
    download_GetStatus,
    download_GetProperty,
    download_SetProperty,
};

HRESULT download_view_create(struct dos_job *job, const struct error_map *errors, REFIID riid, void **out)
{
    struct download_view *view;
    HRESULT hr;

    *out = NULL;
    if (!(view = HeapAlloc(GetProcessHeap(), 0, sizeof(*view)))) return E_OUTOFMEMORY;
    view->IDODownload_iface.lpVtbl = &download_vtbl;
    client_security_init(&view->security, (IUnknown *)&view->IDODownload_iface);
    view->refs = 1;
    view->job = job;
    view->errors = errors;
    dos_job_retain(job);
    server_object_created();
    hr = download_QueryInterface(&view->IDODownload_iface, riid, out);
    download_Release(&view->IDODownload_iface);
    return hr;
}
