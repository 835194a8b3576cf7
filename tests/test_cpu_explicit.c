/* test_cpu_explicit.c: the CPU backend's explicit step against a plain loop.
 *
 *   matches_reference  The explicit step walks each thread's planes in j-tiles of 16 rows with
 *       k inside a tile, fills the x ghosts row by row and the y and z faces before a barrier
 *       (host/cpu_backend.c). A plain loop over the cells (tf_fill_ghosts_host, tf_nbr6,
 *       tf_explicit_voxel from one set of arrays into another) must give the same bits after
 *       several steps: shapes with one j-tile and several, a last tile cut short, one plane,
 *       fewer planes than threads, rows of one cell; 1 to 5 threads (grids from 32768 cells
 *       run threaded); every face no-flux, and no-flux, Dirichlet and periodic mixed over
 *       fields and faces. The full model runs (every reaction term on, vessels varying), so
 *       every operand of the update is exercised. (It was written for an in-place variant of
 *       the step, measured no faster and reverted: docs/performance.md.)
 *   pairs_match_reference  On one process the CPU runs explicit steps two at a time, one
 *       sweep for both with the first step's planes in a per-thread ring ("Explicit steps in
 *       pairs" in host/cpu_backend.c); a step left over runs alone when the state is read. The
 *       same plain loop must give the same bits after 1, 2, 4 and 5 steps, with the systemic
 *       coefficients changing every step (so each step of a pair must take its own), with the
 *       diagnostics read in between (a waiting step must run first), and with
 *       TF_CPU_EXPLICIT=single (every step alone); the backend must say it pairs, and an
 *       unknown TF_CPU_EXPLICIT is refused with the choices named.
 *   tile_rows_give_the_same_bits  The explicit step's j-tiles are as tall as keep a pair's
 *       working set in the L2 (8 to 64 rows, by the machine) or TF_CPU_TILE_ROWS: 1, 2, 7, 33
 *       and 200 rows (a tile taller than the grid) give the reference's bits too, in pairs and
 *       one step at a time, the backend reports the rows it took, its own choice is a
 *       multiple of 8 from 8 to 64, and a TF_CPU_TILE_ROWS that is not an integer from 1 to
 *       4096 is refused by name.
 *   long_rows_run_alone  Rows too long for the ring to stay in cache run one step at a time. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tf_backend.h"
#include "tf_model.h"
#include "tf_test_util.h"

/* Deterministic values in [lo, hi). */
static double hash01(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (double)(x >> 11) / 9007199254740992.0;
}

/* Mixed faces: tumor periodic along x and z, cortisol periodic along y, pro-cytokine Dirichlet
 * on every face, effector Dirichlet on x_lo, anti-cytokine on z_hi; the rest no-flux. */
static tf_bcs mixed_bcs(void)
{
    tf_bcs b = tt_bcs_all(TF_BC_NOFLUX);
    for (int q = 0; q < TF_NFACES; ++q) {
        if (q / 2 != 1)
            b.bc[TF_TUMOR][q].kind = TF_BC_PERIODIC;
        if (q / 2 == 1)
            b.bc[TF_CORTISOL][q].kind = TF_BC_PERIODIC;
        b.bc[TF_PRO][q] = (tf_bc){TF_BC_DIRICHLET, 5.0};
    }
    b.bc[TF_EFFECTOR][TF_FACE_XLO] = (tf_bc){TF_BC_DIRICHLET, 0.01};
    b.bc[TF_ANTI][TF_FACE_ZHI] = (tf_bc){TF_BC_DIRICHLET, 3.0};
    return b;
}

/* The coefficients of step n: the systemic drivers change from step to step. */
static tf_coeffs step_coeffs(const tf_params *p, int n)
{
    const tf_derived drv = tt_derived(14.0 + 3.0 * n, 6.0 - 0.7 * n, 1.3 + 0.4 * n);
    return tf_coeffs_make(p, &drv);
}

