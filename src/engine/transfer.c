/*
 * What every transport shares: writing received bytes to the temporary file
 * (or to a download's stream sink) and into the store's progress, noticing that the run was revoked, and
 * recording a failure. The local and SMB transport lives here too.
 */
#include <winsock2.h>     /* before windows.h, which transport.h brings */
#include <ws2tcpip.h>

#include "transport.h"

#include <shlwapi.h>
#include <stdlib.h>

#include "deliveryoptimizationerrors.h"
#include "names.h"
#include "trace.h"

#define CHUNK (1u << 20)

BOOL transfer_stopped(struct transfer *t)
{
    return WaitForSingleObject(t->stop, 0) == WAIT_OBJECT_0;
}

BOOL transfer_fail(struct transfer *t, HRESULT error, dos_error_context context, BOOL transient)
{
    if (error != E_ABORT)
        TRACE_ENGINE("file %u: 0x%08lx, context %d, %s", t->file->index, (unsigned long)error, (int)context,
                     transient ? "transient" : "fatal");
    t->error = error;
    t->context = context;
    t->transient = transient;
    return FALSE;
}

/* The first address the URL's host names, as text; FALSE if it has none. WinINet does not say
 * which address it connected to, and the first is the one it tries first. */
static BOOL host_address(const WCHAR *url, WCHAR *text, DWORD size)
{
    WCHAR host[256];                   /* INTERNET_MAX_HOST_NAME_LENGTH */
    DWORD len = ARRAYSIZE(host);
    ADDRINFOW hints = { .ai_socktype = SOCK_STREAM }, *found = NULL;
    WSADATA wsa;
    BOOL ok = FALSE;

    if (FAILED(UrlGetPartW(url, host, &len, URL_PART_HOSTNAME, 0)) || !host[0]) return FALSE;
    if (host[0] == '[' && len > 2)     /* an IPv6 literal */
    {
        memmove(host, host + 1, (len - 2) * sizeof(WCHAR));
        host[len - 2] = 0;
    }
    if (WSAStartup(MAKEWORD(2, 2), &wsa)) return FALSE;
    if (!GetAddrInfoW(host, NULL, &hints, &found) && found)
        ok = !WSAAddressToStringW(found->ai_addr, (DWORD)found->ai_addrlen, NULL, text, &size);
    if (found) FreeAddrInfoW(found);
    WSACleanup();
    return ok;
}

void transfer_record_http(struct transfer *t, DWORD status, const WCHAR *url, const WCHAR *address)
{
    WCHAR resolved[64];

    if (!address && host_address(url, resolved, ARRAYSIZE(resolved))) address = resolved;
    dos_file_record_http(t->file->file, t->run, status, (const dos_char *)address, (const dos_char *)url);
}

BOOL transfer_write(struct transfer *t, const void *data, DWORD size, uint64_t file_size)
{
    const BYTE *p = data;
    DWORD written;

    /* A stream sink takes the bytes in order (IDO's StreamInterface); what it refuses is fatal.
     * Bytes it took count even if the run was revoked meanwhile: they must not come twice. */
    if (t->file->sink)
    {
        HRESULT hr;
        if (!dos_job_run_is_live(t->job, t->run)) return transfer_fail(t, E_ABORT, DOS_CONTEXT_NONE, FALSE);
        if (FAILED(hr = t->file->sink->write(t->file->sink, data, size)))
            return transfer_fail(t, dos_job_run_is_live(t->job, t->run) ? hr : E_ABORT, DOS_CONTEXT_NONE, FALSE);
        t->file->transferred += size;
        t->progress_tick = GetTickCount64();
        if (dos_file_record_delivered(t->file->file, t->run, file_size, t->file->transferred) != DOS_OK)
            return transfer_fail(t, E_ABORT, DOS_CONTEXT_NONE, FALSE);
        return dos_job_run_is_live(t->job, t->run) ? TRUE : transfer_fail(t, E_ABORT, DOS_CONTEXT_NONE, FALSE);
    }
    while (size)
    {
        if (!WriteFile(t->temp, p, size, &written, NULL))
            return transfer_fail(t, HRESULT_FROM_WIN32(GetLastError()), DOS_CONTEXT_NONE, FALSE);
        t->file->transferred += written;
        t->progress_tick = GetTickCount64();
        p += written;
        size -= written;
    }
    /* A revoked run makes the store refuse: stop without touching anything more. A live run
     * refused means more bytes than the file's known size: the server is not sending that file. */
    if (dos_file_record_progress(t->file->file, t->run, file_size, t->file->transferred) != DOS_OK)
    {
        if (!dos_job_run_is_live(t->job, t->run)) return transfer_fail(t, E_ABORT, DOS_CONTEXT_NONE, FALSE);
        return transfer_fail(t, DO_E_HTTP_BLOCKSIZE_MISMATCH, DOS_CONTEXT_REMOTE_FILE, FALSE);
    }
    return TRUE;
}

