/* writer.c: the NetCDF record writer on its own thread, so the solver steps on while a record
 * goes to disk (tf_io.h, tf_writer_*).
 *
 * One record in flight at a time: tf_writer_submit hands over a set of host field arrays, which
 * the writer owns until tf_writer_wait returns. Every NetCDF call of the run happens either on
 * this thread while a record is in flight or on the main thread while none is (NetCDF-C is not
 * thread-safe): the driver waits before checkpoints, restarts and closing. An error on the
 * writer thread is carried back with its message and reported by the next submit or wait.
 *
 * Without a thread (threaded = 0, runs of several MPI ranks, where only the main thread may
 * call MPI) tf_writer_submit writes the record itself; the bookkeeping is the same. */
#include "tf_io.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tf_writer {
    int threaded;          /* a writer thread runs (else submit writes) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    tf_ncout *nc;
    /* the record in flight */
    int busy;              /* a record is handed over and not yet written */
    int quit;
    double t;
    tf_real *f[TF_NFIELDS];
    /* results */
    tf_status st;          /* first failure, kept */
    char msg[2048];
    double seconds;        /* time spent writing, not yet collected */
    long long records;     /* records written, not yet collected */
};

static void *writer_main(void *arg)
{
    tf_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->busy && !w->quit)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->busy && w->quit)
            break;
        tf_real *f[TF_NFIELDS];
        memcpy(f, w->f, sizeof f);
        const double t = w->t;
        const int skip = w->st != TF_OK; /* after a failure, write nothing more */
        pthread_mutex_unlock(&w->mu);

        tf_status st = TF_OK;
        const double t0 = tf_wtime();
        if (!skip) {
            tf_error_clear();
            st = tf_ncout_write(w->nc, t, f);
        }
        const double dt = tf_wtime() - t0;

        pthread_mutex_lock(&w->mu);
        if (st != TF_OK && w->st == TF_OK) {
            w->st = st;
            snprintf(w->msg, sizeof w->msg, "%s", tf_error_message());
        }
        w->seconds += dt;
        w->records += !skip;
        w->busy = 0;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

tf_status tf_writer_start(tf_writer **out, tf_ncout *nc, int threaded)
{
    tf_writer *w = calloc(1, sizeof *w);
    if (!w)
        return TF_ERROR(TF_ERR_NOMEM, "out of memory for the output writer");
    w->nc = nc;
    w->threaded = threaded != 0;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (!w->threaded) {
        *out = w;
        return TF_OK;
    }
    /* The stop signals go to the solver's thread: the writer starts with them blocked. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    const int rc = pthread_create(&w->thread, NULL, writer_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return TF_ERROR(TF_ERR_NOMEM, "cannot start the output writer thread: %s (a limit on "
                                     "processes or memory: ulimit -u, ulimit -v?)",
                        strerror(rc));
    }
    *out = w;
    return TF_OK;
}

/* Called with the lock held: the writer's failure as this thread's error. */
static tf_status report(tf_writer *w)
{
    return w->st == TF_OK ? TF_OK : TF_ERROR(w->st, "%s", w->msg);
}

tf_status tf_writer_wait(tf_writer *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->busy)
        pthread_cond_wait(&w->cv, &w->mu);
    tf_status st = report(w);
    pthread_mutex_unlock(&w->mu);
    return st;
}

int tf_writer_holds(tf_writer *w, tf_real *const f[TF_NFIELDS])
{
    pthread_mutex_lock(&w->mu);
    const int holds = w->busy && w->f[0] == f[0];
    pthread_mutex_unlock(&w->mu);
    return holds;
}

/* Write the record on this thread (threaded = 0): after a failure nothing more is written. */
static tf_status submit_here(tf_writer *w, double t, tf_real *const f[TF_NFIELDS])
{
    if (w->st != TF_OK)
        return report(w);
    tf_error_clear(); /* as on the writer thread: the record's failure is the message */
    const double t0 = tf_wtime();
    const tf_status st = tf_ncout_write(w->nc, t, f);
    w->seconds += tf_wtime() - t0;
    ++w->records;
    if (st != TF_OK) {
        w->st = st;
        snprintf(w->msg, sizeof w->msg, "%s", tf_error_message());
    }
    return st;
}

tf_status tf_writer_submit(tf_writer *w, double t, tf_real *const f[TF_NFIELDS])
{
    if (!w->threaded)
        return submit_here(w, t, f);
    pthread_mutex_lock(&w->mu);
    while (w->busy)
        pthread_cond_wait(&w->cv, &w->mu);
    tf_status st = report(w);
    if (st == TF_OK) {
        w->t = t;
        memcpy(w->f, f, sizeof w->f);
        w->busy = 1;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return st;
}

void tf_writer_collect(tf_writer *w, double *seconds, long long *records)
{
    pthread_mutex_lock(&w->mu);
    *seconds = w->seconds;
    *records = w->records;
    w->seconds = 0;
    w->records = 0;
    pthread_mutex_unlock(&w->mu);
}

tf_status tf_writer_stop(tf_writer *w)
{
    if (!w)
        return TF_OK;
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (w->threaded)
        pthread_join(w->thread, NULL);
    tf_status st = report(w);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return st;
}
