/* scenario.c: scenario files (INI, read with libinih), --set overrides, defaults, validation and
 * the effective scenario as text.
 *
 * Keys are declared once: host/scenario_keys.def for the driver's keys, include/tf_params.def
 * for [model]; [boundary] keys follow the pattern all | all.FACE | FIELD | FIELD.FACE, where the
 * more specific key wins whatever the order. Errors name the file and line (or "--set"), the
 * key and what was expected; the first error is the one reported.
 *
 * libinih (Debian build) gives the handler no line number, keeps lines up to 199 characters,
 * takes only ';' as an inline comment and joins indented lines to the previous value. Our
 * reader (ini_parse_stream) therefore counts lines, keeps the whole raw line for long values,
 * strips leading blanks (no continuation lines) and refuses binary data; the handler strips
 * inline '#' comments. */
#define _POSIX_C_SOURCE 200809L

#include "tf_par.h"
#include "tf_scenario.h"
#include "tf_scenario_keys.h"
#include "tf_units.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <ini.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the key table ------------------------------------------------------------------------ */

typedef enum { T_REAL, T_END, T_INT, T_SEED, T_NAME, T_PATH, T_WORD, T_SCHEME, T_GRID,
               T_FIELDS } key_type;
enum { CLOSED = 0, LO_OPEN = 1, HI_OPEN = 2 };

typedef struct {
    const char *section, *key;
    key_type type;
    int unit;              /* tf_unit_kind; -1: resolve from unit_str ([model]) */
    const char *unit_str;  /* [model]: the unit column of tf_params.def */
    size_t off, size;      /* member of tf_scenario */
    const char *def;       /* default as text; NULL for [model] (tf_params_default) */
    double defval;         /* [model] default */
    double lo, hi;
    int bounds;
    const char *help, *basis;
} key_desc;

#define MEMBER(m) offsetof(tf_scenario, m), sizeof(((tf_scenario *)0)->m)
static const key_desc key_table[] = {
#define TF_KEY(sec, name, type, member, unit, def, lo, hi, bounds, help) \
    {#sec, #name, T_##type, TF_UNIT_##unit, NULL, MEMBER(member), def, 0, lo, hi, bounds, help, NULL},
#include "scenario_keys.def"
#undef TF_KEY
#define TF_PARAM(name, def, unit, lo, hi, help, basis) \
    {"model", #name, T_REAL, -1, unit, MEMBER(p.name), NULL, def, lo, hi, CLOSED, help, basis},
#include "tf_params.def"
#undef TF_PARAM
};
#undef MEMBER
enum { NKEYS = sizeof key_table / sizeof key_table[0] };

static const char *const sections[] = {"run", "grid", "output", "checkpoint", "patient",
                                       "exercise", "tumor", "initial", "vessels", "model",
                                       "boundary"};
enum { NSECTIONS = sizeof sections / sizeof sections[0] };

static tf_unit_kind key_unit(const key_desc *k)
{
    if (k->unit >= 0)
        return (tf_unit_kind)k->unit;
    if (strcmp(k->key, "t_peak") == 0)
        return TF_UNIT_TIME_OF_DAY;
    const int u = tf_unit_kind_of(k->unit_str);
    return u >= 0 ? (tf_unit_kind)u : TF_UNIT_NONE;
}

/* The unit as documented for a key ("" when dimensionless). */
static const char *key_unit_text(const key_desc *k)
{
    if (k->unit < 0)
        return strcmp(k->unit_str, "-") == 0 ? "" : k->unit_str;
    return tf_unit_default((tf_unit_kind)k->unit);
}

static const key_desc *find_key(const char *section, const char *key)
{
    for (int i = 0; i < NKEYS; ++i)
        if (strcmp(key_table[i].section, section) == 0 && strcmp(key_table[i].key, key) == 0)
            return &key_table[i];
    return NULL;
}

int tf_scenario_real_value(const char *section, const char *key, const char *value, double *out)
{
    const key_desc *k = find_key(section, key);
    if (!k || (k->type != T_REAL && k->type != T_END))
        return 0;
    if (k->type == T_END && strcmp(value, "none") == 0) {
        *out = INFINITY;
        return 1;
    }
    char err[256];
    return tf_unit_parse(key_unit(k), value, out, err, sizeof err) == 0;
}

static int known_section(const char *section)
{
    for (int i = 0; i < NSECTIONS; ++i)
        if (strcmp(sections[i], section) == 0)
            return 1;
    return 0;
}

/* ---- small text helpers -------------------------------------------------------------------- */

/* Edit distance, case-insensitive substitutions cost half (for suggestions). */
static double distance(const char *a, const char *b)
{
    const size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 1e9;
    double row[64], prev[64];
    for (size_t j = 0; j <= lb; ++j)
        prev[j] = (double)j;
    for (size_t i = 1; i <= la; ++i) {
        row[0] = (double)i;
        for (size_t j = 1; j <= lb; ++j) {
            double sub = a[i - 1] == b[j - 1] ? 0.0
                       : tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1])
                           ? 0.5 : 1.0;
            double best = prev[j - 1] + sub;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
        }
        memcpy(prev, row, sizeof(double) * (lb + 1));
    }
    return prev[lb];
}

/* A printable copy of user text for messages: control bytes as '?', at most ~60 chars. */
static void printable(char *out, size_t cap, const char *in)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; ++p) {
        if (o >= 60) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        out[o++] = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
    }
    out[o] = '\0';
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        ++s;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Shortest "%g" text that reads back to exactly v. */
static void fmt_num(char *buf, size_t cap, double v)
{
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, cap, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; ++prec) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* A time of day lies in [0, 1440) minutes whatever the table says (24:00 is 00:00). */
static int key_bounds(const key_desc *k)
{
    return k->bounds | (key_unit(k) == TF_UNIT_TIME_OF_DAY ? HI_OPEN : 0);
}

static void range_text(char *buf, size_t cap, const key_desc *k)
{
    char lo[32], hi[32];
    const char *u = key_unit_text(k);
    fmt_num(lo, sizeof lo, k->lo);
    fmt_num(hi, sizeof hi, k->hi);
    const char *sp = *u ? " " : "";
    if (key_bounds(k) & LO_OPEN)
        snprintf(buf, cap, "expected more than %s, up to %s%s%s", lo, hi, sp, u);
    else if (key_bounds(k) & HI_OPEN)
        snprintf(buf, cap, "expected %s up to (not including) %s%s%s", lo, hi, sp, u);
    else
        snprintf(buf, cap, "expected %s to %s%s%s", lo, hi, sp, u);
}

static int in_range(const key_desc *k, double v)
{
    if ((key_bounds(k) & LO_OPEN) ? !(v > k->lo) : !(v >= k->lo))
        return 0;
    if ((key_bounds(k) & HI_OPEN) ? !(v < k->hi) : !(v <= k->hi))
        return 0;
    return 1;
}

