/* ncout.c: the CF-1.10 NetCDF field output NAME.nc (docs/output.md).
 *
 * netCDF-4 file with dimensions time (unlimited), z, y, x; coordinate variables of the cell
 * centres in um and of time in minutes; one NC_FLOAT variable per selected field over
 * (time, z, y, x) and the vessel map over (z, y, x). The writer knows the global shape and
 * writes only its local block (start, count), so a domain decomposition needs no change here.
 * Every record is synced to disk before tf_ncout_write returns.
 *
 * A write that fails half way leaves an HDF5 file that neither reads nor closes cleanly, so
 * before each record (and before the header of a new or reopened file) the writer checks that
 * the file size limit (ulimit -f) and the free disk space leave room for it, and refuses the
 * record (TF_ERR_IO) while the file still holds every record written so far.
 *
 * Parallel runs (a tf_par of more than one rank, MPI builds): all ranks open the one file
 * together (nc_create_par / nc_open_par) and every variable is written with collective access,
 * which parallel HDF5 needs to extend the time dimension and to deflate chunks. Each rank
 * writes its block of a variable in one nc_put_vara call (so every rank makes the same calls);
 * the coordinate of a line of blocks and the time value are written by one rank while the
 * others pass a zero count. Rank 0 alone judges the room on disk. After every step that can
 * fail the ranks agree on the status (tf_par_agree), so all of them return the same status
 * and no rank enters a collective call that another has left. */
#define _POSIX_C_SOURCE 200809L
#include "tf_io.h"
#include "tf_par_mpi.h"

#ifdef TF_HAVE_MPI
#include <netcdf_par.h>
#endif

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* Largest chunk, in values: one record of a field is one chunk up to this size, beyond it a
 * chunk holds fewer z planes (and, for planes above the cap, fewer y rows). */
#define NC_CHUNK_MAX ((size_t)1 << 20)

struct tf_ncout {
    int ncid;
    char path[TF_PATH_MAX];
    tf_grid g;                 /* global shape and local block */
    tf_par par;                /* the ranks sharing the file (size 1: a serial file) */
    unsigned mask;             /* fields written */
    int varid[TF_NFIELDS];     /* -1 for fields not written */
    int time_varid;
    size_t nrec;               /* index of the next record */
    double last_t;             /* time of record nrec - 1; NAN when there is none */
    size_t chunk[3];           /* chunk extent in z, y, x */
    int creating;              /* tf_ncout_create is writing PATH.tmp (no earlier records) */
    double record_bytes;       /* upper bound of what one record adds to the file */
    double header_bytes;       /* upper bound of the definitions and the vessel map */
    float *buf;                /* serial: one z slab of the local block, chunk[0] * n[1] * n[0];
                                  parallel: the whole block, n[2] * n[1] * n[0] */
};

static const char *const axis_name[3] = {"x", "y", "z"};

/* The decomposition of par, or one rank holding the whole grid when par is NULL. */
static tf_par ranks_of(const tf_par *par)
{
    tf_par p;
    if (par)
        return *par;
    memset(&p, 0, sizeof p);
    p.size = 1;
    for (int d = 0; d < 3; ++d)
        p.dims[d] = 1;
    for (int f = 0; f < TF_NFACES; ++f)
        p.nbr[f] = -1;
    p.node_size = 1;
    return p;
}

static int is_parallel(const tf_par *par) { return par && par->size > 1; }

#ifdef TF_HAVE_MPI
/* Collective. NetCDF gets a plain copy of the run's communicator (the same ranks in the same
 * order, without the Cartesian topology): Open MPI's MPI-IO (OMPIO, its default) groups the
 * writers of a Cartesian communicator by its topology and then loses parts of collective
 * writes (open-mpi/ompi#12718; with Open MPI 4.1.4, 4 of 10 runs of tests/test_parallel_io.c
 * on 4 ranks read back zeros). NetCDF duplicates the communicator it is given, so the copy is
 * freed once the file is open. */
static int par_file(const char *path, int mode, const tf_par *par, int *ncid, int create)
{
    MPI_Comm flat;
    if (MPI_Comm_split(tf_par_comm(par), 0, par->rank, &flat) != MPI_SUCCESS)
        return NC_EMPI;
    const int rc = create ? nc_create_par(path, mode, flat, MPI_INFO_NULL, ncid)
                          : nc_open_par(path, mode, flat, MPI_INFO_NULL, ncid);
    MPI_Comm_free(&flat);
    return rc;
}
#endif

int tf_nc_create(const char *path, int cmode, const tf_par *par, int *ncid)
{
    if (!is_parallel(par))
        return nc_create(path, cmode, ncid);
#ifdef TF_HAVE_MPI
    return par_file(path, cmode, par, ncid, 1);
#else
    return NC_ENOPAR;
#endif
}

int tf_nc_open(const char *path, int mode, const tf_par *par, int *ncid)
{
    if (!is_parallel(par))
        return nc_open(path, mode, ncid);
#ifdef TF_HAVE_MPI
    return par_file(path, mode, par, ncid, 0);
#else
    return NC_ENOPAR;
#endif
}

static int close_failed;

int tf_nc_close(int ncid)
{
    const int rc = nc_close(ncid);
    close_failed |= rc != NC_NOERR;
    return rc;
}

int tf_nc_close_failed(void) { return close_failed; }

