/*
 * What the benchmark programs share: a monotonic clock in seconds, the CPU time of
 * the process, and the median of a set of measurements (a busy moment of the
 * machine spoils one, not the median).
 */
#ifndef DOSVC_BENCH_TIMING_H
#define DOSVC_BENCH_TIMING_H

#include <windows.h>
#include <stdlib.h>

static inline double now(void)
{
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart / f.QuadPart;
}

/* CPU seconds this process has used, all its threads, user and kernel. */
static inline double cpu(void)
{
    FILETIME created, exited, kernel, user;
    ULARGE_INTEGER k, u;

    if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user)) return 0;
    k.LowPart = kernel.dwLowDateTime;
    k.HighPart = kernel.dwHighDateTime;
    u.LowPart = user.dwLowDateTime;
    u.HighPart = user.dwHighDateTime;
    return (k.QuadPart + u.QuadPart) / 1e7;
}

static inline int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts values. */
static inline double median(double *values, int n)
{
    qsort(values, n, sizeof(*values), compare_doubles);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

#endif
