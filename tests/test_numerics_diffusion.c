/* test_numerics_diffusion.c: the diffusion operator of both schemes against exact answers.
 *
 *   gaussian_*   a 3D Gaussian against the exact solution (images for periodic and no-flux
 *                walls) on 12^3, 24^3, 48^3 (h = 4, 2, 1 um; s0 = 8 um) with dt = r h^2 / D
 *                (r = 0.25 LOD, 0.15 explicit), so time and space errors both fall as h^2: the
 *                observed order in the max norm must lie in [1.8, 2.2] on both refinements.
 *   mass_*       no reactions, a random field, no-flux or periodic walls: the total of every
 *                field is conserved to round-off over 50 steps.
 *   dirichlet_*  two Dirichlet walls: the steady state is the linear profile, which the
 *                cell-centred scheme represents exactly.
 * Diffusion only: every reaction parameter is zero (tt_params_off). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tf_test_util.h"

/* ---- Gaussian ------------------------------------------------------------------------------ */

/* Exact 1D factor of the Gaussian exp(-(x-x0)^2 / (2 s0^2)) after diffusion to variance s2,
 * on [0, L] with periodic walls (images at x0 + mL) or no-flux walls (images at +-x0 + 2mL). */
static double gauss1d(double x, double x0, double s0, double s2, double L, tf_bc_kind kind)
{
    double sum = 0.0;
    for (int m = -4; m <= 4; ++m) {
        if (kind == TF_BC_PERIODIC) {
            const double d = x - x0 - m * L;
            sum += exp(-d * d / (2.0 * s2));
        } else {
            const double d1 = x - x0 - 2.0 * m * L, d2 = x + x0 - 2.0 * m * L;
            sum += exp(-d1 * d1 / (2.0 * s2)) + exp(-d2 * d2 / (2.0 * s2));
        }
    }
    return sqrt(s0 * s0 / s2) * sum;
}

/* Max-norm error of the diffused Gaussian on an n^3 grid (domain L = 48 um, s0 = 8 um), divided
 * by the exact peak, at t = s0^2 / (2 D) (variance doubled). dt = r h^2 / D. */
static double gaussian_error(int n, tf_scheme scheme, tf_bc_kind kind, double r)
{
    const double L = 48.0, s0 = 8.0, D = 1.0, h = L / n;
    const double x0[3] = {0.40 * L, 0.55 * L, 0.47 * L};
    const double t_end = s0 * s0 / (2.0 * D), dt0 = r * h * h / D;
    const long steps = lround(t_end / dt0);
    const double dt = t_end / (double)steps;
    tt_state s;
    tt_state_init(&s, n, n, n, h);
    for (int k = 0; k < n; ++k)
        for (int j = 0; j < n; ++j)
            for (int i = 0; i < n; ++i) {
                const double x[3] = {(i + 0.5) * h, (j + 0.5) * h, (k + 0.5) * h};
                double u = 1.0; /* with its images, so that it is the exact solution at t = 0 */
                for (int d = 0; d < 3; ++d)
                    u *= gauss1d(x[d], x0[d], s0, s0 * s0, L, kind);
                s.f[TF_TUMOR][tf_at(&s.g, i, j, k)] = (tf_real)u;
            }
    tf_params p = tt_params_off();
    p.D_T = D;
    const tf_bcs b = tt_bcs_all(kind);
    const tf_derived q = tt_derived(0, 0, 0);
    const tf_coeffs c = tf_coeffs_make(&p, &q);
    tf_solver *sv = NULL;
    assert_int_equal(tt_solver(&sv, &s, &b, &p, scheme, dt), TF_OK);
    assert_int_equal(tt_run(sv, &c, steps), TF_OK);
    assert_int_equal(tf_solver_get_state(sv, s.f, 1u << TF_TUMOR), TF_OK);
    tf_solver_destroy(sv);

    const double s2 = s0 * s0 + 2.0 * D * t_end;
    double err = 0.0, peak = 0.0;
    for (int k = 0; k < n; ++k)
        for (int j = 0; j < n; ++j)
            for (int i = 0; i < n; ++i) {
                const double x[3] = {(i + 0.5) * h, (j + 0.5) * h, (k + 0.5) * h};
                double u = 1.0;
                for (int d = 0; d < 3; ++d)
                    u *= gauss1d(x[d], x0[d], s0, s2, L, kind);
                err = fmax(err, fabs(s.f[TF_TUMOR][tf_at(&s.g, i, j, k)] - u));
                peak = fmax(peak, u);
            }
    tt_state_free(&s);
    return err / peak;
}

