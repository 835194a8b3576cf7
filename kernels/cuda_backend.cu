/* cuda_backend.cu: the CUDA backend (tf_backend.h), compiled by nvcc as CUDA C++ and exported
 * with C linkage. The per-voxel physics is tf_model.h's, the same functions the CPU backend
 * calls (tf_react_voxel, tf_explicit_voxel, tf_nbr6, tf_thomas_lines, tf_ghost_value).
 *
 * Device memory (plain cudaMalloc, checked against cudaMemGetInfo first): six padded field
 * arrays of g.nalloc elements (tf_grid.h: one ghost layer, x fastest, rows 64-byte aligned); a
 * second set for the explicit scheme (double buffer, swapped each step); the padded vessel
 * map; the LOD line factors (cp, inv, z of every field and direction); small result buffers.
 * Everything runs in order on one stream per solver.
 *
 * One step:
 *   explicit: ghost fill (faces of all six fields, one small kernel) | one fused kernel that
 *             reads each field once and writes each once (Laplacian + reaction, all fields)
 *   LOD:      fused reaction (all fields) | line solves x, y, z | fused reaction
 * Line solves: y and z lines one thread per line, consecutive threads on consecutive x, so each
 * step along a line is one coalesced row; x lines are loaded as tiles of W lines into shared
 * memory (coalesced rows), solved there by W threads (element i of line l at s[i*(W+1) + l], no
 * bank conflicts), and written back coalesced. When a tile of x lines does not fit the shared
 * memory the x lines are solved in global memory (correct, uncoalesced).
 *
 * Stage times: CUDA events recorded between the stages of a step, read one step later (the host
 * stays at most one step ahead of the device), so steps are not synchronised one by one. Any
 * call that synchronises (get_state, diagnostics, check_state, destroy) folds in what is
 * pending. NVTX ranges named as tf_stage_name[] enclose the launches of each stage. */
#include "tf_backend.h"

#include "cuda_bench.h"
#include "cuda_check.cuh"
#include "cuda_lines.cuh"

#include <nvtx3/nvToolsExt.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------- */
/* Kernel arguments (passed by value)                                                        */

struct field_set {
    tf_real *a[TF_NFIELDS];
};

struct real6 {
    tf_real v[TF_NFIELDS];
};

/* Boundary conditions of every field and face, in the field precision. */
struct ghost_bcs {
    int kind[TF_NFIELDS][TF_NFACES];
    tf_real wall[TF_NFIELDS][TF_NFACES];
    unsigned local[TF_NFIELDS]; /* bit q: face q is filled here (else received from a rank) */
};

/* The fields that diffuse in one direction (compacted: entries 0..count-1 are used); the
 * factors point to device arrays. */
struct line_set {
    tf_real *a[TF_NFIELDS];
    tf_line_factors L[TF_NFIELDS];
};

static const int LINES_PER_TILE_MAX = 32; /* x lines per shared-memory tile, at most */
/* k_lines_x_tile solves a tile's lines with its first W threads. */
static_assert(LINES_PER_TILE_MAX <= TF_CUDA_LINE_BLOCK, "a tile needs a thread per line");
static const tf_index MAX_GRID_YZ = 65535; /* grid y and z limit; kernels loop past it */

/* ---------------------------------------------------------------------------------------- */
/* Kernels                                                                                   */

/* Per-cell kernels (k_react, k_explicit, k_check): thread (x, y) of a block of (32, y) threads
 * takes cell (i, j) = (blockIdx.x * 32 + threadIdx.x, j_off + blockIdx.y * y + threadIdx.y),
 * blocks loop over k (grid z). Grid y is at most 65535 blocks while n[1] may reach 2^20, so the
 * host launches once per chunk of CELL_ROWS rows from j_off (a loop over j inside the kernels
 * costs them about twice the registers). A warp is one x-row of 32 threads, so j and k are the
 * same across a warp (k_check's shuffles rely on it). */
static_assert(TF_CUDA_BLOCK_X == 32, "per-cell kernels assume one warp per x-row of a block");

/* Linearly implicit reaction sub-step (dt folded into s) on every interior cell, all six fields
 * in place. */
__global__ void k_react(field_set F, const tf_real *__restrict__ vessel, tf_grid g,
                        tf_step_coeffs s, tf_index j_off)
{
    const tf_index i = (tf_index)blockIdx.x * blockDim.x + threadIdx.x;
    const tf_index j = j_off + (tf_index)blockIdx.y * blockDim.y + threadIdx.y;
    if (i >= g.n[0] || j >= g.n[1])
        return;
    for (tf_index k = blockIdx.z; k < g.n[2]; k += gridDim.z) {
        const tf_index p = tf_at(&g, i, j, k);
        tf_real u[TF_NFIELDS];
#pragma unroll
        for (int f = 0; f < TF_NFIELDS; ++f)
            u[f] = F.a[f][p];
        tf_react_voxel(&s, u, vessel[p]);
#pragma unroll
        for (int f = 0; f < TF_NFIELDS; ++f)
            F.a[f][p] = u[f];
    }
}

/* Ghost values of the six faces of every field (interior extents of each face, as
 * tf_fill_ghosts_host), of the faces in B.local only (the others come from the neighbouring
 * ranks, k_face). blockIdx.y: direction, blockIdx.z: field. */
__global__ void k_ghosts(const __grid_constant__ field_set F, tf_grid g,
                         const __grid_constant__ ghost_bcs B)
{
    const int d = blockIdx.y, f = blockIdx.z;
    const tf_index q = (tf_index)blockIdx.x * blockDim.x + threadIdx.x;
    const tf_index nx = g.n[0], ny = g.n[1], nz = g.n[2];
    tf_index lo, hi, step;
    if (d == 0) {
        if (q >= ny * nz)
            return;
        lo = tf_at(&g, 0, q % ny, q / ny);
        hi = lo + (nx - 1);
        step = 1;
    } else if (d == 1) {
        if (q >= nx * nz)
            return;
        lo = tf_at(&g, q % nx, 0, q / nx);
        hi = lo + (ny - 1) * g.sy;
        step = g.sy;
    } else {
        if (q >= nx * ny)
            return;
        lo = tf_at(&g, q % nx, q / nx, 0);
        hi = lo + (nz - 1) * g.sz;
        step = g.sz;
    }
    tf_real *a = F.a[f];
    const tf_real in_lo = a[lo], in_hi = a[hi];
    if (B.local[f] >> (2 * d) & 1)
        a[lo - step] =
            tf_ghost_value((tf_bc_kind)B.kind[f][2 * d], B.wall[f][2 * d], in_lo, in_hi);
    if (B.local[f] >> (2 * d + 1) & 1)
        a[hi + step] =
            tf_ghost_value((tf_bc_kind)B.kind[f][2 * d + 1], B.wall[f][2 * d + 1], in_hi, in_lo);
}

/* Explicit step, fused: each thread reads the 7-point stencil of all six fields (ghosts filled)
 * and the vessel density, and writes the six new values to the other buffer. */
__global__ void k_explicit(field_set U, field_set O, const tf_real *__restrict__ vessel, tf_grid g,
                           tf_step_coeffs s, tf_explicit_dif e, tf_index j_off)
{
    const tf_index i = (tf_index)blockIdx.x * blockDim.x + threadIdx.x;
    const tf_index j = j_off + (tf_index)blockIdx.y * blockDim.y + threadIdx.y;
    if (i >= g.n[0] || j >= g.n[1])
        return;
    for (tf_index k = blockIdx.z; k < g.n[2]; k += gridDim.z) {
        const tf_index p = tf_at(&g, i, j, k);
        tf_real u[TF_NFIELDS], nbr[TF_NFIELDS], out[TF_NFIELDS];
#pragma unroll
        for (int f = 0; f < TF_NFIELDS; ++f) {
            const tf_real *__restrict__ a = U.a[f];
            u[f] = a[p];
            nbr[f] = tf_nbr6(a, p, g.sy, g.sz);
        }
        tf_explicit_voxel(&s, &e, u, nbr, vessel[p], out);
#pragma unroll
        for (int f = 0; f < TF_NFIELDS; ++f)
            O.a[f][p] = out[f];
    }
}

/* Rows loaded ahead: from global memory (the latency to hide is that of DRAM) and from shared
 * memory. */
static const int CHUNK_GLOBAL = 16;
static const int CHUNK_SHARED = 8;

/* Lines in global memory, in place: as k_lines_global (thread ia takes the line from
 * origin + ia*sa + ib*sb), with the chunked solve. The back substitution reads what the
 * elimination wrote (from L2 where it is still there). */
__global__ void k_lines_chunked(const __grid_constant__ line_set S, tf_index na, tf_index nb,
                                tf_index sa, tf_index sb, tf_index origin, tf_index line_stride)
{
    const tf_index ia = (tf_index)blockIdx.x * blockDim.x + threadIdx.x;
    if (ia >= na)
        return;
    const tf_line_factors &L = S.L[blockIdx.z];
    tf_real *a = S.a[blockIdx.z] + origin + ia * sa;
    for (tf_index ib = blockIdx.y; ib < nb; ib += gridDim.y)
        tf_line_solve<CHUNK_GLOBAL>(L, a + ib * sb, line_stride);
}

/* Line solves in global memory: thread (ia, ib) solves the line starting at
 * origin + ia*sa + ib*sb with points line_stride apart; blockIdx.z: entry of the line set.
 * With sa = 1 consecutive threads touch consecutive addresses at every point (y and z lines). */
__global__ void k_lines_global(const __grid_constant__ line_set S, tf_index na, tf_index nb,
                               tf_index sa, tf_index sb, tf_index origin, tf_index line_stride)
{
    const tf_index ia = (tf_index)blockIdx.x * blockDim.x + threadIdx.x;
    if (ia >= na)
        return;
    const tf_line_factors L = S.L[blockIdx.z];
    tf_real *a = S.a[blockIdx.z] + origin + ia * sa;
    for (tf_index ib = blockIdx.y; ib < nb; ib += gridDim.y)
        tf_thomas_lines(&L, a + ib * sb, line_stride, 1);
}

