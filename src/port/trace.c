/*
 * The trace facility's portable half (trace.h): the switch, the channel names, the line
 * format and the argument helpers. Where lines go and whose process and thread wrote them is
 * the platform's (port_win32.c, port_posix.c).
 */
#include "../core/trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/port.h"

atomic_uint dos_trace_mask = DOS_TRACE_UNREAD;

static const char *const channel_names[DOS_TRACE_CHANNELS] = {
    [DOS_TRACE_COM] = "com",
    [DOS_TRACE_ENGINE] = "engine",
    [DOS_TRACE_HTTP] = "http",
    [DOS_TRACE_TLS] = "tls",
    [DOS_TRACE_STORE] = "store",
    [DOS_TRACE_NOTIFY] = "notify",
};

static port_append_file *trace_file;   /* NULL: the debugger output */

/* The one lock that orders configuration and lines; made on first use, by whichever thread wins. */
static port_mutex *trace_lock(void)
{
    static _Atomic(port_mutex *) lock;
    port_mutex *m = atomic_load(&lock), *made;

    if (m || !(made = port_mutex_create())) return m;
    if (atomic_compare_exchange_strong(&lock, &m, made)) return made;
    port_mutex_destroy(made);
    return m;
}

unsigned dos_trace_parse(const char *text)
{
    unsigned mask = 0;

    while (text && *text)
    {
        size_t n = strcspn(text, ", ;");
        if (n == 3 && !strncmp(text, "all", 3)) mask = (1u << DOS_TRACE_CHANNELS) - 1;
        for (int c = 0; c < DOS_TRACE_CHANNELS; c++)
            if (strlen(channel_names[c]) == n && !strncmp(text, channel_names[c], n)) mask |= 1u << c;
        text += n;
        text += strspn(text, ", ;");
    }
    return mask;
}

/* Lock held. */
static void set_file(const char *path)
{
    if (trace_file) port_append_close(trace_file);
    trace_file = path && *path ? port_append_open(path) : NULL;
}

unsigned dos_trace_init(void)
{
    port_mutex *lock = trace_lock();
    unsigned mask;

    if (!lock) return 0;   /* no memory for a lock: tracing stays off, and is asked again */
    port_mutex_lock(lock);
    if ((mask = atomic_load(&dos_trace_mask)) & DOS_TRACE_UNREAD)
    {
        char channels[256], path[1024];
        mask = port_getenv("DOSVC_TRACE", channels, sizeof(channels)) ? dos_trace_parse(channels) : 0;
        if (mask) set_file(port_getenv("DOSVC_TRACE_FILE", path, sizeof(path)) ? path : NULL);
        atomic_store(&dos_trace_mask, mask);
    }
    port_mutex_unlock(lock);
    return mask;
}

void dos_trace_configure(unsigned mask, const char *file)
{
    port_mutex *lock = trace_lock();

    if (!lock) return;
    port_mutex_lock(lock);
    set_file(mask ? file : NULL);
    atomic_store(&dos_trace_mask, mask & ((1u << DOS_TRACE_CHANNELS) - 1));
    port_mutex_unlock(lock);
}

/* "YYYY-MM-DD hh:mm:ss.mmm" (UTC) of a FILETIME value: the civil calendar from a day count. */
static void format_time(uint64_t filetime, char out[40])
{
    uint64_t ms = filetime / 10000, days = ms / 86400000;
    unsigned in_day = (unsigned)(ms % 86400000);
    /* Days since 1601-01-01 to days since 0000-03-01 (584694), then 400-year eras of 146097 days. */
    int64_t z = (int64_t)days + 584694, era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    unsigned day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = (int64_t)yoe + era * 400 + (month <= 2);

    snprintf(out, 40, "%04d-%02u-%02u %02u:%02u:%02u.%03u", (int)year, month, day, in_day / 3600000,
             in_day / 60000 % 60, in_day / 1000 % 60, in_day % 1000);
}