/* Strict non-negative integer; 0 on success. */
static int parse_uint(const char *s, uint64_t *out)
{
    if (!isdigit((unsigned char)*s))
        return -1;
    for (const char *p = s; *p; ++p)
        if (!isdigit((unsigned char)*p))
            return -1;
    errno = 0;
    const unsigned long long v = strtoull(s, NULL, 10);
    if (errno == ERANGE)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* ---- values -------------------------------------------------------------------------------- */

#define ERRCAP 768

static int field_of(const char *name, size_t len)
{
    for (int f = 0; f < TF_NFIELDS; ++f)
        if (strlen(tf_field_name[f]) == len && strncmp(tf_field_name[f], name, len) == 0)
            return f;
    return -1;
}

static int face_of(const char *name)
{
    for (int i = 0; i < TF_NFACES; ++i)
        if (strcmp(tf_face_name[i], name) == 0)
            return i;
    return -1;
}

static void field_list(char *buf, size_t cap)
{
    buf[0] = '\0';
    for (int f = 0; f < TF_NFIELDS; ++f) {
        strncat(buf, tf_field_name[f], cap - strlen(buf) - 1);
        strncat(buf, f + 1 < TF_NFIELDS ? ", " : "", cap - strlen(buf) - 1);
    }
}

/* Parse `value` for key k into s. 0 on success, else -1 with the problem in err. */
/* One spelling per path, so that a restart's `--output o/` is the `o` of the checkpoint: no
 * repeated '/', no "." components, no trailing '/' ("" stays "", "./" becomes "."). */
static void tidy_path(char *p)
{
    const int abs = p[0] == '/';
    char *out = p + abs;
    const char *in = p + abs;
    while (*in) {
        const char *end = strchr(in, '/');
        const size_t n = end ? (size_t)(end - in) : strlen(in);
        if (n > 0 && !(n == 1 && in[0] == '.')) {
            if (out > p + abs)
                *out++ = '/';
            memmove(out, in, n);
            out += n;
        }
        in += n + (end != NULL);
    }
    if (out == p + abs && !abs && p[0])
        *out++ = '.';
    *out = '\0';
}

static int set_value(tf_scenario *s, const key_desc *k, const char *value, char *err, size_t cap)
{
    char *dst = (char *)s + k->off;
    switch (k->type) {
    case T_END:
        if (strcmp(value, "none") == 0) {
            *(double *)dst = INFINITY;
            return 0;
        }
        /* fall through */
    case T_REAL: {
        double v;
        if (tf_unit_parse(key_unit(k), value, &v, err, cap) != 0)
            return -1;
        if (!in_range(k, v)) {
            char r[160];
            range_text(r, sizeof r, k);
            snprintf(err, cap, "out of range, %s (%s)", r, k->help);
            return -1;
        }
        *(double *)dst = v;
        return 0;
    }
    case T_INT: {
        uint64_t v;
        if (parse_uint(value, &v) != 0 || v > (uint64_t)k->hi || (double)v < k->lo) {
            snprintf(err, cap, "expected a whole number from %g to %g (%s)", k->lo, k->hi,
                     k->help);
            return -1;
        }
        *(int *)dst = (int)v;
        return 0;
    }
    case T_SEED: {
        uint64_t v;
        if (parse_uint(value, &v) != 0) {
            snprintf(err, cap, "expected a whole number from 0 to 18446744073709551615");
            return -1;
        }
        *(uint64_t *)dst = v;
        return 0;
    }
    case T_NAME: {
        int ok = isalnum((unsigned char)value[0]) && strlen(value) < k->size;
        for (const char *p = value; ok && *p; ++p)
            ok = isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.';
        if (!ok) {
            snprintf(err, cap, "expected a name of 1 to %zu characters: %s", k->size - 1,
                     k->help);
            return -1;
        }
        /* The files of run X.chk would start with X.chk.nc, the checkpoint of run X. */
        const size_t len = strlen(value);
        if (strcmp(k->section, "run") == 0 && len > 4 && strcmp(value + len - 4, ".chk") == 0) {
            snprintf(err, cap,
                     "a run name ending in '.chk' would write its fields to %s.nc, the name "
                     "of the checkpoint of a run '%.*s'; choose another name",
                     value, (int)(len - 4), value);
            return -1;
        }
        strcpy(dst, value);
        return 0;
    }
    case T_PATH:
        if (strlen(value) >= k->size) {
            snprintf(err, cap, "path longer than %zu characters", k->size - 1);
            return -1;
        }
        if (!*value && *k->def) {
            snprintf(err, cap, "empty: expected a path (%s)", k->help);
            return -1;
        }
        for (const char *p = value + 1; *value && *p; ++p)
            if ((*p == '#' || *p == ';') && (p[-1] == ' ' || p[-1] == '\t')) {
                snprintf(err, cap, "'%c' after a blank starts a comment in a scenario file, so "
                         "the effective scenario could not hold this path; rename it", *p);
                return -1;
            }
        /* INI values are not quoted: quotes would become part of the path ("my dir" makes a
         * directory whose name holds the quote marks). */
        const size_t vl = strlen(value);
        if (vl >= 2 && (value[0] == '"' || value[0] == '\'') && value[vl - 1] == value[0]) {
            snprintf(err, cap, "quoted: scenario values take no quotes, which would become part "
                     "of the path; write it without them (blanks inside a path are fine)");
            return -1;
        }
        /* NetCDF-C takes a backslash for a Windows separator and opens no such path (exit 4
         * "Permission denied" or 2 "HDF error" later, pointing the wrong way). */
        if (strchr(value, '\\')) {
            snprintf(err, cap, "contains a backslash, which the NetCDF library reads as a "
                     "Windows path separator: it cannot open files under such a path; rename it");
            return -1;
        }
        strcpy(dst, value);
        tidy_path(dst);
        return 0;
    case T_WORD: {
        int ok = (isalpha((unsigned char)value[0]) || value[0] == '_') && strlen(value) < k->size;
        for (const char *p = value; ok && *p; ++p)
            ok = isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.';
        if (!ok) {
            snprintf(err, cap, "expected a variable name (letters, digits, '_', '-', '.')");
            return -1;
        }
        strcpy(dst, value);
        return 0;
    }
    case T_SCHEME:
        if (strcmp(value, "lod") == 0)
            *(tf_scheme *)dst = TF_SCHEME_LOD;
        else if (strcmp(value, "explicit") == 0)
            *(tf_scheme *)dst = TF_SCHEME_EXPLICIT;
        else {
            snprintf(err, cap, "expected lod or explicit");
            return -1;
        }
        return 0;
    case T_GRID: {
        /* One count (a cube) or three, each two separated by blanks, or by one 'x' or ',' with
         * optional blanks around it: "64", "128 128 64", "128x128x64", "128 x 128 x 64",
         * "128, 128, 64". Nothing before the first count or after the last but blanks. */
        tf_index n[3];
        int count = 0;
        const char *p = value;
        while (*p == ' ' || *p == '\t')
            ++p;
        while (count >= 0 && *p) {
            if (count == 3) {
                count = -1;
                break;
            }
            if (count > 0) {
                const char *sep = p;
                while (*p == ' ' || *p == '\t')
                    ++p;
                if (*p == 'x' || *p == ',')
                    for (++p; *p == ' ' || *p == '\t'; ++p)
                        ;
                if (p == sep) {
                    count = -1;
                    break;
                }
            }
            char num[32];
            size_t len = 0;
            while (isdigit((unsigned char)*p) && len < sizeof num - 1)
                num[len++] = *p++;
            num[len] = '\0';
            uint64_t v;
            if (isdigit((unsigned char)*p) || parse_uint(num, &v) != 0 ||
                v < (uint64_t)k->lo || v > (uint64_t)k->hi) {
                count = -1;
                break;
            }
            n[count++] = (tf_index)v;
            const char *rest = p;
            while (*rest == ' ' || *rest == '\t')
                ++rest;
            if (!*rest)
                p = rest;
        }
        if (count != 1 && count != 3) {
            snprintf(err, cap, "expected one or three whole numbers of cells from %.0f to %.0f "
                     "(e.g. 64, or 128 128 64); three are separated by blanks, or each two by "
                     "one 'x' or ',' (128x128x64, 128, 128, 64)", k->lo, k->hi);
            return -1;
        }
        for (int d = 0; d < 3; ++d)
            ((tf_index *)dst)[d] = n[count == 1 ? 0 : d];
        return 0;
    }
    case T_FIELDS: {
        unsigned mask = 0;
        if (strcmp(value, "all") == 0)
            mask = (1u << TF_NFIELDS) - 1;
        else if (strcmp(value, "none") != 0) {
            const char *p = value;
            int any = 0;
            while (*p) {
                while (*p == ' ' || *p == '\t' || *p == ',')
                    ++p;
                if (!*p)
                    break;
                const char *q = p;
                while (*q && *q != ' ' && *q != '\t' && *q != ',')
                    ++q;
                const int f = field_of(p, (size_t)(q - p));
                if (f < 0) {
                    char list[160], word[80];
                    field_list(list, sizeof list);
                    snprintf(word, sizeof word, "%.*s", (int)(q - p < 60 ? q - p : 60), p);
                    snprintf(err, cap, "unknown field '%s': expected all, none or a list of %s",
                             word, list);
                    return -1;
                }
                mask |= 1u << f;
                any = 1;
                p = q;
            }
            if (!any) {
                snprintf(err, cap, "empty: expected all, none or a list of field names");
                return -1;
            }
        }
        *(unsigned *)dst = mask;
        return 0;
    }
    }
    snprintf(err, cap, "internal: unknown key type");
    return -1;
}

/* The value of key k in s as scenario text (loads back to the same bits). */
static void format_value(char *buf, size_t cap, const tf_scenario *s, const key_desc *k)
{
    const char *src = (const char *)s + k->off;
    char num[40];
    switch (k->type) {
    case T_END:
        if (isinf(*(const double *)src)) {
            snprintf(buf, cap, "none");
            return;
        }
        /* fall through */
    case T_REAL: {
        const double v = *(const double *)src;
        const tf_unit_kind u = key_unit(k);
        if (u == TF_UNIT_TIME) {
            const double div = v != 0 && fmod(v, 1440) == 0 ? 1440 : v != 0 && fmod(v, 60) == 0 ? 60 : 1;
            fmt_num(num, sizeof num, v / div);
            snprintf(buf, cap, "%s %s", num, div == 1440 ? "d" : div == 60 ? "h" : "min");
        } else if (u == TF_UNIT_TIME_OF_DAY && v == floor(v) && v >= 0 && v <= 1440) {
            snprintf(buf, cap, "%02d:%02d", (int)v / 60, (int)v % 60);
        } else {
            const char *ut = key_unit_text(k);
            fmt_num(num, sizeof num, v);
            snprintf(buf, cap, "%s%s%s", num, *ut ? " " : "", ut);
        }
        return;
    }
    case T_INT:
        snprintf(buf, cap, "%d", *(const int *)src);
        return;
    case T_SEED:
        snprintf(buf, cap, "%" PRIu64, *(const uint64_t *)src);
        return;
    case T_NAME:
    case T_PATH:
    case T_WORD:
        snprintf(buf, cap, "%s", src);
        return;
    case T_SCHEME:
        snprintf(buf, cap, "%s", *(const tf_scheme *)src == TF_SCHEME_EXPLICIT ? "explicit" : "lod");
        return;
    case T_GRID: {
        const tf_index *n = (const tf_index *)src;
        snprintf(buf, cap, "%lld %lld %lld", (long long)n[0], (long long)n[1], (long long)n[2]);
        return;
    }
    case T_FIELDS: {
        const unsigned m = *(const unsigned *)src;
        if (m == (1u << TF_NFIELDS) - 1) {
            snprintf(buf, cap, "all");
            return;
        }
        if (m == 0) {
            snprintf(buf, cap, "none");
            return;
        }
        buf[0] = '\0';
        for (int f = 0; f < TF_NFIELDS; ++f)
            if (m & (1u << f)) {
                if (buf[0])
                    strncat(buf, ", ", cap - strlen(buf) - 1);
                strncat(buf, tf_field_name[f], cap - strlen(buf) - 1);
            }
        return;
    }
    }
}

/* ---- [boundary] ---------------------------------------------------------------------------- */

/* Key index for duplicate detection: (field + 1) * 7 + (face + 1), field/face -1 for "all"/none. */
enum { NBKEYS = (TF_NFIELDS + 1) * (TF_NFACES + 1) };

/* Split a boundary key into field (-1: all) and face (-1: every face). */
static int boundary_key(const char *name, int *field, int *face)
{
    const char *dot = strchr(name, '.');
    const size_t flen = dot ? (size_t)(dot - name) : strlen(name);
    if (flen == 3 && strncmp(name, "all", 3) == 0)
        *field = -1;
    else if ((*field = field_of(name, flen)) < 0)
        return -1;
    *face = -1;
    if (dot && (*face = face_of(dot + 1)) < 0)
        return -1;
    return 0;
}

static tf_unit_kind field_unit(int f)
{
    return f == TF_PRO || f == TF_ANTI ? TF_UNIT_MASS_CONC
         : f == TF_CORTISOL            ? TF_UNIT_MOLAR_CONC
                                       : TF_UNIT_FRACTION;
}

/* Apply a boundary value to the cells the key covers, where its level (specificity) is at
 * least the level already there. */
static int set_boundary(tf_scenario *s, signed char level[TF_NFIELDS][TF_NFACES], int field,
                        int face, const char *value, char *err, size_t cap)
{
    const int lvl = (field >= 0) * 2 + (face >= 0);
    tf_bc bc = {TF_BC_NOFLUX, 0.0};
    const char *arg = NULL;
    if (strcmp(value, "noflux") == 0)
        bc.kind = TF_BC_NOFLUX;
    else if (strcmp(value, "periodic") == 0)
        bc.kind = TF_BC_PERIODIC;
    else if (strncmp(value, "dirichlet", 9) == 0 && (value[9] == '\0' || isspace((unsigned char)value[9]))) {
        bc.kind = TF_BC_DIRICHLET;
        arg = value + 9;
    } else {
        snprintf(err, cap, "expected noflux, periodic or dirichlet VALUE");
        return -1;
    }
    for (int f = 0; f < TF_NFIELDS; ++f) {
        if (field >= 0 && f != field)
            continue;
        if (arg) {
            char e[ERRCAP - 64];
            if (tf_unit_parse(field_unit(f), arg, &bc.value, e, sizeof e) != 0) {
                snprintf(err, cap, "dirichlet value of %s: %s", tf_field_name[f], e);
                return -1;
            }
            const double hi = field_unit(f) == TF_UNIT_FRACTION ? 1.0 : 1e9;
            if (!(bc.value >= 0 && bc.value <= hi)) {
                snprintf(err, cap, "dirichlet value of %s out of range, expected 0 to %g%s%s",
                         tf_field_name[f], hi, f >= TF_PRO ? " " : "", f >= TF_PRO ? tf_field_units[f] : "");
                return -1;
            }
        }
        for (int i = 0; i < TF_NFACES; ++i)
            if ((face < 0 || i == face) && lvl >= level[f][i]) {
                s->bcs.bc[f][i] = bc;
                level[f][i] = (signed char)lvl;
            }
    }
    return 0;
}

static void format_bc(char *buf, size_t cap, int f, const tf_bc *bc)
{
    if (bc->kind == TF_BC_NOFLUX)
        snprintf(buf, cap, "noflux");
    else if (bc->kind == TF_BC_PERIODIC)
        snprintf(buf, cap, "periodic");
    else {
        char num[40];
        fmt_num(num, sizeof num, bc->value);
        snprintf(buf, cap, "dirichlet %s%s%s", num, f >= TF_PRO ? " " : "",
                 f >= TF_PRO ? tf_field_units[f] : "");
    }
}

/* ---- loading --------------------------------------------------------------------------------- */

typedef struct {
    tf_scenario *s;
    const char *path;
    FILE *f;
    int line;            /* line the reader handed to inih last */
    int long_line;       /* that line did not fit inih's buffer: take the value from raw */
    char *raw;           /* that line, whole (getline buffer) */
    size_t rawcap;
    int read_errno;
    size_t bytes;        /* bytes read so far (at most SCENARIO_FILE_MAX) */
    int seen[NKEYS];     /* line of each key's first occurrence in the file, 0: not yet */
    signed char overridden[NKEYS]; /* the key was given by --set */
    int bseen[NBKEYS];
    signed char level[TF_NFIELDS][TF_NFACES];
    int have_err;        /* an error was recorded (the first one wins) */
    int err_line;        /* its line; 0 for --set */
    char err[1536];
} loader;

static void record(loader *L, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void record(loader *L, int line, const char *fmt, ...)
{
    if (L->have_err)
        return;
    L->have_err = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->err, sizeof L->err, fmt, ap);
    va_end(ap);
    L->err_line = line;
}

/* Suggestion for an unknown key: the closest key of the same section, else of any section. */
static void suggest(char *buf, size_t cap, const char *section, const char *name)
{
    const key_desc *best = NULL;
    double bd = 1e9;
    for (int pass = 0; pass < 2 && !best; ++pass)
        for (int i = 0; i < NKEYS; ++i) {
            const key_desc *k = &key_table[i];
            if (pass == 0 && strcmp(k->section, section) != 0)
                continue;
            const double d = pass == 0 ? distance(name, k->key) : (strcmp(name, k->key) == 0 ? 0 : 1e9);
            const double lim = strlen(k->key) <= 3 ? 1.0 : 2.0 + (double)strlen(k->key) / 8;
            if (d < bd && d <= lim) {
                bd = d;
                best = k;
            }
        }
    if (best)
        snprintf(buf, cap, "; did you mean [%s] %s?", best->section, best->key);
    else {
        int any = 0;
        snprintf(buf, cap, "; keys of [%s]:", section);
        for (int i = 0; i < NKEYS; ++i)
            if (strcmp(key_table[i].section, section) == 0 && strlen(buf) + 40 < cap) {
                strcat(buf, any ? ", " : " ");
                strcat(buf, key_table[i].key);
                any = 1;
            }
        if (strcmp(section, "model") == 0)
            snprintf(buf, cap, "; see `tumorfield keys` for the model parameters");
    }
}

/* An unknown section (or a key outside any section), with the closest known section. */
static void section_error(loader *L, int line, const char *where, const char *section)
{
    char sec[80];
    printable(sec, sizeof sec, section);
    const char *best = NULL;
    double bd = 3.0;
    for (int i = 0; i < NSECTIONS; ++i) {
        const double d = distance(section, sections[i]);
        if (d < bd) {
            bd = d;
            best = sections[i];
        }
    }
    if (!*section)
        record(L, line, "%s: key outside any section; put it under its [section]", where);
    else if (best)
        record(L, line, "%s: unknown section [%s]; did you mean [%s]?", where, sec, best);
    else
        record(L, line, "%s: unknown section [%s]; known sections: run, grid, output, "
               "checkpoint, patient, exercise, tumor, initial, vessels, model, boundary",
               where, sec);
}

/* Apply one key. where: "FILE:LINE" or "--set"; line 0 for --set (later wins, no duplicates). */
static int apply(loader *L, int line, const char *section, const char *name, const char *value)
{
    char where[TF_PATH_MAX + 32], sec[80], nm[80], val[80], e[ERRCAP];
    if (line > 0)
        snprintf(where, sizeof where, "%s:%d: [%s] %s = %s", L->path, line,
                 (printable(sec, sizeof sec, section), sec), (printable(nm, sizeof nm, name), nm),
                 (printable(val, sizeof val, value), val));
    else
        snprintf(where, sizeof where, "--set %s.%s=%s", (printable(sec, sizeof sec, section), sec),
                 (printable(nm, sizeof nm, name), nm), (printable(val, sizeof val, value), val));

    if (!known_section(section)) {
        section_error(L, line, where, section);
        return -1;
    }
    if (strcmp(section, "boundary") == 0) {
        int field, face;
        if (boundary_key(name, &field, &face) != 0) {
            char list[160];
            field_list(list, sizeof list);
            record(L, line, "%s: unknown boundary key: expected all, all.FACE, FIELD or "
                   "FIELD.FACE with FIELD one of %s and FACE one of x_lo, x_hi, y_lo, y_hi, "
                   "z_lo, z_hi", where, list);
            return -1;
        }
        const int bi = (field + 1) * (TF_NFACES + 1) + (face + 1);
        if (line > 0 && L->bseen[bi]) {
            record(L, line, "%s: duplicate key, first set on line %d", where, L->bseen[bi]);
            return -1;
        }
        if (line > 0)
            L->bseen[bi] = line;
        if (set_boundary(L->s, L->level, field, face, value, e, sizeof e) != 0) {
            record(L, line, "%s: %s", where, e);
            return -1;
        }
        return 0;
    }
    const key_desc *k = find_key(section, name);
    if (!k) {
        char hint[600];
        suggest(hint, sizeof hint, section, name);
        record(L, line, "%s: unknown key%s", where, hint);
        return -1;
    }
    const int ki = (int)(k - key_table);
    if (line > 0 && L->seen[ki]) {
        record(L, line, "%s: duplicate key, first set on line %d", where, L->seen[ki]);
        return -1;
    }
    if (line > 0)
        L->seen[ki] = line;
    else
        L->overridden[ki] = 1;
    if (set_value(L->s, k, value, e, sizeof e) != 0) {
        record(L, line, "%s: %s", where, e);
        return -1;
    }
    return 0;
}

/* msg (a relation between keys that failed: tf_scenario_validate) into out with where each key
 * it names came from: "[run] dt" becomes "[run] dt (line 3)", "(--set)" or "(default)". */
static void annotate_keys(const loader *L, const char *msg, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = msg; *p && o + 1 < cap;) {
        const char *close = *p == '[' ? strchr(p, ']') : NULL;
        const char *n0 = close && close[1] == ' ' ? close + 2 : NULL, *n1 = n0;
        while (n1 && (isalnum((unsigned char)*n1) || *n1 == '_'))
            ++n1;
        char sec[64] = "", name[64] = "";
        const key_desc *k = NULL;
        if (n1 && n1 > n0 && (size_t)(close - p - 1) < sizeof sec &&
            (size_t)(n1 - n0) < sizeof name) {
            memcpy(sec, p + 1, (size_t)(close - p - 1));
            sec[close - p - 1] = '\0';
            memcpy(name, n0, (size_t)(n1 - n0));
            name[n1 - n0] = '\0';
            k = find_key(sec, name);
        }
        if (!k) {
            out[o++] = *p++;
            continue;
        }
        const int ki = (int)(k - key_table);
        int n;
        if (L->overridden[ki])
            n = snprintf(out + o, cap - o, "%.*s (--set)", (int)(n1 - p), p);
        else if (L->seen[ki])
            n = snprintf(out + o, cap - o, "%.*s (line %d)", (int)(n1 - p), p, L->seen[ki]);
        else
            n = snprintf(out + o, cap - o, "%.*s (default)", (int)(n1 - p), p);
        o = n < 0 ? o : (size_t)n >= cap - o ? cap - 1 : o + (size_t)n;
        p = n1;
    }
    out[o] = '\0';
}

