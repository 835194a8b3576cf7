/* tf_solver.h: the numerical engine as the host driver sees it, whatever the backend.
 *
 * A solver owns the state of the six fields and the vessel map on its backend (host memory for
 * the CPU, device memory for CUDA). Host-side arrays passed in and out are padded field arrays
 * of g->nalloc elements (tf_grid.h); their ghost cells are ignored on input and unspecified on
 * output. One step advances the state by the solver's dt with its scheme:
 *   LOD:      reaction(dt/2, c0) | diffusion x, y, z (backward Euler, dt) | reaction(dt/2, c1)
 *   explicit: ghosts | fused 7-point Laplacian and reaction, forward Euler (dt, c0)
 * where c0 holds the systemic drivers at the step's start and c1 at its end. */
#ifndef TF_SOLVER_H
#define TF_SOLVER_H

#include "tf_model.h"
#include "tf_par.h"
#include "tf_status.h"

typedef enum { TF_SCHEME_LOD = 0, TF_SCHEME_EXPLICIT } tf_scheme;
typedef enum { TF_BACKEND_AUTO = 0, TF_BACKEND_CPU, TF_BACKEND_CUDA } tf_backend_kind;

/* Named stages, timed the same way on every backend and used as NVTX range names. */
typedef enum {
    TF_STAGE_REACTION = 0,
    TF_STAGE_DIFFUSION_X,
    TF_STAGE_DIFFUSION_Y,
    TF_STAGE_DIFFUSION_Z,
    TF_STAGE_EXPLICIT,
    TF_STAGE_GHOSTS,
    TF_STAGE_HALO, /* waiting for other ranks: ghost layers, pipelined line solves */
    TF_STAGE_DIAGNOSTICS,
    TF_STAGE_OUTPUT,
    TF_STAGE_CHECKPOINT,
    TF_NSTAGES
} tf_stage;
extern const char *const tf_stage_name[TF_NSTAGES];

typedef struct {
    double seconds[TF_NSTAGES];
    long long calls[TF_NSTAGES];
} tf_timers;

/* Reductions over the interior of the grid (all blocks of all ranks). */
typedef struct {
    double total[TF_NFIELDS];    /* sum of each field over cells */
    double weighted[TF_NFIELDS]; /* sum of T * field over cells (tumor-weighted) */
    double tumor_sum;            /* sum of T = weighted[] denominator */
    double max[TF_NFIELDS];      /* largest value of each field */
} tf_diag;

/* Result of a state check: the first bad cell (field, local i, j, k) when status is
 * TF_ERR_NUMERIC. */
typedef struct {
    int field;
    tf_index i, j, k;
    double value;
} tf_bad_cell;

typedef struct tf_solver tf_solver;

