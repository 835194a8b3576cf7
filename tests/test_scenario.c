/* test_scenario.c: units (every kind, with exact expected conversions), the scenario reader
 * (HH:MM, time unit spellings, lists, grid forms, inline comments, long lines, boundary precedence, --set over the
 * file), the error catalogue's messages at the unit level, and the format -> load -> format
 * round trip. Expected values are exact conversions written out by hand; comparisons of
 * converted values use a relative tolerance of 1e-15 (one or two roundings of a product). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tf_scenario.h"
#include "tf_scenario_keys.h"
#include "tf_units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void near(double got, double want)
{
    if (!(fabs(got - want) <= 1e-15 * fabs(want))) {
        print_error("got %.17g, want %.17g\n", got, want);
        fail();
    }
}

static double unit(tf_unit_kind k, const char *text)
{
    double v = -1;
    char err[512];
    if (tf_unit_parse(k, text, &v, err, sizeof err) != 0) {
        print_error("'%s': %s\n", text, err);
        fail();
    }
    return v;
}

/* Parse must fail and the message contain `frag`. */
static void unit_bad(tf_unit_kind k, const char *text, const char *frag)
{
    double v;
    char err[512] = "";
    assert_int_equal(tf_unit_parse(k, text, &v, err, sizeof err), -1);
    if (!strstr(err, frag)) {
        print_error("'%s': message '%s' lacks '%s'\n", text, err, frag);
        fail();
    }
}

static void test_units_time_length(void **state)
{
    (void)state;
    near(unit(TF_UNIT_TIME, "28 d"), 40320);
    near(unit(TF_UNIT_TIME, "28"), 28); /* bare: min */
    near(unit(TF_UNIT_TIME, "90 s"), 1.5);
    near(unit(TF_UNIT_TIME, "2 h"), 120);
    near(unit(TF_UNIT_TIME, "2h"), 120);
    near(unit(TF_UNIT_TIME, "1 week"), 10080);
    near(unit(TF_UNIT_TIME, "2 weeks"), 20160);
    near(unit(TF_UNIT_TIME, "1 wk"), 10080);
    near(unit(TF_UNIT_TIME, "1.5e1 min"), 15);
    near(unit(TF_UNIT_LENGTH, "10"), 10);
    near(unit(TF_UNIT_LENGTH, "1 mm"), 1000);
    near(unit(TF_UNIT_LENGTH, "500 nm"), 0.5);
    near(unit(TF_UNIT_LENGTH, "0.1 cm"), 1000);
    near(unit(TF_UNIT_LENGTH, "12 \xC2\xB5m"), 12); /* micro sign */
    near(unit(TF_UNIT_LENGTH, "12 \xCE\xBCm"), 12); /* Greek mu */
    unit_bad(TF_UNIT_TIME, "28 um", "accepted units are s, min, h, d, week");
    unit_bad(TF_UNIT_LENGTH, "3 d", "nm, um");
}

/* Every name of a time unit in the singular and the plural, alone and in compound units, and
 * every spelling the documentation (tf_unit_accepted) lists is one the parser takes. */
