/*
 * The job view: IBackgroundCopyJob to IBackgroundCopyJob5 in the classic
 * vtable order, IDeliveryOptimizationJob and IDeliveryOptimizationJob2. Each
 * method checks its arguments, calls the store and maps the result; the view
 * keeps no state of its own beyond its reference to the job record.
 */
#include "com_private.h"

#include <stdlib.h>
#include <wincrypt.h>

#include "engine.h"
#include "names.h"
#include "wstr.h"

struct job_view
{
    IBackgroundCopyJob5 IBackgroundCopyJob5_iface;
    IDeliveryOptimizationJob IDeliveryOptimizationJob_iface;
    IDeliveryOptimizationJob2 IDeliveryOptimizationJob2_iface;
    IBackgroundCopyJobHttpOptions IBackgroundCopyJobHttpOptions_iface;
    LONG refs;
    struct dos_job *job;
    const struct error_map *errors;
};

static inline struct job_view *impl_from_IBackgroundCopyJob5(IBackgroundCopyJob5 *iface)
{
    return CONTAINING_RECORD(iface, struct job_view, IBackgroundCopyJob5_iface);
}

static inline struct job_view *impl_from_IDeliveryOptimizationJob(IDeliveryOptimizationJob *iface)
{
    return CONTAINING_RECORD(iface, struct job_view, IDeliveryOptimizationJob_iface);
}

static inline struct job_view *impl_from_IDeliveryOptimizationJob2(IDeliveryOptimizationJob2 *iface)
{
    return CONTAINING_RECORD(iface, struct job_view, IDeliveryOptimizationJob2_iface);
}

static inline struct job_view *impl_from_IBackgroundCopyJobHttpOptions(IBackgroundCopyJobHttpOptions *iface)
{
    return CONTAINING_RECORD(iface, struct job_view, IBackgroundCopyJobHttpOptions_iface);
}

static HRESULT map(struct job_view *view, dos_status s)
{
    return hr_from(view->errors, s);
}

/* ---- IUnknown ------------------------------------------------------------ */

static HRESULT WINAPI job_QueryInterface(IBackgroundCopyJob5 *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);

    if (!out) return com_traced(E_POINTER);
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyJob)
        || IsEqualIID(riid, &IID_IBackgroundCopyJob2) || IsEqualIID(riid, &IID_IBackgroundCopyJob3)
        || IsEqualIID(riid, &IID_IBackgroundCopyJob4) || IsEqualIID(riid, &IID_IBackgroundCopyJob5))
        *out = &view->IBackgroundCopyJob5_iface;
    else if (IsEqualIID(riid, &IID_IDeliveryOptimizationJob))
        *out = &view->IDeliveryOptimizationJob_iface;
    else if (IsEqualIID(riid, &IID_IDeliveryOptimizationJob2))
        *out = &view->IDeliveryOptimizationJob2_iface;
    else if (IsEqualIID(riid, &IID_IBackgroundCopyJobHttpOptions))
        *out = &view->IBackgroundCopyJobHttpOptions_iface;
    else if (marshal_query((IUnknown *)&view->IBackgroundCopyJob5_iface, riid, out))
        return com_traced(S_OK);
    else
    {
        *out = NULL;
        return com_traced(E_NOINTERFACE);
    }
    IUnknown_AddRef((IUnknown *)*out);
    return com_traced(S_OK);
}

static ULONG WINAPI job_AddRef(IBackgroundCopyJob5 *iface)
{
    return InterlockedIncrement(&impl_from_IBackgroundCopyJob5(iface)->refs);
}

static ULONG WINAPI job_Release(IBackgroundCopyJob5 *iface)
{
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    ULONG refs = InterlockedDecrement(&view->refs);
    if (!refs)
    {
        dos_job_release(view->job);
        HeapFree(GetProcessHeap(), 0, view);
        server_object_destroyed();
    }
    return refs;
}

/* ---- adding files ---------------------------------------------------------- */

/* Adds count files whose local names are canonicalised first; all or none. */
static HRESULT add_files(struct job_view *view, struct dos_file_spec *specs, size_t count, struct dos_file **first)
{
    WCHAR **locals;
    HRESULT hr = S_OK;
    size_t i;

    if (!(locals = calloc(count, sizeof(*locals)))) return E_OUTOFMEMORY;
    for (i = 0; i < count && SUCCEEDED(hr); i++)
    {
        /* A bad remote name is reported before anything about the local folder. */
        if (FAILED(hr = map(view, dos_check_remote_name(specs[i].remote_name, NULL)))) break;
        if (!specs[i].local_name && specs[i].local_optional) continue;
        if (SUCCEEDED(hr = canonical_local_name(view->errors, (const WCHAR *)specs[i].local_name, &locals[i])))
            specs[i].local_name = dchars(locals[i]);
    }
    if (SUCCEEDED(hr)) hr = map(view, dos_job_add_files(view->job, specs, count, first));
    for (i = 0; i < count; i++) free(locals[i]);
    free(locals);
    return hr;
}

static HRESULT WINAPI job_AddFileSet(IBackgroundCopyJob5 *iface, ULONG count, BG_FILE_INFO *set)
{
    TRACE_COM("(%p, %lu, %p)", iface, (unsigned long)count, set);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    struct dos_file_spec *specs;
    HRESULT hr;
    ULONG i;

    if (!count || !set) return com_traced(E_INVALIDARG);
    if (count > DOS_MAX_FILES_PER_JOB) return com_traced(map(view, DOS_E_TOO_MANY_FILES));
    if (!(specs = calloc(count, sizeof(*specs)))) return com_traced(E_OUTOFMEMORY);
    for (i = 0; i < count; i++)
    {
        specs[i].remote_name = dchars(set[i].RemoteName);
        specs[i].local_name = dchars(set[i].LocalName);
        specs[i].file_size = DOS_SIZE_UNKNOWN;
    }
    hr = add_files(view, specs, count, NULL);
    free(specs);
    return com_traced(hr);
}

static HRESULT WINAPI job_AddFile(IBackgroundCopyJob5 *iface, LPCWSTR remote, LPCWSTR local)
{
    TRACE_COM("(%p, %s, %s)", iface, dos_trace_wstr((const dos_char *)remote), dos_trace_wstr((const dos_char *)local));
    struct dos_file_spec spec = { .remote_name = dchars(remote), .local_name = dchars(local),
                                  .file_size = DOS_SIZE_UNKNOWN };
    return com_traced(add_files(impl_from_IBackgroundCopyJob5(iface), &spec, 1, NULL));
}

