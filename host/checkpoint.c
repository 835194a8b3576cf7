/* checkpoint.c: NAME.chk.nc, the restartable state (tf_checkpoint.h).
 *
 * Layout: netCDF-4 with dimensions z, y, x (global); one variable per field and `vessel` in the
 * build's precision (NC_FLOAT or NC_DOUBLE, so a restart is bit-for-bit); global attributes
 * tumorfield_checkpoint = 1, tumorfield_precision, step, time_min, driver_x, driver_z, driver_L,
 * scenario. Written as PATH.tmp, closed, fsync'ed, renamed over PATH, directory fsync'ed.
 *
 * With several ranks all of them write PATH.tmp together (parallel NetCDF, collective access,
 * each rank its block), close it, and rank 0 alone syncs, renames and syncs the directory;
 * the ranks agree on the status after every step, so all return the same one and none returns
 * before the rename. Reading is per rank (serial NetCDF, read-only, the rank's block), so a
 * checkpoint written by any number of ranks restarts on any other. */
#include "tf_checkpoint.h"

#include "tf_fields.h"
#include "tf_io.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef TF_DOUBLE
#define TF_NC_REAL NC_DOUBLE
#define tf_nc_put_vara nc_put_vara_double
#define tf_nc_get_vara nc_get_vara_double
#else
#define TF_NC_REAL NC_FLOAT
#define tf_nc_put_vara nc_put_vara_float
#define tf_nc_get_vara nc_get_vara_float
#endif

static const char *const dim_name[3] = {"x", "y", "z"};

/* TF_OK, or TF_ERR_IO naming a failed NetCDF call. */
static tf_status nc_status(int rc, const char *call, const char *path)
{
    if (rc != NC_NOERR)
        return TF_ERROR(TF_ERR_IO, "NetCDF: %s on '%s': %s", call, path, nc_strerror(rc));
    return TF_OK;
}

/* Copy between a padded array and a contiguous (z, y, x) block of the interior. */
static void pack(const tf_grid *g, const tf_real *a, tf_real *buf)
{
    tf_index q = 0;
    for (tf_index k = 0; k < g->n[2]; ++k)
        for (tf_index j = 0; j < g->n[1]; ++j) {
            memcpy(buf + q, a + tf_at(g, 0, j, k), sizeof(tf_real) * (size_t)g->n[0]);
            q += g->n[0];
        }
}

static void unpack(const tf_grid *g, const tf_real *buf, tf_real *a)
{
    tf_index q = 0;
    for (tf_index k = 0; k < g->n[2]; ++k)
        for (tf_index j = 0; j < g->n[1]; ++j) {
            memcpy(a + tf_at(g, 0, j, k), buf + q, sizeof(tf_real) * (size_t)g->n[0]);
            q += g->n[0];
        }
}

/* A checksum of a variable's content over the block g of buf (contiguous z, y, x), the same
 * whatever the blocks: a sum modulo 2^64 of a hash of each cell's global index and value bits.
 * HDF5's Fletcher-32 covers each chunk's bytes, not the index that locates the chunks: this one
 * catches a chunk read from the wrong place. */
static unsigned long long block_sum(const tf_grid *g, const tf_real *buf)
{
    unsigned long long sum = 0;
    size_t q = 0;
    for (tf_index k = 0; k < g->n[2]; ++k)
        for (tf_index j = 0; j < g->n[1]; ++j)
            for (tf_index i = 0; i < g->n[0]; ++i, ++q) {
                const unsigned long long cell =
                    (unsigned long long)(g->start[0] + i) +
                    (unsigned long long)g->gn[0] *
                        ((unsigned long long)(g->start[1] + j) +
                         (unsigned long long)g->gn[1] * (unsigned long long)(g->start[2] + k));
                unsigned long long bits = 0;
                memcpy(&bits, &buf[q], sizeof buf[q]);
                /* splitmix64 of the cell's index and the value's bits */
                unsigned long long x = cell * 0x9E3779B97F4A7C15ull ^ bits;
                x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
                x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
                sum += x ^ (x >> 31);
            }
    return sum;
}