int tf_nc_collective(int ncid, int varid, const tf_par *par)
{
    if (!is_parallel(par))
        return NC_NOERR;
#ifdef TF_HAVE_MPI
    return nc_var_par_access(ncid, varid, NC_COLLECTIVE);
#else
    (void)ncid;
    (void)varid;
    return NC_ENOPAR;
#endif
}

/* The status of a step, the same on every rank of o's file. */
static tf_status agree(const tf_ncout *o, tf_status st) { return tf_par_agree(&o->par, st); }

void tf_nc_chunk_shape(const tf_grid *g, size_t c[3])
{
    const size_t nx = (size_t)g->gn[0], ny = (size_t)g->gn[1], nz = (size_t)g->gn[2];
    c[2] = nx;
    if (nx * ny <= NC_CHUNK_MAX) {
        c[1] = ny;
        c[0] = NC_CHUNK_MAX / (nx * ny);
        c[0] = c[0] < 1 ? 1 : (c[0] > nz ? nz : c[0]);
    } else {
        c[0] = 1;
        c[1] = NC_CHUNK_MAX / nx;
        c[1] = c[1] < 1 ? 1 : (c[1] > ny ? ny : c[1]);
    }
}

static tf_status ncout_alloc(tf_ncout **out, const char *path, const tf_scenario *s,
                             const tf_grid *g, const tf_par *par)
{
    *out = NULL;
    if (strlen(path) >= TF_PATH_MAX)
        return TF_ERROR(TF_ERR_USAGE, "output path '%s' is longer than %d characters", path,
                        TF_PATH_MAX - 1);
    tf_ncout *o = calloc(1, sizeof *o);
    if (!o)
        return TF_ERROR(TF_ERR_NOMEM, "cannot allocate the NetCDF writer");
    o->last_t = NAN;
    o->ncid = -1;
    snprintf(o->path, sizeof o->path, "%s", path);
    o->g = *g;
    o->par = *par;
    o->mask = s->fields_mask & ((1u << TF_NFIELDS) - 1);
    for (int f = 0; f < TF_NFIELDS; ++f)
        o->varid[f] = -1;
    tf_nc_chunk_shape(g, o->chunk);
    /* Chunks are allocated whole, edges included, at most at their uncompressed size; the
     * slack covers the chunk index, the time chunk and attribute changes. */
    const double chunks = ceil((double)g->gn[2] / (double)o->chunk[0]) *
                          ceil((double)g->gn[1] / (double)o->chunk[1]);
    const double field_bytes = chunks * (double)(o->chunk[0] * o->chunk[1] * o->chunk[2]) * 4.0;
    int nsel = 0;
    for (int f = 0; f < TF_NFIELDS; ++f)
        nsel += (o->mask >> f) & 1u;
    o->record_bytes = nsel * field_bytes * 1.01 + nsel * chunks * 512.0 + 65536.0;
    o->header_bytes = field_bytes * 1.01 + chunks * 512.0 + 65536.0 +
                      (double)(g->gn[0] + g->gn[1] + g->gn[2]) * 8.0 + 16384.0 * TF_NFIELDS;
    const size_t nbuf = (is_parallel(par) ? (size_t)g->n[2] : o->chunk[0]) * (size_t)g->n[1] *
                        (size_t)g->n[0];
    o->buf = malloc(nbuf * sizeof *o->buf);
    if (!o->buf) {
        free(o);
        return TF_ERROR(TF_ERR_NOMEM, "cannot allocate a NetCDF write buffer of %zu floats",
                        nbuf);
    }
    *out = o;
    return TF_OK;
}

/* Collective in parallel while the file is open: every rank must be on its way out. */
static void ncout_free(tf_ncout *o)
{
    if (!o)
        return;
    if (o->ncid >= 0)
        tf_nc_close(o->ncid);
    free(o->buf);
    free(o);
}

static tf_status put_text(int ncid, int varid, const char *name, const char *text,
                          const char *path)
{
    TF_NC(nc_put_att_text(ncid, varid, name, strlen(text), text), path);
    return TF_OK;
}

/* Collective. The time of day of rank 0, so that every rank writes the same history. */
static void utc_now(const tf_par *par, char *buf, size_t len)
{
    const time_t now = time(NULL);
    const struct tm *tm = gmtime(&now);
    if (!tm || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", tm))
        snprintf(buf, len, "unknown time");
    tf_par_bcast(par, buf, len, 0);
}

/* Write the padded local array `a` (rec: record index, or -1 for a (z, y, x) variable),
 * converting to float: serially in z slabs that follow the chunk boundaries, in parallel in
 * one collective call for the whole block. */
static tf_status put_block(tf_ncout *o, int varid, long long rec, const tf_real *a)
{
    const tf_grid *g = &o->g;
    const int nt = rec >= 0;
    size_t start[4], count[4];
    if (nt) {
        start[0] = (size_t)rec;
        count[0] = 1;
    }
    size_t *st = start + nt, *ct = count + nt;
    st[1] = (size_t)g->start[1];
    st[2] = (size_t)g->start[0];
    ct[1] = (size_t)g->n[1];
    ct[2] = (size_t)g->n[0];
    const tf_index k_end = g->start[2] + g->n[2];
    for (tf_index kg = g->start[2]; kg < k_end;) {
        tf_index kn = (kg / (tf_index)o->chunk[0] + 1) * (tf_index)o->chunk[0];
        kn = kn < k_end && !is_parallel(&o->par) ? kn : k_end;
        size_t q = 0;
        for (tf_index k = kg - g->start[2]; k < kn - g->start[2]; ++k)
            for (tf_index j = 0; j < g->n[1]; ++j) {
                const tf_real *row = a + tf_at(g, 0, j, k);
                for (tf_index i = 0; i < g->n[0]; ++i)
                    o->buf[q++] = (float)row[i];
            }
        st[0] = (size_t)kg;
        ct[0] = (size_t)(kn - kg);
        TF_NC(nc_put_vara_float(o->ncid, varid, start, count, o->buf), o->path);
        kg = kn;
    }
    return TF_OK;
}

static void human_bytes(double b, char *buf, size_t len)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024.0 && u < 4) {
        b /= 1024.0;
        ++u;
    }
    snprintf(buf, len, "%.4g %s", b, unit[u]);
}

