/*
 * The DeliveryOptimization object: its interface table, IDOManager (not yet
 * implemented), the proxy blanket DO clients set on it, and
 * IBackgroundCopyManager over the one shared store (spec 3.1, notes/com_decisions.md
 * "Server / factory / manager"). Every test cancels the jobs it creates.
 */
#include "com_test.h"

#include <sddl.h>
#include <wininet.h>

#include <stdlib.h>
#include <wchar.h>

static IBackgroundCopyManager *manager;

static const GUID GUID_unknown_job = { 0x6c1b4d2e, 0x0f00, 0x4bad, { 0x8e, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 } };

#define assert_guid_equal(expected, actual) assert_memory_equal((expected), (actual), sizeof(GUID))

/* A string of n copies of c, freed with free(). */
static WCHAR *repeat(WCHAR c, size_t n)
{
    WCHAR *s = malloc((n + 1) * sizeof(WCHAR));
    size_t i;

    assert_non_null(s);
    for (i = 0; i < n; i++) s[i] = c;
    s[n] = 0;
    return s;
}

static void cancel_and_release(IBackgroundCopyJob *job)
{
    IBackgroundCopyJob_Cancel(job);
    IBackgroundCopyJob_Release(job);
}

static IEnumBackgroundCopyJobs *enum_jobs(DWORD flags)
{
    IEnumBackgroundCopyJobs *jobs = NULL;

    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(manager, flags, &jobs));
    assert_non_null(jobs);
    return jobs;
}

static ULONG listed_jobs(void)
{
    IEnumBackgroundCopyJobs *jobs = enum_jobs(BG_JOB_ENUM_ALL_USERS);
    ULONG count = 0xdeadbeef;

    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(jobs, &count));
    IEnumBackgroundCopyJobs_Release(jobs);
    return count;
}

/* Position of job id in an enumeration, or -1 when it is not there. */
static int position_of(IEnumBackgroundCopyJobs *jobs, const GUID *id)
{
    IBackgroundCopyJob *job;
    int position = 0, found = -1;
    GUID got;

    assert_hr(S_OK, IEnumBackgroundCopyJobs_Reset(jobs));
    while (IEnumBackgroundCopyJobs_Next(jobs, 1, &job, NULL) == S_OK)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetId(job, &got));
        if (found < 0 && IsEqualGUID(&got, id)) found = position;
        IBackgroundCopyJob_Release(job);
        position++;
    }
    return found;
}

static BG_JOB_STATE state_of(IBackgroundCopyJob *job)
{
    BG_JOB_STATE state = 0xdeadbeef;
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &state));
    return state;
}

/* ---- QueryInterface ------------------------------------------------------------ */

static void test_manager_answers_its_four_interfaces(void **state)
{
    const IID *iids[] = { &IID_IUnknown, &IID_IBackgroundCopyManager, &IID_IDOManager, &IID_IClientSecurity };
    IUnknown *out;
    size_t i;

    for (i = 0; i < ARRAYSIZE(iids); i++)
    {
        out = NULL;
        assert_hr(S_OK, IBackgroundCopyManager_QueryInterface(manager, iids[i], (void **)&out));
        assert_non_null(out);
        IUnknown_Release(out);
    }
}

static void test_manager_refuses_other_interfaces_with_no_interface(void **state)
{
    const IID *iids[] = { &IID_IBackgroundCopyJob, &IID_IClassFactory, &IID_IDODownload, &IID_IEnumBackgroundCopyJobs };
    void *out;
    size_t i;

    for (i = 0; i < ARRAYSIZE(iids); i++)
    {
        out = (void *)0xdeadbeef;
        assert_hr(E_NOINTERFACE, IBackgroundCopyManager_QueryInterface(manager, iids[i], &out));
        assert_null(out);
    }
}

static void test_manager_query_interface_with_null_out_fails_with_pointer(void **state)
{
    assert_hr(E_POINTER, IBackgroundCopyManager_QueryInterface(manager, &IID_IUnknown, NULL));
}

