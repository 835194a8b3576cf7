/* tf_model.h: the per-voxel model of docs/model.md, written once for the CPU backend and the
 * CUDA kernels (TF_HD functions): the reaction terms split into production and loss, the
 * linearly implicit reaction update, the explicit right-hand side, the 7-point Laplacian and the
 * Thomas sweep of one grid line with precomputed factors. */
#ifndef TF_MODEL_H
#define TF_MODEL_H

#include "tf_config.h"
#include "tf_fields.h"
#include "tf_grid.h"

/* All model parameters in their documented units (tf_params.def), double precision. */
typedef struct {
#define TF_PARAM(name, def, unit, lo, hi, help, basis) double name;
#include "tf_params.def"
#undef TF_PARAM
} tf_params;

/* Reaction coefficients at one time: the parameters in the field precision with the systemic
 * drivers of that time folded in. Built on the host (tf_coeffs_make), passed by value to
 * kernels. Units: 1/min, pg/mL, nmol/L as in docs/model.md. The rate coefficients (marked R)
 * enter prod and loss linearly; tf_coeffs_step multiplies them by a sub-step's dt. */
typedef struct {
    tf_real r_T, beta_P, K_P, k_kill, inv_K_CE, inv_K_S; /* R: r_T, k_kill */
    tf_real E_src;        /* R: rho_E * M_E */
    tf_real chi_P, mu_E, k_ex, mu_CE, K_CD; /* R: mu_E, k_ex, mu_CE */
    tf_real S_src;        /* R: rho_S * (1 + alpha_S D) */
    tf_real K_PS, mu_S;   /* R: mu_S */
    tf_real P_from_T;     /* R: s_PT (1 + alpha_P D)(1 - kappa_P B) */
    tf_real s_PS, inv_K_A, mu_P; /* R: s_PS, mu_P */
    tf_real gamma_eff;    /* R: gamma_C (1 - rho_GR D) */
    tf_real K_GC;
    tf_real s_AS, s_AE, lambda_A, mu_A; /* R: all four */
    tf_real A_src;        /* R: lambda_A * A_b */
    tf_real lambda_C, mu_C; /* R: both */
    tf_real C_src;        /* R: lambda_C * C_b */
} tf_coeffs;

/* The coefficients of one sub-step of length dt: tf_coeffs with every rate coefficient
 * multiplied by dt, so that tf_reaction_rates gives dt prod and dt loss directly. The per-voxel
 * updates (tf_react_voxel, tf_explicit_voxel) take this type, so a step cannot be handed
 * unscaled rates by mistake. Folding dt into the coefficients once per sub-step (and the
 * products lambda_A A_b, lambda_C C_b and k_kill Phi into single coefficients) took the
 * reaction voxel from 57 to 41 multiplications (docs/performance.md, "Divisions and
 * multiplications"). */
typedef struct {
    tf_coeffs k;
} tf_step_coeffs;

TF_HD tf_step_coeffs tf_coeffs_step(const tf_coeffs *c, tf_real dt)
{
    tf_step_coeffs s;
    s.k = *c;
    tf_coeffs *k = &s.k;
    k->r_T *= dt;
    k->k_kill *= dt;
    k->E_src *= dt;
    k->mu_E *= dt;
    k->k_ex *= dt;
    k->mu_CE *= dt;
    k->S_src *= dt;
    k->mu_S *= dt;
    k->P_from_T *= dt;
    k->s_PS *= dt;
    k->mu_P *= dt;
    k->gamma_eff *= dt;
    k->s_AS *= dt;
    k->s_AE *= dt;
    k->lambda_A *= dt;
    k->mu_A *= dt;
    k->A_src *= dt;
    k->lambda_C *= dt;
    k->mu_C *= dt;
    k->C_src *= dt;
    return s;
}

/* Production (units of the field per min) and loss rate (1/min) of every field in one voxel:
 * du/dt (reaction part) = prod[f] - loss[f] * u[f], every term >= 0 for a non-negative state.
 * u: the six field values; v: vessel density. */
