/*
 * IDODownload moving bytes from the loopback test server (issue 4; spec 5.7,
 * 5.10; clients.md 1.3-1.5, 2.1-2.3; docs/ido.md): each client's call
 * sequence written from its description, OnStatusChange and what a client may
 * do from inside it, blocking mode, stream sinks with ranges, pause and resume
 * with a Range request, transient and fatal errors as clients read them, the
 * Http* read-outs, and what Finalize and Abort leave on disk.
 */
#include "com_test.h"

#include <stdio.h>
#include <wininet.h>

static IDOManager *domanager;

static int setup_group(void **state)
{
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED))) return -1;
    return FAILED(dosvc_create(&IID_IDOManager, (void **)&domanager)) ? -1 : 0;
}

static int teardown_group(void **state)
{
    IDOManager_Release(domanager);
    CoUninitialize();
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------- */

static IDODownload *new_download(void)
{
    IDODownload *download = NULL;
    assert_hr(S_OK, IDOManager_CreateDownload(domanager, &download));
    return download;
}

static HRESULT try_bstr(IDODownload *download, DODownloadProperty id, const WCHAR *text)
{
    VARIANT v;
    HRESULT hr;

    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocString(text);
    hr = IDODownload_SetProperty(download, id, &v);
    VariantClear(&v);
    return hr;
}

static void set_bstr(IDODownload *download, DODownloadProperty id, const WCHAR *text)
{
    assert_hr(S_OK, try_bstr(download, id, text));
}

static void set_ui4(IDODownload *download, DODownloadProperty id, ULONG value)
{
    VARIANT v;
    V_VT(&v) = VT_UI4;
    V_UI4(&v) = value;
    assert_hr(S_OK, IDODownload_SetProperty(download, id, &v));
}

static void set_ui8(IDODownload *download, DODownloadProperty id, ULONGLONG value)
{
    VARIANT v;
    V_VT(&v) = VT_UI8;
    V_UI8(&v) = value;
    assert_hr(S_OK, IDODownload_SetProperty(download, id, &v));
}

static void set_bool(IDODownload *download, DODownloadProperty id, BOOL value)
{
    VARIANT v;
    V_VT(&v) = VT_BOOL;
    V_BOOL(&v) = value ? VARIANT_TRUE : VARIANT_FALSE;
    assert_hr(S_OK, IDODownload_SetProperty(download, id, &v));
}

static void set_unknown(IDODownload *download, DODownloadProperty id, IUnknown *value)
{
    VARIANT v;
    V_VT(&v) = VT_UNKNOWN;
    V_UNKNOWN(&v) = value;
    assert_hr(S_OK, IDODownload_SetProperty(download, id, &v));
}

static DO_DOWNLOAD_STATUS status_of(IDODownload *download)
{
    DO_DOWNLOAD_STATUS status;
    assert_hr(S_OK, IDODownload_GetStatus(download, &status));
    return status;
}

#define STATE(s) (1u << (s))

struct status_wait { IDODownload *download; unsigned states; UINT64 bytes; DO_DOWNLOAD_STATUS status; };

static BOOL in_states(void *context)
{
    struct status_wait *w = context;
    return (w->states & STATE((w->status = status_of(w->download)).State)) != 0;
}

/* Polls GetStatus (as the DO SDK does) until the state is one of states or timeout_ms passes. */
static DO_DOWNLOAD_STATUS wait_for(IDODownload *download, unsigned states, DWORD timeout_ms)
{
    struct status_wait w = { .download = download, .states = states };
    dosvc_wait(in_states, &w, timeout_ms);
    return w.status;
}

static BOOL has_bytes(void *context)
{
    struct status_wait *w = context;
    return (w->status = status_of(w->download)).BytesTransferred >= w->bytes;
}

/* Polls GetStatus until at least bytes have been transferred; the count reached. */
static UINT64 wait_for_bytes(IDODownload *download, UINT64 bytes, DWORD timeout_ms)
{
    struct status_wait w = { .download = download, .bytes = bytes };
    dosvc_wait(has_bytes, &w, timeout_ms);
    return w.status.BytesTransferred;
}

/* A download of path into the test folder's name, made the way every client begins. */
static IDODownload *download_to(const WCHAR *path, const WCHAR *name)
{
    IDODownload *download = new_download();
    DeleteFileW(dosvc_test_path(name));
    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, path));
    set_bstr(download, DODownloadProperty_LocalPath, dosvc_test_path(name));
    return download;
}

/* dosvc's temporary files (DOSVC_TEMP_PATTERN) left in folder. */
static unsigned temp_files_in(const WCHAR *folder)
{
    WIN32_FIND_DATAW data;
    WCHAR pattern[MAX_PATH];
    unsigned count = 0;
    HANDLE find;

    wsprintfW(pattern, L"%s\\" DOSVC_TEMP_PATTERN, folder);
    if ((find = FindFirstFileW(pattern, &data)) == INVALID_HANDLE_VALUE) return 0;
    do count++; while (FindNextFileW(find, &data));
    FindClose(find);
    return count;
}


/* ---- a client callback that records and can act from inside ------------------------------ */

struct recorder
{
    IDODownloadStatusCallback IDODownloadStatusCallback_iface;
    LONG refs;
    LONG calls, transferring_calls;
    unsigned seen;                       /* STATE() bits of every state told */
    DO_DOWNLOAD_STATUS last;
    HRESULT failed_error;                /* the first failed Error told */
    BOOL finalize_on_transferred, pause_on_transferring, abort_on_transferring;
    HRESULT inside_result;
    HANDLE event;                        /* set on Transferred, Finalized, Aborted, or a failed Error */
    DWORD thread;
};

static struct recorder *impl_from(IDODownloadStatusCallback *iface)
{
    return CONTAINING_RECORD(iface, struct recorder, IDODownloadStatusCallback_iface);
}

static HRESULT WINAPI rec_QueryInterface(IDODownloadStatusCallback *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDODownloadStatusCallback))
    {
        *out = iface;
        IDODownloadStatusCallback_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI rec_AddRef(IDODownloadStatusCallback *iface) { return InterlockedIncrement(&impl_from(iface)->refs); }
static ULONG WINAPI rec_Release(IDODownloadStatusCallback *iface) { return InterlockedDecrement(&impl_from(iface)->refs); }

static HRESULT WINAPI rec_OnStatusChange(IDODownloadStatusCallback *iface, IDODownload *download,
                                         const DO_DOWNLOAD_STATUS *status)
{
    struct recorder *r = impl_from(iface);

    r->thread = GetCurrentThreadId();
    r->last = *status;
    r->seen |= STATE(status->State);
    if (FAILED(status->Error) && SUCCEEDED(r->failed_error)) r->failed_error = status->Error;
    if (status->State == DODownloadState_Transferring)
    {
        InterlockedIncrement(&r->transferring_calls);
        if (r->pause_on_transferring) r->inside_result = IDODownload_Pause(download), r->pause_on_transferring = FALSE;
        if (r->abort_on_transferring) r->inside_result = IDODownload_Abort(download), r->abort_on_transferring = FALSE;
    }
    if (status->State == DODownloadState_Transferred && r->finalize_on_transferred)
        r->inside_result = IDODownload_Finalize(download);     /* GetStoreApp does this (clients.md 2.3) */
    InterlockedIncrement(&r->calls);
    if (status->State == DODownloadState_Transferred || status->State == DODownloadState_Finalized
        || status->State == DODownloadState_Aborted || FAILED(status->Error))
        SetEvent(r->event);
    return S_OK;
}

static const IDODownloadStatusCallbackVtbl rec_vtbl = { rec_QueryInterface, rec_AddRef, rec_Release, rec_OnStatusChange };

/* Recorders are static in each test: a late callback must never reach a dead frame. */
static IUnknown *recorder_init(struct recorder *r)
{
    memset(r, 0, sizeof(*r));
    r->IDODownloadStatusCallback_iface.lpVtbl = &rec_vtbl;
    r->refs = 1;
    r->event = CreateEventW(NULL, TRUE, FALSE, NULL);
    return (IUnknown *)&r->IDODownloadStatusCallback_iface;
}

struct seen_wait { struct recorder *r; unsigned states; };

static BOOL all_seen(void *context)
{
    struct seen_wait *w = context;
    return (w->r->seen & w->states) == w->states;
}

/* Waits for the recorder to have seen all of states. */
static BOOL wait_seen(struct recorder *r, unsigned states, DWORD timeout_ms)
{
    struct seen_wait w = { .r = r, .states = states };
    return dosvc_wait(all_seen, &w, timeout_ms);
}

/* ---- a stream sink: a growing buffer that only implements Write (as the DO SDK's) ------------ */

struct sink
{
    IStream IStream_iface;
    LONG refs;
    BYTE *data;
    ULONG size, capacity;
    LONG writes;
    BOOL silent;                         /* never says how much it took, like the DO SDK's stream */
    IDODownload *abort_from_write;       /* Write calls Abort on this download, once */
    HRESULT abort_result;
};

static struct sink *sink_from(IStream *iface) { return CONTAINING_RECORD(iface, struct sink, IStream_iface); }

static HRESULT WINAPI sink_QueryInterface(IStream *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_ISequentialStream) || IsEqualIID(riid, &IID_IStream))
    {
        *out = iface;
        IStream_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}
