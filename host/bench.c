/* bench.c: `tumorfield bench` (tf_bench, tf_run.h). Times steps of one scheme on one backend on
 * an n^3 grid holding a realistic state, and sets the time against the fewest bytes a step must
 * move and against a copy bandwidth measured in the same run on the same device.
 *
 * Minimum bytes of one step, per interior cell, in units of sizeof(tf_real) (docs/performance.md):
 *   explicit: read 6 fields + vessel, write 6 fields                     = 13
 *   LOD:      reaction (read 7, write 6) + per direction read and write
 *             each diffusing field (2 nd, nd = fields with D > 0) + reaction (7 + 6)
 *                                                                         = 26 + 6 nd (62 for nd = 6)
 *             where the backend fuses the first reaction with the x and y lines and defers the
 *             second reaction into the next step's fused pass (tf_solver_lod_fused), x and y
 *             move nothing of their own and both reactions share one pass: 13 + 2 nd = 25
 *             (the CPU backend where x and y are not cut; where y is cut the pass takes the
 *             reactions and the x lines, 13 + 4 nd, and where x is cut the reactions alone,
 *             13 + 6 nd: the stage table's count). The timed steps end with
 *             tf_solver_flush, so the last step's deferred reaction is timed too (one extra
 *             pass per run, not per step).
 *             Where the backend runs explicit steps in pairs, one pass over memory for two steps
 *             (tf_solver_explicit_paired: the CPU on one process), the pass moves 13 arrays per
 *             two steps; the count stays 13, the fewest for a step taken alone, and the stage
 *             table gives what the passes moved: 6.5 per step for an even number of timed
 *             steps, 13 (n + 1) / 2 / n for an odd n, whose last step runs alone
 *             (docs/performance.md).
 * Copy bandwidth: a buffer the size of the six-field state copied into another, counting bytes
 * read plus written, median of several copies: memcpy in OpenMP threads on the CPU (beside it the
 * STREAM Copy loop, which pays write-allocate), cudaMemcpy device to device on the GPU.
 *
 * Under MPI (weak scaling) every process holds an n^3 block of a (px n) x (py n) x (pz n) grid;
 * all processes measure their copy bandwidth at the same time, and the report gives the sums
 * over processes, the slowest process's wall time and the stage times averaged over processes
 * (the halo stage: time spent waiting for the others). */
#include "tf_backend.h"
#include "tf_par.h"
#include "tf_run.h"
#include "tf_systemic.h"

#ifdef TF_HAVE_CUDA
#include "../kernels/cuda_bench.h"
#endif

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

enum { BENCH_WARMUP = 3, BENCH_COPY_REPS = 7 };
static const double BENCH_COPY_SAMPLE_S = 0.05;

/* Stages a step runs, with the fewest arrays they move per cell and step (units of tf_real). */
typedef struct {
    tf_stage stage;
    double arrays;
} bench_stage;

/* The bytes stage i is counted for per step (its arrays x cells x size), or -1 for a stage
 * whose traffic is not counted (ghosts, halo). */
static double stage_bytes(const bench_stage *st, int nst, int i, double cells, double esize)
{
    for (int k = 0; k < nst; ++k)
        if (st[k].stage == (tf_stage)i)
            return st[k].arrays * cells * esize;
    return -1.0;
}

/* Whether stage i advances the cells (a voxel-update rate means something): not the ghost
 * fill or the halo wait. */
static int stage_updates(int i) { return i != TF_STAGE_GHOSTS && i != TF_STAGE_HALO; }

/* Whether stage i is part of the CPU's fused LOD pass (fused: its TF_LOD_PASS_* parts), timed
 * as a whole and split by the threads' time in each part (host/cpu_backend.c): a share, not a
 * timing of its own. A pass of the reactions alone is their own timing. */
static int stage_in_pass(unsigned fused, int i)
{
    return (i == TF_STAGE_REACTION && fused) ||
           (i == TF_STAGE_DIFFUSION_X && (fused & TF_LOD_PASS_X)) ||
           (i == TF_STAGE_DIFFUSION_Y && (fused & TF_LOD_PASS_Y));
}

static int stage_apportioned(unsigned fused, int i)
{
    return stage_in_pass(fused, i) && (fused & TF_LOD_PASS_X);
}

/* The bandwidth (bytes/s) of stage i: its bytes over its time; for the fused LOD pass, whose
 * bytes are counted once on the reaction, over the time of the whole pass (its parts' shares
 * together), not the reaction's share alone (which doubled the figure). */
