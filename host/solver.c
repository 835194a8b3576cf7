/* solver.c: backend choice, validation of the numerical set-up (boundary conditions, explicit
 * stability limit), the LOD line factors shared by all backends, and stage timers. */
#include "tf_backend.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const tf_stage_name[TF_NSTAGES] = {
    "reaction", "diffusion_x", "diffusion_y", "diffusion_z", "explicit",
    "ghosts",   "halo",        "diagnostics", "output",      "checkpoint",
};

struct tf_solver {
    const tf_backend_ops *ops;
    void *impl;
    tf_backend_kind kind;
    tf_setup su;
    tf_real *factor_store; /* one allocation behind every su.lines[][].cp/inv/z */
    tf_timers timers;
    tf_par one;            /* the decomposition of a one-process solver (par NULL) */
    char desc[256];
};

double tf_wtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double tf_floor_sig(double v, int digits)
{
    if (!(v > 0.0) || !isfinite(v))
        return v;
    const double scale = pow(10.0, floor(log10(v)) - (digits - 1));
    const double r = floor(v / scale) * scale;
    return r <= v ? r : v; /* (the product may round up past v) */
}

tf_dt_limit tf_explicit_dt_limit(const tf_params *p, double h, const tf_bcs *bcs,
                                 const tf_index n[3])
{
    const double D[TF_NFIELDS] = {p->D_T, p->D_E, p->D_S, p->D_P, p->D_A, p->D_C};
    /* The largest loss rate of each field's reaction for states in range (T, v and every
     * saturation at most 1, depression in [0, 1]); the tumor's killing k_kill Phi E grows with
     * E, which has no bound, and is left out. */
    const double loss[TF_NFIELDS] = {
        p->r_T * (1.0 + p->beta_P),              /* T: g T */
        p->mu_E + p->k_ex + p->mu_CE,            /* E */
        p->mu_S,                                 /* S */
        p->mu_P + p->gamma_C,                    /* P: gamma_eff <= gamma_C */
        p->lambda_A + p->mu_A,                   /* A */
        p->lambda_C + p->mu_C,                   /* C */
    };
    tf_dt_limit lim = {INFINITY, 0, 6};
    for (int f = 0; f < TF_NFIELDS; ++f) {
        int w = 6;
        for (int d = 0; bcs && n && d < 3; ++d) {
            const int lo = bcs->bc[f][2 * d].kind == TF_BC_DIRICHLET;
            const int hi = bcs->bc[f][2 * d + 1].kind == TF_BC_DIRICHLET;
            w += n[d] == 1 ? lo + hi : (lo || hi);
        }
        const double rate = w * D[f] / (h * h) + loss[f];
        if (rate > 0.0 && 1.0 / rate < lim.dt)
            lim = (tf_dt_limit){1.0 / rate, f, D[f] > 0.0 ? w : 6};
    }
    return lim;
}

int tf_dt_limit_text(char *buf, size_t size, const tf_dt_limit *lim)
{
    return snprintf(buf, size, "1/(%d D/h^2 + loss)%s", lim->weight,
                    lim->weight > 6 ? " (6, and 1 for each Dirichlet wall a cell touches)" : "");
}

static tf_status validate_bcs(const tf_bcs *b)
{
    for (int f = 0; f < TF_NFIELDS; ++f)
        for (int d = 0; d < 3; ++d) {
            const int lo = b->bc[f][2 * d].kind == TF_BC_PERIODIC;
            const int hi = b->bc[f][2 * d + 1].kind == TF_BC_PERIODIC;
            if (lo != hi)
                return TF_ERROR(TF_ERR_USAGE,
                                "boundary of field '%s': periodic on face %s but not on face %s; "
                                "periodic must hold on both faces of a direction",
                                tf_field_name[f], tf_face_name[lo ? 2 * d : 2 * d + 1],
                                tf_face_name[lo ? 2 * d + 1 : 2 * d]);
        }
    return TF_OK;
}

/* Backward-Euler line factors for n cells, r = D dt / h^2, faces lo and hi (docs/numerics.md).
 * Computed in double, stored in the field precision. */
