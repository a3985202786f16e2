/*
 * Registration, in the two modes a user chooses between (README "Registration"):
 *  - the service (regsvr32 dosvc.dll): the service OpenDoSvc, hosted by svchost.exe in a
 *    group of its own, an AppID whose LocalService is that service, and the class bound to
 *    the AppID, so CLSCTX_LOCAL_SERVER and CLSCTX_ALL reach the service's one store;
 *  - in-process (regsvr32 /n /i:inproc dosvc.dll): InprocServer32 only, a private store in
 *    every client process.
 * Both register the proxies and the unmarshaler (proxy.c, marshal.c). A mode replaces the other; unregistering, in either
 * form, stops the service and removes what names this DLL, and nothing else.
 */
#include "com_private.h"

#define DO_CLSID L"{5B99FA76-721C-423C-ADAC-56D03C8A8007}"
#define CLSID_KEY L"CLSID\\" DO_CLSID
#define APPID_KEY L"AppID\\" DO_CLSID
#define SVCHOST_KEY L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Svchost"
#define PARAMETERS_KEY L"SYSTEM\\CurrentControlSet\\Services\\" DOSVC_SERVICE_NAME L"\\Parameters"

static const WCHAR class_name[] = L"DeliveryOptimization";
static const WCHAR appid_name[] = L"Delivery Optimization (dosvc)";
static const WCHAR service_display[] = L"Delivery Optimization (dosvc)";
static const WCHAR service_description[] =
    L"Downloads files for the programs that ask for them, over HTTP, HTTPS, SMB and local paths, "
    L"and keeps their jobs while they run (dosvc, an open Delivery Optimization).";
static const WCHAR service_group[] = DOSVC_SERVICE_NAME L"\0";

/* ---- registry helpers, shared with proxy.c ---------------------------------------- */

LSTATUS reg_set_string(HKEY key, const WCHAR *name, const WCHAR *value)
{
    return RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)value, (lstrlenW(value) + 1) * sizeof(WCHAR));
}

/* Whether value `name` of key (or of its subkey, when subkey is not NULL) is the string value. */
static BOOL reg_value_is(HKEY key, const WCHAR *subkey, const WCHAR *name, const WCHAR *value)
{
    WCHAR data[MAX_PATH + 64];
    DWORD size = sizeof(data) - sizeof(WCHAR), type;
    HKEY sub = key;
    BOOL same;

    if (subkey && RegOpenKeyExW(key, subkey, 0, KEY_READ, &sub)) return FALSE;
    same = !RegQueryValueExW(sub, name, NULL, &type, (BYTE *)data, &size) && (type == REG_SZ || type == REG_EXPAND_SZ);
    if (same)
    {
        data[size / sizeof(WCHAR)] = 0;
        same = !lstrcmpiW(data, value);
    }
    if (sub != key) RegCloseKey(sub);
    return same;
}

BOOL reg_default_is(HKEY key, const WCHAR *subkey, const WCHAR *value)
{
    return reg_value_is(key, subkey, NULL, value);
}

/* Whether key holds nothing but, at most, the default value `name`. */
BOOL reg_holds_only_name(HKEY key, const WCHAR *name)
{
    DWORD subkeys = 0, values = 0;

    if (RegQueryInfoKeyW(key, NULL, NULL, NULL, &subkeys, NULL, NULL, &values, NULL, NULL, NULL, NULL)) return FALSE;
    if (subkeys || values > 1) return FALSE;
    return values == 0 || reg_default_is(key, NULL, name);
}

