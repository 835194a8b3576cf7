/* units.c: numbers with units in scenario values, converted to the documented default unit of
 * each kind (tf_units.h). Compound units are parsed from their parts (a diffusivity is a
 * length squared over a time), so every combination of the listed parts is accepted. */
#include "tf_units.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    double factor; /* value of one `name` in the default unit of its table */
} unit_entry;

/* Times in min: the symbols s, min, h, d and every name in the singular and the plural, as
 * kinds[TF_UNIT_TIME].accepted below lists them for users (keep the two the same). */
static const unit_entry time_units[] = {
    {"s", 1.0 / 60}, {"sec", 1.0 / 60}, {"secs", 1.0 / 60}, {"second", 1.0 / 60},
    {"seconds", 1.0 / 60},
    {"min", 1}, {"mins", 1}, {"minute", 1}, {"minutes", 1},
    {"h", 60}, {"hr", 60}, {"hrs", 60}, {"hour", 60}, {"hours", 60},
    {"d", 1440}, {"day", 1440}, {"days", 1440},
    {"wk", 10080}, {"wks", 10080}, {"week", 10080}, {"weeks", 10080}, {NULL, 0}};
/* Lengths in um (micron, microns and the micro sign too; kinds[TF_UNIT_LENGTH].accepted). */
static const unit_entry length_units[] = {
    {"nm", 1e-3}, {"um", 1}, {"micron", 1}, {"microns", 1}, {"mm", 1e3}, {"cm", 1e4},
    {"m", 1e6}, {NULL, 0}};
/* Masses in pg. */
static const unit_entry mass_units[] = {
    {"fg", 1e-3}, {"pg", 1}, {"ng", 1e3}, {"ug", 1e6}, {"mg", 1e9}, {"g", 1e12}, {NULL, 0}};
/* Volumes in mL. */
static const unit_entry volume_units[] = {
    {"uL", 1e-3}, {"ul", 1e-3}, {"mL", 1}, {"ml", 1}, {"dL", 100}, {"dl", 100},
    {"L", 1e3}, {"l", 1e3}, {NULL, 0}};
/* Amounts in nmol. */
static const unit_entry amount_units[] = {
    {"pmol", 1e-3}, {"nmol", 1}, {"umol", 1e3}, {"mmol", 1e6}, {"mol", 1e9}, {NULL, 0}};
/* Molarities in nmol/L. */
static const unit_entry molar_units[] = {
    {"pM", 1e-3}, {"nM", 1}, {"uM", 1e3}, {"mM", 1e6}, {"M", 1e9}, {NULL, 0}};

static double lookup(const unit_entry *t, const char *name, size_t len)
{
    for (; t->name; ++t)
        if (strlen(t->name) == len && memcmp(t->name, name, len) == 0)
            return t->factor;
    return 0.0;
}

static double time_of(const char *u, size_t len) { return lookup(time_units, u, len); }

/* mass / volume -> pg/mL */
static double mass_conc_of(const char *u, size_t len)
{
    const char *slash = memchr(u, '/', len);
    if (!slash)
        return 0.0;
    const double m = lookup(mass_units, u, (size_t)(slash - u));
    const double v = lookup(volume_units, slash + 1, len - (size_t)(slash - u) - 1);
    return m > 0 && v > 0 ? m / v : 0.0;
}

/* Strip a trailing "^2" or "2" from a length unit. */
static double length_squared_of(const char *u, size_t len)
{
    if (len > 2 && u[len - 2] == '^' && u[len - 1] == '2')
        len -= 2;
    else if (len > 1 && u[len - 1] == '2')
        len -= 1;
    else
        return 0.0;
    const double l = lookup(length_units, u, len);
    return l * l;
}

/* Normalise spelling: drop blanks, micro signs (U+00B5, U+03BC) to 'u', superscript two
 * (U+00B2) to "^2". Returns 0 when the result does not fit. */
static int normalise(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; ++p) {
        const char *rep = NULL;
        char one[2] = {0, 0};
        if (*p == ' ' || *p == '\t')
            continue;
        if ((p[0] == 0xC2 && p[1] == 0xB5) || (p[0] == 0xCE && p[1] == 0xBC)) {
            rep = "u";
            ++p;
        } else if (p[0] == 0xC2 && p[1] == 0xB2) {
            rep = "^2";
            ++p;
        } else {
            one[0] = (char)*p;
            rep = one;
        }
        const size_t n = strlen(rep);
        if (o + n + 1 > cap)
            return 0;
        memcpy(out + o, rep, n);
        o += n;
    }
    out[o] = '\0';
    return 1;
}

