/*
 * The file view: IBackgroundCopyFile to IBackgroundCopyFile5 in the classic
 * vtable order, IDeliveryOptimizationFile and IDeliveryOptimizationFile2. It
 * holds its job, which keeps the file record alive.
 */
#include "com_private.h"

#include <stdlib.h>

#include "wstr.h"

struct file_view
{
    IBackgroundCopyFile5 IBackgroundCopyFile5_iface;
    IDeliveryOptimizationFile IDeliveryOptimizationFile_iface;
    IDeliveryOptimizationFile2 IDeliveryOptimizationFile2_iface;
    LONG refs;
    struct dos_file *file;
    struct dos_job *job;
    const struct error_map *errors;
};

static inline struct file_view *impl_from_IBackgroundCopyFile5(IBackgroundCopyFile5 *iface)
{
    return CONTAINING_RECORD(iface, struct file_view, IBackgroundCopyFile5_iface);
}

static inline struct file_view *impl_from_IDeliveryOptimizationFile(IDeliveryOptimizationFile *iface)
{
    return CONTAINING_RECORD(iface, struct file_view, IDeliveryOptimizationFile_iface);
}

static inline struct file_view *impl_from_IDeliveryOptimizationFile2(IDeliveryOptimizationFile2 *iface)
{
    return CONTAINING_RECORD(iface, struct file_view, IDeliveryOptimizationFile2_iface);
}

static HRESULT map(struct file_view *view, dos_status s)
{
    return hr_from(view->errors, s);
}

BOOL file_view_supports(REFIID riid)
{
    return IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyFile)
        || IsEqualIID(riid, &IID_IBackgroundCopyFile2) || IsEqualIID(riid, &IID_IBackgroundCopyFile3)
        || IsEqualIID(riid, &IID_IBackgroundCopyFile4) || IsEqualIID(riid, &IID_IBackgroundCopyFile5)
        || IsEqualIID(riid, &IID_IDeliveryOptimizationFile) || IsEqualIID(riid, &IID_IDeliveryOptimizationFile2);
}

static HRESULT WINAPI file_QueryInterface(IBackgroundCopyFile5 *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    struct file_view *view = impl_from_IBackgroundCopyFile5(iface);

    if (!out) return com_traced(E_POINTER);
    if (IsEqualIID(riid, &IID_IDeliveryOptimizationFile))
        *out = &view->IDeliveryOptimizationFile_iface;
    else if (IsEqualIID(riid, &IID_IDeliveryOptimizationFile2))
        *out = &view->IDeliveryOptimizationFile2_iface;
    else if (file_view_supports(riid))
        *out = &view->IBackgroundCopyFile5_iface;
    else if (marshal_query((IUnknown *)&view->IBackgroundCopyFile5_iface, riid, out))
        return com_traced(S_OK);
    else
    {
        *out = NULL;
        return com_traced(E_NOINTERFACE);
    }
    IUnknown_AddRef((IUnknown *)*out);
    return com_traced(S_OK);
}

static ULONG WINAPI file_AddRef(IBackgroundCopyFile5 *iface)
{
    return InterlockedIncrement(&impl_from_IBackgroundCopyFile5(iface)->refs);
}

static ULONG WINAPI file_Release(IBackgroundCopyFile5 *iface)
{
    struct file_view *view = impl_from_IBackgroundCopyFile5(iface);
    ULONG refs = InterlockedDecrement(&view->refs);
    if (!refs)
    {
        dos_job_release(view->job);
        HeapFree(GetProcessHeap(), 0, view);
        server_object_destroyed();
    }
    return refs;
}

/* Copies a file text out; absent texts read as "" (a file added without a local name yet). */
static HRESULT get_text(struct file_view *view, enum dos_file_text which, LPWSTR *out)
{
    dos_status s;

    if (!out) return E_INVALIDARG;
    s = dos_file_copy_text(view->file, which, cotaskmem_alloc, (dos_char **)out);
    if (s == DOS_E_NOT_SET) s = wstr_dup_with(cotaskmem_alloc, NULL, (dos_char **)out);
    return map(view, s);
}