#define WRITER_BUFFERS 3

struct writer
{
    struct transfer t;              /* the writer's copy: its progress and error stay its own until the end */
    struct transfer *owner;
    uint64_t file_size;
    HANDLE thread;
    SRWLOCK lock;
    CONDITION_VARIABLE changed;
    BYTE *buffers[WRITER_BUFFERS];
    DWORD sizes[WRITER_BUFFERS];
    unsigned head, count;           /* buffers[head..head+count) are queued, the first being written */
    BOOL finishing, failed;
};

static DWORD WINAPI writer_thread(void *param)
{
    struct writer *w = param;

    AcquireSRWLockExclusive(&w->lock);
    for (;;)
    {
        unsigned i;
        BOOL ok;

        while (!w->count && !w->finishing) SleepConditionVariableSRW(&w->changed, &w->lock, INFINITE, 0);
        if (!w->count) break;
        i = w->head;
        ReleaseSRWLockExclusive(&w->lock);
        ok = transfer_write(&w->t, w->buffers[i], w->sizes[i], w->file_size);
        AcquireSRWLockExclusive(&w->lock);
        w->head = (w->head + 1) % WRITER_BUFFERS;
        w->count--;
        if (!ok) w->failed = TRUE;
        WakeAllConditionVariable(&w->changed);
        if (!ok) break;
    }
    ReleaseSRWLockExclusive(&w->lock);
    return 0;
}

static void writer_free(struct writer *w)
{
    unsigned i;
    for (i = 0; i < WRITER_BUFFERS; i++) free(w->buffers[i]);
    free(w);
}

struct writer *writer_start(struct transfer *t, uint64_t file_size)
{
    struct writer *w;
    unsigned i;

    /* A client's stream is written on the worker's thread, which the client's code may expect. */
    if (t->file->sink || !(w = calloc(1, sizeof(*w)))) return NULL;
    for (i = 0; i < WRITER_BUFFERS; i++)
        if (!(w->buffers[i] = malloc(WRITER_BUFFER_SIZE)))
        {
            writer_free(w);
            return NULL;
        }
    w->t = *t;
    w->owner = t;
    w->file_size = file_size;
    InitializeSRWLock(&w->lock);
    InitializeConditionVariable(&w->changed);
    if (!(w->thread = CreateThread(NULL, 0, writer_thread, w, 0, NULL)))
    {
        writer_free(w);
        return NULL;
    }
    return w;
}

BYTE *writer_buffer(struct writer *w)
{
    BYTE *buffer = NULL;

    AcquireSRWLockExclusive(&w->lock);
    while (w->count == WRITER_BUFFERS && !w->failed) SleepConditionVariableSRW(&w->changed, &w->lock, INFINITE, 0);
    if (!w->failed) buffer = w->buffers[(w->head + w->count) % WRITER_BUFFERS];
    ReleaseSRWLockExclusive(&w->lock);
    return buffer;
}

void writer_queue(struct writer *w, DWORD size)
{
    AcquireSRWLockExclusive(&w->lock);
    w->sizes[(w->head + w->count) % WRITER_BUFFERS] = size;
    w->count++;
    WakeAllConditionVariable(&w->changed);
    ReleaseSRWLockExclusive(&w->lock);
}

BOOL writer_finish(struct writer *w, BOOL ok)
{
    struct transfer *t = w->owner;

    AcquireSRWLockExclusive(&w->lock);
    w->finishing = TRUE;
    WakeAllConditionVariable(&w->changed);
    ReleaseSRWLockExclusive(&w->lock);
    WaitForSingleObject(w->thread, INFINITE);
    CloseHandle(w->thread);
    t->progress_tick = w->t.progress_tick;
    if (w->failed)
    {
        if (ok) transfer_fail(t, w->t.error, w->t.context, w->t.transient);
        ok = FALSE;
    }
    writer_free(w);
    return ok;
}

