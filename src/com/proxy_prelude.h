/*
 * Forced into every widl proxy file: the IUnknown proxy entry points that rpcrt4 exports
 * and stubless proxy vtables name, which MinGW's unknwn.h does not declare.
 */
#include <unknwn.h>
HRESULT STDMETHODCALLTYPE IUnknown_QueryInterface_Proxy(IUnknown *This, REFIID riid, void **ppvObject);
ULONG STDMETHODCALLTYPE IUnknown_AddRef_Proxy(IUnknown *This);
ULONG STDMETHODCALLTYPE IUnknown_Release_Proxy(IUnknown *This);
