/* test_gpu.c: the CUDA backend against the CPU backend (the independent reference), on a
 * non-cubic grid with a non-trivial state: a tumor spheroid, random vessels, a depressed patient
 * during exercise (systemic drivers moving between the step's start and end), and every boundary
 * kind (Dirichlet, periodic, no-flux) on some field.
 *
 * Tolerance of the CPU/GPU comparison after N steps, relative to each field's maximum:
 * tol = 8 N eps (eps of the field precision; float 200 steps: 1.9e-4, double: 3.6e-13). Both
 * backends evaluate the same tf_model.h functions in the same order; they differ only by
 * rounding (nvcc contracts a*b+c into FMA, the host compiler does not; cuBLAS sums in another
 * order), about one eps per operation chain per step. The scheme is contractive (implicit
 * diffusion and reaction; explicit at dt below its limit), so rounding differences add up at
 * most linearly with N. As a stand-in for the GPU's contraction, this problem on the CPU backend
 * built with and without -mfma -ffp-contract=fast differs after 200 steps by at most 0.12 eps
 * per step (float, LOD), 0.40 (double, LOD), 0.013 (explicit): 8 eps per step leaves a margin
 * of 20 or more.
 *
 * Odd grids (odd_grids_agree_with_cpu): sizes that are not multiples of the launch shapes, one
 * cell along some directions, x lines too long for a shared-memory tile (global-memory path), a
 * grid taller than 65535 blocks of 8 rows (per-cell kernels launched per chunk of rows), with the
 * boundary kinds rotated so that every kind meets every direction; both schemes, same tolerance
 * rule; two solvers alive at once. The FMA stand-in above on these grids (line factors shared,
 * as the GPU shares the host's): at most 0.8 eps per step over 20 steps (5 for the two-solver
 * grids), 1.4 over the tall grid's 5 reaction-only steps.
 *
 * Without a CUDA device (or without the CUDA backend) the program prints "SKIPPED: ..." and
 * exits 77, which CTest reports as skipped (SKIP_RETURN_CODE, tests/gpu.cmake).
 *
 * Built with TF_GPU_STANDIN (tests gpu_standin_*, run everywhere), the CPU backend stands in
 * for the GPU: every comparison is then CPU against CPU and exact, but the test's own set-up
 * (time steps a solver accepts, grids, tolerances, planted values) is checked on every machine,
 * so that a session lent a GPU does not spend it on a test that fails before it reaches the
 * device. */
#include "tf_solver.h"
#include "tf_systemic.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef TF_GPU_STANDIN
static const tf_backend_kind DEVICE = TF_BACKEND_CPU;
#else
static const tf_backend_kind DEVICE = TF_BACKEND_CUDA;
#endif

enum { NX = 40, NY = 28, NZ = 20 };
static const double H = 10.0; /* um */

typedef struct {
    tf_grid g;
    tf_params p;
    tf_bcs bcs;
    tf_coeffs c0, c1;
    tf_real *f[TF_NFIELDS];
    tf_real *v;
} problem;

static uint64_t rng_state;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

static tf_real *alloc_field(const tf_grid *g)
{
    tf_real *a = calloc((size_t)g->nalloc, sizeof(tf_real));
    assert_non_null(a);
    return a;
}

