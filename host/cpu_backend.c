/* cpu_backend.c: the reference backend, parallel with OpenMP over z-planes (static schedule,
 * the same in the first-touch initialisation, so each thread's planes live in its memory).
 *
 * Arrays: every field is one padded array of g.nalloc elements (tf_grid.h); the explicit scheme
 * keeps a second set (`next`) and swaps. The per-voxel physics is tf_model.h's. */
#define _DEFAULT_SOURCE /* madvise's MADV_HUGEPAGE (glibc hides it under _POSIX_C_SOURCE) */
#include "tf_backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) || defined(__SSE2__)
#include <immintrin.h>
#if !defined(TF_DOUBLE)
#define TF_SSE_TRANSPOSE /* 4 x 4 float transposes for the x-line tiles */
#endif
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define TF_X_V3 /* AVX2 transposes of the x-line tiles where the CPU has x86-64-v3 (tile_in_v3) */
#define TF_X_V4 /* AVX-512 streaming stores where it has x86-64-v4 (stream_row_v4) */
#endif
#endif

/* Whether a sweep over grid g is worth a parallel region. */
#define PAR(g) tf_cpu_parallel((g)->ncells)

/* x lines solved together (x_block), at most: each sweep of the Thomas algorithm is a
 * chain of dependent multiply and add steps per line (9 to 12 cycles a step), so a core needs
 * about eight vectors of lines in flight to keep its floating-point units busy; with two (32
 * floats, the earlier value) the x lines took 1.7x the time of 128 on an AMD Zen 4, and the
 * block (XW * n_x values, 128 KiB at n_x = 256) sits in L2. Blocks of fewer rows solve fewer
 * lanes (x_lanes). */
enum { XW = 128 };

/* The lanes solved for a block of w <= XW rows: the next of 16, 32, 64, 128 (whole vectors,
 * a count the compiler knows), so a small grid's lines are not solved 128 at a time. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline tf_index x_lanes(tf_index w)
{
    tf_index l = 16;
    while (l < w && l < XW)
        l *= 2;
    return l;
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* [*lo, *hi): this thread's share of 0..n-1 under schedule(static) without a chunk size
 * (contiguous blocks, the first n % threads threads one more), as libgomp splits it. */
static void static_share(tf_index n, tf_index *lo, tf_index *hi)
{
#ifdef _OPENMP
    const tf_index nt = omp_get_num_threads(), id = omp_get_thread_num();
    const tf_index q = n / nt, r = n % nt;
    *lo = id * q + (id < r ? id : r);
    *hi = *lo + q + (id < r ? 1 : 0);
#else
    *lo = 0;
    *hi = n;
#endif
}

typedef struct {
    const tf_setup *su;
    tf_grid g;
    tf_real *f[TF_NFIELDS];
    tf_real *next[TF_NFIELDS]; /* explicit scheme only */
    tf_real *vessel;
    tf_real **xbuf; /* [nthreads], per thread: XW * n[0] elements for the x-line solves */
    int nthreads;   /* the OpenMP threads at create: every parallel region runs on at most
                     * these (num_threads), whatever the caller sets later, so the per-thread
                     * buffers, the first-touch placement and the denormal flags hold */
    int x_v3;       /* the CPU has x86-64-v3: x-line tiles through tile_in_v3 */
    int x_v4;       /* the CPU has x86-64-v4: the explicit pairs' streaming stores */
    /* Decomposed runs (some dims[d] > 1), see "Across ranks" below. */
    tf_par *par;
    unsigned local_faces[TF_NFIELDS]; /* bit F: ghosts of face F filled here, not received */
    tf_real *face_out[TF_NFACES], *face_in[TF_NFACES]; /* explicit: layers of all six fields */
    int x_packed; /* explicit, x cut: face_out's x layers hold the state's, written by the last
                   * step's rows as it updated them (explicit_box); 0 after set_state */
    tf_real *edge[6];   /* LOD: planes of line ends, see line_plane() */
    /* LOD with the fused pass: the step's second reaction, deferred into the next step's
     * fused pass (see "Fused LOD pass"); run by flush_deferred before anything reads the
     * state. */
    int r2_pending;
    tf_step_coeffs r2;
    /* Explicit steps in pairs (see there): the step waiting for the next, and per thread the
     * ring of the first step's planes; NULL where steps run alone. */
    int step_pending;
    tf_coeffs pending;
    tf_real **ring;
    /* The explicit step's j-tile rows (explicit_tile_rows), alone or in pairs; the rows of a
     * pair's ring planes (the tile's, up to n_y, and one beside it on each side). */
    tf_index tile_rows, ring_rows;
} cpu_impl;

static tf_status par_setup(cpu_impl *c);
static int any_cut(const cpu_impl *c);
static int cut(const cpu_impl *c, int d);
static tf_status explicit_setup(cpu_impl *c);

/* Arrays of HUGE_MIN bytes or more start on a 2 MiB boundary and ask Linux for transparent huge
 * pages (madvise, which takes effect where THP is set to "madvise" or "always"). A row kernel
 * touches about 100 pages of 4 KiB at once (the explicit stencil: 3 planes of a 16-row tile of
 * 6 fields, the vessel map and the 6 new rows) and a z line a new page at every row (a plane
 * apart), more than the first-level TLB holds (72 entries on a Zen 4); with 2 MiB pages a
 * plane of 256^2 floats lies within one. Measured: docs/performance.md, "Huge pages". */
enum { HUGE_PAGE = 2 << 20 };
static const size_t HUGE_MIN = (size_t)4 * HUGE_PAGE;

void *tf_host_alloc_huge(size_t bytes)
{
    bytes = (bytes + 63) / 64 * 64;
    size_t align = 64;
#ifdef MADV_HUGEPAGE
    if (bytes >= HUGE_MIN) {
        align = HUGE_PAGE;
        bytes = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    }
#endif
    void *a = aligned_alloc(align, bytes);
#ifdef MADV_HUGEPAGE
    if (a && align == HUGE_PAGE)
        (void)madvise(a, bytes, MADV_HUGEPAGE); /* advice: where THP is off, nothing changes */
#endif
    return a;
}

static tf_real *alloc_field(const tf_grid *g)
{
    tf_real *a = tf_host_alloc_huge((size_t)g->nalloc * sizeof(tf_real));
    if (!a)
        return NULL;
    /* First touch with the compute loops' distribution over z; zero everywhere, padding
     * included (tf_grid.h). */
#pragma omp parallel for schedule(static)
    for (tf_index k = 0; k < g->n[2] + 2; ++k)
        memset(a + k * g->sz, 0, sizeof(tf_real) * (size_t)g->sz);
    memset(a + (g->n[2] + 2) * g->sz, 0, sizeof(tf_real) * (size_t)TF_ROW_ALIGN);
    return a;
}

static void cpu_destroy(void *impl)
{
    cpu_impl *c = impl;
    if (!c)
        return;
    for (int f = 0; f < TF_NFIELDS; ++f) {
        free(c->f[f]);
        free(c->next[f]);
    }
    free(c->vessel);
    for (int q = 0; q < TF_NFACES; ++q) {
        free(c->face_out[q]);
        free(c->face_in[q]);
    }
    for (int q = 0; q < 6; ++q)
        free(c->edge[q]);
    if (c->xbuf)
        for (int t = 0; t < c->nthreads; ++t)
            free(c->xbuf[t]);
    free(c->xbuf);
    if (c->ring)
        for (int t = 0; t < c->nthreads; ++t)
            free(c->ring[t]);
    free(c->ring);
    free(c);
}

/* Flush denormals to zero in every OpenMP thread: fields that decay or diffuse into empty
 * tissue pass through values below 1e-38, and denormal arithmetic runs up to 100x slower on x86.
 * Such values are zero for the model; GPUs flush them in hardware-speed paths anyway. */
static void flush_denormals(void)
{
#if defined(__x86_64__) || defined(__SSE2__)
#pragma omp parallel
    _mm_setcsr(_mm_getcsr() | 0x8040); /* FTZ | DAZ */
#endif
}

static tf_status cpu_create(const tf_setup *su, void **impl, char *desc, size_t desc_len)
{
    /* TF_CPU_TILES=plain: the x-line tiles without the AVX2 transposes, as on a CPU without
     * them (4 x 4 SSE for float on x86-64, else element by element), for tests and
     * measurements; the same bits either way. */
    static const char *const tiles[] = {"auto", "plain"};
    int tile_choice = 0;
    TF_TRY(tf_env_choice("TF_CPU_TILES", tiles, 2, &tile_choice));
    flush_denormals();
    cpu_impl *c = calloc(1, sizeof *c);
    if (!c)
        return TF_ERROR(TF_ERR_NOMEM, "out of memory");
    c->su = su;
    c->g = su->g;
    c->par = su->par;
    const int threads = tf_omp_threads();
    c->nthreads = threads;
#ifdef TF_X_V3
    c->x_v3 = tile_choice == 0 && __builtin_cpu_supports("x86-64-v3");
#else
    (void)tile_choice;
#endif
#ifdef TF_X_V4
    c->x_v4 = __builtin_cpu_supports("x86-64-v4");
#endif
    int ok = (c->vessel = alloc_field(&c->g)) != NULL;
    ok = ok && (c->xbuf = calloc((size_t)threads, sizeof *c->xbuf)) != NULL;
    /* Zeroed: lanes beyond the last line of a short block are solved too and must be finite. */
    const size_t xbytes = ((size_t)(XW * c->g.n[0]) * sizeof(tf_real) + 63) / 64 * 64;
    for (int t = 0; t < threads && ok; ++t)
        if ((ok = (c->xbuf[t] = aligned_alloc(64, xbytes)) != NULL))
            memset(c->xbuf[t], 0, xbytes);
    for (int f = 0; f < TF_NFIELDS && ok; ++f) {
        ok = (c->f[f] = alloc_field(&c->g)) != NULL;
        if (ok && su->scheme == TF_SCHEME_EXPLICIT)
            ok = (c->next[f] = alloc_field(&c->g)) != NULL;
    }
    if (!ok) {
        const int nbuf = 1 + TF_NFIELDS * (su->scheme == TF_SCHEME_EXPLICIT ? 2 : 1);
        cpu_destroy(c);
        return TF_ERROR(TF_ERR_NOMEM, "cpu backend: cannot allocate %.3f GiB for the state",
                        (double)nbuf * (double)su->g.nalloc * sizeof(tf_real) / 1073741824.0);
    }
    tf_status st = par_setup(c);
    if (st == TF_OK)
        st = explicit_setup(c);
    if (st != TF_OK) {
        cpu_destroy(c);
        return st;
    }
    /* The threads the sweeps run on: one for a block under TF_CPU_PARALLEL_MIN_CELLS. */
    const int used = tf_cpu_threads(c->g.ncells);
    char note[64] = "";
    if (used < threads)
        snprintf(note, sizeof note, ": fewer than %d cells", TF_CPU_PARALLEL_MIN_CELLS);
    if (c->par->size > 1)
        snprintf(desc, desc_len,
                 "cpu (%d MPI processes as %dx%dx%d, %d OpenMP thread%s each%s, %s)",
                 c->par->size, c->par->dims[0], c->par->dims[1], c->par->dims[2], used,
                 used == 1 ? "" : "s", note, TF_REAL_NAME);
    else
        snprintf(desc, desc_len, "cpu (%d OpenMP thread%s%s, %s)", used, used == 1 ? "" : "s",
                 note, TF_REAL_NAME);
    *impl = c;
    return TF_OK;
}

static void flush_deferred(cpu_impl *c);

