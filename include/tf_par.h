/* tf_par.h: the processes of a run and how the grid is split between them (host/par.c).
 *
 * With MPI (built with TF_MPI, macro TF_HAVE_MPI) a run spans the ranks of MPI_COMM_WORLD: the
 * grid is cut into a px x py x pz Cartesian decomposition of blocks, one per rank, each block
 * a tf_grid with its own start[] and n[] and one ghost layer. Without MPI, or on one rank, the
 * decomposition is 1 x 1 x 1 and every call here is a no-op or an identity, so the rest of the
 * program has one code path.
 *
 * The communication helpers move raw bytes (tf_real arrays in either precision); MPI types never
 * appear outside par.c. Every function marked "collective" must be called by all ranks of the
 * run in the same order. */
#ifndef TF_PAR_H
#define TF_PAR_H

#include "tf_fields.h"
#include "tf_grid.h"
#include "tf_status.h"

#include <stddef.h>

/* Most outstanding non-blocking messages of one rank (6 faces in + 6 out, plus pipelined line
 * chunks): tf_par_send/tf_par_recv_start queue into this many slots. */
#define TF_PAR_MAX_REQUESTS 1024

typedef struct tf_par_mpi tf_par_mpi; /* MPI handles, internal to par.c */

typedef struct {
    int rank, size;      /* in the run's communicator */
    int dims[3];         /* processes along x, y, z */
    int coords[3];       /* this rank's place in the process grid */
    int periodic[3];     /* the process grid wraps along d (some field is periodic along d) */
    int nbr[TF_NFACES];  /* rank across each face, -1 at a non-wrapping edge of the grid */
    int node_rank;       /* rank among the processes of this node (one GPU each) */
    int node_size;
    tf_par_mpi *mpi;     /* NULL without MPI or before tf_par_decompose */
} tf_par;

#ifdef __cplusplus
extern "C" {
#endif

/* Start MPI when built with it (MPI_THREAD_FUNNELED: only the main thread calls MPI) and
 * return 1 when it did; without MPI, 0. Safe to call without mpirun (one rank). */
int tf_par_init(int *argc, char ***argv);
/* Finish MPI when tf_par_init started it. An error exit on more than one rank aborts the job
 * with `code` instead, so that no rank waits for another one forever. */
void tf_par_finalize(int code);
/* Rank and size of the whole job (0 and 1 without MPI), for messages before a decomposition. */
int tf_par_world_rank(void);
int tf_par_world_size(void);
/* The whole job as a tf_par without a decomposition (rank and size only): for agreeing on
 * failures that every rank meets alike before a decomposition exists (tf_par_agree). */
tf_par tf_par_world(void);
/* Whether this build has MPI. */
int tf_par_built(void);
/* TF_ERR_USAGE when Slurm started this program as several tasks of one step but it runs as one
 * process (no MPI in the build, or srun without the MPI plugin the site's MPI needs): each task
 * would run the whole grid into the same files. TF_MPI=0 (tasks that each run a run of their
 * own) turns the check off. */
tf_status tf_par_launch_check(void);

/* The process grid for `size` processes: want[d] > 0 fixes direction d, 0 leaves it to
 * MPI_Dims_create (largest factor along z). TF_ERR_USAGE when want cannot hold size. */
tf_status tf_par_choose_dims(int size, const int want[3], int dims[3]);

/* Collective. Split grid g (set up whole by tf_grid_init) among the ranks: want[d] > 0 fixes
 * the number of processes along d, 0 leaves it to MPI_Dims_create (the largest factor goes to
 * z, where blocks are contiguous planes). periodic[d] makes the process grid wrap along d.
 * On return g holds this rank's block and p the decomposition. TF_ERR_USAGE, naming the
 * numbers, when the process grid does not match the number of ranks or cuts a direction into
 * blocks of less than one cell. */
tf_status tf_par_decompose(tf_par *p, tf_grid *g, const int want[3], const int periodic[3]);
void tf_par_free(tf_par *p);

/* The first cell and the cell count of block c of n cells cut into parts: the first n % parts
 * blocks get one cell more. */
void tf_par_split(tf_index n, int parts, int c, tf_index *start, tf_index *count);

static inline int tf_par_root(const tf_par *p) { return p->rank == 0; }

/* Collective. The status of the run across ranks: TF_OK when every rank has TF_OK, else the
 * status of the lowest rank that failed, whose error message every rank then holds (so rank 0
 * can report it). */
tf_status tf_par_agree(const tf_par *p, tf_status st);
/* Whether the last failure returned by tf_par_agree is known to every rank. */
int tf_par_error_agreed(void);
/* Collective. Whether `flag` is non-zero on any rank. */
int tf_par_any(const tf_par *p, int flag);
/* A failure that the other ranks cannot learn about (they wait in a message of this one): print
 * it as `tumorfield: error: rank R: ...` and end the whole job with the exit code of st
 * (MPI_Abort). Returns only without MPI or on one rank. */
void tf_par_abort(const tf_par *p, tf_status st);
/* Collective. How many processes of this node (this one included) hold the same 16-byte key:
 * e.g. the UUID of the GPU each would use. 1 on one process or without MPI. */
int tf_par_node_sharers(const tf_par *p, const unsigned char key[16]);
/* Collective. In-place sums and maxima of n doubles over all ranks. */
void tf_par_sum(const tf_par *p, double *v, int n);
void tf_par_max(const tf_par *p, double *v, int n);
/* Collective. In-place sums of n 64-bit integers (exact, in any order). */
void tf_par_sum_i64(const tf_par *p, long long *v, int n);
/* Collective: sum of unsigned 64-bit values modulo 2^64 (checksums). */
void tf_par_sum_u64(const tf_par *p, unsigned long long *v, int n);
/* Collective. In-place broadcast of `bytes` bytes from rank `root`. */
void tf_par_bcast(const tf_par *p, void *buf, size_t bytes, int root);
void tf_par_barrier(const tf_par *p);

/* Point-to-point along a face: `face` is a tf_face index, the message goes to (or comes from)
 * p->nbr[face]. Sends and receives are non-blocking and complete in tf_par_wait; messages
 * between two ranks with the same tag arrive in the order they were sent. A rank with no
 * neighbour across `face` sends and receives nothing. */
void tf_par_send(tf_par *p, int face, const void *buf, size_t bytes, int tag);
void tf_par_recv_start(tf_par *p, int face, void *buf, size_t bytes, int tag);
/* Blocking receive (completes only this message). */
void tf_par_recv(tf_par *p, int face, void *buf, size_t bytes, int tag);
/* Complete every queued send and receive. */
void tf_par_wait(tf_par *p);

/* Collective over the ranks that share this rank's line along d (same coords in the other two
 * directions). Broadcast `bytes` bytes from the rank at coordinate `root_coord` along d. */
void tf_par_line_bcast(const tf_par *p, int d, void *buf, size_t bytes, int root_coord);

#ifdef __cplusplus
}
#endif

#endif
