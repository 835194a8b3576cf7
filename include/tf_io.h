/* tf_io.h: what the run writes and reads besides the scenario: the initial state and vessel map,
 * the CF NetCDF field output, the time series CSV, the summary JSON.
 *
 * Arrays handed over are padded host arrays of the local block (tf_grid.h); the NetCDF code
 * sees only the global shape and the local start and count, so a domain decomposition needs no
 * change to it. */
#ifndef TF_IO_H
#define TF_IO_H

#include "tf_grid.h"
#include "tf_scenario.h"
#include "tf_solver.h"
#include "tf_systemic.h"

#include <netcdf.h>

/* Check a NetCDF call; on failure record "NetCDF: <call> on <path>: <nc_strerror>" with the
 * file and line, and return TF_ERR_IO from the enclosing function. */
#define TF_NC(call, path)                                                                   \
    do {                                                                                    \
        int tf_nc_rc_ = (call);                                                             \
        if (tf_nc_rc_ != NC_NOERR)                                                          \
            return TF_ERROR(TF_ERR_IO, "NetCDF: %s on '%s': %s", #call, (path),             \
                            nc_strerror(tf_nc_rc_));                                        \
    } while (0)

#define TF_NC_TIME_UNITS "minutes since 2000-01-01 00:00:00"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- initial state (host/init.c) ---- */

/* Fill the padded host arrays with the scenario's initial state: the vessel map (generated from
 * seed, fraction and radius, or read from vessels.file) and the six fields (the default spheroid
 * of docs/model.md, or initial.file). Reproducible: the same scenario gives the same bits. */
tf_status tf_initial_state(const tf_scenario *s, const tf_grid *g, tf_real *const f[TF_NFIELDS],
                           tf_real *vessel);

/* ---- NetCDF field output (host/ncout.c) ---- */

typedef struct tf_ncout tf_ncout;

/* Create `path` (netCDF-4, CF-1.10): dimensions time (unlimited), z, y, x; coordinates with
 * units um and axis attributes; one float variable per field in s->fields_mask; vessel (z,y,x);
 * the effective scenario and version as global attributes. Writes the vessel map. */
tf_status tf_ncout_create(tf_ncout **out, const char *path, const tf_scenario *s,
                          const tf_grid *g, const char *effective, const tf_real *vessel);
/* Reopen an existing output for a restart at time t: records with time <= t (plus a small
 * tolerance) are kept, the next record goes after them. TF_ERR_IO or TF_ERR_USAGE (naming the
 * difference) when the file does not match the scenario's grid and fields. */
tf_status tf_ncout_reopen(tf_ncout **out, const char *path, const tf_scenario *s,
                          const tf_grid *g, double t);
/* Append one record at time t (min) from padded arrays; synced to disk before returning. */
tf_status tf_ncout_write(tf_ncout *o, double t, tf_real *const f[TF_NFIELDS]);
tf_status tf_ncout_close(tf_ncout *o);
/* Records written so far. */
size_t tf_ncout_records(const tf_ncout *o);

/* ---- the record writer thread (host/writer.c) ---- */

/* Writes NetCDF records on a thread of its own, one in flight at a time, so the solver steps on
 * while a record goes to disk. The arrays handed to tf_writer_submit belong to the writer until
 * tf_writer_wait returns (or tf_writer_holds says it has let go of them). No other NetCDF call
 * may run while a record is in flight. Errors on the writer thread come back, with their
 * message, from the next submit, wait or stop. */
typedef struct tf_writer tf_writer;
tf_status tf_writer_start(tf_writer **w, tf_ncout *nc);
tf_status tf_writer_submit(tf_writer *w, double t, tf_real *const f[TF_NFIELDS]);
tf_status tf_writer_wait(tf_writer *w);
/* Whether the record in flight uses the set of arrays starting with f[0]. */
int tf_writer_holds(tf_writer *w, tf_real *const f[TF_NFIELDS]);
/* Seconds spent writing and records written since the last collect. */
void tf_writer_collect(tf_writer *w, double *seconds, long long *records);
/* Finish the record in flight and end the thread. */
tf_status tf_writer_stop(tf_writer *w);

/* ---- time series CSV and summary JSON (host/series.c) ---- */

/* One diagnostics row. */
typedef struct {
    double t;                   /* min */
    double tumor_volume;        /* mm^3: sum T h^3 */
    double mean_in_tumor[TF_NFIELDS]; /* tumor-weighted means: sum T f / sum T */
    double effector_infiltration;     /* share of effector cells inside the tumor: sum E T / sum E */
    tf_drivers drv;
    tf_derived der;
} tf_series_row;

tf_series_row tf_series_row_make(double t, const tf_diag *d, const tf_grid *g,
                                 const tf_drivers *drv, const tf_derived *der);

typedef struct tf_series tf_series;
/* Create (header written) or, for a restart at time t, reopen keeping rows with time <= t. */
tf_status tf_series_open(tf_series **out, const char *path, int restart, double t);
tf_status tf_series_write(tf_series *s, const tf_series_row *row);
tf_status tf_series_close(tf_series *s);

/* Summary of a finished (or stopped) run, written atomically to `path`. */
typedef struct {
    const char *status;       /* "finished", "stopped", "numerical_failure", ... */
    long long steps;
    double t_end;             /* min */
    double wall_seconds;
    const char *backend;      /* tf_solver_description */
    double voxel_updates_per_second;
    const tf_timers *timers;
    const tf_series_row *final_row;
    const char *output_path, *series_path, *checkpoint_path;
} tf_summary;
tf_status tf_summary_write(const char *path, const tf_summary *sm);

#ifdef __cplusplus
}
#endif

#endif
