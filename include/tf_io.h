/* tf_io.h: what the run writes and reads besides the scenario: the initial state and vessel map,
 * the CF NetCDF field output, the time series CSV, the summary JSON.
 *
 * Arrays handed over are padded host arrays of the local block (tf_grid.h); the NetCDF code
 * sees only the global shape and the local start and count. With a decomposition over several
 * ranks (tf_par.h, MPI builds) the field output is one file that all ranks write together:
 * the calls marked "collective" must then be made by every rank, in the same order, and
 * return the same status on every rank (the message of the lowest failing rank). */
#ifndef TF_IO_H
#define TF_IO_H

#include "tf_grid.h"
#include "tf_par.h"
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

/* nc_create / nc_open, or with par of more than one rank nc_create_par / nc_open_par on its
 * communicator (collective). NetCDF status codes; NC_ENOPAR for several ranks without MPI. */
int tf_nc_create(const char *path, int cmode, const tf_par *par, int *ncid);
int tf_nc_open(const char *path, int mode, const tf_par *par, int *ncid);
/* Collective access for a variable of a file opened over several ranks (parallel HDF5 needs it
 * to extend the unlimited dimension and to write through filters); NC_NOERR for one rank. */
int tf_nc_collective(int ncid, int varid, const tf_par *par);
/* Chunk extents (z, y, x) of a (z, y, x) variable of g's whole grid: whole x rows, up to 2^20
 * values (the output's records and the checkpoint's checksummed variables). */
void tf_nc_chunk_shape(const tf_grid *g, size_t c[3]);
/* nc_close of a file that was written. When it fails (a full disk, the file size limit) HDF5
 * may keep the file open, half-torn down, and crash in its exit handler: tf_nc_close_failed()
 * then says the process must end without the exit handlers (host/main.c). */
int tf_nc_close(int ncid);
int tf_nc_close_failed(void);
/* TF_ERR_IO naming the numbers ("cannot write WHAT to KIND 'PATH': disk full (it needs up to
 * ..., ... free); KEPT", or the file size limit) unless the file at path can grow by `need`
 * bytes under the file size limit (ulimit -f) and the free space of its file system. */
tf_status tf_file_room(const char *path, const char *kind, const char *what, double need,
                       const char *kept);
/* TF_ERR_USAGE where `path` exists and is not a regular file (a FIFO, a device, a socket, a
 * directory), which NetCDF would block on or fail in ways that name another cause; "the KIND
 * 'PATH' is ..." in the message. TF_OK where it is a regular file or is not there (the caller's
 * open says so). */
tf_status tf_regular_file(const char *path, const char *kind);
/* What `path` (links followed) is when it is not a regular file ("a directory", "a FIFO (named
 * pipe)", "a device", "a socket"); NULL for a regular file or nothing there. */
const char *tf_file_kind(const char *path);
/* TF_ERR_IO "cannot ACTION 'PATH': it is a directory (move it out of the way ...)" where
 * something other than a regular file stands at `path` (after an open or create failed); TF_OK
 * else. */
tf_status tf_output_in_the_way(const char *action, const char *path);

/* ---- initial state (host/init.c) ---- */

/* Fill the padded host arrays of block g with the scenario's initial state: the vessel map
 * (generated from seed, fraction and radius, or read from vessels.file) and the six fields (the
 * default spheroid of docs/model.md, or initial.file). Reproducible: the same scenario gives the
 * same bits, whatever the decomposition. par: the processes holding the other blocks, which
 * then paint the vessel map together (collective); NULL for one process (a block alone then
 * generates the whole map and keeps its part). */
tf_status tf_initial_state(const tf_scenario *s, const tf_grid *g, const tf_par *par,
                           tf_real *const f[TF_NFIELDS], tf_real *vessel);

/* What `tumorfield check` can say of vessels.file and initial.file without reading the values:
 * they open as NetCDF and hold the variables in the scenario's grid shape (the messages and
 * statuses of tf_initial_state). */
tf_status tf_initial_check_files(const tf_scenario *s);

/* ---- NetCDF field output (host/ncout.c) ---- */

typedef struct tf_ncout tf_ncout;

/* par: the ranks that share the file and g their blocks; NULL (or one rank) for a serial file
 * written by this process alone. The writer keeps a copy of *par: the decomposition must live
 * until tf_ncout_close. With several ranks every function below but tf_ncout_records is
 * collective. */

/* Create `path` (netCDF-4, CF-1.10): dimensions time (unlimited), z, y, x; coordinates with
 * units um and axis attributes; one float variable per field in s->fields_mask; vessel (z,y,x);
 * the effective scenario and version as global attributes. Writes the vessel map. */
tf_status tf_ncout_create(tf_ncout **out, const char *path, const tf_scenario *s,
                          const tf_grid *g, const tf_par *par, const char *effective,
                          const tf_real *vessel);