/* The x-line tile of block blockIdx.x: lines j0 .. j0 + nl - 1 (nl <= W, the last tile may be
 * partial) of n[0] points, point i of line l at shared element i * stride + l. */
struct x_tile {
    int nx, stride, nl;
    tf_index j0;
};

__device__ __forceinline__ x_tile x_tile_of(const tf_grid &g, int W)
{
    x_tile t;
    t.nx = (int)g.n[0];
    t.stride = W + 1;
    t.j0 = (tf_index)blockIdx.x * W;
    t.nl = (int)(g.n[1] - t.j0 < W ? g.n[1] - t.j0 : W);
    return t;
}

/* x lines through shared memory: block (blockIdx.x, k) takes the W lines j0..j0+W-1 of plane k,
 * loads them row by row (coalesced), threads 0..W-1 each solve one line in shared memory
 * (stride W+1, odd, so the transposed stores of the load hit distinct banks), and the block
 * writes the rows back. Dynamic shared memory: (W+1) * n[0] elements. */
__global__ void k_lines_x_tile(const __grid_constant__ line_set S, tf_grid g, int W)
{
    extern __shared__ __align__(16) unsigned char smem_raw[];
    tf_real *s = reinterpret_cast<tf_real *>(smem_raw);
    const x_tile t = x_tile_of(g, W);
    const int nx = t.nx, stride = t.stride, nl = t.nl;
    const tf_index j0 = t.j0;
    const tf_line_factors L = S.L[blockIdx.z];
    tf_real *a = S.a[blockIdx.z];
    for (tf_index k = blockIdx.y; k < g.n[2]; k += gridDim.y) {
        for (int l = 0; l < nl; ++l) {
            const tf_real *row = a + tf_at(&g, 0, j0 + l, k);
            for (int x = threadIdx.x; x < nx; x += blockDim.x)
                s[x * stride + l] = row[x];
        }
        __syncthreads();
        if ((int)threadIdx.x < nl)
            tf_thomas_lines(&L, s + threadIdx.x, stride, 1);
        __syncthreads();
        for (int l = 0; l < nl; ++l) {
            tf_real *row = a + tf_at(&g, 0, j0 + l, k);
            for (int x = threadIdx.x; x < nx; x += blockDim.x)
                row[x] = s[x * stride + l];
        }
        __syncthreads();
    }
}

/* x lines through shared memory, as k_lines_x_tile with more loads in flight: warp w of the
 * block loads rows w, w + warps, ... of the tile, each lane ROW_BATCH elements 32 apart issued
 * before any is stored (the loop of k_lines_x_tile stores each element before loading the
 * next), and the tile's first W threads solve with the chunked solve in shared memory. */
static const int ROW_BATCH = 8;

__global__ void k_lines_x_rows(const __grid_constant__ line_set S, tf_grid g, int W)
{
    extern __shared__ __align__(16) unsigned char smem_raw[];
    tf_real *s = reinterpret_cast<tf_real *>(smem_raw);
    const x_tile t = x_tile_of(g, W);
    const int nx = t.nx, stride = t.stride, nl = t.nl;
    const tf_index j0 = t.j0;
    const tf_line_factors &L = S.L[blockIdx.z];
    tf_real *a = S.a[blockIdx.z];
    const int lane = (int)threadIdx.x & 31, warp = (int)threadIdx.x >> 5;
    const int warps = (int)blockDim.x >> 5;
    for (tf_index k = blockIdx.y; k < g.n[2]; k += gridDim.y) {
        for (int l = warp; l < nl; l += warps) {
            const tf_real *row = a + tf_at(&g, 0, j0 + l, k);
            for (int x0 = lane; x0 < nx; x0 += 32 * ROW_BATCH) {
                tf_real v[ROW_BATCH];
#pragma unroll
                for (int b = 0; b < ROW_BATCH; ++b)
                    if (x0 + 32 * b < nx)
                        v[b] = row[x0 + 32 * b];
#pragma unroll
                for (int b = 0; b < ROW_BATCH; ++b)
                    if (x0 + 32 * b < nx)
                        s[(x0 + 32 * b) * stride + l] = v[b];
            }
        }
        __syncthreads();
        if ((int)threadIdx.x < nl)
            tf_line_solve<CHUNK_SHARED>(L, s + threadIdx.x, stride);
        __syncthreads();
        for (int l = warp; l < nl; l += warps) {
            tf_real *row = a + tf_at(&g, 0, j0 + l, k);
            for (int x0 = lane; x0 < nx; x0 += 32 * ROW_BATCH) {
#pragma unroll
                for (int b = 0; b < ROW_BATCH; ++b)
                    if (x0 + 32 * b < nx)
                        row[x0 + 32 * b] = s[(x0 + 32 * b) * stride + l];
            }
        }
        __syncthreads();
    }
}

/* Across processes (a decomposed grid, one GPU per rank). */

/* Cell q of layer `layer` (-1 .. n[d]) of the face direction d: x faces (j, k), y faces (i, k),
 * z faces (i, j), first index fastest (the order of the CPU backend's face buffers). */
__device__ tf_index face_at(const tf_grid *g, int d, tf_index layer, tf_index q)
{
    if (d == 0)
        return tf_at(g, layer, q % g->n[1], q / g->n[1]);
    if (d == 1)
        return tf_at(g, q % g->n[0], layer, q / g->n[0]);
    return tf_at(g, q % g->n[0], q / g->n[0], layer);
}

/* Copy layer `layer` of direction d of the fields in `mask` to buf (to_buf) or buf to it; field
 * f at buf[f * cells ...]. blockIdx.y: field. */
__global__ void k_face(const __grid_constant__ field_set F, const __grid_constant__ tf_grid g,
                       int d, tf_index layer,
                       tf_real *buf, tf_index cells, unsigned mask, int to_buf)
{
    const int f = blockIdx.y;
    const tf_index q = (tf_index)blockIdx.x * blockDim.x + threadIdx.x;
    if (q >= cells || !(mask >> f & 1))
        return;
    tf_real *e = F.a[f] + face_at(&g, d, layer, q), *b = buf + f * cells + q;
    if (to_buf)
        *b = *e;
    else
        *e = *b;
}

/* First element and point stride of line (a, b) along d of a block: x lines (j, k), y lines
 * (i, k), z lines (i, j). */
__device__ tf_index line_at(const tf_grid *g, int d, tf_index a, tf_index b, tf_index *stride)
{
    *stride = d == 0 ? 1 : d == 1 ? g->sy : g->sz;
    return d == 0 ? tf_at(g, 0, a, b) : d == 1 ? tf_at(g, a, 0, b) : tf_at(g, a, b, 0);
}

/* One sweep of the block's slice of the lines along a cut direction d, outer planes b0 .. b1-1:
 * the forward elimination (fwd) reading the previous rank's last eliminated row from `in`, or
 * the back substitution reading the next rank's first solved row; the row handed on (the last
 * after a forward sweep, the first after a backward one) goes to `out`. Entry (b, e, a) of a
 * plane buffer is element (b * gridDim.z + e) * A + a (a chunk of b is contiguous). Thread a,
 * blockIdx.z: entry e of the line set. The same calls (tf_thomas_forward/backward) and order
 * as the CPU backend and the one-process solve. */
__global__ void k_lines_pass(const __grid_constant__ line_set S,
                             const __grid_constant__ tf_grid g, int d, int fwd,
                             tf_index b0, tf_index b1, tf_index A, const tf_real *in,
                             tf_real *out)
{
    const tf_index a = (tf_index)blockIdx.x * blockDim.x + threadIdx.x;
    if (a >= A)
        return;
    const int e = blockIdx.z;
    const tf_line_factors L = S.L[e];
    const tf_index m = g.n[d], g0 = g.start[d];
    for (tf_index b = b0 + blockIdx.y; b < b1; b += gridDim.y) {
        tf_index stride;
        tf_real *u = S.a[e] + line_at(&g, d, a, b, &stride);
        const tf_index x = (b * gridDim.z + e) * A + a;
        if (fwd) {
            tf_thomas_forward(&L, u, stride, 1, g0, m, in + x);
            out[x] = u[(m - 1) * stride];
        } else {
            tf_thomas_backward(&L, u, stride, 1, g0, m, in + x);
            out[x] = u[0];
        }
    }
}

/* The rows 0 (at_lo: this rank holds the lines' first rows) and n-1 (at_hi) of the periodic
 * lines along d, to plane buffers as in k_lines_pass. */
__global__ void k_line_ends(const __grid_constant__ line_set S, const __grid_constant__ tf_grid g,
                            int d, tf_index A,
                            tf_index B, int at_lo, int at_hi, tf_real *first, tf_real *last)
{
    const tf_index a = (tf_index)blockIdx.x * blockDim.x + threadIdx.x;
    const int e = blockIdx.z;
    if (a >= A || !S.L[e].periodic)
        return;
    for (tf_index b = blockIdx.y; b < B; b += gridDim.y) {
        tf_index stride;
        const tf_real *u = S.a[e] + line_at(&g, d, a, b, &stride);
        const tf_index x = (b * gridDim.z + e) * A + a;
        if (at_lo)
            first[x] = u[0];
        if (at_hi)
            last[x] = u[(g.n[d] - 1) * stride];
    }
}

/* Sherman-Morrison correction of this block's slice of the periodic lines along d, from the
 * lines' end rows (tf_thomas_periodic, as the CPU backend). */
__global__ void k_lines_periodic(const __grid_constant__ line_set S,
                                 const __grid_constant__ tf_grid g, int d, tf_index A,
                                 tf_index B, const tf_real *first, const tf_real *last)
{
    const tf_index a = (tf_index)blockIdx.x * blockDim.x + threadIdx.x;
    const int e = blockIdx.z;
    if (a >= A || !S.L[e].periodic)
        return;
    const tf_line_factors L = S.L[e];
    for (tf_index b = blockIdx.y; b < B; b += gridDim.y) {
        tf_index stride;
        tf_real *u = S.a[e] + line_at(&g, d, a, b, &stride);
        const tf_index x = (b * gridDim.z + e) * A + a;
        tf_thomas_periodic(&L, u, stride, 1, g.start[d], g.n[d], first + x, last + x);
    }
}

