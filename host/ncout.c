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
 * record (TF_ERR_IO) while the file still holds every record written so far. */
#define _POSIX_C_SOURCE 200809L
#include "tf_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

/* Largest chunk, in values: one record of a field is one chunk up to this size, beyond it a
 * chunk holds fewer z planes (and, for planes above the cap, fewer y rows). */
#define NC_CHUNK_MAX ((size_t)1 << 20)

struct tf_ncout {
    int ncid;
    char path[TF_PATH_MAX];
    tf_grid g;                 /* global shape and local block */
    unsigned mask;             /* fields written */
    int varid[TF_NFIELDS];     /* -1 for fields not written */
    int time_varid;
    size_t nrec;               /* index of the next record */
    size_t chunk[3];           /* chunk extent in z, y, x */
    double record_bytes;       /* upper bound of what one record adds to the file */
    double header_bytes;       /* upper bound of the definitions and the vessel map */
    float *buf;                /* one z slab of the local block: chunk[0] * n[1] * n[0] */
};

static const char *const axis_name[3] = {"x", "y", "z"};

/* Chunk extents (z, y, x) of a (z, y, x) variable of the global grid. */
static void chunk_shape(const tf_grid *g, size_t c[3])
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
                             const tf_grid *g)
{
    if (strlen(path) >= TF_PATH_MAX)
        return TF_ERROR(TF_ERR_USAGE, "output path '%s' is longer than %d characters", path,
                        TF_PATH_MAX - 1);
    tf_ncout *o = calloc(1, sizeof *o);
    if (!o)
        return TF_ERROR(TF_ERR_NOMEM, "cannot allocate the NetCDF writer");
    o->ncid = -1;
    snprintf(o->path, sizeof o->path, "%s", path);
    o->g = *g;
    o->mask = s->fields_mask & ((1u << TF_NFIELDS) - 1);
    for (int f = 0; f < TF_NFIELDS; ++f)
        o->varid[f] = -1;
    chunk_shape(g, o->chunk);
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
    const size_t nbuf = o->chunk[0] * (size_t)g->n[1] * (size_t)g->n[0];
    o->buf = malloc(nbuf * sizeof *o->buf);
    if (!o->buf) {
        free(o);
        return TF_ERROR(TF_ERR_NOMEM, "cannot allocate a NetCDF write buffer of %zu floats",
                        nbuf);
    }
    *out = o;
    return TF_OK;
}

static void ncout_free(tf_ncout *o)
{
    if (!o)
        return;
    if (o->ncid >= 0)
        nc_close(o->ncid);
    free(o->buf);
    free(o);
}

static tf_status put_text(int ncid, int varid, const char *name, const char *text,
                          const char *path)
{
    TF_NC(nc_put_att_text(ncid, varid, name, strlen(text), text), path);
    return TF_OK;
}

static void utc_now(char *buf, size_t len)
{
    const time_t now = time(NULL);
    const struct tm *tm = gmtime(&now);
    if (!tm || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", tm))
        snprintf(buf, len, "unknown time");
}

/* Write the padded local array `a` (rec: record index, or -1 for a (z, y, x) variable) in z
 * slabs that follow the chunk boundaries, converting to float. */
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
        kn = kn < k_end ? kn : k_end;
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

/* TF_ERR_IO, naming the path and the numbers, unless the file can grow by `need` bytes under
 * the file size limit and the free space of its file system. */
static tf_status check_room(const tf_ncout *o, double need, const char *what)
{
    struct stat sb;
    if (stat(o->path, &sb) != 0)
        return TF_ERROR(TF_ERR_IO, "cannot stat NetCDF output '%s'", o->path);
    const double size = (double)sb.st_size;
    char a[32], b[32], c[32];
    human_bytes(need, a, sizeof a);
    human_bytes(size, c, sizeof c);
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        size + need > (double)rl.rlim_cur) {
        human_bytes((double)rl.rlim_cur, b, sizeof b);
        return TF_ERROR(TF_ERR_IO,
                        "cannot write %s to NetCDF output '%s': it needs up to %s more, and "
                        "the file (%s) would pass the file size limit (ulimit -f) of %s; the "
                        "file keeps the records written so far",
                        what, o->path, a, c, b);
    }
    struct statvfs fs;
    if (statvfs(o->path, &fs) == 0) {
        const double avail = (double)fs.f_bavail * (double)fs.f_frsize;
        if (need > avail) {
            human_bytes(avail, b, sizeof b);
            return TF_ERROR(TF_ERR_IO,
                            "cannot write %s to NetCDF output '%s': disk full (it needs up to "
                            "%s, %s free); the file keeps the records written so far",
                            what, o->path, a, b);
        }
    }
    return TF_OK;
}