static double stage_bandwidth(unsigned fused, int i, double bytes, const double *seconds)
{
    double s = seconds[i];
    if (stage_apportioned(fused, i)) {
        s = 0.0;
        for (int q = TF_STAGE_REACTION; q <= TF_STAGE_DIFFUSION_Y; ++q)
            if (stage_in_pass(fused, q))
                s += seconds[q];
    }
    return s > 0 ? bytes / s : 0.0;
}

/* Reproducible uniform numbers in [0, 1) from a cell's coordinates (splitmix64 of the index). */
static double cell_random(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

/* A state like the default scenario's: a spheroid of radius n/4 cells with T = 0.8 and an edge
 * two cells wide; vessels: about 3% of cells at density 1, the rest at a low random density,
 * sparser inside the tumor; small random E, S, P; A and C at their systemic levels. */
static void bench_state(const tf_grid *g, const tf_params *p, tf_real *const f[TF_NFIELDS],
                        tf_real *v)
{
    const double c[3] = {0.5 * (double)g->n[0], 0.5 * (double)g->n[1], 0.5 * (double)g->n[2]};
    const double R = 0.25 * (double)g->n[0];
#pragma omp parallel for schedule(static)
    for (tf_index k = 0; k < g->n[2]; ++k)
        for (tf_index j = 0; j < g->n[1]; ++j)
            for (tf_index i = 0; i < g->n[0]; ++i) {
                const tf_index q = tf_at(g, i, j, k);
                const double dx = (double)i + 0.5 - c[0], dy = (double)j + 0.5 - c[1],
                             dz = (double)k + 0.5 - c[2];
                const double r = sqrt(dx * dx + dy * dy + dz * dz);
                const double T = 0.8 * 0.5 * (1.0 - tanh((r - R) / 2.0));
                const uint64_t id = (uint64_t)q * 8u;
                const double u = cell_random(id);
                double vessel = u < 0.03 ? 1.0 : 0.02 * cell_random(id + 1);
                if (T > 0.6)
                    vessel *= 0.3;
                v[q] = (tf_real)vessel;
                f[TF_TUMOR][q] = (tf_real)T;
                f[TF_EFFECTOR][q] = (tf_real)(0.01 * cell_random(id + 2));
                f[TF_SUPPRESSOR][q] = (tf_real)(0.005 * cell_random(id + 3));
                f[TF_PRO][q] = (tf_real)(5.0 * cell_random(id + 4) + 10.0 * T);
                f[TF_ANTI][q] = (tf_real)p->A_base;
                f[TF_CORTISOL][q] = (tf_real)(p->C_base * (1.0 + 0.1 * cell_random(id + 5)));
            }
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The STREAM Copy kernel, dst[i] = src[i] over this thread's share [lo, lo + len): ordinary
 * stores, so every destination line is read before it is written (write-allocate), as it is for
 * the solver's own stores. Kept a loop: `optimize` stops GCC from turning it into a memcpy
 * call. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#if defined(__x86_64__)
__attribute__((target_clones("arch=x86-64-v4", "default"))) /* the kernels' vector width */
#endif
#endif
static void stream_copy(double *restrict dst, const double *restrict src, size_t len)
{
    for (size_t i = 0; i < len; ++i)
        dst[i] = src[i];
}

/* CPU copy bandwidths of `bytes` copied between two buffers by all OpenMP threads (each thread
 * its static share, first touched by that thread), bytes read + written per second, medians of
 * `reps` samples of each kind, taken in alternation. A sample repeats the copy for at least
 * BENCH_COPY_SAMPLE_S: on a loaded machine a thread that loses its core waits a scheduler tick
 * (4 ms), which would be the whole of a copy of a small grid's state. `parallel`: whether the
 * solver runs this grid on all threads (TF_CPU_PARALLEL_MIN_CELLS); a small grid it runs on one
 * is copied on one, or the copy alone waited for descheduled threads at every copy (0.06 GB/s
 * for 16^3 on a busy machine, a step "60 times faster than memcpy").
 *   memcpy_bps: glibc's memcpy, the reference: above a size threshold it stores non-temporally,
 *               so the bytes counted are the bytes moved, close to what DRAM allows;
 *   wa_bps:     the STREAM Copy loop (stream_copy) with ordinary stores, which also reads every
 *               destination line before writing it (write-allocate): 3 transfers for the 2
 *               counted. Kernels that write a second array with ordinary stores pay the same
 *               (docs/performance.md). */
static tf_status cpu_copy_bandwidth(size_t bytes, int reps, int parallel, double *memcpy_bps,
                                    double *wa_bps)
{
    const size_t n = bytes / sizeof(double);
    /* The pages the solver's arrays get (tf_host_alloc_huge): on 4 KiB pages glibc's memcpy of
     * 435 MB ran at 29 GB/s on the Zen 4 machine, on huge pages at 36. */
    double *src = tf_host_alloc_huge(n * sizeof(double));
    double *dst = tf_host_alloc_huge(n * sizeof(double));
    double t[2][BENCH_COPY_REPS];
    if (!src || !dst) {
        free(src);
        free(dst);
        return TF_ERROR(TF_ERR_NOMEM, "bench: cannot allocate 2 x %.3f GiB for the copy test",
                        (double)bytes / 1073741824.0);
    }
#pragma omp parallel for schedule(static) if (parallel)
    for (size_t i = 0; i < n; ++i) {
        src[i] = 1.0 + (double)(i & 1023);
        dst[i] = 0.0;
    }
    /* Copies per sample: doubled in the warm-up until a sample lasts BENCH_COPY_SAMPLE_S (one
     * warm-up copy that lost its core to a tick would have set too few). */
    long count = 1;
    for (int r = -1; r < reps; ++r) { /* r = -1: warm-up */
        for (int kind = 0; kind < 2; ++kind) {
            const double t0 = tf_wtime();
            for (long c = 0; c < count; ++c)
#pragma omp parallel if (parallel)
            {
                int nt = 1, id = 0;
#ifdef _OPENMP
                nt = omp_get_num_threads();
                id = omp_get_thread_num();
#endif
                /* The same static split as the initialisation loop above. */
                const size_t per = n / (size_t)nt, extra = n % (size_t)nt;
                const size_t lo = (size_t)id * per + ((size_t)id < extra ? (size_t)id : extra);
                const size_t len = per + ((size_t)id < extra ? 1 : 0);
                if (kind == 0)
                    memcpy(dst + lo, src + lo, len * sizeof(double));
                else
                    stream_copy(dst + lo, src + lo, len);
            }
            const double el = tf_wtime() - t0;
            if (r >= 0)
                t[kind][r] = el / (double)count;
            else if (kind == 1 && el < BENCH_COPY_SAMPLE_S && count < (1L << 20)) {
                count *= 2; /* the warm-up again, both kinds, with twice the copies */
                r = -2;
            }
        }
    }
    for (int kind = 0; kind < 2; ++kind)
        qsort(t[kind], (size_t)reps, sizeof(double), cmp_double);
    *memcpy_bps = 2.0 * (double)(n * sizeof(double)) / t[0][reps / 2];
    *wa_bps = 2.0 * (double)(n * sizeof(double)) / t[1][reps / 2];
    /* Keep the copies observable. */
    if (dst[n / 2] != src[n / 2]) {
        free(src);
        free(dst);
        return TF_ERROR(TF_ERR_INTERNAL, "bench: the copy test copied wrong data");
    }
    free(src);
    free(dst);
    return TF_OK;
}

static void timers_diff(const tf_timers *a, const tf_timers *b, tf_timers *d)
{
    for (int s = 0; s < TF_NSTAGES; ++s) {
        d->seconds[s] = b->seconds[s] - a->seconds[s];
        d->calls[s] = b->calls[s] - a->calls[s];
    }
}

static tf_status device_sync(tf_backend_kind kind)
{
#ifdef TF_HAVE_CUDA
    if (kind == TF_BACKEND_CUDA)
        return tf_cuda_synchronize();
#else
    (void)kind;
#endif
    return TF_OK;
}

static tf_status bench_run(const tf_bench_options *o, tf_par *par, tf_solver **sp,
                           tf_real **buf)
{
    const tf_index n = o->n;
    tf_grid g;
    int dims[3];
    const int nproc = tf_par_world_size();
    const tf_par world = tf_par_world();
    TF_TRY(tf_par_agree(&world, tf_par_choose_dims(nproc, o->procs, dims)));
    TF_TRY(tf_par_agree(&world, tf_grid_init(&g, n * dims[0], n * dims[1], n * dims[2], 10.0)));
    const int no_wrap[3] = {0, 0, 0};
    TF_TRY(tf_par_decompose(par, &g, dims, no_wrap));
    tf_params p;
    tf_params_default(&p);
    tf_bcs bcs;
    memset(&bcs, 0, sizeof bcs); /* no-flux everywhere */

    /* A depressed patient (D0 = 0.5) during a moderate exercise session. */
    const tf_schedule sched = {0.6, 45.0, 5, 480.0, 0.0, 1e9};
    const tf_drivers drv = {0.6, 0.0, 2.0};
    const tf_derived q = tf_drivers_derive(&drv, &p, &sched, 0.5, 500.0);
    const tf_coeffs co = tf_coeffs_make(&p, &q);

    const double dt = o->scheme == TF_SCHEME_EXPLICIT ? 0.9 * tf_explicit_dt_limit(&p, g.h, &bcs, g.gn).dt : 1.0;
    /* Host memory at the peak (the state handed to the solver, and with the cpu backend the
     * solver's arrays) checked first, as run does: past it the allocations may all succeed and
     * the first touch of the pages end the process (or a neighbour) by the OOM killer. */
    tf_backend_kind want;
    TF_TRY(tf_par_agree(par, tf_backend_choose(o->backend, par, &want)));
    const int host_arrays = TF_NFIELDS + 1 + (want == TF_BACKEND_CPU
                                             ? (o->scheme == TF_SCHEME_EXPLICIT ? 2 * TF_NFIELDS + 1
                                                                                : TF_NFIELDS + 1)
                                             : 0);
    double physical;
    const double usable = tf_host_memory_usable(&physical);
    const int procs = par->node_size > 1 ? par->node_size : 1; /* on this node, an n^3 each */
    const double need =
        (double)procs * (double)host_arrays * (double)g.nalloc * (double)sizeof(tf_real);
    if (usable > 0.0 && need > usable)
        return tf_par_agree(par, TF_ERROR(TF_ERR_USAGE,
                                          "bench: --grid %lld needs %.4g GiB of host memory (%d "
                                          "process%s on this node, %d arrays of %.4g cells with "
                                          "ghosts each, %zu bytes each), more than %.0f%% of the "
                                          "%.4g GiB of this machine; use a smaller --grid",
                                          (long long)n, need / 1073741824.0, procs,
                                          procs == 1 ? "" : "es", host_arrays, (double)g.nalloc,
                                          sizeof(tf_real), 100.0 * TF_HOST_MEMORY_SHARE,
                                          physical / 1073741824.0));
    TF_TRY(tf_par_agree(par, tf_solver_create_par(sp, o->backend, &g, par, &bcs, &p, o->scheme,
                                                  dt)));
    tf_solver *s = *sp;
    const tf_backend_kind kind = tf_solver_backend(s);

    tf_real *f[TF_NFIELDS];
    tf_status ast = TF_OK;
    for (int i = 0; i < TF_NFIELDS + 1 && ast == TF_OK; ++i) {
        buf[i] = malloc(sizeof(tf_real) * (size_t)g.nalloc);
        if (!buf[i])
            ast = TF_ERROR(TF_ERR_NOMEM, "bench: cannot allocate the host state (%.3f GiB)",
                           7.0 * (double)g.nalloc * sizeof(tf_real) / 1073741824.0);
        else
            memset(buf[i], 0, sizeof(tf_real) * (size_t)g.nalloc);
    }
    TF_TRY(tf_par_agree(par, ast));
    for (int i = 0; i < TF_NFIELDS; ++i)
        f[i] = buf[i];
    bench_state(&g, &p, f, buf[TF_NFIELDS]);
    TF_TRY(tf_solver_set_state(s, f, buf[TF_NFIELDS]));
    for (int i = 0; i < TF_NFIELDS + 1; ++i) { /* the solver holds the state now */
        free(buf[i]);
        buf[i] = NULL;
    }

    /* Warm-up, then the timed steps between two synchronisations. */
    tf_bad_cell bad;
    for (int i = 0; i < BENCH_WARMUP; ++i)
        TF_TRY(tf_solver_step(s, &co, &co));
    TF_TRY(tf_solver_check_state(s, &bad)); /* synchronises and folds in pending stage times */
    tf_timers t0 = *tf_solver_timers(s), t1, dtm;
    tf_par_barrier(par);
    const double w0 = tf_wtime();
    for (long i = 0; i < o->steps; ++i)
        TF_TRY(tf_solver_step(s, &co, &co));
    TF_TRY(tf_solver_flush(s)); /* deferred work of the last step, inside the timing */
    TF_TRY(device_sync(kind));
    double wall = tf_wtime() - w0;
    tf_par_max(par, &wall, 1); /* the slowest process sets the pace */
    TF_TRY(tf_solver_check_state(s, &bad));
    t1 = *tf_solver_timers(s);
    timers_diff(&t0, &t1, &dtm);
    tf_par_sum(par, dtm.seconds, TF_NSTAGES);
    for (int i = 0; i < TF_NSTAGES; ++i)
        dtm.seconds[i] /= (double)par->size;
    /* What the report needs of the solver; then it goes, so that the copy below does not add
     * its buffers to the solver's arrays (the largest grid that fits is the solver's). */
    const unsigned fused = tf_solver_lod_fused(s);
    /* Steps in pairs: the rows of the pairs' tiles; 0: steps one at a time (also where the
     * backend pairs them but one timed step has nothing to pair with). */
    const unsigned paired = o->scheme == TF_SCHEME_EXPLICIT && o->steps >= 2
                                ? tf_solver_explicit_paired(s)
                                : 0;
    char desc[256];
    snprintf(desc, sizeof desc, "%s", tf_solver_description(s));
    tf_solver_destroy(s);
    *sp = s = NULL;

    /* Copy bandwidth on the same device, buffer the size of the six-field state; all processes
     * at once, summed. */
    const size_t state_bytes = (size_t)TF_NFIELDS * (size_t)g.nalloc * sizeof(tf_real);
    double bw2[2] = {0.0, 0.0}; /* the reference copy; the write-allocate copy (CPU only) */
    tf_par_barrier(par);
#ifdef TF_HAVE_CUDA
    if (kind == TF_BACKEND_CUDA)
        ast = tf_cuda_copy_bandwidth(state_bytes, BENCH_COPY_REPS, &bw2[0]);
    else
#endif
        ast = cpu_copy_bandwidth(state_bytes, BENCH_COPY_REPS, tf_cpu_parallel(g.ncells),
                                 &bw2[0], &bw2[1]);
    TF_TRY(tf_par_agree(par, ast));
    tf_par_sum(par, bw2, 2);
    const double copy_bw = bw2[0], wa_bw = bw2[1];
    const char *copy_kind = kind == TF_BACKEND_CUDA ? "cudaMemcpy device to device"
                            : tf_cpu_parallel(g.ncells)
                                ? "memcpy in OpenMP threads"
                                : "memcpy in one thread, as the solver runs this grid";

    /* Minimum traffic. */
    const double D[TF_NFIELDS] = {p.D_T, p.D_E, p.D_S, p.D_P, p.D_A, p.D_C};
    int nd = 0;
    for (int i = 0; i < TF_NFIELDS; ++i)
        nd += D[i] > 0.0;
    bench_stage st[5];
    int nst = 0;
    const double react_arrays = 2.0 * TF_NFIELDS + 1.0; /* one reaction pass */
    if (o->scheme == TF_SCHEME_EXPLICIT) {
        /* In pairs: one pass per pair, and an odd count's last step alone (at the flush). */
        const double passes = paired ? (double)((o->steps + 1) / 2) / (double)o->steps : 1.0;
        st[nst++] = (bench_stage){TF_STAGE_EXPLICIT, passes * react_arrays};
    } else {

        /* Two reaction half-steps, one pass when the second is deferred into the next step's
         * fused pass (their arrays are read and written once for both). */
        st[nst++] = (bench_stage){TF_STAGE_REACTION, (fused ? 1.0 : 2.0) * react_arrays};
        for (int d = 0; d < 3; ++d) {
            const int in_pass = stage_in_pass(fused, TF_STAGE_DIFFUSION_X + d);
            st[nst++] =
                (bench_stage){(tf_stage)(TF_STAGE_DIFFUSION_X + d), in_pass ? 0.0 : 2.0 * nd};
        }
    }
    /* What the passes this run took move (the stage table), and the fewest a step of the
     * scheme must move, which the effective bandwidth and the ratio to copy count: one pass for
     * the reactions and the x and y lines, the z lines a pass of their own (docs/performance.md).
     * The ratio then depends on the time of the step only, not on whether this backend,
     * process grid or thread count took the fused pass or the separate ones. */
    double pass_arrays = 0.0;
    for (int i = 0; i < nst; ++i)
        pass_arrays += st[i].arrays;
    const double arrays = o->scheme == TF_SCHEME_EXPLICIT ? react_arrays
                                                          : react_arrays + 2.0 * nd;
    const double cells = (double)g.gn[0] * (double)g.gn[1] * (double)g.gn[2];
    const double esize = (double)sizeof(tf_real);
    const double step_s = wall / (double)o->steps;
    const double bytes = arrays * cells * esize;
    const double eff_bw = bytes / step_s;
    const double pass_bw = pass_arrays * cells * esize / step_s; /* what the passes moved */
    const double updates = cells * (double)o->steps / wall;
    double stage_sum = 0.0;
    for (int i = 0; i < TF_NSTAGES; ++i)
        if (i != TF_STAGE_DIAGNOSTICS && i != TF_STAGE_OUTPUT && i != TF_STAGE_CHECKPOINT)
            stage_sum += dtm.seconds[i];
    stage_sum /= (double)o->steps;

    /* A working set smaller than the last-level cache measures the cache, not memory: the
     * copy's (source and destination) or the step's (the distinct arrays it touches: the six
     * fields and the vessel map, and for the explicit step the second set it writes). The
     * bandwidths then say little about the memory system. */
    const double step_set =
        (double)(o->scheme == TF_SCHEME_EXPLICIT ? 2 * TF_NFIELDS + 1 : TF_NFIELDS + 1) *
        (double)(state_bytes / TF_NFIELDS);
    const double copy_set = 2.0 * (double)state_bytes;
    double llc = kind == TF_BACKEND_CPU ? tf_cpu_cache_bytes(NULL) : 0.0;
#ifdef _SC_LEVEL3_CACHE_SIZE
    if (kind == TF_BACKEND_CPU && !(llc > 0.0))
        llc = (double)sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
    if (!(llc > 0.0))
        llc = kind == TF_BACKEND_CUDA ? 64e6 : 32e6; /* Hopper's L2 is 50-60 MB */
    const int in_cache = step_set < llc || copy_set < llc;

    /* The threads the steps ran on (a small CPU block runs on one, as its copy does). */
    const int threads = kind == TF_BACKEND_CPU ? tf_cpu_threads(g.ncells) : tf_omp_threads();
    const char *scheme = o->scheme == TF_SCHEME_EXPLICIT ? "explicit" : "lod";
    const char *backend = kind == TF_BACKEND_CUDA ? "cuda" : "cpu";
    char date[32];
    const time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));

    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "program", "tumorfield bench");
        cJSON_AddStringToObject(j, "version", TF_VERSION_STRING);
        cJSON_AddStringToObject(j, "commit", tf_build_commit);
        cJSON_AddStringToObject(j, "date", date);
        cJSON_AddStringToObject(j, "backend", backend);
        cJSON_AddStringToObject(j, "device", desc);
        cJSON_AddNumberToObject(j, "threads", threads);
        cJSON_AddNumberToObject(j, "processes", par->size);
        cJSON *pd = cJSON_AddArrayToObject(j, "process_grid");
        for (int d = 0; d < 3; ++d)
            cJSON_AddItemToArray(pd, cJSON_CreateNumber(par->dims[d]));
        cJSON_AddNumberToObject(j, "halo_share",
                                stage_sum > 0 ? dtm.seconds[TF_STAGE_HALO] / (double)o->steps /
                                                    stage_sum
                                              : 0.0);
        cJSON_AddStringToObject(j, "precision", TF_REAL_NAME);
        cJSON_AddStringToObject(j, "scheme", scheme);
        cJSON_AddNumberToObject(j, "n", (double)n);
        cJSON_AddNumberToObject(j, "cells", cells);
        cJSON_AddNumberToObject(j, "dt_min", dt);
        cJSON_AddNumberToObject(j, "warmup_steps", BENCH_WARMUP);
        cJSON_AddNumberToObject(j, "steps", (double)o->steps);
        cJSON_AddNumberToObject(j, "wall_s", wall);
        cJSON_AddNumberToObject(j, "ms_per_step", 1e3 * step_s);
        cJSON_AddNumberToObject(j, "stage_ms_per_step", 1e3 * stage_sum);
        cJSON_AddNumberToObject(j, "voxel_updates_per_s", updates);
        cJSON_AddNumberToObject(j, "arrays_per_step", arrays);
        cJSON_AddNumberToObject(j, "pass_arrays_per_step", pass_arrays);
        cJSON_AddBoolToObject(j, "explicit_paired", paired != 0);
        if (paired)
            cJSON_AddNumberToObject(j, "pair_tile_rows", paired);
        cJSON_AddNumberToObject(j, "min_bytes_per_step", bytes);
        cJSON_AddNumberToObject(j, "effective_bandwidth_GBps", 1e-9 * eff_bw);
        cJSON_AddNumberToObject(j, "copy_bytes", (double)state_bytes);
        cJSON_AddStringToObject(j, "copy_kind", copy_kind);
        cJSON_AddNumberToObject(j, "copy_bandwidth_GBps", 1e-9 * copy_bw);
        cJSON_AddNumberToObject(j, "ratio_to_copy", copy_bw > 0 ? eff_bw / copy_bw : 0.0);
        cJSON_AddBoolToObject(j, "in_cache", in_cache);
        /* Every key in every report: null where a figure does not apply (no write-allocate
         * copy on the GPU; no bytes counted for ghosts and halo). */
        if (wa_bw > 0) {
            cJSON_AddNumberToObject(j, "wa_copy_bandwidth_GBps", 1e-9 * wa_bw);
            cJSON_AddNumberToObject(j, "ratio_to_wa_copy", eff_bw / wa_bw);
        } else {
            cJSON_AddNullToObject(j, "wa_copy_bandwidth_GBps");
            cJSON_AddNullToObject(j, "ratio_to_wa_copy");
        }
        /* Every stage a step may have, also those this scheme and process count do not run
         * (0 ms, 0 calls), so that scripts find the same keys in every report. */
        cJSON *stages = cJSON_AddObjectToObject(j, "stages");
        for (int i = 0; i < TF_NSTAGES; ++i) {
            if (i == TF_STAGE_DIAGNOSTICS || i == TF_STAGE_OUTPUT || i == TF_STAGE_CHECKPOINT)
                continue;
            cJSON *e = cJSON_AddObjectToObject(stages, tf_stage_name[i]);
            const double ms = 1e3 * dtm.seconds[i] / (double)o->steps;
            cJSON_AddNumberToObject(e, "ms_per_step", ms);
            cJSON_AddNumberToObject(e, "calls_per_step", (double)dtm.calls[i] / (double)o->steps);
            const double b = stage_bytes(st, nst, i, cells, esize);
            if (b >= 0.0)
                cJSON_AddNumberToObject(e, "min_bytes_per_step", b);
            else
                cJSON_AddNullToObject(e, "min_bytes_per_step");
            /* No bandwidth of its own for a stage without bytes of its own (x and y in the
             * fused pass: theirs are the reaction's) or not counted (ghosts, halo). */
            if (b > 0.0)
                cJSON_AddNumberToObject(
                    e, "GBps", 1e-9 * stage_bandwidth(fused, i, b * (double)o->steps,
                                                      dtm.seconds));
            else
                cJSON_AddNullToObject(e, "GBps");
            /* Cells (six fields each) this stage advanced per second of its own time; ghosts
             * and halo advance none. */
            if (stage_updates(i) && dtm.seconds[i] > 0.0 && dtm.calls[i] > 0)
                cJSON_AddNumberToObject(e, "voxel_updates_per_s",
                                        cells * (double)o->steps / dtm.seconds[i]);
            else
                cJSON_AddNullToObject(e, "voxel_updates_per_s");
            cJSON_AddBoolToObject(e, "apportioned", stage_apportioned(fused, i));
        }
        char *text = cJSON_PrintUnformatted(j); /* one line: a report per line appends */
        cJSON_Delete(j);
        if (!text)
            return TF_ERROR(TF_ERR_NOMEM, "bench: cannot format the JSON report");
        printf("%s\n", text);
        free(text);
        return TF_OK;
    }

    printf("tumorfield bench %s (commit %s), %s\n", TF_VERSION_STRING, tf_build_commit, date);
    printf("backend           %s\n", desc);
    printf("scheme            %s, dt = %g min, %s\n", scheme, dt, TF_REAL_NAME);
    if (par->size > 1)
        printf("grid              %lld x %lld x %lld = %.0f cells: %d processes as %dx%dx%d, "
               "a %lld^3 block each (weak scaling)\n",
               (long long)g.gn[0], (long long)g.gn[1], (long long)g.gn[2], cells, par->size,
               par->dims[0], par->dims[1], par->dims[2], (long long)n);
    else
        printf("grid              %lld^3 = %.0f cells\n", (long long)n, cells);
    printf("steps             %d warm-up, %ld timed\n", BENCH_WARMUP, o->steps);
    printf("time per step     %.4f ms (host clock, synchronised; stage sum %.4f ms)\n",
           1e3 * step_s, 1e3 * stage_sum);
    printf("voxel updates     %.4g per s (cells x steps / s, six fields each)\n", updates);
    char pairs[96] = "";
    if (paired)
        snprintf(pairs, sizeof pairs, ": steps in pairs, one pass for two%s, tiles of %u rows",
                 o->steps % 2 ? ", the last step alone" : "", paired);
    printf("min bytes/step    %.4g MB (%.0f arrays x cells x %d B; the passes this run took "
           "move %.3g%s)\n", 1e-6 * bytes, arrays, (int)sizeof(tf_real), pass_arrays, pairs);
    printf("eff. bandwidth    %.2f GB/s\n", 1e-9 * eff_bw);
    printf("copy bandwidth    %.2f GB/s (%s, %.3g MB, read + write, median of %d)\n",
           1e-9 * copy_bw, copy_kind, 1e-6 * (double)state_bytes, BENCH_COPY_REPS);
    printf("ratio to copy     %.3f\n", copy_bw > 0 ? eff_bw / copy_bw : 0.0);
    if (copy_bw > 0 && pass_bw > copy_bw && !in_cache)
        printf("note              the step moved its bytes faster than the copy: the machine "
               "was busy while the copy ran (run again, or with fewer threads)\n");
    if (in_cache)
        printf("note              the step's arrays (%.3g MB) or the copy's (%.3g MB) fit in "
               "the last-level cache (%.0f MB): they run in cache, not memory; use a larger "
               "--grid (256 on a CPU) for memory bandwidth\n",
               1e-6 * step_set, 1e-6 * copy_set, 1e-6 * llc);
    if (wa_bw > 0)
        printf("w.-alloc. copy    %.2f GB/s (STREAM Copy loop, ordinary stores: 3 transfers for "
               "2 counted); ratio %.3f\n",
               1e-9 * wa_bw, eff_bw / wa_bw);
    if (par->size > 1)
        printf("halo share        %.3f of the stage time (waiting for other processes)\n",
               stage_sum > 0 ? dtm.seconds[TF_STAGE_HALO] / (double)o->steps / stage_sum : 0.0);
    printf("\n%-12s %10s %8s %11s %14s %9s %8s\n", "stage", "ms/step", "calls", "vox/s",
           "min MB/step", "GB/s", "of copy");
    int any_shared = 0;
    for (int i = 0; i < TF_NSTAGES; ++i) {
        if (dtm.calls[i] == 0 || i == TF_STAGE_DIAGNOSTICS)
            continue;
        const double ms = 1e3 * dtm.seconds[i] / (double)o->steps;
        const double b = stage_bytes(st, nst, i, cells, esize);
        const int shared = stage_apportioned(fused, i);
        any_shared |= shared;
        printf("%-12s %10.4f %8.2f ", tf_stage_name[i], ms,
               (double)dtm.calls[i] / (double)o->steps);
        if (stage_updates(i) && dtm.seconds[i] > 0.0)
            printf("%11.3g ", cells * (double)o->steps / dtm.seconds[i]);
        else
            printf("%11s ", "-");
        if (b > 0.0) {
            const double bw = 1e-9 * stage_bandwidth(fused, i, b * (double)o->steps, dtm.seconds);
            printf("%14.4g %9.2f %8.3f%s\n", 1e-6 * b, bw, copy_bw > 0 ? 1e9 * bw / copy_bw : 0.0,
                   shared ? "  *" : "");
        } else if (b == 0.0) { /* x and y of the fused pass: their bytes are the reaction's */
            printf("%14s %9s %8s%s\n", "0", "-", "-", shared ? "  *" : "");
        } else {
            printf("%14s %9s %8s\n", "-", "-", "-"); /* not counted */
        }
    }
    if (any_shared)
        printf("* part of the fused LOD pass (one pass over memory for the reactions and the "
               "lines marked so): its time is split by the threads' time in each part; its "
               "bytes are counted once, on the reaction, whose GB/s is the whole pass's\n");
    return TF_OK;
}

