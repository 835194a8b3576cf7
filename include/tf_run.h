/* tf_run.h: the run driver (host/run.c): time loop, systemic drivers, output, checkpoints,
 * signals and progress; and the benchmark (host/bench.c). */
#ifndef TF_RUN_H
#define TF_RUN_H

#include "tf_scenario.h"

typedef struct {
    tf_backend_kind backend;
    const char *restart;   /* checkpoint to continue from, or NULL */
    int resume;            /* continue from output.dir/NAME.chk.nc when it exists */
    int quiet;             /* no progress or scenario echo */
    int procs[3];          /* processes along x, y, z under MPI; 0: MPI_Dims_create chooses */
} tf_run_options;

/* `tumorfield bench` (host/bench.c): times steps of one scheme on one backend against a copy
 * bandwidth measured in the same run on the same device. */
typedef struct {
    tf_index n;            /* cells per direction (n^3 grid) */
    long steps;            /* timed steps after warm-up */
    tf_scheme scheme;
    tf_backend_kind backend;
    int json;              /* print one JSON object instead of the table */
    int procs[3];          /* as tf_run_options; each process gets an n^3 block */
} tf_bench_options;

#ifdef __cplusplus
extern "C" {
#endif

/* Catch SIGTERM, SIGINT and SIGUSR1 from now on (main, first thing, for `run`): one that comes
 * before the run has started (MPI start-up, reading the inputs) is kept, and the run stops after
 * its first step with a checkpoint (exit 75) instead of dying by the signal. */
void tf_run_catch_signals(void);

/* Run the scenario to its end. Returns the exit status of CONTRACT.md. */
tf_status tf_run(const tf_scenario *s, const tf_run_options *o);

/* The share of the machine's physical memory a run or bench may plan to fill with its arrays:
 * the rest is left to the system, the libraries (NetCDF, HDF5, MPI) and the page cache. A
 * plan at 100% passed the check and was then killed by the OOM killer. */
#define TF_HOST_MEMORY_SHARE 0.9
/* TF_HOST_MEMORY_SHARE of the physical memory, in bytes, and the physical memory in *physical
 * (both 0 where the system does not say). */
double tf_host_memory_usable(double *physical);

/* Refuse (TF_ERR_USAGE, with the numbers) a grid whose host arrays for block g, times the
 * node_procs processes of this node (blocks of about the same size), exceed this machine's
 * physical memory: the run's two host sets and vessel map, and with kind TF_BACKEND_CPU the
 * solver state. */
tf_status tf_run_host_memory(const tf_scenario *s, tf_backend_kind kind, const tf_grid *g,
                             int node_procs);

/* Where a run of s would go, as tf_run places it before it writes anything (collective): the
 * whole grid cut between the job's processes (procs: processes along x, y, z, 0 = chosen by
 * MPI_Dims_create) into *par, this process's block into *g, the backend `asked` resolves to
 * into *kind, and the node's memory checked (tf_run_host_memory). The caller frees *par
 * (tf_par_free), also on failure. */
tf_status tf_run_place(const tf_scenario *s, const int procs[3], tf_backend_kind asked,
                       tf_grid *g, tf_par *par, tf_backend_kind *kind);

/* Whether a run could make and write its output directory `dir` (check's part of what a run
 * does first): every existing part of the path a directory, the first missing one creatable,
 * the directory writable, each found out by making a directory there and removing it (access()
 * grants root everything). TF_ERR_IO with the reason, as the run would fail. */
tf_status tf_run_dir_check(const char *dir);
/* tf_run_dir_check of output.dir, and every file a run writes there absent or a regular file
 * this run may replace or write (TF_ERR_IO naming one that is a directory, FIFO or device, or
 * another user's), and no other run holding them now (TF_ERR_USAGE, as the run). */
tf_status tf_run_output_check(const tf_scenario *s);
/* The disk space a run's files take at most (uncompressed records, the checkpoint twice while
 * it is replaced, the time series, the summary) beyond what its files there hold already
 * (a restart's), into *need, and what the file system of output.dir (or of its nearest
 * existing parent) has free for this user into *avail (-1 where unknown). For check's
 * estimate; compression makes the records smaller. */
void tf_run_disk_need(const tf_scenario *s, double *need, double *avail);
/* check's part of --restart PATH and --resume: the checkpoint a run would continue from
 * (named in `used`, "" where it starts afresh) holds this scenario but for run.duration and
 * output.dir, read whole with its checksums, and the files it continues hold every record and
 * row due before its time; --resume without one refuses output files it would replace (as a
 * run would). */
tf_status tf_run_restart_check(const tf_scenario *s, const tf_run_options *o, char *used,
                               size_t len);

/* Steps between outputs of `interval` min at steps of dt: the nearest whole number, at least
 * one; 0 for interval 0 (none). Runs end at the first step at or past run.duration. */
long long tf_run_steps_per(double interval, double dt);

/* Print, each on a line starting with `prefix`, the notes on how this scenario's time step
 * plays out (check and run print the same): where counting in steps moves the end or an output
 * interval (the files keep the scenario as given); where run.dt is coarse for the exercise
 * sessions, the daily cortisol rhythm or the exchange with the blood; a one-cell axis, which
 * ParaView's CF reader cannot place. */
void tf_run_print_notes(const tf_scenario *s, const char *prefix);

/* The size in bytes of the highest-level CPU cache (data or unified) that `dir` lists in the
 * Linux sysfs layout (dir/indexN/level, dir/indexN/type, dir/indexN/size such as "32768K"),
 * or 0 where it lists none. dir NULL: /sys/devices/system/cpu/cpu0/cache. The bench's in-cache
 * test takes it before sysconf(_SC_LEVEL3_CACHE_SIZE), which said 320 MB on a 2-core Zen 4 VM
 * whose L3 is 32 MB (lscpu reads sysfs too). */
double tf_cpu_cache_bytes(const char *dir);

/* Run the benchmark and print its report to stdout. */
tf_status tf_bench(const tf_bench_options *o);

#ifdef __cplusplus
}
#endif

#endif