static void gaussian_convergence(tf_scheme scheme, tf_bc_kind kind, double r)
{
    const int n[3] = {12, 24, 48};
    double e[3];
    for (int i = 0; i < 3; ++i)
        e[i] = gaussian_error(n[i], scheme, kind, r);
    const double o1 = tt_order(e[0], e[1], 2.0), o2 = tt_order(e[1], e[2], 2.0);
    print_message("gaussian %s %s r=%.2f: rel. max error %.3e %.3e %.3e, orders %.3f %.3f\n",
                  scheme == TF_SCHEME_LOD ? "lod" : "explicit",
                  kind == TF_BC_PERIODIC ? "periodic" : "no-flux", r, e[0], e[1], e[2], o1, o2);
    assert_true(o1 >= 1.8 && o1 <= 2.2);
    assert_true(o2 >= 1.8 && o2 <= 2.2);
}

static void gaussian_lod_periodic(void **st) { (void)st; gaussian_convergence(TF_SCHEME_LOD, TF_BC_PERIODIC, 0.25); }
static void gaussian_lod_noflux(void **st) { (void)st; gaussian_convergence(TF_SCHEME_LOD, TF_BC_NOFLUX, 0.25); }
static void gaussian_explicit_periodic(void **st) { (void)st; gaussian_convergence(TF_SCHEME_EXPLICIT, TF_BC_PERIODIC, 0.15); }
static void gaussian_explicit_noflux(void **st) { (void)st; gaussian_convergence(TF_SCHEME_EXPLICIT, TF_BC_NOFLUX, 0.15); }

/* ---- mass conservation ---------------------------------------------------------------------- */