static tf_status cpu_set_state(void *impl, tf_real *const fields[TF_NFIELDS],
                               const tf_real *vessel)
{
    cpu_impl *c = impl;
    c->r2_pending = 0; /* they belonged to the state replaced here */
    c->step_pending = 0;
    c->x_packed = 0;
    const size_t bytes = sizeof(tf_real) * (size_t)c->g.nalloc;
    for (int f = 0; f < TF_NFIELDS; ++f)
        memcpy(c->f[f], fields[f], bytes);
    memcpy(c->vessel, vessel, bytes);
    return TF_OK;
}

static tf_status cpu_get_state(void *impl, tf_real *const fields[TF_NFIELDS], unsigned mask)
{
    cpu_impl *c = impl;
    flush_deferred(c);
    const size_t bytes = sizeof(tf_real) * (size_t)c->g.nalloc;
    for (int f = 0; f < TF_NFIELDS; ++f)
        if (mask & (1u << f))
            memcpy(fields[f], c->f[f], bytes);
    return TF_OK;
}

/* The ghost faces of one field selected by bit F of `faces` (all: TF_ALL_FACES), as
 * work-shared loops without barriers (orphaned `omp for nowait`): call from inside a parallel
 * region, or outside one for a single thread. The faces write disjoint ghost cells and read
 * only interior cells, so they need no ordering. */
#define TF_ALL_FACES ((1u << TF_NFACES) - 1)
#define TF_X_FACES ((1u << TF_FACE_XLO) | (1u << TF_FACE_XHI))

/* The x ghosts of one row of n cells (the row's first cell at row[0]): low and/or high. */
static inline void row_x_ghosts(const tf_bc bc[TF_NFACES], tf_real *row, tf_index n, int lo,
                                int hi)
{
    if (lo)
        row[-1] = tf_ghost_value(bc[TF_FACE_XLO].kind, (tf_real)bc[TF_FACE_XLO].value, row[0],
                                 row[n - 1]);
    if (hi)
        row[n] = tf_ghost_value(bc[TF_FACE_XHI].kind, (tf_real)bc[TF_FACE_XHI].value,
                                row[n - 1], row[0]);
}

static void ghost_faces(const tf_grid *g, const tf_bc bc[TF_NFACES], tf_real *a, unsigned faces)
{
    const tf_index nx = g->n[0], ny = g->n[1], nz = g->n[2];
    const int xl = faces >> TF_FACE_XLO & 1, xh = faces >> TF_FACE_XHI & 1;
    const int yl = faces >> TF_FACE_YLO & 1, yh = faces >> TF_FACE_YHI & 1;
    const int zl = faces >> TF_FACE_ZLO & 1, zh = faces >> TF_FACE_ZHI & 1;
    if (xl || xh) {
#pragma omp for schedule(static) nowait
        for (tf_index k = 0; k < nz; ++k)
            for (tf_index j = 0; j < ny; ++j)
                row_x_ghosts(bc, a + tf_at(g, 0, j, k), nx, xl, xh);
    }
    if (yl || yh) {
#pragma omp for schedule(static) nowait
        for (tf_index k = 0; k < nz; ++k)
            for (tf_index i = 0; i < nx; ++i) {
                tf_real *lo = a + tf_at(g, i, 0, k), *hi = a + tf_at(g, i, ny - 1, k);
                if (yl)
                    lo[-g->sy] = tf_ghost_value(bc[TF_FACE_YLO].kind,
                                                (tf_real)bc[TF_FACE_YLO].value, lo[0], hi[0]);
                if (yh)
                    hi[g->sy] = tf_ghost_value(bc[TF_FACE_YHI].kind,
                                               (tf_real)bc[TF_FACE_YHI].value, hi[0], lo[0]);
            }
    }
    if (zl || zh) {
#pragma omp for schedule(static) nowait
        for (tf_index j = 0; j < ny; ++j)
            for (tf_index i = 0; i < nx; ++i) {
                tf_real *lo = a + tf_at(g, i, j, 0), *hi = a + tf_at(g, i, j, nz - 1);
                if (zl)
                    lo[-g->sz] = tf_ghost_value(bc[TF_FACE_ZLO].kind,
                                                (tf_real)bc[TF_FACE_ZLO].value, lo[0], hi[0]);
                if (zh)
                    hi[g->sz] = tf_ghost_value(bc[TF_FACE_ZHI].kind,
                                               (tf_real)bc[TF_FACE_ZHI].value, hi[0], lo[0]);
            }
    }
}

void tf_fill_ghosts_host(const tf_grid *g, const tf_bc bc[TF_NFACES], tf_real *a)
{
#pragma omp parallel if (PAR(g))
    ghost_faces(g, bc, a, TF_ALL_FACES);
}

/* Row kernels. Each runs over one x-row (or a small block) with the six field pointers held in
 * restrict-qualified parameters, so the i-loop vectorises; on x86-64 GCC builds a copy for
 * AVX-512 and one for AVX2 beside the baseline and picks one at load time. The build uses
 * -std=c11 (no FMA contraction), so every copy does the same IEEE operations in the same order:
 * results do not depend on the copy chosen. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define TF_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TF_CLONES
#endif

/* Reaction sub-step over n consecutive cells (tf_react_voxel; dt is in s). */
TF_CLONES static void react_row(const tf_step_coeffs *s, tf_real *restrict f0,
                                tf_real *restrict f1, tf_real *restrict f2,
                                tf_real *restrict f3, tf_real *restrict f4,
                                tf_real *restrict f5, const tf_real *restrict v, tf_index n)
{
    const tf_step_coeffs cl = *s;
    for (tf_index i = 0; i < n; ++i) {
        tf_real u[TF_NFIELDS] = {f0[i], f1[i], f2[i], f3[i], f4[i], f5[i]};
        tf_react_voxel(&cl, u, v[i]);
        f0[i] = u[0];
        f1[i] = u[1];
        f2[i] = u[2];
        f3[i] = u[3];
        f4[i] = u[4];
        f5[i] = u[5];
    }
}

/* Reaction sub-step s on the cells of row (j, k). */
static void react_at(const cpu_impl *c, const tf_step_coeffs *s, tf_index j, tf_index k)
{
    tf_real *const *F = c->f;
    const tf_index p = tf_at(&c->g, 0, j, k);
    react_row(s, F[0] + p, F[1] + p, F[2] + p, F[3] + p, F[4] + p, F[5] + p, c->vessel + p,
              c->g.n[0]);
}

/* Reaction sub-step s over every interior cell. */
static void react(cpu_impl *c, const tf_step_coeffs *s)
{
    const tf_grid *g = &c->g;
#pragma omp parallel for num_threads(c->nthreads) collapse(2) schedule(static) if (PAR(g))
    for (tf_index k = 0; k < g->n[2]; ++k)
        for (tf_index j = 0; j < g->n[1]; ++j)
            react_at(c, s, j, k);
}

/* The Thomas sweeps of a transposed block of w rows (tile_in) over x_lanes(w) lanes, each
 * count a constant the compiler sees (vectorised without remainder loops); lanes >= w hold
 * finite leftovers (the buffer is zeroed at create) and are not copied back. */
#if defined(__GNUC__)
__attribute__((always_inline)) /* into each instruction-set copy of its callers */
#endif
static inline void thomas_x(const tf_line_factors *L, tf_real *buf, tf_index w)
{
    switch (x_lanes(w)) {
    case 16: tf_thomas_lines(L, buf, XW, 16); break;
    case 32: tf_thomas_lines(L, buf, XW, 32); break;
    case 64: tf_thomas_lines(L, buf, XW, 64); break;
    default: tf_thomas_lines(L, buf, XW, XW); break;
    }
}

/* x lines are solved up to XW at a time: rows j0..j0+w-1 of one plane are copied transposed
 * into buf (element i of row q at buf[i*XW + q]), tf_thomas_lines solves x_lanes(w) lanes with
 * the inner loop across the lines (thomas_x), and the w rows are copied back. Every line sees
 * the same operations in the same order as a line solved alone, so results do not depend on
 * the blocking.
 * buf: XW * n[0] elements.
 *
 * Copy a w x m tile: dst[i*XW + q] = src[q*sy + i] for q < w, i < m (in), or the reverse
 * (out). Full 4 x 4 blocks go through SSE registers (float builds on x86-64); where the CPU
 * has AVX2, tile_in_v3 and tile_out_v3 take the whole blocks first. */
static inline void tile_in(const tf_real *restrict src, tf_index sy, tf_real *restrict dst,
                           tf_index w, tf_index m)
{
    tf_index q0 = 0;
#if defined(TF_SSE_TRANSPOSE)
    for (; q0 + 4 <= w; q0 += 4) {
        /* The rows come from memory: ask for the next four while these are transposed (four
         * interleaved 1 KB rows are too short for the hardware prefetcher to run ahead). */
        const tf_real *next = q0 + 8 <= w ? src + (q0 + 4) * sy : NULL;
        tf_index i = 0;
        for (; i + 4 <= m; i += 4) {
            if (next && (i & 15) == 0)
                for (int r = 0; r < 4; ++r)
                    __builtin_prefetch(next + r * sy + i);
            __m128 r0 = _mm_loadu_ps(src + (q0 + 0) * sy + i);
            __m128 r1 = _mm_loadu_ps(src + (q0 + 1) * sy + i);
            __m128 r2 = _mm_loadu_ps(src + (q0 + 2) * sy + i);
            __m128 r3 = _mm_loadu_ps(src + (q0 + 3) * sy + i);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(dst + (i + 0) * XW + q0, r0);
            _mm_storeu_ps(dst + (i + 1) * XW + q0, r1);
            _mm_storeu_ps(dst + (i + 2) * XW + q0, r2);
            _mm_storeu_ps(dst + (i + 3) * XW + q0, r3);
        }
        for (; i < m; ++i)
            for (tf_index q = q0; q < q0 + 4; ++q)
                dst[i * XW + q] = src[q * sy + i];
    }
#endif
    for (tf_index q = q0; q < w; ++q)
        for (tf_index i = 0; i < m; ++i)
            dst[i * XW + q] = src[q * sy + i];
}

static inline void tile_out(const tf_real *restrict src, tf_real *restrict dst, tf_index sy,
                            tf_index w, tf_index m)
{
    tf_index q0 = 0;
#if defined(TF_SSE_TRANSPOSE)
    for (; q0 + 4 <= w; q0 += 4) {
        tf_index i = 0;
        for (; i + 4 <= m; i += 4) {
            __m128 r0 = _mm_loadu_ps(src + (i + 0) * XW + q0);
            __m128 r1 = _mm_loadu_ps(src + (i + 1) * XW + q0);
            __m128 r2 = _mm_loadu_ps(src + (i + 2) * XW + q0);
            __m128 r3 = _mm_loadu_ps(src + (i + 3) * XW + q0);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(dst + (q0 + 0) * sy + i, r0);
            _mm_storeu_ps(dst + (q0 + 1) * sy + i, r1);
            _mm_storeu_ps(dst + (q0 + 2) * sy + i, r2);
            _mm_storeu_ps(dst + (q0 + 3) * sy + i, r3);
        }
        for (; i < m; ++i)
            for (tf_index q = q0; q < q0 + 4; ++q)
                dst[q * sy + i] = src[i * XW + q];
    }
#endif
    for (tf_index q = q0; q < w; ++q)
        for (tf_index i = 0; i < m; ++i)
            dst[q * sy + i] = src[i * XW + q];
}