/* One reference step from cur into nxt (both padded; cur's ghosts are overwritten). */
static void reference_step(const tf_grid *g, const tf_bcs *b, const tf_coeffs *co,
                           const tf_real dif[TF_NFIELDS], tf_real dt, tf_real *cur[TF_NFIELDS],
                           tf_real *nxt[TF_NFIELDS], const tf_real *vessel)
{
    const tf_step_coeffs st = tf_coeffs_step(co, dt);
    const tf_explicit_dif e = tf_explicit_dif_make(dif, dt);
    for (int f = 0; f < TF_NFIELDS; ++f)
        tf_fill_ghosts_host(g, b->bc[f], cur[f]);
    for (tf_index k = 0; k < g->n[2]; ++k)
        for (tf_index j = 0; j < g->n[1]; ++j)
            for (tf_index i = 0; i < g->n[0]; ++i) {
                const tf_index p = tf_at(g, i, j, k);
                tf_real u[TF_NFIELDS], nbr[TF_NFIELDS], out[TF_NFIELDS];
                for (int f = 0; f < TF_NFIELDS; ++f) {
                    u[f] = cur[f][p];
                    nbr[f] = tf_nbr6(cur[f], p, g->sy, g->sz);
                }
                tf_explicit_voxel(&st, &e, u, nbr, vessel[p], out);
                for (int f = 0; f < TF_NFIELDS; ++f)
                    nxt[f][p] = out[f];
            }
}

/* `steps` explicit steps of the solver on `threads` threads against the reference, the
 * diagnostics read after step `read_after` (0: never); threads_later > 0: the OpenMP threads
 * set to that many after the solver was created (it keeps to those it was created with).
 * Returns the number of cells whose bits differ (and prints the first). */
static long compare_shape(tf_index nx, tf_index ny, tf_index nz, const tf_bcs *b, int threads,
                          int steps, int read_after, int threads_later)
{
    const double h = 20.0;
    tt_state s, ref, nxt;
    tt_state_init(&s, nx, ny, nz, h);
    tt_state_init(&ref, nx, ny, nz, h);
    tt_state_init(&nxt, nx, ny, nz, h);
    const tf_grid *g = &s.g;
    /* Levels about the model's: tumor in [0, 1], cells, cytokines in pg/mL, cortisol nmol/L. */
    const double scale[TF_NFIELDS] = {1.0, 0.3, 0.2, 40.0, 20.0, 15.0};
    for (tf_index k = 0; k < nz; ++k)
        for (tf_index j = 0; j < ny; ++j)
            for (tf_index i = 0; i < nx; ++i) {
                const tf_index p = tf_at(g, i, j, k);
                const uint64_t cell = (uint64_t)((k * ny + j) * nx + i);
                for (int f = 0; f < TF_NFIELDS; ++f)
                    s.f[f][p] = ref.f[f][p] =
                        (tf_real)(scale[f] * hash01(cell * 7 + (uint64_t)f));
                s.vessel[p] = ref.vessel[p] = (tf_real)(0.2 * hash01(cell * 7 + 6));
            }
    tf_params p;
    tf_params_default(&p);
    const double dt = 0.9 * tf_explicit_dt_limit(&p, h, b, g->gn).dt;
    const tf_real dif[TF_NFIELDS] = {(tf_real)(p.D_T / (h * h)), (tf_real)(p.D_E / (h * h)),
                                     (tf_real)(p.D_S / (h * h)), (tf_real)(p.D_P / (h * h)),
                                     (tf_real)(p.D_A / (h * h)), (tf_real)(p.D_C / (h * h))};

    const int old = tt_threads_set(threads);
    tf_solver *sv = NULL;
    assert_int_equal(tt_solver(&sv, &s, b, &p, TF_SCHEME_EXPLICIT, dt), TF_OK);
    const char *mode = getenv("TF_CPU_EXPLICIT");
    assert_int_equal(tf_solver_explicit_paired(sv) != 0, !(mode && strcmp(mode, "single") == 0));
    if (threads_later > 0)
        tt_threads_set(threads_later);
    for (int n = 0; n < steps; ++n) {
        const tf_coeffs co = step_coeffs(&p, n), unused = step_coeffs(&p, 1000);
        assert_int_equal(tf_solver_step(sv, &co, &unused), TF_OK);
        tf_diag d;
        if (n + 1 == read_after)
            assert_int_equal(tf_solver_diagnostics(sv, &d), TF_OK);
    }
    assert_int_equal(tf_solver_get_state(sv, s.f, (1u << TF_NFIELDS) - 1), TF_OK);
    tf_solver_destroy(sv);
    tt_threads_set(old);

    tf_real **cur = ref.f, **next = nxt.f;
    for (int n = 0; n < steps; ++n) {
        const tf_coeffs co = step_coeffs(&p, n);
        reference_step(g, b, &co, dif, (tf_real)dt, cur, next, ref.vessel);
        tf_real **t = cur;
        cur = next;
        next = t;
    }
    long bad = 0;
    for (int f = 0; f < TF_NFIELDS; ++f)
        for (tf_index k = 0; k < nz; ++k)
            for (tf_index j = 0; j < ny; ++j)
                for (tf_index i = 0; i < nx; ++i) {
                    const tf_index q = tf_at(g, i, j, k);
                    if (memcmp(&s.f[f][q], &cur[f][q], sizeof(tf_real)) == 0)
                        continue;
                    if (bad++ == 0)
                        print_message("%lld x %lld x %lld, %d threads: %s (%lld, %lld, %lld): "
                                      "%.9g, reference %.9g (%d steps)\n",
                                      (long long)nx, (long long)ny, (long long)nz, threads,
                                      tf_field_name[f], (long long)i, (long long)j,
                                      (long long)k, (double)s.f[f][q], (double)cur[f][q],
                                      steps);
                }
    tt_state_free(&s);
    tt_state_free(&ref);
    tt_state_free(&nxt);
    return bad;
}

