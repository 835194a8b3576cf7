/* cuda_lines.cuh: one tridiagonal line solve at a time (count = 1), for the CUDA line kernels,
 * with the rows of a chunk loaded before the chain that consumes them. Host and device code
 * (TF_HD): tests/test_line_chunks.cu checks on the host, bit for bit, that every chunk size
 * and stride gives tf_thomas_lines' numbers. */
#ifndef TF_CUDA_LINES_CUH
#define TF_CUDA_LINES_CUH

#include "tf_model.h"

/* Unroll the chunk loops in device code (the host compiler does not know the pragma). */
#ifdef __CUDA_ARCH__
#define TF_UNROLL _Pragma("unroll")
#else
#define TF_UNROLL
#endif

/* A line's Thomas solve with the rows of a chunk loaded before the chain that consumes them. A
 * loop that stores row i and then loads row i+1 of the same array waits for each load in turn
 * (the compiler cannot tell the rows apart); with chunks of 16 rows the y and z passes took
 * 0.55 ms instead of 0.92 at 256^3 on an H200 (bench/results/2026-11-27-cuda-h200.md). The
 * operations and their order are tf_thomas_forward's and
 * tf_thomas_backward's with count = 1 (the same expressions, so the same contractions): a line
 * solved here equals, bit for bit, one solved in slices by k_lines_pass across processes.
 *
 * Forward elimination of rows 0..n-1 of u (points s apart), in place. */
template <int CH>
TF_HD void tf_line_forward(const tf_line_factors &L, tf_real *u, tf_index s)
{
    const tf_index n = L.n;
    const tf_real r = L.r;
    tf_real prv = 0;
    for (tf_index i0 = 0; i0 < n; i0 += CH) {
        tf_real v[CH];
TF_UNROLL
        for (int t = 0; t < CH; ++t)
            if (i0 + t < n)
                v[t] = u[(i0 + t) * s];
TF_UNROLL
        for (int t = 0; t < CH; ++t) {
            const tf_index i = i0 + t;
            if (i >= n)
                break;
            const tf_real a = L.inv[i];
            tf_real y;
            if (i == 0) {
                if (n == 1)
                    y = (v[t] + L.rhs_lo + L.rhs_hi) * a;
                else
                    y = (v[t] + L.rhs_lo) * a;
            } else {
                const tf_real add = (i == n - 1) ? L.rhs_hi : (tf_real)0;
                y = (v[t] + add + r * prv) * a;
            }
            u[i * s] = y;
            prv = y;
        }
    }
}

/* Back substitution of rows n-1..0 of u, in place. */
template <int CH>
TF_HD void tf_line_backward(const tf_line_factors &L, tf_real *u, tf_index s)
{
    const tf_index n = L.n;
    tf_real nxt = u[(n - 1) * s];
    for (tf_index i1 = n - 1; i1 > 0; i1 -= CH) { /* rows i1-1 down to i1-CH */
        tf_real v[CH];
TF_UNROLL
        for (int t = 0; t < CH; ++t)
            if (i1 - 1 - t >= 0)
                v[t] = u[(i1 - 1 - t) * s];
TF_UNROLL
        for (int t = 0; t < CH; ++t) {
            const tf_index i = i1 - 1 - t;
            if (i < 0)
                break;
            nxt = v[t] - L.cp[i] * nxt;
            u[i * s] = nxt;
        }
    }
}

/* Solve one line in place, points s apart (k_lines_chunked, k_lines_x_rows). */
template <int CH>
TF_HD void tf_line_solve(const tf_line_factors &L, tf_real *u, tf_index s)
{
    tf_line_forward<CH>(L, u, s);
    tf_line_backward<CH>(L, u, s);
    if (L.periodic)
        tf_thomas_periodic(&L, u, s, 1, 0, L.n, u, u + (L.n - 1) * s);
}

#endif