/* COM identity: IUnknown from any interface is one pointer. */
static void test_manager_iunknown_is_the_same_from_every_interface(void **state)
{
    const IID *iids[] = { &IID_IBackgroundCopyManager, &IID_IDOManager, &IID_IClientSecurity };
    IUnknown *identity, *iface, *unknown;
    size_t i;

    assert_hr(S_OK, IBackgroundCopyManager_QueryInterface(manager, &IID_IUnknown, (void **)&identity));
    for (i = 0; i < ARRAYSIZE(iids); i++)
    {
        assert_hr(S_OK, IBackgroundCopyManager_QueryInterface(manager, iids[i], (void **)&iface));
        assert_hr(S_OK, IUnknown_QueryInterface(iface, &IID_IUnknown, (void **)&unknown));
        assert_ptr_equal(unknown, identity);
        IUnknown_Release(unknown);
        IUnknown_Release(iface);
    }
    IUnknown_Release(identity);
}

static void test_manager_interfaces_share_one_reference_count(void **state)
{
    IDOManager *domanager;
    ULONG before = dosvc_refcount(manager);

    assert_hr(S_OK, IBackgroundCopyManager_QueryInterface(manager, &IID_IDOManager, (void **)&domanager));
    assert_int_equal(dosvc_refcount(manager), before + 1);
    IDOManager_Release(domanager);
    assert_int_equal(dosvc_refcount(manager), before);
}

/* ---- IDOManager: the argument checks (test_download.c has the rest) ----------------- */

static void test_create_download_rejects_null_out(void **state)
{
    IDOManager *domanager;

    assert_hr(S_OK, IBackgroundCopyManager_QueryInterface(manager, &IID_IDOManager, (void **)&domanager));
    assert_hr(E_INVALIDARG, IDOManager_CreateDownload(domanager, NULL));
    IDOManager_Release(domanager);
}

static void test_enum_downloads_rejects_null_out(void **state)
{
    IDOManager *domanager;

    assert_hr(S_OK, IBackgroundCopyManager_QueryInterface(manager, &IID_IDOManager, (void **)&domanager));
    assert_hr(E_INVALIDARG, IDOManager_EnumDownloads(domanager, NULL, NULL));
    IDOManager_Release(domanager);
}

/* ---- proxy blanket (clients.md 0.2: DO clients fail hard if it fails) ---------------- */

static void test_query_proxy_blanket_reports_defaults(void **state)
{
    IBackgroundCopyManager *fresh = dosvc_manager();
    DWORD authn = 0xdead, authz = 0xdead, level = 0xdead, imp = 0xdead, caps = 0xdead;

    assert_hr(S_OK, CoQueryProxyBlanket((IUnknown *)fresh, &authn, &authz, NULL, &level, &imp, NULL, &caps));
    assert_int_equal(authn, RPC_C_AUTHN_WINNT);
    assert_int_equal(authz, RPC_C_AUTHZ_NONE);
    assert_int_equal(level, RPC_C_AUTHN_LEVEL_PKT_PRIVACY);
    assert_int_equal(imp, RPC_C_IMP_LEVEL_IMPERSONATE);
    assert_int_equal(caps, EOAC_NONE);
    IBackgroundCopyManager_Release(fresh);
}

/* The call the DO SDK and winget make, failing hard on an error. */
static void test_set_proxy_blanket_succeeds(void **state)
{
    IBackgroundCopyManager *fresh = dosvc_manager();

    assert_hr(S_OK, CoSetProxyBlanket((IUnknown *)fresh, RPC_C_AUTHN_DEFAULT, RPC_C_AUTHZ_NONE, COLE_DEFAULT_PRINCIPAL,
                                      RPC_C_AUTHN_LEVEL_DEFAULT, RPC_C_IMP_LEVEL_IMPERSONATE, NULL,
                                      EOAC_STATIC_CLOAKING));
    IBackgroundCopyManager_Release(fresh);
}

static void test_query_proxy_blanket_reports_last_values_set(void **state)
{
    IBackgroundCopyManager *fresh = dosvc_manager();
    DWORD authn = 0xdead, authz = 0xdead, level = 0xdead, imp = 0xdead, caps = 0xdead;

    assert_hr(S_OK, CoSetProxyBlanket((IUnknown *)fresh, RPC_C_AUTHN_GSS_NEGOTIATE, RPC_C_AUTHZ_NAME, NULL,
                                      RPC_C_AUTHN_LEVEL_CALL, RPC_C_IMP_LEVEL_IDENTIFY, NULL, EOAC_DYNAMIC_CLOAKING));
    assert_hr(S_OK, CoQueryProxyBlanket((IUnknown *)fresh, &authn, &authz, NULL, &level, &imp, NULL, &caps));
    assert_int_equal(authn, RPC_C_AUTHN_GSS_NEGOTIATE);
    assert_int_equal(authz, RPC_C_AUTHZ_NAME);
    assert_int_equal(level, RPC_C_AUTHN_LEVEL_CALL);
    assert_int_equal(imp, RPC_C_IMP_LEVEL_IDENTIFY);
    assert_int_equal(caps, EOAC_DYNAMIC_CLOAKING);
    IBackgroundCopyManager_Release(fresh);
}

