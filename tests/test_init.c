/* test_init.c: the initial state (host/init.c).
 *
 * The spheroid against its analytic volume 4/3 pi R^3 density; the vessel map's mean against
 * the target fraction, its range, a sparser tumor core, identical bits for the same seed, for
 * 1 and 2 OpenMP threads and for a block of a decomposed grid, other bits for another seed;
 * vessel and field maps read from NetCDF files (round trip, and the errors for a wrong shape,
 * values out of range, a missing variable or file). Built for float and double fields. */
#define _POSIX_C_SOURCE 200809L
#include "test_output_util.h"

#include <math.h>
#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define NC_OK(call) assert_int_equal((call), NC_NOERR)

static const double pi = 3.14159265358979323846;

static void init_state(to_state *st, const tf_scenario *s)
{
    tf_grid g;
    assert_int_equal(tf_grid_init(&g, s->n[0], s->n[1], s->n[2], s->spacing), TF_OK);
    to_state_init(st, &g);
    const tf_status rc = tf_initial_state(s, &st->g, NULL, st->f, st->v);
    if (rc != TF_OK)
        fprintf(stderr, "tf_initial_state: %s\n", tf_error_message());
    assert_int_equal(rc, TF_OK);
}

static int same_bits(const to_state *a, const to_state *b)
{
    const size_t bytes = (size_t)a->g.nalloc * sizeof(tf_real);
    int same = memcmp(a->v, b->v, bytes) == 0;
    for (int f = 0; f < TF_NFIELDS; ++f)
        same &= memcmp(a->f[f], b->f[f], bytes) == 0;
    return same;
}

/* Spheroid of radius R = 120 um on a 40 x 36 x 44 grid of h = 10 um. The edge
 * (1 - tanh((r - R) / h)) / 2 is a Fermi function of width h / 2, so (Sommerfeld expansion)
 * its volume is 4/3 pi (R^3 + pi^2 h^2 R / 4) up to O(h^4): 1.7% above 4/3 pi R^3 here. The
 * sum T h^3 matches 0.8 times that within 0.5% (the midpoint rule's error), and 4/3 pi R^3
 * within 2%. The other fields at their initial values; ghost cells zero. */
static void test_spheroid(void **state)
{
    (void)state;
    tf_scenario s;
    to_scenario(&s, 40, 36, 44, 10.0);
    s.tumor_radius = 120.0;
    to_state st;
    init_state(&st, &s);
    const tf_grid *g = &st.g;
    double vol = 0.0, tmax = 0.0;
    for (tf_index k = -1; k <= g->n[2]; ++k)
        for (tf_index j = -1; j <= g->n[1]; ++j)
            for (tf_index i = -1; i <= g->n[0]; ++i) {
                const tf_index p = tf_at(g, i, j, k);
                const int ghost = i < 0 || j < 0 || k < 0 || i == g->n[0] || j == g->n[1] ||
                                  k == g->n[2];
                if (ghost) {
                    for (int f = 0; f < TF_NFIELDS; ++f)
                        assert_true(st.f[f][p] == 0);
                    assert_true(st.v[p] == 0);
                    continue;
                }
                vol += st.f[TF_TUMOR][p] * 1000.0;
                tmax = fmax(tmax, st.f[TF_TUMOR][p]);
                assert_true(st.f[TF_TUMOR][p] >= 0 && st.f[TF_TUMOR][p] <= (tf_real)0.8);
                assert_true(st.f[TF_EFFECTOR][p] == 0 && st.f[TF_SUPPRESSOR][p] == 0 &&
                            st.f[TF_PRO][p] == 0);
                assert_true(st.f[TF_ANTI][p] == (tf_real)s.p.A_base);
                assert_true(st.f[TF_CORTISOL][p] == (tf_real)s.p.C_base);
                assert_true(st.v[p] >= 0 && st.v[p] <= 1);
            }
    const double R = 120.0, h = 10.0;
    const double sphere = 0.8 * 4.0 / 3.0 * pi * R * R * R;
    const double edge = 0.8 * 4.0 / 3.0 * pi * (R * R * R + pi * pi * h * h * R / 4.0);
    assert_true(fabs(vol / edge - 1.0) < 0.005);
    assert_true(fabs(vol / sphere - 1.0) < 0.02);
    assert_true(tmax > 0.79);
    /* Outside 2 edge widths the tumor is gone: a corner cell. */
    assert_true(st.f[TF_TUMOR][tf_at(g, 0, 0, 0)] < 1e-6);
    to_state_free(&st);
}

