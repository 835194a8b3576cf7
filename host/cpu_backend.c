/* cpu_backend.c: the reference backend, parallel with OpenMP over z-planes (static schedule,
 * the same in the first-touch initialisation, so each thread's planes live in its memory).
 *
 * Arrays: every field is one padded array of g.nalloc elements (tf_grid.h); the explicit scheme
 * keeps a second set (`next`) and swaps. The per-voxel physics is tf_model.h's. */
#include "tf_backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) || defined(__SSE2__)
#include <xmmintrin.h>
#endif

/* Whether a sweep over grid g is worth a parallel region. */
#define PAR(g) ((g)->ncells >= TF_CPU_PARALLEL_MIN_CELLS)

typedef struct {
    const tf_setup *su;
    tf_grid g;
    tf_real *f[TF_NFIELDS];
    tf_real *next[TF_NFIELDS]; /* explicit scheme only */
    tf_real *vessel;
} cpu_impl;

static tf_real *alloc_field(const tf_grid *g)
{
    const size_t bytes = ((size_t)g->nalloc * sizeof(tf_real) + 63) / 64 * 64;
    tf_real *a = aligned_alloc(64, bytes);
    if (!a)
        return NULL;
    /* First touch with the compute loops' distribution over z. */
#pragma omp parallel for schedule(static)
    for (tf_index k = 0; k < g->n[2] + 2; ++k)
        memset(a + k * g->sz, 0, sizeof(tf_real) * (size_t)g->sz);
    return a;
}

static void cpu_destroy(void *impl)
{
    cpu_impl *c = impl;
    if (!c)
        return;
    for (int f = 0; f < TF_NFIELDS; ++f) {
        free(c->f[f]);
        free(c->next[f]);
    }
    free(c->vessel);
    free(c);
}

/* Flush denormals to zero in every OpenMP thread: fields that decay or diffuse into empty
 * tissue pass through values below 1e-38, and denormal arithmetic runs up to 100x slower on x86.
 * Such values are zero for the model; GPUs flush them in hardware-speed paths anyway. */
static void flush_denormals(void)
{
#if defined(__x86_64__) || defined(__SSE2__)
#pragma omp parallel
    _mm_setcsr(_mm_getcsr() | 0x8040); /* FTZ | DAZ */
#endif
}

static tf_status cpu_create(const tf_setup *su, void **impl, char *desc, size_t desc_len)
{
    flush_denormals();
    cpu_impl *c = calloc(1, sizeof *c);
    if (!c)
        return TF_ERROR(TF_ERR_NOMEM, "out of memory");
    c->su = su;
    c->g = su->g;
    int ok = (c->vessel = alloc_field(&c->g)) != NULL;
    for (int f = 0; f < TF_NFIELDS && ok; ++f) {
        ok = (c->f[f] = alloc_field(&c->g)) != NULL;
        if (ok && su->scheme == TF_SCHEME_EXPLICIT)
            ok = (c->next[f] = alloc_field(&c->g)) != NULL;
    }
    if (!ok) {
        const int nbuf = 1 + TF_NFIELDS * (su->scheme == TF_SCHEME_EXPLICIT ? 2 : 1);
        cpu_destroy(c);
        return TF_ERROR(TF_ERR_NOMEM, "cpu backend: cannot allocate %.3f GiB for the state",
                        (double)nbuf * (double)su->g.nalloc * sizeof(tf_real) / 1073741824.0);
    }
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    snprintf(desc, desc_len, "cpu (%d OpenMP thread%s, %s)", threads, threads == 1 ? "" : "s",
             TF_REAL_NAME);
    *impl = c;
    return TF_OK;
}

static tf_status cpu_set_state(void *impl, tf_real *const fields[TF_NFIELDS],
                               const tf_real *vessel)
{
    cpu_impl *c = impl;
    const size_t bytes = sizeof(tf_real) * (size_t)c->g.nalloc;
    for (int f = 0; f < TF_NFIELDS; ++f)
        memcpy(c->f[f], fields[f], bytes);
    memcpy(c->vessel, vessel, bytes);
    return TF_OK;
}