TF_HD void tf_reaction_rates(const tf_coeffs *c, const tf_real u[TF_NFIELDS], tf_real v,
                             tf_real prod[TF_NFIELDS], tf_real loss[TF_NFIELDS])
{
    const tf_real T = u[TF_TUMOR], E = u[TF_EFFECTOR], S = u[TF_SUPPRESSOR];
    const tf_real P = u[TF_PRO], A = u[TF_ANTI], C = u[TF_CORTISOL];
    const tf_real one = (tf_real)1;

    const tf_real cc = C * c->inv_K_CE;
    const tf_real kill = c->k_kill / ((one + cc * cc) * (one + S * c->inv_K_S)); /* k_kill Phi */
    /* The two saturations of P and the two of C take one division per pair:
     * x/(x+K1) = (x / ((x+K1)(x+K2))) (x+K2). Divisions dominate the cost of a voxel on the CPU
     * and the GPU. The levels enter capped at 1e18 (the quotients are then 1 to float precision
     * for every K the parameter bounds allow, K <= 1e9), so the product of the denominators
     * stays below 1e37 however high a level climbs: without the cap, (C + K)^2 overflows float
     * above C = 1.8e19 and the quotient becomes 0 instead of 1 (NaN in the form before
     * 2026-11-28). */
    const tf_real cap = (tf_real)1e18;
    const tf_real Ps = P < cap ? P : cap, Cs = C < cap ? C : cap;
    const tf_real dP1 = Ps + c->K_P, dP2 = Ps + c->K_PS;
    const tf_real qP = Ps / (dP1 * dP2);
    const tf_real p_sat = qP * dP2;        /* P / (P + K_P) */
    const tf_real p_sup = qP * dP1;        /* P / (P + K_PS) */
    const tf_real dC1 = Cs + c->K_CD, dC2 = Cs + c->K_GC;
    const tf_real qC = Cs / (dC1 * dC2);
    const tf_real c_apo = qC * dC2;        /* C / (C + K_CD) */
    const tf_real c_gc = qC * dC1;         /* C / (C + K_GC) */

    /* T: logistic growth r g T (1 - T), split so that T stays in [0, 1]. */
    const tf_real growth = c->r_T * (one + c->beta_P * p_sat);
    const tf_real gT = growth * T;
    prod[TF_TUMOR] = gT;
    loss[TF_TUMOR] = gT + kill * E;

    prod[TF_EFFECTOR] = c->E_src * v * (one + c->chi_P * p_sat);
    loss[TF_EFFECTOR] = c->mu_E + c->k_ex * T + c->mu_CE * c_apo;

    prod[TF_SUPPRESSOR] = c->S_src * v * p_sup;
    loss[TF_SUPPRESSOR] = c->mu_S;

    prod[TF_PRO] = (c->P_from_T * T + c->s_PS * S) / (one + A * c->inv_K_A);
    loss[TF_PRO] = c->mu_P + c->gamma_eff * c_gc;

    prod[TF_ANTI] = c->s_AS * S + c->s_AE * E + c->A_src * v;
    loss[TF_ANTI] = c->lambda_A * v + c->mu_A;

    prod[TF_CORTISOL] = c->C_src * v;
    loss[TF_CORTISOL] = c->lambda_C * v + c->mu_C;
}

/* Linearly implicit reaction update over one sub-step of dt minutes, in place:
 * u <- (u + dt prod) / (1 + dt loss), rates from the state at the start of the sub-step; s holds
 * the coefficients with dt folded in (tf_coeffs_step). Keeps every field non-negative and T in
 * [0, 1] for any dt. E, S, P, A and C share one division, a/b = a (q / b) / q with q the product
 * of the five denominators: each is 1 + dt loss >= 1, and with the parameter bounds (every loss
 * rate at most 1100 per min, v in [0, 1]) and dt <= 1440 min each stays below 1.6e6 and their
 * product below 1e31, far inside the float range. Divisions bind the reaction loop on the CPU
 * (6 to 12 cycles per 16 floats on the divider, docs/performance.md "Divisions and
 * multiplications"): 6 per voxel instead of 8 with the pairs before. T keeps its own correctly
 * rounded division, so T = 1 stays exactly 1 (a shared one can round above it). */