#ifdef TF_X_V3
/* The tiles through AVX2 transposes of B x B blocks (8 x 8 floats, 4 x 4 doubles), chosen at
 * create where the CPU has x86-64-v3 (c->x_v3). Each register is built from two 128-bit halves
 * loaded straight into place (half a row r and half a row r + B/2), then in-lane shuffles: two
 * rounds for floats (16 shuffles per 64 values), one for doubles (4 per 16). Both loops walk
 * along x outside and across the rows inside, so the transposed side is written (in) or read
 * (out) contiguously. On an AMD Zen 4 the float x stage runs as fast as with the 16 x 16
 * AVX-512 transposes used before and in half the time of the 4 x 4 SSE ones, the double one in
 * 0.18x the time of the element-by-element copy (bench/results/2026-11-28-cpu-ab-x-tiles-avx2.md,
 * sets 1-3). */
#define TF_V3 __attribute__((target("arch=x86-64-v3")))

#if defined(TF_DOUBLE)
enum { TB = 4 };

/* d[c*ds + r] = s[r*ss + c] for r, c < 4. */
TF_V3 static inline void transpose_block(const tf_real *restrict s, tf_index ss,
                                         tf_real *restrict d, tf_index ds)
{
    for (int h = 0; h < 4; h += 2) { /* columns h and h+1 of rows 0-3 */
        const __m256d a = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(s + h)),
                                               _mm_loadu_pd(s + 2 * ss + h), 1);
        const __m256d b = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(s + ss + h)),
                                               _mm_loadu_pd(s + 3 * ss + h), 1);
        _mm256_storeu_pd(d + h * ds, _mm256_unpacklo_pd(a, b));
        _mm256_storeu_pd(d + (h + 1) * ds, _mm256_unpackhi_pd(a, b));
    }
}
#else
enum { TB = 8 };

/* d[c*ds + r] = s[r*ss + c] for r, c < 8. */
TF_V3 static inline void transpose_block(const tf_real *restrict s, tf_index ss,
                                         tf_real *restrict d, tf_index ds)
{
    __m256 r[8];
    for (int q = 0; q < 4; ++q) { /* r[q]: rows q and q+4, columns 0-3; r[4+q]: columns 4-7 */
        r[q] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(s + q * ss)),
                                    _mm_loadu_ps(s + (q + 4) * ss), 1);
        r[4 + q] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(s + q * ss + 4)),
                                        _mm_loadu_ps(s + (q + 4) * ss + 4), 1);
    }
    for (int h = 0; h < 8; h += 4) {
        const __m256 t0 = _mm256_unpacklo_ps(r[h + 0], r[h + 1]);
        const __m256 t1 = _mm256_unpackhi_ps(r[h + 0], r[h + 1]);
        const __m256 t2 = _mm256_unpacklo_ps(r[h + 2], r[h + 3]);
        const __m256 t3 = _mm256_unpackhi_ps(r[h + 2], r[h + 3]);
        _mm256_storeu_ps(d + (h + 0) * ds, _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)));
        _mm256_storeu_ps(d + (h + 1) * ds, _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2)));
        _mm256_storeu_ps(d + (h + 2) * ds, _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)));
        _mm256_storeu_ps(d + (h + 3) * ds, _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2)));
    }
}
#endif

/* tile_in and tile_out in whole TB x TB blocks; the rows and columns past the last whole block
 * go through tile_in and tile_out. */
TF_V3 static void tile_in_v3(const tf_real *restrict src, tf_index sy, tf_real *restrict dst,
                             tf_index w, tf_index m)
{
    const tf_index wb = w / TB * TB, mb = m / TB * TB;
    for (tf_index i = 0; i < mb; i += TB)
        for (tf_index q = 0; q < wb; q += TB)
            transpose_block(src + q * sy + i, sy, dst + i * XW + q, XW);
    tile_in(src + mb, sy, dst + mb * XW, wb, m - mb);
    tile_in(src + wb * sy, sy, dst + wb, w - wb, m);
}

TF_V3 static void tile_out_v3(const tf_real *restrict src, tf_real *restrict dst, tf_index sy,
                              tf_index w, tf_index m)
{
    const tf_index wb = w / TB * TB, mb = m / TB * TB;
    for (tf_index i = 0; i < mb; i += TB)
        for (tf_index q = 0; q < wb; q += TB)
            transpose_block(src + i * XW + q, XW, dst + q * sy + i, sy);
    tile_out(src + mb * XW, dst + mb, sy, wb, m - mb);
    tile_out(src + wb, dst + wb * sy, sy, w - wb, m);
}
#endif

/* The w rows at `rows` into the tile buf (TILE_IN: tile_in) or back (TILE_OUT: tile_out),
 * through the fastest transposes this CPU has. */
enum tile_way { TILE_IN, TILE_OUT };
static void tile_move(const cpu_impl *c, enum tile_way way, tf_real *rows, tf_index sy,
                      tf_real *buf, tf_index w, tf_index m)
{
#ifdef TF_X_V3
    if (c->x_v3) {
        if (way == TILE_IN)
            tile_in_v3(rows, sy, buf, w, m);
        else
            tile_out_v3(buf, rows, sy, w, m);
        return;
    }
#endif
    (void)c;
    if (way == TILE_IN)
        tile_in(rows, sy, buf, w, m);
    else
        tile_out(buf, rows, sy, w, m);
}

/* The Thomas sweeps of a tile of w lines (thomas_x), in each instruction-set copy. */
TF_CLONES static void solve_tile(const tf_line_factors *L, tf_real *buf, tf_index w)
{
    thomas_x(L, buf, w);
}

/* count lines of stride `stride` (y or z lines of one plane or slab), tf_thomas_lines. */
TF_CLONES static void solve_lines(const tf_line_factors *L, tf_real *a, tf_index stride,
                                  tf_index count)
{
    tf_thomas_lines(L, a, stride, count);
}

/* Line solves along z ask for their rows ahead of the sweep. Consecutive rows of a z line
 * lie a plane apart, runs of count values (1 KB at 256 floats) too short for the hardware
 * prefetcher to get ahead of the loads: on the Intel Xeon of 2026-11-29 the z pass moved its
 * bytes at about half the speed of memcpy without this (docs/performance.md, tuning table).
 * forward_ahead and backward_ahead are tf_thomas_forward and tf_thomas_backward over rows
 * g0 .. g0+m-1 (same arguments) in slices of Z_SLICE rows, each slice first asking for the
 * rows Z_AHEAD further on in the sweep's direction. The slices do the same operations in the
 * same order as one call (tf_model.h), so the results are the same bits. */
enum { Z_SLICE = 2, Z_AHEAD = 16 };

static inline void prefetch_row(const tf_real *row, tf_index count)
{
    for (tf_index q = 0; q < count; q += 64 / (tf_index)sizeof(tf_real))
        __builtin_prefetch(row + q, 1, 3);
}

TF_CLONES static void forward_ahead(const tf_line_factors *L, tf_real *u, tf_index stride,
                                    tf_index count, tf_index g0, tf_index m,
                                    const tf_real *prev, tf_real *last)
{
    for (tf_index i0 = 0; i0 < m; i0 += Z_SLICE) {
        const tf_index i1 = m - i0 < Z_SLICE ? m : i0 + Z_SLICE;
        for (tf_index r = i0 + Z_AHEAD; r < i1 + Z_AHEAD && r < m; ++r)
            prefetch_row(u + r * stride, count);
        if (last) /* tf_thomas_forward_last: u stays as it is */
            tf_thomas_forward_last(L, u + i0 * stride, stride, count, g0 + i0, i1 - i0,
                                   i0 > 0 ? last : prev, last);
        else
            tf_thomas_forward(L, u + i0 * stride, stride, count, g0 + i0, i1 - i0,
                              i0 > 0 ? u + (i0 - 1) * stride : prev);
    }
}

TF_CLONES static void backward_ahead(const tf_line_factors *L, tf_real *u, tf_index stride,
                                     tf_index count, tf_index g0, tf_index m,
                                     const tf_real *next)
{
    for (tf_index i1 = m; i1 > 0; i1 -= Z_SLICE) {
        const tf_index i0 = i1 < Z_SLICE ? 0 : i1 - Z_SLICE;
        for (tf_index r = i0 - Z_AHEAD; r < i1 - Z_AHEAD; ++r)
            if (r >= 0)
                prefetch_row(u + r * stride, count);
        tf_thomas_backward(L, u + i0 * stride, stride, count, g0 + i0, i1 - i0,
                           i1 < m ? u + i1 * stride : next);
    }
}

/* The z lines of one row (row i of line q at u[i * stride + q]): tf_thomas_lines, its sweeps
 * asking for rows ahead. */
static void solve_lines_z(const tf_line_factors *L, tf_real *u, tf_index stride,
                          tf_index count)
{
    const tf_index n = L->n;
    forward_ahead(L, u, stride, count, 0, n, NULL, NULL);
    backward_ahead(L, u, stride, count, 0, n, NULL);
    if (L->periodic)
        tf_thomas_periodic(L, u, stride, count, 0, n, u, u + (n - 1) * stride);
}

/* The x lines of block b (rows XW b .. XW b + w - 1) of plane k of array a. */
static void x_block(const cpu_impl *c, const tf_line_factors *L, tf_real *a, tf_index k,
                    tf_index b, tf_real *buf)
{
    const tf_grid *g = &c->g;
    const tf_index j0 = b * XW, w = g->n[1] - j0 < XW ? g->n[1] - j0 : XW;
    tf_real *blk = a + tf_at(g, 0, j0, k);
    tile_move(c, TILE_IN, blk, g->sy, buf, w, g->n[0]);
    solve_tile(L, buf, w);
    tile_move(c, TILE_OUT, blk, g->sy, buf, w, g->n[0]);
}

/* Backward-Euler diffusion along direction d of every field (tf_thomas_lines). x lines go
 * through x_block; y and z lines are solved a whole x-row at a time, so the inner loops
 * run over contiguous memory. One parallel region per direction; the fields are independent,
 * so their work-shared loops run back to back without barriers (nowait). */
static void diffuse(cpu_impl *c, int d)
{
    const tf_grid *g = &c->g;
    const tf_index nx = g->n[0], ny = g->n[1], nz = g->n[2];
    const tf_index nb = (ny + XW - 1) / XW;
#pragma omp parallel num_threads(c->nthreads) if (PAR(g))
    {
        tf_real *buf = c->xbuf[thread_id()];
        for (int f = 0; f < TF_NFIELDS; ++f) {
            const tf_line_factors *L = &c->su->lines[f][d];
            if (tf_line_identity(L))
                continue;
            tf_real *a = c->f[f];
            if (d == 0) {
#pragma omp for collapse(2) schedule(static) nowait
                for (tf_index k = 0; k < nz; ++k)
                    for (tf_index b = 0; b < nb; ++b)
                        x_block(c, L, a, k, b, buf);
            } else if (d == 1) {
#pragma omp for schedule(static) nowait
                for (tf_index k = 0; k < nz; ++k)
                    solve_lines(L, a + tf_at(g, 0, 0, k), g->sy, nx);
            } else {
#pragma omp for schedule(static) nowait
                for (tf_index j = 0; j < ny; ++j)
                    solve_lines_z(L, a + tf_at(g, 0, j, 0), g->sz, nx);
            }
        }
    }
}

/* Forward Euler over n consecutive cells from the padded fields F into N (tf_nbr6_z,
 * tf_explicit_voxel): the rows before and after a cell are sy elements away, the planes below
 * and above zm before and zp after (both sz in a padded array, not in the ring of "Explicit
 * steps in pairs"). */
