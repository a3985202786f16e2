/*
 * The DeliveryOptimization object: IBackgroundCopyManager over the shared
 * store, IDOManager (IDO downloads, records of the same store: docs/ido.md), and a
 * permissive IClientSecurity (security.c) so that CoSetProxyBlanket, which DO clients
 * call and check, succeeds on this in-process object (clients.md 0.2).
 */
#include "com_private.h"

#include <stdlib.h>

struct manager
{
    IBackgroundCopyManager IBackgroundCopyManager_iface;
    IDOManager IDOManager_iface;
    struct client_security security;
    LONG refs;
    const struct error_map *errors;
    struct dos_store *store;
};

static inline struct manager *impl_from_IBackgroundCopyManager(IBackgroundCopyManager *iface)
{
    return CONTAINING_RECORD(iface, struct manager, IBackgroundCopyManager_iface);
}

static inline struct manager *impl_from_IDOManager(IDOManager *iface)
{
    return CONTAINING_RECORD(iface, struct manager, IDOManager_iface);
}

/* ---- IBackgroundCopyManager ---------------------------------------------- */

static HRESULT WINAPI manager_QueryInterface(IBackgroundCopyManager *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);

    if (!out) return com_traced(E_POINTER);
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyManager))
        *out = &manager->IBackgroundCopyManager_iface;
    else if (IsEqualIID(riid, &IID_IDOManager))
        *out = &manager->IDOManager_iface;
    else if (IsEqualIID(riid, &IID_IClientSecurity))
        *out = &manager->security.IClientSecurity_iface;
    else if (marshal_query((IUnknown *)&manager->IBackgroundCopyManager_iface, riid, out))
        return com_traced(S_OK);
    else
    {
        *out = NULL;
        return com_traced(E_NOINTERFACE);
    }
    IUnknown_AddRef((IUnknown *)*out);
    return com_traced(S_OK);
}

static ULONG WINAPI manager_AddRef(IBackgroundCopyManager *iface)
{
    return InterlockedIncrement(&impl_from_IBackgroundCopyManager(iface)->refs);
}

static ULONG WINAPI manager_Release(IBackgroundCopyManager *iface)
{
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);
    ULONG refs = InterlockedDecrement(&manager->refs);
    if (!refs)
    {
        dos_store_release(manager->store);
        HeapFree(GetProcessHeap(), 0, manager);
        server_object_destroyed();
    }
    return refs;
}

static HRESULT WINAPI manager_CreateJob(IBackgroundCopyManager *iface, LPCWSTR name, BG_JOB_TYPE type,
                                        GUID *id, IBackgroundCopyJob **out)
{
    TRACE_COM("(%p, %s, %lu, %p, %p)", iface, dos_trace_wstr((const dos_char *)name), (unsigned long)type, id, out);
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);
    struct dos_job *job;
    WCHAR *owner;
    dos_status s;
    HRESULT hr;

    if (out) *out = NULL;
    if (!id || !out) return com_traced(E_INVALIDARG);
    if (FAILED(hr = current_user_sid(&owner))) return com_traced(hr);
    s = dos_store_create_job(manager->store, dchars(name), (dos_job_type)type, dchars(owner), &job);
    free(owner);
    if (s != DOS_OK) return com_traced(hr_from(manager->errors, s));

    if (FAILED(hr = job_view_create(job, manager->errors, &IID_IBackgroundCopyJob, (void **)out)))
        dos_job_cancel(job);   /* nothing of a failed call may stay behind */
    else
    {
        struct dos_job_info info;
        dos_job_get_info(job, &info);
        memcpy(id, &info.id, sizeof(*id));
    }
    dos_job_release(job);
    return com_traced(hr);
}