void dos_trace_line(enum dos_trace_channel channel, const char *function, const char *format, ...)
{
    char line[2048], when[40];
    port_mutex *lock = trace_lock();
    va_list args;
    int head, body;

    if (!lock || channel >= DOS_TRACE_CHANNELS) return;
    format_time(port_now_filetime(), when);
    head = snprintf(line, sizeof(line), "%s %04x:%04x %s %s: ", when, (unsigned)port_process_id(),
                    (unsigned)port_thread_id(), channel_names[channel], function);
    if (head < 0 || (size_t)head >= sizeof(line) - 8) return;
    va_start(args, format);
    body = vsnprintf(line + head, sizeof(line) - (size_t)head - 1, format, args);
    va_end(args);
    if (body < 0) body = 0;
    if ((size_t)(head + body) >= sizeof(line) - 1)
    {
        body = (int)(sizeof(line) - (size_t)head - 2);
        memcpy(line + sizeof(line) - 5, "...", 3);
    }
    memcpy(line + head + body, "\n", 2);

    port_mutex_lock(lock);
    /* One write a line, unbuffered: lines of several processes never mix, and a trace
     * survives the crash it explains. */
    if (trace_file) port_append_write(trace_file, line, (size_t)(head + body) + 1);
    else
        port_debug_output(line);
    port_mutex_unlock(lock);
}

/* ---- the argument helpers: per-thread rings of buffers ------------------------------------ */

#define RING 8
#define TEXT_MAX 480               /* UTF-8 bytes of a string shown before it is cut */

static char *next_buffer(void)
{
    static _Thread_local char buffers[RING][TEXT_MAX + 16];
    static _Thread_local unsigned next;
    return buffers[next++ % RING];
}

static size_t put_utf8(char *out, uint32_t c)
{
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xc0 | c >> 6); out[1] = (char)(0x80 | (c & 0x3f)); return 2; }
    if (c < 0x10000)
    {
        out[0] = (char)(0xe0 | c >> 12);
        out[1] = (char)(0x80 | (c >> 6 & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | c >> 18);
    out[1] = (char)(0x80 | (c >> 12 & 0x3f));
    out[2] = (char)(0x80 | (c >> 6 & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

const char *dos_trace_wstr_n(const dos_char *s, size_t n)
{
    char *out = next_buffer(), *p = out;
    size_t i;

    if (!s) return "(null)";
    *p++ = '"';
    for (i = 0; i < n && p - out < TEXT_MAX; i++)
    {
        uint32_t c = s[i];
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < n && s[i + 1] >= 0xdc00 && s[i + 1] < 0xe000)
            c = 0x10000 + ((c - 0xd800) << 10) + (s[++i] - 0xdc00);
        if (c == '"' || c == '\\') { *p++ = '\\'; *p++ = (char)c; }
        else if (c == '\r') { *p++ = '\\'; *p++ = 'r'; }
        else if (c == '\n') { *p++ = '\\'; *p++ = 'n'; }
        else if (c == '\t') { *p++ = '\\'; *p++ = 't'; }
        else if (c < 0x20 || (c >= 0xd800 && c < 0xe000)) p += sprintf(p, "\\x%04x", (unsigned)c);
        else p += put_utf8(p, c);
    }
    *p++ = '"';
    if (i < n) { memcpy(p, "...", 3); p += 3; }
    *p = 0;
    return out;
}

const char *dos_trace_wstr(const dos_char *s)
{
    size_t n = 0;
    if (!s) return "(null)";
    while (s[n] && n <= TEXT_MAX) n++;   /* beyond what is shown, the length does not matter */
    return dos_trace_wstr_n(s, n);
}

const char *dos_trace_guid(const dos_guid *g)
{
    char *out;

    if (!g) return "(null)";
    out = next_buffer();
    snprintf(out, 39, "{%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", (unsigned)g->data1, g->data2, g->data3,
             g->data4[0], g->data4[1], g->data4[2], g->data4[3], g->data4[4], g->data4[5], g->data4[6], g->data4[7]);
    return out;
}
