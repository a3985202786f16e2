/*
 * Shared by the COM tests: the includes every test needs, and how a test
 * reaches dosvc. Black-box tests load the built dosvc.dll from the test's own
 * folder and ask its DllGetClassObject, as COM would after registration,
 * without touching the registry (tests run in parallel in one prefix).
 * White-box tests link the COM objects directly (DOSVC_WHITE_BOX) and use the
 * same entry point inside their own image.
 *
 * Also the helpers more than one test uses: small ones inline here, the rest
 * (wide string assertions, a client callback, the test server and its request
 * log, reading jobs, files) in com_test.c, which every COM test compiles with
 * its own source.
 */
#ifndef DOSVC_TESTS_COM_TEST_H
#define DOSVC_TESTS_COM_TEST_H

#define COBJMACROS
#define CONST_VTABLE                   /* a test's own COM objects have const vtables */
#include <windows.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "DeliveryOptimization.h"
#include "sha256.h"

#define assert_hr(expected, actual) assert_int_equal((unsigned)(HRESULT)(expected), (unsigned)(HRESULT)(actual))

typedef HRESULT (WINAPI *get_class_object_fn)(REFCLSID, REFIID, void **);
typedef HRESULT (WINAPI *can_unload_fn)(void);

#ifdef DOSVC_WHITE_BOX
HRESULT WINAPI DllGetClassObject(REFCLSID clsid, REFIID riid, void **out);
HRESULT WINAPI DllCanUnloadNow(void);
static inline get_class_object_fn dosvc_get_class_object(void) { return DllGetClassObject; }
static inline can_unload_fn dosvc_can_unload_now(void) { return DllCanUnloadNow; }
#else
/* dosvc.dll beside the test executable, loaded once per process. */
static inline HMODULE dosvc_module(void)
{
    static HMODULE module;
    WCHAR path[MAX_PATH], *slash;

    if (module) return module;
    GetModuleFileNameW(NULL, path, MAX_PATH);
    slash = wcsrchr(path, '\\');
    lstrcpyW(slash + 1, L"dosvc.dll");
    module = LoadLibraryW(path);
    return module;
}

static inline get_class_object_fn dosvc_get_class_object(void)
{
    HMODULE module = dosvc_module();
    return module ? (get_class_object_fn)(void *)GetProcAddress(module, "DllGetClassObject") : NULL;
}

static inline can_unload_fn dosvc_can_unload_now(void)
{
    HMODULE module = dosvc_module();
    return module ? (can_unload_fn)(void *)GetProcAddress(module, "DllCanUnloadNow") : NULL;
}
#endif

/* A new DeliveryOptimization object, asked for riid, through the class factory. */
static inline HRESULT dosvc_create(REFIID riid, void **out)
{
    get_class_object_fn get = dosvc_get_class_object();
    IClassFactory *factory;
    HRESULT hr;

    *out = NULL;
    if (!get) return E_FAIL;
    if (FAILED(hr = get(&CLSID_DeliveryOptimization, &IID_IClassFactory, (void **)&factory))) return hr;
    hr = IClassFactory_CreateInstance(factory, NULL, riid, out);
    IClassFactory_Release(factory);
    return hr;
}

static inline IBackgroundCopyManager *dosvc_manager(void)
{
    IBackgroundCopyManager *manager = NULL;
    assert_hr(S_OK, dosvc_create(&IID_IBackgroundCopyManager, (void **)&manager));
    assert_non_null(manager);
    return manager;
}

/* Group fixture bodies: COM on this thread and *manager from the class factory; then both gone. */
static inline int dosvc_setup_manager(IBackgroundCopyManager **manager)
{
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED))) return -1;
    return FAILED(dosvc_create(&IID_IBackgroundCopyManager, (void **)manager)) ? -1 : 0;
}

static inline int dosvc_teardown_manager(IBackgroundCopyManager **manager)
{
    IBackgroundCopyManager_Release(*manager);
    *manager = NULL;
    CoUninitialize();
    return 0;
}

