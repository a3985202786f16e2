/*
 * The trace switch (DESIGN rule 8): one facility for the whole DLL, off by default.
 * DOSVC_TRACE names the channels to trace, comma-separated (com, engine, http, tls, store,
 * notify), or "all"; DOSVC_TRACE_FILE names a file the lines are appended to, else they go to
 * the debugger output (stderr natively). Both are read once, at the first trace point reached.
 * Off, a trace point costs one relaxed load and a branch: its arguments are not evaluated.
 *
 * Each line: "<UTC time> <pid>:<tid> <channel> <function>: <text>". The text is printf's
 * (C99 conversions); wide strings, GUIDs and byte counts go through the helpers below, which
 * format into per-thread buffers valid until the same thread's next trace line.
 */
#ifndef DOSVC_CORE_TRACE_H
#define DOSVC_CORE_TRACE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "dos.h"

enum dos_trace_channel
{
    DOS_TRACE_COM,       /* every COM method: arguments in, HRESULT out */
    DOS_TRACE_ENGINE,    /* runs, files, retries and their delays, errors, finishes */
    DOS_TRACE_HTTP,      /* requests (method, URL, Range) and responses (status, length, validators) */
    DOS_TRACE_TLS,       /* handshakes and certificate checks */
    DOS_TRACE_STORE,     /* state changes and errors recorded */
    DOS_TRACE_NOTIFY,    /* callbacks made, and what they answered */
    DOS_TRACE_CHANNELS
};

#define DOS_TRACE_UNREAD 0x80000000u    /* the mask before the environment was read */
extern atomic_uint dos_trace_mask;

/* Reads DOSVC_TRACE and DOSVC_TRACE_FILE (once) and returns the mask. */
unsigned dos_trace_init(void);

static inline bool dos_trace_on(enum dos_trace_channel channel)
{
    unsigned mask = atomic_load_explicit(&dos_trace_mask, memory_order_relaxed);
    if (mask & DOS_TRACE_UNREAD) mask = dos_trace_init();
    return (mask >> channel) & 1;
}

#if defined(__GNUC__)
#define DOS_TRACE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DOS_TRACE_PRINTF(f, a)
#endif

void dos_trace_line(enum dos_trace_channel channel, const char *function, const char *format, ...)
    DOS_TRACE_PRINTF(3, 4);

#define DOS_TRACE(channel, ...) \
    do { if (dos_trace_on(channel)) dos_trace_line(channel, __func__, __VA_ARGS__); } while (0)
#define TRACE_COM(...) DOS_TRACE(DOS_TRACE_COM, __VA_ARGS__)
#define TRACE_ENGINE(...) DOS_TRACE(DOS_TRACE_ENGINE, __VA_ARGS__)
#define TRACE_HTTP(...) DOS_TRACE(DOS_TRACE_HTTP, __VA_ARGS__)
#define TRACE_TLS(...) DOS_TRACE(DOS_TRACE_TLS, __VA_ARGS__)
#define TRACE_STORE(...) DOS_TRACE(DOS_TRACE_STORE, __VA_ARGS__)
#define TRACE_NOTIFY(...) DOS_TRACE(DOS_TRACE_NOTIFY, __VA_ARGS__)

/* A wide string as UTF-8 in quotes, control characters escaped, long ones cut with "...";
 * "(null)" for NULL. */
const char *dos_trace_wstr(const dos_char *s);
/* The same for a string of n code units that need not end in NUL. */
const char *dos_trace_wstr_n(const dos_char *s, size_t n);
/* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}", "(null)" for NULL. */
const char *dos_trace_guid(const dos_guid *g);

/*
 * Switches channels by hand: the mask of channels (1 << channel), and the file to append to
 * (NULL: the debugger output). The environment is not read after this. For tests, and for
 * a host that takes its settings from elsewhere.
 */
void dos_trace_configure(unsigned mask, const char *file);
/* The mask DOSVC_TRACE's syntax gives for text ("com,http", "all", "" ...); names it does not
 * know are ignored. */
unsigned dos_trace_parse(const char *text);

#endif
