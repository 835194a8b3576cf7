/* tf_backend.h: what a backend implements (internal to the solver; host/solver.c dispatches).
 * The CPU backend lives in host/cpu_backend.c, the CUDA one in kernels/cuda_backend.cu. */
#ifndef TF_BACKEND_H
#define TF_BACKEND_H

#include "tf_solver.h"

/* Everything a backend needs to set itself up: shared, read-only. */
typedef struct {
    tf_grid g;     /* this rank's block */
    tf_par *par;   /* the decomposition (dims 1 x 1 x 1 on one process) */
    tf_bcs bcs;
    tf_params p;
    tf_scheme scheme;
    double dt;
    /* Host copies of the diffusion line factors, per field and direction (tf_lod_factors);
     * NULL arrays for the explicit scheme. cp/inv/z arrays of gn[dir] elements each: the whole
     * line, of which this block holds rows start[dir] .. start[dir] + n[dir] - 1. */
    tf_line_factors lines[TF_NFIELDS][3];
    tf_real dif[TF_NFIELDS]; /* D_f / h^2, 1/min */
    tf_timers *timers;       /* where the backend adds its stage times */
    int gpu_sharers;         /* CUDA: processes of this node on this one's GPU (1: its own) */
} tf_setup;

typedef struct {
    const char *name;
    tf_status (*create)(const tf_setup *su, void **impl, char *desc, size_t desc_len);
    void (*destroy)(void *impl);
    tf_status (*set_state)(void *impl, tf_real *const fields[TF_NFIELDS], const tf_real *vessel);
    tf_status (*get_state)(void *impl, tf_real *const fields[TF_NFIELDS], unsigned mask);
    tf_status (*step)(void *impl, const tf_coeffs *c0, const tf_coeffs *c1);
    tf_status (*diagnostics)(void *impl, tf_diag *d);
    tf_status (*check_state)(void *impl, tf_bad_cell *bad);
    /* The parts of a LOD step that run as one fused pass (tf_solver_lod_fused, TF_LOD_PASS_*
     * below; 0: none), which lowers the bytes a step moves (host/bench.c); NULL: never. */
    unsigned (*lod_fused)(void *impl);
    /* Nonzero when explicit steps run two at a time, one pass over memory per pair: the rows
     * of a pair's tile (tf_solver_explicit_paired); NULL: never. */
    unsigned (*explicit_paired)(void *impl);
    /* Run every part of the steps taken that the backend deferred (the state is then what
     * the steps made it); NULL: nothing is ever deferred. get_state, diagnostics and
     * check_state flush by themselves. */
    tf_status (*flush)(void *impl);
} tf_backend_ops;

#ifdef __cplusplus
extern "C" {
#endif

extern const tf_backend_ops tf_cpu_backend;
#ifdef TF_HAVE_CUDA
extern const tf_backend_ops tf_cuda_backend;
#endif

/* Memory for a large host array, 64-byte aligned; from 8 MiB on, 2 MiB-aligned and advised
 * MADV_HUGEPAGE (transparent huge pages, where Linux has them: host/cpu_backend.c, alloc_field).
 * The CPU backend's arrays and the bench's copy buffers take it, so that the copy the bench
 * compares with runs on the same pages. NULL when out of memory; release with free(). */
void *tf_host_alloc_huge(size_t bytes);

/* *choice = the index of environment variable `var`'s value among names[0..n-1] (a backend's
 * variants, chosen for measurements: TF_CPU_EXPLICIT, TF_CPU_TILES, TF_CUDA_LINES); unchanged when
 * it is unset or empty; any other value is TF_ERR_USAGE, naming the choices. */
tf_status tf_env_choice(const char *var, const char *const names[], int n, int *choice);
/* *value = environment variable `var` as a decimal integer in [lo, hi] (a backend's tuning
 * for tests and measurements: TF_CPU_TILE_ROWS); unchanged when it is unset or empty; anything
 * else is TF_ERR_USAGE, naming the range. */
tf_status tf_env_long(const char *var, long lo, long hi, long *value);

/* Fill the ghost layer of one padded field from its boundary conditions (faces of the field).
 * Host memory. Used by the CPU explicit step and the tests. */
void tf_fill_ghosts_host(const tf_grid *g, const tf_bc bc[TF_NFACES], tf_real *a);

/* Cell-centred ghost value for a face: no-flux copies the inner cell, Dirichlet reflects it
 * about the wall value, periodic takes the opposite inner cell. */
TF_HD tf_real tf_ghost_value(tf_bc_kind kind, tf_real wall, tf_real inner, tf_real opposite)
{
    return kind == TF_BC_PERIODIC ? opposite
         : kind == TF_BC_DIRICHLET ? (tf_real)2 * wall - inner
                                   : inner;
}

#ifdef __cplusplus
}
#endif

#endif