static void problem_init_sized(problem *P, double dt, tf_index nx, tf_index ny, tf_index nz)
{
    assert_int_equal(tf_grid_init(&P->g, nx, ny, nz, H), TF_OK);
    tf_params_default(&P->p);
    memset(&P->bcs, 0, sizeof P->bcs);
    /* cortisol held at blood level on the x faces; pro-cytokine periodic in z; IL-10 fixed on
     * the low y face only; everything else no-flux. */
    P->bcs.bc[TF_CORTISOL][TF_FACE_XLO] = (tf_bc){TF_BC_DIRICHLET, 250.0};
    P->bcs.bc[TF_CORTISOL][TF_FACE_XHI] = (tf_bc){TF_BC_DIRICHLET, 250.0};
    P->bcs.bc[TF_PRO][TF_FACE_ZLO] = (tf_bc){TF_BC_PERIODIC, 0.0};
    P->bcs.bc[TF_PRO][TF_FACE_ZHI] = (tf_bc){TF_BC_PERIODIC, 0.0};
    P->bcs.bc[TF_ANTI][TF_FACE_YLO] = (tf_bc){TF_BC_DIRICHLET, 1.0};

    /* A depressed patient (D0 = 0.8) 20 minutes into a 45-minute session at 70% VO2max. */
    const tf_schedule sched = {0.7, 45.0, 5, 480.0, 0.0, 1e9};
    tf_drivers d = {0.55, 0.05, 3.0};
    const double t = 500.0;
    tf_derived q = tf_drivers_derive(&d, &P->p, &sched, 0.8, t);
    P->c0 = tf_coeffs_make(&P->p, &q);
    tf_drivers_advance(&d, &P->p, &sched, t, dt);
    q = tf_drivers_derive(&d, &P->p, &sched, 0.8, t + dt);
    P->c1 = tf_coeffs_make(&P->p, &q);

    for (int f = 0; f < TF_NFIELDS; ++f)
        P->f[f] = alloc_field(&P->g);
    P->v = alloc_field(&P->g);
    const tf_grid *g = &P->g;
    /* Ghost cells hold garbage (the interior is overwritten below): both backends must ignore
     * them on input. */
    for (tf_index q2 = 0; q2 < g->nalloc; ++q2) {
        for (int f = 0; f < TF_NFIELDS; ++f)
            P->f[f][q2] = (tf_real)-7.0;
        P->v[q2] = (tf_real)-7.0;
    }
    rng_state = 12345;
    for (tf_index k = 0; k < nz; ++k)
        for (tf_index j = 0; j < ny; ++j)
            for (tf_index i = 0; i < nx; ++i) {
                const tf_index q2 = tf_at(g, i, j, k);
                const double dx = i + 0.5 - 0.45 * nx, dy = j + 0.5 - 0.55 * ny,
                             dz = k + 0.5 - 0.5 * nz;
                const double r = sqrt(dx * dx + dy * dy + dz * dz);
                const double T = 0.8 * 0.5 * (1.0 - tanh((r - 7.0) / 2.0));
                P->f[TF_TUMOR][q2] = (tf_real)T;
                P->f[TF_EFFECTOR][q2] = (tf_real)(0.02 * urand());
                P->f[TF_SUPPRESSOR][q2] = (tf_real)(0.01 * urand());
                P->f[TF_PRO][q2] = (tf_real)(20.0 * urand() + 30.0 * T);
                P->f[TF_ANTI][q2] = (tf_real)(2.0 * (1.0 + 0.3 * urand()));
                P->f[TF_CORTISOL][q2] = (tf_real)(250.0 * (1.0 + 0.3 * urand()));
                P->v[q2] = (tf_real)(urand() < 0.03 ? 1.0 : 0.05 * urand());
            }
}

static void problem_init(problem *P, double dt) { problem_init_sized(P, dt, NX, NY, NZ); }

static void problem_free(problem *P)
{
    for (int f = 0; f < TF_NFIELDS; ++f)
        free(P->f[f]);
    free(P->v);
}

static tf_solver *make_solver(problem *P, tf_backend_kind kind, tf_scheme scheme, double dt)
{
    tf_solver *s = NULL;
    const tf_status st = tf_solver_create(&s, kind, &P->g, &P->bcs, &P->p, scheme, dt);
    if (st != TF_OK)
        fail_msg("solver create: %s", tf_error_message());
    assert_int_equal(tf_solver_set_state(s, P->f, P->v), TF_OK);
    return s;
}

static void get_all(tf_solver *s, const tf_grid *g, tf_real *out[TF_NFIELDS])
{
    for (int f = 0; f < TF_NFIELDS; ++f)
        out[f] = alloc_field(g);
    assert_int_equal(tf_solver_get_state(s, out, (1u << TF_NFIELDS) - 1), TF_OK);
}

static void free_all(tf_real *a[TF_NFIELDS])
{
    for (int f = 0; f < TF_NFIELDS; ++f)
        free(a[f]);
}

/* Run `steps` steps of problem P on both backends and compare every field in the relative max
 * norm. */
