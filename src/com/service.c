/*
 * The service: ServiceMain, which svchost.exe calls for OpenDoSvc (register.c writes the
 * group and the ServiceDll). It makes the store and the engine, and only then registers
 * the class with COM, so that no activation ever reaches a half-made server. It stops on
 * SERVICE_CONTROL_STOP or SHUTDOWN, and by itself after a quiet period (Parameters\
 * IdleSeconds, 120 by default) with no client object, no server lock and no job.
 */
#include "com_private.h"

#include "engine.h"

#define DEFAULT_IDLE_SECONDS 120
#define MAX_IDLE_SECONDS (7 * 24 * 3600)

static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS status;
static HANDLE stop_event;

static void report(DWORD state, DWORD exit_code, DWORD wait_hint)
{
    status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    status.dwCurrentState = state;
    status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
    status.dwWin32ExitCode = exit_code;
    status.dwCheckPoint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : status.dwCheckPoint + 1;
    status.dwWaitHint = wait_hint;
    SetServiceStatus(status_handle, &status);
}

static DWORD WINAPI control(DWORD code, DWORD type, void *data, void *context)
{
    (void)type; (void)data; (void)context;
    switch (code)
    {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        DOS_TRACE(DOS_TRACE_COM, "service: stop asked (%lu)", (unsigned long)code);
        report(SERVICE_STOP_PENDING, NO_ERROR, 30000);
        SetEvent(stop_event);
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

static DWORD idle_seconds(void)
{
    DWORD value = DEFAULT_IDLE_SECONDS, size = sizeof(value), type;
    HKEY key;

    if (!RegOpenKeyExW(HKEY_LOCAL_MACHINE, L"SYSTEM\\CurrentControlSet\\Services\\" DOSVC_SERVICE_NAME L"\\Parameters",
                       0, KEY_READ, &key))
    {
        if (RegQueryValueExW(key, L"IdleSeconds", NULL, &type, (BYTE *)&value, &size) || type != REG_DWORD || !value)
            value = DEFAULT_IDLE_SECONDS;
        if (value > MAX_IDLE_SECONDS) value = MAX_IDLE_SECONDS;    /* milliseconds fit a DWORD */
        RegCloseKey(key);
    }
    return value;
}

/* Waits for a stop (TRUE), or for a whole quiet period through which the server stayed idle
 * (FALSE). The registered class object is the one object the service itself holds. */
static BOOL wait_for_stop_or_quiet(void)
{
    DWORD quiet_ms = idle_seconds() * 1000, idle_since = 0;
    BOOL was_idle = FALSE;

    /* The quiet period is read again at every check: a change counts without a restart. */
    while (WaitForSingleObject(stop_event, min(max(quiet_ms / 4, 250), 15000)) == WAIT_TIMEOUT)
    {
        quiet_ms = idle_seconds() * 1000;
        if (!server_idle(1))
        {
            was_idle = FALSE;
            continue;
        }
        if (!was_idle)
        {
            was_idle = TRUE;
            idle_since = GetTickCount();
        }
        else if (GetTickCount() - idle_since >= quiet_ms) return FALSE;
    }
    return TRUE;
}

/* Runs until stopped, or until idle with the class revoked and the door closed: a client
 * that activated meanwhile keeps the service running, registered again. */
static HRESULT run(IUnknown *factory, DWORD *cookie)
{
    HRESULT hr;

    for (;;)
    {
        BOOL stop = wait_for_stop_or_quiet();
        CoRevokeClassObject(*cookie);
        *cookie = 0;
        if (stop)
        {
            server_close();
            return S_OK;
        }
        if (server_close_if_idle(1))
        {
            DOS_TRACE(DOS_TRACE_COM, "service: idle for %lu s, stopping", (unsigned long)idle_seconds());
            report(SERVICE_STOP_PENDING, NO_ERROR, 30000);
            return S_OK;
        }
        hr = CoRegisterClassObject(&CLSID_DeliveryOptimization, factory, CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE, cookie);
        if (FAILED(hr)) return hr;
    }
}

void WINAPI ServiceMain(DWORD argc, WCHAR **argv)
{
    IUnknown *factory = NULL;
    DWORD cookie = 0, failure = NO_ERROR;
    HRESULT hr, init;

    (void)argc; (void)argv;
    if (!(status_handle = RegisterServiceCtrlHandlerExW(DOSVC_SERVICE_NAME, control, NULL))) return;
    report(SERVICE_START_PENDING, NO_ERROR, 30000);
    if (!(stop_event = CreateEventW(NULL, TRUE, FALSE, NULL)))
    {
        report(SERVICE_STOPPED, GetLastError(), 0);
        return;
    }
    init = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    marshal_in_service(TRUE);
    /* Clients authenticate at least at connect level. svchost's other hosts set this for their
     * group; this group is dosvc's own. (No access ACL yet, and no impersonation: issue 10's
     * note says what identity still needs.) */
    hr = CoInitializeSecurity(NULL, -1, NULL, NULL, RPC_C_AUTHN_LEVEL_CONNECT, RPC_C_IMP_LEVEL_IDENTIFY,
                              NULL, EOAC_NONE, NULL);
    if (FAILED(hr) && hr != RPC_E_TOO_LATE) DOS_TRACE(DOS_TRACE_COM, "service: CoInitializeSecurity -> 0x%08lx", (unsigned long)hr);

    if (FAILED(init)) hr = init;
    else if (!server_store()) hr = E_OUTOFMEMORY;
    else if (SUCCEEDED(hr = factory_create(&do_error_map, manager_create, &IID_IUnknown, (void **)&factory)))
        hr = CoRegisterClassObject(&CLSID_DeliveryOptimization, factory, CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE, &cookie);
    DOS_TRACE(DOS_TRACE_COM, "service: class registered -> 0x%08lx", (unsigned long)hr);

    if (SUCCEEDED(hr))
    {
        report(SERVICE_RUNNING, NO_ERROR, 0);
        hr = run(factory, &cookie);
    }
    else if (cookie) CoRevokeClassObject(cookie);
    if (FAILED(hr)) failure = ERROR_SERVICE_SPECIFIC_ERROR;
    if (factory) IUnknown_Release(factory);
    /* With nothing left the store and engine go; a stop with jobs or clients left ends the
     * process with them (workers included: freeing what they use would be a use after free).
     * Until the store is saved (issue 11), those jobs are lost. */
    if (server_idle(0)) server_shutdown();
    if (SUCCEEDED(init)) CoUninitialize();
    CloseHandle(stop_event);
    stop_event = NULL;
    status.dwServiceSpecificExitCode = SUCCEEDED(hr) ? 0 : (DWORD)hr;
    report(SERVICE_STOPPED, failure, 0);
}