/* Define the whole file and write the coordinates and the vessel map of the local block. */
static tf_status define_file(tf_ncout *o, const tf_scenario *s, const char *effective,
                             const tf_real *vessel)
{
    const int nc = o->ncid;
    const char *path = o->path;
    const tf_grid *g = &o->g;
    char text[512], when[64];
    TF_TRY(check_room(o, o->header_bytes + (effective ? (double)strlen(effective) : 0.0),
                      "the header and the vessel map"));

    /* Global attributes. */
    TF_TRY(put_text(nc, NC_GLOBAL, "Conventions", "CF-1.10", path));
    snprintf(text, sizeof text, "TumorField run %s", s->name[0] ? s->name : "(unnamed)");
    TF_TRY(put_text(nc, NC_GLOBAL, "title", text, path));
    TF_TRY(put_text(nc, NC_GLOBAL, "source", "TumorField " TF_VERSION_STRING, path));
    utc_now(when, sizeof when);
    snprintf(text, sizeof text, "%s: created by TumorField %s", when, TF_VERSION_STRING);
    TF_TRY(put_text(nc, NC_GLOBAL, "history", text, path));
    TF_TRY(put_text(nc, NC_GLOBAL, "comment",
                    "Tumor microenvironment reaction-diffusion fields on a uniform cell-centred "
                    "grid; the scenario attribute holds the effective scenario of the run.",
                    path));
    TF_TRY(put_text(nc, NC_GLOBAL, "tumorfield_version", TF_VERSION_STRING, path));
    TF_TRY(put_text(nc, NC_GLOBAL, "tumorfield_precision", TF_REAL_NAME, path));
    TF_TRY(put_text(nc, NC_GLOBAL, "scenario", effective ? effective : "", path));

    /* Dimensions and coordinates; the dimension order of every variable is (time, z, y, x). */
    int dim_t, dim_sp[3]; /* dim_sp: x, y, z */
    TF_NC(nc_def_dim(nc, "time", NC_UNLIMITED, &dim_t), path);
    for (int d = 2; d >= 0; --d)
        TF_NC(nc_def_dim(nc, axis_name[d], (size_t)g->gn[d], &dim_sp[d]), path);
    const int dims4[4] = {dim_t, dim_sp[2], dim_sp[1], dim_sp[0]};

    int coord[3];
    static const char *const std_name[3] = {"projection_x_coordinate", "projection_y_coordinate",
                                            "projection_z_coordinate"};
    static const char *const axis_attr[3] = {"X", "Y", "Z"};
    for (int d = 0; d < 3; ++d) {
        TF_NC(nc_def_var(nc, axis_name[d], NC_DOUBLE, 1, &dim_sp[d], &coord[d]), path);
        TF_TRY(put_text(nc, coord[d], "units", "um", path));
        TF_TRY(put_text(nc, coord[d], "axis", axis_attr[d], path));
        TF_TRY(put_text(nc, coord[d], "standard_name", std_name[d], path));
        snprintf(text, sizeof text, "%s of the cell centre", axis_name[d]);
        TF_TRY(put_text(nc, coord[d], "long_name", text, path));
    }
    TF_NC(nc_def_var(nc, "time", NC_DOUBLE, 1, &dim_t, &o->time_varid), path);
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
        TF_TRY(put_text(nc, o->varid[f], "units", tf_field_units[f], path));
        TF_TRY(put_text(nc, o->varid[f], "long_name", tf_field_long_name[f], path));
    }
    int vid;
    TF_NC(nc_def_var(nc, "vessel", NC_FLOAT, 3, dims4 + 1, &vid), path);
    TF_NC(nc_def_var_chunking(nc, vid, NC_CHUNKED, chunk4 + 1), path);
    TF_NC(nc_def_var_fill(nc, vid, NC_NOFILL, NULL), path);
    if (s->compression > 0)
        TF_NC(nc_def_var_deflate(nc, vid, 1, 1, s->compression), path);
    TF_TRY(put_text(nc, vid, "units", "1", path));
    TF_TRY(put_text(nc, vid, "long_name", "local vascular density", path));
    TF_NC(nc_enddef(nc), path);

    /* Coordinates of the local block: cell centres ((start + i) + 0.5) h. */
    for (int d = 0; d < 3; ++d) {
        const size_t n = (size_t)g->n[d], st = (size_t)g->start[d];
        double *x = malloc(n * sizeof *x);
        if (!x)
            return TF_ERROR(TF_ERR_NOMEM, "cannot allocate %zu coordinates", n);
        for (size_t i = 0; i < n; ++i)
            x[i] = ((double)(st + i) + 0.5) * g->h;
        const int rc = nc_put_vara_double(nc, coord[d], &st, &n, x);
        free(x);
        TF_NC(rc, path);
    }
    TF_TRY(put_block(o, vid, -1, vessel));
    TF_NC(nc_sync(nc), path);
    return TF_OK;
}