static void compare_solvers(tf_solver *cpu, tf_solver *gpu, const problem *P, tf_scheme scheme,
                            int steps)
{
    tf_real *a[TF_NFIELDS], *b[TF_NFIELDS];
    get_all(cpu, &P->g, a);
    get_all(gpu, &P->g, b);
    const double tol = 8.0 * steps * TF_REAL_EPS;
    const tf_index *n = P->g.n;
    for (int f = 0; f < TF_NFIELDS; ++f) {
        double dmax = 0.0, umax = 0.0;
        for (tf_index k = 0; k < n[2]; ++k)
            for (tf_index j = 0; j < n[1]; ++j)
                for (tf_index i = 0; i < n[0]; ++i) {
                    const tf_index q = tf_at(&P->g, i, j, k);
                    assert_true(isfinite(b[f][q]));
                    dmax = fmax(dmax, fabs((double)a[f][q] - (double)b[f][q]));
                    umax = fmax(umax, fabs((double)a[f][q]));
                }
        printf("  %-8s %-13s max |cpu - gpu| / max |cpu| = %.3e (tol %.1e, max %.4g)\n",
               scheme == TF_SCHEME_LOD ? "lod" : "explicit", tf_field_name[f], dmax / umax, tol,
               umax);
        assert_true(umax > 0.0);
        assert_true(dmax / umax <= tol);
    }
    free_all(a);
    free_all(b);
}

static void compare_problem(problem *P, tf_scheme scheme, double dt, int steps)
{
    tf_solver *cpu = make_solver(P, TF_BACKEND_CPU, scheme, dt);
    tf_solver *gpu = make_solver(P, DEVICE, scheme, dt);
    for (int n = 0; n < steps; ++n) {
        assert_int_equal(tf_solver_step(cpu, &P->c0, &P->c1), TF_OK);
        assert_int_equal(tf_solver_step(gpu, &P->c0, &P->c1), TF_OK);
    }
    compare_solvers(cpu, gpu, P, scheme, steps);
    tf_solver_destroy(cpu);
    tf_solver_destroy(gpu);
}

static void compare_backends(tf_scheme scheme, double dt, int steps)
{
    problem P;
    problem_init(&P, dt);
    compare_problem(&P, scheme, dt, steps);
    problem_free(&P);
}

static void lod_agrees_with_cpu(void **state)
{
    (void)state;
    compare_backends(TF_SCHEME_LOD, 2.0, 200);
}

static double explicit_dt(void)
{
    tf_params p;
    tf_params_default(&p);
    /* The smallest limit of any grid and boundary conditions: a one-cell grid with Dirichlet
     * walls on every face (w = 12), so that every comparison's grid and walls accept it. */
    tf_bcs walls;
    for (int f = 0; f < TF_NFIELDS; ++f)
        for (int w = 0; w < TF_NFACES; ++w)
            walls.bc[f][w] = (tf_bc){TF_BC_DIRICHLET, 0.0};
    const tf_index one[3] = {1, 1, 1};
    return 0.9 * tf_explicit_dt_limit(&p, H, &walls, one).dt;
}

static void explicit_agrees_with_cpu(void **state)
{
    (void)state;
    compare_backends(TF_SCHEME_EXPLICIT, explicit_dt(), 200);
}

/* Make a solver of P on `kind`, run `steps` steps, copy its fields to out and destroy it. */
static void run_and_get(problem *P, tf_backend_kind kind, tf_scheme scheme, double dt, int steps,
                        tf_real *out[TF_NFIELDS])
{
    tf_solver *s = make_solver(P, kind, scheme, dt);
    for (int n = 0; n < steps; ++n)
        assert_int_equal(tf_solver_step(s, &P->c0, &P->c1), TF_OK);
    get_all(s, &P->g, out);
    tf_solver_destroy(s);
}

/* The interior of every field of a and b holds the same bits; else the test fails, naming
 * `what`, the field and the first row that differs. */