/* Set every element of the six fields outside the block's cells to 0: ghosts (faces, edges,
 * corners) and row padding (tf_grid.h), so reductions over the whole padded arrays see the
 * interior only: every row from tf_row_cells on (tf_grid.h). One warp per row, rows
 * rho = -1 .. (n[1]+2)(n[2]+2)-1 grid-strided over blockIdx.x; blockIdx.y: field. */
__global__ void k_zero_outside(const __grid_constant__ field_set F, tf_grid g)
{
    const tf_index rows = (g.n[1] + 2) * (g.n[2] + 2);
    tf_real *a = F.a[blockIdx.y];
    for (tf_index rho = (tf_index)blockIdx.x - 1; rho < rows; rho += gridDim.x) {
        const tf_index base = TF_ROW_ALIGN + rho * g.sy;
        for (tf_index e = tf_row_cells(&g, rho) + threadIdx.x; e < g.sy; e += blockDim.x)
            if (base + e >= 0)
                a[base + e] = 0;
    }
}

/* The first bad value (negative or non-finite): key = field * nalloc + linear index, the
 * smallest over all cells goes to *first (lowest field, then lowest index). A warp reduces its
 * keys first, so a field bad everywhere costs one atomic per warp. Blocks of (32, y) threads. */
__global__ void k_check(field_set F, tf_grid g, unsigned long long *first, tf_index j_off)
{
    const tf_index i = (tf_index)blockIdx.x * blockDim.x + threadIdx.x;
    const tf_index j = j_off + (tf_index)blockIdx.y * blockDim.y + threadIdx.y;
    const bool inside = i < g.n[0] && j < g.n[1];
    unsigned long long key = ~0ull;
    for (tf_index k = blockIdx.z; k < g.n[2]; k += gridDim.z) {
        if (!inside)
            continue; /* no return: every lane takes part in the shuffles below */
        const tf_index p = tf_at(&g, i, j, k);
#pragma unroll
        for (int f = 0; f < TF_NFIELDS; ++f) {
            const tf_real u = F.a[f][p];
            if (!(u >= 0 && isfinite(u))) {
                const unsigned long long kf = (unsigned long long)f * g.nalloc + p;
                key = kf < key ? kf : key;
            }
        }
    }
    for (int off = 16; off > 0; off >>= 1) {
        const unsigned long long o = __shfl_down_sync(0xffffffffu, key, off);
        key = o < key ? o : key;
    }
    if (threadIdx.x == 0 && key != ~0ull)
        atomicMin(first, key);
}

/* mx[f] = field f at the 1-based index idx[f] (cuBLAS i?amax) of an array of n elements; NaN
 * when the index is out of range (cuBLAS does not document its answer for NaN data). */
__global__ void k_gather(const __grid_constant__ field_set F, const int64_t *idx, tf_index n,
                         tf_real *mx)
{
    const int f = threadIdx.x;
    if (f < TF_NFIELDS)
        mx[f] = idx[f] >= 1 && idx[f] <= n ? F.a[f][idx[f] - 1] : (tf_real)NAN;
}

/* ---------------------------------------------------------------------------------------- */
/* cuBLAS in the field precision (64-bit counts: padded arrays pass 2^31 near 1290^3).        */

#ifdef TF_DOUBLE
static cublasStatus_t blas_asum(cublasHandle_t h, int64_t n, const double *x, double *r)
{
    return cublasDasum_64(h, n, x, 1, r);
}
static cublasStatus_t blas_dot(cublasHandle_t h, int64_t n, const double *x, const double *y,
                               double *r)
{
    return cublasDdot_64(h, n, x, 1, y, 1, r);
}
static cublasStatus_t blas_iamax(cublasHandle_t h, int64_t n, const double *x, int64_t *r)
{
    return cublasIdamax_64(h, n, x, 1, r);
}
#else
static cublasStatus_t blas_asum(cublasHandle_t h, int64_t n, const float *x, float *r)
{
    return cublasSasum_64(h, n, x, 1, r);
}
static cublasStatus_t blas_dot(cublasHandle_t h, int64_t n, const float *x, const float *y,
                               float *r)
{
    return cublasSdot_64(h, n, x, 1, y, 1, r);
}
static cublasStatus_t blas_iamax(cublasHandle_t h, int64_t n, const float *x, int64_t *r)
{
    return cublasIsamax_64(h, n, x, 1, r);
}
#endif

/* ---------------------------------------------------------------------------------------- */
/* The backend                                                                               */

static const int MAX_STAGES_PER_STEP = 6;

/* The line-solve kernels (environment variable TF_CUDA_LINES, for measurements): `global` (the
 * default, the faster as measured: docs/performance.md) y and z lines in global memory with
 * the chunked solve (k_lines_chunked), x lines in tiles loaded in batches (k_lines_x_rows);
 * `classic` the kernels before the chunked solve (k_lines_global, k_lines_x_tile), kept to
 * measure against. Both give the same numbers bit for bit. */
enum line_kernels_kind { LINES_GLOBAL, LINES_CLASSIC };
static const char *const line_kernels_name[] = {"global", "classic"};

/* Line-end planes of the pipelined solves across processes: received from the rank before
 * (forward) or after (backward), handed on forward or backward, and the periodic lines' rows
 * 0 and n-1. */
enum { EDGE_PREV, EDGE_NEXT, EDGE_SEND_FWD, EDGE_SEND_BWD, EDGE_FIRST, EDGE_LAST, EDGES };
enum { TAG_FACE = 100, TAG_FORWARD = 110, TAG_BACKWARD = 120 };
static const tf_index STAGING_ELEMS = 8 << 20; /* elements per pinned staging buffer */

/* Events of one step: ev[i]..ev[i+1] bracket stage st[i]. */
struct stage_set {
    int n, pending;
    tf_stage st[MAX_STAGES_PER_STEP];
    cudaEvent_t ev[MAX_STAGES_PER_STEP + 1];
};

/* Device results of the diagnostics: sums, T-weighted sums, maxima; indices of the maxima. */
struct diag_buf {
    tf_real total[TF_NFIELDS], weighted[TF_NFIELDS], max[TF_NFIELDS];
};

struct cuda_impl {
    const tf_setup *su;
    tf_grid g;
    int device;
    cudaStream_t stream;
    cublasHandle_t blas;
    tf_real *f[TF_NFIELDS];    /* device, padded, the state */
    tf_real *next[TF_NFIELDS]; /* device, padded, explicit scheme only */
    tf_real *vessel;           /* device, padded */
    tf_real *factors;          /* device: cp, inv, z of every field and direction (LOD) */
    line_set lines[3];         /* per direction: diffusing fields, factors on the device */
    int nlines[3];             /* entries used in lines[d] */
    int tile_w;                /* x lines per shared-memory tile; 0: x lines in global memory */
    size_t tile_bytes;
    int line_kernels;          /* line_kernels_kind: TF_CUDA_LINES */
    ghost_bcs bcs;
    real6 dif;
    diag_buf *d_diag;          /* device */
    int64_t *d_idx;            /* device, TF_NFIELDS */
    unsigned long long *d_first; /* device, check_state */
    diag_buf *h_diag;          /* pinned host */
    tf_real *stage[2];         /* pinned host staging, stage_elems each */
    tf_index stage_elems;      /* min(nalloc, STAGING_ELEMS) */
    cudaEvent_t stage_ev[2];   /* last copy that used stage[b] */
    stage_set sets[2];
    int cur_set;
    /* Across processes (su->par cuts the grid): buffers for the ghost layers and the line-end
     * planes of the cut directions, carved from one device and one pinned host allocation. */
    int cut[3];                           /* direction d is cut between ranks */
    tf_real *d_comm, *h_comm;
    tf_real *d_face[2][TF_NFACES], *h_face[2][TF_NFACES]; /* [0] out, [1] in, per face */
    tf_real *d_edge[EDGES], *h_edge[EDGES];
};

static void print_bytes(char *buf, size_t len, double bytes)
{
    snprintf(buf, len, "%.3f GiB (%.0f bytes)", bytes / 1073741824.0, bytes);
}

extern "C" int tf_cuda_built(void) { return 1; }

/* Why the last count found none, for `info` (a machine whose GPU the program cannot see). */
static char count_error[200];

extern "C" int tf_cuda_device_count(void)
{
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        (void)cudaGetLastError(); /* no driver or no device: not an error here */
        snprintf(count_error, sizeof count_error, "%s: %s", cudaGetErrorName(e),
                 cudaGetErrorString(e));
        return 0;
    }
    count_error[0] = '\0';
    return n;
}

extern "C" const char *tf_cuda_count_error(void) { return count_error[0] ? count_error : NULL; }

#ifndef TF_CUDA_ARCHS
#define TF_CUDA_ARCHS "?"
#endif

extern "C" int tf_cuda_device_runs(int i, char *why, size_t len)
{
    why[0] = '\0';
    int prev = 0;
    if (cudaGetDevice(&prev) != cudaSuccess || cudaSetDevice(i) != cudaSuccess) {
        (void)cudaGetLastError();
        return 1; /* not this question's to answer: creating the solver says what is wrong */
    }
    cudaFuncAttributes a;
    const cudaError_t e = cudaFuncGetAttributes(&a, (const void *)k_react);
    (void)cudaSetDevice(prev);
    (void)cudaGetLastError();
    if (e != cudaErrorNoKernelImageForDevice && e != cudaErrorInvalidDeviceFunction &&
        e != cudaErrorUnsupportedPtxVersion)
        return 1;
    cudaDeviceProp p;
    const int cc = cudaGetDeviceProperties(&p, i) == cudaSuccess ? p.major * 10 + p.minor : 0;
    (void)cudaGetLastError();
    snprintf(why, len, "device %d (compute capability %d.%d) cannot run this build's kernels, "
             "built for CUDA architectures %s (%s); rebuild with -DCMAKE_CUDA_ARCHITECTURES=%d",
             i, cc / 10, cc % 10, TF_CUDA_ARCHS, cudaGetErrorName(e), cc);
    return 0;
}