static ULONG WINAPI sink_AddRef(IStream *iface) { return InterlockedIncrement(&sink_from(iface)->refs); }
static ULONG WINAPI sink_Release(IStream *iface) { return InterlockedDecrement(&sink_from(iface)->refs); }
static HRESULT WINAPI sink_Read(IStream *iface, void *pv, ULONG cb, ULONG *read) { return E_NOTIMPL; }
static HRESULT WINAPI sink_Write(IStream *iface, const void *pv, ULONG cb, ULONG *written)
{
    struct sink *s = sink_from(iface);
    if (s->size + cb > s->capacity)
    {
        while (s->size + cb > s->capacity) s->capacity = s->capacity ? s->capacity * 2 : 65536;
        s->data = realloc(s->data, s->capacity);
    }
    memcpy(s->data + s->size, pv, cb);
    s->size += cb;
    InterlockedIncrement(&s->writes);
    if (written && !s->silent) *written = cb;
    if (s->abort_from_write)
    {
        IDODownload *download = s->abort_from_write;
        s->abort_from_write = NULL;
        s->abort_result = IDODownload_Abort(download);
    }
    return S_OK;
}
static HRESULT WINAPI sink_Seek(IStream *iface, LARGE_INTEGER move, DWORD origin, ULARGE_INTEGER *pos) { return E_NOTIMPL; }
static HRESULT WINAPI sink_SetSize(IStream *iface, ULARGE_INTEGER size) { return E_NOTIMPL; }
static HRESULT WINAPI sink_CopyTo(IStream *iface, IStream *to, ULARGE_INTEGER cb, ULARGE_INTEGER *read, ULARGE_INTEGER *written) { return E_NOTIMPL; }
static HRESULT WINAPI sink_Commit(IStream *iface, DWORD flags) { return E_NOTIMPL; }
static HRESULT WINAPI sink_Revert(IStream *iface) { return E_NOTIMPL; }
static HRESULT WINAPI sink_LockRegion(IStream *iface, ULARGE_INTEGER offset, ULARGE_INTEGER cb, DWORD type) { return E_NOTIMPL; }
static HRESULT WINAPI sink_UnlockRegion(IStream *iface, ULARGE_INTEGER offset, ULARGE_INTEGER cb, DWORD type) { return E_NOTIMPL; }
static HRESULT WINAPI sink_Stat(IStream *iface, STATSTG *stat, DWORD flag) { return E_NOTIMPL; }
static HRESULT WINAPI sink_Clone(IStream *iface, IStream **out) { return E_NOTIMPL; }

static const IStreamVtbl sink_vtbl =
{
    sink_QueryInterface, sink_AddRef, sink_Release, sink_Read, sink_Write, sink_Seek, sink_SetSize, sink_CopyTo,
    sink_Commit, sink_Revert, sink_LockRegion, sink_UnlockRegion, sink_Stat, sink_Clone,
};

static IUnknown *sink_init(struct sink *s)
{
    free(s->data);
    memset(s, 0, sizeof(*s));
    s->IStream_iface.lpVtbl = &sink_vtbl;
    s->refs = 1;
    return (IUnknown *)&s->IStream_iface;
}

/* ---- clients.md 1.3: the DO SDK -------------------------------------------------------------- */

/* CreateDownload, blanket, Uri, LocalPath, callback, Start({RangeCount 0}), poll GetStatus,
 * Finalize on Transferred; the file is there only after Finalize (clients.md 1.4). */
static void test_do_sdk_sequence_downloads_and_the_file_appears_on_finalize(void **state)
{
    static struct recorder r;
    DO_DOWNLOAD_RANGES_INFO whole = { 0 };
    IDODownload *download = new_download();
    const WCHAR *local = dosvc_test_path(L"sdk.bin");
    DO_DOWNLOAD_STATUS status;

    DeleteFileW(local);
    assert_hr(S_OK, CoSetProxyBlanket((IUnknown *)download, RPC_C_AUTHN_DEFAULT, RPC_C_AUTHZ_NONE, COLE_DEFAULT_PRINCIPAL,
                                      RPC_C_AUTHN_LEVEL_DEFAULT, RPC_C_IMP_LEVEL_IMPERSONATE, NULL, EOAC_STATIC_CLOAKING));
    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/3m?seed=sdk"));
    set_bstr(download, DODownloadProperty_LocalPath, local);
    set_unknown(download, DODownloadProperty_CallbackInterface, recorder_init(&r));
    assert_hr(S_OK, IDODownload_Start(download, &whole));
    status = wait_for(download, STATE(DODownloadState_Transferred) | STATE(DODownloadState_Paused), 30000);
    assert_int_equal(status.State, DODownloadState_Transferred);
    assert_true(status.BytesTotal == 3 << 20 && status.BytesTransferred == 3 << 20);
    assert_false(dosvc_file_exists(local));
    assert_hr(S_OK, IDODownload_Finalize(download));
    assert_int_equal(status_of(download).State, DODownloadState_Finalized);
    dosvc_assert_file_is(local, L"/gen/3m?seed=sdk");
    assert_int_equal(temp_files_in(dosvc_test_dir()), 0);
    /* Finalize is final (clients.md 1.4). */
    assert_hr(DO_E_INVALID_STATE, IDODownload_Start(download, NULL));
    assert_hr(DO_E_INVALID_STATE, IDODownload_Abort(download));
    assert_true(wait_seen(&r, STATE(DODownloadState_Transferring) | STATE(DODownloadState_Transferred)
                                  | STATE(DODownloadState_Finalized), 5000));
    IDODownload_Release(download);
    DeleteFileW(local);
}

/* clients.md 1.4: 404 is HTTP_E_STATUS_NOT_FOUND in Error, and no file is left behind. */
static void test_not_found_is_a_fatal_error_and_leaves_no_file(void **state)
{
    IDODownload *download = download_to(L"/missing-file.bin", L"missing.bin");
    DO_DOWNLOAD_STATUS status;
    VARIANT v;

    assert_hr(S_OK, IDODownload_Start(download, NULL));
    status = wait_for(download, STATE(DODownloadState_Paused), 30000);
    assert_int_equal(status.State, DODownloadState_Paused);
    assert_hr(0x80190194, status.Error);
    assert_hr(S_OK, status.ExtendedError);
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_HttpStatusCode, &v));
    assert_int_equal(V_UI4(&v), 404);
    assert_hr(S_OK, IDODownload_Abort(download));
    assert_false(dosvc_file_exists(dosvc_test_path(L"missing.bin")));
    assert_int_equal(temp_files_in(dosvc_test_dir()), 0);
    IDODownload_Release(download);
}

/* clients.md 0.3: a transient condition is Paused with Error S_OK and the cause in ExtendedError;
 * the download goes on by itself once the server answers. */
static void test_transient_error_is_paused_with_extended_error_then_completes(void **state)
{
    static struct recorder r;
    IDODownload *download = download_to(L"/gen/64k?seed=transient&fault=503&times=1&key=ido-transient", L"transient.bin");
    DO_DOWNLOAD_STATUS status;

    set_unknown(download, DODownloadProperty_CallbackInterface, recorder_init(&r));
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    status = wait_for(download, STATE(DODownloadState_Paused) | STATE(DODownloadState_Transferred), 30000);
    assert_int_equal(status.State, DODownloadState_Paused);
    assert_hr(S_OK, status.Error);
    assert_hr(0x801901F7, status.ExtendedError);
    status = wait_for(download, STATE(DODownloadState_Transferred), 30000);
    assert_int_equal(status.State, DODownloadState_Transferred);
    assert_hr(S_OK, status.ExtendedError);
    assert_hr(S_OK, r.failed_error);                 /* never told as a failure */
    assert_hr(S_OK, IDODownload_Finalize(download));
    dosvc_assert_file_is(dosvc_test_path(L"transient.bin"), L"/gen/64k?seed=transient");
    IDODownload_Release(download);
}

