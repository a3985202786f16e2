/*
 * The out-of-line half of com_test.h, compiled into every COM test: wide
 * string assertions, a client callback object, the loopback test server and
 * its request log, and job and file helpers.
 */
#include "com_test.h"

#include <bcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wininet.h>

#include <wchar.h>

/* DOSVC_TEST_FILTER="test_a*" runs only the tests whose names match (CMocka's pattern). */
__attribute__((constructor)) static void apply_test_filter(void)
{
    static char pattern[256];
    if (GetEnvironmentVariableA("DOSVC_TEST_FILTER", pattern, sizeof(pattern)) && pattern[0])
        cmocka_set_test_filter(pattern);
}

/* ---- waiting ------------------------------------------------------------------- */

DWORD dosvc_scaled_ms(DWORD ms)
{
    static double scale;
    double scaled;

    if (!scale)
    {
        char text[32];
        double value = 0;
        if (GetEnvironmentVariableA("DOSVC_TEST_TIME_SCALE", text, sizeof(text)) && text[0]) value = atof(text);
        scale = value > 0 ? value : 1;
    }
    if (ms == INFINITE) return INFINITE;
    scaled = ms * scale;
    return scaled >= (double)(INFINITE - 1) ? INFINITE - 1 : (DWORD)scaled;
}

BOOL dosvc_wait(dosvc_condition_fn done, void *context, DWORD timeout_ms)
{
    ULONGLONG start = GetTickCount64(), limit = dosvc_scaled_ms(timeout_ms);
    DWORD pause = 1;

    for (;;)
    {
        BOOL over = GetTickCount64() - start >= limit;
        if (done(context)) return TRUE;
        if (over) return FALSE;
        Sleep(pause);
        if (pause < 16) pause *= 2;   /* prompt for what comes at once, cheap for what takes long */
    }
}

BOOL dosvc_wait_handle(HANDLE handle, DWORD timeout_ms)
{
    return WaitForSingleObject(handle, dosvc_scaled_ms(timeout_ms)) == WAIT_OBJECT_0;
}

struct progress_wait { dosvc_condition_fn done; void *context; const volatile LONG *progress; LONG last; };

static BOOL done_or_moved(void *context)
{
    struct progress_wait *w = context;
    return w->done(w->context) || *w->progress != w->last;
}

BOOL dosvc_wait_while_progressing(dosvc_condition_fn done, void *context, const volatile LONG *progress,
                                  DWORD stall_ms)
{
    struct progress_wait w = { .done = done, .context = context, .progress = progress };

    for (;;)
    {
        w.last = *progress;
        if (!dosvc_wait(done_or_moved, &w, stall_ms)) return FALSE;
        if (done(context)) return TRUE;
    }
}

struct count_wait { const volatile LONG *count; LONG value; BOOL exactly; };

static BOOL count_reached(void *context)
{
    struct count_wait *w = context;
    return w->exactly ? *w->count == w->value : *w->count >= w->value;
}

BOOL dosvc_wait_for_count(const volatile LONG *count, LONG at_least, DWORD timeout_ms)
{
    struct count_wait w = { .count = count, .value = at_least };
    return dosvc_wait(count_reached, &w, timeout_ms);
}

BOOL dosvc_wait_for_refs(const volatile LONG *count, LONG refs, DWORD timeout_ms)
{
    struct count_wait w = { .count = count, .value = refs, .exactly = TRUE };
    return dosvc_wait(count_reached, &w, timeout_ms);
}

static BOOL clock_past(void *context)
{
    FILETIME now;
    GetSystemTimeAsFileTime(&now);
    return (((ULONGLONG)now.dwHighDateTime << 32) | now.dwLowDateTime) > *(ULONGLONG *)context;
}

void dosvc_wait_for_clock_past(ULONGLONG filetime)
{
    assert_true(dosvc_wait(clock_past, &filetime, 10000));
}

/* ---- wide strings ------------------------------------------------------------ */

const char *dosvc_utf8(const WCHAR *text)
{
    static char buffers[4][8192];
    static int next;
    char *buffer = buffers[next++ % 4];

    if (!text) return "(null)";
    if (!WideCharToMultiByte(CP_UTF8, 0, text, -1, buffer, sizeof(buffers[0]), NULL, NULL)) buffer[0] = 0;
    return buffer;
}