extern "C" void tf_cuda_device_describe(int i, char *buf, size_t len)
{
    cudaDeviceProp p;
    const cudaError_t e = cudaGetDeviceProperties(&p, i);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        snprintf(buf, len, "CUDA device %d: %s", i, cudaGetErrorString(e));
        return;
    }
    snprintf(buf, len, "%s, %.1f GiB, compute capability %d.%d, %d SMs", p.name,
             (double)p.totalGlobalMem / 1073741824.0, p.major, p.minor, p.multiProcessorCount);
}

extern "C" int tf_cuda_device_uuid(int i, unsigned char uuid[16])
{
    cudaDeviceProp p;
    memset(uuid, 0, 16);
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
        (void)cudaGetLastError();
        return -1;
    }
    memcpy(uuid, p.uuid.bytes, 16);
    return 0;
}

/* Fold the stage times of one finished step into the solver's timers. */
static tf_status resolve_set(cuda_impl *c, stage_set *s)
{
    if (!s->pending)
        return TF_OK;
    s->pending = 0;
    TF_CUDA(cudaEventSynchronize(s->ev[s->n]));
    for (int i = 0; i < s->n; ++i) {
        float ms = 0.0f;
        TF_CUDA(cudaEventElapsedTime(&ms, s->ev[i], s->ev[i + 1]));
        c->su->timers->seconds[s->st[i]] += 1e-3 * (double)ms;
        c->su->timers->calls[s->st[i]] += 1;
    }
    return TF_OK;
}

static tf_status flush_timers(cuda_impl *c)
{
    for (int k = 0; k < 2; ++k) /* after a step only sets[cur_set ^ 1] is pending */
        TF_TRY(resolve_set(c, &c->sets[k]));
    return TF_OK;
}

static void cuda_destroy(void *impl)
{
    cuda_impl *c = (cuda_impl *)impl;
    if (!c)
        return;
    if (c->stream) {
        (void)flush_timers(c);
        (void)cudaStreamSynchronize(c->stream);
    }
    for (int f = 0; f < TF_NFIELDS; ++f) {
        cudaFree(c->f[f]);
        cudaFree(c->next[f]);
    }
    cudaFree(c->vessel);
    cudaFree(c->factors);
    cudaFree(c->d_diag);
    cudaFree(c->d_idx);
    cudaFree(c->d_first);
    cudaFreeHost(c->h_diag);
    cudaFree(c->d_comm);
    cudaFreeHost(c->h_comm);
    for (int b = 0; b < 2; ++b) {
        cudaFreeHost(c->stage[b]);
        if (c->stage_ev[b])
            cudaEventDestroy(c->stage_ev[b]);
    }
    for (int s = 0; s < 2; ++s)
        for (int e = 0; e <= MAX_STAGES_PER_STEP; ++e)
            if (c->sets[s].ev[e])
                cudaEventDestroy(c->sets[s].ev[e]);
    if (c->blas)
        cublasDestroy(c->blas);
    if (c->stream)
        cudaStreamDestroy(c->stream);
    (void)cudaGetLastError();
    free(c);
}

/* cudaMalloc of `bytes` for `what`; on failure the message names the array, its size and the
 * device memory free at that moment. */
static tf_status alloc_dev(void **p, size_t bytes, const char *what)
{
    const cudaError_t e = cudaMalloc(p, bytes);
    if (e == cudaSuccess)
        return TF_OK;
    *p = NULL;
    (void)cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    char a[64], b[64] = "unknown";
    print_bytes(a, sizeof a, (double)bytes);
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess)
        print_bytes(b, sizeof b, (double)free_b);
    (void)cudaGetLastError();
    return TF_ERROR(tf_cuda_status_of(e),
                    "cuda backend: cannot allocate %s (%s) on the device: %s (%s); %s free", what,
                    a, cudaGetErrorName(e), cudaGetErrorString(e), b);
}

/* Copy the host line factors to the device and build the per-direction line sets. */
static tf_status setup_lines(cuda_impl *c, const cudaDeviceProp *prop)
{
    const tf_setup *su = c->su;
    const tf_grid *g = &c->g;
    /* The factors of the whole line (tf_setup): a decomposed block holds a slice of it. */
    const size_t per_field = (size_t)(g->gn[0] + g->gn[1] + g->gn[2]);
    TF_TRY(alloc_dev((void **)&c->factors, sizeof(tf_real) * 3 * per_field * TF_NFIELDS,
                     "the line factors"));
    tf_real *at = c->factors;
    for (int d = 0; d < 3; ++d)
        c->nlines[d] = 0;
    for (int f = 0; f < TF_NFIELDS; ++f)
        for (int d = 0; d < 3; ++d) {
            const tf_line_factors *H = &su->lines[f][d];
            const size_t n = (size_t)g->gn[d];
            tf_line_factors L = *H;
            /* On the solver's stream: a plain cudaMemcpy from pageable memory may return before
             * its DMA completes, and the non-blocking stream does not wait for the legacy one.
             * The host arrays live as long as the solver; create_impl synchronises the stream. */
            const tf_real *src[3] = {H->cp, H->inv, H->z};
            for (int a = 0; a < 3; ++a)
                TF_CUDA(cudaMemcpyAsync(at + a * n, src[a], n * sizeof(tf_real),
                                        cudaMemcpyHostToDevice, c->stream));
            L.cp = at;
            L.inv = at + n;
            L.z = at + 2 * n;
            at += 3 * n;
            if (tf_line_identity(&L))
                continue; /* D = 0: the solve is the identity, as on the CPU */
            const int e = c->nlines[d]++;
            c->lines[d].a[e] = NULL; /* field pointers are set per step (buffers swap) */
            c->lines[d].L[e] = L;
        }
    c->line_kernels = LINES_GLOBAL;
    TF_TRY(tf_env_choice("TF_CUDA_LINES", line_kernels_name, 2, &c->line_kernels));
    /* Widest tile of x lines that fits the shared memory a block may opt in to. */
    cudaFuncAttributes fa;
    TF_CUDA(cudaFuncGetAttributes(&fa, k_lines_x_tile));
    const size_t limit = prop->sharedMemPerBlockOptin - fa.sharedSizeBytes;
    c->tile_w = 0;
    for (int w = LINES_PER_TILE_MAX; w >= 8 && !c->tile_w; w /= 2) {
        const size_t bytes = (size_t)(w + 1) * (size_t)g->n[0] * sizeof(tf_real);
        if (bytes <= limit) {
            c->tile_w = w;
            c->tile_bytes = bytes;
        }
    }
    /* The limit is an attribute of the kernel, shared by every solver in the process: set to
     * the most a block may opt in to, not to this solver's tile, or a second solver with a
     * narrower grid would lower it below the first one's tile and break that one's launches. */
    if (c->tile_w) {
        TF_CUDA(cudaFuncSetAttribute(k_lines_x_tile, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                     (int)limit));
        TF_CUDA(cudaFuncSetAttribute(k_lines_x_rows, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                     (int)limit));
    }
    return TF_OK;
}

/* Cells of a face of direction d. */
static tf_index face_cells(const tf_grid *g, int d)
{
    return d == 0 ? g->n[1] * g->n[2] : g->n[0] * (d == 1 ? g->n[2] : g->n[1]);
}

/* Lines of the plane of line ends along d, (A, B) as in k_lines_pass. */
static void line_plane(const tf_grid *g, int d, tf_index *A, tf_index *B)
{
    *A = d == 0 ? g->n[1] : g->n[0];
    *B = d == 2 ? g->n[1] : g->n[2];
}

/* Diffusing fields along d (the entries of the line set; the same on every rank). */
static int diffusing(const tf_setup *su, int d)
{
    int n = 0;
    for (int f = 0; f < TF_NFIELDS; ++f)
        n += !tf_line_identity(&su->lines[f][d]);
    return n;
}

/* Elements of the exchange buffers of one kind (device or pinned host): out and in for both
 * faces of every cut direction (explicit), six line-end planes as large as the largest cut
 * direction's (LOD). Sets c->cut. */
static size_t comm_elems(cuda_impl *c)
{
    const tf_setup *su = c->su;
    size_t faces = 0, plane = 0;
    for (int d = 0; d < 3; ++d) {
        c->cut[d] = su->par && su->par->dims[d] > 1;
        if (!c->cut[d])
            continue;
        if (su->scheme == TF_SCHEME_EXPLICIT) {
            faces += 4 * (size_t)face_cells(&c->g, d) * TF_NFIELDS;
        } else {
            tf_index A, B;
            line_plane(&c->g, d, &A, &B);
            const size_t p = (size_t)(A * B) * (size_t)diffusing(su, d);
            plane = p > plane ? p : plane;
        }
    }
    return faces + EDGES * plane;
}

/* The exchange buffers (comm_elems) and the faces this rank fills itself (the others are
 * received): a face is local where its direction is not cut, or at the edge of the process
 * grid unless the field is periodic there (the grid wraps). */
static tf_status setup_par(cuda_impl *c)
{
    const tf_setup *su = c->su;
    const tf_par *par = su->par;
    const size_t n = comm_elems(c);
    for (int f = 0; f < TF_NFIELDS; ++f) {
        c->bcs.local[f] = 0;
        for (int q = 0; q < TF_NFACES; ++q) {
            const int d = q / 2;
            const int edge = (q & 1) ? par->coords[d] == par->dims[d] - 1 : par->coords[d] == 0;
            const int periodic = su->bcs.bc[f][q].kind == TF_BC_PERIODIC;
            if (!c->cut[d] || (edge && !periodic))
                c->bcs.local[f] |= 1u << q;
        }
    }
    if (n == 0)
        return TF_OK;
    TF_TRY(alloc_dev((void **)&c->d_comm, sizeof(tf_real) * n, "the exchange buffers"));
    TF_CUDA(cudaMallocHost((void **)&c->h_comm, sizeof(tf_real) * n));
    /* k_line_ends writes only the periodic lines' entries of its planes, which then travel
     * whole: the others are zeros, not uninitialised memory (compute-sanitizer initcheck). */
    TF_CUDA(cudaMemsetAsync(c->d_comm, 0, sizeof(tf_real) * n, c->stream));
    memset(c->h_comm, 0, sizeof(tf_real) * n);
    size_t at = 0;
    for (int d = 0; d < 3; ++d) {
        if (!c->cut[d] || su->scheme != TF_SCHEME_EXPLICIT)
            continue;
        const size_t len = (size_t)face_cells(&c->g, d) * TF_NFIELDS;
        for (int io = 0; io < 2; ++io)
            for (int q = 2 * d; q < 2 * d + 2; ++q, at += len) {
                c->d_face[io][q] = c->d_comm + at;
                c->h_face[io][q] = c->h_comm + at;
            }
    }
    const size_t plane = (n - at) / EDGES;
    for (int e = 0; e < EDGES; ++e, at += plane) {
        c->d_edge[e] = c->d_comm + at;
        c->h_edge[e] = c->h_comm + at;
    }
    return TF_OK;
}