static HRESULT WINAPI file_GetRemoteName(IBackgroundCopyFile5 *iface, LPWSTR *name)
{
    TRACE_COM("(%p, %p)", iface, name);
    return com_traced(get_text(impl_from_IBackgroundCopyFile5(iface), DOS_FILE_REMOTE_NAME, name));
}

static HRESULT WINAPI file_GetLocalName(IBackgroundCopyFile5 *iface, LPWSTR *name)
{
    TRACE_COM("(%p, %p)", iface, name);
    return com_traced(get_text(impl_from_IBackgroundCopyFile5(iface), DOS_FILE_LOCAL_NAME, name));
}

static HRESULT WINAPI file_GetProgress(IBackgroundCopyFile5 *iface, BG_FILE_PROGRESS *progress)
{
    TRACE_COM("(%p, %p)", iface, progress);
    struct file_view *view = impl_from_IBackgroundCopyFile5(iface);
    struct dos_file_info info;

    if (!progress) return com_traced(E_INVALIDARG);
    dos_file_get_info(view->file, &info);
    progress->BytesTotal = info.bytes_total;
    progress->BytesTransferred = info.bytes_transferred;
    progress->Completed = info.completed;
    return com_traced(S_OK);
}

static HRESULT WINAPI file_GetFileRanges(IBackgroundCopyFile5 *iface, DWORD *count, BG_FILE_RANGE **ranges)
{
    TRACE_COM("(%p, %p, %p)", iface, count, ranges);
    struct file_view *view = impl_from_IBackgroundCopyFile5(iface);
    uint32_t n;
    dos_status s;

    if (!count || !ranges) return com_traced(E_INVALIDARG);
    s = dos_file_copy_ranges(view->file, cotaskmem_alloc, (dos_range **)ranges, &n);
    *count = n;
    if (s != DOS_OK) return com_traced(map(view, s));
    return com_traced(n ? S_OK : S_FALSE);    /* spec 3.6: S_FALSE and NULL when no ranges were given */
}

static HRESULT WINAPI file_SetRemoteName(IBackgroundCopyFile5 *iface, LPCWSTR url)
{
    TRACE_COM("(%p, %s)", iface, dos_trace_wstr((const dos_char *)url));
    struct file_view *view = impl_from_IBackgroundCopyFile5(iface);
    return com_traced(map(view, dos_file_set_remote_name(view->file, dchars(url))));
}

static HRESULT WINAPI file_GetTemporaryName(IBackgroundCopyFile5 *iface, LPWSTR *name)
{
    TRACE_COM("(%p, %p)", iface, name);
    return com_traced(get_text(impl_from_IBackgroundCopyFile5(iface), DOS_FILE_TEMP_NAME, name));
}

static HRESULT WINAPI file_SetValidationState(IBackgroundCopyFile5 *iface, BOOL valid)
{
    TRACE_COM("(%p, %d)", iface, (int)valid);
    struct file_view *view = impl_from_IBackgroundCopyFile5(iface);
    return com_traced(map(view, dos_file_set_validation_state(view->file, valid != FALSE)));
}

static HRESULT WINAPI file_GetValidationState(IBackgroundCopyFile5 *iface, BOOL *valid)
{
    TRACE_COM("(%p, %p)", iface, valid);
    struct file_view *view = impl_from_IBackgroundCopyFile5(iface);
    struct dos_file_info info;

    if (!valid) return com_traced(E_INVALIDARG);
    dos_file_get_info(view->file, &info);
    *valid = info.validation_state;
    return com_traced(S_OK);
}