static void matches_reference(void **st)
{
    (void)st;
    /* (nx, ny, nz): several tiles with a short last one, threaded (>= 32768 cells); exactly one
     * tile; fewer planes than threads; one plane; rows of one cell; a small one-thread grid. */
    const tf_index shapes[][3] = {{37, 41, 23}, {45, 16, 47}, {160, 70, 3},  {190, 180, 1},
                                  {1, 190, 180}, {9, 7, 5}};
    const int threads[] = {1, 2, 3, 5};
    const tf_bcs sets[2] = {tt_bcs_all(TF_BC_NOFLUX), mixed_bcs()};
    long bad = 0;
    for (size_t a = 0; a < sizeof shapes / sizeof shapes[0]; ++a)
        for (size_t t = 0; t < sizeof threads / sizeof threads[0]; ++t)
            for (int b = 0; b < 2; ++b)
                bad += compare_shape(shapes[a][0], shapes[a][1], shapes[a][2], &sets[b],
                                     threads[t], 3, 0, 0);
    assert_int_equal(bad, 0);
}

static void pairs_match_reference(void **st)
{
    (void)st;
    assert_int_equal(unsetenv("TF_CPU_EXPLICIT"), 0);
    /* Several tiles and a short last one; one plane; rows of one cell; fewer rows than a
     * tile (the ring sized to them), one row; both again with enough cells to be threaded
     * (TF_CPU_PARALLEL_MIN_CELLS). */
    const tf_index shapes[][3] = {{37, 41, 23}, {160, 70, 3}, {190, 180, 1}, {1, 190, 180},
                                  {33, 17, 40}, {45, 5, 30},  {20, 1, 30},   {200, 5, 40},
                                  {300, 1, 120}};
    /* (steps, read after): one step alone; one pair; two pairs; two pairs and one alone; a
     * step alone (read after it), then two pairs. */
    const int runs[][2] = {{1, 0}, {2, 0}, {4, 0}, {5, 0}, {5, 1}};
    const int threads[] = {1, 2, 3};
    const tf_bcs sets[2] = {tt_bcs_all(TF_BC_NOFLUX), mixed_bcs()};
    long bad = 0;
    for (size_t a = 0; a < sizeof shapes / sizeof shapes[0]; ++a)
        for (size_t t = 0; t < sizeof threads / sizeof threads[0]; ++t)
            for (int b = 0; b < 2; ++b)
                for (size_t r = 0; r < sizeof runs / sizeof runs[0]; ++r)
                    bad += compare_shape(shapes[a][0], shapes[a][1], shapes[a][2], &sets[b],
                                         threads[t], runs[r][0], runs[r][1], 0);
    /* Every step alone. */
    assert_int_equal(setenv("TF_CPU_EXPLICIT", "single", 1), 0);
    bad += compare_shape(37, 41, 23, &sets[1], 2, 4, 0, 0);
    assert_int_equal(unsetenv("TF_CPU_EXPLICIT"), 0);
    assert_int_equal(bad, 0);
}

/* A solver keeps to the OpenMP threads it was created with: more threads set afterwards
 * (a caller's omp_set_num_threads) do not reach past its per-thread buffers (the explicit
 * pairs' rings, the x-line tiles) and give the same bits. */