const char *tf_file_kind(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || S_ISREG(sb.st_mode))
        return NULL;
    return S_ISDIR(sb.st_mode)                             ? "a directory"
           : S_ISFIFO(sb.st_mode)                          ? "a FIFO (named pipe)"
           : S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? "a device"
           : S_ISSOCK(sb.st_mode)                          ? "a socket"
                                                           : "not a regular file";
}

tf_status tf_regular_file(const char *path, const char *kind)
{
    const char *what = tf_file_kind(path);
    if (!what)
        return TF_OK;
    return TF_ERROR(TF_ERR_USAGE, "%s '%s' is %s: give a regular file (NetCDF files are read "
                                  "and written in place, which a pipe or device cannot be)",
                    kind, path, what);
}

tf_status tf_output_in_the_way(const char *action, const char *path)
{
    const char *what = tf_file_kind(path);
    if (!what)
        return TF_OK;
    return TF_ERROR(TF_ERR_IO, "cannot %s '%s': it is %s (move it out of the way or choose "
                               "another run.name)", action, path, what);
}

tf_status tf_file_room(const char *path, const char *kind, const char *what, double need,
                       const char *kept)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return TF_ERROR(TF_ERR_IO, "cannot stat %s '%s': %s (was its directory moved or "
                                   "removed during the run?)",
                        kind, path, strerror(errno));
    const double size = (double)sb.st_size;
    char a[32], b[32], c[32];
    human_bytes(need, a, sizeof a);
    human_bytes(size, c, sizeof c);
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        size + need > (double)rl.rlim_cur) {
        human_bytes((double)rl.rlim_cur, b, sizeof b);
        return TF_ERROR(TF_ERR_IO,
                        "cannot write %s to %s '%s': it needs up to %s more, and the file (%s) "
                        "would pass the file size limit (ulimit -f) of %s; %s",
                        what, kind, path, a, c, b, kept);
    }
    struct statvfs fs;
    if (statvfs(path, &fs) == 0) {
        const double avail = (double)fs.f_bavail * (double)fs.f_frsize;
        if (need > avail) {
            human_bytes(avail, b, sizeof b);
            return TF_ERROR(TF_ERR_IO,
                            "cannot write %s to %s '%s': disk full (it needs up to %s, %s "
                            "free); %s",
                            what, kind, path, a, b, kept);
        }
    }
    return TF_OK;
}

/* TF_ERR_IO, naming the numbers, unless the output can take `need` more bytes. Rank 0 looks;
 * room() below makes it the verdict of every rank. */
static tf_status check_room(const tf_ncout *o, double need, const char *what)
{
    return tf_file_room(o->path, "NetCDF output", what, need,
                        o->creating ? "an earlier run's file of this name stays as it was"
                                    : "the file keeps the records written so far");
}

/* Collective. check_room of rank 0, agreed by all. */
static tf_status room(const tf_ncout *o, double need, const char *what)
{
    return agree(o, o->par.rank == 0 ? check_room(o, need, what) : TF_OK);
}

/* Collective. Write the time value of record rec: rank 0 writes it, the others a zero count. */
static tf_status put_time(tf_ncout *o, size_t rec, double t)
{
    const size_t count = o->par.rank == 0 ? 1 : 0;
    TF_NC(nc_put_vara_double(o->ncid, o->time_varid, &rec, &count, &t), o->path);
    return TF_OK;
}

/* Collective. Write this block's part of coordinate variable d (cell centres
 * ((start + i) + 0.5) h): the blocks at coordinate 0 of the other two directions write it,
 * the others pass a zero count. */
static tf_status put_coord(tf_ncout *o, int d, int varid, double *x)
{
    const tf_grid *g = &o->g;
    const int d1 = (d + 1) % 3, d2 = (d + 2) % 3;
    const int mine = o->par.coords[d1] == 0 && o->par.coords[d2] == 0;
    const size_t n = mine ? (size_t)g->n[d] : 0, st = (size_t)g->start[d];
    for (size_t i = 0; i < n; ++i)
        x[i] = ((double)(st + i) + 0.5) * g->h;
    TF_NC(nc_put_vara_double(o->ncid, varid, &st, &n, x), o->path);
    return TF_OK;
}

/* Define the whole file (local to each rank until nc_enddef; every rank defines the same):
 * global attributes with history line `when`, dimensions, variables (collective access in
 * parallel). vid[0..2]: the coordinate variables x, y, z; vid[3]: the vessel map. */