TF_CLONES static void explicit_row(const tf_step_coeffs *s, const tf_explicit_dif *e,
                                   const tf_real *restrict F0, const tf_real *restrict F1,
                                   const tf_real *restrict F2, const tf_real *restrict F3,
                                   const tf_real *restrict F4, const tf_real *restrict F5,
                                   tf_real *restrict N0, tf_real *restrict N1,
                                   tf_real *restrict N2, tf_real *restrict N3,
                                   tf_real *restrict N4, tf_real *restrict N5,
                                   const tf_real *restrict v, tf_index n, tf_index sy,
                                   tf_index zm, tf_index zp)
{
    const tf_step_coeffs cl = *s;
    const tf_explicit_dif el = *e;
    for (tf_index i = 0; i < n; ++i) {
        const tf_real u[TF_NFIELDS] = {F0[i], F1[i], F2[i], F3[i], F4[i], F5[i]};
        const tf_real nbr[TF_NFIELDS] = {
            tf_nbr6_z(F0, i, sy, zm, zp), tf_nbr6_z(F1, i, sy, zm, zp),
            tf_nbr6_z(F2, i, sy, zm, zp), tf_nbr6_z(F3, i, sy, zm, zp),
            tf_nbr6_z(F4, i, sy, zm, zp), tf_nbr6_z(F5, i, sy, zm, zp)};
        tf_real out[TF_NFIELDS];
        tf_explicit_voxel(&cl, &el, u, nbr, v[i], out);
        N0[i] = out[0];
        N1[i] = out[1];
        N2[i] = out[2];
        N3[i] = out[3];
        N4[i] = out[4];
        N5[i] = out[5];
    }
}

/* The x ghosts of row (j, k), at p in the arrays F, of all six fields: from the boundary
 * condition where the x face is local, else from the layer the x neighbour sent (face_in, laid
 * out as face_copy does). */
static void row_x_ghosts_all(const cpu_impl *c, tf_real *const *F, tf_index p, tf_index j,
                             tf_index k)
{
    const tf_grid *g = &c->g;
    const tf_index nx = g->n[0], q = j + k * g->n[1], cells = g->n[1] * g->n[2];
    for (int f = 0; f < TF_NFIELDS; ++f) {
        const int lo = c->local_faces[f] >> TF_FACE_XLO & 1;
        const int hi = c->local_faces[f] >> TF_FACE_XHI & 1;
        tf_real *row = F[f] + p;
        row_x_ghosts(c->su->bcs.bc[f], row, nx, lo, hi);
        if (!lo)
            row[-1] = c->face_in[TF_FACE_XLO][f * cells + q];
        if (!hi)
            row[nx] = c->face_in[TF_FACE_XHI][f * cells + q];
    }
}

/* Forward Euler over the box lo[d] <= (i, j, k) < hi[d] of interior cells, called from inside
 * a parallel region. Each thread takes the static share of the box's z-planes (the share it
 * first touched when the box is the whole block) and walks it in j-tiles of tile_rows rows
 * (explicit_tile_rows), k inside a tile, so the three planes of the stencil of the tile
 * (3 x (tile_rows + 2) rows x 6 fields) stay in L2 while k advances. Writes only next[] (and
 * with x_ghosts the x ghosts of the box's own rows, which only those rows read), so boxes need
 * no barrier between them.
 * x_ghosts: the box spans whole rows: fill each row's x ghosts of all six fields just before
 * the row is updated, instead of in a pass of their own (which touches two more cache lines per
 * row and field): from the boundary condition where the face is local, else from the layer
 * received from the neighbouring rank (face_in, which must have arrived). Where x is cut, each
 * updated row also leaves its two end values in face_out's x layers, which the next step sends
 * without a packing pass (x_packed; the previous x messages must have completed). */
static void explicit_box(cpu_impl *c, const tf_coeffs *co, const tf_index lo[3],
                         const tf_index hi[3], int x_ghosts)
{
    if (hi[0] <= lo[0] || hi[1] <= lo[1] || hi[2] <= lo[2])
        return;
    const tf_grid *g = &c->g;
    const tf_real dt = (tf_real)c->su->dt;
    tf_real *const *F = c->f;
    tf_real *const *N = c->next;
    const tf_real *v = c->vessel;
    const tf_index sy = g->sy, sz = g->sz, nx = hi[0] - lo[0];
    const tf_index ny = g->n[1], cells = g->n[1] * g->n[2];
    const int pack_x = cut(c, 0); /* explicit_step_par with x cut: whole rows */
    const tf_step_coeffs s = tf_coeffs_step(co, dt);
    const tf_explicit_dif e = tf_explicit_dif_make(c->su->dif, dt);
    tf_index k0 = 0, k1 = 0;
    static_share(hi[2] - lo[2], &k0, &k1);
    const tf_index J = c->tile_rows;
    for (tf_index j0 = lo[1]; j0 < hi[1]; j0 += J) {
        const tf_index j1 = j0 + J < hi[1] ? j0 + J : hi[1];
        for (tf_index k = lo[2] + k0; k < lo[2] + k1; ++k)
            for (tf_index j = j0; j < j1; ++j) {
                const tf_index p = tf_at(g, lo[0], j, k);
                if (x_ghosts)
                    row_x_ghosts_all(c, F, p, j, k);
                explicit_row(&s, &e, F[0] + p, F[1] + p, F[2] + p, F[3] + p, F[4] + p,
                             F[5] + p, N[0] + p, N[1] + p, N[2] + p, N[3] + p, N[4] + p,
                             N[5] + p, v + p, nx, sy, sz, sz);
                if (pack_x) /* the next step's x layers, while the row is in cache */
                    for (int f = 0; f < TF_NFIELDS; ++f) {
                        c->face_out[TF_FACE_XLO][f * cells + j + k * ny] = N[f][p];
                        c->face_out[TF_FACE_XHI][f * cells + j + k * ny] = N[f][p + nx - 1];
                    }
            }
    }
}

static void swap_next(cpu_impl *c)
{
    for (int f = 0; f < TF_NFIELDS; ++f) {
        tf_real *t = c->f[f];
        c->f[f] = c->next[f];
        c->next[f] = t;
    }
}

/* One explicit step on one process: y and z ghosts of all six fields, one barrier, the whole
 * block with the x ghosts filled row by row (a step costs two synchronisations, which matters
 * when the cores are shared and a waiting thread may have been descheduled). Returns when the
 * y and z ghosts were filled: the ghosts/explicit stage split. */
static double explicit_step(cpu_impl *c, const tf_coeffs *co)
{
    double ghosts_done = 0.0;
    const tf_grid *g = &c->g;
    const tf_index lo[3] = {0, 0, 0};
#pragma omp parallel num_threads(c->nthreads) if (PAR(g))
    {
        for (int f = 0; f < TF_NFIELDS; ++f)
            ghost_faces(g, c->su->bcs.bc[f], c->f[f], TF_ALL_FACES & ~TF_X_FACES);
#pragma omp barrier
#pragma omp master
        ghosts_done = tf_wtime();
        explicit_box(c, co, lo, g->n, 1);
    }
    swap_next(c);
    return ghosts_done;
}

/* ---- Explicit steps in pairs ----
 *
 * On one process (no direction cut) two explicit steps take one pass over memory instead of
 * two: a step waits for the next (cpu_step keeps its coefficients), and the pair runs as one
 * sweep over each thread's planes in j-tiles of tile_rows rows (explicit_tile_rows: as many as
 * keep the tile's working set in L2), k inside a tile. Per plane kk of
 * the sweep, the first step's values of the tile's rows and the two rows beside them
 * (j0 - 1 .. j1) go into a per-thread ring of three planes (pair_mid_row, with their x ghosts,
 * and at the block's faces the ghost values the second step reads); then the second step
 * updates plane kk - 1 of the tile from the ring (explicit_row with the ring's plane offsets)
 * into next[]. The ring (6 fields, 3 planes, J + 2 rows: 350 KB for 16 rows at n_x = 256)
 * stays in L2, so a pair reads the state and the vessel map and writes the new state once:
 * 13 arrays for two steps, against 13 (19 with write-allocate) for each step alone. The
 * first step's rows beside a tile, and the planes beside a thread's share, are computed by
 * both tiles or threads that read them: 2 of every J rows, 6% more arithmetic per pair at 16
 * rows, 3% at 32.
 *
 * Every cell of both steps sees the operations of a single step in the same order (the same
 * row kernel; a ghost value is tf_ghost_value of the first step's values at the cells a single
 * step's ghost fill would read), so the results are the same bits as two single steps
 * (tests/test_cpu_explicit.c compares them with a plain loop). A step left waiting when
 * anything reads the state (get_state, diagnostics, check_state, flush) runs alone first
 * (flush_deferred). Measured: docs/performance.md, "Explicit steps in pairs".
 *
 * Data races: the state's x ghosts of a row are read only by that row's first step. A
 * thread's first and last planes are also read by its neighbours' halo planes, and the faces'
 * source planes (0 and n_z - 1, for the z ghosts of a periodic or walled face) by the first
 * and the last thread, so those planes' x ghosts are filled before the barrier; the planes
 * strictly inside a thread's share are touched by it alone, and it fills their x ghosts just
 * before it reads a row (as explicit_box does). */
/* A ring larger than this would not stay in cache: such grids run their explicit steps one at
 * a time. With the 8-row tiles explicit_tile_rows gives rows of a few thousand cells, that is
 * rows of more than about 22,000 cells in float, 11,000 in double (12,000 and 6,000 at 16
 * rows). */
static const size_t PAIR_RING_MAX = (size_t)16 << 20;

/* One thread's ring: 6 fields x 3 planes x `rows` rows (a tile's rows and one beside it on each
 * side), then 6 scratch rows (the first step's rows opposite a periodic face; the second step's
 * rows before they are streamed out), laid out as a padded array's rows (tf_grid.h). */
typedef struct {
    tf_real *base;
    tf_index sy, rows;
} pair_ring;

static size_t ring_elements(tf_index sy, tf_index rows)
{
    return (size_t)((3 * rows + 1) * TF_NFIELDS) * (size_t)sy + TF_ROW_ALIGN;
}

/* Row r (row j0 - 1 + r of the tile) of field f in ring plane `slot`; plane kk of the sweep
 * lives in slot (kk + 3) % 3 (kk >= -1). */
static tf_real *ring_row(const pair_ring *R, int f, int slot, tf_index r)
{
    return R->base + TF_ROW_ALIGN + ((tf_index)(3 * f + slot) * R->rows + r) * R->sy;
}

/* Scratch row f. */
static tf_real *ring_scratch(const pair_ring *R, int f)
{
    return R->base + TF_ROW_ALIGN + (3 * TF_NFIELDS * R->rows + f) * R->sy;
}

static int ring_slot(tf_index kk) { return (int)((kk + 3) % 3); }

/* The first step of the state's row (j, k), interior, into the rows out[f]; fill_x: fill the
 * row's x ghosts first (only the thread that alone touches the row may). */
static void pair_first_row(cpu_impl *c, const tf_step_coeffs *s, const tf_explicit_dif *e,
                           tf_index j, tf_index k, int fill_x, tf_real *const out[TF_NFIELDS])
{
    const tf_grid *g = &c->g;
    tf_real *const *F = c->f;
    const tf_index p = tf_at(g, 0, j, k), nx = g->n[0];
    if (fill_x)
        row_x_ghosts_all(c, F, p, j, k);
    explicit_row(s, e, F[0] + p, F[1] + p, F[2] + p, F[3] + p, F[4] + p, F[5] + p, out[0],
                 out[1], out[2], out[3], out[4], out[5], c->vessel + p, nx, g->sy, g->sz,
                 g->sz);
}