static tf_status cpu_get_state(void *impl, tf_real *const fields[TF_NFIELDS], unsigned mask)
{
    cpu_impl *c = impl;
    const size_t bytes = sizeof(tf_real) * (size_t)c->g.nalloc;
    for (int f = 0; f < TF_NFIELDS; ++f)
        if (mask & (1u << f))
            memcpy(fields[f], c->f[f], bytes);
    return TF_OK;
}

void tf_fill_ghosts_host(const tf_grid *g, const tf_bc bc[TF_NFACES], tf_real *a)
{
    const tf_index nx = g->n[0], ny = g->n[1], nz = g->n[2];
    /* x faces */
#pragma omp parallel for schedule(static) if (PAR(g))
    for (tf_index k = 0; k < nz; ++k)
        for (tf_index j = 0; j < ny; ++j) {
            tf_real *row = a + tf_at(g, 0, j, k);
            row[-1] = tf_ghost_value(bc[TF_FACE_XLO].kind, (tf_real)bc[TF_FACE_XLO].value, row[0],
                                     row[nx - 1]);
            row[nx] = tf_ghost_value(bc[TF_FACE_XHI].kind, (tf_real)bc[TF_FACE_XHI].value,
                                     row[nx - 1], row[0]);
        }
    /* y faces */
#pragma omp parallel for schedule(static) if (PAR(g))
    for (tf_index k = 0; k < nz; ++k)
        for (tf_index i = 0; i < nx; ++i) {
            tf_real *lo = a + tf_at(g, i, 0, k), *hi = a + tf_at(g, i, ny - 1, k);
            lo[-g->sy] = tf_ghost_value(bc[TF_FACE_YLO].kind, (tf_real)bc[TF_FACE_YLO].value,
                                        lo[0], hi[0]);
            hi[g->sy] = tf_ghost_value(bc[TF_FACE_YHI].kind, (tf_real)bc[TF_FACE_YHI].value,
                                       hi[0], lo[0]);
        }
    /* z faces */
#pragma omp parallel for schedule(static) if (PAR(g))
    for (tf_index j = 0; j < ny; ++j)
        for (tf_index i = 0; i < nx; ++i) {
            tf_real *lo = a + tf_at(g, i, j, 0), *hi = a + tf_at(g, i, j, nz - 1);
            lo[-g->sz] = tf_ghost_value(bc[TF_FACE_ZLO].kind, (tf_real)bc[TF_FACE_ZLO].value,
                                        lo[0], hi[0]);
            hi[g->sz] = tf_ghost_value(bc[TF_FACE_ZHI].kind, (tf_real)bc[TF_FACE_ZHI].value,
                                       hi[0], lo[0]);
        }
}

/* Reaction sub-step of dt over every interior cell (linearly implicit, tf_react_voxel). */
static void react(cpu_impl *c, const tf_coeffs *co, tf_real dt)
{
    const tf_grid *g = &c->g;
    tf_real *const *F = c->f;
    const tf_real *v = c->vessel;
    const tf_coeffs cl = *co;
#pragma omp parallel for collapse(2) schedule(static) if (PAR(g))
    for (tf_index k = 0; k < g->n[2]; ++k)
        for (tf_index j = 0; j < g->n[1]; ++j) {
            const tf_index p0 = tf_at(g, 0, j, k);
#pragma omp simd
            for (tf_index i = 0; i < g->n[0]; ++i) {
                const tf_index p = p0 + i;
                tf_real u[TF_NFIELDS];
                for (int f = 0; f < TF_NFIELDS; ++f)
                    u[f] = F[f][p];
                tf_react_voxel(&cl, u, v[p], dt);
                for (int f = 0; f < TF_NFIELDS; ++f)
                    F[f][p] = u[f];
            }
        }
}

