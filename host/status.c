/* status.c: the recorded error message behind tf_status (first error wins). */
#include "tf_status.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char msg[2048];
static _Thread_local char where[256];
static _Thread_local int have;

tf_status tf_error_set(tf_status st, const char *file, int line, const char *func,
                       const char *fmt, ...)
{
    if (have)
        return st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *base = strrchr(file, '/');
    snprintf(where, sizeof where, "%s:%d (%s)", base ? base + 1 : file, line, func);
    have = 1;
    return st;
}

int tf_exit_code(tf_status st)
{
    switch (st) {
    case TF_OK: return 0;
    case TF_ERR_USAGE: return 2;
    case TF_ERR_NUMERIC: return 3;
    case TF_ERR_IO: return 4;
    case TF_ERR_NOMEM: return 4;
    case TF_ERR_STOPPED: return 75;
    case TF_ERR_INTERNAL: return 70; /* EX_SOFTWARE: a defect */
    }
    return 70;
}

const char *tf_error_message(void) { return have ? msg : ""; }
const char *tf_error_where(void) { return have ? where : ""; }

void tf_error_clear(void)
{
    have = 0;
    msg[0] = where[0] = '\0';
}

void tf_error_save(tf_error_saved *e)
{
    memcpy(e->msg, msg, sizeof msg);
    memcpy(e->where, where, sizeof where);
    e->have = have;
}

void tf_error_restore(const tf_error_saved *e)
{
    memcpy(msg, e->msg, sizeof msg);
    memcpy(where, e->where, sizeof where);
    have = e->have;
}

const char *tf_status_name(tf_status st)
{
    switch (st) {
    case TF_OK: return "ok";
    case TF_ERR_USAGE: return "bad input";
    case TF_ERR_NUMERIC: return "numerical failure";
    case TF_ERR_IO: return "input/output failure";
    case TF_ERR_NOMEM: return "out of memory";
    case TF_ERR_INTERNAL: return "internal error";
    case TF_ERR_STOPPED: return "stopped by signal";
    }
    return "unknown";
}
