/* test_numerics_thomas.c: the LOD line solves (tf_thomas_lines with the factors of
 * host/solver.c) against dense Gaussian elimination of the same backward-Euler matrices.
 *
 * One LOD step without reactions is exactly: solve every x line, then every y line, then every
 * z line, of (1 + 2r) u_i - r (u_{i-1} + u_{i+1}) = rhs_i with the ghost u_{-1}, u_n given by
 * the boundary condition (no-flux: the inner cell; Dirichlet w: 2w - the inner cell; periodic:
 * the opposite cell). The reference builds each dense line matrix from that definition alone
 * and solves it by Gaussian elimination with partial pivoting in double. Cases: line lengths
 * 1, 2, 3, 17 in each direction, for no-flux, Dirichlet, periodic and mixed walls.
 * Tolerance: 50 eps of the field precision, relative to the largest value (every matrix is
 * diagonally dominant with condition number below 1 + 4r = 11). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tf_test_util.h"

#define NMAX 140

/* Solve the dense n x n system a x = b in place (b becomes x); partial pivoting. */
static void dense_solve(int n, double a[NMAX][NMAX], double b[NMAX])
{
    for (int c = 0; c < n; ++c) {
        int piv = c;
        for (int r = c + 1; r < n; ++r)
            if (fabs(a[r][c]) > fabs(a[piv][c]))
                piv = r;
        for (int k = 0; k < n; ++k) {
            const double t = a[c][k];
            a[c][k] = a[piv][k];
            a[piv][k] = t;
        }
        const double t = b[c];
        b[c] = b[piv];
        b[piv] = t;
        for (int r = c + 1; r < n; ++r) {
            const double m = a[r][c] / a[c][c];
            for (int k = c; k < n; ++k)
                a[r][k] -= m * a[c][k];
            b[r] -= m * b[c];
        }
    }
    for (int r = n - 1; r >= 0; --r) {
        double s = b[r];
        for (int k = r + 1; k < n; ++k)
            s -= a[r][k] * b[k];
        b[r] = s / a[r][r];
    }
}

/* Backward-Euler line solve of `line` (n values) with walls lo, hi, by the dense reference. */
static void reference_line(int n, double r, const tf_bc *lo, const tf_bc *hi, double *line)
{
    double a[NMAX][NMAX] = {{0}};
    double b[NMAX];
    for (int i = 0; i < n; ++i) {
        b[i] = line[i];
        a[i][i] += 1.0 + 2.0 * r;
        for (int side = 0; side < 2; ++side) {
            const int nb = side ? i + 1 : i - 1;
            const tf_bc *w = side ? hi : lo;
            if (nb >= 0 && nb < n) {
                a[i][nb] -= r;
            } else if (w->kind == TF_BC_NOFLUX) {
                a[i][i] -= r;
            } else if (w->kind == TF_BC_DIRICHLET) {
                a[i][i] += r;
                b[i] += 2.0 * r * w->value;
            } else {
                a[i][side ? 0 : n - 1] -= r;
            }
        }
    }
    dense_solve(n, a, b);
    for (int i = 0; i < n; ++i)
        line[i] = b[i];
}

typedef enum { K_NOFLUX, K_DIRICHLET, K_PERIODIC, K_MIXED } kind_case;
static const char *const kind_name[] = {"no-flux", "dirichlet", "periodic", "mixed"};

static tf_bcs make_bcs(kind_case kc)
{
    tf_bcs b = tt_bcs_all(TF_BC_NOFLUX);
    for (int q = 0; q < TF_NFACES; ++q) {
        tf_bc *w = &b.bc[TF_CORTISOL][q];
        switch (kc) {
        case K_NOFLUX: w->kind = TF_BC_NOFLUX; break;
        case K_DIRICHLET: w->kind = TF_BC_DIRICHLET; break;
        case K_PERIODIC: w->kind = TF_BC_PERIODIC; break;
        case K_MIXED: /* x: no-flux | Dirichlet, y: periodic, z: Dirichlet | no-flux */
            w->kind = (q == TF_FACE_XHI || q == TF_FACE_ZLO) ? TF_BC_DIRICHLET
                    : (q == TF_FACE_YLO || q == TF_FACE_YHI) ? TF_BC_PERIODIC
                                                              : TF_BC_NOFLUX;
            break;
        }
        w->value = 0.7 + 0.2 * q;
    }
    return b;
}

