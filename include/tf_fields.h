/* tf_fields.h: the six evolving fields, their names and units, and the boundary conditions. */
#ifndef TF_FIELDS_H
#define TF_FIELDS_H

#include "tf_config.h"

typedef enum {
    TF_TUMOR = 0,    /* T, volume fraction */
    TF_EFFECTOR,     /* E, volume fraction */
    TF_SUPPRESSOR,   /* S, volume fraction */
    TF_PRO,          /* P, pg/mL */
    TF_ANTI,         /* A, pg/mL */
    TF_CORTISOL,     /* C, nmol/L */
    TF_NFIELDS
} tf_field;

/* Output names, symbols, units and long names, indexed by tf_field. */
extern const char *const tf_field_name[TF_NFIELDS];
extern const char *const tf_field_symbol[TF_NFIELDS];
extern const char *const tf_field_units[TF_NFIELDS];
extern const char *const tf_field_long_name[TF_NFIELDS];

/* Faces, in the order x-low, x-high, y-low, y-high, z-low, z-high. */
enum { TF_FACE_XLO = 0, TF_FACE_XHI, TF_FACE_YLO, TF_FACE_YHI, TF_FACE_ZLO, TF_FACE_ZHI,
       TF_NFACES };
extern const char *const tf_face_name[TF_NFACES];

typedef enum { TF_BC_NOFLUX = 0, TF_BC_DIRICHLET, TF_BC_PERIODIC } tf_bc_kind;

typedef struct {
    tf_bc_kind kind;
    double value; /* Dirichlet value in the field's units */
} tf_bc;

/* Boundary conditions of every field on every face. Periodic must hold on both faces of a
 * direction (tf_bcs_validate). */
typedef struct {
    tf_bc bc[TF_NFIELDS][TF_NFACES];
} tf_bcs;

#endif
