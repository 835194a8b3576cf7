/* par.c: processes and the domain decomposition (tf_par.h). With TF_HAVE_MPI the calls map onto
 * MPI on a Cartesian communicator; without it the run is one rank and they reduce to no-ops. */
#include "tf_par.h"
#include "tf_par_mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef TF_HAVE_MPI
#include <mpi.h>

struct tf_par_mpi {
    MPI_Comm cart;    /* Cartesian communicator: MPI dimension 0 is z, 1 is y, 2 is x */
    MPI_Comm line[3]; /* the ranks along x, y, z through this one, ranked by coordinate */
    MPI_Request req[TF_PAR_MAX_REQUESTS];
    int nreq;
};

static int started; /* tf_par_init called MPI_Init_thread */
static int agreed_error; /* the last tf_par_agree returned a failure every rank knows */

/* Whether a launcher (mpirun, mpiexec, srun) started this process: their environment. A
 * program started alone runs without MPI, as a build without it would (no MPI start-up cost,
 * no shared-memory files, clean under valgrind); TF_MPI=1 forces MPI on (a singleton). */
static int launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                       "PMI_SIZE", "MPI_LOCALNRANKS", "MV2_COMM_WORLD_SIZE"};
    const char *force = getenv("TF_MPI");
    if (force && *force)
        return strcmp(force, "0") != 0;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; ++i)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

/* MPI counts bytes in an int: a message past 2^31 bytes (a face of the six fields of about
 * 9,500 x 9,500 cells, or a plane of line ends) goes as pieces of at most `piece` bytes, which
 * MPI delivers in order between two ranks on one tag. TF_PAR_PIECE_BYTES sets a smaller piece
 * (tests, to run the split path on small grids). */
static size_t piece = (size_t)1 << 30;

int tf_par_init(int *argc, char ***argv)
{
    if (!launched())
        return 0;
    const char *pb = getenv("TF_PAR_PIECE_BYTES");
    if (pb && *pb) {
        char *end;
        const unsigned long long v = strtoull(pb, &end, 10);
        if (*end == '\0' && v >= 1 && v <= ((size_t)1 << 30))
            piece = (size_t)v;
    }
    /* PMIx's shared-memory data store fails under a file-size limit (ulimit -f); its hash
     * store does not. The site's choice wins. */
    setenv("PMIX_MCA_gds", "hash", 0);
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return 0;
    started = 1;
    return 1;
}

void tf_par_finalize(int code)
{
    if (!started)
        return;
    /* A failure that not every rank has seen would leave the others waiting in a collective
     * call: end the whole job instead. */
    if (code != 0 && !agreed_error && tf_par_world_size() > 1)
        MPI_Abort(MPI_COMM_WORLD, code);
    MPI_Finalize();
    started = 0;
}

int tf_par_world_rank(void)
{
    int r = 0;
    if (started)
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int tf_par_world_size(void)
{
    int s = 1;
    if (started)
        MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
}

int tf_par_built(void) { return 1; }
int tf_par_error_agreed(void) { return agreed_error; }
#else
int tf_par_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}
void tf_par_finalize(int code) { (void)code; }
int tf_par_world_rank(void) { return 0; }
int tf_par_world_size(void) { return 1; }
int tf_par_built(void) { return 0; }
int tf_par_error_agreed(void) { return 0; }
#endif

void tf_par_abort(const tf_par *p, tf_status st)
{
    if (!p || p->size <= 1)
        return;
    const int code = tf_exit_code(st);
    fflush(stdout);
    fprintf(stderr, "tumorfield: error: rank %d: %s (the other processes cannot go on without "
                    "it: the job is ended)\n",
            p->rank, tf_error_message());
    fflush(stderr);
#ifdef TF_HAVE_MPI
    if (started)
        MPI_Abort(MPI_COMM_WORLD, code);
#endif
    _exit(code);
}

