/* tf_test_util.h: small helpers shared by the numerics tests: a host state (six padded field
 * arrays and a padded vessel map), boundary conditions, parameters with every reaction switched
 * off, and a solver built from them. Header-only (static functions) so each test links nothing
 * extra.
 *
 * Every array is a padded field of g->nalloc elements (tf_grid.h); ghosts are ignored by the
 * solver on input. */
#ifndef TF_TEST_UTIL_H
#define TF_TEST_UTIL_H

#include "tf_solver.h"
#include "tf_systemic.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Unit round-off of the field precision, for tolerances derived from it. */
#define TT_EPS ((double)TF_REAL_EPS)
#define TT_IS_DOUBLE (sizeof(tf_real) == sizeof(double))

typedef struct {
    tf_grid g;
    tf_real *f[TF_NFIELDS]; /* padded, g.nalloc each */
    tf_real *vessel;        /* padded, g.nalloc */
} tt_state;

/* Allocate a zeroed state on an nx*ny*nz grid of spacing h; aborts on failure (tests only). */
static inline void tt_state_init(tt_state *s, tf_index nx, tf_index ny, tf_index nz, double h)
{
    if (tf_grid_init(&s->g, nx, ny, nz, h) != TF_OK) {
        fprintf(stderr, "tt_state_init: %s\n", tf_error_message());
        abort();
    }
    for (int f = 0; f < TF_NFIELDS; ++f)
        s->f[f] = calloc((size_t)s->g.nalloc, sizeof(tf_real));
    s->vessel = calloc((size_t)s->g.nalloc, sizeof(tf_real));
    for (int f = 0; f < TF_NFIELDS; ++f)
        if (!s->f[f])
            abort();
    if (!s->vessel)
        abort();
}

static inline void tt_state_free(tt_state *s)
{
    for (int f = 0; f < TF_NFIELDS; ++f)
        free(s->f[f]);
    free(s->vessel);
    memset(s, 0, sizeof *s);
}

/* Every field on every face of kind `kind` (Dirichlet value 0). */
static inline tf_bcs tt_bcs_all(tf_bc_kind kind)
{
    tf_bcs b;
    for (int f = 0; f < TF_NFIELDS; ++f)
        for (int q = 0; q < TF_NFACES; ++q) {
            b.bc[f][q].kind = kind;
            b.bc[f][q].value = 0.0;
        }
    return b;
}

/* Parameters with every reaction term and every diffusivity zero (half-saturation constants
 * keep their positive defaults so no term divides by zero): du/dt = 0 until a test switches a
 * term on. */
static inline tf_params tt_params_off(void)
{
    tf_params p;
    tf_params_default(&p);
    p.D_T = p.D_E = p.D_S = p.D_P = p.D_A = p.D_C = 0.0;
    p.r_T = p.beta_P = p.k_kill = 0.0;
    p.rho_E = p.chi_P = p.mu_E = p.k_ex = p.mu_CE = 0.0;
    p.rho_S = p.alpha_S = p.mu_S = 0.0;
    p.s_PT = p.alpha_P = p.kappa_P = p.s_PS = p.mu_P = p.gamma_C = p.rho_GR = 0.0;
    p.s_AS = p.s_AE = p.lambda_A = p.mu_A = 0.0;
    p.lambda_C = p.mu_C = 0.0;
    return p;
}

/* Derived drivers of a resting, non-depressed patient with explicit C_b, A_b and M_E. */
static inline tf_derived tt_derived(double cb, double ab, double me)
{
    tf_derived q;
    memset(&q, 0, sizeof q);
    q.C_b = cb;
    q.A_b = ab;
    q.M_Eff = me;
    return q;
}

/* Create a CPU solver and load the state; fails the calling test (via the returned status)
 * with the recorded message printed. */
static inline tf_status tt_solver(tf_solver **out, const tt_state *s, const tf_bcs *b,
                                  const tf_params *p, tf_scheme scheme, double dt)
{
    tf_error_clear();
    tf_status st = tf_solver_create(out, TF_BACKEND_CPU, &s->g, b, p, scheme, dt);
    if (st == TF_OK)
        st = tf_solver_set_state(*out, s->f, s->vessel);
    if (st != TF_OK)
        fprintf(stderr, "tt_solver: %s (%s)\n", tf_error_message(), tf_error_where());
    return st;
}

/* Advance n steps with the same coefficients at both ends of every step. */
static inline tf_status tt_run(tf_solver *sv, const tf_coeffs *c, long n)
{
    for (long i = 0; i < n; ++i) {
        tf_status st = tf_solver_step(sv, c, c);
        if (st != TF_OK)
            return st;
    }
    return TF_OK;
}

/* Run the following code on `n` OpenMP threads; returns the previous count for tt_threads_set.
 * Tests of tiny grids or of thousands of short steps use one thread: there every stage's parallel
 * region costs more than its work, badly so on a shared, oversubscribed machine. The threaded
 * paths stay covered by the tests that keep the default (OMP_NUM_THREADS=2 under CTest). */
static inline int tt_threads_set(int n)
{
#ifdef _OPENMP
    const int old = omp_get_max_threads();
    omp_set_num_threads(n);
    return old;
#else
    (void)n;
    return 1;
#endif
}

/* Observed order of convergence from errors e_coarse, e_fine at refinement ratio `ratio`. */
static inline double tt_order(double e_coarse, double e_fine, double ratio)
{
    return log(e_coarse / e_fine) / log(ratio);
}

#endif