/* The first step's values at row j, plane kk of the block into ring row r of plane `slot`,
 * -1 <= j <= n_y and -1 <= kk <= n_z, at most one of them outside the block. Interior: the
 * row's update, then its x ghosts. At a y or z face: the ghost values a single step's fill
 * would give the first step's values, tf_ghost_value of the updates of the inner row (and, where
 * a field is periodic on that face, of the opposite one). [ka, kb): this thread's planes. */
static void pair_mid_row(cpu_impl *c, const tf_step_coeffs *s, const tf_explicit_dif *e,
                         const pair_ring *R, int slot, tf_index r, tf_index j, tf_index kk,
                         tf_index ka, tf_index kb)
{
    const tf_grid *g = &c->g;
    const tf_index nx = g->n[0];
    const tf_bc(*bc)[TF_NFACES] = c->su->bcs.bc;
    tf_real *out[TF_NFIELDS], *opp[TF_NFIELDS];
    for (int f = 0; f < TF_NFIELDS; ++f)
        out[f] = ring_row(R, f, slot, r);
    const int face = j < 0            ? TF_FACE_YLO
                   : j >= g->n[1]     ? TF_FACE_YHI
                   : kk < 0           ? TF_FACE_ZLO
                   : kk >= g->n[2]    ? TF_FACE_ZHI
                                      : -1;
#define PAIR_OWN(k) (ka < (k) && (k) < kb - 1) /* planes this thread alone touches */
    if (face < 0) {
        pair_first_row(c, s, e, j, kk, PAIR_OWN(kk), out);
        for (int f = 0; f < TF_NFIELDS; ++f)
            row_x_ghosts(bc[f], out[f], nx, 1, 1);
        return;
    }
    const int d = face / 2, hi = face & 1;
    const tf_index inner = hi ? g->n[d] - 1 : 0, opposite = hi ? 0 : g->n[d] - 1;
    const tf_index ji = d == 1 ? inner : j, ki = d == 1 ? kk : inner;
    pair_first_row(c, s, e, ji, ki, PAIR_OWN(ki), out);
    int periodic = 0;
    for (int f = 0; f < TF_NFIELDS; ++f) {
        periodic |= bc[f][face].kind == TF_BC_PERIODIC;
        opp[f] = out[f];
    }
    if (periodic) {
        for (int f = 0; f < TF_NFIELDS; ++f)
            opp[f] = ring_scratch(R, f);
        const tf_index jo = d == 1 ? opposite : j, ko = d == 1 ? kk : opposite;
        pair_first_row(c, s, e, jo, ko, PAIR_OWN(ko), opp);
    }
#undef PAIR_OWN
    for (int f = 0; f < TF_NFIELDS; ++f) {
        const tf_bc_kind kind = bc[f][face].kind;
        const tf_real wall = (tf_real)bc[f][face].value;
        for (tf_index i = 0; i < nx; ++i)
            out[f][i] = tf_ghost_value(kind, wall, out[f][i], opp[f][i]);
    }
}

#ifdef TF_X_V4
#define TF_V4 __attribute__((target("arch=x86-64-v4")))

/* n values from src to dst with non-temporal stores, which write dst's cache lines without
 * reading them first (no write-allocate), as memcpy does for large copies; both 64-byte
 * aligned; the caller fences (_mm_sfence) before other threads may read dst. */
TF_V4 static void stream_row_v4(tf_real *restrict dst, const tf_real *restrict src, tf_index n)
{
    tf_index i = 0;
#if defined(TF_DOUBLE)
    for (; i + 8 <= n; i += 8)
        _mm512_stream_pd(dst + i, _mm512_load_pd(src + i));
#else
    for (; i + 16 <= n; i += 16)
        _mm512_stream_ps(dst + i, _mm512_load_ps(src + i));
#endif
    for (; i < n; ++i)
        dst[i] = src[i];
}
#endif

/* Both steps of a pair over the tile of rows [j0, j1) and the planes [ka, kb). */
static void pair_tile(cpu_impl *c, const tf_step_coeffs *s0, const tf_step_coeffs *s1,
                      const tf_explicit_dif *e, const pair_ring *R, tf_index j0, tf_index j1,
                      tf_index ka, tf_index kb)
{
    const tf_grid *g = &c->g;
    const tf_index nx = g->n[0], ny = g->n[1], nz = g->n[2], sy = g->sy;
    const tf_index plane = R->rows * sy;
    tf_real *const *N = c->next;
    for (tf_index kk = ka - 1; kk <= kb; ++kk) {
        const int top = ring_slot(kk);
        const int zface = kk < 0 || kk >= nz;
        for (tf_index j = j0 - 1; j <= j1; ++j)
            if (!(zface && (j < 0 || j >= ny))) /* edges: no 7-point stencil reads them */
                pair_mid_row(c, s0, e, R, top, j - j0 + 1, j, kk, ka, kb);
        const tf_index k = kk - 1; /* the plane the second step can now update */
        if (k < ka)
            continue;
        const int mid = ring_slot(k), low = ring_slot(k - 1);
        const tf_index zm = (mid - low) * plane, zp = (top - mid) * plane;
        /* With AVX-512 the second step writes each row into the scratch rows (L1) and
         * streams them to next[]: no write-allocate reads of the six new rows, which only
         * the next step reads (docs/performance.md, "Explicit steps in pairs"). */
        const int stream = c->x_v4;
        for (tf_index j = j0; j < j1; ++j) {
            const tf_index r = j - j0 + 1, p = tf_at(g, 0, j, k);
            tf_real *out[TF_NFIELDS];
            for (int f = 0; f < TF_NFIELDS; ++f)
                out[f] = stream ? ring_scratch(R, f) : N[f] + p;
            explicit_row(s1, e, ring_row(R, 0, mid, r), ring_row(R, 1, mid, r),
                         ring_row(R, 2, mid, r), ring_row(R, 3, mid, r), ring_row(R, 4, mid, r),
                         ring_row(R, 5, mid, r), out[0], out[1], out[2], out[3], out[4], out[5],
                         c->vessel + p, nx, sy, zm, zp);
#ifdef TF_X_V4
            if (stream)
                for (int f = 0; f < TF_NFIELDS; ++f)
                    stream_row_v4(N[f] + p, out[f], nx);
#endif
        }
#ifdef TF_X_V4
        if (stream)
            _mm_sfence();
#endif
    }
}

/* The rows of the explicit step's j-tiles: the most, in steps of TILE_ROWS_STEP up to
 * TILE_ROWS_MAX, whose working set as a pair's tile fits TILE_L2_SHARE of a core's L2
 * (sysconf; TILE_ROWS_UNKNOWN where the C library does not know it), at least TILE_ROWS_STEP.
 * A pair's tile of J rows works on its ring (6 fields x 3 planes x (J + 2) rows, 6 scratch
 * rows) and on the state's three planes of its J + 4 rows and one plane of the vessel map:
 * 37 J + 116 rows of sy values. Taller tiles recompute fewer rows (2 of every J) and give the
 * hardware prefetcher longer runs, until the working set leaves L2: at n_x = 256 in float the
 * rule gives 32 rows on a 2 MiB L2 (Intel Xeon, model 167) and 16 on a 1 MiB one (AMD Zen 4),
 * the fastest height measured on each, for pairs and for single steps alike (whose tile, the
 * state's three planes of J + 2 rows, the vessel map's and the new rows, 25 J + 36 rows,
 * fits wherever a pair's does; docs/performance.md, tuning table). */
enum { TILE_ROWS_STEP = 8, TILE_ROWS_MAX = 64, TILE_ROWS_UNKNOWN = 16 };
static const double TILE_L2_SHARE = 0.75;

static tf_index explicit_tile_rows(tf_index sy)
{
    long l2 = -1;
#ifdef _SC_LEVEL2_CACHE_SIZE
    l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    if (l2 <= 0)
        return TILE_ROWS_UNKNOWN;
    const double row = (double)sy * sizeof(tf_real), room = TILE_L2_SHARE * (double)l2;
    tf_index rows = TILE_ROWS_STEP;
    while (rows + TILE_ROWS_STEP <= TILE_ROWS_MAX &&
           (37.0 * (double)(rows + TILE_ROWS_STEP) + 116.0) * row <= room)
        rows += TILE_ROWS_STEP;
    return rows;
}

/* The explicit step's tiles (explicit_tile_rows, or TF_CPU_TILE_ROWS=N for tests and
 * measurements: the same bits for any N), and its steps in pairs on one process (or cut along
 * no direction) unless TF_CPU_EXPLICIT=single (for measurements: the same bits either way) or
 * the ring would pass PAIR_RING_MAX: one ring per thread, zeroed. Any scheme refuses a
 * TF_CPU_EXPLICIT or TF_CPU_TILE_ROWS it does not take. */
static tf_status explicit_setup(cpu_impl *c)
{
    static const char *const names[] = {"pairs", "single"};
    int choice = 0;
    TF_TRY(tf_env_choice("TF_CPU_EXPLICIT", names, 2, &choice)); /* checked for every scheme */
    long rows = 0;
    TF_TRY(tf_env_long("TF_CPU_TILE_ROWS", 1, 4096, &rows));
    c->tile_rows = rows > 0 ? (tf_index)rows : explicit_tile_rows(c->g.sy);
    c->ring_rows = (c->g.n[1] < c->tile_rows ? c->g.n[1] : c->tile_rows) + 2;
    const size_t bytes = ring_elements(c->g.sy, c->ring_rows) * sizeof(tf_real);
    if (c->su->scheme != TF_SCHEME_EXPLICIT || any_cut(c) || choice != 0 ||
        bytes > PAIR_RING_MAX)
        return TF_OK;
    if (!(c->ring = calloc((size_t)c->nthreads, sizeof *c->ring)))
        return TF_ERROR(TF_ERR_NOMEM, "out of memory");
    for (int t = 0; t < c->nthreads; ++t) {
        if (!(c->ring[t] = aligned_alloc(64, (bytes + 63) / 64 * 64)))
            return TF_ERROR(TF_ERR_NOMEM, "cpu backend: cannot allocate %.1f MiB per thread "
                                          "for the explicit steps in pairs",
                            (double)bytes / 1048576.0);
        memset(c->ring[t], 0, bytes);
    }
    return TF_OK;
}

/* Two explicit steps on one process, the first with c0, the second with c1 (see above).
 * Returns when the ghosts were filled: the ghosts/explicit stage split. */
static double explicit_pair(cpu_impl *c, const tf_coeffs *c0, const tf_coeffs *c1)
{
    double ghosts_done = 0.0;
    const tf_grid *g = &c->g;
    const tf_index ny = g->n[1], nz = g->n[2];
    const tf_real dt = (tf_real)c->su->dt;
    const tf_step_coeffs s0 = tf_coeffs_step(c0, dt), s1 = tf_coeffs_step(c1, dt);
    const tf_explicit_dif e = tf_explicit_dif_make(c->su->dif, dt);
#pragma omp parallel num_threads(c->nthreads) if (PAR(g))
    {
        tf_index ka = 0, kb = 0;
        static_share(nz, &ka, &kb);
        for (int f = 0; f < TF_NFIELDS; ++f)
            ghost_faces(g, c->su->bcs.bc[f], c->f[f], TF_ALL_FACES & ~TF_X_FACES);
        /* The x ghosts of this thread's first and last planes, which others read (above). */
        const tf_index edge[2] = {ka, kb - 1};
        for (int q = 0; q < (kb - ka > 1 ? 2 : kb - ka); ++q)
            for (tf_index j = 0; j < ny; ++j)
                row_x_ghosts_all(c, c->f, tf_at(g, 0, j, edge[q]), j, edge[q]);
#pragma omp barrier
#pragma omp master
        ghosts_done = tf_wtime();
        const pair_ring R = {c->ring[thread_id()], g->sy, c->ring_rows};
        if (ka < kb)
            for (tf_index j0 = 0; j0 < ny; j0 += c->tile_rows)
                pair_tile(c, &s0, &s1, &e, &R, j0, j0 + c->tile_rows < ny ? j0 + c->tile_rows : ny,
                          ka, kb);
    }
    swap_next(c);
    return ghosts_done;
}