static void assert_same_bits(const tf_grid *g, tf_real *a[TF_NFIELDS], tf_real *b[TF_NFIELDS],
                             const char *what)
{
    const tf_index *n = g->n;
    for (int f = 0; f < TF_NFIELDS; ++f)
        for (tf_index k = 0; k < n[2]; ++k)
            for (tf_index j = 0; j < n[1]; ++j) {
                const tf_index q = tf_at(g, 0, j, k);
                if (memcmp(a[f] + q, b[f] + q, sizeof(tf_real) * n[0]) != 0)
                    fail_msg("grid %lld x %lld x %lld: %s: %s differs in row (j %lld, k %lld)",
                             (long long)n[0], (long long)n[1], (long long)n[2], what,
                             tf_field_name[f], (long long)j, (long long)k);
            }
}

/* Two GPU runs of the same problem give the same bits (no atomics or unordered reductions in a
 * step). */
static void gpu_runs_are_bit_identical(void **state)
{
    (void)state;
    const tf_scheme schemes[2] = {TF_SCHEME_LOD, TF_SCHEME_EXPLICIT};
    for (int s = 0; s < 2; ++s) {
        const double dt = schemes[s] == TF_SCHEME_LOD ? 2.0 : explicit_dt();
        problem P;
        problem_init(&P, dt);
        tf_real *out[2][TF_NFIELDS];
        for (int run = 0; run < 2; ++run)
            run_and_get(&P, DEVICE, schemes[s], dt, 50, out[run]);
        assert_same_bits(&P.g, out[0], out[1], "a second GPU run");
        free_all(out[0]);
        free_all(out[1]);
        problem_free(&P);
    }
}

/* The CUDA backend's line kernels (TF_CUDA_LINES: kernels/cuda_backend.cu) give the same bits:
 * the chunked solves (y and z lines in global memory, x lines in tiles loaded in batches, x
 * lines in global memory where no tile fits) against the classic ones, 20 LOD steps, on grids
 * that take every path: partial tiles and blocks (33 x 5 x 3), lines past 65535 blocks
 * (2 x 1 x 70000), several x tiles (2500 x 40 x 3), x lines too long for a tile (7000 x 2 x 1),
 * every boundary kind in every direction, and the main problem (periodic z lines); an unknown
 * value is refused. With the CPU standing in for the GPU the variable is ignored and the runs
 * agree trivially. */
static void rotate_bcs(tf_bcs *b, int rot);

static void run_lines(problem *P, const char *value, tf_real *out[TF_NFIELDS])
{
    assert_int_equal(setenv("TF_CUDA_LINES", value, 1), 0);
    run_and_get(P, DEVICE, TF_SCHEME_LOD, 2.0, 20, out); /* read when the solver is made */
    assert_int_equal(unsetenv("TF_CUDA_LINES"), 0);
}

static void line_kernels_give_the_same_bits(void **state)
{
    (void)state;
    static const tf_index sizes[][3] = {
        {NX, NY, NZ}, {33, 5, 3}, {2, 1, 70000}, {2500, 40, 3}, {7000, 2, 1}};
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; ++c) {
        problem P;
        problem_init_sized(&P, 2.0, sizes[c][0], sizes[c][1], sizes[c][2]);
        if (c > 0)
            rotate_bcs(&P.bcs, (int)c);
        tf_real *ref[TF_NFIELDS], *got[TF_NFIELDS];
        run_lines(&P, "classic", ref);
        run_lines(&P, "global", got);
        assert_same_bits(&P.g, ref, got, "TF_CUDA_LINES=global against classic");
        const tf_index *n = P.g.n;
        printf("  grid %lld x %lld x %lld: TF_CUDA_LINES=global gives classic's bits\n",
               (long long)n[0], (long long)n[1], (long long)n[2]);
        free_all(got);
        free_all(ref);
        problem_free(&P);
    }
#ifndef TF_GPU_STANDIN
    /* A value the backend does not know is refused with the choices, not taken for a default. */
    problem P;
    problem_init(&P, 2.0);
    assert_int_equal(setenv("TF_CUDA_LINES", "fast", 1), 0);
    tf_solver *s = NULL;
    const tf_status st = tf_solver_create(&s, DEVICE, &P.g, &P.bcs, &P.p, TF_SCHEME_LOD, 2.0);
    assert_int_equal(unsetenv("TF_CUDA_LINES"), 0);
    assert_int_equal(st, TF_ERR_USAGE);
    assert_null(s);
    assert_non_null(
        strstr(tf_error_message(), "TF_CUDA_LINES=fast: expected one of global, classic"));
    problem_free(&P);