static void threads_set_later(void **st)
{
    (void)st;
    assert_int_equal(unsetenv("TF_CPU_EXPLICIT"), 0);
    const tf_bcs mixed = mixed_bcs();
    assert_int_equal(compare_shape(37, 41, 23, &mixed, 1, 4, 0, 3), 0);
    assert_int_equal(compare_shape(37, 41, 23, &mixed, 2, 3, 0, 5), 0);
    /* LOD: one step created on 1 thread and run on 3, against one run on 1. */
    tf_real *got[2][TF_NFIELDS];
    tt_state s[2];
    tf_params p;
    tf_params_default(&p);
    const tf_derived drv = tt_derived(14.0, 6.0, 1.3);
    const tf_coeffs co = tf_coeffs_make(&p, &drv);
    for (int run = 0; run < 2; ++run) {
        tt_state_init(&s[run], 70, 60, 30, 20.0);
        for (tf_index q = 0; q < s[run].g.nalloc; ++q)
            for (int f = 0; f < TF_NFIELDS; ++f)
                s[run].f[f][q] = (tf_real)(0.5 * hash01((uint64_t)q * 7 + (uint64_t)f));
        const int old = tt_threads_set(1);
        tf_solver *sv = NULL;
        assert_int_equal(tt_solver(&sv, &s[run], &mixed, &p, TF_SCHEME_LOD, 1.0), TF_OK);
        tt_threads_set(run ? 3 : 1);
        assert_int_equal(tf_solver_step(sv, &co, &co), TF_OK);
        assert_int_equal(tf_solver_get_state(sv, s[run].f, (1u << TF_NFIELDS) - 1), TF_OK);
        tf_solver_destroy(sv);
        tt_threads_set(old);
        for (int f = 0; f < TF_NFIELDS; ++f)
            got[run][f] = s[run].f[f];
    }
    for (int f = 0; f < TF_NFIELDS; ++f)
        assert_memory_equal(got[0][f], got[1][f], sizeof(tf_real) * (size_t)s[0].g.nalloc);
    tt_state_free(&s[0]);
    tt_state_free(&s[1]);
}

/* A CPU solver of the explicit scheme (default parameters, no-flux walls, dt 0.001 min) on an
 * nx x ny x nz grid of 20 um cells whose state s the caller frees. */
static tf_status explicit_solver(tf_solver **sv, tt_state *s, tf_index nx, tf_index ny,
                                 tf_index nz)
{
    tt_state_init(s, nx, ny, nz, 20.0);
    tf_params p;
    tf_params_default(&p);
    const tf_bcs b = tt_bcs_all(TF_BC_NOFLUX);
    return tf_solver_create(sv, TF_BACKEND_CPU, &s->g, &b, &p, TF_SCHEME_EXPLICIT, 0.001);
}

/* Rows so long that the ring would not stay in cache (over 16 MiB a thread: rows of more than
 * about 22,000 cells in float, 11,000 in double, at the 8-row tiles such rows get; 12,000 and
 * 6,000 at 16 rows, where the L2 size is unknown) run one step at a time; shorter
 * ones in pairs, and long rows in pairs where there are few of them (the ring holds a tile's
 * rows). */
static void long_rows_run_alone(void **st)
{
    (void)st;
    assert_int_equal(unsetenv("TF_CPU_EXPLICIT"), 0);
    const tf_index rows[][3] = {{30000, 20, 2}, {5000, 20, 2}, {15000, 2, 2}};
    const int paired[] = {0, 1, 1}; /* 15000 x 2 rows: a ring of 4 rows per plane */
    for (int q = 0; q < 3; ++q) {
        tt_state s;
        tf_solver *sv = NULL;
        assert_int_equal(explicit_solver(&sv, &s, rows[q][0], rows[q][1], rows[q][2]), TF_OK);
        assert_int_equal(tf_solver_explicit_paired(sv) != 0, paired[q]);
        tf_solver_destroy(sv);
        tt_state_free(&s);
    }
}

/* The rows of the explicit step's tiles (explicit_tile_rows in host/cpu_backend.c, or
 * TF_CPU_TILE_ROWS) change the order of the sweep, not the bits, in pairs and alone. */