/* ---- Across ranks ----
 *
 * A decomposed grid (tf_par.h) has neighbours across some faces. The explicit step receives
 * their boundary layers into its ghost cells (message tags: the sender's face), overlapping the
 * messages with the cells that do not need them. The LOD line solves along a cut direction run
 * the Thomas sweeps of tf_model.h over each rank's slice of the lines with the factors of the
 * whole line: the forward sweep passes the last eliminated plane from rank to rank along +d, the
 * back substitution the first solved plane along -d, both pipelined in chunks of planes so that
 * ranks overlap, and periodic lines share their two end planes along the line. Every line sees
 * the operations of a one-process solve in the same order, so the result is the same bits. */

enum { TAG_FACE = 100, TAG_FORWARD = 110, TAG_BACKWARD = 120 };

/* Cells of the plane of face direction d, layer by layer: x faces (j, k), y faces (i, k),
 * z faces (i, j), first index fastest. */
static tf_index face_cells(const tf_grid *g, int d)
{
    return d == 0 ? g->n[1] * g->n[2] : g->n[0] * (d == 1 ? g->n[2] : g->n[1]);
}

/* Copy layer `layer` (-1 .. n[d]) of direction d of a to buf (to_buf) or buf to it. */
static void face_copy(const tf_grid *g, tf_real *a, int d, tf_index layer, tf_real *buf,
                      int to_buf)
{
    const tf_index nx = g->n[0], ny = g->n[1], nz = g->n[2];
    if (d == 0) {
        for (tf_index k = 0; k < nz; ++k)
            for (tf_index j = 0; j < ny; ++j) {
                tf_real *e = a + tf_at(g, layer, j, k), *b = buf + j + k * ny;
                if (to_buf)
                    *b = *e;
                else
                    *e = *b;
            }
        return;
    }
    const tf_index outer = d == 1 ? nz : ny;
    for (tf_index o = 0; o < outer; ++o) {
        tf_real *e = a + (d == 1 ? tf_at(g, 0, layer, o) : tf_at(g, 0, o, layer));
        tf_real *b = buf + o * nx;
        if (to_buf)
            memcpy(b, e, sizeof(tf_real) * (size_t)nx);
        else
            memcpy(e, b, sizeof(tf_real) * (size_t)nx);
    }
}

/* Whether direction d is cut between ranks. */
static int cut(const cpu_impl *c, int d) { return c->par->dims[d] > 1; }

/* The planes of line ends of the LOD solves along d: line (a, b) of the plane, a fastest,
 * x lines (j, k) with j padded to the lanes of its XW blocks (x_lanes), y lines (i, k), z
 * lines (i, j). A buffer holds, per outer index b, the six fields' planes: element
 * (b * TF_NFIELDS + f) * A + a, so a chunk of b is contiguous. */
static void line_plane(const cpu_impl *c, int d, tf_index *A, tf_index *B)
{
    const tf_grid *g = &c->g;
    const tf_index ny = g->n[1], jl = (ny - 1) / XW * XW; /* the last x block's first row */
    *A = d == 0 ? jl + x_lanes(ny - jl) : g->n[0];
    *B = d == 2 ? g->n[1] : g->n[2];
}

enum { EDGE_PREV, EDGE_NEXT, EDGE_SEND_FWD, EDGE_SEND_BWD, EDGE_FIRST, EDGE_LAST };

static tf_status par_setup(cpu_impl *c)
{
    const tf_grid *g = &c->g;
    tf_par *par = c->par;
    for (int f = 0; f < TF_NFIELDS; ++f) {
        c->local_faces[f] = 0;
        for (int q = 0; q < TF_NFACES; ++q) {
            const int d = q / 2;
            const int edge = (q & 1) ? par->coords[d] == par->dims[d] - 1 : par->coords[d] == 0;
            const int periodic = c->su->bcs.bc[f][q].kind == TF_BC_PERIODIC;
            if (!cut(c, d) || (edge && !periodic))
                c->local_faces[f] |= 1u << q;
        }
    }
    size_t plane = 0;
    for (int d = 0; d < 3; ++d) {
        if (!cut(c, d))
            continue;
        const size_t face = (size_t)face_cells(g, d) * TF_NFIELDS;
        for (int q = 2 * d; q < 2 * d + 2; ++q)
            if (!(c->face_out[q] = calloc(face, sizeof(tf_real))) ||
                !(c->face_in[q] = calloc(face, sizeof(tf_real))))
                return TF_ERROR(TF_ERR_NOMEM, "cpu backend: out of memory for halo buffers");
        tf_index A, B;
        line_plane(c, d, &A, &B);
        plane = (size_t)(A * B) * TF_NFIELDS > plane ? (size_t)(A * B) * TF_NFIELDS : plane;
    }
    if (plane > 0 && c->su->scheme == TF_SCHEME_LOD)
        for (int q = 0; q < 6; ++q)
            if (!(c->edge[q] = calloc(plane, sizeof(tf_real))))
                return TF_ERROR(TF_ERR_NOMEM, "cpu backend: out of memory for line-end planes");
    return TF_OK;
}

/* Pack the boundary layers of the cut directions in `dirs` (bit d), post their messages: my lo
 * layer fills the ghosts on my lo neighbour's hi side, which knows it by the tag of my face. */
static void halo_post(cpu_impl *c, unsigned dirs)
{
    const tf_grid *g = &c->g;
    for (int d = 0; d < 3; ++d) {
        if (!cut(c, d) || !(dirs >> d & 1))
            continue;
        const tf_index cells = face_cells(g, d);
        const size_t bytes = sizeof(tf_real) * (size_t)(cells * TF_NFIELDS);
        for (int side = 0; side < 2; ++side) {
            const int q = 2 * d + side;
            tf_real *out = c->face_out[q];
            if (!(d == 0 && c->x_packed))
#pragma omp parallel for num_threads(c->nthreads) schedule(static) if (PAR(g))
                for (int f = 0; f < TF_NFIELDS; ++f)
                    face_copy(g, c->f[f], d, side ? g->n[d] - 1 : 0, out + f * cells, 1);
            tf_par_recv_start(c->par, q, c->face_in[q], bytes, TAG_FACE + (q ^ 1));
            tf_par_send(c->par, q, out, bytes, TAG_FACE + q);
        }
    }
}

/* Wait for the posted layers and copy those of `dirs` into the ghosts; returns the seconds. */
static double halo_finish(cpu_impl *c, unsigned dirs)
{
    const tf_grid *g = &c->g;
    const double t0 = tf_wtime();
    tf_par_wait(c->par);
    for (int q = 0; q < TF_NFACES; ++q) {
        const int d = q / 2;
        if (!cut(c, d) || !(dirs >> d & 1))
            continue;
        const tf_index cells = face_cells(g, d);
#pragma omp parallel for num_threads(c->nthreads) schedule(static) if (PAR(g))
        for (int f = 0; f < TF_NFIELDS; ++f)
            if (!(c->local_faces[f] >> q & 1))
                face_copy(g, c->f[f], d, (q & 1) ? g->n[d] : -1, c->face_in[q] + f * cells, 0);
    }
    return tf_wtime() - t0;
}

/* One explicit step of a decomposed grid. The x layers (one value per row: small) are
 * exchanged first, so that every row is updated whole by the vectorised row kernel. Then the
 * y and z layers travel while the cells that do not need them are updated; last the slabs next
 * to the cut y and z faces. Each row's x ghosts are filled just before the row is updated, as
 * on one process, from the boundary condition or the received x layer (row_x_ghosts_all: a
 * pass of their own touched two more cache lines per row and field: 12 of 99 ms a step at
 * 256^3 a process where x is not cut, bench/results/2026-11-29-mpi-weak-xeon-256.md, and the
 * received x layers' pass about 14 ms where it is, -cpu-ab-mpi-x-unpack.md). Where x is cut
 * the rows also pack the next step's x layers (explicit_box, x_packed; -cpu-ab-mpi-x-pack.md). */
static void explicit_step_par(cpu_impl *c, const tf_coeffs *co)
{
    const tf_grid *g = &c->g;
    tf_timers *tm = c->su->timers;
    double t0 = tf_wtime(), halo = 0.0;
    if (cut(c, 0)) { /* the x layers arrive in face_in; the rows copy them in themselves */
        halo_post(c, 1u);
        const double tw = tf_wtime();
        tf_par_wait(c->par);
        halo += tf_wtime() - tw;
    }
    halo_post(c, 6u);
    const unsigned pass_faces = TF_ALL_FACES & ~TF_X_FACES;
    tf_index lo[3], hi[3];
    for (int d = 0; d < 3; ++d) {
        lo[d] = d > 0 && cut(c, d) ? 1 : 0;
        hi[d] = d > 0 && cut(c, d) ? g->n[d] - 1 : g->n[d];
    }
#pragma omp parallel num_threads(c->nthreads) if (PAR(g))
    {
        for (int f = 0; f < TF_NFIELDS; ++f)
            ghost_faces(g, c->su->bcs.bc[f], c->f[f], c->local_faces[f] & pass_faces);
#pragma omp barrier
#pragma omp master
        {
            tm->seconds[TF_STAGE_GHOSTS] += tf_wtime() - t0 - halo;
            tm->calls[TF_STAGE_GHOSTS] += 1;
            t0 = tf_wtime();
        }
        explicit_box(c, co, lo, hi, 1);
    }
    const double t1 = tf_wtime();
    halo += halo_finish(c, 6u);
    tm->seconds[TF_STAGE_HALO] += halo;
    tm->calls[TF_STAGE_HALO] += 1;
    const double t2 = tf_wtime();
    /* The shell: the z slabs, then the y slabs between them. */
    const tf_index *n = g->n;
    const tf_index box[4][2][3] = {
        {{0, 0, 0}, {n[0], n[1], lo[2]}},
        {{0, 0, hi[2]}, {n[0], n[1], n[2]}},
        {{0, 0, lo[2]}, {n[0], lo[1], hi[2]}},
        {{0, hi[1], lo[2]}, {n[0], n[1], hi[2]}},
    };
#pragma omp parallel num_threads(c->nthreads) if (PAR(g))
    for (int b = 0; b < 4; ++b)
        explicit_box(c, co, box[b][0], box[b][1], 1);
    swap_next(c);
    c->x_packed = cut(c, 0);
    tm->seconds[TF_STAGE_EXPLICIT] += (t1 - t0) + (tf_wtime() - t2);
    tm->calls[TF_STAGE_EXPLICIT] += 1;
}

/* One pass of `count` lines over rows g0 .. g0+m-1 along a cut direction (z lines, ahead:
 * through forward_ahead/backward_ahead). fwd: the forward elimination without storing, its
 * last row (handed to the next process) in out (tf_thomas_forward_last). Else the forward
 * elimination again, from prev, in place, then the back substitution from next, and the first
 * solved row (handed to the previous process) copied to out. */
