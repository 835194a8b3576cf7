/* test_systemic.c: the systemic drivers of docs/model.md against closed forms.
 *
 *   schedule     I(t): session days spread over the week, times of day, the [start, end)
 *                window, sessions that cross midnight.
 *   drivers_*    the driver ODEs (RK4 of tf_drivers_advance) vs closed forms: x relaxes as
 *                I (1 - exp(-t/tau_x)); L follows its linear response and settles at 168 I under
 *                continuous exercise; z stays 0 below I_hi and settles at
 *                k_z tau_z (I - I_hi)/(1 - I_hi) above it. Tolerance 1e-7 relative: RK4 on
 *                0.25 min sub-steps has a global error near t/tau (h/tau)^4 / 120 <= 1e-8 for
 *                the shortest default time constant, tau_x = 10 min; with the shortest the
 *                bounds allow (0.01 min) the sub-steps are tau/2 and x, z, L settle.
 *   derive       B, O, D, C_b, M_E, A_b at hand-picked driver states, written out from the
 *                formulas, and tf_coeffs_make's folding of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tf_test_util.h"

#define DAY 1440.0
#define PI 3.14159265358979323846

static void close_rel(double got, double want, double rel, const char *what)
{
    const double err = fabs(got - want);
    if (!(err <= rel * fabs(want) + 1e-300)) {
        print_message("%s: got %.15g, want %.15g (rel. tol %.1e)\n", what, got, want, rel);
        fail();
    }
}

static void schedule(void **st)
{
    (void)st;
    /* 3 sessions a week: days k*7/3 for k = 0, 1, 2 -> weekdays 0, 2, 4. */
    tf_schedule s = {.intensity = 0.6, .session_duration = 45.0, .sessions_per_week = 3,
                     .time_of_day = 18 * 60.0, .start = 0.0, .end = 1e9};
    const int session_day[7] = {1, 0, 1, 0, 1, 0, 0};
    for (int week = 0; week < 3; ++week)
        for (int w = 0; w < 7; ++w) {
            const double d = (week * 7 + w) * DAY;
            const double want = session_day[w] ? 0.6 : 0.0;
            assert_true(tf_schedule_intensity(&s, d + 1080.0) == want);        /* first minute */
            assert_true(tf_schedule_intensity(&s, d + 1080.0 + 44.9) == want); /* last */
            assert_true(tf_schedule_intensity(&s, d + 1080.0 + 45.0) == 0.0);  /* just after */
            assert_true(tf_schedule_intensity(&s, d + 1079.9) == 0.0);         /* just before */
            assert_true(tf_schedule_intensity(&s, d + 420.0) == 0.0);
        }
    /* 7 a week: every day; 1 a week: weekday 0 only; 0 a week or zero intensity: never. */
    s.sessions_per_week = 7;
    for (int w = 0; w < 14; ++w)
        assert_true(tf_schedule_intensity(&s, w * DAY + 1100.0) == 0.6);
    s.sessions_per_week = 1;
    for (int w = 0; w < 14; ++w)
        assert_true(tf_schedule_intensity(&s, w * DAY + 1100.0) == (w % 7 == 0 ? 0.6 : 0.0));
    s.sessions_per_week = 5; /* weekdays 0, 1, 2, 4, 5 */
    const int five[7] = {1, 1, 1, 0, 1, 1, 0};
    for (int w = 0; w < 7; ++w)
        assert_true(tf_schedule_intensity(&s, w * DAY + 1100.0) == (five[w] ? 0.6 : 0.0));
    s.sessions_per_week = 0;
    assert_true(tf_schedule_intensity(&s, 1100.0) == 0.0);
    s.sessions_per_week = 7;
    s.intensity = 0.0;
    assert_true(tf_schedule_intensity(&s, 1100.0) == 0.0);

    /* Window: sessions that begin in [start, end) only. */
    s.intensity = 0.6;
    s.start = 2 * DAY;
    s.end = 4 * DAY + 1080.0; /* the day-4 session begins at end: excluded */
    for (int w = 0; w < 7; ++w)
        assert_true(tf_schedule_intensity(&s, w * DAY + 1100.0) ==
                    (w >= 2 && w < 4 ? 0.6 : 0.0));
    s.start = 2 * DAY + 1090.0; /* the day-2 session begins before start: excluded */
    assert_true(tf_schedule_intensity(&s, 2 * DAY + 1100.0) == 0.0);
    assert_true(tf_schedule_intensity(&s, 3 * DAY + 1100.0) == 0.6);

    /* Across midnight: 23:20 for 90 min runs to 00:50 of the next day, which belongs to the
     * session of the day before, session day or not. */
    tf_schedule m = {.intensity = 0.8, .session_duration = 90.0, .sessions_per_week = 1,
                     .time_of_day = 1400.0, .start = 0.0, .end = 1e9};
    assert_true(tf_schedule_intensity(&m, 1410.0) == 0.8);
    assert_true(tf_schedule_intensity(&m, DAY + 20.0) == 0.8);      /* day 1, not a session day */
    assert_true(tf_schedule_intensity(&m, DAY + 49.9) == 0.8);
    assert_true(tf_schedule_intensity(&m, DAY + 50.0) == 0.0);
    assert_true(tf_schedule_intensity(&m, DAY + 1410.0) == 0.0);    /* day 1's own: no */
    assert_true(tf_schedule_intensity(&m, 7 * DAY + 20.0) == 0.0);  /* day 6 is not a day */
    assert_true(tf_schedule_intensity(&m, 8 * DAY + 20.0) == 0.8);  /* from day 7 */
    /* ...and the window is judged by the session's beginning, on the previous day. */
    m.end = DAY;
    assert_true(tf_schedule_intensity(&m, DAY + 20.0) == 0.8);
    m.start = 1401.0;
    assert_true(tf_schedule_intensity(&m, DAY + 20.0) == 0.0);
}

