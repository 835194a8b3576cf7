/* tf_units.h: physical units of scenario values (host/units.c).
 *
 * Every dimensioned scenario value is stored in one documented default unit per kind (times in
 * min, lengths in um, rates in 1/min, ...). A value written with another unit of the same kind
 * is converted; a bare number means the default unit; a unit of the wrong kind is an error
 * that lists the accepted units. */
#ifndef TF_UNITS_H
#define TF_UNITS_H

#include <stddef.h>

typedef enum {
    TF_UNIT_NONE = 0,     /* dimensionless: a plain number, no unit */
    TF_UNIT_FRACTION,     /* dimensionless fraction: plain number or percent (60 % = 0.6) */
    TF_UNIT_TIME,         /* min */
    TF_UNIT_TIME_OF_DAY,  /* min after midnight; also "HH:MM", 00:00 to 23:59 */
    TF_UNIT_LENGTH,       /* um */
    TF_UNIT_RATE,         /* 1/min */
    TF_UNIT_DIFFUSIVITY,  /* um^2/min */
    TF_UNIT_MASS_CONC,    /* pg/mL */
    TF_UNIT_MOLAR_CONC,   /* nmol/L */
    TF_UNIT_PRODUCTION,   /* pg/mL/min */
    TF_UNIT_LOAD,         /* intensity-h/week (training load) */
    TF_UNIT_NKINDS
} tf_unit_kind;

#ifdef __cplusplus
extern "C" {
#endif

/* The default unit of a kind as written in docs and formatted scenarios ("" for none). */
const char *tf_unit_default(tf_unit_kind k);
/* The quantity in words, e.g. "time", "diffusivity". */
const char *tf_unit_quantity(tf_unit_kind k);
/* Accepted units of a kind, every spelling, for messages and docs, e.g. "s, min, h, d, week
 * (also sec, ...)". */
const char *tf_unit_accepted(tf_unit_kind k);
/* The kind whose default unit is `unit` (the unit column of tf_params.def); -1 if none. */
int tf_unit_kind_of(const char *unit);

/* Strict decimal number: [+-]digits[.digits][(e|E)[+-]digits], or .digits; no hex, no
 * nan/inf, no leading or trailing text. Returns the number of characters used (0: none) and
 * the value in *out; the caller decides what may follow. */
size_t tf_unit_scan_number(const char *text, double *out);

/* Parse "NUMBER [UNIT]" of kind k into the kind's default unit. Returns 0 on success, else
 * writes a message (without the key) to err and returns -1. Finite values only. */
int tf_unit_parse(tf_unit_kind k, const char *text, double *out, char *err, size_t errlen);

/* Factor converting a value in `unit` to kind k's default unit; 0 when not a unit of k. */
double tf_unit_factor(tf_unit_kind k, const char *unit);

#ifdef __cplusplus
}
#endif

#endif