/* ---- CreateJob (spec 3.1 slot 3) -------------------------------------------------- */

static void test_create_job_returns_a_new_id_and_job(void **state)
{
    IBackgroundCopyJob *job = (IBackgroundCopyJob *)0xdeadbeef;
    GUID id = GUID_NULL;

    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"new", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_non_null(job);
    assert_false(IsEqualGUID(&id, &GUID_NULL));
    cancel_and_release(job);
}

static void test_create_job_gives_each_job_its_own_id(void **state)
{
    GUID first, second;
    IBackgroundCopyJob *a = dosvc_create_job(manager, L"a", &first), *b = dosvc_create_job(manager, L"b", &second);

    assert_false(IsEqualGUID(&first, &second));
    cancel_and_release(a);
    cancel_and_release(b);
}

static void test_created_job_id_matches_get_id(void **state)
{
    GUID id, got;
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"id", &id);

    assert_hr(S_OK, IBackgroundCopyJob_GetId(job, &got));
    assert_guid_equal(&id, &got);
    cancel_and_release(job);
}

/* spec 3.1: "The job starts inactive; call Resume to activate it." */
static void test_created_job_is_suspended(void **state)
{
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"suspended", NULL);

    assert_int_equal(state_of(job), BG_JOB_STATE_SUSPENDED);
    cancel_and_release(job);
}

static void test_created_job_keeps_its_display_name(void **state)
{
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"Firefox update \x00e9t\x00e9", NULL);
    WCHAR *name = NULL;

    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(job, &name));
    assert_wstr_equal(L"Firefox update \x00e9t\x00e9", name);
    CoTaskMemFree(name);
    cancel_and_release(job);
}

static void test_created_job_is_listed(void **state)
{
    ULONG before = listed_jobs();
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"listed", NULL);

    assert_int_equal(listed_jobs(), before + 1);
    cancel_and_release(job);
    assert_int_equal(listed_jobs(), before);
}

/* spec 3.1: "at most 256 characters (excluding the NUL)" */
static void test_create_job_accepts_256_character_name(void **state)
{
    WCHAR *name = repeat('n', 256);
    IBackgroundCopyJob *job = dosvc_create_job(manager, name, NULL);

    free(name);
    cancel_and_release(job);
}

/* Each failure below returns E_INVALIDARG, clears the out pointer and lists no job. */
static void assert_create_job_fails(const WCHAR *name, BG_JOB_TYPE type, GUID *id, BOOL with_out)
{
    IBackgroundCopyJob *job = (IBackgroundCopyJob *)0xdeadbeef;
    ULONG before = listed_jobs();

    assert_hr(E_INVALIDARG, IBackgroundCopyManager_CreateJob(manager, name, type, id, with_out ? &job : NULL));
    if (with_out) assert_null(job);
    assert_int_equal(listed_jobs(), before);
}

static void test_create_job_rejects_257_character_name(void **state)
{
    WCHAR *name = repeat('n', 257);
    GUID id;

    assert_create_job_fails(name, BG_JOB_TYPE_DOWNLOAD, &id, TRUE);
    free(name);
}

static void test_create_job_rejects_null_name(void **state)
{
    GUID id;
    assert_create_job_fails(NULL, BG_JOB_TYPE_DOWNLOAD, &id, TRUE);
}

/* spec 3.1: only BG_JOB_TYPE_DOWNLOAD exists in DO. */
static void test_create_job_rejects_upload_types(void **state)
{
    GUID id;
    assert_create_job_fails(L"up", BG_JOB_TYPE_UPLOAD, &id, TRUE);
    assert_create_job_fails(L"up", BG_JOB_TYPE_UPLOAD_REPLY, &id, TRUE);
    assert_create_job_fails(L"up", (BG_JOB_TYPE)99, &id, TRUE);
}

static void test_create_job_rejects_null_id(void **state)
{
    assert_create_job_fails(L"no id", BG_JOB_TYPE_DOWNLOAD, NULL, TRUE);
}

