/*
 * The DeliveryOptimization object: IBackgroundCopyManager over the shared
 * store, IDOManager (IDO downloads, records of the same store: docs/ido.md), and a
 * permissive IClientSecurity so that CoSetProxyBlanket, which DO clients
 * call and check, succeeds on this in-process object (clients.md 0.2).
 */
#include "com_private.h"

#include <stdlib.h>

struct manager
{
    IBackgroundCopyManager IBackgroundCopyManager_iface;
    IDOManager IDOManager_iface;
    IClientSecurity IClientSecurity_iface;
    LONG refs;
    const struct error_map *errors;
    struct dos_store *store;
    /* The last blanket set, so QueryBlanket reports it back. */
    DWORD authn_svc, authz_svc, authn_level, imp_level, capabilities;
};

static inline struct manager *impl_from_IBackgroundCopyManager(IBackgroundCopyManager *iface)
{
    return CONTAINING_RECORD(iface, struct manager, IBackgroundCopyManager_iface);
}

static inline struct manager *impl_from_IDOManager(IDOManager *iface)
{
    return CONTAINING_RECORD(iface, struct manager, IDOManager_iface);
}

static inline struct manager *impl_from_IClientSecurity(IClientSecurity *iface)
{
    return CONTAINING_RECORD(iface, struct manager, IClientSecurity_iface);
}

/* ---- IBackgroundCopyManager ---------------------------------------------- */

static HRESULT WINAPI manager_QueryInterface(IBackgroundCopyManager *iface, REFIID riid, void **out)
{
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);

    if (!out) return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyManager))
        *out = &manager->IBackgroundCopyManager_iface;
    else if (IsEqualIID(riid, &IID_IDOManager))
        *out = &manager->IDOManager_iface;
    else if (IsEqualIID(riid, &IID_IClientSecurity))
        *out = &manager->IClientSecurity_iface;
    else
    {
        *out = NULL;
        return E_NOINTERFACE;
    }
    IUnknown_AddRef((IUnknown *)*out);
    return S_OK;
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
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);
    struct dos_job *job;
    WCHAR *owner;
    dos_status s;
    HRESULT hr;

    if (out) *out = NULL;
    if (!id || !out) return E_INVALIDARG;
    if (FAILED(hr = current_user_sid(&owner))) return hr;
    s = dos_store_create_job(manager->store, dchars(name), (dos_job_type)type, dchars(owner), &job);
    free(owner);
    if (s != DOS_OK) return hr_from(manager->errors, s);

    if (FAILED(hr = job_view_create(job, manager->errors, &IID_IBackgroundCopyJob, (void **)out)))
        dos_job_cancel(job);   /* nothing of a failed call may stay behind */
    else
    {
        struct dos_job_info info;
        dos_job_get_info(job, &info);
        memcpy(id, &info.id, sizeof(*id));
    }
    dos_job_release(job);
    return hr;
}

static HRESULT WINAPI manager_GetJob(IBackgroundCopyManager *iface, REFGUID id, IBackgroundCopyJob **out)
{
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);
    struct dos_job *job;
    dos_status s;
    HRESULT hr;

    if (out) *out = NULL;
    if (!id || !out) return E_INVALIDARG;
    if ((s = dos_store_find_job(manager->store, (const dos_guid *)id, &job)) != DOS_OK)
        return hr_from(manager->errors, s);
    hr = job_view_create(job, manager->errors, &IID_IBackgroundCopyJob, (void **)out);
    dos_job_release(job);
    return hr;
}

static HRESULT WINAPI manager_EnumJobs(IBackgroundCopyManager *iface, DWORD flags, IEnumBackgroundCopyJobs **out)
{
    struct manager *manager = impl_from_IBackgroundCopyManager(iface);
    struct dos_job **jobs;
    WCHAR *owner = NULL;
    size_t count;
    dos_status s;
    HRESULT hr;

    if (out) *out = NULL;
    if (!out || (flags & ~BG_JOB_ENUM_ALL_USERS)) return E_INVALIDARG;
    if (!(flags & BG_JOB_ENUM_ALL_USERS) && FAILED(hr = current_user_sid(&owner))) return hr;
    s = dos_store_list_jobs(manager->store, dchars(owner), &jobs, &count);
    free(owner);
    if (s != DOS_OK) return hr_from(manager->errors, s);
    return job_enum_create(jobs, count, manager->errors, out);
}