static void line_factors(tf_line_factors *L, tf_index n, double r, const tf_bc *lo,
                         const tf_bc *hi, tf_real *cp, tf_real *inv, tf_real *z)
{
    double *b = malloc(sizeof(double) * (size_t)n);
    double *cpd = malloc(sizeof(double) * (size_t)n);
    double *invd = malloc(sizeof(double) * (size_t)n);
    for (tf_index i = 0; i < n; ++i)
        b[i] = 1.0 + 2.0 * r;
    const int periodic = lo->kind == TF_BC_PERIODIC && n > 1;
    L->n = n;
    L->r = (tf_real)r;
    L->rhs_lo = L->rhs_hi = 0;
    L->periodic = periodic;
    L->sm_gamma = L->sm_scale = L->sm_vlast = 0;
    if (lo->kind == TF_BC_PERIODIC && n == 1) {
        b[0] = 1.0; /* a periodic line of one cell does not diffuse */
    } else if (!periodic) {
        b[0] += lo->kind == TF_BC_DIRICHLET ? r : -r;
        b[n - 1] += hi->kind == TF_BC_DIRICHLET ? r : -r;
        if (lo->kind == TF_BC_DIRICHLET)
            L->rhs_lo = (tf_real)(2.0 * r * lo->value);
        if (hi->kind == TF_BC_DIRICHLET)
            L->rhs_hi = (tf_real)(2.0 * r * hi->value);
    }
    double gamma = 0.0;
    if (periodic) {
        /* A = A' + u v^T, u = (gamma, 0, ..., 0, -r), v = (1, 0, ..., 0, -r / gamma). */
        gamma = -b[0];
        b[0] -= gamma;
        b[n - 1] -= r * r / gamma;
    }
    for (tf_index i = 0; i < n; ++i) {
        const double denom = b[i] + (i > 0 ? r * cpd[i - 1] : 0.0);
        invd[i] = 1.0 / denom;
        cpd[i] = -r * invd[i];
        cp[i] = (tf_real)cpd[i];
        inv[i] = (tf_real)invd[i];
    }
    if (periodic) {
        double *zd = malloc(sizeof(double) * (size_t)n);
        for (tf_index i = 0; i < n; ++i)
            zd[i] = i == 0 ? gamma : (i == n - 1 ? -r : 0.0);
        zd[0] *= invd[0];
        for (tf_index i = 1; i < n; ++i)
            zd[i] = (zd[i] + r * zd[i - 1]) * invd[i];
        for (tf_index i = n - 2; i >= 0; --i)
            zd[i] -= cpd[i] * zd[i + 1];
        const double vlast = -r / gamma;
        L->sm_gamma = (tf_real)gamma;
        L->sm_vlast = (tf_real)vlast;
        L->sm_scale = (tf_real)(1.0 / (1.0 + zd[0] + vlast * zd[n - 1]));
        for (tf_index i = 0; i < n; ++i)
            z[i] = (tf_real)zd[i];
        free(zd);
    } else {
        for (tf_index i = 0; i < n; ++i)
            z[i] = 0;
    }
    free(b);
    free(cpd);
    free(invd);
}

static tf_status make_factors(tf_solver *s)
{
    tf_setup *su = &s->su;
    const double h2 = su->g.h * su->g.h;
    const double D[TF_NFIELDS] = {su->p.D_T, su->p.D_E, su->p.D_S,
                                  su->p.D_P, su->p.D_A, su->p.D_C};
    for (int f = 0; f < TF_NFIELDS; ++f)
        su->dif[f] = (tf_real)(D[f] / h2);
    if (su->scheme != TF_SCHEME_LOD)
        return TF_OK;
    const size_t per_field = (size_t)(su->g.gn[0] + su->g.gn[1] + su->g.gn[2]);
    s->factor_store = malloc(sizeof(tf_real) * 3 * per_field * TF_NFIELDS);
    if (!s->factor_store)
        return TF_ERROR(TF_ERR_NOMEM, "out of memory for diffusion factors");
    tf_real *at = s->factor_store;
    for (int f = 0; f < TF_NFIELDS; ++f)
        for (int d = 0; d < 3; ++d) {
            const tf_index n = su->g.gn[d];
            tf_line_factors *L = &su->lines[f][d];
            line_factors(L, n, D[f] * su->dt / h2, &su->bcs.bc[f][2 * d],
                         &su->bcs.bc[f][2 * d + 1], at, at + n, at + 2 * n);
            L->cp = at;
            L->inv = at + n;
            L->z = at + 2 * n;
            at += 3 * n;
        }
    return TF_OK;
}