#endif
}

/* Planted bad values: both backends report the same first bad cell (lowest field, then lowest
 * linear index) with the same status and message; a clean state passes. */
static void check_state_finds_first_bad_cell(void **state)
{
    (void)state;
    problem P;
    problem_init(&P, 1.0);
    tf_solver *cpu = make_solver(&P, TF_BACKEND_CPU, TF_SCHEME_LOD, 1.0);
    tf_solver *gpu = make_solver(&P, DEVICE, TF_SCHEME_LOD, 1.0);
    tf_bad_cell bc = {0}, bg = {0};
    assert_int_equal(tf_solver_check_state(cpu, &bc), TF_OK);
    assert_int_equal(tf_solver_check_state(gpu, &bg), TF_OK);

    P.f[TF_PRO][tf_at(&P.g, 1, 1, 1)] = (tf_real)NAN;
    P.f[TF_EFFECTOR][tf_at(&P.g, 10, 2, 7)] = (tf_real)INFINITY;
    P.f[TF_EFFECTOR][tf_at(&P.g, 3, 4, 5)] = (tf_real)-1e-3;
    P.f[TF_CORTISOL][tf_at(&P.g, 0, 0, 0)] = (tf_real)-5.0;
    assert_int_equal(tf_solver_set_state(cpu, P.f, P.v), TF_OK);
    assert_int_equal(tf_solver_set_state(gpu, P.f, P.v), TF_OK);
    char msg_cpu[512];
    tf_error_clear();
    assert_int_equal(tf_solver_check_state(cpu, &bc), TF_ERR_NUMERIC);
    snprintf(msg_cpu, sizeof msg_cpu, "%s", tf_error_message());
    tf_error_clear();
    assert_int_equal(tf_solver_check_state(gpu, &bg), TF_ERR_NUMERIC);
    printf("  cpu: %s\n  gpu: %s\n", msg_cpu, tf_error_message());
    assert_string_equal(msg_cpu, tf_error_message());
    tf_error_clear();
    assert_int_equal(bg.field, TF_EFFECTOR);
    assert_int_equal(bg.i, 3);
    assert_int_equal(bg.j, 4);
    assert_int_equal(bg.k, 5);
    assert_true(bg.value == (double)(tf_real)-1e-3);
    assert_int_equal(bc.field, bg.field);
    assert_int_equal(bc.i, bg.i);
    assert_int_equal(bc.j, bg.j);
    assert_int_equal(bc.k, bg.k);

    /* Only a NaN left: found in its field. */
    P.f[TF_EFFECTOR][tf_at(&P.g, 10, 2, 7)] = 0;
    P.f[TF_EFFECTOR][tf_at(&P.g, 3, 4, 5)] = 0;
    P.f[TF_CORTISOL][tf_at(&P.g, 0, 0, 0)] = 1;
    assert_int_equal(tf_solver_set_state(gpu, P.f, P.v), TF_OK);
    assert_int_equal(tf_solver_check_state(gpu, &bg), TF_ERR_NUMERIC);
    tf_error_clear();
    assert_int_equal(bg.field, TF_PRO);
    assert_true(isnan(bg.value));
    assert_int_equal(bg.i, 1);
    assert_int_equal(bg.j, 1);
    assert_int_equal(bg.k, 1);
    tf_solver_destroy(cpu);
    tf_solver_destroy(gpu);
    problem_free(&P);
}

static void compare_diag(const tf_diag *a, const tf_diag *b, double tol)
{
    for (int f = 0; f < TF_NFIELDS; ++f) {
        printf("  %-13s total %.6e/%.6e weighted %.6e/%.6e max %.6e/%.6e\n", tf_field_name[f],
               a->total[f], b->total[f], a->weighted[f], b->weighted[f], a->max[f], b->max[f]);
        assert_true(fabs(a->total[f] - b->total[f]) <= tol * fabs(a->total[f]));
        assert_true(fabs(a->weighted[f] - b->weighted[f]) <= tol * fabs(a->weighted[f]));
        assert_true(a->max[f] == b->max[f]); /* the same value of the same state */
    }
    assert_true(fabs(a->tumor_sum - b->tumor_sum) <= tol * fabs(a->tumor_sum));
}

