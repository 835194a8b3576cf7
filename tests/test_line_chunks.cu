/* test_line_chunks.cu: the one-line solves of the CUDA line kernels (kernels/cuda_lines.cuh),
 * compiled by nvcc and run on the host, against tf_thomas_lines (the CPU backend's solve) bit
 * for bit. The kernels must give the same bits as the solves in slices across processes
 * (k_lines_pass), which call tf_thomas_forward/backward; the chunked loops reorder only the
 * loads, so any difference is a wrong row, chunk end or boundary term.
 *
 * Cases: lengths around the chunk sizes (1, 2, 3, 7..9, 15..17, 31..33, 100, 257), chunks of
 * 1, 8 and 16 rows, periodic and not, Dirichlet terms at either end or none, points s apart
 * (k_lines_chunked, k_lines_x_rows); the factors are random (both sides do the same
 * operations on them), the rows too, and the elements between a line's points must stay
 * untouched. Runs on every machine with nvcc, GPU or not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

extern "C" { /* cmocka.h declares C functions without saying so */
#include <cmocka.h>
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_lines.cuh"

static const tf_index LENGTHS[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 257};
enum { NMAX = 257, STRIDE = 3 };

static double uniform(unsigned *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (double)(*state >> 8) / 16777216.0;
}

/* Random factors of a line of n: the values need not come from a matrix, since both solves
 * apply the same operations to them. */
static void random_factors(tf_line_factors *L, tf_real *store, tf_index n, int periodic,
                           int lo, int hi, unsigned *seed)
{
    tf_real *cp = store, *inv = store + n, *z = store + 2 * n;
    for (tf_index i = 0; i < n; ++i) {
        cp[i] = (tf_real)(-0.4 * uniform(seed));
        inv[i] = (tf_real)(0.5 + 0.5 * uniform(seed));
        z[i] = (tf_real)(uniform(seed) - 0.5);
    }
    L->n = n;
    L->r = (tf_real)(0.1 + 2.0 * uniform(seed));
    L->rhs_lo = lo ? (tf_real)(uniform(seed) + 0.25) : (tf_real)0;
    L->rhs_hi = hi ? (tf_real)(uniform(seed) + 0.25) : (tf_real)0;
    L->periodic = periodic;
    L->sm_gamma = (tf_real)-1.5;
    L->sm_scale = (tf_real)(0.5 + uniform(seed));
    L->sm_vlast = (tf_real)(uniform(seed) - 0.5);
    L->cp = cp;
    L->inv = inv;
    L->z = z;
}

/* A line of n points `stride` apart in buf, random, the gaps between points set to a marker. */
static void random_line(tf_real *buf, tf_index n, tf_index stride, unsigned *seed)
{
    for (tf_index i = 0; i < n * stride; ++i)
        buf[i] = (tf_real)-7.0;
    for (tf_index i = 0; i < n; ++i)
        buf[i * stride] = (tf_real)(10.0 * uniform(seed));
}

typedef void (*solve_fn)(const tf_line_factors &L, tf_real *u, tf_index s);

template <int CH>
static void in_place(const tf_line_factors &L, tf_real *u, tf_index s)
{
    tf_line_solve<CH>(L, u, s);
}

static void compare_all(solve_fn solve, const char *name)
{
    static tf_real store[3 * NMAX], ref[NMAX * STRIDE], got[NMAX * STRIDE];
    unsigned seed = 12345u;
    int cases = 0;
    for (size_t c = 0; c < sizeof LENGTHS / sizeof LENGTHS[0]; ++c)
        for (int periodic = 0; periodic < 2; ++periodic)
            for (int ends = 0; ends < 4; ++ends) {
                const tf_index n = LENGTHS[c];
                if (periodic && (n < 2 || ends))
                    continue; /* periodic lines have no Dirichlet terms (host/solver.c) */
                tf_line_factors L;
                random_factors(&L, store, n, periodic, ends & 1, ends & 2, &seed);
                random_line(ref, n, STRIDE, &seed);
                memcpy(got, ref, sizeof(tf_real) * (size_t)(n * STRIDE));
                tf_thomas_lines(&L, ref, STRIDE, 1);
                solve(L, got, STRIDE);
                for (tf_index i = 0; i < n * STRIDE; ++i)
                    if (memcmp(&ref[i], &got[i], sizeof(tf_real)) != 0) {
                        fprintf(stderr, "%s: n %lld, periodic %d, ends %d: element %lld "
                                "(row %lld%s) %.9g, tf_thomas_lines %.9g\n", name, (long long)n,
                                periodic, ends, (long long)i, (long long)(i / STRIDE),
                                i % STRIDE ? ", between rows" : "", (double)got[i],
                                (double)ref[i]);
                        fail();
                    }
                ++cases;
            }
    assert_int_equal(cases, 14 * 4 + 13);
}

static void in_place_chunk_1(void **state) { compare_all(in_place<1>, "in place, chunk 1"); }
static void in_place_chunk_8(void **state) { compare_all(in_place<8>, "in place, chunk 8"); }
static void in_place_chunk_16(void **state) { compare_all(in_place<16>, "in place, chunk 16"); }
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_place_chunk_1),  cmocka_unit_test(in_place_chunk_8),
        cmocka_unit_test(in_place_chunk_16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
