/*
 * The two error maps (core status to HRESULT) and the descriptions behind
 * GetErrorDescription: dosvc's English ones, then the system's and those of
 * WinINet and WinHTTP, each code's from the module whose meaning it has. DO's
 * map is what dosvc's DeliveryOptimization class answers with (spec 6); the
 * classic BITS map is ready for a BITS class.
 */
#include "com_private.h"

#include <wininet.h>

/* Entries both maps share; the per-map ones differ only where DO renamed a BITS code. */
#define COMMON_CODES \
    [DOS_OK] = S_OK, \
    [DOS_S_PARTIAL_COMPLETE] = BG_S_PARTIAL_COMPLETE, \
    [DOS_S_NOTHING_TO_REMOVE] = S_FALSE, \
    [DOS_E_INVALID_ARG] = E_INVALIDARG, \
    [DOS_E_OUT_OF_MEMORY] = E_OUTOFMEMORY, \
    [DOS_E_TOO_MANY_FILES] = BG_E_TOO_MANY_FILES_IN_JOB, \
    [DOS_E_TOO_MANY_RANGES] = BG_E_TOO_MANY_RANGES_IN_FILE, \
    [DOS_E_SINK_UNSPECIFIED] = DO_E_FILE_DOWNLOADSINK_UNSPECIFIED, \
    [DOS_E_WRITE_ONLY_PROPERTY] = DO_E_WRITE_ONLY_PROPERTY, \
    [DOS_E_NOT_SET] = E_NOT_SET, \
    [DOS_E_MEMORY_STREAM_UNSUPPORTED] = DO_E_MEMORYSTREAM_DOWNLOAD_NOT_SUPPORTED, \
    [DOS_E_ACCESS_DENIED] = E_ACCESSDENIED, \
    [DOS_E_SINK_ALREADY_SET] = DO_E_FILE_DOWNLOADSINK_ALREADY_SET, \
    [DOS_E_NO_URI] = DO_E_DOWNLOAD_NO_URI, \
    [DOS_E_RANGES_EXPECTED] = DO_E_DOWNLOAD_RANGES_EXPECTED, \
    [DOS_E_RANGES_UNEXPECTED] = DO_E_DOWNLOAD_RANGES_UNEXPECTED

const struct error_map do_error_map = { "DO", {
    COMMON_CODES,
    [DOS_E_STRING_TOO_LONG] = E_INVALIDARG,        /* spec 3.6: over-long URL is E_INVALIDARG */
    [DOS_E_INVALID_STATE] = DO_E_INVALID_STATE,
    [DOS_E_JOB_NOT_FOUND] = DO_E_JOB_NOT_FOUND,
    [DOS_E_JOB_EMPTY] = DO_E_JOB_EMPTY,
    [DOS_E_INVALID_RANGE] = DO_E_INVALID_RANGE,
    [DOS_E_OVERLAPPING_RANGES] = DO_E_OVERLAPPING_RANGES,
    [DOS_E_NO_ERROR_INFO] = DO_E_ERROR_INFORMATION_UNAVAILABLE,
    [DOS_E_FILE_NOT_AVAILABLE] = DO_E_FILE_NOT_AVAILABLE,
    [DOS_E_UNKNOWN_PROPERTY] = DO_E_UNKNOWN_PROPERTY_ID,
    [DOS_E_READ_ONLY_PROPERTY] = DO_E_READ_ONLY_PROPERTY,
} };

const struct error_map bits_error_map = { "BITS", {
    COMMON_CODES,
    [DOS_E_STRING_TOO_LONG] = BG_E_STRING_TOO_LONG,
    [DOS_E_INVALID_STATE] = BG_E_INVALID_STATE,
    [DOS_E_JOB_NOT_FOUND] = BG_E_NOT_FOUND,
    [DOS_E_JOB_EMPTY] = BG_E_EMPTY,
    [DOS_E_INVALID_RANGE] = BG_E_INVALID_RANGE,
    [DOS_E_OVERLAPPING_RANGES] = BG_E_OVERLAPPING_RANGES,
    [DOS_E_NO_ERROR_INFO] = BG_E_ERROR_INFORMATION_UNAVAILABLE,
    [DOS_E_FILE_NOT_AVAILABLE] = BG_E_FILE_NOT_AVAILABLE,
    [DOS_E_UNKNOWN_PROPERTY] = BG_E_UNKNOWN_PROPERTY_ID,
    [DOS_E_READ_ONLY_PROPERTY] = BG_E_READ_ONLY_PROPERTY,
} };