static void test_create_job_rejects_null_out(void **state)
{
    GUID id;
    assert_create_job_fails(L"no out", BG_JOB_TYPE_DOWNLOAD, &id, FALSE);
}

/* ---- the caller's identity --------------------------------------------------------- */

/* Makes the calling thread impersonate a copy of the process's token that nobody may read
 * (its DACL is empty): whom the thread acts for cannot be known. RevertToSelf ends it. */
static void impersonate_an_unreadable_token(void)
{
    SECURITY_ATTRIBUTES attributes = { sizeof(attributes), NULL, FALSE };
    PSECURITY_DESCRIPTOR nobody;
    HANDLE process, copy;

    assert_true(ConvertStringSecurityDescriptorToSecurityDescriptorW(L"D:", SDDL_REVISION_1, &nobody, NULL));
    attributes.lpSecurityDescriptor = nobody;
    assert_true(OpenProcessToken(GetCurrentProcess(), TOKEN_DUPLICATE, &process));
    assert_true(DuplicateTokenEx(process, TOKEN_IMPERSONATE, &attributes, SecurityImpersonation, TokenImpersonation,
                                 &copy));
    assert_true(SetThreadToken(NULL, copy));
    CloseHandle(copy);
    CloseHandle(process);
    LocalFree(nobody);
}

/* The process's user is looked up once and kept, but a thread that impersonates is known by
 * its own token: when that cannot be read, the job is not made, never given to the process. */
static void test_create_job_fails_while_impersonating_a_token_that_cannot_be_read(void **state)
{
    IBackgroundCopyJob *job = NULL;
    ULONG before;
    HRESULT hr;
    GUID id;

    cancel_and_release(dosvc_create_job(manager, L"known caller", &id));   /* the process's user is known now */
    before = listed_jobs();
    impersonate_an_unreadable_token();
    hr = IBackgroundCopyManager_CreateJob(manager, L"unknown caller", BG_JOB_TYPE_DOWNLOAD, &id, &job);
    assert_true(RevertToSelf());
    assert_hr(E_ACCESSDENIED, hr);
    assert_null(job);
    assert_int_equal(before, listed_jobs());
}

/* ---- GetJob (spec 3.1 slot 4) ------------------------------------------------------- */

static void test_get_job_finds_created_job(void **state)
{
    GUID id, got;
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"findable", &id), *found = NULL;
    WCHAR *name = NULL;

    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, &id, &found));
    assert_non_null(found);
    assert_hr(S_OK, IBackgroundCopyJob_GetId(found, &got));
    assert_guid_equal(&id, &got);
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(found, &name));
    assert_wstr_equal(L"findable", name);
    CoTaskMemFree(name);
    IBackgroundCopyJob_Release(found);
    cancel_and_release(job);
}

/* A found job is a view of the same record, not a copy. */
static void test_get_job_view_sees_changes_made_through_another_view(void **state)
{
    GUID id;
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"before", &id), *found = NULL;
    WCHAR *name = NULL;

    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, &id, &found));
    assert_hr(S_OK, IBackgroundCopyJob_SetDisplayName(job, L"after"));
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(found, &name));
    assert_wstr_equal(L"after", name);
    CoTaskMemFree(name);
    IBackgroundCopyJob_Release(found);
    cancel_and_release(job);
}

static void test_get_job_of_unknown_id_fails_with_job_not_found(void **state)
{
    IBackgroundCopyJob *found = (IBackgroundCopyJob *)0xdeadbeef;

    assert_hr(DO_E_JOB_NOT_FOUND, IBackgroundCopyManager_GetJob(manager, &GUID_unknown_job, &found));
    assert_null(found);
}

static void test_get_job_after_cancel_fails_with_job_not_found(void **state)
{
    GUID id;
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"cancelled", &id), *found = (IBackgroundCopyJob *)0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(DO_E_JOB_NOT_FOUND, IBackgroundCopyManager_GetJob(manager, &id, &found));
    assert_null(found);
    IBackgroundCopyJob_Release(job);
}

static void test_get_job_after_complete_fails_with_job_not_found(void **state)
{
    GUID id;
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"completed", &id), *found = (IBackgroundCopyJob *)0xdeadbeef;

    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_hr(DO_E_JOB_NOT_FOUND, IBackgroundCopyManager_GetJob(manager, &id, &found));
    assert_null(found);
    IBackgroundCopyJob_Release(job);
}