/* HKCR\path, named `name` when dosvc creates it, with the server subkey kind naming module. */
LSTATUS reg_set_server(const WCHAR *path, const WCHAR *name, const WCHAR *kind, const WCHAR *module)
{
    HKEY key, server;
    DWORD disposition;
    LSTATUS err;

    if ((err = RegCreateKeyExW(HKEY_CLASSES_ROOT, path, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &key, &disposition)))
        return err;
    /* A key that was there already keeps its own name. */
    if (disposition == REG_CREATED_NEW_KEY) err = reg_set_string(key, NULL, name);
    if (!err) err = RegCreateKeyExW(key, kind, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &server, NULL);
    if (!err)
    {
        err = reg_set_string(server, NULL, module);
        if (!err) err = reg_set_string(server, L"ThreadingModel", L"Both");
        RegCloseKey(server);
    }
    RegCloseKey(key);
    return err;
}

/* Removes HKCR\path's server subkey kind if it names module, then the key if nothing else is left. */
LSTATUS reg_remove_server(const WCHAR *path, const WCHAR *name, const WCHAR *kind, const WCHAR *module)
{
    LSTATUS err;
    HKEY key;
    BOOL empty;

    err = RegOpenKeyExW(HKEY_CLASSES_ROOT, path, 0, KEY_ALL_ACCESS, &key);
    if (err == ERROR_FILE_NOT_FOUND) return ERROR_SUCCESS;
    if (err) return err;
    if (reg_default_is(key, kind, module) && (err = RegDeleteKeyW(key, kind)))
    {
        RegCloseKey(key);
        return err;
    }
    empty = reg_holds_only_name(key, name);
    RegCloseKey(key);
    return empty ? RegDeleteKeyW(HKEY_CLASSES_ROOT, path) : ERROR_SUCCESS;
}

static BOOL module_path(WCHAR *path, DWORD size)
{
    DWORD len = GetModuleFileNameW(server_module(), path, size);
    return len && len < size;
}

/* ---- the service ----------------------------------------------------------------- */

/* Whether the service's ServiceDll is this module: only then is the service dosvc's to remove. */
static BOOL service_is_ours(const WCHAR *module)
{
    HKEY key;
    BOOL ours;

    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, PARAMETERS_KEY, 0, KEY_READ, &key)) return FALSE;
    ours = reg_value_is(key, NULL, L"ServiceDll", module);
    RegCloseKey(key);
    return ours;
}

static LSTATUS register_service(const WCHAR *module)
{
    WCHAR image[MAX_PATH + 64];
    SERVICE_DESCRIPTIONW description = { (WCHAR *)service_description };
    SC_HANDLE manager, service;
    LSTATUS err = ERROR_SUCCESS;
    HKEY key;
    UINT len;

    len = GetSystemDirectoryW(image, MAX_PATH);
    if (!len || len >= MAX_PATH) return GetLastError() ? GetLastError() : ERROR_BUFFER_OVERFLOW;
    lstrcatW(image, L"\\svchost.exe -k " DOSVC_SERVICE_NAME);

    if (!(manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE | SC_MANAGER_CONNECT))) return GetLastError();
    /* DoSvc runs as NetworkService; so does this one. It is started by COM, on demand. */
    service = CreateServiceW(manager, DOSVC_SERVICE_NAME, service_display, SERVICE_ALL_ACCESS,
                             SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, image,
                             NULL, NULL, NULL, L"NT AUTHORITY\\NetworkService", NULL);
    if (!service && GetLastError() == ERROR_SERVICE_EXISTS
        && (service = OpenServiceW(manager, DOSVC_SERVICE_NAME, SERVICE_ALL_ACCESS))
        && !ChangeServiceConfigW(service, SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL,
                                 image, NULL, NULL, NULL, L"NT AUTHORITY\\NetworkService", NULL, service_display))
        err = GetLastError();
    else if (!service) err = GetLastError();
    if (service)
    {
        ChangeServiceConfig2W(service, SERVICE_CONFIG_DESCRIPTION, &description);
        CloseServiceHandle(service);
    }
    CloseServiceHandle(manager);
    if (err) return err;

    /* svchost.exe -k OpenDoSvc loads the group's services from their ServiceDll. */
    if ((err = RegCreateKeyExW(HKEY_LOCAL_MACHINE, PARAMETERS_KEY, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &key, NULL)))
        return err;
    err = RegSetValueExW(key, L"ServiceDll", 0, REG_EXPAND_SZ, (const BYTE *)module, (lstrlenW(module) + 1) * sizeof(WCHAR));
    RegCloseKey(key);
    if (err) return err;
    if ((err = RegCreateKeyExW(HKEY_LOCAL_MACHINE, SVCHOST_KEY, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &key, NULL)))
        return err;
    err = RegSetValueExW(key, DOSVC_SERVICE_NAME, 0, REG_MULTI_SZ, (const BYTE *)service_group, sizeof(service_group));
    RegCloseKey(key);
    return err;
}

