/*
 * The core tests' waits, as tests/com/com_test.h has them for the COM tests:
 * every wait goes through test_wait, and every deadline through test_scaled_ms,
 * ms times DOSVC_TEST_TIME_SCALE (a positive number, default 1), so that a slow
 * machine raises one variable instead of failing. Threads that do a fixed amount
 * of work are waited for by their progress, never by a total time.
 * POSIX builds get clock_gettime and nanosleep from _POSIX_C_SOURCE (CMakeLists.txt).
 */
#ifndef DOSVC_TESTS_CORE_TEST_WAIT_H
#define DOSVC_TESTS_CORE_TEST_WAIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <sched.h>
#include <time.h>
#endif

static inline uint64_t test_now_ms(void)
{
#ifdef _WIN32
    return GetTickCount64();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
#endif
}

static inline uint64_t test_scaled_ms(uint64_t ms)
{
    const char *text = getenv("DOSVC_TEST_TIME_SCALE");
    double scale = text && *text ? atof(text) : 0;
    return (uint64_t)(ms * (scale > 0 ? scale : 1));
}

/* The n-th pause of a wait: a yield for what comes at once, then sleeps of 1 to 16 ms. */
static inline void test_pause(unsigned n)
{
    unsigned ms = n < 100 ? 0 : n < 104 ? 1u << (n - 100) : 16;
#ifdef _WIN32
    if (ms) Sleep(ms);
    else SwitchToThread();
#else
    struct timespec ts = { 0, (long)ms * 1000000 };
    if (ms) nanosleep(&ts, NULL);
    else sched_yield();
#endif
}

typedef bool (*test_condition_fn)(void *context);

/* Checks done(context) until it is true (then true) or test_scaled_ms(timeout_ms) has passed
 * (then false, after one last check). */
static inline bool test_wait(test_condition_fn done, void *context, uint64_t timeout_ms)
{
    uint64_t start = test_now_ms(), limit = test_scaled_ms(timeout_ms);
    unsigned n;

    for (n = 0;; n++)
    {
        bool over = test_now_ms() - start >= limit;
        if (done(context)) return true;
        if (over) return false;
        test_pause(n);
    }
}

struct test_progress_wait
{
    test_condition_fn done;
    void *context;
    atomic_uint *progress;
    unsigned last;
};

static inline bool test_done_or_moved(void *context)
{
    struct test_progress_wait *w = context;
    return w->done(w->context) || atomic_load(w->progress) != w->last;
}

/* Waits until done(context), for as long as *progress (which the awaited threads bump as they
 * go) keeps moving: false once it has stood still for test_scaled_ms(stall_ms). */
static inline bool test_wait_while_progressing(test_condition_fn done, void *context, atomic_uint *progress,
                                               uint64_t stall_ms)
{
    struct test_progress_wait w = { .done = done, .context = context, .progress = progress };

    for (;;)
    {
        w.last = atomic_load(progress);
        if (!test_wait(test_done_or_moved, &w, stall_ms)) return false;
        if (done(context)) return true;
    }
}

#endif