tf_status tf_par_launch_check(void)
{
    const char *n = getenv("SLURM_STEP_NUM_TASKS"), *force = getenv("TF_MPI");
    const long tasks = n ? strtol(n, NULL, 10) : 1;
    if (tasks <= 1 || tf_par_world_size() > 1 || (force && strcmp(force, "0") == 0))
        return TF_OK;
#ifdef TF_HAVE_MPI
    if (started)
        return TF_OK; /* a launcher started this one process on purpose (mpirun -n 1) */
#endif
    return TF_ERROR(TF_ERR_USAGE,
                    "Slurm started this program as %ld tasks (SLURM_STEP_NUM_TASKS), but it runs "
                    "as one process: %s; as it is, every task would run the whole grid into the "
                    "same files (for tasks that each run a run of their own: TF_MPI=0)",
                    tasks,
                    tf_par_built() ? "no MPI process manager is visible to it (start it with "
                                     "`srun --mpi=pmix` or `srun --mpi=pmi2`, as the site's MPI "
                                     "needs, or with mpirun)"
                                   : "this build has no MPI (rebuild with -DTF_MPI=ON, or run "
                                     "one task)");
}

tf_par tf_par_world(void)
{
    tf_par p;
    memset(&p, 0, sizeof p);
    p.rank = tf_par_world_rank();
    p.size = tf_par_world_size();
    return p;
}

void tf_par_split(tf_index n, int parts, int c, tf_index *start, tf_index *count)
{
    const tf_index q = n / parts, r = n % parts;
    *start = (tf_index)c * q + (c < r ? c : r);
    *count = q + (c < r ? 1 : 0);
}

/* Apply block (coords, dims) of the whole grid g to g. */
static void set_block(tf_grid *g, const int dims[3], const int coords[3])
{
    for (int d = 0; d < 3; ++d)
        tf_par_split(g->gn[d], dims[d], coords[d], &g->start[d], &g->n[d]);
    tf_grid_layout(g);
}

tf_status tf_par_choose_dims(int size, const int want[3], int dims[3])
{
    if (size == 1) {
        for (int d = 0; d < 3; ++d) {
            dims[d] = 1;
            if (want[d] > 1)
                return TF_ERROR(TF_ERR_USAGE,
                                "process grid %dx%dx%d for a run of one process%s", want[0],
                                want[1], want[2],
                                tf_par_built() ? " (start it with mpirun -n N)"
                                               : ": this build has no MPI");
        }
        return TF_OK;
    }
    /* MPI_Dims_create aborts the job on a want that does not divide size: check it here, in
     * 64 bits (each count is at most 1e6, so the product cannot overflow). */
    long long fixed = 1;
    int chosen = 0;
    for (int d = 0; d < 3; ++d) {
        fixed *= want[d] > 0 ? want[d] : 1;
        chosen += want[d] <= 0;
    }
    if (want[0] > size || want[1] > size || want[2] > size || size % fixed != 0)
        return TF_ERROR(TF_ERR_USAGE,
                        "process grid %dx%dx%d (0 = chosen) does not divide the %d processes of "
                        "the run",
                        want[0], want[1], want[2], size);
    if (!chosen && fixed != size) /* MPI_Dims_create aborts on this too */
        return TF_ERROR(TF_ERR_USAGE,
                        "process grid %dx%dx%d has %lld processes, but the run has %d (use 0 for "
                        "a direction to be chosen)",
                        want[0], want[1], want[2], fixed, size);
#ifdef TF_HAVE_MPI
    int mdims[3] = {want[2], want[1], want[0]}; /* MPI order: z, y, x */
    if (MPI_Dims_create(size, 3, mdims) != MPI_SUCCESS)
        return TF_ERROR(TF_ERR_USAGE, "process grid: MPI_Dims_create cannot split %d processes "
                                      "as %dx%dx%d", size, want[0], want[1], want[2]);
    for (int d = 0; d < 3; ++d)
        dims[d] = mdims[2 - d];
#else
    for (int d = 0; d < 3; ++d)
        dims[d] = 1;
#endif
    if ((long long)dims[0] * dims[1] * dims[2] != size)
        return TF_ERROR(TF_ERR_USAGE, "process grid %dx%dx%d has %lld places for %d processes",
                        dims[0], dims[1], dims[2], (long long)dims[0] * dims[1] * dims[2], size);
    return TF_OK;
}

/* When MPI_Dims_create's grid cuts a direction into more blocks than it has cells (a thin
 * grid), take instead, among the process grids that keep the fixed directions of want and fit
 * the cells, the one whose blocks have the least surface (the least halo traffic). Leaves dims
 * as it is when it fits or nothing fits. */