static void test_get_job_with_null_out_fails_with_invalid_arg(void **state)
{
    GUID id;
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"null out", &id);

    assert_hr(E_INVALIDARG, IBackgroundCopyManager_GetJob(manager, &id, NULL));
    cancel_and_release(job);
}

/* DESIGN: one process-wide store; every manager is a view of it. */
static void test_managers_share_one_store(void **state)
{
    IBackgroundCopyManager *other = dosvc_manager();
    IBackgroundCopyJob *job = NULL, *found = NULL;
    GUID id, got;

    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(other, L"shared", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    IBackgroundCopyManager_Release(other);
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, &id, &found));
    assert_hr(S_OK, IBackgroundCopyJob_GetId(found, &got));
    assert_guid_equal(&id, &got);
    IBackgroundCopyJob_Release(found);
    cancel_and_release(job);
}

/* ---- EnumJobs (spec 3.1 slot 5) ------------------------------------------------------- */

static void test_enum_jobs_of_caller_lists_created_job(void **state)
{
    GUID id;
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"mine", &id);
    IEnumBackgroundCopyJobs *jobs = enum_jobs(0);

    assert_true(position_of(jobs, &id) >= 0);
    IEnumBackgroundCopyJobs_Release(jobs);
    cancel_and_release(job);
}

static void test_enum_jobs_of_all_users_lists_created_job(void **state)
{
    GUID id;
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"anyone's", &id);
    IEnumBackgroundCopyJobs *jobs = enum_jobs(BG_JOB_ENUM_ALL_USERS);

    assert_true(position_of(jobs, &id) >= 0);
    IEnumBackgroundCopyJobs_Release(jobs);
    cancel_and_release(job);
}

static void test_enum_jobs_rejects_unknown_flags(void **state)
{
    const DWORD flags[] = { 2, 3, 0x100, 0x80000000 };
    IEnumBackgroundCopyJobs *jobs;
    size_t i;

    for (i = 0; i < ARRAYSIZE(flags); i++)
    {
        jobs = (IEnumBackgroundCopyJobs *)0xdeadbeef;
        assert_hr(E_INVALIDARG, IBackgroundCopyManager_EnumJobs(manager, flags[i], &jobs));
        assert_null(jobs);
    }
}

static void test_enum_jobs_with_null_out_fails_with_invalid_arg(void **state)
{
    assert_hr(E_INVALIDARG, IBackgroundCopyManager_EnumJobs(manager, 0, NULL));
}

static void test_enum_jobs_lists_oldest_first(void **state)
{
    GUID ids[3];
    IBackgroundCopyJob *job[3];
    IEnumBackgroundCopyJobs *jobs;
    int first, second, third;
    int i;

    for (i = 0; i < 3; i++) job[i] = dosvc_create_job(manager, L"ordered", &ids[i]);
    jobs = enum_jobs(BG_JOB_ENUM_ALL_USERS);
    first = position_of(jobs, &ids[0]);
    second = position_of(jobs, &ids[1]);
    third = position_of(jobs, &ids[2]);
    assert_true(first >= 0);
    assert_true(second > first);
    assert_true(third > second);
    IEnumBackgroundCopyJobs_Release(jobs);
    for (i = 0; i < 3; i++) cancel_and_release(job[i]);
}

/* Jobs created after the enumerator was made are not seen by it. */
static void test_enum_jobs_is_a_snapshot(void **state)
{
    GUID old_id, new_id;
    IBackgroundCopyJob *old_job = dosvc_create_job(manager, L"old", &old_id), *new_job;
    IEnumBackgroundCopyJobs *jobs = enum_jobs(BG_JOB_ENUM_ALL_USERS);
    ULONG before = 0, after = 0;

    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(jobs, &before));
    new_job = dosvc_create_job(manager, L"new", &new_id);
    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(jobs, &after));
    assert_int_equal(after, before);
    assert_true(position_of(jobs, &old_id) >= 0);
    assert_int_equal(position_of(jobs, &new_id), -1);
    IEnumBackgroundCopyJobs_Release(jobs);
    cancel_and_release(new_job);
    cancel_and_release(old_job);
}