/* Continuous exercise at intensity I: every day from 00:00 for the whole day. */
static tf_schedule continuous(double I)
{
    tf_schedule s = {.intensity = I, .session_duration = DAY, .sessions_per_week = 7,
                     .time_of_day = 0.0, .start = 0.0, .end = 1e12};
    return s;
}

static void drivers_x_and_L(void **st)
{
    (void)st;
    tf_params p;
    tf_params_default(&p);
    const double I = 0.6; /* below I_hi: no open window */
    const tf_schedule s = continuous(I);
    tf_drivers d = {0, 0, 0};
    const double tx = p.tau_x, tl = p.tau_L, w = 10080.0 / 60.0;
    double t = 0.0;
    const double checks[] = {1.0, 5.0, 10.0, 30.0, 100.0, DAY, 7 * DAY, 30 * DAY, 200 * DAY};
    for (size_t c = 0; c < sizeof checks / sizeof checks[0]; ++c) {
        while (t < checks[c]) {
            const double dt = fmin(checks[c] - t, 60.0);
            tf_drivers_advance(&d, &p, &s, t, dt);
            t += dt;
        }
        const double x = I * (1.0 - exp(-t / tx));
        /* L' = (w x - L)/tau_L, L(0) = 0, x as above. */
        const double L = w * I * ((1.0 - exp(-t / tl)) - (exp(-t / tx) - exp(-t / tl)) / (1.0 - tl / tx));
        close_rel(d.x, x, 1e-7, "x");
        close_rel(d.L, L, 1e-7, "L");
        assert_true(d.z == 0.0);
    }
    /* After 200 days (about 14 tau_L) L sits at its steady state 168 I intensity-h/week, up to
     * exp(-200/14) = 6e-7. */
    close_rel(d.L, 168.0 * I, 2e-6, "L steady state");
    print_message("x = %.12f, L = %.9f (168 I = %.9f), z = %g after 200 days\n", d.x, d.L,
                  168.0 * I, d.z);

    /* Relaxation after the exercise stops: x = x0 exp(-t/tau_x). */
    tf_schedule none = s;
    none.sessions_per_week = 0;
    tf_drivers r = {0.5, 0.0, 0.0};
    tf_drivers_advance(&r, &p, &none, 0.0, 25.0);
    close_rel(r.x, 0.5 * exp(-25.0 / tx), 1e-7, "x decay");

    /* The shortest time constants the bounds allow (0.01 min): the sub-steps shrink with them
     * (0.25 min sub-steps made RK4 blow up below tau = 0.09 min), and x, z and L still follow
     * their relaxations, at every dt up to a day. */
    tf_params fast = p;
    fast.tau_x = fast.tau_z = fast.tau_L = 0.01;
    const tf_schedule hard = continuous(0.9);
    const double dts[] = {0.5, 60.0, DAY};
    for (size_t i = 0; i < sizeof dts / sizeof dts[0]; ++i) {
        tf_drivers q = {0, 0, 0};
        tf_drivers_advance(&q, &fast, &hard, 0.0, dts[i]);
        close_rel(q.x, 0.9, 1e-7, "x with tau_x = 0.01 min");
        close_rel(q.z, fast.k_z * fast.tau_z * (0.9 - fast.I_hi) / (1.0 - fast.I_hi), 1e-6,
                  "z with tau_z = 0.01 min");
        close_rel(q.L, w * 0.9, 1e-6, "L with tau_L = 0.01 min");
    }
}