/* Whether bytes [p, p+n) are valid UTF-8 without control characters (tab allowed). Returns the
 * offset of the first bad byte, or -1. */
static long bad_byte(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return (long)i;
            ++i;
            continue;
        }
        const int len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
        if (len == 0 || i + (size_t)len > n)
            return (long)i;
        for (int j = 1; j < len; ++j)
            if ((p[i + j] & 0xC0) != 0x80)
                return (long)i;
        i += (size_t)len;
    }
    return -1;
}

/* A scenario is a small text file: a longer line or a larger file is refused with a message,
 * without reading it whole (a huge file, /dev/zero, an endless pipe). */
#define SCENARIO_LINE_MAX 65536
#define SCENARIO_FILE_MAX (16 << 20)

/* One line into L->raw (newline kept, NUL-terminated): its length; -1 at the end of the file
 * or on a read error (L->read_errno for ENOMEM); -2 when the line or the file is too long. */
static ssize_t get_line_capped(loader *L)
{
    size_t n = 0;
    for (int c; (c = getc(L->f)) != EOF;) {
        if (n + 2 > L->rawcap) {
            const size_t cap = L->rawcap ? 2 * L->rawcap : 256;
            char *p = realloc(L->raw, cap);
            if (!p) {
                L->read_errno = ENOMEM;
                return -1;
            }
            L->raw = p;
            L->rawcap = cap;
        }
        L->raw[n++] = (char)c;
        if (n > SCENARIO_LINE_MAX || ++L->bytes > SCENARIO_FILE_MAX)
            return -2;
        if (c == '\n')
            break;
    }
    if (n == 0)
        return -1;
    L->raw[n] = '\0';
    return (ssize_t)n;
}

