/*
 * Enumerators over snapshots: IEnumBackgroundCopyFiles, IEnumBackgroundCopyJobs
 * and IDOManager::EnumDownloads' IEnumUnknown share one implementation. The snapshot is taken
 * when the enumerator is created, shared (counted) by its clones, and holds
 * references to the records, not views; Next makes a fresh view per item.
 */
#include "com_private.h"

#include <stdlib.h>

enum enum_kind { ENUM_FILES, ENUM_JOBS, ENUM_DOWNLOADS };

struct snapshot
{
    LONG refs;
    enum enum_kind kind;
    struct dos_job *job;           /* ENUM_FILES: the job that keeps the files alive */
    void **items;                  /* struct dos_file *, or a retained struct dos_job * (a job or a download) */
    size_t count;
};

struct enum_view
{
    union
    {
        IEnumBackgroundCopyFiles files;
        IEnumBackgroundCopyJobs jobs;
        IEnumUnknown downloads;
    } iface;
    LONG refs;
    struct snapshot *snapshot;
    size_t position;
    const struct error_map *errors;
};

static void snapshot_release(struct snapshot *snapshot)
{
    if (InterlockedDecrement(&snapshot->refs)) return;
    if (snapshot->kind != ENUM_FILES) dos_jobs_release((struct dos_job **)snapshot->items, snapshot->count);
    else
    {
        free(snapshot->items);
        dos_job_release(snapshot->job);
    }
    free(snapshot);
}

static inline struct enum_view *impl_from_iface(void *iface)
{
    return CONTAINING_RECORD(iface, struct enum_view, iface);
}

static HRESULT create_item_view(struct enum_view *view, size_t index, void **out)
{
    struct snapshot *snapshot = view->snapshot;
    if (snapshot->kind == ENUM_FILES)
        return file_view_create(snapshot->items[index], view->errors, &IID_IBackgroundCopyFile, out);
    if (snapshot->kind == ENUM_DOWNLOADS)   /* IUnknown items: clients ask each for IDODownload */
        return download_view_create(snapshot->items[index], view->errors, &IID_IUnknown, out);
    return job_view_create(snapshot->items[index], view->errors, &IID_IBackgroundCopyJob, out);
}

static HRESULT enum_create(struct snapshot *snapshot, size_t position, const struct error_map *errors, void **out);

/* ---- the shared methods, on the union's common layout ---------------------- */

static HRESULT WINAPI enum_QueryInterface(IEnumBackgroundCopyFiles *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    struct enum_view *view = impl_from_iface(iface);
    const IID *own = view->snapshot->kind == ENUM_FILES ? &IID_IEnumBackgroundCopyFiles
                     : view->snapshot->kind == ENUM_JOBS ? &IID_IEnumBackgroundCopyJobs : &IID_IEnumUnknown;

    if (!out) return com_traced(E_POINTER);
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, own))
    {
        *out = iface;
        IEnumBackgroundCopyFiles_AddRef(iface);
        return com_traced(S_OK);
    }
    if (marshal_query((IUnknown *)iface, riid, out)) return com_traced(S_OK);
    *out = NULL;
    return com_traced(E_NOINTERFACE);
}

static ULONG WINAPI enum_AddRef(IEnumBackgroundCopyFiles *iface)
{
    return InterlockedIncrement(&impl_from_iface(iface)->refs);
}

static ULONG WINAPI enum_Release(IEnumBackgroundCopyFiles *iface)
{
    struct enum_view *view = impl_from_iface(iface);
    ULONG refs = InterlockedDecrement(&view->refs);
    if (!refs)
    {
        snapshot_release(view->snapshot);
        HeapFree(GetProcessHeap(), 0, view);
        server_object_destroyed();
    }
    return refs;
}

/* Returns up to count items: S_OK if all were returned, S_FALSE if fewer (spec 3.9). */
static HRESULT WINAPI enum_Next(IEnumBackgroundCopyFiles *iface, ULONG count, IBackgroundCopyFile **items,
                                ULONG *fetched)
{
    TRACE_COM("(%p, %lu, %p, %p)", iface, (unsigned long)count, items, fetched);
    struct enum_view *view = impl_from_iface(iface);
    ULONG done = 0;
    HRESULT hr;

    if (fetched) *fetched = 0;
    if (!items || (!fetched && count != 1)) return com_traced(E_INVALIDARG);
    while (done < count && view->position < view->snapshot->count)
    {
        if (FAILED(hr = create_item_view(view, view->position, (void **)&items[done])))
        {
            while (done)
            {
                IUnknown *item = (IUnknown *)items[--done];
                IUnknown_Release(item);
            }
            return com_traced(hr);
        }
        view->position++;
        done++;
    }
    if (fetched) *fetched = done;
    return com_traced(done == count ? S_OK : S_FALSE);
}

