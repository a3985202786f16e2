/*
 * The DLL's exports DllGetClassObject and DllCanUnloadNow (registration is in register.c,
 * the service's entry in service.c); the process-wide store, the client process's own or
 * the service's; and the counts that make DllCanUnloadNow honest (live objects, server
 * locks, jobs still listed) and tell the service when it is idle.
 */
#include "com_private.h"

#include "engine.h"

static HINSTANCE dll_instance;
static LONG object_count;
static LONG lock_count;
static struct dos_store *store;
static struct engine *engine;
static INIT_ONCE store_once = INIT_ONCE_STATIC_INIT;

/* Every change in the store reaches the engine, which moves the bytes, and the notifier,
 * which calls clients back. */
static void on_store_event(void *context, const struct dos_event *event)
{
    (void)context;
    engine_on_event(engine, event);
    download_on_event(event);
    notifier_on_event(&do_error_map, event);
}

static BOOL CALLBACK create_store(INIT_ONCE *once, void *param, void **context)
{
    (void)once; (void)param; (void)context;
    if (!(store = dos_store_create())) return FALSE;
    if (!(engine = engine_create(store)))
    {
        dos_store_release(store);
        store = NULL;
        return FALSE;
    }
    dos_store_set_listener(store, on_store_event, NULL);
    return TRUE;
}

struct engine *server_engine(void)
{
    return server_store() ? engine : NULL;
}

struct dos_store *server_store(void)
{
    return InitOnceExecuteOnce(&store_once, create_store, NULL, NULL) ? store : NULL;
}

void server_object_created(void) { InterlockedIncrement(&object_count); }
void server_object_destroyed(void) { InterlockedDecrement(&object_count); }

void server_lock(BOOL lock)
{
    if (lock) InterlockedIncrement(&lock_count);
    else InterlockedDecrement(&lock_count);
}

static LONG activations;   /* CreateInstance calls under way */
static LONG closed;        /* the service has decided to stop: no new object */

HINSTANCE server_module(void) { return dll_instance; }

BOOL server_activation_begin(void)
{
    InterlockedIncrement(&activations);
    if (!InterlockedCompareExchange(&closed, 0, 0)) return TRUE;
    InterlockedDecrement(&activations);
    return FALSE;
}

void server_activation_end(void) { InterlockedDecrement(&activations); }

/* Closed first, then checked: an activation that began before the close is seen here; one
 * that begins after it sees the close and refuses (the interlocked operations order both). */
BOOL server_close_if_idle(LONG own_objects)
{
    InterlockedExchange(&closed, 1);
    if (!InterlockedCompareExchange(&activations, 0, 0) && server_idle(own_objects)) return TRUE;
    InterlockedExchange(&closed, 0);
    return FALSE;
}

void server_close(void) { InterlockedExchange(&closed, 1); }

BOOL server_idle(LONG own_objects)
{
    if (object_count > own_objects || lock_count) return FALSE;
    return !store || (!dos_store_job_count(store) && engine_idle(engine));
}

void server_shutdown(void)
{
    if (!store) return;
    dos_store_set_listener(store, NULL, NULL);
    notifier_stop();
    engine_destroy(engine);
    dos_store_shutdown(store);
    dos_store_release(store);
    store = NULL;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    switch (reason)
    {
    case DLL_PROCESS_ATTACH:
        dll_instance = instance;
        DisableThreadLibraryCalls(instance);
        break;
    case DLL_PROCESS_DETACH:
        /* At process exit (reserved != NULL) the heap goes away by itself. */
        if (!reserved) server_shutdown();
        break;
    }
    return TRUE;
}

HRESULT WINAPI DllGetClassObject(REFCLSID clsid, REFIID riid, void **out)
{
    TRACE_COM("(%s, %s, %p)", dos_trace_guid((const dos_guid *)clsid), dos_trace_guid((const dos_guid *)riid), out);
    if (!out) return com_traced(E_POINTER);
    *out = NULL;
    if (!clsid || !riid) return com_traced(E_INVALIDARG);
    if (IsEqualCLSID(clsid, &CLSID_DeliveryOptimization))
        return com_traced(factory_create(&do_error_map, manager_create, riid, out));
    if (IsEqualCLSID(clsid, &CLSID_DosvcUnmarshaler))
        return com_traced(factory_create(&do_error_map, unmarshaler_create, riid, out));
    if (proxy_serves(clsid)) return com_traced(proxy_get_class_object(clsid, riid, out));
    return com_traced(CLASS_E_CLASSNOTAVAILABLE);
}

HRESULT WINAPI DllCanUnloadNow(void)
{
    TRACE_COM("()");
    /* Listed jobs would be lost with the DLL: they keep it loaded like objects do. */
    if (object_count || lock_count || proxy_in_use()) return com_traced(S_FALSE);
    /* A worker still ending after Cancel runs this DLL's code. */
    if (store && (dos_store_job_count(store) || !engine_idle(engine))) return com_traced(S_FALSE);
    return com_traced(S_OK);
}
