/* tf_status.h: one status type for the whole program and the macros that carry an error's place.
 *
 * Every fallible function returns tf_status. The first failure records a message with the
 * call, file, line and function (tf_error_set); callers propagate with TF_TRY; only main()
 * turns the status into an exit code (the values are the exit codes of CONTRACT.md). */
#ifndef TF_STATUS_H
#define TF_STATUS_H

#include <stdarg.h>

typedef enum {
    TF_OK = 0,
    TF_ERR_USAGE = 2,       /* bad command line or scenario: nothing run or written */
    TF_ERR_NUMERIC = 3,     /* non-finite or negative state, unstable step */
    TF_ERR_IO = 4,          /* cannot read or write a file */
    TF_ERR_NOMEM = 5,       /* allocation failed (reported as exit 4 or 2 by the driver) */
    TF_ERR_INTERNAL = 6,    /* a bug or a library failure we did not expect */
    TF_ERR_STOPPED = 75     /* stopped by a signal after writing a checkpoint */
} tf_status;

#ifdef __cplusplus
extern "C" {
#endif

/* Record an error (the first one wins until tf_error_clear) and return `st`. */
tf_status tf_error_set(tf_status st, const char *file, int line, const char *func,
                       const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* The process exit code of a status (CONTRACT.md): 0, 2, 3, 4 (also out of memory), 75; 70 for
 * an internal error. */
int tf_exit_code(tf_status st);
/* The recorded message ("" when none) and the place it was raised. */
const char *tf_error_message(void);
const char *tf_error_where(void);
void tf_error_clear(void);
/* A recorded error kept aside while other calls run (their errors are not the one to report),
 * then put back as it was. */
typedef struct {
    char msg[2048], where[256];
    int have;
} tf_error_saved;
void tf_error_save(tf_error_saved *e);
void tf_error_restore(const tf_error_saved *e);
const char *tf_status_name(tf_status st);

#ifdef __cplusplus
}
#endif

#define TF_ERROR(st, ...) tf_error_set((st), __FILE__, __LINE__, __func__, __VA_ARGS__)

/* Propagate a failing status to the caller. */
#define TF_TRY(expr)                          \
    do {                                      \
        tf_status tf_try_st_ = (expr);        \
        if (tf_try_st_ != TF_OK)              \
            return tf_try_st_;                \
    } while (0)

/* As TF_TRY, but jump to a cleanup label with the status stored in `var`. */
#define TF_TRY_GOTO(var, expr, label) \
    do {                              \
        (var) = (expr);               \
        if ((var) != TF_OK)           \
            goto label;               \
    } while (0)

#endif
