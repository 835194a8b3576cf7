/* init.c: the initial state of a run: the vessel map (a seeded random network of straight
 * vessel segments, or a NetCDF map) and the six fields (the default spheroid of docs/model.md, or
 * the fields of a NetCDF file such as an earlier run's output).
 *
 * Everything is computed in global cell coordinates (centre of global cell i at (i + 0.5) h
 * um), so a block of a decomposed grid gets the same values as the whole grid has there, and
 * the results do not depend on the number of OpenMP threads. */
#include "tf_io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

typedef struct {
    const tf_grid *g; /* the whole grid (start 0) */
    tf_real *v;       /* its padded vessel array */
    double r, h;      /* vessel radius, spacing (um) */
    double *slab;     /* per-slab coverage change of one segment, length max(gn) */
} vessel_canvas;

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

static tf_index clamp_index(double x, tf_index lo, tf_index hi)
{
    if (x < (double)lo)
        return lo;
    if (x > (double)hi)
        return hi;
    return (tf_index)x;
}

/* Paint the vessel segment a -> b into the canvas: a cell takes the larger of its value and the
 * segment's profile clamp(0.5 + (r - dist) / h, 0, 1), a linear edge one cell wide that
 * approximates the share of the cell inside the vessel. Returns the change of the sum of the
 * map. The cells of one slab along the segment's main axis are touched by one thread only and
 * the slab sums are added in slab order, so the result is the same for any thread count. */
static double paint_segment(vessel_canvas *cv, const double a[3], const double b[3])
{
    const tf_grid *g = cv->g;
    const double h = cv->h, r = cv->r, reach = r + 0.5 * h;
    double d[3], dd = 0.0;
    int ax = 0;
    for (int c = 0; c < 3; ++c) {
        d[c] = b[c] - a[c];
        dd += d[c] * d[c];
        if (fabs(d[c]) > fabs(d[ax]))
            ax = c;
    }
    const int o1 = (ax + 1) % 3, o2 = (ax + 2) % 3;
    const tf_index c0 = clamp_index(floor((fmin(a[ax], b[ax]) - reach) / h), 0, g->gn[ax] - 1);
    const tf_index c1 = clamp_index(floor((fmax(a[ax], b[ax]) + reach) / h), 0, g->gn[ax] - 1);
    if (fmax(a[ax], b[ax]) + reach < 0.0 || fmin(a[ax], b[ax]) - reach > (double)g->gn[ax] * h)
        return 0.0;
    const tf_index nslab = c1 - c0 + 1;
    const tf_index step[3] = {1, g->sy, g->sz};

#pragma omp parallel for schedule(static) if (nslab >= 8)
    for (tf_index c = c0; c <= c1; ++c) {
        const double xc = ((double)c + 0.5) * h;
        /* Parameters t in [0, 1] whose point lies within reach of this slab's centre plane. */
        double t0 = 0.0, t1 = 1.0;
        if (d[ax] != 0.0) {
            double ta = (xc - reach - a[ax]) / d[ax], tb = (xc + reach - a[ax]) / d[ax];
            if (ta > tb) {
                const double x = ta;
                ta = tb;
                tb = x;
            }
            t0 = fmax(t0, ta);
            t1 = fmin(t1, tb);
        } else if (fabs(a[ax] - xc) > reach) {
            t1 = -1.0;
        }
        double sum = 0.0;
        if (t0 <= t1) {
            const double lo1 = fmin(a[o1] + t0 * d[o1], a[o1] + t1 * d[o1]) - reach;
            const double hi1 = fmax(a[o1] + t0 * d[o1], a[o1] + t1 * d[o1]) + reach;
            const double lo2 = fmin(a[o2] + t0 * d[o2], a[o2] + t1 * d[o2]) - reach;
            const double hi2 = fmax(a[o2] + t0 * d[o2], a[o2] + t1 * d[o2]) + reach;
            if (hi1 >= 0.0 && hi2 >= 0.0 && lo1 <= (double)g->gn[o1] * h &&
                lo2 <= (double)g->gn[o2] * h) {
                const tf_index m0 = clamp_index(floor(lo1 / h), 0, g->gn[o1] - 1);
                const tf_index m1 = clamp_index(floor(hi1 / h), 0, g->gn[o1] - 1);
                const tf_index n0 = clamp_index(floor(lo2 / h), 0, g->gn[o2] - 1);
                const tf_index n1 = clamp_index(floor(hi2 / h), 0, g->gn[o2] - 1);
                double p[3];
                p[ax] = xc;
                for (tf_index q2 = n0; q2 <= n1; ++q2) {
                    p[o2] = ((double)q2 + 0.5) * h;
                    for (tf_index q1 = m0; q1 <= m1; ++q1) {
                        p[o1] = ((double)q1 + 0.5) * h;
                        const double dist = sqrt(dist2_to_segment(p, a, d, dd));
                        double val = 0.5 + (r - dist) / h;
                        if (val <= 0.0)
                            continue;
                        val = val > 1.0 ? 1.0 : val;
                        tf_real *cell = cv->v + tf_at(g, 0, 0, 0) + c * step[ax] +
                                        q1 * step[o1] + q2 * step[o2];
                        const tf_real nv = (tf_real)val;
                        if (nv > *cell) {
                            sum += (double)nv - (double)*cell;
                            *cell = nv;
                        }
                    }
                }
            }
        }
        cv->slab[c - c0] = sum;
    }
    double total = 0.0;
    for (tf_index c = 0; c < nslab; ++c)
        total += cv->slab[c];
    return total;
}