static void test_enum_jobs_omits_cancelled_and_completed_jobs(void **state)
{
    GUID cancelled_id, completed_id;
    IBackgroundCopyJob *cancelled = dosvc_create_job(manager, L"cancelled", &cancelled_id);
    IBackgroundCopyJob *completed = dosvc_create_job(manager, L"completed", &completed_id);
    IEnumBackgroundCopyJobs *jobs;

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(cancelled));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(completed));
    jobs = enum_jobs(BG_JOB_ENUM_ALL_USERS);
    assert_int_equal(position_of(jobs, &cancelled_id), -1);
    assert_int_equal(position_of(jobs, &completed_id), -1);
    IEnumBackgroundCopyJobs_Release(jobs);
    IBackgroundCopyJob_Release(cancelled);
    IBackgroundCopyJob_Release(completed);
}

/* ---- GetErrorDescription (spec 3.1 slot 6) ---------------------------------------------- */

#define ENGLISH MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US)

/* The description of code, which must exist and be non-empty; free with CoTaskMemFree. */
static WCHAR *describe(HRESULT code)
{
    WCHAR *text = NULL;

    assert_hr(S_OK, IBackgroundCopyManager_GetErrorDescription(manager, code, ENGLISH, &text));
    assert_non_null(text);
    assert_true(text[0] != 0);
    return text;
}

static void assert_description_contains(HRESULT code, const WCHAR *part)
{
    WCHAR *text = describe(code);

    if (!wcsstr(text, part)) fail_msg("description of 0x%08lx is \"%s\", lacking \"%s\"", (unsigned long)code,
                                      dosvc_utf8(text), dosvc_utf8(part));
    CoTaskMemFree(text);
}

static void test_error_description_of_do_invalid_state_is_english_text(void **state)
{
    assert_description_contains(DO_E_INVALID_STATE, L"state");
}

static void test_error_description_of_bg_not_found_is_english_text(void **state)
{
    assert_description_contains(BG_E_NOT_FOUND, L"not found");
}

/* spec 6.4: BG_E_HTTP_ERROR_nnn = 0x80190000 + nnn */
static void test_error_description_of_http_error_names_the_status(void **state)
{
    assert_description_contains((HRESULT)0x80190194, L"404");
}

static void test_error_description_of_system_code_comes_from_the_system(void **state)
{
    CoTaskMemFree(describe(E_OUTOFMEMORY));
    CoTaskMemFree(describe(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)));
}

static void test_error_description_of_unknown_code_fails_with_mr_mid_not_found(void **state)
{
    WCHAR *text = (WCHAR *)0xdeadbeef;

    assert_hr(HRESULT_FROM_WIN32(ERROR_MR_MID_NOT_FOUND),
              IBackgroundCopyManager_GetErrorDescription(manager, (HRESULT)0xA0DE0001, ENGLISH, &text));
    assert_null(text);
}

static void test_error_description_with_null_out_fails_with_invalid_arg(void **state)
{
    assert_hr(E_INVALIDARG, IBackgroundCopyManager_GetErrorDescription(manager, DO_E_INVALID_STATE, ENGLISH, NULL));
}

/* Issue 9 defect 7: WinINet's codes, which dosvc's transport reports, are described from
 * WinINet's own message table: 0x80072EE7 (ERROR_INTERNET_NAME_NOT_RESOLVED) and 0x80072EFD
 * (ERROR_INTERNET_CANNOT_CONNECT). */
static void test_error_description_of_wininet_codes_comes_from_wininet(void **state)
{
    assert_description_contains(HRESULT_FROM_WIN32(ERROR_INTERNET_NAME_NOT_RESOLVED), L"resolved");
    assert_description_contains(HRESULT_FROM_WIN32(ERROR_INTERNET_CANNOT_CONNECT), L"server");
}

/* ---- groups ------------------------------------------------------------------------------ */

static int setup_manager(void **state)
{
    return dosvc_setup_manager(&manager);
}

static int teardown_manager(void **state)
{
    return dosvc_teardown_manager(&manager);
}