static const struct { HRESULT hr; const WCHAR *text; } descriptions[] = {
    { DO_E_NO_SERVICE, L"Delivery Optimization was unable to provide the service." },
    { DO_E_DOWNLOAD_NO_PROGRESS, L"The download made no progress within the allowed period." },
    { DO_E_JOB_NOT_FOUND, L"The job was not found." },
    { DO_E_JOB_EMPTY, L"The job contains no files." },
    { DO_E_NO_DOWNLOADS, L"No downloads currently exist." },
    { DO_E_MEMORYSTREAM_DOWNLOAD_NOT_SUPPORTED, L"Memory stream transfer is not supported for this download." },
    { DO_E_JOB_TOO_OLD, L"The job reached its maximum age without being completed or cancelled." },
    { DO_E_LOCALPATH_NOT_SET, L"No local path was specified." },
    { DO_E_FILE_NOT_AVAILABLE, L"The error is not associated with a particular file." },
    { DO_E_UNKNOWN_PROPERTY_ID, L"The property identifier is not known." },
    { DO_E_READ_ONLY_PROPERTY, L"The property is read-only." },
    { DO_E_INVALID_STATE, L"The requested action is not allowed in the current state; the job may have been cancelled or completed." },
    { DO_E_ERROR_INFORMATION_UNAVAILABLE, L"No error has occurred." },
    { DO_E_WRITE_ONLY_PROPERTY, L"The property is write-only." },
    { DO_E_INTEGRITYCHECKINFO_UNSPECIFIED, L"An integrity check was required but no integrity information was given." },
    { DO_E_INTEGRITYCHECKINFO_UNAVAILABLE, L"The integrity information could not be retrieved." },
    { DO_E_FILE_DOWNLOADSINK_UNSPECIFIED, L"No download sink (local file or stream) was specified." },
    { DO_E_FILE_DOWNLOADSINK_ALREADY_SET, L"Another kind of download sink is already set." },
    { DO_E_DOWNLOAD_NO_URI, L"The download was started without a URI." },
    { DO_E_DOWNLOAD_NO_CONTENT_ID, L"The download was started without a content ID." },
    { DO_E_DOWNLOAD_RANGES_UNEXPECTED, L"Byte ranges were not expected for this download." },
    { DO_E_DOWNLOAD_RANGES_EXPECTED, L"Byte ranges are required for this download." },
    { DO_E_BLOCKED_BY_COST_TRANSFER_POLICY, L"The download is waiting: the network's cost does not meet the transfer policy." },
    { DO_E_BLOCKED_BY_NO_NETWORK, L"The download is waiting for a network connection." },
    { DO_E_HTTP_BLOCKSIZE_MISMATCH, L"The server's response size does not match the size requested." },
    { DO_E_HTTP_CERT_VALIDATION, L"The server certificate could not be validated." },
    { DO_E_INVALID_RANGE, L"The requested byte range is not valid." },
    { DO_E_INSUFFICIENT_RANGE_SUPPORT, L"The server does not support the HTTP Range requests needed." },
    { DO_E_OVERLAPPING_RANGES, L"The byte ranges overlap." },
    { BG_E_NOT_FOUND, L"The requested job was not found." },
    { BG_E_INVALID_STATE, L"The requested action is not allowed in the current job state." },
    { BG_E_EMPTY, L"There are currently no files attached to this job." },
    { BG_E_FILE_NOT_AVAILABLE, L"No file is available because no URL generated an error." },
    { BG_E_ERROR_INFORMATION_UNAVAILABLE, L"No error has occurred in this job." },
    { BG_S_PARTIAL_COMPLETE, L"Some of the job's files were not fully transferred and were not kept." },
    { BG_E_STRING_TOO_LONG, L"The string is longer than the allowed maximum." },
    { BG_E_INVALID_RANGE, L"The requested byte range is not valid." },
    { BG_E_OVERLAPPING_RANGES, L"The byte ranges overlap." },
    { BG_E_TOO_MANY_FILES_IN_JOB, L"The job holds the maximum number of files." },
    { BG_E_TOO_MANY_RANGES_IN_FILE, L"The file holds the maximum number of byte ranges." },
    { BG_E_UNKNOWN_PROPERTY_ID, L"The property identifier is not known." },
    { BG_E_READ_ONLY_PROPERTY, L"The property is read-only." },
    { E_NOT_SET, L"The property was never set." },
};

const WCHAR *describe_hresult(HRESULT hr)
{
    size_t i;
    for (i = 0; i < ARRAY_SIZE(descriptions); i++)
        if (descriptions[i].hr == hr) return descriptions[i].text;
    return NULL;
}

