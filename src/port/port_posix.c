/* The core's platform port on POSIX: pthread mutexes, clock_gettime, getrandom, the C.UTF-8
 * locale's case mapping, and the environment, ids and stderr for the trace facility. Native
 * builds only. */
#define _GNU_SOURCE
#include "../core/port.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <time.h>
#include <locale.h>
#include <wctype.h>

struct port_mutex
{
    pthread_mutex_t mutex;
};

port_mutex *port_mutex_create(void)
{
    port_mutex *m = malloc(sizeof(*m));
    if (m && pthread_mutex_init(&m->mutex, NULL) != 0)
    {
        free(m);
        m = NULL;
    }
    return m;
}

void port_mutex_destroy(port_mutex *m)
{
    pthread_mutex_destroy(&m->mutex);
    free(m);
}

void port_mutex_lock(port_mutex *m) { pthread_mutex_lock(&m->mutex); }
void port_mutex_unlock(port_mutex *m) { pthread_mutex_unlock(&m->mutex); }

uint64_t port_now_filetime(void)
{
    /* 11644473600 s separate 1601-01-01 from 1970-01-01. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_sec + 11644473600ull) * 10000000ull + (uint64_t)ts.tv_nsec / 100;
}

int port_random_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len)
    {
        ssize_t got = getrandom(p, len, 0);
        if (got <= 0) return -1;
        p += got;
        len -= (size_t)got;
    }
    return 0;
}

static locale_t utf8_locale;

static void open_utf8_locale(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

void port_upcase(uint16_t *text, size_t length)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    size_t i;

    /* The C locale maps ASCII alone; without C.UTF-8, that is what names get. */
    pthread_once(&once, open_utf8_locale);
    for (i = 0; i < length; i++)
    {
        wint_t c = text[i], upper;
        if (c >= 0xD800 && c <= 0xDFFF) continue;      /* half of a pair: no case of its own */
        upper = utf8_locale ? towupper_l(c, utf8_locale) : towupper(c);
        if (upper <= 0xFFFF && (upper < 0xD800 || upper > 0xDFFF)) text[i] = (uint16_t)upper;
    }
}

bool port_getenv(const char *name, char *buf, size_t size)
{
    const char *value = getenv(name);
    size_t n = value ? strlen(value) : 0;

    if (!value || n >= size) return false;
    memcpy(buf, value, n + 1);
    return true;
}

uint32_t port_process_id(void) { return (uint32_t)getpid(); }
uint32_t port_thread_id(void) { return (uint32_t)gettid(); }
void port_debug_output(const char *text) { fputs(text, stderr); }

struct port_append_file { int fd; };

port_append_file *port_append_open(const char *path)
{
    port_append_file *f = malloc(sizeof(*f));
    if (f && (f->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0)
    {
        free(f);
        f = NULL;
    }
    return f;
}

void port_append_write(port_append_file *f, const char *text, size_t length)
{
    ssize_t written = write(f->fd, text, length);
    (void)written;   /* a trace line that cannot be written is lost, nothing more */
}

void port_append_close(port_append_file *f)
{
    close(f->fd);
    free(f);
}