/* Generate the network on the whole grid `g` (start 0) into its padded array v (zeroed here).
 * Vessels are chains of straight segments of length 10 r to 40 r that bend at random at each
 * joint; a segment passing within half the tumor radius of the tumor centre is dropped with
 * chance 0.8, so the core is sparser. Segments are added until the mean of the map reaches the
 * target fraction. */
static tf_status generate_vessels(const tf_scenario *s, const tf_grid *g, tf_real *v)
{
    memset(v, 0, (size_t)g->nalloc * sizeof *v);
    const double target = s->vessel_fraction * (double)g->ncells;
    if (!(s->vessel_fraction > 0.0))
        return TF_OK;
    if (!(s->vessel_radius > 0.0))
        return TF_ERROR(TF_ERR_USAGE, "vessels.radius = %g um: expected a positive radius",
                        s->vessel_radius);

    const double h = g->h, r = s->vessel_radius;
    const double ext[3] = {(double)g->gn[0] * h, (double)g->gn[1] * h, (double)g->gn[2] * h};
    const double centre[3] = {0.5 * ext[0], 0.5 * ext[1], 0.5 * ext[2]};
    const double core = VESSEL_CORE * s->tumor_radius;
    const double len_min = fmax(VESSEL_LEN_MIN * r, 3.0 * h);
    const double len_max = fmax(VESSEL_LEN_MAX * r, 6.0 * h);

    tf_index gmax = g->gn[0] > g->gn[1] ? g->gn[0] : g->gn[1];
    gmax = gmax > g->gn[2] ? gmax : g->gn[2];
    vessel_canvas cv = {g, v, r, h, malloc((size_t)gmax * sizeof(double))};
    if (!cv.slab)
        return TF_ERROR(TF_ERR_NOMEM, "vessel map: cannot allocate %lld doubles",
                        (long long)gmax);

    /* Give up after far more segments than the target needs without overlap. */
    const double seg_cells = 3.14159265358979 * r * r * 0.5 * (len_min + len_max) / (h * h * h);
    const double max_segments = 100.0 * target / fmax(seg_cells, 1e-3) + 10000.0;

    rng gen = {s->seed};
    double covered = 0.0, p[3] = {0, 0, 0}, dir[3] = {1, 0, 0};
    int chain = 0;
    long long segments = 0;
    while (covered < target) {
        if (++segments > max_segments) {
            free(cv.slab);
            return TF_ERROR(TF_ERR_USAGE,
                            "vessels.fraction = %g not reached: %.4g after %lld segments of "
                            "radius %g um; lower vessels.fraction",
                            s->vessel_fraction, covered / (double)g->ncells, segments - 1, r);
        }
        if (!chain) {
            for (int c = 0; c < 3; ++c)
                p[c] = rng_uniform(&gen) * ext[c];
            rng_direction(&gen, dir);
        } else {
            double w[3], norm = 0.0;
            rng_direction(&gen, w);
            for (int c = 0; c < 3; ++c) {
                w[c] = dir[c] + VESSEL_BEND * w[c];
                norm += w[c] * w[c];
            }
            norm = sqrt(norm);
            if (norm > 1e-6)
                for (int c = 0; c < 3; ++c)
                    dir[c] = w[c] / norm;
        }
        const double len = len_min + (len_max - len_min) * rng_uniform(&gen);
        double q[3], d[3];
        for (int c = 0; c < 3; ++c) {
            d[c] = len * dir[c];
            q[c] = p[c] + d[c];
        }
        const double u_reject = rng_uniform(&gen), u_continue = rng_uniform(&gen);
        if (core > 0.0 && dist2_to_segment(centre, p, d, len * len) < core * core &&
            u_reject < VESSEL_CORE_REJECT) {
            chain = 0;
            continue;
        }
        covered += paint_segment(&cv, p, q);
        const int inside = q[0] >= 0.0 && q[0] <= ext[0] && q[1] >= 0.0 && q[1] <= ext[1] &&
                           q[2] >= 0.0 && q[2] <= ext[2];
        chain = inside && u_continue < VESSEL_CONTINUE;
        if (chain)
            memcpy(p, q, sizeof p);
    }
    free(cv.slab);
    return TF_OK;
}

/* ---- NetCDF input ---- */

static const char *dim_label[3] = {"z", "y", "x"};

