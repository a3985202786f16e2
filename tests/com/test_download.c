/*
 * IDOManager and IDODownload without the network (issue 4; spec 3.16, 3.17,
 * 4.2 DODownloadProperty, 5.10; docs/ido.md): CreateDownload and the state a
 * new download reads, every property's VARIANT type and its read, write,
 * state and value rules, the checks Start makes before anything moves, the
 * state machine's refusals, and EnumDownloads with its categories.
 */
#include "com_test.h"

#include <wincrypt.h>

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

static IDODownload *new_download(void)
{
    IDODownload *download = NULL;
    assert_hr(S_OK, IDOManager_CreateDownload(domanager, &download));
    assert_non_null(download);
    return download;
}

/* Aborts (whatever the state allows) and releases. */
static void done_with(IDODownload *download)
{
    IDODownload_Abort(download);
    IDODownload_Release(download);
}

static HRESULT set_bstr(IDODownload *download, DODownloadProperty id, const WCHAR *text)
{
    VARIANT v;
    HRESULT hr;
    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocString(text);
    hr = IDODownload_SetProperty(download, id, &v);
    VariantClear(&v);
    return hr;
}

static HRESULT set_ui4(IDODownload *download, DODownloadProperty id, ULONG value)
{
    VARIANT v;
    V_VT(&v) = VT_UI4;
    V_UI4(&v) = value;
    return IDODownload_SetProperty(download, id, &v);
}

static HRESULT set_bool(IDODownload *download, DODownloadProperty id, VARIANT_BOOL value)
{
    VARIANT v;
    V_VT(&v) = VT_BOOL;
    V_BOOL(&v) = value;
    return IDODownload_SetProperty(download, id, &v);
}

static HRESULT set_unknown(IDODownload *download, DODownloadProperty id, IUnknown *value)
{
    VARIANT v;
    V_VT(&v) = VT_UNKNOWN;
    V_UNKNOWN(&v) = value;
    return IDODownload_SetProperty(download, id, &v);
}

static DODownloadState state_of(IDODownload *download)
{
    DO_DOWNLOAD_STATUS status;
    assert_hr(S_OK, IDODownload_GetStatus(download, &status));
    return status.State;
}

/* ---- a minimal IDODownloadStatusCallback and IStream, counted, never freed ------------ */

struct counted
{
    IDODownloadStatusCallback IDODownloadStatusCallback_iface;
    LONG refs;
};

static HRESULT WINAPI cb_QueryInterface(IDODownloadStatusCallback *iface, REFIID riid, void **out)
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

static ULONG WINAPI cb_AddRef(IDODownloadStatusCallback *iface)
{
    return InterlockedIncrement(&CONTAINING_RECORD(iface, struct counted, IDODownloadStatusCallback_iface)->refs);
}

static ULONG WINAPI cb_Release(IDODownloadStatusCallback *iface)
{
    return InterlockedDecrement(&CONTAINING_RECORD(iface, struct counted, IDODownloadStatusCallback_iface)->refs);
}

static HRESULT WINAPI cb_OnStatusChange(IDODownloadStatusCallback *iface, IDODownload *download,
                                        const DO_DOWNLOAD_STATUS *status)
{
    return S_OK;
}

static const IDODownloadStatusCallbackVtbl cb_vtbl = { cb_QueryInterface, cb_AddRef, cb_Release, cb_OnStatusChange };

static IUnknown *counted_callback(struct counted *c)
{
    c->IDODownloadStatusCallback_iface.lpVtbl = &cb_vtbl;
    c->refs = 1;
    return (IUnknown *)&c->IDODownloadStatusCallback_iface;
}

static IUnknown *memory_stream(void)
{
    IStream *stream = NULL;
    assert_hr(S_OK, CreateStreamOnHGlobal(NULL, TRUE, &stream));
    return (IUnknown *)stream;
}

/* ---- CreateDownload --------------------------------------------------------------------- */

/* clients.md 1.4: a new download reports created, nothing transferred. */
static void test_new_download_is_created_with_nothing_transferred(void **state)
{
    IDODownload *download = new_download();
    DO_DOWNLOAD_STATUS status;

    memset(&status, 0xcc, sizeof(status));
    assert_hr(S_OK, IDODownload_GetStatus(download, &status));
    assert_int_equal(status.State, DODownloadState_Created);
    assert_true(status.BytesTransferred == 0);
    assert_true(status.BytesTotal == 0);
    assert_hr(S_OK, status.Error);
    assert_hr(S_OK, status.ExtendedError);
    done_with(download);
}

static void test_get_status_rejects_null(void **state)
{
    IDODownload *download = new_download();
    assert_hr(E_INVALIDARG, IDODownload_GetStatus(download, NULL));
    done_with(download);
}

/* clients.md 0.2, 1.3: DO clients call CoSetProxyBlanket on every download and fail if it fails. */
static void test_proxy_blanket_can_be_set_on_a_download(void **state)
{
    IDODownload *download = new_download();
    assert_hr(S_OK, CoSetProxyBlanket((IUnknown *)download, RPC_C_AUTHN_DEFAULT, RPC_C_AUTHZ_NONE, COLE_DEFAULT_PRINCIPAL,
                                      RPC_C_AUTHN_LEVEL_DEFAULT, RPC_C_IMP_LEVEL_IMPERSONATE, NULL, EOAC_STATIC_CLOAKING));
    done_with(download);
}