static HRESULT WINAPI job_EnumFiles(IBackgroundCopyJob5 *iface, IEnumBackgroundCopyFiles **out)
{
    TRACE_COM("(%p, %p)", iface, out);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    if (!out) return com_traced(E_INVALIDARG);
    return com_traced(file_enum_create(view->job, view->errors, out));
}

/* ---- life cycle ------------------------------------------------------------ */

static HRESULT WINAPI job_Suspend(IBackgroundCopyJob5 *iface)
{
    TRACE_COM("(%p)", iface);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    return com_traced(map(view, dos_job_suspend(view->job)));
}

static HRESULT WINAPI job_Resume(IBackgroundCopyJob5 *iface)
{
    TRACE_COM("(%p)", iface);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    return com_traced(map(view, dos_job_resume(view->job)));
}

/*
 * Cancel and Complete stop the transfer and deal with the files (spec 5.2, 5.3):
 * a failed move onto a final name is Complete's error; a temporary file that
 * could not be deleted gives classic BITS' BG_S_UNABLE_TO_DELETE_FILES.
 */
static HRESULT finish_job(struct job_view *view, dos_job_state final_state)
{
    BOOL delete_failed;
    HRESULT rename_error;
    dos_status s = engine_finish_job(server_engine(), view->job, final_state, &rename_error, &delete_failed);

    if (dos_failed(s)) return map(view, s);
    if (FAILED(rename_error)) return rename_error;
    if (s == DOS_OK && delete_failed) return BG_S_UNABLE_TO_DELETE_FILES;
    return map(view, s);
}

static HRESULT WINAPI job_Cancel(IBackgroundCopyJob5 *iface)
{
    TRACE_COM("(%p)", iface);
    return com_traced(finish_job(impl_from_IBackgroundCopyJob5(iface), DOS_STATE_CANCELLED));
}

static HRESULT WINAPI job_Complete(IBackgroundCopyJob5 *iface)
{
    TRACE_COM("(%p)", iface);
    return com_traced(finish_job(impl_from_IBackgroundCopyJob5(iface), DOS_STATE_ACKNOWLEDGED));
}

/* ---- read-outs --------------------------------------------------------------- */

static void job_info(struct job_view *view, struct dos_job_info *info)
{
    dos_job_get_info(view->job, info);
}

static HRESULT WINAPI job_GetId(IBackgroundCopyJob5 *iface, GUID *id)
{
    TRACE_COM("(%p, %p)", iface, id);
    struct dos_job_info info;
    if (!id) return com_traced(E_INVALIDARG);
    job_info(impl_from_IBackgroundCopyJob5(iface), &info);
    memcpy(id, &info.id, sizeof(*id));
    return com_traced(S_OK);
}

static HRESULT WINAPI job_GetType(IBackgroundCopyJob5 *iface, BG_JOB_TYPE *type)
{
    TRACE_COM("(%p, %p)", iface, type);
    struct dos_job_info info;
    if (!type) return com_traced(E_INVALIDARG);
    job_info(impl_from_IBackgroundCopyJob5(iface), &info);
    *type = (BG_JOB_TYPE)info.type;
    return com_traced(S_OK);
}

static HRESULT WINAPI job_GetProgress(IBackgroundCopyJob5 *iface, BG_JOB_PROGRESS *progress)
{
    TRACE_COM("(%p, %p)", iface, progress);
    struct dos_job_info info;
    if (!progress) return com_traced(E_INVALIDARG);
    job_info(impl_from_IBackgroundCopyJob5(iface), &info);
    progress->BytesTotal = info.bytes_total;
    progress->BytesTransferred = info.bytes_transferred;
    progress->FilesTotal = info.files_total;
    progress->FilesTransferred = info.files_transferred;
    return com_traced(S_OK);
}

static FILETIME filetime(uint64_t t)
{
    FILETIME ft = { (DWORD)t, (DWORD)(t >> 32) };
    return ft;
}

static HRESULT WINAPI job_GetTimes(IBackgroundCopyJob5 *iface, BG_JOB_TIMES *times)
{
    TRACE_COM("(%p, %p)", iface, times);
    struct dos_job_info info;
    if (!times) return com_traced(E_INVALIDARG);
    job_info(impl_from_IBackgroundCopyJob5(iface), &info);
    times->CreationTime = filetime(info.creation_time);
    times->ModificationTime = filetime(info.modification_time);
    times->TransferCompletionTime = filetime(info.transfer_completion_time);
    return com_traced(S_OK);
}

static HRESULT WINAPI job_GetState(IBackgroundCopyJob5 *iface, BG_JOB_STATE *state)
{
    TRACE_COM("(%p, %p)", iface, state);
    struct dos_job_info info;
    if (!state) return com_traced(E_INVALIDARG);
    job_info(impl_from_IBackgroundCopyJob5(iface), &info);
    *state = (BG_JOB_STATE)info.state;
    return com_traced(S_OK);
}

static HRESULT WINAPI job_GetError(IBackgroundCopyJob5 *iface, IBackgroundCopyError **out)
{
    TRACE_COM("(%p, %p)", iface, out);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    struct dos_error_record record;
    dos_status s;

    if (!out) return com_traced(E_INVALIDARG);
    *out = NULL;
    if ((s = dos_job_get_error(view->job, &record)) != DOS_OK) return com_traced(map(view, s));
    return com_traced(error_view_create(view->job, &record, view->errors, out));
}

/* Copies a job text out; an absent text reads as "" or, with null_if_absent, as NULL. */
static HRESULT get_text(struct job_view *view, enum dos_job_text which, LPWSTR *out, BOOL null_if_absent)
{
    dos_status s;

    if (!out) return E_INVALIDARG;
    s = dos_job_copy_text(view->job, which, cotaskmem_alloc, (dos_char **)out);
    if (s == DOS_E_NOT_SET)
        s = null_if_absent ? DOS_OK : wstr_dup_with(cotaskmem_alloc, NULL, (dos_char **)out);
    return map(view, s);
}