/* Boundary kinds rotated over fields and directions: field f, direction d gets kind
 * (f + d + rot) % 3 (no-flux, Dirichlet, periodic), so each direction has every kind on two
 * fields. Dirichlet walls differ between the low and high faces. */
static void rotate_bcs(tf_bcs *b, int rot)
{
    static const double wall[TF_NFIELDS] = {0.3, 0.02, 0.01, 25.0, 3.0, 300.0};
    memset(b, 0, sizeof *b);
    for (int f = 0; f < TF_NFIELDS; ++f)
        for (int d = 0; d < 3; ++d) {
            const tf_bc_kind kind = (tf_bc_kind)((f + d + rot) % 3);
            b->bc[f][2 * d] = (tf_bc){kind, kind == TF_BC_DIRICHLET ? wall[f] : 0.0};
            b->bc[f][2 * d + 1] = (tf_bc){kind, kind == TF_BC_DIRICHLET ? 0.5 * wall[f] : 0.0};
        }
}

static void diag_problem(problem *P, tf_scheme scheme, double dt, int steps);

/* Odd grids, every boundary kind in every direction, both schemes: GPU against CPU after 20
 * steps (tolerance as compare_backends), and the diagnostics of the GPU state. */
static void odd_grids_agree_with_cpu(void **state)
{
    (void)state;
    static const tf_index sizes[][3] = {
        {33, 5, 3},  /* partial blocks and tiles everywhere */
        {1, 1, 1},   /* one cell: every line is n = 1 */
        {3, 1, 7},   /* odd, one cell in y */
        {1, 9, 2},   /* one cell in x: tiles of width-1 lines */
        {64, 31, 1}, /* nx a multiple of 32, ny not a multiple of the tile width */
        /* x lines too long for any shared-memory tile of 8 lines ((8+1) * 7000 * 4 bytes is
         * above the 227 KiB a block may opt in to on sm_90): the global-memory x path */
        {7000, 2, 1},
        /* several x-line tiles per plane and a partial last one: tile width 16 (float) and 8
         * (double); then width 8 (float) and the global-memory path (double) */
        {2500, 40, 3},
        {4000, 33, 2},
        /* diffusion on along a direction of more than 65535 blocks (the per-cell kernels and
         * the line launches continue past the launch limit) */
        {1, 70000, 2},
        {2, 1, 70000},
    };
    const double dt_exp = explicit_dt();
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; ++c)
        for (int sc = 0; sc < 2; ++sc) {
            const tf_scheme scheme = sc ? TF_SCHEME_EXPLICIT : TF_SCHEME_LOD;
            const double dt = sc ? dt_exp : 2.0;
            printf("  grid %lld x %lld x %lld, boundary rotation %d:\n", (long long)sizes[c][0],
                   (long long)sizes[c][1], (long long)sizes[c][2], (int)(c % 3));
            problem P;
            problem_init_sized(&P, dt, sizes[c][0], sizes[c][1], sizes[c][2]);
            rotate_bcs(&P.bcs, (int)(c % 3));
            compare_problem(&P, scheme, dt, 20);
            diag_problem(&P, scheme, dt, 3);
            problem_free(&P);
        }
}

/* A grid of 524,289 rows in y: more than 65535 blocks of 8 rows, so the per-cell kernels
 * (reaction, explicit, check) take two launches, the second for the last 9 rows. Diffusion off
 * (every D = 0, so the line solves are skipped on both backends and the test stays fast); both
 * schemes; then a planted bad value in the last row is found by both backends. */