/* A new download job of manager's, asserted made; id may be NULL. */
static inline IBackgroundCopyJob *dosvc_create_job(IBackgroundCopyManager *manager, const WCHAR *name, GUID *id)
{
    IBackgroundCopyJob *job = NULL;
    GUID ignored;

    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, name, BG_JOB_TYPE_DOWNLOAD, id ? id : &ignored, &job));
    assert_non_null(job);
    return job;
}

/* unknown's riid interface, asserted there; the caller releases it. */
static inline void *dosvc_query(void *unknown, REFIID riid)
{
    void *out = NULL;
    assert_hr(S_OK, IUnknown_QueryInterface((IUnknown *)unknown, riid, &out));
    assert_non_null(out);
    return out;
}

/* A folder of its own for each test process, under the prefix's temp folder. */
static inline const WCHAR *dosvc_test_dir(void)
{
    static WCHAR dir[MAX_PATH];
    WCHAR temp[MAX_PATH];

    if (!dir[0])
    {
        WIN32_FIND_DATAW data;
        WCHAR path[MAX_PATH];
        HANDLE find;

        GetTempPathW(MAX_PATH, temp);
        wsprintfW(dir, L"%sdosvc-test-%lu", temp, GetCurrentProcessId());
        CreateDirectoryW(dir, NULL);
        /* Wine reuses process ids: files a test process of another run left here are stale. */
        wsprintfW(path, L"%s\\*", dir);
        if ((find = FindFirstFileW(path, &data)) != INVALID_HANDLE_VALUE)
        {
            do
            {
                if (data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) continue;
                wsprintfW(path, L"%s\\%s", dir, data.cFileName);
                SetFileAttributesW(path, FILE_ATTRIBUTE_NORMAL);
                DeleteFileW(path);
            } while (FindNextFileW(find, &data));
            FindClose(find);
        }
    }
    return dir;
}

/* "<test dir>\<name>" in a static buffer (one of four, so a call may use a few). */
static inline const WCHAR *dosvc_test_path(const WCHAR *name)
{
    static WCHAR paths[4][MAX_PATH];
    static int next;
    WCHAR *path = paths[next++ % 4];
    wsprintfW(path, L"%s\\%s", dosvc_test_dir(), name);
    return path;
}

/* Reference count of an object, read through AddRef/Release. */
static inline ULONG dosvc_refcount(void *unknown)
{
    IUnknown_AddRef((IUnknown *)unknown);
    return IUnknown_Release((IUnknown *)unknown);
}

/* ---- com_test.c ------------------------------------------------------------------ */

/*
 * Waiting. Every wait of the COM tests goes through dosvc_wait, and every deadline through
 * dosvc_scaled_ms: ms times DOSVC_TEST_TIME_SCALE (a positive number, default 1), so that a
 * slow machine raises one variable instead of failing. A deadline is a bound on a wait for
 * something that must happen, never the thing a test measures.
 */
DWORD dosvc_scaled_ms(DWORD ms);
typedef BOOL (*dosvc_condition_fn)(void *context);
/* Checks done(context) until it is TRUE (then TRUE) or dosvc_scaled_ms(timeout_ms) has passed
 * (then FALSE, after one last check). */
BOOL dosvc_wait(dosvc_condition_fn done, void *context, DWORD timeout_ms);
/* WaitForSingleObject with a scaled deadline: TRUE when the handle was signalled. */
BOOL dosvc_wait_handle(HANDLE handle, DWORD timeout_ms);
/* Waits until done(context), for as long as *progress (which the awaited threads bump as they
 * go) keeps moving: FALSE once it has stood still for dosvc_scaled_ms(stall_ms). For work of a
 * fixed size, whose total time is the machine's speed. */
BOOL dosvc_wait_while_progressing(dosvc_condition_fn done, void *context, const volatile LONG *progress,
                                  DWORD stall_ms);
/* Waits until *count (a callback's, say) is at least at_least. */
BOOL dosvc_wait_for_count(const volatile LONG *count, LONG at_least, DWORD timeout_ms);
/* Waits until a reference count the test keeps is refs (when dosvc lets its references go). */
BOOL dosvc_wait_for_refs(const volatile LONG *count, LONG refs, DWORD timeout_ms);
/* Waits until the system clock has passed filetime (it may be coarse): a later change's time differs. */
void dosvc_wait_for_clock_past(ULONGLONG filetime);