/* Pause, then Start(NULL) resumes with a Range request from the bytes already there. */
static void test_resume_after_pause_asks_for_the_rest_with_a_range(void **state)
{
    IDODownload *download = download_to(L"/gen/1m?seed=resume&marker=ido-resume&fault=stall&after=262144&seconds=20&times=1&key=ido-resume",
                                        L"resume.bin");
    DO_DOWNLOAD_STATUS status;
    char *log, range[64];

    assert_hr(S_OK, IDODownload_Start(download, NULL));
    /* Some bytes arrive, then the server stalls: pause there. */
    assert_true(wait_for_bytes(download, 262144, 20000) == 262144);
    assert_hr(S_OK, IDODownload_Pause(download));
    status = status_of(download);
    assert_int_equal(status.State, DODownloadState_Paused);
    assert_hr(S_OK, status.Error);
    assert_hr(S_OK, status.ExtendedError);
    assert_true(status.BytesTransferred >= 65536 && status.BytesTransferred <= 262144);
    sprintf(range, "\"range\": \"bytes=%llu-", (unsigned long long)status.BytesTransferred);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    status = wait_for(download, STATE(DODownloadState_Transferred), 30000);
    assert_int_equal(status.State, DODownloadState_Transferred);
    log = dosvc_server_log(L"ido-resume");
    assert_non_null(strstr(log, range));
    free(log);
    assert_hr(S_OK, IDODownload_Finalize(download));
    dosvc_assert_file_is(dosvc_test_path(L"resume.bin"), L"/gen/1m?seed=resume&marker=ido-resume");
    IDODownload_Release(download);
}

/* clients.md 1.4: a second download to the same path as a paused one succeeds, and the first
 * is aborted, its temporary file gone. */
static void test_second_download_to_the_path_of_a_paused_one_aborts_the_first(void **state)
{
    IDODownload *first = download_to(L"/gen/1m?seed=first&fault=drip&rate=100000", L"same-path.bin");
    IDODownload *second = download_to(L"/gen/64k?seed=second", L"same-path.bin");
    DO_DOWNLOAD_STATUS status;

    assert_hr(S_OK, IDODownload_Start(first, NULL));
    assert_true(wait_for_bytes(first, 1, 10000) > 0);
    assert_hr(S_OK, IDODownload_Pause(first));
    assert_hr(S_OK, IDODownload_Start(second, NULL));
    status = status_of(first);
    assert_int_equal(status.State, DODownloadState_Aborted);
    assert_int_equal(wait_for(second, STATE(DODownloadState_Transferred), 10000).State, DODownloadState_Transferred);
    assert_hr(S_OK, IDODownload_Finalize(second));
    dosvc_assert_file_is(dosvc_test_path(L"same-path.bin"), L"/gen/64k?seed=second");
    assert_int_equal(temp_files_in(dosvc_test_dir()), 0);
    assert_hr(DO_E_INVALID_STATE, IDODownload_Start(first, NULL));
    IDODownload_Release(first);
    IDODownload_Release(second);
    DeleteFileW(dosvc_test_path(L"same-path.bin"));
}

/* ---- clients.md 2.1: winget ----------------------------------------------------------------------- */

/* Deletes the target, sets Uri, ForegroundPriority, LocalPath, callback, DisplayName, ContentId;
 * Start({RangeCount 0}); waits only on OnStatusChange; Finalize. */
static void test_winget_sequence_is_driven_by_callbacks_alone(void **state)
{
    static struct recorder r;
    DO_DOWNLOAD_RANGES_INFO whole = { 0 };
    IDODownload *download = new_download();
    const WCHAR *local = dosvc_test_path(L"winget.bin");

    DeleteFileW(local);
    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/2m?seed=winget"));
    set_bool(download, DODownloadProperty_ForegroundPriority, TRUE);
    set_bstr(download, DODownloadProperty_LocalPath, local);
    set_unknown(download, DODownloadProperty_CallbackInterface, recorder_init(&r));
    set_bstr(download, DODownloadProperty_DisplayName, L"winget installer");
    set_bstr(download, DODownloadProperty_ContentId, L"winget-content");
    assert_hr(S_OK, IDODownload_Start(download, &whole));
    assert_true(dosvc_wait_handle(r.event, 30000));
    assert_hr(S_OK, r.failed_error);
    assert_int_equal(r.last.State, DODownloadState_Transferred);
    assert_true(r.last.BytesTransferred == 2 << 20 && r.last.BytesTotal == 2 << 20);
    assert_true(r.seen & STATE(DODownloadState_Transferring));
    assert_hr(S_OK, IDODownload_Finalize(download));
    dosvc_assert_file_is(local, L"/gen/2m?seed=winget");
    IDODownload_Release(download);
}

/* winget gives up on any failed Error: a fatal error must be told through the callback. */
static void test_fatal_error_is_told_to_the_callback(void **state)
{
    static struct recorder r;
    IDODownload *download = download_to(L"/gen/1k?seed=forbidden&fault=403", L"forbidden.bin");

    set_unknown(download, DODownloadProperty_CallbackInterface, recorder_init(&r));
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_true(dosvc_wait_handle(r.event, 30000));
    assert_hr(0x80190193, r.failed_error);
    assert_int_equal(r.last.State, DODownloadState_Paused);
    assert_hr(S_OK, IDODownload_Abort(download));
    IDODownload_Release(download);
}

/* ---- clients.md 2.2: System Informer ----------------------------------------------------------- */

/* System Informer waits on its event 200 ms at a time, polling its cancel flag between. */
static BOOL set_within_a_slice(void *event)
{
    return WaitForSingleObject(event, 200) == WAIT_OBJECT_0;
}

/* QI IClientSecurity and SetBlanket; Uri, LocalPath, DisplayName, ForegroundPriority, callback;
 * Start(NULL) as the first start; an event from the callback; Finalize. */
static void test_system_informer_sequence_starts_with_null_ranges(void **state)
{
    static struct recorder r;
    IDODownload *download = new_download();
    const WCHAR *local = dosvc_test_path(L"informer.bin");
    IClientSecurity *security = dosvc_query(download, &IID_IClientSecurity);

    assert_hr(S_OK, IClientSecurity_SetBlanket(security, (IUnknown *)download, RPC_C_AUTHN_DEFAULT, RPC_C_AUTHZ_NONE,
                                               NULL, RPC_C_AUTHN_LEVEL_DEFAULT, RPC_C_IMP_LEVEL_IMPERSONATE, NULL, EOAC_NONE));
    IClientSecurity_Release(security);
    DeleteFileW(local);
    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/1m?seed=informer"));
    set_bstr(download, DODownloadProperty_LocalPath, local);
    set_bstr(download, DODownloadProperty_DisplayName, L"System Informer");
    set_bool(download, DODownloadProperty_ForegroundPriority, TRUE);
    set_unknown(download, DODownloadProperty_CallbackInterface, recorder_init(&r));
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_true(dosvc_wait(set_within_a_slice, r.event, 30000));
    assert_int_equal(r.last.State, DODownloadState_Transferred);
    assert_hr(S_OK, IDODownload_Finalize(download));
    dosvc_assert_file_is(local, L"/gen/1m?seed=informer");
    IDODownload_Release(download);
}

/* ---- clients.md 2.3: GetStoreApp ------------------------------------------------------------------- */

/* DisplayName, Uri, LocalPath, Id as its key, callback, ForegroundPriority, Start(NULL), Pause,
 * Start(NULL) again, and Finalize from inside OnStatusChange. */