void dosvc_wstr_equal(const WCHAR *expected, const WCHAR *actual, const char *file, int line)
{
    if (expected ? actual && !wcscmp(expected, actual) : !actual) return;
    _assert_string_equal(dosvc_utf8(expected), dosvc_utf8(actual), file, line);   /* fails, printing both */
    _assert_true(FALSE, "the strings are equal", file, line);   /* in case their UTF-8 copies look alike */
}

void dosvc_owned_wstr_equal(const WCHAR *expected, WCHAR *actual, const char *file, int line)
{
    dosvc_wstr_equal(expected, actual, file, line);
    CoTaskMemFree(actual);
}

/* ---- a client callback whose reference count the test can read ------------------ */

static inline struct test_callback *impl_from_IBackgroundCopyCallback(IBackgroundCopyCallback *iface)
{
    return CONTAINING_RECORD(iface, struct test_callback, IBackgroundCopyCallback_iface);
}

static HRESULT WINAPI callback_QueryInterface(IBackgroundCopyCallback *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyCallback))
    {
        *out = iface;
        IBackgroundCopyCallback_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI callback_AddRef(IBackgroundCopyCallback *iface)
{
    return InterlockedIncrement(&impl_from_IBackgroundCopyCallback(iface)->refs);
}

/* The object is static: its count is only observed, never acted on. */
static ULONG WINAPI callback_Release(IBackgroundCopyCallback *iface)
{
    return InterlockedDecrement(&impl_from_IBackgroundCopyCallback(iface)->refs);
}

static HRESULT WINAPI callback_JobTransferred(IBackgroundCopyCallback *iface, IBackgroundCopyJob *job)
{
    return S_OK;
}

static HRESULT WINAPI callback_JobError(IBackgroundCopyCallback *iface, IBackgroundCopyJob *job,
                                        IBackgroundCopyError *error)
{
    return S_OK;
}

static HRESULT WINAPI callback_JobModification(IBackgroundCopyCallback *iface, IBackgroundCopyJob *job, DWORD reserved)
{
    InterlockedIncrement(&impl_from_IBackgroundCopyCallback(iface)->modifications);
    return S_OK;
}

static const IBackgroundCopyCallbackVtbl callback_vtbl =
{
    callback_QueryInterface,
    callback_AddRef,
    callback_Release,
    callback_JobTransferred,
    callback_JobError,
    callback_JobModification,
};

IUnknown *new_test_callback(struct test_callback *callback)
{
    callback->IBackgroundCopyCallback_iface.lpVtbl = &callback_vtbl;
    callback->refs = 1;
    callback->modifications = 0;
    return (IUnknown *)&callback->IBackgroundCopyCallback_iface;
}

/* ---- the loopback test server (tests/server), for the transfer tests ------------- */

/* Where the value of key ("\"name\"") begins in the start-up line the fixture saved, read once:
 * {"http_port": N, "https_port": M, ..., "root": "/tmp/...", ...}; NULL if it is not there. */
static const char *server_info(const char *key)
{
    static char info[1024];
    char path[MAX_PATH];
    const char *at;
    DWORD got = 0;
    HANDLE file;

    if (!info[0])
    {
        if (!GetEnvironmentVariableA("DOSVC_TEST_SERVER", path, sizeof(path))) return NULL;
        file = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
        if (file == INVALID_HANDLE_VALUE) return NULL;
        ReadFile(file, info, sizeof(info) - 1, &got, NULL);
        CloseHandle(file);
        info[got] = 0;
    }
    if (!(at = strstr(info, key))) return NULL;
    return at + strlen(key) + 2;   /* past "key": */
}

static int server_port(const char *key)
{
    const char *value = server_info(key);
    return value ? atoi(value) : 0;
}

int dosvc_server_port(BOOL https)
{
    return server_port(https ? "\"https_port\"" : "\"http_port\"");
}

int dosvc_server_unsent_ca_port(void)
{
    return server_port("\"https_unsent_ca_port\"");
}

int dosvc_server_other_name_port(void)
{
    return server_port("\"https_other_name_port\"");
}

int dosvc_server_expired_port(void)
{
    return server_port("\"https_expired_port\"");
}

int dosvc_server_refused_port(void)
{
    return server_port("\"refused_port\"");
}

int dosvc_server_drip_handshake_port(void)
{
    return server_port("\"https_drip_handshake_port\"");
}

const WCHAR *dosvc_server_url(BOOL https, const WCHAR *path)
{
    static WCHAR urls[4][2300];
    static int next;
    WCHAR *url = urls[next++ % 4];
    int port = dosvc_server_port(https);

    assert_int_not_equal(port, 0);
    wsprintfW(url, L"%s://127.0.0.1:%d%s", https ? L"https" : L"http", port, path);
    return url;
}

const WCHAR *dosvc_server_root_path(const WCHAR *name)
{
    static WCHAR paths[4][MAX_PATH];
    static int next;
    WCHAR *path = paths[next++ % 4], *p;
    const char *root = server_info("\"root\""), *end;
    int n;

    /* The server's folder as Wine's Z: drive shows it (the server writes no escapes in a path). */
    assert_non_null(root);
    assert_int_equal(*root, '"');
    assert_non_null(end = strchr(root + 1, '"'));
    lstrcpyW(path, L"Z:");
    n = MultiByteToWideChar(CP_UTF8, 0, root + 1, (int)(end - root - 1), path + 2, MAX_PATH - 3);
    assert_true(n > 0);
    path[2 + n] = 0;
    for (p = path; *p; p++) if (*p == '/') *p = '\\';
    assert_true(lstrlenW(path) + 1 + lstrlenW(name) < MAX_PATH);
    lstrcatW(path, L"\\");
    lstrcatW(path, name);
    return path;
}

BOOL dosvc_server_hash(const WCHAR *path, char hex[65])
{
    WCHAR hash_path[2300];
    DWORD size;
    char *body;
    BOOL ok;

    wsprintfW(hash_path, L"/hash%s", path);
    body = dosvc_server_get(hash_path, &size);
    if ((ok = size == 64)) memcpy(hex, body, 65);
    else hex[0] = 0;
    free(body);
    return ok;
}

struct state_wait { IBackgroundCopyJob *job; unsigned states; BG_JOB_STATE state; };

static BOOL job_in_states(void *context)
{
    struct state_wait *w = context;
    assert_hr(S_OK, IBackgroundCopyJob_GetState(w->job, &w->state));
    return (w->states & (1u << w->state)) != 0;
}

BG_JOB_STATE dosvc_wait_for_state(IBackgroundCopyJob *job, unsigned states, DWORD timeout_ms)
{
    struct state_wait w = { .job = job, .states = states };
    dosvc_wait(job_in_states, &w, timeout_ms);
    return w.state;
}

BOOL dosvc_wait_for_notifier(IBackgroundCopyManager *manager, DWORD timeout_ms)
{
    static struct test_callback barrier;     /* the notifier may call it after the wait */
    IBackgroundCopyJob *job = dosvc_create_job(manager, L"notifier barrier", NULL);
    BOOL delivered;

    new_test_callback(&barrier);
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_MODIFICATION));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, (IUnknown *)&barrier.IBackgroundCopyCallback_iface));
    assert_hr(S_OK, IBackgroundCopyJob_SetDescription(job, L"queued after what came before"));
    delivered = dosvc_wait_for_count(&barrier.modifications, 1, timeout_ms);
    IBackgroundCopyJob_Cancel(job);
    IBackgroundCopyJob_Release(job);
    return delivered;
}