/* inih's line source: one whole line per call (see the file comment). */
static char *read_line(char *str, int num, void *stream)
{
    loader *L = stream;
    errno = 0;
    ssize_t len = get_line_capped(L);
    if (len == -2) {
        if (L->bytes > SCENARIO_FILE_MAX)
            record(L, L->line + 1, "%s: larger than %d MiB; a scenario is a small text file "
                   "([section] lines, key = value lines and # comments)", L->path,
                   SCENARIO_FILE_MAX >> 20);
        else
            record(L, L->line + 1, "%s:%d: line longer than %d bytes; a scenario is a small "
                   "text file ([section] lines, key = value lines and # comments)", L->path,
                   L->line + 1, SCENARIO_LINE_MAX);
        return NULL;
    }
    if (len < 0) {
        if (ferror(L->f))
            L->read_errno = errno ? errno : EIO;
        return NULL;
    }
    ++L->line;
    while (len > 0 && (L->raw[len - 1] == '\n' || L->raw[len - 1] == '\r'))
        L->raw[--len] = '\0';
    const unsigned char *u = (const unsigned char *)L->raw;
    const size_t skip_bom = (L->line == 1 && len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) ? 3 : 0;
    const long bad = bad_byte(u + skip_bom, (size_t)len - skip_bom);
    if (bad >= 0) {
        record(L, L->line, "%s:%d: byte 0x%02X at column %ld is not text (a scenario is UTF-8 "
               "text: [section] lines, key = value lines and # comments)", L->path, L->line,
               u[skip_bom + (size_t)bad], (long)skip_bom + bad + 1);
        str[0] = '\0';
        L->long_line = 0;
        return str;
    }
    /* No leading blanks: inih would take an indented line as the continuation of a value. */
    size_t start = skip_bom;
    while (start < (size_t)len && (L->raw[start] == ' ' || L->raw[start] == '\t'))
        ++start;
    if (L->raw[start] == '[') {
        /* Section headers are checked here: inih reports a section only with its keys. */
        const char *close = strchr(L->raw + start, ']');
        if (close) {
            char name[80], where[TF_PATH_MAX + 16];
            const size_t nl = (size_t)(close - (L->raw + start) - 1);
            snprintf(name, sizeof name, "%.*s", (int)(nl < 79 ? nl : 79), L->raw + start + 1);
            char *t = trim(name);
            snprintf(where, sizeof where, "%s:%d", L->path, L->line);
            if (!known_section(t))
                section_error(L, L->line, where, *t ? t : "(empty)");
            /* Nothing but a comment may follow the header: a key written there would be lost. */
            const char *rest = close + 1;
            while (*rest == ' ' || *rest == '\t')
                ++rest;
            if (*rest && *rest != '#' && *rest != ';') {
                char txt[80];
                printable(txt, sizeof txt, rest);
                record(L, L->line, "%s: '%s' after the section header [%s]: put each key = value "
                       "on a line of its own (after a header only a # comment may follow)",
                       where, txt, t);
            }
            /* The header as inih reads it: blanks inside the brackets do not count. */
            snprintf(str, (size_t)num, "[%s]", t);
            L->long_line = 0;
            return str;
        }
    }
    size_t n = (size_t)len - start;
    L->long_line = n + skip_bom > (size_t)num - 1;
    if (L->long_line)
        n = (size_t)num - 1 - skip_bom;
    memcpy(str, L->raw, skip_bom);
    memcpy(str + skip_bom, L->raw + start, n);
    str[skip_bom + n] = '\0';
    return str;
}

