/*
 * The out-of-line half of com_test.h, compiled into every COM test: wide
 * string assertions and a client callback object.
 */
#include "com_test.h"

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
