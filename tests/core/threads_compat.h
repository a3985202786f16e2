/*
 * The smallest thread API the core tests need: run a function on a new thread
 * and join it. POSIX threads natively; Win32 threads on Windows, where MinGW
 * has no C11 <threads.h> and winpthreads may not be linked.
 */
#ifndef DOSVC_TESTS_CORE_THREADS_COMPAT_H
#define DOSVC_TESTS_CORE_THREADS_COMPAT_H

#include <stdbool.h>
#include <stdlib.h>

typedef void (*test_thread_fn)(void *arg);

struct test_thread_start
{
    test_thread_fn fn;
    void *arg;
};

#ifdef _WIN32

#include <windows.h>

typedef struct { HANDLE handle; } test_thread;

static DWORD WINAPI test_thread_main(LPVOID param)
{
    struct test_thread_start start = *(struct test_thread_start *)param;
    free(param);
    start.fn(start.arg);
    return 0;
}

static inline bool test_thread_create(test_thread *thread, test_thread_fn fn, void *arg)
{
    struct test_thread_start *start = malloc(sizeof(*start));

    if (!start) return false;
    start->fn = fn;
    start->arg = arg;
    if (!(thread->handle = CreateThread(NULL, 0, test_thread_main, start, 0, NULL)))
    {
        free(start);
        return false;
    }
    return true;
}

static inline void test_thread_join(test_thread *thread)
{
    WaitForSingleObject(thread->handle, INFINITE);
    CloseHandle(thread->handle);
}

#else

#include <pthread.h>

typedef struct { pthread_t id; } test_thread;

static void *test_thread_main(void *param)
{
    struct test_thread_start start = *(struct test_thread_start *)param;
    free(param);
    start.fn(start.arg);
    return NULL;
}

static inline bool test_thread_create(test_thread *thread, test_thread_fn fn, void *arg)
{
    struct test_thread_start *start = malloc(sizeof(*start));

    if (!start) return false;
    start->fn = fn;
    start->arg = arg;
    if (pthread_create(&thread->id, NULL, test_thread_main, start) != 0)
    {
        free(start);
        return false;
    }
    return true;
}

static inline void test_thread_join(test_thread *thread)
{
    pthread_join(thread->id, NULL);
}

#endif

#endif
