/* cuda_lines.cuh: one tridiagonal line solve at a time (count = 1), for the CUDA line kernels,
 * with the rows of a chunk loaded before the chain that consumes them. Host and device code
 * (TF_HD): tests/test_line_chunks.cu checks on the host, bit for bit, that every chunk size
 * and layout gives tf_thomas_lines' numbers. */
#ifndef TF_CUDA_LINES_CUH
#define TF_CUDA_LINES_CUH

#include "tf_model.h"

/* Unroll the chunk loops in device code (the host compiler does not know the pragma). */
#ifdef __CUDA_ARCH__
#define TF_UNROLL _Pragma("unroll")
#else
#define TF_UNROLL
#endif

/* A line's Thomas solve with the rows of a chunk loaded before the chain that
 * consumes them: a loop over rows that stores row i and then loads row i+1 of the same array
 * keeps one load in flight per thread (the compiler cannot tell the rows apart), and the
 * solves were latency-bound. The operations and their order are tf_thomas_forward's and
 * tf_thomas_backward's with count = 1 (the same expressions, so the same contractions): a line
 * solved here equals, bit for bit, one solved in slices by k_lines_pass across processes.
 *
 * Forward elimination of rows 0..n-1 read from src (stride ss), written to dst (stride ds). */
template <int CH>
TF_HD void tf_line_forward(const tf_line_factors &L, const tf_real *src, tf_index ss,
                           tf_real *dst, tf_index ds)
{
    const tf_index n = L.n;
    const tf_real r = L.r;
    tf_real prv = 0;
    for (tf_index i0 = 0; i0 < n; i0 += CH) {
        tf_real v[CH];
TF_UNROLL
        for (int t = 0; t < CH; ++t)
            if (i0 + t < n)
                v[t] = src[(i0 + t) * ss];
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
            dst[i * ds] = y;
            prv = y;
        }
    }
}

/* Back substitution of rows n-1..0: the forward results read from src, the solution written to
 * dst (row n-1 copied where src is not dst). */
template <int CH>
TF_HD void tf_line_backward(const tf_line_factors &L, const tf_real *src, tf_index ss,
                            tf_real *dst, tf_index ds)
{
    const tf_index n = L.n;
    tf_real nxt = src[(n - 1) * ss];
    if (src != dst)
        dst[(n - 1) * ds] = nxt;
    for (tf_index i1 = n - 1; i1 > 0; i1 -= CH) { /* rows i1-1 down to i1-CH */
        tf_real v[CH];
TF_UNROLL
        for (int t = 0; t < CH; ++t)
            if (i1 - 1 - t >= 0)
                v[t] = src[(i1 - 1 - t) * ss];
TF_UNROLL
        for (int t = 0; t < CH; ++t) {
            const tf_index i = i1 - 1 - t;
            if (i < 0)
                break;
            nxt = v[t] - L.cp[i] * nxt;
            dst[i * ds] = nxt;
        }
    }
}

/* Solve one line in place, points s apart (k_lines_chunked, k_lines_x_rows). */
template <int CH>
TF_HD void tf_line_solve(const tf_line_factors &L, tf_real *u, tf_index s)
{
    tf_line_forward<CH>(L, u, s, u, s);
    tf_line_backward<CH>(L, u, s, u, s);
    if (L.periodic)
        tf_thomas_periodic(&L, u, s, 1, 0, L.n, u, u + (L.n - 1) * s);
}

/* Solve one line (points us apart) with the eliminated rows kept in t (points ts apart): u is
 * read once and written once (k_lines_shared: t in shared memory). Periodic lines substitute
 * back in t, are corrected there and copied out. */
template <int CHF, int CHB>
TF_HD void tf_line_solve_via(const tf_line_factors &L, tf_real *u, tf_index us, tf_real *t,
                             tf_index ts)
{
    tf_line_forward<CHF>(L, u, us, t, ts);
    if (!L.periodic) {
        tf_line_backward<CHB>(L, t, ts, u, us);
        return;
    }
    tf_line_backward<CHB>(L, t, ts, t, ts);
    tf_thomas_periodic(&L, t, ts, 1, 0, L.n, t, t + (L.n - 1) * ts);
    for (tf_index i = 0; i < L.n; ++i)
        u[i * us] = t[i * ts];
}

#endif