static void test_units_time_spellings(void **state)
{
    (void)state;
    const struct {
        const char *one, *many;
        double min;
    } names[] = {{"sec", "secs", 1.0 / 60}, {"second", "seconds", 1.0 / 60}, {"min", "mins", 1},
                 {"minute", "minutes", 1},  {"hr", "hrs", 60},              {"hour", "hours", 60},
                 {"day", "days", 1440},     {"wk", "wks", 10080},           {"week", "weeks", 10080}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
        char text[64];
        snprintf(text, sizeof text, "3 %s", names[i].one);
        near(unit(TF_UNIT_TIME, text), 3 * names[i].min);
        snprintf(text, sizeof text, "3 %s", names[i].many);
        near(unit(TF_UNIT_TIME, text), 3 * names[i].min);
        snprintf(text, sizeof text, "2 1/%s", names[i].many);
        near(unit(TF_UNIT_RATE, text), 2 / names[i].min);
        snprintf(text, sizeof text, "1 um^2/%s", names[i].one);
        near(unit(TF_UNIT_DIFFUSIVITY, text), 1 / names[i].min);
    }
    near(unit(TF_UNIT_TIME_OF_DAY, "2 hrs"), 120);
    near(unit(TF_UNIT_LENGTH, "3 microns"), 3);
    /* The documented list: every word but "also" is a time unit. */
    const char *doc = tf_unit_accepted(TF_UNIT_TIME);
    int words = 0;
    for (const char *p = doc; *p;) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
            ++p;
            continue;
        }
        char word[32], text[48];
        size_t n = 0;
        while (((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) && n < sizeof word - 1)
            word[n++] = *p++;
        word[n] = '\0';
        if (strcmp(word, "also") == 0)
            continue;
        snprintf(text, sizeof text, "1 %s", word);
        assert_true(unit(TF_UNIT_TIME, text) > 0);
        ++words;
    }
    assert_int_equal(words, 21); /* s, h, d and the 9 names above, each in two forms */
    unit_bad(TF_UNIT_TIME, "1 hourss", "wks, weeks");
}

static void test_units_compound(void **state)
{
    (void)state;
    near(unit(TF_UNIT_RATE, "1/h"), 1.0 / 60);
    near(unit(TF_UNIT_RATE, "1/s"), 60);
    near(unit(TF_UNIT_RATE, "2 1/d"), 2.0 / 1440);
    near(unit(TF_UNIT_RATE, "3 min^-1"), 3);
    near(unit(TF_UNIT_RATE, "0.5"), 0.5);
    near(unit(TF_UNIT_DIFFUSIVITY, "1 um^2/s"), 60);
    near(unit(TF_UNIT_DIFFUSIVITY, "1 \xC2\xB5m\xC2\xB2/s"), 60);
    near(unit(TF_UNIT_DIFFUSIVITY, "1e-6 cm^2/s"), 1e-6 * 1e8 * 60);
    near(unit(TF_UNIT_DIFFUSIVITY, "1 mm^2/d"), 1e6 / 1440);
    near(unit(TF_UNIT_DIFFUSIVITY, "2000 um^2/min"), 2000);
    near(unit(TF_UNIT_MASS_CONC, "1 ng/mL"), 1000);
    near(unit(TF_UNIT_MASS_CONC, "5 pg/ml"), 5);
    near(unit(TF_UNIT_MASS_CONC, "3 ng/L"), 3);
    near(unit(TF_UNIT_MOLAR_CONC, "1 uM"), 1000);
    near(unit(TF_UNIT_MOLAR_CONC, "1 umol/L"), 1000);
    near(unit(TF_UNIT_MOLAR_CONC, "500 pM"), 0.5);
    near(unit(TF_UNIT_MOLAR_CONC, "250 nmol/L"), 250);
    near(unit(TF_UNIT_MOLAR_CONC, "250 nM"), 250);
    near(unit(TF_UNIT_PRODUCTION, "60 pg/mL/h"), 1);
    near(unit(TF_UNIT_PRODUCTION, "1 ng/mL/d"), 1000.0 / 1440);
    near(unit(TF_UNIT_PRODUCTION, "0.5 pg/mL/min"), 0.5);
    near(unit(TF_UNIT_LOAD, "1.5 intensity-h/week"), 1.5);
    near(unit(TF_UNIT_LOAD, "90 intensity-min/week"), 1.5);
    near(unit(TF_UNIT_FRACTION, "60 %"), 0.6);
    near(unit(TF_UNIT_FRACTION, "60%"), 0.6);
    near(unit(TF_UNIT_FRACTION, "0.6"), 0.6);
    near(unit(TF_UNIT_NONE, "0.8"), 0.8);
    unit_bad(TF_UNIT_NONE, "0.8 %", "plain number");
    unit_bad(TF_UNIT_RATE, "1 um^2/s", "1/s, 1/min");
    unit_bad(TF_UNIT_DIFFUSIVITY, "1 1/s", "LENGTH^2/TIME");
    unit_bad(TF_UNIT_MASS_CONC, "1 nM", "MASS/VOLUME");
    unit_bad(TF_UNIT_MOLAR_CONC, "1 pg/mL", "nmol/L");
    unit_bad(TF_UNIT_PRODUCTION, "1 pg/mL", "MASS/VOLUME/TIME");
}

