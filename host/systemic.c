/* systemic.c: the systemic drivers of docs/model.md, integrated on the host each step, and the
 * reaction coefficients they give the tissue. */
#include "tf_systemic.h"

#include <math.h>

#define TF_PI 3.14159265358979323846
#define TF_MIN_PER_WEEK 10080.0

void tf_params_default(tf_params *p)
{
#define TF_PARAM(name, def, unit, lo, hi, help, basis) p->name = (def);
#include "tf_params.def"
#undef TF_PARAM
}

double tf_schedule_intensity(const tf_schedule *s, double t)
{
    if (s->sessions_per_week <= 0 || s->intensity <= 0.0 || s->session_duration <= 0.0)
        return 0.0;
    /* Sessions may begin on the previous day and run past midnight: look at both days. */
    const double day = floor(t / 1440.0);
    for (int back = 0; back <= 1; ++back) {
        const double d = day - back;
        if (d < 0)
            break;
        const double begin = d * 1440.0 + s->time_of_day;
        if (t < begin || t >= begin + s->session_duration)
            continue;
        if (begin < s->start || begin >= s->end)
            continue;
        /* Day d is a session day when it is one of the n days spread evenly over its week:
         * day-of-week w is chosen when floor(k * 7 / n) == w for some k in [0, n). */
        const long w = (long)fmod(d, 7.0);
        const int n = s->sessions_per_week;
        for (int k = 0; k < n; ++k)
            if ((k * 7) / n == w)
                return s->intensity;
    }
    return 0.0;
}

static void rhs(const tf_params *p, double I, const double y[3], double dy[3])
{
    const double x = y[0], z = y[1], L = y[2];
    dy[0] = (I - x) / p->tau_x;
    dy[1] = p->k_z * fmax(0.0, x - p->I_hi) / (1.0 - p->I_hi) - z / p->tau_z;
    dy[2] = (x * TF_MIN_PER_WEEK / 60.0 - L) / p->tau_L;
}

void tf_drivers_advance(tf_drivers *d, const tf_params *p, const tf_schedule *s, double t,
                        double dt)
{
    if (dt <= 0.0)
        return;
    /* RK4 sub-steps of at most 0.25 min and half the shortest time constant (the relaxations
     * are stable for h / tau up to 2.78; the bounds keep tau >= 0.01 min). */
    const double hmax = fmin(0.25, 0.5 * fmin(p->tau_x, fmin(p->tau_z, p->tau_L)));
    const int nsub = (int)ceil(dt / hmax);
    const double h = dt / nsub;
    double y[3] = {d->x, d->z, d->L};
    for (int i = 0; i < nsub; ++i) {
        const double I = tf_schedule_intensity(s, t + (i + 0.5) * h);
        double k1[3], k2[3], k3[3], k4[3], tmp[3];
        rhs(p, I, y, k1);
        for (int c = 0; c < 3; ++c) tmp[c] = y[c] + 0.5 * h * k1[c];
        rhs(p, I, tmp, k2);
        for (int c = 0; c < 3; ++c) tmp[c] = y[c] + 0.5 * h * k2[c];
        rhs(p, I, tmp, k3);
        for (int c = 0; c < 3; ++c) tmp[c] = y[c] + h * k3[c];
        rhs(p, I, tmp, k4);
        for (int c = 0; c < 3; ++c)
            y[c] += h / 6.0 * (k1[c] + 2.0 * k2[c] + 2.0 * k3[c] + k4[c]);
    }
    d->x = y[0];
    d->z = fmax(0.0, y[1]);
    d->L = fmax(0.0, y[2]);
}

tf_derived tf_drivers_derive(const tf_drivers *d, const tf_params *p, const tf_schedule *s,
                             double D0, double t)
{
    tf_derived q;
    q.I = tf_schedule_intensity(s, t);
    q.B = fmin(d->L / p->L_ref, 1.0);
    q.O = fmax(0.0, d->L - p->L_over) / p->L_over;
    q.D = D0 * (1.0 - p->kappa_D * q.B);
    const double circ = 1.0 + p->a_circ * (1.0 - p->f_flat * q.D)
                                  * cos(2.0 * TF_PI * (t - p->t_peak) / 1440.0);
    q.C_b = p->C_base * (1.0 + p->a_D * q.D + p->a_O * q.O) * circ
            + p->C_ex * fmax(0.0, d->x - p->I_thr) / (1.0 - p->I_thr);
    q.M_Eff = (1.0 + p->m_ex * d->x) * fmax(0.0, 1.0 - p->s_z * d->z) * (1.0 + p->m_L * q.B);
    q.A_b = p->A_base * (1.0 + p->a_ex * d->x + p->a_L * q.B);
    return q;
}

tf_coeffs tf_coeffs_make(const tf_params *p, const tf_derived *q)
{
    tf_coeffs c;
    c.r_T = (tf_real)p->r_T;
    c.beta_P = (tf_real)p->beta_P;
    c.K_P = (tf_real)p->K_P;
    c.k_kill = (tf_real)p->k_kill;
    c.inv_K_CE = (tf_real)(1.0 / p->K_CE);
    c.inv_K_S = (tf_real)(1.0 / p->K_S);
    c.E_src = (tf_real)(p->rho_E * q->M_Eff);
    c.chi_P = (tf_real)p->chi_P;
    c.mu_E = (tf_real)p->mu_E;
    c.k_ex = (tf_real)p->k_ex;
    c.mu_CE = (tf_real)p->mu_CE;
    c.K_CD = (tf_real)p->K_CD;
    c.S_src = (tf_real)(p->rho_S * (1.0 + p->alpha_S * q->D));
    c.K_PS = (tf_real)p->K_PS;
    c.mu_S = (tf_real)p->mu_S;
    c.P_from_T = (tf_real)(p->s_PT * (1.0 + p->alpha_P * q->D) * (1.0 - p->kappa_P * q->B));
    c.s_PS = (tf_real)p->s_PS;
    c.inv_K_A = (tf_real)(1.0 / p->K_A);
    c.mu_P = (tf_real)p->mu_P;
    c.gamma_eff = (tf_real)(p->gamma_C * (1.0 - p->rho_GR * q->D));
    c.K_GC = (tf_real)p->K_GC;
    c.s_AS = (tf_real)p->s_AS;
    c.s_AE = (tf_real)p->s_AE;
    c.lambda_A = (tf_real)p->lambda_A;
    c.mu_A = (tf_real)p->mu_A;
    c.A_src = (tf_real)(p->lambda_A * q->A_b);
    c.lambda_C = (tf_real)p->lambda_C;
    c.mu_C = (tf_real)p->mu_C;
    c.C_src = (tf_real)(p->lambda_C * q->C_b);
    return c;
}