static void test_getstoreapp_sequence_finalizes_from_inside_the_callback(void **state)
{
    static struct recorder r;
    IDODownload *download = new_download();
    const WCHAR *local = dosvc_test_path(L"store-app.bin");
    IEnumUnknown *found;
    DO_DOWNLOAD_ENUM_CATEGORY by_id = { DODownloadProperty_Id };
    VARIANT id;

    DeleteFileW(local);
    CoSetProxyBlanket((IUnknown *)download, RPC_C_AUTHN_DEFAULT, RPC_C_AUTHZ_NONE, NULL, RPC_C_AUTHN_LEVEL_DEFAULT,
                      RPC_C_IMP_LEVEL_IMPERSONATE, NULL, EOAC_NONE);
    set_bstr(download, DODownloadProperty_DisplayName, L"store app");
    set_bstr(download, DODownloadProperty_Uri,
             dosvc_server_url(FALSE, L"/gen/2m?seed=storeapp&fault=stall&after=65536&seconds=3&times=1&key=ido-storeapp"));
    set_bstr(download, DODownloadProperty_LocalPath, local);
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_Id, &id));
    recorder_init(&r);
    r.finalize_on_transferred = TRUE;
    set_unknown(download, DODownloadProperty_CallbackInterface, (IUnknown *)&r.IDODownloadStatusCallback_iface);
    set_bool(download, DODownloadProperty_ForegroundPriority, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    /* Paused once bytes have come (the server stalls after 64 KiB), then resumed from there. */
    assert_true(wait_for_bytes(download, 65536, 10000) == 65536);
    assert_hr(S_OK, IDODownload_Pause(download));
    assert_int_equal(status_of(download).BytesTransferred, 65536);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_true(wait_seen(&r, STATE(DODownloadState_Finalized), 30000));
    assert_hr(S_OK, r.inside_result);
    dosvc_assert_file_is(local, L"/gen/2m?seed=storeapp");
    /* The key it kept no longer finds a finalized download. */
    by_id.Value = V_BSTR(&id);
    assert_hr(DO_E_NO_DOWNLOADS, IDOManager_EnumDownloads(domanager, &by_id, &found));
    VariantClear(&id);
    IDODownload_Release(download);
}

/* ---- callbacks ------------------------------------------------------------------------------------- */

/* The DO SDK's test pauses from inside OnStatusChange (clients.md 0.5). */
static void test_pause_from_inside_the_callback(void **state)
{
    static struct recorder r;
    IDODownload *download = download_to(L"/gen/8m?seed=pause-inside&fault=drip&rate=1048576", L"pause-inside.bin");
    DO_DOWNLOAD_STATUS status;

    recorder_init(&r);
    r.pause_on_transferring = TRUE;
    set_unknown(download, DODownloadProperty_CallbackInterface, (IUnknown *)&r.IDODownloadStatusCallback_iface);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_true(wait_seen(&r, STATE(DODownloadState_Paused), 10000));
    assert_hr(S_OK, r.inside_result);
    status = status_of(download);
    assert_int_equal(status.State, DODownloadState_Paused);
    assert_hr(S_OK, status.Error);
    assert_hr(S_OK, IDODownload_Abort(download));
    IDODownload_Release(download);
}

static void test_abort_from_inside_the_callback(void **state)
{
    static struct recorder r;
    IDODownload *download = download_to(L"/gen/8m?seed=abort-inside&fault=drip&rate=1048576", L"abort-inside.bin");

    recorder_init(&r);
    r.abort_on_transferring = TRUE;
    set_unknown(download, DODownloadProperty_CallbackInterface, (IUnknown *)&r.IDODownloadStatusCallback_iface);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_true(wait_seen(&r, STATE(DODownloadState_Aborted), 10000));
    assert_hr(S_OK, r.inside_result);
    assert_int_equal(status_of(download).State, DODownloadState_Aborted);
    assert_false(dosvc_file_exists(dosvc_test_path(L"abort-inside.bin")));
    IDODownload_Release(download);
}

/* OnStatusChange runs on the notifier's thread, never the caller's. */
static void test_callbacks_arrive_on_another_thread(void **state)
{
    static struct recorder r;
    IDODownload *download = download_to(L"/gen/16k?seed=thread", L"thread.bin");

    set_unknown(download, DODownloadProperty_CallbackInterface, recorder_init(&r));
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_true(dosvc_wait_handle(r.event, 30000));
    assert_int_not_equal(r.thread, GetCurrentThreadId());
    assert_hr(S_OK, IDODownload_Finalize(download));
    IDODownload_Release(download);
}

static void test_a_second_callback_replaces_the_first(void **state)
{
    static struct recorder first, second;
    IDODownload *download = download_to(L"/gen/1m?seed=second-callback", L"second-callback.bin");

    set_unknown(download, DODownloadProperty_CallbackInterface, recorder_init(&first));
    set_unknown(download, DODownloadProperty_CallbackInterface, recorder_init(&second));
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_true(dosvc_wait_handle(second.event, 30000));
    assert_int_equal(first.calls, 0);
    assert_int_equal(first.refs, 1);
    assert_hr(S_OK, IDODownload_Finalize(download));
    IDODownload_Release(download);
}

/* Once told of Finalized, the callback is let go while the client still holds the download:
 * a callback that holds its download (as C# wrappers do) would otherwise keep both alive. */
static void test_callback_is_released_once_told_of_finalized(void **state)
{
    static struct recorder r;
    IDODownload *download = download_to(L"/gen/16k?seed=release-callback", L"release-callback.bin");

    set_unknown(download, DODownloadProperty_CallbackInterface, recorder_init(&r));
    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_true(r.refs > 1);
    assert_hr(S_OK, IDODownload_Finalize(download));
    assert_true(wait_seen(&r, STATE(DODownloadState_Finalized), 10000));
    assert_true(dosvc_wait_for_refs(&r.refs, 1, 10000));
    IDODownload_Release(download);
    DeleteFileW(dosvc_test_path(L"release-callback.bin"));
}

/* CallbackFreqPercent 25 tells progress about every quarter, not on every write. */
static void test_callback_frequency_percent_spaces_progress_callbacks(void **state)
{
    static struct recorder r;
    IDODownload *download = download_to(L"/gen/4m?seed=percent&fault=drip&rate=4194304", L"percent.bin");

    set_ui4(download, DODownloadProperty_CallbackFreqPercent, 25);
    set_unknown(download, DODownloadProperty_CallbackInterface, recorder_init(&r));
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_true(dosvc_wait_handle(r.event, 30000));
    assert_int_equal(r.last.State, DODownloadState_Transferred);
    /* the state change to Transferring, then about one per quarter */
    assert_in_range(r.transferring_calls, 2, 6);
    assert_hr(S_OK, IDODownload_Finalize(download));
    IDODownload_Release(download);
}

/* CallbackFreqSeconds 2: progress is told about every two seconds, not on every write. */
static void test_callback_frequency_seconds_spaces_progress_callbacks(void **state)
{
    static struct recorder r;
    IDODownload *download = download_to(L"/gen/600k?seed=seconds&fault=drip&rate=100000", L"seconds.bin");
    ULONGLONG start;
    DWORD ms;

    set_ui4(download, DODownloadProperty_CallbackFreqSeconds, 2);
    set_unknown(download, DODownloadProperty_CallbackInterface, recorder_init(&r));
    start = GetTickCount64();
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_true(dosvc_wait_handle(r.event, 30000));
    ms = (DWORD)(GetTickCount64() - start);
    assert_int_equal(r.last.State, DODownloadState_Transferred);
    /* About six seconds of progress (the server's drip): the change to Transferring, then one
     * every two seconds of however long it took, and one for a part of two seconds. */
    print_message("%ld Transferring callbacks in %lu ms\n", r.transferring_calls, ms);
    assert_in_range(r.transferring_calls, 2, 2 + ms / 2000);
    assert_hr(S_OK, IDODownload_Finalize(download));
    IDODownload_Release(download);
}

/* clients.md 1.4: a foreground download is not slowed by background ones; it starts while two
 * background downloads take every background slot. */