static void drivers_z(void **st)
{
    (void)st;
    tf_params p;
    tf_params_default(&p);
    /* At I_hi exactly, x approaches I_hi from below: no suppression ever. */
    tf_schedule s = continuous(p.I_hi);
    tf_drivers d = {0, 0, 0};
    for (int i = 0; i < 24 * 3; ++i)
        tf_drivers_advance(&d, &p, &s, i * 60.0, 60.0);
    assert_true(d.z == 0.0);
    /* Above I_hi: z -> k_z tau_z (I - I_hi)/(1 - I_hi) (x = I after the transient). */
    const double I = 0.95;
    s = continuous(I);
    tf_drivers e = {I, 0.0, 0.0}; /* x already at I: z' = a - z/tau_z exactly */
    const double a = p.k_z * (I - p.I_hi) / (1.0 - p.I_hi), zss = a * p.tau_z;
    double t = 0.0;
    for (int i = 0; i < 3; ++i) {
        tf_drivers_advance(&e, &p, &s, t, 200.0);
        t += 200.0;
        close_rel(e.z, zss * (1.0 - exp(-t / p.tau_z)), 1e-7, "z build-up");
    }
    while (t < 30 * p.tau_z) {
        tf_drivers_advance(&e, &p, &s, t, 600.0);
        t += 600.0;
    }
    close_rel(e.z, zss, 1e-7, "z steady state");
    /* Decay after the session: z = z0 exp(-t/tau_z) while x <= I_hi. */
    tf_schedule none = s;
    none.sessions_per_week = 0;
    tf_drivers f = {0.0, 0.7, 0.0};
    tf_drivers_advance(&f, &p, &none, 0.0, 300.0);
    close_rel(f.z, 0.7 * exp(-300.0 / p.tau_z), 1e-7, "z decay");
}

