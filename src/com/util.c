/*
 * Helpers between COM and the core: the CoTaskMem allocator for out-strings,
 * the caller's identity, local-name canonicalisation, and a VARIANT for the trace.
 */
#include "com_private.h"

#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>

#include "names.h"
#include "wstr.h"

void *cotaskmem_alloc(size_t size)
{
    return CoTaskMemAlloc(size);
}

const char *com_trace_variant(const VARIANT *v)
{
    static _Thread_local char text[4][600];
    static _Thread_local unsigned next;
    char *out = text[next++ % 4];

    if (!v) return "(null)";
    switch (V_VT(v))
    {
    case VT_EMPTY: return "VT_EMPTY";
    case VT_BSTR: snprintf(out, sizeof(text[0]), "VT_BSTR %s", dos_trace_wstr((const dos_char *)V_BSTR(v))); break;
    case VT_UI4: snprintf(out, sizeof(text[0]), "VT_UI4 %lu", (unsigned long)V_UI4(v)); break;
    case VT_UI8: snprintf(out, sizeof(text[0]), "VT_UI8 %llu", (unsigned long long)V_UI8(v)); break;
    case VT_BOOL: snprintf(out, sizeof(text[0]), "VT_BOOL %d", V_BOOL(v)); break;
    case VT_UNKNOWN: snprintf(out, sizeof(text[0]), "VT_UNKNOWN %p", (void *)V_UNKNOWN(v)); break;
    default: snprintf(out, sizeof(text[0]), "vt %u", (unsigned)V_VT(v)); break;
    }
    return out;
}

/* A SID's text, NUL included: "S-1-", an authority and at most 15 sub-authorities (the
 * SDK's SECURITY_MAX_SID_STRING_CHARACTERS, which MinGW lacks). */
#define MAX_SID_TEXT 187

/* The user of a token as a string SID, into text (MAX_SID_TEXT characters). */
static HRESULT token_user_text(HANDLE token, WCHAR *text)
{
    union { TOKEN_USER user; BYTE bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE]; } info;
    WCHAR *converted;
    DWORD size;

    if (!GetTokenInformation(token, TokenUser, &info, sizeof(info), &size)
        || !ConvertSidToStringSidW(info.user.User.Sid, &converted))
        return HRESULT_FROM_WIN32(GetLastError());
    lstrcpynW(text, converted, MAX_SID_TEXT);
    LocalFree(converted);
    return S_OK;
}

/* The process's user never changes: it is looked up once (under Wine each lookup is a
 * round trip to the server, and every CreateJob and EnumJobs asks). */
static WCHAR process_user[MAX_SID_TEXT];
static INIT_ONCE process_user_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK look_up_process_user(INIT_ONCE *once, void *param, void **context)
{
    HRESULT *hr = param;
    HANDLE token;

    (void)once; (void)context;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
    {
        *hr = HRESULT_FROM_WIN32(GetLastError());
        return FALSE;
    }
    *hr = token_user_text(token, process_user);
    CloseHandle(token);
    return SUCCEEDED(*hr);         /* a failure is not kept: the next call asks again */
}

HRESULT current_user_sid(WCHAR **sid)
{
    WCHAR text[MAX_SID_TEXT];
    HRESULT hr = S_OK;
    HANDLE token;

    *sid = NULL;
    /* A thread that impersonates acts for its client, whoever the process runs as. Its token
     * is asked every time: impersonation comes and goes without notice. */
    if (OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &token))
    {
        hr = token_user_text(token, text);
        CloseHandle(token);
        if (FAILED(hr)) return hr;
        *sid = (WCHAR *)wstr_dup(dchars(text));
    }
    /* An impersonation token that cannot be read names nobody: never the process's user. */
    else if (GetLastError() != ERROR_NO_TOKEN) return HRESULT_FROM_WIN32(GetLastError());
    else if (!InitOnceExecuteOnce(&process_user_once, look_up_process_user, &hr, NULL)) return hr;
    else *sid = (WCHAR *)wstr_dup(dchars(process_user));
    return *sid ? S_OK : E_OUTOFMEMORY;
}

HRESULT canonical_local_name(const struct error_map *errors, const WCHAR *name, WCHAR **out)
{
    WCHAR full[DOS_MAX_LOCAL_NAME + 2], *last;
    DWORD len, attrs;
    dos_status s;

    *out = NULL;
    /* Reject relative and device names before the system would resolve them. */
    if ((s = dos_check_local_name(dchars(name))) != DOS_OK) return hr_from(errors, s);
    len = GetFullPathNameW(name, ARRAY_SIZE(full), full, &last);
    if (!len || len >= ARRAY_SIZE(full)) return hr_from(errors, DOS_E_STRING_TOO_LONG);
    if ((s = dos_check_local_name(dchars(full))) != DOS_OK) return hr_from(errors, s);
    /* The folder must exist (spec 5.9: "the directories must already exist"). */
    if (last && last > full)
    {
        WCHAR saved = *last;
        *last = 0;
        attrs = GetFileAttributesW(full);
        *last = saved;
        if (attrs == INVALID_FILE_ATTRIBUTES || !(attrs & FILE_ATTRIBUTE_DIRECTORY))
            return HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND);
    }
    /* A name that is an existing folder can never become the file. */
    attrs = GetFileAttributesW(full);
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY)) return E_INVALIDARG;
    if (!(*out = (WCHAR *)wstr_dup(dchars(full)))) return E_OUTOFMEMORY;
    return S_OK;
}