/* dosvc downloads from the origin only: it has no peers. */
static HRESULT WINAPI file_IsDownloadedFromPeer(IBackgroundCopyFile5 *iface, BOOL *from_peer)
{
    TRACE_COM("(%p, %p)", iface, from_peer);
    (void)iface;
    if (!from_peer) return com_traced(E_INVALIDARG);
    *from_peer = FALSE;
    return com_traced(S_OK);
}

static HRESULT WINAPI file_GetPeerDownloadStats(IBackgroundCopyFile5 *iface, UINT64 *from_origin, UINT64 *from_peers)
{
    TRACE_COM("(%p, %p, %p)", iface, from_origin, from_peers);
    struct file_view *view = impl_from_IBackgroundCopyFile5(iface);
    struct dos_file_info info;

    if (!from_origin || !from_peers) return com_traced(E_INVALIDARG);
    dos_file_get_info(view->file, &info);
    *from_origin = info.bytes_transferred;
    *from_peers = 0;
    return com_traced(S_OK);
}

/* The only file property is the server's response headers, which only the server sets. */
static HRESULT WINAPI file_SetProperty(IBackgroundCopyFile5 *iface, BITS_FILE_PROPERTY_ID id,
                                       BITS_FILE_PROPERTY_VALUE value)
{
    TRACE_COM("(%p, %lu, %s)", iface, (unsigned long)id, dos_trace_wstr((const dos_char *)value.String));
    struct file_view *view = impl_from_IBackgroundCopyFile5(iface);
    (void)value;
    return com_traced(map(view, id == BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS ? DOS_E_READ_ONLY_PROPERTY
                                                                        : DOS_E_UNKNOWN_PROPERTY));
}

static HRESULT WINAPI file_GetProperty(IBackgroundCopyFile5 *iface, BITS_FILE_PROPERTY_ID id,
                                       BITS_FILE_PROPERTY_VALUE *value)
{
    TRACE_COM("(%p, %lu, %p)", iface, (unsigned long)id, value);
    struct file_view *view = impl_from_IBackgroundCopyFile5(iface);

    if (!value) return com_traced(E_INVALIDARG);
    value->String = NULL;
    if (id != BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS) return com_traced(map(view, DOS_E_UNKNOWN_PROPERTY));
    /* Before any response there are no headers: an empty string. */
    return com_traced(get_text(view, DOS_FILE_RESPONSE_HEADERS, &value->String));
}

static const IBackgroundCopyFile5Vtbl file_vtbl =
{
    .QueryInterface = file_QueryInterface,
    .AddRef = file_AddRef,
    .Release = file_Release,
    .GetRemoteName = file_GetRemoteName,
    .GetLocalName = file_GetLocalName,
    .GetProgress = file_GetProgress,
    .GetFileRanges = file_GetFileRanges,
    .SetRemoteName = file_SetRemoteName,
    .GetTemporaryName = file_GetTemporaryName,
    .SetValidationState = file_SetValidationState,
    .GetValidationState = file_GetValidationState,
    .IsDownloadedFromPeer = file_IsDownloadedFromPeer,
    .GetPeerDownloadStats = file_GetPeerDownloadStats,
    .SetProperty = file_SetProperty,
    .GetProperty = file_GetProperty,
};

/* ---- IDeliveryOptimizationFile ----------------------------------------------- */

static HRESULT WINAPI dofile_QueryInterface(IDeliveryOptimizationFile *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    return com_traced(file_QueryInterface(&impl_from_IDeliveryOptimizationFile(iface)->IBackgroundCopyFile5_iface, riid, out));
}

static ULONG WINAPI dofile_AddRef(IDeliveryOptimizationFile *iface)
{
    return file_AddRef(&impl_from_IDeliveryOptimizationFile(iface)->IBackgroundCopyFile5_iface);
}

static ULONG WINAPI dofile_Release(IDeliveryOptimizationFile *iface)
{
    return file_Release(&impl_from_IDeliveryOptimizationFile(iface)->IBackgroundCopyFile5_iface);
}