#ifdef __cplusplus
extern "C" {
#endif

/* The explicit scheme's dt limit: min over the fields of 1 / (w D/h^2 + loss), loss the largest
 * reaction loss rate the parameters allow and w the largest weight of a cell's own value in its
 * Laplacian: 6, and one more for each Dirichlet wall the cell touches (its ghost 2 value - u
 * takes u once more), one wall per direction, both where the grid is one cell thick
 * (docs/numerics.md). Below it every update keeps the fields non-negative and the diffusion
 * stable. bcs and n (global cells) may be NULL: interior cells only (w = 6). */
typedef struct {
    double dt;  /* minutes; infinite when every D and loss is zero */
    int field;  /* the field that sets it */
    int weight; /* that field's w */
} tf_dt_limit;
tf_dt_limit tf_explicit_dt_limit(const tf_params *p, double h, const tf_bcs *bcs,
                                 const tf_index n[3]);
/* The limit's formula for messages, e.g. "1/(6 D/h^2 + loss)"; as snprintf. */
int tf_dt_limit_text(char *buf, size_t size, const tf_dt_limit *lim);
/* v rounded down to `digits` significant digits (a limit printed so that the printed value is
 * within it); v itself where it is not a positive finite number. */
double tf_floor_sig(double v, int digits);

/* The backend a run of the processes of par (NULL: one process) gets for `asked`: auto takes
 * CUDA when every process has a GPU of its own (each takes one of its node by node-local rank;
 * tf_gpu_sharers), else the CPU; cuda shares a GPU between processes where it must.
 * TF_ERR_USAGE, saying why, when cuda is asked for and cannot be had. Collective when par has
 * several processes. */
tf_status tf_backend_choose(tf_backend_kind asked, const tf_par *par, tf_backend_kind *chosen);
/* Collective over par's processes: how many processes of this node would use this process's GPU
 * (by UUID, so one GPU seen through different CUDA_VISIBLE_DEVICES counts once); 0 without a
 * GPU; on one process 1 with a GPU. */
int tf_gpu_sharers(const tf_par *par);

/* What the backend choice asks of the CUDA runtime, as the tf_cuda_* functions below answer it
 * (tf_cuda_probe). A seam for tests: processes that see different devices (one GPU it cannot
 * run on here, none there) must agree on the choice and on the error without hanging, and that
 * can only be tested on machines without such devices through a stand-in probe. */
typedef struct {
    int (*built)(void);
    int (*count)(void);
    int (*runs)(int i, char *why, size_t len);
    int (*uuid)(int i, unsigned char uuid[16]);
} tf_device_probe;
extern const tf_device_probe tf_cuda_probe;
/* tf_backend_choose and tf_gpu_sharers with the answers of `probe`. */
tf_status tf_backend_choose_probe(tf_backend_kind asked, const tf_par *par,
                                  const tf_device_probe *probe, tf_backend_kind *chosen);
int tf_gpu_sharers_probe(const tf_par *par, const tf_device_probe *probe);

/* Create a solver. TF_BACKEND_AUTO as tf_backend_choose decides (CUDA where every process has a
 * GPU of its own that this build runs on, else the CPU).
 * The explicit scheme refuses dt above tf_explicit_dt_limit (TF_ERR_USAGE, naming the limit).
 * BCs are validated (periodic on both faces of a direction). */
tf_status tf_solver_create(tf_solver **out, tf_backend_kind kind, const tf_grid *g,
                           const tf_bcs *bcs, const tf_params *p, tf_scheme scheme, double dt);
/* The same for one block of a decomposed grid (tf_par.h); collective. g is this rank's block,
 * par the decomposition, which must outlive the solver. Steps exchange ghost layers and solve
 * the diffusion lines across the blocks exactly (the same operations as one process), and
 * diagnostics and checks are reduced over all ranks. With the CUDA backend each rank takes one
 * GPU of its node (by node-local rank). par NULL: one process. */
tf_status tf_solver_create_par(tf_solver **out, tf_backend_kind kind, const tf_grid *g,
                               tf_par *par, const tf_bcs *bcs, const tf_params *p,
                               tf_scheme scheme, double dt);
void tf_solver_destroy(tf_solver *s);

tf_backend_kind tf_solver_backend(const tf_solver *s);
/* Backend and device in words, e.g. "cpu (2 OpenMP threads)" or "cuda (NVIDIA H100 ...)". */
const char *tf_solver_description(const tf_solver *s);

/* Copy a host state in (six padded field arrays and the padded vessel map). */
tf_status tf_solver_set_state(tf_solver *s, tf_real *const fields[TF_NFIELDS],
                              const tf_real *vessel);
/* Copy the fields out to host arrays; mask bit f selects field f (all: (1 << TF_NFIELDS) - 1). */
tf_status tf_solver_get_state(tf_solver *s, tf_real *const fields[TF_NFIELDS], unsigned mask);

/* Advance one dt; c0, c1 as above (explicit uses c0 only). */
tf_status tf_solver_step(tf_solver *s, const tf_coeffs *c0, const tf_coeffs *c1);

tf_status tf_solver_diagnostics(tf_solver *s, tf_diag *d);

/* TF_OK when every value is finite and non-negative; else TF_ERR_NUMERIC with the first bad
 * cell in *bad (lowest field, then lowest linear index, of the lowest rank with one) and an
 * error message naming it. Collective. */
tf_status tf_solver_check_state(tf_solver *s, tf_bad_cell *bad);

const tf_timers *tf_solver_timers(const tf_solver *s);

/* The parts of a LOD step that the backend runs as one fused pass over memory, plane by plane
 * (0: none, every part a pass of its own): the step's first reaction with the previous step's
 * second, deferred into it (TF_LOD_PASS_REACTIONS, always part of a fused pass), the x lines
 * (TF_LOD_PASS_X) and the y lines (TF_LOD_PASS_Y, only with X). The CPU backend leaves out
 * the lines of a direction cut between processes, and the y lines where x is cut. */
enum { TF_LOD_PASS_REACTIONS = 1u, TF_LOD_PASS_X = 2u, TF_LOD_PASS_Y = 4u };
unsigned tf_solver_lod_fused(const tf_solver *s);

/* Whether the backend runs explicit steps two at a time, one pass over memory for both (a step
 * waits for the next; anything that reads the state runs a waiting step alone first): the
 * rows of the tiles a pair sweeps if so, else 0. The CPU backend on one process, unless
 * TF_CPU_EXPLICIT=single; the results are the same bits either way. */
unsigned tf_solver_explicit_paired(const tf_solver *s);
/* Finish every deferred part of the steps taken (a benchmark's timed loop ends with it). */
tf_status tf_solver_flush(tf_solver *s);
/* Time a host-side stage (output, checkpoint) into the same table. */
void tf_solver_time_add(tf_solver *s, tf_stage st, double seconds);

/* Whether this build has the CUDA backend, and how many devices it sees (0 without one). */
int tf_cuda_built(void);
int tf_cuda_device_count(void);
/* Why the last tf_cuda_device_count found no device (the CUDA error, e.g. no driver), or NULL. */
const char *tf_cuda_count_error(void);
/* Whether device i can run this build's kernels (its compute capability against the
 * architectures built); 0 with the reason and the rebuild that helps in why. */
int tf_cuda_device_runs(int i, char *why, size_t len);
/* Describe device `i` into buf (name, memory, compute capability). */
void tf_cuda_device_describe(int i, char *buf, size_t len);
/* The 16-byte UUID of device `i` (the same GPU seen through any CUDA_VISIBLE_DEVICES); 0 when
 * read, -1 without one. */
int tf_cuda_device_uuid(int i, unsigned char uuid[16]);

double tf_wtime(void);

#ifdef __cplusplus
}
#endif

#endif