/* UTF-8 copy of a wide string for messages, "(null)" for NULL (one of four static buffers). */
const char *dosvc_utf8(const WCHAR *text);

/* Wide strings equal to the character, NULL only to NULL; a failure prints both. */
void dosvc_wstr_equal(const WCHAR *expected, const WCHAR *actual, const char *file, int line);
#define assert_wstr_equal(expected, actual) dosvc_wstr_equal(expected, actual, __FILE__, __LINE__)

/* The same for a CoTaskMem string an API returned, which it then frees. */
void dosvc_owned_wstr_equal(const WCHAR *expected, WCHAR *actual, const char *file, int line);
#define assert_owned_wstr_equal(expected, actual) dosvc_owned_wstr_equal(expected, actual, __FILE__, __LINE__)

/* A client IBackgroundCopyCallback whose reference count the test reads in refs, and its
 * JobModification calls in modifications. It only counts and never frees itself: keep it
 * static, so that a job outliving a failed test never calls into a dead stack frame. */
struct test_callback
{
    IBackgroundCopyCallback IBackgroundCopyCallback_iface;
    LONG refs;
    LONG modifications;
};

/* Makes callback one holding only the test's own reference (refs 1), returned as IUnknown. */
IUnknown *new_test_callback(struct test_callback *callback);

/* ---- the loopback test server (fixture http_server; DOSVC_TEST_SERVER names its port file) ---- */

int dosvc_server_port(BOOL https);
/* A port on which connections are refused. */
int dosvc_server_refused_port(void);
/* The HTTPS listener whose certificate's issuer is never sent (tests/server/README.md). */
int dosvc_server_unsent_ca_port(void);
/* The HTTPS listeners whose self-signed certificate names another host, or expired (tests/server/README.md). */
int dosvc_server_other_name_port(void);
int dosvc_server_expired_port(void);
/* The port that plays a TLS server whose handshake never ends (tests/server/README.md). */
int dosvc_server_drip_handshake_port(void);
/* "http(s)://127.0.0.1:<port><path>" in a static buffer (one of four). */
const WCHAR *dosvc_server_url(BOOL https, const WCHAR *path);
/* Where the server serves "/<name>" from (its root folder), as a path of this process, in a
 * static buffer (one of four). Tests write files there and may change them. */
const WCHAR *dosvc_server_root_path(const WCHAR *name);
/* The SHA-256 the server says path serves (its /hash endpoint), as lowercase hex. */
BOOL dosvc_server_hash(const WCHAR *path, char hex[65]);
/* Polls GetState until the state is one of states (bits 1 << BG_JOB_STATE) or the timeout passes. */
#define DOSVC_STATE(s) (1u << (s))
BG_JOB_STATE dosvc_wait_for_state(IBackgroundCopyJob *job, unsigned states, DWORD timeout_ms);
/*
 * Waits until the notifier has delivered every notice queued before the call: it delivers them
 * one at a time in the order queued (docs/engine.md), so a JobModification queued now, for a
 * job of manager's own, comes after them. For a test that checks that a callback does not
 * come; a JobError that waits to be asked again is not due yet, and not covered.
 */
BOOL dosvc_wait_for_notifier(IBackgroundCopyManager *manager, DWORD timeout_ms);


/* ---- the server's bodies and its request log (a test finds its requests by a mark in their URLs) ---- */

/* The HTTP server URL of a printf-formatted path (wsprintf: %s is a wide string), as dosvc_server_url. */
const WCHAR *dosvc_url(const WCHAR *format, ...);
/* The body the server sends for path, read with WinINet; *size its length. Free with free(). */
char *dosvc_server_get(const WCHAR *path, DWORD *size);
/* The server's log of the requests whose target contains mark, oldest first (JSON). Free with free(). */
char *dosvc_server_log(const WCHAR *mark);
/* Where the value of the n-th (0-based) top-level field name of the log's entries begins, or NULL.
 * The log's field names are lower case; the request headers the client sent are not. */
const char *dosvc_log_field(const char *log, const char *name, int n);
/* The number of requests in the log. */
int dosvc_log_count(const char *log);
/* Waits until the server's log holds at least count requests whose target contains mark;
 * the number it holds then. */