static SwarmStatus swarm_status(const struct dos_file_info *info)
{
    uint64_t total = info->bytes_total;
    if (total != DOS_SIZE_UNKNOWN && info->bytes_transferred == total) return SwarmStatus_Complete;
    switch (info->job_state)
    {
    case DOS_STATE_QUEUED:
    case DOS_STATE_CONNECTING:
    case DOS_STATE_TRANSFERRING:
        return SwarmStatus_Downloading;
    default:
        return SwarmStatus_Paused;
    }
}

/* Statistics of a download that uses HTTP only: every byte is from the origin (DownloadMode_Simple). */
static HRESULT WINAPI dofile_GetStats(IDeliveryOptimizationFile *iface, DOSwarmStats *stats)
{
    TRACE_COM("(%p, %p)", iface, stats);
    struct file_view *view = impl_from_IDeliveryOptimizationFile(iface);
    struct dos_file_info info;
    LPWSTR file_id = NULL, url = NULL;
    HRESULT hr;

    if (!stats) return com_traced(E_INVALIDARG);
    if (FAILED(hr = get_text(view, DOS_FILE_ID, &file_id))) return com_traced(hr);
    if (FAILED(hr = get_text(view, DOS_FILE_REMOTE_NAME, &url)))
    {
        CoTaskMemFree(file_id);
        return com_traced(hr);
    }
    dos_file_get_info(view->file, &info);
    memset(stats, 0, sizeof(*stats));
    stats->fileId = file_id;
    stats->sourceURL = url;
    stats->fileSize = info.file_size;
    stats->totalBytesDownloaded = info.bytes_transferred;
    stats->bytesFromHttp = info.bytes_transferred;
    stats->downloadMode = DownloadMode_Simple;
    stats->status = swarm_status(&info);
    stats->isBackground = info.job_priority != DOS_PRIORITY_FOREGROUND;
    return com_traced(S_OK);
}

static const IDeliveryOptimizationFileVtbl dofile_vtbl =
{
    dofile_QueryInterface,
    dofile_AddRef,
    dofile_Release,
    dofile_GetStats,
};

/* ---- IDeliveryOptimizationFile2 ---------------------------------------------- */

static HRESULT WINAPI dofile2_QueryInterface(IDeliveryOptimizationFile2 *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    return com_traced(file_QueryInterface(&impl_from_IDeliveryOptimizationFile2(iface)->IBackgroundCopyFile5_iface, riid, out));
}

static ULONG WINAPI dofile2_AddRef(IDeliveryOptimizationFile2 *iface)
{
    return file_AddRef(&impl_from_IDeliveryOptimizationFile2(iface)->IBackgroundCopyFile5_iface);
}

static ULONG WINAPI dofile2_Release(IDeliveryOptimizationFile2 *iface)
{
    return file_Release(&impl_from_IDeliveryOptimizationFile2(iface)->IBackgroundCopyFile5_iface);
}

static HRESULT WINAPI dofile2_GetProperty(IDeliveryOptimizationFile2 *iface, DOFilePropertyId id, VARIANT *value)
{
    TRACE_COM("(%p, %lu, %p)", iface, (unsigned long)id, value);
    struct file_view *view = impl_from_IDeliveryOptimizationFile2(iface);
    struct dos_file_info info;
    dos_char *text;
    dos_status s;

    if (!value) return com_traced(E_INVALIDARG);
    VariantInit(value);
    switch (id)
    {
    case DOFilePropertyId_DownloadSinkFilePath:
        if ((s = dos_file_copy_text(view->file, DOS_FILE_LOCAL_NAME, malloc, &text)) != DOS_OK) return com_traced(map(view, s));
        V_BSTR(value) = SysAllocString((const OLECHAR *)text);
        free(text);
        if (!V_BSTR(value)) return com_traced(E_OUTOFMEMORY);
        V_VT(value) = VT_BSTR;
        return com_traced(S_OK);
    case DOFilePropertyId_TotalSizeBytes:
        dos_file_get_info(view->file, &info);
        if (info.file_size == DOS_SIZE_UNKNOWN) return com_traced(map(view, DOS_E_NOT_SET));
        V_VT(value) = VT_UI8;
        V_UI8(value) = info.file_size;
        return com_traced(S_OK);
    case DOFilePropertyId_DownloadSinkMemoryStream:
        return com_traced(map(view, DOS_E_NOT_SET));
    default:
        /* DecryptionInfo, IntegrityCheckInfo, IntegrityCheckMandatory and DownloadSinkInterface too
         * (see SetProperty). */
        return com_traced(map(view, DOS_E_UNKNOWN_PROPERTY));
    }
}