/* Reopen an existing output for a restart at time t: records with time <= t (plus a small
 * tolerance) are kept, the next record goes after them. TF_ERR_IO or TF_ERR_USAGE (naming the
 * difference) when the file does not match the scenario's grid and fields, or lacks the record
 * of t_due, the last one due before t (t_due < 0: none; tf_restart_gap); nothing in the file
 * changes then. The file may have been written by any number of ranks. */
/* The effective scenario a NetCDF output was made with (its global attribute `scenario`), in
 * *text (caller frees); TF_ERR_IO when the file does not open, TF_ERR_USAGE without it. */
tf_status tf_ncout_scenario(const char *path, char **text);
/* Whether nproc processes can add records to the NetCDF output at path (one made by one
 * process takes them from one only); TF_ERR_USAGE saying so, TF_ERR_IO when it does not open. */
tf_status tf_ncout_continuable(const char *path, int nproc);
tf_status tf_ncout_reopen(tf_ncout **out, const char *path, const tf_scenario *s,
                          const tf_grid *g, const tf_par *par, double t, double t_due);
/* What tf_ncout_reopen checks, read only and on this process alone (`tumorfield check
 * --restart`): the file opens, matches the scenario's grid g (the whole grid) and fields, and
 * holds the record of t_due; nothing is written. */
tf_status tf_ncout_check_restart(const char *path, const tf_scenario *s, const tf_grid *g,
                                 double t, double t_due);
/* Collective. After tf_ncout_reopen: where the restart changed what may change (run.duration,
 * output.dir), the file's global attribute `scenario` becomes `effective`, this run's, and a
 * history line says so; it reaches the file with the next record. */
tf_status tf_ncout_set_scenario(tf_ncout *o, const char *effective);
/* Append one record at time t (min) from padded arrays; synced to disk before returning. */
tf_status tf_ncout_write(tf_ncout *o, double t, tf_real *const f[TF_NFIELDS]);
/* Close the file and free the writer, also after a failure. */
tf_status tf_ncout_close(tf_ncout *o);
/* Records written so far. */
size_t tf_ncout_records(const tf_ncout *o);
/* Time of the last record in the file (after a reopen: the last one kept); NAN when none. */
double tf_ncout_last_time(const tf_ncout *o);

/* ---- the record writer thread (host/writer.c) ---- */

/* Writes NetCDF records on a thread of its own, one in flight at a time, so the solver steps on
 * while a record goes to disk. The arrays handed to tf_writer_submit belong to the writer until
 * tf_writer_wait returns (or tf_writer_holds says it has let go of them). No other NetCDF call
 * may run while a record is in flight. Errors on the writer thread come back, with their
 * message, from the next submit, wait or stop.
 *
 * threaded = 0 (runs of several ranks: only the main thread may call MPI, and a parallel
 * NetCDF write is an MPI call): no thread; tf_writer_submit writes the record before it
 * returns (collective then, like tf_ncout_write) and returns its status, which is also kept
 * for wait and stop; tf_writer_holds is always 0 and tf_writer_wait only reports a kept
 * failure. The timing and record counts are the same in both modes. */
typedef struct tf_writer tf_writer;
tf_status tf_writer_start(tf_writer **w, tf_ncout *nc, int threaded);
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

/* Relative tolerance of output times compared with step times (restarts): above the rounding of
 * the time series' 9 significant digits, far below the spacing of any two outputs. */
#define TF_TIME_TOL 1e-8

typedef struct tf_series tf_series;
/* Create (header written) or, for a restart at time t, reopen keeping rows with time <= t. */
tf_status tf_series_open(tf_series **out, const char *path, int restart, double t);
tf_status tf_series_write(tf_series *s, const tf_series_row *row);
/* Time of the last row in the file (after a restart: the last one kept); NAN when none. */
double tf_series_last_time(const tf_series *s);
/* Before a restart at time t changes anything: TF_ERR_USAGE when the time series at path has
 * another header, or lacks the row due at t_due, the last before t (t_due < 0: none due), as
 * tf_restart_gap says; also when it is not there while a row is due (deleted, or --output names
 * another directory). An empty file passes: the restart starts a new time series at t (what
 * the refusals tell a user to make, to accept that the rows before t are gone). */
tf_status tf_series_check_restart(const char *path, double t, double t_due);
/* The refusal of a restart at t whose file `path` holds entries (`what`: "record", "row") up to
 * last_before (NAN: none) before t, where the one of t_due is due (t_due < 0: none): a file made
 * by another run than the checkpoint. TF_OK when nothing is missing. */
tf_status tf_restart_gap(const char *path, const char *what, double t, double t_due,
                         double last_before);
tf_status tf_series_close(tf_series *s);

/* Summary of a finished (or stopped) run, written atomically to `path`. */
typedef struct {
    const char *status;       /* "finished", "stopped", "numerical_failure", ... */
    long long steps;
    double t_end;             /* min */
    double wall_seconds;
    const char *backend;      /* "cpu" or "cuda"; NULL: no solver was made */
    const char *device;       /* tf_solver_description: threads, or the GPU and processes */
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
