/*
 * What makes CoSetProxyBlanket work on every proxy of the service's objects, under Wine
 * too. The DO SDK and winget call it on each object they get and give up if it fails, and
 * Wine's proxy manager answers E_NOTIMPL to every IClientSecurity call. So in the service
 * each object marshals itself through a tear-off IMarshal: the data is exactly the
 * standard marshaler's, but the class that unmarshals it is dosvc's own unmarshaler,
 * which the client loads from this DLL. It unmarshals the standard proxy and hands the
 * client a thin wrapper around it: one identity whose interfaces forward every method,
 * slot by slot, to the proxy's (x86-64 thunks below), and whose IClientSecurity asks the
 * proxy's and, where the proxy manager cannot, keeps the blanket itself. Where the system's
 * proxy manager implements blankets (Windows), they are its to honour.
 */
#include "com_private.h"

#define MAX_SLOTS 128

/* {3E0F8B21-5C6A-4D97-B1E4-7A2C9D0F6B13} */
const CLSID CLSID_DosvcUnmarshaler = { 0x3e0f8b21, 0x5c6a, 0x4d97, { 0xb1, 0xe4, 0x7a, 0x2c, 0x9d, 0x0f, 0x6b, 0x13 } };

/* ---- the service's side: a tear-off IMarshal per object --------------------------- */

static BOOL in_service;

void marshal_in_service(BOOL on) { in_service = on; }

struct tearoff
{
    IMarshal IMarshal_iface;
    LONG refs;
    IUnknown *object;          /* counted */
};

static struct tearoff *tearoff_from(IMarshal *iface)
{
    return CONTAINING_RECORD(iface, struct tearoff, IMarshal_iface);
}

static HRESULT WINAPI tearoff_QueryInterface(IMarshal *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IMarshal))
    {
        *out = iface;
        IMarshal_AddRef(iface);
        return S_OK;
    }
    return IUnknown_QueryInterface(tearoff_from(iface)->object, riid, out);
}

static ULONG WINAPI tearoff_AddRef(IMarshal *iface)
{
    return InterlockedIncrement(&tearoff_from(iface)->refs);
}

static ULONG WINAPI tearoff_Release(IMarshal *iface)
{
    struct tearoff *tearoff = tearoff_from(iface);
    ULONG refs = InterlockedDecrement(&tearoff->refs);

    if (!refs)
    {
        IUnknown_Release(tearoff->object);
        HeapFree(GetProcessHeap(), 0, tearoff);
    }
    return refs;
}

/* Only a client in another process on this machine gets the wrapper. */
static BOOL wrapped(DWORD context)
{
    return context == MSHCTX_LOCAL;
}

static HRESULT standard(IMarshal *iface, REFIID riid, DWORD context, void *context_data, DWORD flags, IMarshal **out)
{
    return CoGetStandardMarshal(riid, tearoff_from(iface)->object, context, context_data, flags, out);
}

static HRESULT WINAPI tearoff_GetUnmarshalClass(IMarshal *iface, REFIID riid, void *pv, DWORD context,
                                                void *context_data, DWORD flags, CLSID *clsid)
{
    IMarshal *std;
    HRESULT hr;

    if (wrapped(context))
    {
        *clsid = CLSID_DosvcUnmarshaler;
        return S_OK;
    }
    if (FAILED(hr = standard(iface, riid, context, context_data, flags, &std))) return hr;
    hr = IMarshal_GetUnmarshalClass(std, riid, pv, context, context_data, flags, clsid);
    IMarshal_Release(std);
    return hr;
}

static HRESULT WINAPI tearoff_GetMarshalSizeMax(IMarshal *iface, REFIID riid, void *pv, DWORD context,
                                                void *context_data, DWORD flags, DWORD *size)
{
    IMarshal *std;
    HRESULT hr;

    if (FAILED(hr = standard(iface, riid, context, context_data, flags, &std))) return hr;
    hr = IMarshal_GetMarshalSizeMax(std, riid, pv, context, context_data, flags, size);
    IMarshal_Release(std);
    return hr;
}

static HRESULT WINAPI tearoff_MarshalInterface(IMarshal *iface, IStream *stream, REFIID riid, void *pv,
                                               DWORD context, void *context_data, DWORD flags)
{
    IMarshal *std;
    HRESULT hr;

    /* The standard marshaler's own data: dosvc's unmarshaler hands it to CoUnmarshalInterface. */
    if (FAILED(hr = standard(iface, riid, context, context_data, flags, &std))) return hr;
    hr = IMarshal_MarshalInterface(std, stream, riid, pv, context, context_data, flags);
    IMarshal_Release(std);
    return hr;
}

