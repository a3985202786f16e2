/* The core's platform port on Windows: SRW locks, the system clock, the system RNG, the
 * invariant locale's case mapping, and the environment, ids and debugger output the trace
 * facility uses. */
#include <windows.h>
#include <bcrypt.h>

#include "../core/port.h"

struct port_mutex
{
    SRWLOCK lock;
};

port_mutex *port_mutex_create(void)
{
    port_mutex *m = HeapAlloc(GetProcessHeap(), 0, sizeof(*m));
    if (m) InitializeSRWLock(&m->lock);
    return m;
}

void port_mutex_destroy(port_mutex *m)
{
    HeapFree(GetProcessHeap(), 0, m);
}

void port_mutex_lock(port_mutex *m) { AcquireSRWLockExclusive(&m->lock); }
void port_mutex_unlock(port_mutex *m) { ReleaseSRWLockExclusive(&m->lock); }

uint64_t port_now_filetime(void)
{
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    return ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
}

int port_random_bytes(void *buf, size_t len)
{
    return BCRYPT_SUCCESS(BCryptGenRandom(NULL, buf, (ULONG)len, BCRYPT_USE_SYSTEM_PREFERRED_RNG)) ? 0 : -1;
}

void port_upcase(uint16_t *text, size_t length)
{
    /* One unit to one unit, in place: what LCMAP_UPPERCASE alone does. */
    if (length)
        LCMapStringEx(LOCALE_NAME_INVARIANT, LCMAP_UPPERCASE, text, (int)length, text, (int)length, NULL, NULL, 0);
}

bool port_getenv(const char *name, char *buf, size_t size)
{
    DWORD n = GetEnvironmentVariableA(name, buf, size > MAXDWORD ? MAXDWORD : (DWORD)size);
    return n && n < size;
}

uint32_t port_process_id(void) { return GetCurrentProcessId(); }
uint32_t port_thread_id(void) { return GetCurrentThreadId(); }
void port_debug_output(const char *text) { OutputDebugStringA(text); }

/*
 * Appending whole lines while other processes append to the same file: Wine does not make a
 * FILE_APPEND_DATA handle's writes atomic (lines of three processes overwrote each other), so
 * each write takes a lock on one byte far beyond any end, then goes to the end.
 */
port_append_file *port_append_open(const char *path)
{
    HANDLE file = CreateFileA(path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                              OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    return file == INVALID_HANDLE_VALUE ? NULL : (port_append_file *)file;
}

void port_append_write(port_append_file *f, const char *text, size_t length)
{
    OVERLAPPED at_lock = { .OffsetHigh = 0x40000000 };
    LARGE_INTEGER end = { .QuadPart = 0 };
    DWORD written;

    if (!LockFileEx((HANDLE)f, LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &at_lock)) return;
    if (SetFilePointerEx((HANDLE)f, end, NULL, FILE_END)) WriteFile((HANDLE)f, text, (DWORD)length, &written, NULL);
    UnlockFileEx((HANDLE)f, 0, 1, 0, &at_lock);
}

void port_append_close(port_append_file *f) { CloseHandle((HANDLE)f); }