static void test_foreground_download_starts_while_two_background_downloads_transfer(void **state)
{
    IDODownload *background[2], *waiting, *foreground;

    /* The background downloads drip for a minute, longer than any wait here; they are aborted. */
    background[0] = download_to(L"/gen/6m?seed=bg0&fault=drip&rate=100000", L"bg0.bin");
    background[1] = download_to(L"/gen/6m?seed=bg1&fault=drip&rate=100000", L"bg1.bin");
    waiting = download_to(L"/gen/64k?seed=bg2", L"bg2.bin");
    foreground = download_to(L"/gen/64k?seed=fg", L"fg.bin");
    assert_hr(S_OK, IDODownload_Start(background[0], NULL));
    assert_hr(S_OK, IDODownload_Start(background[1], NULL));
    assert_true(wait_for_bytes(background[0], 1, 10000) > 0);
    assert_true(wait_for_bytes(background[1], 1, 10000) > 0);
    assert_hr(S_OK, IDODownload_Start(waiting, NULL));
    set_bool(foreground, DODownloadProperty_ForegroundPriority, TRUE);
    assert_hr(S_OK, IDODownload_Start(foreground, NULL));
    assert_int_equal(wait_for(foreground, STATE(DODownloadState_Transferred), 10000).State, DODownloadState_Transferred);
    /* The third background download waits for a slot meanwhile. */
    assert_int_equal(status_of(waiting).BytesTransferred, 0);
    assert_hr(S_OK, IDODownload_Abort(background[0]));
    assert_hr(S_OK, IDODownload_Abort(background[1]));
    assert_int_equal(wait_for(waiting, STATE(DODownloadState_Transferred), 10000).State, DODownloadState_Transferred);
    assert_hr(S_OK, IDODownload_Finalize(waiting));
    assert_hr(S_OK, IDODownload_Finalize(foreground));
    DeleteFileW(dosvc_test_path(L"bg2.bin"));
    DeleteFileW(dosvc_test_path(L"fg.bin"));
    IDODownload_Release(background[0]);
    IDODownload_Release(background[1]);
    IDODownload_Release(waiting);
    IDODownload_Release(foreground);
}

/* TotalSizeBytes gives a file download its BytesTotal before the server has said anything. */
static void test_total_size_bytes_is_the_total_of_a_file_download_before_it_starts(void **state)
{
    IDODownload *download = download_to(L"/gen/64k?seed=total", L"total.bin");

    set_ui8(download, DODownloadProperty_TotalSizeBytes, 65536);
    assert_true(status_of(download).BytesTotal == 65536);
    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_int_equal(status_of(download).State, DODownloadState_Transferred);
    assert_true(status_of(download).BytesTransferred == 65536);
    assert_hr(S_OK, IDODownload_Finalize(download));
    dosvc_assert_file_is(dosvc_test_path(L"total.bin"), L"/gen/64k?seed=total");
    IDODownload_Release(download);
    DeleteFileW(dosvc_test_path(L"total.bin"));
}

/* ---- blocking mode ------------------------------------------------------------------------------- */

static void test_blocking_start_returns_when_the_download_ends(void **state)
{
    IDODownload *download = download_to(L"/gen/2m?seed=blocking&fault=drip&rate=4194304", L"blocking.bin");

    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_int_equal(status_of(download).State, DODownloadState_Transferred);
    assert_hr(S_OK, IDODownload_Finalize(download));
    dosvc_assert_file_is(dosvc_test_path(L"blocking.bin"), L"/gen/2m?seed=blocking");
    IDODownload_Release(download);
}

static void test_blocking_start_returns_on_a_fatal_error(void **state)
{
    IDODownload *download = download_to(L"/gen/1k?seed=blocking-404&fault=404", L"blocking-404.bin");
    DO_DOWNLOAD_STATUS status;

    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    status = status_of(download);
    assert_int_equal(status.State, DODownloadState_Paused);
    assert_hr(0x80190194, status.Error);
    IDODownload_Abort(download);
    IDODownload_Release(download);
}

/* ---- stream sinks (spec 5.7) ---------------------------------------------------------------------- */

/* clients.md 1.4: ranges {0,100},{200,1000} deliver exactly 1100 bytes, in order. */
static void test_stream_sink_receives_the_ranges_in_order(void **state)
{
    static struct sink s;
    struct { UINT RangeCount; DO_DOWNLOAD_RANGE Ranges[2]; } ranges = { 2, { { 0, 100 }, { 200, 1000 } } };
    IDODownload *download = new_download();
    DO_DOWNLOAD_STATUS status;
    DWORD size;
    char *whole = dosvc_server_get(L"/gen/64k?seed=stream", &size);

    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/64k?seed=stream"));
    set_unknown(download, DODownloadProperty_StreamInterface, sink_init(&s));
    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, (DO_DOWNLOAD_RANGES_INFO *)&ranges));
    status = status_of(download);
    assert_int_equal(status.State, DODownloadState_Transferred);
    assert_true(status.BytesTotal == 1100 && status.BytesTransferred == 1100);
    assert_int_equal(s.size, 1100);
    assert_memory_equal(s.data, whole, 100);
    assert_memory_equal(s.data + 100, whole + 200, 1000);
    /* A transferred stream download takes other ranges in a new Start. */
    ranges.RangeCount = 1;
    ranges.Ranges[0].Offset = 60000;
    ranges.Ranges[0].Length = DO_LENGTH_TO_EOF;
    assert_hr(S_OK, IDODownload_Start(download, (DO_DOWNLOAD_RANGES_INFO *)&ranges));
    assert_int_equal(status_of(download).State, DODownloadState_Transferred);
    assert_int_equal(s.size, 1100 + 65536 - 60000);
    assert_memory_equal(s.data + 1100, whole + 60000, 65536 - 60000);
    assert_hr(S_OK, IDODownload_Finalize(download));
    assert_int_equal(temp_files_in(dosvc_test_dir()), 0);
    IDODownload_Release(download);
    free(whole);
}

/* clients.md 1.3: the whole file as {0, DO_LENGTH_TO_EOF}; with TotalSizeBytes known at once. */
static void test_stream_sink_receives_the_whole_file_as_one_range(void **state)
{
    static struct sink s;
    DO_DOWNLOAD_RANGES_INFO whole = { 1, { { 0, DO_LENGTH_TO_EOF } } };
    IDODownload *download = new_download();
    DO_DOWNLOAD_STATUS status;
    DWORD size;
    char *expected = dosvc_server_get(L"/gen/300k?seed=stream-whole", &size);

    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/300k?seed=stream-whole"));
    set_unknown(download, DODownloadProperty_StreamInterface, sink_init(&s));
    set_ui8(download, DODownloadProperty_TotalSizeBytes, 300 << 10);
    assert_true(status_of(download).BytesTotal == 300 << 10);
    assert_hr(S_OK, IDODownload_Start(download, &whole));
    status = wait_for(download, STATE(DODownloadState_Transferred) | STATE(DODownloadState_Paused), 30000);
    assert_int_equal(status.State, DODownloadState_Transferred);
    assert_int_equal(s.size, size);
    assert_memory_equal(s.data, expected, size);
    IDODownload_Finalize(download);
    IDODownload_Release(download);
    free(expected);
}

/* S_OK from Write means every byte was taken; the DO SDK's stream leaves pcbWritten alone. */
static void test_stream_that_does_not_count_what_it_took_receives_the_file(void **state)
{
    static struct sink s;
    DO_DOWNLOAD_RANGES_INFO whole = { 1, { { 0, DO_LENGTH_TO_EOF } } };
    IDODownload *download = new_download();
    DWORD size;
    char *expected = dosvc_server_get(L"/gen/64k?seed=silent", &size);

    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/64k?seed=silent"));
    set_unknown(download, DODownloadProperty_StreamInterface, sink_init(&s));
    s.silent = TRUE;
    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, &whole));
    assert_int_equal(status_of(download).State, DODownloadState_Transferred);
    assert_int_equal(s.size, size);
    assert_memory_equal(s.data, expected, size);
    assert_hr(S_OK, IDODownload_Finalize(download));
    IDODownload_Release(download);
    free(expected);
}

/* Paused and started again many times, a stream still receives every byte exactly once. A
 * local source copies in large pieces, so Pause often comes while one is being written. */