static void test_downloads_are_not_bits_jobs(void **state)
{
    IDODownload *download = new_download();
    IBackgroundCopyManager *manager = dosvc_manager();
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job = NULL;
    VARIANT id;
    GUID guid;
    ULONG count = 99;

    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_Id, &id));
    assert_hr(S_OK, CLSIDFromString(V_BSTR(&id), &guid));
    assert_hr(DO_E_JOB_NOT_FOUND, IBackgroundCopyManager_GetJob(manager, &guid, &job));
    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(manager, 0, &jobs));
    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(jobs, &count));
    assert_int_equal(count, 0);
    IEnumBackgroundCopyJobs_Release(jobs);
    IBackgroundCopyManager_Release(manager);
    VariantClear(&id);
    done_with(download);
}

/* ---- properties: access, types, values ------------------------------------------------------ */

static void test_id_is_a_guid_text_that_is_read_only(void **state)
{
    IDODownload *download = new_download();
    VARIANT id;
    GUID guid;

    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_Id, &id));
    assert_int_equal(V_VT(&id), VT_BSTR);
    assert_hr(S_OK, CLSIDFromString(V_BSTR(&id), &guid));
    assert_hr(DO_E_READ_ONLY_PROPERTY, set_bstr(download, DODownloadProperty_Id, V_BSTR(&id)));
    VariantClear(&id);
    done_with(download);
}

static void test_unknown_property_ids_are_refused_both_ways(void **state)
{
    IDODownload *download = new_download();
    static const int ids[] = { 30, 31, 1000, -1 };
    VARIANT v;
    size_t i;

    for (i = 0; i < ARRAYSIZE(ids); i++)
    {
        assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IDODownload_GetProperty(download, (DODownloadProperty)ids[i], &v));
        assert_hr(DO_E_UNKNOWN_PROPERTY_ID, set_ui4(download, (DODownloadProperty)ids[i], 1));
    }
    done_with(download);
}

/* Properties 0 and 26-29 are read-only (spec 4.2, 5.10). */
static void test_read_only_properties_refuse_set(void **state)
{
    static const DODownloadProperty ids[] = { DODownloadProperty_Id, DODownloadProperty_HttpRedirectionTarget,
        DODownloadProperty_HttpResponseHeaders, DODownloadProperty_HttpServerIPAddress, DODownloadProperty_HttpStatusCode };
    IDODownload *download = new_download();
    size_t i;

    for (i = 0; i < ARRAYSIZE(ids); i++)
    {
        assert_hr(DO_E_READ_ONLY_PROPERTY, set_bstr(download, ids[i], L"x"));
        assert_hr(DO_E_READ_ONLY_PROPERTY, set_ui4(download, ids[i], 200));
    }
    done_with(download);
}

/* spec 5.10: SecurityFlags, SecurityContext and NetworkToken (DecryptionInfo and IntegrityCheckInfo
 * read as unknown: see test_decryption_and_integrity_properties_are_unknown_both_ways). */
static void test_write_only_properties_refuse_get(void **state)
{
    static const DODownloadProperty ids[] = { DODownloadProperty_SecurityFlags, DODownloadProperty_SecurityContext,
        DODownloadProperty_NetworkToken };
    IDODownload *download = new_download();
    VARIANT v;
    size_t i;

    assert_hr(S_OK, set_ui4(download, DODownloadProperty_SecurityFlags, 0x100));
    assert_hr(S_OK, set_bool(download, DODownloadProperty_NetworkToken, VARIANT_TRUE));
    for (i = 0; i < ARRAYSIZE(ids); i++)
        assert_hr(DO_E_WRITE_ONLY_PROPERTY, IDODownload_GetProperty(download, ids[i], &v));
    done_with(download);
}

/* spec 3.17: E_NOT_SET for every readable property never set (Id always answers). */
static void test_properties_never_set_are_not_set(void **state)
{
    IDODownload *download = new_download();
    int id;

    for (id = DODownloadProperty_Uri; id <= DODownloadProperty_HttpStatusCode; id++)
    {
        VARIANT v;
        HRESULT hr = IDODownload_GetProperty(download, (DODownloadProperty)id, &v);
        if (hr == DO_E_WRITE_ONLY_PROPERTY) continue;
        if (id >= DODownloadProperty_DecryptionInfo && id <= DODownloadProperty_IntegrityCheckMandatory) continue;   /* unknown */
        if (hr != E_NOT_SET) fail_msg("property %d: 0x%08lx", id, (unsigned long)hr);
    }
    done_with(download);
}

static void test_get_property_rejects_null(void **state)
{
    IDODownload *download = new_download();
    assert_hr(E_INVALIDARG, IDODownload_GetProperty(download, DODownloadProperty_Id, NULL));
    assert_hr(E_INVALIDARG, IDODownload_SetProperty(download, DODownloadProperty_Uri, NULL));
    done_with(download);
}

/* One good value of each writable, readable property, in its VARIANT type (spec 4.2). */
struct sample
{
    DODownloadProperty id;
    VARTYPE vt;
    const WCHAR *text;
    ULONGLONG number;
};
#define TEXT_SAMPLE(id, text) { id, VT_BSTR, text, 0 }