/* Cut an inline comment: '#' or ';' preceded by a blank. */
static void cut_comment(char *v)
{
    for (char *p = v; *p; ++p)
        if ((*p == '#' || *p == ';') && (p == v || p[-1] == ' ' || p[-1] == '\t')) {
            *p = '\0';
            return;
        }
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    loader *L = user;
    char *buf;
    if (L->long_line) {
        /* The value as inih would have split it, from the whole raw line. */
        const char *sep = L->raw + strcspn(L->raw, "=:");
        buf = strdup(*sep ? sep + 1 : "");
    } else {
        buf = strdup(value);
    }
    if (!buf) {
        record(L, L->line, "%s:%d: out of memory", L->path, L->line);
        return 1;
    }
    cut_comment(buf);
    apply(L, L->line, section, name, trim(buf));
    free(buf);
    return 1;
}

/* Text of line `want` of the file, for the message of a syntax error. */
static void line_text(const char *path, int want, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f); /* a pipe or device cannot be read again */
        return;
    }
    char *line = NULL;
    size_t lcap = 0;
    for (int i = 1; getline(&line, &lcap, f) >= 0; ++i)
        if (i == want) {
            printable(out, cap, trim(line));
            break;
        }
    free(line);
    fclose(f);
}

void tf_scenario_defaults(tf_scenario *s)
{
    memset(s, 0, sizeof *s);
    char err[ERRCAP];
    for (int i = 0; i < NKEYS; ++i)
        if (key_table[i].def && set_value(s, &key_table[i], key_table[i].def, err, sizeof err) != 0)
            fprintf(stderr, "tumorfield: internal: default of [%s] %s: %s\n",
                    key_table[i].section, key_table[i].key, err);
    tf_params_default(&s->p);
    for (int f = 0; f < TF_NFIELDS; ++f)
        for (int i = 0; i < TF_NFACES; ++i)
            s->bcs.bc[f][i] = (tf_bc){TF_BC_NOFLUX, 0.0};
}

/* The scenario file opened for reading into *f, or TF_ERR_IO naming why not (a directory, which
 * fopen opens for reading, is EISDIR). */