static void fit_dims(int size, const int want[3], const tf_index gn[3], int dims[3])
{
    if (dims[0] <= gn[0] && dims[1] <= gn[1] && dims[2] <= gn[2])
        return;
    double best = -1.0;
    for (int px = 1; px <= size; ++px)
        for (int py = 1; px * py <= size; ++py) {
            if (size % (px * py) != 0)
                continue;
            const int c[3] = {px, py, size / (px * py)};
            int ok = 1;
            for (int d = 0; d < 3; ++d)
                ok = ok && c[d] <= gn[d] && (want[d] == 0 || want[d] == c[d]);
            if (!ok)
                continue;
            /* Faces of one block, in cells. */
            const double b[3] = {(double)gn[0] / c[0], (double)gn[1] / c[1],
                                 (double)gn[2] / c[2]};
            const double surface = b[0] * b[1] + b[1] * b[2] + b[0] * b[2];
            if (best < 0.0 || surface < best) {
                best = surface;
                for (int d = 0; d < 3; ++d)
                    dims[d] = c[d];
            }
        }
}

tf_status tf_par_decompose(tf_par *p, tf_grid *g, const int want[3], const int periodic[3])
{
    memset(p, 0, sizeof *p);
    p->size = tf_par_world_size();
    p->rank = tf_par_world_rank();
    p->node_size = 1;
    for (int d = 0; d < 3; ++d) {
        if (want[d] < 0)
            return TF_ERROR(TF_ERR_USAGE, "process grid: %d processes along %c; expected 0 "
                                          "(chosen) or a positive number", want[d], "xyz"[d]);
        p->dims[d] = 1;
        p->periodic[d] = periodic[d] != 0;
    }
    if (p->size == 1) {
        /* One process (or MPI not started): no communicators; a periodic direction wraps onto
         * this rank, whose backends fill such ghosts themselves. */
        TF_TRY(tf_par_choose_dims(1, want, p->dims));
        for (int d = 0; d < 3; ++d) {
            p->nbr[2 * d] = p->periodic[d] ? 0 : -1;
            p->nbr[2 * d + 1] = p->periodic[d] ? 0 : -1;
        }
        set_block(g, p->dims, p->coords);
        return TF_OK;
    }
    TF_TRY(tf_par_choose_dims(p->size, want, p->dims));
    fit_dims(p->size, want, g->gn, p->dims);
    for (int d = 0; d < 3; ++d)
        if (p->dims[d] > g->gn[d])
            return TF_ERROR(TF_ERR_USAGE,
                            "process grid %dx%dx%d cuts the %lld cells along %c into %d blocks: "
                            "use fewer processes or fix the split with --procs",
                            p->dims[0], p->dims[1], p->dims[2], (long long)g->gn[d], "xyz"[d],
                            p->dims[d]);
#ifdef TF_HAVE_MPI
    p->mpi = calloc(1, sizeof *p->mpi);
    if (!p->mpi)
        return TF_ERROR(TF_ERR_NOMEM, "out of memory");
    int mdims[3] = {p->dims[2], p->dims[1], p->dims[0]}; /* MPI order: z, y, x */
    const int mper[3] = {p->periodic[2], p->periodic[1], p->periodic[0]};
    MPI_Cart_create(MPI_COMM_WORLD, 3, mdims, mper, 0, &p->mpi->cart);
    MPI_Comm_rank(p->mpi->cart, &p->rank);
    int mc[3];
    MPI_Cart_coords(p->mpi->cart, p->rank, 3, mc);
    for (int d = 0; d < 3; ++d) {
        p->coords[d] = mc[2 - d];
        int lo, hi;
        MPI_Cart_shift(p->mpi->cart, 2 - d, 1, &lo, &hi);
        p->nbr[2 * d] = lo == MPI_PROC_NULL ? -1 : lo;
        p->nbr[2 * d + 1] = hi == MPI_PROC_NULL ? -1 : hi;
        int keep[3] = {0, 0, 0};
        keep[2 - d] = 1;
        MPI_Cart_sub(p->mpi->cart, keep, &p->mpi->line[d]);
    }
    MPI_Comm node;
    MPI_Comm_split_type(p->mpi->cart, MPI_COMM_TYPE_SHARED, p->rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &p->node_rank);
    MPI_Comm_size(node, &p->node_size);
    MPI_Comm_free(&node);
#endif
    set_block(g, p->dims, p->coords);
    return TF_OK;
}