static tf_status define_vars(tf_ncout *o, const tf_scenario *s, const char *effective,
                             const char *when, int vid[4])
{
    const int nc = o->ncid;
    const char *path = o->path;
    const tf_grid *g = &o->g;
    char text[512];

    /* Global attributes. */
    TF_TRY(put_text(nc, NC_GLOBAL, "Conventions", "CF-1.10", path));
    snprintf(text, sizeof text, "TumorField run %s", s->name[0] ? s->name : "(unnamed)");
    TF_TRY(put_text(nc, NC_GLOBAL, "title", text, path));
    TF_TRY(put_text(nc, NC_GLOBAL, "source", "TumorField " TF_VERSION_STRING, path));
    snprintf(text, sizeof text, "%s: created by TumorField %s", when, TF_VERSION_STRING);
    TF_TRY(put_text(nc, NC_GLOBAL, "history", text, path));
    TF_TRY(put_text(nc, NC_GLOBAL, "comment",
                    "Tumor microenvironment reaction-diffusion fields on a uniform cell-centred "
                    "grid; the scenario attribute holds the effective scenario of the run.",
                    path));
    TF_TRY(put_text(nc, NC_GLOBAL, "tumorfield_version", TF_VERSION_STRING, path));
    TF_TRY(put_text(nc, NC_GLOBAL, "tumorfield_commit", tf_build_commit, path));
    TF_TRY(put_text(nc, NC_GLOBAL, "tumorfield_precision", TF_REAL_NAME, path));
    /* How many processes made the file: a file one process made cannot be continued by
     * several (check_layout). */
    const int nproc = is_parallel(&o->par) ? o->par.size : 1;
    TF_NC(nc_put_att_int(nc, NC_GLOBAL, "tumorfield_processes", NC_INT, 1, &nproc), path);
    TF_TRY(put_text(nc, NC_GLOBAL, "scenario", effective ? effective : "", path));

    /* Dimensions and coordinates; the dimension order of every variable is (time, z, y, x). */
    int dim_t, dim_sp[3]; /* dim_sp: x, y, z */
    TF_NC(nc_def_dim(nc, "time", NC_UNLIMITED, &dim_t), path);
    for (int d = 2; d >= 0; --d)
        TF_NC(nc_def_dim(nc, axis_name[d], (size_t)g->gn[d], &dim_sp[d]), path);
    const int dims4[4] = {dim_t, dim_sp[2], dim_sp[1], dim_sp[0]};

    /* No standard_name for the axes: CF's projection_x/y_coordinate are map-projection axes (a
     * tissue block has none) and there is no projection_z_coordinate. z is vertical (axis Z):
     * CF 4.3 asks for `positive` with a length unit. */
    static const char *const axis_attr[3] = {"X", "Y", "Z"};
    for (int d = 0; d < 3; ++d) {
        TF_NC(nc_def_var(nc, axis_name[d], NC_DOUBLE, 1, &dim_sp[d], &vid[d]), path);
        TF_NC(tf_nc_collective(nc, vid[d], &o->par), path);
        TF_TRY(put_text(nc, vid[d], "units", "um", path));
        TF_TRY(put_text(nc, vid[d], "axis", axis_attr[d], path));
        if (d == 2)
            TF_TRY(put_text(nc, vid[d], "positive", "up", path));
        snprintf(text, sizeof text, "%s of the cell centre", axis_name[d]);
        TF_TRY(put_text(nc, vid[d], "long_name", text, path));
    }
    TF_NC(nc_def_var(nc, "time", NC_DOUBLE, 1, &dim_t, &o->time_varid), path);
    TF_NC(tf_nc_collective(nc, o->time_varid, &o->par), path);
    TF_TRY(put_text(nc, o->time_varid, "units", TF_NC_TIME_UNITS, path));
    TF_TRY(put_text(nc, o->time_varid, "axis", "T", path));
    TF_TRY(put_text(nc, o->time_varid, "standard_name", "time", path));
    TF_TRY(put_text(nc, o->time_varid, "long_name", "time since the start of the run", path));
    TF_TRY(put_text(nc, o->time_varid, "calendar", "standard", path));

    /* Fields: one record per chunk up to NC_CHUNK_MAX values, no fill values. */
    const size_t chunk4[4] = {1, o->chunk[0], o->chunk[1], o->chunk[2]};
    for (int f = 0; f < TF_NFIELDS; ++f) {
        if (!(o->mask & (1u << f)))
            continue;
        TF_NC(nc_def_var(nc, tf_field_name[f], NC_FLOAT, 4, dims4, &o->varid[f]), path);
        TF_NC(nc_def_var_chunking(nc, o->varid[f], NC_CHUNKED, chunk4), path);
        TF_NC(nc_def_var_fill(nc, o->varid[f], NC_NOFILL, NULL), path);
        if (s->compression > 0)
            TF_NC(nc_def_var_deflate(nc, o->varid[f], 1, 1, s->compression), path);
        TF_NC(tf_nc_collective(nc, o->varid[f], &o->par), path);
        TF_TRY(put_text(nc, o->varid[f], "units", tf_field_units[f], path));
        TF_TRY(put_text(nc, o->varid[f], "long_name", tf_field_long_name[f], path));
    }
    TF_NC(nc_def_var(nc, "vessel", NC_FLOAT, 3, dims4 + 1, &vid[3]), path);
    TF_NC(nc_def_var_chunking(nc, vid[3], NC_CHUNKED, chunk4 + 1), path);
    TF_NC(nc_def_var_fill(nc, vid[3], NC_NOFILL, NULL), path);
    if (s->compression > 0)
        TF_NC(nc_def_var_deflate(nc, vid[3], 1, 1, s->compression), path);
    TF_NC(tf_nc_collective(nc, vid[3], &o->par), path);
    TF_TRY(put_text(nc, vid[3], "units", "1", path));
    TF_TRY(put_text(nc, vid[3], "long_name", "local vascular density", path));
    return TF_OK;
}