TF_HD void tf_react_voxel(const tf_step_coeffs *s, tf_real u[TF_NFIELDS], tf_real v)
{
    tf_real prod[TF_NFIELDS], loss[TF_NFIELDS]; /* dt prod, dt loss */
    tf_reaction_rates(&s->k, u, v, prod, loss);
    const tf_real one = (tf_real)1;
    tf_real d[TF_NFIELDS];
    for (int f = 0; f < TF_NFIELDS; ++f)
        d[f] = one + loss[f];
    const tf_real dES = d[TF_EFFECTOR] * d[TF_SUPPRESSOR], dPA = d[TF_PRO] * d[TF_ANTI];
    const tf_real r5 = one / (dES * dPA * d[TF_CORTISOL]);
    const tf_real rES = dPA * d[TF_CORTISOL] * r5; /* 1 / (d_E d_S) */
    const tf_real rPA = dES * d[TF_CORTISOL] * r5; /* 1 / (d_P d_A) */
    const tf_real rC = dES * dPA * r5;             /* 1 / d_C */
    /* T <= 1 also when diffusion's rounding left it a few ulp above (a NaN stays a NaN). */
    const tf_real t_new = (u[TF_TUMOR] + prod[TF_TUMOR]) / d[TF_TUMOR];
    u[TF_TUMOR] = t_new > one ? one : t_new;
    u[TF_EFFECTOR] = (u[TF_EFFECTOR] + prod[TF_EFFECTOR]) * d[TF_SUPPRESSOR] * rES;
    u[TF_SUPPRESSOR] = (u[TF_SUPPRESSOR] + prod[TF_SUPPRESSOR]) * d[TF_EFFECTOR] * rES;
    u[TF_PRO] = (u[TF_PRO] + prod[TF_PRO]) * d[TF_ANTI] * rPA;
    u[TF_ANTI] = (u[TF_ANTI] + prod[TF_ANTI]) * d[TF_PRO] * rPA;
    u[TF_CORTISOL] = (u[TF_CORTISOL] + prod[TF_CORTISOL]) * rC;
}

/* tf_nbr6 where the planes below and above lie zm elements before and zp after the cell (in
 * the padded array both are sz; the CPU's explicit steps in pairs keep planes in a ring, where
 * they differ): the same additions in the same order. */
TF_HD tf_real tf_nbr6_z(const tf_real *a, tf_index p, tf_index sy, tf_index zm, tf_index zp)
{
    return (a[p - 1] + a[p + 1]) + (a[p - sy] + a[p + sy]) + (a[p - zm] + a[p + zp]);
}

/* Sum of the six face neighbours of the padded array `a` at linear index p: the 7-point
 * Laplacian without the 1/h^2 factor is tf_nbr6 - 6 a[p]. */
TF_HD tf_real tf_nbr6(const tf_real *a, tf_index p, tf_index sy, tf_index sz)
{
    return tf_nbr6_z(a, p, sy, sz, sz);
}

/* The diffusion part of an explicit step of dt, per field: dif_dt = D dt / h^2, the weight of
 * each neighbour, and keep = 1 - 6 dif_dt, the weight of the cell's own value. */
typedef struct {
    tf_real dif_dt[TF_NFIELDS];
    tf_real keep[TF_NFIELDS];
} tf_explicit_dif;

/* dif[f] = D_f / h^2. */
TF_HD tf_explicit_dif tf_explicit_dif_make(const tf_real dif[TF_NFIELDS], tf_real dt)
{
    tf_explicit_dif e;
    for (int f = 0; f < TF_NFIELDS; ++f) {
        e.dif_dt[f] = dif[f] * dt;
        e.keep[f] = (tf_real)1 - (tf_real)6 * e.dif_dt[f];
    }
    return e;
}

/* Forward Euler update of one voxel of the explicit scheme,
 * u_new = u + dt (D lap u + prod - loss u), written as
 * u_new = u (1 - 6 D dt/h^2 - dt loss) + (D dt/h^2) nbr + dt prod, which takes 2 multiplications
 * and 8 additions per field instead of 3 and 9; dt is folded into the coefficients (s:
 * tf_coeffs_step) and into e (tf_explicit_dif_make); nbr[f] is tf_nbr6 of field f. */