void tf_par_free(tf_par *p)
{
#ifdef TF_HAVE_MPI
    if (p->mpi) {
        for (int d = 0; d < 3; ++d)
            MPI_Comm_free(&p->mpi->line[d]);
        MPI_Comm_free(&p->mpi->cart);
        free(p->mpi);
    }
#endif
    p->mpi = NULL;
}

#ifdef TF_HAVE_MPI
/* The communicator of a decomposed run, or the world before one. */
static MPI_Comm comm_of(const tf_par *p) { return p->mpi ? p->mpi->cart : MPI_COMM_WORLD; }

MPI_Comm tf_par_comm(const tf_par *p) { return comm_of(p); }

tf_status tf_par_agree(const tf_par *p, tf_status st)
{
    if (!started || p->size == 1)
        return st;
    int first = st != TF_OK ? p->rank : p->size;
    MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm_of(p));
    if (first == p->size)
        return TF_OK;
    struct {
        int st;
        char msg[2048];
    } m;
    memset(&m, 0, sizeof m);
    if (p->rank == first) {
        m.st = (int)st;
        snprintf(m.msg, sizeof m.msg, "%s", tf_error_message());
    }
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, comm_of(p));
    /* Every process met this very error (a bad --set, a scenario every process parses): the
     * rank adds nothing, and "rank 0:" would suggest that one process alone failed. */
    int all_same = st == (tf_status)m.st && strcmp(tf_error_message(), m.msg) == 0;
    MPI_Allreduce(MPI_IN_PLACE, &all_same, 1, MPI_INT, MPI_MIN, comm_of(p));
    tf_error_clear();
    /* A message agreed before (nested agreements) already names its rank. */
    const size_t digits = strncmp(m.msg, "rank ", 5) == 0 ? strspn(m.msg + 5, "0123456789") : 0;
    if (all_same || (digits > 0 && strncmp(m.msg + 5 + digits, ": ", 2) == 0))
        tf_error_set((tf_status)m.st, __FILE__, __LINE__, __func__, "%s", m.msg);
    else
        tf_error_set((tf_status)m.st, __FILE__, __LINE__, __func__, "rank %d: %s", first, m.msg);
    agreed_error = 1;
    return (tf_status)m.st;
}

int tf_par_any(const tf_par *p, int flag)
{
    if (!started || p->size == 1)
        return flag != 0;
    int v = flag != 0;
    MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, comm_of(p));
    return v;
}

int tf_par_node_sharers(const tf_par *p, const unsigned char key[16])
{
    if (!started || p->size <= 1)
        return 1;
    MPI_Comm node;
    MPI_Comm_split_type(comm_of(p), MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    enum { MAX_NODE = 1024 }; /* processes of one node compared; every rank of it sees n */
    static unsigned char all[16 * MAX_NODE];
    int n = 0, same = 1;
    MPI_Comm_size(node, &n);
    if (n <= MAX_NODE) {
        MPI_Allgather(key, 16, MPI_UNSIGNED_CHAR, all, 16, MPI_UNSIGNED_CHAR, node);
        same = 0;
        for (int i = 0; i < n; ++i)
            same += memcmp(all + 16 * (size_t)i, key, 16) == 0;
    }
    MPI_Comm_free(&node);
    return same;
}

void tf_par_sum(const tf_par *p, double *v, int n)
{
    if (started && p->size > 1)
        MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, comm_of(p));
}

void tf_par_max(const tf_par *p, double *v, int n)
{
    if (started && p->size > 1)
        MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MAX, comm_of(p));
}

void tf_par_sum_i64(const tf_par *p, long long *v, int n)
{
    if (started && p->size > 1)
        MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_LONG_LONG, MPI_SUM, comm_of(p));
}

/* Bytes of the piece of a message of `bytes` that starts at offset `at`. */
static int piece_at(size_t bytes, size_t at)
{
    return (int)(bytes - at < piece ? bytes - at : piece);
}

static void bcast_pieces(void *buf, size_t bytes, int root, MPI_Comm comm)
{
    size_t at = 0;
    do {
        MPI_Bcast((char *)buf + at, piece_at(bytes, at), MPI_BYTE, root, comm);
        at += piece;
    } while (at < bytes);
}

void tf_par_sum_u64(const tf_par *p, unsigned long long *v, int n)
{
    if (started && p->size > 1)
        MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm_of(p));
}

