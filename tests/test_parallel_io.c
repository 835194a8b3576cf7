/* test_parallel_io.c: the NetCDF output and the checkpoint of a run over several MPI ranks
 * (host/ncout.c, host/checkpoint.c, host/writer.c with a tf_par), run under mpiexec.
 *
 *   test_parallel_io WX WY WZ RX RY RZ COMPRESSION
 *
 * The ranks split a 13 x 10 x 7 grid as a WX x WY x WZ process grid (0: chosen) and hold a
 * known value in every cell: record r of field f is r * 10000 + f * 1000 + the cell's global
 * linear index (integers, exact in float), the tumor fraction (index + 1024 r) / 2048 and the
 * vessel map index / 1024 (in [0, 1], as a checkpoint holds them); ghosts hold a value
 * that must never reach a file. All ranks together write an output file of two records (the
 * second through the writer without a thread) and a checkpoint; rank 0 reads both back with
 * the serial NetCDF API and checks every value of every variable and record, coordinates,
 * times, attributes and compression. Then every rank reads the checkpoint with the blocks of
 * another process grid (RX x RY x RZ) and checks its block exactly, and the ranks reopen the
 * output on that process grid for a restart at the first record's time, which must go on at
 * the second record. Last, failures: a checkpoint into a missing directory, one whose rename
 * fails, an output in a missing directory and the reopen of a missing file return TF_ERR_IO
 * on every rank with the same message and leave no temporary file.
 *
 * Plain C: a failed check prints the rank, line and values and the test exits 1 on every rank
 * (a failed collective call aborts the job at once, so that no rank waits forever). */
#define _POSIX_C_SOURCE 200809L
#include "test_output_util.h"

#include "tf_checkpoint.h"
#include "tf_par.h"

#include <mpi.h>
#include <stdarg.h>
#include <sys/stat.h>

#define NX 13
#define NY 10
#define NZ 7
#define H 5.0
#define GHOST ((tf_real)-7.0)
#define SKIPPED 4 /* a field output.fields leaves out */

static int rank_ = 0;
static long failures = 0;

