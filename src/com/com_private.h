/*
 * What the COM objects of dosvc share: the error maps chosen per class, the
 * process-wide store and object counting, the constructors of every view,
 * and the few helpers that translate between COM and the core.
 */
#ifndef DOSVC_COM_PRIVATE_H
#define DOSVC_COM_PRIVATE_H

#define COBJMACROS
#define CONST_VTABLE
#include <windows.h>
#include <objbase.h>

#include <bitsmsg.h>

#include "DeliveryOptimization.h"
#include "store.h"
#include "trace.h"

/* Classic BITS codes that MinGW's bitsmsg.h lacks (values from the SDK's BitsMsg.h). */
#ifndef BG_E_TOO_MANY_FILES_IN_JOB
#define BG_E_TOO_MANY_FILES_IN_JOB ((HRESULT)0x80200051L)
#endif
#ifndef BG_E_TOO_MANY_RANGES_IN_FILE
#define BG_E_TOO_MANY_RANGES_IN_FILE ((HRESULT)0x80200052L)
#endif
#ifndef BG_E_UNKNOWN_PROPERTY_ID
#define BG_E_UNKNOWN_PROPERTY_ID ((HRESULT)0x80200057L)
#endif
#ifndef BG_E_READ_ONLY_PROPERTY
#define BG_E_READ_ONLY_PROPERTY ((HRESULT)0x80200058L)
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One HRESULT per core status. A class answers with one map: DO's or classic BITS'. */
struct error_map
{
    const char *name;
    HRESULT codes[DOS_STATUS_COUNT];
};

extern const struct error_map do_error_map;
extern const struct error_map bits_error_map;

static inline HRESULT hr_from(const struct error_map *map, dos_status s)
{
    return map->codes[s];
}

/* English text for an HRESULT that DO or BITS defines, or NULL. */
const WCHAR *describe_hresult(HRESULT hr);
const WCHAR *describe_context(BG_ERROR_CONTEXT context);
/* CoTaskMemAlloc'd description of hr: ours first, then the system's, then its owner module's. */
HRESULT describe_hresult_alloc(HRESULT hr, DWORD language, LPWSTR *out);
/* The modules whose message tables describe a Win32 code of WinINet's and WinHTTP's shared range
 * (12000-12999), in the order asked: how many, into owners (errors.c says which, and why). */
size_t message_owners(DWORD code, const WCHAR *owners[2]);

/* server.c: the store every object of this process shares, and DllCanUnloadNow's counts. */
struct dos_store *server_store(void);
struct engine *server_engine(void);
void server_object_created(void);
void server_object_destroyed(void);
void server_lock(BOOL lock);
HINSTANCE server_module(void);
/* No objects but the caller's own_objects, no server lock, no job, no worker. */
BOOL server_idle(LONG own_objects);
/* Activations (CreateInstance) between begin and end; begin fails once the service closed. */
BOOL server_activation_begin(void);
void server_activation_end(void);
/* The service's stop: closed for good, or closed only if idle (else open again and FALSE). */
void server_close(void);
BOOL server_close_if_idle(LONG own_objects);
/* Stops the engine and the notifier and drops the store (DllMain, the service's stop). */
void server_shutdown(void);

/* service.c: the Windows service that hosts the one store (svchost.exe -k OpenDoSvc). The
 * name cannot be Windows' own DoSvc: service names ignore case. */
#define DOSVC_SERVICE_NAME L"OpenDoSvc"

/* register.c: the registry helpers that proxy.c shares */
LSTATUS reg_set_string(HKEY key, const WCHAR *name, const WCHAR *value);
BOOL reg_default_is(HKEY key, const WCHAR *subkey, const WCHAR *value);
BOOL reg_holds_only_name(HKEY key, const WCHAR *name);
LSTATUS reg_set_server(const WCHAR *path, const WCHAR *name, const WCHAR *kind, const WCHAR *module);
LSTATUS reg_remove_server(const WCHAR *path, const WCHAR *name, const WCHAR *kind, const WCHAR *module);

/* marshal.c: in the service, each object's IMarshal (marshal_query answers IID_IMarshal with
 * it); in clients, CLSID_DosvcUnmarshaler and the wrapper whose IClientSecurity works. */
extern const CLSID CLSID_DosvcUnmarshaler;
void marshal_in_service(BOOL on);
BOOL marshal_query(IUnknown *object, REFIID riid, void **out);
HRESULT unmarshaler_create(const struct error_map *errors, REFIID riid, void **out);

/* proxy.c: widl's proxies and stubs, one class of this DLL, and the unmarshaler's registration */
BOOL proxy_serves(REFCLSID clsid);
HRESULT proxy_get_class_object(REFCLSID clsid, REFIID riid, void **out);
BOOL proxy_in_use(void);
HRESULT proxy_register(const WCHAR *module);
HRESULT proxy_unregister(const WCHAR *module);