const WCHAR *describe_context(BG_ERROR_CONTEXT context)
{
    static const WCHAR *const texts[] = {
        L"No error context is available.",
        L"The error context is unknown.",
        L"The error occurred in the transfer queue manager.",
        L"The error occurred while notifying the application.",
        L"The error occurred while processing the local file.",
        L"The error occurred while processing the remote file.",
        L"The error occurred in the transport layer.",
        L"The error occurred in the remote server application.",
        L"The error occurred in the server certificate validation callback.",
    };
    return (unsigned)context < ARRAY_SIZE(texts) ? texts[context] : NULL;
}

static HRESULT dup_cotaskmem(const WCHAR *text, LPWSTR *out)
{
    size_t size = (lstrlenW(text) + 1) * sizeof(WCHAR);
    if (!(*out = CoTaskMemAlloc(size))) return E_OUTOFMEMORY;
    memcpy(*out, text, size);
    return S_OK;
}

/*
 * WinINet and WinHTTP number their codes from the same 12000, and two of one number may mean
 * different things. Up to 12174 the codes are WinINet's, the ones dosvc reports whichever client
 * carried the request (engine/http.h), and where WinHTTP defines the same number it means the
 * same (12030, 12032 and 12172 differ in words only): WinINet's table first, WinHTTP's for the
 * rest. From 12175 on a code is WinHTTP's alone: WinINet's last one, 12175, is
 * ERROR_INTERNET_DECODING_FAILED, which dosvc never causes (it asks WinINet for no content
 * decoding), where WinHTTP's is ERROR_WINHTTP_SECURE_FAILURE, the meaning DO and BITS report;
 * WinINet defines nothing after it.
 */
#define WINHTTP_ALONE_FROM 12175

size_t message_owners(DWORD code, const WCHAR *owners[2])
{
    if (code < INTERNET_ERROR_BASE || code >= INTERNET_ERROR_BASE + 1000) return 0;
    if (code >= WINHTTP_ALONE_FROM)
    {
        owners[0] = L"winhttp.dll";
        return 1;
    }
    owners[0] = L"wininet.dll";
    owners[1] = L"winhttp.dll";
    return 2;
}

/* The system's text for hr in language or, for a WinINet or WinHTTP code, its owners'. LocalFree *text. */
static DWORD message_in(HRESULT hr, DWORD language, WCHAR **text)
{
    const DWORD flags = FORMAT_MESSAGE_IGNORE_INSERTS | FORMAT_MESSAGE_ALLOCATE_BUFFER;
    const WCHAR *owners[2];
    DWORD len = FormatMessageW(flags | FORMAT_MESSAGE_FROM_SYSTEM, NULL, (DWORD)hr, language, (WCHAR *)text, 0, NULL);
    size_t count, i;

    if (len || !FAILED(hr) || HRESULT_FACILITY(hr) != FACILITY_WIN32) return len;
    count = message_owners(HRESULT_CODE(hr), owners);
    for (i = 0; !len && i < count; i++)
    {
        HMODULE module = LoadLibraryExW(owners[i], NULL, LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_SEARCH_SYSTEM32);
        if (!module) continue;
        len = FormatMessageW(flags | FORMAT_MESSAGE_FROM_HMODULE, module, HRESULT_CODE(hr), language, (WCHAR *)text, 0, NULL);
        FreeLibrary(module);
    }
    return len;
}

HRESULT describe_hresult_alloc(HRESULT hr, DWORD language, LPWSTR *out)
{
    const WCHAR *ours = describe_hresult(hr);
    WCHAR *system = NULL, http[64];
    HRESULT result;
    DWORD len;

    *out = NULL;
    if (ours) return dup_cotaskmem(ours, out);
    if (HRESULT_FACILITY(hr) == 0x19 && (hr & 0x80000000))     /* BG_E_HTTP_ERROR_nnn */
    {
        wsprintfW(http, L"The server returned HTTP status %u.", (unsigned)HRESULT_CODE(hr));
        return dup_cotaskmem(http, out);
    }
    /* Only English text is ours; the system may know other languages. */
    len = message_in(hr, language, &system);
    if (!len && language) len = message_in(hr, 0, &system);   /* another language is better than none */
    if (!len) return HRESULT_FROM_WIN32(ERROR_MR_MID_NOT_FOUND);
    while (len && (system[len - 1] == '\n' || system[len - 1] == '\r')) system[--len] = 0;
    result = dup_cotaskmem(system, out);
    LocalFree(system);
    return result;
}