static const struct sample samples[] = {
    TEXT_SAMPLE(DODownloadProperty_Uri, L"http://127.0.0.1:1/file.bin"),
    TEXT_SAMPLE(DODownloadProperty_ContentId, L"content-42"),
    TEXT_SAMPLE(DODownloadProperty_DisplayName, L"A download"),
    TEXT_SAMPLE(DODownloadProperty_HttpCustomHeaders, L"X-Test: 1\r\n"),
    { DODownloadProperty_CostPolicy, VT_UI4, NULL, 3 },
    { DODownloadProperty_CallbackFreqPercent, VT_UI4, NULL, 10 },
    { DODownloadProperty_CallbackFreqSeconds, VT_UI4, NULL, 5 },
    { DODownloadProperty_NoProgressTimeoutSeconds, VT_UI4, NULL, 60 },
    { DODownloadProperty_ForegroundPriority, VT_BOOL, NULL, 1 },
    { DODownloadProperty_BlockingMode, VT_BOOL, NULL, 0 },
    TEXT_SAMPLE(DODownloadProperty_CorrelationVector, L"vOPPyK7ZKEeEdMbS.1"),
    { DODownloadProperty_TotalSizeBytes, VT_UI8, NULL, 5000000000ull },
    { DODownloadProperty_DisallowOnCellular, VT_BOOL, NULL, 1 },
    TEXT_SAMPLE(DODownloadProperty_HttpCustomAuthHeaders, L"Authorization: Basic dXNlcjpwYXNzd29yZA==\r\n"),
    { DODownloadProperty_HttpAllowSecureToNonSecureRedirect, VT_BOOL, NULL, 1 },
    { DODownloadProperty_NonVolatile, VT_BOOL, NULL, 1 },
};

static void variant_of(const struct sample *s, VARIANT *v)
{
    V_VT(v) = s->vt;
    switch (s->vt)
    {
    case VT_BSTR: V_BSTR(v) = SysAllocString(s->text); break;
    case VT_UI4: V_UI4(v) = (ULONG)s->number; break;
    case VT_UI8: V_UI8(v) = s->number; break;
    case VT_BOOL: V_BOOL(v) = s->number ? VARIANT_TRUE : VARIANT_FALSE; break;
    }
}

static void test_each_property_reads_back_what_was_set_in_its_type(void **state)
{
    IDODownload *download = new_download();
    size_t i;

    for (i = 0; i < ARRAYSIZE(samples); i++)
    {
        VARIANT in, out;
        variant_of(&samples[i], &in);
        assert_hr(S_OK, IDODownload_SetProperty(download, samples[i].id, &in));
        assert_hr(S_OK, IDODownload_GetProperty(download, samples[i].id, &out));
        assert_int_equal(V_VT(&out), samples[i].vt);
        switch (samples[i].vt)
        {
        case VT_BSTR: assert_wstr_equal(V_BSTR(&in), V_BSTR(&out)); break;
        case VT_UI4: assert_int_equal(V_UI4(&in), V_UI4(&out)); break;
        case VT_UI8: assert_true(V_UI8(&in) == V_UI8(&out)); break;
        case VT_BOOL: assert_int_equal(V_BOOL(&in), V_BOOL(&out)); break;
        }
        VariantClear(&in);
        VariantClear(&out);
    }
    done_with(download);
}

/* A VARIANT of another type is E_INVALIDARG and changes nothing (DESIGN rule 3). */
static void test_wrong_variant_type_is_invalid_arg_and_changes_nothing(void **state)
{
    IDODownload *download = new_download();
    size_t i;

    for (i = 0; i < ARRAYSIZE(samples); i++)
    {
        VARIANT wrong, out;
        V_VT(&wrong) = samples[i].vt == VT_BSTR ? VT_UI4 : VT_BSTR;
        if (V_VT(&wrong) == VT_BSTR) V_BSTR(&wrong) = SysAllocString(L"1");
        else V_UI4(&wrong) = 1;
        assert_hr(E_INVALIDARG, IDODownload_SetProperty(download, samples[i].id, &wrong));
        V_VT(&wrong) = VT_I4;    /* never any property's type */
        if (IDODownload_SetProperty(download, samples[i].id, &wrong) != E_INVALIDARG) fail_msg("property %d", samples[i].id);
        assert_hr(E_NOT_SET, IDODownload_GetProperty(download, samples[i].id, &out));
    }
    assert_hr(E_INVALIDARG, set_bstr(download, DODownloadProperty_CallbackInterface, L"x"));
    assert_hr(E_INVALIDARG, set_ui4(download, DODownloadProperty_StreamInterface, 1));
    assert_hr(E_INVALIDARG, set_bstr(download, DODownloadProperty_SecurityContext, L"x"));
    done_with(download);
}