static HRESULT WINAPI enum_Skip(IEnumBackgroundCopyFiles *iface, ULONG count)
{
    TRACE_COM("(%p, %lu)", iface, (unsigned long)count);
    struct enum_view *view = impl_from_iface(iface);
    size_t left = view->snapshot->count - view->position;

    if (count > left)
    {
        view->position = view->snapshot->count;
        return com_traced(S_FALSE);
    }
    view->position += count;
    return com_traced(S_OK);
}

static HRESULT WINAPI enum_Reset(IEnumBackgroundCopyFiles *iface)
{
    TRACE_COM("(%p)", iface);
    impl_from_iface(iface)->position = 0;
    return com_traced(S_OK);
}

static HRESULT WINAPI enum_Clone(IEnumBackgroundCopyFiles *iface, IEnumBackgroundCopyFiles **out)
{
    TRACE_COM("(%p, %p)", iface, out);
    struct enum_view *view = impl_from_iface(iface);
    if (!out) return com_traced(E_INVALIDARG);
    InterlockedIncrement(&view->snapshot->refs);
    return com_traced(enum_create(view->snapshot, view->position, view->errors, (void **)out));
}

static HRESULT WINAPI enum_GetCount(IEnumBackgroundCopyFiles *iface, ULONG *count)
{
    TRACE_COM("(%p, %p)", iface, count);
    if (!count) return com_traced(E_INVALIDARG);
    *count = (ULONG)impl_from_iface(iface)->snapshot->count;
    return com_traced(S_OK);
}

static const IEnumBackgroundCopyFilesVtbl files_vtbl =
{
    enum_QueryInterface,
    enum_AddRef,
    enum_Release,
    enum_Next,
    enum_Skip,
    enum_Reset,
    enum_Clone,
    enum_GetCount,
};

/* The jobs vtable has the same slots with other pointer types; the thunks only retype. */
static HRESULT WINAPI jobs_QueryInterface(IEnumBackgroundCopyJobs *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    return com_traced(enum_QueryInterface((IEnumBackgroundCopyFiles *)iface, riid, out));
}
static ULONG WINAPI jobs_AddRef(IEnumBackgroundCopyJobs *iface)
{
    return enum_AddRef((IEnumBackgroundCopyFiles *)iface);
}
static ULONG WINAPI jobs_Release(IEnumBackgroundCopyJobs *iface)
{
    return enum_Release((IEnumBackgroundCopyFiles *)iface);
}
static HRESULT WINAPI jobs_Next(IEnumBackgroundCopyJobs *iface, ULONG count, IBackgroundCopyJob **items, ULONG *fetched)
{
    TRACE_COM("(%p, %lu, %p, %p)", iface, (unsigned long)count, items, fetched);
    return com_traced(enum_Next((IEnumBackgroundCopyFiles *)iface, count, (IBackgroundCopyFile **)items, fetched));
}
static HRESULT WINAPI jobs_Skip(IEnumBackgroundCopyJobs *iface, ULONG count)
{
    TRACE_COM("(%p, %lu)", iface, (unsigned long)count);
    return com_traced(enum_Skip((IEnumBackgroundCopyFiles *)iface, count));
}
static HRESULT WINAPI jobs_Reset(IEnumBackgroundCopyJobs *iface)
{
    TRACE_COM("(%p)", iface);
    return com_traced(enum_Reset((IEnumBackgroundCopyFiles *)iface));
}
static HRESULT WINAPI jobs_Clone(IEnumBackgroundCopyJobs *iface, IEnumBackgroundCopyJobs **out)
{
    TRACE_COM("(%p, %p)", iface, out);
    return com_traced(enum_Clone((IEnumBackgroundCopyFiles *)iface, (IEnumBackgroundCopyFiles **)out));
}
static HRESULT WINAPI jobs_GetCount(IEnumBackgroundCopyJobs *iface, ULONG *count)
{
    TRACE_COM("(%p, %p)", iface, count);
    return com_traced(enum_GetCount((IEnumBackgroundCopyFiles *)iface, count));
}

static const IEnumBackgroundCopyJobsVtbl jobs_vtbl =
{
    jobs_QueryInterface,
    jobs_AddRef,
    jobs_Release,
    jobs_Next,
    jobs_Skip,
    jobs_Reset,
    jobs_Clone,
    jobs_GetCount,
};

