/* test_numerics_checks.c: the solver's refusals and state checks.
 *
 *   explicit_limit  the explicit scheme's limit is min over the fields of 1/(w D/h^2 + loss)
 *                   (w = 6, and 1 for each Dirichlet wall a cell touches:
 *                   explicit_limit_dirichlet, where a corner spike stays non-negative at it)
 *                   (loss: the largest reaction loss rate); it accepts dt at the limit and
 *                   refuses dt just above it with TF_ERR_USAGE and a message naming the limit
 *                   and the field; a loss rate alone sets one; LOD accepts any dt.
 *   check_state     a planted NaN, infinity or negative value gives TF_ERR_NUMERIC with the
 *                   right field, cell and value (the lowest field first, then the lowest
 *                   linear index); a clean state gives TF_OK.
 *   bad_setup       non-positive dt and periodic on one face only are refused (TF_ERR_USAGE). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tf_test_util.h"

/* A limit is printed rounded down, so that the printed dt passes: 0.0011098718 min printed to
 * 4 digits was "0.00111", which the check then refused. */
static void printed_limit(void **st)
{
    (void)st;
    assert_true(fabs(tf_floor_sig(0.0011098718, 4) - 0.001109) < 1e-15);
    assert_true(tf_floor_sig(123456.0, 2) == 120000.0);
    assert_true(tf_floor_sig(0.4988999, 3) <= 0.4988999);
    unsigned long long x = 88172645463325252ull;
    for (int i = 0; i < 100000; ++i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const double v = exp((double)(x % 100000) / 100000.0 * 60.0 - 30.0); /* 1e-13 .. 1e13 */
        const double r = tf_floor_sig(v, 4);
        assert_true(r <= v && r >= v * (1.0 - 1.001e-3));
    }
    assert_true(isinf(tf_floor_sig(INFINITY, 4)));
    assert_true(tf_floor_sig(0.0, 4) == 0.0);
}

/* At Dirichlet walls the cell's own weight grows by one per wall it touches (its ghost is
 * 2 w - u): a corner of a grid with Dirichlet walls on every face has 9, a one-cell grid 12.
 * The limit counts it, so that a spike in the corner stays non-negative at the limit (1 - 9 r
 * = 0 exactly), where the interior limit 1/6 accepted a dt that drove it to 1 - 9/6 < 0. */
static void explicit_limit_dirichlet(void **st)
{
    (void)st;
    const double h = 10.0, D = 100.0;
    tf_params p = tt_params_off();
    p.D_T = D;
    const tf_bcs walls = tt_bcs_all(TF_BC_DIRICHLET);
    const tf_bcs noflux = tt_bcs_all(TF_BC_NOFLUX);
    const tf_index corner[3] = {4, 3, 5}, one[3] = {1, 1, 1}, slab[3] = {4, 1, 5};
    tf_dt_limit lim = tf_explicit_dt_limit(&p, h, &walls, corner);
    assert_int_equal(lim.weight, 9);
    assert_int_equal(lim.field, TF_TUMOR);
    assert_true(fabs(lim.dt - h * h / (9.0 * D)) <= 1e-15);
    assert_int_equal(tf_explicit_dt_limit(&p, h, &walls, one).weight, 12);
    assert_int_equal(tf_explicit_dt_limit(&p, h, &walls, slab).weight, 10);
    assert_int_equal(tf_explicit_dt_limit(&p, h, &noflux, corner).weight, 6);
    tf_bcs one_wall = noflux; /* one Dirichlet face in y: the cells beside it touch one wall */
    one_wall.bc[TF_TUMOR][2].kind = TF_BC_DIRICHLET;
    assert_int_equal(tf_explicit_dt_limit(&p, h, &one_wall, corner).weight, 7);
    one_wall.bc[TF_TUMOR][2].kind = TF_BC_NOFLUX; /* a wall of another field: nothing */
    one_wall.bc[TF_EFFECTOR][2].kind = TF_BC_DIRICHLET;
    assert_int_equal(tf_explicit_dt_limit(&p, h, &one_wall, corner).weight, 6);

    tt_state s;
    tt_state_init(&s, corner[0], corner[1], corner[2], h);
    s.f[TF_TUMOR][tf_at(&s.g, 0, 0, 0)] = (tf_real)1;
    tf_solver *sv = NULL;
    tf_error_clear();
    assert_int_equal(tt_solver(&sv, &s, &walls, &p, TF_SCHEME_EXPLICIT, h * h / (6.0 * D)),
                     TF_ERR_USAGE);
    assert_non_null(strstr(tf_error_message(), "1/(9 D/h^2 + loss)"));
    tf_error_clear();
    assert_int_equal(tt_solver(&sv, &s, &walls, &p, TF_SCHEME_EXPLICIT, lim.dt), TF_OK);
    const tf_derived q = tt_derived(0, 0, 0);
    const tf_coeffs c = tf_coeffs_make(&p, &q);
    assert_int_equal(tt_run(sv, &c, 20), TF_OK);
    assert_int_equal(tf_solver_get_state(sv, s.f, 1u << TF_TUMOR), TF_OK);
    tf_bad_cell bad;
    assert_int_equal(tf_solver_check_state(sv, &bad), TF_OK);
    tf_solver_destroy(sv);
    double lowest = 1.0;
    for (tf_index k = 0; k < corner[2]; ++k)
        for (tf_index j = 0; j < corner[1]; ++j)
            for (tf_index i = 0; i < corner[0]; ++i)
                lowest = fmin(lowest, s.f[TF_TUMOR][tf_at(&s.g, i, j, k)]);
    assert_true(lowest >= 0.0);
    tt_state_free(&s);
}