static void test_bad_values_are_invalid_arg_and_change_nothing(void **state)
{
    static struct counted c;
    IDODownload *download = new_download();
    IUnknown *not_a_callback = memory_stream();
    VARIANT v;

    assert_hr(E_INVALIDARG, set_bstr(download, DODownloadProperty_Uri, L"not a url"));
    assert_hr(E_INVALIDARG, set_bstr(download, DODownloadProperty_Uri, L""));
    assert_hr(HRESULT_FROM_WIN32(ERROR_INVALID_NAME), set_bstr(download, DODownloadProperty_LocalPath, L"relative\\file.bin"));
    assert_hr(E_INVALIDARG, set_bstr(download, DODownloadProperty_LocalPath, dosvc_test_dir()));   /* a folder */
    assert_hr(E_INVALIDARG, set_bstr(download, DODownloadProperty_ContentId, L""));
    assert_hr(E_INVALIDARG, set_bstr(download, DODownloadProperty_HttpCustomHeaders, L"X: a\x01" L"b\r\n"));
    assert_hr(E_INVALIDARG, set_bstr(download, DODownloadProperty_HttpCustomAuthHeaders, L"X: a\rb"));
    assert_hr(E_INVALIDARG, set_bstr(download, DODownloadProperty_CorrelationVector, L""));
    assert_hr(E_INVALIDARG, set_ui4(download, DODownloadProperty_CostPolicy, 6));
    assert_hr(E_INVALIDARG, set_ui4(download, DODownloadProperty_SecurityFlags, 0x4));
    assert_hr(E_INVALIDARG, set_ui4(download, DODownloadProperty_CallbackFreqPercent, 101));
    assert_hr(E_INVALIDARG, set_ui4(download, DODownloadProperty_NoProgressTimeoutSeconds, 59));   /* spec 4.2: >= 60 */
    assert_hr(E_INVALIDARG, set_bool(download, DODownloadProperty_ForegroundPriority, 1));        /* not VARIANT_TRUE */
    V_VT(&v) = VT_UI8;
    V_UI8(&v) = 0;
    assert_hr(E_INVALIDARG, IDODownload_SetProperty(download, DODownloadProperty_TotalSizeBytes, &v));
    assert_hr(E_INVALIDARG, set_unknown(download, DODownloadProperty_CallbackInterface, not_a_callback));
    assert_hr(E_INVALIDARG, set_unknown(download, DODownloadProperty_CallbackInterface, NULL));
    assert_hr(E_INVALIDARG, set_unknown(download, DODownloadProperty_StreamInterface, counted_callback(&c)));
    assert_int_equal(c.refs, 1);   /* nothing kept of a refused object */
    assert_hr(E_NOT_SET, IDODownload_GetProperty(download, DODownloadProperty_Uri, &v));
    assert_hr(E_NOT_SET, IDODownload_GetProperty(download, DODownloadProperty_LocalPath, &v));
    assert_hr(E_NOT_SET, IDODownload_GetProperty(download, DODownloadProperty_CostPolicy, &v));
    assert_hr(E_NOT_SET, IDODownload_GetProperty(download, DODownloadProperty_CallbackInterface, &v));
    assert_hr(E_NOT_SET, IDODownload_GetProperty(download, DODownloadProperty_StreamInterface, &v));
    IUnknown_Release(not_a_callback);
    done_with(download);
}

static void test_no_progress_timeout_zero_asks_for_the_default(void **state)
{
    IDODownload *download = new_download();
    assert_hr(S_OK, set_ui4(download, DODownloadProperty_NoProgressTimeoutSeconds, 0));
    done_with(download);
}

static void test_local_path_reads_back_absolute(void **state)
{
    IDODownload *download = new_download();
    WCHAR expected[MAX_PATH];
    VARIANT v;

    lstrcpyW(expected, dosvc_test_path(L"abs.bin"));
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_LocalPath, expected));
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_LocalPath, &v));
    assert_wstr_equal(expected, V_BSTR(&v));
    VariantClear(&v);
    done_with(download);
}

static SAFEARRAY *bytes(const BYTE *data, ULONG size)
{
    SAFEARRAY *array = SafeArrayCreateVector(VT_UI1, 0, size);
    void *p;
    SafeArrayAccessData(array, &p);
    memcpy(p, data, size);
    SafeArrayUnaccessData(array);
    return array;
}

/* clients.md 1.4: an empty certificate is E_INVALIDARG, garbage CRYPT_E_FILE_ERROR. */
static void test_security_context_takes_only_a_serialized_certificate(void **state)
{
    static const BYTE garbage[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    IDODownload *download = new_download();
    VARIANT v;

    V_VT(&v) = VT_ARRAY | VT_UI1;
    V_ARRAY(&v) = SafeArrayCreateVector(VT_UI1, 0, 0);
    assert_hr(E_INVALIDARG, IDODownload_SetProperty(download, DODownloadProperty_SecurityContext, &v));
    VariantClear(&v);
    V_VT(&v) = VT_ARRAY | VT_UI1;
    V_ARRAY(&v) = bytes(garbage, sizeof(garbage));
    assert_hr(CRYPT_E_FILE_ERROR, IDODownload_SetProperty(download, DODownloadProperty_SecurityContext, &v));
    VariantClear(&v);
    done_with(download);
}

static void test_callback_reads_back_and_a_second_replaces_the_first(void **state)
{
    static struct counted first, second;      /* static: a late release never reaches a dead frame */
    IDODownload *download = new_download();
    VARIANT v;

    assert_hr(S_OK, set_unknown(download, DODownloadProperty_CallbackInterface, counted_callback(&first)));
    assert_int_equal(first.refs, 2);
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_CallbackInterface, &v));
    assert_int_equal(V_VT(&v), VT_UNKNOWN);
    assert_ptr_equal(V_UNKNOWN(&v), &first.IDODownloadStatusCallback_iface);
    VariantClear(&v);
    assert_hr(S_OK, set_unknown(download, DODownloadProperty_CallbackInterface, counted_callback(&second)));
    assert_int_equal(first.refs, 1);          /* the first one is let go */
    assert_int_equal(second.refs, 2);
    done_with(download);
    /* and the second with the record, once the notice of its abort is delivered */
    assert_true(dosvc_wait_for_refs(&second.refs, 1, 10000));
}