/* IEnumUnknown has the same first seven slots, without GetCount. */
static HRESULT WINAPI unknowns_QueryInterface(IEnumUnknown *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    return com_traced(enum_QueryInterface((IEnumBackgroundCopyFiles *)iface, riid, out));
}
static ULONG WINAPI unknowns_AddRef(IEnumUnknown *iface)
{
    return enum_AddRef((IEnumBackgroundCopyFiles *)iface);
}
static ULONG WINAPI unknowns_Release(IEnumUnknown *iface)
{
    return enum_Release((IEnumBackgroundCopyFiles *)iface);
}
static HRESULT WINAPI unknowns_Next(IEnumUnknown *iface, ULONG count, IUnknown **items, ULONG *fetched)
{
    TRACE_COM("(%p, %lu, %p, %p)", iface, (unsigned long)count, items, fetched);
    return com_traced(enum_Next((IEnumBackgroundCopyFiles *)iface, count, (IBackgroundCopyFile **)items, fetched));
}
static HRESULT WINAPI unknowns_Skip(IEnumUnknown *iface, ULONG count)
{
    TRACE_COM("(%p, %lu)", iface, (unsigned long)count);
    return com_traced(enum_Skip((IEnumBackgroundCopyFiles *)iface, count));
}
static HRESULT WINAPI unknowns_Reset(IEnumUnknown *iface)
{
    TRACE_COM("(%p)", iface);
    return com_traced(enum_Reset((IEnumBackgroundCopyFiles *)iface));
}
static HRESULT WINAPI unknowns_Clone(IEnumUnknown *iface, IEnumUnknown **out)
{
    TRACE_COM("(%p, %p)", iface, out);
    return com_traced(enum_Clone((IEnumBackgroundCopyFiles *)iface, (IEnumBackgroundCopyFiles **)out));
}

static const IEnumUnknownVtbl unknowns_vtbl =
{
    unknowns_QueryInterface,
    unknowns_AddRef,
    unknowns_Release,
    unknowns_Next,
    unknowns_Skip,
    unknowns_Reset,
    unknowns_Clone,
};

/* Takes over one snapshot reference. */
static HRESULT enum_create(struct snapshot *snapshot, size_t position, const struct error_map *errors, void **out)
{
    struct enum_view *view;

    *out = NULL;
    if (!(view = HeapAlloc(GetProcessHeap(), 0, sizeof(*view))))
    {
        snapshot_release(snapshot);
        return E_OUTOFMEMORY;
    }
    if (snapshot->kind == ENUM_FILES) view->iface.files.lpVtbl = &files_vtbl;
    else if (snapshot->kind == ENUM_JOBS) view->iface.jobs.lpVtbl = &jobs_vtbl;
    else view->iface.downloads.lpVtbl = &unknowns_vtbl;
    view->refs = 1;
    view->snapshot = snapshot;
    view->position = position;
    view->errors = errors;
    server_object_created();
    *out = &view->iface;
    return S_OK;
}

static struct snapshot *snapshot_new(enum enum_kind kind, void **items, size_t count)
{
    struct snapshot *snapshot = malloc(sizeof(*snapshot));
    if (!snapshot) return NULL;
    snapshot->refs = 1;
    snapshot->kind = kind;
    snapshot->job = NULL;
    snapshot->items = items;
    snapshot->count = count;
    return snapshot;
}

HRESULT job_enum_create(struct dos_job **jobs, size_t count, const struct error_map *errors,
                        IEnumBackgroundCopyJobs **out)
{
    struct snapshot *snapshot = snapshot_new(ENUM_JOBS, (void **)jobs, count);

    *out = NULL;
    if (!snapshot)
    {
        dos_jobs_release(jobs, count);
        return E_OUTOFMEMORY;
    }
    return enum_create(snapshot, 0, errors, (void **)out);
}

HRESULT download_enum_create(struct dos_job **downloads, size_t count, const struct error_map *errors,
                             IEnumUnknown **out)
{
    struct snapshot *snapshot = snapshot_new(ENUM_DOWNLOADS, (void **)downloads, count);

    *out = NULL;
    if (!snapshot)
    {
        dos_jobs_release(downloads, count);
        return E_OUTOFMEMORY;
    }
    return enum_create(snapshot, 0, errors, (void **)out);
}

HRESULT file_enum_create(struct dos_job *job, const struct error_map *errors, IEnumBackgroundCopyFiles **out)
{
    struct dos_file **files;
    struct snapshot *snapshot;
    size_t count;
    dos_status s;

    *out = NULL;
    if ((s = dos_job_list_files(job, &files, &count)) != DOS_OK) return hr_from(errors, s);
    if (!(snapshot = snapshot_new(ENUM_FILES, (void **)files, count)))
    {
        free(files);
        return E_OUTOFMEMORY;
    }
    snapshot->job = job;
    dos_job_retain(job);
    return enum_create(snapshot, 0, errors, (void **)out);
}