static double mean_vessel(const to_state *st, double rmin, double rmax, double *cells)
{
    const tf_grid *g = &st->g;
    double sum = 0.0, n = 0.0;
    for (tf_index k = 0; k < g->n[2]; ++k)
        for (tf_index j = 0; j < g->n[1]; ++j)
            for (tf_index i = 0; i < g->n[0]; ++i) {
                const double x = (i + 0.5 - 0.5 * g->gn[0]) * g->h;
                const double y = (j + 0.5 - 0.5 * g->gn[1]) * g->h;
                const double z = (k + 0.5 - 0.5 * g->gn[2]) * g->h;
                const double r = sqrt(x * x + y * y + z * z);
                if (r >= rmin && r < rmax) {
                    sum += st->v[tf_at(g, i, j, k)];
                    n += 1.0;
                }
            }
    if (cells)
        *cells = n;
    return sum / n;
}

/* Mean of the map: the generator stops once it reaches the target, one segment (here a few
 * hundred cells of 100 000) later at most: within 10%. Values in [0, 1]. Also on cells coarser
 * than the vessels (50 and 100 um against a 10 um radius), where the map once overshot by 2-3x
 * (the batches counted pi r^2 per unit length where a segment paints about h^2/8). */
static void test_vessel_fraction(void **state)
{
    (void)state;
    const double fr[5] = {0.01, 0.03, 0.1, 0.03, 0.03};
    const double h[5] = {10.0, 10.0, 10.0, 50.0, 100.0};
    for (int c = 0; c < 5; ++c) {
        tf_scenario s;
        to_scenario(&s, 48, 40, 52, h[c]);
        s.vessel_fraction = fr[c];
        to_state st;
        init_state(&st, &s);
        const double mean = mean_vessel(&st, 0.0, HUGE_VAL, NULL);
        assert_true(mean >= fr[c] * (1.0 - 1e-6));
        assert_true(mean <= fr[c] * 1.1);
        for (tf_index p = 0; p < st.g.nalloc; ++p)
            assert_true(st.v[p] >= 0 && st.v[p] <= 1);
        to_state_free(&st);
    }
    /* Fraction 0: no vessels. */
    tf_scenario s;
    to_scenario(&s, 8, 8, 8, 10.0);
    s.vessel_fraction = 0.0;
    to_state st;
    init_state(&st, &s);
    assert_true(mean_vessel(&st, 0.0, HUGE_VAL, NULL) == 0.0);
    to_state_free(&st);
    /* Fraction 1: vessels everywhere. */
    s.vessel_fraction = 1.0;
    init_state(&st, &s);
    assert_true(mean_vessel(&st, 0.0, HUGE_VAL, NULL) == 1.0);
    to_state_free(&st);
}

/* The tumor core (within half the tumor radius) has fewer vessels: 80% of the segments that
 * would cross it are dropped, so its mean is well below the mean outside the tumor. Averaged
 * over 4 seeds, the core has less than 60% of the outside density. */
static void test_vessel_core(void **state)
{
    (void)state;
    double core = 0.0, out = 0.0, ncore = 0.0;
    for (int seed = 1; seed <= 4; ++seed) {
        tf_scenario s;
        to_scenario(&s, 64, 64, 64, 10.0);
        s.seed = (uint64_t)seed;
        s.tumor_radius = 300.0;
        s.vessel_fraction = 0.1;
        to_state st;
        init_state(&st, &s);
        core += mean_vessel(&st, 0.0, 150.0, &ncore) / 4.0;
        out += mean_vessel(&st, 300.0, HUGE_VAL, NULL) / 4.0;
        to_state_free(&st);
    }
    assert_true(ncore > 10000.0);
    assert_true(core < 0.6 * out);
}

/* Same scenario: same bits, with 1 or 2 threads and for a block of a decomposed grid; another
 * seed: another map. */