static void explicit_limit(void **st)
{
    (void)st;
    tt_state s;
    tt_state_init(&s, 4, 3, 2, 10.0);
    tf_params p;
    tf_params_default(&p); /* D_max = D_C = 15000 um^2/min; C's loss lambda_C + mu_C */
    const tf_bcs b = tt_bcs_all(TF_BC_NOFLUX);
    const double lim = tf_explicit_dt_limit(&p, 10.0, &b, s.g.gn).dt;
    assert_true(fabs(lim - 1.0 / (6.0 * 15000.0 / 100.0 + p.lambda_C + p.mu_C)) <= 1e-15);
    assert_int_equal(tf_explicit_dt_limit(&p, 10.0, &b, s.g.gn).field, TF_CORTISOL);
    assert_true(tf_explicit_dt_limit(&p, 10.0, NULL, NULL).dt == lim);
    tf_solver *sv = NULL;

    tf_error_clear();
    assert_int_equal(tf_solver_create(&sv, TF_BACKEND_CPU, &s.g, &b, &p, TF_SCHEME_EXPLICIT,
                                      1.001 * lim),
                     TF_ERR_USAGE);
    assert_null(sv);
    const char *msg = tf_error_message();
    print_message("refusal: %s\n", msg);
    char lim_text[64];
    snprintf(lim_text, sizeof lim_text, "%g", lim);
    assert_non_null(strstr(msg, "1/(6 D/h^2 + loss)"));
    assert_non_null(strstr(msg, "cortisol"));
    assert_non_null(strstr(msg, lim_text));
    assert_non_null(strstr(msg, "explicit"));

    tf_error_clear();
    assert_int_equal(tf_solver_create(&sv, TF_BACKEND_CPU, &s.g, &b, &p, TF_SCHEME_EXPLICIT, lim),
                     TF_OK);
    tf_solver_destroy(sv);
    assert_int_equal(tf_solver_create(&sv, TF_BACKEND_CPU, &s.g, &b, &p, TF_SCHEME_LOD, 1e3 * lim),
                     TF_OK);
    tf_solver_destroy(sv);

    /* Without diffusion or loss there is no limit; a loss alone sets one. */
    tf_params off = tt_params_off();
    assert_true(isinf(tf_explicit_dt_limit(&off, 10.0, NULL, NULL).dt));
    tf_params decay = off;
    decay.mu_S = 0.25;
    const tf_dt_limit dl = tf_explicit_dt_limit(&decay, 10.0, &b, s.g.gn);
    assert_true(fabs(dl.dt - 4.0) <= 1e-15);
    assert_int_equal(dl.field, TF_SUPPRESSOR);
    assert_int_equal(tf_solver_create(&sv, TF_BACKEND_CPU, &s.g, &b, &off, TF_SCHEME_EXPLICIT, 5.0),
                     TF_OK);
    tf_solver_destroy(sv);
    tt_state_free(&s);
}

/* Load a clean state (every field 1), plant `val` in field f at (i, j, k) and, if f2 >= 0,
 * `val2` in field f2 at (i2, j2, k2); check the reported cell. */
static void plant_and_check(int f, int i, int j, int k, double val, int f2, int i2, int j2,
                            int k2, double val2, int want_f, int wi, int wj, int wk)
{
    tt_state s;
    tt_state_init(&s, 5, 4, 3, 10.0);
    for (int q = 0; q < TF_NFIELDS; ++q)
        for (tf_index p = 0; p < s.g.nalloc; ++p)
            s.f[q][p] = (tf_real)1.0;
    /* Ghost cells are outside the state: a NaN there must not be reported. */
    s.f[TF_TUMOR][tf_at(&s.g, -1, 0, 0)] = (tf_real)NAN;
    s.f[TF_CORTISOL][tf_at(&s.g, 2, 4, 2)] = (tf_real)-1.0;
    s.f[f][tf_at(&s.g, i, j, k)] = (tf_real)val;
    if (f2 >= 0)
        s.f[f2][tf_at(&s.g, i2, j2, k2)] = (tf_real)val2;
    tf_params p;
    tf_params_default(&p);
    const tf_bcs b = tt_bcs_all(TF_BC_NOFLUX);
    tf_solver *sv = NULL;
    assert_int_equal(tt_solver(&sv, &s, &b, &p, TF_SCHEME_LOD, 1.0), TF_OK);
    tf_bad_cell bad;
    memset(&bad, 0, sizeof bad);
    tf_error_clear();
    assert_int_equal(tf_solver_check_state(sv, &bad), TF_ERR_NUMERIC);
    print_message("check_state: %s\n", tf_error_message());
    assert_int_equal(bad.field, want_f);
    assert_int_equal(bad.i, wi);
    assert_int_equal(bad.j, wj);
    assert_int_equal(bad.k, wk);
    const double want_v = (want_f == f && wi == i && wj == j && wk == k) ? val : val2;
    if (isnan(want_v))
        assert_true(isnan(bad.value));
    else
        assert_true(bad.value == (double)(tf_real)want_v);
    char where[64];
    snprintf(where, sizeof where, "(%d,%d,%d)", wi, wj, wk);
    assert_non_null(strstr(tf_error_message(), tf_field_name[want_f]));
    assert_non_null(strstr(tf_error_message(), where));
    tf_solver_destroy(sv);
    tt_state_free(&s);
}

