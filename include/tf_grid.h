/* tf_grid.h: the uniform cell-centred grid, its local block and the ghost-padded indexing.
 *
 * A grid knows its global size gn[] and its local block (start[], n[]); with one process the
 * block is the whole grid. Every field array holds the local block plus one ghost layer on
 * every face: (n[0]+2) by (n[1]+2) by (n[2]+2), x fastest. Cell (i,j,k) of the block, with
 * -1 <= i <= n[0] (ghosts at -1 and n[0]), is at tf_at(g, i, j, k). Cell centres are at
 * ((start+i) + 0.5) * h micrometres. */
#ifndef TF_GRID_H
#define TF_GRID_H

#include "tf_config.h"
#include "tf_status.h"

typedef struct {
    tf_index gn[3];    /* global cells in x, y, z */
    tf_index start[3]; /* first global cell of the local block */
    tf_index n[3];     /* local cells (without ghosts) */
    double h;          /* spacing, um */
    tf_index sy, sz;   /* strides of the padded array in y and z (x stride is 1) */
    tf_index nalloc;   /* elements of one padded field array */
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

#ifdef __cplusplus
}
#endif

TF_HD tf_index tf_at(const tf_grid *g, tf_index i, tf_index j, tf_index k)
{
    return (i + 1) + (j + 1) * g->sy + (k + 1) * g->sz;
}

#endif