static HRESULT WINAPI dofile2_SetProperty(IDeliveryOptimizationFile2 *iface, DOFilePropertyId id, const VARIANT *value)
{
    TRACE_COM("(%p, %lu, %s)", iface, (unsigned long)id, com_trace_variant(value));
    struct file_view *view = impl_from_IDeliveryOptimizationFile2(iface);
    WCHAR *path;
    HRESULT hr;

    if ((unsigned)id > DOFilePropertyId_TotalSizeBytes) return com_traced(map(view, DOS_E_UNKNOWN_PROPERTY));
    if (!value) return com_traced(E_INVALIDARG);
    switch (id)
    {
    case DOFilePropertyId_DownloadSinkFilePath:
        if (V_VT(value) != VT_BSTR || !V_BSTR(value)) return com_traced(E_INVALIDARG);
        if (FAILED(hr = canonical_local_name(view->errors, V_BSTR(value), &path))) return com_traced(hr);
        hr = map(view, dos_file_set_local_name(view->file, dchars(path)));
        free(path);
        return com_traced(hr);
    case DOFilePropertyId_TotalSizeBytes:
        if (V_VT(value) != VT_UI8) return com_traced(E_INVALIDARG);
        return com_traced(map(view, dos_file_set_size(view->file, V_UI8(value))));
    case DOFilePropertyId_DownloadSinkMemoryStream:
        /* Deprecated by the docs ("do not use"); DO has a code for exactly this. */
        return com_traced(map(view, DOS_E_MEMORY_STREAM_UNSUPPORTED));
    default:
        /* Decryption, piece-hash integrity checks (mandatory or not) and stream sinks need the
         * transfer engine to act on them; until it can, their ids read as unknown both ways, the
         * answer of a DO without these features and the one the DO SDK accepts. */
        return com_traced(map(view, DOS_E_UNKNOWN_PROPERTY));
    }
}

static const IDeliveryOptimizationFile2Vtbl dofile2_vtbl =
{
    dofile2_QueryInterface,
    dofile2_AddRef,
    dofile2_Release,
    dofile2_GetProperty,
    dofile2_SetProperty,
};

HRESULT file_view_create(struct dos_file *file, const struct error_map *errors, REFIID riid, void **out)
{
    struct file_view *view;
    HRESULT hr;

    *out = NULL;
    if (!(view = HeapAlloc(GetProcessHeap(), 0, sizeof(*view)))) return E_OUTOFMEMORY;
    view->IBackgroundCopyFile5_iface.lpVtbl = &file_vtbl;
    view->IDeliveryOptimizationFile_iface.lpVtbl = &dofile_vtbl;
    view->IDeliveryOptimizationFile2_iface.lpVtbl = &dofile2_vtbl;
    view->refs = 1;
    view->file = file;
    view->job = dos_file_job(file);
    view->errors = errors;
    dos_job_retain(view->job);
    server_object_created();
    hr = file_QueryInterface(&view->IBackgroundCopyFile5_iface, riid, out);
    file_Release(&view->IBackgroundCopyFile5_iface);
    return hr;
}
