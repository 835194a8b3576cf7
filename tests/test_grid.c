/* test_grid.c: the padded array layout of include/tf_grid.h, for float and double.
 *
 * For grids of many shapes (one cell, thin in each direction, row lengths around the alignment
 * and a 256-cell row): every cell, ghost faces, edges and corners included, has its own index
 * inside [0, nalloc) (tf_at), tf_cell_of gives the cell back, every row's first cell lies on a
 * 64-byte boundary of a 64-byte aligned array, and sy is n[0] + 2 rounded up to the alignment;
 * zeroing every row from tf_row_cells on (as the GPU's k_zero_outside does) zeroes exactly the
 * nalloc - ncells elements outside the block's cells and no cell; tf_grid_padded_elements
 * agrees with nalloc; blocks of a decomposed grid get the same layout rules. */
#include "tf_grid.h"
#include "tf_par.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

static const tf_index shapes[][3] = {
    {1, 1, 1},   {2, 1, 1},   {1, 2, 1},  {1, 1, 2},   {5, 3, 2},  {14, 1, 3}, {15, 2, 2},
    {16, 2, 1},  {17, 1, 2},  {30, 3, 1}, {37, 5, 3},  {64, 2, 2}, {255, 1, 1}, {256, 2, 1},
};

/* Every rule above for grid g; the cells checked are all -1 <= i <= n[0], -1 <= j <= n[1],
 * -1 <= k <= n[2] (faces, edges and corners are all addressable). */
static void check_layout(const tf_grid *g)
{
    const tf_index nx = g->n[0], ny = g->n[1], nz = g->n[2];
    assert_int_equal(g->sy % TF_ROW_ALIGN, 0);
    assert_true(g->sy >= nx + 2 && g->sy < nx + 2 + TF_ROW_ALIGN);
    assert_int_equal(g->sz, g->sy * (ny + 2));
    assert_int_equal(g->ncells, nx * ny * nz);
    assert_true(tf_grid_padded_elements(nx, ny, nz) == (double)g->nalloc);

    unsigned char *seen = calloc((size_t)g->nalloc, 1);
    assert_non_null(seen);
    for (tf_index k = -1; k <= nz; ++k)
        for (tf_index j = -1; j <= ny; ++j)
            for (tf_index i = -1; i <= nx; ++i) {
                const tf_index p = tf_at(g, i, j, k);
                assert_true(p >= 0 && p < g->nalloc);
                assert_int_equal(seen[p], 0); /* no two cells share an element */
                seen[p] = 1;
                tf_index ci, cj, ck;
                tf_cell_of(g, p, &ci, &cj, &ck);
                assert_int_equal(ci, i);
                assert_int_equal(cj, j);
                assert_int_equal(ck, k);
                if (i == 0) /* a row's first cell: 64-byte aligned */
                    assert_int_equal((p * (tf_index)sizeof(tf_real)) % 64, 0);
            }
    free(seen);

    /* The k_zero_outside walk on an array of ones. */
    tf_real *a = malloc((size_t)g->nalloc * sizeof *a);
    assert_non_null(a);
    for (tf_index p = 0; p < g->nalloc; ++p)
        a[p] = 1;
    const tf_index rows = (ny + 2) * (nz + 2);
    for (tf_index rho = -1; rho < rows; ++rho) {
        const tf_index base = TF_ROW_ALIGN + rho * g->sy;
        for (tf_index e = tf_row_cells(g, rho); e < g->sy; ++e)
            if (base + e >= 0) {
                assert_true(base + e < g->nalloc);
                a[base + e] = 0;
            }
    }
    tf_index ones = 0;
    for (tf_index p = 0; p < g->nalloc; ++p)
        ones += a[p] != 0;
    assert_int_equal(ones, g->ncells);
    for (tf_index k = 0; k < nz; ++k)
        for (tf_index j = 0; j < ny; ++j)
            for (tf_index i = 0; i < nx; ++i)
                assert_true(a[tf_at(g, i, j, k)] == 1);
    free(a);
}

static void test_layout_whole(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
        tf_grid g;
        assert_int_equal(tf_grid_init(&g, shapes[s][0], shapes[s][1], shapes[s][2], 10.0), TF_OK);
        check_layout(&g);
    }
}

/* Blocks of a grid split as a decomposition splits it (tf_par_split): the same rules. */
static void test_layout_blocks(void **state)
{
    (void)state;
    tf_grid whole;
    assert_int_equal(tf_grid_init(&whole, 37, 11, 6, 10.0), TF_OK);
    const int dims[3] = {3, 2, 2};
    for (int cx = 0; cx < dims[0]; ++cx)
        for (int cy = 0; cy < dims[1]; ++cy)
            for (int cz = 0; cz < dims[2]; ++cz) {
                tf_grid g = whole;
                const int c[3] = {cx, cy, cz};
                for (int d = 0; d < 3; ++d)
                    tf_par_split(whole.gn[d], dims[d], c[d], &g.start[d], &g.n[d]);
                tf_grid_layout(&g);
                check_layout(&g);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_layout_whole),
                                       cmocka_unit_test(test_layout_blocks)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