int main(void)
{
    const struct CMUnitTest query_interface[] = {
        cmocka_unit_test(test_manager_answers_its_four_interfaces),
        cmocka_unit_test(test_manager_refuses_other_interfaces_with_no_interface),
        cmocka_unit_test(test_manager_query_interface_with_null_out_fails_with_pointer),
        cmocka_unit_test(test_manager_iunknown_is_the_same_from_every_interface),
        cmocka_unit_test(test_manager_interfaces_share_one_reference_count),
    };
    const struct CMUnitTest do_manager[] = {
        cmocka_unit_test(test_create_download_rejects_null_out),
        cmocka_unit_test(test_enum_downloads_rejects_null_out),
    };
    const struct CMUnitTest client_security[] = {
        cmocka_unit_test(test_query_proxy_blanket_reports_defaults),
        cmocka_unit_test(test_set_proxy_blanket_succeeds),
        cmocka_unit_test(test_query_proxy_blanket_reports_last_values_set),
    };
    const struct CMUnitTest create_job_tests[] = {
        cmocka_unit_test(test_create_job_returns_a_new_id_and_job),
        cmocka_unit_test(test_create_job_gives_each_job_its_own_id),
        cmocka_unit_test(test_created_job_id_matches_get_id),
        cmocka_unit_test(test_created_job_is_suspended),
        cmocka_unit_test(test_created_job_keeps_its_display_name),
        cmocka_unit_test(test_created_job_is_listed),
        cmocka_unit_test(test_create_job_accepts_256_character_name),
        cmocka_unit_test(test_create_job_rejects_257_character_name),
        cmocka_unit_test(test_create_job_rejects_null_name),
        cmocka_unit_test(test_create_job_rejects_upload_types),
        cmocka_unit_test(test_create_job_rejects_null_id),
        cmocka_unit_test(test_create_job_rejects_null_out),
        cmocka_unit_test(test_create_job_fails_while_impersonating_a_token_that_cannot_be_read),
    };
    const struct CMUnitTest get_job[] = {
        cmocka_unit_test(test_get_job_finds_created_job),
        cmocka_unit_test(test_get_job_view_sees_changes_made_through_another_view),
        cmocka_unit_test(test_get_job_of_unknown_id_fails_with_job_not_found),
        cmocka_unit_test(test_get_job_after_cancel_fails_with_job_not_found),
        cmocka_unit_test(test_get_job_after_complete_fails_with_job_not_found),
        cmocka_unit_test(test_get_job_with_null_out_fails_with_invalid_arg),
        cmocka_unit_test(test_managers_share_one_store),
    };
    const struct CMUnitTest enum_jobs_tests[] = {
        cmocka_unit_test(test_enum_jobs_of_caller_lists_created_job),
        cmocka_unit_test(test_enum_jobs_of_all_users_lists_created_job),
        cmocka_unit_test(test_enum_jobs_rejects_unknown_flags),
        cmocka_unit_test(test_enum_jobs_with_null_out_fails_with_invalid_arg),
        cmocka_unit_test(test_enum_jobs_lists_oldest_first),
        cmocka_unit_test(test_enum_jobs_is_a_snapshot),
        cmocka_unit_test(test_enum_jobs_omits_cancelled_and_completed_jobs),
    };
    const struct CMUnitTest error_description[] = {
        cmocka_unit_test(test_error_description_of_do_invalid_state_is_english_text),
        cmocka_unit_test(test_error_description_of_bg_not_found_is_english_text),
        cmocka_unit_test(test_error_description_of_http_error_names_the_status),
        cmocka_unit_test(test_error_description_of_system_code_comes_from_the_system),
        cmocka_unit_test(test_error_description_of_unknown_code_fails_with_mr_mid_not_found),
        cmocka_unit_test(test_error_description_with_null_out_fails_with_invalid_arg),
        cmocka_unit_test(test_error_description_of_wininet_codes_comes_from_wininet),
    };
    int failed = 0;

    failed += cmocka_run_group_tests_name("manager QueryInterface", query_interface, setup_manager, teardown_manager);
    failed += cmocka_run_group_tests_name("IDOManager", do_manager, setup_manager, teardown_manager);
    failed += cmocka_run_group_tests_name("IClientSecurity", client_security, setup_manager, teardown_manager);
    failed += cmocka_run_group_tests_name("IBackgroundCopyManager::CreateJob", create_job_tests, setup_manager,
                                          teardown_manager);
    failed += cmocka_run_group_tests_name("IBackgroundCopyManager::GetJob", get_job, setup_manager, teardown_manager);
    failed += cmocka_run_group_tests_name("IBackgroundCopyManager::EnumJobs", enum_jobs_tests, setup_manager,
                                          teardown_manager);
    failed += cmocka_run_group_tests_name("IBackgroundCopyManager::GetErrorDescription", error_description,
                                          setup_manager, teardown_manager);
    return failed;
}