/* With several processes each takes one GPU of its node, by node-local rank (round robin when
 * the node has fewer GPUs than processes: they share). One process keeps the current device. */
static tf_status pick_device(cuda_impl *c)
{
    const tf_par *par = c->su->par;
    if (par && par->size > 1) {
        int count = 0;
        TF_CUDA(cudaGetDeviceCount(&count));
        if (count <= 0)
            return TF_ERROR(TF_ERR_USAGE, "backend cuda: rank %d sees no CUDA device", par->rank);
        TF_CUDA(cudaSetDevice(par->node_rank % count));
    }
    TF_CUDA(cudaGetDevice(&c->device));
    return TF_OK;
}

static tf_status create_impl(cuda_impl *c, char *desc, size_t desc_len)
{
    const tf_setup *su = c->su;
    const tf_grid *g = &c->g;
    TF_TRY(pick_device(c));
    cudaDeviceProp prop;
    TF_CUDA(cudaGetDeviceProperties(&prop, c->device));

    /* Memory check before any large allocation. */
    const int explicit_scheme = su->scheme == TF_SCHEME_EXPLICIT;
    const double nbuf = 1 + TF_NFIELDS * (explicit_scheme ? 2 : 1);
    const double need = nbuf * (double)g->nalloc * sizeof(tf_real) +
                        3.0 * (double)(g->gn[0] + g->gn[1] + g->gn[2]) * TF_NFIELDS *
                            sizeof(tf_real) +
                        (double)comm_elems(c) * sizeof(tf_real) +
                        (double)(sizeof(diag_buf) + 64 * TF_NFIELDS + 64) +
                        64.0 * 1048576.0; /* cuBLAS's handle and workspace (32 MiB on Hopper) */
    size_t free_b = 0, total_b = 0;
    TF_CUDA(cudaMemGetInfo(&free_b, &total_b));
    if (need > (double)free_b) {
        char a[64], b[64];
        print_bytes(a, sizeof a, need);
        print_bytes(b, sizeof b, (double)free_b);
        return TF_ERROR(TF_ERR_NOMEM,
                        "cuda backend: the state of %lld x %lld x %lld cells (%s, %s scheme) "
                        "needs %s of device memory, but only %s are free on device %d (%s)",
                        (long long)g->n[0], (long long)g->n[1], (long long)g->n[2],
                        TF_REAL_NAME, explicit_scheme ? "explicit" : "lod", a, b, c->device,
                        prop.name);
    }

    /* Created into locals: destroy sees a handle only when its creation succeeded. */
    cudaStream_t stream = NULL;
    TF_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    c->stream = stream;
    cublasHandle_t blas = NULL;
    TF_CUBLAS(cublasCreate(&blas));
    c->blas = blas;
    TF_CUBLAS(cublasSetStream(c->blas, c->stream));
    TF_CUBLAS(cublasSetPointerMode(c->blas, CUBLAS_POINTER_MODE_DEVICE));

    const size_t bytes = sizeof(tf_real) * (size_t)g->nalloc;
    for (int f = 0; f < TF_NFIELDS; ++f) {
        TF_TRY(alloc_dev((void **)&c->f[f], bytes, tf_field_name[f]));
        TF_CUDA(cudaMemsetAsync(c->f[f], 0, bytes, c->stream));
        if (explicit_scheme) {
            TF_TRY(alloc_dev((void **)&c->next[f], bytes, "a field's second buffer"));
            TF_CUDA(cudaMemsetAsync(c->next[f], 0, bytes, c->stream));
        }
    }
    TF_TRY(alloc_dev((void **)&c->vessel, bytes, "the vessel map"));
    TF_CUDA(cudaMemsetAsync(c->vessel, 0, bytes, c->stream));
    TF_TRY(alloc_dev((void **)&c->d_diag, sizeof(diag_buf), "the diagnostics buffer"));
    TF_TRY(alloc_dev((void **)&c->d_idx, sizeof(int64_t) * TF_NFIELDS, "the maxima indices"));
    TF_TRY(alloc_dev((void **)&c->d_first, sizeof(unsigned long long), "the check result"));
    TF_CUDA(cudaMallocHost((void **)&c->h_diag, sizeof(diag_buf)));
    c->stage_elems = g->nalloc < STAGING_ELEMS ? g->nalloc : STAGING_ELEMS;
    for (int b = 0; b < 2; ++b) {
        TF_CUDA(cudaMallocHost((void **)&c->stage[b], sizeof(tf_real) * (size_t)c->stage_elems));
        TF_CUDA(cudaEventCreateWithFlags(&c->stage_ev[b], cudaEventDisableTiming));
    }
    for (int s = 0; s < 2; ++s)
        for (int e = 0; e <= MAX_STAGES_PER_STEP; ++e)
            TF_CUDA(cudaEventCreate(&c->sets[s].ev[e]));

    if (su->scheme == TF_SCHEME_LOD)
        TF_TRY(setup_lines(c, &prop));
    for (int f = 0; f < TF_NFIELDS; ++f) {
        c->dif.v[f] = su->dif[f];
        for (int s = 0; s < TF_NFACES; ++s) {
            c->bcs.kind[f][s] = (int)su->bcs.bc[f][s].kind;
            c->bcs.wall[f][s] = (tf_real)su->bcs.bc[f][s].value;
        }
    }
    TF_TRY(setup_par(c));
    TF_CUDA(cudaStreamSynchronize(c->stream));

    char lines[96] = "";
    if (su->scheme == TF_SCHEME_LOD) {
        if (c->tile_w)
            snprintf(lines, sizeof lines, "; %s line solves, x lines in shared-memory tiles of %d",
                     line_kernels_name[c->line_kernels], c->tile_w);
        else
            snprintf(lines, sizeof lines, "; %s line solves, x lines in global memory",
                     line_kernels_name[c->line_kernels]);
    }
    char procs[96] = "";
    if (su->par && su->par->size > 1)
        snprintf(procs, sizeof procs, "; %d processes, one GPU each by node-local rank%s",
                 su->par->size, su->gpu_sharers > 1 ? " (shared: more processes than GPUs)" : "");
    snprintf(desc, desc_len, "cuda (device %d: %s, %.1f GiB, cc %d.%d, %d SMs; %s%s%s)", c->device,
             prop.name, (double)prop.totalGlobalMem / 1073741824.0, prop.major, prop.minor,
             prop.multiProcessorCount, TF_REAL_NAME, lines, procs);
    return TF_OK;
}

static tf_status cuda_create(const tf_setup *su, void **impl, char *desc, size_t desc_len)
{
    cuda_impl *c = (cuda_impl *)calloc(1, sizeof *c);
    if (!c)
        return TF_ERROR(TF_ERR_NOMEM, "out of memory");
    c->su = su;
    c->g = su->g;
    const tf_status st = create_impl(c, desc, desc_len);
    if (st != TF_OK) {
        cuda_destroy(c);
        return st;
    }
    *impl = c;
    return TF_OK;
}

/* Host array to device array through the two pinned staging buffers: the host copy into one
 * buffer overlaps the transfer out of the other. */
static tf_status copy_in(cuda_impl *c, tf_real *dst, const tf_real *src, tf_index n)
{
    int b = 0;
    const tf_index chunk = c->stage_elems;
    for (tf_index off = 0; off < n; off += chunk, b ^= 1) {
        const size_t len = (size_t)(n - off < chunk ? n - off : chunk);
        TF_CUDA(cudaEventSynchronize(c->stage_ev[b]));
        memcpy(c->stage[b], src + off, len * sizeof(tf_real));
        TF_CUDA(cudaMemcpyAsync(dst + off, c->stage[b], len * sizeof(tf_real),
                                cudaMemcpyHostToDevice, c->stream));
        TF_CUDA(cudaEventRecord(c->stage_ev[b], c->stream));
    }
    return TF_OK;
}

/* Device array to host array through the staging buffers: the transfer into one buffer
 * overlaps the host copy out of the other. Returns when dst is complete. */
static tf_status copy_out(cuda_impl *c, tf_real *dst, const tf_real *src, tf_index n)
{
    tf_real *pend_dst[2] = {NULL, NULL};
    size_t pend_len[2] = {0, 0};
    int b = 0;
    const tf_index chunk = c->stage_elems;
    for (tf_index off = 0; off < n; off += chunk, b ^= 1) {
        const size_t len = (size_t)(n - off < chunk ? n - off : chunk);
        if (pend_dst[b]) {
            TF_CUDA(cudaEventSynchronize(c->stage_ev[b]));
            memcpy(pend_dst[b], c->stage[b], pend_len[b] * sizeof(tf_real));
        }
        TF_CUDA(cudaMemcpyAsync(c->stage[b], src + off, len * sizeof(tf_real),
                                cudaMemcpyDeviceToHost, c->stream));
        TF_CUDA(cudaEventRecord(c->stage_ev[b], c->stream));
        pend_dst[b] = dst + off;
        pend_len[b] = len;
    }
    for (int k = 0; k < 2; ++k, b ^= 1) /* the older pending buffer first */
        if (pend_dst[b]) {
            TF_CUDA(cudaEventSynchronize(c->stage_ev[b]));
            memcpy(pend_dst[b], c->stage[b], pend_len[b] * sizeof(tf_real));
        }
    return TF_OK;
}