TF_HD void tf_explicit_voxel(const tf_step_coeffs *s, const tf_explicit_dif *e,
                             const tf_real u[TF_NFIELDS], const tf_real nbr[TF_NFIELDS],
                             tf_real v, tf_real out[TF_NFIELDS])
{
    tf_real prod[TF_NFIELDS], loss[TF_NFIELDS]; /* dt prod, dt loss */
    tf_reaction_rates(&s->k, u, v, prod, loss);
    for (int f = 0; f < TF_NFIELDS; ++f)
        out[f] = u[f] * (e->keep[f] - loss[f]) + e->dif_dt[f] * nbr[f] + prod[f];
    if (out[TF_TUMOR] > (tf_real)1) /* a volume fraction (a NaN stays a NaN) */
        out[TF_TUMOR] = (tf_real)1;
}

/* Factors of one backward-Euler diffusion line solve along a direction of n cells:
 * (1 + 2r) u_i - r (u_{i-1} + u_{i+1}) = rhs_i with r = D dt / h^2 and the boundary rows of
 * docs/numerics.md. They depend only on (n, r, boundary kinds), not on the data, so they are
 * computed once per field and direction (tf_line_factors_init, host) and every line reuses them.
 *   cp[i]   = c'_i of the Thomas algorithm (length n)
 *   inv[i]  = 1 / (b_i - a_i c'_{i-1}) (length n)
 *   z[i]    periodic only: solution of A' z = (gamma, 0, ..., 0, -r) for Sherman-Morrison
 * Storage of the arrays belongs to the owner (host or device memory). */
typedef struct {
    tf_index n;
    tf_real r;              /* D dt / h^2 */
    tf_real rhs_lo, rhs_hi; /* added to the first/last right-hand side (Dirichlet) */
    int periodic;
    tf_real sm_gamma;       /* Sherman-Morrison gamma */
    tf_real sm_scale;       /* 1 / (1 + v.z) with v = (1, 0, ..., 0, -r/gamma) */
    tf_real sm_vlast;       /* -r / gamma */
    const tf_real *cp, *inv, *z;
} tf_line_factors;

/* Whether solving a line with these factors leaves it as it is (D = 0: no solve is run). */
TF_HD int tf_line_identity(const tf_line_factors *L)
{
    return L->r == 0 && L->rhs_lo == 0 && L->rhs_hi == 0;
}

/* The three parts of a line solve, over rows g0 .. g0+m-1 of the n rows of the lines (global row
 * numbers: with a domain decomposition a rank holds a slice of each line and the factors of the
 * whole line). `count` lines are solved together: row g0+i of line q is u[i*stride + q], so
 * adjacent lines are adjacent in memory and the inner loops run over q (vectorised on the CPU; a
 * CUDA thread solves one line with count = 1). Solving the slices of a line in order of g0 with
 * these calls does the same operations in the same order as solving the whole line at once.
 *
 * Forward elimination of one row, global row gi: dst = the eliminated row from src (the row's
 * right-hand sides) and prv (the eliminated row gi-1, read only when gi > 0). dst may be src or
 * prv: each element is read before it is written. */
TF_HD void tf_thomas_forward_row(const tf_line_factors *L, tf_index gi, const tf_real *src,
                                 const tf_real *prv, tf_real *dst, tf_index count)
{
    const tf_real a = L->inv[gi];
    if (gi == 0) {
        const tf_real lo = L->rhs_lo, hi = L->rhs_hi;
        if (L->n == 1)
            for (tf_index q = 0; q < count; ++q)
                dst[q] = (src[q] + lo + hi) * a;
        else
            for (tf_index q = 0; q < count; ++q)
                dst[q] = (src[q] + lo) * a;
        return;
    }
    const tf_real add = (gi == L->n - 1) ? L->rhs_hi : (tf_real)0;
    const tf_real r = L->r;
    for (tf_index q = 0; q < count; ++q)
        dst[q] = (src[q] + add + r * prv[q]) * a;
}

/* Forward elimination in place. prev[q]: line q's eliminated row g0-1 (read only when
 * g0 > 0). */
