/*
 * The class factory: one per DllGetClassObject call, counted like any object.
 * It refuses aggregation and implements LockServer.
 */
#include "com_private.h"

struct factory
{
    IClassFactory IClassFactory_iface;
    LONG refs;
    const struct error_map *errors;
    HRESULT (*create)(const struct error_map *errors, REFIID riid, void **out);
};

static inline struct factory *impl_from_IClassFactory(IClassFactory *iface)
{
    return CONTAINING_RECORD(iface, struct factory, IClassFactory_iface);
}

static HRESULT WINAPI factory_QueryInterface(IClassFactory *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    if (!out) return com_traced(E_POINTER);
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory))
    {
        *out = iface;
        IClassFactory_AddRef(iface);
        return com_traced(S_OK);
    }
    *out = NULL;
    return com_traced(E_NOINTERFACE);
}

static ULONG WINAPI factory_AddRef(IClassFactory *iface)
{
    return InterlockedIncrement(&impl_from_IClassFactory(iface)->refs);
}

static ULONG WINAPI factory_Release(IClassFactory *iface)
{
    struct factory *factory = impl_from_IClassFactory(iface);
    ULONG refs = InterlockedDecrement(&factory->refs);
    if (!refs)
    {
        HeapFree(GetProcessHeap(), 0, factory);
        server_object_destroyed();
    }
    return refs;
}

static HRESULT WINAPI factory_CreateInstance(IClassFactory *iface, IUnknown *outer, REFIID riid, void **out)
{
    TRACE_COM("(%p, %p, %s, %p)", iface, outer, dos_trace_guid((const dos_guid *)riid), out);
    struct factory *factory = impl_from_IClassFactory(iface);
    HRESULT hr;

    if (!out) return com_traced(E_POINTER);
    *out = NULL;
    if (outer) return com_traced(CLASS_E_NOAGGREGATION);
    if (!riid) return com_traced(E_INVALIDARG);
    /* A service on its way out makes nothing more: the client's COM starts a new one. */
    if (!server_activation_begin()) return com_traced(CO_E_SERVER_STOPPING);
    hr = factory->create(factory->errors, riid, out);
    server_activation_end();
    return com_traced(hr);
}

static HRESULT WINAPI factory_LockServer(IClassFactory *iface, BOOL lock)
{
    TRACE_COM("(%p, %d)", iface, (int)lock);
    (void)iface;
    server_lock(lock);
    return com_traced(S_OK);
}

static const IClassFactoryVtbl factory_vtbl =
{
    factory_QueryInterface,
    factory_AddRef,
    factory_Release,
    factory_CreateInstance,
    factory_LockServer,
};

HRESULT factory_create(const struct error_map *errors,
                       HRESULT (*create)(const struct error_map *, REFIID, void **), REFIID riid, void **out)
{
    struct factory *factory;
    HRESULT hr;

    if (!(factory = HeapAlloc(GetProcessHeap(), 0, sizeof(*factory)))) return E_OUTOFMEMORY;
    factory->IClassFactory_iface.lpVtbl = &factory_vtbl;
    factory->refs = 1;
    factory->errors = errors;
    factory->create = create;
    server_object_created();
    hr = IClassFactory_QueryInterface(&factory->IClassFactory_iface, riid, out);
    IClassFactory_Release(&factory->IClassFactory_iface);
    return hr;
}