static void test_stream_paused_and_resumed_receives_each_byte_once(void **state)
{
    static struct sink s;
    DO_DOWNLOAD_RANGES_INFO whole = { 1, { { 0, DO_LENGTH_TO_EOF } } };
    const DWORD size = 64 << 20;
    const WCHAR *source = dosvc_test_path(L"stream-source.bin");
    IDODownload *download = new_download();
    BYTE *expected = malloc(size);
    DWORD i, written;
    HANDLE file;

    assert_non_null(expected);
    for (i = 0; i < size; i++) expected[i] = (BYTE)(i * 2654435761u >> 24);
    file = CreateFileW(source, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    assert_true(WriteFile(file, expected, size, &written, NULL) && written == size);
    CloseHandle(file);
    set_bstr(download, DODownloadProperty_Uri, source);
    set_unknown(download, DODownloadProperty_StreamInterface, sink_init(&s));
    assert_hr(S_OK, IDODownload_Start(download, &whole));
    for (i = 0; i < 1000 && status_of(download).State != DODownloadState_Transferred; i++)
    {
        /* Pause as soon as bytes move: the next piece is then on its way to the stream. (Bytes
         * that do not move in time are paused all the same: what is checked holds either way.) */
        wait_for_bytes(download, status_of(download).BytesTransferred + 1, 2000);
        assert_hr(S_OK, IDODownload_Pause(download));
        assert_hr(S_OK, IDODownload_Start(download, NULL));
    }
    assert_int_equal(wait_for(download, STATE(DODownloadState_Transferred), 30000).State, DODownloadState_Transferred);
    print_message("%lu pauses\n", i);
    assert_int_equal(s.size, size);
    assert_memory_equal(s.data, expected, size);
    assert_hr(S_OK, IDODownload_Finalize(download));
    IDODownload_Release(download);
    DeleteFileW(source);
    free(expected);
}

/* A client may Abort from inside its stream's Write (its own thread is the worker's then). */
static void test_abort_from_inside_the_streams_write_returns(void **state)
{
    static struct sink s;
    DO_DOWNLOAD_RANGES_INFO whole = { 1, { { 0, DO_LENGTH_TO_EOF } } };
    IDODownload *download = new_download();

    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/1m?seed=abort-write&fault=drip&rate=500000"));
    set_unknown(download, DODownloadProperty_StreamInterface, sink_init(&s));
    s.abort_from_write = download;
    assert_hr(S_OK, IDODownload_Start(download, &whole));
    assert_int_equal(wait_for(download, STATE(DODownloadState_Aborted), 10000).State, DODownloadState_Aborted);
    assert_hr(S_OK, s.abort_result);
    IDODownload_Release(download);
}

/* A stream cannot take back what it received: a resumed download whose file changed fails
 * instead of starting over into the stream. */
static void test_stream_whose_file_changed_on_resume_fails_without_starting_over(void **state)
{
    static struct sink s;
    DO_DOWNLOAD_RANGES_INFO whole = { 1, { { 0, DO_LENGTH_TO_EOF } } };
    IDODownload *download = new_download();
    DO_DOWNLOAD_STATUS status;
    ULONG received;

    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/1m?seed=before&fault=drip&rate=500000"));
    set_unknown(download, DODownloadProperty_StreamInterface, sink_init(&s));
    assert_hr(S_OK, IDODownload_Start(download, &whole));
    assert_true(wait_for_bytes(download, 65536, 10000) >= 65536);
    assert_hr(S_OK, IDODownload_Pause(download));
    received = s.size;
    /* Another seed: other bytes, another ETag, so If-Range gets the whole new file (200). */
    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/1m?seed=after"));
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    status = wait_for(download, STATE(DODownloadState_Transferred) | STATE(DODownloadState_Paused), 10000);
    assert_int_equal(status.State, DODownloadState_Paused);
    assert_hr(DO_E_HTTP_BLOCKSIZE_MISMATCH, status.Error);
    assert_int_equal(status.BytesTransferred, received);
    assert_int_equal(s.size, received);
    assert_hr(S_OK, IDODownload_Abort(download));
    IDODownload_Release(download);
}

/* ---- Finalize and Abort on disk (DESIGN rule 7) --------------------------------------------------- */

static BOOL no_temp_file_in(void *folder)
{
    return !temp_files_in(folder);
}

static void test_abort_deletes_only_what_the_download_created(void **state)
{
    IDODownload *download = new_download();
    WCHAR folder[MAX_PATH], local[MAX_PATH];
    char before[65], after[65];
    HANDLE file;
    DWORD written;

    /* A folder of its own, so that no other test's files are counted. */
    wsprintfW(folder, L"%s\\abort-own", dosvc_test_dir());
    wsprintfW(local, L"%s\\keep.bin", folder);
    CreateDirectoryW(folder, NULL);
    file = CreateFileW(local, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    WriteFile(file, "the client's own file", 21, &written, NULL);
    CloseHandle(file);
    assert_true(sha256_file_hex(local, before));
    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/4m?seed=keep&fault=stall&after=65536&seconds=4"));
    set_bstr(download, DODownloadProperty_LocalPath, local);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_true(wait_for_bytes(download, 1, 10000) > 0);
    assert_int_equal(temp_files_in(folder), 1);
    assert_hr(S_OK, IDODownload_Abort(download));
    assert_int_equal(status_of(download).State, DODownloadState_Aborted);
    assert_true(sha256_file_hex(local, after));
    assert_string_equal(before, after);
    /* The temporary file is deleted while the stalled worker still holds it (docs/engine.md);
     * under Wine it is listed until that worker lets go, when the stall ends. */
    assert_true(dosvc_wait(no_temp_file_in, folder, 10000));
    IDODownload_Release(download);
    DeleteFileW(local);
}

/* A Finalize that cannot put the file in place fails and keeps it: the download stays
 * Transferred, and a later Finalize puts it there. */
static void test_failed_finalize_keeps_the_download_to_finalize_again(void **state)
{
    IDODownload *download = download_to(L"/gen/16k?seed=locked", L"locked.bin");
    const WCHAR *local = dosvc_test_path(L"locked.bin");
    HANDLE holder;

    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_int_equal(status_of(download).State, DODownloadState_Transferred);
    holder = CreateFileW(local, GENERIC_WRITE, 0, NULL, CREATE_NEW, 0, NULL);
    assert_true(holder != INVALID_HANDLE_VALUE);
    assert_true(FAILED(IDODownload_Finalize(download)));
    assert_int_equal(status_of(download).State, DODownloadState_Transferred);
    assert_int_equal(temp_files_in(dosvc_test_dir()), 1);
    CloseHandle(holder);
    assert_hr(S_OK, IDODownload_Finalize(download));
    assert_int_equal(status_of(download).State, DODownloadState_Finalized);
    dosvc_assert_file_is(local, L"/gen/16k?seed=locked");
    IDODownload_Release(download);
    DeleteFileW(local);
}

/* clients.md 1.4: the temporary file deleted while paused, Start gives Paused with
 * Error 0x80070002 rather than starting over unasked. */
static void test_temporary_file_deleted_while_paused_is_an_error_on_start(void **state)
{
    IDODownload *download = download_to(L"/gen/1m?seed=deleted&fault=drip&rate=500000", L"deleted.bin");
    WCHAR pattern[MAX_PATH], temp[MAX_PATH];
    WIN32_FIND_DATAW data;
    DO_DOWNLOAD_STATUS status;
    HANDLE find;

    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_true(wait_for_bytes(download, 65536, 10000) >= 65536);
    assert_hr(S_OK, IDODownload_Pause(download));
    wsprintfW(pattern, L"%s\\" DOSVC_TEMP_PATTERN, dosvc_test_dir());
    assert_true((find = FindFirstFileW(pattern, &data)) != INVALID_HANDLE_VALUE);
    FindClose(find);
    wsprintfW(temp, L"%s\\%s", dosvc_test_dir(), data.cFileName);
    assert_true(DeleteFileW(temp));
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    status = wait_for(download, STATE(DODownloadState_Transferred) | STATE(DODownloadState_Paused), 10000);
    assert_int_equal(status.State, DODownloadState_Paused);
    assert_hr(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), status.Error);
    assert_int_equal(temp_files_in(dosvc_test_dir()), 0);
    assert_hr(S_OK, IDODownload_Abort(download));
    assert_false(dosvc_file_exists(dosvc_test_path(L"deleted.bin")));
    IDODownload_Release(download);
}

/* clients.md 1.4: a transferred download is finalized, not aborted. */
static void test_abort_of_a_transferred_download_is_invalid_state(void **state)
{
    IDODownload *download = download_to(L"/gen/8k?seed=abort-transferred", L"abort-transferred.bin");

    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_hr(DO_E_INVALID_STATE, IDODownload_Abort(download));
    assert_hr(S_OK, IDODownload_Pause(download));        /* no-op */
    assert_int_equal(status_of(download).State, DODownloadState_Transferred);
    assert_hr(S_OK, IDODownload_Finalize(download));
    assert_hr(S_OK, IDODownload_Finalize(download));     /* the same request again */
    IDODownload_Release(download);
}

/* spec 4.2 LocalPath: missing folders are made. */
static void test_missing_folders_of_the_local_path_are_created(void **state)
{
    IDODownload *download = new_download();
    WCHAR local[MAX_PATH];

    wsprintfW(local, L"%s\\made\\deeper\\file.bin", dosvc_test_dir());
    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/4k?seed=folders"));
    set_bstr(download, DODownloadProperty_LocalPath, local);
    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_hr(S_OK, IDODownload_Finalize(download));
    dosvc_assert_file_is(local, L"/gen/4k?seed=folders");
    IDODownload_Release(download);
    DeleteFileW(local);
    wsprintfW(local, L"%s\\made\\deeper", dosvc_test_dir());
    RemoveDirectoryW(local);
    wsprintfW(local, L"%s\\made", dosvc_test_dir());
    RemoveDirectoryW(local);
}

/* A started download to folder\<name>\deeper\file.bin (the folders made by Start), left transferring. */
static IDODownload *started_into_new_folders(const WCHAR *name, WCHAR *top, WCHAR *local)
{
    IDODownload *download = new_download();

    wsprintfW(top, L"%s\\%s", dosvc_test_dir(), name);
    wsprintfW(local, L"%s\\deeper\\file.bin", top);
    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/1m?seed=made&fault=drip&rate=100000"));
    set_bstr(download, DODownloadProperty_LocalPath, local);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_int_equal(wait_for(download, STATE(DODownloadState_Transferring), 10000).State, DODownloadState_Transferring);
    return download;
}

/* Abort removes what the download created (issue 4): the folders Start made go with the file. */
static void test_abort_removes_the_folders_start_made(void **state)
{
    WCHAR top[MAX_PATH], local[MAX_PATH];
    IDODownload *download = started_into_new_folders(L"abort-made", top, local);

    assert_true(dosvc_file_exists(top));
    assert_hr(S_OK, IDODownload_Abort(download));
    assert_false(dosvc_file_exists(top));
    IDODownload_Release(download);
}

/* Abort leaves a folder it made that another download's LocalPath needs. */
static void test_abort_keeps_a_made_folder_another_download_needs(void **state)
{
    WCHAR top[MAX_PATH], local[MAX_PATH], other_path[MAX_PATH];
    IDODownload *download = started_into_new_folders(L"abort-shared", top, local);
    IDODownload *other = new_download();

    wsprintfW(other_path, L"%s\\deeper\\other.bin", top);
    set_bstr(other, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/16k?seed=shared-folder"));
    set_bstr(other, DODownloadProperty_LocalPath, other_path);
    assert_hr(S_OK, IDODownload_Abort(download));
    assert_true(dosvc_file_exists(top));
    set_bool(other, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(other, NULL));
    assert_int_equal(status_of(other).State, DODownloadState_Transferred);
    assert_hr(S_OK, IDODownload_Finalize(other));
    dosvc_assert_file_is(other_path, L"/gen/16k?seed=shared-folder");
    IDODownload_Release(download);
    IDODownload_Release(other);
    DeleteFileW(other_path);
    wsprintfW(other_path, L"%s\\deeper", top);
    RemoveDirectoryW(other_path);
    RemoveDirectoryW(top);
}

/* ... and nothing else: a made folder that a client has put a file into stays, with the file. */
static void test_abort_keeps_a_made_folder_holding_a_file_of_the_client(void **state)
{
    WCHAR top[MAX_PATH], local[MAX_PATH], mine[MAX_PATH], deeper[MAX_PATH];
    IDODownload *download = started_into_new_folders(L"abort-kept", top, local);
    HANDLE file;

    wsprintfW(mine, L"%s\\client.txt", top);
    wsprintfW(deeper, L"%s\\deeper", top);
    file = CreateFileW(mine, GENERIC_WRITE, 0, NULL, CREATE_NEW, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    CloseHandle(file);
    assert_hr(S_OK, IDODownload_Abort(download));
    assert_false(dosvc_file_exists(deeper));
    assert_true(dosvc_file_exists(mine));
    IDODownload_Release(download);
    DeleteFileW(mine);
    RemoveDirectoryW(top);
}

/* ---- HTTP behaviour properties --------------------------------------------------------------------- */

static void test_http_read_outs_describe_the_last_response(void **state)
{
    IDODownload *download = new_download();
    VARIANT v;

    /* One redirect, to the same URL with count=0. */
    set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/2k?seed=readout&fault=redirect&code=302&count=1"));
    set_bstr(download, DODownloadProperty_LocalPath, dosvc_test_path(L"readout.bin"));
    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_int_equal(status_of(download).State, DODownloadState_Transferred);
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_HttpStatusCode, &v));
    assert_int_equal(V_VT(&v), VT_UI4);
    assert_int_equal(V_UI4(&v), 200);
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_HttpServerIPAddress, &v));
    assert_wstr_equal(L"127.0.0.1", V_BSTR(&v));
    VariantClear(&v);
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_HttpResponseHeaders, &v));
    assert_non_null(wcsstr(V_BSTR(&v), L"Content-Length: 2048"));
    VariantClear(&v);
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_HttpRedirectionTarget, &v));
    assert_non_null(wcsstr(V_BSTR(&v), L"count=0"));
    VariantClear(&v);
    IDODownload_Finalize(download);
    IDODownload_Release(download);
}