static void test_stream_reads_back_as_given(void **state)
{
    IDODownload *download = new_download();
    IUnknown *stream = memory_stream();
    VARIANT v;

    assert_hr(S_OK, set_unknown(download, DODownloadProperty_StreamInterface, stream));
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_StreamInterface, &v));
    assert_ptr_equal(V_UNKNOWN(&v), stream);
    VariantClear(&v);
    done_with(download);
    IUnknown_Release(stream);
}

/* spec 5.10: a second sink of the other kind is DO_E_FILE_DOWNLOADSINK_ALREADY_SET. */
static void test_local_path_and_stream_exclude_each_other(void **state)
{
    IDODownload *to_file = new_download(), *to_stream = new_download();
    IUnknown *stream = memory_stream();

    assert_hr(S_OK, set_bstr(to_file, DODownloadProperty_LocalPath, dosvc_test_path(L"sink.bin")));
    assert_hr(DO_E_FILE_DOWNLOADSINK_ALREADY_SET, set_unknown(to_file, DODownloadProperty_StreamInterface, stream));
    assert_hr(S_OK, set_unknown(to_stream, DODownloadProperty_StreamInterface, stream));
    assert_hr(DO_E_FILE_DOWNLOADSINK_ALREADY_SET, set_bstr(to_stream, DODownloadProperty_LocalPath, dosvc_test_path(L"sink.bin")));
    done_with(to_file);
    done_with(to_stream);
    IUnknown_Release(stream);
}

/* ---- Start's checks (spec 5.10, 5.7) ------------------------------------------------------------ */

static void test_start_without_uri_is_no_uri_and_stays_created(void **state)
{
    IDODownload *download = new_download();
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_LocalPath, dosvc_test_path(L"nouri.bin")));
    assert_hr(DO_E_DOWNLOAD_NO_URI, IDODownload_Start(download, NULL));
    assert_int_equal(state_of(download), DODownloadState_Created);
    done_with(download);
}

/* dosvc has no content service: a ContentId alone cannot be fetched. */
static void test_start_with_only_a_content_id_is_no_uri(void **state)
{
    IDODownload *download = new_download();
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_ContentId, L"content"));
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_LocalPath, dosvc_test_path(L"cid.bin")));
    assert_hr(DO_E_DOWNLOAD_NO_URI, IDODownload_Start(download, NULL));
    done_with(download);
}

static void test_start_without_a_sink_is_sink_unspecified(void **state)
{
    IDODownload *download = new_download();
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_Uri, L"http://127.0.0.1:1/x"));
    assert_hr(DO_E_FILE_DOWNLOADSINK_UNSPECIFIED, IDODownload_Start(download, NULL));
    assert_int_equal(state_of(download), DODownloadState_Created);
    done_with(download);
}

/* spec 5.7: a stream takes ranges, the whole file being {0, DO_LENGTH_TO_EOF}. */
static void test_start_of_a_stream_without_ranges_is_ranges_expected(void **state)
{
    IDODownload *download = new_download();
    IUnknown *stream = memory_stream();
    DO_DOWNLOAD_RANGES_INFO none = { 0 };

    assert_hr(S_OK, set_bstr(download, DODownloadProperty_Uri, L"http://127.0.0.1:1/x"));
    assert_hr(S_OK, set_unknown(download, DODownloadProperty_StreamInterface, stream));
    assert_hr(DO_E_DOWNLOAD_RANGES_EXPECTED, IDODownload_Start(download, NULL));
    assert_hr(DO_E_DOWNLOAD_RANGES_EXPECTED, IDODownload_Start(download, &none));
    assert_int_equal(state_of(download), DODownloadState_Created);
    done_with(download);
    IUnknown_Release(stream);
}

static void test_start_with_a_zero_length_range_is_invalid_range(void **state)
{
    IDODownload *download = new_download();
    DO_DOWNLOAD_RANGES_INFO ranges = { 1, { { 0, 0 } } };

    assert_hr(S_OK, set_bstr(download, DODownloadProperty_Uri, L"http://127.0.0.1:1/x"));
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_LocalPath, dosvc_test_path(L"zero.bin")));
    assert_hr(DO_E_INVALID_RANGE, IDODownload_Start(download, &ranges));
    assert_int_equal(state_of(download), DODownloadState_Created);
    done_with(download);
}

/* ---- the state machine without a transfer (clients.md 1.5) ------------------------------------- */

static void test_pause_of_a_created_download_changes_nothing(void **state)
{
    IDODownload *download = new_download();
    assert_hr(S_OK, IDODownload_Pause(download));
    assert_int_equal(state_of(download), DODownloadState_Created);
    done_with(download);
}

static void test_finalize_of_a_created_download_is_invalid_state(void **state)
{
    IDODownload *download = new_download();
    assert_hr(DO_E_INVALID_STATE, IDODownload_Finalize(download));
    assert_int_equal(state_of(download), DODownloadState_Created);
    done_with(download);
}

static void test_an_aborted_download_takes_no_more_changes(void **state)
{
    IDODownload *download = new_download();

    assert_hr(S_OK, set_bstr(download, DODownloadProperty_Uri, L"http://127.0.0.1:1/x"));
    assert_hr(S_OK, IDODownload_Abort(download));
    assert_int_equal(state_of(download), DODownloadState_Aborted);
    assert_hr(DO_E_INVALID_STATE, IDODownload_Start(download, NULL));
    assert_hr(DO_E_INVALID_STATE, IDODownload_Pause(download));
    assert_hr(DO_E_INVALID_STATE, IDODownload_Finalize(download));
    assert_hr(DO_E_INVALID_STATE, set_bstr(download, DODownloadProperty_DisplayName, L"late"));
    assert_hr(S_OK, IDODownload_Abort(download));     /* the same request again is no error */
    IDODownload_Release(download);
}