static void tall_grid_agrees_with_cpu(void **state)
{
    (void)state;
    const tf_index ny = 524289;
    for (int sc = 0; sc < 2; ++sc) {
        const tf_scheme scheme = sc ? TF_SCHEME_EXPLICIT : TF_SCHEME_LOD;
        /* Without diffusion the explicit limit is the reaction's, 1 / (lambda_A + mu_A), about
         * 0.99 min with the defaults: 0.5 min, where the five steps move every field by far
         * more than the tolerance (this is the test of k_explicit's reaction terms). */
        const double dt = sc ? 0.5 : 2.0;
        problem P;
        problem_init_sized(&P, dt, 1, ny, 1);
        P.p.D_T = P.p.D_E = P.p.D_S = P.p.D_P = P.p.D_A = P.p.D_C = 0.0;
        compare_problem(&P, scheme, dt, 5);
        if (sc == 0) {
            tf_solver *cpu = make_solver(&P, TF_BACKEND_CPU, scheme, dt);
            tf_solver *gpu = make_solver(&P, DEVICE, scheme, dt);
            P.f[TF_ANTI][tf_at(&P.g, 0, ny - 1, 0)] = (tf_real)-2.0;
            P.f[TF_CORTISOL][tf_at(&P.g, 0, 3, 0)] = (tf_real)NAN;
            assert_int_equal(tf_solver_set_state(cpu, P.f, P.v), TF_OK);
            assert_int_equal(tf_solver_set_state(gpu, P.f, P.v), TF_OK);
            tf_bad_cell bc = {0}, bg = {0};
            assert_int_equal(tf_solver_check_state(cpu, &bc), TF_ERR_NUMERIC);
            tf_error_clear();
            assert_int_equal(tf_solver_check_state(gpu, &bg), TF_ERR_NUMERIC);
            tf_error_clear();
            assert_int_equal(bg.field, TF_ANTI);
            assert_int_equal(bg.j, ny - 1);
            assert_int_equal(bc.field, bg.field);
            assert_int_equal(bc.j, bg.j);
            assert_true(bg.value == -2.0);
            tf_solver_destroy(cpu);
            tf_solver_destroy(gpu);
        }
        problem_free(&P);
    }
}

/* Two GPU solvers alive at once, the one with the wider x-line tile created first (1000 cells
 * in x: a tile above the default 48 KiB of shared memory, so it needs the opt-in), then a
 * narrow one: the first one's launches must still work (the shared-memory limit is an
 * attribute of the kernel, not of a solver), and both agree with the CPU. */
static void two_solvers_at_once(void **state)
{
    (void)state;
    const double dt = 2.0;
    const int steps = 5;
    problem W, N;
    problem_init_sized(&W, dt, 1000, 3, 2);
    problem_init_sized(&N, dt, 8, 3, 2);
    tf_solver *gw = make_solver(&W, DEVICE, TF_SCHEME_LOD, dt);
    tf_solver *gn = make_solver(&N, DEVICE, TF_SCHEME_LOD, dt);
    tf_solver *cw = make_solver(&W, TF_BACKEND_CPU, TF_SCHEME_LOD, dt);
    tf_solver *cn = make_solver(&N, TF_BACKEND_CPU, TF_SCHEME_LOD, dt);
    printf("  %s\n  %s\n", tf_solver_description(gw), tf_solver_description(gn));
    for (int n = 0; n < steps; ++n) {
        assert_int_equal(tf_solver_step(gw, &W.c0, &W.c1), TF_OK);
        assert_int_equal(tf_solver_step(gn, &N.c0, &N.c1), TF_OK);
        assert_int_equal(tf_solver_step(cw, &W.c0, &W.c1), TF_OK);
        assert_int_equal(tf_solver_step(cn, &N.c0, &N.c1), TF_OK);
    }
    compare_solvers(cw, gw, &W, TF_SCHEME_LOD, steps);
    compare_solvers(cn, gn, &N, TF_SCHEME_LOD, steps);
    tf_solver_destroy(gw);
    tf_solver_destroy(gn);
    tf_solver_destroy(cw);
    tf_solver_destroy(cn);
    problem_free(&W);
    problem_free(&N);
}

/* Diagnostics (cuBLAS sums and T-weighted sums, maxima) against the CPU's double-precision sums
 * of the same state, after explicit steps have written ghost values (the GPU must not count
 * them). Tolerance relative to the sum: (100 + 4 sqrt(N)) eps of the field precision for N
 * cells. 100 eps covers cuBLAS's blocked float sum (within a few eps of exact for positive
 * values); 4 sqrt(N) eps covers the CPU reference itself where the fields are double: it sums
 * in order, in double, and measured off the exact sum by up to 54 eps at N = 22,400 (a random
 * walk of N roundings, sqrt(N) = 150). Counting the ghost cells would be off by percents. */