static void derive(void **st)
{
    (void)st;
    tf_params p;
    tf_params_default(&p);
    tf_schedule none;
    memset(&none, 0, sizeof none);
    /* Hand-picked states: sedentary; trained (L between L_ref and L_over) during a hard
     * session with some suppression; over-trained with full suppression. */
    const tf_drivers states[3] = {{0.0, 0.0, 0.0}, {0.9, 0.3, 3.0}, {0.7, 1.4, 9.0}};
    const double D0s[3] = {0.0, 0.8, 0.5};
    const double times[3] = {480.0, 3 * DAY + 1200.0, 100.0};
    for (int c = 0; c < 3; ++c) {
        const tf_drivers *d = &states[c];
        const double D0 = D0s[c], t = times[c];
        const tf_derived q = tf_drivers_derive(d, &p, &none, D0, t);
        const double B = fmin(d->L / p.L_ref, 1.0);
        const double O = fmax(0.0, d->L - p.L_over) / p.L_over;
        const double D = D0 * (1.0 - p.kappa_D * B);
        const double Cb = p.C_base * (1.0 + p.a_D * D + p.a_O * O)
                              * (1.0 + p.a_circ * (1.0 - p.f_flat * D)
                                           * cos(2.0 * PI * (t - p.t_peak) / DAY))
                          + p.C_ex * fmax(0.0, d->x - p.I_thr) / (1.0 - p.I_thr);
        const double ME = (1.0 + p.m_ex * d->x) * fmax(0.0, 1.0 - p.s_z * d->z) * (1.0 + p.m_L * B);
        const double Ab = p.A_base * (1.0 + p.a_ex * d->x + p.a_L * B);
        close_rel(q.B, B, 1e-15, "B");
        close_rel(q.O, O, 1e-15, "O");
        close_rel(q.D, D, 1e-15, "D");
        close_rel(q.C_b, Cb, 1e-14, "C_b");
        close_rel(q.M_Eff, ME, 1e-15, "M_E");
        close_rel(q.A_b, Ab, 1e-15, "A_b");
        assert_true(q.I == 0.0);
        print_message("state %d: B %.4f O %.4f D %.4f C_b %.3f M_E %.4f A_b %.4f\n", c, q.B,
                      q.O, q.D, q.C_b, q.M_Eff, q.A_b);
    }
    /* Numbers worked by hand. Sedentary healthy at the cortisol peak (08:00): C_b = C_base
     * (1 + a_circ) = 350. */
    tf_derived q = tf_drivers_derive(&states[0], &p, &none, 0.0, 480.0);
    close_rel(q.C_b, 350.0, 1e-14, "C_b at the peak");
    close_rel(q.M_Eff, 1.0, 0.0, "M_E at rest");
    close_rel(q.A_b, 2.0, 0.0, "A_b at rest");
    /* Depressed (D0 = 1) sedentary at the trough (20:00): D = 1, C_b = 250 (1.4)(1 - 0.2) = 280. */
    q = tf_drivers_derive(&states[0], &p, &none, 1.0, 1200.0);
    close_rel(q.C_b, 280.0, 1e-14, "C_b at the trough, D = 1");
    /* L = 3 (B = 1): D = 0.5 D0; at x = 0.9, z = 0.3, 6 hours after the peak (cos = 0):
     * C_b = 250 (1 + 0.4 * 0.4) + 400 (0.3 / 0.4) = 290 + 300 = 590 for D0 = 0.8;
     * M_E = (1 + 1.8)(0.7)(1.3) = 2.548; A_b = 2 (1 + 2.7 + 0.5) = 8.4. */
    q = tf_drivers_derive(&states[1], &p, &none, 0.8, 480.0 + 360.0);
    close_rel(q.D, 0.4, 1e-15, "D trained");
    close_rel(q.C_b, 590.0, 1e-13, "C_b trained, exercising");
    close_rel(q.M_Eff, 2.548, 1e-14, "M_E trained, exercising");
    close_rel(q.A_b, 8.4, 1e-14, "A_b trained, exercising");
    /* L = 9: O = 0.5; z = 1.4 > 1/s_z: M_E = 0. */
    q = tf_drivers_derive(&states[2], &p, &none, 0.0, 480.0 + 360.0);
    close_rel(q.O, 0.5, 1e-15, "O over-trained");
    assert_true(q.M_Eff == 0.0);
    close_rel(q.C_b, 250.0 * 1.5 + 400.0 * 0.25, 1e-14, "C_b over-trained");

    /* tf_coeffs_make folds the drivers into the coefficients. */
    q = tf_drivers_derive(&states[1], &p, &none, 0.8, 100.0);
    const tf_coeffs c = tf_coeffs_make(&p, &q);
    const double tol = 4.0 * TT_EPS;
    close_rel(c.E_src, p.rho_E * q.M_Eff, tol, "E_src");
    close_rel(c.S_src, p.rho_S * (1.0 + p.alpha_S * q.D), tol, "S_src");
    close_rel(c.P_from_T, p.s_PT * (1.0 + p.alpha_P * q.D) * (1.0 - p.kappa_P * q.B), tol,
              "P_from_T");
    close_rel(c.gamma_eff, p.gamma_C * (1.0 - p.rho_GR * q.D), tol, "gamma_eff");
    close_rel(c.C_src, p.lambda_C * q.C_b, tol, "C_src = lambda_C C_b");
    close_rel(c.A_src, p.lambda_A * q.A_b, tol, "A_src = lambda_A A_b");
    close_rel(c.inv_K_CE, 1.0 / p.K_CE, tol, "1/K_CE");
    close_rel(c.inv_K_S, 1.0 / p.K_S, tol, "1/K_S");
    close_rel(c.inv_K_A, 1.0 / p.K_A, tol, "1/K_A");
    close_rel(c.r_T, p.r_T, tol, "r_T");
    close_rel(c.mu_C, p.mu_C, tol, "mu_C");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schedule),
        cmocka_unit_test(drivers_x_and_L),
        cmocka_unit_test(drivers_z),
        cmocka_unit_test(derive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