static void test_properties_created_only_are_refused_once_started(void **state)
{
    IDODownload *download = new_download();

    assert_hr(S_OK, set_bstr(download, DODownloadProperty_Uri, dosvc_server_url(FALSE, L"/gen/64m?seed=started&fault=stall&seconds=30")));
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_LocalPath, dosvc_test_path(L"started.bin")));
    assert_hr(S_OK, IDODownload_Start(download, NULL));
    assert_hr(DO_E_INVALID_STATE, set_bstr(download, DODownloadProperty_LocalPath, dosvc_test_path(L"other.bin")));
    assert_hr(DO_E_INVALID_STATE, set_bstr(download, DODownloadProperty_ContentId, L"late"));
    assert_hr(DO_E_INVALID_STATE, set_bstr(download, DODownloadProperty_Uri, L"http://127.0.0.1:1/y"));   /* not paused */
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_DisplayName, L"renamed while running"));
    assert_hr(S_OK, IDODownload_Pause(download));
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_Uri, L"http://127.0.0.1:1/y"));               /* paused */
    done_with(download);
}

/* ---- EnumDownloads (spec 3.16) -------------------------------------------------------------- */

static HRESULT enum_by(DODownloadProperty property, const WCHAR *value, IEnumUnknown **out)
{
    DO_DOWNLOAD_ENUM_CATEGORY category = { property, value };
    return IDOManager_EnumDownloads(domanager, &category, out);
}

/* The number of items, read with Next(1) until it says S_FALSE, each answering IDODownload. */
static ULONG count_items(IEnumUnknown *items)
{
    IUnknown *item;
    IDODownload *download;
    ULONG n = 0, fetched;

    while (IEnumUnknown_Next(items, 1, &item, &fetched) == S_OK)
    {
        assert_int_equal(fetched, 1);
        download = dosvc_query(item, &IID_IDODownload);
        IDODownload_Release(download);
        IUnknown_Release(item);
        n++;
    }
    return n;
}

static void test_enum_downloads_finds_a_download_by_each_category(void **state)
{
    IDODownload *download = new_download();
    IEnumUnknown *items;
    WCHAR local[MAX_PATH], upper[MAX_PATH];
    VARIANT id;

    lstrcpyW(local, dosvc_test_path(L"enum-by-path.bin"));
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_Uri, L"http://127.0.0.1:1/enum-by-uri"));
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_ContentId, L"enum-cid"));
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_DisplayName, L"enum name"));
    assert_hr(S_OK, set_bstr(download, DODownloadProperty_LocalPath, local));
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_Id, &id));

    assert_hr(S_OK, enum_by(DODownloadProperty_Id, V_BSTR(&id), &items));
    assert_int_equal(count_items(items), 1);
    IEnumUnknown_Release(items);
    CharLowerW(V_BSTR(&id));    /* ids compare as GUIDs do */
    assert_hr(S_OK, enum_by(DODownloadProperty_Id, V_BSTR(&id), &items));
    assert_int_equal(count_items(items), 1);
    IEnumUnknown_Release(items);
    assert_hr(S_OK, enum_by(DODownloadProperty_Uri, L"http://127.0.0.1:1/enum-by-uri", &items));
    assert_int_equal(count_items(items), 1);
    IEnumUnknown_Release(items);
    assert_hr(S_OK, enum_by(DODownloadProperty_ContentId, L"enum-cid", &items));
    assert_int_equal(count_items(items), 1);
    IEnumUnknown_Release(items);
    assert_hr(S_OK, enum_by(DODownloadProperty_DisplayName, L"enum name", &items));
    assert_int_equal(count_items(items), 1);
    IEnumUnknown_Release(items);
    lstrcpyW(upper, local);
    CharUpperW(upper);
    assert_hr(S_OK, enum_by(DODownloadProperty_LocalPath, upper, &items));
    assert_int_equal(count_items(items), 1);
    IEnumUnknown_Release(items);
    assert_hr(DO_E_NO_DOWNLOADS, enum_by(DODownloadProperty_DisplayName, L"ENUM NAME", &items));
    assert_null(items);
    VariantClear(&id);
    done_with(download);
}

/* clients.md 1.4: a finished download is no longer found; nothing found is DO_E_NO_DOWNLOADS. */
static void test_enum_downloads_no_longer_shows_an_aborted_download(void **state)
{
    IDODownload *download = new_download();
    IEnumUnknown *items = (IEnumUnknown *)0xdeadbeef;

    assert_hr(S_OK, set_bstr(download, DODownloadProperty_DisplayName, L"enum-aborted"));
    assert_hr(S_OK, IDODownload_Abort(download));
    assert_hr(DO_E_NO_DOWNLOADS, enum_by(DODownloadProperty_DisplayName, L"enum-aborted", &items));
    assert_null(items);
    IDODownload_Release(download);
}