static HRESULT WINAPI job_GetOwner(IBackgroundCopyJob5 *iface, LPWSTR *owner)
{
    TRACE_COM("(%p, %p)", iface, owner);
    return com_traced(get_text(impl_from_IBackgroundCopyJob5(iface), DOS_JOB_OWNER, owner, FALSE));
}

static HRESULT WINAPI job_SetDisplayName(IBackgroundCopyJob5 *iface, LPCWSTR name)
{
    TRACE_COM("(%p, %s)", iface, dos_trace_wstr((const dos_char *)name));
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    return com_traced(map(view, dos_job_set_display_name(view->job, dchars(name))));
}

static HRESULT WINAPI job_GetDisplayName(IBackgroundCopyJob5 *iface, LPWSTR *name)
{
    TRACE_COM("(%p, %p)", iface, name);
    return com_traced(get_text(impl_from_IBackgroundCopyJob5(iface), DOS_JOB_DISPLAY_NAME, name, FALSE));
}

static HRESULT WINAPI job_SetDescription(IBackgroundCopyJob5 *iface, LPCWSTR description)
{
    TRACE_COM("(%p, %s)", iface, dos_trace_wstr((const dos_char *)description));
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    return com_traced(map(view, dos_job_set_description(view->job, dchars(description))));
}

static HRESULT WINAPI job_GetDescription(IBackgroundCopyJob5 *iface, LPWSTR *description)
{
    TRACE_COM("(%p, %p)", iface, description);
    return com_traced(get_text(impl_from_IBackgroundCopyJob5(iface), DOS_JOB_DESCRIPTION, description, FALSE));
}

/* The numeric settings share one shape: set through the store, read from a snapshot. */
static HRESULT set_u32(IBackgroundCopyJob5 *iface, enum dos_job_u32 which, DWORD value)
{
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    return map(view, dos_job_set_u32(view->job, which, value));
}

static HRESULT get_u32(IBackgroundCopyJob5 *iface, enum dos_job_u32 which, void *value)
{
    struct dos_job_info info;
    if (!value) return E_INVALIDARG;
    job_info(impl_from_IBackgroundCopyJob5(iface), &info);
    *(DWORD *)value = info.u32[which];
    return S_OK;
}

static HRESULT WINAPI job_SetPriority(IBackgroundCopyJob5 *iface, BG_JOB_PRIORITY priority)
{
    TRACE_COM("(%p, %lu)", iface, (unsigned long)priority);
    return com_traced(set_u32(iface, DOS_JOB_PRIORITY, (DWORD)priority));
}

static HRESULT WINAPI job_GetPriority(IBackgroundCopyJob5 *iface, BG_JOB_PRIORITY *priority)
{
    TRACE_COM("(%p, %p)", iface, priority);
    return com_traced(get_u32(iface, DOS_JOB_PRIORITY, priority));
}

static HRESULT WINAPI job_SetNotifyFlags(IBackgroundCopyJob5 *iface, ULONG flags)
{
    TRACE_COM("(%p, %lu)", iface, (unsigned long)flags);
    return com_traced(set_u32(iface, DOS_JOB_NOTIFY_FLAGS, flags));
}

static HRESULT WINAPI job_GetNotifyFlags(IBackgroundCopyJob5 *iface, ULONG *flags)
{
    TRACE_COM("(%p, %p)", iface, flags);
    return com_traced(get_u32(iface, DOS_JOB_NOTIFY_FLAGS, flags));
}

static HRESULT WINAPI job_SetNotifyInterface(IBackgroundCopyJob5 *iface, IUnknown *callback)
{
    TRACE_COM("(%p, %p)", iface, callback);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    struct dos_ref *notify = NULL, *old;
    IUnknown *probe;
    dos_status s;
    HRESULT hr;

    if (callback)
    {
        /* Only an IBackgroundCopyCallback can ever be called back. */
        if (FAILED(hr = IUnknown_QueryInterface(callback, &IID_IBackgroundCopyCallback, (void **)&probe))) return com_traced(hr);
        IUnknown_Release(probe);
        if (FAILED(hr = notify_ref_create(callback, &notify))) return com_traced(hr);
    }
    s = dos_job_swap_notify(view->job, notify, &old);
    dos_ref_release(old);
    return com_traced(map(view, s));
}

static HRESULT WINAPI job_GetNotifyInterface(IBackgroundCopyJob5 *iface, IUnknown **callback)
{
    TRACE_COM("(%p, %p)", iface, callback);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    struct dos_ref *ref;

    if (!callback) return com_traced(E_INVALIDARG);
    *callback = NULL;
    if ((ref = dos_job_get_notify(view->job)))
    {
        *callback = notify_ref_callback(ref);
        IUnknown_AddRef(*callback);
        dos_ref_release(ref);
    }
    return com_traced(S_OK);
}

static HRESULT WINAPI job_SetMinimumRetryDelay(IBackgroundCopyJob5 *iface, ULONG seconds)
{
    TRACE_COM("(%p, %lu)", iface, (unsigned long)seconds);
    return com_traced(set_u32(iface, DOS_JOB_RETRY_DELAY, seconds));
}

static HRESULT WINAPI job_GetMinimumRetryDelay(IBackgroundCopyJob5 *iface, ULONG *seconds)
{
    TRACE_COM("(%p, %p)", iface, seconds);
    return com_traced(get_u32(iface, DOS_JOB_RETRY_DELAY, seconds));
}

static HRESULT WINAPI job_SetNoProgressTimeout(IBackgroundCopyJob5 *iface, ULONG seconds)
{
    TRACE_COM("(%p, %lu)", iface, (unsigned long)seconds);
    return com_traced(set_u32(iface, DOS_JOB_NO_PROGRESS_TIMEOUT, seconds));
}

static HRESULT WINAPI job_GetNoProgressTimeout(IBackgroundCopyJob5 *iface, ULONG *seconds)
{
    TRACE_COM("(%p, %p)", iface, seconds);
    return com_traced(get_u32(iface, DOS_JOB_NO_PROGRESS_TIMEOUT, seconds));
}

static HRESULT WINAPI job_GetErrorCount(IBackgroundCopyJob5 *iface, ULONG *errors)
{
    TRACE_COM("(%p, %p)", iface, errors);
    struct dos_job_info info;
    if (!errors) return com_traced(E_INVALIDARG);
    job_info(impl_from_IBackgroundCopyJob5(iface), &info);
    *errors = info.error_count;
    return com_traced(S_OK);
}

