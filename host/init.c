/* init.c: the initial state of a run: the vessel map (a seeded random network of straight
 * vessel segments, or a NetCDF map) and the six fields (the default spheroid of docs/model.md, or
 * the fields of a NetCDF file such as an earlier run's output).
 *
 * Everything is computed in global cell coordinates (centre of global cell i at (i + 0.5) h
 * um), so a block of a decomposed grid gets the same values as the whole grid has there, and
 * the results do not depend on the number of OpenMP threads. */
#include "tf_io.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- a small seeded generator: SplitMix64 (Steele, Lea and Flood 2014) ---- */

typedef struct {
    uint64_t state;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_uniform(rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* Uniform direction on the unit sphere. */
static void rng_direction(rng *r, double d[3])
{
    const double pi = 3.14159265358979323846;
    const double z = 2.0 * rng_uniform(r) - 1.0;
    const double phi = 2.0 * pi * rng_uniform(r);
    const double s = sqrt(fmax(0.0, 1.0 - z * z));
    d[0] = s * cos(phi);
    d[1] = s * sin(phi);
    d[2] = z;
}

/* ---- vessel network ---- */

/* Shape of the network, in units of the vessel radius r (and at least a few cells h). */
#define VESSEL_LEN_MIN 10.0    /* segment length, r */
#define VESSEL_LEN_MAX 40.0
#define VESSEL_CONTINUE 0.85   /* chance that a vessel goes on from a segment's end */
#define VESSEL_BEND 0.7        /* weight of a random direction added at each joint */
#define VESSEL_CORE 0.5        /* the tumor core: within this share of the tumor radius */
#define VESSEL_CORE_REJECT 0.8 /* chance that a segment through the core is dropped */
#define VESSEL_BATCH_MAX 4096  /* segments painted together */

/* A segment a -> a + d (um) and the range of z it can touch. */
typedef struct {
    double a[3], d[3], dd; /* dd = |d|^2 */
    double zlo, zhi;       /* z extent widened by the reach */
} segment;

static double dist2_to_segment(const double p[3], const double a[3], const double d[3],
                               double dd)
{
    double t = 0.0;
    if (dd > 0.0) {
        t = ((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1] + (p[2] - a[2]) * d[2]) / dd;
        t = t < 0.0 ? 0.0 : (t > 1.0 ? 1.0 : t);
    }
    double s = 0.0;
    for (int c = 0; c < 3; ++c) {
        const double q = p[c] - (a[c] + t * d[c]);
        s += q * q;
    }
    return s;
}

/* Narrow [t0, t1] to the parameters whose point has coordinate c within `reach` of x.
 * Returns 0 when nothing is left. */
static int clip_t(const segment *sg, int c, double x, double reach, double *t0, double *t1)
{
    if (sg->d[c] != 0.0) {
        double ta = (x - reach - sg->a[c]) / sg->d[c], tb = (x + reach - sg->a[c]) / sg->d[c];
        if (ta > tb) {
            const double s = ta;
            ta = tb;
            tb = s;
        }
        *t0 = fmax(*t0, ta);
        *t1 = fmin(*t1, tb);
    } else if (fabs(sg->a[c] - x) > reach) {
        return 0;
    }
    return *t0 <= *t1;
}

/* Cells [lo, hi] of an axis of n cells whose centres lie in [x0, x1] (um); empty when lo > hi. */
static void cell_range(double x0, double x1, double h, tf_index n, tf_index *lo, tf_index *hi)
{
    const double a = ceil(x0 / h - 0.5), b = floor(x1 / h - 0.5);
    *lo = a < 0.0 ? 0 : (a > (double)n ? n : (tf_index)a);
    *hi = b < -1.0 ? -1 : (b > (double)(n - 1) ? n - 1 : (tf_index)b);
}

/* Painted vessel volume is counted in fixed point, VESSEL_UNIT per cell: integer sums do not
 * depend on their order, so a map painted block by block on many processes reaches its target
 * after the same segments as one painted whole (at most 2^40 cells of 2^20 each: no overflow). */
#define VESSEL_UNIT 1048576.0

/* Cells of block (start, n) of an axis whose centres lie in [x0, x1] (um), as local indices
 * [*lo, *hi]: the whole axis's range (gn cells) clipped to the block. */
static void block_range(double x0, double x1, double h, tf_index gn, tf_index start, tf_index n,
                        tf_index *lo, tf_index *hi)
{
    cell_range(x0, x1, h, gn, lo, hi);
    *lo = (*lo < start ? start : *lo) - start;
    *hi = (*hi > start + n - 1 ? start + n - 1 : *hi) - start;
}

/* Paint segments sg[0..ns) into the z plane k of the block g: a cell takes the larger of its
 * value and the segment's profile clamp(0.5 + (r - dist) / h, 0, 1), a linear edge one cell wide
 * that approximates the share of the cell inside the vessel. Returns the change of the plane's
 * sum in VESSEL_UNITs. */
static long long paint_plane(const tf_grid *g, tf_real *v, tf_index k, const segment *sg,
                             int ns, double r)
{
    const double h = g->h, reach = r + 0.5 * h;
    const double zc = ((double)(g->start[2] + k) + 0.5) * h;
    long long delta = 0;
    for (int s = 0; s < ns; ++s) {
        if (zc < sg[s].zlo || zc > sg[s].zhi)
            continue;
        double tz0 = 0.0, tz1 = 1.0;
        if (!clip_t(&sg[s], 2, zc, reach, &tz0, &tz1))
            continue;
        const double y0 = sg[s].a[1] + tz0 * sg[s].d[1], y1 = sg[s].a[1] + tz1 * sg[s].d[1];
        tf_index j0, j1;
        block_range(fmin(y0, y1) - reach, fmax(y0, y1) + reach, h, g->gn[1], g->start[1],
                    g->n[1], &j0, &j1);
        for (tf_index j = j0; j <= j1; ++j) {
            const double yc = ((double)(g->start[1] + j) + 0.5) * h;
            double t0 = tz0, t1 = tz1;
            if (!clip_t(&sg[s], 1, yc, reach, &t0, &t1))
                continue;
            const double x0 = sg[s].a[0] + t0 * sg[s].d[0], x1 = sg[s].a[0] + t1 * sg[s].d[0];
            tf_index i0, i1;
            block_range(fmin(x0, x1) - reach, fmax(x0, x1) + reach, h, g->gn[0], g->start[0],
                        g->n[0], &i0, &i1);
            tf_real *row = v + tf_at(g, 0, j, k);
            for (tf_index i = i0; i <= i1; ++i) {
                const double p[3] = {((double)(g->start[0] + i) + 0.5) * h, yc, zc};
                const double val = 0.5 + (r - sqrt(dist2_to_segment(p, sg[s].a, sg[s].d,
                                                                    sg[s].dd))) / h;
                if (val <= 0.0)
                    continue;
                const tf_real nv = (tf_real)(val > 1.0 ? 1.0 : val);
                if (nv > row[i]) {
                    delta += llround(((double)nv - (double)row[i]) * VESSEL_UNIT);
                    row[i] = nv;
                }
            }
        }
    }
    return delta;
}

/* Paint a batch of segments into block g; returns the change of the map's sum in VESSEL_UNITs
 * over all processes of par. Each z plane belongs to one thread and gets the segments in batch
 * order, so the map is the same for any number of threads and processes. */
static long long paint_batch(const tf_grid *g, const tf_par *par, tf_real *v, const segment *sg,
                             int ns, double r)
{
    const tf_index nz = g->n[2];
    long long total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (tf_index k = 0; k < nz; ++k)
        total += paint_plane(g, v, k, sg, ns, r);
    if (par)
        tf_par_sum_i64(par, &total, 1);
    return total;
}

/* The stream of vessel segments: chains of straight segments of length 10 r to 40 r that bend
 * at random at each joint and end at random or when they leave the domain. A segment passing
 * within half the tumor radius of the domain centre is dropped with chance 0.8 (and ends its
 * chain), so the tumor core is sparser. */
typedef struct {
    rng gen;
    double ext[3], centre[3], core, len_min, len_max, reach;
    double p[3], dir[3];
    int chain;
} segment_stream;

static segment next_segment(segment_stream *ss)
{
    for (;;) {
        if (!ss->chain) {
            for (int c = 0; c < 3; ++c)
                ss->p[c] = rng_uniform(&ss->gen) * ss->ext[c];
            rng_direction(&ss->gen, ss->dir);
        } else {
            double w[3], norm = 0.0;
            rng_direction(&ss->gen, w);
            for (int c = 0; c < 3; ++c) {
                w[c] = ss->dir[c] + VESSEL_BEND * w[c];
                norm += w[c] * w[c];
            }
            norm = sqrt(norm);
            if (norm > 1e-6)
                for (int c = 0; c < 3; ++c)
                    ss->dir[c] = w[c] / norm;
        }
        const double len = ss->len_min + (ss->len_max - ss->len_min) * rng_uniform(&ss->gen);
        segment sg;
        for (int c = 0; c < 3; ++c) {
            sg.a[c] = ss->p[c];
            sg.d[c] = len * ss->dir[c];
        }
        sg.dd = len * len;
        const double u_reject = rng_uniform(&ss->gen), u_continue = rng_uniform(&ss->gen);
        if (ss->core > 0.0 && dist2_to_segment(ss->centre, sg.a, sg.d, sg.dd) <
                                  ss->core * ss->core &&
            u_reject < VESSEL_CORE_REJECT) {
            ss->chain = 0;
            continue;
        }
        sg.zlo = fmin(sg.a[2], sg.a[2] + sg.d[2]) - ss->reach;
        sg.zhi = fmax(sg.a[2], sg.a[2] + sg.d[2]) + ss->reach;
        int inside = 1;
        for (int c = 0; c < 3; ++c) {
            const double e = sg.a[c] + sg.d[c];
            inside &= e >= 0.0 && e <= ss->ext[c];
        }
        ss->chain = inside && u_continue < VESSEL_CONTINUE;
        if (ss->chain)
            for (int c = 0; c < 3; ++c)
                ss->p[c] += sg.d[c];
        return sg;
    }
}

/* Generate the network into the padded array v of block g (zeroed here), painting only the
 * block's cells; par: the processes holding the other blocks (NULL: g is the whole grid):
 * segments of the stream are added until the mean of the map reaches the target fraction.
 * They are painted in batches of about half the segments still needed (estimated from a
 * segment's volume and the uncovered share), so the last batches hold one segment each and the
 * mean ends at most about one segment above the target. */
static tf_status generate_vessels(const tf_scenario *s, const tf_grid *g, const tf_par *par,
                                  tf_real *v)
{
    memset(v, 0, (size_t)g->nalloc * sizeof *v);
    const double cells = (double)g->gn[0] * (double)g->gn[1] * (double)g->gn[2];
    const double target = s->vessel_fraction * cells * VESSEL_UNIT;
    if (!(s->vessel_fraction > 0.0))
        return TF_OK;
    if (!(s->vessel_radius > 0.0))
        return TF_ERROR(TF_ERR_USAGE, "vessels.radius = %g um: expected a positive radius",
                        s->vessel_radius);

    if (s->vessel_fraction >= 1.0) { /* vessels everywhere */
        for (tf_index k = 0; k < g->n[2]; ++k)
            for (tf_index j = 0; j < g->n[1]; ++j)
                for (tf_index i = 0; i < g->n[0]; ++i)
                    v[tf_at(g, i, j, k)] = 1;
        return TF_OK;
    }

    const double h = g->h, r = s->vessel_radius;
    segment_stream ss;
    memset(&ss, 0, sizeof ss);
    ss.gen.state = s->seed;
    for (int c = 0; c < 3; ++c) {
        ss.ext[c] = (double)g->gn[c] * h;
        ss.centre[c] = 0.5 * ss.ext[c];
    }
    ss.core = VESSEL_CORE * s->tumor_radius;
    ss.len_min = fmax(VESSEL_LEN_MIN * r, 3.0 * h);
    ss.len_max = fmax(VESSEL_LEN_MAX * r, 6.0 * h);
    ss.reach = r + 0.5 * h;

    /* Cells of one segment without overlap: its length times the cross-section of the painted
     * profile clamp(0.5 + (r - d)/h, 0, 1) (1 out to d = r - h/2, then falling to 0 at
     * r + h/2), which is pi r^2 when r >> h but pi h^2/24 when r << h: with pi r^2 alone the
     * batches overshot the fraction by 2-8x on grids coarser than the vessels. Give up after
     * far more segments than that needs. */
    const double a = fmax(0.0, r - 0.5 * h), b = r + 0.5 * h;
    const double section = 2.0 * 3.14159265358979 *
                           (0.5 * a * a + (0.5 * b * (b * b - a * a) - (b * b * b - a * a * a) / 3.0) / h);
    const double seg_cells = fmax(section * 0.5 * (ss.len_min + ss.len_max) / (h * h * h), 1e-3);
    const double max_segments = 100.0 * target / (seg_cells * VESSEL_UNIT) + 10000.0;

    segment *batch = malloc(VESSEL_BATCH_MAX * sizeof *batch);
    tf_status ast = batch ? TF_OK
                          : TF_ERROR(TF_ERR_NOMEM, "vessel map: cannot allocate the segment batch");
    if (par) /* every process paints every batch */
        ast = tf_par_agree(par, ast);
    if (ast != TF_OK) {
        free(batch);
        return ast;
    }
    long long covered = 0; /* VESSEL_UNITs */
    long long segments = 0;
    tf_status st = TF_OK;
    while ((double)covered < target) {
        /* A new segment covers about seg_cells times the uncovered share of the volume. */
        const double gain =
            seg_cells * VESSEL_UNIT * fmax(1.0 - (double)covered / (cells * VESSEL_UNIT), 1e-3);
        double want = floor(0.5 * (target - (double)covered) / gain);
        want = want < 1.0 ? 1.0 : (want > VESSEL_BATCH_MAX ? VESSEL_BATCH_MAX : want);
        if ((double)segments + want > max_segments) {
            st = TF_ERROR(TF_ERR_USAGE,
                          "vessels.fraction = %g not reached: %.6g after %lld segments of "
                          "radius %g um; lower vessels.fraction",
                          s->vessel_fraction, (double)covered / (cells * VESSEL_UNIT), segments,
                          r);
            break;
        }
        const int ns = (int)want;
        for (int q = 0; q < ns; ++q)
            batch[q] = next_segment(&ss);
        segments += ns;
        covered += paint_batch(g, par, v, batch, ns, r);
    }
    free(batch);
    return st;
}

/* ---- NetCDF input ---- */

static const char *dim_label[3] = {"z", "y", "x"};

/* The variable `name` of the open file and its shape, checked against the global grid:
 * (z, y, x), or, when allow_time, (time, z, y, x) with at least one record; TF_ERR_USAGE naming
 * the file, variable and shape otherwise. len: the variable's dimension lengths. */
static tf_status field_shape(int ncid, const char *path, const char *name, const tf_grid *g,
                             int allow_time, int *varid_out, int *has_time_out, size_t len[4])
{
    int varid, ndims, dimids[NC_MAX_VAR_DIMS];
    int rc = nc_inq_varid(ncid, name, &varid);
    if (rc == NC_ENOTVAR)
        return TF_ERROR(TF_ERR_USAGE, "'%s' has no variable '%s'", path, name);
    TF_NC(rc, path);
    TF_NC(nc_inq_varndims(ncid, varid, &ndims), path);
    const size_t want[3] = {(size_t)g->gn[2], (size_t)g->gn[1], (size_t)g->gn[0]};
    const int has_time = ndims == 4;
    if (ndims != 3 && !(allow_time && has_time))
        return TF_ERROR(TF_ERR_USAGE,
                        "variable '%s' in '%s' has %d dimensions; expected (z, y, x) = "
                        "(%zu, %zu, %zu)%s",
                        name, path, ndims, want[0], want[1], want[2],
                        allow_time ? " or (time, z, y, x)" : "");
    /* Numbers: text, strings and user-defined types are no field. */
    nc_type type;
    TF_NC(nc_inq_vartype(ncid, varid, &type), path);
    if (!(type >= NC_BYTE && type <= NC_DOUBLE && type != NC_CHAR) &&
        !(type >= NC_UBYTE && type <= NC_UINT64))
        return TF_ERROR(TF_ERR_USAGE,
                        "variable '%s' in '%s' is not numeric (NetCDF type %d): expected "
                        "numbers (float or double, or integers)",
                        name, path, (int)type);
    /* Packed values (scale_factor, add_offset) would be read as the packed integers. */
    for (int a = 0; a < 2; ++a) {
        static const char *const packing[2] = {"scale_factor", "add_offset"};
        if (nc_inq_att(ncid, varid, packing[a], NULL, NULL) == NC_NOERR)
            return TF_ERROR(TF_ERR_USAGE,
                            "variable '%s' in '%s' is packed (it has a %s attribute): unpack "
                            "it first (e.g. ncpdq -U, or write the values themselves)",
                            name, path, packing[a]);
    }
    TF_NC(nc_inq_vardimid(ncid, varid, dimids), path);
    char dname[4][NC_MAX_NAME + 1];
    for (int d = 0; d < ndims; ++d) {
        TF_NC(nc_inq_dimlen(ncid, dimids[d], &len[d]), path);
        TF_NC(nc_inq_dimname(ncid, dimids[d], dname[d]), path);
    }
    /* Dimensions named x, y, z must stand in that order (z, y, x): a map written as (x, y, z)
     * would be read transposed, silently on a cubic grid. Other names are taken by position. */
    for (int d = 0; d < 3; ++d) {
        const char *got = dname[d + has_time];
        for (int e = 0; e < 3; ++e)
            if (e != d && strcmp(got, dim_label[e]) == 0)
                return TF_ERROR(TF_ERR_USAGE,
                                "variable '%s' in '%s' has the dimensions (%s%s, %s, %s); "
                                "expected (z, y, x): the last dimension varies fastest and is "
                                "x (reorder it, e.g. ncpdq -a z,y,x)",
                                name, path, has_time ? "time, " : "", dname[has_time],
                                dname[has_time + 1], dname[has_time + 2]);
    }
    /* A fourth dimension is time (its last record is read): the unlimited one, or one named
     * time; another (species, ensemble member) is not. */
    if (has_time) {
        int unlim[NC_MAX_DIMS], nunlim = 0, is_unlim = 0;
        if (nc_inq_unlimdims(ncid, &nunlim, unlim) == NC_NOERR)
            for (int u = 0; u < nunlim; ++u)
                is_unlim |= unlim[u] == dimids[0];
        if (!is_unlim && strcmp(dname[0], "time") != 0 && strcmp(dname[0], "t") != 0)
            return TF_ERROR(TF_ERR_USAGE,
                            "variable '%s' in '%s' has the dimensions (%s, %s, %s, %s): a "
                            "fourth dimension must be time (named time, or the unlimited "
                            "one), whose last record is read",
                            name, path, dname[0], dname[1], dname[2], dname[3]);
    }
    const size_t *sp = len + has_time;
    if (sp[0] != want[0] || sp[1] != want[1] || sp[2] != want[2])
        return TF_ERROR(TF_ERR_USAGE,
                        "variable '%s' in '%s' has shape (%s%zu, %zu, %zu); expected (z, y, x) "
                        "= (%zu, %zu, %zu), the scenario's grid",
                        name, path, has_time ? "time, " : "", sp[0], sp[1], sp[2], want[0],
                        want[1], want[2]);
    if (has_time && len[0] == 0)
        return TF_ERROR(TF_ERR_USAGE, "variable '%s' in '%s' has no time records", name, path);

    *varid_out = varid;
    *has_time_out = has_time;
    return TF_OK;
}

/* Read variable `name` of the open file into the interior of the padded local array dst,
 * one z plane at a time. The variable has shape (z, y, x) matching the global grid, or, when
 * allow_time, (time, z, y, x) whose last record is read. Values must be finite and in
 * [lo, hi] (and within the field precision), and not the variable's fill or missing value;
 * otherwise TF_ERR_USAGE naming the file, variable and cell. dst NULL: only checked (check). */
static tf_status read_field(int ncid, const char *path, const char *name, const tf_grid *g,
                            tf_real *dst, int allow_time, double lo, double hi)
{
    int varid, has_time, rc;
    size_t len[4];
    TF_TRY(field_shape(ncid, path, name, g, allow_time, &varid, &has_time, len));
    const size_t nx = (size_t)g->n[0], ny = (size_t)g->n[1];
    double *plane = malloc(nx * ny * sizeof *plane);
    if (!plane)
        return TF_ERROR(TF_ERR_NOMEM, "cannot allocate a plane of %zu x %zu values", nx, ny);
    size_t start[4], count[4];
    if (has_time) {
        start[0] = len[0] - 1;
        count[0] = 1;
    }
    /* A value a variable holds where nothing was written (its _FillValue, or the default fill
     * of its type) or marked missing (missing_value): no field value. */
    double fill = NAN, missing = NAN;
    int no_fill = 1;
    if (nc_inq_var_fill(ncid, varid, &no_fill, NULL) == NC_NOERR && !no_fill) {
        double fv;
        if (nc_get_att_double(ncid, varid, "_FillValue", &fv) == NC_NOERR)
            fill = fv;
        else {
            nc_type type;
            if (nc_inq_vartype(ncid, varid, &type) == NC_NOERR)
                fill = type == NC_FLOAT ? (double)NC_FILL_FLOAT
                       : type == NC_DOUBLE ? NC_FILL_DOUBLE : NAN; /* integers: in range */
        }
    }
    {
        nc_type mt;
        size_t ml = 0;
        double mv;
        if (nc_inq_att(ncid, varid, "missing_value", &mt, &ml) == NC_NOERR && ml == 1 &&
            mt != NC_CHAR && mt != NC_STRING &&
            nc_get_att_double(ncid, varid, "missing_value", &mv) == NC_NOERR)
            missing = mv;
    }
    /* And one the field precision holds (1e39 would become infinity in float). */
    if (hi > (double)TF_REAL_MAX)
        hi = (double)TF_REAL_MAX;
    size_t *st = start + has_time, *ct = count + has_time;
    st[1] = (size_t)g->start[1];
    st[2] = (size_t)g->start[0];
    ct[0] = 1;
    ct[1] = ny;
    ct[2] = nx;
    tf_status status = TF_OK;
    for (tf_index k = 0; k < g->n[2] && status == TF_OK; ++k) {
        st[0] = (size_t)(g->start[2] + k);
        rc = nc_get_vara_double(ncid, varid, start, count, plane);
        if (rc != NC_NOERR) {
            status = TF_ERROR(TF_ERR_IO, "NetCDF: reading variable '%s' of '%s': %s", name,
                              path, nc_strerror(rc));
            break;
        }
        for (tf_index j = 0; j < g->n[1]; ++j)
            for (tf_index i = 0; i < g->n[0]; ++i) {
                const double x = plane[(size_t)j * nx + (size_t)i];
                if (x == fill || x == missing) {
                    status = TF_ERROR(TF_ERR_USAGE,
                                      "variable '%s' in '%s' holds its %s %g at (%s, %s, %s) = "
                                      "(%lld, %lld, %lld): a value never written or marked "
                                      "missing; give every cell a value",
                                      name, path, x == fill ? "fill value" : "missing_value", x,
                                      dim_label[0], dim_label[1], dim_label[2],
                                      (long long)(g->start[2] + k), (long long)(g->start[1] + j),
                                      (long long)(g->start[0] + i));
                    break;
                }
                if (!(x >= lo && x <= hi)) {
                    status = TF_ERROR(TF_ERR_USAGE,
                                      "variable '%s' in '%s' holds %g at (%s, %s, %s) = (%lld, "
                                      "%lld, %lld); expected values in [%g, %g]",
                                      name, path, x, dim_label[0], dim_label[1], dim_label[2],
                                      (long long)(g->start[2] + k), (long long)(g->start[1] + j),
                                      (long long)(g->start[0] + i), lo, hi);
                    break;
                }
                if (dst)
                    dst[tf_at(g, i, j, k)] = (tf_real)x;
            }
    }
    free(plane);
    return status;
}

/* Open the input file of scenario key `key` (vessels.file, initial.file) read-only. */
/* A file that is not there or may not be read is an I/O failure (exit 4); one that opens but
 * is no NetCDF file is bad input (exit 2), as for a restart file. */
/* A classic (netCDF-3) file cut short in its data reads as zeros where the bytes are missing:
 * its variables' data, counted from their shapes, must fit in the file. (netCDF-4 files carry
 * HDF5's own structure, and a cut one fails to read.) */
static tf_status classic_whole(int ncid, const char *path, const char *key)
{
    int format = 0, nvars = 0, unlim = -1;
    if (nc_inq_format(ncid, &format) != NC_NOERR ||
        !(format == NC_FORMAT_CLASSIC || format == NC_FORMAT_64BIT_OFFSET ||
          format == NC_FORMAT_CDF5) ||
        nc_inq(ncid, NULL, &nvars, NULL, &unlim) != NC_NOERR)
        return TF_OK;
    double need = 0.0;
    for (int v = 0; v < nvars; ++v) {
        int ndims = 0, dims[NC_MAX_VAR_DIMS];
        nc_type type;
        size_t tsize = 0;
        if (nc_inq_var(ncid, v, NULL, &type, &ndims, dims, NULL) != NC_NOERR ||
            nc_inq_type(ncid, type, NULL, &tsize) != NC_NOERR)
            return TF_OK;
        double n = (double)tsize;
        for (int d = 0; d < ndims; ++d) {
            size_t len = 0;
            if (nc_inq_dimlen(ncid, dims[d], &len) != NC_NOERR)
                return TF_OK;
            n *= (double)len;
        }
        need += n;
    }
    struct stat sb;
    if (stat(path, &sb) == 0 && (double)sb.st_size < need)
        return TF_ERROR(TF_ERR_USAGE,
                        "%s '%s' is cut short: its variables hold %.0f bytes of data, the file "
                        "has %lld bytes in all (a copy or download that did not finish?)",
                        key, path, need, (long long)sb.st_size);
    return TF_OK;
}

static tf_status open_input(const char *path, const char *key, int *ncid)
{
    TF_TRY(tf_regular_file(path, key));
    const int rc = nc_open(path, NC_NOWRITE, ncid);
    if (rc != NC_NOERR)
        return TF_ERROR(rc == ENOENT || rc == EACCES ? TF_ERR_IO : TF_ERR_USAGE,
                        "cannot open %s '%s': %s", key, path, nc_strerror(rc));
    const tf_status st = classic_whole(*ncid, path, key);
    if (st != TF_OK)
        nc_close(*ncid);
    return st;
}

/* The six fields of initial.file into f, or, f NULL, only checked (check): the shapes of all
 * first (a mistake there is named before a value is read), then every value, plane by plane. */
static tf_status read_fields_file(const char *path, const tf_grid *g,
                                  tf_real *const *f)
{
    int ncid, varid, has_time;
    size_t len[4];
    TF_TRY(open_input(path, "initial.file", &ncid));
    tf_status st = TF_OK;
    for (int q = 0; q < TF_NFIELDS && st == TF_OK; ++q)
        if (nc_inq_varid(ncid, tf_field_name[q], &varid) == NC_ENOTVAR)
            st = TF_ERROR(TF_ERR_USAGE,
                          "initial.file '%s' has no variable '%s': an initial file holds all "
                          "six fields (tumor, effector, suppressor, pro_cytokine, anti_cytokine, "
                          "cortisol), as a run's checkpoint or its NAME.nc with output.fields = "
                          "all does",
                          path, tf_field_name[q]);
    for (int q = 0; q < TF_NFIELDS && st == TF_OK; ++q)
        st = field_shape(ncid, path, tf_field_name[q], g, 1, &varid, &has_time, len);
    for (int q = 0; q < TF_NFIELDS && st == TF_OK; ++q)
        st = read_field(ncid, path, tf_field_name[q], g, f ? f[q] : NULL, 1, 0.0,
                        q == TF_TUMOR ? 1.0 : HUGE_VAL);
    nc_close(ncid);
    return st;
}

/* The vessel map of vessels.file into v, or, v NULL, only checked. */
static tf_status read_vessel_file(const tf_scenario *s, const tf_grid *g, tf_real *v)
{
    const char *name = s->vessel_variable[0] ? s->vessel_variable : "vessel";
    int ncid;
    TF_TRY(open_input(s->vessel_file, "vessels.file", &ncid));
    const tf_status st = read_field(ncid, s->vessel_file, name, g, v, 0, 0.0, 1.0);
    nc_close(ncid);
    return st;
}

tf_status tf_initial_check_files(const tf_scenario *s)
{
    tf_grid g;
    TF_TRY(tf_grid_init(&g, s->n[0], s->n[1], s->n[2], s->spacing));
    if (s->vessel_file[0])
        TF_TRY(read_vessel_file(s, &g, NULL));
    if (s->initial_file[0])
        TF_TRY(read_fields_file(s->initial_file, &g, NULL));
    return TF_OK;
}

/* ---- the default fields ---- */

/* Tumor spheroid of radius R at the domain centre, T = density * (1 - tanh((r - R) / h)) / 2,
 * an edge about two cells wide; E = S = P = 0, A = A_base, C = C_base. */
static void default_fields(const tf_scenario *s, const tf_grid *g, tf_real *const f[TF_NFIELDS])
{
    const double h = g->h, R = s->tumor_radius, dens = s->tumor_density;
    const double cx = 0.5 * (double)g->gn[0] * h, cy = 0.5 * (double)g->gn[1] * h,
                 cz = 0.5 * (double)g->gn[2] * h;
    const tf_real A0 = (tf_real)s->p.A_base, C0 = (tf_real)s->p.C_base;
#pragma omp parallel for schedule(static)
    for (tf_index k = 0; k < g->n[2]; ++k) {
        const double z = ((double)(g->start[2] + k) + 0.5) * h - cz;
        for (tf_index j = 0; j < g->n[1]; ++j) {
            const double y = ((double)(g->start[1] + j) + 0.5) * h - cy;
            for (tf_index i = 0; i < g->n[0]; ++i) {
                const double x = ((double)(g->start[0] + i) + 0.5) * h - cx;
                const double rr = sqrt(x * x + y * y + z * z);
                const tf_index p = tf_at(g, i, j, k);
                f[TF_TUMOR][p] = R > 0.0 ? (tf_real)(dens * 0.5 * (1.0 - tanh((rr - R) / h)))
                                         : (tf_real)0;
                f[TF_EFFECTOR][p] = f[TF_SUPPRESSOR][p] = f[TF_PRO][p] = 0;
                f[TF_ANTI][p] = A0;
                f[TF_CORTISOL][p] = C0;
            }
        }
    }
}

tf_status tf_initial_state(const tf_scenario *s, const tf_grid *g, const tf_par *par,
                           tf_real *const f[TF_NFIELDS], tf_real *vessel)
{
    /* Ghost cells are zero on return. */
    for (int q = 0; q < TF_NFIELDS; ++q)
        memset(f[q], 0, (size_t)g->nalloc * sizeof(tf_real));
    memset(vessel, 0, (size_t)g->nalloc * sizeof(tf_real));

    if (s->vessel_file[0]) {
        TF_TRY(read_vessel_file(s, g, vessel));
    } else if (tf_grid_is_whole(g)) {
        TF_TRY(generate_vessels(s, g, NULL, vessel));
    } else if (par && par->size > 1) {
        /* Each process paints its block; the painted volume is summed over all of them. */
        TF_TRY(generate_vessels(s, g, par, vessel));
    } else {
        /* A block alone: generate the whole map (the fraction is global), keep the block. */
        tf_grid whole;
        TF_TRY(tf_grid_init(&whole, g->gn[0], g->gn[1], g->gn[2], g->h));
        tf_real *all = malloc((size_t)whole.nalloc * sizeof *all);
        if (!all)
            return TF_ERROR(TF_ERR_NOMEM, "vessel map: cannot allocate %lld values",
                            (long long)whole.nalloc);
        const tf_status st = generate_vessels(s, &whole, NULL, all);
        if (st == TF_OK)
            for (tf_index k = 0; k < g->n[2]; ++k)
                for (tf_index j = 0; j < g->n[1]; ++j)
                    for (tf_index i = 0; i < g->n[0]; ++i)
                        vessel[tf_at(g, i, j, k)] = all[tf_at(
                            &whole, g->start[0] + i, g->start[1] + j, g->start[2] + k)];
        free(all);
        TF_TRY(st);
    }

    if (s->initial_file[0])
        return read_fields_file(s->initial_file, g, f);
    default_fields(s, g, f);
    return TF_OK;
}