/* Stops the service and waits for it to be gone (bounded: a stuck service fails the call). */
static LSTATUS stop_service(SC_HANDLE service)
{
    SERVICE_STATUS status;
    DWORD start = GetTickCount();

    if (!ControlService(service, SERVICE_CONTROL_STOP, &status))
    {
        DWORD err = GetLastError();
        return err == ERROR_SERVICE_NOT_ACTIVE ? ERROR_SUCCESS : err;
    }
    while (QueryServiceStatus(service, &status) && status.dwCurrentState != SERVICE_STOPPED)
    {
        if (GetTickCount() - start > 60000) return ERROR_SERVICE_REQUEST_TIMEOUT;
        Sleep(50);
    }
    return ERROR_SUCCESS;
}

static LSTATUS unregister_service(const WCHAR *module)
{
    SC_HANDLE manager, service;
    LSTATUS err = ERROR_SUCCESS;
    HKEY key;

    if (!service_is_ours(module)) return ERROR_SUCCESS;
    if (!(manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT))) return GetLastError();
    if ((service = OpenServiceW(manager, DOSVC_SERVICE_NAME, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE)))
    {
        if (!(err = stop_service(service)) && !DeleteService(service)) err = GetLastError();
        CloseServiceHandle(service);
    }
    else if (GetLastError() != ERROR_SERVICE_DOES_NOT_EXIST) err = GetLastError();
    CloseServiceHandle(manager);
    if (err) return err;
    /* DeleteService removes the service's key with its Parameters; the group value is ours alone. */
    if (!RegOpenKeyExW(HKEY_LOCAL_MACHINE, SVCHOST_KEY, 0, KEY_ALL_ACCESS, &key))
    {
        WCHAR group[64];
        DWORD size = sizeof(group), type;
        if (!RegQueryValueExW(key, DOSVC_SERVICE_NAME, NULL, &type, (BYTE *)group, &size) && type == REG_MULTI_SZ
            && size == sizeof(service_group) && !memcmp(group, service_group, size))
            err = RegDeleteValueW(key, DOSVC_SERVICE_NAME);
        RegCloseKey(key);
    }
    RegDeleteKeyW(HKEY_LOCAL_MACHINE, PARAMETERS_KEY);    /* if DeleteService left it */
    return err;
}

/* ---- the class and its AppID ------------------------------------------------------- */

static LSTATUS bind_class_to_service(void)
{
    HKEY key;
    DWORD disposition;
    LSTATUS err;

    if ((err = RegCreateKeyExW(HKEY_CLASSES_ROOT, APPID_KEY, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &key, &disposition)))
        return err;
    if (disposition == REG_CREATED_NEW_KEY) err = reg_set_string(key, NULL, appid_name);
    if (!err) err = reg_set_string(key, L"LocalService", DOSVC_SERVICE_NAME);
    RegCloseKey(key);
    if (err) return err;
    if ((err = RegCreateKeyExW(HKEY_CLASSES_ROOT, CLSID_KEY, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &key, &disposition)))
        return err;
    if (disposition == REG_CREATED_NEW_KEY) err = reg_set_string(key, NULL, class_name);
    if (!err) err = reg_set_string(key, L"AppID", DO_CLSID);
    RegCloseKey(key);
    return err;
}