void tf_par_bcast(const tf_par *p, void *buf, size_t bytes, int root)
{
    if (started && p->size > 1)
        bcast_pieces(buf, bytes, root, comm_of(p));
}

void tf_par_barrier(const tf_par *p)
{
    if (started && p->size > 1)
        MPI_Barrier(comm_of(p));
}

static MPI_Request *next_request(tf_par *p)
{
    if (p->mpi->nreq == TF_PAR_MAX_REQUESTS)
        tf_par_wait(p); /* full: complete what is queued (every message is already posted) */
    return &p->mpi->req[p->mpi->nreq++];
}

void tf_par_send(tf_par *p, int face, const void *buf, size_t bytes, int tag)
{
    if (!p->mpi || p->nbr[face] < 0)
        return;
    size_t at = 0;
    do {
        MPI_Isend((const char *)buf + at, piece_at(bytes, at), MPI_BYTE, p->nbr[face], tag,
                  p->mpi->cart, next_request(p));
        at += piece;
    } while (at < bytes);
}

void tf_par_recv_start(tf_par *p, int face, void *buf, size_t bytes, int tag)
{
    if (!p->mpi || p->nbr[face] < 0)
        return;
    size_t at = 0;
    do {
        MPI_Irecv((char *)buf + at, piece_at(bytes, at), MPI_BYTE, p->nbr[face], tag,
                  p->mpi->cart, next_request(p));
        at += piece;
    } while (at < bytes);
}

void tf_par_recv(tf_par *p, int face, void *buf, size_t bytes, int tag)
{
    if (!p->mpi || p->nbr[face] < 0)
        return;
    size_t at = 0;
    do {
        MPI_Recv((char *)buf + at, piece_at(bytes, at), MPI_BYTE, p->nbr[face], tag,
                 p->mpi->cart, MPI_STATUS_IGNORE);
        at += piece;
    } while (at < bytes);
}

void tf_par_wait(tf_par *p)
{
    if (!p->mpi || p->mpi->nreq == 0)
        return;
    MPI_Waitall(p->mpi->nreq, p->mpi->req, MPI_STATUSES_IGNORE);
    p->mpi->nreq = 0;
}

void tf_par_line_bcast(const tf_par *p, int d, void *buf, size_t bytes, int root_coord)
{
    if (p->mpi && p->dims[d] > 1)
        bcast_pieces(buf, bytes, root_coord, p->mpi->line[d]);
}
#else
tf_status tf_par_agree(const tf_par *p, tf_status st)
{
    (void)p;
    return st;
}
int tf_par_any(const tf_par *p, int flag)
{
    (void)p;
    return flag != 0;
}
int tf_par_node_sharers(const tf_par *p, const unsigned char key[16])
{
    (void)p, (void)key;
    return 1;
}
void tf_par_sum(const tf_par *p, double *v, int n) { (void)p, (void)v, (void)n; }
void tf_par_max(const tf_par *p, double *v, int n) { (void)p, (void)v, (void)n; }
void tf_par_sum_i64(const tf_par *p, long long *v, int n) { (void)p, (void)v, (void)n; }
void tf_par_sum_u64(const tf_par *p, unsigned long long *v, int n) { (void)p, (void)v, (void)n; }
void tf_par_bcast(const tf_par *p, void *buf, size_t bytes, int root)
{
    (void)p, (void)buf, (void)bytes, (void)root;
}
void tf_par_barrier(const tf_par *p) { (void)p; }
/* One rank: every neighbour is this rank or none, and the backends never send to themselves. */
void tf_par_send(tf_par *p, int face, const void *buf, size_t bytes, int tag)
{
    (void)p, (void)face, (void)buf, (void)bytes, (void)tag;
}
void tf_par_recv_start(tf_par *p, int face, void *buf, size_t bytes, int tag)
{
    (void)p, (void)face, (void)buf, (void)bytes, (void)tag;
}
void tf_par_recv(tf_par *p, int face, void *buf, size_t bytes, int tag)
{
    (void)p, (void)face, (void)buf, (void)bytes, (void)tag;
}
void tf_par_wait(tf_par *p) { (void)p; }
void tf_par_line_bcast(const tf_par *p, int d, void *buf, size_t bytes, int root_coord)
{
    (void)p, (void)d, (void)buf, (void)bytes, (void)root_coord;
}
#endif
