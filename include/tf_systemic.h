/* tf_systemic.h: the systemic drivers of docs/model.md (scalars of time, integrated on the host)
 * and the exercise schedule that feeds them. Times in minutes from the start of the run, which
 * begins at midnight of day 0. */
#ifndef TF_SYSTEMIC_H
#define TF_SYSTEMIC_H

#include "tf_model.h"

/* Exercise schedule: `sessions_per_week` sessions of `intensity` (fraction of VO2max) lasting
 * `session_duration` min, at `time_of_day` (min after midnight), on days spread evenly over
 * each week, for sessions starting in [start, end) min. */
typedef struct {
    double intensity;        /* 0..1 */
    double session_duration; /* min */
    int sessions_per_week;   /* 0..7 */
    double time_of_day;      /* min after midnight, 0..1440 */
    double start, end;       /* min */
} tf_schedule;

/* The driver state (integrated) and the quantities derived from it. */
typedef struct {
    double x; /* acute exercise signal, fraction of VO2max */
    double z; /* post-exercise suppression ("open window") */
    double L; /* training load, intensity-hours per week */
} tf_drivers;

typedef struct {
    double I;   /* scheduled intensity */
    double B;   /* training benefit, 0..1 */
    double O;   /* over-training */
    double D;   /* effective depression */
    double C_b; /* blood cortisol, nmol/L */
    double M_Eff; /* effector mobilisation M_E (named so as not to meet math.h's M_E) */
    double A_b; /* systemic IL-10, pg/mL */
} tf_derived;

#ifdef __cplusplus
extern "C" {
#endif

/* Scheduled intensity I(t) at time t (min). */
double tf_schedule_intensity(const tf_schedule *s, double t);

/* Advance the driver ODEs from t to t + dt (RK4 on sub-steps of at most 0.25 min, the
 * schedule sampled at each sub-step's midpoint). */
void tf_drivers_advance(tf_drivers *d, const tf_params *p, const tf_schedule *s, double t,
                        double dt);

/* B, O, D, C_b, M_E, A_b at time t from the driver state; D0 is the patient's depression. */
tf_derived tf_drivers_derive(const tf_drivers *d, const tf_params *p, const tf_schedule *s,
                             double D0, double t);

/* Reaction coefficients of one sub-step from the parameters and the derived drivers. */
tf_coeffs tf_coeffs_make(const tf_params *p, const tf_derived *q);

/* Default parameters (tf_params.def). */
void tf_params_default(tf_params *p);

#ifdef __cplusplus
}
#endif

#endif