static HRESULT WINAPI manager_GetJob(IBackgroundCopyManager *iface, REFGUID id, IBackgroundCopyJob **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)id), out);
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);
    struct dos_job *job;
    dos_status s;
    HRESULT hr;

    if (out) *out = NULL;
    if (!id || !out) return com_traced(E_INVALIDARG);
    if ((s = dos_store_find_job(manager->store, (const dos_guid *)id, &job)) != DOS_OK)
        return com_traced(hr_from(manager->errors, s));
    hr = job_view_create(job, manager->errors, &IID_IBackgroundCopyJob, (void **)out);
    dos_job_release(job);
    return com_traced(hr);
}

static HRESULT WINAPI manager_EnumJobs(IBackgroundCopyManager *iface, DWORD flags, IEnumBackgroundCopyJobs **out)
{
    TRACE_COM("(%p, %lu, %p)", iface, (unsigned long)flags, out);
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);
    struct dos_job **jobs;
    WCHAR *owner = NULL;
    size_t count;
    dos_status s;
    HRESULT hr;

    if (out) *out = NULL;
    if (!out || (flags & ~BG_JOB_ENUM_ALL_USERS)) return com_traced(E_INVALIDARG);
    if (!(flags & BG_JOB_ENUM_ALL_USERS) && FAILED(hr = current_user_sid(&owner))) return com_traced(hr);
    s = dos_store_list_jobs(manager->store, dchars(owner), &jobs, &count);
    free(owner);
    if (s != DOS_OK) return com_traced(hr_from(manager->errors, s));
    return com_traced(job_enum_create(jobs, count, manager->errors, out));
}

static HRESULT WINAPI manager_GetErrorDescription(IBackgroundCopyManager *iface, HRESULT code, DWORD language,
                                                  LPWSTR *out)
{
    TRACE_COM("(%p, 0x%08lx, %lu, %p)", iface, (unsigned long)code, (unsigned long)language, out);
    (void)iface;
    if (!out) return com_traced(E_INVALIDARG);
    return com_traced(describe_hresult_alloc(code, language, out));
}

static const IBackgroundCopyManagerVtbl manager_vtbl =
{
    manager_QueryInterface,
    manager_AddRef,
    manager_Release,
    manager_CreateJob,
    manager_GetJob,
    manager_EnumJobs,
    manager_GetErrorDescription,
};

/* ---- IDOManager ------------------------------------------------------------ */

static HRESULT WINAPI domanager_QueryInterface(IDOManager *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    return com_traced(manager_QueryInterface(&impl_from_IDOManager(iface)->IBackgroundCopyManager_iface, riid, out));
}

static ULONG WINAPI domanager_AddRef(IDOManager *iface)
{
    return manager_AddRef(&impl_from_IDOManager(iface)->IBackgroundCopyManager_iface);
}

static ULONG WINAPI domanager_Release(IDOManager *iface)
{
    return manager_Release(&impl_from_IDOManager(iface)->IBackgroundCopyManager_iface);
}

static HRESULT WINAPI domanager_CreateDownload(IDOManager *iface, IDODownload **out)
{
    TRACE_COM("(%p, %p)", iface, out);
    struct manager *manager = impl_from_IDOManager(iface);
    struct dos_job *job;
    WCHAR *owner;
    dos_status s;
    HRESULT hr;

    if (!out) return com_traced(E_INVALIDARG);
    *out = NULL;
    if (FAILED(hr = current_user_sid(&owner))) return com_traced(hr);
    s = dos_store_create_download(manager->store, dchars(owner), &job);
    free(owner);
    if (s != DOS_OK) return com_traced(hr_from(manager->errors, s));
    if (FAILED(hr = download_view_create(job, manager->errors, &IID_IDODownload, (void **)out)))
        dos_job_cancel(job);   /* nothing of a failed call may stay behind */
    dos_job_release(job);
    return com_traced(hr);
}

/* Whether a download's property id has value: ids compare without regard to case, as GUIDs
 * do, and so do local paths, as Windows file names do; the other texts compare exactly. */