HRESULT factory_create(const struct error_map *errors,
                       HRESULT (*create)(const struct error_map *errors, REFIID riid, void **out),
                       REFIID riid, void **out);

/* Views. Each takes its own references; out receives the requested interface. */
HRESULT manager_create(const struct error_map *errors, REFIID riid, void **out);

/* security.c: a blanket remembered where nothing else keeps it (in-process objects, and the
 * client's wrapper under Wine: marshal.c), and the IClientSecurity part of an object */
struct blanket
{
    DWORD authn_svc, authz_svc, authn_level, imp_level, capabilities;
};
void blanket_keep(struct blanket *blanket, DWORD authn_svc, DWORD authz_svc, DWORD authn_level, DWORD imp_level,
                  DWORD capabilities);
void blanket_report(const struct blanket *blanket, DWORD *authn_svc, DWORD *authz_svc, OLECHAR **principal,
                    DWORD *authn_level, DWORD *imp_level, void **auth_info, DWORD *capabilities);
struct client_security
{
    IClientSecurity IClientSecurity_iface;
    IUnknown *outer;               /* the object it is part of (not counted) */
    struct blanket blanket;
};
void client_security_init(struct client_security *security, IUnknown *outer);
HRESULT job_view_create(struct dos_job *job, const struct error_map *errors, REFIID riid, void **out);
HRESULT file_view_create(struct dos_file *file, const struct error_map *errors, REFIID riid, void **out);
BOOL file_view_supports(REFIID riid);
/* Takes over the snapshot's references (jobs from dos_store_list_jobs). */
HRESULT job_enum_create(struct dos_job **jobs, size_t count, const struct error_map *errors,
                        IEnumBackgroundCopyJobs **out);
/* Takes over the snapshot's references (downloads from dos_store_list_downloads). */
HRESULT download_enum_create(struct dos_job **downloads, size_t count, const struct error_map *errors,
                             IEnumUnknown **out);
HRESULT file_enum_create(struct dos_job *job, const struct error_map *errors, IEnumBackgroundCopyFiles **out);
/* Takes over the record (its protocol string); holds the job for the record's file. */
HRESULT error_view_create(struct dos_job *job, struct dos_error_record *record, const struct error_map *errors,
                          IBackgroundCopyError **out);

/* download.c: the IDODownload view of a download, and what Start's blocking mode waits on */
HRESULT download_view_create(struct dos_job *job, const struct error_map *errors, REFIID riid, void **out);
void download_on_event(const struct dos_event *event);
/* The local path a client gave, made absolute and checked; its folder need not exist yet. */
HRESULT download_local_path(const struct error_map *errors, const WCHAR *name, WCHAR **out);

/* notifier.c: client callbacks, off the store's lock and on their own thread */
HRESULT notify_ref_create(IUnknown *callback, struct dos_ref **out);
IUnknown *notify_ref_callback(struct dos_ref *ref);
void notifier_on_event(const struct error_map *errors, const struct dos_event *event);
void notifier_stop(void);

/* util.c */
void *cotaskmem_alloc(size_t size);                  /* a dos_alloc_fn */
/* A VARIANT for the com channel: its type and value ("VT_BSTR \"...\"", "VT_UI4 5"). */
const char *com_trace_variant(const VARIANT *v);
HRESULT current_user_sid(WCHAR **sid);               /* malloc'd string SID of the caller */
/* Validates a local name and returns its canonical form (malloc'd); its folder must exist. */
HRESULT canonical_local_name(const struct error_map *errors, const WCHAR *name, WCHAR **out);

/* The com channel (trace.h): each COM method traces its arguments on entry (TRACE_COM) and
 * returns through com_traced, which traces its HRESULT. */
static inline HRESULT com_trace_result(const char *function, HRESULT hr)
{
    if (dos_trace_on(DOS_TRACE_COM)) dos_trace_line(DOS_TRACE_COM, function, "-> 0x%08lx", (unsigned long)hr);
    return hr;
}
#define com_traced(hr) com_trace_result(__func__, (hr))

/* The core's mirrors of API types are cast, not converted: their layouts must agree. */
_Static_assert(sizeof(dos_char) == sizeof(WCHAR), "dos_char is a WCHAR");
_Static_assert(sizeof(dos_guid) == sizeof(GUID), "dos_guid is a GUID");
_Static_assert(sizeof(dos_range) == sizeof(DO_DOWNLOAD_RANGE)
               && offsetof(dos_range, length) == offsetof(DO_DOWNLOAD_RANGE, Length), "dos_range is a DO_DOWNLOAD_RANGE");
_Static_assert(sizeof(dos_range) == sizeof(BG_FILE_RANGE)
               && offsetof(dos_range, length) == offsetof(BG_FILE_RANGE, Length), "dos_range is a BG_FILE_RANGE");

static inline const dos_char *dchars(const WCHAR *s) { return (const dos_char *)s; }
static inline WCHAR **wcharpp(dos_char **p) { return (WCHAR **)p; }

#endif