static void test_reproducible(void **state)
{
    (void)state;
    tf_scenario s;
    to_scenario(&s, 40, 44, 36, 10.0);
    s.tumor_radius = 120.0;
    s.vessel_fraction = 0.05;
    omp_set_num_threads(2);
    to_state a, b, c;
    init_state(&a, &s);
    init_state(&b, &s);
    assert_true(same_bits(&a, &b));
    to_state_free(&b);

    omp_set_num_threads(1);
    init_state(&b, &s);
    omp_set_num_threads(2);
    assert_true(same_bits(&a, &b));
    to_state_free(&b);

    tf_scenario s2 = s;
    s2.seed = 43;
    init_state(&c, &s2);
    assert_true(memcmp(a.v, c.v, (size_t)a.g.nalloc * sizeof(tf_real)) != 0);
    assert_true(memcmp(a.f[TF_TUMOR], c.f[TF_TUMOR], (size_t)a.g.nalloc * sizeof(tf_real)) == 0);
    to_state_free(&c);

    /* The block x 10..29, y 5..43, z 20..35 of the same grid. */
    tf_grid blk;
    assert_int_equal(tf_grid_init(&blk, 20, 39, 16, 10.0), TF_OK);
    const tf_index st0[3] = {10, 5, 20};
    for (int d = 0; d < 3; ++d) {
        blk.gn[d] = s.n[d];
        blk.start[d] = st0[d];
    }
    to_state part;
    to_state_init(&part, &blk);
    assert_int_equal(tf_initial_state(&s, &blk, NULL, part.f, part.v), TF_OK);
    for (tf_index k = 0; k < blk.n[2]; ++k)
        for (tf_index j = 0; j < blk.n[1]; ++j)
            for (tf_index i = 0; i < blk.n[0]; ++i) {
                const tf_index p = tf_at(&blk, i, j, k);
                const tf_index q = tf_at(&a.g, st0[0] + i, st0[1] + j, st0[2] + k);
                assert_true(part.v[p] == a.v[q]);
                for (int f = 0; f < TF_NFIELDS; ++f)
                    assert_true(part.f[f][p] == a.f[f][q]);
            }
    to_state_free(&part);
    to_state_free(&a);
}

/* A NetCDF file with float variables of shape (z, y, x) = dims holding the interior of the
 * padded arrays a[v] (NULL: the value `fill` everywhere). */
static void write_map(const char *path, const tf_grid *g, const size_t dims[3], int nvar,
                      const char *const names[], tf_real *const a[], double fill)
{
    int nc, d[3], vid;
    NC_OK(nc_create(path, NC_NETCDF4 | NC_CLOBBER, &nc));
    const char *dn[3] = {"z", "y", "x"};
    for (int q = 0; q < 3; ++q)
        NC_OK(nc_def_dim(nc, dn[q], dims[q], &d[q]));
    for (int v = 0; v < nvar; ++v)
        NC_OK(nc_def_var(nc, names[v], NC_FLOAT, 3, d, &vid));
    NC_OK(nc_enddef(nc));
    const size_t n = dims[0] * dims[1] * dims[2];
    float *buf = malloc(n * sizeof *buf);
    for (int v = 0; v < nvar; ++v) {
        size_t q = 0;
        for (size_t k = 0; k < dims[0]; ++k)
            for (size_t j = 0; j < dims[1]; ++j)
                for (size_t i = 0; i < dims[2]; ++i, ++q)
                    buf[q] = a && a[v] ? (float)a[v][tf_at(g, (tf_index)i, (tf_index)j,
                                                             (tf_index)k)]
                                       : (float)fill;
        NC_OK(nc_inq_varid(nc, names[v], &vid));
        NC_OK(nc_put_var_float(nc, vid, buf));
    }
    free(buf);
    NC_OK(nc_close(nc));
}

static void test_vessel_file(void **state)
{
    (void)state;
    tf_scenario s;
    to_scenario(&s, 7, 5, 3, 10.0);
    tf_grid g;
    assert_int_equal(tf_grid_init(&g, 7, 5, 3, 10.0), TF_OK);
    to_state src;
    to_state_init(&src, &g);
    to_state_random(&src, 5);
    char path[600];
    snprintf(path, sizeof path, "%s/vessels.nc", tmpdir);
    const char *name[1] = {"vmap"};
    const size_t dims[3] = {3, 5, 7};
    write_map(path, &g, dims, 1, name, &src.v, 0.0);

    snprintf(s.vessel_file, sizeof s.vessel_file, "%s", path);
    snprintf(s.vessel_variable, sizeof s.vessel_variable, "vmap");
    to_state st;
    init_state(&st, &s);
    for (tf_index k = 0; k < 3; ++k)
        for (tf_index j = 0; j < 5; ++j)
            for (tf_index i = 0; i < 7; ++i) {
                const tf_index p = tf_at(&g, i, j, k);
                assert_true(st.v[p] == (tf_real)(float)src.v[p]);
            }
    assert_true(st.v[tf_at(&g, -1, 0, 0)] == 0);

    /* Wrong shape: the message names the file, the variable and the expected shape. */
    const size_t wrong[3] = {4, 5, 7};
    write_map(path, &g, wrong, 1, name, NULL, 0.5);
    tf_error_clear();
    assert_int_equal(tf_initial_state(&s, &g, NULL, st.f, st.v), TF_ERR_USAGE);
    assert_non_null(strstr(tf_error_message(), path));
    assert_non_null(strstr(tf_error_message(), "'vmap'"));
    assert_non_null(strstr(tf_error_message(), "(4, 5, 7)"));
    assert_non_null(strstr(tf_error_message(), "expected (z, y, x) = (3, 5, 7)"));

    /* Values outside [0, 1]. */
    write_map(path, &g, dims, 1, name, NULL, 1.5);
    tf_error_clear();
    assert_int_equal(tf_initial_state(&s, &g, NULL, st.f, st.v), TF_ERR_USAGE);
    assert_non_null(strstr(tf_error_message(), path));
    assert_non_null(strstr(tf_error_message(), "'vmap'"));
    assert_non_null(strstr(tf_error_message(), "1.5"));

    /* No such variable; no such file. */
    snprintf(s.vessel_variable, sizeof s.vessel_variable, "vessel");
    tf_error_clear();
    assert_int_equal(tf_initial_state(&s, &g, NULL, st.f, st.v), TF_ERR_USAGE);
    assert_non_null(strstr(tf_error_message(), "'vessel'"));
    snprintf(s.vessel_file, sizeof s.vessel_file, "%s/none.nc", tmpdir);
    tf_error_clear();
    assert_int_equal(tf_initial_state(&s, &g, NULL, st.f, st.v), TF_ERR_IO);
    assert_non_null(strstr(tf_error_message(), s.vessel_file));
    tf_error_clear();
    to_state_free(&st);
    to_state_free(&src);
}