static tf_status nc_step(tf_ncout *o, int rc, const char *call)
{
    if (rc != NC_NOERR)
        return TF_ERROR(TF_ERR_IO, "NetCDF: %s on '%s': %s", call, o->path, nc_strerror(rc));
    return TF_OK;
}

/* Collective. Define the whole file and write the coordinates and the vessel map of the local
 * block. */
static tf_status define_file(tf_ncout *o, const tf_scenario *s, const char *effective,
                             const tf_real *vessel)
{
    const tf_grid *g = &o->g;
    char when[64];
    TF_TRY(room(o, o->header_bytes + (effective ? (double)strlen(effective) : 0.0),
                "the header and the vessel map"));
    utc_now(&o->par, when, sizeof when);
    int vid[4];
    TF_TRY(agree(o, define_vars(o, s, effective, when, vid)));
    TF_TRY(agree(o, nc_step(o, nc_enddef(o->ncid), "nc_enddef(nc)")));

    const size_t nmax = (size_t)(g->n[0] > g->n[1] ? (g->n[0] > g->n[2] ? g->n[0] : g->n[2])
                                                   : (g->n[1] > g->n[2] ? g->n[1] : g->n[2]));
    double *x = malloc(nmax * sizeof *x);
    TF_TRY(agree(o, x ? TF_OK
                      : TF_ERROR(TF_ERR_NOMEM, "cannot allocate %zu coordinates", nmax)));
    tf_status st = TF_OK;
    for (int d = 0; d < 3 && st == TF_OK; ++d)
        st = agree(o, put_coord(o, d, vid[d], x));
    free(x);
    TF_TRY(st);
    TF_TRY(agree(o, put_block(o, vid[3], -1, vessel)));
    return agree(o, nc_step(o, nc_sync(o->ncid), "nc_sync(nc)"));
}