TF_HD void tf_thomas_forward(const tf_line_factors *L, tf_real *u, tf_index stride,
                             tf_index count, tf_index g0, tf_index m, const tf_real *prev)
{
    for (tf_index i = 0; i < m; ++i) {
        tf_real *cur = u + i * stride;
        tf_thomas_forward_row(L, g0 + i, cur, i == 0 ? prev : cur - stride, cur, count);
    }
}

/* Forward elimination that leaves u as it is and only the last eliminated row, g0+m-1, in
 * last[q] (the row a rank hands on along a line cut between ranks); the same operations as
 * tf_thomas_forward, so the same bits. prev as there; prev may be last. */
TF_HD void tf_thomas_forward_last(const tf_line_factors *L, const tf_real *u, tf_index stride,
                                  tf_index count, tf_index g0, tf_index m, const tf_real *prev,
                                  tf_real *last)
{
    for (tf_index i = 0; i < m; ++i)
        tf_thomas_forward_row(L, g0 + i, u + i * stride, i == 0 ? prev : last, last, count);
}

/* Back substitution. next[q]: line q's solved row g0+m (read only when g0 + m < n). */
TF_HD void tf_thomas_backward(const tf_line_factors *L, tf_real *u, tf_index stride,
                              tf_index count, tf_index g0, tf_index m, const tf_real *next)
{
    for (tf_index i = m - 1; i >= 0; --i) {
        const tf_index gi = g0 + i;
        if (gi == L->n - 1)
            continue;
        const tf_real c = L->cp[gi];
        tf_real *cur = u + i * stride;
        const tf_real *nxt = i == m - 1 ? next : cur + stride;
        for (tf_index q = 0; q < count; ++q)
            cur[q] -= c * nxt[q];
    }
}

/* Sherman-Morrison correction of periodic lines after back substitution:
 * x = y - (v.y / (1 + v.z)) z with v = (1, 0, ..., 0, vlast). first[q] and last[q] are line q's
 * rows 0 and n-1 of y; they may be the rows of u themselves, so the end rows are corrected
 * last, each factor computed before either end changes. */
TF_HD void tf_thomas_periodic(const tf_line_factors *L, tf_real *u, tf_index stride,
                              tf_index count, tf_index g0, tf_index m, const tf_real *first,
                              const tf_real *last)
{
    const tf_index n = L->n;
    const tf_real vl = L->sm_vlast, sc = L->sm_scale;
    for (tf_index i = 0; i < m; ++i) {
        const tf_index gi = g0 + i;
        if (gi == 0 || gi == n - 1)
            continue;
        const tf_real zi = L->z[gi];
        tf_real *cur = u + i * stride;
        for (tf_index q = 0; q < count; ++q)
            cur[q] -= (first[q] + vl * last[q]) * sc * zi;
    }
    tf_real *r0 = g0 == 0 ? u : NULL;
    tf_real *rl = g0 + m == n ? u + (m - 1) * stride : NULL;
    const tf_real z0 = L->z[0], zl = L->z[n - 1];
    if (r0 && rl) {
        for (tf_index q = 0; q < count; ++q) {
            const tf_real fac = (first[q] + vl * last[q]) * sc;
            r0[q] -= fac * z0;
            rl[q] -= fac * zl;
        }
    } else if (r0) {
        for (tf_index q = 0; q < count; ++q)
            r0[q] -= (first[q] + vl * last[q]) * sc * z0;
    } else if (rl) {
        for (tf_index q = 0; q < count; ++q)
            rl[q] -= (first[q] + vl * last[q]) * sc * zl;
    }
}

/* Solve `count` whole lines in place with the same factors (layout as above, g0 = 0, m = n):
 * forward elimination, back substitution, then the Sherman-Morrison correction for periodic
 * lines. */
TF_HD void tf_thomas_lines(const tf_line_factors *L, tf_real *u, tf_index stride, tf_index count)
{
    const tf_index n = L->n;
    tf_thomas_forward(L, u, stride, count, 0, n, NULL);
    tf_thomas_backward(L, u, stride, count, 0, n, NULL);
    if (L->periodic)
        tf_thomas_periodic(L, u, stride, count, 0, n, u, u + (n - 1) * stride);
}

#endif