static void test_enum_downloads_refuses_other_categories(void **state)
{
    IEnumUnknown *items;
    DO_DOWNLOAD_ENUM_CATEGORY no_value = { DODownloadProperty_Uri, NULL };

    assert_hr(E_INVALIDARG, enum_by(DODownloadProperty_CostPolicy, L"1", &items));
    assert_hr(E_INVALIDARG, enum_by(DODownloadProperty_HttpStatusCode, L"200", &items));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, enum_by((DODownloadProperty)77, L"x", &items));
    assert_hr(E_INVALIDARG, IDOManager_EnumDownloads(domanager, &no_value, &items));
}

static void test_enum_downloads_next_skip_reset_clone(void **state)
{
    IDODownload *a = new_download(), *b = new_download(), *c = new_download();
    IUnknown *got[3] = { 0 };
    IEnumUnknown *items, *clone;
    ULONG fetched = 99, i;

    assert_hr(S_OK, set_bstr(a, DODownloadProperty_DisplayName, L"enum-walk"));
    assert_hr(S_OK, set_bstr(b, DODownloadProperty_DisplayName, L"enum-walk"));
    assert_hr(S_OK, set_bstr(c, DODownloadProperty_DisplayName, L"enum-walk"));
    assert_hr(S_OK, enum_by(DODownloadProperty_DisplayName, L"enum-walk", &items));
    assert_hr(E_INVALIDARG, IEnumUnknown_Next(items, 2, got, NULL));
    assert_hr(S_OK, IEnumUnknown_Skip(items, 1));
    assert_hr(S_OK, IEnumUnknown_Clone(items, &clone));
    assert_hr(S_FALSE, IEnumUnknown_Next(items, 3, got, &fetched));
    assert_int_equal(fetched, 2);
    for (i = 0; i < fetched; i++) IUnknown_Release(got[i]);
    assert_int_equal(count_items(clone), 2);          /* the clone kept its own place */
    assert_hr(S_FALSE, IEnumUnknown_Skip(items, 1));
    assert_hr(S_OK, IEnumUnknown_Reset(items));
    assert_int_equal(count_items(items), 3);
    IEnumUnknown_Release(clone);
    IEnumUnknown_Release(items);
    done_with(a);
    done_with(b);
    done_with(c);
}

/* Issue 9 defect 4: a Uri that is a file URL naming a device, a pipe or a path from no drive is
 * refused, and the Uri set before stays. */
static void test_uri_rejects_file_urls_naming_devices(void **state)
{
    IDODownload *download = new_download();
    VARIANT v;
    size_t i;

    assert_hr(S_OK, set_bstr(download, DODownloadProperty_Uri, L"file:///C:/windows/win.ini"));
    for (i = 0; dosvc_device_file_urls[i]; i++)
        assert_hr(E_INVALIDARG, set_bstr(download, DODownloadProperty_Uri, dosvc_device_file_urls[i]));
    assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_Uri, &v));
    assert_wstr_equal(L"file:///C:/windows/win.ini", V_BSTR(&v));
    VariantClear(&v);
    done_with(download);
}

/* Issue 9 defect 6, clients.md 1.4: a LocalPath that is no valid path (the DO SDK's own test uses
 * this one) is HRESULT_FROM_WIN32(ERROR_INVALID_NAME), as DoSvc answers, and sets nothing. */
static void test_local_path_that_is_no_valid_path_is_invalid_name_and_sets_nothing(void **state)
{
    static const WCHAR *const bad[] = {
        L"?f309adfasdf///dfasdfj39fjasldfjasdf///           ///.1", L"relative\\file.bin", L"C:\\dir\\NUL",
        L"C:\\dir\\file.bin:stream", L"\\\\?\\C:\\dir\\file.bin",
    };
    IDODownload *download = new_download();
    VARIANT v;
    size_t i;

    for (i = 0; i < ARRAYSIZE(bad); i++)
        assert_hr(HRESULT_FROM_WIN32(ERROR_INVALID_NAME), set_bstr(download, DODownloadProperty_LocalPath, bad[i]));
    assert_hr(E_NOT_SET, IDODownload_GetProperty(download, DODownloadProperty_LocalPath, &v));
    done_with(download);
}

/* Issue 9 defect 6: DoSvc takes LF line ends and a last line without one, as the DO SDK's test
 * sets them; the text reads back as it was given (docs/ido.md says what goes on the wire). */
static void test_custom_headers_take_lf_line_ends_and_a_last_line_without_one(void **state)
{
    static const WCHAR *const texts[] = {
        L"XCustom1=someData\nXCustom2=moreData", L"X-One: 1\nX-Two: 2", L"X-One: 1\r\nX-Two: 2", L"X-One: 1",
    };
    IDODownload *download = new_download();
    VARIANT v;
    size_t i;

    for (i = 0; i < ARRAYSIZE(texts); i++)
    {
        assert_hr(S_OK, set_bstr(download, DODownloadProperty_HttpCustomHeaders, texts[i]));
        assert_hr(S_OK, IDODownload_GetProperty(download, DODownloadProperty_HttpCustomHeaders, &v));
        assert_wstr_equal(texts[i], V_BSTR(&v));
        VariantClear(&v);
        assert_hr(S_OK, set_bstr(download, DODownloadProperty_HttpCustomAuthHeaders, texts[i]));
    }
    done_with(download);
}

/* One header rule for both APIs (docs/ido.md): a line with a colon is a field, its name a token
 * and none the transport writes itself; text that breaks it is refused by both properties, and
 * what was set stays. */