/* Backward-Euler diffusion along direction d of every field (tf_thomas_lines). x lines are
 * contiguous and solved one by one; y and z lines are solved a whole x-row at a time, so the
 * inner loops run over contiguous memory. */
static void diffuse(cpu_impl *c, int d)
{
    const tf_grid *g = &c->g;
    const tf_index nx = g->n[0], ny = g->n[1], nz = g->n[2];
    for (int f = 0; f < TF_NFIELDS; ++f) {
        const tf_line_factors *L = &c->su->lines[f][d];
        if (L->r == 0 && L->rhs_lo == 0 && L->rhs_hi == 0)
            continue; /* D = 0: identity */
        tf_real *a = c->f[f];
        if (d == 0) {
#pragma omp parallel for collapse(2) schedule(static) if (PAR(g))
            for (tf_index k = 0; k < nz; ++k)
                for (tf_index j = 0; j < ny; ++j)
                    tf_thomas_lines(L, a + tf_at(g, 0, j, k), 1, 1);
        } else if (d == 1) {
#pragma omp parallel for schedule(static) if (PAR(g))
            for (tf_index k = 0; k < nz; ++k)
                tf_thomas_lines(L, a + tf_at(g, 0, 0, k), g->sy, nx);
        } else {
#pragma omp parallel for schedule(static) if (PAR(g))
            for (tf_index j = 0; j < ny; ++j)
                tf_thomas_lines(L, a + tf_at(g, 0, j, 0), g->sz, nx);
        }
    }
}

static void explicit_step(cpu_impl *c, const tf_coeffs *co)
{
    const tf_grid *g = &c->g;
    const tf_real dt = (tf_real)c->su->dt;
    for (int f = 0; f < TF_NFIELDS; ++f)
        tf_fill_ghosts_host(g, c->su->bcs.bc[f], c->f[f]);
    tf_real *const *F = c->f;
    tf_real *const *N = c->next;
    const tf_real *v = c->vessel;
    const tf_coeffs cl = *co;
    const tf_index sy = g->sy, sz = g->sz;
    tf_real dif[TF_NFIELDS];
    for (int f = 0; f < TF_NFIELDS; ++f)
        dif[f] = c->su->dif[f];
#pragma omp parallel for collapse(2) schedule(static) if (PAR(g))
    for (tf_index k = 0; k < g->n[2]; ++k)
        for (tf_index j = 0; j < g->n[1]; ++j) {
            const tf_index p0 = tf_at(g, 0, j, k);
#pragma omp simd
            for (tf_index i = 0; i < g->n[0]; ++i) {
                const tf_index p = p0 + i;
                tf_real u[TF_NFIELDS], lap[TF_NFIELDS], out[TF_NFIELDS];
                for (int f = 0; f < TF_NFIELDS; ++f) {
                    u[f] = F[f][p];
                    lap[f] = tf_lap7(F[f], p, sy, sz);
                }
                tf_explicit_voxel(&cl, u, lap, dif, v[p], dt, out);
                for (int f = 0; f < TF_NFIELDS; ++f)
                    N[f][p] = out[f];
            }
        }
    for (int f = 0; f < TF_NFIELDS; ++f) {
        tf_real *t = c->f[f];
        c->f[f] = c->next[f];
        c->next[f] = t;
    }
}

static void stage_add(cpu_impl *c, tf_stage s, double t0)
{
    c->su->timers->seconds[s] += tf_wtime() - t0;
    c->su->timers->calls[s] += 1;
}

