/*
 * The transfer engine: takes runnable jobs from the store and moves their
 * files' bytes through a transport into temporary files beside the
 * destinations, writing progress and errors back to the store. It knows
 * nothing of COM; the COM layer forwards the store's events to it and calls
 * it to finish jobs (Cancel and Complete deal with the files on disk).
 */
#ifndef DOSVC_ENGINE_H
#define DOSVC_ENGINE_H

#include <windows.h>
#include <wincrypt.h>

#include "store.h"

struct engine;

struct engine *engine_create(struct dos_store *store);
/* Stops every run and waits for the workers; for DLL unload. */
void engine_destroy(struct engine *engine);

/* The system certificate store a BG_CERT_STORE_LOCATION (0..7) names, read-only; NULL if none. */
HCERTSTORE engine_open_cert_store(uint32_t location, const WCHAR *name);

/* No worker runs: the DLL's code is not in use (DllCanUnloadNow). */
BOOL engine_idle(struct engine *engine);

/* The store's events, forwarded by the COM layer's listener. */
void engine_on_event(struct engine *engine, const struct dos_event *event);

/*
 * Cancel (final_state CANCELLED) or Complete (ACKNOWLEDGED) a job: stop its
 * run and wait for its worker, then move each fully transferred file onto its
 * final name (Complete) and delete the other temporary files dosvc created.
 * Returns the store's status. A failed move is reported in *rename_error (S_OK
 * if none) and that file is not kept; *delete_failed tells whether some
 * temporary file could not be deleted.
 */
dos_status engine_finish_job(struct engine *engine, struct dos_job *job, dos_job_state final_state,
                             HRESULT *rename_error, BOOL *delete_failed);

#endif