static LSTATUS unbind_class_from_service(void)
{
    LSTATUS err = ERROR_SUCCESS;
    HKEY key;
    BOOL empty;

    if (!RegOpenKeyExW(HKEY_CLASSES_ROOT, APPID_KEY, 0, KEY_ALL_ACCESS, &key))
    {
        if (reg_value_is(key, NULL, L"LocalService", DOSVC_SERVICE_NAME)) err = RegDeleteValueW(key, L"LocalService");
        empty = !err && reg_holds_only_name(key, appid_name);
        RegCloseKey(key);
        if (empty) err = RegDeleteKeyW(HKEY_CLASSES_ROOT, APPID_KEY);
        if (err) return err;
    }
    if (!RegOpenKeyExW(HKEY_CLASSES_ROOT, CLSID_KEY, 0, KEY_ALL_ACCESS, &key))
    {
        if (reg_value_is(key, NULL, L"AppID", DO_CLSID)) err = RegDeleteValueW(key, L"AppID");
        empty = !err && reg_holds_only_name(key, class_name);
        RegCloseKey(key);
        if (empty) err = RegDeleteKeyW(HKEY_CLASSES_ROOT, CLSID_KEY);
    }
    return err;
}

/* ---- the modes ------------------------------------------------------------------- */

/* What the service mode wrote, the service stopped first. */
static LSTATUS remove_service_mode(const WCHAR *module)
{
    LSTATUS err = unregister_service(module);
    return err ? err : unbind_class_from_service();
}

static LSTATUS remove_inproc_mode(const WCHAR *module)
{
    return reg_remove_server(CLSID_KEY, class_name, L"InprocServer32", module);
}

/* Everything either mode wrote that names this module. */
static HRESULT unregister_all(const WCHAR *module)
{
    LSTATUS err;

    if ((err = remove_service_mode(module)) || (err = remove_inproc_mode(module))) return HRESULT_FROM_WIN32(err);
    return proxy_unregister(module);
}

static HRESULT register_service_mode(const WCHAR *module)
{
    HRESULT hr;
    LSTATUS err;

    /* An InprocServer32 would win CLSCTX_ALL and give Chromium a private store. */
    if ((err = remove_inproc_mode(module))) return HRESULT_FROM_WIN32(err);
    if (FAILED(hr = proxy_register(module))) return hr;
    if ((err = register_service(module))) return HRESULT_FROM_WIN32(err);
    return HRESULT_FROM_WIN32(bind_class_to_service());
}

static HRESULT register_inproc_mode(const WCHAR *module)
{
    HRESULT hr;
    LSTATUS err;

    if ((err = remove_service_mode(module))) return HRESULT_FROM_WIN32(err);
    if (FAILED(hr = proxy_register(module))) return hr;
    return HRESULT_FROM_WIN32(reg_set_server(CLSID_KEY, class_name, L"InprocServer32", module));
}

static HRESULT with_module(HRESULT (*action)(const WCHAR *module))
{
    WCHAR path[MAX_PATH];
    if (!module_path(path, ARRAY_SIZE(path))) return HRESULT_FROM_WIN32(GetLastError());
    return action(path);
}

HRESULT WINAPI DllRegisterServer(void)
{
    TRACE_COM("()");
    return com_traced(with_module(register_service_mode));
}

HRESULT WINAPI DllUnregisterServer(void)
{
    TRACE_COM("()");
    return com_traced(with_module(unregister_all));
}

/* regsvr32 [/u] /n /i:inproc dosvc.dll: the in-process mode. Any other command line is refused. */
HRESULT WINAPI DllInstall(BOOL install, const WCHAR *command)
{
    TRACE_COM("(%d, %s)", install, dos_trace_wstr(dchars(command)));
    if (!command || lstrcmpiW(command, L"inproc")) return com_traced(E_INVALIDARG);
    return com_traced(with_module(install ? register_inproc_mode : unregister_all));
}