static void test_custom_headers_are_sent(void **state)
{
    IDODownload *download = download_to(L"/gen/1k?seed=headers&marker=ido-headers", L"headers.bin");
    char *log;

    set_bstr(download, DODownloadProperty_HttpCustomHeaders, L"X-Ido-Test: ido-header-value\r\n");
    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_int_equal(status_of(download).State, DODownloadState_Transferred);
    log = dosvc_server_log(L"ido-headers");
    assert_non_null(strstr(log, "ido-header-value"));
    free(log);
    IDODownload_Finalize(download);
    IDODownload_Release(download);
}

/* HttpCustomAuthHeaders answer the server's challenge. */
static void test_custom_auth_headers_are_sent_when_challenged(void **state)
{
    IDODownload *unauthorized = download_to(L"/gen/1k?seed=auth-none&fault=auth", L"auth-none.bin");
    IDODownload *download = download_to(L"/gen/1k?seed=auth&fault=auth", L"auth.bin");

    set_bool(unauthorized, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(unauthorized, NULL));
    assert_hr(0x80190191, status_of(unauthorized).Error);
    IDODownload_Abort(unauthorized);
    IDODownload_Release(unauthorized);

    /* "user:password" in Basic */
    set_bstr(download, DODownloadProperty_HttpCustomAuthHeaders, L"Authorization: Basic dXNlcjpwYXNzd29yZA==\r\n");
    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_int_equal(status_of(download).State, DODownloadState_Transferred);
    IDODownload_Finalize(download);
    IDODownload_Release(download);
}

/* SecurityFlags take WinHTTP's values: ignoring an unknown CA and a wrong name accepts the
 * test server's self-signed certificate. */
static void test_security_flags_let_a_self_signed_certificate_through(void **state)
{
    IDODownload *strict = new_download(), *lenient = new_download();

    set_bstr(strict, DODownloadProperty_Uri, dosvc_server_url(TRUE, L"/gen/2k?seed=tls-strict"));
    set_bstr(strict, DODownloadProperty_LocalPath, dosvc_test_path(L"tls-strict.bin"));
    set_bool(strict, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(strict, NULL));
    assert_true(FAILED(status_of(strict).Error));
    IDODownload_Abort(strict);
    IDODownload_Release(strict);

    set_bstr(lenient, DODownloadProperty_Uri, dosvc_server_url(TRUE, L"/gen/2k?seed=tls-lenient"));
    set_bstr(lenient, DODownloadProperty_LocalPath, dosvc_test_path(L"tls-lenient.bin"));
    set_ui4(lenient, DODownloadProperty_SecurityFlags, 0x0100 | 0x1000);   /* UNKNOWN_CA | CERT_CN_INVALID */
    set_bool(lenient, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(lenient, NULL));
    assert_int_equal(status_of(lenient).State, DODownloadState_Transferred);
    IDODownload_Finalize(lenient);
    IDODownload_Release(lenient);
}