TF_CLONES static void lines_pass(const tf_line_factors *L, tf_real *u, tf_index stride,
                                 tf_index count, tf_index g0, tf_index m, int fwd, int ahead,
                                 const tf_real *prev, const tf_real *next, tf_real *out)
{
    if (fwd) {
        if (ahead)
            forward_ahead(L, u, stride, count, g0, m, prev, out);
        else
            tf_thomas_forward_last(L, u, stride, count, g0, m, prev, out);
        return;
    }
    if (ahead) {
        forward_ahead(L, u, stride, count, g0, m, prev, NULL);
        backward_ahead(L, u, stride, count, g0, m, next);
    } else {
        tf_thomas_forward(L, u, stride, count, g0, m, prev);
        tf_thomas_backward(L, u, stride, count, g0, m, next);
    }
    memcpy(out, u, sizeof(tf_real) * (size_t)count);
}

/* The same for the w x lines of rows j0 .. j0+w-1 at blk, through a transposed tile in buf as
 * x_block does (x_lanes(w) lanes are swept and handed on); the forward pass only reads the
 * rows, so only the back substitution copies the tile back. */
static void x_block_pass(const cpu_impl *c, const tf_line_factors *L, tf_real *blk,
                         tf_index sy, tf_index w, tf_real *buf, tf_index g0, tf_index m, int fwd,
                         const tf_real *prev, const tf_real *next, tf_real *out)
{
    tile_move(c, TILE_IN, blk, sy, buf, w, m);
    lines_pass(L, buf, XW, x_lanes(w), g0, m, fwd, 0, prev, next, out);
    if (!fwd)
        tile_move(c, TILE_OUT, blk, sy, buf, w, m);
}

/* One pass of the lines along a cut direction d over outer planes [b0, b1), reading the
 * neighbours' planes from edge[EDGE_PREV] (the previous rank's last eliminated rows) and
 * edge[EDGE_NEXT] (the next rank's first solved rows). The forward pass (fwd) eliminates
 * without storing, leaving only this rank's last eliminated row in edge[EDGE_SEND_FWD]; the
 * backward pass eliminates again from the same rows and the same EDGE_PREV (the same bits),
 * substitutes back, stores, and leaves the first solved row in edge[EDGE_SEND_BWD]. So a cut
 * direction's lines read the state twice and write it once, as a direction that is not cut
 * reads and writes it once, instead of reading and writing it in both passes; x lines are
 * transposed in twice and out once (before 2026-11-29: twice each). */
static void line_pass(cpu_impl *c, int d, int fwd, tf_index b0, tf_index b1)
{
    const tf_grid *g = &c->g;
    const tf_index nx = g->n[0], ny = g->n[1], m = g->n[d], g0 = g->start[d];
    tf_index A, B;
    line_plane(c, d, &A, &B);
    const tf_real *prev = c->edge[EDGE_PREV], *next = c->edge[EDGE_NEXT];
    tf_real *out = c->edge[fwd ? EDGE_SEND_FWD : EDGE_SEND_BWD];
    const tf_index nb = d == 0 ? (ny + XW - 1) / XW : 1;
#pragma omp parallel num_threads(c->nthreads) if (PAR(g))
    {
        tf_real *buf = c->xbuf[thread_id()];
        for (int f = 0; f < TF_NFIELDS; ++f) {
            const tf_line_factors *L = &c->su->lines[f][d];
            if (tf_line_identity(L))
                continue;
            tf_real *a = c->f[f];
#pragma omp for collapse(2) schedule(static) nowait
            for (tf_index b = b0; b < b1; ++b)
                for (tf_index jb = 0; jb < nb; ++jb) {
                    const tf_index e = (b * TF_NFIELDS + f) * A + jb * XW;
                    if (d == 0) {
                        const tf_index w = ny - jb * XW < XW ? ny - jb * XW : XW;
                        x_block_pass(c, L, a + tf_at(g, 0, jb * XW, b), g->sy, w, buf, g0, m,
                                     fwd, prev + e, next + e, out + e);
                    } else {
                        const tf_index stride = d == 1 ? g->sy : g->sz;
                        tf_real *u = a + (d == 1 ? tf_at(g, 0, 0, b) : tf_at(g, 0, b, 0));
                        lines_pass(L, u, stride, nx, g0, m, fwd, d == 2, prev + e, next + e,
                                   out + e);
                    }
                }
        }
    }
}

/* Sherman-Morrison correction of the periodic fields along a cut direction d: the ranks at the
 * two ends of each line share its rows 0 and n-1, then every rank corrects its slice. */
static void periodic_pass(cpu_impl *c, int d)
{
    const tf_grid *g = &c->g;
    tf_par *par = c->par;
    const tf_index nx = g->n[0], ny = g->n[1], m = g->n[d], g0 = g->start[d];
    tf_index A, B;
    line_plane(c, d, &A, &B);
    tf_real *first = c->edge[EDGE_FIRST], *last = c->edge[EDGE_LAST];
    const int at_lo = par->coords[d] == 0, at_hi = par->coords[d] == par->dims[d] - 1;
    const tf_index na = d == 0 ? ny : nx;
    const tf_index sa = d == 0 ? g->sy : 1;                /* next line along a */
    const tf_index sl = d == 0 ? 1 : d == 1 ? g->sy : g->sz; /* next row of a line */
    for (int f = 0; f < TF_NFIELDS; ++f) {
        if (!c->su->lines[f][d].periodic || tf_line_identity(&c->su->lines[f][d]))
            continue; /* D = 0: no solve, so nothing to correct */
        for (tf_index b = 0; b < B; ++b) {
            const tf_real *a = c->f[f] + (d == 2 ? tf_at(g, 0, b, 0) : tf_at(g, 0, 0, b));
            for (tf_index q = 0; q < na; ++q) {
                const tf_index e = (b * TF_NFIELDS + f) * A + q;
                if (at_lo)
                    first[e] = a[q * sa];
                if (at_hi)
                    last[e] = a[q * sa + (m - 1) * sl];
            }
        }
    }
    const size_t bytes = sizeof(tf_real) * (size_t)(A * B) * TF_NFIELDS;
    tf_par_line_bcast(par, d, first, bytes, 0);
    tf_par_line_bcast(par, d, last, bytes, par->dims[d] - 1);
    for (int f = 0; f < TF_NFIELDS; ++f) {
        const tf_line_factors *L = &c->su->lines[f][d];
        if (!L->periodic || tf_line_identity(L))
            continue;
#pragma omp parallel for num_threads(c->nthreads) schedule(static) if (PAR(g))
        for (tf_index b = 0; b < B; ++b) {
            tf_real *a = c->f[f] + (d == 2 ? tf_at(g, 0, b, 0) : tf_at(g, 0, 0, b));
            const tf_index e = (b * TF_NFIELDS + f) * A;
            if (d == 0) /* x lines are rows: one line at a time */
                for (tf_index q = 0; q < na; ++q)
                    tf_thomas_periodic(L, a + q * sa, 1, 1, g0, m, first + e + q, last + e + q);
            else
                tf_thomas_periodic(L, a, sl, nx, g0, m, first + e, last + e);
        }
    }
}

/* Backward-Euler diffusion along a cut direction d; returns the seconds spent waiting for
 * other ranks. Chunks of outer planes: enough that the pipeline fill (one chunk per rank ahead)
 * is a small part of the sweep, few enough that messages stay large. */
static double diffuse_par(cpu_impl *c, int d)
{
    tf_par *par = c->par;
    tf_index A, B;
    line_plane(c, d, &A, &B);
    const tf_index nch = B < 4 * par->dims[d] ? B : 4 * par->dims[d];
    const size_t per_b = sizeof(tf_real) * (size_t)A * TF_NFIELDS;
    int periodic = 0;
    for (int f = 0; f < TF_NFIELDS; ++f)
        periodic |= c->su->lines[f][d].periodic && !tf_line_identity(&c->su->lines[f][d]);
    double waited = 0.0;
    for (int fwd = 1; fwd >= 0; --fwd) {
        const int from = fwd ? 2 * d : 2 * d + 1; /* the face the pipeline comes in by */
        const int tag = (fwd ? TAG_FORWARD : TAG_BACKWARD) + d;
        tf_real *in = c->edge[fwd ? EDGE_PREV : EDGE_NEXT];
        tf_real *out = c->edge[fwd ? EDGE_SEND_FWD : EDGE_SEND_BWD];
        /* The ends of the lines neither receive nor send, also where the process grid wraps
         * (periodic lines are closed by periodic_pass). */
        const int first = fwd ? par->coords[d] == 0 : par->coords[d] == par->dims[d] - 1;
        const int last = fwd ? par->coords[d] == par->dims[d] - 1 : par->coords[d] == 0;
        /* The last rank along d hands nothing on in the forward pass: it eliminates (again,
         * in line_pass's backward pass) and substitutes each chunk as soon as the chunk's
         * forward planes arrive, so that the backward pipeline starts one chunk after the
         * forward one reaches it. */
        const int fwd_in_bwd = !fwd && first && par->coords[d] > 0;
        if (fwd && last)
            continue;
        for (tf_index ch = 0; ch < nch; ++ch) {
            const tf_index b0 = B * ch / nch, b1 = B * (ch + 1) / nch;
            const size_t bytes = per_b * (size_t)(b1 - b0);
            const double t0 = tf_wtime();
            if (!first)
                tf_par_recv(par, from, in + b0 * A * TF_NFIELDS, bytes, tag);
            if (fwd_in_bwd)
                tf_par_recv(par, 2 * d, c->edge[EDGE_PREV] + b0 * A * TF_NFIELDS, bytes,
                            TAG_FORWARD + d);
            waited += tf_wtime() - t0;
            line_pass(c, d, fwd, b0, b1);
            if (!last)
                tf_par_send(par, from ^ 1, out + b0 * A * TF_NFIELDS, bytes, tag);
        }
    }
    const double t0 = tf_wtime();
    tf_par_wait(par);
    if (periodic)
        periodic_pass(c, d);
    return waited + (tf_wtime() - t0);
}

static void stage_add(cpu_impl *c, tf_stage s, double t0)
{
    c->su->timers->seconds[s] += tf_wtime() - t0;
    c->su->timers->calls[s] += 1;
}

static int any_cut(const cpu_impl *c) { return cut(c, 0) || cut(c, 1) || cut(c, 2); }

/* ---- Fused LOD pass ----
 *
 * The LOD step R(dt/2) X Y Z R(dt/2) takes two passes over memory instead of five where x
 * and y are not cut between processes: per z-plane k, the reaction of the plane's rows, then
 * every diffusing field's x lines of the plane (blocks of XW rows) and its y lines; then the z
 * lines. The step's second reaction is deferred: the next step's fused pass runs it on each
 * plane just before that step's first reaction, and anything that reads the state (get_state,
 * diagnostics, check_state, the bench's flush) runs it first as a pass of its own
 * (flush_deferred).
 * The plane of the seven arrays (1.8 MB at 256^2 floats) stays in cache between the parts, so
 * a step moves 25 arrays per cell instead of 62. Every cell and every line sees the same
 * operations in the same order as in the separate passes (the reaction is per cell, the lines
 * of one direction are independent of each other, and a cell's second reaction still comes
 * before the next step's first), so the results are the same bits whichever path runs. The
 * stage times of the fused pass are its wall time split in proportion to the threads' summed
 * time in each part.
 *
 * The z lines with the second reaction, slab by slab, measured slower (docs/performance.md):
 * a slab's rows lie a plane apart, so the reaction of a slab touches 7 n_z pages, more than the
 * TLB holds.
 *
 * Where y is cut between processes (and x is not), the pass takes the reactions and the x lines,
 * and the y lines follow across the processes; where x is cut, the pass takes the two reactions
 * alone (the x lines across processes must come before the y lines). The order of the
 * splitting stays R X Y Z R, so these too give the same bits. */