static HRESULT WINAPI job_SetProxySettings(IBackgroundCopyJob5 *iface, BG_JOB_PROXY_USAGE usage,
                                           const WCHAR *list, const WCHAR *bypass)
{
    TRACE_COM("(%p, %lu, %s, %s)", iface, (unsigned long)usage, dos_trace_wstr((const dos_char *)list), dos_trace_wstr((const dos_char *)bypass));
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    return com_traced(map(view, dos_job_set_proxy(view->job, (dos_proxy_usage)usage, dchars(list), dchars(bypass))));
}

static HRESULT WINAPI job_GetProxySettings(IBackgroundCopyJob5 *iface, BG_JOB_PROXY_USAGE *usage,
                                           LPWSTR *list, LPWSTR *bypass)
{
    TRACE_COM("(%p, %p, %p, %p)", iface, usage, list, bypass);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    struct dos_job_info info;
    HRESULT hr;

    if (!usage || !list || !bypass) return com_traced(E_INVALIDARG);
    *list = *bypass = NULL;
    job_info(view, &info);
    if (FAILED(hr = get_text(view, DOS_JOB_PROXY_LIST, list, TRUE))) return com_traced(hr);
    if (FAILED(hr = get_text(view, DOS_JOB_PROXY_BYPASS, bypass, TRUE)))
    {
        CoTaskMemFree(*list);
        *list = NULL;
        return com_traced(hr);
    }
    *usage = (BG_JOB_PROXY_USAGE)info.proxy_usage;
    return com_traced(S_OK);
}

static HRESULT WINAPI job_TakeOwnership(IBackgroundCopyJob5 *iface)
{
    TRACE_COM("(%p)", iface);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    WCHAR *owner;
    HRESULT hr;

    if (FAILED(hr = current_user_sid(&owner))) return com_traced(hr);
    hr = map(view, dos_job_set_owner(view->job, dchars(owner)));
    free(owner);
    return com_traced(hr);
}

/* ---- IBackgroundCopyJob2 ----------------------------------------------------- */

static HRESULT WINAPI job_SetNotifyCmdLine(IBackgroundCopyJob5 *iface, LPCWSTR program, LPCWSTR params)
{
    TRACE_COM("(%p, %s, %s)", iface, dos_trace_wstr((const dos_char *)program), dos_trace_wstr((const dos_char *)params));
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    return com_traced(map(view, dos_job_set_notify_cmdline(view->job, dchars(program), dchars(params))));
}

static HRESULT WINAPI job_GetNotifyCmdLine(IBackgroundCopyJob5 *iface, LPWSTR *program, LPWSTR *params)
{
    TRACE_COM("(%p, %p, %p)", iface, program, params);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    HRESULT hr;

    if (!program || !params) return com_traced(E_INVALIDARG);
    *program = *params = NULL;
    if (FAILED(hr = get_text(view, DOS_JOB_NOTIFY_PROGRAM, program, TRUE))) return com_traced(hr);
    if (FAILED(hr = get_text(view, DOS_JOB_NOTIFY_PARAMS, params, TRUE)))
    {
        CoTaskMemFree(*program);
        *program = NULL;
    }
    return com_traced(hr);
}

/* Reply data belongs to upload-reply jobs; for download jobs the classic contract is
 * E_NOTIMPL ("not implemented for jobs of type BG_JOB_TYPE_DOWNLOAD"), and DO has
 * only download jobs. */
static HRESULT WINAPI job_GetReplyProgress(IBackgroundCopyJob5 *iface, BG_JOB_REPLY_PROGRESS *progress)
{
    TRACE_COM("(%p, %p)", iface, progress);
    (void)iface;
    if (!progress) return com_traced(E_INVALIDARG);
    return com_traced(E_NOTIMPL);
}

static HRESULT WINAPI job_GetReplyData(IBackgroundCopyJob5 *iface, byte **buffer, UINT64 *length)
{
    TRACE_COM("(%p, %p, %p)", iface, buffer, length);
    (void)iface;
    if (!buffer || !length) return com_traced(E_INVALIDARG);
    *buffer = NULL;
    *length = 0;
    return com_traced(E_NOTIMPL);
}

static HRESULT WINAPI job_SetReplyFileName(IBackgroundCopyJob5 *iface, LPCWSTR name)
{
    TRACE_COM("(%p, %s)", iface, dos_trace_wstr((const dos_char *)name));
    (void)iface; (void)name;
    return com_traced(E_NOTIMPL);
}

static HRESULT WINAPI job_GetReplyFileName(IBackgroundCopyJob5 *iface, LPWSTR *name)
{
    TRACE_COM("(%p, %p)", iface, name);
    (void)iface;
    if (!name) return com_traced(E_INVALIDARG);
    *name = NULL;
    return com_traced(E_NOTIMPL);
}

static HRESULT WINAPI job_SetCredentials(IBackgroundCopyJob5 *iface, BG_AUTH_CREDENTIALS *credentials)
{
    TRACE_COM("(%p, %p)", iface, credentials);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    if (!credentials) return com_traced(E_INVALIDARG);
    return com_traced(map(view, dos_job_set_credentials(view->job, credentials->Target, credentials->Scheme,
                                             dchars(credentials->Credentials.Basic.UserName),
                                             dchars(credentials->Credentials.Basic.Password))));
}

static HRESULT WINAPI job_RemoveCredentials(IBackgroundCopyJob5 *iface, BG_AUTH_TARGET target, BG_AUTH_SCHEME scheme)
{
    TRACE_COM("(%p, %lu, %lu)", iface, (unsigned long)target, (unsigned long)scheme);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    return com_traced(map(view, dos_job_remove_credentials(view->job, target, scheme)));
}

/* ---- IBackgroundCopyJob3 ----------------------------------------------------- */

static HRESULT WINAPI job_ReplaceRemotePrefix(IBackgroundCopyJob5 *iface, LPCWSTR old_prefix, LPCWSTR new_prefix)
{
    TRACE_COM("(%p, %s, %s)", iface, dos_trace_wstr((const dos_char *)old_prefix), dos_trace_wstr((const dos_char *)new_prefix));
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    return com_traced(map(view, dos_job_replace_remote_prefix(view->job, dchars(old_prefix), dchars(new_prefix))));
}