/* An output file seeds a new run: the fields come from its last record. A (z, y, x) file
 * does too. */
static void test_initial_file(void **state)
{
    (void)state;
    tf_scenario s;
    to_scenario(&s, 6, 5, 4, 10.0);
    tf_grid g;
    assert_int_equal(tf_grid_init(&g, 6, 5, 4, 10.0), TF_OK);
    to_state r0, r1;
    to_state_init(&r0, &g);
    to_state_init(&r1, &g);
    to_state_random(&r0, 21);
    to_state_random(&r1, 22);
    /* Tumor is a volume fraction in [0, 1]. */
    for (tf_index p = 0; p < g.nalloc; ++p)
        r1.f[TF_TUMOR][p] = (tf_real)fabs((double)r1.f[TF_TUMOR][p]) / 10;
    char path[600];
    snprintf(path, sizeof path, "%s/previous.nc", tmpdir);
    tf_ncout *o;
    assert_int_equal(tf_ncout_create(&o, path, &s, &g, NULL, "", r0.v), TF_OK);
    assert_int_equal(tf_ncout_write(o, 0.0, r0.f), TF_OK);
    assert_int_equal(tf_ncout_write(o, 60.0, r1.f), TF_OK);
    assert_int_equal(tf_ncout_close(o), TF_OK);

    snprintf(s.initial_file, sizeof s.initial_file, "%s", path);
    to_state st;
    init_state(&st, &s);
    for (tf_index k = 0; k < 4; ++k)
        for (tf_index j = 0; j < 5; ++j)
            for (tf_index i = 0; i < 6; ++i) {
                const tf_index p = tf_at(&g, i, j, k);
                for (int f = 0; f < TF_NFIELDS; ++f)
                    assert_true(st.f[f][p] == (tf_real)(float)r1.f[f][p]);
            }

    snprintf(path, sizeof path, "%s/fields3d.nc", tmpdir);
    const size_t dims[3] = {4, 5, 6};
    write_map(path, &g, dims, TF_NFIELDS, tf_field_name, r1.f, 0.0);
    snprintf(s.initial_file, sizeof s.initial_file, "%s", path);
    to_state st3;
    init_state(&st3, &s);
    assert_true(same_bits(&st, &st3));

    /* A negative concentration is refused, naming the variable. */
    r1.f[TF_PRO][tf_at(&g, 2, 3, 1)] = -1;
    write_map(path, &g, dims, TF_NFIELDS, tf_field_name, r1.f, 0.0);
    tf_error_clear();
    assert_int_equal(tf_initial_state(&s, &g, NULL, st.f, st.v), TF_ERR_USAGE);
    assert_non_null(strstr(tf_error_message(), "'pro_cytokine'"));
    assert_non_null(strstr(tf_error_message(), "(1, 3, 2)"));
    tf_error_clear();
    to_state_free(&st3);
    to_state_free(&st);
    to_state_free(&r1);
    to_state_free(&r0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spheroid),      cmocka_unit_test(test_vessel_fraction),
        cmocka_unit_test(test_vessel_core),   cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_vessel_file),   cmocka_unit_test(test_initial_file),
    };
    return cmocka_run_group_tests(tests, to_group_setup, to_group_teardown);
}