tf_status tf_ncout_create(tf_ncout **out, const char *path, const tf_scenario *s,
                          const tf_grid *g, const char *effective, const tf_real *vessel)
{
    *out = NULL;
    if (s->compression < 0 || s->compression > 9)
        return TF_ERROR(TF_ERR_USAGE, "output.compression = %d: expected 0 to 9",
                        s->compression);
    tf_ncout *o;
    TF_TRY(ncout_alloc(&o, path, s, g));
    const int rc = nc_create(path, NC_NETCDF4 | NC_CLOBBER, &o->ncid);
    if (rc != NC_NOERR) {
        o->ncid = -1;
        ncout_free(o);
        return TF_ERROR(TF_ERR_IO,
                        "cannot create NetCDF output '%s': %s (check that its directory "
                        "exists and is writable)",
                        path, nc_strerror(rc));
    }
    const tf_status st = define_file(o, s, effective, vessel);
    if (st != TF_OK) {
        ncout_free(o);
        return st;
    }
    *out = o;
    return TF_OK;
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

/* Keep the leading records with time <= t (plus a relative tolerance of 1e-9); later records
 * are overwritten by the records that follow. */
static tf_status find_restart_record(tf_ncout *o, double t)
{
    int dim_t;
    size_t nt;
    TF_NC(nc_inq_dimid(o->ncid, "time", &dim_t), o->path);
    TF_NC(nc_inq_dimlen(o->ncid, dim_t, &nt), o->path);
    o->nrec = 0;
    if (nt == 0)
        return TF_OK;
    double *times = malloc(nt * sizeof *times);
    if (!times)
        return TF_ERROR(TF_ERR_NOMEM, "cannot allocate %zu times", nt);
    const size_t start = 0;
    const int rc = nc_get_vara_double(o->ncid, o->time_varid, &start, &nt, times);
    if (rc != NC_NOERR) {
        free(times);
        TF_NC(rc, o->path);
    }
    const double limit = t + 1e-9 * fmax(1.0, fabs(t));
    while (o->nrec < nt && times[o->nrec] <= limit)
        ++o->nrec;
    free(times);
    return TF_OK;
}

tf_status tf_ncout_reopen(tf_ncout **out, const char *path, const tf_scenario *s,
                          const tf_grid *g, double t)
{
    *out = NULL;
    tf_ncout *o;
    TF_TRY(ncout_alloc(&o, path, s, g));
    const int rc = nc_open(path, NC_WRITE, &o->ncid);
    if (rc != NC_NOERR) {
        o->ncid = -1;
        ncout_free(o);
        return TF_ERROR(TF_ERR_IO, "cannot reopen NetCDF output '%s' for the restart: %s", path,
                        nc_strerror(rc));
    }
    tf_status st = check_layout(o);
    if (st == TF_OK)
        st = find_restart_record(o, t);
    if (st == TF_OK)
        st = check_room(o, 65536.0, "the restart's history line");
    if (st == TF_OK) {
        /* history: one more line. */
        size_t len = 0;
        char *hist = NULL, when[64], line[160];
        utc_now(when, sizeof when);
        snprintf(line, sizeof line, "\n%s: restarted at t = %.9g min by TumorField %s", when,
                 t, TF_VERSION_STRING);
        if (nc_inq_attlen(o->ncid, NC_GLOBAL, "history", &len) != NC_NOERR)
            len = 0;
        hist = malloc(len + strlen(line) + 1);
        if (!hist) {
            st = TF_ERROR(TF_ERR_NOMEM, "cannot allocate the history attribute");
        } else {
            if (len && nc_get_att_text(o->ncid, NC_GLOBAL, "history", hist) != NC_NOERR)
                len = 0;
            memcpy(hist + len, line, strlen(line) + 1);
            const char *h = len ? hist : hist + 1;
            const int rc2 = nc_put_att_text(o->ncid, NC_GLOBAL, "history", strlen(h), h);
            free(hist);
            if (rc2 != NC_NOERR)
                st = TF_ERROR(TF_ERR_IO, "NetCDF: updating history of '%s': %s", path,
                              nc_strerror(rc2));
        }
    }
    if (st == TF_OK) {
        const int rc3 = nc_sync(o->ncid);
        if (rc3 != NC_NOERR)
            st = TF_ERROR(TF_ERR_IO, "NetCDF: nc_sync on '%s': %s", path, nc_strerror(rc3));
    }
    if (st != TF_OK) {
        ncout_free(o);
        return st;
    }
    *out = o;
    return TF_OK;
}

tf_status tf_ncout_write(tf_ncout *o, double t, tf_real *const f[TF_NFIELDS])
{
    char what[64];
    snprintf(what, sizeof what, "record %zu (t = %.6g min)", o->nrec, t);
    TF_TRY(check_room(o, o->record_bytes, what));
    /* Fields first, time last: a record cut short leaves its time unset (the fill value), so a
     * restart does not keep it. */
    for (int q = 0; q < TF_NFIELDS; ++q)
        if (o->varid[q] >= 0)
            TF_TRY(put_block(o, o->varid[q], (long long)o->nrec, f[q]));
    const size_t rec = o->nrec;
    TF_NC(nc_put_var1_double(o->ncid, o->time_varid, &rec, &t), o->path);
    TF_NC(nc_sync(o->ncid), o->path);
    ++o->nrec;
    return TF_OK;
}

tf_status tf_ncout_close(tf_ncout *o)
{
    if (!o)
        return TF_OK;
    const int rc = nc_close(o->ncid);
    o->ncid = -1;
    char path[TF_PATH_MAX];
    snprintf(path, sizeof path, "%s", o->path);
    ncout_free(o);
    TF_NC(rc, path);
    return TF_OK;
}

size_t tf_ncout_records(const tf_ncout *o) { return o ? o->nrec : 0; }