static HRESULT WINAPI tearoff_UnmarshalInterface(IMarshal *iface, IStream *stream, REFIID riid, void **out)
{
    return E_UNEXPECTED;       /* the service's objects are unmarshalled by CLSID_DosvcUnmarshaler */
}

static HRESULT WINAPI tearoff_ReleaseMarshalData(IMarshal *iface, IStream *stream)
{
    return CoReleaseMarshalData(stream);
}

static HRESULT WINAPI tearoff_DisconnectObject(IMarshal *iface, DWORD reserved)
{
    IMarshal *std;
    HRESULT hr;

    if (FAILED(hr = standard(iface, &IID_IUnknown, MSHCTX_LOCAL, NULL, MSHLFLAGS_NORMAL, &std))) return hr;
    hr = IMarshal_DisconnectObject(std, reserved);
    IMarshal_Release(std);
    return hr;
}

static const IMarshalVtbl tearoff_vtbl = {
    tearoff_QueryInterface, tearoff_AddRef, tearoff_Release,
    tearoff_GetUnmarshalClass, tearoff_GetMarshalSizeMax, tearoff_MarshalInterface,
    tearoff_UnmarshalInterface, tearoff_ReleaseMarshalData, tearoff_DisconnectObject,
};

BOOL marshal_query(IUnknown *object, REFIID riid, void **out)
{
    struct tearoff *tearoff;

    if (!in_service || !IsEqualIID(riid, &IID_IMarshal)) return FALSE;
    *out = NULL;
    if (!(tearoff = HeapAlloc(GetProcessHeap(), 0, sizeof(*tearoff)))) return FALSE;
    tearoff->IMarshal_iface.lpVtbl = &tearoff_vtbl;
    tearoff->refs = 1;
    tearoff->object = object;
    IUnknown_AddRef(object);
    *out = &tearoff->IMarshal_iface;
    return TRUE;
}

/* ---- the client's side: the wrapper -------------------------------------------------- */

/* Thunk i (16 bytes apart) replaces `this`, a struct part, by the proxy's interface the part
 * wraps and jumps to that interface's method i: arguments and return pass untouched. */
extern const BYTE dosvc_forward_thunks[];
__asm__(".text\n"
        ".balign 16\n"
        ".globl dosvc_forward_thunks\n"
        "dosvc_forward_thunks:\n"
        ".set slot, 0\n"
        ".rept " "128" "\n"
        ".balign 16\n"
        "movq 8(%rcx), %rcx\n"
        "movq (%rcx), %rax\n"
        "jmp *(slot * 8)(%rax)\n"
        ".set slot, slot + 1\n"
        ".endr\n");

struct wrapper;

struct part
{
    const void *const *vtbl;   /* forward_vtbl */
    IUnknown *proxy;           /* the proxy's interface (counted) */
    struct wrapper *owner;
    IID iid;
    struct part *next;
};

struct wrapper
{
    IUnknown IUnknown_iface;
    IClientSecurity IClientSecurity_iface;
    LONG refs;
    IUnknown *proxy;           /* the proxy manager's identity (counted) */
    SRWLOCK lock;              /* guards parts */
    struct part *parts;
    struct blanket blanket;    /* the blanket asked, where the proxy manager keeps none (Wine) */
};

static const void *forward_vtbl[MAX_SLOTS];
static INIT_ONCE forward_once = INIT_ONCE_STATIC_INIT;

static struct wrapper *wrapper_from_IUnknown(IUnknown *iface)
{
    return CONTAINING_RECORD(iface, struct wrapper, IUnknown_iface);
}

static struct wrapper *wrapper_from_IClientSecurity(IClientSecurity *iface)
{
    return CONTAINING_RECORD(iface, struct wrapper, IClientSecurity_iface);
}

static HRESULT wrapper_query(struct wrapper *wrapper, REFIID riid, void **out);

static HRESULT WINAPI part_QueryInterface(struct part *part, REFIID riid, void **out)
{
    return wrapper_query(part->owner, riid, out);
}