/* A reproducible pseudo-random number in [0, 1) (splitmix64). */
static double rnd(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

/* Every field diffuses with its own D; totals after 50 steps vs before, relative. Tolerance:
 * 1e-12 in double; in float one unit round-off per line sweep, 3 x 50 x eps = 1.8e-5 (the float
 * line factors make each solve conservative only to eps; measured 9e-6 at r = 100). Sums are
 * taken in double by the diagnostics. */
static void mass_check(tf_scheme scheme, const tf_bcs *b, const char *what)
{
    /* 39,168 cells: above TF_CPU_PARALLEL_MIN_CELLS, so the threaded paths and reductions run. */
    const int nx = 36, ny = 34, nz = 32;
    const double h = 2.0;
    tt_state s;
    tt_state_init(&s, nx, ny, nz, h);
    uint64_t seed = 12345;
    for (int f = 0; f < TF_NFIELDS; ++f)
        for (int k = 0; k < nz; ++k)
            for (int j = 0; j < ny; ++j)
                for (int i = 0; i < nx; ++i)
                    s.f[f][tf_at(&s.g, i, j, k)] = (tf_real)(rnd(&seed) * (1.0 + f));
    tf_params p = tt_params_off();
    p.D_T = 0.5;
    p.D_E = 3.0;
    p.D_S = 10.0;
    p.D_P = 40.0;
    p.D_A = 100.0;
    p.D_C = 400.0;
    /* LOD: r up to D_C dt / h^2 = 100; explicit: 0.9 of the limit. */
    const double dt = scheme == TF_SCHEME_LOD ? 1.0 : 0.9 * tf_explicit_dt_limit(&p, h, b, s.g.gn).dt;
    const tf_derived q = tt_derived(0, 0, 0);
    const tf_coeffs c = tf_coeffs_make(&p, &q);
    tf_solver *sv = NULL;
    assert_int_equal(tt_solver(&sv, &s, b, &p, scheme, dt), TF_OK);
    tf_diag d0, d1;
    assert_int_equal(tf_solver_diagnostics(sv, &d0), TF_OK);
    assert_int_equal(tt_run(sv, &c, 50), TF_OK);
    assert_int_equal(tf_solver_diagnostics(sv, &d1), TF_OK);
    tf_solver_destroy(sv);
    const double tol = TT_IS_DOUBLE ? 1e-12 : 3.0 * 50.0 * TT_EPS;
    for (int f = 0; f < TF_NFIELDS; ++f) {
        const double rel = fabs(d1.total[f] - d0.total[f]) / d0.total[f];
        print_message("mass %s %s %s: relative change %.2e (tol %.0e), max %.3f -> %.3f\n",
                      scheme == TF_SCHEME_LOD ? "lod" : "explicit", what, tf_field_name[f], rel,
                      tol, d0.max[f], d1.max[f]);
        assert_true(rel <= tol);
        assert_true(d1.max[f] < d0.max[f]); /* diffusion really ran */
    }
    tt_state_free(&s);
}

static tf_bcs mixed_bcs(void)
{
    tf_bcs b = tt_bcs_all(TF_BC_NOFLUX);
    for (int f = 0; f < TF_NFIELDS; ++f) {
        b.bc[f][TF_FACE_XLO].kind = b.bc[f][TF_FACE_XHI].kind = TF_BC_PERIODIC;
        if (f % 2) /* odd fields also periodic in z */
            b.bc[f][TF_FACE_ZLO].kind = b.bc[f][TF_FACE_ZHI].kind = TF_BC_PERIODIC;
    }
    return b;
}

static void mass_lod(void **st)
{
    (void)st;
    tf_bcs b = tt_bcs_all(TF_BC_NOFLUX);
    mass_check(TF_SCHEME_LOD, &b, "no-flux");
    b = tt_bcs_all(TF_BC_PERIODIC);
    mass_check(TF_SCHEME_LOD, &b, "periodic");
    b = mixed_bcs();
    mass_check(TF_SCHEME_LOD, &b, "mixed");
}

static void mass_explicit(void **st)
{
    (void)st;
    tf_bcs b = tt_bcs_all(TF_BC_NOFLUX);
    mass_check(TF_SCHEME_EXPLICIT, &b, "no-flux");
    b = tt_bcs_all(TF_BC_PERIODIC);
    mass_check(TF_SCHEME_EXPLICIT, &b, "periodic");
    b = mixed_bcs();
    mass_check(TF_SCHEME_EXPLICIT, &b, "mixed");
}

/* ---- Dirichlet steady state ----------------------------------------------------------------- */

/* Walls lo = 2, hi = 5 on the two faces of direction `dir` for the cortisol field (no-flux on
 * the others): the steady state is u = lo + (hi - lo) x / L at the cell centres x = (i + 1/2) h,
 * exactly, because the ghost reflection 2w - u of a linear profile continues it linearly. */
static void dirichlet_check(tf_scheme scheme, int dir)
{
    const int nl = scheme == TF_SCHEME_LOD ? 16 : 8;
    int n[3] = {3, 2, 2};
    n[dir] = nl;
    const double h = 5.0, D = 10.0, lo = 2.0, hi = 5.0;
    tt_state s;
    tt_state_init(&s, n[0], n[1], n[2], h);
    for (tf_index p = 0; p < s.g.nalloc; ++p)
        s.f[TF_CORTISOL][p] = (tf_real)1.0;
    tf_bcs b = tt_bcs_all(TF_BC_NOFLUX);
    b.bc[TF_CORTISOL][2 * dir].kind = b.bc[TF_CORTISOL][2 * dir + 1].kind = TF_BC_DIRICHLET;
    b.bc[TF_CORTISOL][2 * dir].value = lo;
    b.bc[TF_CORTISOL][2 * dir + 1].value = hi;
    tf_params p = tt_params_off();
    p.D_C = D;
    /* LOD: r = 1e4, the slowest mode decays by ~1e-2 per step. Explicit: r = 0.14 (the limit
     * is 1/7 with the Dirichlet walls of one direction), slowest mode factor
     * 1 - 4 r sin^2(pi/(4 nl)) per step: 4600 steps reach round-off. */
    const double r = scheme == TF_SCHEME_LOD ? 1e4 : 0.14;
    const long steps = scheme == TF_SCHEME_LOD ? 40 : 4600;
    const tf_derived q = tt_derived(0, 0, 0);
    const tf_coeffs c = tf_coeffs_make(&p, &q);
    tf_solver *sv = NULL;
    assert_int_equal(tt_solver(&sv, &s, &b, &p, scheme, r * h * h / D), TF_OK);
    assert_int_equal(tt_run(sv, &c, steps), TF_OK);
    assert_int_equal(tf_solver_get_state(sv, s.f, 1u << TF_CORTISOL), TF_OK);
    tf_solver_destroy(sv);
    double err = 0.0;
    for (int k = 0; k < n[2]; ++k)
        for (int j = 0; j < n[1]; ++j)
            for (int i = 0; i < n[0]; ++i) {
                const int idx[3] = {i, j, k};
                const double exact = lo + (hi - lo) * (idx[dir] + 0.5) / nl;
                err = fmax(err, fabs(s.f[TF_CORTISOL][tf_at(&s.g, i, j, k)] - exact));
            }
    /* Round-off bound: the line systems' condition number is O(nl^2). */
    const double tol = 50.0 * nl * nl * TT_EPS * hi;
    print_message("dirichlet %s along %c: max error %.2e (tol %.1e)\n",
                  scheme == TF_SCHEME_LOD ? "lod" : "explicit", "xyz"[dir], err, tol);
    assert_true(err <= tol);
    tt_state_free(&s);
}

/* Tiny grids (at most 96 cells), thousands of explicit steps: one thread (tt_threads_set). */
static void dirichlet_all(tf_scheme scheme)
{
    const int threads = tt_threads_set(1);
    for (int d = 0; d < 3; ++d)
        dirichlet_check(scheme, d);
    tt_threads_set(threads);
}

static void dirichlet_lod(void **st)
{
    (void)st;
    dirichlet_all(TF_SCHEME_LOD);
}

static void dirichlet_explicit(void **st)
{
    (void)st;
    dirichlet_all(TF_SCHEME_EXPLICIT);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gaussian_lod_periodic),
        cmocka_unit_test(gaussian_lod_noflux),
        cmocka_unit_test(gaussian_explicit_periodic),
        cmocka_unit_test(gaussian_explicit_noflux),
        cmocka_unit_test(mass_lod),
        cmocka_unit_test(mass_explicit),
        cmocka_unit_test(dirichlet_lod),
        cmocka_unit_test(dirichlet_explicit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