static void test_units_numbers_and_clock(void **state)
{
    (void)state;
    near(unit(TF_UNIT_TIME_OF_DAY, "08:30"), 510);
    near(unit(TF_UNIT_TIME_OF_DAY, "0:05"), 5);
    near(unit(TF_UNIT_TIME_OF_DAY, "23:59"), 1439);
    near(unit(TF_UNIT_TIME_OF_DAY, "00:00"), 0);
    /* A time of day is in [0, 24 h): the message gives the range that is accepted. */
    unit_bad(TF_UNIT_TIME_OF_DAY, "24:00", "HH:MM from 00:00 to 23:59");
    unit_bad(TF_UNIT_TIME_OF_DAY, "23:60", "HH:MM from 00:00 to 23:59");
    near(unit(TF_UNIT_TIME_OF_DAY, "17 h"), 1020);
    near(unit(TF_UNIT_TIME_OF_DAY, "600"), 600);
    unit_bad(TF_UNIT_TIME_OF_DAY, "25:00", "HH:MM");
    unit_bad(TF_UNIT_TIME_OF_DAY, "8:5", "HH:MM");
    unit_bad(TF_UNIT_TIME_OF_DAY, "08:30 pm", "HH:MM");
    near(unit(TF_UNIT_NONE, "-2.5e-3"), -2.5e-3);
    near(unit(TF_UNIT_NONE, ".5"), 0.5);
    near(unit(TF_UNIT_NONE, "+5."), 5);
    unit_bad(TF_UNIT_NONE, "nan", "not a number");
    unit_bad(TF_UNIT_NONE, "NaN", "not a number");
    unit_bad(TF_UNIT_NONE, "inf", "not a number");
    unit_bad(TF_UNIT_NONE, "-infinity", "not a number");
    unit_bad(TF_UNIT_NONE, "1e999", "range");
    unit_bad(TF_UNIT_NONE, "0x10", "plain number");
    unit_bad(TF_UNIT_NONE, "1.2.3", "malformed");
    unit_bad(TF_UNIT_NONE, "", "missing value");
    unit_bad(TF_UNIT_TIME, "5 d d", "unknown unit");
    unit_bad(TF_UNIT_TIME, "five", "not a number");
    assert_int_equal(tf_unit_kind_of("um^2/min"), TF_UNIT_DIFFUSIVITY);
    assert_int_equal(tf_unit_kind_of("-"), TF_UNIT_NONE);
    assert_int_equal(tf_unit_kind_of("pg/mL/min"), TF_UNIT_PRODUCTION);
    assert_int_equal(tf_unit_kind_of("furlong"), -1);
}

/* ---- scenario files ----------------------------------------------------------------------- */