static HRESULT WINAPI job_AddFileWithRanges(IBackgroundCopyJob5 *iface, LPCWSTR remote, LPCWSTR local,
                                            DWORD count, BG_FILE_RANGE *ranges)
{
    TRACE_COM("(%p, %s, %s, %lu, %p)", iface, dos_trace_wstr((const dos_char *)remote), dos_trace_wstr((const dos_char *)local), (unsigned long)count, ranges);
    struct dos_file_spec spec = { .remote_name = dchars(remote), .local_name = dchars(local),
                                  .ranges = (const dos_range *)ranges, .range_count = count,
                                  .file_size = DOS_SIZE_UNKNOWN };

    if (!count || !ranges) return com_traced(E_INVALIDARG);   /* archived DO page: RangeCount 0 is E_INVALIDARG */
    return com_traced(add_files(impl_from_IBackgroundCopyJob5(iface), &spec, 1, NULL));
}

static HRESULT WINAPI job_SetFileACLFlags(IBackgroundCopyJob5 *iface, DWORD flags)
{
    TRACE_COM("(%p, %lu)", iface, (unsigned long)flags);
    return com_traced(set_u32(iface, DOS_JOB_ACL_FLAGS, flags));
}

static HRESULT WINAPI job_GetFileACLFlags(IBackgroundCopyJob5 *iface, DWORD *flags)
{
    TRACE_COM("(%p, %p)", iface, flags);
    return com_traced(get_u32(iface, DOS_JOB_ACL_FLAGS, flags));
}

/* ---- IBackgroundCopyJob4 ----------------------------------------------------- */

static HRESULT WINAPI job_SetPeerCachingFlags(IBackgroundCopyJob5 *iface, DWORD flags)
{
    TRACE_COM("(%p, %lu)", iface, (unsigned long)flags);
    return com_traced(set_u32(iface, DOS_JOB_PEER_CACHING_FLAGS, flags));
}

static HRESULT WINAPI job_GetPeerCachingFlags(IBackgroundCopyJob5 *iface, DWORD *flags)
{
    TRACE_COM("(%p, %p)", iface, flags);
    return com_traced(get_u32(iface, DOS_JOB_PEER_CACHING_FLAGS, flags));
}

/* Reads one piece of the caller's token: in-process, the owner is the process's user. */
static HRESULT token_info(TOKEN_INFORMATION_CLASS cls, void *buffer, DWORD size)
{
    HANDLE token;
    DWORD got;
    BOOL ok;

    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return HRESULT_FROM_WIN32(GetLastError());
    ok = GetTokenInformation(token, cls, buffer, size, &got);
    CloseHandle(token);
    return ok ? S_OK : HRESULT_FROM_WIN32(GetLastError());
}

static HRESULT WINAPI job_GetOwnerIntegrityLevel(IBackgroundCopyJob5 *iface, ULONG *level)
{
    TRACE_COM("(%p, %p)", iface, level);
    union { TOKEN_MANDATORY_LABEL label; BYTE bytes[sizeof(TOKEN_MANDATORY_LABEL) + SECURITY_MAX_SID_SIZE]; } info;
    HRESULT hr;

    (void)iface;
    if (!level) return com_traced(E_INVALIDARG);
    if (FAILED(hr = token_info(TokenIntegrityLevel, &info, sizeof(info)))) return com_traced(hr);
    *level = *GetSidSubAuthority(info.label.Label.Sid, *GetSidSubAuthorityCount(info.label.Label.Sid) - 1);
    return com_traced(S_OK);
}

static HRESULT WINAPI job_GetOwnerElevationState(IBackgroundCopyJob5 *iface, BOOL *elevated)
{
    TRACE_COM("(%p, %p)", iface, elevated);
    TOKEN_ELEVATION elevation;
    HRESULT hr;

    (void)iface;
    if (!elevated) return com_traced(E_INVALIDARG);
    if (FAILED(hr = token_info(TokenElevation, &elevation, sizeof(elevation)))) return com_traced(hr);
    *elevated = elevation.TokenIsElevated != 0;
    return com_traced(S_OK);
}

static HRESULT WINAPI job_SetMaximumDownloadTime(IBackgroundCopyJob5 *iface, ULONG seconds)
{
    TRACE_COM("(%p, %lu)", iface, (unsigned long)seconds);
    return com_traced(set_u32(iface, DOS_JOB_MAX_DOWNLOAD_TIME, seconds));
}

static HRESULT WINAPI job_GetMaximumDownloadTime(IBackgroundCopyJob5 *iface, ULONG *seconds)
{
    TRACE_COM("(%p, %p)", iface, seconds);
    return com_traced(get_u32(iface, DOS_JOB_MAX_DOWNLOAD_TIME, seconds));
}

/* ---- IBackgroundCopyJob5: DO supports COST_FLAGS and NOTIFICATION_CLSID (spec 3.4) ---- */

static HRESULT WINAPI job_SetProperty(IBackgroundCopyJob5 *iface, BITS_JOB_PROPERTY_ID id,
                                      BITS_JOB_PROPERTY_VALUE value)
{
    TRACE_COM("(%p, %lu, 0x%llx)", iface, (unsigned long)id, (unsigned long long)value.Uint64);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);

    switch (id)
    {
    case BITS_JOB_PROPERTY_ID_COST_FLAGS:
        return com_traced(map(view, dos_job_set_u32(view->job, DOS_JOB_COST_FLAGS, value.Dword)));
    case BITS_JOB_PROPERTY_NOTIFICATION_CLSID:
        return com_traced(map(view, dos_job_set_notification_clsid(view->job, (const dos_guid *)&value.ClsID)));
    default:
        return com_traced(map(view, DOS_E_UNKNOWN_PROPERTY));
    }
}

static HRESULT WINAPI job_GetProperty(IBackgroundCopyJob5 *iface, BITS_JOB_PROPERTY_ID id,
                                      BITS_JOB_PROPERTY_VALUE *value)
{
    TRACE_COM("(%p, %lu, %p)", iface, (unsigned long)id, value);
    struct job_view *view = impl_from_IBackgroundCopyJob5(iface);
    struct dos_job_info info;

    if (!value) return com_traced(E_INVALIDARG);
    job_info(view, &info);
    switch (id)
    {
    case BITS_JOB_PROPERTY_ID_COST_FLAGS:
        value->Dword = info.u32[DOS_JOB_COST_FLAGS];
        return com_traced(S_OK);
    case BITS_JOB_PROPERTY_NOTIFICATION_CLSID:
        memcpy(&value->ClsID, &info.notification_clsid, sizeof(GUID));
        return com_traced(S_OK);
    default:
        return com_traced(map(view, DOS_E_UNKNOWN_PROPERTY));
    }
}