double tf_unit_factor(tf_unit_kind k, const char *unit)
{
    char buf[64];
    if (!normalise(unit, buf, sizeof buf))
        return 0.0;
    const char *u = buf;
    size_t len = strlen(u);
    if (len == 0)
        return 1.0;
    const char *slash = strrchr(u, '/');
    switch (k) {
    case TF_UNIT_NONE:
        return 0.0;
    case TF_UNIT_FRACTION:
        return strcmp(u, "%") == 0 ? 0.01 : 0.0;
    case TF_UNIT_TIME:
    case TF_UNIT_TIME_OF_DAY:
        return time_of(u, len);
    case TF_UNIT_LENGTH:
        return lookup(length_units, u, len);
    case TF_UNIT_RATE: {
        if (strncmp(u, "1/", 2) == 0 || u[0] == '/') {
            const char *t = u + (u[0] == '/' ? 1 : 2);
            const double f = time_of(t, strlen(t));
            return f > 0 ? 1.0 / f : 0.0;
        }
        if (len > 3 && strcmp(u + len - 3, "^-1") == 0) {
            const double f = time_of(u, len - 3);
            return f > 0 ? 1.0 / f : 0.0;
        }
        return 0.0;
    }
    case TF_UNIT_DIFFUSIVITY: {
        if (!slash)
            return 0.0;
        const double l2 = length_squared_of(u, (size_t)(slash - u));
        const double t = time_of(slash + 1, strlen(slash + 1));
        return l2 > 0 && t > 0 ? l2 / t : 0.0;
    }
    case TF_UNIT_MASS_CONC:
        return mass_conc_of(u, len);
    case TF_UNIT_MOLAR_CONC: {
        const double m = lookup(molar_units, u, len);
        if (m > 0)
            return m;
        const char *s1 = strchr(u, '/');
        if (!s1)
            return 0.0;
        const double a = lookup(amount_units, u, (size_t)(s1 - u));
        const double v = lookup(volume_units, s1 + 1, strlen(s1 + 1)); /* mL */
        return a > 0 && v > 0 ? a / (v / 1e3) : 0.0;
    }
    case TF_UNIT_PRODUCTION: {
        if (!slash)
            return 0.0;
        const double c = mass_conc_of(u, (size_t)(slash - u));
        const double t = time_of(slash + 1, strlen(slash + 1));
        return c > 0 && t > 0 ? c / t : 0.0;
    }
    case TF_UNIT_LOAD: {
        if (strncmp(u, "intensity-", 10) == 0)
            u += 10;
        slash = strchr(u, '/');
        if (!slash)
            return 0.0;
        const double num = time_of(u, (size_t)(slash - u));
        const double den = time_of(slash + 1, strlen(slash + 1));
        return num > 0 && den > 0 ? (num / 60.0) * (10080.0 / den) : 0.0;
    }
    case TF_UNIT_NKINDS:
        break;
    }
    return 0.0;
}

static const struct {
    const char *unit, *quantity, *accepted;
} kinds[TF_UNIT_NKINDS] = {
    [TF_UNIT_NONE] = {"", "dimensionless number", "none (a plain number)"},
    [TF_UNIT_FRACTION] = {"", "fraction", "none (a plain number, 0.6) or % (60 %)"},
    [TF_UNIT_TIME] = {"min", "time",
                       "s, min, h, d, week (also sec, secs, second, seconds, mins, minute, "
                       "minutes, hr, hrs, hour, hours, day, days, wk, wks, weeks)"},
    [TF_UNIT_TIME_OF_DAY] = {"min", "time of day",
                              "HH:MM from 00:00 to 23:59, or a time after midnight in s, min, h "
                              "(any spelling of a time)"},
    [TF_UNIT_LENGTH] = {"um", "length", "nm, um (also \xC2\xB5m, micron, microns), mm, cm, m"},
    [TF_UNIT_RATE] = {"1/min", "rate",
                       "1/s, 1/min, 1/h, 1/d (1/TIME or TIME^-1 with any spelling of a time, "
                       "e.g. 1/hour, min^-1)"},
    [TF_UNIT_DIFFUSIVITY] = {"um^2/min", "diffusivity",
                             "LENGTH^2/TIME, e.g. um^2/s, um^2/min, mm^2/d, cm^2/s"},
    [TF_UNIT_MASS_CONC] = {"pg/mL", "mass concentration",
                           "MASS/VOLUME, e.g. pg/mL, ng/mL, ng/L, ug/L"},
    [TF_UNIT_MOLAR_CONC] = {"nmol/L", "molar concentration",
                            "pmol/L, nmol/L, umol/L, pM, nM, uM (AMOUNT/VOLUME)"},
    [TF_UNIT_PRODUCTION] = {"pg/mL/min", "production rate",
                            "MASS/VOLUME/TIME, e.g. pg/mL/min, pg/mL/h, ng/mL/d"},
    [TF_UNIT_LOAD] = {"intensity-h/week", "training load",
                      "intensity-h/week, intensity-min/week (intensity-TIME/TIME)"},
};