static const char *write_file(const char *name, const char *text)
{
    FILE *f = fopen(name, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return name;
}

static tf_status load_text(tf_scenario *s, const char *text, const char *const *sets, int n)
{
    tf_error_clear();
    return tf_scenario_load(s, write_file("test_scenario_tmp.ini", text), sets, n);
}

static void load_ok(tf_scenario *s, const char *text, const char *const *sets, int n)
{
    if (load_text(s, text, sets, n) != TF_OK) {
        print_error("unexpected error: %s\n", tf_error_message());
        fail();
    }
}

static void load_bad(const char *text, const char *const *sets, int n, const char *frag)
{
    tf_scenario s;
    assert_int_equal(load_text(&s, text, sets, n), TF_ERR_USAGE);
    if (!strstr(tf_error_message(), frag)) {
        print_error("message '%s' lacks '%s'\n", tf_error_message(), frag);
        fail();
    }
}

static void test_defaults(void **state)
{
    (void)state;
    tf_scenario s;
    tf_scenario_defaults(&s);
    assert_string_equal(s.name, "tumorfield");
    near(s.duration, 28 * 1440);
    near(s.dt, 1);
    assert_int_equal(s.scheme, TF_SCHEME_LOD);
    assert_int_equal(s.seed, 1);
    assert_int_equal(s.n[0], 64);
    assert_int_equal(s.n[2], 64);
    near(s.spacing, 10);
    assert_string_equal(s.dir, "output"); /* ./output, stored tidied */
    assert_int_equal(s.fields_mask, (1u << TF_NFIELDS) - 1);
    assert_true(isinf(s.exercise.end));
    near(s.p.D_C, 15000);
    tf_error_clear();
    assert_int_equal(tf_scenario_validate(&s), TF_OK);
    /* An empty file is every default. */
    tf_scenario t;
    load_ok(&t, "", NULL, 0);
    char *a = tf_scenario_format(&s), *b = tf_scenario_format(&t);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void test_values(void **state)
{
    (void)state;
    tf_scenario s;
    load_ok(&s,
            "\xEF\xBB\xBF# a comment\n"
            "; another\n"
            "[run]\n"
            "  name = my-run.1   # inline comment\n"
            "duration = 2 weeks ; inline comment\n"
            "dt: 30 s\n"
            "seed = 18446744073709551615\n"
            "[grid]\n"
            "n = 16, 8 x 4\n"
            "spacing = 0.02 mm\n"
            "[output]\n"
            "fields = tumor, cortisol effector\n"
            "[exercise]\n"
            "time_of_day = 06:45\n"
            "intensity = 75 %\n"
            "sessions_per_week = 3\n"
            "end = 10 d\n"
            "[model]\n"
            "D_C = 250 um^2/s\n"
            "t_peak = 07:30\n"
            "K_CE = 0.5 uM\n",
            NULL, 0);
    assert_string_equal(s.name, "my-run.1");
    near(s.duration, 20160);
    near(s.dt, 0.5);
    assert_true(s.seed == UINT64_MAX);
    assert_int_equal(s.n[0], 16);
    assert_int_equal(s.n[1], 8);
    assert_int_equal(s.n[2], 4);
    near(s.spacing, 20);
    assert_int_equal(s.fields_mask, (1u << TF_TUMOR) | (1u << TF_CORTISOL) | (1u << TF_EFFECTOR));
    near(s.exercise.time_of_day, 405);
    near(s.exercise.intensity, 0.75);
    assert_int_equal(s.exercise.sessions_per_week, 3);
    near(s.exercise.end, 14400);
    near(s.p.D_C, 15000);
    near(s.p.t_peak, 450);
    near(s.p.K_CE, 500);

    load_ok(&s, "[output]\nfields = none\n", NULL, 0);
    assert_int_equal(s.fields_mask, 0);
    load_ok(&s, "[output]\nfields = all\n[grid]\nn = 7\n", NULL, 0);
    assert_int_equal(s.fields_mask, (1u << TF_NFIELDS) - 1);
    assert_int_equal(s.n[1], 7);
}

/* grid.n: one count, or three with one separator between each two (blanks, or one 'x' or ','
 * with optional blanks); anything else is refused with the key and the forms it takes. */
static void test_grid_forms(void **state)
{
    (void)state;
    const char *good[] = {"37x20x9",  "37 x 20 x 9", "37, 20, 9", "37,20,9", "37 20 9",
                          "37\t20  9 ", "37 ,20 ,9",  "37x 20 ,9"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; ++i) {
        char text[64];
        snprintf(text, sizeof text, "[grid]\nn = %s\n", good[i]);
        tf_scenario s;
        load_ok(&s, text, NULL, 0);
        assert_int_equal(s.n[0], 37);
        assert_int_equal(s.n[1], 20);
        assert_int_equal(s.n[2], 9);
    }
    const char *bad[] = {"x37x20x9", "37xx20x9", "37,20,9,", "37x20x9x", ",37,20,9", "37,,20,9",
                         "37 x, 20 9", "37 x x 20 9", "37x20", "37x20x9x1", "37X20X9", "37;20;9",
                         "37x20x+9", "x", ",", "37 20 9 x", "0x20x9", "37x20x9 extra"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        char text[64], frag[96];
        snprintf(text, sizeof text, "[grid]\nn = %s\n", bad[i]);
        snprintf(frag, sizeof frag, "[grid] n = %s: expected one or three whole numbers", bad[i]);
        load_bad(text, NULL, 0, frag);
        load_bad(text, NULL, 0, "separated by blanks, or each two by one 'x' or ','");
    }
    const char *sets[] = {"grid.n=37x20x9x"};
    load_bad("", sets, 1, "--set grid.n=37x20x9x: expected one or three whole numbers");
    tf_scenario s;
    load_ok(&s, "[grid]\nn = 12\n", NULL, 0);
    assert_int_equal(s.n[0], 12);
    assert_int_equal(s.n[2], 12);
}

/* A value longer than libinih's 199-character line and an indented line (not a continuation). */
static void test_long_and_indented_lines(void **state)
{
    (void)state;
    char path[400], text[600];
    memset(path, 'a', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 1] = '\0';
    snprintf(text, sizeof text, "[vessels]\nfile = %s   # long\n    radius = 5 um\n", path);
    tf_scenario s;
    load_ok(&s, text, NULL, 0);
    assert_string_equal(s.vessel_file, path);
    near(s.vessel_radius, 5);
}

static void test_boundary_precedence(void **state)
{
    (void)state;
    /* The same keys in two orders give the same conditions: the more specific key wins. */
    const char *a = "[boundary]\n"
                    "cortisol.x_lo = dirichlet 0.3 uM\n"
                    "cortisol = dirichlet 250\n"
                    "all.z_lo = periodic\n"
                    "all = noflux\n"
                    "all.z_hi = periodic\n";
    const char *b = "[boundary]\n"
                    "all = noflux\n"
                    "all.z_hi = periodic\n"
                    "all.z_lo = periodic\n"
                    "cortisol = dirichlet 250 nmol/L\n"
                    "cortisol.x_lo = dirichlet 300\n";
    tf_scenario s, t;
    load_ok(&s, a, NULL, 0);
    load_ok(&t, b, NULL, 0);
    for (int f = 0; f < TF_NFIELDS; ++f)
        for (int i = 0; i < TF_NFACES; ++i) {
            assert_int_equal(s.bcs.bc[f][i].kind, t.bcs.bc[f][i].kind);
            near(s.bcs.bc[f][i].value, t.bcs.bc[f][i].value);
        }
    assert_int_equal(s.bcs.bc[TF_CORTISOL][TF_FACE_XLO].kind, TF_BC_DIRICHLET);
    near(s.bcs.bc[TF_CORTISOL][TF_FACE_XLO].value, 300);
    near(s.bcs.bc[TF_CORTISOL][TF_FACE_YHI].value, 250);
    /* FIELD beats all.FACE. */
    assert_int_equal(s.bcs.bc[TF_CORTISOL][TF_FACE_ZLO].kind, TF_BC_DIRICHLET);
    assert_int_equal(s.bcs.bc[TF_TUMOR][TF_FACE_ZLO].kind, TF_BC_PERIODIC);
    assert_int_equal(s.bcs.bc[TF_TUMOR][TF_FACE_ZHI].kind, TF_BC_PERIODIC);
    assert_int_equal(s.bcs.bc[TF_TUMOR][TF_FACE_XLO].kind, TF_BC_NOFLUX);

    /* --set of a less specific key does not override a more specific one of the file. */
    const char *sets[] = {"boundary.all=dirichlet 1"};
    load_ok(&s, "[boundary]\ntumor.y_hi = noflux\n", sets, 1);
    assert_int_equal(s.bcs.bc[TF_TUMOR][TF_FACE_YHI].kind, TF_BC_NOFLUX);
    assert_int_equal(s.bcs.bc[TF_TUMOR][TF_FACE_YLO].kind, TF_BC_DIRICHLET);
    near(s.bcs.bc[TF_PRO][TF_FACE_XLO].value, 1);

    load_bad("[boundary]\nall.x_lo = periodic\n", NULL, 0, "periodic on face x_lo but not on face x_hi");
    load_bad("[boundary]\ntumor = dirichlet 2\n", NULL, 0, "out of range");
    load_bad("[boundary]\ntumour = noflux\n", NULL, 0, "unknown boundary key");
    load_bad("[boundary]\ntumor.x_left = noflux\n", NULL, 0, "FACE one of x_lo");
    load_bad("[boundary]\nall = reflecting\n", NULL, 0, "expected noflux, periodic or dirichlet");
    load_bad("[boundary]\ncortisol = dirichlet 5 pg/mL\n", NULL, 0, "unknown unit 'pg/mL'");
    load_bad("[boundary]\nall = noflux\nall = periodic\n", NULL, 0, ":3: [boundary] all = periodic: duplicate key, first set on line 2");
}

static void test_set_wins(void **state)
{
    (void)state;
    const char *file = "[exercise]\nintensity = 0.6\nsessions_per_week = 5\n[run]\nduration = 3 d\n";
    const char *sets[] = {"exercise.intensity=0.9", "run.duration = 1 d", "exercise.intensity=80 %",
                          "grid.n=8 8 16"};
    tf_scenario s;
    load_ok(&s, file, sets, 4);
    near(s.exercise.intensity, 0.8); /* the later --set wins */
    near(s.duration, 1440);
    assert_int_equal(s.exercise.sessions_per_week, 5);
    assert_int_equal(s.n[2], 16);
    const char *bad[] = {"exercise.intensity=1.7"};
    load_bad(file, bad, 1, "--set exercise.intensity=1.7: out of range, expected 0 to 1 (fraction of VO2max)");
    const char *noeq[] = {"exercise.intensity"};
    load_bad(file, noeq, 1, "expected SECTION.KEY=VALUE");
    const char *unknown[] = {"exercise.intensty=0.5"};
    load_bad(file, unknown, 1, "did you mean [exercise] intensity?");
}

/* Paths are stored in one spelling (a restart's `--output o/` is the checkpoint's `o`), and a
 * --set path that a scenario file could not hold is refused; [ run ] is [run]; nothing may
 * follow a section header but a comment. */
static void test_paths_and_headers(void **state)
{
    (void)state;
    const char *spell[][2] = {{"a//b/./c/", "a/b/c"}, {"./", "."}, {".", "."}, {"/", "/"},
                              {"/tmp//x/", "/tmp/x"}, {"../up/.", "../up"}, {"o", "o"}};
    for (size_t i = 0; i < sizeof spell / sizeof spell[0]; ++i) {
        char set[64];
        snprintf(set, sizeof set, "output.dir=%s", spell[i][0]);
        const char *sets[] = {set};
        tf_scenario s;
        load_ok(&s, "[run]\nduration = 1 h\n", sets, 1);
        assert_string_equal(s.dir, spell[i][1]);
    }
    const char *hash[] = {"output.dir=./a #b"};
    load_bad("[run]\n", hash, 1, "'#' after a blank starts a comment in a scenario file");
    tf_scenario s;
    load_ok(&s, "[ run ]\nduration = 2 h\n[grid]   # the grid\nn = 8\n", NULL, 0);
    near(s.duration, 120);
    assert_int_equal(s.n[1], 8);
    load_bad("[run] duration = 5 d\n", NULL, 0,
             "test_scenario_tmp.ini:1: 'duration = 5 d' after the section header [run]");
}

static void test_errors(void **state)
{
    (void)state;
    load_bad("[run]\n\n# c\nduration = 28 um\n", NULL, 0,
             "test_scenario_tmp.ini:4: [run] duration = 28 um: unknown unit 'um' for a time");
    load_bad("[exercise]\nintensity = 1.7\n", NULL, 0,
             "test_scenario_tmp.ini:2: [exercise] intensity = 1.7: out of range, expected 0 to 1 (fraction of VO2max)");
    load_bad("[model]\nk_Kill = 1\n", NULL, 0, "did you mean [model] k_kill?");
    load_bad("[run]\nspacing = 10 um\n", NULL, 0, "did you mean [grid] spacing?");
    load_bad("[exercize]\n", NULL, 0, ":1: unknown section [exercize]; did you mean [exercise]?");
    load_bad("[exercize]\nintensity = 1\n", NULL, 0, "unknown section [exercize]; did you mean [exercise]?");
    load_bad("[run]\ndt = inf\n", NULL, 0, "not a number");
    load_bad("[run]\ndt = 1 min extra\n", NULL, 0, "unknown unit 'min extra'");
    load_bad("[run]\nseed = -1\n", NULL, 0, "whole number");
    load_bad("[exercise]\nsessions_per_week = 8\n", NULL, 0, "0 to 7");
    load_bad("[exercise]\nsessions_per_week = 2.5\n", NULL, 0, "whole number");
    load_bad("[run]\nscheme = implicit\n", NULL, 0, "expected lod or explicit");
    load_bad("[grid]\nn = 10 10\n", NULL, 0, "one or three");
    load_bad("[exercise]\ntime_of_day = 24:00\n", NULL, 0,
             "[exercise] time_of_day = 24:00: not a clock time: expected HH:MM from 00:00 to 23:59");
    load_bad("[output]\nfields = tumor, oxygen\n", NULL, 0, "unknown field 'oxygen'");
    load_bad("[output]\ndir =\n", NULL, 0, "empty");
    load_bad("[run]\nname = ../x\n", NULL, 0, "expected a name");
    load_bad("[run]\ndt = 2 d\n", NULL, 0, "out of range");
    load_bad("[run]\nduration = 1 h\ndt = 2 h\n", NULL, 0, "longer than [run] duration");
    load_bad("[run]\nscheme = explicit\n", NULL, 0, "stability limit 1/(6 D/h^2 + loss) = 0.001109 min of cortisol");
    /* A relation between keys names where each came from: a line, --set or the default. */
    load_bad("[output]\ninterval = 30 s\n", NULL, 0,
             "[output] interval (line 2) = 0.5 min is shorter than [run] dt (default) = 1 min");
    const char *dt_set[] = {"run.dt=2 h"};
    load_bad("[run]\nduration = 1 d\n\n[output]\ninterval = 1 h\n", dt_set, 1,
             "with its --set overrides: [output] interval (line 5) = 60 min is shorter than "
             "[run] dt (--set) = 120 min");
    load_bad("[run]\nduration = 1 h\ndt = 2 h\n", NULL, 0,
             "[run] dt (line 3) = 120 min is longer than [run] duration (line 2) = 60 min");
    load_bad("[grid]\nn = 1048576\n", NULL, 0, "above the limit of 1024 GiB");
    load_bad("[exercise]\nstart = 5 d\nend = 2 d\n", NULL, 0,
             "not after [exercise] start (line 2)");
    load_bad("just words\n", NULL, 0, "test_scenario_tmp.ini:1: 'just words': expected [section]");
    load_bad("[run\n", NULL, 0, ":1:");
    load_bad("x = 1\n", NULL, 0, "outside any section");
    tf_scenario s;
    tf_error_clear();
    assert_int_equal(tf_scenario_load(&s, "no/such/file.ini", NULL, 0), TF_ERR_IO);
}

/* Every key away from its default, format -> load -> format gives the same text. */
static void test_round_trip(void **state)
{
    (void)state;
    const char *sets[] = {"run.name=rt", "run.duration=1e5 s", "run.dt=1.3 s", "run.scheme=explicit",
                          "run.seed=12345678901234", "grid.n=9 10 11", "grid.spacing=123.456 um",
                          "output.dir=some dir/with spaces", "output.interval=1.1 h",
                          "output.timeseries_interval=13 min", "output.fields=anti_cytokine pro_cytokine",
                          "output.compression=7", "checkpoint.interval=0.7 d",
                          "patient.depression=1/3", "exercise.time_of_day=6.5", "exercise.end=3 weeks",
                          "exercise.start=1 d", "tumor.radius=0.1 mm", "vessels.variable=v_map",
                          "initial.file=init.nc", "model.r_T=0.1 1/d", "model.D_C=1e-9 m^2/s",
                          "model.D_P=1e-7 cm^2/s", "boundary.all=dirichlet 0.25",
                          "boundary.tumor=periodic", "boundary.cortisol.x_hi=dirichlet 0.1 uM"};
    tf_scenario s;
    /* 1/3 is not a number: check the error, then use a real third. */
    load_bad("", sets, 26, "--set patient.depression=1/3");
    sets[13] = "patient.depression=0.33333333333333331";
    load_ok(&s, "", sets, 26);
    char *a = tf_scenario_format(&s);
    assert_non_null(a);
    tf_scenario t;
    load_ok(&t, a, NULL, 0);
    char *b = tf_scenario_format(&t);
    assert_string_equal(a, b);
    /* And the values are bit-identical, not only their text. */
    assert_memory_equal(&s.p, &t.p, sizeof s.p);
    assert_true(s.dt == t.dt && s.duration == t.duration && s.spacing == t.spacing);
    assert_true(s.exercise.time_of_day == t.exercise.time_of_day);
    for (int f = 0; f < TF_NFIELDS; ++f)
        for (int i = 0; i < TF_NFACES; ++i) {
            assert_int_equal(s.bcs.bc[f][i].kind, t.bcs.bc[f][i].kind);
            assert_true(s.bcs.bc[f][i].value == t.bcs.bc[f][i].value);
        }
    assert_non_null(strstr(a, "dir = some dir/with spaces\n"));

    /* Concentrations at Dirichlet 250 on every face, the fractions each on its own value:
     * `all` must not take 250 (out of range for the fractions). */
    const char *conc[] = {"boundary.pro_cytokine=dirichlet 250", "boundary.anti_cytokine=dirichlet 250",
                          "boundary.cortisol=dirichlet 250", "boundary.tumor.x_lo=dirichlet 0.1",
                          "boundary.tumor.x_hi=dirichlet 0.2", "boundary.effector=dirichlet 0.3",
                          "boundary.suppressor.y_lo=dirichlet 0.4"};
    load_ok(&s, "", conc, 7);
    char *c = tf_scenario_format(&s);
    load_ok(&t, c, NULL, 0);
    char *d = tf_scenario_format(&t);
    assert_string_equal(c, d);
    free(c);
    free(d);
    assert_non_null(strstr(a, "tumor.x_lo = periodic\n"));
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units_time_length),
        cmocka_unit_test(test_units_time_spellings),
        cmocka_unit_test(test_units_compound),
        cmocka_unit_test(test_units_numbers_and_clock),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_grid_forms),
        cmocka_unit_test(test_long_and_indented_lines),
        cmocka_unit_test(test_boundary_precedence),
        cmocka_unit_test(test_set_wins),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_paths_and_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
