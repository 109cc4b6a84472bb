/* The one place that knows the platform's threads: mutexes, condition variables, threads, run-once,
 * thread-local slots with a destructor, relaxed atomic ints, and (the one other OS call) the wall clock.  POSIX threads everywhere but Windows,
 * where Win32 (CRITICAL_SECTION, CONDITION_VARIABLE, InitOnceExecuteOnce, fiber-local storage) stands in.
 * Every function that can fail returns 0 on success and nonzero on failure. */
#ifndef ACCESSTOKEN2_THREADS_H
#define ACCESSTOKEN2_THREADS_H

#include <stdint.h>

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
typedef CRITICAL_SECTION at2_mutex;
typedef CONDITION_VARIABLE at2_cond;
typedef INIT_ONCE at2_once;
#define AT2_ONCE_INIT INIT_ONCE_STATIC_INIT
typedef DWORD at2_tls_key;
#else
#include <pthread.h>
typedef pthread_mutex_t at2_mutex;
typedef pthread_cond_t at2_cond;
typedef pthread_once_t at2_once;
#define AT2_ONCE_INIT PTHREAD_ONCE_INIT
typedef pthread_key_t at2_tls_key;
#endif

/* A thread's body: its int result comes back through at2_thread_join. */
typedef int (*at2_thread_main)(void *argument);

/* A started thread; the struct must stay where it is until joined (the thread reads its main and argument). */
typedef struct {
#ifdef _WIN32
    HANDLE handle;
#else
    pthread_t handle;
#endif
    at2_thread_main main;
    void *argument;
    int result;
} at2_thread;

/* Makes a plain (non-recursive) mutex. */
int at2_mutex_init(at2_mutex *mutex);
/* Takes the mutex, waiting for it. */
int at2_mutex_lock(at2_mutex *mutex);
/* Lets the mutex go. */
int at2_mutex_unlock(at2_mutex *mutex);
/* Frees a mutex nobody holds or waits for. */
void at2_mutex_destroy(at2_mutex *mutex);

/* Makes a condition variable. */
int at2_cond_init(at2_cond *cond);
/* Lets mutex go, waits for a signal, takes mutex again (wake-ups may be spurious: callers loop). */
int at2_cond_wait(at2_cond *cond, at2_mutex *mutex);
/* Wakes one waiter. */
int at2_cond_signal(at2_cond *cond);
/* Wakes every waiter. */
int at2_cond_broadcast(at2_cond *cond);
/* Frees a condition variable nobody waits on. */
void at2_cond_destroy(at2_cond *cond);

/* Starts main(argument) on a new thread described by *thread. */
int at2_thread_start(at2_thread *thread, at2_thread_main main, void *argument);
/* Waits for the thread to end and writes its result to *result. */
int at2_thread_join(at2_thread *thread, int *result);

/* Runs init exactly once across all threads sharing *once; every caller returns after it has run. */
int at2_once_run(at2_once *once, void (*init)(void));

/* Makes a thread-local slot; destructor(value) runs when a thread with a non-NULL value ends. */
int at2_tls_create(at2_tls_key *key, void (*destructor)(void *));
/* The calling thread's value in the slot (NULL until set). */
void *at2_tls_get(at2_tls_key key);
/* Sets the calling thread's value in the slot. */
int at2_tls_set(at2_tls_key key, void *value);

/* Whole seconds since 1970-01-01 UTC from the clock time.time() reads (not a coarse per-tick one). */
int64_t at2_unix_seconds(void);

/* Relaxed atomic load of an int shared between threads (a flag every thread computes the same way). */
static inline int at2_atomic_load_relaxed(const volatile int *place)
{
#if defined(_MSC_VER)
    return *place; /* aligned int reads are atomic on every Windows target; volatile keeps the load */
#else
    return __atomic_load_n(place, __ATOMIC_RELAXED);
#endif
}

/* Relaxed atomic store of an int shared between threads. */
static inline void at2_atomic_store_relaxed(volatile int *place, int value)
{
#if defined(_MSC_VER)
    *place = value;
#else
    __atomic_store_n(place, value, __ATOMIC_RELAXED);
#endif
}

#endif
