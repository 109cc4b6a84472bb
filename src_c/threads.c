/* POSIX threads, or Win32's equivalents: see threads.h. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* clock_gettime under a strict C standard */
#endif
#include "threads.h"

#include <time.h>


#ifdef _WIN32

int64_t at2_unix_seconds(void)
{
    FILETIME now;
    uint64_t ticks;

    /* 100 ns ticks since 1601-01-01; Windows 8 and later read the precise clock, as time.time() does */
    GetSystemTimePreciseAsFileTime(&now);
    ticks = (uint64_t)now.dwHighDateTime << 32 | now.dwLowDateTime;
    return (int64_t)(ticks / 10000000u) - INT64_C(11644473600);
}

int at2_mutex_init(at2_mutex *mutex)
{
    InitializeCriticalSection(mutex);
    return 0;
}

int at2_mutex_lock(at2_mutex *mutex)
{
    EnterCriticalSection(mutex);
    return 0;
}

int at2_mutex_unlock(at2_mutex *mutex)
{
    LeaveCriticalSection(mutex);
    return 0;
}

void at2_mutex_destroy(at2_mutex *mutex)
{
    DeleteCriticalSection(mutex);
}

int at2_cond_init(at2_cond *cond)
{
    InitializeConditionVariable(cond);
    return 0;
}

int at2_cond_wait(at2_cond *cond, at2_mutex *mutex)
{
    return SleepConditionVariableCS(cond, mutex, INFINITE) ? 0 : 1;
}

int at2_cond_signal(at2_cond *cond)
{
    WakeConditionVariable(cond);
    return 0;
}

int at2_cond_broadcast(at2_cond *cond)
{
    WakeAllConditionVariable(cond);
    return 0;
}

void at2_cond_destroy(at2_cond *cond)
{
    (void)cond; /* a Win32 condition variable holds no resources */
}

static DWORD WINAPI thread_trampoline(LPVOID argument)
{
    at2_thread *thread = (at2_thread *)argument;

    thread->result = thread->main(thread->argument);
    return 0;
}

int at2_thread_start(at2_thread *thread, at2_thread_main main, void *argument)
{
    thread->main = main;
    thread->argument = argument;
    thread->result = 0;
    thread->handle = CreateThread(NULL, 0, thread_trampoline, thread, 0, NULL);
    return thread->handle == NULL;
}

int at2_thread_join(at2_thread *thread, int *result)
{
    DWORD waited = WaitForSingleObject(thread->handle, INFINITE);

    CloseHandle(thread->handle);
    if (waited != WAIT_OBJECT_0)
        return 1;
    *result = thread->result;
    return 0;
}

/* InitOnceExecuteOnce passes one pointer: the address of the caller's init function, boxed */
typedef struct {
    void (*init)(void);
} once_box;

static BOOL CALLBACK once_trampoline(PINIT_ONCE once, PVOID parameter, PVOID *context)
{
    (void)once;
    (void)context;
    ((once_box *)parameter)->init();
    return TRUE;
}

int at2_once_run(at2_once *once, void (*init)(void))
{
    once_box box;

    box.init = init;
    return InitOnceExecuteOnce(once, once_trampoline, &box, NULL) ? 0 : 1;
}

int at2_tls_create(at2_tls_key *key, void (*destructor)(void *))
{
    /* fiber-local storage: unlike TlsAlloc, it runs a destructor when a thread ends */
    *key = FlsAlloc((PFLS_CALLBACK_FUNCTION)destructor);
    return *key == FLS_OUT_OF_INDEXES;
}

void *at2_tls_get(at2_tls_key key)
{
    return FlsGetValue(key);
}

int at2_tls_set(at2_tls_key key, void *value)
{
    return FlsSetValue(key, value) ? 0 : 1;
}

#else

int64_t at2_unix_seconds(void)
{
    struct timespec now;

    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return (int64_t)time(NULL);
    return (int64_t)now.tv_sec;
}

int at2_mutex_init(at2_mutex *mutex)
{
    return pthread_mutex_init(mutex, NULL);
}

int at2_mutex_lock(at2_mutex *mutex)
{
    return pthread_mutex_lock(mutex);
}

int at2_mutex_unlock(at2_mutex *mutex)
{
    return pthread_mutex_unlock(mutex);
}

void at2_mutex_destroy(at2_mutex *mutex)
{
    /* fails only for a mutex still in use, which callers rule out */
    (void)pthread_mutex_destroy(mutex);
}

int at2_cond_init(at2_cond *cond)
{
    return pthread_cond_init(cond, NULL);
}

int at2_cond_wait(at2_cond *cond, at2_mutex *mutex)
{
    return pthread_cond_wait(cond, mutex);
}

int at2_cond_signal(at2_cond *cond)
{
    return pthread_cond_signal(cond);
}

int at2_cond_broadcast(at2_cond *cond)
{
    return pthread_cond_broadcast(cond);
}

void at2_cond_destroy(at2_cond *cond)
{
    (void)pthread_cond_destroy(cond);
}

static void *thread_trampoline(void *argument)
{
    at2_thread *thread = (at2_thread *)argument;

    thread->result = thread->main(thread->argument);
    return NULL;
}

int at2_thread_start(at2_thread *thread, at2_thread_main main, void *argument)
{
    thread->main = main;
    thread->argument = argument;
    thread->result = 0;
    return pthread_create(&thread->handle, NULL, thread_trampoline, thread);
}

int at2_thread_join(at2_thread *thread, int *result)
{
    if (pthread_join(thread->handle, NULL) != 0)
        return 1;
    *result = thread->result;
    return 0;
}

int at2_once_run(at2_once *once, void (*init)(void))
{
    return pthread_once(once, init);
}

int at2_tls_create(at2_tls_key *key, void (*destructor)(void *))
{
    return pthread_key_create(key, destructor);
}

void *at2_tls_get(at2_tls_key key)
{
    return pthread_getspecific(key);
}

int at2_tls_set(at2_tls_key key, void *value)
{
    return pthread_setspecific(key, value);
}

#endif