/* ---- the server's bodies and its request log ---------------------------------------- */

const WCHAR *dosvc_url(const WCHAR *format, ...)
{
    WCHAR path[1024];
    va_list args;

    va_start(args, format);
    wvsprintfW(path, format, args);
    va_end(args);
    return dosvc_server_url(FALSE, path);
}

/* One GET of the server's path over a connection of its own (WinINet's pool could hand out one
 * that the server has closed meanwhile, and Wine's does not try again), without cookies. */
static char *server_get_once(const WCHAR *path, DWORD *size)
{
    HINTERNET session, request = NULL;
    DWORD capacity = 1 << 16, got;
    char *body = malloc(capacity + 1);
    BOOL ok = FALSE;

    assert_non_null(body);
    *size = 0;
    if ((session = InternetOpenW(L"dosvc-test", INTERNET_OPEN_TYPE_DIRECT, NULL, NULL, 0)))
        request = InternetOpenUrlW(session, dosvc_server_url(FALSE, path), L"Connection: close\r\n", (DWORD)-1,
                                   INTERNET_FLAG_RELOAD | INTERNET_FLAG_NO_CACHE_WRITE | INTERNET_FLAG_NO_COOKIES, 0);
    while (request && (ok = InternetReadFile(request, body + *size, capacity - *size, &got)) && got)
        if ((*size += got) == capacity) assert_non_null(body = realloc(body, (capacity *= 2) + 1));
    if (!request || !ok)
    {
        print_message("GET %s failed: error %lu\n", dosvc_utf8(path), GetLastError());
        free(body);
        body = NULL;
    }
    else body[*size] = 0;
    if (request) InternetCloseHandle(request);
    if (session) InternetCloseHandle(session);
    return body;
}