static ULONG WINAPI part_AddRef(struct part *part)
{
    return IUnknown_AddRef(&part->owner->IUnknown_iface);
}

static ULONG WINAPI part_Release(struct part *part)
{
    return IUnknown_Release(&part->owner->IUnknown_iface);
}

static BOOL CALLBACK fill_forward_vtbl(INIT_ONCE *once, void *param, void **context)
{
    forward_vtbl[0] = (const void *)part_QueryInterface;
    forward_vtbl[1] = (const void *)part_AddRef;
    forward_vtbl[2] = (const void *)part_Release;
    for (int slot = 3; slot < MAX_SLOTS; slot++) forward_vtbl[slot] = dosvc_forward_thunks + 16 * slot;
    return TRUE;
}

/* The part wrapping riid, made on first use; NULL if the proxy has no such interface. */
static struct part *part_for(struct wrapper *wrapper, REFIID riid, HRESULT *hr)
{
    struct part *part;
    IUnknown *proxy;

    AcquireSRWLockExclusive(&wrapper->lock);
    for (part = wrapper->parts; part; part = part->next)
        if (IsEqualIID(&part->iid, riid)) break;
    ReleaseSRWLockExclusive(&wrapper->lock);
    if (part) return part;

    if (FAILED(*hr = IUnknown_QueryInterface(wrapper->proxy, riid, (void **)&proxy))) return NULL;
    if (!(part = HeapAlloc(GetProcessHeap(), 0, sizeof(*part))))
    {
        IUnknown_Release(proxy);
        *hr = E_OUTOFMEMORY;
        return NULL;
    }
    part->vtbl = forward_vtbl;
    part->proxy = proxy;
    part->owner = wrapper;
    part->iid = *riid;
    AcquireSRWLockExclusive(&wrapper->lock);
    part->next = wrapper->parts;
    wrapper->parts = part;
    ReleaseSRWLockExclusive(&wrapper->lock);
    return part;
}

static HRESULT wrapper_query(struct wrapper *wrapper, REFIID riid, void **out)
{
    struct part *part;
    HRESULT hr = E_NOINTERFACE;

    if (!out) return E_POINTER;
    *out = NULL;
    if (IsEqualIID(riid, &IID_IUnknown)) *out = &wrapper->IUnknown_iface;
    else if (IsEqualIID(riid, &IID_IClientSecurity)) *out = &wrapper->IClientSecurity_iface;
    /* Marshalled on, the wrapper becomes the proxy's own standard reference. */
    else if (IsEqualIID(riid, &IID_IMarshal)) return IUnknown_QueryInterface(wrapper->proxy, riid, out);
    /* IMultiQI would hand out unwrapped proxies: it is not offered. */
    else if (IsEqualIID(riid, &IID_IMultiQI)) return E_NOINTERFACE;
    else if ((part = part_for(wrapper, riid, &hr))) *out = part;
    else return hr;
    IUnknown_AddRef(&wrapper->IUnknown_iface);
    return S_OK;
}

static HRESULT WINAPI wrapper_QueryInterface(IUnknown *iface, REFIID riid, void **out)
{
    return wrapper_query(wrapper_from_IUnknown(iface), riid, out);
}

static ULONG WINAPI wrapper_AddRef(IUnknown *iface)
{
    return InterlockedIncrement(&wrapper_from_IUnknown(iface)->refs);
}

static ULONG WINAPI wrapper_Release(IUnknown *iface)
{
    struct wrapper *wrapper = wrapper_from_IUnknown(iface);
    ULONG refs = InterlockedDecrement(&wrapper->refs);

    if (!refs)
    {
        while (wrapper->parts)
        {
            struct part *part = wrapper->parts;
            wrapper->parts = part->next;
            IUnknown_Release(part->proxy);
            HeapFree(GetProcessHeap(), 0, part);
        }
        IUnknown_Release(wrapper->proxy);
        HeapFree(GetProcessHeap(), 0, wrapper);
        server_object_destroyed();
    }
    return refs;
}

static const IUnknownVtbl wrapper_vtbl = { wrapper_QueryInterface, wrapper_AddRef, wrapper_Release };

/* The proxy's interface behind proxy, a part of wrapper's or the wrapper itself, and (if
 * iid) which interface that is. */