/* Define the file (local to each rank until nc_enddef; all ranks define the same). */
static tf_status define(int nc, const char *tmp, const tf_grid *g, const tf_par *par,
                        const tf_checkpoint_info *info, const char *scenario_text,
                        const unsigned long long sums[TF_NFIELDS + 1], int var[TF_NFIELDS + 1])
{
    int dims[3]; /* z, y, x */
    for (int d = 0; d < 3; ++d)
        TF_NC(nc_def_dim(nc, dim_name[2 - d], (size_t)g->gn[2 - d], &dims[d]), tmp);
    /* Chunked with a Fletcher-32 checksum per chunk: a chunk damaged after it was written (a
     * disk, a copy) fails the restart's read instead of passing as a state. */
    size_t chunk[3];
    tf_nc_chunk_shape(g, chunk);
    for (int v = 0; v <= TF_NFIELDS; ++v) {
        const char *name = v < TF_NFIELDS ? tf_field_name[v] : "vessel";
        TF_NC(nc_def_var(nc, name, TF_NC_REAL, 3, dims, &var[v]), tmp);
        TF_NC(nc_def_var_chunking(nc, var[v], NC_CHUNKED, chunk), tmp);
        TF_NC(nc_def_var_fletcher32(nc, var[v], NC_FLETCHER32), tmp);
        TF_NC(nc_def_var_fill(nc, var[v], NC_NOFILL, NULL), tmp);
        TF_NC(nc_put_att_ulonglong(nc, var[v], "tf_checksum", NC_UINT64, 1, &sums[v]), tmp);
        TF_NC(tf_nc_collective(nc, var[v], par), tmp);
    }
    const int one = 1;
    const long long step = info->step;
    TF_NC(nc_put_att_int(nc, NC_GLOBAL, "tumorfield_checkpoint", NC_INT, 1, &one), tmp);
    TF_NC(nc_put_att_text(nc, NC_GLOBAL, "tumorfield_version", strlen(TF_VERSION_STRING),
                          TF_VERSION_STRING), tmp);
    TF_NC(nc_put_att_text(nc, NC_GLOBAL, "tumorfield_precision", strlen(TF_REAL_NAME),
                          TF_REAL_NAME), tmp);
    TF_NC(nc_put_att_longlong(nc, NC_GLOBAL, "step", NC_INT64, 1, &step), tmp);
    TF_NC(nc_put_att_double(nc, NC_GLOBAL, "time_min", NC_DOUBLE, 1, &info->t), tmp);
    TF_NC(nc_put_att_double(nc, NC_GLOBAL, "driver_x", NC_DOUBLE, 1, &info->drv.x), tmp);
    TF_NC(nc_put_att_double(nc, NC_GLOBAL, "driver_z", NC_DOUBLE, 1, &info->drv.z), tmp);
    TF_NC(nc_put_att_double(nc, NC_GLOBAL, "driver_L", NC_DOUBLE, 1, &info->drv.L), tmp);
    TF_NC(nc_put_att_text(nc, NC_GLOBAL, "scenario", strlen(scenario_text), scenario_text), tmp);
    return TF_OK;
}

/* Collective. Define the file, end define mode and write every variable's block. */
static tf_status define_and_write(int nc, const char *tmp, const tf_grid *g, const tf_par *par,
                                  tf_real *const f[TF_NFIELDS], const tf_real *vessel,
                                  const tf_checkpoint_info *info, const char *scenario_text,
                                  tf_real *buf)
{
    int var[TF_NFIELDS + 1];
    unsigned long long sums[TF_NFIELDS + 1];
    for (int v = 0; v <= TF_NFIELDS; ++v) {
        pack(g, v < TF_NFIELDS ? f[v] : vessel, buf);
        sums[v] = block_sum(g, buf);
    }
    tf_par_sum_u64(par, sums, TF_NFIELDS + 1);
    TF_TRY(tf_par_agree(par, define(nc, tmp, g, par, info, scenario_text, sums, var)));
    TF_TRY(tf_par_agree(par, nc_status(nc_enddef(nc), "nc_enddef(nc)", tmp)));
    const size_t start[3] = {(size_t)g->start[2], (size_t)g->start[1], (size_t)g->start[0]};
    const size_t count[3] = {(size_t)g->n[2], (size_t)g->n[1], (size_t)g->n[0]};
    for (int v = 0; v <= TF_NFIELDS; ++v) {
        pack(g, v < TF_NFIELDS ? f[v] : vessel, buf);
        TF_TRY(tf_par_agree(par, nc_status(tf_nc_put_vara(nc, var[v], start, count, buf),
                                           "tf_nc_put_vara(nc, var[v], start, count, buf)",
                                           tmp)));
    }
    return TF_OK;
}