static tf_status cuda_set_state(void *impl, tf_real *const fields[TF_NFIELDS],
                                const tf_real *vessel)
{
    cuda_impl *c = (cuda_impl *)impl;
    for (int f = 0; f < TF_NFIELDS; ++f)
        TF_TRY(copy_in(c, c->f[f], fields[f], c->g.nalloc));
    TF_TRY(copy_in(c, c->vessel, vessel, c->g.nalloc));
    TF_CUDA(cudaStreamSynchronize(c->stream));
    return TF_OK;
}

static tf_status cuda_get_state(void *impl, tf_real *const fields[TF_NFIELDS], unsigned mask)
{
    cuda_impl *c = (cuda_impl *)impl;
    TF_TRY(flush_timers(c));
    for (int f = 0; f < TF_NFIELDS; ++f)
        if (mask & (1u << f))
            TF_TRY(copy_out(c, fields[f], c->f[f], c->g.nalloc));
    return TF_OK;
}

static field_set state_set(const cuda_impl *c)
{
    field_set F;
    for (int f = 0; f < TF_NFIELDS; ++f)
        F.a[f] = c->f[f];
    return F;
}

static unsigned clamp_yz(tf_index n) { return (unsigned)(n < MAX_GRID_YZ ? n : MAX_GRID_YZ); }

/* Rows of y one launch of a per-cell kernel covers (grid y at most 65535 blocks). */
static const tf_index CELL_ROWS = MAX_GRID_YZ * TF_CUDA_BLOCK_Y;

/* Launch shape of a per-cell kernel over rows j_off .. j_off + CELL_ROWS - 1 (clipped to n[1]):
 * (x, y) threads, z by blocks (the kernels loop past 65535). */
static void cell_shape(const tf_grid *g, tf_index j_off, dim3 *grid, dim3 *block)
{
    const tf_index rows = g->n[1] - j_off < CELL_ROWS ? g->n[1] - j_off : CELL_ROWS;
    *block = dim3(TF_CUDA_BLOCK_X, TF_CUDA_BLOCK_Y, 1);
    *grid = dim3((unsigned)((g->n[0] + TF_CUDA_BLOCK_X - 1) / TF_CUDA_BLOCK_X),
                 (unsigned)((rows + TF_CUDA_BLOCK_Y - 1) / TF_CUDA_BLOCK_Y), clamp_yz(g->n[2]));
}

static unsigned blocks_for(tf_index n, unsigned per_block)
{
    return (unsigned)((n + per_block - 1) / per_block);
}

/* Stage bracketing: the NVTX range covers the launches, the events the device time.
 * stage_end takes the status of the stage's launches (an argument, so evaluated inside the
 * range) and closes the range also when they failed: the ranges stay balanced. */
static void stage_begin(tf_stage st) { nvtxRangePushA(tf_stage_name[st]); }

static tf_status stage_end(cuda_impl *c, stage_set *s, tf_stage st, tf_status launched)
{
    nvtxRangePop();
    TF_TRY(launched);
    s->st[s->n] = st;
    s->n += 1;
    TF_CUDA(cudaEventRecord(s->ev[s->n], c->stream));
    return TF_OK;
}

static tf_status launch_react(cuda_impl *c, const tf_coeffs *co, tf_real dt)
{
    const tf_step_coeffs s = tf_coeffs_step(co, dt);
    for (tf_index j_off = 0; j_off < c->g.n[1]; j_off += CELL_ROWS) {
        dim3 grid, block;
        cell_shape(&c->g, j_off, &grid, &block);
        k_react<<<grid, block, 0, c->stream>>>(state_set(c), c->vessel, c->g, s, j_off);
        TF_CUDA_LAUNCH("k_react");
    }
    return TF_OK;
}

/* The line set of direction d with the current field pointers. */
static line_set lines_now(const cuda_impl *c, int d)
{
    line_set S = c->lines[d];
    int e = 0;
    for (int f = 0; f < TF_NFIELDS; ++f) {
        if (!tf_line_identity(&c->su->lines[f][d]))
            S.a[e++] = c->f[f];
    }
    return S;
}

/* The line solves of direction d: one launch for every diffusing field, with the chunked
 * kernels or the classic ones (line_kernels_kind), which take the same arguments. */
static tf_status launch_lines(cuda_impl *c, int d)
{
    const int nl = c->nlines[d];
    if (nl == 0)
        return TF_OK;
    const tf_grid *g = &c->g;
    const line_set S = lines_now(c, d);
    const tf_index origin = tf_at(g, 0, 0, 0);
    const unsigned lb = TF_CUDA_LINE_BLOCK;
    const int classic = c->line_kernels == LINES_CLASSIC;
    if (d == 0 && c->tile_w) {
        const dim3 grid(blocks_for(g->n[1], (unsigned)c->tile_w), clamp_yz(g->n[2]),
                        (unsigned)nl);
        (classic ? k_lines_x_tile : k_lines_x_rows)<<<grid, lb, c->tile_bytes, c->stream>>>(
            S, *g, c->tile_w);
        TF_CUDA_LAUNCH(classic ? "k_lines_x_tile" : "k_lines_x_rows");
        return TF_OK;
    }
    /* One thread per line: x lines (j, k), points contiguous; y lines (i, k), points sy apart;
     * z lines (i, j), points sz apart. */
    const tf_index na = d == 0 ? g->n[1] : g->n[0], sa = d == 0 ? g->sy : 1;
    const tf_index nb = d == 2 ? g->n[1] : g->n[2], sb = d == 2 ? g->sy : g->sz;
    const tf_index stride = d == 0 ? 1 : (d == 1 ? g->sy : g->sz);
    const dim3 grid(blocks_for(na, lb), clamp_yz(nb), (unsigned)nl);
    (classic ? k_lines_global : k_lines_chunked)<<<grid, lb, 0, c->stream>>>(S, na, nb, sa, sb,
                                                                             origin, stride);
    static const char *const names[2][3] = {
        {"k_lines_chunked (x)", "k_lines_chunked (y)", "k_lines_chunked (z)"},
        {"k_lines_global (x)", "k_lines_global (y)", "k_lines_global (z)"}};
    TF_CUDA_LAUNCH(names[classic][d]);
    return TF_OK;
}

static tf_status launch_ghosts(cuda_impl *c)
{
    const tf_grid *g = &c->g;
    const tf_index nx = g->n[0], ny = g->n[1], nz = g->n[2];
    tf_index face = ny * nz;
    face = nx * nz > face ? nx * nz : face;
    face = nx * ny > face ? nx * ny : face;
    k_ghosts<<<dim3(blocks_for(face, 256), 3, TF_NFIELDS), 256, 0, c->stream>>>(state_set(c), *g,
                                                                              c->bcs);
    TF_CUDA_LAUNCH("k_ghosts");
    return TF_OK;
}

/* The fused explicit kernel into the second buffer, then the buffers swap. */
static tf_status launch_explicit(cuda_impl *c, const tf_coeffs *c0)
{
    const tf_grid *g = &c->g;
    const tf_real dt = (tf_real)c->su->dt;
    const tf_step_coeffs s = tf_coeffs_step(c0, dt);
    const tf_explicit_dif e = tf_explicit_dif_make(c->dif.v, dt);
    field_set O;
    for (int f = 0; f < TF_NFIELDS; ++f)
        O.a[f] = c->next[f];
    for (tf_index j_off = 0; j_off < g->n[1]; j_off += CELL_ROWS) {
        dim3 grid, block;
        cell_shape(g, j_off, &grid, &block);
        k_explicit<<<grid, block, 0, c->stream>>>(state_set(c), O, c->vessel, *g, s, e, j_off);
        TF_CUDA_LAUNCH("k_explicit");
    }
    for (int f = 0; f < TF_NFIELDS; ++f) {
        tf_real *t = c->f[f];
        c->f[f] = c->next[f];
        c->next[f] = t;
    }
    return TF_OK;
}

static tf_status step_explicit(cuda_impl *c, stage_set *s, const tf_coeffs *c0)
{
    stage_begin(TF_STAGE_GHOSTS);
    TF_TRY(stage_end(c, s, TF_STAGE_GHOSTS, launch_ghosts(c)));
    stage_begin(TF_STAGE_EXPLICIT);
    return stage_end(c, s, TF_STAGE_EXPLICIT, launch_explicit(c, c0));
}

static tf_status step_lod(cuda_impl *c, stage_set *s, const tf_coeffs *c0, const tf_coeffs *c1)
{
    const tf_real half = (tf_real)c->su->dt / 2;
    stage_begin(TF_STAGE_REACTION);
    TF_TRY(stage_end(c, s, TF_STAGE_REACTION, launch_react(c, c0, half)));
    for (int d = 0; d < 3; ++d) {
        const tf_stage st = (tf_stage)(TF_STAGE_DIFFUSION_X + d);
        stage_begin(st);
        TF_TRY(stage_end(c, s, st, launch_lines(c, d)));
    }
    stage_begin(TF_STAGE_REACTION);
    return stage_end(c, s, TF_STAGE_REACTION, launch_react(c, c1, half));
}

/* ---------------------------------------------------------------------------------------- */
/* Steps across processes: the same kernels, with the ghost layers and the line solves of the
 * cut directions passed between ranks through pinned host buffers (host/par.c; the messages,
 * tags and pipeline are those of the CPU backend). The host waits for the device at every
 * exchange, so these steps are timed by the host clock, stage by stage, the time spent
 * waiting for other ranks counted as the halo stage. */

static int any_cut(const cuda_impl *c) { return c->cut[0] || c->cut[1] || c->cut[2]; }

/* The host clock once the device has finished everything queued. */
static tf_status synced_time(cuda_impl *c, double *t)
{
    TF_CUDA(cudaStreamSynchronize(c->stream));
    *t = tf_wtime();
    return TF_OK;
}

/* Close the stage begun at *t0 (its NVTX range, the device work) and start the next. */
static tf_status host_stage(cuda_impl *c, tf_stage st, double *t0, double waited);

/* The same after the stage's launches returned `launched`: a failed stage closes its NVTX range
 * too (the ranges stay balanced) and returns the failure. */
static tf_status host_stage_after(cuda_impl *c, tf_stage st, double *t0, double waited,
                                  tf_status launched)
{
    if (launched != TF_OK) {
        nvtxRangePop();
        return launched;
    }
    return host_stage(c, st, t0, waited);
}