static const IBackgroundCopyJob5Vtbl job_vtbl =
{
    .QueryInterface = job_QueryInterface,
    .AddRef = job_AddRef,
    .Release = job_Release,
    .AddFileSet = job_AddFileSet,
    .AddFile = job_AddFile,
    .EnumFiles = job_EnumFiles,
    .Suspend = job_Suspend,
    .Resume = job_Resume,
    .Cancel = job_Cancel,
    .Complete = job_Complete,
    .GetId = job_GetId,
    .GetType = job_GetType,
    .GetProgress = job_GetProgress,
    .GetTimes = job_GetTimes,
    .GetState = job_GetState,
    .GetError = job_GetError,
    .GetOwner = job_GetOwner,
    .SetDisplayName = job_SetDisplayName,
    .GetDisplayName = job_GetDisplayName,
    .SetDescription = job_SetDescription,
    .GetDescription = job_GetDescription,
    .SetPriority = job_SetPriority,
    .GetPriority = job_GetPriority,
    .SetNotifyFlags = job_SetNotifyFlags,
    .GetNotifyFlags = job_GetNotifyFlags,
    .SetNotifyInterface = job_SetNotifyInterface,
    .GetNotifyInterface = job_GetNotifyInterface,
    .SetMinimumRetryDelay = job_SetMinimumRetryDelay,
    .GetMinimumRetryDelay = job_GetMinimumRetryDelay,
    .SetNoProgressTimeout = job_SetNoProgressTimeout,
    .GetNoProgressTimeout = job_GetNoProgressTimeout,
    .GetErrorCount = job_GetErrorCount,
    .SetProxySettings = job_SetProxySettings,
    .GetProxySettings = job_GetProxySettings,
    .TakeOwnership = job_TakeOwnership,
    .SetNotifyCmdLine = job_SetNotifyCmdLine,
    .GetNotifyCmdLine = job_GetNotifyCmdLine,
    .GetReplyProgress = job_GetReplyProgress,
    .GetReplyData = job_GetReplyData,
    .SetReplyFileName = job_SetReplyFileName,
    .GetReplyFileName = job_GetReplyFileName,
    .SetCredentials = job_SetCredentials,
    .RemoveCredentials = job_RemoveCredentials,
    .ReplaceRemotePrefix = job_ReplaceRemotePrefix,
    .AddFileWithRanges = job_AddFileWithRanges,
    .SetFileACLFlags = job_SetFileACLFlags,
    .GetFileACLFlags = job_GetFileACLFlags,
    .SetPeerCachingFlags = job_SetPeerCachingFlags,
    .GetPeerCachingFlags = job_GetPeerCachingFlags,
    .GetOwnerIntegrityLevel = job_GetOwnerIntegrityLevel,
    .GetOwnerElevationState = job_GetOwnerElevationState,
    .SetMaximumDownloadTime = job_SetMaximumDownloadTime,
    .GetMaximumDownloadTime = job_GetMaximumDownloadTime,
    .SetProperty = job_SetProperty,
    .GetProperty = job_GetProperty,
};

/* ---- IDeliveryOptimizationJob ------------------------------------------------ */

static HRESULT WINAPI dojob_QueryInterface(IDeliveryOptimizationJob *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    return com_traced(job_QueryInterface(&impl_from_IDeliveryOptimizationJob(iface)->IBackgroundCopyJob5_iface, riid, out));
}

static ULONG WINAPI dojob_AddRef(IDeliveryOptimizationJob *iface)
{
    return job_AddRef(&impl_from_IDeliveryOptimizationJob(iface)->IBackgroundCopyJob5_iface);
}

static ULONG WINAPI dojob_Release(IDeliveryOptimizationJob *iface)
{
    return job_Release(&impl_from_IDeliveryOptimizationJob(iface)->IBackgroundCopyJob5_iface);
}

static HRESULT WINAPI dojob_AddFileWithRanges(IDeliveryOptimizationJob *iface, LPCWSTR file_id, LPCWSTR remote,
                                              LPCWSTR local, DWORD count, BG_FILE_RANGE *ranges, UINT64 size)
{
    TRACE_COM("(%p, %s, %s, %s, %lu, %p, %llu)", iface, dos_trace_wstr((const dos_char *)file_id), dos_trace_wstr((const dos_char *)remote), dos_trace_wstr((const dos_char *)local), (unsigned long)count, ranges, (unsigned long long)size);
    struct dos_file_spec spec = { .file_id = dchars(file_id), .remote_name = dchars(remote),
                                  .local_name = dchars(local), .ranges = (const dos_range *)ranges,
                                  .range_count = count, .file_size = size };

    /* spec 3.12: a NULL or empty local name is E_INVALIDARG; ranges are optional. */
    if (!local || !*local || (count && !ranges)) return com_traced(E_INVALIDARG);
    return com_traced(add_files(impl_from_IDeliveryOptimizationJob(iface), &spec, 1, NULL));
}

static const IDeliveryOptimizationJobVtbl dojob_vtbl =
{
    dojob_QueryInterface,
    dojob_AddRef,
    dojob_Release,
    dojob_AddFileWithRanges,
};

/* ---- IDeliveryOptimizationJob2 ----------------------------------------------- */

static HRESULT WINAPI dojob2_QueryInterface(IDeliveryOptimizationJob2 *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    return com_traced(job_QueryInterface(&impl_from_IDeliveryOptimizationJob2(iface)->IBackgroundCopyJob5_iface, riid, out));
}

static ULONG WINAPI dojob2_AddRef(IDeliveryOptimizationJob2 *iface)
{
    return job_AddRef(&impl_from_IDeliveryOptimizationJob2(iface)->IBackgroundCopyJob5_iface);
}

static ULONG WINAPI dojob2_Release(IDeliveryOptimizationJob2 *iface)
{
    return job_Release(&impl_from_IDeliveryOptimizationJob2(iface)->IBackgroundCopyJob5_iface);
}

/* Adds one file without a local name (set later through IDeliveryOptimizationFile2) and
 * returns its file object. dosvc has no content service, so the URL is required. */