/* Which parts a step's fused pass takes (tf_backend_ops.lod_fused; TF_LOD_PASS_* of
 * tf_solver.h): the reactions always, the x lines where x is not cut, the y lines where
 * neither x nor y is, given enough planes for every thread or one thread; otherwise (0) the
 * separate passes, whose loops collapse two dimensions, balance better. The same answer for
 * the solver's whole life. */
static unsigned cpu_lod_fused(void *impl)
{
    const cpu_impl *c = impl;
    const tf_grid *g = &c->g;
    if (c->su->scheme != TF_SCHEME_LOD || !(g->n[2] >= 4 * (tf_index)c->nthreads || !PAR(g)))
        return 0;
    unsigned parts = TF_LOD_PASS_REACTIONS;
    if (!cut(c, 0)) {
        parts |= TF_LOD_PASS_X;
        if (!cut(c, 1))
            parts |= TF_LOD_PASS_Y;
    }
    return parts;
}

/* Run what a step deferred now: an LOD step's second reaction, as a pass of its own, or an
 * explicit step waiting for its pair, alone. */
static void flush_deferred(cpu_impl *c)
{
    if (c->r2_pending) {
        const double t0 = tf_wtime();
        c->r2_pending = 0;
        react(c, &c->r2);
        stage_add(c, TF_STAGE_REACTION, t0);
    }
    if (c->step_pending) {
        const double t0 = tf_wtime();
        c->step_pending = 0;
        const double t_ghosts = explicit_step(c, &c->pending);
        c->su->timers->seconds[TF_STAGE_GHOSTS] += t_ghosts - t0;
        c->su->timers->calls[TF_STAGE_GHOSTS] += 1;
        stage_add(c, TF_STAGE_EXPLICIT, t_ghosts);
    }
}

static unsigned cpu_explicit_paired(void *impl)
{
    const cpu_impl *c = impl;
    return c->ring ? (unsigned)c->tile_rows : 0;
}

static tf_status cpu_flush(void *impl)
{
    flush_deferred(impl);
    return TF_OK;
}

/* Add this thread's part times t[0..n) to part[] (the pass's sums over threads). */
static void add_parts(double *part, const double *t, int n)
{
#pragma omp critical(tf_fused_parts)
    for (int q = 0; q < n; ++q)
        part[q] += t[q];
}

/* The fused pass: the deferred reaction (r2: of the previous step, with its coefficients) and
 * the reaction of dt, then the x lines (parts & TF_LOD_PASS_X) and the y lines (TF_LOD_PASS_Y),
 * plane by plane. part: reaction, x, y. */
static void lod_pass_xy(cpu_impl *c, const tf_step_coeffs *s, int r2, unsigned parts,
                        double part[3])
{
    const tf_grid *g = &c->g;
    const tf_index ny = g->n[1], nz = g->n[2], nb = (ny + XW - 1) / XW;
#pragma omp parallel num_threads(c->nthreads) if (PAR(g))
    {
        double t[3] = {0.0, 0.0, 0.0};
        tf_real *buf = c->xbuf[thread_id()];
#pragma omp for schedule(static)
        for (tf_index k = 0; k < nz; ++k) {
            const double t0 = tf_wtime();
            if (r2)
                for (tf_index j = 0; j < ny; ++j)
                    react_at(c, &c->r2, j, k);
            for (tf_index j = 0; j < ny; ++j)
                react_at(c, s, j, k);
            const double t1 = tf_wtime();
            for (int f = 0; f < TF_NFIELDS && (parts & TF_LOD_PASS_X); ++f)
                if (!tf_line_identity(&c->su->lines[f][0]))
                    for (tf_index b = 0; b < nb; ++b)
                        x_block(c, &c->su->lines[f][0], c->f[f], k, b, buf);
            const double t2 = tf_wtime();
            for (int f = 0; f < TF_NFIELDS && (parts & TF_LOD_PASS_Y); ++f)
                if (!tf_line_identity(&c->su->lines[f][1]))
                    solve_lines(&c->su->lines[f][1], c->f[f] + tf_at(g, 0, 0, k), g->sy,
                                g->n[0]);
            t[0] += t1 - t0;
            t[1] += t2 - t1;
            t[2] += tf_wtime() - t2;
        }
        add_parts(part, t, 3);
    }
}

/* The wall time since t0 of a fused pass, split over its n stages in proportion to part[]. */
static void stage_split(cpu_impl *c, const tf_stage *st, const double *part, int n, double t0)
{
    const double wall = tf_wtime() - t0;
    double sum = 0.0;
    for (int q = 0; q < n; ++q)
        sum += part[q];
    for (int q = 0; q < n; ++q) {
        c->su->timers->seconds[st[q]] += sum > 0.0 ? wall * part[q] / sum : wall / n;
        c->su->timers->calls[st[q]] += 1;
    }
}

/* Diffusion along d as its own pass, across processes where d is cut. */
static void diffuse_stage(cpu_impl *c, int d)
{
    tf_timers *tm = c->su->timers;
    const double t0 = tf_wtime();
    if (cut(c, d)) {
        /* Waiting for other ranks is the halo stage, not this direction's. */
        const double waited = diffuse_par(c, d);
        stage_add(c, (tf_stage)(TF_STAGE_DIFFUSION_X + d), t0 + waited);
        tm->seconds[TF_STAGE_HALO] += waited;
        tm->calls[TF_STAGE_HALO] += 1;
    } else {
        diffuse(c, d);
        stage_add(c, (tf_stage)(TF_STAGE_DIFFUSION_X + d), t0);
    }
}

static tf_status cpu_step(void *impl, const tf_coeffs *c0, const tf_coeffs *c1)
{
    cpu_impl *c = impl;
    tf_timers *tm = c->su->timers;
    const tf_real dt = (tf_real)c->su->dt;
    double t0 = tf_wtime();
    if (c->su->scheme == TF_SCHEME_EXPLICIT) {
        if (any_cut(c)) {
            explicit_step_par(c, c0);
            return TF_OK;
        }
        if (c->ring && !c->step_pending) { /* it waits for the next (explicit_pair) */
            c->pending = *c0;
            c->step_pending = 1;
            return TF_OK;
        }
        /* Ghost filling is its own stage, as on the GPU. */
        const int pair = c->step_pending;
        c->step_pending = 0;
        const double t_ghosts = pair ? explicit_pair(c, &c->pending, c0) : explicit_step(c, c0);
        tm->seconds[TF_STAGE_GHOSTS] += t_ghosts - t0;
        tm->calls[TF_STAGE_GHOSTS] += 1;
        stage_add(c, TF_STAGE_EXPLICIT, t_ghosts);
        tm->calls[TF_STAGE_EXPLICIT] += pair; /* two steps */
        return TF_OK;
    }
    const unsigned fused = cpu_lod_fused(c);
    /* The two half-step reactions, with dt / 2 folded in (tf_coeffs_step). */
    const tf_step_coeffs s0 = tf_coeffs_step(c0, dt / 2), s1 = tf_coeffs_step(c1, dt / 2);
    if (fused) {
        double part[3] = {0.0, 0.0, 0.0};
        const int r2 = c->r2_pending;
        lod_pass_xy(c, &s0, r2, fused, part);
        c->r2_pending = 0;
        const tf_stage st[3] = {TF_STAGE_REACTION, TF_STAGE_DIFFUSION_X, TF_STAGE_DIFFUSION_Y};
        /* The pass's parts: the reactions, then x, then y (TF_LOD_PASS_Y only with X). */
        const int nparts = 1 + !!(fused & TF_LOD_PASS_X) + !!(fused & TF_LOD_PASS_Y);
        stage_split(c, st, part, nparts, t0);
        tm->calls[TF_STAGE_REACTION] += r2; /* the previous step's second reaction */
    } else {
        react(c, &s0);
        stage_add(c, TF_STAGE_REACTION, t0);
    }
    if (!(fused & TF_LOD_PASS_X))
        diffuse_stage(c, 0);
    if (!(fused & TF_LOD_PASS_Y))
        diffuse_stage(c, 1);
    diffuse_stage(c, 2);
    if (fused) {
        c->r2_pending = 1;
        c->r2 = s1;
    } else {
        t0 = tf_wtime();
        react(c, &s1);
        stage_add(c, TF_STAGE_REACTION, t0);
    }
    return TF_OK;
}

static tf_status cpu_diagnostics(void *impl, tf_diag *d)
{
    cpu_impl *c = impl;
    flush_deferred(c);
    const tf_grid *g = &c->g;
    double tot[TF_NFIELDS] = {0}, wsum[TF_NFIELDS] = {0}, mx[TF_NFIELDS];
    for (int f = 0; f < TF_NFIELDS; ++f)
        mx[f] = -INFINITY;
    tf_real *const *F = c->f;
#pragma omp parallel for num_threads(c->nthreads) collapse(2) schedule(static) if (PAR(g)) \
    reduction(+ : tot[:TF_NFIELDS], wsum[:TF_NFIELDS]) reduction(max : mx[:TF_NFIELDS])
    for (tf_index k = 0; k < g->n[2]; ++k)
        for (tf_index j = 0; j < g->n[1]; ++j) {
            const tf_index p0 = tf_at(g, 0, j, k);
            for (tf_index i = 0; i < g->n[0]; ++i) {
                const double T = F[TF_TUMOR][p0 + i];
                for (int f = 0; f < TF_NFIELDS; ++f) {
                    const double u = F[f][p0 + i];
                    tot[f] += u;
                    wsum[f] += T * u;
                    mx[f] = u > mx[f] ? u : mx[f];
                }
            }
        }
    for (int f = 0; f < TF_NFIELDS; ++f) {
        d->total[f] = tot[f];
        d->weighted[f] = wsum[f];
        d->max[f] = mx[f];
    }
    d->tumor_sum = tot[TF_TUMOR];
    return TF_OK;
}

static tf_status cpu_check_state(void *impl, tf_bad_cell *bad)
{
    cpu_impl *c = impl;
    flush_deferred(c);
    const tf_grid *g = &c->g;
    for (int f = 0; f < TF_NFIELDS; ++f) {
        const tf_real *a = c->f[f];
        tf_index first = INT64_MAX;
#pragma omp parallel for num_threads(c->nthreads) collapse(2) schedule(static) if (PAR(g)) \
    reduction(min : first)
        for (tf_index k = 0; k < g->n[2]; ++k)
            for (tf_index j = 0; j < g->n[1]; ++j) {
                const tf_index p0 = tf_at(g, 0, j, k);
                for (tf_index i = 0; i < g->n[0]; ++i) {
                    const tf_real u = a[p0 + i];
                    if (!(u >= 0 && isfinite(u)))
                        first = p0 + i < first ? p0 + i : first;
                }
            }
        if (first != INT64_MAX) {
            bad->field = f;
            tf_cell_of(g, first, &bad->i, &bad->j, &bad->k);
            bad->value = a[first];
            return TF_ERROR(TF_ERR_NUMERIC,
                            "field '%s' has the bad value %g at cell (i,j,k) = (%lld,%lld,%lld)",
                            tf_field_name[f], bad->value, (long long)(g->start[0] + bad->i),
                            (long long)(g->start[1] + bad->j), (long long)(g->start[2] + bad->k));
        }
    }
    return TF_OK;
}

const tf_backend_ops tf_cpu_backend = {
    .name = "cpu",
    .create = cpu_create,
    .destroy = cpu_destroy,
    .set_state = cpu_set_state,
    .get_state = cpu_get_state,
    .step = cpu_step,
    .diagnostics = cpu_diagnostics,
    .check_state = cpu_check_state,
    .lod_fused = cpu_lod_fused,
    .explicit_paired = cpu_explicit_paired,
    .flush = cpu_flush,
};