/* The first line of file dir/name, without its newline, into buf; 0 if it cannot be read. */
static int read_line(const char *dir, const char *name, char *buf, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    const int ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    buf[ok ? strcspn(buf, "\n") : 0] = '\0';
    return ok;
}

double tf_cpu_cache_bytes(const char *dir)
{
    if (!dir)
        dir = "/sys/devices/system/cpu/cpu0/cache";
    double best = 0.0;
    long best_level = 0;
    for (int i = 0; i < 32; ++i) {
        char idx[600], line[64];
        snprintf(idx, sizeof idx, "%s/index%d", dir, i);
        if (!read_line(idx, "level", line, sizeof line))
            continue;
        const long level = strtol(line, NULL, 10);
        if (read_line(idx, "type", line, sizeof line) && strcmp(line, "Instruction") == 0)
            continue;
        if (!read_line(idx, "size", line, sizeof line))
            continue;
        char *end = NULL;
        double bytes = strtod(line, &end);
        if (end == line || !(bytes > 0.0))
            continue;
        switch (*end) {
        case 'K': bytes *= 1024.0; break;
        case 'M': bytes *= 1024.0 * 1024.0; break;
        case 'G': bytes *= 1024.0 * 1024.0 * 1024.0; break;
        case '\0': break;
        default: continue; /* a unit we do not know: no answer rather than a wrong one */
        }
        if (level > best_level) {
            best_level = level;
            best = bytes;
        }
    }
    return best;
}

tf_status tf_bench(const tf_bench_options *o)
{
    /* Every rank sees the same bad option: agreed, so that rank 0 alone reports it. */
    const tf_par world = tf_par_world();
    if (o->n < 3)
        return tf_par_agree(&world, TF_ERROR(TF_ERR_USAGE, "bench: --grid %lld: need at least 3 "
                                                           "cells per direction", (long long)o->n));
    if (o->steps < 1)
        return tf_par_agree(&world, TF_ERROR(TF_ERR_USAGE, "bench: --steps %ld: need at least 1 "
                                                           "step", o->steps));
    tf_solver *s = NULL;
    tf_real *buf[TF_NFIELDS + 1] = {NULL};
    tf_par par;
    memset(&par, 0, sizeof par);
    const tf_status st = bench_run(o, &par, &s, buf);
    tf_solver_destroy(s);
    tf_par_free(&par);
    for (int i = 0; i < TF_NFIELDS + 1; ++i)
        free(buf[i]);
    return st;
}