static IUnknown *proxy_behind(struct wrapper *wrapper, IUnknown *proxy, const IID **iid)
{
    IUnknown *behind = wrapper->proxy;

    if (iid) *iid = &IID_IUnknown;
    AcquireSRWLockShared(&wrapper->lock);
    for (struct part *part = wrapper->parts; part; part = part->next)
        if ((IUnknown *)part == proxy)
        {
            behind = part->proxy;
            if (iid) *iid = &part->iid;
        }
    ReleaseSRWLockShared(&wrapper->lock);
    return behind;
}

static HRESULT WINAPI wrapper_security_QueryInterface(IClientSecurity *iface, REFIID riid, void **out)
{
    return wrapper_query(wrapper_from_IClientSecurity(iface), riid, out);
}

static ULONG WINAPI wrapper_security_AddRef(IClientSecurity *iface)
{
    return IUnknown_AddRef(&wrapper_from_IClientSecurity(iface)->IUnknown_iface);
}

static ULONG WINAPI wrapper_security_Release(IClientSecurity *iface)
{
    return IUnknown_Release(&wrapper_from_IClientSecurity(iface)->IUnknown_iface);
}

static HRESULT WINAPI wrapper_QueryBlanket(IClientSecurity *iface, IUnknown *proxy, DWORD *authn_svc, DWORD *authz_svc,
                                           OLECHAR **principal, DWORD *authn_level, DWORD *imp_level,
                                           void **auth_info, DWORD *capabilities)
{
    TRACE_COM("(%p, %p)", iface, proxy);
    struct wrapper *wrapper = wrapper_from_IClientSecurity(iface);
    HRESULT hr;

    if (!proxy) return com_traced(E_INVALIDARG);
    proxy = proxy_behind(wrapper, proxy, NULL);
    hr = CoQueryProxyBlanket(proxy, authn_svc, authz_svc, principal, authn_level, imp_level, auth_info, capabilities);
    if (hr != E_NOTIMPL) return com_traced(hr);
    blanket_report(&wrapper->blanket, authn_svc, authz_svc, principal, authn_level, imp_level, auth_info, capabilities);
    return com_traced(S_OK);
}

static HRESULT WINAPI wrapper_SetBlanket(IClientSecurity *iface, IUnknown *proxy, DWORD authn_svc, DWORD authz_svc,
                                         OLECHAR *principal, DWORD authn_level, DWORD imp_level, void *auth_info,
                                         DWORD capabilities)
{
    TRACE_COM("(%p, %p, %lu, %lu, %lu, %lu, %#lx)", iface, proxy, (unsigned long)authn_svc, (unsigned long)authz_svc,
              (unsigned long)authn_level, (unsigned long)imp_level, (unsigned long)capabilities);
    struct wrapper *wrapper = wrapper_from_IClientSecurity(iface);
    HRESULT hr;

    if (!proxy) return com_traced(E_INVALIDARG);
    proxy = proxy_behind(wrapper, proxy, NULL);
    hr = CoSetProxyBlanket(proxy, authn_svc, authz_svc, principal, authn_level, imp_level, auth_info, capabilities);
    if (hr != E_NOTIMPL) return com_traced(hr);
    /* Wine's proxy manager keeps no blanket; its channel authenticates as it always does. */
    blanket_keep(&wrapper->blanket, authn_svc, authz_svc, authn_level, imp_level, capabilities);
    return com_traced(S_OK);
}

static HRESULT wrapper_create(IUnknown *proxy, REFIID riid, void **out);

static HRESULT WINAPI wrapper_CopyProxy(IClientSecurity *iface, IUnknown *proxy, IUnknown **copy)
{
    TRACE_COM("(%p, %p, %p)", iface, proxy, copy);
    struct wrapper *wrapper = wrapper_from_IClientSecurity(iface);
    IUnknown *inner, *inner_copy;
    const IID *iid;
    HRESULT hr;

    if (!proxy || !copy) return com_traced(E_INVALIDARG);
    *copy = NULL;
    inner = proxy_behind(wrapper, proxy, &iid);
    hr = CoCopyProxy(inner, &inner_copy);
    /* Without the proxy manager's copy, a second wrapper keeps a blanket of its own. The copy
     * is the interface that was passed, as CoCopyProxy's is. */
    if (hr == E_NOTIMPL) return com_traced(wrapper_create(wrapper->proxy, iid, (void **)copy));
    if (FAILED(hr)) return com_traced(hr);
    hr = wrapper_create(inner_copy, iid, (void **)copy);
    IUnknown_Release(inner_copy);
    return com_traced(hr);
}

