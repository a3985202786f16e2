/*
 * The IClientSecurity of dosvc's objects that DO clients call CoSetProxyBlanket
 * on and check (the manager and every download; clients.md 0.2). In-process
 * calls already run on the caller's own thread and token, so every blanket is
 * honoured trivially; the part only remembers what was set, so QueryBlanket
 * reports it back. It is a part of its object: its IUnknown is the object's.
 */
#include "com_private.h"

static struct client_security *impl_from(IClientSecurity *iface)
{
    return CONTAINING_RECORD(iface, struct client_security, IClientSecurity_iface);
}

static HRESULT WINAPI security_QueryInterface(IClientSecurity *iface, REFIID riid, void **out)
{
    TRACE_COM("(%p, %s, %p)", iface, dos_trace_guid((const dos_guid *)riid), out);
    return com_traced(IUnknown_QueryInterface(impl_from(iface)->outer, riid, out));
}

static ULONG WINAPI security_AddRef(IClientSecurity *iface)
{
    return IUnknown_AddRef(impl_from(iface)->outer);
}

static ULONG WINAPI security_Release(IClientSecurity *iface)
{
    return IUnknown_Release(impl_from(iface)->outer);
}

void blanket_keep(struct blanket *blanket, DWORD authn_svc, DWORD authz_svc, DWORD authn_level, DWORD imp_level,
                  DWORD capabilities)
{
    blanket->authn_svc = authn_svc;
    blanket->authz_svc = authz_svc;
    blanket->authn_level = authn_level;
    blanket->imp_level = imp_level;
    blanket->capabilities = capabilities;
}

void blanket_report(const struct blanket *blanket, DWORD *authn_svc, DWORD *authz_svc, OLECHAR **principal,
                    DWORD *authn_level, DWORD *imp_level, void **auth_info, DWORD *capabilities)
{
    if (authn_svc) *authn_svc = blanket->authn_svc;
    if (authz_svc) *authz_svc = blanket->authz_svc;
    if (principal) *principal = NULL;
    if (authn_level) *authn_level = blanket->authn_level;
    if (imp_level) *imp_level = blanket->imp_level;
    if (auth_info) *auth_info = NULL;
    if (capabilities) *capabilities = blanket->capabilities;
}

static HRESULT WINAPI security_QueryBlanket(IClientSecurity *iface, IUnknown *proxy, DWORD *authn_svc,
                                            DWORD *authz_svc, OLECHAR **principal, DWORD *authn_level,
                                            DWORD *imp_level, void **auth_info, DWORD *capabilities)
{
    TRACE_COM("(%p, %p, %p, %p, %p, %p, %p, %p, %p)", iface, proxy, authn_svc, authz_svc, principal, authn_level, imp_level, auth_info, capabilities);
    struct client_security *security = impl_from(iface);

    if (!proxy) return com_traced(E_INVALIDARG);
    blanket_report(&security->blanket, authn_svc, authz_svc, principal, authn_level, imp_level, auth_info, capabilities);
    return com_traced(S_OK);
}

static HRESULT WINAPI security_SetBlanket(IClientSecurity *iface, IUnknown *proxy, DWORD authn_svc,
                                          DWORD authz_svc, OLECHAR *principal, DWORD authn_level,
                                          DWORD imp_level, void *auth_info, DWORD capabilities)
{
    TRACE_COM("(%p, %p, %lu, %lu, %p, %lu, %lu, %p, %lu)", iface, proxy, (unsigned long)authn_svc, (unsigned long)authz_svc, principal, (unsigned long)authn_level, (unsigned long)imp_level, auth_info, (unsigned long)capabilities);
    struct client_security *security = impl_from(iface);

    (void)principal; (void)auth_info;
    if (!proxy) return com_traced(E_INVALIDARG);
    blanket_keep(&security->blanket, authn_svc, authz_svc, authn_level, imp_level, capabilities);
    return com_traced(S_OK);
}

static HRESULT WINAPI security_CopyProxy(IClientSecurity *iface, IUnknown *proxy, IUnknown **copy)
{
    TRACE_COM("(%p, %p, %p)", iface, proxy, copy);
    (void)iface;
    if (!proxy || !copy) return com_traced(E_INVALIDARG);
    /* There is no proxy to copy in-process: the object itself serves. */
    *copy = proxy;
    IUnknown_AddRef(proxy);
    return com_traced(S_OK);
}

static const IClientSecurityVtbl security_vtbl =
{
    security_QueryInterface,
    security_AddRef,
    security_Release,
    security_QueryBlanket,
    security_SetBlanket,
    security_CopyProxy,
};

void client_security_init(struct client_security *security, IUnknown *outer)
{
    security->IClientSecurity_iface.lpVtbl = &security_vtbl;
    security->outer = outer;
    blanket_keep(&security->blanket, RPC_C_AUTHN_WINNT, RPC_C_AUTHZ_NONE, RPC_C_AUTHN_LEVEL_PKT_PRIVACY,
                 RPC_C_IMP_LEVEL_IMPERSONATE, EOAC_NONE);
}