char *dosvc_server_get(const WCHAR *path, DWORD *size)
{
    char *body;
    int attempt;

    /* A test's own requests to its loopback server are not what it tests: one that failed on
     * the way (a loaded machine, a connection the server ended) is asked again, twice at most. */
    for (attempt = 0; attempt < 3; attempt++)
        if ((body = server_get_once(path, size))) return body;
    fail_msg("the test server did not answer GET %s", dosvc_utf8(path));
    return NULL;
}

char *dosvc_server_log(const WCHAR *mark)
{
    WCHAR path[128];
    DWORD size;

    wsprintfW(path, L"/_control/log?contains=%s", mark);
    return dosvc_server_get(path, &size);
}

const char *dosvc_log_field(const char *log, const char *name, int n)
{
    char pattern[64];
    const char *at = log;

    snprintf(pattern, sizeof(pattern), "\"%s\": ", name);
    for (; (at = strstr(at, pattern)); at += strlen(pattern))
        if (n-- == 0) return at + strlen(pattern);
    return NULL;
}

int dosvc_log_count(const char *log)
{
    int n = 0;
    while (dosvc_log_field(log, "id", n)) n++;
    return n;
}

struct requests_wait { const WCHAR *mark; int count, seen; };

static BOOL log_has_requests(void *context)
{
    struct requests_wait *w = context;
    char *log = dosvc_server_log(w->mark);
    w->seen = log ? dosvc_log_count(log) : 0;
    free(log);
    return w->seen >= w->count;
}

int dosvc_wait_for_requests(const WCHAR *mark, int count, DWORD timeout_ms)
{
    struct requests_wait w = { .mark = mark, .count = count };
    dosvc_wait(log_has_requests, &w, timeout_ms);
    return w.seen;
}

long long dosvc_log_range_start(const char *log, int n)
{
    const char *value = dosvc_log_field(log, "range", n);
    assert_non_null(value);
    if (strncmp(value, "\"bytes=", 7)) return -1;
    return strtoll(value + 7, NULL, 10);
}

int dosvc_log_status(const char *log, int n)
{
    const char *value = dosvc_log_field(log, "status", n);
    assert_non_null(value);
    return atoi(value);
}

void dosvc_assert_request_fields(const char *log, int n, const char *callers)
{
    const char *fields = dosvc_log_field(log, "fields", n), *p, *accept;
    char got[4096], own[96], want[1024];
    size_t len = 0;
    int depth = 0;
    BOOL quoted = FALSE;

    /* The list without the blanks the log's layout puts between its items. */
    assert_non_null(fields);
    for (p = fields; *p && len + 1 < sizeof(got); p++)
    {
        if (quoted && *p == '\\' && p[1]) got[len++] = *p++;
        else if (*p == '"') quoted = !quoted;
        else if (!quoted && (*p == ' ' || *p == '\n')) continue;
        else if (!quoted && *p == '[') depth++;
        else if (!quoted && *p == ']' && !--depth)
        {
            got[len++] = *p;
            break;
        }
        got[len++] = *p;
    }
    got[len] = 0;
    snprintf(own, sizeof(own), "[[\"Host\",\"127.0.0.1:%d\"],[\"User-Agent\",\"", dosvc_server_port(FALSE));
    snprintf(want, sizeof(want), "\"],[\"Accept\",\"*/*\"]%s%s]", *callers ? "," : "", callers);
    /* The User-Agent's value lies between the two. */
    if (strncmp(got, own, strlen(own)) || !(accept = strstr(got, "\"],[\"Accept\"")) || strcmp(accept, want))
        fail_msg("the request's fields are not dosvc's and then %s: %s", callers, got);
}

/* ---- jobs ------------------------------------------------------------------------ */