tf_status tf_solver_create(tf_solver **out, tf_backend_kind kind, const tf_grid *g,
                           const tf_bcs *bcs, const tf_params *p, tf_scheme scheme, double dt)
{
    return tf_solver_create_par(out, kind, g, NULL, bcs, p, scheme, dt);
}

const tf_device_probe tf_cuda_probe = {tf_cuda_built, tf_cuda_device_count, tf_cuda_device_runs,
                                       tf_cuda_device_uuid};

int tf_gpu_sharers_probe(const tf_par *par, const tf_device_probe *probe)
{
    const int count = probe->count();
    if (!par || par->size <= 1)
        return count > 0;
    /* Collective: every process gives a key, the UUID of the GPU it would take (the CUDA
     * backend's choice: node-local rank mod the GPUs it sees), zeros without one. */
    unsigned char key[16] = {0};
    if (count > 0)
        (void)probe->uuid(par->node_rank % count, key);
    const int sharers = tf_par_node_sharers(par, key);
    return count > 0 ? sharers : 0;
}

int tf_gpu_sharers(const tf_par *par) { return tf_gpu_sharers_probe(par, &tf_cuda_probe); }

tf_status tf_backend_choose_probe(tf_backend_kind asked, const tf_par *par,
                                  const tf_device_probe *probe, tf_backend_kind *chosen)
{
    const int nproc = par ? par->size : 1;
    /* A device counts where this build's kernels run on it (the one this process would take:
     * by node-local rank, or the current one, 0, of a lone process). */
    const int count = probe->count();
    char why[256] = "";
    const int here =
        count > 0 && probe->runs(nproc > 1 ? par->node_rank % count : 0, why, sizeof why);
    /* Collective with several processes: one backend for all (their messages differ). */
    const int everywhere = nproc > 1 ? !tf_par_any(par, !here) : here;
    /* auto takes the GPUs only where each process has one of its own: processes sharing a GPU
     * (mpirun -n 64 on a node with one) run faster on the CPU; --backend cuda shares. */
    const int sharers = nproc > 1 ? tf_gpu_sharers_probe(par, probe) : here;
    const int own = everywhere && (nproc == 1 || !tf_par_any(par, sharers > 1));
    *chosen = asked;
    if (asked == TF_BACKEND_AUTO)
        *chosen = own ? TF_BACKEND_CUDA : TF_BACKEND_CPU;
    if (*chosen != TF_BACKEND_CUDA)
        return TF_OK;
    if (!probe->built())
        return TF_ERROR(TF_ERR_USAGE,
                        "backend cuda: this build has no CUDA backend (built without nvcc)");
    /* Collective, so before any process returns (every one gets here: the choice is agreed).
     * Whether any process sees a device at all, usable here or not (the message's words). */
    const int anywhere = nproc > 1 ? tf_par_any(par, count > 0) : count > 0;
    if (!here && why[0])
        return TF_ERROR(TF_ERR_USAGE, "backend cuda: %s (or use --backend cpu or auto)", why);
    if (!everywhere && nproc > 1)
        return TF_ERROR(TF_ERR_USAGE,
                        "backend cuda: %s of the %d MPI processes sees a CUDA device (each "
                        "takes a GPU of its node by node-local rank); use --backend cpu or auto",
                        anywhere ? "not every one" : "none", nproc);
    if (!everywhere)
        return TF_ERROR(TF_ERR_USAGE, "backend cuda: no CUDA device is present "
                                      "(use --backend cpu or auto)");
    return TF_OK;
}

tf_status tf_backend_choose(tf_backend_kind asked, const tf_par *par, tf_backend_kind *chosen)
{
    return tf_backend_choose_probe(asked, par, &tf_cuda_probe, chosen);
}