BOOL transfer_each_span(struct transfer *t, uint64_t size, transfer_span_fn fetch, void *context)
{
    const struct dos_transfer_file *f = t->file;
    uint64_t done = f->transferred;
    BOOL ok = TRUE;
    uint32_t i;

    if (!f->range_count) return fetch(context, done, DOS_LENGTH_TO_EOF, FALSE);
    for (i = 0; ok && i < f->range_count; i++)
    {
        uint64_t offset = f->ranges[i].offset, length = f->ranges[i].length;
        if (length == DOS_LENGTH_TO_EOF && size != DOS_SIZE_UNKNOWN) length = size - offset;
        if (length != DOS_LENGTH_TO_EOF && done >= length)
        {
            done -= length;
            continue;
        }
        ok = fetch(context, offset + done, length == DOS_LENGTH_TO_EOF ? length : length - done, TRUE);
        done = 0;
    }
    return ok;
}

/* ---- local paths, UNC paths and file:// URLs ------------------------------------ */

static BOOL open_source(struct transfer *t, HANDLE *source)
{
    WCHAR path[DOS_MAX_URL + 3];
    DWORD err;

    /* The very path the door checked: a file URL decoded by the same rules, none other. */
    if (dos_remote_file_path(t->file->remote_name, (dos_char *)path, ARRAYSIZE(path)) != DOS_OK)
        return transfer_fail(t, E_INVALIDARG, DOS_CONTEXT_REMOTE_FILE, FALSE);
    *source = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                          OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, NULL);
    if (*source != INVALID_HANDLE_VALUE) return TRUE;
    err = GetLastError();
    /* A share that cannot be reached may come back; a missing or forbidden file will not. */
    return transfer_fail(t, HRESULT_FROM_WIN32(err), DOS_CONTEXT_REMOTE_FILE,
                         err == ERROR_BAD_NETPATH || err == ERROR_NETNAME_DELETED || err == ERROR_UNEXP_NET_ERR
                             || err == ERROR_SEM_TIMEOUT || err == ERROR_NETWORK_UNREACHABLE);
}

struct copy
{
    struct transfer *t;
    HANDLE source;
    BYTE *buffer;
    uint64_t size;
};

/* Copies length bytes (DOS_LENGTH_TO_EOF: to the end) of the source from offset into the temporary file. */
static BOOL copy_span(void *context, uint64_t offset, uint64_t length, BOOL ranged)
{
    struct copy *c = context;
    struct transfer *t = c->t;
    LARGE_INTEGER at;
    DWORD got;

    (void)ranged;
    if (length == DOS_LENGTH_TO_EOF) length = c->size - offset;
    at.QuadPart = (LONGLONG)offset;
    if (!SetFilePointerEx(c->source, at, NULL, FILE_BEGIN))
        return transfer_fail(t, HRESULT_FROM_WIN32(GetLastError()), DOS_CONTEXT_REMOTE_FILE, FALSE);
    while (length)
    {
        DWORD want = length < CHUNK ? (DWORD)length : CHUNK;
        if (transfer_stopped(t)) return transfer_fail(t, E_ABORT, DOS_CONTEXT_NONE, FALSE);
        if (!ReadFile(c->source, c->buffer, want, &got, NULL))
            return transfer_fail(t, HRESULT_FROM_WIN32(GetLastError()), DOS_CONTEXT_REMOTE_FILE, TRUE);
        if (!got)   /* the file shrank under us */
            return transfer_fail(t, DO_E_HTTP_BLOCKSIZE_MISMATCH, DOS_CONTEXT_REMOTE_FILE, TRUE);
        if (!transfer_write(t, c->buffer, got, c->size)) return FALSE;
        length -= got;
    }
    return TRUE;
}

BOOL transport_file_fetch(struct transfer *t)
{
    struct copy c = { .t = t };
    LARGE_INTEGER size;
    BOOL ok;

    t->protocol = L"file";
    if (!open_source(t, &c.source)) return FALSE;
    if (!GetFileSizeEx(c.source, &size))
        ok = transfer_fail(t, HRESULT_FROM_WIN32(GetLastError()), DOS_CONTEXT_REMOTE_FILE, FALSE);
    else if (!(c.buffer = malloc(CHUNK)))
        ok = transfer_fail(t, E_OUTOFMEMORY, DOS_CONTEXT_NONE, TRUE);
    else
    {
        c.size = (uint64_t)size.QuadPart;
        /* Tell the store the size first: it checks the ranges against it. */
        if (dos_file_record_progress(t->file->file, t->run, c.size, t->file->transferred) != DOS_OK)
            ok = dos_job_run_is_live(t->job, t->run) ? transfer_fail(t, DO_E_INVALID_RANGE, DOS_CONTEXT_REMOTE_FILE, FALSE)
                                                     : transfer_fail(t, E_ABORT, DOS_CONTEXT_NONE, FALSE);
        else
            ok = transfer_each_span(t, c.size, copy_span, &c);
        free(c.buffer);
    }
    CloseHandle(c.source);
    return ok;
}