BG_JOB_STATE dosvc_state_of(IBackgroundCopyJob *job)
{
    BG_JOB_STATE state;
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &state));
    return state;
}

BG_JOB_PROGRESS dosvc_progress_of(IBackgroundCopyJob *job)
{
    BG_JOB_PROGRESS progress;
    assert_hr(S_OK, IBackgroundCopyJob_GetProgress(job, &progress));
    return progress;
}

struct bytes_wait { IBackgroundCopyJob *job; UINT64 bytes, got; };

static BOOL job_has_bytes(void *context)
{
    struct bytes_wait *w = context;
    return (w->got = dosvc_progress_of(w->job).BytesTransferred) >= w->bytes;
}

UINT64 dosvc_wait_for_bytes(IBackgroundCopyJob *job, UINT64 bytes, DWORD timeout_ms)
{
    struct bytes_wait w = { .job = job, .bytes = bytes };
    dosvc_wait(job_has_bytes, &w, timeout_ms);
    return w.got;
}

HRESULT dosvc_error_of(IBackgroundCopyJob *job, BG_ERROR_CONTEXT *context)
{
    IBackgroundCopyError *error = NULL;
    BG_ERROR_CONTEXT ignored;
    HRESULT code = S_OK;

    assert_hr(S_OK, IBackgroundCopyJob_GetError(job, &error));
    assert_hr(S_OK, IBackgroundCopyError_GetError(error, context ? context : &ignored, &code));
    IBackgroundCopyError_Release(error);
    return code;
}

IBackgroundCopyFile *dosvc_file_at(IBackgroundCopyJob *job, ULONG index)
{
    IEnumBackgroundCopyFiles *files = NULL;
    IBackgroundCopyFile *file = NULL;

    assert_hr(S_OK, IBackgroundCopyJob_EnumFiles(job, &files));
    if (index) assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, index));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    IEnumBackgroundCopyFiles_Release(files);
    assert_non_null(file);
    return file;
}

BG_FILE_PROGRESS dosvc_file_progress_at(IBackgroundCopyJob *job, ULONG index)
{
    IBackgroundCopyFile *file = dosvc_file_at(job, index);
    BG_FILE_PROGRESS progress;

    assert_hr(S_OK, IBackgroundCopyFile_GetProgress(file, &progress));
    IBackgroundCopyFile_Release(file);
    return progress;
}

/* ---- files ----------------------------------------------------------------------- */

BOOL dosvc_file_exists(const WCHAR *path)
{
    return GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES;
}

struct file_wait { const WCHAR *path; BOOL exists; };

static BOOL file_as_awaited(void *context)
{
    struct file_wait *w = context;
    return dosvc_file_exists(w->path) == w->exists;
}

BOOL dosvc_wait_for_file(const WCHAR *path, BOOL exists, DWORD timeout_ms)
{
    struct file_wait w = { .path = path, .exists = exists };
    return dosvc_wait(file_as_awaited, &w, timeout_ms);
}

static BOOL temp_released(void *context)
{
    HANDLE file = CreateFileW(context, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE) return FALSE;
    CloseHandle(file);
    return TRUE;
}

BOOL dosvc_wait_for_temp_released(const WCHAR *temp, DWORD timeout_ms)
{
    return dosvc_wait(temp_released, (void *)temp, timeout_ms);
}

void dosvc_write_file(const WCHAR *path, const void *data, DWORD size)
{
    HANDLE file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    DWORD written;

    assert_true(file != INVALID_HANDLE_VALUE);
    assert_true(WriteFile(file, data, size, &written, NULL));
    assert_int_equal(written, size);
    CloseHandle(file);
}

void dosvc_assert_file_is(const WCHAR *local, const WCHAR *server_path)
{
    char expected[65], actual[65];
    assert_true(dosvc_server_hash(server_path, expected));
    assert_true(sha256_file_hex(local, actual));
    assert_string_equal(actual, expected);
}

unsigned dosvc_temp_files_left(void)
{
    WIN32_FIND_DATAW data;
    WCHAR pattern[MAX_PATH];
    unsigned count = 0;
    HANDLE find;

    wsprintfW(pattern, L"%s\\" DOSVC_TEMP_PATTERN, dosvc_test_dir());
    if ((find = FindFirstFileW(pattern, &data)) == INVALID_HANDLE_VALUE) return 0;
    do count++; while (FindNextFileW(find, &data));
    FindClose(find);
    return count;
}