static void test_custom_headers_with_a_transport_field_or_a_name_that_is_no_token_are_refused(void **state)
{
    static const WCHAR *const bad[] = {
        L"Host: evil.example\nContent-Length: 5\nTransfer-Encoding: chunked", L"Range: bytes=0-0",
        L"X-Ok: 1\nif-range: \"v1\"", L"Connection: close", L"Expect: 100-continue", L"Bad Name: v", L"a b c: d",
        L"XCustom1=someData\n  folded: v",
    };
    static const DODownloadProperty ids[] = { DODownloadProperty_HttpCustomHeaders, DODownloadProperty_HttpCustomAuthHeaders };
    IDODownload *download = new_download();
    VARIANT v;
    size_t i, k;

    for (k = 0; k < ARRAYSIZE(ids); k++)
    {
        assert_hr(S_OK, set_bstr(download, ids[k], L"X-Keep: kept"));
        for (i = 0; i < ARRAYSIZE(bad); i++) assert_hr(E_INVALIDARG, set_bstr(download, ids[k], bad[i]));
        assert_hr(S_OK, IDODownload_GetProperty(download, ids[k], &v));
        assert_wstr_equal(L"X-Keep: kept", V_BSTR(&v));
        VariantClear(&v);
    }
    done_with(download);
}

/* Issue 9 defect 6: nothing verifies pieces or decrypts, so these ids answer as on a DO without
 * those features, DO_E_UNKNOWN_PROPERTY_ID both ways (the only answer the DO SDK accepts), and
 * change nothing. */
static void test_decryption_and_integrity_properties_are_unknown_both_ways(void **state)
{
    IDODownload *download = new_download();
    VARIANT v;

    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, set_bstr(download, DODownloadProperty_DecryptionInfo, L"{\"KeyData\":\"AAAA\"}"));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID,
              set_bstr(download, DODownloadProperty_IntegrityCheckInfo, L"{\"PiecesHashFileUrl\":\"http://x/\"}"));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, set_bool(download, DODownloadProperty_IntegrityCheckMandatory, VARIANT_TRUE));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, set_bool(download, DODownloadProperty_IntegrityCheckMandatory, VARIANT_FALSE));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IDODownload_GetProperty(download, DODownloadProperty_DecryptionInfo, &v));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IDODownload_GetProperty(download, DODownloadProperty_IntegrityCheckInfo, &v));
    assert_hr(DO_E_UNKNOWN_PROPERTY_ID, IDODownload_GetProperty(download, DODownloadProperty_IntegrityCheckMandatory, &v));
    done_with(download);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_download_is_created_with_nothing_transferred),
        cmocka_unit_test(test_get_status_rejects_null),
        cmocka_unit_test(test_proxy_blanket_can_be_set_on_a_download),
        cmocka_unit_test(test_downloads_are_not_bits_jobs),
        cmocka_unit_test(test_id_is_a_guid_text_that_is_read_only),
        cmocka_unit_test(test_unknown_property_ids_are_refused_both_ways),
        cmocka_unit_test(test_read_only_properties_refuse_set),
        cmocka_unit_test(test_write_only_properties_refuse_get),
        cmocka_unit_test(test_properties_never_set_are_not_set),
        cmocka_unit_test(test_get_property_rejects_null),
        cmocka_unit_test(test_each_property_reads_back_what_was_set_in_its_type),
        cmocka_unit_test(test_wrong_variant_type_is_invalid_arg_and_changes_nothing),
        cmocka_unit_test(test_bad_values_are_invalid_arg_and_change_nothing),
        cmocka_unit_test(test_no_progress_timeout_zero_asks_for_the_default),
        cmocka_unit_test(test_local_path_reads_back_absolute),
        cmocka_unit_test(test_security_context_takes_only_a_serialized_certificate),
        cmocka_unit_test(test_callback_reads_back_and_a_second_replaces_the_first),
        cmocka_unit_test(test_stream_reads_back_as_given),
        cmocka_unit_test(test_local_path_and_stream_exclude_each_other),
        cmocka_unit_test(test_start_without_uri_is_no_uri_and_stays_created),
        cmocka_unit_test(test_start_with_only_a_content_id_is_no_uri),
        cmocka_unit_test(test_start_without_a_sink_is_sink_unspecified),
        cmocka_unit_test(test_start_of_a_stream_without_ranges_is_ranges_expected),
        cmocka_unit_test(test_start_with_a_zero_length_range_is_invalid_range),
        cmocka_unit_test(test_pause_of_a_created_download_changes_nothing),
        cmocka_unit_test(test_finalize_of_a_created_download_is_invalid_state),
        cmocka_unit_test(test_an_aborted_download_takes_no_more_changes),
        cmocka_unit_test(test_properties_created_only_are_refused_once_started),
        cmocka_unit_test(test_enum_downloads_finds_a_download_by_each_category),
        cmocka_unit_test(test_enum_downloads_no_longer_shows_an_aborted_download),
        cmocka_unit_test(test_enum_downloads_refuses_other_categories),
        cmocka_unit_test(test_enum_downloads_next_skip_reset_clone),
        cmocka_unit_test(test_uri_rejects_file_urls_naming_devices),
        cmocka_unit_test(test_local_path_that_is_no_valid_path_is_invalid_name_and_sets_nothing),
        cmocka_unit_test(test_custom_headers_take_lf_line_ends_and_a_last_line_without_one),
        cmocka_unit_test(test_custom_headers_with_a_transport_field_or_a_name_that_is_no_token_are_refused),
        cmocka_unit_test(test_decryption_and_integrity_properties_are_unknown_both_ways),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