static HRESULT WINAPI dojob2_AddFile(IDeliveryOptimizationJob2 *iface, LPCWSTR file_id, LPCWSTR remote,
                                     DWORD count, BG_FILE_RANGE *ranges, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %s, %lu, %p, %s, %p)", iface, dos_trace_wstr((const dos_char *)file_id), dos_trace_wstr((const dos_char *)remote), (unsigned long)count, ranges, dos_trace_guid((const dos_guid *)riid), out);
    struct job_view *view = impl_from_IDeliveryOptimizationJob2(iface);
    struct dos_file_spec spec = { .file_id = dchars(file_id), .remote_name = dchars(remote),
                                  .ranges = (const dos_range *)ranges, .range_count = count,
                                  .file_size = DOS_SIZE_UNKNOWN, .local_optional = true };
    struct dos_file *file;
    HRESULT hr;

    if (!out) return com_traced(E_INVALIDARG);
    *out = NULL;
    if (!riid || !remote || (count && !ranges)) return com_traced(E_INVALIDARG);
    if (!file_view_supports(riid)) return com_traced(E_NOINTERFACE);
    if (FAILED(hr = add_files(view, &spec, 1, &file))) return com_traced(hr);
    return com_traced(file_view_create(file, view->errors, riid, out));
}

static HRESULT WINAPI dojob2_GetProperty(IDeliveryOptimizationJob2 *iface, DOJobPropertyId id, VARIANT *value)
{
    TRACE_COM("(%p, %lu, %p)", iface, (unsigned long)id, value);
    struct job_view *view = impl_from_IDeliveryOptimizationJob2(iface);
    struct dos_error_record record;
    WCHAR text[160];
    const WCHAR *description;

    if (!value) return com_traced(E_INVALIDARG);
    if (id != DOJobPropertyId_ExtendedErrorInfo) return com_traced(map(view, DOS_E_UNKNOWN_PROPERTY));
    /* The format is undocumented (spec 3.13): dosvc gives the code and its meaning, or "". */
    text[0] = 0;
    if (dos_job_get_error(view->job, &record) == DOS_OK)
    {
        description = describe_hresult(record.code);
        wsprintfW(text, L"0x%08X%s%s", (unsigned)record.code, description ? L": " : L"", description ? description : L"");
        dos_error_record_clear(&record);
    }
    VariantInit(value);
    if (!(V_BSTR(value) = SysAllocString(text))) return com_traced(E_OUTOFMEMORY);
    V_VT(value) = VT_BSTR;
    return com_traced(S_OK);
}

static HRESULT WINAPI dojob2_SetProperty(IDeliveryOptimizationJob2 *iface, DOJobPropertyId id, const VARIANT *value)
{
    TRACE_COM("(%p, %lu, %s)", iface, (unsigned long)id, com_trace_variant(value));
    struct job_view *view = impl_from_IDeliveryOptimizationJob2(iface);
    (void)value;
    return com_traced(map(view, id == DOJobPropertyId_ExtendedErrorInfo ? DOS_E_READ_ONLY_PROPERTY : DOS_E_UNKNOWN_PROPERTY));
}

static const IDeliveryOptimizationJob2Vtbl dojob2_vtbl =
{
    dojob2_QueryInterface,
    dojob2_AddRef,
    dojob2_Release,
    dojob2_AddFile,
    dojob2_GetProperty,
    dojob2_SetProperty,
};

/* ---- IBackgroundCopyJobHttpOptions ---------------------------------------------- */

static HRESULT WINAPI http_QueryInterface(IBackgroundCopyJobHttpOptions *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    return com_traced(job_QueryInterface(&impl_from_IBackgroundCopyJobHttpOptions(iface)->IBackgroundCopyJob5_iface, riid, out));
}

static ULONG WINAPI http_AddRef(IBackgroundCopyJobHttpOptions *iface)
{
    return job_AddRef(&impl_from_IBackgroundCopyJobHttpOptions(iface)->IBackgroundCopyJob5_iface);
}

static ULONG WINAPI http_Release(IBackgroundCopyJobHttpOptions *iface)
{
    return job_Release(&impl_from_IBackgroundCopyJobHttpOptions(iface)->IBackgroundCopyJob5_iface);
}

/* Finds the certificate in its store, so that a job never holds one that does not exist, and keeps
 * its thumbprint and subject. */
static HRESULT set_client_cert(struct job_view *view, BG_CERT_STORE_LOCATION location, const WCHAR *store_name,
                               DWORD find_type, const void *find_param)
{
    WCHAR subject[DOS_MAX_CERT_NAME + 1];
    BYTE hash[DOS_CERT_HASH_SIZE];
    DWORD hash_size = sizeof(hash);
    const CERT_CONTEXT *cert;
    HCERTSTORE store;
    HRESULT hr;

    if ((unsigned)location >= DOS_CERT_STORE_LOCATIONS || !store_name || !*store_name) return E_INVALIDARG;
    if (!(store = engine_open_cert_store(location, store_name))) return HRESULT_FROM_WIN32(GetLastError());
    if (!(cert = CertFindCertificateInStore(store, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, 0, find_type, find_param, NULL)))
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        CertCloseStore(store, 0);
        return hr;
    }
    CertGetNameStringW(cert, CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, NULL, subject, ARRAY_SIZE(subject));
    if (!CertGetCertificateContextProperty(cert, CERT_SHA1_HASH_PROP_ID, hash, &hash_size)) hr = HRESULT_FROM_WIN32(GetLastError());
    else hr = map(view, dos_job_set_client_cert(view->job, location, dchars(store_name), hash, dchars(subject)));
    CertFreeCertificateContext(cert);
    CertCloseStore(store, 0);
    return hr;
}

static HRESULT WINAPI http_SetClientCertificateByID(IBackgroundCopyJobHttpOptions *iface, BG_CERT_STORE_LOCATION location,
                                                    LPCWSTR store_name, BYTE *hash)
{
    TRACE_COM("(%p, %lu, %s, %p)", iface, (unsigned long)location, dos_trace_wstr((const dos_char *)store_name), hash);
    CRYPT_HASH_BLOB blob = { DOS_CERT_HASH_SIZE, hash };
    if (!hash) return com_traced(E_INVALIDARG);
    return com_traced(set_client_cert(impl_from_IBackgroundCopyJobHttpOptions(iface), location, store_name, CERT_FIND_SHA1_HASH, &blob));
}