static tf_status cpu_step(void *impl, const tf_coeffs *c0, const tf_coeffs *c1)
{
    cpu_impl *c = impl;
    const tf_real dt = (tf_real)c->su->dt;
    double t0 = tf_wtime();
    if (c->su->scheme == TF_SCHEME_EXPLICIT) {
        explicit_step(c, c0);
        stage_add(c, TF_STAGE_EXPLICIT, t0);
        return TF_OK;
    }
    react(c, c0, dt / 2);
    stage_add(c, TF_STAGE_REACTION, t0);
    for (int d = 0; d < 3; ++d) {
        t0 = tf_wtime();
        diffuse(c, d);
        stage_add(c, (tf_stage)(TF_STAGE_DIFFUSION_X + d), t0);
    }
    t0 = tf_wtime();
    react(c, c1, dt / 2);
    stage_add(c, TF_STAGE_REACTION, t0);
    return TF_OK;
}

static tf_status cpu_diagnostics(void *impl, tf_diag *d)
{
    cpu_impl *c = impl;
    const tf_grid *g = &c->g;
    double tot[TF_NFIELDS] = {0}, wsum[TF_NFIELDS] = {0}, mx[TF_NFIELDS];
    for (int f = 0; f < TF_NFIELDS; ++f)
        mx[f] = -INFINITY;
    tf_real *const *F = c->f;
#pragma omp parallel for collapse(2) schedule(static) if (PAR(g)) reduction(+ : tot[:TF_NFIELDS], \
                                                              wsum[:TF_NFIELDS])         \
    reduction(max : mx[:TF_NFIELDS])
    for (tf_index k = 0; k < g->n[2]; ++k)
        for (tf_index j = 0; j < g->n[1]; ++j) {
            const tf_index p0 = tf_at(g, 0, j, k);
            for (tf_index i = 0; i < g->n[0]; ++i) {
                const double T = F[TF_TUMOR][p0 + i];
                for (int f = 0; f < TF_NFIELDS; ++f) {
                    const double u = F[f][p0 + i];
                    tot[f] += u;
                    wsum[f] += T * u;
                    mx[f] = u > mx[f] ? u : mx[f];
                }
            }
        }
    for (int f = 0; f < TF_NFIELDS; ++f) {
        d->total[f] = tot[f];
        d->weighted[f] = wsum[f];
        d->max[f] = mx[f];
    }
    d->tumor_sum = tot[TF_TUMOR];
    return TF_OK;
}

static tf_status cpu_check_state(void *impl, tf_bad_cell *bad)
{
    cpu_impl *c = impl;
    const tf_grid *g = &c->g;
    for (int f = 0; f < TF_NFIELDS; ++f) {
        const tf_real *a = c->f[f];
        tf_index first = INT64_MAX;
#pragma omp parallel for collapse(2) schedule(static) if (PAR(g)) reduction(min : first)
        for (tf_index k = 0; k < g->n[2]; ++k)
            for (tf_index j = 0; j < g->n[1]; ++j) {
                const tf_index p0 = tf_at(g, 0, j, k);
                for (tf_index i = 0; i < g->n[0]; ++i) {
                    const tf_real u = a[p0 + i];
                    if (!(u >= 0 && isfinite(u)))
                        first = p0 + i < first ? p0 + i : first;
                }
            }
        if (first != INT64_MAX) {
            bad->field = f;
            bad->k = first / g->sz - 1;
            bad->j = (first % g->sz) / g->sy - 1;
            bad->i = first % g->sy - 1;
            bad->value = a[first];
            return TF_ERROR(TF_ERR_NUMERIC,
                            "field '%s' has the bad value %g at cell (i,j,k) = (%lld,%lld,%lld)",
                            tf_field_name[f], bad->value, (long long)(g->start[0] + bad->i),
                            (long long)(g->start[1] + bad->j), (long long)(g->start[2] + bad->k));
        }
    }
    return TF_OK;
}

const tf_backend_ops tf_cpu_backend = {
    .name = "cpu",
    .create = cpu_create,
    .destroy = cpu_destroy,
    .set_state = cpu_set_state,
    .get_state = cpu_get_state,
    .step = cpu_step,
    .diagnostics = cpu_diagnostics,
    .check_state = cpu_check_state,
};
