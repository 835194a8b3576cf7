/* The backend choice among MPI processes that see different devices (tf_backend_choose_probe),
 * through a stand-in for the CUDA runtime: this machine and CI have no GPU, and a mixed node
 * (one process on a GPU this build cannot run on, the other on none) is rarer still. Every case
 * checks that all processes come back (a process that returned before a collective the others
 * entered once hung them all: ctest's timeout catches that) with the same verdict, and each
 * with the reason that applies to it.
 * usage: mpiexec -n N test_backend_choose (N >= 2; all processes on one node) */
#include "tf_par.h"
#include "tf_solver.h"
#include "tf_status.h"

#include <mpi.h>
#include <stdio.h>
#include <string.h>

static int rank_, failures_;

#define CHECK(cond, ...)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "rank %d: FAIL %s:%d: ", rank_, __FILE__, __LINE__);              \
            fprintf(stderr, __VA_ARGS__);                                                     \
            fputc('\n', stderr);                                                              \
            ++failures_;                                                                      \
        }                                                                                     \
    } while (0)

/* What this process's stand-in runtime answers: `devices` GPUs, each runnable or not (why);
 * its device i is GPU (uuid_base + i) % devices of the node (by UUID). */
static struct {
    int built, devices, runs, uuid_base;
} fake_;

static int fake_built(void) { return fake_.built; }
static int fake_count(void) { return fake_.devices; }
static int fake_runs(int i, char *why, size_t len)
{
    if (fake_.runs)
        return 1;
    snprintf(why, len, "device %d (stand-in) has compute capability 5.0; this build's kernels "
                       "are for sm_90",
             i);
    return 0;
}
static int fake_uuid(int i, unsigned char uuid[16])
{
    memset(uuid, 0, 16);
    uuid[0] = (unsigned char)((fake_.uuid_base + i) % fake_.devices);
    uuid[1] = 1; /* never all zeros (the key of "no GPU") */
    return 0;
}
static const tf_device_probe fake_probe = {fake_built, fake_count, fake_runs, fake_uuid};

/* Run the choice for `asked`; check the status (the same on every process) and, where given,
 * the chosen backend and a fragment of this process's message. */