static void fail_at(int line, const char *fmt, ...)
{
    if (failures++ >= 20)
        return; /* enough said */
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rank %d: test_parallel_io.c:%d: ", rank_, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

#define CHECK(cond, ...)                  \
    do {                                  \
        if (!(cond))                      \
            fail_at(__LINE__, __VA_ARGS__); \
    } while (0)

/* A collective call that must succeed: on failure the ranks cannot go on together. */
#define MUST(call)                                                                        \
    do {                                                                                  \
        tf_status st_ = (call);                                                           \
        if (st_ != TF_OK) {                                                               \
            fprintf(stderr, "rank %d: test_parallel_io.c:%d: %s returned %s: %s\n", rank_, \
                    __LINE__, #call, tf_status_name(st_), tf_error_message());            \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                 \
        }                                                                                 \
    } while (0)

#define NC_MUST(call) CHECK((call) == NC_NOERR, "%s failed", #call)

static double cell_value(int f, long long idx, int rec)
{
    /* The tumor fraction and the vessel density in [0, 1], as a checkpoint must hold them:
     * multiples of 1/2048 and 1/1024 (exact in float for the 910 cells). */
    if (f == TF_TUMOR)
        return ((double)idx + 1024.0 * rec) / 2048.0;
    return f < TF_NFIELDS ? rec * 10000.0 + f * 1000.0 + (double)idx : (double)idx / 1024.0;
}

/* The global linear index of block cell (i, j, k). */
static long long global_index(const tf_grid *g, tf_index i, tf_index j, tf_index k)
{
    return (long long)(g->start[0] + i) +
           (long long)g->gn[0] * ((long long)(g->start[1] + j) +
                                  (long long)g->gn[1] * (long long)(g->start[2] + k));
}

/* Padded arrays of g's block with the values of record rec; ghosts GHOST. */
static void fill(to_state *st, int rec)
{
    const tf_grid *g = &st->g;
    for (tf_index p = 0; p < g->nalloc; ++p) {
        for (int f = 0; f < TF_NFIELDS; ++f)
            st->f[f][p] = GHOST;
        st->v[p] = GHOST;
    }
    for (tf_index k = 0; k < g->n[2]; ++k)
        for (tf_index j = 0; j < g->n[1]; ++j)
            for (tf_index i = 0; i < g->n[0]; ++i) {
                const long long q = global_index(g, i, j, k);
                for (int f = 0; f < TF_NFIELDS; ++f)
                    st->f[f][tf_at(g, i, j, k)] = (tf_real)cell_value(f, q, rec);
                st->v[tf_at(g, i, j, k)] = (tf_real)cell_value(TF_NFIELDS, q, rec);
            }
}

/* Every value of (z, y, x) variable `name` (record rec, or rec < 0 for a static one) in the
 * whole grid, as float: value `which` of record `want_rec`. */
static void check_var(int nc, const char *name, int rec, int which, int want_rec)
{
    int vid;
    if (nc_inq_varid(nc, name, &vid) != NC_NOERR) {
        fail_at(__LINE__, "output has no variable '%s'", name);
        return;
    }
    static float buf[NX * NY * NZ];
    size_t start[4] = {0, 0, 0, 0}, count[4] = {1, NZ, NY, NX};
    const int nt = rec >= 0;
    if (nt)
        start[0] = (size_t)rec;
    NC_MUST(nc_get_vara_float(nc, vid, start + !nt, count + !nt, buf));
    long bad = 0;
    for (long long q = 0; q < NX * NY * NZ; ++q) {
        const float want = (float)cell_value(which, q, want_rec);
        if (buf[q] != want && bad++ < 3)
            fail_at(__LINE__, "%s record %d cell %lld: file %.9g, want %.9g", name, rec, q,
                    (double)buf[q], (double)want);
    }
}

static char *text_att(int nc, int var, const char *name)
{
    size_t len = 0;
    if (nc_inq_attlen(nc, var, name, &len) != NC_NOERR)
        return NULL;
    char *s = calloc(len + 1, 1);
    if (s && nc_get_att_text(nc, var, name, s) != NC_NOERR) {
        free(s);
        return NULL;
    }
    return s;
}

static size_t count_lines(const char *s)
{
    size_t n = 1;
    for (; *s; ++s)
        n += *s == '\n';
    return n;
}

/* Rank 0: the output file written collectively, read back serially. rec_of[r]: the values
 * record r must hold. */
static void check_output(const char *path, const double *times, const int *rec_of, size_t nrec,
                         int compression, size_t history_lines)
{
    int nc;
    const int rc = nc_open(path, NC_NOWRITE, &nc);
    if (rc != NC_NOERR) {
        fail_at(__LINE__, "cannot open '%s': %s", path, nc_strerror(rc));
        return;
    }
    static const char *const dname[4] = {"time", "z", "y", "x"};
    const size_t want[4] = {nrec, NZ, NY, NX};
    for (int d = 0; d < 4; ++d) {
        int id;
        size_t len = 0;
        NC_MUST(nc_inq_dimid(nc, dname[d], &id));
        NC_MUST(nc_inq_dimlen(nc, id, &len));
        CHECK(len == want[d], "dimension %s: %zu, want %zu", dname[d], len, want[d]);
    }
    /* Coordinates: cell centres (i + 0.5) h, written by some ranks, every entry once. */
    for (int d = 0; d < 3; ++d) {
        const int n = d == 0 ? NX : d == 1 ? NY : NZ;
        double x[NX];
        int vid;
        NC_MUST(nc_inq_varid(nc, dname[3 - d], &vid));
        NC_MUST(nc_get_var_double(nc, vid, x));
        for (int i = 0; i < n; ++i)
            CHECK(x[i] == (i + 0.5) * H, "coordinate %s[%d] = %.17g, want %.17g", dname[3 - d],
                  i, x[i], (i + 0.5) * H);
    }
    int tid;
    double t[8];
    NC_MUST(nc_inq_varid(nc, "time", &tid));
    NC_MUST(nc_get_var_double(nc, tid, t));
    for (size_t r = 0; r < nrec; ++r)
        CHECK(t[r] == times[r], "time[%zu] = %.17g, want %.17g", r, t[r], times[r]);
    for (int f = 0; f < TF_NFIELDS; ++f) {
        int vid;
        if (f == SKIPPED) {
            CHECK(nc_inq_varid(nc, tf_field_name[f], &vid) == NC_ENOTVAR,
                  "'%s' is written but not selected", tf_field_name[f]);
            continue;
        }
        for (size_t r = 0; r < nrec; ++r)
            check_var(nc, tf_field_name[f], (int)r, f, rec_of[r]);
        int shuffle = -1, deflate = -1, level = -1;
        if (nc_inq_varid(nc, tf_field_name[f], &vid) == NC_NOERR)
            NC_MUST(nc_inq_var_deflate(nc, vid, &shuffle, &deflate, &level));
        CHECK(deflate == (compression > 0) && (!deflate || level == compression),
              "'%s': deflate %d level %d, want compression %d", tf_field_name[f], deflate,
              level, compression);
    }
    check_var(nc, "vessel", -1, TF_NFIELDS, 0);
    char *hist = text_att(nc, NC_GLOBAL, "history");
    char *scen = text_att(nc, NC_GLOBAL, "scenario");
    CHECK(hist && count_lines(hist) == history_lines && strstr(hist, "created by"),
          "history '%s': want %zu lines", hist ? hist : "(none)", history_lines);
    CHECK(history_lines == 1 || (hist && strstr(hist, "restarted at t = 10 min")),
          "history '%s' has no restart line", hist ? hist : "(none)");
    CHECK(scen && strcmp(scen, "[run]\nname = ptest\n") == 0, "scenario attribute '%s'",
          scen ? scen : "(none)");
    free(hist);
    free(scen);
    NC_MUST(nc_close(nc));
}

/* Every rank: the checkpoint read with the blocks of g, checked cell by cell. */
static void check_checkpoint(const char *path, const tf_grid *g, const tf_par *par,
                             const tf_checkpoint_info *want, const char *scenario)
{
    to_state st;
    to_state_init(&st, g);
    for (tf_index p = 0; p < g->nalloc; ++p) {
        for (int f = 0; f < TF_NFIELDS; ++f)
            st.f[f][p] = GHOST;
        st.v[p] = GHOST;
    }
    tf_checkpoint_info info;
    memset(&info, 0, sizeof info);
    const tf_status s = tf_checkpoint_read(path, g, st.f, st.v, &info);
    CHECK(s == TF_OK, "tf_checkpoint_read: %s: %s", tf_status_name(s), tf_error_message());
    /* The content checksums written by one process grid, summed over the blocks of another. */
    CHECK(info.have_stored, "checkpoint '%s' has no content checksums", path);
    const tf_status sv = tf_checkpoint_verify(path, par, &info);
    CHECK(sv == TF_OK, "tf_checkpoint_verify: %s: %s", tf_status_name(sv), tf_error_message());
    CHECK(info.step == want->step && info.t == want->t && info.drv.x == want->drv.x &&
              info.drv.z == want->drv.z && info.drv.L == want->drv.L,
          "checkpoint info: step %lld t %.17g drivers %.17g %.17g %.17g", info.step, info.t,
          info.drv.x, info.drv.z, info.drv.L);
    long bad = 0;
    for (tf_index k = -1; k <= g->n[2]; ++k)
        for (tf_index j = -1; j <= g->n[1]; ++j)
            for (tf_index i = -1; i <= g->n[0]; ++i) {
                const int ghost = i < 0 || j < 0 || k < 0 || i == g->n[0] || j == g->n[1] ||
                                  k == g->n[2];
                const long long q = ghost ? -1 : global_index(g, i, j, k);
                for (int f = 0; f <= TF_NFIELDS; ++f) {
                    const tf_real got = f < TF_NFIELDS ? st.f[f][tf_at(g, i, j, k)]
                                                       : st.v[tf_at(g, i, j, k)];
                    const tf_real w = ghost ? GHOST : (tf_real)cell_value(f, q, 1);
                    if (got != w && bad++ < 3)
                        fail_at(__LINE__, "checkpoint block (%lld,%lld,%lld) of start "
                                          "(%lld,%lld,%lld) variable %d: %.17g, want %.17g",
                                (long long)i, (long long)j, (long long)k,
                                (long long)g->start[0], (long long)g->start[1],
                                (long long)g->start[2], f, (double)got, (double)w);
                }
            }
    char *text = NULL;
    const tf_status s2 = tf_checkpoint_scenario(path, &text);
    CHECK(s2 == TF_OK && text && strcmp(text, scenario) == 0, "checkpoint scenario '%s'",
          text ? text : "(none)");
    free(text);
    to_state_free(&st);
}

/* A failing collective call: TF_ERR_IO on every rank, the same message everywhere, naming
 * `what`; no file `leftover` afterwards. */
static void check_failure(tf_status s, const char *what, const char *leftover, int line)
{
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char msg[2048];
    snprintf(msg, sizeof msg, "%s", tf_error_message());
    char *all = rank_ == 0 ? malloc((size_t)size * sizeof msg) : NULL;
    MPI_Gather(msg, (int)sizeof msg, MPI_CHAR, all, (int)sizeof msg, MPI_CHAR, 0,
               MPI_COMM_WORLD);
    if (s != TF_ERR_IO)
        fail_at(line, "status %s, want TF_ERR_IO (%s)", tf_status_name(s), msg);
    if (rank_ == 0) {
        if (!strstr(msg, what))
            fail_at(line, "message '%s' does not say '%s'", msg, what);
        for (int r = 1; r < size; ++r)
            if (strcmp(all + (size_t)r * sizeof msg, msg) != 0)
                fail_at(line, "rank %d says '%s', rank 0 '%s'", r, all + (size_t)r * sizeof msg,
                        msg);
        struct stat sb;
        if (leftover && stat(leftover, &sb) == 0)
            fail_at(line, "'%s' is left behind", leftover);
        printf("failure on every rank: %s\n", msg);
    }
    free(all);
    tf_error_clear();
    MPI_Barrier(MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
    if (!tf_par_init(&argc, &argv)) {
        fprintf(stderr, "test_parallel_io: MPI did not start\n");
        return 1;
    }
    int size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc != 8) {
        fprintf(stderr, "usage: test_parallel_io WX WY WZ RX RY RZ COMPRESSION\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    int wantw[3], wantr[3];
    for (int d = 0; d < 3; ++d) {
        wantw[d] = atoi(argv[1 + d]);
        wantr[d] = atoi(argv[4 + d]);
    }
    const int compression = atoi(argv[7]);
    const int periodic[3] = {0, 0, 0};

    char dir[512];
    if (rank_ == 0)
        to_tmpdir(dir, sizeof dir);
    MPI_Bcast(dir, (int)sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    char out[1024], chk[1024], tmp[1100];
    snprintf(out, sizeof out, "%s/ptest.nc", dir);
    snprintf(chk, sizeof chk, "%s/ptest.chk.nc", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", chk);

    tf_scenario s;
    to_scenario(&s, NX, NY, NZ, H);
    s.compression = compression;
    s.fields_mask &= ~(1u << SKIPPED);
    const char *scenario = "[run]\nname = ptest\n";

    /* ---- write: two records, the second through the writer without a thread ---- */
    tf_grid g;
    tf_par par;
    MUST(tf_grid_init(&g, NX, NY, NZ, H));
    MUST(tf_par_decompose(&par, &g, wantw, periodic));
    to_state r0, r1;
    to_state_init(&r0, &g);
    to_state_init(&r1, &g);
    fill(&r0, 0);
    fill(&r1, 1);
    tf_ncout *o;
    MUST(tf_ncout_create(&o, out, &s, &g, &par, scenario, r0.v));
    MUST(tf_ncout_write(o, 10.0, r0.f));
    tf_writer *w;
    MUST(tf_writer_start(&w, o, 0));
    MUST(tf_writer_submit(w, 20.0, r1.f));
    CHECK(!tf_writer_holds(w, r1.f), "the writer without a thread holds the arrays");
    MUST(tf_writer_wait(w));
    double wsec;
    long long wrec;
    tf_writer_collect(w, &wsec, &wrec);
    CHECK(wrec == 1 && wsec >= 0.0, "writer collect: %lld records in %g s", wrec, wsec);
    MUST(tf_writer_stop(w));
    CHECK(tf_ncout_records(o) == 2, "%zu records, want 2", tf_ncout_records(o));
    MUST(tf_ncout_close(o));
    const tf_checkpoint_info info = {.step = 42, .t = 20.0, .drv = {0.25, 0.125, 3.5}};
    MUST(tf_checkpoint_write(chk, &g, &par, r1.f, r1.v, &info, scenario));
    {
        struct stat sb;
        CHECK(stat(tmp, &sb) != 0, "'%s' is left behind", tmp);
    }
    if (rank_ == 0) {
        const double times[2] = {10.0, 20.0};
        const int rec_of[2] = {0, 1};
        check_output(out, times, rec_of, 2, compression, 1);
    }
    MPI_Barrier(MPI_COMM_WORLD);

    /* ---- read back on another process grid ---- */
    tf_grid g2;
    tf_par par2;
    MUST(tf_grid_init(&g2, NX, NY, NZ, H));
    MUST(tf_par_decompose(&par2, &g2, wantr, periodic));
    CHECK(memcmp(par.dims, par2.dims, sizeof par.dims) != 0,
          "read-back process grid %dx%dx%d is the written one", par2.dims[0], par2.dims[1],
          par2.dims[2]);
    double cells = (double)g2.ncells;
    MPI_Allreduce(MPI_IN_PLACE, &cells, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    CHECK(cells == NX * NY * NZ, "read-back blocks hold %g cells", cells);
    check_checkpoint(chk, &g2, &par2, &info, scenario);

    /* Restart at the first record's time on the other process grid: record 1 is rewritten. */
    to_state r2;
    to_state_init(&r2, &g2);
    fill(&r2, 2);
    MUST(tf_ncout_reopen(&o, out, &s, &g2, &par2, 10.0, -1.0));
    CHECK(tf_ncout_records(o) == 1, "restart at t = 10 keeps %zu records, want 1",
          tf_ncout_records(o));
    MUST(tf_ncout_write(o, 20.0, r2.f));
    MUST(tf_ncout_close(o));
    if (rank_ == 0) {
        const double times[2] = {10.0, 20.0};
        const int rec_of[2] = {0, 2};
        check_output(out, times, rec_of, 2, compression, 2);
    }
    MPI_Barrier(MPI_COMM_WORLD);

    /* ---- failures: the same error on every rank, nothing left behind ---- */
    char bad[1200], badtmp[1300];
    tf_error_clear();
    snprintf(bad, sizeof bad, "%s/missing/ptest.chk.nc", dir);
    snprintf(badtmp, sizeof badtmp, "%s.tmp", bad);
    check_failure(tf_checkpoint_write(bad, &g, &par, r1.f, r1.v, &info, scenario),
                  "cannot create checkpoint", badtmp, __LINE__);
    /* The target is a directory: the file is written, the rename fails, the .tmp goes. */
    snprintf(bad, sizeof bad, "%s/isdir.chk.nc", dir);
    snprintf(badtmp, sizeof badtmp, "%s.tmp", bad);
    if (rank_ == 0 && mkdir(bad, 0755) != 0)
        fail_at(__LINE__, "cannot make directory '%s'", bad);
    MPI_Barrier(MPI_COMM_WORLD);
    check_failure(tf_checkpoint_write(bad, &g, &par, r1.f, r1.v, &info, scenario),
                  "cannot rename", badtmp, __LINE__);
    snprintf(bad, sizeof bad, "%s/missing/ptest.nc", dir);
    check_failure(tf_ncout_create(&o, bad, &s, &g, &par, scenario, r0.v),
                  "cannot create NetCDF output", bad, __LINE__);
    CHECK(o == NULL, "a failed create returns a writer");
    check_failure(tf_ncout_reopen(&o, bad, &s, &g, &par, 10.0, -1.0), "cannot reopen NetCDF output",
                  NULL, __LINE__);
    /* The ranks are still in step: a checkpoint goes through (over the previous one). */
    MUST(tf_checkpoint_write(chk, &g, &par, r1.f, r1.v, &info, scenario));
    check_checkpoint(chk, &g2, &par2, &info, scenario);

    to_state_free(&r0);
    to_state_free(&r1);
    to_state_free(&r2);
    MPI_Barrier(MPI_COMM_WORLD); /* every rank is done with the files */
    if (rank_ == 0) {
        remove(out);
        remove(chk);
        snprintf(bad, sizeof bad, "%s/isdir.chk.nc", dir);
        rmdir(bad);
        if (rmdir(dir) != 0)
            fail_at(__LINE__, "scratch directory '%s' holds more than the test wrote", dir);
    }
    MPI_Allreduce(MPI_IN_PLACE, &failures, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (rank_ == 0) {
        printf("test_parallel_io: %d ranks, written as %dx%dx%d, read as %dx%dx%d, "
               "compression %d: %s (%ld failed checks)\n",
               size, par.dims[0], par.dims[1], par.dims[2], par2.dims[0], par2.dims[1],
               par2.dims[2], compression, failures ? "FAILED" : "ok", failures);
    }
    tf_par_free(&par2);
    tf_par_free(&par);
    tf_par_finalize(0);
    return failures ? 1 : 0;
}
