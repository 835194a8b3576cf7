/* grid.c: grid set-up with overflow-checked sizes, and the field and face names. */
#include "tf_fields.h"
#include "tf_grid.h"

#include <math.h>
#include <stdint.h>

const char *const tf_field_name[TF_NFIELDS] = {"tumor", "effector", "suppressor",
                                               "pro_cytokine", "anti_cytokine", "cortisol"};
const char *const tf_field_symbol[TF_NFIELDS] = {"T", "E", "S", "P", "A", "C"};
const char *const tf_field_units[TF_NFIELDS] = {"1", "1", "1", "pg/mL", "pg/mL", "nmol/L"};
const char *const tf_field_long_name[TF_NFIELDS] = {
    "tumor cell volume fraction",
    "cytotoxic effector cell (NK and CD8+ T) volume fraction",
    "immunosuppressive myeloid cell (MDSC, M2) volume fraction",
    "pro-inflammatory cytokine (IL-6, TNF-alpha) concentration",
    "anti-inflammatory cytokine (IL-10) concentration",
    "tissue cortisol concentration",
};
const char *const tf_face_name[TF_NFACES] = {"x_lo", "x_hi", "y_lo", "y_hi", "z_lo", "z_hi"};

/* Largest padded element count we accept: byte sizes of all arrays stay far below 2^63. */
#define TF_MAX_ELEMENTS ((tf_index)1 << 40)

tf_status tf_grid_init(tf_grid *g, tf_index nx, tf_index ny, tf_index nz, double h)
{
    const tf_index n[3] = {nx, ny, nz};
    for (int d = 0; d < 3; ++d)
        if (n[d] < 1 || n[d] > ((tf_index)1 << 20))
            return TF_ERROR(TF_ERR_USAGE, "grid: %lld cells along %c; expected 1 to %lld",
                            (long long)n[d], "xyz"[d], (long long)1 << 20);
    if (!(h > 0.0) || !isfinite(h))
        return TF_ERROR(TF_ERR_USAGE, "grid spacing %g um: expected a positive number", h);
    const double padded = tf_grid_padded_elements(nx, ny, nz);
    if (padded > (double)TF_MAX_ELEMENTS)
        return TF_ERROR(TF_ERR_USAGE,
                        "grid %lld x %lld x %lld: %.3g cells per field with ghosts, above the "
                        "limit of %lld",
                        (long long)nx, (long long)ny, (long long)nz, padded,
                        (long long)TF_MAX_ELEMENTS);
    for (int d = 0; d < 3; ++d) {
        g->gn[d] = n[d];
        g->start[d] = 0;
        g->n[d] = n[d];
    }
    g->h = h;
    tf_grid_layout(g);
    return TF_OK;
}

/* Row length: n[0] + 2 rounded up to TF_ROW_ALIGN. */
static tf_index row_stride(tf_index nx)
{
    return (nx + 2 + TF_ROW_ALIGN - 1) / TF_ROW_ALIGN * TF_ROW_ALIGN;
}

void tf_grid_layout(tf_grid *g)
{
    g->sy = row_stride(g->n[0]);
    g->sz = g->sy * (g->n[1] + 2);
    g->nalloc = g->sz * (g->n[2] + 2) + TF_ROW_ALIGN;
    g->ncells = g->n[0] * g->n[1] * g->n[2];
}

double tf_grid_padded_elements(tf_index nx, tf_index ny, tf_index nz)
{
    return (double)row_stride(nx) * (double)(ny + 2) * (double)(nz + 2) + (double)TF_ROW_ALIGN;
}

int tf_grid_is_whole(const tf_grid *g)
{
    for (int d = 0; d < 3; ++d)
        if (g->start[d] != 0 || g->n[d] != g->gn[d])
            return 0;
    return 1;
}
