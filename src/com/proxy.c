/*
 * The proxies and stubs that carry dosvc's interfaces between processes: widl's output
 * (src/CMakeLists.txt), served as one class of this DLL, and their registration. An
 * interface gets dosvc's proxy only where none is registered yet, so Wine's qmgrprxy and
 * Windows' own proxies stay in charge of the interfaces they cover.
 */
#include "com_private.h"

#include <rpcproxy.h>

/* dlldata.c, written by widl and compiled with ENTRY_PREFIX=prx and PROXY_CLSID_IS. */
extern const ProxyFileInfo *aProxyFileList[];
extern const CLSID CLSID_PSFactoryBuffer;
HRESULT WINAPI prxDllGetClassObject(REFCLSID clsid, REFIID riid, void **out);
HRESULT WINAPI prxDllCanUnloadNow(void);

static const WCHAR factory_name[] = L"dosvc proxy/stub factory";
static const WCHAR unmarshaler_name[] = L"dosvc unmarshaler";

BOOL proxy_serves(REFCLSID clsid)
{
    return IsEqualCLSID(clsid, &CLSID_PSFactoryBuffer);
}

HRESULT proxy_get_class_object(REFCLSID clsid, REFIID riid, void **out)
{
    return prxDllGetClassObject(clsid, riid, out);
}

BOOL proxy_in_use(void)
{
    return prxDllCanUnloadNow() != S_OK;
}

static void guid_text(const GUID *guid, WCHAR text[39])
{
    StringFromGUID2(guid, text, 39);
}

/* Calls visit for every interface the proxy code marshals, until it fails. */
static LSTATUS for_each_interface(LSTATUS (*visit)(const IID *iid, const char *name, const WCHAR *ours))
{
    WCHAR ours[39];
    LSTATUS err = ERROR_SUCCESS;

    guid_text(&CLSID_PSFactoryBuffer, ours);
    for (const ProxyFileInfo **file = aProxyFileList; *file && !err; file++)
        for (unsigned short i = 0; i < (*file)->TableSize && !err; i++)
            err = visit((*file)->pStubVtblList[i]->header.piid, (*file)->pNamesArray[i], ours);
    return err;
}

static void interface_key(const IID *iid, WCHAR path[64])
{
    WCHAR text[39];
    guid_text(iid, text);
    wsprintfW(path, L"Interface\\%s", text);
}

static LSTATUS register_interface(const IID *iid, const char *name, const WCHAR *ours)
{
    WCHAR path[64], wname[128];
    HKEY key, stub;
    DWORD disposition;
    LSTATUS err;

    interface_key(iid, path);
    /* A proxy registered by someone else (Wine's qmgrprxy, Windows' own) stays in charge. */
    if (!RegOpenKeyExW(HKEY_CLASSES_ROOT, path, 0, KEY_READ, &key))
    {
        BOOL taken = !RegOpenKeyExW(key, L"ProxyStubClsid32", 0, KEY_READ, &stub);
        if (taken) RegCloseKey(stub);
        RegCloseKey(key);
        if (taken) return ERROR_SUCCESS;
    }
    if ((err = RegCreateKeyExW(HKEY_CLASSES_ROOT, path, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &key, &disposition)))
        return err;
    if (disposition == REG_CREATED_NEW_KEY)
    {
        MultiByteToWideChar(CP_ACP, 0, name, -1, wname, ARRAY_SIZE(wname));
        err = reg_set_string(key, NULL, wname);
    }
    if (!err) err = RegCreateKeyExW(key, L"ProxyStubClsid32", 0, NULL, 0, KEY_ALL_ACCESS, NULL, &stub, NULL);
    if (!err)
    {
        err = reg_set_string(stub, NULL, ours);
        RegCloseKey(stub);
    }
    RegCloseKey(key);
    return err;
}

static LSTATUS unregister_interface(const IID *iid, const char *name, const WCHAR *ours)
{
    WCHAR path[64], wname[128];
    HKEY key;
    LSTATUS err;

    interface_key(iid, path);
    if (RegOpenKeyExW(HKEY_CLASSES_ROOT, path, 0, KEY_ALL_ACCESS, &key)) return ERROR_SUCCESS;
    /* Only a ProxyStubClsid32 that names dosvc's factory was written by dosvc. */
    if (reg_default_is(key, L"ProxyStubClsid32", ours) && (err = RegDeleteKeyW(key, L"ProxyStubClsid32")))
    {
        RegCloseKey(key);
        return err;
    }
    MultiByteToWideChar(CP_ACP, 0, name, -1, wname, ARRAY_SIZE(wname));
    BOOL empty = reg_holds_only_name(key, wname);
    RegCloseKey(key);
    return empty ? RegDeleteKeyW(HKEY_CLASSES_ROOT, path) : ERROR_SUCCESS;
}

/* The in-process classes this file registers: the proxy/stub factory and the unmarshaler. */
static const struct { const CLSID *clsid; const WCHAR *name; } classes[] = {
    { &CLSID_PSFactoryBuffer, factory_name },
    { &CLSID_DosvcUnmarshaler, unmarshaler_name },
};

static void class_key(const CLSID *clsid, WCHAR path[64])
{
    WCHAR text[39];
    guid_text(clsid, text);
    wsprintfW(path, L"CLSID\\%s", text);
}

HRESULT proxy_register(const WCHAR *module)
{
    WCHAR path[64];
    LSTATUS err;

    for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
    {
        class_key(classes[i].clsid, path);
        if ((err = reg_set_server(path, classes[i].name, L"InprocServer32", module))) return HRESULT_FROM_WIN32(err);
    }
    return HRESULT_FROM_WIN32(for_each_interface(register_interface));
}

HRESULT proxy_unregister(const WCHAR *module)
{
    WCHAR path[64];
    LSTATUS err;

    if ((err = for_each_interface(unregister_interface))) return HRESULT_FROM_WIN32(err);
    for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
    {
        class_key(classes[i].clsid, path);
        if ((err = reg_remove_server(path, classes[i].name, L"InprocServer32", module))) return HRESULT_FROM_WIN32(err);
    }
    return S_OK;
}