tf_status tf_solver_create_par(tf_solver **out, tf_backend_kind kind, const tf_grid *g,
                               tf_par *par, const tf_bcs *bcs, const tf_params *p,
                               tf_scheme scheme, double dt)
{
    *out = NULL;
    if (!(dt > 0.0) || !isfinite(dt))
        return TF_ERROR(TF_ERR_USAGE, "time step dt = %g min: must be a positive number", dt);
    TF_TRY(validate_bcs(bcs));
    if (!par && !tf_grid_is_whole(g))
        return TF_ERROR(TF_ERR_INTERNAL, "a block of a grid needs its decomposition");
    if (scheme == TF_SCHEME_EXPLICIT) {
        const tf_dt_limit lim = tf_explicit_dt_limit(p, g->h, bcs, g->gn);
        char form[96];
        tf_dt_limit_text(form, sizeof form, &lim);
        if (dt > lim.dt)
            return TF_ERROR(TF_ERR_USAGE,
                            "explicit scheme: dt = %g min is above the stability limit %s = "
                            "%.6g min of field '%s' for spacing %g um; use a smaller run.dt or "
                            "run.scheme = lod",
                            dt, form, tf_floor_sig(lim.dt, 6), tf_field_name[lim.field], g->h);
    }
    TF_TRY(tf_backend_choose(kind, par, &kind));
    /* Collective, as the choice: how many processes of this node use this one's GPU. */
    const int sharers = kind == TF_BACKEND_CUDA && par ? tf_gpu_sharers(par) : 0;
    const tf_backend_ops *ops = &tf_cpu_backend;
#ifdef TF_HAVE_CUDA
    if (kind == TF_BACKEND_CUDA)
        ops = &tf_cuda_backend;
#endif
    tf_solver *s = calloc(1, sizeof *s);
    if (!s)
        return TF_ERROR(TF_ERR_NOMEM, "out of memory");
    s->ops = ops;
    s->kind = kind;
    s->su.g = *g;
    if (!par) {
        /* One process: the 1 x 1 x 1 decomposition (its backend fills periodic ghosts itself,
         * so whether the process grid wraps does not matter). */
        const int want[3] = {1, 1, 1}, per[3] = {0, 0, 0};
        tf_grid tmp = *g;
        (void)tf_par_decompose(&s->one, &tmp, want, per);
        par = &s->one;
    }
    s->su.par = par;
    s->su.bcs = *bcs;
    s->su.p = *p;
    s->su.scheme = scheme;
    s->su.dt = dt;
    s->su.gpu_sharers = sharers;
    s->su.timers = &s->timers;
    tf_status st = make_factors(s);
    if (st == TF_OK)
        st = ops->create(&s->su, &s->impl, s->desc, sizeof s->desc);
    if (st != TF_OK) {
        free(s->factor_store);
        free(s);
        return st;
    }
    *out = s;
    return TF_OK;
}

void tf_solver_destroy(tf_solver *s)
{
    if (!s)
        return;
    if (s->impl)
        s->ops->destroy(s->impl);
    free(s->factor_store);
    free(s);
}

tf_backend_kind tf_solver_backend(const tf_solver *s) { return s->kind; }
const char *tf_solver_description(const tf_solver *s) { return s->desc; }

tf_status tf_solver_set_state(tf_solver *s, tf_real *const fields[TF_NFIELDS],
                              const tf_real *vessel)
{
    return tf_par_agree(s->su.par, s->ops->set_state(s->impl, fields, vessel));
}

tf_status tf_solver_get_state(tf_solver *s, tf_real *const fields[TF_NFIELDS], unsigned mask)
{
    return tf_par_agree(s->su.par, s->ops->get_state(s->impl, fields, mask));
}

tf_status tf_solver_step(tf_solver *s, const tf_coeffs *c0, const tf_coeffs *c1)
{
    const tf_status st = s->ops->step(s->impl, c0, c1);
    /* A step is not agreed (a collective per step): a process whose step failed (a CUDA error)
     * leaves the others waiting for its messages, so with several it ends the job at once. */
    if (st != TF_OK && s->su.par->size > 1)
        tf_par_abort(s->su.par, st);
    return st;
}

