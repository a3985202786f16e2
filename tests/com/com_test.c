/*
 * The out-of-line half of com_test.h, compiled into every COM test: wide
 * string assertions and a client callback object.
 */
#include "com_test.h"

#include <bcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wininet.h>

#include <wchar.h>

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
    return (IUnknown *)&callback->IBackgroundCopyCallback_iface;
}

/* ---- the loopback test server (tests/server), for the transfer tests ------------- */

/* The start-up line the fixture saved, read once: {"http_port": N, "https_port": M, ...}. */
static int server_port(const char *key)
{
    static char info[1024];
    char path[MAX_PATH], *at;
    DWORD got = 0;
    HANDLE file;

    if (!info[0])
    {
        if (!GetEnvironmentVariableA("DOSVC_TEST_SERVER", path, sizeof(path))) return 0;
        file = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
        if (file == INVALID_HANDLE_VALUE) return 0;
        ReadFile(file, info, sizeof(info) - 1, &got, NULL);
        CloseHandle(file);
        info[got] = 0;
    }
    if (!(at = strstr(info, key))) return 0;
    return atoi(at + strlen(key) + 2);   /* past "key": */
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

BOOL dosvc_server_hash(const WCHAR *path, char hex[65])
{
    HINTERNET session, request;
    WCHAR hash_path[2300];
    DWORD got = 0;
    BOOL ok;

    wsprintfW(hash_path, L"/hash%s", path);
    if (!(session = InternetOpenW(L"dosvc-test", INTERNET_OPEN_TYPE_DIRECT, NULL, NULL, 0))) return FALSE;
    request = InternetOpenUrlW(session, dosvc_server_url(FALSE, hash_path), NULL, 0,
                               INTERNET_FLAG_RELOAD | INTERNET_FLAG_NO_CACHE_WRITE, 0);
    ok = request && InternetReadFile(request, hex, 64, &got) && got == 64;
    hex[ok ? 64 : 0] = 0;
    if (request) InternetCloseHandle(request);
    InternetCloseHandle(session);
    return ok;
}

BG_JOB_STATE dosvc_wait_for_state(IBackgroundCopyJob *job, unsigned states, DWORD timeout_ms)
{
    ULONGLONG start = GetTickCount64();
    BG_JOB_STATE state;

    for (;;)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &state));
        if ((states & (1u << state)) || GetTickCount64() - start > timeout_ms) return state;
        Sleep(10);
    }
}