/* spec 5.11: HTTPS to HTTP redirects are refused unless HttpAllowSecureToNonSecureRedirect. */
static void test_https_to_http_redirect_needs_permission(void **state)
{
    static const WCHAR path[] = L"/gen/1k?seed=downgrade&fault=redirect&code=302&scheme=http";
    IDODownload *refused = new_download(), *allowed = new_download();

    set_bstr(refused, DODownloadProperty_Uri, dosvc_server_url(TRUE, path));
    set_bstr(refused, DODownloadProperty_LocalPath, dosvc_test_path(L"downgrade-refused.bin"));
    set_ui4(refused, DODownloadProperty_SecurityFlags, 0x0100 | 0x1000);
    set_bool(refused, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(refused, NULL));
    assert_hr(HRESULT_FROM_WIN32(ERROR_INTERNET_HTTPS_TO_HTTP_ON_REDIR), status_of(refused).Error);
    IDODownload_Abort(refused);
    IDODownload_Release(refused);

    set_bstr(allowed, DODownloadProperty_Uri, dosvc_server_url(TRUE, path));
    set_bstr(allowed, DODownloadProperty_LocalPath, dosvc_test_path(L"downgrade-allowed.bin"));
    set_ui4(allowed, DODownloadProperty_SecurityFlags, 0x0100 | 0x1000);
    set_bool(allowed, DODownloadProperty_HttpAllowSecureToNonSecureRedirect, TRUE);
    set_bool(allowed, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(allowed, NULL));
    assert_int_equal(status_of(allowed).State, DODownloadState_Transferred);
    IDODownload_Finalize(allowed);
    IDODownload_Release(allowed);
}

/* Issue 9 defect 6: once the server gave the size, TotalSizeBytes reads it (it was E_NOT_SET). */
static void test_total_size_bytes_reads_the_size_the_server_gave(void **state)
{
    IDODownload *download = download_to(L"/gen/3000?seed=server-size", L"server-size.bin");
    VARIANT v;

    assert_hr(E_NOT_SET, IDODownload_GetProperty(download, DODownloadProperty_TotalSizeBytes, &v));
    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_int_equal(status_of(download).State, DODownloadState_Transferred);
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_TotalSizeBytes, &v));
    assert_int_equal(V_VT(&v), VT_UI8);
    assert_true(V_UI8(&v) == 3000);
    assert_hr(S_OK, IDODownload_Finalize(download));
    IDODownload_Release(download);
    DeleteFileW(dosvc_test_path(L"server-size.bin"));
}

/* Issue 9 defect 6 (docs/ido.md): header text with LF line ends and a last line without one
 * reaches the server as its "name: value" lines, each whole; a line that is no header field
 * ("XCustom1=someData", a continuation) is not sent, so it cannot spoil the request's head. */
static void test_custom_headers_with_lf_line_ends_reach_the_server_as_their_header_lines(void **state)
{
    IDODownload *download = download_to(L"/gen/1k?seed=lf-headers&marker=ido-lf-headers", L"lf-headers.bin");
    char *log;

    set_bstr(download, DODownloadProperty_HttpCustomHeaders,
             L"XCustom1=someData\nX-Ido-Lf: lf-value\n  folded-line\r\nX-Ido-Last: last-value");
    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_int_equal(status_of(download).State, DODownloadState_Transferred);
    log = dosvc_server_log(L"ido-lf-headers");
    assert_int_equal(dosvc_log_count(log), 1);
    if (!strstr(log, "\"X-Ido-Lf\": \"lf-value\"") || !strstr(log, "\"X-Ido-Last\": \"last-value\"")
        || strstr(log, "someData") || strstr(log, "folded-line"))
        fail_msg("the request's headers are not the header lines given: %s", log);
    free(log);
    IDODownload_Finalize(download);
    IDODownload_Release(download);
    DeleteFileW(dosvc_test_path(L"lf-headers.bin"));
}

/* What the server reads is dosvc's own fields and then the header lines of the text that was
 * taken, each whole; refused text reaches nothing (no second Host, no body framing, no Range on
 * a fresh file). */
static void test_refused_custom_headers_change_nothing_on_the_wire(void **state)
{
    IDODownload *download = download_to(L"/gen/1k?seed=refused-headers&marker=ido-refused-headers", L"refused-headers.bin");
    char *log;

    set_bstr(download, DODownloadProperty_HttpCustomHeaders, L"X-Keep: kept\nXCustom1=someData\r\nX-Two:  two");
    assert_hr(E_INVALIDARG, try_bstr(download, DODownloadProperty_HttpCustomHeaders,
                                     L"Host: evil.example\nContent-Length: 5\nTransfer-Encoding: chunked"));
    assert_hr(E_INVALIDARG, try_bstr(download, DODownloadProperty_HttpCustomHeaders, L"Range: bytes=0-0"));
    set_bool(download, DODownloadProperty_BlockingMode, TRUE);
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_int_equal(status_of(download).State, DODownloadState_Transferred);
    log = dosvc_server_log(L"ido-refused-headers");
    assert_int_equal(dosvc_log_count(log), 1);
    dosvc_assert_request_fields(log, 0, "[\"X-Keep\",\"kept\"],[\"X-Two\",\"two\"]");
    free(log);
    IDODownload_Finalize(download);
    IDODownload_Release(download);
    DeleteFileW(dosvc_test_path(L"refused-headers.bin"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_do_sdk_sequence_downloads_and_the_file_appears_on_finalize),
        cmocka_unit_test(test_not_found_is_a_fatal_error_and_leaves_no_file),
        cmocka_unit_test(test_transient_error_is_paused_with_extended_error_then_completes),
        cmocka_unit_test(test_resume_after_pause_asks_for_the_rest_with_a_range),
        cmocka_unit_test(test_second_download_to_the_path_of_a_paused_one_aborts_the_first),
        cmocka_unit_test(test_winget_sequence_is_driven_by_callbacks_alone),
        cmocka_unit_test(test_fatal_error_is_told_to_the_callback),
        cmocka_unit_test(test_system_informer_sequence_starts_with_null_ranges),
        cmocka_unit_test(test_getstoreapp_sequence_finalizes_from_inside_the_callback),
        cmocka_unit_test(test_pause_from_inside_the_callback),
        cmocka_unit_test(test_abort_from_inside_the_callback),
        cmocka_unit_test(test_callbacks_arrive_on_another_thread),
        cmocka_unit_test(test_a_second_callback_replaces_the_first),
        cmocka_unit_test(test_callback_is_released_once_told_of_finalized),
        cmocka_unit_test(test_callback_frequency_percent_spaces_progress_callbacks),
        cmocka_unit_test(test_callback_frequency_seconds_spaces_progress_callbacks),
        cmocka_unit_test(test_foreground_download_starts_while_two_background_downloads_transfer),
        cmocka_unit_test(test_total_size_bytes_is_the_total_of_a_file_download_before_it_starts),
        cmocka_unit_test(test_blocking_start_returns_when_the_download_ends),
        cmocka_unit_test(test_blocking_start_returns_on_a_fatal_error),
        cmocka_unit_test(test_stream_sink_receives_the_ranges_in_order),
        cmocka_unit_test(test_stream_sink_receives_the_whole_file_as_one_range),
        cmocka_unit_test(test_stream_that_does_not_count_what_it_took_receives_the_file),
        cmocka_unit_test(test_stream_paused_and_resumed_receives_each_byte_once),
        cmocka_unit_test(test_stream_whose_file_changed_on_resume_fails_without_starting_over),
        cmocka_unit_test(test_abort_from_inside_the_streams_write_returns),
        cmocka_unit_test(test_failed_finalize_keeps_the_download_to_finalize_again),
        cmocka_unit_test(test_temporary_file_deleted_while_paused_is_an_error_on_start),
        cmocka_unit_test(test_abort_deletes_only_what_the_download_created),
        cmocka_unit_test(test_abort_of_a_transferred_download_is_invalid_state),
        cmocka_unit_test(test_missing_folders_of_the_local_path_are_created),
        cmocka_unit_test(test_abort_removes_the_folders_start_made),
        cmocka_unit_test(test_abort_keeps_a_made_folder_holding_a_file_of_the_client),
        cmocka_unit_test(test_abort_keeps_a_made_folder_another_download_needs),
        cmocka_unit_test(test_http_read_outs_describe_the_last_response),
        cmocka_unit_test(test_custom_headers_are_sent),
        cmocka_unit_test(test_custom_auth_headers_are_sent_when_challenged),
        cmocka_unit_test(test_security_flags_let_a_self_signed_certificate_through),
        cmocka_unit_test(test_https_to_http_redirect_needs_permission),
        cmocka_unit_test(test_total_size_bytes_reads_the_size_the_server_gave),
        cmocka_unit_test(test_custom_headers_with_lf_line_ends_reach_the_server_as_their_header_lines),
        cmocka_unit_test(test_refused_custom_headers_change_nothing_on_the_wire),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