static void tile_rows_give_the_same_bits(void **st)
{
    (void)st;
    assert_int_equal(unsetenv("TF_CPU_EXPLICIT"), 0);
    assert_int_equal(unsetenv("TF_CPU_TILE_ROWS"), 0);
    tt_state s;
    tf_solver *sv = NULL;
    assert_int_equal(explicit_solver(&sv, &s, 64, 64, 8), TF_OK);
    const unsigned own = tf_solver_explicit_paired(sv);
    print_message("tiles of %u rows on this machine\n", own);
    assert_true(own >= 8 && own <= 64 && own % 8 == 0);
    tf_solver_destroy(sv);
    tt_state_free(&s);

    const tf_bcs mixed = mixed_bcs();
    static const char *const rows[] = {"1", "2", "7", "33", "200"};
    long bad = 0;
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; ++r) {
        assert_int_equal(setenv("TF_CPU_TILE_ROWS", rows[r], 1), 0);
        assert_int_equal(explicit_solver(&sv, &s, 9, 70, 5), TF_OK);
        assert_int_equal(tf_solver_explicit_paired(sv), (unsigned)atoi(rows[r]));
        tf_solver_destroy(sv);
        tt_state_free(&s);
        bad += compare_shape(37, 41, 23, &mixed, 2, 5, 0, 0);
        bad += compare_shape(20, 70, 40, &mixed, 3, 4, 1, 0);
        assert_int_equal(setenv("TF_CPU_EXPLICIT", "single", 1), 0);
        bad += compare_shape(37, 41, 23, &mixed, 2, 3, 0, 0);
        assert_int_equal(unsetenv("TF_CPU_EXPLICIT"), 0);
    }
    static const char *const refused[] = {"0", "4097", "16rows", "-8", " "};
    for (size_t r = 0; r < sizeof refused / sizeof refused[0]; ++r) {
        assert_int_equal(setenv("TF_CPU_TILE_ROWS", refused[r], 1), 0);
        tf_error_clear();
        sv = NULL;
        assert_int_equal(explicit_solver(&sv, &s, 8, 8, 8), TF_ERR_USAGE);
        assert_null(sv);
        assert_non_null(strstr(tf_error_message(), "TF_CPU_TILE_ROWS="));
        assert_non_null(strstr(tf_error_message(), "from 1 to 4096"));
        tt_state_free(&s);
    }
    assert_int_equal(unsetenv("TF_CPU_TILE_ROWS"), 0);
    assert_int_equal(bad, 0);
}

/* An unknown TF_CPU_EXPLICIT is refused, with the variable and the choices named. */
static void unknown_variant_refused(void **st)
{
    (void)st;
    assert_int_equal(setenv("TF_CPU_EXPLICIT", "triples", 1), 0);
    tt_state s;
    tf_solver *sv = NULL;
    const tf_status got = explicit_solver(&sv, &s, 8, 8, 8);
    assert_int_equal(unsetenv("TF_CPU_EXPLICIT"), 0);
    assert_int_equal(got, TF_ERR_USAGE);
    assert_null(sv);
    const char *msg = tf_error_message();
    print_message("refused: %s\n", msg);
    assert_non_null(strstr(msg, "TF_CPU_EXPLICIT=triples"));
    assert_non_null(strstr(msg, "pairs, single"));
    tt_state_free(&s);
    /* by the LOD scheme too, which does not use it: a typo in a job script is not ignored */
    tf_error_clear();
    assert_int_equal(setenv("TF_CPU_EXPLICIT", "pair", 1), 0);
    tt_state_init(&s, 8, 8, 8, 20.0);
    tf_params p;
    tf_params_default(&p);
    const tf_bcs b = tt_bcs_all(TF_BC_NOFLUX);
    const tf_status lod = tf_solver_create(&sv, TF_BACKEND_CPU, &s.g, &b, &p, TF_SCHEME_LOD, 1.0);
    assert_int_equal(unsetenv("TF_CPU_EXPLICIT"), 0);
    assert_int_equal(lod, TF_ERR_USAGE);
    assert_null(sv);
    assert_non_null(strstr(tf_error_message(), "TF_CPU_EXPLICIT=pair"));
    tt_state_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_reference),
        cmocka_unit_test(pairs_match_reference),
        cmocka_unit_test(tile_rows_give_the_same_bits),
        cmocka_unit_test(long_rows_run_alone),
        cmocka_unit_test(threads_set_later),
        cmocka_unit_test(unknown_variant_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