static BOOL no_temp_files_left(void *context)
{
    return !(*(unsigned *)context = dosvc_temp_files_left());
}

unsigned dosvc_wait_for_temp_files_gone(DWORD timeout_ms)
{
    unsigned left = 0;
    dosvc_wait(no_temp_files_left, &left, timeout_ms);
    return left;
}

/* Under Wine, the folder that holds the servers of UNC names, this process's server in it and
 * its share's folder; FALSE on Windows, with the administrative share's names. */
static BOOL unc_share(WCHAR unc[MAX_PATH], WCHAR server[MAX_PATH], WCHAR share[MAX_PATH], WCHAR folder[MAX_PATH])
{
    WCHAR prefix[MAX_PATH], *p;
    const WCHAR *dir = dosvc_test_dir();

    if (!GetEnvironmentVariableW(L"WINEPREFIX", prefix, MAX_PATH))
    {
        wsprintfW(share, L"\\\\localhost\\%c$%s", dir[0], dir + 2);
        lstrcpyW(folder, dir);
        return FALSE;
    }
    for (p = prefix; *p; p++) if (*p == '/') *p = '\\';
    wsprintfW(unc, L"Z:%s\\dosdevices\\unc", prefix);
    wsprintfW(server, L"%s\\dosvc-test-%lu", unc, GetCurrentProcessId());
    wsprintfW(folder, L"%s\\share", server);
    wsprintfW(share, L"\\\\dosvc-test-%lu\\share", GetCurrentProcessId());
    return TRUE;
}

void dosvc_make_unc_share(WCHAR share[MAX_PATH], WCHAR folder[MAX_PATH])
{
    WCHAR unc[MAX_PATH], server[MAX_PATH];

    if (!unc_share(unc, server, share, folder)) return;
    CreateDirectoryW(unc, NULL);
    CreateDirectoryW(server, NULL);
    CreateDirectoryW(folder, NULL);
}

/* Deletes the files of folder (not its subfolders). */
static void empty_folder(const WCHAR *folder)
{
    WIN32_FIND_DATAW data;
    WCHAR path[MAX_PATH];
    HANDLE find;

    wsprintfW(path, L"%s\\*", folder);
    if ((find = FindFirstFileW(path, &data)) == INVALID_HANDLE_VALUE) return;
    do
    {
        if (data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) continue;
        wsprintfW(path, L"%s\\%s", folder, data.cFileName);
        SetFileAttributesW(path, FILE_ATTRIBUTE_NORMAL);
        DeleteFileW(path);
    } while (FindNextFileW(find, &data));
    FindClose(find);
}

void dosvc_remove_unc_share(void)
{
    WCHAR unc[MAX_PATH], server[MAX_PATH], share[MAX_PATH], folder[MAX_PATH];

    if (!unc_share(unc, server, share, folder)) return;
    empty_folder(folder);
    RemoveDirectoryW(folder);
    RemoveDirectoryW(server);
}

void dosvc_cleanup(IBackgroundCopyManager *manager)
{
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *job;

    if (SUCCEEDED(IBackgroundCopyManager_EnumJobs(manager, 0, &jobs)))
    {
        while (IEnumBackgroundCopyJobs_Next(jobs, 1, &job, NULL) == S_OK)
        {
            IBackgroundCopyJob_Cancel(job);
            IBackgroundCopyJob_Release(job);
        }
        IEnumBackgroundCopyJobs_Release(jobs);
    }
    dosvc_remove_unc_share();
    empty_folder(dosvc_test_dir());
}

const WCHAR *const dosvc_device_file_urls[] = {
    L"file:///C:/windows/NUL", L"file://\\\\.\\NUL", L"file:///C:/windows/CON", L"file:////./pipe/x",
    L"file://./COM1", L"file:///C:/x/%4EUL", L"file:////?/C:/windows/win.ini", L"file:///windows/win.ini",
    L"file:///C:/windows/CONIN$", L"file:///C:/dir/conout$", L"file:///C:/dir/conin$.txt", L"file:///C:/dir/COM0",
    L"file:///C:/dir/lpt0.bin", L"file:////localhost/pipe/x", L"file://127.0.0.1/pipe/x",
    L"file://127.0.0.1/MailSlot/x", L"file:///C:/windows/...", L"file:///C:/windows/%20.",
    NULL,
};