static HRESULT WINAPI http_SetClientCertificateByName(IBackgroundCopyJobHttpOptions *iface,
                                                      BG_CERT_STORE_LOCATION location, LPCWSTR store_name,
                                                      LPCWSTR subject)
{
    TRACE_COM("(%p, %lu, %s, %s)", iface, (unsigned long)location, dos_trace_wstr((const dos_char *)store_name), dos_trace_wstr((const dos_char *)subject));
    if (!subject || !*subject) return com_traced(E_INVALIDARG);
    return com_traced(set_client_cert(impl_from_IBackgroundCopyJobHttpOptions(iface), location, store_name,
                           CERT_FIND_SUBJECT_STR_W, subject));
}

static HRESULT WINAPI http_RemoveClientCertificate(IBackgroundCopyJobHttpOptions *iface)
{
    TRACE_COM("(%p)", iface);
    struct job_view *view = impl_from_IBackgroundCopyJobHttpOptions(iface);
    return com_traced(map(view, dos_job_remove_client_cert(view->job)));
}

static HRESULT WINAPI http_GetClientCertificate(IBackgroundCopyJobHttpOptions *iface, BG_CERT_STORE_LOCATION *location,
                                                LPWSTR *store_name, BYTE **hash, LPWSTR *subject)
{
    TRACE_COM("(%p, %p, %p, %p, %p)", iface, location, store_name, hash, subject);
    struct job_view *view = impl_from_IBackgroundCopyJobHttpOptions(iface);
    uint8_t thumbprint[DOS_CERT_HASH_SIZE];
    uint32_t where;
    dos_status s;

    /* Classic contract: RPC_X_NULL_REF_POINTER for a NULL out, RPC_X_BAD_STUB_DATA when none is set,
     * as the HRESULTs a caller's SUCCEEDED() sees failed. */
    if (!location || !store_name || !hash || !subject) return com_traced(HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER));
    *store_name = *subject = NULL;
    *hash = NULL;
    s = dos_job_get_client_cert(view->job, &where, thumbprint, cotaskmem_alloc, (dos_char **)store_name,
                                (dos_char **)subject);
    if (s == DOS_E_NOT_SET) return com_traced(HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA));
    if (s == DOS_OK && !(*hash = CoTaskMemAlloc(DOS_CERT_HASH_SIZE))) s = DOS_E_OUT_OF_MEMORY;
    if (s != DOS_OK)
    {
        CoTaskMemFree(*store_name);
        CoTaskMemFree(*subject);
        *store_name = *subject = NULL;
        return com_traced(map(view, s));
    }
    memcpy(*hash, thumbprint, DOS_CERT_HASH_SIZE);
    *location = (BG_CERT_STORE_LOCATION)where;
    return com_traced(S_OK);
}

static HRESULT WINAPI http_SetCustomHeaders(IBackgroundCopyJobHttpOptions *iface, LPCWSTR headers)
{
    TRACE_COM("(%p, %s)", iface, dos_trace_wstr((const dos_char *)headers));
    struct job_view *view = impl_from_IBackgroundCopyJobHttpOptions(iface);
    return com_traced(map(view, dos_job_set_custom_headers(view->job, dchars(headers))));
}

static HRESULT WINAPI http_GetCustomHeaders(IBackgroundCopyJobHttpOptions *iface, LPWSTR *headers)
{
    TRACE_COM("(%p, %p)", iface, headers);
    struct job_view *view = impl_from_IBackgroundCopyJobHttpOptions(iface);
    dos_status s;

    if (!headers) return com_traced(HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER));
    s = dos_job_copy_text(view->job, DOS_JOB_CUSTOM_HEADERS, cotaskmem_alloc, (dos_char **)headers);
    if (s == DOS_E_NOT_SET) return com_traced(S_FALSE);   /* classic: no custom headers */
    return com_traced(map(view, s));
}

static HRESULT WINAPI http_SetSecurityFlags(IBackgroundCopyJobHttpOptions *iface, ULONG flags)
{
    TRACE_COM("(%p, %lu)", iface, (unsigned long)flags);
    struct job_view *view = impl_from_IBackgroundCopyJobHttpOptions(iface);
    return com_traced(map(view, dos_job_set_u32(view->job, DOS_JOB_SECURITY_FLAGS, flags)));
}

static HRESULT WINAPI http_GetSecurityFlags(IBackgroundCopyJobHttpOptions *iface, ULONG *flags)
{
    TRACE_COM("(%p, %p)", iface, flags);
    struct job_view *view = impl_from_IBackgroundCopyJobHttpOptions(iface);
    struct dos_job_info info;

    if (!flags) return com_traced(HRESULT_FROM_WIN32(RPC_X_NULL_REF_POINTER));
    job_info(view, &info);
    *flags = info.u32[DOS_JOB_SECURITY_FLAGS];
    return com_traced(S_OK);
}

static const IBackgroundCopyJobHttpOptionsVtbl http_vtbl =
{
    http_QueryInterface,
    http_AddRef,
    http_Release,
    http_SetClientCertificateByID,
    http_SetClientCertificateByName,
    http_RemoveClientCertificate,
    http_GetClientCertificate,
    http_SetCustomHeaders,
    http_GetCustomHeaders,
    http_SetSecurityFlags,
    http_GetSecurityFlags,
};

HRESULT job_view_create(struct dos_job *job, const struct error_map *errors, REFIID riid, void **out)
{
    struct job_view *view;
    HRESULT hr;

    *out = NULL;
    if (!(view = HeapAlloc(GetProcessHeap(), 0, sizeof(*view)))) return E_OUTOFMEMORY;
    view->IBackgroundCopyJob5_iface.lpVtbl = &job_vtbl;
    view->IDeliveryOptimizationJob_iface.lpVtbl = &dojob_vtbl;
    view->IDeliveryOptimizationJob2_iface.lpVtbl = &dojob2_vtbl;
    view->IBackgroundCopyJobHttpOptions_iface.lpVtbl = &http_vtbl;
    view->refs = 1;
    view->job = job;
    view->errors = errors;
    dos_job_retain(job);
    server_object_created();
    hr = job_QueryInterface(&view->IBackgroundCopyJob5_iface, riid, out);
    job_Release(&view->IBackgroundCopyJob5_iface);
    return hr;
}