static tf_status open_scenario(const char *path, FILE **f)
{
    struct stat st;
    *f = fopen(path, "r");
    int e = *f ? 0 : errno;
    if (*f && fstat(fileno(*f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(*f);
        *f = NULL;
        e = EISDIR;
    }
    return *f ? TF_OK : TF_ERROR(TF_ERR_IO, "cannot read scenario '%s': %s", path, strerror(e));
}

static tf_status load_stream(tf_scenario *s, const char *path, FILE *f, const char *const *sets,
                             int nsets);

tf_status tf_scenario_load(tf_scenario *s, const char *path, const char *const *sets, int nsets)
{
    FILE *f;
    const tf_status st = open_scenario(path, &f);
    if (st != TF_OK) {
        tf_scenario_defaults(s);
        return st;
    }
    return load_stream(s, path, f, sets, nsets);
}

tf_status tf_scenario_read_text(const char *path, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    FILE *f;
    TF_TRY(open_scenario(path, &f));
    /* One byte past the limit, so that the parser of the text says "larger than". */
    const size_t cap = (size_t)SCENARIO_FILE_MAX + SCENARIO_LINE_MAX + 2;
    size_t have = 0, room = 0;
    char *buf = NULL;
    tf_status st = TF_OK;
    while (have < cap) {
        if (have == room) {
            room = room ? 2 * room : 65536;
            char *b = realloc(buf, room);
            if (!b) {
                st = TF_ERROR(TF_ERR_NOMEM, "out of memory reading scenario '%s'", path);
                break;
            }
            buf = b;
        }
        const size_t want = room - have < cap - have ? room - have : cap - have;
        const size_t got = fread(buf + have, 1, want, f);
        have += got;
        if (got < want) {
            if (ferror(f))
                st = TF_ERROR(TF_ERR_IO, "cannot read scenario '%s': %s", path,
                              strerror(errno ? errno : EIO));
            break;
        }
    }
    fclose(f);
    if (st != TF_OK) {
        free(buf);
        return st;
    }
    *text = buf;
    *len = have;
    return TF_OK;
}

tf_status tf_scenario_load_text(tf_scenario *s, const char *path, const char *text, size_t len,
                                const char *const *sets, int nsets)
{
    FILE *f = fmemopen((void *)text, len, "r");
    if (!f) {
        tf_scenario_defaults(s);
        return TF_ERROR(TF_ERR_NOMEM, "cannot read scenario '%s' from memory: %s", path,
                        strerror(errno));
    }
    return load_stream(s, path, f, sets, nsets);
}

/* Takes f and closes it. */
static tf_status load_stream(tf_scenario *s, const char *path, FILE *f, const char *const *sets,
                             int nsets)
{
    tf_scenario_defaults(s);
    loader *L = calloc(1, sizeof *L);
    if (!L) {
        fclose(f);
        return TF_ERROR(TF_ERR_NOMEM, "out of memory reading scenario '%s'", path);
    }
    L->s = s;
    L->path = path;
    memset(L->level, -1, sizeof L->level);
    snprintf(s->source, sizeof s->source, "%s", path);
    L->f = f;
    const int rc = ini_parse_stream(read_line, L, on_entry, L);
    fclose(L->f);
    free(L->raw);
    tf_status status = TF_OK;
    if (L->read_errno) {
        status = TF_ERROR(TF_ERR_IO, "cannot read scenario '%s' (line %d): %s", path, L->line + 1,
                          strerror(L->read_errno));
    } else if (rc > 0 && (!L->have_err || rc < L->err_line)) {
        char text[80];
        line_text(path, rc, text, sizeof text);
        status = TF_ERROR(TF_ERR_USAGE, "%s:%d: '%s': expected [section], key = value, or a "
                          "# comment", path, rc, text);
    } else if (rc < 0 && !L->have_err) {
        status = TF_ERROR(TF_ERR_INTERNAL, "libinih failed on '%s' (code %d)", path, rc);
    } else if (L->have_err) {
        status = TF_ERROR(TF_ERR_USAGE, "%s", L->err);
    }
    for (int i = 0; status == TF_OK && i < nsets; ++i) {
        const char *eq = strchr(sets[i], '=');
        const char *dot = strchr(sets[i], '.');
        char text[120];
        printable(text, sizeof text, sets[i]);
        if (!eq || !dot || dot > eq) {
            status = TF_ERROR(TF_ERR_USAGE, "--set %s: expected SECTION.KEY=VALUE, e.g. "
                              "--set exercise.intensity=0.8", text);
            break;
        }
        char sec[64], name[64];
        const size_t ls = (size_t)(dot - sets[i]), ln = (size_t)(eq - dot - 1);
        if (ls >= sizeof sec || ln >= sizeof name) {
            status = TF_ERROR(TF_ERR_USAGE, "--set %s: unknown key", text);
            break;
        }
        memcpy(sec, sets[i], ls);
        sec[ls] = '\0';
        memcpy(name, dot + 1, ln);
        name[ln] = '\0';
        char *value = strdup(eq + 1);
        if (!value) {
            status = TF_ERROR(TF_ERR_NOMEM, "out of memory");
            break;
        }
        const long bad = bad_byte((const unsigned char *)value, strlen(value));
        if (bad >= 0)
            record(L, 0, "--set %s: control character in the value", text);
        else
            apply(L, 0, trim(sec), trim(name), trim(value));
        free(value);
        if (L->have_err)
            status = TF_ERROR(TF_ERR_USAGE, "%s", L->err);
    }
    if (status != TF_OK) {
        free(L);
        return status;
    }
    status = tf_scenario_validate(s);
    if (status != TF_OK) {
        /* Name the file (and the overrides, which may hold the values) in front of the
         * relation that failed, and where each key it names was set. */
        char msg[2048];
        annotate_keys(L, tf_error_message(), msg, sizeof msg);
        tf_error_clear();
        int overrides = 0; /* output.dir (also --output's) is in no relation between keys */
        for (int i = 0; i < nsets; ++i)
            overrides += strncmp(sets[i], "output.dir=", 11) != 0;
        free(L);
        return TF_ERROR(status, "%s%s: %s", path, overrides ? " with its --set overrides" : "",
                        msg);
    }
    free(L);
    return TF_OK;
}

/* ---- validation ---------------------------------------------------------------------------- */

int tf_scenario_state_arrays(const tf_scenario *s)
{
    return 1 + TF_NFIELDS * (s->scheme == TF_SCHEME_EXPLICIT ? 2 : 1);
}

double tf_scenario_state_bytes(const tf_scenario *s)
{
    return (double)tf_scenario_state_arrays(s) *
           tf_grid_padded_elements(s->n[0], s->n[1], s->n[2]) * (double)sizeof(tf_real);
}

/* Largest state we accept: 1 TiB (the largest single nodes hold a few TiB; a GPU 141 GB). */
#define TF_STATE_BYTES_MAX 1099511627776.0
#define TF_STEPS_MAX 1e12

tf_status tf_scenario_validate(const tf_scenario *s)
{
    char err[ERRCAP], val[64];
    /* Ranges and formats of single keys (for scenarios built in code). */
    for (int i = 0; i < NKEYS; ++i) {
        const key_desc *k = &key_table[i];
        tf_scenario t = *s;
        format_value(val, sizeof val, s, k);
        if (k->type == T_END && isinf(*(const double *)((const char *)s + k->off)))
            continue;
        if (set_value(&t, k, val, err, sizeof err) != 0)
            return TF_ERROR(TF_ERR_USAGE, "[%s] %s = %s: %s", k->section, k->key, val, err);
    }
    /* Periodic on both faces of a direction. */
    for (int f = 0; f < TF_NFIELDS; ++f)
        for (int d = 0; d < 3; ++d) {
            const int lo = s->bcs.bc[f][2 * d].kind == TF_BC_PERIODIC;
            const int hi = s->bcs.bc[f][2 * d + 1].kind == TF_BC_PERIODIC;
            if (lo != hi)
                return TF_ERROR(TF_ERR_USAGE,
                                "[boundary] %s: periodic on face %s but not on face %s; periodic "
                                "must hold on both faces of a direction (e.g. all.%s = periodic "
                                "and all.%s = periodic)",
                                tf_field_name[f], tf_face_name[2 * d + !lo],
                                tf_face_name[2 * d + lo], tf_face_name[2 * d],
                                tf_face_name[2 * d + 1]);
        }
    /* The generated network paints a cell at most 0.5 + r/h (a vessel through its centre; cells
     * keep their highest value): a mean at or above that, short of 1 (every cell filled), is
     * never reached, and random segments approach it only slowly (0.94 of it took 3.7 million
     * segments at 40^3, 0.9 of it under a second: QA round 11, r/h = 0.1), however many the
     * generator draws before it gives up, in time that grows with the grid. */
    const double most = 0.5 + s->vessel_radius / s->spacing;
    if (!s->vessel_file[0] && s->vessel_fraction > 0.0 && s->vessel_fraction < 1.0 &&
        most < 1.0 && s->vessel_fraction >= 0.9 * most)
        return TF_ERROR(TF_ERR_USAGE,
                        "[vessels] fraction = %g is out of the generator's reach: vessels of "
                        "radius %g um fill a cell of %g um to at most 0.5 + radius/spacing = "
                        "%.4g, and a random network's mean approaches that only slowly (up to "
                        "0.9 of it, %.4g, is accepted); lower vessels.fraction, raise "
                        "vessels.radius, or give a map in vessels.file",
                        s->vessel_fraction, s->vessel_radius, s->spacing, most, 0.9 * most);
    /* The longest path a run writes: DIR/NAME.timeseries.csv.tmp (the output files take paths
     * of at most TF_PATH_MAX - 1 characters). */
    const char *longest = ".timeseries.csv.tmp";
    const size_t plen = strlen(s->dir) + 1 + strlen(s->name) + strlen(longest);
    if (plen >= TF_PATH_MAX)
        return TF_ERROR(TF_ERR_USAGE,
                        "[output] dir: the run's files would have paths of up to %zu characters "
                        "('%s/%s%s'), above the limit of %d; use a shorter output.dir or "
                        "run.name",
                        plen, s->dir, s->name, longest, TF_PATH_MAX - 1);
    /* Grid memory. */
    const double cells = (double)s->n[0] * (double)s->n[1] * (double)s->n[2];
    /* The limit holds per process: an MPI run splits the state between them. */
    const int nproc = tf_par_world_size();
    const double bytes = tf_scenario_state_bytes(s);
    if (bytes / nproc > TF_STATE_BYTES_MAX)
        return TF_ERROR(TF_ERR_USAGE,
                        "[grid] n = %lld %lld %lld: %.4g cells; the state (%d arrays of %.4g "
                        "cells with ghosts, %zu bytes each) needs %.4g GiB, above the limit of "
                        "%.0f GiB per process (%d process%s)",
                        (long long)s->n[0], (long long)s->n[1], (long long)s->n[2], cells,
                        tf_scenario_state_arrays(s),
                        tf_grid_padded_elements(s->n[0], s->n[1], s->n[2]),
                        sizeof(tf_real), bytes / 1073741824.0, TF_STATE_BYTES_MAX / 1073741824.0,
                        nproc, nproc == 1 ? "" : "es");
    /* Time stepping. */
    if (s->dt > s->duration)
        return TF_ERROR(TF_ERR_USAGE, "[run] dt = %g min is longer than [run] duration = %g min",
                        s->dt, s->duration);
    if (s->duration / s->dt > TF_STEPS_MAX)
        return TF_ERROR(TF_ERR_USAGE,
                        "[run] duration / [run] dt = %.3g steps, above the limit of %.0e",
                        s->duration / s->dt, TF_STEPS_MAX);
    if (s->scheme == TF_SCHEME_EXPLICIT) {
        const tf_dt_limit lim = tf_explicit_dt_limit(&s->p, s->spacing, &s->bcs, s->n);
        char form[96];
        tf_dt_limit_text(form, sizeof form, &lim);
        if (s->dt > lim.dt)
            return TF_ERROR(TF_ERR_USAGE,
                            "[run] dt = %g min with scheme = explicit is above the stability "
                            "limit %s = %.4g min of %s (spacing %g um, D and the loss rates "
                            "from [model], the walls from [boundary]); use dt <= %.4g min or "
                            "scheme = lod",
                            s->dt, form, tf_floor_sig(lim.dt, 4), tf_field_name[lim.field],
                            s->spacing, tf_floor_sig(lim.dt, 4));
    }
    if (s->scheme == TF_SCHEME_LOD) {
        /* The line solves subtract numbers of order r = D dt/h^2 (the end rows, the periodic
         * correction): their relative error grows as r times the double epsilon, 1e-7 (float
         * round-off) at r = 1e9, percent at 1e13. */
        const double D[TF_NFIELDS] = {s->p.D_T, s->p.D_E, s->p.D_S, s->p.D_P, s->p.D_A, s->p.D_C};
        int fmax_r = 0;
        for (int f = 1; f < TF_NFIELDS; ++f)
            fmax_r = D[f] > D[fmax_r] ? f : fmax_r;
        const double r = D[fmax_r] * s->dt / (s->spacing * s->spacing);
        if (r > 1e9)
            return TF_ERROR(TF_ERR_USAGE,
                            "[run] dt = %g min on [grid] spacing = %g um gives D dt/h^2 = %.3g "
                            "for %s, above 1e9, where the implicit diffusion loses precision; "
                            "use a coarser spacing or a smaller dt",
                            s->dt, s->spacing, r, tf_field_name[fmax_r]);
    }
    if (s->interval < s->dt)
        return TF_ERROR(TF_ERR_USAGE, "[output] interval = %g min is shorter than [run] dt = %g min",
                        s->interval, s->dt);
    if (s->series_interval < s->dt)
        return TF_ERROR(TF_ERR_USAGE,
                        "[output] timeseries_interval = %g min is shorter than [run] dt = %g min",
                        s->series_interval, s->dt);
    if (s->checkpoint_interval != 0 && s->checkpoint_interval < s->dt)
        return TF_ERROR(TF_ERR_USAGE,
                        "[checkpoint] interval = %g min is shorter than [run] dt = %g min "
                        "(0 means only at the end and on a signal)",
                        s->checkpoint_interval, s->dt);
    if (s->exercise.end <= s->exercise.start)
        return TF_ERROR(TF_ERR_USAGE,
                        "[exercise] end = %g min is not after [exercise] start = %g min",
                        s->exercise.end, s->exercise.start);
    if (s->p.L_over < s->p.L_ref)
        return TF_ERROR(TF_ERR_USAGE,
                        "[model] L_over = %g is below [model] L_ref = %g intensity-h/week: "
                        "over-training would start before the full training benefit",
                        s->p.L_over, s->p.L_ref);
    return TF_OK;
}

/* ---- the effective scenario as text --------------------------------------------------------- */

char *tf_scenario_format(const tf_scenario *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out)
        return NULL;
    char val[TF_PATH_MAX + 64];
    fprintf(out, "# effective scenario (tumorfield %s, commit %s): file, --set overrides and "
                 "defaults\n", TF_VERSION_STRING, tf_build_commit);
    const char *cur = "";
    for (int i = 0; i < NKEYS; ++i) {
        const key_desc *k = &key_table[i];
        if (strcmp(cur, k->section) != 0) {
            fprintf(out, "%s[%s]\n", i ? "\n" : "", k->section);
            cur = k->section;
        }
        format_value(val, sizeof val, s, k);
        fprintf(out, "%s =%s%s\n", k->key, *val ? " " : "", val);
    }
    /* [boundary]: the most common condition as `all`, then every face that differs. */
    int best = 0, best_count = -1;
    for (int c = 0; c < TF_NFIELDS * TF_NFACES; ++c) {
        const tf_bc *a = &s->bcs.bc[c / TF_NFACES][c % TF_NFACES];
        if (a->kind == TF_BC_DIRICHLET && !(a->value <= 1.0))
            continue; /* `all` must be valid for the volume fractions too */
        int count = 0;
        for (int d = 0; d < TF_NFIELDS * TF_NFACES; ++d) {
            const tf_bc *b = &s->bcs.bc[d / TF_NFACES][d % TF_NFACES];
            count += a->kind == b->kind && (a->kind != TF_BC_DIRICHLET || a->value == b->value);
        }
        if (count > best_count) {
            best_count = count;
            best = c;
        }
    }
    const tf_bc noflux = {TF_BC_NOFLUX, 0.0};
    const tf_bc *common = best_count < 0 ? &noflux : &s->bcs.bc[best / TF_NFACES][best % TF_NFACES];
    /* A Dirichlet `all` would need one value valid for every field's units: write it bare. */
    fprintf(out, "\n[boundary]\n");
    if (common->kind == TF_BC_DIRICHLET) {
        char num[40];
        fmt_num(num, sizeof num, common->value);
        fprintf(out, "all = dirichlet %s\n", num);
    } else {
        format_bc(val, sizeof val, 0, common);
        fprintf(out, "all = %s\n", val);
    }
    for (int f = 0; f < TF_NFIELDS; ++f)
        for (int i = 0; i < TF_NFACES; ++i) {
            const tf_bc *b = &s->bcs.bc[f][i];
            if (b->kind == common->kind && (b->kind != TF_BC_DIRICHLET || b->value == common->value))
                continue;
            format_bc(val, sizeof val, f, b);
            fprintf(out, "%s.%s = %s\n", tf_field_name[f], tf_face_name[i], val);
        }
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* ---- key reference -------------------------------------------------------------------------- */

static void default_text(char *buf, size_t cap, const key_desc *k)
{
    if (k->def) {
        snprintf(buf, cap, "%s", *k->def ? k->def : "(empty)");
        return;
    }
    tf_scenario t;
    memset(&t, 0, sizeof t);
    tf_params_default(&t.p);
    format_value(buf, cap, &t, k);
}

static void range_doc(char *buf, size_t cap, const key_desc *k)
{
    char lo[32], hi[32];
    fmt_num(lo, sizeof lo, k->lo);
    fmt_num(hi, sizeof hi, k->hi);
    switch (k->type) {
    case T_REAL:
    case T_END:
        snprintf(buf, cap, "%s%s, %s%s", (key_bounds(k) & LO_OPEN) ? "(" : "[", lo, hi,
                 (key_bounds(k) & HI_OPEN) ? ")" : "]");
        return;
    case T_INT:
    case T_GRID:
        snprintf(buf, cap, "%s to %s", lo, hi);
        return;
    default:
        snprintf(buf, cap, "-");
    }
}

void tf_scenario_print_keys(FILE *out, int md)
{
    char def[TF_PATH_MAX], rng[80];
    if (md) {
        fprintf(out,
                "## Scenario keys\n\n"
                "<!-- Generated by `tumorfield keys --markdown` from host/scenario_keys.def and "
                "include/tf_params.def; a test fails when this file differs. -->\n\n"
                "A scenario is an INI file: `[section]` headers, `key = value` lines, and comments "
                "from `#` or `;` (at the start of a line, or after a blank). On the command line "
                "every key is `--set section.key=value`, which wins over the file. Values with a "
                "dimension take a unit; a bare number is in the default unit of the tables. "
                "Unknown sections or keys, duplicate keys, malformed numbers, NaN or infinity, "
                "values out of range and wrong units are errors naming the file, the line and "
                "the key (exit code 2); nothing runs on a bad scenario. Simulated time is "
                "counted in steps of `run.dt`: a run ends at the first step at or past "
                "`run.duration`, and every interval is taken as the nearest whole number of "
                "steps (an interval shorter than `run.dt` is an error, as is any relation "
                "between keys that fails, named with the line, `--set` or default of each "
                "key); `tumorfield check` and `run` print a note where that "
                "moves a time (the files keep the scenario as given), and where `run.dt` is "
                "coarse for the exercise sessions, the daily rhythm or the exchange with the "
                "blood, or too fine for the field precision: in the float build (the default) a "
                "step must change the slowest field by a few hundred roundings, which at the "
                "default rates means `run.dt` of 0.15 min or more; smaller steps need "
                "`-DTF_PRECISION=double` (docs/numerics.md, \"Precision\").\n\n"
                "| quantity | default unit | accepted units |\n|---|---|---|\n");
        for (int k = 0; k < TF_UNIT_NKINDS; ++k)
            fprintf(out, "| %s | %s | %s |\n", tf_unit_quantity((tf_unit_kind)k),
                    *tf_unit_default((tf_unit_kind)k) ? tf_unit_default((tf_unit_kind)k) : "-",
                    tf_unit_accepted((tf_unit_kind)k));
    }
    /* The text table's columns are as wide as their widest entries (the model rates print
     * with all their digits), two blanks apart, under a header. */
    int wkey = 3, wdef = 7, wunit = 4, wrng = 5;
    for (int i = 0; i < NKEYS && !md; ++i) {
        const key_desc *k = &key_table[i];
        default_text(def, sizeof def, k);
        range_doc(rng, sizeof rng, k);
        const int lk = (int)strlen(k->key), ld = (int)strlen(def),
                  lu = *key_unit_text(k) ? (int)strlen(key_unit_text(k)) : 1,
                  lr = (int)strlen(rng);
        wkey = lk > wkey ? lk : wkey;
        wdef = ld > wdef ? ld : wdef;
        wunit = lu > wunit ? lu : wunit;
        wrng = lr > wrng ? lr : wrng;
    }
    if (!md)
        fprintf(out, "  %-*s  %-*s  %-*s  %-*s  %s\n", wkey, "key", wdef, "default", wunit, "unit",
                wrng, "range", "meaning");
    const char *cur = "";
    for (int i = 0; i < NKEYS; ++i) {
        const key_desc *k = &key_table[i];
        const int model = k->basis != NULL;
        if (strcmp(cur, k->section) != 0) {
            cur = k->section;
            if (md)
                fprintf(out, "\n### [%s]\n\n| key | default | unit | range | meaning |%s\n"
                        "|---|---|---|---|---|%s\n", cur, model ? " basis |" : "",
                        model ? "---|" : "");
            else
                fprintf(out, "\n[%s]\n", cur);
        }
        default_text(def, sizeof def, k);
        range_doc(rng, sizeof rng, k);
        const char *u = key_unit_text(k);
        if (md)
            fprintf(out, "| `%s` | %s | %s | %s | %s |%s%s%s\n", k->key, def, *u ? u : "-", rng,
                    k->help, model ? " " : "", model ? k->basis : "", model ? " |" : "");
        else
            fprintf(out, "  %-*s  %-*s  %-*s  %-*s  %s\n", wkey, k->key, wdef, def, wunit,
                    *u ? u : "-", wrng, rng, k->help);
    }
    if (md)
        fprintf(out,
                "\n### [boundary]\n\n"
                "Keys `all`, `all.FACE`, `FIELD` and `FIELD.FACE`, with FIELD one of `tumor`, "
                "`effector`, `suppressor`, `pro_cytokine`, `anti_cytokine`, `cortisol` and FACE "
                "one of `x_lo`, `x_hi`, `y_lo`, `y_hi`, `z_lo`, `z_hi`. Values: `noflux` (the "
                "default), `periodic` (must hold on both faces of a direction), or `dirichlet "
                "VALUE` in the field's unit (volume fraction 0 to 1 for tumor, effector and "
                "suppressor; pg/mL for the cytokines; nmol/L for cortisol). The more specific "
                "key wins whatever the order: `all` < `all.FACE` < `FIELD` < `FIELD.FACE`.\n");
    else
        fprintf(out, "\n[boundary]\n  all | all.FACE | FIELD | FIELD.FACE = noflux | periodic | "
                "dirichlet VALUE  (more specific wins)\n");
}