static tf_status sync_path(const char *path, int directory)
{
    int fd = open(path, directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0)
        return TF_ERROR(TF_ERR_IO, "cannot open '%s' to sync it: %s", path, strerror(errno));
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    if (rc != 0 && !(directory && (err == EINVAL || err == EROFS)))
        return TF_ERROR(TF_ERR_IO, "cannot sync '%s': %s", path, strerror(err));
    return TF_OK;
}

/* Rank 0's part: make the closed temporary file the checkpoint. */
static tf_status commit(const char *tmp, const char *path)
{
    TF_TRY(sync_path(tmp, 0));
    if (rename(tmp, path) != 0)
        return TF_ERROR(TF_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
    return TF_OK;
}

tf_status tf_checkpoint_write(const char *path, const tf_grid *g, const tf_par *par,
                              tf_real *const f[TF_NFIELDS], const tf_real *vessel,
                              const tf_checkpoint_info *info, const char *scenario_text)
{
    tf_par one;
    if (!par || par->size == 1) {
        memset(&one, 0, sizeof one);
        one.size = 1;
        par = &one;
    }
    const int root = par->rank == 0;
    char tmp[TF_PATH_MAX + TF_NAME_MAX + 64];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return tf_par_agree(par, TF_ERROR(TF_ERR_IO, "checkpoint path too long: '%s'", path));
    tf_real *buf = malloc(sizeof(tf_real) * (size_t)g->ncells);
    tf_status st = tf_par_agree(par, buf ? TF_OK
                                         : TF_ERROR(TF_ERR_NOMEM,
                                                    "out of memory for the checkpoint buffer"));
    if (st != TF_OK) {
        free(buf);
        return st;
    }
    int nc = -1;
    int rc = tf_nc_create(tmp, NC_NETCDF4 | NC_CLOBBER, par, &nc);
    st = rc == NC_NOERR ? TF_OK : tf_output_in_the_way("create checkpoint", tmp);
    if (rc != NC_NOERR && st == TF_OK)
        st = TF_ERROR(TF_ERR_IO, "cannot create checkpoint '%s': %s", tmp, nc_strerror(rc));
    st = tf_par_agree(par, st);
    if (st == TF_OK) {
        /* Room for it first: a full disk or the file size limit named as such (HDF5 says no
         * more than "HDF error" when a write fails). Seven arrays of the whole grid, the
         * scenario text and room for the header. */
        const double need = 7.0 * (double)g->gn[0] * (double)g->gn[1] * (double)g->gn[2] *
                                sizeof(tf_real) +
                            (scenario_text ? (double)strlen(scenario_text) : 0.0) + 65536.0;
        st = tf_par_agree(par, root ? tf_file_room(tmp, "checkpoint", "the state", need,
                                                   access(path, F_OK) == 0
                                                       ? "the previous checkpoint is kept"
                                                       : "this run has no checkpoint yet")
                                    : TF_OK);
        if (st == TF_OK)
            st = define_and_write(nc, tmp, g, par, f, vessel, info, scenario_text, buf);
        rc = tf_nc_close(nc);
        if (st == TF_OK && rc != NC_NOERR)
            st = TF_ERROR(TF_ERR_IO, "cannot write checkpoint '%s': %s", tmp, nc_strerror(rc));
        st = tf_par_agree(par, st);
    }
    /* A rank that created the file while another could not leaves it open (closing is
     * collective); rank 0 removes it below. */
    free(buf);
    if (st == TF_OK)
        st = tf_par_agree(par, root ? commit(tmp, path) : TF_OK);
    if (st != TF_OK) {
        if (root)
            unlink(tmp); /* the previous checkpoint at `path` stays as it was */
        return st;
    }
    char dir[TF_PATH_MAX + TF_NAME_MAX + 64];
    snprintf(dir, sizeof dir, "%s", path);
    return tf_par_agree(par, root ? sync_path(dirname(dir), 1) : TF_OK);
}

static tf_status open_checkpoint(const char *path, int *nc)
{
    TF_TRY(tf_regular_file(path, "checkpoint"));
    int rc = nc_open(path, NC_NOWRITE, nc);
    if (rc != NC_NOERR)
        return TF_ERROR(rc == ENOENT || rc == EACCES ? TF_ERR_IO : TF_ERR_USAGE,
                        "cannot read checkpoint '%s': %s%s", path, nc_strerror(rc),
                        rc == ENOENT || rc == EACCES
                            ? ""
                            : " (not a NetCDF file, or a damaged or cut-short one: use another "
                              "copy or an earlier checkpoint)");
    int marker = 0;
    char prec[16] = "";
    size_t len = 0;
    if (nc_get_att_int(*nc, NC_GLOBAL, "tumorfield_checkpoint", &marker) != NC_NOERR ||
        marker != 1 || nc_inq_attlen(*nc, NC_GLOBAL, "tumorfield_precision", &len) != NC_NOERR ||
        len >= sizeof prec) {
        nc_close(*nc);
        return TF_ERROR(TF_ERR_USAGE, "'%s' is not a TumorField checkpoint", path);
    }
    nc_get_att_text(*nc, NC_GLOBAL, "tumorfield_precision", prec);
    prec[len] = '\0';
    if (strcmp(prec, TF_REAL_NAME) != 0) {
        nc_close(*nc);
        return TF_ERROR(TF_ERR_USAGE,
                        "checkpoint '%s' holds %s fields but this build uses %s; restart with a "
                        "build of the same precision",
                        path, prec, TF_REAL_NAME);
    }
    return TF_OK;
}

tf_status tf_checkpoint_scenario(const char *path, char **scenario_text)
{
    int nc;
    TF_TRY(open_checkpoint(path, &nc));
    size_t len = 0;
    int rc = nc_inq_attlen(nc, NC_GLOBAL, "scenario", &len);
    char *text = rc == NC_NOERR ? malloc(len + 1) : NULL;
    if (text)
        rc = nc_get_att_text(nc, NC_GLOBAL, "scenario", text);
    nc_close(nc);
    if (rc != NC_NOERR || !text) {
        free(text);
        return TF_ERROR(TF_ERR_USAGE, "checkpoint '%s' has no readable scenario attribute", path);
    }
    text[len] = '\0';
    *scenario_text = text;
    return TF_OK;
}

/* The global grid and the state's attributes (step, time, drivers) of an open checkpoint, with
 * the dimension ids of x, y and z. */
static tf_status read_header(int nc, const char *path, const tf_grid *g, tf_checkpoint_info *info,
                             int dimid[3])
{
    for (int d = 0; d < 3; ++d) {
        size_t len = 0;
        if (nc_inq_dimid(nc, dim_name[d], &dimid[d]) != NC_NOERR ||
            nc_inq_dimlen(nc, dimid[d], &len) != NC_NOERR || (tf_index)len != g->gn[d])
            return TF_ERROR(TF_ERR_USAGE,
                            "checkpoint '%s': grid dimension %s is %zu, the scenario has %lld",
                            path, dim_name[d], len, (long long)g->gn[d]);
    }
    /* The state's attributes: one number each, as a run writes them (a text or a list, or a
     * step past the range of long long, is a damaged or hand-made file). */
    const char *const att[5] = {"step", "time_min", "driver_x", "driver_z", "driver_L"};
    double *const dst[5] = {NULL, &info->t, &info->drv.x, &info->drv.z, &info->drv.L};
    long long step = 0;
    for (int a = 0; a < 5; ++a) {
        nc_type type;
        size_t len = 0;
        int rc = nc_inq_att(nc, NC_GLOBAL, att[a], &type, &len);
        if (rc == NC_NOERR && (len != 1 || type == NC_CHAR || type == NC_STRING))
            rc = NC_EBADTYPE;
        if (rc == NC_NOERR)
            rc = a == 0 ? nc_get_att_longlong(nc, NC_GLOBAL, att[a], &step)
                        : nc_get_att_double(nc, NC_GLOBAL, att[a], dst[a]);
        if (rc != NC_NOERR)
            return TF_ERROR(TF_ERR_USAGE,
                            "checkpoint '%s': attribute '%s' missing or not one number (%s): "
                            "not a saved state (damaged file?)",
                            path, att[a], nc_strerror(rc));
    }
    /* A damaged or hand-made file: refuse what no run writes (at most 1e12 steps). */
    if (step < 0 || step > 1000000000000LL || !(info->t >= 0) || !isfinite(info->t) ||
        !isfinite(info->drv.x) || !isfinite(info->drv.z) || !isfinite(info->drv.L))
        return TF_ERROR(TF_ERR_USAGE,
                        "checkpoint '%s': step %lld, time_min %g, drivers x %g z %g L %g are "
                        "not a saved state (damaged file?)",
                        path, step, info->t, info->drv.x, info->drv.z, info->drv.L);
    info->step = step;
    info->have_stored = 1;
    return TF_OK;
}

/* Variable v (the six fields, then the vessel map) over the block g into buf (contiguous z, y,
 * x), checked: its type and shape, HDF5's chunk checksums, values a run saves; its content
 * checksum over the block added to info->sum[v], the stored one into info->stored[v]. */
static tf_status read_var(int nc, const char *path, const tf_grid *g, const int dimid[3], int v,
                          tf_real *buf, tf_checkpoint_info *info)
{
    const size_t start[3] = {(size_t)g->start[2], (size_t)g->start[1], (size_t)g->start[0]};
    const size_t count[3] = {(size_t)g->n[2], (size_t)g->n[1], (size_t)g->n[0]};
    const char *name = v < TF_NFIELDS ? tf_field_name[v] : "vessel";
    int id;
    nc_type type;
    if (nc_inq_varid(nc, name, &id) != NC_NOERR || nc_inq_vartype(nc, id, &type) != NC_NOERR ||
        type != TF_NC_REAL)
        return TF_ERROR(TF_ERR_USAGE, "checkpoint '%s': variable '%s' missing or not %s", path,
                        name, TF_REAL_NAME);
    /* (z, y, x) as a run writes it: another shape would be read with the wrong strides, or
     * with start and count arrays shorter than its dimensions. */
    int ndims = 0, dims[NC_MAX_VAR_DIMS];
    if (nc_inq_varndims(nc, id, &ndims) != NC_NOERR || ndims != 3 ||
        nc_inq_vardimid(nc, id, dims) != NC_NOERR || dims[0] != dimid[2] ||
        dims[1] != dimid[1] || dims[2] != dimid[0])
        return TF_ERROR(TF_ERR_USAGE,
                        "checkpoint '%s': variable '%s' is not on the dimensions (z, y, x): "
                        "not a checkpoint this program wrote",
                        path, name);
    const int rc = tf_nc_get_vara(nc, id, start, count, buf);
    if (rc != NC_NOERR)
        return TF_ERROR(rc == NC_EHDFERR ? TF_ERR_USAGE : TF_ERR_IO,
                        "checkpoint '%s': variable '%s' cannot be read: %s%s", path, name,
                        nc_strerror(rc),
                        rc == NC_EHDFERR ? " (a damaged file: the checksum of its data does "
                                           "not match, or the file is cut short; or the "
                                           "file system failed to read it: try again)"
                                         : "");
    /* Values no run saves: not finite, negative, the fill value of a variable never
     * written (9.97e36), a tumor fraction or a vessel density above 1. */
    const tf_real hi = v == TF_TUMOR || v == TF_NFIELDS ? (tf_real)1 : (tf_real)1e30;
    for (size_t q = 0; q < (size_t)g->ncells; ++q)
        if (!(buf[q] >= 0 && buf[q] <= hi)) {
            const size_t nx = count[2], ny = count[1];
            return TF_ERROR(TF_ERR_USAGE,
                            "checkpoint '%s': variable '%s' holds %g at cell (i,j,k) = "
                            "(%lld, %lld, %lld): not a saved state (damaged file?)",
                            path, name, (double)buf[q],
                            (long long)(g->start[0] + (tf_index)(q % nx)),
                            (long long)(g->start[1] + (tf_index)(q / nx % ny)),
                            (long long)(g->start[2] + (tf_index)(q / (nx * ny))));
        }
    info->sum[v] += block_sum(g, buf);
    if (nc_get_att_ulonglong(nc, id, "tf_checksum", &info->stored[v]) != NC_NOERR)
        info->have_stored = 0; /* written before the checksums */
    return TF_OK;
}

static tf_status read_state(int nc, const char *path, const tf_grid *g,
                            tf_real *const f[TF_NFIELDS], tf_real *vessel,
                            tf_checkpoint_info *info, tf_real *buf)
{
    int dimid[3]; /* x, y, z */
    TF_TRY(read_header(nc, path, g, info, dimid));
    for (int v = 0; v <= TF_NFIELDS; ++v) {
        info->sum[v] = 0;
        TF_TRY(read_var(nc, path, g, dimid, v, buf, info));
        unpack(g, buf, v < TF_NFIELDS ? f[v] : vessel);
    }
    return TF_OK;
}

/* The content checksums of the whole grid in info against the ones stored in the file. */
static tf_status compare_sums(const char *path, const tf_checkpoint_info *info)
{
    if (!info->have_stored)
        return TF_OK;
    for (int v = 0; v <= TF_NFIELDS; ++v)
        if (info->sum[v] != info->stored[v])
            return TF_ERROR(TF_ERR_USAGE,
                            "checkpoint '%s': the data of variable '%s' do not match the checksum "
                            "stored with them (a damaged file): use another copy or an earlier "
                            "checkpoint",
                            path, v < TF_NFIELDS ? tf_field_name[v] : "vessel");
    return TF_OK;
}

tf_status tf_checkpoint_verify(const char *path, const tf_par *par, tf_checkpoint_info *info)
{
    /* Every rank read the same file: they agree on whether it has the checksums. */
    if (!info->have_stored)
        return TF_OK;
    tf_par_sum_u64(par, info->sum, TF_NFIELDS + 1);
    return compare_sums(path, info);
}

tf_status tf_checkpoint_read(const char *path, const tf_grid *g, tf_real *const f[TF_NFIELDS],
                             tf_real *vessel, tf_checkpoint_info *info)
{
    int nc;
    TF_TRY(open_checkpoint(path, &nc));
    tf_real *buf = malloc(sizeof(tf_real) * (size_t)g->ncells);
    tf_status st = buf ? read_state(nc, path, g, f, vessel, info, buf)
                       : TF_ERROR(TF_ERR_NOMEM, "out of memory reading the checkpoint");
    free(buf);
    nc_close(nc);
    return st;
}

tf_status tf_checkpoint_check(const char *path, const tf_grid *whole, tf_checkpoint_info *info)
{
    int nc;
    TF_TRY(open_checkpoint(path, &nc));
    /* Slabs of whole planes of about CHECK_SLAB_CELLS cells (at least one plane). */
    enum { CHECK_SLAB_CELLS = 1 << 22 };
    const tf_index plane = whole->gn[0] * whole->gn[1];
    const tf_index planes = plane >= CHECK_SLAB_CELLS ? 1 : CHECK_SLAB_CELLS / plane;
    tf_real *buf = malloc(sizeof(tf_real) * (size_t)(plane * planes));
    int dimid[3];
    tf_status st = buf ? read_header(nc, path, whole, info, dimid)
                       : TF_ERROR(TF_ERR_NOMEM, "out of memory checking the checkpoint");
    for (int v = 0; v <= TF_NFIELDS && st == TF_OK; ++v) {
        info->sum[v] = 0;
        for (tf_index k0 = 0; k0 < whole->gn[2] && st == TF_OK; k0 += planes) {
            tf_grid slab = *whole;
            slab.start[0] = slab.start[1] = 0;
            slab.start[2] = k0;
            slab.n[0] = whole->gn[0];
            slab.n[1] = whole->gn[1];
            slab.n[2] = whole->gn[2] - k0 < planes ? whole->gn[2] - k0 : planes;
            slab.ncells = slab.n[0] * slab.n[1] * slab.n[2];
            st = read_var(nc, path, &slab, dimid, v, buf, info);
        }
    }
    free(buf);
    nc_close(nc);
    return st == TF_OK ? compare_sums(path, info) : st;
}