static void expect(const char *name, const tf_par *par, tf_backend_kind asked, tf_status want,
                   tf_backend_kind want_kind, const char *fragment)
{
    tf_error_clear();
    tf_backend_kind got = (tf_backend_kind)-1;
    const tf_status st = tf_backend_choose_probe(asked, par, &fake_probe, &got);
    CHECK(st == want, "%s: status %s, want %s (%s)", name, tf_status_name(st),
          tf_status_name(want), st == TF_OK ? "" : tf_error_message());
    if (st == TF_OK)
        CHECK(got == want_kind, "%s: chose backend %d, want %d", name, (int)got, (int)want_kind);
    else if (fragment)
        CHECK(strstr(tf_error_message(), fragment) != NULL, "%s: message '%s' lacks '%s'", name,
              tf_error_message(), fragment);
    /* Every process got here and agrees. */
    int mine = (int)st, lo = 0, hi = 0;
    MPI_Allreduce(&mine, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&mine, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CHECK(lo == hi, "%s: the processes disagree (statuses %d to %d)", name, lo, hi);
    tf_error_clear();
}

int main(int argc, char **argv)
{
    if (!tf_par_init(&argc, &argv)) {
        fprintf(stderr, "test_backend_choose: MPI did not start\n");
        return 1;
    }
    int size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size < 2) {
        fprintf(stderr, "test_backend_choose: run it on 2 or more MPI processes\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    tf_grid g;
    tf_par par;
    const int want[3] = {0, 0, 0}, periodic[3] = {0, 0, 0};
    if (tf_grid_init(&g, 8, 8, 8, 10.0) != TF_OK ||
        tf_par_decompose(&par, &g, want, periodic) != TF_OK) {
        fprintf(stderr, "rank %d: set-up failed: %s\n", rank_, tf_error_message());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    CHECK(par.node_rank == rank_, "the processes are not on one node (node rank %d of rank %d)",
          par.node_rank, rank_);
    char not_every[96];
    snprintf(not_every, sizeof not_every, "not every one of the %d MPI processes", size);

    /* No GPU anywhere. */
    fake_.built = 1, fake_.devices = 0, fake_.runs = 0, fake_.uuid_base = 0;
    expect("no GPU, auto", &par, TF_BACKEND_AUTO, TF_OK, TF_BACKEND_CPU, NULL);
    expect("no GPU, cpu", &par, TF_BACKEND_CPU, TF_OK, TF_BACKEND_CPU, NULL);
    expect("no GPU, cuda", &par, TF_BACKEND_CUDA, TF_ERR_USAGE, 0, "none of the");

    /* Rank 0 sees a GPU this build cannot run on, the others none: the case that hung. */
    fake_.devices = rank_ == 0;
    expect("mixed, auto", &par, TF_BACKEND_AUTO, TF_OK, TF_BACKEND_CPU, NULL);
    expect("mixed, cuda", &par, TF_BACKEND_CUDA, TF_ERR_USAGE, 0,
           rank_ == 0 ? "compute capability 5.0" : not_every);

    /* Rank 0 has a GPU it runs on, the others none. */
    fake_.runs = 1;
    expect("one GPU on rank 0, auto", &par, TF_BACKEND_AUTO, TF_OK, TF_BACKEND_CPU, NULL);
    expect("one GPU on rank 0, cuda", &par, TF_BACKEND_CUDA, TF_ERR_USAGE, 0, not_every);

    /* Every process a GPU of its own (one per process on the node, node rank i takes GPU i). */
    fake_.devices = size, fake_.runs = 1;
    expect("own GPUs, auto", &par, TF_BACKEND_AUTO, TF_OK, TF_BACKEND_CUDA, NULL);
    expect("own GPUs, cuda", &par, TF_BACKEND_CUDA, TF_OK, TF_BACKEND_CUDA, NULL);
    expect("own GPUs, cpu", &par, TF_BACKEND_CPU, TF_OK, TF_BACKEND_CPU, NULL);

    /* One GPU for all: auto runs on the CPU, cuda shares it. */
    fake_.devices = 1;
    expect("shared GPU, auto", &par, TF_BACKEND_AUTO, TF_OK, TF_BACKEND_CPU, NULL);
    expect("shared GPU, cuda", &par, TF_BACKEND_CUDA, TF_OK, TF_BACKEND_CUDA, NULL);
    /* Collective: called once on every process, then checked. */
    int sharers = tf_gpu_sharers_probe(&par, &fake_probe);
    CHECK(sharers == size, "shared GPU: %d sharers, want %d", sharers, size);

    /* Two GPUs, A and B: node rank r takes index r % 2. With the same order everywhere, even
     * ranks take A and odd ones B: two groups. With odd ranks seeing them as (B, A) (another
     * CUDA_VISIBLE_DEVICES), index 1 is A for them too: one GPU by UUID, whatever its index. */
    fake_.devices = 2, fake_.uuid_base = 0;
    const int even = (size + 1) / 2, odd = size / 2, mine = rank_ % 2 ? odd : even;
    sharers = tf_gpu_sharers_probe(&par, &fake_probe);
    CHECK(sharers == mine, "two GPUs: %d sharers, want %d", sharers, mine);
    fake_.uuid_base = rank_ % 2;
    sharers = tf_gpu_sharers_probe(&par, &fake_probe);
    CHECK(sharers == size, "two GPUs in another order: %d sharers, want %d (one GPU by UUID)",
          sharers, size);
    expect("one GPU by UUID, auto", &par, TF_BACKEND_AUTO, TF_OK, TF_BACKEND_CPU, NULL);

    /* A build without the CUDA backend. */
    fake_.built = 0, fake_.devices = 0, fake_.uuid_base = 0;
    expect("no CUDA build, cuda", &par, TF_BACKEND_CUDA, TF_ERR_USAGE, 0, "no CUDA backend");
    expect("no CUDA build, auto", &par, TF_BACKEND_AUTO, TF_OK, TF_BACKEND_CPU, NULL);

    int total = 0;
    MPI_Allreduce(&failures_, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank_ == 0)
        printf("test_backend_choose: %d processes, %s\n", size,
               total ? "FAILED" : "every case agreed, with its reason");
    tf_par_free(&par);
    tf_par_finalize(total ? 1 : 0);
    return total ? 1 : 0;
}