int dosvc_wait_for_requests(const WCHAR *mark, int count, DWORD timeout_ms);
/* The first byte the n-th request asked for with "Range: bytes=N-...", or -1 if it had no Range. */
long long dosvc_log_range_start(const char *log, int n);
/* The status the server answered the n-th request with. */
int dosvc_log_status(const char *log, int n);
/* The n-th request's head held exactly dosvc's own fields (Host, this server's; User-Agent;
 * Accept) and then the caller's, given as the log's JSON pairs without blanks between them
 * ("[\"X-A\",\"1\"],[\"X-B\",\"2\"]", or "" for none), each value as the server read it (the
 * blanks before it dropped). */
void dosvc_assert_request_fields(const char *log, int n, const char *callers);

/* ---- jobs and their files, each call asserted to succeed ---------------------------------- */

BG_JOB_STATE dosvc_state_of(IBackgroundCopyJob *job);
BG_JOB_PROGRESS dosvc_progress_of(IBackgroundCopyJob *job);
/* Polls until at least bytes have been transferred; the count reached. */
UINT64 dosvc_wait_for_bytes(IBackgroundCopyJob *job, UINT64 bytes, DWORD timeout_ms);
/* The job's error code (the job must have one), its context in *context (may be NULL). */
HRESULT dosvc_error_of(IBackgroundCopyJob *job, BG_ERROR_CONTEXT *context);
/* The job's file at index, through a file enumerator; the caller releases it. */
IBackgroundCopyFile *dosvc_file_at(IBackgroundCopyJob *job, ULONG index);
BG_FILE_PROGRESS dosvc_file_progress_at(IBackgroundCopyJob *job, ULONG index);

/* ---- files ------------------------------------------------------------------------------- */

BOOL dosvc_file_exists(const WCHAR *path);
/* Waits until path exists (exists TRUE) or is gone (FALSE). */
BOOL dosvc_wait_for_file(const WCHAR *path, BOOL exists, DWORD timeout_ms);
/* Waits until nothing holds temp open for writing: the worker of a stopped run has let it go. */
BOOL dosvc_wait_for_temp_released(const WCHAR *temp, DWORD timeout_ms);
/* Creates or replaces path with size bytes of data. */
void dosvc_write_file(const WCHAR *path, const void *data, DWORD size);
/* The file at local is what the server serves for server_path (by its SHA-256). */
void dosvc_assert_file_is(const WCHAR *local, const WCHAR *server_path);
/* dosvc's temporary files, named as DoSvc names its own ("DO<unique>.tmp"; the DO SDK's cleanup
 * rule), as a FindFirstFile pattern. */
#define DOSVC_TEMP_PATTERN L"DO*.tmp"
/* Counts the files of the test folder that match DOSVC_TEMP_PATTERN: dosvc's temporary files, now. */
unsigned dosvc_temp_files_left(void);
/* Waits until dosvc_temp_files_left() is 0 (a file deleted while a stopped worker still holds
 * it goes when the worker lets go: docs/engine.md); the count then. */
unsigned dosvc_wait_for_temp_files_gone(DWORD timeout_ms);

/*
 * A UNC share of this process's own. Under Wine, "\\server\share\..." is
 * <prefix>\dosdevices\unc\server\share\..., so the share is made there, "\\dosvc-test-<pid>\share";
 * on Windows it is the drive's administrative share of the test folder. share is its UNC name,
 * folder the same folder as a local path.
 */
void dosvc_make_unc_share(WCHAR share[MAX_PATH], WCHAR folder[MAX_PATH]);
/* Deletes the share's files and folders (nothing on Windows); for a teardown too. */
void dosvc_remove_unc_share(void);
/* A teardown's safety net: cancels every job the manager lists, removes the share and empties
 * the test folder, for a test that failed half-way. */
void dosvc_cleanup(IBackgroundCopyManager *manager);

/* File URLs that decode to a device (the console's CONIN$ and CONOUT$ too), a pipe or mailslot
 * (local or on a host), a \\?\ path, a path from no drive or a folder (a last component of dots
 * and spaces), which every door that takes a remote name refuses (issue 9); NULL-terminated. */
extern const WCHAR *const dosvc_device_file_urls[];

#endif