static tf_status host_stage(cuda_impl *c, tf_stage st, double *t0, double waited)
{
    double t1 = 0.0;
    const tf_status st_sync = synced_time(c, &t1);
    nvtxRangePop(); /* also on a failure: the ranges stay balanced */
    TF_TRY(st_sync);
    c->su->timers->seconds[st] += t1 - *t0 - waited;
    c->su->timers->calls[st] += 1;
    if (waited > 0.0) {
        c->su->timers->seconds[TF_STAGE_HALO] += waited;
        c->su->timers->calls[TF_STAGE_HALO] += 1;
    }
    *t0 = t1;
    return TF_OK;
}

static tf_status launch_face(cuda_impl *c, int d, tf_index layer, tf_real *buf, unsigned mask,
                             int to_buf)
{
    const tf_index cells = face_cells(&c->g, d);
    k_face<<<dim3(blocks_for(cells, 256), TF_NFIELDS), 256, 0, c->stream>>>(
        state_set(c), c->g, d, layer, buf, cells, mask, to_buf);
    TF_CUDA_LAUNCH("k_face");
    return TF_OK;
}

/* Waiting for other processes: timed into *waited (the halo stage) and bracketed by an NVTX
 * range "halo" inside the stage's own range, so that a profile shows the wait as the timers
 * count it. */
static void wait_messages(tf_par *par, double *waited)
{
    nvtxRangePushA(tf_stage_name[TF_STAGE_HALO]);
    const double t0 = tf_wtime();
    tf_par_wait(par);
    *waited += tf_wtime() - t0;
    nvtxRangePop();
}

static void recv_message(tf_par *par, int face, void *buf, size_t bytes, int tag, double *waited)
{
    nvtxRangePushA(tf_stage_name[TF_STAGE_HALO]);
    const double t0 = tf_wtime();
    tf_par_recv(par, face, buf, bytes, tag);
    *waited += tf_wtime() - t0;
    nvtxRangePop();
}

/* Ghost layers of the cut directions: the boundary layers of all six fields go to the face
 * neighbours, theirs come into the ghosts of the faces this rank does not fill itself. Adds
 * the seconds spent waiting for the messages to *waited. */
static tf_status halo_exchange(cuda_impl *c, double *waited)
{
    const tf_grid *g = &c->g;
    tf_par *par = c->su->par;
    for (int q = 0; q < TF_NFACES; ++q) {
        const int d = q / 2;
        if (!c->cut[d])
            continue;
        const size_t bytes = sizeof(tf_real) * (size_t)face_cells(g, d) * TF_NFIELDS;
        TF_TRY(launch_face(c, d, (q & 1) ? g->n[d] - 1 : 0, c->d_face[0][q], 0x3fu, 1));
        TF_CUDA(cudaMemcpyAsync(c->h_face[0][q], c->d_face[0][q], bytes, cudaMemcpyDeviceToHost,
                                c->stream));
    }
    TF_CUDA(cudaStreamSynchronize(c->stream));
    for (int q = 0; q < TF_NFACES; ++q) {
        const int d = q / 2;
        if (!c->cut[d])
            continue;
        const size_t bytes = sizeof(tf_real) * (size_t)face_cells(g, d) * TF_NFIELDS;
        /* My lo layer fills the ghosts on my lo neighbour's hi side: the tag names my face. */
        tf_par_recv_start(par, q, c->h_face[1][q], bytes, TAG_FACE + (q ^ 1));
        tf_par_send(par, q, c->h_face[0][q], bytes, TAG_FACE + q);
    }
    wait_messages(par, waited);
    for (int q = 0; q < TF_NFACES; ++q) {
        const int d = q / 2;
        unsigned mask = 0;
        for (int f = 0; f < TF_NFIELDS; ++f)
            mask |= (c->bcs.local[f] >> q & 1) ? 0u : 1u << f;
        if (!c->cut[d] || !mask)
            continue;
        const size_t bytes = sizeof(tf_real) * (size_t)face_cells(g, d) * TF_NFIELDS;
        TF_CUDA(cudaMemcpyAsync(c->d_face[1][q], c->h_face[1][q], bytes, cudaMemcpyHostToDevice,
                                c->stream));
        TF_TRY(launch_face(c, d, (q & 1) ? g->n[d] : -1, c->d_face[1][q], mask, 0));
    }
    return TF_OK;
}

static tf_status step_explicit_par(cuda_impl *c, const tf_coeffs *c0)
{
    double t0 = 0.0, waited = 0.0;
    TF_TRY(synced_time(c, &t0));
    nvtxRangePushA(tf_stage_name[TF_STAGE_GHOSTS]);
    tf_status s = halo_exchange(c, &waited);
    if (s == TF_OK)
        s = launch_ghosts(c);
    TF_TRY(host_stage_after(c, TF_STAGE_GHOSTS, &t0, waited, s));
    nvtxRangePushA(tf_stage_name[TF_STAGE_EXPLICIT]);
    s = launch_explicit(c, c0);
    return host_stage_after(c, TF_STAGE_EXPLICIT, &t0, 0.0, s);
}

/* Sherman-Morrison correction of the periodic lines along a cut direction d: the ranks at the
 * two ends of each line share its rows 0 and n-1 along the line, then each corrects its slice. */
static tf_status periodic_par(cuda_impl *c, int d, const line_set *S)
{
    const tf_grid *g = &c->g;
    const tf_par *par = c->su->par;
    tf_index A, B;
    line_plane(g, d, &A, &B);
    const int nl = c->nlines[d];
    const size_t bytes = sizeof(tf_real) * (size_t)(A * B) * (size_t)nl;
    const int at_lo = par->coords[d] == 0, at_hi = par->coords[d] == par->dims[d] - 1;
    const dim3 grid(blocks_for(A, TF_CUDA_LINE_BLOCK), clamp_yz(B), (unsigned)nl);
    tf_real *df = c->d_edge[EDGE_FIRST], *dl = c->d_edge[EDGE_LAST];
    tf_real *hf = c->h_edge[EDGE_FIRST], *hl = c->h_edge[EDGE_LAST];
    k_line_ends<<<grid, TF_CUDA_LINE_BLOCK, 0, c->stream>>>(*S, *g, d, A, B, at_lo, at_hi, df, dl);
    TF_CUDA_LAUNCH("k_line_ends");
    TF_CUDA(cudaMemcpyAsync(hf, df, bytes, cudaMemcpyDeviceToHost, c->stream));
    TF_CUDA(cudaMemcpyAsync(hl, dl, bytes, cudaMemcpyDeviceToHost, c->stream));
    TF_CUDA(cudaStreamSynchronize(c->stream));
    tf_par_line_bcast(par, d, hf, bytes, 0);
    tf_par_line_bcast(par, d, hl, bytes, par->dims[d] - 1);
    TF_CUDA(cudaMemcpyAsync(df, hf, bytes, cudaMemcpyHostToDevice, c->stream));
    TF_CUDA(cudaMemcpyAsync(dl, hl, bytes, cudaMemcpyHostToDevice, c->stream));
    k_lines_periodic<<<grid, TF_CUDA_LINE_BLOCK, 0, c->stream>>>(*S, *g, d, A, B, df, dl);
    TF_CUDA_LAUNCH("k_lines_periodic");
    return TF_OK;
}

/* Backward-Euler diffusion along a cut direction d as a pipeline over the ranks along d, in
 * chunks of outer planes (4 per rank, as on the CPU): the forward sweep passes each chunk's
 * last eliminated rows to the next rank, the back substitution its first solved rows to the
 * previous one. Adds the seconds spent waiting for other ranks to *waited. */
static tf_status diffuse_par(cuda_impl *c, int d, double *waited)
{
    const int nl = c->nlines[d];
    if (nl == 0)
        return TF_OK; /* the same on every rank: nothing is sent either */
    const tf_grid *g = &c->g;
    tf_par *par = c->su->par;
    const line_set S = lines_now(c, d);
    tf_index A, B;
    line_plane(g, d, &A, &B);
    const tf_index nch = B < 4 * par->dims[d] ? B : 4 * par->dims[d];
    const tf_index per_b = A * nl;
    int periodic = 0;
    for (int e = 0; e < nl; ++e)
        periodic |= S.L[e].periodic;
    for (int fwd = 1; fwd >= 0; --fwd) {
        const int from = fwd ? 2 * d : 2 * d + 1; /* the face the pipeline comes in by */
        const int tag = (fwd ? TAG_FORWARD : TAG_BACKWARD) + d;
        tf_real *din = c->d_edge[fwd ? EDGE_PREV : EDGE_NEXT];
        tf_real *hin = c->h_edge[fwd ? EDGE_PREV : EDGE_NEXT];
        tf_real *dout = c->d_edge[fwd ? EDGE_SEND_FWD : EDGE_SEND_BWD];
        tf_real *hout = c->h_edge[fwd ? EDGE_SEND_FWD : EDGE_SEND_BWD];
        /* The ends of the lines neither receive nor send, also where the process grid wraps
         * (periodic lines are closed by periodic_par). */
        const int first = fwd ? par->coords[d] == 0 : par->coords[d] == par->dims[d] - 1;
        const int last = fwd ? par->coords[d] == par->dims[d] - 1 : par->coords[d] == 0;
        for (tf_index ch = 0; ch < nch; ++ch) {
            const tf_index b0 = B * ch / nch, b1 = B * (ch + 1) / nch, off = b0 * per_b;
            const size_t bytes = sizeof(tf_real) * (size_t)((b1 - b0) * per_b);
            if (!first) {
                recv_message(par, from, hin + off, bytes, tag, waited);
                TF_CUDA(cudaMemcpyAsync(din + off, hin + off, bytes, cudaMemcpyHostToDevice,
                                        c->stream));
            }
            const dim3 grid(blocks_for(A, TF_CUDA_LINE_BLOCK), clamp_yz(b1 - b0), (unsigned)nl);
            k_lines_pass<<<grid, TF_CUDA_LINE_BLOCK, 0, c->stream>>>(S, *g, d, fwd, b0, b1, A,
                                                                     din, dout);
            TF_CUDA_LAUNCH("k_lines_pass");
            if (!last) {
                TF_CUDA(cudaMemcpyAsync(hout + off, dout + off, bytes, cudaMemcpyDeviceToHost,
                                        c->stream));
                TF_CUDA(cudaStreamSynchronize(c->stream));
                tf_par_send(par, from ^ 1, hout + off, bytes, tag);
            }
        }
    }
    wait_messages(par, waited);
    return periodic ? periodic_par(c, d, &S) : TF_OK;
}

