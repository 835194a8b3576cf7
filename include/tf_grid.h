/* tf_grid.h: the uniform cell-centred grid, its local block and the ghost-padded indexing.
 *
 * A grid knows its global size gn[] and its local block (start[], n[]); with one process the
 * block is the whole grid. Every field array holds the local block plus one ghost layer on
 * every face, x fastest: (n[1]+2) (n[2]+2) rows of sy elements each. Cell (i,j,k) of the block,
 * with -1 <= i <= n[0] (ghosts at -1 and n[0]), is at tf_at(g, i, j, k). Cell centres are at
 * ((start+i) + 0.5) * h micrometres.
 *
 * Rows are aligned: the first interior cell of every row sits on a 64-byte boundary of a
 * 64-byte aligned array (TF_ROW_ALIGN elements into its row, sy a multiple of TF_ROW_ALIGN), so
 * the vector loops over a row and the GPU's warps start on a cache line or sector. A row's
 * left ghost is the element before it, its right ghost the element after its last cell; the
 * sy - (n[0] + 2) elements between one row's right ghost and the next row's left ghost are
 * padding, zero from allocation and never written. sy = n[0] + 2 rounded up to TF_ROW_ALIGN
 * (272 for n[0] = 256: 5% more memory, the same cache lines touched per row). */
#ifndef TF_GRID_H
#define TF_GRID_H

#include "tf_config.h"
#include "tf_status.h"

/* Elements from the start of a row to its first interior cell, and the multiple of sy. */
#define TF_ROW_ALIGN ((tf_index)(64 / sizeof(tf_real)))

typedef struct {
    tf_index gn[3];    /* global cells in x, y, z */
    tf_index start[3]; /* first global cell of the local block */
    tf_index n[3];     /* local cells (without ghosts) */
    double h;          /* spacing, um */
    tf_index sy, sz;   /* strides of the padded array in y and z (x stride is 1) */
    tf_index nalloc;   /* elements of one padded field array: sz (n[2]+2) + TF_ROW_ALIGN */
    tf_index ncells;   /* interior cells of the local block */
} tf_grid;

#ifdef __cplusplus
extern "C" {
#endif

/* Set up a single-block grid of nx*ny*nz cells of spacing h um; refuses sizes whose element
 * counts or byte sizes would overflow (TF_ERR_USAGE with the numbers). */
tf_status tf_grid_init(tf_grid *g, tf_index nx, tf_index ny, tf_index nz, double h);

/* Whether the local block is the whole grid (one process). */
int tf_grid_is_whole(const tf_grid *g);

/* Set sy, sz, nalloc and ncells from the block size n[] (the layout above). */
void tf_grid_layout(tf_grid *g);

/* Elements of one padded array of a block of nx x ny x nz cells, as a double (no overflow):
 * what tf_grid_layout gives as nalloc, for memory estimates before any grid exists. */
double tf_grid_padded_elements(tf_index nx, tf_index ny, tf_index nz);

#ifdef __cplusplus
}
#endif

TF_HD tf_index tf_at(const tf_grid *g, tf_index i, tf_index j, tf_index k)
{
    return TF_ROW_ALIGN + i + (j + 1) * g->sy + (k + 1) * g->sz;
}

/* Row rho of a padded array, -1 <= rho < (n[1]+2)(n[2]+2), is the sy elements from
 * TF_ROW_ALIGN + rho sy on (row -1 clipped at element 0): a row's cells, then its right ghost,
 * its padding and the next row's left ghost. Returns how many of its first elements are cells
 * of the block: n[0] for an interior row, 0 for a ghost row (j or k a ghost layer) and row -1.
 * Zeroing every row from there on zeroes exactly what lies outside the block (ghosts and
 * padding), which the GPU diagnostics need (k_zero_outside). */
TF_HD tf_index tf_row_cells(const tf_grid *g, tf_index rho)
{
    const tf_index py = g->n[1] + 2;
    if (rho < 0)
        return 0;
    const tf_index jj = rho % py, kk = rho / py;
    return (jj == 0 || jj == py - 1 || kk == 0 || kk == g->n[2] + 1) ? 0 : g->n[0];
}

/* The cell (i, j, k) at linear index p of a padded array (the inverse of tf_at for the cells
 * of the block and its ghost faces). */
TF_HD void tf_cell_of(const tf_grid *g, tf_index p, tf_index *i, tf_index *j, tf_index *k)
{
    const tf_index q = p - TF_ROW_ALIGN + 1; /* the row's left ghost at q % sy == 0 */
    *k = q / g->sz - 1;
    *j = (q % g->sz) / g->sy - 1;
    *i = q % g->sy - 1;
}

#endif
