/*
 * What a transport is given and reports. A transport copies one file (or its
 * ranges) from the remote name into an open temporary file, from the bytes it
 * already holds onwards, and records progress in the store as it goes. It
 * fails with an HRESULT, saying whether a retry may help and in which context.
 */
#ifndef DOSVC_ENGINE_TRANSPORT_H
#define DOSVC_ENGINE_TRANSPORT_H

#include <windows.h>

#include "store.h"

struct transfer
{
    struct dos_job *job;
    dos_run run;
    struct dos_transfer_file *file;  /* what to fetch, and what is already on disk */
    HANDLE temp;                     /* positioned at file->transferred */
    HANDLE stop;                     /* signalled when the run is revoked */
    int *system_direct;              /* the run's: whether the system names no proxy; -1 until
                                        a transport asks (http.c), NULL to ask every time */

    /* Set by the transport when it fails. */
    HRESULT error;
    dos_error_context context;
    BOOL transient;
    const WCHAR *protocol;           /* static text, or NULL */
    DWORD retry_after;               /* seconds a server asked to wait (503 Retry-After), or 0 */
    BOOL transferred_from_before;    /* bytes were on disk when the fetch began (a resumption) */
    ULONGLONG progress_tick;         /* GetTickCount64() when the last bytes were written, or 0 */
};

/* Copies the file; TRUE on success, FALSE with t->error and friends set. */
BOOL transport_file_fetch(struct transfer *t);
BOOL transport_http_fetch(struct transfer *t);

/*
 * Writes data to the temporary file (or the download's stream sink) and records
 * the new byte count in the store; fails with the run's end (E_ABORT) or the
 * write's error.
 */
BOOL transfer_write(struct transfer *t, const void *data, DWORD size, uint64_t file_size);
/* Records a response's status, the server's address and the URL that answered (after
 * redirects) for the file: IDO's read-only HttpStatusCode, HttpServerIPAddress and
 * HttpRedirectionTarget. A transport that knows the peer's address passes it; NULL
 * resolves the URL's host. */
void transfer_record_http(struct transfer *t, DWORD status, const WCHAR *url, const WCHAR *address);
BOOL transfer_fail(struct transfer *t, HRESULT error, dos_error_context context, BOOL transient);

/*
 * A writer writes a large body on a thread of its own while the transport reads the next
 * buffer: on two cores, writing costs about as much as reading. The transport fills the
 * buffers writer_buffer gives it and hands each back with writer_queue, in order;
 * writer_finish waits for every write. Until then only the writer touches t's progress.
 */
#define WRITER_BUFFER_SIZE (1u << 20)
#define WRITER_MIN_BODY (4u << 20)      /* smaller bodies are written as they come */
struct writer;
struct writer *writer_start(struct transfer *t, uint64_t file_size);   /* NULL: write with transfer_write */
/* An empty buffer of WRITER_BUFFER_SIZE bytes, after waiting for one; NULL once a write failed. */
BYTE *writer_buffer(struct writer *w);
void writer_queue(struct writer *w, DWORD size);
/* Waits for the writes; FALSE if one failed, with t's error set unless it already holds one (ok FALSE). */
BOOL writer_finish(struct writer *w, BOOL ok);

/*
 * Calls fetch for each span of the file still to transfer, in the order the spans go in
 * the temporary file: the rest of the whole file (ranged FALSE, length DOS_LENGTH_TO_EOF),
 * or what remains of each requested range. size is the remote file's size; while it is
 * unknown, a range to the end of the file is asked for with length DOS_LENGTH_TO_EOF.
 */
typedef BOOL (*transfer_span_fn)(void *context, uint64_t offset, uint64_t length, BOOL ranged);
BOOL transfer_each_span(struct transfer *t, uint64_t size, transfer_span_fn fetch, void *context);
BOOL transfer_stopped(struct transfer *t);

#endif
