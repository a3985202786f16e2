/*
 * The DLL's exports: DllGetClassObject, DllCanUnloadNow, DllRegisterServer,
 * DllUnregisterServer; the process-wide store; and the counts that make
 * DllCanUnloadNow honest (live objects, server locks, jobs still listed).
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
        if (!reserved && store)
        {
            dos_store_set_listener(store, NULL, NULL);
            notifier_stop();
            engine_destroy(engine);
            dos_store_shutdown(store);
            dos_store_release(store);
            store = NULL;
        }
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
    return com_traced(CLASS_E_CLASSNOTAVAILABLE);
}

HRESULT WINAPI DllCanUnloadNow(void)
{
    TRACE_COM("()");
    /* Listed jobs would be lost with the DLL: they keep it loaded like objects do. */
    if (object_count || lock_count) return com_traced(S_FALSE);
    /* A worker still ending after Cancel runs this DLL's code. */
    if (store && (dos_store_job_count(store) || !engine_idle(engine))) return com_traced(S_FALSE);
    return com_traced(S_OK);
}

/* ---- registration -------------------------------------------------------- */

#define CLSID_KEY L"CLSID\\{5B99FA76-721C-423C-ADAC-56D03C8A8007}"
static const WCHAR class_name[] = L"DeliveryOptimization";

static LSTATUS set_string(HKEY key, const WCHAR *name, const WCHAR *value)
{
    return RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)value, (lstrlenW(value) + 1) * sizeof(WCHAR));
}

static BOOL module_path(WCHAR *path, DWORD size)
{
    DWORD len = GetModuleFileNameW(dll_instance, path, size);
    return len && len < size;
}

HRESULT WINAPI DllRegisterServer(void)
{
    TRACE_COM("()");
    WCHAR path[MAX_PATH];
    HKEY clsid_key, server_key;
    DWORD disposition;
    LSTATUS err;

    if (!module_path(path, ARRAY_SIZE(path))) return com_traced(HRESULT_FROM_WIN32(GetLastError()));
    err = RegCreateKeyExW(HKEY_CLASSES_ROOT, CLSID_KEY, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &clsid_key, &disposition);
    if (err) return com_traced(HRESULT_FROM_WIN32(err));
    /* A key that was there already keeps its own name. */
    if (disposition == REG_CREATED_NEW_KEY) err = set_string(clsid_key, NULL, class_name);
    if (!err) err = RegCreateKeyExW(clsid_key, L"InprocServer32", 0, NULL, 0, KEY_ALL_ACCESS, NULL, &server_key, NULL);
    if (!err)
    {
        err = set_string(server_key, NULL, path);
        if (!err) err = set_string(server_key, L"ThreadingModel", L"Both");
        RegCloseKey(server_key);
    }
    RegCloseKey(clsid_key);
    return com_traced(HRESULT_FROM_WIN32(err));
}

/* Whether key holds nothing but, at most, the default value we wrote. */
static BOOL only_our_name_left(HKEY key)
{
    DWORD subkeys = 0, values = 0, size = sizeof(WCHAR) * 64, type;
    WCHAR name[64];

    if (RegQueryInfoKeyW(key, NULL, NULL, NULL, &subkeys, NULL, NULL, &values, NULL, NULL, NULL, NULL)) return FALSE;
    if (subkeys) return FALSE;
    if (values == 0) return TRUE;
    if (values > 1) return FALSE;
    return !RegQueryValueExW(key, NULL, NULL, &type, (BYTE *)name, &size) && type == REG_SZ
        && !lstrcmpW(name, class_name);
}

HRESULT WINAPI DllUnregisterServer(void)
{
    TRACE_COM("()");
    WCHAR path[MAX_PATH], registered[MAX_PATH];
    DWORD size = sizeof(registered), type;
    HKEY clsid_key, server_key;
    LSTATUS err;
    BOOL ours;

    if (!module_path(path, ARRAY_SIZE(path))) return com_traced(HRESULT_FROM_WIN32(GetLastError()));
    err = RegOpenKeyExW(HKEY_CLASSES_ROOT, CLSID_KEY, 0, KEY_ALL_ACCESS, &clsid_key);
    if (err == ERROR_FILE_NOT_FOUND) return com_traced(S_OK);
    if (err) return com_traced(HRESULT_FROM_WIN32(err));
    /* Remove only a server registration that names this DLL; another one is not ours. */
    if (!RegOpenKeyExW(clsid_key, L"InprocServer32", 0, KEY_READ, &server_key))
    {
        ours = !RegQueryValueExW(server_key, NULL, NULL, &type, (BYTE *)registered, &size) && type == REG_SZ
               && !lstrcmpiW(registered, path);
        RegCloseKey(server_key);
        if (ours && (err = RegDeleteKeyW(clsid_key, L"InprocServer32")))
        {
            RegCloseKey(clsid_key);
            return com_traced(HRESULT_FROM_WIN32(err));
        }
    }
    ours = only_our_name_left(clsid_key);
    RegCloseKey(clsid_key);
    if (ours && (err = RegDeleteKeyW(HKEY_CLASSES_ROOT, CLSID_KEY))) return com_traced(HRESULT_FROM_WIN32(err));
    return com_traced(S_OK);
}
