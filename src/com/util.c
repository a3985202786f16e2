/*
 * Helpers between COM and the core: the CoTaskMem allocator for out-strings,
 * the caller's identity, and local-name canonicalisation.
 */
#include "com_private.h"

#include <sddl.h>
#include <stdlib.h>

#include "names.h"
#include "wstr.h"

void *cotaskmem_alloc(size_t size)
{
    return CoTaskMemAlloc(size);
}

HRESULT current_user_sid(WCHAR **sid)
{
    union { TOKEN_USER user; BYTE bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE]; } info;
    WCHAR *text = NULL;
    HANDLE token;
    DWORD size;
    BOOL ok;

    *sid = NULL;
    if (!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &token)
        && !OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
        return HRESULT_FROM_WIN32(GetLastError());
    ok = GetTokenInformation(token, TokenUser, &info, sizeof(info), &size)
         && ConvertSidToStringSidW(info.user.User.Sid, &text);
    CloseHandle(token);
    if (!ok) return HRESULT_FROM_WIN32(GetLastError());
    *sid = (WCHAR *)wstr_dup(dchars(text));
    LocalFree(text);
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