static void check_state(void **st)
{
    (void)st;
    /* A NaN in the effector field. */
    plant_and_check(TF_EFFECTOR, 3, 2, 1, NAN, -1, 0, 0, 0, 0, TF_EFFECTOR, 3, 2, 1);
    /* A negative cortisol value at the last cell. */
    plant_and_check(TF_CORTISOL, 4, 3, 2, -1e-3, -1, 0, 0, 0, 0, TF_CORTISOL, 4, 3, 2);
    /* An infinity in the tumor field at the first cell. */
    plant_and_check(TF_TUMOR, 0, 0, 0, INFINITY, -1, 0, 0, 0, 0, TF_TUMOR, 0, 0, 0);
    /* Two bad cells: the lowest field wins, whatever the order of the cells. */
    plant_and_check(TF_PRO, 0, 0, 0, NAN, TF_SUPPRESSOR, 4, 3, 2, -2.0, TF_SUPPRESSOR, 4, 3, 2);
    /* Two bad cells in one field: the lowest linear index (x fastest, then y, then z) wins. */
    plant_and_check(TF_ANTI, 0, 1, 2, -5.0, TF_ANTI, 4, 0, 2, NAN, TF_ANTI, 4, 0, 2);

    /* A clean state passes, and a step from it stays clean. */
    tt_state s;
    tt_state_init(&s, 5, 4, 3, 10.0);
    for (int q = 0; q < TF_NFIELDS; ++q)
        for (tf_index p = 0; p < s.g.nalloc; ++p)
            s.f[q][p] = (tf_real)0.5;
    tf_params p;
    tf_params_default(&p);
    const tf_bcs b = tt_bcs_all(TF_BC_NOFLUX);
    tf_solver *sv = NULL;
    assert_int_equal(tt_solver(&sv, &s, &b, &p, TF_SCHEME_LOD, 1.0), TF_OK);
    tf_bad_cell bad;
    assert_int_equal(tf_solver_check_state(sv, &bad), TF_OK);
    tf_schedule none;
    memset(&none, 0, sizeof none);
    const tf_drivers d = {0, 0, 0};
    const tf_derived q = tf_drivers_derive(&d, &p, &none, 0.5, 0.0);
    const tf_coeffs c = tf_coeffs_make(&p, &q);
    assert_int_equal(tt_run(sv, &c, 10), TF_OK);
    assert_int_equal(tf_solver_check_state(sv, &bad), TF_OK);
    tf_solver_destroy(sv);
    tt_state_free(&s);
}

static void bad_setup(void **st)
{
    (void)st;
    tt_state s;
    tt_state_init(&s, 4, 3, 2, 10.0);
    tf_params p;
    tf_params_default(&p);
    tf_bcs b = tt_bcs_all(TF_BC_NOFLUX);
    tf_solver *sv = NULL;
    tf_error_clear();
    assert_int_equal(tf_solver_create(&sv, TF_BACKEND_CPU, &s.g, &b, &p, TF_SCHEME_LOD, 0.0),
                     TF_ERR_USAGE);
    assert_non_null(strstr(tf_error_message(), "dt"));
    tf_error_clear();
    assert_int_equal(tf_solver_create(&sv, TF_BACKEND_CPU, &s.g, &b, &p, TF_SCHEME_LOD, NAN),
                     TF_ERR_USAGE);
    b.bc[TF_PRO][TF_FACE_YHI].kind = TF_BC_PERIODIC;
    tf_error_clear();
    assert_int_equal(tf_solver_create(&sv, TF_BACKEND_CPU, &s.g, &b, &p, TF_SCHEME_LOD, 1.0),
                     TF_ERR_USAGE);
    print_message("refusal: %s\n", tf_error_message());
    assert_non_null(strstr(tf_error_message(), "pro_cytokine"));
    assert_non_null(strstr(tf_error_message(), "y_lo"));
    assert_null(sv);
    tf_error_clear();
    tt_state_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(explicit_limit),
        cmocka_unit_test(explicit_limit_dirichlet),
        cmocka_unit_test(printed_limit),
        cmocka_unit_test(check_state),
        cmocka_unit_test(bad_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