static HRESULT WINAPI manager_GetErrorDescription(IBackgroundCopyManager *iface, HRESULT code, DWORD language,
                                                  LPWSTR *out)
{
    (void)iface;
    if (!out) return E_INVALIDARG;
    return describe_hresult_alloc(code, language, out);
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
    return manager_QueryInterface(&impl_from_IDOManager(iface)->IBackgroundCopyManager_iface, riid, out);
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
    struct manager *manager = impl_from_IDOManager(iface);
    struct dos_job *job;
    WCHAR *owner;
    dos_status s;
    HRESULT hr;

    if (!out) return E_INVALIDARG;
    *out = NULL;
    if (FAILED(hr = current_user_sid(&owner))) return hr;
    s = dos_store_create_download(manager->store, dchars(owner), &job);
    free(owner);
    if (s != DOS_OK) return hr_from(manager->errors, s);
    if (FAILED(hr = download_view_create(job, manager->errors, &IID_IDODownload, (void **)out)))
        dos_job_cancel(job);   /* nothing of a failed call may stay behind */
    dos_job_release(job);
    return hr;
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
    struct manager *manager = impl_from_IDOManager(iface);
    struct dos_job **downloads;
    WCHAR *owner;
    size_t count, i, kept = 0;
    dos_status s;
    HRESULT hr;

    if (!out) return E_INVALIDARG;
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
            return (unsigned)category->Property < DOS_DL_PROPERTY_COUNT ? E_INVALIDARG
                                                                       : hr_from(manager->errors, DOS_E_UNKNOWN_PROPERTY);
        }
        if (!category->Value) return E_INVALIDARG;
    }
    if (FAILED(hr = current_user_sid(&owner))) return hr;
    s = dos_store_list_downloads(manager->store, dchars(owner), &downloads, &count);
    free(owner);
    if (s != DOS_OK) return hr_from(manager->errors, s);
    for (i = 0; i < count; i++)
    {
        if (!category || download_matches(downloads[i], category)) downloads[kept++] = downloads[i];
        else dos_job_release(downloads[i]);
    }
    if (!kept)
    {
        dos_jobs_release(downloads, 0);
        return DO_E_NO_DOWNLOADS;
    }
    return download_enum_create(downloads, kept, manager->errors, out);
}

static const IDOManagerVtbl domanager_vtbl =
{
    domanager_QueryInterface,
    domanager_AddRef,
    domanager_Release,
    domanager_CreateDownload,
    domanager_EnumDownloads,
};

/* ---- IClientSecurity --------------------------------------------------------
 * In-process calls already run on the caller's own thread and token, so every
 * blanket is honoured trivially; the object only remembers what was set. */

static HRESULT WINAPI security_QueryInterface(IClientSecurity *iface, REFIID riid, void **out)
{
    return manager_QueryInterface(&impl_from_IClientSecurity(iface)->IBackgroundCopyManager_iface, riid, out);
}

static ULONG WINAPI security_AddRef(IClientSecurity *iface)
{
    return manager_AddRef(&impl_from_IClientSecurity(iface)->IBackgroundCopyManager_iface);
}

static ULONG WINAPI security_Release(IClientSecurity *iface)
{
    return manager_Release(&impl_from_IClientSecurity(iface)->IBackgroundCopyManager_iface);
}

static HRESULT WINAPI security_QueryBlanket(IClientSecurity *iface, IUnknown *proxy, DWORD *authn_svc,
                                            DWORD *authz_svc, OLECHAR **principal, DWORD *authn_level,
                                            DWORD *imp_level, void **auth_info, DWORD *capabilities)
{
    struct manager *manager = impl_from_IClientSecurity(iface);

    if (!proxy) return E_INVALIDARG;
    if (authn_svc) *authn_svc = manager->authn_svc;
    if (authz_svc) *authz_svc = manager->authz_svc;
    if (principal) *principal = NULL;
    if (authn_level) *authn_level = manager->authn_level;
    if (imp_level) *imp_level = manager->imp_level;
    if (auth_info) *auth_info = NULL;
    if (capabilities) *capabilities = manager->capabilities;
    return S_OK;
}

static HRESULT WINAPI security_SetBlanket(IClientSecurity *iface, IUnknown *proxy, DWORD authn_svc,
                                          DWORD authz_svc, OLECHAR *principal, DWORD authn_level,
                                          DWORD imp_level, void *auth_info, DWORD capabilities)
{
    struct manager *manager = impl_from_IClientSecurity(iface);

    (void)principal; (void)auth_info;
    if (!proxy) return E_INVALIDARG;
    manager->authn_svc = authn_svc;
    manager->authz_svc = authz_svc;
    manager->authn_level = authn_level;
    manager->imp_level = imp_level;
    manager->capabilities = capabilities;
    return S_OK;
}

static HRESULT WINAPI security_CopyProxy(IClientSecurity *iface, IUnknown *proxy, IUnknown **copy)
{
    (void)iface;
    if (!proxy || !copy) return E_INVALIDARG;
    /* There is no proxy to copy in-process: the object itself serves. */
    *copy = proxy;
    IUnknown_AddRef(proxy);
    return S_OK;
}

static const IClientSecurityVtbl security_vtbl =
{
    security_QueryInterface,
    security_AddRef,
    security_Release,
    security_QueryBlanket,
    security_SetBlanket,
    security_CopyProxy,
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
    manager->IClientSecurity_iface.lpVtbl = &security_vtbl;
    manager->refs = 1;
    manager->errors = errors;
    manager->store = store;
    dos_store_retain(store);
    manager->authn_svc = RPC_C_AUTHN_WINNT;
    manager->authz_svc = RPC_C_AUTHZ_NONE;
    manager->authn_level = RPC_C_AUTHN_LEVEL_PKT_PRIVACY;
    manager->imp_level = RPC_C_IMP_LEVEL_IMPERSONATE;
    manager->capabilities = EOAC_NONE;
    server_object_created();
    hr = manager_QueryInterface(&manager->IBackgroundCopyManager_iface, riid, out);
    manager_Release(&manager->IBackgroundCopyManager_iface);
    return hr;
}