const char *tf_unit_default(tf_unit_kind k) { return k < TF_UNIT_NKINDS ? kinds[k].unit : ""; }
const char *tf_unit_quantity(tf_unit_kind k)
{
    return k < TF_UNIT_NKINDS ? kinds[k].quantity : "";
}
const char *tf_unit_accepted(tf_unit_kind k)
{
    return k < TF_UNIT_NKINDS ? kinds[k].accepted : "";
}

int tf_unit_kind_of(const char *unit)
{
    if (strcmp(unit, "-") == 0)
        return TF_UNIT_NONE;
    for (int k = TF_UNIT_TIME; k < TF_UNIT_NKINDS; ++k)
        if (k != TF_UNIT_TIME_OF_DAY && strcmp(kinds[k].unit, unit) == 0)
            return k;
    return -1;
}

size_t tf_unit_scan_number(const char *text, double *out)
{
    const char *p = text;
    if (*p == '+' || *p == '-')
        ++p;
    size_t digits = 0;
    while (isdigit((unsigned char)*p)) {
        ++p;
        ++digits;
    }
    if (*p == '.') {
        ++p;
        while (isdigit((unsigned char)*p)) {
            ++p;
            ++digits;
        }
    }
    if (digits == 0)
        return 0;
    if (*p == 'e' || *p == 'E') {
        const char *q = p + 1;
        if (*q == '+' || *q == '-')
            ++q;
        if (isdigit((unsigned char)*q)) {
            while (isdigit((unsigned char)*q))
                ++q;
            p = q;
        }
    }
    char buf[128];
    const size_t n = (size_t)(p - text);
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, text, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return n;
}

/* "HH:MM" or "H:MM" (00:00 to 23:59: a time of day is in [0, 24 h)) -> minutes; -1 when not of
 * that form. */
static double clock_time(const char *s)
{
    int i = 0, h = 0, m = 0;
    if (!isdigit((unsigned char)s[i]))
        return -1;
    while (isdigit((unsigned char)s[i]) && i < 2)
        h = h * 10 + (s[i++] - '0');
    if (s[i++] != ':' || !isdigit((unsigned char)s[i]) || !isdigit((unsigned char)s[i + 1]))
        return -1;
    m = (s[i] - '0') * 10 + (s[i + 1] - '0');
    i += 2;
    if (s[i] != '\0' || h > 23 || m > 59)
        return -1;
    return h * 60.0 + m;
}

int tf_unit_parse(tf_unit_kind k, const char *text, double *out, char *err, size_t errlen)
{
    while (isspace((unsigned char)*text))
        ++text;
    if (*text == '\0') {
        snprintf(err, errlen, "missing value: expected a %s%s%s", tf_unit_quantity(k),
                 *tf_unit_default(k) ? " in " : "", tf_unit_default(k));
        return -1;
    }
    if (k == TF_UNIT_TIME_OF_DAY && strchr(text, ':')) {
        const double m = clock_time(text);
        if (m < 0) {
            snprintf(err, errlen, "not a clock time: expected HH:MM from 00:00 to 23:59");
            return -1;
        }
        *out = m;
        return 0;
    }
    double v;
    const size_t used = tf_unit_scan_number(text, &v);
    if (used == 0) {
        snprintf(err, errlen, "not a number: expected a decimal number%s%s",
                 k == TF_UNIT_NONE ? "" : " and a unit: ",
                 k == TF_UNIT_NONE ? "" : tf_unit_accepted(k));
        return -1;
    }
    if (!isfinite(v)) {
        snprintf(err, errlen, "number out of the range of doubles");
        return -1;
    }
    const char *unit = text + used;
    if (*unit != '\0' && !isspace((unsigned char)*unit) && *unit != '%' && *unit != '/' &&
        (unsigned char)*unit < 0x80 && !isalpha((unsigned char)*unit)) {
        snprintf(err, errlen, "malformed number: unexpected '%c' after '%.*s'", *unit,
                 (int)used, text);
        return -1;
    }
    while (isspace((unsigned char)*unit))
        ++unit;
    if (*unit == '\0') {
        *out = v;
        return 0;
    }
    const double f = tf_unit_factor(k, unit);
    if (!(f > 0)) {
        if (k == TF_UNIT_NONE)
            snprintf(err, errlen, "unexpected '%s' after the number: expected a plain number "
                     "(dimensionless)", unit);
        else
            snprintf(err, errlen, "unknown unit '%s' for a %s: accepted units are %s "
                     "(a bare number is in %s)", unit, tf_unit_quantity(k),
                     tf_unit_accepted(k), *tf_unit_default(k) ? tf_unit_default(k) : "plain units");
        return -1;
    }
    *out = v * f;
    if (!isfinite(*out)) {
        snprintf(err, errlen, "value overflows when converted to %s", tf_unit_default(k));
        return -1;
    }
    return 0;
}
