/*
 * The error view (IBackgroundCopyError): a copy of the job's error record
 * taken by GetError, so it keeps answering after the job moves on. It holds
 * the job, which keeps the record's file alive.
 */
#include "com_private.h"

#include "wstr.h"

struct error_view
{
    IBackgroundCopyError IBackgroundCopyError_iface;
    LONG refs;
    struct dos_job *job;
    struct dos_error_record record;
    const struct error_map *errors;
};

static inline struct error_view *impl_from_IBackgroundCopyError(IBackgroundCopyError *iface)
{
    return CONTAINING_RECORD(iface, struct error_view, IBackgroundCopyError_iface);
}

static HRESULT WINAPI error_QueryInterface(IBackgroundCopyError *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    if (!out) return com_traced(E_POINTER);
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyError))
    {
        *out = iface;
        IBackgroundCopyError_AddRef(iface);
        return com_traced(S_OK);
    }
    if (marshal_query((IUnknown *)iface, riid, out)) return com_traced(S_OK);
    *out = NULL;
    return com_traced(E_NOINTERFACE);
}

static ULONG WINAPI error_AddRef(IBackgroundCopyError *iface)
{
    return InterlockedIncrement(&impl_from_IBackgroundCopyError(iface)->refs);
}

static ULONG WINAPI error_Release(IBackgroundCopyError *iface)
{
    struct error_view *view = impl_from_IBackgroundCopyError(iface);
    ULONG refs = InterlockedDecrement(&view->refs);
    if (!refs)
    {
        dos_error_record_clear(&view->record);
        dos_job_release(view->job);
        HeapFree(GetProcessHeap(), 0, view);
        server_object_destroyed();
    }
    return refs;
}

static HRESULT WINAPI error_GetError(IBackgroundCopyError *iface, BG_ERROR_CONTEXT *context, HRESULT *code)
{
    TRACE_COM("(%p, %p, %p)", iface, context, code);
    struct error_view *view = impl_from_IBackgroundCopyError(iface);
    if (!context || !code) return com_traced(E_INVALIDARG);
    *context = (BG_ERROR_CONTEXT)view->record.context;
    *code = view->record.code;
    return com_traced(S_OK);
}

static HRESULT WINAPI error_GetFile(IBackgroundCopyError *iface, IBackgroundCopyFile **file)
{
    TRACE_COM("(%p, %p)", iface, file);
    struct error_view *view = impl_from_IBackgroundCopyError(iface);
    if (!file) return com_traced(E_INVALIDARG);
    *file = NULL;
    if (!view->record.file) return com_traced(hr_from(view->errors, DOS_E_FILE_NOT_AVAILABLE));
    return com_traced(file_view_create(view->record.file, view->errors, &IID_IBackgroundCopyFile, (void **)file));
}

static HRESULT WINAPI error_GetErrorDescription(IBackgroundCopyError *iface, DWORD language, LPWSTR *description)
{
    TRACE_COM("(%p, %lu, %p)", iface, (unsigned long)language, description);
    struct error_view *view = impl_from_IBackgroundCopyError(iface);
    if (!description) return com_traced(E_INVALIDARG);
    return com_traced(describe_hresult_alloc(view->record.code, language, description));
}

static HRESULT WINAPI error_GetErrorContextDescription(IBackgroundCopyError *iface, DWORD language,
                                                       LPWSTR *description)
{
    TRACE_COM("(%p, %lu, %p)", iface, (unsigned long)language, description);
    struct error_view *view = impl_from_IBackgroundCopyError(iface);
    const WCHAR *text = describe_context((BG_ERROR_CONTEXT)view->record.context);

    (void)language;    /* English only */
    if (!description) return com_traced(E_INVALIDARG);
    *description = NULL;
    if (!text) return com_traced(E_INVALIDARG);
    return com_traced(hr_from(view->errors, wstr_dup_with(cotaskmem_alloc, dchars(text), (dos_char **)description)));
}

static HRESULT WINAPI error_GetProtocol(IBackgroundCopyError *iface, LPWSTR *protocol)
{
    TRACE_COM("(%p, %p)", iface, protocol);
    struct error_view *view = impl_from_IBackgroundCopyError(iface);
    if (!protocol) return com_traced(E_INVALIDARG);
    *protocol = NULL;
    /* Classic contract: BG_E_PROTOCOL_NOT_AVAILABLE when the error involved no protocol. */
    if (!view->record.protocol) return com_traced(BG_E_PROTOCOL_NOT_AVAILABLE);
    return com_traced(hr_from(view->errors, wstr_dup_with(cotaskmem_alloc, view->record.protocol, (dos_char **)protocol)));
}

static const IBackgroundCopyErrorVtbl error_vtbl =
{
    error_QueryInterface,
    error_AddRef,
    error_Release,
    error_GetError,
    error_GetFile,
    error_GetErrorDescription,
    error_GetErrorContextDescription,
    error_GetProtocol,
};

HRESULT error_view_create(struct dos_job *job, struct dos_error_record *record, const struct error_map *errors,
                          IBackgroundCopyError **out)
{
    struct error_view *view;

    *out = NULL;
    if (!(view = HeapAlloc(GetProcessHeap(), 0, sizeof(*view))))
    {
        dos_error_record_clear(record);
        return E_OUTOFMEMORY;
    }
    view->IBackgroundCopyError_iface.lpVtbl = &error_vtbl;
    view->refs = 1;
    view->job = job;
    view->record = *record;
    view->errors = errors;
    dos_job_retain(job);
    server_object_created();
    *out = &view->IBackgroundCopyError_iface;
    return S_OK;
}