static void diag_problem(problem *P, tf_scheme scheme, double dt, int steps)
{
    tf_solver *gpu = make_solver(P, DEVICE, scheme, dt);
    for (int n = 0; n < steps; ++n)
        assert_int_equal(tf_solver_step(gpu, &P->c0, &P->c1), TF_OK);
    tf_real *a[TF_NFIELDS];
    get_all(gpu, &P->g, a);
    tf_solver *cpu = NULL;
    assert_int_equal(tf_solver_create(&cpu, TF_BACKEND_CPU, &P->g, &P->bcs, &P->p, scheme, dt),
                     TF_OK);
    assert_int_equal(tf_solver_set_state(cpu, a, P->v), TF_OK);
    tf_diag dc, dg;
    assert_int_equal(tf_solver_diagnostics(cpu, &dc), TF_OK);
    assert_int_equal(tf_solver_diagnostics(gpu, &dg), TF_OK);
    const double cells = (double)P->g.n[0] * (double)P->g.n[1] * (double)P->g.n[2];
    compare_diag(&dc, &dg, (100.0 + 4.0 * sqrt(cells)) * TF_REAL_EPS);
    /* Again after the reductions (ghosts zeroed): the state is unchanged and steps go on. */
    assert_int_equal(tf_solver_step(gpu, &P->c0, &P->c1), TF_OK);
    assert_int_equal(tf_solver_diagnostics(gpu, &dg), TF_OK);
    free_all(a);
    tf_solver_destroy(cpu);
    tf_solver_destroy(gpu);
}

static void diagnostics_agree_with_cpu(void **state)
{
    (void)state;
    const double dt = explicit_dt();
    problem P;
    problem_init(&P, dt);
    diag_problem(&P, TF_SCHEME_EXPLICIT, dt, 10);
    problem_free(&P);
}

int main(void)
{
#ifdef TF_GPU_STANDIN
    printf("stand-in: the CPU backend in the GPU's place (the test's set-up, not the GPU)\n");
#else
    if (tf_cuda_device_count() <= 0) {
        printf("SKIPPED: no CUDA device present%s\n",
               tf_cuda_built() ? "" : " (this build has no CUDA backend)");
        return 77;
    }
    char dev[256], why[256];
    tf_cuda_device_describe(0, dev, sizeof dev);
    printf("device 0: %s; precision %s\n", dev, TF_REAL_NAME);
    if (!tf_cuda_device_runs(0, why, sizeof why)) {
        printf("FAILED: %s\n", why);
        return 1;
    }
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lod_agrees_with_cpu),
        cmocka_unit_test(explicit_agrees_with_cpu),
        cmocka_unit_test(gpu_runs_are_bit_identical),
        cmocka_unit_test(line_kernels_give_the_same_bits),
        cmocka_unit_test(check_state_finds_first_bad_cell),
        cmocka_unit_test(diagnostics_agree_with_cpu),
        cmocka_unit_test(odd_grids_agree_with_cpu),
        cmocka_unit_test(tall_grid_agrees_with_cpu),
        cmocka_unit_test(two_solvers_at_once),
    };
    /* TF_GPU_TESTS=PATTERN (a glob, e.g. "check_state*"): only those tests, for a slow run
     * under compute-sanitizer. */
    const char *only = getenv("TF_GPU_TESTS");
    if (only && *only) {
        /* A pattern that matches no test would run none and pass. */
        int matches = 0;
        for (size_t t = 0; t < sizeof tests / sizeof tests[0]; ++t)
            matches += fnmatch(only, tests[t].name, 0) == 0;
        if (!matches) {
            printf("FAILED: TF_GPU_TESTS='%s' matches none of the tests\n", only);
            return 1;
        }
        cmocka_set_test_filter(only);
        printf("only the %d tests matching '%s' (TF_GPU_TESTS)\n", matches, only);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