/* Whether the file system of the directory of `path` has no block left for us. */
static int dir_full(const char *path)
{
    char dir[TF_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    struct statvfs vs;
    return statvfs(dir, &vs) == 0 && vs.f_bavail == 0;
}

/* Collective. Create or open o->path; on a failure every rank returns it. A rank that opened
 * the file while another could not leaves it open: closing is collective, and the others
 * are not there to join it. */
static tf_status open_file(tf_ncout *o, int create)
{
    const int rc = create ? tf_nc_create(o->path, NC_NETCDF4 | NC_CLOBBER, &o->par, &o->ncid)
                          : tf_nc_open(o->path, NC_WRITE, &o->par, &o->ncid);
    tf_status st = rc == NC_NOERR ? TF_OK
                   : tf_output_in_the_way(create ? "create NetCDF output" : "reopen NetCDF output",
                                          o->path);
    if (st != TF_OK) {
        o->ncid = -1;
    } else if (rc != NC_NOERR && create && dir_full(o->path)) {
        /* HDF5 reports a full file system at creation as a permission error. */
        o->ncid = -1;
        st = TF_ERROR(TF_ERR_IO, "cannot create NetCDF output '%s': no space left on the file "
                                 "system of its directory (NetCDF says: %s)",
                      o->path, nc_strerror(rc));
    } else if (rc != NC_NOERR) {
        o->ncid = -1;
        st = create ? TF_ERROR(TF_ERR_IO,
                               "cannot create NetCDF output '%s': %s (check that its directory "
                               "exists and is writable, and that no other program has the file "
                               "open)",
                               o->path, nc_strerror(rc))
                    : TF_ERROR(TF_ERR_IO,
                               "cannot reopen NetCDF output '%s' for the restart: %s (check that "
                               "no other program, a Python or ParaView session, has the file "
                               "open, and that it is whole: a damaged file cannot be continued)",
                               o->path, nc_strerror(rc));
    }
    st = agree(o, st);
    if (st != TF_OK && o->ncid >= 0 && is_parallel(&o->par))
        o->ncid = -1; /* left open, see above */
    return st;
}

/* Collective. The start of create and reopen: check par, allocate, agree. */
static tf_status start_file(tf_ncout **out, const char *path, const tf_scenario *s,
                            const tf_grid *g, const tf_par *par)
{
    tf_par p = ranks_of(par);
    tf_status st = TF_OK;
#ifndef TF_HAVE_MPI
    if (is_parallel(&p))
        return TF_ERROR(TF_ERR_INTERNAL, "NetCDF output over %d ranks in a build without MPI",
                        p.size);
#endif
    st = tf_par_agree(&p, ncout_alloc(out, path, s, g, &p));
    if (st != TF_OK) {
        ncout_free(*out); /* no file open yet */
        *out = NULL;
    }
    return st;
}

tf_status tf_ncout_create(tf_ncout **out, const char *path, const tf_scenario *s,
                          const tf_grid *g, const tf_par *par, const char *effective,
                          const tf_real *vessel)
{
    *out = NULL;
    if (s->compression < 0 || s->compression > 9) {
        const tf_par p = ranks_of(par);
        return tf_par_agree(&p, TF_ERROR(TF_ERR_USAGE, "output.compression = %d: expected 0 "
                                                       "to 9", s->compression));
    }
    tf_ncout *o;
    TF_TRY(start_file(&o, path, s, g, par));
    /* Made as PATH.tmp and renamed over PATH once its header, coordinates and vessel map are
     * written: a run that fails before (a full disk, a file size limit) leaves an earlier
     * run's file whole. */
    const int root = o->par.rank == 0;
    tf_status st = root ? tf_output_in_the_way("create NetCDF output", path) : TF_OK;
    if (st == TF_OK && snprintf(o->path, sizeof o->path, "%s.tmp", path) >= (int)sizeof o->path)
        st = TF_ERROR(TF_ERR_USAGE, "output path '%s' is too long", path);
    st = agree(o, st);
    o->creating = 1;
    if (st == TF_OK)
        st = open_file(o, 1);
    if (st == TF_OK)
        st = define_file(o, s, effective, vessel);
    o->creating = 0;
    if (st == TF_OK)
        st = agree(o, root && rename(o->path, path) != 0
                          ? TF_ERROR(TF_ERR_IO, "cannot rename '%s' to '%s': %s", o->path, path,
                                     strerror(errno))
                          : TF_OK);
    if (st != TF_OK && root && strcmp(o->path, path) != 0)
        unlink(o->path);
    snprintf(o->path, sizeof o->path, "%s", path);
    if (st != TF_OK) {
        ncout_free(o);
        return st;
    }
    *out = o;
    return TF_OK;
}

/* One process lays out a variable's storage as it writes it; parallel HDF5 needs it laid out
 * when the variable is defined, and hangs or fails writing to such a file: a file one process
 * made takes records from one process only. */
static tf_status writers_fit(int nc, const char *path, int nproc)
{
    int made_by = 1;
    if (nc_get_att_int(nc, NC_GLOBAL, "tumorfield_processes", &made_by) != NC_NOERR)
        made_by = 1;
    if (nproc > 1 && made_by <= 1)
        return TF_ERROR(TF_ERR_USAGE,
                        "'%s' was written by one process, and several processes cannot add "
                        "records to it (parallel netCDF-4 needs the storage of its variables "
                        "laid out when they are defined): continue this run on one process; "
                        "its checkpoint restarts on any number, its NetCDF file only on one or "
                        "on several if several made it",
                        path);
    return TF_OK;
}

tf_status tf_ncout_continuable(const char *path, int nproc)
{
    int nc;
    const int rc = nc_open(path, NC_NOWRITE, &nc);
    if (rc != NC_NOERR)
        return TF_ERROR(TF_ERR_IO, "cannot reopen NetCDF output '%s' for the restart: %s", path,
                        nc_strerror(rc));
    const tf_status st = writers_fit(nc, path, nproc);
    nc_close(nc);
    return st;
}

/* Check that the open file has the layout tf_ncout_create gives for this grid and these
 * fields; TF_ERR_USAGE naming the first difference. */
static tf_status check_layout(tf_ncout *o)
{
    const int nc = o->ncid;
    const char *path = o->path;
    const tf_grid *g = &o->g;
    int format;
    TF_NC(nc_inq_format(nc, &format), path);
    if (format != NC_FORMAT_NETCDF4)
        return TF_ERROR(TF_ERR_USAGE, "'%s' is not a netCDF-4 file written by TumorField", path);
    TF_TRY(writers_fit(nc, path, is_parallel(&o->par) ? o->par.size : 1));

    static const char *const dname[4] = {"time", "z", "y", "x"};
    const size_t want[4] = {0, (size_t)g->gn[2], (size_t)g->gn[1], (size_t)g->gn[0]};
    int dimid[4];
    for (int d = 0; d < 4; ++d) {
        const int rc = nc_inq_dimid(nc, dname[d], &dimid[d]);
        if (rc == NC_EBADDIM)
            return TF_ERROR(TF_ERR_USAGE, "'%s' has no dimension '%s'", path, dname[d]);
        TF_NC(rc, path);
        if (d == 0)
            continue;
        size_t len;
        TF_NC(nc_inq_dimlen(nc, dimid[d], &len), path);
        if (len != want[d])
            return TF_ERROR(TF_ERR_USAGE,
                            "'%s' has %zu cells along %s; the scenario's grid has %zu (grid.n "
                            "differs)",
                            path, len, dname[d], want[d]);
    }
    int nunlim, unlim[NC_MAX_DIMS];
    TF_NC(nc_inq_unlimdims(nc, &nunlim, unlim), path);
    if (nunlim != 1 || unlim[0] != dimid[0])
        return TF_ERROR(TF_ERR_USAGE, "'%s': dimension 'time' is not the unlimited dimension",
                        path);

    /* Spacing: the first cell centre of every axis is at h / 2. */
    for (int d = 0; d < 3; ++d) {
        int vid;
        const int rc = nc_inq_varid(nc, axis_name[d], &vid);
        if (rc == NC_ENOTVAR)
            return TF_ERROR(TF_ERR_USAGE, "'%s' has no coordinate variable '%s'", path,
                            axis_name[d]);
        TF_NC(rc, path);
        const size_t i0 = 0;
        double x0;
        TF_NC(nc_get_var1_double(nc, vid, &i0, &x0), path);
        if (fabs(x0 - 0.5 * g->h) > 1e-9 * g->h)
            return TF_ERROR(TF_ERR_USAGE,
                            "'%s' has grid spacing %g um (first %s centre at %g um); the "
                            "scenario's grid.spacing is %g um",
                            path, 2.0 * x0, axis_name[d], x0, g->h);
    }

    /* Field variables: exactly the selected ones, each float over (time, z, y, x). */
    for (int f = 0; f < TF_NFIELDS; ++f) {
        int vid;
        const int rc = nc_inq_varid(nc, tf_field_name[f], &vid);
        const int selected = (o->mask >> f) & 1u;
        if (rc == NC_ENOTVAR) {
            if (selected)
                return TF_ERROR(TF_ERR_USAGE,
                                "'%s' has no variable '%s' but output.fields selects it", path,
                                tf_field_name[f]);
            continue;
        }
        TF_NC(rc, path);
        if (!selected)
            return TF_ERROR(TF_ERR_USAGE,
                            "'%s' has variable '%s' but output.fields does not select it", path,
                            tf_field_name[f]);
        int ndims, vdims[NC_MAX_VAR_DIMS];
        nc_type type;
        TF_NC(nc_inq_var(nc, vid, NULL, &type, &ndims, vdims, NULL), path);
        if (type != NC_FLOAT || ndims != 4 || vdims[0] != dimid[0] || vdims[1] != dimid[1] ||
            vdims[2] != dimid[2] || vdims[3] != dimid[3])
            return TF_ERROR(TF_ERR_USAGE,
                            "'%s': variable '%s' is not float over (time, z, y, x)", path,
                            tf_field_name[f]);
        o->varid[f] = vid;
    }
    const int rc = nc_inq_varid(nc, "time", &o->time_varid);
    if (rc == NC_ENOTVAR)
        return TF_ERROR(TF_ERR_USAGE, "'%s' has no variable 'time'", path);
    TF_NC(rc, path);
    return TF_OK;
}

/* Keep the leading records with time <= t (plus the tolerance TF_TIME_TOL); later records
 * are overwritten by the records that follow. Refused when the record of t_due is missing
 * (tf_restart_gap). */
static tf_status find_restart_record(tf_ncout *o, double t, double t_due)
{
    int dim_t;
    size_t nt;
    TF_NC(nc_inq_dimid(o->ncid, "time", &dim_t), o->path);
    TF_NC(nc_inq_dimlen(o->ncid, dim_t, &nt), o->path);
    o->nrec = 0;
    o->last_t = NAN;
    if (nt == 0)
        return tf_restart_gap(o->path, "record", t, t_due, NAN);
    double *times = malloc(nt * sizeof *times);
    if (!times)
        return TF_ERROR(TF_ERR_NOMEM, "cannot allocate %zu times", nt);
    const size_t start = 0;
    const int rc = nc_get_vara_double(o->ncid, o->time_varid, &start, &nt, times);
    if (rc != NC_NOERR) {
        free(times);
        TF_NC(rc, o->path);
    }
    const double tol = TF_TIME_TOL * fmax(1.0, fabs(t));
    double before = NAN;
    while (o->nrec < nt && times[o->nrec] <= t + tol) {
        if (times[o->nrec] < t - tol)
            before = times[o->nrec];
        ++o->nrec;
    }
    if (o->nrec > 0)
        o->last_t = times[o->nrec - 1];
    free(times);
    return tf_restart_gap(o->path, "record", t, t_due, before);
}

/* Append a line to the global attribute history: an attribute change that reaches the file
 * (collectively in parallel) at the next nc_sync. */
static tf_status append_history(tf_ncout *o, const char *line)
{
    size_t len = 0;
    if (nc_inq_attlen(o->ncid, NC_GLOBAL, "history", &len) != NC_NOERR)
        len = 0;
    char *hist = malloc(len + strlen(line) + 2);
    if (!hist)
        return TF_ERROR(TF_ERR_NOMEM, "cannot allocate the history attribute");
    if (len && nc_get_att_text(o->ncid, NC_GLOBAL, "history", hist) != NC_NOERR)
        len = 0;
    hist[len] = '\n';
    memcpy(hist + len + 1, line, strlen(line) + 1);
    const char *h = len ? hist : hist + 1;
    const int rc = nc_put_att_text(o->ncid, NC_GLOBAL, "history", strlen(h), h);
    free(hist);
    if (rc != NC_NOERR)
        return TF_ERROR(TF_ERR_IO, "NetCDF: updating history of '%s': %s", o->path,
                        nc_strerror(rc));
    return TF_OK;
}

/* Add a history line for a restart at t, made at `when`. */
static tf_status add_history(tf_ncout *o, double t, const char *when)
{
    char line[160];
    snprintf(line, sizeof line, "%s: restarted at t = %.9g min by TumorField %s", when, t,
             TF_VERSION_STRING);
    return append_history(o, line);
}

tf_status tf_ncout_set_scenario(tf_ncout *o, const char *effective)
{
    size_t len = 0;
    char *old = NULL;
    int same = 0;
    if (nc_inq_attlen(o->ncid, NC_GLOBAL, "scenario", &len) == NC_NOERR &&
        (old = malloc(len + 1)) != NULL &&
        nc_get_att_text(o->ncid, NC_GLOBAL, "scenario", old) == NC_NOERR) {
        old[len] = '\0';
        same = strcmp(old, effective) == 0;
    }
    free(old);
    /* Every rank takes the same branch: the attribute writes are collective. */
    if (!tf_par_any(&o->par, !same))
        return TF_OK;
    const int rc = nc_put_att_text(o->ncid, NC_GLOBAL, "scenario", strlen(effective), effective);
    tf_status st = rc == NC_NOERR ? TF_OK
                                  : TF_ERROR(TF_ERR_IO, "NetCDF: updating the scenario of '%s': %s",
                                             o->path, nc_strerror(rc));
    if (st == TF_OK)
        st = append_history(o, "  the attribute scenario is now the restart's (a restart may "
                               "change run.duration and output.dir; the header names the build)");
    return agree(o, st);
}

/* Collective access for the variables a restart writes. */
static tf_status set_collective(tf_ncout *o)
{
    for (int f = 0; f < TF_NFIELDS; ++f)
        if (o->varid[f] >= 0)
            TF_NC(tf_nc_collective(o->ncid, o->varid[f], &o->par), o->path);
    TF_NC(tf_nc_collective(o->ncid, o->time_varid, &o->par), o->path);
    return TF_OK;
}

tf_status tf_ncout_scenario(const char *path, char **text)
{
    *text = NULL;
    int nc;
    int rc = nc_open(path, NC_NOWRITE, &nc);
    if (rc != NC_NOERR)
        return rc == ENOENT || rc == EACCES
                   ? TF_ERROR(TF_ERR_IO, "cannot reopen NetCDF output '%s' for the restart: %s",
                              path, nc_strerror(rc))
                   : TF_ERROR(TF_ERR_USAGE,
                              "cannot reopen NetCDF output '%s' for the restart: %s: not a "
                              "NetCDF file it can read (damaged, or another file in its place); "
                              "a restart continues the run's own output",
                              path, nc_strerror(rc));
    size_t len = 0;
    rc = nc_inq_attlen(nc, NC_GLOBAL, "scenario", &len);
    char *t = rc == NC_NOERR ? malloc(len + 1) : NULL;
    if (t && nc_get_att_text(nc, NC_GLOBAL, "scenario", t) == NC_NOERR) {
        t[len] = '\0';
        *text = t;
    } else {
        free(t);
    }
    nc_close(nc);
    return *text ? TF_OK
                 : TF_ERROR(TF_ERR_USAGE, "'%s' has no scenario attribute: not a TumorField output",
                            path);
}

tf_status tf_ncout_reopen(tf_ncout **out, const char *path, const tf_scenario *s,
                          const tf_grid *g, const tf_par *par, double t, double t_due)
{
    *out = NULL;
    tf_ncout *o;
    TF_TRY(start_file(&o, path, s, g, par));
    /* Checks and reads are independent (each rank reads the same values); writes collective. */
    tf_status st = open_file(o, 0);
    if (st == TF_OK)
        st = agree(o, check_layout(o));
    if (st == TF_OK)
        st = agree(o, find_restart_record(o, t, t_due));
    if (st == TF_OK)
        st = room(o, 65536.0, "the restart's history line");
    if (st == TF_OK)
        st = agree(o, set_collective(o));
    if (st == TF_OK) {
        char when[64];
        utc_now(&o->par, when, sizeof when);
        st = agree(o, add_history(o, t, when));
    }
    if (st == TF_OK) {
        const int rc = nc_sync(o->ncid);
        st = agree(o, rc == NC_NOERR ? TF_OK
                                     : TF_ERROR(TF_ERR_IO, "NetCDF: nc_sync on '%s': %s", path,
                                                nc_strerror(rc)));
    }
    if (st != TF_OK) {
        ncout_free(o);
        return st;
    }
    *out = o;
    return TF_OK;
}

tf_status tf_ncout_check_restart(const char *path, const tf_scenario *s, const tf_grid *g,
                                 double t, double t_due)
{
    tf_ncout *o;
    TF_TRY(start_file(&o, path, s, g, NULL));
    const int rc = nc_open(path, NC_NOWRITE, &o->ncid);
    tf_status st = TF_OK;
    if (rc != NC_NOERR) {
        o->ncid = -1;
        st = TF_ERROR(TF_ERR_IO, "cannot reopen NetCDF output '%s' for the restart: %s (check "
                                 "that it is whole: a damaged file cannot be continued)",
                      path, nc_strerror(rc));
    }
    if (st == TF_OK)
        st = check_layout(o);
    if (st == TF_OK)
        st = find_restart_record(o, t, t_due);
    ncout_free(o);
    return st;
}

tf_status tf_ncout_write(tf_ncout *o, double t, tf_real *const f[TF_NFIELDS])
{
    char what[64];
    snprintf(what, sizeof what, "record %zu (t = %.6g min)", o->nrec, t);
    TF_TRY(room(o, o->record_bytes, what));
    /* Fields first, time last: a record cut short leaves its time unset (the fill value), so a
     * restart does not keep it. */
    for (int q = 0; q < TF_NFIELDS; ++q)
        if (o->varid[q] >= 0)
            TF_TRY(agree(o, put_block(o, o->varid[q], (long long)o->nrec, f[q])));
    TF_TRY(agree(o, put_time(o, o->nrec, t)));
    TF_TRY(agree(o, nc_step(o, nc_sync(o->ncid), "nc_sync(o->ncid)")));
    ++o->nrec;
    o->last_t = t;
    return TF_OK;
}

tf_status tf_ncout_close(tf_ncout *o)
{
    if (!o)
        return TF_OK;
    const int rc = tf_nc_close(o->ncid);
    o->ncid = -1;
    const tf_par par = o->par;
    char path[TF_PATH_MAX];
    snprintf(path, sizeof path, "%s", o->path);
    ncout_free(o);
    tf_status st = TF_OK;
    if (rc != NC_NOERR)
        st = TF_ERROR(TF_ERR_IO, "NetCDF: nc_close(o->ncid) on '%s': %s", path, nc_strerror(rc));
    return tf_par_agree(&par, st);
}

size_t tf_ncout_records(const tf_ncout *o) { return o ? o->nrec : 0; }

double tf_ncout_last_time(const tf_ncout *o) { return o ? o->last_t : NAN; }