static const IClientSecurityVtbl wrapper_security_vtbl = {
    wrapper_security_QueryInterface, wrapper_security_AddRef, wrapper_security_Release,
    wrapper_QueryBlanket, wrapper_SetBlanket, wrapper_CopyProxy,
};

static HRESULT wrapper_create(IUnknown *proxy, REFIID riid, void **out)
{
    struct wrapper *wrapper;
    HRESULT hr;

    InitOnceExecuteOnce(&forward_once, fill_forward_vtbl, NULL, NULL);
    if (!(wrapper = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*wrapper)))) return E_OUTOFMEMORY;
    wrapper->IUnknown_iface.lpVtbl = &wrapper_vtbl;
    wrapper->IClientSecurity_iface.lpVtbl = &wrapper_security_vtbl;
    wrapper->refs = 1;
    InitializeSRWLock(&wrapper->lock);
    blanket_keep(&wrapper->blanket, RPC_C_AUTHN_WINNT, RPC_C_AUTHZ_NONE, RPC_C_AUTHN_LEVEL_CONNECT,
                 RPC_C_IMP_LEVEL_IDENTIFY, EOAC_NONE);
    if (FAILED(hr = IUnknown_QueryInterface(proxy, &IID_IUnknown, (void **)&wrapper->proxy)))
    {
        HeapFree(GetProcessHeap(), 0, wrapper);
        return hr;
    }
    server_object_created();   /* the wrapper runs this DLL's code: it keeps it loaded */
    hr = wrapper_query(wrapper, riid, out);
    IUnknown_Release(&wrapper->IUnknown_iface);
    return hr;
}

/* ---- the client's side: the unmarshaler, CLSID_DosvcUnmarshaler ---------------------------- */

static HRESULT WINAPI unmarshaler_QueryInterface(IMarshal *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IMarshal))
    {
        *out = iface;
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI unmarshaler_AddRef(IMarshal *iface) { return 2; }
static ULONG WINAPI unmarshaler_Release(IMarshal *iface) { return 1; }

static HRESULT WINAPI unmarshaler_GetUnmarshalClass(IMarshal *iface, REFIID riid, void *pv, DWORD context,
                                                    void *context_data, DWORD flags, CLSID *clsid)
{
    return E_UNEXPECTED;       /* it only unmarshals */
}

static HRESULT WINAPI unmarshaler_GetMarshalSizeMax(IMarshal *iface, REFIID riid, void *pv, DWORD context,
                                                    void *context_data, DWORD flags, DWORD *size)
{
    return E_UNEXPECTED;
}

static HRESULT WINAPI unmarshaler_MarshalInterface(IMarshal *iface, IStream *stream, REFIID riid, void *pv,
                                                   DWORD context, void *context_data, DWORD flags)
{
    return E_UNEXPECTED;
}

static HRESULT WINAPI unmarshaler_UnmarshalInterface(IMarshal *iface, IStream *stream, REFIID riid, void **out)
{
    IUnknown *proxy;
    HRESULT hr;

    if (!out) return E_POINTER;
    *out = NULL;
    if (FAILED(hr = CoUnmarshalInterface(stream, riid, (void **)&proxy))) return hr;
    hr = wrapper_create(proxy, riid, out);
    IUnknown_Release(proxy);
    return hr;
}

static HRESULT WINAPI unmarshaler_ReleaseMarshalData(IMarshal *iface, IStream *stream)
{
    return CoReleaseMarshalData(stream);
}

static HRESULT WINAPI unmarshaler_DisconnectObject(IMarshal *iface, DWORD reserved)
{
    return S_OK;
}

static const IMarshalVtbl unmarshaler_vtbl = {
    unmarshaler_QueryInterface, unmarshaler_AddRef, unmarshaler_Release,
    unmarshaler_GetUnmarshalClass, unmarshaler_GetMarshalSizeMax, unmarshaler_MarshalInterface,
    unmarshaler_UnmarshalInterface, unmarshaler_ReleaseMarshalData, unmarshaler_DisconnectObject,
};

static IMarshal unmarshaler = { &unmarshaler_vtbl };

HRESULT unmarshaler_create(const struct error_map *errors, REFIID riid, void **out)
{
    (void)errors;
    return IMarshal_QueryInterface(&unmarshaler, riid, out);
}