/* Read variable `name` of the open file into the interior of the padded local array dst,
 * one z plane at a time. The variable has shape (z, y, x) matching the global grid, or, when
 * allow_time, (time, z, y, x) whose last record is read. Values must be finite and in
 * [lo, hi]; otherwise TF_ERR_USAGE naming the file, variable and cell. */
static tf_status read_field(int ncid, const char *path, const char *name, const tf_grid *g,
                            tf_real *dst, int allow_time, double lo, double hi)
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
    TF_NC(nc_inq_vardimid(ncid, varid, dimids), path);
    size_t len[4];
    for (int d = 0; d < ndims; ++d)
        TF_NC(nc_inq_dimlen(ncid, dimids[d], &len[d]), path);
    const size_t *sp = len + has_time;
    if (sp[0] != want[0] || sp[1] != want[1] || sp[2] != want[2])
        return TF_ERROR(TF_ERR_USAGE,
                        "variable '%s' in '%s' has shape (%s%zu, %zu, %zu); expected (z, y, x) "
                        "= (%zu, %zu, %zu), the scenario's grid",
                        name, path, has_time ? "time, " : "", sp[0], sp[1], sp[2], want[0],
                        want[1], want[2]);
    if (has_time && len[0] == 0)
        return TF_ERROR(TF_ERR_USAGE, "variable '%s' in '%s' has no time records", name, path);

    const size_t nx = (size_t)g->n[0], ny = (size_t)g->n[1];
    double *plane = malloc(nx * ny * sizeof *plane);
    if (!plane)
        return TF_ERROR(TF_ERR_NOMEM, "cannot allocate a plane of %zu x %zu values", nx, ny);
    size_t start[4], count[4];
    if (has_time) {
        start[0] = len[0] - 1;
        count[0] = 1;
    }
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
                if (!(x >= lo && x <= hi)) {
                    status = TF_ERROR(TF_ERR_USAGE,
                                      "variable '%s' in '%s' holds %g at (%s, %s, %s) = (%lld, "
                                      "%lld, %lld); expected values in [%g, %g]",
                                      name, path, x, dim_label[0], dim_label[1], dim_label[2],
                                      (long long)(g->start[2] + k), (long long)(g->start[1] + j),
                                      (long long)(g->start[0] + i), lo, hi);
                    break;
                }
                dst[tf_at(g, i, j, k)] = (tf_real)x;
            }
    }
    free(plane);
    return status;
}

static tf_status read_fields_file(const char *path, const tf_grid *g,
                                  tf_real *const f[TF_NFIELDS])
{
    int ncid, rc = nc_open(path, NC_NOWRITE, &ncid);
    if (rc != NC_NOERR)
        return TF_ERROR(TF_ERR_IO, "cannot open initial.file '%s': %s", path, nc_strerror(rc));
    tf_status st = TF_OK;
    for (int q = 0; q < TF_NFIELDS && st == TF_OK; ++q)
        st = read_field(ncid, path, tf_field_name[q], g, f[q], 1, 0.0,
                        q == TF_TUMOR ? 1.0 : HUGE_VAL);
    nc_close(ncid);
    return st;
}

static tf_status read_vessel_file(const tf_scenario *s, const tf_grid *g, tf_real *v)
{
    const char *name = s->vessel_variable[0] ? s->vessel_variable : "vessel";
    int ncid, rc = nc_open(s->vessel_file, NC_NOWRITE, &ncid);
    if (rc != NC_NOERR)
        return TF_ERROR(TF_ERR_IO, "cannot open vessels.file '%s': %s", s->vessel_file,
                        nc_strerror(rc));
    const tf_status st = read_field(ncid, s->vessel_file, name, g, v, 0, 0.0, 1.0);
    nc_close(ncid);
    return st;
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

static int whole_grid(const tf_grid *g)
{
    for (int d = 0; d < 3; ++d)
        if (g->start[d] != 0 || g->n[d] != g->gn[d])
            return 0;
    return 1;
}

tf_status tf_initial_state(const tf_scenario *s, const tf_grid *g, tf_real *const f[TF_NFIELDS],
                           tf_real *vessel)
{
    /* Ghost cells are zero on return. */
    for (int q = 0; q < TF_NFIELDS; ++q)
        memset(f[q], 0, (size_t)g->nalloc * sizeof(tf_real));
    memset(vessel, 0, (size_t)g->nalloc * sizeof(tf_real));

    if (s->vessel_file[0]) {
        TF_TRY(read_vessel_file(s, g, vessel));
    } else if (whole_grid(g)) {
        TF_TRY(generate_vessels(s, g, vessel));
    } else {
        /* A block of a decomposed grid: generate the whole map (the fraction is global), keep
         * the block. */
        tf_grid whole;
        TF_TRY(tf_grid_init(&whole, g->gn[0], g->gn[1], g->gn[2], g->h));
        tf_real *all = malloc((size_t)whole.nalloc * sizeof *all);
        if (!all)
            return TF_ERROR(TF_ERR_NOMEM, "vessel map: cannot allocate %lld values",
                            (long long)whole.nalloc);
        const tf_status st = generate_vessels(s, &whole, all);
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