/* One LOD step of pure diffusion on an n[0] x n[1] x n[2] grid vs the dense reference. */
static double line_case(const int n[3], kind_case kc, double *scale)
{
    const double h = 2.0, D = 10.0, dt = 1.0; /* r = 2.5 */
    const double r = D * dt / (h * h);
    tt_state s;
    tt_state_init(&s, n[0], n[1], n[2], h);
    const tf_grid *g = &s.g;
    double *ref = malloc(sizeof(double) * (size_t)g->nalloc);
    assert_non_null(ref);
    uint32_t seed = 2463534242u;
    for (tf_index p = 0; p < g->nalloc; ++p) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        s.f[TF_CORTISOL][p] = (tf_real)(0.5 + (seed % 1000) / 1000.0);
        ref[p] = (double)s.f[TF_CORTISOL][p];
    }
    tf_params p = tt_params_off();
    p.D_C = D; /* cortisol: a field without bounds (the tumor fraction is capped at 1) */
    const tf_bcs b = make_bcs(kc);
    const tf_derived q = tt_derived(0, 0, 0);
    const tf_coeffs c = tf_coeffs_make(&p, &q);
    tf_solver *sv = NULL;
    assert_int_equal(tt_solver(&sv, &s, &b, &p, TF_SCHEME_LOD, dt), TF_OK);
    assert_int_equal(tf_solver_step(sv, &c, &c), TF_OK);
    assert_int_equal(tf_solver_get_state(sv, s.f, 1u << TF_CORTISOL), TF_OK);
    tf_solver_destroy(sv);

    /* Reference: x lines, then y lines, then z lines. */
    double line[NMAX];
    for (int d = 0; d < 3; ++d) {
        const int d1 = (d + 1) % 3, d2 = (d + 2) % 3;
        for (int b2 = 0; b2 < n[d2]; ++b2)
            for (int b1 = 0; b1 < n[d1]; ++b1) {
                int idx[3];
                idx[d1] = b1;
                idx[d2] = b2;
                for (idx[d] = 0; idx[d] < n[d]; ++idx[d])
                    line[idx[d]] = ref[tf_at(g, idx[0], idx[1], idx[2])];
                reference_line(n[d], r, &b.bc[TF_CORTISOL][2 * d], &b.bc[TF_CORTISOL][2 * d + 1],
                               line);
                for (idx[d] = 0; idx[d] < n[d]; ++idx[d])
                    ref[tf_at(g, idx[0], idx[1], idx[2])] = line[idx[d]];
            }
    }
    double err = 0.0, mx = 0.0;
    for (int k = 0; k < n[2]; ++k)
        for (int j = 0; j < n[1]; ++j)
            for (int i = 0; i < n[0]; ++i) {
                const tf_index at = tf_at(g, i, j, k);
                err = fmax(err, fabs(s.f[TF_CORTISOL][at] - ref[at]));
                mx = fmax(mx, fabs(ref[at]));
            }
    free(ref);
    tt_state_free(&s);
    *scale = mx;
    return err / mx;
}

static void lines_vs_dense(void **st)
{
    (void)st;
    const int lens[] = {1, 2, 3, 17};
    const double tol = 50.0 * TT_EPS;
    double worst = 0.0;
    for (int kc = K_NOFLUX; kc <= K_MIXED; ++kc)
        for (int li = 0; li < 4; ++li)
            for (int d = 0; d < 3; ++d) {
                /* The tested length along d; the other two directions have 3 and 2 cells, so
                 * y and z solves run several lines at once. */
                int n[3];
                n[d] = lens[li];
                n[(d + 1) % 3] = 3;
                n[(d + 2) % 3] = 2;
                double scale;
                const double e = line_case(n, (kind_case)kc, &scale);
                worst = fmax(worst, e);
                if (e > tol)
                    print_message("FAIL %s n = %d x %d x %d: relative error %.3e (tol %.1e)\n",
                                  kind_name[kc], n[0], n[1], n[2], e, tol);
                assert_true(e <= tol);
            }
    /* Wide planes: the CPU solves x lines in tiles of up to 128 rows, transposed in whole
     * 8 x 8 blocks where it can and element by element past them; these put whole blocks,
     * partial blocks in both directions and a second, partial tile (131 rows) in one plane. */
    const int wide[][3] = {{17, 131, 2}, {24, 9, 3}, {8, 40, 1}};
    for (int kc = K_NOFLUX; kc <= K_MIXED; ++kc)
        for (size_t w = 0; w < sizeof wide / sizeof wide[0]; ++w) {
            double scale;
            const double e = line_case(wide[w], (kind_case)kc, &scale);
            worst = fmax(worst, e);
            if (e > tol)
                print_message("FAIL %s n = %d x %d x %d: relative error %.3e (tol %.1e)\n",
                              kind_name[kc], wide[w][0], wide[w][1], wide[w][2], e, tol);
            assert_true(e <= tol);
        }
    print_message("line solves vs dense elimination: worst relative error %.3e (tol %.1e)\n",
                  worst, tol);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_vs_dense),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