tf_status tf_solver_flush(tf_solver *s)
{
    const tf_status st = s->ops->flush ? s->ops->flush(s->impl) : TF_OK;
    if (st != TF_OK && s->su.par->size > 1)
        tf_par_abort(s->su.par, st);
    return st;
}

tf_status tf_solver_diagnostics(tf_solver *s, tf_diag *d)
{
    const double t0 = tf_wtime();
    tf_status st = tf_par_agree(s->su.par, s->ops->diagnostics(s->impl, d));
    if (st == TF_OK && s->su.par->size > 1) {
        double sums[2 * TF_NFIELDS];
        memcpy(sums, d->total, sizeof d->total);
        memcpy(sums + TF_NFIELDS, d->weighted, sizeof d->weighted);
        tf_par_sum(s->su.par, sums, 2 * TF_NFIELDS);
        memcpy(d->total, sums, sizeof d->total);
        memcpy(d->weighted, sums + TF_NFIELDS, sizeof d->weighted);
        d->tumor_sum = d->total[TF_TUMOR];
        tf_par_max(s->su.par, d->max, TF_NFIELDS);
    }
    tf_solver_time_add(s, TF_STAGE_DIAGNOSTICS, tf_wtime() - t0);
    return st;
}

tf_status tf_solver_check_state(tf_solver *s, tf_bad_cell *bad)
{
    return tf_par_agree(s->su.par, s->ops->check_state(s->impl, bad));
}

const tf_timers *tf_solver_timers(const tf_solver *s) { return &s->timers; }

unsigned tf_solver_explicit_paired(const tf_solver *s)
{
    return s->ops->explicit_paired ? s->ops->explicit_paired(s->impl) : 0;
}

unsigned tf_solver_lod_fused(const tf_solver *s)
{
    return s->ops->lod_fused ? s->ops->lod_fused(s->impl) : 0;
}


void tf_solver_time_add(tf_solver *s, tf_stage st, double seconds)
{
    s->timers.seconds[st] += seconds;
    s->timers.calls[st] += 1;
}

#ifndef TF_HAVE_CUDA
int tf_cuda_built(void) { return 0; }
int tf_cuda_device_count(void) { return 0; }
const char *tf_cuda_count_error(void) { return NULL; }
int tf_cuda_device_runs(int i, char *why, size_t len)
{
    (void)i;
    snprintf(why, len, "no CUDA backend in this build");
    return 0;
}
void tf_cuda_device_describe(int i, char *buf, size_t len)
{
    (void)i;
    snprintf(buf, len, "no CUDA backend in this build");
}
int tf_cuda_device_uuid(int i, unsigned char uuid[16])
{
    (void)i;
    memset(uuid, 0, 16);
    return -1;
}
#endif

/* *value = environment variable `var` as a decimal integer in [lo, hi]; unchanged when it is
 * unset or empty; anything else is an error that names the variable and the range. */
tf_status tf_env_long(const char *var, long lo, long hi, long *value)
{
    const char *v = getenv(var);
    if (!v || !*v)
        return TF_OK;
    char *end = NULL;
    errno = 0;
    const long x = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || x < lo || x > hi)
        return TF_ERROR(TF_ERR_USAGE, "environment variable %s=%s: expected an integer from "
                        "%ld to %ld", var, v, lo, hi);
    *value = x;
    return TF_OK;
}

/* *choice = the index of environment variable `var`'s value among names[0..n-1]; unchanged
 * when it is unset or empty; any other value is an error that names the choices. */
tf_status tf_env_choice(const char *var, const char *const names[], int n, int *choice)
{
    const char *v = getenv(var);
    if (!v || !*v)
        return TF_OK;
    char list[128] = "";
    for (int k = 0; k < n; ++k) {
        if (strcmp(v, names[k]) == 0) {
            *choice = k;
            return TF_OK;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "",
                 names[k]);
    }
    return TF_ERROR(TF_ERR_USAGE, "environment variable %s=%s: expected one of %s", var, v,
                    list);
}