static tf_status step_lod_par(cuda_impl *c, const tf_coeffs *c0, const tf_coeffs *c1)
{
    const tf_real half = (tf_real)c->su->dt / 2;
    double t0 = 0.0;
    TF_TRY(synced_time(c, &t0));
    nvtxRangePushA(tf_stage_name[TF_STAGE_REACTION]);
    tf_status s = launch_react(c, c0, half);
    TF_TRY(host_stage_after(c, TF_STAGE_REACTION, &t0, 0.0, s));
    for (int d = 0; d < 3; ++d) {
        const tf_stage st = (tf_stage)(TF_STAGE_DIFFUSION_X + d);
        double waited = 0.0;
        nvtxRangePushA(tf_stage_name[st]);
        s = c->cut[d] ? diffuse_par(c, d, &waited) : launch_lines(c, d);
        TF_TRY(host_stage_after(c, st, &t0, waited, s));
    }
    nvtxRangePushA(tf_stage_name[TF_STAGE_REACTION]);
    s = launch_react(c, c1, half);
    return host_stage_after(c, TF_STAGE_REACTION, &t0, 0.0, s);
}

static tf_status cuda_step(void *impl, const tf_coeffs *c0, const tf_coeffs *c1)
{
    cuda_impl *c = (cuda_impl *)impl;
    if (any_cut(c)) {
        TF_TRY(flush_timers(c));
        return c->su->scheme == TF_SCHEME_EXPLICIT ? step_explicit_par(c, c0)
                                                   : step_lod_par(c, c0, c1);
    }
    stage_set *s = &c->sets[c->cur_set];
    TF_TRY(resolve_set(c, s)); /* normally already folded in by the step after it */
    s->n = 0;
    TF_CUDA(cudaEventRecord(s->ev[0], c->stream));
    if (c->su->scheme == TF_SCHEME_EXPLICIT)
        TF_TRY(step_explicit(c, s, c0));
    else
        TF_TRY(step_lod(c, s, c0, c1));
    s->pending = 1;
    /* Wait for the previous step (this one is queued behind it) and fold in its times. */
    c->cur_set ^= 1;
    TF_TRY(resolve_set(c, &c->sets[c->cur_set]));
    return TF_OK;
}

/* The reductions of cuda_diagnostics into c->h_diag. */
static tf_status diag_reduce(cuda_impl *c)
{
    const tf_grid *g = &c->g;
    /* Ghosts and row padding to 0 so the reductions over whole padded arrays see the interior
     * only (ghosts are recomputed before they are read again). Fields are non-negative in a
     * valid state (check_state), so asum is the sum and i?amax finds the maximum. In a bad
     * state the row differs from the CPU's: total is the sum of |u|, max the value of largest
     * magnitude (a negative one if that is it), NaN anywhere makes the sums NaN; the run
     * driver's next check_state (at the next record) then stops the run naming the cell. */
    const field_set F = state_set(c);
    const tf_index rows = (g->n[1] + 2) * (g->n[2] + 2) + 1;
    k_zero_outside<<<dim3(rows < 65536 ? (unsigned)rows : 65536u, TF_NFIELDS), 32, 0,
                     c->stream>>>(F, *g);
    TF_CUDA_LAUNCH("k_zero_outside");
    const int64_t n = (int64_t)g->nalloc;
    for (int f = 0; f < TF_NFIELDS; ++f) {
        TF_CUBLAS(blas_asum(c->blas, n, c->f[f], &c->d_diag->total[f]));
        TF_CUBLAS(blas_dot(c->blas, n, c->f[TF_TUMOR], c->f[f], &c->d_diag->weighted[f]));
        TF_CUBLAS(blas_iamax(c->blas, n, c->f[f], &c->d_idx[f]));
    }
    k_gather<<<1, 32, 0, c->stream>>>(F, c->d_idx, g->nalloc, c->d_diag->max);
    TF_CUDA_LAUNCH("k_gather");
    TF_CUDA(cudaMemcpyAsync(c->h_diag, c->d_diag, sizeof(diag_buf), cudaMemcpyDeviceToHost,
                            c->stream));
    TF_CUDA(cudaStreamSynchronize(c->stream));
    return TF_OK;
}

static tf_status cuda_diagnostics(void *impl, tf_diag *d)
{
    cuda_impl *c = (cuda_impl *)impl;
    TF_TRY(flush_timers(c));
    nvtxRangePushA(tf_stage_name[TF_STAGE_DIAGNOSTICS]);
    const tf_status st = diag_reduce(c);
    nvtxRangePop(); /* also on a failure: the ranges stay balanced */
    TF_TRY(st);
    for (int f = 0; f < TF_NFIELDS; ++f) {
        d->total[f] = (double)c->h_diag->total[f];
        d->weighted[f] = (double)c->h_diag->weighted[f];
        d->max[f] = (double)c->h_diag->max[f];
    }
    d->tumor_sum = d->total[TF_TUMOR];
    return TF_OK;
}

static tf_status cuda_check_state(void *impl, tf_bad_cell *bad)
{
    cuda_impl *c = (cuda_impl *)impl;
    const tf_grid *g = &c->g;
    TF_TRY(flush_timers(c));
    TF_CUDA(cudaMemsetAsync(c->d_first, 0xff, sizeof(unsigned long long), c->stream));
    for (tf_index j_off = 0; j_off < g->n[1]; j_off += CELL_ROWS) {
        dim3 grid, block;
        cell_shape(g, j_off, &grid, &block);
        k_check<<<grid, block, 0, c->stream>>>(state_set(c), *g, c->d_first, j_off);
        TF_CUDA_LAUNCH("k_check");
    }
    unsigned long long first = 0;
    TF_CUDA(cudaMemcpyAsync(&first, c->d_first, sizeof first, cudaMemcpyDeviceToHost,
                            c->stream));
    TF_CUDA(cudaStreamSynchronize(c->stream));
    if (first == ~0ull)
        return TF_OK;
    const int f = (int)(first / (unsigned long long)g->nalloc);
    const tf_index p = (tf_index)(first % (unsigned long long)g->nalloc);
    tf_real value = 0;
    TF_CUDA(cudaMemcpyAsync(&value, c->f[f] + p, sizeof value, cudaMemcpyDeviceToHost,
                            c->stream));
    TF_CUDA(cudaStreamSynchronize(c->stream));
    bad->field = f;
    tf_cell_of(g, p, &bad->i, &bad->j, &bad->k);
    bad->value = (double)value;
    return TF_ERROR(TF_ERR_NUMERIC,
                    "field '%s' has the bad value %g at cell (i,j,k) = (%lld,%lld,%lld)",
                    tf_field_name[f], bad->value, (long long)(g->start[0] + bad->i),
                    (long long)(g->start[1] + bad->j), (long long)(g->start[2] + bad->k));
}

extern "C" const tf_backend_ops tf_cuda_backend = {
    "cuda",           cuda_create,      cuda_destroy,     cuda_set_state,
    cuda_get_state,   cuda_step,        cuda_diagnostics, cuda_check_state,
    NULL, /* lod_fused: the LOD passes run separately */
    NULL, /* explicit_paired: one step at a time */
    NULL, /* flush: nothing deferred */
};

/* ---------------------------------------------------------------------------------------- */
/* Bench helpers (cuda_bench.h)                                                              */

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static tf_status copy_bandwidth(size_t bytes, int reps, double *bytes_per_s, void **src,
                                void **dst, cudaEvent_t ev[2], double *ms_all)
{
    TF_CUDA(cudaMalloc(src, bytes));
    TF_CUDA(cudaMalloc(dst, bytes));
    TF_CUDA(cudaMemset(*src, 0x3f, bytes)); /* non-zero data */
    TF_CUDA(cudaEventCreate(&ev[0]));
    TF_CUDA(cudaEventCreate(&ev[1]));
    TF_CUDA(cudaMemcpy(*dst, *src, bytes, cudaMemcpyDeviceToDevice)); /* warm-up */
    for (int r = 0; r < reps; ++r) {
        TF_CUDA(cudaEventRecord(ev[0], 0));
        TF_CUDA(cudaMemcpyAsync(*dst, *src, bytes, cudaMemcpyDeviceToDevice, 0));
        TF_CUDA(cudaEventRecord(ev[1], 0));
        TF_CUDA(cudaEventSynchronize(ev[1]));
        float ms = 0.0f;
        TF_CUDA(cudaEventElapsedTime(&ms, ev[0], ev[1]));
        ms_all[r] = (double)ms;
    }
    qsort(ms_all, (size_t)reps, sizeof(double), cmp_double);
    const double med = ms_all[reps / 2];
    *bytes_per_s = med > 0 ? 2.0 * (double)bytes / (1e-3 * med) : 0.0;
    return TF_OK;
}

extern "C" tf_status tf_cuda_copy_bandwidth(size_t bytes, int reps, double *bytes_per_s)
{
    if (reps < 1)
        reps = 1;
    void *src = NULL, *dst = NULL;
    cudaEvent_t ev[2] = {NULL, NULL};
    double *ms_all = (double *)malloc(sizeof(double) * (size_t)reps);
    if (!ms_all)
        return TF_ERROR(TF_ERR_NOMEM, "out of memory");
    const tf_status st = copy_bandwidth(bytes, reps, bytes_per_s, &src, &dst, ev, ms_all);
    free(ms_all);
    cudaFree(src);
    cudaFree(dst);
    for (int e = 0; e < 2; ++e)
        if (ev[e])
            cudaEventDestroy(ev[e]);
    return st;
}

extern "C" tf_status tf_cuda_synchronize(void)
{
    TF_CUDA(cudaDeviceSynchronize());
    return TF_OK;
}