static BOOL download_matches(struct dos_job *job, const DO_DOWNLOAD_ENUM_CATEGORY *category)
{
    struct dos_value value;
    BOOL match;

    if (dos_download_get_property(job, category->Property, malloc, &value) != DOS_OK) return FALSE;
    if (category->Property == DODownloadProperty_Id || category->Property == DODownloadProperty_LocalPath)
        match = !lstrcmpiW((const WCHAR *)value.u.text, category->Value);
    else
        match = !lstrcmpW((const WCHAR *)value.u.text, category->Value);
    dos_download_value_clear(&value, free);
    return match;
}

/*
 * The caller's downloads (spec 3.16: only those it created; dosvc knows callers by user),
 * optionally those whose Id, Uri, ContentId, DisplayName or LocalPath has a value. No
 * download to show is DO_E_NO_DOWNLOADS, which the DO SDK reports for exactly that.
 */
static HRESULT WINAPI domanager_EnumDownloads(IDOManager *iface, const DO_DOWNLOAD_ENUM_CATEGORY *category,
                                              IEnumUnknown **out)
{
    TRACE_COM("(%p, %p, %p)", iface, category, out);
    struct manager *manager = impl_from_IDOManager(iface);
    struct dos_job **downloads;
    WCHAR *owner;
    size_t count, i, kept = 0;
    dos_status s;
    HRESULT hr;

    if (!out) return com_traced(E_INVALIDARG);
    *out = NULL;
    if (category)
    {
        switch (category->Property)
        {
        case DODownloadProperty_Id:
        case DODownloadProperty_Uri:
        case DODownloadProperty_ContentId:
        case DODownloadProperty_DisplayName:
        case DODownloadProperty_LocalPath:
            break;
        default:
            /* A property that exists but is no category is a bad argument; others are unknown. */
            return com_traced((unsigned)category->Property < DOS_DL_PROPERTY_COUNT ? E_INVALIDARG
                                                                       : hr_from(manager->errors, DOS_E_UNKNOWN_PROPERTY));
        }
        if (!category->Value) return com_traced(E_INVALIDARG);
    }
    if (FAILED(hr = current_user_sid(&owner))) return com_traced(hr);
    s = dos_store_list_downloads(manager->store, dchars(owner), &downloads, &count);
    free(owner);
    if (s != DOS_OK) return com_traced(hr_from(manager->errors, s));
    for (i = 0; i < count; i++)
    {
        if (!category || download_matches(downloads[i], category)) downloads[kept++] = downloads[i];
        else dos_job_release(downloads[i]);
    }
    if (!kept)
    {
        dos_jobs_release(downloads, 0);
        return com_traced(DO_E_NO_DOWNLOADS);
    }
    return com_traced(download_enum_create(downloads, kept, manager->errors, out));
}

static const IDOManagerVtbl domanager_vtbl =
{
    domanager_QueryInterface,
    domanager_AddRef,
    domanager_Release,
    domanager_CreateDownload,
    domanager_EnumDownloads,
};

HRESULT manager_create(const struct error_map *errors, REFIID riid, void **out)
{
    struct manager *manager;
    struct dos_store *store;
    HRESULT hr;

    *out = NULL;
    if (!(store = server_store())) return E_OUTOFMEMORY;
    if (!(manager = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*manager)))) return E_OUTOFMEMORY;
    manager->IBackgroundCopyManager_iface.lpVtbl = &manager_vtbl;
    manager->IDOManager_iface.lpVtbl = &domanager_vtbl;
    client_security_init(&manager->security, (IUnknown *)&manager->IBackgroundCopyManager_iface);
    manager->refs = 1;
    manager->errors = errors;
    manager->store = store;
    dos_store_retain(store);
    server_object_created();
    hr = manager_QueryInterface(&manager->IBackgroundCopyManager_iface, riid, out);
    manager_Release(&manager->IBackgroundCopyManager_iface);
    return hr;
}
