/*
 * What the portable core needs from the platform, and nothing more: a mutex,
 * the wall clock, random bytes, the case mapping of file names, and what the
 * trace facility (trace.h) writes with. src/port/ holds one implementation for Win32 and one for POSIX (native
 * tests); core never includes windows.h.
 */
#ifndef DOSVC_CORE_PORT_H
#define DOSVC_CORE_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct port_mutex port_mutex;

port_mutex *port_mutex_create(void);
void port_mutex_destroy(port_mutex *m);
void port_mutex_lock(port_mutex *m);
void port_mutex_unlock(port_mutex *m);

/* Wall-clock time as a FILETIME value: 100 ns units since 1601-01-01 UTC. */
uint64_t port_now_filetime(void);

/* Fills buf with unpredictable bytes; returns 0 on success. */
int port_random_bytes(void *buf, size_t len);

/* Upper-cases length UTF-16 units in place, each to the one unit the platform maps it to: two
 * file names that differ only in case are the same name on Windows, and so they are after this. */
void port_upcase(uint16_t *text, size_t length);

/* The environment variable name into buf (NUL-terminated); false if unset or longer than buf. */
bool port_getenv(const char *name, char *buf, size_t size);
uint32_t port_process_id(void);
uint32_t port_thread_id(void);
/* One line of text to the debugger (OutputDebugString on Windows, stderr elsewhere). */
void port_debug_output(const char *text);
/* A file opened for appending only (created if missing), or NULL: each port_append_write is one
 * write at the file's end, whole, even while other processes append to the same file. */
typedef struct port_append_file port_append_file;
port_append_file *port_append_open(const char *path);
void port_append_write(port_append_file *f, const char *text, size_t length);
void port_append_close(port_append_file *f);

#endif
